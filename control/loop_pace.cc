#include "control/loop_pace.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace wg::ctl {

LoopPace::LoopPace() : fd_(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) { last_ = read(mono_now()); }

LoopPace::~LoopPace() {
  if (fd_ >= 0) ::close(fd_);
}

LoopPace::Sample LoopPace::read(MonoTime now) const {
  Sample s;
  s.wall_ns = now.count();
  if (fd_ < 0) return s;
  char buf[96];
  const ssize_t n = ::pread(fd_, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return s;
  buf[n] = '\0';
  long long run = 0, wait = 0;
  if (std::sscanf(buf, "%lld %lld", &run, &wait) == 2) {
    s.run_ns = run;
    s.wait_ns = wait;
  }
  return s;
}

LoopPace::Pass LoopPace::between(const Sample& a, const Sample& b) {
  const std::int64_t wall = b.wall_ns - a.wall_ns;
  const std::int64_t stall = std::max<std::int64_t>(0, wall - (b.run_ns - a.run_ns) - (b.wait_ns - a.wait_ns));
  return {static_cast<double>(wall) / 1e9, static_cast<double>(stall) / 1e9};
}

LoopPace::Pass LoopPace::mark(MonoTime now) {
  const Sample s = read(now);
  const Pass p = between(last_, s);
  last_ = s;
  return p;
}

}  // namespace wg::ctl
