#include "control/uapi.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace wg::ctl {
namespace {
constexpr const char* kSocketDir = "/var/run/wireguard";

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
  stop_.store(false, std::memory_order_relaxed);
  thread_ = std::thread([this] { serve_loop(); });
  return absl::OkStatus();
}

// The UAPI thread: every client non-blocking, each with a deadline for its whole exchange.
void UapiServer::serve_loop() {
  struct Client {
    int fd;
    std::string in, out;
    std::size_t sent = 0;
    bool answered = false;
    std::chrono::steady_clock::time_point deadline;
  };
  std::vector<Client> clients;
  std::vector<pollfd> fds;
  char buf[16384];
  while (!stop_.load(std::memory_order_relaxed)) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Client& c : clients) fds.push_back({c.fd, static_cast<short>(c.answered ? POLLOUT : POLLIN), 0});
    if (::poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) break;
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < clients.size(); ++i) {
      Client& c = clients[i];
      const short ev = fds[i + 1].revents;
      bool done = false;
      if (!c.answered && (ev & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          done = true;  // the client went away before its request was complete: nothing applied
        } else if (n > 0) {
          const std::size_t scanned = c.in.empty() ? 0 : c.in.size() - 1;
          c.in.append(buf, static_cast<std::size_t>(n));
          if (c.in.find("\n\n", scanned) != std::string::npos) {
            std::optional<std::string> a = ask_control(std::move(c.in));
            if (!a) break;  // stopping
            c.out = std::move(*a);
            c.answered = true;
          } else if (c.in.size() >= max_request_) {  // too long: apply nothing
            count(CtlCounter::uapi_too_large);
            c.out = absl::StrCat("errno=", -EIO, "\n\n");
            c.answered = true;
          }
        }
      } else if (c.answered && (ev & (POLLOUT | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) c.sent += static_cast<std::size_t>(n);
        done = c.sent == c.out.size() || (n < 0 && errno != EAGAIN && errno != EINTR);
      }
      if (!done && now > c.deadline) {
        count(CtlCounter::uapi_timeout);
        done = true;
      }
      if (done) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(clients, [](const Client& c) { return c.fd < 0; });
    if ((fds[0].revents & POLLIN) != 0) {
      for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;  // EAGAIN: nothing more waiting
        if (clients.size() >= kMaxClients) {
          count(CtlCounter::uapi_busy);
          ::close(fd);
          continue;
        }
        clients.push_back({fd, {}, {}, 0, false, now + kClientDeadline});
      }
    }
  }
  for (const Client& c : clients) ::close(c.fd);
}

std::optional<std::string> UapiServer::ask_control(std::string request) {
  std::unique_lock<std::mutex> lock(mu_);
  request_ = std::move(request);
  answer_.reset();
  has_request_.store(true, std::memory_order_release);
  while (!answer_) {
    if (stop_.load(std::memory_order_relaxed)) return std::nullopt;
    answered_.wait_for(lock, std::chrono::milliseconds(100));
  }
  std::optional<std::string> a = std::move(answer_);
  answer_.reset();
  return a;
}

bool UapiServer::poll() {
  if (pending_answer_) return deliver();
  if (get_body_) return continue_get();
  if (!has_request_.load(std::memory_order_acquire)) return false;
  std::string request;
  {
    // Never wait for the UAPI thread: if it holds the mutex (for a moment, unless it was preempted), the
    // request is taken at the next pass.
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    request = std::move(request_);
    has_request_.store(false, std::memory_order_relaxed);
  }
  if (request.rfind("get=1\n", 0) == 0) {
    get_body_.emplace();
    get_cursor_ = 0;
    return continue_get();
  }
  pending_answer_ = answer(request);  // the handlers run here, on the control thread, without the mutex
  count(CtlCounter::uapi_requests);
  deliver();
  return true;
}

bool UapiServer::continue_get() {
  if (!get_(*get_body_, get_cursor_)) return true;  // more at the next pass
  get_body_->append("errno=0\n\n");  // in place: a copy of a 100,000-peer answer would cost a long pass
  pending_answer_ = std::move(*get_body_);
  get_body_.reset();
  count(CtlCounter::uapi_requests);
  deliver();
  return true;
}

bool UapiServer::deliver() {
  {
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return false;  // the UAPI thread has it for a moment: next pass
    answer_ = std::move(pending_answer_);
    pending_answer_.reset();
  }
  answered_.notify_one();
  return true;
}

std::string UapiServer::answer(const std::string& req) {
  if (req.rfind("set=1\n", 0) == 0) {
    const std::size_t end = req.find("\n\n");
    const std::string_view body = std::string_view(req).substr(6, end + 1 - 6);
    return absl::StrCat("errno=", uapi_errno(set_(body)), "\n\n");
  }
  return absl::StrCat("errno=", -EINVAL, "\n\n");
}

void UapiServer::close() {
  stop_.store(true, std::memory_order_relaxed);
  answered_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace wg::ctl
