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

#include <algorithm>
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
  // The body of a get=1 answer (without "errno=0"), built a piece per control pass so that a large peer table
  // never holds the loop: appends the next piece to `out` and advances `cursor` (0 at the start; the handler
  // may reset both to start over), true once the body is complete.
  using GetHandler = std::function<bool(std::string& out, std::size_t& cursor)>;
  // A handler that builds the whole body at once (small answers, tests).
  static GetHandler whole(std::function<std::string()> f) {
    return [f = std::move(f)](std::string& out, std::size_t&) {
      out = f();
      return true;
    };
  }
  // Applies the body of a set=1 request (its lines, without the blank line); the status becomes errno.
  using SetHandler = std::function<absl::Status(std::string_view body)>;

  // The request bound: room for `wg syncconf` of a full peer table, which the gateway sizes from its peer
  // capacity (request_limit_for); never below 1 MiB.
  static constexpr std::size_t kMaxRequest = 1u << 20;
  static constexpr std::size_t kRequestBytesPerPeer = 256;  // a [Peer] with a key, an endpoint and a few prefixes
  static std::size_t request_limit_for(std::size_t peers) { return std::max(kMaxRequest, kRequestBytesPerPeer * peers); }
  static constexpr std::size_t kMaxClients = 8;
  static constexpr std::chrono::seconds kClientDeadline{5};

  explicit UapiServer(ControlCounters* counters = nullptr, std::size_t max_request = kMaxRequest)
      : counters_(counters), max_request_(std::max(max_request, kMaxRequest)) {}
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
  std::string answer(const std::string& request);  // control thread (set=1 and anything but get=1)
  bool continue_get();  // control thread: the next piece of a get=1 answer; true (work done) always
  bool deliver();  // control thread: hands pending_answer_ over, unless the mutex is busy
  void count(CtlCounter c) {
    if (counters_ != nullptr) counters_->add(c);
  }

  ControlCounters* counters_;
  std::size_t max_request_;
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
  std::optional<std::string> get_body_;        // control thread only: a get=1 answer being built
  std::size_t get_cursor_ = 0;
};

// The errno value (negative, 0 for success) for a status from SetHandler: FailedPrecondition -> -EPROTO,
// AlreadyExists -> -EADDRINUSE, Unavailable -> -EIO, any other error -> -EINVAL.
int uapi_errno(const absl::Status& s);

}  // namespace wg::ctl
