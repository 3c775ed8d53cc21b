// The dataplane's real burst paths without I/O (issue 5): dataplane/encrypt.cc encrypt_burst and
// dataplane/decrypt.cc decrypt_burst over pre-built bursts of 32 mbufs, and each of their stages timed alone
// over the same bursts, so the whole-path cost can be read as a sum of parts (and what is missing from the
// sum is per-packet bookkeeping between the stages).
//
// Setup (stage_fixture.h): an EAL in this process (--no-huge, no PCI) with two net_null vdevs as the inside
// and outside ports (their TX frees every mbuf at once: nothing blocks or leaks), one Tables with one peer
// (AllowedIPs 10.62.0.0/24, a route, a keypair whose mirror plays the remote peer) and a known inside
// neighbour, the way tests/dataplane/datapath_test.cc builds its gateway. Inner packets are IPv4 ICMP echoes
// 10.61.0.2 -> 10.62.0.1 (and the replies back); the outer underlay is IPv4. Decrypt input is encrypted by
// the mirror keypair with the reference transport code (lib/protocol/transport.h).
//
// Timing: every benchmark iteration is one burst of 32 packets; rte_rdtsc_precise() brackets the call alone
// and that is reported as the iteration's manual time. Bursts are rebuilt from byte templates a few at a
// time (kBurstsPerRefill, so they stay cache-warm as a just-received burst is) outside the measured time.
//
// Benchmark names (Google Benchmark appends "/manual_time" to every name of this binary):
//   encrypt/whole/<engine>/<size>     encrypt_burst: classify .. seal .. tx to net_null
//   encrypt/classify_lookup/<size>    Ethernet/IP parse, own-address checks, Tables::lookup (LPM), slot loads
//   encrypt/reserve_counters/<size>   runs of one keypair, Keypair::reserve_counters (one fetch_add a burst)
//   encrypt/encap/<size>              trim/pad/prepend, outer Ethernet/IPv4/UDP and WireGuard header, job fill
//   encrypt/seal/<engine>/<size>      AeadBatchEngine::seal alone on the shaped burst's payloads
//   encrypt/tx_null/<size>            send_burst to the net_null outside port (the PMD frees the mbufs)
//   decrypt/whole/<engine>/<size>     decrypt_burst: classify .. replay .. open .. L2 rewrite .. tx to net_null
//   decrypt/classify_index/<size>     outer Ethernet/IP/UDP checks, message class, receiver index -> keypair
//   decrypt/replay/<size>             ReplayWindow check before and update after authentication
//   decrypt/open/<engine>/<size>      AeadBatchEngine::open alone on the received payloads
//   decrypt/route_decap/<size>        activity/event checks, inner parse, cryptokey LPM, neighbour hash, L2 rewrite
//   decrypt/tx_null/<size>            send_burst to the net_null inside port
//   <engine>: simd, ipsec-mb, sodium; <size>: inner IP packet bytes 64, 512,
//   1420, or imix (7:4:1 of 64/576/1420, interleaved). Crypto payload = size padded to 16, at most the MTU.
// JSON fields (user counters are plain fields of each benchmark object): cycles_per_packet (the headline:
// TSC cycles per packet inside the timed calls, mean), cycles_per_packet_median (per-burst median / 32:
// robust to the preemptions of a busy machine, which the mean and the rates absorb), items_per_second
// (packets/s over the timed calls), bytes_per_second (inner bytes/s), label "tsc_hz=N". A whole-path
// benchmark whose packets did not all come out encrypted/decrypted and sent, or a stage whose output was
// wrong, reports error_occurred and error_message instead.
//
// Run: build-*/perf/dataplane/stages_bench [--lcore=N] [--benchmark_filter=encrypt/] [Google Benchmark flags]
//   --lcore=N pins the EAL's only lcore to CPU N (default: the first CPU of the affinity mask, so
//   `taskset -c N` works). Smoke run: --benchmark_min_time=0.01
// Exit status 1 when any benchmark reported an error (its JSON entry has error_occurred: true).
#include <benchmark/benchmark.h>
#include <rte_byteorder.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <sched.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/packet.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"
#include "lib/crypto/aead_batch.h"
#include "lib/protocol/messages.h"
#include "perf/dataplane/stage_fixture.h"

