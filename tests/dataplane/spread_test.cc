// Spreading one peer's bursts over several workers (dataplane/spread.h), in one process: four WorkerContexts
// share one gateway's tables; worker 0 receives every burst (the owner), workers 1-3 run on their own threads
// serving their work rings. net_ring vdevs loop the owner's TX queue back, so what leaves can be read in the
// order it left, decrypted (or compared) with the reference transport code, and checked packet by packet:
// nothing lost, nothing twice, nothing reordered, whatever thread did the crypto; and the owner never waits on
// a helper that does not run.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "dataplane/packet.h"
#include "dataplane/port.h"
#include "dataplane/spread.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"
#include "lib/crypto/aead_batch.h"
#include "lib/crypto/x25519.h"
#include "lib/net/inet.h"
#include "lib/protocol/messages.h"
#include "lib/protocol/transport.h"

// Sanitizers slow every packet by an order of magnitude: the streams are shorter there.
#if defined(__SANITIZE_ADDRESS__)
#define WG_SPREAD_TEST_SANITIZED 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WG_SPREAD_TEST_SANITIZED 1
#endif
#endif

namespace wg::dp {
namespace {

#ifdef WG_SPREAD_TEST_SANITIZED
constexpr std::uint32_t kBursts = 60;
#else
constexpr std::uint32_t kBursts = 200;
#endif

rte_mempool* g_pool = nullptr;
std::uint16_t g_inside = 0, g_outside = 0;

class DpdkEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* argv[] = {"spread_test", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0",
                          "--log-level=lib.eal:error", "--file-prefix=spread_test",
                          "--vdev=net_ring0", "--vdev=net_ring1"};
    ASSERT_GE(rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)), 0);
    auto pool = create_mempool(8191, static_cast<int>(rte_socket_id()));
    ASSERT_TRUE(pool.ok());
    g_pool = *pool;
    g_inside = *find_port("net_ring0");
    g_outside = *find_port("net_ring1");
    for (std::uint16_t p : {g_inside, g_outside}) ASSERT_TRUE(start_port({p, 1, 1500}, g_pool).ok());
  }
};
const auto* const g_env = ::testing::AddGlobalTestEnvironment(new DpdkEnv);

constexpr unsigned kWorkers = 4;
constexpr rte_ether_addr kInsideMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr rte_ether_addr kHostMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::uintptr_t kHostMacWord = 0x020000000002;

net::IpAddress v4(const char* s) { return *net::IpAddress::parse(s); }

// One gateway with kWorkers workers and spreading on; the helpers' threads start with start_helpers().
struct Fleet {
  std::unique_ptr<TablesOwner> owner;
  std::unique_ptr<Spread> spread;
  GatewayInfo gw;
  std::vector<std::unique_ptr<crypto::AeadBatchEngine>> engines;
  std::atomic<bool> stop{false};
  std::vector<WorkerContext> ctxs;
  PeerRoute route;
  noise::Keypair ours, theirs;
  std::atomic<bool> helpers_stop{false};
  std::vector<std::thread> helpers;

  explicit Fleet(const char* tag) {
    owner = std::move(*create_tables(kWorkers, 0, tag));
    spread = std::move(*create_spread(kWorkers, true, 0, tag));
    gw.inside_port = g_inside;
    gw.inside_mac = kInsideMac;
    gw.outside_port = g_outside;
    gw.outside_v4 = v4("172.31.61.1");
    gw.has_outside_v4 = true;
    Tables& t = *owner->tables;
    rte_lpm_add(t.allowed_v4.load(), ntohl(v4("10.62.0.0").v4_be()), 24, 0);
    route.endpoint = *net::Endpoint::parse("172.31.61.2:51820");
    t.peers[0].route.store(&route);
    crypto::random_bytes(ours.sending.span());
    crypto::random_bytes(ours.receiving.span());
    theirs.sending = ours.receiving;
    theirs.receiving = ours.sending;
    ours.local_index = 0x1234;
    ours.remote_index = 0x5678;
    theirs.local_index = 0x5678;
    theirs.remote_index = 0x1234;
    t.by_index[t.index_slot(ours.local_index)].store(&ours);
    t.peers[0].send_keypair.store(&ours);
    const auto key = neighbor_key(v4("10.61.0.2"));
    rte_hash_add_key_data(t.inside_neighbors, key.data(), reinterpret_cast<void*>(kHostMacWord));
    for (unsigned w = 0; w < kWorkers; ++w) {
      engines.push_back(std::move(*crypto::make_engine("auto")));
      ctxs.push_back(WorkerContext{w, &gw, &t, engines.back().get(), &(*owner->workers)[w], &stop, -1, spread.get()});
    }
  }
  ~Fleet() { stop_helpers(); }

