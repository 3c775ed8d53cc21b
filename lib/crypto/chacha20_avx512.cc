// ChaCha20 keystream across packets, 32 blocks at a time (RFC 8439 sections 2.1-2.4). Built with
// -mavx512f -mavx512vl -mavx512bw (lib/meson.build, wg_lib_avx512); see chacha20_avx512.h for the interface.
//
// Flow: chacha20_xor_streams_avx512 walks the streams and cuts their blocks into halves of sixteen lanes
// (Half: one ChaCha20 block per 32-bit lane of 16 zmm words). (1) While a stream has sixteen whole blocks
// left they make one uniform half (set_run: key and nonce broadcast, counters n..n+15, 1024 contiguous bytes
// to XOR), whatever lanes are pending: the order in which blocks are computed does not matter, so every long
// packet's body is uniform and only its tail, short packets and block 0s share mixed halves. (2) The other
// (stream, block) pairs are queued as lanes of a mixed group (Group); a full group becomes a half (set_group:
// the key broadcast when all lanes share one, else transposed from one row per lane; counter and nonce words
// transposed). (3) Halves run two at a time (Walker, block32: the rounds of 32 blocks interleaved in all 32
// zmm registers); a half left over at the end runs alone (block16). (4) emit transposes each half's output
// into one zmm of keystream per lane and XORs it into the targets, whole blocks with plain loads and stores,
// partial ones with byte opmasks (no byte loops).
//
// Measured on the development VM (AMD EPYC family 26, Zen 5, 2 vCPUs shared with other work; TSC ticks at
// 2.1 GHz, medians of 61-101 interleaved repetitions), the engine's seal pattern of 32 block-0 slots plus 32
// payloads: 1420-byte payloads 13,000-15,400 ticks per burst (0.28-0.33 ticks/byte), 3.1-3.3x fewer than
// chacha20_xor_streams_avx2; 64-byte payloads 1,600-2,100 ticks (1.9-2.2x); IMIX 4,200-5,300 (2.5-3.0x).
// A uniform half costs about 245 ticks in a pair, a mixed one about 320 (the lane bookkeeping, the input
// transposes and the per-lane stores).
//
// Lane layout: state word i (i = 0..15) of sixteen independent blocks is one zmm register, lane l belonging
// to the same block in every word, as in chacha20_avx2.cc with twice the lanes. Rotations are vprold (one
// instruction, no temporary). Why pairs of halves: see block32.
//
// Counter: word 12 is incremented as a 32-bit word and wraps from 2^32 - 1 to 0 without carrying into the
// nonce, exactly as the AVX2 kernel does (WireGuard never gets near: a packet is at most 2^16 bytes from
// block 0).
//
// Why no std:: templates or shared inline helpers here: a function instantiated in this file would be
// compiled with AVX-512, and the linker may pick that copy for callers in baseline files, which would then
// fault on a CPU without AVX-512. Everything below is intrinsics and plain loops in an anonymous namespace.
#include "lib/crypto/chacha20_avx512.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32(), whose self-initialization it then reports
// as an uninitialized use wherever they are inlined (GCC bug 105593, fixed in GCC 13): silenced for this file
// only, which must therefore be read with care for real uninitialized uses.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>  // offsetof
#include <cstdint>

