#!/usr/bin/env bash
# perf/control/peer_scale.sh: how wggate's idle costs grow with the number of configured peers.
#
# For each N in PEERS (plus a baseline of 1 peer with MaxPeers = 1) it writes a config with N peers (MaxPeers
# = N, consecutive /32s in 10.96.0.0/11, an Endpoint on every other one), starts wggate on two net_null
# ports with no-rx=1 (nothing received: the worker polls empty queues), and records: the time from exec to
# the metrics endpoint answering; the control thread's CPU share over the next 3 s idle (utime+stime of the
# main thread); then the RSS, the malloc heap and the DPDK heap (wggate_heap_in_use_bytes,
# wggate_dpdk_heap_in_use_bytes); the wall time and line count of `wg show <Name> dump`; the time and size of one /metrics scrape; and the longest
# control-loop gap (wggate_control_loop_gap_max_seconds, else the highest non-empty histogram bucket), read
# before and after the `wg show`. Per-peer bytes are the growth over the baseline divided by N. A size that
# fails (wggate exits, or no metrics within START_TIMEOUT) gets a row saying so and the log tail on stderr;
# the others still run, and the script exits 1.
#
# Usage (root: DPDK, the UAPI socket):
#   PEERS="1000 10000 100000" BUILD_DIR=build-h1 perf/control/peer_scale.sh
# Environment: PEERS (default "1000 10000 100000"), BUILD_DIR (default build; wggate must be built), OUT
# (markdown table, default /tmp/peer_scale.md), MEM_MB (EAL -m; default 1024 + N/40 MB), START_TIMEOUT
# (seconds, default 120), LOCK (default /tmp/wggate-cpu.lock: held around every wggate run), VDEV_ARGS
# (devargs of both net_null ports, default ",no-rx=1"; empty: net_null receives zero-filled frames at line
# rate, which the worker drops as not for us), GATEWAY_EXTRA (more [Gateway] lines, ';'-separated, e.g.
# "PeerMetrics = off").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
bin="$build/control/wggate"
peers_list=${PEERS:-1000 10000 100000}
out=${OUT:-/tmp/peer_scale.md}
start_timeout=${START_TIMEOUT:-120}
vdev_args=${VDEV_ARGS-,no-rx=1}
lock=${LOCK:-/tmp/wggate-cpu.lock}
name="ps$(($$ % 100000))"                 # interface name: the UAPI socket and `wg show`
port=$((20000 + $$ % 20000))              # metrics port
url="http://127.0.0.1:$port/metrics"

