// mac1, mac2 and cookie replies: WireGuard's DoS mitigation (WireGuard paper, section 5.3 "Denial of
// Service Mitigation & Cookies", 5.4.4 and 5.4.7).
//
// Every handshake message carries mac1 = Mac(Hash("mac1----" || S_pub_receiver), msg[..mac1]), so a
// responder drops messages not meant for it before spending a DH on them. Under load the responder also asks
// for mac2 = Mac(cookie, msg[..mac2]), where cookie = Mac(R_changing, source IP || port) is sent back in a
// cookie reply, XChaCha20-Poly1305-encrypted under Hash("cookie--" || S_pub_responder) with mac1 as AD.
//
// CookieChecker is the receiving side (one per device); CookieMaker the sending side (one per peer).
#pragma once

#include <cstdint>
#include <span>

#include "lib/crypto/blake2s.h"
#include "lib/crypto/secret.h"
#include "lib/crypto/x25519.h"
#include "lib/protocol/messages.h"
#include "lib/util/clock.h"

namespace wg::noise {

enum class MacResult : std::uint8_t {
  kInvalidMac,             // mac1 wrong: not for us, or corrupted; drop silently
  kValidMacButNoCookie,    // mac1 right; mac2 absent or wrong (under load: answer with a cookie reply)
  kValidMacWithCookie,     // mac1 and mac2 right: the source address is proven
};

enum class CookieReplyResult : std::uint8_t {
  kOk,
  kUnexpected,   // we have not sent a handshake message it could answer
  kBadTag,       // does not decrypt under our peer's cookie key with our last mac1
};

// Source address bytes a cookie is bound to: IPv4 (4) or IPv6 (16) address, then the UDP port (network order).
struct CookieSource {
  std::uint8_t bytes[18];
  std::uint8_t len;
};
CookieSource cookie_source_v4(std::uint32_t addr_be, std::uint16_t port_be);
CookieSource cookie_source_v6(const std::uint8_t addr[16], std::uint16_t port_be);

class CookieChecker {
 public:
  // Derives the mac1 and cookie keys from our public key; call again when the private key changes.
  void init(const crypto::PublicKey& local_public);

  // `msg` is a whole initiation or response. mac2 is checked only when `check_cookie` (under load).
  MacResult validate(std::span<const std::uint8_t> msg, bool check_cookie, const CookieSource& src,
                     MonoTime now);
  // Builds the reply to `msg` (whose sender index is `sender_index`), for `src`.
  void create_reply(MessageCookieReply& out, std::span<const std::uint8_t> msg, std::uint32_t sender_index,
                    const CookieSource& src, MonoTime now);

 private:
  crypto::Mac make_cookie(const CookieSource& src, MonoTime now);

  crypto::Key mac1_key_;
  crypto::Key cookie_key_;
  crypto::Key secret_;
  MonoTime secret_birth_{0};
  bool secret_valid_ = false;
};

class CookieMaker {
 public:
  void init(const crypto::PublicKey& remote_public);
  // Fills mac1 and, when we hold a fresh cookie, mac2 of a whole initiation or response.
  void add_macs(std::span<std::uint8_t> msg, MonoTime now);
  CookieReplyResult consume_reply(const MessageCookieReply& reply, MonoTime now);
  bool has_fresh_cookie(MonoTime now) const;

 private:
  crypto::Key mac1_key_;
  crypto::Key cookie_key_;
  crypto::Secret<kCookieLen> cookie_;
  MonoTime cookie_birth_{0};
  bool have_cookie_ = false;
  crypto::Mac last_mac1_sent_{};
  bool have_sent_mac1_ = false;
};

}  // namespace wg::noise
