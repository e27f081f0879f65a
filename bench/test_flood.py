#!/usr/bin/env python3
"""test_flood.py — CTest flood_gen: weir_flood's command line. Each kind's counts (its JSON line)
are the packets weir reads from the file and the flows it makes; the same arguments write the same
bytes; --client, --server, --port, --smac and --dmac land in the frames; usage errors exit 64.

usage: test_flood.py WEIR_FLOOD WEIR
"""
import json
import os
import struct
import sys
import tempfile

from checks import check, run


def gen(flood, d, name, *args):
    path = os.path.join(d, name + ".pcap")
    return path, json.loads(run([flood, *args, "--out", path]))


def main():
    flood, weir = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as d:
        for kind, args in (("syn", ["--count", "1000"]), ("tiny-ooo", ["--count", "500", "--flows", "50"]),
                           ("overlap", ["--count", "500", "--flows", "50"]), ("frag", ["--count", "160"])):
            pcap, g = gen(flood, d, kind, kind, *args, "--legit", "3", "--legit-rounds", "4")
            stats = os.path.join(d, kind + ".json")
            run([weir, "replay", "-q", "--stats-json", stats, pcap])
            with open(stats) as f:
                st = json.load(f)
            check(st["packets"] == g["packets"] == g["flood_packets"] + g["legit_packets"],
                  "%s: weir reads the %d packets the generator counts" % (kind, g["packets"]))
            check(st["flows"]["created"] == g["flood_flows"] + g["legit_flows"],
                  "%s: %d flows" % (kind, st["flows"]["created"]))
            check(st["closes"].get("fin", 0) == 3 and g["legit_c2s_bytes"] == 200 and g["legit_s2c_bytes"] == 2000,
                  "%s: 3 legitimate flows closed by FIN, 200 + 2000 bytes each" % kind)
            check(not any(st["malformed"].values()), "%s: nothing malformed" % kind)
        a, _ = gen(flood, d, "a", "frag", "--count", "100", "--legit", "2")
        b, _ = gen(flood, d, "b", "frag", "--count", "100", "--legit", "2")
        with open(a, "rb") as x, open(b, "rb") as y:
            check(x.read() == y.read(), "the same arguments write the same file")
        p, _ = gen(flood, d, "addr", "syn", "--count", "1", "--client", "172.16.5.0/24", "--server", "172.16.9.9",
                   "--port", "8080", "--smac", "0a:00:00:00:00:0c", "--dmac", "0a:00:00:00:00:0d")
        with open(p, "rb") as f:
            fr = f.read()[24 + 16:]
        check(fr[:6] == bytes.fromhex("0a000000000d") and fr[6:12] == bytes.fromhex("0a000000000c"),
              "--dmac is the destination and --smac the source of a client frame")
        check(fr[26:30] == bytes([172, 16, 5, 1]) and fr[30:34] == bytes([172, 16, 9, 9]),
              "the client is the prefix's first host, the server --server")
        check(struct.unpack("!HH", fr[34:38]) == (1024, 8080), "client port 1024, server --port 8080")
        x = os.path.join(d, "x.pcap")
        for bad in (["syn"], ["bogus", "--out", x], ["syn", "--count", "0", "--out", x],
                    ["syn", "--client", "10.0.0.0/31", "--out", x], ["syn", "--smac", "zz", "--out", x],
                    ["syn", "--count", "100000", "--client", "10.0.0.0/30", "--out", x],
                    ["tiny-ooo", "--count", "10", "--flows", "20", "--out", x], ["syn", "--port", "0", "--out", x]):
            run([flood] + bad, 64)
        print("ok: usage errors exit 64")


if __name__ == "__main__":
    main()