  void start_helpers() {
    helpers_stop = false;
    for (unsigned w = 1; w < kWorkers; ++w) {
      helpers.emplace_back([this, w] {
        while (!helpers_stop.load(std::memory_order_relaxed)) {
          note_poll(*spread, w, rte_rdtsc());
          if (!serve_slices(ctxs[w])) std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
      });
    }
  }
  void stop_helpers() {
    helpers_stop = true;
    for (std::thread& t : helpers) t.join();
    helpers.clear();
  }
  // Processes what is queued for the (stopped) helpers, as they would: their rings may hold stale pointers.
  void serve_as_helpers() {
    for (unsigned w = 1; w < kWorkers; ++w) {
      while (rte_ring_count(spread->lanes[w].work) > 0) serve_slices(ctxs[w]);
    }
  }
  std::uint64_t sum(Counter c) const { return owner->tables->sum_counter(c); }
  std::uint64_t count(unsigned w, Counter c) const { return (*owner->workers)[w].counters.get(c); }
  const SpreadStats& spread_stats(unsigned w) const { return (*owner->workers)[w].stats.spread; }
  std::uint64_t drops() const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(Counter::kCount); ++i) {
      if (std::strncmp(kCounterNames[i], "drop_", 5) == 0) n += owner->tables->sum_counter(static_cast<Counter>(i));
    }
    return n;
  }
};

// An ICMP echo 10.61.0.2 -> 10.62.0.1 from the inside host to the gateway's MAC, numbered `seq` (its ident and
// sequence fields), with `payload_len` bytes of payload.
std::vector<std::uint8_t> numbered_echo(std::uint32_t seq, std::size_t payload_len, const char* src = "10.61.0.2",
                                        const char* dst = "10.62.0.1") {
  std::vector<std::uint8_t> f(kEthLen + 28 + payload_len);
  std::vector<std::uint8_t> payload(payload_len, static_cast<std::uint8_t>(seq));
  net::build_icmp_echo(std::span(f).subspan(kEthLen), v4(src).v4_be(), v4(dst).v4_be(), net::kIcmpEchoRequest,
                       static_cast<std::uint16_t>(seq >> 16), static_cast<std::uint16_t>(seq), payload);
  std::memcpy(f.data(), kInsideMac.addr_bytes, 6);
  std::memcpy(f.data() + 6, kHostMac.addr_bytes, 6);
  f[12] = 0x08;
  return f;
}

// The echo's number, from an IP packet; -1 when it is not one of ours.
std::int64_t number_of(std::span<const std::uint8_t> ip) {
  net::IcmpEcho e{};
  if (!net::parse_icmp_echo(ip, e)) return -1;
  return static_cast<std::int64_t>(std::uint32_t{e.ident} << 16 | e.seq);
}

rte_mbuf* mbuf_of(std::span<const std::uint8_t> bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size())), bytes.data(), bytes.size());
  return m;
}

// `count` numbered echoes with `payload_len` bytes of payload, numbered from `seq` on (which it advances).
std::vector<rte_mbuf*> numbered_burst(std::uint32_t& seq, std::uint32_t count, std::size_t payload_len) {
  std::vector<rte_mbuf*> burst;
  for (std::uint32_t i = 0; i < count; ++i) burst.push_back(mbuf_of(numbered_echo(seq++, payload_len)));
  return burst;
}

