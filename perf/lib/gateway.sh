#!/usr/bin/env bash
# Stage "gateway": the whole gateway, driven by dpdk-testpmd over net_memif, both directions with live traffic.
#
#   testpmd "gen"         wggate A (encrypts)            wggate B (decrypts)             testpmd "sink"
#   txonly, client  -in->  inside  [worker]  outside -mid->  outside [worker]  inside -out->  icmpecho, client
#   10.71.0.2 -> 10.72.0.2  10.71.0.1   172.31.72.1     172.31.72.2   10.72.0.1       answers B's ARP, drops the rest
#
# A and B are real wggate instances, each the other's only peer: A initiates the handshake (PersistentKeepalive
# starts it before any traffic), B answers, then every packet testpmd sends is encrypted by A's worker and
# decrypted, authenticated and replay-checked by B's worker. wggate is the memif server on all three links
# (testpmd and B connect to it): a memif server whose peer brings fewer rings than it has queues reads ring 0
# from the spare queues too, so the client must bring exactly wggate's queue count (workers + 1 = 2 each way).
# The generator has 2 TX queues for that but 1 RX queue, so testpmd builds one stream (queue 0) and nothing
# lands on wggate's control queue; the sink has 2 of each so B's ARP (sent by control, queue 1) is answered.
#
# Sizes are inner IP packet sizes (what is encrypted; frames are 14 bytes longer): 64, 512, 1420 and IMIX
# (64/576/1420 bytes 7:4:1, testpmd's random TX split over zero-length segments). Gbit/s counts inner IP bytes.
#
# Cores. Five busy pollers (gen, A's worker, B's worker, sink) and two control threads that sleep when idle.
# With 5 CPUs or more each poller has its own CPU (PERF_GW_CPUS="shared,gen,A,B,sink" overrides), and one
# window measures both directions. With fewer, an "encrypt" window and a "decrypt" window each make the worker
# under measurement the bottleneck on the last CPU (see pin_layout; taskset on the lcore threads between
# windows).
# Per-core figures do not trust wall time on a shared, noisy machine: they divide the packets a worker completed
# by the CPU time that worker's thread really got (/proc/.../schedstat) minus the time it spent on empty polls
# (its idle polls counted by wggate times the cost of one, calibrated before traffic starts). Wall-clock rates
# of what was delivered are reported beside them.
source "$(dirname "$0")/common.sh"
STAGE_NAME=gateway
need dpdk-testpmd curl taskset ss awk
GW_BIN="$PERF_BUILD/control/wggate"
[ -x "$GW_BIN" ] || fail "no wggate at $GW_BIN (build it first)"

SIZES=${PERF_GW_SIZES:-"64 512 1420 imix"}
RSIZE=${PERF_MEMIF_RSIZE:-12}  # memif ring: 2^12 slots, room for a few ms of a descheduled reader
WARMUP=$([ "${PERF_SMOKE:-0}" = 1 ] && echo 0.3 || echo 1)
CALIBRATE=$([ "${PERF_SMOKE:-0}" = 1 ] && echo 0.3 || echo 1)
id=$$
prefix="perf-$id"
d=$STAGE_DIR

# ---- CPU plan
ncpu=$(nproc)
if [ -n "${PERF_GW_CPUS:-}" ]; then
  IFS=, read -r cpu_shared cpu_gen cpu_a cpu_b cpu_sink <<<"$PERF_GW_CPUS"
  layouts="both"
elif [ "$ncpu" -ge 5 ]; then
  cpu_shared=0 cpu_gen=1 cpu_a=2 cpu_b=3 cpu_sink=4
  layouts="both"
else
  cpu_shared=0 cpu_gen=0 cpu_sink=0
  cpu_a=$((ncpu - 1)) cpu_b=0  # the encrypt layout; the decrypt layout swaps A and B
  layouts="encrypt decrypt"
fi
measured=$((ncpu - 1))

