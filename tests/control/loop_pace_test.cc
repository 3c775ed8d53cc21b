// LoopPace: a pass that sleeps is a stall, a pass that computes is not, however the scheduler treats it.
#include "control/loop_pace.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace wg::ctl {
namespace {

using namespace std::chrono_literals;

TEST(LoopPace, StallIsTheGapLessRunningAndWaiting) {
  const LoopPace::Sample a{1'000'000'000, 50'000'000, 10'000'000};
  const LoopPace::Sample b{1'030'000'000, 52'000'000, 35'000'000};  // 30 ms: 2 on a CPU, 25 waiting for one
  const LoopPace::Pass p = LoopPace::between(a, b);
  EXPECT_DOUBLE_EQ(p.gap_s, 0.030);
  EXPECT_NEAR(p.stall_s, 0.003, 1e-12);
  const LoopPace::Sample c{1'030'000'000, 60'000'000, 35'000'000};  // more accounted than elapsed: clamped
  EXPECT_EQ(LoopPace::between(a, c).stall_s, 0.0);
}

TEST(LoopPace, SleepingIsAStallComputingIsNot) {
  LoopPace pace;
  if (!pace.has_schedstat()) GTEST_SKIP() << "no /proc/thread-self/schedstat on this kernel";
  pace.mark(mono_now());
  std::this_thread::sleep_for(40ms);
  const LoopPace::Pass slept = pace.mark(mono_now());
  EXPECT_GE(slept.gap_s, 0.040);
  EXPECT_GE(slept.stall_s, 0.030) << "a sleep is time neither running nor runnable";
  const auto end = std::chrono::steady_clock::now() + 40ms;
  volatile std::uint64_t x = 0;
  while (std::chrono::steady_clock::now() < end) x = x + 1;
  const LoopPace::Pass busy = pace.mark(mono_now());
  EXPECT_GE(busy.gap_s, 0.040);
  EXPECT_LT(busy.stall_s, 0.010) << "running or waiting for a CPU is not a stall";
}

}  // namespace
}  // namespace wg::ctl
