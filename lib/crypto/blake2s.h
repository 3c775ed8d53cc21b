// BLAKE2s (RFC 7693) through libb2, and the constructions WireGuard builds on it (WireGuard paper, section
// 5.4 "Protocol primitives"): Hash, Mac (keyed BLAKE2s-128), Hmac (HMAC-BLAKE2s) and the Kdf1/Kdf2/Kdf3 chain.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "lib/crypto/secret.h"

namespace wg::crypto {

inline constexpr std::size_t kHashSize = 32;
inline constexpr std::size_t kMacSize = 16;
using Hash = std::array<std::uint8_t, kHashSize>;
using Mac = std::array<std::uint8_t, kMacSize>;
using Bytes = std::span<const std::uint8_t>;

// Hash(a || b || ...), unkeyed BLAKE2s-256.
Hash hash(std::initializer_list<Bytes> parts);

// Keyed BLAKE2s with any output length up to 32 (RFC 7693 section 2.5); the raw primitive the others use.
void blake2s_keyed(std::span<std::uint8_t> out, Bytes key, Bytes data);

// Mac(key, data): keyed BLAKE2s with a 16-byte output, used for mac1/mac2 and cookies.
Mac mac(Bytes key, Bytes data);

// Hmac(key, data) with BLAKE2s-256 and its 64-byte block (RFC 2104).
Hash hmac(Bytes key, Bytes data);

// WireGuard's KDF_n (HKDF with HMAC-BLAKE2s): tau0 = Hmac(key, input), tau_i = Hmac(tau0, tau_{i-1} || i).
// Outputs are secrets; the caller chooses how many it needs.
void kdf1(Key& t1, const Key& key, Bytes input);
void kdf2(Key& t1, Key& t2, const Key& key, Bytes input);
void kdf3(Key& t1, Key& t2, Key& t3, const Key& key, Bytes input);

}  // namespace wg::crypto
