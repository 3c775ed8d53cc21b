// The state the control thread publishes and the workers read: the read side of the control/dataplane
// boundary (docs/ARCHITECTURE.md, "Threads"). dataplane/ declares it; control/ writes it.
//
// Publication rules (RCU with rte_rcu_qsbr):
//  - Objects reachable from here (PeerRoute, Keypair) are immutable while published, except the fields
//    documented as worker-written (a keypair's sending counter and replay window).
//  - Control replaces a pointer with a release store, then waits for every worker to report a quiescent
//    state (once per loop iteration) before it wipes and frees the old object.
//  - Workers load pointers with acquire and never keep them across loop iterations.
#pragma once

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/counters.h"
#include "dataplane/worker_stats.h"
#include "lib/net/ip.h"
#include "lib/protocol/keypair.h"

namespace wg::dp {

struct Spread;

inline constexpr std::uint32_t kMaxWorkers = 16;
// Peer ids are 0..capacity-1, the capacity chosen at start (TableSizes). The ceiling is what an LPM next hop
// holds (rte_lpm 24 bits, rte_lpm6 21) and what the kernel allows per device.
inline constexpr std::uint32_t kPeerLimit = 1u << 20;
inline constexpr std::uint32_t kNoPeer = 0xffffffffu;  // "no peer" wherever a peer id is expected

// How big the tables are, fixed when they are created (control/capacity.h derives them from the
// configuration): everything sized per peer is sized by `peers`, nothing by a compile-time maximum.
struct TableSizes {
  std::uint32_t peers = 1024;
  std::uint32_t routes = 65536;  // AllowedIPs prefixes per family, all peers together
  std::uint32_t v4_tbl8 = 4096;  // rte_lpm groups: one per prefix longer than /24 that does not share its /24
  std::uint32_t v6_tbl8 = 16384;  // rte_lpm6 groups: a /128 alone takes 13, a /64 5; neighbours share levels
  // Receiver indexes are (random << log2(index_slots)) | slot: a lookup is one array load plus a compare.
  // Eight slots per peer (a handshake and three keypairs at most use four), so a random slot is free at
  // least half the time and allocation stays O(1).
  std::uint32_t index_slots() const;
  std::uint32_t endpoint_slots() const;  // known_endpoints: two per peer
};

// A 64-bit fingerprint of an outer source (family, address in network order, UDP port in network order),
// never 0 (FNV-1a: cheap, and only compared, never trusted).
inline std::uint64_t endpoint_fingerprint(std::uint8_t family, const std::uint8_t* addr, std::uint16_t port_be) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 0x100000001b3ULL; };
  mix(family);
  for (int i = 0; i < (family == 4 ? 4 : 16); ++i) mix(addr[i]);
  mix(static_cast<std::uint8_t>(port_be & 0xff));
  mix(static_cast<std::uint8_t>(port_be >> 8));
  return h == 0 ? 1 : h;
}

// Rings of mbufs from the workers to the control thread, one per reason a packet is handed over, so that a
// flood of one kind (ICMP echo to our address, packets for offline peers) cannot crowd out another (ARP
// replies, handshakes), and control dispatches by ring without parsing again. Each is MP/SC; its depth is
// part of the mbuf budget (dataplane/pool_budget.h). A full ring drops the packet: drop_ring_full, and per
// ring in WorkerShared::handoff_full.
// X(name, reason counter (counters.h), depth, help)
#define WG_DP_HANDOFFS(X)                                                                                   \
  X(handshake, to_control_handshake, 1024, "initiations; its fill level alone means 'under load'")         \
  X(handshake_known, to_control_handshake_known, 256, "replies to our messages, initiations from known endpoints") \
  X(neighbor, to_control_neighbor, 512, "ARP and NDP from either port")                                     \
  X(local, to_control_local, 512, "other packets for the gateway's own addresses (ICMP echo)")             \
  X(too_big, drop_too_big, 256, "inner packets over the MTU, answered with ICMP too-big")                  \
  X(ttl_exceeded, drop_ttl_exceeded, 256, "TTL / hop limit expired, answered with ICMP time exceeded")     \
  X(staging, staged_for_handshake, 1024, "inner packets for a peer with no usable session yet")

inline constexpr unsigned kAwaitingDepth = 1024;  // Tables::awaiting_neighbor (mbufs)

enum class Handoff : std::uint8_t {
#define WG_X(name, reason, depth, help) name,
  WG_DP_HANDOFFS(WG_X)
#undef WG_X
  kCount
};
inline constexpr std::size_t kHandoffs = static_cast<std::size_t>(Handoff::kCount);
inline constexpr const char* kHandoffNames[] = {
#define WG_X(name, reason, depth, help) #name,
    WG_DP_HANDOFFS(WG_X)
#undef WG_X
};
inline constexpr unsigned kHandoffDepth[] = {
#define WG_X(name, reason, depth, help) depth,
    WG_DP_HANDOFFS(WG_X)
#undef WG_X
};
inline constexpr Counter kHandoffReason[] = {
#define WG_X(name, reason, depth, help) Counter::reason,
    WG_DP_HANDOFFS(WG_X)
#undef WG_X
};
// The ring for a reason; kCount when the reason is not a hand-off.
constexpr Handoff handoff_for(Counter why) {
  for (std::size_t i = 0; i < kHandoffs; ++i) {
    if (kHandoffReason[i] == why) return static_cast<Handoff>(i);
  }
  return Handoff::kCount;
}

