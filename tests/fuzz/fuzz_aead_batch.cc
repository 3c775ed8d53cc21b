// fuzz_aead_batch: our cross-packet batch engines, "simd" (AVX2, lib/crypto/engine_simd.h) and "avx512" (where
// the CPU has AVX-512 IFMA, lib/crypto/engine_avx512.h), against the libsodium engine, over batch composition.
// Which engines ran is printed once at start (an AVX2-only machine fuzzes simd alone). The input is read as a list of packets, 5 bytes each (a short tail is ignored), at most 64:
//   bytes 0-1  payload length, little-endian, modulo 1501 (0..1500)
//   byte 2     bits 0-1: which of 4 fixed keys (a batch mixes keys); bits 2-7: counter selector (below)
//   bytes 3-4  tamper: 0 = none; else bit (value - 1) modulo the packet's (len + 16) * 8 bits is flipped
//              after sealing, in the ciphertext or the tag
// Counter: selector 0 -> 0, 1 -> 2^32 - 1, 2 -> 2^32, 3 -> 2^64 - 1, else selector * 0x0123456789abcdef.
// Plaintext bytes depend only on the packet's position and offset. Asserts: seal gives byte-identical
// ciphertext and tag in every engine; open (after tampering) accepts exactly the untampered packets in every
// engine, the accepted ones decrypt to the plaintext, and a rejected one's buffer is exactly the (tampered)
// ciphertext and tag our engine was given: no plaintext of a forgery is ever written.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "lib/crypto/aead_batch.h"
#include "lib/crypto/engine_avx512.h"
#include "lib/crypto/engine_simd.h"
#include "lib/crypto/engine_sodium.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace wg;

constexpr std::size_t kPacketBytes = 5;
constexpr std::size_t kMaxPackets = 64;
constexpr std::uint32_t kMaxLen = 1500;

struct Engines {
  std::vector<std::unique_ptr<crypto::AeadBatchEngine>> ours;
  std::unique_ptr<crypto::AeadBatchEngine> sodium;
  std::array<std::array<std::uint8_t, 32>, 4> keys{};
  Engines() {
    fuzz::setup();
    auto engine = crypto::make_simd_engine();
    FUZZ_CHECK(engine.ok());  // the fuzz machines have AVX2; without it there is nothing to test
    ours.push_back(*std::move(engine));
    if (crypto::cpu_has_avx512_ifma()) {
      auto avx512 = crypto::make_avx512_engine();
      FUZZ_CHECK(avx512.ok());  // the CPU runs it, so it must pass its own cross-check
      ours.push_back(*std::move(avx512));
    }
    std::fprintf(stderr, "fuzz_aead_batch: engines %s%s against sodium%s\n", ours[0]->name(),
                 ours.size() > 1 ? " and avx512" : "",
                 ours.size() > 1 ? "" : " (this CPU has no AVX-512 IFMA: avx512 not fuzzed)");
    sodium = crypto::make_sodium_engine();
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const crypto::Key key = fuzz::fixed_key(static_cast<std::uint8_t>(40 + k));
      std::memcpy(keys[k].data(), key.data(), 32);
    }
  }
};

Engines& engines() {
  static Engines e;
  return e;
}

std::uint64_t counter_for(std::uint8_t selector) {
  switch (selector) {
    case 0: return 0;
    case 1: return 0xffffffffULL;
    case 2: return 0x100000000ULL;
    case 3: return ~0ULL;
    default: return selector * 0x0123456789abcdefULL;
  }
}

struct Packet {
  std::uint32_t len;
  std::uint8_t key;
  std::uint64_t counter;
  std::uint32_t tamper;  // 0: none; else 1 + bit index
};

// Each packet's payload and tag, back to back; one copy per engine.
struct Batch {
  std::vector<std::uint8_t> bytes;
  std::vector<crypto::AeadJob> jobs;
  Batch(const std::vector<Packet>& packets, Engines& e) {
    std::size_t total = 0;
    for (const Packet& p : packets) total += p.len + crypto::kTagSize;
    bytes.resize(total);
    std::size_t at = 0;
    for (std::size_t i = 0; i < packets.size(); ++i) {
      const Packet& p = packets[i];
      for (std::uint32_t j = 0; j < p.len; ++j) bytes[at + j] = static_cast<std::uint8_t>(j * 13 + i * 101);
      std::uint8_t* data = bytes.data() + at;
      jobs.push_back({e.keys[p.key].data(), p.counter, data, p.len, data + p.len, false});
      at += p.len + crypto::kTagSize;
    }
  }
};

