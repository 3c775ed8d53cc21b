// Prometheus exporter (prometheus-cpp) on MetricsAddress. Names follow the widely used WireGuard exporter,
// so existing dashboards work unchanged (wireguard_device_info, wireguard_peer_info,
// wireguard_peer_receive_bytes_total, wireguard_peer_transmit_bytes_total,
// wireguard_peer_last_handshake_seconds), plus the gateway's own: every dataplane counter per worker, drops
// by reason. No key material except public keys.
//
// Thread rules: Collect() runs on the exposer's own HTTP threads. It reads the workers' counters directly
// (each worker writes only its own, a scrape only adds them up: workers are never slowed or locked) and peer
// facts from a snapshot that the control thread replaces under a mutex (control plane only; no dataplane lock).
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
#include "dataplane/tables.h"

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

  Metrics(std::string device, std::string public_key, const dp::Tables& tables, unsigned workers);
  void set_peers(std::vector<PeerFacts> peers);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string device_;
  const std::string public_key_;
  const dp::Tables& tables_;
  const unsigned workers_;  // worker slots 0..workers_-1, then control's own slot
  mutable std::mutex mu_;
  std::vector<PeerFacts> peers_;
};

// Starts the HTTP exposer; an error (not an exception) when the address cannot be bound.
[[nodiscard]] absl::StatusOr<std::unique_ptr<prometheus::Exposer>> start_exposer(
    const std::string& address, const std::shared_ptr<Metrics>& metrics);

}  // namespace wg::ctl
