// fuzz_key_encoding: parsing keys the way `wg` (base64) and the UAPI (hex) write them, on arbitrary text:
// key_from_base64, public_key_from_base64, key_from_hex. Asserts: a key that parses encodes back to the same
// text (for hex, lowercased: hex digits are case-insensitive, the encoder writes lowercase); the two base64
// parsers agree; and 32 bytes taken from the input survive a roundtrip through both encodings.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/crypto/key_encoding.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace wg;

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

fuzz::Seeds make_seeds() {
  const crypto::Key k = fuzz::fixed_key(1);
  const std::string b64 = crypto::to_base64(k.span());
  const std::string hex = crypto::to_hex(k.span());
  auto bytes = [](std::string_view s) { return fuzz::Bytes(s.begin(), s.end()); };
  return {
      bytes(b64),
      bytes(hex),
      bytes(std::string(hex.size(), 'F')),
      bytes(std::string(43, '/') + "="),  // last character has bits set that 32 bytes cannot hold
      bytes(b64.substr(0, 42) + "=="),
  };
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::setup();
  fuzz::write_seeds_if_asked(make_seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_run();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const absl::StatusOr<crypto::Key> b64 = crypto::key_from_base64(text);
  const absl::StatusOr<crypto::PublicKey> pub = crypto::public_key_from_base64(text);
  FUZZ_CHECK(b64.ok() == pub.ok());
  if (b64.ok()) {
    FUZZ_CHECK(crypto::to_base64(b64->span()) == text);
    FUZZ_CHECK(std::equal(pub->begin(), pub->end(), b64->data()));
  }
  const absl::StatusOr<crypto::Key> hex = crypto::key_from_hex(text);
  if (hex.ok()) FUZZ_CHECK(crypto::to_hex(hex->span()) == lowercase(text));

  // Any 32 bytes encode to text that parses back to them.
  std::array<std::uint8_t, 32> raw{};
  std::copy_n(data, std::min(size, raw.size()), raw.begin());
  const absl::StatusOr<crypto::Key> from_b64 = crypto::key_from_base64(crypto::to_base64(raw));
  const absl::StatusOr<crypto::Key> from_hex = crypto::key_from_hex(crypto::to_hex(raw));
  FUZZ_CHECK(from_b64.ok() && std::equal(raw.begin(), raw.end(), from_b64->data()));
  FUZZ_CHECK(from_hex.ok() && std::equal(raw.begin(), raw.end(), from_hex->data()));
  return 0;
}
