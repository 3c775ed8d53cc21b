// BLAKE2s wrappers over libb2 and WireGuard's HMAC/KDF built on them.
#include "lib/crypto/blake2s.h"

#include <blake2.h>
#include <sodium/utils.h>

#include <cstdlib>
#include <cstring>

namespace wg::crypto {
namespace {
constexpr std::size_t kBlockSize = 64;
}  // namespace

Hash hash(std::initializer_list<Bytes> parts) {
  blake2s_state state;
  blake2s_init(&state, kHashSize);
  for (Bytes p : parts) blake2s_update(&state, p.data(), p.size());
  Hash out;
  blake2s_final(&state, out.data(), out.size());
  return out;
}

void blake2s_keyed(std::span<std::uint8_t> out, Bytes key, Bytes data) {
  blake2s_state state;
  // Keys and outputs are 1..32 bytes by construction (never sized by the network); libb2 refuses anything
  // else and would leave the state uninitialised, so a violation is a programming error.
  if (blake2s_init_key(&state, out.size(), key.data(), key.size()) != 0) std::abort();
  blake2s_update(&state, data.data(), data.size());
  blake2s_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof(state));
}

Mac mac(Bytes key, Bytes data) {
  Mac out;
  blake2s_keyed(out, key, data);
  return out;
}

Hash hmac(Bytes key, Bytes data) {
  // Keys longer than a block are hashed first (RFC 2104); WireGuard never does that, but HMAC is HMAC.
  std::uint8_t k[kBlockSize] = {};
  if (key.size() > kBlockSize) {
    Hash hk = hash({key});
    std::memcpy(k, hk.data(), hk.size());
    sodium_memzero(hk.data(), hk.size());
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  std::uint8_t pad[kBlockSize];
  for (std::size_t i = 0; i < kBlockSize; ++i) pad[i] = k[i] ^ 0x36;
  Hash inner = hash({Bytes(pad), data});
  for (std::size_t i = 0; i < kBlockSize; ++i) pad[i] = k[i] ^ 0x5c;
  Hash out = hash({Bytes(pad), Bytes(inner)});
  sodium_memzero(k, sizeof(k));
  sodium_memzero(pad, sizeof(pad));
  sodium_memzero(inner.data(), inner.size());
  return out;
}

namespace {
// Derives up to three outputs; the unused ones stay untouched.
void kdf(Key* t1, Key* t2, Key* t3, const Key& key, Bytes input) {
  Hash tau0 = hmac(key.span(), input);
  std::uint8_t buf[kHashSize + 1];
  buf[0] = 1;
  Hash out = hmac(tau0, Bytes(buf, 1));
  t1->assign(out);
  if (t2 != nullptr) {
    std::memcpy(buf, out.data(), kHashSize);
    buf[kHashSize] = 2;
    out = hmac(tau0, Bytes(buf, sizeof(buf)));
    t2->assign(out);
  }
  if (t3 != nullptr) {
    std::memcpy(buf, out.data(), kHashSize);
    buf[kHashSize] = 3;
    out = hmac(tau0, Bytes(buf, sizeof(buf)));
    t3->assign(out);
  }
  sodium_memzero(tau0.data(), tau0.size());
  sodium_memzero(out.data(), out.size());
  sodium_memzero(buf, sizeof(buf));
}
}  // namespace

void kdf1(Key& t1, const Key& key, Bytes input) { kdf(&t1, nullptr, nullptr, key, input); }
void kdf2(Key& t1, Key& t2, const Key& key, Bytes input) { kdf(&t1, &t2, nullptr, key, input); }
void kdf3(Key& t1, Key& t2, Key& t3, const Key& key, Bytes input) { kdf(&t1, &t2, &t3, key, input); }

}  // namespace wg::crypto
