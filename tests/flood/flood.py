#!/usr/bin/env python3
"""flood.py — CTest flood_<kind> (label flood): a weir_flood capture, legitimate connections spread
among the flood, replayed by weir under small caps. Checks peak memory against the caps, every
cap's counter against what the generator made, and every legitimate flow's bytes, both ways,
against what its ends sent (tests/flood/legit.lua writes what weir delivered). bench/run --floods
runs the same replays at full size (replay(), expectations()).

usage: flood.py WEIR_FLOOD WEIR KIND [--asan]      KIND: syn, tiny-ooo, overlap, frag
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "legit.lua")
TIMEOUT_S = 600
KIB = 1024
MIB = 1024 * KIB

# Peak RSS weir replay may use beyond its caps (flows.max x memory.flow_entry_bytes +
# streams.memcap + defrag.memcap): the process itself (binary, libraries, LuaJIT and this test's
# script, jemalloc's arenas, the capture reader's buffers). Measured with /usr/bin/time -f %M:
# the legitimate connections alone (weir_flood syn --count 1 --legit 20 --legit-rounds 250, these
# caps and script) peak at 15.2-15.6 MiB in the Release build, and the four floods at 5.5 MiB
# (tiny-ooo, overlap: most of their flow table is never touched) to 13.1 MiB (syn) above their
# caps. 20 MiB leaves room for the spread and no more: without streams.memcap the tiny-ooo flood
# alone holds 46 MB more, without defrag.memcap the frag flood 600 MB. Under ASan+UBSan the
# legitimate connections alone peak at 35 MiB and the floods at 385-398 MiB above their caps:
# ASan keeps freed blocks in its quarantine (256 MiB by default) and the floods free memory all
# the time (reclaimed rings, evicted flows and datagrams); there the check only catches gross
# failures, the Release build's is the tight one.
SLACK = {"release": 20 * MIB, "asan": 420 * MIB}
BUILD = "release"

# Per kind: the generator's arguments at the test's size and at the bench's (--full), weir's caps.
# Flows.max leaves room for every flooding connection of tiny-ooo and overlap (their cap is the
# stream memory's) and not for the SYN flood's. Under EVICT_IDLEST a legitimate flow survives a SYN
# flood only if it sends at least once per flows.max new flows (it is then never the idlest): the
# ROUNDS segments of each legitimate flow keep its packets N / (6 + ROUNDS) = 3,906 flood packets
# apart at the test's size (flows.max 16,384) and 39,063 at the bench's, which runs the SYN flood
# with the default flows.max (65,536) for that reason.
KINDS = {
    "syn": {"test": ["--count", "1000000"], "full": ["--count", "10000000"],
            "max_flows": 16384, "max_flows_full": 65536, "memcap": 2 * MIB},
    "tiny-ooo": {"test": ["--count", "1000000", "--flows", "20000"],
                 "full": ["--count", "10000000", "--flows", "20000"],
                 "max_flows": 32768, "memcap": 2 * MIB, "eve": True},
    "overlap": {"test": ["--count", "500000", "--flows", "20000"],
                "full": ["--count", "5000000", "--flows", "20000"],
                "max_flows": 32768, "memcap": 2 * MIB, "eve": True},
    "frag": {"test": ["--count", "200000"], "full": ["--count", "2000000"],
             "max_flows": 16384, "memcap": 2 * MIB, "defrag_memcap": 1 * MIB},
}
LEGIT, ROUNDS = 20, 250
LEGIT_PORT0, HOSTS = 49152, (1 << 24) - 2  # weir_flood's: first legitimate port, 10.0.0.0/8's hosts


def max_flows(kind, full):
    k = KINDS[kind]
    return k.get("max_flows_full", k["max_flows"]) if full else k["max_flows"]


def legit_bytes(j, side, n):
    """The n bytes side (0 client, 1 server) of legitimate flow j sends, as weir_flood writes them."""
    return bytes((j * 131 + side * 71 + o) % 251 for o in range(n))


def read_legit(path):
    """legit.lua's records: {(client_ip, client_port): [record, ...]}."""
    flows = {}
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    head = re.compile(rb"flow (\S+) (\d+) (\S+) (\S+)\n")
    side = re.compile(rb"([cs]) (\d+) (\d+) (\d+)\n")
    while pos < len(data):
        m = head.match(data, pos)
        if not m:
            raise ValueError("legit.lua output unreadable at byte %d" % pos)
        rec = {"reason": m.group(3).decode(), "midstream": m.group(4) == b"true"}
        pos = m.end()
        for _ in range(2):
            s = side.match(data, pos)
            if not s:
                raise ValueError("legit.lua side record unreadable at byte %d" % pos)
            n = int(s.group(2))
            rec[s.group(1).decode()] = {"bytes": data[s.end():s.end() + n], "gap": int(s.group(3)),
                                        "holes": int(s.group(4))}
            pos = s.end() + n
        flows.setdefault((m.group(1).decode(), int(m.group(2))), []).append(rec)
    return flows


