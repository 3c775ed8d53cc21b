// The responder in steps (open / accept / prepare / build / commit), as the control plane runs it across its
// handshake threads: the keys agree with the initiator's, every refusal of the one-call path is kept, a
// response built for a handshake that moved on meanwhile is refused, and the steps run on other threads.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "lib/protocol/noise.h"
#include "tests/lib/protocol/test_peers.h"

namespace wg::noise {
namespace {

using testing::TestDevice;

Tai64n ts(int seconds) {
  return tai64n_from(std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + seconds)));
}
MonoTime at(int seconds) { return MonoTime(0) + std::chrono::seconds(seconds); }

struct Pair {
  TestDevice ini, resp;
  Handshake* ini_hs;
  Pair(const crypto::Key& psk = crypto::Key()) {
    ini_hs = &ini.add_peer(resp.identity.public_key, psk);
    resp.add_peer(ini.identity.public_key, psk);
  }
  MessageInitiation initiation(int t) {
    MessageInitiation m;
    EXPECT_EQ(create_initiation(*ini_hs, ini.new_index(*ini_hs), ts(t), m), HandshakeResult::kOk);
    return m;
  }
};

// Open, accept, prepare, build, commit; the response consumed by the initiator; both sessions begun.
void expect_steps_complete(Pair& p, const MessageInitiation& m, int t) {
  OpenedInitiation o;
  open_initiation(m, p.resp.identity, o);
  ASSERT_EQ(o.result, HandshakeResult::kOk) << to_string(o.result);
  EXPECT_EQ(o.remote_static, p.ini.identity.public_key);
  const ConsumedMessage c = accept_initiation(o, p.resp, at(t));
  ASSERT_EQ(c.result, HandshakeResult::kOk) << to_string(c.result);
  ResponseWork w;
  ASSERT_EQ(prepare_response(*c.handshake, p.resp.new_index(*c.handshake), w), HandshakeResult::kOk);
  build_response(w);
  ASSERT_EQ(w.result, HandshakeResult::kOk);
  ASSERT_EQ(commit_response(*c.handshake, w), HandshakeResult::kOk);
  const ConsumedMessage cr = consume_response(w.message, p.ini.identity, p.ini);
  ASSERT_EQ(cr.result, HandshakeResult::kOk) << to_string(cr.result);
  KeypairPtr a = begin_session(*p.ini_hs, at(t));
  KeypairPtr b = begin_session(*c.handshake, at(t));
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->sending == b->receiving);
  EXPECT_TRUE(a->receiving == b->sending);
  EXPECT_FALSE(a->sending == a->receiving);
}

TEST(NoiseSteps, CompleteHandshakeWithAndWithoutPsk) {
  Pair plain;
  expect_steps_complete(plain, plain.initiation(1), 1);
  Pair with_psk(crypto::generate_private_key());
  expect_steps_complete(with_psk, with_psk.initiation(1), 1);
}

TEST(NoiseSteps, WrongPskRefusedByTheInitiator) {
  TestDevice ini, resp;
  Handshake& ini_hs = ini.add_peer(resp.identity.public_key, crypto::generate_private_key());
  resp.add_peer(ini.identity.public_key, crypto::generate_private_key());
  MessageInitiation m;
  ASSERT_EQ(create_initiation(ini_hs, ini.new_index(ini_hs), ts(1), m), HandshakeResult::kOk);
  OpenedInitiation o;
  open_initiation(m, resp.identity, o);
  const ConsumedMessage c = accept_initiation(o, resp, at(1));
  ASSERT_EQ(c.result, HandshakeResult::kOk);
  ResponseWork w;
  ASSERT_EQ(prepare_response(*c.handshake, 7, w), HandshakeResult::kOk);
  build_response(w);
  ASSERT_EQ(commit_response(*c.handshake, w), HandshakeResult::kOk);
  EXPECT_EQ(consume_response(w.message, ini.identity, ini).result, HandshakeResult::kBadResponseTag);
}

