// Publication to the workers (docs/ARCHITECTURE.md, "Publishing without locks"): new objects are made
// reachable with release stores; displaced ones are made unreachable, then freed only after every worker has
// passed a quiescent state (rte_rcu_qsbr), so no worker can still hold a pointer to them.
// What the network causes (handshakes, expiry, next hops changing, inside hosts aged out) is retired without
// waiting: a QSBR token is taken and the objects are freed by reclaim(), once a pass, when the token is
// done. A worker that is slow to be scheduled then delays a free, never the control loop. Only changes an
// operator makes (wg set, SIGHUP, a new private key) wait for the grace period in place.
#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>

#include <cstring>

#include "control/control_plane.h"

namespace wg::ctl {

void ControlPlane::synchronize() { rte_rcu_qsbr_synchronize(tables_.qsbr, RTE_QSBR_THRID_INVALID); }

void ControlPlane::publish_keypairs(Peer& p, std::vector<noise::KeypairPtr> retired) {
  link_keypairs(p, retired);
  if (retired.empty()) return;
  Retired r;
  r.keypairs = std::move(retired);
  retire(std::move(r));
}

void ControlPlane::retire(Retired r) {
  r.token = rte_rcu_qsbr_start(tables_.qsbr);
  retiring_.push_back(std::move(r));
}

bool ControlPlane::reclaim() {
  bool any = false;
  while (!retiring_.empty() && rte_rcu_qsbr_check(tables_.qsbr, retiring_.front().token, false) == 1) {
    Retired& r = retiring_.front();
    free_keypairs(r.keypairs);
    for (std::int32_t pos : r.hash_positions) rte_hash_free_key_with_position(tables_.inside_neighbors, pos);
    retiring_.pop_front();  // routes free themselves
    any = true;
  }
  counters_.set(CtlGauge::retiring_batches, static_cast<double>(retiring_.size()));
  return any;
}

void ControlPlane::link_keypairs(Peer& p, const std::vector<noise::KeypairPtr>& retired) {
  // 1. Every live keypair is findable by its receiver index before it is used to send.
  for (noise::Keypair* kp : {p.keypairs.current(), p.keypairs.previous(), p.keypairs.next()}) {
    if (kp != nullptr) tables_.by_index[tables_.index_slot(kp->local_index)].store(kp, std::memory_order_release);
  }
  // 2. The send keypair.
  tables_.peers[p.id].send_keypair.store(p.keypairs.current(), std::memory_order_release);
  // 3. Unlink what was displaced; free_keypairs() frees it once the workers have passed a grace period.
  for (const auto& kp : retired) {
    auto& slot = tables_.by_index[tables_.index_slot(kp->local_index)];
    if (slot.load(std::memory_order_relaxed) == kp.get()) slot.store(nullptr, std::memory_order_release);
  }
}

void ControlPlane::free_keypairs(std::vector<noise::KeypairPtr>& retired) {
  for (auto& kp : retired) {
    peers_.release_index(kp->local_index);
    kp.reset();  // Keypair's keys wipe themselves
  }
  retired.clear();
}

void ControlPlane::publish_route(Peer& p) {
  Peer* one[] = {&p};
  publish_routes(one);
}

void ControlPlane::publish_routes(std::span<Peer* const> peers) {
  std::vector<std::unique_ptr<dp::PeerRoute>> old;
  for (Peer* p : peers) {
    std::unique_ptr<dp::PeerRoute> next;
    if (p->endpoint) {
      if (const auto mac = outside_nbrs_.lookup(next_hop_for(*p->endpoint))) {
        next = std::make_unique<dp::PeerRoute>();
        next->endpoint = *p->endpoint;
        std::memcpy(next->next_hop_mac.addr_bytes, mac->bytes.data(), 6);
      }
    }
    tables_.peers[p->id].route.store(next.get(), std::memory_order_release);
    tables_.peers[p->id].has_endpoint.store(p->endpoint.has_value(), std::memory_order_relaxed);
    publish_endpoint(*p);
    if (routes_[p->id]) old.push_back(std::move(routes_[p->id]));
    routes_[p->id] = std::move(next);
  }
  if (old.empty()) return;
  Retired r;
  r.routes = std::move(old);
  retire(std::move(r));  // freed once no worker can hold an old route
}

void ControlPlane::publish_endpoint(Peer& p, bool gone) {
  std::uint64_t fp = 0;
  if (p.endpoint && !gone) {
    fp = dp::endpoint_fingerprint(p.endpoint->addr.family, p.endpoint->addr.bytes.data(),
                                  rte_cpu_to_be_16(p.endpoint->port));
  }
  if (fp == p.endpoint_fp) return;
  auto& slots = tables_.known_endpoints;
  if (p.endpoint_fp != 0) {  // withdraw the old one, unless another peer's took its slot since
    auto& old = slots[p.endpoint_fp & tables_.endpoint_mask];
    if (old.load(std::memory_order_relaxed) == p.endpoint_fp) old.store(0, std::memory_order_relaxed);
  }
  if (fp != 0) slots[fp & tables_.endpoint_mask].store(fp, std::memory_order_relaxed);
  p.endpoint_fp = fp;
}

void ControlPlane::set_inside_neighbor(const net::IpAddress& ip, const net::MacAddress& mac) {
  std::uintptr_t word = 0;
  for (int b = 0; b < 6; ++b) word |= static_cast<std::uintptr_t>(mac.bytes[b]) << (8 * b);
  const auto key = dp::neighbor_key(ip);
  // The data word is replaced atomically; workers see the old or the new MAC, never a mix.
  rte_hash_add_key_data(tables_.inside_neighbors, key.data(), reinterpret_cast<void*>(word));
}

}  // namespace wg::ctl
