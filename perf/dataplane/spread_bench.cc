// In-process scaling of one peer's traffic over several workers (issue 14, "In-process scaling"): the real
// encrypt and decrypt paths with dataplane/spread.h's hand-off and reorder, against the same paths on one
// worker, over pre-built bursts of one peer.
//
// Setup (stage_fixture.h, FixtureOptions::workers = W): an EAL in this process with one lcore per worker
// (-l CPU0,CPU1,...; the main lcore is worker 0, the owner of every burst), two net_null vdevs as the inside
// and outside ports, one Tables with one peer and one Spread (dp::create_spread(W, true, ...)) shared by W
// WorkerContexts, each with its own "auto" engine. Worker 0 runs on the main thread; workers 1..W-1 are EAL
// lcores (rte_eal_remote_launch), so they are real DPDK lcores with their own mempool caches. They are launched
// for every run and joined after it, in 1-worker runs too, where they only spin (rte_pause): both
// configurations hold the same CPUs, and a run during which any of them was preempted (getrusage's
// involuntary context switches: another process took the CPU) measured the machine's other load, not
// spreading; it is thrown away and run again (at most 20 times in a row, 1 s of discarded runs per
// repetition; --keep-preempted keeps every run).
//
// Input: for each direction and size, one distinct frame per packet of a run (M bursts x 32 packets), built
// once before any measurement: encrypt gets plain Ethernet + ICMP echo frames 10.61.0.2 -> 10.62.0.1 (inner
// IP size 64 or 1420 B, as stages_bench), decrypt gets transport frames of the echo replies sealed by the
// mirror keypair (reference code) with counters 0 .. M*32-1. Every inner packet carries its number (ICMP
// ident << 16 | seq). The gateway's replay window is reset before every decrypt run, while no worker runs, so
// no packet is a replay.
//
// Feeding a burst = rte_pktmbuf_alloc_bulk of 32 mbufs, copying the next 32 templates into them (from a
// template arena of M*32 frames) and writing each packet's number into an mbuf dynfield. By default (issue
// 14's "pre-built bursts", --feed=prebuilt) every burst of a run is fed before the run, the frames with
// non-temporal stores: they are in memory, in no CPU's cache, as after a NIC's DMA without DDIO, and the mbuf
// headers were written by the owner's core, as an RX PMD writes them (2048 bursts at 64 B, 512 at 1420 B, and
// a pool that holds them all). One run (what is timed, rte_rdtsc on the owner, from the first burst to after
// the last slice is sent) then hands the owner one burst's pointers at a time ("feed": a 256-byte copy).
// --feed=copy feeds each burst inside the run with plain copies (M = 4096 at 64 B, 1024 at 1420 B): the frame
// is then in the owner's cache, as after a copying PMD (memif), a helper pulls every line of it from there, and
// the feeding is part of the owner's serial time; --feed=nt the same with non-temporal copies (diagnostic).
// The owner feeds identically in both configurations:
//   1 worker:  the next burst, encrypt_burst / decrypt_burst (what poll_once does with spreading off).
//   W workers: the owner loops as poll_once does with spreading on: note_poll; serve_slices(ctx0); if there
//              is input left and spread_can_receive(ctx0): the next burst and spread_burst(ctx0, dir, burst);
//              finish_slices(ctx0) -- until everything was fed and its window is empty. Each helper
//              lcore loops note_poll + serve_slices(ctx_i) + finish_slices(ctx_i) until the run ends.
// Checked after every run (any failure: the benchmark reports an error, the binary exits 1): the owner's
// tx_outside_packets / tx_inside_packets rose by M*32, encrypted_packets / decrypted_packets summed over all
// workers rose by M*32, no drop_* counter of any worker rose, every mbuf came back to the pool, and the order:
// a TX callback on queue 0 of both net_null ports (the owner's TX queue) sees every packet's number (the mbuf
// dynfield) exactly in feed order; on the decrypt side it also compares the number inside the decrypted inner
// packet with it for every 33rd packet (reading every payload a helper wrote would add a cross-core miss per
// packet that a NIC's TX, by DMA, does not have). The callback and the numbering run in both configurations.
//
// Benchmark names (Google Benchmark appends "/manual_time"): <encrypt|decrypt>/<64|1420>/workers:<1|W>.
// Each iteration is one run; its wall time is the iteration's manual time. User counters (plain fields of
// each JSON benchmark object; per packet = per packet fed, cycles are TSC cycles):
//   pps, per_core_pps (= pps / workers), workers (not "threads": Google Benchmark's own JSON field)
//   wall_cycles_per_packet         run wall time / packets (1 worker: P, the whole path on one core)
//   feed_cycles_per_packet         the owner's feeding (pre-built: the burst's pointers; else alloc + copy +
//                                  numbering)
//   tx_cycles_per_packet           the owner's Phase::tx (send_burst: net_null TX, the order check, frees)
//   dispatch_cycles_per_packet     the owner's Phase::dispatch (spread_burst cutting and queueing)
//   reorder_cycles_per_packet      the owner's Phase::reorder (finish_slices minus its TX)
//   serial_cycles_per_packet       S = feed + dispatch + reorder + tx: what only the owner can do
//   discarded_runs, preempted_runs runs thrown away because a worker was preempted; runs kept although
// W workers also:
//   path_cycles_per_packet         P: wall cycles per packet of a 1-worker run made just before this
//                                  repetition's runs (untimed), so P and S come from the same minutes
//   amdahl_8, amdahl_16, amdahl_32 min(n, P / S): the speedup one owner's serial work allows with n workers
//   c2c_cycles                     one-way cache-line latency owner CPU -> helper CPU (ping-pong, TSC cycles),
//                                  measured before this repetition: the price of each line a hand-off moves
//   owner_idle_share               share of the run the owner polled without feeding, reclaiming or sending
//   helper_busy_share              share of the run the helpers spent in serve_slices calls that did work
//                                  (averaged over the helpers)
//   helper_packets_share           share of the packets processed on a helper (the rest: on the owner)
//   helper_cycles_per_packet       helper busy cycles per packet it processed (the path on a cold burst)
//   owner_work_cycles_per_packet   the owner's processing per packet it processed itself (spread_burst beyond
//                                  dispatch, finish_slices beyond reorder, tx and the scan: reclaimed slices)
//   owner_poll_cycles_per_packet   the rest of the owner's busy polls (serve_slices on its own ring,
//                                  spread_can_receive, the loop), per packet
//   scan_cycles_per_packet         finish_slices outside Phase::reorder and tx when it took nothing back: the
//                                  scan of the window's slot states for one to reclaim (serial, not in S)
//   serial_total_cycles_per_packet S + scan + poll: everything the owner alone does per packet
//   slices_per_burst, reclaimed_per_burst, helped_per_burst, refused_per_burst, window_full_per_burst
//                                  SpreadStats (owner's slices/reclaimed/refused/window_full, helpers'
//                                  helped) per burst fed
// --diagnose adds <dir>/<size>/no_helper: W WorkerContexts with spreading on, but the helpers never process
// a slice (they only empty their work rings), so the owner takes every slice back: spread's bookkeeping on one
// core, without any cross-core traffic but the ring's (per_core_pps = pps, one core works).
// At the end a human-readable summary goes to stderr: per direction and size, per-core pps with 1 and W
// workers, their ratio per repetition (paired by repetition index; target >= 0.9) as median (min-max), and S,
// P and the bound at 8/16/32 workers (medians over the repetitions), and where the W-worker time went.
//
// Run: taskset -c 0,1 build-*/perf/dataplane/spread_bench [--lcores=0,1] [--bursts=M] [--diagnose]
//      [--keep-preempted] [--feed=prebuilt|copy|nt] [Google Benchmark flags]
//   --lcores: one CPU per worker, the first one the owner's (default: every CPU of the affinity mask, at most
//   16; with only one, only the 1-worker benchmarks run). --bursts: bursts per run (default pre-built 2048 at
//   64 B and 512 at 1420 B, copy and nt 4096 and 1024: about 5-20 ms per run). Without --benchmark_repetitions, 5 repetitions interleaved at random.
//   Smoke run: --benchmark_min_time=0.01
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <sched.h>
#include <emmintrin.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/packet.h"
#include "dataplane/spread.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"
#include "lib/crypto/aead_batch.h"
#include "lib/net/inet.h"
#include "lib/protocol/messages.h"
#include "lib/protocol/transport.h"
#include "perf/dataplane/stage_fixture.h"

