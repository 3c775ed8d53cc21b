// The cross-packet engines, "simd" (lib/crypto/engine_simd.h) and "avx512" (engine_avx512.h, skipped with a
// message on CPUs without AVX-512 IFMA), and the AVX2 pieces. Known answers: the ChaCha20 block function
// (RFC 8439 2.3.2), ChaCha20 encryption (2.4.2), Poly1305 (2.5.2) and Poly1305 key generation (2.6.2), each
// through the functions the engine itself uses; the AEAD through libsodium's
// crypto_aead_chacha20poly1305_ietf with WireGuard's nonce and no AD (RFC 8439 2.8.2 has an AD and another
// nonce layout, so it is covered by its pieces). Randomized differential tests against libsodium: at least
// 100,000 packets (release; fewer under sanitizers) in random batches of 1..128 with mixed keys, random
// counters and every length 0..1500, byte-identical in place; every single-bit flip of ciphertext or tag
// rejected with the buffer untouched; batches mixing forgeries and valid packets; seal/open round trips.
#include "lib/crypto/engine_simd.h"

#include <gtest/gtest.h>
#include <sodium/core.h>
#include <sodium/crypto_aead_chacha20poly1305.h>
#include <sodium/crypto_onetimeauth_poly1305.h>
#include <sodium/crypto_stream_chacha20.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lib/crypto/aead_batch.h"
#include "lib/crypto/chacha20_avx2.h"
#include "lib/crypto/chacha20_avx512.h"
#include "lib/crypto/poly1305.h"
#include "tests/lib/crypto/aead_test_packet.h"
#include "tests/lib/hex.h"

