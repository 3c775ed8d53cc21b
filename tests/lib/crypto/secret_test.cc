// Secret<N>: starts zeroed, copies by value, wipes on request and on destruction, and compares by content.
// Constant time cannot be measured reliably in a unit test; equality is checked for correctness only.
#include "lib/crypto/secret.h"

#include <gtest/gtest.h>

#include <new>
#include <type_traits>

namespace wg::crypto {
namespace {

std::array<std::uint8_t, 32> counting(std::uint8_t start = 1) {
  std::array<std::uint8_t, 32> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(start + i);
  return b;
}

bool all_zero(const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

static_assert(Key::kSize == 32 && Key::size() == 32);
static_assert(sizeof(Secret<16>) == 16, "a Secret is its bytes and nothing else");

TEST(Secret, DefaultIsZero) {
  Key k;
  EXPECT_TRUE(k.is_zero());
  EXPECT_TRUE(all_zero(k.data(), k.size()));
}

TEST(Secret, ConstructAndAssignCopyTheBytes) {
  const auto bytes = counting();
  const Key k(bytes);
  EXPECT_FALSE(k.is_zero());
  for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(k.data()[i], bytes[i]) << i;
  EXPECT_EQ(k.span().data(), k.data());

  Key m;
  m.assign(counting(100));
  for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(m.data()[i], static_cast<std::uint8_t>(100 + i)) << i;
}

TEST(Secret, WipeZeroes) {
  Key k(counting());
  ASSERT_FALSE(k.is_zero());
  k.wipe();
  EXPECT_TRUE(k.is_zero());
  EXPECT_TRUE(all_zero(k.data(), k.size()));
}

TEST(Secret, IsZeroSeesASingleNonzeroByteAnywhere) {
  for (std::size_t i = 0; i < 32; ++i) {
    Key k;
    k.data()[i] = 0x01;
    EXPECT_FALSE(k.is_zero()) << i;
  }
  Key last;
  last.data()[31] = 0x80;
  EXPECT_FALSE(last.is_zero());
}

TEST(Secret, EqualityComparesEveryByte) {
  const Key a(counting());
  const Key b(counting());
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a != b);
  for (std::size_t i = 0; i < 32; ++i) {
    Key c(counting());
    c.data()[i] ^= 0x01;
    EXPECT_FALSE(a == c) << "difference at byte " << i;
    EXPECT_TRUE(a != c) << i;
  }
  EXPECT_TRUE(Key() == Key());
}

TEST(Secret, CopiesAreIndependent) {
  Key a(counting());
  Key b(a);
  EXPECT_TRUE(a == b);
  EXPECT_NE(a.data(), b.data());
  a.wipe();
  EXPECT_TRUE(a.is_zero());
  EXPECT_FALSE(b.is_zero()) << "wiping one copy must not touch the other";

  Key c;
  c = b;
  EXPECT_TRUE(c == b);
  b.data()[0] ^= 0xff;
  EXPECT_FALSE(c == b);

  Key& self = c;
  c = self;  // self-assignment keeps the bytes
  EXPECT_EQ(c.data()[0], 1);
}

TEST(Secret, DestructorWipes) {
  // Observe the storage after the destructor ran; placement new keeps the bytes ours to read. This relies on
  // sodium_memzero not being elided as a dead store, which is exactly its promise.
  alignas(Key) unsigned char storage[sizeof(Key)];
  Key* k = new (storage) Key(counting());
  ASSERT_FALSE(all_zero(storage, sizeof(storage)));
  k->~Key();
  EXPECT_TRUE(all_zero(storage, sizeof(storage)));
}

TEST(Secret, EqualCt) {
  const auto a = counting();
  auto b = counting();
  EXPECT_TRUE(equal_ct(a, b));
  b[31] ^= 1;
  EXPECT_FALSE(equal_ct(a, b));
  EXPECT_FALSE(equal_ct(std::span<const std::uint8_t>(a).first(16), a)) << "lengths differ";
  EXPECT_TRUE(equal_ct({}, {}));
}

}  // namespace
}  // namespace wg::crypto
