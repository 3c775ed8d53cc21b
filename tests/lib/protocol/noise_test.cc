// Noise_IKpsk2: two in-process devices handshake both ways, with and without a preshared key, and exchange
// transport data; every malformed or replayed message is refused with its named reason and changes nothing.
#include "lib/protocol/noise.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "lib/protocol/transport.h"
#include "tests/lib/protocol/test_peers.h"

namespace wg::noise {
namespace {

using testing::TestDevice;
using namespace std::chrono_literals;

struct Pair {
  TestDevice a, b;
  Handshake* a_to_b;
  Handshake* b_to_a;
  explicit Pair(const crypto::Key& psk_a = crypto::Key(), const crypto::Key& psk_b = crypto::Key()) {
    a_to_b = &a.add_peer(b.identity.public_key, psk_a);
    b_to_a = &b.add_peer(a.identity.public_key, psk_b);
  }
};

Tai64n ts(int seconds) {
  return tai64n_from(std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + seconds)));
}

struct Sessions {
  KeypairPtr initiator, responder;
};

// Runs a full handshake from `ini` to `resp`; fails the test on any refusal.
Sessions handshake(TestDevice& ini, Handshake& ini_hs, TestDevice& resp, int t = 0) {
  MessageInitiation init;
  EXPECT_EQ(create_initiation(ini_hs, ini.new_index(ini_hs), ts(t), init), HandshakeResult::kOk);
  ConsumedMessage c = consume_initiation(init, resp.identity, resp, MonoTime(0) + std::chrono::seconds(t));
  EXPECT_EQ(c.result, HandshakeResult::kOk) << to_string(c.result);
  if (c.handshake == nullptr) return {};
  MessageResponse r;
  EXPECT_EQ(create_response(*c.handshake, resp.new_index(*c.handshake), r), HandshakeResult::kOk);
  ConsumedMessage cr = consume_response(r, ini.identity, ini);
  EXPECT_EQ(cr.result, HandshakeResult::kOk) << to_string(cr.result);
  EXPECT_EQ(cr.handshake, &ini_hs);
  Sessions s;
  s.initiator = begin_session(ini_hs, MonoTime(1));
  s.responder = begin_session(*c.handshake, MonoTime(1));
  return s;
}

void expect_data_flows(Keypair& from, Keypair& to, std::size_t len) {
  std::vector<std::uint8_t> payload(len);
  for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<std::uint8_t>(i * 7 + 1);
  std::vector<std::uint8_t> wire(transport_size(len, 1420));
  std::size_t n = 0;
  ASSERT_EQ(encrypt_transport(from, payload, 1420, wire, n), TransportResult::kOk);
  ASSERT_EQ(n, wire.size());
  std::uint32_t receiver = 0;
  ASSERT_TRUE(transport_receiver(wire, receiver));
  EXPECT_EQ(receiver, to.local_index);
  std::vector<std::uint8_t> plain(wire.size());
  std::size_t got = 0;
  ASSERT_EQ(decrypt_transport(to, wire, plain, got), TransportResult::kOk);
  EXPECT_EQ(got, padded_length(len, 1420));
  if (len > 0) {
    EXPECT_EQ(0, std::memcmp(plain.data(), payload.data(), len));
  }
  for (std::size_t i = len; i < got; ++i) EXPECT_EQ(plain[i], 0) << "padding must be zeros";
  // The same packet again is a replay.
  EXPECT_EQ(decrypt_transport(to, wire, plain, got), TransportResult::kReplayed);
}

TEST(Noise, HandshakeAndDataBothWays) {
  Pair p;
  Sessions s = handshake(p.a, *p.a_to_b, p.b);
  ASSERT_TRUE(s.initiator && s.responder);
  EXPECT_TRUE(s.initiator->i_am_initiator);
  EXPECT_FALSE(s.responder->i_am_initiator);
  EXPECT_TRUE(s.initiator->sending == s.responder->receiving);
  EXPECT_TRUE(s.initiator->receiving == s.responder->sending);
  EXPECT_FALSE(s.initiator->sending == s.initiator->receiving);
  EXPECT_EQ(s.initiator->remote_index, s.responder->local_index);
  EXPECT_EQ(s.responder->remote_index, s.initiator->local_index);
  for (std::size_t len : {0u, 1u, 15u, 16u, 17u, 84u, 1400u, 1420u}) {
    expect_data_flows(*s.initiator, *s.responder, len);
    expect_data_flows(*s.responder, *s.initiator, len);
  }
  // The handshake state is wiped once the session begins.
  EXPECT_EQ(p.a_to_b->state(), HandshakeState::kZeroed);
  EXPECT_EQ(p.b_to_a->state(), HandshakeState::kZeroed);
}

