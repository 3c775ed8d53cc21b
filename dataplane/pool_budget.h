// The mbuf pool is shared by every port, worker and queue: if one consumer can take all of it, nothing is
// received any more and the whole gateway stalls. So every place an mbuf can wait has a bound, and the pool
// is sized from the sum of those bounds, with a quarter on top: even with every queue and store full at once,
// at most 75 % of the pool is in use, and the RX queues can always be refilled.
//
// What can hold mbufs, and its bound:
//   - RX descriptors (posted by a NIC PMD) and TX descriptors (until sent), per queue pair, per port;
//   - each lcore's mempool cache (DPDK lets it grow to 1.5 x its size) and the bursts it has in hand;
//   - the hand-off rings to control (WG_DP_HANDOFFS) and awaiting_neighbor;
//   - the slices of spread bursts in each worker's reorder window (kWindowSlots of at most kSliceMax);
//   - what control keeps: staged packets for peers waiting for a handshake (kStagingBudget) and decrypted
//     packets held for unresolved inside hosts (kHeldBudget).
// Exported as wggate_mempool_capacity / wggate_mempool_in_use, wggate_staging_budget, wggate_held_budget.
#pragma once

#include <cstdint>

#include "dataplane/port.h"
#include "dataplane/spread.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"

namespace wg::dp {

inline constexpr std::uint32_t kStagingBudget = 4096;  // staged packets, all peers together (32 full queues)
inline constexpr std::uint32_t kHeldBudget = 1024;      // held for unresolved inside hosts, all together
inline constexpr std::uint32_t kPorts = 2;

struct PoolBudget {
  std::uint32_t descriptors = 0;  // RX + TX, every queue of both ports
  std::uint32_t lcores = 0;       // caches and bursts in hand
  std::uint32_t rings = 0;        // hand-off rings and awaiting_neighbor
  std::uint32_t control = 0;      // staging and held
  std::uint32_t in_flight = 0;    // slices in the workers' reorder windows (spread.h)
  std::uint32_t bounded() const { return descriptors + lcores + rings + control + in_flight; }
  // The pool size: the bounds plus a third of them, so that they fill at most 75 % of it.
  std::uint32_t pool() const { return bounded() + bounded() / 3 + 1; }
};

constexpr PoolBudget pool_budget(std::uint32_t workers) {
  PoolBudget b;
  const std::uint32_t queues = workers + 1;  // one pair per worker and one for control
  b.descriptors = kPorts * queues * (kRxDesc + kTxDesc);
  b.lcores = queues * (kMempoolCache * 3 / 2 + 2 * kBurst);
  for (unsigned d : kHandoffDepth) b.rings += d;
  b.rings += kAwaitingDepth;
  b.control = kStagingBudget + kHeldBudget;
  b.in_flight = workers > 1 ? workers * kWindowSlots * kSliceMax : 0;
  return b;
}

}  // namespace wg::dp
