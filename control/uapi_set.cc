#include "control/uapi_set.h"

#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/crypto/key_encoding.h"

namespace wg::ctl {
namespace {

absl::Status invalid(const std::string& what, std::string_view value) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": '", std::string(value.substr(0, 80)), "'"));
}

template <typename T>
bool parse_uint(std::string_view v, T& out) {
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && ptr == v.data() + v.size() && !v.empty();
}

absl::StatusOr<crypto::Key> parse_key(std::string_view key, std::string_view v) {
  auto k = crypto::key_from_hex(v);
  // Never echo a secret value back: only the key name.
  if (!k.ok()) return absl::InvalidArgumentError(absl::StrCat(std::string(key), ": not 64 hex digits"));
  return *k;
}

absl::Status parse_flag(std::string_view key, std::string_view v, bool& out) {
  if (v != "true") return invalid(absl::StrCat(std::string(key), ": only 'true' is valid"), v);
  out = true;
  return absl::OkStatus();
}

absl::Status device_line(DeviceChange& c, std::string_view key, std::string_view v) {
  if (key == "private_key") {
    auto k = parse_key(key, v);
    if (!k.ok()) return k.status();
    c.private_key = *k;
  } else if (key == "listen_port") {
    std::uint16_t port = 0;
    if (!parse_uint(v, port)) return invalid("listen_port", v);
    c.listen_port = port;
  } else if (key == "fwmark") {
    std::uint32_t mark = 0;
    if (!parse_uint(v, mark)) return invalid("fwmark", v);
    c.fwmark = mark;
  } else if (key == "replace_peers") {
    return parse_flag(key, v, c.replace_peers);
  } else {
    return invalid("unknown device key", key);
  }
  return absl::OkStatus();
}

absl::Status peer_line(PeerChange& p, std::string_view key, std::string_view v) {
  if (key == "remove") return parse_flag(key, v, p.remove);
  if (key == "update_only") return parse_flag(key, v, p.update_only);
  if (key == "replace_allowed_ips") {
    if (absl::Status s = parse_flag(key, v, p.replace_allowed_ips); !s.ok()) return s;
    p.allowed_ips.clear();  // what came before the replacement is replaced too
  } else if (key == "preshared_key") {
    auto k = parse_key(key, v);
    if (!k.ok()) return k.status();
    p.preshared_key = *k;
  } else if (key == "endpoint") {
    auto ep = net::Endpoint::parse(v);
    if (!ep.ok()) return invalid(absl::StrCat("endpoint: ", std::string(ep.status().message())), v);
    p.endpoint = *ep;
  } else if (key == "persistent_keepalive_interval") {
    std::uint16_t secs = 0;
    if (!parse_uint(v, secs)) return invalid("persistent_keepalive_interval", v);
    p.persistent_keepalive = secs;
  } else if (key == "allowed_ip") {
    auto pre = net::Prefix::parse(v);
    if (!pre.ok() || v.find('/') == std::string_view::npos) return invalid("allowed_ip", v);
    p.allowed_ips.push_back(pre->masked());  // as the kernel and wireguard-go: host bits are cleared
  } else if (key == "protocol_version") {
    if (v != "1") return invalid("protocol_version: only 1 is known", v);
  } else {
    return invalid("unknown peer key", key);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DeviceChange> parse_uapi_set(std::string_view body) {
  DeviceChange c;
  PeerChange* peer = nullptr;
  while (!body.empty()) {
    const std::size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (line.empty()) break;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return absl::FailedPreconditionError(absl::StrCat("not a key=value line: '",
                                                        std::string(line.substr(0, 80)), "'"));
    }
    const std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "public_key") {
      auto k = crypto::key_from_hex(value);
      if (!k.ok()) return invalid("public_key: not 64 hex digits", value);
      c.peers.emplace_back();
      peer = &c.peers.back();
      std::copy(k->span().begin(), k->span().end(), peer->public_key.begin());
      continue;
    }
    absl::Status s = peer == nullptr ? device_line(c, key, value) : peer_line(*peer, key, value);
    if (!s.ok()) return s;
  }
  return c;
}

}  // namespace wg::ctl
