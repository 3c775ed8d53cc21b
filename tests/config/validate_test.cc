// Cross-field checks: each names the line at fault and, where two lines conflict, the other one too.
#include "config/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/parser.h"
#include "tests/config/test_config.h"

namespace wg::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace wg::config::testing;

void expect_error(std::string_view text, int line, std::string_view what) {
  const std::string msg = config_error_of(text);
  EXPECT_THAT(msg, StartsWith("t.conf:" + std::to_string(line) + ": ")) << expand(text);
  EXPECT_THAT(msg, HasSubstr(std::string(what))) << expand(text);
}

// kMinimal with `line` inserted before the InsidePort line (so it becomes line 5).
std::string with_gateway_line(std::string_view line) {
  std::string text(kMinimal);
  text.insert(text.find("InsidePort"), std::string(line) + "\n");
  return text;
}

TEST(Validate, MinimalAndSampleAreValid) {
  EXPECT_EQ(config_error_of(kMinimal), "");
  std::ifstream in(WGGATE_SOURCE_ROOT "/config/samples/wggate.conf");
  ASSERT_TRUE(in) << "sample config missing";
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<Config> c = parse_config(text.str(), "wggate.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(validate_config(*c).ok()) << validate_config(*c);
  EXPECT_EQ(c->peers.size(), 3u);
  EXPECT_EQ(c->interface.private_key_file, "wggate.key");
}

TEST(Validate, MorePeersThanMaxPeers) {
  // kMinimal has one [Peer]; a second makes two, more than MaxPeers = 1 (line 5).
  expect_error(with_gateway_line("MaxPeers = 1") + "[Peer]\nPublicKey = {pub2}\n", 5,
               "2 peers are configured, more than MaxPeers 1");
  EXPECT_EQ(config_error_of(with_gateway_line("MaxPeers = 2") + "[Peer]\nPublicKey = {pub2}\n"), "");
}

TEST(Validate, DuplicatePeerNamesBothLines) {
  expect_error(std::string(kMinimal) + "[Peer]\nPublicKey = {pub1}\n", 14,
               "duplicate peer: this PublicKey is already used at line 11 (the [Peer] at line 10)");
}

TEST(Validate, OwnPublicKeyAsPeer) {
  expect_error(std::string(kMinimal) + "[Peer]\nPublicKey = {own}\n", 14,
               "PublicKey is this gateway's own public key (from line 2)");
}

TEST(Validate, AllowedIpsGivenTwice) {
  expect_error(std::string(kMinimal) + "[Peer]\nPublicKey = {pub2}\nAllowedIPs = 10.3.0.0/16, 10.2.0.0/16\n", 15,
               "AllowedIPs 10.2.0.0/16 is already routed to the [Peer] at line 10 (AllowedIPs at line 12)");
  expect_error(std::string(kMinimal) + "AllowedIPs = 10.2.0.0/16\n", 13,
               "AllowedIPs 10.2.0.0/16 is listed twice (also at line 12)");
  // Overlapping but different prefixes are longest-prefix routing, not a conflict.
  EXPECT_EQ(config_error_of(std::string(kMinimal) + "[Peer]\nPublicKey = {pub2}\nAllowedIPs = 10.2.3.0/24\n"), "");
}

TEST(Validate, MtuTooSmallForIpv6) {
  EXPECT_EQ(config_error_of(with_gateway_line("MTU = 1000")), "") << "IPv4 only: 576 and up is fine";
  expect_error(std::string(with_gateway_line("MTU = 1000")) + "AllowedIPs = fd02::/48\n", 5,
               "MTU 1000 is below 1280, the IPv6 minimum (RFC 8200), and IPv6 is configured at line 14");
}

TEST(Validate, SidesNeedTheirOwnPorts) {
  std::string text(kMinimal);
  text.replace(text.find("OutsidePort = 1"), 15, "OutsidePort = 0");
  expect_error(text, 6, "OutsidePort 0 is also the InsidePort (line 5)");
}

TEST(Validate, OwnAddresses) {
  std::string text(kMinimal);
  text.insert(text.find("InsidePort"), "InsideAddress = 10.9.0.1/24\nOutsideAddress = 10.9.0.1/24\n");
  expect_error(text, 6, "address 10.9.0.1 is already configured at line 5");
  text = with_gateway_line("OutsideAddress = 10.1.0.2/16");
  expect_error(text, 5, "OutsideAddress 10.1.0.2/16 overlaps InsideAddress 10.1.0.1/24 (line 8)");
}

TEST(Validate, OutsideGatewayMustBeOnLink) {
  expect_error(with_gateway_line("OutsideGateway = 198.51.100.1"), 5,
               "OutsideGateway 198.51.100.1 is not in any OutsideAddress subnet");
  expect_error(with_gateway_line("OutsideGateway = 192.0.2.10"), 5,
               "OutsideGateway 192.0.2.10 is this gateway's own address (line 9)");
  EXPECT_EQ(config_error_of(with_gateway_line("OutsideGateway = 192.0.2.1")), "");
}

TEST(Validate, EndpointsMustBeReachable) {
  expect_error(std::string(kMinimal) + "Endpoint = [2001:db8::1]:51820\n", 13,
               "Endpoint [2001:db8::1]:51820 is IPv6 but no OutsideAddress is IPv6");
  expect_error(std::string(kMinimal) + "Endpoint = 198.51.100.7:51820\n", 13,
               "Endpoint 198.51.100.7:51820 is not on-link on the outside and there is no IPv4 OutsideGateway");
  EXPECT_EQ(config_error_of(std::string(kMinimal) + "Endpoint = 192.0.2.77:51820\n"), "") << "on-link";
  EXPECT_EQ(config_error_of(with_gateway_line("OutsideGateway = 192.0.2.1") + "Endpoint = 198.51.100.7:51820\n"), "")
      << "routed";
}

TEST(Validate, OwnKeyCheckNeedsTheKey) {
  // Before the loader has read PrivateKeyFile, the own-key check is skipped rather than failing.
  absl::StatusOr<Config> c = parse_config(expand(std::string(kMinimal) + "[Peer]\nPublicKey = {own}\n"), "t.conf");
  ASSERT_TRUE(c.ok()) << c.status();
  c->interface.private_key.reset();
  EXPECT_TRUE(validate_config(*c).ok());
}

}  // namespace
}  // namespace wg::config