// A transport frame from the peer (the mirror keypair, reference code) to our outside address around `inner`.
std::vector<std::uint8_t> transport_frame(noise::Keypair& from, std::span<const std::uint8_t> inner) {
  std::vector<std::uint8_t> msg(noise::transport_size(inner.size(), 1420));
  std::size_t n = 0;
  EXPECT_EQ(noise::encrypt_transport(from, inner, 1420, msg, n), noise::TransportResult::kOk);
  const net::Endpoint dst = *net::Endpoint::parse("172.31.61.1:51820");
  std::vector<std::uint8_t> f(outer_header_len(4) + n);
  write_outer_headers(f.data(), rte_ether_addr{}, rte_ether_addr{}, v4("172.31.61.2"), dst, 51820,
                      static_cast<std::uint16_t>(n));
  std::memcpy(f.data() + outer_header_len(4), msg.data(), n);
  return f;
}

// What left on `port` so far, in order: the numbers of the echoes in it (decrypted with `theirs` for the
// outside port). Frees the mbufs.
void collect(Fleet& f, std::uint16_t port, std::vector<std::int64_t>& out) {
  rte_mbuf* pkts[kBurst];
  for (std::uint16_t n; (n = rte_eth_rx_burst(port, 0, pkts, kBurst)) > 0;) {
    for (std::uint16_t i = 0; i < n; ++i) {
      const auto* p = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
      if (port == g_outside) {
        const std::uint16_t hl = outer_header_len(4);
        std::vector<std::uint8_t> plain(2048);
        std::size_t len = 0;
        const auto r = noise::decrypt_transport(f.theirs, {p + hl, static_cast<std::size_t>(pkts[i]->data_len - hl)},
                                                plain, len);
        out.push_back(r == noise::TransportResult::kOk ? number_of({plain.data(), len}) : -2);
      } else {
        out.push_back(number_of({p + kEthLen, static_cast<std::size_t>(pkts[i]->data_len - kEthLen)}));
      }
      rte_pktmbuf_free(pkts[i]);
    }
  }
}

