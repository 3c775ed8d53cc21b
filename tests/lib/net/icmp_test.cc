// ICMP echo replies, "packet too big" and "time exceeded" errors: echo replies compared with the ones Linux
// sent for the same requests, checksums recomputed by a reference, in-place replies, quoting limits, and every
// refusal RFC 1122 / RFC 1812 / RFC 4443 ask for.
#include "lib/net/icmp.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "lib/net/inet.h"
#include "tests/lib/hex.h"
#include "tests/lib/net/checksum_ref.h"

namespace wg::net {
namespace {

using wg::testing::from_hex;
using wg::testing::hex;
using wg::testing::ref_checksum;
using wg::testing::ref_icmp6_checksum;
using wg::testing::stored_be16;

// Captured with tcpdump on a veth pair between two network namespaces (Linux 6.x): `ping -c1` from
// 192.0.2.1 / 2001:db8::1 at 02:00:00:00:00:01 to 192.0.2.2 / 2001:db8::2 at 02:00:00:00:00:02, and the
// kernel's replies.
constexpr char kLinuxEchoV4[] =
    "020000000002020000000001080045000054fd3f40004001b965c0000201c00002020800aa4450cc00012058096b000000000f58"
    "05"
    "0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
constexpr char kLinuxEchoReplyV4[] =
    "020000000001020000000002080045000054a77f000040014f26c0000202c00002010000b24450cc00012058096b000000000f58"
    "05"
    "0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
constexpr char kLinuxEchoV6[] =
    "02000000000202000000000186dd600ee50200403a4020010db800000000000000000000000120010db80000000000000000"
    "000000028000bb3350cd00012058096b000000002a78050000000000101112131415161718191a1b1c1d1e1f202122232425"
    "262728292a2b2c2d2e2f3031323334353637";
constexpr char kLinuxEchoReplyV6[] =
    "02000000000102000000000286dd6009755100403a4020010db800000000000000000000000220010db80000000000000000"
    "000000018100ba3350cd00012058096b000000002a78050000000000101112131415161718191a1b1c1d1e1f202122232425"
    "262728292a2b2c2d2e2f3031323334353637";

constexpr MacAddress kMac1{{0x02, 0, 0, 0, 0, 0x01}};
constexpr MacAddress kMac2{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::size_t kL3 = kEthernetHeaderLen;
constexpr std::size_t kIcmpV4 = kL3 + kIpv4HeaderLen;
constexpr std::size_t kIcmpV6 = kL3 + kIpv6HeaderLen;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

void set_be16(std::vector<std::uint8_t>& f, std::size_t at, std::uint16_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8);
  f[at + 1] = static_cast<std::uint8_t>(v);
}

// Fixes the checksums of an IPv4 frame (header and ICMP) after a test edited it.
void reseal_v4(std::vector<std::uint8_t>& f) {
  const std::size_t ihl = static_cast<std::size_t>(f[kL3] & 15) * 4;
  const std::size_t total = stored_be16(f, kL3 + 2);
  set_be16(f, kL3 + 10, ref_checksum(std::span(f).subspan(kL3, ihl), 10));
  set_be16(f, kL3 + ihl + 2, ref_checksum(std::span(f).subspan(kL3 + ihl, total - ihl), 2));
}

void reseal_v6(std::vector<std::uint8_t>& f) {
  const std::size_t len = stored_be16(f, kL3 + 4);
  set_be16(f, kIcmpV6 + 2, ref_icmp6_checksum(&f[kL3 + 8], &f[kL3 + 24], std::span(f).subspan(kIcmpV6, len)));
}

void expect_v4_checksums_ok(std::span<const std::uint8_t> f) {
  const std::size_t total = stored_be16(f, kL3 + 2);
  EXPECT_EQ(stored_be16(f, kL3 + 10), ref_checksum(f.subspan(kL3, kIpv4HeaderLen), 10));
  EXPECT_EQ(stored_be16(f, kIcmpV4 + 2), ref_checksum(f.subspan(kIcmpV4, total - kIpv4HeaderLen), 2));
}

void expect_v6_checksum_ok(std::span<const std::uint8_t> f) {
  const std::size_t len = stored_be16(f, kL3 + 4);
  EXPECT_EQ(stored_be16(f, kIcmpV6 + 2),
            ref_icmp6_checksum(&f[kL3 + 8], &f[kL3 + 24], f.subspan(kIcmpV6, len)));
}

TEST(IcmpEcho, RepliesLikeLinuxV4) {
  const auto req = from_hex(kLinuxEchoV4);
  const auto linux_reply = from_hex(kLinuxEchoReplyV4);
  std::vector<std::uint8_t> out(200);
  ASSERT_EQ(build_echo_reply(out, req, kMac2), req.size());
  const auto reply = std::span(out).first(req.size());
  expect_v4_checksums_ok(reply);
  // Ethernet and addresses as Linux wrote them; the IP id, DF and TTL are each stack's own choice.
  EXPECT_EQ(hex(reply.first(kEthernetHeaderLen)), hex(std::span(linux_reply).first(kEthernetHeaderLen)));
  EXPECT_EQ(hex(reply.subspan(kL3 + 12, 8)), hex(std::span(linux_reply).subspan(kL3 + 12, 8)));
  EXPECT_EQ(reply[kL3 + 9], kProtoIcmp);
  EXPECT_EQ(stored_be16(reply, kL3 + 2), 84);
  EXPECT_EQ(hex(reply.subspan(kIcmpV4)), hex(std::span(linux_reply).subspan(kIcmpV4))) << "ICMP byte-exact";
}

TEST(IcmpEcho, RepliesLikeLinuxV6) {
  const auto req = from_hex(kLinuxEchoV6);
  const auto linux_reply = from_hex(kLinuxEchoReplyV6);
  std::vector<std::uint8_t> out(200);
  ASSERT_EQ(build_echo_reply(out, req, kMac2), req.size());
  const auto reply = std::span(out).first(req.size());
  expect_v6_checksum_ok(reply);
  EXPECT_EQ(hex(reply.first(kEthernetHeaderLen)), hex(std::span(linux_reply).first(kEthernetHeaderLen)));
  // Payload length, next header, hop limit 64 and the swapped addresses; the flow label is Linux's own.
  EXPECT_EQ(hex(reply.subspan(kL3 + 4)), hex(std::span(linux_reply).subspan(kL3 + 4)));
}

TEST(IcmpEcho, InPlace) {
  for (const char* text : {kLinuxEchoV4, kLinuxEchoV6}) {
    auto frame = from_hex(text);
    std::vector<std::uint8_t> separate(200);
    const std::size_t n = build_echo_reply(separate, frame, kMac2);
    ASSERT_NE(n, 0u);
    ASSERT_EQ(build_echo_reply(frame, frame, kMac2), n);
    EXPECT_EQ(hex(frame), hex(std::span(separate).first(n)));
  }
}

TEST(IcmpEcho, ShortRequestPaddedBothWays) {
  // A payload-less ICMPv4 echo is 42 bytes: it arrives padded to 60 and the reply is padded to 60.
  std::vector<std::uint8_t> req(kEthernetMinFrameLen, 0);
  write_ethernet(req.data(), kMac2, kMac1, kEtherTypeIpv4);
  ASSERT_EQ(build_icmp_echo(std::span(req).subspan(kL3), htonl(0x0a000001), htonl(0x0a000002),
                            kIcmpEchoRequest, 7, 9, {}),
            28u);
  std::vector<std::uint8_t> out(kEthernetMinFrameLen, 0xee);
  ASSERT_EQ(build_echo_reply(out, req, kMac2), kEthernetMinFrameLen);
  EXPECT_EQ(stored_be16(out, kL3 + 2), 28);
  expect_v4_checksums_ok(out);
  IcmpEcho echo;
  ASSERT_TRUE(parse_icmp_echo(std::span(out).subspan(kL3), echo));
  EXPECT_EQ(echo.type, kIcmpEchoReply);
  EXPECT_EQ(echo.src_be, htonl(0x0a000002));
  EXPECT_EQ(echo.dst_be, htonl(0x0a000001));
  EXPECT_EQ(echo.ident, 7);
  EXPECT_EQ(echo.seq, 9);
  EXPECT_EQ(hex(std::span(out).subspan(42)), std::string(36, '0'));
  EXPECT_EQ(build_echo_reply(std::span(out).first(59), req, kMac2), 0u) << "no room for the padding";
}

TEST(IcmpEcho, IpOptionsNotEchoed) {
  auto req = from_hex(kLinuxEchoV4);
  req.insert(req.begin() + kIcmpV4, {1, 1, 1, 0});  // NOP, NOP, NOP, end of options
  req[kL3] = 0x46;
  set_be16(req, kL3 + 2, 88);
  reseal_v4(req);
  std::vector<std::uint8_t> out(200);
  ASSERT_EQ(build_echo_reply(out, req, kMac2), req.size() - 4);
  EXPECT_EQ(out[kL3], 0x45);
  const auto linux_reply = from_hex(kLinuxEchoReplyV4);
  EXPECT_EQ(hex(std::span(out).subspan(kIcmpV4, 64)), hex(std::span(linux_reply).subspan(kIcmpV4)));
}

TEST(IcmpEcho, EveryTruncationRefused) {
  for (const char* text : {kLinuxEchoV4, kLinuxEchoV6}) {
    const auto req = from_hex(text);
    std::vector<std::uint8_t> out(200);
    for (std::size_t n = 0; n < req.size(); ++n) {
      EXPECT_EQ(build_echo_reply(out, std::span(req).first(n), kMac2), 0u) << n;
    }
    for (std::size_t n = 0; n < req.size(); ++n) {
      EXPECT_EQ(build_echo_reply(std::span(out).first(n), req, kMac2), 0u) << "out " << n;
    }
  }
}

TEST(IcmpEcho, InvalidRequestsRefused) {
  std::vector<std::uint8_t> out(200);
  const auto v4 = from_hex(kLinuxEchoV4);
  const auto v6 = from_hex(kLinuxEchoV6);
  auto refused = [&](const std::vector<std::uint8_t>& frame) {
    return build_echo_reply(out, frame, kMac2) == 0;
  };
  auto edit4 = [](std::vector<std::uint8_t> f, auto&& change, bool reseal = true) {
    change(f);
    if (reseal) reseal_v4(f);
    return f;
  };
  auto edit6 = [](std::vector<std::uint8_t> f, auto&& change, bool reseal = true) {
    change(f);
    if (reseal) reseal_v6(f);
    return f;
  };
  EXPECT_FALSE(refused(edit4(v4, [](auto&) {})));
  EXPECT_FALSE(refused(edit6(v6, [](auto&) {})));

  EXPECT_TRUE(refused(edit4(
      v4, [](auto& f) { f[kIcmpV4 + 8] ^= 1; }, false)))
      << "ICMP checksum";
  EXPECT_TRUE(refused(edit4(
      v4, [](auto& f) { f[kL3 + 8] = 1; }, false)))
      << "IP header checksum";
  EXPECT_TRUE(refused(edit6(
      v6, [](auto& f) { f[kIcmpV6 + 8] ^= 1; }, false)))
      << "ICMPv6 checksum";
  EXPECT_TRUE(refused(edit6(
      v6, [](auto& f) { f[kL3 + 8] ^= 1; }, false)))
      << "pseudo-header";

  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[kIcmpV4] = kIcmpEchoReply; }))) << "a reply";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[kIcmpV4 + 1] = 1; }))) << "code 1";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[kL3 + 9] = 17; }))) << "UDP";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[kL3 + 6] = 0x20; }))) << "first fragment";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[kL3 + 7] = 1; }))) << "later fragment";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[kL3 + 12] = 224; }))) << "multicast source";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { std::memset(&f[kL3 + 16], 0xff, 4); }))) << "broadcast";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { std::memset(&f[kL3 + 12], 0, 4); }))) << "0.0.0.0";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[6] = 0x01; }))) << "group Ethernet source";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { f[kL3] = 0x44; }))) << "IHL 16";
  EXPECT_TRUE(refused(edit4(v4, [](auto& f) { set_be16(f, kL3 + 2, 27); }))) << "total below 28";

  EXPECT_TRUE(refused(edit6(v6, [](auto& f) { f[kIcmpV6] = kIcmp6EchoReply; }))) << "a reply";
  EXPECT_TRUE(refused(edit6(v6, [](auto& f) { f[kIcmpV6 + 1] = 1; }))) << "code 1";
  EXPECT_TRUE(refused(edit6(v6, [](auto& f) { f[kL3 + 6] = 0; }))) << "extension header";
  EXPECT_TRUE(refused(edit6(v6, [](auto& f) { f[kL3 + 24] = 0xff; }))) << "multicast destination";
  EXPECT_TRUE(refused(edit6(v6, [](auto& f) { std::memset(&f[kL3 + 8], 0, 16); }))) << "from ::";
  EXPECT_TRUE(refused(edit6(v6, [](auto& f) { f[kL3] = 0x40; }))) << "version";
  EXPECT_TRUE(refused(edit6(v6, [](auto& f) { set_be16(f, kL3 + 4, 7); }))) << "shorter than an echo";
  EXPECT_TRUE(refused(edit6(v6, [](auto& f) {
    f[12] = 0x08;
    f[13] = 0x06;
  }))) << "ARP EtherType";

  // Trailing link padding is not part of the request.
  EXPECT_FALSE(refused(edit6(v6, [](auto& f) { f.resize(f.size() + 5, 0xaa); })));
}

