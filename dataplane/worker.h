// A poll-mode worker: one per worker lcore, with its own RX queue and TX queue on each port.
//
// Loop (docs/ARCHITECTURE.md, "Packet paths"):
//   0. slices other workers queued for this one: processed (spread.h)
//   1. rx burst on the inside queue  -> encrypt path (encrypt.cc)  -> tx burst outside
//   2. rx burst on the outside queue -> decrypt path (decrypt.cc)  -> tx burst inside
//      (a heavy burst is cut into slices for the other workers instead, and sent in order when done)
//   3. the reorder stage: this worker's done slices sent from its window's head (spread.h)
//   4. report a quiescent state (QSBR) so control may free what it unpublished
// Handshakes, ARP/NDP/ICMP for our own addresses and packets waiting for a session go to the control thread
// through Tables::to_control. Nothing here allocates, locks, logs or makes a syscall.
#pragma once

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <span>

#include "dataplane/spread.h"
#include "dataplane/tables.h"
#include "lib/crypto/aead_batch.h"
#include "lib/net/ip.h"

struct rte_mbuf;

namespace wg::dp {

inline constexpr std::uint16_t kBurst = 32;

// Immutable facts about the gateway's own ports and addresses, shared by all workers.
struct GatewayInfo {
  std::uint16_t inside_port = 0, outside_port = 0;
  rte_ether_addr inside_mac{}, outside_mac{};
  net::IpAddress outside_v4{}, outside_v6{};
  bool has_outside_v4 = false, has_outside_v6 = false;
  std::array<net::IpAddress, 8> inside_addrs{};  // packets to these go to control
  std::uint32_t inside_addr_count = 0;
  std::uint16_t mtu = 1420;
};

struct WorkerContext {
  std::uint32_t id = 0;      // also the QSBR thread id and the queue index on both ports
  const GatewayInfo* gw = nullptr;
  Tables* tables = nullptr;
  crypto::AeadBatchEngine* engine = nullptr;  // this worker's own instance
  WorkerShared* shared = nullptr;
  const std::atomic<bool>* stop = nullptr;
  // Control's RX queue (index = workers): a PMD without a programmable RSS table (net_af_packet's fanout)
  // spreads flows over it too. Worker 0 polls it as well, so that no data packet waits on the control
  // thread, whose passes a handshake flood can lengthen; -1: none. Its results go out on this worker's TX
  // queue; control keeps its TX queue for its own frames.
  std::int32_t extra_rx_queue = -1;
  // Spreading one peer's bursts over all workers (spread.h); null or disabled: every burst is done here.
  Spread* spread = nullptr;
};

// lcore entry point: `arg` is a WorkerContext*. Loops over poll_once until *stop, quiescent after each poll.
int worker_main(void* arg);

// One poll of queue ctx.id (and ctx.extra_rx_queue) on both ports: a burst in from inside is encrypted, from
// outside decrypted. Also counts the poll and times a busy one (worker_stats.h). True when it received
// anything.
bool poll_once(WorkerContext& ctx);

// The two paths, over a whole burst. Both take ownership of every mbuf: sent, handed over, or freed.
void encrypt_burst(WorkerContext& ctx, std::span<rte_mbuf*> pkts);
void decrypt_burst(WorkerContext& ctx, std::span<rte_mbuf*> pkts);
// The same paths without the send: what is left to send is put in `out` (at most pkts.size(), in order) and
// counted in the return value; the rest was handed over or freed. Any worker may run them on any slice.
std::uint16_t encrypt_slice(WorkerContext& ctx, std::span<rte_mbuf*> pkts, rte_mbuf** out);
std::uint16_t decrypt_slice(WorkerContext& ctx, std::span<rte_mbuf*> pkts, rte_mbuf** out);
// The path of a direction: encrypt (from inside) or decrypt (from outside).
inline void process_burst(WorkerContext& ctx, Direction dir, std::span<rte_mbuf*> pkts) {
  dir == Direction::kEncrypt ? encrypt_burst(ctx, pkts) : decrypt_burst(ctx, pkts);
}
inline std::uint16_t process_slice(WorkerContext& ctx, Direction dir, std::span<rte_mbuf*> pkts, rte_mbuf** out) {
  return dir == Direction::kEncrypt ? encrypt_slice(ctx, pkts, out) : decrypt_slice(ctx, pkts, out);
}

// Hands an mbuf to the control thread; frees and counts it when the ring is full.
void hand_to_control(WorkerContext& ctx, rte_mbuf* m, Counter why);

// Sends a burst on `port` through this worker's TX queue, freeing what the queue did not take.
void send_burst(WorkerContext& ctx, std::uint16_t port, rte_mbuf** pkts, std::uint16_t n, Counter sent);

bool is_inside_address(const GatewayInfo& gw, std::uint8_t family, const std::uint8_t* addr);

}  // namespace wg::dp
