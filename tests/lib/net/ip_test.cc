// Addresses, prefixes and endpoints: canonical round trips, every refusal, and prefix arithmetic checked
// against a bit-by-bit reference with random inputs.
#include "lib/net/ip.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

namespace wg::net {
namespace {

using ::testing::HasSubstr;

IpAddress ip(std::string_view text) {
  absl::StatusOr<IpAddress> a = IpAddress::parse(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.status();
  return a.ok() ? *a : IpAddress{};
}

Prefix prefix(std::string_view text) {
  absl::StatusOr<Prefix> p = Prefix::parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  return p.ok() ? *p : Prefix{};
}

std::string endpoint_error(std::string_view text) {
  absl::StatusOr<Endpoint> e = Endpoint::parse(text);
  EXPECT_FALSE(e.ok()) << text << " parsed as " << e->to_string();
  return e.ok() ? "" : std::string(e.status().message());
}

TEST(IpAddress, ParsesAndPrintsCanonically) {
  EXPECT_EQ(ip("192.0.2.1").to_string(), "192.0.2.1");
  EXPECT_TRUE(ip("192.0.2.1").is_v4());
  EXPECT_EQ(ip("2001:DB8:0:0:0:0:0:1").to_string(), "2001:db8::1");  // RFC 5952
  EXPECT_EQ(ip("::").to_string(), "::");
  EXPECT_EQ(ip("::ffff:192.0.2.1").family, 6) << "mapped addresses stay IPv6";
  const IpAddress v4 = ip("10.1.2.3");
  for (std::size_t i = 4; i < 16; ++i) EXPECT_EQ(v4.bytes[i], 0) << "IPv4 tail is zero, so == works";
}

TEST(IpAddress, RefusesGarbage) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", " 1.2.3.4", "1.2.3.4 ",
                          "fe80::1%eth0", "2001:db8:::1", "example.com", "1.2.3.4/24",
                          "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255x"}) {
    EXPECT_FALSE(IpAddress::parse(bad).ok()) << bad;
  }
}

TEST(IpAddress, NetworkByteOrder) {
  const IpAddress a = ip("10.0.0.1");
  EXPECT_EQ(a.v4_be(), htonl(0x0a000001));
  EXPECT_EQ(IpAddress::v4_from_be(htonl(0xc0000201)), ip("192.0.2.1"));
  const std::uint8_t raw[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(IpAddress::v6(raw), ip("2001:db8::1"));
}

TEST(IpAddress, OrdersForMaps) {
  std::map<IpAddress, int> m;
  m[ip("10.0.0.2")] = 2;
  m[ip("10.0.0.1")] = 1;
  m[ip("::1")] = 6;
  m[ip("10.0.0.1")] = 11;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.begin()->first, ip("10.0.0.1"));
  EXPECT_EQ(m.begin()->second, 11);
  EXPECT_EQ(m.rbegin()->first, ip("::1")) << "IPv4 sorts before IPv6";
  EXPECT_NE(ip("0.0.0.0"), ip("::"));
}

TEST(Prefix, Parses) {
  EXPECT_EQ(prefix("10.0.0.0/24").to_string(), "10.0.0.0/24");
  EXPECT_EQ(prefix("fd00::/64").to_string(), "fd00::/64");
  EXPECT_EQ(prefix("10.0.0.1").len, 32) << "bare address is a host route";
  EXPECT_EQ(prefix("fd00::1").len, 128);
  EXPECT_EQ(prefix("0.0.0.0/0").len, 0);
  EXPECT_EQ(prefix("10.1.0.1/24").addr, ip("10.1.0.1")) << "host bits kept as written";
}

TEST(Prefix, RefusesBadLengthsAndGarbage) {
  EXPECT_THAT(std::string(Prefix::parse("10.0.0.0/33").status().message()), HasSubstr("longer than 32"));
  EXPECT_THAT(std::string(Prefix::parse("fd00::/129").status().message()), HasSubstr("longer than 128"));
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/1000", "10.0.0.0 /24",
                          "10.0.0.0/ 24", "10.0.0.0/24 ", "/24", "10.0.0.0/24/8", "10.0.0.0/2a", "x/8"}) {
    EXPECT_FALSE(Prefix::parse(bad).ok()) << bad;
  }
}

