#!/usr/bin/env python3
"""flood_frames.py — live test helper: the flood frames bench/weir_flood does not write, as a pcap.

usage: flood_frames.py frag6 OUT.pcap DST_MAC INCOMPLETE TOO_MANY FRAGMENTS
       flood_frames.py big OUT.pcap DST_MAC COUNT LENGTH
       flood_frames.py syn OUT.pcap DST_MAC WORKERS WORKER PORT COUNT
frag6: INCOMPLETE datagrams of 8 fragments whose second never comes (each is held until the
  defrag.memcap evicts it), then TOO_MANY datagrams of FRAGMENTS fragments each, one after the
  other (more than defrag.max_fragments gives the datagram up). Each datagram is a TCP segment from
  its own address fd00:96::1:N to fd00:96::2 port 8080 (send_fragments.py's segment) in fragments of
  8 bytes. IPv6, because net_af_packet ports have the kernel reassemble IPv4 fragments before weir
  sees them, and weir_flood writes IPv4 only.
big: COUNT TCP segments of LENGTH-byte frames (IPv4, 10.97.0.N:40000+N to 10.96.0.2:8080).
syn: COUNT SYNs to 10.96.0.2:PORT from the first address 10.97.1.N that weir's spreading without
  RSS puts on worker WORKER of WORKERS (lcore.c, owner_of: a symmetric hash of the two addresses).
Prints one JSON line: the kind, the frames written ("packets") and the arguments.
"""
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from send_fragments import NH_FRAGMENT, NH_TCP, checksum, segment  # noqa: E402

MASK = (1 << 64) - 1
PIECE = 8  # bytes of the segment per fragment: the smallest an IPv6 fragment carries
SRC_MAC = b"\x02\x00\x00\x00\x00\x98"  # no host's: the server side ignores these frames


def datagram(dst_mac, n, count, skip):
    """The frames of datagram n: count fragments of one segment, but fragment number skip."""
    src = socket.inet_pton(socket.AF_INET6, f"fd00:96::1:{n:x}")
    dst = socket.inet_pton(socket.AF_INET6, "fd00:96::2")
    seg = segment(src, dst, 8080, PIECE * count)
    out = []
    for i in range(count):
        if i == skip:
            continue
        piece = seg[i * PIECE : (i + 1) * PIECE]
        frag = struct.pack("!BBHI", NH_TCP, 0, (i * PIECE // 8) << 3 | (i < count - 1), n)
        ip6 = struct.pack("!IHBB", 6 << 28, len(frag) + len(piece), NH_FRAGMENT, 64) + src + dst
        out.append(dst_mac + SRC_MAC + b"\x86\xdd" + ip6 + frag + piece)
    return out


def frag6(dst_mac, incomplete, too_many, fragments):
    frames = []
    for n in range(incomplete):
        frames += datagram(dst_mac, n, 8, 1)
    for n in range(incomplete, incomplete + too_many):
        frames += datagram(dst_mac, n, fragments, -1)
    return frames


def owner(src, dst, workers):
    """The worker weir's software spreading gives a packet between src and dst (lcore.c, owner_of)."""
    h = 0
    for a, b in zip(src, dst):
        h = (h * 31 + (a ^ b)) & MASK
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK
    h ^= h >> 33
    return h % workers


def tcp4(dst_mac, src, dst, sport, dport, flags, payload):
    """An Ethernet frame of one IPv4 TCP segment, checksums right."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1 if flags & 0x10 else 0, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, NH_TCP, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp + payload)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), sport, 0, 64, NH_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return dst_mac + SRC_MAC + b"\x08\x00" + ip + tcp + payload


def syn(dst_mac, workers, worker, port, count):
    dst = bytes([10, 96, 0, 2])
    src = next(bytes([10, 97, 1, n]) for n in range(1, 255) if owner(bytes([10, 97, 1, n]), dst, workers) == worker)
    return [tcp4(dst_mac, src, dst, 40000 + n, port, 0x02, b"") for n in range(count)]


def big(dst_mac, count, length):
    dst = bytes([10, 96, 0, 2])
    return [tcp4(dst_mac, bytes([10, 97, 0, 1 + n % 250]), dst, 40000 + n, 8080, 0x18, bytes(length - 54))
            for n in range(count)]


def main():
    kind, path, dst_mac = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(":", ""))
    args = [int(a) for a in sys.argv[4:]]
    if kind == "frag6":
        frames = frag6(dst_mac, *args)
        counts = dict(zip(("incomplete", "too_many", "fragments"), args))
    elif kind == "big":
        frames = big(dst_mac, *args)
        counts = dict(zip(("count", "length"), args))
    else:
        frames = syn(dst_mac, *args)
        counts = dict(zip(("workers", "worker", "port", "count"), args))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for k, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 0, k, len(fr), len(fr)) + fr)
    print(json.dumps({"kind": kind, "packets": len(frames), **counts}))


if __name__ == "__main__":
    main()
