// The lock-free replay window; replay.h has the layout, the algorithm and why it accepts a counter at most once.
#include "lib/protocol/replay.h"

#include <algorithm>

namespace wg::noise {

namespace {

std::uint32_t lap_of(std::uint64_t counter) { return static_cast<std::uint32_t>(counter >> ReplayWindow::kLapShift); }

}  // namespace

ReplayWindow::Decision ReplayWindow::decide(std::uint64_t word, std::uint64_t counter, std::uint64_t greatest) {
  if (counter + kWindow <= greatest) return {ReplayResult::kTooOld, 0};
  const std::uint32_t bits = static_cast<std::uint32_t>(word);
  const std::uint32_t bit = std::uint32_t{1} << (counter % kWordBits);
  const std::uint64_t fresh = std::uint64_t{lap_of(counter)} << 32 | bit;
  // Never written since reset: no marks to keep, whatever lap its zero tag seems to name.
  if (bits == 0) return {ReplayResult::kOk, fresh};
  // Laps behind greatest's lap, modulo 2^32: the counter's is 0 or 1; the word's is exact while it is less than
  // 2^32 laps old (the word was written with a counter <= greatest, see the header).
  const std::uint32_t word_age = lap_of(greatest) - static_cast<std::uint32_t>(word >> 32);
  const std::uint32_t counter_age = lap_of(greatest) - lap_of(counter);
  if (word_age == counter_age) {
    if (bits & bit) return {ReplayResult::kDuplicate, 0};
    return {ReplayResult::kOk, word | bit};
  }
  // An older lap: its counters are all at least a ring behind this one, out of the window for good.
  if (word_age > counter_age) return {ReplayResult::kOk, fresh};
  // A newer lap than a counter inside the window: only a tag alias (header: the limit of 32-bit tags) gets
  // here; refusing is the safe side.
  return {ReplayResult::kTooOld, 0};
}

ReplayResult ReplayWindow::check(std::uint64_t counter) const {
  if (counter >= kRejectAfterMessages) return ReplayResult::kTooLarge;
  const std::uint64_t word = slot(counter).load(std::memory_order_acquire);
  // update has raised greatest to its counter before deciding; decide as it would, without raising.
  std::uint64_t greatest = greatest_.load(std::memory_order_relaxed);
  if (greatest < counter) greatest = counter;
  return decide(word, counter, greatest).result;
}

ReplayResult ReplayWindow::update(std::uint64_t counter) {
  if (counter >= kRejectAfterMessages) return ReplayResult::kTooLarge;
  // Raise greatest first (the counter is authenticated, so it may move the window even if another thread
  // marks it first): every word's lap stays covered by greatest (header).
  std::uint64_t greatest = greatest_.load(std::memory_order_relaxed);
  while (greatest < counter &&
         !greatest_.compare_exchange_weak(greatest, counter, std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
  std::atomic<std::uint64_t>& s = slot(counter);
  std::uint64_t word = s.load(std::memory_order_acquire);
  for (;;) {
    // Read after the word: covers every counter that word has held.
    const Decision d = decide(word, counter, greatest_.load(std::memory_order_relaxed));
    if (d.result != ReplayResult::kOk) return d.result;
    // Release: a thread that reads this word sees greatest raised at least to this counter. Failure reloads
    // the word with acquire, for the same reason.
    if (s.compare_exchange_weak(word, d.word, std::memory_order_acq_rel, std::memory_order_acquire)) {
      return ReplayResult::kOk;
    }
  }
}

void ReplayWindow::update_batch(std::span<const std::uint64_t> counters, ReplayResult* results) {
  // Each run of consecutive counters of one block: greatest raised to the run's largest (as update raises it
  // to each; within one block that changes no decision, the run spanning less than 32 counters), then every
  // counter decided in order against the word as the earlier ones of the run left it (exactly what
  // successive updates would see), then one CAS for all of them. Raising per run rather than once for the
  // whole batch keeps the results those of successive updates even when a batch jumps by more than the window.
  for (std::size_t i = 0; i < counters.size();) {
    if (counters[i] >= kRejectAfterMessages) {
      results[i++] = ReplayResult::kTooLarge;
      continue;
    }
    const std::uint64_t block = counters[i] >> kBitShift;
    std::uint64_t top = counters[i];
    std::size_t end = i + 1;
    for (; end < counters.size() && counters[end] < kRejectAfterMessages && counters[end] >> kBitShift == block; ++end) {
      top = std::max(top, counters[end]);
    }
    std::uint64_t greatest = greatest_.load(std::memory_order_relaxed);
    while (greatest < top &&
           !greatest_.compare_exchange_weak(greatest, top, std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
    std::atomic<std::uint64_t>& s = slot(counters[i]);
    std::uint64_t word = s.load(std::memory_order_acquire);
    for (;;) {
      greatest = greatest_.load(std::memory_order_relaxed);  // read after the word
      std::uint64_t next = word;
      for (std::size_t k = i; k < end; ++k) {
        const Decision d = decide(next, counters[k], greatest);
        results[k] = d.result;
        if (d.result == ReplayResult::kOk) next = d.word;
      }
      // Nothing to mark: every refusal is final (marks and greatest only move forward).
      if (next == word) break;
      if (s.compare_exchange_weak(word, next, std::memory_order_acq_rel, std::memory_order_acquire)) break;
    }
    i = end;
  }
}

void ReplayWindow::reset() {
  // No other thread uses the window now; whoever publishes it next (the keypair) orders these stores.
  for (std::atomic<std::uint64_t>& w : ring_) w.store(0, std::memory_order_relaxed);
  greatest_.store(0, std::memory_order_relaxed);
}

}  // namespace wg::noise
