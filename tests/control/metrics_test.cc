// Metrics::Collect over hand-filled worker records and control counters (no EAL: the rings are left null, so
// their occupancy is simply not reported): sums over workers, cumulative histogram buckets, names and labels
// as docs/ARCHITECTURE.md lists them. (No key material in a real scrape: tests/e2e/gateway_prometheus_test.sh.)
#include "control/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <string>

namespace wg::ctl {
namespace {

class MetricsTest : public ::testing::Test {
 protected:
  MetricsTest() {
    tables_.workers = workers_.get();
    tables_.worker_count = kWorkers;
    tables_.peer_capacity = 16;
    for (unsigned w = 0; w <= kWorkers; ++w) (*workers_)[w].peers = std::make_unique<dp::PeerActivity[]>(16);
    metrics_ = std::make_unique<Metrics>(Metrics::Sources{"wg-test", "PUBKEY=", &tables_, kWorkers, &control_,
                                                          "auto: <=128 B simd, ...", 2'000'000'000, nullptr, {},
                                                          {{"seal", "small", "simd"}, {"open", "large", "ipsec-mb"}}});
  }

  std::string scrape() const { return prometheus::TextSerializer().Serialize(metrics_->Collect()); }

  static constexpr unsigned kWorkers = 2;
  std::unique_ptr<std::array<dp::WorkerShared, dp::kMaxWorkers>> workers_ =
      std::make_unique<std::array<dp::WorkerShared, dp::kMaxWorkers>>();
  dp::Tables tables_;
  ControlCounters control_;
  std::unique_ptr<Metrics> metrics_;
};

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST_F(MetricsTest, BatchHistogramIsCumulativePerWorkerAndOp) {
  dp::WorkerStats& w0 = (*workers_)[0].stats;
  for (std::uint32_t n : {1u, 3u, 32u, 32u}) w0.seal.record(n);
  (*workers_)[1].stats.open.record(100);  // beyond the last bound: only +Inf
  const std::string text = scrape();
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_bucket{device="wg-test",worker="0",op="seal",le="1"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_bucket{device="wg-test",worker="0",op="seal",le="4"} 2)"));
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_bucket{device="wg-test",worker="0",op="seal",le="16"} 2)"));
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_bucket{device="wg-test",worker="0",op="seal",le="32"} 4)"));
  EXPECT_TRUE(
      has_line(text, R"(wggate_crypto_batch_size_bucket{device="wg-test",worker="0",op="seal",le="+Inf"} 4)"));
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_count{device="wg-test",worker="0",op="seal"} 4)"));
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_sum{device="wg-test",worker="0",op="seal"} 68)"));
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_bucket{device="wg-test",worker="1",op="open",le="64"} 0)"));
  EXPECT_TRUE(
      has_line(text, R"(wggate_crypto_batch_size_bucket{device="wg-test",worker="1",op="open",le="+Inf"} 1)"));
  EXPECT_TRUE(has_line(text, R"(wggate_crypto_batch_size_count{device="wg-test",worker="control",op="open"} 0)"));
}

TEST_F(MetricsTest, PollsPerWorkerAndRingFullDrops) {
  for (int i = 0; i < 10; ++i) (*workers_)[1].stats.record_poll(i < 3);
  (*workers_)[0].handoff_full[static_cast<std::size_t>(dp::Handoff::handshake)] = 2;
  (*workers_)[kWorkers].handoff_full[static_cast<std::size_t>(dp::Handoff::handshake)] = 1;  // control's own slot
  (*workers_)[1].handoff_full[static_cast<std::size_t>(dp::Handoff::staging)] = 4;
  (*workers_)[1].counters.add(dp::Counter::events_ring_full, 5);
  const std::string text = scrape();
  EXPECT_TRUE(has_line(text, R"(wggate_worker_polls_total{device="wg-test",worker="1"} 10)")) << text;
  EXPECT_TRUE(has_line(text, R"(wggate_worker_busy_polls_total{device="wg-test",worker="1"} 3)"));
  EXPECT_TRUE(has_line(text, R"(wggate_worker_polls_total{device="wg-test",worker="control"} 0)"));
  EXPECT_TRUE(has_line(text, R"(wggate_ring_full_drops_total{device="wg-test",ring="handshake"} 3)"));
  EXPECT_TRUE(has_line(text, R"(wggate_ring_full_drops_total{device="wg-test",ring="staging"} 4)"));
  EXPECT_TRUE(has_line(text, R"(wggate_ring_full_drops_total{device="wg-test",ring="neighbor"} 0)"));
  EXPECT_TRUE(has_line(text, R"(wggate_ring_full_drops_total{device="wg-test",ring="events"} 5)"));
  EXPECT_TRUE(has_line(text, R"(wggate_ring_full_drops_total{device="wg-test",ring="awaiting_neighbor"} 0)"));
  // Not a packet drop: the events counter is its own family, not a drops_total reason.
  EXPECT_TRUE(has_line(text, R"(wggate_events_ring_full_total{device="wg-test",worker="1"} 5)"));
  EXPECT_EQ(text.find(R"(reason="events_ring_full")"), std::string::npos);
}

