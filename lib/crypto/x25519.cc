#include "lib/crypto/x25519.h"

#include <sodium/core.h>
#include <sodium/crypto_scalarmult_curve25519.h>
#include <sodium/randombytes.h>

#include <cstdlib>

namespace wg::crypto {
namespace {
// libsodium wants sodium_init() before first use; a function-local static makes it once and thread-safe.
void ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) std::abort();  // no usable CSPRNG: nothing safe can follow
}
}  // namespace

void random_bytes(std::span<std::uint8_t> out) {
  if (out.empty()) return;  // an empty span may carry a null pointer, which libsodium must not see
  ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

std::uint32_t random_u32() {
  ensure_sodium();
  return randombytes_random();
}

void clamp(Key& private_key) {
  private_key.data()[0] &= 248;
  private_key.data()[31] = (private_key.data()[31] & 127) | 64;
}

Key generate_private_key() {
  Key k;
  random_bytes(k.span());
  clamp(k);
  return k;
}

PublicKey public_key(const Key& private_key) {
  ensure_sodium();
  PublicKey pub;
  crypto_scalarmult_curve25519_base(pub.data(), private_key.data());
  return pub;
}

absl::StatusOr<Key> dh(const Key& private_key, const PublicKey& public_key) {
  ensure_sodium();
  Key shared;
  // libsodium returns -1 when the output is all zeros.
  if (crypto_scalarmult_curve25519(shared.data(), private_key.data(), public_key.data()) != 0 ||
      shared.is_zero()) {
    return absl::InvalidArgumentError("X25519 produced the all-zero shared secret");
  }
  return shared;
}

}  // namespace wg::crypto