namespace wg::perf {
namespace {

using dp::Direction;

const char* dir_name(Direction d) { return d == Direction::kEncrypt ? "encrypt" : "decrypt"; }

// ---- input ----

// One distinct frame per packet of a run, in one arena: frame k is packet number k.
struct Templates {
  Direction dir = Direction::kEncrypt;
  std::uint16_t size = 0;  // inner IP bytes
  std::uint32_t bursts = 0;
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint32_t> off;
  std::vector<std::uint16_t> len;
};

net::IpAddress v4(const char* s) { return *net::IpAddress::parse(s); }

// An ICMP echo of `inner_len` IP bytes numbered `num` (ident = num >> 16, seq = num & 0xffff), Ethernet framed
// for the inside port: the inside host to the peer (request), or the peer's reply.
std::vector<std::uint8_t> numbered_echo(std::uint16_t inner_len, std::uint32_t num, bool to_peer) {
  std::vector<std::uint8_t> f(kEthLen + inner_len);
  const std::vector<std::uint8_t> payload(inner_len - 28u, static_cast<std::uint8_t>('a' + num % 26));
  const std::uint32_t inside = v4("10.61.0.2").v4_be(), peer = v4("10.62.0.1").v4_be();
  net::build_icmp_echo(std::span(f).subspan(kEthLen), to_peer ? inside : peer, to_peer ? peer : inside,
                       to_peer ? net::kIcmpEchoRequest : net::kIcmpEchoReply, static_cast<std::uint16_t>(num >> 16),
                       static_cast<std::uint16_t>(num), payload);
  f[12] = 0x08;  // IPv4; both MACs zero: the fixture's inside MAC
  return f;
}

std::unique_ptr<Templates> make_templates(Direction dir, std::uint16_t size, std::uint32_t bursts) {
  Gateway& g = *g_gw;
  auto t = std::make_unique<Templates>();
  t->dir = dir;
  t->size = size;
  t->bursts = bursts;
  const std::uint32_t n = bursts * kBurst;
  t->off.reserve(n);
  t->len.reserve(n);
  g.theirs.sending_counter.store(0);  // decrypt: counters 0 .. n-1, fresh after every replay reset
  const net::Endpoint ours = *net::Endpoint::parse("172.31.61.1:51820");
  for (std::uint32_t k = 0; k < n; ++k) {
    std::vector<std::uint8_t> f = numbered_echo(size, k, dir == Direction::kEncrypt);
    if (dir == Direction::kDecrypt) {
      const std::span<const std::uint8_t> inner(f.data() + kEthLen, f.size() - kEthLen);
      std::vector<std::uint8_t> w(kOuterHead + noise::transport_size(inner.size(), kMtu));
      std::size_t len = 0;
      if (noise::encrypt_transport(g.theirs, inner, kMtu, std::span(w).subspan(kOuterHead), len) !=
          noise::TransportResult::kOk) {
        std::fprintf(stderr, "spread_bench: reference encryption failed\n");
        std::abort();
      }
      dp::write_outer_headers(w.data(), g.route.next_hop_mac, g.gw.outside_mac, v4("172.31.61.2"), ours, kListenPort,
                              static_cast<std::uint16_t>(len));
      w.resize(kOuterHead + len);
      f = std::move(w);
    }
    t->off.push_back(static_cast<std::uint32_t>(t->bytes.size()));
    t->len.push_back(static_cast<std::uint16_t>(f.size()));
    t->bytes.insert(t->bytes.end(), f.begin(), f.end());
  }
  t->bytes.resize(t->bytes.size() + 16);  // copy_nt reads whole 16-byte chunks
  return t;
}

// Each mbuf's packet number, in a dynfield the dataplane never touches.
int g_num_offset = -1;
std::uint64_t& num_of(rte_mbuf* m) { return *RTE_MBUF_DYNFIELD(m, g_num_offset, std::uint64_t*); }

// The feed (header): pre-built before the run (default) or built in it; frames written with non-temporal
// stores (in memory, in no CPU's cache) or plain copies (in the owner's cache).
bool g_feed_prebuilt = true;
bool g_feed_nt = true;

// Whole 16-byte chunks (the mbuf's data room is far larger than the frame); dst 16-byte aligned.
void copy_nt(std::uint8_t* dst, const std::uint8_t* src, std::size_t len) {
  for (std::size_t i = 0; i < len; i += 16) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
  }
}

// Feeds burst `b` of the run: 32 fresh mbufs with the next 32 templates, numbered. False: pool exhausted.
bool build(rte_mbuf** burst, const Templates& t, std::uint32_t b) {
  if (rte_pktmbuf_alloc_bulk(fixture_pool(), burst, kBurst) != 0) return false;
  for (std::uint32_t i = 0; i < kBurst; ++i) {
    const std::uint32_t k = b * kBurst + i;
    const std::uint16_t len = t.len[k];
    auto* dst = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(burst[i], len));
    if (g_feed_nt && (reinterpret_cast<std::uintptr_t>(dst) & 15) == 0) {
      copy_nt(dst, t.bytes.data() + t.off[k], len);
    } else {
      std::memcpy(dst, t.bytes.data() + t.off[k], len);
    }
    num_of(burst[i]) = k;
  }
  if (g_feed_nt) _mm_sfence();
  return true;
}

