// The replay window (lib/protocol/replay.h): in order, reordered within the window, duplicates, too old, huge
// jumps, limits, the exact window edge for every position in a word, lap-tag wrap-around, a randomized
// comparison against a slow reference (a std::set of seen counters), and a stress test where four threads
// offer every counter of one sequence to one window: each counter must be accepted exactly once.
#include "lib/protocol/replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <numeric>
#include <random>
#include <set>
#include <thread>
#include <vector>

// Sanitizers slow every atomic access and thread start by an order of magnitude: the stress tests do less.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WG_REPLAY_TEST_SANITIZED 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WG_REPLAY_TEST_SANITIZED 1
#endif
#endif

namespace wg::noise {
namespace {

constexpr std::uint64_t kW = ReplayWindow::kWindow;

#ifdef WG_REPLAY_TEST_SANITIZED
constexpr std::size_t kStressCounters = 1'000'000;
constexpr int kSameWordsRounds = 50;
#else
constexpr std::size_t kStressCounters = 10'000'000;
constexpr int kSameWordsRounds = 200;
#endif

TEST(ReplayWindow, WindowIs8160) {
  EXPECT_EQ(kW, 8160u);
  EXPECT_GE(kW, 8128u) << "never smaller than the kernel's and wireguard-go's window";
}

TEST(ReplayWindow, InOrderAcceptedOnce) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 20000; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk) << c;
  for (std::uint64_t c = 20000 - 100; c < 20000; ++c) EXPECT_EQ(w.update(c), ReplayResult::kDuplicate) << c;
}

TEST(ReplayWindow, ZeroIsAValidFirstCounter) {
  ReplayWindow w;
  EXPECT_EQ(w.check(0), ReplayResult::kOk);
  EXPECT_EQ(w.update(0), ReplayResult::kOk);
  EXPECT_EQ(w.greatest(), 0u);
  EXPECT_EQ(w.check(0), ReplayResult::kDuplicate);
  EXPECT_EQ(w.update(0), ReplayResult::kDuplicate);
  EXPECT_EQ(w.update(1), ReplayResult::kOk);
  EXPECT_EQ(w.update(0), ReplayResult::kDuplicate);
}

TEST(ReplayWindow, ReorderedWithinWindow) {
  ReplayWindow w;
  ASSERT_EQ(w.update(kW + 100), ReplayResult::kOk);
  // Everything from greatest - (W - 1) up is still acceptable, once.
  for (std::uint64_t c = 101; c < kW + 100; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk) << c;
  EXPECT_EQ(w.update(100), ReplayResult::kTooOld);
  EXPECT_EQ(w.update(101), ReplayResult::kDuplicate);
}

TEST(ReplayWindow, TooOldBoundary) {
  ReplayWindow w;
  ASSERT_EQ(w.update(10000), ReplayResult::kOk);
  EXPECT_EQ(w.check(10000 - kW), ReplayResult::kTooOld);
  EXPECT_EQ(w.check(10000 - kW + 1), ReplayResult::kOk);
}

// The edge is greatest - kW (refused) / greatest - kW + 1 (accepted) wherever greatest sits in its word: the
// oldest block of the window shares its word between refused and accepted counters, and the greatest check
// decides, not the bitmap.
TEST(ReplayWindow, WindowEdgeAtEveryBitOfAWord) {
  for (std::uint64_t r = 0; r < ReplayWindow::kWordBits; ++r) {
    ReplayWindow w;
    const std::uint64_t g = 100 * ReplayWindow::kRingBits + r;
    ASSERT_EQ(w.update(g), ReplayResult::kOk);
    EXPECT_EQ(w.update(g - kW), ReplayResult::kTooOld) << r;
    EXPECT_EQ(w.update(g - kW - 1), ReplayResult::kTooOld) << r;
    EXPECT_EQ(w.update(g - kW - ReplayWindow::kRingBits), ReplayResult::kTooOld) << r;
    EXPECT_EQ(w.update(g - kW + 1), ReplayResult::kOk) << r;
    EXPECT_EQ(w.update(g - kW + 1), ReplayResult::kDuplicate) << r;
    // Every counter of the window is still acceptable once, whatever order they come in.
    for (std::uint64_t c = g - 1; c > g - kW + 1; --c) ASSERT_EQ(w.update(c), ReplayResult::kOk) << r << " " << c;
    EXPECT_EQ(w.greatest(), g);
  }
}