// An IPv4 UDP packet of `len` bytes from 198.51.100.7 to 203.0.113.9.
std::vector<std::uint8_t> udp_v4(std::size_t len) {
  std::vector<std::uint8_t> p(len, 0x5a);
  write_ipv4_header(p.data(), htonl(0xc6336407), htonl(0xcb007109), 17, static_cast<std::uint16_t>(len),
                    4321);
  return p;
}

// An IPv6 packet of `len` bytes from 2001:db8:1::7 to 2001:db8:2::9 with next header `next`.
std::vector<std::uint8_t> packet_v6(std::size_t len, std::uint8_t next = 17) {
  std::vector<std::uint8_t> p(len, 0x5a);
  write_ipv6_header(p.data(), ip("2001:db8:1::7").bytes, ip("2001:db8:2::9").bytes, next,
                    static_cast<std::uint16_t>(len - kIpv6HeaderLen), 64);
  return p;
}

TEST(IcmpTooBig, FragmentationNeededV4) {
  const auto pkt = udp_v4(1500);
  std::vector<std::uint8_t> out(1600);
  const std::size_t n = build_too_big(out, kMac2, kMac1, ip("192.0.2.2"), pkt, 1420);
  ASSERT_EQ(n, kIcmpV4 + 8 + 28);
  const auto f = std::span(out).first(n);
  expect_v4_checksums_ok(f);
  EXPECT_EQ(MacAddress::from(f.data()), kMac1);
  EXPECT_EQ(MacAddress::from(f.data() + 6), kMac2);
  EXPECT_EQ(ether_type(f), kEtherTypeIpv4);
  EXPECT_EQ(stored_be16(f, kL3 + 2), n - kL3);
  EXPECT_EQ(f[kL3 + 9], kProtoIcmp);
  EXPECT_EQ(hex(f.subspan(kL3 + 12, 4)), "c0000202") << "from our address";
  EXPECT_EQ(hex(f.subspan(kL3 + 16, 4)), "c6336407") << "to the offending source";
  EXPECT_EQ(f[kIcmpV4], 3);
  EXPECT_EQ(f[kIcmpV4 + 1], 4);
  EXPECT_EQ(stored_be16(f, kIcmpV4 + 4), 0);
  EXPECT_EQ(stored_be16(f, kIcmpV4 + 6), 1420) << "next-hop MTU";
  EXPECT_EQ(hex(f.subspan(kIcmpV4 + 8)), hex(std::span(pkt).first(28))) << "header + 8 bytes";
}

