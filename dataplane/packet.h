// Header access for the fast path: where the L3 header starts, what an inner IP packet's real length is,
// whether a frame is addressed to us, the router's TTL decrement, and how to write the outer Ethernet/IP/UDP
// headers around a WireGuard message. All inline; no allocation.
#pragma once

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <cstdint>
#include <cstring>

#include "lib/net/ip.h"

namespace wg::dp {

inline constexpr std::uint16_t kEthLen = sizeof(rte_ether_hdr);   // 14
inline constexpr std::uint16_t kIpv4Len = sizeof(rte_ipv4_hdr);   // 20
inline constexpr std::uint16_t kIpv6Len = sizeof(rte_ipv6_hdr);   // 40
inline constexpr std::uint16_t kUdpLen = sizeof(rte_udp_hdr);     // 8

// An inner IP packet found at `l3` with `avail` bytes behind it. len is the IP header's own length, so
// Ethernet padding of short frames and WireGuard padding after decryption are both excluded.
struct InnerIp {
  std::uint8_t family = 0;  // 4, 6, or 0 when malformed
  std::uint16_t len = 0;
  const std::uint8_t* src = nullptr;
  const std::uint8_t* dst = nullptr;
};

inline InnerIp parse_inner_ip(const std::uint8_t* l3, std::uint32_t avail) {
  InnerIp ip;
  if (avail < 1) return ip;
  const std::uint8_t version = l3[0] >> 4;
  if (version == 4 && avail >= kIpv4Len) {
    const std::uint16_t total = static_cast<std::uint16_t>(l3[2] << 8 | l3[3]);
    const std::uint16_t ihl = static_cast<std::uint16_t>((l3[0] & 0x0f) * 4);
    if (ihl < kIpv4Len || total < ihl || total > avail) return ip;
    ip.family = 4;
    ip.len = total;
    ip.src = l3 + 12;
    ip.dst = l3 + 16;
  } else if (version == 6 && avail >= kIpv6Len) {
    const std::uint32_t total = kIpv6Len + static_cast<std::uint32_t>(l3[4] << 8 | l3[5]);
    if (total > avail || total > 0xffff) return ip;
    ip.family = 6;
    ip.len = static_cast<std::uint16_t>(total);
    ip.src = l3 + 8;
    ip.dst = l3 + 24;
  }
  return ip;
}

inline std::uint32_t load_be32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return rte_be_to_cpu_32(v);
}

// True when the 6 bytes at `dst` (a frame's destination) are `mac`: one 4-byte and one 2-byte load, no loop.
inline bool is_same_mac(const std::uint8_t* dst, const rte_ether_addr& mac) {
  std::uint32_t a4, b4;
  std::uint16_t a2, b2;
  std::memcpy(&a4, dst, 4);
  std::memcpy(&b4, mac.addr_bytes, 4);
  std::memcpy(&a2, dst + 4, 2);
  std::memcpy(&b2, mac.addr_bytes + 4, 2);
  return ((a4 ^ b4) | static_cast<std::uint32_t>(a2 ^ b2)) == 0;
}

// The I/G bit of a destination MAC: broadcast or multicast (IEEE 802).
inline bool is_group_mac(const std::uint8_t* dst) { return (dst[0] & 1) != 0; }

// What a router does to every packet it forwards (RFC 1812 section 5.3.1; RFC 8200 section 3): decrements the
// TTL / hop limit of the IP header at `l3` (family 4 or 6). IPv4's header checksum is updated incrementally
// (RFC 1624 equation 3, HC' = ~(~HC + ~m + m'), m the 16-bit word TTL|protocol: ~m + m' = 0xfeff), which
// like a full recompute never yields 0xffff. Returns false, leaving the header untouched, when the TTL is
// already <= 1: the packet must not be forwarded, its sender gets an ICMP time exceeded (from control).
inline bool decrement_ttl(std::uint8_t* l3, std::uint8_t family) {
  if (family == 4) {
    if (l3[8] <= 1) return false;
    --l3[8];
    const std::uint32_t old_sum = static_cast<std::uint16_t>(~(l3[10] << 8 | l3[11]));  // ~HC
    std::uint32_t sum = old_sum + 0xfeffu;
    sum = (sum & 0xffff) + (sum >> 16);
    const auto check = static_cast<std::uint16_t>(~sum);
    l3[10] = static_cast<std::uint8_t>(check >> 8);
    l3[11] = static_cast<std::uint8_t>(check);
    return true;
  }
  if (l3[7] <= 1) return false;
  --l3[7];
  return true;
}

// Writes Ethernet + IPv4/IPv6 + UDP in front of a UDP payload of `payload_len` bytes at `frame`.
// IPv4 UDP checksum is left zero (RFC 768 allows it; every WireGuard implementation accepts it); IPv6's
// mandatory UDP checksum is computed by the caller once the payload is final (it covers the ciphertext).
inline std::uint16_t outer_header_len(std::uint8_t family) {
  return static_cast<std::uint16_t>(kEthLen + (family == 4 ? kIpv4Len : kIpv6Len) + kUdpLen);
}

inline void write_outer_headers(std::uint8_t* frame, const rte_ether_addr& src_mac, const rte_ether_addr& dst_mac,
                                const net::IpAddress& src, const net::Endpoint& dst, std::uint16_t src_port,
                                std::uint16_t payload_len) {
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame);
  eth->dst_addr = dst_mac;
  eth->src_addr = src_mac;
  std::uint8_t* l4;
  if (dst.addr.is_v4()) {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frame + kEthLen);
    ip->version_ihl = 0x45;
    ip->type_of_service = 0;
    ip->total_length = rte_cpu_to_be_16(static_cast<std::uint16_t>(kIpv4Len + kUdpLen + payload_len));
    ip->packet_id = 0;
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->hdr_checksum = 0;
    std::memcpy(&ip->src_addr, src.bytes.data(), 4);
    std::memcpy(&ip->dst_addr, dst.addr.bytes.data(), 4);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    l4 = frame + kEthLen + kIpv4Len;
  } else {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(frame + kEthLen);
    ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip->payload_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(kUdpLen + payload_len));
    ip->proto = IPPROTO_UDP;
    ip->hop_limits = 64;
    std::memcpy(ip->src_addr, src.bytes.data(), 16);
    std::memcpy(ip->dst_addr, dst.addr.bytes.data(), 16);
    l4 = frame + kEthLen + kIpv6Len;
  }
  auto* udp = reinterpret_cast<rte_udp_hdr*>(l4);
  udp->src_port = rte_cpu_to_be_16(src_port);
  udp->dst_port = rte_cpu_to_be_16(dst.port);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<std::uint16_t>(kUdpLen + payload_len));
  udp->dgram_cksum = 0;
}

// Completes the IPv6 UDP checksum once the payload is final.
inline void finish_outer_v6(std::uint8_t* frame) {
  auto* ip = reinterpret_cast<rte_ipv6_hdr*>(frame + kEthLen);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(frame + kEthLen + kIpv6Len);
  udp->dgram_cksum = 0;
  std::uint16_t c = rte_ipv6_udptcp_cksum(ip, udp);
  udp->dgram_cksum = c == 0 ? 0xffff : c;
}

}  // namespace wg::dp
