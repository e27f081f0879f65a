#!/usr/bin/env python3
"""run.py — replays every capture of the shared external corpus through weir and checks it against tshark.

usage: run.py TESTDATA_DIR WEIR [--jobs N] [--timeout S] [--cache DIR] [--only SUBSTR] [--verbose]

Per capture (one weir process each, N at a time):
  * weir must not crash: exit 0, or 65 for a file that is damaged (tshark agrees) or that libpcap,
    weir's reader, refuses part of (a pcapng whose interfaces differ in link type or snapshot
    length). A signal, a sanitizer report, a timeout or any other exit code fails the run.
  * weir's flows are compared with tshark's TCP streams (tcp.stream), per connection 4-tuple. A
    difference passes only when the capture explains it, from tshark's per-frame protocol stack,
    flags, VLAN ids, expert messages and times, or from weir's own flow records and counters:
    TCP weir cannot reach (link type, L2 encapsulation, tunnel, TCP quoted in ICMP,
    frames weir counts as malformed), ports reused for a new connection, one 4-tuple on several
    VLANs, a flow weir ended (FIN/RST linger, idle timeout) before the ports were used again, or
    an application dissector of tshark that splits a TCP conversation (shown by re-running tshark
    with that dissector disabled).
Anything else is an unexplained difference and fails. The explained ones are printed as a table.
"""
import argparse
import collections
import concurrent.futures
import datetime
import hashlib
import ipaddress
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile

# weir's timing defaults, read from `weir check --defaults` (the settings table) before the run: a
# flow closed by FIN/RST lingers flows.timewait for late packets; an idle flow ends after
# flows.idle_timeout, or flows.handshake_timeout before its handshake completes.
WEIR_LINGER_S = WEIR_IDLE_TIMEOUT_S = WEIR_HANDSHAKE_TIMEOUT_S = None
# EVE times have microseconds, tshark's nanoseconds.
TIME_SLACK_S = 0.000002
# TCP states of a flow past its handshake (EVE tcp.client_state / server_state names).
SYNCHRONIZED = {"established", "fin_wait_1", "fin_wait_2", "close_wait", "closing", "last_ack",
                "time_wait"}

EXIT_DAMAGED = 65

