#!/usr/bin/env bash
# Stage "microbench": the in-process Google Benchmark executables, each pinned to one CPU (the last;
# spread_bench to the last two), each benchmark repeated 3 x RUNS times (--benchmark_repetitions, interleaved at
# random), JSON kept in $STAGE_DIR/<name>.json for perf/report.py:
#   perf/crypto/aead_batch_bench    seal/<engine>/<size>, open/<engine>/<size>: items/s (packets) and bytes/s
#   perf/dataplane/stages_bench     encrypt/decrypt path and stages: cycles_per_packet
#   perf/dataplane/spread_bench     one peer on 1 and on 2 workers (spread.h): per-core pps, serial cycles; it
#                                   needs two CPUs (the last two; with one CPU it measures 1 worker only)
#   perf/control/handshake_bench    responder handshakes per second
# A benchmark that was not built is noted in the results and makes this stage "incomplete" (exit 2); the others
# still run.
source "$(dirname "$0")/common.sh"
STAGE_NAME=microbench
need taskset

cpu=$(($(nproc) - 1))
# 3 x RUNS repetitions of 0.2 s each, interleaved at random across all benchmarks of an executable: the
# machine's slow drifts (other guests on a shared host) then fall on every engine alike, instead of on
# whichever ran at the time, and the medians compare like with like (the ratios are what issue 6 measures).
args=(--benchmark_format=json --benchmark_repetitions="$((3 * RUNS))" --benchmark_enable_random_interleaving=true)
# Google Benchmark 1.7 (Debian 12) takes --benchmark_min_time as seconds.
if [ "${PERF_SMOKE:-0}" = 1 ]; then args+=(--benchmark_min_time=0.01); else args+=(--benchmark_min_time=0.2); fi
missing=0
# PERF_MICROBENCH: the executables to run (default: all four), e.g. "dataplane/spread_bench" for a results
# file of that one alone.
for bench in ${PERF_MICROBENCH:-crypto/aead_batch_bench dataplane/stages_bench dataplane/spread_bench control/handshake_bench}; do
  exe="$PERF_BUILD/perf/$bench"
  name=$(basename "$bench")
  cpus=$cpu
  # spread_bench: an owner and a helper worker; handshake_bench: its threads/2 needs two CPUs to show K = 2.
  case $name in spread_bench | handshake_bench) [ "$cpu" -lt 1 ] || cpus="$((cpu - 1)),$cpu" ;; esac
  if [ ! -x "$exe" ]; then
    log "$bench: not built ($exe missing)"
    note "$bench: not built, no results"
    missing=1
    continue
  fi
  log "$bench on CPU $cpus, $((3 * RUNS)) repetition(s) interleaved at random"
  start=$SECONDS
  # The JSON goes to its own file; stdout (the same JSON) is kept only as a log.
  if ! (cd "$STAGE_DIR" && taskset -c "$cpus" "$exe" "${args[@]}" --benchmark_out="$STAGE_DIR/$name.json" \
        --benchmark_out_format=json >"$STAGE_DIR/$name.log" 2>&1); then
    tail -n 20 "$STAGE_DIR/$name.log" >&2
    fail "$bench failed (log: $STAGE_DIR/$name.log)"
  fi
  note "$bench: $((3 * RUNS)) repetition(s) interleaved at random on CPU $cpus, $((SECONDS - start)) s"
done
[ "$missing" = 0 ] || exit 2
