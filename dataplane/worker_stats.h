// Per-worker statistics that are not packet outcomes (those are dataplane/counters.h): how often the loop
// polls and how often a poll found work (the busy share), how large the crypto batches are (the AVX2
// engine of issue 6 only pays off on full batches, so the operator needs to see them), and where the time of
// the busy polls goes (receive, crypto, transmit, the rest), so a gateway short of its engine's rate shows why
// on live traffic, I/O included (perf/lib/gateway.sh reports the shares).
//
// Thread rule: as for WorkerCounters, each worker writes only its own WorkerStats (plain increments on its own
// cache lines, once per poll or per burst, never per packet); the metrics scrape reads and sums them from
// another thread and tolerates slightly stale or momentarily inconsistent values (a bucket ahead of the sum).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace wg::dp {

// Histogram buckets by upper bound: 1, 2, 4, ..., 64, then +Inf (a burst is at most kBurst = 32 today).
inline constexpr std::size_t kBatchBuckets = 8;
inline constexpr std::uint32_t kBatchBucketBounds[kBatchBuckets - 1] = {1, 2, 4, 8, 16, 32, 64};

// The bucket of a batch of `n` jobs: the smallest bound >= n (the last bucket is +Inf).
constexpr std::size_t batch_bucket(std::uint32_t n) {
  return n <= 1 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(std::bit_width(n - 1)), kBatchBuckets - 1);
}
static_assert(batch_bucket(1) == 0 && batch_bucket(2) == 1 && batch_bucket(3) == 2 && batch_bucket(32) == 5 &&
              batch_bucket(33) == 6 && batch_bucket(64) == 6 && batch_bucket(65) == 7);

// Not cumulative here (one increment per batch); the exporter makes the buckets cumulative.
struct BatchHistogram {
  std::uint64_t buckets[kBatchBuckets] = {};
  std::uint64_t sum = 0;  // jobs in all batches

  void record(std::uint32_t n) {
    ++buckets[batch_bucket(n)];
    sum += n;
  }
};

// Phases of a busy poll, timed with the TSC (a few rte_rdtsc() per burst, none per packet). Whatever a busy
// poll spends outside them is parsing, lookups, replay checks and headers.
enum class Phase : std::uint8_t {
  rx,      // from the start of the poll to the return of an rx_burst that brought packets (the PMD's copy)
  crypto,  // the AEAD engine call
  tx,      // tx_burst (the PMD's copy out) and freeing what it refused
  dispatch,  // spreading a burst: cutting it into slices, queueing them on other workers (spread.h)
  reorder,   // the owner's reorder stage: finding done slices at its window's head (their tx excluded)
  kCount,
};
inline constexpr const char* kPhaseNames[] = {"rx", "crypto", "tx", "dispatch", "reorder"};
static_assert(std::size(kPhaseNames) == static_cast<std::size_t>(Phase::kCount));

// Spreading one peer's bursts over the workers (dataplane/spread.h), from one worker's side.
struct SpreadStats {
  std::uint64_t slices = 0;       // slices of bursts this worker received, queued for another worker
  std::uint64_t packets = 0;      // the packets in them
  std::uint64_t refused = 0;      // slices no helper could take (every work ring deep): processed here at once
  std::uint64_t reclaimed = 0;    // own queued slices taken back, unstarted, and processed here
  std::uint64_t helped = 0;       // slices of other workers' bursts processed here
  std::uint64_t window_full = 0;  // receive attempts skipped because the reorder window was full (back-pressure)
  // Bursts received with spreading on, by the decision (spread.h, step 1): cut into slices; kept whole on this
  // worker because the burst held less than a slice's work (small) or its recent bursts were light (light).
  std::uint64_t bursts_spread = 0, bursts_small = 0, bursts_light = 0;
};

struct alignas(64) WorkerStats {
  std::uint64_t polls = 0;       // loop iterations (each polls the inside and the outside queue)
  std::uint64_t busy_polls = 0;  // iterations that received at least one packet
  BatchHistogram seal;           // AeadBatchEngine::seal calls (encrypt path), by jobs per call
  BatchHistogram open;           // AeadBatchEngine::open calls (decrypt path)
  // TSC cycles of the busy polls, whole and by phase. Wall-clock cycles: time the thread was descheduled
  // lands in whatever phase it interrupted, so on a shared CPU the shares stay right and the totals do not.
  std::uint64_t busy_cycles = 0;
  std::uint64_t phase_cycles[static_cast<std::size_t>(Phase::kCount)] = {};
  SpreadStats spread;

  void add_cycles(Phase p, std::uint64_t cycles) { phase_cycles[static_cast<std::size_t>(p)] += cycles; }

  void record_poll(bool busy) {
    ++polls;
    busy_polls += busy ? 1 : 0;
  }
};

}  // namespace wg::dp