// ---- the order check: a TX callback on the owner's TX queue of both ports ----

struct OrderCheck {
  std::uint64_t next = 0;       // the number the next packet sent must carry
  std::uint64_t seen = 0;       // packets sent
  std::uint64_t misordered = 0; // packets whose number was not `next`
  std::uint64_t bad_inner = 0;  // decrypt: the number inside the decrypted packet differs from the mbuf's
  bool inner = false;           // check inner packets too (decrypt: plain IPv4 + ICMP echo), every 33rd
};
OrderCheck g_order;

std::uint16_t check_order(std::uint16_t, std::uint16_t, rte_mbuf** pkts, std::uint16_t n, void* arg) {
  OrderCheck& c = *static_cast<OrderCheck*>(arg);
  for (std::uint16_t i = 0; i < n; ++i) {
    const std::uint64_t num = num_of(pkts[i]);
    if (num != c.next) ++c.misordered;
    c.next = num + 1;
    ++c.seen;
    if (c.inner && num % 33 == 0) {  // a sample (one packet a burst, at every position in turn): reading
      // the payload a helper just wrote costs the owner a cross-core miss that a real TX (DMA) does not
      const auto* p = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
      if (pkts[i]->data_len < kEthLen + 28) {
        ++c.bad_inner;
        continue;
      }
      const std::uint8_t* icmp = p + kEthLen + 4 * (p[kEthLen] & 0x0f);
      const std::uint32_t inner = static_cast<std::uint32_t>(icmp[4]) << 24 | static_cast<std::uint32_t>(icmp[5]) << 16 |
                                  static_cast<std::uint32_t>(icmp[6]) << 8 | icmp[7];
      if (inner != static_cast<std::uint32_t>(num)) ++c.bad_inner;
    }
  }
  return n;
}

// ---- helpers: workers 1..W-1 on their own lcores ----

// Involuntary context switches of the calling thread so far: a run during which a worker was preempted (another
// process on its CPU) measured the machine's load, not spreading; it is run again (kMaxTries).
long preemptions() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_nivcsw;
}

struct Helper {
  dp::WorkerContext* ctx = nullptr;  // null: a 1-worker run; the lcore only spins (below)
  bool serve = true;                 // false (--diagnose, no_helper): empty the work ring, process nothing
  unsigned lcore = 0;
  std::atomic<bool> stop{false}, started{false};
  std::uint64_t busy = 0;  // cycles of polls that processed a slice
  long preempted = 0;
};

int helper_main(void* arg) {
  Helper& h = *static_cast<Helper*>(arg);
  const long p0 = preemptions();
  h.started.store(true, std::memory_order_release);
  while (h.ctx == nullptr && !h.stop.load(std::memory_order_relaxed)) rte_pause();
  // no_helper: the work ring is the only shared thing touched; every slice stays with its owner, which takes
  // it back (finish_slices) -- spread's bookkeeping alone, on one core.
  while (h.ctx != nullptr && !h.serve && !h.stop.load(std::memory_order_relaxed)) {
    dp::note_poll(*h.ctx->spread, h.ctx->id, rte_rdtsc());  // running, busy elsewhere: as a loaded helper
    void* got[32];
    rte_ring_sc_dequeue_burst(h.ctx->spread->lanes[h.ctx->id].work, got, 32, nullptr);
  }
  while (!h.stop.load(std::memory_order_relaxed)) {
    const std::uint64_t t0 = rte_rdtsc();
    dp::note_poll(*h.ctx->spread, h.ctx->id, t0);  // as poll_once
    bool did = dp::serve_slices(*h.ctx);
    did |= dp::finish_slices(*h.ctx);  // as poll_once: its own (empty) window
    if (did) h.busy += rte_rdtsc() - t0;
  }
  h.preempted = preemptions() - p0;
  return 0;
}

// One-way latency of a cache line between the owner's CPU and a helper's (ping-pong, TSC cycles): what every
// line of a handed-off burst costs the core that pulls it, if not overlapped. It varies with where the host
// puts the two CPUs (a VM's vCPUs can be on different dies), so each repetition measures it again.
alignas(64) std::atomic<std::uint64_t> g_ball{0};
constexpr std::uint64_t kPingPongs = 2000;

int pong_main(void*) {
  for (std::uint64_t i = 0; i < kPingPongs; ++i) {
    while (g_ball.load(std::memory_order_acquire) != 2 * i + 1) {
    }
    g_ball.store(2 * i + 2, std::memory_order_release);
  }
  return 0;
}

