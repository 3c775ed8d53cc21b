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
#include <ranges>
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

  // PeerTable's bookkeeping: where the peer sits in the table's order, and the receiver indexes it holds
  // (a handshake and up to three keypairs), so that removing a peer touches only its own.
  std::size_t order_pos = 0;
  std::vector<std::uint32_t> indexes;
};

// Every operation is O(1) or O(log n) in the number of peers (none walks the table), so that adding or
// removing thousands of peers among a hundred thousand stays cheap.
class PeerTable : public noise::PeerDirectory {
 public:
  // `capacity`: peer ids are 0..capacity-1; `index_slots` (a power of two): receiver index slots.
  PeerTable(const noise::StaticIdentity& local, std::uint32_t capacity, std::uint32_t index_slots);

  // A new peer in the least-recently-freed slot; nullptr when all `capacity` slots are taken.
  Peer* add(const crypto::PublicKey& key, const crypto::Key& psk);
  // Forgets the peer; the caller has unpublished everything workers could reach through its id.
  void erase(Peer& p);
  Peer* get(std::uint32_t id) { return id < by_id_.size() ? by_id_[id].get() : nullptr; }
  Peer* find(const crypto::PublicKey& key);
  // Live peers in the order they were added (as `wg show` lists them).
  auto all() const { return order_ | std::views::filter([](const Peer* p) { return p != nullptr; }); }
  std::size_t size() const { return by_key_.size(); }
  // The order by position, for walks spread over several calls: positions are stable (an erased peer
  // leaves a hole, nullptr) until a compaction, which bumps order_generation().
  std::size_t order_slots() const { return order_.size(); }
  const Peer* at_order(std::size_t i) const { return order_[i]; }
  std::uint64_t order_generation() const { return order_generation_; }
  std::uint32_t capacity() const { return static_cast<std::uint32_t>(by_id_.size()); }

  noise::Handshake* find_by_static_key(const crypto::PublicKey& key) override;
  noise::Handshake* find_by_local_index(std::uint32_t index) override;
  Peer* peer_of(const noise::Handshake* hs);

  // Where live indexes are published for the workers (dp::Tables::live_index, index_slots entries); none
  // until set.
  void publish_indexes_to(std::atomic<std::uint32_t>* live) { live_ = live; }
  // Receiver indexes: (random << log2(index_slots)) | slot, unique among live handshakes and keypairs.
  std::uint32_t allocate_index(Peer& peer);
  void release_index(std::uint32_t index);
  Peer* peer_for_index(std::uint32_t index);

 private:
  void free_slot(std::uint32_t slot);

  const noise::StaticIdentity& local_;
  std::vector<std::unique_ptr<Peer>> by_id_;
  // Peers in the order added, with holes (nullptr) where one was erased; compacted when holes are the
  // majority, so iteration stays linear in the live count.
  std::vector<Peer*> order_;
  std::size_t holes_ = 0;
  std::uint64_t order_generation_ = 0;
  // Free ids, oldest-freed first: a slot is reused as late as possible.
  std::deque<std::uint32_t> free_ids_;
  std::map<crypto::PublicKey, Peer*> by_key_;
  // Receiver index slots, control's copy: the full index and the peer holding it (nullptr: free).
  std::uint32_t index_mask_;
  std::vector<std::uint32_t> slot_index_;
  std::vector<Peer*> slot_peer_;
  std::atomic<std::uint32_t>* live_ = nullptr;
  void publish_index(std::uint32_t slot, std::uint32_t index) {
    if (live_ != nullptr) live_[slot].store(index, std::memory_order_relaxed);
  }
};

}  // namespace wg::ctl
