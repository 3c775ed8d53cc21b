#include "control/uapi.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace wg::ctl {
namespace {
constexpr const char* kSocketDir = "/var/run/wireguard";

bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace

UapiServer::~UapiServer() { close(); }

int uapi_errno(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kFailedPrecondition: return -EPROTO;
    case absl::StatusCode::kAlreadyExists: return -EADDRINUSE;
    case absl::StatusCode::kUnavailable: return -EIO;
    default: return -EINVAL;
  }
}

absl::Status UapiServer::listen(const std::string& name, GetHandler get, SetHandler set) {
  get_ = std::move(get);
  set_ = std::move(set);
  ::mkdir(kSocketDir, 0755);  // as wireguard-go: the directory is world-listable, the socket is not
  path_ = absl::StrCat(kSocketDir, "/", name, ".sock");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path)) return absl::InvalidArgumentError("UAPI socket path too long");
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  // A live socket means another instance runs under this Name; a dead one is left over from a crash.
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    ::close(probe);
    path_.clear();
    return absl::AlreadyExistsError(absl::StrCat("another process serves ", addr.sun_path,
                                                 ": is a gateway with this Name already running?"));
  }
  if (probe >= 0) ::close(probe);
  ::unlink(path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const mode_t old = ::umask(0077);  // the socket is created 0600: root only
  const int rc = listen_fd_ < 0 ? -1 : ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (rc != 0 || ::listen(listen_fd_, 16) != 0) {
    const std::string err = std::strerror(errno);
    close();
    return absl::InternalError(absl::StrCat("cannot listen on ", addr.sun_path, ": ", err));
  }
  ::chmod(path_.c_str(), 0600);
  return absl::OkStatus();
}

bool UapiServer::poll() {
  if (listen_fd_ < 0) return false;
  bool served = false;
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) break;  // EAGAIN: nothing waiting
    serve(fd);
    ::close(fd);
    served = true;
  }
  return served;
}

void UapiServer::serve(int fd) {
  timeval tv{0, 200'000};  // a client that stalls cannot hold the control thread for long
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string req;
  char buf[16384];
  // 1 MiB: room for `wg syncconf` of a full peer table with many AllowedIPs each.
  while (req.size() < (1u << 20)) {
    const std::size_t scanned = req.empty() ? 0 : req.size() - 1;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    req.append(buf, static_cast<std::size_t>(n));
    if (req.find("\n\n", scanned) != std::string::npos) break;
  }
  if (req.rfind("get=1\n", 0) == 0) {
    write_all(fd, get_() + "errno=0\n\n");
  } else if (req.rfind("set=1\n", 0) == 0) {
    const std::size_t end = req.find("\n\n");
    if (end == std::string::npos) {  // cut short or too long: apply nothing
      write_all(fd, absl::StrCat("errno=", -EIO, "\n\n"));
      return;
    }
    const std::string_view body = std::string_view(req).substr(6, end + 1 - 6);
    write_all(fd, absl::StrCat("errno=", uapi_errno(set_(body)), "\n\n"));
  } else {
    write_all(fd, absl::StrCat("errno=", -EINVAL, "\n\n"));
  }
}

void UapiServer::close() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace wg::ctl
