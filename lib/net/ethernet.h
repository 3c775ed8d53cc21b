// Ethernet II framing (IEEE 802.3 MAC addresses, no VLAN tags) for the frames the control thread builds and
// parses on its DPDK ports: ARP (arp.h), NDP (ndp.h), ICMP echo replies and errors (icmp.h). Byte-level and
// DPDK-free; the control code copies these frames into and out of mbufs.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "lib/net/byte_order.h"

namespace wg::net {

inline constexpr std::size_t kMacLen = 6;
inline constexpr std::size_t kEthernetHeaderLen = 14;  // destination, source, EtherType
// The shortest frame 802.3 allows, without the 4-byte FCS the NIC appends (64 on the wire). Shorter frames
// are runts; builders whose frames can be shorter zero-pad them to this (see pad_frame).
inline constexpr std::size_t kEthernetMinFrameLen = 60;

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeArp = 0x0806;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;

struct MacAddress {
  std::array<std::uint8_t, kMacLen> bytes{};

  static const MacAddress kBroadcast;

  // Reads 6 bytes as a packet stores them.
  static MacAddress from(const std::uint8_t* p) {
    MacAddress m;
    std::memcpy(m.bytes.data(), p, kMacLen);
    return m;
  }

  // The I/G bit (least significant bit of the first byte): a group address. Never valid as a source, and a
  // neighbour entry must never resolve to one. True for broadcast too.
  bool is_multicast() const { return (bytes[0] & 1) != 0; }
  bool is_broadcast() const { return *this == kBroadcast; }
  bool is_zero() const { return *this == MacAddress{}; }

  // "aa:bb:cc:dd:ee:ff", lower case.
  std::string to_string() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(kMacLen * 3 - 1);
    for (std::size_t i = 0; i < kMacLen; ++i) {
      if (i != 0) s.push_back(':');
      s.push_back(kDigits[bytes[i] >> 4]);
      s.push_back(kDigits[bytes[i] & 15]);
    }
    return s;
  }

  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

inline constexpr MacAddress MacAddress::kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

// Writes the 14-byte Ethernet II header at `out`, which must have room for it.
inline void write_ethernet(std::uint8_t* out, const MacAddress& dst, const MacAddress& src,
                           std::uint16_t type) {
  std::memcpy(out, dst.bytes.data(), kMacLen);
  std::memcpy(out + kMacLen, src.bytes.data(), kMacLen);
  store_be16(out + 2 * kMacLen, type);
}

// The EtherType of `frame`, 0 if it is too short to have one.
inline std::uint16_t ether_type(std::span<const std::uint8_t> frame) {
  return frame.size() < kEthernetHeaderLen ? 0 : load_be16(&frame[2 * kMacLen]);
}

// Zero-pads a `len`-byte frame in `out` to kEthernetMinFrameLen; returns the new length, 0 if `out` has no
// room. Padding here rather than trusting the PMD: hardware NICs pad runts, but software PMDs (memif,
// af_packet, vhost, pcap) send what they are given, and switches may drop what arrives short.
inline std::size_t pad_frame(std::span<std::uint8_t> out, std::size_t len) {
  if (len >= kEthernetMinFrameLen) return len <= out.size() ? len : 0;
  if (out.size() < kEthernetMinFrameLen) return 0;
  std::memset(out.data() + len, 0, kEthernetMinFrameLen - len);
  return kEthernetMinFrameLen;
}

}  // namespace wg::net