double c2c_cycles(unsigned lcore) {
  g_ball.store(0);
  if (rte_eal_remote_launch(pong_main, nullptr, lcore) != 0) return 0;
  const std::uint64_t t0 = rte_rdtsc();
  for (std::uint64_t i = 0; i < kPingPongs; ++i) {
    g_ball.store(2 * i + 1, std::memory_order_release);
    while (g_ball.load(std::memory_order_acquire) != 2 * i + 2) {
    }
  }
  const std::uint64_t t1 = rte_rdtsc();
  rte_eal_wait_lcore(lcore);
  return static_cast<double>(t1 - t0) / (2.0 * kPingPongs);
}

// ---- one run ----

struct Sample {
  std::uint64_t runs = 0, packets = 0, bursts = 0, wall = 0, feed = 0, owner_idle = 0, helper_busy = 0;
  std::uint64_t in_burst = 0, in_finish = 0;  // the owner's cycles in spread_burst / finish_slices (or the path)
  // finish_slices outside its reorder and TX phases, in busy polls: calls that took a slice back (the scan of
  // the window's states, the claim, the path on it) and calls that did not (the scan alone)
  std::uint64_t reclaim_calls = 0, reclaim_own = 0, scan_calls = 0, scan_own = 0;
  std::uint64_t owner_packets = 0, helper_packets = 0;  // processed (encrypted / decrypted) on each side
  std::uint64_t phase[static_cast<std::size_t>(dp::Phase::kCount)] = {};  // the owner's
  std::uint64_t slices = 0, reclaimed = 0, refused = 0, window_full = 0, helped = 0;
  long preempted = 0;  // involuntary context switches of the workers during the run

  void add(const Sample& o) {
    runs += o.runs, packets += o.packets, bursts += o.bursts, wall += o.wall, feed += o.feed;
    in_burst += o.in_burst, in_finish += o.in_finish;
    reclaim_calls += o.reclaim_calls, reclaim_own += o.reclaim_own, scan_calls += o.scan_calls, scan_own += o.scan_own;
    owner_idle += o.owner_idle, helper_busy += o.helper_busy;
    owner_packets += o.owner_packets, helper_packets += o.helper_packets;
    for (std::size_t i = 0; i < std::size(phase); ++i) phase[i] += o.phase[i];
    slices += o.slices, reclaimed += o.reclaimed, refused += o.refused, window_full += o.window_full;
    helped += o.helped;
  }
  std::uint64_t cycles(dp::Phase p) const { return phase[static_cast<std::size_t>(p)]; }
  std::uint64_t serial() const {
    return feed + cycles(dp::Phase::dispatch) + cycles(dp::Phase::reorder) + cycles(dp::Phase::tx);
  }
};

unsigned g_max_workers = 1;
std::vector<unsigned> g_helper_lcores;  // lcores of workers 1..

struct Snapshot {
  struct Worker {
    dp::WorkerCounters counters;
    dp::WorkerStats stats;
  };
  std::vector<Worker> w;  // copies of every worker's counters and stats
  Snapshot() {
    for (unsigned i = 0; i < g_max_workers; ++i) {
      const dp::WorkerShared& s = (*g_gw->owner->workers)[i];
      w.push_back({s.counters, s.stats});
    }
  }
};

std::uint64_t drops_all(const Snapshot& s) {
  std::uint64_t n = 0;
  for (const auto& w : s.w) n += drops(w.counters);
  return n;
}