PCAP_MAGICS = (b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

# Per-frame fields; occurrence=a keeps every layer's value (outer first) for tunnels.
TSHARK_FIELDS = ("frame.number", "frame.time_epoch", "frame.protocols", "tcp.stream", "ip.src",
                 "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "tcp.flags",
                 "vlan.id", "_ws.expert.message")

# Link layers weir parses (tshark's names), and what may sit between them and the IP header
# (engine/parse/link.c: tags, PBB, FabricPath and its inner Ethernet, MPLS, PPPoE, PPP, Cisco
# HDLC, LLC/SNAP).
WEIR_LINKS = {"eth", "sll", "null", "raw", "loop", "fddi", "ppp", "chdlc"}
WEIR_L2_SKIP = {"ethertype", "vlan", "ieee8021ah", "cfp", "eth", "mpls", "pppoes", "ppp", "chdlc",
                "llc"}
# Tunnels weir takes off (tshark's names; those in UDP on their default ports), what may sit
# between a tunnel header and the inner Ethernet or IP header, and the depth limit
# (tunnels.max_depth). An IP header right after an IP header is IP-in-IP.
WEIR_TUNNELS = {"vxlan", "geneve", "gtp", "teredo", "ayiya", "gre"}
WEIR_TUNNEL_SKIP = {"erspan", "ppp", "wlan", "llc"}  # wlan, llc: Aruba 802.11 in GRE
WEIR_TUNNEL_DEPTH = 3
# IPv6 extension headers weir walks to reach TCP (after a fragment header, once reassembled).
WEIR_IPV6_EXT = {"ipv6.hopopts", "ipv6.routing", "ipv6.dstopts", "ipv6.fraghdr", "ah"}
# tshark expert messages for frames weir's parser rejects, and the weir malformed counters that
# must then be non-zero (parse.h: the IP length must fit the frame unless the capture truncated
# it; the TCP header length must be >= 20 and present; options must have sane lengths).
MALFORMED_SIGNS = (
    ("IPv4 total length exceeds packet length", "IP total length exceeds the frame", ("bad_ip_len",)),
    ("IPv6 payload length exceeds", "IPv6 payload length exceeds the frame", ("bad_ip_len",)),
    ("Bogus TCP header length", "TCP header length < 20", ("bad_tcp_hlen",)),
    ("Short segment", "TCP header cut short", ("trunc_tcp", "bad_tcp_hlen")),
    ("too-short option length", "TCP option with a bad length", ("bad_tcp_opt",)),
)
TH_SYN = 0x02


def loud(msg):
    bar = "!" * 78
    print("%s\n%s\n%s" % (bar, msg, bar), flush=True)


def find_captures(root):
    found = []
    for d, _, files in os.walk(root):
        for name in files:
            path = os.path.join(d, name)
            try:
                with open(path, "rb") as f:
                    if f.read(4) in PCAP_MAGICS + (PCAPNG_MAGIC,):
                        found.append(path)
            except OSError:
                continue
    return sorted(found)


def pcapng_interfaces(path):
    """(link type, snaplen) of every interface description block of a pcapng file ([] if not one)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != PCAPNG_MAGIC:
        return out
    off, endian = 0, "<"
    while off + 12 <= len(data):
        btype = struct.unpack_from(endian + "I", data, off)[0]
        if btype == 0x0A0D0D0A:  # a section header: its byte-order magic sets the endianness
            endian = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack_from(endian + "I", data, off + 4)[0]
        if blen < 12 or off + blen > len(data):
            break
        if btype == 1 and blen >= 20:
            link, _, snap = struct.unpack_from(endian + "HHI", data, off + 8)
            out.append((link, snap))
        off += blen
    return out


# ---- tshark's view ---------------------------------------------------------------------------

def frame_reach(protocols, expert):
    """(why weir cannot see this frame's outermost TCP as TCP, weir counters that must confirm it)
    or (None, "ip"|"ipv6") when weir can."""
    t = protocols.split(":")
    i = 0
    if t[0] not in ("ip", "ipv6"):
        if t[0] not in WEIR_LINKS:
            return ("link type '%s' (weir parses Ethernet, SLL, loopback, raw IP, PPP, Cisco HDLC, FDDI)" % t[0], ()), None
        i = 1
        while i < len(t) and t[i] in WEIR_L2_SKIP:
            i += 1
    if i >= len(t) or t[i] not in ("ip", "ipv6"):
        return ("L2 encapsulation '%s' (weir does not decapsulate it)" % (t[i] if i < len(t) else "?"), ()), None
    j = i + 1
    while j < len(t) and t[j] in WEIR_IPV6_EXT:
        j += 1
    # Tunnels weir takes off (engine/parse/tunnel.c): go on from the innermost IP header.
    for _ in range(WEIR_TUNNEL_DEPTH):
        k = tunnel_inner_ip(t, j)
        if k is None:
            break
        i = k
        j = i + 1
        while j < len(t) and t[j] in WEIR_IPV6_EXT:
            j += 1
    inner = t[j] if j < len(t) else "?"
    if inner != "tcp":
        if inner in ("icmp", "icmpv6"):
            return ("TCP header quoted inside an ICMP error", ()), None
        if inner in ("ip", "ipv6"):
            return ("tunnel '%s-in-%s' (weir does not decapsulate it)" % (inner, t[i]), ()), None
        if inner == "udp" and j + 1 < len(t):
            j += 1
            inner = t[j]
        if inner in WEIR_TUNNELS:  # one weir takes off, over a payload it does not decode
            what = t[j + 1] if j + 1 < len(t) else "?"
            return ("tunnel '%s' carrying '%s' (weir does not decode it)" % (inner, what),
                    ("tunnel_unsupported",)), None
        return ("tunnel '%s' (weir does not decapsulate it)" % inner, ()), None
    for sign, what, counters in MALFORMED_SIGNS:
        if sign in expert:
            return ("malformed to weir: %s (counted in %s)" % (what, "/".join(counters)), counters), None
    return None, t[i]


def tunnel_inner_ip(t, j):
    """Where the IP header inside the tunnel that starts at t[j] is, when weir takes that tunnel
    off (its UDP port the default), else None."""
    k = j
    if k < len(t) and t[k] == "udp" and k + 1 < len(t) and t[k + 1] in WEIR_TUNNELS:
        k += 1
    if k < len(t) and t[k] in ("ip", "ipv6"):
        return k
    if k >= len(t) or t[k] not in WEIR_TUNNELS:
        return None
    k += 1
    while k < len(t) and t[k] in WEIR_TUNNEL_SKIP:
        k += 1
    if k < len(t) and t[k] == "eth":
        k += 1
        while k < len(t) and t[k] in WEIR_L2_SKIP:
            k += 1
    return k if k < len(t) and t[k] in ("ip", "ipv6") else None


def first(v):
    return v.split(",")[0] if v else ""


def norm_ip(s):
    return str(ipaddress.ip_address(s))


def canon(a_ip, a_port, b_ip, b_port):
    a, b = (a_ip, int(a_port)), (b_ip, int(b_port))
    ka = (ipaddress.ip_address(a[0]).packed, a[1])
    kb = (ipaddress.ip_address(b[0]).packed, b[1])
    return (a, b) if ka <= kb else (b, a)


class Stream:
    """One tshark TCP stream: why weir cannot see some of its frames, and its reachable frames'
    4-tuple, VLAN signatures, first packet and application protocols."""

    def __init__(self):
        self.frames = 0
        self.reachable = 0
        self.last_frame = 0
        self.reasons = collections.Counter()   # (text, confirming counters) -> frames
        self.key = None
        self.vlans = set()                     # (outer, inner) VLAN ids, 0 = none
        self.first_ts = None
        self.opened_by = None                  # (flags, reachable?) of the stream's first frame
        self.apps = set()                      # protocols above TCP (for the dissector check)


def parse_tshark_row(row, streams, max_frame):
    f = dict(zip(TSHARK_FIELDS, row.rstrip("\n").split("\t")))
    if not f.get("tcp.stream") or (max_frame is not None and int(f["frame.number"]) > max_frame):
        return
    reason, ver = frame_reach(f["frame.protocols"], f.get("_ws.expert.message", ""))
    protos = f["frame.protocols"].split(":")
    apps = set(protos[protos.index("tcp") + 1:]) if "tcp" in protos else set()
    flags = f.get("tcp.flags", "").split(",")
    for n, sid in enumerate(f["tcp.stream"].split(",")):
        s = streams.setdefault(int(sid), Stream())
        s.frames += 1
        s.last_frame = int(f["frame.number"])
        # A second tcp.stream value in one frame is TCP carried inside the first TCP stream.
        r = reason if n == 0 else ("TCP inside another TCP stream (weir does not decapsulate it)", ())
        if s.opened_by is None:
            s.opened_by = (int(flags[n], 16) if n < len(flags) and flags[n] else 0, r is None)
        if r:
            s.reasons[r] += 1
            continue
        s.reachable += 1
        s.apps |= apps
        src, dst = (f["ipv6.src"], f["ipv6.dst"]) if ver == "ipv6" else (f["ip.src"], f["ip.dst"])
        # The TCP is in the innermost header of its family: the last of the list (tunnels).
        src, dst = src.split(",")[-1], dst.split(",")[-1]
        if s.key is None and src and dst:
            s.key = canon(norm_ip(src), first(f["tcp.srcport"]), norm_ip(dst),
                          first(f["tcp.dstport"]))
            s.first_ts = float(f["frame.time_epoch"])
        vl = [int(x) for x in f.get("vlan.id", "").split(",") if x][:2]
        s.vlans.add(tuple(vl + [0] * (2 - len(vl))))


def tshark_version():
    out = subprocess.run(["tshark", "-v"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else "?"


def tshark_run(path, cache_dir, version, timeout, extra=()):
    """tshark's field output for the capture ({rc, stdout, stderr}), cached by content."""
    cmd = ["tshark", "-r", path, "-n", "-Y", "tcp", "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=a", "-E", "aggregator=,"] + list(extra)
    for fld in TSHARK_FIELDS:
        cmd += ["-e", fld]
    cached = None
    if cache_dir:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            h.update(f.read())
        h.update(("\0".join(cmd[3:]) + version).encode())
        cached = os.path.join(cache_dir, h.hexdigest() + ".json")
        if os.path.exists(cached):
            with open(cached) as f:
                return json.load(f)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")
    err = "\n".join(l for l in p.stderr.splitlines() if "Running as user" not in l)
    out = {"rc": p.returncode, "stdout": p.stdout, "stderr": err}
    if cached:
        tmp = "%s.%d.%d.tmp" % (cached, os.getpid(), id(out))
        with open(tmp, "w") as f:
            json.dump(out, f)
        os.replace(tmp, cached)
    return out


def tshark_streams(out, max_frame=None):
    streams = {}
    for row in out["stdout"].splitlines():
        parse_tshark_row(row, streams, max_frame)
    return streams


def tshark_damaged(out):
    return any(m in out["stderr"] for m in ("cut short", "damaged or corrupt", "appears to be damaged"))


# ---- weir's view -----------------------------------------------------------------------------

def eve_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def weir_run(path, weir, timeout):
    """Runs weir on one capture: (exit code, -signal, or None on timeout; stats; EVE records; stderr)."""
    with tempfile.TemporaryDirectory(prefix="weir-ext-") as d:
        eve, stats = os.path.join(d, "eve.json"), os.path.join(d, "stats.json")
        cmd = [weir, "replay", "--quiet", "--eve", eve, "--stats-json", stats, path]
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return None, None, [], (e.stderr or b"").decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        st, flows = None, []
        try:
            with open(stats) as f:
                st = json.load(f)
            with open(eve) as f:
                flows = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError) as e:
            st = {"_error": "weir's output is unreadable: %s" % e}
        return p.returncode, st, flows, err


class WeirFlow:
    def __init__(self, rec):
        self.key = canon(norm_ip(rec["src_ip"]), rec["src_port"], norm_ip(rec["dest_ip"]), rec["dest_port"])
        v = rec.get("vlan", [])[:2]
        self.vlan = tuple(v + [0] * (2 - len(v)))
        fl, tcp = rec.get("flow", {}), rec.get("tcp", {})
        self.start = eve_time(fl["start"])
        self.end = eve_time(fl["end"])
        self.reason = fl.get("reason", "?")
        self.midstream = bool(tcp.get("midstream"))
        self.synced = tcp.get("client_state") in SYNCHRONIZED and tcp.get("server_state") in SYNCHRONIZED
        self.tunnel = rec.get("tunnel", {}).get("type")


# ---- comparison ------------------------------------------------------------------------------

def fmt_key(key):
    (a, ap), (b, bp) = key
    return "%s:%d <-> %s:%d" % ("[%s]" % a if ":" in a else a, ap, "[%s]" % b if ":" in b else b, bp)


def weir_defaults(weir):
    """Sets the timing defaults above from `weir check --defaults` (NAME = VALUE -- doc lines)."""
    global WEIR_LINGER_S, WEIR_IDLE_TIMEOUT_S, WEIR_HANDSHAKE_TIMEOUT_S
    out = subprocess.run([weir, "check", "--defaults"], capture_output=True, text=True, timeout=60, check=True).stdout
    vals = dict(line.split(" --", 1)[0].split(" = ", 1) for line in out.splitlines())
    WEIR_LINGER_S = float(vals["flows.timewait"])
    WEIR_IDLE_TIMEOUT_S = float(vals["flows.idle_timeout"])
    WEIR_HANDSHAKE_TIMEOUT_S = float(vals["flows.handshake_timeout"])


def weir_split(prev, cur):
    """Why weir legitimately started cur after prev on the same ports, or None."""
    gap = cur.start - prev.end + TIME_SLACK_S
    if prev.reason in ("fin", "rst") and gap >= WEIR_LINGER_S:
        return "weir closed the flow by %s; packets after its %.0f s linger opened a new flow" % (prev.reason, WEIR_LINGER_S)
    if prev.reason == "rst" and not cur.midstream:
        # tshark keeps a SYN repeating the ISN in the old stream (a retransmission to it)
        return "a SYN after the RST that ended the flow: a new attempt (the RST deleted the connection)"
    limit = WEIR_IDLE_TIMEOUT_S if prev.synced else WEIR_HANDSHAKE_TIMEOUT_S
    if prev.reason == "timeout" and gap >= limit:
        return "weir timed the flow out (idle %.0f s); later packets opened a new flow" % limit
    return None


def near(t, times):
    return any(abs(t - x) <= TIME_SLACK_S for x in times)


def explain_group(key, ts, ws):
    """Matches weir's flows with tshark's streams on one 4-tuple. Each place where only one of the
    two starts a new flow/stream on these ports must be explained. Returns (Counter of
    explanations, unexplained texts, tshark-only boundaries not at a SYN: [(time, text)])."""
    expl, bad, pending = collections.Counter(), [], []
    name = fmt_key(key)
    if not ws:
        return expl, ["%s: %d tshark stream(s), no weir flow" % (name, len(ts))], pending
    if not ts:
        # tshark decodes Teredo on port 3544 only; after qualification a client talks to its
        # relay on other ports, which weir recognises by the Teredo prefix, as Zeek does.
        if all(w.tunnel == "teredo" for w in ws):
            expl["Teredo away from port 3544 (tshark does not decode it there, weir does)"] += len(ws)
            return expl, [], pending
        return expl, ["%s: %d weir flow(s), no tshark stream" % (name, len(ws))], pending
    # weir keys flows by VLAN, tshark's streams ignore it: compare per VLAN.
    vlans = sorted(set(w.vlan for w in ws) | set(v for s in ts for v in s.vlans))
    extra = sum(len(s.vlans) for s in ts) - len(ts)
    if extra:
        expl["same ports on several VLANs: weir keeps a flow per VLAN, tshark one stream"] += extra
    for v in vlans:
        tv = sorted((s for s in ts if v in s.vlans), key=lambda s: s.first_ts)
        wv = sorted((w for w in ws if w.vlan == v), key=lambda w: w.start)
        where = "%s%s" % (name, " vlan %s" % list(v) if v != (0, 0) else "")
        if not tv or not wv:
            bad.append("%s: %d tshark stream(s), %d weir flow(s)" % (where, len(tv), len(wv)))
            continue
        t_starts = [s.first_ts for s in tv]
        w_starts = [w.start for w in wv]
        for prev, cur in zip(wv, wv[1:]):
            if near(cur.start, t_starts):
                continue  # tshark starts a new stream there too
            why = weir_split(prev, cur)
            if why:
                expl[why] += 1
            else:
                bad.append("%s: weir starts a new flow at %.6f, %.6f s after the previous one ended "
                           "by %s; tshark continues its stream" % (where, cur.start, cur.start - prev.end, prev.reason))
        for s in tv[1:]:
            if near(s.first_ts, w_starts):
                continue
            if s.opened_by[0] & TH_SYN:
                expl["ports reused: tshark starts a new stream at the SYN%s, weir continues its flow"
                     % ("" if s.opened_by[1] else " (a frame weir cannot parse)")] += 1
            else:
                pending.append((s.first_ts, "%s: tshark starts a new stream at %.6f (no SYN), weir "
                                            "continues its flow" % (where, s.first_ts)))
    return expl, bad, pending


def compare(streams, flows, stats):
    """(explanations Counter, unexplained texts, {key: tshark-only boundaries not at a SYN})."""
    expl, bad, pending = collections.Counter(), [], {}
    malformed = stats.get("malformed", {})
    groups_t = collections.defaultdict(list)
    for sid, s in streams.items():
        if s.reachable == 0:
            (text, counters), _ = max(s.reasons.items(), key=lambda kv: kv[1])
            if counters and not any(malformed.get(c, 0) for c in counters):
                bad.append("tshark stream %d: %s, but weir's counters %s are 0" % (sid, text, "/".join(counters)))
            else:
                expl[text] += 1
            continue
        if s.key is None:
            bad.append("tshark stream %d has no addresses" % sid)
            continue
        groups_t[s.key].append(s)
    groups_w = collections.defaultdict(list)
    for rec in flows:
        w = WeirFlow(rec)
        groups_w[w.key].append(w)
    for key in sorted(set(groups_t) | set(groups_w), key=str):
        e, b, p = explain_group(key, groups_t.get(key, []), groups_w.get(key, []))
        expl.update(e)
        bad.extend(b)
        if p:
            pending[key] = p
    return expl, bad, pending


def dissector_split(path, args, version, streams, pending):
    """Re-runs tshark with the application dissectors of the streams in `pending` disabled: a
    boundary where only tshark started a new stream (without a SYN) is explained when tshark,
    without those dissectors, no longer starts a stream there. Returns (Counter, unexplained)."""
    apps = set()
    for s in streams.values():
        if s.key in pending:
            apps |= s.apps
    expl, bad = collections.Counter(), []
    if not apps:
        return expl, [text for p in pending.values() for _, text in p]
    out = tshark_run(path, args.cache, version, args.tshark_timeout,
                     ["--disable-protocol", ",".join(sorted(apps))])
    starts = collections.defaultdict(list)
    for s in tshark_streams(out).values():
        if s.reachable:
            starts[s.key].append(s.first_ts)
    for key, p in pending.items():
        for t, text in p:
            if near(t, starts[key]):
                bad.append(text)
            else:
                expl["tshark's %s dissector splits the TCP conversation (one stream with it disabled)"
                     % "/".join(sorted(apps))] += 1
    return expl, bad


def check_exit(res, rc, err, tout, path, stats):
    """Judges weir's exit; returns the frame limit weir's reader stopped at (None: whole file)."""
    san = [l for l in err.splitlines() if "Sanitizer" in l or "runtime error:" in l]
    if san:
        res["fail"].append("sanitizer: " + " | ".join(san[:3]))
    if rc is None:
        res["fail"].append("weir timed out")
    elif rc < 0:
        res["fail"].append("weir killed by signal %s" % signal.Signals(-rc).name)
    elif rc not in (0, EXIT_DAMAGED):
        res["fail"].append("weir exited %d" % rc)
    if res["fail"]:
        # a sanitizer report starts with the error and its stack (file:line); else the end matters
        res["stderr"] = err[:6000] if san else err[-4000:]
        return None
    if rc == 0:
        if tshark_damaged(tout):
            res["fail"].append("tshark says the file is damaged, weir exited 0")
        return None
    if tshark_damaged(tout):
        return None  # both agree; tshark reads up to the damage too
    ifs = pcapng_interfaces(path)
    read = sum(f.get("packets", 0) for f in (stats or {}).get("files", []))
    if len(set(ifs)) > 1:
        res["limit_reason"] = ("not read by weir: libpcap stops at a pcapng interface whose link type or "
                               "snaplen differs from the first (%d interface kinds)" % len(set(ifs)))
        return read
    res["fail"].append("weir exited 65 (damaged), tshark reads the file cleanly: %s"
                       % (err.strip().splitlines() or ["?"])[-1])
    return None


def check_file(path, args, version):
    res = {"file": os.path.relpath(path, args.testdata), "fail": [], "expl": collections.Counter(),
           "tshark": 0, "weir": None}
    try:
        tout = tshark_run(path, args.cache, version, args.tshark_timeout)
    except subprocess.TimeoutExpired:
        res["fail"].append("tshark timed out")
        return res
    streams = tshark_streams(tout)
    res["tshark"] = len(streams)
    rc, stats, flows, err = weir_run(path, args.weir, args.timeout)
    limit = check_exit(res, rc, err, tout, path, stats)
    if res["fail"]:
        return res
    if stats is None or "_error" in stats:
        res["fail"].append((stats or {}).get("_error", "no stats"))
        return res
    res["weir"] = stats["flows"]["created"]
    if res["weir"] != len(flows):
        res["fail"].append("stats flows.created %d but %d EVE records" % (res["weir"], len(flows)))
    if limit is not None:
        seen = tshark_streams(tout, limit)
        res["expl"][res["limit_reason"]] += len(streams) - len(seen)
        streams = seen
    expl, bad, pending = compare(streams, flows, stats)
    if pending:
        e, b = dissector_split(path, args, version, streams, pending)
        expl.update(e)
        bad.extend(b)
    res["expl"].update(expl)
    res["fail"].extend(bad)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("testdata")
    ap.add_argument("weir")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=60, help="seconds per weir process")
    ap.add_argument("--tshark-timeout", type=int, default=600)
    ap.add_argument("--cache", help="directory caching tshark's output per capture (by content hash)")
    ap.add_argument("--only", help="only captures whose path contains this")
    ap.add_argument("--verbose", action="store_true", help="one line per capture")
    args = ap.parse_args()

    if not os.path.isdir(args.testdata):
        loud("shared testdata not found at %s: this label cannot run here" % os.path.abspath(args.testdata))
        return 1
    if not os.access(args.weir, os.X_OK):
        loud("weir binary not found at %s" % args.weir)
        return 1
    try:
        version = tshark_version()
    except OSError:
        loud("tshark not found (packaging/install-deps --test): the external corpus needs it as the oracle")
        return 1
    if args.cache:
        os.makedirs(args.cache, exist_ok=True)
    weir_defaults(args.weir)
    files = find_captures(args.testdata)
    if args.only:
        files = [f for f in files if args.only in f]
    if not files:
        loud("no captures under %s: this label cannot run here" % args.testdata)
        return 1
    print("%d captures, %d jobs, %s, weir %s" % (len(files), args.jobs, version, args.weir), flush=True)

    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = [ex.submit(check_file, f, args, version) for f in files]
        for n, fut in enumerate(concurrent.futures.as_completed(futs), 1):
            r = fut.result()
            results.append(r)
            if args.verbose or r["fail"]:
                print("[%d/%d] %s %s: tshark %s, weir %s%s" % (
                    n, len(files), "FAIL" if r["fail"] else "ok", r["file"], r["tshark"], r["weir"],
                    "".join("\n    " + x for x in r["fail"])), flush=True)
                if r["fail"] and r.get("stderr"):
                    print("    stderr: " + r["stderr"].strip().replace("\n", "\n    "), flush=True)
    return report(sorted(results, key=lambda r: r["file"]))


def report(results):
    diff = [r for r in results if r["expl"] and not r["fail"]]
    print("\nExplained differences between tshark's TCP streams and weir's flows (%d captures):" % len(diff))
    w = max([len(r["file"]) for r in diff] + [10])
    print("%-*s %6s %5s  %s" % (w, "capture", "tshark", "weir", "why (streams or flows)"))
    totals = collections.Counter()
    for r in diff:
        why = "; ".join("%s x%d" % (k, v) for k, v in sorted(r["expl"].items()))
        print("%-*s %6d %5d  %s" % (w, r["file"], r["tshark"], r["weir"], why))
        totals.update(r["expl"])
    print("\nBy reason:")
    for k, v in totals.most_common():
        print("  %5d  %s" % (v, k))
    fails = [r for r in results if r["fail"]]
    same = sum(1 for r in results if not r["fail"] and not r["expl"])
    print("\n%d captures: %d with the same flows as tshark, %d with explained differences, %d FAILED"
          % (len(results), same, len(diff), len(fails)))
    for r in fails:
        print("FAIL %s: %s" % (r["file"], "; ".join(r["fail"])))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
