// Traffic for the gateway itself, on the control thread: ARP and IPv6 neighbour discovery (answering for
// our addresses, learning neighbours, resolving next hops and inside hosts), ICMP echo for our addresses,
// and ICMP too-big for inner packets over the MTU. Frames are built by lib/net; this file only routes them.
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstring>

#include "control/control_plane.h"
#include "dataplane/pool_budget.h"
#include "control/log.h"
#include "lib/net/arp.h"
#include "lib/net/icmp.h"
#include "lib/net/ndp.h"

namespace wg::ctl {
namespace {
using namespace std::chrono_literals;

net::MacAddress mac_of(const rte_ether_addr& a) {
  net::MacAddress m;
  std::memcpy(m.bytes.data(), a.addr_bytes, 6);
  return m;
}
}  // namespace

const net::IpAddress* ControlPlane::own_address(std::uint16_t port, std::uint8_t family) const {
  if (port == gw_.outside_port) {
    if (family == 4) return gw_.has_outside_v4 ? &gw_.outside_v4 : nullptr;
    return gw_.has_outside_v6 ? &gw_.outside_v6 : nullptr;
  }
  for (std::uint32_t i = 0; i < gw_.inside_addr_count; ++i) {
    if (gw_.inside_addrs[i].family == family) return &gw_.inside_addrs[i];
  }
  return nullptr;
}

net::IpAddress ControlPlane::next_hop_for(const net::Endpoint& ep) const {
  for (const auto& a : cfg_.gateway.outside_addresses) {
    if (a.prefix.masked().contains(ep.addr)) return ep.addr;  // on-link
  }
  if (cfg_.gateway.outside_gateway && cfg_.gateway.outside_gateway->family == ep.addr.family) {
    return *cfg_.gateway.outside_gateway;
  }
  return ep.addr;
}

NeighborTable& ControlPlane::neighbors(std::uint16_t port) {
  return port == gw_.inside_port ? inside_nbrs_ : outside_nbrs_;
}

void ControlPlane::learn_neighbor(std::uint16_t port, const net::IpAddress& ip, const net::MacAddress& mac,
                                  NeighborTable::Kind kind, MonoTime now) {
  switch (neighbors(port).learn(ip, mac, kind, now)) {
    case NeighborTable::Learned::kIgnored:
    case NeighborTable::Learned::kConfirmed: return;
    case NeighborTable::Learned::kDisputed:
      counters_.add(CtlCounter::neighbor_claims_disputed);
      return;
    case NeighborTable::Learned::kNew: break;
  }
  if (port == gw_.inside_port) {
    set_inside_neighbor(ip, mac);
    auto held = held_.find(ip);
    if (held != held_.end()) {
      for (Held& h : held->second) {
        std::memcpy(rte_pktmbuf_mtod(h.m, std::uint8_t*), mac.bytes.data(), 6);
        send_mbuf(gw_.inside_port, h.m);
        --held_count_;
      }
      held_.erase(held);
    }
    return;
  }
  log_event("outside neighbour %s is %s", ip.to_string().c_str(), mac.to_string().c_str());
  next_hop_changed(ip, now);
}

// Every peer reached through `hop` gets a new route (one grace period for all of them, however many: an
// attacker who makes a next hop change cannot make control wait once per peer), then what waited for the
// hop goes out.
void ControlPlane::next_hop_changed(const net::IpAddress& hop, MonoTime now) {
  std::vector<Peer*> behind;
  for (Peer* p : peers_.all()) {
    if (p->endpoint && next_hop_for(*p->endpoint) == hop) behind.push_back(p);
  }
  publish_routes(behind);
  if (!outside_nbrs_.lookup(hop)) return;
  for (Peer* p : behind) {
    if (!p->unsent_handshake.empty()) {
      std::vector<std::uint8_t> msg;
      msg.swap(p->unsent_handshake);
      transmit_handshake(*p, msg, now);
    }
    flush_staged(*p, now);
  }
}

// Asks what the tables want asked (refreshes, verifications of disputed claims, retries) and withdraws what
// they removed: inside hosts from the workers' table (after one grace period), outside next hops from the
// routes of the peers behind them.
void ControlPlane::neighbor_upkeep(MonoTime now) {
  for (std::uint16_t port : {gw_.inside_port, gw_.outside_port}) {
    NeighborTable::Upkeep u = neighbors(port).upkeep(now);
    for (const NeighborTable::Ask& a : u.ask) send_neighbor_request(port, a.ip, a.unicast);
    if (u.removed.empty()) continue;
    if (port == gw_.outside_port) {
      for (const net::IpAddress& ip : u.removed) next_hop_changed(ip, now);
      continue;
    }
    Retired r;
    for (const net::IpAddress& ip : u.removed) {
      const auto key = dp::neighbor_key(ip);
      const std::int32_t pos = rte_hash_del_key(tables_.inside_neighbors, key.data());
      if (pos >= 0) r.hash_positions.push_back(pos);
    }
    retire(std::move(r));  // a key's slot is reused only once no worker can still be reading it
  }
  counters_.set(CtlGauge::inside_neighbors, static_cast<double>(inside_nbrs_.size()));
  counters_.set(CtlGauge::outside_neighbors, static_cast<double>(outside_nbrs_.size()));
  counters_.set_count(CtlCounter::neighbors_refused, inside_nbrs_.refused() + outside_nbrs_.refused());
}

void ControlPlane::hold_for_neighbor(rte_mbuf* m, MonoTime now) {
  constexpr std::size_t kPerHost = 16;
  const auto ip = dp::parse_inner_ip(rte_pktmbuf_mtod(m, const std::uint8_t*) + dp::kEthLen,
                                     m->data_len - dp::kEthLen);
  if (ip.family == 0) {  // cannot happen: the worker parsed it before handing it over
    rte_pktmbuf_free(m);
    return;
  }
  const net::IpAddress dst = net::IpAddress::from_bytes(ip.family, ip.dst);
  if (const auto known = inside_nbrs_.lookup(dst)) {  // learnt while the packet was in the ring
    std::memcpy(rte_pktmbuf_mtod(m, std::uint8_t*), known->bytes.data(), 6);
    send_mbuf(gw_.inside_port, m);
    return;
  }
  auto& q = held_[dst];
  if (q.size() >= kPerHost || held_count_ >= dp::kHeldBudget) {
    counters_.add_drop(q.size() >= kPerHost ? CtlDrop::held_host_full : CtlDrop::held_budget);
    rte_pktmbuf_free(m);
    if (q.empty()) held_.erase(dst);
  } else {
    q.push_back({m, now});
    ++held_count_;
  }
  resolve(gw_.inside_port, dst, now);
}

void ControlPlane::expire_held(MonoTime now) {
  for (auto it = held_.begin(); it != held_.end();) {
    auto& q = it->second;
    while (!q.empty() && now - q.front().since > 3s) {  // the host does not answer: give up on them
      rte_pktmbuf_free(q.front().m);
      q.pop_front();
      --held_count_;
      counters_.add_drop(CtlDrop::held_expired);
    }
    it = q.empty() ? held_.erase(it) : std::next(it);
  }
}

void ControlPlane::resolve(std::uint16_t port, const net::IpAddress& ip, MonoTime now, bool pin) {
  if (neighbors(port).want(ip, now, pin)) send_neighbor_request(port, ip);
}

void ControlPlane::send_neighbor_request(std::uint16_t port, const net::IpAddress& ip,
                                         const std::optional<net::MacAddress>& unicast) {
  const net::IpAddress* own = own_address(port, ip.family);
  if (own == nullptr) return;
  const net::MacAddress our_mac = mac_of(port == gw_.inside_port ? gw_.inside_mac : gw_.outside_mac);
  std::uint8_t frame[128];
  const std::size_t n = ip.is_v4() ? net::build_arp_request(frame, our_mac, *own, ip, unicast)
                                   : net::build_neighbor_solicit(frame, our_mac, *own, ip, unicast);
  if (n > 0) send_frame(port, {frame, n});
}

void ControlPlane::handle_neighbor(rte_mbuf* m, MonoTime now) {
  const std::uint16_t port = m->port;
  const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
  const net::MacAddress our_mac = mac_of(port == gw_.inside_port ? gw_.inside_mac : gw_.outside_mac);
  std::uint8_t out[128];
  std::size_t n = 0;
  net::ArpInfo arp;
  net::NdpInfo ndp;
  if (net::parse_arp(frame, arp)) {
    const net::IpAddress* own = own_address(port, 4);
    const bool to_us = arp.op == net::kArpRequest && own != nullptr && arp.target_ip == *own;
    // A request to us: its sender talks to us. Anything else is an answer, believed only if we asked.
    learn_neighbor(port, arp.sender_ip, arp.sender_mac, to_us ? NeighborTable::Kind::kRequest
                                                              : NeighborTable::Kind::kAnswer, now);
    if (to_us) n = net::build_arp_reply(out, our_mac, arp);
  } else if (net::parse_ndp(frame, ndp)) {
    const net::IpAddress* own = own_address(port, 6);
    const bool to_us = ndp.type == 135 && own != nullptr && ndp.target == *own;
    if (ndp.has_lladdr && (ndp.type == 136 || to_us)) {
      learn_neighbor(port, ndp.type == 135 ? ndp.src : ndp.target, ndp.lladdr,
                     to_us ? NeighborTable::Kind::kRequest : NeighborTable::Kind::kAnswer, now);
    }
    if (to_us) {
      net::MacAddress dst;
      std::memcpy(dst.bytes.data(), frame.data() + 6, 6);
      n = net::build_neighbor_advert(out, our_mac, *own, ndp, dst);
    }
  } else {
    counters_.add_drop(CtlDrop::not_answered);  // neither ARP nor an NS/NA that passes RFC 4861's checks
  }
  if (n > 0) send_frame(port, {out, n});
  rte_pktmbuf_free(m);
}

void ControlPlane::handle_local(rte_mbuf* m) {
  const std::uint16_t port = m->port;
  const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
  const net::MacAddress our_mac = mac_of(port == gw_.inside_port ? gw_.inside_mac : gw_.outside_mac);
  std::uint8_t out[1600];
  // Anything but an echo request to us is answered with nothing (build_echo_reply refuses it).
  const std::size_t n = net::build_echo_reply(out, frame, our_mac);
  if (n > 0) {
    send_frame(port, {out, n});
  } else {
    counters_.add_drop(CtlDrop::not_answered);
  }
  rte_pktmbuf_free(m);
}

void ControlPlane::answer_too_big(rte_mbuf* m) {
  const std::uint16_t port = m->port;
  const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
  const auto ip = frame.size() > dp::kEthLen ? dp::parse_inner_ip(frame.data() + dp::kEthLen, frame.size() - dp::kEthLen)
                                             : dp::InnerIp{};
  const net::IpAddress* own = ip.family != 0 ? own_address(port, ip.family) : nullptr;
  std::uint8_t out[1600];
  std::size_t n = 0;
  if (own != nullptr && !icmp_errors_.allow(mono_now())) {
    counters_.add_drop(CtlDrop::icmp_rate_limited);
  } else if (own != nullptr) {
    net::MacAddress src;
    std::memcpy(src.bytes.data(), frame.data() + 6, 6);
    n = net::build_too_big(out, mac_of(gw_.inside_mac), src, *own, frame.subspan(dp::kEthLen, ip.len), gw_.mtu);
  }  // ip.family == 0 cannot happen: the worker parsed it
  if (n > 0) send_frame(port, {out, n});
  rte_pktmbuf_free(m);
}

void ControlPlane::answer_time_exceeded(rte_mbuf* m) {
  const bool from_peer = m->port != gw_.inside_port;
  const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
  const auto ip = frame.size() > dp::kEthLen ? dp::parse_inner_ip(frame.data() + dp::kEthLen, frame.size() - dp::kEthLen)
                                             : dp::InnerIp{};
  // Our inside address is the source either way: it is the hop that dropped the packet, and it is within
  // the AllowedIPs a peer has for this gateway.
  const net::IpAddress* own = ip.family != 0 ? own_address(gw_.inside_port, ip.family) : nullptr;
  if (ip.family == 0) {
    // cannot happen: the worker parsed it
  } else if (own != nullptr && !icmp_errors_.allow(mono_now())) {
    counters_.add_drop(CtlDrop::icmp_rate_limited);
  } else if (own != nullptr) {
    std::uint8_t out[dp::kEthLen + 1280];
    const auto packet = frame.subspan(dp::kEthLen, ip.len);
    if (!from_peer) {
      net::MacAddress src;
      std::memcpy(src.bytes.data(), frame.data() + 6, 6);
      const std::size_t n = net::build_time_exceeded(out, mac_of(gw_.inside_mac), src, *own, packet);
      if (n > 0) send_frame(gw_.inside_port, {out, n});
    } else {
      // Back through the tunnel to the peer that sent it: the answer's destination is the packet's source,
      // which cryptokey routing already proved to be that peer's.
      const std::size_t n = net::build_time_exceeded_ip(out, *own, packet);
      std::uint32_t peer = dp::kNoPeer;
      Peer* p = n > 0 && tables_.lookup(ip.family, ip.src, peer) ? peers_.get(peer) : nullptr;
      if (p != nullptr) send_transport(*p, {out, n}, mono_now());
    }
  }
  rte_pktmbuf_free(m);
}

}  // namespace wg::ctl
