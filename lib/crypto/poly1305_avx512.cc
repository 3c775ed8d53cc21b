// Poly1305 across packets with AVX-512 IFMA (see poly1305_avx512.h): which job runs in which lane. Built with
// the AVX-512 flags (lib/meson.build, wg_lib_avx512); the arithmetic is in poly1305_avx512_kernel.h. The
// scheduling is that of the AVX2 kernel (poly1305_avx2.cc) with eight lanes instead of four.
//
// Flow of an AEAD batch:
// 1. One job, or two or three with fewer than kScalarBytes payload bytes in all: the scalar code (an octet
//    pass costs about what 300 bytes of scalar MAC do).
// 2. Every payload one length (uniform: one flow's full-size packets, a flood of small ones; WireGuard pads
//    payloads to 16, but any common length qualifies): run_uniform. Octets of jobs, each one pass from h = 0
//    to its eight tags: the full blocks read in place (four per step with r^4..r when long, else two octets
//    side by side), the partial block of each lane in one masked load, then le64(0) || le64(len) broadcast.
//    A last octet short of eight jobs is filled with copies of the last job, their tags dropped.
// 3. Anything else (mixed lengths): run, the general way, below.
//
// The general way: the eight lanes take the first eight jobs; then passes run until every lane is idle. A
// lane's blocks are its payload's full 16-byte blocks, read in place, then its tail blocks from a small
// per-lane buffer written when it took the job: for the AEAD, pad16 of the partial block (if any; one masked
// load, no byte loop) and le64(0) || le64(len), all with the 2^128 bit; for the plain MAC, the partial block
// with its 0x01 byte and no 2^128 bit. A pass runs, in all lanes in lockstep, as many blocks as the busy lane
// nearest its end has left. Lanes reach their tails only in the last two blocks of a pass (a tail is at most
// two blocks), so a long pass runs its payload blocks in place, four per step with r^4..r (set up once after
// lanes change), and only the last few blocks one per step with each lane's read pointer moving to its tail
// buffer on its own (cmov). Then, if any lane is done, the tags of all eight lanes are finished at once
// (finish8; constant time), the done lanes' tags are kept, and those lanes take the next jobs, roughly longest
// first. Lanes left without a job shadow a busy lane and their results are dropped, so the block loop never
// branches per lane. The plain MAC of the empty message (no blocks) is s, written when its job is taken.
//
// Measured on the AMD EPYC Zen 5 VM of issue 13 (2 vCPUs shared with other work; TSC ticks at 2.1 GHz per
// 32-packet AEAD burst, medians of 51 alternating repetitions, AVX2 kernel / this file): 64 B 1,070 / 425,
// 1,420 B 11,660 / 4,140 (0.09 ticks, about 0.15 core cycles, per byte), IMIX (19 x 64, 10 x 576, 3 x 1,420)
// 4,220 / 2,130. Long bursts are bound by vpmadd52 throughput (18 per block and lane octet); IMIX by the
// general way's short, latency-bound passes and per-pass bookkeeping.
//
// Why no std:: templates or shared inline helpers here: a function instantiated in this file would be
// compiled with AVX-512, and the linker may pick that copy for callers in baseline files, which would then
// fault on a CPU without AVX-512. Everything below is intrinsics, plain loops and memcpy, in an anonymous
// namespace.
#include "lib/crypto/poly1305_avx512.h"

// GCC 12's AVX-512 intrinsics (shifts, extracts) start from _mm512_undefined_epi32(), which it reports as an
// uninitialized use wherever they are inlined (GCC bug 105593, fixed in GCC 13): silenced for this file only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>
#include <string.h>  // explicit_bzero

#include <cstring>

#include "lib/crypto/poly1305_avx512_kernel.h"

