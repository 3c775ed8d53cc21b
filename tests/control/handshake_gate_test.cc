// HandshakeGate: mac1 always; under load (the handshake ring's backlog) a cookie reply instead of a DH until
// the source proves its address with mac2; then a rate per source. Real macs and cookies (lib/protocol/cookie),
// a fake clock.
#include "control/handshake_gate.h"

#include <gtest/gtest.h>

#include <cstring>

#include "lib/crypto/x25519.h"

namespace wg::ctl {
namespace {

using namespace std::chrono_literals;
using Verdict = HandshakeGate::Verdict;

class HandshakeGateTest : public ::testing::Test {
 protected:
  HandshakeGateTest() {
    const crypto::Key priv = crypto::generate_private_key();
    ours_ = crypto::public_key(priv);
    gate_.init(ours_);
    maker_.init(ours_);  // a peer sending to us
  }
  // An initiation with random contents and the macs the peer's CookieMaker puts on it.
  noise::MessageInitiation initiation(MonoTime now) {
    noise::MessageInitiation m{};
    crypto::random_bytes({reinterpret_cast<std::uint8_t*>(&m), sizeof(m)});
    m.header[0] = 1;
    m.header[1] = m.header[2] = m.header[3] = 0;
    maker_.add_macs({reinterpret_cast<std::uint8_t*>(&m), sizeof(m)}, now);
    return m;
  }
  HandshakeGate::Decision admit(const noise::MessageInitiation& m, MonoTime now) {
    return gate_.admit({reinterpret_cast<const std::uint8_t*>(&m), sizeof(m)}, src_, cookie_src_, now, reply_);
  }

  crypto::PublicKey ours_;
  HandshakeGate gate_;
  noise::CookieMaker maker_;
  net::IpAddress src_ = *net::IpAddress::parse("198.51.100.7");
  noise::CookieSource cookie_src_ = noise::cookie_source_v4(src_.v4_be(), 0x1234);
  noise::MessageCookieReply reply_{};
  const MonoTime t0_ = MonoTime(0) + 100s;
};

TEST_F(HandshakeGateTest, Mac1IsRequiredAlways) {
  auto m = initiation(t0_);
  EXPECT_EQ(admit(m, t0_).verdict, Verdict::kProcess);
  m.mac1[3] ^= 1;
  const auto d = admit(m, t0_);
  EXPECT_EQ(d.verdict, Verdict::kDrop);
  EXPECT_EQ(d.reason, HandshakeReject::invalid_mac);
}

TEST_F(HandshakeGateTest, BacklogAloneMeansUnderLoadForOneSecond) {
  EXPECT_FALSE(gate_.observe_backlog(HandshakeGate::kUnderLoadBacklog, t0_));
  EXPECT_FALSE(gate_.under_load(t0_));
  EXPECT_TRUE(gate_.observe_backlog(HandshakeGate::kUnderLoadBacklog + 1, t0_)) << "entered";
  EXPECT_FALSE(gate_.observe_backlog(500, t0_ + 10ms)) << "already in it";
  EXPECT_TRUE(gate_.under_load(t0_ + 1s));
  EXPECT_FALSE(gate_.under_load(t0_ + 1s + 10ms + 1ns));
}

TEST_F(HandshakeGateTest, UnderLoadACookieFirstThenARatePerSource) {
  gate_.observe_backlog(1000, t0_);
  const auto first = admit(initiation(t0_), t0_);
  ASSERT_EQ(first.verdict, Verdict::kCookieReply);
  EXPECT_EQ(first.reason, HandshakeReject::cookie_required);
  // The peer takes the cookie; its next message carries mac2 and gets through, up to the burst.
  ASSERT_EQ(maker_.consume_reply(reply_, t0_ + 1ms), noise::CookieReplyResult::kOk);
  int processed = 0, limited = 0;
  for (int i = 0; i < 20; ++i) {
    const auto d = admit(initiation(t0_ + 2ms), t0_ + 2ms);
    processed += d.verdict == Verdict::kProcess;
    limited += d.reason == HandshakeReject::rate_limited;
  }
  EXPECT_EQ(processed, static_cast<int>(RateLimiter::kBurst));
  EXPECT_EQ(limited, 20 - static_cast<int>(RateLimiter::kBurst));
  // Not under load any more: no cookie, no rate.
  const MonoTime later = t0_ + 5s;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(admit(initiation(later), later).verdict, Verdict::kProcess);
}

TEST_F(HandshakeGateTest, ACookieForAnotherSourceProvesNothing) {
  gate_.observe_backlog(1000, t0_);
  ASSERT_EQ(admit(initiation(t0_), t0_).verdict, Verdict::kCookieReply);
  ASSERT_EQ(maker_.consume_reply(reply_, t0_ + 1ms), noise::CookieReplyResult::kOk);
  cookie_src_ = noise::cookie_source_v4(src_.v4_be(), 0x4321);  // same address, another port
  EXPECT_EQ(admit(initiation(t0_ + 2ms), t0_ + 2ms).verdict, Verdict::kCookieReply);
}

}  // namespace
}  // namespace wg::ctl
