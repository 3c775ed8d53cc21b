#include "config/validate.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/crypto/x25519.h"

namespace wg::config {
namespace {

absl::Status check_ports(const Config& c) {
  const Gateway& g = c.gateway;
  if (g.inside_port == g.outside_port) {
    return c.error(g.outside_port_line, absl::StrCat("OutsidePort ", g.outside_port, " is also the InsidePort (line ",
                                                     g.inside_port_line, "); the two sides need their own ports"));
  }
  return absl::OkStatus();
}

// Our own addresses: no address twice, and the inside and outside subnets apart (otherwise "on-link"
// would be ambiguous and a packet could leave on the wrong side).
absl::Status check_addresses(const Config& c) {
  const Gateway& g = c.gateway;
  std::map<net::IpAddress, int> seen;
  for (const auto* list : {&g.inside_addresses, &g.outside_addresses}) {
    for (const PrefixAt& a : *list) {
      auto [it, inserted] = seen.emplace(a.prefix.addr, a.line);
      if (!inserted) {
        return c.error(a.line, absl::StrCat("address ", a.prefix.addr.to_string(), " is already configured at line ",
                                            it->second));
      }
    }
  }
  for (const PrefixAt& out : g.outside_addresses) {
    for (const PrefixAt& in : g.inside_addresses) {
      if (out.prefix.overlaps(in.prefix)) {
        return c.error(out.line, absl::StrCat("OutsideAddress ", out.prefix.to_string(), " overlaps InsideAddress ",
                                              in.prefix.to_string(), " (line ", in.line,
                                              "); the two sides need separate subnets"));
      }
    }
  }
  return absl::OkStatus();
}

// The line of the first IPv6 address or prefix anywhere in the file, 0 if there is none.
int first_ipv6_line(const Config& c) {
  int first = 0;
  const auto scan = [&](const std::vector<PrefixAt>& list) {
    for (const PrefixAt& p : list) {
      if (!p.prefix.addr.is_v4() && (first == 0 || p.line < first)) first = p.line;
    }
  };
  scan(c.gateway.inside_addresses);
  scan(c.gateway.outside_addresses);
  for (const Peer& peer : c.peers) scan(peer.allowed_ips);
  return first;
}

absl::Status check_mtu(const Config& c) {
  const Gateway& g = c.gateway;
  const int v6_line = first_ipv6_line(c);
  if (g.mtu < kMinMtuIpv6 && v6_line != 0) {
    return c.error(g.mtu_line, absl::StrCat("MTU ", g.mtu, " is below ", kMinMtuIpv6,
                                            ", the IPv6 minimum (RFC 8200), and IPv6 is configured at line ",
                                            v6_line));
  }
  return absl::OkStatus();
}

const PrefixAt* outside_subnet_for(const Gateway& g, const net::IpAddress& a) {
  for (const PrefixAt& out : g.outside_addresses) {
    if (out.prefix.contains(a)) return &out;
  }
  return nullptr;
}

bool has_outside_family(const Gateway& g, std::uint8_t family) {
  for (const PrefixAt& out : g.outside_addresses) {
    if (out.prefix.addr.family == family) return true;
  }
  return false;
}

absl::Status check_outside_gateway(const Config& c) {
  const Gateway& g = c.gateway;
  if (!g.outside_gateway) return absl::OkStatus();
  const std::string gw = g.outside_gateway->to_string();
  if (outside_subnet_for(g, *g.outside_gateway) == nullptr) {
    return c.error(g.outside_gateway_line,
                   absl::StrCat("OutsideGateway ", gw, " is not in any OutsideAddress subnet, so it is not on-link"));
  }
  for (const PrefixAt& out : g.outside_addresses) {
    if (out.prefix.addr == *g.outside_gateway) {
      return c.error(g.outside_gateway_line,
                     absl::StrCat("OutsideGateway ", gw, " is this gateway's own address (line ", out.line, ")"));
    }
  }
  return absl::OkStatus();
}

// A configured endpoint must be reachable: an outside address of its family, and either on-link or
// behind OutsideGateway. Peers without an endpoint are reached where they last roamed from.
absl::Status check_endpoint(const Config& c, const Peer& peer) {
  if (!peer.endpoint) return absl::OkStatus();
  const Gateway& g = c.gateway;
  const net::IpAddress& a = peer.endpoint->addr;
  const std::string family = a.is_v4() ? "IPv4" : "IPv6";
  if (!has_outside_family(g, a.family)) {
    return c.error(peer.endpoint_line, absl::StrCat("Endpoint ", peer.endpoint->to_string(), " is ", family,
                                                    " but no OutsideAddress is ", family));
  }
  const bool routed = g.outside_gateway && g.outside_gateway->family == a.family;
  if (outside_subnet_for(g, a) == nullptr && !routed) {
    return c.error(peer.endpoint_line, absl::StrCat("Endpoint ", peer.endpoint->to_string(),
                                                    " is not on-link on the outside and there is no ", family,
                                                    " OutsideGateway to reach it"));
  }
  return absl::OkStatus();
}

absl::Status check_max_peers(const Config& c) {
  if (c.gateway.max_peers != 0 && c.peers.size() > c.gateway.max_peers) {
    return c.error(c.gateway.max_peers_line,
                   absl::StrCat(c.peers.size(), " peers are configured, more than MaxPeers ", c.gateway.max_peers));
  }
  if (c.peers.size() > kMaxPeersLimit) {
    return c.error(c.peers.back().line, absl::StrCat(c.peers.size(), " peers are configured; a gateway takes at most ",
                                                     kMaxPeersLimit));
  }
  return absl::OkStatus();
}

absl::Status check_peers(const Config& c) {
  std::optional<crypto::PublicKey> own;
  if (c.interface.private_key) own = crypto::public_key(*c.interface.private_key);
  std::map<crypto::PublicKey, const Peer*> keys;
  std::map<net::Prefix, std::pair<int, int>> routed;  // -> AllowedIPs line, [Peer] line
  for (const Peer& peer : c.peers) {
    if (own && *own == peer.public_key) {
      return c.error(peer.public_key_line, absl::StrCat("PublicKey is this gateway's own public key (from line ",
                                                        c.interface.private_key_line, ")"));
    }
    auto [key_it, new_key] = keys.emplace(peer.public_key, &peer);
    if (!new_key) {
      const Peer& first = *key_it->second;
      return c.error(peer.public_key_line, absl::StrCat("duplicate peer: this PublicKey is already used at line ",
                                                        first.public_key_line, " (the [Peer] at line ", first.line, ")"));
    }
    // wg(8) would silently move the prefix to the later peer; a gateway operator wants to know.
    for (const PrefixAt& a : peer.allowed_ips) {
      auto [it, inserted] = routed.emplace(a.prefix, std::pair{a.line, peer.line});
      if (!inserted) {
        const auto [other_line, other_peer] = it->second;
        return c.error(a.line, other_peer == peer.line
                                   ? absl::StrCat("AllowedIPs ", a.prefix.to_string(), " is listed twice (also at line ",
                                                  other_line, ")")
                                   : absl::StrCat("AllowedIPs ", a.prefix.to_string(),
                                                  " is already routed to the [Peer] at line ", other_peer,
                                                  " (AllowedIPs at line ", other_line, ")"));
      }
    }
    if (absl::Status s = check_endpoint(c, peer); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status validate_config(const Config& config) {
  for (const auto check : {check_ports, check_addresses, check_mtu, check_outside_gateway, check_max_peers, check_peers}) {
    if (absl::Status s = check(config); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace wg::config