// A counter one ring (or any number of rings) behind an accepted one lands in the same word at the same bit:
// the greatest check refuses it as too old before the word's tag is looked at.
TEST(ReplayWindow, SameSlotOneRingBehindIsTooOld) {
  ReplayWindow w;
  const std::uint64_t c = 5 * ReplayWindow::kRingBits + 7;
  ASSERT_EQ(w.update(c - ReplayWindow::kRingBits), ReplayResult::kOk);
  ASSERT_EQ(w.update(c), ReplayResult::kOk);
  EXPECT_EQ(w.update(c - ReplayWindow::kRingBits), ReplayResult::kTooOld);
  EXPECT_EQ(w.update(c - 2 * ReplayWindow::kRingBits), ReplayResult::kTooOld);
  EXPECT_EQ(w.update(c), ReplayResult::kDuplicate);
  // Same word, same bit, same 32-bit lap tag (2^32 laps behind): still too old, never a duplicate or kOk.
  ReplayWindow far;
  const std::uint64_t f = (1ULL << (32 + ReplayWindow::kLapShift)) + 7;
  ASSERT_EQ(far.update(f), ReplayResult::kOk);
  EXPECT_EQ(far.update(7), ReplayResult::kTooOld);
  EXPECT_EQ(far.update(f), ReplayResult::kDuplicate);
}

TEST(ReplayWindow, HugeJumpClearsEverything) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 500; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk);
  const std::uint64_t far = 1ULL << 40;
  ASSERT_EQ(w.update(far), ReplayResult::kOk);
  EXPECT_EQ(w.greatest(), far);
  // Bits for counters that alias the old ones in the ring must have been cleared.
  for (std::uint64_t c = far - kW + 1; c < far; c += 997) EXPECT_EQ(w.update(c), ReplayResult::kOk) << c;
  EXPECT_EQ(w.update(far), ReplayResult::kDuplicate);
  EXPECT_EQ(w.update(5), ReplayResult::kTooOld);
}

// Jumps of exactly the window and one more: the words the window leaves behind are reused, never read as
// marks of the new counters.
TEST(ReplayWindow, JumpByTheWindow) {
  for (std::uint64_t jump : {kW - 1, kW, kW + 1, std::uint64_t{ReplayWindow::kRingBits}, 3 * kW + 17}) {
    ReplayWindow w;
    for (std::uint64_t c = 0; c < kW; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk);
    const std::uint64_t g = kW - 1 + jump;
    ASSERT_EQ(w.update(g), ReplayResult::kOk) << jump;
    for (std::uint64_t c = g - kW + 1; c < g; ++c) {
      const ReplayResult expect = c < kW ? ReplayResult::kDuplicate : ReplayResult::kOk;
      ASSERT_EQ(w.update(c), expect) << jump << " " << c;
    }
    EXPECT_EQ(w.update(g - kW), ReplayResult::kTooOld) << jump;
  }
}

TEST(ReplayWindow, RejectAfterMessagesLimit) {
  ReplayWindow w;
  EXPECT_EQ(w.check(kRejectAfterMessages), ReplayResult::kTooLarge);
  EXPECT_EQ(w.update(kRejectAfterMessages - 1), ReplayResult::kOk);
  EXPECT_EQ(w.update(kRejectAfterMessages), ReplayResult::kTooLarge);
  EXPECT_EQ(w.update(~0ULL), ReplayResult::kTooLarge);
  EXPECT_EQ(w.greatest(), kRejectAfterMessages - 1);
  // The window behind the last usable counter works as anywhere else (no overflow in counter + kWindow).
  const std::uint64_t top = kRejectAfterMessages - 1;
  EXPECT_EQ(w.update(top), ReplayResult::kDuplicate);
  EXPECT_EQ(w.update(top - kW), ReplayResult::kTooOld);
  for (std::uint64_t c = top - kW + 1; c < top; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk) << c;
  for (std::uint64_t c = top - kW + 1; c <= top; ++c) ASSERT_EQ(w.check(c), ReplayResult::kDuplicate) << c;
  EXPECT_EQ(w.update(0), ReplayResult::kTooOld);
}

