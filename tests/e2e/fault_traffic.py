#!/usr/bin/env python3
"""Traffic for tests/e2e/gateway_faults_test.sh: what a network, a host or a local client may do that must not
stall the gateway. Every mode is bounded in count and time and stops by itself; it sends only to the test's
own namespaces (the addresses it is given).

  udp-fanout  PREFIX FIRST COUNT BURST RATE SECONDS
      From an ordinary UDP socket: BURST datagrams to PREFIX.<i>.1 for each i in FIRST..FIRST+COUNT-1 at once,
      then RATE per second to each for SECONDS (monitoring traffic towards offline sites).
  foreign-mac IFACE DST_MAC SRC_IP DST_IP PORT COUNT MARKER
      COUNT Ethernet frames on IFACE (AF_PACKET) to DST_MAC carrying UDP SRC_IP -> DST_IP:PORT with MARKER.
  icmp-flood  DST_IP RATE SECONDS
      ICMP echo requests from a raw socket at RATE per second; prints how many were sent.
  slow-uapi   SOCKET SECONDS INTERVAL
      A UAPI client that sends one byte every INTERVAL seconds and never finishes its request; when the server
      cuts it off it connects again. Prints the number of connections it made.
"""
import socket
import struct
import sys
import time


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def udp_fanout(prefix, first, count, burst, rate, seconds):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    targets = [("%s.%d.1" % (prefix, i), 9) for i in range(first, first + count)]
    payload = b"offline-site-monitoring" * 4
    sent = 0
    for _ in range(burst):
        for t in targets:
            try:
                sock.sendto(payload, t)
                sent += 1
            except OSError:
                pass  # a full socket buffer: the point is pressure, not every datagram
    end = time.monotonic() + seconds
    tick = 1.0 / rate
    nxt = time.monotonic()
    while time.monotonic() < end:
        for t in targets:
            try:
                sock.sendto(payload, t)
                sent += 1
            except OSError:
                pass
        nxt += tick
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(sent)


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def foreign_mac(iface, dst_mac, src_ip, dst_ip, port, count, marker):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    src_mac = sock.getsockname()[4]
    data = marker.encode()
    udp_len = 8 + len(data)
    udp = struct.pack("!HHHH", 40000, int(port), udp_len, 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    frame = mac_bytes(dst_mac) + src_mac + b"\x08\x00" + ip + udp
    for _ in range(int(count)):
        sock.send(frame)
        time.sleep(0.01)
    print(count)


def icmp_flood(dst_ip, rate, seconds):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    sent = 0
    end = time.monotonic() + seconds
    start = time.monotonic()
    seq = 0
    while time.monotonic() < end:
        # Send in slices of 1 ms worth, then catch up with the schedule.
        due = int((time.monotonic() - start) * rate)
        while sent < due:
            seq = (seq + 1) & 0xFFFF
            hdr = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq) + b"flood" * 8
            pkt = hdr[:2] + struct.pack("!H", checksum(hdr)) + hdr[4:]
            try:
                sock.sendto(pkt, (dst_ip, 0))
            except OSError:
                pass
            sent += 1
        time.sleep(0.0005)
    print(sent)


def slow_uapi(path, seconds, interval):
    end = time.monotonic() + seconds
    connections = 0
    while time.monotonic() < end:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            connections += 1
            s.sendall(b"set=1\n")
            while time.monotonic() < end:
                s.sendall(b"x")  # a line that never ends: the request is never complete
                time.sleep(interval)
        except OSError:
            time.sleep(interval)  # cut off by the server: come back
        finally:
            s.close()
    print(connections)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "udp-fanout":
        udp_fanout(args[0], int(args[1]), int(args[2]), int(args[3]), float(args[4]), float(args[5]))
    elif mode == "foreign-mac":
        foreign_mac(*args)
    elif mode == "icmp-flood":
        icmp_flood(args[0], float(args[1]), float(args[2]))
    elif mode == "slow-uapi":
        slow_uapi(args[0], float(args[1]), float(args[2]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
