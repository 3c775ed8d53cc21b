#include "control/control_plane.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <unistd.h>

#include <cstdlib>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "config/loader.h"
#include "control/config_sync.h"
#include "control/log.h"
#include "control/loop_pace.h"
#include "control/memory_metrics.h"
#include "control/uapi_set.h"
#include "lib/crypto/key_encoding.h"
#include "dataplane/packet.h"
#include "dataplane/pool_budget.h"

namespace wg::ctl {
namespace {
using namespace std::chrono_literals;
constexpr auto kTick = 10ms;
constexpr unsigned kDrainBurst = 64;
// A Noise step costs a DH or two (~0.1 ms): a pass runs at most this many, so that a flood of initiations
// cannot stretch one pass beyond a few milliseconds; the rest wait in their ring, whose fill level is the
// under-load signal. Under load most of a flood is answered with cookie replies, which cost no DH: a pass
// answers up to kInitiationsPerPass of those, within kInitiationTime, so the ring drains as fast as the
// thread can go.
constexpr unsigned kNoiseStepsPerPass = 16;
constexpr unsigned kInitiationsPerPass = 512;
constexpr auto kInitiationTime = 2ms;
static_assert(HandshakeGate::kUnderLoadBacklog ==
              dp::kHandoffDepth[static_cast<std::size_t>(dp::Handoff::handshake)] / 8);
}  // namespace

ControlPlane::ControlPlane(const config::Config& cfg, dp::Tables& tables, dp::LpmCopies& lpm,
                           const dp::GatewayInfo& gw, rte_mempool* pool, std::uint16_t workers, crypto::AeadBatchEngine* engine,
                           const std::atomic<bool>& stop, std::atomic<bool>* reload)
    : cfg_(cfg),
      tables_(tables),
      gw_(gw),
      pool_(pool),
      workers_(workers),
      control_queue_(workers),
      stop_(stop),
      reload_(reload),
      own_ctx_{workers, &gw, &tables, engine, &(*tables.workers)[workers], &stop},
      peers_(identity_, tables.peer_capacity, tables.index_mask + 1),
      allowed_ips_(tables, lpm, [this] { synchronize(); }),
      routes_(tables.peer_capacity),
      wheel_(tables.peer_capacity, mono_now()),
      pending_mark_(tables.peer_capacity, 0),
      evaluated_(tables.peer_capacity, 0),
      facts_mark_(tables.peer_capacity, 0),
      staging_(tables.peer_capacity, dp::kStagingBudget, [](rte_mbuf* m) { rte_pktmbuf_free(m); }),
      uapi_(&counters_, UapiServer::request_limit_for(tables.peer_capacity)) {
  identity_.set(*cfg.interface.private_key);
  gate_.init(identity_.public_key);
  if (cfg.gateway.handshake_threads > 0) hs_pool_ = std::make_unique<HandshakePool>(cfg.gateway.handshake_threads);
  counters_.set(CtlGauge::handshake_threads, cfg.gateway.handshake_threads);
  peers_.publish_indexes_to(tables_.live_index.get());
  tsc_hz_ = rte_get_tsc_hz();
  tsc0_ = rte_rdtsc();
  mono0_ = mono_now();
}

ControlPlane::~ControlPlane() {
  for (auto& [ip, q] : held_) {
    for (auto& h : q) rte_pktmbuf_free(h.m);
  }
  // staging_ frees what it holds itself.
}

absl::Status ControlPlane::init() {
  tables_.listen_port.store(cfg_.interface.listen_port, std::memory_order_relaxed);
  // For tests only: a rekey in mid-transfer without waiting REKEY_AFTER_TIME (120 s). 5..120 s; said at start.
  if (const char* env = std::getenv("WGGATE_REKEY_AFTER_SECONDS"); env != nullptr) {
    const long secs = std::strtol(env, nullptr, 10);
    if (secs < 5 || secs > 120) return absl::InvalidArgumentError("WGGATE_REKEY_AFTER_SECONDS: 5 to 120");
    rekey_after_ = std::chrono::seconds(secs);
    std::printf("wggate: rekey after %ld s (WGGATE_REKEY_AFTER_SECONDS, a test setting)\n", secs);
  }
  // Start-up is the first change: an empty device brought to what the file says.
  if (absl::Status s = apply_change(change_from_config(cfg_)); !s.ok()) {
    return absl::ResourceExhaustedError(absl::StrCat(cfg_.file, ": ", std::string(s.message())));
  }
  std::vector<Metrics::Sources::EngineClass> engine_classes;
  for (const crypto::AeadOp op : {crypto::AeadOp::kSeal, crypto::AeadOp::kOpen}) {
    for (std::size_t c = 0; c < crypto::kSizeClassCount; ++c) {
      const auto size_class = static_cast<crypto::SizeClass>(c);
      engine_classes.push_back({std::string(crypto::to_string(op)), std::string(crypto::to_string(size_class)),
                                own_ctx_.engine->engine_for(op, size_class)});
    }
  }
  metrics_ = std::make_shared<Metrics>(Metrics::Sources{
      cfg_.gateway.name, crypto::to_base64(identity_.public_key), &tables_, workers_, &counters_,
      std::string(own_ctx_.engine->description()), tsc_hz_, pool_,
      {{gw_.inside_port, "inside"}, {gw_.outside_port, "outside"}}, std::move(engine_classes),
      cfg_.gateway.peer_metrics, tables_.peer_capacity});
  refresh_metrics();
  auto exposer = start_exposer(cfg_.gateway.metrics_address.to_string(), metrics_);
  if (!exposer.ok()) {
    return absl::UnavailableError(absl::StrCat(cfg_.file, ":", cfg_.gateway.metrics_address_line, ": ",
                                               std::string(exposer.status().message())));
  }
  exposer_ = std::move(*exposer);
  memory_metrics_ = std::make_shared<MemoryMetrics>();
  exposer_->RegisterCollectable(memory_metrics_);
  return uapi_.listen(
      cfg_.gateway.name, [this](std::string& out, std::size_t& cursor) { return uapi_get(out, cursor); },
      [this](std::string_view body) {
        absl::StatusOr<DeviceChange> change = parse_uapi_set(body);
        absl::Status s = change.ok() ? apply_change(*change) : change.status();
        if (!s.ok()) log_notice("UAPI set refused: %s", std::string(s.message()).c_str());
        return s;
      });
}

bool ControlPlane::uapi_get(std::string& out, std::size_t& cursor) {
  // cursor 0: the device lines; then 1 + the position in the peer table's order. Peers added meanwhile are
  // appended to the order and included; removed ones leave holes, skipped. Only a compaction moves
  // positions: then the answer starts over (a dump consistent with one table, as netlink's is).
  if (cursor == 0 || uapi_get_generation_ != peers_.order_generation()) {
    out = absl::StrCat("private_key=", crypto::to_hex(identity_.private_key.span()), "\n",
                       "listen_port=", listen_port(), "\n");
    out.reserve(out.size() + 320 * peers_.size());  // about one peer's lines each: no regrowth copies
    if (fwmark_ != 0) absl::StrAppend(&out, "fwmark=", fwmark_, "\n");
    uapi_get_generation_ = peers_.order_generation();
    cursor = 1;
  }
  const std::size_t end = std::min(peers_.order_slots(), cursor - 1 + kUapiPeersPerPass);
  for (std::size_t i = cursor - 1; i < end; ++i) {
    const Peer* pp = peers_.at_order(i);
    if (pp == nullptr) continue;
    const Peer& p = *pp;
    const std::uint64_t tx = tables_.sum_workers([&](const dp::WorkerShared& w) { return w.peers[p.id].tx_bytes; });
    const std::uint64_t rx = tables_.sum_workers([&](const dp::WorkerShared& w) { return w.peers[p.id].rx_bytes; });
    absl::StrAppend(&out, "public_key=", crypto::to_hex(p.public_key), "\n",
                    "preshared_key=", crypto::to_hex(p.preshared_key.span()), "\n",
                    "protocol_version=1\n");
    if (p.endpoint) absl::StrAppend(&out, "endpoint=", p.endpoint->to_string(), "\n");
    absl::StrAppend(&out, "last_handshake_time_sec=", p.last_handshake_unix, "\n", "last_handshake_time_nsec=0\n",
                    "tx_bytes=", tx, "\n", "rx_bytes=", rx, "\n",
                    "persistent_keepalive_interval=", p.persistent_keepalive, "\n");
    for (const net::Prefix& a : p.allowed_ips) absl::StrAppend(&out, "allowed_ip=", a.to_string(), "\n");
  }
  cursor = end + 1;
  return end == peers_.order_slots();
}

void ControlPlane::refresh_metrics() {
  if (!metrics_) return;  // start-up applies the config before the exporter exists
  counters_.set(CtlGauge::peers, static_cast<double>(peers_.size()));
  counters_.set(CtlGauge::peer_capacity, static_cast<double>(peers_.capacity()));
  counters_.set(CtlGauge::handshake_jobs_in_flight, hs_pool_ ? static_cast<double>(hs_pool_->in_flight()) : 0.0);
  publish_peer_facts();
}

void ControlPlane::publish_peer_facts() {
  // Only what changed (touched peers: handshakes, endpoints, settings; removed ones), at most
  // kFactsPerPass at a time, so that 100,000 peers never cost the loop a long pass.
  if (!metrics_ || !cfg_.gateway.peer_metrics || facts_dirty_.empty()) return;
  const std::size_t n = std::min(facts_dirty_.size(), kFactsPerPass);
  std::vector<Metrics::PeerFacts> changed;
  std::vector<std::uint32_t> removed;
  for (std::size_t i = facts_dirty_.size() - n; i < facts_dirty_.size(); ++i) {
    const Peer* pp = peers_.get(facts_dirty_[i]);
    if (pp == nullptr) {
      removed.push_back(facts_dirty_[i]);
      continue;
    }
    Metrics::PeerFacts f;
    f.id = pp->id;
    f.public_key = crypto::to_base64(pp->public_key);
    if (pp->endpoint) f.endpoint = pp->endpoint->to_string();
    for (const net::Prefix& a : pp->allowed_ips) absl::StrAppend(&f.allowed_ips, f.allowed_ips.empty() ? "" : ",", a.to_string());
    f.last_handshake = pp->last_handshake_unix;
    changed.push_back(std::move(f));
  }
  // A scrape holding the snapshot's mutex must not hold the loop: if it is busy, the next pass tries again.
  if (!metrics_->try_update_peers(changed, removed)) return;
  for (std::size_t i = facts_dirty_.size() - n; i < facts_dirty_.size(); ++i) facts_mark_[facts_dirty_[i]] = 0;
  facts_dirty_.resize(facts_dirty_.size() - n);
}

MonoTime ControlPlane::tsc_to_mono(std::uint64_t tsc) const {
  const std::uint64_t d = tsc - tsc0_;
  return mono0_ + MonoTime(static_cast<std::int64_t>(d / tsc_hz_ * 1'000'000'000ULL +
                                                     (d % tsc_hz_) * 1'000'000'000ULL / tsc_hz_));
}

void ControlPlane::send_frame(std::uint16_t port, std::span<const std::uint8_t> frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    counters_.add_drop(CtlDrop::alloc_failed);
    return;
  }
  char* dst = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
  if (dst == nullptr) {
    counters_.add_drop(CtlDrop::alloc_failed);
    rte_pktmbuf_free(m);
    return;
  }
  std::memcpy(dst, frame.data(), frame.size());
  send_mbuf(port, m);
}

void ControlPlane::send_mbuf(std::uint16_t port, rte_mbuf* m) {
  if (rte_eth_tx_burst(port, control_queue_, &m, 1) != 1) {
    counters_.add_drop(CtlDrop::tx_full);
    rte_pktmbuf_free(m);
  }
}

// Each ring is its own reason: nothing is parsed again to know what a packet is for.
bool ControlPlane::drain_handoffs(MonoTime now) {
  rte_mbuf* pkts[kDrainBurst];
  bool any = false;
  rte_ring* hs = tables_.ring(dp::Handoff::handshake);
  // Many handshakes waiting means we are being asked for more DH work than we do: require cookies (5.3).
  // Only this ring counts: an ICMP flood or packets for offline peers must not push real peers into it.
  // With handshake threads, the initiations they have not started yet count as well.
  const std::size_t backlog = rte_ring_count(hs) + (hs_pool_ ? hs_pool_->queued() : 0);
  if (gate_.observe_backlog(backlog, now)) counters_.add(CtlCounter::under_load_entered);
  counters_.set_under_load_until(gate_.under_load_until());
  for (std::size_t h = 0; h < dp::kHandoffs; ++h) {
    const auto kind = static_cast<dp::Handoff>(h);
    if (kind == dp::Handoff::handshake) {
      any |= drain_initiations(now);
      continue;
    }
    unsigned budget = kind == dp::Handoff::handshake_known ? kNoiseStepsPerPass : kDrainBurst;
    if (kind == dp::Handoff::handshake_known && hs_pool_) {  // initiations among them need a job slot
      budget = std::min<unsigned>(budget, static_cast<unsigned>(HandshakePool::kSlots - hs_pool_->in_flight()));
    }
    const unsigned n = rte_ring_sc_dequeue_burst(tables_.handoff[h], reinterpret_cast<void**>(pkts), budget, nullptr);
    any |= n > 0;
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      switch (kind) {
        case dp::Handoff::handshake:
        case dp::Handoff::handshake_known: handle_handshake(m, now); break;
        case dp::Handoff::neighbor: handle_neighbor(m, now); break;
        case dp::Handoff::local: handle_local(m); break;
        case dp::Handoff::too_big: answer_too_big(m); break;
        case dp::Handoff::ttl_exceeded: answer_time_exceeded(m); break;
        case dp::Handoff::staging: stage(m); break;
        case dp::Handoff::kCount: rte_pktmbuf_free(m); break;
      }
    }
  }
  return any;
}

bool ControlPlane::drain_initiations(MonoTime now) {
  rte_ring* ring = tables_.ring(dp::Handoff::handshake);
  const MonoTime until = now + kInitiationTime;
  unsigned steps = 0, taken = 0;
  rte_mbuf* m = nullptr;
  // With handshake threads a message is taken only while a job slot is free: the rest wait in the ring,
  // where they count towards "under load".
  while (steps < kNoiseStepsPerPass && taken < kInitiationsPerPass &&
         (!hs_pool_ || hs_pool_->in_flight() < HandshakePool::kSlots) &&
         rte_ring_sc_dequeue(ring, reinterpret_cast<void**>(&m)) == 0) {
    ++taken;
    steps += handle_handshake(m, now) ? 1 : 0;
    if ((taken & 31) == 0 && mono_now() >= until) break;
  }
  return taken > 0;
}

bool ControlPlane::drain_events() {
  dp::Event evs[32];
  const unsigned n = rte_ring_sc_dequeue_burst_elem(tables_.events, evs, sizeof(dp::Event), 32, nullptr);
  const MonoTime now = mono_now();
  for (unsigned i = 0; i < n; ++i) {
    const dp::Event& ev = evs[i];
    Peer* p = peers_.get(ev.peer);
    if (p == nullptr) continue;
    switch (ev.type) {
      case dp::EventType::kReceivedWithKeypair: {
        noise::Keypair* kp = p->keypairs.find(ev.local_index);
        std::vector<noise::KeypairPtr> retired;
        if (kp != nullptr && p->keypairs.received_with(kp, retired)) {
          // The responder's keypair is confirmed: it becomes the send keypair.
          p->timers.on_handshake_complete(now);
          touch(*p);
          publish_keypairs(*p, std::move(retired));
          flush_staged(*p, now);
        }
        break;
      }
      case dp::EventType::kEndpointChanged: {
        net::Endpoint ep;
        ep.addr = net::IpAddress::from_bytes(ev.family, ev.addr);
        ep.port = rte_be_to_cpu_16(ev.port);
        // The event may predate a peer change that reused this slot: only a live keypair of the peer counts.
        if (p->keypairs.find(ev.local_index) == nullptr) break;
        if (!p->endpoint || *p->endpoint != ep) {
          log_event("peer %u: endpoint is now %s (roaming)", p->id, ep.to_string().c_str());
          p->endpoint = ep;
          publish_route(*p);
          touch(*p);
          resolve(gw_.outside_port, next_hop_for(ep), now, true);
        }
        break;
      }
    }
  }
  return n > 0;
}

bool ControlPlane::drain_awaiting_neighbor() {
  rte_mbuf* pkts[kDrainBurst];
  const unsigned n = rte_ring_sc_dequeue_burst(tables_.awaiting_neighbor, reinterpret_cast<void**>(pkts),
                                               kDrainBurst, nullptr);
  const MonoTime now = mono_now();
  for (unsigned i = 0; i < n; ++i) hold_for_neighbor(pkts[i], now);
  return n > 0;
}

void ControlPlane::fold_activity(Peer& p) {
  std::uint64_t tx = 0, rx = 0, any = 0;
  for (std::uint16_t w = 0; w <= workers_; ++w) {  // workers, then control's own share
    const dp::PeerActivity& a = (*tables_.workers)[w].peers[p.id];
    tx = std::max(tx, a.last_tx_data);
    rx = std::max(rx, a.last_rx_data);
    any = std::max(any, a.last_rx_any);
  }
  if (tx > p.seen_tx_data) {
    p.seen_tx_data = tx;
    p.timers.on_data_sent(tsc_to_mono(tx));
    p.timers.on_any_authenticated_packet_sent(tsc_to_mono(tx));
  }
  if (rx > p.seen_rx_data) {
    p.seen_rx_data = rx;
    p.timers.on_data_received(tsc_to_mono(rx));
  }
  if (any > p.seen_rx_any) {
    p.seen_rx_any = any;
    p.timers.on_any_authenticated_packet_received(tsc_to_mono(any));
  }
}

void ControlPlane::tick(MonoTime now) {
  if (now >= next_neighbor_upkeep_) {
    neighbor_upkeep(now);
    next_neighbor_upkeep_ = now + 100ms;
  }
  if (now >= next_expire_) {
    gate_.expire(now);
    expire_held(now);
    refresh_metrics();
    next_expire_ = now + 1s;
  } else {
    publish_peer_facts();  // a backlog (start-up, a large change) drains a slice per tick
  }
  counters_.set(CtlGauge::staged_packets, static_cast<double>(staging_.total()));
  counters_.set_count(CtlCounter::log_lines_dropped, log_lines_dropped());
  counters_.set(CtlGauge::staging_budget, static_cast<double>(staging_.budget()));
  counters_.set(CtlGauge::held_packets, static_cast<double>(held_count_));
  counters_.set(CtlGauge::held_budget, dp::kHeldBudget);
  // Which peers to look at (never the whole table): those the workers saw traffic for since the last tick
  // (and the last tick's, whose final records may have landed just after it folded them), those due on the
  // wheel, those control itself touched, and a slice of the backstop sweep.
  std::vector<std::uint32_t>& work = work_;
  work.clear();
  work.swap(pending_);  // pending_ takes work_'s old buffer: no allocation once warm
  work.insert(work.end(), last_noticed_.begin(), last_noticed_.end());
  last_noticed_.clear();
  for (std::uint16_t w = 0; w <= workers_; ++w) {
    dp::WorkerShared& ws = (*tables_.workers)[w];
    ws.activity_epoch.fetch_add(1, std::memory_order_acq_rel);  // from here on, activity is noticed anew
    std::uint32_t ids[256];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst_elem(ws.activity, ids, sizeof(ids[0]), 256, nullptr)) > 0) {
      last_noticed_.insert(last_noticed_.end(), ids, ids + n);
    }
  }
  work.insert(work.end(), last_noticed_.begin(), last_noticed_.end());
  wheel_.advance(now, work);
  for (std::uint32_t i = 0; i < kSweepPerTick && peers_.capacity() > 0; ++i) {
    work.push_back(sweep_next_);
    sweep_next_ = sweep_next_ + 1 == peers_.capacity() ? 0 : sweep_next_ + 1;
  }
  // Marked pending while evaluated, so that what an evaluation touches of its own peer (sending an
  // initiation, a keepalive) does not queue it again: its wake time is computed after its actions.
  for (const std::uint32_t id : work) pending_mark_[id] = 1;
  // A bounded tick: what exceeds kEvaluationsPerTick waits for the next one, still marked (start-up with
  // 100,000 peers touched, a large change): at most a few ticks late, never a long pass.
  if (work.size() > kEvaluationsPerTick) {
    pending_.insert(pending_.end(), work.begin() + kEvaluationsPerTick, work.end());
    work.resize(kEvaluationsPerTick);
    counters_.add(CtlCounter::timer_evaluations_deferred, pending_.size());
  }
  std::size_t evaluations = 0;
  for (const std::uint32_t id : work) {
    if (evaluated_[id]) continue;  // one evaluation per peer per tick
    evaluated_[id] = 1;
    if (Peer* p = peers_.get(id)) {
      evaluate(*p, now);
      ++evaluations;
    }
  }
  for (const std::uint32_t id : work) evaluated_[id] = pending_mark_[id] = 0;
  for (const std::uint32_t id : pending_) pending_mark_[id] = 1;  // deferred ones (and ids in both lists)
  counters_.set(CtlGauge::timer_wheel_entries, static_cast<double>(wheel_.size()));
  counters_.add(CtlCounter::timer_evaluations, evaluations);
}

