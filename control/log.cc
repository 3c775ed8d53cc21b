#include "control/log.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace wg::ctl {
namespace {

struct AsyncLog {
  std::mutex mu;
  std::condition_variable ready;
  std::deque<std::string> lines;
  bool running = false, stopping = false;
  std::thread thread;
  std::atomic<std::uint64_t> dropped{0};

  void loop() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      ready.wait(lock, [this] { return stopping || !lines.empty(); });
      std::deque<std::string> batch;
      batch.swap(lines);
      const bool last = stopping;
      lock.unlock();  // the write may block: never with the mutex held
      for (const std::string& l : batch) std::fputs(l.c_str(), stdout);
      std::fflush(stdout);
      lock.lock();
      if (last && lines.empty()) return;
    }
  }
};

AsyncLog& async_log() {
  static AsyncLog log;
  return log;
}

}  // namespace

bool& verbose_log() {
  static bool v = false;
  return v;
}

void start_async_log() {
  AsyncLog& a = async_log();
  std::lock_guard<std::mutex> lock(a.mu);
  if (a.running) return;
  a.running = true;
  a.stopping = false;
  a.thread = std::thread([&a] { a.loop(); });
}

void stop_async_log() {
  AsyncLog& a = async_log();
  {
    std::lock_guard<std::mutex> lock(a.mu);
    if (!a.running) return;
    a.stopping = true;
  }
  a.ready.notify_one();
  a.thread.join();
  std::lock_guard<std::mutex> lock(a.mu);
  a.running = false;
}

std::uint64_t log_lines_dropped() { return async_log().dropped.load(std::memory_order_relaxed); }

void log_line(const char* fmt, std::va_list ap) {
  char buf[512];
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  std::string line = "wggate: ";
  line.append(buf, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof(buf) - 1));
  line.push_back('\n');
  // Lines this thread could not queue because the logger held the mutex: queued first, next time. The
  // control thread never waits for the logger (a logger preempted with the mutex held would stall it).
  thread_local std::deque<std::string> unqueued;
  AsyncLog& a = async_log();
  {
    std::unique_lock<std::mutex> lock(a.mu, std::try_to_lock);
    if (!lock.owns_lock()) {
      if (unqueued.size() < kMaxQueuedLines) {
        unqueued.push_back(std::move(line));
      } else {
        a.dropped.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    if (a.running) {
      unqueued.push_back(std::move(line));
      while (!unqueued.empty()) {
        if (a.lines.size() >= kMaxQueuedLines) {
          a.dropped.fetch_add(unqueued.size(), std::memory_order_relaxed);
          unqueued.clear();
          break;
        }
        a.lines.push_back(std::move(unqueued.front()));
        unqueued.pop_front();
      }
      a.ready.notify_one();
      return;
    }
  }
  // Before the loop starts or after it stops: directly, after anything left over.
  for (const std::string& l : unqueued) std::fputs(l.c_str(), stdout);
  unqueued.clear();
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace wg::ctl
