#include "lib/protocol/tai64n.h"

namespace wg::noise {
namespace {
constexpr std::uint64_t kTai64Base = (1ULL << 62) + 10;
constexpr std::uint32_t kWhitenerMask = (1u << 24) - 1;
}  // namespace

Tai64n tai64n_from(std::chrono::system_clock::time_point wall) {
  const auto since_epoch = wall.time_since_epoch();
  const auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
  const std::uint64_t s = kTai64Base + static_cast<std::uint64_t>(secs.count());
  const std::uint32_t n = static_cast<std::uint32_t>(nanos.count()) & ~kWhitenerMask;
  Tai64n out;
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(s >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  return out;
}

Tai64n tai64n_now() { return tai64n_from(std::chrono::system_clock::now()); }

}  // namespace wg::noise