TEST(ReplayWindow, CheckDoesNotMark) {
  ReplayWindow w;
  EXPECT_EQ(w.check(7), ReplayResult::kOk);
  EXPECT_EQ(w.check(7), ReplayResult::kOk);
  EXPECT_EQ(w.update(7), ReplayResult::kOk);
  EXPECT_EQ(w.check(7), ReplayResult::kDuplicate);
  EXPECT_EQ(w.check(1ULL << 50), ReplayResult::kOk);
  EXPECT_EQ(w.greatest(), 7u) << "check must not move the window either";
}

TEST(ReplayWindow, ResetForgetsEverything) {
  ReplayWindow w;
  for (std::uint64_t c = 1000; c < 3000; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk);
  w.reset();
  EXPECT_EQ(w.greatest(), 0u);
  for (std::uint64_t c = 0; c < 3000; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk) << c;
}

// A word untouched for a multiple of 2^32 laps carries the same tag as the current lap: the documented limit
// of 32-bit tags (counters 2^45 apart, which no WireGuard sender reaches within one keypair). It may refuse a
// fresh counter; it never accepts one twice.
TEST(ReplayWindow, TagAliasAfter2To32LapsOnlyRefuses) {
  ReplayWindow w;
  const std::uint64_t alias = 1ULL << (32 + ReplayWindow::kLapShift);
  ASSERT_EQ(w.update(5), ReplayResult::kOk);
  EXPECT_EQ(w.update(alias + 5), ReplayResult::kDuplicate) << "the limit: a false duplicate";
  EXPECT_EQ(w.update(alias + 6), ReplayResult::kOk);
  EXPECT_EQ(w.update(alias + 6), ReplayResult::kDuplicate);
  EXPECT_EQ(w.update(5), ReplayResult::kTooOld);
  // A word never written since reset holds no marks, whatever its tag: no alias there.
  ReplayWindow fresh;
  EXPECT_EQ(fresh.update(alias + 5), ReplayResult::kOk);
  EXPECT_EQ(fresh.update(alias - 1), ReplayResult::kOk) << "the previous lap, in a never-written word";
}

// Slow reference: accept iff below the limit, not seen, and greatest - c < W.
struct Reference {
  std::set<std::uint64_t> seen;
  std::uint64_t greatest = 0;
  bool accepts(std::uint64_t c) const {
    if (c >= kRejectAfterMessages || seen.count(c) != 0) return false;
    return c > greatest || greatest - c < kW;
  }
  void accept(std::uint64_t c) {
    seen.insert(c);
    greatest = std::max(greatest, c);
  }
};

// Random walks starting at `origin`: mostly near the front, sometimes far behind, sometimes a jump ahead.
void randomized_against_reference(std::uint64_t origin, std::uint64_t seed, int rounds, int steps) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    ReplayWindow w;
    Reference ref;
    std::uint64_t base = origin;
    for (int i = 0; i < steps; ++i) {
      std::uint64_t c;
      switch (rng() % 8) {
        case 0: base = std::min(base + rng() % 20000, kRejectAfterMessages + 50); c = base; break;
        case 1: c = base - origin > 9000 ? base - 9000 + rng() % 1000 : origin + rng() % 1000; break;
        default: c = base + rng() % 200 - std::min<std::uint64_t>(base - origin, 100); break;
      }
      const bool expect_ok = ref.accepts(c);
      const bool checked_ok = w.check(c) == ReplayResult::kOk;
      const ReplayResult r = w.update(c);
      ASSERT_EQ(r == ReplayResult::kOk, expect_ok) << "origin " << origin << " round " << round << " i " << i
                                                   << " c " << c << " result " << static_cast<int>(r);
      ASSERT_EQ(checked_ok, expect_ok) << "check and update agree when alone";
      if (expect_ok) ref.accept(c);
      ASSERT_EQ(w.greatest(), ref.greatest) << "c " << c;
    }
  }
}

