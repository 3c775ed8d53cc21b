// The arithmetic of Poly1305 across packets with AVX2, for poly1305_avx2.cc (see poly1305_avx2.h): four
// packets in the four 64-bit lanes of a ymm register, h and r in radix 2^26. Here: the block loop (inline
// assembly, one or two blocks per step), the set-up of r and r^2, and the final reduction of four tags.
// poly1305_avx2.cc keeps the scheduling (which job runs in which lane, tail blocks, the uniform fast path).
//
// Include only from translation units built with -mavx2 (poly1305_avx2.cc alone). Everything is in an
// anonymous namespace and inlined there: an AVX2 copy of a function with external linkage could be picked
// by the linker for a baseline caller and fault on a CPU without AVX2.
//
// Arithmetic: five limbs in the low halves of 64-bit lanes, vpmuludq products of 26 x 26 bits summed in 64
// bits, r's limbs 1..4 also premultiplied by 5 since 2^130 = 5 (mod 2^130 - 5). After each step the five
// column sums are carried in two interleaved chains (0->1->2->3 and 3->4->0->1), leaving every limb below
// 2^26 + 2^11: small enough that the next column sums stay below 2^60. Long passes take two blocks per step,
// h = (h + m) r^2 + n r: one carry chain per two blocks, and the two products independent.
//
// Measured on the Zen 3 development VM (TSC ticks, 32-packet bursts, medians): the block loop in intrinsics
// had GCC group the 25 products and spill a third of them to the stack and back on every block; with h in
// registers across passes, the assembly loop and the two-block steps the MAC of 1424-byte bursts went from
// about 25,000 to 22,000, and finishing all four tags at once in vector form (finish4) took 64-byte bursts
// from about 4,500 to 3,000 (before the uniform path of poly1305_avx2.cc).
#pragma once

#include <immintrin.h>

#include <cstddef>  // offsetof
#include <cstdint>

namespace wg::crypto::simd {
namespace {

constexpr int kLanes = 4;
constexpr std::uint64_t kMask26 = (std::uint64_t{1} << 26) - 1;
constexpr std::uint64_t kHibit = std::uint64_t{1} << 24;  // 2^128 is bit 24 of limb 4
// Passes of at least this many blocks run two blocks per step, which needs r^2 set up first (about one
// block's work) whenever a lane has taken a new job.
constexpr std::size_t kPairMin = 8;

// Four 16-byte blocks, one per lane, as the low (w0) and high (w1) 64-bit halves of each.
__attribute__((always_inline)) inline void load4(const std::uint8_t* p0, const std::uint8_t* p1,
                                                 const std::uint8_t* p2, const std::uint8_t* p3, __m256i& w0,
                                                 __m256i& w1) {
  const __m256i a = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p2)), 1);
  const __m256i b = _mm256_inserti128_si256(
      _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p1))),
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p3)), 1);
  w0 = _mm256_unpacklo_epi64(a, b);  // p0.lo p1.lo | p2.lo p3.lo
  w1 = _mm256_unpackhi_epi64(a, b);
}

// What the block loop (blocks4) reads from memory: r, r^2 and 5 times their limbs 1..4, this pass's 2^128
// bits, the 26-bit mask, and where each lane's reads move to its tail buffer. h is not here: the caller keeps
// it in registers (blocks4's h operands) across passes.
struct alignas(32) Kernel {
  __m256i r[5];
  __m256i s[4];  // 5 * r1 .. 5 * r4
  __m256i hibit;
  __m256i mask;
  const std::uint8_t* tp[kLanes];  // lane l's reads jump here at block sw[l] (its tail buffer)
  std::size_t sw[kLanes];
  __m256i r2[5];  // r^2, for two blocks per step
  __m256i s2[4];
};

