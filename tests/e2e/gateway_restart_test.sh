#!/usr/bin/env bash
# wggate losing its state while wireguard-go keeps running (topology in gateway_lib.sh):
#   1. restart mid-run: a ping loop runs from the client, wggate is stopped (SIGTERM) and started again with the
#      same config; replies resume within 30 s after a new handshake;
#   2. wireguard-go initiates: its peer entry for wggate is removed and re-added and wggate is restarted, so
#      neither side has a session; a ping from the remote to the client makes wireguard-go initiate and wggate
#      must accept ("initiation from ... accepted") and carry the echo both ways on that session;
#   3. the same with wggate's neighbour table cold (the initiation is the first packet it sees from the remote):
#      the first reply must come before wireguard-go's 5 s retry (no handshake lost while resolving the MAC).
# Usage: gateway_restart_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

gw_init "${1:?usage: gateway_restart_test.sh BUILD_DIR}"
wait_tunnel_up 30

# --- 1. restart mid-run ------------------------------------------------------------------------------------------
log "scenario restart-mid-run: ping loop from the client, SIGTERM wggate, start it again"
replies() { grep -c "bytes from 10.62.0.1" "$E2E_TMP/ping-loop.log" || true; }
spawn ping-loop ip netns exec "$ns_client" ping -n -O -i 0.2 -W 1 10.62.0.1
ping_pid=$SPAWNED_PID
wait_for 15 "the ping loop to get 5 replies" bash -c "[ \$(grep -c 'bytes from' '$E2E_TMP/ping-loop.log') -ge 5 ]"
gw_stop
sessions_before=$(grep -c "session established" "$E2E_TMP/wggate.log" || true)
[ "$sessions_before" -ge 1 ] || fail "restart-mid-run: the first wggate never logged an established session"
# -O prints "no answer yet" for every unanswered request: the outage is real before wggate comes back.
wait_for 10 "restart-mid-run: a ping left unanswered while wggate is down" grep -q "no answer yet" "$E2E_TMP/ping-loop.log"
before=$(replies)
restart_at=$EPOCHREALTIME
gw_restart
wait_for 30 "restart-mid-run: a ping reply after the restart" bash -c "[ \$(grep -c 'bytes from 10.62.0.1' '$E2E_TMP/ping-loop.log') -gt $before ]"
log_has "\(response\|initiation\) from 172.31.61.2:51820 accepted" \
  || fail "restart-mid-run: traffic resumed but the new wggate logged no new handshake"
took=$(awk -v a="$restart_at" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
pass "restart-mid-run (replies resumed ${took} s after starting wggate again, new handshake logged)"
kill "$ping_pid"; wait_for 10 "the ping loop to stop" exited "$ping_pid"

# --- 2. wireguard-go initiates --------------------------------------------------------------------------------
# forget_sessions: wggate restarted (no keypairs, no neighbours) and wireguard-go's peer entry re-created.
forget_sessions() {
  gw_stop
  ip netns exec "$ns_remote" wg set "$wg_if" peer "$gw_pub" remove
  ip netns exec "$ns_remote" wg set "$wg_if" peer "$gw_pub" allowed-ips 10.61.0.0/24,fd61::/64 \
    endpoint 172.31.61.1:51820
  [ "$(wg_latest_handshake "$ns_remote" "$wg_if" "$gw_pub")" -eq 0 ] \
    || fail "wireguard-go still has a handshake with wggate after re-adding the peer"
  gw_restart
}
retries() { grep -c "Handshake did not complete" "$E2E_TMP/wireguard-go-$wg_if.log" || true; }

log "scenario remote-initiates: neither side keeps a session; the remote pings the client"
forget_sessions
# wggate learns the remote's MAC first (from the remote's ARP request for 172.31.61.1), so that the session
# carrying the traffic below is the one wireguard-go initiated, wggate responding.
ip -n "$ns_remote" neigh flush dev out-remote
wait_for 15 "remote-initiates: wggate answering a ping to 172.31.61.1" ping_once "$ns_remote" 172.31.61.1
wait_for 10 "remote-initiates: wggate to learn the remote's MAC" \
  grep -q "outside neighbour 172.31.61.2 is" "$E2E_TMP/wggate.log"
wait_for 30 "remote-initiates: a ping from the remote to 10.61.0.2" ping_once "$ns_remote" 10.61.0.2
log_has "initiation from 172.31.61.2:51820 accepted" \
  || fail "remote-initiates: wggate did not log accepting wireguard-go's initiation"
grep -q "sending handshake initiation" "$E2E_TMP/wggate.log" \
  && fail "remote-initiates: wggate initiated a handshake itself: $(grep -E 'initiation|response|next hop' "$E2E_TMP/wggate.log" | tr '\n' ';')"
n=$(ping_replies "$ns_remote" 5 10.61.0.2)
[ "$n" -eq 5 ] || fail "remote-initiates: $n of 5 echo replies from 10.61.0.2 after the handshake"
n=$(ping_replies "$ns_client" 5 10.62.0.1)
[ "$n" -eq 5 ] || fail "remote-initiates: $n of 5 echo replies from the client's side on the same session"
pass "remote-initiates (wireguard-go initiated, wggate responded; pings both ways on that session)"

log "scenario remote-initiates-cold: the same, but wireguard-go's initiation is wggate's first packet"
forget_sessions
retries_before=$(retries)
t0=$EPOCHREALTIME
wait_for 30 "remote-initiates-cold: a ping from the remote to 10.61.0.2" \
  ip netns exec "$ns_remote" ping -n -c 1 -W 1 10.61.0.2
took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
log_has "initiation from 172.31.61.2:51820 accepted" \
  || fail "remote-initiates-cold: wggate did not log accepting wireguard-go's initiation"
# wggate must resolve the remote's MAC first; whatever it does meanwhile, a session has to be up before
# wireguard-go's REKEY_TIMEOUT (5 s) retry, i.e. no handshake may be lost on the way.
grep -q "sending handshake initiation" "$E2E_TMP/wggate.log" \
  && fail "remote-initiates-cold: wggate initiated a handshake itself (its response was lost?): $(grep -E 'initiation|response|next hop' "$E2E_TMP/wggate.log" | tr '\n' ';')"
[ "$(retries)" -eq "$retries_before" ] \
  || fail "remote-initiates-cold: wireguard-go had to retry its initiation (first reply after ${took} s)"
awk -v t="$took" 'BEGIN { exit !(t < 4.5) }' \
  || fail "remote-initiates-cold: the first reply took ${took} s (more than REKEY_TIMEOUT: a handshake was lost)"
n=$(ping_replies "$ns_remote" 5 10.61.0.2)
[ "$n" -eq 5 ] || fail "remote-initiates-cold: $n of 5 echo replies from 10.61.0.2 after the handshake"
pass "remote-initiates-cold (first reply after ${took} s, no initiation retried by wireguard-go)"

gw_stop
echo "gateway_restart: $passed passed, 0 failed"
