#!/usr/bin/env bash
# Interop proof for the protocol core: our lib/ (through tools/interop/wg_interop.cc over a plain UDP socket)
# against Debian's real wireguard-go, each in its own network namespace.
#   1. we initiate, ping wireguard-go's tunnel address, decrypt its replies;
#   2. wireguard-go initiates (a ping from its side), we respond, decrypt and reply;
#   3. both again with a preshared key on both sides;
#   4. a wrong preshared key never completes a handshake.
# Usage: interop_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

build=${1:?usage: interop_test.sh BUILD_DIR}
tool=$(cd "$build" && pwd)/tools/wg-interop
[ -x "$tool" ] || fail "missing $tool (build first)"
need_root
need wireguard-go wg ip ping

ns_us="wgi-us-$E2E_SUFFIX"
ns_go="wgi-go-$E2E_SUFFIX"
iface="wgi$((E2E_SUFFIX % 100000))"
add_netns "$ns_us"
add_netns "$ns_go"
veth_pair "$ns_us" veth-us 10.231.0.1/24 "$ns_go" veth-go 10.231.0.2/24

our_key=$(wg genkey); our_pub=$(echo "$our_key" | wg pubkey)
go_key=$(wg genkey); go_pub=$(echo "$go_key" | wg pubkey)
psk=$(wg genpsk)
echo "$go_key" > "$E2E_TMP/go.key"; echo "$psk" > "$E2E_TMP/psk"; chmod 600 "$E2E_TMP"/go.key "$E2E_TMP"/psk

start_wireguard_go "$ns_go" "$iface"; go_pid=$SPAWNED_PID
ip netns exec "$ns_go" wg set "$iface" private-key "$E2E_TMP/go.key" listen-port 51820
ip -n "$ns_go" addr add 10.232.0.2/24 dev "$iface"
ip -n "$ns_go" link set "$iface" up mtu 1420

# (Re)creates wireguard-go's peer entry for us, which also drops any session it had.
configure_peer() {
  ip netns exec "$ns_go" wg set "$iface" peer "$our_pub" remove
  local extra=()
  [ "${1:-}" = psk ] && extra=(preshared-key "$E2E_TMP/psk")
  ip netns exec "$ns_go" wg set "$iface" peer "$our_pub" allowed-ips 10.232.0.1/32 \
     endpoint 10.231.0.1:51820 "${extra[@]}"
}

run_tool() {  # run_tool MODE [--preshared-key ...]
  local mode=$1; shift
  ip netns exec "$ns_us" "$tool" --private-key "$our_key" --peer-public-key "$go_pub" \
     --endpoint 10.231.0.2:51820 --listen-port 51820 --tunnel-ip 10.232.0.1 --peer-tunnel-ip 10.232.0.2 \
     --mode "$mode" --count 3 --timeout 30 "$@"
}

passed=0
scenario() {
  local name=$1 psk_mode=$2; shift 2
  local psk_args=()
  [ "$psk_mode" = psk ] && psk_args=(--preshared-key "$psk")

  log "scenario $name: we initiate"
  configure_peer "$psk_mode"
  run_tool initiate "${psk_args[@]}" > "$E2E_TMP/initiate-$name.log" 2>&1 \
    || { cat "$E2E_TMP/initiate-$name.log"; fail "$name: initiator side did not get 3 echo replies"; }
  grep -q "handshake complete (initiator)" "$E2E_TMP/initiate-$name.log" || fail "$name: no handshake"
  [ "$(wg_latest_handshake "$ns_go" "$iface" "$our_pub")" -gt 0 ] || fail "$name: wireguard-go saw no handshake"
  passed=$((passed + 1))

  log "scenario $name: wireguard-go initiates"
  configure_peer "$psk_mode"
  spawn "respond-$name" run_tool respond "${psk_args[@]}"
  local pid=$SPAWNED_PID
  wait_for 10 "responder listening" grep -q "listening" "$E2E_TMP/respond-$name.log"
  ip netns exec "$ns_go" ping -c 3 -i 0.5 -W 5 10.232.0.1 > "$E2E_TMP/ping-$name.log" \
    || { cat "$E2E_TMP/ping-$name.log"; fail "$name: ping from wireguard-go through our responder failed"; }
  wait_for 15 "$name: responder to finish" bash -c "! kill -0 $pid"
  wait "$pid" || fail "$name: responder exited non-zero"
  grep -q "answered handshake initiation" "$E2E_TMP/respond-$name.log" || fail "$name: we never responded"
  passed=$((passed + 1))
}

scenario plain none
scenario psk psk

log "scenario wrong-psk: no handshake may complete"
configure_peer psk
wrong=$(wg genpsk)
if ip netns exec "$ns_us" "$tool" --private-key "$our_key" --peer-public-key "$go_pub" --preshared-key "$wrong" \
     --endpoint 10.231.0.2:51820 --listen-port 51820 --tunnel-ip 10.232.0.1 --peer-tunnel-ip 10.232.0.2 \
     --mode initiate --count 1 --timeout 7 > "$E2E_TMP/wrongpsk.log" 2>&1; then
  fail "wrong-psk: a handshake completed with mismatched preshared keys"
fi
grep -q "response refused: bad_response_tag" "$E2E_TMP/wrongpsk.log" \
  || { cat "$E2E_TMP/wrongpsk.log"; fail "wrong-psk: expected the response to be refused as bad_response_tag"; }
passed=$((passed + 1))

kill -0 "$go_pid" || fail "wireguard-go died"
echo "interop: $passed passed, 0 failed"
