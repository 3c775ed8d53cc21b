// Parsing a UAPI `set=1` request (https://www.wireguard.com/xplatform/) into a DeviceChange, with the
// error classes wireguard-go answers for bad input (control/uapi.h turns them into `errno=`):
//   a line without '='                                  -> FailedPrecondition (-EPROTO)
//   an unknown key, a bad key/number/endpoint/prefix,
//   a flag other than "true", protocol_version != 1    -> InvalidArgument (-EINVAL)
// Pure: no I/O, no state; the whole request is checked before anything is applied.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "control/device_change.h"

namespace wg::ctl {

// `body` is what follows the "set=1\n" line, up to and without the terminating blank line.
[[nodiscard]] absl::StatusOr<DeviceChange> parse_uapi_set(std::string_view body);

}  // namespace wg::ctl
