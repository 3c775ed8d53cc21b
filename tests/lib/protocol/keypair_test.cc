// Keypair rotation (current/previous/next) and counter reservation at the protocol limits.
#include "lib/protocol/keypair.h"

#include <gtest/gtest.h>

namespace wg::noise {
namespace {

KeypairPtr make(std::uint32_t index, bool initiator) {
  auto k = std::make_unique<Keypair>();
  k->local_index = index;
  k->i_am_initiator = initiator;
  return k;
}

TEST(KeypairSet, InitiatorKeypairIsUsableAtOnce) {
  KeypairSet s;
  EXPECT_TRUE(s.install(make(1, true)).empty());
  EXPECT_EQ(s.current()->local_index, 1u);
  EXPECT_EQ(s.previous(), nullptr);
  EXPECT_TRUE(s.install(make(2, true)).empty());
  EXPECT_EQ(s.current()->local_index, 2u);
  EXPECT_EQ(s.previous()->local_index, 1u);
  auto retired = s.install(make(3, true));
  ASSERT_EQ(retired.size(), 1u);
  EXPECT_EQ(retired[0]->local_index, 1u);
  EXPECT_EQ(s.current()->local_index, 3u);
  EXPECT_EQ(s.previous()->local_index, 2u);
}

TEST(KeypairSet, ResponderKeypairWaitsForFirstPacket) {
  KeypairSet s;
  s.install(make(1, true));
  s.install(make(2, true));  // previous=1, current=2
  auto retired = s.install(make(3, false));
  // The responder's keypair is not usable for sending yet: current stays, previous is dropped.
  ASSERT_EQ(retired.size(), 1u);
  EXPECT_EQ(retired[0]->local_index, 1u);
  EXPECT_EQ(s.current()->local_index, 2u);
  EXPECT_EQ(s.next()->local_index, 3u);
  EXPECT_EQ(s.previous(), nullptr);
  // Receiving under current changes nothing.
  std::vector<KeypairPtr> r;
  EXPECT_FALSE(s.received_with(s.current(), r));
  // Receiving under next confirms it.
  EXPECT_TRUE(s.received_with(s.next(), r));
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(s.current()->local_index, 3u);
  EXPECT_EQ(s.previous()->local_index, 2u);
  EXPECT_EQ(s.next(), nullptr);
  EXPECT_EQ(s.find(3), s.current());
  EXPECT_EQ(s.find(2), s.previous());
  EXPECT_EQ(s.find(1), nullptr);
}

TEST(KeypairSet, InitiatorWinsOverPendingNext) {
  KeypairSet s;
  s.install(make(1, true));
  s.install(make(2, false));  // next=2, current=1
  auto retired = s.install(make(3, true));
  // The pending next becomes previous (the peer may be sending with it); old current is retired.
  ASSERT_EQ(retired.size(), 1u);
  EXPECT_EQ(retired[0]->local_index, 1u);
  EXPECT_EQ(s.current()->local_index, 3u);
  EXPECT_EQ(s.previous()->local_index, 2u);
  EXPECT_EQ(s.next(), nullptr);
}

TEST(KeypairSet, ClearRetiresAll) {
  KeypairSet s;
  s.install(make(1, true));
  s.install(make(2, true));
  s.install(make(3, false));
  EXPECT_EQ(s.clear().size(), 2u);  // previous was dropped by the responder install
  EXPECT_EQ(s.current(), nullptr);
  EXPECT_EQ(s.find(3), nullptr);
}

TEST(KeypairSet, DropIfRemovesOnlyMatching) {
  KeypairSet s;
  s.install(make(1, true));
  s.install(make(2, true));
  s.install(make(3, false));  // current=2, next=3
  auto dropped = s.drop_if([](const Keypair& k) { return k.local_index != 3; });
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0]->local_index, 2u);
  EXPECT_EQ(s.current(), nullptr);
  ASSERT_NE(s.next(), nullptr);
  EXPECT_EQ(s.next()->local_index, 3u);
}

TEST(Keypair, CounterReservationStopsAtRejectAfterMessages) {
  Keypair k;
  std::uint64_t first = 0;
  ASSERT_TRUE(k.reserve_counters(32, first));
  EXPECT_EQ(first, 0u);
  ASSERT_TRUE(k.reserve_counters(1, first));
  EXPECT_EQ(first, 32u);
  k.sending_counter = kRejectAfterMessages - 2;
  EXPECT_TRUE(k.reserve_counters(2, first));
  EXPECT_FALSE(k.reserve_counters(1, first));
  k.sending_counter = kRejectAfterMessages - 1;
  EXPECT_FALSE(k.reserve_counters(2, first)) << "a batch may not straddle the limit";
}

}  // namespace
}  // namespace wg::noise
