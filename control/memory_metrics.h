// Memory in use, for operators and for the "changes without loss" test (memory back to its baseline after
// many peer changes): the C++ heap in use (glibc mallinfo2, all arenas: peers, keypairs, routes live there)
// and the DPDK heap in use (rte_malloc: tables, rings, mempools). Both are read at scrape time on the
// exposer's thread; neither touches the workers.
#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace wg::ctl {

class MemoryMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace wg::ctl
