// Poly1305 across packets with AVX2 (see poly1305_avx2.h). Built with -mavx2 (lib/meson.build).
//
// Flow of one call: the four lanes take the first four jobs; then passes run until every lane is idle. A
// lane's blocks are its payload's full 16-byte blocks, read in place, then its tail blocks from a small
// per-lane buffer written when it took the job: for the AEAD, pad16 of the partial block (if any) and
// le64(0) || le64(len), all with the 2^128 bit; for the plain MAC, the partial block with its 0x01 byte and
// no 2^128 bit. A pass runs, in all lanes in lockstep, as many blocks as the busy lane nearest its end has
// left (each lane's read pointer moving from payload to tail buffer on its own), so a burst of equal lengths
// takes one pass per four packets. Then, if any lane is done, the tags of all four lanes are finished at once
// in vector form (finish4; constant time), the done lanes' tags are kept, and those lanes take the next jobs.
// Lanes left without a job shadow a busy lane and their results are dropped, so the block loop never
// branches per lane. The plain MAC of the empty message (no blocks) is s, written when its job is taken.
//
// Cost on Zen 3 (TSC ticks per 32-packet burst, AEAD form, median of 15): the per-pass work around the block
// loop was about 72 per packet with a scalar finish per lane, 58 with finish4: 64-byte bursts 4484 -> 3601
// (-20 %); 1424-byte bursts are unchanged (25,500; the block loop dominates).
//
// Arithmetic: h and r in radix 2^26 (five limbs in the low halves of 64-bit lanes, vpmuludq products of
// 26 x 26 bits summed in 64 bits), r's limbs 1..4 also premultiplied by 5 since 2^130 = 5 (mod 2^130 - 5).
// After each block the five column sums are carried in two interleaved chains (0->1->2->3 and 3->4->0->1),
// leaving every limb below 2^26 + 2^11: small enough that the next column sums of (h + m) * r stay below 2^58.
// The per-block cost is the 25 vpmuludq (throughput-bound: two independent 4-lane accumulators per step were
// no faster on Zen 3 for 1420-byte packets and slower for mixed bursts, whose last lanes run alone longer).
// r and h stay in registers across passes; a lane's new r is set up by loading the four lanes' keys as one
// block (no scalar stores read back as vectors, which would stall store forwarding).
//
// Why no std:: templates or shared inline helpers here: a function instantiated in this file would be
// compiled with AVX2, and the linker may pick that copy for callers in baseline files, which would then fault
// on a CPU without AVX2. Everything below is intrinsics, plain loops and memcpy, in an anonymous namespace.
#include "lib/crypto/poly1305_avx2.h"

#include <immintrin.h>
#include <string.h>  // explicit_bzero

#include <cstddef>  // offsetof
#include <cstring>

