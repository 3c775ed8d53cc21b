// Poly1305, scalar, radix 2^64 (see poly1305.h). The accumulator h = h0 + h1*2^64 + h2*2^128 stays below
// about 2^131 between blocks; r = r0 + r1*2^64 is clamped, so r1 is a multiple of 4 and the terms at 2^128
// and above fold back with 2^130 = 5 (mod 2^130 - 5) as multiples of s1 = 5 * (r1 / 4).
#include "lib/crypto/poly1305.h"

#include <cstring>

namespace wg::crypto::simd {
namespace {

using u128 = unsigned __int128;

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);  // x86-64 only (the engine is AVX2): little-endian already
  return v;
}

void store_le64(std::uint8_t* p, std::uint64_t v) { std::memcpy(p, &v, 8); }

struct State {
  std::uint64_t r0, r1, s1;
  std::uint64_t h0 = 0, h1 = 0, h2 = 0;
  std::uint64_t pad0, pad1;

  explicit State(const std::uint8_t key[kPolyKeySize])
      : r0(load_le64(key) & 0x0ffffffc0fffffffULL),
        r1(load_le64(key + 8) & 0x0ffffffc0ffffffcULL),
        s1((r1 >> 2) * 5),
        pad0(load_le64(key + 16)),
        pad1(load_le64(key + 24)) {}

  // h = (h + m + hibit * 2^128) * r, partially reduced.
  void block(std::uint64_t m0, std::uint64_t m1, std::uint64_t hibit) {
    u128 t = static_cast<u128>(h0) + m0;
    std::uint64_t a0 = static_cast<std::uint64_t>(t);
    t = static_cast<u128>(h1) + m1 + static_cast<std::uint64_t>(t >> 64);
    std::uint64_t a1 = static_cast<std::uint64_t>(t);
    std::uint64_t a2 = h2 + hibit + static_cast<std::uint64_t>(t >> 64);

    const u128 d0 = static_cast<u128>(a0) * r0 + static_cast<u128>(a1) * s1;
    u128 d1 = static_cast<u128>(a0) * r1 + static_cast<u128>(a1) * r0 + static_cast<u128>(a2) * s1;
    std::uint64_t d2 = a2 * r0;  // a2 < 8 and r0 < 2^60: no overflow
    d1 += static_cast<std::uint64_t>(d0 >> 64);
    d2 += static_cast<std::uint64_t>(d1 >> 64);
    // Everything from bit 130 up is multiplied by 5 and added back at bit 0.
    const std::uint64_t c = (d2 >> 2) * 5;
    t = static_cast<u128>(static_cast<std::uint64_t>(d0)) + c;
    h0 = static_cast<std::uint64_t>(t);
    t = static_cast<u128>(static_cast<std::uint64_t>(d1)) + static_cast<std::uint64_t>(t >> 64);
    h1 = static_cast<std::uint64_t>(t);
    h2 = (d2 & 3) + static_cast<std::uint64_t>(t >> 64);
  }

  void full_blocks(const std::uint8_t* p, std::size_t nblocks) {
    for (std::size_t i = 0; i < nblocks; ++i, p += 16) block(load_le64(p), load_le64(p + 8), 1);
  }

  // h mod 2^130 - 5, plus s, mod 2^128 (RFC 8439 section 2.5.1), with no branch on secret data.
  void finish(std::uint8_t tag[kPolyTagSize]) {
    // Fold h2's bits above 2^130 first, so h < 2^130 + 5*2 and one conditional subtraction of p suffices.
    std::uint64_t c = (h2 >> 2) * 5;
    h2 &= 3;
    u128 t = static_cast<u128>(h0) + c;
    h0 = static_cast<std::uint64_t>(t);
    t = static_cast<u128>(h1) + static_cast<std::uint64_t>(t >> 64);
    h1 = static_cast<std::uint64_t>(t);
    h2 += static_cast<std::uint64_t>(t >> 64);
    // g = h + 5 - 2^130: if it does not go negative (bit 130 of h + 5 set), h >= p and g is the result.
    t = static_cast<u128>(h0) + 5;
    const std::uint64_t g0 = static_cast<std::uint64_t>(t);
    t = static_cast<u128>(h1) + static_cast<std::uint64_t>(t >> 64);
    const std::uint64_t g1 = static_cast<std::uint64_t>(t);
    const std::uint64_t g2 = h2 + static_cast<std::uint64_t>(t >> 64);
    const std::uint64_t use_g = 0 - (g2 >> 2);  // all ones when h >= p
    h0 = (h0 & ~use_g) | (g0 & use_g);
    h1 = (h1 & ~use_g) | (g1 & use_g);
    t = static_cast<u128>(h0) + pad0;
    store_le64(tag, static_cast<std::uint64_t>(t));
    store_le64(tag + 8, h1 + pad1 + static_cast<std::uint64_t>(t >> 64));
  }
};

}  // namespace

