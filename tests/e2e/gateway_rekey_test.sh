#!/usr/bin/env bash
# Rekeying loses nothing (WireGuard paper 6.2/6.3, in real time): wggate initiates, then keeps sending for
# longer than REKEY_AFTER_TIME (120 s), so as the initiator it starts a second handshake while traffic flows.
# A ping every 0.2 s runs through the whole period: every echo must come back, and the log must show the
# second handshake. Slow by nature (about 2.5 minutes); the rest of the suite does not wait on timers.
# Usage: gateway_rekey_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/gateway_lib.sh"
source "$here/gateway_checks.sh"

gw_init "${1:?usage: gateway_rekey_test.sh BUILD_DIR}"

log "scenario rekey: ping every 0.2 s for 135 s through the tunnel (REKEY_AFTER_TIME is 120 s)"
wait_for 20 "rekey: tunnel up" ping_once "$ns_client" 10.62.0.1
out=$(ip netns exec "$ns_client" ping -n -c 675 -i 0.2 -W 2 10.62.0.1 2>&1 | tail -n 3 || true)
sent=$(awk '/transmitted/ { print $1 }' <<<"$out")
got=$(awk '/received/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^received/) print $i }' <<<"$out")
gw_alive
handshakes=$(grep -c "response from 172.31.61.2:51820 accepted" "$E2E_TMP/wggate.log" || true)
[ "$handshakes" -ge 2 ] || fail "rekey: wggate completed $handshakes handshake(s) in 135 s; want a rekey (>= 2)"
[ "${sent:-0}" -eq 675 ] && [ "${got:-0}" -eq 675 ] || fail "rekey: ${got:-0} of ${sent:-0} echoes came back: $out"
pass "rekey ($handshakes handshakes; $got of $sent echoes across the rekey, none lost)"

gw_stop
echo "gateway_rekey: $passed passed, 0 failed"