// One run of t.bursts bursts with `workers` workers; false with `why` when something did not come out right.
bool run_once(const Templates& t, unsigned workers, bool serve, Sample& out, std::string& why) {
  Gateway& g = *g_gw;
  dp::WorkerContext& ctx0 = g.ctx;
  const bool enc = t.dir == Direction::kEncrypt;
  rte_mempool* pool = fixture_pool();
  const unsigned in_use0 = rte_mempool_in_use_count(pool);
  if (!enc) g.ours.replay.reset();  // no worker runs now: the helpers are launched below, per run
  g_order = OrderCheck{};
  g_order.inner = !enc;
  const Snapshot before;

  // Every lcore is launched, in a 1-worker run too: there the others only spin (rte_pause), so that in both
  // configurations the run holds the same CPUs and another process taking any of them shows as a preemption.
  std::vector<std::unique_ptr<Helper>> helpers;
  for (unsigned w = 1; w < g_max_workers; ++w) {
    auto h = std::make_unique<Helper>();
    h->ctx = w < workers ? &g.extra_workers[w - 1] : nullptr;
    h->serve = serve;
    h->lcore = g_helper_lcores[w - 1];
    if (rte_eal_remote_launch(helper_main, h.get(), h->lcore) != 0) {
      why = "cannot launch a helper lcore";
      for (auto& x : helpers) x->stop.store(true);
      rte_eal_mp_wait_lcore();
      return false;
    }
    helpers.push_back(std::move(h));
  }
  for (auto& h : helpers) {
    while (!h->started.load(std::memory_order_acquire)) rte_pause();
  }

  rte_mbuf* burst[kBurst];
  const std::span<rte_mbuf*> span(burst, kBurst);
  std::vector<rte_mbuf*> prebuilt;
  bool pool_ok = true;
  if (g_feed_prebuilt) {
    prebuilt.resize(std::size_t{t.bursts} * kBurst);
    for (std::uint32_t b = 0; b < t.bursts && pool_ok; ++b) {
      if (!build(&prebuilt[std::size_t{b} * kBurst], t, b)) {
        rte_pktmbuf_free_bulk(prebuilt.data(), b * kBurst);
        pool_ok = false;
      }
    }
  }
  std::uint64_t feed = 0;
  // The next burst into `burst`: its pointers (pre-built) or built now, timed as feed. The TSC after it; 0
  // when the pool ran out.
  auto feed_burst = [&](std::uint32_t b) -> std::uint64_t {
    const std::uint64_t b0 = rte_rdtsc();
    if (!g_feed_prebuilt) {
      if (!build(burst, t, b)) return 0;
    } else {
      std::memcpy(burst, &prebuilt[std::size_t{b} * kBurst], sizeof(burst));
    }
    const std::uint64_t b1 = rte_rdtsc();
    feed += b1 - b0;
    return b1;
  };
  const long preempted0 = preemptions();
  std::uint64_t idle = 0, in_burst = 0, in_finish = 0;
  std::uint64_t reclaim_calls = 0, reclaim_own = 0, scan_calls = 0, scan_own = 0;
  const dp::WorkerStats& st0 = ctx0.shared->stats;
  constexpr auto kReorder = static_cast<std::size_t>(dp::Phase::reorder), kTx = static_cast<std::size_t>(dp::Phase::tx);
  const std::uint64_t t0 = rte_rdtsc();
  if (!pool_ok) {
    // nothing to run: the pool could not hold the pre-built run
  } else if (workers == 1) {
    for (std::uint32_t b = 0; b < t.bursts; ++b) {
      const std::uint64_t b1 = feed_burst(b);
      if (b1 == 0) {
        pool_ok = false;
        break;
      }
      dp::process_burst(ctx0, t.dir, span);
      in_burst += rte_rdtsc() - b1;
    }
  } else {
    const dp::SpreadLane& lane = g.spread->lanes[ctx0.id];
    std::uint32_t fed = 0;
    for (;;) {
      const std::uint64_t p0 = rte_rdtsc();
      dp::note_poll(*g.spread, ctx0.id, p0);  // as poll_once
      bool did = dp::serve_slices(ctx0);
      std::uint32_t received = 0;
      if (fed < t.bursts && dp::spread_can_receive(ctx0)) {
        const std::uint64_t b1 = feed_burst(fed);
        if (b1 == 0) {
          pool_ok = false;
          break;
        }
        dp::spread_burst(ctx0, t.dir, span);
        in_burst += rte_rdtsc() - b1;
        received = kBurst;
        ++fed;
      }
      const std::uint64_t reclaimed0 = st0.spread.reclaimed, reorder0 = st0.phase_cycles[kReorder],
                          tx0 = st0.phase_cycles[kTx];
      const std::uint64_t f0 = rte_rdtsc();
      did |= dp::finish_slices(ctx0);
      const std::uint64_t f1 = rte_rdtsc();
      if (received == 0 && !did) {
        idle += f1 - p0;
      } else {
        in_finish += f1 - f0;
        const std::uint64_t own = f1 - f0 - (st0.phase_cycles[kReorder] - reorder0) - (st0.phase_cycles[kTx] - tx0);
        if (st0.spread.reclaimed != reclaimed0) {
          ++reclaim_calls;
          reclaim_own += own;
        } else {
          ++scan_calls;
          scan_own += own;
        }
      }
      if (fed == t.bursts && dp::window_depth(lane) == 0) break;
    }
  }
  const std::uint64_t wall = rte_rdtsc() - t0;
  long preempted = preemptions() - preempted0;
  std::uint64_t helper_busy = 0;
  for (auto& h : helpers) h->stop.store(true, std::memory_order_relaxed);
  for (auto& h : helpers) {
    rte_eal_wait_lcore(h->lcore);
    helper_busy += h->busy;
    preempted += h->preempted;
  }
  const Snapshot after;
  if (!pool_ok) {
    why = "mbuf pool exhausted";
    return false;
  }

  const std::uint64_t n = std::uint64_t{t.bursts} * kBurst;
  const dp::Counter done = enc ? dp::Counter::encrypted_packets : dp::Counter::decrypted_packets;
  const dp::Counter sent = enc ? dp::Counter::tx_outside_packets : dp::Counter::tx_inside_packets;
  std::uint64_t processed = 0;
  for (unsigned w = 0; w < g_max_workers; ++w) processed += after.w[w].counters.get(done) - before.w[w].counters.get(done);
  const std::uint64_t owner_sent = after.w[0].counters.get(sent) - before.w[0].counters.get(sent);
  char buf[256];
  if (processed != n || owner_sent != n || drops_all(after) != drops_all(before)) {
    std::snprintf(buf, sizeof(buf), "%s: %llu packets fed, %llu %s, %llu sent by the owner, %llu dropped",
                  dir_name(t.dir), static_cast<unsigned long long>(n), static_cast<unsigned long long>(processed),
                  enc ? "encrypted" : "decrypted", static_cast<unsigned long long>(owner_sent),
                  static_cast<unsigned long long>(drops_all(after) - drops_all(before)));
    why = buf;
    return false;
  }
  if (g_order.seen != n || g_order.misordered != 0 || g_order.bad_inner != 0 || g_order.next != n) {
    std::snprintf(buf, sizeof(buf), "%s: order check: %llu of %llu packets seen, %llu out of order, %llu wrong inside",
                  dir_name(t.dir), static_cast<unsigned long long>(g_order.seen), static_cast<unsigned long long>(n),
                  static_cast<unsigned long long>(g_order.misordered),
                  static_cast<unsigned long long>(g_order.bad_inner));
    why = buf;
    return false;
  }
  if (rte_mempool_in_use_count(pool) != in_use0) {
    why = "mbufs leaked";
    return false;
  }

  Sample s;
  s.runs = 1;
  s.packets = n;
  s.bursts = t.bursts;
  s.wall = wall;
  s.feed = feed;
  s.preempted = preempted;
  s.owner_idle = idle;
  s.in_burst = in_burst;
  s.in_finish = in_finish;
  s.reclaim_calls = reclaim_calls;
  s.reclaim_own = reclaim_own;
  s.scan_calls = scan_calls;
  s.scan_own = scan_own;
  s.helper_busy = helper_busy;
  s.owner_packets = after.w[0].counters.get(done) - before.w[0].counters.get(done);
  s.helper_packets = processed - s.owner_packets;
  const dp::WorkerStats &a0 = after.w[0].stats, &b0 = before.w[0].stats;
  for (std::size_t i = 0; i < std::size(s.phase); ++i) s.phase[i] = a0.phase_cycles[i] - b0.phase_cycles[i];
  s.slices = a0.spread.slices - b0.spread.slices;
  s.reclaimed = a0.spread.reclaimed - b0.spread.reclaimed;
  s.refused = a0.spread.refused - b0.spread.refused;
  s.window_full = a0.spread.window_full - b0.spread.window_full;
  for (unsigned w = 1; w < g_max_workers; ++w) s.helped += after.w[w].stats.spread.helped - before.w[w].stats.spread.helped;
  out = s;
  return true;
}

