#!/usr/bin/env bash
# Stage "wggo": wireguard-go, the userspace peer a user would otherwise pick, between two network namespaces.
#
#   [perf-wa-ID] wireguard-go pwgaID 10.81.0.1/24 --- veth 172.31.81.1 <-> 172.31.81.2 --- pwgbID 10.81.0.2/24 [perf-wb-ID]
#                iperf3 client                                                      iperf3 server
#
# Set up as tests/e2e/lib.sh start_wireguard_go does (wireguard-go -f, configured with wg set). iperf3 through
# the tunnel: TCP, then UDP with unlimited rate at inner IP sizes 64, 512 and 1420 (UDP payload 28 bytes less).
# wireguard-go uses every core, so per-core figures divide by the CPU time both wireguard-go processes used
# (utime + stime from /proc, kernel work in their system calls included): packets through one encrypt and
# one decrypt per CPU-second, the same unit as the gateway's combined figure.
# Also the low-load round-trip time (ping -i 0.01) through this tunnel and over the bare veth, the reference
# points for the gateway's latency (stage "latency").
source "$(dirname "$0")/common.sh"
STAGE_NAME=wggo
need wireguard-go wg iperf3 ip ping python3

id=$(($$ % 100000))
ns_a="perf-wa-$id"; ns_b="perf-wb-$id"
if_a="pwga$id"; if_b="pwgb$id"
d=$STAGE_DIR
SIZES=${PERF_WGGO_SIZES:-"64 512 1420"}
PINGS=$([ "${PERF_SMOKE:-0}" = 1 ] && echo 100 || echo "${PERF_PINGS:-1000}")

for ns in "$ns_a" "$ns_b"; do
  ip netns add "$ns"
  on_cleanup "ip netns del $ns"
  ip -n "$ns" link set lo up
done
ip link add "pva$id" netns "$ns_a" type veth peer name "pvb$id" netns "$ns_b"
ip -n "$ns_a" addr add 172.31.81.1/24 dev "pva$id"; ip -n "$ns_a" link set "pva$id" up
ip -n "$ns_b" addr add 172.31.81.2/24 dev "pvb$id"; ip -n "$ns_b" link set "pvb$id" up

start_wg() {  # start_wg NS IFACE: leaves the PID in $SPAWNED_PID
  on_cleanup "rm -f /var/run/wireguard/$2.sock"
  spawn "wireguard-go-$2" ip netns exec "$1" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$2"
  local pid=$SPAWNED_PID
  wait_until 10 "wireguard-go UAPI socket for $2" test -S "/var/run/wireguard/$2.sock"
  wait_until 10 "interface $2 in $1" ip -n "$1" link show "$2"
  SPAWNED_PID=$pid
}
key_a=$(wg genkey); key_b=$(wg genkey)
umask 077
echo "$key_a" >"$d/a.key"; echo "$key_b" >"$d/b.key"
start_wg "$ns_a" "$if_a"; wg_a=$SPAWNED_PID
start_wg "$ns_b" "$if_b"; wg_b=$SPAWNED_PID
ip netns exec "$ns_a" wg set "$if_a" private-key "$d/a.key" listen-port 51820 \
  peer "$(wg pubkey <"$d/b.key")" allowed-ips 10.81.0.2/32 endpoint 172.31.81.2:51820
ip netns exec "$ns_b" wg set "$if_b" private-key "$d/b.key" listen-port 51820 \
  peer "$(wg pubkey <"$d/a.key")" allowed-ips 10.81.0.1/32 endpoint 172.31.81.1:51820
ip -n "$ns_a" addr add 10.81.0.1/24 dev "$if_a"; ip -n "$ns_a" link set "$if_a" up mtu 1420
ip -n "$ns_b" addr add 10.81.0.2/24 dev "$if_b"; ip -n "$ns_b" link set "$if_b" up mtu 1420
wait_until 15 "a ping through the wireguard-go tunnel" ip netns exec "$ns_a" ping -c 1 -W 1 10.81.0.2
# wireguard-go (the process under `ip netns exec`, which execs it: the same PID).
log "tunnel up; wireguard-go PIDs $wg_a (sender) and $wg_b (receiver) float over all $(nproc) CPUs"

spawn iperf3-server ip netns exec "$ns_b" iperf3 -s -B 10.81.0.2
wait_until 10 "iperf3 server" ip netns exec "$ns_b" ss -ltnH "sport = :5201"