# ---- keys and configs (A and B know each other's public key; configs hold keys: 0600)
need wg
key_a=$(wg genkey); key_b=$(wg genkey)
pub_a=$(wg pubkey <<<"$key_a"); pub_b=$(wg pubkey <<<"$key_b")
port_a=$(free_port 19610); port_b=$(free_port $((port_a + 1)))
name_a="wgpa$((id % 100000))"; name_b="wgpb$((id % 100000))"
on_cleanup "rm -f /var/run/wireguard/$name_a.sock /var/run/wireguard/$name_b.sock"
engine=${PERF_GW_ENGINE:-auto}
write_config() {  # write_config FILE KEY PEER_PUB PEER_ALLOWED PEER_ENDPOINT NAME INSIDE OUTSIDE IN_ADDR OUT_ADDR METRICS [extra peer line]
  umask 077
  cat >"$1" <<CONF
[Interface]
PrivateKey = $2
ListenPort = 51820

[Peer]
PublicKey = $3
AllowedIPs = $4
Endpoint = $5
${12:-}

[Gateway]
Name = $6
InsidePort = $7
OutsidePort = $8
InsideAddress = $9
OutsideAddress = ${10}
MTU = 1420
MetricsAddress = 127.0.0.1:${11}
CryptoEngine = $engine
CONF
}
# A initiates as soon as it starts (a persistent keepalive needs a session), so the first measured packet
# never waits for a handshake.
write_config "$d/a.conf" "$key_a" "$pub_b" 10.72.0.0/16 172.31.72.2:51820 "$name_a" net_memif0 net_memif1 \
  10.71.0.1/24 172.31.72.1/24 "$port_a" "PersistentKeepalive = 1"
write_config "$d/b.conf" "$key_b" "$pub_a" 10.71.0.0/16 172.31.72.1:51820 "$name_b" net_memif3 net_memif2 \
  10.72.0.1/24 172.31.72.2/24 "$port_b"

mac_gen=02:00:00:00:70:01 mac_a_in=02:00:00:00:71:01 mac_a_out=02:00:00:00:71:02
mac_b_out=02:00:00:00:72:02 mac_b_in=02:00:00:00:72:01 mac_sink=02:00:00:00:73:01
memif() { echo "net_memif$1,role=$2,socket=$d/$3.sock,socket-abstract=no,id=0,rsize=$RSIZE,mac=$4"; }
eal_common=(--no-huge --no-pci --log-level=lib.eal:error --log-level=pmd.net.memif:info)
mem_note="--no-huge (anonymous 4 KB pages)"
# PERF_HUGE=1: 2 MB hugepages, as a production appliance runs (fewer TLB misses on mbufs and rings). The stage
# reserves what the four processes need (-m 1024 x 2 + 512 x 2 = 3 GiB), mounts a hugetlbfs of its own, and
# gives both back at the end.
if [ "${PERF_HUGE:-0}" = 1 ]; then
  hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  hp_old=$(cat "$hp")
  echo $((hp_old + 1560)) >"$hp"
  on_cleanup "echo $hp_old >$hp"
  [ "$(cat "$hp")" -ge $((hp_old + 1560)) ] || fail "PERF_HUGE=1: could not reserve 1560 2 MB pages ($(cat "$hp") of $((hp_old + 1560)))"
  mkdir -p "$d/huge"
  mount -t hugetlbfs -o pagesize=2M nodev "$d/huge" || fail "PERF_HUGE=1: cannot mount hugetlbfs on $d/huge"
  on_cleanup "umount $d/huge"
  eal_common=(--huge-dir "$d/huge" --no-pci --log-level=lib.eal:error --log-level=pmd.net.memif:info)
  mem_note="2 MB hugepages (hugetlbfs mounted by the stage, 1560 pages reserved for the run)"
fi
for p in a b gen sink; do on_cleanup "rm -rf /var/run/dpdk/$prefix-$p"; done
on_cleanup "rm -f $d/*.sock $d/*.fifo"

# ---- priorities. Four busy pollers on two CPUs (plus whatever else the machine runs) leave a shell at the
# same niceness a small share of a CPU, and every process it starts between two windows (curl, awk, taskset)
# waits for its turn: on a busy CI machine a 1-second window then took 10 to 20 s of wall time and the stage ran
# past its limit. So the stage's own steps run 5 nice levels above (when it may raise its priority), and
# everything measured (wggate, testpmd) runs at the niceness the stage was started with, as before.
base_nice=$(nice)
if renice -n $((base_nice - 5)) -p $$ >/dev/null 2>&1; then
  measured_nice=(nice -n 5)
