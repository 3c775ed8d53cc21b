// The control thread's own counters: handshakes initiated, completed and refused (by reason), cookie replies,
// and the under-load state (WireGuard paper 5.3). Declared once as data (X-macros) so that the code, the
// metrics exporter (control/metrics.cc) and the operator guide name the same reasons. The dataplane's
// counters are dataplane/counters.h.
//
// Thread rule: only the control thread writes; the exposer's HTTP thread reads during a scrape, hence
// atomics, all relaxed (a scrape wants each value, not an ordering between them). Nothing here is on a
// worker's path.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lib/protocol/noise.h"
#include "lib/util/clock.h"

namespace wg::ctl {

// X(name, help): exported as wggate_<name>_total.
#define WG_CTL_COUNTERS(X)                                                                          \
  X(handshakes_initiated, "handshake initiations sent by this gateway (first tries and retries)") \
  X(cookie_replies_sent, "cookie replies sent to sources that must prove their address first")    \
  X(cookie_replies_received, "cookie replies accepted from peers (the next try carries mac2)")    \
  X(under_load_entered, "times the control thread entered the under-load state")

// X(reason, help): exported as wggate_handshakes_rejected_total{reason}. The HandshakeResult reasons keep
// noise::to_string's names.
#define WG_CTL_HANDSHAKE_REJECTS(X)                                                                       \
  X(malformed, "UDP payload could not be located in the frame")                                           \
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
  X(bad_cookie_reply, "cookie reply unexpected or not authentic")

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

class ControlCounters {
 public:
  // Writers: control thread only.
  void add(CtlCounter c) { values_[static_cast<std::size_t>(c)].fetch_add(1, std::memory_order_relaxed); }
  void add_completed(HandshakeRole r) {
    completed_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void add_rejected(HandshakeReject r) {
    if (r == HandshakeReject::kCount) return;
    rejected_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void add_rejected(noise::HandshakeResult r) { add_rejected(reject_reason(r)); }
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
  bool under_load(MonoTime now) const { return now.count() < under_load_until_ns_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> values_[static_cast<std::size_t>(CtlCounter::kCount)] = {};
  std::atomic<std::uint64_t> completed_[static_cast<std::size_t>(HandshakeRole::kCount)] = {};
  std::atomic<std::uint64_t> rejected_[static_cast<std::size_t>(HandshakeReject::kCount)] = {};
  std::atomic<std::int64_t> under_load_until_ns_{0};
};

}  // namespace wg::ctl
