// AllowedIPs of every peer: the authoritative prefix -> peer map, mirrored into the two LPM copies per family
// (dp::LpmCopies, control's own), one of which dp::Tables publishes to the workers.
//
// Why two copies: rte_lpm/rte_lpm6 edits are not atomic for a reader (a prefix being moved between peers, or
// replaced by a longer list, can miss for a moment, and LPM6 has no RCU reclamation for its tbl8 groups).
// So a change is made on the spare copy, the spare is published with a release store, the control thread
// waits for a QSBR grace period (no worker still reads the old copy), and the same change is repeated on the
// old copy, which becomes the spare. Workers see a change whole or not at all; nothing of a flow is lost.
//
// Thread rule: control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/tables.h"
#include "lib/net/ip.h"

namespace wg::ctl {

struct RouteEdit {
  net::Prefix prefix;                 // masked
  std::optional<std::uint32_t> peer;  // the new owner; nullopt removes the prefix
};

class RouteTable {
 public:
  RouteTable(dp::Tables& tables, dp::LpmCopies& lpm, std::function<void()> synchronize)
      : tables_(tables), lpm_(lpm), synchronize_(std::move(synchronize)) {}

  std::optional<std::uint32_t> owner(const net::Prefix& prefix) const;
  const std::map<net::Prefix, std::uint32_t>& routes() const { return routes_; }
  std::size_t size() const { return routes_.size(); }

  // Applies `edits` in order, all at once as the workers see it. On error (a table is full) nothing changed.
  [[nodiscard]] absl::Status apply(std::span<const RouteEdit> edits);

 private:
  // Applies the edits to one copy; undoes what it did when one fails.
  absl::Status edit_copy(int copy, std::span<const RouteEdit> edits);
  int set(int copy, const net::Prefix& p, std::uint32_t peer);
  int erase(int copy, const net::Prefix& p);

  dp::Tables& tables_;  // where the published copy is announced
  dp::LpmCopies& lpm_;
  std::function<void()> synchronize_;
  std::map<net::Prefix, std::uint32_t> routes_;
  int active_ = 0;  // index into lpm_.v4 / v6 of the published copies
};

}  // namespace wg::ctl
