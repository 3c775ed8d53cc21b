// The "auto" engine: calibration once per process, then routing by operation and size class
// (engine_auto.h).
#include "lib/crypto/engine_auto.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace wg::crypto {
namespace {

constexpr std::size_t kBurst = 32;
constexpr std::uint32_t kCalibrationSizes[] = {64, 128, 256, 384, 512, 640, 1024, 1420};
constexpr std::size_t kSizeCount = std::size(kCalibrationSizes);
// Round 0 takes the first look at everyone; the engines still in the running after it are timed in every
// round. Seven rounds (an odd count: a true median) of simd and IPsec-MB plus one of libsodium: ~6 ms on Zen 5.
constexpr std::size_t kRounds = 7;
constexpr int kCallsPerSample = 2;  // a sample is the faster of two back-to-back calls: the second runs warm
constexpr double kDropFactor = 2.0;
constexpr double kTieMargin = 0.01;
// Engines one instance can hold: a different one per operation and class at most.
constexpr std::size_t kMaxEngines = kAeadOpCount * kSizeClassCount;

using Costs = std::array<std::array<double, kSizeClassCount>, kAeadOpCount>;  // ns per packet [op][class]

// size_class() as an index, without branches: it runs once per job on the data path.
static_assert(kSizeClassCount == 4, "class_index and class_bit know four classes");
constexpr std::size_t class_index(std::uint32_t len) {
  return static_cast<std::size_t>(len > kSizeClassMaxBytes[0]) + static_cast<std::size_t>(len > kSizeClassMaxBytes[1]) +
         static_cast<std::size_t>(len > kSizeClassMaxBytes[2]);
}
// 1u << class_index(len) as compares and adds (a shift by a variable count costs more): the bounds rise, so
// a len over bound k is over every bound below it, and 1 + 1 + 2 + 4 lands on the next power of two.
constexpr unsigned class_bit(std::uint32_t len) {
  return 1u + static_cast<unsigned>(len > kSizeClassMaxBytes[0]) + 2u * static_cast<unsigned>(len > kSizeClassMaxBytes[1]) +
         4u * static_cast<unsigned>(len > kSizeClassMaxBytes[2]);
}
static_assert(kSizeClassMaxBytes[0] < kSizeClassMaxBytes[1] && kSizeClassMaxBytes[1] < kSizeClassMaxBytes[2]);
constexpr bool classes_agree() {
  for (std::uint32_t len = 0; len < 2000; ++len) {
    if (class_index(len) != static_cast<std::size_t>(size_class(len)) || class_bit(len) != 1u << class_index(len)) {
      return false;
    }
  }
  return true;
}
static_assert(classes_agree());
static_assert(kCalibrationSizes[0] <= kSizeClassMaxBytes[0] && kCalibrationSizes[kSizeCount - 1] > kSizeClassMaxBytes[2]);

// One calibration burst: 32 packets of one size, each on its own cache lines as in separate mbufs, tag
// right behind the payload, one key (a busy peer).
struct Burst {
  explicit Burst(std::uint32_t len) : storage(kBurst * ((len + kTagSize + 63) / 64 * 64)) {
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
    for (std::size_t i = 0; i < storage.size(); ++i) storage[i] = static_cast<std::uint8_t>(i * 131);
    const std::size_t stride = storage.size() / kBurst;
    for (std::size_t i = 0; i < kBurst; ++i) {
      std::uint8_t* data = storage.data() + i * stride;
      jobs.push_back({key.data(), 1000 + i, data, len, data + len, false});
    }
  }
  std::array<std::uint8_t, 32> key;
  std::vector<std::uint8_t> storage;
  std::vector<AeadJob> jobs;
};

struct Candidate {
  std::string name;
  std::unique_ptr<AeadBatchEngine> engine;
  bool timed = true;    // still measured in later rounds
  bool failed = false;  // refused its own correctly sealed burst: never chosen
  std::size_t rounds = 0;  // rounds timed
  std::array<std::array<std::array<std::int64_t, kRounds>, kSizeCount>, kAeadOpCount> ns;  // [op][size][round]

