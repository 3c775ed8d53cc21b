// wg-interop: speaks WireGuard over a plain UDP socket with one peer, using only lib/ (no DPDK). It proves the
// protocol core is wire-compatible with a stock peer (wireguard-go in tests/e2e/interop_test.sh).
//
// Flow, in one event loop over the socket:
//   --mode initiate: send an initiation (mac1, and mac2 once a cookie reply arrived), consume the response,
//     then send ICMP echo requests to --peer-tunnel-ip inside transport packets and count the echo replies.
//   --mode respond: wait for the peer's initiation, answer it, and reply to the ICMP echo requests it sends
//     (the responder's keypair becomes usable only when its first data packet arrives).
// In both modes every message type is handled, so either side may rekey. Exit status 0 once --count echoes
// were completed, 1 on timeout or failure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/crypto/key_encoding.h"
#include "lib/net/inet.h"
#include "lib/protocol/cookie.h"
#include "lib/protocol/noise.h"
#include "lib/protocol/transport.h"

namespace wg::tools {
namespace {

using namespace std::chrono_literals;
using noise::HandshakeResult;

struct Options {
  std::string private_key, peer_public_key, preshared_key, endpoint;
  std::string tunnel_ip, peer_tunnel_ip;
  std::string mode = "initiate";
  int listen_port = 51820;
  int count = 3;
  int timeout_s = 30;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "wg-interop: %s\nusage: wg-interop --private-key B64 --peer-public-key B64 [--preshared-key B64]\n"
               "  [--endpoint IP:PORT] [--listen-port N] --tunnel-ip A.B.C.D --peer-tunnel-ip A.B.C.D\n"
               "  [--mode initiate|respond] [--count N] [--timeout SECONDS]\n"
               "Keys may also be given as @FILE to read them from a file.\n",
               msg);
  std::exit(2);
}

std::string read_key_arg(const std::string& v) {
  if (v.empty() || v[0] != '@') return v;
  FILE* f = std::fopen(v.c_str() + 1, "r");
  if (f == nullptr) usage(("cannot read " + v.substr(1)).c_str());
  char buf[128] = {};
  const std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  std::string s(buf, n);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    std::string v = argv[++i];
    if (a == "--private-key") o.private_key = read_key_arg(v);
    else if (a == "--peer-public-key") o.peer_public_key = read_key_arg(v);
    else if (a == "--preshared-key") o.preshared_key = read_key_arg(v);
    else if (a == "--endpoint") o.endpoint = v;
    else if (a == "--listen-port") o.listen_port = std::atoi(v.c_str());
    else if (a == "--tunnel-ip") o.tunnel_ip = v;
    else if (a == "--peer-tunnel-ip") o.peer_tunnel_ip = v;
    else if (a == "--mode") o.mode = v;
    else if (a == "--count") o.count = std::atoi(v.c_str());
    else if (a == "--timeout") o.timeout_s = std::atoi(v.c_str());
    else usage(("unknown option " + a).c_str());
  }
  if (o.private_key.empty() || o.peer_public_key.empty() || o.tunnel_ip.empty() || o.peer_tunnel_ip.empty()) {
    usage("missing a required option");
  }
  if (o.mode != "initiate" && o.mode != "respond") usage("--mode is initiate or respond");
  if (o.mode == "initiate" && o.endpoint.empty()) usage("--mode initiate needs --endpoint");
  return o;
}

class Session : public noise::PeerDirectory {
 public:
  Session(const Options& o, const crypto::Key& priv, const crypto::PublicKey& peer, const crypto::Key& psk)
      : opt_(o) {
    identity_.set(priv);
    handshake_ = std::make_unique<noise::Handshake>(identity_, peer, psk);
    checker_.init(identity_.public_key);
    maker_.init(peer);
    inet_pton(AF_INET, o.tunnel_ip.c_str(), &tunnel_ip_);
    inet_pton(AF_INET, o.peer_tunnel_ip.c_str(), &peer_tunnel_ip_);
  }

  noise::Handshake* find_by_static_key(const crypto::PublicKey& key) override {
    return key == handshake_->remote_static() ? handshake_.get() : nullptr;
  }
  noise::Handshake* find_by_local_index(std::uint32_t index) override {
    return index == handshake_index_ ? handshake_.get() : nullptr;
  }

