#include "lib/protocol/keypair.h"

#include <utility>

namespace wg::noise {
namespace {
void retire(std::vector<KeypairPtr>& out, KeypairPtr p) {
  if (p) out.push_back(std::move(p));
}
}  // namespace

std::vector<KeypairPtr> KeypairSet::install(KeypairPtr keypair) {
  std::vector<KeypairPtr> retired;
  if (keypair->i_am_initiator) {
    if (next_) {
      // A responder-side keypair was still waiting for confirmation; it is newer than current, so it is the
      // better previous (the peer may still be sending with it).
      retire(retired, std::move(previous_));
      retire(retired, std::move(current_));
      previous_ = std::move(next_);
    } else {
      retire(retired, std::move(previous_));
      previous_ = std::move(current_);
    }
    current_ = std::move(keypair);
  } else {
    // Not usable for sending until confirmed; keep current so traffic flows meanwhile.
    retire(retired, std::move(next_));
    retire(retired, std::move(previous_));
    next_ = std::move(keypair);
  }
  return retired;
}

bool KeypairSet::received_with(const Keypair* keypair, std::vector<KeypairPtr>& retired) {
  if (keypair == nullptr || keypair != next_.get()) return false;
  retire(retired, std::move(previous_));
  previous_ = std::move(current_);
  current_ = std::move(next_);
  return true;
}

std::vector<KeypairPtr> KeypairSet::clear() {
  std::vector<KeypairPtr> retired;
  retire(retired, std::move(current_));
  retire(retired, std::move(previous_));
  retire(retired, std::move(next_));
  return retired;
}

Keypair* KeypairSet::find(std::uint32_t local_index) const {
  for (Keypair* k : {current_.get(), previous_.get(), next_.get()}) {
    if (k != nullptr && k->local_index == local_index) return k;
  }
  return nullptr;
}

}  // namespace wg::noise
