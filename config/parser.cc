#include "config/parser.h"

#include <algorithm>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "config/text.h"
#include "config/values.h"

namespace wg::config {
namespace {

enum class Section { kNone, kInterface, kPeer, kGateway };

std::string_view section_name(Section s) {
  switch (s) {
    case Section::kInterface: return "[Interface]";
    case Section::kPeer: return "[Peer]";
    case Section::kGateway: return "[Gateway]";
    case Section::kNone: break;
  }
  return "no section";
}

// Sets one key's value; errors carry no location (the caller adds "file:line: Key: ").
using Apply = absl::Status (*)(Config& c, std::string_view value, int line);

struct KeySpec {
  std::string_view name;  // canonical spelling, used in messages
  Section section;
  bool repeatable;  // accumulates (as wg-quick's AllowedIPs and Address do) instead of being a duplicate
  Apply apply;
};

// Assigns a parsed value and its line, or passes the parse error on.
template <typename T, typename U>
absl::Status set(absl::StatusOr<U> parsed, T& field, int& field_line, int line) {
  if (!parsed.ok()) return parsed.status();
  field = *std::move(parsed);
  field_line = line;
  return absl::OkStatus();
}

absl::Status add_prefixes(absl::StatusOr<std::vector<net::Prefix>> parsed, std::vector<PrefixAt>& out,
                          int line) {
  if (!parsed.ok()) return parsed.status();
  for (const net::Prefix& p : *parsed) out.push_back({p, line});
  return absl::OkStatus();
}

absl::Status set_private_key_source(Interface& i, int line) {
  if (i.private_key_line != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("only one of PrivateKey and PrivateKeyFile may be given (%s is at line %d)",
                        i.private_key ? "PrivateKey" : "PrivateKeyFile", i.private_key_line));
  }
  i.private_key_line = line;
  return absl::OkStatus();
}

// Non-capturing lambdas, so the table is plain data. The current peer is the last one.
const KeySpec kKeys[] = {
    {"PrivateKey", Section::kInterface, false,
     [](Config& c, std::string_view v, int line) {
       absl::StatusOr<crypto::Key> key = parse_secret_key(v);
       if (!key.ok()) return key.status();
       if (absl::Status s = set_private_key_source(c.interface, line); !s.ok()) return s;
       c.interface.private_key = *key;
       return absl::OkStatus();
     }},
    {"PrivateKeyFile", Section::kInterface, false,
     [](Config& c, std::string_view v, int line) {
       if (absl::Status s = set_private_key_source(c.interface, line); !s.ok()) return s;
       c.interface.private_key_file = std::string(v);
       return absl::OkStatus();
     }},
    {"ListenPort", Section::kInterface, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_udp_port(v), c.interface.listen_port, c.interface.listen_port_line, line);
     }},
    {"PublicKey", Section::kPeer, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_public_key(v), c.peers.back().public_key, c.peers.back().public_key_line, line);
     }},
    {"PresharedKey", Section::kPeer, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_secret_key(v), c.peers.back().preshared_key, c.peers.back().preshared_key_line, line);
     }},
    {"AllowedIPs", Section::kPeer, true,
     [](Config& c, std::string_view v, int line) {
       return add_prefixes(parse_allowed_ips(v), c.peers.back().allowed_ips, line);
     }},
    {"Endpoint", Section::kPeer, false,
     [](Config& c, std::string_view v, int line) {
       return set(net::Endpoint::parse(v), c.peers.back().endpoint, c.peers.back().endpoint_line, line);
     }},
    {"PersistentKeepalive", Section::kPeer, false,
     [](Config& c, std::string_view v, int line) {
       Peer& p = c.peers.back();
       return set(parse_keepalive(v), p.persistent_keepalive, p.persistent_keepalive_line, line);
     }},
    {"Name", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_gateway_name(v), c.gateway.name, c.gateway.name_line, line);
     }},
    {"InsidePort", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_dpdk_port(v), c.gateway.inside_port, c.gateway.inside_port_line, line);
     }},
    {"OutsidePort", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_dpdk_port(v), c.gateway.outside_port, c.gateway.outside_port_line, line);
     }},
    {"InsideAddress", Section::kGateway, true,
     [](Config& c, std::string_view v, int line) {
       return add_prefixes(parse_interface_addresses(v), c.gateway.inside_addresses, line);
     }},
    {"OutsideAddress", Section::kGateway, true,
     [](Config& c, std::string_view v, int line) {
       return add_prefixes(parse_interface_addresses(v), c.gateway.outside_addresses, line);
     }},
    {"OutsideGateway", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(net::IpAddress::parse(v), c.gateway.outside_gateway, c.gateway.outside_gateway_line, line);
     }},
    {"MTU", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_mtu(v), c.gateway.mtu, c.gateway.mtu_line, line);
     }},
    {"MetricsAddress", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(net::Endpoint::parse(v), c.gateway.metrics_address, c.gateway.metrics_address_line, line);
     }},
    {"CryptoEngine", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_crypto_engine(v), c.gateway.crypto_engine, c.gateway.crypto_engine_line, line);
     }},
    {"MaxPeers", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_max_peers(v), c.gateway.max_peers, c.gateway.max_peers_line, line);
     }},
    {"HandshakeThreads", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_handshake_threads(v), c.gateway.handshake_threads, c.gateway.handshake_threads_line, line);
     }},
    {"PeerMetrics", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) {
       return set(parse_on_off(v), c.gateway.peer_metrics, c.gateway.peer_metrics_line, line);
     }},
    {"Spread", Section::kGateway, false,
     [](Config& c, std::string_view v, int line) { return set(parse_on_off(v), c.gateway.spread, c.gateway.spread_line, line); }},
};

