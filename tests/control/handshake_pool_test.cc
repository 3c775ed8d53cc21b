// HandshakePool: real initiations opened and responses built on K threads (K = 0, 1, 2, 4), answered in any
// order; every job comes back once, the slots are bounded and reusable, the work is spread over the threads,
// the secrets of a released job are wiped, and the destructor stops threads that sleep or work.
#include "control/handshake_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "tests/lib/protocol/test_peers.h"

namespace wg::ctl {
namespace {

using noise::testing::TestDevice;

noise::Tai64n ts(int s) {
  return noise::tai64n_from(std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000 + s)));
}

// Polls until `want` jobs came back (bounded: 30 s), returning them.
std::vector<HandshakeJob*> collect(HandshakePool& pool, std::size_t want) {
  std::vector<HandshakeJob*> got;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got.size() < want && std::chrono::steady_clock::now() < end) {
    HandshakeJob* batch[64];
    const unsigned n = pool.poll(batch, 64);
    got.insert(got.end(), batch, batch + n);
    if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return got;
}

class HandshakePoolTest : public ::testing::TestWithParam<unsigned> {};

TEST_P(HandshakePoolTest, OpensAndBuildsRealHandshakes) {
  const unsigned k = GetParam();
  constexpr int kPeers = 40;
  TestDevice resp;
  std::vector<std::unique_ptr<TestDevice>> inis;
  std::vector<noise::Handshake*> ini_hs;
  for (int i = 0; i < kPeers; ++i) {
    inis.push_back(std::make_unique<TestDevice>());
    ini_hs.push_back(&inis.back()->add_peer(resp.identity.public_key));
    resp.add_peer(inis.back()->identity.public_key);
  }
  HandshakePool pool(k);
  EXPECT_EQ(pool.threads(), k);
  // Step 1 on the threads.
  for (int i = 0; i < kPeers; ++i) {
    HandshakeJob* j = pool.acquire();
    ASSERT_NE(j, nullptr);
    j->step = HandshakeJob::Step::kOpen;
    ASSERT_EQ(noise::create_initiation(*ini_hs[i], 1000 + i, ts(1), j->initiation), noise::HandshakeResult::kOk);
    j->identity = resp.identity;
    j->peer = static_cast<std::uint32_t>(i);
    pool.submit(j);
  }
  EXPECT_EQ(pool.in_flight(), static_cast<std::size_t>(kPeers));
  std::vector<HandshakeJob*> opened = collect(pool, kPeers);
  ASSERT_EQ(opened.size(), static_cast<std::size_t>(kPeers));
  // Steps 2 and 3a here, 3b on the threads, in the same slots.
  for (HandshakeJob* j : opened) {
    ASSERT_EQ(j->opened.result, noise::HandshakeResult::kOk);
    const noise::ConsumedMessage c = noise::accept_initiation(j->opened, resp, MonoTime(0));
    ASSERT_EQ(c.result, noise::HandshakeResult::kOk);
    ASSERT_EQ(noise::prepare_response(*c.handshake, 5000 + j->peer, j->response), noise::HandshakeResult::kOk);
    j->step = HandshakeJob::Step::kBuild;
    pool.submit(j);
  }
  std::vector<HandshakeJob*> built = collect(pool, kPeers);
  ASSERT_EQ(built.size(), static_cast<std::size_t>(kPeers));
  std::set<std::uint32_t> seen;
  for (HandshakeJob* j : built) {
    EXPECT_TRUE(seen.insert(j->peer).second) << "a job came back twice";
    noise::Handshake* hs = resp.find_by_static_key(inis[j->peer]->identity.public_key);
    ASSERT_EQ(noise::commit_response(*hs, j->response), noise::HandshakeResult::kOk);
    // The initiator accepts the response built on another thread, and the keys agree.
    TestDevice& ini = *inis[j->peer];
    ini.by_index[1000 + j->peer] = ini_hs[j->peer];
    ASSERT_EQ(noise::consume_response(j->response.message, ini.identity, ini).result, noise::HandshakeResult::kOk);
    noise::KeypairPtr a = noise::begin_session(*ini_hs[j->peer], MonoTime(0));
    noise::KeypairPtr b = noise::begin_session(*hs, MonoTime(0));
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->sending == b->receiving);
    pool.release(j);
  }
  EXPECT_EQ(pool.in_flight(), 0u);
  std::uint64_t runs = 0;
  for (unsigned t = 0; t < k; ++t) runs += pool.jobs_run(t);
  if (k > 0) {
    EXPECT_EQ(runs, 2u * kPeers);
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, HandshakePoolTest, ::testing::Values(0u, 1u, 2u, 4u));

