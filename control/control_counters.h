// The control thread's own counters: handshakes initiated, completed and refused (by reason), cookie replies,
// packets control dropped (by reason), its gauges (queues it keeps, the longest loop gap), and the under-load state (WireGuard paper 5.3). Declared once as data (X-macros) so that the code, the
// metrics exporter (control/metrics.cc) and the operator guide name the same reasons. The dataplane's
// counters are dataplane/counters.h.
//
// Thread rule: the control thread writes, and the UAPI thread its own uapi_* counters; the exposer's HTTP thread reads during a scrape, hence
// atomics, all relaxed (a scrape wants each value, not an ordering between them). Nothing here is on a
// worker's path.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "lib/protocol/noise.h"
#include "lib/util/clock.h"

namespace wg::ctl {

// X(name, help): exported as wggate_<name>_total.
#define WG_CTL_COUNTERS(X)                                                                          \
  X(handshakes_initiated, "handshake initiations sent by this gateway (first tries and retries)") \
  X(timer_evaluations, "peers the control thread looked at for timers (traffic, deadlines, changes, sweep)") \
  X(timer_evaluations_deferred, "peers left for the next tick: a tick evaluates at most 4096")              \
  X(handshake_jobs, "Noise steps run on the handshake threads (initiations opened, responses built)")       \
  X(handshake_jobs_stale, "handshake thread results dropped: the key changed, the peer went or moved on")   \
  X(cookie_replies_sent, "cookie replies sent to sources that must prove their address first")    \
  X(cookie_replies_received, "cookie replies accepted from peers (the next try carries mac2)")    \
  X(under_load_entered, "times the control thread entered the under-load state")                  \
  X(neighbor_claims_disputed, "ARP/NDP claims of another MAC for a known address, verified not believed") \
  X(neighbors_refused, "addresses not added to a full neighbour table (2048 per port)")             \
  X(log_lines_dropped, "log lines dropped because 4096 were waiting to be written (stdout blocked)") \
  X(uapi_requests, "UAPI requests (wg show, wg set, ...) answered")                                \
  X(uapi_timeout, "UAPI clients cut off at their deadline (5 s for the whole exchange)")           \
  X(uapi_too_large, "UAPI requests refused for exceeding 1 MiB")                                   \
  X(uapi_busy, "UAPI connections refused because 8 clients were being served already")

// X(reason, help): exported as wggate_handshakes_rejected_total{reason}. The HandshakeResult reasons keep
// noise::to_string's names.
#define WG_CTL_HANDSHAKE_REJECTS(X)                                                                       \
  X(invalid_mac, "mac1 wrong: not for us, or corrupted")                                                  \
  X(cookie_required, "under load without a valid mac2: answered with a cookie reply, no DH done")         \
  X(rate_limited, "under load: a proven source over its share (20/s, bursts of 5)")                       \
  X(no_identity, "this gateway has no private key")                                                       \
  X(unknown_static_key, "initiation from a public key that is not a configured peer")                     \
  X(bad_static_tag, "initiation's static key does not decrypt")                                           \
  X(bad_timestamp_tag, "initiation's timestamp does not decrypt")                                         \
  X(stale_timestamp, "initiation not newer than the last accepted one (a replay)")                        \
  X(flooded_initiation, "initiations from one peer faster than allowed")                                  \
  X(unknown_receiver, "response for an index this gateway did not hand out")                              \
  X(wrong_state, "response with no initiation outstanding")                                               \
  X(bad_response_tag, "response does not authenticate (wrong preshared key, or corrupted)")               \
  X(bad_point, "a DH gave the all-zero secret (low-order point)")                                         \
  X(bad_cookie_reply, "cookie reply unexpected or not authentic")                                          \
  X(threads_busy, "initiation taken while all 512 handshake thread slots were in flight (not expected)")

// X(reason, help): packets the control thread dropped, exported as wggate_control_drops_total{reason}. Every
// queue control keeps has a bound, and each bound has its reason here.
#define WG_CTL_DROPS(X)                                                                                     \
  X(staging_peer_full, "a peer's staging queue held 128 packets already: its oldest dropped")              \
  X(staging_budget, "the staging budget of all peers was full: the oldest staged packet of all dropped")   \
  X(staging_gave_up, "handshake attempts for the peer gave up (REKEY_ATTEMPT_TIME): its staged packets")    \
  X(staging_no_endpoint, "the peer has no endpoint to send a handshake to: its staged packets")             \
  X(staging_no_peer, "a staged packet whose destination no longer belongs to any peer")                     \
  X(staging_peer_removed, "the peer was removed: its staged packets")                                        \
  X(held_host_full, "16 packets already held for that inside host")                                        \
  X(held_budget, "the budget of packets held for unresolved inside hosts was full")                        \
  X(held_expired, "the inside host did not answer ARP/NDP within 3 s")                                     \
  X(alloc_failed, "no mbuf for a frame control built (pool empty)")                                        \
  X(tx_full, "control's own TX queue refused a frame")                                                      \
  X(icmp_rate_limited, "an ICMP error (too-big, time exceeded) not sent: over 1000/s, bursts of 50")        \
  X(not_answered, "traffic for our addresses that needs no answer: ICMP errors, router solicitations ...")

enum class CtlDrop : std::uint8_t {
#define WG_X(name, help) name,
  WG_CTL_DROPS(WG_X)
#undef WG_X
  kCount
};
inline constexpr const char* kCtlDropNames[] = {
#define WG_X(name, help) #name,
    WG_CTL_DROPS(WG_X)
#undef WG_X
};

// X(name, help): the control thread's gauges, exported as wggate_<name>.
#define WG_CTL_GAUGES(X)                                                                                 \
  X(peers, "peers configured")                                                                           \
  X(peer_capacity, "peers the tables are sized for ([Gateway] MaxPeers, or twice the file's, at least 1024)") \
  X(handshake_threads, "threads doing the handshakes' X25519 work ([Gateway] HandshakeThreads; 0: control)") \
  X(handshake_jobs_in_flight, "handshakes on the handshake threads or waiting for control (at most 512)")  \
  X(timer_wheel_entries, "peers with a timer deadline on the control thread's wheel")                   \
  X(staged_packets, "inner packets staged for peers waiting for a handshake, all peers together")       \
  X(staging_budget, "the most packets staged for all peers together (a share of the mbuf pool)")        \
  X(held_packets, "decrypted packets held while control resolves their inside host")                    \
  X(held_budget, "the most packets held for unresolved inside hosts")                                   \
  X(inside_neighbors, "entries in the inside neighbour table (hosts), incomplete ones included")         \
  X(outside_neighbors, "entries in the outside neighbour table (next hops), incomplete ones included")   \
  X(retiring_batches, "batches of unpublished objects waiting for the workers' grace period to be freed") \
  X(control_loop_gap_max_seconds, "longest time between two passes of the control loop since start")    \
  X(control_loop_stall_max_seconds, "longest time the control thread slept or blocked within one pass")

enum class CtlGauge : std::uint8_t {
#define WG_X(name, help) name,
  WG_CTL_GAUGES(WG_X)
#undef WG_X
  kCount
};
inline constexpr const char* kCtlGaugeNames[] = {
#define WG_X(name, help) #name,
    WG_CTL_GAUGES(WG_X)
#undef WG_X
};
inline constexpr const char* kCtlGaugeHelp[] = {
#define WG_X(name, help) help,
    WG_CTL_GAUGES(WG_X)
#undef WG_X
};

enum class CtlCounter : std::uint8_t {
#define WG_X(name, help) name,
  WG_CTL_COUNTERS(WG_X)
#undef WG_X
  kCount
};
inline constexpr const char* kCtlCounterNames[] = {
#define WG_X(name, help) #name,
    WG_CTL_COUNTERS(WG_X)
#undef WG_X
};
inline constexpr const char* kCtlCounterHelp[] = {
#define WG_X(name, help) help,
    WG_CTL_COUNTERS(WG_X)
#undef WG_X
};

enum class HandshakeReject : std::uint8_t {
#define WG_X(name, help) name,
  WG_CTL_HANDSHAKE_REJECTS(WG_X)
#undef WG_X
  kCount
};
inline constexpr const char* kHandshakeRejectNames[] = {
#define WG_X(name, help) #name,
    WG_CTL_HANDSHAKE_REJECTS(WG_X)
#undef WG_X
};

// Which side of the handshake this gateway played when a session was derived.
enum class HandshakeRole : std::uint8_t { kInitiator, kResponder, kCount };
inline constexpr const char* kHandshakeRoleNames[] = {"initiator", "responder"};

// The reject reason of a refused Noise step. No default: a new HandshakeResult fails the build (-Wswitch)
// until it has its own counter.
constexpr HandshakeReject reject_reason(noise::HandshakeResult r) {
  switch (r) {
    case noise::HandshakeResult::kOk: break;
    case noise::HandshakeResult::kNoIdentity: return HandshakeReject::no_identity;
    case noise::HandshakeResult::kUnknownStaticKey: return HandshakeReject::unknown_static_key;
    case noise::HandshakeResult::kBadStaticTag: return HandshakeReject::bad_static_tag;
    case noise::HandshakeResult::kBadTimestampTag: return HandshakeReject::bad_timestamp_tag;
    case noise::HandshakeResult::kStaleTimestamp: return HandshakeReject::stale_timestamp;
    case noise::HandshakeResult::kFloodedInitiation: return HandshakeReject::flooded_initiation;
    case noise::HandshakeResult::kUnknownReceiver: return HandshakeReject::unknown_receiver;
    case noise::HandshakeResult::kWrongState: return HandshakeReject::wrong_state;
    case noise::HandshakeResult::kBadResponseTag: return HandshakeReject::bad_response_tag;
    case noise::HandshakeResult::kBadPoint: return HandshakeReject::bad_point;
  }
  return HandshakeReject::kCount;  // kOk: not a refusal
}

// Gaps between two passes of the control loop, by upper bound in seconds (then +Inf): a pass that waited on
// anything shows up in the high buckets.
inline constexpr double kLoopGapBounds[] = {0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 1.0};
inline constexpr std::size_t kLoopGapBuckets = std::size(kLoopGapBounds) + 1;

class ControlCounters {
 public:
  void record_loop(double gap_s, double stall_s) {
    loop_gaps_[loop_bucket(gap_s)].fetch_add(1, std::memory_order_relaxed);
    loop_stalls_[loop_bucket(stall_s)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t loop_gap_count(std::size_t bucket) const { return loop_gaps_[bucket].load(std::memory_order_relaxed); }
  std::uint64_t loop_stall_count(std::size_t bucket) const {
    return loop_stalls_[bucket].load(std::memory_order_relaxed);
  }
  // Writers: control thread only.
  void add(CtlCounter c, std::uint64_t n = 1) { values_[static_cast<std::size_t>(c)].fetch_add(n, std::memory_order_relaxed); }
  // For a count kept elsewhere by the control thread (a table's own refusal count).
  void set_count(CtlCounter c, std::uint64_t v) { values_[static_cast<std::size_t>(c)].store(v, std::memory_order_relaxed); }
  void add_completed(HandshakeRole r) {
    completed_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void add_rejected(HandshakeReject r) {
    if (r == HandshakeReject::kCount) return;
    rejected_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void add_rejected(noise::HandshakeResult r) { add_rejected(reject_reason(r)); }
  void add_drop(CtlDrop d, std::uint64_t n = 1) {
    if (n != 0) drops_[static_cast<std::size_t>(d)].fetch_add(n, std::memory_order_relaxed);
  }
  void set(CtlGauge g, double v) { gauges_[static_cast<std::size_t>(g)].store(v, std::memory_order_relaxed); }
  // The control thread requires mac2 until `until`; the scrape compares it with its own clock, so the state
  // reads 0 again once it lapses, without the control thread having to clear it.
  void set_under_load_until(MonoTime until) { under_load_until_ns_.store(until.count(), std::memory_order_relaxed); }

  // Readers: any thread.
  std::uint64_t count(CtlCounter c) const {
    return values_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
  }
  std::uint64_t completed_count(HandshakeRole r) const {
    return completed_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  }
  std::uint64_t rejected_count(HandshakeReject r) const {
    return rejected_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed);
  }
  std::uint64_t drop_count(CtlDrop d) const {
    return drops_[static_cast<std::size_t>(d)].load(std::memory_order_relaxed);
  }
  double gauge(CtlGauge g) const { return gauges_[static_cast<std::size_t>(g)].load(std::memory_order_relaxed); }
  bool under_load(MonoTime now) const { return now.count() < under_load_until_ns_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> values_[static_cast<std::size_t>(CtlCounter::kCount)] = {};
  std::atomic<std::uint64_t> completed_[static_cast<std::size_t>(HandshakeRole::kCount)] = {};
  std::atomic<std::uint64_t> rejected_[static_cast<std::size_t>(HandshakeReject::kCount)] = {};
  std::atomic<std::int64_t> under_load_until_ns_{0};
  std::atomic<std::uint64_t> drops_[static_cast<std::size_t>(CtlDrop::kCount)] = {};
  std::atomic<double> gauges_[static_cast<std::size_t>(CtlGauge::kCount)] = {};
  static std::size_t loop_bucket(double seconds) {
    std::size_t b = 0;
    while (b < std::size(kLoopGapBounds) && seconds > kLoopGapBounds[b]) ++b;
    return b;
  }
  std::atomic<std::uint64_t> loop_gaps_[kLoopGapBuckets] = {};
  std::atomic<std::uint64_t> loop_stalls_[kLoopGapBuckets] = {};
};

}  // namespace wg::ctl