else
  measured_nice=()
  log "cannot raise the stage's own priority (renice); its snapshots may be slow on a busy machine"
fi

# ---- start: servers first (a memif client that finds no server does not retry)
log "cores: control threads and testpmd main lcores on CPU $cpu_shared; windows: $layouts (measured CPU $measured)"
spawn wggate-a "${measured_nice[@]}" "$GW_BIN" "${eal_common[@]}" -m 1024 --file-prefix "$prefix-a" \
  --lcores "0@$cpu_shared,1@$cpu_a" --vdev "$(memif 0 server in $mac_a_in)" --vdev "$(memif 1 server mid $mac_a_out)" \
  -- --config "$d/a.conf" --verbose
pid_a=$SPAWNED_PID
wait_log "$pid_a" "$d/wggate-a.log" "listening on UDP" 60
spawn wggate-b "${measured_nice[@]}" "$GW_BIN" "${eal_common[@]}" -m 1024 --file-prefix "$prefix-b" \
  --lcores "0@$cpu_shared,1@$cpu_b" --vdev "$(memif 2 client mid $mac_b_out)" --vdev "$(memif 3 server out $mac_b_in)" \
  -- --config "$d/b.conf" --verbose
pid_b=$SPAWNED_PID
wait_log "$pid_b" "$d/wggate-b.log" "listening on UDP" 60

# testpmd runs interactively: its commands go into a FIFO it reads as standard input, its answers are read back
# from its log. The stage holds each FIFO open read-write: that open never blocks (a write-only open waits for
# a reader, for ever if testpmd died before opening its end), and tp_send checks that testpmd still runs before
# each command. The logs are read through descriptors that stay open, by the shell itself (each line once, no
# process per poll).
mkfifo "$d/gen.fifo" "$d/sink.fifo"
testpmd_common=(--port-topology=loop --total-num-mbufs=32768 --burst=32 --nb-cores=1 -i)
spawn testpmd-gen "${measured_nice[@]}" stdbuf -oL sh -c 'exec "$@" <"$0"' "$d/gen.fifo" dpdk-testpmd \
  "${eal_common[@]}" -m 512 --file-prefix "$prefix-gen" --lcores "0@$cpu_shared,1@$cpu_gen" \
  --vdev "$(memif 0 client in $mac_gen)" -- "${testpmd_common[@]}" --rxq=1 --txq=2 --forward-mode=txonly \
  --eth-peer="0,$mac_a_in" --tx-ip=10.71.0.2,10.72.0.2 --txpkts=78
pid_gen=$SPAWNED_PID
spawn testpmd-sink "${measured_nice[@]}" stdbuf -oL sh -c 'exec "$@" <"$0"' "$d/sink.fifo" dpdk-testpmd \
  "${eal_common[@]}" -m 512 --file-prefix "$prefix-sink" --lcores "0@$cpu_shared,1@$cpu_sink" \
  --vdev "$(memif 0 client out $mac_sink)" -- "${testpmd_common[@]}" --rxq=2 --txq=2 --forward-mode=icmpecho
pid_sink=$SPAWNED_PID
exec {tp_w_gen}<>"$d/gen.fifo" {tp_w_sink}<>"$d/sink.fifo"
wait_log "$pid_gen" "$d/testpmd-gen.log" "Checking link statuses" 60
wait_log "$pid_sink" "$d/testpmd-sink.log" "Checking link statuses" 60
exec {tp_r_gen}<"$d/testpmd-gen.log" {tp_r_sink}<"$d/testpmd-sink.log"
tp_part_gen="" tp_part_sink=""
for f in wggate-a wggate-b; do
  [ "$(grep -c 'memif_connect(): Connected' "$d/$f.log")" -ge 2 ] || wait_until 10 "$f's memif links" \
    sh -c "[ \$(grep -c 'memif_connect(): Connected' '$d/$f.log') -ge 2 ]"