namespace wg::crypto::simd {
namespace {

constexpr int kLanes = 4;
constexpr std::uint64_t kMask26 = (std::uint64_t{1} << 26) - 1;
constexpr std::uint64_t kHibit = std::uint64_t{1} << 24;  // 2^128 is bit 24 of limb 4
constexpr std::size_t kIdle = ~std::size_t{0};
// Below this many jobs the AEAD batch goes to the scalar code (poly1305.h). Measured on Zen 3 (TSC ticks for
// the whole batch, scalar / AVX2): 1 x 64 B 147 / 392, 2 x 64 B 269 / 416, 3 x 64 B 392 / 441, 3 x 1420 B
// 4949 / 3136, 4 x 64 B 588 / 465.
constexpr std::size_t kMinBatch = 3;
// Passes of at least this many blocks run two blocks per step, which needs r^2 set up first (about one
// block's work) whenever a lane has taken a new job.
constexpr std::size_t kPairMin = 8;

enum class Mode { kAead, kPlain };

// pshufb controls: 16 bytes from kShiftDown + 16 - k move the last k bytes of a block to its start and zero
// the rest (0x80 selects zero).
alignas(64) constexpr std::uint8_t kShiftDown[32] = {0,    1,    2,    3,    4,    5,    6,    7,
                                                     8,    9,    10,   11,   12,   13,   14,   15,
                                                     0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                     0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
// 16 bytes from kOneAt + 16 - k: a 0x01 byte at index k, zeros elsewhere (the plain MAC's end-of-message
// byte after a partial block of k bytes).
alignas(64) constexpr std::uint8_t kOneAt[32] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};


// The per-lane bookkeeping of one call. A lane's blocks are its payload's full blocks read in place,
// ct[0, full), then its tail blocks tail[0, total - full).
struct Lanes {
  alignas(16) std::uint8_t tail[kLanes][32];
  alignas(16) std::uint8_t discard[kLanes][16];  // where finish4 puts the tags of lanes that are not done
  const std::uint8_t* key[kLanes];
  const std::uint8_t* ct[kLanes];
  const std::uint8_t* tp[kLanes];  // tail[l], or for an idle lane the tail of the busy lane it shadows
  std::size_t pos[kLanes];         // bytes of the lane's blocks done
  std::size_t full[kLanes];
  std::size_t total[kLanes];
  std::size_t job[kLanes];  // kIdle once the lane has no job
  std::uint64_t tail_hibit[kLanes];
  std::uint64_t fresh[kLanes];  // all ones: the lane took a new job (new r, h = 0) since the last pass
};

// The plain MAC of a message with no blocks (the empty message) is s alone: h = 0.
void tag_of_empty(const PolyJob& j) { std::memcpy(j.tag, j.key + 16, 16); }

// Lane l takes job `index`: its key (r is set up at the next pass), its blocks, its tail blocks written out.
// Returns false, with the tag written, for a job without blocks (the plain MAC of the empty message).
__attribute__((always_inline)) inline bool start(Lanes& st, int l, const PolyJob& j, std::size_t index,
                                                 Mode mode) {
  if (mode == Mode::kPlain && j.len == 0) {
    tag_of_empty(j);
    return false;
  }
  st.key[l] = j.key;
  st.fresh[l] = ~std::uint64_t{0};
  st.ct[l] = j.ct;
  st.tp[l] = st.tail[l];
  st.pos[l] = 0;
  st.full[l] = j.len / 16 * 16;
  st.job[l] = index;
  std::uint8_t* t = st.tail[l];
  const std::size_t rest = j.len % 16;
  // Each tail block is written with one 16-byte store, as the block loop reads it back with one 16-byte load:
  // a load spanning two stores (a block, then the length over half of it) is not forwarded and stalls the
  // pass until the stores retire.
  __m128i partial = _mm_setzero_si128();
  if (rest != 0 && j.len >= 16) {
    // The last 16 bytes of the payload, shifted down so its final `rest` bytes come first, zeros behind.
    const __m128i last = _mm_loadu_si128(reinterpret_cast<const __m128i*>(j.ct + j.len - 16));
    const __m128i shift = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kShiftDown + 16 - rest));
    partial = _mm_shuffle_epi8(last, shift);
  } else if (rest != 0) {
    alignas(16) std::uint8_t bytes[16] = {};
    std::memcpy(bytes, j.ct, rest);
    partial = _mm_load_si128(reinterpret_cast<const __m128i*>(bytes));
  }
  if (mode == Mode::kAead) {
    // pad16(ct) (the partial block, zero-padded), then le64(AD length = 0) || le64(ciphertext length).
    const __m128i lengths = _mm_set_epi64x(static_cast<long long>(j.len), 0);
    if (rest != 0) {
      _mm_store_si128(reinterpret_cast<__m128i*>(t), partial);
      _mm_store_si128(reinterpret_cast<__m128i*>(t + 16), lengths);
    } else {
      _mm_store_si128(reinterpret_cast<__m128i*>(t), lengths);
    }
    st.total[l] = st.full[l] + (rest != 0 ? 32 : 16);
    st.tail_hibit[l] = kHibit;
  } else {
    // A short final block gets a 0x01 byte after it instead of the 2^128 bit (RFC 8439 section 2.5.1).
    if (rest != 0) {
      partial = _mm_or_si128(partial, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kOneAt + 16 - rest)));
    }
    _mm_store_si128(reinterpret_cast<__m128i*>(t), partial);
    st.total[l] = st.full[l] + (rest != 0 ? 16 : 0);
    st.tail_hibit[l] = 0;
  }
  return true;
}

