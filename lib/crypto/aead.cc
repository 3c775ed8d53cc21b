#include "lib/crypto/aead.h"

#include <sodium/crypto_aead_chacha20poly1305.h>
#include <sodium/crypto_aead_xchacha20poly1305.h>
#include <sodium/utils.h>

namespace wg::crypto {

std::array<std::uint8_t, 12> nonce_for_counter(std::uint64_t counter) {
  std::array<std::uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return nonce;
}

void seal(std::span<std::uint8_t> out, const Key& key, std::uint64_t counter,
          std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> ad) {
  auto nonce = nonce_for_counter(counter);
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(out.data(), out.data() + plaintext.size(), nullptr,
                                                     plaintext.data(), plaintext.size(), ad.data(),
                                                     ad.size(), nullptr, nonce.data(), key.data());
}

bool open(std::span<std::uint8_t> out, const Key& key, std::uint64_t counter,
          std::span<const std::uint8_t> ciphertext, std::span<const std::uint8_t> ad) {
  if (ciphertext.size() < kTagSize || out.size() != ciphertext.size() - kTagSize) return false;
  auto nonce = nonce_for_counter(counter);
  const std::size_t n = ciphertext.size() - kTagSize;
  // libsodium verifies the tag in constant time before it writes any plaintext.
  if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out.data(), nullptr, ciphertext.data(), n,
                                                         ciphertext.data() + n, ad.data(), ad.size(),
                                                         nonce.data(), key.data()) != 0) {
    if (out.data() != ciphertext.data()) sodium_memzero(out.data(), out.size());
    return false;
  }
  return true;
}

void xseal(std::span<std::uint8_t> out, std::span<const std::uint8_t, 32> key,
           std::span<const std::uint8_t, kXNonceSize> nonce, std::span<const std::uint8_t> plaintext,
           std::span<const std::uint8_t> ad) {
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(out.data(), out.data() + plaintext.size(), nullptr,
                                                      plaintext.data(), plaintext.size(), ad.data(),
                                                      ad.size(), nullptr, nonce.data(), key.data());
}

bool xopen(std::span<std::uint8_t> out, std::span<const std::uint8_t, 32> key,
           std::span<const std::uint8_t, kXNonceSize> nonce, std::span<const std::uint8_t> ciphertext,
           std::span<const std::uint8_t> ad) {
  if (ciphertext.size() < kTagSize || out.size() != ciphertext.size() - kTagSize) return false;
  const std::size_t n = ciphertext.size() - kTagSize;
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out.data(), nullptr, ciphertext.data(), n,
                                                             ciphertext.data() + n, ad.data(), ad.size(),
                                                             nonce.data(), key.data()) == 0;
}

}  // namespace wg::crypto
