#include "lib/net/icmp.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "lib/net/byte_order.h"
#include "lib/net/inet.h"

namespace wg::net {
namespace {

constexpr std::size_t kIpOffset = kEthernetHeaderLen;
constexpr std::size_t kIcmpHeaderLen = 8;  // type, code, checksum, 4 bytes that depend on the type
// RFC 792 / RFC 1191: the IP header plus the first 64 bits of the payload.
constexpr std::size_t kTooBigQuotePayloadV4 = 8;

// IPv4 sources and destinations that name a single host: not 0/8 ("this network"), 127/8 (loopback, never on
// a wire), 224/4 (multicast) or 240/4 (reserved, including the limited broadcast 255.255.255.255). A
// subnet's directed broadcast cannot be told from here; the caller only passes packets for our addresses.
bool is_unicast_v4(const std::uint8_t* a) { return a[0] != 0 && a[0] != 127 && a[0] < 224; }

// IPv6 likewise: not :: (unspecified), ::1 (loopback) or ff00::/8 (multicast).
bool is_unicast_v6(const std::uint8_t* a) {
  static constexpr std::uint8_t kZero[15] = {};
  if (a[0] == 0xff) return false;
  return std::memcmp(a, kZero, 15) != 0 || a[15] > 1;
}

// ICMPv4 types that are errors: destination unreachable, source quench, redirect, time exceeded, parameter
// problem; and, as Linux assumes, any type it does not know (above 18).
bool is_icmp4_error(std::uint8_t type) {
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12 || type > 18;
}

void set_checksum(std::uint8_t* icmp, std::size_t len) {
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, inet_checksum(std::span<const std::uint8_t>(icmp, len)));
}

std::size_t echo_reply_v4(std::span<std::uint8_t> out, std::span<const std::uint8_t> req,
                          const MacAddress& our_mac) {
  if (req.size() < kIpOffset + kIpv4HeaderLen) return 0;
  const std::uint8_t* ip = req.data() + kIpOffset;
  const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
  const std::size_t total = load_be16(ip + 2);
  if (ip[0] >> 4 != 4 || ihl < kIpv4HeaderLen || total < ihl + kIcmpEchoHeaderLen ||
      total > req.size() - kIpOffset) {
    return 0;
  }
  if (inet_checksum(std::span(ip, ihl)) != 0 || ip[9] != kProtoIcmp) return 0;
  if ((load_be16(ip + 6) & 0x3fff) != 0) return 0;  // MF or an offset: a fragment, not the whole request
  const std::uint8_t* icmp = ip + ihl;
  const std::size_t icmp_len = total - ihl;
  if (icmp[0] != kIcmpEchoRequest || icmp[1] != 0 || inet_checksum(std::span(icmp, icmp_len)) != 0) return 0;
  if (!is_unicast_v4(ip + 12) || !is_unicast_v4(ip + 16)) return 0;
  const MacAddress peer_mac = MacAddress::from(req.data() + kMacLen);
  if (peer_mac.is_multicast()) return 0;

  const std::size_t len = kIpOffset + kIpv4HeaderLen + icmp_len;
  if (out.size() < std::max(len, kEthernetMinFrameLen)) return 0;
  std::uint32_t src_be, dst_be;
  std::memcpy(&src_be, ip + 12, 4);
  std::memcpy(&dst_be, ip + 16, 4);
  const std::uint16_t id = load_be16(ip + 4);
  // Everything needed from the request is read: the body moves first (towards the front, when options are
  // dropped), then the headers are written over whatever was there.
  std::uint8_t* reply_icmp = out.data() + kIpOffset + kIpv4HeaderLen;
  std::memmove(reply_icmp, icmp, icmp_len);
  write_ethernet(out.data(), peer_mac, our_mac, kEtherTypeIpv4);
  write_ipv4_header(out.data() + kIpOffset, dst_be, src_be, kProtoIcmp,
                    static_cast<std::uint16_t>(kIpv4HeaderLen + icmp_len), id);
  reply_icmp[0] = kIcmpEchoReply;
  set_checksum(reply_icmp, icmp_len);
  return pad_frame(out, len);
}

std::size_t echo_reply_v6(std::span<std::uint8_t> out, std::span<const std::uint8_t> req,
                          const MacAddress& our_mac) {
  constexpr std::size_t kIcmpOffset = kIpOffset + kIpv6HeaderLen;
  if (req.size() < kIcmpOffset + kIcmpEchoHeaderLen) return 0;
  const std::uint8_t* ip = req.data() + kIpOffset;
  const std::size_t icmp_len = load_be16(ip + 4);
  if (ip[0] >> 4 != 6 || ip[6] != kProtoIcmpv6 || icmp_len < kIcmpEchoHeaderLen ||
      icmp_len > req.size() - kIcmpOffset) {
    return 0;
  }
  const IpAddress src = IpAddress::v6(ip + 8);
  const IpAddress dst = IpAddress::v6(ip + 24);
  if (!is_unicast_v6(src.bytes.data()) || !is_unicast_v6(dst.bytes.data())) return 0;
  const std::uint8_t* icmp = ip + kIpv6HeaderLen;
  if (icmp[0] != kIcmp6EchoRequest || icmp[1] != 0 ||
      icmp6_checksum(src.bytes, dst.bytes, std::span(icmp, icmp_len)) != 0) {
    return 0;
  }
  const MacAddress peer_mac = MacAddress::from(req.data() + kMacLen);
  if (peer_mac.is_multicast()) return 0;

  const std::size_t len = kIcmpOffset + icmp_len;
  if (out.size() < std::max(len, kEthernetMinFrameLen)) return 0;
  std::uint8_t* reply_icmp = out.data() + kIcmpOffset;
  std::memmove(reply_icmp, icmp, icmp_len);
  write_ethernet(out.data(), peer_mac, our_mac, kEtherTypeIpv6);
  write_ipv6_header(out.data() + kIpOffset, dst.bytes, src.bytes, kProtoIcmpv6,
                    static_cast<std::uint16_t>(icmp_len), kIcmpHopLimit);
  reply_icmp[0] = kIcmp6EchoReply;
  store_be16(reply_icmp + 2, 0);
  store_be16(reply_icmp + 2,
             icmp6_checksum(dst.bytes, src.bytes, std::span<const std::uint8_t>(reply_icmp, icmp_len)));
  return pad_frame(out, len);
}

// What tells one ICMP error from another: type, code, the second word of the ICMP header (unused, or the
// MTU), how much of the offending packet it may quote, and whether a packet to a group address may get one.
struct ErrorKind {
  std::uint8_t type;
  std::uint8_t code;
  std::uint32_t word;
  std::size_t max_len;        // the whole error, its own IP header included
  std::size_t quote_payload;  // bytes of the offending packet past its IPv4 header at most (kAll: no limit)
  bool to_group;              // IPv6 only: RFC 4443 section 2.4(e.3) lets packet too big answer multicast
};
constexpr std::size_t kAll = SIZE_MAX;

// An ICMPv4 error about `pkt` from our_ip, as an IP packet at `out`; 0 when RFC 1122 section 3.2.2 / RFC 1812
// section 4.3.2.7 forbid it or the packet is malformed. Reads all it needs from `pkt` before writing `out`.
std::size_t error_v4(std::span<std::uint8_t> out, const IpAddress& our_ip, std::span<const std::uint8_t> pkt,
                     const ErrorKind& kind) {
  if (pkt.size() < kIpv4HeaderLen) return 0;
  const std::size_t ihl = static_cast<std::size_t>(pkt[0] & 0x0f) * 4;
  const std::size_t total = load_be16(&pkt[2]);
  if (ihl < kIpv4HeaderLen || ihl > pkt.size() || total < ihl) return 0;
  if (inet_checksum(pkt.first(ihl)) != 0) return 0;
  // No error about a non-initial fragment, an ICMP error, or a datagram whose source is not one host or whose
  // destination is a group.
  if ((load_be16(&pkt[6]) & 0x1fff) != 0) return 0;
  if (!is_unicast_v4(&pkt[12]) || pkt[16] >= 224) return 0;
  const std::size_t available = std::min(total, pkt.size());
  if (pkt[9] == kProtoIcmp && (available <= ihl || is_icmp4_error(pkt[ihl]))) return 0;

  const std::size_t quote =
      std::min(ihl + std::min(available - ihl, kind.quote_payload), kind.max_len - kIpv4HeaderLen - kIcmpHeaderLen);
  const std::size_t icmp_len = kIcmpHeaderLen + quote;
  const std::size_t len = kIpv4HeaderLen + icmp_len;
  if (out.size() < len) return 0;
  std::uint32_t dst_be;
  std::memcpy(&dst_be, &pkt[12], 4);
  std::uint8_t* icmp = out.data() + kIpv4HeaderLen;
  std::memmove(icmp + kIcmpHeaderLen, pkt.data(), quote);
  write_ipv4_header(out.data(), our_ip.v4_be(), dst_be, kProtoIcmp, static_cast<std::uint16_t>(len), 0);
  icmp[0] = kind.type;
  icmp[1] = kind.code;
  store_be32(icmp + 4, kind.word);
  set_checksum(icmp, icmp_len);
  return len;
}

// True if the upper-layer header of this IPv6 packet is an ICMPv6 error (types 0-127, RFC 4443 section 2.1),
// or if the extension-header chain cannot be followed within `pkt`, in which case no error may be sent
// either. Skips hop-by-hop, routing, fragment and destination options headers (RFC 8200 section 4).
bool is_or_may_be_icmp6_error(std::span<const std::uint8_t> pkt) {
  constexpr int kMaxExtensionHeaders = 8;
  std::uint8_t next = pkt[6];
  std::size_t off = kIpv6HeaderLen;
  for (int i = 0; i <= kMaxExtensionHeaders; ++i) {
    switch (next) {
      case kProtoIcmpv6:
        return off >= pkt.size() || pkt[off] < 128;
      case 0:   // hop-by-hop options
      case 43:  // routing
      case 60:  // destination options
        if (pkt.size() - off < 2) return true;
        next = pkt[off];
        off += (static_cast<std::size_t>(pkt[off + 1]) + 1) * 8;
        if (off > pkt.size()) return true;
        break;
      case 44:  // fragment: a later fragment starts mid-payload, with no ICMPv6 header to look at
        if (pkt.size() - off < 8) return true;
        if ((load_be16(&pkt[off + 2]) & 0xfff8) != 0) return false;
        next = pkt[off];
        off += 8;
        break;
      default:  // another upper layer (or ESP/AH, which we cannot see into)
        return false;
    }
  }
  return true;  // an implausibly long chain
}

// The ICMPv6 error likewise (RFC 4443 section 2.4(e)): not to an unspecified or group source, not about an
// ICMPv6 error, not about a packet to a multicast destination unless kind.to_group. Quotes from the IPv6
// header on, as much as fits in kind.max_len.
std::size_t error_v6(std::span<std::uint8_t> out, const IpAddress& our_ip, std::span<const std::uint8_t> pkt,
                     const ErrorKind& kind) {
  if (pkt.size() < kIpv6HeaderLen) return 0;
  if (!is_unicast_v6(&pkt[8])) return 0;
  if (!kind.to_group && pkt[24] == 0xff) return 0;
  const auto available = pkt.first(std::min(kIpv6HeaderLen + load_be16(&pkt[4]), pkt.size()));
  if (is_or_may_be_icmp6_error(available)) return 0;

  const std::size_t quote = std::min(available.size(), kind.max_len - kIpv6HeaderLen - kIcmpHeaderLen);
  const std::size_t icmp_len = kIcmpHeaderLen + quote;
  const std::size_t len = kIpv6HeaderLen + icmp_len;
  if (out.size() < len) return 0;
  const IpAddress dst = IpAddress::v6(&pkt[8]);
  std::uint8_t* icmp = out.data() + kIpv6HeaderLen;
  std::memmove(icmp + kIcmpHeaderLen, pkt.data(), quote);
  write_ipv6_header(out.data(), our_ip.bytes, dst.bytes, kProtoIcmpv6, static_cast<std::uint16_t>(icmp_len),
                    kIcmpHopLimit);
  icmp[0] = kind.type;
  icmp[1] = kind.code;
  store_be16(icmp + 2, 0);
  store_be32(icmp + 4, kind.word);
  store_be16(icmp + 2,
             icmp6_checksum(our_ip.bytes, dst.bytes, std::span<const std::uint8_t>(icmp, icmp_len)));
  return len;
}

// The error of the packet's family, as an IP packet; 0 unless our_ip is a unicast address of that family.
std::size_t error_ip(std::span<std::uint8_t> out, const IpAddress& our_ip, std::span<const std::uint8_t> pkt,
                     const ErrorKind& v4, const ErrorKind& v6) {
  if (pkt.empty()) return 0;
  const int version = pkt[0] >> 4;
  if (version == 4 && our_ip.is_v4() && is_unicast_v4(our_ip.bytes.data())) return error_v4(out, our_ip, pkt, v4);
  if (version == 6 && our_ip.family == 6 && is_unicast_v6(our_ip.bytes.data())) {
    return error_v6(out, our_ip, pkt, v6);
  }
  return 0;
}

// The same behind an Ethernet header from src_mac to dst_mac (never a group address).
std::size_t error_frame(std::span<std::uint8_t> out, const MacAddress& src_mac, const MacAddress& dst_mac,
                        const IpAddress& our_ip, std::span<const std::uint8_t> pkt, const ErrorKind& v4,
                        const ErrorKind& v6) {
  if (dst_mac.is_multicast() || out.size() < kIpOffset) return 0;
  const std::size_t n = error_ip(out.subspan(kIpOffset), our_ip, pkt, v4, v6);
  if (n == 0) return 0;
  // `pkt` may have been overwritten by now: the family comes from the error's own IP header.
  write_ethernet(out.data(), dst_mac, src_mac, out[kIpOffset] >> 4 == 4 ? kEtherTypeIpv4 : kEtherTypeIpv6);
  return pad_frame(out, kIpOffset + n);
}

constexpr ErrorKind kTimeExceededV4{kIcmpTimeExceeded, kIcmpTtlExceededInTransit, 0, kMaxIcmpErrorLenV4, kAll, false};
constexpr ErrorKind kTimeExceededV6{kIcmp6TimeExceeded, kIcmp6HopLimitExceeded, 0, kMaxIcmpErrorLenV6, kAll, false};

}  // namespace

