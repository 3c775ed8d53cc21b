#include "control/metrics.h"

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <exception>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "dataplane/spread.h"
#include "dataplane/worker_stats.h"

namespace wg::ctl {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

ClientMetric metric(Labels labels, double value, MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

// Prometheus wants cumulative buckets ending in +Inf; workers keep one plain count per bucket.
ClientMetric histogram(Labels labels, const dp::BatchHistogram& h) {
  ClientMetric m;
  m.label = std::move(labels);
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < dp::kBatchBuckets; ++b) {
    cumulative += h.buckets[b];
    const double bound = b + 1 < dp::kBatchBuckets ? static_cast<double>(dp::kBatchBucketBounds[b])
                                                   : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back({cumulative, bound});
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = static_cast<double>(h.sum);
  return m;
}

}  // namespace

Metrics::Metrics(Sources sources) : src_(std::move(sources)) {
  if (src_.per_peer) {
    by_id_.resize(src_.peer_capacity);
    present_.resize(src_.peer_capacity, 0);
  }
}

void Metrics::set_peers(std::vector<PeerFacts> peers) {
  std::lock_guard<std::mutex> lock(mu_);
  by_id_.clear();
  present_.clear();
  for (PeerFacts& f : peers) put(std::move(f));
}

void Metrics::put(PeerFacts&& f) {
  if (f.id >= by_id_.size()) {
    by_id_.resize(f.id + 1);
    present_.resize(f.id + 1, 0);
  }
  present_[f.id] = 1;
  by_id_[f.id] = std::move(f);
}

bool Metrics::try_update_peers(std::vector<PeerFacts>& changed, const std::vector<std::uint32_t>& removed) {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  for (const std::uint32_t id : removed) {
    if (id >= present_.size()) continue;
    present_[id] = 0;
    // Its strings freed now, not when the id is reused: moved out into a temporary that is destroyed (assigning
    // an empty one would keep their buffers: libstdc++ copies a short string into the existing allocation).
    PeerFacts gone = std::move(by_id_[id]);
    by_id_[id] = PeerFacts{};
  }
  for (PeerFacts& f : changed) put(std::move(f));
  return true;
}

std::vector<Metrics::PeerFacts> Metrics::peers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PeerFacts> out;
  for (std::size_t id = 0; id < by_id_.size(); ++id) {
    if (present_[id]) out.push_back(by_id_[id]);
  }
  return out;
}

std::string Metrics::worker_label(unsigned w) const {
  return w == src_.workers ? "control" : std::to_string(w);
}

std::uint64_t Metrics::sum_counter(dp::Counter c) const { return src_.tables->sum_counter(c); }

std::vector<MetricFamily> Metrics::Collect() const {
  std::vector<MetricFamily> out;
  collect_peers(out);
  collect_dataplane(out);
  collect_worker_stats(out);
  collect_rings(out);
  collect_control(out);
  collect_resources(out);
  return out;
}

