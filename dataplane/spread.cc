// Flow (spread.h): decide (by the burst's work and the owner's load) -> dispatch slices to other workers' work
// rings, or process at once (parked behind slices in flight) -> each worker serves its ring (claim, whole path,
// done) -> the owner takes back its oldest unstarted slice when the reclaim rule says so, and sends done slices
// from its window's head, in order.
#include "dataplane/spread.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "dataplane/worker.h"

namespace wg::dp {

static_assert(kSliceMax == kBurst, "a slice is at most one burst");
static_assert(kMaxSpreadWorkers == kMaxWorkers);
static_assert(kWorkRingDepth - 1 >= kMaxWorkers * kWindowSlots, "every queued slot fits its helper's ring");
static_assert(kMinSlice >= 2 && kSliceMax / kMinSlice >= kMaxSlicesPerBurst);

namespace {

SpreadLane& lane_of(WorkerContext& ctx) { return ctx.spread->lanes[ctx.id]; }

// Slices one burst may take: one per helper, kMaxSlicesPerBurst at most; at least one (a parked burst).
std::uint64_t slots_per_burst(const Spread& sp) {
  return std::clamp<std::uint64_t>(sp.workers - 1, 1, kMaxSlicesPerBurst);
}

// The burst's work (spread.h): its frames' bytes plus kPacketWork each. The mbuf headers were just written by
// the PMD on this core: reading their lengths is cheap.
std::uint32_t burst_work(std::span<rte_mbuf* const> pkts) {
  std::uint32_t work = 0;
  for (const rte_mbuf* m : pkts) work += kPacketWork + m->pkt_len;
  return work;
}

// Whether the owner's window has room for the slices of one more burst.
bool has_room(const Spread& sp, const SpreadLane& lane) {
  return window_depth(lane) + slots_per_burst(sp) <= kWindowSlots;
}

bool claim(Slice& s) {
  SliceState expected = SliceState::kQueued;
  return s.state.compare_exchange_strong(expected, SliceState::kClaimed, std::memory_order_acquire,
                                         std::memory_order_relaxed);
}

// The whole path minus TX, counted in the processing worker's own counters; then done, for the owner.
void run(WorkerContext& ctx, Slice& s) {
  const std::span<rte_mbuf*> in(s.in, s.n_in);
  // A slice's mbufs are usually in the owner's cache, not this worker's: ask for every header, then every
  // packet's first line, so that the misses overlap instead of coming one by one as the path walks the slice.
  for (rte_mbuf* m : in) rte_prefetch0(m);
  for (rte_mbuf* m : in) rte_prefetch0(rte_pktmbuf_mtod(m, const void*));
  s.n_out = process_slice(ctx, s.dir, in, s.out);
  s.state.store(SliceState::kDone, std::memory_order_release);
}

// The next slot at the window's tail (the caller checked the room: it is free).
Slice& push(SpreadLane& lane, WorkerContext& ctx, Direction dir, rte_mbuf* const* pkts, std::uint16_t n) {
  const std::uint64_t t = lane.tail.load(std::memory_order_relaxed);
  Slice& s = lane.window[t % kWindowSlots];
  s.dir = dir;
  s.owner = ctx.id;
  s.n_in = n;
  s.n_out = 0;
  s.parked = false;
  std::memcpy(s.in, pkts, n * sizeof(rte_mbuf*));
  lane.tail.store(t + 1, std::memory_order_relaxed);
  return s;
}

// The next helper in round robin whose ring is not already deep; -1 when every one is.
int pick_helper(WorkerContext& ctx, SpreadLane& lane) {
  const unsigned w = ctx.spread->workers;
  for (unsigned tries = 0; tries + 1 < w; ++tries) {
    unsigned h = lane.next_helper++ % w;
    if (h == ctx.id) h = lane.next_helper++ % w;
    if (rte_ring_count(ctx.spread->lanes[h].work) < kWindowSlots) return static_cast<int>(h);
  }
  return -1;
}

}  // namespace

Spread::~Spread() {
  for (SpreadLane& lane : lanes) {
    for (std::uint64_t i = lane.head.load(); i < lane.tail.load(); ++i) {
      Slice& s = lane.window[i % kWindowSlots];
      if (s.state.load() == SliceState::kDone) {
        rte_pktmbuf_free_bulk(s.out, s.n_out);
      } else {
        rte_pktmbuf_free_bulk(s.in, s.n_in);  // queued, never processed
      }
      s.state.store(SliceState::kFree);
    }
    lane.head.store(lane.tail.load());
    rte_ring_free(lane.work);
  }
}

absl::StatusOr<std::unique_ptr<Spread>> create_spread(unsigned workers, bool enabled, int socket,
                                                      const std::string& tag) {
  auto sp = std::make_unique<Spread>();
  sp->workers = workers;
  const std::uint64_t per_us = rte_get_tsc_hz() / 1'000'000;
  sp->reclaim_after_tsc = per_us * kReclaimAfterUs;
  sp->reclaim_busy_tsc = per_us * kReclaimBusyUs;
  sp->running_tsc = per_us * kRunningUs;
  sp->enabled = enabled && workers > 1;
  for (unsigned w = 0; w < workers && w < kMaxSpreadWorkers; ++w) {
    const std::string name = absl::StrCat("wg_work", w, "_", tag);
    sp->lanes[w].work = rte_ring_create(name.c_str(), kWorkRingDepth, socket, RING_F_SC_DEQ);
    if (sp->lanes[w].work == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot create work ring ", name, ": ", rte_strerror(rte_errno)));
    }
  }
  return sp;
}

std::uint64_t window_depth(const SpreadLane& lane) {
  const std::uint64_t h = lane.head.load(std::memory_order_relaxed), t = lane.tail.load(std::memory_order_relaxed);
  return t >= h ? t - h : 0;
}

bool spread_can_receive(WorkerContext& ctx) {
  SpreadLane& lane = lane_of(ctx);
  if (has_room(*ctx.spread, lane)) return true;
  ++ctx.shared->stats.spread.window_full;
  return false;
}

void spread_burst(WorkerContext& ctx, Direction dir, std::span<rte_mbuf*> pkts) {
  SpreadLane& lane = lane_of(ctx);
  SpreadStats& stats = ctx.shared->stats.spread;
  const auto n = static_cast<std::uint16_t>(pkts.size());
  const std::uint32_t work = burst_work(pkts);
  // Load: a moving average over the last ~16 bursts of their work, 256 = kFullBurstWork (how deep the RX
  // queues were when polled). Empty polls say nothing: a poll-mode worker polls millions of times a second,
  // and a flow that comes in bursts (a descheduled worker, TCP windows) is heavy all the same.
  const std::uint32_t sample = std::min(work, kFullBurstWork) * 256 / kFullBurstWork;
  lane.load = lane.load - lane.load / 16 + sample;  // 16 x the average: no rounding down to nothing
  const bool small = n < kMinSlice || work < kMinSliceWork;
  if (small || lane.load < 16 * kSpreadMinLoad) {
    ++(small ? stats.bursts_small : stats.bursts_light);
    if (window_depth(lane) == 0) {  // nothing of ours in flight: the plain path, sent at once
      process_burst(ctx, dir, pkts);
      return;
    }
    // Behind slices still in flight: processed now, sent when its turn comes; appended to the parked burst at
    // the window's tail when it has room (its outputs are not sent before this burst's would be).
    const std::uint64_t tail = lane.tail.load(std::memory_order_relaxed);
    Slice& last = lane.window[(tail - 1) % kWindowSlots];
    if (last.parked && last.dir == dir && last.n_out + n <= kSliceMax) {
      last.n_out = static_cast<std::uint16_t>(last.n_out + process_slice(ctx, dir, pkts, last.out + last.n_out));
      return;
    }
    Slice& s = push(lane, ctx, dir, pkts.data(), n);
    s.parked = true;
    s.state.store(SliceState::kClaimed, std::memory_order_relaxed);  // the owner's alone: never queued
    run(ctx, s);
    return;
  }
  ++stats.bursts_spread;
  const std::uint64_t start = rte_rdtsc();
  // One slice per helper at most, each of at least kMinSlice packets and about kMinSliceWork.
  const auto k = static_cast<std::uint16_t>(std::min<std::uint64_t>(
      {slots_per_burst(*ctx.spread), std::uint64_t{n} / kMinSlice, std::max<std::uint64_t>(1, work / kMinSliceWork)}));
  Slice* refused[kMaxSlicesPerBurst];
  std::uint16_t nr = 0;
  std::uint16_t off = 0;
  for (std::uint16_t i = 0; i < k; ++i) {
    const auto len = static_cast<std::uint16_t>((n - off) / (k - i));  // as equal as possible, each >= kMinSlice
    Slice& s = push(lane, ctx, dir, pkts.data() + off, len);
    off = static_cast<std::uint16_t>(off + len);
    const int helper = pick_helper(ctx, lane);
    s.queued_tsc = start;
    s.helper = helper < 0 ? ctx.id : static_cast<std::uint32_t>(helper);
    s.state.store(SliceState::kQueued, std::memory_order_release);
    if (helper >= 0 && rte_ring_mp_enqueue(ctx.spread->lanes[helper].work, &s) == 0) {
      ++stats.slices;
      stats.packets += len;
    } else {
      refused[nr++] = &s;  // every helper is deep in work already: this worker does it, now
    }
  }
  ctx.shared->stats.add_cycles(Phase::dispatch, rte_rdtsc() - start);
  for (std::uint16_t i = 0; i < nr; ++i) {
    ++stats.refused;
    if (claim(*refused[i])) run(ctx, *refused[i]);
  }
}

bool serve_slices(WorkerContext& ctx) {
  void* got[kServePerPoll];
  const unsigned n = rte_ring_sc_dequeue_burst(lane_of(ctx).work, got, kServePerPoll, nullptr);
  bool any = false;
  for (unsigned i = 0; i < n; ++i) {
    Slice& s = *static_cast<Slice*>(got[i]);
    if (!claim(s)) continue;  // its owner took it back (a stale pointer: nothing to do)
    if (s.owner != ctx.id) ++ctx.shared->stats.spread.helped;
    run(ctx, s);
    any = true;
  }
  return any;
}

bool finish_slices(WorkerContext& ctx) {
  SpreadLane& lane = lane_of(ctx);
  std::uint64_t head = lane.head.load(std::memory_order_relaxed);
  const std::uint64_t tail = lane.tail.load(std::memory_order_relaxed);
  if (head == tail) return false;
  bool any = false;
  const std::uint64_t now = rte_rdtsc();
  // Take back the oldest slice no helper has started (spread.h, step 4): at once when the window is full (the
  // owner cannot receive until its head moves); after kReclaimBusyUs when its helper is running but busy;
  // after kReclaimAfterUs when its helper is not running (on a machine with more workers than CPUs a helper
  // runs every few milliseconds, and an owner that took slices back sooner would leave it almost nothing).
  const Spread& sp = *ctx.spread;
  const bool full = !has_room(sp, lane);
  for (std::uint64_t i = head; i != tail; ++i) {
    Slice& s = lane.window[i % kWindowSlots];
    if (s.state.load(std::memory_order_relaxed) != SliceState::kQueued) continue;
    const std::uint64_t waited = now - s.queued_tsc;
    const bool running = now - sp.lanes[s.helper].last_poll.load(std::memory_order_relaxed) < sp.running_tsc;
    if (full || waited >= sp.reclaim_after_tsc || (running && waited >= sp.reclaim_busy_tsc)) {
      if (claim(s)) {
        ++ctx.shared->stats.spread.reclaimed;
        run(ctx, s);
        any = true;
      }
    }
    break;  // only the oldest: the younger ones have waited less
  }
  // The reorder stage: done slices leave from the head, in order.
  const std::uint64_t start = any ? rte_rdtsc() : now;
  const std::uint64_t tx_before = ctx.shared->stats.phase_cycles[static_cast<std::size_t>(Phase::tx)];
  const GatewayInfo& gw = *ctx.gw;
  // The done slices at the head, first their mbufs' headers asked for (a helper's cache holds them, and TX
  // reads and frees every one), then sent in order.
  std::uint64_t done_end = head;
  for (; done_end != tail; ++done_end) {
    const Slice& s = lane.window[done_end % kWindowSlots];
    if (s.state.load(std::memory_order_acquire) != SliceState::kDone) break;
    for (std::uint16_t i = 0; i < s.n_out; ++i) rte_prefetch0(s.out[i]);
  }
  while (head != done_end) {
    Slice& s = lane.window[head % kWindowSlots];
    if (s.dir == Direction::kEncrypt) {
      send_burst(ctx, gw.outside_port, s.out, s.n_out, Counter::tx_outside_packets);
    } else {
      send_burst(ctx, gw.inside_port, s.out, s.n_out, Counter::tx_inside_packets);
    }
    s.state.store(SliceState::kFree, std::memory_order_relaxed);
    ++head;
    any = true;
  }
  lane.head.store(head, std::memory_order_relaxed);
  const std::uint64_t tx = ctx.shared->stats.phase_cycles[static_cast<std::size_t>(Phase::tx)] - tx_before;
  ctx.shared->stats.add_cycles(Phase::reorder, rte_rdtsc() - start - tx);
  return any;
}

}  // namespace wg::dp
