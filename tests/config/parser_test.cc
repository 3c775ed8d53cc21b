// The parser: every field and default, wg-quick's lexical rules, and one test per kind of error with the
// exact "file:line: " it must start with. Key material must never appear in a message.
#include "config/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/crypto/key_encoding.h"
#include "tests/config/test_config.h"

namespace wg::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace wg::config::testing;

Config parse_ok(std::string_view text) {
  absl::StatusOr<Config> c = parse_config(expand(text), "t.conf");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : Config{};
}

// The error of `text` must start with "t.conf:LINE: " and contain `what`.
void expect_error(std::string_view text, int line, std::string_view what) {
  const std::string msg = config_error_of(text);
  EXPECT_THAT(msg, StartsWith("t.conf:" + std::to_string(line) + ": ")) << expand(text);
  EXPECT_THAT(msg, HasSubstr(std::string(what))) << expand(text);
}

net::Prefix prefix(std::string_view text) { return *net::Prefix::parse(text); }

TEST(Parser, FullConfig) {
  const Config c = parse_ok(
      "# comment\n"                                      // 1
      "[Interface]\n"                                    // 2
      "PrivateKey = {priv}\n"                            // 3
      "ListenPort = 51000\n"                             // 4
      "[Gateway]\n"                                      // 5
      "Name = gw-1\n"                                    // 6
      "InsidePort = 0\n"                                 // 7
      "OutsidePort = net_af_packet1\n"                   // 8
      "InsideAddress = 10.1.0.1/24, fd01::1/64\n"        // 9
      "OutsideAddress = 192.0.2.10/24\n"                 // 10
      "OutsideAddress = 2001:db8::10/64\n"               // 11
      "OutsideGateway = 192.0.2.1\n"                     // 12
      "MTU = 1380\n"                                     // 13
      "MetricsAddress = [::1]:9100\n"                    // 14
      "CryptoEngine = ipsec-mb\n"                        // 15
      "[Peer]\n"                                         // 16
      "PublicKey = {pub1}\n"                             // 17
      "PresharedKey = {psk}\n"                           // 18
      "AllowedIPs = 10.2.0.0/16, fd02::/48\n"            // 19
      "Endpoint = 198.51.100.20:51820\n"                 // 20
      "PersistentKeepalive = 25\n"                       // 21
      "[Peer]\n"                                         // 22
      "PublicKey = {pub2}\n"                             // 23
      "PersistentKeepalive = off\n");                    // 24
  EXPECT_EQ(c.file, "t.conf");
  EXPECT_EQ(c.interface.line, 2);
  ASSERT_TRUE(c.interface.private_key.has_value());
  EXPECT_EQ(crypto::to_base64(c.interface.private_key->span()), kPrivate);
  EXPECT_EQ(c.interface.private_key_line, 3);
  EXPECT_TRUE(c.interface.private_key_file.empty());
  EXPECT_EQ(c.interface.listen_port, 51000);
  EXPECT_EQ(c.interface.listen_port_line, 4);

  const Gateway& g = c.gateway;
  EXPECT_EQ(g.line, 5);
  EXPECT_EQ(g.name, "gw-1");
  EXPECT_EQ(g.inside_port, "0");
  EXPECT_EQ(g.inside_port_line, 7);
  EXPECT_EQ(g.outside_port, "net_af_packet1");
  EXPECT_EQ(g.outside_port_line, 8);
  ASSERT_EQ(g.inside_addresses.size(), 2u);
  EXPECT_EQ(g.inside_addresses[1].prefix.to_string(), "fd01::1/64");
  EXPECT_EQ(g.inside_addresses[1].line, 9);
  ASSERT_EQ(g.outside_addresses.size(), 2u);
  EXPECT_EQ(g.outside_addresses[1].line, 11);
  ASSERT_TRUE(g.outside_gateway.has_value());
  EXPECT_EQ(g.outside_gateway->to_string(), "192.0.2.1");
  EXPECT_EQ(g.outside_gateway_line, 12);
  EXPECT_EQ(g.mtu, 1380);
  EXPECT_EQ(g.metrics_address.to_string(), "[::1]:9100");
  EXPECT_EQ(g.crypto_engine, CryptoEngine::kIpsecMb);
  EXPECT_EQ(g.crypto_engine_line, 15);

  ASSERT_EQ(c.peers.size(), 2u);
  const Peer& p = c.peers[0];
  EXPECT_EQ(p.line, 16);
  EXPECT_EQ(crypto::to_base64(p.public_key), kPublic1);
  EXPECT_EQ(p.public_key_line, 17);
  ASSERT_TRUE(p.preshared_key.has_value());
  EXPECT_EQ(crypto::to_base64(p.preshared_key->span()), kPsk);
  ASSERT_EQ(p.allowed_ips.size(), 2u);
  EXPECT_EQ(p.allowed_ips[0].prefix, prefix("10.2.0.0/16"));
  EXPECT_EQ(p.allowed_ips[1].prefix, prefix("fd02::/48"));
  EXPECT_EQ(p.allowed_ips[1].line, 19);
  ASSERT_TRUE(p.endpoint.has_value());
  EXPECT_EQ(p.endpoint->to_string(), "198.51.100.20:51820");
  EXPECT_EQ(p.endpoint_line, 20);
  EXPECT_EQ(p.persistent_keepalive, 25);
  EXPECT_EQ(c.peers[1].persistent_keepalive, 0);
  EXPECT_FALSE(c.peers[1].preshared_key.has_value());
  EXPECT_FALSE(c.peers[1].endpoint.has_value());
  EXPECT_TRUE(c.peers[1].allowed_ips.empty());
  EXPECT_TRUE(c.notices.empty());
}