namespace wg::crypto {
namespace {

using wg::testing::from_hex;
using wg::testing::hex;
using testing::Buf;
using testing::fill_random;
using testing::jobs_for;
using testing::same;
using testing::seal_open_round_trip;
using testing::TestPacket;
using testing::wg_nonce;

// Sanitizer builds run unoptimized, instrumented code: fewer random packets there (CI time), the full count in
// release. Every length 0..kMaxLen is covered in both.
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr std::size_t kDifferentialPackets = 20'000;
constexpr int kRandomFlipRounds = 300;
constexpr int kMixedRounds = 100;
#else
constexpr std::size_t kDifferentialPackets = 120'000;
constexpr int kRandomFlipRounds = 3000;
constexpr int kMixedRounds = 300;
#endif
constexpr std::uint32_t kMaxLen = 1500;
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

simd::ChachaStream stream(const Buf& key, const Buf& nonce, std::uint32_t counter, Buf& data) {
  return {key.data(), counter, {le32(&nonce[0]), le32(&nonce[4]), le32(&nonce[8])}, data.data(),
          static_cast<std::uint32_t>(data.size())};
}

// --- Known answers (RFC 8439) --------------------------------------------------------------------------------

const Buf kRfcKey = from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

TEST(SimdPieces, ChachaBlockFunctionRfc8439_2_3_2) {
  Buf out(64, 0);  // keystream XORed into zeros is the serialized block
  const auto s = stream(kRfcKey, from_hex("000000090000004a00000000"), 1, out);
  simd::chacha20_xor_streams_avx2(&s, 1);
  EXPECT_EQ(hex(out),
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}

TEST(SimdPieces, ChachaEncryptionRfc8439_2_4_2) {
  const std::string text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen "
      "would be it.";
  Buf data(text.begin(), text.end());
  const auto s = stream(kRfcKey, from_hex("000000000000004a00000000"), 1, data);
  simd::chacha20_xor_streams_avx2(&s, 1);
  EXPECT_EQ(hex(data),
            "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b357"
            "1639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
            "5af90bbf74a35be6b40b8eedf2785e42874d");
}

TEST(SimdPieces, Poly1305Rfc8439_2_5_2) {
  const Buf key = from_hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const std::string msg = "Cryptographic Forum Research Group";
  std::array<std::uint8_t, 16> tag{};
  simd::poly1305(key.data(), reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(), tag.data());
  EXPECT_EQ(hex(tag), "a8061dc1305136c6c22b8baf0c0127a9");
}

// The nonce here is WireGuard's layout (counter 0x0706050403020100), and block 0 is how the engine keys
// Poly1305.
TEST(SimdPieces, Poly1305KeyGenerationRfc8439_2_6_2) {
  const Buf key = from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  Buf out(32, 0);
  const auto s = stream(key, from_hex("000000000001020304050607"), 0, out);
  simd::chacha20_xor_streams_avx2(&s, 1);
  EXPECT_EQ(hex(out), "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646");
}

// Many streams of every length 0..300 in one call, random keys, nonces and starting counters: the lanes mix
// streams and the partial last blocks, against libsodium's ChaCha20.
TEST(SimdPieces, ChachaStreamsMatchLibsodium) {
  ASSERT_GE(sodium_init(), 0);
  std::mt19937_64 rng(0xc4a);
  std::vector<Buf> keys, nonces, data, want;
  std::vector<std::uint32_t> counters;
  for (std::uint32_t len = 0; len <= 300; ++len) {
    keys.emplace_back(32);
    nonces.emplace_back(12);
    data.emplace_back(len);
    fill_random(rng, keys.back());
    fill_random(rng, nonces.back());
    fill_random(rng, data.back());
    counters.push_back(static_cast<std::uint32_t>(rng() % 1000));
    want.push_back(data.back());
    if (len > 0) {
      crypto_stream_chacha20_ietf_xor_ic(want.back().data(), want.back().data(), len, nonces.back().data(),
                                         counters.back(), keys.back().data());
    }
  }
  std::vector<simd::ChachaStream> streams;
  for (std::size_t i = 0; i < data.size(); ++i) streams.push_back(stream(keys[i], nonces[i], counters[i], data[i]));
  simd::chacha20_xor_streams_avx2(streams.data(), streams.size());
  for (std::size_t i = 0; i < data.size(); ++i) ASSERT_TRUE(same(data[i], want[i])) << "len " << i;
}

// Random lengths and keys, and the worst cases for the final reduction (all-ones messages and r), against
// libsodium's Poly1305.
TEST(SimdPieces, Poly1305MatchesLibsodium) {
  std::mt19937_64 rng(0x9017);
  for (int i = 0; i < 2000; ++i) {
    Buf key(32), msg(rng() % 600);
    fill_random(rng, key);
    fill_random(rng, msg);
    if (i % 4 == 1) std::fill(msg.begin(), msg.end(), 0xff);
    if (i % 4 == 2) std::fill(key.begin(), key.begin() + 16, 0xff);
    if (i % 4 == 3) std::fill(key.begin(), key.end(), 0xff);
    std::array<std::uint8_t, 16> got{}, want{};
    simd::poly1305(key.data(), msg.data(), msg.size(), got.data());
    crypto_onetimeauth_poly1305(want.data(), msg.data(), msg.size(), key.data());
    ASSERT_EQ(hex(got), hex(want)) << "round " << i << " len " << msg.size();
  }
}

// --- The engine against libsodium ------------------------------------------------------------------------------


// Counters mostly random, sometimes around the 32-bit boundary (the high nonce word) and at the extremes.
std::uint64_t random_counter(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return 0xffffffffULL + (rng() % 3) - 1;
    case 1: return rng() % 3 == 0 ? ~0ULL : rng() % 1000;
    default: return rng();
  }
}

// The burst tests below run for every cross-packet engine ("simd": AVX2, "avx512": AVX-512 + IFMA, issue 13):
// both promise the same contract. An engine this CPU cannot run is skipped with a message saying so.
class CrossPacketEngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    if (GetParam() == "simd" && !cpu_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2: simd not tested";
    if (GetParam() == "avx512" && !cpu_has_avx512_ifma()) {
      GTEST_SKIP() << "this CPU has no AVX-512 F/VL/BW/IFMA: avx512 not tested";
    }
    auto engine = make_engine(GetParam());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    ASSERT_EQ(std::string(engine_->name()), GetParam());
  }
  std::unique_ptr<AeadBatchEngine> engine_;
};

TEST(SimdEngineFactory, NameDescriptionAndDispatch) {
  auto engine = make_engine("simd");
  if (!cpu_has_avx2()) {
    ASSERT_FALSE(engine.ok());
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kFailedPrecondition);
    return;
  }
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ(std::string((*engine)->name()), "simd");
  EXPECT_EQ((*engine)->description(), "simd avx2 (across packets: ChaCha20 8 lanes, Poly1305 4 lanes)");
}