die() { echo "peer_scale: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (DPDK, /var/run/wireguard)"
[ -x "$bin" ] || die "no $bin (meson compile -C $build control/wggate)"
for t in wg curl python3 flock; do command -v "$t" >/dev/null || die "needs $t"; done

work=$(mktemp -d /tmp/peer_scale.XXXXXX)
gw_pid="" prefix=""
cleanup() {
  if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then kill -KILL "$gw_pid" 2>/dev/null || true; fi
  [ -z "$prefix" ] || rm -rf "/var/run/dpdk/$prefix"
  rm -f "/var/run/wireguard/$name.sock"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
metric() { awk -v m="$1" '$1 == m { print $2; exit }' "$2"; }   # an unlabelled sample's value

# write_config N MAXPEERS FILE
write_config() {
  python3 - "$1" "$2" "$3" "$(wg genkey)" "$name" "$port" "${GATEWAY_EXTRA:-}" <<'PY'
import base64, ipaddress, os, sys
n, max_peers, path, key, name, port, extra = int(sys.argv[1]), *sys.argv[2:8]
base = int(ipaddress.IPv4Address("10.96.0.0"))
lines = ["[Interface]", f"PrivateKey = {key}", "ListenPort = 51820", "", "[Gateway]", f"Name = {name}",
         "InsidePort = net_null0", "OutsidePort = net_null1", "InsideAddress = 10.62.0.1/16",
         "OutsideAddress = 172.31.61.1/24", f"MetricsAddress = 127.0.0.1:{port}", f"MaxPeers = {max_peers}"]
lines += [l.strip() for l in extra.split(";") if l.strip()] + [""]
for i in range(n):
    lines += ["[Peer]", "PublicKey = " + base64.b64encode(os.urandom(32)).decode(),
              f"AllowedIPs = {ipaddress.IPv4Address(base + 1 + i)}/32"]
    if i % 2 == 0:
        lines.append(f"Endpoint = 172.31.61.{2 + (i // 2) % 250}:{20000 + (i // 2) // 250}")
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
PY
  chmod 600 "$3"
}

# max_gap_ms FILE: the gauge if exported, else the upper bound of the highest histogram bucket that counted.
max_gap_ms() {
  awk '$1 ~ /^wggate_control_loop_gap_max_seconds/ { g = $2; have = 1 }
       $1 ~ /^wggate_control_loop_gap_seconds_bucket/ { match($1, /le="[^"]*"/); le = substr($1, RSTART + 4, RLENGTH - 5)
         if ($2 + 0 > prev) top = le; prev = $2 + 0 }
       END { if (have) printf "%.1f", g * 1000; else if (top == "+Inf") print ">1000"; else if (top != "") printf "<=%g", top * 1000; else print "-" }' "$1"
}

# run_one N MAXPEERS: appends "N start rss heap dpdk dump_ms dump_lines scrape_ms scrape_bytes gap0 gap1 cpu%"
# (or "N FAILED: why") to rows.
run_one() {
  local n=$1 max=$2 conf="$work/n$1.conf" log="$work/n$1.log" mem=${MEM_MB:-$((1024 + $1 / 40))}
  write_config "$n" "$max" "$conf"
  prefix="ps$$n$n"
  exec 9>"$lock"
  flock 9
  local t0 t1
  t0=$(now_ns)
  "$bin" --no-huge -m "$mem" --no-pci --no-shconf -l 0-1 --file-prefix "$prefix" --log-level=lib.eal:error \
    --vdev "net_null0$vdev_args" --vdev "net_null1$vdev_args" -- --config "$conf" >"$log" 2>&1 9>&- &
  gw_pid=$!
  local end=$((SECONDS + start_timeout))
  local failed=""
  # A scrape carries 4 series per peer (~50 MB, 2-3 s at 100k peers): the probe waits that long.
  until curl -sf --max-time 30 -o /dev/null "$url"; do
    kill -0 "$gw_pid" 2>/dev/null || { failed="wggate exited during start-up (-m $mem)"; break; }
    [ "$SECONDS" -lt "$end" ] || { failed="metrics not up after ${start_timeout}s"; break; }
    sleep 0.1
  done
  if [ -n "$failed" ]; then
    echo "peer_scale: N=$n: $failed; log tail:" >&2; tail -n 20 "$log" >&2
    rows+=("$n FAILED: $failed"); status=1
    stop_gw "$n"; exec 9>&-; return
  fi
  t1=$(now_ns)
  local startup rss s0 s1 d0 d1 m0 m1 lines gap0 gap1 c0 c1
  startup=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
  c0=$(cpu_ticks)
  sleep 3  # idle: let start-up work (first ticks, neighbour requests) settle; the control thread's idle cost
  c1=$(cpu_ticks)
  rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$gw_pid/status")
  s0=$(now_ns); curl -s --max-time 60 -o "$work/scrape0" "$url"; s1=$(now_ns)
  gap0=$(max_gap_ms "$work/scrape0")
  d0=$(now_ns); wg show "$name" dump >"$work/dump"; d1=$(now_ns)
  lines=$(wc -l <"$work/dump")
  curl -s --max-time 60 -o "$work/scrape1" "$url"
  gap1=$(max_gap_ms "$work/scrape1")
  m0=$(metric wggate_heap_in_use_bytes "$work/scrape0"); m1=$(metric wggate_dpdk_heap_in_use_bytes "$work/scrape0")
  rows+=("$n $startup $rss ${m0:-0} ${m1:-0} $(ms "$d0" "$d1") $lines $(ms "$s0" "$s1") $(wc -c <"$work/scrape0") $gap0 $gap1 $(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (b - a) * 100 / hz / 3 }')")
  stop_gw "$n"
  exec 9>&-
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$gw_pid/task/$gw_pid/stat"; }  # the main (control) thread

stop_gw() {
  kill -TERM "$gw_pid" 2>/dev/null || true
  local end=$((SECONDS + 30))
  while kill -0 "$gw_pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || { kill -KILL "$gw_pid"; echo "peer_scale: N=$1: wggate ignored SIGTERM for 30 s, killed" >&2; break; }
    sleep 0.1
  done
  wait "$gw_pid" 2>/dev/null || true
  gw_pid=""
  rm -rf "/var/run/dpdk/$prefix" "$work/n$1.conf"
  prefix=""
}

rows=() status=0
run_one 1 1
for n in $peers_list; do run_one "$n" "$n"; done

{
  echo "CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs; wggate $bin; $(date -u +%FT%TZ)${GATEWAY_EXTRA:+; [Gateway] $GATEWAY_EXTRA}"
  echo
  echo "| N | start-up s | RSS MiB | heap MiB | DPDK heap MiB | per-peer B (heap+DPDK) | per-peer B (RSS) | wg show dump ms (lines) | scrape ms (KiB) | max loop gap ms (before / after wg show) | control CPU % idle |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}" | awk '
    { base = NR == 1 ? " (base, MaxPeers 1)" : "" }
    $2 == "FAILED:" { f = $0; sub(/^[0-9]+ FAILED: /, "", f); printf "| %s%s | failed: %s |\n", $1, base, f; next }
    NR == 1 { hb = 1; brss = $3; bmem = $4 + $5 }
    { pp = NR == 1 || !hb ? "-" : sprintf("%.0f", ($4 + $5 - bmem) / $1); pr = NR == 1 || !hb ? "-" : sprintf("%.0f", ($3 - brss) / $1)
      printf "| %s%s | %s | %.1f | %.1f | %.1f | %s | %s | %s (%d) | %s (%.0f) | %s / %s | %s |\n", $1, base,
        $2, $3 / 1048576, $4 / 1048576, $5 / 1048576, pp, pr, $6, $7, $8, $9 / 1024, $10, $11, $12 }'
} | tee "$out"
exit "$status"
