#!/usr/bin/env bash
# The main job, runnable as root on a fresh Debian 12 machine: installs (tools/install-deps.sh, skipped with
# SKIP_INSTALL=1), builds (meson), and shows wggate doing its job between network namespaces:
#
#   frontend-client ns             gateway ns                              remote node ns
#   10.61.0.2  --inside veth--  wggate (DPDK, net_af_packet vdevs)  --underlay veth--  wireguard-go
#   curl with bearer token,     inside 10.61.0.1                         172.31.61.2, tunnel 10.62.0.1
#   API key, JSON password      outside 172.31.61.1 UDP/51820            backend-api (tools/lab/backend_api.py)
#
# frontend-client sends HTTP requests carrying secrets to backend-api, which answers with secrets of its own.
# Both segments are captured: the inside one shows every secret in the clear; the underlay shows only
# WireGuard messages on UDP/51820 and none of the secrets (the lab fails loudly if one shows up). Then it
# prints `wg show` of the remote peer and wggate's start-up line and counters. Everything it creates
# (namespaces, processes, files) is removed on exit, on failure and on Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

[ "$(id -u)" -eq 0 ] || { echo "tools/lab.sh needs root (it creates network namespaces): sudo $0" >&2; exit 1; }
if [ "${SKIP_INSTALL:-0}" != 1 ]; then tools/install-deps.sh; fi

source "$root/tests/e2e/lib.sh"
source "$root/tests/e2e/gateway_lib.sh"
trap 'echo "FAIL: tools/lab.sh line $LINENO: unexpected error (status $?)" >&2' ERR
need meson ninja wireguard-go wg ip tcpdump tshark ethtool curl python3

section() { printf '\n=== %s\n' "$*"; }
short() { local s=$1; [ "${#s}" -le 24 ] && echo "$s" || echo "${s:0:20}..."; }
rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
exited() { ! kill -0 "$1" 2>/dev/null; }

# --- build ---------------------------------------------------------------------------------------------------
if [ ! -f build/build.ninja ]; then
  log "meson setup build"
  meson setup build -Dbuildtype=release >"$E2E_TMP/build.log" 2>&1 || { tail -n 40 "$E2E_TMP/build.log"; fail "meson setup failed"; }
fi
log "meson compile -C build (the first build takes a few minutes)"
meson compile -C build >"$E2E_TMP/build.log" 2>&1 || { tail -n 40 "$E2E_TMP/build.log"; fail "the build failed"; }
GW_BIN="$root/build/control/wggate"
[ -x "$GW_BIN" ] || fail "the build did not produce $GW_BIN"
rm -f "$E2E_TMP/build.log"

# --- the secrets (fresh each run, so a capture can only contain them if this run's traffic carried them) --
bearer="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmcm9udGVuZC1jbGllbnQiLCJyb2xlIjoib3JkZXJzLWFkbWluIn0.$(rand_hex 16)"
api_key="sk_live_$(rand_hex 12)"
password="correct-horse-$(rand_hex 6)"
db_password="pg-orders-$(rand_hex 8)"
session_token="sess_$(rand_hex 16)"
secret_names=("bearer token (request header)" "API key (request header)" "password (request body)"
              "db password (response body)" "session token (response body)")
secret_values=("$bearer" "$api_key" "$password" "$db_password" "$session_token")
api=http://10.62.0.1:8080

# --- topology, captures, gateway, backend ----------------------------------------------------------------
section "setting up: frontend-client -> wggate (DPDK) -> underlay -> remote node (wireguard-go + backend-api)"
gw_setup_topology
log "namespaces: frontend-client=$ns_client  gateway=$ns_gw  remote node=$ns_remote"
log "remote node: wireguard-go on $wg_if, underlay 172.31.61.2, tunnel 10.62.0.1/24, peer = wggate"
gw_write_config
chmod 600 "$E2E_TMP/wggate.conf"  # it holds wggate's private key
on_cleanup "rm -rf /var/run/dpdk/wggate-$E2E_SUFFIX"