TEST(Parser, Defaults) {
  const Config c = parse_ok(kMinimal);
  EXPECT_EQ(c.interface.listen_port, kDefaultListenPort);
  EXPECT_EQ(c.interface.listen_port_line, 0);
  EXPECT_EQ(c.gateway.name, "wggate0");
  EXPECT_EQ(c.gateway.name_line, 0);
  EXPECT_EQ(c.gateway.mtu, 1420);
  EXPECT_EQ(c.gateway.metrics_address.to_string(), "127.0.0.1:9586");
  EXPECT_EQ(c.gateway.crypto_engine, CryptoEngine::kAuto);
  EXPECT_TRUE(c.gateway.spread);
  EXPECT_EQ(c.gateway.spread_line, 0);
  EXPECT_FALSE(c.gateway.outside_gateway.has_value());
  EXPECT_EQ(c.where(12), "t.conf:12");
  EXPECT_EQ(c.error(3, "boom").message(), "t.conf:3: boom");
}

TEST(Parser, LexicalRulesOfWgQuick) {
  const Config c = parse_ok(
      "  [interface]  \r\n"
      "privatekey={priv}   # trailing comment\r\n"
      "\tLISTENPORT   =   4242\n"
      "[ GATEWAY ]\n"
      "insideport = 0\n"
      "OutSidePort = 1\n"
      "insideaddress = 10.1.0.1/24   ,fd01::1/64\n"
      "outsideaddress = 192.0.2.10/24\n"
      "cryptoengine = SODIUM\n"
      "[Peer]\n"
      "publickey = {pub1}\n"
      "allowedips = 10.2.0.0/16\n"
      "AllowedIPs = 10.3.0.0/16, 10.4.0.0/16\n"
      "AllowedIPs =\n"
      "persistentkeepalive = OFF\n"
      "#[Peer]\n");
  EXPECT_EQ(c.interface.listen_port, 4242);
  EXPECT_EQ(c.gateway.inside_addresses.size(), 2u);
  EXPECT_EQ(c.gateway.crypto_engine, CryptoEngine::kSodium);
  ASSERT_EQ(c.peers.size(), 1u);
  ASSERT_EQ(c.peers[0].allowed_ips.size(), 3u) << "AllowedIPs accumulates";
  EXPECT_EQ(c.peers[0].allowed_ips[2].line, 13);
}