TEST(Noise, ReverseDirection) {
  Pair p;
  Sessions s = handshake(p.b, *p.b_to_a, p.a);
  ASSERT_TRUE(s.initiator && s.responder);
  expect_data_flows(*s.initiator, *s.responder, 100);
  expect_data_flows(*s.responder, *s.initiator, 100);
}

TEST(Noise, PresharedKeyMatching) {
  crypto::Key psk;
  crypto::random_bytes(psk.span());
  Pair p(psk, psk);
  Sessions s = handshake(p.a, *p.a_to_b, p.b);
  ASSERT_TRUE(s.initiator && s.responder);
  expect_data_flows(*s.initiator, *s.responder, 64);
  // A psk changes the keys: the same identities without it derive others.
  EXPECT_FALSE(s.initiator->sending.is_zero());
}

TEST(Noise, WrongPresharedKeyRefusesResponse) {
  crypto::Key psk_a, psk_b;
  crypto::random_bytes(psk_a.span());
  crypto::random_bytes(psk_b.span());
  Pair p(psk_a, psk_b);
  MessageInitiation init;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(0), init), HandshakeResult::kOk);
  // The initiation does not depend on the psk, so the responder accepts it...
  ConsumedMessage c = consume_initiation(init, p.b.identity, p.b, MonoTime(0));
  ASSERT_EQ(c.result, HandshakeResult::kOk);
  MessageResponse r;
  ASSERT_EQ(create_response(*c.handshake, p.b.new_index(*c.handshake), r), HandshakeResult::kOk);
  // ...but the response does not authenticate, and the initiator's state is untouched.
  EXPECT_EQ(consume_response(r, p.a.identity, p.a).result, HandshakeResult::kBadResponseTag);
  EXPECT_EQ(p.a_to_b->state(), HandshakeState::kCreatedInitiation);
  EXPECT_EQ(begin_session(*p.a_to_b, MonoTime(0)), nullptr);
}

TEST(Noise, UnknownStaticKey) {
  TestDevice a, b;
  Handshake& a_to_b = a.add_peer(b.identity.public_key);  // b does not know a
  MessageInitiation init;
  ASSERT_EQ(create_initiation(a_to_b, a.new_index(a_to_b), ts(0), init), HandshakeResult::kOk);
  EXPECT_EQ(consume_initiation(init, b.identity, b, MonoTime(0)).result, HandshakeResult::kUnknownStaticKey);
}

TEST(Noise, InitiationForSomeoneElse) {
  TestDevice a, b, c;
  Handshake& a_to_b = a.add_peer(b.identity.public_key);
  c.add_peer(a.identity.public_key);
  MessageInitiation init;
  ASSERT_EQ(create_initiation(a_to_b, a.new_index(a_to_b), ts(0), init), HandshakeResult::kOk);
  EXPECT_EQ(consume_initiation(init, c.identity, c, MonoTime(0)).result, HandshakeResult::kBadStaticTag);
}

TEST(Noise, ReplayedInitiationIsStale) {
  Pair p;
  MessageInitiation init;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(10), init), HandshakeResult::kOk);
  ASSERT_EQ(consume_initiation(init, p.b.identity, p.b, MonoTime(0)).result, HandshakeResult::kOk);
  // Byte-identical replay a second later: refused by its timestamp, not by the flood guard.
  EXPECT_EQ(consume_initiation(init, p.b.identity, p.b, MonoTime(0) + 1s).result,
            HandshakeResult::kStaleTimestamp);
  // An older timestamp is refused too; a newer one is fine.
  MessageInitiation older, newer;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(5), older), HandshakeResult::kOk);
  EXPECT_EQ(consume_initiation(older, p.b.identity, p.b, MonoTime(0) + 2s).result,
            HandshakeResult::kStaleTimestamp);
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(11), newer), HandshakeResult::kOk);
  EXPECT_EQ(consume_initiation(newer, p.b.identity, p.b, MonoTime(0) + 3s).result, HandshakeResult::kOk);
}

TEST(Noise, InitiationFloodIsRefused) {
  Pair p;
  MessageInitiation m1, m2;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(1), m1), HandshakeResult::kOk);
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(2), m2), HandshakeResult::kOk);
  ASSERT_EQ(consume_initiation(m1, p.b.identity, p.b, MonoTime(0) + 100s).result, HandshakeResult::kOk);
  EXPECT_EQ(consume_initiation(m2, p.b.identity, p.b, MonoTime(0) + 100s + 19ms).result,
            HandshakeResult::kFloodedInitiation);
  EXPECT_EQ(consume_initiation(m2, p.b.identity, p.b, MonoTime(0) + 100s + 20ms).result, HandshakeResult::kOk);
}

