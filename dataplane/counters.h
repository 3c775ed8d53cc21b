// Per-worker counters: one for every outcome a packet can have, declared once as data (X-macro) so that the
// dataplane, the metrics exporter and the operator guide all name the same reasons.
//
// Thread rule: each worker writes only its own WorkerCounters (plain increments, no atomics, own cache lines);
// readers (control, metrics) sum them and tolerate slightly stale values.
#pragma once

#include <cstdint>

namespace wg::dp {

// X(name, help)
#define WG_DP_COUNTERS(X)                                                                        \
  X(rx_inside_packets, "packets received on the inside port")                                   \
  X(rx_outside_packets, "packets received on the outside port")                                 \
  X(tx_inside_packets, "packets sent on the inside port")                                       \
  X(tx_outside_packets, "packets sent on the outside port")                                     \
  X(encrypted_packets, "inner packets encrypted for a peer (then sent: tx_outside_packets, or drop_tx_full)") \
  X(encrypted_bytes, "inner bytes encrypted (before padding)")                                  \
  X(decrypted_packets, "transport packets authenticated toward the inside (then sent, held or dropped)") \
  X(decrypted_bytes, "inner bytes decrypted toward the inside")                                  \
  X(keepalives_received, "authenticated empty transport packets")                               \
  X(to_control_handshake, "handshake initiations handed to the control thread")                 \
  X(to_control_handshake_known, "replies to our messages, initiations from known endpoints, to control") \
  X(to_control_local, "packets for the gateway's own addresses handed to the control thread")   \
  X(to_control_neighbor, "ARP and NDP handed to the control thread")                             \
  X(staged_for_handshake, "inner packets handed to control to wait for a handshake")            \
  X(held_for_neighbor, "decrypted packets handed to control while it resolves the inside host")  \
  X(events_ring_full, "events for control lost to a full ring (a later packet reports them again)") \
  X(activity_ring_full, "peer activity notices for control lost to a full ring (its sweep finds the peer)") \
  X(drop_not_ip, "inside: not IPv4/IPv6/ARP")                                                   \
  X(drop_malformed_inner, "inside: truncated or inconsistent IP header")                        \
  X(drop_no_route, "inside: destination in no peer's AllowedIPs")                               \
  X(drop_too_big, "inside: larger than the MTU (ICMP too-big sent by control)")                 \
  X(drop_inside_not_for_us,                                                                     \
    "inside: frame addressed to another MAC, or broadcast/multicast that is not ARP/NDP")      \
  X(drop_ttl_exceeded, "TTL or hop limit expired: ICMP time exceeded sent by control, rate-limited") \
  X(drop_no_endpoint, "inside: peer has no known endpoint")                                     \
  X(drop_counter_exhausted, "inside: keypair reached REJECT_AFTER_MESSAGES")                    \
  X(drop_multi_segment, "a chained mbuf (not supported)")                                       \
  X(drop_no_headroom, "mbuf without room for the outer headers or tag")                         \
  X(drop_outside_not_for_us, "outside: not UDP to ListenPort nor for our addresses")            \
  X(drop_outer_malformed, "outside: truncated or inconsistent IP/UDP header")                   \
  X(drop_no_source_address, "inside: gateway has no outside address of the endpoint's family")  \
  X(drop_truncated, "outside: WireGuard message shorter than its type")                         \
  X(drop_bad_length, "outside: handshake message of the wrong size")                            \
  X(drop_unknown_type, "outside: unknown WireGuard message type")                               \
  X(drop_unknown_index, "outside: transport for no current keypair")                            \
  X(drop_reply_unknown_index, "outside: response or cookie reply naming no index of ours")       \
  X(drop_keypair_expired, "outside: transport under an expired keypair")                        \
  X(drop_bad_tag, "outside: transport that does not authenticate")                              \
  X(drop_replay, "outside: duplicate or too old counter")                                       \
  X(drop_inner_malformed, "outside: decrypted payload is not a valid IP packet")                \
  X(drop_inner_source_not_allowed, "outside: inner source outside the peer's AllowedIPs")       \
  X(drop_inside_neighbor_unknown, "outside: no MAC for the inside destination, hold queue full") \
  X(drop_ring_full, "handoff ring to the control thread full")                                  \
  X(drop_tx_full, "TX queue did not accept the packet")

enum class Counter : std::uint16_t {
#define WG_X(name, help) name,
  WG_DP_COUNTERS(WG_X)
#undef WG_X
  kCount
};

inline constexpr const char* kCounterNames[] = {
#define WG_X(name, help) #name,
    WG_DP_COUNTERS(WG_X)
#undef WG_X
};
inline constexpr const char* kCounterHelp[] = {
#define WG_X(name, help) help,
    WG_DP_COUNTERS(WG_X)
#undef WG_X
};

struct alignas(64) WorkerCounters {
  std::uint64_t values[static_cast<std::size_t>(Counter::kCount)] = {};
  void add(Counter c, std::uint64_t n = 1) { values[static_cast<std::size_t>(c)] += n; }
  std::uint64_t get(Counter c) const { return values[static_cast<std::size_t>(c)]; }
};

}  // namespace wg::dp
