#!/usr/bin/env python3
"""test_gen_flows.py — CTest gen_flows: weir_gen_flows' small captures replayed by weir.

For N flows and P packets: the file holds P + 3 N packets (the closes follow the P), weir sees N
flows that each close with FIN, nothing malformed, no anomaly, no orphan, no segment sent twice or out of order, and 100 x (P - 3 N) bytes
delivered in order (EVE); the same arguments write the same bytes; P < 3 N is a usage error (64).

usage: test_gen_flows.py WEIR_GEN_FLOWS WEIR
"""
import json
import os
import sys
import tempfile

from checks import check, run


def case(gen, weir, d, n, p):
    pcap, stats, eve = (os.path.join(d, "%d-%d.%s" % (n, p, x)) for x in ("pcap", "stats", "eve"))
    run([gen, "--concurrent", str(n), "--packets", str(p), pcap])
    run([weir, "replay", "-q", "--stats-json", stats, "--eve", eve, pcap])
    with open(stats) as f:
        st = json.load(f)
    what = "%d flows, %d packets: " % (n, p)
    check(st["packets"] == p + 3 * n, what + "%d packets in the file" % st["packets"])
    check(st["flows"]["created"] == n and st["closes"]["fin"] == n, what + "every flow opens and closes with FIN")
    check(st["flows"]["midstream"] == 0 and st["orphans"] == 0, what + "no midstream flow, no orphan")
    check(not any(st["malformed"].values()), what + "nothing malformed")
    check(not any(st["anomalies"].values()), what + "no anomaly")
    check(st["events"]["rexmit"] == 0, what + "no retransmission")
    delivered, odd = 0, 0
    with open(eve) as f:
        for line in f:
            for s in json.loads(line)["streams"].values():
                delivered += s["delivered"]
                odd += s["gap_bytes"] + s["resent_pkts"] + s["ooo_pkts"] + s["overlaps"]
    check(odd == 0, what + "no gap, resent, out-of-order or overlapping segment")
    check(delivered == 100 * (p - 3 * n), what + "%d bytes delivered" % delivered)
    return pcap


def main():
    gen, weir = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as d:
        case(gen, weir, d, 1, 3)
        case(gen, weir, d, 100, 1000)
        first = case(gen, weir, d, 300, 5555)  # a last round that only some flows send in
        again = os.path.join(d, "again.pcap")
        run([gen, "--concurrent", "300", "--packets", "5555", again])
        with open(first, "rb") as a, open(again, "rb") as b:
            check(a.read() == b.read(), "the same arguments write the same file")
        run([gen, "--concurrent", "10", "--packets", "29", os.path.join(d, "x.pcap")], 64)
        run([gen, "--concurrent", "0", os.path.join(d, "x.pcap")], 64)
        run([gen, "--concurrent", "10"], 64)
        print("ok: usage errors exit 64")


if __name__ == "__main__":
    main()
