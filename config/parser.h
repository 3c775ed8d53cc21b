// Text -> Config for the gateway's wg-quick style file:
//
//   [Interface]   PrivateKey | PrivateKeyFile, ListenPort
//   [Peer]        PublicKey, PresharedKey, AllowedIPs (repeatable), Endpoint, PersistentKeepalive
//   [Gateway]     Name, InsidePort, OutsidePort, InsideAddress, OutsideAddress (both repeatable),
//                 OutsideGateway, MTU, MetricsAddress, CryptoEngine, Spread
//
// As wg(8) reads it: '#' starts a comment anywhere on a line, section and key names are case-insensitive,
// keys and values are trimmed, a value runs from the first '=' to the end of the line (base64 keys end in
// '='). Every error is InvalidArgumentError("file:line: message"); no message contains key material.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace wg::config {

// Parses one section-by-section pass over `text`; `file` is the name errors use. Checks each value and
// each section on its own (required keys, duplicates); checks across sections are validate_config()'s.
// Pure: PrivateKeyFile is recorded, not read (load_config() does that, then validates).
[[nodiscard]] absl::StatusOr<Config> parse_config(std::string_view text, std::string_view file);

}  // namespace wg::config
