// The neighbour table of one port (ARP for IPv4, NDP for IPv6): which MAC each address on the link has, for
// the outside next hops (endpoints on-link, OutsideGateway) and the inside hosts. It decides what to believe;
// control/local.cc parses the frames and sends the requests it asks for.
//
// What it believes, and why (an attacker on either segment may send any ARP/NDP it likes):
//   - it learns only what the gateway asked for or what talks to it: an answer to its own request (an ARP
//     reply or NDP advertisement while a request for that address is outstanding), or the sender of a
//     request to one of our addresses (it is about to be answered anyway). Unsolicited replies and
//     gratuitous ARP for unknown addresses create nothing;
//   - a known address keeps its MAC: a claim that it moved (gratuitous ARP, an unsolicited NA, a spoofer)
//     only starts a verification, as Linux's neighbour probes do: requests sent unicast to the MAC held, at
//     most kVerifyInterval apart. If that MAC answers, nothing changes; if it does not answer kMaxProbes of
//     them, the entry is removed and the address resolved again from scratch (broadcast, first answer). So a
//     spoofer flooding replies for the OutsideGateway changes nothing unless it is on the path to the real
//     one, and a router that really moved (failover) is found again within a second;
//   - entries are refreshed the same way, at a gentler pace (kRetry apart, as Linux's probes): one
//     unconfirmed for kReachable is verified, so a neighbour slow to answer under load is not dropped;
//   - at most `capacity` entries (incomplete ones included): past it, a new address is refused and counted,
//     unless an entry can be evicted that is neither in use nor recently confirmed.
//
// Thread rule: control thread only; time is a parameter, so every rule is unit-testable with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "lib/net/ethernet.h"
#include "lib/net/ip.h"
#include "lib/util/clock.h"

namespace wg::ctl {

class NeighborTable {
 public:
  static constexpr auto kRetry = std::chrono::seconds(1);                // between requests for an address
  static constexpr auto kVerifyInterval = std::chrono::milliseconds(200);  // between verifications of a claim
  static constexpr auto kAnswerWindow = std::chrono::seconds(1);  // a reply counts as an answer this long
  static constexpr auto kReachable = std::chrono::seconds(30);           // then confirmed again
  static constexpr int kMaxProbes = 3;                                   // unanswered requests before removal

  enum class Learned : std::uint8_t {
    kIgnored,    // unsolicited, about an address we neither asked for nor know
    kNew,        // a MAC for an address that had none (resolution complete)
    kConfirmed,  // same MAC as before
    kDisputed,   // another MAC for a known address: verified with the MAC held, not believed
  };
  // Where a frame came from, as far as belief goes.
  enum class Kind : std::uint8_t {
    kAnswer,   // ARP reply / NDP advertisement: believed only while we asked
    kRequest,  // ARP request / NDP solicitation to one of our addresses: the sender talks to us
  };

  explicit NeighborTable(std::size_t capacity) : capacity_(capacity) {}

  std::optional<net::MacAddress> lookup(const net::IpAddress& ip) const;
  // The gateway needs ip's MAC (a next hop, an inside host with packets waiting): true when a request is to
  // be sent now. `pin` keeps the entry from eviction (a peer's next hop). False when the table is full.
  bool want(const net::IpAddress& ip, MonoTime now, bool pin = false);
  Learned learn(const net::IpAddress& ip, const net::MacAddress& mac, Kind kind, MonoTime now);

  // Periodic upkeep: addresses to ask now (refresh, verification, retry of an incomplete entry), and entries
  // removed because they never answered or were evicted for room (so that their published copies can be
  // withdrawn).
  struct Ask {
    net::IpAddress ip;
    std::optional<net::MacAddress> unicast;  // a verification: ask the MAC held; none: broadcast
    bool operator==(const net::IpAddress& a) const { return ip == a; }
  };
  struct Upkeep {
    std::vector<Ask> ask;
    std::vector<net::IpAddress> removed;
  };
  Upkeep upkeep(MonoTime now);

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t refused() const { return refused_; }    // new addresses turned away: table full
  std::uint64_t disputed() const { return disputed_; }  // claims that were verified instead of believed

 private:
  struct Entry {
    std::optional<net::MacAddress> mac;  // none: incomplete (asked, no answer yet)
    MonoTime confirmed{0};               // last answer (or request from it) with the MAC we hold
    MonoTime asked{0};                   // last request we sent
    bool outstanding = false;            // a request of ours awaits its answer
    bool verify = false;                 // verifying the MAC held (disputed, or due for refresh)
    bool disputed = false;               // the verification answers a claim: probes kVerifyInterval apart
    int probes = 0;                      // requests sent since the last confirmation
    bool pinned = false;
  };
  bool make_room(MonoTime now);
  void mark_asked(Entry& e, MonoTime now);

  std::size_t capacity_;
  std::map<net::IpAddress, Entry> entries_;
  std::vector<net::IpAddress> evicted_;  // evicted with a MAC since the last upkeep
  std::uint64_t refused_ = 0, disputed_ = 0;
};

}  // namespace wg::ctl
