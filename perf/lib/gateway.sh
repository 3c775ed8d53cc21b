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

# ---- start: servers first (a memif client that finds no server does not retry)
log "cores: control threads and testpmd main lcores on CPU $cpu_shared; windows: $layouts (measured CPU $measured)"
spawn wggate-a "$GW_BIN" "${eal_common[@]}" -m 1024 --file-prefix "$prefix-a" --lcores "0@$cpu_shared,1@$cpu_a" \
  --vdev "$(memif 0 server in $mac_a_in)" --vdev "$(memif 1 server mid $mac_a_out)" \
  -- --config "$d/a.conf" --verbose
pid_a=$SPAWNED_PID
wait_log "$pid_a" "$d/wggate-a.log" "listening on UDP" 60
spawn wggate-b "$GW_BIN" "${eal_common[@]}" -m 1024 --file-prefix "$prefix-b" --lcores "0@$cpu_shared,1@$cpu_b" \
  --vdev "$(memif 2 client mid $mac_b_out)" --vdev "$(memif 3 server out $mac_b_in)" \
  -- --config "$d/b.conf" --verbose
pid_b=$SPAWNED_PID
wait_log "$pid_b" "$d/wggate-b.log" "listening on UDP" 60

# testpmd runs interactively, its commands written to a FIFO it reads as standard input (fd 7: gen, 8: sink).
mkfifo "$d/gen.fifo" "$d/sink.fifo"
testpmd_common=(--port-topology=loop --total-num-mbufs=32768 --burst=32 --nb-cores=1 -i)
spawn testpmd-gen stdbuf -oL sh -c 'exec "$@" <"$0"' "$d/gen.fifo" dpdk-testpmd "${eal_common[@]}" -m 512 \
  --file-prefix "$prefix-gen" --lcores "0@$cpu_shared,1@$cpu_gen" --vdev "$(memif 0 client in $mac_gen)" \
  -- "${testpmd_common[@]}" --rxq=1 --txq=2 --forward-mode=txonly --eth-peer="0,$mac_a_in" \
  --tx-ip=10.71.0.2,10.72.0.2 --txpkts=78
pid_gen=$SPAWNED_PID
exec 7>"$d/gen.fifo"
spawn testpmd-sink stdbuf -oL sh -c 'exec "$@" <"$0"' "$d/sink.fifo" dpdk-testpmd "${eal_common[@]}" -m 512 \
  --file-prefix "$prefix-sink" --lcores "0@$cpu_shared,1@$cpu_sink" --vdev "$(memif 0 client out $mac_sink)" \
  -- "${testpmd_common[@]}" --rxq=2 --txq=2 --forward-mode=icmpecho
pid_sink=$SPAWNED_PID
exec 8>"$d/sink.fifo"
on_cleanup "exec 7>&- 8>&-"
wait_log "$pid_gen" "$d/testpmd-gen.log" "Checking link statuses" 60
wait_log "$pid_sink" "$d/testpmd-sink.log" "Checking link statuses" 60
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
echo "start" >&8

