#!/usr/bin/env python3
"""send_pcap.py — live test helper: sends every frame of a classic pcap file, as it is, on one interface.

usage: send_pcap.py IFACE PCAP PPS
Reads an Ethernet pcap (either byte order, microsecond or nanosecond stamps; the stamps are not
used) and sends its frames through an AF_PACKET socket bound to IFACE, PPS frames a second at most
(paced in slices of 5 ms, so that a veth's backlog of 1,000 frames does not overflow), then prints
how many it sent. A frame the kernel refuses (ENOBUFS) is tried again after 1 ms, never skipped.
"""
import socket
import struct
import sys
import time

MAGICS = {0xA1B2C3D4: "<", 0xA1B23C4D: "<", 0xD4C3B2A1: ">", 0x4D3CB2A1: ">"}
SLICE = 0.005  # s: the pacing step
LINKTYPE_ETHERNET = 1


def frames(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24 or struct.unpack("<I", head[:4])[0] not in MAGICS:
            sys.exit(f"{path}: not a classic pcap file")
        end = MAGICS[struct.unpack("<I", head[:4])[0]]
        if struct.unpack(end + "I", head[20:24])[0] & 0xFFFF != LINKTYPE_ETHERNET:
            sys.exit(f"{path}: not Ethernet frames")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            caplen = struct.unpack(end + "I", rec[8:12])[0]
            data = f.read(caplen)
            if len(data) < caplen:
                sys.exit(f"{path}: cut short in a frame")
            yield data


def send(s, frame):
    while True:
        try:
            s.send(frame)
            return
        except OSError as e:
            if e.errno != 105:  # ENOBUFS: the interface's queue is full for a moment
                raise
            time.sleep(0.001)


def main():
    iface, path, pps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    per_slice = max(1, int(pps * SLICE))
    sent, t0 = 0, time.monotonic()
    for frame in frames(path):
        send(s, frame)
        sent += 1
        if sent % per_slice == 0:
            ahead = t0 + sent / pps - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    print(sent)


if __name__ == "__main__":
    main()
