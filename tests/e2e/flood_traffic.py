#!/usr/bin/env python3
"""Traffic for tests/e2e/gateway_flood_test.sh: floods from the network that must not stall the gateway
(issue 12). Every mode is bounded in time and stops by itself; it sends only towards the test's own
namespaces (the addresses it is given), and the spoofed sources it uses must be black-holed by the caller.

  hs-flood PUBKEY DST_IP DST_PORT SRC_NET SRC_PREFIXLEN RATE SECONDS
      WireGuard handshake initiations (148 bytes, type 1) with a VALID mac1 for the responder's public key
      PUBKEY (base64, as `wg pubkey` prints it): mac1 = BLAKE2s-128 keyed with BLAKE2s-256("mac1----" ||
      PUBKEY), over the first 116 bytes; mac2 is zero (no cookie), everything else random. Sent from a raw
      IPv4 socket with IP_HDRINCL at RATE per second for SECONDS, from 16384 random addresses in
      SRC_NET/SRC_PREFIXLEN with random ports (each with its own message, used round robin), as if
      forwarded by the router the sender runs on. Prints "sent N in S s: R/s" (the achieved rate), then
      the send errors and the CPU time the sender used.
  arp-spoof IFACE DST_MAC CLAIMED_IP BOGUS_MAC TARGET_IP RATE SECONDS
      Unsolicited ARP replies on IFACE (AF_PACKET) to DST_MAC saying "CLAIMED_IP is at BOGUS_MAC" (Ethernet
      source BOGUS_MAC too), addressed to TARGET_IP, at RATE per second for SECONDS. Prints "sent N", then
      "first <unix time>" and "last <unix time>" of the first and last one sent (the test measures the
      tunnel during the attack and its recovery after it from them).
"""
import base64
import hashlib
import os
import resource
import socket
import struct
import sys
import time

MSG_INITIATION_LEN = 148
POOL = 16384  # distinct packets (sources, messages) of the handshake flood
MAC1_OFFSET = 116  # type(1) reserved(3) sender(4) ephemeral(32) static(32+16) timestamp(12+16)


def mac1_key(pub: bytes) -> bytes:
    return hashlib.blake2s(b"mac1----" + pub, digest_size=32).digest()


def initiation(key: bytes) -> bytes:
    body = struct.pack("<BxxxI", 1, int.from_bytes(os.urandom(4), "little")) + os.urandom(MAC1_OFFSET - 8)
    mac1 = hashlib.blake2s(body, key=key, digest_size=16).digest()
    msg = body + mac1 + bytes(16)  # mac2 zero: no cookie
    assert len(msg) == MSG_INITIATION_LEN
    return msg


def hs_flood(pub_b64, dst_ip, dst_port, src_net, src_len, rate, seconds):
    key = mac1_key(base64.b64decode(pub_b64))
    base = struct.unpack("!I", socket.inet_aton(src_net))[0] & ~((1 << (32 - src_len)) - 1) & 0xFFFFFFFF
    host_mask = (1 << (32 - src_len)) - 1
    dst = socket.inet_aton(dst_ip)
    udp_len = 8 + MSG_INITIATION_LEN
    # A pool of whole packets, each its own source address and port, sender index and "ephemeral", sent round
    # robin: building them in the loop would cost the sender its rate, not the gateway anything. The kernel
    # fills the IP checksum (and the id, left 0) for IP_HDRINCL; UDP checksum 0 means none.
    pool = []
    for i in range(POOL):
        r = int.from_bytes(os.urandom(4), "little")
        src = struct.pack("!I", base | (r & host_mask))
        sport = 1024 + (r >> 16) % 64000
        pool.append(struct.pack("!BBHHHBBH4s4sHHHH", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0, src, dst,
                                sport, dst_port, udp_len, 0) + initiation(key))
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL implied
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    sock.connect((dst_ip, 0))
    send = sock.send
    sent = errors = 0
    start = time.monotonic()
    end = start + seconds
    now = start
    while now < end:
        # Catch up with the schedule, at most 256 at a time between two looks at the clock.
        todo = min(int((now - start) * rate) - sent - errors, 256)
        for k in range(todo):
            try:
                send(pool[(sent + errors) % POOL])
                sent += 1
            except OSError:
                errors += 1
        if todo < 256:
            time.sleep(0.0005)
        now = time.monotonic()
    took = time.monotonic() - start
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print("sent %d in %.1f s: %d/s" % (sent, took, sent / took), flush=True)
    print("send errors %d, sender CPU %.1f s user + %.1f s system" % (errors, ru.ru_utime, ru.ru_stime), flush=True)


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def arp_spoof(iface, dst_mac, claimed_ip, bogus_mac, target_ip, rate, seconds):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    bogus = mac_bytes(bogus_mac)
    dst = mac_bytes(dst_mac)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, bogus, socket.inet_aton(claimed_ip),
                      dst, socket.inet_aton(target_ip))
    frame = dst + bogus + b"\x08\x06" + arp + bytes(18)  # padded to the 60-byte minimum
    n = int(rate * seconds)
    start = time.monotonic()
    first = last = 0.0
    for k in range(n):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sock.send(frame)
        last = time.time()
        first = first or last
    print("sent %d" % n, flush=True)
    print("first %.6f" % first, flush=True)
    print("last %.6f" % last, flush=True)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "hs-flood":
        hs_flood(args[0], args[1], int(args[2]), args[3], int(args[4]), float(args[5]), float(args[6]))
    elif mode == "arp-spoof":
        arp_spoof(args[0], args[1], args[2], args[3], args[4], float(args[5]), float(args[6]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
