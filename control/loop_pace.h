// The control loop's pace, once a pass: the wall-clock gap since the previous pass, and of it the "stall":
// the time the thread was neither running nor waiting for a CPU, i.e. sleeping or blocked (in a read, a
// lock, a grace period). Only a stall is the loop's own doing: on a shared machine the scheduler alone makes
// gaps of tens of milliseconds, and those say nothing about the gateway. The kernel keeps the two other
// parts per thread (/proc/thread-self/schedstat: time on a CPU, time runnable but waiting for one).
// The idle sleep of a pass (200 us) is part of the stall: a stall far above it means something waited.
//
// Thread rule: construct and use it on the thread it measures (the control thread).
#pragma once

#include <cstdint>

#include "lib/util/clock.h"

namespace wg::ctl {

class LoopPace {
 public:
  struct Sample {
    std::int64_t wall_ns = 0;
    std::int64_t run_ns = 0;   // on a CPU
    std::int64_t wait_ns = 0;  // runnable, waiting for a CPU
  };
  struct Pass {
    double gap_s = 0;
    double stall_s = 0;
  };

  LoopPace();
  ~LoopPace();
  LoopPace(const LoopPace&) = delete;
  LoopPace& operator=(const LoopPace&) = delete;

  // The pass since the previous call (the first call measures from construction).
  Pass mark(MonoTime now);
  // False where the kernel keeps no schedstat: then a stall is the whole gap.
  bool has_schedstat() const { return fd_ >= 0; }

  // The arithmetic alone: gap = wall; stall = wall - run - wait, never below zero.
  static Pass between(const Sample& a, const Sample& b);

 private:
  Sample read(MonoTime now) const;
  int fd_ = -1;
  Sample last_;
};

}  // namespace wg::ctl