namespace wg::crypto::simd {
namespace {

constexpr std::uint32_t kBlockBytes = 64;
constexpr int kLanes = 16;
constexpr std::uint32_t kRunBytes = kLanes * kBlockBytes;  // one uniform half: 1024 bytes of one stream

// "expand 32-byte k" (RFC 8439 section 2.3), state words 0..3.
constexpr std::uint32_t kSigma0 = 0x61707865;
constexpr std::uint32_t kSigma1 = 0x3320646e;
constexpr std::uint32_t kSigma2 = 0x79622d32;
constexpr std::uint32_t kSigma3 = 0x6b206574;

// The 16 state words of 16 blocks, one zmm per word.
struct State {
  __m512i w[16];
};

// One quarter round on four columns or diagonals side by side (RFC 8439 section 2.1), written stage by stage
// so that the four independent chains sit next to each other.
#define WG_QR4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3)                               \
  do {                                                                                                       \
    a0 = _mm512_add_epi32(a0, b0); a1 = _mm512_add_epi32(a1, b1);                                            \
    a2 = _mm512_add_epi32(a2, b2); a3 = _mm512_add_epi32(a3, b3);                                            \
    d0 = _mm512_rol_epi32(_mm512_xor_si512(d0, a0), 16); d1 = _mm512_rol_epi32(_mm512_xor_si512(d1, a1), 16); \
    d2 = _mm512_rol_epi32(_mm512_xor_si512(d2, a2), 16); d3 = _mm512_rol_epi32(_mm512_xor_si512(d3, a3), 16); \
    c0 = _mm512_add_epi32(c0, d0); c1 = _mm512_add_epi32(c1, d1);                                            \
    c2 = _mm512_add_epi32(c2, d2); c3 = _mm512_add_epi32(c3, d3);                                            \
    b0 = _mm512_rol_epi32(_mm512_xor_si512(b0, c0), 12); b1 = _mm512_rol_epi32(_mm512_xor_si512(b1, c1), 12); \
    b2 = _mm512_rol_epi32(_mm512_xor_si512(b2, c2), 12); b3 = _mm512_rol_epi32(_mm512_xor_si512(b3, c3), 12); \
    a0 = _mm512_add_epi32(a0, b0); a1 = _mm512_add_epi32(a1, b1);                                            \
    a2 = _mm512_add_epi32(a2, b2); a3 = _mm512_add_epi32(a3, b3);                                            \
    d0 = _mm512_rol_epi32(_mm512_xor_si512(d0, a0), 8); d1 = _mm512_rol_epi32(_mm512_xor_si512(d1, a1), 8);  \
    d2 = _mm512_rol_epi32(_mm512_xor_si512(d2, a2), 8); d3 = _mm512_rol_epi32(_mm512_xor_si512(d3, a3), 8);  \
    c0 = _mm512_add_epi32(c0, d0); c1 = _mm512_add_epi32(c1, d1);                                            \
    c2 = _mm512_add_epi32(c2, d2); c3 = _mm512_add_epi32(c3, d3);                                            \
    b0 = _mm512_rol_epi32(_mm512_xor_si512(b0, c0), 7); b1 = _mm512_rol_epi32(_mm512_xor_si512(b1, c1), 7);  \
    b2 = _mm512_rol_epi32(_mm512_xor_si512(b2, c2), 7); b3 = _mm512_rol_epi32(_mm512_xor_si512(b3, c3), 7);  \
  } while (0)

// The block function (RFC 8439 section 2.3) of sixteen blocks: s becomes the state after 20 rounds plus the
// input state. Only for a half left without a partner at the end of a call (block32 is about a quarter
// faster per block); with 16 state words and 32 registers, GCC keeps the rounds in registers (objdump: no
// stack traffic in the loop).
[[gnu::always_inline]] inline void block16(State& s) {
  __m512i x0 = s.w[0], x1 = s.w[1], x2 = s.w[2], x3 = s.w[3], x4 = s.w[4], x5 = s.w[5], x6 = s.w[6],
          x7 = s.w[7], x8 = s.w[8], x9 = s.w[9], x10 = s.w[10], x11 = s.w[11], x12 = s.w[12], x13 = s.w[13],
          x14 = s.w[14], x15 = s.w[15];
  for (int i = 0; i < 10; ++i) {
    WG_QR4(x0, x4, x8, x12, x1, x5, x9, x13, x2, x6, x10, x14, x3, x7, x11, x15);  // columns
    WG_QR4(x0, x5, x10, x15, x1, x6, x11, x12, x2, x7, x8, x13, x3, x4, x9, x14);  // diagonals
  }
  s.w[0] = _mm512_add_epi32(x0, s.w[0]);
  s.w[1] = _mm512_add_epi32(x1, s.w[1]);
  s.w[2] = _mm512_add_epi32(x2, s.w[2]);
  s.w[3] = _mm512_add_epi32(x3, s.w[3]);
  s.w[4] = _mm512_add_epi32(x4, s.w[4]);
  s.w[5] = _mm512_add_epi32(x5, s.w[5]);
  s.w[6] = _mm512_add_epi32(x6, s.w[6]);
  s.w[7] = _mm512_add_epi32(x7, s.w[7]);
  s.w[8] = _mm512_add_epi32(x8, s.w[8]);
  s.w[9] = _mm512_add_epi32(x9, s.w[9]);
  s.w[10] = _mm512_add_epi32(x10, s.w[10]);
  s.w[11] = _mm512_add_epi32(x11, s.w[11]);
  s.w[12] = _mm512_add_epi32(x12, s.w[12]);
  s.w[13] = _mm512_add_epi32(x13, s.w[13]);
  s.w[14] = _mm512_add_epi32(x14, s.w[14]);
  s.w[15] = _mm512_add_epi32(x15, s.w[15]);
}

#undef WG_QR4

// Register plan of block32 (AT&T syntax: "op src2, src1, dst" computes dst = src1 op src2): the first state
// in zmm0-15, the second in zmm16-31, word i in register i (+16); no temporary is needed since vprold rotates
// in place. Why two states at once: each quarter round is a chain of twelve dependent instructions, and on
// the Zen 5 development VM (AMD EPYC family 26) a dependent chain of zmm vpaddd, vpxord or vprold runs at
// about 2 TSC ticks per instruction, so sixteen blocks (four independent chains per half round) leave the
// vector pipes half idle: measured, the rounds of 16 blocks alone about 315 TSC ticks, of 32 blocks
// interleaved about 230-245 per 16 (close to four zmm instructions per tick, the pipes' throughput). The
// intrinsics version of the 32-block rounds spilled about 50 values per double round (32 state registers
// leave GCC nothing spare), hence assembly. vpshufb from memory for the 16- and 8-bit rotations (as the AVX2
// kernel does) measured no faster than vprold, so all four rotations are vprold.
#define WG_ADD(a, b) "vpaddd %%zmm" #b ", %%zmm" #a ", %%zmm" #a "\n\t"
#define WG_XOR(a, b) "vpxord %%zmm" #b ", %%zmm" #a ", %%zmm" #a "\n\t"
#define WG_ROL(a, r) "vprold $" #r ", %%zmm" #a ", %%zmm" #a "\n\t"
// Half a quarter round (a += b; d ^= a; d <<<= r1; c += d; b ^= c; b <<<= r2) on eight chains (four of each
// state: registers a..d of the first, e..h of the second), stage by stage so that the eight instructions of a
// stage are independent.
#define WG_STAGE(OP, a0, b0, a1, b1, a2, b2, a3, b3, e0, f0, e1, f1, e2, f2, e3, f3) \
  OP(a0, b0) OP(a1, b1) OP(a2, b2) OP(a3, b3) OP(e0, f0) OP(e1, f1) OP(e2, f2) OP(e3, f3)
#define WG_HALF8(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3, e0, f0, g0, h0, e1, f1, g1, h1, \
                 e2, f2, g2, h2, e3, f3, g3, h3, r1, r2)                                                     \
  WG_STAGE(WG_ADD, a0, b0, a1, b1, a2, b2, a3, b3, e0, f0, e1, f1, e2, f2, e3, f3)                             \
  WG_STAGE(WG_XOR, d0, a0, d1, a1, d2, a2, d3, a3, h0, e0, h1, e1, h2, e2, h3, e3)                             \
  WG_STAGE(WG_ROL, d0, r1, d1, r1, d2, r1, d3, r1, h0, r1, h1, r1, h2, r1, h3, r1)                             \
  WG_STAGE(WG_ADD, c0, d0, c1, d1, c2, d2, c3, d3, g0, h0, g1, h1, g2, h2, g3, h3)                             \
  WG_STAGE(WG_XOR, b0, c0, b1, c1, b2, c2, b3, c3, f0, g0, f1, g1, f2, g2, f3, g3)                             \
  WG_STAGE(WG_ROL, b0, r2, b1, r2, b2, r2, b3, r2, f0, r2, f1, r2, f2, r2, f3, r2)
#define WG_QR8(...) WG_HALF8(__VA_ARGS__, 16, 12) WG_HALF8(__VA_ARGS__, 8, 7)
// Word i of the first state is zmm i, of the second zmm i+16.
#define WG_REGS2(X) X(0, 16) X(1, 17) X(2, 18) X(3, 19) X(4, 20) X(5, 21) X(6, 22) X(7, 23) X(8, 24) \
  X(9, 25) X(10, 26) X(11, 27) X(12, 28) X(13, 29) X(14, 30) X(15, 31)
#define WG_LOAD(i, j) "vmovdqa64 " #i "*64(%[s]), %%zmm" #i "\n\t" "vmovdqa64 " #i "*64(%[t]), %%zmm" #j "\n\t"
#define WG_ADDBACK(i, j)                                                                        \
  "vpaddd " #i "*64(%[s]), %%zmm" #i ", %%zmm" #i "\n\t" "vmovdqa64 %%zmm" #i ", " #i "*64(%[s])\n\t" \
  "vpaddd " #i "*64(%[t]), %%zmm" #j ", %%zmm" #j "\n\t" "vmovdqa64 %%zmm" #j ", " #i "*64(%[t])\n\t"

// The block function of 32 blocks: s and t each become their state after 20 rounds plus their input state.
void block32(State& s, State& t) {
  std::uint32_t rounds;
  asm volatile(
      WG_REGS2(WG_LOAD)
      "movl $10, %k[rounds]\n"
      "1:\n\t"
      // Columns, then diagonals (RFC 8439 section 2.2), both states side by side.
      WG_QR8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
             16, 20, 24, 28, 17, 21, 25, 29, 18, 22, 26, 30, 19, 23, 27, 31)
      WG_QR8(0, 5, 10, 15, 1, 6, 11, 12, 2, 7, 8, 13, 3, 4, 9, 14,
             16, 21, 26, 31, 17, 22, 27, 28, 18, 23, 24, 29, 19, 20, 25, 30)
      "decl %k[rounds]\n\t"
      "jnz 1b\n\t"
      WG_REGS2(WG_ADDBACK)
      : [rounds] "=&r"(rounds)
      : [s] "r"(s.w), [t] "r"(t.w)
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
        "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
        "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "memory", "cc");
}

#undef WG_ADDBACK
#undef WG_LOAD
#undef WG_REGS2
#undef WG_QR8
#undef WG_HALF8
#undef WG_STAGE
#undef WG_ROL
#undef WG_XOR
#undef WG_ADD

// Words 0..3 of every lane.
[[gnu::always_inline]] inline void set_constants(State& s) {
  s.w[0] = _mm512_set1_epi32(static_cast<int>(kSigma0));
  s.w[1] = _mm512_set1_epi32(static_cast<int>(kSigma1));
  s.w[2] = _mm512_set1_epi32(static_cast<int>(kSigma2));
  s.w[3] = _mm512_set1_epi32(static_cast<int>(kSigma3));
}

// Words 4..11 of every lane from one key: each word broadcast (a load, no shuffle).
[[gnu::always_inline]] inline void set_one_key(State& s, const std::uint8_t* key) {
  for (int i = 0; i < 8; ++i) s.w[4 + i] = _mm512_set1_epi32(static_cast<int>(_mm_cvtsi128_si32(
                                  _mm_loadu_si32(key + 4 * i))));
}

// Sixteen 16-byte rows (row l at rows[l] + offset) transposed into four zmm: out[i] lane l = 32-bit word i of
// row l. Rows l, l+4, l+8, l+12 share a register (one 128-bit chunk each), then a 4x4 word transpose within
// every chunk puts lane 4k+m in chunk k, position m.
[[gnu::always_inline]] inline void transpose_rows16x4(const std::uint8_t* const rows[kLanes], std::size_t offset,
                                                      __m512i* out) {
  __m512i r[4];
  for (int m = 0; m < 4; ++m) {
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[m] + offset)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[m + 4] + offset)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[m + 8] + offset)), 2);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[m + 12] + offset)), 3);
    r[m] = v;
  }
  const __m512i t0 = _mm512_unpacklo_epi32(r[0], r[1]);  // words 0, 1 of rows m = 0, 1
  const __m512i t1 = _mm512_unpackhi_epi32(r[0], r[1]);  // words 2, 3
  const __m512i t2 = _mm512_unpacklo_epi32(r[2], r[3]);  // the same for rows m = 2, 3
  const __m512i t3 = _mm512_unpackhi_epi32(r[2], r[3]);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The output transpose: s.w[i] lane l = word i of block l in, ks[l] = the 64 keystream bytes of block l out.
