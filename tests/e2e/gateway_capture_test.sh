#!/usr/bin/env bash
# Capture and telemetry the DPDK way (topology in gateway_lib.sh), wggate on 2 MB hugepages:
#   1. hugepages: the test reserves pages and mounts hugetlbfs itself; wggate runs from that mount (HUGE=1);
#   2. dpdk-dumpcap (a secondary process, same --file-prefix) captures the outside port and, in a second
#      dumpcap, the inside port while a marker string crosses the tunnel both ways (an HTTP request carrying it
#      in a header, a response full of it). The outside capture holds WireGuard (UDP/51820, both directions)
#      and nothing else but ARP/NDP/MLD, and not one byte of the marker; the inside capture shows the marker in
#      both directions (capture works, and sees the plaintext);
#   3. dpdk-telemetry.py: /wggate/peers names the peer by its public key with its endpoint, allowed IPs,
#      handshake time and non-zero transfer; /wggate/stats has every dataplane counter, non-zero traffic, and
#      packets per worker. No private key in either.
# Usage: gateway_capture_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

need dpdk-dumpcap dpdk-telemetry.py
gw_init "${1:?usage: gateway_capture_test.sh BUILD_DIR}"
gw_stop

# --- 1. hugepages ---------------------------------------------------------------------------------------------
# wggate maps about 180 pages (LPM tables, mbufs); each dumpcap about 6. 512 leaves room for growth.
huge_pages=512
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
[ -w "$nr" ] || fail "hugepages: $nr is not writable (2 MB hugepages unsupported here?)"
huge_prev=$(cat "$nr")
huge_dir="$E2E_TMP/huge"
dumpcap_pids=()
# Runs before lib.sh kills the processes: everything that maps a file of the mount must be gone first.
release_hugepages() {
  local pid
  for pid in ${gw_pid:-} "${dumpcap_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in ${gw_pid:-} "${dumpcap_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  mountpoint -q "$huge_dir" && umount "$huge_dir"
  echo "$huge_prev" > "$nr"
}
on_cleanup release_hugepages
free_before=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
echo $((huge_prev + huge_pages)) > "$nr"
free_now=$(awk '/^HugePages_Free/ { print $2 }' /proc/meminfo)
[ $((free_now - free_before)) -ge "$huge_pages" ] \
  || fail "hugepages: asked the kernel for $huge_pages more 2 MB pages, got $((free_now - free_before)) (memory fragmented?)"
mkdir -p "$huge_dir"
mount -t hugetlbfs -o pagesize=2M nodev "$huge_dir"

log "scenario hugepages: wggate on 2 MB hugepages from $huge_dir"
HUGE=1 HUGE_DIR="$huge_dir" gw_start
wait_tunnel_up 30
# EAL names its page files <file-prefix>map_<n>; count those wggate has mapped.
maps=$( (grep -c -F " $huge_dir/" "/proc/$gw_pid/maps" || true) | head -n 1)
[ "$maps" -gt 0 ] || fail "hugepages: wggate runs but maps no page of $huge_dir"
pass "hugepages (wggate up with $maps mappings of $huge_dir, tunnel up)"

# --- 2. dpdk-dumpcap on both ports --------------------------------------------------------------------------
prefix="wggate-$E2E_SUFFIX"
# start_dumpcap NAME PORT: dpdk-dumpcap -w $E2E_TMP/NAME.pcapng; PID in $SPAWNED_PID. -p: wggate already put
# the port in promiscuous mode, and DPDK 22.11's dumpcap would turn it off again when it exits.
start_dumpcap() {
  local name=$1 port=$2
  spawn "$name" ip netns exec "$ns_gw" dpdk-dumpcap --file-prefix="$prefix" -i "$port" -p -w "$E2E_TMP/$name.pcapng"
  local pid=$SPAWNED_PID
  dumpcap_pids+=("$pid")
  # Printed once the primary has answered the enable request, i.e. its callbacks are on every queue.
  local end=$((SECONDS + 30))
  until grep -q "Packets captured:" "$E2E_TMP/$name.log"; do
    exited "$pid" && fail "dumpcap $name on $port exited: $(tail -n 5 "$E2E_TMP/$name.log")"
    [ "$SECONDS" -lt "$end" ] || fail "timed out after 30s waiting for dumpcap $name on $port to start"
    sleep 0.2
  done
  SPAWNED_PID=$pid
}
stop_dumpcap() {
  kill -INT "$1" 2>/dev/null || true
  wait_for 15 "dumpcap (pid $1) to write its file and exit" exited "$1"
}

marker="WGGATE-CAPTURE-MARKER-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$E2E_TMP/www" "$E2E_TMP/got"
for _ in $(seq 20000); do echo "$marker"; done > "$E2E_TMP/www/marker.txt"  # ~0.8 MB
start_http_server "$E2E_TMP/www"

log "scenario dumpcap: capture both ports with dpdk-dumpcap while '$marker' crosses the tunnel both ways"
start_dumpcap outside net_af_packet1; outside_cap=$SPAWNED_PID
start_dumpcap inside net_af_packet0; inside_cap=$SPAWNED_PID
fetch marker.txt "$E2E_TMP/got/marker.txt" -H "X-Marker: $marker" --max-time 240 || { gw_alive; fail "dumpcap: curl failed"; }
same_sha256 "$E2E_TMP/www/marker.txt" "$E2E_TMP/got/marker.txt" "dumpcap transfer"
stop_dumpcap "$outside_cap"; stop_dumpcap "$inside_cap"
gw_alive
grep -q "Packets received/dropped on interface 'net_af_packet1'" "$E2E_TMP/outside.log" \
  || fail "dumpcap: no capture summary from the outside dumpcap: $(tail -n 5 "$E2E_TMP/outside.log")"

out_pcap="$E2E_TMP/outside.pcapng"
total=$(tshark -n -r "$out_pcap" 2>/dev/null | wc -l)
[ "$total" -gt 100 ] || fail "dumpcap: only $total frames in the outside capture"
# Link-local housekeeping allowed besides WireGuard: ARP, NDP (133-137) and MLD reports (143).
allowed='udp.port == 51820 or arp or icmpv6.type in {133..137, 143}'
others=$(tshark -n -r "$out_pcap" -Y "not ($allowed)" 2>/dev/null | wc -l)
[ "$others" -eq 0 ] || { tshark -n -r "$out_pcap" -Y "not ($allowed)" 2>/dev/null | head -n 10
  fail "dumpcap: $others frames on the outside port that are not UDP/51820 or ARP/NDP (above)"; }
sent=$(tshark -n -r "$out_pcap" -Y 'wg.type == 4 and ip.src == 172.31.61.1' 2>/dev/null | wc -l)
received=$(tshark -n -r "$out_pcap" -Y 'wg.type == 4 and ip.src == 172.31.61.2' 2>/dev/null | wc -l)
[ "$sent" -gt 0 ] && [ "$received" -gt 100 ] \
  || fail "dumpcap: WireGuard transport messages on the outside port: $sent sent, $received received"
leaks=$( (grep -c -a -F -- "$marker" "$out_pcap" || true) | head -n 1)
[ "$leaks" -eq 0 ] || fail "dumpcap: the marker appears $leaks times in the outside capture: plaintext leak"
# The control: the very same marker is readable on the inside port, in both directions.
in_pcap="$E2E_TMP/inside.pcapng"
request=$(tshark -n -r "$in_pcap" -Y "ip.src == 10.61.0.2 and frame contains \"$marker\"" 2>/dev/null | wc -l)
response=$(tshark -n -r "$in_pcap" -Y "ip.src == 10.62.0.1 and frame contains \"$marker\"" 2>/dev/null | wc -l)
[ "$request" -gt 0 ] && [ "$response" -gt 0 ] \
  || fail "dumpcap: marker in the inside capture: $request request / $response response frames (test is blind)"
pass "dumpcap (outside: $total frames, WireGuard transport $sent sent / $received received, nothing else, no marker;" \
  "inside: marker in $request request and $response response frames)"

# --- 3. telemetry ---------------------------------------------------------------------------------------------
telemetry() { echo "$1" | dpdk-telemetry.py -f "$prefix"; }
log "scenario telemetry: /wggate/peers and /wggate/stats through dpdk-telemetry.py"
# The peer snapshot is refreshed once a second: wait until it shows the handshake and the transfer.
peers_ready() {
  telemetry /wggate/peers | python3 -c '
import json, sys
peers = json.loads(sys.stdin.read())["/wggate/peers"]["peers"]
p = [p for p in peers.values() if p["public_key"] == sys.argv[1]]
sys.exit(not (p and p[0]["latest_handshake"] > 0 and p[0]["rx_bytes"] > 0 and p[0]["tx_bytes"] > 0))' "$remote_pub"
}
wait_for 15 "telemetry: /wggate/peers to show the remote peer with a handshake and traffic" peers_ready
peers=$(telemetry /wggate/peers)
python3 - "$peers" "$remote_pub" <<'PY' || fail "telemetry: /wggate/peers: $peers"
import json, sys
answer = json.loads(sys.argv[1])["/wggate/peers"]
assert answer["total"] == 1, answer
(p,) = answer["peers"].values()
assert p["public_key"] == sys.argv[2], p
assert p["endpoint"] == "172.31.61.2:51820", p
assert p["allowed_ips"] == ["10.62.0.0/24", "fd63::/64"], p
assert p["latest_handshake"] > 1.7e9 and p["rx_bytes"] > 700000 and p["tx_bytes"] > 0, p
PY
page=$(telemetry /wggate/peers,1)  # the second page: past the only peer
python3 -c 'import json, sys; a = json.loads(sys.argv[1])["/wggate/peers"]
sys.exit(not (a["total"] == 1 and a["first"] == 1 and a["peers"] == {} and "next" not in a))' "$page" \
  || fail "telemetry: /wggate/peers,1 should be an empty page after the only peer: $page"
stats=$(telemetry /wggate/stats)
names=$(sed -n 's/^ *X(\([a-z0-9_]*\),.*/\1/p' "$here/../../dataplane/counters.h")
python3 - "$stats" $names <<'PY' || fail "telemetry: /wggate/stats: $stats"
import json, sys
s = json.loads(sys.argv[1])["/wggate/stats"]
missing = [n for n in sys.argv[2:] if n not in s]
assert not missing, f"counters missing: {missing}"
assert s["encrypted_packets"] > 0 and s["decrypted_packets"] > 100 and s["rx_outside_packets"] > 100, s
workers = s["workers"]
assert set(workers) == {"0", "control"}, workers
assert sum(w["rx_outside_packets"] for w in workers.values()) > 0, workers
PY
for answer in "$peers" "$stats"; do
  grep -qF -- "$gw_key" <<<"$answer" && fail "telemetry: the gateway's private key appears in an answer"
done
pass "telemetry (/wggate/peers: $remote_pub with endpoint, allowed ips, handshake, transfer, paging;" \
  "/wggate/stats: $(wc -w <<<"$names") counters, per-worker packets; no private key)"

gw_stop
echo "gateway_capture: $passed passed, 0 failed"