// ---- benchmarks ----

bool g_keep_preempted = false;  // --keep-preempted
constexpr int kMaxTries = 20;
constexpr double kMaxDiscardedSeconds = 1.0;  // per benchmark repetition: a busy machine does not stall the run

// run_once, again while a worker was preempted during the run (at most kMaxTries times in a row and
// kMaxDiscardedSeconds of discarded runs per repetition; then the run counts, preempted). `discarded` counts the
// runs thrown away, `discarded_cycles` their time.
bool run_quiet(const Templates& t, unsigned workers, bool serve, Sample& out, std::string& why,
               std::uint64_t& discarded, std::uint64_t& discarded_cycles) {
  for (int i = 0;; ++i) {
    if (!run_once(t, workers, serve, out, why)) return false;
    if (out.preempted == 0 || g_keep_preempted || i + 1 == kMaxTries ||
        static_cast<double>(discarded_cycles) > kMaxDiscardedSeconds * static_cast<double>(g_tsc_hz)) {
      return true;
    }
    ++discarded;
    discarded_cycles += out.wall;
  }
}

// `workers` WorkerContexts on the spread path (1: spreading off); serve = false (--diagnose, no_helper): their
// helpers never process a slice.
void bench(benchmark::State& state, const Templates* t, unsigned workers, bool serve) {
  Gateway& g = *g_gw;
  g.ctx.engine = g.engines.at("auto").get();
  std::string why;
  std::uint64_t discarded = 0, discarded_cycles = 0;
  double path = 0;  // P: cycles per packet of one worker's whole path, measured just before
  double c2c = 0;
  if (workers > 1) {
    c2c = c2c_cycles(g_helper_lcores[0]);
    Sample cal;
    if (!run_quiet(*t, 1, true, cal, why, discarded, discarded_cycles)) {
      fail(state, why);
      for (auto _ : state) {
      }
      return;
    }
    path = static_cast<double>(cal.wall) / static_cast<double>(cal.packets);
  }
  Sample sum;
  std::uint64_t kept_preempted = 0;
  for (auto _ : state) {
    Sample s;
    if (!run_quiet(*t, workers, serve, s, why, discarded, discarded_cycles)) {
      fail(state, why);
      break;
    }
    state.SetIterationTime(static_cast<double>(s.wall) / static_cast<double>(g_tsc_hz));
    sum.add(s);
    kept_preempted += s.preempted != 0 ? 1 : 0;
  }
  if (sum.packets == 0) return;
  const double pkts = static_cast<double>(sum.packets);
  const double bursts = static_cast<double>(sum.bursts);
  const double pps = pkts * static_cast<double>(g_tsc_hz) / static_cast<double>(sum.wall);
  auto& c = state.counters;
  auto per_packet = [&](double cycles) { return benchmark::Counter(cycles / pkts); };
  c["pps"] = benchmark::Counter(pps);
  const unsigned cores = serve ? workers : 1;  // no_helper: one core works
  c["per_core_pps"] = benchmark::Counter(pps / cores);
  c["workers"] = benchmark::Counter(cores);
  c["discarded_runs"] = benchmark::Counter(static_cast<double>(discarded));  // preempted, run again
  c["preempted_runs"] = benchmark::Counter(static_cast<double>(kept_preempted));  // kept anyway (kMaxTries)
  c["wall_cycles_per_packet"] = per_packet(static_cast<double>(sum.wall));
  c["feed_cycles_per_packet"] = per_packet(static_cast<double>(sum.feed));
  c["tx_cycles_per_packet"] = per_packet(static_cast<double>(sum.cycles(dp::Phase::tx)));
  c["dispatch_cycles_per_packet"] = per_packet(static_cast<double>(sum.cycles(dp::Phase::dispatch)));
  c["reorder_cycles_per_packet"] = per_packet(static_cast<double>(sum.cycles(dp::Phase::reorder)));
  const double serial = static_cast<double>(sum.serial()) / pkts;
  c["serial_cycles_per_packet"] = benchmark::Counter(serial);
  if (workers > 1) {
    c["path_cycles_per_packet"] = benchmark::Counter(path);
    c["c2c_cycles"] = benchmark::Counter(c2c);
    for (double n : {8.0, 16.0, 32.0}) {
      c["amdahl_" + std::to_string(static_cast<int>(n))] = benchmark::Counter(serial > 0 ? std::min(n, path / serial) : n);
    }
    const double wall = static_cast<double>(sum.wall);
    c["owner_idle_share"] = benchmark::Counter(static_cast<double>(sum.owner_idle) / wall);
    c["helper_busy_share"] = benchmark::Counter(static_cast<double>(sum.helper_busy) / wall / (workers - 1));
    c["helper_packets_share"] = benchmark::Counter(static_cast<double>(sum.helper_packets) / pkts);
    c["helper_cycles_per_packet"] = benchmark::Counter(
        sum.helper_packets ? static_cast<double>(sum.helper_busy) / static_cast<double>(sum.helper_packets) : 0.0);
    // finish_slices outside reorder and TX: every busy poll scans the window's slot states (not timed by
    // Phase::reorder; serial); a call that took a slice back also ran the path on it. The scan is estimated per
    // call from the calls that took nothing back.
    const double scan_per_call =
        sum.scan_calls ? static_cast<double>(sum.scan_own) / static_cast<double>(sum.scan_calls) : 0.0;
    const double scan = scan_per_call * static_cast<double>(sum.scan_calls + sum.reclaim_calls);
    c["scan_cycles_per_packet"] = per_packet(scan);
    // The owner's own processing per packet it processed: reclaimed slices (less the scan) and what
    // spread_burst did beyond dispatch (bursts done at once: light load, refused).
    const double owner_work = static_cast<double>(sum.reclaim_own) - scan_per_call * static_cast<double>(sum.reclaim_calls) +
                              static_cast<double>(sum.in_burst - sum.cycles(dp::Phase::dispatch));
    c["owner_work_cycles_per_packet"] =
        benchmark::Counter(sum.owner_packets ? owner_work / static_cast<double>(sum.owner_packets) : 0.0);
    // What remains of the owner's busy polls: serve_slices on its own (empty) ring, spread_can_receive, the
    // loop and its clock reads; idle polls excluded.
    const double poll = wall - static_cast<double>(sum.owner_idle + sum.feed + sum.in_burst + sum.in_finish);
    c["owner_poll_cycles_per_packet"] = per_packet(poll);
    // Everything the owner spends per packet that is not packet processing or waiting: S, the scan, the loop.
    c["serial_total_cycles_per_packet"] = per_packet(static_cast<double>(sum.serial()) + scan + poll);
    c["slices_per_burst"] = benchmark::Counter(static_cast<double>(sum.slices) / bursts);
    c["reclaimed_per_burst"] = benchmark::Counter(static_cast<double>(sum.reclaimed) / bursts);
    c["helped_per_burst"] = benchmark::Counter(static_cast<double>(sum.helped) / bursts);
    c["refused_per_burst"] = benchmark::Counter(static_cast<double>(sum.refused) / bursts);
    c["window_full_per_burst"] = benchmark::Counter(static_cast<double>(sum.window_full) / bursts);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(sum.packets));
  state.SetBytesProcessed(static_cast<std::int64_t>(sum.packets * t->size));
  state.SetLabel("tsc_hz=" + std::to_string(g_tsc_hz));
}

