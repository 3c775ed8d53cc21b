// The control thread (main lcore): handshakes, timers, neighbours, staging, publication to the workers.
//
// Loop, each pass (then a short sleep when idle: the thread never spins, so it can share a core):
//   1. (control's RX queue is polled by worker 0; control only transmits on its TX queue)
//   2. the hand-off rings from the workers, one per reason (dataplane/tables.h, WG_DP_HANDOFFS), each with a
//      bounded share of the pass: handshake messages (handshakes.cc), ARP/NDP and traffic for our addresses
//      (local.cc), packets over the MTU (ICMP too-big), packets for peers without a session (staged);
//      initiations go on to the handshake threads (handshake_pool.h), and what they finished comes back here
//   3. awaiting_neighbor and the events ring: held packets, keypair confirmations, roaming
//   4. UAPI requests that the UAPI thread has read (uapi.h): applied here, answered there
//   5. every tick: the peers the workers noticed traffic for, those due on the timer wheel, those control
//      touched, and a slice of the backstop sweep (never the whole table): fold their worker activity into
//      PeerTimers, honour handshake requests, act on what the timers say (initiate, retry, give up,
//      keepalive, expire and zero keys), and schedule the next look on the wheel
// Nothing in a pass waits on a peer, a host or a local client: every queue it keeps is bounded and counted
// (control_counters.h), and the longest gap between two passes is exported.
// Everything workers read is published through publisher.cc (release stores + QSBR before freeing).
#pragma once

#include <rte_mempool.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "control/control_counters.h"
#include "control/device_change.h"
#include "control/peer_table.h"
#include "control/route_table.h"
#include "control/handshake_gate.h"
#include "control/handshake_pool.h"
#include "control/token_bucket.h"
#include "control/metrics.h"
#include "control/neighbors.h"
#include "control/staging.h"
#include "control/timer_wheel.h"
#include "control/uapi.h"
#include "dataplane/packet.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"
#include "lib/net/ethernet.h"

namespace wg::ctl {

inline constexpr std::size_t kNeighborCapacity = 2048;  // per port; dp::Tables::inside_neighbors holds 4096

class ControlPlane {
 public:
  // `engine` serves control's own share of received traffic (see dataplane/port.h). When `reload` becomes
  // true (SIGHUP), control re-reads cfg.file and applies the difference, then clears it.
  ControlPlane(const config::Config& cfg, dp::Tables& tables, dp::LpmCopies& lpm, const dp::GatewayInfo& gw,
               rte_mempool* pool,
               std::uint16_t workers, crypto::AeadBatchEngine* engine, const std::atomic<bool>& stop,
               std::atomic<bool>* reload = nullptr);
  ~ControlPlane();

  // Builds the AllowedIPs tables and the peers; call before the workers start.
  [[nodiscard]] absl::Status init();
  void run();

  const noise::StaticIdentity& identity() const { return identity_; }
  PeerTable& peers() { return peers_; }
  const std::shared_ptr<Metrics>& metrics() const { return metrics_; }

 private:
  // control_plane.cc
  bool drain_handoffs(MonoTime now);
  bool drain_events();
  bool drain_awaiting_neighbor();
  // Every tick: looks at the peers that had traffic, are due on the wheel or were touched (never the whole
  // table), and a slice of the backstop sweep.
  void tick(MonoTime now);
  // Folds the peer's worker records into its timers, applies the rekey rules, acts on what is due, and
  // schedules the next look on the wheel.
  void evaluate(Peer& p, MonoTime now);
  // Control changed something the peer's timers or keypairs depend on: evaluate it at the next tick.
  void touch(Peer& p);
  void fold_activity(Peer& p);
  MonoTime tsc_to_mono(std::uint64_t tsc) const;
  void send_frame(std::uint16_t port, std::span<const std::uint8_t> frame);
  // Sends an mbuf control already holds on its own TX queue; counts and frees it when the queue is full.
  void send_mbuf(std::uint16_t port, rte_mbuf* m);
  void drop_staged(Peer& p, CtlDrop why);

