// Neighbor Discovery (RFC 4861) builders and parser: byte-exact against an NS/NA exchange Linux sent, round
// trips with checksums recomputed by a reference, duplicate address detection, and the RFC's validity checks
// on malformed messages.
#include "lib/net/ndp.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/lib/hex.h"
#include "tests/lib/net/checksum_ref.h"

namespace wg::net {
namespace {

using wg::testing::from_hex;
using wg::testing::hex;
using wg::testing::ref_icmp6_checksum;
using wg::testing::stored_be16;

// Captured with tcpdump on a veth pair between two network namespaces (Linux 6.x, DAD off): 2001:db8::1 at
// 02:00:00:00:00:01 solicits 2001:db8::2 at 02:00:00:00:00:02, which advertises itself.
constexpr char kLinuxNs[] =
    "3333ff00000202000000000186dd6000000000203aff20010db8000000000000000000000001ff0200000000000000000001ff00"
    "00"
    "0287001c270000000020010db80000000000000000000000020101020000000001";
constexpr char kLinuxNa[] =
    "02000000000102000000000286dd6000000000203aff20010db800000000000000000000000220010db800000000000000000000"
    "000188008a716000000020010db80000000000000000000000020201020000000002";

constexpr MacAddress kMac1{{0x02, 0, 0, 0, 0, 0x01}};
constexpr MacAddress kMac2{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::size_t kIcmp = kEthernetHeaderLen + kIpv6HeaderLen;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

// Fixes the IPv6 payload length and the ICMPv6 checksum after a test edited the message (the reference code
// computes the checksum, so the parser sees a well-formed checksum and must find the other flaw).
void reseal(std::vector<std::uint8_t>& frame) {
  const std::size_t len = frame.size() - kIcmp;
  frame[18] = static_cast<std::uint8_t>(len >> 8);
  frame[19] = static_cast<std::uint8_t>(len);
  const std::uint16_t sum = ref_icmp6_checksum(&frame[22], &frame[38], std::span(frame).subspan(kIcmp));
  frame[kIcmp + 2] = static_cast<std::uint8_t>(sum >> 8);
  frame[kIcmp + 3] = static_cast<std::uint8_t>(sum);
}

void expect_checksum_ok(std::span<const std::uint8_t> frame) {
  const auto icmp = frame.subspan(kIcmp);
  EXPECT_EQ(stored_be16(icmp, 2), ref_icmp6_checksum(&frame[22], &frame[38], icmp));
}

TEST(Ndp, SolicitedNodeAndMulticastMac) {
  EXPECT_EQ(solicited_node(ip("2001:db8::2")), ip("ff02::1:ff00:2"));
  EXPECT_EQ(solicited_node(ip("fe80::1234:56ff:fe78:9abc")), ip("ff02::1:ff78:9abc"));
  EXPECT_EQ(multicast_mac(ip("ff02::1:ff78:9abc")).to_string(), "33:33:ff:78:9a:bc");
  EXPECT_EQ(multicast_mac(ip("ff02::1")).to_string(), "33:33:00:00:00:01");
}

TEST(Ndp, ParsesLinuxFrames) {
  NdpInfo ns;
  ASSERT_TRUE(parse_ndp(from_hex(kLinuxNs), ns));
  EXPECT_EQ(ns.type, kNdpNeighborSolicit);
  EXPECT_EQ(ns.src, ip("2001:db8::1"));
  EXPECT_EQ(ns.dst, ip("ff02::1:ff00:2"));
  EXPECT_EQ(ns.target, ip("2001:db8::2"));
  EXPECT_TRUE(ns.has_lladdr);
  EXPECT_EQ(ns.lladdr, kMac1);
  EXPECT_FALSE(ns.solicited);

  NdpInfo na;
  ASSERT_TRUE(parse_ndp(from_hex(kLinuxNa), na));
  EXPECT_EQ(na.type, kNdpNeighborAdvert);
  EXPECT_EQ(na.src, ip("2001:db8::2"));
  EXPECT_EQ(na.dst, ip("2001:db8::1"));
  EXPECT_EQ(na.target, ip("2001:db8::2"));
  EXPECT_TRUE(na.has_lladdr);
  EXPECT_EQ(na.lladdr, kMac2);
  EXPECT_TRUE(na.solicited);
  EXPECT_TRUE(na.override_flag);
}

TEST(Ndp, BuildsWhatLinuxSends) {
  std::vector<std::uint8_t> out(200);
  ASSERT_EQ(build_neighbor_solicit(out, kMac1, ip("2001:db8::1"), ip("2001:db8::2")), kNdpFrameLen);
  EXPECT_EQ(hex(std::span(out).first(kNdpFrameLen)), kLinuxNs);

  NdpInfo ns;
  ASSERT_TRUE(parse_ndp(from_hex(kLinuxNs), ns));
  ASSERT_EQ(build_neighbor_advert(out, kMac2, ip("2001:db8::2"), ns, ns.lladdr), kNdpFrameLen);
  EXPECT_EQ(hex(std::span(out).first(kNdpFrameLen)), kLinuxNa);
}

// Neighbour unreachability detection (RFC 4861 7.3.3): the NS goes to the address itself at the MAC held.
TEST(Ndp, UnicastSolicitGoesToTheAddressAtTheMacHeld) {
  const MacAddress held{{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}};
  std::vector<std::uint8_t> frame(kNdpFrameLen);
  ASSERT_EQ(build_neighbor_solicit(frame, kMac1, ip("2001:db8::1"), ip("2001:db8::2"), held), kNdpFrameLen);
  expect_checksum_ok(frame);
  EXPECT_EQ(MacAddress::from(frame.data()), held);
  NdpInfo ns;
  ASSERT_TRUE(parse_ndp(frame, ns));
  EXPECT_EQ(ns.dst, ip("2001:db8::2"));
  EXPECT_EQ(ns.target, ip("2001:db8::2"));
  EXPECT_EQ(ns.lladdr, kMac1);
}

TEST(Ndp, RoundTrip) {
  const MacAddress gw{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
  const MacAddress host{{0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef}};
  const IpAddress gw_ip = ip("fd00:1:2:3::1");
  const IpAddress host_ip = ip("fe80::21b:21ff:feab:cdef");

  std::vector<std::uint8_t> ns_frame(kNdpFrameLen);
  ASSERT_EQ(build_neighbor_solicit(ns_frame, host, host_ip, gw_ip), kNdpFrameLen);
  expect_checksum_ok(ns_frame);
  EXPECT_EQ(MacAddress::from(ns_frame.data()).to_string(), "33:33:ff:00:00:01");
  EXPECT_EQ(ns_frame[21], 255) << "hop limit";
  NdpInfo ns;
  ASSERT_TRUE(parse_ndp(ns_frame, ns));
  EXPECT_EQ(ns.src, host_ip);
  EXPECT_EQ(ns.dst, ip("ff02::1:ff00:1"));
  EXPECT_EQ(ns.target, gw_ip);
  EXPECT_EQ(ns.lladdr, host);

  std::vector<std::uint8_t> na_frame(kNdpFrameLen);
  ASSERT_EQ(build_neighbor_advert(na_frame, gw, gw_ip, ns, ns.lladdr), kNdpFrameLen);
  expect_checksum_ok(na_frame);
  EXPECT_EQ(MacAddress::from(na_frame.data()), host);
  EXPECT_EQ(MacAddress::from(na_frame.data() + 6), gw);
  NdpInfo na;
  ASSERT_TRUE(parse_ndp(na_frame, na));
  EXPECT_EQ(na.type, kNdpNeighborAdvert);
  EXPECT_EQ(na.src, gw_ip);
  EXPECT_EQ(na.dst, host_ip);
  EXPECT_EQ(na.target, gw_ip);
  EXPECT_TRUE(na.has_lladdr);
  EXPECT_EQ(na.lladdr, gw);
  EXPECT_TRUE(na.solicited);
  EXPECT_TRUE(na.override_flag);

  // Link padding after the IPv6 payload length is ignored.
  na_frame.resize(na_frame.size() + 10, 0);
  EXPECT_TRUE(parse_ndp(na_frame, na));
}

TEST(Ndp, DuplicateAddressDetection) {
  const IpAddress tentative = ip("2001:db8::77");
  std::vector<std::uint8_t> ns_frame(kNdpFrameLen);
  const std::size_t n = build_neighbor_solicit(ns_frame, kMac1, ip("::"), tentative);
  ASSERT_EQ(n, kNdpFrameLen - kNdpLinkAddrOptLen) << "RFC 4861 7.2.2: no source link-layer option from ::";
  ns_frame.resize(n);
  expect_checksum_ok(ns_frame);
  NdpInfo ns;
  ASSERT_TRUE(parse_ndp(ns_frame, ns));
  EXPECT_EQ(ns.src, ip("::"));
  EXPECT_EQ(ns.dst, solicited_node(tentative));
  EXPECT_FALSE(ns.has_lladdr);

  std::vector<std::uint8_t> na_frame(kNdpFrameLen);
  ASSERT_EQ(build_neighbor_advert(na_frame, kMac2, tentative, ns, kMac1), kNdpFrameLen);
  expect_checksum_ok(na_frame);
  EXPECT_EQ(MacAddress::from(na_frame.data()).to_string(), "33:33:00:00:00:01") << "dst_mac unused";
  NdpInfo na;
  ASSERT_TRUE(parse_ndp(na_frame, na));
  EXPECT_EQ(na.dst, ip("ff02::1"));
  EXPECT_FALSE(na.solicited) << "RFC 4861 7.2.4";
  EXPECT_TRUE(na.override_flag);
  EXPECT_EQ(na.lladdr, kMac2);

  // A DAD probe must go to the solicited-node group and carry no source link-layer option.
  auto unicast = ns_frame;
  std::memcpy(&unicast[38], tentative.bytes.data(), 16);
  reseal(unicast);
  EXPECT_FALSE(parse_ndp(unicast, ns));
  auto with_option = ns_frame;
  with_option.insert(with_option.end(), {1, 1, 2, 0, 0, 0, 0, 1});
  reseal(with_option);
  EXPECT_FALSE(parse_ndp(with_option, ns));
}

TEST(Ndp, EveryTruncationRefused) {
  for (const char* text : {kLinuxNs, kLinuxNa}) {
    const auto frame = from_hex(text);
    for (std::size_t n = 0; n < frame.size(); ++n) {
      NdpInfo info;
      EXPECT_FALSE(parse_ndp(std::span(frame).first(n), info)) << n;
    }
  }
}

TEST(Ndp, EveryBitFlipRefused) {
  // From the payload length on, every field is checked or covered by the checksum.
  const auto frame = from_hex(kLinuxNs);
  for (std::size_t i = 18; i < frame.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto copy = frame;
      copy[i] ^= static_cast<std::uint8_t>(1 << bit);
      NdpInfo info;
      EXPECT_FALSE(parse_ndp(copy, info)) << i << " bit " << bit;
    }
  }
}

TEST(Ndp, InvalidMessagesRefused) {
  const auto ns = from_hex(kLinuxNs);
  const auto na = from_hex(kLinuxNa);
  NdpInfo info;
  auto edit = [](std::vector<std::uint8_t> frame, auto&& change) {
    change(frame);
    reseal(frame);
    return frame;
  };
  // Sanity: resealing an unchanged frame keeps it valid.
  EXPECT_TRUE(parse_ndp(edit(ns, [](auto&) {}), info));

  auto hop_limit = ns;
  hop_limit[21] = 254;  // not in the pseudo-header: the checksum stays valid
  EXPECT_FALSE(parse_ndp(hop_limit, info)) << "crossed a router";

  auto bad_sum = ns;
  bad_sum[kIcmp + 3] ^= 1;
  EXPECT_FALSE(parse_ndp(bad_sum, info)) << "checksum";

  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[kIcmp + 1] = 1; }), info)) << "code 1";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[kIcmp] = 137; }), info)) << "redirect";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[20] = 0; }), info)) << "hop-by-hop header first";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[14] = 0x40; }), info)) << "IP version 4";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[kIcmp + 8] = 0xff; }), info)) << "multicast target";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[22] = 0xff; }), info)) << "multicast source";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f.resize(kIcmp + 20); }), info)) << "shorter than 24";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[kIcmp + 25] = 0; }), info)) << "zero-length option";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[kIcmp + 25] = 2; }), info)) << "option overruns";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f.push_back(14); }), info)) << "1-byte option tail";
  EXPECT_FALSE(parse_ndp(edit(ns, [](auto& f) { f[kIcmp + 26] = 0x01; }), info)) << "group lladdr";
  EXPECT_FALSE(parse_ndp(edit(ns,
                              [](auto& f) {
                                f[kIcmp + 25] = 2;  // a 16-byte source link-layer option
                                f.insert(f.end(), 8, 0);
                              }),
                         info))
      << "link-layer option not 6 bytes";
  EXPECT_FALSE(parse_ndp(edit(na,
                              [](auto& f) {
                                const auto all_nodes = ip("ff02::1");
                                std::memcpy(&f[38], all_nodes.bytes.data(), 16);
                              }),
                         info))
      << "solicited NA to a group";

  // Unknown options are skipped; the first link-layer option counts.
  const auto extra = edit(ns, [](auto& f) {
    f.insert(f.begin() + kIcmp + 24, {14, 1, 1, 2, 3, 4, 5, 6});    // nonce (RFC 3971)
    f.insert(f.end(), {1, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55});  // a second source link-layer option
  });
  ASSERT_TRUE(parse_ndp(extra, info));
  EXPECT_EQ(info.lladdr, kMac1);
  const auto no_option = edit(ns, [](auto& f) { f.resize(kIcmp + 24); });
  ASSERT_TRUE(parse_ndp(no_option, info));
  EXPECT_FALSE(info.has_lladdr);
}

