#include "control/staging.h"

#include <algorithm>

namespace wg::ctl {

StagingStore::StagingStore(std::size_t max_peers, std::size_t budget, Release release)
    : budget_(std::max<std::size_t>(budget, 1)), release_(std::move(release)), queues_(max_peers) {}

StagingStore::~StagingStore() {
  for (std::uint32_t p = 0; p < queues_.size(); ++p) drop_peer(p);
}

StagingStore::Dropped StagingStore::push(std::uint32_t peer, rte_mbuf* m) {
  if (peer >= queues_.size()) {
    release_(m);
    return Dropped::kPeerFull;
  }
  Dropped dropped = Dropped::kNone;
  auto& q = queues_[peer];
  if (q.size() >= kMaxStaged) {
    release_(q.front().m);  // keep the newest, as the kernel does; its ticket goes stale
    q.pop_front();
    --total_;
    dropped = Dropped::kPeerFull;
  } else if (total_ >= budget_) {
    evict_oldest();
    dropped = Dropped::kBudget;
  }
  const std::uint64_t seq = next_seq_++;
  q.push_back({m, seq});
  order_.push_back({peer, seq});
  ++total_;
  if (order_.size() > 2 * total_ + 1024) compact();
  return dropped;
}

rte_mbuf* StagingStore::pop(std::uint32_t peer) {
  if (peer >= queues_.size() || queues_[peer].empty()) return nullptr;
  rte_mbuf* m = queues_[peer].front().m;
  queues_[peer].pop_front();
  --total_;
  return m;
}

std::size_t StagingStore::drop_peer(std::uint32_t peer) {
  if (peer >= queues_.size()) return 0;
  auto& q = queues_[peer];
  const std::size_t n = q.size();
  for (const Staged& s : q) release_(s.m);
  q.clear();
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
    auto& q = queues_[t.peer];
    release_(q.front().m);
    q.pop_front();
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