# iperf_run RUN SERIES SIZE IPERF_ARGS...: one iperf3 run, its receiver-side rate, and the CPU time the two
# wireguard-go processes used meanwhile.
iperf_run() {
  local run=$1 series=$2 size=$3; shift 3
  local out="$d/iperf-$series-$size-$run.json" cpu0 cpu1 t0 t1
  cpu0=$(($(process_cpu_ns "$wg_a") + $(process_cpu_ns "$wg_b")))
  t0=$(now_ns)
  # Bounded: an iperf3 client whose control connection stalls would otherwise wait for TCP to give up.
  local st=0 limit=$((DURATION + 30))
  timeout -k 5 "$limit" ip netns exec "$ns_a" iperf3 -c 10.81.0.2 -t "$DURATION" -J "$@" >"$out" || st=$?
  [ "$st" != 124 ] && [ "$st" != 137 ] || fail "iperf3 $series $size: no result within ${limit}s (a ${DURATION}s test)"
  [ "$st" = 0 ] || fail "iperf3 $series $size: $(tail -c 300 "$out")"
  t1=$(now_ns)
  cpu1=$(($(process_cpu_ns "$wg_a") + $(process_cpu_ns "$wg_b")))
  # receiver bits/s and packets per second (UDP: what arrived; TCP: no packet count)
  read -r bps pps secs < <(python3 - "$out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
end = j["end"]
if "sum_received" in end and "packets" not in end.get("sum", {}):   # TCP
    s = end["sum_received"]
    print(s["bits_per_second"], "nan", s["seconds"])
else:                                                                # UDP: received = sent - lost
    s = end["sum"]
    got = s["packets"] - s["lost_packets"]
    secs = s["seconds"]
    print(s["bits_per_second"] * got / max(s["packets"], 1), got / secs, secs)
PY
)
  local cpu_s; cpu_s=$(calc "($cpu1 - $cpu0) / 1e9")
  local wall_s; wall_s=$(calc "($t1 - $t0) / 1e9")
  # Gbit/s as the gateway counts it: inner IP bytes (UDP: packets x size); TCP: iperf3's goodput.
  [ "$pps" = nan ] || bps=$(calc "$pps * $size * 8")
  result "$series" "$size" gbps_wall "$run" "$(calc "$bps / 1e9")"
  result "$series" "$size" cpu_cores "$run" "$(calc "$cpu_s / $wall_s")"
  result "$series" "$size" gbps_core "$run" "$(calc "$bps / 1e9 * $secs / $cpu_s")"
  if [ "$pps" != nan ]; then
    result "$series" "$size" mpps_wall "$run" "$(calc "$pps / 1e6")"
    result "$series" "$size" mpps_core "$run" "$(calc "$pps / 1e6 * $secs / $cpu_s")"
  fi
  log "$series $size run $run: $(calc "$bps / 1e9") Gbit/s, wireguard-go used $(calc "$cpu_s / $wall_s") cores"
}

for run in $(seq 1 "$RUNS"); do
  iperf_run "$run" tcp all
  for size in $SIZES; do
    iperf_run "$run" udp "$size" -u -b 0 -l $((size - 28))
  done
done

# Round-trip times at low load (100 packets/s): through the tunnel, and over the bare veth.
rtt() {  # rtt SERIES DEST RUN
  local f="$d/ping-$1-$3.txt"
  ip netns exec "$ns_a" ping -i 0.01 -c "$PINGS" -W 1 "$2" >"$f" || fail "ping $2 lost packets: $(tail -n 2 "$f")"
  sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$f" | awk '{ print $1 * 1000 }' >"$f.us"
  read -r p50 p99 < <(percentiles "$f.us")
  result "$1" - p50_us "$3" "$p50"
  result "$1" - p99_us "$3" "$p99"
  log "rtt $1 run $3: p50 $p50 us, p99 $p99 us"
}
for run in $(seq 1 "$RUNS"); do
  rtt rtt-wireguard-go 10.81.0.2 "$run"
  rtt rtt-veth 172.31.81.2 "$run"
done
note "wireguard-go $(wireguard-go --version 2>/dev/null | head -1 | awk '{ print $NF }'), iperf3 $(iperf3 --version | head -1 | awk '{ print $2 }');" \
  "each run $DURATION s; wireguard-go threads float over all $(nproc) CPUs, sharing them with iperf3 and the kernel"