  int run() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(static_cast<std::uint16_t>(opt_.listen_port));
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      std::perror("wg-interop: bind");
      return 1;
    }
    if (!opt_.endpoint.empty() && !parse_endpoint(opt_.endpoint)) usage("bad --endpoint");
    std::printf("wg-interop: public key %s, listening on %d, mode %s\n",
                crypto::to_base64(identity_.public_key).c_str(), opt_.listen_port, opt_.mode.c_str());
    const MonoTime deadline = mono_now() + std::chrono::seconds(opt_.timeout_s);
    MonoTime next_initiation{0}, next_ping{0};
    while (done_ < opt_.count) {
      const MonoTime now = mono_now();
      if (now >= deadline) {
        std::fprintf(stderr, "wg-interop: timed out with %d of %d echoes done\n", done_, opt_.count);
        return 1;
      }
      if (opt_.mode == "initiate") {
        if (keypairs_.current() == nullptr && now >= next_initiation) {
          send_initiation(now);
          next_initiation = now + noise::kRekeyTimeout;
        }
        if (keypairs_.current() != nullptr && now >= next_ping) {
          send_echo(net::kIcmpEchoRequest, peer_tunnel_ip_, static_cast<std::uint16_t>(sent_pings_ + 1));
          ++sent_pings_;
          next_ping = now + 1s;
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) receive(mono_now());
    }
    std::printf("wg-interop: %d echoes done\n", done_);
    return 0;
  }

 private:
  bool parse_endpoint(const std::string& ep) {
    const auto colon = ep.rfind(':');
    if (colon == std::string::npos) return false;
    endpoint_.sin_family = AF_INET;
    endpoint_.sin_port = htons(static_cast<std::uint16_t>(std::atoi(ep.c_str() + colon + 1)));
    have_endpoint_ = inet_pton(AF_INET, ep.substr(0, colon).c_str(), &endpoint_.sin_addr) == 1;
    return have_endpoint_;
  }

  void send_bytes(std::span<const std::uint8_t> b) {
    if (!have_endpoint_) return;
    sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&endpoint_), sizeof(endpoint_));
  }

  std::uint32_t new_index() {
    handshake_index_ = crypto::random_u32();
    return handshake_index_;
  }

  void send_initiation(MonoTime now) {
    if (create_initiation(*handshake_, new_index(), noise::tai64n_now(), last_initiation_) != HandshakeResult::kOk) {
      std::fprintf(stderr, "wg-interop: cannot create initiation\n");
      return;
    }
    maker_.add_macs({reinterpret_cast<std::uint8_t*>(&last_initiation_), sizeof(last_initiation_)}, now);
    send_bytes({reinterpret_cast<const std::uint8_t*>(&last_initiation_), sizeof(last_initiation_)});
    std::printf("wg-interop: sent handshake initiation\n");
  }

  void install(noise::KeypairPtr kp) {
    for (auto& old : keypairs_.install(std::move(kp))) old.reset();
  }

  void send_echo(std::uint8_t type, std::uint32_t dst, std::uint16_t seq,
                 std::span<const std::uint8_t> payload = {}, std::uint16_t ident = 0x5747) {
    noise::Keypair* kp = keypairs_.current();
    if (kp == nullptr) return;
    static const char kMarker[] = "wggate-interop-echo";
    std::uint8_t inner[1500];
    if (payload.empty()) payload = {reinterpret_cast<const std::uint8_t*>(kMarker), sizeof(kMarker) - 1};
    const std::size_t n = net::build_icmp_echo(inner, tunnel_ip_, dst, type, ident, seq, payload);
    std::uint8_t wire[1600];
    std::size_t len = 0;
    if (encrypt_transport(*kp, {inner, n}, 1420, wire, len) == noise::TransportResult::kOk) {
      send_bytes({wire, len});
    }
  }

  void receive(MonoTime now) {
    std::uint8_t buf[2048];
    sockaddr_in from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 4) return;
    const std::span<std::uint8_t> msg(buf, static_cast<std::size_t>(n));
    const auto src = noise::cookie_source_v4(from.sin_addr.s_addr, from.sin_port);
    switch (noise::classify_message(buf, msg.size())) {
      case noise::MessageClass::kInitiation: {
        if (checker_.validate(msg, false, src, now) == noise::MacResult::kInvalidMac) {
          std::fprintf(stderr, "wg-interop: initiation with bad mac1\n");
          return;
        }
        noise::MessageInitiation m;
        std::memcpy(&m, buf, sizeof(m));
        noise::ConsumedMessage c = consume_initiation(m, identity_, *this, now);
        if (c.result != HandshakeResult::kOk) {
          std::fprintf(stderr, "wg-interop: initiation refused: %s\n", to_string(c.result));
          return;
        }
        noise::MessageResponse r;
        if (create_response(*c.handshake, new_index(), r) != HandshakeResult::kOk) return;
        maker_.add_macs({reinterpret_cast<std::uint8_t*>(&r), sizeof(r)}, now);
        endpoint_ = from;  // roaming: answer where it came from
        have_endpoint_ = true;
        send_bytes({reinterpret_cast<const std::uint8_t*>(&r), sizeof(r)});
        install(begin_session(*c.handshake, now));
        std::printf("wg-interop: answered handshake initiation\n");
        return;
      }
      case noise::MessageClass::kResponse: {
        if (checker_.validate(msg, false, src, now) == noise::MacResult::kInvalidMac) return;
        noise::MessageResponse m;
        std::memcpy(&m, buf, sizeof(m));
        noise::ConsumedMessage c = consume_response(m, identity_, *this);
        if (c.result != HandshakeResult::kOk) {
          std::fprintf(stderr, "wg-interop: response refused: %s\n", to_string(c.result));
          return;
        }
        install(begin_session(*c.handshake, now));
        std::printf("wg-interop: handshake complete (initiator)\n");
        return;
      }
      case noise::MessageClass::kCookieReply: {
        noise::MessageCookieReply m;
        std::memcpy(&m, buf, sizeof(m));
        if (maker_.consume_reply(m, now) == noise::CookieReplyResult::kOk) send_initiation(now);
        return;
      }
      case noise::MessageClass::kTransport: {
        std::uint32_t receiver = 0;
        if (!noise::transport_receiver(msg, receiver)) return;
        noise::Keypair* kp = keypairs_.find(receiver);
        if (kp == nullptr) return;
        std::size_t plain_len = 0;
        std::uint8_t plain[2048];
        const auto r = decrypt_transport(*kp, msg, plain, plain_len);
        if (r != noise::TransportResult::kOk) {
          std::fprintf(stderr, "wg-interop: transport refused: %s\n", to_string(r));
          return;
        }
        std::vector<noise::KeypairPtr> retired;
        if (keypairs_.received_with(kp, retired)) std::printf("wg-interop: handshake confirmed (responder)\n");
        endpoint_ = from;
        have_endpoint_ = true;
        if (plain_len == 0) return;  // keepalive
        net::IcmpEcho echo;
        if (!net::parse_icmp_echo({plain, plain_len}, echo)) return;
        if (echo.type == net::kIcmpEchoRequest && echo.dst_be == tunnel_ip_) {
          send_echo(net::kIcmpEchoReply, echo.src_be, echo.seq, echo.payload, echo.ident);
          if (opt_.mode == "respond") ++done_;
          std::printf("wg-interop: answered echo request seq=%u\n", echo.seq);
        } else if (echo.type == net::kIcmpEchoReply && echo.src_be == peer_tunnel_ip_ && opt_.mode == "initiate") {
          ++done_;
          std::printf("wg-interop: echo reply seq=%u from %s\n", echo.seq, opt_.peer_tunnel_ip.c_str());
        }
        return;
      }
      default:
        return;
    }
  }

  const Options& opt_;
  noise::StaticIdentity identity_;
  std::unique_ptr<noise::Handshake> handshake_;
  std::uint32_t handshake_index_ = 0;
  noise::CookieChecker checker_;
  noise::CookieMaker maker_;
  noise::KeypairSet keypairs_;
  noise::MessageInitiation last_initiation_{};
  std::uint32_t tunnel_ip_ = 0, peer_tunnel_ip_ = 0;
  sockaddr_in endpoint_{};
  bool have_endpoint_ = false;
  int fd_ = -1;
  int done_ = 0;
  int sent_pings_ = 0;
};

}  // namespace
}  // namespace wg::tools

int main(int argc, char** argv) {
  using namespace wg;
  tools::Options o = tools::parse(argc, argv);
  auto priv = crypto::key_from_base64(o.private_key);
  if (!priv.ok()) tools::usage("bad --private-key");
  auto peer = crypto::public_key_from_base64(o.peer_public_key);
  if (!peer.ok()) tools::usage("bad --peer-public-key");
  crypto::Key psk;
  if (!o.preshared_key.empty()) {
    auto p = crypto::key_from_base64(o.preshared_key);
    if (!p.ok()) tools::usage("bad --preshared-key");
    psk = *p;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  tools::Session s(o, *priv, *peer, psk);
  return s.run();
}
