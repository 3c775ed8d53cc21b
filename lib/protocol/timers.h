// Per-peer protocol timers as pure decisions (WireGuard paper, section 6 "Timers & Stateless UX"; shaped
// after the kernel's timers.c). The send and receive paths report events through the on_* hooks; the control
// thread calls poll() to learn what is due, acts on it, and sleeps until next_deadline(). Nothing here reads a
// clock or owns a thread: every hook takes `now`, so tests drive time by hand.
//
// Each action, once reported by poll(), is disarmed until the event that re-arms it: after send_initiation the
// caller sends one and calls on_handshake_initiated; after send_keepalive or send_persistent_keepalive it
// sends one empty transport message (one covers both) and calls on_any_authenticated_packet_sent.
//
// Hook rules (as in the kernel): a data packet sent calls on_data_sent AND on_any_authenticated_packet_sent;
// a data packet received calls on_data_received AND on_any_authenticated_packet_received; keepalives and
// handshake messages call only the on_any_* hooks.
//
// Thread rule: one owner (the control thread). Workers never call these directly; they pass events over.
#pragma once

#include <chrono>
#include <cstdint>

#include "lib/protocol/messages.h"
#include "lib/util/clock.h"

namespace wg::noise {

// "Never" for deadlines. Nothing is ever added to it (that would overflow): code checks for it first.
inline constexpr MonoTime kNever = MonoTime::max();

// What poll() found due. Several may be set at once.
struct TimerActions {
  bool send_initiation = false;            // 6.4 retransmission, 6.5 new handshake, or queued traffic
  bool give_up = false;                    // 6.4: REKEY_ATTEMPT_TIME passed; drop staged packets
  bool send_keepalive = false;             // 6.5 passive keepalive
  bool send_persistent_keepalive = false;  // configured NAT keepalive interval elapsed
  bool zero_keys = false;                  // 6.3: no new session for REJECT_AFTER_TIME * 3

  bool any() const {
    return send_initiation || give_up || send_keepalive || send_persistent_keepalive || zero_keys;
  }
};

class PeerTimers {
 public:
  // An authenticated transport message with a non-empty payload was sent. If nothing authenticated comes
  // back within KEEPALIVE_TIMEOUT + REKEY_TIMEOUT of the first such send, the peer is presumed gone and a
  // new handshake is due (6.5 "Passive Keepalive").
  void on_data_sent(MonoTime now);
  // A transport message with a non-empty payload authenticated. Starts the passive keepalive clock.
  void on_data_received(MonoTime now);
  // Anything authenticated arrived (data, keepalive, handshake message): the peer is alive.
  void on_any_authenticated_packet_received(MonoTime now);
  // Anything authenticated left (data, keepalive, handshake message): it carries our liveness, so no
  // passive keepalive is owed, and it refreshes the NAT mapping the persistent keepalive protects.
  void on_any_authenticated_packet_sent(MonoTime now);
  // We sent an initiation. `jitter` is the caller's random pick in [0, REKEY_TIMEOUT_JITTER_MAX] (clamped),
  // so that peers that lost packets together do not retry in lockstep (6.4).
  void on_handshake_initiated(MonoTime now, MonoTime jitter);
  // A handshake finished and a session is usable: stop retrying and close the attempt window.
  void on_handshake_complete(MonoTime now);
  // A new keypair was derived: restarts the REJECT_AFTER_TIME * 3 clock for zeroing key material.
  void on_session_derived(MonoTime now);
  // Traffic is queued and there is no usable keypair (or a rekey rule below said so): opens the
  // REKEY_ATTEMPT_TIME window if none is open, and asks for an initiation unless one is under way.
  void on_want_handshake(MonoTime now);
  // We answered an initiation. Its initiator confirms the new session with its first packet within moments,
  // so for REKEY_TIMEOUT no initiation of ours goes out (the kernel counts the response as the last
  // handshake message sent): one wanted meanwhile (a reply racing the confirmation, 6.5's new handshake)
  // waits until then, and the confirmation (on_handshake_complete) cancels it. Retransmissions of an
  // initiation already sent are not held.
  void on_response_sent(MonoTime now);
  // 0 disables. Enabling from 0 makes a keepalive due at once (as the kernel does), so the NAT mapping
  // exists before the first packet from us; changing a non-zero interval keeps the last-sent reference.
  void set_persistent_keepalive(MonoTime now, std::chrono::seconds interval);

  // Reports what is due at `now` and disarms it (see the file comment for how each is re-armed).
  TimerActions poll(MonoTime now);
  // The earliest time at which poll() may report something new: `now` if something is due already,
  // kNever if nothing is armed.
  MonoTime next_deadline(MonoTime now) const;

  std::chrono::seconds persistent_keepalive() const { return persistent_interval_; }
  bool handshake_in_progress() const { return attempt_start_ != kNever; }

 private:
  enum class Handshake : std::uint8_t {
    kIdle,       // no attempt window open
    kDue,        // an initiation is wanted; poll() will report it
    kRequested,  // poll() reported it; waiting for on_handshake_initiated
    kAwaiting,   // initiation sent; retransmit_at_ armed
  };

  void close_attempt();
  bool held_by_response(MonoTime now) const { return answered_until_ != kNever && now < answered_until_; }

  // 6.4: the attempt window and the retransmission of the initiation.
  Handshake handshake_ = Handshake::kIdle;
  MonoTime attempt_start_ = kNever;  // set iff handshake_ != kIdle
  MonoTime retransmit_at_ = kNever;  // meaningful only in kAwaiting
  // 6.5: data sent, nothing received back.
  MonoTime new_handshake_at_ = kNever;
  // 6.5: data received, nothing sent back.
  MonoTime keepalive_at_ = kNever;
  // Persistent keepalive, measured from the last authenticated packet sent.
  std::chrono::seconds persistent_interval_{0};
  MonoTime last_sent_ = kNever;
  MonoTime persistent_at_ = kNever;
  // 6.3: zero all key material when no new session appears for this long.
  MonoTime zero_at_ = kNever;
  // on_response_sent: no initiation of ours before this.
  MonoTime answered_until_ = kNever;
};

// Rekey rules of 6.2 "Transport Message Limits" / 6.3 "Key Rotation", checked on each send or receive under
// the current keypair. A true answer means: call on_want_handshake (the keypair stays usable meanwhile).

// On send: after REKEY_AFTER_MESSAGES on this keypair, or, for the initiator only (so both sides do not
// rekey at once), once the keypair is REKEY_AFTER_TIME old (`rekey_after`: lower only in tests, which need a
// rekey in mid-transfer without waiting two minutes).
bool should_rekey_on_send(bool i_am_initiator, MonoTime keypair_created, std::uint64_t sending_counter,
                          MonoTime now, MonoTime rekey_after = kRekeyAfterTime);
// On receive: the initiator rekeys once the keypair is REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT
// (165 s) old, so a peer that only receives gets a fresh session before the old one is rejected.
bool should_rekey_on_receive(bool i_am_initiator, MonoTime keypair_created, MonoTime now);
// The keypair may no longer be used in either direction: REJECT_AFTER_TIME old, or its counter reached
// REJECT_AFTER_MESSAGES.
bool keypair_expired(MonoTime created, std::uint64_t counter, MonoTime now);

}  // namespace wg::noise