void ControlPlane::touch(Peer& p) {
  facts_changed(p.id);
  if (pending_mark_[p.id]) return;
  pending_mark_[p.id] = true;
  pending_.push_back(p.id);
}

void ControlPlane::facts_changed(std::uint32_t id) {
  if (facts_mark_[id]) return;
  facts_mark_[id] = 1;
  facts_dirty_.push_back(id);
}

void ControlPlane::evaluate(Peer& p, MonoTime now) {
  const std::uint64_t tx_before = p.seen_tx_data, rx_before = p.seen_rx_data;
  fold_activity(p);
  dp::PeerSlot& slot = tables_.peers[p.id];
  // Expired keypairs (REJECT_AFTER_TIME, or counters exhausted) are withdrawn, for sending and receiving:
  // workers then stage and ask for a new handshake.
  auto expired = p.keypairs.drop_if([now](const noise::Keypair& k) {
    return noise::keypair_expired(k.created, k.sending_counter.load(std::memory_order_relaxed), now);
  });
  if (!expired.empty()) publish_keypairs(p, std::move(expired));
  noise::Keypair* cur = p.keypairs.current();
  // Rekey rules (6.2, 6.3), checked here rather than per packet in the workers.
  bool rekey = false;
  if (cur != nullptr) {
    rekey = (p.seen_tx_data != tx_before &&
             noise::should_rekey_on_send(cur->i_am_initiator, cur->created,
                                         cur->sending_counter.load(std::memory_order_relaxed), now, rekey_after_)) ||
            (p.seen_rx_data != rx_before && noise::should_rekey_on_receive(cur->i_am_initiator, cur->created, now));
  }
  // A worker's request means "no usable session for a packet"; it may be stale by now (a responder's
  // keypair confirmed meanwhile), so it counts only while there is still no session.
  const bool worker_wants = slot.handshake_wanted.exchange(false, std::memory_order_acq_rel);
  // Right after we answered an initiation, a wanted initiation waits for the initiator's confirmation
  // (PeerTimers::on_response_sent): a reply racing it starts no handshake of ours.
  const bool wanted = worker_wants || staging_.count(p.id) > 0;
  const bool no_session = cur == nullptr && wanted;
  if ((no_session || rekey) && !p.timers.handshake_in_progress()) p.timers.on_want_handshake(now);
  const noise::TimerActions a = p.timers.poll(now);
  if (a.zero_keys) {
    publish_keypairs(p, p.keypairs.clear());
    p.handshake.clear();
  }
  if (a.give_up) drop_staged(p, CtlDrop::staging_gave_up);
  if (a.send_initiation) send_initiation(p, now);
  if (a.send_keepalive || a.send_persistent_keepalive) send_transport(p, {}, now);

  // When to look again unless traffic or control says so first: the timers' next deadline (the end of a
  // responder's wait for confirmation included) and the expiry of every keypair.
  MonoTime wake = p.timers.next_deadline(now);
  for (const noise::Keypair* k : {p.keypairs.current(), p.keypairs.previous(), p.keypairs.next()}) {
    if (k != nullptr) wake = std::min(wake, k->created + noise::kRejectAfterTime);
  }
  if (wake == noise::kNever) {
    wheel_.cancel(p.id);
  } else {
    wheel_.schedule(p.id, wake);
  }
}

