// Slow reference checksums for the lib/net tests, written independently of lib/net/inet.cc: RFC 1071 the
// textbook way (end-around carry after every addition) over a copy of the message with its checksum field
// zeroed, and for ICMPv6 over an explicitly laid-out RFC 8200 section 8.1 pseudo-header.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace wg::testing {

inline std::uint16_t ref_ones_complement(const std::vector<std::uint8_t>& bytes) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    const std::uint32_t hi = bytes[i];
    const std::uint32_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    sum += hi * 256 + lo;
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return static_cast<std::uint16_t>(0xffff - sum);
}

// The checksum `data` should carry in bytes checksum_at..checksum_at+1.
inline std::uint16_t ref_checksum(std::span<const std::uint8_t> data, std::size_t checksum_at) {
  std::vector<std::uint8_t> copy(data.begin(), data.end());
  copy[checksum_at] = 0;
  copy[checksum_at + 1] = 0;
  return ref_ones_complement(copy);
}

// The checksum an ICMPv6 message should carry (bytes 2..3), given the IPv6 source and destination.
inline std::uint16_t ref_icmp6_checksum(const std::uint8_t* src16, const std::uint8_t* dst16,
                                        std::span<const std::uint8_t> icmp) {
  std::vector<std::uint8_t> pseudo(src16, src16 + 16);
  pseudo.insert(pseudo.end(), dst16, dst16 + 16);
  const std::uint32_t len = static_cast<std::uint32_t>(icmp.size());
  for (int shift = 24; shift >= 0; shift -= 8) pseudo.push_back(static_cast<std::uint8_t>(len >> shift));
  pseudo.insert(pseudo.end(), {0, 0, 0, 58});
  const std::size_t at = pseudo.size();
  pseudo.insert(pseudo.end(), icmp.begin(), icmp.end());
  pseudo[at + 2] = 0;
  pseudo[at + 3] = 0;
  return ref_ones_complement(pseudo);
}

inline std::uint16_t stored_be16(std::span<const std::uint8_t> data, std::size_t at) {
  return static_cast<std::uint16_t>(data[at] << 8 | data[at + 1]);
}

}  // namespace wg::testing
