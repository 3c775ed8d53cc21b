// IPv6 Neighbor Discovery (RFC 4861) for the gateway's own addresses: parse Neighbor Solicitations and
// Advertisements, answer a solicitation, and solicit a next hop's MAC. Only the address-resolution part of
// NDP; routers, redirects and prefixes are not ours to speak. Whole Ethernet frames, no allocation; what to
// answer and what to learn is the caller's (control/) decision.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "lib/net/ethernet.h"
#include "lib/net/inet.h"
#include "lib/net/ip.h"

namespace wg::net {

inline constexpr std::uint8_t kNdpNeighborSolicit = 135;
inline constexpr std::uint8_t kNdpNeighborAdvert = 136;
// RFC 4861 section 7.1: a hop limit below 255 means the message crossed a router, so it is not from a
// neighbour and is dropped; ours are sent with 255.
inline constexpr std::uint8_t kNdpHopLimit = 255;
inline constexpr std::uint8_t kNdpOptSourceLinkAddr = 1;
inline constexpr std::uint8_t kNdpOptTargetLinkAddr = 2;
inline constexpr std::uint8_t kNdpFlagRouter = 0x80;
inline constexpr std::uint8_t kNdpFlagSolicited = 0x40;
inline constexpr std::uint8_t kNdpFlagOverride = 0x20;
// ICMPv6 type, code, checksum, 4 bytes of flags/reserved, the 16-byte target: the same for NS and NA.
inline constexpr std::size_t kNdpMessageLen = 24;
// A link-layer address option for Ethernet: type, length 1 (in units of 8 bytes), 6-byte MAC.
inline constexpr std::size_t kNdpLinkAddrOptLen = 8;
// What the builders return (less kNdpLinkAddrOptLen for a DAD solicitation, which carries no option).
inline constexpr std::size_t kNdpFrameLen =
    kEthernetHeaderLen + kIpv6HeaderLen + kNdpMessageLen + kNdpLinkAddrOptLen;
static_assert(kNdpFrameLen == 86);

struct NdpInfo {
  std::uint8_t type = 0;  // kNdpNeighborSolicit or kNdpNeighborAdvert
  IpAddress src, dst, target;
  bool has_lladdr = false;
  MacAddress
      lladdr;  // source link-layer address option for an NS, target link-layer address option for an NA
  bool solicited = false;      // NA only
  bool override_flag = false;  // NA only
};

// Parses a Neighbor Solicitation or Advertisement with the checks of RFC 4861 sections 7.1.1 and 7.1.2:
// next header 58 directly (no extension headers), hop limit 255, valid ICMPv6 checksum, code 0, ICMP length
// at least 24, target not multicast, every option with a nonzero length that stays inside the message. Also
// refused: a multicast source; an NS from :: (duplicate address detection) not sent to a solicited-node
// address or carrying a source link-layer option; a solicited NA to a multicast address; a link-layer option
// that is not 6 bytes or holds a group MAC. Of repeated link-layer options the first counts, as in Linux;
// unknown options are skipped (RFC 4861 section 4.6).
bool parse_ndp(std::span<const std::uint8_t> frame, NdpInfo& out);

// Answers `solicitation` (an NS): an NA from our_ip/our_mac for solicitation.target (the caller checks that
// the target is ours), with the override flag and a target link-layer option. Sent to the solicitation's
// source at `dst_mac` (its source link-layer option, or the Ethernet source of its frame), solicited flag
// set. For an NS from :: (DAD), RFC 4861 section 7.2.4: to all-nodes ff02::1 at 33:33:00:00:00:01 with the
// solicited flag clear; `dst_mac` is then unused. Returns kNdpFrameLen, 0 if `out` is too small or the inputs
// cannot make a valid NA (not an NS, not IPv6, a group `dst_mac` for a unicast reply).
std::size_t build_neighbor_advert(std::span<std::uint8_t> out, const MacAddress& our_mac,
                                  const IpAddress& our_ip, const NdpInfo& solicitation,
                                  const MacAddress& dst_mac);

// Builds an NS asking for `target`'s MAC, to its solicited-node address and that group's MAC, with a source
// link-layer option. If our_ip is :: (our own DAD probe) the option is left out as RFC 4861 section 7.2.2
// requires, and the frame is kNdpLinkAddrOptLen shorter. Returns the frame length, 0 if `out` is too small or
// an address is not IPv6 or `target` is not a unicast address. With `unicast`, the NS goes to `target` itself
// at that MAC (neighbour unreachability detection, RFC 4861 7.3.3): only the MAC we hold can answer.
std::size_t build_neighbor_solicit(std::span<std::uint8_t> out, const MacAddress& our_mac,
                                   const IpAddress& our_ip, const IpAddress& target,
                                   const std::optional<MacAddress>& unicast = std::nullopt);

// ff02::1:ffXX:XXXX with the low 24 bits of `v6` (RFC 4291 section 2.7.1).
IpAddress solicited_node(const IpAddress& v6);

// 33:33 followed by the low 32 bits of the IPv6 multicast address `v6` (RFC 2464 section 7).
MacAddress multicast_mac(const IpAddress& v6);

}  // namespace wg::net
