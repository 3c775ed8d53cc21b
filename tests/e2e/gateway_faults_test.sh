#!/usr/bin/env bash
# Nothing on the network, the host or a local client may stall the gateway (issue 12), against the real
# wireguard-go (topology in gateway_lib.sh, plus 100 peers whose endpoints never answer and 5 without one):
#   1. offline sites: 200 datagrams at once to each of the 100 unanswering peers, then 20/s to each for 60 s,
#      and to the 5 peers without endpoint: the healthy peer answers >= 49 of 50 pings; the mbuf pool is
#      never more than 75 % in use; the staged total stays within its budget, whose refusals are counted;
#   2. a UAPI client that sends a byte every 150 ms and never finishes, for 60 s: the tunnel and the
#      gateway's own address answer >= 9/10, `wg show` answers, a re-handshake forced by the peer completes
#      within 6 s, no pass of the control loop stalls (sleeps or blocks) for more than 100 ms and at most
#      2 for more than 20 ms (wggate_control_loop_stall_seconds: the gap between passes less the time the
#      thread ran or waited for a CPU, so that what the scheduler does on a shared 2-CPU machine is not
#      counted against the gateway; the wall-clock gaps are reported beside it);
#   3. frames on the inside to a MAC that is not the gateway's: none tunneled, all counted;
#   4. an ICMP echo flood (>= 20,000/s) at the outside address: the under-load state is never entered and
#      the tunnel answers >= 9/10;
#   5. TTL: a packet with TTL / hop limit 1 draws ICMP time exceeded from the gateway, from the inside
#      (IPv4, IPv6) and from the peer through the tunnel; TTL 64 arrives as 63 on the other side, both ways.
# Each of these took the tunnel down, or was tunneled, before issue 12.
# Usage: gateway_faults_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

build=${1:?usage: gateway_faults_test.sh BUILD_DIR}
GW_BIN=$(cd "$build" && pwd)/control/wggate
[ -x "$GW_BIN" ] || fail "missing $GW_BIN"
need_root
need wireguard-go wg ip ping tcpdump ethtool curl python3
traffic="$here/fault_traffic.py"
OFFLINE=${OFFLINE_PEERS:-100}
PHASE_SECONDS=${PHASE_SECONDS:-60}

gw_setup_topology
gw_write_config
gw_name="wgg$((E2E_SUFFIX % 100000))"
# The offline sites: endpoints on the remote host at ports nobody listens on, so every initiation is lost.
for i in $(seq 0 $((OFFLINE - 1))); do
  pub=$(wg genkey | wg pubkey)
  printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.100.%d.0/24\nEndpoint = 172.31.61.2:%d\n' "$pub" "$i" $((40000 + i))
done >> "$E2E_TMP/wggate.conf"
for i in 0 1 2 3 4; do
  pub=$(wg genkey | wg pubkey)
  printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.101.%d.0/24\n' "$pub" "$i"  # no endpoint: never reachable
done >> "$E2E_TMP/wggate.conf"
on_cleanup "rm -rf /var/run/dpdk/wggate-$E2E_SUFFIX"
gw_runs=1
gw_start
wait_for 30 "the tunnel to the healthy peer" ping_once "$ns_client" 10.62.0.1

scrape() { ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics; }
metric() { scrape | awk -v m="$1" '$1 == m { print $2 }'; }
# A sampler: the metrics that must stay bounded, once every 0.5 s, into samples.txt (one line per sample).
sample_loop() {
  while :; do
    scrape | awk '/^wggate_mempool_in_use|^wggate_mempool_capacity|^wggate_staged_packets|^wggate_staging_budget/ {
                   sub(/\{.*\}/, "", $1); v[$1] = $2 }
                 END { print v["wggate_mempool_in_use"] + 0, v["wggate_mempool_capacity"] + 0,
                             v["wggate_staged_packets"] + 0, v["wggate_staging_budget"] + 0 }' >> "$E2E_TMP/samples.txt" || true
    sleep 0.5
  done
}

