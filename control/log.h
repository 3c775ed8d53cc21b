// Control-plane event log (never used by workers): handshakes, sessions, neighbours. Keys are never logged;
// peers are named by their configured index. Verbose events are printed only with --verbose.
//
// While the control loop runs, lines are handed to a logger thread of their own (start_async_log): writing
// to stdout may block (a full pipe to journald, a disk under writeback), and the control thread must never
// wait on it. The queue holds at most kMaxQueuedLines; past that, lines are dropped and counted
// (wggate_log_lines_dropped_total). Before the loop starts and after it stops, lines are written directly.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace wg::ctl {

inline constexpr std::size_t kMaxQueuedLines = 4096;

bool& verbose_log();

// Starts / stops the logger thread; stop writes out what is queued first. Call from the control thread.
void start_async_log();
void stop_async_log();
std::uint64_t log_lines_dropped();

void log_line(const char* fmt, std::va_list ap);

__attribute__((format(printf, 1, 2))) inline void log_event(const char* fmt, ...) {
  if (!verbose_log()) return;
  std::va_list ap;
  va_start(ap, fmt);
  log_line(fmt, ap);
  va_end(ap);
}

// Always printed: what an operator must see without --verbose (configuration changes, reload errors).
__attribute__((format(printf, 1, 2))) inline void log_notice(const char* fmt, ...) {
  std::va_list ap;
  va_start(ap, fmt);
  log_line(fmt, ap);
  va_end(ap);
}

}  // namespace wg::ctl
