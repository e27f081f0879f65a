#!/usr/bin/env python3
"""defrag.py — weir's flows on the corpus's IP-fragment captures equal what tshark reassembles.

usage: defrag.py TESTDATA_DIR WEIR

For each capture below (Ethernet, 802.1Q and raw-IP link layers; IPv4 and IPv6; tiny, overlapping
and atomic fragments), weir replay's EVE flow records are compared with tshark's TCP packets
(tshark reassembles IP fragments by default and dissects TCP on the frame that completes a
datagram): the same connections (4-tuples), and per direction the same packet count and TCP
payload bytes. Fails on any difference, printing it. tshark is the oracle: it is required.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

CAPTURES = [
    "suricata-verify/defrag/bug-6887-defrag-eth-vlan-ipv4-tcp-syn/frag-eth-vlan-ip-tcp-syn.pcap",
    "suricata-verify/defrag/bug-6887-defrag-eth-vlan-ipv6-tcp/frag-eth-vlan-ipv6-tcp.pcap",
    "suricata-verify/defrag/bug-6887-defrag-ipv4-tcp-syn/frag-ip-tcp-syn.pcap",
    "suricata-verify/defrag/bug-6887-defrag-ipv6-tcp/frag-ip-tcp.pcap",
    "zeek/ipv4/fragmented-4.pcap",
    "zeek/ipv4/fragmented-syn.pcap",
    "zeek/ipv6-http-atomic-frag.pcap",
    "ndpi/dns_fragmented.pcap",
]


def tshark_dirs(path):
    """{(src, sport, dst, dport): [packets, payload bytes]} of the TCP packets tshark dissects."""
    out = subprocess.run(
        ["tshark", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=|",
         "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.dst", "-e", "ipv6.dst",
         "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.len"],
        check=True, capture_output=True, text=True).stdout
    dirs = collections.defaultdict(lambda: [0, 0])
    for line in out.splitlines():
        s4, s6, d4, d6, sp, dp, ln = line.split("|")
        key = (s4 or s6, int(sp), d4 or d6, int(dp))
        dirs[key][0] += 1
        dirs[key][1] += int(ln)
    return dirs


def weir_dirs(weir, path):
    """The same from weir replay's EVE flow records (both directions of each flow)."""
    with tempfile.TemporaryDirectory() as tmp:
        eve = os.path.join(tmp, "eve.json")
        subprocess.run([weir, "replay", "-q", "--eve", eve, path], check=True)
        dirs = {}
        for line in open(eve):
            r = json.loads(line)
            if r.get("event_type") != "flow":
                continue
            f, st = r["flow"], r["streams"]
            c2s = (r["src_ip"], r["src_port"], r["dest_ip"], r["dest_port"])
            s2c = (r["dest_ip"], r["dest_port"], r["src_ip"], r["src_port"])
            for key, pkts, payload in ((c2s, f["pkts_toserver"], st["toserver"]["payload"]),
                                       (s2c, f["pkts_toclient"], st["toclient"]["payload"])):
                if pkts:
                    dirs[key] = [pkts, payload]
        return dirs


def main():
    corpus, weir = sys.argv[1], sys.argv[2]
    failed = 0
    for rel in CAPTURES:
        path = os.path.join(corpus, rel)
        want, got = tshark_dirs(path), weir_dirs(weir, path)
        diffs = [f"{k}: tshark {want.get(k)}, weir {got.get(k)}"
                 for k in sorted(set(want) | set(got), key=str) if want.get(k) != got.get(k)]
        pkts = sum(v[0] for v in want.values())
        print(f"{'FAIL' if diffs or not want else 'ok  '} {rel}: {len(want)} directions, "
              f"{pkts} TCP packets")
        if not want:
            diffs.append("tshark found no TCP: the capture is not what this test expects")
        for d in diffs:
            print("    " + d)
        failed += bool(diffs)
    print(f"{len(CAPTURES) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
