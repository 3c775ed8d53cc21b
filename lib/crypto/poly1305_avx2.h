// Poly1305 (RFC 8439 section 2.5) across packets with AVX2: the MAC kernel of the "simd" engine
// (engine_simd.h). Each 64-bit lane of a ymm register carries one packet's accumulator as five 26-bit limbs,
// with that packet's own r; packets are refilled into lanes as they finish, so a burst of mixed lengths keeps
// the lanes busy. Same results as the scalar batch in poly1305.h, which stays as the reference and fallback.
//
// Only poly1305_avx2.cc is compiled with -mavx2; callers must check cpu_has_avx2() (engine_simd.cc does)
// before calling in. This header is plain C++ so that it can be included from baseline translation units.
#pragma once

#include <cstddef>

#include "lib/crypto/poly1305.h"

namespace wg::crypto::simd {

// poly1305_aead_no_ad for every job (RFC 8439 section 2.8 with an empty AD: Poly1305 over
// pad16(ct) || le64(0) || le64(len)), as poly1305_aead_no_ad_batch computes it. No allocation.
void poly1305_aead_no_ad_batch_avx2(const PolyJob* jobs, std::size_t n);

// The plain one-time MAC of every job's ct[0, len) (RFC 8439 section 2.5.1), as poly1305() computes it. The
// engine does not need it; it lets the known answers of RFC 8439 (2.5.2, A.3) run through the same lanes.
void poly1305_batch_avx2(const PolyJob* jobs, std::size_t n);

}  // namespace wg::crypto::simd
