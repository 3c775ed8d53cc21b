#!/usr/bin/env bash
# What wggate must refuse, against the real wireguard-go (topology in gateway_lib.sh):
#   1. inner source outside the peer's AllowedIPs: wireguard-go encrypts a ping from 10.70.0.1 (an address it
#      owns, inside its own AllowedIPs for wggate); wggate decrypts it, drops it, and counts
#      drop_inner_source_not_allowed; the client never sees it;
#   2. a peer whose key wggate does not know (a second wireguard-go, port 51821, same underlay) never completes
#      a handshake and none of its pings reach the client;
#   3. garbage to UDP/51820 during a rate-limited 10 MB transfer (random bytes, truncated and over-long
#      messages, unknown types, unknown receiver indexes, replayed and tampered real transport messages, sent
#      by underlay_abuse.py): the transfer's sha256 still matches and every drop reason is counted.
# Usage: gateway_abuse_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

gw_init "${1:?usage: gateway_abuse_test.sh BUILD_DIR}"
wait_tunnel_up 30

# --- 1. inner source not allowed -------------------------------------------------------------------------------
log "scenario inner-source: remote pings the client from 10.70.0.1 (not in its AllowedIPs on wggate)"
ip -n "$ns_remote" addr add 10.70.0.1/32 dev "$wg_if"
start_capture spoof-inside "$ns_client" in-host host 10.70.0.1; cap=$SPAWNED_PID
n=$(ping_replies "$ns_remote" 5 -W 1 -I 10.70.0.1 10.61.0.2)
[ "$n" -eq 0 ] || fail "inner-source: $n echo replies to 10.70.0.1: wggate forwarded a packet from outside AllowedIPs"
# The control: from its allowed address the same peer does get through (so the drop above is not an outage).
n=$(ping_replies "$ns_remote" 3 10.61.0.2)
[ "$n" -eq 3 ] || fail "inner-source: only $n of 3 replies from the remote's allowed address 10.62.0.1"
stop_capture "$cap"
seen=$(pcap_frames "$E2E_TMP/spoof-inside.pcap")
[ "$seen" -eq 0 ] || fail "inner-source: the client's segment carried $seen packets from/to 10.70.0.1"
pass "inner-source (no packet from 10.70.0.1 reached the client; the counter is checked at exit)"

# --- 2. unknown peer key -------------------------------------------------------------------------------------------
log "scenario unknown-key: a second wireguard-go (key unknown to wggate) on 172.31.61.2:51821"
rogue_if="wgx$((E2E_SUFFIX % 100000))"
rogue_key=$(wg genkey)
echo "$rogue_key" > "$E2E_TMP/rogue.key"; chmod 600 "$E2E_TMP/rogue.key"
start_wireguard_go "$ns_remote" "$rogue_if"
ip netns exec "$ns_remote" wg set "$rogue_if" private-key "$E2E_TMP/rogue.key" listen-port 51821 \
  peer "$gw_pub" allowed-ips 10.61.0.0/24 endpoint 172.31.61.1:51820
ip -n "$ns_remote" addr add 10.64.0.1/24 dev "$rogue_if"
ip -n "$ns_remote" link set "$rogue_if" up mtu 1420
start_capture rogue-inside "$ns_client" in-host host 10.64.0.1; cap=$SPAWNED_PID
# ping -I IFACE binds to the rogue interface, so the remote's route to 10.61.0.0/24 via $wg_if is not used.
spawn rogue-ping ip netns exec "$ns_remote" ping -n -c 10 -i 0.2 -W 1 -I "$rogue_if" 10.61.0.2
rogue_ping=$SPAWNED_PID
wait_for 20 "unknown-key: wggate to refuse the rogue's initiation" \
  grep -q "initiation from 172.31.61.2:51821 refused" "$E2E_TMP/wggate.log"
reason=$(grep -m1 "initiation from 172.31.61.2:51821 refused" "$E2E_TMP/wggate.log" | sed 's/.*refused: //')
wait_for 20 "unknown-key: the rogue's pings to finish" exited "$rogue_ping"
grep -q "bytes from" "$E2E_TMP/rogue-ping.log" && fail "unknown-key: the rogue's pings were answered"
stop_capture "$cap"
seen=$(pcap_frames "$E2E_TMP/rogue-inside.pcap")
[ "$seen" -eq 0 ] || fail "unknown-key: the client's segment carried $seen packets from/to the rogue's 10.64.0.1"
[ "$(wg_latest_handshake "$ns_remote" "$rogue_if" "$gw_pub")" -eq 0 ] \
  || fail "unknown-key: the rogue wireguard-go reports a handshake with wggate"
grep -q "Received handshake response" "$E2E_TMP/wireguard-go-$rogue_if.log" \
  && fail "unknown-key: wggate answered the rogue's initiation"
pass "unknown-key (initiation refused: $reason; no handshake, no packet through)"

# --- 3. garbage during a transfer ---------------------------------------------------------------------------------
log "scenario garbage: abuse UDP/51820 during a 10 MB transfer (rate-limited to ~5 s)"
mkdir -p "$E2E_TMP/www" "$E2E_TMP/got"
make_file "$E2E_TMP/www/big.bin" 10
start_http_server "$E2E_TMP/www"
# Real transport messages wireguard-go sends to wggate (source port 51820; the garbage's port differs).
start_capture replay-src "$ns_remote" out-remote \
  udp and src host 172.31.61.2 and src port 51820 and dst port 51820
cap=$SPAWNED_PID
# The abuse starts first (replays join as soon as the capture holds transport messages), so that it covers the
# whole transfer whatever the machine's speed.
spawn abuse ip netns exec "$ns_remote" python3 -u "$here/underlay_abuse.py" 172.31.61.1 51820 \
  "$E2E_TMP/replay-src.pcap" "$E2E_TMP/abuse.stop" --max-seconds 120
abuse_pid=$SPAWNED_PID
wait_for 20 "garbage: the abuse script to start sending" grep -q started "$E2E_TMP/abuse.log"
spawn curl ip netns exec "$ns_client" curl -sS --fail --max-time 90 --limit-rate 2M \
  -o "$E2E_TMP/got/big.bin" http://10.62.0.1:8080/big.bin
curl_pid=$SPAWNED_PID
wait_for 90 "garbage: the transfer to finish" exited "$curl_pid"
touch "$E2E_TMP/abuse.stop"
wait_for 20 "garbage: the abuse script to stop" exited "$abuse_pid"
rc=0; wait "$curl_pid" || rc=$?
[ "$rc" -eq 0 ] || { gw_alive; fail "garbage: curl failed during the abuse (status $rc)"; }
wait "$abuse_pid" || fail "garbage: the abuse script failed: $(cat "$E2E_TMP/abuse.log")"
stop_capture "$cap"
same_sha256 "$E2E_TMP/www/big.bin" "$E2E_TMP/got/big.bin" "garbage transfer"
gw_alive
n=$(ping_replies "$ns_client" 3 10.62.0.1)
[ "$n" -eq 3 ] || fail "garbage: only $n of 3 replies through the tunnel after the abuse"
pass "garbage (10 MB intact under abuse; $(grep '^sent' "$E2E_TMP/abuse.log"))"

# --- the counters, from wggate's exit dump ---------------------------------------------------------------------------
gw_stop
log "drop counters:"
for c in drop_inner_source_not_allowed drop_truncated drop_bad_length drop_unknown_type drop_unknown_index \
         drop_replay drop_bad_tag; do
  expect_counter "$c"
done
pass "counters (every abuse counted under its own reason)"
echo "gateway_abuse: $passed passed, 0 failed"
