#include "control/rate_limiter.h"

#include <algorithm>
#include <chrono>

namespace wg::ctl {
namespace {
constexpr std::int64_t kTokenCost = 1'000'000'000 / RateLimiter::kPerSecond;
constexpr std::int64_t kMaxCredit = kTokenCost * RateLimiter::kBurst;
}  // namespace

bool RateLimiter::allow(const net::IpAddress& source, MonoTime now) {
  net::IpAddress src = source;
  if (!src.is_v4()) std::fill(src.bytes.begin() + 8, src.bytes.end(), 0);  // the /64 is the unit
  auto it = buckets_.find(src);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxEntries) expire(now);
    if (buckets_.size() >= kMaxEntries) return false;  // table full of active sources: refuse newcomers
    buckets_.emplace(src, Bucket{now, kMaxCredit - kTokenCost});
    return true;
  }
  Bucket& b = it->second;
  b.tokens_ns = std::min(kMaxCredit, b.tokens_ns + (now - b.last).count());
  b.last = now;
  if (b.tokens_ns < kTokenCost) return false;
  b.tokens_ns -= kTokenCost;
  return true;
}

void RateLimiter::expire(MonoTime now) {
  std::erase_if(buckets_, [now](const auto& kv) { return now - kv.second.last > std::chrono::seconds(1); });
}

}  // namespace wg::ctl
