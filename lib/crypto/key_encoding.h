// Keys as `wg genkey`/`wg pubkey`/`wg genpsk` write them (standard base64 with padding, 44 characters),
// and as the cross-platform UAPI writes them (64 lowercase hex digits). Decoding is strict: anything that is
// not exactly 32 bytes is an error.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/crypto/secret.h"
#include "lib/crypto/x25519.h"

namespace wg::crypto {

std::string to_base64(std::span<const std::uint8_t, 32> key);
[[nodiscard]] absl::StatusOr<Key> key_from_base64(std::string_view text);
[[nodiscard]] absl::StatusOr<PublicKey> public_key_from_base64(std::string_view text);

std::string to_hex(std::span<const std::uint8_t, 32> key);
[[nodiscard]] absl::StatusOr<Key> key_from_hex(std::string_view text);

}  // namespace wg::crypto
