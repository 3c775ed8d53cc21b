// A minimal in-memory PeerDirectory for protocol tests: one device with its identity and its peers.
#pragma once

#include <map>
#include <memory>

#include "lib/protocol/cookie.h"
#include "lib/protocol/noise.h"

namespace wg::noise::testing {

class TestDevice : public PeerDirectory {
 public:
  TestDevice() { identity.set(crypto::generate_private_key()); }

  Handshake& add_peer(const crypto::PublicKey& pub, const crypto::Key& psk = crypto::Key()) {
    auto hs = std::make_unique<Handshake>(identity, pub, psk);
    Handshake& ref = *hs;
    peers[pub] = std::move(hs);
    return ref;
  }
  Handshake* find_by_static_key(const crypto::PublicKey& key) override {
    auto it = peers.find(key);
    return it == peers.end() ? nullptr : it->second.get();
  }
  Handshake* find_by_local_index(std::uint32_t index) override {
    auto it = by_index.find(index);
    return it == by_index.end() ? nullptr : it->second;
  }
  std::uint32_t new_index(Handshake& hs) {
    std::uint32_t i;
    do { i = crypto::random_u32(); } while (by_index.count(i));
    by_index[i] = &hs;
    return i;
  }

  StaticIdentity identity;
  std::map<crypto::PublicKey, std::unique_ptr<Handshake>> peers;
  std::map<std::uint32_t, Handshake*> by_index;
};

}  // namespace wg::noise::testing
