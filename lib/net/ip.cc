#include "lib/net/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace wg::net {
namespace {

// Longest text inet_pton could accept ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"); longer text
// is refused before copying it into a NUL-terminated buffer.
constexpr std::size_t kMaxAddressText = INET6_ADDRSTRLEN - 1;

// Parses 1..`max_digits` decimal digits (no sign, no spaces); -1 for anything else.
int parse_small_uint(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return -1;
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// True for text that can only be a DNS name: letters or '-' where an IPv4 address was expected.
bool looks_like_hostname(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '-'; });
}

// Every refusal quotes the text it refuses: "'10.0.0.0/33': prefix length 33 is longer than 32 for IPv4".
absl::Status refuse(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat("'%s': %s", text, why));
}

}  // namespace

absl::StatusOr<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty address");
  if (text.size() > kMaxAddressText) {
    return refuse(text, "not an IP address");
  }
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  // The family is decided by the text, so "1.2.3.4" never becomes "::ffff:1.2.3.4" by accident.
  if (text.find(':') != std::string_view::npos) {
    a.family = 6;
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) return a;
    return refuse(text, "not an IPv6 address");
  }
  a.family = 4;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
  return refuse(text, "not an IPv4 address");
}

IpAddress IpAddress::v4_from_be(std::uint32_t be) {
  IpAddress a;
  a.family = 4;
  std::memcpy(a.bytes.data(), &be, sizeof(be));
  return a;
}

IpAddress IpAddress::v6(const std::uint8_t* bytes16) {
  IpAddress a;
  a.family = 6;
  std::memcpy(a.bytes.data(), bytes16, a.bytes.size());
  return a;
}

std::uint32_t IpAddress::v4_be() const {
  std::uint32_t be;
  std::memcpy(&be, bytes.data(), sizeof(be));
  return be;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf)) == nullptr) return "?";
  return buf;
}

absl::StatusOr<Prefix> Prefix::parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  absl::StatusOr<IpAddress> addr = IpAddress::parse(text.substr(0, slash));
  if (!addr.ok()) return addr.status();
  Prefix p{*addr, addr->max_prefix_len()};
  if (slash == std::string_view::npos) return p;
  const std::string_view len_text = text.substr(slash + 1);
  const int len = parse_small_uint(len_text, 3);
  if (len < 0) {
    return refuse(text, absl::StrFormat("prefix length '%s' is not a number", len_text));
  }
  if (len > p.addr.max_prefix_len()) {
    return refuse(text, absl::StrFormat("prefix length %d is longer than %d for IPv%d", len,
                                     p.addr.max_prefix_len(), p.addr.family));
  }
  p.len = static_cast<std::uint8_t>(len);
  return p;
}

Prefix Prefix::masked() const {
  Prefix p = *this;
  for (std::size_t i = 0; i < p.addr.bytes.size(); ++i) {
    const int bits_here = std::clamp(static_cast<int>(len) - static_cast<int>(i) * 8, 0, 8);
    p.addr.bytes[i] &= static_cast<std::uint8_t>(0xff00u >> bits_here);
  }
  return p;
}

bool Prefix::contains(const IpAddress& a) const {
  if (a.family != addr.family) return false;
  return Prefix{a, len}.masked().addr == masked().addr;
}

bool Prefix::overlaps(const Prefix& other) const {
  if (other.addr.family != addr.family) return false;
  // Two prefixes overlap exactly when the shorter one contains the other's network address.
  return len <= other.len ? contains(other.addr) : other.contains(addr);
}

std::string Prefix::to_string() const { return absl::StrFormat("%s/%d", addr.to_string(), len); }

absl::StatusOr<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return refuse(text, "missing ']'");
    }
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest == ":") {
      return refuse(text, "missing port (expected [address]:port)");
    }
    if (rest.front() != ':') {
      return refuse(text, "expected ':' and a port after ']'");
    }
    port_text = rest.substr(1);
    bracketed = true;
  } else {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return refuse(text, "an IPv6 endpoint is written [address]:port");
    }
    if (colon == std::string_view::npos || colon + 1 == text.size()) {
      if (looks_like_hostname(text.substr(0, colon))) {
        return refuse(text, "hostnames are not resolved; write an IP address and a port");
      }
      return refuse(text, "missing port (expected address:port)");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }

  absl::StatusOr<IpAddress> addr = IpAddress::parse(host);
  if (!addr.ok()) {
    if (!bracketed && looks_like_hostname(host)) {
      return refuse(text, "hostnames are not resolved; write an IP address");
    }
    return refuse(text, bracketed ? "not an IPv6 address" : "not an IPv4 address");
  }
  if (bracketed && addr->is_v4()) {
    return refuse(text, "brackets are for IPv6 only; write address:port");
  }
  const int port = parse_small_uint(port_text, 5);
  if (port < 1 || port > 65535) {
    return refuse(text, absl::StrFormat("port '%s' is not a number in 1..65535", port_text));
  }
  return Endpoint{*addr, static_cast<std::uint16_t>(port)};
}

std::string Endpoint::to_string() const {
  if (addr.is_v4()) return absl::StrFormat("%s:%d", addr.to_string(), port);
  return absl::StrFormat("[%s]:%d", addr.to_string(), port);
}

}  // namespace wg::net