TEST(IcmpTooBig, PacketTooBigV6) {
  const auto pkt = packet_v6(1500);
  std::vector<std::uint8_t> out(1600);
  const std::size_t n = build_too_big(out, kMac2, kMac1, ip("2001:db8::2"), pkt, 1420);
  ASSERT_EQ(n, kL3 + 1280) << "RFC 4443 2.4(c)";
  const auto f = std::span(out).first(n);
  expect_v6_checksum_ok(f);
  EXPECT_EQ(MacAddress::from(f.data()), kMac1);
  EXPECT_EQ(ether_type(f), kEtherTypeIpv6);
  EXPECT_EQ(stored_be16(f, kL3 + 4), 1240);
  EXPECT_EQ(f[kL3 + 6], kProtoIcmpv6);
  EXPECT_EQ(IpAddress::v6(&f[kL3 + 8]), ip("2001:db8::2"));
  EXPECT_EQ(IpAddress::v6(&f[kL3 + 24]), ip("2001:db8:1::7"));
  EXPECT_EQ(f[kIcmpV6], 2);
  EXPECT_EQ(f[kIcmpV6 + 1], 0);
  EXPECT_EQ(hex(f.subspan(kIcmpV6 + 4, 4)), "0000058c") << "MTU 1420";
  EXPECT_EQ(hex(f.subspan(kIcmpV6 + 8)), hex(std::span(pkt).first(1232)));

  // Only the first segment given: the quote stops there. Trailing bytes past the IP length are not quoted.
  ASSERT_EQ(build_too_big(out, kMac2, kMac1, ip("2001:db8::2"), std::span(pkt).first(200), 1280),
            kIcmpV6 + 8 + 200);
  expect_v6_checksum_ok(std::span(out).first(kIcmpV6 + 8 + 200));
  auto padded = packet_v6(300);
  padded.resize(400, 0);
  EXPECT_EQ(build_too_big(out, kMac2, kMac1, ip("2001:db8::2"), padded, 1280), kIcmpV6 + 8 + 300);
}

