#include "control/keytool.h"

#include <sys/stat.h>
#include <sodium/utils.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "lib/crypto/key_encoding.h"
#include "lib/crypto/x25519.h"

namespace wg::ctl {
namespace {

int print_key(std::span<const std::uint8_t, 32> key) {
  std::printf("%s\n", crypto::to_base64(key).c_str());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

std::optional<int> run_key_command(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  const std::string cmd = argv[1];
  if (cmd != "genkey" && cmd != "pubkey" && cmd != "genpsk") return std::nullopt;
  if (argc != 2) {
    std::fprintf(stderr, "usage: wggate %s\n", cmd.c_str());
    return 1;
  }
  if (cmd == "genkey" || cmd == "genpsk") {
    // As wg: warn when the key would land in a file others can read.
    struct stat st;
    if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO) != 0) {
      std::fprintf(stderr, "Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n");
    }
    crypto::Key k;
    if (cmd == "genkey") {
      k = crypto::generate_private_key();
    } else {
      crypto::random_bytes(k.span());
    }
    return print_key(k.span());
  }
  // pubkey: a private key on stdin (trailing whitespace allowed, as wg accepts), its public key on stdout.
  char buf[128] = {};
  const std::size_t n = std::fread(buf, 1, sizeof(buf) - 1, stdin);
  std::string text(buf, n);
  sodium_memzero(buf, sizeof(buf));
  while (!text.empty() && std::strchr(" \t\r\n", text.back()) != nullptr) text.pop_back();
  absl::StatusOr<crypto::Key> priv = crypto::key_from_base64(text);
  sodium_memzero(text.data(), text.size());
  if (!priv.ok()) {
    std::fprintf(stderr, "wggate: Key is not the correct length or format\n");
    return 1;
  }
  return print_key(crypto::public_key(*priv));
}

}  // namespace wg::ctl