// Waits (bounded) until every slice in the owner's window is done: the helpers did them, since an owner that
// keeps receiving reclaims nothing while its window is at most half full.
void wait_for_helpers(Fleet& f) {
  const SpreadLane& lane = f.spread->lanes[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (std::uint64_t i = lane.head.load(); i < lane.tail.load(); ++i) {
    while (lane.window[i % kWindowSlots].state.load() != SliceState::kDone) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "a helper never finished its slice";
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
}

// The owner's side of poll_once for one received burst, as worker.cc does it: receive only while its window
// has room (else serve and finish until it has), spread or process, then the reorder stage. `patient`: the
// owner lets the helpers finish this burst's slices before its reorder stage (so they surely did some work).
void owner_receives(Fleet& f, Direction dir, std::vector<rte_mbuf*> burst, std::vector<std::int64_t>& out,
                    bool patient = false) {
  WorkerContext& c = f.ctxs[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!spread_can_receive(c)) {
    serve_slices(c);
    finish_slices(c);
    collect(f, dir == Direction::kEncrypt ? g_outside : g_inside, out);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the owner's window never drained";
  }
  spread_burst(c, dir, burst);
  if (patient && window_depth(f.spread->lanes[0]) <= kWindowSlots / 2) wait_for_helpers(f);
  finish_slices(c);
  collect(f, dir == Direction::kEncrypt ? g_outside : g_inside, out);
}

// Until the owner's window is empty (bounded), collecting what leaves.
void settle(Fleet& f, Direction dir, std::vector<std::int64_t>& out) {
  WorkerContext& c = f.ctxs[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (window_depth(f.spread->lanes[0]) != 0) {
    serve_slices(c);
    finish_slices(c);
    collect(f, dir == Direction::kEncrypt ? g_outside : g_inside, out);
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the owner's window never drained";
  }
  collect(f, dir == Direction::kEncrypt ? g_outside : g_inside, out);
}

void expect_all_in_order(const std::vector<std::int64_t>& got, std::int64_t n) {
  ASSERT_EQ(static_cast<std::int64_t>(got.size()), n) << "packets lost or duplicated";
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(got[static_cast<std::size_t>(i)], i) << "packet " << i << " out of order or not ours";
  }
}

// Full bursts of one flow in, 64..1400-byte packets: everything comes out encrypted, decryptable by the peer,
// in the order it came in, and every helper did part of the crypto.
TEST(Spread, EncryptKeepsOrderAcrossWorkers) {
  Fleet f("enc");
  f.start_helpers();
  std::vector<std::int64_t> got;
  std::uint32_t seq = 0;
  for (std::uint32_t b = 0; b < kBursts; ++b) {
    std::vector<rte_mbuf*> burst;
    for (std::uint16_t i = 0; i < kBurst; ++i, ++seq) burst.push_back(mbuf_of(numbered_echo(seq, 36 + (seq * 37) % 1356)));
    owner_receives(f, Direction::kEncrypt, burst, got, b % 2 == 0);  // every other burst: the helpers' for sure
  }
  settle(f, Direction::kEncrypt, got);
  f.stop_helpers();
  expect_all_in_order(got, seq);
  EXPECT_EQ(f.sum(Counter::encrypted_packets), seq);
  EXPECT_EQ(f.count(0, Counter::tx_outside_packets), seq);  // the owner sends everything, in order
  EXPECT_EQ(f.drops(), 0u);
  for (unsigned w = 1; w < kWorkers; ++w) {
    EXPECT_GT(f.count(w, Counter::encrypted_packets), seq / 20) << "helper " << w << " did too little";
    EXPECT_GT(f.spread_stats(w).helped, 0u);
  }
  EXPECT_GT(f.spread_stats(0).slices, 0u);
  EXPECT_EQ(f.ours.sending_counter.load(), seq);  // counters reserved per slice: each once
}

// Transport packets of one peer in: decrypted, replay-checked by several workers at once, out in order, no
// replay drop for counters that were authenticated out of order across slices.
TEST(Spread, DecryptKeepsOrderAcrossWorkers) {
  Fleet f("dec");
  f.start_helpers();
  std::vector<std::int64_t> got;
  std::uint32_t seq = 0;
  for (std::uint32_t b = 0; b < kBursts; ++b) {
    std::vector<rte_mbuf*> burst;
    for (std::uint16_t i = 0; i < kBurst; ++i, ++seq) {
      const auto inner = numbered_echo(seq, 36 + (seq * 37) % 1356, "10.62.0.1", "10.61.0.2");
      burst.push_back(mbuf_of(transport_frame(f.theirs, std::span(inner).subspan(kEthLen))));
    }
    owner_receives(f, Direction::kDecrypt, burst, got, b % 2 == 0);
  }
  settle(f, Direction::kDecrypt, got);
  f.stop_helpers();
  expect_all_in_order(got, seq);
  EXPECT_EQ(f.sum(Counter::decrypted_packets), seq);
  EXPECT_EQ(f.count(0, Counter::tx_inside_packets), seq);
  EXPECT_EQ(f.sum(Counter::drop_replay), 0u);
  EXPECT_EQ(f.drops(), 0u);
  for (unsigned w = 1; w < kWorkers; ++w) {
    EXPECT_GT(f.count(w, Counter::decrypted_packets), seq / 20) << "helper " << w << " did too little";
  }
  // Each counter was accepted once: the same frames again are all replays.
  std::vector<rte_mbuf*> again;
  for (std::uint32_t i = 0; i < kBurst; ++i) {
    noise::Keypair replayer;
    replayer.sending = f.theirs.sending;
    replayer.remote_index = f.theirs.remote_index;
    replayer.sending_counter = seq - kBurst + i;
    const auto inner = numbered_echo(i, 100, "10.62.0.1", "10.61.0.2");
    again.push_back(mbuf_of(transport_frame(replayer, std::span(inner).subspan(kEthLen))));
  }
  std::vector<std::int64_t> none;
  f.start_helpers();
  owner_receives(f, Direction::kDecrypt, again, none);
  settle(f, Direction::kDecrypt, none);
  f.stop_helpers();
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(f.sum(Counter::drop_replay), kBurst);
}

// A light flow (bursts with less than a slice's work, kMinSliceWork) is never cut: it stays on the owner and
// leaves at once, even when the owner's load says heavy; so does a burst of one packet, however large.
TEST(Spread, SmallBurstsStayOnTheOwner) {
  Fleet f("small");
  f.start_helpers();
  std::vector<std::int64_t> got;
  std::uint32_t seq = 0;
  for (int b = 0; b < 200; ++b) {
    std::vector<rte_mbuf*> burst;
    if (b % 2 == 1) {  // a single full-size packet
      burst.push_back(mbuf_of(numbered_echo(seq++, 1380)));
    } else {  // as many 64-byte packets as stay under a slice's work
      for (std::uint32_t work = 0;; ++seq) {
        rte_mbuf* m = mbuf_of(numbered_echo(seq, 64));
        if (work + kPacketWork + m->pkt_len >= kMinSliceWork) {
          rte_pktmbuf_free(m);
          break;
        }
        work += kPacketWork + m->pkt_len;
        burst.push_back(m);
      }
    }
    f.spread->lanes[0].load = 16 * 256;
    owner_receives(f, Direction::kEncrypt, burst, got);
    EXPECT_EQ(window_depth(f.spread->lanes[0]), 0u) << "a small burst waited in the window";
  }
  f.stop_helpers();
  expect_all_in_order(got, seq);
  EXPECT_EQ(f.spread_stats(0).slices, 0u);
  EXPECT_EQ(f.spread_stats(0).bursts_small, 200u);
  EXPECT_EQ(f.spread_stats(0).bursts_spread, 0u);
  for (unsigned w = 1; w < kWorkers; ++w) EXPECT_EQ(f.count(w, Counter::encrypted_packets), 0u);
}

// Few large packets are worth spreading: bursts of two or three 1380-byte packets of a loaded owner go to the
// helpers (one slice each), and still leave in order.
TEST(Spread, FewLargePacketsSpread) {
  Fleet f("large");
  f.start_helpers();
  std::vector<std::int64_t> got;
  std::uint32_t seq = 0;
  for (std::uint32_t b = 0; b < kBursts; ++b) {
    std::vector<rte_mbuf*> burst = numbered_burst(seq, 2 + b % 2, 1380);
    owner_receives(f, Direction::kEncrypt, burst, got, /*patient=*/true);
  }
  settle(f, Direction::kEncrypt, got);
  f.stop_helpers();
  expect_all_in_order(got, seq);
  EXPECT_GT(f.spread_stats(0).bursts_spread, kBursts / 2) << "the load never rose";
  EXPECT_GT(f.spread_stats(0).slices, 0u);
  for (unsigned w = 1; w < kWorkers; ++w) {
    EXPECT_GT(f.count(w, Counter::encrypted_packets), 0u) << "worker " << w << " did none of it";
  }
}

// Light bursts behind slices in flight wait in the window, processed; consecutive ones of one direction share
// a slot while its 32 outputs last (else TCP's acknowledgements, one or two per burst, would fill the window),
// and a change of direction takes a new one. Everything leaves in order once the helpers' slices are done.
TEST(Spread, LightBurstsBehindSlicesShareSlots) {
  Fleet f("parked");
  std::vector<std::int64_t> got;
  std::uint32_t seq = 0;
  f.spread->lanes[0].load = 16 * 256;
  std::vector<rte_mbuf*> burst = numbered_burst(seq, kBurst, 200);
  spread_burst(f.ctxs[0], Direction::kEncrypt, burst);  // helpers not running: its slices stay queued
  const std::uint64_t queued = window_depth(f.spread->lanes[0]);
  ASSERT_GT(queued, 0u);
  for (int b = 0; b < 24; ++b) {  // 48 packets in bursts of 2: two slots
    burst = numbered_burst(seq, 2, 64);
    spread_burst(f.ctxs[0], Direction::kEncrypt, burst);
  }
  EXPECT_EQ(window_depth(f.spread->lanes[0]), queued + 2);
  EXPECT_EQ(f.spread_stats(0).bursts_small, 24u);
  collect(f, g_outside, got);
  EXPECT_TRUE(got.empty()) << "a light burst overtook the slices before it";
  f.start_helpers();
  settle(f, Direction::kEncrypt, got);
  f.stop_helpers();
  expect_all_in_order(got, seq);
}

// Helpers that never run (descheduled, stuck): the owner's window fills, it stops receiving (counted) and takes
// its slices back one by one, so everything still leaves, in order. When the helpers come back, the stale
// pointers in their rings claim nothing twice.
TEST(Spread, OwnerReclaimsFromHelpersThatDoNotRun) {
  Fleet f("stuck");
  std::vector<std::int64_t> got;
  std::uint32_t seq = 0;
  for (int b = 0; b < 100; ++b) {
    std::vector<rte_mbuf*> burst = numbered_burst(seq, kBurst, 200);
    owner_receives(f, Direction::kEncrypt, burst, got);
  }
  settle(f, Direction::kEncrypt, got);
  expect_all_in_order(got, seq);
  EXPECT_GT(f.spread_stats(0).slices, 0u);
  EXPECT_EQ(f.spread_stats(0).reclaimed, f.spread_stats(0).slices) << "every queued slice came back to the owner";
  EXPECT_GT(f.spread_stats(0).window_full, 0u);
  f.serve_as_helpers();  // the stale pointers: nothing left to claim
  for (unsigned w = 1; w < kWorkers; ++w) EXPECT_EQ(f.count(w, Counter::encrypted_packets), 0u);
  EXPECT_EQ(f.sum(Counter::encrypted_packets), seq);
  EXPECT_EQ(f.ours.sending_counter.load(), seq);
}

// The owner leaves a queued slice to a helper that is not running for kReclaimAfterUs before taking it back
// (helpers on a shared CPU run only every few milliseconds), unless its window is full.
TEST(Spread, OwnerWaitsForItsHelpersBeforeReclaiming) {
  Fleet f("patient");
  std::vector<std::int64_t> got;
  std::uint32_t seq = 0;
  for (int b = 0; b < 8; ++b) {  // warm the owner's load up, helpers not running
    std::vector<rte_mbuf*> burst = numbered_burst(seq, kBurst, 100);
    owner_receives(f, Direction::kEncrypt, burst, got);
  }
  settle(f, Direction::kEncrypt, got);
  const std::uint64_t reclaimed = f.spread_stats(0).reclaimed;
  f.spread->lanes[0].load = 16 * 256;  // as after full bursts: the next one spreads
  std::vector<rte_mbuf*> burst = numbered_burst(seq, kBurst, 100);
  const auto t0 = std::chrono::steady_clock::now();
  spread_burst(f.ctxs[0], Direction::kEncrypt, burst);
  finish_slices(f.ctxs[0]);
  const auto took = std::chrono::steady_clock::now() - t0;
  if (took < std::chrono::microseconds(kReclaimAfterUs / 2)) {  // else this thread was preempted: no claim
    EXPECT_EQ(f.spread_stats(0).reclaimed, reclaimed) << "taken back before its helper had a chance";
    EXPECT_GT(window_depth(f.spread->lanes[0]), 0u);
  }
  settle(f, Direction::kEncrypt, got);  // helpers never come: the age rule takes them back
  EXPECT_GT(f.spread_stats(0).reclaimed, reclaimed);
  expect_all_in_order(got, seq);
}

// Both directions through one owner: each leaves on its own port in its own order.
TEST(Spread, BothDirectionsInterleaved) {
  Fleet f("both");
  f.start_helpers();
  std::vector<std::int64_t> out_enc, out_dec;
  std::uint32_t seq_enc = 0, seq_dec = 0;
  for (int b = 0; b < 300; ++b) {
    std::vector<rte_mbuf*> enc, dec;
    for (std::uint16_t i = 0; i < kBurst; ++i) {
      enc.push_back(mbuf_of(numbered_echo(seq_enc++, 64)));
      const auto inner = numbered_echo(seq_dec++, 64, "10.62.0.1", "10.61.0.2");
      dec.push_back(mbuf_of(transport_frame(f.theirs, std::span(inner).subspan(kEthLen))));
    }
    owner_receives(f, Direction::kEncrypt, enc, out_enc);
    owner_receives(f, Direction::kDecrypt, dec, out_dec);
    collect(f, g_outside, out_enc);
  }
  settle(f, Direction::kEncrypt, out_enc);
  collect(f, g_inside, out_dec);
  f.stop_helpers();
  expect_all_in_order(out_enc, seq_enc);
  expect_all_in_order(out_dec, seq_dec);
  EXPECT_EQ(f.drops(), 0u);
}

}  // namespace
}  // namespace wg::dp
