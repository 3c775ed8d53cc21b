// Poly1305 across packets with AVX2 (lib/crypto/poly1305_avx2.h). Known answers: RFC 8439 2.5.2 and the
// edge cases of appendix A.3 (h reaching p, carries through every limb, 2^130 wrapping) through the plain
// batch, alone and as many lanes of one batch. Randomized differential tests of the AEAD form against
// libsodium's crypto_onetimeauth_poly1305 over pad16(ct) || le64(0) || le64(len) and against the scalar
// poly1305_aead_no_ad: at least 100,000 packets (release; fewer under sanitizers) in random batches of
// 1..128, every length 0..1500, random keys mixed with extreme ones (all 0xff, r clamped to its maximum, s
// all ones, r = 0) and all-0xff or all-zero payloads. Each payload sits in its own exact-size allocation (an
// over-read shows under ASan); tags land between guard bytes, payloads must stay as they were.
#include "lib/crypto/poly1305_avx2.h"

#include <gtest/gtest.h>
#include <sodium/core.h>
#include <sodium/crypto_onetimeauth_poly1305.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lib/crypto/engine_simd.h"
#include "lib/crypto/poly1305.h"
#include "tests/lib/hex.h"

namespace wg::crypto::simd {
namespace {

using wg::testing::from_hex;
using wg::testing::hex;
using Buf = std::vector<std::uint8_t>;

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr std::size_t kDifferentialPackets = 20'000;
constexpr std::size_t kUniformPackets = 8'000;
constexpr std::size_t kPlainPackets = 5'000;
#else
constexpr std::size_t kDifferentialPackets = 120'000;
constexpr std::size_t kUniformPackets = 40'000;
constexpr std::size_t kPlainPackets = 30'000;
#endif
constexpr std::uint32_t kMaxLen = 1500;
constexpr std::size_t kMaxBatch = 128;
constexpr std::size_t kGuard = 16;
constexpr std::uint8_t kGuardByte = 0x5a;

class Poly1305Avx2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu_has_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
    ASSERT_GE(sodium_init(), 0);
  }
};

std::string rep(const char* byte, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += byte;
  return s;
}

void fill_random(std::mt19937_64& rng, std::span<std::uint8_t> out) {
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
}

// The tags of `msgs` under `keys` from the plain batch, as hex.
std::vector<std::string> plain_batch(const std::vector<Buf>& keys, const std::vector<Buf>& msgs) {
  std::vector<std::array<std::uint8_t, kPolyTagSize>> tags(msgs.size());
  std::vector<PolyJob> jobs;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    jobs.push_back({keys[i].data(), msgs[i].data(), msgs[i].size(), tags[i].data()});
  }
  poly1305_batch_avx2(jobs.data(), jobs.size());
  std::vector<std::string> out;
  for (const auto& t : tags) out.push_back(hex(t));
  return out;
}

// --- Known answers (RFC 8439) --------------------------------------------------------------------------------

TEST_F(Poly1305Avx2, Rfc8439_2_5_2) {
  const Buf key = from_hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const std::string text = "Cryptographic Forum Research Group";
  const Buf msg(text.begin(), text.end());
  // Alone, in a few lanes, with every lane busy, and with lanes refilled more than once.
  for (std::size_t n : {1, 3, 4, 8, 9, 17, 40}) {
    const auto tags = plain_batch(std::vector<Buf>(n, key), std::vector<Buf>(n, msg));
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(tags[i], "a8061dc1305136c6c22b8baf0c0127a9") << n << " jobs, " << i;
  }
}

