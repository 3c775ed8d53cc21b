// The real encrypt and decrypt paths over DPDK ports, in one process: net_ring vdevs loop each TX queue back
// to the same RX queue, so a burst encrypted on the "outside" port can be read back, checked against the
// reference one-packet transport code (lib/protocol/transport), and fed to the decrypt path of a mirror
// gateway. Every refusal is checked against its counter. The gateway is a router: it takes only frames
// addressed to its inside MAC (or ARP/NDP) and decrements TTL / hop limit on both paths, handing expired
// packets to control for ICMP time exceeded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_lpm.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include <cstring>
#include <vector>

#include "dataplane/packet.h"
#include "dataplane/port.h"
#include "dataplane/tables.h"
#include "dataplane/worker.h"
#include "lib/crypto/aead_batch.h"
#include "lib/crypto/engine_sodium.h"
#include "lib/crypto/x25519.h"
#include "lib/net/arp.h"
#include "lib/net/inet.h"
#include "lib/net/ndp.h"
#include "lib/protocol/transport.h"
#include "tests/lib/net/checksum_ref.h"

namespace wg::dp {
namespace {

rte_mempool* g_pool = nullptr;
std::uint16_t g_inside = 0, g_outside = 0;

class DpdkEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* argv[] = {"datapath_test", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0",
                          "--log-level=lib.eal:error", "--file-prefix=datapath_test",
                          "--vdev=net_ring0", "--vdev=net_ring1"};
    ASSERT_GE(rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)), 0);
    auto pool = create_mempool(4095, static_cast<int>(rte_socket_id()));
    ASSERT_TRUE(pool.ok());
    g_pool = *pool;
    g_inside = *find_port("net_ring0");
    g_outside = *find_port("net_ring1");
    for (std::uint16_t p : {g_inside, g_outside}) ASSERT_TRUE(start_port({p, 1, 1500}, g_pool).ok());
  }
};
const auto* const g_env = ::testing::AddGlobalTestEnvironment(new DpdkEnv);

net::IpAddress v4(const char* s) { return *net::IpAddress::parse(s); }
net::IpAddress v6(const char* s) { return *net::IpAddress::parse(s); }

// The gateway's inside MAC, and the inside host 10.61.0.2 / fd00:61::2 (its MAC as the neighbour table holds
// it: byte b of the data word is MAC byte b).
constexpr rte_ether_addr kInsideMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr rte_ether_addr kHostMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr std::uintptr_t kHostMacWord = 0x020000000002;

// One gateway: tables with one peer (AllowedIPs 10.62.0.0/24 and fd00:62::/64), a route, and a keypair pair
// whose other half the test keeps to play the remote peer.
struct Gateway {
  std::unique_ptr<TablesOwner> owner;
  GatewayInfo gw;
  std::unique_ptr<crypto::AeadBatchEngine> engine = crypto::make_sodium_engine();
  std::atomic<bool> stop{false};
  WorkerContext ctx;
  PeerRoute route;
  noise::Keypair ours, theirs;  // ours: the gateway's; theirs: the remote peer's mirror

  explicit Gateway(const char* tag) {
    owner = std::move(*create_tables(1, 0, tag));
    gw.inside_port = g_inside;
    gw.inside_mac = kInsideMac;
    gw.outside_port = g_outside;
    gw.outside_v4 = v4("172.31.61.1");
    gw.has_outside_v4 = true;
    gw.inside_addrs[0] = v4("10.61.0.1");
    gw.inside_addr_count = 1;
    Tables& t = *owner->tables;
    rte_lpm_add(t.allowed_v4.load(), ntohl(v4("10.62.0.0").v4_be()), 24, 0);
    rte_lpm6_add(t.allowed_v6.load(), v6("fd00:62::").bytes.data(), 64, 0);
    route.endpoint = *net::Endpoint::parse("172.31.61.2:51820");
    t.peers[0].route.store(&route);
    crypto::random_bytes(ours.sending.span());
    crypto::random_bytes(ours.receiving.span());
    theirs.sending = ours.receiving;
    theirs.receiving = ours.sending;
    ours.local_index = 0x1234;  // slot 0x1234
    ours.remote_index = 0x5678;
    theirs.local_index = 0x5678;
    theirs.remote_index = 0x1234;
    t.by_index[ours.local_index & (kIndexSlots - 1)].store(&ours);
    t.peers[0].send_keypair.store(&ours);
    // Inside host 10.61.0.2 / fd00:61::2 is known.
    for (const char* host : {"10.61.0.2", "fd00:61::2"}) {
      const auto key = neighbor_key(*net::IpAddress::parse(host));
      rte_hash_add_key_data(t.inside_neighbors, key.data(), reinterpret_cast<void*>(kHostMacWord));
    }
    ctx = WorkerContext{0, &gw, &t, engine.get(), &(*owner->workers)[0], &stop};
  }
  std::uint64_t count(Counter c) const { return ctx.shared->counters.get(c); }
};