TEST(Ndp, BuildersRefuse) {
  NdpInfo ns;
  ASSERT_TRUE(parse_ndp(from_hex(kLinuxNs), ns));
  const IpAddress us = ip("2001:db8::2");
  std::vector<std::uint8_t> out(kNdpFrameLen);
  for (std::size_t n = 0; n < kNdpFrameLen; ++n) {
    EXPECT_EQ(build_neighbor_advert(std::span(out).first(n), kMac2, us, ns, kMac1), 0u) << n;
    EXPECT_EQ(build_neighbor_solicit(std::span(out).first(n), kMac1, ip("2001:db8::1"), us), 0u) << n;
  }
  NdpInfo na;
  ASSERT_TRUE(parse_ndp(from_hex(kLinuxNa), na));
  EXPECT_EQ(build_neighbor_advert(out, kMac1, us, na, kMac2), 0u) << "an NA is not answered";
  EXPECT_EQ(build_neighbor_advert(out, kMac2, us, ns, MacAddress::kBroadcast), 0u);
  EXPECT_EQ(build_neighbor_advert(out, kMac2, ip("192.0.2.2"), ns, kMac1), 0u);
  EXPECT_EQ(build_neighbor_advert(out, kMac2, ip("ff02::2"), ns, kMac1), 0u);
  EXPECT_EQ(build_neighbor_solicit(out, kMac1, ip("2001:db8::1"), ip("ff02::1")), 0u);
  EXPECT_EQ(build_neighbor_solicit(out, kMac1, ip("2001:db8::1"), ip("::")), 0u);
  EXPECT_EQ(build_neighbor_solicit(out, kMac1, ip("192.0.2.1"), us), 0u);
}

}  // namespace
}  // namespace wg::net