// Appendix A.3 test vectors #5..#11: the ones written to catch reduction and carry bugs.
TEST_F(Poly1305Avx2, Rfc8439AppendixA3EdgeCases) {
  const std::string r1 = "01" + rep("00", 15);
  const std::string r2 = "02" + rep("00", 15);
  const std::string r10 = "01" + rep("00", 7) + "04" + rep("00", 7);
  const std::string zeros16 = rep("00", 16);
  const std::string a10 = "e33594d7505e43b9" + rep("00", 8) + "3394d7505e4379cd01" + rep("00", 7) + zeros16;
  struct Vector {
    std::string key, msg, tag;
  };
  const Vector vectors[] = {
      {r2 + zeros16, rep("ff", 16), "03" + rep("00", 15)},                                                 // 5
      {r2 + rep("ff", 16), "02" + rep("00", 15), "03" + rep("00", 15)},                                    // 6
      {r1 + zeros16, rep("ff", 16) + "f0" + rep("ff", 15) + "11" + rep("00", 15), "05" + rep("00", 15)},  // 7
      {r1 + zeros16, rep("ff", 16) + "fb" + rep("fe", 15) + rep("01", 16), rep("00", 16)},                 // 8
      {r2 + zeros16, "fd" + rep("ff", 15), "fa" + rep("ff", 15)},                                          // 9
      {r10 + zeros16, a10 + "01" + rep("00", 15), "14" + rep("00", 7) + "55" + rep("00", 7)},              // 10
      {r10 + zeros16, a10, "13" + rep("00", 15)},                                                          // 11
  };
  std::vector<Buf> keys, msgs;
  std::vector<std::string> want;
  for (int copy = 0; copy < 3; ++copy) {  // 21 jobs: every vector in more than one lane
    for (const Vector& v : vectors) {
      keys.push_back(from_hex(v.key));
      msgs.push_back(from_hex(v.msg));
      want.push_back(v.tag);
    }
  }
  EXPECT_EQ(plain_batch(keys, msgs), want);
  for (std::size_t i = 0; i < std::size(vectors); ++i) {
    EXPECT_EQ(plain_batch({keys[i]}, {msgs[i]}), std::vector<std::string>{want[i]}) << "vector #" << i + 5;
  }
}

// --- Differential -----------------------------------------------------------------------------------------------

// The AEAD MAC input for an empty AD (RFC 8439 section 2.8): pad16(ct) || le64(0) || le64(len).
Buf aead_mac_input(const Buf& ct) {
  Buf m(ct);
  m.resize((ct.size() + 15) / 16 * 16 + 16, 0);
  for (int i = 0; i < 8; ++i) m[m.size() - 8 + i] = static_cast<std::uint8_t>(std::uint64_t{ct.size()} >> (8 * i));
  return m;
}

// A key that is random, or extreme in r, s or both: the limbs at their largest push every carry.
Buf random_key(std::mt19937_64& rng) {
  Buf key(kPolyKeySize);
  fill_random(rng, key);
  const std::uint64_t kind = rng() % 8;
  if (kind == 0) std::fill(key.begin(), key.end(), 0xff);  // r clamped to its maximum, s = 2^128 - 1
  if (kind == 1) std::fill(key.begin(), key.begin() + 16, 0xff);  // r at its maximum
  if (kind == 2) std::fill(key.begin() + 16, key.end(), 0xff);    // s = 2^128 - 1
  if (kind == 3) std::fill(key.begin(), key.begin() + 16, 0x00);  // r = 0: the tag is s
  return key;
}

// Lengths drawn from shuffled decks of 0..kMaxLen (so every length comes up), one in four short instead.
class Lengths {
 public:
  explicit Lengths(std::mt19937_64& rng) : rng_(rng) {}
  std::uint32_t next() {
    if (rng_() % 4 == 0) return static_cast<std::uint32_t>(rng_() % 100);
    if (deck_.empty()) {
      for (std::uint32_t len = 0; len <= kMaxLen; ++len) deck_.push_back(len);
      std::shuffle(deck_.begin(), deck_.end(), rng_);
    }
    const std::uint32_t len = deck_.back();
    deck_.pop_back();
    seen_[len] = true;
    return len;
  }
  bool all_seen() const { return std::all_of(seen_.begin(), seen_.end(), [](bool b) { return b; }); }

 private:
  std::mt19937_64& rng_;
  std::vector<std::uint32_t> deck_;
  std::array<bool, kMaxLen + 1> seen_{};
};

