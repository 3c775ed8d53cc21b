// plan_change: the rules of a set=1 request / SIGHUP replayed over a working copy, without DPDK: prefixes have
// one owner, replace_peers keeps named peers, remove / update_only, the device's own key, capacity.
#include "control/device_plan.h"

#include <gtest/gtest.h>

namespace wg::ctl {
namespace {

crypto::PublicKey key(std::uint8_t n) {
  crypto::PublicKey k{};
  k[0] = n;
  return k;
}
net::Prefix prefix(const char* s) { return *net::Prefix::parse(s); }
PeerSettings settings(std::uint8_t n, std::vector<net::Prefix> allowed) {
  PeerSettings s;
  s.public_key = key(n);
  s.allowed_ips = std::move(allowed);
  s.keepalive = 25;
  s.endpoint = net::Endpoint{*net::IpAddress::parse("192.0.2.1"), static_cast<std::uint16_t>(51820 + n)};
  return s;
}
const PlanLimits kLimits{8, 16};
const crypto::PublicKey kOwn = key(0xee);

TEST(DevicePlan, APrefixHasOneOwner) {
  const std::vector<PeerSettings> cur = {settings(1, {prefix("10.1.0.0/24"), prefix("10.2.0.0/24")})};
  DeviceChange c;
  PeerChange pc;
  pc.public_key = key(2);
  pc.allowed_ips = {prefix("10.2.0.0/24")};
  c.peers.push_back(pc);
  auto plan = plan_change(c, cur, kOwn, false, kLimits);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->claims.at(prefix("10.2.0.0/24")), key(2)) << "moved to the new peer";
  EXPECT_EQ(plan->peers.at(key(1)).settings.allowed_ips, std::vector<net::Prefix>{prefix("10.1.0.0/24")});
  EXPECT_EQ(plan->created, std::vector<crypto::PublicKey>{key(2)});
  EXPECT_FALSE(plan->peers.at(key(1)).drop);
}

TEST(DevicePlan, ReplacePeersKeepsNamedPeersAndTheirLearntEndpoint) {
  const std::vector<PeerSettings> cur = {settings(1, {prefix("10.1.0.0/24")}), settings(2, {prefix("10.2.0.0/24")})};
  DeviceChange c;
  c.replace_peers = true;
  PeerChange pc;
  pc.public_key = key(1);
  pc.allowed_ips = {prefix("10.9.0.0/24")};
  c.peers.push_back(pc);
  auto plan = plan_change(c, cur, kOwn, false, kLimits);
  ASSERT_TRUE(plan.ok());
  const auto& one = plan->peers.at(key(1));
  EXPECT_TRUE(one.present);
  EXPECT_FALSE(one.drop) << "named again: keeps its session";
  EXPECT_TRUE(one.settings.endpoint.has_value()) << "a named peer keeps what it learnt";
  EXPECT_EQ(one.settings.keepalive, 0) << "settings the file does not name are reset";
  EXPECT_EQ(one.settings.allowed_ips, std::vector<net::Prefix>{prefix("10.9.0.0/24")});
  EXPECT_FALSE(plan->peers.at(key(2)).present);
  EXPECT_EQ(plan->claims.size(), 1u);
  EXPECT_TRUE(plan->created.empty());
}

TEST(DevicePlan, RemoveAndUpdateOnly) {
  const std::vector<PeerSettings> cur = {settings(1, {prefix("10.1.0.0/24")})};
  DeviceChange c;
  PeerChange gone;
  gone.public_key = key(1);
  gone.remove = true;
  PeerChange ghost;
  ghost.public_key = key(3);
  ghost.update_only = true;
  ghost.allowed_ips = {prefix("10.3.0.0/24")};
  c.peers = {gone, ghost};
  auto plan = plan_change(c, cur, kOwn, false, kLimits);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->peers.at(key(1)).drop);
  EXPECT_FALSE(plan->peers.at(key(3)).present) << "update_only never creates";
  EXPECT_TRUE(plan->claims.empty());
  EXPECT_TRUE(plan->created.empty());
}

TEST(DevicePlan, TheDevicesOwnKeyIsNeverAPeer) {
  const std::vector<PeerSettings> cur = {settings(1, {prefix("10.1.0.0/24")})};
  DeviceChange c;
  PeerChange self;
  self.public_key = kOwn;
  self.allowed_ips = {prefix("10.7.0.0/24")};
  c.peers = {self};
  auto plan = plan_change(c, cur, kOwn, false, kLimits);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->peers.contains(kOwn));
  // A new private key whose public key is a live peer's: that peer goes.
  auto rekey = plan_change(DeviceChange{}, cur, key(1), true, kLimits);
  ASSERT_TRUE(rekey.ok());
  EXPECT_TRUE(rekey->peers.at(key(1)).drop);
  EXPECT_TRUE(rekey->claims.empty());
}

TEST(DevicePlan, CapacityIsCheckedOnTheResult) {
  DeviceChange c;
  for (std::uint8_t n = 1; n <= 9; ++n) {
    PeerChange pc;
    pc.public_key = key(n);
    c.peers.push_back(pc);
  }
  auto plan = plan_change(c, {}, kOwn, false, kLimits);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("too many peers: 9 after this change, room for 8"), std::string::npos);
  DeviceChange routes;
  PeerChange pc;
  pc.public_key = key(1);
  for (int i = 0; i < 17; ++i) pc.allowed_ips.push_back(prefix(("10.0." + std::to_string(i) + ".0/24").c_str()));
  routes.peers = {pc};
  plan = plan_change(routes, {}, kOwn, false, kLimits);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("too many AllowedIPs"), std::string::npos);
  pc.allowed_ips.pop_back();
  routes.peers = {pc};
  EXPECT_TRUE(plan_change(routes, {}, kOwn, false, kLimits).ok()) << "16 per family fit";
}

}  // namespace
}  // namespace wg::ctl
