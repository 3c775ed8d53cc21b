#include "control/memory_metrics.h"

#include <malloc.h>
#include <rte_malloc.h>

namespace wg::ctl {

std::vector<prometheus::MetricFamily> MemoryMetrics::Collect() const {
  using prometheus::ClientMetric;
  using prometheus::MetricType;
  const struct mallinfo2 mi = mallinfo2();
  ClientMetric heap;
  heap.gauge.value = static_cast<double>(mi.uordblks + mi.hblkhd);  // small blocks + mmapped large ones
  std::vector<prometheus::MetricFamily> out;
  out.push_back({"wggate_heap_in_use_bytes", "C++ heap in use by the gateway process (all malloc arenas)",
                 MetricType::Gauge, {heap}});
  rte_malloc_socket_stats st{};
  double dpdk = 0;
  for (unsigned s = 0; s < RTE_MAX_NUMA_NODES; ++s) {
    if (rte_malloc_get_socket_stats(static_cast<int>(s), &st) == 0) dpdk += static_cast<double>(st.heap_allocsz_bytes);
  }
  ClientMetric d;
  d.gauge.value = dpdk;
  out.push_back({"wggate_dpdk_heap_in_use_bytes", "DPDK heap (rte_malloc) in use: tables, rings, mempools",
                 MetricType::Gauge, {d}});
  return out;
}

}  // namespace wg::ctl
