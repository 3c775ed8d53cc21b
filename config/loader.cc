#include "config/loader.h"

#include <fcntl.h>
#include <sodium/utils.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/key_file.h"
#include "config/parser.h"
#include "config/validate.h"
#include "lib/crypto/key_encoding.h"
#include "lib/crypto/x25519.h"

namespace wg::config {
namespace {

// Far above any real configuration (a thousand peers is ~200 KiB); refuses /dev/zero and mistakes.
constexpr off_t kMaxConfigSize = 16 << 20;

// The file's text, wiped when done: it may hold PrivateKey and PresharedKey lines.
struct ConfigText {
  std::string text;
  unsigned mode = 0;
  ~ConfigText() { sodium_memzero(text.data(), text.size()); }
};

absl::Status file_error(const std::string& path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", path, what));
}

absl::Status read_config_file(const std::string& path, ConfigText& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return file_error(path, absl::StrCat("cannot open: ", std::strerror(errno)));
  struct stat st;
  absl::Status s;
  if (fstat(fd, &st) != 0) {
    s = file_error(path, absl::StrCat("cannot stat: ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    s = file_error(path, "is not a regular file");
  } else if (st.st_size > kMaxConfigSize) {
    s = file_error(path, "is too large to be a configuration file");
  } else {
    out.mode = st.st_mode & 07777;
    out.text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t len = 0;
    while (len < out.text.size()) {
      const ssize_t n = ::read(fd, out.text.data() + len, out.text.size() - len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        s = file_error(path, absl::StrCat("cannot read: ", std::strerror(errno)));
        break;
      }
      if (n == 0) break;
      len += static_cast<std::size_t>(n);
    }
    out.text.resize(len);
  }
  ::close(fd);
  return s;
}

absl::Status resolve_private_key_file(const std::string& path, Config& c) {
  Interface& i = c.interface;
  std::filesystem::path key_path = std::filesystem::path(path).parent_path() / i.private_key_file;
  i.private_key_file = key_path.string();
  absl::StatusOr<KeyFile> key = read_or_create_key_file(i.private_key_file);
  if (!key.ok()) {
    return c.error(i.private_key_line, absl::StrCat("PrivateKeyFile ", i.private_key_file, ": ",
                                                    key.status().message()));
  }
  i.private_key = key->key;
  if (key->created) {
    c.notices.push_back(absl::StrCat(c.where(i.private_key_line), ": created PrivateKeyFile ", i.private_key_file,
                                     " with a new key; public key ",
                                     crypto::to_base64(crypto::public_key(key->key))));
  }
  if (key->group_access) {
    c.notices.push_back(absl::StrFormat("%s: PrivateKeyFile %s is accessible by its group (mode %04o)",
                                        c.where(i.private_key_line), i.private_key_file, key->mode));
  }
  return absl::OkStatus();
}

// wg-quick warns about this too; with keys written inline, the file itself is the secret. A notice, not an
// error: the operator may have reasons (a lab), and the keys are exposed already.
void warn_if_secrets_readable(Config& c, unsigned mode) {
  if (!(mode & S_IRWXO)) return;
  int line = c.interface.private_key ? c.interface.private_key_line : 0;
  for (const Peer& p : c.peers) {
    if (p.preshared_key && (line == 0 || p.preshared_key_line < line)) line = p.preshared_key_line;
  }
  if (line == 0) return;
  c.notices.push_back(absl::StrFormat(
      "%s: this file holds keys and other users can read it (mode %04o); chmod 600 it, or use PrivateKeyFile",
      c.where(line), mode));
}

}  // namespace

absl::StatusOr<Config> load_config(const std::string& path) {
  ConfigText file;
  if (absl::Status s = read_config_file(path, file); !s.ok()) return s;
  absl::StatusOr<Config> config = parse_config(file.text, path);
  if (!config.ok()) return config.status();
  warn_if_secrets_readable(*config, file.mode);
  if (!config->interface.private_key) {
    if (absl::Status s = resolve_private_key_file(path, *config); !s.ok()) return s;
  }
  if (absl::Status s = validate_config(*config); !s.ok()) return s;
  return config;
}

}  // namespace wg::config
