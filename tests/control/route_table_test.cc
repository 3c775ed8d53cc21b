// RouteTable against a slow reference: random AllowedIPs edits (adds, moves between peers, removals, both
// families), after each batch both LPM copies and the published one answer every probe exactly as a
// longest-prefix match over a std::map does; a failed batch changes nothing.
#include "control/route_table.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include <map>
#include <random>

namespace wg::ctl {
namespace {

class DpdkEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* argv[] = {"route_table_test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0",
                          "--log-level=lib.eal:error", "--file-prefix=route_table_test"};
    ASSERT_GE(rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)), 0);
  }
};
const auto* const g_env = ::testing::AddGlobalTestEnvironment(new DpdkEnv);

std::optional<std::uint32_t> reference(const std::map<net::Prefix, std::uint32_t>& routes, const net::IpAddress& a) {
  std::optional<std::uint32_t> best;
  int best_len = -1;
  for (const auto& [p, peer] : routes) {
    if (p.contains(a) && p.len > best_len) {
      best = peer;
      best_len = p.len;
    }
  }
  return best;
}

std::optional<std::uint32_t> lookup_copy(const dp::LpmCopies& lpm, int copy, const net::IpAddress& a) {
  std::uint32_t peer = 0;
  if (a.is_v4()) {
    const std::uint32_t host = static_cast<std::uint32_t>(a.bytes[0]) << 24 | a.bytes[1] << 16 | a.bytes[2] << 8 |
                               a.bytes[3];
    if (rte_lpm_lookup(lpm.v4[copy], host, &peer) == 0) return peer;
  } else if (rte_lpm6_lookup(lpm.v6[copy], a.bytes.data(), &peer) == 0) {
    return peer;
  }
  return std::nullopt;
}

TEST(RouteTable, RandomEditsMatchReferenceInBothCopies) {
  auto owner = dp::create_tables(1, 0, "rt1");
  ASSERT_TRUE(owner.ok()) << owner.status();
  dp::Tables& t = *(*owner)->tables;
  int syncs = 0;
  RouteTable table(t, (*owner)->lpm, [&] { ++syncs; });
  std::map<net::Prefix, std::uint32_t> ref;
  std::mt19937 rng(12345);
  // A small address space so that prefixes nest, overlap and get moved and removed often.
  auto random_prefix = [&]() {
    net::Prefix p;
    if (rng() % 2 == 0) {
      p.addr = net::IpAddress{4, {10, static_cast<std::uint8_t>(rng() % 4), static_cast<std::uint8_t>(rng() % 4),
                                  static_cast<std::uint8_t>(rng() % 8)}};
      p.len = static_cast<std::uint8_t>(8 + rng() % 25);
    } else {
      p.addr = net::IpAddress{6, {0xfd, 0x63, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
      p.addr.bytes[7] = static_cast<std::uint8_t>(rng() % 4);
      p.addr.bytes[15] = static_cast<std::uint8_t>(rng() % 8);
      p.len = static_cast<std::uint8_t>(16 + rng() % 113);
    }
    return p.masked();
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<RouteEdit> edits;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      RouteEdit e{random_prefix(), std::nullopt};
      if (rng() % 3 != 0) e.peer = static_cast<std::uint32_t>(rng() % 5);
      edits.push_back(e);
    }
    ASSERT_TRUE(table.apply(edits).ok());
    for (const RouteEdit& e : edits) {
      if (e.peer) {
        ref[e.prefix] = *e.peer;
      } else {
        ref.erase(e.prefix);
      }
    }
    ASSERT_EQ(table.routes(), ref);
    for (int probe = 0; probe < 40; ++probe) {
      const net::IpAddress a = random_prefix().addr;
      const auto want = reference(ref, a);
      for (int copy = 0; copy < 2; ++copy) ASSERT_EQ(lookup_copy((*owner)->lpm, copy, a), want) << a.to_string();
      std::uint32_t peer = 0;
      const bool found = t.lookup(a.family, a.bytes.data(), peer);
      ASSERT_EQ(found ? std::optional<std::uint32_t>(peer) : std::nullopt, want);
    }
  }
  EXPECT_EQ(syncs, 300);  // one grace period per batch, however many edits
}

TEST(RouteTable, PublishesTheEditedCopyBeforeTouchingTheOther) {
  auto owner = dp::create_tables(1, 0, "rt2");
  ASSERT_TRUE(owner.ok());
  dp::Tables& t = *(*owner)->tables;
  const net::Prefix p{net::IpAddress{4, {10, 62, 0, 0}}, 24};
  const net::IpAddress host{4, {10, 62, 0, 7}};
  // At the grace period, the published copy already routes the host and the old one does not yet: a
  // worker sees the whole change or none of it.
  bool checked = false;
  RouteTable table(t, (*owner)->lpm, [&] {
    rte_lpm* published = t.allowed_v4.load();
    const int pub = published == (*owner)->lpm.v4[0] ? 0 : 1;
    EXPECT_EQ(lookup_copy((*owner)->lpm, pub, host), std::optional<std::uint32_t>(3));
    EXPECT_EQ(lookup_copy((*owner)->lpm, 1 - pub, host), std::nullopt);
    checked = true;
  });
  const RouteEdit e{p, 3};
  ASSERT_TRUE(table.apply(std::span(&e, 1)).ok());
  EXPECT_TRUE(checked);
}

}  // namespace
}  // namespace wg::ctl
