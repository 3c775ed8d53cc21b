// The arithmetic of Poly1305 across packets with AVX-512 IFMA, for poly1305_avx512.cc (see
// poly1305_avx512.h): eight packets in the eight 64-bit lanes of a zmm register, h and r in radix 2^44
// (limbs of 44, 44 and 42 bits), products by vpmadd52luq / vpmadd52huq. Here: loading eight blocks, the block
// loops (four blocks per step with r^4..r; one per step, alone or two octets side by side; one per step with
// lanes switching to their tail buffers), the partial and length blocks, the set-up of r and its powers, and
// the final reduction of eight tags. poly1305_avx512.cc keeps the scheduling (which job runs in which lane).
//
// Include only from translation units built with the AVX-512 flags (poly1305_avx512.cc alone). Everything is
// in an anonymous namespace and inlined there: an AVX-512 copy of a function with external linkage could be
// picked by the linker for a baseline caller and fault on a CPU without AVX-512.
//
// Why IFMA in radix 2^44 rather than the AVX2 kernel's radix 2^26 in zmm: a block costs 9 products, each a
// vpmadd52luq and a vpmadd52huq (18 multiply-adds, no separate adds), against 25 vpmuludq plus 25 vpaddq in
// radix 2^26; on the Zen 5 VM of issue 13 vpmadd52 and vpmuludq zmm have the same throughput (about 0.65-0.75
// TSC ticks each, measured back to back), so IFMA does the block in about 3/4 of the multiplies and half the
// instructions. The long uniform bursts run at that bound: 18 vpmadd52 per block and octet, 0.09 TSC ticks
// per byte. Why four blocks per step: a one-block step is a chain of 3 dependent vpmadd52 plus a carry chain
// of about 11 operations, ~24 cycles for 8 blocks; with r^4..r only the product of h + m1 waits on h and one
// carry serves four blocks, so the multiplies, not the chain, set the pace. Intrinsics, not assembly: GCC
// keeps the loops in registers here (two or three zmm spills per four-block step, none in the others).
//
// Arithmetic. h = h0 + h1 2^44 + h2 2^88, r likewise. The product h r mod 2^130 - 5 in columns:
//   d0 = h0 r0 + h1 (20 r2) + h2 (20 r1)        (2^132 = 4 * 2^130 = 20 mod p)
//   d1 = h0 r1 + h1 r0      + h2 (20 r2)
//   d2 = h0 r2 + h1 r1      + h2 r0
// vpmadd52luq adds the low 52 bits of a 52 x 52-bit product, vpmadd52huq the bits 52..103; each column is
// kept as a lo sum (weight 2^(44 i)) and a hi sum (weight 2^(44 i + 52) = 2^(44 (i + 1)) * 2^8). IFMA reads
// only bits 0..51 of its multiplicands (higher bits are silently dropped, not an error), so every limb that
// enters a product must be below 2^52; and no 64-bit sum may overflow. The bounds:
//
// Invariant between steps (established by carry()): h0 < 2^44, h1 < 2^44 + 2^14, h2 < 2^42.
// Multiplicands. A block m has m0, m1 < 2^44 and m2 < 2^41 (bits 88..127 of the block, below 2^40, plus the
// 2^128 bit, bit 40 of limb 2). So a = h + m has a0 < 2^45, a1 < 2^45 + 2^14, a2 < 3 * 2^41. r as clamped has
// limbs below 2^44, 2^44, 2^36; its powers r^2..r^4 come out of carry() and meet the invariant. 20 times a
// limb 1 is below 20 (2^44 + 2^14) < 2^48.33, of a limb 2 below 20 * 2^42 < 2^46.33. All below 2^52.
// Sums. A product is below 2^45.01 * 2^48.33 < 2^93.4: lo part below 2^52, hi part below 2^41.4. A column
// of a four-block step has 12 products (one-block steps 3, powers 3): lo sums below 12 * 2^52 < 2^55.6, hi
// sums below 12 * 2^41.4 < 2^45, shifted by 8 below 2^53. In carry():
//   d1 = lo1 + (hi0 << 8) + (lo0 >> 44) < 2^55.6 + 2^53 + 2^12 < 2^55.8; d2 likewise < 2^55.8;
//   c  = (hi2 << 10) + (d2 >> 42) < 2^55 + 2^14 (the bits at 2^130 and above; hi2 sits at 2^140);
//   d0 = (lo0 mod 2^44) + 5 c < 2^44 + 2^57.4 < 2^57.5;
// nothing nears 2^64. Then h0 = d0 mod 2^44, h2 = d2 mod 2^42, and h1 = (d1 mod 2^44) + (d0 >> 44) with
// d0 >> 44 < 2^13.5: the invariant again. h1's own carry stays in h1; finish8 resolves it.
// The tests drive every limb to these bounds: r with every clamp-allowed bit set, payloads of 0xff.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace wg::crypto::simd {
namespace {

constexpr int kLanes = 8;
constexpr std::uint64_t kMask44 = (std::uint64_t{1} << 44) - 1;
constexpr std::uint64_t kMask42 = (std::uint64_t{1} << 42) - 1;
constexpr std::uint64_t kHibit = std::uint64_t{1} << 40;  // 2^128 is bit 40 of limb 2
// Powers of r a lane keeps: r^1..r^4, for steps of four blocks.
constexpr int kPowers = 4;

#define WG_INLINE __attribute__((always_inline)) inline

// What the block loop reads: every lane's r^1..r^4 and 20 times their limbs 1 and 2, this pass's 2^128 bits,
// and where each lane's reads move to its tail buffer. h stays in registers, the caller's.
struct alignas(64) Kernel {
  __m512i r[kPowers][3];  // r[p] = r^(p + 1)
  __m512i s[kPowers][2];  // s[p][i] = 20 * r[p][i + 1]
  __m512i hibit;
  const std::uint8_t* tp[kLanes];  // lane l's reads jump here at block sw[l] (its tail buffer)
  std::size_t sw[kLanes];
};

// Eight 16-byte blocks, block l in lane l, as their low (w0) and high (w1) 64-bit halves.
WG_INLINE void load8(const std::uint8_t* const q[kLanes], __m512i& w0, __m512i& w1) {
  __m512i a = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q[0])));
  __m512i b = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q[1])));
  a = _mm512_inserti32x4(a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[2])), 1);
  b = _mm512_inserti32x4(b, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[3])), 1);
  a = _mm512_inserti32x4(a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[4])), 2);
  b = _mm512_inserti32x4(b, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[5])), 2);
  a = _mm512_inserti32x4(a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[6])), 3);
  b = _mm512_inserti32x4(b, _mm_loadu_si128(reinterpret_cast<const __m128i*>(q[7])), 3);
  w0 = _mm512_unpacklo_epi64(a, b);  // 128-bit lane i holds blocks 2i and 2i + 1
  w1 = _mm512_unpackhi_epi64(a, b);
}

