#include "control/handshake_gate.h"

#include <chrono>

namespace wg::ctl {

bool HandshakeGate::observe_backlog(std::size_t waiting, MonoTime now) {
  if (waiting <= kUnderLoadBacklog) return false;
  const bool entered = now >= under_load_until_;
  under_load_until_ = now + std::chrono::seconds(1);
  return entered;
}

HandshakeGate::Decision HandshakeGate::admit(std::span<const std::uint8_t> msg, const net::IpAddress& src,
                                             const noise::CookieSource& cookie_src, MonoTime now,
                                             noise::MessageCookieReply& reply) {
  const bool loaded = under_load(now);
  const noise::MacResult mac = checker_.validate(msg, loaded, cookie_src, now);
  if (mac == noise::MacResult::kInvalidMac) return {Verdict::kDrop, HandshakeReject::invalid_mac};
  if (loaded && mac != noise::MacResult::kValidMacWithCookie) {
    // Prove your address first: a cookie reply costs us no DH (5.3).
    checker_.create_reply(reply, msg, noise::load_le32(msg.data() + 4), cookie_src, now);
    return {Verdict::kCookieReply, HandshakeReject::cookie_required};
  }
  // Under load, even proven sources get only their share of our DH work.
  if (loaded && !limiter_.allow(src, now)) return {Verdict::kDrop, HandshakeReject::rate_limited};
  return {Verdict::kProcess, HandshakeReject::kCount};
}

}  // namespace wg::ctl