void ControlPlane::reload_config() {
  absl::StatusOr<config::Config> loaded = config::load_config(cfg_.file);
  if (!loaded.ok()) {
    log_notice("SIGHUP: %s; the running configuration is unchanged", std::string(loaded.status().message()).c_str());
    return;
  }
  const config::Gateway& now = loaded->gateway;
  const config::Gateway& was = cfg_.gateway;
  if (now.name != was.name || now.inside_port != was.inside_port || now.outside_port != was.outside_port ||
      now.mtu != was.mtu || now.crypto_engine != was.crypto_engine ||
      now.metrics_address.to_string() != was.metrics_address.to_string()) {
    log_notice("SIGHUP: [Gateway] changes take effect at the next restart");
  }
  if (absl::Status s = apply_change(change_from_config(*loaded)); !s.ok()) {
    log_notice("SIGHUP: %s: %s; the running configuration is unchanged", cfg_.file.c_str(),
               std::string(s.message()).c_str());
    return;
  }
  log_notice("SIGHUP: %s applied: %zu peer(s)", cfg_.file.c_str(), peers_.size());
}

void ControlPlane::run() {
  LoopPace pace;  // on this thread: it reads this thread's scheduler statistics
  start_async_log();  // from here a log line never makes the loop wait on stdout
  while (!stop_.load(std::memory_order_relaxed)) {
    // Control's RX queue is polled by worker 0 (dp::WorkerContext::extra_rx_queue): no data packet waits on
    // this loop. Control transmits its own frames on its TX queue.
    bool busy = false;
    MonoTime now = mono_now();
    busy |= drain_handoffs(now);
    busy |= drain_handshake_jobs(now);
    busy |= drain_awaiting_neighbor();
    busy |= uapi_.poll();
    busy |= drain_events();
    busy |= reclaim();
    if (reload_ != nullptr && reload_->exchange(false)) reload_config();
    now = mono_now();
    if (now >= next_tick_) {
      tick(now);
      next_tick_ = now + kTick;
    }
    // The gap between two passes is what kept control from answering ARP, handshakes and timers; the stall,
    // the part of it the thread slept or blocked, is what the loop itself waited on (loop_pace.h).
    const LoopPace::Pass p = pace.mark(now);
    counters_.record_loop(p.gap_s, p.stall_s);
    if (p.gap_s > max_gap_s_) {
      max_gap_s_ = p.gap_s;
      counters_.set(CtlGauge::control_loop_gap_max_seconds, p.gap_s);
    }
    if (p.stall_s > max_stall_s_) {
      max_stall_s_ = p.stall_s;
      counters_.set(CtlGauge::control_loop_stall_max_seconds, p.stall_s);
    }
    if (!busy) usleep(200);  // idle: give the core back (the control thread may share it)
  }
  stop_async_log();  // everything logged is written before main prints the counters
}

}  // namespace wg::ctl
