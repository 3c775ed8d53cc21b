// RFC 6479 replay window: in order, reordered within the window, duplicates, too old, huge jumps, limits,
// and a randomized comparison against a slow reference (a std::set of seen counters).
#include "lib/protocol/replay.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace wg::noise {
namespace {

constexpr std::uint64_t kW = ReplayWindow::kWindow;

TEST(ReplayWindow, WindowIs8128) { EXPECT_EQ(kW, 8128u); }

TEST(ReplayWindow, InOrderAcceptedOnce) {
  ReplayWindow w;
  for (std::uint64_t c = 0; c < 20000; ++c) ASSERT_EQ(w.update(c), ReplayResult::kOk) << c;
  for (std::uint64_t c = 20000 - 100; c < 20000; ++c) EXPECT_EQ(w.update(c), ReplayResult::kDuplicate) << c;
}

TEST(ReplayWindow, ZeroIsAValidFirstCounter) {
  ReplayWindow w;
  EXPECT_EQ(w.check(0), ReplayResult::kOk);
  EXPECT_EQ(w.update(0), ReplayResult::kOk);
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

TEST(ReplayWindow, RejectAfterMessagesLimit) {
  ReplayWindow w;
  EXPECT_EQ(w.update(kRejectAfterMessages - 1), ReplayResult::kOk);
  EXPECT_EQ(w.update(kRejectAfterMessages), ReplayResult::kTooLarge);
  EXPECT_EQ(w.update(~0ULL), ReplayResult::kTooLarge);
  EXPECT_EQ(w.greatest(), kRejectAfterMessages - 1);
}

TEST(ReplayWindow, CheckDoesNotMark) {
  ReplayWindow w;
  EXPECT_EQ(w.check(7), ReplayResult::kOk);
  EXPECT_EQ(w.check(7), ReplayResult::kOk);
  EXPECT_EQ(w.update(7), ReplayResult::kOk);
  EXPECT_EQ(w.check(7), ReplayResult::kDuplicate);
}

// Slow reference: accept iff not seen, below the limit, and greatest - c < W.
TEST(ReplayWindow, RandomizedAgainstReference) {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 20; ++round) {
    ReplayWindow w;
    std::set<std::uint64_t> seen;
    std::uint64_t greatest = 0;
    bool any = false;
    std::uint64_t base = 0;
    for (int i = 0; i < 20000; ++i) {
      // Mostly near the front, sometimes far behind, sometimes a jump ahead.
      std::uint64_t c;
      switch (rng() % 8) {
        case 0: base += rng() % 20000; c = base; break;
        case 1: c = base > 9000 ? base - 9000 + rng() % 1000 : rng() % 1000; break;
        default: c = base + rng() % 200 - std::min<std::uint64_t>(base, 100); break;
      }
      bool expect_ok = !seen.count(c) && !(any && c < greatest && greatest - c >= kW);
      ReplayResult r = w.update(c);
      ASSERT_EQ(r == ReplayResult::kOk, expect_ok) << "round " << round << " i " << i << " c " << c;
      if (expect_ok) {
        seen.insert(c);
        if (!any || c > greatest) greatest = c;
        any = true;
      }
    }
  }
}

}  // namespace
}  // namespace wg::noise
