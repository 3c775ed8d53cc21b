#!/usr/bin/env python3
"""Traffic and metrics for tests/e2e/gateway_spread_test.sh (issue 14: one peer's bursts spread over every
worker, sent in order). Every mode is bounded in time and stops by itself.

  udp-send DST_IP PORT COUNT RATE BURST SIZE [TIMES]
      A numbered UDP stream: COUNT datagrams of SIZE bytes (8-byte big-endian sequence number first), sent
      in bursts of BURST back to back, the bursts paced so that the average is RATE per second. Prints
      "start <unix time>", then "sent N in S s (R/s), send errors E"; TIMES gets when each one left (an
      array of float64 unix times, for udp-losses).
  udp-recv BIND_IP PORT COUNT IDLE DEADLINE [PREFIX]
      Receives that stream until all COUNT arrived, or nothing came for IDLE seconds after the first one,
      or DEADLINE seconds passed. Prints "ready" once bound, then one result line:
      "received R of N: out_of_order O, missing M, duplicates D, rcvbuf_errors B, ..." where out_of_order
      counts datagrams whose sequence number is lower than the highest one seen before them, missing the
      numbers never seen, and rcvbuf_errors the growth of this namespace's UDP RcvbufErrors (the kernel's
      socket buffers) while it ran. Then "first missing: ..." and "first out of order: ..." if any (with
      when they came). PREFIX.missing gets the missing numbers, one a line; PREFIX.ooo each datagram out of
      order: "number arrival-time".
  udp-losses PREFIX T0 T1 BEFORE AFTER
      From PREFIX.times (udp-send's TIMES), .missing and .ooo: which of the missing datagrams were sent from
      BEFORE seconds before T0 until T1 (the roam), in how many runs of consecutive numbers, which were sent
      at other times; how many of those out of order were sent from T0 until AFTER s past it, how many at
      other times ("RESULT" lines). T0 = 0: no roam, everything counts as "at other times".
  tcp-send DST_IP PORT FILE SECONDS CHUNK
      Connects and sends FILE, CHUNK bytes at a time, the chunks paced over SECONDS (each chunk leaves as a
      burst at whatever speed TCP allows; 0 seconds: as fast as possible). Prints "start <unix time>" once
      connected, then "sent N bytes in S s".
  tcp-recv BIND_IP PORT OUTFILE DEADLINE
      Accepts one connection and writes what it receives to OUTFILE until EOF. Prints "ready" once
      listening, then "received N bytes in S s".
  queues FILE_PREFIX
      Per RX queue packet counts of every port, from DPDK telemetry (ethdev xstats rx_q<N>_packets), as
      "port NAME queue N packets P" lines: which worker's queue the kernel's fanout put each packet on.
  queues-delta BEFORE AFTER WORKERS [OUTSIDE_PORT]
      The growth of those counts, with the worker that polls each queue, and per port the worker of its
      busiest queue; for OUTSIDE_PORT also what came off its two busiest queues.
  threads PID / threads-delta BEFORE AFTER LCORES
      Per thread of wggate its CPU time and run-queue wait (schedstat); the growth per worker thread, with
      the CPU its lcore is pinned to (LCORES, as given to --lcores).
  metrics-delta BEFORE AFTER
      Two Prometheus scrapes of wggate: prints the deltas the test reports (per-worker packets, spread
      slices, reorder window back-pressure, batch sizes, handshakes, drops) and "RESULT key value" lines
      the test checks.
"""
import array
import json
import re
import socket
import struct
import sys
import time


def rcvbuf_errors():
    # /proc/net/snmp is this network namespace's: "Udp: ... RcvbufErrors ..." header line, then values.
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    return int(lines[1][lines[0].index("RcvbufErrors")])


