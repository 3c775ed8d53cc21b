// Noise_IKpsk2 as WireGuard uses it (WireGuard paper, section 5.4.2-5.4.4): the handshake state of one peer
// and the create/consume pairs that move it. Each consume works on a copy of the state and commits only when
// every check has passed, so a bad message never changes anything. Ephemeral keys and chaining keys are
// wiped when the session begins or the handshake is abandoned.
//
// mac1/mac2 are not handled here: the cookie module (cookie.h) adds and checks them around these calls.
// Peers are reached only through PeerDirectory, which the control plane's peer table implements.
#pragma once

#include <cstdint>
#include <optional>

#include "lib/crypto/blake2s.h"
#include "lib/crypto/secret.h"
#include "lib/crypto/x25519.h"
#include "lib/protocol/keypair.h"
#include "lib/protocol/messages.h"
#include "lib/protocol/tai64n.h"
#include "lib/util/clock.h"

namespace wg::noise {

enum class HandshakeState : std::uint8_t {
  kZeroed,
  kCreatedInitiation,
  kConsumedInitiation,
  kCreatedResponse,
  kConsumedResponse,
};

// Why a handshake message was refused; each maps to a counter in the control plane.
enum class HandshakeResult : std::uint8_t {
  kOk,
  kNoIdentity,         // we have no private key
  kUnknownStaticKey,   // initiation from a public key that is not a configured peer
  kBadStaticTag,       // initiation's encrypted static key does not decrypt: not for us, or corrupted
  kBadTimestampTag,    // initiation's timestamp does not decrypt
  kStaleTimestamp,     // timestamp not newer than the last accepted one: a replayed initiation
  kFloodedInitiation,  // more than kMaxInitiationsPerSecond from this peer
  kUnknownReceiver,    // response for an index we did not hand out
  kWrongState,         // response when no initiation is outstanding, or session without a handshake
  kBadResponseTag,     // response does not authenticate: wrong preshared key, or corrupted
  kBadPoint,           // a DH produced the all-zero secret (low-order point)
};
const char* to_string(HandshakeResult r);

class Handshake;
class PeerDirectory;
struct Symmetric;
struct ConsumedMessage;
struct OpenedInitiation;
struct ResponseWork;

// The device's own static key pair.
struct StaticIdentity {
  crypto::Key private_key;
  crypto::PublicKey public_key{};
  bool has_key = false;

  void set(const crypto::Key& priv);
};

// Per-peer handshake state. The peer table owns one per peer.
class Handshake {
 public:
  Handshake(const StaticIdentity& local, const crypto::PublicKey& remote_static, const crypto::Key& psk);
  // Forgets DH(S_local, S_remote), to be computed again at its next use; call after the local private key
  // changes. It is computed when a handshake first needs it, not when the peer is made: a gateway adding
  // 100,000 peers at start (or 10,000 in one `wg set`) does not pay an X25519 for each of them there.
  void precompute();
  void set_preshared_key(const crypto::Key& psk) { preshared_key_ = psk; }
  // Forgets the in-flight handshake and wipes its secrets; keeps identities and the replay timestamp.
  void clear();

  HandshakeState state() const { return state_; }
  // Unique across all handshakes of the process and changed by every step that moves this one: a response
  // built on another thread is committed only if nothing happened to the handshake meanwhile.
  std::uint64_t generation() const { return generation_; }
  const crypto::PublicKey& remote_static() const { return remote_static_; }
  std::uint32_t local_index() const { return local_index_; }
  std::uint32_t remote_index() const { return remote_index_; }

 private:
  friend HandshakeResult create_initiation(Handshake&, std::uint32_t, const Tai64n&, MessageInitiation&);
  friend ConsumedMessage consume_initiation(const MessageInitiation&, const StaticIdentity&, PeerDirectory&,
                                            MonoTime);
  friend ConsumedMessage consume_response(const MessageResponse&, const StaticIdentity&, PeerDirectory&);
  friend HandshakeResult create_response(Handshake&, std::uint32_t, MessageResponse&);
  friend KeypairPtr begin_session(Handshake&, MonoTime);
  friend ConsumedMessage accept_initiation(const OpenedInitiation&, PeerDirectory&, MonoTime);
  friend HandshakeResult prepare_response(const Handshake&, std::uint32_t, ResponseWork&);
  friend HandshakeResult commit_response(Handshake&, const ResponseWork&);

  // Stores the state a create_* step produced.
  void commit_created(const Symmetric& s, const crypto::Key& ephemeral, std::uint32_t local_index,
                      HandshakeState state);

  const StaticIdentity* local_;
  crypto::PublicKey remote_static_;
  crypto::Key preshared_key_;
  // DH(S_local, S_remote) once computed; false when it cannot be (no local key, a bad point).
  bool static_static_ready();
  crypto::Key precomputed_static_static_;
  enum class Precomputed : std::uint8_t { kPending, kOk, kBad };
  Precomputed precomputed_ = Precomputed::kPending;

