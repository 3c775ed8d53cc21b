// Poly1305 across packets with AVX-512 IFMA (lib/crypto/poly1305_avx512.h). Known answers: RFC 8439 2.5.2
// and every Poly1305 vector of appendix A.3 (#5..#11 written to catch reduction and carry bugs: h reaching p,
// carries through every limb, 2^130 wrapping) through the plain batch, alone and as many lanes of one batch.
// Differential tests of the AEAD form against the scalar poly1305_aead_no_ad, libsodium and the AVX2 kernel:
// every batch size 1..300 with lengths 0..2000 and the edges around the 16-byte block and the MTU, uniform
// batches (their own path), and the worst case for the limb bounds (r with every clamp-allowed bit set,
// s = 2^128 - 1, payloads of 0xff: every limb at its largest in every block). Each payload sits in its own
// exact-size allocation (an over-read shows under ASan); tags land between guard bytes, payloads must stay
// as they were. Skipped, with a message, on CPUs without AVX-512 IFMA.
#include "lib/crypto/poly1305_avx512.h"

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

#include "lib/crypto/cpu_features.h"
#include "lib/crypto/poly1305.h"
#include "lib/crypto/poly1305_avx2.h"
#include "tests/lib/hex.h"

namespace wg::crypto::simd {
namespace {

using wg::testing::from_hex;
using wg::testing::hex;
using Buf = std::vector<std::uint8_t>;
using Tag = std::array<std::uint8_t, kPolyTagSize>;

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr std::size_t kMaxBatchSweep = 120;
constexpr int kUniformRounds = 1;
#else
constexpr std::size_t kMaxBatchSweep = 300;
constexpr int kUniformRounds = 3;
#endif
constexpr std::uint32_t kMaxLen = 2000;
constexpr std::uint32_t kEdgeLengths[] = {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1420, 1424};
constexpr std::size_t kGuard = 16;
constexpr std::uint8_t kGuardByte = 0x5a;

class Poly1305Avx512 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu_has_avx512_ifma()) GTEST_SKIP() << "this CPU has no AVX-512 IFMA";
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

Buf bytes_of(const std::string& text) { return Buf(text.begin(), text.end()); }

// The tags of `msgs` under `keys` from the plain batch, as hex.
std::vector<std::string> plain_batch(const std::vector<Buf>& keys, const std::vector<Buf>& msgs) {
  std::vector<Tag> tags(msgs.size());
  std::vector<PolyJob> jobs;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    jobs.push_back({keys[i].data(), msgs[i].data(), msgs[i].size(), tags[i].data()});
  }
  poly1305_batch_avx512(jobs.data(), jobs.size());
  std::vector<std::string> out;
  for (const auto& t : tags) out.push_back(hex(t));
  return out;
}

// --- Known answers (RFC 8439) --------------------------------------------------------------------------------

TEST_F(Poly1305Avx512, Rfc8439_2_5_2) {
  const Buf key = from_hex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const std::string text = "Cryptographic Forum Research Group";
  const Buf msg(text.begin(), text.end());
  // Alone, in a few lanes, with every lane busy, and with lanes refilled more than once.
  for (std::size_t n : {1, 3, 7, 8, 9, 16, 17, 40}) {
    const auto tags = plain_batch(std::vector<Buf>(n, key), std::vector<Buf>(n, msg));
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(tags[i], "a8061dc1305136c6c22b8baf0c0127a9") << n << " jobs, " << i;
  }
}