def udp_send(dst, port, count, rate, burst, size, times_path=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    sock.connect((dst, port))
    pad = bytes(size - 8)
    times = array.array("d", bytes(8 * count))  # when each one left (wall clock), for the loss analysis
    start = time.monotonic()
    print("start %.6f" % time.time(), flush=True)
    errors = 0
    seq = 0
    while seq < count:
        due = start + seq / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for _ in range(min(burst, count - seq)):
            msg = struct.pack("!Q", seq) + pad
            while True:
                try:
                    sock.send(msg)
                    break
                except OSError:  # ENOBUFS from a full device queue: try again, the number must not be lost
                    errors += 1
                    time.sleep(0.0002)
            times[seq] = time.time()
            seq += 1
    took = time.monotonic() - start
    if times_path:
        with open(times_path, "wb") as f:
            times.tofile(f)
    print("sent %d in %.1f s (%d/s), send errors %d" % (count, took, count / took, errors), flush=True)


def udp_recv(bind, port, count, idle, deadline, out_prefix=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, 33, 1 << 24)  # SO_RCVBUFFORCE (root): 16 MB, beyond rmem_max
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
    sock.bind((bind, port))
    errs0 = rcvbuf_errors()
    print("ready", flush=True)
    seen = bytearray(count)
    received = dups = ooo = 0
    highest = -1
    first_ooo = []
    ooo_events = []  # (sequence number, arrival time) of each datagram out of order
    first_at = None
    end = time.monotonic() + deadline
    while received < count:
        now = time.monotonic()
        limit = end - now
        if first_at is not None:
            limit = min(limit, idle)
        if limit <= 0:
            break
        sock.settimeout(limit)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        if first_at is None:
            first_at = time.monotonic()
        seq = struct.unpack("!Q", data[:8])[0]
        if seq >= count:
            continue
        if seen[seq]:
            dups += 1
            continue
        seen[seq] = 1
        received += 1
        if seq < highest:
            ooo += 1
            ooo_events.append((seq, time.time()))
            if len(first_ooo) < 10:
                first_ooo.append("%d after %d at %.3f" % (seq, highest, time.time()))
        else:
            highest = seq
    took = time.monotonic() - (first_at or time.monotonic())
    missing = [i for i in range(count) if not seen[i]]
    print("received %d of %d: out_of_order %d, missing %d, duplicates %d, rcvbuf_errors %d (in %.1f s)"
          % (received, count, ooo, len(missing), dups, rcvbuf_errors() - errs0, took), flush=True)
    if out_prefix:
        with open(out_prefix + ".missing", "w") as f:
            f.write("".join("%d\n" % i for i in missing))
        with open(out_prefix + ".ooo", "w") as f:
            f.write("".join("%d %.6f\n" % e for e in ooo_events))
    if missing:
        print("first missing: %s" % " ".join(str(i) for i in missing[:20]), flush=True)
    if first_ooo:
        print("first out of order: %s" % ", ".join(first_ooo), flush=True)


def udp_losses(prefix, t0, t1, before, after):
    """Which lost datagrams were sent from `before` seconds before the remote closed its old port (t0; what was
    then on its way or in that socket's queue) until wggate's endpoint was seen to follow (t1), in how many
    runs of consecutive numbers, and which were sent at other times; which datagrams out of order were sent
    from t0 until `after` s past it (the queue change), and which at other times. t0 = 0: no roam (every
    loss and every datagram out of order is "outside")."""
    times = array.array("d")
    with open(prefix + ".times", "rb") as f:
        times.frombytes(f.read())
    with open(prefix + ".missing") as f:
        missing = [int(l) for l in f if l.strip()]
    with open(prefix + ".ooo") as f:
        ooo = [(int(w[0]), float(w[1])) for w in (l.split() for l in f) if len(w) == 2]
    roam = t0 > 0

    def in_roam(i):
        return roam and t0 - before <= times[i] <= t1

    inside = [i for i in missing if in_roam(i)]
    outside = [i for i in missing if not in_roam(i)]
    if roam:
        print("lost %d: %d sent during the roam (%.3f .. %.3f), %d outside it%s" % (
            len(missing), len(inside), t0 - before, t1, len(outside),
            (" (first outside: %s)" % ", ".join("%d sent at %.3f" % (i, times[i]) for i in outside[:10]))
            if outside else ""))
    else:
        print("lost %d%s" % (len(missing), (" (first: %s)" % ", ".join(
            "%d sent at %.3f" % (i, times[i]) for i in outside[:10])) if outside else ""))
    if inside:
        print("sent during the roam and lost: %d .. %d, sent %.3f .. %.3f (%.3f .. %.3f s after the move)" % (
            inside[0], inside[-1], times[inside[0]], times[inside[-1]], times[inside[0]] - t0, times[inside[-1]] - t0))
    runs = sum(1 for k, i in enumerate(inside) if k == 0 or inside[k - 1] != i - 1)
    # A datagram out of order arrived after a higher number: it is the one that was overtaken. When it left
    # the sender (not when it arrived) says whether it was one of those still on the old queue at the move.
    ooo_win = [(q, t) for q, t in ooo if roam and t0 <= times[q] <= t0 + after]
    ooo_out = [(q, t) for q, t in ooo if not (roam and t0 <= times[q] <= t0 + after)]
    if ooo:
        rel = sorted(times[q] - t0 for q, _ in ooo) if roam else []
        print("out of order %d%s; first: %s" % (
            len(ooo),
            (": %d sent within %.1f s after the move, %d at other times (sent %.3f .. %.3f s after the move)"
             % (len(ooo_win), after, len(ooo_out), rel[0], rel[-1])) if roam else "",
            ", ".join("%d sent at %.3f, arrived %.3f s later" % (q, times[q], t - times[q]) for q, t in ooo[:5])))
    print("RESULT lost_in_roam %d" % len(inside))
    print("RESULT lost_in_roam_runs %d" % runs)
    print("RESULT lost_outside %d" % len(outside))
    print("RESULT ooo_in_window %d" % len(ooo_win))
    print("RESULT ooo_outside %d" % len(ooo_out))


def tcp_send(dst, port, path, seconds, chunk):
    with open(path, "rb") as f:
        data = f.read()
    sock = socket.create_connection((dst, port), timeout=30)
    sock.settimeout(60)
    n_chunks = (len(data) + chunk - 1) // chunk
    start = time.monotonic()
    print("start %.6f" % time.time(), flush=True)
    for i in range(n_chunks):
        if seconds > 0:
            delay = start + i * seconds / n_chunks - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sock.sendall(data[i * chunk:(i + 1) * chunk])
    sock.shutdown(socket.SHUT_WR)
    # The receiver closes after EOF: wait for it, so that "sent" means it all arrived.
    sock.recv(1)
    sock.close()
    took = time.monotonic() - start
    print("sent %d bytes in %.1f s" % (len(data), took), flush=True)


def tcp_recv(bind, port, path, deadline):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((bind, port))
    srv.listen(1)
    srv.settimeout(deadline)
    print("ready", flush=True)
    conn, _ = srv.accept()
    conn.settimeout(60)
    start = time.monotonic()
    n = 0
    with open(path, "wb") as f:
        while True:
            buf = conn.recv(1 << 20)
            if not buf:
                break
            f.write(buf)
            n += len(buf)
    conn.close()
    print("received %d bytes in %.1f s" % (n, time.monotonic() - start), flush=True)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = SAMPLE.match(line)
            if not m:
                continue
            labels = tuple(sorted((k, v) for k, v in LABEL.findall(m.group(2) or "") if k != "device"))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def metrics_delta(before_path, after_path):
    before, after = scrape(before_path), scrape(after_path)

    def d(key):
        return after.get(key, 0.0) - before.get(key, 0.0)

    def series(name):  # {labels dict as tuple: delta} of one family
        return {k[1]: d(k) for k in after if k[0] == name}

    def by(name, label):
        return {dict(l).get(label): v for l, v in series(name).items()}

    workers = sorted({dict(l)["worker"] for (n, l) in after if n == "wggate_encrypted_packets_total"},
                     key=lambda w: (not w.isdigit(), int(w) if w.isdigit() else 0))
    numbered = [w for w in workers if w.isdigit()]
    for direction, name in (("encrypt", "wggate_encrypted_packets_total"),
                            ("decrypt", "wggate_decrypted_packets_total")):
        per = by(name, "worker")
        total = sum(per.values())
        shares = {w: (per.get(w, 0) / total if total else 0.0) for w in workers}
        print("%s: %d packets; per worker: %s" % (direction, total, ", ".join(
            "%s %d (%.1f %%)" % (w, per.get(w, 0), 100 * shares[w]) for w in workers)))
        print("RESULT %s_total %d" % (direction, total))
        print("RESULT %s_workers_ge10 %d" % (direction, sum(1 for w in numbered if shares[w] >= 0.10)))
        print("RESULT %s_shares %s" % (direction, ",".join("%s:%.1f%%" % (w, 100 * shares[w]) for w in numbered)))
    slices = series("wggate_spread_slices_total")
    print("spread slices (queued/refused/reclaimed/helped) per worker: %s" % "; ".join(
        "%s %s" % (w, "/".join("%d" % slices.get(tuple(sorted((("kind", k), ("worker", w)))), 0)
                               for k in ("queued", "refused", "reclaimed", "helped"))) for w in numbered))
    for k in ("queued", "refused", "reclaimed", "helped"):
        print("RESULT slices_%s %s" % (k, ",".join(
            "%s:%d" % (w, slices.get(tuple(sorted((("kind", k), ("worker", w)))), 0)) for w in numbered)))
    bursts = series("wggate_spread_bursts_total")
    print("RESULT bursts %s" % ",".join("%s:%s" % (w, "/".join(
        "%d" % bursts.get(tuple(sorted((("decision", k), ("worker", w)))), 0) for k in ("spread", "small", "light")))
        for w in numbered))
    spread_pk = by("wggate_spread_packets_total", "worker")
    print("spread packets queued for others per worker: %s" % ", ".join(
        "%s %d" % (w, spread_pk.get(w, 0)) for w in numbered))
    full = by("wggate_reorder_window_full_total", "worker")
    print("reorder window full (receive skipped) per worker: %s" % ", ".join(
        "%s %d" % (w, full.get(w, 0)) for w in numbered))
    print("RESULT window_full %s" % ",".join("%s:%d" % (w, full.get(w, 0)) for w in numbered))
    # Batch sizes: jobs per engine call, mean and distribution over the transfer.
    for op in ("seal", "open"):
        parts = []
        for w in workers:
            lw = (("op", op), ("worker", w))
            cnt = d(("wggate_crypto_batch_size_count", lw))
            s = d(("wggate_crypto_batch_size_sum", lw))
            buckets = sorted(((float(dict(l)["le"]), v) for l, v in series("wggate_crypto_batch_size_bucket").items()
                              if dict(l).get("op") == op and dict(l).get("worker") == w), key=lambda x: x[0])
            dist, prev = [], 0.0
            for le, v in buckets:
                if v - prev > 0:
                    dist.append("<=%s:%d" % ("inf" if le == float("inf") else "%g" % le, v - prev))
                prev = v
            parts.append("%s calls %d mean %.1f [%s]" % (w, cnt, s / cnt if cnt else 0, " ".join(dist)))
        print("batch size %s: %s" % (op, "; ".join(parts)))
    # Per worker: what reached its queues, how much of it went to others, and where its busy time went.
    rx_in, rx_out = by("wggate_rx_inside_packets_total", "worker"), by("wggate_rx_outside_packets_total", "worker")
    tsc = after.get(("wggate_tsc_hz", ()), 0.0) or 1.0
    busy_c = by("wggate_worker_busy_cycles_total", "worker")
    phase_c = series("wggate_worker_phase_cycles_total")
    for w in numbered:
        rx = rx_in.get(w, 0) + rx_out.get(w, 0)
        sq = slices.get(tuple(sorted((("kind", "queued"), ("worker", w)))), 0)
        sr = slices.get(tuple(sorted((("kind", "reclaimed"), ("worker", w)))), 0)
        phases = ", ".join("%s %.0f" % (ph, 1000 * phase_c.get(tuple(sorted((("phase", ph), ("worker", w)))), 0) / tsc)
                           for ph in ("rx", "crypto", "tx", "dispatch", "reorder"))
        print("worker %s: received %d (inside %d, outside %d); queued %d of them for others (%.1f %%) in %d slices, "
              "%d taken back (%.0f %%); busy %.0f ms (%s)" % (
                  w, rx, rx_in.get(w, 0), rx_out.get(w, 0), spread_pk.get(w, 0),
                  100.0 * spread_pk.get(w, 0) / rx if rx else 0.0, sq, sr, 100.0 * sr / sq if sq else 0.0,
                  1000 * busy_c.get(w, 0) / tsc, phases))
    busy = by("wggate_worker_busy_polls_total", "worker")
    polls = by("wggate_worker_polls_total", "worker")
    print("busy polls per worker: %s" % ", ".join("%s %d/%d" % (w, busy.get(w, 0), polls.get(w, 0)) for w in workers))
    completed = sum(series("wggate_handshakes_completed_total").values())
    initiated = d(("wggate_handshakes_initiated_total", ()))
    print("handshakes: completed +%d (%s), initiated +%d" % (completed, ", ".join(
        "%s +%d" % (dict(l).get("role"), v) for l, v in series("wggate_handshakes_completed_total").items()),
        initiated))
    print("RESULT handshakes_completed %d" % completed)
    print("RESULT handshakes_initiated %d" % initiated)
    drops = {}
    for l, v in series("wggate_drops_total").items():
        r = dict(l).get("reason")
        drops[r] = drops.get(r, 0) + v
    grown = {r: v for r, v in drops.items() if v > 0}
    print("drops grown: %s" % (", ".join("%s +%d" % kv for kv in sorted(grown.items())) or "none"))
    print("RESULT replay_drops %d" % drops.get("replay", 0))
    print("RESULT replay_label_seen %d" % (1 if "replay" in drops else 0))


def threads(pid):
    """Per thread of PID: "tid comm ran_ns waited_ns timeslices" (schedstat: time on a CPU, time runnable on a
    run queue but not running, times scheduled in)."""
    import os
    base = "/proc/%s/task" % pid
    for tid in sorted(os.listdir(base), key=int):
        try:
            with open("%s/%s/comm" % (base, tid)) as f:
                comm = f.read().strip()
            with open("%s/%s/schedstat" % (base, tid)) as f:
                ran, waited, slices = f.read().split()[:3]
        except OSError:
            continue
        print("%s %s %s %s %s" % (tid, comm, ran, waited, slices))


def rows(path, width):
    """The lines of a snapshot file split into fields, those with `width` fields only."""
    with open(path) as f:
        return [w for w in (line.split() for line in f) if len(w) == width]


def threads_delta(before_path, after_path, lcores):
    """The CPU time each worker thread got over the phase, and how long it waited for a CPU; DPDK names a
    worker's thread rte-worker-<lcore>; workers are the non-main lcores in order."""
    def load(path):
        return {w[0]: (w[1], int(w[2]), int(w[3]), int(w[4])) for w in rows(path, 5)}
    cpu_of = {}
    for part in lcores.split(","):
        if "@" in part:
            l, c = part.split("@", 1)
            cpu_of[l] = c
    before, after = load(before_path), load(after_path)
    worker_lcores = sorted((int(c.split("-")[-1]) for c, *_ in after.values() if c.startswith("rte-worker-")))
    parts = []
    for tid, (comm, ran, waited, sl) in sorted(after.items(), key=lambda kv: int(kv[0])):
        b = before.get(tid, (comm, 0, 0, 0))
        dr, dw, ds = ran - b[1], waited - b[2], sl - b[3]
        if comm.startswith("rte-worker-"):
            lc = int(comm.split("-")[-1])
            name = "worker %d (lcore %d, cpu %s)" % (worker_lcores.index(lc), lc, cpu_of.get(str(lc), "?"))
        elif dr < 5e6:
            continue  # idle helper threads
        else:
            name = comm
        parts.append("%s ran %.2f s, waited %.2f s, %d slices" % (name, dr / 1e9, dw / 1e9, ds))
    print("threads (schedstat over the phase): %s" % "; ".join(parts))


def telemetry(sock, cmd):
    sock.send(cmd.encode())
    return json.loads(sock.recv(1 << 20).decode())


def queues(prefix):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix)
    json.loads(sock.recv(1 << 16).decode())  # the greeting
    for port in telemetry(sock, "/ethdev/list")["/ethdev/list"]:
        name = telemetry(sock, "/ethdev/info,%d" % port)["/ethdev/info"].get("name", str(port))
        xstats = telemetry(sock, "/ethdev/xstats,%d" % port)["/ethdev/xstats"]
        for key, v in sorted(xstats.items()):
            m = re.match(r"rx_q(\d+)_packets$", key)
            if m:
                print("port %s queue %s packets %d" % (name, m.group(1), v))


