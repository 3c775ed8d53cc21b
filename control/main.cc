// wggate: `wggate [EAL options] -- --config FILE`. The main lcore runs the control thread; every other lcore
// in -l is a poll-mode worker. Start-up: EAL -> config (errors name file:line) -> ports -> tables and rings
// -> control plane -> workers; SIGINT/SIGTERM stop everything cleanly (ports stopped, keys wiped).
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pdump.h>
#include <malloc.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.h"
#include "control/capacity.h"
#include "control/control_plane.h"
#include "control/keytool.h"
#include "control/log.h"
#include "control/telemetry.h"
#include "dataplane/pool_budget.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "lib/crypto/aead_batch.h"
#include "lib/crypto/key_encoding.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
void on_signal(int) { g_stop.store(true); }
void on_hangup(int) { g_reload.store(true); }

int fail(const std::string& msg) {
  std::fprintf(stderr, "wggate: %s\n", msg.c_str());
  return 1;
}

std::string usage() {
  return "usage: wggate [EAL options] -- --config FILE [--verbose]\n       wggate genkey | pubkey | genpsk";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace wg;
  if (std::optional<int> rc = ctl::run_key_command(argc, argv)) return *rc;
  const int eal_args = rte_eal_init(argc, argv);
  if (eal_args < 0) return fail(std::string("EAL init failed: ") + rte_strerror(rte_errno));
  // dpdk-dumpcap, a secondary process, asks the primary to copy a port's packets into its ring: this answers
  // it. Attaching a secondary needs the primary on hugepages (under --no-huge a capture cannot start).
  if (rte_pdump_init() != 0) return fail(std::string("packet capture init failed: ") + rte_strerror(rte_errno));
  argc -= eal_args;
  argv += eal_args;
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      config_path = argv[++i];
    } else if (std::strcmp(argv[i], "--verbose") == 0) {
      ctl::verbose_log() = true;
    } else {
      return fail(std::string("unknown argument '") + argv[i] + "'\n" + usage());
    }
  }
  if (config_path.empty()) return fail(usage());

  absl::StatusOr<config::Config> loaded = config::load_config(config_path);
  if (!loaded.ok()) return fail(std::string(loaded.status().message()));
  const config::Config& cfg = *loaded;
  for (const std::string& notice : cfg.notices) std::printf("wggate: %s\n", notice.c_str());
  const config::Gateway& g = cfg.gateway;

  const unsigned workers = rte_lcore_count() - 1;
  if (workers < 1 || workers >= dp::kMaxWorkers) {
    return fail("need 2 to " + std::to_string(dp::kMaxWorkers) +
                " lcores: the main lcore runs the control thread, the others are workers (e.g. -l 0-1)");
  }
  auto inside = dp::find_port(g.inside_port);
  if (!inside.ok()) return fail(cfg.file + ":" + std::to_string(g.inside_port_line) + ": " +
                                std::string(inside.status().message()));
  auto outside = dp::find_port(g.outside_port);
  if (!outside.ok()) return fail(cfg.file + ":" + std::to_string(g.outside_port_line) + ": " +
                                 std::string(outside.status().message()));
  if (*inside == *outside) return fail(cfg.file + ":" + std::to_string(g.outside_port_line) +
                                       ": InsidePort and OutsidePort are the same port");

  static_assert(config::kMbufDataRoom == RTE_MBUF_DEFAULT_DATAROOM, "config's MTU bound assumes DPDK's mbuf size");
  const int socket = static_cast<int>(rte_socket_id());
  auto pool = dp::create_mempool(dp::pool_budget(workers).pool(), socket);  // every bound, plus a quarter
  if (!pool.ok()) return fail(std::string(pool.status().message()));

  dp::GatewayInfo gw;
  gw.inside_port = *inside;
  gw.outside_port = *outside;
  gw.mtu = g.mtu;
  for (const auto& a : g.outside_addresses) {
    if (a.prefix.addr.is_v4() && !gw.has_outside_v4) {
      gw.outside_v4 = a.prefix.addr;
      gw.has_outside_v4 = true;
    } else if (!a.prefix.addr.is_v4() && !gw.has_outside_v6) {
      gw.outside_v6 = a.prefix.addr;
      gw.has_outside_v6 = true;
    }
  }
  for (const auto& a : g.inside_addresses) {
    if (gw.inside_addr_count < gw.inside_addrs.size()) gw.inside_addrs[gw.inside_addr_count++] = a.prefix.addr;
  }
  // Outer headers (IPv6 40 + UDP 8 + WireGuard 32) on top of the inner MTU.
  const auto outer_mtu = static_cast<std::uint16_t>(g.mtu + 80);
  for (std::uint16_t port : {gw.inside_port, gw.outside_port}) {
    auto mac = dp::start_port({port, static_cast<std::uint16_t>(workers), outer_mtu}, *pool);
    if (!mac.ok()) return fail(std::string(mac.status().message()));
    (port == gw.inside_port ? gw.inside_mac : gw.outside_mac) = *mac;
  }

  // Tables and rings the workers read (dataplane/tables.h).
  auto owner = dp::create_tables(workers, socket, "main", ctl::table_sizes(cfg));
  if (!owner.ok()) return fail(std::string(owner.status().message()));
  dp::Tables* tables = (*owner)->tables.get();
  auto* worker_shared = (*owner)->workers.get();

  // Slices of one peer's heavy bursts for the other workers (dataplane/spread.h).
  auto spread = dp::create_spread(workers, g.spread, socket, "main");
  if (!spread.ok()) return fail(std::string(spread.status().message()));
  tables->spread = spread->get();

  const std::string engine_name(config::to_string(g.crypto_engine));
  std::vector<std::unique_ptr<crypto::AeadBatchEngine>> engines;
  for (unsigned i = 0; i <= workers; ++i) {  // one per worker, one for control's own queue
    auto e = crypto::make_engine(engine_name);
    if (!e.ok()) return fail(cfg.file + ":" + std::to_string(g.crypto_engine_line) + ": " +
                             std::string(e.status().message()));
    engines.push_back(std::move(*e));
  }

  auto control = std::make_unique<ctl::ControlPlane>(cfg, *tables, (*owner)->lpm, gw, *pool, static_cast<std::uint16_t>(workers),
                                                     engines[workers].get(), g_stop, &g_reload);
  if (absl::Status s = control->init(); !s.ok()) return fail(std::string(s.message()));
  // Reading the file and building every peer freed much of what it allocated: give it back, so that RSS says
  // what the gateway keeps (about 1.6 KiB a peer), not what reading 100,000 [Peer]s took on the way.
  malloc_trim(0);
  if (absl::Status s = ctl::start_telemetry({g.name, control->metrics(), tables, workers}); !s.ok()) {
    return fail(std::string(s.message()));
  }

  std::printf("wggate: %s public key %s, listening on UDP %u, %u worker(s), crypto engine %s, spread %s\n",
              g.name.c_str(), crypto::to_base64(control->identity().public_key).c_str(), cfg.interface.listen_port,
              workers, std::string(engines[0]->description()).c_str(), (*spread)->enabled ? "on" : "off");
  std::fflush(stdout);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_hangup);  // re-read the config file and apply the difference (wg syncconf)
  std::vector<dp::WorkerContext> ctxs(workers);
  unsigned i = 0;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    ctxs[i] = dp::WorkerContext{i, &gw, tables, engines[i].get(), &(*worker_shared)[i], &g_stop,
                                i == 0 ? static_cast<std::int32_t>(workers) : -1,  // worker 0: control's RX too
                                spread->get()};
    rte_eal_remote_launch(dp::worker_main, &ctxs[i], lcore);
    ++i;
  }
  control->run();
  rte_eal_mp_wait_lcore();
  tables->spread = nullptr;
  spread->reset();  // mbufs of slices still in flight back to the pool

  std::printf("wggate: stopping; counters:\n");
  for (std::size_t c = 0; c < static_cast<std::size_t>(dp::Counter::kCount); ++c) {
    const std::uint64_t sum = tables->sum_counter(static_cast<dp::Counter>(c));
    if (sum != 0) std::printf("  %-32s %llu\n", dp::kCounterNames[c], static_cast<unsigned long long>(sum));
  }
  std::fflush(stdout);
  ctl::stop_telemetry();  // before the metrics and tables its callbacks read are freed
  control.reset();  // frees staged mbufs and wipes every key while the EAL is still up
  engines.clear();
  owner->reset();
  rte_pdump_uninit();  // no capture can be enabled on a port being closed
  dp::stop_port(gw.inside_port);
  dp::stop_port(gw.outside_port);
  rte_eal_cleanup();
  return 0;
}
