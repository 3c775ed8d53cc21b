#!/usr/bin/env bash
# perf/run.sh: the performance harness of issue 5, one command. Measures, repeats and writes
# perf/results/<date>-<host>.md with a plot beside it (<date>-<host>.png):
#
#   facts       the machine (CPU model and flags, cores, memory, hugepages, kernel), DPDK, compiler, git commit
#   build       meson setup (if needed) and ninja for wggate and the benchmark executables in BUILD_DIR
#   microbench  Google Benchmark: AEAD engines (perf/crypto), dataplane stages (perf/dataplane), handshakes
#               (perf/control), JSON with 3 x RUNS repetitions interleaved at random
#   gateway     the whole gateway: dpdk-testpmd -> wggate (encrypts) -> wggate (decrypts) -> dpdk-testpmd over
#               net_memif, 64/512/1420/IMIX, Mpps and Gbit/s per worker core and delivered (perf/lib/gateway.sh)
#   spread      issue 14 on the whole gateway: the same chain with one peer and one flow, 2 workers per wggate
#               against 1, encrypt and decrypt, 64/1420 B: per-core ratio 2w/1w, delivered rates, the share of
#               the packets each worker processed (perf/lib/spread.sh, running perf/lib/gateway.sh twice)
#   wggo        wireguard-go between two namespaces, iperf3 TCP and UDP through it, per core (perf/lib/wggo.sh)
#   latency     ping through the e2e topology: client -> wggate -> wireguard-go (perf/lib/latency.sh)
#   report      perf/report.py: medians, min-max spread, targets, plot (gnuplot)
#
# Usage: perf/run.sh [--smoke]
#   --smoke   every stage at its shortest (1 run, 1 s windows); results in a temporary directory, not
#             perf/results; exits non-zero if any stage failed or could not run. Well under 2 minutes.
# Environment:
#   BUILD_DIR   meson build directory (default: build; set up as a release build if missing)
#   RUNS        repetitions of every measurement (default 5; smoke 1)
#   DURATION    seconds per measurement window (default 5; smoke 1)
#   STAGES      stages to run (default: "facts build microbench gateway spread wggo latency")
#   OUT_DIR     where the results file and plot go (default: perf/results; smoke: the work directory)
#   PERF_MICROBENCH  the microbench stage's executables (default: all; e.g. "dataplane/spread_bench")
#   SKIP_BUILD=1  use BUILD_DIR as it is
#   PERF_GW_CPUS="shared,gen,A,B,sink"  CPU per gateway-stage process (default: see perf/lib/gateway.sh; a
#               gateway's workers as CPUs joined by '+', e.g. "0,1,2+3,4+5,6" for the spread stage's 2 workers)
#   PERF_GW_WORKERS=N  workers per wggate in the gateway stage (default 1; the spread stage sets 1, then 2)
#   PERF_SPREAD_SIZES  sizes of the spread stage (default "64 1420"; smoke "64")
#   PERF_SPREAD_WORKERS  worker counts of the spread stage, in order (default "1 2"; smoke "2")
#   PERF_HUGE=1  the gateway and spread stages on 2 MB hugepages (reserved and mounted by the stage) instead of
#               --no-huge
# Needs root (network namespaces, DPDK) and the packages of tools/install-deps.sh. Every process a stage
# starts is stopped by PID and every namespace, socket and DPDK runtime directory removed when it ends.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

smoke=0
for arg in "$@"; do
  case $arg in
    --smoke) smoke=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "perf/run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "perf/run.sh: needs root (network namespaces, DPDK)" >&2; exit 2; }

