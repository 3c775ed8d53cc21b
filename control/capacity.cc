#include "control/capacity.h"

#include <algorithm>

namespace wg::ctl {

static_assert(config::kMaxPeersLimit == dp::kPeerLimit, "MaxPeers' ceiling is the tables' ceiling");

dp::TableSizes table_sizes(const config::Config& cfg) {
  dp::TableSizes s;
  s.peers = cfg.peer_capacity();
  std::size_t v4 = 0, v6 = 0;
  for (const config::Peer& p : cfg.peers) {
    for (const config::PrefixAt& a : p.allowed_ips) (a.prefix.addr.is_v4() ? v4 : v6) += 1;
  }
  // Room for two prefixes per peer of either family, and twice what the file holds, at least 65536: the
  // rule tables are small (rte_lpm 8 bytes a rule); the groups below are what costs.
  const std::size_t routes = std::max<std::size_t>({65536, 2ull * s.peers, 2 * v4, 2 * v6});
  s.routes = static_cast<std::uint32_t>(std::min<std::size_t>(routes, 1u << 24));
  // A group is 1 KiB per copy (256 entries of 4 bytes), two copies per family. IPv4: one group per prefix
  // longer than /24 that does not share its /24 (peers' /32s in a common /16 share ~1 per 256); room for a
  // quarter of the peers alone. IPv6: a /128 alone takes 13 groups, /128s in one /96 share all but ~1 per 256.
  s.v4_tbl8 = std::max<std::uint32_t>(4096, s.peers / 4);
  s.v6_tbl8 = std::max<std::uint32_t>(16384, s.peers / 4);
  return s;
}

}  // namespace wg::ctl
