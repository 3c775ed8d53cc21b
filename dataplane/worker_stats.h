// Per-worker statistics that are not packet outcomes (those are dataplane/counters.h): how often the loop
// polls and how often a poll found work (the busy share), and how large the crypto batches are (the AVX2
// engine of issue 6 only pays off on full batches, so the operator needs to see them).
//
// Thread rule: as for WorkerCounters, each worker writes only its own WorkerStats (plain increments on its own
// cache lines, once per poll or per burst, never per packet); the metrics scrape reads and sums them from
// another thread and tolerates slightly stale or momentarily inconsistent values (a bucket ahead of the sum).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

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

struct alignas(64) WorkerStats {
  std::uint64_t polls = 0;       // loop iterations (each polls the inside and the outside queue)
  std::uint64_t busy_polls = 0;  // iterations that received at least one packet
  BatchHistogram seal;           // AeadBatchEngine::seal calls (encrypt path), by jobs per call
  BatchHistogram open;           // AeadBatchEngine::open calls (decrypt path)

  void record_poll(bool busy) {
    ++polls;
    busy_polls += busy ? 1 : 0;
  }
};

}  // namespace wg::dp
