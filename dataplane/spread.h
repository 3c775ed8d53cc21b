// One peer's traffic on every worker core, in order (issue 14).
//
// A peer's outer flow is one UDP 5-tuple and an inside flow one 5-tuple, so RSS (or af_packet's fanout) puts
// each on one RX queue: one worker. So the worker that receives a burst (its "owner") may hand slices of it to
// the other workers and keep the order itself:
//   1. decide: a burst with less work than one slice's worth (kMinSliceWork: the RX queue was shallow), or an
//      owner whose recent bursts were light (load below kSpreadMinLoad), is processed at once on the owner: a
//      light flow keeps its latency. Work is counted in bytes plus a per-packet cost (kPacketWork): about seven
//      small packets are worth a slice, and so are two of 1200 bytes. Such a burst arriving while slices of the
//      owner are in flight is processed at once and waits in the window (parked) for its turn; consecutive
//      parked bursts of one direction share one slot while its 32 outputs last, so that a stream of tiny bursts
//      (TCP acknowledgements) does not fill the window.
//   2. dispatch: otherwise the burst is cut into slices of at least kMinSlice packets (never one) and about
//      kMinSliceWork of work each, one per other worker and kMaxSlicesPerBurst at most. Each takes
//      the next slot of the owner's reorder window (kWindowSlots, in arrival order) and goes, as a pointer, on
//      the work ring of another worker (round robin, skipping a worker whose ring is already deep).
//   3. serve: every worker, each poll, takes up to kServePerPoll slices from its own work ring, claims each
//      (compare-and-swap queued -> claimed: whoever claims it processes it, exactly once), runs the whole
//      encrypt or decrypt path on it (encrypt_slice / decrypt_slice: lookups, counters reserved per slice,
//      seal or open, replay window, headers), counting in its own counters, and marks it done. It first asks
//      for the slice's mbuf headers and first lines (prefetch): they are in the owner's cache.
//   4. reorder: the owner sends done slices from the window's head, in order, on its own TX queues. Its
//      oldest still-queued slice it claims back and processes itself when its window is full, or when the
//      slice has waited kReclaimBusyUs on a helper that is running (busy elsewhere) or kReclaimAfterUs on one
//      that is not (descheduled: it will do it when it runs again).
//      A full window stops the owner from receiving more (back-pressure onto its RX queue; counted, nothing is
//      dropped here).
// Order is kept per owner, both directions together: packets leave in the order its RX queues gave them.
//
// Thread rules: a slot's fields are written by its owner while the slot is free, and read by whoever claims it
// after the queued state is published (release/acquire on `state`); its outputs are read by the owner after
// the done state (release/acquire). The window's head and tail are the owner's alone (atomics only so that
// metrics can read them). A work ring is multi-producer (any owner) / single-consumer (its worker). A ring
// may hold stale pointers to slots their owner reclaimed: claiming fails on them, or claims the slot's newer
// content, which is equally valid work.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/counters.h"

struct rte_mbuf;
struct rte_ring;