  // handshakes.cc
  // True when it ran a Noise step (a DH or two); false for what the gate refused or answered with a cookie.
  bool handle_handshake(rte_mbuf* m, MonoTime now);
  // The initiations ring, within a pass's budget (see control_plane.cc).
  bool drain_initiations(MonoTime now);
  // What the handshake threads finished (handshake_pool.h): opened initiations accepted and their responses
  // handed back to be built; built responses committed and sent.
  bool drain_handshake_jobs(MonoTime now);
  bool opened(HandshakeJob& job, MonoTime now);  // true: the job went back to the threads
  void built(HandshakeJob& job, MonoTime now);
  // The parts of answering an initiation that are the same inline and with threads.
  Peer* initiation_accepted(noise::Handshake* hs, const net::Endpoint& src, MonoTime now);
  void respond(Peer& p, noise::MessageResponse resp, MonoTime now);
  void send_initiation(Peer& p, MonoTime now);
  void send_handshake_message(Peer& p, std::span<std::uint8_t> msg, MonoTime now);
  bool transmit_handshake(Peer& p, std::span<const std::uint8_t> msg, MonoTime now);
  // Frames a handshake-sized UDP payload (at most 148 bytes) to `ep` from ListenPort; false when the next
  // hop's MAC is not known yet.
  bool send_udp(const net::Endpoint& ep, std::span<const std::uint8_t> payload);
  void session_ready(Peer& p, noise::KeypairPtr kp, MonoTime now);
  void send_transport(Peer& p, std::span<const std::uint8_t> inner, MonoTime now);
  void flush_staged(Peer& p, MonoTime now);
  void stage(rte_mbuf* m);

  // local.cc: ARP, NDP, ICMP for our addresses, neighbour resolution
  void handle_neighbor(rte_mbuf* m, MonoTime now);  // ARP, NDP
  void handle_local(rte_mbuf* m);                     // ICMP echo to our addresses
  void answer_too_big(rte_mbuf* m);
  // TTL/hop limit expired: from the inside, answered on the inside; from a peer (m->port is the outside port,
  // the frame already [Ethernet][inner IP]), answered to that peer through the tunnel.
  void answer_time_exceeded(rte_mbuf* m);
  NeighborTable& neighbors(std::uint16_t port);
  void learn_neighbor(std::uint16_t port, const net::IpAddress& ip, const net::MacAddress& mac,
                      NeighborTable::Kind kind, MonoTime now);
  // Starts resolving ip on port unless known or asked a moment ago; `pin`: a next hop (never evicted).
  void resolve(std::uint16_t port, const net::IpAddress& ip, MonoTime now, bool pin = false);
  void send_neighbor_request(std::uint16_t port, const net::IpAddress& ip,
                             const std::optional<net::MacAddress>& unicast = std::nullopt);
  void next_hop_changed(const net::IpAddress& hop, MonoTime now);
  void neighbor_upkeep(MonoTime now);
  void hold_for_neighbor(rte_mbuf* m, MonoTime now);
  void expire_held(MonoTime now);
  net::IpAddress next_hop_for(const net::Endpoint& ep) const;
  const net::IpAddress* own_address(std::uint16_t port, std::uint8_t family) const;

  // device_update.cc: live changes (UAPI set=1, SIGHUP, start-up)
  static constexpr std::size_t kTrimAfterPeers = 1024;  // malloc_trim(0) after adding or removing this many
  [[nodiscard]] absl::Status apply_change(const DeviceChange& change);
  void remove_peers(std::span<Peer* const> gone);
  void reload_config();
  std::uint16_t listen_port() const { return tables_.listen_port.load(std::memory_order_relaxed); }

  // The UAPI get=1 answer (control_plane.cc): device, then every peer with live transfer counters; a piece
  // of at most kUapiPeersPerPass peers per call (UapiServer::GetHandler).
  static constexpr std::size_t kUapiPeersPerPass = 1000;
  bool uapi_get(std::string& out, std::size_t& cursor);
  std::uint64_t uapi_get_generation_ = 0;
  // The control gauges (once a second) and publish_peer_facts().
  void refresh_metrics();
  // The peers whose facts (key, endpoint, allowed IPs, last handshake) changed, to the metrics' snapshot: at
  // most kFactsPerPass a call.
  void publish_peer_facts();
  void facts_changed(std::uint32_t id);
  static constexpr std::size_t kFactsPerPass = 2000;

