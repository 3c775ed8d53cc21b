// X25519: RFC 7748 section 5.2 (single and iterated vectors) and section 6.1 (Alice and Bob), rejection of
// low-order points (WireGuard paper, section 5.4 "DH"), and generated keys as `wg genkey` makes them.
// dh() does not clamp; libsodium clamps the scalar internally, as RFC 7748's X25519 function does.
#include "lib/crypto/x25519.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>
#include "tests/lib/hex.h"

namespace wg::crypto {
namespace {

using wg::testing::hex;

std::array<std::uint8_t, 32> from_hex32(std::string_view text) {
  std::array<std::uint8_t, 32> out{};
  EXPECT_EQ(text.size(), 64u);
  for (std::size_t i = 0; i < 32; ++i) {
    out[i] = static_cast<std::uint8_t>(std::stoi(std::string(text.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

Key key_hex(std::string_view hex) {
  const auto b = from_hex32(hex);
  return Key(std::span<const std::uint8_t, 32>(b));
}


PublicKey pub_hex(std::string_view hex) { return from_hex32(hex); }

std::array<std::uint8_t, 32> bytes_of(const Key& k) {
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = k.data()[i];
  return out;
}

TEST(X25519, Rfc7748Section52Vector1) {
  const auto shared = dh(key_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                         pub_hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(hex(bytes_of(*shared)), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

TEST(X25519, Rfc7748Section52Vector2) {
  // The u-coordinate has its top bit set, which X25519 must ignore (RFC 7748 section 5).
  const auto shared = dh(key_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                         pub_hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"));
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(hex(bytes_of(*shared)), "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// k = u = 9; repeat (k, u) := (X25519(k, u), k).
std::array<std::uint8_t, 32> iterate(int times) {
  std::array<std::uint8_t, 32> k{9};
  std::array<std::uint8_t, 32> u{9};
  for (int i = 0; i < times; ++i) {
    const auto r = dh(Key(std::span<const std::uint8_t, 32>(k)), u);
    EXPECT_TRUE(r.ok()) << "iteration " << i;
    if (!r.ok()) break;
    u = k;
    k = bytes_of(*r);
  }
  return k;
}

TEST(X25519, Rfc7748Section52IteratedOnce) {
  EXPECT_EQ(hex(iterate(1)), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
}

TEST(X25519, Rfc7748Section52Iterated1000) {
  EXPECT_EQ(hex(iterate(1000)), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

TEST(X25519, Rfc7748Section61AliceAndBob) {
  const Key alice = key_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const Key bob = key_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const PublicKey alice_pub = public_key(alice);
  const PublicKey bob_pub = public_key(bob);
  EXPECT_EQ(hex(alice_pub), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(hex(bob_pub), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const std::string want = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  const auto ab = dh(alice, bob_pub);
  const auto ba = dh(bob, alice_pub);
  ASSERT_TRUE(ab.ok()) << ab.status();
  ASSERT_TRUE(ba.ok()) << ba.status();
  EXPECT_EQ(hex(bytes_of(*ab)), want);
  EXPECT_EQ(hex(bytes_of(*ba)), want);
}

TEST(X25519, RejectsLowOrderPoints) {
  const Key priv = generate_private_key();
  const std::string_view points[] = {
      "0000000000000000000000000000000000000000000000000000000000000000",  // 0
      "0100000000000000000000000000000000000000000000000000000000000000",  // 1
      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",  // order 8
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p - 1
  };
  for (std::string_view p : points) {
    const auto r = dh(priv, pub_hex(p));
    EXPECT_FALSE(r.ok()) << p;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << p;
    }
  }
}

TEST(X25519, ClampSetsAndClearsTheRfcBits) {
  std::array<std::uint8_t, 32> ones;
  ones.fill(0xff);
  Key k{std::span<const std::uint8_t, 32>(ones)};
  clamp(k);
  EXPECT_EQ(k.data()[0], 0xf8);
  EXPECT_EQ(k.data()[31], 0x7f);
  for (std::size_t i = 1; i < 31; ++i) EXPECT_EQ(k.data()[i], 0xff) << i;

  Key z;
  clamp(z);
  EXPECT_EQ(z.data()[0], 0x00);
  EXPECT_EQ(z.data()[31], 0x40);
}

TEST(X25519, GeneratedKeysAreClampedAndDistinct) {
  std::set<std::array<std::uint8_t, 32>> seen;
  for (int i = 0; i < 64; ++i) {
    const Key k = generate_private_key();
    EXPECT_EQ(k.data()[0] & 7, 0);
    EXPECT_EQ(k.data()[31] & 0x80, 0);
    EXPECT_EQ(k.data()[31] & 0x40, 0x40);
    EXPECT_TRUE(seen.insert(bytes_of(k)).second) << "a CSPRNG repeated a 256-bit key";
  }
}

TEST(X25519, PublicKeyOfGeneratedKeyMatchesDhWithBasePoint) {
  const PublicKey base{9};
  for (int i = 0; i < 8; ++i) {
    const Key k = generate_private_key();
    const auto r = dh(k, base);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(hex(public_key(k)), hex(bytes_of(*r)));
  }
}

TEST(X25519, RandomKeysAgreeBothWays) {
  for (int i = 0; i < 32; ++i) {
    const Key a = generate_private_key();
    const Key b = generate_private_key();
    const auto ab = dh(a, public_key(b));
    const auto ba = dh(b, public_key(a));
    ASSERT_TRUE(ab.ok()) << ab.status();
    ASSERT_TRUE(ba.ok()) << ba.status();
    EXPECT_TRUE(*ab == *ba);
    EXPECT_FALSE(ab->is_zero());
    // A third party's key gives a different secret.
    const auto ac = dh(a, public_key(generate_private_key()));
    ASSERT_TRUE(ac.ok());
    EXPECT_FALSE(*ab == *ac);
  }
}

TEST(X25519, RandomBytesFillsTheWholeBuffer) {
  // 64 random bytes are all zero with probability 2^-512; a call that filled nothing would be caught.
  std::array<std::uint8_t, 64> buf{};
  random_bytes(buf);
  bool any_nonzero_in_tail = false;
  for (std::size_t i = 32; i < buf.size(); ++i) any_nonzero_in_tail |= buf[i] != 0;
  EXPECT_TRUE(any_nonzero_in_tail);
  std::set<std::uint32_t> values;
  for (int i = 0; i < 16; ++i) values.insert(random_u32());
  EXPECT_GT(values.size(), 1u);
}

}  // namespace
}  // namespace wg::crypto
