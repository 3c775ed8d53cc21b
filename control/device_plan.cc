#include "control/device_plan.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace wg::ctl {

std::size_t DevicePlan::present() const {
  return static_cast<std::size_t>(std::count_if(peers.begin(), peers.end(), [](const auto& kv) {
    return kv.second.present;
  }));
}

absl::StatusOr<DevicePlan> plan_change(const DeviceChange& c, std::span<const PeerSettings> current,
                                       const crypto::PublicKey& own_after, bool key_changes,
                                       const PlanLimits& limits) {
  DevicePlan plan;
  auto& work = plan.peers;
  auto& claim = plan.claims;
  for (const PeerSettings& s : current) {
    DevicePlan::Peer& w = work[s.public_key];
    w.live = true;
    w.present = !c.replace_peers;
    w.settings = s;
    if (w.present) {
      for (const net::Prefix& a : s.allowed_ips) claim[a] = s.public_key;
    } else {
      w.settings.allowed_ips.clear();
    }
  }
  auto release_claims = [&](const crypto::PublicKey& key, DevicePlan::Peer& w) {
    for (const net::Prefix& a : w.settings.allowed_ips) {
      if (auto it = claim.find(a); it != claim.end() && it->second == key) claim.erase(it);
    }
    w.settings.allowed_ips.clear();
  };
  if (key_changes) {
    if (auto it = work.find(own_after); it != work.end()) {
      it->second.present = false;
      it->second.drop = true;
      release_claims(own_after, it->second);
    }
  }
  std::vector<crypto::PublicKey> named;
  for (const PeerChange& pc : c.peers) {
    if (pc.public_key == own_after) continue;
    named.push_back(pc.public_key);
    DevicePlan::Peer& w = work[pc.public_key];
    w.settings.public_key = pc.public_key;
    if (pc.remove) {
      w.present = false;
      w.drop = w.live;
      release_claims(pc.public_key, w);
      continue;
    }
    if (!w.present) {
      if (pc.update_only) continue;
      w.present = true;
      w.settings.preshared_key = crypto::Key();
      w.settings.keepalive = 0;
      if (!w.live || w.drop) w.settings.endpoint.reset();  // a named peer keeps what it learnt
    }
    if (pc.preshared_key) w.settings.preshared_key = *pc.preshared_key;
    if (pc.endpoint) w.settings.endpoint = pc.endpoint;
    if (pc.persistent_keepalive) w.settings.keepalive = *pc.persistent_keepalive;
    if (pc.replace_allowed_ips) release_claims(pc.public_key, w);
    for (const net::Prefix& a : pc.allowed_ips) {
      auto [it, fresh] = claim.try_emplace(a, pc.public_key);
      if (!fresh && it->second != pc.public_key) {
        std::erase(work[it->second].settings.allowed_ips, a);
        it->second = pc.public_key;
      }
      auto& mine = w.settings.allowed_ips;
      if (std::find(mine.begin(), mine.end(), a) == mine.end()) mine.push_back(a);
    }
  }
  std::size_t creates = 0;
  for (const auto& [key, w] : work) creates += w.present && (!w.live || w.drop);
  if (plan.present() > limits.max_peers || current.size() + creates > limits.max_peers) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many peers: ", std::max(plan.present(), current.size() + creates), " after this change, room for ",
                     limits.max_peers, " (MaxPeers in [Gateway], read at start)"));
  }
  std::size_t v4 = 0;
  for (const auto& [prefix, key] : claim) v4 += prefix.addr.is_v4();
  if (v4 > limits.max_routes_per_family || claim.size() - v4 > limits.max_routes_per_family) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many AllowedIPs: at most ", limits.max_routes_per_family, " per family"));
  }
  std::set<crypto::PublicKey> listed;  // a key named twice is created once (a set: 100,000 names stay cheap)
  for (const crypto::PublicKey& key : named) {
    const DevicePlan::Peer& w = work.at(key);
    const bool make = w.present && (!w.live || w.drop);
    if (make && listed.insert(key).second) plan.created.push_back(key);
  }
  return plan;
}

}  // namespace wg::ctl
