// ChaCha20 (RFC 8439 section 2.3-2.4) across packets with AVX2: the keystream kernel of the "simd" engine
// (engine_simd.h). A caller describes any number of keystream runs (ChachaStream: key, nonce, first block
// counter, target bytes); the kernel walks every (stream, block) pair in order and packs them eight at a time
// into the eight 32-bit lanes of 16 ymm registers, one ChaCha20 block per lane, so a batch of mixed lengths
// keeps every lane busy until the last group. Keystream is XORed into the target in place; XORed into a
// zeroed buffer it is the raw keystream (how the engine gets each packet's Poly1305 key from block 0).
//
// Only chacha20_avx2.cc is compiled with -mavx2; callers must check cpu_has_avx2() (engine_simd.cc does)
// before calling in. This header is plain C++ so that it can be included from baseline translation units.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wg::crypto::simd {

// One run of keystream: blocks `counter`, `counter + 1`, ... XORed into data[0, len). len == 0 is skipped
// (data may then be null). The nonce words are state words 13..15 as RFC 8439 section 2.3 lays them out
// (little-endian loads of the 12 nonce bytes); WireGuard's are {0, counter low 32 bits, counter high 32}.
struct ChachaStream {
  const std::uint8_t* key;  // 32 bytes
  std::uint32_t counter;
  std::uint32_t nonce[3];
  std::uint8_t* data;
  std::uint32_t len;
};

// XORs every stream's keystream into its data. Streams must not overlap each other (they may be in any
// order). No allocation; the only memory touched is the keys, the targets and the stack.
void chacha20_xor_streams_avx2(const ChachaStream* streams, std::size_t n);

}  // namespace wg::crypto::simd