// ---- the summary: a display reporter that forwards to Google Benchmark's own and keeps the results ----

struct Row {
  std::map<std::int64_t, std::map<std::string, double>> reps;  // repetition index -> counters
};
std::map<std::string, Row> g_rows;  // "<dir>/<size>/workers:<n>"

class Collector : public benchmark::BenchmarkReporter {
 public:
  explicit Collector(benchmark::BenchmarkReporter* inner) : inner_(inner) {}
  bool ReportContext(const Context& context) override {
    inner_->SetOutputStream(&GetOutputStream());
    inner_->SetErrorStream(&GetErrorStream());
    return inner_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      std::string name = r.benchmark_name();
      if (const auto p = name.rfind("/manual_time"); p != std::string::npos) name.erase(p);
      auto& rep = g_rows[name].reps[r.repetition_index];
      for (const auto& [k, v] : r.counters) rep[k] = v.value;
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override { inner_->Finalize(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
};

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::vector<double> column(const Row& r, const std::string& k) {
  std::vector<double> v;
  for (const auto& [i, rep] : r.reps) {
    if (auto it = rep.find(k); it != rep.end()) v.push_back(it->second);
  }
  return v;
}

void print_summary() {
  if (g_max_workers < 2) {
    std::fprintf(stderr, "spread_bench: one CPU only: no scaling measured\n");
    return;
  }
  const unsigned w = g_max_workers;
  std::fprintf(stderr, "spread_bench: per-core packets/s with %u workers / with 1 (paired by repetition; target >= 0.9), "
               "and the owner's serial cycles per packet (TSC)\n", w);
  for (const char* d : {"encrypt", "decrypt"}) {
    for (const char* sz : {"64", "1420"}) {
      const std::string base = std::string(d) + "/" + sz + "/workers:";
      const auto one = g_rows.find(base + "1"), many = g_rows.find(base + std::to_string(w));
      if (one == g_rows.end() || many == g_rows.end()) continue;
      std::vector<double> ratios;
      for (const auto& [i, rep] : many->second.reps) {
        const auto o = one->second.reps.find(i);
        if (o == one->second.reps.end()) continue;
        ratios.push_back(rep.at("per_core_pps") / o->second.at("per_core_pps"));
      }
      if (ratios.empty()) continue;
      const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
      const Row& m = many->second;
      std::fprintf(stderr,
                   "  %s %4s B: 1 worker %.2f Mpps, %u workers %.2f Mpps (%.2f per core): ratio %.3f (%.3f-%.3f, %zu "
                   "pairs)\n",
                   d, sz, median(column(one->second, "pps")) / 1e6, w, median(column(m, "pps")) / 1e6,
                   median(column(m, "per_core_pps")) / 1e6, median(ratios), *lo, *hi, ratios.size());
      const double path = median(column(m, "path_cycles_per_packet"));
      const double all = median(column(m, "serial_total_cycles_per_packet"));
      std::fprintf(stderr,
                   "           serial S = %.1f cycles/packet (feed %.1f, dispatch %.1f, reorder %.1f, tx %.1f), "
                   "path P = %.1f: bound min(n, P/S) at 8/16/32 workers: %.1f / %.1f / %.1f\n",
                   median(column(m, "serial_cycles_per_packet")), median(column(m, "feed_cycles_per_packet")),
                   median(column(m, "dispatch_cycles_per_packet")), median(column(m, "reorder_cycles_per_packet")),
                   median(column(m, "tx_cycles_per_packet")), path, median(column(m, "amdahl_8")),
                   median(column(m, "amdahl_16")), median(column(m, "amdahl_32")));
      std::fprintf(stderr,
                   "           with the window scan in finish_slices (%.1f) and the poll loop (%.1f): %.1f cycles/packet "
                   "the owner alone does, P / that = %.1f\n",
                   median(column(m, "scan_cycles_per_packet")), median(column(m, "owner_poll_cycles_per_packet")), all,
                   all > 0 ? path / all : NAN);
      std::fprintf(stderr,
                   "           core-to-core line latency %.0f cycles; owner idle %.1f %%, helpers busy %.1f %%, %.1f %% of packets on a helper (%.1f "
                   "cycles/packet there, owner %.1f outside S); per burst: %.2f slices, %.2f reclaimed, %.2f "
                   "refused, %.2f window full\n",
                   median(column(m, "c2c_cycles")), 100 * median(column(m, "owner_idle_share")), 100 * median(column(m, "helper_busy_share")),
                   100 * median(column(m, "helper_packets_share")), median(column(m, "helper_cycles_per_packet")),
                   median(column(m, "owner_work_cycles_per_packet")), median(column(m, "slices_per_burst")),
                   median(column(m, "reclaimed_per_burst")), median(column(m, "refused_per_burst")),
                   median(column(m, "window_full_per_burst")));
    }
  }
}

// ---- command line ----

// Removes --lcores=... and --bursts=N from argv; the default lcores are the CPUs of the affinity mask (so that
// `taskset -c 0,1` is honoured), at most kMaxWorkers.
std::string take_options(int& argc, char** argv, std::uint32_t& bursts, bool& diagnose) {
  std::string lcores;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    unsigned n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < dp::kMaxWorkers; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) {
        lcores += (n++ ? "," : "") + std::to_string(cpu);
      }
    }
  }
  if (lcores.empty()) lcores = "0";
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--lcores=")) {
      lcores = std::string(a.substr(9));
    } else if (a == "--feed=nt") {
      g_feed_prebuilt = false;
      g_feed_nt = true;
    } else if (a == "--feed=copy") {
      g_feed_prebuilt = g_feed_nt = false;
    } else if (a == "--feed=prebuilt") {
      g_feed_prebuilt = g_feed_nt = true;
    } else if (a == "--diagnose") {
      diagnose = true;
    } else if (a == "--keep-preempted") {
      g_keep_preempted = true;
    } else if (a.starts_with("--bursts=")) {
      bursts = static_cast<std::uint32_t>(std::strtoul(argv[i] + 9, nullptr, 10));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return lcores;
}

}  // namespace
}  // namespace wg::perf

