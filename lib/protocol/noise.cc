// Noise_IKpsk2 message processing. Steps are marked with the Noise pattern tokens they implement
// (IKpsk2:  <- s  ...  -> e, es, s, ss, {t}  <- e, ee, se, psk, {}), following the WireGuard paper 5.4.
#include "lib/protocol/noise.h"

#include <sodium/utils.h>

#include <atomic>
#include <cstring>

#include "lib/crypto/aead.h"

namespace wg::noise {
namespace {

using crypto::Bytes;
using crypto::Key;

Bytes as_bytes(std::string_view s) { return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

// C0 = Hash(Construction), H0 = Hash(C0 || Identifier): the same for every handshake.
struct InitialState {
  Key chaining_key;
  crypto::Hash hash;
  InitialState() {
    crypto::Hash c = crypto::hash({as_bytes(kConstruction)});
    chaining_key.assign(c);
    hash = crypto::hash({Bytes(c), as_bytes(kIdentifier)});
  }
};
const InitialState& initial_state() {
  static const InitialState s;
  return s;
}

}  // namespace

// Working copy of the symmetric state; wiped when it goes out of scope.
struct Symmetric {
  Key ck;
  crypto::Hash h{};
  Key k;
  ~Symmetric() { sodium_memzero(h.data(), h.size()); }

