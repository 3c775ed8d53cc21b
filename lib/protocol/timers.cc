// Per-peer timers as pure decisions; see timers.h. Each kernel timer (timers.c) becomes a deadline here:
// mod_timer is "set the deadline", del_timer is "set it to kNever", timer_pending is "!= kNever", and the
// expiry handler is the matching branch of poll().
#include "lib/protocol/timers.h"

#include <algorithm>

namespace wg::noise {

void PeerTimers::on_data_sent(MonoTime now) {
  // Measured from the first unanswered send, not pushed back by later ones: a peer that streams data into
  // a dead path must still notice within KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (6.5).
  if (new_handshake_at_ == kNever) new_handshake_at_ = now + kKeepaliveTimeout + kRekeyTimeout;
}

void PeerTimers::on_data_received(MonoTime now) {
  // Likewise from the first unanswered receive: one keepalive answers the whole burst (6.5).
  if (keepalive_at_ == kNever) keepalive_at_ = now + kKeepaliveTimeout;
}

void PeerTimers::on_any_authenticated_packet_received(MonoTime /*now*/) {
  // The peer is alive, so our sends are being answered.
  new_handshake_at_ = kNever;
}

void PeerTimers::on_any_authenticated_packet_sent(MonoTime now) {
  // Whatever we sent told the peer we are alive: no passive keepalive is owed for what came before.
  keepalive_at_ = kNever;
  last_sent_ = now;
  if (persistent_interval_.count() > 0) persistent_at_ = now + persistent_interval_;
}

void PeerTimers::on_handshake_initiated(MonoTime now, MonoTime jitter) {
  jitter = std::clamp<MonoTime>(jitter, MonoTime{0}, kRekeyTimeoutJitterMax);
  // A first initiation sent without on_want_handshake (say, a rekey) still opens the window (6.4).
  if (handshake_ == Handshake::kIdle) attempt_start_ = now;
  handshake_ = Handshake::kAwaiting;
  retransmit_at_ = now + kRekeyTimeout + jitter;
}

void PeerTimers::on_handshake_complete(MonoTime /*now*/) { close_attempt(); }

void PeerTimers::on_session_derived(MonoTime now) { zero_at_ = now + kZeroKeysAfter; }

void PeerTimers::on_want_handshake(MonoTime now) {
  // While an attempt is under way, more queued traffic changes nothing: retransmission paces it (6.4).
  if (handshake_ != Handshake::kIdle) return;
  handshake_ = Handshake::kDue;
  attempt_start_ = now;
}

void PeerTimers::on_response_sent(MonoTime now) { answered_until_ = now + kRekeyTimeout; }

void PeerTimers::set_persistent_keepalive(MonoTime now, std::chrono::seconds interval) {
  const auto old = persistent_interval_;
  persistent_interval_ = std::max(interval, std::chrono::seconds{0});
  if (persistent_interval_.count() == 0) {
    persistent_at_ = kNever;
  } else if (old.count() == 0) {
    persistent_at_ = now;
  } else {
    persistent_at_ = (last_sent_ == kNever ? now : last_sent_) + persistent_interval_;
  }
}

void PeerTimers::close_attempt() {
  handshake_ = Handshake::kIdle;
  attempt_start_ = kNever;
  retransmit_at_ = kNever;
}

TimerActions PeerTimers::poll(MonoTime now) {
  TimerActions actions;

  // 6.4 "Handshake Initiation Retransmission". Giving up wins over a retry due at the same instant: the
  // window is REKEY_ATTEMPT_TIME from the first attempt, inclusive of its end.
  if (attempt_start_ != kNever && now - attempt_start_ >= kRekeyAttemptTime) {
    actions.give_up = true;
    close_attempt();
    // The peer is unreachable; new traffic will open a new window. Until then nothing more to chase.
    new_handshake_at_ = kNever;
    // As the kernel does: make sure residue of a partial exchange is wiped eventually (6.3).
    if (zero_at_ == kNever) zero_at_ = now + kZeroKeysAfter;
  } else if ((handshake_ == Handshake::kDue && !held_by_response(now)) ||
             (handshake_ == Handshake::kAwaiting && now >= retransmit_at_)) {
    actions.send_initiation = true;
    handshake_ = Handshake::kRequested;
    retransmit_at_ = kNever;
  }

  // 6.5: data sent and nothing back. Starts a fresh attempt unless one is already running.
  if (new_handshake_at_ != kNever && now >= new_handshake_at_) {
    new_handshake_at_ = kNever;
    if (handshake_ == Handshake::kIdle && held_by_response(now)) {
      handshake_ = Handshake::kDue;  // sent once the wait after our response is over
      attempt_start_ = now;
    } else if (handshake_ == Handshake::kIdle) {
      actions.send_initiation = true;
      handshake_ = Handshake::kRequested;
      attempt_start_ = now;
    }
  }

  // 6.5 "Passive Keepalive": data received and nothing sent back.
  if (keepalive_at_ != kNever && now >= keepalive_at_) {
    actions.send_keepalive = true;
    keepalive_at_ = kNever;
  }

  if (persistent_at_ != kNever && now >= persistent_at_) {
    actions.send_persistent_keepalive = true;
    persistent_at_ = kNever;
  }

  // 6.3: REJECT_AFTER_TIME * 3 without a new session.
  if (zero_at_ != kNever && now >= zero_at_) {
    actions.zero_keys = true;
    zero_at_ = kNever;
  }
  return actions;
}

MonoTime PeerTimers::next_deadline(MonoTime now) const {
  if (handshake_ == Handshake::kDue && !held_by_response(now)) return now;
  MonoTime earliest = std::min({new_handshake_at_, keepalive_at_, persistent_at_, zero_at_});
  if (handshake_ == Handshake::kDue) earliest = std::min(earliest, answered_until_);
  if (attempt_start_ != kNever) earliest = std::min<MonoTime>(earliest, attempt_start_ + kRekeyAttemptTime);
  if (handshake_ == Handshake::kAwaiting) earliest = std::min(earliest, retransmit_at_);
  return earliest == kNever ? kNever : std::max(earliest, now);
}

bool should_rekey_on_send(bool i_am_initiator, MonoTime keypair_created, std::uint64_t sending_counter,
                          MonoTime now, MonoTime rekey_after) {
  return sending_counter >= kRekeyAfterMessages || (i_am_initiator && now - keypair_created >= rekey_after);
}

bool should_rekey_on_receive(bool i_am_initiator, MonoTime keypair_created, MonoTime now) {
  return i_am_initiator && now - keypair_created >= kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout;
}

bool keypair_expired(MonoTime created, std::uint64_t counter, MonoTime now) {
  return now - created >= kRejectAfterTime || counter >= kRejectAfterMessages;
}

}  // namespace wg::noise