// One job: its payload alone in an allocation of exactly len bytes, its tag between guards.
struct Case {
  Buf key;
  std::unique_ptr<std::uint8_t[]> ct;
  Buf ct_copy;
  std::array<std::uint8_t, kGuard + kPolyTagSize + kGuard> tag_buf;
  std::size_t tag_offset;

  Case(std::mt19937_64& rng, std::uint32_t len)
      : key(random_key(rng)), ct(new std::uint8_t[len + (len == 0)]), ct_copy(len) {
    fill_random(rng, ct_copy);
    if (rng() % 8 == 0) std::fill(ct_copy.begin(), ct_copy.end(), 0xff);  // m at its largest in every block
    if (rng() % 16 == 0) std::fill(ct_copy.begin(), ct_copy.end(), 0x00);
    if (len != 0) std::memcpy(ct.get(), ct_copy.data(), len);
    tag_buf.fill(kGuardByte);
    tag_offset = kGuard - rng() % 8;  // tags need not be aligned
  }
  PolyJob job() { return {key.data(), ct.get(), ct_copy.size(), tag_buf.data() + tag_offset}; }
  std::span<const std::uint8_t> tag() const { return {tag_buf.data() + tag_offset, kPolyTagSize}; }
  bool guards_intact() const {
    for (std::size_t i = 0; i < tag_buf.size(); ++i) {
      if ((i < tag_offset || i >= tag_offset + kPolyTagSize) && tag_buf[i] != kGuardByte) return false;
    }
    return true;
  }
};

std::vector<PolyJob> jobs_of(std::vector<Case>& cases) {
  std::vector<PolyJob> jobs;
  for (Case& c : cases) jobs.push_back(c.job());
  return jobs;
}

// libsodium's one-time MAC over the AEAD's MAC input for c's payload: the tag the batch must write.
std::array<std::uint8_t, kPolyTagSize> sodium_aead_tag(const Case& c) {
  const Buf input = aead_mac_input(c.ct_copy);
  std::array<std::uint8_t, kPolyTagSize> tag{};
  crypto_onetimeauth_poly1305(tag.data(), input.data(), input.size(), c.key.data());
  return tag;
}

TEST_F(Poly1305Avx2, AeadMatchesLibsodiumAndScalar) {
  std::mt19937_64 rng(0x1305a2);
  Lengths lengths(rng);
  std::size_t packets = 0;
  int batch_no = 0;
  while (packets < kDifferentialPackets || !lengths.all_seen()) {
    const std::size_t n = 1 + rng() % kMaxBatch;
    std::vector<Case> cases;
    cases.reserve(n);
    for (std::size_t i = 0; i < n; ++i) cases.emplace_back(rng, lengths.next());
    std::vector<PolyJob> jobs = jobs_of(cases);
    poly1305_aead_no_ad_batch_avx2(jobs.data(), jobs.size());
    for (std::size_t i = 0; i < n; ++i) {
      const Case& c = cases[i];
      const auto sodium = sodium_aead_tag(c);
      std::array<std::uint8_t, kPolyTagSize> scalar{};
      poly1305_aead_no_ad(c.key.data(), c.ct_copy.data(), c.ct_copy.size(), scalar.data());
      ASSERT_EQ(hex(c.tag()), hex(sodium)) << "batch " << batch_no << " of " << n << ", job " << i << ", len "
                                           << c.ct_copy.size() << ", key " << hex(c.key);
      ASSERT_EQ(hex(c.tag()), hex(scalar)) << "batch " << batch_no << ", job " << i;
      ASSERT_TRUE(c.guards_intact()) << "batch " << batch_no << ", job " << i;
      ASSERT_TRUE(c.ct_copy.empty() || std::memcmp(c.ct.get(), c.ct_copy.data(), c.ct_copy.size()) == 0);
    }
    packets += n;
    ++batch_no;
  }
  EXPECT_GE(packets, kDifferentialPackets);
}

