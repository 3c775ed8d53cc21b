// EtcdClient against a real etcd (Debian's etcd-server, started here on loopback ports of its own, its data in
// a temporary directory): keys under a prefix with binary values, a range at an older revision, leases that
// renew and that take their keys when revoked, failing over past a dead endpoint, and a bounded error when
// nothing answers. Skipped, visibly, where no etcd binary is installed. Malformed answers (from a stand-in
// server) are errors, never a crash.
#include "control/etcd_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace wg::ctl {
namespace {

using namespace std::chrono_literals;

// A loopback port nobody listens on at this moment.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

EtcdClient::Options opts(std::vector<std::string> endpoints, std::chrono::milliseconds timeout = 2000ms) {
  EtcdClient::Options o;
  o.endpoints = std::move(endpoints);
  o.timeout = timeout;
  return o;
}

std::string find_etcd() {
  for (const char* p : {"/usr/bin/etcd", "/usr/local/bin/etcd"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string etcd = find_etcd();
    if (etcd.empty()) GTEST_SKIP() << "no etcd binary (Debian package etcd-server): EtcdClient not tested";
    char tmpl[] = "/tmp/wggate-etcd-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const int client = free_port(), peer = free_port();
    ASSERT_NE(client, 0);
    ASSERT_NE(peer, 0);
    url_ = "http://127.0.0.1:" + std::to_string(client);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    std::vector<std::string> args = {etcd, "--name", "t", "--data-dir", dir_ + "/data",
                                     "--listen-client-urls", url_, "--advertise-client-urls", url_,
                                     "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                                     "--initial-cluster", "t=" + peer_url, "--logger", "zap", "--log-outputs", "stderr"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Its output to a file in its directory, not into the test's; killed with the test if the test dies
    // before TearDown (a crash or a sanitizer abort must not leave an etcd running).
    const std::string log = dir_ + "/etcd.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(etcd.c_str(), argv.data());
      ::_exit(127);
    }
    ASSERT_GT(pid_, 0);
    // Ready when a range answers (bounded: 30 s).
    EtcdClient probe(opts({url_}, 500ms));
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (!probe.range_prefix("/").ok()) {
      ASSERT_EQ(::waitpid(pid_, nullptr, WNOHANG), 0) << "etcd exited; its log: " << log;
      ASSERT_LT(std::chrono::steady_clock::now(), end) << "etcd did not answer on " << url_ << " within 30 s";
      std::this_thread::sleep_for(100ms);
    }
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  pid_t pid_ = 0;
  std::string dir_, url_;
};

// A stand-in for etcd that answers every request with the next of `bodies` (HTTP 200), one connection each.
class FakeEtcd {
 public:
  explicit FakeEtcd(std::vector<std::string> bodies) : bodies_(std::move(bodies)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 8);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    thread_ = std::thread([this] {
      for (const std::string& body : bodies_) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        std::string req;
        // Headers, then Content-Length bytes of body (short requests: read until the body is in).
        while (req.find("\r\n\r\n") == std::string::npos) {
          const ssize_t n = ::read(c, buf, sizeof(buf));
          if (n <= 0) break;
          req.append(buf, static_cast<std::size_t>(n));
        }
        const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        (void)!::write(c, answer.data(), answer.size());
        ::close(c);
      }
    });
  }
  ~FakeEtcd() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url;

 private:
  std::vector<std::string> bodies_;
  int fd_ = -1;
  std::thread thread_;
};

TEST(EtcdClientMalformed, AnswersThatAreNotWhatEtcdSendsAreErrorsNotCrashes) {
  FakeEtcd fake({
      "not json at all",                                             // range: not JSON
      "[1, 2, 3]",                                                   // range: not an object
      R"({"header": {"revision": "abc"}, "kvs": [{"key": "!!!", "value": ""}]})",  // bad base64
      R"({"header": "x", "kvs": [7]})",                              // an entry that is not an object
      R"({"header": {"revision": "9"}, "kvs": [{"key": 5, "value": ["x"], "mod_revision": {}}]})",
      R"({"header": {}})",                                           // grant without an ID
      R"({"result": "x"})",                                          // keepalive: no TTL anywhere
      R"({"result": {"TTL": "1e99"}})",                              // keepalive: TTL not an int64
  });
  EtcdClient c(opts({fake.url}));
  EXPECT_TRUE(absl::IsDataLoss(c.range_prefix("/").status()));
  EXPECT_TRUE(absl::IsDataLoss(c.range_prefix("/").status()));
  EXPECT_TRUE(absl::IsDataLoss(c.range_prefix("/").status()));
  EXPECT_TRUE(absl::IsDataLoss(c.range_prefix("/").status()));
  // Wrong types read as empty or zero: an answer, not a crash.
  absl::StatusOr<EtcdClient::Range> r = c.range_prefix("/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->revision, 9);
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].key, "");
  EXPECT_EQ(r->kvs[0].mod_revision, 0);
  EXPECT_TRUE(absl::IsDataLoss(c.grant(std::chrono::seconds(5)).status()));
  EXPECT_TRUE(absl::IsNotFound(c.keepalive(1).status()));
  EXPECT_TRUE(absl::IsNotFound(c.keepalive(1).status()));
}

