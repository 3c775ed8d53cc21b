// Inside -> outside, over one burst:
//   1. classify: only frames a router would take: unicast to our inside MAC, or broadcast/multicast ARP and
//      IPv6 multicast (NDP) -> anything else dropped (both ports are promiscuous); ARP, own addresses, IPv6
//      multicast -> control; non-IP / malformed -> drop; larger than the MTU -> control (ICMP too-big)
//   2. route: longest-prefix match of the inner destination over AllowedIPs -> peer; TTL / hop limit
//      decremented (already <= 1: not forwarded, control answers ICMP time exceeded) -> send keypair + route
//      (no session or no route yet: ask for a handshake, stage the packet, decremented, at control)
//   3. shape: trim Ethernet padding, make room for outer headers, zero-pad to 16, room for the tag
//   4. reserve nonce counters once per run of packets under the same keypair
//   5. write the outer headers, batch-seal all payloads in one engine call
//   6. tx outside (encrypt_burst; a slice of a spread burst is sent by its owner, in order: spread.h)
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/packet.h"
#include "dataplane/worker.h"
#include "lib/protocol/messages.h"

namespace wg::dp {
namespace {

struct Pending {
  rte_mbuf* m;
  noise::Keypair* kp;
  const PeerRoute* route;
  std::uint32_t peer;
  std::uint16_t inner_len;
  std::uint16_t padded;
  std::uint64_t counter;
  bool ok;
};

bool lookup_peer(const Tables& t, const InnerIp& ip, std::uint32_t& peer) { return t.lookup(ip.family, ip.dst, peer); }

void want_handshake(PeerSlot& slot) {
  // One request per peer however many packets: a plain load first keeps the cache line shared.
  if (!slot.handshake_wanted.load(std::memory_order_relaxed)) {
    slot.handshake_wanted.store(true, std::memory_order_release);
  }
}

}  // namespace

void encrypt_burst(WorkerContext& ctx, std::span<rte_mbuf*> pkts) {
  rte_mbuf* out[kBurst];
  const std::uint16_t n = encrypt_slice(ctx, pkts, out);
  send_burst(ctx, ctx.gw->outside_port, out, n, Counter::tx_outside_packets);
}

std::uint16_t encrypt_slice(WorkerContext& ctx, std::span<rte_mbuf*> pkts, rte_mbuf** out) {
  const GatewayInfo& gw = *ctx.gw;
  Tables& t = *ctx.tables;
  const std::uint16_t listen_port = t.listen_port.load(std::memory_order_relaxed);  // once per burst
  WorkerCounters& c = ctx.shared->counters;
  const std::uint64_t burst_tsc = rte_rdtsc();  // keypair age limits are checked against it, once a burst
  Pending pend[kBurst];
  std::uint16_t np = 0;

  for (rte_mbuf* m : pkts) {
    if (m->nb_segs != 1) {
      c.add(Counter::drop_multi_segment);
      rte_pktmbuf_free(m);
      continue;
    }
    auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::uint16_t len = m->data_len;
    if (len < kEthLen) {
      c.add(Counter::drop_not_ip);
      rte_pktmbuf_free(m);
      continue;
    }
    // A router takes only what is addressed to it: the port is promiscuous, so a frame between two other
    // inside hosts arrives here too and must not be tunneled. Group frames are for us only as ARP or NDP.
    const bool group = is_group_mac(frame);
    if (!group && !is_same_mac(frame, gw.inside_mac)) {
      c.add(Counter::drop_inside_not_for_us);
      rte_pktmbuf_free(m);
      continue;
    }
    const std::uint16_t type = rte_be_to_cpu_16(reinterpret_cast<rte_ether_hdr*>(frame)->ether_type);
    if (type == RTE_ETHER_TYPE_ARP) {
      hand_to_control(ctx, m, Counter::to_control_local);
      continue;
    }
    if (group && type != RTE_ETHER_TYPE_IPV6) {
      c.add(Counter::drop_inside_not_for_us);  // IPv4 broadcast/multicast, or any other protocol
      rte_pktmbuf_free(m);
      continue;
    }
    if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_IPV6) {
      c.add(Counter::drop_not_ip);
      rte_pktmbuf_free(m);
      continue;
    }
    std::uint8_t* l3 = frame + kEthLen;
    const InnerIp ip = parse_inner_ip(l3, len - kEthLen);
    if (ip.family == 0 || (ip.family == 4) != (type == RTE_ETHER_TYPE_IPV4)) {
      c.add(Counter::drop_malformed_inner);
      rte_pktmbuf_free(m);
      continue;
    }
    const bool multicast6 = ip.family == 6 && ip.dst[0] == 0xff;
    if (group && !(multicast6 && frame[0] == 0x33 && frame[1] == 0x33)) {
      c.add(Counter::drop_inside_not_for_us);  // an IPv6 group frame that is not IPv6 multicast (RFC 2464 7)
      rte_pktmbuf_free(m);
      continue;
    }
    if (multicast6 || is_inside_address(gw, ip.family, ip.dst)) {
      hand_to_control(ctx, m, Counter::to_control_local);  // ping to us, NDP
      continue;
    }
    if (ip.len > gw.mtu) {
      hand_to_control(ctx, m, Counter::drop_too_big);  // control answers with ICMP too-big, quoting it as received
      continue;
    }
    std::uint32_t peer = 0;
    if (!lookup_peer(t, ip, peer) || peer >= t.peer_capacity) {
      c.add(Counter::drop_no_route);
      rte_pktmbuf_free(m);
      continue;
    }
    // Forwarded from here on, sealed by us or staged at control: one hop less. Control answers an expired
    // packet with ICMP time exceeded (RFC 1812 section 5.3.1, RFC 4443 section 3.3), rate-limited.
    if (!decrement_ttl(l3, ip.family)) {
      hand_to_control(ctx, m, Counter::drop_ttl_exceeded);
      continue;
    }
    PeerSlot& slot = t.peers[peer];
    noise::Keypair* kp = slot.send_keypair.load(std::memory_order_acquire);
    if (kp != nullptr && kp->reject_after_ticks <= burst_tsc) kp = nullptr;  // expired: a new handshake
    const PeerRoute* route = slot.route.load(std::memory_order_acquire);
    if (kp == nullptr || route == nullptr) {
      if (!slot.has_endpoint.load(std::memory_order_relaxed)) {  // nowhere to send a handshake: as the kernel
        c.add(Counter::drop_no_endpoint);
        rte_pktmbuf_free(m);
        continue;
      }
      want_handshake(slot);
      hand_to_control(ctx, m, Counter::staged_for_handshake);
      continue;
    }
    const bool v4 = route->endpoint.addr.is_v4();
    if (v4 ? !gw.has_outside_v4 : !gw.has_outside_v6) {
      c.add(Counter::drop_no_source_address);
      rte_pktmbuf_free(m);
      continue;
    }
    // Shape the mbuf: [eth][ip][udp][wg header][inner ... zero padding][tag]
    const auto padded = static_cast<std::uint16_t>(noise::padded_length(ip.len, gw.mtu));
    const std::uint16_t head = outer_header_len(route->endpoint.addr.family) +
                               sizeof(noise::MessageTransportHeader) - kEthLen;
    const std::uint16_t tail = static_cast<std::uint16_t>(padded - ip.len + noise::kTagLen);
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(len - kEthLen - ip.len));
    if (rte_pktmbuf_headroom(m) < head || rte_pktmbuf_tailroom(m) < tail) {
      c.add(Counter::drop_no_headroom);
      rte_pktmbuf_free(m);
      continue;
    }
    auto* pad = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, tail));
    std::memset(pad, 0, padded - ip.len);
    rte_pktmbuf_prepend(m, head);
    pend[np++] = {m, kp, route, peer, ip.len, padded, 0, true};
  }
  if (np == 0) return 0;

  // Nonce counters: one atomic reservation per run of packets sharing a keypair (several workers may send
  // under the same keypair; the counter is the only per-packet state they share).
  for (std::uint16_t i = 0; i < np;) {
    std::uint16_t j = i;
    while (j < np && pend[j].kp == pend[i].kp) ++j;
    std::uint64_t first = 0;
    const bool ok = pend[i].kp->reserve_counters(j - i, first);
    for (std::uint16_t k = i; k < j; ++k) {
      pend[k].ok = ok;
      pend[k].counter = first + (k - i);
    }
    if (!ok) {  // counters exhausted: control must look at this peer (its record says nothing new)
      want_handshake(t.peers[pend[i].peer]);
      notice_activity(*ctx.shared, ctx.shared->peers[pend[i].peer], pend[i].peer);
    }
    i = j;
  }

  crypto::AeadJob jobs[kBurst];
  std::uint16_t nj = 0;
  for (std::uint16_t i = 0; i < np; ++i) {
    Pending& p = pend[i];
    if (!p.ok) {
      c.add(Counter::drop_counter_exhausted);
      rte_pktmbuf_free(p.m);
      continue;
    }
    auto* frame = rte_pktmbuf_mtod(p.m, std::uint8_t*);
    const bool v4 = p.route->endpoint.addr.is_v4();
    const std::uint16_t l4 = outer_header_len(p.route->endpoint.addr.family);
    const auto msg_len = static_cast<std::uint16_t>(sizeof(noise::MessageTransportHeader) + p.padded + noise::kTagLen);
    write_outer_headers(frame, gw.outside_mac, p.route->next_hop_mac, v4 ? gw.outside_v4 : gw.outside_v6,
                        p.route->endpoint, listen_port, msg_len);
    std::uint8_t* msg = frame + l4;
    noise::put_type(msg, noise::MessageType::kTransport);
    noise::store_le32(msg + 4, p.kp->remote_index);
    noise::store_le64(msg + 8, p.counter);
    std::uint8_t* payload = msg + sizeof(noise::MessageTransportHeader);
    jobs[nj] = {p.kp->sending.data(), p.counter, payload, p.padded, payload + p.padded, false};
    out[nj] = p.m;
    pend[nj] = p;  // compact: pend[0..nj) now matches jobs/out
    ++nj;
  }
  const std::uint64_t crypto_start = rte_rdtsc();
  ctx.engine->seal(std::span<crypto::AeadJob>(jobs, nj));
  const std::uint64_t now = rte_rdtsc();
  ctx.shared->stats.add_cycles(Phase::crypto, now - crypto_start);
  if (nj > 0) ctx.shared->stats.seal.record(nj);

  for (std::uint16_t i = 0; i < nj; ++i) {
    const Pending& p = pend[i];
    if (!p.route->endpoint.addr.is_v4()) finish_outer_v6(rte_pktmbuf_mtod(p.m, std::uint8_t*));
    PeerActivity& a = ctx.shared->peers[p.peer];
    a.tx_bytes += sizeof(noise::MessageTransportHeader) + p.padded + noise::kTagLen;
    a.last_tx_data = now;
    notice_activity(*ctx.shared, a, p.peer);
    c.add(Counter::encrypted_bytes, p.inner_len);
  }
  c.add(Counter::encrypted_packets, nj);
  return nj;
}

}  // namespace wg::dp
