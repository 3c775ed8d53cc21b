// One transport data message at a time (type 4, WireGuard paper 5.4.6): pad, encrypt under the keypair's
// next counter, and the reverse with the replay window checked after authentication. This is the reference
// path used by the handshake tools and tests; the dataplane batches the same steps across a burst.
#pragma once

#include <cstdint>
#include <span>

#include "lib/protocol/keypair.h"
#include "lib/protocol/messages.h"

namespace wg::noise {

enum class TransportResult : std::uint8_t {
  kOk,
  kTruncated,       // shorter than header + tag
  kNotTransport,    // type field is not 4 with zero reserved bytes
  kBadTag,          // does not authenticate under this keypair
  kReplayed,        // duplicate or behind the replay window
  kCounterLimit,    // counter at or beyond REJECT_AFTER_MESSAGES
  kBufferTooSmall,  // caller's output buffer cannot hold the result
};
const char* to_string(TransportResult r);

// Output size of an encrypted packet for `payload_len` bytes of inner packet under `mtu`.
inline std::size_t transport_size(std::size_t payload_len, std::size_t mtu) {
  return sizeof(MessageTransportHeader) + padded_length(payload_len, mtu) + kTagLen;
}

// Encrypts `payload` (an inner IP packet, or empty for a keepalive) into `out`; `written` is the message size.
[[nodiscard]] TransportResult encrypt_transport(Keypair& kp, std::span<const std::uint8_t> payload,
                                                std::size_t mtu, std::span<std::uint8_t> out,
                                                std::size_t& written);

// The receiver index of a transport message, to find its keypair; false if too short to be one.
bool transport_receiver(std::span<const std::uint8_t> msg, std::uint32_t& receiver);

// Decrypts `msg` into `out` (may alias msg + 16); `written` is the padded plaintext length (0: keepalive).
[[nodiscard]] TransportResult decrypt_transport(Keypair& kp, std::span<const std::uint8_t> msg,
                                                std::span<std::uint8_t> out, std::size_t& written);

}  // namespace wg::noise
