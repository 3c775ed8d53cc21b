// The cross-packet batch engines: "simd" (issue 6, AVX2) here, and "avx512" (issue 13, engine_avx512.h)
// built from the same orchestration with AVX-512 kernels. ChaCha20-Poly1305 for a whole burst with the ChaCha20 lanes running
// across packets (chacha20_avx2.h: eight (packet, block) pairs per AVX2 register set, including each packet's
// block 0 that yields its Poly1305 key) and Poly1305 across packets too (poly1305_avx2.h: four packets per
// ymm register, each lane with its own key, refilled as packets finish; the scalar poly1305.h is its
// reference, and takes batches of one or two packets).
//
// seal: one keystream pass over every packet's block 0 (into per-slot scratch: the Poly1305 keys) and its
// payload blocks 1.., then Poly1305 over every packet's ciphertext, tag written to job.tag.
// open: keystream pass over the block 0s only, Poly1305 over the still-encrypted payloads, each tag compared
// in constant time (one SSE2 compare and mask, inline), then a second keystream pass over the payloads of
// the packets that verified. A forged packet's payload is never written: it keeps its ciphertext
// (aead_batch.h).
//
// Needs AVX2 at run time (checked with __builtin_cpu_supports); only chacha20_avx2.cc and poly1305_avx2.cc
// are built with -mavx2.
#pragma once

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"
#include "lib/crypto/aead_batch.h"
#include "lib/crypto/chacha20_avx2.h"  // ChachaStream
#include "lib/crypto/poly1305.h"       // PolyJob
#include "lib/crypto/cpu_features.h"  // cpu_has_avx2

namespace wg::crypto {

namespace simd {
// The two kernels a cross-packet engine runs: the AVX2 pair (chacha20_avx2.h, poly1305_avx2.h) for "simd",
// the AVX-512 pair for "avx512" (engine_avx512.h). Both kernels take whole arrays, so the indirect call is
// paid once per pass, not per packet.
struct CrossPacketKernels {
  const char* name;         // make_engine()'s name
  const char* description;  // for the startup log and wggate_crypto_engine_info
  void (*chacha)(const ChachaStream* streams, std::size_t n);
  void (*poly)(const PolyJob* jobs, std::size_t n);
};
}  // namespace simd

// The orchestration above around `kernels`, after the same libsodium cross-check; the caller has checked
// that the CPU runs them.
[[nodiscard]] absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_cross_packet_engine(
    const simd::CrossPacketKernels& kernels);

// FailedPrecondition on a CPU without AVX2; Internal when a one-packet cross-check against libsodium at
// creation does not match (so "auto" never commits the data path to an engine that computes something else).
[[nodiscard]] absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_simd_engine();

}  // namespace wg::crypto
