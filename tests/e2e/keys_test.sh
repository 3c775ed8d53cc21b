#!/usr/bin/env bash
# `wggate genkey | pubkey | genpsk` against wg(8): keys made by either tool work in the other.
# Usage: keys_test.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
bin=$(cd "${1:?usage: keys_test.sh BUILD_DIR}" && pwd)/control/wggate
need wg base64 od
passed=0
for _ in $(seq 20); do
  ours=$("$bin" genkey)
  theirs=$(wg genkey)
  [ "$(echo "$ours" | wg pubkey)" = "$(echo "$ours" | "$bin" pubkey)" ] || fail "wg and wggate disagree on pubkey($ours)"
  [ "$(echo "$theirs" | wg pubkey)" = "$(echo "$theirs" | "$bin" pubkey)" ] || fail "wggate pubkey differs from wg for a wg key"
  # Clamped as RFC 7748 (and wg genkey) clamp: low 3 bits of byte 0 clear, byte 31 = 01xxxxxx.
  read -r b0 b31 <<<"$(echo "$ours" | base64 -d | od -An -tu1 -j0 -N32 | tr -s ' \n' ' ' | awk '{ print $1, $32 }')"
  [ $((b0 & 7)) -eq 0 ] && [ $((b31 & 192)) -eq 64 ] || fail "genkey output is not clamped: bytes $b0 .. $b31"
done
passed=$((passed + 1))
psk=$("$bin" genpsk)
[ "$(echo "$psk" | base64 -d | wc -c)" -eq 32 ] && echo "$psk" | wg pubkey >/dev/null || fail "genpsk output is not a 32-byte key"
[ "$("$bin" genpsk)" != "$psk" ] || fail "genpsk repeated itself"
passed=$((passed + 1))
if echo "not a key" | "$bin" pubkey 2>/dev/null; then fail "pubkey accepted garbage"; fi
passed=$((passed + 1))
echo "keys: $passed passed, 0 failed"
