#!/usr/bin/env bash
# PersistentKeepalive: with no traffic at all, wggate brings the session up by itself and then sends an empty
# transport message (a keepalive: 32 bytes of UDP payload) every interval, keeping NAT mappings open.
# Usage: gateway_keepalive_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

gw_init "${1:?usage: gateway_keepalive_test.sh BUILD_DIR}"
gw_stop
sed -i 's/^Endpoint = .*/&\nPersistentKeepalive = 1/' "$E2E_TMP/wggate.conf"
start_capture underlay "$ns_remote" out-remote udp port 51820
cap_pid=$SPAWNED_PID
gw_start

log "scenario persistent-keepalive: idle tunnel, PersistentKeepalive = 1"
wait_for 30 "keepalive: wggate to complete a handshake on its own" \
  grep -q "response from 172.31.61.2:51820 accepted" "$E2E_TMP/wggate.log"
keepalives() { pcap_frames "$E2E_TMP/underlay.pcap" src host 172.31.61.1 and udp and 'udp[4:2] = 40'; }
enough_keepalives() { [ "$(keepalives)" -ge 4 ]; }
wait_for 30 "keepalive: at least 4 keepalives from wggate" enough_keepalives
stop_capture "$cap_pid"
first=$(tcpdump -n -tt -r "$E2E_TMP/underlay.pcap" src host 172.31.61.1 and 'udp[4:2] = 40' 2>/dev/null | head -n 1 | cut -d' ' -f1)
last=$(tcpdump -n -tt -r "$E2E_TMP/underlay.pcap" src host 172.31.61.1 and 'udp[4:2] = 40' 2>/dev/null | tail -n 1 | cut -d' ' -f1)
n=$(keepalives)
# n keepalives about a second apart: the span is n - 1 seconds, give or take the 10 ms tick.
awk -v a="$first" -v b="$last" -v n="$n" 'BEGIN { span = b - a; exit !(span > (n - 1) * 0.8 && span < (n - 1) * 1.3) }' \
  || fail "keepalive: $n keepalives over $(awk -v a="$first" -v b="$last" 'BEGIN { print b - a }') s; want one a second"
[ "$(wg_latest_handshake "$ns_remote" "$wg_if" "$gw_pub")" -gt 0 ] || fail "keepalive: wireguard-go saw no handshake"
pass "persistent-keepalive ($n keepalives, one a second, session brought up without traffic)"

gw_stop
echo "gateway_keepalive: $passed passed, 0 failed"
