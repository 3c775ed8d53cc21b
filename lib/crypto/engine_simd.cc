// The cross-packet engines ("simd", "avx512"): burst orchestration at baseline flags around a keystream kernel
// and a Poly1305 kernel (see engine_simd.h for the passes). Jobs are processed in chunks of kMaxBatch; per-instance scratch holds one
// Poly1305 key per job slot and the stream descriptors the kernel walks.
#include "lib/crypto/engine_simd.h"

#include <emmintrin.h>  // SSE2: baseline on x86-64
#include <sodium/core.h>
#include <sodium/utils.h>  // sodium_stackzero

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/crypto/aead.h"
#include "lib/crypto/chacha20_avx2.h"
#include "lib/crypto/cpu_features.h"
#include "lib/crypto/poly1305.h"
#include "lib/crypto/poly1305_avx2.h"
#include "lib/crypto/secret.h"

namespace wg::crypto {
namespace {

using simd::ChachaStream;

// WireGuard's nonce (4 zero bytes, then the 64-bit counter little-endian) as ChaCha20 state words 13..15.
ChachaStream stream_for(const AeadJob& job, std::uint32_t block, std::uint8_t* data, std::uint32_t len) {
  return {job.key,
          block,
          {0, static_cast<std::uint32_t>(job.counter), static_cast<std::uint32_t>(job.counter >> 32)},
          data,
          len};
}

// Whether two 16-byte tags are equal, in constant time: the bytes are compared in one vector and folded into
// one mask, so no branch or early exit depends on where they differ; only the verdict (public) is returned.
// Inline rather than a library call to crypto_verify_16 per packet: the calls were about 4% of an open of
// 32 x 64-byte packets.
bool tags_equal(const std::uint8_t* a, const std::uint8_t* b) {
  const __m128i x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)),
                                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
  return _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) == 0xffff;
}

// The kernels leave what they computed in their dead stack frames: ChaCha20 input states (the AVX2 kernel's
// hold the key words), keystream (block 0 of a packet is its Poly1305 key), Poly1305's r powers and
// accumulators. One sodium_stackzero per seal/open call overwrites them (the kernels wipe the vector
// registers themselves). Deepest frames from gcc -fstack-usage, release: avx512 ChaCha20 4.6 KiB + 2 KiB
// below it, avx512 Poly1305 5.8 KiB, AVX2 2.5 KiB; 8 KiB covers them with room. Cost, measured on the Zen 5
// development VM: 63 ns per call, about 5 % of a 32 x 64-byte avx512 burst and 0.7 % of a 32 x 1420-byte one.
constexpr std::size_t kKernelStackBytes = 8192;

class CrossPacketEngine final : public AeadBatchEngine {
 public:
  explicit CrossPacketEngine(const simd::CrossPacketKernels& kernels) : k_(kernels) {}

  const char* name() const override { return k_.name; }
  std::string_view description() const override { return k_.description; }

  std::size_t seal(std::span<AeadJob> jobs) override {
    for (std::size_t i = 0; i < jobs.size(); i += kMaxBatch) {
      seal_chunk(jobs.subspan(i, std::min(kMaxBatch, jobs.size() - i)));
    }
    sodium_stackzero(kKernelStackBytes);
    return 0;
  }

  std::size_t open(std::span<AeadJob> jobs) override {
    std::size_t failed = 0;
    for (std::size_t i = 0; i < jobs.size(); i += kMaxBatch) {
      failed += open_chunk(jobs.subspan(i, std::min(kMaxBatch, jobs.size() - i)));
    }
    sodium_stackzero(kKernelStackBytes);
    return failed;
  }

