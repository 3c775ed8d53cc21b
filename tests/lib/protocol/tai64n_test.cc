// TAI64N as the initiation carries it: known byte layouts (seconds + 2^62 + 10 big-endian, nanoseconds
// big-endian and rounded down to a multiple of 2^24), and the ordering the responder's replay guard relies
// on. Expected bytes were computed with python3 from the definition, not with this code.
#include "lib/protocol/tai64n.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include "tests/lib/hex.h"

namespace wg::noise {
namespace {

using wg::testing::hex;

using std::chrono::nanoseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point at(std::int64_t secs, std::int64_t nanos) {
  return system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(seconds(secs) + nanoseconds(nanos)));
}


TEST(Tai64n, KnownLayouts) {
  // system_clock's resolution is the platform's; the nanosecond cases need it to be 1 ns or finer than 2^24.
  EXPECT_EQ(hex(tai64n_from(at(0, 0))), "400000000000000a00000000");
  EXPECT_EQ(hex(tai64n_from(at(1700000000, 123456789))), "400000006553f10a07000000");
  EXPECT_EQ(hex(tai64n_from(at(1700000000, 999999999))), "400000006553f10a3b000000");
  EXPECT_EQ(hex(tai64n_from(at(1, (1 << 24) - 1))), "400000000000000b00000000");
  EXPECT_EQ(hex(tai64n_from(at(1, 1 << 24))), "400000000000000b01000000");
}

TEST(Tai64n, BeforeTheEpochFloorsTheSeconds) {
  // -1.5 s is second -2 plus 0.5 s, so the nanosecond field stays in [0, 1e9).
  EXPECT_EQ(hex(tai64n_from(at(-2, 500000000))), "40000000000000081d000000");
  EXPECT_EQ(tai64n_from(at(-2, 500000000)), tai64n_from(at(0, -1500000000)));
}

TEST(Tai64n, NanosecondsAreMultiplesOf2To24) {
  for (std::int64_t ns = 0; ns < 1000000000; ns += 7777777) {
    const Tai64n t = tai64n_from(at(1234567890, ns));
    EXPECT_EQ(t[9], 0) << ns;
    EXPECT_EQ(t[10], 0) << ns;
    EXPECT_EQ(t[11], 0) << ns;
    EXPECT_EQ(t[8], static_cast<std::uint8_t>(ns >> 24)) << ns;
  }
}

TEST(Tai64n, LaterTimesCompareAfter) {
  const Tai64n a = tai64n_from(at(1700000000, 0));
  const Tai64n b = tai64n_from(at(1700000000, 1 << 24));
  const Tai64n c = tai64n_from(at(1700000001, 0));
  EXPECT_TRUE(tai64n_after(b, a));
  EXPECT_TRUE(tai64n_after(c, b));
  EXPECT_TRUE(tai64n_after(c, a));
  EXPECT_FALSE(tai64n_after(a, b));
  EXPECT_FALSE(tai64n_after(a, a)) << "equal is not after: a replayed initiation must be refused";
  // The next second wins over the largest nanosecond field of the previous one.
  EXPECT_TRUE(tai64n_after(c, tai64n_from(at(1700000000, 999999999))));
  // A carry across a seconds byte boundary (0x..ff -> 0x..00) still orders correctly.
  EXPECT_TRUE(tai64n_after(tai64n_from(at(256, 0)), tai64n_from(at(255, 999999999))));
  EXPECT_TRUE(tai64n_after(tai64n_from(at(65536, 0)), tai64n_from(at(65535, 0))));
  // Before the epoch orders below after it.
  EXPECT_TRUE(tai64n_after(tai64n_from(at(0, 0)), tai64n_from(at(-1, 999999999))));
}

TEST(Tai64n, SameWhitenedIntervalIsNotAfter) {
  // Two initiations within one 2^24 ns interval carry the same timestamp, so the second is refused; that is
  // the intended cost of whitening (and why the kernel rate-limits initiations anyway).
  const Tai64n a = tai64n_from(at(1700000000, 1 << 24));
  const Tai64n b = tai64n_from(at(1700000000, (2 << 24) - 1));
  EXPECT_EQ(a, b);
  EXPECT_FALSE(tai64n_after(b, a));
}

TEST(Tai64n, MonotonicOverASweep) {
  Tai64n prev = tai64n_from(at(1699999999, 0));
  for (std::int64_t step = 1; step <= 500; ++step) {
    // 20 ms steps: always more than one 2^24 ns interval.
    const Tai64n cur = tai64n_from(at(1699999999, 20000000 * step));
    ASSERT_TRUE(tai64n_after(cur, prev)) << step;
    prev = cur;
  }
}

TEST(Tai64n, NowIsAfterAFixedPastTime) {
  const Tai64n now = tai64n_now();
  EXPECT_TRUE(tai64n_after(now, tai64n_from(at(1700000000, 0))));  // November 2023
  EXPECT_EQ(now[0], 0x40);
  EXPECT_FALSE(tai64n_after(now, tai64n_from(system_clock::now() + seconds(60))));
}

}  // namespace
}  // namespace wg::noise
