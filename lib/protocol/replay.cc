#include "lib/protocol/replay.h"

namespace wg::noise {

ReplayResult ReplayWindow::check(std::uint64_t counter) const {
  if (counter >= kRejectAfterMessages) return ReplayResult::kTooLarge;
  if (counter > greatest_) return ReplayResult::kOk;
  if (greatest_ - counter >= kWindow) return ReplayResult::kTooOld;
  const std::uint64_t word = bitmap_[(counter / kWordBits) % kWords];
  return (word >> (counter % kWordBits)) & 1 ? ReplayResult::kDuplicate : ReplayResult::kOk;
}

ReplayResult ReplayWindow::update(std::uint64_t counter) {
  const ReplayResult r = check(counter);
  if (r != ReplayResult::kOk) return r;
  if (counter > greatest_) {
    // Clear the words the window slides over, at most the whole ring.
    const std::uint64_t current = greatest_ / kWordBits;
    const std::uint64_t target = counter / kWordBits;
    std::uint64_t steps = target - current;
    if (steps > kWords) steps = kWords;
    for (std::uint64_t i = 1; i <= steps; ++i) bitmap_[(current + i) % kWords] = 0;
    greatest_ = counter;
  }
  bitmap_[(counter / kWordBits) % kWords] |= 1ULL << (counter % kWordBits);
  return ReplayResult::kOk;
}

void ReplayWindow::reset() {
  bitmap_.fill(0);
  greatest_ = 0;
}

}  // namespace wg::noise