TEST(Parser, PrivateKeyFileIsRecordedNotRead) {
  std::string text = expand(kMinimal);
  text.replace(text.find("PrivateKey = "), 13 + kPrivate.size(), "PrivateKeyFile = keys/wg.key");
  const Config c = parse_ok(text);
  EXPECT_FALSE(c.interface.private_key.has_value());
  EXPECT_EQ(c.interface.private_key_file, "keys/wg.key");
  EXPECT_EQ(c.interface.private_key_line, 2);
}

TEST(ParserErrors, UnknownSection) {
  expect_error(std::string(kMinimal) + "[Peers]\n", 13, "unknown section [Peers]");
  expect_error(std::string(kMinimal) + "[Peer\n", 13, "missing ']'");
}

TEST(ParserErrors, UnknownKeyNamesTheSection) {
  expect_error(std::string(kMinimal) + "Persistentkeepalive2 = 5\n", 13, "not a key name");
  expect_error(std::string(kMinimal) + "FwMark = 5\n", 13, "unknown key FwMark in [Peer]");
  expect_error(std::string(kMinimal) + "ListenPort = 5\n", 13,
               "unknown key ListenPort in [Peer]; it belongs in [Interface]");
  expect_error("[Interface]\nPrivateKey = {priv}\nAddress = 10.0.0.1/24\n", 3,
               "unknown key Address in [Interface]; wggate's own addresses are InsideAddress and OutsideAddress");
  expect_error("[Interface]\nPrivateKey = {priv}\nPostUp = iptables -A\n", 3, "wg-quick key");
}

TEST(ParserErrors, KeyOutsideAnySection) {
  expect_error("# header\nListenPort = 51820\n[Interface]\n", 2,
               "ListenPort outside any section; it belongs in [Interface]");
  expect_error("Foo = 1\n", 1, "key Foo outside any section");
}

TEST(ParserErrors, MissingEquals) {
  expect_error("[Interface]\nPrivateKey {priv}\n", 2, "missing '=' after PrivateKey");
  expect_error("[Interface]\nListenPort 51820\n", 2, "expected 'Key = Value'");
  expect_error("[Interface]\n{psk}x y\n", 2, "not a key name");
  expect_error("[Interface]\n= 5\n", 2, "missing key name");
}

TEST(ParserErrors, EmptyValue) { expect_error("[Interface]\nListenPort =   \n", 2, "ListenPort: empty value"); }