// At least kDifferentialPackets packets, every length 0..kMaxLen among them, shuffled into random batches of
// 1..128 whose packets draw keys from a small pool (so batches mix keys, and neighbouring lanes often share
// one) or get their own: seal equals libsodium byte for byte, open restores the plaintext, guards intact.
TEST_P(CrossPacketEngineTest, MatchesLibsodiumInRandomBatches) {
  std::mt19937_64 rng(0x5eed51d);
  std::vector<std::uint32_t> lengths;
  for (std::uint32_t len = 0; len <= kMaxLen; ++len) lengths.push_back(len);
  while (lengths.size() < kDifferentialPackets) {
    // Mostly short and MTU-sized payloads, as traffic has them, the rest uniform.
    const std::uint64_t r = rng() % 4;
    lengths.push_back(r == 0 ? rng() % 128 : r == 1 ? 1400 + rng() % 101 : rng() % (kMaxLen + 1));
  }
  std::shuffle(lengths.begin(), lengths.end(), rng);
  std::vector<std::array<std::uint8_t, 32>> key_pool(6);
  for (auto& k : key_pool) fill_random(rng, k);
  std::array<std::uint8_t, 32> own_key{};
  std::size_t checked = 0;
  for (std::size_t start = 0; start < lengths.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 128, lengths.size() - start);
    std::vector<TestPacket> packets;
    packets.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      fill_random(rng, own_key);
      const std::uint8_t* key = rng() % 4 == 0 ? own_key.data() : key_pool[rng() % key_pool.size()].data();
      packets.emplace_back(rng, lengths[start + i], key, random_counter(rng));
    }
    ASSERT_TRUE(seal_open_round_trip(*engine_, packets));
    checked += n;
    start += n;
  }
  EXPECT_GE(checked, kDifferentialPackets);
}

// Uniform bursts (one payload length for every packet, as one flow's full-size packets or a flood of small
// ones bring them) take the MAC's uniform path and the keystream's whole-group path: every length that is a
// multiple of 16 up to 1504, and a few others, in batches of 1..64 with mixed keys.
TEST_P(CrossPacketEngineTest, UniformBurstsMatchLibsodium) {
  std::mt19937_64 rng(0x5eed52e);
  std::vector<std::uint32_t> lengths;
  for (std::uint32_t len = 16; len <= 1504; len += 16) lengths.push_back(len);
  for (std::uint32_t len : {0u, 1u, 63u, 65u, 1419u, 1500u}) lengths.push_back(len);
  std::array<std::uint8_t, 32> key_a{};
  std::array<std::uint8_t, 32> key_b{};
  fill_random(rng, key_a);
  fill_random(rng, key_b);
  for (std::uint32_t len : lengths) {
    const std::size_t n = 1 + rng() % 64;
    std::vector<TestPacket> packets;
    packets.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      packets.emplace_back(rng, len, rng() % 4 == 0 ? key_b.data() : key_a.data(), random_counter(rng));
    }
    ASSERT_TRUE(seal_open_round_trip(*engine_, packets)) << "len " << len << ", " << n << " packets";
  }
}

