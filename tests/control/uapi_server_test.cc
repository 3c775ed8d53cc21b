// UapiServer against real clients on its real Unix socket: requests answered by the handlers on the thread
// that calls poll() (the control thread, played here by a thread of the test), and every bound with its
// counter: a request over 1 MiB (uapi_too_large), a ninth client at once (uapi_busy), a client that does not
// finish its exchange within kClientDeadline (uapi_timeout), while others are still served.
//
// The socket is /var/run/wireguard/<name>.sock (as the gateway's): the name is unique to this process and the
// server removes the socket when it closes.
#include "control/uapi.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace wg::ctl {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Sends all of `data`, blocking; false once the server has closed the connection.
bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

struct Reply {
  std::string text;     // what the server wrote
  bool closed = false;  // the server closed the connection
  bool complete() const { return text.size() >= 2 && text.ends_with("\n\n"); }
};

// Reads until the answer's blank line, the server's close, or `timeout`.
Reply read_reply(int fd, std::chrono::milliseconds timeout) {
  Reply r;
  const auto until = Clock::now() + timeout;
  char buf[65536];
  while (!r.complete()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      r.closed = true;
      break;
    }
    r.text.append(buf, static_cast<std::size_t>(n));
  }
  return r;
}

// True when the server has closed `fd` (EOF readable), looking for at most `timeout`.
bool closed_by_server(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

class UapiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 && ::access("/var/run/wireguard", W_OK) != 0) {
      GTEST_SKIP() << "needs to create /var/run/wireguard/<name>.sock (root)";
    }
    name_ = absl::StrCat("wggate-uapitest-", ::getpid());
    const absl::Status s = server_.listen(
        name_,
        [this](std::string& out, std::size_t& cursor) {
          get_thread_ = std::this_thread::get_id();
          if (big_answer_.load()) {
            out = std::string(4u << 20, 'x') + "\n";
            return true;
          }
          if (pieces_.load() == 0) {
            out = "listen_port=51820\n";
            return true;
          }
          absl::StrAppend(&out, "piece=", cursor, "\n");  // one line per control pass
          return ++cursor == pieces_.load();
        },
        [this](std::string_view body) {
          set_thread_ = std::this_thread::get_id();
          set_bodies_.emplace_back(body);
          return body.starts_with("bad") ? absl::InvalidArgumentError("bad") : absl::OkStatus();
        });
    ASSERT_TRUE(s.ok()) << s;
    // The control thread: one poll a pass, a short sleep when idle (as ControlPlane::run).
    control_ = std::thread([this] {
      control_id_ = std::this_thread::get_id();
      while (!stop_.load()) {
        if (!server_.poll()) std::this_thread::sleep_for(200us);
      }
    });
  }
  void TearDown() override {
    stop_.store(true);
    if (control_.joinable()) control_.join();
    const std::string path = server_.path();
    server_.close();
    if (!path.empty()) {
      struct stat st;
      EXPECT_NE(::stat(path.c_str(), &st), 0) << "socket removed at close";
    }
  }
  std::uint64_t count(CtlCounter c) const { return counters_.count(c); }
  // The count once it has reached `want` (or after 2 s): the control thread counts a request just after it
  // hands the answer back, so a client may read its answer a moment before the count moves.
  std::uint64_t count_reaching(CtlCounter c, std::uint64_t want) const {
    for (const auto until = Clock::now() + 2s; count(c) < want && Clock::now() < until;) std::this_thread::sleep_for(1ms);
    return count(c);
  }
  // A whole exchange on a fresh connection.
  Reply exchange(std::string_view request, std::chrono::milliseconds timeout = 3000ms) {
    const int fd = connect_to(server_.path());
    EXPECT_GE(fd, 0);
    if (fd < 0) return {};
    send_all(fd, request);  // a refused client may find the connection closed already: the reply says so
    Reply r = read_reply(fd, timeout);
    ::close(fd);
    return r;
  }

  ControlCounters counters_;
  UapiServer server_{&counters_};
  std::string name_;
  std::thread control_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> big_answer_{false};
  std::atomic<std::size_t> pieces_{0};  // > 0: get=1 answers in that many pieces, one per pass
  std::atomic<std::thread::id> control_id_, get_thread_, set_thread_;
  std::vector<std::string> set_bodies_;  // written by the control thread, read after it is joined or idle
};