TEST(HandshakePool, SlotsAreBoundedAndWipedOnRelease) {
  HandshakePool pool(2);
  std::vector<HandshakeJob*> all;
  for (std::size_t i = 0; i < HandshakePool::kSlots; ++i) {
    HandshakeJob* j = pool.acquire();
    ASSERT_NE(j, nullptr);
    all.push_back(j);
  }
  EXPECT_EQ(pool.acquire(), nullptr) << "more than kSlots handshakes in flight";
  EXPECT_EQ(pool.in_flight(), HandshakePool::kSlots);
  // Every slot submitted at once (an all-zero message: its ephemeral key is a low-order point, refused at the
  // first DH) comes back once.
  TestDevice resp;
  for (HandshakeJob* j : all) {
    j->step = HandshakeJob::Step::kOpen;
    j->identity = resp.identity;
    pool.submit(j);
  }
  std::vector<HandshakeJob*> back = collect(pool, all.size());
  ASSERT_EQ(back.size(), all.size());
  EXPECT_EQ(std::set<HandshakeJob*>(back.begin(), back.end()).size(), all.size());
  for (HandshakeJob* j : back) EXPECT_EQ(j->opened.result, noise::HandshakeResult::kBadPoint);
  HandshakeJob* j = back[0];
  for (HandshakeJob* b : back) pool.release(b);
  EXPECT_TRUE(j->identity.private_key.is_zero()) << "released job kept the private key";
  EXPECT_TRUE(j->opened.chaining_key.is_zero());
  EXPECT_EQ(pool.in_flight(), 0u);
  EXPECT_NE(pool.acquire(), nullptr);
}

TEST(HandshakePool, WorkIsSpreadOverTheThreads) {
  // Rounds of 200 opens (2 DH each) on 2 threads until both have taken some: one thread can empty a round
  // alone only if the machine gives the other no CPU meanwhile (unit tests run in parallel), not 20 times.
  TestDevice resp;
  TestDevice ini;
  noise::Handshake& hs = ini.add_peer(resp.identity.public_key);
  HandshakePool pool(2);
  int t = 0;
  for (int round = 0; round < 20 && (pool.jobs_run(0) == 0 || pool.jobs_run(1) == 0); ++round) {
    for (int i = 0; i < 200; ++i) {
      HandshakeJob* j = pool.acquire();
      ASSERT_NE(j, nullptr);
      j->step = HandshakeJob::Step::kOpen;
      ASSERT_EQ(noise::create_initiation(hs, 1, ts(++t), j->initiation), noise::HandshakeResult::kOk);
      j->identity = resp.identity;
      pool.submit(j);
    }
    std::vector<HandshakeJob*> back = collect(pool, 200);
    ASSERT_EQ(back.size(), 200u);
    for (HandshakeJob* j : back) {
      EXPECT_EQ(j->opened.result, noise::HandshakeResult::kOk);
      pool.release(j);
    }
  }
  EXPECT_GT(pool.jobs_run(0), 0u);
  EXPECT_GT(pool.jobs_run(1), 0u);
  EXPECT_EQ((pool.jobs_run(0) + pool.jobs_run(1)) % 200, 0u);
}

TEST(HandshakePool, DestructorStopsSleepingAndBusyThreads) {
  { HandshakePool idle(4); }  // all asleep: must wake and join
  TestDevice resp;
  HandshakePool busy(2);
  for (int i = 0; i < 64; ++i) {
    HandshakeJob* j = busy.acquire();
    j->identity = resp.identity;
    busy.submit(j);
  }
  // Destroyed with jobs queued, running and done: joins without waiting for control.
}

}  // namespace
}  // namespace wg::ctl
