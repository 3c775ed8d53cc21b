// The WireGuard wire format and every protocol constant, in one place (WireGuard paper, section 5.4
// "Messages", and section 6 "Timers & Stateless UX"). All integers on the wire are little-endian; the
// structs are packed byte arrays so they can be read straight out of a received buffer of the right size.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace wg::noise {

using namespace std::chrono_literals;

// Protocol strings (section 5.4).
inline constexpr std::string_view kConstruction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr std::string_view kIdentifier = "WireGuard v1 zx2c4 Jason@zx2c4.com";
inline constexpr std::string_view kLabelMac1 = "mac1----";
inline constexpr std::string_view kLabelCookie = "cookie--";

// Limits (section 6.1 and the kernel's messages.h).
inline constexpr std::uint64_t kRekeyAfterMessages = 1ULL << 60;
inline constexpr std::uint64_t kRejectAfterMessages = ~0ULL - (1ULL << 13);  // 2^64 - 2^13 - 1
inline constexpr auto kRekeyAfterTime = 120s;
inline constexpr auto kRejectAfterTime = 180s;
inline constexpr auto kRekeyAttemptTime = 90s;
inline constexpr auto kRekeyTimeout = 5s;
inline constexpr auto kRekeyTimeoutJitterMax = 334ms;
inline constexpr auto kKeepaliveTimeout = 10s;
inline constexpr auto kCookieSecretMaxAge = 120s;
inline constexpr auto kCookieValidity = kCookieSecretMaxAge - 5s;  // a received cookie, minus latency slack
inline constexpr auto kZeroKeysAfter = kRejectAfterTime * 3;
inline constexpr std::size_t kReplayWindowBits = 8192 - 32;  // RFC 6479 ring of 32-bit words, one kept spare
inline constexpr std::size_t kMaxInitiationsPerSecond = 50;  // per peer, beyond that: flood

enum class MessageType : std::uint8_t {
  kInitiation = 1,
  kResponse = 2,
  kCookieReply = 3,
  kTransport = 4,
};

inline constexpr std::size_t kKeyLen = 32;
inline constexpr std::size_t kTagLen = 16;
inline constexpr std::size_t kMacLen = 16;
inline constexpr std::size_t kTimestampLen = 12;
inline constexpr std::size_t kCookieLen = 16;
inline constexpr std::size_t kCookieNonceLen = 24;
inline constexpr std::size_t kPaddingMultiple = 16;

// Little-endian helpers for the packed fields.
inline std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}
inline void store_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint64_t load_le64(const std::uint8_t* p) {
  return std::uint64_t{load_le32(p)} | std::uint64_t{load_le32(p + 4)} << 32;
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) {
  store_le32(p, static_cast<std::uint32_t>(v));
  store_le32(p + 4, static_cast<std::uint32_t>(v >> 32));
}

// The first four bytes of every message: type, then three reserved zero bytes.
inline void put_type(std::uint8_t* header, MessageType t) { store_le32(header, static_cast<std::uint8_t>(t)); }
inline std::uint32_t message_type_word(const std::uint8_t* header) { return load_le32(header); }

// Handshake initiation (type 1).
struct MessageInitiation {
  std::uint8_t header[4];
  std::uint8_t sender[4];
  std::uint8_t ephemeral[kKeyLen];
  std::uint8_t encrypted_static[kKeyLen + kTagLen];
  std::uint8_t encrypted_timestamp[kTimestampLen + kTagLen];
  std::uint8_t mac1[kMacLen];
  std::uint8_t mac2[kMacLen];
};

// Handshake response (type 2).
struct MessageResponse {
  std::uint8_t header[4];
  std::uint8_t sender[4];
  std::uint8_t receiver[4];
  std::uint8_t ephemeral[kKeyLen];
  std::uint8_t encrypted_nothing[kTagLen];
  std::uint8_t mac1[kMacLen];
  std::uint8_t mac2[kMacLen];
};

// Cookie reply (type 3).
struct MessageCookieReply {
  std::uint8_t header[4];
  std::uint8_t receiver[4];
  std::uint8_t nonce[kCookieNonceLen];
  std::uint8_t encrypted_cookie[kCookieLen + kTagLen];
};

// Transport data header (type 4); the encrypted, padded payload and its 16-byte tag follow.
struct MessageTransportHeader {
  std::uint8_t header[4];
  std::uint8_t receiver[4];
  std::uint8_t counter[8];
};

static_assert(sizeof(MessageInitiation) == 148);
static_assert(sizeof(MessageResponse) == 92);
static_assert(sizeof(MessageCookieReply) == 64);
static_assert(sizeof(MessageTransportHeader) == 16);
inline constexpr std::size_t kTransportOverhead = sizeof(MessageTransportHeader) + kTagLen;  // 32
inline constexpr std::size_t kMinTransportSize = kTransportOverhead;                         // a keepalive
static_assert(kMinTransportSize == 32);

// mac1 covers everything before it; mac2 everything before mac2.
template <typename M>
constexpr std::size_t mac1_offset() { return offsetof(M, mac1); }
template <typename M>
constexpr std::size_t mac2_offset() { return offsetof(M, mac2); }
static_assert(mac1_offset<MessageInitiation>() == 116 && mac2_offset<MessageInitiation>() == 132);
static_assert(mac1_offset<MessageResponse>() == 60 && mac2_offset<MessageResponse>() == 76);

// Length of a payload once padded to a multiple of 16 (section 5.4.6), never past the MTU.
inline constexpr std::size_t padded_length(std::size_t len, std::size_t mtu) {
  std::size_t padded = (len + kPaddingMultiple - 1) & ~(kPaddingMultiple - 1);
  return padded > mtu && len <= mtu ? mtu : padded;
}

// What a UDP payload to the listen port is, judged by its type word and exact length alone (the receive
// demux: nothing is decrypted). Handshake messages have one valid size; transport messages at least 32 bytes.
enum class MessageClass : std::uint8_t {
  kInitiation,
  kResponse,
  kCookieReply,
  kTransport,
  kTruncated,     // shorter than 4 bytes, or shorter than its type's size
  kBadLength,     // a handshake message longer than its fixed size
  kUnknownType,   // type not 1..4, or reserved bytes not zero
};
MessageClass classify_message(const std::uint8_t* data, std::size_t len);
const char* to_string(MessageClass c);

}  // namespace wg::noise