TEST(IcmpTooBig, OverlappingOutput) {
  // The error may be built over the offending frame itself: IP packet at offset 14 of the same buffer.
  std::vector<std::uint8_t> buf(1600, 0);
  const auto pkt = packet_v6(1500);
  std::memcpy(buf.data() + kL3, pkt.data(), pkt.size());
  std::vector<std::uint8_t> separate(1600);
  const std::size_t n = build_too_big(separate, kMac2, kMac1, ip("2001:db8::2"), pkt, 1400);
  ASSERT_EQ(build_too_big(buf, kMac2, kMac1, ip("2001:db8::2"), std::span(buf).subspan(kL3, 1500), 1400), n);
  EXPECT_EQ(hex(std::span(buf).first(n)), hex(std::span(separate).first(n)));
}

TEST(IcmpTooBig, ForbiddenErrorsRefused) {
  std::vector<std::uint8_t> out(1600);
  const IpAddress us4 = ip("192.0.2.2");
  const IpAddress us6 = ip("2001:db8::2");
  auto v4 = [&](auto&& change) {
    auto p = udp_v4(1500);
    change(p);
    set_be16(p, 10, 0);
    set_be16(p, 10, ref_checksum(std::span(p).first(20), 10));
    return build_too_big(out, kMac2, kMac1, us4, p, 1420);
  };
  auto v6 = [&](auto&& change, std::uint8_t next = 17) {
    auto p = packet_v6(1500, next);
    change(p);
    return build_too_big(out, kMac2, kMac1, us6, p, 1420);
  };
  EXPECT_NE(v4([](auto&) {}), 0u);
  EXPECT_NE(v6([](auto&) {}), 0u);

  EXPECT_EQ(v4([](auto& p) {
              p[9] = kProtoIcmp;
              p[20] = 3;
            }),
            0u)
      << "ICMP destination unreachable";
  EXPECT_EQ(v4([](auto& p) {
              p[9] = kProtoIcmp;
              p[20] = 11;
            }),
            0u)
      << "ICMP time exceeded";
  EXPECT_EQ(v4([](auto& p) {
              p[9] = kProtoIcmp;
              p[20] = 200;
            }),
            0u)
      << "unknown ICMP type";
  EXPECT_NE(v4([](auto& p) {
              p[9] = kProtoIcmp;
              p[20] = kIcmpEchoRequest;
            }),
            0u)
      << "echo is not an error";
  EXPECT_EQ(v4([](auto& p) {
              p[9] = kProtoIcmp;
              set_be16(p, 2, 20);
            }),
            0u)
      << "ICMP, type unknowable";
  EXPECT_EQ(v4([](auto& p) { p[12] = 224; }), 0u) << "multicast source";
  EXPECT_EQ(v4([](auto& p) { std::memset(&p[12], 0xff, 4); }), 0u) << "broadcast source";
  EXPECT_EQ(v4([](auto& p) { std::memset(&p[12], 0, 4); }), 0u) << "unspecified source";
  EXPECT_EQ(v4([](auto& p) { p[12] = 127; }), 0u) << "loopback source";
  EXPECT_EQ(v4([](auto& p) { p[16] = 239; }), 0u) << "multicast destination";
  EXPECT_EQ(v4([](auto& p) { std::memset(&p[16], 0xff, 4); }), 0u) << "broadcast destination";
  EXPECT_EQ(v4([](auto& p) { set_be16(p, 6, 0x4001); }), 0u) << "non-initial fragment";
  EXPECT_EQ(v4([](auto& p) { set_be16(p, 2, 19); }), 0u) << "total length below the header";
  EXPECT_EQ(v4([](auto& p) { p[0] = 0x44; }), 0u) << "IHL 16";

  EXPECT_EQ(v6([](auto& p) { p[40] = 1; }, kProtoIcmpv6), 0u) << "ICMPv6 destination unreachable";
  EXPECT_EQ(v6([](auto& p) { p[40] = 2; }, kProtoIcmpv6), 0u) << "ICMPv6 packet too big";
  EXPECT_NE(v6([](auto& p) { p[40] = kIcmp6EchoRequest; }, kProtoIcmpv6), 0u) << "echo is not an error";
  EXPECT_EQ(v6(
                [](auto& p) {
                  p[40] = kProtoIcmpv6;
                  p[41] = 0;
                  p[48] = 1;
                },
                0),
            0u)
      << "ICMPv6 error behind a hop-by-hop header";
  EXPECT_NE(v6(
                [](auto& p) {
                  p[40] = kProtoIcmpv6;
                  p[41] = 0;
                  p[48] = 128;
                },
                0),
            0u)
      << "echo behind one";
  EXPECT_EQ(v6(
                [](auto& p) {
                  p[40] = 60;
                  p[41] = 200;
                },
                0),
            0u)
      << "extension chain runs off the packet";
  EXPECT_NE(v6(
                [](auto& p) {
                  p[40] = kProtoIcmpv6;
                  set_be16(p, 42, 0x0008);
                  p[48] = 1;
                },
                44),
            0u)
      << "a later fragment has no ICMPv6 header to judge";
  EXPECT_EQ(v6([](auto& p) { p[8] = 0xff; }), 0u) << "multicast source";
  EXPECT_EQ(v6([](auto& p) { std::memset(&p[8], 0, 16); }), 0u) << "unspecified source";
  EXPECT_NE(v6([](auto& p) { p[24] = 0xff; }), 0u) << "a multicast destination may get a packet too big";

  const auto pkt4 = udp_v4(1500);
  const auto pkt6 = packet_v6(1500);
  EXPECT_EQ(build_too_big(out, kMac2, kMac1, us4, pkt4, kMinMtuV4 - 1), 0u);
  EXPECT_EQ(build_too_big(out, kMac2, kMac1, us6, pkt6, kMinMtuV6 - 1), 0u);
  EXPECT_EQ(build_too_big(out, kMac2, kMac1, us6, pkt4, 1420), 0u) << "family mismatch";
  EXPECT_EQ(build_too_big(out, kMac2, kMac1, us4, pkt6, 1420), 0u) << "family mismatch";
  EXPECT_EQ(build_too_big(out, kMac2, MacAddress::kBroadcast, us4, pkt4, 1420), 0u) << "group dst_mac";
  EXPECT_EQ(build_too_big(out, kMac2, kMac1, ip("224.0.0.1"), pkt4, 1420), 0u) << "from a group";
  auto bad_sum = pkt4;
  bad_sum[10] ^= 1;
  EXPECT_EQ(build_too_big(out, kMac2, kMac1, us4, bad_sum, 1420), 0u) << "IPv4 header checksum";

  for (std::size_t n = 0; n < kIpv4HeaderLen; ++n) {
    EXPECT_EQ(build_too_big(out, kMac2, kMac1, us4, std::span(pkt4).first(n), 1420), 0u) << n;
  }
  for (std::size_t n = 0; n < kIpv6HeaderLen; ++n) {
    EXPECT_EQ(build_too_big(out, kMac2, kMac1, us6, std::span(pkt6).first(n), 1420), 0u) << n;
  }
  for (std::size_t n = 0; n < kIcmpV4 + 8 + 28; ++n) {
    EXPECT_EQ(build_too_big(std::span(out).first(n), kMac2, kMac1, us4, pkt4, 1420), 0u) << "out " << n;
  }
  for (std::size_t n = 0; n < kL3 + 1280; ++n) {
    EXPECT_EQ(build_too_big(std::span(out).first(n), kMac2, kMac1, us6, pkt6, 1420), 0u) << "out " << n;
  }
}