TEST(ReplayWindow, RandomizedAgainstReference) { randomized_against_reference(0, 12345, 20, 20000); }

// update_batch against the reference applied one counter at a time: batches of 1..40 counters from the same
// random walk (runs in one word, duplicates inside a batch, jumps, too-old and too-large ones mixed in).
void batches_against_reference(std::uint64_t origin, std::uint64_t seed, int rounds, int steps) {
  std::mt19937_64 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    ReplayWindow w;
    Reference ref;
    std::uint64_t base = origin;
    for (int i = 0; i < steps;) {
      std::vector<std::uint64_t> batch(1 + rng() % 40);
      for (std::uint64_t& c : batch) {
        switch (rng() % 10) {
          case 0: base = std::min(base + rng() % 20000, kRejectAfterMessages + 50); c = base; break;
          case 1: c = base - origin > 9000 ? base - 9000 + rng() % 1000 : origin + rng() % 1000; break;
          case 2: c = base + rng() % 4; break;  // duplicates within the batch
          default: c = ++base; break;           // runs of consecutive counters in one word
        }
      }
      i += static_cast<int>(batch.size());
      std::vector<ReplayResult> got(batch.size());
      w.update_batch(batch, got.data());
      for (std::size_t k = 0; k < batch.size(); ++k) {
        const bool expect_ok = ref.accepts(batch[k]);
        ASSERT_EQ(got[k] == ReplayResult::kOk, expect_ok)
            << "round " << round << " batch item " << k << " c " << batch[k] << " result " << static_cast<int>(got[k]);
        if (expect_ok) ref.accept(batch[k]);
        if (batch[k] >= kRejectAfterMessages) {
          ASSERT_EQ(got[k], ReplayResult::kTooLarge);
        }
      }
      ASSERT_EQ(w.greatest(), ref.greatest);
    }
  }
}

TEST(ReplayWindow, BatchesAgainstReference) {
  batches_against_reference(0, 4242, 20, 20000);
  batches_against_reference(kRejectAfterMessages - 300000, 99, 4, 20000);
}

// Where the 32-bit tags wrap: 2^32 blocks (where a tag of block numbers would wrap), 2^32 laps (where ours
// does), and just below REJECT_AFTER_MESSAGES (a first jump from a fresh window to the very top).
TEST(ReplayWindow, RandomizedAcrossTagWraps) {
  const std::uint64_t lap_wrap = 1ULL << (32 + ReplayWindow::kLapShift);
  const std::uint64_t block_wrap = std::uint64_t{1} << (32 + ReplayWindow::kBitShift);
  for (std::uint64_t origin : {block_wrap - 50000, lap_wrap - 50000, lap_wrap - 3 * ReplayWindow::kRingBits,
                               kRejectAfterMessages - 700000}) {
    randomized_against_reference(origin, origin ^ 777, 4, 20000);
  }
}

// ---- Concurrency: many writers on one window. ----

// One sequence of counters shared by every thread, by index (increasing with it): chunks of kChunk counters,
// each chunk spanning less than the window. Every thread offers every index, in its own random order within
// each chunk, so that the threads overtake each other and race on the same counters. Nothing is offered out
// of order across chunks, so when the first offer of a counter is made, nothing a full window ahead of it has
// been offered yet: every counter must be accepted exactly once.
constexpr std::size_t kChunk = 64;

struct Sequence {
  std::vector<std::uint64_t> base;   // first counter of each chunk
  std::vector<std::uint32_t> stride;  // distance between the counters of each chunk
  std::size_t size() const { return base.size() * kChunk; }
  std::uint64_t counter(std::size_t i) const { return base[i / kChunk] + (i % kChunk) * stride[i / kChunk]; }
};

Sequence dense_sequence(std::size_t n) {
  Sequence s;
  for (std::size_t j = 0; j < n / kChunk; ++j) {
    s.base.push_back(j * kChunk);
    s.stride.push_back(1);
  }
  return s;
}