rte_mbuf* frame(std::span<const std::uint8_t> bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size())), bytes.data(), bytes.size());
  return m;
}

void set_macs(std::vector<std::uint8_t>& f, const rte_ether_addr& dst, const rte_ether_addr& src) {
  std::memcpy(f.data(), dst.addr_bytes, 6);
  std::memcpy(f.data() + 6, src.addr_bytes, 6);
}

// An Ethernet frame carrying an ICMP echo from `src` to `dst` with `payload_len` bytes of payload and TTL 64,
// from the inside host to the gateway's MAC.
std::vector<std::uint8_t> echo_frame(const char* src, const char* dst, std::size_t payload_len) {
  std::vector<std::uint8_t> f(kEthLen + 28 + payload_len);
  std::vector<std::uint8_t> payload(payload_len, 'x');
  net::build_icmp_echo(std::span(f).subspan(kEthLen), v4(src).v4_be(), v4(dst).v4_be(), net::kIcmpEchoRequest,
                       1, 1, payload);
  set_macs(f, kInsideMac, kHostMac);
  f[12] = 0x08;
  return f;
}

// Sets the TTL of the IPv4 header at `l3` and recomputes its checksum the slow way.
void set_ttl_v4(std::uint8_t* l3, std::uint8_t ttl) {
  l3[8] = ttl;
  const std::uint16_t sum = testing::ref_checksum({l3, kIpv4Len}, 10);
  l3[10] = static_cast<std::uint8_t>(sum >> 8);
  l3[11] = static_cast<std::uint8_t>(sum);
}

// An Ethernet frame with an IPv6 UDP packet (payload checked by no one) and hop limit `hops`, from the inside
// host to the gateway's MAC.
std::vector<std::uint8_t> v6_frame(const char* src, const char* dst, std::size_t payload_len, std::uint8_t hops) {
  std::vector<std::uint8_t> f(kEthLen + kIpv6Len + payload_len, 'y');
  net::write_ipv6_header(f.data() + kEthLen, v6(src).bytes, v6(dst).bytes, IPPROTO_UDP,
                         static_cast<std::uint16_t>(payload_len), hops);
  set_macs(f, kInsideMac, kHostMac);
  f[12] = 0x86;
  f[13] = 0xdd;
  return f;
}

// The IP packet inside `frame` as the next hop must see it: TTL / hop limit one less, the IPv4 header checksum
// recomputed from scratch (an independent check of the incremental update).
std::vector<std::uint8_t> one_hop_later(std::span<const std::uint8_t> frame) {
  std::vector<std::uint8_t> ip(frame.begin() + kEthLen, frame.end());
  if (ip[0] >> 4 == 4) {
    set_ttl_v4(ip.data(), static_cast<std::uint8_t>(ip[8] - 1));
  } else {
    --ip[7];
  }
  return ip;
}

std::span<const std::uint8_t> ip_of(const std::vector<std::uint8_t>& frame) {
  return std::span(frame).subspan(kEthLen);
}

// Everything handed to control for `reason`, in order (the hand-off ring of that reason, tables.h).
std::vector<rte_mbuf*> take_from_control(const Gateway& g, Counter reason) {
  std::vector<rte_mbuf*> out;
  const Handoff h = handoff_for(reason);
  EXPECT_NE(h, Handoff::kCount) << kCounterNames[static_cast<std::size_t>(reason)] << " has no hand-off ring";
  if (h == Handoff::kCount) return out;
  rte_mbuf* m = nullptr;
  while (rte_ring_sc_dequeue(g.owner->tables->ring(h), reinterpret_cast<void**>(&m)) == 0) out.push_back(m);
  return out;
}

