#!/usr/bin/env bash
# Builds the libFuzzer flavour (clang, -Dfuzzing=true) and runs every target in tests/fuzz/ for a bounded
# time, starting from seeds each target writes itself (WG_FUZZ_WRITE_SEEDS, see tests/fuzz/fuzz_support.h):
# valid messages, so the fuzzer starts past the MACs and AEAD tags.
#
# Usage: tools/fuzz-smoke.sh [build-dir]     (default: build-fuzz in the repository root)
#   FUZZ_SECONDS   seconds per target (default 20)
# Prints one line per target; exits non-zero if any target crashed or broke an invariant. Logs and crash
# inputs stay in <build-dir>/fuzz-smoke/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-20}"
targets=(fuzz_initiation fuzz_response fuzz_cookie_reply fuzz_transport fuzz_key_encoding fuzz_config
         fuzz_aead_batch)

if [[ ! -f "$build/build.ninja" ]]; then
  CXX=clang++ meson setup "$build" "$root" -Dfuzzing=true -Dbuildtype=debugoptimized >/dev/null
elif ! grep -q '"name": "fuzzing", "value": true' "$build/meson-info/intro-buildoptions.json"; then
  echo "fuzz-smoke: $build is not a -Dfuzzing=true build; pass another directory" >&2
  exit 2
fi
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" >/dev/null

out="$build/fuzz-smoke"
rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

failed=0
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/$t"
  corpus="$work/$t"
  log="$out/$t.log"
  mkdir -p "$corpus"
  if ! WG_FUZZ_WRITE_SEEDS="$corpus" "$exe" >"$log" 2>&1; then
    echo "fuzz $t: FAILED writing seeds (log: $log)"
    failed=1
    continue
  fi
  if "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$out/$t-" "$corpus" >>"$log" 2>&1; then
    runs="$(grep -oE '^Done [0-9]+ runs' "$log" | tail -n1 | cut -d' ' -f2 || true)"
    echo "fuzz $t: ok, ${runs:-?} runs"
  else
    echo "fuzz $t: FAILED (log: $log; input: $(ls "$out/$t-"* 2>/dev/null | head -n1 || true))"
    grep -E 'invariant failed|ERROR:|runtime error|SUMMARY' "$log" | head -n5 | sed 's/^/    /' || true
    failed=1
  fi
done
exit "$failed"
