// BLAKE2s and WireGuard's constructions on it: RFC 7693 Appendix B, keyed vectors from the official BLAKE2
// KAT (key 00..1f, input 00..n-1), Mac, HMAC (RFC 2104, short and long keys), Kdf1/2/3 and the protocol's
// initial chaining key and hash (WireGuard paper, section 5.4). Expected values other than the RFC's were
// computed independently with python3's hashlib.blake2s and hmac modules, not with this code.
#include "lib/crypto/blake2s.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/protocol/messages.h"
#include "tests/lib/hex.h"

namespace wg::crypto {
namespace {

using wg::testing::hex;


std::string hex(const Key& k) { return hex(k.span()); }

std::vector<std::uint8_t> counting(std::size_t n, std::size_t start = 0) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(start + i);
  return v;
}

Bytes as_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

Key key_from(const std::vector<std::uint8_t>& v) {
  return Key(std::span<const std::uint8_t, 32>(v.data(), 32));
}

TEST(Blake2s, Rfc7693AppendixB) {
  EXPECT_EQ(hex(hash({as_bytes("abc")})),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

TEST(Blake2s, EmptyInput) {
  const std::string want = "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9";
  EXPECT_EQ(hex(hash({})), want);
  EXPECT_EQ(hex(hash({Bytes()})), want);
}

TEST(Blake2s, PartsHashLikeTheirConcatenation) {
  const auto data = counting(200);
  const Hash whole = hash({Bytes(data)});
  // Splits on and off the 64-byte block boundary, including empty parts.
  for (std::size_t cut : {0u, 1u, 63u, 64u, 65u, 128u, 199u, 200u}) {
    const Bytes all(data);
    EXPECT_EQ(hash({all.first(cut), Bytes(), all.subspan(cut)}), whole) << cut;
  }
}

// The official BLAKE2 KAT (blake2s-kat.txt): key 00..1f, input 00..n-1, 32-byte output.
TEST(Blake2s, KeyedKat) {
  struct Vector {
    std::size_t len;
    std::string_view out;
  };
  const Vector vectors[] = {
      {0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
      {1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
      {2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"},
      {63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"},
      {64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"},
      {65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8"},
      {255, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd"},
  };
  const auto key = counting(32);
  for (const Vector& v : vectors) {
    const auto in = counting(v.len);
    std::array<std::uint8_t, 32> out{};
    blake2s_keyed(out, key, in);
    EXPECT_EQ(hex(out), v.out) << "input length " << v.len;
  }
}

TEST(Blake2s, MacIsKeyedBlake2s128) {
  const auto key32 = counting(32);
  EXPECT_EQ(hex(mac(key32, as_bytes("hello"))), "1f946dc212a39570bc06fd378517a91e");
  EXPECT_EQ(hex(mac(key32, Bytes())), "9536f9b267655743dee97b8a670f9f53");
  EXPECT_EQ(hex(mac(key32, counting(64))), "f1efa90d2547036841ecd3627fafbc36");
  // A 16-byte key, as mac2 uses with a cookie.
  EXPECT_EQ(hex(mac(counting(16), counting(100))), "56301549e674c3b72a0e1dafb7a2c620");
}

TEST(Blake2s, MacIsNotATruncatedLongOutput) {
  // The output length is a BLAKE2s parameter, so Mac must differ from the first 16 bytes of the 32-byte
  // keyed hash; a truncating implementation would pass vectors computed the same wrong way, but not this.
  const auto key = counting(32);
  std::array<std::uint8_t, 32> full{};
  blake2s_keyed(full, key, Bytes());
  const Mac m = mac(key, Bytes());
  EXPECT_NE(hex(std::span(full).first(16)), hex(m));
}

TEST(Blake2s, HmacMatchesReference) {
  // Python: hmac.new(key, msg, hashlib.blake2s).hexdigest()
  EXPECT_EQ(hex(hmac(counting(32), as_bytes("hello"))),
            "ca3386d2021b8c299b42476827e7e729b48255da7aee060261072790ea0fc3fa");
  EXPECT_EQ(hex(hmac(Bytes(), Bytes())),
            "eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd");
  // Exactly one block of key: used as is.
  EXPECT_EQ(hex(hmac(counting(64), as_bytes("abc"))),
            "3a0ef09eac123871fb79852ec512086d013abff437bd68ca03630932bd6ba81f");
}

TEST(Blake2s, HmacHashesKeysLongerThanABlock) {
  EXPECT_EQ(hex(hmac(counting(65), as_bytes("abc"))),
            "44d87b3939dec16bc76cbd83e3982ac0a4eafab8a5b87c8c2adbd0da7d5c9695");
  std::vector<std::uint8_t> msg(200);
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::uint8_t>(i * 7);
  EXPECT_EQ(hex(hmac(counting(100), msg)),
            "75da44f7b27c6bc8e070cc63c79cf3f1346c345f80b39979e7ebdfed13b348da");
}

// Python reference: tau0 = HMAC(key, input); tau1 = HMAC(tau0, 0x01); tau_i = HMAC(tau0, tau_{i-1} || i).
constexpr std::string_view kKdfT1 = "49cb3e3e0a338c0ca9c85f01281c97d1dd23f94eb133ec823d3b30cb879ea1cf";
constexpr std::string_view kKdfT2 = "8dda23bbefa07e9855d5561e63dfce41694b3a0b635b5bdda478bf62779e2ca5";
constexpr std::string_view kKdfT3 = "77f0d4675b6c4d21dd3697ee5a7f9b174fa8538e10f86d64f330fc1dc788ef29";
constexpr std::string_view kKdfInput = "WireGuard kdf input";

TEST(Blake2s, KdfMatchesReference) {
  const Key key = key_from(counting(32, 0x40));
  Key t1, t2, t3;
  kdf1(t1, key, as_bytes(kKdfInput));
  EXPECT_EQ(hex(t1), kKdfT1);

  Key u1, u2;
  kdf2(u1, u2, key, as_bytes(kKdfInput));
  EXPECT_EQ(hex(u1), kKdfT1);
  EXPECT_EQ(hex(u2), kKdfT2);

  kdf3(t1, t2, t3, key, as_bytes(kKdfInput));
  EXPECT_EQ(hex(t1), kKdfT1);
  EXPECT_EQ(hex(t2), kKdfT2);
  EXPECT_EQ(hex(t3), kKdfT3);
}

TEST(Blake2s, KdfWithEmptyInput) {
  // The handshake's final Kdf2(C, empty) that derives the transport keys has an empty input.
  const Key key = key_from(counting(32, 0x40));
  Key t1, t2, t3;
  kdf3(t1, t2, t3, key, Bytes());
  EXPECT_EQ(hex(t1), "78eea5e4bfedc2e792dc08620303ca6266f1fd18fab37c848ab8e97d65665f68");
  EXPECT_EQ(hex(t2), "b458121cc4faa0a6c9552680d783a1f7ccea37e483bf5a88b990f5ebe26057cc");
  EXPECT_EQ(hex(t3), "c76206e40a2876484f43f5329739f74cbefbe29d98b1a5356fce9eebfa01b207");
}

// Noise updates the chaining key in place (C := Kdf1(C, e)), so the first output aliases the key.
TEST(Blake2s, KdfOutputMayAliasKey) {
  Key c = key_from(counting(32, 0x40));
  kdf1(c, c, as_bytes(kKdfInput));
  EXPECT_EQ(hex(c), kKdfT1);

  c = key_from(counting(32, 0x40));
  Key k;
  kdf2(c, k, c, as_bytes(kKdfInput));
  EXPECT_EQ(hex(c), kKdfT1);
  EXPECT_EQ(hex(k), kKdfT2);

  c = key_from(counting(32, 0x40));
  Key tau, k3;
  kdf3(c, tau, k3, c, as_bytes(kKdfInput));
  EXPECT_EQ(hex(c), kKdfT1);
  EXPECT_EQ(hex(tau), kKdfT2);
  EXPECT_EQ(hex(k3), kKdfT3);

  // Aliasing a later output with the key must work too.
  c = key_from(counting(32, 0x40));
  Key first;
  kdf2(first, c, c, as_bytes(kKdfInput));
  EXPECT_EQ(hex(first), kKdfT1);
  EXPECT_EQ(hex(c), kKdfT2);
}

TEST(Blake2s, ProtocolStringsHaveExactBytes) {
  EXPECT_EQ(noise::kConstruction, std::string_view("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"));
  EXPECT_EQ(noise::kConstruction.size(), 37u);
  EXPECT_EQ(noise::kIdentifier, std::string_view("WireGuard v1 zx2c4 Jason@zx2c4.com"));
  EXPECT_EQ(noise::kIdentifier.size(), 34u);
  EXPECT_EQ(noise::kLabelMac1, std::string_view("mac1----"));
  EXPECT_EQ(noise::kLabelCookie, std::string_view("cookie--"));
}

// Ci := Hash(Construction); Hi := Hash(Ci || Identifier). The same constants the kernel precomputes.
TEST(Blake2s, InitialChainingKeyAndHash) {
  const Hash c0 = hash({as_bytes(noise::kConstruction)});
  EXPECT_EQ(hex(c0), "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  const Hash h0 = hash({c0, as_bytes(noise::kIdentifier)});
  EXPECT_EQ(hex(h0), "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

}  // namespace
}  // namespace wg::crypto