// Two word-unpack stages leave, per quad q of four words and per j, a register u[q][j] whose 128-bit chunk k
// holds words 4q..4q+3 of block 4k+j; two 128-bit shuffle stages then gather block 4k+j's chunk k of every
// quad. 64 shuffles for 1024 bytes of keystream.
[[gnu::always_inline]] inline void transpose_out(const State& s, __m512i ks[kLanes]) {
  __m512i u[4][4];
  for (int q = 0; q < 4; ++q) {
    const __m512i t0 = _mm512_unpacklo_epi32(s.w[4 * q], s.w[4 * q + 1]);
    const __m512i t1 = _mm512_unpackhi_epi32(s.w[4 * q], s.w[4 * q + 1]);
    const __m512i t2 = _mm512_unpacklo_epi32(s.w[4 * q + 2], s.w[4 * q + 3]);
    const __m512i t3 = _mm512_unpackhi_epi32(s.w[4 * q + 2], s.w[4 * q + 3]);
    u[q][0] = _mm512_unpacklo_epi64(t0, t2);
    u[q][1] = _mm512_unpackhi_epi64(t0, t2);
    u[q][2] = _mm512_unpacklo_epi64(t1, t3);
    u[q][3] = _mm512_unpackhi_epi64(t1, t3);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512i a = _mm512_shuffle_i32x4(u[0][j], u[1][j], 0x44);  // chunks 0, 1 of quads 0, 1
    const __m512i b = _mm512_shuffle_i32x4(u[0][j], u[1][j], 0xee);  // chunks 2, 3
    const __m512i c = _mm512_shuffle_i32x4(u[2][j], u[3][j], 0x44);  // the same for quads 2, 3
    const __m512i d = _mm512_shuffle_i32x4(u[2][j], u[3][j], 0xee);
    ks[j] = _mm512_shuffle_i32x4(a, c, 0x88);       // block j: chunk 0 of every quad
    ks[4 + j] = _mm512_shuffle_i32x4(a, c, 0xdd);   // block 4 + j: chunk 1
    ks[8 + j] = _mm512_shuffle_i32x4(b, d, 0x88);   // chunk 2
    ks[12 + j] = _mm512_shuffle_i32x4(b, d, 0xdd);  // chunk 3
  }
}