done
wait_log "$pid_a" "$d/wggate-a.log" "session established" 30
log "links up, session established"
printf 'wggate crypto engine\t%s\n' "$(sed -n 's/.*crypto engine //p' "$d/wggate-a.log" | head -1)" >>"$PERF_WORK/facts.tsv"

tid_a=$(thread_id "$pid_a" rte-worker-1) || fail "no worker thread in wggate A"
tid_b=$(thread_id "$pid_b" rte-worker-1) || fail "no worker thread in wggate B"
tid_gen=$(thread_id "$pid_gen" rte-worker-1) || fail "no forwarding thread in testpmd gen"
tid_sink=$(thread_id "$pid_sink" rte-worker-1) || fail "no forwarding thread in testpmd sink"

# ---- talking to testpmd (NAME is gen or sink)
TP_WAIT=${PERF_TP_WAIT:-10}  # seconds testpmd has to answer a command
# tp_send NAME COMMAND: one command line to testpmd NAME, which must still be running.
tp_send() {
  local pid_var=pid_$1 fd_var=tp_w_$1
  kill -0 "${!pid_var}" 2>/dev/null || fail "testpmd $1 exited (log: $d/testpmd-$1.log)"
  printf '%s\n' "$2" >&"${!fd_var}"
}
# tp_line NAME: the next whole line testpmd NAME printed, in TP_LINE; status 1 if there is none yet (a line
# still being written is kept for the next call).
tp_line() {
  local fd_var=tp_r_$1 chunk
  local -n part=tp_part_$1
  if IFS= read -r -u "${!fd_var}" chunk; then
    TP_LINE=$part$chunk
    part=""
    return 0
  fi
  part+=$chunk
  return 1
}
# tp_drain NAME: skips what testpmd NAME printed so far (answers to stop/start/set).
tp_drain() { while tp_line "$1"; do :; done; }
# tp_stats NAME: waits (TP_WAIT seconds at most) for testpmd NAME's answer to "show port stats 0", already
# sent; port 0's counters in TP_RX and TP_TX.
tp_stats() {
  local name=$1 pid_var=pid_$1 end=$((SECONDS + TP_WAIT)) in=0 rx="" tx=""
  while :; do
    while tp_line "$name"; do
      case $TP_LINE in
        *"NIC statistics for port 0"*) in=1 rx="" tx="" ;;
        *RX-packets:*) [[ $in = 1 && $TP_LINE =~ RX-packets:\ *([0-9]+) ]] && rx=${BASH_REMATCH[1]} ;;
        *TX-packets:*) [[ $in = 1 && $TP_LINE =~ TX-packets:\ *([0-9]+) ]] && tx=${BASH_REMATCH[1]} ;;
        *"#####"*)
          if [ "$in" = 1 ]; then
            [ -n "$rx" ] && [ -n "$tx" ] || fail "testpmd $name: no RX-packets/TX-packets in its port statistics (log: $d/testpmd-$name.log)"
            TP_RX=$rx TP_TX=$tx
            return 0
          fi ;;
      esac
    done
    kill -0 "${!pid_var}" 2>/dev/null || fail "testpmd $name exited while answering 'show port stats 0' (log: $d/testpmd-$name.log)"
    [ "$SECONDS" -lt "$end" ] || fail "testpmd $name did not answer 'show port stats 0' within ${TP_WAIT}s (log: $d/testpmd-$name.log)"
    sleep 0.02
  done
}

