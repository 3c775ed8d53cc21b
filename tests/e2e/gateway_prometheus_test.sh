#!/usr/bin/env bash
# wggate's exporter scraped by a real Prometheus server (Debian's `prometheus`), queried with PromQL over its
# HTTP API (topology in gateway_lib.sh; the peer has a preshared key):
#   1. Prometheus (in the gateway's namespace, loopback only, 1 s scrape interval, scratch TSDB) scrapes
#      MetricsAddress; the scrape text holds no private or preshared key, hex or base64;
#   2. a handshake (wggate initiates): initiated >= 1, completed >= 1, nothing rejected;
#   3. a ping flood of known count and size: rate() of the workers' outside TX packets is non-zero while it
#      runs and zero once it stops; the peer's transmit bytes grow by exactly what the flood must cost;
#      the crypto batch histogram, busy polls, rings and engine are reported.
# Usage: gateway_prometheus_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

need prometheus python3 base64 od
gw_init "${1:?usage: gateway_prometheus_test.sh BUILD_DIR}"
gw_name="wgg$((E2E_SUFFIX % 100000))"

# A preshared key on both sides, so that the no-key-material check below has two secrets to look for.
gw_stop
psk=$(wg genpsk)
echo "$psk" > "$E2E_TMP/psk"; chmod 600 "$E2E_TMP/psk"
sed -i "s|^PublicKey = $remote_pub\$|&\nPresharedKey = $psk|" "$E2E_TMP/wggate.conf"
grep -q "^PresharedKey = " "$E2E_TMP/wggate.conf" || fail "setup: could not add the PresharedKey line"
ip netns exec "$ns_remote" wg set "$wg_if" peer "$gw_pub" preshared-key "$E2E_TMP/psk"
gw_restart

# --- 1. Prometheus scraping wggate -----------------------------------------------------------------------------
# It must run where MetricsAddress (127.0.0.1:9586) is reachable: in the gateway's namespace, whose loopback
# is its own, so its web port cannot collide with anything outside this test.
prom_port=19090
cat > "$E2E_TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: wggate
    static_configs:
      - targets: ['127.0.0.1:9586']
YML
spawn prometheus ip netns exec "$ns_gw" prometheus --config.file="$E2E_TMP/prometheus.yml" \
  --storage.tsdb.path="$E2E_TMP/tsdb" --web.listen-address="127.0.0.1:$prom_port" --log.level=warn
prom_pid=$SPAWNED_PID
prom_ready() { ip netns exec "$ns_gw" curl -sf --max-time 2 "http://127.0.0.1:$prom_port/-/ready"; }
wait_for 60 "prometheus to be ready on 127.0.0.1:$prom_port" prom_ready

# prom_query EXPR: the value of the first sample EXPR returns (nothing when the result is empty).
prom_query() {
  ip netns exec "$ns_gw" curl -sf --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" \
    --data-urlencode "query=$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
if d.get("status") != "success":
    sys.exit("query failed: %s" % d)
r = d["data"]["result"]
if d["data"]["resultType"] == "scalar":
    print(r[1])
elif r:
    print(r[0]["value"][1])'
}
# prom_true EXPR: EXPR (a PromQL comparison, which filters) returns at least one sample.
prom_true() { [ -n "$(prom_query "$1")" ]; }
# expect_prom EXPR WHAT [UNFILTERED]: fails unless EXPR returns a sample; shows UNFILTERED's value if not.
expect_prom() {
  prom_true "$1" || fail "$2: PromQL '$1' returned nothing (unfiltered: $(prom_query "${3:-$1}"))"
}

log "scenario prometheus-scrape: a real Prometheus scrapes MetricsAddress every second"
wait_for 30 "prometheus to scrape wggate successfully" prom_true 'up{job="wggate"} == 1'
wait_for 30 "prometheus to have wggate's device info" prom_true "wireguard_device_info{public_key=\"$gw_pub\"} == 1"
m=$(ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics)
hex() { base64 -d <<<"$1" | od -An -v -tx1 | tr -d ' \n'; }
for secret in "$gw_key" "$(hex "$gw_key")" "$psk" "$(hex "$psk")"; do
  [ "${#secret}" -ge 44 ] || fail "setup: a key to look for is too short (${#secret} characters)"
  if grep -qiF -- "$secret" <<<"$m"; then fail "prometheus-scrape: key material (${secret:0:6}...) is in the scrape"; fi
