#include "control/handshake_pool.h"

#include <rte_pause.h>

#include <cstdint>

namespace wg::ctl {

void HandshakeJob::run() {
  switch (step) {
    case Step::kOpen: noise::open_initiation(initiation, identity, opened); break;
    case Step::kBuild: noise::build_response(response); break;
  }
}

void HandshakeJob::wipe() {
  identity = noise::StaticIdentity{};
  opened = noise::OpenedInitiation{};
  response = noise::ResponseWork{};
  peer = 0;
}

rte_ring* HandshakePool::make_ring(std::vector<std::byte>& mem, unsigned flags) {
  // Every slot fits: rings of a power of two hold one less than their size.
  constexpr unsigned kCount = 2 * kSlots;
  const ssize_t size = rte_ring_get_memsize(kCount);
  if (size < 0) return nullptr;
  mem.assign(static_cast<std::size_t>(size) + RTE_CACHE_LINE_SIZE, std::byte{0});
  const auto addr = reinterpret_cast<std::uintptr_t>(mem.data());
  auto* r = reinterpret_cast<rte_ring*>((addr + RTE_CACHE_LINE_SIZE - 1) & ~std::uintptr_t{RTE_CACHE_LINE_SIZE - 1});
  return rte_ring_init(r, "wggate_hs", kCount, flags) == 0 ? r : nullptr;
}

HandshakePool::HandshakePool(unsigned threads) : jobs_(kSlots), runs_(new std::atomic<std::uint64_t>[kMaxThreads]) {
  free_.reserve(kSlots);
  for (HandshakeJob& j : jobs_) free_.push_back(&j);
  for (unsigned i = 0; i < kMaxThreads; ++i) runs_[i].store(0, std::memory_order_relaxed);
  // Single producer (control) and many consumers for the work rings, the reverse for the done ring. RTS
  // ("relaxed tail sync") keeps a thread preempted mid-operation from making the others spin for long.
  open_ = make_ring(open_mem_, RING_F_SP_ENQ | RING_F_MC_RTS_DEQ);
  build_ = make_ring(build_mem_, RING_F_SP_ENQ | RING_F_MC_RTS_DEQ);
  done_ = make_ring(done_mem_, RING_F_MP_RTS_ENQ | RING_F_SC_DEQ);
  if (open_ == nullptr || build_ == nullptr || done_ == nullptr) std::abort();  // static sizes: cannot fail
  threads = std::min(threads, kMaxThreads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this, i] { loop(i); });
}

HandshakePool::~HandshakePool() {
  stop_.store(true, std::memory_order_release);
  work_seq_.fetch_add(1, std::memory_order_release);
  work_seq_.notify_all();
  for (std::thread& t : threads_) t.join();
  for (HandshakeJob& j : jobs_) j.wipe();
}

HandshakeJob* HandshakePool::acquire() {
  if (free_.empty()) return nullptr;
  HandshakeJob* j = free_.back();
  free_.pop_back();
  return j;
}

void HandshakePool::submit(HandshakeJob* job) {
  if (threads_.empty()) {  // no threads: the step runs here (tests)
    job->run();
    rte_ring_enqueue(done_, job);
    return;
  }
  // Cannot fail: the ring holds every slot.
  rte_ring_enqueue(job->step == HandshakeJob::Step::kBuild ? build_ : open_, job);
  work_seq_.fetch_add(1, std::memory_order_release);
  work_seq_.notify_one();  // a syscall only when a thread sleeps
}

unsigned HandshakePool::poll(HandshakeJob** out, unsigned max) {
  return rte_ring_dequeue_burst(done_, reinterpret_cast<void**>(out), max, nullptr);
}

void HandshakePool::release(HandshakeJob* job) {
  job->wipe();
  free_.push_back(job);
}

void HandshakePool::loop(unsigned index) {
  while (!stop_.load(std::memory_order_acquire)) {
    const std::uint32_t seen = work_seq_.load(std::memory_order_acquire);
    void* obj = nullptr;
    if (rte_ring_dequeue(build_, &obj) == 0 || rte_ring_dequeue(open_, &obj) == 0) {
      auto* job = static_cast<HandshakeJob*>(obj);
      job->run();
      runs_[index].fetch_add(1, std::memory_order_relaxed);
      while (rte_ring_enqueue(done_, job) != 0) rte_pause();  // cannot spin: the ring holds every slot
      continue;
    }
    work_seq_.wait(seen, std::memory_order_acquire);  // until submit (or the destructor) bumps it
  }
}

}  // namespace wg::ctl