# ---- measurement helpers
# testpmd_stat FD LOG FIELD: sends "show port stats 0", waits for the answer, prints FIELD (RX-packets, TX-packets).
testpmd_stat() {
  local fd=$1 file=$2 field=$3 before
  before=$(grep -c "NIC statistics for port 0" "$file" || true)
  echo "show port stats 0" >&"$fd"
  local end=$((SECONDS + 5))
  until [ "$(grep -c "NIC statistics for port 0" "$file" || true)" -gt "$before" ] && \
        [ "$(awk '/NIC statistics for port 0/ { n++ } n > '"$before"' && /######/ { e++ } END { print e + 0 }' "$file")" -ge 2 ]; do
    [ "$SECONDS" -lt "$end" ] || { log "no answer from testpmd to 'show port stats' ($file)"; echo 0; return; }
    sleep 0.02
  done
  awk -v f="$field:" '/NIC statistics for port 0/ { v = "" } { for (i = 1; i < NF; i++) if ($i == f && v == "") v = $(i + 1) } END { print (v == "" ? 0 : v) }' \
    <(awk '/NIC statistics for port 0/ { n++ } n > '"$before" "$file")
}
# scrape PORT PREFIX: worker 0's counters as PREFIX_name=value lines.
scrape() {
  curl -sf --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v p="$2" '
    /^wggate_/ && /worker="0"/ {
      name = $1; sub(/\{.*/, "", name); sub(/^wggate_/, "", name); sub(/_total$/, "", name)
      if (name == "drops") { r = $1; sub(/.*reason="/, "", r); sub(/".*/, "", r); name = "drop_" r }
      if (name == "worker_phase_cycles") { r = $1; sub(/.*phase="/, "", r); sub(/".*/, "", r); name = "cycles_" r }
      printf "%s_%s=%s\n", p, name, $2  # as text: mawk turns numbers above 2^31 into 6-digit floats
    }'
}
# snap FILE: one consistent-enough view of every counter the window needs.
snap() {
  {
    echo "t=$(now_ns)"
    echo "a_cpu=$(thread_cpu_ns "$pid_a" "$tid_a")"
    echo "b_cpu=$(thread_cpu_ns "$pid_b" "$tid_b")"
    scrape "$port_a" a
    scrape "$port_b" b
    echo "gen_tx=$(testpmd_stat 7 "$d/testpmd-gen.log" TX-packets)"
    echo "sink_rx=$(testpmd_stat 8 "$d/testpmd-sink.log" RX-packets)"
  } >"$1"
}
# delta S0 S1 KEY
delta() { awk -F= -v k="$3" 'FNR == 1 { f++ } $1 == k { v[f] = $2 } END { printf "%.0f\n", v[2] - v[1] }' "$1" "$2"; }

# Two CPUs cannot give four pollers a core each, and a worker starved of input makes a poor measurement (its
# empty polls read rings another CPU writes, which costs more than the calibrated empty poll). So the measured
# worker is made the bottleneck: it shares the measured CPU with one testpmd lcore and gets about half of it,
# while the other wggate, sharing CPU 0 with the other testpmd lcore, feeds it (encrypt window) or drains it
# (decrypt window); encrypting costs less than decrypting, so B keeps up with A's half... mostly, see TX full.
#   encrypt window: CPU 1 = A's worker + sink;  CPU 0 = gen + B's worker (+ both control threads, testpmd mains)
#   decrypt window: CPU 1 = B's worker + gen;   CPU 0 = A's worker + sink
pin() { taskset -pc "$1" "$2" >/dev/null; }
pin_layout() {  # pin_layout encrypt|decrypt|both
  case $1 in
    encrypt) pin "$measured" "$tid_a"; pin "$measured" "$tid_sink"; pin "$cpu_shared" "$tid_b"; pin "$cpu_shared" "$tid_gen" ;;
    decrypt) pin "$measured" "$tid_b"; pin "$measured" "$tid_gen"; pin "$cpu_shared" "$tid_a"; pin "$cpu_shared" "$tid_sink" ;;
  esac
}

# ---- idle-poll cost, per worker, before any traffic: CPU ns per empty poll
snap "$d/cal0"; sleep "$CALIBRATE"; snap "$d/cal1"
idle_a=$(calc "$(delta "$d/cal0" "$d/cal1" a_cpu) / $(delta "$d/cal0" "$d/cal1" a_worker_polls)")
idle_b=$(calc "$(delta "$d/cal0" "$d/cal1" b_cpu) / $(delta "$d/cal0" "$d/cal1" b_worker_polls)")
log "idle poll cost: A ${idle_a} ns, B ${idle_b} ns"
note "idle poll cost (calibrated before traffic): A ${idle_a} ns, B ${idle_b} ns per empty poll"

set_size() {
  echo "stop" >&7
  if [ "$1" = imix ]; then
    echo "set txpkts 78,0,0,0,0,0,0,512,0,0,0,844" >&7
    echo "set txsplit rand" >&7
  else
    echo "set txsplit off" >&7
    echo "set txpkts $(($1 + 14))" >&7
  fi
  echo "start" >&7
}