// A block's halves as limbs 44/44/40, with hibit (2^128, or 0 for the plain MAC's last partial block) added.
WG_INLINE void split(__m512i w0, __m512i w1, __m512i hibit, __m512i m[3]) {
  const __m512i mask44 = _mm512_set1_epi64(static_cast<long long>(kMask44));
  m[0] = _mm512_and_si512(w0, mask44);
  // (w0 >> 44 | w1 << 20) & mask44 in one ternary-logic op: 0xa8 = (A | B) & C.
  m[1] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(w0, 44), _mm512_slli_epi64(w1, 20), mask44, 0xa8);
  m[2] = _mm512_or_si512(_mm512_srli_epi64(w1, 24), hibit);
}

// lo/hi column sums += a * x (x = r^p with s = 20 x's limbs 1, 2); see the file comment. The sums are chains
// of dependent vpmadd52, so the limbs go in the order carry() finishes them in when a = h + m: h2 first, then
// h0, h1 last (in theory a shorter chain per one-block step; no difference was measurable in the bursts).
WG_INLINE void mac(__m512i lo[3], __m512i hi[3], const __m512i a[3], const __m512i x[3], const __m512i s[2]) {
  lo[0] = _mm512_madd52lo_epu64(lo[0], a[2], s[0]);
  hi[0] = _mm512_madd52hi_epu64(hi[0], a[2], s[0]);
  lo[1] = _mm512_madd52lo_epu64(lo[1], a[2], s[1]);
  hi[1] = _mm512_madd52hi_epu64(hi[1], a[2], s[1]);
  lo[2] = _mm512_madd52lo_epu64(lo[2], a[2], x[0]);
  hi[2] = _mm512_madd52hi_epu64(hi[2], a[2], x[0]);
  lo[0] = _mm512_madd52lo_epu64(lo[0], a[0], x[0]);
  hi[0] = _mm512_madd52hi_epu64(hi[0], a[0], x[0]);
  lo[1] = _mm512_madd52lo_epu64(lo[1], a[0], x[1]);
  hi[1] = _mm512_madd52hi_epu64(hi[1], a[0], x[1]);
  lo[2] = _mm512_madd52lo_epu64(lo[2], a[0], x[2]);
  hi[2] = _mm512_madd52hi_epu64(hi[2], a[0], x[2]);
  lo[0] = _mm512_madd52lo_epu64(lo[0], a[1], s[1]);
  hi[0] = _mm512_madd52hi_epu64(hi[0], a[1], s[1]);
  lo[1] = _mm512_madd52lo_epu64(lo[1], a[1], x[0]);
  hi[1] = _mm512_madd52hi_epu64(hi[1], a[1], x[0]);
  lo[2] = _mm512_madd52lo_epu64(lo[2], a[1], x[1]);
  hi[2] = _mm512_madd52hi_epu64(hi[2], a[1], x[1]);
}

