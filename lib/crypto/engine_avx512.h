// The "avx512" batch engine (issue 13, part 2): ChaCha20-Poly1305 across packets in zmm registers, with the
// same contract as "simd" (engine_simd.h: every tag checked before any plaintext is written, a forged payload
// left as received, one-time keys wiped). Needs AVX-512 F/VL/BW/IFMA; elsewhere make_avx512_engine() refuses,
// make_engine("avx512") is a startup error and "auto" (engine_auto.h) skips it.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "lib/crypto/aead_batch.h"
#include "lib/crypto/cpu_features.h"  // cpu_has_avx512_ifma

namespace wg::crypto {

// FailedPrecondition on a CPU without AVX-512 F/VL/BW/IFMA; Internal when the libsodium cross-check at
// creation does not match.
[[nodiscard]] absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_avx512_engine();

}  // namespace wg::crypto
