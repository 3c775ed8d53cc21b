#include "control/staging.h"

#include <algorithm>

namespace wg::ctl {

StagingStore::StagingStore(std::size_t max_peers, std::size_t budget, Release release)
    : budget_(std::max<std::size_t>(budget, 1)), release_(std::move(release)), max_peers_(max_peers) {}

StagingStore::~StagingStore() {
  for (auto& [peer, q] : queues_) {
    for (const Staged& s : q) release_(s.m);
  }
}

StagingStore::Dropped StagingStore::push(std::uint32_t peer, rte_mbuf* m) {
  if (peer >= max_peers_) {
    release_(m);
    return Dropped::kPeerFull;
  }
  Dropped dropped = Dropped::kNone;
  if (auto it = queues_.find(peer); it != queues_.end() && it->second.size() >= kMaxStaged) {
    release_(it->second.front().m);  // keep the newest, as the kernel does; its ticket goes stale
    it->second.pop_front();
    --total_;
    dropped = Dropped::kPeerFull;
  } else if (total_ >= budget_) {
    evict_oldest();  // may empty (and erase) this peer's queue too
    dropped = Dropped::kBudget;
  }
  auto& q = queues_[peer];
  const std::uint64_t seq = next_seq_++;
  q.push_back({m, seq});
  order_.push_back({peer, seq});
  ++total_;
  if (order_.size() > 2 * total_ + 1024) compact();
  return dropped;
}

rte_mbuf* StagingStore::pop(std::uint32_t peer) {
  auto it = queues_.find(peer);
  if (it == queues_.end()) return nullptr;
  rte_mbuf* m = it->second.front().m;
  it->second.pop_front();
  if (it->second.empty()) queues_.erase(it);
  --total_;
  return m;
}

std::size_t StagingStore::drop_peer(std::uint32_t peer) {
  auto it = queues_.find(peer);
  if (it == queues_.end()) return 0;
  const std::size_t n = it->second.size();
  for (const Staged& s : it->second) release_(s.m);
  queues_.erase(it);
  total_ -= n;
  return n;
}

// The first live ticket names the oldest staged packet of all, and it is the front of its peer's queue:
// every older packet of that peer would have an earlier live ticket.
void StagingStore::evict_oldest() {
  while (!order_.empty()) {
    const Ticket t = order_.front();
    order_.pop_front();
    if (!live(t)) continue;
    auto it = queues_.find(t.peer);
    release_(it->second.front().m);
    it->second.pop_front();
    if (it->second.empty()) queues_.erase(it);
    --total_;
    return;
  }
}

void StagingStore::compact() {
  std::deque<Ticket> kept;
  for (const Ticket& t : order_) {
    if (live(t)) kept.push_back(t);
  }
  order_.swap(kept);
}

}  // namespace wg::ctl
