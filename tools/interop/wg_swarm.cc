// wg-swarm: many WireGuard peers simulated with lib/ (no DPDK) over one UDP socket, to load a gateway with
// thousands of real sessions (issue 15). Peer i's key pair is derived from --seed and i (BLAKE2s, clamped),
// so the gateway's configuration and the swarm agree without a key file; its tunnel address is
// --tunnel-base + i.
//
// Flow:
//   --print-peers: one [Peer] section per simulated peer (PublicKey, AllowedIPs = its tunnel /32), for the
//     gateway's configuration; nothing is sent.
//   otherwise, one event loop over the socket, at most --inflight peers in progress at a time (a client
//   that paces itself, so that the gateway's handshake queue stays short of "under load"):
//     start: send an initiation (mac1; mac2 once a cookie reply arrived; again after REKEY_TIMEOUT)
//     response: a session; send one ICMP echo request from the tunnel address to --target (again after 2 s)
//     echo reply to the tunnel address: a keepalive back (the passive keepalive), and the peer is done.
//   Exit status 0 once every peer is done, 1 on timeout (with the counts), 2 on bad usage.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/crypto/blake2s.h"
#include "lib/crypto/key_encoding.h"
#include "lib/net/inet.h"
#include "lib/protocol/cookie.h"
#include "lib/protocol/noise.h"
#include "lib/protocol/transport.h"

namespace wg::tools {
namespace {

using namespace std::chrono_literals;
using noise::HandshakeResult;

constexpr auto kEchoRetry = 2s;
constexpr std::uint16_t kEchoIdent = 0x5753;  // "WS"

struct Options {
  std::uint32_t peers = 0;
  std::string seed = "wg-swarm";
  std::string tunnel_base, gateway_public_key, endpoint, target;
  int listen_port = 0;
  std::uint32_t inflight = 64;
  int timeout_s = 120;
  bool print_peers = false;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "wg-swarm: %s\nusage: wg-swarm --peers N [--seed S] --tunnel-base A.B.C.D --print-peers\n"
               "       wg-swarm --peers N [--seed S] --tunnel-base A.B.C.D --gateway-public-key B64\n"
               "         --endpoint IP:PORT --target A.B.C.D [--listen-port P] [--inflight K] [--timeout S]\n",
               msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--print-peers") {
      o.print_peers = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--peers") o.peers = static_cast<std::uint32_t>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--seed") o.seed = v;
    else if (a == "--tunnel-base") o.tunnel_base = v;
    else if (a == "--gateway-public-key") o.gateway_public_key = v;
    else if (a == "--endpoint") o.endpoint = v;
    else if (a == "--target") o.target = v;
    else if (a == "--listen-port") o.listen_port = std::atoi(v.c_str());
    else if (a == "--inflight") o.inflight = static_cast<std::uint32_t>(std::strtoul(v.c_str(), nullptr, 10));
    else if (a == "--timeout") o.timeout_s = std::atoi(v.c_str());
    else usage(("unknown option " + a).c_str());
  }
  if (o.peers == 0 || o.tunnel_base.empty()) usage("--peers and --tunnel-base are required");
  if (!o.print_peers && (o.gateway_public_key.empty() || o.endpoint.empty() || o.target.empty())) {
    usage("--gateway-public-key, --endpoint and --target are required");
  }
  if (o.inflight == 0) usage("--inflight must be at least 1");
  return o;
}

crypto::Key derive_private_key(const std::string& seed, std::uint32_t i) {
  const std::uint8_t n[4] = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8),
                             static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 24)};
  const crypto::Hash h = crypto::hash({{reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()}, {n, 4}});
  crypto::Key k{std::span<const std::uint8_t, 32>(h)};
  crypto::clamp(k);
  return k;
}

std::uint32_t tunnel_ip_be(std::uint32_t base_be, std::uint32_t i) { return htonl(ntohl(base_be) + i); }

struct SimPeer {
  enum class State : std::uint8_t { kWaiting, kHandshake, kEcho, kDone };
  std::uint32_t n = 0;
  noise::StaticIdentity identity;
  std::unique_ptr<noise::Handshake> handshake;
  noise::CookieMaker maker;
  noise::KeypairSet keypairs;
  std::uint32_t index = 0;  // our sender index of the current handshake
  State state = State::kWaiting;
  MonoTime retry_at{0};
};

class Swarm : public noise::PeerDirectory {
 public:
  explicit Swarm(const Options& o) : opt_(o) {}

  noise::Handshake* find_by_static_key(const crypto::PublicKey&) override { return nullptr; }  // we never answer
  noise::Handshake* find_by_local_index(std::uint32_t index) override {
    SimPeer* p = by_index(index);
    return p != nullptr && p->index == index ? p->handshake.get() : nullptr;
  }

