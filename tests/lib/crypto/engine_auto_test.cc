// The "auto" engine (lib/crypto/engine_auto.h) with a choice set by hand that mixes engines across size
// classes: mixed bursts seal to libsodium's bytes and open back, a forged tag fails its own job only and is
// counted, a burst whose packets all belong to one engine reaches that engine whole (the caller's span, no
// copies), and the calibration on this CPU picks only engines this CPU runs. No timing is asserted: the
// figures depend on the machine and its load.
#include "lib/crypto/engine_auto.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tests/lib/crypto/aead_test_packet.h"

namespace wg::crypto {
namespace {

using testing::Buf;
using testing::jobs_for;
using testing::same;
using testing::seal_open_round_trip;
using testing::TestPacket;

// Lengths on both sides of every class bound, keepalives included.
constexpr std::uint32_t kBound0 = kSizeClassMaxBytes[0];
constexpr std::uint32_t kBound1 = kSizeClassMaxBytes[1];
constexpr std::uint32_t kBound2 = kSizeClassMaxBytes[2];
constexpr std::uint32_t kLens[] = {0,          1,   63,  64,          100, kBound0, kBound0 + 1, 200,  256, kBound1,
                                   kBound1 + 1, 512, kBound2, kBound2 + 1, 1024, 1420, 1500};
constexpr std::size_t kSeal = static_cast<std::size_t>(AeadOp::kSeal);
constexpr std::size_t kOpen = static_cast<std::size_t>(AeadOp::kOpen);

// The engines this CPU runs, the reference last (sodium runs everywhere, IPsec-MB on any x86-64 it supports).
std::vector<std::string> runnable_engines() {
  std::vector<std::string> out;
  for (const char* name : {"avx512", "simd", "ipsec-mb", "sodium"}) {
    if (make_engine(name).ok()) out.emplace_back(name);
  }
  return out;
}

// The runnable engines spread over the classes, and the open side shifted by one against the seal side:
// packets sealed by one engine are opened by another.
AutoChoice mixed_choice() {
  const std::vector<std::string> engines = runnable_engines();
  AutoChoice choice;
  for (std::size_t op = 0; op < kAeadOpCount; ++op) {
    for (std::size_t k = 0; k < kSizeClassCount; ++k) choice.engine[op][k] = engines[(k + op) % engines.size()];
  }
  return choice;
}

AutoChoice one_engine(const std::string& name) {
  AutoChoice choice;
  for (auto& per_op : choice.engine) per_op.fill(name);
  return choice;
}

const std::string& engine_of(const AutoChoice& choice, std::size_t op, std::uint32_t len) {
  return choice.engine[op][static_cast<std::size_t>(size_class(len))];
}

// One call an engine under "auto" received.
struct Call {
  std::string engine;
  const AeadJob* first;
  std::vector<std::uint32_t> lens;
};

// Passes every call on to a real engine and writes it down.
class Recorder final : public AeadBatchEngine {
 public:
  Recorder(std::unique_ptr<AeadBatchEngine> inner, std::vector<Call>* calls)
      : inner_(std::move(inner)), calls_(calls) {}
  const char* name() const override { return inner_->name(); }
  std::string_view description() const override { return inner_->description(); }
  std::size_t seal(std::span<AeadJob> jobs) override {
    record(jobs);
    return inner_->seal(jobs);
  }
  std::size_t open(std::span<AeadJob> jobs) override {
    record(jobs);
    return inner_->open(jobs);
  }

