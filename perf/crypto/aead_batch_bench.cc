// Batch AEAD engines side by side (issue 5): seal and open of one 32-packet burst (a typical rx burst) at
// payload sizes from small TCP ACKs to a full 1420-byte inner packet, plus an IMIX burst, one key per burst as
// a busy peer has. Every engine behind lib/crypto/aead_batch.h is measured the same way, so the ratios are
// the engines' own, not the harness's.
//
// Benchmark names (perf/run.sh reads them from --benchmark_format=json):
//   seal/<engine>/<size>    encrypt 32 payloads in place and write their tags
//   open/<engine>/<size>    verify 32 tags and decrypt in place
//   <engine>  make_engine() name: ipsec-mb, sodium, and where make_engine() builds them simd (issue 6),
//             avx512 and auto (issue 13; auto is measured side by side with the engines it chooses from, so
//             "auto within 3 % of the fastest engine at every size" is read off one run: auto's time over
//             the lowest of the others, per operation and size); a new engine is measured once its name is
//             added to kOptionalEngines
//   <size>    payload bytes per packet: 64 128 256 512 1024 1420, or "imix": 7:4:1 of 64/576/1420 bytes
//             interleaved in one burst (19 x 64, 10 x 576, 3 x 1420 = 11236 bytes)
//   poly1305/<impl>/<size>  the "simd" engine's MAC alone over one burst (AEAD form, RFC 8439 section 2.8):
//             impl scalar (poly1305.h) or avx2 (poly1305_avx2.h, only where the CPU has AVX2); sizes 64,
//             1420, imix. No cross-check here: tests/lib/crypto/poly1305_avx2_test.cc compares the two.
// JSON fields per benchmark: items_per_second (packets/s: Mpps = /1e6), bytes_per_second (payload bytes/s:
// Gbit/s = *8/1e9), both over CPU time (Google Benchmark's default: time the process was preempted on a busy
// machine does not count; on an idle pinned core CPU time = real time); label (the engine's description:
// library version and code path; for auto, its choice per size class and the figures it measured at start);
// error_occurred and error_message when the cross-check below failed (no numbers are reported then).
//
// Before any timing, every benchmark cross-checks all engines on its burst: each engine's ciphertext+tag
// must equal the one-packet reference (lib/crypto/aead.h, libsodium) byte for byte, each engine's open()
// must restore the plaintext from it, and a flipped tag bit must be refused. A fast engine that computes
// something else, or skips verification, is thus never reported.
//
// open decrypts in place, so the sealed burst must be restored before each call; that copy is kept out of the
// measured time (run_open). Data is cache-warm in both directions, as it is right after a burst is received.
//
// Run: build-*/perf/crypto/aead_batch_bench [--benchmark_filter=open/] [--benchmark_repetitions=5]
// Smoke run (CI, a few seconds): --benchmark_min_time=0.01 (Google Benchmark 1.7: seconds as a plain number)
// Exit status 1 when any benchmark reported an error (its JSON entry has error_occurred: true).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/crypto/aead.h"
#include "lib/crypto/aead_batch.h"
#include "lib/crypto/engine_simd.h"
#include "lib/crypto/poly1305.h"
#include "lib/crypto/poly1305_avx2.h"

namespace wg::perf {
namespace {

// Every refusal goes through here, so main can exit non-zero (CI's smoke run fails on a wrong result;
// Google Benchmark itself only marks the benchmark as errored and exits 0).
bool g_failed = false;
void fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}

constexpr std::size_t kBurst = 32;
constexpr std::uint32_t kSizes[] = {64, 128, 256, 512, 1024, 1420};
// Engines measured whether or not they can be built here (an unbuildable one shows up as an error in the
// results, not as a silent gap), then the ones that exist only where make_engine() builds them.
constexpr const char* kRequiredEngines[] = {"ipsec-mb", "sodium"};
constexpr const char* kOptionalEngines[] = {"simd", "avx512", "auto"};

// IMIX 7:4:1 over a 12-packet cycle, interleaved as traffic arrives, not sorted by size.
constexpr std::uint32_t kImixCycle[12] = {64, 576, 64, 64, 576, 64, 1420, 64, 576, 64, 64, 576};

std::vector<std::uint32_t> uniform_lens(std::uint32_t len) { return std::vector<std::uint32_t>(kBurst, len); }
std::vector<std::uint32_t> imix_lens() {
  std::vector<std::uint32_t> lens(kBurst);
  for (std::size_t i = 0; i < kBurst; ++i) lens[i] = kImixCycle[i % 12];
  return lens;
}

std::uint8_t plain_byte(std::size_t packet, std::size_t i) { return static_cast<std::uint8_t>(i * 131 + packet * 7); }

// One burst in one buffer, each packet on its own cache lines as in separate mbufs, tag right behind.
struct Burst {
  explicit Burst(const std::vector<std::uint32_t>& packet_lens) : lens(packet_lens) {
    for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(i + 1);
    std::size_t total = 0;
    for (std::uint32_t len : lens) {
      offsets.push_back(total);
      total += (len + crypto::kTagSize + 63) / 64 * 64;
      bytes += len;
    }
    storage.resize(total);
    for (std::size_t i = 0; i < lens.size(); ++i) {
      std::uint8_t* data = storage.data() + offsets[i];
      jobs.push_back({key.data(), 1000 + i, data, lens[i], data + lens[i], false});
    }
    fill_plaintext();
  }
  void fill_plaintext() {
    for (std::size_t p = 0; p < lens.size(); ++p) {
      for (std::size_t i = 0; i < lens[p]; ++i) storage[offsets[p] + i] = plain_byte(p, i);
    }
  }
  std::uint8_t* packet(std::size_t i) { return storage.data() + offsets[i]; }

