// The "avx512" engine (engine_avx512.h): the cross-packet orchestration of engine_simd.cc around the AVX-512
// kernels, chacha20_avx512.h (16 lanes per zmm, two groups interleaved across the 32 registers, whole
// 1024-byte runs of one packet as one group, opmask tails) and poly1305_avx512.h (IFMA, radix 2^44, eight
// packets per zmm, four blocks per step with r^4..r).
#include "lib/crypto/engine_avx512.h"

#include "absl/status/status.h"
#include "lib/crypto/chacha20_avx512.h"
#include "lib/crypto/engine_simd.h"
#include "lib/crypto/poly1305_avx512.h"

namespace wg::crypto {

absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_avx512_engine() {
  if (!cpu_has_avx512_ifma()) return absl::FailedPreconditionError("avx512: this CPU has no AVX-512 F/VL/BW/IFMA");
  return make_cross_packet_engine(
      {"avx512", "avx512 (across packets: ChaCha20 16 lanes x 2 groups in zmm, Poly1305 IFMA 8 lanes)",
       simd::chacha20_xor_streams_avx512, simd::poly1305_aead_no_ad_batch_avx512});
}

}  // namespace wg::crypto
