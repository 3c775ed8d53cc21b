// parse_uapi_set: every key of the set=1 protocol, and the error class wireguard-go answers for bad input.
#include "control/uapi_set.h"

#include <errno.h>
#include <gtest/gtest.h>

#include <string>

#include "control/uapi.h"

namespace wg::ctl {
namespace {

const std::string kKeyA = std::string(62, '0') + "0a";
const std::string kKeyB = std::string(64, 'b');
const std::string kPsk = std::string(64, 'c');

TEST(UapiSet, DeviceKeys) {
  auto c = parse_uapi_set("private_key=" + kKeyB + "\nlisten_port=51821\nfwmark=7\nreplace_peers=true\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->private_key.has_value());
  EXPECT_EQ(c->private_key->data()[0], 0xbb);
  EXPECT_EQ(c->listen_port, 51821);
  EXPECT_EQ(c->fwmark, 7u);
  EXPECT_TRUE(c->replace_peers);
  EXPECT_TRUE(c->peers.empty());
}

TEST(UapiSet, PeerKeysAsWgSetSendsThem) {
  // What `wg set wg0 peer B preshared-key F endpoint ... persistent-keepalive 25 allowed-ips ...` sends.
  auto c = parse_uapi_set("public_key=" + kKeyA + "\npreshared_key=" + kPsk +
                          "\nendpoint=[fd00::1]:51820\npersistent_keepalive_interval=25\n"
                          "replace_allowed_ips=true\nallowed_ip=10.0.0.1/24\nallowed_ip=fd63::/64\n"
                          "public_key=" + kKeyB + "\nremove=true\n"
                          "public_key=" + kKeyB + "\nupdate_only=true\nprotocol_version=1\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->peers.size(), 3u);
  const PeerChange& a = c->peers[0];
  EXPECT_EQ(a.public_key[31], 0x0a);
  EXPECT_EQ(a.public_key[0], 0x00);
  ASSERT_TRUE(a.preshared_key.has_value());
  EXPECT_EQ(a.preshared_key->data()[5], 0xcc);
  ASSERT_TRUE(a.endpoint.has_value());
  EXPECT_EQ(a.endpoint->to_string(), "[fd00::1]:51820");
  EXPECT_EQ(a.persistent_keepalive, 25);
  EXPECT_TRUE(a.replace_allowed_ips);
  ASSERT_EQ(a.allowed_ips.size(), 2u);
  EXPECT_EQ(a.allowed_ips[0].to_string(), "10.0.0.0/24");  // host bits cleared, as the kernel does
  EXPECT_EQ(a.allowed_ips[1].to_string(), "fd63::/64");
  EXPECT_TRUE(c->peers[1].remove);
  EXPECT_FALSE(c->peers[1].update_only);
  EXPECT_TRUE(c->peers[2].update_only);
  EXPECT_FALSE(c->peers[2].remove);
}

TEST(UapiSet, ReplaceAllowedIpsDropsWhatCameBefore) {
  auto c = parse_uapi_set("public_key=" + kKeyA + "\nallowed_ip=10.0.0.0/8\nreplace_allowed_ips=true\n"
                          "allowed_ip=10.1.0.0/16\n");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->peers[0].allowed_ips.size(), 1u);
  EXPECT_EQ(c->peers[0].allowed_ips[0].to_string(), "10.1.0.0/16");
}

TEST(UapiSet, StopsAtBlankLine) {
  auto c = parse_uapi_set("listen_port=1\n\nlisten_port=bogus\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->listen_port, 1);
}

struct Bad {
  const char* body;
  int errno_value;
};

class UapiSetErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(UapiSetErrors, AnswersWireguardGoErrno) {
  const Bad& b = GetParam();
  std::string body = b.body;
  for (std::size_t at; (at = body.find("KEYA")) != std::string::npos;) body.replace(at, 4, kKeyA);
  auto c = parse_uapi_set(body);
  ASSERT_FALSE(c.ok()) << body;
  EXPECT_EQ(uapi_errno(c.status()), b.errno_value) << body << ": " << c.status();
  // Secrets are never echoed back into logs.
  EXPECT_EQ(std::string(c.status().message()).find(kPsk), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    All, UapiSetErrors,
    ::testing::Values(Bad{"listen_port\n", -EPROTO}, Bad{"public_key=KEYA\nendpoint\n", -EPROTO},
                      Bad{"bogus=1\n", -EINVAL}, Bad{"listen_port=65536\n", -EINVAL},
                      Bad{"listen_port=-1\n", -EINVAL}, Bad{"listen_port=\n", -EINVAL},
                      Bad{"fwmark=x\n", -EINVAL}, Bad{"replace_peers=false\n", -EINVAL},
                      Bad{"private_key=abc\n", -EINVAL}, Bad{"public_key=zz\n", -EINVAL},
                      Bad{"public_key=KEYA\nremove=1\n", -EINVAL},
                      Bad{"public_key=KEYA\nupdate_only=yes\n", -EINVAL},
                      Bad{"public_key=KEYA\nreplace_allowed_ips=no\n", -EINVAL},
                      Bad{"public_key=KEYA\npreshared_key=cccccccc\n", -EINVAL},
                      Bad{"public_key=KEYA\nendpoint=host.example:51820\n", -EINVAL},
                      Bad{"public_key=KEYA\nendpoint=10.0.0.1\n", -EINVAL},
                      Bad{"public_key=KEYA\npersistent_keepalive_interval=70000\n", -EINVAL},
                      Bad{"public_key=KEYA\nallowed_ip=10.0.0.0/33\n", -EINVAL},
                      Bad{"public_key=KEYA\nallowed_ip=10.0.0.0\n", -EINVAL},
                      Bad{"public_key=KEYA\nprotocol_version=2\n", -EINVAL},
                      Bad{"public_key=KEYA\nlisten_port=1\n", -EINVAL}));

TEST(UapiErrno, Mapping) {
  EXPECT_EQ(uapi_errno(absl::OkStatus()), 0);
  EXPECT_EQ(uapi_errno(absl::AlreadyExistsError("x")), -EADDRINUSE);
  EXPECT_EQ(uapi_errno(absl::UnavailableError("x")), -EIO);
  EXPECT_EQ(uapi_errno(absl::ResourceExhaustedError("x")), -EINVAL);
}

}  // namespace
}  // namespace wg::ctl
