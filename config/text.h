// Small std::string_view helpers for the parser. Debian's Abseil is built with its own absl::string_view
// (not an alias of std::string_view), so absl's strip/split/match functions do not take ours; messages use
// absl::StrFormat, whose %s does.
#pragma once

#include <string_view>
#include <vector>

namespace wg::config {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// ASCII case-insensitive equality, as wg(8) compares keys (strcasecmp).
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Every piece between separators, empty ones included ("a,,b" -> "a", "", "b"; "" -> one empty piece).
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> pieces;
  for (;;) {
    const std::size_t at = s.find(sep);
    pieces.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return pieces;
    s.remove_prefix(at + 1);
  }
}

}  // namespace wg::config
