// The AVX-512 ChaCha20 keystream kernel (lib/crypto/chacha20_avx512.h). Known answers (RFC 8439 2.3.2, 2.4.2,
// 2.6.2); randomized differential tests against libsodium's crypto_stream_chacha20_ietf_xor_ic over many
// random calls of 1..300 streams (lengths 0..2000 with the block and group edges drawn often, own key per
// stream or a shared one, random counters), each stream in its own buffer between guard bytes that must stay
// untouched; counters that wrap from 2^32 - 1 to 0 (the AVX2 kernel's rule: word 12 wraps, the nonce stays)
// against libsodium run in two pieces; and the AVX-512 and AVX2 kernels byte-identical on the same calls.
// Every test skips, with a message, on a CPU without AVX-512 F/VL/BW/IFMA.
#include "lib/crypto/chacha20_avx512.h"

#include <gtest/gtest.h>
#include <sodium/core.h>
#include <sodium/crypto_stream_chacha20.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "lib/crypto/chacha20_avx2.h"
#include "lib/crypto/cpu_features.h"
#include "tests/lib/hex.h"

namespace wg::crypto {
namespace {

using Buf = std::vector<std::uint8_t>;
using wg::testing::from_hex;
using wg::testing::hex;

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr int kRandomCalls = 300;
#else
constexpr int kRandomCalls = 2000;
#endif
constexpr std::size_t kGuard = 64;  // a whole block each side: an unmasked 64-byte store would hit it
constexpr std::uint8_t kGuardByte = 0xa5;
constexpr std::uint32_t kMaxLen = 2000;
// Lengths around block (64), uniform group (1024) and padding edges, and WireGuard's MTU payloads.
constexpr std::array<std::uint32_t, 22> kEdgeLengths = {0,   1,   15,  16,  31,   32,   33,   63,   64,   65,   127,
                                                        128, 129, 960, 1023, 1024, 1025, 1087, 1088, 1420, 1424, 2000};

// Every test starts here: CI machines without AVX-512 skip visibly instead of faulting on the first zmm
// instruction.
#define SKIP_WITHOUT_AVX512()                                                               \
  do {                                                                                      \
    if (!cpu_has_avx512_ifma()) GTEST_SKIP() << "this CPU has no AVX-512 (F/VL/BW/IFMA)"; \
  } while (0)

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

void fill_random(std::mt19937_64& rng, Buf& b) {
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
}

// One stream's target: kGuard guard bytes, the data at a random misalignment, kGuard guard bytes.
struct Target {
  Buf key = Buf(32);
  Buf nonce = Buf(12);
  std::uint32_t counter = 0;
  std::uint32_t offset = 0;  // misalignment 0..63 of the data after the leading guard
  std::uint32_t len = 0;
  Buf storage;
  Buf plain;

  std::uint8_t* data() { return storage.data() + kGuard + offset; }
  simd::ChachaStream stream() {
    return {key.data(), counter, {le32(&nonce[0]), le32(&nonce[4]), le32(&nonce[8])}, data(), len};
  }
  // libsodium's keystream XORed into the plaintext. A run that crosses counter 2^32 - 1 goes in two pieces,
  // the second from counter 0 with the same nonce: the kernels' rule (libsodium itself refuses such a run).
  Buf expected() const {
    Buf want = plain;
    const std::uint64_t blocks_before_wrap = (std::uint64_t{1} << 32) - counter;
    const std::uint64_t first = std::min<std::uint64_t>(len, blocks_before_wrap * 64);
    if (first > 0) {
      crypto_stream_chacha20_ietf_xor_ic(want.data(), want.data(), first, nonce.data(), counter, key.data());
    }
    if (len > first) {
      crypto_stream_chacha20_ietf_xor_ic(want.data() + first, want.data() + first, len - first, nonce.data(), 0,
                                         key.data());
    }
    return want;
  }
  // Data equal to want and every guard byte intact.
  ::testing::AssertionResult check(const Buf& want) const {
    for (std::size_t i = 0; i < storage.size(); ++i) {
      const bool inside = i >= kGuard + offset && i < kGuard + offset + len;
      if (!inside && storage[i] != kGuardByte) {
        return ::testing::AssertionFailure() << "guard byte " << i << " of " << storage.size() << " written";
      }
    }
    const std::uint8_t* d = storage.data() + kGuard + offset;
    if (std::equal(d, d + len, want.begin(), want.end())) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "data differs: " << hex(Buf(d, d + len)) << " != " << hex(want);
  }
};

Target make_target(std::mt19937_64& rng, std::uint32_t len, const Buf* shared_key, std::uint32_t counter) {
  Target t;
  if (shared_key != nullptr) {
    t.key = *shared_key;
  } else {
    fill_random(rng, t.key);
  }
  fill_random(rng, t.nonce);
  t.counter = counter;
  t.offset = static_cast<std::uint32_t>(rng() % 64);
  t.len = len;
  t.plain.resize(len);
  fill_random(rng, t.plain);
  t.storage.assign(kGuard + t.offset + len + kGuard, kGuardByte);
  std::copy(t.plain.begin(), t.plain.end(), t.data());
  return t;
}

std::uint32_t random_length(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return kEdgeLengths[rng() % kEdgeLengths.size()];
    case 1: return static_cast<std::uint32_t>(rng() % 129);  // keepalives, ACKs, block 0 slots
    default: return static_cast<std::uint32_t>(rng() % (kMaxLen + 1));
  }
}

// Mostly small, sometimes anywhere, sometimes a few blocks short of the wrap (or right at it).
std::uint32_t random_counter(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: return static_cast<std::uint32_t>(0xffffffffULL - rng() % 40);
    case 1: return static_cast<std::uint32_t>(rng());
    default: return static_cast<std::uint32_t>(rng() % 4);
  }
}

