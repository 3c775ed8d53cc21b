#!/usr/bin/env bash
# Many peers on one gateway (issue 15): PEERS (default 20,000) simulated WireGuard peers (tools/interop/
# wg_swarm.cc: lib/'s handshake and transport code over one UDP socket in the remote namespace) each make a
# real handshake with wggate and send one ICMP echo request from their tunnel address to the client host; the
# echo reply must come back through the tunnel to that peer. Every session up, every packet delivered. Then
# PEERS/2 more peers are added in one `wg addconf` and removed in one `wg syncconf` while the client pings the
# remote wireguard-go through the tunnel: no echo lost.
# Usage: gateway_peers_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

build=${1:?usage: gateway_peers_test.sh BUILD_DIR}
peers=${PEERS:-20000}
swarm=$(cd "$build" && pwd)/tools/wg-swarm
[ -x "$swarm" ] || fail "missing $swarm (build first: ninja -C $build tools/wg-swarm)"

gw_init "$build"
gw_stop
# The swarm's peers: keys derived from a seed, tunnel addresses 10.200.0.1 onwards (a /16 holds 65,534).
seed="swarm-$E2E_SUFFIX"
"$swarm" --peers "$peers" --seed "$seed" --tunnel-base 10.200.0.1 --print-peers >> "$E2E_TMP/wggate.conf"
gw_restart

metric() {
  ip netns exec "$ns_gw" curl -sf --max-time 10 http://127.0.0.1:9586/metrics | awk -v m="$1" '{ n = $1; sub(/\{.*/, "", n) } n == m { print $2 }'
}
[ "$(metric wggate_peers)" = "$((peers + 1))" ] || fail "swarm: wggate_peers is '$(metric wggate_peers)', want $((peers + 1))"

log "scenario swarm: $peers peers, each a handshake and one echo through the tunnel"
gw_counters "$E2E_TMP/counters-before.txt"
# At most 64 peers in progress at a time: a client that paces itself keeps the handshake queue short of
# "under load" (cookie replies are handled all the same).
spawn swarm ip netns exec "$ns_remote" "$swarm" --peers "$peers" --seed "$seed" --tunnel-base 10.200.0.1 \
  --gateway-public-key "$gw_pub" --endpoint 172.31.61.1:51820 --target 10.61.0.2 --listen-port 51900 \
  --inflight 64 --timeout 400
swarm_pid=$SPAWNED_PID
wait_for 420 "the swarm to finish" exited "$swarm_pid"
wait "$swarm_pid" || fail "swarm: $(grep wg-swarm: "$E2E_TMP/swarm.log" | tail -n 2)"
summary=$(grep "all peers done" "$E2E_TMP/swarm.log") || fail "swarm: no summary line"
gw_alive
# The longest pass gap while every peer handshook, before `wg show` (whose UAPI thread then takes a CPU).
storm_gap=$(metric wggate_control_loop_gap_max_seconds)

# wggate's own view: every swarm peer has a handshake time and an endpoint (`wg show` dump, as operators use).
start=$(date +%s%N)
ip netns exec "$ns_gw" wg show "wgg$((E2E_SUFFIX % 100000))" dump > "$E2E_TMP/dump.txt"
dump_ms=$((($(date +%s%N) - start) / 1000000))
up=$(awk -F'\t' 'NR > 1 && $5 != "0" && $3 == "172.31.61.2:51900"' "$E2E_TMP/dump.txt" | wc -l)
[ "$up" -eq "$peers" ] || fail "swarm: $up of $peers peers show a handshake from the swarm's endpoint in wg show"
gap=$(metric wggate_control_loop_gap_max_seconds)
# Every session came up with the swarm initiating; the replies that raced the responder's confirmation
# waited for it instead of starting handshakes of wggate's own (which the swarm never answers).
initiated=$(metric wggate_handshakes_initiated_total)
[ "${initiated%.*}" -le 1 ] || fail "swarm: wggate sent $initiated initiations of its own; the swarm's sessions needed none"
# With handshake threads (HANDSHAKE_THREADS, default 1), both of each answer's X25519 steps ran there.
threads=$(metric wggate_handshake_threads)
jobs=$(metric wggate_handshake_jobs_total)
stale=$(metric wggate_handshake_jobs_stale_total)
[ "${threads%.*}" = "${HANDSHAKE_THREADS:-1}" ] || fail "swarm: wggate_handshake_threads is $threads, want ${HANDSHAKE_THREADS:-1}"
if [ "${threads%.*}" -gt 0 ]; then
  [ "${jobs%.*}" -ge $((2 * peers)) ] || fail "swarm: $jobs jobs on the handshake threads for $peers answered initiations (want >= $((2 * peers)))"
