#include "control/metrics.h"

#include <exception>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace wg::ctl {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

ClientMetric metric(std::vector<ClientMetric::Label> labels, double value, MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

}  // namespace

Metrics::Metrics(std::string device, std::string public_key, const dp::Tables& tables, unsigned workers)
    : device_(std::move(device)), public_key_(std::move(public_key)), tables_(tables), workers_(workers) {}

void Metrics::set_peers(std::vector<PeerFacts> peers) {
  std::lock_guard<std::mutex> lock(mu_);
  peers_ = std::move(peers);
}

std::vector<MetricFamily> Metrics::Collect() const {
  std::vector<PeerFacts> peers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    peers = peers_;
  }
  std::vector<MetricFamily> out;
  out.push_back({"wireguard_device_info", "Device information", MetricType::Gauge,
                 {metric({{"device", device_}, {"public_key", public_key_}}, 1, MetricType::Gauge)}});
  MetricFamily info{"wireguard_peer_info", "Peer information", MetricType::Gauge, {}};
  MetricFamily rx{"wireguard_peer_receive_bytes_total", "Bytes received from the peer", MetricType::Counter, {}};
  MetricFamily tx{"wireguard_peer_transmit_bytes_total", "Bytes sent to the peer", MetricType::Counter, {}};
  MetricFamily hs{"wireguard_peer_last_handshake_seconds", "UNIX time of the last handshake (0: never)",
                  MetricType::Gauge, {}};
  for (const PeerFacts& p : peers) {
    std::uint64_t rxb = 0, txb = 0;
    for (unsigned w = 0; w <= workers_; ++w) {
      rxb += (*tables_.workers)[w].peers[p.id].rx_bytes;
      txb += (*tables_.workers)[w].peers[p.id].tx_bytes;
    }
    const std::vector<ClientMetric::Label> who = {{"device", device_}, {"public_key", p.public_key}};
    info.metric.push_back(metric({{"device", device_}, {"public_key", p.public_key}, {"endpoint", p.endpoint},
                                  {"allowed_ips", p.allowed_ips}},
                                 1, MetricType::Gauge));
    rx.metric.push_back(metric(who, static_cast<double>(rxb), MetricType::Counter));
    tx.metric.push_back(metric(who, static_cast<double>(txb), MetricType::Counter));
    hs.metric.push_back(metric(who, static_cast<double>(p.last_handshake), MetricType::Gauge));
  }
  out.push_back(std::move(info));
  out.push_back(std::move(rx));
  out.push_back(std::move(tx));
  out.push_back(std::move(hs));

  // Every dataplane counter, per worker ("control" is the control thread's own queue pair); drop reasons as
  // one family labelled by reason.
  MetricFamily drops{"wggate_drops_total", "Packets dropped, by reason (dataplane/counters.h)", MetricType::Counter,
                     {}};
  for (std::size_t c = 0; c < static_cast<std::size_t>(dp::Counter::kCount); ++c) {
    const std::string_view name = dp::kCounterNames[c];
    const bool is_drop = name.rfind("drop_", 0) == 0;
    MetricFamily fam{absl::StrCat("wggate_", std::string(name), "_total"), dp::kCounterHelp[c], MetricType::Counter, {}};
    for (unsigned w = 0; w <= workers_; ++w) {
      const std::string worker = w == workers_ ? "control" : std::to_string(w);
      const double v = static_cast<double>((*tables_.workers)[w].counters.values[c]);
      if (is_drop) {
        drops.metric.push_back(metric({{"device", device_}, {"worker", worker},
                                       {"reason", std::string(name.substr(5))}},
                                      v, MetricType::Counter));
      } else {
        fam.metric.push_back(metric({{"device", device_}, {"worker", worker}}, v, MetricType::Counter));
      }
    }
    if (!is_drop) out.push_back(std::move(fam));
  }
  out.push_back(std::move(drops));
  return out;
}

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> start_exposer(const std::string& address,
                                                                  const std::shared_ptr<Metrics>& metrics) {
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address, 1);
    exposer->RegisterCollectable(metrics);
    return exposer;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
}

}  // namespace wg::ctl
