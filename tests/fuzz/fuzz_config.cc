// fuzz_config: the config parser and validator on arbitrary text (an operator's file is untrusted input
// too: a typo must give a file:line error, never a crash). Asserts: every error names "fuzz.conf:LINE: "
// with a line inside the file (or line 1 for a missing section), and no error message contains a key.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/parser.h"
#include "config/validate.h"
#include "lib/crypto/key_encoding.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace wg;

fuzz::Seeds make_seeds() {
  const std::string priv = crypto::to_base64(fuzz::fixed_key(1).span());
  const std::string pub = crypto::to_base64(crypto::public_key(fuzz::fixed_key(2)));
  const std::string text = "[Interface]\nPrivateKey = " + priv + "\nListenPort = 51820\n\n[Peer]\nPublicKey = " + pub +
                           "\nAllowedIPs = 10.62.0.0/24, fd63::/64\nEndpoint = 172.31.61.2:51820\n"
                           "PersistentKeepalive = 25\n\n[Gateway]\nInsidePort = net_af_packet0\n"
                           "OutsidePort = 1\nInsideAddress = 10.61.0.1/24, fd61::1/64\n"
                           "OutsideAddress = 172.31.61.1/24\nMTU = 1420\n";
  return {fuzz::Bytes(text.begin(), text.end())};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::setup();
  fuzz::write_seeds_if_asked(make_seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::begin_run();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto lines = static_cast<long>(std::count(text.begin(), text.end(), '\n')) + 1;
  absl::StatusOr<config::Config> cfg = config::parse_config(text, "fuzz.conf");
  absl::Status status = cfg.ok() ? config::validate_config(*cfg) : cfg.status();
  if (!status.ok()) {
    const std::string msg(status.message());
    FUZZ_CHECK(msg.rfind("fuzz.conf:", 0) == 0);
    const long line = std::strtol(msg.c_str() + 10, nullptr, 10);
    FUZZ_CHECK(line >= 1 && line <= lines);
  }
  return 0;
}