// Time exceeded. The frame form is the IP form behind an Ethernet header; both are checked field by field.
void expect_time_exceeded_v4(std::span<const std::uint8_t> ip_pkt, std::span<const std::uint8_t> offending,
                             std::size_t quoted) {
  ASSERT_EQ(ip_pkt.size(), kIpv4HeaderLen + 8 + quoted);
  EXPECT_EQ(ip_pkt[0], 0x45);
  EXPECT_EQ(stored_be16(ip_pkt, 2), ip_pkt.size());
  EXPECT_EQ(ip_pkt[9], kProtoIcmp);
  EXPECT_EQ(stored_be16(ip_pkt, 10), ref_checksum(ip_pkt.first(kIpv4HeaderLen), 10)) << "IP header checksum";
  EXPECT_EQ(hex(ip_pkt.subspan(12, 4)), "c0000202") << "from our address";
  EXPECT_EQ(hex(ip_pkt.subspan(16, 4)), hex(offending.subspan(12, 4))) << "to the offending source";
  const auto icmp = ip_pkt.subspan(kIpv4HeaderLen);
  EXPECT_EQ(icmp[0], 11) << "time exceeded";
  EXPECT_EQ(icmp[1], 0) << "TTL exceeded in transit";
  EXPECT_EQ(stored_be16(icmp, 2), ref_checksum(icmp, 2)) << "ICMP checksum";
  EXPECT_EQ(hex(icmp.subspan(4, 4)), "00000000") << "unused";
  EXPECT_EQ(hex(icmp.subspan(8)), hex(offending.first(quoted)));
}

