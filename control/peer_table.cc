#include "control/peer_table.h"

#include "lib/crypto/x25519.h"

namespace wg::ctl {

Peer::Peer(std::uint32_t id_, const noise::StaticIdentity& local, const crypto::PublicKey& key,
           const crypto::Key& psk)
    : id(id_), public_key(key), preshared_key(psk), handshake(local, key, psk) {
  cookie.init(key);
}

PeerTable::PeerTable(const noise::StaticIdentity& local) : local_(local) {
  for (std::uint32_t i = 0; i < dp::kMaxPeers; ++i) free_ids_.push_back(i);
}

Peer* PeerTable::add(const crypto::PublicKey& key, const crypto::Key& psk) {
  if (free_ids_.empty()) return nullptr;
  const std::uint32_t id = free_ids_.front();
  free_ids_.pop_front();
  by_id_[id] = std::make_unique<Peer>(id, local_, key, psk);
  Peer* p = by_id_[id].get();
  order_.push_back(p);
  by_key_[p->public_key] = p;
  return p;
}

void PeerTable::erase(Peer& p) {
  const std::uint32_t id = p.id;
  by_key_.erase(p.public_key);
  std::erase(order_, &p);
  for (auto it = by_index_.begin(); it != by_index_.end();) {
    if (it->second == &p) {
      slot_used_[it->first & (dp::kIndexSlots - 1)] = false;
      publish_index(it->first & (dp::kIndexSlots - 1), 0);
      it = by_index_.erase(it);
    } else {
      ++it;
    }
  }
  by_id_[id].reset();
  free_ids_.push_back(id);
}

Peer* PeerTable::find(const crypto::PublicKey& key) {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

noise::Handshake* PeerTable::find_by_static_key(const crypto::PublicKey& key) {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second->handshake;
}

noise::Handshake* PeerTable::find_by_local_index(std::uint32_t index) {
  Peer* p = peer_for_index(index);
  return p != nullptr && p->handshake_index == index ? &p->handshake : nullptr;
}

Peer* PeerTable::peer_of(const noise::Handshake* hs) {
  for (Peer* p : order_) {
    if (&p->handshake == hs) return p;
  }
  return nullptr;
}

std::uint32_t PeerTable::allocate_index(Peer& peer) {
  for (;;) {
    const std::uint32_t r = crypto::random_u32();
    const std::uint32_t slot = r & (dp::kIndexSlots - 1);
    if (slot_used_[slot] || r == 0) continue;
    slot_used_[slot] = true;
    by_index_[r] = &peer;
    publish_index(slot, r);
    return r;
  }
}

void PeerTable::release_index(std::uint32_t index) {
  if (by_index_.erase(index) > 0) {
    slot_used_[index & (dp::kIndexSlots - 1)] = false;
    publish_index(index & (dp::kIndexSlots - 1), 0);
  }
}

Peer* PeerTable::peer_for_index(std::uint32_t index) {
  auto it = by_index_.find(index);
  return it == by_index_.end() ? nullptr : it->second;
}

}  // namespace wg::ctl
