// The cross-platform userspace configuration protocol (https://www.wireguard.com/xplatform/), served on
// /var/run/wireguard/<Name>.sock so that the stock `wg` tool can inspect and change the gateway: `wg show`,
// `wg showconf`, `wg set`, `wg setconf`, `wg syncconf`. Answers end with `errno=N`, N negative as
// wireguard-go writes it: -EPROTO for a malformed line, -EINVAL for a bad key or value, -EADDRINUSE, -EIO.
//
// Thread rule: control thread only. poll() never blocks for long: it accepts only what is already waiting,
// and reads a request with a short timeout (the socket is root-only, mode 0600).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace wg::ctl {

class UapiServer {
 public:
  using GetHandler = std::function<std::string()>;  // the body of a get=1 answer, without "errno=0"
  // Applies the body of a set=1 request (its lines, without the blank line); the status becomes errno.
  using SetHandler = std::function<absl::Status(std::string_view body)>;

  ~UapiServer();
  [[nodiscard]] absl::Status listen(const std::string& name, GetHandler get, SetHandler set);
  // Serves every connection already waiting; returns true if it served any.
  bool poll();
  void close();
  const std::string& path() const { return path_; }

 private:
  void serve(int fd);

  std::string path_;
  int listen_fd_ = -1;
  GetHandler get_;
  SetHandler set_;
};

// The errno value (negative, 0 for success) for a status from SetHandler: FailedPrecondition -> -EPROTO,
// AlreadyExists -> -EADDRINUSE, Unavailable -> -EIO, any other error -> -EINVAL.
int uapi_errno(const absl::Status& s);

}  // namespace wg::ctl
