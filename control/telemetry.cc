#include "control/telemetry.h"

#include <rte_telemetry.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace wg::ctl {
namespace {

// Guards `g_sources`; held for the whole of a callback so that stop_telemetry() waits for one in flight.
std::mutex g_mu;
std::optional<TelemetrySources> g_sources;
bool g_registered = false;

// Packets per worker: what tells an operator whether the load is spread (RSS/fanout) or stuck on one queue.
constexpr dp::Counter kPerWorker[] = {dp::Counter::rx_inside_packets, dp::Counter::rx_outside_packets,
                                      dp::Counter::tx_inside_packets, dp::Counter::tx_outside_packets,
                                      dp::Counter::encrypted_packets, dp::Counter::decrypted_packets};

std::uint64_t counter(const TelemetrySources& s, unsigned worker, dp::Counter c) {
  return (*s.tables->workers)[worker].counters.get(c);
}

// A dict container; DPDK frees it with its parent (keep = 0).
rte_tel_data* new_dict() {
  rte_tel_data* d = rte_tel_data_alloc();
  if (d != nullptr) rte_tel_data_start_dict(d);
  return d;
}

int handle_stats(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_sources) return -EAGAIN;
  const TelemetrySources& s = *g_sources;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "device", s.device.c_str());
  rte_tel_data_add_dict_u64(d, "worker_count", s.workers);
  for (std::size_t c = 0; c < static_cast<std::size_t>(dp::Counter::kCount); ++c) {
    rte_tel_data_add_dict_u64(d, dp::kCounterNames[c], s.tables->sum_counter(static_cast<dp::Counter>(c)));
  }
  rte_tel_data* per_worker = new_dict();
  if (per_worker == nullptr) return -ENOMEM;
  for (unsigned w = 0; w <= s.workers; ++w) {
    rte_tel_data* one = new_dict();
    if (one == nullptr) {
      rte_tel_data_free(per_worker);
      return -ENOMEM;
    }
    for (dp::Counter c : kPerWorker) {
      rte_tel_data_add_dict_u64(one, dp::kCounterNames[static_cast<std::size_t>(c)], counter(s, w, c));
    }
    const std::string label = w == s.workers ? "control" : std::to_string(w);
    rte_tel_data_add_dict_container(per_worker, label.c_str(), one, 0);
  }
  rte_tel_data_add_dict_container(d, "workers", per_worker, 0);
  return 0;
}

// One peer as a dict; null when DPDK cannot allocate.
rte_tel_data* peer_dict(const TelemetrySources& s, const Metrics::PeerFacts& p) {
  rte_tel_data* one = new_dict();
  if (one == nullptr) return nullptr;
  const std::uint64_t rx = s.tables->sum_workers([&](const dp::WorkerShared& w) { return w.peers[p.id].rx_bytes; });
  const std::uint64_t tx = s.tables->sum_workers([&](const dp::WorkerShared& w) { return w.peers[p.id].tx_bytes; });
  rte_tel_data_add_dict_string(one, "public_key", p.public_key.c_str());
  rte_tel_data_add_dict_string(one, "endpoint", p.endpoint.c_str());
  // An array, not the comma list: one string value holds at most RTE_TEL_MAX_STRING_LEN (128) characters.
  rte_tel_data* ips = rte_tel_data_alloc();
  if (ips != nullptr) {
    rte_tel_data_start_array(ips, RTE_TEL_STRING_VAL);
    const std::vector<std::string> list = absl::StrSplit(p.allowed_ips, ',', absl::SkipEmpty());
    for (const std::string& ip : list) rte_tel_data_add_array_string(ips, ip.c_str());
    rte_tel_data_add_dict_container(one, "allowed_ips", ips, 0);
  }
  rte_tel_data_add_dict_u64(one, "latest_handshake", static_cast<std::uint64_t>(p.last_handshake));
  rte_tel_data_add_dict_u64(one, "rx_bytes", rx);
  rte_tel_data_add_dict_u64(one, "tx_bytes", tx);
  return one;
}

int handle_peers(const char* /*cmd*/, const char* params, rte_tel_data* d) {
  std::size_t first = 0;
  if (params != nullptr && *params != '\0') {
    char* end = nullptr;
    const unsigned long v = std::strtoul(params, &end, 10);
    if (end == params || *end != '\0') return -EINVAL;
    first = v;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_sources) return -EAGAIN;
  const TelemetrySources& s = *g_sources;
  const std::vector<Metrics::PeerFacts> peers = s.metrics->peers();
  first = std::min(first, peers.size());
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "device", s.device.c_str());
  rte_tel_data_add_dict_u64(d, "total", peers.size());
  rte_tel_data_add_dict_u64(d, "first", first);
  const std::size_t last = std::min<std::size_t>(peers.size(), first + kTelemetryPeersPerPage);
  if (last < peers.size()) rte_tel_data_add_dict_u64(d, "next", last);
  // Keyed by peer id (the index wggate's log uses): dict keys may hold only [A-Za-z0-9_/], so a base64 key
  // cannot be one, and DPDK 22.11 refuses dicts as array elements.
  rte_tel_data* list = new_dict();
  if (list == nullptr) return -ENOMEM;
  for (std::size_t i = first; i < last; ++i) {
    rte_tel_data* one = peer_dict(s, peers[i]);
    if (one == nullptr) {
      rte_tel_data_free(list);
      return -ENOMEM;
    }
    rte_tel_data_add_dict_container(list, std::to_string(peers[i].id).c_str(), one, 0);
  }
  rte_tel_data_add_dict_container(d, "peers", list, 0);
  return 0;
}

}  // namespace

absl::Status start_telemetry(TelemetrySources sources) {
  if (sources.metrics == nullptr || sources.tables == nullptr || sources.tables->workers == nullptr) {
    return absl::InvalidArgumentError("telemetry: missing metrics or tables");
  }
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_registered) {
    if (int rc = rte_telemetry_register_cmd("/wggate/stats", handle_stats,
                                            "Dataplane counters summed over workers, packets per worker");
        rc != 0) {
      return absl::InternalError(absl::StrCat("telemetry: cannot register /wggate/stats: errno ", -rc));
    }
    if (int rc = rte_telemetry_register_cmd(
            "/wggate/peers", handle_peers,
            "Peers: public key, endpoint, allowed IPs, latest handshake, rx/tx bytes. Parameter: first position");
        rc != 0) {
      return absl::InternalError(absl::StrCat("telemetry: cannot register /wggate/peers: errno ", -rc));
    }
    g_registered = true;
  }
  g_sources = std::move(sources);
  return absl::OkStatus();
}

void stop_telemetry() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_sources.reset();
}

}  // namespace wg::ctl