// Gaps between chunks from 1 to far past the window, strides within chunks up to 127 (a chunk spans at most
// 63 * 127 = 8001 < kW): words are reused at every lap, and often well before they are full.
Sequence sparse_sequence(std::size_t n, std::uint64_t seed) {
  static constexpr std::array<std::uint32_t, 5> kStrides = {1, 2, 5, 33, 127};
  static constexpr std::array<std::uint64_t, 8> kGaps = {1, 31, 4000, kW - 1, kW, kW + 1, 70000, 1 << 20};
  static_assert((kChunk - 1) * 127 < kW);
  std::mt19937_64 rng(seed);
  Sequence s;
  std::uint64_t next = 0;
  for (std::size_t j = 0; j < n / kChunk; ++j) {
    s.base.push_back(next);
    s.stride.push_back(kStrides[rng() % kStrides.size()]);
    next += (kChunk - 1) * s.stride.back() + kGaps[rng() % kGaps.size()];
  }
  return s;
}

struct StressResult {
  std::size_t never = 0;   // counters no thread got kOk for
  std::size_t twice = 0;   // counters more than one thread got kOk for
  std::size_t first_bad = 0;
  std::size_t races_lost = 0;  // update refused a counter whose check had passed: another thread marked it
  double seconds = 0;
};

// Each thread runs the dataplane's order: the read-only check first, update only when it passes. With
// `max_lag` > 0, a thread more than that many chunks behind the leader skips to the leader's chunk (as a
// receiver that was descheduled would find its packets stale), so that the threads that are running at any
// moment offer the same counters at the same time, even with fewer cores than threads. The chunks it skips
// the leader has offered already, so every counter is still offered, and must be accepted once.
// `batch` > 1: each thread offers its shuffled counters `batch` at a time through update_batch (those its
// check passed), as the dataplane offers a slice.
StressResult stress(ReplayWindow& w, const Sequence& seq, unsigned threads, std::size_t max_lag,
                    std::size_t batch = 1) {
  std::vector<std::atomic<std::uint8_t>> accepted(seq.size());
  struct alignas(64) Progress {
    std::atomic<std::size_t> chunk{0};
  };
  std::vector<Progress> progress(threads);
  const auto leader = [&] {
    std::size_t m = 0;
    for (const Progress& p : progress) m = std::max(m, p.chunk.load(std::memory_order_relaxed));
    return m;
  };
  std::latch start(threads + 1);
  std::atomic<std::size_t> races_lost{0};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::size_t lost = 0;
      std::mt19937_64 rng(1000 + t);
      std::array<std::uint32_t, kChunk> order;
      std::iota(order.begin(), order.end(), 0u);
      start.arrive_and_wait();
      for (std::size_t j = 0; j < seq.base.size(); ++j) {
        if (max_lag != 0 && j + max_lag < leader()) j = leader();
        progress[t].chunk.store(j, std::memory_order_relaxed);
        std::shuffle(order.begin(), order.end(), rng);
        if (batch > 1) {
          // Sorted within each batch, as a slice of one flow is: runs in one word.
          for (std::size_t b = 0; b < kChunk; b += batch) {
            const std::size_t e = std::min(kChunk, b + batch);
            std::sort(order.begin() + static_cast<std::ptrdiff_t>(b), order.begin() + static_cast<std::ptrdiff_t>(e));
            std::uint64_t cs[kChunk];
            std::size_t is[kChunk];
            std::size_t n = 0;
            for (std::size_t q = b; q < e; ++q) {
              const std::size_t i = j * kChunk + order[q];
              if (w.check(seq.counter(i)) != ReplayResult::kOk) continue;
              cs[n] = seq.counter(i);
              is[n++] = i;
            }
            ReplayResult rs[kChunk];
            w.update_batch({cs, n}, rs);
            for (std::size_t q = 0; q < n; ++q) {
              if (rs[q] == ReplayResult::kOk) {
                accepted[is[q]].fetch_add(1, std::memory_order_relaxed);
              } else {
                ++lost;
              }
            }
          }
          continue;
        }
        for (std::uint32_t k : order) {
          const std::size_t i = j * kChunk + k;
          const std::uint64_t c = seq.counter(i);
          if (w.check(c) != ReplayResult::kOk) continue;
          if (w.update(c) == ReplayResult::kOk) {
            accepted[i].fetch_add(1, std::memory_order_relaxed);
          } else {
            ++lost;
          }
        }
      }
      races_lost += lost;
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  start.arrive_and_wait();
  for (std::thread& th : pool) th.join();
  StressResult r;
  r.races_lost = races_lost.load();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t i = 0; i < seq.size(); ++i) {
    const unsigned n = accepted[i].load(std::memory_order_relaxed);
    if (n == 1) continue;
    if (r.never + r.twice == 0) r.first_bad = i;
    (n == 0 ? r.never : r.twice) += 1;
  }
  return r;
}