  // ns per packet for each operation and class: the median over the rounds of each size, averaged over the
  // class's sizes.
  Costs costs() const {
    Costs sum{};
    std::array<int, kSizeClassCount> n{};
    for (std::size_t s = 0; s < kSizeCount; ++s) ++n[class_index(kCalibrationSizes[s])];
    for (std::size_t op = 0; op < kAeadOpCount; ++op) {
      for (std::size_t s = 0; s < kSizeCount; ++s) {
        std::array<std::int64_t, kRounds> samples = ns[op][s];
        const auto middle = samples.begin() + static_cast<std::ptrdiff_t>((rounds - 1) / 2);
        std::nth_element(samples.begin(), middle, samples.begin() + static_cast<std::ptrdiff_t>(rounds));
        const std::size_t c = class_index(kCalibrationSizes[s]);
        sum[op][c] += static_cast<double>(*middle) / kBurst / n[c];
      }
    }
    return sum;
  }
  double total() const {
    double t = 0;
    for (const auto& per_op : costs()) {
      for (double x : per_op) t += x;
    }
    return t;
  }
};

std::int64_t elapsed_ns(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
}

// Seal then open the burst (back to its plaintext), keeping the faster call of each as this round's sample.
void sample(Candidate& c, Burst& burst, std::size_t size_index, std::size_t round) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kSeal = static_cast<std::size_t>(AeadOp::kSeal);
  constexpr auto kOpen = static_cast<std::size_t>(AeadOp::kOpen);
  std::int64_t& seal_ns = c.ns[kSeal][size_index][round];
  std::int64_t& open_ns = c.ns[kOpen][size_index][round];
  seal_ns = open_ns = std::numeric_limits<std::int64_t>::max();
  for (int call = 0; call < kCallsPerSample; ++call) {
    const auto t0 = Clock::now();
    const std::size_t seal_failed = c.engine->seal(burst.jobs);
    const auto t1 = Clock::now();
    const std::size_t open_failed = c.engine->open(burst.jobs);
    const auto t2 = Clock::now();
    if (seal_failed != 0 || open_failed != 0) {
      c.failed = true;
      c.timed = false;
      return;
    }
    seal_ns = std::min(seal_ns, elapsed_ns(t0, t1));
    open_ns = std::min(open_ns, elapsed_ns(t1, t2));
  }
}

// After round 0: stop timing whoever is over kDropFactor x the best everywhere.
void drop_the_slow(std::vector<Candidate>& candidates) {
  Costs best;
  for (auto& per_op : best) per_op.fill(std::numeric_limits<double>::infinity());
  for (const Candidate& c : candidates) {
    if (c.failed) continue;
    const Costs costs = c.costs();
    for (std::size_t op = 0; op < kAeadOpCount; ++op) {
      for (std::size_t k = 0; k < kSizeClassCount; ++k) best[op][k] = std::min(best[op][k], costs[op][k]);
    }
  }
  for (Candidate& c : candidates) {
    if (c.failed) continue;
    const Costs costs = c.costs();
    bool slow_everywhere = true;
    for (std::size_t op = 0; op < kAeadOpCount; ++op) {
      for (std::size_t k = 0; k < kSizeClassCount; ++k) slow_everywhere &= costs[op][k] > kDropFactor * best[op][k];
    }
    if (slow_everywhere) c.timed = false;
  }
}

