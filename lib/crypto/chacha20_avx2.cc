// ChaCha20 keystream across packets, eight blocks at a time (RFC 8439 sections 2.1-2.4). The one translation
// unit built with -mavx2 (lib/meson.build); see chacha20_avx2.h for the interface.
//
// Flow: chacha20_xor_streams_avx2 walks the (stream, block) pairs into groups of eight lanes; run_group then
// (1) lays out the input state of the group, (2) runs the block function (chacha_block8: 20 rounds in inline
// assembly, plus the add-back), (3) transposes the result into per-lane keystream and (4) XORs it into each
// lane's target. Where no lane is pending and a stream has eight whole blocks left, they go as one group
// (run_run8: key and nonce broadcast, counters n..n+7, 512 contiguous bytes XORed), which skips the lane
// records, the input transposes and the per-lane length checks: about 7 % of the keystream of 1424-byte
// bursts on the Zen 3 development VM.
//
// Lane layout: state word i (i = 0..15) of eight independent blocks is one ymm register (or 32-byte row),
// lane l belonging to the same block in every word. The blocks come from a cursor over (stream, block) pairs,
// so lane l may be block 0 of one packet while lane l+1 is block 17 of another under a different key. Keys
// enter as eight 32-byte rows (one per lane) and are transposed into words 4..11; counter and nonce words
// enter as one 16-byte row per lane and are transposed into words 12..15. The output state is transposed
// again (words 0-7 and 8-15 separately) so each lane's 64 keystream bytes are two ymm registers, XORed into
// the target.
//
// Why the rounds are assembly: the state is 16 ymm registers and the rounds need at least one more (the
// shift temporary of the 12- and 7-bit rotations), so something must live in memory. GCC's register
// allocator spills and reloads whatever it likes inside the intrinsics loop; the hand-scheduled rounds below
// keep exactly one state word in memory and run the 20 rounds about 25% faster (see chacha_block8).
//
// Why no std:: templates or shared inline helpers here: a function instantiated in this file would be
// compiled with AVX2, and the linker may pick that copy for callers in baseline files, which would then fault
// on a CPU without AVX2. Everything below is intrinsics, inline assembly and plain loops, in an anonymous
// namespace.
#include "lib/crypto/chacha20_avx2.h"

#include <immintrin.h>

#include <cstddef>  // offsetof