  std::vector<std::uint32_t> lens;
  std::vector<std::size_t> offsets;
  std::uint64_t bytes = 0;  // payload bytes in the burst (tags not counted)
  crypto::Key key;
  std::vector<std::uint8_t> storage;
  std::vector<crypto::AeadJob> jobs;
};

std::vector<std::string>& available_engines() {
  static std::vector<std::string> names;
  return names;
}

// Empty when every engine agrees with the reference on `lens`; otherwise what went wrong.
std::string cross_check(const std::vector<std::uint32_t>& lens) {
  Burst reference(lens);
  for (std::size_t p = 0; p < lens.size(); ++p) {
    const crypto::AeadJob& j = reference.jobs[p];
    std::vector<std::uint8_t> plain(j.data, j.data + j.len);
    crypto::seal({j.data, j.len + crypto::kTagSize}, reference.key, j.counter, plain, {});
  }
  for (const std::string& name : available_engines()) {
    auto engine = crypto::make_engine(name);
    if (!engine.ok()) return absl::StrCat(name, ": ", engine.status().message());
    Burst b(lens);
    if ((*engine)->seal(b.jobs) != 0) return absl::StrCat(name, ": seal reported a failed job");
    for (std::size_t p = 0; p < lens.size(); ++p) {
      if (std::memcmp(b.packet(p), reference.packet(p), lens[p] + crypto::kTagSize) != 0) {
        return absl::StrCat(name, ": ciphertext+tag of packet ", p, " (", lens[p],
                            " bytes) differs from the reference");
      }
    }
    // open() of the common ciphertext restores the plaintext...
    std::memcpy(b.storage.data(), reference.storage.data(), b.storage.size());  // jobs point into b.storage
    if ((*engine)->open(b.jobs) != 0) return absl::StrCat(name, ": open refused the reference ciphertext");
    for (std::size_t p = 0; p < lens.size(); ++p) {
      for (std::size_t i = 0; i < lens[p]; ++i) {
        if (b.packet(p)[i] != plain_byte(p, i)) return absl::StrCat(name, ": open did not restore packet ", p);
      }
    }
    // ...and verifies: one flipped tag bit fails that packet alone.
    std::memcpy(b.storage.data(), reference.storage.data(), b.storage.size());
    b.jobs[kBurst / 2].tag[3] ^= 0x10;
    if ((*engine)->open(b.jobs) != 1 || b.jobs[kBurst / 2].ok || !b.jobs[0].ok) {
      return absl::StrCat(name, ": open did not refuse exactly the one forged tag");
    }
  }
  return {};
}

// seal: the same burst sealed again and again (same work every time: ciphertext is just new plaintext).
void run_seal(benchmark::State& state, crypto::AeadBatchEngine& engine, Burst& burst) {
  for (auto _ : state) {
    engine.seal(burst.jobs);
    benchmark::DoNotOptimize(burst.storage.data());
    benchmark::ClobberMemory();
  }
}

// open: decrypts in place, so each burst needs its sealed bytes back before the next open. Copies of the
// sealed burst, as many as fit ~256 KB (within L2, as a freshly received burst is), are restored together
// with the timer paused, so the pause (a few clock reads, ~1 us) is spread over many bursts.
void run_open(benchmark::State& state, crypto::AeadBatchEngine& engine, Burst& sealed) {
  const std::size_t copies = std::clamp<std::size_t>((256 << 10) / sealed.storage.size(), 2, 64);
  std::vector<std::unique_ptr<Burst>> bursts;
  for (std::size_t i = 0; i < copies; ++i) bursts.push_back(std::make_unique<Burst>(sealed.lens));
  std::size_t next = copies;
  for (auto _ : state) {
    if (next == copies) {
      state.PauseTiming();
      for (auto& b : bursts) std::memcpy(b->storage.data(), sealed.storage.data(), sealed.storage.size());
      next = 0;
      state.ResumeTiming();
    }
    if (engine.open(bursts[next++]->jobs) != 0) {
      fail(state, "open failed on a correctly sealed burst");
      break;
    }
    benchmark::ClobberMemory();
  }
}

void run(benchmark::State& state, const std::string& engine_name, const std::vector<std::uint32_t>& lens,
         bool open) {
  auto engine = crypto::make_engine(engine_name);
  if (!engine.ok()) {
    fail(state, std::string(engine.status().message()));
    return;
  }
  if (const std::string err = cross_check(lens); !err.empty()) {
    fail(state, "cross-check: " + err);
    return;
  }
  Burst burst(lens);
  if (open) {
    (*engine)->seal(burst.jobs);
    run_open(state, **engine, burst);
  } else {
    run_seal(state, **engine, burst);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * burst.bytes));
  state.SetLabel(std::string((*engine)->description()));
}

