#!/usr/bin/env python3
"""seeds.py OUTDIR FILE... — the fuzz targets' seed corpora, made at test time from the captures
(.pcap) and configurations (.lua) given.

OUTDIR/parse: one input per frame (the link-type selector byte of fuzz_parse.c, then the frame);
OUTDIR/pcap: each capture whole; OUTDIR/stack: each capture's Ethernet frames as fuzz_stack.c's
raw-frame records (up to 40 frames a capture) and one whole connection of built segments; OUTDIR/config: each configuration; OUTDIR/http:
requests to fuzz_http.c's dashboard. Classic pcap only (the captures in tests/ are);
another file is skipped with a message.
"""
import os
import struct
import sys

# fuzz_http.c's dashboard token, and requests a browser and a scraper send.
HTTP_TOKEN = b"fuzz-token-0123456789"
HTTP_SEEDS = [
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /?token=" + HTTP_TOKEN + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/stats HTTP/1.1\r\nAuthorization: Bearer " + HTTP_TOKEN + b"\r\n\r\n",
    b"GET /api/all HTTP/1.0\r\nCookie: weir_token=" + HTTP_TOKEN + b"\r\n\r\n",
    b"HEAD /metrics HTTP/1.1\r\nAuthorization: Bearer " + HTTP_TOKEN + b"\r\nConnection: close\r\n\r\n",
    b"POST /api/stats HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    b"GET /app.js HTTP/1.1\r\nAuthorization: Bearer x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
]

# fuzz_parse.c's linktypes[] order: the selector byte is the index.
PARSE_LINKTYPES = [1, 12, 101, 228, 229, 0, 108, 113, 276, 9, 10, 50, 104]
STACK_FRAMES = 40


def segment(ctl, flags, seq, ack, npay8=0, dt=1):
    """One fuzz_stack.c built-segment record: connection/direction/options, flags, sequence and
    acknowledgement steps from the sides' first numbers, payload of npay8 x 8 bytes."""
    return (bytes([1, ctl, flags]) + struct.pack(">hh", seq, ack) + bytes([0xff, npay8, dt])
            + bytes(range(npay8 * 8)))


def stack_conversation():
    """fuzz_stack.c records of a whole connection: handshake with options, data both ways, a
    retransmission, an out-of-order segment, FIN both ways."""
    c, s, opts = 0x00, 0x04, 0x70  # client, server, MSS + window scale + timestamps
    return b"\x00\x00\x00\x01" + b"".join([
        segment(c | opts, 0x02, 0, 0), segment(s | opts, 0x12, 0, 1), segment(c, 0x10, 1, 1),
        segment(c, 0x18, 1, 1, 4), segment(c, 0x18, 1, 1, 4), segment(s, 0x18, 65, 33, 8),
        segment(s, 0x18, 1, 33, 8), segment(c, 0x10, 33, 129), segment(c, 0x11, 33, 129),
        segment(s, 0x11, 129, 34), segment(c, 0x10, 34, 130)])


def frames(path):
    """(linktype, [frame bytes]) of a classic pcap file, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return None
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0fffffff
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            break
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, out


def main():
    outdir, pcaps = sys.argv[1], sys.argv[2:]
    for sub in ("parse", "pcap", "stack", "config", "http"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    with open(os.path.join(outdir, "stack", "conversation"), "wb") as o:
        o.write(stack_conversation())
    for i, req in enumerate(HTTP_SEEDS):
        with open(os.path.join(outdir, "http", "%02d" % i), "wb") as o:
            o.write(req)
    n = 0
    for i, path in enumerate(pcaps):
        if path.endswith(".lua"):
            with open(path, "rb") as f, open(os.path.join(outdir, "config", "%03d.lua" % i), "wb") as o:
                o.write(f.read())
            continue
        got = frames(path)
        if got is None:
            print("seeds.py: %s is not a classic pcap file: skipped" % path, file=sys.stderr)
            continue
        linktype, fr = got
        with open(path, "rb") as f, open(os.path.join(outdir, "pcap", "%03d.pcap" % i), "wb") as o:
            o.write(f.read())
        if linktype in PARSE_LINKTYPES:
            sel = PARSE_LINKTYPES.index(linktype)
            for j, frame in enumerate(fr):
                with open(os.path.join(outdir, "parse", "%03d-%05d" % (i, j)), "wb") as o:
                    o.write(bytes([sel]) + frame)
                n += 1
        if linktype == 1:
            rec = bytearray(b"\x00\x00\x00\x01")
            for frame in fr[:STACK_FRAMES]:
                rec += b"\x00" + struct.pack(">H", len(frame)) + frame
            with open(os.path.join(outdir, "stack", "%03d" % i), "wb") as o:
                o.write(rec)
    print("seeds.py: %d captures, %d frames" % (len(pcaps), n))


if __name__ == "__main__":
    main()