def legit_problems(flows, gen):
    """What is wrong with the legitimate flows weir tracked, as a list of strings (empty: none)."""
    bad = []
    for j in range(gen["legit_flows"]):
        v = j % HOSTS + 1
        key = ("10.%d.%d.%d" % (v >> 16 & 255, v >> 8 & 255, v & 255), LEGIT_PORT0 + j // HOSTS)
        recs = flows.pop(key, [])
        if len(recs) != 1:
            bad.append("legitimate flow %s:%d tracked as %d flows" % (key[0], key[1], len(recs)))
            continue
        r = recs[0]
        if r["midstream"] or r["reason"] != "1":
            bad.append("legitimate flow %s:%d: midstream %s, end reason %s (1 = FIN)" % (
                key[0], key[1], r["midstream"], r["reason"]))
        for side, name, n in ((0, "c", gen["legit_c2s_bytes"]), (1, "s", gen["legit_s2c_bytes"])):
            got, want = r[name], legit_bytes(j, side, n)
            if got["gap"] or got["holes"] or got["bytes"] != want:
                first = next((i for i, (a, b) in enumerate(zip(got["bytes"], want)) if a != b),
                             min(len(got["bytes"]), n))
                bad.append("legitimate flow %s:%d %s: %d of %d bytes delivered, gap %d, holes %d, "
                           "first wrong byte at %d" % (key[0], key[1], name, len(got["bytes"]), n,
                                                        got["gap"], got["holes"], first))
    if flows:
        bad.append("flows that are no legitimate flow of the capture: %s" % sorted(flows)[:5])
    return bad


def flood_streams(eve):
    """Sums of the flood flows' (client ports below 49152) client-stream counters in the EVE log."""
    sums = {}
    with open(eve) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("event_type") == "flow" and rec["src_port"] < LEGIT_PORT0:
                for key, v in rec["streams"]["toserver"].items():
                    sums[key] = sums.get(key, 0) + v
    return sums


def generate(gen_bin, kind, work, full=False, legit=True):
    """Writes the kind's capture into work; returns (its path, the generator's counts)."""
    size = "full" if full else "test"
    nl = LEGIT if legit else 0
    pcap = os.path.join(work, "%s-%s-%d.pcap" % (kind, size, nl))
    argv = [gen_bin, kind, *KINDS[kind][size], "--legit", str(nl), "--legit-rounds", str(ROUNDS),
            "--out", pcap]
    p = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=TIMEOUT_S)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(argv), p.returncode, p.stderr))
    return pcap, json.loads(p.stdout)