[[gnu::always_inline]] inline void xor_block(std::uint8_t* out, __m512i ks) {
  const __m512i d = _mm512_loadu_si512(out);
  _mm512_storeu_si512(out, _mm512_xor_si512(d, ks));
}

// The first n (1..63) bytes: bytes beyond n are neither read nor written (masked-off bytes do not fault).
[[gnu::always_inline]] inline void xor_partial(std::uint8_t* out, __m512i ks, std::uint32_t n) {
  const __mmask64 m = _cvtu64_mask64((std::uint64_t{1} << n) - 1);
  const __m512i d = _mm512_maskz_loadu_epi8(m, out);
  _mm512_mask_storeu_epi8(out, m, _mm512_xor_si512(d, ks));
}

// The lanes of a mixed group, one array per field. Each lane's state words 12..15 are stored as one 16-byte
// vector and read back by the input transpose as one 16-byte load, so the load is served from the store
// buffer (scalar word stores read back as a vector would stall the group's start until they retire).
struct Group {
  alignas(64) __m128i words[kLanes];
  const std::uint8_t* key[kLanes];
  std::uint8_t* out[kLanes];
  std::uint32_t n[kLanes];  // 1..64 bytes to XOR; 0 for an idle lane (last group of a call)
  bool one_key;             // every lane has key[0] (set when the group is handed over)
};

