#include "lib/protocol/messages.h"

namespace wg::noise {
namespace {
MessageClass exact(std::size_t len, std::size_t want, MessageClass ok) {
  if (len < want) return MessageClass::kTruncated;
  return len == want ? ok : MessageClass::kBadLength;
}
}  // namespace

MessageClass classify_message(const std::uint8_t* data, std::size_t len) {
  if (len < 4) return MessageClass::kTruncated;
  switch (message_type_word(data)) {
    case 1: return exact(len, sizeof(MessageInitiation), MessageClass::kInitiation);
    case 2: return exact(len, sizeof(MessageResponse), MessageClass::kResponse);
    case 3: return exact(len, sizeof(MessageCookieReply), MessageClass::kCookieReply);
    case 4:
      if (len < kMinTransportSize) return MessageClass::kTruncated;
      // Senders pad the plaintext to 16 (or to the MTU); the ciphertext has the same length, so anything
      // else was not produced by a conforming peer. wireguard-go and the kernel do not insist on it when
      // the MTU is not a multiple of 16, so neither do we: only the minimum is enforced here.
      return MessageClass::kTransport;
    default: return MessageClass::kUnknownType;
  }
}

const char* to_string(MessageClass c) {
  switch (c) {
    case MessageClass::kInitiation: return "initiation";
    case MessageClass::kResponse: return "response";
    case MessageClass::kCookieReply: return "cookie_reply";
    case MessageClass::kTransport: return "transport";
    case MessageClass::kTruncated: return "truncated";
    case MessageClass::kBadLength: return "bad_length";
    case MessageClass::kUnknownType: return "unknown_type";
  }
  return "unknown";
}

}  // namespace wg::noise
