// A blocking etcd v3 client over etcd's JSON gateway (HTTP, `/v3/...`; etcd 3.4 as Debian 12 ships it), for
// the fleet thread (issue 16): leases for liveness, keys under a prefix, a range read at a revision. Keys and
// values travel base64-encoded in JSON, as the gateway wants; revisions and lease ids are int64 sent as
// strings. Each call tries the endpoints in turn, starting with the last one that answered, and returns the
// first answer or the last error; every call has a deadline.
//
// Thread rule: one client per thread (it owns a curl handle). Never used on the control thread: a call waits
// on the network.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wg::ctl {

class EtcdClient {
 public:
  struct Options {
    std::vector<std::string> endpoints;  // "http://127.0.0.1:2379", "https://10.0.0.1:2379"
    std::string ca_file, cert_file, key_file;  // TLS: server CA, client certificate and key (PEM)
    std::chrono::milliseconds timeout{2000};   // per request, connection included
  };
  struct KeyValue {
    std::string key, value;
    std::int64_t mod_revision = 0;
    std::int64_t lease = 0;
  };
  struct Range {
    std::int64_t revision = 0;  // the store's revision the answer was read at
    std::vector<KeyValue> kvs;
  };

  explicit EtcdClient(Options options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // A lease of `ttl` seconds; its id.
  absl::StatusOr<std::int64_t> grant(std::chrono::seconds ttl);
  // Renews the lease once; the TTL it now has left. NotFound when it expired (or never existed).
  absl::StatusOr<std::int64_t> keepalive(std::int64_t lease);
  absl::Status revoke(std::int64_t lease);
  // Puts key = value, attached to `lease` (0: none).
  absl::Status put(const std::string& key, const std::string& value, std::int64_t lease = 0);
  absl::Status erase(const std::string& key);
  // Every key starting with `prefix`, at the current revision (or at `revision` when given).
  absl::StatusOr<Range> range_prefix(const std::string& prefix, std::optional<std::int64_t> revision = std::nullopt);

  // The end of the key range that holds exactly the keys starting with `prefix` (etcd's convention: the
  // prefix with its last byte incremented, trailing 0xff bytes dropped; "\0" for everything).
  static std::string prefix_end(const std::string& prefix);

 private:
  // POSTs `body` to `path` on the endpoints in turn; the answer's body.
  absl::StatusOr<std::string> post(const std::string& path, const std::string& body);

  Options options_;
  std::size_t current_ = 0;  // the endpoint that answered last
  void* curl_ = nullptr;     // CURL*
};

}  // namespace wg::ctl
