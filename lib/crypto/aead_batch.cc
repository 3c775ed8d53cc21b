// make_engine(): engine names to factories (aead_batch.h).
#include "lib/crypto/aead_batch.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/crypto/engine_auto.h"
#include "lib/crypto/engine_avx512.h"
#include "lib/crypto/engine_ipsecmb.h"
#include "lib/crypto/engine_simd.h"
#include "lib/crypto/engine_sodium.h"

namespace wg::crypto {

absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_engine(std::string_view name) {
  if (name == "sodium") return make_sodium_engine();
  if (name == "ipsec-mb") return make_ipsecmb_engine();
  if (name == "simd") return make_simd_engine();
  if (name == "avx512") return make_avx512_engine();
  // Measured, not assumed (issue 13): which engine is fastest depends on the CPU and the packet size (on
  // AVX-512 CPUs IPsec-MB beats simd at the MTU, simd wins small packets everywhere). The engines that
  // cannot run here are skipped silently; the caller logs description(), which names the choice, and
  // naming an engine explicitly turns the reason it cannot run into a startup error.
  if (name == "auto") return make_auto_engine(auto_choice());
  return absl::InvalidArgumentError(absl::StrCat("unknown crypto engine \"", std::string(name),
                                                 "\" (expected auto, simd, avx512, ipsec-mb or sodium)"));
}

}  // namespace wg::crypto
