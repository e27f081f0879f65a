#!/usr/bin/env python3
"""reorder.py — copies a classic pcap with some packets delivered late: each packet, with
probability SHARE (default 0.01), trades places with one of the next WINDOW (default 8) packets,
as a network that reorders would: only when no packet of either one's TCP connection going the
other way lies between them (a reply never comes before what it answers). Timestamps stay in
place (the file stays in time order); only the frames move. Deterministic for a given --seed.
This kernel has no netem, so bench/make_capture.sh --impaired reorders this way.

usage: python3 bench/reorder.py [--share P] [--window N] [--seed S] IN.pcap OUT.pcap
"""
import argparse
import random
import struct
import sys

MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",  # microseconds
          b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}  # nanoseconds


def read_pcap(path):
    """The file's 24-byte header, its byte order and its records as [timestamp bytes, frame header
    and data bytes]."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in MAGICS:
        sys.exit("reorder: %s: not a classic pcap file" % path)
    order, recs, off = MAGICS[data[:4]], [], 24
    while off < len(data):
        if off + 16 > len(data):
            sys.exit("reorder: %s: truncated record header at byte %d" % (path, off))
        caplen = struct.unpack_from(order + "I", data, off + 8)[0]
        if off + 16 + caplen > len(data):
            sys.exit("reorder: %s: truncated frame at byte %d" % (path, off))
        recs.append([data[off:off + 8], data[off + 8:off + 16 + caplen]])
        off += 16 + caplen
    return data[:24], recs


def direction(frame):
    """(connection, direction) of an Ethernet IPv4/IPv6 TCP frame; a frame of anything else is its
    own connection."""
    off, etype = 14, frame[12:14]
    while etype in (b"\x81\x00", b"\x88\xa8") and len(frame) >= off + 4:  # VLAN tags
        etype, off = frame[off + 2:off + 4], off + 4
    if etype == b"\x08\x00" and len(frame) >= off + 20 and frame[off + 9] == 6:
        src, dst, l4 = frame[off + 12:off + 16], frame[off + 16:off + 20], off + (frame[off] & 15) * 4
    elif etype == b"\x86\xdd" and len(frame) >= off + 40 and frame[off + 6] == 6:
        src, dst, l4 = frame[off + 8:off + 24], frame[off + 24:off + 40], off + 40
    else:
        return id(frame), 0
    a, b = src + frame[l4:l4 + 2], dst + frame[l4 + 2:l4 + 4]
    return (min(a, b), max(a, b)), a < b


def can_swap(dirs, i, j):
    """Whether packets i and j may trade places: nothing between them answers one or is answered
    by the other."""
    for k in range(i + 1, j):
        for end in (i, j):
            if dirs[k][0] == dirs[end][0] and dirs[k][1] != dirs[end][1]:
                return False
    return dirs[i][0] != dirs[j][0] or dirs[i][1] == dirs[j][1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--share", type=float, default=0.01, help="probability a packet is moved")
    ap.add_argument("--window", type=int, default=8, help="at most this many packets later")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("inp", metavar="IN.pcap")
    ap.add_argument("out", metavar="OUT.pcap")
    a = ap.parse_args()
    if not 0 <= a.share <= 1 or a.window < 1:
        ap.error("--share is 0..1, --window at least 1")
    header, recs = read_pcap(a.inp)
    dirs = [direction(r[1][8:]) for r in recs]
    rng, moved = random.Random(a.seed), 0
    for i in range(len(recs)):
        if rng.random() < a.share:
            j = i + rng.randint(1, a.window)
            if j < len(recs) and can_swap(dirs, i, j):
                recs[i][1], recs[j][1] = recs[j][1], recs[i][1]
                dirs[i], dirs[j] = dirs[j], dirs[i]
                moved += 1
    with open(a.out, "wb") as f:
        f.write(header)
        for ts, frame in recs:
            f.write(ts)
            f.write(frame)
    print("reorder: %d of %d packets moved up to %d places later" % (moved, len(recs), a.window),
          file=sys.stderr)


if __name__ == "__main__":
    main()