// Register plan of blocks4 (AT&T syntax: "op src2, src1, dst" computes dst = src1 op src2). h is in the
// five registers GCC leaves unclobbered (ymm0-4) for the whole loop, the column sums in ymm5-9, three temporaries in ymm10-12, the mask in ymm13 and
// the message in ymm14-15 (temporaries too once it is split). r, r^2, their multiples of 5 and the 2^128
// bits are vpmuludq/vpor memory operands: loads are cheap, while intrinsics had GCC group the products first
// and spill a third of them to the stack and back on every block.
#define WG_H0 "%t[h0]"
#define WG_H1 "%t[h1]"
#define WG_H2 "%t[h2]"
#define WG_H3 "%t[h3]"
#define WG_H4 "%t[h4]"
#define WG_D0 "%%ymm5"
#define WG_D1 "%%ymm6"
#define WG_D2 "%%ymm7"
#define WG_D3 "%%ymm8"
#define WG_D4 "%%ymm9"
#define WG_T0 "%%ymm10"
#define WG_T1 "%%ymm11"
#define WG_T2 "%%ymm12"
#define WG_M "%%ymm13"
#define WG_W0 "%%ymm14"
#define WG_W1 "%%ymm15"
#define WG_R(i) #i "*32(%[k])"
#define WG_S(i) "(160+" #i "*32)(%[k])"
#define WG_HIBIT "288(%[k])"
#define WG_MASK "320(%[k])"
#define WG_TP(l) "(352+" #l "*8)(%[k])"
#define WG_SW(l) "(384+" #l "*8)(%[k])"
#define WG_R2(i) "(416+" #i "*32)(%[k])"
#define WG_S2(i) "(576+" #i "*32)(%[k])"

// Lane l's read pointer moves to its tail buffer if this is block sw[l] (branch-free).
#define WG_POINTERS                         \
  "cmpq " WG_SW(0) ", %[b]\n\t"             \
  "cmoveq " WG_TP(0) ", %[q0]\n\t"          \
  "cmpq " WG_SW(1) ", %[b]\n\t"             \
  "cmoveq " WG_TP(1) ", %[q1]\n\t"          \
  "cmpq " WG_SW(2) ", %[b]\n\t"             \
  "cmoveq " WG_TP(2) ", %[q2]\n\t"          \
  "cmpq " WG_SW(3) ", %[b]\n\t"             \
  "cmoveq " WG_TP(3) ", %[q3]\n\t"
// The four lanes' blocks: T0 = their low 64-bit halves, W1 = their high halves.
#define WG_LOAD                                                    \
  "vmovdqu (%[q0]), %%xmm14\n\t"                                   \
  "vinserti128 $1, (%[q2]), " WG_W0 ", " WG_W0 "\n\t"              \
  "vmovdqu (%[q1]), %%xmm15\n\t"                                   \
  "vinserti128 $1, (%[q3]), " WG_W1 ", " WG_W1 "\n\t"              \
  "vpunpcklqdq " WG_W1 ", " WG_W0 ", " WG_T0 "\n\t"                \
  "vpunpckhqdq " WG_W1 ", " WG_W0 ", " WG_W1 "\n\t"
// The block (low halves in T0, high halves in W1) as 26-bit limbs m0..m4, the 2^128 bit into limb 4. T2 is
// the one temporary, so m2 must not be T2.
#define WG_SPLIT(m0, m1, m2, m3, m4)                        \
  "vpand " WG_M ", " WG_T0 ", " m0 "\n\t"                  \
  "vpsrlq $26, " WG_T0 ", " m1 "\n\t"                      \
  "vpand " WG_M ", " m1 ", " m1 "\n\t"                     \
  "vpsrlq $52, " WG_T0 ", " m2 "\n\t"                      \
  "vpsllq $12, " WG_W1 ", " WG_T2 "\n\t"                   \
  "vpor " WG_T2 ", " m2 ", " m2 "\n\t"                     \
  "vpand " WG_M ", " m2 ", " m2 "\n\t"                     \
  "vpsrlq $14, " WG_W1 ", " m3 "\n\t"                      \
  "vpand " WG_M ", " m3 ", " m3 "\n\t"                     \
  "vpsrlq $40, " WG_W1 ", " m4 "\n\t"                      \
  "vpor " WG_HIBIT ", " m4 ", " m4 "\n\t"
