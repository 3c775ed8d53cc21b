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
# from the spare queues too, so the client must bring exactly wggate's queue count (workers + 1, 2 with one
# worker, each way). The generator has that many TX queues but 1 RX queue, so testpmd builds one stream (queue
# 0) and nothing lands on wggate's control queue; the sink has that many of each so B's ARP (sent by control on
# its queue, the last) is answered.
#
# Sizes are inner IP packet sizes (what is encrypted; frames are 14 bytes longer): 64, 512, 1420 and IMIX
# (64/576/1420 bytes 7:4:1, testpmd's random TX split over zero-length segments). Gbit/s counts inner IP bytes.
#
# Cores. Four busy pollers (gen, A's worker, B's worker, sink) and two control threads that sleep when idle.
# With 5 CPUs or more each poller has its own CPU (PERF_GW_CPUS="shared,gen,A,B,sink" overrides), and one
# window measures both directions. With fewer, an "encrypt" window and a "decrypt" window each make the worker
# under measurement the bottleneck on the last CPU (see pin_layout; taskset on the lcore threads between
# windows).
# Per-core figures do not trust wall time on a shared, noisy machine: they divide the packets a worker completed
# by the CPU time that worker's thread really got (/proc/.../schedstat) minus the time it spent on empty polls
# (its idle polls counted by wggate times the cost of one, calibrated before traffic starts). Wall-clock rates
# of what was delivered are reported beside them.
#
# Several workers (PERF_GW_WORKERS=N, default 1; stage "spread", perf/lib/spread.sh, runs N=1 and N=2): both
# wggates get N workers (a memif client must bring exactly the server's N + 1 queues, and A and B are each
# other's memif peer, so they cannot differ), the generator N + 1 TX queues (still one RX queue: one stream,
# one flow, one peer, so only spreading can bring the other workers in). Every per-core figure then sums over
# the gateway's N worker threads: the packets all of them completed over the CPU time all of them got, less
# each one's empty polls at its own calibrated cost; the share of the packets each worker processed comes
# from its own counters (a slice is counted by the worker that ran it). Worker 0 owns the flow in both
# gateways (queue 0). CPU layout: see pin_layout. Set by the spread stage: PERF_GW_STAGE (the stage name the
# results go under), PERF_GW_SERIES_SUFFIX (appended to encrypt/decrypt), PERF_GW_SPREAD (on|off: [Gateway]
# Spread; unset: wggate's default).
source "$(dirname "$0")/common.sh"
STAGE_NAME=${PERF_GW_STAGE:-gateway}
need dpdk-testpmd curl taskset ss awk renice
GW_BIN="$PERF_BUILD/control/wggate"
[ -x "$GW_BIN" ] || fail "no wggate at $GW_BIN (build it first)"

SIZES=${PERF_GW_SIZES:-"64 512 1420 imix"}
RSIZE=${PERF_MEMIF_RSIZE:-12}  # memif ring: 2^12 slots, room for a few ms of a descheduled reader
WARMUP=$([ "${PERF_SMOKE:-0}" = 1 ] && echo 0.3 || echo 1)
CALIBRATE=$([ "${PERF_SMOKE:-0}" = 1 ] && echo 0.3 || echo 1)
id=$$
prefix="perf-$id"
d=$STAGE_DIR

WORKERS=${PERF_GW_WORKERS:-1}
[[ $WORKERS =~ ^[1-9]$ ]] || fail "PERF_GW_WORKERS must be 1 to 9 (got '$WORKERS')"
SUFFIX=${PERF_GW_SERIES_SUFFIX:-}
# gw_note TEXT: a note for the results file, marked with the series suffix when there is one ("2w: ...").
gw_note() { note "${SUFFIX:+${SUFFIX#-}: }$*"; }

