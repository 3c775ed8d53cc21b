// Handshakes per second on the responder side with many distinct initiators (issue 5).
//
// This is the protocol work the control thread does per handshake initiation (control/handshakes.cc,
// ControlPlane::handle_handshake), without the UDP framing, the mbuf handling, the logging and the
// publication of the new keypair to the workers:
//   CookieChecker::validate (mac1; mac2 too when under load) -> consume_initiation (1 DH, the static-static
//   one being precomputed per peer, 2 AEADs, the timestamp replay and flood checks, the initiator's static
//   key found through a PeerDirectory) -> the peer found for the handshake (a hash lookup, as
//   PeerTable::peer_of does) -> create_response (a fresh ephemeral key and 2 DH) -> CookieMaker::add_macs on the response ->
//   begin_session (KDF, new Keypair) -> the keypair freed.
// Initiations are created beforehand by the initiators, outside the measured time (16 at a time, timer
// paused), each initiator in turn, so consecutive handshakes come from distinct peers.
//
// Benchmark names:
//   handshake/responder/<peers>             normal load: mac1 checked, no cookie needed
//   handshake/responder_under_load/<peers>  under load: every initiation carries a valid mac2 (its sender
//                                           got a cookie earlier), which is checked too
//   handshake/cookie_reply/<peers>          under load, an initiation without mac2: mac1 check and the
//                                           cookie reply (the cheap refusal that costs no DH)
//   <peers>: distinct initiators, each initiating once per round in turn (1, 256, 1024)
//   handshake/threads/<K>                   the responder work of 1024 peers through control's HandshakePool
//                                           (control/handshake_pool.h): open_initiation and build_response
//                                           on K threads, the rest (mac1, accept, prepare, commit, macs,
//                                           begin_session) on the benchmark's thread, as control does. Real
//                                           time: a round submits every peer's initiation (at most 512 in
//                                           flight) and completes every response. K = 0 runs the same steps
//                                           on the benchmark's thread (open computes DH(S, S) itself: one
//                                           X25519 more than responder/, which uses the per-peer cache).
// JSON fields: items_per_second (= the handshakes_per_second field: responder-side handshakes completed per
// second on one core, over CPU time; for cookie_reply, cookie replies per second), real_time and cpu_time
// (us per handshake, time_unit "us").
//
// Run: build-*/perf/control/handshake_bench [--benchmark_filter=responder/256]
// Smoke run: --benchmark_min_time=0.01 (Google Benchmark 1.7: seconds as a plain number)
// Exit status 1 when any benchmark reported an error (its JSON entry has error_occurred: true).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "control/handshake_pool.h"
#include "lib/crypto/x25519.h"
#include "lib/protocol/cookie.h"
#include "lib/protocol/noise.h"
#include "lib/protocol/tai64n.h"

namespace wg::perf {
namespace {

// Every refusal goes through here, so main can exit non-zero (CI's smoke run fails on a wrong result;
// Google Benchmark itself only marks the benchmark as errored and exits 0).
bool g_failed = false;
void fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}

using namespace std::chrono_literals;

template <typename M>
std::span<std::uint8_t> bytes_of(M& m) {
  return {reinterpret_cast<std::uint8_t*>(&m), sizeof(m)};
}

// The gateway's side: its identity, its cookie checker and a peer table reached as control's is, through
// the PeerDirectory interface, keyed by static public key in a std::map (as control/peer_table.h).
class Responder : public noise::PeerDirectory {
 public:
  struct Peer {
    std::unique_ptr<noise::Handshake> handshake;
    noise::CookieMaker cookie;  // adds mac1 (and mac2 with a cookie) to what we send this peer
  };

  Responder() {
    identity.set(crypto::generate_private_key());
    checker.init(identity.public_key);
  }
  Peer& add_peer(const crypto::PublicKey& pub) {
    auto p = std::make_unique<Peer>();
    p->handshake = std::make_unique<noise::Handshake>(identity, pub, crypto::Key());
    p->cookie.init(pub);
    by_key_[pub] = p.get();
    by_handshake_[p->handshake.get()] = p.get();
    peers_.push_back(std::move(p));
    return *peers_.back();
  }
  noise::Handshake* find_by_static_key(const crypto::PublicKey& key) override {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : it->second->handshake.get();
  }
  // Only the initiator side looks handshakes up by index; the responder path never calls this.
  noise::Handshake* find_by_local_index(std::uint32_t) override { return nullptr; }
  // As PeerTable::peer_of: one hash lookup.
  Peer* peer_of(const noise::Handshake* hs) {
    auto it = by_handshake_.find(hs);
    return it == by_handshake_.end() ? nullptr : it->second;
  }

