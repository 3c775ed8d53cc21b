// Per-peer timers driven by a fake clock: every timer fires exactly at its boundary and not a nanosecond
// before, fired actions stay disarmed until re-armed, retransmission stops after REKEY_ATTEMPT_TIME, and the
// rekey helpers flip exactly at their limits.
#include "lib/protocol/timers.h"

#include <gtest/gtest.h>

namespace wg::noise {
namespace {

using namespace std::chrono_literals;

constexpr MonoTime kNs{1};
// An arbitrary, non-zero epoch so no test leans on time starting at 0.
constexpr MonoTime kT0 = 1000s;

class TimersTest : public ::testing::Test {
 protected:
  // Advances the fake clock to `t` and polls.
  TimerActions at(MonoTime t) {
    now_ = t;
    return timers_.poll(now_);
  }

  PeerTimers timers_;
  MonoTime now_ = kT0;
};

TEST_F(TimersTest, IdleTimersReportNothing) {
  EXPECT_FALSE(at(kT0).any());
  EXPECT_EQ(timers_.next_deadline(now_), kNever);
  EXPECT_FALSE(at(kT0 + 10000s).any());
  EXPECT_FALSE(timers_.handshake_in_progress());
}

TEST_F(TimersTest, WantHandshakeRequestsOneInitiationAtOnce) {
  timers_.on_want_handshake(kT0);
  EXPECT_TRUE(timers_.handshake_in_progress());
  EXPECT_EQ(timers_.next_deadline(kT0), kT0);
  auto a = at(kT0);
  EXPECT_TRUE(a.send_initiation);
  EXPECT_FALSE(a.give_up);
  // Reported once; more queued traffic does not ask again while the request is outstanding.
  EXPECT_FALSE(at(kT0).send_initiation);
  timers_.on_want_handshake(kT0 + 1s);
  EXPECT_FALSE(at(kT0 + 1s).send_initiation);
}

TEST_F(TimersTest, AfterOurResponseAWantedInitiationWaitsRekeyTimeout) {
  timers_.on_response_sent(kT0);
  timers_.on_want_handshake(kT0 + 1s);  // a reply raced the initiator's confirmation
  EXPECT_TRUE(timers_.handshake_in_progress());
  EXPECT_EQ(timers_.next_deadline(kT0 + 1s), kT0 + kRekeyTimeout);
  EXPECT_FALSE(at(kT0 + 1s).send_initiation);
  EXPECT_FALSE(at(kT0 + kRekeyTimeout - kNs).send_initiation);
  // Never confirmed: the initiation goes out once the wait is over, inside the attempt window opened at 1 s.
  EXPECT_TRUE(at(kT0 + kRekeyTimeout).send_initiation);
  EXPECT_FALSE(at(kT0 + kRekeyTimeout).send_initiation);
}

TEST_F(TimersTest, ConfirmationCancelsTheInitiationHeldAfterOurResponse) {
  timers_.on_response_sent(kT0);
  timers_.on_want_handshake(kT0 + 10ms);
  timers_.on_handshake_complete(kT0 + 20ms);  // the initiator's first packet
  EXPECT_FALSE(timers_.handshake_in_progress());
  EXPECT_EQ(timers_.next_deadline(kT0 + 20ms), kNever);
  EXPECT_FALSE(at(kT0 + 10s).any());
}

TEST_F(TimersTest, ResponseHoldsNewHandshakeButNotRetransmission) {
  // 6.5's new handshake falling due within REKEY_TIMEOUT of our response waits too.
  timers_.on_data_sent(kT0);
  const MonoTime due = kT0 + kKeepaliveTimeout + kRekeyTimeout;
  timers_.on_response_sent(due - 1s);
  EXPECT_FALSE(at(due).send_initiation);
  EXPECT_TRUE(timers_.handshake_in_progress());
  EXPECT_EQ(timers_.next_deadline(due), due - 1s + kRekeyTimeout);
  EXPECT_TRUE(at(due - 1s + kRekeyTimeout).send_initiation);
  // A retransmission of an initiation we sent is not held by a response sent meanwhile.
  timers_.on_handshake_initiated(due + 4s, 0s);
  timers_.on_response_sent(due + 4s + kRekeyTimeout - 1s);
  EXPECT_TRUE(at(due + 4s + kRekeyTimeout).send_initiation);
}

TEST_F(TimersTest, RetransmitExactlyAtRekeyTimeoutPlusJitter) {
  constexpr MonoTime kJitter = 123ms;
  timers_.on_handshake_initiated(kT0, kJitter);
  const MonoTime due = kT0 + kRekeyTimeout + kJitter;
  EXPECT_EQ(timers_.next_deadline(kT0), due);
  EXPECT_FALSE(at(due - kNs).send_initiation);
  EXPECT_TRUE(at(due).send_initiation);
  // Disarmed until the caller reports the retry.
  EXPECT_FALSE(at(due + 1s).send_initiation);
  timers_.on_handshake_initiated(due + 1s, MonoTime{0});
  EXPECT_FALSE(at(due + 1s + kRekeyTimeout - kNs).send_initiation);
  EXPECT_TRUE(at(due + 1s + kRekeyTimeout).send_initiation);
}

TEST_F(TimersTest, JitterIsClamped) {
  timers_.on_handshake_initiated(kT0, 10s);
  EXPECT_EQ(timers_.next_deadline(kT0), kT0 + kRekeyTimeout + kRekeyTimeoutJitterMax);
  timers_.on_handshake_initiated(kT0, -1s);
  EXPECT_EQ(timers_.next_deadline(kT0), kT0 + kRekeyTimeout);
}

TEST_F(TimersTest, HandshakeCompleteStopsRetransmission) {
  timers_.on_handshake_initiated(kT0, MonoTime{0});
  timers_.on_handshake_complete(kT0 + 1s);
  EXPECT_FALSE(timers_.handshake_in_progress());
  EXPECT_FALSE(at(kT0 + kRekeyTimeout).any());
  EXPECT_FALSE(at(kT0 + kRekeyAttemptTime).any());
  EXPECT_EQ(timers_.next_deadline(now_), kNever);
}

// Runs a peer that never answers: every requested initiation is sent at once with `jitter`. Returns the
// number of retries (initiations after the first) and the time of give_up.
struct Unanswered {
  int retries = 0;
  int give_ups = 0;
  MonoTime gave_up_at = kNever;
};
Unanswered run_unanswered(PeerTimers& timers, MonoTime start, MonoTime jitter) {
  Unanswered r;
  timers.on_want_handshake(start);
  MonoTime now = start;
  bool first = true;
  for (int guard = 0; guard < 100; ++guard) {
    const MonoTime next = timers.next_deadline(now);
    if (next == kNever) break;
    // Never anything a nanosecond early.
    if (next > now) {
      EXPECT_FALSE(timers.poll(next - kNs).any());
    }
    now = next;
    const auto a = timers.poll(now);
    if (a.give_up) {
      ++r.give_ups;
      r.gave_up_at = now;
    }
    if (a.send_initiation) {
      if (!first) ++r.retries;
      first = false;
      timers.on_handshake_initiated(now, jitter);
    }
    if (a.zero_keys) break;
  }
  return r;
}

TEST_F(TimersTest, RetriesStopAfterRekeyAttemptTimeWithoutJitter) {
  const auto r = run_unanswered(timers_, kT0, MonoTime{0});
  // Initiations at 0, 5, ..., 85 s: 17 retries; the one that would go at 90 s is a give-up instead.
  EXPECT_EQ(r.retries, 17);
  EXPECT_EQ(r.give_ups, 1);
  EXPECT_EQ(r.gave_up_at, kT0 + kRekeyAttemptTime);
  EXPECT_FALSE(timers_.handshake_in_progress());
}

TEST_F(TimersTest, RetriesStopAfterRekeyAttemptTimeWithMaxJitter) {
  const auto r = run_unanswered(timers_, kT0, kRekeyTimeoutJitterMax);
  // Every 5.334 s: the 16th retry is at 85.344 s, the 17th would be past 90 s.
  EXPECT_EQ(r.retries, 16);
  EXPECT_LE(r.retries, 18);
  EXPECT_EQ(r.give_ups, 1);
  EXPECT_EQ(r.gave_up_at, kT0 + kRekeyAttemptTime);
}

TEST_F(TimersTest, GiveUpExactlyAtAttemptWindowEndEvenIfCallerNeverSends) {
  timers_.on_want_handshake(kT0);
  EXPECT_TRUE(at(kT0).send_initiation);  // the caller ignores it (say, no endpoint yet)
  EXPECT_EQ(timers_.next_deadline(now_), kT0 + kRekeyAttemptTime);
  EXPECT_FALSE(at(kT0 + kRekeyAttemptTime - kNs).any());
  auto a = at(kT0 + kRekeyAttemptTime);
  EXPECT_TRUE(a.give_up);
  EXPECT_FALSE(a.send_initiation);
  EXPECT_FALSE(at(kT0 + kRekeyAttemptTime).give_up);  // once
}

TEST_F(TimersTest, NewTrafficAfterGiveUpOpensANewWindow) {
  run_unanswered(timers_, kT0, MonoTime{0});
  const MonoTime later = kT0 + 200s;
  timers_.on_want_handshake(later);
  EXPECT_TRUE(at(later).send_initiation);
  timers_.on_handshake_initiated(later, MonoTime{0});
  EXPECT_FALSE(at(later + kRekeyAttemptTime - kNs).give_up);
  EXPECT_TRUE(at(later + kRekeyAttemptTime).give_up);
}

TEST_F(TimersTest, GiveUpArmsZeroKeysWhenNoneIsPending) {
  timers_.on_want_handshake(kT0);
  const MonoTime end = kT0 + kRekeyAttemptTime;
  EXPECT_TRUE(at(end).give_up);
  EXPECT_FALSE(at(end + kZeroKeysAfter - kNs).zero_keys);
  EXPECT_TRUE(at(end + kZeroKeysAfter).zero_keys);
}

TEST_F(TimersTest, GiveUpKeepsAnEarlierZeroKeysDeadline) {
  timers_.on_session_derived(kT0);
  timers_.on_want_handshake(kT0 + 10s);
  EXPECT_TRUE(at(kT0 + 10s + kRekeyAttemptTime).give_up);
  EXPECT_TRUE(at(kT0 + kZeroKeysAfter).zero_keys);
}

TEST_F(TimersTest, NewHandshakeWhenDataSentAndNothingReceived) {
  const MonoTime due = kT0 + kKeepaliveTimeout + kRekeyTimeout;  // 15 s
  timers_.on_data_sent(kT0);
  timers_.on_data_sent(kT0 + 3s);  // later sends do not push it back
  EXPECT_EQ(timers_.next_deadline(kT0 + 3s), due);
  EXPECT_FALSE(at(due - kNs).send_initiation);
  EXPECT_TRUE(at(due).send_initiation);
  EXPECT_TRUE(timers_.handshake_in_progress());
  EXPECT_FALSE(at(due + 1s).send_initiation);
  // The attempt window opened when the timer fired.
  timers_.on_handshake_initiated(due + 1s, MonoTime{0});
  EXPECT_TRUE(at(due + kRekeyAttemptTime).give_up);
}

TEST_F(TimersTest, AnythingReceivedCancelsNewHandshake) {
  timers_.on_data_sent(kT0);
  timers_.on_any_authenticated_packet_received(kT0 + 14s);
  EXPECT_FALSE(at(kT0 + 15s).any());
  // Re-armed by the next send, from that send.
  timers_.on_data_sent(kT0 + 20s);
  EXPECT_FALSE(at(kT0 + 35s - kNs).send_initiation);
  EXPECT_TRUE(at(kT0 + 35s).send_initiation);
}

TEST_F(TimersTest, NewHandshakeDoesNotDuplicateAnAttemptUnderWay) {
  timers_.on_data_sent(kT0);                                  // new-handshake due at 15 s
  timers_.on_handshake_initiated(kT0 + 12s, MonoTime{0});     // a rekey already went out: retry at 17 s
  EXPECT_FALSE(at(kT0 + 15s).send_initiation);
  EXPECT_TRUE(at(kT0 + 17s).send_initiation);
  // And the attempt window is the rekey's, from 12 s.
  timers_.on_handshake_initiated(kT0 + 17s, MonoTime{0});
  EXPECT_TRUE(at(kT0 + 12s + kRekeyAttemptTime).give_up);
}

TEST_F(TimersTest, PassiveKeepaliveOncePerReceivedBurst) {
  timers_.on_data_received(kT0);
  timers_.on_data_received(kT0 + 2s);
  timers_.on_data_received(kT0 + 9s);
  EXPECT_EQ(timers_.next_deadline(kT0 + 9s), kT0 + kKeepaliveTimeout);
  EXPECT_FALSE(at(kT0 + kKeepaliveTimeout - kNs).send_keepalive);
  EXPECT_TRUE(at(kT0 + kKeepaliveTimeout).send_keepalive);
  timers_.on_any_authenticated_packet_sent(now_);
  // The whole burst is answered: nothing more, however long we wait.
  EXPECT_FALSE(at(kT0 + 100s).send_keepalive);
  EXPECT_EQ(timers_.next_deadline(now_), kNever);
  // A new burst earns a new keepalive.
  timers_.on_data_received(kT0 + 200s);
  EXPECT_TRUE(at(kT0 + 210s).send_keepalive);
}

TEST_F(TimersTest, KeepaliveFiresOnceEvenIfCallerDoesNotReport) {
  timers_.on_data_received(kT0);
  EXPECT_TRUE(at(kT0 + kKeepaliveTimeout).send_keepalive);
  EXPECT_FALSE(at(kT0 + kKeepaliveTimeout).send_keepalive);
  EXPECT_FALSE(at(kT0 + 60s).send_keepalive);
}

TEST_F(TimersTest, AnySendCancelsPassiveKeepalive) {
  timers_.on_data_received(kT0);
  timers_.on_any_authenticated_packet_sent(kT0 + 9s);  // say, our own data went out
  EXPECT_FALSE(at(kT0 + kKeepaliveTimeout).any());
}

TEST_F(TimersTest, PersistentKeepaliveDueAtOnceWhenEnabledThenEveryInterval) {
  timers_.set_persistent_keepalive(kT0, 25s);
  EXPECT_EQ(timers_.persistent_keepalive(), 25s);
  EXPECT_TRUE(at(kT0).send_persistent_keepalive);
  EXPECT_FALSE(at(kT0).send_persistent_keepalive);
  MonoTime sent = kT0;
  timers_.on_any_authenticated_packet_sent(sent);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(timers_.next_deadline(sent), sent + 25s);
    EXPECT_FALSE(at(sent + 25s - kNs).send_persistent_keepalive) << i;
    EXPECT_TRUE(at(sent + 25s).send_persistent_keepalive) << i;
    sent += 25s;
    timers_.on_any_authenticated_packet_sent(sent);
  }
}

TEST_F(TimersTest, PersistentKeepaliveMeasuredFromLastSend) {
  timers_.set_persistent_keepalive(kT0, 25s);
  at(kT0);
  timers_.on_any_authenticated_packet_sent(kT0);
  timers_.on_any_authenticated_packet_sent(kT0 + 20s);  // data went out: resets the period
  timers_.on_any_authenticated_packet_received(kT0 + 30s);  // receiving does not
  EXPECT_FALSE(at(kT0 + 45s - kNs).send_persistent_keepalive);
  EXPECT_TRUE(at(kT0 + 45s).send_persistent_keepalive);
}

TEST_F(TimersTest, PersistentKeepaliveChangeAndDisable) {
  timers_.set_persistent_keepalive(kT0, 25s);
  at(kT0);
  timers_.on_any_authenticated_packet_sent(kT0);
  timers_.set_persistent_keepalive(kT0 + 5s, 10s);  // keeps the last send as reference
  EXPECT_FALSE(at(kT0 + 10s - kNs).send_persistent_keepalive);
  EXPECT_TRUE(at(kT0 + 10s).send_persistent_keepalive);
  timers_.on_any_authenticated_packet_sent(kT0 + 10s);
  timers_.set_persistent_keepalive(kT0 + 11s, 0s);
  EXPECT_FALSE(at(kT0 + 1000s).send_persistent_keepalive);
  timers_.on_any_authenticated_packet_sent(kT0 + 1000s);
  EXPECT_FALSE(at(kT0 + 2000s).any());
  EXPECT_EQ(timers_.next_deadline(now_), kNever);
}

TEST_F(TimersTest, ZeroKeysAt540sAndReArmedByNewSession) {
  ASSERT_EQ(kZeroKeysAfter, 540s);
  timers_.on_session_derived(kT0);
  EXPECT_EQ(timers_.next_deadline(kT0), kT0 + 540s);
  // A new session pushes it back.
  timers_.on_session_derived(kT0 + 100s);
  EXPECT_FALSE(at(kT0 + 540s).zero_keys);
  EXPECT_FALSE(at(kT0 + 640s - kNs).zero_keys);
  EXPECT_TRUE(at(kT0 + 640s).zero_keys);
  EXPECT_FALSE(at(kT0 + 2000s).zero_keys);  // once
  timers_.on_session_derived(kT0 + 3000s);
  EXPECT_TRUE(at(kT0 + 3540s).zero_keys);
}

TEST_F(TimersTest, NextDeadlineIsTheEarliestAndNeverInThePast) {
  timers_.on_session_derived(kT0);
  timers_.on_data_received(kT0 + 1s);
  timers_.on_data_sent(kT0 + 2s);
  EXPECT_EQ(timers_.next_deadline(kT0 + 2s), kT0 + 11s);
  // Overdue: poll now.
  EXPECT_EQ(timers_.next_deadline(kT0 + 12s), kT0 + 12s);
  const auto a = at(kT0 + 17s);
  EXPECT_TRUE(a.send_keepalive);
  EXPECT_TRUE(a.send_initiation);
  EXPECT_FALSE(a.zero_keys);
  // Remaining: the give-up of the attempt the new-handshake timer opened, and zeroing.
  EXPECT_EQ(timers_.next_deadline(now_), kT0 + 17s + kRekeyAttemptTime);
}

TEST(RekeyRules, OnSendByCounter) {
  const MonoTime created = kT0;
  for (bool initiator : {false, true}) {
    EXPECT_FALSE(should_rekey_on_send(initiator, created, kRekeyAfterMessages - 1, created));
    EXPECT_TRUE(should_rekey_on_send(initiator, created, kRekeyAfterMessages, created));
  }
}

TEST(RekeyRules, OnSendByAgeOnlyForInitiator) {
  const MonoTime created = kT0;
  EXPECT_FALSE(should_rekey_on_send(true, created, 0, created + kRekeyAfterTime - kNs));
  EXPECT_TRUE(should_rekey_on_send(true, created, 0, created + kRekeyAfterTime));
  EXPECT_FALSE(should_rekey_on_send(false, created, 0, created + kRekeyAfterTime));
  EXPECT_FALSE(should_rekey_on_send(false, created, 0, created + 10000s));
}

TEST(RekeyRules, OnReceiveAt165sOnlyForInitiator) {
  const MonoTime created = kT0;
  constexpr MonoTime kLimit = 165s;
  static_assert(kLimit == kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout);
  EXPECT_FALSE(should_rekey_on_receive(true, created, created + kLimit - kNs));
  EXPECT_TRUE(should_rekey_on_receive(true, created, created + kLimit));
  EXPECT_FALSE(should_rekey_on_receive(false, created, created + kLimit));
  EXPECT_FALSE(should_rekey_on_receive(false, created, created + 10000s));
}

TEST(RekeyRules, KeypairExpiredByAgeOrCounter) {
  const MonoTime created = kT0;
  EXPECT_FALSE(keypair_expired(created, 0, created));
  EXPECT_FALSE(keypair_expired(created, 0, created + kRejectAfterTime - kNs));
  EXPECT_TRUE(keypair_expired(created, 0, created + kRejectAfterTime));
  EXPECT_FALSE(keypair_expired(created, kRejectAfterMessages - 1, created));
  EXPECT_TRUE(keypair_expired(created, kRejectAfterMessages, created));
  EXPECT_TRUE(keypair_expired(created, ~0ULL, created));
}

}  // namespace
}  // namespace wg::noise