# ---- CPU plan. cpus_a and cpus_b hold one CPU per worker (worker 0 first); PERF_GW_CPUS gives a gateway's
# workers as CPUs joined by '+' ("0,1,2+3,4+5,6"), or one CPU for all of them.
ncpu=$(nproc)
# spread_cpus LIST: LIST ('+'-separated) as WORKERS CPUs, the last one repeated.
spread_cpus() {
  local -a l; local i out=""
  IFS=+ read -r -a l <<<"$1"
  for ((i = 0; i < WORKERS; i++)); do out+="${l[i < ${#l[@]} ? i : ${#l[@]} - 1]} "; done
  echo "$out"
}
if [ -n "${PERF_GW_CPUS:-}" ]; then
  IFS=, read -r cpu_shared cpu_gen cpu_a cpu_b cpu_sink <<<"$PERF_GW_CPUS"
  read -r -a cpus_a <<<"$(spread_cpus "$cpu_a")"; read -r -a cpus_b <<<"$(spread_cpus "$cpu_b")"
  layouts="both"
elif [ "$ncpu" -ge $((2 * WORKERS + 3)) ]; then
  cpu_shared=0 cpu_gen=1 cpu_sink=$((2 * WORKERS + 2))
  cpus_a=() cpus_b=()
  for ((w = 0; w < WORKERS; w++)); do cpus_a+=($((2 + w))); cpus_b+=($((2 + WORKERS + w))); done
  layouts="both"
else
  cpu_shared=0 cpu_gen=0 cpu_sink=0
  cpus_a=() cpus_b=()  # where the workers start; pin_layout moves them before each window
  for ((w = 0; w < WORKERS; w++)); do
    cpus_a+=($([ "$w" = 0 ] && echo $((ncpu - 1)) || echo 0)); cpus_b+=($([ "$w" = 0 ] && echo 0 || echo $((ncpu - 1))))
  done
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
${PERF_GW_SPREAD:+Spread = $PERF_GW_SPREAD}
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

# ---- start: servers first (a memif client that finds no server does not retry). Worker w is lcore w + 1
# (thread rte-worker-<w+1>); where each runs is set by pin_layout before every window.
lcores() {  # lcores CPU...: the main lcore on the shared CPU, one worker lcore per CPU given
  local out="0@$cpu_shared" i=1 c
  for c in "$@"; do out+=",$i@$c"; i=$((i + 1)); done
  echo "$out"
}
log "cores: control threads and testpmd main lcores on CPU $cpu_shared; $WORKERS worker(s) per wggate;" \
  "windows: $layouts (measured CPU $measured)"
spawn wggate-a "${measured_nice[@]}" "$GW_BIN" "${eal_common[@]}" -m 1024 --file-prefix "$prefix-a" \
  --lcores "$(lcores "${cpus_a[@]}")" --vdev "$(memif 0 server in $mac_a_in)" --vdev "$(memif 1 server mid $mac_a_out)" \
  -- --config "$d/a.conf" --verbose
pid_a=$SPAWNED_PID
wait_log "$pid_a" "$d/wggate-a.log" "listening on UDP" 60
spawn wggate-b "${measured_nice[@]}" "$GW_BIN" "${eal_common[@]}" -m 1024 --file-prefix "$prefix-b" \
  --lcores "$(lcores "${cpus_b[@]}")" --vdev "$(memif 2 client mid $mac_b_out)" --vdev "$(memif 3 server out $mac_b_in)" \
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
  --vdev "$(memif 0 client in $mac_gen)" -- "${testpmd_common[@]}" --rxq=1 --txq=$((WORKERS + 1)) --forward-mode=txonly \
  --eth-peer="0,$mac_a_in" --tx-ip=10.71.0.2,10.72.0.2 --txpkts=78
pid_gen=$SPAWNED_PID
spawn testpmd-sink "${measured_nice[@]}" stdbuf -oL sh -c 'exec "$@" <"$0"' "$d/sink.fifo" dpdk-testpmd \
  "${eal_common[@]}" -m 512 --file-prefix "$prefix-sink" --lcores "0@$cpu_shared,1@$cpu_sink" \
  --vdev "$(memif 0 client out $mac_sink)" -- "${testpmd_common[@]}" --rxq=$((WORKERS + 1)) --txq=$((WORKERS + 1)) --forward-mode=icmpecho
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
grep -q '^wggate crypto engine' "$PERF_WORK/facts.tsv" ||
  printf 'wggate crypto engine\t%s\n' "$(sed -n 's/.*crypto engine //p' "$d/wggate-a.log" | head -1)" >>"$PERF_WORK/facts.tsv"
