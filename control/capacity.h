// How big the tables the workers read are made (dp::TableSizes), from the configuration at start: peers from
// Config::peer_capacity() (MaxPeers, or room for twice the file's peers), AllowedIPs and LPM groups from that.
// The sizes are fixed for the process's life: `wg set` and reloads add peers up to the capacity and are
// refused past it with the number; a larger capacity needs MaxPeers and a restart.
#pragma once

#include "config/config.h"
#include "dataplane/tables.h"

namespace wg::ctl {

[[nodiscard]] dp::TableSizes table_sizes(const config::Config& cfg);

}  // namespace wg::ctl
