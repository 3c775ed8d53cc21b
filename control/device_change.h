// A change to the running device: what one UAPI `set=1` request (`wg set`, `wg setconf`, `wg syncconf`) or
// a SIGHUP re-read of the config file asks for. Parsed and checked whole before anything is applied, so a
// bad request changes nothing (wireguard-go applies line by line; an operator expects all or nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/crypto/secret.h"
#include "lib/crypto/x25519.h"
#include "lib/net/ip.h"

namespace wg::ctl {

struct PeerChange {
  crypto::PublicKey public_key{};
  bool remove = false;
  bool update_only = false;  // change the peer only if it exists; never create it
  std::optional<crypto::Key> preshared_key;  // all zero: none
  std::optional<net::Endpoint> endpoint;
  std::optional<std::uint16_t> persistent_keepalive;
  bool replace_allowed_ips = false;
  std::vector<net::Prefix> allowed_ips;  // added (after the replacement, if any); masked
};

struct DeviceChange {
  std::optional<crypto::Key> private_key;
  std::optional<std::uint16_t> listen_port;
  std::optional<std::uint32_t> fwmark;
  // Peers not named in `peers` are removed. Unlike wireguard-go (which removes all, then re-creates), peers
  // that are named keep their sessions; their settings are replaced by what the change says.
  bool replace_peers = false;
  std::vector<PeerChange> peers;
};

}  // namespace wg::ctl