// The block added to h (split into the column-sum registers, free until the products), or put in h's
// registers (the second block of a pair step, whose h + m is already in the products).
#define WG_SPLIT_ADD                                        \
  WG_SPLIT(WG_D0, WG_D1, WG_D2, WG_D3, WG_D4)               \
  "vpaddq " WG_D0 ", " WG_H0 ", " WG_H0 "\n\t"             \
  "vpaddq " WG_D1 ", " WG_H1 ", " WG_H1 "\n\t"             \
  "vpaddq " WG_D2 ", " WG_H2 ", " WG_H2 "\n\t"             \
  "vpaddq " WG_D3 ", " WG_H3 ", " WG_H3 "\n\t"             \
  "vpaddq " WG_D4 ", " WG_H4 ", " WG_H4 "\n\t"
#define WG_SPLIT_SET WG_SPLIT(WG_H0, WG_H1, WG_H2, WG_H3, WG_H4)
// t = h * x (x from memory); d += t.
#define WG_MAC(h, x, t, d)          \
  "vpmuludq " x ", " h ", " t "\n\t" \
  "vpaddq " t ", " d ", " d "\n\t"
// The products of h's limbs 1..4 with r (R, S: r's and 5r's operands), added to the column sums.
#define WG_MAC_H1_H4(R, S)                                                                             \
  WG_MAC(WG_H1, S(3), WG_T0, WG_D0)                                                                    \
  WG_MAC(WG_H1, R(0), WG_T1, WG_D1)                                                                    \
  WG_MAC(WG_H1, R(1), WG_T2, WG_D2)                                                                    \
  WG_MAC(WG_H1, R(2), WG_W0, WG_D3)                                                                    \
  WG_MAC(WG_H1, R(3), WG_W1, WG_D4)                                                                    \
  WG_MAC(WG_H2, S(2), WG_T0, WG_D0)                                                                    \
  WG_MAC(WG_H2, S(3), WG_T1, WG_D1)                                                                    \
  WG_MAC(WG_H2, R(0), WG_T2, WG_D2)                                                                    \
  WG_MAC(WG_H2, R(1), WG_W0, WG_D3)                                                                    \
  WG_MAC(WG_H2, R(2), WG_W1, WG_D4)                                                                    \
  WG_MAC(WG_H3, S(1), WG_T0, WG_D0)                                                                    \
  WG_MAC(WG_H3, S(2), WG_T1, WG_D1)                                                                    \
  WG_MAC(WG_H3, S(3), WG_T2, WG_D2)                                                                    \
  WG_MAC(WG_H3, R(0), WG_W0, WG_D3)                                                                    \
  WG_MAC(WG_H3, R(1), WG_W1, WG_D4)                                                                    \
  WG_MAC(WG_H4, S(0), WG_T0, WG_D0)                                                                    \
  WG_MAC(WG_H4, S(1), WG_T1, WG_D1)                                                                    \
  WG_MAC(WG_H4, S(2), WG_T2, WG_D2)                                                                    \
  WG_MAC(WG_H4, S(3), WG_W0, WG_D3)                                                                    \
  WG_MAC(WG_H4, R(0), WG_W1, WG_D4)
// Column sums d = h * r (d_i = sum of h_j * r_(i-j), 5 r where i - j wraps past 2^130), or d += h * r.
#define WG_MUL(R, S)                                \
  "vpmuludq " R(0) ", " WG_H0 ", " WG_D0 "\n\t"      \
  "vpmuludq " R(1) ", " WG_H0 ", " WG_D1 "\n\t"      \
  "vpmuludq " R(2) ", " WG_H0 ", " WG_D2 "\n\t"      \
  "vpmuludq " R(3) ", " WG_H0 ", " WG_D3 "\n\t"      \
  "vpmuludq " R(4) ", " WG_H0 ", " WG_D4 "\n\t"      \
  WG_MAC_H1_H4(R, S)