 private:
  void record(std::span<AeadJob> jobs) {
    Call c{inner_->name(), jobs.data(), {}};
    for (const AeadJob& j : jobs) c.lens.push_back(j.len);
    calls_->push_back(std::move(c));
  }
  std::unique_ptr<AeadBatchEngine> inner_;
  std::vector<Call>* calls_;
};

std::unique_ptr<AeadBatchEngine> recorded_auto(const AutoChoice& choice, std::vector<Call>& calls) {
  auto engine = make_auto_engine(choice, [&calls](std::string_view name) -> absl::StatusOr<std::unique_ptr<AeadBatchEngine>> {
    auto inner = make_engine(name);
    if (!inner.ok()) return inner.status();
    return std::make_unique<Recorder>(*std::move(inner), &calls);
  });
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

// A burst with every length of every class, shuffled so that classes interleave as traffic does.
std::vector<TestPacket> mixed_packets(std::mt19937_64& rng, std::size_t copies) {
  std::vector<std::uint32_t> lens;
  for (std::size_t i = 0; i < copies; ++i) lens.insert(lens.end(), std::begin(kLens), std::end(kLens));
  std::shuffle(lens.begin(), lens.end(), rng);
  std::vector<TestPacket> packets;
  for (std::uint32_t len : lens) packets.emplace_back(rng, len);
  return packets;
}

TEST(EngineAuto, ClassBounds) {
  EXPECT_EQ(size_class(0), SizeClass::kSmall);
  EXPECT_EQ(size_class(kBound0), SizeClass::kSmall);
  EXPECT_EQ(size_class(kBound0 + 1), SizeClass::kMedium);
  EXPECT_EQ(size_class(kBound1), SizeClass::kMedium);
  EXPECT_EQ(size_class(kBound1 + 1), SizeClass::kLarge);
  EXPECT_EQ(size_class(kBound2), SizeClass::kLarge);
  EXPECT_EQ(size_class(kBound2 + 1), SizeClass::kXLarge);
  EXPECT_EQ(size_class(65535), SizeClass::kXLarge);
  EXPECT_EQ(to_string(SizeClass::kMedium), "medium");
  EXPECT_EQ(to_string(AeadOp::kOpen), "open");
}

TEST(EngineAuto, ForcedChoiceNamesItsEnginePerClass) {
  const AutoChoice choice = mixed_choice();
  auto engine = make_auto_engine(choice);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_STREQ((*engine)->name(), "auto");
  for (std::size_t op = 0; op < kAeadOpCount; ++op) {
    for (std::size_t k = 0; k < kSizeClassCount; ++k) {
      EXPECT_EQ((*engine)->engine_for(static_cast<AeadOp>(op), static_cast<SizeClass>(k)), choice.engine[op][k]);
    }
  }
  const std::string description((*engine)->description());
  EXPECT_EQ(description.rfind("auto (seal/open): <=128 B " + choice.engine[kSeal][0] + "/" + choice.engine[kOpen][0], 0), 0u)
      << description;
  EXPECT_NE(description.find("set, not measured"), std::string::npos) << description;
}

// Different engines per class, one burst: libsodium's bytes out of seal, the plaintext back out of open,
// nothing written outside a packet; also over spans longer than kMaxBatch (chunks).
TEST(EngineAuto, MixedBurstsMatchLibsodium) {
  const AutoChoice choice = mixed_choice();
  ASSERT_NE(choice.engine[kSeal][0], choice.engine[kSeal][1]) << "this CPU runs a single engine: nothing to mix";
  auto engine = make_auto_engine(choice);
  ASSERT_TRUE(engine.ok()) << engine.status();
  std::mt19937_64 rng(0xa070);
  for (std::size_t copies : {1, 2, 20}) {  // 17, 34 and 340 packets
    std::vector<TestPacket> packets = mixed_packets(rng, copies);
    EXPECT_TRUE(seal_open_round_trip(**engine, packets)) << packets.size() << " packets";
  }
  // Random lengths 0..1500 too.
  std::vector<TestPacket> packets;
  for (int i = 0; i < 64; ++i) packets.emplace_back(rng, static_cast<std::uint32_t>(rng() % 1501));
  EXPECT_TRUE(seal_open_round_trip(**engine, packets));
}

// One flipped tag bit per class in a mixed burst: exactly those jobs fail, the count says so, every other
// packet opens, and no forged payload keeps plaintext (ciphertext as received, or zeros: aead_batch.h).
TEST(EngineAuto, ForgedTagsFailTheirJobOnly) {
  auto engine = make_auto_engine(mixed_choice());
  ASSERT_TRUE(engine.ok()) << engine.status();
  std::mt19937_64 rng(0xf0e9);
  for (std::size_t forged_classes : {std::size_t{1}, kSizeClassCount}) {
    std::vector<TestPacket> packets = mixed_packets(rng, 2);
    std::vector<AeadJob> jobs = jobs_for(packets);
    ASSERT_EQ((*engine)->seal(jobs), 0u);
    std::vector<bool> forged(packets.size(), false);
    std::size_t forgeries = 0;
    for (std::size_t k = 0; k < forged_classes; ++k) {
      const auto victim = std::find_if(packets.begin(), packets.end(), [k](const TestPacket& p) {
        return size_class(p.len()) == static_cast<SizeClass>(k) && p.len() > 0;
      });
      ASSERT_NE(victim, packets.end());
      const std::size_t i = static_cast<std::size_t>(victim - packets.begin());
      jobs[i].tag[static_cast<std::size_t>(rng() % kTagSize)] ^= 0x20;
      forged[i] = true;
      ++forgeries;
    }
    EXPECT_EQ((*engine)->open(jobs), forgeries);
    for (std::size_t i = 0; i < packets.size(); ++i) {
      EXPECT_EQ(jobs[i].ok, !forged[i]) << "job " << i << ", len " << packets[i].len();
      if (!forged[i]) {
        EXPECT_TRUE(same(packets[i].payload(), packets[i].plaintext())) << "len " << packets[i].len();
        continue;
      }
      const Buf ciphertext(packets[i].reference().begin(), packets[i].reference().begin() + packets[i].len());
      const bool as_received = same(packets[i].payload(), ciphertext);
      const bool zeroed = same(packets[i].payload(), Buf(packets[i].len(), 0));
      EXPECT_TRUE(as_received || zeroed) << "forged len " << packets[i].len() << " left other bytes";
    }
  }
}

// A burst whose packets all fall to one engine reaches it as the caller's span: one call, no copies.
TEST(EngineAuto, UniformBurstGoesToOneEngineWhole) {
  const AutoChoice choice = mixed_choice();
  std::vector<Call> calls;
  auto engine = recorded_auto(choice, calls);
  ASSERT_NE(engine, nullptr);
  std::mt19937_64 rng(0x0de);
  for (std::uint32_t len : {64u, 256u, 512u, 1420u}) {
    std::vector<TestPacket> packets;
    for (int i = 0; i < 32; ++i) packets.emplace_back(rng, len);
    std::vector<AeadJob> jobs = jobs_for(packets);
    calls.clear();
    ASSERT_EQ(engine->seal(jobs), 0u);
    ASSERT_EQ(engine->open(jobs), 0u);
    ASSERT_EQ(calls.size(), 2u) << len;
    EXPECT_EQ(calls[0].engine, engine_of(choice, kSeal, len)) << len;
    EXPECT_EQ(calls[1].engine, engine_of(choice, kOpen, len)) << len;
    for (const Call& c : calls) {
      EXPECT_EQ(c.first, jobs.data()) << len;
      EXPECT_EQ(c.lens.size(), jobs.size()) << len;
    }
  }
}

// A mixed burst: one call per engine, each with only the lengths of its classes, every job in one of them.
TEST(EngineAuto, MixedBurstIsSplitByEngine) {
  const AutoChoice choice = mixed_choice();
  std::vector<Call> calls;
  auto engine = recorded_auto(choice, calls);
  ASSERT_NE(engine, nullptr);
  std::mt19937_64 rng(0x5b1);
  std::vector<TestPacket> packets = mixed_packets(rng, 2);
  std::vector<AeadJob> jobs = jobs_for(packets);
  ASSERT_EQ(engine->seal(jobs), 0u);
  std::vector<std::string> engines(choice.engine[kSeal].begin(), choice.engine[kSeal].end());
  std::sort(engines.begin(), engines.end());
  engines.erase(std::unique(engines.begin(), engines.end()), engines.end());
  ASSERT_EQ(calls.size(), engines.size());
  std::size_t total = 0;
  for (const Call& c : calls) {
    total += c.lens.size();
    for (std::uint32_t len : c.lens) {
      EXPECT_EQ(c.engine, engine_of(choice, kSeal, len)) << len;
    }
  }
  EXPECT_EQ(total, jobs.size());
}

// The same engine in every class: no splitting, even for a mixed burst.
TEST(EngineAuto, OneEngineForEveryClassIsCalledDirectly) {
  const AutoChoice choice = one_engine("sodium");
  std::vector<Call> calls;
  auto engine = recorded_auto(choice, calls);
  ASSERT_NE(engine, nullptr);
  std::mt19937_64 rng(0x51);
  std::vector<TestPacket> packets = mixed_packets(rng, 1);
  std::vector<AeadJob> jobs = jobs_for(packets);
  ASSERT_EQ(engine->seal(jobs), 0u);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].first, jobs.data());
  EXPECT_EQ(calls[0].lens.size(), jobs.size());
}

// Medium on one engine, every other class on another: a burst without medium packets still goes to its
// engine whole; one medium packet more splits it.
TEST(EngineAuto, ClassesOfOneEngineAreNotSplit) {
  AutoChoice choice = one_engine("sodium");
  choice.engine[kSeal][1] = choice.engine[kOpen][1] = "ipsec-mb";
  std::vector<Call> calls;
  auto engine = recorded_auto(choice, calls);
  ASSERT_NE(engine, nullptr);
  std::mt19937_64 rng(0x1a7);
  std::vector<TestPacket> packets;
  for (std::uint32_t len : {64u, 1420u, 0u, 1500u, 128u, 512u}) packets.emplace_back(rng, len);
  std::vector<AeadJob> jobs = jobs_for(packets);
  ASSERT_EQ(engine->seal(jobs), 0u);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].engine, "sodium");
  EXPECT_EQ(calls[0].first, jobs.data());
  for (TestPacket& p : packets) p.load(p.plaintext());  // sealed above
  packets.emplace_back(rng, 200);
  calls.clear();
  EXPECT_TRUE(seal_open_round_trip(*engine, packets));
  ASSERT_EQ(calls.size(), 4u);  // seal and open, each split in two
  EXPECT_EQ(calls[0].lens.size() + calls[1].lens.size(), packets.size());
}

