// fuzz_cookie_reply: a peer receiving a cookie reply (type 3) to the handshake message it last sent
// (CookieMaker::consume_reply), and using the cookie in its next message (add_macs, then the responder's
// CookieChecker::validate). The first input byte is the mode:
//  bit 0 clear: the rest is the reply as received (64 bytes, else ignored).
//  bit 0 set:   a valid reply from the responder's CookieChecker, mutated by the rest (fuzz::mutate); asserts
//               it is accepted exactly when untouched, and that the cookie then proves our address.
//  bit 1:       we have sent nothing yet, so any reply is unexpected.
//  bits 2-7:    how long after the reply we send again, in 4 s steps (crosses the cookie's 115 s validity
//               and the responder's 120 s secret rotation).
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "lib/protocol/cookie.h"
#include "lib/protocol/messages.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace wg;
using namespace wg::noise;
using namespace std::chrono_literals;

constexpr std::uint32_t kSenderIndex = 0x11223344;

struct Fixture {
  StaticIdentity responder = fuzz::fixed_identity(1);
  CookieSource ours = cookie_source_v4(0x0100000a, 0xbb01);
  CookieSource other = cookie_source_v4(0x0200000a, 0xbb01);
  MessageInitiation sent{};  // mac1/mac2 cover bytes, not meaning: any content will do
  Fixture() {
    for (std::size_t i = 0; i < sizeof(sent); ++i) fuzz::bytes_of(sent)[i] = static_cast<std::uint8_t>(i * 7);
  }
};

const Fixture& fixture() {
  fuzz::setup();
  static const Fixture f;
  return f;
}

// One run's two sides, fresh each time: we (the CookieMaker) send a message at kNow unless told not to;
// the responder (under load) finds mac1 right and no cookie yet, and answers with `valid`.
struct Exchange {
  CookieMaker maker;
  CookieChecker checker;
  MessageInitiation sent = fixture().sent;
  MessageCookieReply valid{};

  explicit Exchange(bool send) {
    const Fixture& fx = fixture();
    maker.init(fx.responder.public_key);
    checker.init(fx.responder.public_key);
    if (send) maker.add_macs(fuzz::bytes_of(sent), fuzz::kNow);
    FUZZ_CHECK(validate(fuzz::bytes_of(sent), fx.ours, fuzz::kNow) ==
               (send ? MacResult::kValidMacButNoCookie : MacResult::kInvalidMac));
    checker.create_reply(valid, fuzz::bytes_of(sent), kSenderIndex, fx.ours, fuzz::kNow);
  }
  MacResult validate(std::span<const std::uint8_t> msg, const CookieSource& src, MonoTime now) {
    return checker.validate(msg, /*check_cookie=*/true, src, now);
  }
};

// Our message went out at kNow, the reply arrived (and was accepted) at kNow too; we send again at `later`.
void check_cookie_use(Exchange& ex, MonoTime later, bool reply_from_responder) {
  const Fixture& fx = fixture();
  CookieMaker& maker = ex.maker;
  FUZZ_CHECK(maker.has_fresh_cookie(fuzz::kNow));
  const MessageCookieReply none{};
  FUZZ_CHECK(maker.consume_reply(none, fuzz::kNow) == CookieReplyResult::kUnexpected);  // one per message

  MessageInitiation again = fx.sent;
  maker.add_macs(fuzz::bytes_of(again), later);
  const bool fresh = later - fuzz::kNow < kCookieValidity;
  FUZZ_CHECK(maker.has_fresh_cookie(later) == fresh);
  const MacResult r = ex.validate(fuzz::bytes_of(again), fx.ours, later);
  FUZZ_CHECK(r != MacResult::kInvalidMac);
  if (reply_from_responder) {
    FUZZ_CHECK((r == MacResult::kValidMacWithCookie) == fresh);
  }
  // The cookie is bound to our address.
  FUZZ_CHECK(ex.validate(fuzz::bytes_of(again), fx.other, later) == MacResult::kValidMacButNoCookie);
}

fuzz::Seeds make_seeds() {
  fuzz::begin_run();
  const Exchange ex(/*send=*/true);
  return {
      fuzz::with_mode(0, fuzz::bytes_of(ex.valid)),     // raw, accepted (same bytes as mode 1 builds)
      fuzz::with_mode(2, fuzz::bytes_of(ex.valid)),     // raw, nothing sent
      fuzz::with_mode(1),                               // valid, untouched, resent at once
      fuzz::with_mode(1 | (29 << 2)),                   // valid, resent after 116 s: cookie expired
      fuzz::with_mode(1, fuzz::Bytes{0, 4, 0x01}),      // valid, receiver changed (not authenticated)
      fuzz::with_mode(1, fuzz::Bytes{0, 40, 0x01}),     // valid, encrypted cookie flipped
      fuzz::with_mode(1, fuzz::Bytes{1, 48}),           // valid, cut short
  };
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fixture();
  fuzz::write_seeds_if_asked(make_seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  fuzz::begin_run();
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  const bool mutated_mode = data[0] & 1;
  const bool sent_nothing = data[0] & 2;
  const MonoTime later = fuzz::kNow + std::chrono::seconds(4 * (data[0] >> 2));

  Exchange ex(!sent_nothing);
  const fuzz::Bytes msg =
      mutated_mode ? fuzz::mutate(fuzz::bytes_of(ex.valid), rest) : fuzz::Bytes(rest.begin(), rest.end());
  MessageCookieReply reply;
  if (!fuzz::read_as(msg, reply)) return 0;
  const CookieReplyResult r = ex.maker.consume_reply(reply, fuzz::kNow);
  if (sent_nothing) FUZZ_CHECK(r == CookieReplyResult::kUnexpected);
  // The reply authenticates bytes [8, 64): nonce and encrypted cookie.
  if (mutated_mode && !sent_nothing) {
    FUZZ_CHECK((r == CookieReplyResult::kOk) == !fuzz::changed(fuzz::bytes_of(ex.valid), msg, 8, 64));
  }
  if (r == CookieReplyResult::kOk) {
    check_cookie_use(ex, later, mutated_mode);
  } else {
    FUZZ_CHECK(!ex.maker.has_fresh_cookie(fuzz::kNow));
  }
  return 0;
}