// The order in which lanes take the jobs: longest first, roughly (one sweep over the batch per length class),
// so a mixed burst ends with short packets and no lane runs on alone behind one long packet.
class Queue {
 public:
  // One scan up front finds the length classes present, so a uniform burst is swept once.
  Queue(const PolyJob* jobs, std::size_t n) : jobs_(jobs), n_(n) {
    for (std::size_t k = 0; k < n; ++k) present_ |= 1u << length_class(jobs[k].len);
    while (sweep_ < kSweeps && (present_ >> sweep_ & 1) == 0) ++sweep_;
  }
  // The index of the next job, or kIdle when every job has been taken.
  std::size_t pop() {
    while (sweep_ < kSweeps) {
      while (i_ < n_) {
        const std::size_t k = i_++;
        if (length_class(jobs_[k].len) == sweep_) return k;
      }
      do {
        ++sweep_;
      } while (sweep_ < kSweeps && (present_ >> sweep_ & 1) == 0);
      i_ = 0;
    }
    return kIdle;
  }

 private:
  static constexpr unsigned kSweeps = 3;
  // 0: 1024 bytes and more, 1: 256..1023, 2: shorter.
  static unsigned length_class(std::size_t len) { return len >= 1024 ? 0 : len >= 256 ? 1 : 2; }

  const PolyJob* jobs_;
  std::size_t n_;
  std::size_t i_ = 0;
  unsigned sweep_ = 0;
  unsigned present_ = 0;
};

// Lane l takes the next job that has blocks, or goes idle.
__attribute__((always_inline)) inline void take_next(Lanes& st, int l, const PolyJob* jobs, Queue& queue,
                                                     Mode mode) {
  for (;;) {
    const std::size_t next = queue.pop();
    if (next == kIdle) {
      st.job[l] = kIdle;
      return;
    }
    if (start(st, l, jobs[next], next, mode)) return;
  }
}

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

// What the block loop (blocks4) reads and updates: r, r^2 and 5 times their limbs 1..4, this pass's 2^128
// bits, the 26-bit mask, h, and where each lane's reads move to its tail buffer.
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

// Register plan of blocks4 (AT&T syntax: "op src2, src1, dst" computes dst = src1 op src2). h lives in
// ymm0-4 for the whole loop, the column sums in ymm5-9, three temporaries in ymm10-12, the mask in ymm13 and
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
// The block as 26-bit limbs (the 2^128 bit into limb 4), added to h (op = vpaddq) or put in h's registers.
#define WG_SPLIT_ADD                                                                                   \
  "vpand " WG_M ", " WG_T0 ", " WG_T1 "\n\t"                                                           \
  "vpaddq " WG_T1 ", " WG_H0 ", " WG_H0 "\n\t"                                                         \
  "vpsrlq $26, " WG_T0 ", " WG_T1 "\n\t"                                                               \
  "vpand " WG_M ", " WG_T1 ", " WG_T1 "\n\t"                                                           \
  "vpaddq " WG_T1 ", " WG_H1 ", " WG_H1 "\n\t"                                                         \
  "vpsrlq $52, " WG_T0 ", " WG_T1 "\n\t"                                                               \
  "vpsllq $12, " WG_W1 ", " WG_T2 "\n\t"                                                               \
  "vpor " WG_T2 ", " WG_T1 ", " WG_T1 "\n\t"                                                           \
  "vpand " WG_M ", " WG_T1 ", " WG_T1 "\n\t"                                                           \
  "vpaddq " WG_T1 ", " WG_H2 ", " WG_H2 "\n\t"                                                         \
  "vpsrlq $14, " WG_W1 ", " WG_T1 "\n\t"                                                               \
  "vpand " WG_M ", " WG_T1 ", " WG_T1 "\n\t"                                                           \
  "vpaddq " WG_T1 ", " WG_H3 ", " WG_H3 "\n\t"                                                         \
  "vpsrlq $40, " WG_W1 ", " WG_T1 "\n\t"                                                               \
  "vpor " WG_HIBIT ", " WG_T1 ", " WG_T1 "\n\t"                                                        \
  "vpaddq " WG_T1 ", " WG_H4 ", " WG_H4 "\n\t"
