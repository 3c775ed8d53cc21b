#include "lib/crypto/key_encoding.h"

#include <sodium/utils.h>

#include "absl/status/status.h"

namespace wg::crypto {
namespace {
constexpr std::size_t kBase64Len = 44;  // 32 bytes, padded
}  // namespace

std::string to_base64(std::span<const std::uint8_t, 32> key) {
  char buf[kBase64Len + 1];
  sodium_bin2base64(buf, sizeof(buf), key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return std::string(buf, kBase64Len);
}

absl::StatusOr<Key> key_from_base64(std::string_view text) {
  if (text.size() != kBase64Len || text[kBase64Len - 1] != '=') {
    return absl::InvalidArgumentError("a key is 44 base64 characters ending in '='");
  }
  // libsodium 1.0.18 decodes every byte >= 0x80 as '/' (its constant-time character test assumes a
  // non-negative char), so non-ASCII text is refused here, without branching on the (secret) characters.
  unsigned char high_bits = 0;
  for (const char c : text) high_bits |= static_cast<unsigned char>(c);
  if (high_bits & 0x80) return absl::InvalidArgumentError("key is not valid base64 for 32 bytes");
  Key key;
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != key.size() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError("key is not valid base64 for 32 bytes");
  }
  return key;
}

absl::StatusOr<PublicKey> public_key_from_base64(std::string_view text) {
  absl::StatusOr<Key> k = key_from_base64(text);
  if (!k.ok()) return k.status();
  PublicKey pub;
  for (std::size_t i = 0; i < pub.size(); ++i) pub[i] = k->data()[i];
  return pub;
}

std::string to_hex(std::span<const std::uint8_t, 32> key) {
  char buf[2 * 32 + 1];
  sodium_bin2hex(buf, sizeof(buf), key.data(), key.size());
  return std::string(buf, 2 * 32);
}

absl::StatusOr<Key> key_from_hex(std::string_view text) {
  Key key;
  std::size_t len = 0;
  const char* end = nullptr;
  if (text.size() != 64 ||
      sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, &end) != 0 ||
      len != key.size() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError("a hex key is 64 hex digits");
  }
  return key;
}

}  // namespace wg::crypto