namespace wg::crypto::simd {
namespace {

constexpr std::uint32_t kBlockBytes = 64;
constexpr int kLanes = 8;

// One lane's job within a group: where its block's keystream goes. The lane's words 12..15 (counter and
// nonce) travel separately as one 16-byte vector per lane (see run_group).
struct Lane {
  const std::uint8_t* key;
  std::uint8_t* out;
  std::uint32_t n;  // 1..64 bytes to XOR; 0 for an idle lane (last group of a call)
};

// Byte shuffles rotating each 32-bit word left by 16 and by 8; vpshufb reads them from memory, so they take
// no register.
alignas(32) constexpr std::uint8_t kRot16[32] = {2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                                 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13};
alignas(32) constexpr std::uint8_t kRot8[32] = {3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
                                                3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14};

// Register plan of the rounds (AT&T syntax: "op src2, src1, dst" computes dst = src1 op src2). Fifteen state
// words live in registers; word 11 lives in out[11] for the whole 20 rounds, and ymm15 is the one temporary.
// Each c word (8..11) takes part in exactly one quarter round per half round, so keeping one of them in
// memory costs one folded load and one store per c update (four of each per double round) and needs no
// swapping. One temporary is enough because every use of it is short (a memory c update, or one rotation)
// and register renaming lets the four quarter rounds reuse it without waiting on each other. Measured alone
// on the AMD Zen 3 development machine (20 rounds plus add-back of eight blocks): about 360 TSC cycles,
// against about 370-380 for OpenSSL's ChaCha20_8x plan (two c words in memory, swapped with the two in
// registers twice per double round, two temporaries) and about 490 for the intrinsics this replaced.
#define WG_X0 "%%ymm0"
#define WG_X1 "%%ymm1"
#define WG_X2 "%%ymm2"
#define WG_X3 "%%ymm3"
#define WG_X4 "%%ymm4"
#define WG_X5 "%%ymm5"
#define WG_X6 "%%ymm6"
#define WG_X7 "%%ymm7"
#define WG_X8 "%%ymm12"
#define WG_X9 "%%ymm13"
#define WG_X10 "%%ymm14"
#define WG_X11 "352(%[out])"
#define WG_X12 "%%ymm8"
#define WG_X13 "%%ymm9"
#define WG_X14 "%%ymm10"
#define WG_X15 "%%ymm11"
#define WG_T "%%ymm15"

// b = rotl(b, shl) through the temporary: three instructions, as AVX2 has no vector rotate.
#define WG_ROTL(b, shl, shr)                                                                    \
  "vpslld $" shl ", " b ", " WG_T "\n\t"                                                        \
  "vpsrld $" shr ", " b ", " b "\n\t"                                                           \
  "vpor " WG_T ", " b ", " b "\n\t"

// Half of four quarter rounds side by side (RFC 8439 section 2.1): a += b; d ^= a; d <<<= 16 (or 8);
// c += d; b ^= c; b <<<= 12 (or 7). Quarter rounds 0-2 have c in a register; quarter round 3 has c = word 11
// in memory, updated through the temporary. The instructions go stage by stage across the four quarter
// rounds so that independent instructions sit next to each other. Quarter round 3's b ^= c and rotation
// come first in their stages: the temporary holds its c until that b ^= c, and the rotations reuse it.
#define WG_HALF4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, d3, mask, shl, shr)    \
  "vpaddd " b0 ", " a0 ", " a0 "\n\t"                                                           \
  "vpaddd " b1 ", " a1 ", " a1 "\n\t"                                                           \
  "vpaddd " b2 ", " a2 ", " a2 "\n\t"                                                           \
  "vpaddd " b3 ", " a3 ", " a3 "\n\t"                                                           \
  "vpxor " a0 ", " d0 ", " d0 "\n\t"                                                            \
  "vpxor " a1 ", " d1 ", " d1 "\n\t"                                                            \
  "vpxor " a2 ", " d2 ", " d2 "\n\t"                                                            \
  "vpxor " a3 ", " d3 ", " d3 "\n\t"                                                            \
  "vpshufb " mask ", " d0 ", " d0 "\n\t"                                                        \
  "vpshufb " mask ", " d1 ", " d1 "\n\t"                                                        \
  "vpshufb " mask ", " d2 ", " d2 "\n\t"                                                        \
  "vpshufb " mask ", " d3 ", " d3 "\n\t"                                                        \
  "vpaddd " d0 ", " c0 ", " c0 "\n\t"                                                           \
  "vpaddd " d1 ", " c1 ", " c1 "\n\t"                                                           \
  "vpaddd " d2 ", " c2 ", " c2 "\n\t"                                                           \
  "vpaddd " WG_X11 ", " d3 ", " WG_T "\n\t"                                                     \
  "vmovdqa " WG_T ", " WG_X11 "\n\t"                                                            \
  "vpxor " WG_T ", " b3 ", " b3 "\n\t"                                                          \
  "vpxor " c0 ", " b0 ", " b0 "\n\t"                                                            \
  "vpxor " c1 ", " b1 ", " b1 "\n\t"                                                            \
  "vpxor " c2 ", " b2 ", " b2 "\n\t"                                                            \
  WG_ROTL(b3, shl, shr)                                                                         \
  WG_ROTL(b0, shl, shr)                                                                         \
  WG_ROTL(b1, shl, shr)                                                                         \
  WG_ROTL(b2, shl, shr)

#define WG_QUARTER4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, d3)                 \
  WG_HALF4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, d3, "%[r16]", "12", "20")    \
  WG_HALF4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, d3, "%[r8]", "7", "25")

