// Checks across sections and fields that no single line can be judged by: duplicate peers, AllowedIPs given
// to two peers, our own key as a peer, addresses that contradict each other, an MTU too small for IPv6, and
// peers that could not be reached. Errors name both lines where two lines conflict.
#pragma once

#include "absl/status/status.h"
#include "config/config.h"

namespace wg::config {

// The first problem found, as InvalidArgumentError("file:line: message"). The own-public-key check runs
// only when the private key is known (always after load_config(), which calls this).
[[nodiscard]] absl::Status validate_config(const Config& config);

}  // namespace wg::config
