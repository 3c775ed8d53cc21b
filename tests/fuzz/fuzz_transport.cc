// fuzz_transport: receiving transport data (type 4) with decrypt_transport, under keys from a real in-process
// handshake (done once). Every run starts with fresh keypairs. Bits 0-1 of the first input byte are the mode:
//  0: the rest is a packet as received, decrypted into a separate buffer; if it authenticates, the same
//     packet again must be refused as a replay.
//  1: a valid packet (encrypt_transport; payload length from bits 2-7) mutated by the rest (fuzz::mutate),
//     its keypair looked up by receiver index, then decrypted in place. Asserts: it is delivered exactly when
//     byte-identical to the original (the index is not authenticated: it only picks the key), then with
//     the original payload and zero padding; a packet that does not authenticate never moves the replay
//     window (the original still decrypts afterwards); nothing decrypts twice.
//  2, 3: a sequence of keepalives whose counters come from the rest, 3 bytes each (next_counter),
//     checked against a slow reference window: never the same counter twice, and exactly the counters the
//     window should take.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>

#include "lib/protocol/keypair.h"
#include "lib/protocol/messages.h"
#include "lib/protocol/noise.h"
#include "lib/protocol/transport.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace wg;
using namespace wg::noise;

constexpr std::size_t kMtu = 64;  // small, so that the fuzzer reaches padding up to and past the MTU
constexpr std::uint64_t kValidCounter = 7;

// One direction of a session: the initiator's sending key and the index the responder handed out.
struct Fixture {
  crypto::Key key;
  std::uint32_t index = 0;

  Fixture() {
    fuzz::begin_run();
    const StaticIdentity a = fuzz::fixed_identity(1);
    const StaticIdentity b = fuzz::fixed_identity(2);
    const crypto::Key psk = fuzz::fixed_key(9);
    Handshake ha(a, b.public_key, psk);
    Handshake hb(b, a.public_key, psk);
    fuzz::Directory da(&ha);
    fuzz::Directory db(&hb);
    MessageInitiation init;
    MessageResponse resp;
    FUZZ_CHECK(create_initiation(ha, 1, fuzz::fixed_timestamp(1), init) == HandshakeResult::kOk);
    FUZZ_CHECK(consume_initiation(init, b, db, fuzz::kNow).result == HandshakeResult::kOk);
    FUZZ_CHECK(create_response(hb, 2, resp) == HandshakeResult::kOk);
    FUZZ_CHECK(consume_response(resp, a, da).result == HandshakeResult::kOk);
    const KeypairPtr ka = begin_session(ha, fuzz::kNow);
    const KeypairPtr kb = begin_session(hb, fuzz::kNow);
    FUZZ_CHECK(ka && kb && ka->sending == kb->receiving && ka->remote_index == kb->local_index);
    key = ka->sending;
    index = kb->local_index;
  }
};

const Fixture& fixture() {
  fuzz::setup();
  static const Fixture f;
  return f;
}

// Fresh each run: the sender's and the receiver's view of the same direction.
struct Session {
  Keypair tx;
  Keypair rx;
  Session() {
    tx.sending = fixture().key;
    tx.remote_index = fixture().index;
    rx.receiving = fixture().key;
    rx.local_index = fixture().index;
  }
};

fuzz::Bytes payload_for(std::uint8_t mode) {
  fuzz::Bytes p((mode >> 2) * 3);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 13 + 1);
  return p;
}

fuzz::Bytes encrypt(Keypair& tx, std::span<const std::uint8_t> payload, std::uint64_t counter) {
  fuzz::Bytes out(transport_size(payload.size(), kMtu));
  std::size_t written = 0;
  tx.sending_counter.store(counter);
  FUZZ_CHECK(encrypt_transport(tx, payload, kMtu, out, written) == TransportResult::kOk);
  FUZZ_CHECK(written == out.size());
  return out;
}

TransportResult decrypt(Keypair& rx, std::span<const std::uint8_t> msg) {
  fuzz::Bytes out(msg.size());
  std::size_t written = 0;
  const TransportResult r = decrypt_transport(rx, msg, out, written);
  if (r == TransportResult::kOk) FUZZ_CHECK(written + kTransportOverhead == msg.size());
  return r;
}

void run_raw(std::span<const std::uint8_t> msg) {
  Session s;
  if (decrypt(s.rx, msg) == TransportResult::kOk) FUZZ_CHECK(decrypt(s.rx, msg) == TransportResult::kReplayed);
}

// The receive path as the dataplane runs it: the receiver index picks the keypair (there is one here), then
// decrypt_transport; nullopt when no keypair matches. decrypt_transport itself does not look at the index.
std::optional<TransportResult> receive(Keypair& rx, std::span<const std::uint8_t> msg, std::span<std::uint8_t> out,
                                       std::size_t& written) {
  std::uint32_t receiver = 0;
  if (!transport_receiver(msg, receiver) || receiver != rx.local_index) return std::nullopt;
  return decrypt_transport(rx, msg, out, written);
}

