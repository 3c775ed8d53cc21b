// The value syntax of the configuration file, one function per kind of value. Each takes the value already
// trimmed and returns an error message without location; the parser prefixes "file:line: Key: ". Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "lib/crypto/secret.h"
#include "lib/crypto/x25519.h"
#include "lib/net/ip.h"

namespace wg::config {

// A base64 key as `wg genkey`/`wg genpsk` print it. The error never contains the text: it may be a secret.
[[nodiscard]] absl::StatusOr<crypto::Key> parse_secret_key(std::string_view text);
[[nodiscard]] absl::StatusOr<crypto::PublicKey> parse_public_key(std::string_view text);

// Decimal 1..65535 (ListenPort).
[[nodiscard]] absl::StatusOr<std::uint16_t> parse_udp_port(std::string_view text);
// Seconds 0..65535, or "off" (= 0), as wg(8) accepts for PersistentKeepalive.
[[nodiscard]] absl::StatusOr<std::uint16_t> parse_keepalive(std::string_view text);
// kMinMtu..kMaxMtu; the IPv6 minimum depends on the addresses and is checked in validate_config().
[[nodiscard]] absl::StatusOr<std::uint16_t> parse_mtu(std::string_view text);
// 1..kMaxPeersLimit (MaxPeers).
[[nodiscard]] absl::StatusOr<std::uint32_t> parse_max_peers(std::string_view text);
// HandshakeThreads: 0 (on the control thread) to kMaxHandshakeThreads.
[[nodiscard]] absl::StatusOr<std::uint32_t> parse_handshake_threads(std::string_view text);
// 1..15 characters of [A-Za-z0-9_=+.-], not "." or "..": what Linux accepts as an interface name.
[[nodiscard]] absl::StatusOr<std::string> parse_gateway_name(std::string_view text);
// A DPDK port id or device name: no spaces; resolved against the real ports only in main.
[[nodiscard]] absl::StatusOr<std::string> parse_dpdk_port(std::string_view text);
// "auto", "simd", "ipsec-mb" or "sodium" (any case).
[[nodiscard]] absl::StatusOr<CryptoEngine> parse_crypto_engine(std::string_view text);
// "on" or "off" (any case).
[[nodiscard]] absl::StatusOr<bool> parse_on_off(std::string_view text);

// A comma list of routed prefixes (AllowedIPs). Host bits are an error naming the prefix meant; an empty
// value is an empty list, as wg(8) allows.
[[nodiscard]] absl::StatusOr<std::vector<net::Prefix>> parse_allowed_ips(std::string_view text);
// A comma list of interface addresses with their subnet length ("10.1.0.1/24, fd01::1/64"). The length is
// required, and the address must not be the subnet itself (nor its IPv4 broadcast address).
[[nodiscard]] absl::StatusOr<std::vector<net::Prefix>> parse_interface_addresses(std::string_view text);

// Splits a comma list and trims each item; an empty item (",," or a trailing comma) is an error.
[[nodiscard]] absl::StatusOr<std::vector<std::string_view>> split_list(std::string_view text);

}  // namespace wg::config
