// Every batch AEAD engine against libsodium's one-packet AEAD with an empty AD (lib/crypto/aead.h, and directly in
// the test packets of aead_test_packet.h):
// RFC 8439 A.5's ciphertext (the keystream does not depend on the AD, the tag does), randomized batches
// over every payload length 0..1500 at random alignments, single-bit flips rejected without disturbing
// the rest of the batch and with the rejected payload zeroed, mixed valid and forged batches, keepalives,
// spans longer than kMaxBatch, no writes outside a job's payload and tag, and no allocation in seal/open.
#include "lib/crypto/aead_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "lib/crypto/aead.h"
#include "lib/crypto/cpu_features.h"
#include "lib/crypto/engine_ipsecmb.h"
#include "lib/crypto/engine_simd.h"
#include "lib/crypto/engine_sodium.h"
#include "tests/lib/crypto/aead_test_packet.h"
#include "tests/lib/hex.h"

// Counts heap allocations while a test asks for it: seal/open run per burst on the data path and must not
// allocate. Replacing the global operators is why this file is its own executable.
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_allocations{0};
void* counted_alloc(std::size_t n, std::size_t align) {
  if (g_count_allocations.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n)
                                                : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, std::size_t(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

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

constexpr std::uint32_t kMaxLen = 1500;

class AeadBatchTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "avx512" && !cpu_has_avx512_ifma()) {
      GTEST_SKIP() << "this CPU has no AVX-512 F/VL/BW/IFMA: avx512 not tested";
    }
    auto engine = make_engine(GetParam());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    ASSERT_EQ(std::string(engine_->name()), GetParam());
  }
  // aead_batch.h: a failed open leaves no plaintext: zeros, or for the cross-packet engines ("simd",
  // "avx512") the ciphertext untouched (which engine_simd_test.cc checks byte for byte); under "auto",
  // whichever engine opens the packet's size class.
  void expect_zeroed(TestPacket& p) {
    const std::string_view engine = engine_->engine_for(AeadOp::kOpen, size_class(p.len()));
    if (engine == "simd" || engine == "avx512") return;
    EXPECT_TRUE(same(p.payload(), Buf(p.len(), 0))) << "a rejected payload must be zeroed";
  }

  std::unique_ptr<AeadBatchEngine> engine_;
};

// RFC 8439 Appendix A.5 (nonce 00000000 0102030405060708 = our counter 0x0807060504030201). The vector has
// an AD and our engines take none, so its ciphertext must match exactly and its tag is the reference's.
TEST_P(AeadBatchTest, Rfc8439A5CiphertextWithoutAd) {
  const Buf key = from_hex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
  constexpr std::uint64_t kCounter = 0x0807060504030201;
  const std::string text =
      "Internet-Drafts are draft documents valid for a maximum of six months and may be updated, replaced, "
      "or obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as reference "
      "material or to cite them other than as /\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
  const Buf plaintext(text.begin(), text.end());
  const std::string ciphertext_hex =
      "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0"
      "bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
      "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9"
      "9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
      "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130"
      "305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b";
  ASSERT_EQ(plaintext.size(), 265u);
  Buf want(plaintext.size() + kTagSize);
  seal(want, Key(std::span<const std::uint8_t, 32>(key.data(), 32)), kCounter, plaintext, {});
  ASSERT_EQ(hex(std::span(want).first(plaintext.size())), ciphertext_hex);

  Buf buf = plaintext;
  buf.resize(plaintext.size() + kTagSize);
  AeadJob job{key.data(), kCounter, buf.data(), 265, buf.data() + 265, false};
  EXPECT_EQ(engine_->seal({&job, 1}), 0u);
  EXPECT_TRUE(job.ok);
  EXPECT_EQ(hex(buf), hex(want));
  job.ok = false;
  EXPECT_EQ(engine_->open({&job, 1}), 0u);
  EXPECT_TRUE(job.ok);
  EXPECT_EQ(hex(std::span(buf).first(265)), hex(plaintext));
}

// Every length 0..kMaxLen three times, shuffled into random batches of 1..128 with random keys, counters
// and alignments: sealed bytes equal the reference's, open restores the plaintext, nothing else is written.
TEST_P(AeadBatchTest, MatchesReferenceInRandomBatches) {
  std::mt19937_64 rng(0xba7c4);
  std::vector<std::uint32_t> lengths;
  for (int round = 0; round < 3; ++round) {
    for (std::uint32_t len = 0; len <= kMaxLen; ++len) lengths.push_back(len);
  }
  std::shuffle(lengths.begin(), lengths.end(), rng);
  std::size_t checked = 0;
  for (std::size_t start = 0; start < lengths.size();) {
    const std::size_t n = std::min<std::size_t>(1 + rng() % 128, lengths.size() - start);
    std::vector<TestPacket> packets;
    for (std::size_t i = 0; i < n; ++i) packets.emplace_back(rng, lengths[start + i]);
    ASSERT_TRUE(seal_open_round_trip(*engine_, packets));
    checked += n;
    start += n;
  }
  EXPECT_EQ(checked, 3u * (kMaxLen + 1));
}

