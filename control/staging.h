// Packets held for peers that have no usable session yet (a handshake is pending): the first ping is not
// lost. Two bounds, each with its own drop reason, so that no number of unreachable peers can drain the mbuf
// pool that every port receives into:
//   - per peer: kMaxStaged (128, as the kernel); when full, that peer's oldest packet goes (staging_peer_full);
//   - all peers together: a budget, a share of the pool (dataplane/pool_budget.h); when full, the oldest
//     staged packet of all goes (staging_budget). Oldest first, not newest: a peer that just came up and needs
//     one handshake gets its packets in, at the expense of packets that have waited longest for peers that do
//     not answer.
// The global order is a FIFO of (peer, sequence) tickets; a ticket whose packet already left (sent, dropped
// with its peer) is stale and skipped. Stale tickets are compacted away once they outnumber the live ones,
// so the FIFO stays within twice the budget plus a constant.
//
// Thread rule: control thread only. The packets are opaque here (never dereferenced), so the store is
// unit-testable without DPDK; `release` frees one (rte_pktmbuf_free in the gateway).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>

struct rte_mbuf;

namespace wg::ctl {

// Packets held per peer while a handshake is pending (the kernel holds 128 too).
inline constexpr std::size_t kMaxStaged = 128;

class StagingStore {
 public:
  using Release = std::function<void(rte_mbuf*)>;
  enum class Dropped : std::uint8_t { kNone, kPeerFull, kBudget };

  StagingStore(std::size_t max_peers, std::size_t budget, Release release);
  ~StagingStore();
  StagingStore(const StagingStore&) = delete;
  StagingStore& operator=(const StagingStore&) = delete;

  // Stages m for `peer` (< max_peers). Makes room first when a bound is reached: returns which packet had to
  // go (already released).
  Dropped push(std::uint32_t peer, rte_mbuf* m);
  // The peer's oldest packet, removed; nullptr when it has none.
  rte_mbuf* pop(std::uint32_t peer);
  // Releases every packet of the peer; returns how many.
  std::size_t drop_peer(std::uint32_t peer);

  std::size_t count(std::uint32_t peer) const {
    auto it = queues_.find(peer);
    return it == queues_.end() ? 0 : it->second.size();
  }
  std::size_t total() const { return total_; }
  std::size_t budget() const { return budget_; }
  std::size_t tickets() const { return order_.size(); }  // for tests: the FIFO's own bound

 private:
  struct Staged {
    rte_mbuf* m;
    std::uint64_t seq;
  };
  struct Ticket {
    std::uint32_t peer;
    std::uint64_t seq;
  };
  bool live(const Ticket& t) const {
    auto it = queues_.find(t.peer);
    return it != queues_.end() && !it->second.empty() && it->second.front().seq <= t.seq &&
           it->second.back().seq >= t.seq;
  }
  void evict_oldest();
  void compact();

  std::size_t budget_;
  Release release_;
  std::size_t max_peers_;
  // Only peers with packets staged have a queue (an empty std::deque still costs ~600 bytes): idle peers
  // cost nothing here. A queue is erased when it empties.
  std::unordered_map<std::uint32_t, std::deque<Staged>> queues_;
  std::deque<Ticket> order_;
  std::size_t total_ = 0;
  std::uint64_t next_seq_ = 1;
};

}  // namespace wg::ctl
