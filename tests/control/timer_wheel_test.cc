// TimerWheel against a slow reference (a map of id -> deadline): through random schedules, reschedules,
// cancels and advances by small and large steps (longer than a turn of the wheel), every advance returns
// exactly the ids whose deadline has come, each once, never early and never late.
#include "control/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace wg::ctl {
namespace {

using namespace std::chrono_literals;

TEST(TimerWheel, FiresAtTheFirstAdvanceAtOrAfterTheDeadline) {
  const MonoTime t0{std::chrono::seconds(1000)};
  TimerWheel w(8, t0);
  std::vector<std::uint32_t> due;
  w.schedule(1, t0 + 25ms);
  w.schedule(2, t0 + 25ms + 1ns);
  w.schedule(3, t0 + 100s);  // beyond one turn (about 41 s)
  w.schedule(4, t0 - 5s);    // already past: the next advance
  w.advance(t0 + 20ms, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{4});
  due.clear();
  w.advance(t0 + 25ms, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{1}) << "same tick, the later one is not due yet";
  due.clear();
  w.advance(t0 + 26ms, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{2});
  due.clear();
  w.advance(t0 + 99s, due);
  EXPECT_TRUE(due.empty()) << "the far one has passed its slot twice without being due";
  w.schedule(2, t0 + 99s + 5ms);
  w.cancel(2);
  EXPECT_FALSE(w.scheduled(2));
  w.advance(t0 + 100s, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{3});
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, RandomOperationsMatchReference) {
  constexpr std::uint32_t kIds = 500;
  const MonoTime t0{std::chrono::seconds(5)};
  TimerWheel w(kIds, t0);
  std::map<std::uint32_t, MonoTime> ref;
  std::mt19937_64 rng(77);
  MonoTime now = t0;
  std::vector<std::uint32_t> due;
  for (int step = 0; step < 200000; ++step) {
    const unsigned op = rng() % 100;
    const auto id = static_cast<std::uint32_t>(rng() % kIds);
    if (op < 55) {
      // Deadlines from the past to beyond two turns of the wheel, at nanosecond resolution.
      const auto offset = std::chrono::nanoseconds(static_cast<std::int64_t>(rng() % 100'000'000'000ull)) - 5s;
      w.schedule(id, now + offset);
      ref[id] = now + offset;
    } else if (op < 65) {
      w.cancel(id);
      ref.erase(id);
    } else {
      // Mostly steps within a tick or a few, sometimes a gap longer than a turn.
      const auto step_ns = op < 98 ? std::chrono::nanoseconds(rng() % 30'000'000) : std::chrono::nanoseconds(rng() % 90'000'000'000ull);
      now += step_ns;
      due.clear();
      w.advance(now, due);
      std::vector<std::uint32_t> want;
      for (auto it = ref.begin(); it != ref.end();) {
        if (it->second <= now) {
          want.push_back(it->first);
          it = ref.erase(it);
        } else {
          ++it;
        }
      }
      std::sort(due.begin(), due.end());
      ASSERT_EQ(due, want) << "step " << step;
    }
    ASSERT_EQ(w.size(), ref.size());
  }
}

}  // namespace
}  // namespace wg::ctl
