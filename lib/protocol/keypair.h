// Session keypairs and the current/previous/next rotation (WireGuard paper, section 5.4.7 and 6.1; the
// kernel's noise.c keypair rules).
//
// Rules:
//  - The initiator may send with a new keypair as soon as it has consumed the response: it becomes current,
//    the old current becomes previous (or a pending next does), and the old previous is retired.
//  - The responder may not send with its new keypair until the initiator has proven it has it (the first
//    data packet received under it). So the new keypair waits in `next`; receiving with it promotes it.
//  - Retired keypairs are handed back to the caller instead of freed, so that the control plane can free
//    them only after every worker has stopped reading them (RCU/QSBR).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "lib/crypto/secret.h"
#include "lib/protocol/messages.h"
#include "lib/protocol/replay.h"
#include "lib/util/clock.h"

namespace wg::noise {

struct Keypair {
  crypto::Key sending;
  crypto::Key receiving;
  // Reserved by senders, possibly several workers at once: fetch_add a batch, then use the range.
  std::atomic<std::uint64_t> sending_counter{0};
  ReplayWindow replay;
  std::uint32_t local_index = 0;   // ours: peers put it in the receiver field
  std::uint32_t remote_index = 0;  // theirs: we put it in the receiver field
  MonoTime created{0};
  bool i_am_initiator = false;
  // Opaque to the protocol: lets the owner map a keypair back to its peer (the gateway's peer slot).
  std::uint32_t owner = 0;
  // REJECT_AFTER_TIME in the fast path's own clock (the gateway: TSC ticks), set before the keypair is
  // published, so that workers stop using it by themselves, without waiting for control to withdraw it.
  std::uint64_t reject_after_ticks = ~std::uint64_t{0};

  // Reserves n consecutive counters; false when any of them would reach REJECT_AFTER_MESSAGES.
  bool reserve_counters(std::uint32_t n, std::uint64_t& first) {
    // Exhausted stays exhausted: without this check, 2^64 more reservations would wrap the counter to 0.
    if (sending_counter.load(std::memory_order_relaxed) >= kRejectAfterMessages) return false;
    first = sending_counter.fetch_add(n, std::memory_order_relaxed);
    return first < kRejectAfterMessages && kRejectAfterMessages - first >= n;
  }
};

using KeypairPtr = std::unique_ptr<Keypair>;

class KeypairSet {
 public:
  // Installs a keypair fresh from begin_session; returns the keypairs it displaced (to be freed later).
  std::vector<KeypairPtr> install(KeypairPtr keypair);
  // A packet authenticated under `keypair`: if it is the pending `next`, rotate it into `current`.
  // Returns true when it rotated; `retired` receives what was displaced.
  bool received_with(const Keypair* keypair, std::vector<KeypairPtr>& retired);
  // Drops every keypair (zeroing after REJECT_AFTER_TIME * 3, or peer removal).
  std::vector<KeypairPtr> clear();
  // Drops the keypairs for which `expired` is true (REJECT_AFTER_TIME passed, or counters exhausted).
  template <typename Pred>
  std::vector<KeypairPtr> drop_if(Pred expired) {
    std::vector<KeypairPtr> out;
    for (KeypairPtr* slot : {&current_, &previous_, &next_}) {
      if (*slot && expired(**slot)) out.push_back(std::move(*slot));
    }
    return out;
  }

  Keypair* current() const { return current_.get(); }
  Keypair* previous() const { return previous_.get(); }
  Keypair* next() const { return next_.get(); }
  // The keypair with this local index, if it is one of ours.
  Keypair* find(std::uint32_t local_index) const;

 private:
  KeypairPtr current_;
  KeypairPtr previous_;
  KeypairPtr next_;
};

}  // namespace wg::noise
