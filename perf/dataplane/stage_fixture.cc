#include "perf/dataplane/stage_fixture.h"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "dataplane/port.h"
#include "lib/crypto/aead.h"
#include "lib/crypto/x25519.h"
#include "lib/net/inet.h"
#include "lib/protocol/transport.h"

namespace wg::perf {

std::unique_ptr<Gateway> g_gw;
std::uint64_t g_tsc_hz = 0;

namespace {

bool g_failed = false;
rte_mempool* g_pool = nullptr;
std::uint16_t g_inside = 0, g_outside = 0;

net::IpAddress v4(const char* s) { return *net::IpAddress::parse(s); }

absl::Status make_gateway(std::uint16_t inside, std::uint16_t outside, const FixtureOptions& opts) {
  auto owner = dp::create_tables(opts.workers, 0, "bench");
  if (!owner.ok()) return owner.status();
  g_gw = std::make_unique<Gateway>();
  Gateway& g = *g_gw;
  g.owner = std::move(*owner);
  g.gw.inside_port = inside;
  g.gw.outside_port = outside;
  g.gw.outside_v4 = v4("172.31.61.1");
  g.gw.has_outside_v4 = true;
  g.gw.inside_addrs[0] = v4("10.61.0.1");
  g.gw.inside_addr_count = 1;
  g.gw.mtu = kMtu;
  dp::Tables& t = *g.owner->tables;
  if (rte_lpm_add(t.allowed_v4.load(), ntohl(v4("10.62.0.0").v4_be()), 24, 0) != 0) {
    return absl::InternalError("rte_lpm_add failed");
  }
  g.route.endpoint = *net::Endpoint::parse("172.31.61.2:51820");
  t.peers[0].route.store(&g.route);
  crypto::random_bytes(g.ours.sending.span());
  crypto::random_bytes(g.ours.receiving.span());
  g.theirs.sending = g.ours.receiving;
  g.theirs.receiving = g.ours.sending;
  g.ours.local_index = 0x1234;
  g.ours.remote_index = 0x5678;
  g.theirs.local_index = 0x5678;
  g.theirs.remote_index = 0x1234;
  t.by_index[t.index_slot(g.ours.local_index)].store(&g.ours);
  t.peers[0].send_keypair.store(&g.ours);
  const auto key = dp::neighbor_key(v4("10.61.0.2"));
  rte_hash_add_key_data(t.inside_neighbors, key.data(), reinterpret_cast<void*>(std::uintptr_t{0x020000000002}));
  g.ctx = dp::WorkerContext{0, &g.gw, &t, nullptr, &(*g.owner->workers)[0], &g.stop};
  if (opts.workers > 1) {
    auto spread = dp::create_spread(opts.workers, true, static_cast<int>(rte_socket_id()), "bench");
    if (!spread.ok()) return spread.status();
    g.spread = std::move(*spread);
    t.spread = g.spread.get();
    g.ctx.spread = g.spread.get();
    for (std::uint32_t w = 1; w < opts.workers; ++w) {
      auto e = crypto::make_engine(opts.extra_engine);
      if (!e.ok()) return e.status();
      g.extra_engines.push_back(std::move(*e));
      g.extra_workers.push_back(dp::WorkerContext{w, &g.gw, &t, g.extra_engines.back().get(),
                                                  &(*g.owner->workers)[w], &g.stop, -1, g.spread.get()});
    }
  }
  return absl::OkStatus();
}

// An Ethernet frame with an ICMP echo of `inner_len` IP bytes: inside host 10.61.0.2 to the peer's
// 10.62.0.1 (to_peer), or the peer's answer the other way (its source must be within the peer's AllowedIPs).
std::vector<std::uint8_t> echo_frame(std::uint16_t inner_len, bool to_peer) {
  std::vector<std::uint8_t> f(kEthLen + inner_len);
  const std::vector<std::uint8_t> payload(inner_len - 28u, 'x');
  const std::uint32_t inside = v4("10.61.0.2").v4_be(), peer = v4("10.62.0.1").v4_be();
  net::build_icmp_echo(std::span(f).subspan(kEthLen), to_peer ? inside : peer, to_peer ? peer : inside,
                       to_peer ? net::kIcmpEchoRequest : net::kIcmpEchoReply, 1, 1, payload);
  f[12] = 0x08;  // IPv4
  return f;
}

}  // namespace

Frames make_frames(const std::string& name, const std::vector<std::uint16_t>& lens) {
  Gateway& g = *g_gw;
  Frames fr;
  fr.name = name;
  fr.lens = lens;
  for (std::size_t i = 0; i < kBurst; ++i) {
    fr.bytes += lens[i];
    fr.plain.push_back(echo_frame(lens[i], true));
    const std::span<const std::uint8_t> inner(fr.plain.back().data() + kEthLen, lens[i]);
    const std::size_t padded = noise::padded_length(lens[i], kMtu);
    std::vector<std::uint8_t> s(kOuterHead + kWgHead + padded + noise::kTagLen, 0);
    dp::write_outer_headers(s.data(), g.gw.outside_mac, g.route.next_hop_mac, g.gw.outside_v4, g.route.endpoint,
                            kListenPort, static_cast<std::uint16_t>(kWgHead + padded + noise::kTagLen));
    noise::put_type(s.data() + kOuterHead, noise::MessageType::kTransport);
    noise::store_le32(s.data() + kOuterHead + 4, g.ours.remote_index);
    std::memcpy(s.data() + kOuterHead + kWgHead, inner.data(), inner.size());
    fr.shaped.push_back(std::move(s));
  }
  // Counters rise through a refill's worth of bursts; the gateway's replay window is reset before each refill.
  for (std::size_t i = 0; i < kBurstsPerRefill * kBurst; ++i) {
    const std::vector<std::uint8_t> p = echo_frame(lens[i % kBurst], false);
    std::vector<std::uint8_t> f(kOuterHead + noise::transport_size(p.size() - kEthLen, kMtu));
    std::size_t n = 0;
    if (noise::encrypt_transport(g.theirs, {p.data() + kEthLen, p.size() - kEthLen}, kMtu,
                                 std::span(f).subspan(kOuterHead), n) != noise::TransportResult::kOk) {
      std::fprintf(stderr, "stages_bench: reference encryption failed\n");
      std::abort();
    }
    dp::write_outer_headers(f.data(), g.route.next_hop_mac, g.gw.outside_mac, v4("172.31.61.2"),
                            *net::Endpoint::parse("172.31.61.1:51820"), kListenPort, static_cast<std::uint16_t>(n));
    if (i < kBurst) {
      std::vector<std::uint8_t> o = f;
      std::uint8_t* c = o.data() + kOuterHead + kWgHead;
      const std::size_t clen = n - kWgHead;
      std::vector<std::uint8_t> plain(clen - noise::kTagLen);
      if (!crypto::open(plain, g.ours.receiving, noise::load_le64(o.data() + kOuterHead + 8), {c, clen}, {})) {
        std::fprintf(stderr, "stages_bench: reference decryption failed\n");
        std::abort();
      }
      std::memcpy(c, plain.data(), plain.size());
      fr.opened.push_back(std::move(o));
    }
    fr.wire.push_back(std::move(f));
  }
  return fr;
}

namespace {

const std::vector<std::vector<std::uint8_t>>& templates(const Frames& fr, Input in) {
  switch (in) {
    case Input::kShaped: return fr.shaped;
    case Input::kWire: return fr.wire;
    case Input::kOpened: return fr.opened;
    default: return fr.plain;
  }
}

bool fill(std::span<rte_mbuf*> burst, const std::vector<std::vector<std::uint8_t>>& tpl, std::size_t first) {
  if (rte_pktmbuf_alloc_bulk(g_pool, burst.data(), static_cast<unsigned>(burst.size())) != 0) return false;
  for (std::size_t i = 0; i < burst.size(); ++i) {
    const auto& t = tpl[(first + i) % tpl.size()];
    std::memcpy(rte_pktmbuf_append(burst[i], static_cast<std::uint16_t>(t.size())), t.data(), t.size());
  }
  return true;
}

// A short version of aead_batch_bench's cross-check, on one IMIX burst: an engine whose output differs from
// the one-packet reference, or whose open() does not restore it, is not measured here.
bool agrees_with_reference(crypto::AeadBatchEngine& engine) {
  crypto::Key key;
  crypto::random_bytes(key.span());
  std::vector<std::vector<std::uint8_t>> plain(kBurst), ref(kBurst), buf(kBurst);
  crypto::AeadJob jobs[kBurst];
  for (std::size_t i = 0; i < kBurst; ++i) {
    const std::uint32_t len = kImixCycle[i % 12];
    plain[i].resize(len);
    for (std::size_t j = 0; j < len; ++j) plain[i][j] = static_cast<std::uint8_t>(j * 7 + i);
    ref[i].resize(len + crypto::kTagSize);
    crypto::seal(ref[i], key, 100 + i, plain[i], {});
    buf[i] = plain[i];
    buf[i].resize(len + crypto::kTagSize);
    jobs[i] = {key.data(), 100 + i, buf[i].data(), len, buf[i].data() + len, false};
  }
  if (engine.seal(jobs) != 0 || buf != ref) return false;
  if (engine.open(jobs) != 0) return false;
  for (std::size_t i = 0; i < kBurst; ++i) {
    if (!std::equal(plain[i].begin(), plain[i].end(), buf[i].begin())) return false;
  }
  return true;
}

}  // namespace

void run_stage(benchmark::State& state, const Frames& fr, const Stage& st) {
  using Burst = std::array<rte_mbuf*, kBurst>;
  std::array<Burst, kBurstsPerRefill> bursts{};
  std::array<bool, kBurstsPerRefill> held{};  // mbufs of this slot still belong to us
  const auto& tpl = templates(fr, st.input);
  const unsigned in_use_before = rte_mempool_in_use_count(g_pool);  // every mbuf must come back
  std::size_t next = kBurstsPerRefill;
  bool filled_once = false;
  std::uint64_t cycles = 0, packets = 0;
  // Per-burst cycles, for a median that a preemption inside a timed call (a busy VM) does not move.
  std::vector<std::uint64_t> samples;
  samples.reserve(1 << 16);
  auto release = [&] {
    for (std::size_t b = 0; b < kBurstsPerRefill; ++b) {
      if (held[b]) rte_pktmbuf_free_bulk(bursts[b].data(), kBurst);
      held[b] = false;
    }
  };
  for (auto _ : state) {
    if (next == kBurstsPerRefill) {
      next = 0;
      if (st.input != Input::kNone && (st.mutates || st.consumes || !filled_once)) {
        release();
        if (st.input == Input::kWire) g_gw->ours.replay.reset();  // the templates' counters start again
        bool filled = true;
        for (std::size_t b = 0; b < kBurstsPerRefill && filled; ++b) {
          filled = fill(bursts[b], tpl, b * kBurst);
          held[b] = filled;
          if (filled && st.prepare) st.prepare(b, bursts[b]);
        }
        if (!filled) {
          fail(state, "mbuf pool exhausted");
          break;
        }
        filled_once = true;
      }
    }
    const std::size_t b = next++;
    const std::uint64_t t0 = rte_rdtsc_precise();
    const bool ok = st.work(b, bursts[b]);
    const std::uint64_t t1 = rte_rdtsc_precise();
    if (st.consumes) held[b] = false;
    cycles += t1 - t0;
    packets += kBurst;
    if (samples.size() < (1u << 20)) samples.push_back(t1 - t0);
    state.SetIterationTime(static_cast<double>(t1 - t0) / static_cast<double>(g_tsc_hz));
    if (!ok) {
      fail(state, "a stage produced a wrong result (see the benchmark's code)");
      break;
    }
  }
  release();
  if (rte_mempool_in_use_count(g_pool) != in_use_before) fail(state, "mbufs leaked");
  state.counters["cycles_per_packet"] =
      benchmark::Counter(packets == 0 ? 0.0 : static_cast<double>(cycles) / static_cast<double>(packets));
  if (!samples.empty()) {
    auto mid = samples.begin() + static_cast<std::ptrdiff_t>(samples.size() / 2);
    std::nth_element(samples.begin(), mid, samples.end());
    state.counters["cycles_per_packet_median"] = benchmark::Counter(static_cast<double>(*mid) / kBurst);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(packets));
  state.SetBytesProcessed(static_cast<std::int64_t>(packets / kBurst * fr.bytes));
  state.SetLabel("tsc_hz=" + std::to_string(g_tsc_hz));
}

void fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}
bool any_failed() { return g_failed; }

