// fuzz_initiation: the responder receiving a handshake initiation (type 1). The first input byte is the mode:
//  bit 0 clear: the rest is the message as received: CookieChecker::validate on it (any size), then
//               consume_initiation when it is 148 bytes, and on acceptance create_response + begin_session.
//  bit 0 set:   a valid initiation from a real initiator, mutated by the rest (fuzz::mutate), so the code past
//               each AEAD runs; asserts that mac1 and consume_initiation accept exactly the untouched messages.
//  bit 1:       validate checks mac2 too (as under load).
// The responder knows two peers: the initiator and a bystander that never sends.
#include <cstddef>
#include <cstdint>

#include "lib/protocol/cookie.h"
#include "lib/protocol/messages.h"
#include "lib/protocol/noise.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace wg;
using namespace wg::noise;
using namespace std::chrono_literals;

constexpr std::uint32_t kInitiatorIndex = 0x11223344;
constexpr std::uint32_t kResponderIndex = 0x55667788;

struct Fixture {
  StaticIdentity responder = fuzz::fixed_identity(1);
  StaticIdentity initiator = fuzz::fixed_identity(2);
  StaticIdentity bystander = fuzz::fixed_identity(3);
  crypto::Key psk = fuzz::fixed_key(9);
  // Copied at the start of each run, so the static-static DH is computed once.
  Handshake initiator_hs{initiator, responder.public_key, psk};
  Handshake responder_hs{responder, initiator.public_key, psk};
  Handshake bystander_hs{responder, bystander.public_key, psk};
};

const Fixture& fixture() {
  fuzz::setup();
  static const Fixture f;
  return f;
}

MessageInitiation valid_initiation() {
  Handshake initiator = fixture().initiator_hs;
  MessageInitiation m;
  FUZZ_CHECK(create_initiation(initiator, kInitiatorIndex, fuzz::fixed_timestamp(1), m) == HandshakeResult::kOk);
  CookieMaker maker;
  maker.init(fixture().responder.public_key);
  maker.add_macs(fuzz::bytes_of(m), fuzz::kNow);
  return m;
}

struct Outcome {
  MacResult mac;
  bool consumed = false;  // consume_initiation ran and accepted
};

Outcome receive(std::span<const std::uint8_t> msg, bool check_cookie) {
  const Fixture& fx = fixture();
  CookieChecker checker;
  checker.init(fx.responder.public_key);
  Outcome out{checker.validate(msg, check_cookie, cookie_source_v4(0x0100007f, 0x3412), fuzz::kNow)};

  MessageInitiation m;
  if (!fuzz::read_as(msg, m)) return out;
  Handshake peer = fx.responder_hs;
  Handshake bystander = fx.bystander_hs;
  fuzz::Directory peers(&peer, &bystander);
  const ConsumedMessage c = consume_initiation(m, fx.responder, peers, fuzz::kNow);
  if (c.result != HandshakeResult::kOk) {
    // A refused message changes nothing.
    FUZZ_CHECK(peer.state() == HandshakeState::kZeroed && bystander.state() == HandshakeState::kZeroed);
    return out;
  }
  out.consumed = true;
  FUZZ_CHECK(c.handshake->state() == HandshakeState::kConsumedInitiation);
  FUZZ_CHECK(c.handshake->remote_index() == load_le32(m.sender));
  // The same initiation again, even a second later, is a replay.
  const ConsumedMessage again = consume_initiation(m, fx.responder, peers, fuzz::kNow + 1s);
  FUZZ_CHECK(again.result == HandshakeResult::kStaleTimestamp);

  MessageResponse r;
  FUZZ_CHECK(create_response(*c.handshake, kResponderIndex, r) == HandshakeResult::kOk);
  const KeypairPtr kp = begin_session(*c.handshake, fuzz::kNow);
  FUZZ_CHECK(kp != nullptr && !kp->i_am_initiator);
  FUZZ_CHECK(kp->local_index == kResponderIndex && kp->remote_index == load_le32(m.sender));
  FUZZ_CHECK(c.handshake->state() == HandshakeState::kZeroed);
  return out;
}

fuzz::Seeds make_seeds() {
  fuzz::begin_run();
  const MessageInitiation valid = valid_initiation();
  return {
      fuzz::with_mode(0, fuzz::bytes_of(valid)),    // raw, accepted (same bytes as mode 1 builds)
      fuzz::with_mode(2, fuzz::bytes_of(valid)),    // raw, mac2 checked
      fuzz::with_mode(0, fuzz::Bytes(32)),          // raw, shortest that validate reads
      fuzz::with_mode(1),                           // valid, untouched
      fuzz::with_mode(1, fuzz::Bytes{0, 40, 0x01}), // valid, encrypted static flipped
      fuzz::with_mode(1, fuzz::Bytes{0, 100, 0x80}),// valid, timestamp tag flipped
      fuzz::with_mode(3, fuzz::Bytes{1, 132}),      // valid, mac2 cut off
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
  if ((data[0] & 1) == 0) {
    receive(rest, check_cookie);
    return 0;
  }
  const MessageInitiation valid = valid_initiation();
  const fuzz::Bytes msg = fuzz::mutate(fuzz::bytes_of(valid), rest);
  const Outcome o = receive(msg, check_cookie);
  // mac1 covers bytes [0, 116) and sits at [116, 132); validate reads the macs from the end of whatever
  // it is given, so only the whole message passes. The handshake authenticates [8, 116).
  const bool whole = msg.size() == sizeof(MessageInitiation);
  const std::span<const std::uint8_t> orig = fuzz::bytes_of(valid);
  FUZZ_CHECK((o.mac != MacResult::kInvalidMac) == (whole && !fuzz::changed(orig, msg, 0, 132)));
  if (whole) FUZZ_CHECK(o.consumed == !fuzz::changed(orig, msg, 8, 116));
  return 0;
}
