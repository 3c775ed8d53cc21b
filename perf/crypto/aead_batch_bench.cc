// Batch AEAD engines side by side: seal and open of one 32-packet burst (a typical rx burst) at payload
// sizes from small TCP ACKs to a full 1420-byte inner packet, one key per burst as a busy peer has.
// Run: build-*/perf/aead_batch_bench [--benchmark_filter=open/] [--benchmark_repetitions=5]
//
// open decrypts in place, so each iteration first copies the sealed burst back; that copy is inside the
// timing for every engine alike, and open/copy-only measures it alone so it can be subtracted.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "lib/crypto/aead_batch.h"

namespace wg::crypto {
namespace {

constexpr std::size_t kBurst = 32;
constexpr std::uint32_t kSizes[] = {64, 128, 256, 512, 1024, 1420};

struct Burst {
  explicit Burst(std::uint32_t len) : len(len), storage(kBurst * stride()) {
    for (std::size_t i = 0; i < storage.size(); ++i) storage[i] = static_cast<std::uint8_t>(i * 131);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i + 1);
    for (std::size_t i = 0; i < kBurst; ++i) {
      std::uint8_t* data = storage.data() + i * stride();
      jobs.push_back({key.data(), 1000 + i, data, len, data + len, false});
    }
  }
  // Each packet on its own cache lines, as in separate mbufs.
  std::size_t stride() const { return (len + kTagSize + 63) / 64 * 64; }

  std::uint32_t len;
  std::array<std::uint8_t, 32> key{};
  std::vector<std::uint8_t> storage;
  std::vector<AeadJob> jobs;
};

void copy_only(benchmark::State& state) {
  Burst burst(static_cast<std::uint32_t>(state.range(0)));
  const std::vector<std::uint8_t> sealed = burst.storage;
  for (auto _ : state) {
    std::memcpy(burst.storage.data(), sealed.data(), sealed.size());
    benchmark::DoNotOptimize(burst.storage.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
  state.SetBytesProcessed(state.iterations() * kBurst * burst.len);
}

void run(benchmark::State& state, const std::string& engine_name, bool open) {
  auto engine = make_engine(engine_name);
  if (!engine.ok()) {
    state.SkipWithError(std::string(engine.status().message()).c_str());
    return;
  }
  Burst burst(static_cast<std::uint32_t>(state.range(0)));
  (*engine)->seal(burst.jobs);
  const std::vector<std::uint8_t> sealed = burst.storage;
  for (auto _ : state) {
    if (open) {
      std::memcpy(burst.storage.data(), sealed.data(), sealed.size());
      if ((*engine)->open(burst.jobs) != 0) state.SkipWithError("open failed");
    } else {
      (*engine)->seal(burst.jobs);
    }
    benchmark::DoNotOptimize(burst.storage.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
  state.SetBytesProcessed(state.iterations() * kBurst * burst.len);
  state.SetLabel(std::string((*engine)->description()));
}

}  // namespace
}  // namespace wg::crypto

int main(int argc, char** argv) {
  for (const char* op : {"seal", "open"}) {
    for (const char* engine : {"sodium", "ipsec-mb"}) {
      const bool open = std::string(op) == "open";
      auto* b = benchmark::RegisterBenchmark((std::string(op) + "/" + engine).c_str(),
                                             [engine, open](benchmark::State& state) {
                                               wg::crypto::run(state, engine, open);
                                             });
      for (std::uint32_t size : wg::crypto::kSizes) b->Arg(size);
    }
  }
  auto* copy = benchmark::RegisterBenchmark("open/copy-only", wg::crypto::copy_only);
  for (std::uint32_t size : wg::crypto::kSizes) copy->Arg(size);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
