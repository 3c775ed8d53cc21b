// The receive-side replay window: a sliding bitmap as RFC 6479 describes ("IPsec Anti-Replay Algorithm
// without Bit Shifting"). The window is a ring of 64-bit words; advancing it clears whole words instead of
// shifting bits. One word is always the one being refilled, so 8192 bits of ring give a window of 8192 - 64.
//
// Thread rule: one writer per window. Call it only after the packet has authenticated (a forged counter must
// never move the window); `check` without `update` may be used before decryption to skip obvious replays.
#pragma once

#include <array>
#include <cstdint>

#include "lib/protocol/messages.h"

namespace wg::noise {

enum class ReplayResult : std::uint8_t {
  kOk,          // counter accepted and now marked as seen
  kDuplicate,   // seen before
  kTooOld,      // behind the window
  kTooLarge,    // at or past REJECT_AFTER_MESSAGES: the key must not be used for it
};

class ReplayWindow {
 public:
  static constexpr std::size_t kRingBits = 8192;
  static constexpr std::size_t kWordBits = 64;
  static constexpr std::size_t kWords = kRingBits / kWordBits;
  static constexpr std::uint64_t kWindow = kRingBits - kWordBits;
  static_assert(kWindow == kReplayWindowBits);

  // Read-only test: would `update` accept this counter now?
  ReplayResult check(std::uint64_t counter) const;
  // Tests and, when acceptable, marks the counter.
  ReplayResult update(std::uint64_t counter);
  void reset();

  // The greatest counter accepted so far (0 when none).
  std::uint64_t greatest() const { return greatest_; }

 private:
  std::array<std::uint64_t, kWords> bitmap_{};
  std::uint64_t greatest_ = 0;
};

}  // namespace wg::noise