// h = the column sums, carried: 0 -> 1 -> 2 -> (times 5) 0 -> 1. Column i's hi sum joins column i + 1
// shifted by 8 (2^52 = 2^44 * 2^8); column 2's hi sum and the bits of column 2 above 42 are at 2^130 and
// above: times 5 into column 0 (hi2 at 2^140 = 2^130 * 2^10). Leaves the invariant of the file comment.
WG_INLINE void carry(const __m512i lo[3], const __m512i hi[3], __m512i h[3]) {
  const __m512i mask44 = _mm512_set1_epi64(static_cast<long long>(kMask44));
  const __m512i mask42 = _mm512_set1_epi64(static_cast<long long>(kMask42));
  const __m512i c1 = _mm512_add_epi64(lo[1], _mm512_slli_epi64(hi[0], 8));
  const __m512i c2 = _mm512_add_epi64(lo[2], _mm512_slli_epi64(hi[1], 8));
  const __m512i w = _mm512_slli_epi64(hi[2], 10);
  __m512i d1 = _mm512_add_epi64(c1, _mm512_srli_epi64(lo[0], 44));
  __m512i d2 = _mm512_add_epi64(c2, _mm512_srli_epi64(d1, 44));
  __m512i c = _mm512_add_epi64(w, _mm512_srli_epi64(d2, 42));
  __m512i d0 = _mm512_and_si512(lo[0], mask44);
  d0 = _mm512_add_epi64(d0, _mm512_add_epi64(c, _mm512_slli_epi64(c, 2)));
  d1 = _mm512_and_si512(d1, mask44);
  h[1] = _mm512_add_epi64(d1, _mm512_srli_epi64(d0, 44));
  h[0] = _mm512_and_si512(d0, mask44);
  h[2] = _mm512_and_si512(d2, mask42);
}

// h = (h + m) r for one block per lane (m split, with its 2^128 bits).
WG_INLINE void step1(const Kernel& k, __m512i h[3], __m512i m[3]) {
  for (int i = 0; i < 3; ++i) m[i] = _mm512_add_epi64(m[i], h[i]);
  __m512i lo[3], hi[3];
  for (int i = 0; i < 3; ++i) lo[i] = hi[i] = _mm512_setzero_si512();
  mac(lo, hi, m, k.r[0], k.s[0]);
  carry(lo, hi, h);
}

// Eight blocks, lane l's at q[l] + off.
WG_INLINE void load8_at(const std::uint8_t* const q[kLanes], std::size_t off, __m512i& w0, __m512i& w1) {
  const std::uint8_t* const at[kLanes] = {q[0] + off, q[1] + off, q[2] + off, q[3] + off,
                                          q[4] + off, q[5] + off, q[6] + off, q[7] + off};
  load8(at, w0, w1);
}

