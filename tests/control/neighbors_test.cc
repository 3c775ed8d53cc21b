// NeighborTable: what is believed (answers to our requests, hosts that talk to us), what is only verified
// (claims of another MAC), refresh and removal, and the bound. Time is a fake clock.
#include "control/neighbors.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace wg::ctl {
namespace {

using namespace std::chrono_literals;
using Learned = NeighborTable::Learned;
using Kind = NeighborTable::Kind;

net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }
net::MacAddress mac(std::uint8_t last) {
  net::MacAddress m;
  m.bytes = {0x02, 0, 0, 0, 0, last};
  return m;
}
template <class V>
bool contains(const V& v, const net::IpAddress& a) {
  return std::find(v.begin(), v.end(), a) != v.end();
}

const MonoTime t0 = MonoTime(0) + 1000s;
const net::IpAddress gw = ip("172.31.61.254");

TEST(NeighborTable, UnsolicitedAnswersForUnknownAddressesCreateNothing) {
  NeighborTable t(16);
  EXPECT_EQ(t.learn(gw, mac(1), Kind::kAnswer, t0), Learned::kIgnored);
  EXPECT_FALSE(t.lookup(gw));
  EXPECT_EQ(t.size(), 0u);
  // A host that asks for our address is learnt: we are about to answer it.
  EXPECT_EQ(t.learn(ip("172.31.61.9"), mac(9), Kind::kRequest, t0), Learned::kNew);
  EXPECT_EQ(t.lookup(ip("172.31.61.9")), mac(9));
}

TEST(NeighborTable, WantAsksOnceASecondUntilAnswered) {
  NeighborTable t(16);
  EXPECT_TRUE(t.want(gw, t0, true));
  EXPECT_FALSE(t.want(gw, t0 + 500ms)) << "asked a moment ago";
  EXPECT_TRUE(t.want(gw, t0 + 1s));
  EXPECT_EQ(t.learn(gw, mac(1), Kind::kAnswer, t0 + 1s + 2ms), Learned::kNew);
  EXPECT_EQ(t.lookup(gw), mac(1));
  EXPECT_FALSE(t.want(gw, t0 + 5s)) << "known: nothing to ask";
}

// The spoofing case: a flood of replies claiming the OutsideGateway for another MAC changes nothing; each
// claim starts a verification sent to the MAC held, and the real gateway's answer ends it.
TEST(NeighborTable, ClaimsOfAnotherMacAreVerifiedWithTheMacHeld) {
  NeighborTable t(16);
  t.want(gw, t0, true);
  t.learn(gw, mac(1), Kind::kAnswer, t0 + 1ms);
  MonoTime now = t0 + 10s;
  int verifications = 0;
  for (int i = 0; i < 300; ++i, now += 100ms) {  // 10 claims a second for 30 s, some just after our request
    EXPECT_EQ(t.learn(gw, mac(0xee), Kind::kAnswer, now), Learned::kDisputed);
    const auto u = t.upkeep(now + 1ms);
    for (const auto& a : u.ask) {
      ASSERT_EQ(a.ip, gw);
      ASSERT_EQ(a.unicast, mac(1)) << "verified with the MAC held, never broadcast";
      ++verifications;
      EXPECT_EQ(t.learn(gw, mac(0xee), Kind::kAnswer, now + 2ms), Learned::kDisputed) << "a racing spoof";
      EXPECT_EQ(t.learn(gw, mac(1), Kind::kAnswer, now + 3ms), Learned::kConfirmed) << "the real gateway";
    }
    EXPECT_EQ(t.lookup(gw), mac(1));
  }
  EXPECT_GT(verifications, 100);
  EXPECT_LE(verifications, 151) << "at most one every 200 ms";
  EXPECT_EQ(t.disputed(), 300u + static_cast<std::uint64_t>(verifications));
}