# ---- measurement helpers
# scrape_start X PORT: fetches wggate X's metrics into $d/metrics-X in the background (bounded by curl itself);
# scrape_wait X PORT: waits for it, failing with what went wrong.
SCRAPE_WAIT=${PERF_SCRAPE_WAIT:-10}
scrape_start() {
  curl -sSf --max-time "$SCRAPE_WAIT" -o "$d/metrics-$1" "http://127.0.0.1:$2/metrics" 2>"$d/metrics-$1.err" &
  printf -v "scrape_pid_$1" %s "$!"
}
scrape_wait() {
  local pid_var=scrape_pid_$1 gw_var=pid_$1 st=0
  wait "${!pid_var}" || st=$?
  [ "$st" = 0 ] && return 0
  kill -0 "${!gw_var}" 2>/dev/null || fail "wggate ${1^^} exited (log: $d/wggate-$1.log)"
  fail "no metrics from wggate ${1^^} (http://127.0.0.1:$2/metrics, limit ${SCRAPE_WAIT}s): curl exit $st: $(tr '\n' ' ' <"$d/metrics-$1.err")"
}
gone() {  # gone a|b: wggate A's or B's worker thread cannot be read
  local pid_var=pid_$1
  kill -0 "${!pid_var}" 2>/dev/null || fail "wggate ${1^^} exited (log: $d/wggate-$1.log)"
  fail "wggate ${1^^}'s worker thread is gone (log: $d/wggate-$1.log)"
}
ms_between() { echo $(( (${2//[!0-9]/} - ${1//[!0-9]/}) / 1000 )); }  # two $EPOCHREALTIME values
# snap FILE: one consistent-enough view of every counter the window needs: the time, the two workers' CPU
# time, worker 0's counters of both wggates (as a_name=value and b_name=value lines) and testpmd's port
# counters, all asked for at once. Every part is bounded: a part that does not come fails the stage, naming it.
snap() {
  local f=$1 t0=$EPOCHREALTIME t a_cpu a_wait b_cpu b_wait _ st=0
  tp_drain gen; tp_drain sink
  t=${t0//[!0-9]/}000
  # schedstat: ns on a CPU, ns waiting for one (runnable, not running), timeslices
  read -r a_cpu a_wait _ 2>/dev/null <"/proc/$pid_a/task/$tid_a/schedstat" || gone a
  read -r b_cpu b_wait _ 2>/dev/null <"/proc/$pid_b/task/$tid_b/schedstat" || gone b
  scrape_start a "$port_a"; scrape_start b "$port_b"
  tp_send gen "show port stats 0"; tp_send sink "show port stats 0"
  local t_asked=$EPOCHREALTIME
  scrape_wait a "$port_a"; scrape_wait b "$port_b"
  local t_scraped=$EPOCHREALTIME
  tp_stats gen; local gen_tx=$TP_TX
  tp_stats sink; local sink_rx=$TP_RX
  local t_counted=$EPOCHREALTIME
  {
    echo "t=$t"
    echo "a_cpu=$a_cpu"
    echo "b_cpu=$b_cpu"
    echo "a_wait=$a_wait"
    echo "b_wait=$b_wait"
    awk '
      FNR == 1 { p = (FILENAME ~ /metrics-a$/) ? "a" : "b" }
      /^wggate_/ && /worker="0"/ {
        name = $1; sub(/\{.*/, "", name); sub(/^wggate_/, "", name); sub(/_total$/, "", name)
        if (name == "drops") { r = $1; sub(/.*reason="/, "", r); sub(/".*/, "", r); name = "drop_" r }
        if (name == "worker_phase_cycles") { r = $1; sub(/.*phase="/, "", r); sub(/".*/, "", r); name = "cycles_" r }
        if (name == "worker_polls") polls[p] = 1
        printf "%s_%s=%s\n", p, name, $2  # as text: mawk turns numbers above 2^31 into 6-digit floats
      }
      END { for (i = 1; i <= 2; i++) { p = (i == 1) ? "a" : "b"; if (!(p in polls)) { print p > "/dev/stderr"; bad = 1 } }
            exit bad }' "$d/metrics-a" "$d/metrics-b" 2>"$d/metrics.missing" || st=$?
    echo "gen_tx=$gen_tx"
    echo "sink_rx=$sink_rx"
  } >"$f"
  [ "$st" = 0 ] || fail "no worker 0 counters in the metrics of wggate $(tr 'ab\n' 'AB ' <"$d/metrics.missing")(kept in $d/metrics-a, $d/metrics-b)"
  local t_end=$EPOCHREALTIME
  local ms=$(( (${t_end//[!0-9]/} - ${t0//[!0-9]/}) / 1000 ))
  # Which part was slow, when one was: drain and ask, curl's two scrapes, testpmd's two answers, the file
  # (one awk). A snapshot once took 106 s with every counter in it read within its first second.
  [ "$ms" -lt 2000 ] || log "snapshot $(basename "$f") took ${ms} ms (a busy machine?): ask $(ms_between "$t0" "$t_asked")," \
    "scrapes $(ms_between "$t_asked" "$t_scraped"), testpmd $(ms_between "$t_scraped" "$t_counted"), file $(ms_between "$t_counted" "$t_end") ms"
}

# Two CPUs cannot give four pollers a core each, and a worker starved of input makes a poor measurement (its
# empty polls read rings another CPU writes, which costs more than the calibrated empty poll). So the measured
# worker is made the bottleneck: it shares the measured CPU with one testpmd lcore and gets about half of it,
# while the other wggate, sharing CPU 0 with the other testpmd lcore, feeds it (encrypt window) or drains it
# (decrypt window); encrypting costs less than decrypting, so B keeps up with A's half... mostly, see TX full.
#   encrypt window: CPU 1 = A's worker + sink;  CPU 0 = gen + B's worker (+ both control threads, testpmd mains)
#   decrypt window: CPU 1 = B's worker + gen;   CPU 0 = A's worker + sink
pin() { taskset -pc "$1" "$2" >/dev/null || fail "cannot pin thread $2 to CPU $1"; }
pin_layout() {  # pin_layout encrypt|decrypt|both
  case $1 in
    encrypt) pin "$measured" "$tid_a"; pin "$measured" "$tid_sink"; pin "$cpu_shared" "$tid_b"; pin "$cpu_shared" "$tid_gen" ;;
    decrypt) pin "$measured" "$tid_b"; pin "$measured" "$tid_gen"; pin "$cpu_shared" "$tid_a"; pin "$cpu_shared" "$tid_sink" ;;
  esac
}

# ---- idle-poll cost, per worker, before any traffic: CPU ns per empty poll
tp_send sink start
snap "$d/cal0"; sleep "$CALIBRATE"; snap "$d/cal1"
read -r idle_a idle_b < <(awk -F= 'FNR == 1 { f++ } { v[f, $1] = $2 }
  function per(c, p) { return (v[2, p] - v[1, p] > 0) ? sprintf("%.6g", (v[2, c] - v[1, c]) / (v[2, p] - v[1, p])) : "none" }
  END { print per("a_cpu", "a_worker_polls"), per("b_cpu", "b_worker_polls") }' "$d/cal0" "$d/cal1") ||
  fail "no idle poll cost from the calibration snapshots $d/cal0 $d/cal1"
[ "$idle_a" != none ] && [ "$idle_b" != none ] || fail "a worker made no polls during the ${CALIBRATE}s calibration (A: $idle_a, B: $idle_b ns per poll; see $d/cal0, $d/cal1)"
log "idle poll cost: A ${idle_a} ns, B ${idle_b} ns"
note "idle poll cost (calibrated before traffic): A ${idle_a} ns, B ${idle_b} ns per empty poll"

set_size() {
  tp_send gen stop
  if [ "$1" = imix ]; then
    tp_send gen "set txpkts 78,0,0,0,0,0,0,512,0,0,0,844"
    tp_send gen "set txsplit rand"
  else
    tp_send gen "set txsplit off"
    tp_send gen "set txpkts $(($1 + 14))"
  fi
  tp_send gen start
}

# threads_now: where the four pollers are (state, CPU, affinity, kernel wait channel) and what used the CPUs
# over the last half second, in the stage log: what a window that saw no packets needs to be explained.
threads_now() {
  local x pid_var tid_var st
  for x in a b gen sink; do
    pid_var=pid_$x tid_var=tid_$x
    st=$(sed 's/^.*) //' "/proc/${!pid_var}/task/${!tid_var}/stat" 2>/dev/null | awk '{ print "state " $1 ", last on CPU " $37 }') || st=gone
    log "  $x poller (TID ${!tid_var}): ${st:-gone}, allowed CPUs $(taskset -pc "${!tid_var}" 2>/dev/null | sed 's/.*: //')," \
      "waiting in $(cat "/proc/${!pid_var}/task/${!tid_var}/wchan" 2>/dev/null || echo '?')"
  done
  log "  busiest threads over 0.5 s (top -H):"
  top -b -H -n 2 -d 0.5 -w 160 2>/dev/null | awk '/^top -/ { n++ } n == 2 && /^ *[0-9]/ { if (++k <= 12) print "    " $0 }' >&2 || true
}

# window_report S0 S1 LAYOUT SIZE RUN: the per-core and wall figures of the measured worker(s) over one window
# and the chain's rates, all from one awk (on a busy machine every process started costs a turn on a CPU).
#   per core: packets / (the thread's CPU time less its empty polls, at least 5% of it); wall: what left the
#   worker's TX port per second; phases: wggate's TSC counters split the busy polls into rx, crypto, tx, other.
window_report() {
  local kind a b c e got=0
  while IFS=$'\t' read -r kind a b c e; do
    case $kind in
      R) result "$a" "$4" "$b" "$5" "$c" ;;
      L) log "$a" ;;
      F) log "$a"; threads_now; fail "$a (see $d/*.log, snapshots $1 $2)" ;;
      D) got=1 ;;
    esac
  done < <(awk -F= -v layout="$3" -v size="$4" -v run="$5" -v idle_a="$idle_a" -v idle_b="$idle_b" -v dur="$DURATION" '
    FNR == 1 { f++ }
    { v[f, $1] = $2 }
    function d(k) { return sprintf("%.0f", v[2, k] - v[1, k]) + 0 }
    function g(x) { return sprintf("%.6g", x) }
    function R(series, metric, value) { printf "R\t%s\t%s\t%s\n", series, metric, value }
    function direction(series,   w, idle, pk, by, dn, rx, n_pk, n_by, n_done, n_rx, n_full, n_cpu, n_polls, n_busy, busy_cpu, wall, n_bc, rest, pct, i, ph) {
      if (series == "encrypt") { w = "a_"; idle = idle_a; pk = "encrypted_packets"; by = "encrypted_bytes"; dn = "tx_outside_packets"; rx = "rx_inside_packets" }
      else { w = "b_"; idle = idle_b; pk = "decrypted_packets"; by = "decrypted_bytes"; dn = "tx_inside_packets"; rx = "rx_outside_packets" }
      wall = d("t")
      n_pk = d(w pk); n_by = d(w by); n_done = d(w dn); n_rx = d(w rx); n_full = d(w "drop_tx_full")
      n_cpu = d(w "cpu"); n_polls = d(w "worker_polls"); n_busy = d(w "worker_busy_polls")
      if (n_pk <= 0) {
        printf "F\t%s: no packets in a %ss window at size %s (the worker: %.0f polls, %.0f ms on a CPU, %.0f ms runnable waiting for one, of %.0f ms)\n",
          series, dur, size, n_polls, n_cpu / 1e6, d(w "wait") / 1e6, d("t") / 1e6
        return 0
      }
      busy_cpu = n_cpu - (n_polls - n_busy) * idle
      if (busy_cpu < 0.05 * n_cpu) busy_cpu = 0.05 * n_cpu
      busy_cpu = sprintf("%.0f", busy_cpu) + 0
      if (busy_cpu <= 0 || wall <= 0) { printf "F\t%s: the worker got no CPU time in a %ss window at size %s\n", series, dur, size; return 0 }
      R(series, "mpps_core", g(n_pk / busy_cpu * 1e3))
      R(series, "gbps_core", g(n_by * 8 / busy_cpu))
      R(series, "mpps_wall", g(n_done / wall * 1e3))
      R(series, "gbps_wall", g(n_by * (n_done / n_pk) * 8 / wall))
      R(series, "cpu_share", g(n_cpu / wall))
      R(series, "busy_share", g(busy_cpu / n_cpu))
      R(series, "burst", g(n_busy > 0 ? n_rx / n_busy : 0))
      R(series, "txfull_pct", g(100 * n_full / n_pk))
      n_bc = d(w "worker_busy_cycles")
      if (n_bc > 0) {
        rest = 100
        split("rx crypto tx", ph, " ")
        for (i = 1; i <= 3; i++) {
          pct = g(100 * d(w "cycles_" ph[i]) / n_bc)
          R(series, "share_" ph[i], pct)
          rest = g(rest - pct)
        }
        R(series, "share_other", rest)
      }
      printf "L\t%s %s run %s: %s Mpps per core, %s Mpps delivered, cpu share %s, busy %s, tx full %s%%\n", series, size, run,
        g(n_pk / busy_cpu * 1e3), g(n_done / wall * 1e3), g(n_cpu / wall), g(busy_cpu / n_cpu), g(100 * n_full / n_pk)
      return 1
    }
    END {
      if (layout == "encrypt" || layout == "both") if (!direction("encrypt")) exit
      if (layout == "decrypt" || layout == "both") if (!direction("decrypt")) exit
      # The whole chain, as testpmd saw it: what the sink received (and the generator sent) per second of wall time.
      R("chain-" layout, "mpps_wall", g(d("sink_rx") / d("t") * 1e3))
      R("chain-" layout, "gen_mpps_wall", g(d("gen_tx") / d("t") * 1e3))
      print "D"
    }' "$1" "$2")
  [ "$got" = 1 ] || fail "the report of window $3 $4 run $5 came out incomplete (snapshots $1 $2)"
}

window() {  # window LAYOUT SIZE RUN
  local layout=$1 size=$2 run=$3 s="$d/snap-$2-$1-$3"
  pin_layout "$layout"
  sleep "$WARMUP"
  snap "$s.0"; sleep "$DURATION"; snap "$s.1"
  window_report "$s.0" "$s.1" "$layout" "$size" "$run"
}

for size in $SIZES; do
  set_size "$size"
  for run in $(seq 1 "$RUNS"); do
    for layout in $layouts; do window "$layout" "$size" "$run"; done
  done
done

note "cores: control threads and testpmd main lcores on CPU $cpu_shared;" \
  "$( [ "$layouts" = both ] && echo "testpmd gen on CPU $cpu_gen, sink on CPU $cpu_sink, A's worker on CPU $cpu_a, B's on CPU $cpu_b" || echo "encrypt windows: A's worker and the sink's forwarding lcore on CPU $measured, the generator's and B's worker on CPU $cpu_shared; decrypt windows: B's worker and the generator on CPU $measured, A's worker and the sink on CPU $cpu_shared (the measured worker gets about half a CPU and is the bottleneck)")"
note "memory: $mem_note, -m 1024 per wggate, -m 512 per testpmd; memif rings 2^$RSIZE slots, 2048-byte buffers"

# Shutdown. A memif peer that leaves unmaps the shared rings under the other side's polling worker (DPDK
# 22.11's memif does not fence its datapath against a disconnect: seen here as a segfault of the surviving
# wggate's worker in librte_net_memif). So: testpmd stops forwarding first (its lcores stop polling), then both
# wggates are stopped together (their workers leave the loop at the signal, before either closes a port), then
# testpmd quits. A process that still dies of a signal here is noted, not counted as a failed measurement; one
# that does not exit in time fails the stage (and is killed by the cleanup).
tp_send gen stop; tp_send sink stop; sleep 0.3
kill "$pid_a" "$pid_b"
t_stop=$SECONDS
for x in a b; do
  pid_var=pid_$x
  wait_exit "${!pid_var}" "wggate ${x^^} (stopped with SIGTERM)" 30
  st=$WAIT_STATUS
  log "wggate ${x^^} exited after $((SECONDS - t_stop)) s (status $st)"
  if [ "$st" != 0 ]; then
    [ "$st" -gt 128 ] || fail "wggate $x exited with status $st (see $d/wggate-$x.log)"
    note "wggate $x died of signal $((st - 128)) at shutdown (the memif disconnect race above; measurements unaffected)"
    log "wggate $x died of signal $((st - 128)) at shutdown"
  fi
done
for x in gen sink; do
  pid_var=pid_$x
  if kill -0 "${!pid_var}" 2>/dev/null; then tp_send "$x" quit; fi
done
for x in gen sink; do
  pid_var=pid_$x
  wait_exit "${!pid_var}" "testpmd $x (told to quit)" 30
  st=$WAIT_STATUS
  log "testpmd $x exited after $((SECONDS - t_stop)) s (status $st)"
  if [ "$st" -gt 128 ]; then
    note "testpmd $x died of signal $((st - 128)) at shutdown (its memif peer had gone; measurements unaffected)"
    log "testpmd $x died of signal $((st - 128)) at shutdown"
  fi
done
log "done"