// h = (h + m) r over the `blocks` blocks at q[l], q[l] + 16, ... in every lane, read in place (no lane moves
// to its tail buffer within them); q[l] is advanced past them. The first `quads` * 4 blocks go four per step,
//   h = (h + m1) r^4 + m2 r^3 + m3 r^2 + m4 r,
// (k.r[1..3] must be set then): one carry per four blocks, and only the product of h + m1 waits on h, so the
// multiplies of m2..m4 overlap the previous step's carry chain.
WG_INLINE void blocks8(const Kernel& k, __m512i h[3], const std::uint8_t* q[kLanes], std::size_t quads,
                       std::size_t blocks) {
  std::size_t off = 0;
  for (const std::size_t quad_end = 64 * quads; off < quad_end; off += 64) {
    __m512i w0, w1, m[4][3];
    for (int j = 0; j < 4; ++j) {
      load8_at(q, off + 16 * static_cast<std::size_t>(j), w0, w1);
      split(w0, w1, k.hibit, m[j]);
    }
    __m512i lo[3], hi[3];
    for (int i = 0; i < 3; ++i) lo[i] = hi[i] = _mm512_setzero_si512();
    mac(lo, hi, m[3], k.r[0], k.s[0]);
    mac(lo, hi, m[2], k.r[1], k.s[1]);
    mac(lo, hi, m[1], k.r[2], k.s[2]);
    for (int i = 0; i < 3; ++i) m[0][i] = _mm512_add_epi64(m[0][i], h[i]);
    mac(lo, hi, m[0], k.r[3], k.s[3]);
    carry(lo, hi, h);
  }
  for (const std::size_t end = 16 * blocks; off < end; off += 16) {
    __m512i w0, w1, m[3];
    load8_at(q, off, w0, w1);
    split(w0, w1, k.hibit, m);
    step1(k, h, m);
  }
  for (int l = 0; l < kLanes; ++l) q[l] += off;
}

// The same for two independent groups of eight lanes, one block per step, interleaved: a short pass is a
// chain of dependent steps, and two chains side by side keep the multipliers busy while each waits.
WG_INLINE void blocks8x2(const Kernel& ka, const Kernel& kb, __m512i ha[3], __m512i hb[3],
                         const std::uint8_t* qa[kLanes], const std::uint8_t* qb[kLanes], std::size_t blocks) {
  for (std::size_t off = 0; off < 16 * blocks; off += 16) {
    __m512i w0, w1, ma[3], mb[3];
    load8_at(qa, off, w0, w1);
    split(w0, w1, ka.hibit, ma);
    load8_at(qb, off, w0, w1);
    split(w0, w1, kb.hibit, mb);
    step1(ka, ha, ma);
    step1(kb, hb, mb);
  }
  for (int l = 0; l < kLanes; ++l) {
    qa[l] += 16 * blocks;
    qb[l] += 16 * blocks;
  }
}

// h = (h + m) r over `blocks` blocks, one per step, lane l reading from q[l] on and moving to its tail
// buffer k.tp[l] at block k.sw[l] (branch-free: cmov). For the last few blocks of a pass, where lanes reach
// their tails.
WG_INLINE void blocks8_switching(const Kernel& k, __m512i h[3], const std::uint8_t* q[kLanes], std::size_t b,
                                 std::size_t blocks) {
  for (; b < blocks; ++b) {
    for (int l = 0; l < kLanes; ++l) q[l] = b == k.sw[l] ? k.tp[l] : q[l];
    __m512i w0, w1, m[3];
    load8(q, w0, w1);
    for (int l = 0; l < kLanes; ++l) q[l] += 16;
    split(w0, w1, k.hibit, m);
    step1(k, h, m);
  }
}

// h = (h + m) r for the partial last block of every lane, its `rest` (1..15) bytes at q[l] zero-padded, with
// hibit: each lane's bytes in one masked load (bytes past the payload are neither read nor faulted on).
WG_INLINE void partial_step(const Kernel& k, __m512i h[3], const std::uint8_t* const q[kLanes], std::size_t rest) {
  const __mmask16 live = static_cast<__mmask16>((1u << rest) - 1);
  __m512i a = _mm512_castsi128_si512(_mm_maskz_loadu_epi8(live, q[0]));
  __m512i b = _mm512_castsi128_si512(_mm_maskz_loadu_epi8(live, q[1]));
  a = _mm512_inserti32x4(a, _mm_maskz_loadu_epi8(live, q[2]), 1);
  b = _mm512_inserti32x4(b, _mm_maskz_loadu_epi8(live, q[3]), 1);
  a = _mm512_inserti32x4(a, _mm_maskz_loadu_epi8(live, q[4]), 2);
  b = _mm512_inserti32x4(b, _mm_maskz_loadu_epi8(live, q[5]), 2);
  a = _mm512_inserti32x4(a, _mm_maskz_loadu_epi8(live, q[6]), 3);
  b = _mm512_inserti32x4(b, _mm_maskz_loadu_epi8(live, q[7]), 3);
  __m512i m[3];
  split(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b), k.hibit, m);
  step1(k, h, m);
}