// A router that really moved: the MAC held stops answering the verification, the entry goes, and the next
// resolution (broadcast) finds the new one.
TEST(NeighborTable, AGenuineMoveIsFoundWhenTheOldMacStopsAnswering) {
  NeighborTable t(16);
  t.want(gw, t0, true);
  t.learn(gw, mac(1), Kind::kAnswer, t0 + 1ms);
  EXPECT_EQ(t.learn(gw, mac(2), Kind::kAnswer, t0 + 5s), Learned::kDisputed);  // gratuitous ARP of the new one
  EXPECT_EQ(t.lookup(gw), mac(1));
  MonoTime now = t0 + 5s;
  bool removed = false;
  int probes = 0;
  for (int i = 0; i < 20 && !removed; ++i, now += 100ms) {
    const auto u = t.upkeep(now);
    probes += static_cast<int>(u.ask.size());
    removed = std::find(u.removed.begin(), u.removed.end(), gw) != u.removed.end();
  }
  EXPECT_TRUE(removed);
  EXPECT_EQ(probes, NeighborTable::kMaxProbes);
  EXPECT_LE(now - (t0 + 5s), 1s) << "found out within a second";
  EXPECT_TRUE(t.want(gw, now, true)) << "resolved again from scratch";
  EXPECT_EQ(t.learn(gw, mac(2), Kind::kAnswer, now + 1ms), Learned::kNew);
  EXPECT_EQ(t.lookup(gw), mac(2));
}

TEST(NeighborTable, EntriesAreRefreshedAndRemovedWhenSilent) {
  NeighborTable t(16);
  t.want(gw, t0, true);
  t.learn(gw, mac(1), Kind::kAnswer, t0);
  EXPECT_TRUE(t.upkeep(t0 + 29s).ask.empty());
  EXPECT_TRUE(contains(t.upkeep(t0 + 30s).ask, gw)) << "unconfirmed for 30 s: verified";
  EXPECT_EQ(t.learn(gw, mac(1), Kind::kAnswer, t0 + 30s + 1ms), Learned::kConfirmed);
  EXPECT_TRUE(t.upkeep(t0 + 31s).ask.empty()) << "confirmed again";
  // Now silence: three requests a second apart (a refresh is patient: a neighbour slow under load is not
  // dropped in a moment), then removal.
  const MonoTime silent = t0 + 61s;
  MonoTime now = silent;
  int asked = 0;
  for (int i = 0; i < 100 && t.lookup(gw); ++i, now += 100ms) {
    const auto u = t.upkeep(now);
    asked += contains(u.ask, gw);
    if (contains(u.removed, gw)) break;
  }
  EXPECT_EQ(asked, NeighborTable::kMaxProbes);
  EXPECT_FALSE(t.lookup(gw));
  EXPECT_GE(now - silent, 3s);
}

TEST(NeighborTable, IncompleteEntriesGiveUp) {
  NeighborTable t(16);
  const net::IpAddress host = ip("10.61.0.77");
  EXPECT_TRUE(t.want(host, t0));
  int asked = 1;
  for (MonoTime now = t0 + 1s; now < t0 + 10s; now += 1s) asked += contains(t.upkeep(now).ask, host);
  EXPECT_EQ(asked, NeighborTable::kMaxProbes);
  EXPECT_EQ(t.size(), 0u) << "an address nobody answers for leaves no entry";
}

TEST(NeighborTable, BoundedWithPinnedAndFreshEntriesKept) {
  NeighborTable t(4);
  t.want(gw, t0, true);  // a next hop: pinned
  t.learn(gw, mac(1), Kind::kAnswer, t0);
  for (int i = 1; i <= 3; ++i) {
    t.learn(ip(("10.61.0." + std::to_string(i)).c_str()), mac(static_cast<std::uint8_t>(i)), Kind::kRequest, t0);
  }
  EXPECT_EQ(t.size(), 4u);
  // Full of fresh entries: a newcomer is refused and counted.
  EXPECT_EQ(t.learn(ip("10.61.0.50"), mac(50), Kind::kRequest, t0 + 1s), Learned::kIgnored);
  EXPECT_FALSE(t.want(ip("10.61.0.51"), t0 + 1s));
  EXPECT_EQ(t.refused(), 2u);
  // Once the others go stale, the oldest is evicted (and reported), never the pinned next hop.
  t.learn(ip("10.61.0.2"), mac(2), Kind::kRequest, t0 + 20s);
  t.learn(ip("10.61.0.3"), mac(3), Kind::kRequest, t0 + 20s);
  EXPECT_EQ(t.learn(ip("10.61.0.50"), mac(50), Kind::kRequest, t0 + 40s), Learned::kNew);
  EXPECT_FALSE(t.lookup(ip("10.61.0.1")));
  EXPECT_TRUE(t.lookup(gw));
  EXPECT_TRUE(contains(t.upkeep(t0 + 40s).removed, ip("10.61.0.1")));
}

}  // namespace
}  // namespace wg::ctl