start_capture() {  # start_capture NAME NS IFACE: tcpdump into $E2E_TMP/NAME.pcap; PID in $SPAWNED_PID
  spawn "$1" ip netns exec "$2" tcpdump -i "$3" -n --immediate-mode -U -s 0 -w "$E2E_TMP/$1.pcap"
  wait_for 10 "tcpdump on $3 in $2 to start" grep -q "listening on" "$E2E_TMP/$1.log"
}
start_capture clear "$ns_client" in-host; clear_pid=$SPAWNED_PID
log "capturing the inside segment (frontend-client's link to wggate) -> clear.pcap"
start_capture underlay "$ns_remote" out-remote; underlay_pid=$SPAWNED_PID
log "capturing the underlay (wggate's outside link, on the remote node) -> underlay.pcap"

log "starting wggate: inside port net_af_packet0 (in-gw), outside port net_af_packet1 (out-gw)"
gw_start
startup_line=$(grep -m1 "public key" "$E2E_TMP/wggate.log")
log "$startup_line"

spawn backend-api ip netns exec "$ns_remote" env LAB_BEARER_TOKEN="$bearer" LAB_API_KEY="$api_key" \
  LAB_PASSWORD="$password" LAB_DB_PASSWORD="$db_password" LAB_SESSION_TOKEN="$session_token" \
  python3 "$root/tools/lab/backend_api.py" 10.62.0.1 8080
backend_pid=$SPAWNED_PID
backend_up() { grep -q "listening on" "$E2E_TMP/backend-api.log" || exited "$backend_pid"; }
wait_for 10 "backend-api to listen on $api" backend_up
exited "$backend_pid" && fail "backend-api exited at start (its log is below)"
log "backend-api listening on $api (remote node, inside the tunnel)"

# --- frontend-client talks to backend-api through wggate ---------------------------------------------------
section "frontend-client -> backend-api through wggate"
new_lines() {  # new_lines NAME: the lines $E2E_TMP/NAME.log gained since the last call, indented
  local file="$E2E_TMP/$1.log" var="seen_${1//-/_}"
  local total; total=$(wc -l <"$file")
  [ "$total" -gt "${!var:-0}" ] && sed -n "$(( ${!var:-0} + 1 )),${total}s/^/    /p" "$file"
  printf -v "$var" %s "$total"
}
seen_wggate=$(wc -l <"$E2E_TMP/wggate.log"); seen_backend_api=1
request() {  # request EXPECTED_IN_ANSWER CURL_ARGS...: one HTTP exchange from frontend-client; 200 expected
  local expect=$1; shift
  local code
  code=$(ip netns exec "$ns_client" curl -sS --max-time 20 -A frontend-client/1.0 -o "$E2E_TMP/answer.json" \
         -w '%{http_code}' "$@") || {
    exited "$gw_pid" && fail "wggate exited during the request (its log is below)"
    fail "frontend-client got no answer through the tunnel within 20 s"; }
  [ "$code" = 200 ] || fail "backend-api answered HTTP $code: $(cat "$E2E_TMP/answer.json")"
  grep -qF -- "$expect" "$E2E_TMP/answer.json" || fail "backend-api's answer lacks the expected field"
  new_lines wggate
  new_lines backend-api
  log "backend-api -> frontend-client: 200 $(cat "$E2E_TMP/answer.json")"
}
log "frontend-client -> backend-api: GET /api/orders with Authorization: Bearer $(short "$bearer"), X-API-Key: $(short "$api_key")"
log "  (wggate has no session yet: it holds the first packet and initiates a WireGuard handshake)"
request "$db_password" -H "Authorization: Bearer $bearer" -H "X-API-Key: $api_key" "$api/api/orders"
log "frontend-client -> backend-api: POST /api/login with Authorization, X-API-Key and {\"user\": \"alice\", \"password\": \"$(short "$password")\"}"
request "$session_token" -H "Authorization: Bearer $bearer" -H "X-API-Key: $api_key" \
  -H "Content-Type: application/json" --data "{\"user\": \"alice\", \"password\": \"$password\"}" "$api/api/login"
