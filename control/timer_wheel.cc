#include "control/timer_wheel.h"

#include <algorithm>

namespace wg::ctl {

TimerWheel::TimerWheel(std::uint32_t capacity, MonoTime start)
    : start_(start),
      head_(kSlots, kNone),
      next_(capacity, kNone),
      prev_(capacity, kNone),
      slot_of_(capacity, kNone),
      deadline_(capacity, MonoTime::max()) {}

std::uint64_t TimerWheel::tick_of(MonoTime t) const {
  if (t <= start_) return 0;
  return static_cast<std::uint64_t>((t - start_) / kTick);
}

void TimerWheel::unlink(std::uint32_t id) {
  const std::uint32_t s = slot_of_[id];
  if (prev_[id] != kNone) {
    next_[prev_[id]] = next_[id];
  } else {
    head_[s] = next_[id];
  }
  if (next_[id] != kNone) prev_[next_[id]] = prev_[id];
  next_[id] = prev_[id] = slot_of_[id] = kNone;
  --size_;
}

void TimerWheel::schedule(std::uint32_t id, MonoTime at) {
  if (slot_of_[id] != kNone) unlink(id);
  // Never into a slot advance() has passed: a past deadline goes where the next advance looks first.
  const std::uint32_t s = static_cast<std::uint32_t>(std::max(tick_of(at), next_tick_) & (kSlots - 1));
  deadline_[id] = at;
  slot_of_[id] = s;
  prev_[id] = kNone;
  next_[id] = head_[s];
  if (head_[s] != kNone) prev_[head_[s]] = id;
  head_[s] = id;
  ++size_;
}

void TimerWheel::cancel(std::uint32_t id) {
  if (slot_of_[id] != kNone) unlink(id);
}

void TimerWheel::advance(MonoTime now, std::vector<std::uint32_t>& due) {
  const std::uint64_t current = tick_of(now);
  if (current < next_tick_) return;
  // Each slot at most once: a gap longer than a turn visits every slot, which covers every entry.
  const std::uint64_t first = std::max(next_tick_, current >= kSlots ? current - kSlots + 1 : 0);
  for (std::uint64_t t = first; t <= current; ++t) {
    const std::uint32_t s = static_cast<std::uint32_t>(t & (kSlots - 1));
    for (std::uint32_t id = head_[s]; id != kNone;) {
      const std::uint32_t after = next_[id];
      if (deadline_[id] <= now) {
        unlink(id);
        due.push_back(id);
      }
      id = after;
    }
  }
  // The current tick's slot stays to visit: an entry later in this tick is not due yet.
  next_tick_ = current;
}

}  // namespace wg::ctl
