#include "lib/net/arp.h"

#include <cstring>

#include "lib/net/byte_order.h"

namespace wg::net {
namespace {

constexpr std::size_t kIpv4AddrLen = 4;

// Writes the fixed part and the four addresses (RFC 826 "Packet format") after the Ethernet header.
void write_arp(std::uint8_t* p, std::uint16_t op, const MacAddress& sender_mac, const IpAddress& sender_ip,
               const MacAddress& target_mac, const IpAddress& target_ip) {
  store_be16(p, kArpHtypeEthernet);
  store_be16(p + 2, kEtherTypeIpv4);
  p[4] = kMacLen;
  p[5] = kIpv4AddrLen;
  store_be16(p + 6, op);
  std::memcpy(p + 8, sender_mac.bytes.data(), kMacLen);
  std::memcpy(p + 14, sender_ip.bytes.data(), kIpv4AddrLen);
  std::memcpy(p + 18, target_mac.bytes.data(), kMacLen);
  std::memcpy(p + 24, target_ip.bytes.data(), kIpv4AddrLen);
}

IpAddress read_ipv4(const std::uint8_t* p) {
  IpAddress a;
  a.family = 4;
  std::memcpy(a.bytes.data(), p, kIpv4AddrLen);
  return a;
}

}  // namespace

bool parse_arp(std::span<const std::uint8_t> frame, ArpInfo& out) {
  if (frame.size() < kArpFrameLen || ether_type(frame) != kEtherTypeArp) return false;
  const std::uint8_t* p = frame.data() + kEthernetHeaderLen;
  if (load_be16(p) != kArpHtypeEthernet || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != kMacLen ||
      p[5] != kIpv4AddrLen) {
    return false;
  }
  const std::uint16_t op = load_be16(p + 6);
  if (op != kArpRequest && op != kArpReply) return false;
  const MacAddress sender_mac = MacAddress::from(p + 8);
  if (sender_mac.is_multicast()) return false;
  out.op = op;
  out.sender_mac = sender_mac;
  out.sender_ip = read_ipv4(p + 14);
  out.target_mac = MacAddress::from(p + 18);
  out.target_ip = read_ipv4(p + 24);
  return true;
}

std::size_t build_arp_reply(std::span<std::uint8_t> out, const MacAddress& our_mac, const ArpInfo& request) {
  if (out.size() < kArpBuiltFrameLen || request.op != kArpRequest || !request.sender_ip.is_v4() ||
      !request.target_ip.is_v4() || request.sender_mac.is_multicast()) {
    return 0;
  }
  // RFC 826 "Packet Reception": swap sender and target, fill in our hardware address, set the opcode to
  // reply.
  write_ethernet(out.data(), request.sender_mac, our_mac, kEtherTypeArp);
  write_arp(out.data() + kEthernetHeaderLen, kArpReply, our_mac, request.target_ip, request.sender_mac,
            request.sender_ip);
  return pad_frame(out, kArpFrameLen);
}

std::size_t build_arp_request(std::span<std::uint8_t> out, const MacAddress& our_mac, const IpAddress& our_ip,
                              const IpAddress& target, const std::optional<MacAddress>& unicast) {
  if (out.size() < kArpBuiltFrameLen || !our_ip.is_v4() || !target.is_v4()) return 0;
  // Target hardware address zero, as Linux sends it; receivers ignore it in a request.
  write_ethernet(out.data(), unicast ? *unicast : MacAddress::kBroadcast, our_mac, kEtherTypeArp);
  write_arp(out.data() + kEthernetHeaderLen, kArpRequest, our_mac, our_ip, MacAddress{}, target);
  return pad_frame(out, kArpFrameLen);
}

}  // namespace wg::net