fi
log "  handshake threads: $threads; jobs run $jobs, stale $stale"
# Echo retries are allowed (the swarm resends after 2 s): say where the first tries went.
pass "swarm ($peers peers up and echoed: ${summary#*: }; wg show dump ${dump_ms} ms; longest control-loop gap ${storm_gap} s while they handshook, ${gap} s after wg show; gateway drops: $(gw_counters_grown "$E2E_TMP/counters-before.txt"))"

# --- a tenth of the table changed at once while traffic flows to another peer ---------------------------------
bulk=$((peers / 2))
log "scenario bulk: $bulk peers added in one request (wg addconf) and removed in one (wg syncconf) while pinging the remote"
gw_name="wgg$((E2E_SUFFIX % 100000))"
wait_for 20 "bulk: the remote answering through the tunnel" ping_once "$ns_client" 10.62.0.1
wg showconf "$gw_name" > "$E2E_TMP/before.conf"
# Tunnel addresses apart from the swarm's (10.200.0.1 onwards: past 10.201.0.0 from 65,535 peers up).
"$swarm" --peers "$bulk" --seed "bulk-$E2E_SUFFIX" --tunnel-base 10.210.0.1 --print-peers > "$E2E_TMP/bulk.conf"
gw_counters "$E2E_TMP/counters-bulk.txt"
ip netns exec "$ns_client" ping -D -n -i 0.05 -W 2 10.62.0.1 > "$E2E_TMP/bulk-ping.txt" 2>&1 &
ping_pid=$!
on_cleanup "kill $ping_pid"
sleep 1
start=$(date +%s%N)
add_at=$EPOCHREALTIME
wg addconf "$gw_name" "$E2E_TMP/bulk.conf"
added_ms=$((($(date +%s%N) - start) / 1000000))
n=$(wg show "$gw_name" peers | wc -l)
[ "$n" -eq $((peers + 1 + bulk)) ] || fail "bulk: $n peers after addconf, want $((peers + 1 + bulk))"
start=$(date +%s%N)
sync_at=$EPOCHREALTIME
wg syncconf "$gw_name" "$E2E_TMP/before.conf"
removed_ms=$((($(date +%s%N) - start) / 1000000))
n=$(wg show "$gw_name" peers | wc -l)
[ "$n" -eq $((peers + 1)) ] || fail "bulk: $n peers after syncconf, want $((peers + 1))"
sleep 1
kill -INT "$ping_pid"
wait "$ping_pid" || true
read -r sent got < <(awk '/packets transmitted/ { print $1, $4 }' "$E2E_TMP/bulk-ping.txt")
# Every echo sent answered, but the last one, which SIGINT may have cut short.
[ "${sent:-0}" -gt 20 ] && [ "$got" -ge $((sent - 1)) ] ||
  fail "bulk: $got of $sent echoes to the remote answered while the table changed (addconf at $add_at, syncconf at $sync_at; replies: $(awk -F'[][ =]+' '/bytes from/ { for (i = 1; i < NF; i++) if ($i == "icmp_seq") s = $(i + 1); printf "%s@%s ", s, $2 }' "$E2E_TMP/bulk-ping.txt" | tail -c 3000)); $(gw_counters_grown "$E2E_TMP/counters-bulk.txt")"
gap=$(metric wggate_control_loop_gap_max_seconds)
pass "bulk ($bulk peers added in ${added_ms} ms and removed in ${removed_ms} ms; $got/$sent echoes to the remote; longest control-loop gap since start ${gap} s)"

gw_stop
echo "gateway_peers: $passed passed, 0 failed"