# --- 1. offline sites ------------------------------------------------------------------------------------------
log "scenario offline-sites: 200 datagrams to each of $OFFLINE unanswering peers, then 20/s each for ${PHASE_SECONDS}s"
spawn sampler bash -c "$(declare -f scrape sample_loop); ns_gw=$ns_gw E2E_TMP=$E2E_TMP; sample_loop"
sampler=$SPAWNED_PID
spawn fanout ip netns exec "$ns_client" python3 "$traffic" udp-fanout 10.100 0 "$OFFLINE" 200 20 "$PHASE_SECONDS"
fanout=$SPAWNED_PID
spawn fanout-noep ip netns exec "$ns_client" python3 "$traffic" udp-fanout 10.101 0 5 50 5 10
sleep 2  # the burst is in flight: from here the pool and the staging budget are under pressure
ip netns exec "$ns_client" ping -n -c 50 -i 1 -W 3 10.62.0.1 > "$E2E_TMP/healthy-ping.txt" 2>&1 || true
n=$(awk '/received/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^received/) print $i }' "$E2E_TMP/healthy-ping.txt")
wait_for $((PHASE_SECONDS + 30)) "the offline-site traffic to end" exited "$fanout"
kill "$sampler" 2>/dev/null || true
log "  healthy peer: $n of 50 pings answered; datagrams sent: $(tail -n 1 "$E2E_TMP/fanout.log");" \
    "lost by the ports (imissed, rx_nombuf): $(scrape | awk '/^wggate_port_(imissed|rx_nombuf)_total/ { printf "%s=%s ", $1, $2 }')"
[ "${n:-0}" -ge 49 ] || log "  missing echo replies: $(awk '/icmp_seq/ { sub(/.*icmp_seq=/, ""); sub(/ .*/, ""); seen[$0] = 1 }
                                    END { for (i = 1; i <= 50; i++) if (!seen[i]) printf "%d ", i }' "$E2E_TMP/healthy-ping.txt")"
