// Port and mempool setup: one RX/TX queue pair per worker plus one pair for the control thread. RSS spreads
// received flows over the workers' queues only (the redirection table leaves out control's queue) where the
// PMD lets us program it; PMDs that spread over every queue regardless (net_af_packet's fanout) also send
// some flows to control's queue, which worker 0 then polls besides its own (WorkerContext::extra_rx_queue).
// Runs once at start-up, before any lcore starts.
#pragma once

#include <rte_ether.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace wg::dp {

inline constexpr std::uint16_t kRxDesc = 1024;  // per RX queue: mbufs a NIC keeps posted
inline constexpr std::uint16_t kTxDesc = 1024;  // per TX queue: mbufs a NIC may hold until sent
inline constexpr unsigned kMempoolCache = 256;   // per-lcore mbuf cache

// Resolves "0" or a device name ("net_af_packet0") to a port id.
[[nodiscard]] absl::StatusOr<std::uint16_t> find_port(const std::string& name_or_id);

[[nodiscard]] absl::StatusOr<rte_mempool*> create_mempool(std::uint32_t mbufs, int socket);

struct PortSetup {
  std::uint16_t port = 0;
  std::uint16_t workers = 1;  // queue pairs = workers + 1 (the last is control's)
  std::uint16_t mtu = 1500;   // outer MTU set on the port where the PMD supports it
};
// Configures and starts the port; returns its MAC.
[[nodiscard]] absl::StatusOr<rte_ether_addr> start_port(const PortSetup& setup, rte_mempool* pool);
void stop_port(std::uint16_t port);

}  // namespace wg::dp
