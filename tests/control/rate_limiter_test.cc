// Handshake rate limiting: burst, steady rate, per-source independence, bounded table.
#include "control/rate_limiter.h"
#include "control/token_bucket.h"

#include <gtest/gtest.h>

namespace wg::ctl {
namespace {

using namespace std::chrono_literals;

net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }

TEST(RateLimiter, BurstThenSteadyRate) {
  RateLimiter rl;
  MonoTime t = MonoTime(0) + 100s;
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += rl.allow(ip("192.0.2.1"), t);
  EXPECT_EQ(allowed, 5) << "a burst of 5 at once";
  // Then one every 50 ms.
  EXPECT_FALSE(rl.allow(ip("192.0.2.1"), t + 49ms));
  EXPECT_TRUE(rl.allow(ip("192.0.2.1"), t + 50ms));
  allowed = 0;
  for (int ms = 51; ms <= 1050; ++ms) allowed += rl.allow(ip("192.0.2.1"), t + std::chrono::milliseconds(ms));
  EXPECT_EQ(allowed, 20) << "20 a second when hammered";
}

TEST(RateLimiter, SourcesAreIndependent) {
  RateLimiter rl;
  MonoTime t = MonoTime(0) + 100s;
  for (int i = 0; i < 10; ++i) rl.allow(ip("192.0.2.1"), t);
  EXPECT_FALSE(rl.allow(ip("192.0.2.1"), t));
  EXPECT_TRUE(rl.allow(ip("192.0.2.2"), t));
  EXPECT_TRUE(rl.allow(ip("2001:db8::1"), t));
}

TEST(RateLimiter, Ipv6SourcesShareTheirSlash64) {
  RateLimiter rl;
  MonoTime t = MonoTime(0) + 100s;
  int allowed = 0;
  for (int i = 1; i <= 50; ++i) allowed += rl.allow(ip(("2001:db8:1:2::" + std::to_string(i)).c_str()), t);
  EXPECT_EQ(allowed, 5) << "one bucket for the whole /64, however many addresses in it";
  EXPECT_TRUE(rl.allow(ip("2001:db8:1:3::1"), t)) << "the next /64 has its own";
}

TEST(RateLimiter, IdleSourcesExpireAndTableIsBounded) {
  RateLimiter rl;
  MonoTime t = MonoTime(0) + 100s;
  for (std::uint32_t i = 0; i < RateLimiter::kMaxEntries; ++i) {
    ASSERT_TRUE(rl.allow(net::IpAddress::v4_from_be(__builtin_bswap32(0x0a000000 + i)), t));
  }
  EXPECT_FALSE(rl.allow(ip("198.51.100.1"), t)) << "full of active sources";
  EXPECT_TRUE(rl.allow(ip("198.51.100.1"), t + 2s)) << "idle ones were expired";
  EXPECT_EQ(rl.size(), 1u);
}

}  // namespace
}  // namespace wg::ctl

namespace wg::ctl {
namespace {

TEST(TokenBucket, BurstThenRate) {
  TokenBucket b(kIcmpErrorsPerSecond, kIcmpErrorBurst);
  const MonoTime t = MonoTime(0) + std::chrono::seconds(5);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) allowed += b.allow(t);
  EXPECT_EQ(allowed, static_cast<int>(kIcmpErrorBurst));
  allowed = 0;
  for (int us = 1; us <= 1'000'000; us += 100) allowed += b.allow(t + std::chrono::microseconds(us));
  EXPECT_NEAR(allowed, static_cast<int>(kIcmpErrorsPerSecond), 1);  // one per millisecond when hammered
}

}  // namespace
}  // namespace wg::ctl