const KeySpec* find_key(std::string_view name, Section section) {
  for (const KeySpec& k : kKeys) {
    if (k.section == section && iequals(k.name, name)) return &k;
  }
  return nullptr;
}

// wg-quick keys that mean nothing here, with what to do instead.
std::string wg_quick_hint(std::string_view key) {
  if (iequals(key, "Address")) {
    return "; wggate's own addresses are InsideAddress and OutsideAddress in [Gateway]";
  }
  for (const std::string_view k : {"DNS", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig"}) {
    if (iequals(key, k)) return absl::StrFormat("; %s is a wg-quick key that wggate does not use", k);
  }
  return "";
}

// A key name worth repeating in a message: letters only, short. Anything else may be a pasted secret
// (a base64 key ends in '=', so "KEY=" on its own line parses as a key named after the secret).
bool showable_key(std::string_view key) {
  return !key.empty() && key.size() <= 32 &&
         std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

// Belt and braces for "no key material in errors": blanks any run that looks like a base64 key (40+
// base64 characters mixing upper case, lower case and digits), whichever value or check produced it.
std::string redact_keys(std::string_view message) {
  std::string out;
  std::size_t i = 0;
  while (i < message.size()) {
    std::size_t j = i;
    bool upper = false, lower = false, digit = false;
    while (j < message.size()) {
      const char c = message[j];
      const bool is_upper = c >= 'A' && c <= 'Z', is_lower = c >= 'a' && c <= 'z', is_digit = c >= '0' && c <= '9';
      if (!is_upper && !is_lower && !is_digit && c != '+' && c != '/' && c != '=') break;
      upper |= is_upper;
      lower |= is_lower;
      digit |= is_digit;
      ++j;
    }
    if (j == i) {
      out.push_back(message[i++]);
      continue;
    }
    const bool key_like = j - i >= 40 && upper && lower && digit;
    out.append(key_like ? "(key not shown)" : message.substr(i, j - i));
    i = j;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view file) { config_.file = std::string(file); }

  absl::StatusOr<Config> run(std::string_view text) {
    int line = 0;
    for (std::string_view raw : split(text, '\n')) {
      ++line;
      if (absl::Status s = parse_line(raw, line); !s.ok()) return s;
    }
    if (absl::Status s = close_section(); !s.ok()) return s;
    // No line to point at: the whole file lacks it, so the message points at the top.
    if (config_.interface.line == 0) return error(1, "no [Interface] section");
    if (config_.gateway.line == 0) return error(1, "no [Gateway] section");
    return std::move(config_);
  }

 private:
  absl::Status error(int line, std::string_view message) const {
    return config_error(config_.file, line, redact_keys(message));
  }

  absl::Status parse_line(std::string_view raw, int line) {
    std::string_view text = raw.substr(0, raw.find('#'));
    text = trim(text);
    if (text.empty()) return absl::OkStatus();
    if (text.front() == '[') return open_section(text, line);

    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) {
      return error(line, "expected 'Key = Value', a [Section] header or a comment (missing '=')");
    }
    const std::string_view key = trim(text.substr(0, eq));
    const std::string_view value = trim(text.substr(eq + 1));
    if (key.empty()) return error(line, "missing key name before '='");
    if (!showable_key(key)) return not_a_key(key, line);
    if (section_ == Section::kNone) {
      for (const Section s : {Section::kInterface, Section::kPeer, Section::kGateway}) {
        if (find_key(key, s) != nullptr) {
          return error(line, absl::StrFormat("%s outside any section; it belongs in %s", key, section_name(s)));
        }
      }
      return error(line, absl::StrFormat("key %s outside any section", key));
    }

    const KeySpec* spec = find_key(key, section_);
    if (spec == nullptr) return unknown_key(key, line);
    if (!spec->repeatable) {
      auto [it, inserted] = seen_.emplace(spec->name, line);
      if (!inserted) {
        return error(line, absl::StrFormat("duplicate %s in %s (first at line %d)", spec->name, section_name(section_),
                                           it->second));
      }
    } else {
      seen_.emplace(spec->name, line);
    }
    // AllowedIPs may be empty (a peer that routes nothing yet, as wg(8) allows); nothing else may.
    if (value.empty() && spec->name != "AllowedIPs") {
      return error(line, absl::StrFormat("%s: empty value", spec->name));
    }
    if (absl::Status s = spec->apply(config_, value, line); !s.ok()) {
      return error(line, absl::StrFormat("%s: %s", spec->name, s.message()));
    }
    return absl::OkStatus();
  }

  // "PrivateKey <base64>=" has no '=' of its own: the key's padding is taken for it. Name the key when the
  // first word is one; never repeat the rest, which may be a secret.
  absl::Status not_a_key(std::string_view text, int line) const {
    const std::string_view first_word = text.substr(0, text.find_first_of(" \t"));
    for (const Section s : {Section::kInterface, Section::kPeer, Section::kGateway}) {
      if (const KeySpec* spec = find_key(first_word, s); spec != nullptr && first_word.size() < text.size()) {
        return error(line, absl::StrFormat("missing '=' after %s", spec->name));
      }
    }
    return error(line, "not a key name (is a '=' or a line break misplaced?)");
  }

  absl::Status unknown_key(std::string_view key, int line) const {
    std::string hint = wg_quick_hint(key);
    for (const Section s : {Section::kInterface, Section::kPeer, Section::kGateway}) {
      if (s != section_ && find_key(key, s) != nullptr) hint = absl::StrFormat("; it belongs in %s", section_name(s));
    }
    return error(line, absl::StrFormat("unknown key %s in %s%s", key, section_name(section_), hint));
  }

  absl::Status open_section(std::string_view text, int line) {
    if (text.back() != ']') return error(line, "a section header is '[Name]' (missing ']')");
    if (absl::Status s = close_section(); !s.ok()) return s;
    const std::string_view name = trim(text.substr(1, text.size() - 2));
    seen_.clear();
    section_line_ = line;
    if (iequals(name, "Peer")) {
      section_ = Section::kPeer;
      config_.peers.emplace_back().line = line;
      return absl::OkStatus();
    }
    // One [Interface] and one [Gateway]: a second one is more likely a pasting mistake than a wish to merge.
    int* header_line = nullptr;
    if (iequals(name, "Interface")) {
      section_ = Section::kInterface;
      header_line = &config_.interface.line;
    } else if (iequals(name, "Gateway")) {
      section_ = Section::kGateway;
      header_line = &config_.gateway.line;
    } else {
      return error(line, absl::StrFormat("unknown section [%s]; expected [Interface], [Peer] or [Gateway]", name));
    }
    if (*header_line != 0) {
      return error(line, absl::StrFormat("second %s section (the first is at line %d); there may be only one",
                                         section_name(section_), *header_line));
    }
    *header_line = line;
    return absl::OkStatus();
  }

  // The checks that need the whole section: its required keys, reported at its header.
  absl::Status close_section() {
    const auto require = [&](std::string_view key) -> absl::Status {
      if (seen_.contains(std::string(key))) return absl::OkStatus();
      return error(section_line_, absl::StrFormat("%s needs %s", section_name(section_), key));
    };
    absl::Status s;
    switch (section_) {
      case Section::kInterface:
        if (config_.interface.private_key_line == 0) {
          return error(section_line_, "[Interface] needs PrivateKey or PrivateKeyFile");
        }
        break;
      case Section::kPeer:
        s = require("PublicKey");
        break;
      case Section::kGateway:
        for (const std::string_view key : {"InsidePort", "OutsidePort", "InsideAddress", "OutsideAddress"}) {
          if (s = require(key); !s.ok()) break;
        }
        break;
      case Section::kNone:
        break;
    }
    return s;
  }

  Config config_;
  Section section_ = Section::kNone;
  int section_line_ = 0;
  std::map<std::string, int, std::less<>> seen_;  // canonical key name -> first line, in this section
};

}  // namespace

absl::StatusOr<Config> parse_config(std::string_view text, std::string_view file) {
  return Parser(file).run(text);
}

}  // namespace wg::config