done
grep -q "^wireguard_peer_info{.*public_key=\"$remote_pub\"" <<<"$m" || fail "prometheus-scrape: no peer info"
pass "prometheus-scrape (up == 1, device info; $(wc -l <<<"$m") lines without the private or preshared key)"

# --- 2. a handshake -------------------------------------------------------------------------------------------------
log "scenario prometheus-handshake: wggate initiates; the handshake counters say so"
wait_tunnel_up 30
wait_for 20 "prometheus: a completed handshake" prom_true 'sum(wggate_handshakes_completed_total) >= 1'
expect_prom 'wggate_handshakes_initiated_total >= 1' "prometheus-handshake"
expect_prom 'sum(wggate_handshakes_rejected_total) == 0' "prometheus-handshake" 'sum(wggate_handshakes_rejected_total)'
expect_prom 'wggate_under_load == 0' "prometheus-handshake"
completed=$(prom_query 'sum(wggate_handshakes_completed_total)')
pass "prometheus-handshake (completed $completed, initiated >= 1, none rejected, not under load)"

# --- 3. a ping flood of known size ------------------------------------------------------------------------------------
# Each echo request is 1028 bytes of inner IPv4 (20 IP + 8 ICMP + 1000 data), padded to 1040 (a multiple of
# 16), sent as a 1072-byte transport message (16-byte header + 1040 + 16-byte tag): exactly what
# wireguard_peer_transmit_bytes_total counts per packet, like `wg show` (UDP/IP/Ethernet not included).
count=1000 size=1000 per_packet=1072
peer_tx_wg() { wg show "$gw_name" transfer | awk -v k="$remote_pub" '$1 == k { print $3 }'; }
peer_tx_prom() { prom_query "wireguard_peer_transmit_bytes_total{public_key=\"$remote_pub\"}"; }
# Prometheus has caught up with wggate's own counters (wg show reads the same ones through the UAPI).
prom_caught_up() {
  local w p; w=$(peer_tx_wg); p=$(peer_tx_prom)
  [ -n "$p" ] && [ -n "$w" ] && [ "${p%.*}" = "$w" ]
}
wait_for 20 "prometheus: transmit bytes equal to wg show's before the flood" prom_caught_up
tx_before=$(peer_tx_wg)
tx_rate='sum(rate(wggate_tx_outside_packets_total[5s]))'

log "scenario prometheus-rate: $count pings of $size bytes, 10 ms apart, through the tunnel"
spawn ping-flood ip netns exec "$ns_client" ping -n -q -c "$count" -i 0.01 -s "$size" -W 5 10.62.0.1
flood_pid=$SPAWNED_PID
wait_for 30 "prometheus: rate of the workers' outside TX packets above zero while the flood runs" \
  prom_true "$tx_rate > 0"
exited "$flood_pid" && fail "prometheus-rate: the flood ended before the rate was seen; it proves nothing"
rate_during=$(prom_query "$tx_rate")
busy_during=$(prom_query 'sum(rate(wggate_worker_busy_polls_total[5s])) / sum(rate(wggate_worker_polls_total[5s]))')
expect_prom 'sum(rate(wggate_worker_busy_polls_total[5s])) > 0' "prometheus-rate"
wait_for 60 "the ping flood to finish" exited "$flood_pid"
sent=$(awk '/packets transmitted/ { print $1 }' "$E2E_TMP/ping-flood.log")
received=$(awk '/packets transmitted/ { print $4 }' "$E2E_TMP/ping-flood.log")
[ "${sent:-0}" -eq "$count" ] \
  || fail "prometheus-rate: ping sent ${sent:-none} of $count: $(cat "$E2E_TMP/ping-flood.log")"
[ "${received:-0}" -ge $((count * 95 / 100)) ] || fail "prometheus-rate: only $received of $count replies"
wait_for 30 "prometheus: rate of the workers' outside TX packets back to zero after the flood" \
  prom_true "$tx_rate == 0"
pass "prometheus-rate (${rate_during%.*}/s during, 0 after; busy share of polls $busy_during; $received/$sent replies)"

