// Secret byte strings: keys, chaining keys, shared secrets. They wipe themselves when destroyed or
// overwritten, and compare in constant time, so no secret outlives its owner or leaks through timing.
#pragma once

#include <sodium/utils.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace wg::crypto {

template <std::size_t N>
class Secret {
 public:
  static constexpr std::size_t kSize = N;

  Secret() { bytes_.fill(0); }
  explicit Secret(std::span<const std::uint8_t, N> bytes) { assign(bytes); }
  Secret(const Secret& other) : bytes_(other.bytes_) {}
  Secret& operator=(const Secret& other) {
    if (this != &other) bytes_ = other.bytes_;
    return *this;
  }
  ~Secret() { wipe(); }

  void assign(std::span<const std::uint8_t, N> bytes) {
    for (std::size_t i = 0; i < N; ++i) bytes_[i] = bytes[i];
  }
  void wipe() { sodium_memzero(bytes_.data(), N); }

  // Constant-time: the time taken does not depend on where the first difference is.
  friend bool operator==(const Secret& a, const Secret& b) {
    return sodium_memcmp(a.bytes_.data(), b.bytes_.data(), N) == 0;
  }
  bool is_zero() const { return sodium_is_zero(bytes_.data(), N) == 1; }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::span<std::uint8_t, N> span() { return std::span<std::uint8_t, N>(bytes_); }
  std::span<const std::uint8_t, N> span() const { return std::span<const std::uint8_t, N>(bytes_); }
  static constexpr std::size_t size() { return N; }

 private:
  std::array<std::uint8_t, N> bytes_;
};

// A 32-byte symmetric key or X25519 private key.
using Key = Secret<32>;

// Constant-time equality of two public byte strings of equal length (tags, macs).
inline bool equal_ct(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace wg::crypto
