// The real encrypt and decrypt paths over DPDK ports, in one process: net_ring vdevs loop each TX queue back
// to the same RX queue, so a burst encrypted on the "outside" port can be read back, checked against the
// reference one-packet transport code (lib/protocol/transport), and fed to the decrypt path of a mirror
// gateway. Every refusal is checked against its counter.
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
#include "lib/net/inet.h"
#include "lib/protocol/transport.h"

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

// One gateway: tables with one peer (AllowedIPs 10.62.0.0/24), a route, and a keypair pair whose other half
// the test keeps to play the remote peer.
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
    gw.outside_port = g_outside;
    gw.outside_v4 = v4("172.31.61.1");
    gw.has_outside_v4 = true;
    gw.inside_addrs[0] = v4("10.61.0.1");
    gw.inside_addr_count = 1;
    Tables& t = *owner->tables;
    rte_lpm_add(t.allowed_v4.load(), ntohl(v4("10.62.0.0").v4_be()), 24, 0);
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
    // Inside host 10.61.0.2 is known.
    const auto key = neighbor_key(v4("10.61.0.2"));
    rte_hash_add_key_data(t.inside_neighbors, key.data(), reinterpret_cast<void*>(std::uintptr_t{0x020000000002}));
    ctx = WorkerContext{0, &gw, &t, engine.get(), &(*owner->workers)[0], &stop};
  }
  std::uint64_t count(Counter c) const { return ctx.shared->counters.get(c); }
};

rte_mbuf* frame(std::span<const std::uint8_t> bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(bytes.size())), bytes.data(), bytes.size());
  return m;
}

// An Ethernet frame carrying an ICMP echo from `src` to `dst` with `payload_len` bytes of payload.
std::vector<std::uint8_t> echo_frame(const char* src, const char* dst, std::size_t payload_len) {
  std::vector<std::uint8_t> f(kEthLen + 28 + payload_len);
  std::vector<std::uint8_t> payload(payload_len, 'x');
  net::build_icmp_echo(std::span(f).subspan(kEthLen), v4(src).v4_be(), v4(dst).v4_be(), net::kIcmpEchoRequest,
                       1, 1, payload);
  f[12] = 0x08;
  return f;
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
    EXPECT_EQ(0, std::memcmp(plain.data(), originals[i].data() + kEthLen, inner));
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
  EXPECT_EQ(0, std::memcmp(f + kEthLen, inner.data(), inner.size()));
  EXPECT_EQ(f[0], 0x02);  // the inside neighbour's MAC
  EXPECT_EQ(f[5], 0x02);
  rte_pktmbuf_free(inside[0]);
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
  EXPECT_EQ(0, std::memcmp(f + kEthLen, inner.data(), inner.size())) << "decrypted, ready but for the MAC";
  for (int b = 0; b < 6; ++b) EXPECT_EQ(f[b], 0);
  rte_pktmbuf_free(m);
}

TEST(Datapath, NoSessionStagesAtControlAndAsksForAHandshake) {
  Gateway g("c");
  g.owner->tables->peers[0].send_keypair.store(nullptr);
  const auto f = echo_frame("10.61.0.2", "10.62.0.9", 10);
  std::vector<rte_mbuf*> burst = {frame(f)};
  encrypt_burst(g.ctx, burst);
  EXPECT_EQ(g.count(Counter::staged_for_handshake), 1u);
  EXPECT_TRUE(g.owner->tables->peers[0].handshake_wanted.load());
  rte_mbuf* m = nullptr;
  ASSERT_EQ(rte_ring_sc_dequeue(g.owner->tables->to_control, reinterpret_cast<void**>(&m)), 0);
  rte_pktmbuf_free(m);
  // No route at all: dropped under its own reason.
  const auto nowhere = echo_frame("10.61.0.2", "192.0.2.1", 10);
  std::vector<rte_mbuf*> b2 = {frame(nowhere)};
  encrypt_burst(g.ctx, b2);
  EXPECT_EQ(g.count(Counter::drop_no_route), 1u);
}

}  // namespace
}  // namespace wg::dp
