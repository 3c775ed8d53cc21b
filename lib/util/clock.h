// Time as the protocol code sees it: a monotonic count of nanoseconds since an arbitrary epoch, always passed
// in as a parameter so that tests drive time by hand.
#pragma once

#include <chrono>
#include <cstdint>

namespace wg {

using MonoTime = std::chrono::nanoseconds;

inline MonoTime mono_now() {
  return std::chrono::duration_cast<MonoTime>(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace wg