def replay(gen_bin, weir, kind, work, full=False, policy="evict", legit=True):
    """The kind's capture replayed under its caps. Returns a dict: gen (the generator's counts),
    stats (weir's), rss (bytes), caps (bytes), cpu (s), policy, legit (problems), flood_streams
    (kinds with an EVE log), cmd."""
    k = KINDS[kind]
    pcap, gen = generate(gen_bin, kind, work, full, legit)
    tag = "%s-%s-%s" % (kind, policy, "legit" if legit else "flood")
    stats, out, eve = (os.path.join(work, "%s.%s" % (tag, x)) for x in ("json", "legit", "eve"))
    if os.path.exists(out):
        os.unlink(out)
    mf = max_flows(kind, full)
    caps = ["--max-flows", str(mf), "--flow-policy", policy, "--memcap", str(k["memcap"])]
    if "defrag_memcap" in k:
        caps += ["--defrag-memcap", str(k["defrag_memcap"])]
    cmd = ["/usr/bin/time", "-f", "%M %U %S", weir, "replay", "-q", "--stats-json", stats, *caps]
    if k.get("eve"):
        cmd += ["--eve", eve]
    if legit:
        cmd += ["-s", SCRIPT]
    cmd.append(pcap)
    r = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=TIMEOUT_S,
                       env=dict(os.environ, WEIR_FLOOD_OUT=out))
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
    if r.returncode != 0 or not re.fullmatch(r"\d+ [\d.]+ [\d.]+", last):
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    rss_kib, user, sys_s = last.split()
    with open(stats) as f:
        st = json.load(f)
    res = {"gen": gen, "stats": st, "rss": int(rss_kib) * KIB, "cpu": float(user) + float(sys_s),
           "policy": policy, "cmd": " ".join(cmd[4:]), "legit": [], "max_flows": mf,
           "caps": mf * st["memory"]["flow_entry_bytes"] + k["memcap"] + k.get("defrag_memcap", 0)}
    if legit:
        res["legit"] = legit_problems(read_legit(out) if os.path.exists(out) else {}, gen)
    if k.get("eve"):
        res["flood_streams"] = flood_streams(eve)
        os.unlink(eve)
    return res


def one_datagram_cost(gen_bin, weir, work):
    """defrag.memory_used of one incomplete weir_flood datagram, held at the end of a capture of
    datagram 0 (complete) and datagram 1 (not): what each datagram still held at the end costs."""
    pcap, stats = os.path.join(work, "one-datagram.pcap"), os.path.join(work, "one-datagram.json")
    subprocess.run([gen_bin, "frag", "--count", "2", "--out", pcap], capture_output=True, check=True)
    subprocess.run([weir, "replay", "-q", "--stats-json", stats, pcap], capture_output=True, check=True)
    with open(stats) as f:
        return json.load(f)["defrag"].get("memory_used", 0)


def kind_expectations(kind, r, cost):
    """The counters particular to a kind, as (holds, what) pairs."""
    g, st, k = r["gen"], r["stats"], KINDS[kind]
    fl, cl, mem, df = st["flows"], st["closes"], st["memory"], st["defrag"]
    m, n = r["max_flows"], g["flood_flows"] + g["legit_flows"]
    if kind == "syn" and r["policy"] == "evict":
        return [(fl["created"] == n, "flows created %d = SYNs + legitimate flows %d" % (fl["created"], n)),
                (fl["evicted"] == n - m == cl.get("evicted", 0),
                 "evicted %d = closes.evicted %d = flows - flows.max %d" % (fl["evicted"], cl.get("evicted", 0), n - m)),
                (fl["refused"] == 0, "none refused (%d)" % fl["refused"])]
    if kind == "syn":
        return [(fl["created"] == m, "flows created %d = flows.max %d" % (fl["created"], m)),
                (fl["refused"] == n - m, "refused %d = flows - flows.max %d" % (fl["refused"], n - m)),
                (fl["evicted"] == 0, "none evicted (%d)" % fl["evicted"])]
    fs = r.get("flood_streams", {})
    created = [(fl["created"] == n and fl["evicted"] == 0,
                "flows created %d = flood + legitimate flows %d, none evicted" % (fl["created"], n))]
    if kind == "tiny-ooo":
        return created + [
            (mem["reclaimed"] > 0 and fs["outrun_bytes"] == mem["reclaimed"],
             "flood bytes given up %d = memory.reclaimed %d (> 0)" % (fs["outrun_bytes"], mem["reclaimed"])),
            (fs["delivered"] + fs["outrun_bytes"] == g["segments"],
             "flood bytes held to the end %d + given up %d = 1-byte segments sent %d" % (
                 fs["delivered"], fs["outrun_bytes"], g["segments"]))]
    if kind == "overlap":
        # The cap holds far fewer flows' segments than flows flood round robin, so each flow's
        # one held segment (100 bytes) is given up before its next comes, but those held at the end.
        return created + [
            (st["events"]["rexmit"] == g["segments"] - g["flood_flows"],
             "REXMIT %d = segments - each flow's first %d" % (st["events"]["rexmit"], g["segments"] - g["flood_flows"])),
            (mem["reclaimed"] == fs["outrun_bytes"] and mem["reclaimed"] + fs["delivered"] == 100 * g["segments"],
             "given up %d (= outrun bytes %d) + held to the end %d = 100 x segments %d" % (
                 mem["reclaimed"], fs["outrun_bytes"], fs["delivered"], 100 * g["segments"]))]
    held = df.get("memory_used", 0) // cost if cost else -1
    return [
        (df.get("reassembled", 0) == g["complete"], "reassembled %d = complete datagrams %d" % (df.get("reassembled", 0), g["complete"])),
        (fl["created"] == g["complete"] + g["legit_flows"], "flows created %d = complete datagrams + legitimate flows" % fl["created"]),
        (df.get("tiny", 0) == g["datagrams"], "tiny first fragments %d = datagrams %d" % (df.get("tiny", 0), g["datagrams"])),
        (df.get("memory_peak", 0) <= k["defrag_memcap"], "defrag memory peak %d <= defrag.memcap" % df.get("memory_peak", 0)),
        (bool(cost) and df.get("memory_used", 0) % cost == 0 and df.get("evicted", 0) + held == g["incomplete"],
         "evicted %d + still held at the end %d (memory_used / %s) = incomplete datagrams %d" % (
             df.get("evicted", 0), held, cost, g["incomplete"])),
        (not any(df.get(x, 0) for x in ("timeouts", "too_many", "oversized", "bad", "overlaps")),
         "no other defrag outcome (timeouts, too_many, oversized, bad, overlaps)")]


