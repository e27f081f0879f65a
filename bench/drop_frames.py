#!/usr/bin/env python3
"""drop_frames.py — copies a classic pcap, leaving out a random share of its frames (capture loss).

usage: drop_frames.py IN.pcap OUT.pcap PER_MILLE [SEED]

The copy has holes no retransmission fills: what a monitor sees when its capture drops packets.
`bench/run --captures COPY.pcap` shows how weir (which skips a gap and goes on) and libnids (which waits
for the missing bytes forever) differ in what they deliver. Deterministic for a given SEED.
"""
import random
import struct
import sys


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    src, dst, per_mille = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) == 5 else 1)
    kept = dropped = 0
    with open(src, "rb") as f, open(dst, "wb") as out:
        hdr = f.read(24)
        if len(hdr) < 24 or hdr[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                             b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            sys.exit("drop_frames: %s is not a classic pcap file" % src)
        endian = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        out.write(hdr)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            caplen = struct.unpack(endian + "IIII", rec)[2]
            data = f.read(caplen)
            if len(data) < caplen:
                break  # a truncated last record is left out
            if rng.randrange(1000) < per_mille:
                dropped += 1
                continue
            out.write(rec)
            out.write(data)
            kept += 1
    print("drop_frames: kept %d frames, dropped %d" % (kept, dropped))


if __name__ == "__main__":
    main()
