// DPDK telemetry commands, read with `dpdk-telemetry.py -f <file-prefix>` (the socket is
// /var/run/dpdk/<prefix>/dpdk_telemetry.v2):
//   /wggate/stats          every dataplane counter (dataplane/counters.h) summed over the workers and control's
//                          own queue, plus packets per worker ("workers": "0".."N-1" and "control")
//   /wggate/peers[,FIRST]  per peer: public key (base64), endpoint, allowed IPs, latest handshake (unix
//                          seconds, 0: never), rx/tx bytes; at most kTelemetryPeersPerPage peers from position
//                          FIRST (default 0), with "total" and, when more follow, "next"
// Never any private key or preshared key.
//
// Thread rules: the callbacks run on DPDK's telemetry thread (one per process, started by rte_eal_init). Like a
// Prometheus scrape they read the workers' counters directly (each worker writes only its own; the reader adds
// them up and tolerates slightly stale values) and take peer facts from the snapshot the control thread
// publishes into Metrics under its mutex. They never touch control's own state and never lock a worker.
// DPDK 22.11 cannot unregister a command, so the commands stay registered for the process's life and read
// their sources through a mutex-guarded pointer that stop_telemetry() clears (in-flight calls finish first).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "control/metrics.h"
#include "dataplane/tables.h"

namespace wg::ctl {

// A page of peers must fit DPDK's 16 KB answer buffer: about 300 bytes a peer with a few allowed IPs.
inline constexpr std::uint32_t kTelemetryPeersPerPage = 32;

struct TelemetrySources {
  std::string device;
  std::shared_ptr<const Metrics> metrics;  // peer facts snapshot (Metrics::peers())
  const dp::Tables* tables = nullptr;      // tables->workers: the counters and per-peer activity
  unsigned workers = 0;                    // worker slots 0..workers-1, then control's own slot
};

// Registers the commands (first call only) and points them at `sources`, which must stay valid until
// stop_telemetry() returns.
[[nodiscard]] absl::Status start_telemetry(TelemetrySources sources);

// After it returns no callback reads the sources; the commands answer with an error from then on.
void stop_telemetry();

}  // namespace wg::ctl
