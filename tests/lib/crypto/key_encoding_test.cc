// Key text forms: base64 as `wg genkey`/`wg pubkey` write it (44 characters with one '=') and the UAPI's
// 64 hex digits. Known pairs were computed with python3's base64 module; decoding must be strict, since a
// key that decodes "almost" right is a silent misconfiguration.
#include "lib/crypto/key_encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace wg::crypto {
namespace {

// Bytes 00..1f and their encodings (python3: base64.b64encode(bytes(range(32))), bytes(range(32)).hex()).
constexpr std::string_view kCountingBase64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kCountingHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

std::array<std::uint8_t, 32> counting() {
  std::array<std::uint8_t, 32> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i);
  return b;
}

std::array<std::uint8_t, 32> bytes_of(const Key& k) {
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = k.data()[i];
  return out;
}

TEST(KeyEncoding, KnownBase64Pair) {
  EXPECT_EQ(to_base64(counting()), kCountingBase64);
  const auto k = key_from_base64(kCountingBase64);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(bytes_of(*k), counting());
  const auto p = public_key_from_base64(kCountingBase64);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, counting());
}

TEST(KeyEncoding, AllOnesUsesTheStandardAlphabet) {
  // '/' and '+' distinguish the standard alphabet from the URL-safe one ('_' and '-').
  std::array<std::uint8_t, 32> ones;
  ones.fill(0xff);
  EXPECT_EQ(to_base64(ones), "//////////////////////////////////////////8=");
  EXPECT_FALSE(key_from_base64("__________________________________________8=").ok());
}

TEST(KeyEncoding, Base64RoundTripsRandomKeys) {
  for (int i = 0; i < 100; ++i) {
    const Key k = generate_private_key();
    const std::string text = to_base64(k.span());
    ASSERT_EQ(text.size(), 44u);
    EXPECT_EQ(text.back(), '=');
    const auto back = key_from_base64(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    EXPECT_TRUE(*back == k) << text;
    const PublicKey pub = public_key(k);
    const auto pub_back = public_key_from_base64(to_base64(pub));
    ASSERT_TRUE(pub_back.ok());
    EXPECT_EQ(*pub_back, pub);
  }
}

TEST(KeyEncoding, Base64RejectsWrongLengths) {
  const std::string good(kCountingBase64);
  EXPECT_FALSE(key_from_base64("").ok());
  EXPECT_FALSE(key_from_base64(good.substr(0, 43)).ok());           // padding dropped
  EXPECT_FALSE(key_from_base64(good + "=").ok());                   // 45 characters
  EXPECT_FALSE(key_from_base64(good + "A").ok());
  EXPECT_FALSE(key_from_base64("A" + good).ok());
  // 44 characters ending in '=' that hold 31 or 33 bytes, not 32 (python3 base64 of 00..1e and 00..20).
  EXPECT_FALSE(key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==").ok());
  EXPECT_FALSE(key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g").ok());
  EXPECT_FALSE(public_key_from_base64(good.substr(0, 43)).ok());
}

TEST(KeyEncoding, Base64RejectsMissingPadding) {
  std::string text(kCountingBase64);
  text.back() = 'A';
  EXPECT_FALSE(key_from_base64(text).ok());
}

TEST(KeyEncoding, Base64RejectsBadCharacters) {
  for (char bad : {'!', ' ', '\n', '-', '_', '.', '\0', '='}) {
    std::string text(kCountingBase64);
    text[10] = bad;
    EXPECT_FALSE(key_from_base64(text).ok()) << "character code " << static_cast<int>(bad);
  }
  // Trailing whitespace, as a line read from a file would carry, is not silently accepted.
  std::string with_newline(kCountingBase64);
  with_newline.back() = '\n';
  EXPECT_FALSE(key_from_base64(with_newline).ok());
}

TEST(KeyEncoding, Base64RejectsNonCanonicalTrailingBits) {
  // The last data character carries 4 bits of the key and 2 unused bits that must be zero: '8' is 111100,
  // '9' is 111101. Accepting both would let two strings name one key.
  std::string text(kCountingBase64);
  ASSERT_EQ(text[42], '8');
  text[42] = '9';
  EXPECT_FALSE(key_from_base64(text).ok());
}

TEST(KeyEncoding, KnownHexPair) {
  EXPECT_EQ(to_hex(counting()), kCountingHex);
  const auto k = key_from_hex(kCountingHex);
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(bytes_of(*k), counting());
}

TEST(KeyEncoding, HexRoundTripsRandomKeysInLowercase) {
  for (int i = 0; i < 100; ++i) {
    const Key k = generate_private_key();
    const std::string text = to_hex(k.span());
    ASSERT_EQ(text.size(), 64u);
    for (char c : text) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << text;
    const auto back = key_from_hex(text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == k);
  }
}

TEST(KeyEncoding, HexRejects) {
  const std::string good(kCountingHex);
  EXPECT_FALSE(key_from_hex("").ok());
  EXPECT_FALSE(key_from_hex(good.substr(0, 63)).ok());
  EXPECT_FALSE(key_from_hex(good.substr(0, 62)).ok());
  EXPECT_FALSE(key_from_hex(good + "0").ok());
  EXPECT_FALSE(key_from_hex(good + "00").ok());
  for (char bad : {'g', 'G', ' ', ':', 'x', '\0'}) {
    std::string text = good;
    text[20] = bad;
    EXPECT_FALSE(key_from_hex(text).ok()) << "character code " << static_cast<int>(bad);
  }
  EXPECT_FALSE(key_from_hex(kCountingBase64).ok());
}

}  // namespace
}  // namespace wg::crypto