#define WG_MUL_ADD(R, S)                 \
  WG_MAC(WG_H0, R(0), WG_T0, WG_D0)      \
  WG_MAC(WG_H0, R(1), WG_T1, WG_D1)      \
  WG_MAC(WG_H0, R(2), WG_T2, WG_D2)      \
  WG_MAC(WG_H0, R(3), WG_W0, WG_D3)      \
  WG_MAC(WG_H0, R(4), WG_W1, WG_D4)      \
  WG_MAC_H1_H4(R, S)
// d: its bits above 26 carried into e (through t).
#define WG_CARRY(d, e, t)            \
  "vpsrlq $26, " d ", " t "\n\t"     \
  "vpand " WG_M ", " d ", " d "\n\t" \
  "vpaddq " t ", " e ", " e "\n\t"
// h = the column sums carried: two chains side by side, 3->4 with 0->1, 4->0 (times 5) with 1->2, 2->3 with
// 0->1, then 3->4; for sums below 2^60 every limb ends below 2^26 + 2^11. Then the next block's pointers.
#define WG_CARRY_ALL                                \
  WG_CARRY(WG_D3, WG_D4, WG_T0)                     \
  WG_CARRY(WG_D0, WG_D1, WG_T1)                     \
  "vpsrlq $26, " WG_D4 ", " WG_T0 "\n\t"            \
  "vpand " WG_M ", " WG_D4 ", " WG_H4 "\n\t"        \
  "vpsllq $2, " WG_T0 ", " WG_T2 "\n\t"             \
  "vpaddq " WG_T2 ", " WG_T0 ", " WG_T0 "\n\t"      \
  "vpaddq " WG_T0 ", " WG_D0 ", " WG_D0 "\n\t"      \
  WG_CARRY(WG_D1, WG_D2, WG_T1)                     \
  "vpsrlq $26, " WG_D2 ", " WG_T0 "\n\t"            \
  "vpand " WG_M ", " WG_D2 ", " WG_H2 "\n\t"        \
  "vpaddq " WG_T0 ", " WG_D3 ", " WG_D3 "\n\t"      \
  "vpsrlq $26, " WG_D0 ", " WG_T1 "\n\t"            \
  "vpand " WG_M ", " WG_D0 ", " WG_H0 "\n\t"        \
  "vpaddq " WG_T1 ", " WG_D1 ", " WG_H1 "\n\t"      \
  "vpsrlq $26, " WG_D3 ", " WG_T0 "\n\t"            \
  "vpand " WG_M ", " WG_D3 ", " WG_H3 "\n\t"        \
  "vpaddq " WG_T0 ", " WG_H4 ", " WG_H4 "\n\t"
#define WG_NEXT             \
  "addq $16, %[q0]\n\t"     \
  "addq $16, %[q1]\n\t"     \
  "addq $16, %[q2]\n\t"     \
  "addq $16, %[q3]\n\t"     \
  "incq %[b]\n\t"

