// Poly1305 across packets with AVX2 (see poly1305_avx2.h): which job runs in which lane. Built with -mavx2
// (lib/meson.build); the arithmetic is in poly1305_avx2_kernel.h.
//
// Flow of an AEAD batch: if every payload has one length, a non-zero multiple of 16 (uniform: one flow's
// full-size packets, a flood of small ones), its jobs run four at a time, each quad one pass from h = 0 to
// its four tags, reading the payloads in place and one shared tail block (run_uniform). The rest of such a
// batch (1..3 jobs), and any other batch, goes the general way (run):
//
// The four lanes take the first four jobs; then passes run until every lane is idle. A lane's blocks are its
// payload's full 16-byte blocks, read in place, then its tail blocks from a small per-lane buffer written
// when it took the job: for the AEAD, pad16 of the partial block (if any) and le64(0) || le64(len), all with
// the 2^128 bit; for the plain MAC, the partial block with its 0x01 byte and no 2^128 bit. A pass runs, in
// all lanes in lockstep, as many blocks as the busy lane nearest its end has left (each lane's read pointer
// moving from payload to tail buffer on its own). Then, if any lane is done, the tags of all four lanes are
// finished at once (finish4; constant time), the done lanes' tags are kept, and those lanes take the next
// jobs, roughly longest first. Lanes left without a job shadow a busy lane and their results are dropped, so
// the block loop never branches per lane. The plain MAC of the empty message (no blocks) is s, written when
// its job is taken.
//
// Cost on the Zen 3 development VM (TSC ticks per 32-packet burst of the AEAD form, medians): the general way
// spends about 55 per packet around the block loop (lane bookkeeping, tail blocks, refills), more than the
// five blocks of a 64-byte packet cost; the uniform way takes such a burst from about 3,200 to 1,800, and a
// 1424-byte burst from about 22,200 to 20,800.
//
// Why no std:: templates or shared inline helpers here: a function instantiated in this file would be
// compiled with AVX2, and the linker may pick that copy for callers in baseline files, which would then fault
// on a CPU without AVX2. Everything below is intrinsics, plain loops and memcpy, in an anonymous namespace.
#include "lib/crypto/poly1305_avx2.h"

#include <immintrin.h>
#include <string.h>  // explicit_bzero

#include <cstring>

#include "lib/crypto/poly1305_avx2_kernel.h"

namespace wg::crypto::simd {
namespace {

enum class Mode { kAead, kPlain };

constexpr std::size_t kIdle = ~std::size_t{0};
// Below this many jobs the AEAD batch goes to the scalar code (poly1305.h). Measured on Zen 3 (TSC ticks for
// the whole batch, scalar / AVX2): 1 x 64 B 147 / 392, 2 x 64 B 269 / 416, 3 x 64 B 392 / 441, 3 x 1420 B
// 4949 / 3136, 4 x 64 B 588 / 465.
constexpr std::size_t kMinBatch = 3;
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
  Kernel k;  // r, r^2, hibit, and each lane's tail pointer (k.tp[l]: tail[l], or for an idle lane the tail
             // of the busy lane it shadows) and the block at which it moves there
  alignas(16) std::uint8_t tail[kLanes][32];
  alignas(16) std::uint8_t discard[kLanes][16];  // where finish4 puts the tags of lanes that are not done
  const std::uint8_t* key[kLanes];
  const std::uint8_t* ct[kLanes];
  std::size_t pos[kLanes];         // bytes of the lane's blocks done
  std::size_t full[kLanes];
  std::size_t total[kLanes];
  std::size_t job[kLanes];  // kIdle once the lane has no job
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
  st.k.tp[l] = st.tail[l];
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
  } else {
    // A short final block gets a 0x01 byte after it instead of the 2^128 bit (RFC 8439 section 2.5.1).
    if (rest != 0) {
      partial = _mm_or_si128(partial, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kOneAt + 16 - rest)));
    }
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

__m256i lane_mask(const std::uint64_t v[kLanes]) {
  return _mm256_set_epi64x(static_cast<long long>(v[3]), static_cast<long long>(v[2]),
                           static_cast<long long>(v[1]), static_cast<long long>(v[0]));
}

// Whether the AEAD batch is uniform: every payload the same length, a non-zero multiple of 16 (one flow's
// full-size packets, or a flood of small ones; WireGuard pads its payloads to 16).
bool uniform(const PolyJob* jobs, std::size_t n) {
  const std::size_t len = jobs[0].len;
  if (len == 0 || len % 16 != 0) return false;
  for (std::size_t i = 1; i < n; ++i) {
    if (jobs[i].len != len) return false;
  }
  return true;
}