// How many mbufs wait for control, on every ring (awaiting_neighbor included).
unsigned waiting_for_control(const Gateway& g) {
  unsigned n = rte_ring_count(g.owner->tables->awaiting_neighbor);
  for (rte_ring* r : g.owner->tables->handoff) n += rte_ring_count(r);
  return n;
}

void free_all(const std::vector<rte_mbuf*>& ms) {
  for (rte_mbuf* m : ms) rte_pktmbuf_free(m);
}

std::vector<std::uint8_t> bytes_of(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  return {p, p + m->data_len};
}

std::vector<rte_mbuf*> drain(std::uint16_t port) {
  std::vector<rte_mbuf*> out;
  rte_mbuf* pkts[kBurst];
  for (int tries = 0; tries < 4; ++tries) {
    const std::uint16_t n = rte_eth_rx_burst(port, 0, pkts, kBurst);
    out.insert(out.end(), pkts, pkts + n);
  }
  return out;
}

TEST(Datapath, EncryptMatchesReferenceAndDecryptRestoresThePacket) {
  Gateway g("a");
  std::vector<rte_mbuf*> burst;
  std::vector<std::vector<std::uint8_t>> originals;
  for (std::size_t len : {0u, 1u, 50u, 1000u, 1392u}) {
    originals.push_back(echo_frame("10.61.0.2", "10.62.0.1", len));
    burst.push_back(frame(originals.back()));
  }
  encrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::encrypted_packets), originals.size());
  auto wire = drain(g_outside);
  ASSERT_EQ(wire.size(), originals.size());
  for (std::size_t i = 0; i < wire.size(); ++i) {
    auto* f = rte_pktmbuf_mtod(wire[i], std::uint8_t*);
    const std::uint16_t hl = outer_header_len(4);
    EXPECT_EQ(f[12], 0x08);
    EXPECT_EQ(rte_be_to_cpu_16(reinterpret_cast<rte_udp_hdr*>(f + kEthLen + kIpv4Len)->dst_port), 51820);
    // The remote peer (reference code) decrypts exactly the inner packet, zero-padded to 16.
    std::vector<std::uint8_t> plain(2048);
    std::size_t n = 0;
    ASSERT_EQ(noise::decrypt_transport(g.theirs, {f + hl, static_cast<std::size_t>(wire[i]->data_len - hl)}, plain, n),
              noise::TransportResult::kOk);
    const std::size_t inner = originals[i].size() - kEthLen;
    EXPECT_EQ(n, noise::padded_length(inner, 1420));
    const auto expected = one_hop_later(originals[i]);  // TTL 63, header checksum recomputed
    EXPECT_EQ(0, std::memcmp(plain.data(), expected.data(), inner));
    rte_pktmbuf_free(wire[i]);
  }
  // Counters are unique and consecutive.
  EXPECT_EQ(g.ours.sending_counter.load(), originals.size());
}

std::vector<std::uint8_t> transport_frame(noise::Keypair& from, std::span<const std::uint8_t> inner) {
  std::vector<std::uint8_t> f(outer_header_len(4) + noise::transport_size(inner.size(), 1420));
  std::size_t n = 0;
  EXPECT_EQ(noise::encrypt_transport(from, inner, 1420, std::span(f).subspan(outer_header_len(4)), n),
            noise::TransportResult::kOk);
  rte_ether_addr a{}, b{};
  write_outer_headers(f.data(), a, b, v4("172.31.61.2"), *net::Endpoint::parse("172.31.61.1:51820"), 51820,
                      static_cast<std::uint16_t>(n));
  return f;
}

