// Shared pieces of the config tests: fixed keys (made by `wg genkey`/`wg pubkey`) and texts with
// placeholders, so that every test can state the exact line an error must name.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "config/parser.h"
#include "config/validate.h"

namespace wg::config::testing {

// kPrivate's public key is kPublicOwn.
inline constexpr std::string_view kPrivate = "gAhEV8xoFdZyuhuuMLOGihepz0Yrxg3ONYm9xdYMy2o=";
inline constexpr std::string_view kPublicOwn = "45nxADAaERwYNuyt4+5RPX2oFgUsDARIDHVWAXt0anY=";
inline constexpr std::string_view kPublic1 = "vEFTY3xQ8uUqRO826kzzsFMfIvg+Gy3a3c7U7vyqFi0=";
inline constexpr std::string_view kPublic2 = "03P2zJMW6NYaGbtmzYUkyyeIE2XOuH0ClUyd2N74I0s=";
inline constexpr std::string_view kPsk = "mTV0MbyyBcb48oQO47hdK5mvFzNQBwiBRr7eeGUOX9Q=";

// Replaces {priv}, {own}, {pub1}, {pub2}, {psk} with the keys above.
inline std::string expand(std::string_view text) {
  std::string out(text);
  const std::pair<std::string_view, std::string_view> subs[] = {
      {"{priv}", kPrivate}, {"{own}", kPublicOwn}, {"{pub1}", kPublic1}, {"{pub2}", kPublic2}, {"{psk}", kPsk}};
  for (const auto& [from, to] : subs) {
    for (std::size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) {
      out.replace(at, from.size(), to);
    }
  }
  return out;
}

// A valid configuration; tests append to it or edit lines. Line numbers are part of the contract.
inline constexpr std::string_view kMinimal =
    "[Interface]\n"                     // 1
    "PrivateKey = {priv}\n"             // 2
    "\n"                                // 3
    "[Gateway]\n"                       // 4
    "InsidePort = 0\n"                  // 5
    "OutsidePort = 1\n"                 // 6
    "InsideAddress = 10.1.0.1/24\n"     // 7
    "OutsideAddress = 192.0.2.10/24\n"  // 8
    "\n"                                // 9
    "[Peer]\n"                          // 10
    "PublicKey = {pub1}\n"              // 11
    "AllowedIPs = 10.2.0.0/16\n";       // 12

// parse_config() then validate_config() on expand(text), as "t.conf"; the error message, or "" on success.
inline std::string config_error_of(std::string_view text) {
  absl::StatusOr<Config> c = parse_config(expand(text), "t.conf");
  if (!c.ok()) return std::string(c.status().message());
  const absl::Status s = validate_config(*c);
  return s.ok() ? "" : std::string(s.message());
}

}  // namespace wg::config::testing
