#!/usr/bin/env bash
# The gateway against the real wireguard-go (topology in gateway_lib.sh):
#   1. IPv4 and IPv6 pings from the client through the tunnel, wggate initiating the handshake (the first
#      packet waits in staging while it runs);
#   2. a 10 MB TCP transfer each way (HTTP download, nc upload) whose sha256 matches on arrival;
#   3. the underlay during a transfer of a file full of a marker string: only UDP/51820 (plus ARP/NDP/MLD),
#      WireGuard transport messages, and no marker, while the inside capture does show the marker.
# Usage: gateway_basic_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

gw_init "${1:?usage: gateway_basic_test.sh BUILD_DIR}"
# The engine: the one CRYPTO_ENGINE names, else "auto", which measures the engines this CPU runs at start-up
# and chooses per size class: it may name avx512 only where the CPU has AVX-512 IFMA, simd only with AVX2.
want_engine=${CRYPTO_ENGINE:-auto}
grep -q "crypto engine $want_engine" "$E2E_TMP/wggate.log" || fail "engine: wggate does not run $want_engine: $(grep 'crypto engine' "$E2E_TMP/wggate.log")"
if [ "$want_engine" = auto ]; then
  choice=$(grep -o 'crypto engine auto[^;]*' "$E2E_TMP/wggate.log")
  if ! grep -qw avx512ifma /proc/cpuinfo && grep -q avx512 <<<"$choice"; then fail "engine: auto chose avx512 on a CPU without AVX-512 IFMA: $choice"; fi
  if ! grep -qw avx2 /proc/cpuinfo && grep -q simd <<<"$choice"; then fail "engine: auto chose simd on a CPU without AVX2: $choice"; fi
fi
log "crypto engine: $(grep -o 'crypto engine .*' "$E2E_TMP/wggate.log")"

# --- 1. pings, wggate initiating ----------------------------------------------------------------------------
log "scenario ping-v4: client -> 10.62.0.1 (no session yet: wggate initiates)"
n=$(ping_replies "$ns_client" 5 10.62.0.1)
[ "$n" -ge 4 ] || fail "ping-v4: $n of 5 echo replies from 10.62.0.1 through the tunnel (want >= 4)"
log_has "peer 0: sending handshake initiation to 172.31.61.2:51820" \
  || fail "ping-v4: wggate did not log sending the handshake initiation"
log_has "response from 172.31.61.2:51820 accepted: session established" \
  || fail "ping-v4: wggate did not log the accepted response"
[ "$(wg_latest_handshake "$ns_remote" "$wg_if" "$gw_pub")" -gt 0 ] || fail "ping-v4: wireguard-go saw no handshake"
pass "ping-v4 ($n/5 replies, handshake initiated by wggate)"

log "scenario ping-v6: client -> fd63::1"
n=$(ping_replies "$ns_client" 5 fd63::1)
[ "$n" -ge 4 ] || fail "ping-v6: $n of 5 echo replies from fd63::1 through the tunnel (want >= 4)"
pass "ping-v6 ($n/5 replies)"

log "scenario too-big: inner packets over the MTU (1420) are refused with ICMP, not forwarded"
# ping -M do sets DF; 1400 bytes of payload make a 1428-byte IPv4 packet, 1400 a 1448-byte IPv6 packet.
out4=$(ip netns exec "$ns_client" ping -n -c 1 -W 3 -M do -s 1400 10.62.0.1 2>&1 || true)
grep -qE "mtu ?= ?1420" <<<"$out4" || fail "too-big: no 'frag needed (mtu 1420)' for IPv4: $out4"
out6=$(ip netns exec "$ns_client" ping -n -c 1 -W 3 -M do -s 1400 fd63::1 2>&1 || true)
grep -qiE "too big.*1420|mtu ?= ?1420" <<<"$out6" || fail "too-big: no 'packet too big (mtu 1420)' for IPv6: $out6"
n=$(ping_replies "$ns_client" 3 -M do -s 1392 10.62.0.1)
[ "$n" -eq 3 ] || fail "too-big: a 1420-byte packet (exactly the MTU) did not pass: $n of 3 replies"
pass "too-big (ICMP frag-needed / packet-too-big with MTU 1420; exactly 1420 bytes passes)"

