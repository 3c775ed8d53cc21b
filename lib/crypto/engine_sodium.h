// The libsodium batch engine: one packet at a time through crypto_aead_chacha20poly1305_ietf_*_detached.
// It is the reference the faster engines are tested against, and the fallback on any CPU.
//
// Failed open: libsodium checks the tag before it decrypts anything, and then zeroes the output buffer
// (in place: the ciphertext), which is the zeroed payload aead_batch.h promises.
#pragma once

#include <memory>

#include "lib/crypto/aead_batch.h"

namespace wg::crypto {

// Never fails: libsodium picks its best ChaCha20/Poly1305 code for this CPU in sodium_init(), called here.
std::unique_ptr<AeadBatchEngine> make_sodium_engine();

}  // namespace wg::crypto