// Opens `copies` (each a tampered or intact copy of one sealed packet) in one batch and checks that exactly
// the tampered ones fail and keep their bytes, and the intact ones decrypt.
void open_and_check(AeadBatchEngine& engine, std::vector<TestPacket>& copies, const std::vector<bool>& tampered) {
  std::vector<Buf> before;
  for (auto& p : copies) before.emplace_back(p.with_tag().begin(), p.with_tag().end());
  std::vector<AeadJob> jobs = jobs_for(copies);
  const auto n_bad = static_cast<std::size_t>(std::count(tampered.begin(), tampered.end(), true));
  ASSERT_EQ(engine.open(jobs), n_bad);
  for (std::size_t i = 0; i < copies.size(); ++i) {
    ASSERT_EQ(jobs[i].ok, !tampered[i]) << "job " << i << " len " << copies[i].len();
    if (tampered[i]) {
      ASSERT_TRUE(same(copies[i].with_tag(), before[i])) << "a rejected packet's buffer must be untouched";
    } else {
      ASSERT_TRUE(same(copies[i].payload(), copies[i].plaintext()));
    }
    ASSERT_TRUE(copies[i].guards_intact());
  }
}

// Every single-bit flip of ciphertext and tag, for lengths around the block edges and an MTU-sized payload;
// flips go 48 to a batch with two intact copies, so rejections and decryptions share the lanes.
TEST_P(CrossPacketEngineTest, EveryBitFlipIsRejectedAndLeavesTheBuffer) {
  std::mt19937_64 rng(0xb17f11b);
  std::array<std::uint8_t, 32> key{};
  fill_random(rng, key);
  for (std::uint32_t len : {0u, 1u, 15u, 16u, 17u, 64u, 1420u}) {
    const std::uint64_t counter = rng();
    const std::size_t bits = (len + kTagSize) * 8;
    for (std::size_t first = 0; first < bits; first += 48) {
      std::vector<TestPacket> copies;
      std::vector<bool> tampered;
      std::mt19937_64 same_plaintext(len);  // every copy gets the same plaintext
      for (std::size_t bit = first; bit < std::min(bits, first + 48) + 2; ++bit) {
        same_plaintext.seed(len);
        copies.emplace_back(same_plaintext, len, key.data(), counter);
        copies.back().load_sealed();
        const bool flip = bit < std::min(bits, first + 48);
        if (flip) copies.back().with_tag()[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        tampered.push_back(flip);
      }
      std::shuffle(copies.begin(), copies.end(), rng);  // keep `tampered` in step: recompute below
      tampered.clear();
      for (auto& c : copies) tampered.push_back(!std::equal(c.with_tag().begin(), c.with_tag().end(),
                                                            c.reference().begin()));
      ASSERT_NO_FATAL_FAILURE(open_and_check(*engine_, copies, tampered)) << "len " << len << " bit " << first;
    }
  }
}

// Random single-bit flips at random lengths, in random batches with valid packets under other keys.
TEST_P(CrossPacketEngineTest, RandomBitFlipsAtOtherLengths) {
  std::mt19937_64 rng(0xf1195);
  for (int round = 0; round < kRandomFlipRounds / 10; ++round) {
    std::vector<TestPacket> packets;
    std::vector<bool> tampered;
    std::array<std::uint8_t, 32> key{};
    for (int i = 0; i < 20; ++i) {
      fill_random(rng, key);
      packets.emplace_back(rng, rng() % (kMaxLen + 1), key.data(), random_counter(rng));
      TestPacket& p = packets.back();
      p.load_sealed();
      tampered.push_back(i % 2 == 0);
      if (tampered.back()) p.with_tag()[rng() % p.with_tag().size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    }
    ASSERT_NO_FATAL_FAILURE(open_and_check(*engine_, packets, tampered)) << "round " << round;
  }
}

// Random batches where about a third of the packets are forged in one of several ways: a flipped bit, the
// wrong counter, the wrong key, a zeroed tag, a tag moved from another packet.
TEST_P(CrossPacketEngineTest, MixedValidAndForgedBatches) {
  std::mt19937_64 rng(0x3a1ed5);
  std::array<std::uint8_t, 32> key{}, other_key{};
  for (int round = 0; round < kMixedRounds; ++round) {
    const std::size_t n = 1 + rng() % 128;
    fill_random(rng, key);
    fill_random(rng, other_key);
    std::vector<TestPacket> packets;
    packets.reserve(n);
    for (std::size_t i = 0; i < n; ++i) packets.emplace_back(rng, rng() % (kMaxLen + 1), key.data(), rng());
    std::vector<AeadJob> jobs = jobs_for(packets);
    std::vector<bool> forged(n);
    for (std::size_t i = 0; i < n; ++i) {
      TestPacket& p = packets[i];
      p.load_sealed();
      forged[i] = rng() % 3 == 0;
      if (!forged[i]) continue;
      switch (rng() % 5) {
        case 0: p.with_tag()[rng() % p.with_tag().size()] ^= std::uint8_t(1u << (rng() % 8)); break;
        case 1: jobs[i].counter ^= 1ULL << (rng() % 64); break;
        case 2: jobs[i].key = other_key.data(); break;
        case 3: std::fill(jobs[i].tag, jobs[i].tag + kTagSize, 0); break;
        default: std::copy(packets[(i + 1) % n].reference().end() - kTagSize, packets[(i + 1) % n].reference().end(),
                           jobs[i].tag);
                 forged[i] = !std::equal(jobs[i].tag, jobs[i].tag + kTagSize, p.reference().end() - kTagSize);
      }
    }
    std::vector<Buf> before;
    for (auto& p : packets) before.emplace_back(p.with_tag().begin(), p.with_tag().end());
    const auto n_forged = static_cast<std::size_t>(std::count(forged.begin(), forged.end(), true));
    ASSERT_EQ(engine_->open(jobs), n_forged) << "round " << round;
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(jobs[i].ok, !forged[i]) << "round " << round << " job " << i;
      if (forged[i]) {
        ASSERT_TRUE(same(packets[i].with_tag(), before[i])) << "round " << round << " job " << i;
      } else {
        ASSERT_TRUE(same(packets[i].payload(), packets[i].plaintext()));
      }
      ASSERT_TRUE(packets[i].guards_intact());
    }
  }
}

// Seal then open with the engine alone, batches longer than kMaxBatch, keepalives without a payload pointer.
TEST_P(CrossPacketEngineTest, SealThenOpenRoundTrip) {
  std::mt19937_64 rng(0x40d7);
  std::array<std::uint8_t, 32> key{};
  for (std::size_t n : {1ul, 7ul, 32ul, kMaxBatch, kMaxBatch + 1, 2 * kMaxBatch + 77}) {
    fill_random(rng, key);
    std::vector<TestPacket> packets;
    packets.reserve(n);
    for (std::size_t i = 0; i < n; ++i) packets.emplace_back(rng, rng() % (kMaxLen + 1), key.data(), rng());
    std::vector<AeadJob> jobs = jobs_for(packets);
    ASSERT_EQ(engine_->seal(jobs), 0u);
    ASSERT_EQ(engine_->open(jobs), 0u);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(same(packets[i].payload(), packets[i].plaintext())) << n << "/" << i;
      ASSERT_TRUE(packets[i].guards_intact());
    }
  }
  std::array<std::uint8_t, kTagSize> tag{};
  AeadJob keepalive{key.data(), 5, nullptr, 0, tag.data(), false};
  ASSERT_EQ(engine_->seal({&keepalive, 1}), 0u);
  ASSERT_EQ(engine_->open({&keepalive, 1}), 0u);
  tag[7] ^= 2;
  ASSERT_EQ(engine_->open({&keepalive, 1}), 1u);
  EXPECT_FALSE(keepalive.ok);
}