namespace wg::dp {

struct WorkerContext;

inline constexpr std::uint16_t kSliceMax = 32;        // = kBurst: a slice is at most one burst
inline constexpr std::uint16_t kMinSlice = 2;         // a slice is several packets, never one
// Work, in bytes of frame plus kPacketWork per packet: the whole path costs about 190 cycles per packet plus
// half a cycle per byte (perf/dataplane/spread_bench: 227 cycles at 64 B, 896 at 1420 B), so a packet's fixed
// cost is worth about 384 bytes. A slice must carry enough work to pay for its hand-off (a few cache lines
// between cores, 100-500 cycles each): kMinSliceWork is about 1500 cycles, seven 64-byte packets or two of
// 1200 bytes.
inline constexpr std::uint32_t kPacketWork = 384;
inline constexpr std::uint32_t kMinSliceWork = 3072;
inline constexpr std::uint32_t kFullBurstWork = 4 * kMinSliceWork;  // load 256: bursts of four slices' work
inline constexpr std::uint32_t kSpreadMinLoad = 64;   // of 256: recent bursts averaged a slice's work or more
inline constexpr std::uint32_t kWindowSlots = 32;     // per owner: slices in flight, the reorder bound
// A burst is cut into one slice per other worker, at most this many: the window then holds eight bursts, and
// round robin spreads consecutive bursts over more workers.
inline constexpr std::uint32_t kMaxSlicesPerBurst = 4;
// A queued slice no helper has started is taken back by its owner after kReclaimBusyUs when its helper is
// running (polled within kRunningUs: it is busy with other work), after kReclaimAfterUs when it is not (a
// helper sharing a CPU runs again within a scheduling period, and does it then), or at once when the owner's
// window is full.
inline constexpr std::uint64_t kReclaimBusyUs = 200;
inline constexpr std::uint64_t kReclaimAfterUs = 10000;
inline constexpr std::uint64_t kRunningUs = 50;
inline constexpr std::uint32_t kServePerPoll = 4;     // slices a worker takes from its work ring per poll
inline constexpr std::uint32_t kMaxSpreadWorkers = 16;  // = kMaxWorkers (static_assert in spread.cc)
inline constexpr unsigned kWorkRingDepth = 1024;      // > workers x window: pointers, not mbufs

enum class Direction : std::uint8_t { kEncrypt, kDecrypt };
enum class SliceState : std::uint32_t { kFree, kQueued, kClaimed, kDone };

struct alignas(64) Slice {
  std::atomic<SliceState> state{SliceState::kFree};
  Direction dir = Direction::kEncrypt;
  std::uint16_t n_in = 0, n_out = 0;
  std::uint32_t owner = 0;
  bool parked = false;           // a light burst the owner did itself, never queued (the owner's)
  std::uint32_t helper = 0;      // the worker whose ring it was queued on (the owner's, for reclaiming)
  std::uint64_t queued_tsc = 0;  // when it was queued (the owner's, for reclaiming)
  rte_mbuf* in[kSliceMax] = {};
  rte_mbuf* out[kSliceMax] = {};  // what the path left to send, in order
};

struct alignas(64) SpreadLane {
  Slice window[kWindowSlots];
  std::atomic<std::uint64_t> head{0}, tail{0};  // slices [head, tail) in arrival order; written by the owner only
  std::uint32_t load = 0;         // the owner's: 16 x the moving average of its bursts' work, 256 = kFullBurstWork
  std::uint32_t next_helper = 0;  // the owner's: round robin
  rte_ring* work = nullptr;       // slices queued for this worker to process (MP/SC)
  // TSC at this worker's latest poll (written by it every poll, read by owners deciding to reclaim): its own
  // cache line, so that the owner-only fields above do not bounce with it.
  alignas(64) std::atomic<std::uint64_t> last_poll{0};
};

struct Spread {
  unsigned workers = 0;
  bool enabled = false;
  std::uint64_t reclaim_after_tsc = 0;  // kReclaimAfterUs, kReclaimBusyUs, kRunningUs in TSC ticks
  std::uint64_t reclaim_busy_tsc = 0;
  std::uint64_t running_tsc = 0;
  SpreadLane lanes[kMaxSpreadWorkers];
  ~Spread();  // frees the mbufs of slices still in flight and the rings (the workers have stopped)
};

// The lanes and work rings for `workers` workers; spreading is on when `enabled` and workers > 1.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Spread>> create_spread(unsigned workers, bool enabled, int socket,
                                                                    const std::string& tag);

// True when the owner's window has room for the slices of one more burst: it may receive.
bool spread_can_receive(WorkerContext& ctx);
// A burst received on one of this worker's RX queues (it takes ownership of every mbuf): processed and sent at
// once, or parked in the window, or cut into slices for other workers (above).
void spread_burst(WorkerContext& ctx, Direction dir, std::span<rte_mbuf*> pkts);
// Slices other workers (or this one) queued for this worker: processed, marked done. True when it did any.
bool serve_slices(WorkerContext& ctx);
// The owner's reorder stage, once per poll after its RX bursts: reclaims its oldest queued slice by the rules
// above; sends done slices from the head, in order. True when it sent or processed anything.
bool finish_slices(WorkerContext& ctx);
// Marks this worker as running (once per poll, before anything else): owners leave it their slices longer.
inline void note_poll(Spread& sp, std::uint32_t worker, std::uint64_t tsc) {
  sp.lanes[worker].last_poll.store(tsc, std::memory_order_relaxed);
}
// Slices of this owner not yet sent (metrics; any thread, approximate).
std::uint64_t window_depth(const SpreadLane& lane);

}  // namespace wg::dp