// h = (h + m) * r over `blocks` blocks of four lanes, m the 16-byte blocks at q[l], q[l] + 16, ...; at block
// sw[l] lane l's reads jump to tp[l]. The first `pairs` * 2 blocks go two per step, h = (h + m) * r^2 + n * r
// (k.r2 must be set then): one carry per two blocks, and the two products independent. Bounds: h + m below
// 2^27 + 2^11 against r^2 below 2^26 + 2^11 (5 r^2 below 2^29.4), n below 2^26 against r: column sums below
// 2^60. No branch depends on a lane (cmov).
__attribute__((always_inline)) inline void blocks4(const Kernel& k, __m256i h[5], const std::uint8_t* q0,
                                                   const std::uint8_t* q1, const std::uint8_t* q2,
                                                   const std::uint8_t* q3, std::size_t pairs,
                                                   std::size_t blocks) {
  static_assert(offsetof(Kernel, s) == 160 && offsetof(Kernel, hibit) == 288 && offsetof(Kernel, mask) == 320 &&
                offsetof(Kernel, tp) == 352 && offsetof(Kernel, sw) == 384 && offsetof(Kernel, r2) == 416 &&
                offsetof(Kernel, s2) == 576);
  std::size_t b = 0;
  const std::size_t pair_end = 2 * pairs;
  asm volatile(
      "vmovdqa " WG_MASK ", " WG_M "\n\t"
      "cmpq %[pe], %[b]\n\t"
      "jae 2f\n"
      "1:\n\t"
      WG_POINTERS WG_LOAD WG_SPLIT_ADD WG_MUL(WG_R2, WG_S2) WG_NEXT
      WG_POINTERS WG_LOAD WG_SPLIT_SET WG_MUL_ADD(WG_R, WG_S) WG_CARRY_ALL WG_NEXT
      "cmpq %[pe], %[b]\n\t"
      "jb 1b\n"
      "2:\n\t"
      "cmpq %[n], %[b]\n\t"
      "jae 4f\n"
      "3:\n\t"
      WG_POINTERS WG_LOAD WG_SPLIT_ADD WG_MUL(WG_R, WG_S) WG_CARRY_ALL WG_NEXT
      "cmpq %[n], %[b]\n\t"
      "jb 3b\n"
      "4:\n\t"
      : [q0] "+r"(q0), [q1] "+r"(q1), [q2] "+r"(q2), [q3] "+r"(q3), [b] "+r"(b), [h0] "+x"(h[0]),
        [h1] "+x"(h[1]), [h2] "+x"(h[2]), [h3] "+x"(h[3]), [h4] "+x"(h[4])
      : [k] "r"(&k), [n] "r"(blocks), [pe] "r"(pair_end)
      : "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory",
        "cc");
}

#undef WG_NEXT
#undef WG_CARRY_ALL
#undef WG_CARRY
#undef WG_MUL_ADD
#undef WG_MUL
#undef WG_MAC_H1_H4
#undef WG_MAC
#undef WG_SPLIT_SET
#undef WG_SPLIT_ADD
#undef WG_SPLIT
#undef WG_LOAD
#undef WG_POINTERS
#undef WG_S2
#undef WG_R2
#undef WG_SW
#undef WG_TP
#undef WG_MASK
#undef WG_HIBIT
#undef WG_S
#undef WG_R
#undef WG_W1
#undef WG_W0
#undef WG_M
#undef WG_T2
#undef WG_T1
#undef WG_T0
#undef WG_D4
#undef WG_D3
#undef WG_D2
#undef WG_D1
#undef WG_D0
#undef WG_H4
#undef WG_H3
#undef WG_H2
#undef WG_H1
#undef WG_H0

