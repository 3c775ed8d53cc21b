// Per-source token buckets for handshake messages under load (WireGuard paper 5.3; the kernel's
// ratelimiter.c: 20 initiations a second per source address, bursts of 5). An IPv6 source is limited by its
// /64, as the kernel does: one host owns a whole /64 and could otherwise rotate through 2^64 fresh buckets. Only messages whose mac2 proved
// the source address are counted, so a spoofing attacker cannot use up another host's budget.
//
// Thread rule: control thread only. Time is a parameter.
#pragma once

#include <cstdint>
#include <map>

#include "lib/net/ip.h"
#include "lib/util/clock.h"

namespace wg::ctl {

class RateLimiter {
 public:
  static constexpr std::uint32_t kPerSecond = 20;
  static constexpr std::uint32_t kBurst = 5;
  static constexpr std::size_t kMaxEntries = 16384;  // bounded memory whatever the number of sources

  // True when a message from `src` may be processed now (and takes a token).
  bool allow(const net::IpAddress& src, MonoTime now);
  // Forgets sources idle for more than a second (their bucket would be full again anyway).
  void expire(MonoTime now);
  std::size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    MonoTime last;
    std::int64_t tokens_ns;  // tokens scaled: one token = 1 s / kPerSecond of credit
  };
  std::map<net::IpAddress, Bucket> buckets_;
};

}  // namespace wg::ctl