  noise::StaticIdentity identity;
  noise::CookieChecker checker;

 private:
  std::map<crypto::PublicKey, Peer*> by_key_;
  std::unordered_map<const noise::Handshake*, Peer*> by_handshake_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

// One remote peer: its identity, its handshake toward the gateway, and the cookie state it keeps for it.
// It is its own one-entry PeerDirectory, used only to check that our response completes its handshake.
struct Initiator : noise::PeerDirectory {
  Initiator(const crypto::PublicKey& gateway, std::uint32_t n) {
    identity.set(crypto::generate_private_key());
    handshake = std::make_unique<noise::Handshake>(identity, gateway, crypto::Key());
    cookie.init(gateway);
    index = 0x10000 + n;
    // A distinct source per initiator: cookies are bound to address and port.
    src = noise::cookie_source_v4(0x0a000000u + n, static_cast<std::uint16_t>(0x1000 + (n & 0xfff)));
  }
  noise::Handshake* find_by_static_key(const crypto::PublicKey&) override { return nullptr; }
  noise::Handshake* find_by_local_index(std::uint32_t i) override {
    return i == index ? handshake.get() : nullptr;
  }

  noise::StaticIdentity identity;
  std::unique_ptr<noise::Handshake> handshake;
  noise::CookieMaker cookie;
  noise::CookieSource src{};
  std::uint32_t index = 0;
};

enum class Mode { kNormal, kUnderLoad, kCookieReply };

struct World {
  explicit World(std::size_t peers) {
    for (std::size_t i = 0; i < peers; ++i) {
      initiators.push_back(std::make_unique<Initiator>(responder.identity.public_key, static_cast<std::uint32_t>(i)));
      responder.add_peer(initiators.back()->identity.public_key);
    }
    messages.resize(peers);
  }

  // A strictly rising TAI64N for every initiation (the responder refuses one not newer than the last).
  noise::Tai64n next_timestamp() {
    return noise::tai64n_from(std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + ++seq)));
  }

  // Initiations from initiators [from, to), macs added as each initiator would. Under load, an initiator
  // first asks for a cookie the way a real one does (its first try is answered with a cookie reply).
  bool make_messages(std::size_t from, std::size_t to, Mode mode) {
    if (from == 0) now += 25ms;  // a round: each peer initiates once, under the 50/s flood guard
    for (std::size_t i = from; i < to; ++i) {
      Initiator& ini = *initiators[i];
      noise::MessageInitiation& msg = messages[i];
      if (noise::create_initiation(*ini.handshake, ini.index, next_timestamp(), msg) != noise::HandshakeResult::kOk) {
        return false;
      }
      ini.cookie.add_macs(bytes_of(msg), cookie_now);
      if (mode == Mode::kUnderLoad && !ini.cookie.has_fresh_cookie(cookie_now)) {
        noise::MessageCookieReply reply;
        responder.checker.create_reply(reply, bytes_of(msg), ini.index, ini.src, cookie_now);
        if (ini.cookie.consume_reply(reply, cookie_now) != noise::CookieReplyResult::kOk) return false;
        ini.cookie.add_macs(bytes_of(msg), cookie_now);
      }
    }
    return true;
  }

  // The measured work for message i; false when anything was refused.
  bool respond(std::size_t i, Mode mode) {
    const noise::MessageInitiation& msg = messages[i];
    const std::span<const std::uint8_t> raw(reinterpret_cast<const std::uint8_t*>(&msg), sizeof(msg));
    const Initiator& ini = *initiators[i];
    const noise::MacResult mac = responder.checker.validate(raw, mode != Mode::kNormal, ini.src, cookie_now);
    if (mode == Mode::kCookieReply) {
      if (mac != noise::MacResult::kValidMacButNoCookie) return false;
      noise::MessageCookieReply reply;
      responder.checker.create_reply(reply, raw, noise::load_le32(msg.sender), ini.src, cookie_now);
      benchmark::DoNotOptimize(reply);
      return true;
    }
    if (mac != (mode == Mode::kUnderLoad ? noise::MacResult::kValidMacWithCookie
                                         : noise::MacResult::kValidMacButNoCookie)) {
      return false;
    }
    const noise::ConsumedMessage c = noise::consume_initiation(msg, responder.identity, responder, now);
    if (c.result != noise::HandshakeResult::kOk) return false;
    Responder::Peer* peer = responder.peer_of(c.handshake);
    if (peer == nullptr) return false;
    if (noise::create_response(*c.handshake, ++next_index, response) != noise::HandshakeResult::kOk) return false;
    peer->cookie.add_macs(bytes_of(response), cookie_now);
    noise::KeypairPtr kp = noise::begin_session(*c.handshake, now);
    benchmark::DoNotOptimize(kp.get());
    return kp != nullptr;
  }

