#!/usr/bin/env python3
"""syn_flood.py — writes a pcap of N distinct SYNs (one flow each, 10.x.y.z -> 192.168.0.1:80, 5 us
apart): the flood shape that makes one EVE flow record per packet.

usage: python3 bench/syn_flood.py OUT.pcap [N]   (N defaults to 200000)
"""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def frame(i):
    src, dst = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]), bytes([192, 168, 0, 1])
    tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, 80, 1000 + i, 0, 5 << 4, 0x02, 65535, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + tcp


def main():
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            fr, t = frame(i), 1700000000 * 1000000 + i * 5
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)) + fr)


if __name__ == "__main__":
    main()
