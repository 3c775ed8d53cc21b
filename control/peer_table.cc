#include "control/peer_table.h"

#include "lib/crypto/x25519.h"

namespace wg::ctl {

Peer::Peer(std::uint32_t id_, const noise::StaticIdentity& local, const config::Peer& cfg)
    : id(id_),
      public_key(cfg.public_key),
      persistent_keepalive(cfg.persistent_keepalive),
      handshake(local, cfg.public_key, cfg.preshared_key.value_or(crypto::Key())),
      endpoint(cfg.endpoint) {
  for (const auto& p : cfg.allowed_ips) allowed_ips.push_back(p.prefix);
  cookie.init(cfg.public_key);
}

Peer& PeerTable::add(const config::Peer& cfg) {
  const auto id = static_cast<std::uint32_t>(peers_.size());
  peers_.push_back(std::make_unique<Peer>(id, local_, cfg));
  Peer& p = *peers_.back();
  by_key_[p.public_key] = &p;
  return p;
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
  for (auto& p : peers_) {
    if (&p->handshake == hs) return p.get();
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
    return r;
  }
}

void PeerTable::release_index(std::uint32_t index) {
  if (by_index_.erase(index) > 0) slot_used_[index & (dp::kIndexSlots - 1)] = false;
}

Peer* PeerTable::peer_for_index(std::uint32_t index) {
  auto it = by_index_.find(index);
  return it == by_index_.end() ? nullptr : it->second;
}

}  // namespace wg::ctl
