#!/usr/bin/env bash
# The underlay over IPv6: the peer's Endpoint is [fd62::2]:51820, so wggate resolves its next hop with NDP,
# sends WireGuard in IPv6/UDP (with the mandatory UDP checksum, which the remote kernel verifies before
# wireguard-go sees anything), and carries IPv4 and IPv6 inner traffic both ways.
# Usage: gateway_v6_underlay_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

# gw_init starts wggate with the IPv4 endpoint; stop it and restart with the IPv6 one.
gw_init "${1:?usage: gateway_v6_underlay_test.sh BUILD_DIR}"
gw_stop
ip netns exec "$ns_remote" wg set "$wg_if" peer "$gw_pub" endpoint "[fd62::1]:51820"
sed -i 's/^Endpoint = .*/Endpoint = [fd62::2]:51820/' "$E2E_TMP/wggate.conf"
gw_start

log "scenario v6-underlay: inner IPv4 and IPv6 through an IPv6 underlay"
start_capture underlay "$ns_remote" out-remote udp
cap_pid=$SPAWNED_PID
n=$(ping_replies "$ns_client" 5 10.62.0.1)
[ "$n" -ge 4 ] || fail "v6-underlay: $n of 5 replies for inner IPv4"
n=$(ping_replies "$ns_client" 5 fd63::1)
[ "$n" -eq 5 ] || fail "v6-underlay: $n of 5 replies for inner IPv6"
n=$(ping_replies "$ns_remote" 5 10.61.0.2)
[ "$n" -eq 5 ] || fail "v6-underlay: $n of 5 replies from the remote's side"
stop_capture "$cap_pid"
v6=$(pcap_frames "$E2E_TMP/underlay.pcap" ip6 and udp port 51820)
v4=$(pcap_frames "$E2E_TMP/underlay.pcap" ip and udp)
[ "$v6" -gt 10 ] && [ "$v4" -eq 0 ] || fail "v6-underlay: $v6 IPv6 and $v4 IPv4 WireGuard frames on the underlay"
log_has "outside neighbour fd62::2 is" || fail "v6-underlay: next hop not resolved by NDP"
pass "v6-underlay ($v6 WireGuard frames over IPv6, none over IPv4; NDP-resolved next hop)"

gw_stop
echo "gateway_v6_underlay: $passed passed, 0 failed"