TEST(Datapath, DecryptForwardsInsideAndCountsEveryRefusal) {
  Gateway g("b");
  const auto ok_inner = echo_frame("10.62.0.1", "10.61.0.2", 64);
  const std::span<const std::uint8_t> inner(ok_inner.data() + kEthLen, ok_inner.size() - kEthLen);
  const auto good = transport_frame(g.theirs, inner);
  auto forged = transport_frame(g.theirs, inner);
  forged[forged.size() - 1] ^= 1;
  auto unknown = transport_frame(g.theirs, inner);
  noise::store_le32(unknown.data() + outer_header_len(4) + 4, 0x9999);
  const auto spoof_inner = echo_frame("10.99.0.1", "10.61.0.2", 64);
  const auto spoofed = transport_frame(g.theirs, {spoof_inner.data() + kEthLen, spoof_inner.size() - kEthLen});
  const auto keepalive = transport_frame(g.theirs, {});
  auto truncated = good;
  truncated.resize(outer_header_len(4) + 20);
  reinterpret_cast<rte_ipv4_hdr*>(truncated.data() + kEthLen)->total_length = rte_cpu_to_be_16(kIpv4Len + kUdpLen + 20);
  reinterpret_cast<rte_udp_hdr*>(truncated.data() + kEthLen + kIpv4Len)->dgram_len = rte_cpu_to_be_16(kUdpLen + 20);

  std::vector<rte_mbuf*> burst = {frame(good),     frame(forged),   frame(unknown), frame(spoofed),
                                  frame(keepalive), frame(good),    frame(truncated)};
  decrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::decrypted_packets), 1u);
  EXPECT_EQ(g.count(Counter::drop_bad_tag), 1u);
  EXPECT_EQ(g.count(Counter::drop_unknown_index), 1u);
  EXPECT_EQ(g.count(Counter::drop_inner_source_not_allowed), 1u);
  EXPECT_EQ(g.count(Counter::keepalives_received), 1u);
  EXPECT_EQ(g.count(Counter::drop_replay), 1u) << "the second copy of the same packet";
  EXPECT_EQ(g.count(Counter::drop_truncated), 1u);

  auto inside = drain(g_inside);
  ASSERT_EQ(inside.size(), 1u);
  const auto* f = rte_pktmbuf_mtod(inside[0], const std::uint8_t*);
  ASSERT_EQ(inside[0]->data_len, ok_inner.size()) << "padding removed, Ethernet header restored";
  EXPECT_EQ(0, std::memcmp(f + kEthLen, one_hop_later(ok_inner).data(), inner.size())) << "one hop later";
  EXPECT_EQ(f[0], 0x02);  // the inside neighbour's MAC
  EXPECT_EQ(f[5], 0x02);
  rte_pktmbuf_free(inside[0]);
}

// Past REJECT_AFTER_TIME a keypair is dead for the workers at once, whatever control has done yet: nothing is
// accepted under it, and packets to the peer wait for a new handshake instead of being sealed with it.
TEST(Datapath, WorkersStopUsingAnExpiredKeypairByThemselves) {
  Gateway g("e");
  g.owner->tables->peers[0].has_endpoint.store(true);
  g.ours.reject_after_ticks = rte_rdtsc() - 1;
  const auto in = echo_frame("10.62.0.1", "10.61.0.2", 64);
  std::vector<rte_mbuf*> rx = {frame(transport_frame(g.theirs, {in.data() + kEthLen, in.size() - kEthLen}))};
  decrypt_burst(g.ctx, rx);
  EXPECT_EQ(g.count(Counter::drop_keypair_expired), 1u);
  EXPECT_EQ(g.count(Counter::decrypted_packets), 0u);
  EXPECT_TRUE(drain(g_inside).empty());
  std::vector<rte_mbuf*> tx = {frame(echo_frame("10.61.0.2", "10.62.0.9", 10))};
  encrypt_burst(g.ctx, tx);
  EXPECT_EQ(g.count(Counter::encrypted_packets), 0u);
  EXPECT_EQ(g.count(Counter::staged_for_handshake), 1u);
  EXPECT_TRUE(g.owner->tables->peers[0].handshake_wanted.load());
  EXPECT_EQ(g.ours.sending_counter.load(), 0u) << "no nonce spent under the expired keypair";
  free_all(take_from_control(g, Counter::staged_for_handshake));
}

