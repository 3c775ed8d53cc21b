// `wggate genkey | pubkey | genpsk`: the key commands of wg(8), reading and writing the same base64 text, so
// keys made by either tool work in the other. Runs before the EAL starts (no DPDK involved).
#pragma once

#include <optional>

namespace wg::ctl {

// Runs the key command named by argv[1] if it is one; returns its exit status, or nullopt otherwise.
std::optional<int> run_key_command(int argc, char** argv);

}  // namespace wg::ctl