TEST(Noise, EveryBitFlipOfInitiationIsRefused) {
  Pair p;
  MessageInitiation init;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(0), init), HandshakeResult::kOk);
  auto* bytes = reinterpret_cast<std::uint8_t*>(&init);
  // Flips in the authenticated part (ephemeral, static, timestamp) must all fail; sender and macs are not
  // covered by the Noise AEADs (mac1 is checked by the cookie layer).
  for (std::size_t i = offsetof(MessageInitiation, ephemeral); i < offsetof(MessageInitiation, mac1); ++i) {
    for (int bit = 0; bit < 8; bit += 3) {
      bytes[i] ^= static_cast<std::uint8_t>(1 << bit);
      HandshakeResult r = consume_initiation(init, p.b.identity, p.b, MonoTime(0)).result;
      EXPECT_NE(r, HandshakeResult::kOk) << "byte " << i << " bit " << bit;
      bytes[i] ^= static_cast<std::uint8_t>(1 << bit);
    }
  }
  EXPECT_EQ(p.b_to_a->state(), HandshakeState::kZeroed) << "refused initiations must not change state";
  EXPECT_EQ(consume_initiation(init, p.b.identity, p.b, MonoTime(0)).result, HandshakeResult::kOk);
}

TEST(Noise, ResponseRefusals) {
  Pair p;
  MessageInitiation init;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(0), init), HandshakeResult::kOk);
  ConsumedMessage c = consume_initiation(init, p.b.identity, p.b, MonoTime(0));
  ASSERT_EQ(c.result, HandshakeResult::kOk);
  MessageResponse r;
  ASSERT_EQ(create_response(*c.handshake, p.b.new_index(*c.handshake), r), HandshakeResult::kOk);

  MessageResponse bad = r;
  store_le32(bad.receiver, load_le32(r.receiver) ^ 0x5a5a5a5a);
  EXPECT_EQ(consume_response(bad, p.a.identity, p.a).result, HandshakeResult::kUnknownReceiver);
  bad = r;
  bad.ephemeral[3] ^= 1;
  EXPECT_EQ(consume_response(bad, p.a.identity, p.a).result, HandshakeResult::kBadResponseTag);
  bad = r;
  bad.encrypted_nothing[15] ^= 0x80;
  EXPECT_EQ(consume_response(bad, p.a.identity, p.a).result, HandshakeResult::kBadResponseTag);
  EXPECT_EQ(p.a_to_b->state(), HandshakeState::kCreatedInitiation);

  ASSERT_EQ(consume_response(r, p.a.identity, p.a).result, HandshakeResult::kOk);
  // A second copy of the response finds no outstanding initiation.
  EXPECT_EQ(consume_response(r, p.a.identity, p.a).result, HandshakeResult::kWrongState);
}

TEST(Noise, LowOrderEphemeralIsRefused) {
  Pair p;
  MessageInitiation init;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(0), init), HandshakeResult::kOk);
  std::memset(init.ephemeral, 0, sizeof(init.ephemeral));
  EXPECT_EQ(consume_initiation(init, p.b.identity, p.b, MonoTime(0)).result, HandshakeResult::kBadPoint);
}

TEST(Noise, NoIdentity) {
  TestDevice b;
  StaticIdentity none;
  Handshake hs(none, b.identity.public_key, crypto::Key());
  MessageInitiation init;
  EXPECT_EQ(create_initiation(hs, 1, ts(0), init), HandshakeResult::kNoIdentity);
}

TEST(Noise, SessionNeedsACompletedHandshake) {
  Pair p;
  EXPECT_EQ(begin_session(*p.a_to_b, MonoTime(0)), nullptr);
  MessageInitiation init;
  ASSERT_EQ(create_initiation(*p.a_to_b, p.a.new_index(*p.a_to_b), ts(0), init), HandshakeResult::kOk);
  EXPECT_EQ(begin_session(*p.a_to_b, MonoTime(0)), nullptr);
  MessageResponse r;
  EXPECT_EQ(create_response(*p.a_to_b, 7, r), HandshakeResult::kWrongState);
}

TEST(Noise, MessageSizes) {
  EXPECT_EQ(sizeof(MessageInitiation), 148u);
  EXPECT_EQ(sizeof(MessageResponse), 92u);
  EXPECT_EQ(sizeof(MessageCookieReply), 64u);
  EXPECT_EQ(sizeof(MessageTransportHeader), 16u);
}

}  // namespace
}  // namespace wg::noise