TEST(Datapath, UnknownInsideHostIsHeldForControlNotLost) {
  Gateway g("d");
  const auto inner_frame = echo_frame("10.62.0.1", "10.61.0.77", 32);  // 10.61.0.77: MAC not known
  const std::span<const std::uint8_t> inner(inner_frame.data() + kEthLen, inner_frame.size() - kEthLen);
  std::vector<rte_mbuf*> burst = {frame(transport_frame(g.theirs, inner))};
  decrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::held_for_neighbor), 1u);
  EXPECT_EQ(g.count(Counter::drop_inside_neighbor_unknown), 0u);
  rte_mbuf* m = nullptr;
  ASSERT_EQ(rte_ring_sc_dequeue(g.owner->tables->awaiting_neighbor, reinterpret_cast<void**>(&m)), 0);
  ASSERT_EQ(m->data_len, inner_frame.size());
  const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
  EXPECT_EQ(0, std::memcmp(f + kEthLen, one_hop_later(inner_frame).data(), inner.size()))
      << "decrypted, one hop later, ready but for the MAC";
  for (int b = 0; b < 6; ++b) EXPECT_EQ(f[b], 0);
  rte_pktmbuf_free(m);
}

TEST(Datapath, NoSessionStagesAtControlAndAsksForAHandshake) {
  Gateway g("c");
  g.owner->tables->peers[0].send_keypair.store(nullptr);
  const auto f = echo_frame("10.61.0.2", "10.62.0.9", 10);
  // A peer with no endpoint at all cannot be reached by a handshake: dropped at once, nothing staged.
  g.owner->tables->peers[0].has_endpoint.store(false);
  std::vector<rte_mbuf*> b0 = {frame(f)};
  encrypt_burst(g.ctx, b0);
  EXPECT_EQ(g.count(Counter::drop_no_endpoint), 1u);
  EXPECT_EQ(g.count(Counter::staged_for_handshake), 0u);
  EXPECT_FALSE(g.owner->tables->peers[0].handshake_wanted.load());
  // With an endpoint (a handshake is pending): staged at control, and a handshake asked for.
  g.owner->tables->peers[0].has_endpoint.store(true);
  std::vector<rte_mbuf*> burst = {frame(f)};
  encrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::staged_for_handshake), 1u);
  EXPECT_TRUE(g.owner->tables->peers[0].handshake_wanted.load());
  const auto staged = take_from_control(g, Counter::staged_for_handshake);
  ASSERT_EQ(staged.size(), 1u);
  auto expected = f;
  set_ttl_v4(expected.data() + kEthLen, 63);
  EXPECT_EQ(bytes_of(staged[0]), expected) << "control sends staged packets as they are: already one hop later";
  free_all(staged);
  // No route at all: dropped under its own reason.
  const auto nowhere = echo_frame("10.61.0.2", "192.0.2.1", 10);
  std::vector<rte_mbuf*> b2 = {frame(nowhere)};
  encrypt_burst(g.ctx, b2);
  EXPECT_EQ(g.count(Counter::drop_no_route), 1u);
}

