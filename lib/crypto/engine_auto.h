// The "auto" batch engine (issue 13): measured, not assumed. Which engine is fastest depends on the CPU and
// on the packet size (on an AVX-512 Zen 5, simd is 2.7x IPsec-MB at 64 B and 0.6x at 1420 B, and avx512
// beats both everywhere; on an AVX2-only Zen 3 simd wins at every size; seal and open cross over at
// different sizes), so once per process
// calibrate_auto_choice() times every engine this CPU runs and picks the fastest per operation and payload
// size class (aead_batch.h, SizeClass); make_auto_engine() then builds one instance of each chosen engine
// and hands every packet of a burst to the engine of its class for that operation.
//
// Calibration: a 32-packet burst (a typical rx burst, one key) at each of 64 128 | 256 384 | 512 640 |
// 1024 1420 bytes (two per class: near its ends, and for the last the MTU-sized packets of bulk traffic),
// seal then open. A sample is the faster of two back-to-back calls (the first may find the engine's code and
// tables cold after another engine ran). Samples are interleaved: every round visits every size and, per
// size, every engine, in an order rotated each round, so a slow phase of the machine (another process, a
// frequency change) is shared out rather than charged to one engine. An engine's figure is the median of
// its rounds (7): one round disturbed by a preemption does not move it, and, unlike a minimum, it does not
// flatter an engine whose times scatter more (IPsec-MB's do: a minimum picked it where the benchmark's
// medians, which is what "auto" is judged by, pick simd). An engine over twice the best everywhere after
// the first round (libsodium, wherever a vector engine runs) is not timed further. Costs per operation and
// class: ns per packet, averaged over the class's sizes. Within 1 % of the best, the engine fastest over
// everything is preferred (one engine for every class means no splitting). In all a few milliseconds
// (description() says how long it took).
//
// Per burst: where one engine serves every class of the operation, seal/open call it directly. Otherwise
// each chunk of up to kMaxBatch jobs is grouped by engine into one fixed per-instance scratch array (copies
// of the jobs: same key, data and tag pointers), each engine runs over its group, and the `ok` flags are
// copied back; a chunk whose jobs all go to one engine is handed over as it is. No allocation; every
// engine's open() contract holds per job, since the jobs point at the same payloads.
//
// Thread rule (aead_batch.h): an instance belongs to one thread. auto_choice() is process-wide: the first
// caller measures, later (or concurrent) callers get the same choice, so workers created one after another
// neither repeat the calibration nor disturb each other's timings.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/crypto/aead_batch.h"

namespace wg::crypto {

// Every engine "auto" considers, in order of preference between equals. A new engine is one more name here;
// one that make_engine() cannot build on this CPU (or whose cross-check at creation fails) is left out.
inline constexpr std::string_view kAutoCandidates[] = {"avx512", "simd", "ipsec-mb", "sodium"};

struct AutoChoice {
  // The make_engine() name that runs each operation (AeadOp) on each SizeClass: engine[op][class].
  std::array<std::array<std::string, kSizeClassCount>, kAeadOpCount> engine;
  // What calibrate_auto_choice() measured, for the log: per candidate, ns per packet for each operation and
  // class. Empty when the choice was set by hand (tests).
  struct Figures {
    std::string engine;
    std::array<std::array<double, kSizeClassCount>, kAeadOpCount> ns_per_packet;
  };
  std::vector<Figures> measured;
  double calibration_ms = 0;
};

// Times every candidate this CPU runs (a few milliseconds, on the calling thread) and chooses per class.
// Never fails: libsodium runs everywhere.
AutoChoice calibrate_auto_choice();

// calibrate_auto_choice() on the first call in the process, the same choice after that.
const AutoChoice& auto_choice();

using EngineFactory = std::function<absl::StatusOr<std::unique_ptr<AeadBatchEngine>>(std::string_view)>;

// An "auto" engine that follows `choice`, its per-class engines built by `factory` (make_engine; tests wrap
// it to watch the calls). An error when a chosen engine cannot be built or a name is empty or "auto".
[[nodiscard]] absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_auto_engine(
    const AutoChoice& choice, const EngineFactory& factory = make_engine);

}  // namespace wg::crypto