TEST(EtcdPrefixEnd, IncrementsTheLastByteThatCan) {
  EXPECT_EQ(EtcdClient::prefix_end("/wggate/v1/"), "/wggate/v10");
  EXPECT_EQ(EtcdClient::prefix_end("ab\xff"), "ac");
  EXPECT_EQ(EtcdClient::prefix_end("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(EtcdClient::prefix_end(""), std::string(1, '\0'));
}

TEST_F(EtcdClientTest, KeysUnderAPrefixWithBinaryValues) {
  EtcdClient c(opts({url_}));
  const char raw[] = "\0\xff\x01 {\"json\": true}\n";
  const std::string binary(raw, sizeof(raw) - 1);
  ASSERT_TRUE(c.put("/t/a/1", "one").ok());
  ASSERT_TRUE(c.put("/t/a/2", binary).ok());
  ASSERT_TRUE(c.put("/t/a/3", "").ok());
  ASSERT_TRUE(c.put("/t/b/1", "other prefix").ok());
  ASSERT_TRUE(c.put("/t/a", "the prefix without its slash").ok());
  absl::StatusOr<EtcdClient::Range> r = c.range_prefix("/t/a/");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->kvs.size(), 3u);
  EXPECT_EQ(r->kvs[0].key, "/t/a/1");
  EXPECT_EQ(r->kvs[0].value, "one");
  EXPECT_EQ(r->kvs[1].value, binary);
  EXPECT_EQ(r->kvs[2].value, "");
  for (const auto& kv : r->kvs) EXPECT_LE(kv.mod_revision, r->revision);
  ASSERT_TRUE(c.erase("/t/a/2").ok());
  r = c.range_prefix("/t/a/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kvs.size(), 2u);
}

TEST_F(EtcdClientTest, RangeAtAnOlderRevision) {
  EtcdClient c(opts({url_}));
  ASSERT_TRUE(c.put("/t/k", "v1").ok());
  absl::StatusOr<EtcdClient::Range> first = c.range_prefix("/t/");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(c.put("/t/k", "v2").ok());
  absl::StatusOr<EtcdClient::Range> old = c.range_prefix("/t/", first->revision);
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_EQ(old->kvs.size(), 1u);
  EXPECT_EQ(old->kvs[0].value, "v1");
  absl::StatusOr<EtcdClient::Range> now = c.range_prefix("/t/");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->kvs[0].value, "v2");
  EXPECT_GT(now->revision, first->revision);
}

TEST_F(EtcdClientTest, LeasesRenewAndTakeTheirKeys) {
  EtcdClient c(opts({url_}));
  absl::StatusOr<std::int64_t> lease = c.grant(10s);
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE(c.put("/t/live", "here", *lease).ok());
  absl::StatusOr<EtcdClient::Range> r = c.range_prefix("/t/");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].lease, *lease);
  absl::StatusOr<std::int64_t> ttl = c.keepalive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(*ttl, 0);
  EXPECT_LE(*ttl, 10);
  ASSERT_TRUE(c.revoke(*lease).ok());
  r = c.range_prefix("/t/");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->kvs.empty()) << "the lease's key outlived it";
  EXPECT_TRUE(absl::IsNotFound(c.keepalive(*lease).status())) << c.keepalive(*lease).status();
}

TEST_F(EtcdClientTest, FailsOverPastADeadEndpointAndBoundsTheError) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(free_port());
  EtcdClient c(opts({dead, url_}, 1000ms));
  ASSERT_TRUE(c.put("/t/x", "y").ok());
  absl::StatusOr<EtcdClient::Range> r = c.range_prefix("/t/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kvs.size(), 1u);
  EtcdClient nobody(opts({dead}, 500ms));
  const auto t0 = std::chrono::steady_clock::now();
  const absl::Status s = nobody.put("/t/x", "y");
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

}  // namespace
}  // namespace wg::ctl
