// PeerTable against a slow reference: random adds and erases keep the add order (`wg show`'s), the capacity
// and the least-recently-freed id rule; receiver indexes map back to their peer, are published to the
// workers' live_index array at their slot, never share a slot, and an erased peer's indexes are all gone.
#include "control/peer_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace wg::ctl {
namespace {

crypto::PublicKey key_of(std::uint32_t n) {
  crypto::PublicKey k{};
  for (int i = 0; i < 4; ++i) k[i] = static_cast<std::uint8_t>(n >> (8 * i));
  k[31] = 0x5a;
  return k;
}

std::vector<crypto::PublicKey> keys_in_order(const PeerTable& t) {
  std::vector<crypto::PublicKey> out;
  for (const Peer* p : t.all()) out.push_back(p->public_key);
  return out;
}

// No private key: the table's peers skip the static-static DH, which these tests do not need.
const noise::StaticIdentity kNoKey{};

TEST(PeerTable, CapacityAndLeastRecentlyFreedIds) {
  PeerTable t(kNoKey, 4, 64);
  std::vector<Peer*> p;
  for (std::uint32_t i = 0; i < 4; ++i) {
    p.push_back(t.add(key_of(i), crypto::Key()));
    ASSERT_NE(p.back(), nullptr);
    EXPECT_EQ(p.back()->id, i);
  }
  EXPECT_EQ(t.add(key_of(9), crypto::Key()), nullptr) << "all 4 ids taken";
  t.erase(*p[2]);
  t.erase(*p[0]);
  EXPECT_EQ(t.size(), 2u);
  Peer* a = t.add(key_of(10), crypto::Key());
  Peer* b = t.add(key_of(11), crypto::Key());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->id, 2u) << "the id freed first is reused first";
  EXPECT_EQ(b->id, 0u);
  EXPECT_EQ(t.get(2), a);
  EXPECT_EQ(t.find(key_of(2)), nullptr);
  EXPECT_EQ(t.find(key_of(10)), a);
  EXPECT_EQ(t.peer_of(&a->handshake), a);
  EXPECT_EQ(keys_in_order(t), (std::vector{key_of(1), key_of(3), key_of(10), key_of(11)}));
}

TEST(PeerTable, RandomAddsAndErasesKeepOrderAndIndexes) {
  constexpr std::uint32_t kCapacity = 3000;
  constexpr std::uint32_t kSlots = 1u << 15;  // eight per peer, as dp::TableSizes sizes them
  std::vector<std::atomic<std::uint32_t>> live(kSlots);
  PeerTable t(kNoKey, kCapacity, kSlots);
  t.publish_indexes_to(live.data());

  std::mt19937 rng(2026);
  std::vector<crypto::PublicKey> order;             // reference: live keys in add order
  std::map<std::uint32_t, crypto::PublicKey> owner;  // reference: index -> key of the peer holding it
  std::uint32_t next_key = 0;
  for (int step = 0; step < 40000; ++step) {
    const unsigned op = rng() % 10;
    if (op < 4 && order.size() < kCapacity) {
      const crypto::PublicKey k = key_of(next_key++);
      ASSERT_NE(t.add(k, crypto::Key()), nullptr);
      order.push_back(k);
    } else if (op < 6 && !order.empty()) {
      const std::size_t i = rng() % order.size();
      Peer* p = t.find(order[i]);
      ASSERT_NE(p, nullptr);
      t.erase(*p);
      std::erase_if(owner, [&](const auto& kv) { return kv.second == order[i]; });
      order.erase(order.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (op < 9 && !order.empty()) {
      const crypto::PublicKey& k = order[rng() % order.size()];
      Peer* p = t.find(k);
      if (p->indexes.size() < 4) {  // a handshake and three keypairs at most, as in the gateway
        const std::uint32_t index = t.allocate_index(*p);
        ASSERT_NE(index, 0u);
        ASSERT_EQ(owner.count(index), 0u) << "an index is unique among live ones";
        owner[index] = k;
      }
    } else if (!owner.empty()) {
      auto it = owner.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % owner.size()));
      t.release_index(it->first);
      owner.erase(it);
    }
    if (step % 997 == 0 || step == 39999) {
      ASSERT_EQ(keys_in_order(t), order) << "step " << step;
      ASSERT_EQ(t.size(), order.size());
      std::set<std::uint32_t> slots;
      for (const auto& [index, k] : owner) {
        Peer* p = t.peer_for_index(index);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->public_key, k);
        EXPECT_EQ(live[index & (kSlots - 1)].load(), index) << "published at its slot";
        EXPECT_TRUE(slots.insert(index & (kSlots - 1)).second) << "one index per slot";
      }
      std::size_t published = 0;
      for (const auto& l : live) published += l.load() != 0;
      EXPECT_EQ(published, owner.size()) << "released and erased indexes are withdrawn";
    }
  }
  // An index that is not live names no peer, also in a slot another index holds.
  ASSERT_FALSE(owner.empty());
  const std::uint32_t held = owner.begin()->first;
  EXPECT_EQ(t.peer_for_index(held ^ kSlots), nullptr);
  EXPECT_EQ(t.peer_for_index(0), nullptr);
}

}  // namespace
}  // namespace wg::ctl
