// The cross-platform userspace configuration protocol (https://www.wireguard.com/xplatform/), served on
// /var/run/wireguard/<Name>.sock so that the stock `wg` tool can inspect the gateway: `wg show`,
// `wg show NAME dump`, `wg showconf`. This first part answers get=1 only; set=1 is refused with errno=-1
// (-EPERM, wireguard-go's sign convention) until live changes land (issue 4).
//
// Thread rule: control thread only. poll() never blocks for long: it accepts only what is already waiting,
// and reads a request with a short timeout (the socket is root-only, mode 0600).
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"

namespace wg::ctl {

class UapiServer {
 public:
  using GetHandler = std::function<std::string()>;  // the body of a get=1 answer, without "errno=0"

  ~UapiServer();
  [[nodiscard]] absl::Status listen(const std::string& name, GetHandler get);
  // Serves every connection already waiting; returns true if it served any.
  bool poll();
  void close();
  const std::string& path() const { return path_; }

 private:
  void serve(int fd);

  std::string path_;
  int listen_fd_ = -1;
  GetHandler get_;
};

}  // namespace wg::ctl