// out = the state after 20 rounds plus the input state: the block function (RFC 8439 section 2.3) of eight
// blocks. Both arrays are 32-byte aligned and must not overlap (out[11] holds word 11 during the rounds).
void chacha_block8(const __m256i in[16], __m256i out[16]) {
  std::uint32_t rounds;
  asm volatile(
      "vmovdqa 0(%[in]), " WG_X0 "\n\t"
      "vmovdqa 32(%[in]), " WG_X1 "\n\t"
      "vmovdqa 64(%[in]), " WG_X2 "\n\t"
      "vmovdqa 96(%[in]), " WG_X3 "\n\t"
      "vmovdqa 128(%[in]), " WG_X4 "\n\t"
      "vmovdqa 160(%[in]), " WG_X5 "\n\t"
      "vmovdqa 192(%[in]), " WG_X6 "\n\t"
      "vmovdqa 224(%[in]), " WG_X7 "\n\t"
      "vmovdqa 256(%[in]), " WG_X8 "\n\t"
      "vmovdqa 288(%[in]), " WG_X9 "\n\t"
      "vmovdqa 320(%[in]), " WG_X10 "\n\t"
      "vmovdqa 352(%[in]), " WG_T "\n\t"
      "vmovdqa " WG_T ", " WG_X11 "\n\t"
      "vmovdqa 384(%[in]), " WG_X12 "\n\t"
      "vmovdqa 416(%[in]), " WG_X13 "\n\t"
      "vmovdqa 448(%[in]), " WG_X14 "\n\t"
      "vmovdqa 480(%[in]), " WG_X15 "\n\t"
      "movl $10, %k[rounds]\n"
      "1:\n\t"
      // Columns, then diagonals; the quarter round on word 11 goes last (WG_HALF4's a3/b3/d3).
      WG_QUARTER4(WG_X0, WG_X4, WG_X8, WG_X12, WG_X1, WG_X5, WG_X9, WG_X13,
                  WG_X2, WG_X6, WG_X10, WG_X14, WG_X3, WG_X7, WG_X15)
      WG_QUARTER4(WG_X0, WG_X5, WG_X10, WG_X15, WG_X2, WG_X7, WG_X8, WG_X13,
                  WG_X3, WG_X4, WG_X9, WG_X14, WG_X1, WG_X6, WG_X12)
      "decl %k[rounds]\n\t"
      "jnz 1b\n\t"
      "vpaddd 0(%[in]), " WG_X0 ", " WG_X0 "\n\t"
      "vpaddd 32(%[in]), " WG_X1 ", " WG_X1 "\n\t"
      "vpaddd 64(%[in]), " WG_X2 ", " WG_X2 "\n\t"
      "vpaddd 96(%[in]), " WG_X3 ", " WG_X3 "\n\t"
      "vpaddd 128(%[in]), " WG_X4 ", " WG_X4 "\n\t"
      "vpaddd 160(%[in]), " WG_X5 ", " WG_X5 "\n\t"
      "vpaddd 192(%[in]), " WG_X6 ", " WG_X6 "\n\t"
      "vpaddd 224(%[in]), " WG_X7 ", " WG_X7 "\n\t"
      "vpaddd 256(%[in]), " WG_X8 ", " WG_X8 "\n\t"
      "vpaddd 288(%[in]), " WG_X9 ", " WG_X9 "\n\t"
      "vpaddd 320(%[in]), " WG_X10 ", " WG_X10 "\n\t"
      "vmovdqa " WG_X11 ", " WG_T "\n\t"
      "vpaddd 352(%[in]), " WG_T ", " WG_T "\n\t"
      "vpaddd 384(%[in]), " WG_X12 ", " WG_X12 "\n\t"
      "vpaddd 416(%[in]), " WG_X13 ", " WG_X13 "\n\t"
      "vpaddd 448(%[in]), " WG_X14 ", " WG_X14 "\n\t"
      "vpaddd 480(%[in]), " WG_X15 ", " WG_X15 "\n\t"
      "vmovdqa " WG_X0 ", 0(%[out])\n\t"
      "vmovdqa " WG_X1 ", 32(%[out])\n\t"
      "vmovdqa " WG_X2 ", 64(%[out])\n\t"
      "vmovdqa " WG_X3 ", 96(%[out])\n\t"
      "vmovdqa " WG_X4 ", 128(%[out])\n\t"
      "vmovdqa " WG_X5 ", 160(%[out])\n\t"
      "vmovdqa " WG_X6 ", 192(%[out])\n\t"
      "vmovdqa " WG_X7 ", 224(%[out])\n\t"
      "vmovdqa " WG_X8 ", 256(%[out])\n\t"
      "vmovdqa " WG_X9 ", 288(%[out])\n\t"
      "vmovdqa " WG_X10 ", 320(%[out])\n\t"
      "vmovdqa " WG_T ", " WG_X11 "\n\t"
      "vmovdqa " WG_X12 ", 384(%[out])\n\t"
      "vmovdqa " WG_X13 ", 416(%[out])\n\t"
      "vmovdqa " WG_X14 ", 448(%[out])\n\t"
      "vmovdqa " WG_X15 ", 480(%[out])\n\t"
      : [rounds] "=&r"(rounds)
      : [in] "r"(in), [out] "r"(out), [r16] "m"(kRot16), [r8] "m"(kRot8)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

#undef WG_QUARTER4
#undef WG_HALF4
#undef WG_ROTL
#undef WG_T
#undef WG_X15
#undef WG_X14
#undef WG_X13
#undef WG_X12
#undef WG_X11
#undef WG_X10
#undef WG_X9
#undef WG_X8
#undef WG_X7
#undef WG_X6
#undef WG_X5
#undef WG_X4
#undef WG_X3
#undef WG_X2
#undef WG_X1
#undef WG_X0

// In-register 8x8 transpose of 32-bit words: row r, word w -> row w, word r.
inline void transpose8(__m256i r[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]);
  const __m256i t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]);
  const __m256i t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]);
  const __m256i t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]);
  const __m256i t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2);  // words 0 | 4 of rows 0-3
  const __m256i u1 = _mm256_unpackhi_epi64(t0, t2);  // words 1 | 5
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3);  // words 2 | 6
  const __m256i u3 = _mm256_unpackhi_epi64(t1, t3);  // words 3 | 7
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6);  // the same for rows 4-7
  const __m256i u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7);
  const __m256i u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// Words 0..3 of every lane: "expand 32-byte k" (RFC 8439 section 2.3).