// One victim per batch gets a single bit flipped, at every bit of a sample of byte positions (all of the
// tag, both ends of the ciphertext, block edges, random bytes); only the victim fails.
TEST_P(AeadBatchTest, SingleBitFlipRejectsOnlyThatJob) {
  std::mt19937_64 rng(0xf11b);
  for (std::uint32_t victim_len : {0u, 1u, 15u, 16u, 17u, 64u, 255u, 1420u}) {
    std::vector<TestPacket> packets;
    for (int i = 0; i < 8; ++i) packets.emplace_back(rng, i == 3 ? victim_len : rng() % (kMaxLen + 1));
    TestPacket& victim = packets[3];
    std::vector<std::size_t> positions;
    for (std::size_t i = 0; i < kTagSize; ++i) positions.push_back(victim_len + i);
    if (victim_len > 0) {
      // Both ends, and either side of the first ChaCha20/Poly1305 block boundary.
      for (std::size_t pos : {0u, 15u, 16u, victim_len - 1}) {
        if (pos < victim_len) positions.push_back(pos);
      }
      for (int i = 0; i < 8; ++i) positions.push_back(rng() % victim_len);
    }
    for (std::size_t pos : positions) {
      for (int bit = 0; bit < 8; ++bit) {
        for (auto& p : packets) p.load_sealed();
        victim.with_tag()[pos] ^= static_cast<std::uint8_t>(1u << bit);
        std::vector<AeadJob> jobs = jobs_for(packets);
        ASSERT_EQ(engine_->open(jobs), 1u) << "len " << victim_len << " byte " << pos << " bit " << bit;
        for (std::size_t i = 0; i < packets.size(); ++i) {
          ASSERT_EQ(jobs[i].ok, i != 3) << "job " << i;
          if (i != 3) {
            ASSERT_TRUE(same(packets[i].payload(), packets[i].plaintext()));
          }
          ASSERT_TRUE(packets[i].guards_intact());
        }
        expect_zeroed(victim);
      }
    }
  }
}

// Random batches where about a third of the jobs are forged in one of several ways.
TEST_P(AeadBatchTest, MixedValidAndForgedBatches) {
  std::mt19937_64 rng(0x3a1ed);
  for (int round = 0; round < 200; ++round) {
    const std::size_t n = 1 + rng() % 128;
    std::vector<TestPacket> packets;
    for (std::size_t i = 0; i < n; ++i) packets.emplace_back(rng, rng() % (kMaxLen + 1));
    std::vector<AeadJob> jobs = jobs_for(packets);
    std::vector<bool> forged(n);
    std::array<std::uint8_t, 32> other_key{};
    fill_random(rng, other_key);
    for (std::size_t i = 0; i < n; ++i) {
      TestPacket& p = packets[i];
      p.load_sealed();
      forged[i] = rng() % 3 == 0;
      if (forged[i]) {
        switch (rng() % 4) {
          case 0: p.with_tag()[rng() % p.with_tag().size()] ^= std::uint8_t(1u << (rng() % 8)); break;
          case 1: jobs[i].counter += 1; break;
          case 2: jobs[i].key = other_key.data(); break;
          default: std::fill(jobs[i].tag, jobs[i].tag + kTagSize, 0); break;
        }
      }
    }
    const auto n_forged = static_cast<std::size_t>(std::count(forged.begin(), forged.end(), true));
    ASSERT_EQ(engine_->open(jobs), n_forged) << "round " << round;
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(jobs[i].ok, !forged[i]) << "round " << round << " job " << i;
      if (forged[i]) {
        expect_zeroed(packets[i]);
      } else {
        ASSERT_TRUE(same(packets[i].payload(), packets[i].plaintext()));
      }
      ASSERT_TRUE(packets[i].guards_intact());
    }
  }
}

// A keepalive is a bare tag; the dataplane may hand it over without a payload pointer.
TEST_P(AeadBatchTest, KeepaliveWithoutPayloadPointer) {
  std::array<std::uint8_t, 32> key{};
  key[0] = 1;
  Buf want(kTagSize);
  seal(want, Key(std::span<const std::uint8_t, 32>(key)), 9, {}, {});
  std::array<std::uint8_t, kTagSize> tag{};
  AeadJob job{key.data(), 9, nullptr, 0, tag.data(), false};
  EXPECT_EQ(engine_->seal({&job, 1}), 0u);
  EXPECT_EQ(hex(tag), hex(want));
  EXPECT_EQ(engine_->open({&job, 1}), 0u);
  EXPECT_TRUE(job.ok);
  tag[kTagSize - 1] ^= 0x80;
  EXPECT_EQ(engine_->open({&job, 1}), 1u);
  EXPECT_FALSE(job.ok);
}

TEST_P(AeadBatchTest, EmptySpanIsANoOp) {
  EXPECT_EQ(engine_->seal({}), 0u);
  EXPECT_EQ(engine_->open({}), 0u);
}