 private:
  // One pass: every packet's block 0 into its (zeroed) key slot, and its payload from block 1 on. Both kinds
  // of stream go to the kernel together, so even a burst of keepalives fills the lanes. The key blocks go
  // first: then the payloads meet the kernel with fewer lanes pending, and more of a long payload runs as
  // whole eight-block groups of one packet (the kernel's cheaper case).
  void seal_chunk(std::span<AeadJob> jobs) {
    std::size_t ns = 0;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      streams_[ns++] = stream_for(jobs[i], 0, poly_keys_[i].data(), simd::kPolyKeySize);
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].len != 0) streams_[ns++] = stream_for(jobs[i], 1, jobs[i].data, jobs[i].len);
    }
    k_.chacha(streams_.data(), ns);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      poly_jobs_[i] = {poly_keys_[i].data(), jobs[i].data, jobs[i].len, jobs[i].tag};
      jobs[i].ok = true;
    }
    k_.poly(poly_jobs_.data(), jobs.size());
    wipe_keys(jobs.size());
  }

  // Tags first, on the ciphertext; only the payloads of packets that verified are then decrypted.
  std::size_t open_chunk(std::span<AeadJob> jobs) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      streams_[i] = stream_for(jobs[i], 0, poly_keys_[i].data(), simd::kPolyKeySize);
    }
    k_.chacha(streams_.data(), jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      poly_jobs_[i] = {poly_keys_[i].data(), jobs[i].data, jobs[i].len, computed_tags_[i].data()};
    }
    k_.poly(poly_jobs_.data(), jobs.size());
    std::size_t ns = 0;
    std::size_t failed = 0;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      AeadJob& job = jobs[i];
      job.ok = tags_equal(computed_tags_[i].data(), job.tag);
      if (!job.ok) {
        ++failed;
      } else if (job.len != 0) {
        streams_[ns++] = stream_for(job, 1, job.data, job.len);
      }
    }
    wipe_keys(jobs.size());
    k_.chacha(streams_.data(), ns);
    return failed;
  }

  // One-time Poly1305 keys do not outlive the call; the slots must also be zero for the next XOR pass. A
  // plain memset cannot be elided (the next call reads the slots), and unlike sodium_memzero it does not store
  // byte by byte.
  void wipe_keys(std::size_t n) { std::memset(poly_keys_.data(), 0, n * simd::kPolyKeySize); }

  const simd::CrossPacketKernels k_;
  alignas(64) std::array<std::array<std::uint8_t, simd::kPolyKeySize>, kMaxBatch> poly_keys_{};
  alignas(64) std::array<std::array<std::uint8_t, kTagSize>, kMaxBatch> computed_tags_{};
  std::array<ChachaStream, 2 * kMaxBatch> streams_{};
  std::array<simd::PolyJob, kMaxBatch> poly_jobs_{};
};

// A few packets through this engine and through libsodium (lib/crypto/aead.h): lengths around the block
// edges, seal byte for byte, open restores, a flipped tag bit is refused and leaves the ciphertext.
absl::Status cross_check(AeadBatchEngine& engine) {
  constexpr std::uint32_t kLens[] = {0, 1, 63, 64, 65, 100, 300};
  constexpr std::size_t kStride = 320;
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0x80 + i);
  std::array<std::uint8_t, std::size(kLens) * kStride> buf{};
  std::array<std::uint8_t, std::size(kLens) * kStride> want{};
  std::array<AeadJob, std::size(kLens)> jobs{};
  for (std::size_t j = 0; j < std::size(kLens); ++j) {
    std::uint8_t* p = buf.data() + j * kStride;
    for (std::size_t i = 0; i < kLens[j]; ++i) p[i] = static_cast<std::uint8_t>(i * 7 + j);
    const std::uint64_t counter = 0x0807060504030201ULL + j;
    seal(std::span(want).subspan(j * kStride, kLens[j] + kTagSize), Key(key), counter,
         std::span<const std::uint8_t>(p, kLens[j]), {});
    jobs[j] = {key.data(), counter, p, kLens[j], p + kLens[j], false};
  }
  const auto plaintext = buf;
  if (engine.seal(jobs) != 0 || buf != want) {
    return absl::InternalError(absl::StrCat(engine.name(), ": ChaCha20-Poly1305 output differs from libsodium's"));
  }
  const bool opened = engine.open(jobs) == 0;
  for (std::size_t j = 0; j < std::size(kLens); ++j) {
    if (!opened || std::memcmp(buf.data() + j * kStride, plaintext.data() + j * kStride, kLens[j]) != 0) {
      return absl::InternalError(absl::StrCat(engine.name(), ": ChaCha20-Poly1305 does not open what it sealed"));
    }
  }
  buf = want;
  jobs[5].tag[0] ^= 1;
  if (engine.open(jobs) != 1 || jobs[5].ok || std::memcmp(jobs[5].data, want.data() + 5 * kStride, 100) != 0) {
    return absl::InternalError(absl::StrCat(engine.name(), ": ChaCha20-Poly1305 accepted a wrong tag or wrote its payload"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_cross_packet_engine(const simd::CrossPacketKernels& kernels) {
  // The reference in cross_check() needs libsodium initialised (idempotent).
  if (sodium_init() < 0) std::abort();
  auto engine = std::make_unique<CrossPacketEngine>(kernels);
  if (absl::Status s = cross_check(*engine); !s.ok()) return s;
  return engine;
}

absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_simd_engine() {
  if (!cpu_has_avx2()) return absl::FailedPreconditionError("simd: this CPU has no AVX2");
  return make_cross_packet_engine({"simd", "simd avx2 (across packets: ChaCha20 8 lanes, Poly1305 4 lanes)",
                                   simd::chacha20_xor_streams_avx2, simd::poly1305_aead_no_ad_batch_avx2});
}

}  // namespace wg::crypto
