// Control-plane event log (never used by workers): handshakes, sessions, neighbours. Keys are never logged;
// peers are named by their configured index. Verbose events are printed only with --verbose.
#pragma once

#include <cstdarg>
#include <cstdio>

namespace wg::ctl {

inline bool& verbose_log() {
  static bool v = false;
  return v;
}

inline void log_line(const char* fmt, std::va_list ap) {
  std::fputs("wggate: ", stdout);
  std::vfprintf(stdout, fmt, ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

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