void expect_time_exceeded_v6(std::span<const std::uint8_t> ip_pkt, std::span<const std::uint8_t> offending,
                             std::size_t quoted) {
  ASSERT_EQ(ip_pkt.size(), kIpv6HeaderLen + 8 + quoted);
  EXPECT_EQ(ip_pkt[0] >> 4, 6);
  EXPECT_EQ(stored_be16(ip_pkt, 4), 8 + quoted);
  EXPECT_EQ(ip_pkt[6], kProtoIcmpv6);
  EXPECT_EQ(ip_pkt[7], kIcmpHopLimit);
  EXPECT_EQ(IpAddress::v6(&ip_pkt[8]), ip("2001:db8::2"));
  EXPECT_EQ(hex(ip_pkt.subspan(24, 16)), hex(offending.subspan(8, 16))) << "to the offending source";
  const auto icmp = ip_pkt.subspan(kIpv6HeaderLen);
  EXPECT_EQ(icmp[0], 3) << "time exceeded";
  EXPECT_EQ(icmp[1], 0) << "hop limit exceeded in transit";
  EXPECT_EQ(stored_be16(icmp, 2), ref_icmp6_checksum(&ip_pkt[8], &ip_pkt[24], icmp)) << "with the pseudo-header";
  EXPECT_EQ(hex(icmp.subspan(4, 4)), "00000000") << "unused";
  EXPECT_EQ(hex(icmp.subspan(8)), hex(offending.first(quoted)));
}

TEST(IcmpTimeExceeded, V4QuotesUpTo576Bytes) {
  std::vector<std::uint8_t> out(1600);
  // RFC 1812 4.3.2.3: as much as fits in 576 bytes, IP header included: 576 - 20 - 8 = 548 bytes quoted.
  const auto big = udp_v4(1500);
  std::size_t n = build_time_exceeded_ip(out, ip("192.0.2.2"), big);
  ASSERT_EQ(n, kMaxIcmpErrorLenV4);
  expect_time_exceeded_v4(std::span(out).first(n), big, 548);
  // A short packet is quoted whole; trailing link padding past the IP length is not part of it.
  auto small = udp_v4(100);
  small.resize(130, 0);
  n = build_time_exceeded_ip(out, ip("192.0.2.2"), small);
  expect_time_exceeded_v4(std::span(out).first(n), small, 100);
  // Quoting stops where the given bytes do (a chained mbuf's first segment).
  n = build_time_exceeded_ip(out, ip("192.0.2.2"), std::span(big).first(60));
  expect_time_exceeded_v4(std::span(out).first(n), big, 60);
  // Exactly at the limit and one past it.
  const auto fits = udp_v4(548);
  expect_time_exceeded_v4(std::span(out).first(build_time_exceeded_ip(out, ip("192.0.2.2"), fits)), fits, 548);
  const auto over = udp_v4(549);
  expect_time_exceeded_v4(std::span(out).first(build_time_exceeded_ip(out, ip("192.0.2.2"), over)), over, 548);
  // The TTL in the quote is the one received: time exceeded says it was 1, or 0.
  auto ttl1 = udp_v4(100);
  ttl1[8] = 1;
  set_be16(ttl1, 10, 0);
  set_be16(ttl1, 10, ref_checksum(std::span(ttl1).first(20), 10));
  n = build_time_exceeded_ip(out, ip("192.0.2.2"), ttl1);
  expect_time_exceeded_v4(std::span(out).first(n), ttl1, 100);
}

TEST(IcmpTimeExceeded, V6QuotesUpTo1280Bytes) {
  std::vector<std::uint8_t> out(1600);
  const IpAddress us = ip("2001:db8::2");
  // RFC 4443 2.4(c): the whole error within 1280 bytes: 1280 - 40 - 8 = 1232 bytes quoted.
  const auto big = packet_v6(1500);
  std::size_t n = build_time_exceeded_ip(out, us, big);
  ASSERT_EQ(n, kMaxIcmpErrorLenV6);
  expect_time_exceeded_v6(std::span(out).first(n), big, 1232);
  auto small = packet_v6(300);
  small.resize(400, 0);
  n = build_time_exceeded_ip(out, us, small);
  expect_time_exceeded_v6(std::span(out).first(n), small, 300);
  n = build_time_exceeded_ip(out, us, std::span(big).first(200));
  expect_time_exceeded_v6(std::span(out).first(n), big, 200);
  const auto over = packet_v6(1233);
  expect_time_exceeded_v6(std::span(out).first(build_time_exceeded_ip(out, us, over)), over, 1232);
}

