#!/usr/bin/env python3
"""tunnels.py — the corpus captures with tunnels: weir's flows in tunnels are the inner TCP conversations tshark sees.

usage: tunnels.py TESTDATA_DIR WEIR

The captures are the rows of the corpus MANIFEST.md whose encapsulation column names a tunnel
weir takes off (GRE, VXLAN, Geneve, GTP, Teredo, AYIYA, IP-in-IP). For each, `weir replay` and
`tshark -q -z conv,tcp` (which keys conversations by the innermost addresses and ports):
  * every conversation tshark sees inside a tunnel is a weir flow naming its tunnel, and every
    weir flow in a tunnel is one of tshark's conversations;
  * the packets of a conversation equal the sum of weir's flows on it (a conversation weir split
    in two, ports reused after a close, still adds up);
  * the bytes are sane: weir counts the inner IP packets, tshark whole frames, so per packet
    tshark's count is larger by the outer headers: at least an Ethernet header (14), at most
    OVERHEAD_MAX bytes.
A packet in fragments counts once, on the frame that completes it (weir reassembles the
fragments of TCP and, before decapsulating, of the outer datagram of a tunnel, as tshark does);
its bytes are tshark's reassembled datagram behind an Ethernet header. TCP quoted in ICMP errors
is left out (weir does not look into it). A capture whose
tunneled TCP weir does not decode must say so in weir's malformed counters (tunnel_unsupported,
bad_tunnel). The run fails when no connection in a tunnel was checked at all.

The captures of EXACT are held to their inner TCP flows exactly: the tuple (client first), the
EVE `tunnel` object's fields, the bytes and packets each way, and none of their tunneled packets may be
left undecoded.
"""
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

TUNNEL_TAGS = {"GRE", "VXLAN", "Geneve", "GTP", "Teredo", "AYIYA", "IP-in-IP"}
# Outer headers a tunneled packet may carry beyond its inner IP packet: Ethernet with two tags
# (22), IPv6 (40) with a few extension headers, UDP (8), a GTP-U header with extensions or a
# Geneve header with options, an inner Ethernet header with tags (22).
OVERHEAD_MAX = 256
ETH_HLEN = 14
IPV6_HLEN = 40
# Captures whose inner TCP flows are asserted exactly: (client, client port, server, server port,
# fields of the EVE tunnel object, bytes_toserver, bytes_toclient, pkts_toserver, pkts_toclient),
# tshark -V read by hand.
EXACT = {
    # GRE in UDP to port 4754 (RFC 8086); the tunnel object is the flow's first packet's outer
    # header. Zeek's baseline (btest core.tunnels.gre-over-udp) has the same 332 and 551 IP bytes.
    "zeek/tunnels/gre-over-udp-4754.pcap": [
        ("172.17.0.2", 36518, "192.0.78.150", 80,
         {"type": "gre", "depth": 1, "src_ip": "192.168.0.107", "dest_ip": "192.168.5.1",
          "src_port": 40987, "dest_port": 4754, "proto": "UDP"}, 332, 551, 6, 4)],
    # Aruba's GRE (protocol 0x8240) over an 802.11 QoS data frame holding an A-MSDU of two
    # subframes: weir sees the first one's IP packet (281 bytes), not the second's (75; Zeek
    # counts both, 356, and 2 packets). Seen mid-connection, the server's segment names the server
    # as source.
    "zeek/tunnels/gre-aruba-amsdu.pcap": [
        ("157.240.18.16", 443, "149.159.130.184", 49392,
         {"type": "gre", "depth": 1, "src_ip": "10.226.22.9", "dest_ip": "10.102.16.187",
          "proto": "GRE"}, 281, 0, 1, 0)],
    # GTP-U whose outer UDP datagrams are mostly IPv4 fragments (76 of 108 frames; 84 of 120):
    # reassembled before decapsulation, the inner connection has Zeek's packets and IP bytes
    # (btests core.tunnels.gtp.outer_ip_frag and different_dl_and_ul).
    "zeek/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap": [
        ("10.131.47.185", 1923, "79.101.110.141", 80,
         {"type": "gtpu", "depth": 1, "src_ip": "239.114.155.111", "dest_ip": "63.94.149.181",
          "src_port": 2152, "dest_port": 2152, "proto": "UDP"}, 3204, 52594, 27, 41)],
    "zeek/tunnels/gtp/gtp2_different_udp_port.pcap": [
        ("10.131.17.170", 51803, "173.199.115.168", 80,
         {"type": "gtpu", "depth": 1, "src_ip": "167.55.105.244", "dest_ip": "207.233.125.40",
          "src_port": 5906, "dest_port": 2152, "proto": "UDP"}, 2310, 65396, 29, 49)],
}
# tshark display filter for TCP carried in a tunnel weir takes off.
TUNNELED = ("tcp && (gre || vxlan || geneve || gtp || teredo || ayiya || ip.proto == 4 || "
            "ip.proto == 41 || ipv6.nxt == 4 || ipv6.nxt == 41)")


