#include "lib/crypto/engine_sodium.h"

#include <sodium/core.h>
#include <sodium/crypto_aead_chacha20poly1305.h>

#include <cstdlib>

#include "lib/crypto/aead.h"

namespace wg::crypto {
namespace {

class SodiumEngine final : public AeadBatchEngine {
 public:
  const char* name() const override { return "sodium"; }
  std::string_view description() const override { return "sodium (libsodium, one packet at a time)"; }

  std::size_t seal(std::span<AeadJob> jobs) override {
    for (AeadJob& job : jobs) {
      const auto nonce = nonce_for_counter(job.counter);
      std::uint8_t* data = payload(job);
      crypto_aead_chacha20poly1305_ietf_encrypt_detached(data, job.tag, nullptr, data, job.len, nullptr, 0,
                                                         nullptr, nonce.data(), job.key);
      job.ok = true;
    }
    return 0;
  }

  std::size_t open(std::span<AeadJob> jobs) override {
    std::size_t failed = 0;
    for (AeadJob& job : jobs) {
      const auto nonce = nonce_for_counter(job.counter);
      std::uint8_t* data = payload(job);
      // Verifies the tag in constant time before decrypting; on a mismatch it zeroes the output instead.
      job.ok = crypto_aead_chacha20poly1305_ietf_decrypt_detached(data, nullptr, data, job.len, job.tag,
                                                                  nullptr, 0, nonce.data(), job.key) == 0;
      failed += job.ok ? 0 : 1;
    }
    return failed;
  }

 private:
  // libsodium declares its buffers nonnull even for 0 bytes; a keepalive may come without a payload pointer.
  static std::uint8_t* payload(const AeadJob& job) { return job.data != nullptr ? job.data : job.tag; }
};

}  // namespace

std::unique_ptr<AeadBatchEngine> make_sodium_engine() {
  // Until sodium_init() runs, libsodium uses its portable ChaCha20 and Poly1305 code; it is idempotent and
  // thread-safe. A failure means no usable CSPRNG, after which nothing safe can follow.
  if (sodium_init() < 0) std::abort();
  return std::make_unique<SodiumEngine>();
}

}  // namespace wg::crypto
