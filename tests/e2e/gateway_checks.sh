# shellcheck shell=bash
# Helpers for the gateway end-to-end tests (sourced after lib.sh and gateway_lib.sh): pings through the
# tunnel, captures, transfers with checksums, stopping/restarting wggate and reading its exit counters.
# Every wait is bounded; every process is spawned through lib.sh so that its trap removes it.

passed=0
# set -e stops on any unexpected failure; say where, so that no run ends without a FAIL line.
trap 'echo "FAIL: $(basename "$0") line $LINENO: unexpected error (status $?)" >&2' ERR
pass() { passed=$((passed + 1)); log "PASS: $*"; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# gw_init BUILD_DIR: checks the environment, builds the topology, writes the config, starts wggate.
gw_init() {
  local build=$1
  [ -d "$build" ] || fail "build directory '$build' does not exist"
  GW_BIN=$(cd "$build" && pwd)/control/wggate
  [ -x "$GW_BIN" ] || fail "missing $GW_BIN (build first: ninja -C $build control/wggate)"
  need_root
  need wireguard-go wg ip ping tcpdump tshark ethtool curl python3 nc sha256sum
  gw_setup_topology
  gw_write_config
  on_cleanup "rm -rf /var/run/dpdk/wggate-$E2E_SUFFIX"
  gw_runs=1
  gw_start
}

gw_alive() { exited "$gw_pid" && fail "wggate exited unexpectedly (log below)"; return 0; }

# gw_stop: SIGTERM, wait for the exit and its counter dump (in $E2E_TMP/wggate.log).
gw_stop() {
  kill -TERM "$gw_pid" 2>/dev/null || fail "wggate was not running when asked to stop"
  wait_for 30 "wggate to exit after SIGTERM" exited "$gw_pid"
  wait "$gw_pid" 2>/dev/null || fail "wggate exited with status $? after SIGTERM"
  grep -q "stopping; counters:" "$E2E_TMP/wggate.log" || fail "wggate printed no counters on SIGTERM"
}

# gw_restart: keeps the previous log as wggate-run<N>.log and starts wggate again with the same config.
gw_restart() {
  mv "$E2E_TMP/wggate.log" "$E2E_TMP/wggate-run$gw_runs.log"
  gw_runs=$((gw_runs + 1))
  gw_start
}

# log_has PATTERN [SECONDS]: true once wggate's log has a line matching PATTERN, false after SECONDS (10).
# Control's lines are written by a logger thread of their own, so a line can land a moment after what it
# reports is visible (a ping answered on the session it logs): never grep for it just once.
log_has() {
  local end=$((SECONDS + ${2:-10}))
  until grep -q -- "$1" "$E2E_TMP/wggate.log"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# gw_counter NAME [LOG]: a counter from the dump printed at exit (0 if absent, i.e. zero).
gw_counter() {
  sed -n '/stopping; counters:/,$p' "${2:-$E2E_TMP/wggate.log}" | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

# expect_counter NAME: fails unless the counter in the last exit dump is > 0.
expect_counter() {
  local v; v=$(gw_counter "$1")
  [ "$v" -gt 0 ] || fail "counter $1 is $v, expected > 0 (dump: $(sed -n '/stopping; counters:/,$p' "$E2E_TMP/wggate.log" | tr -s ' \n' ' '))"
  log "  $1 = $v"
}

# ping_replies NS COUNT ARGS...: the number of echo replies among COUNT pings (0.2 s apart, 5 s to answer).
ping_replies() {
  local ns=$1 count=$2; shift 2
  local out; out=$(ip netns exec "$ns" ping -n -c "$count" -i 0.2 -W 5 "$@" 2>&1 || true)
  awk '/received/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^received/) n = $i } END { print n + 0 }' <<<"$out"
}
ping_once() { local ns=$1; shift; ip netns exec "$ns" ping -n -c 1 -W 2 "$@" >/dev/null 2>&1; }

# start_capture NAME NS IFACE [FILTER...]: tcpdump -w $E2E_TMP/NAME.pcap; PID in $SPAWNED_PID.
start_capture() {
  local name=$1 ns=$2 ifc=$3; shift 3
  spawn "$name" ip netns exec "$ns" tcpdump -i "$ifc" -n --immediate-mode -U -s 0 -w "$E2E_TMP/$name.pcap" "$@"
  local pid=$SPAWNED_PID
  wait_for 10 "tcpdump $name on $ifc in $ns to start" grep -q "listening on" "$E2E_TMP/$name.log"
  SPAWNED_PID=$pid
}
stop_capture() {
  kill -INT "$1" 2>/dev/null || true
  wait_for 10 "tcpdump (pid $1) to finish writing" exited "$1"
}
pcap_frames() { tcpdump -n -r "$1" "${@:2}" 2>/dev/null | wc -l; }

# make_file PATH MEGABYTES: random content.
make_file() { head -c "$(($2 * 1024 * 1024))" /dev/urandom > "$1"; }

# start_http_server DIR: python3 http.server in the remote namespace on 10.62.0.1:8080 (tunnel address).
start_http_server() {
  spawn http-server ip netns exec "$ns_remote" python3 -u -m http.server --bind 10.62.0.1 --directory "$1" 8080
  local pid=$SPAWNED_PID
  wait_for 15 "http.server on 10.62.0.1:8080" bash -c "ip netns exec $ns_remote ss -ltnH 'sport = :8080' | grep -q 10.62.0.1"
  SPAWNED_PID=$pid
}

# fetch NAME DEST [CURL_ARGS...]: GET http://10.62.0.1:8080/NAME from the client namespace into DEST.
fetch() {
  local name=$1 dest=$2; shift 2
  ip netns exec "$ns_client" curl -sS --fail --max-time 90 "$@" -o "$dest" "http://10.62.0.1:8080/$name"
}

# same_sha256 A B WHAT: fails unless both files exist and have the same sha256.
same_sha256() {
  [ -f "$2" ] || fail "$3: nothing arrived"
  local a b
  a=$(sha256sum < "$1" | cut -d' ' -f1); b=$(sha256sum < "$2" | cut -d' ' -f1)
  [ "$a" = "$b" ] || fail "$3: sha256 mismatch (sent $a, $(stat -c %s "$1") bytes; received $b, $(stat -c %s "$2") bytes)"
}

# Establishes a session (client -> wireguard-go) and returns once a ping gets through.
wait_tunnel_up() {
  wait_for "${1:-30}" "a ping from the client to 10.62.0.1 through the tunnel" ping_once "$ns_client" 10.62.0.1
}