def expectations(kind, r, cost=None):
    """(holds, what) pairs: memory against the caps, every counter the caps drive against the
    generator's counts, and the legitimate flows."""
    st, k = r["stats"], KINDS[kind]
    an, mem = st["anomalies"], st["memory"]
    nl = r["gen"]["legit_flows"]
    out = [
        (r["rss"] <= r["caps"] + SLACK[BUILD], "peak RSS %.1f MiB <= caps %.1f MiB + %d MiB" % (
            r["rss"] / MIB, r["caps"] / MIB, SLACK[BUILD] // MIB)),
        (mem["peak"] <= k["memcap"], "stream memory peak %d <= streams.memcap %d" % (mem["peak"], k["memcap"])),
        (not any(an.values()), "no anomaly (memcap: no side stopped buffering): %s" % {a: b for a, b in an.items() if b}),
        # a refused flow's packets are orphans: nothing else may be
        (st["orphans"] == st["flows"]["refused"] and st["flows"]["midstream"] == 0,
         "no orphan but refused SYNs (%d, %d), no midstream flow (%d)" % (
             st["orphans"], st["flows"]["refused"], st["flows"]["midstream"])),
        (st["closes"].get("fin", 0) == nl, "the %d legitimate flows end by FIN (%d)" % (nl, st["closes"].get("fin", 0))),
    ]
    out += kind_expectations(kind, r, cost)
    out.append((not r["legit"], "every legitimate flow whole, both ways (%d problems)%s" % (
        len(r["legit"]), "".join("\n    " + p for p in r["legit"][:10]))))
    return out


def main():
    global BUILD
    args = sys.argv[1:]
    if len(args) < 3 or args[2] not in KINDS:
        sys.exit(__doc__.strip().splitlines()[-1])
    gen_bin, weir, kind = args[:3]
    if "--asan" in args[3:]:
        BUILD = "asan"
    work = tempfile.mkdtemp(prefix="weir-flood-")
    try:
        runs = [replay(gen_bin, weir, kind, work)]
        if kind == "syn":
            runs.append(replay(gen_bin, weir, kind, work, policy="refuse"))
        cost = one_datagram_cost(gen_bin, weir, work) if kind == "frag" else None
        bad = 0
        for r in runs:
            print("%s, flows.policy %s: weir %s" % (kind, r["policy"], r["cmd"]))
            print("  %.2f s CPU, %d packets" % (r["cpu"], r["gen"]["packets"]))
            for ok, what in expectations(kind, r, cost):
                print("  %s: %s" % ("ok" if ok else "FAIL", what))
                bad += not ok
        if bad:
            sys.exit("FAIL: %d expectations not met" % bad)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
