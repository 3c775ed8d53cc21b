// The gateway's configuration as parsed from its wg-quick style file (config/parser.h), with the line every
// value came from so that later checks (main's port lookup, the control plane) can still say "file:line".
// A line of 0 means "not written; the default applies". Plain data: no ports, no runtime state.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "lib/crypto/secret.h"
#include "lib/crypto/x25519.h"
#include "lib/net/ip.h"

namespace wg::config {

inline constexpr std::uint16_t kDefaultListenPort = 51820;
inline constexpr std::uint16_t kDefaultMtu = 1420;  // as wg-quick: 1500 minus the IPv6 + UDP + WireGuard overhead
inline constexpr std::uint16_t kMinMtu = 576;       // RFC 791: every IPv4 host accepts 576 bytes
inline constexpr std::uint16_t kMinMtuIpv6 = 1280;  // RFC 8200 section 5
// Every packet lives in one mbuf of 2048 data bytes (DPDK's default; chained mbufs are dropped), and the
// largest frame is a transport message over IPv6: Ethernet 14 + IPv6 40 + UDP 8 + WireGuard header 16 + tag
// 16 around the inner packet. A larger MTU would be accepted and then silently lost, so it is refused here.
inline constexpr std::uint16_t kMbufDataRoom = 2048;
inline constexpr std::uint16_t kOuterOverhead = 14 + 40 + 8 + 16 + 16;
inline constexpr std::uint16_t kMaxMtu = kMbufDataRoom - kOuterOverhead;  // 1954: no jumbo frames
inline constexpr std::string_view kDefaultName = "wggate0";
// MaxPeers: what the tables are sized for. Without it, room for twice the peers in the file and at least
// kDefaultMaxPeers, so that `wg set` and reloads can add some; the ceiling is the kernel's (2^20 per device).
inline constexpr std::uint32_t kDefaultMaxPeers = 1024;
inline constexpr std::uint32_t kMaxPeersLimit = 1u << 20;
// HandshakeThreads: threads that do the handshakes' X25519 work (control/handshake_pool.h); 0 does it on the
// control thread itself.
inline constexpr std::uint32_t kDefaultHandshakeThreads = 1;
inline constexpr std::uint32_t kMaxHandshakeThreads = 64;
inline constexpr std::size_t kMaxNameLen = 15;  // IFNAMSIZ - 1: the name also names the UAPI socket
inline constexpr std::uint16_t kDefaultMetricsPort = 9586;

// Which batch AEAD implementation the workers use; kAuto measures the ones this CPU runs at startup and picks
// the fastest per operation and packet size class (lib/crypto/engine_auto.h).
enum class CryptoEngine { kAuto, kSimd, kAvx512, kIpsecMb, kSodium };
// "auto", "simd", "avx512", "ipsec-mb", "sodium": the spelling the config file uses.
std::string_view to_string(CryptoEngine engine);

// A prefix and the line it was written on (AllowedIPs, InsideAddress, OutsideAddress).
struct PrefixAt {
  net::Prefix prefix;
  int line = 0;
};

struct Interface {
  int line = 0;  // the [Interface] header
  // From PrivateKey, or filled by the loader from PrivateKeyFile; always set after load_config().
  std::optional<crypto::Key> private_key;
  // PrivateKeyFile as written; load_config() replaces it with the path it actually used.
  std::string private_key_file;
  int private_key_line = 0;  // the PrivateKey or PrivateKeyFile line
  std::uint16_t listen_port = kDefaultListenPort;
  int listen_port_line = 0;
};

struct Peer {
  int line = 0;  // the [Peer] header
  crypto::PublicKey public_key{};
  int public_key_line = 0;
  std::optional<crypto::Key> preshared_key;
  int preshared_key_line = 0;
  // Every AllowedIPs entry in order, host bits already refused (prefix == prefix.masked()).
  std::vector<PrefixAt> allowed_ips;
  std::optional<net::Endpoint> endpoint;
  int endpoint_line = 0;
  std::uint16_t persistent_keepalive = 0;  // seconds; 0 = off
  int persistent_keepalive_line = 0;
};

struct Gateway {
  int line = 0;  // the [Gateway] header
  std::string name = std::string(kDefaultName);
  int name_line = 0;
  // A DPDK port id ("0") or device name ("net_af_packet0", "0000:03:00.0"); main resolves it and reports
  // an unknown one at its line.
  std::string inside_port;
  int inside_port_line = 0;
  std::string outside_port;
  int outside_port_line = 0;
  // The gateway's own addresses with their subnet length (host bits set: "10.1.0.1/24").
  std::vector<PrefixAt> inside_addresses;
  std::vector<PrefixAt> outside_addresses;
  // Next hop for peer endpoints that are not on-link on the outside.
  std::optional<net::IpAddress> outside_gateway;
  int outside_gateway_line = 0;
  std::uint16_t mtu = kDefaultMtu;  // inner MTU
  int mtu_line = 0;
  net::Endpoint metrics_address{net::IpAddress{4, {127, 0, 0, 1}}, kDefaultMetricsPort};
  int metrics_address_line = 0;
  CryptoEngine crypto_engine = CryptoEngine::kAuto;
  int crypto_engine_line = 0;
  // One peer's heavy bursts cut into slices for every worker, sent in order (dataplane/spread.h); "off":
  // each burst stays on the worker that received it.
  bool spread = true;
  int spread_line = 0;
  // Per-peer series in the metrics (wireguard_peer_*: four per peer, labelled by public key); "off" for
  // large deployments where Prometheus' cardinality matters: the device's totals stay.
  bool peer_metrics = true;
  int peer_metrics_line = 0;
  std::uint32_t max_peers = 0;  // 0: not set (peer_capacity() picks)
  int max_peers_line = 0;
  std::uint32_t handshake_threads = kDefaultHandshakeThreads;
  int handshake_threads_line = 0;
};

// InvalidArgumentError("file:line: message"), the form of every configuration error.
inline absl::Status config_error(std::string_view file, int line, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", file, line, message));
}

struct Config {
  std::string file;  // the name errors use, as given to the parser or loader
  Interface interface;
  std::vector<Peer> peers;
  Gateway gateway;
  // Non-fatal findings for main to log, each "file:line: message" (e.g. a world-readable file that holds
  // a private key, as wg-quick warns; a key file that was just created).
  std::vector<std::string> notices;

  // "file:line", for callers that report a problem with a value found later (e.g. an unknown DPDK port).
  std::string where(int line) const { return absl::StrFormat("%s:%d", file, line); }
  // config_error() for this file.
  absl::Status error(int line, std::string_view message) const { return config_error(file, line, message); }
  // How many peers the gateway makes room for: MaxPeers, or max(kDefaultMaxPeers, twice the [Peer]s).
  std::uint32_t peer_capacity() const {
    if (gateway.max_peers != 0) return gateway.max_peers;
    const std::size_t twice = 2 * peers.size();
    return static_cast<std::uint32_t>(std::min<std::size_t>(kMaxPeersLimit, std::max<std::size_t>(kDefaultMaxPeers, twice)));
  }
};

}  // namespace wg::config