namespace wg::crypto::simd {
namespace {

enum class Mode { kAead, kPlain };

constexpr std::size_t kIdle = ~std::size_t{0};
// Passes of at least this many blocks run four blocks per step, which needs r^2..r^4 set up first (three
// multiplies, two deep) whenever a lane has taken a new job. Uniform bursts measured about even around it:
// 160 B (two octets side by side) 0.143, 192 B (four-block steps) 0.149 TSC ticks per byte.
constexpr std::size_t kQuadMin = 12;
// A single job, or fewer than kScalarJobs with fewer than kScalarBytes payload bytes in all, go to the scalar
// code (poly1305.h). Measured (TSC ticks per batch, scalar / this file, AMD EPYC Zen 5 VM, medians of 31):
// 1 x 576 B 461 / 571, 3 x 64 B 257 / 259, 4 x 64 B 332 / 250 (uniform) or 338 (general way), 2 x 576 B
// 947 / 577: an octet pass costs about what 250..350 bytes of scalar MAC do.
constexpr std::size_t kScalarJobs = 4;
constexpr std::size_t kScalarBytes = 352;
// Any 32 readable bytes: the r and s of a lane that never gets a job.
alignas(64) constexpr std::uint8_t kNoKey[32] = {};

// The per-lane bookkeeping of one call. A lane's blocks are its payload's full blocks read in place,
// ct[0, full), then its tail blocks tail[0, total - full).
struct Lanes {
  Kernel k;  // r and its powers, hibit, and each lane's tail pointer (k.tp[l]: tail[l], or for an idle lane
             // the tail of the busy lane it shadows) and the block at which it moves there
  alignas(16) std::uint8_t tail[kLanes][32];
  alignas(16) std::uint8_t discard[kLanes][16];  // where finish8 puts the tags of lanes that are not done
  const std::uint8_t* key[kLanes];
  const std::uint8_t* ct[kLanes];
  std::size_t pos[kLanes];  // bytes of the lane's blocks done
  std::size_t full[kLanes];
  std::size_t total[kLanes];
  std::size_t job[kLanes];  // kIdle once the lane has no job
  bool fresh[kLanes];       // the lane took a new job (new r, h = 0) since the last pass
};

// Lane l takes job `index`: its key (r is set up at the next pass), its blocks, its tail blocks written out.
// Returns false, with the tag written, for a job without blocks (the plain MAC of the empty message: s).
__attribute__((always_inline)) inline bool start(Lanes& st, int l, const PolyJob& j, std::size_t index,
                                                 Mode mode) {
  if (mode == Mode::kPlain && j.len == 0) {
    std::memcpy(j.tag, j.key + 16, 16);
    return false;
  }
  st.key[l] = j.key;
  st.fresh[l] = true;
  st.ct[l] = j.ct;
  st.k.tp[l] = st.tail[l];
  st.pos[l] = 0;
  st.full[l] = j.len / 16 * 16;
  st.job[l] = index;
  std::uint8_t* t = st.tail[l];
  const std::size_t rest = j.len % 16;
  // The partial block, zero-padded, in one masked load: the bytes past the payload are neither read nor
  // faulted on (AVX-512 masked loads suppress faults on masked-off elements).
  const __mmask16 live = static_cast<__mmask16>((1u << rest) - 1);
  __m128i partial = _mm_maskz_loadu_epi8(live, j.ct + st.full[l]);
  // Each tail block is written with one 16-byte store, as the block loop reads it back with one 16-byte
  // load: a load spanning two stores is not forwarded and stalls the pass until the stores retire.
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
  } else {
    // A short final block gets a 0x01 byte after it instead of the 2^128 bit (RFC 8439 section 2.5.1).
    if (rest != 0) partial = _mm_or_si128(partial, _mm_maskz_set1_epi8(static_cast<__mmask16>(1u << rest), 1));
    _mm_store_si128(reinterpret_cast<__m128i*>(t), partial);
    st.total[l] = st.full[l] + (rest != 0 ? 16 : 0);
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

// Whether the AEAD batch is uniform: every payload the same length (one flow's full-size packets, a flood of
// small ones; WireGuard pads its payloads to 16, but any common length will do).
bool uniform(const PolyJob* jobs, std::size_t n) {
  const std::size_t len = jobs[0].len;
  for (std::size_t i = 1; i < n; ++i) {
    if (jobs[i].len != len) return false;
  }
  return true;
}

// The lanes of the octet of a uniform batch that starts at job `first`: keys, tags and payloads. Past the end
// of the batch, copies of its last job whose tags go to `discard`.
struct Octet {
  const std::uint8_t* key[kLanes];
  std::uint8_t* tag[kLanes];
  const std::uint8_t* q[kLanes];

  Octet(const PolyJob* jobs, std::size_t n, std::size_t first, std::uint8_t (*discard)[16]) {
    for (int l = 0; l < kLanes; ++l) {
      const std::size_t i = first + static_cast<std::size_t>(l);
      const PolyJob& j = jobs[i < n ? i : n - 1];
      key[l] = j.key;
      tag[l] = i < n ? j.tag : discard[l];
      q[l] = j.ct;
    }
  }
};

// The AEAD tags of a uniform batch, eight jobs per pass. No lane bookkeeping: every lane starts and ends with
// the pass and reads its full blocks in place, then its partial block (if any) with one masked load, and the
// last block, le64(0) || le64(len), is the same in every lane (broadcast, not loaded). A last octet short of
// eight jobs is filled up with copies of the batch's last job, whose tags are dropped.
// Long payloads go four blocks per step, one octet at a time. (Setting up the next octet's r^2..r^4 before
// this octet's blocks, to overlap that latency chain with them, measured slower: 256-byte bursts 2.3x the
// AVX2 kernel instead of 2.5x.) Short payloads (no four-block steps) go two octets per pass, their dependency
// chains side by side.
void run_uniform(const PolyJob* jobs, std::size_t n) {
  Kernel k[2];
  alignas(16) std::uint8_t discard[kLanes][16];
  const std::size_t len = jobs[0].len;
  const std::size_t blocks = len / 16;
  const std::size_t rest = len % 16;
  k[0].hibit = k[1].hibit = _mm512_set1_epi64(static_cast<long long>(kHibit));
  if (blocks >= kQuadMin) {
    for (std::size_t done = 0; done < n; done += kLanes) {
      Octet o(jobs, n, done, discard);
      __m512i h[3];
      for (int i = 0; i < 3; ++i) h[i] = _mm512_setzero_si512();
      set_r(k[0], o.key);
      set_powers(k[0]);
      blocks8(k[0], h, o.q, blocks / 4, blocks);  // moves o.q past the full blocks
      if (rest != 0) partial_step(k[0], h, o.q, rest);
      lengths_step(k[0], h, len);
      finish8(h, o.key, o.tag);
    }
  } else {
    for (std::size_t done = 0; done < n;) {
      Octet a(jobs, n, done, discard);
      __m512i ha[3], hb[3];
      for (int i = 0; i < 3; ++i) ha[i] = hb[i] = _mm512_setzero_si512();
      set_r(k[0], a.key);
      if (n - done > kLanes) {
        Octet b(jobs, n, done + kLanes, discard);
        set_r(k[1], b.key);
        blocks8x2(k[0], k[1], ha, hb, a.q, b.q, blocks);  // moves a.q and b.q past the full blocks
        if (rest != 0) {
          partial_step(k[0], ha, a.q, rest);
          partial_step(k[1], hb, b.q, rest);
        }
        lengths_step(k[0], ha, len);
        lengths_step(k[1], hb, len);
        finish8(ha, a.key, a.tag);
        finish8(hb, b.key, b.tag);
        done += 2 * kLanes;
      } else {
        blocks8(k[0], ha, a.q, 0, blocks);
        if (rest != 0) partial_step(k[0], ha, a.q, rest);
        lengths_step(k[0], ha, len);
        finish8(ha, a.key, a.tag);
        done += kLanes;
      }
    }
  }
  // r and its powers, the dropped tags, and h in the vector registers.
  explicit_bzero(k, sizeof(k));
  explicit_bzero(discard, sizeof(discard));
  wipe_vector_registers();
}

void run(const PolyJob* jobs, std::size_t n, Mode mode) {
  Lanes st;  // every field is written before it is read
  Kernel& k = st.k;
  Queue queue(jobs, n);
  for (int l = 0; l < kLanes; ++l) {
    st.fresh[l] = false;
    st.key[l] = kNoKey;
    take_next(st, l, jobs, queue, mode);
  }
  __m512i h[3];
  for (int i = 0; i < 3; ++i) h[i] = _mm512_setzero_si512();
  bool powers_ready = false;
  for (;;) {
    // The pass runs until the first busy lane is done. The plain MAC's tail block has no 2^128 bit (the AEAD's
    // tail blocks all have it), so there a pass also stops where a lane moves on to its tail: the hibit
    // vector is fixed for the pass.
    std::size_t m = kIdle;
    int busy = -1;
    __mmask8 fresh = 0;
    __mmask8 hibits = 0xff;
    for (int l = 0; l < kLanes; ++l) {
      fresh |= static_cast<__mmask8>(st.fresh[l] << l);
      if (st.job[l] == kIdle) continue;
      busy = l;
      std::size_t left = st.total[l] - st.pos[l];
      if (mode == Mode::kPlain && st.pos[l] < st.full[l]) left = st.full[l] - st.pos[l];
      if (mode == Mode::kPlain && st.pos[l] >= st.full[l]) hibits &= static_cast<__mmask8>(~(1u << l));
      if (left < m) m = left;
    }
    if (busy < 0) break;
    m /= 16;
    for (int l = 0; l < kLanes; ++l) {
      if (st.job[l] != kIdle) continue;
      // Idle: shadow a busy lane (same blocks, result dropped).
      st.ct[l] = st.ct[busy];
      k.tp[l] = k.tp[busy];
      st.pos[l] = st.pos[busy];
      st.full[l] = st.full[busy];
      hibits = static_cast<__mmask8>((hibits & ~(1u << l)) | ((hibits >> busy & 1u) << l));
    }
    if (fresh != 0) {
      // Every lane's r from its key; h = 0 in new lanes.
      set_r(k, st.key);
      for (int i = 0; i < 3; ++i) h[i] = _mm512_maskz_mov_epi64(static_cast<__mmask8>(~fresh), h[i]);
      for (int l = 0; l < kLanes; ++l) st.fresh[l] = false;
      powers_ready = false;
    }
    k.hibit = _mm512_maskz_set1_epi64(hibits, static_cast<long long>(kHibit));
    // Each lane reads from q; at block sw it moves from its payload to its tail buffer (never, if it is there).
    const std::uint8_t* q[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      const bool in_payload = st.pos[l] < st.full[l];
      q[l] = in_payload ? st.ct[l] + st.pos[l] : k.tp[l] + (st.pos[l] - st.full[l]);
      k.sw[l] = in_payload ? (st.full[l] - st.pos[l]) / 16 : kIdle;
    }
    // No lane reaches its tail in the first `inplace` blocks (a lane's tail is at most two blocks, so they
    // all lie in the last two of the pass): those run on payloads in place, four blocks per step when there
    // are enough; the rest one per step, lanes switching to their tail buffers on the way.
    std::size_t inplace = m;
    for (int l = 0; l < kLanes; ++l) inplace = k.sw[l] < inplace ? k.sw[l] : inplace;
    std::size_t quads = 0;
    if (inplace >= kQuadMin) {
      if (!powers_ready) set_powers(k);
      powers_ready = true;
      quads = inplace / 4;
    }
    if (quads == 0) inplace = 0;
    blocks8(k, h, q, quads, inplace);
    blocks8_switching(k, h, q, inplace, m);
    // Lanes that are done get their tags (all eight computed at once), then take the next jobs.
    std::uint8_t* tag[kLanes];
    bool any_done = false;
    for (int l = 0; l < kLanes; ++l) {
      const bool done = st.job[l] != kIdle && (st.pos[l] += 16 * m) == st.total[l];
      tag[l] = done ? jobs[st.job[l]].tag : st.discard[l];
      any_done |= done;
    }
    if (!any_done) continue;
    finish8(h, st.key, tag);
    for (int l = 0; l < kLanes; ++l) {
      if (tag[l] != st.discard[l]) take_next(st, l, jobs, queue, mode);
    }
  }
  // The bookkeeping (tail blocks, discarded tags, r and its powers), and h in the vector registers. The keys
  // are the caller's; spill slots the compiler chose on the stack are out of reach here.
  explicit_bzero(&st, sizeof(st));
  wipe_vector_registers();
}

}  // namespace

void poly1305_aead_no_ad_batch_avx512(const PolyJob* jobs, std::size_t n) {
  if (n == 0) return;
  // One packet, or a few short ones, cost the lanes about as much as a full octet: the scalar code is
  // faster there.
  if (n < kScalarJobs) {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) bytes += jobs[i].len;
    if (n == 1 || bytes < kScalarBytes) {
      poly1305_aead_no_ad_batch(jobs, n);
      return;
    }
  }
  if (uniform(jobs, n)) {
    run_uniform(jobs, n);
  } else {
    run(jobs, n, Mode::kAead);
  }
}

void poly1305_batch_avx512(const PolyJob* jobs, std::size_t n) { run(jobs, n, Mode::kPlain); }

}  // namespace wg::crypto::simd