// Whether the dead stack below the caller's frame (what returned calls left there) holds `needle`. The probe
// is not initialised on purpose: the empty asm tells the compiler it was written, so it reads what is there.
[[gnu::noinline, maybe_unused]] bool dead_stack_holds(const std::uint8_t* needle, std::size_t n) {
  std::uint8_t probe[16384];
  asm volatile("" : "=m"(probe));
  for (std::size_t i = 0; i + n <= sizeof probe; ++i) {
    if (std::memcmp(probe + i, needle, n) == 0) return true;
  }
  return false;
}

// The kernels leave keystream and key words in their dead frames; the engine overwrites them before seal and
// open return (engine_simd.cc, sodium_stackzero). Needle: a packet's Poly1305 one-time key (the first 16
// bytes of its block 0 keystream). First the probe is shown to see what a bare kernel call leaves (else it
// could not tell anything), then the engine's calls must leave nothing.
TEST_P(CrossPacketEngineTest, LeavesNoPoly1305KeyOnTheStack) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer lays stack frames out its own way: checked in the release build";
#else
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0xa5 ^ (i * 29));
  const std::uint64_t counter = 0x1122334455667788ULL;
  std::array<std::uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
  std::array<std::uint8_t, 32> poly_key{};
  crypto_stream_chacha20_ietf(poly_key.data(), poly_key.size(), nonce.data(), key.data());

  std::vector<std::uint8_t> block0(64, 0);
  const simd::ChachaStream stream{key.data(), 0, {0, static_cast<std::uint32_t>(counter),
                                                  static_cast<std::uint32_t>(counter >> 32)},
                                  block0.data(), 64};
  if (GetParam() == "avx512") {
    simd::chacha20_xor_streams_avx512(&stream, 1);
  } else {
    simd::chacha20_xor_streams_avx2(&stream, 1);
  }
  ASSERT_EQ(std::memcmp(block0.data(), poly_key.data(), 32), 0);
  // Two forms: the key's first 16 bytes as one lane's keystream (after the output transpose), and its first
  // word in four neighbouring lanes (the state before it: one word of every lane per vector; a lone stream's
  // idle lanes repeat it).
  std::array<std::uint8_t, 16> sliced{};
  for (int l = 0; l < 4; ++l) std::memcpy(sliced.data() + 4 * l, poly_key.data(), 4);
  const auto leftovers = [&] { return dead_stack_holds(poly_key.data(), 16) || dead_stack_holds(sliced.data(), 16); };
  if (!leftovers()) GTEST_SKIP() << "the probe does not see this kernel's dead frames here: nothing to check";
  std::vector<std::uint8_t> payload(64, 0x42);
  std::array<std::uint8_t, 16> tag{};
  AeadJob job{key.data(), counter, payload.data(), 64, tag.data(), false};
  ASSERT_EQ(engine_->seal(std::span(&job, 1)), 0u);
  EXPECT_FALSE(leftovers()) << "seal left a Poly1305 key on the stack";
  ASSERT_EQ(engine_->open(std::span(&job, 1)), 0u);
  EXPECT_FALSE(leftovers()) << "open left a Poly1305 key on the stack";
#endif
}

INSTANTIATE_TEST_SUITE_P(Engines, CrossPacketEngineTest, ::testing::Values("simd", "avx512"),
                         [](const ::testing::TestParamInfo<std::string>& engine) { return engine.param; });

// Says which cross-packet engines this CPU runs, so a log of a green run shows what it covered.
TEST(CrossPacketEngines, WhichRunHere) {
  const bool avx2 = cpu_has_avx2();
  const bool avx512 = cpu_has_avx512_ifma();
  std::printf("cross-packet engines tested on this CPU: %s%s%s\n", avx2 ? "simd" : "",
              avx2 && avx512 ? ", " : "", avx512 ? "avx512" : "");
  if (!avx512) std::printf("avx512: skipped (this CPU has no AVX-512 F/VL/BW/IFMA)\n");
  EXPECT_EQ(make_engine("avx512").ok(), avx512);
  EXPECT_EQ(make_engine("simd").ok(), avx2);
}

}  // namespace
}  // namespace wg::crypto
