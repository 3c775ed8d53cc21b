#include "dataplane/worker.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <cstring>

namespace wg::dp {

void hand_to_control(WorkerContext& ctx, rte_mbuf* m, Counter why) {
  if (rte_ring_mp_enqueue(ctx.tables->to_control, m) != 0) {
    rte_pktmbuf_free(m);
    ctx.shared->counters.add(Counter::drop_ring_full);
    return;
  }
  ctx.shared->counters.add(why);
}

void send_burst(WorkerContext& ctx, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n, Counter sent) {
  if (n == 0) return;
  const std::uint16_t done = rte_eth_tx_burst(port, static_cast<std::uint16_t>(ctx.id), pkts, n);
  ctx.shared->counters.add(sent, done);
  if (done < n) {
    rte_pktmbuf_free_bulk(pkts + done, n - done);
    ctx.shared->counters.add(Counter::drop_tx_full, n - done);
  }
}

bool is_inside_address(const GatewayInfo& gw, std::uint8_t family, const std::uint8_t* addr) {
  for (std::uint32_t i = 0; i < gw.inside_addr_count; ++i) {
    const net::IpAddress& a = gw.inside_addrs[i];
    if (a.family == family && std::memcmp(a.bytes.data(), addr, family == 4 ? 4 : 16) == 0) return true;
  }
  return false;
}

int worker_main(void* arg) {
  WorkerContext& ctx = *static_cast<WorkerContext*>(arg);
  const GatewayInfo& gw = *ctx.gw;
  const auto queue = static_cast<std::uint16_t>(ctx.id);
  rte_rcu_qsbr_thread_register(ctx.tables->qsbr, ctx.id);
  rte_rcu_qsbr_thread_online(ctx.tables->qsbr, ctx.id);
  rte_mbuf* pkts[kBurst];
  while (!ctx.stop->load(std::memory_order_relaxed)) {
    std::uint16_t n = rte_eth_rx_burst(gw.inside_port, queue, pkts, kBurst);
    bool busy = n > 0;
    if (n > 0) {
      ctx.shared->counters.add(Counter::rx_inside_packets, n);
      encrypt_burst(ctx, std::span<rte_mbuf*>(pkts, n));
    }
    n = rte_eth_rx_burst(gw.outside_port, queue, pkts, kBurst);
    busy |= n > 0;
    if (n > 0) {
      ctx.shared->counters.add(Counter::rx_outside_packets, n);
      decrypt_burst(ctx, std::span<rte_mbuf*>(pkts, n));
    }
    ctx.shared->stats.record_poll(busy);  // busy share of the polls (metrics)
    rte_rcu_qsbr_quiescent(ctx.tables->qsbr, ctx.id);
  }
  rte_rcu_qsbr_thread_offline(ctx.tables->qsbr, ctx.id);
  rte_rcu_qsbr_thread_unregister(ctx.tables->qsbr, ctx.id);
  return 0;
}

}  // namespace wg::dp
