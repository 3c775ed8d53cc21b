#include "control/etcd_client.h"

#include <curl/curl.h>
#include <sodium/utils.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace wg::ctl {
namespace {

using nlohmann::json;

std::string b64(const std::string& s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

absl::StatusOr<std::string> unb64(const std::string& s) {
  std::string out(s.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), s.data(), s.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return absl::DataLossError("etcd: a key or value is not valid base64");
  }
  out.resize(len);
  return out;
}

// int64 fields come as JSON strings ("revision": "42"), and are left out when zero; anything else reads as 0
// (never an exception: the answer comes from the network).
std::int64_t i64(const json& j, const char* field) {
  if (!j.is_object()) return 0;
  auto it = j.find(field);
  if (it == j.end()) return 0;
  std::int64_t v = 0;
  if (it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &v)) return v;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  return 0;
}

// A string field, or "" when absent or not a string.
std::string str(const json& j, const char* field) {
  if (!j.is_object()) return "";
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

absl::StatusOr<json> parse(const absl::StatusOr<std::string>& body) {
  if (!body.ok()) return body.status();
  json j = json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::DataLossError("etcd: the answer is not a JSON object");
  return j;
}

}  // namespace

EtcdClient::EtcdClient(Options options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

EtcdClient::~EtcdClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string EtcdClient::prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

absl::StatusOr<std::string> EtcdClient::post(const std::string& path, const std::string& body) {
  if (curl_ == nullptr) return absl::InternalError("etcd: no curl handle");
  if (options_.endpoints.empty()) return absl::FailedPreconditionError("etcd: no endpoints");
  auto* c = static_cast<CURL*>(curl_);
  absl::Status last = absl::UnavailableError("etcd: no endpoint answered");
  for (std::size_t tries = 0; tries < options_.endpoints.size(); ++tries) {
    const std::string& ep = options_.endpoints[(current_ + tries) % options_.endpoints.size()];
    const std::string url = ep + path;
    std::string answer;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: this is not the main thread
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.cert_file.empty()) curl_easy_setopt(c, CURLOPT_SSLCERT, options_.cert_file.c_str());
    if (!options_.key_file.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, options_.key_file.c_str());
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      last = absl::UnavailableError(absl::StrCat("etcd ", ep, ": ", curl_easy_strerror(rc)));
      continue;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    current_ = (current_ + tries) % options_.endpoints.size();
    if (status != 200) {
      // The gateway's errors are JSON too: {"error": ..., "code": <gRPC code>, "message": ...}.
      json j = json::parse(answer, nullptr, false);
      const std::string msg = j.is_object() && j.contains("message") && j["message"].is_string()
                                  ? j["message"].get<std::string>()
                                  : answer.substr(0, 200);
      const int code = j.is_object() && j.contains("code") && j["code"].is_number_integer() ? j["code"].get<int>() : 0;
      if (code == 5) return absl::NotFoundError(absl::StrCat("etcd ", ep, path, ": ", msg));
      return absl::UnavailableError(absl::StrCat("etcd ", ep, path, ": HTTP ", status, ": ", msg));
    }
    return answer;
  }
  return last;
}

absl::StatusOr<std::int64_t> EtcdClient::grant(std::chrono::seconds ttl) {
  absl::StatusOr<json> j = parse(post("/v3/lease/grant", json{{"TTL", ttl.count()}}.dump()));
  if (!j.ok()) return j.status();
  const std::int64_t id = i64(*j, "ID");
  if (id == 0) return absl::DataLossError("etcd: lease grant answered without an ID");
  return id;
}

absl::StatusOr<std::int64_t> EtcdClient::keepalive(std::int64_t lease) {
  absl::StatusOr<json> j = parse(post("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump()));
  if (!j.ok()) return j.status();
  // The gateway wraps the stream's one answer in "result"; an expired lease comes back without a TTL.
  const json& r = j->contains("result") && (*j)["result"].is_object() ? (*j)["result"] : *j;
  const std::int64_t ttl = i64(r, "TTL");
  if (ttl <= 0) return absl::NotFoundError(absl::StrCat("etcd: lease ", lease, " has expired"));
  return ttl;
}

absl::Status EtcdClient::revoke(std::int64_t lease) {
  return parse(post("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump())).status();
}

absl::Status EtcdClient::put(const std::string& key, const std::string& value, std::int64_t lease) {
  json req{{"key", b64(key)}, {"value", b64(value)}};
  if (lease != 0) req["lease"] = std::to_string(lease);
  return parse(post("/v3/kv/put", req.dump())).status();
}

absl::Status EtcdClient::erase(const std::string& key) {
  return parse(post("/v3/kv/deleterange", json{{"key", b64(key)}}.dump())).status();
}

absl::StatusOr<EtcdClient::Range> EtcdClient::range_prefix(const std::string& prefix,
                                                            std::optional<std::int64_t> revision) {
  json req{{"key", b64(prefix)}, {"range_end", b64(prefix_end(prefix))}};
  if (revision) req["revision"] = std::to_string(*revision);
  absl::StatusOr<json> j = parse(post("/v3/kv/range", req.dump()));
  if (!j.ok()) return j.status();
  Range out;
  if (j->contains("header")) out.revision = i64((*j)["header"], "revision");
  if (j->contains("kvs") && (*j)["kvs"].is_array()) {
    for (const json& kv : (*j)["kvs"]) {
      if (!kv.is_object()) return absl::DataLossError("etcd: a range entry is not an object");
      absl::StatusOr<std::string> k = unb64(str(kv, "key"));
      absl::StatusOr<std::string> v = unb64(str(kv, "value"));
      if (!k.ok()) return k.status();
      if (!v.ok()) return v.status();
      out.kvs.push_back({*std::move(k), *std::move(v), i64(kv, "mod_revision"), i64(kv, "lease")});
    }
  }
  return out;
}

}  // namespace wg::ctl
