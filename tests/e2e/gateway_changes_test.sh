#!/usr/bin/env bash
# Live changes through the stock `wg` tool and SIGHUP, while traffic flows (topology in gateway_lib.sh):
#   1. wg set: a peer added with allowed-ips, endpoint, keepalive, psk; shown by wg show; removed again;
#      listen-port changed and back; bad requests answered with wireguard-go's errno values
#   2. churn: a steady ping to peer A (the remote wireguard-go) while other peers are added and removed
#      1000 times (some owning prefixes nested inside A's /24) and A's own allowed IPs are extended: not one
#      echo lost, the new prefix reachable, the heap back to its baseline afterwards
#   3. wg syncconf and SIGHUP: the file's peers applied as a difference; A's session survives
#   4. wg set private-key: a new identity; the remote is told the new key and traffic resumes
# Usage: gateway_changes_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

gw_init "${1:?usage: gateway_changes_test.sh BUILD_DIR}"
gw_name="wgg$((E2E_SUFFIX % 100000))"
wait_tunnel_up

# --- 1. wg set ---------------------------------------------------------------------------------------------
log "scenario wg-set: add a peer with every setting, show it, remove it"
k1=$(wg genkey | wg pubkey); psk=$(wg genpsk)
echo "$psk" > "$E2E_TMP/psk"; chmod 600 "$E2E_TMP/psk"
wg set "$gw_name" peer "$k1" allowed-ips 10.70.0.0/24,fd70::/64 endpoint 172.31.61.9:51820 \
  persistent-keepalive 25 preshared-key "$E2E_TMP/psk"
