// One-packet transport: padding, header layout, and every refusal reason (truncated, wrong type, bad tag,
// replay, counter limit), with the replay window moved only by authenticated packets.
#include "lib/protocol/transport.h"

#include <gtest/gtest.h>

#include <vector>

#include "lib/crypto/x25519.h"

namespace wg::noise {
namespace {

struct Pair {
  Keypair tx, rx;
  Pair() {
    crypto::Key k1, k2;
    crypto::random_bytes(k1.span());
    crypto::random_bytes(k2.span());
    tx.sending = k1;
    rx.receiving = k1;
    tx.remote_index = 0x11223344;
    rx.local_index = 0x11223344;
  }
};

std::vector<std::uint8_t> seal(Keypair& k, std::size_t len) {
  std::vector<std::uint8_t> payload(len, 0xab);
  std::vector<std::uint8_t> wire(transport_size(len, 1420));
  std::size_t n = 0;
  EXPECT_EQ(encrypt_transport(k, payload, 1420, wire, n), TransportResult::kOk);
  return wire;
}

TEST(Transport, LayoutAndPadding) {
  Pair p;
  auto w = seal(p.tx, 17);
  EXPECT_EQ(w.size(), 16u + 32u + 16u);
  EXPECT_EQ(message_type_word(w.data()), 4u);
  EXPECT_EQ(load_le32(w.data() + 4), 0x11223344u);
  EXPECT_EQ(load_le64(w.data() + 8), 0u);
  auto w2 = seal(p.tx, 0);
  EXPECT_EQ(w2.size(), 32u) << "keepalive";
  EXPECT_EQ(load_le64(w2.data() + 8), 1u);
  EXPECT_EQ(transport_size(1420, 1420), 1420u + 32u);
  EXPECT_EQ(transport_size(1419, 1420), 1420u + 32u) << "padding never exceeds the MTU";
  EXPECT_EQ(transport_size(1411, 1420), 1420u + 32u);
}

TEST(Transport, Refusals) {
  Pair p;
  std::vector<std::uint8_t> out(2048);
  std::size_t n = 0;
  auto w = seal(p.tx, 100);
  EXPECT_EQ(decrypt_transport(p.rx, std::span(w).first(31), out, n), TransportResult::kTruncated);
  auto bad_type = w;
  bad_type[1] = 1;  // reserved bytes must be zero
  EXPECT_EQ(decrypt_transport(p.rx, bad_type, out, n), TransportResult::kNotTransport);
  for (std::size_t i = 8; i < w.size(); i += 7) {
    auto bad = w;
    bad[i] ^= 1;
    auto r = decrypt_transport(p.rx, bad, out, n);
    EXPECT_TRUE(r == TransportResult::kBadTag) << i << " " << to_string(r);
  }
  EXPECT_EQ(p.rx.replay.greatest(), 0u) << "forged packets must not move the window";
  ASSERT_EQ(decrypt_transport(p.rx, w, out, n), TransportResult::kOk);
  EXPECT_EQ(n, 112u);
  EXPECT_EQ(decrypt_transport(p.rx, w, out, n), TransportResult::kReplayed);
  std::vector<std::uint8_t> small(10);
  auto w3 = seal(p.tx, 100);
  EXPECT_EQ(decrypt_transport(p.rx, w3, small, n), TransportResult::kBufferTooSmall);
}

TEST(Transport, CounterLimit) {
  Pair p;
  p.tx.sending_counter = kRejectAfterMessages;
  std::vector<std::uint8_t> wire(64);
  std::size_t n = 0;
  std::uint8_t payload[1] = {1};
  EXPECT_EQ(encrypt_transport(p.tx, payload, 1420, wire, n), TransportResult::kCounterLimit);
  // A received counter at the limit is refused before any crypto.
  Pair q;
  auto w = seal(q.tx, 1);
  store_le64(w.data() + 8, kRejectAfterMessages);
  std::vector<std::uint8_t> out(64);
  EXPECT_EQ(decrypt_transport(q.rx, w, out, n), TransportResult::kCounterLimit);
}

TEST(Transport, ReorderedDelivery) {
  Pair p;
  std::vector<std::vector<std::uint8_t>> packets;
  for (int i = 0; i < 64; ++i) packets.push_back(seal(p.tx, 40));
  std::vector<std::uint8_t> out(2048);
  std::size_t n = 0;
  for (int i = 63; i >= 0; --i) EXPECT_EQ(decrypt_transport(p.rx, packets[i], out, n), TransportResult::kOk);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(decrypt_transport(p.rx, packets[i], out, n), TransportResult::kReplayed);
}

}  // namespace
}  // namespace wg::noise