TEST_F(UapiServerTest, RequestsAreAnsweredByTheControlThread) {
  struct stat st;
  ASSERT_EQ(::stat(server_.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "root only";
  EXPECT_TRUE(S_ISSOCK(st.st_mode));

  EXPECT_EQ(exchange("get=1\n\n").text, "listen_port=51820\nerrno=0\n\n");
  EXPECT_EQ(get_thread_.load(), control_id_.load());
  EXPECT_EQ(exchange("set=1\nlisten_port=51821\n\n").text, "errno=0\n\n");
  EXPECT_EQ(set_thread_.load(), control_id_.load());
  EXPECT_EQ(exchange("set=1\nbad=1\n\n").text, absl::StrCat("errno=", -EINVAL, "\n\n"));
  EXPECT_EQ(exchange("frobnicate=1\n\n").text, absl::StrCat("errno=", -EINVAL, "\n\n")) << "unknown operation";
  // A request may arrive in pieces: it is complete at its blank line, not before.
  const int fd = connect_to(server_.path());
  ASSERT_GE(fd, 0);
  for (std::string_view piece : {"se", "t=1\nlisten_", "port=7\n", "\n"}) {
    ASSERT_TRUE(send_all(fd, piece));
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(read_reply(fd, 3000ms).text, "errno=0\n\n");
  ::close(fd);
  EXPECT_EQ(count_reaching(CtlCounter::uapi_requests, 5), 5u);
  stop_.store(true);
  control_.join();
  EXPECT_EQ(set_bodies_, (std::vector<std::string>{"listen_port=51821\n", "bad=1\n", "listen_port=7\n"}));
  EXPECT_EQ(count(CtlCounter::uapi_too_large) + count(CtlCounter::uapi_busy) + count(CtlCounter::uapi_timeout), 0u);
}

// A large get=1 answer is built a piece per control pass (the gateway's: 1000 peers a pass), and the client
// receives the pieces in order, whole, once.
TEST_F(UapiServerTest, GetAnswerBuiltInPiecesArrivesWhole) {
  pieces_.store(5);
  EXPECT_EQ(exchange("get=1\n\n").text, "piece=0\npiece=1\npiece=2\npiece=3\npiece=4\nerrno=0\n\n");
  EXPECT_EQ(count_reaching(CtlCounter::uapi_requests, 1), 1u);
  EXPECT_EQ(exchange("get=1\n\n").text, "piece=0\npiece=1\npiece=2\npiece=3\npiece=4\nerrno=0\n\n")
      << "the next get starts from the beginning";
  EXPECT_EQ(exchange("set=1\nlisten_port=1\n\n").text, "errno=0\n\n") << "and a set after it is answered";
}

TEST_F(UapiServerTest, SecondServerUnderTheSameNameIsRefused) {
  UapiServer other;
  const absl::Status s = other.listen(name_, UapiServer::whole([] { return std::string(); }), [](std::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(exchange("get=1\n\n").text, "listen_port=51820\nerrno=0\n\n") << "the first one still serves";
}

// Exactly 1 MiB is the most a request may be: complete within it, it is applied; 1 MiB without its blank line
// is refused with -EIO and nothing applied.
TEST_F(UapiServerTest, RequestOfOneMebibyteWithoutItsEndIsRefused) {
  constexpr std::size_t kMax = UapiServer::kMaxRequest;
  std::string lines = "set=1\n";
  while (lines.size() + 40 < kMax) lines += "listen_port=1\n";
  lines += "listen_port=";
  lines.resize(kMax - 2, '1');  // the last line's digits fill up to 1 MiB less its blank line
  lines += '\n';
  const std::string complete = lines + "\n";
  ASSERT_EQ(complete.size(), kMax);
  EXPECT_EQ(exchange(complete, 10000ms).text, "errno=0\n\n");
  EXPECT_EQ(count_reaching(CtlCounter::uapi_requests, 1), 1u);
  EXPECT_EQ(count(CtlCounter::uapi_too_large), 0u);

  std::string endless = lines + "x";  // 1 MiB, no blank line
  ASSERT_EQ(endless.size(), kMax);
  const Reply r = exchange(endless, 10000ms);
  EXPECT_EQ(r.text, absl::StrCat("errno=", -EIO, "\n\n"));
  EXPECT_EQ(count(CtlCounter::uapi_too_large), 1u);
  EXPECT_EQ(count(CtlCounter::uapi_requests), 1u) << "never reached the control thread";
  stop_.store(true);
  control_.join();
  ASSERT_EQ(set_bodies_.size(), 1u) << "the refused request applied nothing";
  EXPECT_EQ(set_bodies_[0].size(), kMax - 6 - 1);
}

// Eight clients at once are served; a ninth is refused (closed at once) until one of them leaves.
TEST_F(UapiServerTest, NinthClientAtOnceIsRefused) {
  std::vector<int> idle;
  for (std::size_t i = 0; i < UapiServer::kMaxClients; ++i) {
    idle.push_back(connect_to(server_.path()));
    ASSERT_GE(idle.back(), 0);
  }
  const int ninth = connect_to(server_.path());
  ASSERT_GE(ninth, 0) << "the backlog takes it; the server refuses it";
  EXPECT_TRUE(closed_by_server(ninth, 2000ms));
  ::close(ninth);
  EXPECT_EQ(count(CtlCounter::uapi_busy), 1u);
  for (int fd : idle) EXPECT_FALSE(closed_by_server(fd, 0ms)) << "the eight are still served";
  // One leaves: the next client is served (retried while the server has not yet noticed the departure;
  // each refusal is counted).
  ::close(idle.back());
  idle.pop_back();
  std::uint64_t refused = 1;
  Reply r;
  for (int tries = 0; tries < 50 && !r.complete(); ++tries) {
    r = exchange("get=1\n\n", 2000ms);
    if (!r.complete()) {
      ++refused;
      std::this_thread::sleep_for(50ms);
    }
  }
  EXPECT_EQ(r.text, "listen_port=51820\nerrno=0\n\n");
  EXPECT_EQ(count(CtlCounter::uapi_busy), refused);
  EXPECT_EQ(count_reaching(CtlCounter::uapi_requests, 1), 1u);
  for (int fd : idle) ::close(fd);
}

// Three clients that never finish their exchange — one dribbles a request a byte at a time, one sends nothing,
// one asks for an answer bigger than the socket buffers and never reads it — are all cut off at their
// deadline (kClientDeadline for the whole exchange), and meanwhile another client is answered at once.
TEST_F(UapiServerTest, ClientsThatNeverFinishAreCutOffAtTheirDeadline) {
  ASSERT_EQ(UapiServer::kClientDeadline, 5s);
  const auto start = Clock::now();
  // The non-reader first, while get answers are big: it is answered (uapi_requests 1) but reads nothing.
  big_answer_.store(true);
  const int non_reader = connect_to(server_.path());
  ASSERT_GE(non_reader, 0);
  ASSERT_TRUE(send_all(non_reader, "get=1\n\n"));
  ASSERT_EQ(count_reaching(CtlCounter::uapi_requests, 1), 1u);
  big_answer_.store(false);
  const int silent = connect_to(server_.path());
  const int dribbler = connect_to(server_.path());
  ASSERT_GE(silent, 0);
  ASSERT_GE(dribbler, 0);
  std::atomic<bool> dribbler_cut{false};
  std::thread dribble([&] {
    const std::string request = "set=1\nlisten_port=51820\n";  // never the blank line
    for (std::size_t i = 0; Clock::now() - start < 8s; i = (i + 1) % request.size()) {
      if (!send_all(dribbler, std::string_view(request).substr(i, 1)) || closed_by_server(dribbler, 150ms)) {
        dribbler_cut.store(true);  // the server closed the connection
        break;
      }
    }
  });
  // Meanwhile others are served at once.
  std::this_thread::sleep_for(1s);
  const auto asked = Clock::now();
  EXPECT_EQ(exchange("get=1\n\n").text, "listen_port=51820\nerrno=0\n\n");
  EXPECT_LT(Clock::now() - asked, 1s);
  EXPECT_EQ(count(CtlCounter::uapi_timeout), 0u) << "none cut off early";

  EXPECT_TRUE(closed_by_server(silent, 7000ms)) << "the silent client";
  dribble.join();
  EXPECT_TRUE(dribbler_cut.load());
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 4900ms);
  EXPECT_LT(elapsed, 7000ms);
  // The non-reader: the server stopped writing; it finds a truncated answer and the end of the stream.
  const Reply partial = read_reply(non_reader, 3000ms);
  EXPECT_TRUE(partial.closed);
  EXPECT_LT(partial.text.size(), (4u << 20) + 10);
  EXPECT_FALSE(partial.complete());
  EXPECT_EQ(count(CtlCounter::uapi_timeout), 3u);
  EXPECT_EQ(count_reaching(CtlCounter::uapi_requests, 2), 2u);
  stop_.store(true);
  control_.join();
  EXPECT_TRUE(set_bodies_.empty()) << "the dribbled request was never applied";
  for (int fd : {non_reader, silent, dribbler}) ::close(fd);
}

}  // namespace
}  // namespace wg::ctl
