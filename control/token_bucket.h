// One token bucket with time as a parameter: a steady rate with bursts. The control thread limits the ICMP
// errors it sends with it (too-big, time exceeded: RFC 1812 4.3.2.8, RFC 4443 2.4(f)), so that a flood of
// packets that each deserve an error cannot turn the gateway into a packet amplifier or eat its control loop.
//
// Thread rule: one thread (the control thread).
#pragma once

#include <algorithm>
#include <cstdint>

#include "lib/util/clock.h"

namespace wg::ctl {

inline constexpr std::uint32_t kIcmpErrorsPerSecond = 1000;  // as Linux's net.ipv4.icmp_msgs_per_sec
inline constexpr std::uint32_t kIcmpErrorBurst = 50;         // as net.ipv4.icmp_msgs_burst

class TokenBucket {
 public:
  TokenBucket(std::uint32_t per_second, std::uint32_t burst)
      : cost_ns_(1'000'000'000 / std::max<std::uint32_t>(per_second, 1)), max_ns_(cost_ns_ * burst) {}

  // True when one more event may happen now (and takes its token).
  bool allow(MonoTime now) {
    if (!started_) {
      started_ = true;
      credit_ns_ = max_ns_;
    } else {
      credit_ns_ = std::min(max_ns_, credit_ns_ + std::max<std::int64_t>(0, (now - last_).count()));
    }
    last_ = now;
    if (credit_ns_ < cost_ns_) return false;
    credit_ns_ -= cost_ns_;
    return true;
  }

 private:
  std::int64_t cost_ns_, max_ns_;
  std::int64_t credit_ns_ = 0;
  MonoTime last_{0};
  bool started_ = false;
};

}  // namespace wg::ctl