// The block le64(0) || le64(len), with the 2^128 bit, in every lane: the AEAD's last block in a uniform batch.
WG_INLINE void lengths_step(const Kernel& k, __m512i h[3], std::size_t len) {
  __m512i m[3];
  split(_mm512_setzero_si512(), _mm512_set1_epi64(static_cast<long long>(len)), k.hibit, m);
  step1(k, h, m);
}

// 20 x = 16 x + 4 x (vpmullq would need AVX512DQ, which is not among this library's flags).
WG_INLINE __m512i times20(__m512i x) { return _mm512_add_epi64(_mm512_slli_epi64(x, 4), _mm512_slli_epi64(x, 2)); }

// Every lane's clamped r from its key (RFC 8439 section 2.5.1) as k.r[0], k.s[0]. Clamping leaves r below
// 2^124: limbs below 2^44, 2^44, 2^36.
WG_INLINE void set_r(Kernel& k, const std::uint8_t* const key[kLanes]) {
  __m512i k0, k1;
  load8(key, k0, k1);
  k0 = _mm512_and_si512(k0, _mm512_set1_epi64(0x0ffffffc0fffffffLL));
  k1 = _mm512_and_si512(k1, _mm512_set1_epi64(0x0ffffffc0ffffffcLL));
  __m512i m[3];
  split(k0, k1, _mm512_setzero_si512(), m);
  for (int i = 0; i < 3; ++i) k.r[0][i] = m[i];
  k.s[0][0] = times20(m[1]);
  k.s[0][1] = times20(m[2]);
}

// k.r[p] = a * b for powers a, b (limbs meeting the invariant); k.s[p] its limbs 1, 2 times 20.
WG_INLINE void set_power(Kernel& k, int p, const __m512i a[3], const __m512i x[3], const __m512i s[2]) {
  __m512i lo[3], hi[3];
  for (int i = 0; i < 3; ++i) lo[i] = hi[i] = _mm512_setzero_si512();
  mac(lo, hi, a, x, s);
  carry(lo, hi, k.r[p]);
  k.s[p][0] = times20(k.r[p][1]);
  k.s[p][1] = times20(k.r[p][2]);
}

// r^2, r^3 = r^2 r and r^4 = r^2 r^2 for every lane (two multiplies deep), for four-block steps.
WG_INLINE void set_powers(Kernel& k) {
  set_power(k, 1, k.r[0], k.r[0], k.s[0]);
  set_power(k, 2, k.r[1], k.r[0], k.s[0]);
  set_power(k, 3, k.r[1], k.r[1], k.s[1]);
}

