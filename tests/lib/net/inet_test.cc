// RFC 1071 checksum and the ICMP echo builder/parser, including malformed packets.
#include "lib/net/inet.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

namespace wg::net {
namespace {

TEST(Inet, ChecksumRfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement).
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(inet_checksum(data), static_cast<std::uint16_t>(~0xddf2));
  const std::uint8_t odd[] = {0x01};
  EXPECT_EQ(inet_checksum(odd), static_cast<std::uint16_t>(~0x0100));
}

TEST(Inet, EchoRoundTripAndPadding) {
  std::vector<std::uint8_t> buf(200, 0);
  const std::uint8_t payload[] = {'h', 'i', '!'};
  const std::size_t n =
      build_icmp_echo(buf, htonl(0x0a000001), htonl(0x0a000002), kIcmpEchoRequest, 77, 5, payload);
  ASSERT_EQ(n, 31u);
  IcmpEcho e;
  // Trailing WireGuard padding after the IP total length is ignored.
  ASSERT_TRUE(parse_icmp_echo(std::span(buf).first(48), e));
  EXPECT_EQ(e.type, kIcmpEchoRequest);
  EXPECT_EQ(e.ident, 77);
  EXPECT_EQ(e.seq, 5);
  EXPECT_EQ(e.src_be, htonl(0x0a000001));
  ASSERT_EQ(e.payload.size(), 3u);
  EXPECT_EQ(e.payload[2], '!');
}

TEST(Inet, MalformedEchoRefused) {
  std::vector<std::uint8_t> buf(64, 0);
  const std::size_t n = build_icmp_echo(buf, 1, 2, kIcmpEchoReply, 1, 1, {});
  IcmpEcho e;
  ASSERT_TRUE(parse_icmp_echo(std::span(buf).first(n), e));
  EXPECT_FALSE(parse_icmp_echo(std::span(buf).first(n - 1), e)) << "shorter than total length";
  EXPECT_FALSE(parse_icmp_echo(std::span(buf).first(10), e));
  for (std::size_t i = 0; i < n; ++i) {
    auto copy = buf;
    copy[i] ^= 0x40;
    IcmpEcho e2;
    // Any single-bit change breaks a checksum or a field check (or, for the TTL/id, the IP checksum).
    EXPECT_FALSE(parse_icmp_echo(std::span(copy).first(n), e2)) << i;
  }
}

}  // namespace
}  // namespace wg::net
