#!/usr/bin/env python3
"""Garbage for a WireGuard listen port, sent over a plain UDP socket (no scapy) by gateway_abuse_test.sh while
a legitimate transfer runs. Each round sends one of every kind:

  random         random bytes, random length 0..1400
  truncated      1..31 bytes starting with type 4 (shorter than a transport header + tag), type 1 of 147
                 bytes, type 2 of 91 bytes
  bad_length     handshake messages longer than their size: type 1 of 149 bytes, type 3 of 65 bytes
  unknown_type   types 5..255 with zero reserved bytes
  unknown_index  a well-formed transport message for a receiver index nobody owns
  replay         a real transport message read from a live capture (PCAP), re-sent verbatim
  bad_tag        a real transport message with its counter moved far ahead (so it fails authentication)

Usage: underlay_abuse.py HOST PORT PCAP STOP_FILE [--rate PPS] [--max-seconds S]
Prints "started" once the first round is out, and per-kind totals when STOP_FILE appears or time runs out.
"""
import argparse
import os
import random
import socket
import struct
import sys
import time


class PcapTail:
    """Reads the UDP payloads of WireGuard transport messages from an Ethernet pcap that tcpdump is still
    writing, parsing only what was appended since the last call."""

    def __init__(self, path):
        self.path = path
        self.buf = b""
        self.pos = 0          # file offset read so far
        self.endian = None

    def new_transport_payloads(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                chunk = f.read()
        except OSError:
            return []
        self.pos += len(chunk)
        self.buf += chunk
        out = []
        if self.endian is None:
            if len(self.buf) < 24:
                return out
            magic = self.buf[:4]
            if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
                self.endian = "<"
            elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
                self.endian = ">"
            else:
                raise SystemExit(f"{self.path}: not a pcap file")
            self.buf = self.buf[24:]
        off = 0
        while off + 16 <= len(self.buf):
            incl = struct.unpack(self.endian + "I", self.buf[off + 8:off + 12])[0]
            if off + 16 + incl > len(self.buf):
                break  # record still being written
            payload = udp_payload(self.buf[off + 16:off + 16 + incl])
            off += 16 + incl
            if payload is not None and len(payload) >= 32 and payload[:4] == b"\x04\x00\x00\x00":
                out.append(payload)
        self.buf = self.buf[off:]
        return out


def udp_payload(frame):
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
        l3 = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        udp = ip[l3:total]
    elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
        udp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
    else:
        return None
    if len(udp) < 8:
        return None
    return bytes(udp[8:struct.unpack("!H", udp[4:6])[0]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("pcap")
    ap.add_argument("stop_file")
    ap.add_argument("--rate", type=float, default=800.0, help="packets per second, all kinds together")
    ap.add_argument("--max-seconds", type=float, default=60.0)
    args = ap.parse_args()

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    dest = (args.host, args.port)
    rnd = random.Random()
    sent = {k: 0 for k in ("random", "truncated", "bad_length", "unknown_type", "unknown_index", "replay",
                           "bad_tag")}
    tail = PcapTail(args.pcap)
    captured = []
    started = False
    deadline = time.monotonic() + args.max_seconds
    interval = 11.0 / args.rate  # one round is 11 packets
    next_round = time.monotonic()
    while time.monotonic() < deadline and not os.path.exists(args.stop_file):
        if len(captured) < 1024:
            captured += tail.new_transport_payloads()
        msgs = [
            ("random", rnd.randbytes(rnd.randint(0, 1400))),
            ("truncated", b"\x04" + rnd.randbytes(rnd.randint(0, 2))),
            ("truncated", b"\x04\x00\x00\x00" + rnd.randbytes(rnd.randint(0, 27))),
            ("truncated", b"\x01\x00\x00\x00" + rnd.randbytes(143)),  # initiation of 147 bytes
            ("truncated", b"\x02\x00\x00\x00" + rnd.randbytes(87)),   # response of 91 bytes
            ("bad_length", b"\x01\x00\x00\x00" + rnd.randbytes(145)),  # initiation of 149 bytes
            ("bad_length", b"\x03\x00\x00\x00" + rnd.randbytes(61)),   # cookie reply of 65 bytes
            ("unknown_type", bytes([rnd.randint(5, 255), 0, 0, 0]) + rnd.randbytes(rnd.randint(0, 200))),
            ("unknown_index", b"\x04\x00\x00\x00" + rnd.randbytes(4) + struct.pack("<Q", rnd.randint(0, 1 << 20))
             + rnd.randbytes(16 * rnd.randint(1, 8))),
        ]
        if captured:
            orig = rnd.choice(captured)
            msgs.append(("replay", orig))
            counter = struct.unpack("<Q", orig[8:16])[0] + (1 << 24) + rnd.randint(0, 1 << 20)
            msgs.append(("bad_tag", orig[:8] + struct.pack("<Q", counter) + orig[16:]))
        for kind, msg in msgs:
            sock.sendto(msg, dest)
            sent[kind] += 1
        if not started:
            print("started", flush=True)
            started = True
        next_round += interval
        delay = next_round - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_round = time.monotonic()
    print("sent " + " ".join(f"{k}={v}" for k, v in sent.items()), flush=True)
    if sent["replay"] == 0:
        print("no transport messages found in " + args.pcap, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
