// What the CPU running this process can execute, for the crypto engines' run-time dispatch (issue 13). The
// kernels built with AVX2 or AVX-512 flags live in their own translation units; baseline code asks here
// before calling into them, so the binary still runs on any x86-64.
#pragma once

namespace wg::crypto {

// AVX2: the "simd" engine's kernels (chacha20_avx2, poly1305_avx2).
bool cpu_has_avx2();

// AVX-512 F + VL + BW (16-lane ChaCha20 in zmm registers, rotates with vprold, opmask tails) and IFMA
// (vpmadd52luq/huq: Poly1305 in 52-bit limbs): everything the "avx512" engine's kernels use.
bool cpu_has_avx512_ifma();

}  // namespace wg::crypto
