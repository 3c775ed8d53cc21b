// fuzz_response: the initiator receiving a handshake response (type 2) to the initiation it has outstanding
// (created at the start of every run). The first input byte is the mode:
//  bit 0 clear: the rest is the message as received: CookieChecker::validate on it (any size), then
//               consume_response when it is 92 bytes, and on acceptance begin_session.
//  bit 0 set:   a valid response from a real responder, mutated by the rest (fuzz::mutate); asserts that mac1
//               and consume_response accept exactly the untouched messages, and that both sides then derive
//               the same keys.
//  bit 1:       validate checks mac2 too (as under load).
#include <cstddef>
#include <cstdint>

#include "lib/protocol/cookie.h"
#include "lib/protocol/messages.h"
#include "lib/protocol/noise.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace wg;
using namespace wg::noise;

constexpr std::uint32_t kInitiatorIndex = 0x11223344;
constexpr std::uint32_t kResponderIndex = 0x55667788;

struct Fixture {
  StaticIdentity initiator = fuzz::fixed_identity(1);
  StaticIdentity responder = fuzz::fixed_identity(2);
  crypto::Key psk = fuzz::fixed_key(9);
  // Copied at the start of each run, so the static-static DH is computed once.
  Handshake initiator_hs{initiator, responder.public_key, psk};
  Handshake responder_hs{responder, initiator.public_key, psk};
};

const Fixture& fixture() {
  fuzz::setup();
  static const Fixture f;
  return f;
}

// Every run starts here; after begin_run() the initiation is the same bytes each time.
MessageInitiation send_initiation(Handshake& initiator) {
  MessageInitiation m;
  FUZZ_CHECK(create_initiation(initiator, kInitiatorIndex, fuzz::fixed_timestamp(1), m) == HandshakeResult::kOk);
  CookieMaker maker;
  maker.init(fixture().responder.public_key);
  maker.add_macs(fuzz::bytes_of(m), fuzz::kNow);
  return m;
}

MessageResponse valid_response(Handshake& responder, const MessageInitiation& init) {
  fuzz::Directory peers(&responder);
  FUZZ_CHECK(consume_initiation(init, fixture().responder, peers, fuzz::kNow).result == HandshakeResult::kOk);
  MessageResponse m;
  FUZZ_CHECK(create_response(responder, kResponderIndex, m) == HandshakeResult::kOk);
  CookieMaker maker;
  maker.init(fixture().initiator.public_key);
  maker.add_macs(fuzz::bytes_of(m), fuzz::kNow);
  return m;
}

struct Outcome {
  MacResult mac;
  KeypairPtr keypair;  // set when consume_response accepted
};

Outcome receive(Handshake& initiator, std::span<const std::uint8_t> msg, bool check_cookie) {
  const Fixture& fx = fixture();
  CookieChecker checker;
  checker.init(fx.initiator.public_key);
  Outcome out{checker.validate(msg, check_cookie, cookie_source_v4(0x0200007f, 0x3412), fuzz::kNow), nullptr};

  MessageResponse m;
  if (!fuzz::read_as(msg, m)) return out;
  fuzz::Directory peers(&initiator);
  const ConsumedMessage c = consume_response(m, fx.initiator, peers);
  if (c.result != HandshakeResult::kOk) {
    // A refused message changes nothing: the initiation is still outstanding.
    FUZZ_CHECK(initiator.state() == HandshakeState::kCreatedInitiation);
    return out;
  }
  FUZZ_CHECK(c.handshake == &initiator && initiator.state() == HandshakeState::kConsumedResponse);
  // A second response to the same initiation is refused.
  FUZZ_CHECK(consume_response(m, fx.initiator, peers).result == HandshakeResult::kWrongState);
  out.keypair = begin_session(initiator, fuzz::kNow);
  FUZZ_CHECK(out.keypair != nullptr && out.keypair->i_am_initiator);
  FUZZ_CHECK(out.keypair->local_index == kInitiatorIndex && out.keypair->remote_index == load_le32(m.sender));
  FUZZ_CHECK(initiator.state() == HandshakeState::kZeroed);
  return out;
}

fuzz::Seeds make_seeds() {
  fuzz::begin_run();
  Handshake initiator = fixture().initiator_hs;
  Handshake responder = fixture().responder_hs;
  const MessageResponse valid = valid_response(responder, send_initiation(initiator));
  return {
      fuzz::with_mode(0, fuzz::bytes_of(valid)),     // raw, accepted (same bytes as mode 1 builds)
      fuzz::with_mode(2, fuzz::bytes_of(valid)),     // raw, mac2 checked
      fuzz::with_mode(0, fuzz::Bytes(92)),           // raw, right size, unknown receiver
      fuzz::with_mode(1),                            // valid, untouched
      fuzz::with_mode(1, fuzz::Bytes{0, 4, 0x01}),   // valid, sender changed (not authenticated)
      fuzz::with_mode(1, fuzz::Bytes{0, 50, 0x80}),  // valid, empty-payload tag flipped
      fuzz::with_mode(3, fuzz::Bytes{1, 76}),        // valid, mac2 cut off
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
  const bool check_cookie = data[0] & 2;
  Handshake initiator = fixture().initiator_hs;
  const MessageInitiation init = send_initiation(initiator);
  if ((data[0] & 1) == 0) {
    receive(initiator, rest, check_cookie);
    return 0;
  }
  Handshake responder = fixture().responder_hs;
  const MessageResponse valid = valid_response(responder, init);
  const fuzz::Bytes msg = fuzz::mutate(fuzz::bytes_of(valid), rest);
  const Outcome o = receive(initiator, msg, check_cookie);
  // mac1 covers bytes [0, 60) and sits at [60, 76); validate reads the macs from the end of whatever
  // it is given, so only the whole message passes. The handshake authenticates [8, 60).
  const bool whole = msg.size() == sizeof(MessageResponse);
  const std::span<const std::uint8_t> orig = fuzz::bytes_of(valid);
  FUZZ_CHECK((o.mac != MacResult::kInvalidMac) == (whole && !fuzz::changed(orig, msg, 0, 76)));
  if (!whole) return 0;
  FUZZ_CHECK((o.keypair != nullptr) == !fuzz::changed(orig, msg, 8, 60));
  if (o.keypair != nullptr) {
    const KeypairPtr theirs = begin_session(responder, fuzz::kNow);
    FUZZ_CHECK(theirs != nullptr && !theirs->i_am_initiator);
    FUZZ_CHECK(o.keypair->sending == theirs->receiving && o.keypair->receiving == theirs->sending);
  }
  return 0;
}
