// The cross-platform userspace configuration protocol (https://www.wireguard.com/xplatform/), served on
// /var/run/wireguard/<Name>.sock so that the stock `wg` tool can inspect and change the gateway: `wg show`,
// `wg showconf`, `wg set`, `wg setconf`, `wg syncconf`. Answers end with `errno=N`, N negative as
// wireguard-go writes it: -EPROTO for a malformed line, -EINVAL for a bad key or value, -EADDRINUSE, -EIO.
//
// Threads: the socket is served by the UAPI thread this class starts, never by the control thread, so no
// client (one that sends a byte every few hundred milliseconds, or never reads its answer) can hold the
// control loop. The UAPI thread accepts, reads and writes without blocking (poll), for up to kMaxClients at
// once, each with a deadline for its whole exchange (kClientDeadline); a complete request is handed to the
// control thread through a one-slot mailbox, which the control thread empties in poll() once a pass: the
// handlers (reading or changing the peer table) run there, as everything that touches control state does.
// The UAPI thread waits for the answer (one control pass), then writes it out on its own time.
// Bounds and what they refuse, counted in ControlCounters: request size (1 MiB: uapi_too_large), clients at
// once (uapi_busy), the deadline (uapi_timeout).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "control/control_counters.h"

namespace wg::ctl {

class UapiServer {
 public:
  using GetHandler = std::function<std::string()>;  // the body of a get=1 answer, without "errno=0"
  // Applies the body of a set=1 request (its lines, without the blank line); the status becomes errno.
  using SetHandler = std::function<absl::Status(std::string_view body)>;

  static constexpr std::size_t kMaxRequest = 1u << 20;  // room for `wg syncconf` of a full peer table
  static constexpr std::size_t kMaxClients = 8;
  static constexpr std::chrono::seconds kClientDeadline{5};

  explicit UapiServer(ControlCounters* counters = nullptr) : counters_(counters) {}
  ~UapiServer();
  UapiServer(const UapiServer&) = delete;
  UapiServer& operator=(const UapiServer&) = delete;

  // Binds the socket (0600) and starts the UAPI thread.
  [[nodiscard]] absl::Status listen(const std::string& name, GetHandler get, SetHandler set);
  // Control thread: runs the waiting request's handler, if any, and hands the answer back. Never waits for
  // the mutex (try_lock; what it could not take or hand over is done at the next pass). True if it did.
  bool poll();
  // Stops the thread and removes the socket.
  void close();
  const std::string& path() const { return path_; }

 private:
  void serve_loop();
  // UAPI thread: the full answer for a complete request, computed by the control thread.
  std::optional<std::string> ask_control(std::string request);
  std::string answer(const std::string& request);  // control thread
  bool deliver();  // control thread: hands pending_answer_ over, unless the mutex is busy
  void count(CtlCounter c) {
    if (counters_ != nullptr) counters_->add(c);
  }

  ControlCounters* counters_;
  std::string path_;
  int listen_fd_ = -1;
  GetHandler get_;
  SetHandler set_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // The mailbox: one request at a time from the UAPI thread to the control thread and its answer back.
  std::mutex mu_;
  std::condition_variable answered_;
  std::atomic<bool> has_request_{false};
  std::string request_;
  std::optional<std::string> answer_;
  std::optional<std::string> pending_answer_;  // control thread only: computed, not yet handed over
};

// The errno value (negative, 0 for success) for a status from SetHandler: FailedPrecondition -> -EPROTO,
// AlreadyExists -> -EADDRINUSE, Unavailable -> -EIO, any other error -> -EINVAL.
int uapi_errno(const absl::Status& s);

}  // namespace wg::ctl