TEST(Prefix, MaskedAndContains) {
  EXPECT_EQ(prefix("10.1.2.3/24").masked(), prefix("10.1.2.0/24"));
  EXPECT_EQ(prefix("10.1.2.3/0").masked(), prefix("0.0.0.0/0"));
  EXPECT_EQ(prefix("10.1.2.255/31").masked(), prefix("10.1.2.254/31"));
  EXPECT_EQ(prefix("fd00:1:2:3:4::1/61").masked(), prefix("fd00:1:2::/61"));
  EXPECT_TRUE(prefix("10.1.2.3/24").has_host_bits());
  EXPECT_FALSE(prefix("10.1.2.0/24").has_host_bits());
  EXPECT_TRUE(prefix("10.0.0.0/8").contains(ip("10.255.0.1")));
  EXPECT_FALSE(prefix("10.0.0.0/8").contains(ip("11.0.0.1")));
  EXPECT_FALSE(prefix("0.0.0.0/0").contains(ip("::1"))) << "families never mix";
  EXPECT_TRUE(prefix("::/0").contains(ip("2001:db8::1")));
  EXPECT_TRUE(prefix("10.0.0.0/8").overlaps(prefix("10.2.0.0/16")));
  EXPECT_TRUE(prefix("10.2.0.0/16").overlaps(prefix("10.0.0.0/8")));
  EXPECT_FALSE(prefix("10.2.0.0/16").overlaps(prefix("10.3.0.0/16")));
}

// Slow reference: compare bit by bit.
bool reference_contains(const Prefix& p, const IpAddress& a) {
  if (p.addr.family != a.family) return false;
  for (int i = 0; i < p.len; ++i) {
    const int byte = i / 8;
    const int bit = 7 - i % 8;
    if (((p.addr.bytes[byte] >> bit) & 1) != ((a.bytes[byte] >> bit) & 1)) return false;
  }
  return true;
}

TEST(Prefix, ContainsMatchesReference) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    IpAddress base;
    base.family = (rng() & 1) ? 4 : 6;
    const int n = base.is_v4() ? 4 : 16;
    for (int i = 0; i < n; ++i) base.bytes[i] = static_cast<std::uint8_t>(rng());
    IpAddress probe = base;
    // Flip one random bit so that every prefix length is hit on both sides of the boundary.
    const int flip = static_cast<int>(rng() % (n * 8));
    probe.bytes[flip / 8] ^= static_cast<std::uint8_t>(0x80 >> (flip % 8));
    const Prefix p{base, static_cast<std::uint8_t>(rng() % (base.max_prefix_len() + 1))};
    ASSERT_EQ(p.contains(probe), reference_contains(p, probe)) << p.to_string() << " " << probe.to_string();
    ASSERT_TRUE(p.masked().contains(base));
    ASSERT_FALSE(p.masked().has_host_bits());
  }
}

TEST(Endpoint, ParsesAndPrints) {
  absl::StatusOr<Endpoint> e = Endpoint::parse("192.0.2.1:51820");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->addr, ip("192.0.2.1"));
  EXPECT_EQ(e->port, 51820);
  EXPECT_EQ(e->to_string(), "192.0.2.1:51820");
  e = Endpoint::parse("[2001:DB8::1]:65535");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->to_string(), "[2001:db8::1]:65535");
  EXPECT_TRUE(Endpoint::parse("10.0.0.1:1").ok());
}

TEST(Endpoint, RefusesWithReasons) {
  EXPECT_THAT(endpoint_error("192.0.2.1"), HasSubstr("missing port"));
  EXPECT_THAT(endpoint_error("192.0.2.1:"), HasSubstr("missing port"));
  EXPECT_THAT(endpoint_error("[2001:db8::1]"), HasSubstr("missing port"));
  EXPECT_THAT(endpoint_error("[2001:db8::1]:"), HasSubstr("missing port"));
  EXPECT_THAT(endpoint_error("192.0.2.1:0"), HasSubstr("1..65535"));
  EXPECT_THAT(endpoint_error("192.0.2.1:65536"), HasSubstr("1..65535"));
  EXPECT_THAT(endpoint_error("192.0.2.1:123456"), HasSubstr("1..65535"));
  EXPECT_THAT(endpoint_error("192.0.2.1:-1"), HasSubstr("1..65535"));
  EXPECT_THAT(endpoint_error("192.0.2.1:51820 "), HasSubstr("1..65535"));
  EXPECT_THAT(endpoint_error("2001:db8::1:51820"), HasSubstr("[address]:port"));
  EXPECT_THAT(endpoint_error("2001:db8::1"), HasSubstr("[address]:port"));
  EXPECT_THAT(endpoint_error("vpn.example.com:51820"), HasSubstr("hostnames are not resolved"));
  EXPECT_THAT(endpoint_error("localhost"), HasSubstr("hostnames are not resolved"));
  EXPECT_THAT(endpoint_error("[192.0.2.1]:51820"), HasSubstr("IPv6 only"));
  EXPECT_THAT(endpoint_error("[2001:db8::1:51820"), HasSubstr("missing ']'"));
  EXPECT_THAT(endpoint_error("[2001:db8::1]51820"), HasSubstr("after ']'"));
  EXPECT_THAT(endpoint_error("[zz::1]:51820"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(endpoint_error("300.0.0.1:51820"), HasSubstr("not an IPv4 address"));
  EXPECT_FALSE(Endpoint::parse("").ok());
}

}  // namespace
}  // namespace wg::net