  // publisher.cc
  // Publishes p's live keypairs, unlinks `retired`, waits one grace period and frees them.
  void publish_keypairs(Peer& p, std::vector<noise::KeypairPtr> retired);
  // The same in two halves, so that a change to many peers waits once: link (no wait), then, after one
  // synchronize() for all of them, free.
  void link_keypairs(Peer& p, const std::vector<noise::KeypairPtr>& retired);
  void free_keypairs(std::vector<noise::KeypairPtr>& retired);
  // Objects unpublished together, freed together once every worker has passed a quiescent state.
  struct Retired {
    std::uint64_t token = 0;
    std::vector<noise::KeypairPtr> keypairs;
    std::vector<std::unique_ptr<dp::PeerRoute>> routes;
    std::vector<std::int32_t> hash_positions;  // Tables::inside_neighbors key slots
  };
  void retire(Retired r);
  // Frees what every worker has moved past since it was retired; true if it freed anything.
  bool reclaim();
  void publish_route(Peer& p);
  // The peer's endpoint among Tables::known_endpoints (or withdrawn: `gone`).
  void publish_endpoint(Peer& p, bool gone = false);
  // The same for several peers, with one grace period for all of them.
  void publish_routes(std::span<Peer* const> peers);
  void set_inside_neighbor(const net::IpAddress& ip, const net::MacAddress& mac);
  void synchronize();

  const config::Config& cfg_;
  dp::Tables& tables_;
  const dp::GatewayInfo& gw_;
  rte_mempool* pool_;
  std::uint16_t workers_;
  std::uint16_t control_queue_;  // queue pair index on both ports
  const std::atomic<bool>& stop_;
  std::atomic<bool>* reload_;
  dp::WorkerContext own_ctx_;     // control acting as a worker on its own RX queue

  noise::StaticIdentity identity_;
  HandshakeGate gate_;  // mac1, cookies under load, rate limits (handshake_gate.h)
  std::unique_ptr<HandshakePool> hs_pool_;  // null with HandshakeThreads = 0: the Noise steps run here
  PeerTable peers_;
  RouteTable allowed_ips_;
  std::deque<Retired> retiring_;
  std::vector<std::unique_ptr<dp::PeerRoute>> routes_;  // current route per peer id (owned)
  // When to look at each peer next (timer_wheel.h); the peers to evaluate at the next tick, and per-id marks
  // that keep each in a tick's work list once. The sweep walks every id, kSweepPerTick a tick (a full turn in
  // capacity / 25600 s): a backstop for anything that changed a peer without touching it.
  static constexpr std::uint32_t kSweepPerTick = 256;
  static constexpr std::size_t kEvaluationsPerTick = 4096;
  TimerWheel wheel_;
  std::vector<std::uint32_t> pending_, work_, last_noticed_;
  std::vector<std::uint8_t> pending_mark_, evaluated_;
  std::vector<std::uint32_t> facts_dirty_;  // publish_peer_facts' backlog, once each (facts_mark_)
  std::vector<std::uint8_t> facts_mark_;
  std::uint32_t sweep_next_ = 0;
  std::uint32_t fwmark_ = 0;  // accepted and reported for `wg`; a DPDK port has no socket to mark

  // Bounded, aged, believing only answers to our own requests (neighbors.h). The inside one is published to
  // the workers (Tables::inside_neighbors, whose capacity is twice this, so removals can lag a moment).
  NeighborTable outside_nbrs_{kNeighborCapacity};
  NeighborTable inside_nbrs_{kNeighborCapacity};
  // Decrypted packets waiting for an inside host's MAC (bounded per host and in total; 3 s at most).
  struct Held {
    rte_mbuf* m;
    MonoTime since;
  };
  std::map<net::IpAddress, std::deque<Held>> held_;
  std::size_t held_count_ = 0;
  StagingStore staging_;
  TokenBucket icmp_errors_{kIcmpErrorsPerSecond, kIcmpErrorBurst};  // too-big and time exceeded, all together
  ControlCounters counters_;  // before metrics_/exposer_: the scrape reads it until the exposer stops
  MonoTime next_expire_{0};
  MonoTime next_neighbor_upkeep_{0};
  UapiServer uapi_;
  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<class MemoryMetrics> memory_metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;  // after metrics_: stopped before it is destroyed

  std::uint64_t tsc_hz_ = 0, tsc0_ = 0;
  MonoTime mono0_{0};
  MonoTime next_tick_{0};
  MonoTime rekey_after_ = noise::kRekeyAfterTime;  // WGGATE_REKEY_AFTER_SECONDS lowers it, for tests
  double max_gap_s_ = 0, max_stall_s_ = 0;  // the loop's pace since start (loop_pace.h)
};

}  // namespace wg::ctl