dump=$(wg show "$gw_name" dump | grep "^$k1")
read -r key dpsk ep aips hs rx tx ka <<<"$dump"
[ "$dpsk" = "$psk" ] || fail "wg-set: preshared key not stored"
[ "$ep" = "172.31.61.9:51820" ] || fail "wg-set: endpoint is '$ep'"
[ "$aips" = "10.70.0.0/24,fd70::/64" ] || fail "wg-set: allowed ips are '$aips'"
[ "$ka" = 25 ] || fail "wg-set: persistent keepalive is '$ka'"
wg set "$gw_name" peer "$k1" allowed-ips 10.71.0.0/16 persistent-keepalive off
dump=$(wg show "$gw_name" dump | grep "^$k1")
read -r key dpsk ep aips hs rx tx ka <<<"$dump"
[ "$aips" = "10.71.0.0/16" ] && [ "$ka" = off ] || fail "wg-set: update gave allowed ips '$aips', keepalive '$ka'"
wg set "$gw_name" peer "$k1" remove
wg show "$gw_name" peers | grep -q "$k1" && fail "wg-set: peer still listed after remove"
wg set "$gw_name" listen-port 51821
[ "$(wg show "$gw_name" listen-port)" = 51821 ] || fail "wg-set: listen port not changed"
wg set "$gw_name" listen-port 51820
[ "$(wg show "$gw_name" listen-port)" = 51820 ] || fail "wg-set: listen port not restored"
n=$(ping_replies "$ns_client" 3 10.62.0.1)
[ "$n" -ge 2 ] || fail "wg-set: tunnel broken after the listen port went back: $n of 3 replies"
# Requests the wg tool would never send, answered as wireguard-go answers them.
uapi() { printf '%b' "$1" | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
out = b""
while not out.endswith(b"\n\n"):
    chunk = s.recv(65536)
    if not chunk: break
    out += chunk
print(out.decode().strip())' "/var/run/wireguard/$gw_name.sock"; }
[ "$(uapi 'set=1\nbogus=1\n\n')" = "errno=-22" ] || fail "wg-set: unknown key not answered with -EINVAL"
[ "$(uapi 'set=1\nlisten_port\n\n')" = "errno=-71" ] || fail "wg-set: line without '=' not answered with -EPROTO"
[ "$(uapi "set=1\npublic_key=$(printf '%064x' 1)\nallowed_ip=10.72.0.0/33\n\n")" = "errno=-22" ] \
  || fail "wg-set: bad prefix not answered with -EINVAL"
wg show "$gw_name" peers | grep -q "$(printf '%064x' 1)" && fail "wg-set: a refused request still added its peer"
[ "$(wg show "$gw_name" peers | wc -l)" = 1 ] || fail "wg-set: refused requests changed the peer list"
pass "wg-set (add with psk/endpoint/keepalive/allowed ips, update, remove, listen port, errno -22/-71, all-or-nothing)"

# --- 2. churn under a steady flow ----------------------------------------------------------------------------
metric() {
  ip netns exec "$ns_gw" curl -sf --max-time 5 http://127.0.0.1:9586/metrics | awk -v m="$1" '$1 == m { print $2 }'
}
heap() { metric wggate_heap_in_use_bytes | awk '{ printf "%d\n", $1 }'; }
keys=()
for i in $(seq 1 20); do keys+=("$(wg genkey | wg pubkey)"); done
churn() {  # churn ROUNDS: adds and removes one of 20 peers per round; every 4th owns a prefix inside A's /24
  local r k
  for r in $(seq 1 "$1"); do
    k=${keys[$((r % 20))]}
    if [ $((r % 4)) -eq 0 ]; then
      wg set "$gw_name" peer "$k" allowed-ips "10.62.0.$((128 + r % 64))/32,10.62.0.192/27,fd63::$r/128" \
        endpoint "172.31.61.$((10 + r % 200)):51820"
    else
      wg set "$gw_name" peer "$k" allowed-ips "10.$((80 + r % 100)).$((r % 250)).0/24,fd80:$r::/48"
    fi
    wg set "$gw_name" peer "$k" remove
  done
}
log "scenario churn: warm-up (100 add/remove) for the heap baseline"
churn 100
base=$(heap)
[ -n "$base" ] || fail "churn: no wggate_heap_in_use_bytes metric"
log "scenario churn: 1000 adds and removes of other peers while pinging A; A's allowed ips extended midway"
( churn 500
  wg set "$gw_name" peer "$remote_pub" allowed-ips 10.62.0.0/24,fd63::/64,10.63.0.0/24
  churn 500 ) > "$E2E_TMP/churn.log" 2>&1 &
churn_pid=$!
on_cleanup "kill $churn_pid 2>/dev/null"
sent=0; got=0; rounds=0
while kill -0 "$churn_pid" 2>/dev/null || [ "$rounds" -lt 3 ]; do
  gw_counters "$E2E_TMP/counters-before"
  out=$(ip netns exec "$ns_client" ping -n -q -c 100 -i 0.01 -W 2 10.62.0.1 || true)
  read -r s r <<<"$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' <<<"$out")"
  sent=$((sent + s)); got=$((got + r)); rounds=$((rounds + 1))
  [ "${s:-0}" -gt 0 ] || fail "churn: ping did not run: $out"
  [ "$r" = "$s" ] || fail "churn: lost echoes to A while peers changed: $r of $s (round $rounds;" \
    "$(gw_counters_grown "$E2E_TMP/counters-before"))"
  [ "$rounds" -lt 600 ] || fail "churn: the churn did not finish within 600 ping rounds"
done
wait "$churn_pid" || fail "churn: a wg set failed: $(tail -n 5 "$E2E_TMP/churn.log")"
gw_alive
[ "$(wg show "$gw_name" peers | wc -l)" = 1 ] || fail "churn: $(wg show "$gw_name" peers | wc -l) peers left, want 1"
wg show "$gw_name" allowed-ips | grep -q "10.63.0.0/24" || fail "churn: A's allowed ips were not extended"
ip -n "$ns_remote" addr add 10.63.0.1/24 dev "$wg_if"
n=$(ping_replies "$ns_client" 3 10.63.0.1)
[ "$n" -ge 2 ] || fail "churn: the extended prefix 10.63.0.0/24 is not routed to A: $n of 3 replies"
after=$(heap)
# A leak of one peer's objects per round would be over 1 MB; allocator noise is a few KB.
[ $((after - base)) -lt 65536 ] || fail "churn: heap grew from $base to $after bytes over 1000 changes"
pass "churn (1000 adds+removes, $got/$sent echoes to A, extension routed, heap $base -> $after bytes)"

log "scenario bulk: 40 peers added at once (wg addconf), removed at once (wg syncconf), while pinging A"
wg showconf "$gw_name" > "$E2E_TMP/before.conf"
: > "$E2E_TMP/bulk.conf"
for i in $(seq 1 40); do
  printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.0.0/16, 10.62.0.%d/32\nEndpoint = 172.31.61.%d:51820\n\n' \
    "$(wg genkey | wg pubkey)" $((100 + i)) $((100 + i)) $((100 + i)) >> "$E2E_TMP/bulk.conf"
done
for round in 1 2 3; do
  gw_counters "$E2E_TMP/counters-before"
  ip netns exec "$ns_client" ping -n -q -c 60 -i 0.05 -W 2 10.62.0.1 > "$E2E_TMP/bulk-ping.txt" 2>&1 &
  ping_pid=$!
  wg addconf "$gw_name" "$E2E_TMP/bulk.conf"
  [ "$(wg show "$gw_name" peers | wc -l)" = 41 ] || fail "bulk: $(wg show "$gw_name" peers | wc -l) peers after addconf"
  wg syncconf "$gw_name" "$E2E_TMP/before.conf"
  [ "$(wg show "$gw_name" peers | wc -l)" = 1 ] || fail "bulk: $(wg show "$gw_name" peers | wc -l) peers after syncconf"
  wait "$ping_pid" || true
  grep -q " 60 received" "$E2E_TMP/bulk-ping.txt" || fail "bulk: echoes to A lost (round $round): $(cat "$E2E_TMP/bulk-ping.txt");" \
    "$(gw_counters_grown "$E2E_TMP/counters-before")"
done
pass "bulk (3 rounds of 40 peers added and removed in one request each; 60/60 echoes to A every round)"

# --- 3. syncconf and SIGHUP --------------------------------------------------------------------------------
log "scenario syncconf: wg syncconf adds and removes peers as a difference; A keeps its session"
k2=$(wg genkey | wg pubkey); k3=$(wg genkey | wg pubkey)
{ wg showconf "$gw_name"; printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.90.0.0/24\n' "$k2"; } > "$E2E_TMP/sync.conf"
wg syncconf "$gw_name" "$E2E_TMP/sync.conf"
wg show "$gw_name" peers | grep -q "$k2" || fail "syncconf: peer not added"
n=$(ping_replies "$ns_client" 3 10.63.0.1)
[ "$n" -ge 2 ] || fail "syncconf: A unreachable after syncconf: $n of 3"
log "scenario sighup: the config file gains a peer and loses none; SIGHUP applies only the difference"
printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.91.0.0/24\n' "$k3" >> "$E2E_TMP/wggate.conf"
handshakes() { grep -c "handshake initiation\|initiation from" "$E2E_TMP/wggate.log" || true; }
hs_before=$(wg show "$gw_name" latest-handshakes | awk -v k="$remote_pub" '$1 == k { print $2 }')
n_before=$(handshakes)
kill -HUP "$gw_pid"
wait_for 10 "sighup: the new peer to appear" sh -c "wg show '$gw_name' peers | grep -q '$k3'"
wg show "$gw_name" peers | grep -q "$k2" && fail "sighup: a peer not in the file was kept"
wg show "$gw_name" allowed-ips | grep -q "10.63.0.0/24" && fail "sighup: A's allowed ips are not the file's"
n=$(ping_replies "$ns_client" 3 10.62.0.1)
[ "$n" -ge 2 ] || fail "sighup: A unreachable after SIGHUP: $n of 3"
# A's session is kept: no handshake since SIGHUP, unless the regular rekey (120 s) fell due meanwhile.
if [ "$(handshakes)" != "$n_before" ] && [ $(($(date +%s) - hs_before)) -lt 110 ]; then
  fail "sighup: A's session was restarted by the reload"
fi
echo "garbage line" >> "$E2E_TMP/wggate.conf"
kill -HUP "$gw_pid"
wait_for 10 "sighup: the reload error to be logged with file and line" \
  grep -q "SIGHUP: .*wggate.conf:[0-9]*:.*running configuration is unchanged" "$E2E_TMP/wggate.log"
gw_alive
wg show "$gw_name" peers | grep -q "$k3" || fail "sighup: a bad file changed the running peers"
pass "syncconf + sighup (differences applied, A's session kept, bad file refused with file:line)"

# --- 4. private key ----------------------------------------------------------------------------------------
log "scenario private-key: wg set private-key; the remote learns the new public key; traffic resumes"
wg genkey > "$E2E_TMP/new.key"; chmod 600 "$E2E_TMP/new.key"
new_pub=$(wg pubkey < "$E2E_TMP/new.key")
wg set "$gw_name" private-key "$E2E_TMP/new.key"
[ "$(wg show "$gw_name" public-key)" = "$new_pub" ] || fail "private-key: wg show reports the old public key"
ip netns exec "$ns_remote" wg set "$wg_if" peer "$gw_pub" remove
ip netns exec "$ns_remote" wg set "$wg_if" peer "$new_pub" allowed-ips 10.61.0.0/24,fd61::/64 \
  endpoint 172.31.61.1:51820
wait_for 30 "private-key: a ping through the tunnel under the new identity" ping_once "$ns_client" 10.62.0.1
pass "private-key (new public key shown; session re-established with the remote)"

gw_stop
[ ! -e "/var/run/wireguard/$gw_name.sock" ] || fail "stop: the UAPI socket was not removed"
pass "stop (SIGTERM: clean exit, socket removed)"
log "gateway_changes: $passed passed"