void Metrics::collect_peers(std::vector<MetricFamily>& out) const {
  const std::string& dev = src_.device;
  out.push_back({"wireguard_device_info", "Device information", MetricType::Gauge,
                 {metric({{"device", dev}, {"public_key", src_.public_key}}, 1, MetricType::Gauge)}});
  if (!src_.per_peer) return;
  MetricFamily info{"wireguard_peer_info", "Peer information", MetricType::Gauge, {}};
  MetricFamily rx{"wireguard_peer_receive_bytes_total", "Bytes received from the peer", MetricType::Counter, {}};
  MetricFamily tx{"wireguard_peer_transmit_bytes_total", "Bytes sent to the peer", MetricType::Counter, {}};
  MetricFamily hs{"wireguard_peer_last_handshake_seconds", "UNIX time of the last handshake (0: never)",
                  MetricType::Gauge, {}};
  // Built straight from the snapshot under its mutex (no copy of 100,000 peers' facts first): the control
  // thread only try-locks it, and retries at its next pass.
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const std::uint8_t present : present_) n += present;
  for (MetricFamily* f : {&info, &rx, &tx, &hs}) f->metric.reserve(n);
  for (std::size_t id = 0; id < by_id_.size(); ++id) {
    if (!present_[id]) continue;
    const PeerFacts& p = by_id_[id];
    const std::uint64_t rxb = src_.tables->sum_workers([&](const dp::WorkerShared& w) { return w.peers[p.id].rx_bytes; });
    const std::uint64_t txb = src_.tables->sum_workers([&](const dp::WorkerShared& w) { return w.peers[p.id].tx_bytes; });
    const Labels who = {{"device", dev}, {"public_key", p.public_key}};
    info.metric.push_back(metric({{"device", dev}, {"public_key", p.public_key}, {"endpoint", p.endpoint},
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
}

// Every dataplane counter, per worker ("control" is the control thread's own queue pair); drop reasons as
// one family labelled by reason.
void Metrics::collect_dataplane(std::vector<MetricFamily>& out) const {
  MetricFamily drops{"wggate_drops_total", "Packets dropped, by reason (dataplane/counters.h)", MetricType::Counter,
                     {}};
  for (std::size_t c = 0; c < static_cast<std::size_t>(dp::Counter::kCount); ++c) {
    const std::string_view name = dp::kCounterNames[c];
    const bool is_drop = name.rfind("drop_", 0) == 0;
    MetricFamily fam{absl::StrCat("wggate_", std::string(name), "_total"), dp::kCounterHelp[c], MetricType::Counter,
                     {}};
    for (unsigned w = 0; w <= src_.workers; ++w) {
      const double v = static_cast<double>((*src_.tables->workers)[w].counters.values[c]);
      if (is_drop) {
        drops.metric.push_back(metric({{"device", src_.device}, {"worker", worker_label(w)},
                                       {"reason", std::string(name.substr(5))}},
                                      v, MetricType::Counter));
      } else {
        fam.metric.push_back(metric({{"device", src_.device}, {"worker", worker_label(w)}}, v, MetricType::Counter));
      }
    }
    if (!is_drop) out.push_back(std::move(fam));
  }
  out.push_back(std::move(drops));
}

// Busy share: rate(busy_polls) / rate(polls) per worker. Batch sizes: one histogram per worker and direction.
void Metrics::collect_worker_stats(std::vector<MetricFamily>& out) const {
  MetricFamily polls{"wggate_worker_polls_total", "Poll loop iterations (inside and outside queue each)",
                     MetricType::Counter, {}};
  MetricFamily busy{"wggate_worker_busy_polls_total", "Poll loop iterations that received at least one packet",
                    MetricType::Counter, {}};
  MetricFamily batch{"wggate_crypto_batch_size", "Jobs per AEAD engine call (seal: encrypt, open: decrypt)",
                     MetricType::Histogram, {}};
  MetricFamily busy_cycles{"wggate_worker_busy_cycles_total",
                           "TSC cycles of the poll loop iterations that received packets", MetricType::Counter, {}};
  MetricFamily phase_cycles{"wggate_worker_phase_cycles_total",
                            "TSC cycles of busy polls by phase (rx, crypto, tx; the rest is parsing and headers)",
                            MetricType::Counter, {}};
  for (unsigned w = 0; w <= src_.workers; ++w) {
    const dp::WorkerStats& s = (*src_.tables->workers)[w].stats;
    const std::string worker = worker_label(w);
    polls.metric.push_back(
        metric({{"device", src_.device}, {"worker", worker}}, static_cast<double>(s.polls), MetricType::Counter));
    busy.metric.push_back(
        metric({{"device", src_.device}, {"worker", worker}}, static_cast<double>(s.busy_polls), MetricType::Counter));
    batch.metric.push_back(histogram({{"device", src_.device}, {"worker", worker}, {"op", "seal"}}, s.seal));
    batch.metric.push_back(histogram({{"device", src_.device}, {"worker", worker}, {"op", "open"}}, s.open));
    busy_cycles.metric.push_back(metric({{"device", src_.device}, {"worker", worker}},
                                        static_cast<double>(s.busy_cycles), MetricType::Counter));
    for (std::size_t p = 0; p < static_cast<std::size_t>(dp::Phase::kCount); ++p) {
      phase_cycles.metric.push_back(metric({{"device", src_.device}, {"worker", worker}, {"phase", dp::kPhaseNames[p]}},
                                           static_cast<double>(s.phase_cycles[p]), MetricType::Counter));
    }
  }
  collect_spread(out);
  out.push_back(std::move(polls));
  out.push_back(std::move(busy));
  out.push_back(std::move(batch));
  out.push_back(std::move(busy_cycles));
  out.push_back(std::move(phase_cycles));
  out.push_back({"wggate_tsc_hz", "Time stamp counter frequency: cycles per second, to turn cycles into time",
                 MetricType::Gauge, {metric({{"device", src_.device}}, static_cast<double>(src_.tsc_hz), MetricType::Gauge)}});
  MetricFamily engine{"wggate_crypto_engine_info",
                      "The AEAD batch engine every worker runs for each operation and payload size class (class "
                      "bounds and, under auto, the measured figures in description)",
                      MetricType::Gauge, {}};
  for (const Sources::EngineClass& c : src_.engine_classes) {
    engine.metric.push_back(metric(
        {{"device", src_.device}, {"op", c.op}, {"class", c.size_class}, {"engine", c.engine},
         {"description", src_.engine_description}},
        1, MetricType::Gauge));
  }
  out.push_back(std::move(engine));
}

// Spreading (dataplane/spread.h): what each worker handed out and took on, and its reorder window and work
// ring now, against their bounds.
void Metrics::collect_spread(std::vector<MetricFamily>& out) const {
  MetricFamily slices{"wggate_spread_slices_total",
                      "Slices of spread bursts by what happened to them at this worker: queued (for another "
                      "worker), refused (every work ring deep: done here), reclaimed (own queued slice taken back), "
                      "helped (another worker's slice done here)",
                      MetricType::Counter, {}};
  MetricFamily packets{"wggate_spread_packets_total", "Packets this worker received and queued for other workers",
                       MetricType::Counter, {}};
  MetricFamily bursts{"wggate_spread_bursts_total",
                      "Bursts this worker received with spreading on, by decision: spread (cut into slices), small "
                      "(less than a slice's work: processed here), light (recent bursts light: processed here)",
                      MetricType::Counter, {}};
  MetricFamily load{"wggate_spread_load", "The worker's recent bursts' work, as a share of a full burst's (it "
                    "spreads from 0.25)", MetricType::Gauge, {}};
  MetricFamily full{"wggate_reorder_window_full_total",
                    "Receive attempts skipped because the worker's reorder window was full (back-pressure)",
                    MetricType::Counter, {}};
  MetricFamily window{"wggate_reorder_window_slices", "Slices of this worker's bursts in flight (capacity: "
                      "wggate_reorder_window_capacity)", MetricType::Gauge, {}};
  MetricFamily window_cap{"wggate_reorder_window_capacity", "Slices a worker may have in flight", MetricType::Gauge,
                          {}};
  MetricFamily work{"wggate_work_ring_entries", "Slices queued for a worker to process", MetricType::Gauge, {}};
  const dp::Spread* sp = src_.tables->spread;
  for (unsigned w = 0; w < src_.workers; ++w) {
    const dp::SpreadStats& s = (*src_.tables->workers)[w].stats.spread;
    const std::string worker = worker_label(w);
    const Labels labels = {{"device", src_.device}, {"worker", worker}};
    for (const auto& [kind, v] : {std::pair{"queued", s.slices}, {"refused", s.refused}, {"reclaimed", s.reclaimed},
                                  {"helped", s.helped}}) {
      slices.metric.push_back(metric({{"device", src_.device}, {"worker", worker}, {"kind", kind}},
                                     static_cast<double>(v), MetricType::Counter));
    }
    for (const auto& [decision, v] : {std::pair{"spread", s.bursts_spread}, {"small", s.bursts_small},
                                      {"light", s.bursts_light}}) {
      bursts.metric.push_back(metric({{"device", src_.device}, {"worker", worker}, {"decision", decision}},
                                     static_cast<double>(v), MetricType::Counter));
    }
    packets.metric.push_back(metric(labels, static_cast<double>(s.packets), MetricType::Counter));
    full.metric.push_back(metric(labels, static_cast<double>(s.window_full), MetricType::Counter));
    if (sp != nullptr && sp->enabled) {
      window.metric.push_back(metric(labels, static_cast<double>(dp::window_depth(sp->lanes[w])), MetricType::Gauge));
      window_cap.metric.push_back(metric(labels, dp::kWindowSlots, MetricType::Gauge));
      load.metric.push_back(metric(labels, sp->lanes[w].load / (16 * 256.0), MetricType::Gauge));
      work.metric.push_back(metric(labels, rte_ring_count(sp->lanes[w].work), MetricType::Gauge));
    }
  }
  for (MetricFamily* f : {&slices, &bursts, &packets, &load, &full, &window, &window_cap, &work}) {
    out.push_back(std::move(*f));
  }
}

// The rings from the workers to control: how full they are now, and what was lost when they were full
// (hand-off rings and awaiting_neighbor: the packet; events: only the event, the packet goes on).
void Metrics::collect_rings(std::vector<MetricFamily>& out) const {
  const dp::Tables& t = *src_.tables;
  MetricFamily entries{"wggate_ring_entries", "Entries waiting in a ring to the control thread", MetricType::Gauge, {}};
  MetricFamily capacity{"wggate_ring_capacity", "Capacity of a ring to the control thread", MetricType::Gauge, {}};
  MetricFamily full{"wggate_ring_full_drops_total", "Enqueues refused because the ring was full",
                    MetricType::Counter, {}};
  auto add = [&](const char* name, const rte_ring* ring, std::uint64_t refused) {
    const Labels labels = {{"device", src_.device}, {"ring", name}};
    if (ring != nullptr) {
      entries.metric.push_back(metric(labels, rte_ring_count(ring), MetricType::Gauge));
      capacity.metric.push_back(metric(labels, rte_ring_get_capacity(ring), MetricType::Gauge));
    }
    full.metric.push_back(metric(labels, static_cast<double>(refused), MetricType::Counter));
  };
  for (std::size_t h = 0; h < dp::kHandoffs; ++h) {
    add(dp::kHandoffNames[h], t.handoff[h],
        t.sum_workers([h](const dp::WorkerShared& w) { return w.handoff_full[h]; }));
  }
  add("events", t.events, sum_counter(dp::Counter::events_ring_full));
  add("awaiting_neighbor", t.awaiting_neighbor, sum_counter(dp::Counter::drop_inside_neighbor_unknown));
  out.push_back(std::move(entries));
  out.push_back(std::move(capacity));
  out.push_back(std::move(full));
}

// What can run out: the mbuf pool every port receives into, and what each port lost for want of mbufs or
// of room in its RX queue.
void Metrics::collect_resources(std::vector<MetricFamily>& out) const {
  const Labels dev = {{"device", src_.device}};
  if (src_.pool != nullptr) {
    out.push_back({"wggate_mempool_capacity", "mbufs in the pool", MetricType::Gauge,
                   {metric(dev, src_.pool->size, MetricType::Gauge)}});
    out.push_back({"wggate_mempool_in_use", "mbufs taken from the pool (queues, rings, staging, in flight)",
                   MetricType::Gauge, {metric(dev, rte_mempool_in_use_count(src_.pool), MetricType::Gauge)}});
  }
  MetricFamily nombuf{"wggate_port_rx_nombuf_total", "RX mbuf allocation failures (pool empty)",
                      MetricType::Counter, {}};
  MetricFamily missed{"wggate_port_imissed_total", "packets the port dropped for want of room in its RX queues",
                      MetricType::Counter, {}};
  for (const Sources::Port& p : src_.ports) {
    rte_eth_stats st{};
    if (rte_eth_stats_get(p.id, &st) != 0) continue;
    const Labels labels = {{"device", src_.device}, {"port", p.role}};
    nombuf.metric.push_back(metric(labels, static_cast<double>(st.rx_nombuf), MetricType::Counter));
    missed.metric.push_back(metric(labels, static_cast<double>(st.imissed), MetricType::Counter));
  }
  out.push_back(std::move(nombuf));
  out.push_back(std::move(missed));
}

void Metrics::collect_control(std::vector<MetricFamily>& out) const {
  if (src_.control == nullptr) return;
  const ControlCounters& cc = *src_.control;
  const Labels dev = {{"device", src_.device}};
  for (std::size_t c = 0; c < static_cast<std::size_t>(CtlCounter::kCount); ++c) {
    out.push_back({absl::StrCat("wggate_", kCtlCounterNames[c], "_total"), kCtlCounterHelp[c], MetricType::Counter,
                   {metric(dev, static_cast<double>(cc.count(static_cast<CtlCounter>(c))), MetricType::Counter)}});
  }
  MetricFamily completed{"wggate_handshakes_completed_total",
                         "Handshakes that derived a session, by this gateway's role", MetricType::Counter, {}};
  for (std::size_t r = 0; r < static_cast<std::size_t>(HandshakeRole::kCount); ++r) {
    completed.metric.push_back(metric({{"device", src_.device}, {"role", kHandshakeRoleNames[r]}},
                                      static_cast<double>(cc.completed_count(static_cast<HandshakeRole>(r))),
                                      MetricType::Counter));
  }
  out.push_back(std::move(completed));
  MetricFamily rejected{"wggate_handshakes_rejected_total",
                        "Handshake messages refused, by reason (control/control_counters.h)", MetricType::Counter,
                        {}};
  for (std::size_t r = 0; r < static_cast<std::size_t>(HandshakeReject::kCount); ++r) {
    rejected.metric.push_back(metric({{"device", src_.device}, {"reason", kHandshakeRejectNames[r]}},
                                     static_cast<double>(cc.rejected_count(static_cast<HandshakeReject>(r))),
                                     MetricType::Counter));
  }
  out.push_back(std::move(rejected));
  MetricFamily drops{"wggate_control_drops_total", "Packets the control thread dropped, by reason "
                     "(control/control_counters.h)", MetricType::Counter, {}};
  for (std::size_t d = 0; d < static_cast<std::size_t>(CtlDrop::kCount); ++d) {
    drops.metric.push_back(metric({{"device", src_.device}, {"reason", kCtlDropNames[d]}},
                                  static_cast<double>(cc.drop_count(static_cast<CtlDrop>(d))), MetricType::Counter));
  }
  out.push_back(std::move(drops));
  auto loop_histogram = [&](auto count) {
    ClientMetric h;
    h.label = dev;
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kLoopGapBuckets; ++b) {
      cumulative += count(b);
      h.histogram.bucket.push_back(
          {cumulative, b < std::size(kLoopGapBounds) ? kLoopGapBounds[b] : std::numeric_limits<double>::infinity()});
    }
    h.histogram.sample_count = cumulative;
    return h;
  };
  out.push_back({"wggate_control_loop_gap_seconds", "Time between two passes of the control loop (wall clock)",
                 MetricType::Histogram, {loop_histogram([&](std::size_t b) { return cc.loop_gap_count(b); })}});
  out.push_back({"wggate_control_loop_stall_seconds",
                 "Time the control thread slept or blocked within one pass (the gap less time on or waiting for "
                 "a CPU)",
                 MetricType::Histogram, {loop_histogram([&](std::size_t b) { return cc.loop_stall_count(b); })}});
  for (std::size_t g = 0; g < static_cast<std::size_t>(CtlGauge::kCount); ++g) {
    out.push_back({absl::StrCat("wggate_", kCtlGaugeNames[g]), kCtlGaugeHelp[g], MetricType::Gauge,
                   {metric(dev, cc.gauge(static_cast<CtlGauge>(g)), MetricType::Gauge)}});
  }
  out.push_back({"wggate_under_load", "1 while handshakes must carry a valid mac2 (cookie) to be processed",
                 MetricType::Gauge, {metric(dev, cc.under_load(mono_now()) ? 1 : 0, MetricType::Gauge)}});
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
