// ChaCha20-Poly1305 with WireGuard's counter nonce, and XChaCha20-Poly1305: RFC 8439 Appendix A.5 (the one
// RFC vector whose nonce starts with four zero bytes, so it fits a counter), section 2.8.2 through libsodium
// directly plus our wrapper against that direct call, draft-irtf-cfrg-xchacha-03 Appendix A.3.1, and
// rejection of every single-bit change and of a wrong key, counter or associated data.
#include "lib/crypto/aead.h"

#include <gtest/gtest.h>
#include <sodium/crypto_aead_chacha20poly1305.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/crypto/x25519.h"
#include "tests/lib/hex.h"

namespace wg::crypto {
namespace {

using wg::testing::hex;
using wg::testing::from_hex;

using Buf = std::vector<std::uint8_t>;



Buf as_buf(std::string_view s) { return Buf(s.begin(), s.end()); }

Key key_of(const Buf& b) { return Key(std::span<const std::uint8_t, 32>(b.data(), 32)); }

Key random_key() {
  Key k;
  random_bytes(k.span());
  return k;
}

Buf concat(const Buf& a, const Buf& b) {
  Buf out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Buf seal_buf(const Key& key, std::uint64_t counter, const Buf& pt, const Buf& ad) {
  Buf out(pt.size() + kTagSize);
  seal(out, key, counter, pt, ad);
  return out;
}

// RFC 8439 Appendix A.5: key, nonce 00000000 0102030405060708, AAD, 265-byte plaintext, ciphertext, tag.
const Buf kA5Key = from_hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
constexpr std::uint64_t kA5Counter = 0x0807060504030201;
const Buf kA5Aad = from_hex("f33388860000000000004e91");
const Buf kA5Plaintext = as_buf(
    "Internet-Drafts are draft documents valid for a maximum of six months and may be updated, replaced, "
    "or obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as reference "
    "material or to cite them other than as /\xe2\x80\x9cwork in progress./\xe2\x80\x9d");
const Buf kA5Ciphertext = from_hex(
    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
    "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
    "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
    "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
    "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
    "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
    "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
    "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
    "a6ad5cb4022b02709b");
const Buf kA5Tag = from_hex("eead9d67890cbb22392336fea1851f38");

// RFC 8439 section 2.8.2.
const Buf kRfc282Key = from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
const Buf kRfc282Nonce = from_hex("070000004041424344454647");
const Buf kRfc282Aad = from_hex("50515253c0c1c2c3c4c5c6c7");
const Buf kRfc282Plaintext = as_buf(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.");
const Buf kRfc282Ciphertext = from_hex(
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116");
const Buf kRfc282Tag = from_hex("1ae10b594f09e26a7e902ecbd0600691");

TEST(Aead, NonceIsFourZeroBytesThenLittleEndianCounter) {
  const auto zero = nonce_for_counter(0);
  EXPECT_EQ(hex(zero), "000000000000000000000000");
  const auto n = nonce_for_counter(kA5Counter);
  EXPECT_EQ(hex(n), "000000000102030405060708");
  const auto one = nonce_for_counter(1);
  EXPECT_EQ(hex(one), "000000000100000000000000");
  const auto max = nonce_for_counter(~0ULL);
  EXPECT_EQ(hex(max), "00000000ffffffffffffffff");
}

TEST(Aead, Rfc8439A5Open) {
  ASSERT_EQ(kA5Plaintext.size(), 265u);
  ASSERT_EQ(kA5Ciphertext.size(), 265u);
  Buf out(kA5Plaintext.size());
  ASSERT_TRUE(open(out, key_of(kA5Key), kA5Counter, concat(kA5Ciphertext, kA5Tag), kA5Aad));
  EXPECT_EQ(hex(out), hex(kA5Plaintext));
}

TEST(Aead, Rfc8439A5Seal) {
  EXPECT_EQ(hex(seal_buf(key_of(kA5Key), kA5Counter, kA5Plaintext, kA5Aad)),
            hex(concat(kA5Ciphertext, kA5Tag)));
}

// Section 2.8.2's nonce does not start with zeros, so only libsodium itself can take it; this pins the
// library and the vector, and the next test ties our wrapper to the same call.
TEST(Aead, Rfc8439Section282ThroughLibsodium) {
  Buf ct(kRfc282Plaintext.size());
  std::array<std::uint8_t, kTagSize> tag{};
  ASSERT_EQ(crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                ct.data(), tag.data(), nullptr, kRfc282Plaintext.data(), kRfc282Plaintext.size(),
                kRfc282Aad.data(), kRfc282Aad.size(), nullptr, kRfc282Nonce.data(), kRfc282Key.data()),
            0);
  EXPECT_EQ(hex(ct), hex(kRfc282Ciphertext));
  EXPECT_EQ(hex(tag), hex(kRfc282Tag));
}

TEST(Aead, SealMatchesLibsodiumWithCounterNonce) {
  std::mt19937_64 rng(0x5eed);
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t counter = i == 0 ? 0 : i == 1 ? ~0ULL : rng();
    const Key key = random_key();
    Buf pt(rng() % 300);
    random_bytes(pt);
    Buf ad(rng() % 40);
    random_bytes(ad);
    const auto nonce = nonce_for_counter(counter);
    Buf want(pt.size() + kTagSize);
    unsigned long long len = 0;
    ASSERT_EQ(crypto_aead_chacha20poly1305_ietf_encrypt(want.data(), &len, pt.data(), pt.size(), ad.data(),
                                                        ad.size(), nullptr, nonce.data(), key.data()),
              0);
    ASSERT_EQ(len, want.size());
    EXPECT_EQ(hex(seal_buf(key, counter, pt, ad)), hex(want)) << "counter " << counter;
    Buf back(pt.size());
    EXPECT_TRUE(open(back, key, counter, want, ad));
    EXPECT_EQ(hex(back), hex(pt));
  }
}

TEST(Aead, EmptyPlaintextIsJustATag) {
  const Key key = key_of(kRfc282Key);
  const Buf sealed = seal_buf(key, 7, {}, kRfc282Aad);
  ASSERT_EQ(sealed.size(), kTagSize);
  Buf out;
  EXPECT_TRUE(open(out, key, 7, sealed, kRfc282Aad));
  EXPECT_FALSE(open(out, key, 8, sealed, kRfc282Aad));
}

TEST(Aead, OpenRejectsEverySingleBitFlip) {
  const Key key = key_of(kA5Key);
  const Buf pt = as_buf("a short packet that spans more than one sixteen-byte Poly1305 block");
  const Buf sealed = seal_buf(key, 42, pt, kA5Aad);
  for (std::size_t byte = 0; byte < sealed.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Buf bad = sealed;
      bad[byte] ^= static_cast<std::uint8_t>(1u << bit);
      Buf out(pt.size(), 0xaa);
      ASSERT_FALSE(open(out, key, 42, bad, kA5Aad)) << "byte " << byte << " bit " << bit;
      ASSERT_EQ(hex(out), hex(Buf(pt.size(), 0))) << "plaintext left behind after a failed open";
    }
  }
}

TEST(Aead, OpenRejectsWrongKeyCounterOrAd) {
  const Key key = key_of(kA5Key);
  const Buf sealed = seal_buf(key, kA5Counter, kA5Plaintext, kA5Aad);
  Buf out(kA5Plaintext.size());
  ASSERT_TRUE(open(out, key, kA5Counter, sealed, kA5Aad));

  Buf other_key = kA5Key;
  other_key[31] ^= 0x80;
  EXPECT_FALSE(open(out, key_of(other_key), kA5Counter, sealed, kA5Aad));
  EXPECT_FALSE(open(out, key, kA5Counter + 1, sealed, kA5Aad));
  EXPECT_FALSE(open(out, key, kA5Counter ^ (1ULL << 63), sealed, kA5Aad));
  Buf ad = kA5Aad;
  ad[0] ^= 1;
  EXPECT_FALSE(open(out, key, kA5Counter, sealed, ad));
  EXPECT_FALSE(open(out, key, kA5Counter, sealed, {}));
  Buf longer_ad = concat(kA5Aad, Buf{0});
  EXPECT_FALSE(open(out, key, kA5Counter, sealed, longer_ad));
}

TEST(Aead, OpenRejectsBadLengths) {
  const Key key = key_of(kA5Key);
  const Buf sealed = seal_buf(key, 1, as_buf("0123456789"), {});
  Buf out_short(9), out_long(11);
  EXPECT_FALSE(open(out_short, key, 1, sealed, {}));
  EXPECT_FALSE(open(out_long, key, 1, sealed, {}));
  Buf out;
  EXPECT_FALSE(open(out, key, 1, Buf(kTagSize - 1, 0), {}));
  // A truncated message fails authentication even with a matching output size.
  Buf truncated(sealed.begin(), sealed.end() - 1);
  Buf out9(9);
  EXPECT_FALSE(open(out9, key, 1, truncated, {}));
}

TEST(Aead, InPlaceSealAndOpen) {
  const Key key = key_of(kA5Key);
  const Buf want = concat(kA5Ciphertext, kA5Tag);
  Buf buf = kA5Plaintext;
  buf.resize(buf.size() + kTagSize);
  const std::span<std::uint8_t> all(buf);
  seal(all, key, kA5Counter, all.first(kA5Plaintext.size()), kA5Aad);
  EXPECT_EQ(hex(buf), hex(want));
  ASSERT_TRUE(open(all.first(kA5Plaintext.size()), key, kA5Counter, all, kA5Aad));
  EXPECT_EQ(hex(all.first(kA5Plaintext.size())), hex(kA5Plaintext));
}

TEST(Aead, InPlaceOpenFailureLeavesNoPlaintext) {
  const Key key = key_of(kA5Key);
  Buf buf = concat(kA5Ciphertext, kA5Tag);
  buf.back() ^= 1;
  const std::span<std::uint8_t> all(buf);
  EXPECT_FALSE(open(all.first(kA5Ciphertext.size()), key, kA5Counter, all, kA5Aad));
  // aead.h promises a zeroed output on failure; in place that is the ciphertext's bytes.
  EXPECT_EQ(hex(all.first(kA5Ciphertext.size())), hex(Buf(kA5Ciphertext.size(), 0)));
}

// draft-irtf-cfrg-xchacha-03 Appendix A.3.1: the 2.8.2 key, AAD and plaintext with a 24-byte nonce.
const Buf kXNonce = from_hex("404142434445464748494a4b4c4d4e4f5051525354555657");
const Buf kXCiphertext = from_hex(
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e");
const Buf kXTag = from_hex("c0875924c1c7987947deafd8780acf49");

std::span<const std::uint8_t, 32> key32(const Buf& b) {
  return std::span<const std::uint8_t, 32>(b.data(), 32);
}
std::span<const std::uint8_t, kXNonceSize> nonce24(const Buf& b) {
  return std::span<const std::uint8_t, kXNonceSize>(b.data(), kXNonceSize);
}

TEST(XAead, DraftXChaChaA31Seal) {
  Buf out(kRfc282Plaintext.size() + kTagSize);
  xseal(out, key32(kRfc282Key), nonce24(kXNonce), kRfc282Plaintext, kRfc282Aad);
  EXPECT_EQ(hex(out), hex(concat(kXCiphertext, kXTag)));
}

TEST(XAead, DraftXChaChaA31Open) {
  Buf out(kRfc282Plaintext.size());
  ASSERT_TRUE(xopen(out, key32(kRfc282Key), nonce24(kXNonce), concat(kXCiphertext, kXTag), kRfc282Aad));
  EXPECT_EQ(hex(out), hex(kRfc282Plaintext));
}

TEST(XAead, RandomRoundTrip) {
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    Buf key(32), nonce(kXNonceSize), pt(rng() % 100), ad(rng() % 40);
    random_bytes(key);
    random_bytes(nonce);
    random_bytes(pt);
    random_bytes(ad);
    Buf sealed(pt.size() + kTagSize);
    xseal(sealed, key32(key), nonce24(nonce), pt, ad);
    Buf back(pt.size());
    ASSERT_TRUE(xopen(back, key32(key), nonce24(nonce), sealed, ad));
    EXPECT_EQ(hex(back), hex(pt));
  }
}

TEST(XAead, RejectsTampering) {
  // A cookie reply's shape: a 16-byte cookie sealed with mac1 as the associated data.
  const Buf pt = from_hex("00112233445566778899aabbccddeeff");
  const Buf ad = from_hex("0f0e0d0c0b0a09080706050403020100");
  Buf sealed(pt.size() + kTagSize);
  xseal(sealed, key32(kRfc282Key), nonce24(kXNonce), pt, ad);
  Buf out(pt.size());
  ASSERT_TRUE(xopen(out, key32(kRfc282Key), nonce24(kXNonce), sealed, ad));
  for (std::size_t byte = 0; byte < sealed.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Buf bad = sealed;
      bad[byte] ^= static_cast<std::uint8_t>(1u << bit);
      ASSERT_FALSE(xopen(out, key32(kRfc282Key), nonce24(kXNonce), bad, ad)) << byte << "/" << bit;
    }
  }
  // Nonce bytes 0..15 feed HChaCha20 (the subkey), bytes 16..23 the inner ChaCha20 nonce: both halves count.
  for (std::size_t i : {std::size_t{0}, std::size_t{15}, std::size_t{16}, kXNonceSize - 1}) {
    Buf nonce = kXNonce;
    nonce[i] ^= 1;
    EXPECT_FALSE(xopen(out, key32(kRfc282Key), nonce24(nonce), sealed, ad)) << "nonce byte " << i;
  }
  Buf bad_ad = ad;
  bad_ad[15] ^= 0x80;
  EXPECT_FALSE(xopen(out, key32(kRfc282Key), nonce24(kXNonce), sealed, bad_ad));
  Buf bad_key = kRfc282Key;
  bad_key[0] ^= 1;
  EXPECT_FALSE(xopen(out, key32(bad_key), nonce24(kXNonce), sealed, ad));
  Buf wrong_size(pt.size() + 1);
  EXPECT_FALSE(xopen(wrong_size, key32(kRfc282Key), nonce24(kXNonce), sealed, ad));
}

}  // namespace
}  // namespace wg::crypto