void expect_exactly_once(const Sequence& seq, unsigned threads, std::size_t max_lag, std::size_t batch = 1) {
  ReplayWindow w;
  const StressResult r = stress(w, seq, threads, max_lag, batch);
  std::printf("[ stress   ] %zu counters x %u threads (batches of %zu): %.2f s, %zu races lost in update, %zu never accepted, "
              "%zu accepted twice or more\n",
              seq.size(), threads, batch, r.seconds, r.races_lost, r.never, r.twice);
  EXPECT_EQ(r.twice, 0u) << "first bad counter " << seq.counter(r.first_bad);
  EXPECT_EQ(r.never, 0u) << "first bad counter " << seq.counter(r.first_bad);
  const std::uint64_t last = seq.counter(seq.size() - 1);
  EXPECT_EQ(w.greatest(), last);
  // Replays once every thread is done: each counter again, oldest first, then the window newest first.
  std::size_t replay_accepted = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) replay_accepted += w.update(seq.counter(i)) == ReplayResult::kOk;
  for (std::size_t i = seq.size(); i-- > 0 && seq.counter(i) + kW > last;) {
    replay_accepted += w.update(seq.counter(i)) == ReplayResult::kOk;
  }
  EXPECT_EQ(replay_accepted, 0u);
  EXPECT_EQ(w.greatest(), last);
}

TEST(ReplayWindowConcurrent, FourThreadsDenseSequenceEachCounterOnce) {
  expect_exactly_once(dense_sequence(kStressCounters), 4, 0);
}

TEST(ReplayWindowConcurrent, FourThreadsSparseSequenceWithJumpsEachCounterOnce) {
  expect_exactly_once(sparse_sequence(kStressCounters / 4, 99), 4, 0);
}

// The running threads kept within two chunks (128 counters) of the leader: far more races on one counter.
TEST(ReplayWindowConcurrent, FourThreadsAtTheFrontEachCounterOnce) {
  expect_exactly_once(dense_sequence(kStressCounters / 4), 4, 2);
  expect_exactly_once(sparse_sequence(kStressCounters / 4, 7), 4, 2);
}

// The same races through update_batch, in slices of 8 and 16 (the spread dataplane's, issue 14), mixed
// with threads updating one counter at a time.
TEST(ReplayWindowConcurrent, FourThreadsInBatchesEachCounterOnce) {
  expect_exactly_once(dense_sequence(kStressCounters / 4), 4, 2, 8);
  expect_exactly_once(sparse_sequence(kStressCounters / 4, 11), 4, 2, 16);
  expect_exactly_once(dense_sequence(kStressCounters / 4), 4, 0, 16);
}

// Many threads hammering few counters: every thread offers the same 64 counters (two or three words).
TEST(ReplayWindowConcurrent, SameWordsFromEightThreads) {
  for (int round = 0; round < kSameWordsRounds; ++round) {
    ReplayWindow w;
    const std::uint64_t base = round * 1000003ULL;
    std::array<std::atomic<std::uint32_t>, 64> accepted{};
    std::latch start(8);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < 8; ++t) {
      pool.emplace_back([&, t] {
        start.arrive_and_wait();
        for (std::uint64_t k = 0; k < 64; ++k) {
          const std::uint64_t i = (k * (2 * t + 1)) % 64;  // each thread its own order
          if (w.update(base + i) == ReplayResult::kOk) accepted[i].fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
    for (std::thread& th : pool) th.join();
    for (std::size_t i = 0; i < 64; ++i) ASSERT_EQ(accepted[i].load(), 1u) << "round " << round << " i " << i;
  }
}

}  // namespace
}  // namespace wg::noise