TEST(IcmpTimeExceeded, FrameIsTheIpPacketBehindEthernet) {
  for (const auto& [pkt, us] : {std::pair{udp_v4(1500), ip("192.0.2.2")}, std::pair{udp_v4(40), ip("192.0.2.2")},
                                std::pair{packet_v6(1500), ip("2001:db8::2")},
                                std::pair{packet_v6(48), ip("2001:db8::2")}}) {
    std::vector<std::uint8_t> bare(1600), frame(1600);
    const std::size_t n = build_time_exceeded_ip(bare, us, pkt);
    ASSERT_NE(n, 0u);
    ASSERT_EQ(build_time_exceeded(frame, kMac2, kMac1, us, pkt), kL3 + n);
    EXPECT_EQ(MacAddress::from(frame.data()), kMac1);
    EXPECT_EQ(MacAddress::from(frame.data() + 6), kMac2);
    EXPECT_EQ(ether_type(frame), us.is_v4() ? kEtherTypeIpv4 : kEtherTypeIpv6);
    EXPECT_EQ(hex(std::span(frame).subspan(kL3, n)), hex(std::span(bare).first(n)));
  }
}

TEST(IcmpTimeExceeded, InPlace) {
  // Over the offending frame itself (packet at offset 14 of the buffer), and the bare packet over its own
  // buffer: the same bytes as when built elsewhere.
  for (const auto& [pkt, us] :
       {std::pair{udp_v4(1500), ip("192.0.2.2")}, std::pair{packet_v6(1500), ip("2001:db8::2")}}) {
    std::vector<std::uint8_t> separate(1600);
    const std::size_t n = build_time_exceeded(separate, kMac2, kMac1, us, pkt);
    ASSERT_NE(n, 0u);
    std::vector<std::uint8_t> buf(1600, 0);
    std::memcpy(buf.data() + kL3, pkt.data(), pkt.size());
    ASSERT_EQ(build_time_exceeded(buf, kMac2, kMac1, us, std::span(buf).subspan(kL3, pkt.size())), n);
    EXPECT_EQ(hex(std::span(buf).first(n)), hex(std::span(separate).first(n)));

    std::vector<std::uint8_t> own(pkt);
    own.resize(1600);
    ASSERT_EQ(build_time_exceeded_ip(own, us, std::span(own).first(pkt.size())), n - kL3);
    EXPECT_EQ(hex(std::span(own).first(n - kL3)), hex(std::span(separate).subspan(kL3, n - kL3)));
  }
}

