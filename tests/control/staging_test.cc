// StagingStore: both bounds hold whatever the order of pushes, pops and drops; what is dropped is the oldest
// (of the peer when its queue is full, of all when the budget is); every packet is released exactly once.
// Checked against a slow reference that keeps every packet with its push order.
#include "control/staging.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace wg::ctl {
namespace {

// Packets are opaque to the store: numbered fake pointers, never dereferenced.
rte_mbuf* packet(std::uintptr_t n) { return reinterpret_cast<rte_mbuf*>(n * 64); }
std::uintptr_t number(rte_mbuf* m) { return reinterpret_cast<std::uintptr_t>(m) / 64; }

struct Released {
  std::vector<std::uintptr_t> order;
  StagingStore::Release fn() {
    return [this](rte_mbuf* m) { order.push_back(number(m)); };
  }
};

TEST(StagingStore, PeerQueueKeepsTheNewest) {
  Released rel;
  StagingStore s(4, 10'000, rel.fn());
  for (std::uintptr_t i = 1; i <= kMaxStaged + 3; ++i) {
    EXPECT_EQ(s.push(1, packet(i)), i <= kMaxStaged ? StagingStore::Dropped::kNone : StagingStore::Dropped::kPeerFull);
  }
  EXPECT_EQ(s.count(1), kMaxStaged);
  EXPECT_EQ(rel.order, (std::vector<std::uintptr_t>{1, 2, 3}));
  EXPECT_EQ(number(s.pop(1)), 4u);
}

TEST(StagingStore, BudgetEvictsTheOldestOfAllPeers) {
  Released rel;
  StagingStore s(8, 5, rel.fn());
  s.push(1, packet(1));
  s.push(2, packet(2));
  s.push(1, packet(3));
  s.push(3, packet(4));
  s.push(2, packet(5));
  EXPECT_EQ(s.push(4, packet(6)), StagingStore::Dropped::kBudget);  // evicts 1 (peer 1's oldest)
  EXPECT_EQ(number(s.pop(2)), 2u);  // 2 leaves by the normal way: its ticket goes stale
  s.push(5, packet(7));             // total was 4 after the pop: no eviction
  EXPECT_EQ(s.push(5, packet(8)), StagingStore::Dropped::kBudget);  // the oldest left is 3, not 2
  EXPECT_EQ(rel.order, (std::vector<std::uintptr_t>{1, 3}));
  EXPECT_EQ(s.total(), 5u);
  EXPECT_EQ(s.count(1), 0u);
}

TEST(StagingStore, DropPeerReleasesAllAndReusedIdsStartClean) {
  Released rel;
  StagingStore s(4, 3, rel.fn());
  s.push(0, packet(1));
  s.push(0, packet(2));
  EXPECT_EQ(s.drop_peer(0), 2u);
  s.push(0, packet(3));  // the id reused: the old tickets are stale
  s.push(1, packet(4));
  s.push(1, packet(5));
  s.push(2, packet(6));  // budget 3: the oldest live packet, 3, goes
  EXPECT_EQ(rel.order, (std::vector<std::uintptr_t>{1, 2, 3}));
  EXPECT_EQ(s.count(0), 0u);
}

TEST(StagingStore, DestructorReleasesEverything) {
  Released rel;
  {
    StagingStore s(4, 100, rel.fn());
    for (std::uintptr_t i = 1; i <= 10; ++i) s.push(static_cast<std::uint32_t>(i % 3), packet(i));
  }
  std::sort(rel.order.begin(), rel.order.end());
  EXPECT_EQ(rel.order.size(), 10u);
  EXPECT_EQ(rel.order.front(), 1u);
  EXPECT_EQ(rel.order.back(), 10u);
}

// Random operations against a reference; the bounds, the victims and exactly-once release all checked.
TEST(StagingStore, RandomOperationsMatchTheReference) {
  constexpr std::uint32_t kPeers = 16;
  constexpr std::size_t kBudget = 300;
  std::mt19937_64 rng(7);
  Released rel;
  StagingStore s(kPeers, kBudget, rel.fn());
  std::map<std::uintptr_t, std::uint32_t> ref;  // packet number (push order) -> peer
  std::set<std::uintptr_t> released;
  std::uintptr_t next = 1;
  std::size_t max_tickets = 0;
  for (int step = 0; step < 200'000; ++step) {
    const std::uint32_t peer = static_cast<std::uint32_t>(rng() % kPeers);
    const unsigned op = rng() % 100;
    const std::size_t before = rel.order.size();
    if (op < 70) {
      // Reference: which packet must go?
      std::uintptr_t victim = 0;
      std::size_t peer_count = 0;
      for (const auto& [n, p] : ref) peer_count += p == peer;
      if (peer_count >= kMaxStaged) {
        for (const auto& [n, p] : ref) {
          if (p == peer) { victim = n; break; }
        }
      } else if (ref.size() >= kBudget) {
        victim = ref.begin()->first;
      }
      const auto d = s.push(peer, packet(next));
      ref[next++] = peer;
      if (victim != 0) {
        ASSERT_NE(d, StagingStore::Dropped::kNone);
        ASSERT_EQ(rel.order.size(), before + 1);
        ASSERT_EQ(rel.order.back(), victim);
        ref.erase(victim);
      } else {
        ASSERT_EQ(d, StagingStore::Dropped::kNone);
      }
    } else if (op < 95) {
      rte_mbuf* m = s.pop(peer);
      std::uintptr_t expect = 0;
      for (const auto& [n, p] : ref) {
        if (p == peer) { expect = n; break; }
      }
      ASSERT_EQ(m == nullptr ? 0 : number(m), expect);
      if (expect != 0) ref.erase(expect);
    } else {
      std::size_t expect = 0;
      for (auto it = ref.begin(); it != ref.end();) {
        if (it->second == peer) { it = ref.erase(it); ++expect; } else { ++it; }
      }
      ASSERT_EQ(s.drop_peer(peer), expect);
    }
    for (std::size_t i = before; i < rel.order.size(); ++i) ASSERT_TRUE(released.insert(rel.order[i]).second);
    ASSERT_EQ(s.total(), ref.size());
    ASSERT_LE(s.total(), kBudget);
    max_tickets = std::max(max_tickets, s.tickets());
  }
  EXPECT_LE(max_tickets, 2 * kBudget + 1024 + 1);  // stale tickets are compacted away
}

}  // namespace
}  // namespace wg::ctl
