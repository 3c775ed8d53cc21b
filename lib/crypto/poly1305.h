// Poly1305 (RFC 8439 section 2.5) for the "simd" engine: a scalar 64-bit implementation (radix 2^64 with
// unsigned __int128 products; h kept as 64+64+3 bits, partially reduced after every block), and the MAC
// WireGuard's ChaCha20-Poly1305 computes with an empty AD (RFC 8439 section 2.8): the ciphertext padded with
// zeros to 16 bytes, then le64(0) || le64(len). Baseline flags: no AVX2 needed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wg::crypto::simd {

inline constexpr std::size_t kPolyKeySize = 32;
inline constexpr std::size_t kPolyTagSize = 16;

// The one-time MAC of msg[0, len) under key (r || s), RFC 8439 section 2.5.1.
void poly1305(const std::uint8_t key[kPolyKeySize], const std::uint8_t* msg, std::size_t len,
              std::uint8_t tag[kPolyTagSize]);

// The AEAD tag of RFC 8439 section 2.8 for an empty AD: poly1305 over pad16(ct) || le64(0) || le64(len).
void poly1305_aead_no_ad(const std::uint8_t key[kPolyKeySize], const std::uint8_t* ct, std::size_t len,
                         std::uint8_t tag[kPolyTagSize]);

// One packet for poly1305_aead_no_ad_batch.
struct PolyJob {
  const std::uint8_t* key;  // kPolyKeySize bytes
  const std::uint8_t* ct;
  std::size_t len;
  std::uint8_t* tag;        // kPolyTagSize bytes out
};

// poly1305_aead_no_ad for every job. Four packets run side by side (their 16-byte blocks interleaved in one
// loop), so the multiply chains of different packets overlap instead of each block waiting for the last.
void poly1305_aead_no_ad_batch(const PolyJob* jobs, std::size_t n);

}  // namespace wg::crypto::simd
