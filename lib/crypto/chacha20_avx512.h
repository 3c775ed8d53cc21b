// ChaCha20 (RFC 8439 section 2.3-2.4) across packets with AVX-512: the keystream kernel of the "avx512"
// engine (issue 13). Same contract as chacha20_xor_streams_avx2 (chacha20_avx2.h, whose ChachaStream it
// takes): any number of keystream runs, every (stream, block) pair walked in order and packed sixteen at a
// time into the sixteen 32-bit lanes of 16 zmm registers, one ChaCha20 block per lane. Keystream is XORed
// into each target in place; XORed into a zeroed buffer it is the raw keystream (the Poly1305 key of block 0).
//
// Only chacha20_avx512.cc is compiled with AVX-512 flags; callers must check cpu_has_avx512_ifma()
// (cpu_features.h) before calling in. This header is plain C++ so that it can be included from baseline
// translation units.
#pragma once

#include <cstddef>

#include "lib/crypto/chacha20_avx2.h"  // ChachaStream

namespace wg::crypto::simd {

// XORs every stream's keystream into its data, exactly as chacha20_xor_streams_avx2 does (the same bytes for
// the same streams, including a block counter that wraps from 2^32 - 1 to 0 without touching the nonce).
// Streams must not overlap each other (they may be in any order). No allocation; the only memory touched is
// the keys, the targets and the stack.
void chacha20_xor_streams_avx512(const ChachaStream* streams, std::size_t n);

}  // namespace wg::crypto::simd
