// The fixture of stages_bench.cc and spread_bench.cc: an in-process EAL with net_null ports, one gateway's
// tables (one peer, its route and keypair, one known inside host, as tests/dataplane/datapath_test.cc builds
// them), byte templates of the bursts each stage receives, and the timing harness (rte_rdtsc around the
// measured call only). With FixtureOptions::workers > 1 (spread_bench) the gateway has that many workers
// sharing one Tables and one Spread (dataplane/spread.h), and the EAL one lcore per worker.
#pragma once

#include <benchmark/benchmark.h>
#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/packet.h"
#include "dataplane/spread.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"
#include "lib/crypto/aead_batch.h"
#include "lib/protocol/keypair.h"

namespace wg::perf {

using dp::kBurst;
using dp::kEthLen;
using dp::kIpv4Len;
using dp::kUdpLen;

// Bursts built per refill: few, so they are cache-warm as a just-received burst is.
inline constexpr std::size_t kBurstsPerRefill = 4;
inline constexpr std::uint16_t kMtu = 1420;
inline constexpr std::uint16_t kListenPort = 51820;
inline constexpr std::uint16_t kOuterHead = kEthLen + kIpv4Len + kUdpLen;       // 42: outer_header_len(4)
inline constexpr std::uint16_t kWgHead = sizeof(noise::MessageTransportHeader);  // 16
// IMIX 7:4:1 of 64/576/1420 over a 12-packet cycle, interleaved as traffic arrives.
inline constexpr std::uint32_t kImixCycle[12] = {64, 576, 64, 64, 576, 64, 1420, 64, 576, 64, 64, 576};

// One gateway, as datapath_test builds it: one peer, its route and keypair, one known inside host.
struct Gateway {
  std::unique_ptr<dp::TablesOwner> owner;
  dp::GatewayInfo gw;
  std::map<std::string, std::unique_ptr<crypto::AeadBatchEngine>> engines;
  std::atomic<bool> stop{false};
  dp::WorkerContext ctx;  // worker 0 (the owner of every burst the benchmarks feed)
  dp::PeerRoute route;
  noise::Keypair ours, theirs;  // ours: the gateway's; theirs: the remote peer's mirror
  // workers > 1 only (null / empty otherwise): the spread lanes and work rings shared by all workers (enabled;
  // ctx.spread points at it), and workers 1..n-1, each with its own engine (FixtureOptions::extra_engine).
  std::unique_ptr<dp::Spread> spread;
  std::vector<dp::WorkerContext> extra_workers;
  std::vector<std::unique_ptr<crypto::AeadBatchEngine>> extra_engines;
};
extern std::unique_ptr<Gateway> g_gw;
extern std::uint64_t g_tsc_hz;

struct FixtureOptions {
  std::string name = "stages_bench";  // program name: EAL argv[0], file prefix, messages
  std::string lcores = "0";           // EAL -l: one CPU per worker, the first is the main lcore (worker 0)
  unsigned workers = 1;               // WorkerContexts (and TX/RX queue pairs) of g_gw
  std::string extra_engine = "auto";  // make_engine() name for workers 1..n-1
  unsigned pool_mbufs = 4095;         // the mbuf pool's size
};
// Starts the EAL (--no-huge -m 1024 --no-pci --no-shconf, -l opts.lcores), the mbuf pool, two net_null ports
// (inside, outside) and g_gw with every engine make_engine() builds; stops them again.
absl::Status start_fixture(const FixtureOptions& opts);
// The single-worker fixture of stages_bench: the one lcore on CPU `lcore`.
absl::Status start_fixture(const std::string& lcore);
void stop_fixture();
// The mbuf pool (FixtureOptions::pool_mbufs, 4095 by default, of RTE_MBUF_DEFAULT_BUF_SIZE).
rte_mempool* fixture_pool();

// Byte templates for one packet-size mix, built once: what each stage receives.
struct Frames {
  std::string name;                         // "64", "imix"
  std::vector<std::uint16_t> lens;          // inner IP length of each of the kBurst packets
  std::uint64_t bytes = 0;                  // inner bytes per burst
  std::vector<std::vector<std::uint8_t>> plain;   // inside: Ethernet + inner packet
  std::vector<std::vector<std::uint8_t>> shaped;  // after encap, before seal: outer headers, padded plaintext
  std::vector<std::vector<std::uint8_t>> wire;    // outside: transport frames, kBurstsPerRefill bursts' worth
  std::vector<std::vector<std::uint8_t>> opened;  // wire frames with the payload decrypted in place
};

Frames make_frames(const std::string& name, const std::vector<std::uint16_t>& lens);

enum class Input { kNone, kPlain, kShaped, kWire, kOpened };

// What a stage needs from the harness.
struct Stage {
  Input input = Input::kNone;
  bool consumes = false;  // the call sends or frees the mbufs itself
  bool mutates = false;   // the call changes the mbufs: each burst is used once
  // Untimed, once per freshly filled burst `b` (e.g. building AEAD jobs). May be empty.
  std::function<void(std::size_t b, std::span<rte_mbuf*>)> prepare;
  // Timed. Returns false when something came out wrong (reported as an error).
  std::function<bool(std::size_t b, std::span<rte_mbuf*>)> work;
};

// One benchmark run: each iteration is one burst, its rte_rdtsc_precise() cycles the iteration's manual time.
void run_stage(benchmark::State& state, const Frames& fr, const Stage& st);

// Marks the benchmark as errored and remembers it, so main can exit non-zero (CI's smoke run fails on a wrong
// result; Google Benchmark itself only marks the benchmark and exits 0).
void fail(benchmark::State& state, const std::string& why);
bool any_failed();

// Sum of the drop_* counters, to prove a whole-path run dropped nothing.
std::uint64_t drops(const dp::WorkerCounters& c);

}  // namespace wg::perf
