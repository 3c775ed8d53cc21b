#include "dataplane/port.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace wg::dp {
absl::StatusOr<std::uint16_t> find_port(const std::string& name_or_id) {
  char* end = nullptr;
  const unsigned long id = std::strtoul(name_or_id.c_str(), &end, 10);
  if (!name_or_id.empty() && end != nullptr && *end == '\0') {
    if (id >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(id))) {
      return absl::NotFoundError(absl::StrCat("no DPDK port ", name_or_id, " (", rte_eth_dev_count_avail(),
                                              " ports available)"));
    }
    return static_cast<std::uint16_t>(id);
  }
  std::uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name_or_id.c_str(), &port) != 0) {
    return absl::NotFoundError(absl::StrCat("no DPDK port named ", name_or_id));
  }
  return port;
}

absl::StatusOr<rte_mempool*> create_mempool(std::uint32_t mbufs, int socket) {
  rte_mempool* pool = rte_pktmbuf_pool_create("wggate_mbufs", mbufs, kMempoolCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (pool == nullptr) return absl::ResourceExhaustedError(absl::StrCat("cannot create mbuf pool: ",
                                                                       rte_strerror(rte_errno)));
  return pool;
}

absl::StatusOr<rte_ether_addr> start_port(const PortSetup& s, rte_mempool* pool) {
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(s.port, &info); rc != 0) {
    return absl::InternalError(absl::StrCat("port ", s.port, ": dev_info: ", rte_strerror(-rc)));
  }
  const auto rxq = static_cast<std::uint16_t>(s.workers + 1);
  const auto txq = static_cast<std::uint16_t>(s.workers + 1);
  if (rxq > info.max_rx_queues || txq > info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrCat("port ", s.port, " (", info.driver_name, ") has ",
                                                   info.max_rx_queues, " RX / ", info.max_tx_queues,
                                                   " TX queues; ", s.workers, " workers and the control thread need ",
                                                   txq, " (for net_af_packet, set qpairs=", txq, ")"));
  }
  rte_eth_conf conf{};
  if (s.workers > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  }
  if (int rc = rte_eth_dev_configure(s.port, rxq, txq, &conf); rc != 0) {
    return absl::InternalError(absl::StrCat("port ", s.port, ": configure: ", rte_strerror(-rc)));
  }
  const int socket = rte_eth_dev_socket_id(s.port);
  for (std::uint16_t q = 0; q < rxq; ++q) {
    if (int rc = rte_eth_rx_queue_setup(s.port, q, kRxDesc, socket, nullptr, pool); rc != 0) {
      return absl::InternalError(absl::StrCat("port ", s.port, ": rx queue ", q, ": ", rte_strerror(-rc)));
    }
  }
  for (std::uint16_t q = 0; q < txq; ++q) {
    if (int rc = rte_eth_tx_queue_setup(s.port, q, kTxDesc, socket, nullptr); rc != 0) {
      return absl::InternalError(absl::StrCat("port ", s.port, ": tx queue ", q, ": ", rte_strerror(-rc)));
    }
  }
  rte_eth_dev_set_mtu(s.port, s.mtu);  // best effort: virtual PMDs often do not implement it
  if (int rc = rte_eth_dev_start(s.port); rc != 0) {
    return absl::InternalError(absl::StrCat("port ", s.port, ": start: ", rte_strerror(-rc)));
  }
  rte_eth_promiscuous_enable(s.port);  // NDP multicast and the peer's frames on virtual ports
  // Keep control's queue out of RSS (best effort: not every PMD has a programmable table).
  if (info.reta_size > 0 && s.workers > 0) {
    rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE]{};
    const std::uint16_t size = std::min<std::uint16_t>(info.reta_size, RTE_ETH_RSS_RETA_SIZE_512);
    for (std::uint16_t i = 0; i < size; ++i) {
      reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
      reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = static_cast<std::uint16_t>(i % s.workers);
    }
    rte_eth_dev_rss_reta_update(s.port, reta, size);
  }
  rte_ether_addr mac{};
  rte_eth_macaddr_get(s.port, &mac);
  return mac;
}

void stop_port(std::uint16_t port) {
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
}

}  // namespace wg::dp