AutoChoice choose(const std::vector<Candidate>& candidates) {
  AutoChoice choice;
  for (auto& per_op : choice.engine) per_op.fill("sodium");  // only if every candidate failed: libsodium never does
  const Candidate* overall = nullptr;
  for (const Candidate& c : candidates) {
    if (c.failed) continue;
    choice.measured.push_back({c.name, c.costs()});
    if (overall == nullptr || c.total() < overall->total()) overall = &c;  // strict: earlier candidates win ties
  }
  if (overall == nullptr) return choice;
  for (std::size_t op = 0; op < kAeadOpCount; ++op) {
    for (std::size_t k = 0; k < kSizeClassCount; ++k) {
      const Candidate* best = overall;
      for (const Candidate& c : candidates) {
        if (!c.failed && c.costs()[op][k] < best->costs()[op][k]) best = &c;
      }
      if (overall->costs()[op][k] <= best->costs()[op][k] * (1 + kTieMargin)) best = overall;
      choice.engine[op][k] = best->name;
    }
  }
  return choice;
}

// Routes each job to the engine of its operation and size class (engine_auto.h, "Per burst").
class AutoEngine final : public AeadBatchEngine {
 public:
  // Per operation, lane l of a class is its engine's position among that operation's distinct engines.
  struct Routes {
    std::array<std::uint8_t, kSizeClassCount> lane_of_class;
    std::array<AeadBatchEngine*, kSizeClassCount> lane_engine;
    std::size_t lanes;
  };

  AutoEngine(std::array<std::unique_ptr<AeadBatchEngine>, kMaxEngines> engines,
             std::array<Routes, kAeadOpCount> routes, std::string description)
      : engines_(std::move(engines)), routes_(routes), description_(std::move(description)) {
    for (std::size_t op = 0; op < kAeadOpCount; ++op) {
      const Routes& r = routes_[op];
      for (unsigned set = 0; set < lane_of_set_[op].size(); ++set) {
        std::uint8_t lane = r.lane_of_class[0];  // also for the empty set (an empty span): any engine will do
        for (std::size_t c = kSizeClassCount; c-- > 0;) {
          if ((set >> c & 1) != 0) lane = r.lane_of_class[c];  // the lowest class present, last
        }
        for (std::size_t c = 0; c < kSizeClassCount; ++c) {
          if ((set >> c & 1) != 0 && r.lane_of_class[c] != lane) lane = kMixed;
        }
        lane_of_set_[op][set] = lane;
      }
    }
  }

  const char* name() const override { return "auto"; }
  const char* engine_for(AeadOp op, SizeClass c) const override {
    const Routes& r = routes_[static_cast<std::size_t>(op)];
    return r.lane_engine[r.lane_of_class[static_cast<std::size_t>(c)]]->name();
  }
  std::string_view description() const override { return description_; }
  std::size_t seal(std::span<AeadJob> jobs) override { return run<AeadOp::kSeal>(jobs); }
  std::size_t open(std::span<AeadJob> jobs) override { return run<AeadOp::kOpen>(jobs); }

 private:
  static constexpr std::uint8_t kMixed = 0xff;

  template <AeadOp kOp>
  static std::size_t call(AeadBatchEngine& engine, std::span<AeadJob> jobs) {
    return kOp == AeadOp::kOpen ? engine.open(jobs) : engine.seal(jobs);
  }

  template <AeadOp kOp>
  std::size_t run(std::span<AeadJob> jobs) {
    const Routes& r = routes_[static_cast<std::size_t>(kOp)];
    if (r.lanes == 1) return call<kOp>(*r.lane_engine[0], jobs);
    std::size_t failed = 0;
    for (std::size_t start = 0; start < jobs.size(); start += kMaxBatch) {
      failed += run_chunk<kOp>(r, jobs.subspan(start, std::min(kMaxBatch, jobs.size() - start)));
    }
    return failed;
  }