def captures(testdata):
    out = []
    with open(os.path.join(testdata, "MANIFEST.md")) as f:
        for line in f:
            cols = [c.strip() for c in line.split("|")]
            if len(cols) > 9 and cols[1].endswith(("pcap", "pcapng")):
                if TUNNEL_TAGS & {t.strip() for t in cols[8].split(",")}:
                    out.append(cols[1])
    return out


def canon(a, ap, b, bp):
    x, y = (ipaddress.ip_address(a.strip("[]")), int(ap)), (ipaddress.ip_address(b.strip("[]")), int(bp))
    return (x, y) if (x[0].packed, x[1]) <= (y[0].packed, y[1]) else (y, x)


def tcp_frames(path, display_filter):
    """{4-tuple of the innermost IP header and TCP: [frames, wire bytes]} of the TCP frames that
    match the filter, leaving out TCP headers quoted in ICMP errors; a frame completing an IP
    datagram tshark reassembled counts the datagram behind an Ethernet header. Teredo is decoded on
    any port, as weir does (Wireshark's teredo_udp heuristic, off by default)."""
    cmd = ["tshark", "-r", path, "--enable-heuristic", "teredo_udp", "-Y", display_filter,
           "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=,", "-e", "frame.len", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src",
           "-e", "ipv6.dst", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "frame.protocols",
           "-e", "ip.fragment.count", "-e", "ipv6.fragment.count", "-e", "ip.hdr_len",
           "-e", "ip.reassembled.length", "-e", "ipv6.reassembled.length"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    by = {}
    for line in out.splitlines():
        n, s4, d4, s6, d6, sp, dp, protos, f4, f6, hl, r4, r6 = (line.split("\t") + [""] * 13)[:13]
        layers = protos.split(":")
        fam = [p for p in layers if p in ("ip", "ipv6")]
        if not fam or not sp or {"icmp", "icmpv6"} & set(layers):
            continue  # not TCP, or a TCP header quoted in an ICMP error
        if f4:
            n = ETH_HLEN + int(hl.split(",")[0]) + int(r4.split(",")[0])
        elif f6:
            n = ETH_HLEN + IPV6_HLEN + int(r6.split(",")[0])
        s, d = (s6, d6) if fam[-1] == "ipv6" else (s4, d4)
        k = canon(s.split(",")[-1], sp.split(",")[0], d.split(",")[-1], dp.split(",")[0])
        e = by.setdefault(k, [0, 0])
        e[0] += 1
        e[1] += int(n)
    return by


def weir_flows(weir, path):
    with tempfile.TemporaryDirectory(prefix="weir-tun-") as d:
        eve, stats = os.path.join(d, "eve.json"), os.path.join(d, "stats.json")
        p = subprocess.run([weir, "replay", "--quiet", "--eve", eve, "--stats-json", stats, path],
                           capture_output=True, text=True)
        with open(eve) as f:
            flows = [json.loads(l) for l in f if l.strip()]
        with open(stats) as f:
            st = json.load(f)
    return p.returncode, flows, st


def check_exact(name, flows, undecoded):
    """Problems of a capture of EXACT against its expected flows (none for any other)."""
    if name not in EXACT:
        return []
    bad = ["%d tunneled packets not decoded" % undecoded] if undecoded else []
    for src, sp, dst, dp, tun, bts, btc, pts, ptc in EXACT[name]:
        got = [fl for fl in flows if (fl["src_ip"], fl["src_port"], fl["dest_ip"], fl["dest_port"]) == (src, sp, dst, dp)]
        if len(got) != 1:
            bad.append("%s:%d > %s:%d: %d weir flows, expected 1" % (src, sp, dst, dp, len(got)))
            continue
        fl = got[0]
        t = fl.get("tunnel", {})
        for key, want in tun.items():
            if t.get(key) != want:
                bad.append("%s:%d > %s:%d: tunnel %s %r, expected %r" % (src, sp, dst, dp, key, t.get(key), want))
        f = fl["flow"]
        got = (f["bytes_toserver"], f["bytes_toclient"], f["pkts_toserver"], f["pkts_toclient"])
        if got != (bts, btc, pts, ptc):
            bad.append("%s:%d > %s:%d: bytes %d/%d, packets %d/%d, expected %d/%d, %d/%d" % (
                (src, sp, dst, dp) + got + (bts, btc, pts, ptc)))
    return bad


def check(testdata, weir, name):
    """(problems, tunneled flows) of one capture."""
    path = os.path.join(testdata, name)
    rc, flows, st = weir_flows(weir, path)
    if rc not in (0, 65):
        return ["weir exited %d" % rc], 0
    bad = []
    # weir's flows per 4-tuple (all of them: a connection may be seen both in a tunnel and
    # directly, as one flow), and the 4-tuples of its flows in tunnels.
    per, tunneled = {}, set()
    for fl in flows:
        k = canon(fl["src_ip"], fl["src_port"], fl["dest_ip"], fl["dest_port"])
        f = fl["flow"]
        pk, by = per.get(k, (0, 0))
        per[k] = (pk + f["pkts_toserver"] + f["pkts_toclient"], by + f["bytes_toserver"] + f["bytes_toclient"])
        if "tunnel" in fl:
            tunneled.add(k)
    inside = tcp_frames(path, TUNNELED)
    every = tcp_frames(path, "tcp")
    mal = st.get("malformed", {})
    undecoded = mal.get("tunnel_unsupported", 0) + mal.get("bad_tunnel", 0)
    for k in sorted(inside, key=str):
        if k not in per:
            if not undecoded:
                bad.append("%s: %d frames in a tunnel for tshark, no weir flow" % (k, inside[k][0]))
            continue
        pk, by = per[k]
        frames, wire = every[k]
        if pk != frames:
            bad.append("%s: weir %d packets, tshark %d" % (k, pk, frames))
        if not (by + ETH_HLEN * pk <= wire <= by + OVERHEAD_MAX * pk):
            bad.append("%s: weir %d inner IP bytes in %d packets, tshark %d frame bytes" % (k, by, pk, wire))
    for k in sorted(tunneled - set(inside), key=str):
        bad.append("%s: weir flow in a tunnel, no tshark TCP in one" % (k,))
    bad += check_exact(name, flows, undecoded)
    return bad, len(tunneled & set(inside))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    testdata, weir = argv[1], argv[2]
    names = captures(testdata)
    failed = checked = 0
    for name in sorted(set(EXACT) - set(names)):
        print("FAIL %s: not among the captures with tunnels" % name)
        failed += 1
    for name in names:
        bad, n = check(testdata, weir, name)
        print("%s %s: %d connection(s) in tunnels" % ("FAIL" if bad else "ok  ", name, n))
        for b in bad:
            print("    " + b)
        failed += bool(bad)
        checked += n
    print("%d captures with tunnels, %d connections in them checked, %d captures failed" % (len(names), checked, failed))
    return 1 if failed or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
