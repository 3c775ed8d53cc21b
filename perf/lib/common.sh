# Helpers shared by the perf/run.sh stages (sourced, not run). Each stage is its own bash process: it records
# every process it starts and every file it creates, and removes them on exit (normal, failure or signal).
#
# A stage is given, in its environment, by perf/run.sh:
#   PERF_ROOT   the source tree            PERF_BUILD  the meson build directory
#   PERF_WORK   the run's work directory   STAGE_DIR   this stage's own directory (logs, sockets, configs)
#   PERF_SMOKE  1 in smoke mode            RUNS, DURATION (seconds per measurement window)
# and writes its measurements with `result` into $PERF_WORK/results.tsv, one line per value:
#   stage <TAB> series <TAB> size <TAB> metric <TAB> run <TAB> value
# perf/report.py turns them into medians and min-max spreads.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/results.sh"

_pids=()
_cleanups=()

log() { printf '[%s] %s: %s\n' "$(date +%H:%M:%S)" "${STAGE_NAME:-perf}" "$*" >&2; }
fail() { printf '[%s] %s: FAILED: %s\n' "$(date +%H:%M:%S)" "${STAGE_NAME:-perf}" "$*" >&2; exit 1; }
need() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || fail "'$c' is missing (run tools/install-deps.sh)"; done
}

# spawn NAME CMD...: CMD in the background, output in $STAGE_DIR/NAME.log; PID in $SPAWNED_PID (call it
# directly, never in $(...), or the PID is lost).
spawn() {
  local name=$1; shift
  "$@" >"$STAGE_DIR/$name.log" 2>&1 &
  SPAWNED_PID=$!
  _pids+=("$SPAWNED_PID")
}
on_cleanup() { _cleanups+=("$*"); }

# Stops every recorded process by PID (TERM, then KILL after 5 s), then runs the cleanup commands in reverse
# order (namespaces, sockets, DPDK runtime directories).
stage_cleanup() {
  local rc=$? pid i
  set +e
  trap - EXIT INT TERM
  for pid in "${_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" >/dev/null 2>&1; done
  exit "$rc"
}
trap stage_cleanup EXIT
trap 'exit 130' INT TERM
trap '' PIPE  # a write to a dead process's FIFO fails (and the stage with it) instead of killing bash

# wait_until TIMEOUT WHAT CMD...: polls CMD every 0.1 s.
wait_until() {
  local timeout=$1 what=$2; shift 2
  local end=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.1
  done
}
# wait_log PID FILE PATTERN TIMEOUT: waits for PATTERN in FILE, failing at once if PID exited.
wait_log() {
  local pid=$1 file=$2 pattern=$3 timeout=$4
  local end=$((SECONDS + timeout))
  until grep -q -- "$pattern" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || fail "$(basename "$file" .log) exited: $(tail -n 5 "$file" | tr '\n' ' ')"
    [ "$SECONDS" -lt "$end" ] || fail "timed out after ${timeout}s waiting for '$pattern' in $file"
    sleep 0.1
  done
}

# wait_exit PID WHAT TIMEOUT: waits for PID (a child of this shell) to end, its exit status in WAIT_STATUS;
# fails, naming WHAT, if it is still running after TIMEOUT seconds (a bare `wait` would wait for ever).
wait_exit() {
  local pid=$1 what=$2 timeout=$3
  local end=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "$what (PID $pid) still running ${timeout}s after it was told to stop"
    sleep 0.1
  done
  WAIT_STATUS=0
  wait "$pid" 2>/dev/null || WAIT_STATUS=$?
}

# Time and CPU time, read by the shell itself where it can (no process to start: on a machine whose CPUs are
# busy, every process the harness starts waits for a turn).
now_ns() { local t=$EPOCHREALTIME; echo "${t//[!0-9]/}000"; }
# CPU time of one thread (ns on CPU, from /proc/PID/task/TID/schedstat) and of a whole process (utime+stime
# of all its threads, ns).
thread_cpu_ns() { local ns _; read -r ns _ <"/proc/$1/task/$2/schedstat" && echo "$ns"; }
process_cpu_ns() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); split($0, f, " "); printf "%.0f\n", (f[12] + f[13]) * 1e9 / hz }' \
    "/proc/$1/stat"
}
# thread_id PID COMM: the first thread of PID whose name is COMM (DPDK names its lcores rte-worker-N).
thread_id() {
  local t c
  for t in /proc/"$1"/task/*; do
    c=
    read -r c 2>/dev/null <"$t/comm" || true
    if [ "$c" = "$2" ]; then echo "${t##*/}"; return 0; fi
  done
  return 1
}

# free_port BASE: the first TCP port from BASE on that nothing listens on (127.0.0.1).
free_port() {
  local p=$1
  while ss -ltnH "sport = :$p" | grep -q .; do p=$((p + 1)); done
  echo "$p"
}