TEST(NoiseSteps, RefusalsMatchTheOneCallPath) {
  Pair p;
  // Unknown key: opened (the timestamp decrypts), refused at accept.
  TestDevice stranger;
  Handshake& to_resp = stranger.add_peer(p.resp.identity.public_key);
  MessageInitiation s;
  ASSERT_EQ(create_initiation(to_resp, 1, ts(1), s), HandshakeResult::kOk);
  OpenedInitiation os;
  open_initiation(s, p.resp.identity, os);
  EXPECT_EQ(os.result, HandshakeResult::kOk);
  EXPECT_EQ(accept_initiation(os, p.resp, at(1)).result, HandshakeResult::kUnknownStaticKey);
  EXPECT_EQ(consume_initiation(s, p.resp.identity, p.resp, at(1)).result, HandshakeResult::kUnknownStaticKey);

  // A flipped bit in the encrypted static key or timestamp: refused at open, and accept passes that on.
  for (const std::size_t off : {offsetof(MessageInitiation, encrypted_static), offsetof(MessageInitiation, encrypted_timestamp)}) {
    MessageInitiation m = p.initiation(2);
    reinterpret_cast<std::uint8_t*>(&m)[off] ^= 1;
    OpenedInitiation o;
    open_initiation(m, p.resp.identity, o);
    const HandshakeResult want = consume_initiation(m, p.resp.identity, p.resp, at(2)).result;
    EXPECT_NE(want, HandshakeResult::kOk);
    EXPECT_EQ(o.result, want);
    EXPECT_EQ(accept_initiation(o, p.resp, at(2)).result, want);
  }

  // Replay: the same initiation accepted once, then stale; an older one after a newer: stale.
  const MessageInitiation older = p.initiation(10);
  const MessageInitiation newer = p.initiation(11);
  OpenedInitiation o_new, o_old, o_again;
  open_initiation(newer, p.resp.identity, o_new);
  open_initiation(older, p.resp.identity, o_old);
  open_initiation(newer, p.resp.identity, o_again);
  EXPECT_EQ(accept_initiation(o_new, p.resp, at(10)).result, HandshakeResult::kOk);
  EXPECT_EQ(accept_initiation(o_old, p.resp, at(20)).result, HandshakeResult::kStaleTimestamp);
  EXPECT_EQ(accept_initiation(o_again, p.resp, at(20)).result, HandshakeResult::kStaleTimestamp);

  // Flood: a newer initiation within 1/50 s of the last accepted one.
  const MessageInitiation quick = p.initiation(12);
  OpenedInitiation o_quick;
  open_initiation(quick, p.resp.identity, o_quick);
  EXPECT_EQ(accept_initiation(o_quick, p.resp, at(10)).result, HandshakeResult::kFloodedInitiation);

  // No identity.
  TestDevice nobody;
  nobody.identity = StaticIdentity{};
  OpenedInitiation o_none;
  open_initiation(newer, nobody.identity, o_none);
  EXPECT_EQ(o_none.result, HandshakeResult::kNoIdentity);
}

TEST(NoiseSteps, ResponseForAHandshakeThatMovedOnIsRefused) {
  Pair p;
  OpenedInitiation o1, o2;
  open_initiation(p.initiation(1), p.resp.identity, o1);
  open_initiation(p.initiation(2), p.resp.identity, o2);
  const ConsumedMessage c1 = accept_initiation(o1, p.resp, at(1));
  ASSERT_EQ(c1.result, HandshakeResult::kOk);
  ResponseWork w1;
  ASSERT_EQ(prepare_response(*c1.handshake, 1, w1), HandshakeResult::kOk);
  build_response(w1);
  // A second initiation accepted while the first response was being built elsewhere: the first is stale.
  const ConsumedMessage c2 = accept_initiation(o2, p.resp, at(2));
  ASSERT_EQ(c2.result, HandshakeResult::kOk);
  EXPECT_EQ(commit_response(*c2.handshake, w1), HandshakeResult::kWrongState);
  ResponseWork w2;
  ASSERT_EQ(prepare_response(*c2.handshake, 2, w2), HandshakeResult::kOk);
  build_response(w2);
  // Cleared meanwhile (peer removed, timers gave up): refused too.
  Handshake& hs = *c2.handshake;
  hs.clear();
  EXPECT_EQ(commit_response(hs, w2), HandshakeResult::kWrongState);
  // Not consumed at all: nothing to prepare.
  ResponseWork w3;
  EXPECT_EQ(prepare_response(hs, 3, w3), HandshakeResult::kWrongState);
  // A response never built is never committed.
  EXPECT_EQ(commit_response(hs, w3), HandshakeResult::kWrongState);
}

TEST(NoiseSteps, OpenAndBuildRunOnOtherThreads) {
  Pair p;
  const MessageInitiation m = p.initiation(1);
  OpenedInitiation o;
  std::thread([&] { open_initiation(m, p.resp.identity, o); }).join();
  const ConsumedMessage c = accept_initiation(o, p.resp, at(1));
  ASSERT_EQ(c.result, HandshakeResult::kOk);
  ResponseWork w;
  ASSERT_EQ(prepare_response(*c.handshake, 9, w), HandshakeResult::kOk);
  std::thread([&] { build_response(w); }).join();
  ASSERT_EQ(commit_response(*c.handshake, w), HandshakeResult::kOk);
  EXPECT_EQ(consume_response(w.message, p.ini.identity, p.ini).result, HandshakeResult::kOk);
}

}  // namespace
}  // namespace wg::noise
