// The DeviceChange that makes the running device match a config file: used at start-up (applied to an
// empty device) and on SIGHUP (applied to the live one, as `wg syncconf` does). Peers not in the file are
// removed; peers in it keep their sessions and take the file's settings; an Endpoint not written in the file
// keeps the one learnt from the peer (roaming). [Gateway] settings are not part of it: they need a restart.
#pragma once

#include "config/config.h"
#include "control/device_change.h"

namespace wg::ctl {

[[nodiscard]] DeviceChange change_from_config(const config::Config& cfg);

}  // namespace wg::ctl
