// The control thread's log (control/log.h): while the logger thread is stuck on a stdout nobody reads (a full
// pipe), logging never blocks the caller; lines past the queue's bound are dropped and counted
// (log_lines_dropped, exported as wggate_log_lines_dropped_total), and every other line is written, in order,
// once stdout drains. stdout is redirected to a pipe of the test's for the duration.
#include "control/log.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace wg::ctl {
namespace {

TEST(AsyncLog, BlockedStdoutDropsAndCountsLinesNeverTheCaller) {
  constexpr int kLines = 20000;  // ~2 MB: far more than a pipe (64 KiB) plus two full queues hold
  const std::string pad(90, '.');
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  // From here until stdout is restored: no gtest assertion (its messages go to stdout, i.e. the full pipe).
  ::dup2(p[1], STDOUT_FILENO);
  ::close(p[1]);
  // The reader starts draining once the lines are logged, or after 5 s: a log that blocked its caller would
  // show as a slow loop below, not as a test that hangs.
  std::atomic<bool> logged{false};
  std::string out;
  std::thread reader([&out, &logged, fd = p[0]] {
    for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
         !logged.load() && std::chrono::steady_clock::now() < until;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<std::size_t>(n));
  });
  start_async_log();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) log_notice("line %d %s", i, pad.c_str());
  const auto took = std::chrono::steady_clock::now() - start;
  const std::uint64_t dropped_while_blocked = log_lines_dropped();
  logged.store(true);  // now stdout drains: the logger writes what it queued, then stops
  stop_async_log();
  log_notice("last");  // direct again: anything this thread could not queue goes out first
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);  // closes the pipe's last write end: the reader sees its end
  ::close(saved);
  reader.join();
  ::close(p[0]);

  EXPECT_LT(took, std::chrono::seconds(2)) << "the caller never waited on the blocked stdout";
  EXPECT_GT(dropped_while_blocked, 0u);
  EXPECT_EQ(log_lines_dropped(), dropped_while_blocked) << "nothing dropped once stdout drained";
  // Every line is either written, in order, or counted.
  std::vector<int> written;
  std::size_t pos = 0;
  std::string last;
  for (std::size_t nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    last = out.substr(pos, nl - pos);
    int n = -1;
    if (std::sscanf(last.c_str(), "wggate: line %d ", &n) == 1) written.push_back(n);
  }
  EXPECT_EQ(last, "wggate: last");
  EXPECT_EQ(written.size() + dropped_while_blocked, static_cast<std::size_t>(kLines));
  EXPECT_TRUE(std::is_sorted(written.begin(), written.end()));
  EXPECT_EQ(std::adjacent_find(written.begin(), written.end()), written.end()) << "no line twice";
  ASSERT_FALSE(written.empty());
  EXPECT_EQ(written.front(), 0) << "the first lines went out before stdout filled";
}

}  // namespace
}  // namespace wg::ctl