TEST(ParserErrors, BadValuesSayWhy) {
  const auto with_gateway_line = [](std::string_view line) {
    std::string text(kMinimal);
    text.insert(text.find("InsidePort"), std::string(line) + "\n");  // becomes line 5
    return text;
  };
  expect_error(with_gateway_line("MTU = 575"), 5, "MTU: 575 is out of range 576..1954");
  expect_error(with_gateway_line("MTU = 9000"), 5, "MTU: 9000 is larger than 1954, the most one 2048-byte packet buffer");
  expect_error(with_gateway_line("MTU = 1955"), 5, "larger than 1954");
  EXPECT_EQ(parse_ok(with_gateway_line("MTU = 1954")).gateway.mtu, 1954);
  expect_error(with_gateway_line("MTU = 1400 bytes"), 5, "is not a number");
  expect_error(with_gateway_line("Name = wggate-much-too-long"), 5, "1..15 characters");
  expect_error(with_gateway_line("Name = wg/0"), 5, "not a valid interface name");
  expect_error(with_gateway_line("CryptoEngine = fast"), 5, "not one of auto, simd, avx512, ipsec-mb, sodium");
  expect_error(with_gateway_line("Spread = yes"), 5, "Spread: 'yes' is not on or off");
  EXPECT_FALSE(parse_ok(with_gateway_line("Spread = Off")).gateway.spread);
  EXPECT_EQ(parse_ok(with_gateway_line("Spread = off")).gateway.spread_line, 5);
  expect_error(with_gateway_line("MaxPeers = 0"), 5, "MaxPeers: 0 is out of range 1..1048576");
  expect_error(with_gateway_line("MaxPeers = 1048577"), 5, "MaxPeers: 1048577 is out of range 1..1048576");
  expect_error(with_gateway_line("MaxPeers = 99999999999"), 5, "MaxPeers: '99999999999' is not a number");
  expect_error(with_gateway_line("MaxPeers = 10k"), 5, "is not a number");
  EXPECT_EQ(parse_ok(with_gateway_line("MaxPeers = 1048576")).gateway.max_peers, 1048576u);
  EXPECT_EQ(parse_ok(with_gateway_line("MaxPeers = 100000")).peer_capacity(), 100000u);
  EXPECT_EQ(parse_ok(kMinimal).peer_capacity(), 1024u) << "default: room for 1024 at least";
  expect_error(with_gateway_line("HandshakeThreads = 65"), 5, "HandshakeThreads: 65 is out of range 0..64");
  expect_error(with_gateway_line("HandshakeThreads = -1"), 5, "HandshakeThreads: '-1' is not a number");
  EXPECT_EQ(parse_ok(with_gateway_line("HandshakeThreads = 0")).gateway.handshake_threads, 0u);
  EXPECT_EQ(parse_ok(with_gateway_line("HandshakeThreads = 4")).gateway.handshake_threads, 4u);
  EXPECT_EQ(parse_ok(kMinimal).gateway.handshake_threads, kDefaultHandshakeThreads);
  expect_error(with_gateway_line("PeerMetrics = none"), 5, "PeerMetrics: 'none' is not on or off");
  EXPECT_FALSE(parse_ok(with_gateway_line("PeerMetrics = off")).gateway.peer_metrics);
  EXPECT_TRUE(parse_ok(kMinimal).gateway.peer_metrics);
  Config many;
  many.peers.resize(600);
  EXPECT_EQ(many.peer_capacity(), 1200u) << "default: room for twice the file's peers";
  many.gateway.max_peers = 700;
  EXPECT_EQ(many.peer_capacity(), 700u);
  expect_error(with_gateway_line("OutsideGateway = gw.example.com"), 5, "OutsideGateway: 'gw.example.com'");
  expect_error(with_gateway_line("MetricsAddress = localhost:9586"), 5, "hostnames are not resolved");
  expect_error(with_gateway_line("InsideAddress = 10.5.0.1"), 5, "needs its subnet length, e.g. 10.5.0.1/24");
  expect_error(with_gateway_line("InsideAddress = 10.5.0.0/24"), 5,
               "10.5.0.0/24 is the subnet itself, not an address in it; did you mean 10.5.0.1/24?");
  expect_error(with_gateway_line("InsideAddress = 10.5.0.255/24"), 5, "broadcast address of 10.5.0.0/24");
  expect_error(with_gateway_line("InsideAddress = 10.5.0.1/24,,10.6.0.1/24"), 5, "empty item");
  expect_error(with_gateway_line("InsidePort = port 0"), 5, "not a DPDK port id or device name");

  const std::string peer_line = std::string(kMinimal);  // line 13 is in [Peer]
  expect_error(peer_line + "AllowedIPs = 10.0.0.1/24\n", 13,
               "AllowedIPs: 10.0.0.1/24 has host bits set; did you mean 10.0.0.0/24?");
  expect_error(peer_line + "AllowedIPs = 10.0.0.0/33\n", 13, "longer than 32");
  expect_error(peer_line + "AllowedIPs = 10.0.0.0 /8\n", 13, "not an IPv4 address");
  expect_error(peer_line + "Endpoint = vpn.example.com:51820\n", 13, "hostnames are not resolved");
  expect_error(peer_line + "Endpoint = 2001:db8::1:51820\n", 13, "[address]:port");
  expect_error(peer_line + "Endpoint = 192.0.2.1\n", 13, "missing port");
  expect_error(peer_line + "PersistentKeepalive = 65536\n", 13, "0..65535 seconds, or \"off\"");
  expect_error("[Interface]\nListenPort = 0\n", 2, "ListenPort: 0 is out of range 1..65535");
  expect_error("[Interface]\nListenPort = 65536\n", 2, "out of range 1..65535");
}

