// The loader on real files in a temporary directory: PrivateKeyFile created (0600), reused, refused when
// others can read it; paths relative to the config file; notices; validation applied.
#include "config/loader.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/crypto/key_encoding.h"
#include "lib/crypto/x25519.h"
#include "tests/config/test_config.h"

namespace wg::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using namespace wg::config::testing;
namespace fs = std::filesystem;

// kMinimal with PrivateKeyFile instead of PrivateKey (line 2).
std::string with_key_file(std::string_view path) {
  std::string text = expand(kMinimal);
  text.replace(text.find("PrivateKey = "), 13 + kPrivate.size(), "PrivateKeyFile = " + std::string(path));
  return text;
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "wggate-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, std::string_view text, mode_t mode = 0600) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path.string();
  }
  static std::string read(const fs::path& path) {
    std::stringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
  }
  static mode_t mode_of(const fs::path& path) {
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path dir_;
};

TEST_F(LoaderTest, CreatesKeyFileThenReusesIt) {
  const std::string conf = write("etc/wggate.conf", with_key_file("wggate.key"));
  const fs::path key_path = dir_ / "etc" / "wggate.key";  // relative to the config file, not the cwd

  absl::StatusOr<Config> first = load_config(conf);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->interface.private_key.has_value());
  EXPECT_EQ(first->interface.private_key_file, key_path.string());
  EXPECT_EQ(mode_of(key_path), 0600u);
  const std::string text = read(key_path);
  EXPECT_EQ(text, crypto::to_base64(first->interface.private_key->span()) + "\n") << "as `wg genkey` writes";
  const std::string pub = crypto::to_base64(crypto::public_key(*first->interface.private_key));
  ASSERT_EQ(first->notices.size(), 1u);
  EXPECT_THAT(first->notices[0], StartsWith(conf + ":2: created PrivateKeyFile"));
  EXPECT_THAT(first->notices[0], HasSubstr(pub));
  EXPECT_THAT(first->notices[0], Not(HasSubstr(text.substr(0, 43)))) << "never the private key";

  absl::StatusOr<Config> second = load_config(conf);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(*second->interface.private_key == *first->interface.private_key);
  EXPECT_THAT(second->notices, IsEmpty());
  EXPECT_EQ(read(key_path), text) << "an existing key file is never rewritten";
}

TEST_F(LoaderTest, ReadsAnExistingKeyFile) {
  write("keys/gw.key", std::string(kPrivate) + "\r\n");
  const std::string conf = write("wggate.conf", with_key_file((dir_ / "keys/gw.key").string()));  // absolute
  absl::StatusOr<Config> c = load_config(conf);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(crypto::to_base64(c->interface.private_key->span()), kPrivate);
}

TEST_F(LoaderTest, RefusesKeyFileOthersCanRead) {
  const std::string key = write("gw.key", std::string(kPrivate) + "\n", 0644);
  const std::string conf = write("wggate.conf", with_key_file("gw.key"));
  absl::StatusOr<Config> c = load_config(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), StartsWith(conf + ":2: PrivateKeyFile " + key + ": "));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("accessible by other users (mode 0644)"));
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr(std::string(kPrivate).substr(0, 20))));

  chmod(key.c_str(), 0640);  // group access is a deliberate setup: allowed, with a notice
  c = load_config(conf);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->notices, ElementsAre(HasSubstr("accessible by its group (mode 0640)")));
}

TEST_F(LoaderTest, BadKeyFiles) {
  std::string bad(kPrivate);
  bad[3] = '#';
  write("bad.key", bad + "\n");
  absl::StatusOr<Config> c = load_config(write("a.conf", with_key_file("bad.key")));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(":2: PrivateKeyFile "));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("invalid key"));
  EXPECT_THAT(std::string(c.status().message()), Not(HasSubstr(bad.substr(4, 20))));

  write("two.key", std::string(kPrivate) + "\n" + std::string(kPrivate) + "\n" + std::string(kPrivate) + "\n");
  c = load_config(write("b.conf", with_key_file("two.key")));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("invalid key"));

  fs::create_directory(dir_ / "adir");
  c = load_config(write("c.conf", with_key_file("adir")));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("is not a regular file"));

  c = load_config(write("d.conf", with_key_file("no/such/dir/k.key")));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr(":2: PrivateKeyFile "));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("cannot create"));
}

TEST_F(LoaderTest, UnreadableConfigFile) {
  const std::string missing = (dir_ / "missing.conf").string();
  absl::StatusOr<Config> c = load_config(missing);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), StartsWith(missing + ": cannot open: "));
  c = load_config(dir_.string());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("is not a regular file"));
}

TEST_F(LoaderTest, InlineKeyInReadableFileIsANotice) {
  const std::string conf = write("wggate.conf", expand(kMinimal), 0644);
  absl::StatusOr<Config> c = load_config(conf);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->notices.size(), 1u);
  EXPECT_THAT(c->notices[0], StartsWith(conf + ":2: this file holds keys and other users can read it (mode 0644)"));
  chmod(conf.c_str(), 0600);
  c = load_config(conf);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->notices, IsEmpty());
}

TEST_F(LoaderTest, ValidatesAfterResolvingTheKey) {
  // The peer's key is ours, which only shows once the key file has been read.
  write("own.key", std::string(kPrivate) + "\n");
  const std::string conf = write("wggate.conf", with_key_file("own.key") + expand("[Peer]\nPublicKey = {own}\n"));
  absl::StatusOr<Config> c = load_config(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), StartsWith(conf + ":14: PublicKey is this gateway's own public key (from line 2)"));
}

TEST_F(LoaderTest, ParseErrorsNameTheFileAsGiven) {
  const std::string conf = write("wggate.conf", "[Interface]\nListenPort = x\n");
  absl::StatusOr<Config> c = load_config(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), StartsWith(conf + ":2: ListenPort: "));
}

}  // namespace
}  // namespace wg::config
