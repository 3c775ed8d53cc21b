// Applying a DeviceChange to the running gateway (UAPI set=1, SIGHUP, and the config at start-up) without
// stopping the workers and without losing traffic that should keep flowing:
//   1. plan (device_plan.h, pure): the change replayed over a working copy of the peers' settings and the
//      prefix owners, capacity checked. Nothing has changed yet, so a bad or too large request changes nothing.
//   2. create the new peers (slots clean; no route points at them yet)
//   3. route edits, published at once (RouteTable: spare copy, swap, grace period)
//   4. device settings (listen port, private key) and surviving peers' settings (psk, endpoint, keepalive)
//   5. tear down the removed peers: unpublish their route and keypairs, wait a grace period, then free
//      everything and zero their worker records, so the slot can serve a new peer later
#include <rte_mbuf.h>
#include <malloc.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <unordered_set>

#include "absl/strings/str_cat.h"

#include "control/control_plane.h"
#include "control/device_plan.h"
#include "control/log.h"
#include "lib/crypto/key_encoding.h"

namespace wg::ctl {

absl::Status ControlPlane::apply_change(const DeviceChange& c) {
  const MonoTime now = mono_now();
  // The device's own public key after the change: a peer with that key is ignored (as wireguard-go does).
  bool key_changes = false;
  crypto::PublicKey own = identity_.public_key;
  if (c.private_key) {
    if (c.private_key->is_zero()) {
      return absl::InvalidArgumentError("private_key: an all-zero key cannot identify the gateway");
    }
    key_changes = !identity_.has_key || !(identity_.private_key == *c.private_key);
    if (key_changes) own = crypto::public_key(*c.private_key);
  }

  // 1. Plan (device_plan.h): nothing changes if it is refused.
  std::vector<PeerSettings> current;
  current.reserve(peers_.size());
  for (const Peer* p : peers_.all()) {
    current.push_back({p->public_key, p->preshared_key, p->endpoint, p->persistent_keepalive, p->allowed_ips});
  }
  absl::StatusOr<DevicePlan> planned =
      plan_change(c, current, own, key_changes, {tables_.peer_capacity, tables_.route_capacity});
  if (!planned.ok()) return planned.status();
  const DevicePlan& plan = *planned;

  // 2. New peers.
  std::map<crypto::PublicKey, Peer*> final_peer;
  std::vector<Peer*> created;
  for (const auto& [key, w] : plan.peers) {
    if (w.present && w.live && !w.drop) final_peer[key] = peers_.find(key);
  }
  for (const crypto::PublicKey& key : plan.created) {
    Peer* p = peers_.add(key, plan.peers.at(key).settings.preshared_key);
    tables_.peers[p->id].handshake_wanted.store(false, std::memory_order_relaxed);
    created.push_back(p);
    final_peer[key] = p;
  }

  // 3. Routes, all at once.
  std::vector<RouteEdit> edits;
  std::map<net::Prefix, std::uint32_t> want;
  for (const auto& [prefix, key] : plan.claims) want[prefix] = final_peer.at(key)->id;
  for (const auto& [prefix, id] : allowed_ips_.routes()) {
    if (!want.contains(prefix)) edits.push_back({prefix, std::nullopt});
  }
  for (const auto& [prefix, id] : want) {
    if (allowed_ips_.owner(prefix) != id) edits.push_back({prefix, id});
  }
  if (absl::Status s = allowed_ips_.apply(edits); !s.ok()) {
    for (Peer* p : created) peers_.erase(*p);
    return s;
  }

  // 4. Device settings, then each surviving or new peer's.
  // Port 0 asks for "any port" (wg syncconf sends it for a file without ListenPort): the current one is
  // as good as any, and moving would cut every peer off.
  if (c.listen_port && *c.listen_port != 0 && *c.listen_port != listen_port()) {
    tables_.listen_port.store(*c.listen_port, std::memory_order_relaxed);
    log_notice("listen port is now %u", *c.listen_port);
  }
  if (c.fwmark) fwmark_ = *c.fwmark;
  if (key_changes) {
    // Every session was made with the old key: drop them all; the next packet starts a new handshake. One
    // grace period for all the peers' keypairs, not one per peer.
    identity_.set(*c.private_key);
    gate_.init(identity_.public_key);
    std::vector<noise::KeypairPtr> retired;
    for (Peer* p : peers_.all()) {
      p->handshake.precompute();
      p->handshake.clear();
      if (p->handshake_index != 0) peers_.release_index(p->handshake_index);
      p->handshake_index = 0;
      std::vector<noise::KeypairPtr> dropped = p->keypairs.clear();
      link_keypairs(*p, dropped);
      std::move(dropped.begin(), dropped.end(), std::back_inserter(retired));
    }
    if (!retired.empty()) {
      synchronize();
      free_keypairs(retired);
    }
    log_notice("private key replaced; public key is now %s", crypto::to_base64(identity_.public_key).c_str());
  }
  std::size_t updated = 0;
  const std::unordered_set<const Peer*> is_created(created.begin(), created.end());  // not a scan per peer
  for (const auto& [key, pw] : plan.peers) {
    if (!pw.present) continue;
    const PeerSettings& w = pw.settings;
    Peer& p = *final_peer.at(key);
    const bool is_new = is_created.count(&p) != 0;
    bool changed = is_new;
    if (!(p.preshared_key == w.preshared_key)) {
      p.preshared_key = w.preshared_key;
      p.handshake.set_preshared_key(w.preshared_key);
      changed = true;
    }
    if (p.endpoint != w.endpoint || is_new) {
      p.endpoint = w.endpoint;
      publish_route(p);
      if (p.endpoint) resolve(gw_.outside_port, next_hop_for(*p.endpoint), now, true);
      changed = true;
    }
    if (p.persistent_keepalive != w.keepalive || is_new) {
      p.persistent_keepalive = w.keepalive;
      p.timers.set_persistent_keepalive(now, std::chrono::seconds(w.keepalive));
      changed = true;
    }
    if (p.allowed_ips != w.allowed_ips) {
      p.allowed_ips = w.allowed_ips;
      changed = true;
    }
    updated += changed && !is_new;
    if (changed) touch(p);
  }

  // 5. Removed peers, all behind one grace period (a bulk change must not hold the control thread, which
  // also serves its own queue pair, for one grace period per peer).
  std::vector<Peer*> gone;
  for (const auto& [key, w] : plan.peers) {
    if (w.live && (!w.present || w.drop)) gone.push_back(peers_.find(key));
  }
  remove_peers(gone);
  const std::size_t removed = gone.size();
  if (!created.empty() || updated != 0 || removed != 0) {
    log_event("configuration applied: %zu peer(s) added, %zu changed, %zu removed; %zu peer(s), %zu route(s)",
              created.size(), updated, removed, peers_.size(), allowed_ips_.size());
  }
  refresh_metrics();
  // A change of thousands of peers (a bulk `wg set`, a reload) frees as much as it built: give it back.
  if (created.size() + removed >= kTrimAfterPeers) malloc_trim(0);
  return absl::OkStatus();
}

void ControlPlane::remove_peers(std::span<Peer* const> gone) {
  if (gone.empty()) return;
  // No route table entry names these peers any more (apply_change edited them first); unpublish the rest.
  std::vector<noise::KeypairPtr> retired;
  for (Peer* p : gone) {
    dp::PeerSlot& slot = tables_.peers[p->id];
    slot.route.store(nullptr, std::memory_order_release);
    slot.send_keypair.store(nullptr, std::memory_order_release);
    slot.has_endpoint.store(false, std::memory_order_relaxed);
    publish_endpoint(*p, true);
    for (noise::KeypairPtr& kp : p->keypairs.clear()) {
      auto& index_slot = tables_.by_index[tables_.index_slot(kp->local_index)];
      if (index_slot.load(std::memory_order_relaxed) == kp.get()) index_slot.store(nullptr, std::memory_order_release);
      retired.push_back(std::move(kp));
    }
  }
  synchronize();  // from here no worker can reach these peers' slots, keypairs or activity records
  retired.clear();  // keypairs wipe their keys
  for (Peer* p : gone) {
    routes_[p->id].reset();
    drop_staged(*p, CtlDrop::staging_peer_removed);
    for (std::uint16_t w = 0; w <= workers_; ++w) (*tables_.workers)[w].peers[p->id] = dp::PeerActivity{};
    tables_.peers[p->id].handshake_wanted.store(false, std::memory_order_relaxed);
    wheel_.cancel(p->id);
    facts_changed(p->id);  // gone from the metrics
    peers_.erase(*p);  // releases the peer's receiver indexes
  }
}

}  // namespace wg::ctl