std::vector<simd::ChachaStream> streams_of(std::vector<Target>& targets) {
  std::vector<simd::ChachaStream> streams;
  for (auto& t : targets) streams.push_back(t.stream());
  return streams;
}

const Buf kRfcKey = from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

simd::ChachaStream stream(const Buf& key, const Buf& nonce, std::uint32_t counter, Buf& data) {
  return {key.data(), counter, {le32(&nonce[0]), le32(&nonce[4]), le32(&nonce[8])}, data.data(),
          static_cast<std::uint32_t>(data.size())};
}

// --- Known answers (RFC 8439) --------------------------------------------------------------------------------

TEST(ChachaAvx512, BlockFunctionRfc8439_2_3_2) {
  SKIP_WITHOUT_AVX512();
  Buf out(64, 0);  // keystream XORed into zeros is the serialized block
  const auto s = stream(kRfcKey, from_hex("000000090000004a00000000"), 1, out);
  simd::chacha20_xor_streams_avx512(&s, 1);
  EXPECT_EQ(hex(out),
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}

TEST(ChachaAvx512, EncryptionRfc8439_2_4_2) {
  SKIP_WITHOUT_AVX512();
  const std::string text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen "
      "would be it.";
  Buf data(text.begin(), text.end());
  const auto s = stream(kRfcKey, from_hex("000000000000004a00000000"), 1, data);
  simd::chacha20_xor_streams_avx512(&s, 1);
  EXPECT_EQ(hex(data),
            "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b357"
            "1639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
            "5af90bbf74a35be6b40b8eedf2785e42874d");
}

// Block 0 under WireGuard's nonce layout: how the engine keys Poly1305.
TEST(ChachaAvx512, Poly1305KeyGenerationRfc8439_2_6_2) {
  SKIP_WITHOUT_AVX512();
  const Buf key = from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  Buf out(32, 0);
  const auto s = stream(key, from_hex("000000000001020304050607"), 0, out);
  simd::chacha20_xor_streams_avx512(&s, 1);
  EXPECT_EQ(hex(out), "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646");
}

// --- Against libsodium -----------------------------------------------------------------------------------------

// Every length 0..kMaxLen once, in one call with own keys: each length in every lane position and next to
// every other kind of lane, the uniform 16-block path, and every partial-block mask.
TEST(ChachaAvx512, EveryLengthInOneCallMatchesLibsodium) {
  SKIP_WITHOUT_AVX512();
  ASSERT_GE(sodium_init(), 0);
  std::mt19937_64 rng(0xa512);
  std::vector<Target> targets;
  for (std::uint32_t len = 0; len <= kMaxLen; ++len) targets.push_back(make_target(rng, len, nullptr, rng() % 1000));
  auto streams = streams_of(targets);
  simd::chacha20_xor_streams_avx512(streams.data(), streams.size());
  for (auto& t : targets) ASSERT_TRUE(t.check(t.expected())) << "len " << t.len;
}

// kRandomCalls calls of 1..300 streams: random lengths (edges often), keys shared across the call or own per
// stream (or a mix: the one-key broadcast and the key transpose), random counters including wraps.
TEST(ChachaAvx512, RandomCallsMatchLibsodium) {
  SKIP_WITHOUT_AVX512();
  ASSERT_GE(sodium_init(), 0);
  std::mt19937_64 rng(0x5eed512);
  std::size_t streams_total = 0, bytes_total = 0;
  for (int call = 0; call < kRandomCalls; ++call) {
    const std::size_t n = 1 + rng() % (call % 3 == 0 ? 300 : 40);
    Buf shared(32);
    fill_random(rng, shared);
    const int key_mode = static_cast<int>(rng() % 3);  // 0 one key, 1 own keys, 2 mixed
    std::vector<Target> targets;
    for (std::size_t i = 0; i < n; ++i) {
      const bool use_shared = key_mode == 0 || (key_mode == 2 && rng() % 2 == 0);
      targets.push_back(make_target(rng, random_length(rng), use_shared ? &shared : nullptr, random_counter(rng)));
      bytes_total += targets.back().len;
    }
    streams_total += n;
    auto streams = streams_of(targets);
    simd::chacha20_xor_streams_avx512(streams.data(), streams.size());
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(targets[i].check(targets[i].expected()))
          << "call " << call << " stream " << i << " of " << n << " len " << targets[i].len << " counter "
          << targets[i].counter;
    }
  }
  std::printf("%zu streams, %zu bytes in %d calls\n", streams_total, bytes_total, kRandomCalls);
}