namespace wg::perf {
namespace {

// ---- encrypt side ----

// encrypt.cc's first loop up to the point where a packet is known to go to a peer (shaping excluded).
struct Routed {
  noise::Keypair* kp;
  const dp::PeerRoute* route;
  std::uint32_t peer;
  std::uint16_t inner_len;
};
bool classify_lookup(std::span<rte_mbuf*> burst, Routed* out) {
  const dp::GatewayInfo& gw = g_gw->gw;
  const dp::Tables& t = *g_gw->owner->tables;
  std::uint16_t n = 0;
  for (rte_mbuf* m : burst) {
    if (m->nb_segs != 1 || m->data_len < kEthLen) continue;
    const auto* frame = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const std::uint16_t type = rte_be_to_cpu_16(reinterpret_cast<const rte_ether_hdr*>(frame)->ether_type);
    if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_IPV6) continue;
    const dp::InnerIp ip = dp::parse_inner_ip(frame + kEthLen, m->data_len - kEthLen);
    if (ip.family == 0 || (ip.family == 4) != (type == RTE_ETHER_TYPE_IPV4)) continue;
    if (dp::is_inside_address(gw, ip.family, ip.dst) || (ip.family == 6 && ip.dst[0] == 0xff)) continue;
    if (ip.len > gw.mtu) continue;
    std::uint32_t peer = 0;
    if (!t.lookup(ip.family, ip.dst, peer) || peer >= t.peer_capacity) continue;
    const dp::PeerSlot& slot = t.peers[peer];
    noise::Keypair* kp = slot.send_keypair.load(std::memory_order_acquire);
    const dp::PeerRoute* route = slot.route.load(std::memory_order_acquire);
    if (kp == nullptr || route == nullptr) continue;
    out[n++] = {kp, route, peer, ip.len};
  }
  return n == burst.size();
}

void add_encrypt(const Frames& fr, const std::vector<std::string>& engines) {
  // Captured by pointer: the Frames and the Gateway outlive every benchmark run.
  const Frames* f = &fr;
  const std::string sz = "/" + fr.name;
  for (const std::string& e : engines) {
    benchmark::RegisterBenchmark(("encrypt/whole/" + e + sz).c_str(), [f, e](benchmark::State& state) {
      Gateway& g = *g_gw;
      g.ctx.engine = g.engines.at(e).get();
      const dp::WorkerCounters& c = g.ctx.shared->counters;
      const std::uint64_t enc0 = c.get(dp::Counter::encrypted_packets), tx0 = c.get(dp::Counter::tx_outside_packets);
      const std::uint64_t drop0 = drops(c);
      Stage st{Input::kPlain, true, true, {}, [&g](std::size_t, std::span<rte_mbuf*> b) {
                 dp::encrypt_burst(g.ctx, b);
                 return true;
               }};
      run_stage(state, *f, st);
      const std::uint64_t n = state.iterations() * kBurst;
      if (c.get(dp::Counter::encrypted_packets) - enc0 != n || c.get(dp::Counter::tx_outside_packets) - tx0 != n ||
          drops(c) != drop0) {
        fail(state, "encrypt_burst did not encrypt and send every packet");
      }
    })->UseManualTime();
  }
  benchmark::RegisterBenchmark(("encrypt/classify_lookup" + sz).c_str(), [f](benchmark::State& state) {
    Stage st{Input::kPlain, false, false, {}, [](std::size_t, std::span<rte_mbuf*> b) {
               Routed r[kBurst];
               const bool ok = classify_lookup(b, r);
               benchmark::DoNotOptimize(r);
               return ok;
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
  // encrypt.cc's reservation loop over a burst already routed to one peer (the common case: one run).
  benchmark::RegisterBenchmark(("encrypt/reserve_counters" + sz).c_str(), [f](benchmark::State& state) {
    Gateway& g = *g_gw;
    struct Slot {
      noise::Keypair* kp;
      std::uint64_t counter;
      bool ok;
    };
    Slot pend[kBurst];
    for (Slot& s : pend) s = {&g.ours, 0, false};
    Stage st{Input::kNone, false, false, {}, [&pend](std::size_t, std::span<rte_mbuf*>) {
               bool all = true;
               for (std::uint16_t i = 0; i < kBurst;) {
                 std::uint16_t j = i;
                 while (j < kBurst && pend[j].kp == pend[i].kp) ++j;
                 std::uint64_t first = 0;
                 const bool ok = pend[i].kp->reserve_counters(j - i, first);
                 for (std::uint16_t k = i; k < j; ++k) pend[k] = {pend[k].kp, first + (k - i), ok};
                 all = all && ok;
                 i = j;
               }
               benchmark::DoNotOptimize(pend);
               return all;
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
  // encrypt.cc's shaping and header writing (its loops 1, tail, and 3), for packets already routed.
  benchmark::RegisterBenchmark(("encrypt/encap" + sz).c_str(), [f](benchmark::State& state) {
    Gateway& g = *g_gw;
    std::uint64_t counter = 0;
    Stage st{Input::kPlain, false, true, {}, [&g, &counter](std::size_t, std::span<rte_mbuf*> b) {
               const dp::GatewayInfo& gw = g.gw;
               const dp::PeerRoute& route = g.route;
               crypto::AeadJob jobs[kBurst];
               for (std::size_t i = 0; i < b.size(); ++i) {
                 rte_mbuf* m = b[i];
                 const std::uint8_t* l3 = rte_pktmbuf_mtod(m, const std::uint8_t*) + kEthLen;
                 // Re-parsed (encrypt.cc has it from classification): a few cycles this stage counts in excess.
                 const dp::InnerIp ip = dp::parse_inner_ip(l3, m->data_len - kEthLen);
                 const auto padded = static_cast<std::uint16_t>(noise::padded_length(ip.len, gw.mtu));
                 const std::uint16_t head = dp::outer_header_len(4) + kWgHead - kEthLen;
                 const auto tail = static_cast<std::uint16_t>(padded - ip.len + noise::kTagLen);
                 rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - kEthLen - ip.len));
                 if (rte_pktmbuf_headroom(m) < head || rte_pktmbuf_tailroom(m) < tail) return false;
                 auto* pad = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, tail));
                 std::memset(pad, 0, padded - ip.len);
                 rte_pktmbuf_prepend(m, head);
                 auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
                 dp::write_outer_headers(frame, gw.outside_mac, route.next_hop_mac, gw.outside_v4, route.endpoint,
                                         kListenPort, static_cast<std::uint16_t>(kWgHead + padded + noise::kTagLen));
                 std::uint8_t* msg = frame + kOuterHead;
                 noise::put_type(msg, noise::MessageType::kTransport);
                 noise::store_le32(msg + 4, g.ours.remote_index);
                 noise::store_le64(msg + 8, counter);
                 std::uint8_t* payload = msg + kWgHead;
                 jobs[i] = {g.ours.sending.data(), counter++, payload, padded, payload + padded, false};
               }
               benchmark::DoNotOptimize(jobs);
               return true;
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
  for (const std::string& e : engines) {
    benchmark::RegisterBenchmark(("encrypt/seal/" + e + sz).c_str(), [f, e](benchmark::State& state) {
      Gateway& g = *g_gw;
      crypto::AeadBatchEngine& engine = *g.engines.at(e);
      std::array<std::array<crypto::AeadJob, kBurst>, kBurstsPerRefill> jobs{};
      Stage st{Input::kShaped, false, true,
               [&](std::size_t bi, std::span<rte_mbuf*> b) {
                 for (std::size_t i = 0; i < b.size(); ++i) {
                   std::uint8_t* payload = rte_pktmbuf_mtod(b[i], std::uint8_t*) + kOuterHead + kWgHead;
                   const std::uint32_t len = b[i]->data_len - kOuterHead - kWgHead - noise::kTagLen;
                   jobs[bi][i] = {g.ours.sending.data(), 1000 + i, payload, len, payload + len, false};
                 }
               },
               [&](std::size_t bi, std::span<rte_mbuf*>) { return engine.seal(jobs[bi]) == 0; }};
      run_stage(state, *f, st);
    })->UseManualTime();
  }
  benchmark::RegisterBenchmark(("encrypt/tx_null" + sz).c_str(), [f](benchmark::State& state) {
    Gateway& g = *g_gw;
    Stage st{Input::kShaped, true, true, {}, [&g](std::size_t, std::span<rte_mbuf*> b) {
               dp::send_burst(g.ctx, g.gw.outside_port, b.data(), kBurst, dp::Counter::tx_outside_packets);
               return true;
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
}

// ---- decrypt side ----

// decrypt.cc's first loop up to the keypair and counter of each transport message (replay check excluded).
bool classify_index(std::span<rte_mbuf*> burst, crypto::AeadJob* jobs) {
  const dp::GatewayInfo& gw = g_gw->gw;
  const dp::Tables& t = *g_gw->owner->tables;
  const std::uint16_t listen_port = t.listen_port.load(std::memory_order_relaxed);
  std::uint16_t n = 0;
  for (rte_mbuf* m : burst) {
    if (m->nb_segs != 1 || m->data_len < kEthLen) continue;
    auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::uint16_t type = rte_be_to_cpu_16(reinterpret_cast<rte_ether_hdr*>(frame)->ether_type);
    if (type != RTE_ETHER_TYPE_IPV4 && type != RTE_ETHER_TYPE_IPV6) continue;
    std::uint8_t* l3 = frame + kEthLen;
    const dp::InnerIp ip = dp::parse_inner_ip(l3, m->data_len - kEthLen);
    if (ip.family != 4 || type != RTE_ETHER_TYPE_IPV4) continue;  // this bench's underlay is IPv4
    if (!gw.has_outside_v4 || std::memcmp(gw.outside_v4.bytes.data(), ip.dst, 4) != 0) continue;
    const auto l3_len = static_cast<std::uint16_t>((l3[0] & 0x0f) * 4);
    if ((dp::load_be32(l3 + 4) & 0x3fff) != 0 || l3[9] != IPPROTO_UDP || ip.len < l3_len + kUdpLen) continue;
    const auto* udp = reinterpret_cast<const rte_udp_hdr*>(l3 + l3_len);
    const std::uint16_t udp_len = rte_be_to_cpu_16(udp->dgram_len);
    if (rte_be_to_cpu_16(udp->dst_port) != listen_port) continue;
    if (udp_len < kUdpLen || udp_len > ip.len - l3_len) continue;
    std::uint8_t* msg = l3 + l3_len + kUdpLen;
    const std::uint32_t msg_len = udp_len - kUdpLen;
    if (noise::classify_message(msg, msg_len) != noise::MessageClass::kTransport) continue;
    noise::Keypair* kp = t.keypair_for_index(noise::load_le32(msg + 4));
    if (kp == nullptr) continue;
    std::uint8_t* data = msg + kWgHead;
    const std::uint32_t data_len = msg_len - static_cast<std::uint32_t>(noise::kMinTransportSize);
    jobs[n++] = {kp->receiving.data(), noise::load_le64(msg + 8), data, data_len, data + data_len, false};
  }
  return n == burst.size();
}

void add_decrypt(const Frames& fr, const std::vector<std::string>& engines) {
  // Captured by pointer: the Frames and the Gateway outlive every benchmark run.
  const Frames* f = &fr;
  const std::string sz = "/" + fr.name;
  for (const std::string& e : engines) {
    benchmark::RegisterBenchmark(("decrypt/whole/" + e + sz).c_str(), [f, e](benchmark::State& state) {
      Gateway& g = *g_gw;
      g.ctx.engine = g.engines.at(e).get();
      const dp::WorkerCounters& c = g.ctx.shared->counters;
      const std::uint64_t dec0 = c.get(dp::Counter::decrypted_packets), tx0 = c.get(dp::Counter::tx_inside_packets);
      const std::uint64_t drop0 = drops(c);
      Stage st{Input::kWire, true, true, {}, [&g](std::size_t, std::span<rte_mbuf*> b) {
                 dp::decrypt_burst(g.ctx, b);
                 return true;
               }};
      run_stage(state, *f, st);
      const std::uint64_t n = state.iterations() * kBurst;
      if (c.get(dp::Counter::decrypted_packets) - dec0 != n || c.get(dp::Counter::tx_inside_packets) - tx0 != n ||
          drops(c) != drop0) {
        fail(state, "decrypt_burst did not decrypt and forward every packet");
      }
    })->UseManualTime();
  }
  benchmark::RegisterBenchmark(("decrypt/classify_index" + sz).c_str(), [f](benchmark::State& state) {
    Stage st{Input::kWire, false, false, {}, [](std::size_t, std::span<rte_mbuf*> b) {
               crypto::AeadJob jobs[kBurst];
               const bool ok = classify_index(b, jobs);
               benchmark::DoNotOptimize(jobs);
               return ok;
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
  // The window's pre-check before decryption and its update after, as decrypt.cc does per packet, on a
  // window of our own with ever-rising counters (the steady state of one flow).
  benchmark::RegisterBenchmark(("decrypt/replay" + sz).c_str(), [f](benchmark::State& state) {
    auto window = std::make_unique<noise::ReplayWindow>();
    std::uint64_t counter = 0;
    Stage st{Input::kNone, false, false, {}, [&](std::size_t, std::span<rte_mbuf*>) {
               bool ok = true;
               for (std::size_t i = 0; i < kBurst; ++i) ok &= window->check(counter + i) == noise::ReplayResult::kOk;
               for (std::size_t i = 0; i < kBurst; ++i) ok &= window->update(counter + i) == noise::ReplayResult::kOk;
               counter += kBurst;
               return ok;
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
  for (const std::string& e : engines) {
    benchmark::RegisterBenchmark(("decrypt/open/" + e + sz).c_str(), [f, e](benchmark::State& state) {
      Gateway& g = *g_gw;
      crypto::AeadBatchEngine& engine = *g.engines.at(e);
      std::array<std::array<crypto::AeadJob, kBurst>, kBurstsPerRefill> jobs{};
      Stage st{Input::kWire, false, true,
               [&](std::size_t bi, std::span<rte_mbuf*> b) { classify_index(b, jobs[bi].data()); },
               [&](std::size_t bi, std::span<rte_mbuf*>) { return engine.open(jobs[bi]) == 0; }};
      run_stage(state, *f, st);
    })->UseManualTime();
  }
  // decrypt.cc's per-packet loop after open, minus the replay update (timed above) and the TX.
  benchmark::RegisterBenchmark(("decrypt/route_decap" + sz).c_str(), [f](benchmark::State& state) {
    Gateway& g = *g_gw;
    Stage st{Input::kOpened, false, true, {}, [&g](std::size_t, std::span<rte_mbuf*> b) {
               dp::Tables& t = *g.owner->tables;
               const std::uint64_t now = rte_rdtsc();
               std::uint32_t forwarded = 0;
               for (rte_mbuf* m : b) {
                 auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
                 std::uint8_t* data = frame + kOuterHead + kWgHead;
                 const std::uint32_t len = m->data_len - kOuterHead - noise::kMinTransportSize;
                 const noise::Keypair* kp = &g.ours;
                 const std::uint32_t peer = kp->owner;
                 dp::PeerSlot& slot = t.peers[peer];
                 dp::PeerActivity& act = g.ctx.shared->peers[peer];
                 act.last_rx_any = now;
                 act.rx_bytes += len + noise::kMinTransportSize;
                 const dp::PeerRoute* r = slot.route.load(std::memory_order_acquire);
                 std::uint16_t src_port_be;
                 std::memcpy(&src_port_be, frame + kEthLen + kIpv4Len, 2);
                 const bool same = kp == slot.send_keypair.load(std::memory_order_relaxed) && r != nullptr &&
                                   rte_cpu_to_be_16(r->endpoint.port) == src_port_be &&
                                   std::memcmp(r->endpoint.addr.bytes.data(), frame + kEthLen + 12, 4) == 0;
                 const dp::InnerIp inner = dp::parse_inner_ip(data, len);
                 std::uint32_t src_peer = dp::kNoPeer;
                 if (!same || inner.family == 0 || !t.lookup(inner.family, inner.src, src_peer) || src_peer != peer) {
                   continue;
                 }
                 const auto key = dp::neighbor_key(inner.family, inner.dst);
                 void* mac_word = nullptr;
                 const bool known = rte_hash_lookup_data(t.inside_neighbors, key.data(), &mac_word) >= 0;
                 rte_pktmbuf_adj(m, static_cast<std::uint16_t>(data - frame - kEthLen));
                 rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->data_len - kEthLen - inner.len));
                 auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
                 const auto mac = reinterpret_cast<std::uintptr_t>(mac_word);
                 for (int i = 0; i < RTE_ETHER_ADDR_LEN; ++i) {
                   eth->dst_addr.addr_bytes[i] = known ? static_cast<std::uint8_t>(mac >> (8 * i)) : 0;
                 }
                 eth->src_addr = g.gw.inside_mac;
                 eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
                 act.last_rx_data = now;
                 forwarded += known ? 1 : 0;
               }
               return forwarded == b.size();
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
  benchmark::RegisterBenchmark(("decrypt/tx_null" + sz).c_str(), [f](benchmark::State& state) {
    Gateway& g = *g_gw;
    Stage st{Input::kPlain, true, true, {}, [&g](std::size_t, std::span<rte_mbuf*> b) {
               dp::send_burst(g.ctx, g.gw.inside_port, b.data(), kBurst, dp::Counter::tx_inside_packets);
               return true;
             }};
    run_stage(state, *f, st);
  })->UseManualTime();
}

// Removes --lcore=N from argv (Google Benchmark refuses flags it does not know); returns N. The default is
// the first CPU this process may run on, so `taskset -c N stages_bench` is honoured (EAL's -l would
// otherwise move the thread to CPU 0).
std::string take_lcore(int& argc, char** argv) {
  std::string lcore = "0";
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &allowed)) {
        lcore = std::to_string(cpu);
        break;
      }
    }
  }
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.starts_with("--lcore=")) {
      lcore = std::string(a.substr(8));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  return lcore;
}

}  // namespace
}  // namespace wg::perf

int main(int argc, char** argv) {
  using namespace wg;
  const std::string lcore = perf::take_lcore(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (auto st = perf::start_fixture(lcore); !st.ok()) {
    std::fprintf(stderr, "stages_bench: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::vector<std::string> engines;
  for (const auto& [name, engine] : perf::g_gw->engines) engines.push_back(name);
  // Frames live until the end: the registered benchmarks refer to them.
  std::vector<std::unique_ptr<perf::Frames>> frames;
  for (std::uint16_t size : {64, 512, 1420}) {
    frames.push_back(std::make_unique<perf::Frames>(
        perf::make_frames(std::to_string(size), std::vector<std::uint16_t>(dp::kBurst, size))));
  }
  std::vector<std::uint16_t> imix(dp::kBurst);
  for (std::size_t i = 0; i < dp::kBurst; ++i) imix[i] = static_cast<std::uint16_t>(perf::kImixCycle[i % 12]);
  frames.push_back(std::make_unique<perf::Frames>(perf::make_frames("imix", imix)));
  for (const auto& f : frames) perf::add_encrypt(*f, engines);
  for (const auto& f : frames) perf::add_decrypt(*f, engines);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  frames.clear();
  perf::stop_fixture();
  return perf::any_failed() ? 1 : 0;
}
