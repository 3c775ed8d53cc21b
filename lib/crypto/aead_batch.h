// Batch ChaCha20-Poly1305 for transport data (WireGuard paper, section 5.4.6): the data path hands a whole
// burst of packets to an engine at once, so an engine can keep its vector units busy across packets. Every
// engine computes exactly what crypto::seal/open (lib/crypto/aead.h) compute with an empty AD, and never
// leaves unauthenticated plaintext in a rejected payload; they differ only in speed
// (perf/crypto/aead_batch_bench.cc).
//
// Engines: "simd" (our own cross-packet AVX2 engine, engine_simd.h), "avx512" (cross-packet AVX-512 + IFMA,
// engine_avx512.h, issue 13), "ipsec-mb" (Intel IPsec-MB, engine_ipsecmb.h), "sodium" (libsodium, one packet
// at a time, engine_sodium.h; the reference), and "auto" (engine_auto.h): no code of its own, it times every
// engine this CPU runs once per process and hands each packet of a burst to the engine measured fastest for
// its size class, per operation (which engine wins depends on the CPU and the size: on a Zen 5, avx512
// everywhere; without it, simd for small packets and IPsec-MB for large ones).
//
// Thread rule: an engine instance is used by one thread only (it owns per-instance scratch and, for
// IPsec-MB, a job manager). The dataplane creates one engine per worker lcore, on that lcore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/crypto/aead.h"  // kTagSize

namespace wg::crypto {

// Engines process longer spans in chunks of this many jobs; per-instance scratch is sized for it.
inline constexpr std::size_t kMaxBatch = 256;

// One transport payload, processed in place. The nonce is WireGuard's: 4 zero bytes then the 64-bit
// little-endian counter; there is no AD.
struct AeadJob {
  const std::uint8_t* key;  // 32 bytes; jobs in one batch may use different keys
  std::uint64_t counter;
  std::uint8_t* data;       // seal: plaintext in, ciphertext out; open: ciphertext in, plaintext out
  std::uint32_t len;        // payload bytes without the tag; 0 is a keepalive
  std::uint8_t* tag;        // kTagSize bytes, normally data + len: written by seal, checked by open
  bool ok;                  // set by the engine: open, the tag verified; seal, the job was processed
};

// Payload size classes, each with its own engine per operation under "auto". The bounds are where engines
// trade places (32-packet bursts on an AMD Zen 5 with AVX-512, perf/crypto/aead_batch_bench.cc): simd costs
// little per packet plus ~0.6 ns/B, IPsec-MB ~190 ns per packet plus ~0.3 ns/B, so they cross near 400 B
// sealing and near 650 B opening; a burst of 512 B packets seals faster on IPsec-MB and opens faster on
// simd. Small is where the per-packet setup dominates (ACKs, keepalives). Each size of the benchmark falls
// in a class with one winner per operation there, so "auto" can match the best engine at each.
enum class SizeClass : std::uint8_t { kSmall, kMedium, kLarge, kXLarge };
inline constexpr std::size_t kSizeClassCount = 4;
// The largest payload of each class but the last.
inline constexpr std::uint32_t kSizeClassMaxBytes[kSizeClassCount - 1] = {128, 384, 640};

constexpr SizeClass size_class(std::uint32_t len) {
  std::size_t c = 0;
  while (c < kSizeClassCount - 1 && len > kSizeClassMaxBytes[c]) ++c;
  return static_cast<SizeClass>(c);
}
// "small", "medium", "large", "xlarge": the `class` label of wggate_crypto_engine_info.
constexpr std::string_view to_string(SizeClass c) {
  constexpr std::string_view kNames[kSizeClassCount] = {"small", "medium", "large", "xlarge"};
  return kNames[static_cast<std::size_t>(c)];
}

enum class AeadOp : std::uint8_t { kSeal, kOpen };
inline constexpr std::size_t kAeadOpCount = 2;
// "seal", "open": the `op` label of wggate_crypto_engine_info.
constexpr std::string_view to_string(AeadOp op) { return op == AeadOp::kSeal ? "seal" : "open"; }

class AeadBatchEngine {
 public:
  virtual ~AeadBatchEngine() = default;

  // The name make_engine() takes ("simd", "avx512", "ipsec-mb", "sodium", "auto").
  virtual const char* name() const = 0;
  // The name of the engine that runs `op` on payloads of class `c`: name() itself, except under "auto".
  virtual const char* engine_for(AeadOp op, SizeClass c) const {
    (void)op, (void)c;
    return name();
  }
  // For the startup log: the name plus the library version and the code path chosen for this CPU.
  virtual std::string_view description() const = 0;

  // Both set every job's `ok` and return how many jobs ended with ok == false, so the caller can skip a
  // per-packet scan when the count is 0. Neither allocates, locks, logs or throws: they run per burst.
  //
  // seal: encrypts data[0, len) in place and writes the tag. Fails only on engine-internal errors.
  virtual std::size_t seal(std::span<AeadJob> jobs) = 0;
  // open: decrypts data[0, len) in place when the tag verifies (compared in constant time). Untrusted input
  // is never asserted on; a bad tag just means ok == false for that job and no other. When ok == false no
  // unauthenticated plaintext survives: data[0, len) holds the ciphertext as received ("simd" checks the
  // tag before it writes any plaintext) or zeros (the others); callers must rely on neither, only drop
  // the packet and release nothing of it.
  virtual std::size_t open(std::span<AeadJob> jobs) = 0;
};

// "auto" (engine_auto.h: the first call in a process measures every engine this CPU runs, a few
// milliseconds; later calls reuse that choice), "simd" (an error without AVX2), "avx512" (an error without
// AVX-512 IFMA), "ipsec-mb", "sodium". Unknown names are an InvalidArgument error.
[[nodiscard]] absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_engine(std::string_view name);

}  // namespace wg::crypto
