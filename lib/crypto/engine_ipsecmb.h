// The Intel IPsec-MB batch engine (library 1.3): ChaCha20-Poly1305 through the job API, one job per packet
// (IMB_CIPHER_CHACHA20_POLY1305 + IMB_AUTH_CHACHA20_POLY1305). Each instance owns one job manager,
// initialised once with init_mb_mgr_auto (the best code path for this CPU: AVX-512, AVX2, AVX or SSE), so
// the one-thread-per-instance rule of aead_batch.h applies; create it on the lcore that will use it so its
// memory is local.
//
// Failed open: IPsec-MB never verifies a tag. It decrypts in place and outputs the tag it computed, which
// the engine compares with the packet's in constant time; so by the time a tag is found wrong the payload
// holds the decryption of an unauthenticated ciphertext (for a packet damaged in flight, nearly the real
// plaintext). The engine then zeroes the payload, as aead_batch.h promises, so none of it lingers; the
// caller drops the packet either way.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "lib/crypto/aead_batch.h"

namespace wg::crypto {

// An error when the library cannot run here: the manager cannot be allocated or initialised, the library's
// own self-test failed, the runtime library is older than the headers we were built with, or a one-packet
// cross-check against libsodium at creation does not match.
[[nodiscard]] absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_ipsecmb_engine();

}  // namespace wg::crypto