  template <AeadOp kOp>
  std::size_t run_chunk(const Routes& r, std::span<AeadJob> chunk) {
    // The classes present first, with no store or branch per job: a uniform burst (the common case, and
    // the benchmark's) then costs one pass of loads and ORs (~0.5 ns a job) before it goes to its engine
    // as it is.
    unsigned classes = 0;
    unsigned classes_odd = 0;  // two chains of ORs, so two jobs go through at once
    std::size_t j = 0;
    for (; j + 1 < chunk.size(); j += 2) {
      classes |= class_bit(chunk[j].len);
      classes_odd |= class_bit(chunk[j + 1].len);
    }
    if (j < chunk.size()) classes |= class_bit(chunk[j].len);
    classes |= classes_odd;
    if (const std::uint8_t lane = lane_of_set_[static_cast<std::size_t>(kOp)][classes]; lane != kMixed) {
      return call<kOp>(*r.lane_engine[lane], chunk);
    }
    // Positions per lane. Every job's position is written to every list and only its own list's count moves
    // on: the counts stay in registers (a count in memory indexed by the job's lane would chain each job's
    // load to the previous job's store).
    std::array<std::size_t, kSizeClassCount> count{};
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const std::uint8_t lane = r.lane_of_class[class_index(chunk[i].len)];
      for (std::size_t l = 0; l < kSizeClassCount; ++l) {
        index_[l][count[l]] = static_cast<std::uint16_t>(i);
        count[l] += lane == l;
      }
    }
    // Each lane's jobs copied together into the scratch array, run, and their `ok` copied back.
    std::size_t failed = 0;
    for (std::size_t l = 0; l < r.lanes; ++l) {
      const std::size_t n = count[l];
      if (n == 0) continue;
      for (std::size_t k = 0; k < n; ++k) scratch_[k] = chunk[index_[l][k]];
      failed += call<kOp>(*r.lane_engine[l], {scratch_.data(), n});
      for (std::size_t k = 0; k < n; ++k) chunk[index_[l][k]].ok = scratch_[k].ok;
    }
    return failed;
  }

  std::array<std::unique_ptr<AeadBatchEngine>, kMaxEngines> engines_;  // owned; routes_ point into them
  std::array<Routes, kAeadOpCount> routes_;
  // Per operation: a set of classes (bit c: class c) -> the one lane serving all of them, or kMixed.
  std::array<std::array<std::uint8_t, 1u << kSizeClassCount>, kAeadOpCount> lane_of_set_;
  std::string description_;
  static_assert(kMaxBatch <= std::numeric_limits<std::uint16_t>::max() + 1);
  std::array<std::array<std::uint16_t, kMaxBatch>, kSizeClassCount> index_;  // per lane: positions in chunk
  std::array<AeadJob, kMaxBatch> scratch_;  // one lane's jobs at a time
};

// "auto (seal/open): <=128 B simd/simd, ..., >640 B ipsec-mb/ipsec-mb (ns per packet sealed/opened by class:
// simd 75/80 150/160 ..., ...; measured in 4.8 ms); <each engine's own description>".
std::string describe(const AutoChoice& choice, const std::vector<const AeadBatchEngine*>& engines) {
  constexpr auto kSeal = static_cast<std::size_t>(AeadOp::kSeal);
  constexpr auto kOpen = static_cast<std::size_t>(AeadOp::kOpen);
  std::string out = "auto (seal/open):";
  for (std::size_t k = 0; k < kSizeClassCount; ++k) {
    if (k + 1 < kSizeClassCount) {
      absl::StrAppend(&out, k == 0 ? " <=" : ", <=", kSizeClassMaxBytes[k], " B ");
    } else {
      absl::StrAppend(&out, ", >", kSizeClassMaxBytes[k - 1], " B ");
    }
    absl::StrAppend(&out, choice.engine[kSeal][k], "/", choice.engine[kOpen][k]);
  }
  if (choice.measured.empty()) {
    absl::StrAppend(&out, " (set, not measured)");
  } else {
    absl::StrAppend(&out, " (ns per packet sealed/opened by class:");
    for (std::size_t i = 0; i < choice.measured.size(); ++i) {
      const AutoChoice::Figures& f = choice.measured[i];
      absl::StrAppend(&out, i == 0 ? " " : ", ", f.engine);
      for (std::size_t k = 0; k < kSizeClassCount; ++k) {
        absl::StrAppendFormat(&out, " %.0f/%.0f", f.ns_per_packet[kSeal][k], f.ns_per_packet[kOpen][k]);
      }
    }
    absl::StrAppendFormat(&out, "; measured in %.1f ms)", choice.calibration_ms);
  }
  for (const AeadBatchEngine* e : engines) absl::StrAppend(&out, "; ", std::string(e->description()));
  return out;
}

}  // namespace