// Sixteen lanes ready for the rounds: their input state, and where the keystream goes: either 1024
// contiguous bytes of one stream (run_out) or the lanes of a mixed group.
struct Half {
  State s;
  std::uint8_t* run_out;  // null for a mixed group
  const Group* group;
};

// Input state of sixteen consecutive blocks of one stream (counters counter..counter+15, wrapping).
void set_run(Half& h, const std::uint8_t* key, std::uint32_t counter, const std::uint32_t nonce[3],
             std::uint8_t* out) {
  set_constants(h.s);
  set_one_key(h.s, key);
  h.s.w[12] = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(counter)),
                               _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  h.s.w[13] = _mm512_set1_epi32(static_cast<int>(nonce[0]));
  h.s.w[14] = _mm512_set1_epi32(static_cast<int>(nonce[1]));
  h.s.w[15] = _mm512_set1_epi32(static_cast<int>(nonce[2]));
  h.run_out = out;
  h.group = nullptr;
}

// Input state of a mixed group. Idle lanes repeat lane 0's input (so the group still has one key if its
// lanes do) and their output is dropped.
void set_group(Half& h, const Group& g) {
  set_constants(h.s);
  // One key across the group (one peer's burst, or one packet's tail) is broadcast; else the 32-byte keys
  // are transposed in two halves of 16 bytes.
  if (g.one_key) {
    set_one_key(h.s, g.key[0]);
  } else {
    transpose_rows16x4(g.key, 0, &h.s.w[4]);
    transpose_rows16x4(g.key, 16, &h.s.w[8]);
  }
  const std::uint8_t* word_rows[kLanes];
  for (int l = 0; l < kLanes; ++l) word_rows[l] = reinterpret_cast<const std::uint8_t*>(&g.words[l]);
  transpose_rows16x4(word_rows, 0, &h.s.w[12]);
  h.run_out = nullptr;
  h.group = &g;
}