#define WG_SPLIT_SET                                                                                   \
  "vpand " WG_M ", " WG_T0 ", " WG_H0 "\n\t"                                                           \
  "vpsrlq $26, " WG_T0 ", " WG_H1 "\n\t"                                                               \
  "vpand " WG_M ", " WG_H1 ", " WG_H1 "\n\t"                                                           \
  "vpsrlq $52, " WG_T0 ", " WG_H2 "\n\t"                                                               \
  "vpsllq $12, " WG_W1 ", " WG_T2 "\n\t"                                                               \
  "vpor " WG_T2 ", " WG_H2 ", " WG_H2 "\n\t"                                                           \
  "vpand " WG_M ", " WG_H2 ", " WG_H2 "\n\t"                                                           \
  "vpsrlq $14, " WG_W1 ", " WG_H3 "\n\t"                                                               \
  "vpand " WG_M ", " WG_H3 ", " WG_H3 "\n\t"                                                           \
  "vpsrlq $40, " WG_W1 ", " WG_H4 "\n\t"                                                               \
  "vpor " WG_HIBIT ", " WG_H4 ", " WG_H4 "\n\t"
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

__m256i lane_mask(const std::uint64_t v[kLanes]) {
  return _mm256_set_epi64x(static_cast<long long>(v[3]), static_cast<long long>(v[2]),
                           static_cast<long long>(v[1]), static_cast<long long>(v[0]));
}

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