log "scenario roaming: the remote moves to another UDP port; wggate follows its authenticated packets"
ip netns exec "$ns_remote" wg set "$wg_if" listen-port 51830
wait_for 20 "roaming: a ping from the remote (now on port 51830) to the client" ping_once "$ns_remote" 10.61.0.2
wait_for 10 "roaming: wggate to log the new endpoint" grep -q "endpoint is now 172.31.61.2:51830" "$E2E_TMP/wggate.log"
n=$(ping_replies "$ns_client" 5 10.62.0.1)
[ "$n" -eq 5 ] || fail "roaming: $n of 5 replies from the client's side after the move (wggate must send to 51830)"
ip netns exec "$ns_remote" wg set "$wg_if" listen-port 51820
wait_for 20 "roaming: a ping from the remote back on 51820" ping_once "$ns_remote" 10.61.0.2
pass "roaming (endpoint followed to port 51830 and back; pings both ways)"

log "scenario wg-show: the stock wg tool reads the gateway over its UAPI socket"
gw_name="wgg$((E2E_SUFFIX % 100000))"
sock="/var/run/wireguard/$gw_name.sock"
[ "$(stat -c %a "$sock")" = 600 ] || fail "wg-show: $sock has mode $(stat -c %a "$sock"), want 600"
show=$(wg show "$gw_name")
grep -q "public key: $gw_pub" <<<"$show" || fail "wg-show: wrong or missing public key: $show"
grep -q "listening port: 51820" <<<"$show" || fail "wg-show: no listening port: $show"
grep -q "peer: $remote_pub" <<<"$show" || fail "wg-show: remote peer missing: $show"
grep -q "endpoint: 172.31.61.2:51820" <<<"$show" || fail "wg-show: endpoint missing: $show"
grep -qE "allowed ips: 10.62.0.0/24, fd63::/64" <<<"$show" || fail "wg-show: allowed ips missing: $show"
grep -q "latest handshake: .* ago" <<<"$show" || fail "wg-show: no latest handshake: $show"
dump=$(wg show "$gw_name" dump | tail -n 1)
read -r _ _ _ _ hs rx tx _ <<<"$dump"
[ "$hs" -gt 0 ] && [ "$rx" -gt 0 ] && [ "$tx" -gt 0 ] || fail "wg-show: dump has handshake=$hs rx=$rx tx=$tx: $dump"
pass "wg-show (public key, port, peer, endpoint, allowed ips, handshake, transfer rx=$rx tx=$tx; socket 0600)"

log "scenario metrics: Prometheus text on MetricsAddress (127.0.0.1:9586 in the gateway's namespace)"
scrape() { ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics; }
wait_for 10 "metrics: the exporter to answer" scrape
sleep 1.2  # the peer snapshot (endpoint, handshake time) is refreshed once a second
m=$(scrape)
grep -q "^wireguard_device_info{.*public_key=\"$gw_pub\"" <<<"$m" || fail "metrics: no wireguard_device_info for $gw_pub"
grep -q "^wireguard_peer_info{.*endpoint=\"172.31.61.2:51820\"" <<<"$m" || fail "metrics: no wireguard_peer_info with the endpoint"
tx_m=$(awk -v k="$remote_pub" '$0 ~ "^wireguard_peer_transmit_bytes_total" && index($0, k) { print $NF }' <<<"$m")
hs_m=$(awk -v k="$remote_pub" '$0 ~ "^wireguard_peer_last_handshake_seconds" && index($0, k) { print $NF }' <<<"$m")
awk -v t="$tx_m" -v h="$hs_m" 'BEGIN { exit !(t > 0 && h > 1.7e9) }' || fail "metrics: transmit=$tx_m handshake=$hs_m"
grep -q '^wggate_encrypted_packets_total{device="[^"]*",worker="0"}' <<<"$m" || fail "metrics: no per-worker counters"
grep -q '^wggate_drops_total{.*reason="no_route"' <<<"$m" || fail "metrics: no drops by reason"
grep -q "$gw_key" <<<"$m" && fail "metrics: the private key appears in the metrics"
pass "metrics (device/peer info, transmit bytes $tx_m, handshake time, per-worker counters, drops by reason; no private key)"

# --- 2. 10 MB each way ------------------------------------------------------------------------------------------
mkdir -p "$E2E_TMP/www" "$E2E_TMP/got"
make_file "$E2E_TMP/www/big.bin" 10
start_http_server "$E2E_TMP/www"

