// Internet checksums (RFC 1071, and ICMPv6's with its pseudo-header) and the few IPv4/IPv6/ICMP layouts the
// protocol tools and the control plane build by hand. Byte-oriented and alignment-free, so it works on any
// buffer.
#pragma once

#include <cstdint>
#include <span>

namespace wg::net {

inline constexpr std::size_t kIpv4HeaderLen = 20;
inline constexpr std::size_t kIcmpEchoHeaderLen = 8;
inline constexpr std::uint8_t kProtoIcmp = 1;
inline constexpr std::uint8_t kIcmpEchoReply = 0;
inline constexpr std::uint8_t kIcmpEchoRequest = 8;
inline constexpr std::size_t kIpv6HeaderLen = 40;
inline constexpr std::uint8_t kProtoIcmpv6 = 58;

// One's-complement sum of `data` folded to 16 bits and complemented (RFC 1071).
std::uint16_t inet_checksum(std::span<const std::uint8_t> data);

// The ICMPv6 checksum (RFC 4443 section 2.3): RFC 1071 over the IPv6 pseudo-header (RFC 8200 section 8.1)
// and the whole ICMPv6 message. Over a received message, checksum field included, a valid one gives 0.
std::uint16_t icmp6_checksum(std::span<const std::uint8_t, 16> src, std::span<const std::uint8_t, 16> dst,
                             std::span<const std::uint8_t> icmp);

// Writes a minimal IPv4 header (no options, DF set, TTL 64) for a packet of total length `total_len`.
void write_ipv4_header(std::uint8_t* out, std::uint32_t src_be, std::uint32_t dst_be, std::uint8_t proto,
                       std::uint16_t total_len, std::uint16_t id);

// Writes a fixed IPv6 header (traffic class and flow label 0, no extension headers).
void write_ipv6_header(std::uint8_t* out, std::span<const std::uint8_t, 16> src,
                       std::span<const std::uint8_t, 16> dst, std::uint8_t next_header,
                       std::uint16_t payload_len, std::uint8_t hop_limit);

// Builds an IPv4 ICMP echo (request or reply) with `payload` into `out`; returns its length, 0 if it
// does not fit.
std::size_t build_icmp_echo(std::span<std::uint8_t> out, std::uint32_t src_be, std::uint32_t dst_be,
                            std::uint8_t type, std::uint16_t ident, std::uint16_t seq,
                            std::span<const std::uint8_t> payload);

struct IcmpEcho {
  std::uint32_t src_be;
  std::uint32_t dst_be;
  std::uint8_t type;
  std::uint16_t ident;
  std::uint16_t seq;
  std::span<const std::uint8_t> payload;
};
// Parses an IPv4 ICMP echo request/reply, verifying both checksums; false for anything else or malformed.
bool parse_icmp_echo(std::span<const std::uint8_t> packet, IcmpEcho& out);

}  // namespace wg::net
