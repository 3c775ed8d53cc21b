#include "lib/protocol/cookie.h"

#include <cstring>

#include "lib/crypto/aead.h"

namespace wg::noise {
namespace {

using crypto::Bytes;

Bytes label(std::string_view s) { return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

void derive(crypto::Key& out, std::string_view lbl, const crypto::PublicKey& pub) {
  crypto::Hash h = crypto::hash({label(lbl), Bytes(pub)});
  out.assign(h);
}

// mac1 sits 32 bytes before the end of both handshake messages, mac2 16 bytes before.
constexpr std::size_t kMac1FromEnd = 2 * kMacLen;
constexpr std::size_t kMac2FromEnd = kMacLen;

}  // namespace

CookieSource cookie_source_v4(std::uint32_t addr_be, std::uint16_t port_be) {
  CookieSource s{};
  std::memcpy(s.bytes, &addr_be, 4);
  std::memcpy(s.bytes + 4, &port_be, 2);
  s.len = 6;
  return s;
}

CookieSource cookie_source_v6(const std::uint8_t addr[16], std::uint16_t port_be) {
  CookieSource s{};
  std::memcpy(s.bytes, addr, 16);
  std::memcpy(s.bytes + 16, &port_be, 2);
  s.len = 18;
  return s;
}

void CookieChecker::init(const crypto::PublicKey& local_public) {
  derive(mac1_key_, kLabelMac1, local_public);
  derive(cookie_key_, kLabelCookie, local_public);
}

crypto::Mac CookieChecker::make_cookie(const CookieSource& src, MonoTime now) {
  // R_changing is replaced every two minutes, so a cookie is good for at most that long.
  if (!secret_valid_ || now - secret_birth_ >= kCookieSecretMaxAge) {
    crypto::random_bytes(secret_.span());
    secret_birth_ = now;
    secret_valid_ = true;
  }
  return crypto::mac(secret_.span(), Bytes(src.bytes, src.len));
}

MacResult CookieChecker::validate(std::span<const std::uint8_t> msg, bool check_cookie,
                                  const CookieSource& src, MonoTime now) {
  if (msg.size() < kMac1FromEnd) return MacResult::kInvalidMac;
  const std::size_t mac1_at = msg.size() - kMac1FromEnd;
  const std::size_t mac2_at = msg.size() - kMac2FromEnd;
  crypto::Mac want = crypto::mac(mac1_key_.span(), msg.first(mac1_at));
  if (!crypto::equal_ct(want, msg.subspan(mac1_at, kMacLen))) return MacResult::kInvalidMac;
  if (!check_cookie) return MacResult::kValidMacButNoCookie;
  crypto::Mac cookie = make_cookie(src, now);
  want = crypto::mac(cookie, msg.first(mac2_at));
  if (!crypto::equal_ct(want, msg.subspan(mac2_at, kMacLen))) return MacResult::kValidMacButNoCookie;
  return MacResult::kValidMacWithCookie;
}

void CookieChecker::create_reply(MessageCookieReply& out, std::span<const std::uint8_t> msg,
                                 std::uint32_t sender_index, const CookieSource& src, MonoTime now) {
  put_type(out.header, MessageType::kCookieReply);
  store_le32(out.receiver, sender_index);
  crypto::random_bytes(out.nonce);
  crypto::Mac cookie = make_cookie(src, now);
  const auto mac1 = msg.subspan(msg.size() - kMac1FromEnd, kMacLen);
  crypto::xseal(out.encrypted_cookie, cookie_key_.span(), std::span<const std::uint8_t, kCookieNonceLen>(out.nonce),
                cookie, mac1);
}

void CookieMaker::init(const crypto::PublicKey& remote_public) {
  derive(mac1_key_, kLabelMac1, remote_public);
  derive(cookie_key_, kLabelCookie, remote_public);
  have_cookie_ = false;
  have_sent_mac1_ = false;
}

bool CookieMaker::has_fresh_cookie(MonoTime now) const {
  return have_cookie_ && now - cookie_birth_ < kCookieValidity;
}

void CookieMaker::add_macs(std::span<std::uint8_t> msg, MonoTime now) {
  const std::size_t mac1_at = msg.size() - kMac1FromEnd;
  const std::size_t mac2_at = msg.size() - kMac2FromEnd;
  crypto::Mac m1 = crypto::mac(mac1_key_.span(), msg.first(mac1_at));
  std::memcpy(msg.data() + mac1_at, m1.data(), kMacLen);
  last_mac1_sent_ = m1;
  have_sent_mac1_ = true;
  if (has_fresh_cookie(now)) {
    crypto::Mac m2 = crypto::mac(cookie_.span(), msg.first(mac2_at));
    std::memcpy(msg.data() + mac2_at, m2.data(), kMacLen);
  } else {
    std::memset(msg.data() + mac2_at, 0, kMacLen);
  }
}

CookieReplyResult CookieMaker::consume_reply(const MessageCookieReply& reply, MonoTime now) {
  if (!have_sent_mac1_) return CookieReplyResult::kUnexpected;
  std::uint8_t cookie[kCookieLen];
  if (!crypto::xopen(cookie, cookie_key_.span(), std::span<const std::uint8_t, kCookieNonceLen>(reply.nonce),
                     Bytes(reply.encrypted_cookie), last_mac1_sent_)) {
    return CookieReplyResult::kBadTag;
  }
  cookie_.assign(std::span<const std::uint8_t, kCookieLen>(cookie));
  sodium_memzero(cookie, sizeof(cookie));
  cookie_birth_ = now;
  have_cookie_ = true;
  have_sent_mac1_ = false;  // one reply per message we sent
  return CookieReplyResult::kOk;
}

}  // namespace wg::noise
