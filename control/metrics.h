// Prometheus exporter (prometheus-cpp) on MetricsAddress. Names follow the widely used WireGuard exporter,
// so existing dashboards work unchanged (wireguard_device_info, wireguard_peer_info,
// wireguard_peer_receive_bytes_total, wireguard_peer_transmit_bytes_total,
// wireguard_peer_last_handshake_seconds), plus the gateway's own (docs/ARCHITECTURE.md, "Metrics"): every
// dataplane counter per worker, drops by reason, polls and busy polls per worker, crypto batch sizes per
// worker (histogram), ring occupancy and ring-full drops, the control thread's handshake counters and load
// state, the crypto engine (per operation and payload size class: "auto" may run a different one for
// each). No key material except public keys.
//
// Thread rules: Collect() runs on the exposer's own HTTP threads. It reads the workers' counters directly
// (each worker writes only its own, a scrape only adds them up: workers are never slowed or locked), ring
// counts (rte_ring_count is a read of two indexes, safe from any thread), the control thread's atomic
// counters, and peer facts from a snapshot that the control thread replaces under a mutex (control plane
// only; no dataplane lock).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/control_counters.h"
#include "dataplane/tables.h"

struct rte_mempool;

namespace wg::ctl {

class Metrics : public prometheus::Collectable {
 public:
  struct PeerFacts {
    std::uint32_t id = 0;
    std::string public_key;  // base64
    std::string endpoint;
    std::string allowed_ips;  // comma list, as the widely used exporter labels it
    std::int64_t last_handshake = 0;  // unix seconds, 0: never
  };

  // Immutable for the process's life: where the counters live and what is constant.
  struct Sources {
    std::string device;
    std::string public_key;  // base64
    const dp::Tables* tables = nullptr;
    unsigned workers = 0;  // worker slots 0..workers-1, then control's own slot
    const ControlCounters* control = nullptr;
    std::string engine_description;  // AeadBatchEngine::description(): library versions, code paths, "auto"'s figures
    std::uint64_t tsc_hz = 0;        // rte_get_tsc_hz(): the unit of the worker cycle counters
    const rte_mempool* pool = nullptr;  // the mbuf pool: in use / capacity (read from any thread)
    struct Port {
      std::uint16_t id;
      std::string role;  // "inside" / "outside"
    };
    std::vector<Port> ports;  // rx_nombuf and imissed from rte_eth_stats_get
    struct EngineClass {
      std::string op;          // crypto::to_string(AeadOp): "seal", "open"
      std::string size_class;  // crypto::to_string(SizeClass): "small", "medium", "large", "xlarge"
      std::string engine;      // AeadBatchEngine::engine_for(): the engine that runs op on that class
    };
    std::vector<EngineClass> engine_classes;  // one wggate_crypto_engine_info series each
    bool per_peer = true;  // the wireguard_peer_* families ([Gateway] PeerMetrics)
    // Peer ids are below it: the snapshot is sized once, so peer churn never grows the heap (0: grown as ids
    // come, for tests).
    std::uint32_t peer_capacity = 0;
  };

  explicit Metrics(Sources sources);
  // Replaces the whole snapshot.
  void set_peers(std::vector<PeerFacts> peers);
  // For the control thread: the facts of the peers that changed and the ids of those removed, merged into
  // the snapshot. Never waits for a scrape in progress (a reader preempted while it holds the mutex would
  // stall the loop): false when the mutex is busy, and nothing changed.
  bool try_update_peers(std::vector<PeerFacts>& changed, const std::vector<std::uint32_t>& removed);
  // A copy of the latest snapshot, by peer id, for readers on other threads (DPDK telemetry,
  // control/telemetry.cc) and the scrape.
  std::vector<PeerFacts> peers() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void collect_peers(std::vector<prometheus::MetricFamily>& out) const;
  void collect_dataplane(std::vector<prometheus::MetricFamily>& out) const;
  void collect_worker_stats(std::vector<prometheus::MetricFamily>& out) const;
  void collect_spread(std::vector<prometheus::MetricFamily>& out) const;
  void collect_rings(std::vector<prometheus::MetricFamily>& out) const;
  void collect_control(std::vector<prometheus::MetricFamily>& out) const;
  void collect_resources(std::vector<prometheus::MetricFamily>& out) const;
  std::string worker_label(unsigned w) const;
  void put(PeerFacts&& f);  // mu_ held
  std::uint64_t sum_counter(dp::Counter c) const;

  const Sources src_;
  mutable std::mutex mu_;
  std::vector<PeerFacts> by_id_;  // grown to the highest id seen
  std::vector<std::uint8_t> present_;
};

// Starts the HTTP exposer; an error (not an exception) when the address cannot be bound.
[[nodiscard]] absl::StatusOr<std::unique_ptr<prometheus::Exposer>> start_exposer(
    const std::string& address, const std::shared_ptr<Metrics>& metrics);

}  // namespace wg::ctl