std::size_t build_echo_reply(std::span<std::uint8_t> out, std::span<const std::uint8_t> request_frame,
                             const MacAddress& our_mac) {
  switch (ether_type(request_frame)) {
    case kEtherTypeIpv4:
      return echo_reply_v4(out, request_frame, our_mac);
    case kEtherTypeIpv6:
      return echo_reply_v6(out, request_frame, our_mac);
    default:
      return 0;
  }
}

std::size_t build_too_big(std::span<std::uint8_t> out, const MacAddress& src_mac, const MacAddress& dst_mac,
                          const IpAddress& our_ip, std::span<const std::uint8_t> offending_ip_packet,
                          std::uint16_t mtu) {
  const bool v6 = !offending_ip_packet.empty() && offending_ip_packet[0] >> 4 == 6;
  if (mtu < (v6 ? kMinMtuV6 : kMinMtuV4)) return 0;
  // RFC 1191 section 4: the IP header and 64 bits of payload, the MTU in the low 16 bits of the second word.
  const ErrorKind k4{kIcmpDestUnreachable, kIcmpFragNeeded, mtu, kMaxIcmpErrorLenV4, kTooBigQuotePayloadV4, false};
  const ErrorKind k6{kIcmp6PacketTooBig, 0, mtu, kMaxIcmpErrorLenV6, kAll, true};
  return error_frame(out, src_mac, dst_mac, our_ip, offending_ip_packet, k4, k6);
}

std::size_t build_time_exceeded_ip(std::span<std::uint8_t> out, const IpAddress& own_address,
                                   std::span<const std::uint8_t> offending_ip_packet) {
  return error_ip(out, own_address, offending_ip_packet, kTimeExceededV4, kTimeExceededV6);
}

std::size_t build_time_exceeded(std::span<std::uint8_t> out, const MacAddress& our_mac, const MacAddress& dst_mac,
                                const IpAddress& own_address, std::span<const std::uint8_t> offending_ip_packet) {
  return error_frame(out, our_mac, dst_mac, own_address, offending_ip_packet, kTimeExceededV4, kTimeExceededV6);
}

}  // namespace wg::net
