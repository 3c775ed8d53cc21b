// IP addresses, prefixes and UDP endpoints as configuration and control code name them: parsed from text
// (strictly: numeric forms only, never a DNS lookup) and printed back in canonical form (RFC 5952 for
// IPv6). Plain values, no DPDK; the data plane keeps its own packed forms and converts once at setup.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace wg::net {

inline constexpr std::uint8_t kMaxPrefixLenV4 = 32;
inline constexpr std::uint8_t kMaxPrefixLenV6 = 128;

struct IpAddress {
  std::uint8_t family = 4;              // 4 or 6
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 in bytes[0..3], the rest zero

  // "192.0.2.1" or "2001:db8::1" (inet_pton: no zones, no leading zeros in IPv4, no surrounding spaces).
  [[nodiscard]] static absl::StatusOr<IpAddress> parse(std::string_view text);
  // An IPv4 address as a packet stores it (network byte order, read as a native uint32).
  static IpAddress v4_from_be(std::uint32_t be);
  // An IPv6 address from 16 bytes in network order.
  static IpAddress v6(const std::uint8_t* bytes16);
  // An address of `family` (4 or 6) from 4 or 16 bytes in network order, as a packet header holds it.
  static IpAddress from_bytes(std::uint8_t family, const std::uint8_t* bytes) {
    IpAddress a;
    a.family = family;
    for (int i = 0; i < (family == 4 ? 4 : 16); ++i) a.bytes[static_cast<std::size_t>(i)] = bytes[i];
    return a;
  }

  std::string to_string() const;
  bool is_v4() const { return family == 4; }
  // The IPv4 address in network byte order, as written into a packet; only meaningful when is_v4().
  std::uint32_t v4_be() const;
  // 32 or 128.
  std::uint8_t max_prefix_len() const { return is_v4() ? kMaxPrefixLenV4 : kMaxPrefixLenV6; }

  // Orders IPv4 before IPv6, then by address bytes (for maps and sorted lists).
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Prefix {
  IpAddress addr;
  std::uint8_t len = 0;

  // "10.0.0.0/24", "fd00::/64"; a bare address is a host prefix (/32 or /128). Host bits are kept as
  // written (interface addresses such as "10.1.0.1/24" need them); compare with masked() to refuse them.
  [[nodiscard]] static absl::StatusOr<Prefix> parse(std::string_view text);

  // The same prefix with every bit past `len` cleared.
  Prefix masked() const;
  bool has_host_bits() const { return masked() != *this; }
  // True when `a` has the same family and its first `len` bits equal ours.
  bool contains(const IpAddress& a) const;
  // True when the two prefixes share at least one address (one contains the other).
  bool overlaps(const Prefix& other) const;
  std::string to_string() const;

  friend auto operator<=>(const Prefix&, const Prefix&) = default;
  friend bool operator==(const Prefix&, const Prefix&) = default;
};

struct Endpoint {
  IpAddress addr;
  std::uint16_t port = 0;

  // "192.0.2.1:51820" or "[2001:db8::1]:51820". Port 1..65535. Hostnames are refused, not resolved: a
  // gateway must not depend on DNS at startup, and a name would hide which address is actually used.
  [[nodiscard]] static absl::StatusOr<Endpoint> parse(std::string_view text);
  std::string to_string() const;

  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace wg::net
