// The receive-side replay window (WireGuard paper, section 5.4.6), safe for many concurrent writers without a
// lock. It is RFC 6479's ring of bitmap words ("IPsec Anti-Replay Algorithm without Bit Shifting") with a tag
// in every word, so that each word can be advanced on its own by whichever thread gets there first.
//
// Thread rule: `check` and `update` may be called concurrently from any number of threads on one window
// (several workers, and the control thread, can receive packets of one keypair). `reset` only while no thread
// uses the window: at keypair construction or reuse, before the keypair is published to the workers.
// `update` only after the packet has authenticated (a forged counter must never move the window); `check`
// is the read-only pre-check before decryption: it never marks, and may be stale (a kOk from it is not a
// promise; a refusal is final, since marks and `greatest` only move forward).
//
// Layout: 256 words of std::atomic<uint64_t>; a word is (32-bit tag << 32) | 32-bit bitmap. A counter's
// block is counter >> 5 (its bit is counter & 31), its slot is block % 256, and its lap is block / 256 =
// counter >> 13 (how many times the window went round the ring). The tag holds the low 32 bits of the lap the
// bitmap belongs to: the slot number is implied by the word's position, so all 32 tag bits count laps.
// `greatest_` is the largest counter offered to `update` (every one of them authenticated).
//
// Window: counter is acceptable iff counter < REJECT_AFTER_MESSAGES, counter + kWindow > greatest, and it is
// not marked; kWindow = 8192 - 32 = 8160 (one word is always the one being refilled), so greatest - 8159 is
// the oldest acceptable counter and greatest - 8160 is too old. That is the kernel's and wireguard-go's rule,
// with their 8128 widened by 32 (the window is receiver-local: nothing on the wire depends on it).
//
// update(counter), lock-free:
//   1. raise `greatest_` to counter (CAS max loop) before touching the ring;
//   2. load the slot's word (acquire), then `greatest_` (g);
//   3. counter + kWindow <= g: kTooOld. Otherwise counter's block is one of the 256 newest (g's block and
//      the 255 before it), so no word can hold a newer lap for this slot (see below): the word holds either
//      counter's lap (bit set: kDuplicate; clear: CAS to set it) or an older lap, whose bits all belong to
//      counters at least a ring behind, i.e. out of the window for good: CAS to (counter's lap | its bit);
//   4. a failed CAS reloads the word (acquire) and goes back to step 2.
// Why a counter is accepted at most once: a word changes only by CAS; within a lap bits are only added, and
// the tag only moves to a later lap. A counter's bit is therefore set from its acceptance until its word
// moves to a later lap, and from then on the counter is a ring behind that later lap, hence a ring behind
// `greatest_` (step 1 raised it before that CAS), so step 3 refuses it. Two threads racing on one counter
// both load a word without the bit; one CAS wins, the other fails, reloads, and finds the bit.
// Why step 3 can compare laps in 32 bits: every thread raises `greatest_` before its CAS on a word, and the
// acquire load of a word synchronizes with every CAS that ever wrote it (all writes to a word are
// read-modify-writes, so they continue one release sequence); `greatest_` read after the word is therefore at
// least every counter the word has ever held. So the word's lap is at most g's lap, the counter's lap is g's
// or the one before, and "laps behind g's lap" computed modulo 2^32 is exact for any word written less than
// 2^32 laps (2^45 counters) before g. A word still as `reset` left it (bitmap 0) holds no mark and is taken
// whatever its tag, so a first counter anywhere up to REJECT_AFTER_MESSAGES works.
// The limit of 32-bit tags: a word last written k * 2^32 laps (or one more) before g, k >= 1, looks current.
// With one thread that can only refuse a fresh counter (a false kDuplicate or kTooOld), never accept one
// twice; with several, exactly-once also assumes no word moves 2^32 laps ahead while a thread sits between
// its load and its CAS (the ABA case). Both need counters 2^45 (3.5e13) apart under one keypair: WireGuard
// senders count up from 0 by one per packet and drop the keypair after REJECT_AFTER_TIME (180 s), and a
// third party cannot make counters (update sees only authenticated packets).
// Memory orders: the words are acquire/release only for the greatest bound above. Relaxed would still set
// each bit once (all CASes on one word are totally ordered), but a thread could then see a word newer than its
// `greatest_` and misread the tag's age. No packet data is published through the window (each thread
// decrypted its own packet), so nothing else needs ordering, and `greatest_` itself is relaxed. On x86 this
// costs nothing over relaxed (a load is acquire, lock cmpxchg a full barrier).
// Cost, alone on one window: two uncontended CAS per in-order packet (greatest, then the word), one when it
// arrives reordered behind greatest; measured about 13 ns per in-order update on the Zen 3 VM of perf/results,
// 7 ns reordered, against 1.7 ns for the single-writer ring this replaces (check alone: loads only). Words
// share cache lines (8 per line); that is fine, a word is written at most 32 times per lap.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/protocol/messages.h"