build=${BUILD_DIR:-build}
case $build in /*) ;; *) build="$root/$build" ;; esac
export PERF_ROOT=$root PERF_BUILD=$build PERF_SMOKE=$smoke
if [ "$smoke" = 1 ]; then
  export RUNS=${RUNS:-1} DURATION=${DURATION:-1}
  work=$(mktemp -d /tmp/wggate-perf-smoke.XXXXXX)
  out_dir=${OUT_DIR:-$work}
else
  export RUNS=${RUNS:-5} DURATION=${DURATION:-5}
  work=$(mktemp -d /tmp/wggate-perf.XXXXXX)
  out_dir=${OUT_DIR:-$root/perf/results}
fi
export PERF_WORK=$work
stages=${STAGES:-"facts build microbench gateway spread wggo latency"}
stamp="$(date +%Y-%m-%d)-$(hostname -s)"
mkdir -p "$out_dir"
: >"$work/results.tsv"; : >"$work/notes.tsv"; : >"$work/facts.tsv"; : >"$work/stages.tsv"
echo "perf/run.sh: $([ "$smoke" = 1 ] && echo smoke || echo full) run, RUNS=$RUNS DURATION=${DURATION}s," \
  "build $build, work directory $work"

# Per-stage time limit: a stage that hangs is stopped (TERM: its own trap cleans up), marked, and the rest go on.
# Every wait inside a stage is bounded; this is the last resort. Just before it strikes, stage_dump writes where
# each of the stage's processes is (state, kernel wait channel and stack, system call) to timeout-dump.txt.
# Smoke stages take 5-40 s on a quiet 2-CPU machine; the limit leaves room for a stall of a minute or two
# that is not ours (once, every counter of a snapshot read within a second, the stage's shell then sat blocked
# in the kernel for 106 s while the pollers ran on; see perf/README.md).
limit=$([ "$smoke" = 1 ] && echo 300 || echo 3600)
# Seconds without a line in stage.log before the watchdog records where everything is (a full run's
# microbench stage prints nothing for ten minutes while its benchmarks run).
silent_after=${PERF_SILENT_AFTER:-$([ "$smoke" = 1 ] && echo 45 || echo 1200)}

# stage_dump FILE WHY: every process below this script (the stage, its children, theirs; threads too), not the
# watchdog calling it: state, niceness, CPU, kernel wait channel, then each process's system call and stack.
stage_dump() {
  local self=$BASHPID ps_out pids p
  ps_out=$(ps -eLo pid=,tid=,ppid=,stat=,ni=,psr=,pcpu=,wchan:32=,etimes=,args=)
  pids=$(awk -v root=$$ -v self="$self" '
    { pid[NR] = $1; parent[$1] = $3 }
    END {
      for (i = 1; i <= NR; i++) {
        p = pid[i]
        for (n = 0; n < 64 && p > 1; n++) {
          if (p == self) break
          if (p == root) { if (pid[i] != root && !(pid[i] in seen)) { seen[pid[i]] = 1; printf "%s ", pid[i] }; break }
          p = parent[p]
        }
      }
    }' <<<"$ps_out")
  {
    echo "perf/run.sh: $2 ($(date '+%H:%M:%S')); the stage's processes and threads:"
    echo "  PID   TID  PPID STAT NI PSR %CPU WCHAN ELAPSED COMMAND"
    awk -v list=" $pids" 'index(list, " " $1 " ")' <<<"$ps_out"
    for p in $pids; do
      echo "--- $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-200)"
      echo "syscall: $(cat "/proc/$p/syscall" 2>/dev/null)"
      head -12 "/proc/$p/stack" 2>/dev/null
    done
  } >"$1" 2>&1
}

build_stage() {
  if [ "${SKIP_BUILD:-0}" = 1 ]; then echo "SKIP_BUILD=1: using $build as it is"; return 0; fi
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=release || return 1
  fi
  ninja -C "$build" control/wggate || return 1
  local rc=0 t
  for t in perf/crypto/aead_batch_bench perf/dataplane/stages_bench perf/dataplane/spread_bench perf/control/handshake_bench; do
    ninja -C "$build" "$t" || { echo "build: $t did not build" >&2; rc=2; }
  done
  return $rc
}

overall=0
for stage in $stages; do
  stage_dir="$work/$stage"
  mkdir -p "$stage_dir"
  start=$SECONDS
  echo "==== $stage"
  if [ "$stage" = build ]; then
    build_stage >"$stage_dir/build.log" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || tail -n 20 "$stage_dir/build.log"
  elif [ -f "$root/perf/lib/$stage.sh" ]; then
    # The watchdog: once when the stage has printed nothing for $silent_after s (while it is stuck, which is
    # when the wait channels and stacks say something) and once just before the time limit.
    (last=-1 quiet=0 elapsed=0 dumped=0
     while sleep 5; do
       elapsed=$((elapsed + 5))
       size=$(stat -c %s "$stage_dir/stage.log" 2>/dev/null || echo 0)
       if [ "$size" = "$last" ]; then quiet=$((quiet + 5)); else quiet=0 last=$size; fi
       if [ "$dumped" = 0 ] && [ "$quiet" -ge "$silent_after" ]; then
         stage_dump "$stage_dir/silent-dump.txt" "stage silent for ${quiet} s after ${elapsed} s"; dumped=1
       fi
       if [ "$elapsed" -ge $((limit - 5)) ]; then
         stage_dump "$stage_dir/timeout-dump.txt" "stage still running after ${elapsed} s"; exit 0
       fi
     done) &
    watchdog=$!
    STAGE_DIR=$stage_dir timeout -s TERM -k 30 "$limit" bash "$root/perf/lib/$stage.sh" 2>&1 | tee "$stage_dir/stage.log"
    rc=${PIPESTATUS[0]}
    pkill -P "$watchdog" sleep 2>/dev/null; kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null
    [ ! -f "$stage_dir/silent-dump.txt" ] || echo "==== $stage: where its processes were when it fell silent: $stage_dir/silent-dump.txt"
    [ ! -f "$stage_dir/timeout-dump.txt" ] || echo "==== $stage: where its processes were before the time limit: $stage_dir/timeout-dump.txt"
  else
    echo "perf/run.sh: no stage '$stage'" >&2
    rc=1
  fi
  case $rc in
    0) status=ok ;;
    2) status=incomplete ;;
    124|137) status="timed out after ${limit}s" ;;
    *) status="failed (exit $rc)" ;;
  esac
  printf '%s\t%s\t%s\n' "$stage" "$status" "$((SECONDS - start))" >>"$work/stages.tsv"
  echo "==== $stage: $status in $((SECONDS - start)) s"
  if [ "$status" != ok ]; then
    # Smoke: anything but ok fails the run. Full run: a stage that could not run fully is reported, and the
    # run fails only if one failed outright.
    if [ "$smoke" = 1 ] || [ "$status" != incomplete ]; then overall=1; fi
  fi
done

echo "==== report"
md="$out_dir/$stamp.md"
png="$out_dir/$stamp.png"
cmd="perf/run.sh$([ "$smoke" = 1 ] && echo " --smoke")"
if python3 "$root/perf/report.py" --work "$work" --md "$md" --png "$png" --command "$cmd" --smoke "$smoke"; then
  echo "==== results: $md"
  echo "==== plot:    $png"
else
  echo "==== report: failed" >&2
  overall=1
fi
echo "==== work directory (logs, raw JSON, snapshots): $work"
exit "$overall"
