// mac1/mac2 and cookie replies: graded results, the full under-load exchange between a CookieMaker and a
// CookieChecker, tampering, cookie binding to the source address, and secret/cookie expiry.
#include "lib/protocol/cookie.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "tests/lib/protocol/test_peers.h"

namespace wg::noise {
namespace {

using namespace std::chrono_literals;
using testing::TestDevice;

struct CookieFixture : ::testing::Test {
  TestDevice initiator, responder;
  CookieMaker maker;      // initiator's, for the responder
  CookieChecker checker;  // responder's
  MessageInitiation msg{};
  CookieSource src = cookie_source_v4(htonl(0x0a000001), htons(51820));
  MonoTime t0 = MonoTime(0) + 1000s;

  void SetUp() override {
    maker.init(responder.identity.public_key);
    checker.init(responder.identity.public_key);
    Handshake& hs = initiator.add_peer(responder.identity.public_key);
    ASSERT_EQ(create_initiation(hs, 42, tai64n_now(), msg), HandshakeResult::kOk);
  }
  std::span<std::uint8_t> bytes() { return {reinterpret_cast<std::uint8_t*>(&msg), sizeof(msg)}; }
};

TEST_F(CookieFixture, Mac1ValidWithoutCookie) {
  maker.add_macs(bytes(), t0);
  EXPECT_EQ(checker.validate(bytes(), false, src, t0), MacResult::kValidMacButNoCookie);
  // Under load, a message without mac2 is "valid mac but no cookie": answer with a cookie reply.
  EXPECT_EQ(checker.validate(bytes(), true, src, t0), MacResult::kValidMacButNoCookie);
  for (std::uint8_t b : msg.mac2) EXPECT_EQ(b, 0);
}

TEST_F(CookieFixture, EveryBitFlipBreaksMac1) {
  maker.add_macs(bytes(), t0);
  auto b = bytes();
  for (std::size_t i = 0; i < offsetof(MessageInitiation, mac2); ++i) {
    b[i] ^= 0x10;
    EXPECT_EQ(checker.validate(b, false, src, t0), MacResult::kInvalidMac) << i;
    b[i] ^= 0x10;
  }
}

TEST_F(CookieFixture, Mac1IsForOneResponder) {
  TestDevice other;
  CookieChecker other_checker;
  other_checker.init(other.identity.public_key);
  maker.add_macs(bytes(), t0);
  EXPECT_EQ(other_checker.validate(bytes(), false, src, t0), MacResult::kInvalidMac);
}

TEST_F(CookieFixture, TruncatedIsInvalid) {
  maker.add_macs(bytes(), t0);
  EXPECT_EQ(checker.validate(bytes().first(31), false, src, t0), MacResult::kInvalidMac);
  EXPECT_EQ(checker.validate(bytes().first(100), false, src, t0), MacResult::kInvalidMac);
}

TEST_F(CookieFixture, UnderLoadExchange) {
  maker.add_macs(bytes(), t0);
  ASSERT_EQ(checker.validate(bytes(), true, src, t0), MacResult::kValidMacButNoCookie);
  MessageCookieReply reply;
  checker.create_reply(reply, bytes(), load_le32(msg.sender), src, t0);
  EXPECT_EQ(message_type_word(reply.header), 3u);
  EXPECT_EQ(load_le32(reply.receiver), 42u);
  ASSERT_EQ(maker.consume_reply(reply, t0 + 1ms), CookieReplyResult::kOk);
  EXPECT_TRUE(maker.has_fresh_cookie(t0 + 1ms));
  // The retransmission now carries mac2 and passes the under-load check.
  maker.add_macs(bytes(), t0 + 2ms);
  EXPECT_EQ(checker.validate(bytes(), true, src, t0 + 2ms), MacResult::kValidMacWithCookie);
  // The cookie is bound to the source address and port.
  auto other_src = cookie_source_v4(htonl(0x0a000002), htons(51820));
  EXPECT_EQ(checker.validate(bytes(), true, other_src, t0 + 2ms), MacResult::kValidMacButNoCookie);
  auto other_port = cookie_source_v4(htonl(0x0a000001), htons(51821));
  EXPECT_EQ(checker.validate(bytes(), true, other_port, t0 + 2ms), MacResult::kValidMacButNoCookie);
}

TEST_F(CookieFixture, ReplyIsBoundToOurLastMac1) {
  maker.add_macs(bytes(), t0);
  MessageCookieReply reply;
  checker.create_reply(reply, bytes(), 42, src, t0);
  // We sent a new message since: the reply answered an older mac1 and does not decrypt.
  msg.sender[0] ^= 1;
  maker.add_macs(bytes(), t0);
  EXPECT_EQ(maker.consume_reply(reply, t0), CookieReplyResult::kBadTag);
}

TEST_F(CookieFixture, TamperedReplyRefused) {
  maker.add_macs(bytes(), t0);
  MessageCookieReply reply;
  checker.create_reply(reply, bytes(), 42, src, t0);
  auto* rb = reinterpret_cast<std::uint8_t*>(&reply);
  for (std::size_t i = offsetof(MessageCookieReply, nonce); i < sizeof(reply); ++i) {
    rb[i] ^= 4;
    EXPECT_EQ(maker.consume_reply(reply, t0), CookieReplyResult::kBadTag) << i;
    rb[i] ^= 4;
  }
  EXPECT_EQ(maker.consume_reply(reply, t0), CookieReplyResult::kOk);
  // One reply per message sent.
  EXPECT_EQ(maker.consume_reply(reply, t0), CookieReplyResult::kUnexpected);
}

TEST_F(CookieFixture, UnexpectedReply) {
  MessageCookieReply reply{};
  EXPECT_EQ(maker.consume_reply(reply, t0), CookieReplyResult::kUnexpected);
}

TEST_F(CookieFixture, CookieExpires) {
  maker.add_macs(bytes(), t0);
  MessageCookieReply reply;
  checker.create_reply(reply, bytes(), 42, src, t0);
  ASSERT_EQ(maker.consume_reply(reply, t0), CookieReplyResult::kOk);
  EXPECT_TRUE(maker.has_fresh_cookie(t0 + kCookieValidity - 1ns));
  EXPECT_FALSE(maker.has_fresh_cookie(t0 + kCookieValidity));
  maker.add_macs(bytes(), t0 + kCookieValidity);
  for (std::uint8_t b : msg.mac2) EXPECT_EQ(b, 0) << "a stale cookie is not used";
}

TEST_F(CookieFixture, SecretRotatesAfterTwoMinutes) {
  maker.add_macs(bytes(), t0);
  MessageCookieReply reply;
  checker.create_reply(reply, bytes(), 42, src, t0);
  ASSERT_EQ(maker.consume_reply(reply, t0), CookieReplyResult::kOk);
  maker.add_macs(bytes(), t0 + 60s);
  EXPECT_EQ(checker.validate(bytes(), true, src, t0 + 60s), MacResult::kValidMacWithCookie);
  // After the responder's secret changed, the old cookie no longer proves anything.
  EXPECT_EQ(checker.validate(bytes(), true, src, t0 + kCookieSecretMaxAge), MacResult::kValidMacButNoCookie);
}

TEST_F(CookieFixture, ResponseMessagesToo) {
  // mac offsets are relative to the end, so responses work the same way.
  MessageResponse r{};
  put_type(r.header, MessageType::kResponse);
  std::span<std::uint8_t> rb(reinterpret_cast<std::uint8_t*>(&r), sizeof(r));
  maker.add_macs(rb, t0);
  EXPECT_EQ(checker.validate(rb, false, src, t0), MacResult::kValidMacButNoCookie);
  crypto::Mac expect = crypto::mac(
      crypto::hash({crypto::Bytes(reinterpret_cast<const std::uint8_t*>(kLabelMac1.data()), kLabelMac1.size()),
                    crypto::Bytes(responder.identity.public_key)}),
      rb.first(mac1_offset<MessageResponse>()));
  EXPECT_EQ(0, std::memcmp(expect.data(), r.mac1, kMacLen));
}

}  // namespace
}  // namespace wg::noise