// XORs the keystream of a half whose rounds are done into its targets.
void emit(const Half& h) {
  __m512i ks[kLanes];
  transpose_out(h.s, ks);
  if (h.run_out != nullptr) {
    for (int l = 0; l < kLanes; ++l) xor_block(h.run_out + l * kBlockBytes, ks[l]);
    return;
  }
  const Group& g = *h.group;
  for (int l = 0; l < kLanes; ++l) {
    const std::uint32_t n = g.n[l];
    if (n == kBlockBytes) {
      xor_block(g.out[l], ks[l]);
    } else if (n != 0) {
      xor_partial(g.out[l], ks[l], n);
    }
  }
}

// Halves are run two at a time (block32); the first of a pair waits in halves[0]. Mixed groups fill the two
// Group buffers alternately, so a waiting half's group is never overwritten before it is emitted.
class Walker {
 public:
  // The half to fill next (halves[pending_]).
  Half& next() { return halves_[pending_]; }

  // next() is filled: run it with the waiting half, or make it wait.
  void submit() {
    if (pending_ == 0) {
      pending_ = 1;
      return;
    }
    block32(halves_[0].s, halves_[1].s);
    emit(halves_[0]);
    emit(halves_[1]);
    pending_ = 0;
  }

  // The last half of a call, if one is waiting, runs alone.
  void finish() {
    if (pending_ == 0) return;
    State& s = halves_[0].s;
    block16(s);
    emit(halves_[0]);
    pending_ = 0;
  }