log "scenario tcp-download: 10 MB from the remote (HTTP) to the client"
fetch big.bin "$E2E_TMP/got/big.bin" || { gw_alive; fail "tcp-download: curl failed"; }
same_sha256 "$E2E_TMP/www/big.bin" "$E2E_TMP/got/big.bin" "tcp-download"
pass "tcp-download (10 MB, sha256 matches)"

log "scenario tcp-upload: 10 MB from the client (nc) to the remote"
spawn nc-server ip netns exec "$ns_remote" bash -c "exec nc -d -l 10.62.0.1 9000 > '$E2E_TMP/got/up.bin'"
nc_pid=$SPAWNED_PID
wait_for 10 "nc listening on 10.62.0.1:9000" \
  bash -c "ip netns exec $ns_remote ss -ltnH 'sport = :9000' | grep -q 10.62.0.1"
ip netns exec "$ns_client" timeout 90 nc -N 10.62.0.1 9000 < "$E2E_TMP/www/big.bin" \
  || { gw_alive; fail "tcp-upload: nc on the client failed"; }
wait_for 30 "tcp-upload: the receiving nc to finish" exited "$nc_pid"
same_sha256 "$E2E_TMP/www/big.bin" "$E2E_TMP/got/up.bin" "tcp-upload"
pass "tcp-upload (10 MB, sha256 matches)"

# --- 3. what the underlay shows ----------------------------------------------------------------------------------
marker="WGGATE-PLAINTEXT-MARKER-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
for _ in $(seq 20000); do echo "$marker"; done > "$E2E_TMP/www/marker.txt"  # ~0.8 MB
log "scenario underlay-capture: transfer a file of '$marker' lines while capturing both segments"
start_capture underlay "$ns_remote" out-remote; underlay_cap=$SPAWNED_PID
start_capture inside "$ns_client" in-host; inside_cap=$SPAWNED_PID
fetch marker.txt "$E2E_TMP/got/marker.txt" || { gw_alive; fail "underlay-capture: curl failed"; }
same_sha256 "$E2E_TMP/www/marker.txt" "$E2E_TMP/got/marker.txt" "underlay-capture transfer"
stop_capture "$underlay_cap"; stop_capture "$inside_cap"

underlay_pcap="$E2E_TMP/underlay.pcap"
total=$(pcap_frames "$underlay_pcap")
[ "$total" -gt 100 ] || fail "underlay-capture: only $total frames captured on the underlay"
# Link-local housekeeping allowed besides WireGuard: ARP, NDP (133-137) and MLD reports (143).
others=$(tshark -n -r "$underlay_pcap" \
  -Y 'not (udp.port == 51820 or arp or icmpv6.type in {133..137, 143})' 2>/dev/null | wc -l)
[ "$others" -eq 0 ] || { tshark -n -r "$underlay_pcap" \
  -Y 'not (udp.port == 51820 or arp or icmpv6.type in {133..137, 143})' 2>/dev/null | head -n 10
  fail "underlay-capture: $others frames on the underlay that are not UDP/51820 or ARP/NDP (above)"; }
transport=$(tshark -n -r "$underlay_pcap" -Y 'wg.type == 4' 2>/dev/null | wc -l)
[ "$transport" -gt 100 ] || fail "underlay-capture: only $transport WireGuard transport messages on the underlay"
leaks=$( (grep -c -a -F -- "$marker" "$underlay_pcap" || true) | head -n 1)
[ "$leaks" -eq 0 ] || fail "underlay-capture: the marker appears $leaks times in the underlay capture: plaintext leak"
# The control: the very same marker is readable on the inside segment, so the grep above can fail.
seen=$( (grep -c -a -F -- "$marker" "$E2E_TMP/inside.pcap" || true) | head -n 1)
[ "$seen" -gt 0 ] || fail "underlay-capture: the marker is not visible on the inside capture either (test is blind)"
pass "underlay-capture ($total frames: $transport WireGuard transport, no other protocol, marker absent; marker seen $seen times inside)"

gw_alive
gw_stop
for c in encrypted_packets decrypted_packets; do
  [ "$(gw_counter "$c")" -gt 0 ] || fail "wggate's exit counters show $c = 0"
done
echo "gateway_basic: $passed passed, 0 failed"