int main(int argc, char** argv) {
  using namespace wg;
  std::uint32_t bursts = 0;
  bool diagnose = false;
  std::string lcores = perf::take_options(argc, argv, bursts, diagnose);
  // Default: 5 repetitions interleaved at random (the ratio is what is measured; a drift of the machine then
  // falls on both configurations alike). perf/lib/microbench.sh passes its own.
  std::vector<char*> args(argv, argv + argc);
  bool reps = false;
  for (int i = 1; i < argc; ++i) reps |= std::string_view(argv[i]).starts_with("--benchmark_repetitions");
  static char kReps[] = "--benchmark_repetitions=5", kInterleave[] = "--benchmark_enable_random_interleaving=true";
  if (!reps) {
    args.push_back(kReps);
    args.push_back(kInterleave);
  }
  int nargs = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&nargs, args.data());
  if (benchmark::ReportUnrecognizedArguments(nargs, args.data())) return 1;

  perf::FixtureOptions opts;
  opts.name = "spread_bench";
  opts.lcores = lcores;
  opts.workers = static_cast<unsigned>(std::count(lcores.begin(), lcores.end(), ',') + 1);
  if (perf::g_feed_prebuilt) opts.pool_mbufs = (bursts ? bursts : 2048) * dp::kBurst + 4096;  // a whole run
  if (auto st = perf::start_fixture(opts); !st.ok()) {
    std::fprintf(stderr, "spread_bench: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  perf::g_max_workers = opts.workers;
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) perf::g_helper_lcores.push_back(lc);
  if (perf::g_helper_lcores.size() + 1 != opts.workers) {
    std::fprintf(stderr, "spread_bench: %zu worker lcores for %u workers\n", perf::g_helper_lcores.size(), opts.workers);
    return 1;
  }
  if (perf::g_gw->engines.count("auto") == 0) {
    std::fprintf(stderr, "spread_bench: engine auto unavailable\n");
    return 1;
  }
  static const rte_mbuf_dynfield kNum = {"wggate_spread_bench_num", sizeof(std::uint64_t), alignof(std::uint64_t), 0};
  perf::g_num_offset = rte_mbuf_dynfield_register(&kNum);
  if (perf::g_num_offset < 0) {
    std::fprintf(stderr, "spread_bench: cannot register the mbuf dynfield\n");
    return 1;
  }
  for (std::uint16_t port : {perf::g_gw->gw.inside_port, perf::g_gw->gw.outside_port}) {
    if (rte_eth_add_tx_callback(port, 0, perf::check_order, &perf::g_order) == nullptr) {
      std::fprintf(stderr, "spread_bench: cannot add the TX callback (RTE_ETHDEV_RXTX_CALLBACKS?)\n");
      return 1;
    }
  }
  std::fprintf(stderr, "spread_bench: %u worker(s) on lcores %s, engine auto: %s (workers 1..: %s), tsc %llu Hz\n",
               opts.workers, lcores.c_str(), std::string(perf::g_gw->engines.at("auto")->description()).c_str(),
               perf::g_gw->extra_engines.empty() ? "-"
                                                 : std::string(perf::g_gw->extra_engines[0]->description()).c_str(),
               static_cast<unsigned long long>(perf::g_tsc_hz));
  if (opts.workers < 2) std::fprintf(stderr, "spread_bench: one CPU: only the 1-worker benchmarks run\n");

  std::vector<std::unique_ptr<perf::Templates>> templates;
  for (dp::Direction d : {dp::Direction::kEncrypt, dp::Direction::kDecrypt}) {
    for (std::uint16_t size : {64, 1420}) {
      const std::uint32_t m = bursts            ? bursts
                              : perf::g_feed_prebuilt ? (size == 64 ? 2048 : 512)
                                                      : (size == 64 ? 4096 : 1024);
      templates.push_back(perf::make_templates(d, size, m));
      const perf::Templates* t = templates.back().get();
      const std::string base = std::string(perf::dir_name(d)) + "/" + std::to_string(size) + "/";
      std::vector<unsigned> configs = {1};
      if (opts.workers > 1) configs.push_back(opts.workers);
      for (unsigned w : configs) {
        benchmark::RegisterBenchmark((base + "workers:" + std::to_string(w)).c_str(),
                                     [t, w](benchmark::State& st) { perf::bench(st, t, w, true); })
            ->UseManualTime();
      }
      if (diagnose && opts.workers > 1) {
        benchmark::RegisterBenchmark((base + "no_helper").c_str(), [t](benchmark::State& st) {
          perf::bench(st, t, 2, false);
        })->UseManualTime();
      }
    }
  }

  perf::Collector collector(benchmark::CreateDefaultDisplayReporter());
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  perf::print_summary();
  templates.clear();
  perf::stop_fixture();
  return perf::any_failed() ? 1 : 0;
}
