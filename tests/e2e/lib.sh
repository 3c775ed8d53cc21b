# Shared helpers for end-to-end tests: sourced, not run. Every test creates its own namespaces and
# processes with a per-run suffix, records them, and removes them on exit (normal, failure or signal).
set -euo pipefail

E2E_SUFFIX="${E2E_SUFFIX:-$$}"
E2E_TMP=$(mktemp -d "/tmp/wggate-e2e.XXXXXX")
_e2e_pids=()
_e2e_netns=()
_e2e_cleanups=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

need() {
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || fail "required command '$cmd' is missing (run tools/install-deps.sh)"
  done
}

need_root() { [ "$(id -u)" -eq 0 ] || fail "end-to-end tests need root (network namespaces)"; }

# Starts a command in the background, remembering its PID for cleanup; the PID is left in $SPAWNED_PID.
# Output goes to $E2E_TMP/<name>.log. Call it directly, not in $(...): a subshell would lose the PID.
spawn() {
  local name=$1; shift
  "$@" >"$E2E_TMP/$name.log" 2>&1 &
  SPAWNED_PID=$!
  _e2e_pids+=("$SPAWNED_PID")
}

add_netns() {
  ip netns add "$1"
  _e2e_netns+=("$1")
  ip -n "$1" link set lo up
}

on_cleanup() { _e2e_cleanups+=("$*"); }

e2e_cleanup() {
  local rc=$?
  set +e
  for c in "${_e2e_cleanups[@]}"; do eval "$c" >/dev/null 2>&1; done
  for pid in "${_e2e_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${_e2e_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  for ns in "${_e2e_netns[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ "$rc" -ne 0 ]; then
    for f in "$E2E_TMP"/*.log; do
      [ -f "$f" ] || continue
      echo "---- $f (last 30 lines)"; tail -n 30 "$f"
    done
  fi
  rm -rf "$E2E_TMP"
  exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# wait_for TIMEOUT_SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for() {
  local timeout=$1 what=$2; shift 2
  local end=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || fail "timed out after ${timeout}s waiting for: $what"
    sleep 0.2
  done
}

# Two namespaces joined by a veth pair: veth_pair NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN
veth_pair() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}

# Starts wireguard-go in namespace NS with interface IFACE (its UAPI socket is global: names must differ).
# Leaves its PID in $SPAWNED_PID.
start_wireguard_go() {
  local ns=$1 iface=$2
  on_cleanup "rm -f /var/run/wireguard/$iface.sock"
  spawn "wireguard-go-$iface" ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=verbose \
        wireguard-go -f "$iface"
  local pid=$SPAWNED_PID
  wait_for 10 "wireguard-go UAPI socket for $iface" test -S "/var/run/wireguard/$iface.sock"
  wait_for 10 "interface $iface in $ns" ip -n "$ns" link show "$iface"
  SPAWNED_PID=$pid
}

# latest handshake (unix seconds) wireguard-go reports for a peer, 0 if none.
wg_latest_handshake() {
  ip netns exec "$1" wg show "$2" latest-handshakes | awk -v k="$3" '$1 == k { print $2 }'
}
