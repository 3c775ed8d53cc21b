#include "dataplane/tables.h"

#include <rte_errno.h>
#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace wg::dp {

TablesOwner::~TablesOwner() {
  if (!tables) return;
  for (rte_lpm* l : lpm.v4) rte_lpm_free(l);
  for (rte_lpm6* l : lpm.v6) rte_lpm6_free(l);
  rte_hash_free(tables->inside_neighbors);
  rte_free(tables->qsbr);
  for (rte_ring* r : tables->handoff) rte_ring_free(r);
  rte_ring_free(tables->events);
  rte_ring_free(tables->awaiting_neighbor);
  if (workers) {
    for (WorkerShared& w : *workers) rte_ring_free(w.activity);
  }
}

namespace {
// At most 2^24 for 2^20 peers: rte_align64pow2 of a 64-bit product, narrowed.
std::uint32_t pow2_at_least(std::uint64_t n) { return static_cast<std::uint32_t>(rte_align64pow2(n)); }
}  // namespace

std::uint32_t TableSizes::index_slots() const { return std::max<std::uint32_t>(1u << 14, pow2_at_least(8ull * peers)); }
std::uint32_t TableSizes::endpoint_slots() const { return std::max<std::uint32_t>(4096, pow2_at_least(2ull * peers)); }

absl::StatusOr<std::unique_ptr<TablesOwner>> create_tables(unsigned workers, int socket, const std::string& tag,
                                                           const TableSizes& sizes) {
  if (sizes.peers == 0 || sizes.peers > kPeerLimit || workers >= kMaxWorkers) {
    return absl::InvalidArgumentError(absl::StrCat("cannot size tables for ", sizes.peers, " peers and ", workers,
                                                   " workers: at most ", kPeerLimit, " and ", kMaxWorkers - 1));
  }
  auto owner = std::make_unique<TablesOwner>();
  owner->tables = std::make_unique<Tables>();
  owner->workers = std::make_unique<std::array<WorkerShared, kMaxWorkers>>();
  Tables& t = *owner->tables;
  t.workers = owner->workers.get();
  t.worker_count = workers;
  // Per-peer arrays live on the ordinary heap: the workers only read them, and their size follows the
  // configuration, not the DPDK heap's -m.
  t.peer_capacity = sizes.peers;
  t.route_capacity = sizes.routes;
  t.peers = std::make_unique<PeerSlot[]>(sizes.peers);
  t.index_mask = sizes.index_slots() - 1;
  t.by_index = std::make_unique<std::atomic<noise::Keypair*>[]>(sizes.index_slots());
  t.live_index = std::make_unique<std::atomic<std::uint32_t>[]>(sizes.index_slots());
  t.endpoint_mask = sizes.endpoint_slots() - 1;
  t.known_endpoints = std::make_unique<std::atomic<std::uint64_t>[]>(sizes.endpoint_slots());
  bool activity_ok = true;
  for (unsigned w = 0; w <= workers; ++w) {
    WorkerShared& ws = (*owner->workers)[w];
    ws.peers = std::make_unique<PeerActivity[]>(sizes.peers);
    const std::string name = absl::StrCat("wg_act", w, "_", tag);
    ws.activity = rte_ring_create_elem(name.c_str(), sizeof(std::uint32_t), pow2_at_least(2ull * sizes.peers + 1), socket,
                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
    activity_ok = activity_ok && ws.activity != nullptr;
  }
  const std::string nbr = "wg_nbr_" + tag, qs = "wg_qsbr_" + tag,
                    ev = "wg_ev_" + tag, nb = "wg_nbq_" + tag;
  rte_lpm_config lpm_cfg{};
  lpm_cfg.max_rules = sizes.routes;
  lpm_cfg.number_tbl8s = sizes.v4_tbl8;
  rte_lpm6_config lpm6_cfg{};
  lpm6_cfg.max_rules = sizes.routes;
  lpm6_cfg.number_tbl8s = sizes.v6_tbl8;
  bool lpm_ok = true;
  for (int i = 0; i < 2; ++i) {
    const std::string lpm4 = absl::StrCat("wg_v4", i, "_", tag), lpm6 = absl::StrCat("wg_v6", i, "_", tag);
    owner->lpm.v4[i] = rte_lpm_create(lpm4.c_str(), socket, &lpm_cfg);
    owner->lpm.v6[i] = rte_lpm6_create(lpm6.c_str(), socket, &lpm6_cfg);
    lpm_ok = lpm_ok && owner->lpm.v4[i] != nullptr && owner->lpm.v6[i] != nullptr;
  }
  t.allowed_v4.store(owner->lpm.v4[0]);
  t.allowed_v6.store(owner->lpm.v6[0]);
  rte_hash_parameters hp{};
  hp.name = nbr.c_str();
  hp.entries = 4096;
  hp.key_len = 16;
  hp.socket_id = socket;
  hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF;  // one writer (control), lock-free readers
  t.inside_neighbors = rte_hash_create(&hp);
  const std::size_t qsbr_size = rte_rcu_qsbr_get_memsize(workers);
  t.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc(qs.c_str(), qsbr_size, RTE_CACHE_LINE_SIZE));
  if (t.qsbr != nullptr) rte_rcu_qsbr_init(t.qsbr, workers);
  bool rings_ok = true;
  for (std::size_t h = 0; h < kHandoffs; ++h) {
    const std::string name = absl::StrCat("wg_", kHandoffNames[h], "_", tag);
    // RING_F_EXACT_SZ: the depth is exactly what the mbuf budget counts, not the next power of two less one.
    t.handoff[h] = rte_ring_create(name.c_str(), kHandoffDepth[h], socket, RING_F_SC_DEQ | RING_F_EXACT_SZ);
    rings_ok = rings_ok && t.handoff[h] != nullptr;
  }
  t.events = rte_ring_create_elem(ev.c_str(), sizeof(Event), 1024, socket, RING_F_SC_DEQ);
  t.awaiting_neighbor = rte_ring_create(nb.c_str(), kAwaitingDepth, socket, RING_F_SC_DEQ | RING_F_EXACT_SZ);
  if (!lpm_ok) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot create the AllowedIPs tables for ", sizes.peers, " peers (", sizes.routes, " prefixes, ",
        sizes.v4_tbl8, " + ", sizes.v6_tbl8, " groups per family, two copies each) in DPDK memory: ",
        rte_strerror(rte_errno), "; give EAL more memory (-m, hugepages) or lower MaxPeers"));
  }
  if (!activity_ok || t.inside_neighbors == nullptr || t.qsbr == nullptr ||
      !rings_ok || t.events == nullptr || t.awaiting_neighbor == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot create tables and rings: ", rte_strerror(rte_errno)));
  }
  return owner;
}

}  // namespace wg::dp