  HandshakeState state_ = HandshakeState::kZeroed;
  crypto::Key ephemeral_private_;
  crypto::PublicKey remote_ephemeral_{};
  crypto::Key chaining_key_;
  crypto::Hash hash_{};
  std::uint32_t local_index_ = 0;
  std::uint32_t remote_index_ = 0;
  std::uint64_t generation_ = 0;
  Tai64n latest_timestamp_{};
  std::optional<MonoTime> last_initiation_consumption_;
};

// The narrow view of the peer table that consuming messages needs.
class PeerDirectory {
 public:
  virtual ~PeerDirectory() = default;
  virtual Handshake* find_by_static_key(const crypto::PublicKey& key) = 0;
  virtual Handshake* find_by_local_index(std::uint32_t local_index) = 0;
};

// Initiator: builds an initiation with `timestamp` (tai64n_now() outside tests), sender = local_index.
[[nodiscard]] HandshakeResult create_initiation(Handshake& hs, std::uint32_t local_index,
                                                const Tai64n& timestamp, MessageInitiation& out);

struct ConsumedMessage {
  HandshakeResult result;
  Handshake* handshake;  // the peer's state when result is kOk (and for some refusals), else nullptr
};

// Responder: authenticates an initiation and finds its peer. `now` drives the flood guard.
[[nodiscard]] ConsumedMessage consume_initiation(const MessageInitiation& msg, const StaticIdentity& local,
                                                 PeerDirectory& peers, MonoTime now);
// Responder: answers a consumed initiation, sender = local_index.
[[nodiscard]] HandshakeResult create_response(Handshake& hs, std::uint32_t local_index,
                                              MessageResponse& out);
// Initiator: authenticates a response to our outstanding initiation.
[[nodiscard]] ConsumedMessage consume_response(const MessageResponse& msg, const StaticIdentity& local,
                                               PeerDirectory& peers);
// --- The responder in steps that can run apart --------------------------------------------------------------
// consume_initiation + create_response, cut where the peer table is needed, so that the control plane can run
// the DH-heavy steps (open, build) on handshake threads and the two that read or change handshake state
// (accept, commit) on its own thread. Each step's output is all the next one needs; the structs wipe their
// secrets when destroyed.

// Step 1, any thread: es, s, ss, {t}. DH(S_local, S_remote) is computed here (2 DH in all), as no per-peer
// state is at hand; the peer is not known to be configured until step 2.
struct OpenedInitiation {
  HandshakeResult result = HandshakeResult::kNoIdentity;
  crypto::PublicKey remote_static{};
  crypto::PublicKey remote_ephemeral{};
  Tai64n timestamp{};
  crypto::Key chaining_key;
  crypto::Hash hash{};
  std::uint32_t remote_index = 0;
  ~OpenedInitiation();
};
void open_initiation(const MessageInitiation& msg, const StaticIdentity& local, OpenedInitiation& out);
// Step 2, the peer table's thread: finds the peer, applies the replay and flood guards, commits (as
// consume_initiation does after its DH).
[[nodiscard]] ConsumedMessage accept_initiation(const OpenedInitiation& opened, PeerDirectory& peers, MonoTime now);

// Steps 3 and 4: the response.
struct ResponseWork {
  // Copied from the consumed handshake by prepare_response.
  crypto::Key chaining_key;
  crypto::Hash hash{};
  crypto::PublicKey remote_ephemeral{};
  crypto::PublicKey remote_static{};
  crypto::Key preshared_key;
  std::uint32_t local_index = 0;
  std::uint32_t remote_index = 0;
  std::uint64_t generation = 0;
  // Written by build_response.
  HandshakeResult result = HandshakeResult::kWrongState;
  crypto::Key ephemeral_private;
  MessageResponse message{};
  ~ResponseWork();
};
// Step 3a, the peer table's thread: copies what building the response needs; kWrongState unless consumed.
[[nodiscard]] HandshakeResult prepare_response(const Handshake& hs, std::uint32_t local_index, ResponseWork& out);
// Step 3b, any thread: e, ee, se, psk, {} (a fresh ephemeral key and 2 DH); sets work.result.
void build_response(ResponseWork& work);
// Step 4, the peer table's thread: stores the built response's state, unless the handshake moved on since
// prepare_response (another initiation accepted, cleared, another peer in the slot): then kWrongState.
[[nodiscard]] HandshakeResult commit_response(Handshake& hs, const ResponseWork& work);

// Both: derives the transport keypair from a completed handshake and wipes the handshake. nullptr when the
// handshake is not in kCreatedResponse (responder) or kConsumedResponse (initiator).
[[nodiscard]] KeypairPtr begin_session(Handshake& hs, MonoTime now);

}  // namespace wg::noise
