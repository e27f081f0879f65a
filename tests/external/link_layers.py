#!/usr/bin/env python3
"""link_layers.py — one corpus capture per link-layer encapsulation, replayed through weir: the TCP
flows weir yields, its TCP packets and its per-encapsulation counters, against tshark.

usage: link_layers.py TESTDATA_DIR WEIR CASE     (CASE: a name from CASES, or "unknown-linktype")
       link_layers.py --list                    (the case names, for CMake)

For each case the TCP connection count tshark sees (`tshark -r F -q -z conv,tcp`) is stated below
and checked against tshark when the test runs; weir must yield exactly `flows` flows (equal to
tshark's count unless the note says why not), `tcp` TCP packets, at least the stated frames per
encapsulation (stats "encapsulations"), and no malformed frame.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

# Cases whose TCP is inside IP fragments: weir reaches them through the link layer, then
# reassembles them as tshark does.
FRAGMENTED = {"ppp", "ppp-ipv6"}

# name: (capture, tshark TCP conversations, weir flows, weir tcp_packets, encapsulations, note)
CASES = {
    "vlan-depth": ("zeek/vlan-qinqinq.pcap", 1, 1, 14, {"vlan": 14}, "three stacked tags"),
    "pbb": ("zeek/pbb.pcap", 1, 1, 8, {"vlan": 12, "pbb": 12},
            "B-tag, 802.1ah I-tag, customer C-tag; 4 frames are VRRP/OSPF/other"),
    "pppoe-qinq": ("zeek/pppoe-over-qinq.pcap", 1, 1, 86, {"vlan": 86, "pppoe": 86, "ppp": 86},
                   "PPPoE session over 802.1ad + 802.1Q"),
    "pppoe": ("suricata-verify/bug-4810/pppoe-session-http.pcap", 1, 1, 30,
              {"pppoe": 30, "ppp": 30}, "untagged PPPoE session"),
    "mpls-in-vlan": ("zeek/mpls-in-vlan.pcap", 3, 3, 3, {"vlan": 3, "mpls": 2},
                     "one label inside a VLAN; one frame plain VLAN"),
    "mpls-mixed": ("zeek/mixed-vlan-mpls.pcap", 3, 3, 47, {"vlan": 14, "mpls": 11},
                   "untagged MPLS, VLAN and plain frames"),
    "fabricpath": ("zeek/cisco-fabric-path.pcap", 16, 16, 32, {"fabricpath": 65},
                   "each connection's frames with and without the FabricPath header"),
    "fabricpath-vlan": ("ndpi/ajp.pcap", 2, 2, 38, {"vlan": 38, "fabricpath": 12},
                        "FabricPath around a tagged inner frame"),
    "llc-snap": ("zeek/snap-tcp.pcap", 1, 1, 8, {"llc": 8}, "802.3 length, LLC/SNAP"),
    # 1,333 lone RSTs of one 4-tuple, one a minute: each closes weir's flow, and the next comes
    # long after the flows.timewait linger (2 s), so each is a flow of its own (Zeek logs 1,333
    # connections too); tshark's conversation table keys by 4-tuple only.
    "fddi": ("zeek/llc.pcap", 1, 1333, 1333, {"llc": 1333}, "FDDI (DLT 10, bit-swapped MACs), LLC/SNAP"),
    "chdlc-mpls": ("ndpi/BGP_redist.pcap", 2, 2, 2, {"chdlc": 2, "mpls": 1}, "Cisco HDLC (DLT 104)"),
    "ppp-chdlc": ("ndpi/BGP_Cisco_hdlc_slarp.pcap", 1, 1, 14, {"chdlc": 14},
                  "Cisco HDLC frames on a PPP link (DLT 9)"),
    # The connections are in IP fragments (FRAGMENTED): every frame is reached through PPP, and
    # the one TCP segment is the datagram the fragments make.
    "ppp": ("suricata-verify/defrag/bug-6887-defrag-ppp-ipv4-tcp-syn/frag-ppp-ip-tcp-syn.pcap", 1, 1, 1,
            {"ppp": 3}, "PPP (DLT 9), compressed protocol field, IPv4 fragments"),
    "ppp-ipv6": ("suricata-verify/defrag/bug-6887-defrag-ppp-ipv6-tcp/frag-ppp-ipv6-tcp.pcap", 1, 1, 1,
                 {"ppp": 3}, "PPP (DLT 9), IPv6 fragments"),
}

DLT_RADIOTAP = 127  # 802.11 with a radiotap header: a link type weir does not decode


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def replay(weir, path):
    with tempfile.TemporaryDirectory() as d:
        stats, eve = os.path.join(d, "stats.json"), os.path.join(d, "eve.json")
        res = subprocess.run([weir, "replay", "--quiet", "--stats-json", stats, "--eve", eve, path],
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            fail("weir exited %d: %s" % (res.returncode, res.stderr))
        with open(stats) as f:
            st = json.load(f)
        with open(eve) as f:
            flows = [json.loads(line) for line in f if '"event_type":"flow"' in line]
    return st, flows, res.stderr


def tshark_convs(path):
    out = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z", "conv,tcp"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return sum(1 for line in out.splitlines() if "<->" in line)


def run_case(root, weir, name):
    capture, convs, want_flows, want_tcp, encaps, note = CASES[name]
    path = os.path.join(root, capture)
    print("%s: %s (%s)" % (name, capture, note))
    got_convs = tshark_convs(path)
    if got_convs != convs:
        fail("tshark sees %d TCP conversations, the case states %d" % (got_convs, convs))
    st, flows, err = replay(weir, path)
    st.setdefault("encapsulations", {})
    print("  tshark %d conversations; weir %d flows, %d TCP packets, encapsulations %s" %
          (convs, st["flows"]["created"], st["tcp_packets"],
           {k: v for k, v in st["encapsulations"].items() if v}))
    if name in FRAGMENTED and st["defrag"]["reassembled"] < 1:
        fail("no datagram reassembled from the fragments: defrag %s" % st["defrag"])
    if st["flows"]["created"] != want_flows or len(flows) != want_flows:
        fail("weir yields %d flows (%d EVE records), expected %d" %
             (st["flows"]["created"], len(flows), want_flows))
    if st["tcp_packets"] != want_tcp:
        fail("weir counts %d TCP packets, expected %d" % (st["tcp_packets"], want_tcp))
    for kind, n in encaps.items():
        if st["encapsulations"].get(kind, 0) < n:
            fail("encapsulations.%s is %d, expected at least %d" % (kind, st["encapsulations"].get(kind, 0), n))
    bad = {k: v for k, v in st["malformed"].items() if v}
    if bad:
        fail("malformed frames: %s" % bad)
    if "not decoded" in err:
        fail("weir says: " + err)
    if name == "fddi" and any(f["flow"]["reason"] != "rst" or f["flow"]["pkts_toserver"] +
                              f["flow"]["pkts_toclient"] != 1 for f in flows):
        fail("the FDDI capture's flows should each be one RST")


def run_unknown(weir):
    """A capture of a link type weir does not decode: named at open, its frames counted."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "radiotap.pcap")
        frame = bytes(60)
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, DLT_RADIOTAP))
            for i in range(3):
                f.write(struct.pack("<IIII", 1000 + i, 0, len(frame), len(frame)) + frame)
        st, _, err = replay(weir, path)
    want = "%s: link type %d (IEEE802_11_RADIO) is not decoded by weir" % (path, DLT_RADIOTAP)
    print("  stderr: " + err.strip())
    if want not in err:
        fail("no message naming the link type: %r" % err)
    if st["malformed"]["unknown_linktype"] != 3 or st["packets"] != 3:
        fail("the 3 frames are not counted: %s" % st["malformed"])


def main():
    if sys.argv[1:] == ["--list"]:
        print(";".join(list(CASES) + ["unknown-linktype"]))
        return
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    root, weir, name = sys.argv[1:]
    if name == "unknown-linktype":
        run_unknown(weir)
    elif name in CASES:
        run_case(root, weir, name)
    else:
        sys.exit("unknown case %r" % name)
    print("ok")


if __name__ == "__main__":
    main()
