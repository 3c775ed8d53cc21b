// The ICMP the gateway itself speaks on its DPDK ports: echo replies for its own addresses (ICMPv4, RFC 792 /
// RFC 1122 section 3.2.2.6; ICMPv6, RFC 4443 section 4.2), "packet too big" errors for inner packets
// larger than the tunnel MTU (ICMPv4 fragmentation needed, RFC 1191; ICMPv6 packet too big, RFC 4443
// section 3.2), so that senders' path MTU discovery works across the tunnel, and "time exceeded" for packets
// whose TTL / hop limit runs out at the gateway (RFC 1812 section 5.3.1; RFC 4443 section 3.3), so that
// traceroute sees it and loops end. Whole Ethernet frames out (time exceeded also as a bare IP packet, for
// the tunnel), no allocation; the caller (control/) decides whether a request is for one of our addresses
// and rate-limits errors (RFC 1812 section 4.3.2.8, RFC 4443 section 2.4(f)).
#pragma once

#include <cstdint>
#include <span>

#include "lib/net/ethernet.h"
#include "lib/net/ip.h"

namespace wg::net {

inline constexpr std::uint8_t kIcmpDestUnreachable = 3;
inline constexpr std::uint8_t kIcmpFragNeeded = 4;  // code of kIcmpDestUnreachable
inline constexpr std::uint8_t kIcmpTimeExceeded = 11;
inline constexpr std::uint8_t kIcmpTtlExceededInTransit = 0;  // code of kIcmpTimeExceeded
inline constexpr std::uint8_t kIcmp6PacketTooBig = 2;
inline constexpr std::uint8_t kIcmp6TimeExceeded = 3;
inline constexpr std::uint8_t kIcmp6HopLimitExceeded = 0;  // code of kIcmp6TimeExceeded
inline constexpr std::uint8_t kIcmp6EchoRequest = 128;
inline constexpr std::uint8_t kIcmp6EchoReply = 129;
// Hop limit / TTL of what we originate (the Linux default).
inline constexpr std::uint8_t kIcmpHopLimit = 64;
// ICMPv4 carries a 16-bit next-hop MTU and no host may have less than 68 (RFC 791); IPv6 links carry at
// least 1280 (RFC 8200 section 5), and an IPv6 error must fit in 1280 bytes (RFC 4443 section 2.4(c)).
inline constexpr std::uint16_t kMinMtuV4 = 68;
inline constexpr std::uint16_t kMinMtuV6 = 1280;
// The longest error we send, its IP header included: RFC 1812 section 4.3.2.3 (576 for ICMPv4) and RFC 4443
// section 2.4(c) (1280 for ICMPv6). An error frame is at most kEthernetHeaderLen + kMaxIcmpErrorLenV6.
inline constexpr std::size_t kMaxIcmpErrorLenV4 = 576;
inline constexpr std::size_t kMaxIcmpErrorLenV6 = 1280;

// Answers an ICMPv4 echo request (type 8) or ICMPv6 echo request (type 128) in `request_frame` with the
// matching reply (type 0 / 129) from `our_mac` to the request's Ethernet source: addresses swapped, same
// identifier, sequence and data, checksums recomputed. Lengths come from the IP header, so Ethernet padding
// is ignored. The request must be valid: IP and ICMP checksums, no IPv4 fragment, next header 58 directly for
// IPv6, code 0, unicast source and destination (a reply to a group address would come from one). IPv4
// options are not echoed (RFC 1122 lets us drop them). `out` may be the request's own buffer: the reply is
// then built in place. Returns the reply's length (padded to kEthernetMinFrameLen), 0 if the request is not a
// valid echo request or `out` is too small.
std::size_t build_echo_reply(std::span<std::uint8_t> out, std::span<const std::uint8_t> request_frame,
                             const MacAddress& our_mac);

// Tells the source of `offending_ip_packet` (an IPv4 or IPv6 packet, no Ethernet header, of our_ip's family)
// that it must fit in `mtu`: ICMPv4 type 3 code 4 with the next-hop MTU (RFC 1191 section 4), quoting the IP
// header and the first 8 bytes of its payload; or ICMPv6 type 2 with the MTU (RFC 4443 section 3.2), quoting
// as much of the packet as keeps the error within 1280 bytes. From our_ip/src_mac to the packet's source at
// dst_mac. `offending_ip_packet` may be only the packet's first bytes (a chained mbuf's first segment): the
// quote stops at the IP length or at what is given, whichever comes first. Returns 0, sending nothing, where
// RFC 1122 section 3.2.2 and RFC 4443 section 2.4(e) forbid an error: the packet is itself an ICMP error
// (or too short to tell), an IPv4 non-initial fragment, from an unspecified, loopback, multicast or broadcast
// source, or (IPv4 only) to a multicast or broadcast destination. Also 0 for a malformed packet, an mtu below
// kMinMtuV4 / kMinMtuV6, a group dst_mac, or too small an `out`. `out` may overlap the packet.
std::size_t build_too_big(std::span<std::uint8_t> out, const MacAddress& src_mac, const MacAddress& dst_mac,
                          const IpAddress& our_ip, std::span<const std::uint8_t> offending_ip_packet,
                          std::uint16_t mtu);

// Tells the source of `offending_ip_packet` (an IPv4 or IPv6 packet, no Ethernet header, of own_address's
// family) that its TTL / hop limit ran out here: ICMPv4 type 11 code 0 (RFC 792, RFC 1812 section 5.3.1) or
// ICMPv6 type 3 code 0 (RFC 4443 section 3.3), from own_address to the packet's source, quoting as much of
// the packet as keeps the error within kMaxIcmpErrorLenV4 / kMaxIcmpErrorLenV6 (RFC 1812 section 4.3.2.3,
// RFC 4443 section 2.4(c)). Pass the packet as received, TTL not decremented. The quote stops at the IP
// length or at what is given, whichever comes first. Written as a bare IP packet at `out` (for the tunnel: the
// caller encrypts it to the peer whose AllowedIPs hold the packet's source). Returns its length, or 0, sending
// nothing, where RFC 1812 section 4.3.2.7 and RFC 4443 section 2.4(e) forbid an error: the packet is itself an
// ICMP error (or too short to tell), an IPv4 non-initial fragment, from an unspecified, loopback, multicast or
// broadcast source, or to a multicast (or, IPv4, broadcast) destination. Also 0 for a malformed packet (IPv4:
// a bad header checksum), an own_address that is not unicast, a family mismatch, or too small an `out`.
// (Frames that arrived as link-layer broadcast or multicast must not get one either: the caller knows.)
// `out` may overlap the packet.
std::size_t build_time_exceeded_ip(std::span<std::uint8_t> out, const IpAddress& own_address,
                                   std::span<const std::uint8_t> offending_ip_packet);

// The same as a whole Ethernet frame from our_mac to dst_mac (the inside direction: dst_mac is the offending
// frame's source), padded to kEthernetMinFrameLen. 0 also for a group dst_mac.
std::size_t build_time_exceeded(std::span<std::uint8_t> out, const MacAddress& our_mac, const MacAddress& dst_mac,
                                const IpAddress& own_address, std::span<const std::uint8_t> offending_ip_packet);

}  // namespace wg::net