// Where and how to send to a peer. Replaced whole when the endpoint or next hop changes.
struct PeerRoute {
  net::Endpoint endpoint{};
  rte_ether_addr next_hop_mac{};  // resolved by control (ARP/NDP) before publication
};

struct alignas(64) PeerSlot {
  std::atomic<const PeerRoute*> route{nullptr};       // null: no endpoint or next hop unresolved
  std::atomic<noise::Keypair*> send_keypair{nullptr};  // current; null: no usable session
  // Set by any worker that had to stage a packet or found a rekey due; control clears it when it acts.
  std::atomic<bool> handshake_wanted{false};
  // False while the peer has no endpoint at all (none configured, none learnt): its packets are dropped at
  // once (drop_no_endpoint), as the kernel does, instead of being staged for a handshake that cannot start.
  std::atomic<bool> has_endpoint{false};
};

// Per-worker, per-peer traffic record: transfer counters for `wg show` and activity times (TSC) from which
// control derives the WireGuard timer events. Written by one worker only.
struct PeerActivity {
  std::uint64_t tx_bytes = 0, rx_bytes = 0;
  std::uint64_t last_tx_data = 0, last_rx_data = 0, last_rx_any = 0;
  std::uint32_t noticed_epoch = 0;  // the activity epoch in which this worker last told control (notice_activity)
};

struct WorkerShared {
  WorkerCounters counters;
  WorkerStats stats;  // polls and crypto batch sizes (metrics)
  std::array<std::uint64_t, kHandoffs> handoff_full{};  // per ring: packets lost to it being full
  std::unique_ptr<PeerActivity[]> peers;  // Tables::peer_capacity records (slots in use only)
  // Which peers this worker recorded activity for, so that control folds only those (never the whole
  // table): a peer id once per epoch. Control bumps the epoch at each tick, then drains the ring; a peer is
  // in it at most once per epoch, so 2 x capacity entries never fill (SP: this worker; SC: control).
  rte_ring* activity = nullptr;
  alignas(64) std::atomic<std::uint32_t> activity_epoch{1};  // written by control: its own cache line
};

// A worker recorded activity of `peer` in its own record `act`: tells control, once per epoch.
inline void notice_activity(WorkerShared& w, PeerActivity& act, std::uint32_t peer) {
  const std::uint32_t epoch = w.activity_epoch.load(std::memory_order_acquire);
  if (act.noticed_epoch == epoch) return;
  act.noticed_epoch = epoch;
  if (rte_ring_sp_enqueue_elem(w.activity, &peer, sizeof(peer)) != 0) w.counters.add(Counter::activity_ring_full);
}

// Events a worker reports to control through the event ring (rare: not per packet in steady state).
enum class EventType : std::uint32_t {
  kReceivedWithKeypair = 1,  // authenticated under a keypair that is not the send keypair (confirms "next")
  kEndpointChanged = 2,      // authenticated from a new outer source address (roaming)
};
struct Event {
  EventType type;
  std::uint32_t peer;
  std::uint32_t local_index;
  std::uint16_t port;  // network order
  std::uint8_t family;
  std::uint8_t pad = 0;
  std::uint8_t addr[16];
};
static_assert(sizeof(Event) % 4 == 0 && sizeof(Event) == 32);

