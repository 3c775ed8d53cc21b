// Outside -> inside, over one burst:
//   1. classify: ARP, ICMP/NDP for our outside addresses -> control; not for us -> drop
//   2. UDP to ListenPort: demux by message type; handshake messages (1-3) -> control
//   3. transport: receiver index -> keypair (one array load), replay pre-check
//   4. batch-open all payloads in one engine call; tags compared in constant time by the engine
//   5. replay window updated per run of one keypair (update_batch); per packet: activity, keypair confirmation and roaming events to control,
//      keepalives consumed, cryptokey routing (inner source within the peer's AllowedIPs)
//   6. TTL / hop limit decremented; already <= 1: rewritten to [Ethernet][inner IP] (destination MAC zero)
//      and handed to control, which answers ICMP time exceeded through the tunnel
//   7. L2 rewrite to the inside neighbour's MAC, tx inside (MAC unknown: held at control on awaiting_neighbor);
//      a slice of a spread burst is sent by its owner, in order (spread.h)
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include <cstddef>
#include <cstring>

#include "dataplane/packet.h"
#include "dataplane/worker.h"
#include "lib/protocol/messages.h"

namespace wg::dp {
namespace {

struct Pending {
  rte_mbuf* m;
  noise::Keypair* kp;
  std::uint64_t counter;
  std::uint8_t* data;
  std::uint32_t len;     // ciphertext bytes without the tag
  std::uint8_t family;   // outer source, for roaming
  const std::uint8_t* src;
  std::uint16_t src_port_be;
};

void post(WorkerContext& ctx, const Event& ev) {
  Event copy = ev;  // the ring API takes a non-const pointer
  if (rte_ring_mp_enqueue_elem(ctx.tables->events, &copy, sizeof(Event)) != 0) {
    ctx.shared->counters.add(Counter::events_ring_full);  // not a packet drop: the packet goes on
  }
}

bool same_endpoint(const PeerRoute* r, const Pending& p) {
  if (r == nullptr || r->endpoint.addr.family != p.family) return false;
  if (rte_cpu_to_be_16(r->endpoint.port) != p.src_port_be) return false;
  return std::memcmp(r->endpoint.addr.bytes.data(), p.src, p.family == 4 ? 4 : 16) == 0;
}

bool is_outside_address(const GatewayInfo& gw, std::uint8_t family, const std::uint8_t* a) {
  if (family == 4) return gw.has_outside_v4 && std::memcmp(gw.outside_v4.bytes.data(), a, 4) == 0;
  return gw.has_outside_v6 && std::memcmp(gw.outside_v6.bytes.data(), a, 16) == 0;
}

void drop(WorkerContext& ctx, rte_mbuf* m, Counter why) {
  ctx.shared->counters.add(why);
  rte_pktmbuf_free(m);
}

}  // namespace

void decrypt_burst(WorkerContext& ctx, std::span<rte_mbuf*> pkts) {
  rte_mbuf* out[kBurst];
  const std::uint16_t n = decrypt_slice(ctx, pkts, out);
  send_burst(ctx, ctx.gw->inside_port, out, n, Counter::tx_inside_packets);
}

std::uint16_t decrypt_slice(WorkerContext& ctx, std::span<rte_mbuf*> pkts, rte_mbuf** out) {
  const GatewayInfo& gw = *ctx.gw;
  Tables& t = *ctx.tables;
  const std::uint16_t listen_port = t.listen_port.load(std::memory_order_relaxed);  // once per burst
  WorkerCounters& c = ctx.shared->counters;
  const std::uint64_t burst_tsc = rte_rdtsc();  // keypair age limits are checked against it, once a burst
  Pending pend[kBurst];
  crypto::AeadJob jobs[kBurst];
  std::uint16_t np = 0;

  for (rte_mbuf* m : pkts) {
    if (m->nb_segs != 1) {
      drop(ctx, m, Counter::drop_multi_segment);
      continue;
    }
    auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::uint16_t len = m->data_len;
    if (len < kEthLen) {
      drop(ctx, m, Counter::drop_outer_malformed);
      continue;
    }
    const std::uint16_t type = rte_be_to_cpu_16(reinterpret_cast<rte_ether_hdr*>(frame)->ether_type);
    if (type == RTE_ETHER_TYPE_ARP) {
      hand_to_control(ctx, m, Counter::to_control_local);
      continue;
    }
    if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_IPV6) {
      drop(ctx, m, Counter::drop_outside_not_for_us);
      continue;
    }
    std::uint8_t* l3 = frame + kEthLen;
    const InnerIp ip = parse_inner_ip(l3, len - kEthLen);
    if (ip.family == 0 || (ip.family == 4) != (type == RTE_ETHER_TYPE_IPV4)) {
      drop(ctx, m, Counter::drop_outer_malformed);
      continue;
    }
    const bool multicast6 = ip.family == 6 && ip.dst[0] == 0xff;
    if (!multicast6 && !is_outside_address(gw, ip.family, ip.dst)) {
      drop(ctx, m, Counter::drop_outside_not_for_us);
      continue;
    }
    std::uint8_t proto;
    std::uint16_t l3_len;
    if (ip.family == 4) {
      proto = l3[9];
      l3_len = static_cast<std::uint16_t>((l3[0] & 0x0f) * 4);
      // Fragments are not reassembled: WireGuard peers size their packets not to need it.
      if ((load_be32(l3 + 4) & 0x3fff) != 0) {
        drop(ctx, m, Counter::drop_outer_malformed);
        continue;
      }
    } else {
      proto = l3[6];
      l3_len = kIpv6Len;
    }
    if (proto != IPPROTO_UDP) {
      hand_to_control(ctx, m, Counter::to_control_local);  // ICMP echo, NDP, ...
      continue;
    }
    if (ip.len < l3_len + kUdpLen) {
      drop(ctx, m, Counter::drop_outer_malformed);
      continue;
    }
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l3 + l3_len);
    const std::uint16_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
    if (multicast6 || rte_be_to_cpu_16(udp->dst_port) != listen_port) {
      drop(ctx, m, Counter::drop_outside_not_for_us);
      continue;
    }
    if (udp_len < kUdpLen || udp_len > ip.len - l3_len) {
      drop(ctx, m, Counter::drop_outer_malformed);
      continue;
    }
    std::uint8_t* msg = l3 + l3_len + kUdpLen;
    const std::uint32_t msg_len = udp_len - kUdpLen;
    switch (noise::classify_message(msg, msg_len)) {
      case noise::MessageClass::kInitiation:
        // From a peer's known endpoint: a queue of its own (a spoofed flood fills the common one).
        hand_to_control(ctx, m, t.is_known_endpoint(endpoint_fingerprint(ip.family, ip.src, udp->src_port))
                                    ? Counter::to_control_handshake_known
                                    : Counter::to_control_handshake);
        continue;
      case noise::MessageClass::kResponse:
      case noise::MessageClass::kCookieReply: {
        // Both name, as receiver, an index we handed out: a blind flood cannot, so these share the ring of
        // known endpoints, and a flood of initiations never delays a handshake of ours.
        const bool response = noise::message_type_word(msg) == static_cast<std::uint32_t>(noise::MessageType::kResponse);
        const std::uint32_t receiver = noise::load_le32(
            msg + (response ? offsetof(noise::MessageResponse, receiver) : offsetof(noise::MessageCookieReply, receiver)));
        if (t.is_live_index(receiver)) {
          hand_to_control(ctx, m, Counter::to_control_handshake_known);
        } else {
          drop(ctx, m, Counter::drop_reply_unknown_index);
        }
        continue;
      }
      case noise::MessageClass::kTruncated: drop(ctx, m, Counter::drop_truncated); continue;
      case noise::MessageClass::kBadLength: drop(ctx, m, Counter::drop_bad_length); continue;
      case noise::MessageClass::kUnknownType: drop(ctx, m, Counter::drop_unknown_type); continue;
      case noise::MessageClass::kTransport: break;
    }
    noise::Keypair* kp = t.keypair_for_index(noise::load_le32(msg + 4));
    if (kp == nullptr) {
      drop(ctx, m, Counter::drop_unknown_index);
      continue;
    }
    if (kp->reject_after_ticks <= burst_tsc) {  // REJECT_AFTER_TIME passed: control has not withdrawn it yet
      drop(ctx, m, Counter::drop_keypair_expired);
      continue;
    }
    const std::uint64_t counter = noise::load_le64(msg + 8);
    if (kp->replay.check(counter) != noise::ReplayResult::kOk) {
      drop(ctx, m, Counter::drop_replay);
      continue;
    }
    std::uint8_t* data = msg + sizeof(noise::MessageTransportHeader);
    const std::uint32_t data_len = msg_len - noise::kMinTransportSize;
    jobs[np] = {kp->receiving.data(), counter, data, data_len, data + data_len, false};
    pend[np++] = {m, kp, counter, data, data_len, ip.family, ip.src, udp->src_port};
  }
  if (np == 0) return 0;

  const std::uint64_t crypto_start = rte_rdtsc();
  ctx.engine->open(std::span<crypto::AeadJob>(jobs, np));
  const std::uint64_t now = rte_rdtsc();
  ctx.shared->stats.add_cycles(Phase::crypto, now - crypto_start);
  ctx.shared->stats.open.record(np);

  // Authenticated: only now may the counters move the window (a duplicate within this burst fails here), one
  // update_batch per run of one keypair: a CAS per word the run touches, not two per packet, which matters
  // when several workers open slices of one peer's traffic at once (spread.h).
  noise::ReplayResult replay[kBurst];
  for (std::uint16_t i = 0; i < np;) {
    if (!jobs[i].ok) {
      ++i;
      continue;
    }
    noise::Keypair* kp = pend[i].kp;
    std::uint64_t counters[kBurst];
    std::uint16_t at[kBurst];
    std::uint16_t n = 0;
    std::uint16_t j = i;
    for (; j < np && (!jobs[j].ok || pend[j].kp == kp); ++j) {
      if (!jobs[j].ok) continue;
      counters[n] = pend[j].counter;
      at[n++] = j;
    }
    noise::ReplayResult results[kBurst];
    kp->replay.update_batch(std::span<const std::uint64_t>(counters, n), results);
    for (std::uint16_t k = 0; k < n; ++k) replay[at[k]] = results[k];
    i = j;
  }

  std::uint16_t no = 0;
  const noise::Keypair* confirmed = nullptr;
  std::uint32_t roamed = kNoPeer;
  for (std::uint16_t i = 0; i < np; ++i) {
    Pending& p = pend[i];
    if (!jobs[i].ok) {
      drop(ctx, p.m, Counter::drop_bad_tag);
      continue;
    }
    if (replay[i] != noise::ReplayResult::kOk) {
      drop(ctx, p.m, Counter::drop_replay);
      continue;
    }
    const std::uint32_t peer = p.kp->owner;
    PeerSlot& slot = t.peers[peer];
    PeerActivity& act = ctx.shared->peers[peer];
    act.last_rx_any = now;
    act.rx_bytes += p.len + noise::kMinTransportSize;
    notice_activity(*ctx.shared, act, peer);
    if (p.kp != slot.send_keypair.load(std::memory_order_relaxed) && p.kp != confirmed) {
      confirmed = p.kp;  // the responder's "next" keypair is now proven; control rotates it in
      post(ctx, Event{EventType::kReceivedWithKeypair, peer, p.kp->local_index, 0, 0, 0, {}});
    }
    if (roamed != peer && !same_endpoint(slot.route.load(std::memory_order_acquire), p)) {
      roamed = peer;
      Event ev{EventType::kEndpointChanged, peer, p.kp->local_index, p.src_port_be, p.family, 0, {}};
      std::memcpy(ev.addr, p.src, p.family == 4 ? 4 : 16);
      post(ctx, ev);
    }
    if (p.len == 0) {
      drop(ctx, p.m, Counter::keepalives_received);
      continue;
    }
    const InnerIp inner = parse_inner_ip(p.data, p.len);
    if (inner.family == 0) {
      drop(ctx, p.m, Counter::drop_inner_malformed);
      continue;
    }
    // Cryptokey routing: the inner source must be one this peer is allowed to use.
    std::uint32_t src_peer = kNoPeer;
    const bool found = t.lookup(inner.family, inner.src, src_peer);
    if (!found || src_peer != peer) {
      drop(ctx, p.m, Counter::drop_inner_source_not_allowed);
      continue;
    }
    // A router forwards only what has hops left (RFC 1812 section 5.3.1, RFC 8200 section 3). An expired
    // packet keeps its header as received: control quotes it in the time exceeded.
    const bool hops_left = decrement_ttl(p.data, inner.family);
    void* mac_word = nullptr;
    bool known = false;
    if (hops_left) {
      const auto key = neighbor_key(inner.family, inner.dst);
      known = rte_hash_lookup_data(t.inside_neighbors, key.data(), &mac_word) >= 0;
    }
    // Rewrite in place: the inner packet moves to just behind a new Ethernet header.
    const auto offset = static_cast<std::uint16_t>(p.data - rte_pktmbuf_mtod(p.m, std::uint8_t*));
    rte_pktmbuf_adj(p.m, static_cast<std::uint16_t>(offset - kEthLen));
    rte_pktmbuf_trim(p.m, static_cast<std::uint16_t>(p.m->data_len - kEthLen - inner.len));
    auto* eth = rte_pktmbuf_mtod(p.m, rte_ether_hdr*);
    const auto mac = reinterpret_cast<std::uintptr_t>(mac_word);
    for (int b = 0; b < RTE_ETHER_ADDR_LEN; ++b) {
      eth->dst_addr.addr_bytes[b] = known ? static_cast<std::uint8_t>(mac >> (8 * b)) : 0;
    }
    eth->src_addr = gw.inside_mac;
    eth->ether_type = rte_cpu_to_be_16(inner.family == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
    act.last_rx_data = now;
    if (!hops_left) {
      // Same shape as a held packet; m->port is still the outside port, the inner source names the peer.
      hand_to_control(ctx, p.m, Counter::drop_ttl_exceeded);
      continue;
    }
    c.add(Counter::decrypted_bytes, inner.len);
    c.add(Counter::decrypted_packets);
    if (!known) {
      // Hold, do not lose: control resolves the host and sends the packet once it answers.
      if (rte_ring_mp_enqueue(t.awaiting_neighbor, p.m) != 0) {
        drop(ctx, p.m, Counter::drop_inside_neighbor_unknown);
      } else {
        c.add(Counter::held_for_neighbor);
      }
      continue;
    }
    out[no++] = p.m;
  }
  return no;
}

}  // namespace wg::dp
