// Handshake messages on the control thread: mac1 (and mac2 under load) first, then the Noise step, then
// keypair publication. Also the control thread's own transport sends: staged packets and keepalives.
// With handshake threads (HandshakeThreads >= 1), an initiation's two DH-heavy steps run there:
//   handle_handshake (gate) -> job kOpen -> [thread: open_initiation] -> opened(): accept, index,
//   prepare_response -> job kBuild -> [thread: build_response] -> built(): commit, keypair published,
//   response sent.
// Responses to our own initiations, and our initiations, stay here: their number is bounded by our own
// timers (one per peer per REKEY_TIMEOUT), not by what arrives.
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstring>

#include "control/control_plane.h"
#include "control/log.h"
#include "dataplane/packet.h"
#include "lib/protocol/tai64n.h"
#include "lib/protocol/transport.h"

namespace wg::ctl {
namespace {

struct UdpView {
  net::Endpoint src;
  std::span<std::uint8_t> payload;
  noise::CookieSource cookie_src;
};

// The worker checked the outer headers and the message's class already; this only locates them.
bool locate(rte_mbuf* m, UdpView& v) {
  auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
  const std::uint8_t* l3 = frame + dp::kEthLen;
  const auto ip = dp::parse_inner_ip(l3, m->data_len - dp::kEthLen);
  if (ip.family == 0) return false;
  const std::uint16_t l3_len = ip.family == 4 ? static_cast<std::uint16_t>((l3[0] & 0x0f) * 4) : dp::kIpv6Len;
  if (ip.len < l3_len + dp::kUdpLen) return false;
  const std::uint8_t* udp = l3 + l3_len;
  const std::uint16_t udp_len = static_cast<std::uint16_t>(udp[4] << 8 | udp[5]);
  if (udp_len < dp::kUdpLen || udp_len > ip.len - l3_len) return false;
  std::uint16_t port_be;
  std::memcpy(&port_be, udp, 2);
  v.src.port = rte_be_to_cpu_16(port_be);
  v.src.addr = net::IpAddress::from_bytes(ip.family, ip.src);
  v.cookie_src = ip.family == 4 ? noise::cookie_source_v4(v.src.addr.v4_be(), port_be)
                                : noise::cookie_source_v6(ip.src, port_be);
  v.payload = std::span<std::uint8_t>(const_cast<std::uint8_t*>(udp) + dp::kUdpLen, udp_len - dp::kUdpLen);
  return true;
}

}  // namespace

bool ControlPlane::handle_handshake(rte_mbuf* m, MonoTime now) {
  UdpView v;
  if (!locate(m, v)) {  // cannot happen: the worker checked the same headers before handing it over
    rte_pktmbuf_free(m);
    return false;
  }
  const noise::MessageClass cls = noise::classify_message(v.payload.data(), v.payload.size());
  if (cls == noise::MessageClass::kInitiation || cls == noise::MessageClass::kResponse) {
    noise::MessageCookieReply reply;
    const HandshakeGate::Decision d = gate_.admit(v.payload, v.src.addr, v.cookie_src, now, reply);
    if (d.verdict != HandshakeGate::Verdict::kProcess) {
      counters_.add_rejected(d.reason);
      // The sender just reached us, so its next hop is normally known; if not, the reply is simply not sent.
      if (d.verdict == HandshakeGate::Verdict::kCookieReply &&
          send_udp(v.src, {reinterpret_cast<const std::uint8_t*>(&reply), sizeof(reply)})) {
        counters_.add(CtlCounter::cookie_replies_sent);
      }
      rte_pktmbuf_free(m);
      return false;
    }
  }

  if (cls == noise::MessageClass::kInitiation && hs_pool_) {
    // The callers take a message only while a slot is free; should none be, it is refused and counted.
    HandshakeJob* job = hs_pool_->acquire();
    if (job == nullptr) {
      counters_.add_rejected(HandshakeReject::threads_busy);
      rte_pktmbuf_free(m);
      return false;
    }
    job->step = HandshakeJob::Step::kOpen;
    std::memcpy(&job->initiation, v.payload.data(), sizeof(job->initiation));
    job->identity = identity_;
    job->src = v.src;
    rte_pktmbuf_free(m);
    hs_pool_->submit(job);
    return false;  // no DH here
  }
  if (cls == noise::MessageClass::kInitiation) {
    noise::MessageInitiation msg;
    std::memcpy(&msg, v.payload.data(), sizeof(msg));
    rte_pktmbuf_free(m);
    const noise::ConsumedMessage c = noise::consume_initiation(msg, identity_, peers_, now);
    if (c.result != noise::HandshakeResult::kOk) {
      counters_.add_rejected(c.result);
      log_event("initiation from %s refused: %s", v.src.to_string().c_str(), noise::to_string(c.result));
      return true;
    }
    Peer* p = initiation_accepted(c.handshake, v.src, now);
    noise::MessageResponse resp;
    if (noise::create_response(p->handshake, p->handshake_index, resp) != noise::HandshakeResult::kOk) return true;
    respond(*p, resp, now);
    return true;
  }
  if (cls == noise::MessageClass::kResponse) {
    noise::MessageResponse msg;
    std::memcpy(&msg, v.payload.data(), sizeof(msg));
    rte_pktmbuf_free(m);
    const noise::ConsumedMessage c = noise::consume_response(msg, identity_, peers_);
    if (c.result != noise::HandshakeResult::kOk) {
      counters_.add_rejected(c.result);
      log_event("response from %s refused: %s", v.src.to_string().c_str(), noise::to_string(c.result));
      return true;
    }
    log_event("response from %s accepted: session established", v.src.to_string().c_str());
    Peer* p = peers_.peer_of(c.handshake);
    p->timers.on_any_authenticated_packet_received(now);
    touch(*p);
    if (!p->endpoint || *p->endpoint != v.src) {
      p->endpoint = v.src;
      publish_route(*p);
    }
    noise::KeypairPtr kp = noise::begin_session(p->handshake, now);
    p->handshake_index = 0;
    p->timers.on_handshake_complete(now);
    session_ready(*p, std::move(kp), now);
    return true;
  }
  if (cls == noise::MessageClass::kCookieReply) {
    noise::MessageCookieReply msg;
    std::memcpy(&msg, v.payload.data(), sizeof(msg));
    rte_pktmbuf_free(m);
    Peer* p = peers_.peer_for_index(noise::load_le32(msg.receiver));
    // The retry timer resends with mac2.
    if (p != nullptr && p->cookie.consume_reply(msg, now) == noise::CookieReplyResult::kOk) {
      counters_.add(CtlCounter::cookie_replies_received);
    } else {
      counters_.add_rejected(HandshakeReject::bad_cookie_reply);
    }
    return false;  // no DH
  }
  rte_pktmbuf_free(m);
  return false;
}

Peer* ControlPlane::initiation_accepted(noise::Handshake* hs, const net::Endpoint& src, MonoTime now) {
  log_event("initiation from %s accepted", src.to_string().c_str());
  Peer* p = peers_.peer_of(hs);
  p->timers.on_any_authenticated_packet_received(now);
  touch(*p);
  if (!p->endpoint || *p->endpoint != src) {
    p->endpoint = src;  // roaming: answer where it came from
    publish_route(*p);
  }
  if (p->handshake_index != 0) peers_.release_index(p->handshake_index);
  p->handshake_index = peers_.allocate_index(*p);
  return p;
}

void ControlPlane::respond(Peer& p, noise::MessageResponse resp, MonoTime now) {
  // The keypair is published before the response leaves: the initiator may send its first data packet
  // the moment the response arrives (a LAN peer answers in tens of microseconds), and a worker must
  // already find the keypair by its index, or that packet is lost as unknown.
  noise::KeypairPtr kp = noise::begin_session(p.handshake, now);
  p.handshake_index = 0;  // the index now belongs to the keypair
  session_ready(p, std::move(kp), now);
  send_handshake_message(p, {reinterpret_cast<std::uint8_t*>(&resp), sizeof(resp)}, now);
  p.timers.on_response_sent(now);  // no initiation of ours while the initiator confirms (timers.h)
  touch(p);
}

bool ControlPlane::drain_handshake_jobs(MonoTime now) {
  if (!hs_pool_) return false;
  HandshakeJob* done[64];
  const unsigned n = hs_pool_->poll(done, 64);
  counters_.add(CtlCounter::handshake_jobs, n);
  for (unsigned i = 0; i < n; ++i) {
    HandshakeJob* job = done[i];
    if (job->step == HandshakeJob::Step::kOpen) {
      if (opened(*job, now)) continue;  // back on the threads, to build the response
    } else {
      built(*job, now);
    }
    hs_pool_->release(job);
  }
  return n > 0;
}

bool ControlPlane::opened(HandshakeJob& job, MonoTime now) {
  if (!(job.identity.public_key == identity_.public_key)) {  // our key changed while it waited
    counters_.add(CtlCounter::handshake_jobs_stale);
    return false;
  }
  const noise::ConsumedMessage c = noise::accept_initiation(job.opened, peers_, now);
  if (c.result != noise::HandshakeResult::kOk) {
    counters_.add_rejected(c.result);
    log_event("initiation from %s refused: %s", job.src.to_string().c_str(), noise::to_string(c.result));
    return false;
  }
  Peer* p = initiation_accepted(c.handshake, job.src, now);
  if (noise::prepare_response(p->handshake, p->handshake_index, job.response) != noise::HandshakeResult::kOk) {
    return false;
  }
  job.peer = p->id;
  job.step = HandshakeJob::Step::kBuild;
  hs_pool_->submit(&job);
  return true;
}

void ControlPlane::built(HandshakeJob& job, MonoTime now) {
  // The peer may have been removed (its id perhaps reused), or its handshake moved on (a newer initiation,
  // our own, the timers clearing it) while the response was being built: commit_response refuses then.
  Peer* p = peers_.get(job.peer);
  if (p == nullptr || noise::commit_response(p->handshake, job.response) != noise::HandshakeResult::kOk) {
    counters_.add(CtlCounter::handshake_jobs_stale);
    return;
  }
  respond(*p, job.response.message, now);
}

void ControlPlane::session_ready(Peer& p, noise::KeypairPtr kp, MonoTime now) {
  if (!kp) return;
  counters_.add_completed(kp->i_am_initiator ? HandshakeRole::kInitiator : HandshakeRole::kResponder);
  kp->owner = p.id;
  // Workers check this per burst: past it they neither send nor accept under the keypair (6.1).
  kp->reject_after_ticks = rte_rdtsc() + static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(noise::kRejectAfterTime).count()) * tsc_hz_;
  p.timers.on_session_derived(now);
  touch(p);
  p.last_handshake_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
  const bool initiator = kp->i_am_initiator;
  publish_keypairs(p, p.keypairs.install(std::move(kp)));
  // An initiator may send at once; a responder waits for the peer's first packet (the confirmation event).
  // With nothing staged the initiator sends a keepalive, as the kernel and wireguard-go do after consuming a
  // response: until that first packet arrives the responder cannot send (5.4.7), its own traffic stays queued.
  if (initiator) {
    const bool had_staged = staging_.count(p.id) > 0;
    flush_staged(p, now);
    if (!had_staged && routes_[p.id] != nullptr) send_transport(p, {}, now);
  }
}