TEST_F(MetricsTest, BusyCyclesByPhasePerWorker) {
  dp::WorkerStats& s = (*workers_)[1].stats;
  s.busy_cycles = 1000;
  s.add_cycles(dp::Phase::rx, 100);
  s.add_cycles(dp::Phase::crypto, 600);
  s.add_cycles(dp::Phase::crypto, 50);
  s.add_cycles(dp::Phase::tx, 200);
  const std::string text = scrape();
  EXPECT_TRUE(has_line(text, R"(wggate_worker_busy_cycles_total{device="wg-test",worker="1"} 1000)")) << text;
  EXPECT_TRUE(has_line(text, R"(wggate_worker_phase_cycles_total{device="wg-test",worker="1",phase="rx"} 100)"));
  EXPECT_TRUE(has_line(text, R"(wggate_worker_phase_cycles_total{device="wg-test",worker="1",phase="crypto"} 650)"));
  EXPECT_TRUE(has_line(text, R"(wggate_worker_phase_cycles_total{device="wg-test",worker="1",phase="tx"} 200)"));
  EXPECT_TRUE(has_line(text, R"(wggate_worker_phase_cycles_total{device="wg-test",worker="0",phase="tx"} 0)"));
  EXPECT_TRUE(has_line(text, R"(wggate_tsc_hz{device="wg-test"} 2000000000)"));
}

TEST_F(MetricsTest, ControlCountersAndEngine) {
  control_.add(CtlCounter::handshakes_initiated);
  control_.add(CtlCounter::cookie_replies_sent);
  control_.add_completed(HandshakeRole::kResponder);
  control_.add_rejected(noise::HandshakeResult::kStaleTimestamp);
  control_.add_rejected(noise::HandshakeResult::kStaleTimestamp);
  control_.add_rejected(noise::HandshakeResult::kOk);  // not a refusal: ignored
  control_.add_rejected(HandshakeReject::invalid_mac);
  const std::string text = scrape();
  EXPECT_TRUE(has_line(text, R"(wggate_handshakes_initiated_total{device="wg-test"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(wggate_cookie_replies_sent_total{device="wg-test"} 1)"));
  EXPECT_TRUE(has_line(text, R"(wggate_handshakes_completed_total{device="wg-test",role="initiator"} 0)"));
  EXPECT_TRUE(has_line(text, R"(wggate_handshakes_completed_total{device="wg-test",role="responder"} 1)"));
  EXPECT_TRUE(has_line(text, R"(wggate_handshakes_rejected_total{device="wg-test",reason="stale_timestamp"} 2)"));
  EXPECT_TRUE(has_line(text, R"(wggate_handshakes_rejected_total{device="wg-test",reason="invalid_mac"} 1)"));
  EXPECT_TRUE(has_line(text, R"(wggate_under_load{device="wg-test"} 0)"));
  for (const char* line :
       {R"(wggate_crypto_engine_info{device="wg-test",op="seal",class="small",engine="simd",description="auto: <=128 B simd, ..."} 1)",
        R"(wggate_crypto_engine_info{device="wg-test",op="open",class="large",engine="ipsec-mb",description="auto: <=128 B simd, ..."} 1)"}) {
    EXPECT_TRUE(has_line(text, line)) << line;
  }
}

TEST_F(MetricsTest, ControlDropsByReasonAndGauges) {
  control_.add_drop(CtlDrop::staging_budget, 3);
  control_.add_drop(CtlDrop::held_expired);
  control_.add_drop(CtlDrop::tx_full, 0);  // nothing to add
  control_.set(CtlGauge::staged_packets, 4096);
  control_.set(CtlGauge::control_loop_gap_max_seconds, 0.0125);
  const std::string text = scrape();
  EXPECT_TRUE(has_line(text, R"(wggate_control_drops_total{device="wg-test",reason="staging_budget"} 3)")) << text;
  EXPECT_TRUE(has_line(text, R"(wggate_control_drops_total{device="wg-test",reason="held_expired"} 1)"));
  EXPECT_TRUE(has_line(text, R"(wggate_control_drops_total{device="wg-test",reason="tx_full"} 0)"));
  EXPECT_TRUE(has_line(text, R"(wggate_staged_packets{device="wg-test"} 4096)"));
  EXPECT_TRUE(has_line(text, R"(wggate_control_loop_gap_max_seconds{device="wg-test"} 0.0125)"));
}

