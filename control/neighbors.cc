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
  const bool answered = e.outstanding && now - e.asked <= kAnswerWindow;
  auto settle = [&] {
    e.confirmed = now;
    e.probes = 0;
    if (answered) e.outstanding = false;  // the first answer wins; later ones are claims again
  };
  if (!e.mac) {  // incomplete: we asked, and nothing is believed yet that could be protected
    e.mac = mac;
    settle();
    e.outstanding = false;
    return Learned::kNew;
  }
  if (*e.mac == mac) {
    settle();
    if (answered) e.verify = false;
    return Learned::kConfirmed;
  }
  if (answered) {
    e.mac = mac;
    e.verify = false;
    settle();
    return Learned::kChanged;
  }
  // Another MAC, unasked: someone claims the address. Ask the address itself instead of believing it.
  e.verify = true;
  ++disputed_;
  return Learned::kDisputed;
}

NeighborTable::Upkeep NeighborTable::upkeep(MonoTime now) {
  Upkeep u;
  u.removed.swap(evicted_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (e.outstanding && now - e.asked > kAnswerWindow) e.outstanding = false;
    const bool retry_due = now - e.asked >= kRetry;
    bool remove = false;
    if (!e.mac) {
      if (retry_due) {
        if (e.probes >= kMaxProbes) {
          remove = true;
        } else {
          mark_asked(e, now);
          u.ask.push_back(it->first);
        }
      }
    } else if (e.verify && now - e.asked >= kVerifyInterval) {
      e.verify = false;
      mark_asked(e, now);
      u.ask.push_back(it->first);
    } else if (now - e.confirmed >= kReachable && retry_due) {
      if (e.probes >= kMaxProbes) {
        remove = true;
      } else {
        mark_asked(e, now);
        u.ask.push_back(it->first);
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
