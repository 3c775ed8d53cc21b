// ChaCha20 keystream across packets, eight blocks at a time (RFC 8439 sections 2.1-2.4). The one translation
// unit built with -mavx2 (lib/meson.build); see chacha20_avx2.h for the interface.
//
// Lane layout: register x[i] (i = 0..15) holds state word i of eight independent blocks, lane l of every
// register belonging to the same block. The blocks come from a cursor over (stream, block) pairs, so lane l
// may be block 0 of one packet while lane l+1 is block 17 of another under a different key. Keys enter as
// eight 32-byte rows (one per lane) and are transposed into words 4..11; counter and nonce words are written
// per lane. After the 20 rounds the state is added back and transposed again (words 0-7 and 8-15 separately)
// so each lane's 64 keystream bytes are two ymm registers, XORed into the target.
//
// Why no std:: templates or shared inline helpers here: a function instantiated in this file would be
// compiled with AVX2, and the linker may pick that copy for callers in baseline files, which would then fault
// on a CPU without AVX2. Everything below is intrinsics, plain loops and memcpy, in an anonymous namespace.
#include "lib/crypto/chacha20_avx2.h"

#include <immintrin.h>

#include <cstring>

namespace wg::crypto::simd {
namespace {

constexpr std::uint32_t kBlockBytes = 64;
constexpr int kLanes = 8;

// One lane's job within a group: where its block's keystream goes.
struct Lane {
  const std::uint8_t* key;
  std::uint32_t counter;
  const std::uint32_t* nonce;
  std::uint8_t* out;
  std::uint32_t n;  // 1..64 bytes to XOR; 0 for an idle lane (last group of a call)
};

inline __m256i rotl16(__m256i v, __m256i mask) { return _mm256_shuffle_epi8(v, mask); }
inline __m256i rotl8(__m256i v, __m256i mask) { return _mm256_shuffle_epi8(v, mask); }
inline __m256i rotl12(__m256i v) { return _mm256_or_si256(_mm256_slli_epi32(v, 12), _mm256_srli_epi32(v, 20)); }
inline __m256i rotl7(__m256i v) { return _mm256_or_si256(_mm256_slli_epi32(v, 7), _mm256_srli_epi32(v, 25)); }

// Four quarter rounds side by side (RFC 8439 section 2.1), step by step so the four chains interleave.
#define WG_QUARTER4(a0, b0, c0, d0, a1, b1, c1, d1, a2, b2, c2, d2, a3, b3, c3, d3)               \
  do {                                                                                          \
    a0 = _mm256_add_epi32(a0, b0); a1 = _mm256_add_epi32(a1, b1);                               \
    a2 = _mm256_add_epi32(a2, b2); a3 = _mm256_add_epi32(a3, b3);                               \
    d0 = rotl16(_mm256_xor_si256(d0, a0), r16); d1 = rotl16(_mm256_xor_si256(d1, a1), r16);     \
    d2 = rotl16(_mm256_xor_si256(d2, a2), r16); d3 = rotl16(_mm256_xor_si256(d3, a3), r16);     \
    c0 = _mm256_add_epi32(c0, d0); c1 = _mm256_add_epi32(c1, d1);                               \
    c2 = _mm256_add_epi32(c2, d2); c3 = _mm256_add_epi32(c3, d3);                               \
    b0 = rotl12(_mm256_xor_si256(b0, c0)); b1 = rotl12(_mm256_xor_si256(b1, c1));               \
    b2 = rotl12(_mm256_xor_si256(b2, c2)); b3 = rotl12(_mm256_xor_si256(b3, c3));               \
    a0 = _mm256_add_epi32(a0, b0); a1 = _mm256_add_epi32(a1, b1);                               \
    a2 = _mm256_add_epi32(a2, b2); a3 = _mm256_add_epi32(a3, b3);                               \
    d0 = rotl8(_mm256_xor_si256(d0, a0), r8); d1 = rotl8(_mm256_xor_si256(d1, a1), r8);         \
    d2 = rotl8(_mm256_xor_si256(d2, a2), r8); d3 = rotl8(_mm256_xor_si256(d3, a3), r8);         \
    c0 = _mm256_add_epi32(c0, d0); c1 = _mm256_add_epi32(c1, d1);                               \
    c2 = _mm256_add_epi32(c2, d2); c3 = _mm256_add_epi32(c3, d3);                               \
    b0 = rotl7(_mm256_xor_si256(b0, c0)); b1 = rotl7(_mm256_xor_si256(b1, c1));                 \
    b2 = rotl7(_mm256_xor_si256(b2, c2)); b3 = rotl7(_mm256_xor_si256(b3, c3));                 \
  } while (0)

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

// XORs 32 keystream bytes (or the first n of them) into out.
inline void xor_half(std::uint8_t* out, __m256i ks, std::uint32_t n) {
  if (n >= 32) {
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_xor_si256(d, ks));
    return;
  }
  alignas(32) std::uint8_t bytes[32];
  _mm256_store_si256(reinterpret_cast<__m256i*>(bytes), ks);
  for (std::uint32_t i = 0; i < n; ++i) out[i] ^= bytes[i];
}

// Computes the blocks of lanes[0, kLanes) and XORs them into their targets. Idle lanes (n == 0) repeat
// lane 0's input and their output is dropped.
void run_group(const Lane* lanes) {
  // Per-lane input words 4..11 (the key), transposed so that row i holds word 4+i of every lane.
  __m256i key[8];
  for (int l = 0; l < kLanes; ++l) key[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes[l].key));
  transpose8(key);
  alignas(32) std::uint32_t tail[4][kLanes];  // words 12..15 per lane
  for (int l = 0; l < kLanes; ++l) {
    tail[0][l] = lanes[l].counter;
    tail[1][l] = lanes[l].nonce[0];
    tail[2][l] = lanes[l].nonce[1];
    tail[3][l] = lanes[l].nonce[2];
  }
  const __m256i in12 = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail[0]));
  const __m256i in13 = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail[1]));
  const __m256i in14 = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail[2]));
  const __m256i in15 = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail[3]));
  // "expand 32-byte k" (RFC 8439 section 2.3).
  const __m256i c0 = _mm256_set1_epi32(0x61707865);
  const __m256i c1 = _mm256_set1_epi32(0x3320646e);
  const __m256i c2 = _mm256_set1_epi32(0x79622d32);
  const __m256i c3 = _mm256_set1_epi32(0x6b206574);
  // Byte shuffles rotating each 32-bit word left by 16 and by 8.
  const __m256i r16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                       2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  const __m256i r8 = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
                                      3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);

  __m256i x0 = c0, x1 = c1, x2 = c2, x3 = c3;
  __m256i x4 = key[0], x5 = key[1], x6 = key[2], x7 = key[3];
  __m256i x8 = key[4], x9 = key[5], x10 = key[6], x11 = key[7];
  __m256i x12 = in12, x13 = in13, x14 = in14, x15 = in15;
  for (int round = 0; round < 10; ++round) {
    WG_QUARTER4(x0, x4, x8, x12, x1, x5, x9, x13, x2, x6, x10, x14, x3, x7, x11, x15);  // columns
    WG_QUARTER4(x0, x5, x10, x15, x1, x6, x11, x12, x2, x7, x8, x13, x3, x4, x9, x14);  // diagonals
  }

  __m256i lo[8] = {_mm256_add_epi32(x0, c0),     _mm256_add_epi32(x1, c1),     _mm256_add_epi32(x2, c2),
                   _mm256_add_epi32(x3, c3),     _mm256_add_epi32(x4, key[0]), _mm256_add_epi32(x5, key[1]),
                   _mm256_add_epi32(x6, key[2]), _mm256_add_epi32(x7, key[3])};
  __m256i hi[8] = {_mm256_add_epi32(x8, key[4]), _mm256_add_epi32(x9, key[5]), _mm256_add_epi32(x10, key[6]),
                   _mm256_add_epi32(x11, key[7]), _mm256_add_epi32(x12, in12), _mm256_add_epi32(x13, in13),
                   _mm256_add_epi32(x14, in14),  _mm256_add_epi32(x15, in15)};
  transpose8(lo);  // lo[l] = keystream bytes 0..31 of lane l
  transpose8(hi);  // hi[l] = bytes 32..63
  for (int l = 0; l < kLanes; ++l) {
    const std::uint32_t n = lanes[l].n;
    if (n == 0) continue;
    std::uint8_t* out = lanes[l].out;
    if (n == kBlockBytes) {
      const __m256i d0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out));
      const __m256i d1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(out + 32));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_xor_si256(d0, lo[l]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), _mm256_xor_si256(d1, hi[l]));
    } else {
      xor_half(out, lo[l], n);
      if (n > 32) xor_half(out + 32, hi[l], n - 32);
    }
  }
}

#undef WG_QUARTER4

}  // namespace

void chacha20_xor_streams_avx2(const ChachaStream* streams, std::size_t n) {
  Lane lanes[kLanes];
  int filled = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const ChachaStream& st = streams[s];
    std::uint32_t counter = st.counter;
    for (std::uint32_t off = 0; off < st.len; off += kBlockBytes, ++counter) {
      const std::uint32_t left = st.len - off;
      lanes[filled] = {st.key, counter, st.nonce, st.data + off, left < kBlockBytes ? left : kBlockBytes};
      if (++filled == kLanes) {
        run_group(lanes);
        filled = 0;
      }
    }
  }
  if (filled == 0) return;
  for (int l = filled; l < kLanes; ++l) lanes[l] = {lanes[0].key, 0, lanes[0].nonce, nullptr, 0};
  run_group(lanes);
}

}  // namespace wg::crypto::simd
