#!/usr/bin/env bash
# One peer's traffic on every worker, in order (issue 14, dataplane/spread.h), against the real wireguard-go
# (topology in gateway_lib.sh): wggate with 4 workers on 2 CPUs and one peer. The peer's outer flow (one UDP
# 5-tuple) arrives on one RX queue, i.e. one worker (its owner), unless that worker hands slices of its
# bursts to the others; the owner sends the results itself, in order.
#   start-up: 4 workers, spread on, the test's rekey interval (WGGATE_REKEY_AFTER_SECONDS=5) taken, af_packet
#      rings of AF_PACKET_FRAMES (4096) frames a queue; a ping first, so that wggate is the initiator (only
#      the initiator rekeys on REKEY_AFTER_TIME).
#   A. spread + rekeys (no roam): a 30 MB TCP flow each way (1 MB chunks paced over 15 s: each leaves as a
#      burst at full speed) and a numbered UDP stream each way (20000 datagrams of 1000 bytes, bursts of 16
#      at 1600/s), all at once. Must hold: sha256 intact both ways; each UDP stream in order, no duplicate,
#      nothing lost; >= 2 handshakes completed during the phase (rekeys while it all runs); no replay drop;
#      >= 3 of the 4 workers carry >= 10 % of the phase's encrypted packets and >= 3 of 4 of its decrypted
#      packets (per-worker deltas of wggate_encrypted/decrypted_packets_total); and that is spreading, not
#      flows that happened to land on different queues: the worker polling the outer flow's queue queued
#      slices (wggate_spread_slices_total{kind="queued"}) and >= 2 other workers helped (kind="helped").
#   B. roam during a transfer: a 10 MB TCP flow each way (over 10 s) and a numbered UDP stream each way (16000
#      datagrams, 10 s); once 40 % of the upload arrived (a condition, not a time), the remote roams (wireguard-go
#      moves to another listen port) while everything runs. Must hold: sha256 intact; wggate's endpoint (as
#      wg show reads it) follows; no duplicate; nothing lost but what reached the remote's old port as it
#      closed (client -> remote: datagrams sent from 1 s before the move until wggate followed, in one run
#      of consecutive numbers (the old socket's queue when it closed), or in several while the remote counted
#      datagrams to a closed port: slices of one burst are encrypted in parallel, each reading the endpoint
#      when it is processed, as the kernel's parallel encryption does); no replay drop; out of order only remote -> client datagrams sent within 1 s after the move.
#      Why those may be: wggate keeps order per RX queue (a queue is one owner, and the owner sends in the
#      order the queue gave). The remote's new source port is a new 5-tuple, which the kernel's fanout hash
#      (as RSS on a NIC) puts on another queue, another owner: datagrams of the new source can leave before
#      those of the old one still waiting on the old queue. That is multi-queue receive, the same with
#      Spread = off. The datagrams so overtaken are the last ones wireguard-go sent from the old port, i.e.
#      written by the sender between the start of the move and the rebind (wg set takes ~0.3 s here), hence
#      the window. The client -> remote stream's inside flow keeps its queue: nothing of it may be reordered.
# A loss in either phase is also forgiven when the kernel counted at least as many drops on that stream's way
# outside wggate (the remote's TUN queue, the veths, the receiving sockets): the kernel's, on a machine short
# of CPU. Printed for diagnosis, per phase: per-worker packets each way, spread slices by kind, reorder-window
# back-pressure, batch sizes, busy polls, per worker what it received and queued for others and where its busy
# time went, the CPU time each worker thread got and waited for (schedstat), packets per RX queue and the
# worker that polls it (af_packet's fanout rollover shows there), drops that grew, the kernel's UDP counters. A failed check is listed and the
# next phase still runs; the test fails at the end with every failed check.
# Usage: gateway_spread_test.sh BUILD_DIR   (about 2 minutes on a 2-CPU machine)
# SPREAD_SHARES=report (diagnosis): the ">= 3 of 4 workers" bar is logged, not required; everything else still
# is.
# Knobs for diagnosis, not for CI: LCORES (the lcore-to-CPU map), SPREAD=off (the same with [Gateway]
# Spread = off), AF_PACKET_FRAMES, TCP_SECONDS / TCP_CHUNK (phase A's TCP pacing; 0 seconds: as fast as TCP
# goes), KEEP_LOGS=DIR (the run's logs, metric scrapes and queue counts copied there at exit).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"
traffic="$here/spread_traffic.py"

