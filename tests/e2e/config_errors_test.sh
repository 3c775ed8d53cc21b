#!/usr/bin/env bash
# The operator contract for bad configuration: wggate exits non-zero, before starting any port, with an error
# naming the file and line. Uses net_null vdevs (no namespaces needed).
# Usage: config_errors_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bin=$(cd "${1:?usage: config_errors_test.sh BUILD_DIR}" && pwd)/control/wggate
[ -x "$bin" ] || fail "missing $bin"
need wg

passed=0
key=$(wg genkey); peer=$(wg genkey | wg pubkey)
good() {
  cat <<CONF
[Interface]
PrivateKey = $key
[Peer]
PublicKey = $peer
AllowedIPs = 10.62.0.0/24
[Gateway]
InsidePort = net_null0
OutsidePort = net_null1
InsideAddress = 10.61.0.1/24
OutsideAddress = 172.31.61.1/24
CONF
}

# expect_error NAME "EXPECTED MESSAGE (grep -E)" < config text
expect_error() {
  local name=$1 want=$2 conf="$E2E_TMP/$1.conf"
  cat > "$conf"
  chmod 600 "$conf"
  set +e
  timeout 60 "$bin" --no-huge -m 256 --no-pci -l 0-1 --file-prefix "cfg-$E2E_SUFFIX" --log-level=lib.eal:error \
    --vdev net_null0 --vdev net_null1 -- --config "$conf" > "$E2E_TMP/$name.out" 2>&1
  local rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "$name: wggate accepted a bad config"
  [ "$rc" -ne 124 ] || fail "$name: wggate did not exit"
  grep -qE "$want" "$E2E_TMP/$name.out" || fail "$name: expected /$want/, got: $(cat "$E2E_TMP/$name.out")"
  grep -q "listening on UDP" "$E2E_TMP/$name.out" && fail "$name: wggate started before refusing"
  passed=$((passed + 1))
  log "ok: $name: $(grep -E "$want" "$E2E_TMP/$name.out")"
}
on_cleanup "rm -rf /var/run/dpdk/cfg-$E2E_SUFFIX"

# (here-strings, not pipes: expect_error must run in this shell to count)
expect_error unknown-key "$E2E_TMP/unknown-key.conf:6: .*Bogus" <<<"$(good | sed 's/^AllowedIPs = .*/&\nBogus = 1/')"
expect_error bad-value "bad-value.conf:5: .*33" <<<"$(good | sed 's/^AllowedIPs = .*/AllowedIPs = 10.62.0.0\/33/')"
expect_error duplicate-peer "duplicate-peer.conf:12: duplicate peer" \
  <<<"$(good; printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.63.0.0/24\n' "$peer")"
expect_error missing-port "missing-port.conf:8: no DPDK port named net_nope" <<<"$(good | sed 's/net_null1/net_nope/')"
expect_error bad-key "bad-key.conf:2: " <<<"$(good | sed 's/^PrivateKey = .*/PrivateKey = not-a-key/')"
grep -q "not-a-key" "$E2E_TMP/bad-key.out" && fail "bad-key: the error repeats the key text"

echo "config_errors: $passed passed, 0 failed"