TEST(EngineAuto, UnusableChoicesAreRefused) {
  for (const char* bad : {"", "auto", "openssl"}) {
    AutoChoice choice = one_engine("sodium");
    choice.engine[kOpen][1] = bad;
    EXPECT_FALSE(make_auto_engine(choice).ok()) << '"' << bad << '"';
  }
}

// The calibration on this CPU: every class gets an engine this CPU runs, measured, with plausible figures;
// make_engine("auto") follows the process-wide choice, which is measured once.
TEST(EngineAuto, CalibrationChoosesAmongRunnableEngines) {
  const AutoChoice choice = calibrate_auto_choice();
  ASSERT_FALSE(choice.measured.empty());
  EXPECT_GT(choice.calibration_ms, 0);
  std::string ran;
  for (const AutoChoice::Figures& f : choice.measured) {
    EXPECT_TRUE(make_engine(f.engine).ok()) << f.engine << " measured but not runnable here";
    EXPECT_NE(std::find(std::begin(kAutoCandidates), std::end(kAutoCandidates), f.engine), std::end(kAutoCandidates));
    for (const auto& per_op : f.ns_per_packet) {
      for (double ns : per_op) EXPECT_TRUE(std::isfinite(ns) && ns > 0) << f.engine << ": " << ns;
    }
    ran += " " + f.engine;
  }
  for (const auto& per_op : choice.engine) {
    for (const std::string& name : per_op) {
      EXPECT_TRUE(std::any_of(choice.measured.begin(), choice.measured.end(),
                              [&](const AutoChoice::Figures& f) { return f.engine == name; }))
          << name << " chosen but not measured";
    }
  }
  for (const std::string& name : runnable_engines()) {
    EXPECT_NE(ran.find(" " + name), std::string::npos) << name << " runs here but was not measured";
  }
  EXPECT_EQ(&auto_choice(), &auto_choice());
  auto engine = make_engine("auto");
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_STREQ((*engine)->name(), "auto");
  for (std::size_t op = 0; op < kAeadOpCount; ++op) {
    for (std::size_t k = 0; k < kSizeClassCount; ++k) {
      EXPECT_EQ((*engine)->engine_for(static_cast<AeadOp>(op), static_cast<SizeClass>(k)), auto_choice().engine[op][k]);
    }
  }
  std::printf("calibration here: %s\n", std::string((*engine)->description()).c_str());
}

}  // namespace
}  // namespace wg::crypto
