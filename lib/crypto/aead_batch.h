// Batch ChaCha20-Poly1305 for transport data (WireGuard paper, section 5.4.6): the data path hands a whole
// burst of packets to an engine at once, so an engine can keep its vector units busy across packets. Every
// engine computes exactly what crypto::seal/open (lib/crypto/aead.h) compute with an empty AD, and never
// leaves unauthenticated plaintext in a rejected payload; they differ only in speed
// (perf/crypto/aead_batch_bench.cc).
//
// Engines: "simd" (our own cross-packet AVX2 engine, engine_simd.h), "ipsec-mb" (Intel IPsec-MB,
// engine_ipsecmb.h), "sodium" (libsodium, one packet at a time, engine_sodium.h; the reference).
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

class AeadBatchEngine {
 public:
  virtual ~AeadBatchEngine() = default;

  // The name make_engine() takes ("simd", "ipsec-mb", "sodium").
  virtual const char* name() const = 0;
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

// "auto" (simd where the CPU has AVX2 and its self-check passes, else IPsec-MB if this CPU and library can
// run it, else libsodium), "simd" (an error without AVX2), "ipsec-mb", "sodium". Unknown names are an
// InvalidArgument error.
[[nodiscard]] absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_engine(std::string_view name);

}  // namespace wg::crypto