void ControlPlane::send_initiation(Peer& p, MonoTime now) {
  if (!p.endpoint) {
    // Nowhere to send: a peer without Endpoint is reached only after it contacts us.
    drop_staged(p, CtlDrop::staging_no_endpoint);
    return;
  }
  if (p.handshake_index != 0) peers_.release_index(p.handshake_index);
  p.handshake_index = peers_.allocate_index(p);
  noise::MessageInitiation msg;
  if (noise::create_initiation(p.handshake, p.handshake_index, noise::tai64n_now(), msg) !=
      noise::HandshakeResult::kOk) {
    return;
  }
  counters_.add(CtlCounter::handshakes_initiated);
  log_event("peer %u: sending handshake initiation to %s", p.id, p.endpoint->to_string().c_str());
  const auto jitter = std::chrono::milliseconds(crypto::random_u32() % 334);
  p.timers.on_handshake_initiated(now, jitter);
  touch(p);
  send_handshake_message(p, {reinterpret_cast<std::uint8_t*>(&msg), sizeof(msg)}, now);
}

void ControlPlane::send_handshake_message(Peer& p, std::span<std::uint8_t> msg, MonoTime now) {
  p.cookie.add_macs(msg, now);
  if (transmit_handshake(p, msg, now)) {
    p.unsent_handshake.clear();  // anything older is superseded
  } else {
    p.unsent_handshake.assign(msg.begin(), msg.end());
  }
}

