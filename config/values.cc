#include "config/values.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "config/text.h"
#include "lib/crypto/key_encoding.h"

namespace wg::config {
namespace {

absl::Status invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// Decimal digits only (no sign, no spaces) in [min, max]; `unit` follows the range in the error.
absl::StatusOr<std::uint32_t> parse_number(std::string_view text, std::uint32_t min, std::uint32_t max,
                                           std::string_view unit = "") {
  const std::string range = absl::StrFormat("%d..%d%s", min, max, unit);
  if (text.empty() || text.size() > 10 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid(absl::StrFormat("'%s' is not a number in %s", text, range));
  }
  std::uint64_t value = 0;
  for (const char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  if (value < min || value > max) return invalid(absl::StrFormat("%d is out of range %s", value, range));
  return static_cast<std::uint32_t>(value);
}

absl::StatusOr<std::uint16_t> parse_bounded(std::string_view text, std::uint32_t min, std::uint32_t max,
                                           std::string_view unit = "") {
  absl::StatusOr<std::uint32_t> v = parse_number(text, min, std::min<std::uint32_t>(max, 65535), unit);
  if (!v.ok()) return v.status();
  return static_cast<std::uint16_t>(*v);
}

// The address one past the subnet, to suggest in an error ("did you mean 10.1.0.1/24?").
net::Prefix first_host(const net::Prefix& p) {
  net::Prefix host = p.masked();
  host.addr.bytes[host.addr.is_v4() ? 3 : 15] |= 1;
  return host;
}

bool is_v4_broadcast(const net::Prefix& p) {
  net::Prefix all_ones = p;
  for (std::size_t i = 0; i < 4; ++i) {
    const int host_bits = 8 - std::clamp(static_cast<int>(p.len) - static_cast<int>(i) * 8, 0, 8);
    all_ones.addr.bytes[i] |= static_cast<std::uint8_t>((1u << host_bits) - 1);
  }
  return all_ones == p;
}

}  // namespace

std::string_view to_string(CryptoEngine engine) {
  switch (engine) {
    case CryptoEngine::kAuto: return "auto";
    case CryptoEngine::kSimd: return "simd";
    case CryptoEngine::kAvx512: return "avx512";
    case CryptoEngine::kIpsecMb: return "ipsec-mb";
    case CryptoEngine::kSodium: return "sodium";
  }
  return "?";
}

absl::StatusOr<crypto::Key> parse_secret_key(std::string_view text) {
  absl::StatusOr<crypto::Key> key = crypto::key_from_base64(text);
  // key_from_base64's messages describe the format only, never the text.
  if (!key.ok()) return invalid(absl::StrFormat("invalid key: %s", key.status().message()));
  return key;
}

absl::StatusOr<crypto::PublicKey> parse_public_key(std::string_view text) {
  // Not a secret, but a private key pasted into the wrong line would be: never echo key text.
  absl::StatusOr<crypto::PublicKey> key = crypto::public_key_from_base64(text);
  if (!key.ok()) return invalid(absl::StrFormat("invalid key: %s", key.status().message()));
  return key;
}

absl::StatusOr<std::uint16_t> parse_udp_port(std::string_view text) { return parse_bounded(text, 1, 65535); }

absl::StatusOr<std::uint16_t> parse_keepalive(std::string_view text) {
  if (iequals(text, "off")) return 0;
  absl::StatusOr<std::uint16_t> seconds = parse_bounded(text, 0, 65535, " seconds");
  if (!seconds.ok()) return invalid(absl::StrFormat("%s, or \"off\"", seconds.status().message()));
  return seconds;
}

absl::StatusOr<std::uint16_t> parse_mtu(std::string_view text) {
  absl::StatusOr<std::uint16_t> mtu = parse_bounded(text, kMinMtu, 65535);
  if (mtu.ok() && *mtu > kMaxMtu) {
    return invalid(absl::StrFormat("%d is larger than %d, the most one %d-byte packet buffer carries with the "
                                   "outer headers (%d bytes; jumbo frames are not supported)",
                                   *mtu, kMaxMtu, kMbufDataRoom, kOuterOverhead));
  }
  if (!mtu.ok()) return parse_bounded(text, kMinMtu, kMaxMtu);  // the same error, with the real range
  return mtu;
}

absl::StatusOr<std::uint32_t> parse_max_peers(std::string_view text) { return parse_number(text, 1, kMaxPeersLimit); }
absl::StatusOr<std::uint32_t> parse_handshake_threads(std::string_view text) {
  return parse_number(text, 0, kMaxHandshakeThreads);
}

absl::StatusOr<std::string> parse_gateway_name(std::string_view text) {
  if (text.empty() || text.size() > kMaxNameLen) {
    return invalid(absl::StrFormat("'%s' must be 1..%d characters (an interface name)", text, kMaxNameLen));
  }
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '=' || c == '+' ||
           c == '.' || c == '-';
  };
  if (!std::all_of(text.begin(), text.end(), allowed) || text == "." || text == "..") {
    return invalid(absl::StrFormat("'%s' is not a valid interface name (letters, digits and _=+.- only)", text));
  }
  return std::string(text);
}

absl::StatusOr<std::string> parse_dpdk_port(std::string_view text) {
  const auto printable = [](char c) { return c > ' ' && c < 0x7f; };
  if (text.empty() || !std::all_of(text.begin(), text.end(), printable)) {
    return invalid(absl::StrFormat("'%s' is not a DPDK port id or device name", text));
  }
  return std::string(text);
}

absl::StatusOr<CryptoEngine> parse_crypto_engine(std::string_view text) {
  for (const CryptoEngine e :
       {CryptoEngine::kAuto, CryptoEngine::kSimd, CryptoEngine::kAvx512, CryptoEngine::kIpsecMb, CryptoEngine::kSodium}) {
    if (iequals(text, to_string(e))) return e;
  }
  return invalid(absl::StrFormat("'%s' is not one of auto, simd, avx512, ipsec-mb, sodium", text));
}

absl::StatusOr<bool> parse_on_off(std::string_view text) {
  if (iequals(text, "on")) return true;
  if (iequals(text, "off")) return false;
  return invalid(absl::StrFormat("'%s' is not on or off", text));
}

absl::StatusOr<std::vector<std::string_view>> split_list(std::string_view text) {
  std::vector<std::string_view> items;
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    if (item.empty()) return invalid("empty item in the comma list");
    items.push_back(item);
  }
  return items;
}

