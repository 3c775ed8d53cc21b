#include "control/neighbors.h"

namespace wg::ctl {

std::optional<net::MacAddress> NeighborTable::lookup(const net::IpAddress& ip) const {
  auto it = entries_.find(ip);
  return it == entries_.end() ? std::nullopt : it->second.mac;
}

void NeighborTable::mark_asked(Entry& e, MonoTime now) {
  e.asked = now;
  e.outstanding = true;
  ++e.probes;
}

bool NeighborTable::want(const net::IpAddress& ip, MonoTime now, bool pin) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_ && !make_room(now)) {
      ++refused_;
      return false;
    }
    it = entries_.emplace(ip, Entry{}).first;
  } else if (it->second.mac || (it->second.outstanding && now - it->second.asked < kRetry)) {
    it->second.pinned |= pin;
    return false;  // known (upkeep refreshes it), or asked a moment ago
  }
  it->second.pinned |= pin;
  mark_asked(it->second, now);
  return true;
}

NeighborTable::Learned NeighborTable::learn(const net::IpAddress& ip, const net::MacAddress& mac, Kind kind,
                                            MonoTime now) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    // Unknown: only a host that talks to us is learnt; an unsolicited answer about it is not.
    if (kind != Kind::kRequest) return Learned::kIgnored;
    if (entries_.size() >= capacity_ && !make_room(now)) {
      ++refused_;
      return Learned::kIgnored;
    }
    Entry e;
    e.mac = mac;
    e.confirmed = now;
    entries_.emplace(ip, e);
    return Learned::kNew;
  }
  Entry& e = it->second;
  if (!e.mac) {  // incomplete: we asked (broadcast), the first answer is the resolution
    e.mac = mac;
    e.confirmed = now;
    e.outstanding = false;
    e.probes = 0;
    return Learned::kNew;
  }
  if (*e.mac == mac) {  // the MAC held, heard again: confirmed, any verification done
    e.confirmed = now;
    e.outstanding = false;
    e.verify = false;
    e.disputed = false;
    e.probes = 0;
    return Learned::kConfirmed;
  }
  // Another MAC for a known address: verify the one held instead of believing the claim.
  if (!e.verify || !e.disputed) {
    e.verify = true;
    e.disputed = true;
    e.probes = 0;
  }
  ++disputed_;
  return Learned::kDisputed;
}

NeighborTable::Upkeep NeighborTable::upkeep(MonoTime now) {
  Upkeep u;
  u.removed.swap(evicted_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (e.outstanding && now - e.asked > kAnswerWindow) e.outstanding = false;
    bool remove = false;
    if (!e.mac) {  // resolving: broadcast, once a second
      if (now - e.asked >= kRetry) {
        if (e.probes >= kMaxProbes) {
          remove = true;
        } else {
          mark_asked(e, now);
          u.ask.push_back({it->first, std::nullopt});
        }
      }
    } else {
      if (!e.verify && now - e.confirmed >= kReachable) {  // due for refresh
        e.verify = true;
        e.probes = 0;
      }
      if (e.verify && now - e.asked >= (e.disputed ? kVerifyInterval : kRetry)) {
        if (e.probes >= kMaxProbes) {
          remove = true;  // the MAC held no longer answers: resolve again from scratch
        } else {
          mark_asked(e, now);
          u.ask.push_back({it->first, e.mac});
        }
      }
    }
    if (remove) {
      if (e.mac) u.removed.push_back(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return u;
}

// Evicts the entry that matters least: not pinned, and incomplete or unconfirmed for kReachable; the oldest
// such. False when every entry is pinned or fresh.
bool NeighborTable::make_room(MonoTime now) {
  auto victim = entries_.end();
  MonoTime oldest = now;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& e = it->second;
    if (e.pinned || (e.mac && now - e.confirmed < kReachable)) continue;
    const MonoTime seen = e.mac ? e.confirmed : e.asked;
    if (victim == entries_.end() || seen < oldest) {
      victim = it;
      oldest = seen;
    }
  }
  if (victim == entries_.end()) return false;
  if (victim->second.mac) evicted_.push_back(victim->first);
  entries_.erase(victim);
  return true;
}

}  // namespace wg::ctl
