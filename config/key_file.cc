#include "config/key_file.h"

#include <fcntl.h>
#include <sodium/utils.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/text.h"
#include "config/values.h"
#include "lib/crypto/key_encoding.h"
#include "lib/crypto/x25519.h"

namespace wg::config {
namespace {

// A key file is 44 base64 characters and a newline, perhaps a CR or some spaces; anything longer is not one.
constexpr std::size_t kMaxKeyFileSize = 128;

std::string errno_text(int err) { return std::strerror(err); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error a deferred write may surface only here.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

absl::StatusOr<KeyFile> read_key(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return absl::InternalError(absl::StrCat("cannot stat: ", errno_text(errno)));
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError("is not a regular file");
  KeyFile out;
  out.mode = st.st_mode & 07777;
  if (st.st_mode & S_IRWXO) {
    return absl::PermissionDeniedError(
        absl::StrFormat("is accessible by other users (mode %04o); refusing to use it: chmod 600 it", out.mode));
  }
  out.group_access = (st.st_mode & (S_IRGRP | S_IWGRP)) != 0;

  std::array<char, kMaxKeyFileSize + 1> buf;
  std::size_t len = 0;
  while (len < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + len, buf.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("cannot read: ", errno_text(errno)));
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  absl::StatusOr<crypto::Key> key =
      len > kMaxKeyFileSize ? absl::InvalidArgumentError("invalid key: the file holds more than one key")
                            : parse_secret_key(trim(std::string_view(buf.data(), len)));
  sodium_memzero(buf.data(), buf.size());
  if (!key.ok()) return key.status();
  out.key = *key;
  return out;
}

absl::Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("cannot write: ", errno_text(errno)));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyFile> create_key(const std::string& path) {
  // O_EXCL: never truncate or follow into a file someone else created meanwhile; 0600 from the first byte.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError("exists");
    return absl::InternalError(absl::StrCat("cannot create: ", errno_text(errno)));
  }
  KeyFile out;
  out.key = crypto::generate_private_key();
  out.created = true;
  out.mode = 0600;
  std::string text = crypto::to_base64(out.key.span()) + "\n";
  absl::Status s = write_all(fd.get(), text);
  sodium_memzero(text.data(), text.size());
  // A key that is lost on a crash would change the gateway's identity: make it durable before using it.
  if (s.ok() && ::fsync(fd.get()) != 0) s = absl::InternalError(absl::StrCat("cannot fsync: ", errno_text(errno)));
  if (fd.close() != 0 && s.ok()) s = absl::InternalError(absl::StrCat("cannot close: ", errno_text(errno)));
  if (!s.ok()) {
    ::unlink(path.c_str());  // a half-written key file would fail every later start
    return s;
  }
  return out;
}

}  // namespace

absl::StatusOr<KeyFile> read_or_create_key_file(const std::string& path) {
  // Two rounds: if another process creates the file between our open and our create, read theirs.
  for (int round = 0; round < 2; ++round) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() >= 0) return read_key(fd.get());
    if (errno != ENOENT) return absl::InternalError(absl::StrCat("cannot open: ", errno_text(errno)));
    absl::StatusOr<KeyFile> created = create_key(path);
    if (!absl::IsAlreadyExists(created.status())) return created;
  }
  return absl::InternalError("appears and disappears while being opened");
}

}  // namespace wg::config