namespace wg::noise {

enum class ReplayResult : std::uint8_t {
  kOk,          // counter accepted and now marked as seen (check: would be accepted now)
  kDuplicate,   // seen before
  kTooOld,      // behind the window
  kTooLarge,    // at or past REJECT_AFTER_MESSAGES: the key must not be used for it
};

class ReplayWindow {
 public:
  static constexpr std::size_t kWordBits = 32;  // bitmap bits per word; the other 32 are the lap tag
  static constexpr std::size_t kWords = 256;
  static constexpr std::size_t kRingBits = kWords * kWordBits;
  static constexpr unsigned kBitShift = 5;   // log2(kWordBits): counter >> 5 is its block
  static constexpr unsigned kLapShift = 13;  // log2(kRingBits): counter >> 13 is its lap
  static constexpr std::uint64_t kWindow = kRingBits - kWordBits;
  static_assert(kRingBits == std::size_t{1} << kLapShift && kWordBits == std::size_t{1} << kBitShift);
  static_assert(kWindow == kReplayWindowBits);
  // counter + kWindow cannot overflow for any counter below the limit.
  static_assert(kRejectAfterMessages <= ~std::uint64_t{0} - kWindow);

  // Read-only test: would `update` accept this counter now? Any thread; never marks.
  ReplayResult check(std::uint64_t counter) const;
  // Tests and, when acceptable, marks the counter: of any number of calls with the same counter, concurrent
  // or not, at most one gets kOk. Any thread, only for authenticated packets.
  ReplayResult update(std::uint64_t counter);
  // update() for each counter in turn, with the results successive calls would give (results[i] for
  // counters[i]), but each run of consecutive counters in one word is decided together: greatest raised once
  // and the word marked with one CAS per run. A slice of one keypair's in-order packets costs two CAS per 32
  // counters instead of two per packet, and workers receiving one peer's traffic together contend on a word
  // once per slice (issue 14). Same guarantees as update (at most one kOk per counter over all calls); any
  // thread.
  void update_batch(std::span<const std::uint64_t> counters, ReplayResult* results);
  // Forgets everything. Only while no other thread uses the window.
  void reset();

  // The greatest counter below REJECT_AFTER_MESSAGES offered to `update` so far (0 when none), which is the
  // greatest accepted once the updates are done; a snapshot while other threads update.
  std::uint64_t greatest() const { return greatest_.load(std::memory_order_relaxed); }

 private:
  struct Decision {
    ReplayResult result;
    std::uint64_t word;  // what to CAS into the slot when result is kOk
  };
  // The decision for `counter` given `word`, its slot's content, and `greatest`, read after that word and at
  // least `counter`.
  static Decision decide(std::uint64_t word, std::uint64_t counter, std::uint64_t greatest);
  std::atomic<std::uint64_t>& slot(std::uint64_t counter) { return ring_[(counter >> kBitShift) % kWords]; }
  const std::atomic<std::uint64_t>& slot(std::uint64_t counter) const {
    return ring_[(counter >> kBitShift) % kWords];
  }

  std::atomic<std::uint64_t> greatest_{0};
  std::array<std::atomic<std::uint64_t>, kWords> ring_{};
};

}  // namespace wg::noise
