// X25519 (RFC 7748) through libsodium: key generation as `wg genkey` does it, public keys, and a DH that
// rejects the all-zero shared secret of low-order points (WireGuard paper, section 5.4 "DH").
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "lib/crypto/secret.h"

namespace wg::crypto {

inline constexpr std::size_t kKeySize = 32;
// Public keys are not secret; they are plain bytes, compared normally.
using PublicKey = std::array<std::uint8_t, kKeySize>;

// A fresh, clamped private key from the system CSPRNG.
Key generate_private_key();
// Clamps as RFC 7748 section 5 describes (what `wg genkey` writes).
void clamp(Key& private_key);
PublicKey public_key(const Key& private_key);
// DH(private, public); an error when the result is all zeros (low-order or invalid point).
[[nodiscard]] absl::StatusOr<Key> dh(const Key& private_key, const PublicKey& public_key);

// Fills `out` from the system CSPRNG.
void random_bytes(std::span<std::uint8_t> out);
std::uint32_t random_u32();

}  // namespace wg::crypto
