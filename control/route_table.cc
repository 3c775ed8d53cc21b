#include "control/route_table.h"

#include <rte_byteorder.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include "absl/strings/str_cat.h"
#include "control/log.h"

namespace wg::ctl {

std::optional<std::uint32_t> RouteTable::owner(const net::Prefix& prefix) const {
  auto it = routes_.find(prefix);
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

int RouteTable::set(int copy, const net::Prefix& p, std::uint32_t peer) {
  if (p.addr.is_v4()) return rte_lpm_add(lpm_.v4[copy], rte_be_to_cpu_32(p.addr.v4_be()), p.len, peer);
  return rte_lpm6_add(lpm_.v6[copy], p.addr.bytes.data(), p.len, peer);
}

int RouteTable::erase(int copy, const net::Prefix& p) {
  if (p.addr.is_v4()) return rte_lpm_delete(lpm_.v4[copy], rte_be_to_cpu_32(p.addr.v4_be()), p.len);
  return rte_lpm6_delete(lpm_.v6[copy], p.addr.bytes.data(), p.len);
}

absl::Status RouteTable::edit_copy(int copy, std::span<const RouteEdit> edits) {
  // What each touched prefix mapped to before this call, to undo a partial edit.
  std::map<net::Prefix, std::optional<std::uint32_t>> before;
  std::map<net::Prefix, std::optional<std::uint32_t>> now;
  auto current = [&](const net::Prefix& p) -> std::optional<std::uint32_t> {
    if (auto it = now.find(p); it != now.end()) return it->second;
    return owner(p);
  };
  for (const RouteEdit& e : edits) {
    const std::optional<std::uint32_t> was = current(e.prefix);
    if (was == e.peer) continue;
    before.try_emplace(e.prefix, was);
    const int rc = e.peer ? set(copy, e.prefix, *e.peer) : erase(copy, e.prefix);
    if (rc != 0) {
      for (const auto& [p, v] : before) {
        if (v) {
          set(copy, p, *v);
        } else {
          erase(copy, p);
        }
      }
      return absl::ResourceExhaustedError(
          absl::StrCat("the route table has no room for AllowedIPs ", e.prefix.to_string()));
    }
    now[e.prefix] = e.peer;
  }
  return absl::OkStatus();
}

absl::Status RouteTable::apply(std::span<const RouteEdit> edits) {
  const int spare = 1 - active_;
  if (absl::Status s = edit_copy(spare, edits); !s.ok()) return s;
  tables_.allowed_v4.store(lpm_.v4[spare], std::memory_order_release);
  tables_.allowed_v6.store(lpm_.v6[spare], std::memory_order_release);
  active_ = spare;
  synchronize_();  // no worker reads the old copy any more
  if (absl::Status s = edit_copy(1 - spare, edits); !s.ok()) {
    // Cannot happen (both copies held the same rules); if it does, rebuild the old copy from the map.
    log_event("route table: %s; rebuilding the spare copy", std::string(s.message()).c_str());
    rte_lpm_delete_all(lpm_.v4[1 - spare]);
    rte_lpm6_delete_all(lpm_.v6[1 - spare]);
    for (const auto& [p, peer] : routes_) set(1 - spare, p, peer);
    for (const RouteEdit& e : edits) e.peer ? set(1 - spare, e.prefix, *e.peer) : erase(1 - spare, e.prefix);
  }
  for (const RouteEdit& e : edits) {
    if (e.peer) {
      routes_[e.prefix] = *e.peer;
    } else {
      routes_.erase(e.prefix);
    }
  }
  return absl::OkStatus();
}

}  // namespace wg::ctl