// The engine's pattern: per packet a 32-byte block-0 slot, then the payload from block 1, counters near the
// 32-bit boundary of WireGuard's nonce words. Same key across the burst, as one peer's burst has.
TEST(ChachaAvx512, EngineBurstPatternMatchesLibsodium) {
  SKIP_WITHOUT_AVX512();
  ASSERT_GE(sodium_init(), 0);
  std::mt19937_64 rng(0xb0057);
  for (const std::uint32_t payload : {0u, 1u, 64u, 576u, 1420u, 1424u}) {
    Buf key(32);
    fill_random(rng, key);
    std::vector<Target> targets;
    for (int p = 0; p < 32; ++p) targets.push_back(make_target(rng, 32, &key, 0));
    for (int p = 0; p < 32; ++p) {
      targets.push_back(make_target(rng, payload, &key, 1));
      targets.back().nonce = targets[p].nonce;
    }
    auto streams = streams_of(targets);
    simd::chacha20_xor_streams_avx512(streams.data(), streams.size());
    for (auto& t : targets) ASSERT_TRUE(t.check(t.expected())) << "payload " << payload << " len " << t.len;
  }
}

// Runs across the wrap: word 12 goes 2^32 - 1 -> 0 and the nonce words stay, inside a uniform 16-block group,
// inside a mixed group, and at its last block.
TEST(ChachaAvx512, CounterWrapsWithoutCarry) {
  SKIP_WITHOUT_AVX512();
  ASSERT_GE(sodium_init(), 0);
  std::mt19937_64 rng(0x3a9);
  for (std::uint32_t back = 1; back <= 40; ++back) {
    for (const std::uint32_t len : {64u, 65u, 200u, 1024u, 1100u, 2000u}) {
      std::vector<Target> targets;
      targets.push_back(make_target(rng, 3 * back, nullptr, 5));  // shifts the wrapping one's lanes
      targets.push_back(make_target(rng, len, nullptr, static_cast<std::uint32_t>(0x100000000ULL - back)));
      auto streams = streams_of(targets);
      simd::chacha20_xor_streams_avx512(streams.data(), streams.size());
      for (auto& t : targets) ASSERT_TRUE(t.check(t.expected())) << "back " << back << " len " << len;
    }
  }
}

// --- Against the AVX2 kernel -----------------------------------------------------------------------------------

// The same random calls through both kernels: byte-identical targets (wraps included), guards intact.
TEST(ChachaAvx512, MatchesAvx2Kernel) {
  SKIP_WITHOUT_AVX512();
  ASSERT_TRUE(cpu_has_avx2());
  std::mt19937_64 rng(0xa2a5);
  for (int call = 0; call < kRandomCalls / 2; ++call) {
    const std::size_t n = 1 + rng() % 300;
    std::vector<Target> a;
    for (std::size_t i = 0; i < n; ++i) a.push_back(make_target(rng, random_length(rng), nullptr, random_counter(rng)));
    std::vector<Target> b = a;
    auto sa = streams_of(a);
    auto sb = streams_of(b);
    simd::chacha20_xor_streams_avx512(sa.data(), sa.size());
    simd::chacha20_xor_streams_avx2(sb.data(), sb.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* d = b[i].data();
      ASSERT_TRUE(a[i].check(Buf(d, d + b[i].len))) << "call " << call << " stream " << i;
    }
  }
}

// Zero-length streams (with null data) anywhere in a call are skipped, and a call of none does nothing.
TEST(ChachaAvx512, EmptyStreamsAndCalls) {
  SKIP_WITHOUT_AVX512();
  ASSERT_GE(sodium_init(), 0);
  simd::chacha20_xor_streams_avx512(nullptr, 0);
  std::mt19937_64 rng(0xe);
  std::vector<Target> targets;
  for (int i = 0; i < 40; ++i) targets.push_back(make_target(rng, i % 3 == 0 ? 0 : 64 * (i % 5) + 7, nullptr, 9));
  auto streams = streams_of(targets);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].len == 0) streams[i].data = nullptr;
  }
  simd::chacha20_xor_streams_avx512(streams.data(), streams.size());
  for (auto& t : targets) ASSERT_TRUE(t.check(t.expected())) << "len " << t.len;
}

}  // namespace
}  // namespace wg::crypto
