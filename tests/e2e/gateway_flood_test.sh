#!/usr/bin/env bash
# Nothing on the network can stall the gateway (issue 12): two attacks from the outside segment, against the
# real wireguard-go. Topology: gateway_lib.sh's, with the outside segment made a Linux bridge (in the router
# namespace) joining wggate, the on-link remote and a router that is wggate's OutsideGateway; behind the
# router, on its own subnet, a second wireguard-go peer (off-link):
#
#   [client] --- wggate --- br0 ---+--- [remote] wireguard-go 172.31.61.2, tunnel 10.62.0.1   (on-link)
#                 .61.1            +--- [router] 172.31.61.254 (OutsideGateway), 198.18.0.0/15 black-holed
#                                                     |
#                                                   [off] wireguard-go 172.31.62.2, tunnel 10.64.0.1 (off-link)
#
#   1. hs-flood: handshake initiations with a VALID mac1 for wggate's key (no mac2), >= 20,000/s in all for
#      FLOOD_SECONDS from FLOOD_SENDERS processes on the router, spoofed from 198.18.0.0/15 with random ports
#      as if the router forwarded them (wggate's cookie replies to them die in the router's black hole).
#      Once wggate is under load: the off-link and then the on-link peer, each told to forget its session,
#      complete a fresh handshake within 12 s (a ping from the peer's side is answered and its latest
#      handshake moved); meanwhile an established tunnel (client -> on-link remote, 200 pings 50 ms apart)
#      loses <= 2 %. The flood is checked to be what it claims: the senders reached 20,000/s, wggate went
#      under load, reason="cookie_required" grew and reason="invalid_mac" did not (mac1 valid). Printed for
#      diagnosis: what wggate received and refused (full handshake ring), the rejection reasons, the CPU the
#      control and worker threads got (and waited for), loop gaps, and each peer's handshake messages as
#      captured at wggate's port.
#   2. arp-spoof: the remote host (not the router) sends unsolicited ARP replies "OutsideGateway is at
#      <bogus MAC>" to wggate's MAC, 10/s for ARP_SECONDS, while the client pings the off-link peer every
#      0.1 s. The control thread (wggate's main thread) uses < 20 % of a CPU more than in the same time just
#      before the attack, and the off-link tunnel answers again within 1 s after the last spoofed ARP. How
#      the tunnel fared during the attack, and how often wggate believed the bogus MAC, is printed.
# The scenarios are independent: a failed check is reported and the next scenario still runs; the test
# fails at the end with every failed check listed. KEEP_LOGS=DIR copies the run's logs, captures and metric
# snapshots there at exit.
# Usage: gateway_flood_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

build=${1:?usage: gateway_flood_test.sh BUILD_DIR}
GW_BIN=$(cd "$build" && pwd)/control/wggate
[ -x "$GW_BIN" ] || fail "missing $GW_BIN"
need_root
need wireguard-go wg ip ping ethtool curl python3 awk tcpdump paste
traffic="$here/flood_traffic.py"
FLOOD_RATE=${FLOOD_RATE:-25000}
FLOOD_SECONDS=${FLOOD_SECONDS:-40}
FLOOD_SENDERS=${FLOOD_SENDERS:-3}
HS_LIMIT=12            # seconds for a fresh handshake during the flood
ARP_SECONDS=${ARP_SECONDS:-30}
RECOVERY_WAIT=10       # how long after the last spoofed ARP the off-link tunnel is watched
if [ -n "${KEEP_LOGS:-}" ]; then
  mkdir -p "$KEEP_LOGS" && chmod 700 "$KEEP_LOGS"
  on_cleanup "cp -a '$E2E_TMP/.' '$KEEP_LOGS/'"
fi

failures=()
soft_fail() { failures+=("$*"); printf 'FAIL: %s\n' "$*" >&2; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }   # calc EXPR [DECIMALS]
now_s() { date +%s.%N; }

