#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <cstring>

#include "dataplane/packet.h"

namespace wg::dp {

namespace {
// ARP, or an ICMPv6 neighbour solicitation or advertisement (types 135, 136) in an IPv6 header without
// extension headers, as RFC 4861 sends them. Router solicitations and the like go on the local ring.
bool is_neighbor_discovery(const rte_mbuf* m) {
  const auto* frame = rte_pktmbuf_mtod(m, const std::uint8_t*);
  if (m->data_len < kEthLen) return false;
  const std::uint16_t type = static_cast<std::uint16_t>(frame[12] << 8 | frame[13]);
  if (type == RTE_ETHER_TYPE_ARP) return true;
  if (type != RTE_ETHER_TYPE_IPV6 || m->data_len < kEthLen + kIpv6Len + 1) return false;
  const std::uint8_t* l3 = frame + kEthLen;
  return l3[6] == IPPROTO_ICMPV6 && (l3[kIpv6Len] == 135 || l3[kIpv6Len] == 136);
}
}  // namespace

void hand_to_control(WorkerContext& ctx, rte_mbuf* m, Counter why) {
  if (why == Counter::to_control_local && is_neighbor_discovery(m)) why = Counter::to_control_neighbor;
  const Handoff h = handoff_for(why);
  if (h == Handoff::kCount || rte_ring_mp_enqueue(ctx.tables->ring(h), m) != 0) {
    rte_pktmbuf_free(m);
    ctx.shared->counters.add(Counter::drop_ring_full);
    if (h != Handoff::kCount) ++ctx.shared->handoff_full[static_cast<std::size_t>(h)];
    return;
  }
  ctx.shared->counters.add(why);
}

void send_burst(WorkerContext& ctx, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n, Counter sent) {
  if (n == 0) return;
  const std::uint64_t start = rte_rdtsc();
  const std::uint16_t done = rte_eth_tx_burst(port, static_cast<std::uint16_t>(ctx.id), pkts, n);
  ctx.shared->counters.add(sent, done);
  if (done < n) {
    rte_pktmbuf_free_bulk(pkts + done, n - done);
    ctx.shared->counters.add(Counter::drop_tx_full, n - done);
  }
  ctx.shared->stats.add_cycles(Phase::tx, rte_rdtsc() - start);
}

bool is_inside_address(const GatewayInfo& gw, std::uint8_t family, const std::uint8_t* addr) {
  for (std::uint32_t i = 0; i < gw.inside_addr_count; ++i) {
    const net::IpAddress& a = gw.inside_addrs[i];
    if (a.family == family && std::memcmp(a.bytes.data(), addr, family == 4 ? 4 : 16) == 0) return true;
  }
  return false;
}

namespace {
// One receive on `port`'s queue `queue`: the burst is encrypted (inside) or decrypted (outside) and sent on this
// worker's own TX queue whichever RX queue it came from; spreading: cut into slices or parked, and sent in
// order once done (spread.h). A full reorder window skips the receive (back-pressure).
bool receive(WorkerContext& ctx, bool spreading, std::uint16_t port, std::uint16_t queue, Direction dir,
             std::uint64_t& mark) {
  if (spreading && !spread_can_receive(ctx)) return false;
  rte_mbuf* pkts[kBurst];
  const std::uint16_t n = rte_eth_rx_burst(port, queue, pkts, kBurst);
  if (n == 0) return false;
  ctx.shared->stats.add_cycles(Phase::rx, rte_rdtsc() - mark);
  ctx.shared->counters.add(dir == Direction::kEncrypt ? Counter::rx_inside_packets : Counter::rx_outside_packets, n);
  const std::span<rte_mbuf*> burst(pkts, n);
  spreading ? spread_burst(ctx, dir, burst) : process_burst(ctx, dir, burst);
  mark = rte_rdtsc();
  return true;
}

// One RX queue on both ports.
bool poll_queue(WorkerContext& ctx, bool spreading, std::uint16_t queue, std::uint64_t& mark) {
  const GatewayInfo& gw = *ctx.gw;
  const bool in = receive(ctx, spreading, gw.inside_port, queue, Direction::kEncrypt, mark);
  const bool out = receive(ctx, spreading, gw.outside_port, queue, Direction::kDecrypt, mark);
  return in || out;
}
}  // namespace

bool poll_once(WorkerContext& ctx) {
  // One TSC read per poll; a busy poll reads it again after each receive and each burst (worker_stats.h).
  const std::uint64_t start = rte_rdtsc();
  std::uint64_t mark = start;
  const bool spreading = ctx.spread != nullptr && ctx.spread->enabled;
  bool busy = false;
  if (spreading) note_poll(*ctx.spread, ctx.id, start);
  if (spreading && serve_slices(ctx)) {  // others' slices first: their owners wait for them
    busy = true;
    mark = rte_rdtsc();
  }
  busy |= poll_queue(ctx, spreading, static_cast<std::uint16_t>(ctx.id), mark);
  if (ctx.extra_rx_queue >= 0) {
    busy |= poll_queue(ctx, spreading, static_cast<std::uint16_t>(ctx.extra_rx_queue), mark);
  }
  if (spreading && finish_slices(ctx)) {
    busy = true;
    mark = rte_rdtsc();
  }
  WorkerStats& stats = ctx.shared->stats;
  if (busy) stats.busy_cycles += mark - start;
  stats.record_poll(busy);  // busy share of the polls (metrics)
  return busy;
}

int worker_main(void* arg) {
  WorkerContext& ctx = *static_cast<WorkerContext*>(arg);
  rte_rcu_qsbr_thread_register(ctx.tables->qsbr, ctx.id);
  rte_rcu_qsbr_thread_online(ctx.tables->qsbr, ctx.id);
  while (!ctx.stop->load(std::memory_order_relaxed)) {
    poll_once(ctx);
    rte_rcu_qsbr_quiescent(ctx.tables->qsbr, ctx.id);
  }
  rte_rcu_qsbr_thread_offline(ctx.tables->qsbr, ctx.id);
  rte_rcu_qsbr_thread_unregister(ctx.tables->qsbr, ctx.id);
  return 0;
}

}  // namespace wg::dp
