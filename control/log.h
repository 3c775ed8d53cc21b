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

__attribute__((format(printf, 1, 2))) inline void log_event(const char* fmt, ...) {
  if (!verbose_log()) return;
  std::va_list ap;
  va_start(ap, fmt);
  std::fputs("wggate: ", stdout);
  std::vfprintf(stdout, fmt, ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  va_end(ap);
}

}  // namespace wg::ctl