struct Tables {
  std::uint32_t peer_capacity = 0;   // peer ids are below it
  std::uint32_t route_capacity = 0;  // prefixes per family the LPM tables take
  std::unique_ptr<PeerSlot[]> peers;
  std::uint32_t index_mask = 0;  // TableSizes::index_slots() - 1
  std::unique_ptr<std::atomic<noise::Keypair*>[]> by_index;
  // Every receiver index control has handed out and not yet released (a handshake in progress or a live
  // keypair), at its slot: a response or cookie reply naming any other index cannot answer anything of ours,
  // so workers drop it, and those that do name one skip the queue of initiations, which a flood can fill.
  std::unique_ptr<std::atomic<std::uint32_t>[]> live_index;
  std::uint32_t index_slot(std::uint32_t index) const { return index & index_mask; }
  bool is_live_index(std::uint32_t index) const {
    return index != 0 && live_index[index_slot(index)].load(std::memory_order_relaxed) == index;
  }
  // Fingerprints of every peer's current endpoint (endpoint_fingerprint), at slot fp & endpoint_mask: an
  // initiation from one of them skips the queue that a flood of spoofed initiations fills. A collision only
  // sends a peer's initiations to the common queue; control checks every message the same way either way.
  std::uint32_t endpoint_mask = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[]> known_endpoints;
  bool is_known_endpoint(std::uint64_t fp) const {
    return known_endpoints[fp & endpoint_mask].load(std::memory_order_relaxed) == fp;
  }
  // AllowedIPs, inner address -> peer id (the LPM next hop). Each family has two identical tables: workers
  // read the published one; control edits the spare, publishes it, waits for a grace period, then repeats
  // the edit on the other (control/route_table.h). A change is thus seen whole or not at all: a lookup
  // never misses a prefix that is being moved or extended.
  std::atomic<rte_lpm*> allowed_v4{nullptr};
  std::atomic<rte_lpm6*> allowed_v6{nullptr};
  // ListenPort (host order); `wg set listen-port` may change it while the workers run.
  std::atomic<std::uint16_t> listen_port{51820};
  rte_hash* inside_neighbors = nullptr;  // 16-byte address (IPv4 mapped) -> MAC in the data word
  rte_rcu_qsbr* qsbr = nullptr;
  std::array<rte_ring*, kHandoffs> handoff{};  // mbufs to control, one ring per reason (WG_DP_HANDOFFS)
  rte_ring* events = nullptr;      // Event elements (MP/SC)
  // Decrypted packets for an inside host whose MAC is not known yet, already stripped to Ethernet + inner
  // IP (destination MAC zero): control holds them while it resolves the host, instead of losing them.
  rte_ring* awaiting_neighbor = nullptr;
  std::array<WorkerShared, kMaxWorkers>* workers = nullptr;
  // The workers' reorder windows and work rings (spread.h), for metrics; null when there are none.
  const Spread* spread = nullptr;

  unsigned worker_count = 0;  // slots 0..worker_count-1 are workers, slot worker_count is control's own

  rte_ring* ring(Handoff h) const { return handoff[static_cast<std::size_t>(h)]; }
  // The one way to add up what each worker (and control's own queue) records: f(const WorkerShared&) for
  // every slot in use. Readers on any thread; values may be slightly stale (each slot has one writer).
  template <class F>
  std::uint64_t sum_workers(F f) const {
    std::uint64_t sum = 0;
    for (unsigned w = 0; w <= worker_count; ++w) sum += f((*workers)[w]);
    return sum;
  }
  std::uint64_t sum_counter(Counter c) const {
    return sum_workers([c](const WorkerShared& w) { return w.counters.get(c); });
  }

  // The peer whose AllowedIPs hold `addr` (network order bytes); false when none does.
  bool lookup_v4(const std::uint8_t* addr, std::uint32_t& peer) const {
    const std::uint32_t a = static_cast<std::uint32_t>(addr[0]) << 24 | static_cast<std::uint32_t>(addr[1]) << 16 |
                            static_cast<std::uint32_t>(addr[2]) << 8 | addr[3];
    return rte_lpm_lookup(allowed_v4.load(std::memory_order_acquire), a, &peer) == 0;
  }
  bool lookup_v6(const std::uint8_t* addr, std::uint32_t& peer) const {
    return rte_lpm6_lookup(allowed_v6.load(std::memory_order_acquire), addr, &peer) == 0;
  }
  bool lookup(std::uint8_t family, const std::uint8_t* addr, std::uint32_t& peer) const {
    return family == 4 ? lookup_v4(addr, peer) : family == 6 && lookup_v6(addr, peer);
  }

  noise::Keypair* keypair_for_index(std::uint32_t index) const {
    noise::Keypair* kp = by_index[index_slot(index)].load(std::memory_order_acquire);
    return kp != nullptr && kp->local_index == index ? kp : nullptr;
  }
};

// Both copies of each family's AllowedIPs table: the write side, control's alone (control/route_table.h).
// Tables::allowed_v4/v6 point at the published one of each pair.
struct LpmCopies {
  std::array<rte_lpm*, 2> v4{};
  std::array<rte_lpm6*, 2> v6{};
};

// Owns the tables, rings and per-worker records, and the LPM copies; frees them (DPDK objects included) when
// destroyed.
struct TablesOwner {
  std::unique_ptr<Tables> tables;
  LpmCopies lpm;
  std::unique_ptr<std::array<WorkerShared, kMaxWorkers>> workers;
  ~TablesOwner();
};
// Creates everything empty, sized by `sizes`; `tag` makes the DPDK object names unique within the process.
[[nodiscard]] absl::StatusOr<std::unique_ptr<TablesOwner>> create_tables(unsigned workers, int socket,
                                                                         const std::string& tag,
                                                                         const TableSizes& sizes = {});

// Key for inside_neighbors: IPv4 as ::ffff:a.b.c.d, IPv6 as is.
inline std::array<std::uint8_t, 16> neighbor_key(std::uint8_t family, const std::uint8_t* addr) {
  std::array<std::uint8_t, 16> k{};
  if (family == 4) {
    k[10] = k[11] = 0xff;
    for (int i = 0; i < 4; ++i) k[12 + i] = addr[i];
  } else {
    for (int i = 0; i < 16; ++i) k[i] = addr[i];
  }
  return k;
}
inline std::array<std::uint8_t, 16> neighbor_key(const net::IpAddress& a) { return neighbor_key(a.family, a.bytes.data()); }

}  // namespace wg::dp