  int run() {
    if (inet_pton(AF_INET, opt_.tunnel_base.c_str(), &base_be_) != 1) usage("bad --tunnel-base");
    if (inet_pton(AF_INET, opt_.target.c_str(), &target_be_) != 1) usage("bad --target");
    auto gw = crypto::public_key_from_base64(opt_.gateway_public_key);
    if (!gw.ok()) usage("bad --gateway-public-key");
    gateway_ = *gw;
    const auto colon = opt_.endpoint.rfind(':');
    endpoint_.sin_family = AF_INET;
    if (colon == std::string::npos || inet_pton(AF_INET, opt_.endpoint.substr(0, colon).c_str(), &endpoint_.sin_addr) != 1) {
      usage("bad --endpoint");
    }
    endpoint_.sin_port = htons(static_cast<std::uint16_t>(std::atoi(opt_.endpoint.c_str() + colon + 1)));
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    const int buf = 8 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(static_cast<std::uint16_t>(opt_.listen_port));
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      std::perror("wg-swarm: bind");
      return 1;
    }
    peers_.resize(opt_.peers);
    const MonoTime start = mono_now();
    const MonoTime deadline = start + std::chrono::seconds(opt_.timeout_s);
    MonoTime next_report = start + 2s;
    while (done_ < opt_.peers) {
      const MonoTime now = mono_now();
      if (now >= deadline) {
        report("timed out", now - start);
        return 1;
      }
      while (active_.size() < opt_.inflight && next_ < opt_.peers) start_peer(next_++, now);
      retry_due(now);
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10) > 0) {
        for (int i = 0; i < 512 && receive(mono_now()); ++i) {
        }
      }
      if (now >= next_report) {
        report("progress", now - start);
        next_report = now + 2s;
      }
    }
    report("all peers done", mono_now() - start);
    return 0;
  }

 private:
  void report(const char* what, std::chrono::nanoseconds elapsed) const {
    std::printf("wg-swarm: %s: done=%u of %u in_flight=%zu handshakes=%u cookies=%u initiation_retries=%u "
                "echo_retries=%u elapsed_s=%.2f\n",
                what, done_, opt_.peers, active_.size(), handshakes_, cookies_, init_retries_, echo_retries_,
                std::chrono::duration<double>(elapsed).count());
  }

  SimPeer* by_index(std::uint32_t index) {
    auto it = index_.find(index);
    return it == index_.end() ? nullptr : it->second;
  }

  void start_peer(std::uint32_t n, MonoTime now) {
    auto p = std::make_unique<SimPeer>();
    p->n = n;
    p->identity.set(derive_private_key(opt_.seed, n));
    p->handshake = std::make_unique<noise::Handshake>(p->identity, gateway_, crypto::Key());
    p->maker.init(gateway_);
    peers_[n] = std::move(p);
    active_.push_back(n);
    send_initiation(*peers_[n], now);
  }

  void send_bytes(std::span<const std::uint8_t> b) {
    sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&endpoint_), sizeof(endpoint_));
  }

  void send_initiation(SimPeer& p, MonoTime now) {
    if (p.index != 0) index_.erase(p.index);
    do {
      p.index = crypto::random_u32();
    } while (p.index == 0 || index_.count(p.index) != 0);
    index_[p.index] = &p;
    noise::MessageInitiation m{};
    if (create_initiation(*p.handshake, p.index, noise::tai64n_now(), m) != HandshakeResult::kOk) {
      std::fprintf(stderr, "wg-swarm: peer %u: cannot create an initiation\n", p.n);
      std::exit(1);
    }
    p.maker.add_macs({reinterpret_cast<std::uint8_t*>(&m), sizeof(m)}, now);
    send_bytes({reinterpret_cast<const std::uint8_t*>(&m), sizeof(m)});
    p.state = SimPeer::State::kHandshake;
    p.retry_at = now + noise::kRekeyTimeout;
  }

  void send_echo(SimPeer& p, MonoTime now) {
    noise::Keypair* kp = p.keypairs.current();
    static const char kPayload[] = "wg-swarm echo";
    std::uint8_t inner[128];
    const std::size_t n =
        net::build_icmp_echo(inner, tunnel_ip_be(base_be_, p.n), target_be_, net::kIcmpEchoRequest, kEchoIdent,
                             static_cast<std::uint16_t>(p.n), {reinterpret_cast<const std::uint8_t*>(kPayload),
                                                               sizeof(kPayload) - 1});
    std::uint8_t wire[256];
    std::size_t len = 0;
    if (kp != nullptr && encrypt_transport(*kp, {inner, n}, 1420, wire, len) == noise::TransportResult::kOk) {
      send_bytes({wire, len});
    }
    p.state = SimPeer::State::kEcho;
    p.retry_at = now + kEchoRetry;
  }

  // Only the peers in progress: at most --inflight of them.
  void retry_due(MonoTime now) {
    for (std::size_t i = 0; i < active_.size();) {
      SimPeer& p = *peers_[active_[i]];
      if (p.state == SimPeer::State::kDone) {
        active_[i] = active_.back();
        active_.pop_back();
        continue;
      }
      if (now >= p.retry_at) {
        if (p.state == SimPeer::State::kHandshake) {
          ++init_retries_;
          send_initiation(p, now);
        } else {
          ++echo_retries_;
          send_echo(p, now);
        }
      }
      ++i;
    }
  }

  // One datagram; false when there was none.
  bool receive(MonoTime now) {
    std::uint8_t buf[2048];
    const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 4) return n >= 0;
    const std::span<std::uint8_t> msg(buf, static_cast<std::size_t>(n));
    switch (noise::classify_message(buf, msg.size())) {
      case noise::MessageClass::kResponse: {
        noise::MessageResponse m;
        std::memcpy(&m, buf, sizeof(m));
        SimPeer* p = by_index(noise::load_le32(m.receiver));
        if (p == nullptr || p->state != SimPeer::State::kHandshake) return true;
        // mac1 of a response is keyed to our public key; consume_response checks the Noise payload itself.
        noise::ConsumedMessage c = consume_response(m, p->identity, *this);
        if (c.result != HandshakeResult::kOk) {
          std::fprintf(stderr, "wg-swarm: peer %u: response refused: %s\n", p->n, to_string(c.result));
          return true;
        }
        for (auto& old : p->keypairs.install(begin_session(*c.handshake, now))) old.reset();
        index_[p->keypairs.current()->local_index] = p;
        ++handshakes_;
        send_echo(*p, now);
        return true;
      }
      case noise::MessageClass::kCookieReply: {
        noise::MessageCookieReply m;
        std::memcpy(&m, buf, sizeof(m));
        SimPeer* p = by_index(noise::load_le32(m.receiver));
        if (p == nullptr || p->state != SimPeer::State::kHandshake) return true;
        if (p->maker.consume_reply(m, now) == noise::CookieReplyResult::kOk) {
          ++cookies_;
          send_initiation(*p, now);
        }
        return true;
      }
      case noise::MessageClass::kTransport: {
        std::uint32_t receiver = 0;
        if (!noise::transport_receiver(msg, receiver)) return true;
        SimPeer* p = by_index(receiver);
        noise::Keypair* kp = p == nullptr ? nullptr : p->keypairs.find(receiver);
        if (kp == nullptr) return true;
        std::uint8_t plain[2048];
        std::size_t plain_len = 0;
        if (decrypt_transport(*kp, msg, plain, plain_len) != noise::TransportResult::kOk || plain_len == 0) return true;
        net::IcmpEcho echo;
        if (net::parse_icmp_echo({plain, plain_len}, echo) && echo.type == net::kIcmpEchoReply &&
            echo.dst_be == tunnel_ip_be(base_be_, p->n) && echo.ident == kEchoIdent &&
            p->state == SimPeer::State::kEcho) {
          p->state = SimPeer::State::kDone;
          ++done_;
          // Data received and nothing to send back: a keepalive, as every WireGuard peer sends one (6.5; the
          // kernel after 10 s, here at once). Without it the gateway, having sent data and heard nothing,
          // would rightly start a new handshake 15 s later.
          std::uint8_t wire[64];
          std::size_t len = 0;
          if (encrypt_transport(*kp, {}, 1420, wire, len) == noise::TransportResult::kOk) send_bytes({wire, len});
        }
        return true;
      }
      default:
        return true;
    }
  }

  const Options& opt_;
  crypto::PublicKey gateway_{};
  std::uint32_t base_be_ = 0, target_be_ = 0;
  sockaddr_in endpoint_{};
  int fd_ = -1;
  std::vector<std::unique_ptr<SimPeer>> peers_;  // created when started
  std::vector<std::uint32_t> active_;            // peers in progress
  std::unordered_map<std::uint32_t, SimPeer*> index_;  // handshake and keypair indexes -> peer
  std::uint32_t next_ = 0, done_ = 0, handshakes_ = 0, cookies_ = 0, init_retries_ = 0, echo_retries_ = 0;
};

int print_peers(const Options& o) {
  std::uint32_t base_be = 0;
  if (inet_pton(AF_INET, o.tunnel_base.c_str(), &base_be) != 1) usage("bad --tunnel-base");
  for (std::uint32_t i = 0; i < o.peers; ++i) {
    const crypto::PublicKey pub = crypto::public_key(derive_private_key(o.seed, i));
    char ip[INET_ADDRSTRLEN];
    const std::uint32_t a = tunnel_ip_be(base_be, i);
    inet_ntop(AF_INET, &a, ip, sizeof(ip));
    std::printf("[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n\n", crypto::to_base64(pub).c_str(), ip);
  }
  return 0;
}

}  // namespace
}  // namespace wg::tools

int main(int argc, char** argv) {
  using namespace wg;
  const tools::Options o = tools::parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (o.print_peers) return tools::print_peers(o);
  tools::Swarm s(o);
  return s.run();
}
