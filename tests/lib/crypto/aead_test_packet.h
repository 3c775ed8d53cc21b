// Test packets for the AEAD batch engines (aead_batch_test.cc, engine_simd_test.cc): each packet lives in its
// own buffer (guard bytes, a random misalignment, payload, tag, guard bytes) beside libsodium's ciphertext and
// tag for it, computed independently of the engine under test (crypto_aead_chacha20poly1305_ietf with
// WireGuard's nonce: 4 zero bytes, then the 64-bit counter little-endian; no AD).
#pragma once

#include <gtest/gtest.h>
#include <sodium/crypto_aead_chacha20poly1305.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "lib/crypto/aead_batch.h"
#include "tests/lib/hex.h"

namespace wg::crypto::testing {

using Buf = std::vector<std::uint8_t>;

inline constexpr std::size_t kGuard = 16;
inline constexpr std::uint8_t kGuardByte = 0x5a;
inline constexpr std::size_t kTestTagSize = 16;

// Byte equality that builds hex strings only on failure: thousands of packets, also under ASan.
inline ::testing::AssertionResult same(std::span<const std::uint8_t> got, std::span<const std::uint8_t> want) {
  if (std::equal(got.begin(), got.end(), want.begin(), want.end())) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << wg::testing::hex(got) << " != " << wg::testing::hex(want);
}

inline void fill_random(std::mt19937_64& rng, std::span<std::uint8_t> out) {
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
}

inline std::array<std::uint8_t, 12> wg_nonce(std::uint64_t counter) {
  std::array<std::uint8_t, 12> n{};
  for (int i = 0; i < 8; ++i) n[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return n;
}

class TestPacket {
 public:
  // A random key and counter.
  TestPacket(std::mt19937_64& rng, std::uint32_t len) : TestPacket(rng, len, nullptr, rng()) {}
  // The given key (32 bytes; null: random) and counter.
  TestPacket(std::mt19937_64& rng, std::uint32_t len, const std::uint8_t* key, std::uint64_t counter)
      : len_(len), offset_(rng() % 32), counter_(counter) {
    if (key != nullptr) {
      std::copy(key, key + 32, key_.begin());
    } else {
      fill_random(rng, key_);
    }
    plain_.resize(len);
    fill_random(rng, plain_);
    storage_.assign(kGuard + offset_ + len + kTestTagSize + kGuard, kGuardByte);
    reference_.resize(len + kTestTagSize);
    const auto nonce = wg_nonce(counter);
    unsigned long long tag_len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(reference_.data(), reference_.data() + len, &tag_len,
                                                       plain_.data(), len, nullptr, 0, nullptr, nonce.data(),
                                                       key_.data());
    load(plain_);
  }

  AeadJob job() { return {key_.data(), counter_, data(), len_, data() + len_, false}; }
  std::uint8_t* data() { return storage_.data() + kGuard + offset_; }
  std::span<std::uint8_t> payload() { return {data(), len_}; }
  // The packet's buffer: payload and tag.
  std::span<std::uint8_t> with_tag() { return {data(), len_ + kTestTagSize}; }
  std::uint32_t len() const { return len_; }
  const Buf& plaintext() const { return plain_; }
  // libsodium's ciphertext and tag.
  const Buf& reference() const { return reference_; }
  void load(std::span<const std::uint8_t> bytes) { std::copy(bytes.begin(), bytes.end(), data()); }
  void load_sealed() { load(reference_); }
  bool guards_intact() const {
    const auto intact = [](auto first, auto last) {
      return std::all_of(first, last, [](std::uint8_t b) { return b == kGuardByte; });
    };
    return intact(storage_.begin(), storage_.begin() + kGuard + offset_) &&
           intact(storage_.end() - kGuard, storage_.end());
  }

 private:
  std::uint32_t len_;
  std::size_t offset_;
  std::uint64_t counter_;
  std::array<std::uint8_t, 32> key_{};
  Buf plain_;
  Buf reference_;
  Buf storage_;
};

inline std::vector<AeadJob> jobs_for(std::vector<TestPacket>& packets) {
  std::vector<AeadJob> jobs;
  for (auto& p : packets) jobs.push_back(p.job());
  return jobs;
}

// Seals every packet in one engine call and compares with libsodium's ciphertext and tag, then opens them
// all in one call and compares with the plaintext; the guard bytes must stay intact throughout.
inline ::testing::AssertionResult seal_open_round_trip(AeadBatchEngine& engine, std::vector<TestPacket>& packets) {
  std::vector<AeadJob> jobs = jobs_for(packets);
  if (engine.seal(jobs) != 0) return ::testing::AssertionFailure() << "seal reported failures";
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (!jobs[i].ok) return ::testing::AssertionFailure() << "seal: job " << i << " not ok";
    if (auto r = same(packets[i].with_tag(), packets[i].reference()); !r) return r << " (seal, len " << packets[i].len() << ")";
    if (!packets[i].guards_intact()) return ::testing::AssertionFailure() << "seal wrote outside job " << i;
    jobs[i].ok = false;
  }
  if (engine.open(jobs) != 0) return ::testing::AssertionFailure() << "open reported failures";
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (!jobs[i].ok) return ::testing::AssertionFailure() << "open: len " << packets[i].len() << " not ok";
    if (auto r = same(packets[i].payload(), packets[i].plaintext()); !r) return r << " (open, len " << packets[i].len() << ")";
    if (!packets[i].guards_intact()) return ::testing::AssertionFailure() << "open wrote outside job " << i;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace wg::crypto::testing