TEST(ParserErrors, InvalidKeysAreNeverPrinted) {
  // One character off: the text is almost a secret, so it must not be echoed.
  std::string almost(kPrivate);
  almost[5] = '!';
  const std::string msg = config_error_of("[Interface]\nPrivateKey = " + almost + "\n");
  EXPECT_THAT(msg, StartsWith("t.conf:2: PrivateKey: invalid key"));
  EXPECT_THAT(msg, Not(HasSubstr(almost.substr(6, 20))));
  expect_error(std::string(kMinimal) + "PresharedKey = abc\n", 13, "PresharedKey: invalid key");
  expect_error("[Peer]\nPublicKey = {priv}x\n", 2, "PublicKey: invalid key");

  // A key pasted on a line of its own ends in '=', so it reads as "KEY =" with an empty value.
  std::string pasted = config_error_of("[Interface]\n{priv}\n");
  EXPECT_THAT(pasted, StartsWith("t.conf:2: "));
  EXPECT_THAT(pasted, Not(HasSubstr(std::string(kPrivate).substr(0, 20))));
  // A key in the wrong field: whatever quotes the value, the key is blanked.
  pasted = config_error_of("[Interface]\nListenPort = {priv}\n");
  EXPECT_THAT(pasted, StartsWith("t.conf:2: ListenPort: "));
  EXPECT_THAT(pasted, HasSubstr("(key not shown)"));
  EXPECT_THAT(pasted, Not(HasSubstr(std::string(kPrivate).substr(0, 20))));
  pasted = config_error_of(std::string(kMinimal) + "Endpoint = {psk}\n");
  EXPECT_THAT(pasted, Not(HasSubstr(std::string(kPsk).substr(0, 20))));
}

TEST(ParserErrors, DuplicateKey) {
  expect_error("[Interface]\nListenPort = 1\n\nlistenport = 2\n", 4,
               "duplicate ListenPort in [Interface] (first at line 2)");
  expect_error(std::string(kMinimal) + "PublicKey = {pub2}\n", 13, "duplicate PublicKey in [Peer] (first at line 11)");
  expect_error("[Interface]\nPrivateKey = {priv}\nPrivateKeyFile = k\n", 3,
               "only one of PrivateKey and PrivateKeyFile may be given (PrivateKey is at line 2)");
  expect_error("[Interface]\nPrivateKeyFile = k\nPrivateKey = {priv}\n", 3, "(PrivateKeyFile is at line 2)");
}

TEST(ParserErrors, DuplicateSection) {
  expect_error(std::string(kMinimal) + "[Interface]\n", 13, "second [Interface] section (the first is at line 1)");
  expect_error(std::string(kMinimal) + "[gateway]\n", 13, "second [Gateway] section (the first is at line 4)");
}

TEST(ParserErrors, MissingRequiredKeysNameTheHeader) {
  expect_error("[Interface]\nListenPort = 1\n[Gateway]\n", 1, "[Interface] needs PrivateKey or PrivateKeyFile");
  expect_error(std::string(kMinimal) + "\n[Peer]\nAllowedIPs = 10.9.0.0/16\n", 14, "[Peer] needs PublicKey");
  for (const std::string_view key : {"InsidePort", "OutsidePort", "InsideAddress", "OutsideAddress"}) {
    std::string text(kMinimal);
    const std::size_t at = text.find(key);
    text.replace(at, text.find('\n', at) - at, "# removed");
    expect_error(text, 4, "[Gateway] needs " + std::string(key));
  }
}

TEST(ParserErrors, MissingSections) {
  expect_error("", 1, "no [Interface] section");
  expect_error("[Gateway]\nInsidePort = 0\n", 1, "[Gateway] needs OutsidePort");
  expect_error("[Interface]\nPrivateKey = {priv}\n", 1, "no [Gateway] section");
  expect_error("[Gateway]\nInsidePort = 0\nOutsidePort = 1\nInsideAddress = 10.0.0.1/8\n"
               "OutsideAddress = 192.0.2.1/24\n",
               1, "no [Interface] section");
}

}  // namespace
}  // namespace wg::config
