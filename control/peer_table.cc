#include "control/peer_table.h"

#include <algorithm>

#include "lib/crypto/x25519.h"

namespace wg::ctl {

Peer::Peer(std::uint32_t id_, const noise::StaticIdentity& local, const crypto::PublicKey& key,
           const crypto::Key& psk)
    : id(id_), public_key(key), preshared_key(psk), handshake(local, key, psk) {
  cookie.init(key);
}

PeerTable::PeerTable(const noise::StaticIdentity& local, std::uint32_t capacity, std::uint32_t index_slots)
    : local_(local),
      by_id_(capacity),
      index_mask_(index_slots - 1),
      slot_index_(index_slots, 0),
      slot_peer_(index_slots, nullptr) {
  for (std::uint32_t i = 0; i < capacity; ++i) free_ids_.push_back(i);
}

Peer* PeerTable::add(const crypto::PublicKey& key, const crypto::Key& psk) {
  if (free_ids_.empty()) return nullptr;
  const std::uint32_t id = free_ids_.front();
  free_ids_.pop_front();
  by_id_[id] = std::make_unique<Peer>(id, local_, key, psk);
  Peer* p = by_id_[id].get();
  p->order_pos = order_.size();
  order_.push_back(p);
  by_key_[p->public_key] = p;
  return p;
}

void PeerTable::erase(Peer& p) {
  const std::uint32_t id = p.id;
  by_key_.erase(p.public_key);
  order_[p.order_pos] = nullptr;
  if (++holes_ > order_.size() / 2) {
    std::erase(order_, nullptr);
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i]->order_pos = i;
    holes_ = 0;
    ++order_generation_;
  }
  for (const std::uint32_t index : p.indexes) free_slot(index & index_mask_);
  by_id_[id].reset();
  free_ids_.push_back(id);
}

Peer* PeerTable::find(const crypto::PublicKey& key) {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

noise::Handshake* PeerTable::find_by_static_key(const crypto::PublicKey& key) {
  Peer* p = find(key);
  return p == nullptr ? nullptr : &p->handshake;
}

noise::Handshake* PeerTable::find_by_local_index(std::uint32_t index) {
  Peer* p = peer_for_index(index);
  return p != nullptr && p->handshake_index == index ? &p->handshake : nullptr;
}

Peer* PeerTable::peer_of(const noise::Handshake* hs) {
  Peer* p = find(hs->remote_static());
  return p != nullptr && &p->handshake == hs ? p : nullptr;
}

std::uint32_t PeerTable::allocate_index(Peer& peer) {
  // At most half the slots are ever in use (TableSizes::index_slots), so this takes two tries on average.
  for (;;) {
    const std::uint32_t r = crypto::random_u32();
    const std::uint32_t slot = r & index_mask_;
    if (slot_peer_[slot] != nullptr || r == 0) continue;
    slot_peer_[slot] = &peer;
    slot_index_[slot] = r;
    peer.indexes.push_back(r);
    publish_index(slot, r);
    return r;
  }
}

void PeerTable::free_slot(std::uint32_t slot) {
  slot_peer_[slot] = nullptr;
  slot_index_[slot] = 0;
  publish_index(slot, 0);
}

void PeerTable::release_index(std::uint32_t index) {
  const std::uint32_t slot = index & index_mask_;
  Peer* p = slot_peer_[slot];
  if (p == nullptr || slot_index_[slot] != index) return;
  std::erase(p->indexes, index);
  free_slot(slot);
}

Peer* PeerTable::peer_for_index(std::uint32_t index) {
  const std::uint32_t slot = index & index_mask_;
  return slot_index_[slot] == index ? slot_peer_[slot] : nullptr;
}

}  // namespace wg::ctl