workers=4
a_mb=30 a_tcp_seconds=${TCP_SECONDS:-15} tcp_chunk=${TCP_CHUNK:-1048576} a_udp_count=20000
b_mb=10 b_tcp_seconds=10 b_udp_count=16000
udp_rate=1600 udp_burst=16 udp_size=1000
roam_port=51830

# 4 workers on 2 CPUs: lcore 0 (control) and worker lcore 2 on CPU 0, worker lcores 1, 3 and 4 on CPU 1.
export WORKERS=$workers
export LCORES=${LCORES:-0@0,1@1,2@0,3@1,4@1}
# af_packet's default ring (512 frames a queue) fills in a few ms of a descheduled worker, and at ~3/4 full
# the kernel's fanout (PACKET_FANOUT_FLAG_ROLLOVER, set by DPDK 22.11's PMD) moves the flow to another
# queue: another worker, which may send it before what waits on the first (reordered by the test rig).
export AF_PACKET_FRAMES=${AF_PACKET_FRAMES:-4096}
export WGGATE_REKEY_AFTER_SECONDS=5
[ "$(nproc)" -ge 2 ] || fail "needs 2 CPUs for LCORES=$LCORES"
test_start=$SECONDS

build=${1:?usage: gateway_spread_test.sh BUILD_DIR}
[ -d "$build" ] || fail "build directory '$build' does not exist"
GW_BIN=$(cd "$build" && pwd)/control/wggate
[ -x "$GW_BIN" ] || fail "missing $GW_BIN (build first: ninja -C $build control/wggate)"
need_root
need wireguard-go wg ip ping ethtool curl python3 sha256sum flock
if [ -n "${KEEP_LOGS:-}" ]; then
  mkdir -p "$KEEP_LOGS"
  on_cleanup "cp -p $E2E_TMP/*.log $E2E_TMP/*.prom $E2E_TMP/*.queues $E2E_TMP/*.ifdrops $E2E_TMP/*.txt '$KEEP_LOGS'/"
fi
gw_setup_topology
gw_write_config
# SPREAD=off: the same run with spreading off, to tell the dataplane's part from the kernel's in a failure.
[ "${SPREAD:-on}" = on ] || echo "Spread = $SPREAD" >> "$E2E_TMP/wggate.conf"
# wireguard-go (v0.0.20220316 here) leaves its UDP socket at the kernel's default receive buffer (208 KB):
# descheduled for a few ms on 2 busy CPUs while a TCP burst arrives, it overflows (RcvbufErrors) and loses
# datagrams before wggate's part is even in question. net.core.rmem_default is host-wide (read-only in a
# namespace): raised only while wireguard-go rebinds (its new socket takes 4 MB), restored at once; a lock
# keeps two runs from restoring each other's raised value.
rmem_lock=/run/lock/wggate-e2e-rmem.lock
rmem_was=$(flock -w 30 "$rmem_lock" sysctl -n net.core.rmem_default)
on_cleanup "exec 9>&-; flock -w 5 $rmem_lock sysctl -qw net.core.rmem_default=$rmem_was"  # killed in the window
with_big_rmem() {
  local rc=0
  exec 9>"$rmem_lock"
  flock -w 30 9 || fail "no lock on $rmem_lock within 30 s"
  sysctl -qw net.core.rmem_default=4194304
  "$@" || rc=$?
  sysctl -qw net.core.rmem_default="$rmem_was"
  exec 9>&-
  return "$rc"
}
with_big_rmem ip netns exec "$ns_remote" wg set "$wg_if" listen-port 51821
with_big_rmem ip netns exec "$ns_remote" wg set "$wg_if" listen-port 51820
# Likewise its TUN queue (500 packets): what the remote sends waits there for wireguard-go, which a busy CPU
# may keep away for longer than that (tx_dropped).
ip -n "$ns_remote" link set "$wg_if" txqueuelen 10000
ip netns exec "$ns_remote" ss -uamnH 'sport = :51820' | grep -q 'rb[0-9]\{7,\}' \
  || fail "wireguard-go's socket did not take the bigger buffer: $(ip netns exec "$ns_remote" ss -uamnH 'sport = :51820')"