# report_direction S0 S1 SERIES SIZE RUN: the per-core and wall figures of one worker over one window.
report_direction() {
  local s0=$1 s1=$2 series=$3 size=$4 run=$5 w idle pk by done rx txfull cpu polls busy wall
  if [ "$series" = encrypt ]; then
    w=a idle=$idle_a pk=encrypted_packets by=encrypted_bytes done=tx_outside_packets rx=rx_inside_packets
  else
    w=b idle=$idle_b pk=decrypted_packets by=decrypted_bytes done=tx_inside_packets rx=rx_outside_packets
  fi
  wall=$(delta "$s0" "$s1" t)
  local n_pk n_by n_done n_rx n_full n_cpu n_polls n_busy
  n_pk=$(delta "$s0" "$s1" ${w}_$pk); n_by=$(delta "$s0" "$s1" ${w}_$by); n_done=$(delta "$s0" "$s1" ${w}_$done)
  n_rx=$(delta "$s0" "$s1" ${w}_$rx); n_full=$(delta "$s0" "$s1" ${w}_drop_tx_full)
  n_cpu=$(delta "$s0" "$s1" ${w}_cpu); n_polls=$(delta "$s0" "$s1" ${w}_worker_polls)
  n_busy=$(delta "$s0" "$s1" ${w}_worker_busy_polls)
  [ "$n_pk" -gt 0 ] || fail "$series: no packets in a ${DURATION}s window at size $size (see $d/*.log)"
  # CPU time spent on real work: the thread's CPU time less its empty polls (at least 5% of it).
  local busy_cpu
  busy_cpu=$(awk -v c="$n_cpu" -v p="$n_polls" -v b="$n_busy" -v i="$idle" \
    'BEGIN { v = c - (p - b) * i; if (v < 0.05 * c) v = 0.05 * c; printf "%.0f\n", v }')
  result "$series" "$size" mpps_core "$run" "$(calc "$n_pk / $busy_cpu * 1e3")"
  result "$series" "$size" gbps_core "$run" "$(calc "$n_by * 8 / $busy_cpu")"
  result "$series" "$size" mpps_wall "$run" "$(calc "$n_done / $wall * 1e3")"
  result "$series" "$size" gbps_wall "$run" "$(calc "$n_by * ($n_done / $n_pk) * 8 / $wall")"
  result "$series" "$size" cpu_share "$run" "$(calc "$n_cpu / $wall")"
  result "$series" "$size" busy_share "$run" "$(calc "$busy_cpu / $n_cpu")"
  result "$series" "$size" burst "$run" "$(calc "$n_busy > 0 ? $n_rx / $n_busy : 0")"
  result "$series" "$size" txfull_pct "$run" "$(calc "100 * $n_full / $n_pk")"
  # Where the busy polls' time went (TSC, wggate's own phase counters): shares are right on a shared CPU.
  local n_bc ph
  n_bc=$(delta "$s0" "$s1" ${w}_worker_busy_cycles)
  if [ "$n_bc" -gt 0 ]; then
    local rest=100
    for ph in rx crypto tx; do
      local pct
      pct=$(calc "100 * $(delta "$s0" "$s1" ${w}_cycles_$ph) / $n_bc")
      result "$series" "$size" "share_$ph" "$run" "$pct"
      rest=$(calc "$rest - $pct")
    done
    result "$series" "$size" share_other "$run" "$rest"
  fi
  log "$series $size run $run: $(calc "$n_pk / $busy_cpu * 1e3") Mpps per core," \
    "$(calc "$n_done / $wall * 1e3") Mpps delivered, cpu share $(calc "$n_cpu / $wall"), busy $(calc "$busy_cpu / $n_cpu")," \
    "tx full $(calc "100 * $n_full / $n_pk")%"
}

window() {  # window LAYOUT SIZE RUN
  local layout=$1 size=$2 run=$3
  pin_layout "$layout"
  sleep "$WARMUP"
  snap "$d/w0"; sleep "$DURATION"; snap "$d/w1"
  cp "$d/w0" "$d/snap-$size-$layout-$run.0"; cp "$d/w1" "$d/snap-$size-$layout-$run.1"
  case $layout in
    encrypt) report_direction "$d/w0" "$d/w1" encrypt "$size" "$run" ;;
    decrypt) report_direction "$d/w0" "$d/w1" decrypt "$size" "$run" ;;
    both) report_direction "$d/w0" "$d/w1" encrypt "$size" "$run"
          report_direction "$d/w0" "$d/w1" decrypt "$size" "$run" ;;
  esac
  local wall; wall=$(delta "$d/w0" "$d/w1" t)
  # The whole chain, as testpmd saw it: what the sink received per second of wall time.
  result "chain-$layout" "$size" mpps_wall "$run" "$(calc "$(delta "$d/w0" "$d/w1" sink_rx) / $wall * 1e3")"
  result "chain-$layout" "$size" gen_mpps_wall "$run" "$(calc "$(delta "$d/w0" "$d/w1" gen_tx) / $wall * 1e3")"
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
# testpmd quits. A wggate that still dies of a signal here is noted, not counted as a failed measurement.
echo "stop" >&7; echo "stop" >&8; sleep 0.3
kill "$pid_a" "$pid_b"
for x in a b; do
  pid_var=pid_$x
  if wait "${!pid_var}"; then :; else
    st=$?
    [ "$st" -gt 128 ] || fail "wggate $x exited with status $st (see $d/wggate-$x.log)"
    note "wggate $x died of signal $((st - 128)) at shutdown (the memif disconnect race above; measurements unaffected)"
    log "wggate $x died of signal $((st - 128)) at shutdown"
  fi
done
echo "quit" >&7; echo "quit" >&8
wait "$pid_gen" "$pid_sink" || true
log "done"