TEST_F(Poly1305Avx2, PlainMatchesLibsodium) {
  std::mt19937_64 rng(0x1305b3);
  Lengths lengths(rng);
  std::size_t packets = 0;
  while (packets < kPlainPackets || !lengths.all_seen()) {
    const std::size_t n = 1 + rng() % kMaxBatch;
    std::vector<Case> cases;
    cases.reserve(n);
    for (std::size_t i = 0; i < n; ++i) cases.emplace_back(rng, lengths.next());
    std::vector<PolyJob> jobs = jobs_of(cases);
    poly1305_batch_avx2(jobs.data(), jobs.size());
    for (std::size_t i = 0; i < n; ++i) {
      std::array<std::uint8_t, kPolyTagSize> sodium{};
      crypto_onetimeauth_poly1305(sodium.data(), cases[i].ct_copy.data(), cases[i].ct_copy.size(),
                                  cases[i].key.data());
      ASSERT_EQ(hex(cases[i].tag()), hex(sodium)) << "len " << cases[i].ct_copy.size();
      ASSERT_TRUE(cases[i].guards_intact());
    }
    packets += n;
  }
}

// Uniform AEAD batches (every payload one non-zero multiple of 16, as WireGuard pads them) take their own
// path: four jobs per pass and one shared tail block. Every such length up to 1504 in random batch sizes
// (remainders of 1..3 jobs go the general way), and batches uniform but for one job (the general way).
TEST_F(Poly1305Avx2, UniformBatchesMatchLibsodium) {
  std::mt19937_64 rng(0x1305d5);
  std::size_t packets = 0;
  while (packets < kUniformPackets) {
    for (std::uint32_t len = 16; len <= 1504; len += 16) {
      const std::size_t n = 1 + rng() % 40;
      const bool one_differs = rng() % 4 == 0;
      std::vector<Case> cases;
      cases.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        const bool differs = one_differs && i == n / 2;
        cases.emplace_back(rng, differs ? len + 1 + static_cast<std::uint32_t>(rng() % 16) : len);
      }
      std::vector<PolyJob> jobs = jobs_of(cases);
      poly1305_aead_no_ad_batch_avx2(jobs.data(), jobs.size());
      for (std::size_t i = 0; i < n; ++i) {
        const Case& c = cases[i];
        ASSERT_EQ(hex(c.tag()), hex(sodium_aead_tag(c))) << "len " << c.ct_copy.size() << ", " << n << " jobs, job " << i
                                             << (one_differs ? " (one differs)" : "");
        ASSERT_TRUE(c.guards_intact()) << "len " << len << ", job " << i;
        ASSERT_EQ(std::memcmp(c.ct.get(), c.ct_copy.data(), c.ct_copy.size()), 0);
      }
      packets += n;
    }
  }
}

// Uniform bursts as the engine sees them (every lane finishing in the same pass), and an empty batch.
TEST_F(Poly1305Avx2, UniformBurstsAndEmptyBatch) {
  std::mt19937_64 rng(0x1305c4);
  for (std::uint32_t len : {0u, 1u, 15u, 16u, 17u, 64u, 1420u}) {
    for (std::size_t n : {1, 4, 7, 8, 32, 33}) {
      std::vector<Case> cases;
      cases.reserve(n);
      for (std::size_t i = 0; i < n; ++i) cases.emplace_back(rng, len);
      std::vector<PolyJob> jobs = jobs_of(cases);
      poly1305_aead_no_ad_batch_avx2(jobs.data(), jobs.size());
      for (std::size_t i = 0; i < n; ++i) {
        std::array<std::uint8_t, kPolyTagSize> scalar{};
        poly1305_aead_no_ad(cases[i].key.data(), cases[i].ct_copy.data(), len, scalar.data());
        ASSERT_EQ(hex(cases[i].tag()), hex(scalar)) << "len " << len << ", " << n << " jobs, job " << i;
      }
    }
  }
  poly1305_aead_no_ad_batch_avx2(nullptr, 0);
  poly1305_batch_avx2(nullptr, 0);
}

}  // namespace
}  // namespace wg::crypto::simd