  Responder responder;
  std::vector<std::unique_ptr<Initiator>> initiators;
  std::vector<noise::MessageInitiation> messages;
  noise::MessageResponse response{};
  std::uint32_t next_index = 0;
  std::uint64_t seq = 0;
  MonoTime now{0};
  // Cookie secrets rotate every 2 minutes of this clock; held still so that a long run never sees a
  // rotation (one random draw per 2 minutes: nothing next to a DH).
  const MonoTime cookie_now{1};
};

// A complete handshake with initiator 0, checked from its side: our response passes its mac1 check and
// its consume_response, and both ends derive mirrored keys. Guards against benchmarking a broken responder.
bool responder_is_correct(World& w) {
  if (!w.make_messages(0, 1, Mode::kNormal) || !w.respond(0, Mode::kNormal)) return false;
  // respond() dropped the responder's keypair; run the same steps once more keeping it.
  if (!w.make_messages(0, 1, Mode::kNormal)) return false;
  const noise::ConsumedMessage c = noise::consume_initiation(w.messages[0], w.responder.identity, w.responder, w.now);
  if (c.result != noise::HandshakeResult::kOk) return false;
  noise::MessageResponse resp;
  if (noise::create_response(*c.handshake, 42, resp) != noise::HandshakeResult::kOk) return false;
  w.responder.peer_of(c.handshake)->cookie.add_macs(bytes_of(resp), w.cookie_now);
  noise::KeypairPtr ours = noise::begin_session(*c.handshake, w.now);
  Initiator& ini = *w.initiators[0];
  noise::CookieChecker theirs_checker;
  theirs_checker.init(ini.identity.public_key);
  const std::span<const std::uint8_t> raw(reinterpret_cast<const std::uint8_t*>(&resp), sizeof(resp));
  const noise::CookieSource gw_src = noise::cookie_source_v4(0xac1f3d01u, 0xca6c);
  if (theirs_checker.validate(raw, false, gw_src, w.cookie_now) == noise::MacResult::kInvalidMac) return false;
  const noise::ConsumedMessage r = noise::consume_response(resp, ini.identity, ini);
  if (r.result != noise::HandshakeResult::kOk) return false;
  noise::KeypairPtr theirs = noise::begin_session(*ini.handshake, w.now);
  return ours && theirs && ours->sending == theirs->receiving && ours->receiving == theirs->sending &&
         ours->remote_index == ini.index && theirs->remote_index == 42;
}

// Worlds are built once per (peers, mode) and kept: building 1024 identities and handshakes costs far more
// than a short run measures. State carries over between runs as it would in a gateway (timestamps and the
// clock only move forward); a cookie_reply world keeps its initiations, which a cookie reply does not spend.
World* world_for(std::size_t peers, Mode mode) {
  static std::map<std::pair<std::size_t, Mode>, std::unique_ptr<World>> worlds;
  auto& w = worlds[{peers, mode}];
  if (!w) {
    auto fresh = std::make_unique<World>(peers);
    if (!responder_is_correct(*fresh)) return nullptr;
    if (mode == Mode::kCookieReply && !fresh->make_messages(0, peers, mode)) return nullptr;
    w = std::move(fresh);
  }
  return w.get();
}

// Initiations are made this many at a time with the timer paused (the pause costs about a microsecond;
// a handshake about 200).
constexpr std::size_t kChunk = 16;

