#!/usr/bin/env python3
"""check_flood.py — checks flood.sh's run: the legitimate transfers, the caps' counters and the per-port
accounting, against weir's summary, its dashboard and the kernel's interface counters.

usage: check_flood.py floods DIR GEN IFACE0 IFACE1 MAX_FRAGMENTS COUNTER...
       check_flood.py stop DIR GEN IFACE0 IFACE1
DIR holds one run's stats.flood.json (the summary) and the kernel's counters of weir's namespace
before and after the run: links.TAG.json (`ip -j -s link`) and snmp.TAG.txt (/proc/net/snmp); a
floods run's also legit.txt, floods.txt and api_ports.json. GEN: the floods' counts (a JSON line
each). IFACE0 and IFACE1: the interfaces of weir's ports 0 (client side) and 1 (server side).
COUNTER: the workers' counters the run's caps must have moved (flows.evicted, ...).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_edges import per_port, summary  # noqa: E402

MAX_GAP = 0.5  # s: the longest pause between two transfers (curl's start-up is about 20 ms)
# Every drop reason of the summary's ports: a reason added to weir must be added here too.
REASONS = {"no_mbuf", "missed", "tx_full", "too_big", "handoff_full", "malformed", "non_tcp", "fragments"}


def check_legit(w):
    """Every transfer whole, none failed; they ran before, throughout and after the floods."""
    errs = []
    rows = [l.split() for l in open(f"{w}/legit.txt") if l.strip()]
    floods = [l.split() for l in open(f"{w}/floods.txt") if l.strip()]
    for size, t0, t1, rc, code, got, same in rows:
        if rc != "0" or code != "200" or got != size or same != "1":
            errs.append(f"transfer of {size} bytes at {t0}: curl exit {rc}, HTTP {code}, {got} bytes, cmp equal {same}")
    spans = [(float(r[1]), float(r[2])) for r in rows]
    first, last = float(floods[0][1]), float(floods[-1][2])
    before = sum(1 for a, b in spans if b <= first)
    after = sum(1 for a, b in spans if a >= last)
    if before < 4 or after < 4:
        errs.append(f"{before} transfers ended before the first flood, {after} began after the last: want 4 each")
    gaps = [b0 - a1 for (a0, a1), (b0, b1) in zip(spans, spans[1:]) if a1 < last and b0 > first]
    if gaps and max(gaps) > MAX_GAP:
        errs.append(f"a pause of {max(gaps):.2f} s between transfers during the floods (at most {MAX_GAP})")
    for name, t0, t1, sent in floods:
        during = sum(1 for a, b in spans if a < float(t1) and b > float(t0))
        if during == 0:
            errs.append(f"no transfer ran during the {name} flood")
        print(f"  {name}: {sent} frames in {float(t1) - float(t0):.2f} s, {during} transfers during it")
    # The largest transfer's time before, during and after the floods (by its start): not checked.
    big = max(int(r[0]) for r in rows)
    times = {"before": [], "during": [], "after": []}
    for r in rows:
        if int(r[0]) == big:
            t0 = float(r[1])
            times["before" if t0 < first else "after" if t0 >= last else "during"].append(float(r[2]) - t0)
    times = {k: sorted(v) for k, v in times.items()}
    print(f"  legitimate transfers: {len(rows)} ({before} before the floods, {after} after), "
          f"longest pause {max(gaps) if gaps else 0:.3f} s; median time of the {big}-byte one: " +
          ", ".join(f"{k} {v[len(v) // 2]:.3f} s" for k, v in times.items() if v))
    return errs


def check_ports(st, gen, sent, max_fragments):
    """The identity with every counter named, and the drops the floods sent make (nothing else drops)."""
    errs = []
    for p in st["ports"]:
        d = p["drops"]
        if set(d) != REASONS:
            errs.append(f"port {p['name']}: drop reasons {sorted(d)}, the test knows {sorted(REASONS)}")
        received = p["rx"] + d["missed"] + d["no_mbuf"]
        accounted = p["tx"] + p["verdict_drops"] + p["passive"] + sum(d.values())
        if received != accounted:
            errs.append(f"port {p['name']}: rx {p['rx']} + missed + no_mbuf = {received}, but tx {p['tx']} + "
                        f"verdict {p['verdict_drops']} + passive {p['passive']} + drops {d} = {accounted}")
        print(f"  port {p['name']}: rx {p['rx']} = tx {p['tx']} + verdict drops {p['verdict_drops']} + passive "
              f"{p['passive']} + drops " + " + ".join(f"{k} {v}" for k, v in d.items()))
    p0, p1 = st["ports"]
    want = {"verdict_drops": gen["syn9"]["packets"] if "syn9" in sent else 0,
            "too_big": gen["big"]["count"] if "big" in sent else 0, "fragments": 0}
    if "frag6" in sent:
        want["fragments"] = gen["frag6"]["too_many"] * (gen["frag6"]["fragments"] - max_fragments)
    got = {"verdict_drops": p0["verdict_drops"], "too_big": p0["drops"].get("too_big"),
           "fragments": p0["drops"]["fragments"]}
    if got != want:
        errs.append(f"port 0: drops {got}, the floods make {want}")
    others = {k: v for k, v in p0["drops"].items() if k not in got and v}
    if others or p1["verdict_drops"] or any(p1["drops"].values()):
        errs.append(f"drops nothing made: port 0 {others}, port 1 verdict {p1['verdict_drops']}, {p1['drops']}")
    return errs


def reassembled(w, tag):
    """IPv4 datagrams the kernel of weir's namespace had reassembled (/proc/net/snmp, Ip: ReasmOKs)."""
    names, values = [l.split()[1:] for l in open(f"{w}/snmp.{tag}.txt") if l.startswith("Ip:")][:2]
    return int(values[names.index("ReasmOKs")])