inline void set_constants(__m256i in[16]) {
  in[0] = _mm256_set1_epi32(0x61707865);
  in[1] = _mm256_set1_epi32(0x3320646e);
  in[2] = _mm256_set1_epi32(0x79622d32);
  in[3] = _mm256_set1_epi32(0x6b206574);
}

// Words 4..11 of every lane from one key: each word broadcast.
inline void set_one_key(__m256i in[16], const std::uint8_t* key) {
  for (int i = 0; i < 8; ++i) in[4 + i] = _mm256_broadcastd_epi32(_mm_loadu_si32(key + 4 * i));
}

// XORs one whole block of keystream (its bytes 0..31 in lo, 32..63 in hi) into out[0, 64).
inline void xor_block(std::uint8_t* out, __m256i lo, __m256i hi) {
  const __m256i d0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out));
  const __m256i d1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out + 32));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_xor_si256(d0, lo));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), _mm256_xor_si256(d1, hi));
}

// XORs 32 keystream bytes (or the first n of them) into out. WireGuard pads payloads to 16 bytes, so a
// partial half is almost always one 16-byte piece; single bytes only for other callers.
inline void xor_half(std::uint8_t* out, __m256i ks, std::uint32_t n) {
  if (n >= 32) {
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_xor_si256(d, ks));
    return;
  }
  __m128i k = _mm256_castsi256_si128(ks);
  if (n >= 16) {
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(out));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_xor_si128(d, k));
    k = _mm256_extracti128_si256(ks, 1);
    out += 16;
    n -= 16;
  }
  if (n == 0) return;
  alignas(16) std::uint8_t bytes[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(bytes), k);
  for (std::uint32_t i = 0; i < n; ++i) out[i] ^= bytes[i];
}

