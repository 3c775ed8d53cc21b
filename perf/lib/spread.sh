#!/usr/bin/env bash
# Stage "spread": issue 14's criterion for the whole gateway, "one peer on 2 workers against 1". The chain of the
# gateway stage (testpmd gen -> wggate A encrypts -> wggate B decrypts -> testpmd sink, over net_memif; see
# perf/lib/gateway.sh) runs twice, with 1 and then 2 workers in each wggate, one peer, one flow: the generator
# sends a single stream (one RX queue, so one TX queue in use, as one 5-tuple would be on a NIC with RSS), so
# every packet reaches worker 0 of A (its owner) and every tunnel packet worker 0 of B, and only spreading
# (dataplane/spread.h) can bring the second worker in. Each run measures the encrypting gateway (A) and the
# decrypting one (B) in windows of their own, at 64 and 1420 B (PERF_SPREAD_SIZES; smoke: 64 only). Smoke runs
# only the 2-worker chain (PERF_SPREAD_WORKERS, default "1 2").
#
# Results, under stage "spread", series encrypt-1w, encrypt-2w, decrypt-1w, decrypt-2w: per core (the packets
# all the gateway's workers completed over the CPU time all their threads got, less each one's empty polls),
# delivered per wall-clock second, and with 2 workers the share of the packets each worker processed (its own
# counter: a slice counts at the worker that ran it), the share the owner queued for the helper and how many
# of those slices it took back unstarted. perf/report.py puts the per-core ratio 2w / 1w beside them (issue 14:
# >= 0.9) and reports a 2-worker run whose helper processed almost nothing as "no spreading", not as a ratio.
#
# CPUs. With 7 CPUs or more every poller (gen, A's 2 workers, B's 2, sink) has one of its own and the numbers
# are what the issue asks. With fewer (the 2-vCPU development VM) six pollers share two CPUs, so this is the
# layout (gateway.sh, pin_layout), chosen so that the measured gateway is the bottleneck and its two workers
# really run at the same time:
#   encrypt window: CPU 1 = A's owner + sink + B's helper;   CPU 0 = A's helper + gen + B's owner
#   decrypt window: CPU 1 = B's owner + gen + A's helper;    CPU 0 = B's helper + sink + A's owner
# (1 worker: the gateway stage's layout, the measured worker with one testpmd lcore on CPU 1.) The owner and the
# helper of the measured gateway are on different CPUs, so slices cross CPUs as they would between cores; the
# other gateway mirrors it, so it holds as much CPU as the measured one and can feed it (decrypt) or take from
# it (encrypt; what it cannot take counts as TX full, as in the gateway stage). Each poller then gets a third
# to a half of a CPU, in time slices of a millisecond or so. The per-core figure stays meaningful because it
# does not use wall time: it divides by the CPU time each worker thread actually received (schedstat), less its
# empty polls at its own calibrated cost, so a worker that was descheduled, or waited for a descheduled peer,
# is not charged for it. What it cannot remove: a helper descheduled in the middle of a slice holds up its
# owner's in-order reorder (the owner then polls empty or, window full, skips receiving: counted as empty polls,
# window_full_per_poll shows how often), the cache lines the other pollers on a CPU evict, and a helper's empty
# polls that read a work ring the owner just wrote (dearer than the calibrated empty poll: per core is then a
# lower bound). So each window also reports a second estimate that does not use the calibration
# (mpps_core_tsc: wggate's TSC cycles of the busy polls less the share the thread spent preempted, schedstat's
# wait over its whole time); and PERF_GW_SPREAD=off runs the 2-worker chain without spreading (the helper idle,
# reported as "no spreading"), a check of the method itself: on the development VM it gave 0.94-1.02 of the
# 1-worker figure. Wall-clock rates on two CPUs show what the layout gave, not what two workers on dedicated
# cores deliver.
source "$(dirname "$0")/common.sh"
STAGE_NAME=spread
sizes=${PERF_SPREAD_SIZES:-$([ "${PERF_SMOKE:-0}" = 1 ] && echo 64 || echo "64 1420")}
# Smoke: the 2-worker chain only (the 1-worker chain is the gateway stage's own code path, which the smoke runs
# there; both would add 15 s to a smoke run that must stay well under 2 minutes).
counts=${PERF_SPREAD_WORKERS:-$([ "${PERF_SMOKE:-0}" = 1 ] && echo 2 || echo "1 2")}
[ "$(nproc)" -ge 2 ] || { log "one CPU: two workers cannot run at the same time; not measured"; note "not measured: one CPU"; exit 2; }
# memif rings of 2^14 slots (the most DPDK's memif takes; the gateway stage uses 2^12): with three pollers on a
# CPU each waits a few milliseconds for its next turn, and a ring must hold what its writer produced meanwhile,
# or the owner drains it in a fraction of its turn and polls empty (with 2^12, busy fell to 0.2-0.4).
export PERF_MEMIF_RSIZE=${PERF_MEMIF_RSIZE:-14}
note "one peer, one flow (one generated stream), sizes $sizes; workers per wggate: $counts (in this order); $RUNS run(s) of ${DURATION} s windows each"

# Each worker count is the whole gateway stage in a directory of its own (its own processes, sockets, cleanup).
# 1 worker first, then 2: a drift of the machine between the two shows in the spread of the runs.
# A chain that fails before it measures anything is started once more: a wggate worker sometimes dies in
# net_memif while a client connects (DPDK 22.11's memif sets a queue up under a polling worker, the mirror of
# the disconnect race in gateway.sh; seen about once in five starts with 2 workers, whose extra queues are
# polled while testpmd connects).
for w in $counts; do
  dir="$STAGE_DIR/${w}w"
  for attempt in 1 2; do
    rm -rf "$dir"; mkdir -p "$dir"
    log "---- $w worker(s) per wggate$([ "$attempt" = 1 ] || echo ", second start")"
    STAGE_DIR="$dir" PERF_GW_STAGE=spread PERF_GW_WORKERS=$w PERF_GW_SERIES_SUFFIX="-${w}w" \
      PERF_GW_SIZES="$sizes" bash "$(dirname "$0")/gateway.sh" && break
    [ "$attempt" = 1 ] && [ ! -e "$dir/measuring" ] || fail "the gateway with $w worker(s) failed (log above, files in $dir)"
    mv "$dir" "$dir.failed-start"
    log "the chain with $w worker(s) failed before measuring (files in $dir.failed-start); starting it again"
    note "the chain with $w worker(s) failed before measuring and was started again (files in spread/${w}w.failed-start)"
  done
done
log "done"