  void start(const crypto::PublicKey& responder_static) {
    ck = initial_state().chaining_key;
    h = crypto::hash({Bytes(initial_state().hash), Bytes(responder_static)});
  }
  void mix_hash(Bytes data) { h = crypto::hash({Bytes(h), data}); }
  void mix_key(Bytes input) { crypto::kdf1(ck, ck, input); }
  void mix_key_and_key(Bytes input) { crypto::kdf2(ck, k, ck, input); }
  // ck, t, k = Kdf3(ck, psk); H = Hash(H || t)
  void mix_psk(const Key& psk) {
    Key t;
    crypto::kdf3(ck, t, k, ck, psk.span());
    mix_hash(t.span());
  }
  // msg = AEAD(k, 0, plain, H); H = Hash(H || msg)
  void encrypt_and_hash(std::span<std::uint8_t> out, Bytes plain) {
    crypto::seal(out, k, 0, plain, h);
    mix_hash(out);
  }
  bool decrypt_and_hash(std::span<std::uint8_t> out, Bytes cipher) {
    if (!crypto::open(out, k, 0, cipher, h)) return false;
    mix_hash(cipher);
    return true;
  }
  // The "e" token: C = Kdf1(C, e_pub); H = Hash(H || e_pub).
  void mix_ephemeral(const crypto::PublicKey& e_pub) {
    mix_key(e_pub);
    mix_hash(e_pub);
  }
  // Mixes DH(priv, pub) in with Kdf1 or Kdf2; false on the all-zero secret.
  bool mix_dh(const Key& priv, const crypto::PublicKey& pub, bool with_key) {
    absl::StatusOr<Key> shared = crypto::dh(priv, pub);
    if (!shared.ok()) return false;
    if (with_key) {
      mix_key_and_key(shared->span());
    } else {
      mix_key(shared->span());
    }
    return true;
  }
};


const char* to_string(HandshakeResult r) {
  switch (r) {
    case HandshakeResult::kOk: return "ok";
    case HandshakeResult::kNoIdentity: return "no_identity";
    case HandshakeResult::kUnknownStaticKey: return "unknown_static_key";
    case HandshakeResult::kBadStaticTag: return "bad_static_tag";
    case HandshakeResult::kBadTimestampTag: return "bad_timestamp_tag";
    case HandshakeResult::kStaleTimestamp: return "stale_timestamp";
    case HandshakeResult::kFloodedInitiation: return "flooded_initiation";
    case HandshakeResult::kUnknownReceiver: return "unknown_receiver";
    case HandshakeResult::kWrongState: return "wrong_state";
    case HandshakeResult::kBadResponseTag: return "bad_response_tag";
    case HandshakeResult::kBadPoint: return "bad_point";
  }
  return "unknown";
}

namespace {

std::uint64_t next_generation() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// es, s, ss, {t} of an initiation. `static_static(remote_static, why)` gives DH(S_local, S_remote), or
// nullptr with `why` set when the message must be refused there.
template <typename StaticStatic>
HandshakeResult open_into(const MessageInitiation& msg, const StaticIdentity& local, StaticStatic&& static_static,
                          OpenedInitiation& out) {
  if (!local.has_key) return HandshakeResult::kNoIdentity;
  Symmetric s;
  s.start(local.public_key);
  // e
  std::memcpy(out.remote_ephemeral.data(), msg.ephemeral, kKeyLen);
  s.mix_ephemeral(out.remote_ephemeral);
  // es
  if (!s.mix_dh(local.private_key, out.remote_ephemeral, true)) return HandshakeResult::kBadPoint;
  // s
  if (!s.decrypt_and_hash(out.remote_static, Bytes(msg.encrypted_static))) return HandshakeResult::kBadStaticTag;
  // ss
  HandshakeResult why = HandshakeResult::kOk;
  const Key* ss = static_static(out.remote_static, why);
  if (ss == nullptr) return why;
  s.mix_key_and_key(ss->span());
  // {t}
  if (!s.decrypt_and_hash(out.timestamp, Bytes(msg.encrypted_timestamp))) return HandshakeResult::kBadTimestampTag;
  out.chaining_key = s.ck;
  out.hash = s.h;
  out.remote_index = load_le32(msg.sender);
  return HandshakeResult::kOk;
}

}  // namespace

OpenedInitiation::~OpenedInitiation() {
  sodium_memzero(hash.data(), hash.size());
  sodium_memzero(timestamp.data(), timestamp.size());
  sodium_memzero(remote_ephemeral.data(), remote_ephemeral.size());
}

ResponseWork::~ResponseWork() {
  sodium_memzero(hash.data(), hash.size());
  sodium_memzero(remote_ephemeral.data(), remote_ephemeral.size());
}

void StaticIdentity::set(const Key& priv) {
  private_key = priv;
  public_key = crypto::public_key(priv);
  has_key = !priv.is_zero();
}

Handshake::Handshake(const StaticIdentity& local, const crypto::PublicKey& remote_static, const Key& psk)
    : local_(&local), remote_static_(remote_static), preshared_key_(psk) {
  precompute();
}

void Handshake::precompute() {
  precomputed_ = Precomputed::kPending;
  precomputed_static_static_.wipe();
}

bool Handshake::static_static_ready() {
  if (precomputed_ == Precomputed::kPending) {
    precomputed_ = Precomputed::kBad;
    if (!local_->has_key) {
      precomputed_ = Precomputed::kPending;  // a key set later makes it computable
      return false;
    }
    absl::StatusOr<Key> ss = crypto::dh(local_->private_key, remote_static_);
    if (ss.ok()) {
      precomputed_static_static_ = *ss;
      precomputed_ = Precomputed::kOk;
    }
  }
  return precomputed_ == Precomputed::kOk;
}

void Handshake::commit_created(const Symmetric& s, const Key& ephemeral, std::uint32_t local_index,
                               HandshakeState state) {
  ephemeral_private_ = ephemeral;
  chaining_key_ = s.ck;
  hash_ = s.h;
  local_index_ = local_index;
  state_ = state;
  generation_ = next_generation();
}

void Handshake::clear() {
  state_ = HandshakeState::kZeroed;
  ephemeral_private_.wipe();
  remote_ephemeral_.fill(0);
  chaining_key_.wipe();
  sodium_memzero(hash_.data(), hash_.size());
  remote_index_ = 0;
  generation_ = next_generation();
}

HandshakeResult create_initiation(Handshake& hs, std::uint32_t local_index, const Tai64n& timestamp,
                                  MessageInitiation& out) {
  if (!hs.local_->has_key) return HandshakeResult::kNoIdentity;
  if (!hs.static_static_ready()) return HandshakeResult::kBadPoint;
  Symmetric s;
  s.start(hs.remote_static_);

  // e
  Key ephemeral = crypto::generate_private_key();
  const crypto::PublicKey e_pub = crypto::public_key(ephemeral);
  std::memcpy(out.ephemeral, e_pub.data(), kKeyLen);
  s.mix_ephemeral(e_pub);
  // es
  if (!s.mix_dh(ephemeral, hs.remote_static_, true)) return HandshakeResult::kBadPoint;
  // s
  s.encrypt_and_hash(out.encrypted_static, hs.local_->public_key);
  // ss (precomputed)
  s.mix_key_and_key(hs.precomputed_static_static_.span());
  // {t}
  s.encrypt_and_hash(out.encrypted_timestamp, timestamp);

  put_type(out.header, MessageType::kInitiation);
  store_le32(out.sender, local_index);
  std::memset(out.mac1, 0, kMacLen);  // the cookie layer fills both macs
  std::memset(out.mac2, 0, kMacLen);
  hs.commit_created(s, ephemeral, local_index, HandshakeState::kCreatedInitiation);
  return HandshakeResult::kOk;
}

ConsumedMessage consume_initiation(const MessageInitiation& msg, const StaticIdentity& local,
                                   PeerDirectory& peers, MonoTime now) {
  // Inline, on the peer table's thread: the peer is looked up as soon as its key is decrypted, and its
  // precomputed DH(S_local, S_remote) is used (1 DH here instead of open_initiation's 2).
  Handshake* found = nullptr;
  OpenedInitiation o;
  o.result = open_into(msg, local, [&](const crypto::PublicKey& s_remote, HandshakeResult& why) -> const Key* {
    found = peers.find_by_static_key(s_remote);
    if (found == nullptr) {
      why = HandshakeResult::kUnknownStaticKey;
      return nullptr;
    }
    if (!found->static_static_ready()) {
      why = HandshakeResult::kBadPoint;
      return nullptr;
    }
    return &found->precomputed_static_static_;
  }, o);
  if (o.result != HandshakeResult::kOk) return {o.result, found};
  return accept_initiation(o, peers, now);
}

void open_initiation(const MessageInitiation& msg, const StaticIdentity& local, OpenedInitiation& out) {
  Key ss;
  out.result = open_into(msg, local, [&](const crypto::PublicKey& s_remote, HandshakeResult& why) -> const Key* {
    absl::StatusOr<Key> shared = crypto::dh(local.private_key, s_remote);
    if (!shared.ok()) {
      why = HandshakeResult::kBadPoint;
      return nullptr;
    }
    ss = *shared;
    return &ss;
  }, out);
}

ConsumedMessage accept_initiation(const OpenedInitiation& o, PeerDirectory& peers, MonoTime now) {
  if (o.result != HandshakeResult::kOk) return {o.result, nullptr};
  Handshake* hs = peers.find_by_static_key(o.remote_static);
  if (hs == nullptr) return {HandshakeResult::kUnknownStaticKey, nullptr};
  // Replay guard: a recorded initiation replayed later carries an old timestamp.
  if (!tai64n_after(o.timestamp, hs->latest_timestamp_)) return {HandshakeResult::kStaleTimestamp, hs};
  // Flood guard: a peer may not make us do this work more than 50 times a second.
  if (hs->last_initiation_consumption_ &&
      now - *hs->last_initiation_consumption_ < MonoTime(std::chrono::seconds(1)) / kMaxInitiationsPerSecond) {
    return {HandshakeResult::kFloodedInitiation, hs};
  }

  // Every check passed: commit.
  hs->clear();
  hs->remote_ephemeral_ = o.remote_ephemeral;
  hs->latest_timestamp_ = o.timestamp;
  hs->last_initiation_consumption_ = now;
  hs->chaining_key_ = o.chaining_key;
  hs->hash_ = o.hash;
  hs->remote_index_ = o.remote_index;
  hs->state_ = HandshakeState::kConsumedInitiation;
  hs->generation_ = next_generation();
  return {HandshakeResult::kOk, hs};
}

HandshakeResult prepare_response(const Handshake& hs, std::uint32_t local_index, ResponseWork& out) {
  if (hs.state_ != HandshakeState::kConsumedInitiation) return HandshakeResult::kWrongState;
  out.chaining_key = hs.chaining_key_;
  out.hash = hs.hash_;
  out.remote_ephemeral = hs.remote_ephemeral_;
  out.remote_static = hs.remote_static_;
  out.preshared_key = hs.preshared_key_;
  out.local_index = local_index;
  out.remote_index = hs.remote_index_;
  out.generation = hs.generation_;
  out.result = HandshakeResult::kWrongState;  // until build_response has run
  return HandshakeResult::kOk;
}

void build_response(ResponseWork& w) {
  Symmetric s;
  s.ck = w.chaining_key;
  s.h = w.hash;
  MessageResponse& out = w.message;
  w.result = HandshakeResult::kBadPoint;
  // e
  w.ephemeral_private = crypto::generate_private_key();
  const crypto::PublicKey e_pub = crypto::public_key(w.ephemeral_private);
  std::memcpy(out.ephemeral, e_pub.data(), kKeyLen);
  s.mix_ephemeral(e_pub);
  // ee
  if (!s.mix_dh(w.ephemeral_private, w.remote_ephemeral, false)) return;
  // se
  if (!s.mix_dh(w.ephemeral_private, w.remote_static, false)) return;
  // psk
  s.mix_psk(w.preshared_key);
  // {}
  s.encrypt_and_hash(out.encrypted_nothing, Bytes());

  put_type(out.header, MessageType::kResponse);
  store_le32(out.sender, w.local_index);
  store_le32(out.receiver, w.remote_index);
  std::memset(out.mac1, 0, kMacLen);
  std::memset(out.mac2, 0, kMacLen);
  w.chaining_key = s.ck;
  w.hash = s.h;
  w.result = HandshakeResult::kOk;
}

HandshakeResult commit_response(Handshake& hs, const ResponseWork& w) {
  if (w.result != HandshakeResult::kOk) return w.result;
  if (hs.state_ != HandshakeState::kConsumedInitiation || hs.generation_ != w.generation) {
    return HandshakeResult::kWrongState;
  }
  hs.ephemeral_private_ = w.ephemeral_private;
  hs.chaining_key_ = w.chaining_key;
  hs.hash_ = w.hash;
  hs.local_index_ = w.local_index;
  hs.state_ = HandshakeState::kCreatedResponse;
  hs.generation_ = next_generation();
  return HandshakeResult::kOk;
}

HandshakeResult create_response(Handshake& hs, std::uint32_t local_index, MessageResponse& out) {
  ResponseWork w;
  if (const HandshakeResult r = prepare_response(hs, local_index, w); r != HandshakeResult::kOk) return r;
  build_response(w);
  if (const HandshakeResult r = commit_response(hs, w); r != HandshakeResult::kOk) return r;
  out = w.message;
  return HandshakeResult::kOk;
}

ConsumedMessage consume_response(const MessageResponse& msg, const StaticIdentity& local,
                                 PeerDirectory& peers) {
  if (!local.has_key) return {HandshakeResult::kNoIdentity, nullptr};
  Handshake* hs = peers.find_by_local_index(load_le32(msg.receiver));
  if (hs == nullptr) return {HandshakeResult::kUnknownReceiver, nullptr};
  if (hs->state_ != HandshakeState::kCreatedInitiation || hs->local_index_ != load_le32(msg.receiver)) {
    return {HandshakeResult::kWrongState, hs};
  }
  Symmetric s;
  s.ck = hs->chaining_key_;
  s.h = hs->hash_;

  // e
  crypto::PublicKey e_remote;
  std::memcpy(e_remote.data(), msg.ephemeral, kKeyLen);
  s.mix_ephemeral(e_remote);
  // ee
  if (!s.mix_dh(hs->ephemeral_private_, e_remote, false)) return {HandshakeResult::kBadPoint, hs};
  // se
  if (!s.mix_dh(local.private_key, e_remote, false)) return {HandshakeResult::kBadPoint, hs};
  // psk
  s.mix_psk(hs->preshared_key_);
  // {}
  if (!s.decrypt_and_hash(std::span<std::uint8_t>(), Bytes(msg.encrypted_nothing))) {
    return {HandshakeResult::kBadResponseTag, hs};
  }

  // Commit.
  hs->remote_ephemeral_ = e_remote;
  hs->chaining_key_ = s.ck;
  hs->hash_ = s.h;
  hs->remote_index_ = load_le32(msg.sender);
  hs->state_ = HandshakeState::kConsumedResponse;
  hs->generation_ = next_generation();
  return {HandshakeResult::kOk, hs};
}

KeypairPtr begin_session(Handshake& hs, MonoTime now) {
  const bool initiator = hs.state_ == HandshakeState::kConsumedResponse;
  if (!initiator && hs.state_ != HandshakeState::kCreatedResponse) return nullptr;
  auto kp = std::make_unique<Keypair>();
  // T_send_i, T_recv_i = Kdf2(C, e); the responder's directions are the reverse.
  if (initiator) {
    crypto::kdf2(kp->sending, kp->receiving, hs.chaining_key_, Bytes());
  } else {
    crypto::kdf2(kp->receiving, kp->sending, hs.chaining_key_, Bytes());
  }
  kp->local_index = hs.local_index_;
  kp->remote_index = hs.remote_index_;
  kp->created = now;
  kp->i_am_initiator = initiator;
  hs.clear();
  return kp;
}

}  // namespace wg::noise
