#include "lib/crypto/engine_ipsecmb.h"

#include <intel-ipsec-mb.h>
#include <sodium/utils.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/crypto/aead.h"
#include "lib/crypto/secret.h"

namespace wg::crypto {
namespace {

constexpr std::uint64_t kKeyBytes = 32;

const char* arch_name(IMB_ARCH arch) {
  switch (arch) {
    case IMB_ARCH_NOAESNI: return "no-aesni";
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "none";
  }
}

struct MgrDeleter {
  void operator()(IMB_MGR* mgr) const { free_mb_mgr(mgr); }
};
using MgrPtr = std::unique_ptr<IMB_MGR, MgrDeleter>;

class IpsecMbEngine final : public AeadBatchEngine {
 public:
  IpsecMbEngine(MgrPtr mgr, IMB_ARCH arch)
      : mgr_(std::move(mgr)),
        description_(absl::StrCat("ipsec-mb ", imb_get_version_str(), " (", arch_name(arch), ")")) {}

  const char* name() const override { return "ipsec-mb"; }
  std::string_view description() const override { return description_; }
  std::size_t seal(std::span<AeadJob> jobs) override { return run(jobs, IMB_DIR_ENCRYPT); }
  std::size_t open(std::span<AeadJob> jobs) override { return run(jobs, IMB_DIR_DECRYPT); }

 private:
  std::size_t run(std::span<AeadJob> jobs, IMB_CIPHER_DIRECTION dir);
  std::size_t run_chunk(std::span<AeadJob> jobs, IMB_CIPHER_DIRECTION dir);
  void fill(IMB_JOB* imb, AeadJob& job, std::size_t slot, IMB_CIPHER_DIRECTION dir);
  static bool finish(const IMB_JOB* done);

  MgrPtr mgr_;
  std::string description_;
  // Per-slot scratch the manager reads or writes until the chunk is flushed: each job's nonce and, for
  // open, the tag the library computed (compared with the packet's tag once the job completes).
  alignas(64) std::array<std::array<std::uint8_t, 12>, kMaxBatch> nonces_{};
  alignas(64) std::array<std::array<std::uint8_t, kTagSize>, kMaxBatch> computed_tags_{};
};

std::size_t IpsecMbEngine::run(std::span<AeadJob> jobs, IMB_CIPHER_DIRECTION dir) {
  std::size_t failed = 0;
  while (!jobs.empty()) {
    const std::size_t n = std::min(jobs.size(), kMaxBatch);
    failed += run_chunk(jobs.first(n), dir);
    jobs = jobs.subspan(n);
  }
  return failed;
}

std::size_t IpsecMbEngine::run_chunk(std::span<AeadJob> jobs, IMB_CIPHER_DIRECTION dir) {
  IMB_MGR* mgr = mgr_.get();
  std::size_t failed = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    fill(IMB_GET_NEXT_JOB(mgr), jobs[i], i, dir);
    // Jobs complete in submission order: the one submit returns, then any others already done. On AVX2
    // ChaCha20-Poly1305 completes inside submit; the AVX-512 path may hold jobs back to fill its lanes.
    for (const IMB_JOB* done = IMB_SUBMIT_JOB(mgr); done != nullptr; done = IMB_GET_COMPLETED_JOB(mgr)) {
      failed += finish(done) ? 0 : 1;
    }
  }
  // The next chunk reuses the scratch slots, so nothing may stay in flight.
  while (const IMB_JOB* done = IMB_FLUSH_JOB(mgr)) failed += finish(done) ? 0 : 1;
  return failed;
}

void IpsecMbEngine::fill(IMB_JOB* imb, AeadJob& job, std::size_t slot, IMB_CIPHER_DIRECTION dir) {
  job.ok = false;
  nonces_[slot] = nonce_for_counter(job.counter);
  // The library refuses null buffers even for 0 bytes; a keepalive may come without a payload pointer.
  std::uint8_t* data = job.data != nullptr ? job.data : job.tag;

  imb->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
  imb->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
  imb->cipher_direction = dir;
  // An AEAD runs both halves in one pass whatever the order; these are the orders the library documents.
  imb->chain_order = dir == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  imb->enc_keys = job.key;  // ChaCha20 takes the raw 32-byte key: no key schedule to precompute
  imb->dec_keys = job.key;
  imb->key_len_in_bytes = kKeyBytes;
  imb->src = data;
  imb->dst = data;
  imb->cipher_start_src_offset_in_bytes = 0;
  imb->msg_len_to_cipher_in_bytes = job.len;
  imb->hash_start_src_offset_in_bytes = 0;
  imb->msg_len_to_hash_in_bytes = job.len;
  imb->iv = nonces_[slot].data();
  imb->iv_len_in_bytes = nonces_[slot].size();
  // Seal writes the packet's tag directly; open gets the computed tag in scratch, to compare in finish().
  imb->auth_tag_output = dir == IMB_DIR_ENCRYPT ? job.tag : computed_tags_[slot].data();
  imb->auth_tag_output_len_in_bytes = kTagSize;
  imb->u.CHACHA20_POLY1305.aad = nullptr;
  imb->u.CHACHA20_POLY1305.aad_len_in_bytes = 0;
  imb->u.CHACHA20_POLY1305.ctx = nullptr;  // only the SGL variant keeps a context
  imb->user_data = &job;
}

bool IpsecMbEngine::finish(const IMB_JOB* done) {
  AeadJob& job = *static_cast<AeadJob*>(done->user_data);
  bool ok = done->status == IMB_STATUS_COMPLETED;
  if (done->cipher_direction == IMB_DIR_DECRYPT) {
    ok = ok && equal_ct(std::span<const std::uint8_t>(done->auth_tag_output, kTagSize),
                        std::span<const std::uint8_t>(job.tag, kTagSize));
    // The payload now holds the decryption of a forged or damaged ciphertext: wipe it, as libsodium does,
    // so no unauthenticated plaintext survives even if a caller forgets to drop it. Costs only forgeries.
    if (!ok && job.data != nullptr && job.len != 0) sodium_memzero(job.data, job.len);
  }
  job.ok = ok;
  return ok;
}

// One packet through this engine and through libsodium (lib/crypto/aead.h): catches a library whose
// semantics differ from what the job setup above assumes before "auto" commits the data path to it.
absl::Status cross_check(AeadBatchEngine& engine) {
  constexpr std::uint32_t kLen = 100;  // several Poly1305 blocks and a partial one
  constexpr std::uint64_t kCounter = 0x0807060504030201;
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0x80 + i);
  std::array<std::uint8_t, kLen + kTagSize> buf{};
  for (std::size_t i = 0; i < kLen; ++i) buf[i] = static_cast<std::uint8_t>(i * 7);
  const auto plaintext = buf;
  auto want = buf;
  seal(want, Key(key), kCounter, std::span(want).first(kLen), {});