void run(benchmark::State& state, Mode mode) {
  const auto peers = static_cast<std::size_t>(state.range(0));
  World* w = world_for(peers, mode);
  if (w == nullptr) {
    fail(state, "responder handshake does not complete at the initiator");
    return;
  }
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == peers) next = 0;
    if (mode != Mode::kCookieReply && next % kChunk == 0) {
      state.PauseTiming();
      const bool made = w->make_messages(next, std::min(next + kChunk, peers), mode);
      state.ResumeTiming();
      if (!made) {
        fail(state, "initiator could not build an initiation");
        break;
      }
    }
    if (!w->respond(next++, mode)) {
      fail(state, "responder refused a valid initiation");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["handshakes_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// One round: every peer's initiation through the pool; false (with `why`) on any refusal.
bool threads_round(World& w, ctl::HandshakePool& pool, std::string& why) {
  const std::size_t peers = w.initiators.size();
  std::size_t next = 0, completed = 0;
  while (completed < peers) {
    while (next < peers) {
      const noise::MessageInitiation& msg = w.messages[next];
      const std::span<const std::uint8_t> raw(reinterpret_cast<const std::uint8_t*>(&msg), sizeof(msg));
      if (w.responder.checker.validate(raw, false, w.initiators[next]->src, w.cookie_now) !=
          noise::MacResult::kValidMacButNoCookie) {
        why = "mac1 refused";
        return false;
      }
      ctl::HandshakeJob* j = pool.acquire();
      if (j == nullptr) break;  // 512 in flight: finish some first
      j->step = ctl::HandshakeJob::Step::kOpen;
      j->initiation = msg;
      j->identity = w.responder.identity;
      j->peer = static_cast<std::uint32_t>(next++);
      pool.submit(j);
    }
    ctl::HandshakeJob* done[64];
    const unsigned n = pool.poll(done, 64);
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // as control when idle: never spin
      continue;
    }
    for (unsigned i = 0; i < n; ++i) {
      ctl::HandshakeJob* j = done[i];
      if (j->step == ctl::HandshakeJob::Step::kOpen) {
        const noise::ConsumedMessage c = noise::accept_initiation(j->opened, w.responder, w.now);
        if (c.result != noise::HandshakeResult::kOk ||
            noise::prepare_response(*c.handshake, ++w.next_index, j->response) != noise::HandshakeResult::kOk) {
          why = std::string("initiation refused: ") + noise::to_string(c.result);
          return false;
        }
        j->step = ctl::HandshakeJob::Step::kBuild;
        pool.submit(j);
        continue;
      }
      noise::Handshake* hs = w.responder.find_by_static_key(w.initiators[j->peer]->identity.public_key);
      Responder::Peer* peer = w.responder.peer_of(hs);
      if (peer == nullptr || noise::commit_response(*hs, j->response) != noise::HandshakeResult::kOk) {
        why = "response not committed";
        return false;
      }
      peer->cookie.add_macs(bytes_of(j->response.message), w.cookie_now);
      noise::KeypairPtr kp = noise::begin_session(*hs, w.now);
      benchmark::DoNotOptimize(kp.get());
      pool.release(j);
      ++completed;
    }
  }
  return true;
}

void run_threads(benchmark::State& state) {
  constexpr std::size_t kPeers = 1024;
  World* w = world_for(kPeers, Mode::kNormal);
  if (w == nullptr) {
    fail(state, "responder handshake does not complete at the initiator");
    return;
  }
  ctl::HandshakePool pool(static_cast<unsigned>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    const bool made = w->make_messages(0, kPeers, Mode::kNormal);
    state.ResumeTiming();
    std::string why;
    if (!made || !threads_round(*w, pool, why)) {
      fail(state, made ? why : "initiator could not build an initiation");
      break;
    }
  }
  const auto done = static_cast<double>(state.iterations() * kPeers);
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
  state.counters["handshakes_per_second"] = benchmark::Counter(done, benchmark::Counter::kIsRate);
  state.counters["threads"] = static_cast<double>(state.range(0));
}

void register_all() {
  const std::pair<const char*, Mode> modes[] = {{"handshake/responder", Mode::kNormal},
                                                {"handshake/responder_under_load", Mode::kUnderLoad},
                                                {"handshake/cookie_reply", Mode::kCookieReply}};
  for (const auto& [name, mode] : modes) {
    benchmark::RegisterBenchmark(name, [mode](benchmark::State& state) { run(state, mode); })
        ->Arg(1)
        ->Arg(256)
        ->Arg(1024)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("handshake/threads", run_threads)
      ->Arg(0)
      ->Arg(1)
      ->Arg(2)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace wg::perf

int main(int argc, char** argv) {
  wg::perf::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return wg::perf::g_failed ? 1 : 0;
}
