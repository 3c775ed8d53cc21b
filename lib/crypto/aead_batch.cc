#include "lib/crypto/aead_batch.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/crypto/engine_ipsecmb.h"
#include "lib/crypto/engine_sodium.h"

namespace wg::crypto {

absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_engine(std::string_view name) {
  if (name == "sodium") return make_sodium_engine();
  if (name == "ipsec-mb") return make_ipsecmb_engine();
  if (name == "auto") {
    // The fallback is silent here; the caller logs description(), and naming "ipsec-mb" explicitly turns
    // the reason IPsec-MB cannot run into a startup error.
    auto engine = make_ipsecmb_engine();
    if (engine.ok()) return engine;
    return make_sodium_engine();
  }
  if (name == "simd") {
    return absl::UnimplementedError("crypto engine \"simd\" is not built yet (planned: issue 6)");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown crypto engine \"", std::string(name), "\" (expected auto, ipsec-mb or sodium)"));
}

}  // namespace wg::crypto