[ "${n:-0}" -ge 49 ] || fail "offline-sites: the healthy peer answered only ${n:-0} of 50 pings"
read -r max_use cap max_staged budget < <(awk '$2 > 0 { if ($1 > u) u = $1; c = $2; if ($3 > s) s = $3; b = $4 }
                                             END { print u + 0, c + 0, s + 0, b + 0 }' "$E2E_TMP/samples.txt")
log "  samples: $(wc -l < "$E2E_TMP/samples.txt"); pool in use at most $max_use of $cap; staged at most $max_staged (budget $budget)"
[ "$cap" -gt 0 ] || fail "offline-sites: no wggate_mempool_capacity in the samples"
[ $((max_use * 4)) -le $((cap * 3)) ] || fail "offline-sites: the pool was $max_use of $cap in use (> 75 %)"
[ "$budget" -gt 0 ] && [ "$max_staged" -le "$budget" ] || fail "offline-sites: $max_staged staged, budget $budget"
refused=$(scrape | awk '/^wggate_control_drops_total\{.*reason="staging_(budget|peer_full)"/ { s += $2 } END { print s + 0 }')
[ "$refused" -gt 0 ] || fail "offline-sites: the staging bounds refused nothing (the test put no pressure on them)"
log "  staging refusals counted: $refused"
pass "offline-sites ($n/50 pings; pool at most $max_use/$cap; staged at most $max_staged/$budget)"

# --- 2. a slow UAPI client ---------------------------------------------------------------------------------------
log "scenario slow-uapi: a client sends one byte every 150 ms for ${PHASE_SECONDS}s and never finishes"
# over HISTOGRAM LE: passes of the control loop so far whose gap (or stall) exceeded LE seconds.
over() { scrape | awk -v h="wggate_control_loop_$1_seconds" -v le="le=\"$2\"" '
           index($1, h "_bucket") == 1 && index($1, le) { a = $2 } index($1, h "_count") == 1 { c = $2 }
           END { print c - a }'; }
stall_before=$(over stall 0.02)
long_stall_before=$(over stall 0.1)
gap_before=$(over gap 0.02)
spawn slow-uapi python3 "$traffic" slow-uapi "/var/run/wireguard/$gw_name.sock" "$PHASE_SECONDS" 0.15
slow=$SPAWNED_PID
sleep 1
t0=$SECONDS
timeout 5 wg show "$gw_name" > "$E2E_TMP/wg-show.txt" || fail "slow-uapi: wg show did not answer within 5 s"
grep -q "peer: $remote_pub" "$E2E_TMP/wg-show.txt" || fail "slow-uapi: wg show does not list the peer"
n=$(ping_replies "$ns_client" 10 10.62.0.1)
[ "$n" -ge 9 ] || fail "slow-uapi: the tunnel answered $n of 10 pings"
m=$(ping_replies "$ns_client" 10 10.61.0.1)
[ "$m" -ge 9 ] || fail "slow-uapi: the gateway's own address answered $m of 10 pings"
# The peer forgets the session and initiates again: wggate must answer at once.
ip netns exec "$ns_remote" wg set "$wg_if" peer "$gw_pub" remove
ip netns exec "$ns_remote" wg set "$wg_if" peer "$gw_pub" allowed-ips 10.61.0.0/24,fd61::/64 endpoint 172.31.61.1:51820
start=$(date +%s.%N)
wait_for 6 "slow-uapi: a re-handshake forced by the peer (within 6 s)" \
  ip netns exec "$ns_remote" ping -n -c 1 -W 1 10.61.0.2
took=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)")
wait_for $((PHASE_SECONDS + 10)) "the slow UAPI client to end" exited "$slow"
stalls=$(($(over stall 0.02) - stall_before))
long_stalls=$(($(over stall 0.1) - long_stall_before))
gaps=$(($(over gap 0.02) - gap_before))
timeouts=$(metric 'wggate_uapi_timeout_total{device="'"$gw_name"'"}')
maxgap=$(metric 'wggate_control_loop_gap_max_seconds{device="'"$gw_name"'"}')
maxstall=$(metric 'wggate_control_loop_stall_max_seconds{device="'"$gw_name"'"}')
log "  tunnel $n/10, gateway $m/10, re-handshake in ${took}s; passes of the control loop stalled over 20 ms:" \
    "$stalls (longest stall since start ${maxstall}s); wall-clock gaps over 20 ms: $gaps (longest ${maxgap}s," \
    "the scheduler's share included); slow client cut off $timeouts times"
[ "${timeouts:-0}" -gt 0 ] || fail "slow-uapi: the slow client was never cut off (wggate_uapi_timeout_total)"
# A control thread that waited on this client would sleep up to 150 ms per byte, hundreds of times in the
# phase. A lone 20-50 ms sleep with nothing to wait on is the host waking an idle vCPU late (seen about once
# in six runs on these VMs, which report no steal time): tolerated twice, never over 100 ms.
[ "$long_stalls" -eq 0 ] || fail "slow-uapi: $long_stalls passes of the control loop slept or blocked for more than 100 ms"
[ "$stalls" -le 2 ] || fail "slow-uapi: $stalls passes of the control loop slept or blocked for more than 20 ms"
pass "slow-uapi (tunnel $n/10, gateway $m/10, re-handshake ${took}s, control stalls over 20 ms: $stalls, over 100 ms: 0)"

# --- 3. frames for another host on the inside --------------------------------------------------------------------
log "scenario foreign-mac: 20 frames to 02:de:ad:be:ef:01 carrying UDP to the remote; then 5 to the gateway's MAC"
gw_mac=$(ip -n "$ns_client" neigh show 10.61.0.1 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
[ -n "$gw_mac" ] || fail "foreign-mac: the client has no neighbour entry for the gateway"
start_capture foreign "$ns_remote" "$wg_if" udp port 7777; cap=$SPAWNED_PID
ip netns exec "$ns_client" python3 "$traffic" foreign-mac in-host 02:de:ad:be:ef:01 10.61.0.2 10.62.0.1 7777 20 \
  FOREIGN-MAC-MARKER >/dev/null
sleep 1
foreign=$(pcap_frames "$E2E_TMP/foreign.pcap")
ip netns exec "$ns_client" python3 "$traffic" foreign-mac in-host "$gw_mac" 10.61.0.2 10.62.0.1 7777 5 OWN-MAC >/dev/null
wait_for 10 "foreign-mac: the frames to the gateway's own MAC to reach the remote" \
  test "$(pcap_frames "$E2E_TMP/foreign.pcap")" -ge 1
stop_capture "$cap"
[ "$foreign" -eq 0 ] || fail "foreign-mac: $foreign frames addressed to another host were tunneled"
pass "foreign-mac (0 of 20 tunneled; frames to the gateway's MAC still are)"

# --- 4. ICMP echo flood at the outside address --------------------------------------------------------------------
log "scenario icmp-flood: echo requests at 25,000/s for 10 s at 172.31.61.1"
entered_before=$(metric 'wggate_under_load_entered_total{device="'"$gw_name"'"}')
spawn flood ip netns exec "$ns_remote" python3 "$traffic" icmp-flood 172.31.61.1 25000 10
flood=$SPAWNED_PID
sleep 1
n=$(ping_replies "$ns_client" 10 10.62.0.1)
wait_for 30 "the ICMP flood to end" exited "$flood"
sent=$(tail -n 1 "$E2E_TMP/flood.log")
entered_after=$(metric 'wggate_under_load_entered_total{device="'"$gw_name"'"}')
log "  flood: $sent requests in 10 s; tunnel $n/10; under-load entered ${entered_before} -> ${entered_after}"
[ "$sent" -ge 200000 ] || fail "icmp-flood: the sender managed only $sent requests in 10 s (< 20,000/s)"
[ "$n" -ge 9 ] || fail "icmp-flood: the tunnel answered $n of 10 pings during the flood"
[ "$entered_after" = "$entered_before" ] || fail "icmp-flood: the flood put wggate under load"
pass "icmp-flood ($sent echo requests; tunnel $n/10; never under load)"

# --- 5. TTL and hop limit ------------------------------------------------------------------------------------------
log "scenario ttl: a router decrements TTL both ways and answers TTL 1 with ICMP time exceeded"
# From the inside, TTL 1: the gateway is the first hop, it answers (10.61.0.1), nothing is tunneled.
out=$(ip netns exec "$ns_client" ping -n -c 1 -W 2 -t 1 10.62.0.1 2>&1 || true)
grep -q "From 10.61.0.1 .*Time to live exceeded" <<<"$out" || fail "ttl: no time exceeded from 10.61.0.1 for TTL 1: $out"
out6=$(ip netns exec "$ns_client" ping -6 -n -c 1 -W 2 -t 1 fd63::1 2>&1 || true)
grep -qi "From fd61::1 .*Time exceeded" <<<"$out6" || fail "ttl: no IPv6 time exceeded from fd61::1 for hop limit 1: $out6"
# From the peer through the tunnel, TTL 1: answered back through the tunnel by the gateway's inside address.
out=$(ip netns exec "$ns_remote" ping -n -c 1 -W 2 -t 1 -I 10.62.0.1 10.61.0.2 2>&1 || true)
grep -q "From 10.61.0.1 .*Time to live exceeded" <<<"$out" || fail "ttl: the peer got no time exceeded through the tunnel: $out"
# Decremented by exactly one on the other side: the client sends TTL 64, the peer's tunnel sees 63, and back.
start_capture ttl-remote "$ns_remote" "$wg_if" icmp; cap=$SPAWNED_PID
start_capture ttl-client "$ns_client" in-host icmp and host 10.62.0.1; cap2=$SPAWNED_PID
ping_once "$ns_client" -t 64 10.62.0.1 || fail "ttl: a ping with TTL 64 got no answer"
stop_capture "$cap"; stop_capture "$cap2"
seen=$(tcpdump -n -v -r "$E2E_TMP/ttl-remote.pcap" 'icmp[icmptype] == icmp-echo' 2>/dev/null | grep -o "ttl [0-9]*" | head -1)
[ "$seen" = "ttl 63" ] || fail "ttl: the peer saw the echo request with '$seen', expected ttl 63"
back=$(tcpdump -n -v -r "$E2E_TMP/ttl-client.pcap" 'icmp[icmptype] == icmp-echoreply' 2>/dev/null | grep -o "ttl [0-9]*" | head -1)
[ "$back" = "ttl 63" ] || fail "ttl: the client saw the echo reply with '$back', expected ttl 63 (64 from the peer)"
pass "ttl (time exceeded both ways, IPv4 and IPv6; TTL 64 -> 63 each way)"

gw_stop
expect_counter drop_no_endpoint
expect_counter drop_inside_not_for_us
expect_counter drop_ttl_exceeded
log "all $passed fault scenarios passed"
