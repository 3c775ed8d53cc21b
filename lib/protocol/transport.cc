#include "lib/protocol/transport.h"

#include <cstring>

#include "lib/crypto/aead.h"

namespace wg::noise {

const char* to_string(TransportResult r) {
  switch (r) {
    case TransportResult::kOk: return "ok";
    case TransportResult::kTruncated: return "truncated";
    case TransportResult::kNotTransport: return "not_transport";
    case TransportResult::kBadTag: return "bad_tag";
    case TransportResult::kReplayed: return "replayed";
    case TransportResult::kCounterLimit: return "counter_limit";
    case TransportResult::kBufferTooSmall: return "buffer_too_small";
  }
  return "unknown";
}

TransportResult encrypt_transport(Keypair& kp, std::span<const std::uint8_t> payload, std::size_t mtu,
                                  std::span<std::uint8_t> out, std::size_t& written) {
  const std::size_t padded = padded_length(payload.size(), mtu);
  const std::size_t total = sizeof(MessageTransportHeader) + padded + kTagLen;
  if (out.size() < total) return TransportResult::kBufferTooSmall;
  std::uint64_t counter = 0;
  if (!kp.reserve_counters(1, counter)) return TransportResult::kCounterLimit;

  std::uint8_t* body = out.data() + sizeof(MessageTransportHeader);
  // A keepalive's payload may be an empty span with a null data(): memmove must not see it.
  if (!payload.empty()) std::memmove(body, payload.data(), payload.size());
  std::memset(body + payload.size(), 0, padded - payload.size());
  crypto::seal(std::span<std::uint8_t>(body, padded + kTagLen), kp.sending, counter,
               std::span<const std::uint8_t>(body, padded), {});
  put_type(out.data(), MessageType::kTransport);
  store_le32(out.data() + 4, kp.remote_index);
  store_le64(out.data() + 8, counter);
  written = total;
  return TransportResult::kOk;
}

bool transport_receiver(std::span<const std::uint8_t> msg, std::uint32_t& receiver) {
  if (msg.size() < kMinTransportSize) return false;
  receiver = load_le32(msg.data() + 4);
  return true;
}

TransportResult decrypt_transport(Keypair& kp, std::span<const std::uint8_t> msg, std::span<std::uint8_t> out,
                                  std::size_t& written) {
  if (msg.size() < kMinTransportSize) return TransportResult::kTruncated;
  if (message_type_word(msg.data()) != static_cast<std::uint32_t>(MessageType::kTransport)) {
    return TransportResult::kNotTransport;
  }
  const std::uint64_t counter = load_le64(msg.data() + 8);
  // Cheap pre-check: skip the crypto for counters we would refuse anyway.
  switch (kp.replay.check(counter)) {
    case ReplayResult::kOk: break;
    case ReplayResult::kTooLarge: return TransportResult::kCounterLimit;
    default: return TransportResult::kReplayed;
  }
  const std::size_t plain = msg.size() - kMinTransportSize;
  if (out.size() < plain) return TransportResult::kBufferTooSmall;
  if (!crypto::open(out.first(plain), kp.receiving, counter, msg.subspan(sizeof(MessageTransportHeader)), {})) {
    return TransportResult::kBadTag;
  }
  // Authenticated: now, and only now, the counter may move the window.
  if (kp.replay.update(counter) != ReplayResult::kOk) return TransportResult::kReplayed;
  written = plain;
  return TransportResult::kOk;
}

}  // namespace wg::noise