void poly1305(const std::uint8_t key[kPolyKeySize], const std::uint8_t* msg, std::size_t len,
              std::uint8_t tag[kPolyTagSize]) {
  State st(key);
  st.full_blocks(msg, len / 16);
  if (const std::size_t rest = len % 16; rest != 0) {
    // A short final block gets a 0x01 byte after it instead of the 2^128 bit (RFC 8439 section 2.5.1).
    std::uint8_t last[16] = {};
    std::memcpy(last, msg + len - rest, rest);
    last[rest] = 1;
    st.block(load_le64(last), load_le64(last + 8), 0);
  }
  st.finish(tag);
}

namespace {

// After the full blocks: the zero-padded partial block, the lengths block, the tag.
void aead_tail(State& st, const std::uint8_t* ct, std::size_t len, std::uint8_t tag[kPolyTagSize]) {
  if (const std::size_t rest = len % 16; rest != 0) {
    std::uint8_t last[16] = {};  // pad16: zeros, and a full block (the 2^128 bit set)
    std::memcpy(last, ct + len - rest, rest);
    st.block(load_le64(last), load_le64(last + 8), 1);
  }
  st.block(0, static_cast<std::uint64_t>(len), 1);  // le64(AD length = 0) || le64(ciphertext length)
  st.finish(tag);
}

constexpr int kSlots = 4;

}  // namespace

void poly1305_aead_no_ad(const std::uint8_t key[kPolyKeySize], const std::uint8_t* ct, std::size_t len,
                         std::uint8_t tag[kPolyTagSize]) {
  State st(key);
  st.full_blocks(ct, len / 16);
  aead_tail(st, ct, len, tag);
}

// Slots hold packets in flight; every pass runs the full blocks all four have left in lockstep, then
// finishes the packets that ran out and refills their slots. Once no job is left to refill a slot, the
// packets still in flight finish one at a time.
void poly1305_aead_no_ad_batch(const PolyJob* jobs, std::size_t n) {
  if (n < kSlots) {
    for (std::size_t i = 0; i < n; ++i) poly1305_aead_no_ad(jobs[i].key, jobs[i].ct, jobs[i].len, jobs[i].tag);
    return;
  }
  State st[kSlots] = {State(jobs[0].key), State(jobs[1].key), State(jobs[2].key), State(jobs[3].key)};
  std::size_t job[kSlots];
  const std::uint8_t* p[kSlots];
  std::size_t left[kSlots];
  bool active[kSlots];
  for (int s = 0; s < kSlots; ++s) {
    job[s] = static_cast<std::size_t>(s);
    p[s] = jobs[s].ct;
    left[s] = jobs[s].len / 16;
    active[s] = true;
  }
  std::size_t next = kSlots;
  bool refilling = true;
  while (refilling) {
    std::size_t m = left[0];
    for (int s = 1; s < kSlots; ++s) m = left[s] < m ? left[s] : m;
    for (std::size_t b = 0; b < m; ++b) {
      for (int s = 0; s < kSlots; ++s) {
        st[s].block(load_le64(p[s]), load_le64(p[s] + 8), 1);
        p[s] += 16;
      }
    }
    for (int s = 0; s < kSlots; ++s) {
      left[s] -= m;
      if (left[s] != 0) continue;
      const PolyJob& done = jobs[job[s]];
      aead_tail(st[s], done.ct, done.len, done.tag);
      if (next == n) {
        active[s] = false;
        refilling = false;
        continue;
      }
      job[s] = next;
      st[s] = State(jobs[next].key);
      p[s] = jobs[next].ct;
      left[s] = jobs[next].len / 16;
      ++next;
    }
  }
  for (int s = 0; s < kSlots; ++s) {
    if (!active[s]) continue;
    const PolyJob& j = jobs[job[s]];
    st[s].full_blocks(p[s], left[s]);
    aead_tail(st[s], j.ct, j.len, j.tag);
  }
}

}  // namespace wg::crypto::simd
