// The configuration file from disk: read, parse (config/parser.h), resolve PrivateKeyFile
// (config/key_file.h) and validate (config/validate.h). What main calls at startup.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace wg::config {

// Loads the file at `path` (errors name it as given). PrivateKeyFile is relative to the file's directory
// and created with a fresh key if missing. On success interface.private_key is set, and
// interface.private_key_file (if used) is the path actually read. Non-fatal findings are in notices.
// Every error is InvalidArgumentError("path:line: message"), or "path: message" when the file itself
// cannot be read.
[[nodiscard]] absl::StatusOr<Config> load_config(const std::string& path);

}  // namespace wg::config