// The AEAD tags of a uniform batch, four jobs per pass, for the first n - n % 4 jobs; returns how many it
// did. No lane bookkeeping: every lane starts and ends with the pass, all read their payloads in place and
// then one shared tail block, le64(0) || le64(len).
std::size_t run_uniform(const PolyJob* jobs, std::size_t n) {
  Kernel k;
  const std::size_t len = jobs[0].len;
  const std::size_t blocks = len / 16 + 1;
  alignas(16) std::uint8_t lengths[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(lengths), _mm_set_epi64x(static_cast<long long>(len), 0));
  const __m256i mask = _mm256_set1_epi64x(static_cast<long long>(kMask26));
  k.mask = mask;
  k.hibit = _mm256_set1_epi64x(static_cast<long long>(kHibit));
  for (int l = 0; l < kLanes; ++l) {
    k.tp[l] = lengths;
    k.sw[l] = len / 16;
  }
  const std::size_t pairs = blocks >= kPairMin ? blocks / 2 : 0;
  std::size_t done = 0;
  for (; done + kLanes <= n; done += kLanes) {
    const PolyJob* j = jobs + done;
    const std::uint8_t* const key[kLanes] = {j[0].key, j[1].key, j[2].key, j[3].key};
    std::uint8_t* const tag[kLanes] = {j[0].tag, j[1].tag, j[2].tag, j[3].tag};
    set_r(k, key, mask);
    if (pairs != 0) square_r(k, mask);
    __m256i h[5];
    for (int i = 0; i < 5; ++i) h[i] = _mm256_setzero_si256();
    blocks4(k, h, j[0].ct, j[1].ct, j[2].ct, j[3].ct, pairs, blocks);
    finish4(h, key, tag, mask);
  }
  // r and r^2, and h in the vector registers (vzeroall).
  explicit_bzero(&k, sizeof(k));
  _mm256_zeroall();
  return done;
}

void run(const PolyJob* jobs, std::size_t n, Mode mode) {
  Lanes st;  // every field is written before it is read
  Kernel& k = st.k;
  Queue queue(jobs, n);
  for (int l = 0; l < kLanes; ++l) {
    st.fresh[l] = 0;
    st.key[l] = kShiftDown;  // any 32 readable bytes: the r and s of a lane that never gets a job
    take_next(st, l, jobs, queue, mode);
  }
  const __m256i mask = _mm256_set1_epi64x(static_cast<long long>(kMask26));
  k.mask = mask;
  __m256i h[5];
  for (int i = 0; i < 5; ++i) h[i] = _mm256_setzero_si256();
  bool r2_ready = false;
  for (;;) {
    // The pass runs until the first busy lane is done. The plain MAC's tail block has no 2^128 bit (the AEAD's
    // tail blocks all have it), so there a pass also stops where a lane moves on to its tail: the hibit
    // vector is fixed for the pass.
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
      if (mode == Mode::kPlain && st.pos[l] >= st.full[l]) hibits[l] = 0;
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
      hibits[l] = hibits[busy];
    }
    if (any_fresh != 0) {
      // Every lane's r from its key; h = 0 in new lanes.
      set_r(k, st.key, mask);
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
      q[l] = in_payload ? st.ct[l] + st.pos[l] : k.tp[l] + (st.pos[l] - st.full[l]);
      k.sw[l] = in_payload ? (st.full[l] - st.pos[l]) / 16 : kIdle;
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
  // The bookkeeping (tail blocks, discarded tags, r), and h in the vector registers (vzeroall). The keys are
  // the caller's; spill slots the compiler chose on the stack are out of reach here.
  explicit_bzero(&st, sizeof(st));
  _mm256_zeroall();
}

}  // namespace

void poly1305_aead_no_ad_batch_avx2(const PolyJob* jobs, std::size_t n) {
  if (n >= kLanes && uniform(jobs, n)) {
    const std::size_t done = run_uniform(jobs, n);
    jobs += done;
    n -= done;
  }
  if (n == 0) return;
  // One or two packets leave most lanes idle and the rest latency-bound: the scalar code is faster there.
  if (n < kMinBatch) {
    poly1305_aead_no_ad_batch(jobs, n);
    return;
  }
  run(jobs, n, Mode::kAead);
}

void poly1305_batch_avx2(const PolyJob* jobs, std::size_t n) { run(jobs, n, Mode::kPlain); }

}  // namespace wg::crypto::simd