// Both ports are promiscuous: a frame between two other inside hosts must not be tunneled. Unicast to our MAC
// goes on; group frames only as ARP (broadcast) or IPv6 multicast (NDP), both to control.
TEST(Datapath, InsideTakesOnlyFramesAddressedToIt) {
  Gateway g("e");
  auto foreign = echo_frame("10.61.0.2", "10.62.0.1", 20);
  set_macs(foreign, rte_ether_addr{{0x02, 0, 0, 0, 0, 0x99}}, kHostMac);
  auto almost = echo_frame("10.61.0.2", "10.62.0.1", 20);  // differs from our MAC in the last 2-byte load only
  set_macs(almost, rte_ether_addr{{0x02, 0, 0, 0, 1, 0x01}}, kHostMac);
  auto almost_first = echo_frame("10.61.0.2", "10.62.0.1", 20);  // ... and in the first 4-byte load only
  set_macs(almost_first, rte_ether_addr{{0x02, 0, 0, 1, 0, 0x01}}, kHostMac);
  auto broadcast = echo_frame("10.61.0.2", "10.62.0.1", 20);
  set_macs(broadcast, rte_ether_addr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, kHostMac);
  auto multicast4 = echo_frame("10.61.0.2", "10.62.0.1", 20);
  set_macs(multicast4, rte_ether_addr{{0x01, 0x00, 0x5e, 0, 0, 1}}, kHostMac);
  auto v6_unicast_in_group = v6_frame("fd00:61::2", "fd00:62::1", 20, 64);
  set_macs(v6_unicast_in_group, rte_ether_addr{{0x33, 0x33, 0, 0, 0, 1}}, kHostMac);
  auto lldp = echo_frame("10.61.0.2", "10.62.0.1", 20);
  set_macs(lldp, rte_ether_addr{{0x01, 0x80, 0xc2, 0, 0, 0x0e}}, kHostMac);
  lldp[12] = 0x88;
  lldp[13] = 0xcc;
  std::vector<std::uint8_t> arp(64);
  arp.resize(net::build_arp_request(arp, net::MacAddress::from(kHostMac.addr_bytes), v4("10.61.0.2"),
                                    v4("10.61.0.1")));
  ASSERT_EQ(arp[0], 0xff) << "a broadcast ARP request";
  std::vector<std::uint8_t> ns(128);
  ns.resize(net::build_neighbor_solicit(ns, net::MacAddress::from(kHostMac.addr_bytes), v6("fd00:61::2"),
                                        v6("fd00:61::1")));
  ASSERT_EQ(ns[0], 0x33) << "a multicast neighbour solicitation";
  const auto ours = echo_frame("10.61.0.2", "10.62.0.1", 20);

  std::vector<rte_mbuf*> burst = {frame(foreign),   frame(almost), frame(almost_first), frame(broadcast),
                                  frame(multicast4), frame(v6_unicast_in_group), frame(lldp), frame(arp),
                                  frame(ns),        frame(ours)};
  encrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::drop_inside_not_for_us), 7u);
  EXPECT_EQ(g.count(Counter::encrypted_packets), 1u) << "only the frame to our MAC";
  EXPECT_EQ(g.count(Counter::drop_not_ip), 0u);
  auto wire = drain(g_outside);
  EXPECT_EQ(wire.size(), 1u);
  free_all(wire);
  // ARP and NDP still reach control (whatever ring the hand-off picks for them).
  EXPECT_EQ(g.count(Counter::to_control_local) + g.count(Counter::to_control_neighbor), 2u);
  std::vector<std::vector<std::uint8_t>> handed;
  for (rte_ring* r : g.owner->tables->handoff) {
    rte_mbuf* m = nullptr;
    while (rte_ring_sc_dequeue(r, reinterpret_cast<void**>(&m)) == 0) {
      handed.push_back(bytes_of(m));
      rte_pktmbuf_free(m);
    }
  }
  ASSERT_EQ(handed.size(), 2u);
  EXPECT_TRUE((handed[0] == arp && handed[1] == ns) || (handed[0] == ns && handed[1] == arp));
}

// decrement_ttl against a full recompute of the header checksum: every 16-bit value of the id field (so every
// checksum value, 0x0000 and 0xffff edges included) at a few TTLs.
TEST(DecrementTtl, MatchesAFullChecksumRecompute) {
  auto header = echo_frame("10.61.0.2", "10.62.0.1", 0);
  std::uint8_t* l3 = header.data() + kEthLen;
  for (std::uint8_t ttl : {2, 3, 64, 128, 255}) {
    for (std::uint32_t id = 0; id <= 0xffff; ++id) {
      l3[4] = static_cast<std::uint8_t>(id >> 8);
      l3[5] = static_cast<std::uint8_t>(id);
      set_ttl_v4(l3, ttl);
      std::uint8_t expected[kIpv4Len];
      std::memcpy(expected, l3, kIpv4Len);
      set_ttl_v4(expected, static_cast<std::uint8_t>(ttl - 1));
      ASSERT_TRUE(decrement_ttl(l3, 4));
      ASSERT_EQ(0, std::memcmp(l3, expected, kIpv4Len)) << "TTL " << int{ttl} << " id " << id;
    }
  }
  for (std::uint8_t ttl : {0, 1}) {
    set_ttl_v4(l3, ttl);
    const std::vector<std::uint8_t> before(l3, l3 + kIpv4Len);
    EXPECT_FALSE(decrement_ttl(l3, 4));
    EXPECT_EQ(std::vector<std::uint8_t>(l3, l3 + kIpv4Len), before) << "untouched";
  }
  auto six = v6_frame("fd00:61::2", "fd00:62::1", 0, 2);
  std::uint8_t* l3v6 = six.data() + kEthLen;
  EXPECT_TRUE(decrement_ttl(l3v6, 6));
  EXPECT_EQ(l3v6[7], 1);
  EXPECT_FALSE(decrement_ttl(l3v6, 6));
  EXPECT_EQ(l3v6[7], 1);
  l3v6[7] = 0;
  EXPECT_FALSE(decrement_ttl(l3v6, 6));
  EXPECT_EQ(l3v6[7], 0);
}