log "frontend-client -> backend-api: GET /api/orders again (same session, no new handshake)"
request "$db_password" -H "Authorization: Bearer $bearer" -H "X-API-Key: $api_key" "$api/api/orders"

sleep 0.5  # the last ACKs and FINs
for pid in "$clear_pid" "$underlay_pid"; do kill -TERM "$pid" 2>/dev/null || true; done
wait_for 10 "the captures to be written" exited "$clear_pid"
wait_for 10 "the captures to be written" exited "$underlay_pid"

# --- what the captures show (one tshark pass per capture: tshark takes a second or two to start) -----------
clear_pcap="$E2E_TMP/clear.pcap"; underlay_pcap="$E2E_TMP/underlay.pcap"
frames() { tcpdump -n -r "$1" 2>/dev/null | wc -l; }

section "the inside segment, in the clear (what anyone on an unencrypted network sees): $(frames "$clear_pcap") frames"
log "tshark -Y http -T fields -e ip.src -e ip.dst -e http.request.method -e http.request.uri -e http.authorization -e http.response.code"
tshark -n -r "$clear_pcap" -Y http -T fields -e ip.src -e ip.dst -e http.request.method -e http.request.uri \
   -e http.authorization -e http.response.code -e http.response.phrase 2>/dev/null >"$E2E_TMP/clear-http.txt" || true
[ -s "$E2E_TMP/clear-http.txt" ] || fail "tshark found no HTTP in the inside capture"
awk -F'\t' '{ printf "  %s -> %s  ", $1, $2; if ($3 != "") printf "%s %s  Authorization: %s\n", $3, $4, $5;
              else printf "HTTP %s %s\n", $6, $7 }' "$E2E_TMP/clear-http.txt"
log "tcpdump -A -r clear.pcap | grep -E 'Bearer|X-API-Key|password|session_token':"
tcpdump -A -n -r "$clear_pcap" 2>/dev/null | tr -d '\r' \
  | { grep -oE 'Authorization: Bearer [^ ]*|X-API-Key: [^ ]*|"(password|db_password|session_token)": "[^"]*"' || true; } \
  | awk '!seen[$0]++ { print "  " $0 }'

# One line per underlay frame: number, protocol stack, addresses, ports, length, WireGuard type, summary.
tshark -n -r "$underlay_pcap" -T fields -E separator=/t -E occurrence=f -e frame.number -e frame.protocols \
  -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e udp.dstport -e frame.len -e wg.type -e _ws.col.Protocol \
  -e _ws.col.Info 2>/dev/null >"$E2E_TMP/underlay.txt" || fail "tshark cannot read the underlay capture"
underlay() { awk -F'\t' "$@" "$E2E_TMP/underlay.txt"; }
section "the underlay, between wggate and the remote node: $(underlay 'END { print NR }') frames"
wg_frames=$(underlay '$9 != "" { n++ } END { print n + 0 }')
[ "$wg_frames" -gt 0 ] || fail "no WireGuard traffic on the underlay"
log "tshark -Y wg (Wireshark's WireGuard dissector), the first 12 of $wg_frames WireGuard frames:"
underlay '$9 != "" && n++ < 12 { printf "  %3s  %-11s -> %-11s udp/%-5s %4s bytes  %s\n", $1, $3, $4, $7, $8, $11 }'
log "WireGuard messages by type:"
underlay '$9 != "" { n[$9]++ } END {
  split("Handshake Initiation,Handshake Response,Cookie Reply,Transport Data", name, ",")
  for (t = 1; t <= 4; t++) if (t != 3 || n[t]) printf "  %-22s %4d\n", name[t], n[t] }'
for t in "1 Handshake Initiation" "2 Handshake Response" "4 Transport Data"; do
  [ "$(underlay -v t="${t%% *}" '$9 == t { n++ } END { print n + 0 }')" -gt 0 ] || fail "no ${t#* } on the underlay"
