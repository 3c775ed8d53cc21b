// ARP for IPv4 over Ethernet (RFC 826): parse requests and replies, build the reply that answers for one of
// our addresses and the broadcast request that resolves a next hop. Whole Ethernet frames, no allocation;
// what to answer and what to learn is the caller's (control/) decision.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "lib/net/ethernet.h"
#include "lib/net/ip.h"

namespace wg::net {

inline constexpr std::uint16_t kArpHtypeEthernet = 1;
inline constexpr std::uint16_t kArpRequest = 1;
inline constexpr std::uint16_t kArpReply = 2;
// htype, ptype, hlen, plen, op, then sender and target hardware/protocol addresses: 8 + 2 * (6 + 4).
inline constexpr std::size_t kArpPacketLen = 28;
inline constexpr std::size_t kArpFrameLen = kEthernetHeaderLen + kArpPacketLen;
static_assert(kArpFrameLen == 42);
// What the builders return: the frame padded to the 802.3 minimum (see pad_frame for why).
inline constexpr std::size_t kArpBuiltFrameLen = kEthernetMinFrameLen;

struct ArpInfo {
  std::uint16_t op = 0;  // kArpRequest or kArpReply
  MacAddress sender_mac;
  IpAddress sender_ip;
  MacAddress target_mac;  // zero in a request (ignored by receivers, RFC 5227 section 2.1.1)
  IpAddress target_ip;
};

// Parses an Ethernet/IPv4 ARP request or reply (htype 1, ptype 0x0800, hlen 6, plen 4, op 1 or 2). Bytes past
// the 42 that ARP uses are Ethernet padding and ignored. False for anything else, and for a group sender MAC:
// learning one would send a neighbour's traffic to every port.
bool parse_arp(std::span<const std::uint8_t> frame, ArpInfo& out);

// Builds the reply to `request` saying that request.target_ip is at `our_mac`, sent to the requester's MAC
// (request.sender_mac). The caller checks that target_ip is ours. Returns kArpBuiltFrameLen, or 0 if `out`
// is too small or `request` is not an IPv4 request from a unicast MAC.
std::size_t build_arp_reply(std::span<std::uint8_t> out, const MacAddress& our_mac, const ArpInfo& request);

// Builds a request asking for `target`'s MAC, from our_ip/our_mac: broadcast, or sent to `unicast` alone to
// check that the MAC we hold still answers (RFC 1122 2.3.2.1's unicast poll). Returns kArpBuiltFrameLen, or
// 0 if `out` is too small or an address is not IPv4.
std::size_t build_arp_request(std::span<std::uint8_t> out, const MacAddress& our_mac, const IpAddress& our_ip,
                              const IpAddress& target, const std::optional<MacAddress>& unicast = std::nullopt);

}  // namespace wg::net
