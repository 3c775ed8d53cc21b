// ARP (RFC 826) builders and parser against frames Linux sent, round trips, and malformed input; plus the
// Ethernet helpers of lib/net/ethernet.h, which ARP is the simplest user of.
#include "lib/net/arp.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <vector>

#include "tests/lib/hex.h"

namespace wg::net {
namespace {

using wg::testing::from_hex;
using wg::testing::hex;

// Captured with tcpdump on a veth pair between two network namespaces (Linux 6.x): 192.0.2.1 at
// 02:00:00:00:00:01 asks for 192.0.2.2 at 02:00:00:00:00:02, which answers. 42 bytes each: the kernel
// leaves padding to the driver.
constexpr char kLinuxRequest[] =
    "ffffffffffff020000000001080600010800060400010200000000"
    "01c0000201000000000000c0000202";
constexpr char kLinuxReply[] =
    "020000000001020000000002080600010800060400020200000000"
    "02c0000202020000000001c0000201";

constexpr MacAddress kMac1{{0x02, 0, 0, 0, 0, 0x01}};
constexpr MacAddress kMac2{{0x02, 0, 0, 0, 0, 0x02}};

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(Ethernet, MacAddress) {
  EXPECT_EQ(kMac1.to_string(), "02:00:00:00:00:01");
  EXPECT_EQ((MacAddress{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}.to_string()), "aa:bb:cc:dd:ee:ff");
  EXPECT_TRUE(MacAddress::kBroadcast.is_broadcast());
  EXPECT_TRUE(MacAddress::kBroadcast.is_multicast());
  EXPECT_TRUE((MacAddress{{0x33, 0x33, 0, 0, 0, 1}}.is_multicast()));
  EXPECT_FALSE((MacAddress{{0x33, 0x33, 0, 0, 0, 1}}.is_broadcast()));
  EXPECT_FALSE(kMac1.is_multicast());
  EXPECT_FALSE(kMac1.is_broadcast());
  EXPECT_NE(kMac1, kMac2);
  EXPECT_EQ(kMac1, MacAddress::from(kMac1.bytes.data()));
}

TEST(Ethernet, HeaderAndPadding) {
  std::vector<std::uint8_t> frame(kEthernetMinFrameLen, 0xaa);
  write_ethernet(frame.data(), kMac1, kMac2, kEtherTypeIpv6);
  EXPECT_EQ(hex(std::span(frame).first(kEthernetHeaderLen)), "02000000000102000000000286dd");
  EXPECT_EQ(ether_type(frame), kEtherTypeIpv6);
  EXPECT_EQ(ether_type(std::span(frame).first(13)), 0);
  EXPECT_EQ(pad_frame(frame, 20), kEthernetMinFrameLen);
  EXPECT_EQ(frame[19], 0xaa);
  EXPECT_EQ(frame[20], 0);
  EXPECT_EQ(frame[59], 0);
  EXPECT_EQ(pad_frame(std::span(frame).first(59), 20), 0u) << "no room to pad";
  EXPECT_EQ(pad_frame(frame, 60), 60u);
  EXPECT_EQ(pad_frame(frame, 61), 0u) << "longer than the buffer";
}

TEST(Arp, ParsesLinuxFrames) {
  ArpInfo req;
  ASSERT_TRUE(parse_arp(from_hex(kLinuxRequest), req));
  EXPECT_EQ(req.op, kArpRequest);
  EXPECT_EQ(req.sender_mac, kMac1);
  EXPECT_EQ(req.sender_ip, ip("192.0.2.1"));
  EXPECT_EQ(req.target_mac, MacAddress{});
  EXPECT_EQ(req.target_ip, ip("192.0.2.2"));

  ArpInfo rep;
  ASSERT_TRUE(parse_arp(from_hex(kLinuxReply), rep));
  EXPECT_EQ(rep.op, kArpReply);
  EXPECT_EQ(rep.sender_mac, kMac2);
  EXPECT_EQ(rep.sender_ip, ip("192.0.2.2"));
  EXPECT_EQ(rep.target_mac, kMac1);
  EXPECT_EQ(rep.target_ip, ip("192.0.2.1"));
}

TEST(Arp, BuildsWhatLinuxSendsPadded) {
  std::vector<std::uint8_t> out(100, 0xee);
  ASSERT_EQ(build_arp_request(out, kMac1, ip("192.0.2.1"), ip("192.0.2.2")), kArpBuiltFrameLen);
  EXPECT_EQ(hex(std::span(out).first(kArpFrameLen)), kLinuxRequest);
  EXPECT_EQ(hex(std::span(out).subspan(kArpFrameLen, 18)), std::string(36, '0'));

  ArpInfo req;
  ASSERT_TRUE(parse_arp(from_hex(kLinuxRequest), req));
  std::vector<std::uint8_t> reply(kArpBuiltFrameLen);
  ASSERT_EQ(build_arp_reply(reply, kMac2, req), kArpBuiltFrameLen);
  EXPECT_EQ(hex(std::span(reply).first(kArpFrameLen)), kLinuxReply);
}

TEST(Arp, RoundTrip) {
  const MacAddress gw{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
  const MacAddress host{{0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef}};
  std::vector<std::uint8_t> frame(kArpBuiltFrameLen);
  ASSERT_EQ(build_arp_request(frame, host, ip("10.9.8.7"), ip("10.9.8.1")), kArpBuiltFrameLen);
  ArpInfo req;
  ASSERT_TRUE(parse_arp(frame, req)) << "padded frame";
  EXPECT_EQ(req.op, kArpRequest);
  EXPECT_EQ(req.sender_mac, host);
  EXPECT_EQ(req.target_ip, ip("10.9.8.1"));

  std::vector<std::uint8_t> reply(kArpBuiltFrameLen);
  ASSERT_EQ(build_arp_reply(reply, gw, req), kArpBuiltFrameLen);
  EXPECT_EQ(MacAddress::from(reply.data()), host) << "to the requester";
  EXPECT_EQ(MacAddress::from(reply.data() + 6), gw);
  ArpInfo rep;
  ASSERT_TRUE(parse_arp(reply, rep));
  EXPECT_EQ(rep.op, kArpReply);
  EXPECT_EQ(rep.sender_mac, gw);
  EXPECT_EQ(rep.sender_ip, ip("10.9.8.1"));
  EXPECT_EQ(rep.target_mac, host);
  EXPECT_EQ(rep.target_ip, ip("10.9.8.7"));
}

// A verification asks the MAC we hold, not the whole segment: only the Ethernet destination differs.
TEST(Arp, UnicastRequestGoesToTheMacHeld) {
  const MacAddress held{{0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc}};
  std::vector<std::uint8_t> bcast(kArpBuiltFrameLen), ucast(kArpBuiltFrameLen);
  ASSERT_EQ(build_arp_request(bcast, kMac1, ip("192.0.2.1"), ip("192.0.2.2")), kArpBuiltFrameLen);
  ASSERT_EQ(build_arp_request(ucast, kMac1, ip("192.0.2.1"), ip("192.0.2.2"), held), kArpBuiltFrameLen);
  EXPECT_EQ(MacAddress::from(ucast.data()), held);
  EXPECT_EQ(MacAddress::from(bcast.data()), MacAddress::kBroadcast);
  EXPECT_TRUE(std::equal(bcast.begin() + 6, bcast.end(), ucast.begin() + 6));
  ArpInfo req;
  ASSERT_TRUE(parse_arp(ucast, req));
  EXPECT_EQ(req.op, kArpRequest);
  EXPECT_EQ(req.target_ip, ip("192.0.2.2"));
}

TEST(Arp, EveryTruncationRefused) {
  const auto frame = from_hex(kLinuxRequest);
  for (std::size_t n = 0; n < frame.size(); ++n) {
    ArpInfo info;
    EXPECT_FALSE(parse_arp(std::span(frame).first(n), info)) << n;
  }
}

TEST(Arp, WrongFieldsRefused) {
  struct Case {
    std::size_t offset;
    std::uint8_t value;
    const char* what;
  };
  const Case cases[] = {
      {12, 0x86, "EtherType"},
      {14, 0x01, "htype 0x0101"},
      {16, 0x86, "ptype 0x86 00"},
      {18, 8, "hlen"},
      {19, 16, "plen"},
      {21, 0, "op 0"},
      {21, 3, "op 3 (RARP)"},
      {22, 0x01, "group sender MAC"},
  };
  for (const Case& c : cases) {
    auto frame = from_hex(kLinuxRequest);
    frame[c.offset] = c.value;
    ArpInfo info;
    EXPECT_FALSE(parse_arp(frame, info)) << c.what;
  }
}

TEST(Arp, BuildersRefuse) {
  ArpInfo req;
  ASSERT_TRUE(parse_arp(from_hex(kLinuxRequest), req));
  std::vector<std::uint8_t> out(kArpBuiltFrameLen);
  for (std::size_t n = 0; n < kArpBuiltFrameLen; ++n) {
    EXPECT_EQ(build_arp_reply(std::span(out).first(n), kMac2, req), 0u) << n;
    EXPECT_EQ(build_arp_request(std::span(out).first(n), kMac1, ip("192.0.2.1"), ip("192.0.2.2")), 0u) << n;
  }
  ArpInfo rep;
  ASSERT_TRUE(parse_arp(from_hex(kLinuxReply), rep));
  EXPECT_EQ(build_arp_reply(out, kMac1, rep), 0u) << "a reply is not answered";
  ArpInfo v6 = req;
  v6.target_ip = ip("2001:db8::1");
  EXPECT_EQ(build_arp_reply(out, kMac2, v6), 0u);
  ArpInfo group = req;
  group.sender_mac = MacAddress::kBroadcast;
  EXPECT_EQ(build_arp_reply(out, kMac2, group), 0u);
  EXPECT_EQ(build_arp_request(out, kMac1, ip("2001:db8::1"), ip("192.0.2.2")), 0u);
  EXPECT_EQ(build_arp_request(out, kMac1, ip("192.0.2.1"), ip("2001:db8::2")), 0u);
}

}  // namespace
}  // namespace wg::net
