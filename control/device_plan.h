// The plan of a DeviceChange (UAPI set=1, SIGHUP, start-up): the first half of applying it, and a pure one
// (no DPDK, no tables, nothing changed), so that every rule of the request is unit-testable and a bad or too
// large request is refused before anything happens. device_update.cc executes the plan.
//
// The change is replayed, in order, over a working copy of every peer's settings and of who owns which
// AllowedIPs prefix: a prefix has one owner, so giving it to a peer takes it from another; a peer with the
// device's own public key is ignored (as wireguard-go does); replace_peers keeps the sessions of peers that
// are named again; capacity is checked on the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "control/device_change.h"

namespace wg::ctl {

// What a change can set on a peer.
struct PeerSettings {
  crypto::PublicKey public_key{};
  crypto::Key preshared_key;
  std::optional<net::Endpoint> endpoint;
  std::uint16_t keepalive = 0;
  std::vector<net::Prefix> allowed_ips;
};

struct DevicePlan {
  struct Peer {
    bool live = false;     // exists before the change
    bool present = false;  // exists after it
    bool drop = false;     // the live peer is torn down (and made again if present: a fresh start)
    PeerSettings settings;  // after the change (when present)
  };
  std::map<crypto::PublicKey, Peer> peers;
  std::vector<crypto::PublicKey> created;           // new peers, in the order the request names them
  std::map<net::Prefix, crypto::PublicKey> claims;  // every prefix's owner after the change

  std::size_t present() const;
};

struct PlanLimits {
  std::size_t max_peers = 0;
  std::size_t max_routes_per_family = 0;
};

// `current`: every live peer, in table order. `own_after`: the device's public key once the change is
// applied; `key_changes`: the change replaces the private key (a live peer with the new public key goes).
[[nodiscard]] absl::StatusOr<DevicePlan> plan_change(const DeviceChange& c, std::span<const PeerSettings> current,
                                                     const crypto::PublicKey& own_after, bool key_changes,
                                                     const PlanLimits& limits);

}  // namespace wg::ctl