done
other=$(underlay '$9 == "" { n[$10]++ } END { for (p in n) printf "%s%d %s", (s++ ? ", " : ""), n[p], p }')
log "frames that are not WireGuard: ${other:-none}${other:+ (link-layer housekeeping: address resolution, multicast listener reports)}"
# A leak would be IP that is not WireGuard (the inner TCP/HTTP itself) or an inner address in any header.
leaks=$(underlay '($9 == "" && $2 ~ /(^|:)(ip|ipv6)(:|$)/ && $2 !~ /icmpv6/) || $2 ~ /(^|:)(tcp|http)(:|$)/ ||
                  $3 ~ /^10\.6[12]\./ || $4 ~ /^10\.6[12]\./ || $5 ~ /^fd6[13]:/ || $6 ~ /^fd6[13]:/')
[ -z "$leaks" ] || { echo "$leaks" | head -n 10; fail "traffic other than WireGuard on the underlay (above)"; }
log "no TCP, no HTTP, no inner address (10.61.0.0/24, 10.62.0.0/24, fd61::/64, fd63::/64) on the underlay"

# --- every secret: found in the clear, not found on the underlay ------------------------------------------
section "searching both captures for each secret (grep -a over the raw pcap bytes)"
printf '  %-31s %-26s %-20s %s\n' secret value "inside (clear)" "underlay (wggate)"
leaked=0
for i in "${!secret_values[@]}"; do
  s=${secret_values[$i]}
  in_clear=$( (grep -o -a -F -- "$s" "$clear_pcap" || true) | wc -l)
  on_underlay=$( (grep -o -a -F -- "$s" "$underlay_pcap" || true) | wc -l)
  clear_txt="found, ${in_clear}x"; [ "$in_clear" -gt 0 ] || clear_txt="NOT FOUND (?)"
  under_txt="not found"; [ "$on_underlay" -eq 0 ] || { under_txt="FOUND: LEAK"; leaked=1; }
  printf '  %-31s %-26s %-20s %s\n' "${secret_names[$i]}" "$(short "$s")" "$clear_txt" "$under_txt"
  [ "$in_clear" -gt 0 ] || fail "secret '${secret_names[$i]}' missing from the clear capture: the requests did not go as planned"
done
markers=("Authorization: Bearer" "X-API-Key" '"password"' "HTTP/1." "backend-api")
for word in "${markers[@]}"; do
  grep -q -a -F -- "$word" "$underlay_pcap" || continue
  printf '  %-58s %-20s FOUND: LEAK\n' "marker '$word'" ""; leaked=1
done
[ "$leaked" -eq 0 ] || fail "a secret is readable on the underlay: wggate leaked plaintext"
log "not found on the underlay either: $(printf "'%s', " "${markers[@]}" | sed 's/, $//')"

# --- both ends of the tunnel ---------------------------------------------------------------------------------
section "wg show on the remote node (wireguard-go; its peer is wggate)"
ip netns exec "$ns_remote" wg show "$wg_if" | sed 's/^/  /'
[ "$(wg_latest_handshake "$ns_remote" "$wg_if" "$gw_pub")" -gt 0 ] || fail "wireguard-go reports no handshake with wggate"
ip netns exec "$ns_remote" wg show "$wg_if" peers | grep -qxF "$gw_pub" || fail "wireguard-go's peer is not wggate's key"

section "wggate (gateway namespace)"
log "start-up line: $startup_line"
case $startup_line in *"$gw_pub"*) log "its public key is the peer wireguard-go shows above" ;;
                      *) fail "wggate's public key differs from the one configured on the remote node" ;; esac
kill -TERM "$gw_pid" 2>/dev/null || true
wait_for 15 "wggate to stop" exited "$gw_pid"
log "stopped wggate (SIGTERM); its counters:"
sed -n '/stopping; counters/,$p' "$E2E_TMP/wggate.log" | tail -n +2 | sed 's/^/  /'

section "done: every secret was readable on the inside segment and none on the underlay; cleaning up"