// Sends a finished handshake message to the peer's endpoint; false when the next hop is not resolved yet
// (a resolution is started; learn_neighbor sends the message then).
bool ControlPlane::transmit_handshake(Peer& p, std::span<const std::uint8_t> msg, MonoTime now) {
  const net::Endpoint& ep = *p.endpoint;
  if (!send_udp(ep, msg)) {
    const net::IpAddress hop = next_hop_for(ep);
    log_event("peer %u: next hop %s not resolved yet; the message waits", p.id, hop.to_string().c_str());
    resolve(gw_.outside_port, hop, now, true);
    return false;
  }
  p.timers.on_any_authenticated_packet_sent(now);
  touch(p);
  return true;
}

bool ControlPlane::send_udp(const net::Endpoint& ep, std::span<const std::uint8_t> payload) {
  const net::IpAddress* own = own_address(gw_.outside_port, ep.addr.family);
  if (own == nullptr) return true;  // validated at start-up: cannot happen; nothing to wait for
  const auto hop_mac = outside_nbrs_.lookup(next_hop_for(ep));
  if (!hop_mac) return false;
  std::uint8_t frame[256];
  const std::uint16_t hl = dp::outer_header_len(ep.addr.family);
  rte_ether_addr dst_mac;
  std::memcpy(dst_mac.addr_bytes, hop_mac->bytes.data(), 6);
  dp::write_outer_headers(frame, gw_.outside_mac, dst_mac, *own, ep, listen_port(),
                          static_cast<std::uint16_t>(payload.size()));
  std::memcpy(frame + hl, payload.data(), payload.size());
  if (!ep.addr.is_v4()) dp::finish_outer_v6(frame);
  send_frame(gw_.outside_port, {frame, hl + payload.size()});
  return true;
}