  Group& group() { return groups_[current_]; }
  // group() is full: hand it over and fill the other buffer next.
  void submit_group() {
    set_group(next(), groups_[current_]);
    submit();
    current_ ^= 1;
  }

 private:
  Half halves_[2];
  Group groups_[2];
  int pending_ = 0;
  int current_ = 0;
};

}  // namespace

// ChachaStream keeps counter and nonce side by side: a lane's words 12..15 are one 16-byte load plus its
// block index.
static_assert(offsetof(ChachaStream, nonce) == offsetof(ChachaStream, counter) + 4);

void chacha20_xor_streams_avx512(const ChachaStream* streams, std::size_t n) {
  Walker walker;
  int filled = 0;                           // lanes of walker.group() in use
  bool one_key = true;                      // they all have group_key
  const std::uint8_t* group_key = nullptr;
  const __m128i one = _mm_cvtsi32_si128(1);  // adds to word 12 only: the counter wraps, the nonce stays
  for (std::size_t i = 0; i < n; ++i) {
    const ChachaStream& st = streams[i];
    std::uint8_t* out = st.data;
    std::uint32_t counter = st.counter;
    std::uint32_t left = st.len;
    // Sixteen whole blocks at a time as uniform halves, whatever lanes are pending.
    for (; left >= kRunBytes; left -= kRunBytes, out += kRunBytes, counter += kLanes) {
      set_run(walker.next(), st.key, counter, st.nonce, out);
      walker.submit();
    }
    if (left == 0) continue;
    Group* g = &walker.group();
    // The key check once per stream, not per lane (after a flush inside the stream the lanes that follow all
    // have this stream's key again), kept in a register: as a Group field it made a store-to-load chain
    // through every stream of the call.
    one_key = filled == 0 || (one_key && st.key == group_key);
    if (filled == 0) group_key = st.key;
    __m128i w = _mm_insert_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const std::uint8_t*>(&st) +
                                                         offsetof(ChachaStream, counter))),
        static_cast<int>(counter), 0);
    // Whole blocks, then the last (whole or partial) one: the per-lane work is four stores and a count.
    for (; left > kBlockBytes; left -= kBlockBytes, out += kBlockBytes, w = _mm_add_epi32(w, one)) {
      g->key[filled] = st.key;
      g->out[filled] = out;
      g->n[filled] = kBlockBytes;
      _mm_store_si128(&g->words[filled], w);
      if (++filled == kLanes) {
        g->one_key = one_key;
        walker.submit_group();
        filled = 0;
        g = &walker.group();
        one_key = true;
        group_key = st.key;
      }
    }
    g->key[filled] = st.key;
    g->out[filled] = out;
    g->n[filled] = left;
    _mm_store_si128(&g->words[filled], w);
    if (++filled == kLanes) {
      g->one_key = one_key;
      walker.submit_group();
      filled = 0;
    }
  }
  if (filled != 0) {
    Group& g = walker.group();
    g.one_key = one_key;
    for (int l = filled; l < kLanes; ++l) {
      g.key[l] = g.key[0];
      g.out[l] = nullptr;
      g.n[l] = 0;
      g.words[l] = g.words[0];
    }
    walker.submit_group();
  }
  walker.finish();
}

}  // namespace wg::crypto::simd