// The tags of all four lanes: h mod 2^130 - 5, plus s, mod 2^128 (RFC 8439 section 2.5.1), lane l's to
// tag[l]. All lanes at once in vector form, with no branch or lookup on secret data; a pass in a uniform
// burst ends four packets at once, and even one lane costs about what the scalar code did for it.
__attribute__((always_inline)) inline void finish4(const __m256i h_in[5], const std::uint8_t* const key[kLanes],
                                                   std::uint8_t* const tag[kLanes], __m256i mask) {
  __m256i h0 = h_in[0], h1 = h_in[1], h2 = h_in[2], h3 = h_in[3], h4 = h_in[4];
  // One full carry round (limbs below 2^26 + 2^11 coming in): afterwards h0, h2, h3, h4 < 2^26 and h1 <= 2^26,
  // so h < 2^130 + 2^52 < 2p.
  __m256i c = _mm256_srli_epi64(h0, 26);
  h0 = _mm256_and_si256(h0, mask);
  h1 = _mm256_add_epi64(h1, c);
  c = _mm256_srli_epi64(h1, 26);
  h1 = _mm256_and_si256(h1, mask);
  h2 = _mm256_add_epi64(h2, c);
  c = _mm256_srli_epi64(h2, 26);
  h2 = _mm256_and_si256(h2, mask);
  h3 = _mm256_add_epi64(h3, c);
  c = _mm256_srli_epi64(h3, 26);
  h3 = _mm256_and_si256(h3, mask);
  h4 = _mm256_add_epi64(h4, c);
  c = _mm256_srli_epi64(h4, 26);
  h4 = _mm256_and_si256(h4, mask);
  h0 = _mm256_add_epi64(h0, _mm256_add_epi64(c, _mm256_slli_epi64(c, 2)));
  c = _mm256_srli_epi64(h0, 26);
  h0 = _mm256_and_si256(h0, mask);
  h1 = _mm256_add_epi64(h1, c);
  // g = h + 5 - 2^130: where bit 130 of h + 5 is set, h >= p and g (its low 130 bits) is h mod p.
  __m256i g0 = _mm256_add_epi64(h0, _mm256_set1_epi64x(5));
  c = _mm256_srli_epi64(g0, 26);
  g0 = _mm256_and_si256(g0, mask);
  __m256i g1 = _mm256_add_epi64(h1, c);
  c = _mm256_srli_epi64(g1, 26);
  g1 = _mm256_and_si256(g1, mask);
  __m256i g2 = _mm256_add_epi64(h2, c);
  c = _mm256_srli_epi64(g2, 26);
  g2 = _mm256_and_si256(g2, mask);
  __m256i g3 = _mm256_add_epi64(h3, c);
  c = _mm256_srli_epi64(g3, 26);
  g3 = _mm256_and_si256(g3, mask);
  __m256i g4 = _mm256_add_epi64(h4, c);
  const __m256i use_g = _mm256_sub_epi64(_mm256_setzero_si256(), _mm256_srli_epi64(g4, 26));  // all ones or 0
  g4 = _mm256_and_si256(g4, mask);
  h0 = _mm256_blendv_epi8(h0, g0, use_g);
  h1 = _mm256_blendv_epi8(h1, g1, use_g);
  h2 = _mm256_blendv_epi8(h2, g2, use_g);
  h3 = _mm256_blendv_epi8(h3, g3, use_g);
  h4 = _mm256_blendv_epi8(h4, g4, use_g);
  // h + s mod 2^128 in 32-bit words, each carried into the next (h1 may still be 2^26: the sums absorb it).
  __m256i s0;
  __m256i s1;
  load4(key[0] + 16, key[1] + 16, key[2] + 16, key[3] + 16, s0, s1);
  const __m256i m32 = _mm256_set1_epi64x(0xffffffffLL);
  __m256i t = _mm256_add_epi64(_mm256_add_epi64(h0, _mm256_slli_epi64(h1, 26)), _mm256_and_si256(s0, m32));
  const __m256i w0 = _mm256_and_si256(t, m32);
  t = _mm256_add_epi64(_mm256_add_epi64(_mm256_srli_epi64(t, 32), _mm256_slli_epi64(h2, 20)),
                       _mm256_srli_epi64(s0, 32));
  const __m256i lo = _mm256_or_si256(w0, _mm256_slli_epi64(t, 32));
  t = _mm256_add_epi64(_mm256_add_epi64(_mm256_srli_epi64(t, 32), _mm256_slli_epi64(h3, 14)),
                       _mm256_and_si256(s1, m32));
  const __m256i w2 = _mm256_and_si256(t, m32);
  t = _mm256_add_epi64(_mm256_add_epi64(_mm256_srli_epi64(t, 32), _mm256_slli_epi64(h4, 8)),
                       _mm256_srli_epi64(s1, 32));
  const __m256i hi = _mm256_or_si256(w2, _mm256_slli_epi64(t, 32));
  // Lane l's tag is (lo[l], hi[l]).
  const __m256i a = _mm256_unpacklo_epi64(lo, hi);  // lanes 0 | 2
  const __m256i b = _mm256_unpackhi_epi64(lo, hi);  // lanes 1 | 3
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[0]), _mm256_castsi256_si128(a));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[1]), _mm256_castsi256_si128(b));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[2]), _mm256_extracti128_si256(a, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[3]), _mm256_extracti128_si256(b, 1));
}

