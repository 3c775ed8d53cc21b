// The receive demux's view of a datagram: type word and length only, every malformed shape named.
#include "lib/protocol/messages.h"

#include <gtest/gtest.h>

#include <vector>

namespace wg::noise {
namespace {

MessageClass classify(std::vector<std::uint8_t> v) { return classify_message(v.data(), v.size()); }

std::vector<std::uint8_t> typed(std::uint8_t type, std::size_t len) {
  std::vector<std::uint8_t> v(len, 0xee);
  if (len >= 4) store_le32(v.data(), type);
  return v;
}

TEST(Messages, ExactSizes) {
  EXPECT_EQ(classify(typed(1, 148)), MessageClass::kInitiation);
  EXPECT_EQ(classify(typed(2, 92)), MessageClass::kResponse);
  EXPECT_EQ(classify(typed(3, 64)), MessageClass::kCookieReply);
  EXPECT_EQ(classify(typed(4, 32)), MessageClass::kTransport);
  EXPECT_EQ(classify(typed(4, 1452)), MessageClass::kTransport);
}

TEST(Messages, TruncatedAndLong) {
  EXPECT_EQ(classify({}), MessageClass::kTruncated);
  EXPECT_EQ(classify({1, 0, 0}), MessageClass::kTruncated);
  EXPECT_EQ(classify(typed(1, 147)), MessageClass::kTruncated);
  EXPECT_EQ(classify(typed(1, 149)), MessageClass::kBadLength);
  EXPECT_EQ(classify(typed(2, 91)), MessageClass::kTruncated);
  EXPECT_EQ(classify(typed(2, 93)), MessageClass::kBadLength);
  EXPECT_EQ(classify(typed(3, 63)), MessageClass::kTruncated);
  EXPECT_EQ(classify(typed(3, 65)), MessageClass::kBadLength);
  EXPECT_EQ(classify(typed(4, 31)), MessageClass::kTruncated);
}

TEST(Messages, UnknownTypesAndReservedBytes) {
  EXPECT_EQ(classify(typed(0, 148)), MessageClass::kUnknownType);
  EXPECT_EQ(classify(typed(5, 148)), MessageClass::kUnknownType);
  auto v = typed(1, 148);
  v[3] = 1;  // reserved bytes must be zero
  EXPECT_EQ(classify(v), MessageClass::kUnknownType);
  for (int t = 0; t < 256; ++t) {
    auto m = typed(static_cast<std::uint8_t>(t), 200);
    MessageClass c = classify(m);
    if (t < 1 || t > 4) {
      EXPECT_EQ(c, MessageClass::kUnknownType) << t;
    }
  }
}

TEST(Messages, Padding) {
  EXPECT_EQ(padded_length(0, 1420), 0u);
  EXPECT_EQ(padded_length(1, 1420), 16u);
  EXPECT_EQ(padded_length(16, 1420), 16u);
  EXPECT_EQ(padded_length(1419, 1420), 1420u);
  EXPECT_EQ(padded_length(1420, 1420), 1420u);
  EXPECT_EQ(padded_length(1500, 1420), 1504u) << "over-MTU packets are not clamped (they are refused earlier)";
}

TEST(Messages, Constants) {
  EXPECT_EQ(kRekeyAfterMessages, 1ULL << 60);
  EXPECT_EQ(kRejectAfterMessages, 18446744073709543423ULL);  // 2^64 - 2^13 - 1
  EXPECT_EQ(kRekeyAfterTime, std::chrono::seconds(120));
  EXPECT_EQ(kRejectAfterTime, std::chrono::seconds(180));
  EXPECT_EQ(kRekeyAttemptTime, std::chrono::seconds(90));
  EXPECT_EQ(kRekeyTimeout, std::chrono::seconds(5));
  EXPECT_EQ(kKeepaliveTimeout, std::chrono::seconds(10));
  EXPECT_EQ(kCookieSecretMaxAge, std::chrono::seconds(120));
  EXPECT_EQ(kZeroKeysAfter, std::chrono::seconds(540));
}

}  // namespace
}  // namespace wg::noise