// Appendix A.3, vectors #1..#11.
TEST_F(Poly1305Avx512, Rfc8439AppendixA3) {
  const std::string ietf_text =
      "Any submission to the IETF intended by the Contributor for publication as all or part of an IETF "
      "Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "
      "\"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as written and "
      "electronic communications made at any time or place, which are addressed to";
  const std::string jabberwocky =
      "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\n"
      "And the mome raths outgrabe.";
  const std::string r1 = "01" + rep("00", 15);
  const std::string r2 = "02" + rep("00", 15);
  const std::string r10 = "01" + rep("00", 7) + "04" + rep("00", 7);
  const std::string zeros16 = rep("00", 16);
  const std::string a10 = "e33594d7505e43b9" + rep("00", 8) + "3394d7505e4379cd01" + rep("00", 7) + zeros16;
  struct Vector {
    std::string key, msg, tag;
  };
  const Vector vectors[] = {
      {rep("00", 32), rep("00", 64), rep("00", 16)},                                                       // 1
      {zeros16 + "36e5f6b5c5e06070f0efca96227a863e", hex(bytes_of(ietf_text)), "36e5f6b5c5e06070f0efca96227a863e"},  // 2
      {"36e5f6b5c5e06070f0efca96227a863e" + zeros16, hex(bytes_of(ietf_text)), "f3477e7cd95417af89a6b8794c310cf0"},  // 3
      {"1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", hex(bytes_of(jabberwocky)),
       "4541669a7eaaee61e708dc7cbcc5eb62"},                                                               // 4
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
  for (int copy = 0; copy < 3; ++copy) {  // 33 jobs: every vector in more than one lane, lanes refilled
    for (const Vector& v : vectors) {
      keys.push_back(from_hex(v.key));
      msgs.push_back(from_hex(v.msg));
      want.push_back(v.tag);
    }
  }
  EXPECT_EQ(plain_batch(keys, msgs), want);
  for (std::size_t i = 0; i < std::size(vectors); ++i) {
    EXPECT_EQ(plain_batch({keys[i]}, {msgs[i]}), std::vector<std::string>{want[i]}) << "vector #" << i + 1;
    // Each vector beside seven copies of the worst-case key and message (other lanes at their limb bounds).
    std::vector<Buf> k8(8, Buf(32, 0xff)), m8(8, Buf(msgs[i].size() + 48, 0xff));
    k8[i % 8] = keys[i];
    m8[i % 8] = msgs[i];
    EXPECT_EQ(plain_batch(k8, m8)[i % 8], want[i]) << "vector #" << i + 1 << " among worst-case lanes";
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

// A length: one of the edges, or any in 0..kMaxLen.
std::uint32_t random_length(std::mt19937_64& rng) {
  if (rng() % 3 == 0) return kEdgeLengths[rng() % std::size(kEdgeLengths)];
  return static_cast<std::uint32_t>(rng() % (kMaxLen + 1));
}

// One job: its payload alone in an allocation of exactly len bytes, its tag between guards.
struct Case {
  Buf key;
  std::unique_ptr<std::uint8_t[]> ct;
  Buf ct_copy;
  std::array<std::uint8_t, kGuard + kPolyTagSize + kGuard> tag_buf;
  std::size_t tag_offset;

  Case(std::mt19937_64& rng, std::uint32_t len, bool worst = false)
      : key(random_key(rng)), ct(new std::uint8_t[len + (len == 0)]), ct_copy(len) {
    fill_random(rng, ct_copy);
    if (worst || rng() % 8 == 0) std::fill(ct_copy.begin(), ct_copy.end(), 0xff);  // m at its largest
    if (!worst && rng() % 16 == 0) std::fill(ct_copy.begin(), ct_copy.end(), 0x00);
    if (worst) std::fill(key.begin(), key.end(), 0xff);  // r with every clamp-allowed bit, s = 2^128 - 1
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

// libsodium's one-time MAC over the AEAD's MAC input for c's payload.
Tag sodium_aead_tag(const Case& c) {
  const Buf input = aead_mac_input(c.ct_copy);
  Tag tag{};
  crypto_onetimeauth_poly1305(tag.data(), input.data(), input.size(), c.key.data());
  return tag;
}

// Runs the AVX-512 AEAD batch over `cases` and checks every tag against the scalar reference and the AVX2
// kernel (and, if `sodium`, libsodium), the guards and the payloads. `what` names the batch in failures.
void check_aead_batch(std::vector<Case>& cases, const std::string& what, bool sodium) {
  std::vector<PolyJob> jobs = jobs_of(cases);
  poly1305_aead_no_ad_batch_avx512(jobs.data(), jobs.size());
  std::vector<Tag> avx2(cases.size());
  std::vector<PolyJob> avx2_jobs = jobs;
  for (std::size_t i = 0; i < cases.size(); ++i) avx2_jobs[i].tag = avx2[i].data();
  poly1305_aead_no_ad_batch_avx2(avx2_jobs.data(), avx2_jobs.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    Tag scalar{};
    poly1305_aead_no_ad(c.key.data(), c.ct_copy.data(), c.ct_copy.size(), scalar.data());
    ASSERT_EQ(hex(c.tag()), hex(scalar)) << what << ", job " << i << ", len " << c.ct_copy.size() << ", key "
                                         << hex(c.key);
    ASSERT_EQ(hex(c.tag()), hex(avx2[i])) << what << ", job " << i << " (AVX2 kernel)";
    if (sodium) {
      ASSERT_EQ(hex(c.tag()), hex(sodium_aead_tag(c))) << what << ", job " << i << " (libsodium)";
    }
    ASSERT_TRUE(c.guards_intact()) << what << ", job " << i;
    ASSERT_TRUE(c.ct_copy.empty() || std::memcmp(c.ct.get(), c.ct_copy.data(), c.ct_copy.size()) == 0);
  }
}

// Every batch size 1..300 once, lengths mixed 0..2000 with the edges.
TEST_F(Poly1305Avx512, AeadMixedBatchesMatchScalarAvx2AndLibsodium) {
  std::mt19937_64 rng(0x1305e1);
  for (std::size_t n = 1; n <= kMaxBatchSweep; ++n) {
    std::vector<Case> cases;
    cases.reserve(n);
    for (std::size_t i = 0; i < n; ++i) cases.emplace_back(rng, random_length(rng));
    check_aead_batch(cases, "mixed batch of " + std::to_string(n), n % 4 == 0);
    if (HasFatalFailure()) return;
  }
}

// Uniform batches take their own path (eight jobs per pass, one shared tail block) when the length is a
// non-zero multiple of 16; other uniform lengths go the general way with every lane finishing together.
// Batches uniform but for one job go the general way too.
TEST_F(Poly1305Avx512, UniformBatchesMatchScalarAndAvx2) {
  std::mt19937_64 rng(0x1305e2);
  for (int round = 0; round < kUniformRounds; ++round) {
    for (std::uint32_t len = 0; len <= kMaxLen; len += (len < 80 ? 1 : 16 + static_cast<std::uint32_t>(rng() % 2))) {
      const std::size_t n = 1 + rng() % 70;
      const bool one_differs = rng() % 4 == 0;
      std::vector<Case> cases;
      cases.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        const bool differs = one_differs && i == n / 2;
        cases.emplace_back(rng, differs ? len + 1 + static_cast<std::uint32_t>(rng() % 16) : len);
      }
      check_aead_batch(cases, "uniform len " + std::to_string(len) + ", " + std::to_string(n) + " jobs" +
                                  (one_differs ? " (one differs)" : ""),
                       false);
      if (HasFatalFailure()) return;
    }
  }
  for (std::uint32_t len : kEdgeLengths) {
    for (std::size_t n : {1, 7, 8, 9, 15, 16, 32, 33, 64}) {
      std::vector<Case> cases;
      cases.reserve(n);
      for (std::size_t i = 0; i < n; ++i) cases.emplace_back(rng, len);
      check_aead_batch(cases, "edge len " + std::to_string(len) + ", " + std::to_string(n) + " jobs", true);
      if (HasFatalFailure()) return;
    }
  }
}

// The limb bounds at their worst: r with every clamp-allowed bit set (the largest r), s = 2^128 - 1 (the
// final addition carries out of bit 128) and payloads of 0xff (the largest blocks), at every length 0..2000,
// in uniform batches (four-block steps from the first block), mixed ones and one at a time.
TEST_F(Poly1305Avx512, WorstCaseKeysAndPayloads) {
  std::mt19937_64 rng(0x1305e3);
  std::vector<Case> mixed;
  mixed.reserve(kMaxLen + 1);
  for (std::uint32_t len = 0; len <= kMaxLen; ++len) {
    std::vector<Case> cases;
    const std::size_t n = len % 5 == 0 ? 8 : 1 + len % 11;
    cases.reserve(n);
    for (std::size_t i = 0; i < n; ++i) cases.emplace_back(rng, len, true);
    check_aead_batch(cases, "worst case, len " + std::to_string(len) + ", " + std::to_string(n) + " jobs", true);
    if (HasFatalFailure()) return;
    mixed.emplace_back(rng, len, true);
  }
  std::shuffle(mixed.begin(), mixed.end(), rng);
  check_aead_batch(mixed, "worst case, all lengths in one batch", true);
  // The plain MAC too (its last partial block has no 2^128 bit; the others do).
  for (std::uint32_t len = 0; len <= 300; ++len) {
    const Buf key(32, 0xff);
    const Buf msg(len, 0xff);
    Tag want{};
    poly1305(key.data(), msg.data(), len, want.data());
    EXPECT_EQ(plain_batch(std::vector<Buf>(9, key), std::vector<Buf>(9, msg))[8], hex(want)) << "len " << len;
  }
}

TEST_F(Poly1305Avx512, PlainMatchesLibsodiumAndAvx2) {
  std::mt19937_64 rng(0x1305e4);
  for (int batch = 0; batch < 200; ++batch) {
    const std::size_t n = 1 + rng() % 100;
    std::vector<Case> cases;
    cases.reserve(n);
    for (std::size_t i = 0; i < n; ++i) cases.emplace_back(rng, random_length(rng));
    std::vector<PolyJob> jobs = jobs_of(cases);
    poly1305_batch_avx512(jobs.data(), jobs.size());
    std::vector<Tag> avx2(n);
    for (std::size_t i = 0; i < n; ++i) jobs[i].tag = avx2[i].data();
    poly1305_batch_avx2(jobs.data(), jobs.size());
    for (std::size_t i = 0; i < n; ++i) {
      Tag sodium{};
      crypto_onetimeauth_poly1305(sodium.data(), cases[i].ct_copy.data(), cases[i].ct_copy.size(),
                                  cases[i].key.data());
      ASSERT_EQ(hex(cases[i].tag()), hex(sodium)) << "batch " << batch << ", len " << cases[i].ct_copy.size();
      ASSERT_EQ(hex(cases[i].tag()), hex(avx2[i])) << "batch " << batch << " (AVX2 kernel)";
      ASSERT_TRUE(cases[i].guards_intact());
    }
  }
}

TEST_F(Poly1305Avx512, EmptyBatch) {
  poly1305_aead_no_ad_batch_avx512(nullptr, 0);
  poly1305_batch_avx512(nullptr, 0);
}

}  // namespace
}  // namespace wg::crypto::simd
