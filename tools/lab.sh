#!/usr/bin/env bash
# The main job, runnable on a fresh Debian 12 machine: installs, builds, and shows wggate's WireGuard core
# talking to a real WireGuard peer (Debian's wireguard-go) across a network namespace "underlay":
#   node-a: wggate's protocol core (build/tools/wg-interop, plain UDP socket; the DPDK gateway replaces it
#           in the next milestone), tunnel address 10.240.0.1
#   node-b: wireguard-go, tunnel address 10.240.0.2, configured with `wg`
# It pings through the tunnel in both directions, captures the underlay while doing so, and prints what a
# capture shows (only UDP/51820, WireGuard message types, no readable payload) and `wg show` of the peer.
# Everything it creates is removed on exit or Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${SKIP_INSTALL:-0}" != 1 ]; then tools/install-deps.sh; fi
[ -f build/build.ninja ] || meson setup build -Dbuildtype=release
meson compile -C build wg-interop >/dev/null

source "$root/tests/e2e/lib.sh"
need_root
need wireguard-go wg tshark tcpdump

ns_a="lab-a-$E2E_SUFFIX"; ns_b="lab-b-$E2E_SUFFIX"; iface="wglab$((E2E_SUFFIX % 10000))"
add_netns "$ns_a"; add_netns "$ns_b"
veth_pair "$ns_a" underlay-a 172.31.240.1/24 "$ns_b" underlay-b 172.31.240.2/24

key_a=$(wg genkey); pub_a=$(echo "$key_a" | wg pubkey)
key_b=$(wg genkey); pub_b=$(echo "$key_b" | wg pubkey)
echo "$key_b" > "$E2E_TMP/b.key"; chmod 600 "$E2E_TMP/b.key"

log "starting wireguard-go ($iface) on node-b"
start_wireguard_go "$ns_b" "$iface"
ip netns exec "$ns_b" wg set "$iface" private-key "$E2E_TMP/b.key" listen-port 51820 \
   peer "$pub_a" allowed-ips 10.240.0.1/32 endpoint 172.31.240.1:51820
ip -n "$ns_b" addr add 10.240.0.2/24 dev "$iface"
ip -n "$ns_b" link set "$iface" up mtu 1420

log "capturing the underlay on node-a"
spawn capture ip netns exec "$ns_a" tcpdump -i underlay-a -U -w "$E2E_TMP/underlay.pcap" udp
wait_for 10 "tcpdump to start" grep -q "listening on" "$E2E_TMP/capture.log"

tool_args=(--private-key "$key_a" --peer-public-key "$pub_b" --endpoint 172.31.240.2:51820 --listen-port 51820
           --tunnel-ip 10.240.0.1 --peer-tunnel-ip 10.240.0.2 --count 3 --timeout 30)
log "node-a initiates the handshake and pings node-b through the tunnel"
ip netns exec "$ns_a" build/tools/wg-interop "${tool_args[@]}" --mode initiate

log "node-b (wireguard-go) pings node-a through the tunnel; node-a answers"
ip netns exec "$ns_b" wg set "$iface" peer "$pub_a" remove
ip netns exec "$ns_b" wg set "$iface" peer "$pub_a" allowed-ips 10.240.0.1/32 endpoint 172.31.240.1:51820
spawn responder ip netns exec "$ns_a" build/tools/wg-interop "${tool_args[@]}" --mode respond
wait_for 10 "node-a to listen" grep -q listening "$E2E_TMP/responder.log"
ip netns exec "$ns_b" ping -c 3 -i 0.5 -W 5 -p 7365637265742d70617373776f7264 10.240.0.1
cat "$E2E_TMP/responder.log"

sleep 1; kill -INT "${_e2e_pids[1]}" 2>/dev/null || true
wait_for 10 "capture to be written" test -s "$E2E_TMP/underlay.pcap"
sleep 0.5

echo
log "what the underlay capture shows (tshark decodes WireGuard):"
tshark -r "$E2E_TMP/underlay.pcap" -T fields -E separator=' ' -e frame.number -e ip.src -e ip.dst \
  -e udp.dstport -e frame.len -e _ws.col.Info 2>/dev/null \
  | awk '{ printf "%3s  %-14s -> %-14s udp/%-5s %5s bytes  ", $1, $2, $3, $4, $5;
           for (i = 6; i <= NF; i++) printf "%s ", $i; print "" }'
echo
if tshark -r "$E2E_TMP/underlay.pcap" -x 2>/dev/null | grep -q "secret-password\|wggate-interop-echo"; then
  fail "plaintext visible on the underlay"
fi
log "searched the capture for the ping payloads ('secret-password', 'wggate-interop-echo'): not found"
echo
log "wg show on node-b (wireguard-go):"
ip netns exec "$ns_b" wg show "$iface"
echo
log "done; cleaning up namespaces and processes"