AutoChoice calibrate_auto_choice() {
  const auto start = std::chrono::steady_clock::now();
  std::vector<Candidate> candidates;
  for (std::string_view name : kAutoCandidates) {
    auto engine = make_engine(name);
    if (!engine.ok()) continue;
    Candidate c;
    c.name = std::string(name);
    c.engine = *std::move(engine);
    candidates.push_back(std::move(c));
  }
  std::vector<Burst> bursts;
  for (std::uint32_t len : kCalibrationSizes) bursts.emplace_back(len);

  for (std::size_t round = 0; round < kRounds; ++round) {
    for (std::size_t s = 0; s < kSizeCount; ++s) {
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        Candidate& c = candidates[(i + round + s) % candidates.size()];  // nobody always first or last
        if (c.timed) sample(c, bursts[s], s, round);
      }
    }
    for (Candidate& c : candidates) c.rounds += c.timed ? 1 : 0;
    if (round == 0) drop_the_slow(candidates);
  }
  AutoChoice choice = choose(candidates);
  choice.calibration_ms = static_cast<double>(elapsed_ns(start, std::chrono::steady_clock::now())) / 1e6;
  return choice;
}

const AutoChoice& auto_choice() {
  static const AutoChoice choice = calibrate_auto_choice();  // thread-safe initialisation, once
  return choice;
}

absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_auto_engine(const AutoChoice& choice,
                                                                  const EngineFactory& factory) {
  std::array<std::unique_ptr<AeadBatchEngine>, kMaxEngines> engines;
  std::array<std::string, kMaxEngines> names;
  std::size_t count = 0;
  std::array<AutoEngine::Routes, kAeadOpCount> routes{};
  for (std::size_t op = 0; op < kAeadOpCount; ++op) {
    AutoEngine::Routes& r = routes[op];
    for (std::size_t k = 0; k < kSizeClassCount; ++k) {
      const std::string& name = choice.engine[op][k];
      if (name.empty() || name == "auto") {
        return absl::InvalidArgumentError(absl::StrCat("auto: \"", name, "\" cannot ",
                                                       std::string(to_string(static_cast<AeadOp>(op))), " the ",
                                                       std::string(to_string(static_cast<SizeClass>(k))),
                                                       " size class"));
      }
      std::size_t e = static_cast<std::size_t>(std::find(names.begin(), names.begin() + count, name) - names.begin());
      if (e == count) {  // a new engine
        auto engine = factory(name);
        if (!engine.ok()) {
          return absl::Status(engine.status().code(), absl::StrCat("auto: ", engine.status().message()));
        }
        names[count] = name;
        engines[count++] = *std::move(engine);
      }
      std::size_t lane = 0;
      while (lane < r.lanes && r.lane_engine[lane] != engines[e].get()) ++lane;
      if (lane == r.lanes) r.lane_engine[r.lanes++] = engines[e].get();
      r.lane_of_class[k] = static_cast<std::uint8_t>(lane);
    }
  }
  std::vector<const AeadBatchEngine*> used;
  for (std::size_t i = 0; i < count; ++i) used.push_back(engines[i].get());
  std::string description = describe(choice, used);
  return std::make_unique<AutoEngine>(std::move(engines), routes, std::move(description));
}

}  // namespace wg::crypto