// The tags of all eight lanes: h mod 2^130 - 5, plus s, mod 2^128 (RFC 8439 section 2.5.1), lane l's to
// tag[l]. Constant time: no branch or lookup on secret data.
WG_INLINE void finish8(const __m512i h_in[3], const std::uint8_t* const key[kLanes],
                       std::uint8_t* const tag[kLanes]) {
  const __m512i mask44 = _mm512_set1_epi64(static_cast<long long>(kMask44));
  const __m512i mask42 = _mm512_set1_epi64(static_cast<long long>(kMask42));
  __m512i h0 = h_in[0], h1 = h_in[1], h2 = h_in[2];
  // Coming in: h0 < 2^44, h1 < 2^44 + 2^14, h2 < 2^42. Carry 1 -> 2 -> (times 5) 0 -> 1 -> 2: then h0, h1 <
  // 2^44 and h2 <= 2^42, so h < 2^130 + 2^88 < 2p.
  h2 = _mm512_add_epi64(h2, _mm512_srli_epi64(h1, 44));
  h1 = _mm512_and_si512(h1, mask44);
  __m512i c = _mm512_srli_epi64(h2, 42);
  h2 = _mm512_and_si512(h2, mask42);
  h0 = _mm512_add_epi64(h0, _mm512_add_epi64(c, _mm512_slli_epi64(c, 2)));
  h1 = _mm512_add_epi64(h1, _mm512_srli_epi64(h0, 44));
  h0 = _mm512_and_si512(h0, mask44);
  h2 = _mm512_add_epi64(h2, _mm512_srli_epi64(h1, 44));
  h1 = _mm512_and_si512(h1, mask44);
  // g = h + 5 - 2^130: where bit 130 of h + 5 is set (bit 42 of limb 2), h >= p and g is h mod p.
  __m512i g0 = _mm512_add_epi64(h0, _mm512_set1_epi64(5));
  __m512i g1 = _mm512_add_epi64(h1, _mm512_srli_epi64(g0, 44));
  g0 = _mm512_and_si512(g0, mask44);
  __m512i g2 = _mm512_add_epi64(h2, _mm512_srli_epi64(g1, 44));
  g1 = _mm512_and_si512(g1, mask44);
  const __mmask8 use_g = _mm512_test_epi64_mask(g2, _mm512_set1_epi64(static_cast<long long>(kMask42 + 1)));
  h0 = _mm512_mask_mov_epi64(h0, use_g, g0);
  h1 = _mm512_mask_mov_epi64(h1, use_g, g1);
  h2 = _mm512_mask_mov_epi64(h2, use_g, g2);  // bits above 42 of g2 fall out of the 128-bit tag below
  // h mod 2^128 in 64-bit halves, plus s with the carry between the halves.
  __m512i s0, s1;
  const std::uint8_t* const s_at[kLanes] = {key[0] + 16, key[1] + 16, key[2] + 16, key[3] + 16,
                                            key[4] + 16, key[5] + 16, key[6] + 16, key[7] + 16};
  load8(s_at, s0, s1);
  const __m512i lo = _mm512_add_epi64(_mm512_or_si512(h0, _mm512_slli_epi64(h1, 44)), s0);
  __m512i hi = _mm512_add_epi64(_mm512_or_si512(_mm512_srli_epi64(h1, 20), _mm512_slli_epi64(h2, 24)), s1);
  const __mmask8 carried = _mm512_cmplt_epu64_mask(lo, s0);
  hi = _mm512_mask_add_epi64(hi, carried, hi, _mm512_set1_epi64(1));
  // Lane l's tag is (lo[l], hi[l]): 128-bit lane i of a holds lane 2i's, of b lane 2i + 1's.
  const __m512i a = _mm512_unpacklo_epi64(lo, hi);
  const __m512i b = _mm512_unpackhi_epi64(lo, hi);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[0]), _mm512_castsi512_si128(a));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[1]), _mm512_castsi512_si128(b));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[2]), _mm512_extracti32x4_epi32(a, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[3]), _mm512_extracti32x4_epi32(b, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[4]), _mm512_extracti32x4_epi32(a, 2));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[5]), _mm512_extracti32x4_epi32(b, 2));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[6]), _mm512_extracti32x4_epi32(a, 3));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag[7]), _mm512_extracti32x4_epi32(b, 3));
}

// Zeroes every vector register (h, r and its powers may be left in any of zmm0-31; vzeroall reaches only
// zmm0-15). An EVEX write to an xmm register zeroes the rest of its zmm.
WG_INLINE void wipe_vector_registers() {
  asm volatile(
      "vzeroall\n\t"
      "vpxord %%xmm16, %%xmm16, %%xmm16\n\tvpxord %%xmm17, %%xmm17, %%xmm17\n\t"
      "vpxord %%xmm18, %%xmm18, %%xmm18\n\tvpxord %%xmm19, %%xmm19, %%xmm19\n\t"
      "vpxord %%xmm20, %%xmm20, %%xmm20\n\tvpxord %%xmm21, %%xmm21, %%xmm21\n\t"
      "vpxord %%xmm22, %%xmm22, %%xmm22\n\tvpxord %%xmm23, %%xmm23, %%xmm23\n\t"
      "vpxord %%xmm24, %%xmm24, %%xmm24\n\tvpxord %%xmm25, %%xmm25, %%xmm25\n\t"
      "vpxord %%xmm26, %%xmm26, %%xmm26\n\tvpxord %%xmm27, %%xmm27, %%xmm27\n\t"
      "vpxord %%xmm28, %%xmm28, %%xmm28\n\tvpxord %%xmm29, %%xmm29, %%xmm29\n\t"
      "vpxord %%xmm30, %%xmm30, %%xmm30\n\tvpxord %%xmm31, %%xmm31, %%xmm31\n\t" ::
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
            "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
            "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

#undef WG_INLINE

}  // namespace
}  // namespace wg::crypto::simd