TEST(IcmpTimeExceeded, ForbiddenErrorsRefused) {
  std::vector<std::uint8_t> out(1600);
  const IpAddress us4 = ip("192.0.2.2");
  const IpAddress us6 = ip("2001:db8::2");
  // Each case through both forms: they must agree on what they refuse.
  auto both = [&](const IpAddress& us, std::span<const std::uint8_t> p) {
    const std::size_t bare = build_time_exceeded_ip(out, us, p);
    const std::size_t framed = build_time_exceeded(out, kMac2, kMac1, us, p);
    EXPECT_EQ(framed == 0, bare == 0);
    return bare;
  };
  auto v4 = [&](auto&& change) {
    auto p = udp_v4(1500);
    change(p);
    set_be16(p, 10, 0);
    set_be16(p, 10, ref_checksum(std::span(p).first(20), 10));
    return both(us4, p);
  };
  auto v6 = [&](auto&& change, std::uint8_t next = 17) {
    auto p = packet_v6(1500, next);
    change(p);
    return both(us6, p);
  };
  EXPECT_NE(v4([](auto&) {}), 0u);
  EXPECT_NE(v6([](auto&) {}), 0u);

  // Never in answer to an ICMP error (RFC 1812 4.3.2.7, RFC 4443 2.4(e.1)).
  for (std::uint8_t type : {3, 4, 5, 11, 12, 19, 200}) {
    EXPECT_EQ(v4([type](auto& p) {
                p[9] = kProtoIcmp;
                p[20] = type;
              }),
              0u)
        << "ICMP type " << int{type};
  }
  for (std::uint8_t type : {kIcmpEchoRequest, kIcmpEchoReply}) {
    EXPECT_NE(v4([type](auto& p) {
                p[9] = kProtoIcmp;
                p[20] = type;
              }),
              0u)
        << "ICMP echo is not an error: type " << int{type};
  }
  EXPECT_EQ(v4([](auto& p) {
              p[9] = kProtoIcmp;
              set_be16(p, 2, 20);
            }),
            0u)
      << "ICMP, type unknowable";
  for (std::uint8_t type : {1, 2, 3, 4, 127}) {
    EXPECT_EQ(v6([type](auto& p) { p[40] = type; }, kProtoIcmpv6), 0u) << "ICMPv6 type " << int{type};
  }
  EXPECT_NE(v6([](auto& p) { p[40] = kIcmp6EchoRequest; }, kProtoIcmpv6), 0u) << "echo is not an error";
  EXPECT_EQ(v6(
                [](auto& p) {
                  p[40] = kProtoIcmpv6;
                  p[41] = 0;
                  p[48] = 3;
                },
                0),
            0u)
      << "ICMPv6 error behind a hop-by-hop header";
  EXPECT_EQ(v6(
                [](auto& p) {
                  p[40] = 60;
                  p[41] = 200;
                },
                0),
            0u)
      << "extension chain runs off the packet";

  // Sources that name no single host; group destinations (RFC 1812 4.3.2.7, RFC 4443 2.4(e.2, e.3)).
  EXPECT_EQ(v4([](auto& p) { p[12] = 224; }), 0u) << "multicast source";
  EXPECT_EQ(v4([](auto& p) { p[12] = 240; }), 0u) << "class E source";
  EXPECT_EQ(v4([](auto& p) { std::memset(&p[12], 0xff, 4); }), 0u) << "broadcast source";
  EXPECT_EQ(v4([](auto& p) { std::memset(&p[12], 0, 4); }), 0u) << "unspecified source";
  EXPECT_EQ(v4([](auto& p) { p[12] = 127; }), 0u) << "loopback source";
  EXPECT_EQ(v4([](auto& p) { p[16] = 239; }), 0u) << "multicast destination";
  EXPECT_EQ(v4([](auto& p) { std::memset(&p[16], 0xff, 4); }), 0u) << "broadcast destination";
  EXPECT_EQ(v6([](auto& p) { p[8] = 0xff; }), 0u) << "multicast source";
  EXPECT_EQ(v6([](auto& p) { std::memset(&p[8], 0, 16); }), 0u) << "unspecified source";
  EXPECT_EQ(v6([](auto& p) {
              std::memset(&p[8], 0, 16);
              p[23] = 1;
            }),
            0u)
      << "loopback source";
  EXPECT_EQ(v6([](auto& p) { p[24] = 0xff; }), 0u) << "multicast destination (unlike packet too big)";

  // Fragments and malformed headers.
  EXPECT_EQ(v4([](auto& p) { set_be16(p, 6, 0x4001); }), 0u) << "non-initial fragment";
  EXPECT_NE(v4([](auto& p) { set_be16(p, 6, 0x2000); }), 0u) << "the first fragment may get one";
  EXPECT_EQ(v4([](auto& p) { set_be16(p, 2, 19); }), 0u) << "total length below the header";
  EXPECT_EQ(v4([](auto& p) { p[0] = 0x44; }), 0u) << "IHL 16";
  auto bad_sum = udp_v4(1500);
  bad_sum[10] ^= 1;
  EXPECT_EQ(both(us4, bad_sum), 0u) << "IPv4 header checksum";

  // Our side: a unicast address of the packet's family, a unicast destination MAC.
  const auto pkt4 = udp_v4(1500);
  const auto pkt6 = packet_v6(1500);
  EXPECT_EQ(both(us6, pkt4), 0u) << "family mismatch";
  EXPECT_EQ(both(us4, pkt6), 0u) << "family mismatch";
  EXPECT_EQ(both(ip("224.0.0.1"), pkt4), 0u) << "from a group";
  EXPECT_EQ(both(ip("ff02::1"), pkt6), 0u) << "from a group";
  EXPECT_EQ(both(ip("::"), pkt6), 0u) << "from ::";
  EXPECT_EQ(build_time_exceeded(out, kMac2, MacAddress::kBroadcast, us4, pkt4), 0u) << "group dst_mac";
  EXPECT_EQ(build_time_exceeded(out, kMac2, MacAddress{{0x33, 0x33, 0, 0, 0, 1}}, us6, pkt6), 0u)
      << "group dst_mac";

  // Truncated input, and every output buffer one byte too small.
  EXPECT_EQ(both(us4, {}), 0u);
  for (std::size_t n = 0; n < kIpv4HeaderLen; ++n) EXPECT_EQ(both(us4, std::span(pkt4).first(n)), 0u) << n;
  for (std::size_t n = 0; n < kIpv6HeaderLen; ++n) EXPECT_EQ(both(us6, std::span(pkt6).first(n)), 0u) << n;
  auto icmp4 = udp_v4(1500);
  icmp4[9] = kProtoIcmp;
  icmp4[20] = kIcmpEchoRequest;
  set_be16(icmp4, 10, 0);
  set_be16(icmp4, 10, ref_checksum(std::span(icmp4).first(20), 10));
  EXPECT_EQ(both(us4, std::span(icmp4).first(20)), 0u) << "ICMP cut before its type";
  EXPECT_NE(both(us4, std::span(icmp4).first(21)), 0u);
  for (std::size_t n = 0; n < kMaxIcmpErrorLenV4; ++n) {
    EXPECT_EQ(build_time_exceeded_ip(std::span(out).first(n), us4, pkt4), 0u) << "out " << n;
  }
  for (std::size_t n = 0; n < kL3 + kMaxIcmpErrorLenV4; ++n) {
    EXPECT_EQ(build_time_exceeded(std::span(out).first(n), kMac2, kMac1, us4, pkt4), 0u) << "out " << n;
  }
  for (std::size_t n = 0; n < kMaxIcmpErrorLenV6; ++n) {
    EXPECT_EQ(build_time_exceeded_ip(std::span(out).first(n), us6, pkt6), 0u) << "out " << n;
  }
  for (std::size_t n = 0; n < kL3 + kMaxIcmpErrorLenV6; ++n) {
    EXPECT_EQ(build_time_exceeded(std::span(out).first(n), kMac2, kMac1, us6, pkt6), 0u) << "out " << n;
  }
  EXPECT_EQ(build_time_exceeded(std::span(out).first(kL3 + kMaxIcmpErrorLenV6), kMac2, kMac1, us6, pkt6),
            kL3 + kMaxIcmpErrorLenV6);
}

}  // namespace
}  // namespace wg::net