gw_start
gw_name="wgg$((E2E_SUFFIX % 100000))"
prefix="wggate-$E2E_SUFFIX"

# --- start-up -------------------------------------------------------------------------------------------------
grep -q "rekey after 5 s" "$E2E_TMP/wggate.log" \
  || fail "start-up: wggate did not take WGGATE_REKEY_AFTER_SECONDS=5: $(head -n 5 "$E2E_TMP/wggate.log")"
grep -q "$workers worker(s), .*spread ${SPREAD:-on}" "$E2E_TMP/wggate.log" \
  || fail "start-up: want $workers workers with spread ${SPREAD:-on}: $(grep 'listening on UDP' "$E2E_TMP/wggate.log")"
log "wggate: $(grep -o 'listening on UDP.*' "$E2E_TMP/wggate.log" | sed 's/, crypto engine .*spread/, ... spread/')" \
    "(lcores $LCORES, af_packet rings of $AF_PACKET_FRAMES frames)"

n=$(ping_replies "$ns_client" 5 10.62.0.1)
[ "$n" -ge 4 ] || fail "ping: $n of 5 echo replies from 10.62.0.1 through the tunnel (want >= 4)"
log_has "response from 172.31.61.2:51820 accepted: session established" \
  || fail "ping: wggate did not initiate the session (no accepted response in its log)"
pass "start-up ($workers workers, spread ${SPREAD:-on}, rekey after 5 s; $n/5 pings, wggate initiated)"

