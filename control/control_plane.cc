#include "control/control_plane.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "config/loader.h"
#include "control/config_sync.h"
#include "control/log.h"
#include "control/memory_metrics.h"
#include "control/uapi_set.h"
#include "lib/crypto/key_encoding.h"
#include "dataplane/packet.h"

namespace wg::ctl {
namespace {
using namespace std::chrono_literals;
constexpr auto kTick = 10ms;
constexpr unsigned kDrainBurst = 64;
}  // namespace

ControlPlane::ControlPlane(const config::Config& cfg, dp::Tables& tables, const dp::GatewayInfo& gw,
                           rte_mempool* pool, std::uint16_t workers, crypto::AeadBatchEngine* engine,
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
      peers_(identity_),
      allowed_ips_(tables, [this] { synchronize(); }) {
  identity_.set(*cfg.interface.private_key);
  cookie_checker_.init(identity_.public_key);
  tsc_hz_ = rte_get_tsc_hz();
  tsc0_ = rte_rdtsc();
  mono0_ = mono_now();
}

ControlPlane::~ControlPlane() {
  for (auto& [ip, q] : held_) {
    for (auto& h : q) rte_pktmbuf_free(h.m);
  }
  for (Peer* p : peers_.all()) {
    for (rte_mbuf* m : p->staged) rte_pktmbuf_free(m);
    p->staged.clear();
  }
}

absl::Status ControlPlane::init() {
  tables_.listen_port.store(cfg_.interface.listen_port, std::memory_order_relaxed);
  // Start-up is the first change: an empty device brought to what the file says.
  if (absl::Status s = apply_change(change_from_config(cfg_)); !s.ok()) {
    return absl::ResourceExhaustedError(absl::StrCat(cfg_.file, ": ", std::string(s.message())));
  }
  metrics_ = std::make_shared<Metrics>(Metrics::Sources{
      cfg_.gateway.name, crypto::to_base64(identity_.public_key), &tables_, workers_, &counters_,
      own_ctx_.engine->name(), std::string(own_ctx_.engine->description()), tsc_hz_});
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
      cfg_.gateway.name, [this] { return uapi_get(); },
      [this](std::string_view body) {
        absl::StatusOr<DeviceChange> change = parse_uapi_set(body);
        absl::Status s = change.ok() ? apply_change(*change) : change.status();
        if (!s.ok()) log_notice("UAPI set refused: %s", std::string(s.message()).c_str());
        return s;
      });
}

std::string ControlPlane::uapi_get() const {
  std::string out = absl::StrCat("private_key=", crypto::to_hex(identity_.private_key.span()), "\n",
                                 "listen_port=", listen_port(), "\n");
  if (fwmark_ != 0) absl::StrAppend(&out, "fwmark=", fwmark_, "\n");
  for (const Peer* pp : peers_.all()) {
    const Peer& p = *pp;
    std::uint64_t tx = 0, rx = 0;
    for (std::uint16_t w = 0; w <= workers_; ++w) {
      tx += (*tables_.workers)[w].peers[p.id].tx_bytes;
      rx += (*tables_.workers)[w].peers[p.id].rx_bytes;
    }
    absl::StrAppend(&out, "public_key=", crypto::to_hex(p.public_key), "\n",
                    "preshared_key=", crypto::to_hex(p.preshared_key.span()), "\n",
                    "protocol_version=1\n");
    if (p.endpoint) absl::StrAppend(&out, "endpoint=", p.endpoint->to_string(), "\n");
    absl::StrAppend(&out, "last_handshake_time_sec=", p.last_handshake_unix, "\n", "last_handshake_time_nsec=0\n",
                    "tx_bytes=", tx, "\n", "rx_bytes=", rx, "\n",
                    "persistent_keepalive_interval=", p.persistent_keepalive, "\n");
    for (const net::Prefix& a : p.allowed_ips) absl::StrAppend(&out, "allowed_ip=", a.to_string(), "\n");
  }
  return out;
}

void ControlPlane::refresh_metrics() {
  if (!metrics_) return;  // start-up applies the config before the exporter exists
  std::vector<Metrics::PeerFacts> facts;
  for (const Peer* pp : peers_.all()) {
    Metrics::PeerFacts f;
    f.id = pp->id;
    f.public_key = crypto::to_base64(pp->public_key);
    if (pp->endpoint) f.endpoint = pp->endpoint->to_string();
    for (const net::Prefix& a : pp->allowed_ips) absl::StrAppend(&f.allowed_ips, f.allowed_ips.empty() ? "" : ",", a.to_string());
    f.last_handshake = pp->last_handshake_unix;
    facts.push_back(std::move(f));
  }
  metrics_->set_peers(std::move(facts));
}

MonoTime ControlPlane::tsc_to_mono(std::uint64_t tsc) const {
  const std::uint64_t d = tsc - tsc0_;
  return mono0_ + MonoTime(static_cast<std::int64_t>(d / tsc_hz_ * 1'000'000'000ULL +
                                                     (d % tsc_hz_) * 1'000'000'000ULL / tsc_hz_));
}

void ControlPlane::send_frame(std::uint16_t port, std::span<const std::uint8_t> frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return;
  char* dst = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
  if (dst == nullptr) {
    rte_pktmbuf_free(m);
    return;
  }
  std::memcpy(dst, frame.data(), frame.size());
  if (rte_eth_tx_burst(port, control_queue_, &m, 1) != 1) rte_pktmbuf_free(m);
}

bool ControlPlane::drain_to_control() {
  rte_mbuf* pkts[kDrainBurst];
  const unsigned n = rte_ring_sc_dequeue_burst(tables_.to_control, reinterpret_cast<void**>(pkts), kDrainBurst,
                                               nullptr);
  if (n == 0) return false;
  // Many handshakes waiting means we are being asked for more DH work than we do: require cookies (5.3).
  const MonoTime now = mono_now();
  if (rte_ring_count(tables_.to_control) > 256) {
    if (now >= under_load_until_) counters_.add(CtlCounter::under_load_entered);
    under_load_until_ = now + 1s;
    counters_.set_under_load_until(under_load_until_);
  }
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const auto* frame = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const bool outside = m->port == gw_.outside_port;
    // Handshake messages are UDP to ListenPort on the outside; everything else outside is local traffic.
    bool handshake = false;
    if (outside && m->data_len > dp::kEthLen + dp::kIpv4Len + dp::kUdpLen) {
      const std::uint16_t type = static_cast<std::uint16_t>(frame[12] << 8 | frame[13]);
      const std::uint8_t* l3 = frame + dp::kEthLen;
      const std::uint8_t proto = type == RTE_ETHER_TYPE_IPV4 ? l3[9] : type == RTE_ETHER_TYPE_IPV6 ? l3[6] : 0;
      handshake = proto == IPPROTO_UDP;
    }
    if (handshake) {
      handle_handshake(m, now);
    } else if (!outside && m->data_len > dp::kEthLen) {
      const auto ip = dp::parse_inner_ip(frame + dp::kEthLen, m->data_len - dp::kEthLen);
      const bool local = ip.family == 0 || dp::is_inside_address(gw_, ip.family, ip.dst) ||
                         (ip.family == 6 && ip.dst[0] == 0xff);
      if (local || (frame[12] == 0x08 && frame[13] == 0x06)) {
        handle_local(m, now);
      } else if (ip.len > gw_.mtu) {
        handle_local(m, now);  // answers with ICMP too-big
      } else {
        stage(m);
      }
    } else {
      handle_local(m, now);
    }
  }
  return true;
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
          resolve(gw_.outside_port, next_hop_for(ep), now);
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
  if (now >= next_expire_) {
    rate_limiter_.expire(now);
    expire_held(now);
    refresh_metrics();
    next_expire_ = now + 1s;
  }
  for (Peer* pp : peers_.all()) {
    Peer& p = *pp;
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
                                           cur->sending_counter.load(std::memory_order_relaxed), now)) ||
              (p.seen_rx_data != rx_before && noise::should_rekey_on_receive(cur->i_am_initiator, cur->created, now));
    }
    // A worker's request means "no usable session for a packet"; it may be stale by now (a responder's
    // keypair confirmed meanwhile), so it counts only while there is still no session.
    const bool worker_wants = slot.handshake_wanted.exchange(false, std::memory_order_acq_rel);
    const bool no_session = cur == nullptr && (worker_wants || !p.staged.empty());
    if ((no_session || rekey) && !p.timers.handshake_in_progress()) p.timers.on_want_handshake(now);
    const noise::TimerActions a = p.timers.poll(now);
    if (a.zero_keys) {
      publish_keypairs(p, p.keypairs.clear());
      p.handshake.clear();
    }
    if (a.give_up) {
      for (rte_mbuf* m : p.staged) rte_pktmbuf_free(m);
      p.staged.clear();
    }
    if (a.send_initiation) send_initiation(p, now);
    if (a.send_keepalive || a.send_persistent_keepalive) send_transport(p, {}, now);
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
  while (!stop_.load(std::memory_order_relaxed)) {
    // Control's own queue pair, polled as a worker polls its own (own_ctx_.id == control_queue_). Control is
    // the writer of everything published, so it needs no QSBR registration to read it.
    bool busy = dp::poll_once(own_ctx_);
    busy |= drain_to_control();
    busy |= drain_awaiting_neighbor();
    busy |= uapi_.poll();
    busy |= drain_events();
    if (reload_ != nullptr && reload_->exchange(false)) reload_config();
    const MonoTime now = mono_now();
    if (now >= next_tick_) {
      tick(now);
      next_tick_ = now + kTick;
    }
    if (!busy) usleep(200);  // idle: give the core back (the control thread may share it)
  }
}

}  // namespace wg::ctl