TEST_F(MetricsTest, UnderLoadLapsesByItself) {
  control_.set_under_load_until(mono_now() + std::chrono::hours(1));
  EXPECT_TRUE(has_line(scrape(), R"(wggate_under_load{device="wg-test"} 1)"));
  control_.set_under_load_until(mono_now() - std::chrono::seconds(1));
  EXPECT_TRUE(has_line(scrape(), R"(wggate_under_load{device="wg-test"} 0)"));
}

// Every refusal reason of the Noise code has its own label, named as noise::to_string names it.
TEST(ControlCounters, RejectReasonsMatchNoiseNames) {
  using noise::HandshakeResult;
  for (HandshakeResult r :
       {HandshakeResult::kNoIdentity, HandshakeResult::kUnknownStaticKey, HandshakeResult::kBadStaticTag,
        HandshakeResult::kBadTimestampTag, HandshakeResult::kStaleTimestamp, HandshakeResult::kFloodedInitiation,
        HandshakeResult::kUnknownReceiver, HandshakeResult::kWrongState, HandshakeResult::kBadResponseTag,
        HandshakeResult::kBadPoint}) {
    const HandshakeReject reason = reject_reason(r);
    ASSERT_NE(reason, HandshakeReject::kCount);
    EXPECT_STREQ(kHandshakeRejectNames[static_cast<std::size_t>(reason)], noise::to_string(r));
  }
  EXPECT_EQ(reject_reason(HandshakeResult::kOk), HandshakeReject::kCount);
}

TEST_F(MetricsTest, PeerBytesSumOverWorkers) {
  metrics_->set_peers({{7, "PEERPUB=", "192.0.2.1:51820", "10.62.0.0/24", 1700000000}});
  (*workers_)[0].peers[7].tx_bytes = 1000;
  (*workers_)[1].peers[7].tx_bytes = 24;
  (*workers_)[kWorkers].peers[7].tx_bytes = 32;  // control's own sends (keepalives, staged packets)
  const std::string text = scrape();
  EXPECT_TRUE(has_line(text, R"(wireguard_peer_transmit_bytes_total{device="wg-test",public_key="PEERPUB="} 1056)"))
      << text;
}

// The control thread sends only what changed: facts merge by peer id, removed ids leave the snapshot.
TEST_F(MetricsTest, PeerFactsMergeByIdAndRemovedOnesLeave) {
  std::vector<Metrics::PeerFacts> first = {{3, "THREE=", "", "10.3.0.0/16", 0}, {9, "NINE=", "", "10.9.0.0/16", 0}};
  ASSERT_TRUE(metrics_->try_update_peers(first, {}));
  std::vector<Metrics::PeerFacts> moved = {{3, "THREE=", "192.0.2.3:51820", "10.3.0.0/16", 1700000003}};
  ASSERT_TRUE(metrics_->try_update_peers(moved, {9}));
  const auto peers = metrics_->peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].id, 3u);
  EXPECT_EQ(peers[0].endpoint, "192.0.2.3:51820");
  const std::string text = scrape();
  EXPECT_TRUE(has_line(text, R"(wireguard_peer_last_handshake_seconds{device="wg-test",public_key="THREE="} 1700000003)"))
      << text;
  EXPECT_EQ(text.find("NINE="), std::string::npos) << text;
}

// PeerMetrics = off: no per-peer series at all (Prometheus cardinality), the device's own stay.
TEST_F(MetricsTest, PerPeerSeriesCanBeLeftOut) {
  Metrics quiet(Metrics::Sources{"wg-test", "PUBKEY=", &tables_, kWorkers, &control_, "", 2'000'000'000, nullptr,
                                 {}, {}, /*per_peer=*/false});
  quiet.set_peers({{7, "PEERPUB=", "192.0.2.1:51820", "10.62.0.0/24", 1700000000}});
  metrics_->set_peers({{7, "PEERPUB=", "192.0.2.1:51820", "10.62.0.0/24", 1700000000}});
  const std::string off = prometheus::TextSerializer().Serialize(quiet.Collect());
  const std::string on = scrape();
  EXPECT_NE(on.find("wireguard_peer_"), std::string::npos) << on;
  EXPECT_EQ(off.find("wireguard_peer_"), std::string::npos) << off;
  EXPECT_EQ(off.find("PEERPUB="), std::string::npos) << off;
  EXPECT_TRUE(has_line(off, R"(wireguard_device_info{device="wg-test",public_key="PUBKEY="} 1)")) << off;
  EXPECT_NE(off.find("wggate_drops_total"), std::string::npos);
}

}  // namespace
}  // namespace wg::ctl