def queues_delta(before_path, after_path, workers, outside=None):
    """Queue q < workers is worker q's; the last one (control's) is polled by worker 0 (worker.h)."""
    def load(path):
        return {(w[1], int(w[3])): int(w[5]) for w in rows(path, 6)}

    def worker(q):
        return q if q < workers else 0
    before, after = load(before_path), load(after_path)
    for port in sorted({p for p, _ in after}):
        qs = sorted(q for p, q in after if p == port)
        delta = {q: after[(port, q)] - before.get((port, q), 0) for q in qs}
        print("rx per queue on %s: %s" % (port, ", ".join(
            "q%d (worker %d) %d" % (q, worker(q), delta[q]) for q in qs)))
        top = max(qs, key=lambda q: delta[q])
        print("RESULT top_worker_%s %d" % (port, worker(top)))
        if port == outside:
            # The peer's outer flow is one 5-tuple before a roam and one after: the kernel's fanout hash puts
            # each on one queue. What came on the others (less a few ARP) was rolled over: af_packet's
            # PACKET_FANOUT_FLAG_ROLLOVER moves a busy flow to another queue when its ring is 3/4 full, and
            # that other worker may pass it on before the packets still waiting on the first queue.
            rest = sum(sorted(delta.values())[:-2])
            print("RESULT rolled_over %d" % rest)
            print("outside packets off the outer flow's 2 busiest queues (af_packet fanout rollover, ARP): %d" % rest)


def main():
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "udp-send":
        udp_send(a[0], int(a[1]), int(a[2]), float(a[3]), int(a[4]), int(a[5]), a[6] if len(a) > 6 else None)
    elif mode == "udp-recv":
        udp_recv(a[0], int(a[1]), int(a[2]), float(a[3]), float(a[4]), a[5] if len(a) > 5 else None)
    elif mode == "udp-losses":
        udp_losses(a[0], float(a[1]), float(a[2]), float(a[3]), float(a[4]))
    elif mode == "tcp-send":
        tcp_send(a[0], int(a[1]), a[2], float(a[3]), int(a[4]))
    elif mode == "tcp-recv":
        tcp_recv(a[0], int(a[1]), a[2], float(a[3]))
    elif mode == "queues":
        queues(a[0])
    elif mode == "queues-delta":
        queues_delta(a[0], a[1], int(a[2]), a[3] if len(a) > 3 else None)
    elif mode == "threads":
        threads(a[0])
    elif mode == "threads-delta":
        threads_delta(a[0], a[1], a[2])
    elif mode == "metrics-delta":
        metrics_delta(a[0], a[1])
    else:
        sys.exit("unknown mode %s" % mode)


if __name__ == "__main__":
    main()