# --- topology -------------------------------------------------------------------------------------------------
gw_setup_topology
ns_router="gwt-$E2E_SUFFIX"; ns_off="gwo-$E2E_SUFFIX"; wg_off="wgo$((E2E_SUFFIX % 100000))"
router_ip=172.31.61.254
add_netns "$ns_router"; add_netns "$ns_off"
# The outside segment gets three hosts: replace gateway_lib.sh's direct veth pair by a bridge in the router ns.
ip -n "$ns_gw" link del out-gw
ip netns exec "$ns_gw" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$ns_router" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns_router" link add br0 type bridge
ip link add out-gw netns "$ns_gw" type veth peer name brp-gw netns "$ns_router"
ip link add out-remote netns "$ns_remote" type veth peer name brp-remote netns "$ns_router"
for p in brp-gw brp-remote; do ip -n "$ns_router" link set "$p" master br0 up; done
ip -n "$ns_router" addr add "$router_ip/24" dev br0
ip -n "$ns_router" link set br0 up
ip -n "$ns_gw" link set out-gw up
ip -n "$ns_remote" addr add 172.31.61.2/24 dev out-remote
ip -n "$ns_remote" addr add fd62::2/64 dev out-remote nodad
ip -n "$ns_remote" link set out-remote up
veth_pair "$ns_router" rt-off 172.31.62.1/24 "$ns_off" off-wan 172.31.62.2/24
ip -n "$ns_off" route add default via 172.31.62.1
ip netns exec "$ns_router" sysctl -qw net.ipv4.ip_forward=1
# wggate answers the flood's spoofed sources with cookie replies via its OutsideGateway: they end here.
ip -n "$ns_router" route add blackhole 198.18.0.0/15
# Partial checksums from veth offload would reach af_packet as they are.
ip netns exec "$ns_remote" ethtool -K out-remote tx off >/dev/null
for i in brp-gw brp-remote rt-off br0; do ip netns exec "$ns_router" ethtool -K "$i" tx off >/dev/null; done
ip netns exec "$ns_off" ethtool -K off-wan tx off >/dev/null

# The off-link peer.
off_key=$(wg genkey); off_pub=$(echo "$off_key" | wg pubkey)
echo "$off_key" > "$E2E_TMP/off.key"; chmod 600 "$E2E_TMP/off.key"
start_wireguard_go "$ns_off" "$wg_off"
ip netns exec "$ns_off" wg set "$wg_off" private-key "$E2E_TMP/off.key" listen-port 51820 \
  peer "$gw_pub" allowed-ips 10.61.0.0/24 endpoint 172.31.61.1:51820
ip -n "$ns_off" addr add 10.64.0.1/24 dev "$wg_off"
ip -n "$ns_off" link set "$wg_off" up mtu 1420
ip -n "$ns_off" route add 10.61.0.0/24 dev "$wg_off"

gw_write_config   # ends inside [Gateway]
cat >> "$E2E_TMP/wggate.conf" <<CONF
OutsideGateway = $router_ip

[Peer]
# the off-link peer, behind the router
PublicKey = $off_pub
AllowedIPs = 10.64.0.0/24
Endpoint = 172.31.62.2:51820
CONF
on_cleanup "rm -rf /var/run/dpdk/wggate-$E2E_SUFFIX"
gw_runs=1
gw_start
[ "$(cat "/proc/$gw_pid/comm" 2>/dev/null)" = wggate ] || fail "setup: pid $gw_pid is not wggate"
wait_for 30 "the tunnel to the on-link peer" ping_once "$ns_client" 10.62.0.1
wait_for 30 "the tunnel to the off-link peer (via the OutsideGateway)" ping_once "$ns_client" 10.64.0.1
gw_mac=$(ip -n "$ns_gw" link show out-gw | awk '/link\/ether/ { print $2 }')
router_mac=$(ip -n "$ns_router" link show br0 | awk '/link\/ether/ { print $2 }')
log "topology up: wggate $gw_mac, router $router_mac; both tunnels answer"