void run_mutated(std::uint8_t mode, std::span<const std::uint8_t> mutation) {
  Session s;
  const fuzz::Bytes payload = payload_for(mode);
  const fuzz::Bytes valid = encrypt(s.tx, payload, kValidCounter);
  const fuzz::Bytes msg = fuzz::mutate(valid, mutation);

  fuzz::Bytes work = msg;  // decrypted in place: the plaintext lands at work + 16
  const std::span<std::uint8_t> out =
      work.size() >= sizeof(MessageTransportHeader) ? std::span(work).subspan(16) : std::span<std::uint8_t>();
  std::size_t written = 0;
  const std::optional<TransportResult> r = receive(s.rx, work, out, written);
  const bool accepted = r == TransportResult::kOk;
  FUZZ_CHECK(accepted == (msg == valid));
  if (accepted) {
    FUZZ_CHECK(written == padded_length(payload.size(), kMtu));
    FUZZ_CHECK(std::equal(payload.begin(), payload.end(), out.begin()));
    FUZZ_CHECK(std::all_of(out.begin() + payload.size(), out.begin() + written, [](auto b) { return b == 0; }));
  }
  // Whatever arrived first, the original decrypts now exactly when it has not already.
  FUZZ_CHECK((decrypt(s.rx, valid) == TransportResult::kOk) == !accepted);
  FUZZ_CHECK(decrypt(s.rx, valid) == TransportResult::kReplayed);
}

// The slow reference: every counter accepted so far, and the window rule written out.
struct ReferenceWindow {
  std::set<std::uint64_t> seen;
  std::uint64_t greatest = 0;
  bool accepts(std::uint64_t c) const {
    if (c >= kRejectAfterMessages || seen.count(c) != 0) return false;
    return c > greatest || greatest - c < ReplayWindow::kWindow;
  }
};

std::uint64_t saturating_add(std::uint64_t base, std::int64_t delta) {
  const __int128 v = static_cast<__int128>(base) + delta;
  return v < 0 ? 0 : v > static_cast<__int128>(UINT64_MAX) ? UINT64_MAX : static_cast<std::uint64_t>(v);
}

// Step = kind, then a signed 16-bit little-endian delta d. Kinds: greatest + d; REJECT_AFTER_MESSAGES + d;
// d as an absolute counter; greatest + 64 d (jumps over whole windows).
std::uint64_t next_counter(const std::uint8_t* step, std::uint64_t greatest) {
  const auto d = static_cast<std::int16_t>(step[1] | step[2] << 8);
  switch (step[0] & 3) {
    case 0: return saturating_add(greatest, d);
    case 1: return saturating_add(kRejectAfterMessages, d);
    case 2: return static_cast<std::uint16_t>(d);
    default: return saturating_add(greatest, std::int64_t{d} * 64);
  }
}

void run_sequence(std::span<const std::uint8_t> steps) {
  Session s;
  ReferenceWindow ref;
  for (std::size_t i = 0; i + 3 <= steps.size(); i += 3) {
    const std::uint64_t c = next_counter(&steps[i], s.rx.replay.greatest());
    fuzz::Bytes pkt(kMinTransportSize);
    if (c < kRejectAfterMessages) {
      pkt = encrypt(s.tx, {}, c);
    } else {
      // The sender refuses such counters; forge the header (the tag is never looked at).
      std::size_t written = 0;
      s.tx.sending_counter.store(c);
      FUZZ_CHECK(encrypt_transport(s.tx, {}, kMtu, pkt, written) == TransportResult::kCounterLimit);
      put_type(pkt.data(), MessageType::kTransport);
      store_le64(pkt.data() + 8, c);
    }
    const TransportResult r = decrypt(s.rx, pkt);
    const bool accepted = r == TransportResult::kOk;
    FUZZ_CHECK(!(accepted && ref.seen.count(c) != 0));  // never the same counter twice
    FUZZ_CHECK(accepted == ref.accepts(c));
    FUZZ_CHECK(accepted || r == TransportResult::kReplayed || r == TransportResult::kCounterLimit);
    if (accepted) {
      ref.seen.insert(c);
      if (c > ref.greatest) ref.greatest = c;
    }
    FUZZ_CHECK(s.rx.replay.greatest() == ref.greatest);
  }
}

fuzz::Seeds make_seeds() {
  fuzz::begin_run();
  Session s;
  const std::uint8_t mode = 1 | (20 << 2);  // 60-byte payload, padded to the 64-byte MTU
  return {
      fuzz::with_mode(0, encrypt(s.tx, payload_for(mode), kValidCounter)),  // raw, authenticates
      fuzz::with_mode(0, fuzz::Bytes(32)),                                  // raw, keepalive-sized
      fuzz::with_mode(mode),                                                // valid, untouched
      fuzz::with_mode(1 | (30 << 2), fuzz::Bytes{0, 20, 0x01}),             // 90 bytes, ciphertext flipped
      fuzz::with_mode(1, fuzz::Bytes{0, 8, 0x01}),                          // keepalive, counter changed
      fuzz::with_mode(2, fuzz::Bytes{0, 1, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0}),  // 1, 2, 2 again, 0
      fuzz::with_mode(2, fuzz::Bytes{3, 200, 0, 0, 0x41, 0xe0, 0, 0x40, 0xe0}),  // jump, then -8127, -8128
      fuzz::with_mode(2, fuzz::Bytes{1, 0xfe, 0xff, 1, 0xff, 0xff, 1, 0, 0}),    // REJECT - 2, -1, +0
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
  switch (data[0] & 3) {
    case 0: run_raw(rest); break;
    case 1: run_mutated(data[0], rest); break;
    default: run_sequence(rest); break;
  }
  return 0;
}
