// A hashed timer wheel with one entry per peer id: when the control thread must look at a peer next (its
// PeerTimers' next deadline, its keypairs' expiry). Scheduling, rescheduling and cancelling are O(1) and
// allocate nothing (intrusive lists in arrays indexed by id); advancing visits only the slots whose time
// has come and, in them, the entries due, plus those a whole turn or more ahead (seen once per turn).
//
// Resolution is one tick (kTick, the control loop's tick): an entry fires at the first advance() at or after
// its deadline, never before. Deadlines beyond one turn (kSlots ticks, about 41 s) stay in their slot and
// are passed over until their turn comes.
//
// Thread rule: control thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "lib/util/clock.h"

namespace wg::ctl {

class TimerWheel {
 public:
  static constexpr std::chrono::milliseconds kTick{10};
  static constexpr std::uint32_t kSlots = 4096;  // a power of two

  // Ids 0..capacity-1; `start`: the wheel's time origin (nothing is due before it).
  TimerWheel(std::uint32_t capacity, MonoTime start);

  // (Re)schedules `id` at `at` (one entry per id: the last call wins). Past deadlines fire at the next advance.
  void schedule(std::uint32_t id, MonoTime at);
  void cancel(std::uint32_t id);
  bool scheduled(std::uint32_t id) const { return slot_of_[id] != kNone; }
  std::size_t size() const { return size_; }

  // Appends to `due` every id whose deadline is at or before `now` and removes it from the wheel.
  void advance(MonoTime now, std::vector<std::uint32_t>& due);

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  std::uint64_t tick_of(MonoTime t) const;
  void unlink(std::uint32_t id);

  MonoTime start_;
  std::uint64_t next_tick_ = 0;  // the first tick advance() has not processed yet
  std::vector<std::uint32_t> head_;  // per slot: first id, or kNone
  std::vector<std::uint32_t> next_, prev_, slot_of_;
  std::vector<MonoTime> deadline_;
  std::size_t size_ = 0;
};

}  // namespace wg::ctl