# --- helpers ----------------------------------------------------------------------------------------------------
mkdir -p "$E2E_TMP/data"
failures=()
failed() { failures+=("$*"); log "FAILED: $*"; }
scrape() { ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics; }
ready() { grep -q '^ready' "$E2E_TMP/$1.log"; }
py() { python3 "$traffic" "$@"; }
result() { awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' <<<"$2"; }
# per_worker VALUE_LIST WORKER: from "0:12,1:3,..." the value of that worker
per_worker() { tr ',' '\n' <<<"$1" | awk -F: -v w="$2" '$1 == w { print $2 }'; }
udp_counter() {  # udp_counter NS NAME: a UDP counter of /proc/net/snmp in that namespace
  ip netns exec "$1" awk -v n="$2" '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c[n] }' /proc/net/snmp
}
# Drops the kernel counted on every interface of the path ("ns/if rx_dropped tx_dropped" lines): the remote's
# tunnel device (a full TUN queue), the veths, af_packet's side of the gateway's.
if_drops() {
  local ns ifc
  for x in "$ns_remote/$wg_if" "$ns_remote/out-remote" "$ns_gw/out-gw" "$ns_gw/in-gw" "$ns_client/in-host"; do
    ns=${x%/*}; ifc=${x#*/}
    echo "$x $(ip netns exec "$ns" cat "/sys/class/net/$ifc/statistics/rx_dropped" "/sys/class/net/$ifc/statistics/tx_dropped" | paste -sd ' ')"
  done
}
# snapshot NAME: what a phase's checks compare, before and after it.
snapshot() {
  scrape > "$E2E_TMP/$1.prom" || fail "$1: the metrics exporter did not answer"
  ip netns exec "$ns_gw" python3 "$traffic" queues "$prefix" > "$E2E_TMP/$1.queues" || true
  gw_counters "$E2E_TMP/$1.drops"
  if_drops > "$E2E_TMP/$1.ifdrops"
  echo "$(udp_counter "$ns_remote" NoPorts) $(udp_counter "$ns_remote" RcvbufErrors) $(udp_counter "$ns_client" RcvbufErrors)" \
    > "$E2E_TMP/$1.udp.txt"
  py threads "$gw_pid" > "$E2E_TMP/$1.threads.txt" || true
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# start_phase PHASE MB TCP_SECONDS UDP_COUNT TCP_PORT UDP_PORT: receivers (TCP upload on the remote at
# 10.62.0.1:TCP_PORT, download on the client at 10.61.0.2:TCP_PORT+1; UDP client -> remote on 10.62.0.1:UDP_PORT,
# remote -> client on 10.61.0.2:UDP_PORT+1), a snapshot, then the senders, all at once. PIDs in phase_pids,
# the senders' in sender_pids.
start_phase() {
  local ph=$1 mb=$2 secs=$3 count=$4 tp=$5 up=$6 r d="$E2E_TMP/data"
  make_file "$d/$ph-up.bin" "$mb"; make_file "$d/$ph-down.bin" "$mb"
  phase_pids=(); sender_pids=()
  spawn "$ph-tcp-up-recv" ip netns exec "$ns_remote" python3 -u "$traffic" tcp-recv 10.62.0.1 "$tp" "$d/$ph-up.got" 90
  phase_pids+=("$SPAWNED_PID")
  spawn "$ph-tcp-down-recv" ip netns exec "$ns_client" python3 -u "$traffic" tcp-recv 10.61.0.2 $((tp + 1)) "$d/$ph-down.got" 90
  phase_pids+=("$SPAWNED_PID")
  spawn "$ph-udp-up-recv" ip netns exec "$ns_remote" python3 -u "$traffic" udp-recv 10.62.0.1 "$up" "$count" 5 90 "$d/$ph-udp-up"
  phase_pids+=("$SPAWNED_PID")
  spawn "$ph-udp-down-recv" ip netns exec "$ns_client" python3 -u "$traffic" udp-recv 10.61.0.2 $((up + 1)) "$count" 5 90 "$d/$ph-udp-down"
  phase_pids+=("$SPAWNED_PID")
  for r in tcp-up-recv tcp-down-recv udp-up-recv udp-down-recv; do wait_for 15 "$ph: $r to be ready" ready "$ph-$r"; done
  wait_for 10 "the metrics exporter to answer" scrape
  snapshot "$ph-before"
  phase_t0=$EPOCHREALTIME
  spawn "$ph-tcp-up-send" ip netns exec "$ns_client" python3 -u "$traffic" tcp-send 10.62.0.1 "$tp" "$d/$ph-up.bin" "$secs" "$tcp_chunk"
  sender_pids+=("$SPAWNED_PID")
  spawn "$ph-tcp-down-send" ip netns exec "$ns_remote" python3 -u "$traffic" tcp-send 10.61.0.2 $((tp + 1)) "$d/$ph-down.bin" "$secs" "$tcp_chunk"
  sender_pids+=("$SPAWNED_PID")
  spawn "$ph-udp-up-send" ip netns exec "$ns_client" python3 -u "$traffic" udp-send 10.62.0.1 "$up" "$count" "$udp_rate" "$udp_burst" "$udp_size" "$d/$ph-udp-up.times"
  sender_pids+=("$SPAWNED_PID")
  spawn "$ph-udp-down-send" ip netns exec "$ns_remote" python3 -u "$traffic" udp-send 10.61.0.2 $((up + 1)) "$count" "$udp_rate" "$udp_burst" "$udp_size" "$d/$ph-udp-down.times"
  sender_pids+=("$SPAWNED_PID")
  phase_pids+=("${sender_pids[@]}")
}
all_exited() { local p; for p in "$@"; do exited "$p" || return 1; done; }

# finish_phase PHASE TIMEOUT: waits for every sender and receiver (bounded), then the snapshot and what the
# phase's checks read: report (metrics deltas), queues (per RX queue), drops_grown, if_grown, noports and
# kernel_up / kernel_down (drops the kernel counted on each UDP stream's way outside wggate).
finish_phase() {
  local ph=$1 f
  wait_for "$2" "$ph: every sender and receiver to finish" all_exited "${phase_pids[@]}"
  phase_took=$(elapsed "$phase_t0" "$EPOCHREALTIME")
  gw_alive
  drops_grown=$(gw_counters_grown "$E2E_TMP/$ph-before.drops")
  snapshot "$ph-after"
  local u0 u1
  read -r -a u0 < "$E2E_TMP/$ph-before.udp.txt"; read -r -a u1 < "$E2E_TMP/$ph-after.udp.txt"
  noports=$((u1[0] - u0[0])); bufs_remote=$((u1[1] - u0[1])); bufs_client=$((u1[2] - u0[2]))
  if_grown=$(awk 'NR == FNR { rx[$1] = $2; tx[$1] = $3; next }
    $2 > rx[$1] { printf "%s rx_dropped +%d; ", $1, $2 - rx[$1] } $3 > tx[$1] { printf "%s tx_dropped +%d; ", $1, $3 - tx[$1] }' \
    "$E2E_TMP/$ph-before.ifdrops" "$E2E_TMP/$ph-after.ifdrops")
  if_grown=${if_grown:-none}
  if_delta() {  # if_delta NS/IF rx|tx: the growth of that interface's drop counter over the phase
    awk -v k="$1" -v f="$([ "$2" = rx ] && echo 2 || echo 3)" 'NR == FNR { if ($1 == k) was = $f; next } $1 == k { print $f - was }' \
      "$E2E_TMP/$ph-before.ifdrops" "$E2E_TMP/$ph-after.ifdrops"
  }
  kernel_up=$((bufs_remote + $(if_delta "$ns_client/in-host" tx) + $(if_delta "$ns_remote/out-remote" rx) + $(if_delta "$ns_remote/$wg_if" rx)))
  kernel_down=$((bufs_client + $(if_delta "$ns_remote/$wg_if" tx) + $(if_delta "$ns_remote/out-remote" tx) + $(if_delta "$ns_client/in-host" rx)))
  for f in tcp-up-send tcp-down-send udp-up-send udp-down-send tcp-up-recv tcp-down-recv udp-up-recv udp-down-recv; do
    log "  $f: $(grep -v '^ready' "$E2E_TMP/$ph-$f.log" | tr '\n' ' ')"
  done
  report=$(py metrics-delta "$E2E_TMP/$ph-before.prom" "$E2E_TMP/$ph-after.prom")
  grep -v '^RESULT' <<<"$report" | while IFS= read -r line; do log "  $line"; done
  queues=$(py queues-delta "$E2E_TMP/$ph-before.queues" "$E2E_TMP/$ph-after.queues" "$workers" net_af_packet1 || true)
  grep -v '^RESULT' <<<"$queues" | while IFS= read -r line; do log "  $line"; done
  log "  $(py threads-delta "$E2E_TMP/$ph-before.threads.txt" "$E2E_TMP/$ph-after.threads.txt" "$LCORES" || true)"
  log "  gateway drop counters: $drops_grown"
  log "  kernel: remote UDP NoPorts +$noports (datagrams to a closed port), RcvbufErrors remote +$bufs_remote" \
      "(wireguard-go's and the receiver's sockets), client +$bufs_client; interface drops: $if_grown" \
      "(af_packet ring overflows are in neither: DPDK 22.11's af_packet reports no imissed)"
  cp "$E2E_TMP/data/$ph-udp-up.ooo" "$E2E_TMP/$ph-udp-up.ooo.txt" 2>/dev/null || true
  cp "$E2E_TMP/data/$ph-udp-down.ooo" "$E2E_TMP/$ph-udp-down.ooo.txt" 2>/dev/null || true
}

# check_tcp PHASE: both files intact.
check_tcp() {
  local ph=$1 dir a b ok=1
  for dir in up down; do
    a=$(sha256sum < "$E2E_TMP/data/$ph-$dir.bin" | cut -d' ' -f1)
    b=$(sha256sum < "$E2E_TMP/data/$ph-$dir.got" 2>/dev/null | cut -d' ' -f1 || true)
    if [ "$a" != "$b" ]; then
      ok=0; failed "$ph: tcp-$dir: sha256 mismatch (sent $a, $(stat -c %s "$E2E_TMP/data/$ph-$dir.bin") bytes;" \
        "received ${b:-nothing}, $(stat -c %s "$E2E_TMP/data/$ph-$dir.got" 2>/dev/null || echo 0) bytes)"
    fi
  done
  return $((1 - ok))
}

# check_udp PHASE DIR T0 T1: the stream of that phase and direction (up: client -> remote). T0 = 0: no roam.
# Sets udp_ooo, udp_lost, udp_forgiven (lost to the old port), udp_ooo_roam (out of order as the queue
# changed); returns 1 after recording a failure.
check_udp() {
  local ph=$1 dir=$2 t0=$3 t1=$4 line ooo missing dups losses in_roam runs outside ooo_win ooo_out kernel why ok=1
  local s="$ph-udp-$dir-recv"
  line=$(grep '^received' "$E2E_TMP/$s.log" || true)
  [ -n "$line" ] || { failed "$s: no result line: $(cat "$E2E_TMP/$s.log")"; return 1; }
  read -r _ ooo missing dups < <(sed -E 's/received ([0-9]+) of [0-9]+: out_of_order ([0-9]+), missing ([0-9]+), duplicates ([0-9]+).*/\1 \2 \3 \4/' <<<"$line")
  losses=$(py udp-losses "$E2E_TMP/data/$ph-udp-$dir" "$t0" "$t1" 1.0 1.0)
  grep -v '^RESULT' <<<"$losses" | while IFS= read -r l; do log "  $ph udp-$dir: $l"; done
  in_roam=$(result lost_in_roam "$losses"); runs=$(result lost_in_roam_runs "$losses"); outside=$(result lost_outside "$losses")
  ooo_win=$(result ooo_in_window "$losses"); ooo_out=$(result ooo_outside "$losses")
  kernel=$kernel_down; [ "$dir" = up ] && kernel=$kernel_up
  why="$(grep -v '^ready' "$E2E_TMP/$s.log" | tr '\n' ' ')(gateway: $drops_grown; kernel drops on this stream's way outside wggate +$kernel, remote NoPorts +$noports; interfaces: $if_grown; outer packets off the outer flow's queues: $(result rolled_over "$queues"))"
  # Out of order: only remote -> client datagrams sent within 1 s after the move (the new source's new queue).
  if [ "$dir" = up ] || [ "$t0" = 0 ]; then ooo_out=$((ooo_out + ooo_win)); ooo_win=0; fi
  if [ "$ooo_out" -ne 0 ] || [ "$dups" -ne 0 ]; then
    ok=0; failed "$ph: udp-$dir: $ooo out of order ($ooo_out not explained by a queue change), $dups duplicates: $why"
  fi
  [ "$ooo_win" -eq 0 ] || log "  $ph udp-$dir: $ooo_win datagrams sent within 1 s after the move came out of order (the new source's queue went first): allowed"
  # Nothing of the remote -> client stream goes to the old port. The client -> remote losses in the roam are
  # the old port's when they are one run (what sat in the old socket's queue as wireguard-go closed it: no
  # counter sees those) or the remote counted datagrams to a closed port (after it closed; slices encrypted in
  # parallel can make that several runs).
  if [ "$dir" = down ] || { [ "$runs" -gt 1 ] && [ "$noports" -eq 0 ]; }; then
    outside=$((outside + in_roam)); in_roam=0
  fi
  if [ "$outside" -gt 0 ]; then
    if [ "$kernel" -ge "$outside" ]; then
      log "  $ph udp-$dir: $outside lost, no more than the kernel dropped on the way outside wggate (+$kernel): the kernel's"
    else
      ok=0; failed "$ph: udp-$dir: $outside datagrams lost (not to the roam): $why"
    fi
  fi
  [ "$in_roam" -eq 0 ] || log "  $ph udp-$dir: $in_roam datagrams ($runs runs) lost to the remote's old port during the roam (NoPorts +$noports)"
  summary+=("$ph udp-$dir: ooo $ooo (allowed $ooo_win), missing $missing (old port $in_roam), dups $dups")
  return $((1 - ok))
}

check_replay() {
  [ "$(result replay_label_seen "$report")" = 1 ] || { failed "$1: no wggate_drops_total{reason=\"replay\"} series in the scrape"; return 1; }
  [ "$(result replay_drops "$report")" -eq 0 ] \
    || { failed "$1: replay: wggate_drops_total{reason=\"replay\"} grew by $(result replay_drops "$report")"; return 1; }
}
summary=()

# --- A. spread + rekeys -----------------------------------------------------------------------------------------
log "phase A (spread + rekeys): ${a_mb} MB TCP each way (in $((tcp_chunk / 1024)) KB chunks over ~${a_tcp_seconds} s)," \
    "$a_udp_count UDP datagrams each way ($udp_rate/s in bursts of $udp_burst), no roam"
start_phase A "$a_mb" "$a_tcp_seconds" "$a_udp_count" 9000 9100
finish_phase A 90
a_took=$phase_took
check_tcp A && pass "A: tcp (${a_mb} MB each way, sha256 intact; phase took ${a_took} s)"
a_udp_ok=1
check_udp A up 0 0 || a_udp_ok=0
check_udp A down 0 0 || a_udp_ok=0
[ "$a_udp_ok" = 0 ] || pass "A: udp (2 x $a_udp_count datagrams: none out of order, no duplicate, none lost)"
hs=$(result handshakes_completed "$report"); hsi=$(result handshakes_initiated "$report")
if [ "${hs:-0}" -ge 2 ]; then
  pass "A: rekeys (+$hs handshakes completed, +$hsi initiated during the ${a_took} s phase)"
else
  failed "A: rekeys: only +${hs:-0} handshakes completed (+${hsi:-0} initiated) during the ${a_took} s phase; want >= 2"
fi
check_replay A && pass "A: no replay drop"

enc=$(result encrypt_workers_ge10 "$report"); dec=$(result decrypt_workers_ge10 "$report")
enc_shares=$(result encrypt_shares "$report"); dec_shares=$(result decrypt_shares "$report")
queued=$(result slices_queued "$report"); helped=$(result slices_helped "$report")
reclaimed=$(result slices_reclaimed "$report"); refused=$(result slices_refused "$report")
owner=$(result top_worker_net_af_packet1 "$queues"); inside_top=$(result top_worker_net_af_packet0 "$queues")
helpers=0
for w in $(seq 0 $((workers - 1))); do
  [ "$w" = "$owner" ] || [ "$(per_worker "$helped" "$w")" -eq 0 ] || helpers=$((helpers + 1))
done
owner_queued=$(per_worker "$queued" "$owner")
spread_stats="slices queued $queued, helped $helped, reclaimed $reclaimed, refused $refused; window full $(result window_full "$report"); bursts spread/small/light $(result bursts "$report"); outer flow's worker $owner, busiest inside queue's worker $inside_top"
summary+=("A: took ${a_took} s; encrypt shares $enc_shares ($enc >= 10 %); decrypt shares $dec_shares ($dec >= 10 %); $spread_stats; handshakes +$hs")
if [ "$enc" -ge 3 ] && [ "$dec" -ge 3 ]; then
  pass "A: spread shares ($enc of $workers workers carry >= 10 % of encryption: $enc_shares; $dec of $workers of decryption: $dec_shares)"
elif [ "${SPREAD_SHARES:-require}" = report ]; then
  log "NOT MET (SPREAD_SHARES=report): A: spread shares: $enc of $workers workers carry >= 10 % of encryption ($enc_shares), $dec of $workers of decryption ($dec_shares); want >= 3 each ($spread_stats)"
else
  failed "A: spread shares: $enc of $workers workers carry >= 10 % of encryption ($enc_shares), $dec of $workers of decryption ($dec_shares); want >= 3 each ($spread_stats)"
fi
if [ "${owner_queued:-0}" -gt 0 ] && [ "$helpers" -ge 2 ]; then
  pass "A: spreading happened (worker $owner, the outer flow's, queued $owner_queued slices; $helpers other workers helped: $helped)"
else
  failed "A: spreading: worker $owner (the outer flow's) queued ${owner_queued:-0} slices, $helpers other workers helped; want > 0 and >= 2 ($spread_stats)"
fi

# --- B. roam during a transfer ------------------------------------------------------------------------------------
log "phase B (roam during a transfer): ${b_mb} MB TCP each way over ~${b_tcp_seconds} s, $b_udp_count UDP datagrams" \
    "each way, the remote moving to port $roam_port once 40 % of the upload arrived"
start_phase B "$b_mb" "$b_tcp_seconds" "$b_udp_count" 9010 9110
got_at_least() { [ -f "$1" ] && [ "$(stat -c %s "$1")" -ge "$2" ]; }
wait_for 40 "B: 40 % of the upload to arrive" got_at_least "$E2E_TMP/data/B-up.got" $((b_mb * 1024 * 1024 * 2 / 5))
# The move: wireguard-go closes its socket and binds the new port; its next authenticated packet tells wggate,
# whose endpoint (as wg show reads it) must follow.
roam_t0=$EPOCHREALTIME
with_big_rmem ip netns exec "$ns_remote" wg set "$wg_if" listen-port "$roam_port"  # the new socket's buffer
roam_set=$EPOCHREALTIME
roam_at=$(elapsed "$(awk '/^start/ { print $2 }' "$E2E_TMP/B-tcp-up-send.log" 2>/dev/null || true)" "$roam_t0")
endpoint_is() { wg show "$gw_name" endpoints | grep -q "172.31.61.2:$1"; }
wait_for 20 "B: wggate's endpoint to follow the remote to port $roam_port" endpoint_is "$roam_port"
roam_t1=$EPOCHREALTIME
# It is a roam during the transfer only if the transfer still runs now.
all_running=1
for p in "${sender_pids[@]}"; do exited "$p" && all_running=0; done
log "B: roamed ${roam_at} s after the upload started (wall clock $roam_t0; wg set took" \
    "$(awk -v a="$roam_t0" -v b="$roam_set" 'BEGIN { printf "%.3f", b - a }') s); wggate's endpoint followed within" \
    "$(awk -v a="$roam_t0" -v b="$roam_t1" 'BEGIN { printf "%.2f", b - a }') s: $(wg show "$gw_name" endpoints | cut -f2)"
finish_phase B 60
b_took=$phase_took
if [ "$all_running" = 1 ]; then
  pass "B: roam (endpoint followed to port $roam_port, ${roam_at} s into the transfer, every sender still running)"
else
  failed "B: roam: a sender had finished before the endpoint moved (the roam was not during the transfer)"
fi
check_tcp B && pass "B: tcp (${b_mb} MB each way across the roam, sha256 intact; phase took ${b_took} s)"
b_udp_ok=1
check_udp B up "$roam_t0" "$roam_t1" || b_udp_ok=0
check_udp B down "$roam_t0" "$roam_t1" || b_udp_ok=0
[ "$b_udp_ok" = 0 ] || pass "B: udp (2 x $b_udp_count datagrams: no duplicate, none lost but to the old port, out of order only as the queue changed)"
check_replay B && pass "B: no replay drop"
summary+=("B: took ${b_took} s; roam at ${roam_at} s; encrypt shares $(result encrypt_shares "$report"); decrypt shares $(result decrypt_shares "$report"); slices queued $(result slices_queued "$report"), helped $(result slices_helped "$report"), reclaimed $(result slices_reclaimed "$report")")

# --- result -------------------------------------------------------------------------------------------------------
for s in "${summary[@]}"; do log "SUMMARY $s"; done
if [ "${#failures[@]}" -ne 0 ]; then
  for f in "${failures[@]}"; do printf 'FAIL: %s\n' "$f" >&2; done
  exit 1
fi
gw_stop
echo "gateway_spread: $passed passed, 0 failed ($((SECONDS - test_start)) s)"
