// PrivateKeyFile: the gateway's private key in a file of its own, as `wg genkey > key` writes it (base64 and
// a newline). A missing file is created with a fresh key, so a first start needs no manual key step; an
// existing one is refused when other users may access it, as a careful daemon does (ssh does the same).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "lib/crypto/secret.h"

namespace wg::config {

struct KeyFile {
  crypto::Key key;
  bool created = false;     // the file did not exist and now holds a fresh key (mode 0600)
  bool group_access = false;  // the group may read or write it: allowed (a deliberate setup), worth a notice
  unsigned mode = 0;        // permission bits, for messages
};

// Reads the key at `path`, or creates the file (O_CREAT|O_EXCL, mode 0600) with a fresh key when it does not
// exist. Errors carry no location and never the file's contents; the loader adds "file:line: ".
[[nodiscard]] absl::StatusOr<KeyFile> read_or_create_key_file(const std::string& path);

}  // namespace wg::config