// Spans beyond kMaxBatch are processed in chunks; a forgery near each chunk edge stays confined to its job.
TEST_P(AeadBatchTest, SpansLongerThanMaxBatch) {
  std::mt19937_64 rng(0xc4c4);
  const std::size_t n = 2 * kMaxBatch + 77;
  std::vector<TestPacket> packets;
  for (std::size_t i = 0; i < n; ++i) packets.emplace_back(rng, rng() % 200);
  std::vector<AeadJob> jobs = jobs_for(packets);
  ASSERT_EQ(engine_->seal(jobs), 0u);
  for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(same(packets[i].with_tag(), packets[i].reference())) << i;
  const std::vector<std::size_t> bad = {kMaxBatch - 1, kMaxBatch, 2 * kMaxBatch, n - 1};
  for (std::size_t i : bad) jobs[i].tag[0] ^= 1;
  ASSERT_EQ(engine_->open(jobs), bad.size());
  for (std::size_t i = 0; i < n; ++i) {
    const bool is_bad = std::find(bad.begin(), bad.end(), i) != bad.end();
    ASSERT_EQ(jobs[i].ok, !is_bad) << i;
    if (is_bad) {
      expect_zeroed(packets[i]);
    } else {
      ASSERT_TRUE(same(packets[i].payload(), packets[i].plaintext())) << i;
    }
  }
}

TEST_P(AeadBatchTest, SealAndOpenDoNotAllocate) {
  std::mt19937_64 rng(0xa110c);
  std::vector<TestPacket> packets;
  // No keepalives here: the second open below relies on every payload having changed under its tag.
  for (std::size_t i = 0; i < kMaxBatch + 10; ++i) packets.emplace_back(rng, 1 + rng() % kMaxLen);
  std::vector<AeadJob> jobs = jobs_for(packets);
  g_allocations = 0;
  g_count_allocations = true;
  const std::size_t sealed_failures = engine_->seal(jobs);
  jobs[5].tag[3] ^= 4;  // a forgery too: the failure path must not allocate either
  const std::size_t opened_failures = engine_->open(jobs);
  const std::size_t reopened_failures = engine_->open(jobs);  // now plaintext: every job fails
  g_count_allocations = false;
  EXPECT_EQ(g_allocations.load(), 0);
  EXPECT_EQ(sealed_failures, 0u);
  EXPECT_EQ(opened_failures, 1u);
  EXPECT_EQ(reopened_failures, jobs.size());
}

INSTANTIATE_TEST_SUITE_P(Engines, AeadBatchTest, ::testing::Values("sodium", "ipsec-mb", "simd", "avx512", "auto"),
                         [](const ::testing::TestParamInfo<std::string>& engine) {
                           std::string name = engine.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(MakeEngine, KnownNames) {
  for (const char* name : {"sodium", "ipsec-mb", "simd"}) {
    auto engine = make_engine(name);
    ASSERT_TRUE(engine.ok()) << name << ": " << engine.status();
    EXPECT_EQ(std::string((*engine)->name()), name);
    EXPECT_NE((*engine)->description().find(name), std::string_view::npos) << (*engine)->description();
  }
}

// "auto" measures the engines at startup (engine_auto_test.cc) and names itself "auto"; which engine serves
// each size class depends on the CPU, but "simd" only ever where the CPU has AVX2.
TEST(MakeEngine, AutoIsItsOwnEngine) {
  auto engine = make_engine("auto");
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ(std::string((*engine)->name()), "auto");
  EXPECT_EQ((*engine)->description().rfind("auto (", 0), 0u) << (*engine)->description();
  for (AeadOp op : {AeadOp::kSeal, AeadOp::kOpen}) {
    for (SizeClass c : {SizeClass::kSmall, SizeClass::kMedium, SizeClass::kLarge, SizeClass::kXLarge}) {
      if (!cpu_has_avx2()) {
        EXPECT_NE(std::string((*engine)->engine_for(op, c)), "simd");
      }
    }
  }
}

TEST(MakeEngine, UnknownNamesAreRefused) {
  for (const char* name : {"", "Sodium", "ipsecmb", "openssl"}) {
    auto engine = make_engine(name);
    ASSERT_FALSE(engine.ok()) << name;
    EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

// Engines are independent instances (one per worker lcore) and interoperate byte for byte.
TEST(MakeEngine, EnginesInteroperate) {
  auto sodium = make_sodium_engine();
  auto ipsec = make_ipsecmb_engine();
  ASSERT_TRUE(ipsec.ok()) << ipsec.status();
  std::mt19937_64 rng(0x1e7);
  std::vector<TestPacket> packets;
  for (int i = 0; i < 64; ++i) packets.emplace_back(rng, rng() % (kMaxLen + 1));
  std::vector<AeadJob> jobs = jobs_for(packets);
  ASSERT_EQ(sodium->seal(jobs), 0u);
  ASSERT_EQ((*ipsec)->open(jobs), 0u);
  ASSERT_EQ((*ipsec)->seal(jobs), 0u);
  ASSERT_EQ(sodium->open(jobs), 0u);
  for (auto& p : packets) EXPECT_EQ(hex(p.payload()), hex(p.plaintext()));
}

}  // namespace
}  // namespace wg::crypto
