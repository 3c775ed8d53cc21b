#include "control/config_sync.h"

namespace wg::ctl {

DeviceChange change_from_config(const config::Config& cfg) {
  DeviceChange c;
  c.private_key = cfg.interface.private_key;
  c.listen_port = cfg.interface.listen_port;
  c.replace_peers = true;
  for (const config::Peer& p : cfg.peers) {
    PeerChange pc;
    pc.public_key = p.public_key;
    pc.preshared_key = p.preshared_key.value_or(crypto::Key());
    pc.endpoint = p.endpoint;
    pc.persistent_keepalive = p.persistent_keepalive;
    pc.replace_allowed_ips = true;
    for (const config::PrefixAt& a : p.allowed_ips) pc.allowed_ips.push_back(a.prefix.masked());
    c.peers.push_back(std::move(pc));
  }
  return c;
}

}  // namespace wg::ctl
