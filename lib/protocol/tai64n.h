// TAI64N timestamps (https://cr.yp.to/libtai/tai64.html) as WireGuard's initiation carries them: 8 bytes
// big-endian seconds since 1970 plus 2^62 + 10, then 4 bytes big-endian nanoseconds. Responders accept an
// initiation only if its timestamp is greater than the last one from that peer (replay guard), so
// timestamps are compared as byte strings.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace wg::noise {

inline constexpr std::size_t kTai64nSize = 12;
using Tai64n = std::array<std::uint8_t, kTai64nSize>;

// Builds the timestamp for a wall-clock time. Nanoseconds are rounded down to a multiple of 2^24
// (about 16.8 ms), as wireguard-go and the kernel do, so the timestamp leaks less about the host's clock.
Tai64n tai64n_from(std::chrono::system_clock::time_point wall);
Tai64n tai64n_now();

// True when a is strictly later than b.
inline bool tai64n_after(const Tai64n& a, const Tai64n& b) { return a > b; }

}  // namespace wg::noise
