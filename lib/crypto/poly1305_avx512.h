// Poly1305 (RFC 8439 section 2.5) across packets with AVX-512 IFMA: the MAC kernel of the "avx512" engine
// (issue 13). Each 64-bit lane of a zmm register carries one packet's accumulator as three limbs of 44, 44 and
// 42 bits with that packet's own r and its powers r^2..r^4; packets are refilled into lanes as they finish, so
// a burst of mixed lengths keeps the eight lanes busy. Same results as the scalar functions of poly1305.h
// (the reference) and the AVX2 kernel of poly1305_avx2.h.
//
// Only poly1305_avx512.cc is compiled with the AVX-512 flags; callers must check cpu_has_avx512_ifma()
// (cpu_features.h) before calling in. This header is plain C++ so that it can be included from baseline
// translation units.
#pragma once

#include <cstddef>

#include "lib/crypto/poly1305.h"

namespace wg::crypto::simd {

// poly1305_aead_no_ad for every job (RFC 8439 section 2.8 with an empty AD: Poly1305 over
// pad16(ct) || le64(0) || le64(len)), as poly1305_aead_no_ad_batch computes it. No allocation.
void poly1305_aead_no_ad_batch_avx512(const PolyJob* jobs, std::size_t n);

// The plain one-time MAC of every job's ct[0, len) (RFC 8439 section 2.5.1), as poly1305() computes it. The
// engine does not need it; it lets the known answers of RFC 8439 (2.5.2, A.3) run through the same lanes.
void poly1305_batch_avx512(const PolyJob* jobs, std::size_t n);

}  // namespace wg::crypto::simd