absl::StatusOr<std::vector<net::Prefix>> parse_allowed_ips(std::string_view text) {
  std::vector<net::Prefix> prefixes;
  if (text.empty()) return prefixes;
  absl::StatusOr<std::vector<std::string_view>> items = split_list(text);
  if (!items.ok()) return items.status();
  for (const std::string_view item : *items) {
    absl::StatusOr<net::Prefix> p = net::Prefix::parse(item);
    if (!p.ok()) return p.status();
    // wg(8) would silently route the masked prefix; an operator who wrote 10.0.0.1/24 meant something else.
    if (p->has_host_bits()) {
      return invalid(absl::StrFormat("%s has host bits set; did you mean %s?", item, p->masked().to_string()));
    }
    prefixes.push_back(*p);
  }
  return prefixes;
}

absl::StatusOr<std::vector<net::Prefix>> parse_interface_addresses(std::string_view text) {
  std::vector<net::Prefix> addresses;
  absl::StatusOr<std::vector<std::string_view>> items = split_list(text);
  if (!items.ok()) return items.status();
  for (const std::string_view item : *items) {
    absl::StatusOr<net::Prefix> p = net::Prefix::parse(item);
    if (!p.ok()) return p.status();
    // The length decides what is on-link; a bare address would silently mean /32 and route nothing.
    if (item.find('/') == std::string_view::npos) {
      return invalid(absl::StrFormat("%s needs its subnet length, e.g. %s%s", item, item, p->addr.is_v4() ? "/24" : "/64"));
    }
    // /31, /32, /127 and /128 have no subnet or broadcast address to confuse with a host.
    const bool has_subnet_address = p->len + 2 <= p->addr.max_prefix_len();
    if (has_subnet_address && !p->has_host_bits()) {
      return invalid(absl::StrFormat("%s is the subnet itself, not an address in it; did you mean %s?", item,
                                     first_host(*p).to_string()));
    }
    if (has_subnet_address && p->addr.is_v4() && is_v4_broadcast(*p)) {
      return invalid(absl::StrFormat("%s is the broadcast address of %s", item, p->masked().to_string()));
    }
    addresses.push_back(*p);
  }
  return addresses;
}

}  // namespace wg::config
