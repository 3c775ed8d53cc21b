// The peer table, write side: everything the control thread knows about each peer (handshake, cookies,
// keypairs, timers, endpoint; its staged packets are in StagingStore), and the index allocator that ties receiver indexes to peers.
// It implements the narrow noise::PeerDirectory the protocol code sees.
//
// Thread rule: owned by the control thread alone. What workers need is published into dp::Tables
// (see publisher.h); nothing here is read by a worker.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "dataplane/tables.h"
#include "lib/protocol/cookie.h"
#include "lib/protocol/noise.h"
#include "lib/protocol/timers.h"

struct rte_mbuf;

namespace wg::ctl {

struct Peer {
  Peer(std::uint32_t id_, const noise::StaticIdentity& local, const crypto::PublicKey& key, const crypto::Key& psk);

  std::uint32_t id;  // slot in dp::Tables::peers and the workers' PeerActivity; reused after removal
  crypto::PublicKey public_key;
  crypto::Key preshared_key;              // all zero: none
  std::vector<net::Prefix> allowed_ips;  // as `wg show` lists them; RouteTable holds the authoritative map
  std::uint16_t persistent_keepalive = 0;

  noise::Handshake handshake;
  noise::CookieMaker cookie;
  noise::KeypairSet keypairs;
  noise::PeerTimers timers;
  std::optional<net::Endpoint> endpoint;

  std::uint32_t handshake_index = 0;  // our sender index of the outstanding handshake (0: none)
  MonoTime last_initiation_sent{0};
  // A handshake message (macs included) waiting for the outside next hop's MAC; sent as is once it is known
  // (re-creating it would lose a response: the responder state has moved on).
  std::vector<std::uint8_t> unsent_handshake;
  std::int64_t last_handshake_unix = 0;        // for `wg show`
  std::uint64_t endpoint_fp = 0;  // published in dp::Tables::known_endpoints (0: none)
  // Activity seen so far (max over workers), to turn worker records into timer events.
  std::uint64_t seen_tx_data = 0, seen_rx_data = 0, seen_rx_any = 0;
};

class PeerTable : public noise::PeerDirectory {
 public:
  explicit PeerTable(const noise::StaticIdentity& local);

  // A new peer in the lowest-recently-freed slot; nullptr when all kMaxPeers slots are taken.
  Peer* add(const crypto::PublicKey& key, const crypto::Key& psk);
  // Forgets the peer; the caller has unpublished everything workers could reach through its id.
  void erase(Peer& p);
  Peer* get(std::uint32_t id) { return id < by_id_.size() ? by_id_[id].get() : nullptr; }
  Peer* find(const crypto::PublicKey& key);
  // Live peers in the order they were added (as `wg show` lists them).
  const std::vector<Peer*>& all() const { return order_; }
  std::size_t size() const { return order_.size(); }

  noise::Handshake* find_by_static_key(const crypto::PublicKey& key) override;
  noise::Handshake* find_by_local_index(std::uint32_t index) override;
  Peer* peer_of(const noise::Handshake* hs);

  // Where live indexes are published for the workers (dp::Tables::live_index); none until set.
  void publish_indexes_to(std::array<std::atomic<std::uint32_t>, dp::kIndexSlots>* live) { live_ = live; }
  // Receiver indexes: (random << dp::kIndexSlotBits) | slot, unique among live handshakes and keypairs.
  std::uint32_t allocate_index(Peer& peer);
  void release_index(std::uint32_t index);
  Peer* peer_for_index(std::uint32_t index);

 private:
  const noise::StaticIdentity& local_;
  std::vector<std::unique_ptr<Peer>> by_id_ = std::vector<std::unique_ptr<Peer>>(dp::kMaxPeers);
  std::vector<Peer*> order_;
  // Free ids, oldest-freed first: a slot is reused as late as possible.
  std::deque<std::uint32_t> free_ids_;
  std::map<crypto::PublicKey, Peer*> by_key_;
  std::unordered_map<std::uint32_t, Peer*> by_index_;
  std::vector<bool> slot_used_ = std::vector<bool>(dp::kIndexSlots, false);
  std::array<std::atomic<std::uint32_t>, dp::kIndexSlots>* live_ = nullptr;
  void publish_index(std::uint32_t slot, std::uint32_t index) {
    if (live_ != nullptr) (*live_)[slot].store(index, std::memory_order_relaxed);
  }
};

}  // namespace wg::ctl