// Computes the blocks of lanes[0, kLanes) and XORs them into their targets; words[l] is lane l's state words
// 12..15. Idle lanes (n == 0) repeat lane 0's input and their output is dropped.
void run_group(const Lane* lanes, const __m128i* words) {
  alignas(32) __m256i in[16];
  set_constants(in);
  // Per-lane words 4..11 (the key), so that row i holds word 4+i of every lane: broadcast when the whole
  // group has one key (one peer's burst, or one long packet), else transposed from one row per lane.
  bool one_key = true;
  for (int l = 1; l < kLanes; ++l) one_key &= lanes[l].key == lanes[0].key;
  if (one_key) {
    set_one_key(in, lanes[0].key);
  } else {
    for (int l = 0; l < kLanes; ++l) {
      in[4 + l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes[l].key));
    }
    transpose8(in + 4);
  }
  // Words 12..15: lanes l and l + 4 share a register (low and high half), then a 4x4 transpose within each
  // half. Built from whole-vector loads: per-lane scalar stores read back as vectors would miss store
  // forwarding and stall the group's start.
  const __m256i a0 = _mm256_inserti128_si256(_mm256_castsi128_si256(words[0]), words[4], 1);
  const __m256i a1 = _mm256_inserti128_si256(_mm256_castsi128_si256(words[1]), words[5], 1);
  const __m256i a2 = _mm256_inserti128_si256(_mm256_castsi128_si256(words[2]), words[6], 1);
  const __m256i a3 = _mm256_inserti128_si256(_mm256_castsi128_si256(words[3]), words[7], 1);
  const __m256i t0 = _mm256_unpacklo_epi32(a0, a1);  // words 12, 13 of lanes 0, 1 | 4, 5
  const __m256i t1 = _mm256_unpackhi_epi32(a0, a1);  // words 14, 15
  const __m256i t2 = _mm256_unpacklo_epi32(a2, a3);  // the same for lanes 2, 3 | 6, 7
  const __m256i t3 = _mm256_unpackhi_epi32(a2, a3);
  in[12] = _mm256_unpacklo_epi64(t0, t2);
  in[13] = _mm256_unpackhi_epi64(t0, t2);
  in[14] = _mm256_unpacklo_epi64(t1, t3);
  in[15] = _mm256_unpackhi_epi64(t1, t3);

  // Transposed in place: copying the block function's output into separate arrays first made GCC move it in
  // 16-byte halves, which the transpose's 32-byte loads then could not take from the store buffer.
  alignas(32) __m256i ks[16];
  chacha_block8(in, ks);
  transpose8(ks);      // ks[l] = keystream bytes 0..31 of lane l
  transpose8(ks + 8);  // ks[8 + l] = bytes 32..63
  for (int l = 0; l < kLanes; ++l) {
    const std::uint32_t n = lanes[l].n;
    if (n == 0) continue;
    std::uint8_t* out = lanes[l].out;
    if (n == kBlockBytes) {
      xor_block(out, ks[l], ks[8 + l]);
    } else {
      xor_half(out, ks[l], n);
      if (n > 32) xor_half(out + 32, ks[8 + l], n - 32);
    }
  }
}

// Eight consecutive full blocks of one stream (words: its state words 12..15 at the first of them) XORed
// into out[0, 512): the common case of a long packet, without the per-lane bookkeeping, key and word
// transposes, or per-lane length checks of run_group.
void run_run8(const std::uint8_t* key, __m128i words, std::uint8_t* out) {
  alignas(32) __m256i in[16];
  set_constants(in);
  set_one_key(in, key);
  const __m256i w = _mm256_broadcastsi128_si256(words);
  in[12] = _mm256_add_epi32(_mm256_shuffle_epi32(w, 0x00), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  in[13] = _mm256_shuffle_epi32(w, 0x55);
  in[14] = _mm256_shuffle_epi32(w, 0xaa);
  in[15] = _mm256_shuffle_epi32(w, 0xff);
  alignas(32) __m256i ks[16];
  chacha_block8(in, ks);
  transpose8(ks);
  transpose8(ks + 8);
  for (int l = 0; l < kLanes; ++l) xor_block(out + l * kBlockBytes, ks[l], ks[8 + l]);
}

}  // namespace

// ChachaStream keeps counter and nonce side by side: a lane's words 12..15 are one 16-byte load plus its
// block index.
static_assert(offsetof(ChachaStream, nonce) == offsetof(ChachaStream, counter) + 4);

void chacha20_xor_streams_avx2(const ChachaStream* streams, std::size_t n) {
  Lane lanes[kLanes];
  __m128i words[kLanes];
  int filled = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const ChachaStream& st = streams[s];
    __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const std::uint8_t*>(&st) +
                                                                 offsetof(ChachaStream, counter)));
    const __m128i one = _mm_cvtsi32_si128(1);
    const __m128i eight = _mm_cvtsi32_si128(8);
    for (std::uint32_t off = 0; off < st.len;) {
      // With no lane pending, eight whole blocks of this stream go as one group.
      if (filled == 0 && st.len - off >= 8 * kBlockBytes) {
        run_run8(st.key, w, st.data + off);
        off += 8 * kBlockBytes;
        w = _mm_add_epi32(w, eight);
        continue;
      }
      const std::uint32_t left = st.len - off;
      lanes[filled] = {st.key, st.data + off, left < kBlockBytes ? left : kBlockBytes};
      words[filled] = w;
      if (++filled == kLanes) {
        run_group(lanes, words);
        filled = 0;
      }
      off += kBlockBytes;
      w = _mm_add_epi32(w, one);
    }
  }
  if (filled == 0) return;
  for (int l = filled; l < kLanes; ++l) {
    lanes[l] = {lanes[0].key, nullptr, 0};
    words[l] = words[0];
  }
  run_group(lanes, words);
}

}  // namespace wg::crypto::simd
