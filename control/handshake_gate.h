// What a handshake message must get past before the control thread spends a DH on it (WireGuard paper 5.3):
//   1. mac1, always: a message not made for our public key is dropped (invalid_mac);
//   2. under load, mac2: a message without a valid cookie is answered with a cookie reply and nothing else
//      (cookie_required), so a spoofed source costs us one BLAKE2s and one XChaCha20, never a DH;
//   3. under load, a rate per proven source (RateLimiter: 20/s, bursts of 5; IPv6 per /64) (rate_limited).
// "Under load" is the backlog of the handshake ring (dataplane/tables.h) plus the initiations waiting for a
// handshake thread (handshake_pool.h), above kUnderLoadBacklog, and
// lasts one second after the last time it was seen: an ICMP flood or packets for offline peers, on rings of
// their own, never put real peers to the cookie round trip.
//
// Thread rule: control thread only; time and the backlog are parameters (unit-testable). The verdict's
// reason feeds ControlCounters; the cookie reply is the caller's to send.
#pragma once

#include <cstddef>
#include <span>

#include "control/control_counters.h"
#include "control/rate_limiter.h"
#include "lib/net/ip.h"
#include "lib/protocol/cookie.h"
#include "lib/protocol/messages.h"
#include "lib/util/clock.h"

namespace wg::ctl {

class HandshakeGate {
 public:
  static constexpr std::size_t kUnderLoadBacklog = 128;  // the kernel: 1/8 of its 4096-deep queue

  enum class Verdict : std::uint8_t {
    kProcess,      // go on with the Noise step
    kCookieReply,  // send `reply` back to the source, nothing more
    kDrop,         // `reason` says why
  };
  struct Decision {
    Verdict verdict = Verdict::kDrop;
    HandshakeReject reason = HandshakeReject::kCount;  // kCount when not a refusal
  };

  // Derives the mac1 and cookie keys from our public key; again after a private key change.
  void init(const crypto::PublicKey& local_public) { checker_.init(local_public); }
  // Once a pass, with the number of handshake messages waiting: returns true when the gateway just
  // entered the under-load state.
  bool observe_backlog(std::size_t waiting, MonoTime now);
  bool under_load(MonoTime now) const { return now < under_load_until_; }
  MonoTime under_load_until() const { return under_load_until_; }

  // `msg` is a whole initiation or response (the classification is done); a cookie reply to it is written
  // into `reply` when the verdict says so.
  Decision admit(std::span<const std::uint8_t> msg, const net::IpAddress& src, const noise::CookieSource& cookie_src,
                 MonoTime now, noise::MessageCookieReply& reply);
  // Forgets idle rate-limit buckets (once a second).
  void expire(MonoTime now) { limiter_.expire(now); }

 private:
  noise::CookieChecker checker_;
  RateLimiter limiter_;
  MonoTime under_load_until_{0};
};

}  // namespace wg::ctl