// One hop less on both paths, IPv4 (header checksum valid by a full recompute) and IPv6.
TEST(Datapath, TtlAndHopLimitDecrementedByOneBothWays) {
  Gateway g("f");
  // Inside -> tunnel: the remote peer's reference decrypt sees TTL - 1.
  std::vector<std::vector<std::uint8_t>> originals;
  for (std::uint8_t ttl : {2, 64, 255}) {
    auto f = echo_frame("10.61.0.2", "10.62.0.1", 40);
    set_ttl_v4(f.data() + kEthLen, ttl);
    originals.push_back(f);
  }
  originals.push_back(v6_frame("fd00:61::2", "fd00:62::1", 40, 64));
  originals.push_back(v6_frame("fd00:61::2", "fd00:62::1", 40, 2));
  std::vector<rte_mbuf*> burst;
  for (const auto& f : originals) burst.push_back(frame(f));
  encrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::encrypted_packets), originals.size());
  auto wire = drain(g_outside);
  ASSERT_EQ(wire.size(), originals.size());
  for (std::size_t i = 0; i < wire.size(); ++i) {
    const auto* f = rte_pktmbuf_mtod(wire[i], const std::uint8_t*);
    const std::uint16_t hl = outer_header_len(4);
    std::vector<std::uint8_t> plain(2048);
    std::size_t n = 0;
    ASSERT_EQ(noise::decrypt_transport(g.theirs, {f + hl, static_cast<std::size_t>(wire[i]->data_len - hl)}, plain, n),
              noise::TransportResult::kOk);
    const auto sent = ip_of(originals[i]);
    if (sent[0] >> 4 == 4) {
      EXPECT_EQ(plain[8], sent[8] - 1) << "TTL";
      EXPECT_EQ(testing::stored_be16(plain, 10), testing::ref_checksum(std::span(plain).first(kIpv4Len), 10))
          << "header checksum";
    } else {
      EXPECT_EQ(plain[7], sent[7] - 1) << "hop limit";
    }
    EXPECT_EQ(0, std::memcmp(plain.data(), one_hop_later(originals[i]).data(), sent.size())) << "nothing else";
    rte_pktmbuf_free(wire[i]);
  }

  // Tunnel -> inside: the inside host sees TTL - 1.
  std::vector<std::vector<std::uint8_t>> inners;
  for (std::uint8_t ttl : {2, 64, 255}) {
    auto f = echo_frame("10.62.0.1", "10.61.0.2", 40);
    set_ttl_v4(f.data() + kEthLen, ttl);
    inners.push_back(f);
  }
  inners.push_back(v6_frame("fd00:62::1", "fd00:61::2", 40, 64));
  inners.push_back(v6_frame("fd00:62::1", "fd00:61::2", 40, 2));
  burst.clear();
  for (const auto& f : inners) burst.push_back(frame(transport_frame(g.theirs, ip_of(f))));
  decrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::decrypted_packets), inners.size());
  auto inside = drain(g_inside);
  ASSERT_EQ(inside.size(), inners.size());
  for (std::size_t i = 0; i < inside.size(); ++i) {
    const auto got = bytes_of(inside[i]);
    ASSERT_EQ(got.size(), inners[i].size());
    const auto l3 = std::span(got).subspan(kEthLen);
    const auto sent = ip_of(inners[i]);
    if (sent[0] >> 4 == 4) {
      EXPECT_EQ(l3[8], sent[8] - 1) << "TTL";
      EXPECT_EQ(testing::stored_be16(l3, 10), testing::ref_checksum(l3.first(kIpv4Len), 10)) << "header checksum";
    } else {
      EXPECT_EQ(l3[7], sent[7] - 1) << "hop limit";
    }
    EXPECT_EQ(std::vector<std::uint8_t>(l3.begin(), l3.end()), one_hop_later(inners[i])) << "nothing else";
    rte_pktmbuf_free(inside[i]);
  }
  EXPECT_EQ(g.count(Counter::drop_ttl_exceeded), 0u);
}