log "scenario prometheus-transmit-bytes: the peer's transmit bytes grew by what $sent packets cost"
wait_for 20 "prometheus: transmit bytes equal to wg show's after the flood" prom_caught_up
tx_after=$(peer_tx_prom); tx_after=${tx_after%.*}
delta=$((tx_after - tx_before)) expected=$((sent * per_packet))
# The only other thing wggate may send the peer meanwhile is a passive keepalive (an empty 32-byte transport
# message, WireGuard paper 6.5): 10 s after the last reply if nothing was sent since. So the delta is the
# flood's exact cost plus 0, 32 or (for a slow run) 64 bytes, nothing else.
extra=$((delta - expected))
[ "$extra" -ge 0 ] && [ "$extra" -le 64 ] && [ $((extra % 32)) -eq 0 ] \
  || fail "prometheus-transmit-bytes: grew by $delta bytes, expected $expected (+ 0/32/64 for keepalives)"
pass "prometheus-transmit-bytes ($delta bytes = $sent x $per_packet + $extra of keepalives; equal to wg show)"

log "scenario prometheus-gateway-metrics: batches, rings, engine"
expect_prom 'sum(wggate_crypto_batch_size_count{op="seal"}) > 0' "prometheus-gateway-metrics"
expect_prom 'sum(wggate_crypto_batch_size_count{op="open"}) > 0' "prometheus-gateway-metrics"
expect_prom 'sum(wggate_crypto_batch_size_count) == sum(wggate_crypto_batch_size_bucket{le="+Inf"})' \
  "prometheus-gateway-metrics" 'sum(wggate_crypto_batch_size_count)'
# Every batch holds at least one job: the sum of sizes is at least the number of batches, and the encrypt
# batches together hold at least every echo request of the flood.
expect_prom "sum(wggate_crypto_batch_size_sum{op=\"seal\"}) >= $sent" "prometheus-gateway-metrics" \
  'sum(wggate_crypto_batch_size_sum{op="seal"})'
# One hand-off ring per reason (dataplane/tables.h, WG_DP_HANDOFFS: 7), then events and awaiting_neighbor.
expect_prom 'count(wggate_ring_entries) == 9' "prometheus-gateway-metrics" 'count(wggate_ring_entries)'
expect_prom 'wggate_ring_capacity{ring="handshake"} > 0' "prometheus-gateway-metrics"
expect_prom 'wggate_ring_capacity{ring="staging"} > 0' "prometheus-gateway-metrics"
expect_prom 'sum(wggate_ring_full_drops_total) == 0' "prometheus-gateway-metrics" 'sum(wggate_ring_full_drops_total)'
# One series per operation (seal, open) and size class (4): the engine that runs it ("auto" chooses per class).
expect_prom 'count(wggate_crypto_engine_info == 1) == 8' "prometheus-gateway-metrics" 'count(wggate_crypto_engine_info)'
expect_prom 'count(count by (op, class) (wggate_crypto_engine_info)) == 8' "prometheus-gateway-metrics"
# The busy time and its phases (worker_stats.h): every worker that saw packets spent cycles in each phase, and
# the phases (OPERATIONS.md's query) are a part of the busy time, never more.
expect_prom 'sum(wggate_worker_phase_cycles_total{phase="crypto"}) > 0' "prometheus-gateway-metrics"
expect_prom 'sum(wggate_worker_phase_cycles_total{phase="rx"}) > 0' "prometheus-gateway-metrics"
expect_prom 'sum(wggate_worker_phase_cycles_total{phase="tx"}) > 0' "prometheus-gateway-metrics"
expect_prom 'wggate_tsc_hz > 1e8' "prometheus-gateway-metrics" 'wggate_tsc_hz'
phase_share='sum without (phase) (wggate_worker_phase_cycles_total) / (wggate_worker_busy_cycles_total > 0)'
expect_prom "max($phase_share) <= 1 and min($phase_share) > 0" "prometheus-gateway-metrics" "$phase_share"
engine=$(ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics |
  sed -n 's/^wggate_crypto_engine_info{.*engine="\([^"]*\)".*/\1/p' | sort -u | paste -sd,)
batches=$(prom_query 'sum(wggate_crypto_batch_size_count)')
shares=$(prom_query "max($phase_share)")
pass "prometheus-gateway-metrics ($batches crypto batches, 3 rings, engine $engine, phases $shares of busy cycles)"

kill -TERM "$prom_pid" 2>/dev/null || true
wait_for 30 "prometheus to exit" exited "$prom_pid"
gw_alive
gw_stop
echo "gateway_prometheus: $passed passed, 0 failed"
