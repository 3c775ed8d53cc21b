// What the libFuzzer targets in this directory share: a deterministic libsodium RNG (so a crash input replays
// exactly, and a "valid message" built inside a run is the same bytes every run), keys derived from
// constants, a two-peer PeerDirectory, the xor/truncate mutation of a valid message, an invariant check that
// traps, and the seed-writing mode that tools/fuzz-smoke.sh uses to build a starting corpus.
//
// State rule: the only mutable global is the RNG stream, and begin_run() resets it at the start of every
// input. Everything else a target keeps across runs is fixed setup behind a function-local static.
#pragma once

#include <sodium/core.h>
#include <sodium/randombytes.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "lib/crypto/blake2s.h"
#include "lib/crypto/secret.h"
#include "lib/crypto/x25519.h"
#include "lib/protocol/noise.h"
#include "lib/protocol/tai64n.h"

// An invariant of the code under test; a violation is a finding, so it traps (libFuzzer saves the input).
#define FUZZ_CHECK(cond)                                                                    \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
      __builtin_trap();                                                                     \
    }                                                                                       \
  } while (0)

namespace wg::fuzz {

using Bytes = std::vector<std::uint8_t>;
using Seeds = std::vector<Bytes>;

inline constexpr MonoTime kNow = std::chrono::seconds(1000);

// --- Deterministic randomness: splitmix64 behind libsodium's randombytes interface. Not a CSPRNG, and not
// meant to be one: ephemeral keys, nonces and cookie secrets only need to be the same on every replay.
namespace detail {
inline std::uint64_t rng_state = 0;
inline std::uint64_t splitmix64() {
  std::uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline void rng_buf(void* const buf, const std::size_t size) {
  auto* p = static_cast<std::uint8_t*>(buf);
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t v = splitmix64();
    std::memcpy(p + i, &v, size - i < 8 ? size - i : 8);
  }
}
inline std::uint32_t rng_random() { return static_cast<std::uint32_t>(splitmix64()); }
inline const char* rng_name() { return "wggate-fuzz-splitmix64"; }
inline randombytes_implementation rng_impl = {rng_name, rng_random, nullptr, nullptr, rng_buf, nullptr};
}  // namespace detail

// Installs the RNG; must run before anything calls into libsodium (sodium_init draws from it).
inline void setup() {
  static const bool done = [] {
    randombytes_set_implementation(&detail::rng_impl);
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)done;
}

// Call first in every LLVMFuzzerTestOneInput (and before building seeds): restarts the random stream.
inline void begin_run() {
  setup();
  detail::rng_state = 0x77676761746546ULL;
}

// A clamped private key that depends only on `n`.
inline crypto::Key fixed_key(std::uint8_t n) {
  static constexpr std::uint8_t kLabel[] = {'w', 'g', 'g', 'a', 't', 'e', ' ', 'f', 'u', 'z', 'z'};
  const crypto::Hash h = crypto::hash({crypto::Bytes(kLabel), crypto::Bytes(&n, 1)});
  crypto::Key k(h);
  crypto::clamp(k);
  return k;
}

inline noise::StaticIdentity fixed_identity(std::uint8_t n) {
  noise::StaticIdentity id;
  id.set(fixed_key(n));
  return id;
}

// Initiation timestamps; a larger n is later.
inline noise::Tai64n fixed_timestamp(std::uint32_t n) {
  return noise::tai64n_from(std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + n)));
}

// The peer table as the protocol code sees it, holding at most two handshakes the target owns.
class Directory : public noise::PeerDirectory {
 public:
  explicit Directory(noise::Handshake* a, noise::Handshake* b = nullptr) : peers_{a, b} {}
  noise::Handshake* find_by_static_key(const crypto::PublicKey& key) override {
    for (noise::Handshake* hs : peers_) {
      if (hs != nullptr && hs->remote_static() == key) return hs;
    }
    return nullptr;
  }
  noise::Handshake* find_by_local_index(std::uint32_t local_index) override {
    for (noise::Handshake* hs : peers_) {
      if (hs != nullptr && hs->state() != noise::HandshakeState::kZeroed && hs->local_index() == local_index) {
        return hs;
      }
    }
    return nullptr;
  }

 private:
  noise::Handshake* peers_[2];
};

// A wire struct as the byte span the cookie and transport functions take.
template <typename M>
std::span<std::uint8_t> bytes_of(M& m) {
  return std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&m), sizeof(M));
}
template <typename M>
std::span<const std::uint8_t> bytes_of(const M& m) {
  return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&m), sizeof(M));
}

// Copies `msg` into a wire struct; false unless the size is exact.
template <typename M>
bool read_as(std::span<const std::uint8_t> msg, M& out) {
  if (msg.size() != sizeof(M)) return false;
  std::memcpy(&out, msg.data(), sizeof(M));
  return true;
}

// Mutates a copy of a valid message with the fuzz bytes `f`. f empty: unchanged. Else f[0] bit 0 set:
// truncate to f[1] % size bytes, then xor f[2..] in from the start; bit 0 clear: xor f[2..] in from offset
// f[1] % size. The xor never extends the message.
inline Bytes mutate(std::span<const std::uint8_t> msg, std::span<const std::uint8_t> f) {
  Bytes out(msg.begin(), msg.end());
  if (f.empty() || out.empty()) return out;
  const std::uint8_t where = f.size() > 1 ? f[1] : 0;
  std::size_t at = where % out.size();
  if (f[0] & 1) {
    out.resize(where % out.size());
    at = 0;
  }
  for (std::size_t i = 2; i < f.size() && at < out.size(); ++i, ++at) out[at] ^= f[i];
  return out;
}

// True when `b` differs from `a` anywhere in [begin, end), counting a truncation into the range as a change.
inline bool changed(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, std::size_t begin,
                    std::size_t end) {
  if (b.size() < end) return true;
  return std::memcmp(a.data() + begin, b.data() + begin, end - begin) != 0;
}

inline Bytes with_mode(std::uint8_t mode, std::span<const std::uint8_t> rest = {}) {
  Bytes out{mode};
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// Seed mode: with WG_FUZZ_WRITE_SEEDS=dir, a target writes make()'s inputs as dir/seed-N and exits.
// Call from LLVMFuzzerInitialize.
inline void write_seeds_if_asked(Seeds (*make)()) {
  const char* dir = std::getenv("WG_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return;
  const Seeds seeds = make();
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    const std::string path = std::string(dir) + "/seed-" + std::to_string(i);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(seeds[i].data(), 1, seeds[i].size(), f) != seeds[i].size()) {
      std::perror(path.c_str());
      std::exit(1);
    }
    std::fclose(f);
  }
  std::exit(0);
}

}  // namespace wg::fuzz