// A packet with no hops left is not forwarded: control gets it, as received, to answer ICMP time exceeded.
TEST(Datapath, ExpiredTtlIsHandedToControlNotForwarded) {
  Gateway g("h");
  // Inside -> tunnel: TTL 1 and 0, hop limit 1 and 0.
  std::vector<std::vector<std::uint8_t>> expired;
  for (std::uint8_t ttl : {1, 0}) {
    auto f = echo_frame("10.61.0.2", "10.62.0.1", 40);
    set_ttl_v4(f.data() + kEthLen, ttl);
    expired.push_back(f);
    expired.push_back(v6_frame("fd00:61::2", "fd00:62::1", 40, ttl));
  }
  std::vector<rte_mbuf*> burst;
  for (const auto& f : expired) burst.push_back(frame(f));
  encrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::drop_ttl_exceeded), expired.size());
  EXPECT_EQ(g.count(Counter::encrypted_packets), 0u);
  EXPECT_EQ(g.count(Counter::drop_ring_full), 0u);
  EXPECT_TRUE(drain(g_outside).empty()) << "nothing tunneled";
  auto handed = take_from_control(g, Counter::drop_ttl_exceeded);
  ASSERT_EQ(handed.size(), expired.size());
  for (std::size_t i = 0; i < handed.size(); ++i) {
    EXPECT_EQ(bytes_of(handed[i]), expired[i]) << "the frame as received, TTL not decremented";
  }
  free_all(handed);
  EXPECT_EQ(waiting_for_control(g), 0u) << "on no other ring";

  // Tunnel -> inside, for a known inside host: rewritten to [Ethernet][inner IP] and handed over instead.
  std::vector<std::vector<std::uint8_t>> inners;
  for (std::uint8_t ttl : {1, 0}) {
    auto f = echo_frame("10.62.0.1", "10.61.0.2", 40);
    set_ttl_v4(f.data() + kEthLen, ttl);
    inners.push_back(f);
    inners.push_back(v6_frame("fd00:62::1", "fd00:61::2", 40, ttl));
  }
  burst.clear();
  for (const auto& f : inners) burst.push_back(frame(transport_frame(g.theirs, ip_of(f))));
  decrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::drop_ttl_exceeded), expired.size() + inners.size());
  EXPECT_EQ(g.count(Counter::decrypted_packets), 0u) << "not forwarded inside";
  EXPECT_EQ(g.count(Counter::drop_ring_full), 0u);
  EXPECT_TRUE(drain(g_inside).empty());
  handed = take_from_control(g, Counter::drop_ttl_exceeded);
  ASSERT_EQ(handed.size(), inners.size());
  for (std::size_t i = 0; i < handed.size(); ++i) {
    const auto got = bytes_of(handed[i]);
    ASSERT_EQ(got.size(), inners[i].size()) << "outer headers and padding gone";
    EXPECT_EQ(0, std::memcmp(got.data() + kEthLen, inners[i].data() + kEthLen, got.size() - kEthLen))
        << "the inner packet as the peer sent it";
    for (int b = 0; b < 6; ++b) EXPECT_EQ(got[b], 0) << "no destination MAC, as on awaiting_neighbor";
    EXPECT_EQ(0, std::memcmp(got.data() + 6, kInsideMac.addr_bytes, 6));
    EXPECT_EQ(got[12], inners[i][12]) << "EtherType";
    EXPECT_EQ(got[13], inners[i][13]);
  }
  free_all(handed);
  EXPECT_EQ(waiting_for_control(g), 0u) << "on no other ring";
}

}  // namespace
}  // namespace wg::dp