// One engine against libsodium on the batch `packets` describes (see the top of this file for what must hold).
void check_engine(crypto::AeadBatchEngine& engine, const std::vector<Packet>& packets, Engines& e) {
  Batch ours(packets, e);
  Batch ref(packets, e);
  const std::vector<std::uint8_t> plaintext = ours.bytes;
  FUZZ_CHECK(engine.seal(ours.jobs) == 0);
  FUZZ_CHECK(e.sodium->seal(ref.jobs) == 0);
  FUZZ_CHECK(ours.bytes == ref.bytes);

  std::size_t tampered = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (packets[i].tamper == 0) continue;
    const std::uint32_t bit = packets[i].tamper - 1;
    // Payload and tag are contiguous here, so the bit index runs over both.
    ours.jobs[i].data[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ref.jobs[i].data[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ++tampered;
  }
  const std::vector<std::uint8_t> received = ours.bytes;
  FUZZ_CHECK(engine.open(ours.jobs) == tampered);
  FUZZ_CHECK(e.sodium->open(ref.jobs) == tampered);
  std::size_t at = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const bool forged = packets[i].tamper != 0;
    FUZZ_CHECK(ours.jobs[i].ok == !forged);
    FUZZ_CHECK(ref.jobs[i].ok == !forged);
    const std::size_t len = packets[i].len;
    if (forged) {
      FUZZ_CHECK(std::memcmp(ours.bytes.data() + at, received.data() + at, len + crypto::kTagSize) == 0);
    } else {
      FUZZ_CHECK(std::memcmp(ours.bytes.data() + at, plaintext.data() + at, len) == 0);
    }
    at += len + crypto::kTagSize;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::write_seeds_if_asked([] {
    fuzz::Seeds seeds;
    // One packet per length class, no tampering; then the same with tampering; then a keepalive burst.
    fuzz::Bytes clean, forged, keepalives;
    const std::uint16_t lens[] = {0, 1, 15, 16, 17, 63, 64, 65, 128, 576, 1420, 1500};
    for (std::size_t i = 0; i < std::size(lens); ++i) {
      const std::uint8_t p[5] = {static_cast<std::uint8_t>(lens[i]), static_cast<std::uint8_t>(lens[i] >> 8),
                                 static_cast<std::uint8_t>(i | (i << 2)), 0, 0};
      clean.insert(clean.end(), p, p + 5);
      const std::uint8_t q[5] = {p[0], p[1], p[2], static_cast<std::uint8_t>(i * 37 + 1), 0};
      forged.insert(forged.end(), q, q + 5);
    }
    for (int i = 0; i < 32; ++i) keepalives.insert(keepalives.end(), {0, 0, static_cast<std::uint8_t>(i), 0, 0});
    seeds.push_back(clean);
    seeds.push_back(forged);
    seeds.push_back(keepalives);
    return seeds;
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_run();
  Engines& e = engines();
  std::vector<Packet> packets;
  for (std::size_t at = 0; at + kPacketBytes <= size && packets.size() < kMaxPackets; at += kPacketBytes) {
    const std::uint8_t* f = data + at;
    Packet p{};
    p.len = (std::uint32_t(f[0]) | std::uint32_t(f[1]) << 8) % (kMaxLen + 1);
    p.key = f[2] & 3;
    p.counter = counter_for(f[2] >> 2);
    const std::uint32_t t = std::uint32_t(f[3]) | std::uint32_t(f[4]) << 8;
    p.tamper = t == 0 ? 0 : 1 + (t - 1) % ((p.len + crypto::kTagSize) * 8);
    packets.push_back(p);
  }
  if (packets.empty()) return 0;

  for (auto& engine : e.ours) check_engine(*engine, packets, e);
  return 0;
}