def link_counts(w, tag):
    """Packets each interface of weir's namespace had received and sent."""
    return {l["ifname"]: (l["stats64"]["rx"]["packets"], l["stats64"]["tx"]["packets"])
            for l in json.load(open(f"{w}/links.{tag}.json"))}


def check_kernel(w, st, gen, sent, ifaces):
    """weir's tx per port against the kernel's counters: the frames the other port's interface sent
    are weir's tx (nothing else sends in weir's namespace). Its rx is shown beside the frames its
    interface took, less the IPv4 fragments the driver's socket kept for the kernel's reassembly,
    plus one frame for each datagram that completed: not checked, since the socket loses frames
    the driver cannot see when weir is not scheduled for long (net_af_packet reports no imissed),
    and once in about a dozen runs weir received a few frames more on the server's side than the
    veth counted (not understood)."""
    errs = []
    before, after = link_counts(w, "before"), link_counts(w, "after")
    rx = {n: after[n][0] - before[n][0] for n in ifaces}
    tx = {n: after[n][1] - before[n][1] for n in ifaces}
    kept = 0
    if "frag" in sent:
        kept = gen["frag"]["packets"] - (reassembled(w, "after") - reassembled(w, "before"))
    for i, (p, iface) in enumerate(zip(st["ports"], ifaces)):
        k_rx = rx[iface]
        k_tx = tx[ifaces[1 - i]]
        want_rx = k_rx - (kept if i == 0 else 0)
        if p["tx"] != k_tx:
            errs.append(f"port {i}: weir sent {p['tx']} frames, {ifaces[1 - i]} sent {k_tx}: frames counted "
                        "sent were lost (or sent frames not counted)")
        print(f"  port {i}: {iface} took {k_rx} frames ({want_rx} after the kernel's reassembly), weir "
              f"received {p['rx']}; weir sent {p['tx']}, {ifaces[1 - i]} sent {k_tx}")
    return errs


def check_caps(st, counters):
    """The caps' counters: each of counters (GROUP.NAME of the workers' stats) moved."""
    got = {c: sum(x[c.split(".")[0]][c.split(".")[1]] for x in st["workers"]) for c in counters}
    print("  caps: " + ", ".join(f"{k} {v}" for k, v in got.items()))
    errs = [f"{k} is 0: the flood did not reach its cap" for k, v in got.items() if not v]
    created = [x["flows"]["created"] for x in st["workers"]]
    if min(created) == 0:  # with several workers, each must have had its share
        errs.append(f"flows created per worker {created}")
    print(f"  flows created per worker {created}, packets handed over {[x['handoff_packets'] for x in st['workers']]}")
    return errs


def check_dashboard(w, st):
    """/api/ports after the traffic: the summary's per-port counters."""
    ports = st["ports"]
    want = {"rx_packets": [p["rx"] for p in ports], "tx_packets": [p["tx"] for p in ports],
            "rx_missed": [p["drops"]["missed"] + p["drops"]["no_mbuf"] for p in ports],
            "tx_errors": [p["drops"]["tx_full"] + p["drops"].get("too_big", 0) for p in ports],
            "fragment_drops": [p["drops"]["fragments"] for p in ports],
            "non_tcp_drops": [p["drops"]["non_tcp"] for p in ports]}
    api = {f: per_port(w, f) for f in want}
    return [f"/api/ports {k} {api[k]}, the summary says {want[k]}" for k in want if api[k] != want[k]]


def check_stop(st, gen):
    """The stop case: the trigger and the SYNs for the stalled worker all reached it and were sent on."""
    want = gen["trigger"]["packets"] + gen["stall"]["packets"]
    created = [x["flows"]["created"] for x in st["workers"]]
    p0 = st["ports"][0]
    print(f"  port 0: {p0['rx']} frames received, {p0['tx']} sent on; flows created per worker {created}")
    # The namespace's own frames (IPv6 neighbour discovery, a stray segment) may arrive beside the
    # generated ones: at least the generated frames, every frame received sent on, and at least the
    # stalled worker's flows on it.
    if p0["rx"] < want or p0["tx"] != p0["rx"] or len(created) != 2 or created[1] < want:
        return [f"port 0 received {p0['rx']} and sent {p0['tx']} frames, the workers created {created} flows: "
                f"want at least {want} received, all of them sent on, and at least {want} flows on the stalled "
                f"worker (every frame handed to it sent on)"]
    return []


def main():
    mode, w, ifaces = sys.argv[1], sys.argv[2], sys.argv[4:6]
    gen = {g["name"]: g for g in map(json.loads, open(sys.argv[3]))}
    print(f"[{os.path.basename(w)}]")
    st, errs = summary(w, "flood")
    if mode == "stop":
        errs += check_ports(st, gen, set(), 0)
        errs += check_kernel(w, st, gen, set(), ifaces)
        errs += check_stop(st, gen)
    else:
        max_fragments, counters = int(sys.argv[6]), sys.argv[7:]
        sent = {l.split()[0] for l in open(f"{w}/floods.txt") if l.strip()}
        errs += check_legit(w)
        errs += check_ports(st, gen, sent, max_fragments)
        errs += check_kernel(w, st, gen, sent, ifaces)
        errs += check_caps(st, counters)
        errs += check_dashboard(w, st)
    for e in errs:
        print("  " + e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