// k.r2 = r^2 mod 2^130 - 5 for every lane (limbs below 2^26 + 2^11, as after a block) and k.s2 = 5 times
// its limbs 1..4: the multipliers of the first block of a pair step.
void square_r(Kernel& k, __m256i mask) {
  __m256i d[5];
  for (int i = 0; i < 5; ++i) {
    d[i] = _mm256_setzero_si256();
    for (int j = 0; j < 5; ++j) {
      // r_j * r_(i-j); where i - j wraps past 2^130 the factor is 5 * r_(i-j+5), which is s[i-j+4].
      const __m256i x = j <= i ? k.r[i - j] : k.s[i - j + 4];
      d[i] = _mm256_add_epi64(d[i], _mm256_mul_epu32(k.r[j], x));
    }
  }
  // The carries of the block loop (two chains side by side), into r^2.
  __m256i c = _mm256_srli_epi64(d[3], 26);
  d[3] = _mm256_and_si256(d[3], mask);
  d[4] = _mm256_add_epi64(d[4], c);
  c = _mm256_srli_epi64(d[0], 26);
  d[0] = _mm256_and_si256(d[0], mask);
  d[1] = _mm256_add_epi64(d[1], c);
  c = _mm256_srli_epi64(d[4], 26);
  d[4] = _mm256_and_si256(d[4], mask);
  d[0] = _mm256_add_epi64(d[0], _mm256_add_epi64(c, _mm256_slli_epi64(c, 2)));
  c = _mm256_srli_epi64(d[1], 26);
  d[1] = _mm256_and_si256(d[1], mask);
  d[2] = _mm256_add_epi64(d[2], c);
  c = _mm256_srli_epi64(d[2], 26);
  d[2] = _mm256_and_si256(d[2], mask);
  d[3] = _mm256_add_epi64(d[3], c);
  c = _mm256_srli_epi64(d[0], 26);
  d[0] = _mm256_and_si256(d[0], mask);
  d[1] = _mm256_add_epi64(d[1], c);
  c = _mm256_srli_epi64(d[3], 26);
  d[3] = _mm256_and_si256(d[3], mask);
  d[4] = _mm256_add_epi64(d[4], c);
  for (int i = 0; i < 5; ++i) k.r2[i] = d[i];
  for (int i = 0; i < 4; ++i) k.s2[i] = _mm256_add_epi64(d[i + 1], _mm256_slli_epi64(d[i + 1], 2));
}

// Every lane's clamped r from its key (RFC 8439 section 2.5.1), split like a block, and 5 r.
__attribute__((always_inline)) inline void set_r(Kernel& k, const std::uint8_t* const key[kLanes], __m256i mask) {
  __m256i k0;
  __m256i k1;
  load4(key[0], key[1], key[2], key[3], k0, k1);
  k0 = _mm256_and_si256(k0, _mm256_set1_epi64x(0x0ffffffc0fffffffLL));
  k1 = _mm256_and_si256(k1, _mm256_set1_epi64x(0x0ffffffc0ffffffcLL));
  k.r[0] = _mm256_and_si256(k0, mask);
  k.r[1] = _mm256_and_si256(_mm256_srli_epi64(k0, 26), mask);
  k.r[2] = _mm256_and_si256(_mm256_or_si256(_mm256_srli_epi64(k0, 52), _mm256_slli_epi64(k1, 12)), mask);
  k.r[3] = _mm256_and_si256(_mm256_srli_epi64(k1, 14), mask);
  k.r[4] = _mm256_srli_epi64(k1, 40);
  for (int i = 0; i < 4; ++i) k.s[i] = _mm256_add_epi64(k.r[i + 1], _mm256_slli_epi64(k.r[i + 1], 2));
}

}  // namespace
}  // namespace wg::crypto::simd
