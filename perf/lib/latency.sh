#!/usr/bin/env bash
# Stage "latency": round-trip time through the gateway at low load, in the end-to-end tests' own topology
# (tests/e2e/gateway_lib.sh, sourced as the tests source it):
#
#   [client ns] --veth--> wggate (net_af_packet, 1 worker) --veth--> [remote ns] wireguard-go 10.62.0.1
#
# ping -i 0.01 (100 packets/s) from the client to wireguard-go's tunnel address: encrypted by wggate, decrypted
# and answered by wireguard-go, the answer decrypted by wggate. p50 and p99 per run. The reference points
# (the same ping through a wireguard-go <-> wireguard-go tunnel, and over a bare veth) come from stage "wggo":
# what wggate adds is the difference to a path with a wireguard-go in its place.
# lib.sh brings its own process and namespace cleanup (trap on exit); logs go to its temporary directory and
# are printed when the stage fails.
here=$(cd "$(dirname "$0")" && pwd)
source "$PERF_ROOT/tests/e2e/lib.sh"
source "$PERF_ROOT/tests/e2e/gateway_lib.sh"
source "$here/results.sh"
STAGE_NAME=latency
need_root
need wireguard-go wg ip ping ethtool
GW_BIN="$PERF_BUILD/control/wggate"
[ -x "$GW_BIN" ] || fail "no wggate at $GW_BIN"
PINGS=$([ "${PERF_SMOKE:-0}" = 1 ] && echo 100 || echo "${PERF_PINGS:-1000}")

gw_setup_topology
gw_write_config
WORKERS=1 gw_start
log "wggate and wireguard-go up ($(grep -o 'crypto engine .*' "$E2E_TMP/wggate.log"))"
# The first ping starts the handshake (wggate stages it meanwhile).
wait_for 20 "a ping through wggate" ip netns exec "$ns_client" ping -c 1 -W 1 10.62.0.1

for run in $(seq 1 "$RUNS"); do
  f="$E2E_TMP/ping-$run.txt"
  ip netns exec "$ns_client" ping -i 0.01 -c "$PINGS" -W 1 10.62.0.1 >"$f" || fail "ping through wggate: $(tail -n 2 "$f")"
  sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$f" | awk '{ print $1 * 1000 }' >"$f.us"
  read -r p50 p99 < <(percentiles "$f.us")
  result rtt-wggate - p50_us "$run" "$p50"
  result rtt-wggate - p99_us "$run" "$p99"
  log "run $run: p50 $p50 us, p99 $p99 us"
done
note "wggate on net_af_packet veths (as the end-to-end tests run it), 1 worker, lcores (0-1) floating over CPUs 0-$(($(nproc) - 1)), --no-huge; $PINGS pings of 84-byte IP packets per run at 100/s"
