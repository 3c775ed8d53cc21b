#include "lib/net/ndp.h"

#include <cstring>

#include "lib/net/byte_order.h"

namespace wg::net {
namespace {

constexpr std::size_t kIpOffset = kEthernetHeaderLen;
constexpr std::size_t kIcmpOffset = kEthernetHeaderLen + kIpv6HeaderLen;
constexpr std::uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

bool is_multicast(const IpAddress& a) { return a.bytes[0] == 0xff; }
bool is_unspecified(const IpAddress& a) { return a.bytes == std::array<std::uint8_t, 16>{}; }
bool is_v6(const IpAddress& a) { return a.family == 6; }

// Writes NS or NA (everything but the checksum) and, if `opt_type` is nonzero, its link-layer option;
// then the checksum over the whole message. Returns the ICMPv6 length.
std::size_t write_ndp(std::uint8_t* icmp, const IpAddress& src, const IpAddress& dst, std::uint8_t type,
                      std::uint8_t flags, const IpAddress& target, std::uint8_t opt_type,
                      const MacAddress& mac) {
  icmp[0] = type;
  icmp[1] = 0;
  store_be16(icmp + 2, 0);
  icmp[4] = flags;
  std::memset(icmp + 5, 0, 3);
  std::memcpy(icmp + 8, target.bytes.data(), 16);
  std::size_t len = kNdpMessageLen;
  if (opt_type != 0) {
    icmp[len] = opt_type;
    icmp[len + 1] = kNdpLinkAddrOptLen / 8;
    std::memcpy(icmp + len + 2, mac.bytes.data(), kMacLen);
    len += kNdpLinkAddrOptLen;
  }
  store_be16(icmp + 2, icmp6_checksum(src.bytes, dst.bytes, std::span<const std::uint8_t>(icmp, len)));
  return len;
}

}  // namespace

IpAddress solicited_node(const IpAddress& v6) {
  IpAddress a;
  a.family = 6;
  const std::uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  std::memcpy(a.bytes.data(), prefix, sizeof(prefix));
  std::memcpy(a.bytes.data() + 13, v6.bytes.data() + 13, 3);
  return a;
}

MacAddress multicast_mac(const IpAddress& v6) {
  MacAddress m;
  m.bytes[0] = 0x33;
  m.bytes[1] = 0x33;
  std::memcpy(m.bytes.data() + 2, v6.bytes.data() + 12, 4);
  return m;
}

bool parse_ndp(std::span<const std::uint8_t> frame, NdpInfo& out) {
  if (frame.size() < kIcmpOffset + kNdpMessageLen || ether_type(frame) != kEtherTypeIpv6) return false;
  const std::uint8_t* ip = frame.data() + kIpOffset;
  if (ip[0] >> 4 != 6 || ip[6] != kProtoIcmpv6 || ip[7] != kNdpHopLimit) return false;
  // The IPv6 payload length says where the message ends; anything after it is link padding.
  const std::size_t payload_len = load_be16(ip + 4);
  if (payload_len < kNdpMessageLen || payload_len > frame.size() - kIcmpOffset) return false;
  const auto icmp = frame.subspan(kIcmpOffset, payload_len);
  const IpAddress src = IpAddress::v6(ip + 8);
  const IpAddress dst = IpAddress::v6(ip + 24);
  if (icmp6_checksum(src.bytes, dst.bytes, icmp) != 0) return false;
  const std::uint8_t type = icmp[0];
  if ((type != kNdpNeighborSolicit && type != kNdpNeighborAdvert) || icmp[1] != 0) return false;
  const IpAddress target = IpAddress::v6(&icmp[8]);
  if (is_multicast(target) || is_multicast(src)) return false;

  // RFC 4861 section 4.6: options are (type, length in 8-byte units, data); length 0 is invalid.
  const std::uint8_t wanted = type == kNdpNeighborSolicit ? kNdpOptSourceLinkAddr : kNdpOptTargetLinkAddr;
  bool has_lladdr = false;
  MacAddress lladdr;
  for (std::size_t off = kNdpMessageLen; off < icmp.size();) {
    if (icmp.size() - off < 2) return false;
    const std::size_t len = static_cast<std::size_t>(icmp[off + 1]) * 8;
    if (len == 0 || len > icmp.size() - off) return false;
    if (icmp[off] == wanted && !has_lladdr) {
      if (len != kNdpLinkAddrOptLen) return false;
      lladdr = MacAddress::from(&icmp[off + 2]);
      if (lladdr.is_multicast()) return false;
      has_lladdr = true;
    }
    off += len;
  }

  const bool solicited = type == kNdpNeighborAdvert && (icmp[4] & kNdpFlagSolicited) != 0;
  if (type == kNdpNeighborSolicit && is_unspecified(src)) {
    // RFC 4861 section 7.1.1: a DAD probe goes to the target's solicited-node group and has no source
    // link-layer option (there is no address to bind it to).
    if (dst != solicited_node(target) || has_lladdr) return false;
  }
  // RFC 4861 section 7.1.2: an answer to a multicast solicitation is itself multicast but never "solicited".
  if (solicited && is_multicast(dst)) return false;

  out.type = type;
  out.src = src;
  out.dst = dst;
  out.target = target;
  out.has_lladdr = has_lladdr;
  out.lladdr = has_lladdr ? lladdr : MacAddress{};
  out.solicited = solicited;
  out.override_flag = type == kNdpNeighborAdvert && (icmp[4] & kNdpFlagOverride) != 0;
  return true;
}

std::size_t build_neighbor_advert(std::span<std::uint8_t> out, const MacAddress& our_mac,
                                  const IpAddress& our_ip, const NdpInfo& solicitation,
                                  const MacAddress& dst_mac) {
  if (out.size() < kNdpFrameLen || solicitation.type != kNdpNeighborSolicit || !is_v6(our_ip) ||
      is_multicast(our_ip) || is_unspecified(our_ip) || !is_v6(solicitation.src) ||
      !is_v6(solicitation.target) || is_multicast(solicitation.target) || is_multicast(solicitation.src)) {
    return 0;
  }
  const bool dad = is_unspecified(solicitation.src);
  if (!dad && dst_mac.is_multicast()) return 0;
  const IpAddress dst = dad ? IpAddress::v6(kAllNodes) : solicitation.src;
  const MacAddress eth_dst = dad ? multicast_mac(dst) : dst_mac;
  // RFC 4861 section 7.2.4: override set (the address is ours, not anycast or proxied); solicited only when
  // the answer goes back to the asker.
  const std::uint8_t flags = static_cast<std::uint8_t>(kNdpFlagOverride | (dad ? 0 : kNdpFlagSolicited));

  std::uint8_t* frame = out.data();
  write_ethernet(frame, eth_dst, our_mac, kEtherTypeIpv6);
  const std::size_t icmp_len = write_ndp(frame + kIcmpOffset, our_ip, dst, kNdpNeighborAdvert, flags,
                                         solicitation.target, kNdpOptTargetLinkAddr, our_mac);
  write_ipv6_header(frame + kIpOffset, our_ip.bytes, dst.bytes, kProtoIcmpv6,
                    static_cast<std::uint16_t>(icmp_len), kNdpHopLimit);
  return kIcmpOffset + icmp_len;
}

std::size_t build_neighbor_solicit(std::span<std::uint8_t> out, const MacAddress& our_mac,
                                   const IpAddress& our_ip, const IpAddress& target,
                                   const std::optional<MacAddress>& unicast) {
  if (!is_v6(our_ip) || !is_v6(target) || is_multicast(target) || is_unspecified(target) ||
      is_multicast(our_ip)) {
    return 0;
  }
  const bool dad = is_unspecified(our_ip);
  const std::size_t len = kNdpFrameLen - (dad ? kNdpLinkAddrOptLen : 0);
  if (out.size() < len) return 0;
  // Unicast (RFC 4861 7.3.3, neighbour unreachability detection): to the address itself at the MAC held.
  const IpAddress dst = unicast && !dad ? target : solicited_node(target);

  std::uint8_t* frame = out.data();
  write_ethernet(frame, unicast && !dad ? *unicast : multicast_mac(dst), our_mac, kEtherTypeIpv6);
  const std::size_t icmp_len = write_ndp(frame + kIcmpOffset, our_ip, dst, kNdpNeighborSolicit, 0, target,
                                         dad ? 0 : kNdpOptSourceLinkAddr, our_mac);
  write_ipv6_header(frame + kIpOffset, our_ip.bytes, dst.bytes, kProtoIcmpv6,
                    static_cast<std::uint16_t>(icmp_len), kNdpHopLimit);
  return kIcmpOffset + icmp_len;
}

}  // namespace wg::net