void run(const PolyJob* jobs, std::size_t n, Mode mode) {
  Lanes st;  // every field is written before it is read
  Kernel k;
  Queue queue(jobs, n);
  for (int l = 0; l < kLanes; ++l) {
    st.fresh[l] = 0;
    st.key[l] = kShiftDown;  // any 32 readable bytes: the r and s of a lane that never gets a job
    take_next(st, l, jobs, queue, mode);
  }
  const __m256i mask = _mm256_set1_epi64x(static_cast<long long>(kMask26));
  const __m256i clamp0 = _mm256_set1_epi64x(0x0ffffffc0fffffffLL);
  const __m256i clamp1 = _mm256_set1_epi64x(0x0ffffffc0ffffffcLL);
  k.mask = mask;
  __m256i h[5];
  for (int i = 0; i < 5; ++i) h[i] = _mm256_setzero_si256();
  bool r2_ready = false;
  for (;;) {
    // The pass runs until the first busy lane is done. The plain MAC's tail block has no 2^128 bit, so there
    // a pass also stops where a lane moves on to its tail: the hibit vector is fixed for the pass.
    std::size_t m = kIdle;
    int busy = -1;
    std::uint64_t any_fresh = 0;
    std::uint64_t hibits[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      any_fresh |= st.fresh[l];
      hibits[l] = kHibit;
      if (st.job[l] == kIdle) continue;
      busy = l;
      std::size_t left = st.total[l] - st.pos[l];
      if (mode == Mode::kPlain && st.pos[l] < st.full[l]) left = st.full[l] - st.pos[l];
      if (mode == Mode::kPlain && st.pos[l] >= st.full[l]) hibits[l] = st.tail_hibit[l];
      if (left < m) m = left;
    }
    if (busy < 0) break;
    m /= 16;
    for (int l = 0; l < kLanes; ++l) {
      if (st.job[l] != kIdle) continue;
      // Idle: shadow a busy lane (same blocks, result dropped).
      st.ct[l] = st.ct[busy];
      st.tp[l] = st.tp[busy];
      st.pos[l] = st.pos[busy];
      st.full[l] = st.full[busy];
      hibits[l] = hibits[busy];
    }
    if (any_fresh != 0) {
      // Every lane's clamped r from its key (RFC 8439 section 2.5.1), split like a block; h = 0 in new lanes.
      __m256i k0;
      __m256i k1;
      load4(st.key[0], st.key[1], st.key[2], st.key[3], k0, k1);
      k0 = _mm256_and_si256(k0, clamp0);
      k1 = _mm256_and_si256(k1, clamp1);
      k.r[0] = _mm256_and_si256(k0, mask);
      k.r[1] = _mm256_and_si256(_mm256_srli_epi64(k0, 26), mask);
      k.r[2] = _mm256_and_si256(_mm256_or_si256(_mm256_srli_epi64(k0, 52), _mm256_slli_epi64(k1, 12)), mask);
      k.r[3] = _mm256_and_si256(_mm256_srli_epi64(k1, 14), mask);
      k.r[4] = _mm256_srli_epi64(k1, 40);
      for (int i = 0; i < 4; ++i) k.s[i] = _mm256_add_epi64(k.r[i + 1], _mm256_slli_epi64(k.r[i + 1], 2));
      const __m256i fresh = lane_mask(st.fresh);
      for (int i = 0; i < 5; ++i) h[i] = _mm256_andnot_si256(fresh, h[i]);
      for (int l = 0; l < kLanes; ++l) st.fresh[l] = 0;
      r2_ready = false;
    }
    k.hibit = lane_mask(hibits);
    // Each lane reads from q; at block sw it moves from its payload to its tail buffer (never, if it is there).
    const std::uint8_t* q[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      const bool in_payload = st.pos[l] < st.full[l];
      q[l] = in_payload ? st.ct[l] + st.pos[l] : st.tp[l] + (st.pos[l] - st.full[l]);
      k.sw[l] = in_payload ? (st.full[l] - st.pos[l]) / 16 : kIdle;
      k.tp[l] = st.tp[l];
    }
    std::size_t pairs = 0;
    if (m >= kPairMin) {
      if (!r2_ready) square_r(k, mask);
      r2_ready = true;
      pairs = m / 2;
    }
    blocks4(k, h, q[0], q[1], q[2], q[3], pairs, m);
    // Lanes that are done get their tags (all four computed at once), then take the next jobs.
    std::uint8_t* tag[kLanes];
    bool any_done = false;
    for (int l = 0; l < kLanes; ++l) {
      const bool done = st.job[l] != kIdle && (st.pos[l] += 16 * m) == st.total[l];
      tag[l] = done ? jobs[st.job[l]].tag : st.discard[l];
      any_done |= done;
    }
    if (!any_done) continue;
    finish4(h, st.key, tag, mask);
    for (int l = 0; l < kLanes; ++l) {
      if (tag[l] != st.discard[l]) take_next(st, l, jobs, queue, mode);
    }
  }
  // The bookkeeping (tail blocks, discarded tags), h and r, and the vector registers (vzeroall). The keys are
  // the caller's; spill slots the compiler chose on the stack are out of reach here.
  explicit_bzero(&st, sizeof(st));
  explicit_bzero(&k, sizeof(k));
  _mm256_zeroall();
}

}  // namespace

void poly1305_aead_no_ad_batch_avx2(const PolyJob* jobs, std::size_t n) {
  // One or two packets leave most lanes idle and the rest latency-bound: the scalar code is faster there.
  if (n < kMinBatch) {
    poly1305_aead_no_ad_batch(jobs, n);
    return;
  }
  run(jobs, n, Mode::kAead);
}

void poly1305_batch_avx2(const PolyJob* jobs, std::size_t n) { run(jobs, n, Mode::kPlain); }

}  // namespace wg::crypto::simd
