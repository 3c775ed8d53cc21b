#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds both flavours (release with -Werror, and
# debug with AddressSanitizer + UndefinedBehaviorSanitizer), runs the unit tests in both, a bounded libFuzzer
# smoke run of every fuzz target, the end-to-end tests against the real wireguard-go, and a smoke run of the
# perf harness.
# Ends with one line "N passed, N failed"; exits non-zero if anything failed.
#
# Environment: FUZZ_SECONDS (per target, default 15), SKIP_INSTALL=1 to skip the package step,
# SKIP_E2E=1 / SKIP_FUZZ=1 / SKIP_ASAN=1 / SKIP_PERF=1 to skip a stage while iterating (CI never sets them).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

passed=0
failed=0
failures=()
stage() { printf '\n==== %s\n' "$*"; }
count_meson() {  # count_meson BUILD_DIR: adds the results of the last `meson test` in BUILD_DIR
  local counts
  counts=$(python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("result") in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r.get("result") != "SKIP": bad += 1; print("FAILED-TEST", r.get("name"), file=sys.stderr)
print(ok, bad)
PY
)
  passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
}
record() {  # record NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  stage "install dependencies"
  "$root/tools/install-deps.sh" || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }
fi

build_and_test() {  # build_and_test DIR [meson options...]
  local dir=$1; shift
  stage "build $dir ($*)"
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" || { record "configure $dir" 1; return 1; }
  else
    meson setup "$dir" "$@" || { record "setup $dir" 1; return 1; }
  fi
  meson compile -C "$dir" || { record "compile $dir" 1; return 1; }
  stage "unit tests in $dir"
  meson test -C "$dir" --suite unit --print-errorlogs
  local rc=$?
  count_meson "$dir"
  [ "$rc" -eq 0 ] || failures+=("unit tests in $dir")
  return 0
}

build_and_test build -Dbuildtype=release -Dwerror=true
if [ "${SKIP_ASAN:-0}" != 1 ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build_and_test build-asan -Dbuildtype=debug -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  stage "fuzz smoke (${FUZZ_SECONDS:-15} s per target)"
  FUZZ_SECONDS=${FUZZ_SECONDS:-15} "$root/tools/fuzz-smoke.sh" build-fuzz > >(tee /tmp/wggate-fuzz.log) 2>&1
  fuzz_rc=$?
  fuzz_ok=$(grep -c '^fuzz .*: ok' /tmp/wggate-fuzz.log || true)
  passed=$((passed + fuzz_ok))
  if [ "$fuzz_rc" -ne 0 ]; then failed=$((failed + 1)); failures+=("fuzz smoke"); fi
fi

if [ "${SKIP_E2E:-0}" != 1 ] && [ -f build/build.ninja ]; then
  stage "end-to-end tests"
  meson test -C build --suite e2e --print-errorlogs --num-processes 1
  rc=$?
  count_meson build
  [ "$rc" -eq 0 ] || failures+=("end-to-end tests")
fi

if [ "${SKIP_PERF:-0}" != 1 ] && [ -f build/build.ninja ]; then
  # The perf harness at its shortest (about a minute): keeps perf/run.sh and the benchmarks from rotting.
  # Numbers from it mean nothing; the committed results come from a full `perf/run.sh` on a quiet machine.
  stage "perf harness smoke (perf/run.sh --smoke)"
  BUILD_DIR=build perf/run.sh --smoke
  record "perf smoke" $?
fi

stage "summary"
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "${#failures[@]}" -eq 0 ]
