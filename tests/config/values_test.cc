// Value syntax on its own: ranges at both edges, the spellings wg(8) accepts, and interface-address rules.
#include "config/values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/config/test_config.h"

namespace wg::config {
namespace {

using ::testing::HasSubstr;

std::string error_of(const absl::Status& s) { return std::string(s.message()); }

TEST(Values, Numbers) {
  EXPECT_EQ(*parse_udp_port("1"), 1);
  EXPECT_EQ(*parse_udp_port("65535"), 65535);
  EXPECT_FALSE(parse_udp_port("0").ok());
  EXPECT_FALSE(parse_udp_port("65536").ok());
  EXPECT_FALSE(parse_udp_port("99999999999").ok());
  EXPECT_FALSE(parse_udp_port("+5").ok());
  EXPECT_FALSE(parse_udp_port("5 ").ok());
  EXPECT_EQ(*parse_mtu("576"), 576);
  EXPECT_EQ(*parse_mtu("1954"), 1954);  // the most one 2048-byte mbuf carries with the outer headers
  EXPECT_FALSE(parse_mtu("575").ok());
  EXPECT_FALSE(parse_mtu("1955").ok());
  EXPECT_FALSE(parse_mtu("9000").ok()) << "jumbo frames: refused, not accepted and then lost";
  EXPECT_EQ(*parse_keepalive("0"), 0);
  EXPECT_EQ(*parse_keepalive("off"), 0);
  EXPECT_EQ(*parse_keepalive("Off"), 0);
  EXPECT_EQ(*parse_keepalive("65535"), 65535);
  EXPECT_THAT(error_of(parse_keepalive("-1").status()), HasSubstr("or \"off\""));
}

TEST(Values, GatewayName) {
  EXPECT_EQ(*parse_gateway_name("wggate0"), "wggate0");
  EXPECT_EQ(*parse_gateway_name("a_b=c+d.e-f"), "a_b=c+d.e-f");
  EXPECT_EQ(*parse_gateway_name("fifteen-chars-x"), "fifteen-chars-x");
  EXPECT_FALSE(parse_gateway_name("sixteen-chars-xx").ok());
  for (const char* bad : {"", ".", "..", "wg 0", "wg/0", "wg:0", "wgé"}) {
    EXPECT_FALSE(parse_gateway_name(bad).ok()) << bad;
  }
}

TEST(Values, CryptoEngineAndPorts) {
  EXPECT_EQ(*parse_crypto_engine("auto"), CryptoEngine::kAuto);
  EXPECT_EQ(*parse_crypto_engine("SIMD"), CryptoEngine::kSimd);
  EXPECT_EQ(*parse_crypto_engine("avx512"), CryptoEngine::kAvx512);
  EXPECT_EQ(*parse_crypto_engine("ipsec-mb"), CryptoEngine::kIpsecMb);
  EXPECT_EQ(*parse_crypto_engine("sodium"), CryptoEngine::kSodium);
  EXPECT_FALSE(parse_crypto_engine("ipsecmb").ok());
  for (const CryptoEngine e : {CryptoEngine::kAuto, CryptoEngine::kSimd, CryptoEngine::kAvx512, CryptoEngine::kIpsecMb,
                               CryptoEngine::kSodium}) {
    EXPECT_EQ(*parse_crypto_engine(to_string(e)), e);
  }
  EXPECT_TRUE(*parse_on_off("on"));
  EXPECT_FALSE(*parse_on_off("OFF"));
  EXPECT_FALSE(parse_on_off("1").ok());
  EXPECT_EQ(*parse_dpdk_port("0000:03:00.0"), "0000:03:00.0");
  EXPECT_FALSE(parse_dpdk_port("net 0").ok());
}

TEST(Values, Keys) {
  EXPECT_TRUE(parse_secret_key(testing::kPrivate).ok());
  EXPECT_TRUE(parse_public_key(testing::kPublic1).ok());
  EXPECT_THAT(error_of(parse_secret_key("abc").status()), HasSubstr("invalid key"));
  EXPECT_THAT(error_of(parse_public_key(std::string(testing::kPublic1) + "=").status()), HasSubstr("invalid key"));
}

TEST(Values, Lists) {
  EXPECT_EQ(split_list(" a , b,c ")->size(), 3u);
  EXPECT_FALSE(split_list("a,,b").ok());
  EXPECT_FALSE(split_list("a,").ok());
  EXPECT_TRUE(parse_allowed_ips("")->empty());
  EXPECT_EQ(parse_allowed_ips("0.0.0.0/0, ::/0")->size(), 2u);
  EXPECT_THAT(error_of(parse_allowed_ips("fd00::1/64").status()),
              HasSubstr("fd00::1/64 has host bits set; did you mean fd00::/64?"));
}

TEST(Values, InterfaceAddresses) {
  EXPECT_EQ(parse_interface_addresses("10.1.0.1/24, fd01::1/64")->size(), 2u);
  // Point-to-point and host lengths have no subnet or broadcast address to confuse.
  EXPECT_TRUE(parse_interface_addresses("10.1.0.0/31, 10.1.0.1/31, 10.2.0.0/32, fd01::/127, fd02::/128").ok());
  EXPECT_THAT(error_of(parse_interface_addresses("fd01::/64").status()), HasSubstr("did you mean fd01::1/64?"));
  EXPECT_THAT(error_of(parse_interface_addresses("10.1.0.3/30").status()), HasSubstr("broadcast"));
  EXPECT_TRUE(parse_interface_addresses("10.1.0.2/30").ok());
  EXPECT_TRUE(parse_interface_addresses("fd01::ffff:ffff:ffff:ffff/64").ok()) << "IPv6 has no broadcast";
  EXPECT_FALSE(parse_interface_addresses("").ok());
  EXPECT_THAT(error_of(parse_interface_addresses("fd01::1").status()), HasSubstr("e.g. fd01::1/64"));
}

}  // namespace
}  // namespace wg::config
