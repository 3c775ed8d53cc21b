// Handshake threads ([Gateway] HandshakeThreads = K, issue 15): the Noise steps that cost X25519 run on K
// threads of their own, so that 100,000 peers initiating after a restart are answered K times as fast and
// no pass of the control loop waits for a DH. What reads or changes state stays on the control thread.
//
//   control: gate (mac1, cookies, rate limit) -> acquire a slot -> submit(kOpen) --open ring-->
//     thread: noise::open_initiation (es, s, ss, {t}: 2 DH) --done ring-->
//   control: accept_initiation (peer, replay, flood), index, prepare_response -> submit(kBuild), same slot
//     --build ring (taken before the open ring: started handshakes finish first)-->
//     thread: noise::build_response (e, ee, se, psk: 3 X25519) --done ring-->
//   control: commit_response (refused if the handshake moved on), keypair published, response sent -> release
//
// Bounds: kSlots jobs in flight, each a handshake; every ring holds all of them, so a finished job always
// fits and no one waits for room. Control takes a message from its handshake ring only while a slot is free:
// beyond that, messages wait there, and that ring's fill plus the jobs not yet started is the under-load
// signal that turns cookies on (handshake_gate.h).
//
// Thread rules: acquire/submit/poll/release and the counters' writers: the control thread. A handshake thread
// touches only the job it dequeued, until it puts it on the done ring. Idle threads sleep on a futex
// (std::atomic::wait) that submit wakes; control never waits for a thread. Secrets in a job (the identity
// copy, the chaining key, the ephemeral key) are wiped on release.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "lib/net/ip.h"
#include "lib/protocol/noise.h"
#include "lib/util/clock.h"

namespace wg::ctl {

struct HandshakeJob {
  enum class Step : std::uint8_t { kOpen, kBuild };
  Step step = Step::kOpen;
  net::Endpoint src;
  // kOpen: the message and the identity it is opened with (a copy: the key may change while the job waits).
  noise::MessageInitiation initiation{};
  noise::StaticIdentity identity;
  noise::OpenedInitiation opened;
  // kBuild
  std::uint32_t peer = 0;
  noise::ResponseWork response;

  void run();
  void wipe();
};

class HandshakePool {
 public:
  static constexpr std::size_t kSlots = 512;
  static constexpr unsigned kMaxThreads = 64;

  explicit HandshakePool(unsigned threads);
  ~HandshakePool();  // stops and joins the threads
  HandshakePool(const HandshakePool&) = delete;
  HandshakePool& operator=(const HandshakePool&) = delete;

  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  // A free slot, or nullptr when kSlots handshakes are in flight.
  HandshakeJob* acquire();
  // Hands the job to the threads (its `step` says which).
  void submit(HandshakeJob* job);
  // Finished jobs, at most `max`.
  unsigned poll(HandshakeJob** out, unsigned max);
  // Wipes the job and frees its slot.
  void release(HandshakeJob* job);

  std::size_t in_flight() const { return kSlots - free_.size(); }
  // Submitted and not yet taken by a thread (the backlog that counts towards "under load").
  std::size_t queued() const { return rte_ring_count(open_) + rte_ring_count(build_); }
  // Jobs each thread has run (readable from any thread).
  std::uint64_t jobs_run(unsigned thread) const { return runs_[thread].load(std::memory_order_relaxed); }

 private:
  void loop(unsigned index);
  static rte_ring* make_ring(std::vector<std::byte>& mem, unsigned flags);

  std::vector<HandshakeJob> jobs_;
  std::vector<HandshakeJob*> free_;
  std::vector<std::byte> open_mem_, build_mem_, done_mem_;
  rte_ring* open_ = nullptr;   // control -> threads
  rte_ring* build_ = nullptr;  // control -> threads, taken first
  rte_ring* done_ = nullptr;   // threads -> control
  std::atomic<std::uint32_t> work_seq_{0};  // bumped by submit; idle threads wait for it to change
  std::atomic<bool> stop_{false};
  std::unique_ptr<std::atomic<std::uint64_t>[]> runs_;
  std::vector<std::thread> threads_;
};

}  // namespace wg::ctl