scrape() { ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics; }
# mget FILE NAME [LABEL_SUBSTRING]: the sum of NAME's samples (every label set, or those containing it).
mget() {
  awk -v n="$2" -v f="${3:-}" '$1 !~ /^#/ { k = $1; sub(/\{.*/, "", k); if (k == n && index($1, f) > 0) s += $2 }
                                END { printf "%.0f\n", s }' "$1"
}
mfloat() { awk -v n="$2" '$1 !~ /^#/ { k = $1; sub(/\{.*/, "", k); if (k == n) v = $2 } END { print v + 0 }' "$1"; }
mdelta() { echo $(($(mget "$2" "$3" "${4:-}") - $(mget "$1" "$3" "${4:-}"))); }  # mdelta BEFORE AFTER NAME [LABEL]
# Loop gaps over BOUND seconds between two snapshots.
gaps_over() {
  local over_a over_b
  over_a=$(($(mget "$1" wggate_control_loop_gap_seconds_count) - $(mget "$1" wggate_control_loop_gap_seconds_bucket "le=\"$3\"")))
  over_b=$(($(mget "$2" wggate_control_loop_gap_seconds_count) - $(mget "$2" wggate_control_loop_gap_seconds_bucket "le=\"$3\"")))
  echo $((over_b - over_a))
}
# CPU ticks (utime + stime, 1/CLK_TCK s) of one thread of wggate; the main thread (tid = pid) is control.
clk_tck=$(getconf CLK_TCK)
thread_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$gw_pid/task/$1/stat"; }
# Nanoseconds a thread waited on a run queue, runnable but not running (schedstat's second field): CPU starvation.
thread_waited() { awk '{ print $2 }' "/proc/$gw_pid/task/$1/schedstat"; }
log "wggate threads: $(for t in "/proc/$gw_pid/task/"*; do printf '%s=%s ' "${t##*/}" "$(cat "$t/comm")"; done)"

# --- 1. handshake flood ---------------------------------------------------------------------------------------
log "scenario hs-flood: valid-mac1 initiations at $FLOOD_RATE/s for ${FLOOD_SECONDS}s from 198.18.0.0/15," \
    "sent by the router"
flood_failures=${#failures[@]}
worker_tid=$(grep -l '^rte-worker' "/proc/$gw_pid/task/"*/comm | head -n 1 | awk -F/ '{ print $5 }')
[ -n "$worker_tid" ] || fail "setup: wggate has no thread named rte-worker-*"
# The legitimate peers' UDP as it enters and leaves wggate (the flood's sources are filtered out in the kernel).
start_capture legit "$ns_router" brp-gw udp and '(' host 172.31.61.2 or host 172.31.62.2 ')'
legit_cap=$SPAWNED_PID
scrape > "$E2E_TMP/metrics-flood-before.txt"
# FLOOD_SENDERS processes share the rate: on a busy host one Python process alone may not reach it.
flood_pids=()
for i in $(seq "$FLOOD_SENDERS"); do
  spawn "hs-flood-$i" ip netns exec "$ns_router" python3 "$traffic" hs-flood "$gw_pub" 172.31.61.1 51820 \
    198.18.0.0 15 "$(calc "$FLOOD_RATE / $FLOOD_SENDERS" 0)" "$FLOOD_SECONDS"
  flood_pids+=("$SPAWNED_PID")
done
flooding() { local p; for p in "${flood_pids[@]}"; do exited "$p" || return 0; done; return 1; }
flood_over() { ! flooding; }
fc0=$(thread_ticks "$gw_pid"); fw0=$(thread_ticks "$worker_tid"); ft0=$(now_s)
fq0=$(thread_waited "$gw_pid"); wq0=$(thread_waited "$worker_tid")
# Every 0.5 s: time, under load, handshake ring backlog, refused by the full ring so far, longest loop gap so far.
sample_load() {
  while :; do
    scrape | awk -v t="$(date +%s.%N)" '
      /^wggate_under_load[{ ]/ { u = $2 }
      /^wggate_ring_entries\{/ && /ring="handshake"/ { r = $2 }
      /^wggate_ring_full_drops_total\{/ && /ring="handshake"/ { f = $2 }
      /^wggate_control_loop_gap_max_seconds/ { g = $2 }
      END { printf "%.3f %d %d %d %s\n", t, u, r, f, g + 0 }' >> "$E2E_TMP/load-samples.txt" || true
    sleep 0.5
  done
}
spawn load-sampler bash -c "$(declare -f scrape sample_load); ns_gw=$ns_gw E2E_TMP=$E2E_TMP; sample_load"
sampler=$SPAWNED_PID
# The senders first build their packets: the checks start once the flood has put wggate under load.
under_load() { [ "$(scrape | awk '/^wggate_under_load[{ ]/ { print $2 }')" = 1 ]; }
end=$((SECONDS + 20))
until under_load; do
  if [ "$SECONDS" -ge "$end" ]; then soft_fail "hs-flood: wggate was not under load 20 s after the flood began"; break; fi
  sleep 0.2
done
log "  under load $((SECONDS - end + 20)) s after the senders started"

# force_handshake NAME NS IFACE ALLOWED_IPS TARGET: the peer forgets its session with wggate (peer removed and
# added again), then pings TARGET through the tunnel every 0.2 s for at most HS_LIMIT s; sets hs_took (seconds
# to the first answer, "" if none) and hs_start, and checks that the peer's latest handshake moved.
force_handshake() {
  local name=$1 ns=$2 ifc=$3 allowed=$4 target=$5
  local before after pid first=""
  before=$(wg_latest_handshake "$ns" "$ifc" "$gw_pub")
  ip netns exec "$ns" wg set "$ifc" peer "$gw_pub" remove
  ip netns exec "$ns" wg set "$ifc" peer "$gw_pub" allowed-ips "$allowed" endpoint 172.31.61.1:51820
  hs_start=$(now_s)
  spawn "fresh-$name" ip netns exec "$ns" ping -n -D -i 0.2 -W 1 -w "$HS_LIMIT" "$target"
  pid=$SPAWNED_PID
  first_reply() { awk '/bytes from/ { print substr($1, 2, length($1) - 2); exit }' "$E2E_TMP/fresh-$name.log" 2>/dev/null || true; }
  while [ -z "$first" ]; do
    first=$(first_reply)
    exited "$pid" && break
    sleep 0.1
  done
  [ -n "$first" ] || first=$(first_reply)
  kill "$pid" 2>/dev/null || true
  after=$(wg_latest_handshake "$ns" "$ifc" "$gw_pub")
  hs_took=""
  [ -z "$first" ] || hs_took=$(calc "$first - $hs_start")
  local running; running=$(flooding && echo yes || echo no)
  if [ -z "$hs_took" ] || awk "BEGIN { exit !($hs_took > $HS_LIMIT) }"; then
    soft_fail "hs-flood: the $name peer did not complete a fresh handshake within ${HS_LIMIT}s: no ping from its" \
              "side answered (latest handshake before ${before:-0}, now ${after:-0}; flood still running: $running;" \
              "ping said: $(grep -v '^PING\|^$' "$E2E_TMP/fresh-$name.log" | paste -sd ' ' -))"
    log "  $name peer's routes: $(ip -n "$ns" route show | paste -sd ';' -); links: $(ip -n "$ns" -br link | paste -sd ';' -)"
    hs_took=""
  elif [ "${after:-0}" -le "${before:-0}" ]; then
    soft_fail "hs-flood: the $name peer's ping answered after ${hs_took}s but its latest handshake did not move" \
              "(before $before, now ${after:-0})"
  else
    log "  $name peer: fresh handshake, first answer after ${hs_took}s (latest handshake $before -> $after;" \
        "flood still running: $running)"
  fi
}
# The handshake messages of one peer in the capture, from T0 on: "+seconds direction type", one per line.
hs_timeline() {
  tcpdump -n -tt -r "$E2E_TMP/legit.pcap" "udp and host $1 and (udp[4:2] = 156 or udp[4:2] = 100 or udp[4:2] = 72)" \
    2>/dev/null | awk -v t0="$2" -v peer="$1" '{
      dir = index($3, peer) == 1 ? "peer->wggate" : "wggate->peer"
      n = $NF; type = n == 148 ? "initiation" : n == 92 ? "response" : n == 64 ? "cookie-reply" : n
      if ($1 >= t0) printf "+%.2fs %s %s\n", $1 - t0, dir, type }'
}

spawn established ip netns exec "$ns_client" ping -n -q -i 0.05 -c 200 -W 2 10.62.0.1
est=$SPAWNED_PID
force_handshake off-link "$ns_off" "$wg_off" 10.61.0.0/24 10.61.0.2
hs_off=$hs_took; hs_off_start=$hs_start
wait_for 30 "the established-tunnel pings to end" exited "$est"
est_rx=$(awk '/received/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^received/) print $i }' "$E2E_TMP/established.log")
est_rx=${est_rx:-0}
est_rtt=$(awk -F/ '/^rtt/ { print $5 " ms avg, " $6 " max" }' "$E2E_TMP/established.log")
force_handshake on-link "$ns_remote" "$wg_if" 10.61.0.0/24,fd61::/64 10.61.0.2
hs_on=$hs_took; hs_on_start=$hs_start
flood_alive_at_end=$(flooding && echo yes || echo no)
wait_for $((FLOOD_SECONDS + 30)) "the handshake flood to end" flood_over
fc1=$(thread_ticks "$gw_pid"); fw1=$(thread_ticks "$worker_tid"); ft1=$(now_s)
fq1=$(thread_waited "$gw_pid"); wq1=$(thread_waited "$worker_tid")
kill "$sampler" 2>/dev/null || true
sleep 1  # the backlog drains
scrape > "$E2E_TMP/metrics-flood-after.txt"
stop_capture "$legit_cap"
b="$E2E_TMP/metrics-flood-before.txt"; a="$E2E_TMP/metrics-flood-after.txt"
# Each sender: "sent N in S s: R/s"; together: the sum of N over the longest S.
flood_rate=$(cat "$E2E_TMP"/hs-flood-*.log | awk '/^sent/ { n += $2; if ($4 > s) s = $4 } END { printf "%d", (s > 0) ? n / s : 0 }')
flood_line="$(cat "$E2E_TMP"/hs-flood-*.log | awk '/^sent/ { printf "%s[%s] ", sep, $0; sep = "" }') = ${flood_rate}/s"
flood_cpu=$(cat "$E2E_TMP"/hs-flood-*.log | awk '/^send errors/ { e += $3; u += $6; k += $10 }
  END { printf "send errors %d; the senders used %.1f s user + %.1f s system CPU", e, u, k }')
loss=$(calc "(200 - $est_rx) / 2" 1)
handed=$(mdelta "$b" "$a" wggate_to_control_handshake_total)
rx_outside=$(mdelta "$b" "$a" wggate_rx_outside_packets_total)
flood_sent=$(cat "$E2E_TMP"/hs-flood-*.log | awk '/^sent/ { n += $2 } END { print n + 0 }')
ring_full=$(mdelta "$b" "$a" wggate_ring_full_drops_total 'ring="handshake"')
entered=$(mdelta "$b" "$a" wggate_under_load_entered_total)
cookies=$(mdelta "$b" "$a" wggate_cookie_replies_sent_total)
r_cookie=$(mdelta "$b" "$a" wggate_handshakes_rejected_total 'reason="cookie_required"')
r_mac=$(mdelta "$b" "$a" wggate_handshakes_rejected_total 'reason="invalid_mac"')
r_rate=$(mdelta "$b" "$a" wggate_handshakes_rejected_total 'reason="rate_limited"')
r_static=$(mdelta "$b" "$a" wggate_handshakes_rejected_total 'reason="bad_static_tag"')
r_all=$(mdelta "$b" "$a" wggate_handshakes_rejected_total)
completed=$(mdelta "$b" "$a" wggate_handshakes_completed_total 'role="responder"')
imissed=$(mdelta "$b" "$a" wggate_port_imissed_total)
ctl_drops=$(awk '/^wggate_control_drops_total\{/ && $2 > 0 { sub(/.*reason="/, "", $1); sub(/".*/, "", $1); printf "%s=%s ", $1, $2 }' "$a")
gap20=$(gaps_over "$b" "$a" 0.02); gap100=$(gaps_over "$b" "$a" 0.1); gap1s=$(gaps_over "$b" "$a" 1)
passes=$(mdelta "$b" "$a" wggate_control_loop_gap_seconds_count)
maxgap=$(mfloat "$a" wggate_control_loop_gap_max_seconds)
flood_secs=$(calc "$ft1 - $ft0" 1)
ctl_cpu=$(calc "($fc1 - $fc0) / $clk_tck / ($ft1 - $ft0) * 100" 0)
wrk_cpu=$(calc "($fw1 - $fw0) / $clk_tck / ($ft1 - $ft0) * 100" 0)
read -r samples loaded max_backlog < <(awk '{ n++; if ($2 > 0) u++; if ($3 > m) m = $3 } END { print n + 0, u + 0, m + 0 }' \
                                        "$E2E_TMP/load-samples.txt" 2>/dev/null || echo "0 0 0")
log "  flood ($FLOOD_SENDERS senders): $flood_line ($flood_cpu); load average $(cut -d' ' -f1-3 /proc/loadavg)"
log "  wggate: received $rx_outside packets on the outside port (the flood sent $flood_sent: the rest was lost in the" \
    "kernel, af_packet's ring or the veth backlog); $handed handshake messages handed to control" \
    "($(calc "$handed / $flood_secs" 0)/s), $ring_full refused by the full handshake ring; port imissed $imissed"
log "  under load in $loaded of $samples samples (entered $entered times); handshake ring backlog up to $max_backlog"
log "  rejected: cookie_required $r_cookie, invalid_mac $r_mac, rate_limited $r_rate, bad_static_tag $r_static" \
    "(all reasons $r_all); cookie replies sent $cookies; handshakes completed as responder $completed"
log "  control drops since start: ${ctl_drops:-none}"
log "  CPU over the ${flood_secs}s of the flood: control thread $ctl_cpu %, worker thread $wrk_cpu % of a CPU;" \
    "time spent runnable but waiting for a CPU: control $(calc "($fq1 - $fq0) / 1e9" 1) s," \
    "worker $(calc "($wq1 - $wq0) / 1e9" 1) s"
# The worker polls without ever sleeping: less than half a CPU means the host gave it no more.
[ "$wrk_cpu" -ge 50 ] || log "  WARNING: the worker thread got only $wrk_cpu % of a CPU: this host is oversubscribed" \
                             "(load average $(cut -d' ' -f1-3 /proc/loadavg)); the timings below measure that too"
log "  control loop: $passes passes, $gap20 gaps > 20 ms, $gap100 > 100 ms, $gap1s > 1 s; longest since start ${maxgap}s"
# net_af_packet's fanout spreads flows over every queue, the control thread's own included: say where they went.
log "  established tunnel: $est_rx of 200 answered (loss $loss %; rtt $est_rtt); packets decrypted during the" \
    "flood by the worker $(mdelta "$b" "$a" wggate_decrypted_packets_total 'worker="0"'), by the control thread's" \
    "own queue $(mdelta "$b" "$a" wggate_decrypted_packets_total 'worker="control"')"
log "  fresh handshakes: off-link ${hs_off:-none}${hs_off:+s}, on-link ${hs_on:-none}${hs_on:+s}" \
    "(flood still running at the end: $flood_alive_at_end)"
for peer in off-link:172.31.62.2:"$hs_off_start" on-link:172.31.61.2:"$hs_on_start"; do
  IFS=: read -r pname pip pstart <<<"$peer"
  log "  $pname peer's handshake messages at wggate's port after its session was dropped:" \
      "$(hs_timeline "$pip" "$pstart" | head -n 12 | paste -sd ';' -)"
done
[ "${flood_rate:-0}" -ge 20000 ] ||
  soft_fail "hs-flood: the senders reached only ${flood_rate:-0}/s (< 20,000/s): ${flood_line:-no summary}"
[ "$r_cookie" -gt 0 ] || soft_fail "hs-flood: no cookie_required rejection (under load $loaded/$samples samples)"
[ "$entered" -gt 0 ] || soft_fail "hs-flood: wggate never went under load"
[ "$r_mac" -le 10 ] ||
  soft_fail "hs-flood: $r_mac initiations refused for an invalid mac1 (the flood's mac1 must be valid)"
[ "$est_rx" -ge 196 ] ||
  soft_fail "hs-flood: the established tunnel lost $((200 - est_rx)) of 200 pings ($loss % > 2 %)"
[ "$flood_alive_at_end" = yes ] ||
  soft_fail "hs-flood: the flood ended before the last handshake check did (raise FLOOD_SECONDS)"
[ "${#failures[@]}" -gt "$flood_failures" ] ||
  pass "hs-flood (${flood_rate}/s; handshakes off-link ${hs_off}s, on-link ${hs_on}s; established loss $loss %)"

# --- 2. ARP spoofing of the OutsideGateway --------------------------------------------------------------------------
wait_for 30 "the tunnel to the on-link peer after the flood" ping_once "$ns_client" 10.62.0.1
wait_for 30 "the tunnel to the off-link peer after the flood" ping_once "$ns_client" 10.64.0.1
bogus_mac=02:66:6c:6f:6f:64
log "scenario arp-spoof: the remote says '$router_ip is at $bogus_mac' to wggate, 10/s for ${ARP_SECONDS}s"
spoof_failures=${#failures[@]}
believed_before=$(grep -c "outside neighbour $router_ip is $bogus_mac" "$E2E_TMP/wggate.log" || true)
watch=$((ARP_SECONDS * 2 + RECOVERY_WAIT + 4))
spawn offping ip netns exec "$ns_client" ping -n -D -i 0.1 -W 1 -w "$watch" 10.64.0.1
offping=$SPAWNED_PID
sleep 1
scrape > "$E2E_TMP/metrics-arp-baseline.txt"
c0=$(thread_ticks "$gw_pid"); t0=$(now_s)
sleep "$ARP_SECONDS"
c1=$(thread_ticks "$gw_pid"); t1=$(now_s)
scrape > "$E2E_TMP/metrics-arp-before.txt"
spawn arp-spoof ip netns exec "$ns_remote" python3 "$traffic" arp-spoof out-remote "$gw_mac" "$router_ip" "$bogus_mac" \
  172.31.61.1 10 "$ARP_SECONDS"
spoofer=$SPAWNED_PID
c2=$(thread_ticks "$gw_pid"); t2=$(now_s)
wait_for $((ARP_SECONDS + 15)) "the ARP spoofer to end" exited "$spoofer"
c3=$(thread_ticks "$gw_pid"); t3=$(now_s)
scrape > "$E2E_TMP/metrics-arp-after.txt"
last_arp=$(awk '/^last/ { print $2 }' "$E2E_TMP/arp-spoof.log")
first_arp=$(awk '/^first/ { print $2 }' "$E2E_TMP/arp-spoof.log")
[ -n "$last_arp" ] || fail "arp-spoof: the spoofer printed no time of its last ARP: $(cat "$E2E_TMP/arp-spoof.log")"
wait_for $((RECOVERY_WAIT + 10)) "the off-link pings to end" exited "$offping"
base_cpu=$(calc "($c1 - $c0) / $clk_tck / ($t1 - $t0) * 100" 1)
attack_cpu=$(calc "($c3 - $c2) / $clk_tck / ($t3 - $t2) * 100" 1)
extra_cpu=$(calc "$attack_cpu - $base_cpu" 1)
# Replies (ping -D: "[unix time] 64 bytes from ..."): during the attack, and the first one after it.
read -r during first_after < <(awk -v a="$first_arp" -v z="$last_arp" '/bytes from/ {
    t = substr($1, 2, length($1) - 2) + 0
    if (t >= a && t <= z) n++
    if (t > z && f == 0) f = t }
  END { printf "%d %.6f\n", n, f }' "$E2E_TMP/offping.log")
recovery=""
awk "BEGIN { exit !($first_after > 0) }" && recovery=$(calc "$first_after - $last_arp")
sent_arp=$(awk '/^sent/ { print $2 }' "$E2E_TMP/arp-spoof.log")
ba="$E2E_TMP/metrics-arp-before.txt"; aa="$E2E_TMP/metrics-arp-after.txt"
neigh_to=$(mdelta "$ba" "$aa" wggate_to_control_neighbor_total)
arp_gap20=$(gaps_over "$ba" "$aa" 0.02)
base_gap20=$(gaps_over "$E2E_TMP/metrics-arp-baseline.txt" "$ba" 0.02)
neigh_lines=$(grep "outside neighbour $router_ip is" "$E2E_TMP/wggate.log" | tail -n 4 || true)
believed=$(($(grep -c "outside neighbour $router_ip is $bogus_mac" "$E2E_TMP/wggate.log" || true) - believed_before))
disputed=$(mdelta "$ba" "$aa" wggate_neighbor_claims_disputed_total)
log "  spoofed ARPs sent: ${sent_arp:-?} ($neigh_to ARP/NDP frames handed to control meanwhile); wggate took the" \
    "bogus MAC for the OutsideGateway's $believed times (its log), disputed $disputed claims (metric, if any)"
log "  control thread CPU: ${base_cpu} % of a CPU before, ${attack_cpu} % during (+${extra_cpu} %);" \
    "gaps > 20 ms: $base_gap20 before, $arp_gap20 during"
log "  off-link tunnel: $during of $((ARP_SECONDS * 10)) pings answered during the attack; first answer after the" \
    "last spoofed ARP: $([ -n "$recovery" ] && echo "${recovery}s later" || echo "none within ${RECOVERY_WAIT}s")"
log "  wggate's view of the OutsideGateway (last lines of its log):"
while IFS= read -r l; do [ -z "$l" ] || log "    $l"; done <<<"$neigh_lines"
awk "BEGIN { exit !($extra_cpu < 20) }" ||
  soft_fail "arp-spoof: the control thread used ${attack_cpu} % of a CPU during the attack, ${base_cpu} % before (+${extra_cpu} % >= 20 %)"
if [ -z "$recovery" ]; then
  soft_fail "arp-spoof: the off-link tunnel did not answer within ${RECOVERY_WAIT}s after the last spoofed ARP" \
            "($during of $((ARP_SECONDS * 10)) answered during the attack)"
elif awk "BEGIN { exit !($recovery > 1) }"; then
  soft_fail "arp-spoof: the off-link tunnel answered again only ${recovery}s after the last spoofed ARP (> 1 s)"
fi
[ "${#failures[@]}" -gt "$spoof_failures" ] ||
  pass "arp-spoof (control +${extra_cpu} % CPU; off-link tunnel back ${recovery}s after the attack)"

gw_stop
if [ "${#failures[@]}" -gt 0 ]; then
  printf 'FAIL: %s\n' "${failures[@]}" >&2
  fail "${#failures[@]} check(s) failed, $passed scenario(s) passed"
fi
log "all $passed flood scenarios passed"