log "wggate A: $(grep -m1 -o '[0-9]* worker(s).*' "$d/wggate-a.log")"

# tids_a[w], tids_b[w]: worker w's thread (lcore w + 1).
tids_a=() tids_b=()
for ((w = 0; w < WORKERS; w++)); do
  t=$(thread_id "$pid_a" "rte-worker-$((w + 1))") || fail "no worker $w thread in wggate A"; tids_a+=("$t")
  t=$(thread_id "$pid_b" "rte-worker-$((w + 1))") || fail "no worker $w thread in wggate B"; tids_b+=("$t")
done
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
gone() {  # gone a|b: one of wggate A's or B's worker threads cannot be read
  local pid_var=pid_$1
  kill -0 "${!pid_var}" 2>/dev/null || fail "wggate ${1^^} exited (log: $d/wggate-$1.log)"
  fail "a worker thread of wggate ${1^^} is gone (log: $d/wggate-$1.log)"
}
ms_between() { echo $(( (${2//[!0-9]/} - ${1//[!0-9]/}) / 1000 )); }  # two $EPOCHREALTIME values
# snap FILE: one consistent-enough view of every counter the window needs: the time, each worker's CPU time
# (a_cpu_W, a_wait_W), each worker's counters in both wggates (a_NAME_W=value, b_NAME_W=value; W the worker,
# not control) and testpmd's port counters, all asked for at once. Every part is bounded: a part that does not
# come fails the stage, naming it.
snap() {
  local f=$1 t0=$EPOCHREALTIME t cpu wait _ st=0 w stat=""
  tp_drain gen; tp_drain sink
  t=${t0//[!0-9]/}000
  # schedstat: ns on a CPU, ns waiting for one (runnable, not running), timeslices
  for ((w = 0; w < WORKERS; w++)); do
    read -r cpu wait _ 2>/dev/null <"/proc/$pid_a/task/${tids_a[w]}/schedstat" || gone a
    stat+="a_cpu_$w=$cpu"$'\n'"a_wait_$w=$wait"$'\n'
    read -r cpu wait _ 2>/dev/null <"/proc/$pid_b/task/${tids_b[w]}/schedstat" || gone b
    stat+="b_cpu_$w=$cpu"$'\n'"b_wait_$w=$wait"$'\n'
  done
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
    printf '%s' "$stat"
    awk -v workers="$WORKERS" '
      FNR == 1 { p = (FILENAME ~ /metrics-a$/) ? "a" : "b" }
      /^wggate_tsc_hz/ { printf "%s_tsc_hz=%s\n", p, $2 }
      /^wggate_/ && /worker="[0-9]+"/ {
        w = $1; sub(/.*worker="/, "", w); sub(/".*/, "", w)
        name = $1; sub(/\{.*/, "", name); sub(/^wggate_/, "", name); sub(/_total$/, "", name)
        if (name == "drops") { r = $1; sub(/.*reason="/, "", r); sub(/".*/, "", r); name = "drop_" r }
        if (name == "worker_phase_cycles") { r = $1; sub(/.*phase="/, "", r); sub(/".*/, "", r); name = "cycles_" r }
        if (name == "spread_slices") { r = $1; sub(/.*kind="/, "", r); sub(/".*/, "", r); name = "slices_" r }
        if (name == "spread_bursts") { r = $1; sub(/.*decision="/, "", r); sub(/".*/, "", r); name = "bursts_" r }
        if (name == "worker_polls") polls[p, w] = 1
        printf "%s_%s_%s=%s\n", p, name, w, $2  # as text: mawk turns numbers above 2^31 into 6-digit floats
      }
      END { for (i = 1; i <= 2; i++) for (w = 0; w < workers; w++) {
              p = (i == 1) ? "a" : "b"; if (!((p, w) in polls)) { printf "%s worker %d, ", toupper(p), w > "/dev/stderr"; bad = 1 } }
            exit bad }' "$d/metrics-a" "$d/metrics-b" 2>"$d/metrics.missing" || st=$?
    echo "gen_tx=$gen_tx"
    echo "sink_rx=$sink_rx"
  } >"$f"
  [ "$st" = 0 ] || fail "no counters of $(cat "$d/metrics.missing")in the metrics of wggate (kept in $d/metrics-a, $d/metrics-b)"
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
# With N workers per wggate, the measured gateway's worker 0 (which receives the flow: the owner of every
# burst) keeps the place above and its other workers (the helpers, which only run slices the owner hands
# them) go to the other CPU, so that the owner and a helper really run at the same time; the other gateway
# does the mirror image (its owner as above, its helpers beside the measured owner), so each gateway holds
# about as much CPU as the other and the one upstream can still feed the measured one:
#   encrypt window, 2 workers: CPU 1 = A0 + sink + B1;  CPU 0 = A1 + gen + B0
#   decrypt window, 2 workers: CPU 1 = B0 + gen + A1;   CPU 0 = B1 + sink + A0
# (perf/lib/spread.sh says why the per-core figures stay meaningful then.)
pin() { taskset -pc "$1" "$2" >/dev/null || fail "cannot pin thread $2 to CPU $1"; }
# pin_gw TIDS_VAR OWNER_CPU HELPER_CPU: worker 0 of a wggate on OWNER_CPU, the others on HELPER_CPU.
pin_gw() {
  local -n tids=$1
  local w
  for ((w = 0; w < ${#tids[@]}; w++)); do pin "$([ "$w" = 0 ] && echo "$2" || echo "$3")" "${tids[w]}"; done
}
pin_layout() {  # pin_layout encrypt|decrypt|both
  case $1 in
    encrypt) pin_gw tids_a "$measured" "$cpu_shared"; pin "$measured" "$tid_sink"
             pin_gw tids_b "$cpu_shared" "$measured"; pin "$cpu_shared" "$tid_gen" ;;
    decrypt) pin_gw tids_b "$measured" "$cpu_shared"; pin "$measured" "$tid_gen"
             pin_gw tids_a "$cpu_shared" "$measured"; pin "$cpu_shared" "$tid_sink" ;;
    both) local w
          for ((w = 0; w < WORKERS; w++)); do pin "${cpus_a[w]}" "${tids_a[w]}"; pin "${cpus_b[w]}" "${tids_b[w]}"; done ;;
  esac
}

# ---- idle-poll cost, per worker and per layout, before any traffic: CPU ns per empty poll. Per layout because
# what an empty poll costs depends on what shares the CPU (and its caches) with the worker.
tp_send sink start
declare -A idle  # idle[LAYOUT]: "a_0=NS b_0=NS ..." (one entry per worker)
idle_notes=""
for layout in $layouts; do
  pin_layout "$layout"
  snap "$d/cal-$layout.0"; sleep "$CALIBRATE"; snap "$d/cal-$layout.1"
  x=$(awk -F= -v workers="$WORKERS" 'FNR == 1 { f++ } { v[f, $1] = $2 }
    function per(c, p) { return (v[2, p] - v[1, p] > 0) ? sprintf("%.6g", (v[2, c] - v[1, c]) / (v[2, p] - v[1, p])) : "none" }
    END { for (i = 1; i <= 2; i++) for (w = 0; w < workers; w++) {
            g = (i == 1) ? "a" : "b"; x = per(g "_cpu_" w, g "_worker_polls_" w)
            if (x == "none") { printf "wggate %s worker %d made no polls\n", toupper(g), w; exit 1 }
            printf "%s_%d=%s ", g, w, x } }' "$d/cal-$layout.0" "$d/cal-$layout.1") ||
    fail "${x:-no idle poll cost} in the ${CALIBRATE}s calibration (see $d/cal-$layout.0, $d/cal-$layout.1)"
  idle[$layout]=$x
  x=$(awk -v RS=' ' -F= '$1 != "" { g = toupper(substr($1, 1, 1)); t = n[g]++ ? x[g] "/" $2 : $2; x[g] = t }
    END { printf "A %s ns, B %s ns", x["A"], x["B"] }' <<<"$x")
  log "idle poll cost ($layout layout): $x$([ "$WORKERS" = 1 ] || echo " (worker 0/1/...)")"
  idle_notes+="$([ "$layouts" = both ] || echo "$layout layout: ")$x; "
done
# From here on the stage writes notes and results: a caller that retries a chain which failed to start (spread.sh)
# must not retry past this point.
: >"$d/measuring"
gw_note "idle poll cost (calibrated before traffic, $WORKERS worker(s) per wggate): ${idle_notes%; } per empty" \
  "poll$([ "$WORKERS" = 1 ] || echo " (worker 0/1/...; worker 0 also polls control's RX queue)")"

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
  local x pid tid st w entries=()
  for ((w = 0; w < WORKERS; w++)); do entries+=("a$w $pid_a ${tids_a[w]}" "b$w $pid_b ${tids_b[w]}"); done
  entries+=("gen $pid_gen $tid_gen" "sink $pid_sink $tid_sink")
  for x in "${entries[@]}"; do
    read -r w pid tid <<<"$x"
    st=$(sed 's/^.*) //' "/proc/$pid/task/$tid/stat" 2>/dev/null | awk '{ print "state " $1 ", last on CPU " $37 }') || st=gone
    log "  $w poller (TID $tid): ${st:-gone}, allowed CPUs $(taskset -pc "$tid" 2>/dev/null | sed 's/.*: //')," \
      "waiting in $(cat "/proc/$pid/task/$tid/wchan" 2>/dev/null || echo '?')"
  done
  log "  busiest threads over 0.5 s (top -H):"
  top -b -H -n 2 -d 0.5 -w 160 2>/dev/null | awk '/^top -/ { n++ } n == 2 && /^ *[0-9]/ { if (++k <= 12) print "    " $0 }' >&2 || true
}

# window_report S0 S1 LAYOUT SIZE RUN: the per-core and wall figures of the measured gateway over one window
# and the chain's rates, all from one awk (on a busy machine every process started costs a turn on a CPU).
#   per core: the packets all its workers completed / the CPU time all their threads got, less each one's
#   empty polls (at least 5% of each thread's time); wall: what left the gateway's TX port per second; phases:
#   wggate's TSC counters split the busy polls into rx, crypto, tx, other.
#   With several workers also, per worker w: share_wW (% of the packets it processed: its own counter, which
#   counts the slices it ran for the owner), cpu_wW, busy_wW; and the spreading: spread_pct (% of the received
#   packets the owner queued for others), reclaimed_pct (% of the queued slices the owner took back unstarted),
#   refused_pct, window_full_per_poll (receives the owner skipped, its reorder window full, per poll: up to 4,
#   two ports times its own and control's RX queue).
window_report() {
  local kind a b c e got=0
  while IFS=$'\t' read -r kind a b c e; do
    case $kind in
      R) result "$a" "$4" "$b" "$5" "$c" ;;
      L) log "$a" ;;
      F) log "$a"; threads_now; fail "$a (see $d/*.log, snapshots $1 $2)" ;;
      D) got=1 ;;
    esac
  done < <(awk -F= -v layout="$3" -v size="$4" -v run="$5" -v idle_list="${idle[$3]}" -v dur="$DURATION" \
      -v workers="$WORKERS" -v suffix="$SUFFIX" '
    BEGIN { n = split(idle_list, parts, " "); for (i = 1; i <= n; i++) { split(parts[i], kv, "="); idle[kv[1]] = kv[2] } }
    FNR == 1 { f++ }
    { v[f, $1] = $2 }
    function d(k) { return sprintf("%.0f", v[2, k] - v[1, k]) + 0 }
    function g(x) { return sprintf("%.6g", x) }
    function R(series, metric, value) { printf "R\t%s\t%s\t%s\n", series suffix, metric, value }
    function sumw(k,   w, t) { for (w = 0; w < workers; w++) t += d(k "_" w); return t }
    function direction(series,   p, pk, by, dn, rx, w, n_pk, n_by, n_done, n_rx, n_full, n_cpu, n_polls, n_busy, n_wait,
                       busy_cpu, bc, cpu, polls, wall, n_bc, cyc, rest, pct, i, ph, pk_w, cpu_w, busy_w, q, sp, rc, rf, shares, tsc, tsc_busy) {
      if (series == "encrypt") { p = "a_"; pk = "encrypted_packets"; by = "encrypted_bytes"; dn = "tx_outside_packets"; rx = "rx_inside_packets" }
      else { p = "b_"; pk = "decrypted_packets"; by = "decrypted_bytes"; dn = "tx_inside_packets"; rx = "rx_outside_packets" }
      wall = d("t"); tsc = v[2, p "tsc_hz"] + 0
      split("rx crypto tx", ph, " ")
      for (w = 0; w < workers; w++) {
        pk_w[w] = d(p pk "_" w); n_pk += pk_w[w]; n_by += d(p by "_" w); n_done += d(p dn "_" w); n_rx += d(p rx "_" w)
        n_full += d(p "drop_tx_full_" w); n_wait += d(p "wait_" w)
        cpu = d(p "cpu_" w); polls = d(p "worker_polls_" w)
        bc = cpu - (polls - d(p "worker_busy_polls_" w)) * idle[p w]
        if (bc < 0.05 * cpu) bc = 0.05 * cpu
        cpu_w[w] = cpu; busy_w[w] = sprintf("%.0f", bc) + 0; busy_cpu += busy_w[w]
        n_cpu += cpu; n_polls += polls; n_busy += d(p "worker_busy_polls_" w)
        n_bc += d(p "worker_busy_cycles_" w)
        # The other estimate of the busy time: the TSC cycles of the busy polls (counted by wggate), which also
        # count the time the thread was preempted inside one; a poller is always runnable, so the preempted share
        # of its busy polls is that of its whole time, wait / (cpu + wait), and what remains is what it ran.
        if (tsc > 0 && cpu + d(p "wait_" w) > 0) tsc_busy += d(p "worker_busy_cycles_" w) / tsc * 1e9 * cpu / (cpu + d(p "wait_" w))
        for (i = 1; i <= 3; i++) cyc[i] += d(p "cycles_" ph[i] "_" w)
      }
      if (n_pk <= 0) {
        printf "F\t%s: no packets in a %ss window at size %s (the worker(s): %.0f polls, %.0f ms on a CPU, %.0f ms runnable waiting for one, of %.0f ms)\n",
          series, dur, size, n_polls, n_cpu / 1e6, n_wait / 1e6, wall / 1e6
        return 0
      }
      if (busy_cpu <= 0 || wall <= 0) { printf "F\t%s: the worker(s) got no CPU time in a %ss window at size %s\n", series, dur, size; return 0 }
      R(series, "mpps_core", g(n_pk / busy_cpu * 1e3))
      R(series, "gbps_core", g(n_by * 8 / busy_cpu))
      R(series, "mpps_wall", g(n_done / wall * 1e3))
      R(series, "gbps_wall", g(n_by * (n_done / n_pk) * 8 / wall))
      R(series, "cpu_share", g(n_cpu / wall))
      R(series, "busy_share", g(busy_cpu / n_cpu))
      if (tsc_busy > 0) { R(series, "mpps_core_tsc", g(n_pk / tsc_busy * 1e3)); R(series, "busy_share_tsc", g(tsc_busy / n_cpu)) }
      # packets per poll that received: worker 0 owns the flow (queue 0) and does every receive
      R(series, "burst", g(d(p "worker_busy_polls_0") > 0 ? d(p rx "_0") / d(p "worker_busy_polls_0") : 0))
      R(series, "txfull_pct", g(100 * n_full / n_pk))
      if (n_bc > 0) {
        rest = 100
        for (i = 1; i <= 3; i++) {
          pct = g(100 * cyc[i] / n_bc)
          R(series, "share_" ph[i], pct)
          rest = g(rest - pct)
        }
        R(series, "share_other", rest)
      }
      shares = ""
      if (workers > 1) {
        for (w = 0; w < workers; w++) {
          R(series, "share_w" w, g(100 * pk_w[w] / n_pk))
          R(series, "cpu_w" w, g(cpu_w[w] / wall))
          R(series, "busy_w" w, g(cpu_w[w] > 0 ? busy_w[w] / cpu_w[w] : 0))
          shares = shares (w ? "/" : "") sprintf("%.0f", 100 * pk_w[w] / n_pk)
        }
        q = sumw(p "slices_queued"); sp = sumw(p "spread_packets"); rc = sumw(p "slices_reclaimed"); rf = sumw(p "slices_refused")
        R(series, "spread_pct", g(n_rx > 0 ? 100 * sp / n_rx : 0))
        R(series, "reclaimed_pct", g(q > 0 ? 100 * rc / q : 0))
        R(series, "refused_pct", g(q + rf > 0 ? 100 * rf / (q + rf) : 0))
        R(series, "window_full_per_poll", g(d(p "worker_polls_0") > 0 ? sumw(p "reorder_window_full") / d(p "worker_polls_0") : 0))
        shares = sprintf(", packets per worker %s %%, queued for helpers %s%%, reclaimed %s%%", shares,
          g(n_rx > 0 ? 100 * sp / n_rx : 0), g(q > 0 ? 100 * rc / q : 0))
      }
      printf "L\t%s%s %s run %s: %s Mpps per core, %s Mpps delivered, cpu share %s, busy %s, tx full %s%%%s\n", series, suffix, size, run,
        g(n_pk / busy_cpu * 1e3), g(n_done / wall * 1e3), g(n_cpu / wall), g(busy_cpu / n_cpu), g(100 * n_full / n_pk), shares
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

if [ "$layouts" = both ]; then
  gw_note "cores: control threads and testpmd main lcores on CPU $cpu_shared; testpmd gen on CPU $cpu_gen, sink on" \
    "CPU $cpu_sink, A's worker(s) on CPU ${cpus_a[*]}, B's on CPU ${cpus_b[*]}"
elif [ "$WORKERS" = 1 ]; then
  gw_note "cores: control threads and testpmd main lcores on CPU $cpu_shared; encrypt windows: A's worker and the sink's" \
    "forwarding lcore on CPU $measured, the generator's and B's worker on CPU $cpu_shared; decrypt windows: B's worker" \
    "and the generator on CPU $measured, A's worker and the sink on CPU $cpu_shared (the measured worker gets about" \
    "half a CPU and is the bottleneck)"
else
  gw_note "cores ($WORKERS workers per wggate): control threads and testpmd main lcores on CPU $cpu_shared; encrypt" \
    "windows: A's worker 0 (owner), the sink and B's helper worker(s) on CPU $measured, A's helper(s), the generator" \
    "and B's worker 0 on CPU $cpu_shared; decrypt windows: B's worker 0, the generator and A's helper(s) on CPU" \
    "$measured, B's helper(s), the sink and A's worker 0 on CPU $cpu_shared (each poller gets a share of a CPU; per" \
    "core counts the CPU time each worker thread really got)"
fi
gw_note "memory: $mem_note, -m 1024 per wggate, -m 512 per testpmd; memif rings 2^$RSIZE slots, 2048-byte buffers"

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
    gw_note "wggate $x died of signal $((st - 128)) at shutdown (the memif disconnect race above; measurements unaffected)"
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
    gw_note "testpmd $x died of signal $((st - 128)) at shutdown (its memif peer had gone; measurements unaffected)"
    log "testpmd $x died of signal $((st - 128)) at shutdown"
  fi
done
log "done"