  AeadJob job{key.data(), kCounter, buf.data(), kLen, buf.data() + kLen, false};
  if (engine.seal({&job, 1}) != 0 || buf != want) {
    return absl::InternalError("IPsec-MB: ChaCha20-Poly1305 output differs from libsodium's");
  }
  if (engine.open({&job, 1}) != 0 || !std::equal(buf.begin(), buf.begin() + kLen, plaintext.begin())) {
    return absl::InternalError("IPsec-MB: ChaCha20-Poly1305 does not open what it sealed");
  }
  want[kLen] ^= 1;
  job.data = want.data();
  job.tag = want.data() + kLen;
  if (engine.open({&job, 1}) != 1) {
    return absl::InternalError("IPsec-MB: ChaCha20-Poly1305 accepted a wrong tag");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AeadBatchEngine>> make_ipsecmb_engine() {
  // The job structure and manager layout are ABI: a runtime older than our headers may lack fields we set.
  if (imb_get_version() < IMB_VERSION_NUM) {
    return absl::FailedPreconditionError(absl::StrCat("IPsec-MB: runtime library ", imb_get_version_str(),
                                                      " is older than the headers (", IMB_VERSION_STR,
                                                      ") wggate was built with"));
  }
  MgrPtr mgr(alloc_mb_mgr(0));
  if (mgr == nullptr) return absl::ResourceExhaustedError("IPsec-MB: cannot allocate a job manager");
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(mgr.get(), &arch);
  if (const int err = imb_get_errno(mgr.get()); err != 0 || arch == IMB_ARCH_NONE) {
    return absl::FailedPreconditionError(absl::StrCat("IPsec-MB: no usable code path for this CPU",
                                                      err != 0 ? ": " : "",
                                                      err != 0 ? imb_get_strerror(err) : ""));
  }
  if ((mgr->features & IMB_FEATURE_SELF_TEST) != 0 && (mgr->features & IMB_FEATURE_SELF_TEST_PASS) == 0) {
    return absl::FailedPreconditionError("IPsec-MB: the library's self-test failed");
  }
  auto engine = std::make_unique<IpsecMbEngine>(std::move(mgr), arch);
  if (absl::Status s = cross_check(*engine); !s.ok()) return s;
  return engine;
}

}  // namespace wg::crypto