std::uint64_t drops(const dp::WorkerCounters& c) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(dp::Counter::kCount); ++i) {
    if (std::string_view(dp::kCounterNames[i]).starts_with("drop_")) n += c.values[i];
  }
  return n;
}


absl::Status start_fixture(const std::string& lcore) {
  FixtureOptions opts;
  opts.lcores = lcore;
  return start_fixture(opts);
}

rte_mempool* fixture_pool() { return g_pool; }

absl::Status start_fixture(const FixtureOptions& opts) {
  if (opts.workers < 1 || opts.workers > dp::kMaxWorkers) return absl::InvalidArgumentError("workers: 1..16");
  const std::string prefix = "--file-prefix=" + opts.name + "_" + std::to_string(getpid());
  const char* eal_argv[] = {opts.name.c_str(), "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
                            "-l", opts.lcores.c_str(), "--log-level=lib.eal:error", prefix.c_str(),
                            "--vdev=net_null0", "--vdev=net_null1"};
  if (rte_eal_init(static_cast<int>(std::size(eal_argv)), const_cast<char**>(eal_argv)) < 0) {
    return absl::InternalError(std::string("EAL init failed: ") + rte_strerror(rte_errno));
  }
  g_tsc_hz = rte_get_tsc_hz();
  auto pool = dp::create_mempool(opts.pool_mbufs, static_cast<int>(rte_socket_id()));
  if (!pool.ok()) return pool.status();
  g_pool = *pool;
  auto inside = dp::find_port("net_null0");
  auto outside = dp::find_port("net_null1");
  if (!inside.ok()) return inside.status();
  if (!outside.ok()) return outside.status();
  g_inside = *inside;
  g_outside = *outside;
  for (std::uint16_t p : {g_inside, g_outside}) {
    if (auto mac = dp::start_port({p, static_cast<std::uint16_t>(opts.workers), 1500}, g_pool); !mac.ok()) {
      return mac.status();
    }
  }
  if (auto st = make_gateway(g_inside, g_outside, opts); !st.ok()) return st;
  for (const char* name : {"ipsec-mb", "sodium", "simd", "avx512", "auto"}) {
    auto e = crypto::make_engine(name);
    if (e.ok() && !agrees_with_reference(**e)) {
      std::fprintf(stderr, "%s: engine %s disagrees with the reference AEAD: not measured\n", opts.name.c_str(),
                   name);
      g_failed = true;
    } else if (e.ok()) {
      g_gw->engines[name] = std::move(*e);
    } else {
      std::fprintf(stderr, "%s: engine %s unavailable: %s\n", opts.name.c_str(), name,
                   std::string(e.status().message()).c_str());
    }
  }
  return absl::OkStatus();
}

void stop_fixture() {
  for (std::uint16_t p : {g_inside, g_outside}) dp::stop_port(p);
  g_gw.reset();
  rte_mempool_free(g_pool);
  rte_eal_cleanup();
}

}  // namespace wg::perf