void register_engine(const std::string& engine, bool open) {
  const std::string op = open ? "open/" : "seal/";
  auto add = [&](const std::string& size_name, std::vector<std::uint32_t> lens) {
    benchmark::RegisterBenchmark((op + engine + "/" + size_name).c_str(),
                                           [engine, lens, open](benchmark::State& state) {
                                             run(state, engine, lens, open);
                                           });
  };
  for (std::uint32_t size : kSizes) add(std::to_string(size), uniform_lens(size));
  add("imix", imix_lens());
}

// Poly1305 alone: the same burst's tags again and again, one Poly1305 key per packet.
void run_poly(benchmark::State& state, void (*batch)(const crypto::simd::PolyJob*, std::size_t),
              const std::vector<std::uint32_t>& lens) {
  Burst burst(lens);
  std::vector<std::array<std::uint8_t, crypto::simd::kPolyKeySize>> keys(lens.size());
  std::vector<crypto::simd::PolyJob> jobs;
  for (std::size_t i = 0; i < lens.size(); ++i) {
    for (std::size_t b = 0; b < keys[i].size(); ++b) keys[i][b] = static_cast<std::uint8_t>(i * 31 + b * 7);
    jobs.push_back({keys[i].data(), burst.jobs[i].data, lens[i], burst.jobs[i].tag});
  }
  for (auto _ : state) {
    batch(jobs.data(), jobs.size());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lens.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * burst.bytes));
}

void register_poly() {
  struct Impl {
    const char* name;
    void (*batch)(const crypto::simd::PolyJob*, std::size_t);
  };
  std::vector<Impl> impls = {{"scalar", crypto::simd::poly1305_aead_no_ad_batch}};
  if (crypto::cpu_has_avx2()) impls.push_back({"avx2", crypto::simd::poly1305_aead_no_ad_batch_avx2});
  for (const Impl& impl : impls) {
    auto add = [&](const std::string& size_name, std::vector<std::uint32_t> lens) {
      benchmark::RegisterBenchmark(("poly1305/" + std::string(impl.name) + "/" + size_name).c_str(),
                                   [impl, lens](benchmark::State& state) { run_poly(state, impl.batch, lens); });
    };
    add("64", uniform_lens(64));
    add("1420", uniform_lens(1420));
    add("imix", imix_lens());
  }
}

}  // namespace
}  // namespace wg::perf

int main(int argc, char** argv) {
  using wg::perf::available_engines;
  std::vector<std::string> measured;
  for (const char* name : wg::perf::kRequiredEngines) {
    measured.emplace_back(name);
    if (wg::crypto::make_engine(name).ok()) available_engines().emplace_back(name);
  }
  for (const char* name : wg::perf::kOptionalEngines) {
    if (wg::crypto::make_engine(name).ok()) {
      measured.emplace_back(name);
      available_engines().emplace_back(name);
    }
  }
  // Grouped by operation then engine, so a console run reads as a table.
  for (const bool open : {false, true}) {
    for (const std::string& engine : measured) wg::perf::register_engine(engine, open);
  }
  wg::perf::register_poly();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return wg::perf::g_failed ? 1 : 0;
}
