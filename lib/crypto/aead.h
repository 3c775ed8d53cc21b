// One-packet AEADs through libsodium (RFC 8439): ChaCha20-Poly1305 with WireGuard's nonce (32 zero bits then
// a 64-bit little-endian counter), and XChaCha20-Poly1305 for cookie replies. Batched engines for the data
// path live elsewhere; this is the reference and the handshake's AEAD.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "lib/crypto/secret.h"

namespace wg::crypto {

inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kXNonceSize = 24;

// out.size() must be plaintext.size() + kTagSize; in and out may be the same buffer.
void seal(std::span<std::uint8_t> out, const Key& key, std::uint64_t counter,
          std::span<const std::uint8_t> plaintext, std::span<const std::uint8_t> ad);
// out.size() must be ciphertext.size() - kTagSize; false (and out zeroed) when the tag does not verify.
[[nodiscard]] bool open(std::span<std::uint8_t> out, const Key& key, std::uint64_t counter,
                        std::span<const std::uint8_t> ciphertext, std::span<const std::uint8_t> ad);

void xseal(std::span<std::uint8_t> out, std::span<const std::uint8_t, 32> key,
           std::span<const std::uint8_t, kXNonceSize> nonce, std::span<const std::uint8_t> plaintext,
           std::span<const std::uint8_t> ad);
[[nodiscard]] bool xopen(std::span<std::uint8_t> out, std::span<const std::uint8_t, 32> key,
                         std::span<const std::uint8_t, kXNonceSize> nonce,
                         std::span<const std::uint8_t> ciphertext, std::span<const std::uint8_t> ad);

// The 12-byte IETF nonce WireGuard uses for a counter.
std::array<std::uint8_t, 12> nonce_for_counter(std::uint64_t counter);

}  // namespace wg::crypto