void ControlPlane::send_transport(Peer& p, std::span<const std::uint8_t> inner, MonoTime now) {
  noise::Keypair* kp = p.keypairs.current();
  const dp::PeerRoute* route = routes_[p.id].get();
  if (kp == nullptr || route == nullptr) {
    tables_.peers[p.id].handshake_wanted.store(true, std::memory_order_relaxed);
    return;
  }
  const net::IpAddress* own = own_address(gw_.outside_port, route->endpoint.addr.family);
  if (own == nullptr) return;
  std::uint8_t frame[dp::kEthLen + dp::kIpv6Len + dp::kUdpLen + 16 + 9216 + 16];
  const std::uint16_t hl = dp::outer_header_len(route->endpoint.addr.family);
  std::size_t len = 0;
  if (noise::encrypt_transport(*kp, inner, gw_.mtu, std::span<std::uint8_t>(frame + hl, sizeof(frame) - hl), len) !=
      noise::TransportResult::kOk) {
    return;
  }
  dp::write_outer_headers(frame, gw_.outside_mac, route->next_hop_mac, *own, route->endpoint, listen_port(),
                          static_cast<std::uint16_t>(len));
  if (!route->endpoint.addr.is_v4()) dp::finish_outer_v6(frame);
  send_frame(gw_.outside_port, {frame, hl + len});
  own_ctx_.shared->peers[p.id].tx_bytes += len;  // control's own slot: it is the only writer
  p.timers.on_any_authenticated_packet_sent(now);
  if (!inner.empty()) p.timers.on_data_sent(now);
  touch(p);
}

void ControlPlane::stage(rte_mbuf* m) {
  const auto* frame = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const auto ip = dp::parse_inner_ip(frame + dp::kEthLen, m->data_len - dp::kEthLen);
  std::uint32_t peer = dp::kNoPeer;
  const bool found = ip.family != 0 && tables_.lookup(ip.family, ip.dst, peer);
  Peer* p = found ? peers_.get(peer) : nullptr;
  if (p == nullptr) {  // the route went away while the packet was in the ring
    counters_.add_drop(CtlDrop::staging_no_peer);
    rte_pktmbuf_free(m);
    return;
  }
  // The session may have come up while the packet was in the ring: send it now.
  if (p->keypairs.current() != nullptr && routes_[p->id] != nullptr) {
    send_transport(*p, {frame + dp::kEthLen, ip.len}, mono_now());
    rte_pktmbuf_free(m);
    return;
  }
  // A session but no route: the next hop's MAC was lost (it stopped answering); ask for it again.
  if (p->endpoint && routes_[p->id] == nullptr) resolve(gw_.outside_port, next_hop_for(*p->endpoint), mono_now(), true);
  touch(*p);  // a packet waits: the peer wants a session
  switch (staging_.push(p->id, m)) {
    case StagingStore::Dropped::kNone: break;
    case StagingStore::Dropped::kPeerFull: counters_.add_drop(CtlDrop::staging_peer_full); break;
    case StagingStore::Dropped::kBudget: counters_.add_drop(CtlDrop::staging_budget); break;
  }
}

void ControlPlane::drop_staged(Peer& p, CtlDrop why) { counters_.add_drop(why, staging_.drop_peer(p.id)); }

void ControlPlane::flush_staged(Peer& p, MonoTime now) {
  while (p.keypairs.current() != nullptr && routes_[p.id] != nullptr) {
    rte_mbuf* m = staging_.pop(p.id);
    if (m == nullptr) break;
    const auto* frame = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const auto ip = dp::parse_inner_ip(frame + dp::kEthLen, m->data_len - dp::kEthLen);
    if (ip.family != 0) send_transport(p, {frame + dp::kEthLen, ip.len}, now);
    rte_pktmbuf_free(m);
  }
}

}  // namespace wg::ctl
