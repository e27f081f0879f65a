"""floods.py — `bench/run --floods`: the floods of issue 16 at full size (weir_flood), each with 20
legitimate connections among it, replayed under small caps; writes the Floods section of RESULTS.md.

Per kind: one replay with tests/flood's checks (peak RSS against the caps, every cap's counter
against the generator's counts, every legitimate byte; tests/flood/flood.py, the same code as the
CTest at its smaller size), then RUNS timed replays without the checking script, round robin with
RUNS replays of the clean run: legitimate connections alone, about a million packets of them
(weir_flood syn --count 1 --legit 1000 --legit-rounds 1000) under the default caps. The ratio is
the flood's packets per CPU second over the clean run's.
"""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "flood"))
import flood  # noqa: E402  (tests/flood/flood.py)

CLEAN = ["syn", "--count", "1", "--legit", "1000", "--legit-rounds", "1000"]
TIMEOUT_S = 900


def timed(cmd):
    """CPU seconds (user + system) of one whole run of cmd, from GNU time."""
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S"] + cmd, capture_output=True, text=True,
                       timeout=TIMEOUT_S, check=False)
    if r.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), r.returncode, r.stderr[-1000:]))
    user, sys_s = r.stderr.strip().splitlines()[-1].split()
    return float(user) + float(sys_s)


def caps_args(kind, full):
    k = flood.KINDS[kind]
    out = ["--max-flows", str(flood.max_flows(kind, full)), "--memcap", str(k["memcap"])]
    if "defrag_memcap" in k:
        out += ["--defrag-memcap", str(k["defrag_memcap"])]
    return out


def section(build, runs, quick, log):
    """The Floods section (Markdown) of RESULTS.md."""
    gen, weir = os.path.join(build, "bin", "weir_flood"), os.path.join(build, "bin", "weir")
    work = "/tmp/weir-bench/floods"
    os.makedirs(work, exist_ok=True)
    clean = os.path.join(work, "clean.pcap")
    p = subprocess.run([gen] + CLEAN + ["--out", clean], capture_output=True, text=True, check=True)
    clean_packets = json.loads(p.stdout)["packets"]
    rows, checks, clean_cpu = [], [], []
    for kind in flood.KINDS:
        log("floods: %s: the checked replay" % kind)
        r = flood.replay(gen, weir, kind, work, full=not quick)
        cost = flood.one_datagram_cost(gen, weir, work) if kind == "frag" else None
        exp = flood.expectations(kind, r, cost)
        pcap, g = flood.generate(gen, kind, work, full=not quick)
        cpu = []
        for i in range(runs):
            log("floods: %s: timed round %d of %d" % (kind, i + 1, runs))
            cpu.append(timed([weir, "replay", "-q"] + caps_args(kind, not quick) + [pcap]))
            clean_cpu.append(timed([weir, "replay", "-q", clean]))
        st = r["stats"]
        counters = {"syn": "evicted %s" % "{:,}".format(st["flows"]["evicted"]),
                    "tiny-ooo": "reclaimed %s B" % "{:,}".format(st["memory"]["reclaimed"]),
                    "overlap": "reclaimed %s B" % "{:,}".format(st["memory"]["reclaimed"]),
                    "frag": "datagrams evicted %s, reassembled %s" % (
                        "{:,}".format(st["defrag"].get("evicted", 0)),
                        "{:,}".format(st["defrag"].get("reassembled", 0)))}[kind]
        pps = [g["packets"] / c for c in cpu]
        rows.append({"kind": kind, "packets": g["packets"], "pps": pps, "rss": r["rss"], "caps": r["caps"],
                     "counters": counters, "legit": not r["legit"],
                     "met": sum(ok for ok, _ in exp), "of": len(exp), "cmd": r["cmd"]})
        checks.append((kind, exp))
    clean_pps = statistics.median(clean_packets / c for c in clean_cpu)
    md = ["## Floods\n",
          "`bench/run --floods%s -n %d` (bench/floods.py): the floods of issue 16 made by `weir_flood`, each "
          "with %d legitimate connections (%d segments each, then FIN) spread evenly among it, replayed by "
          "`weir replay` under small caps. Peak RSS from GNU time; packets/s per second of CPU time "
          "(user + system), median (min–max) of %d runs without the checking script; the clean run is "
          "`weir_flood %s` (%s packets of legitimate connections alone) under the default caps, %s packets/s "
          "(median of %d runs, interleaved with the floods'). \"ratio\" is the flood's median over the "
          "clean run's. \"checks\" are tests/flood's expectations on a run with `tests/flood/legit.lua`, "
          "which checks every byte both ends of each legitimate connection sent.\n" % (
              " --quick" if quick else "", runs, flood.LEGIT, flood.ROUNDS, runs, " ".join(CLEAN),
              "{:,}".format(clean_packets), "{:,.0f}".format(clean_pps), len(clean_cpu)),
          "| kind | packets | caps | peak RSS MiB (caps MiB) | packets/s | ratio | counters | legitimate flows whole | checks |",
          "|---|---|---|---|---|---|---|---|---|"]
    for x in rows:
        k = flood.KINDS[x["kind"]]
        caps = "flows %s, streams %d MiB%s" % ("{:,}".format(flood.max_flows(x["kind"], not quick)), k["memcap"] >> 20,
                                               ", defrag %d MiB" % (k["defrag_memcap"] >> 20) if "defrag_memcap" in k else "")
        md.append("| %s | %s | %s | %.1f (%.1f) | %s | %.2f | %s | %s | %d of %d |" % (
            x["kind"], "{:,}".format(x["packets"]), caps, x["rss"] / 2**20, x["caps"] / 2**20,
            "{:,.0f} ({:,.0f}–{:,.0f})".format(statistics.median(x["pps"]), min(x["pps"]), max(x["pps"])),
            statistics.median(x["pps"]) / clean_pps, x["counters"], "yes" if x["legit"] else "**no**",
            x["met"], x["of"]))
    md.append("\nThe checks, per kind (the replay's command, then each expectation):\n")
    for (kind, exp), x in zip(checks, rows):
        cmd = x["cmd"].replace(work + "/", "").replace(flood.SCRIPT, "tests/flood/legit.lua")
        md.append("- **%s**: `weir %s`" % (kind, cmd))
        for ok, what in exp:
            md.append("  - %s: %s" % ("ok" if ok else "**FAILED**", what.replace("\n", " ")))
    return "\n".join(md) + "\n", all(x["met"] == x["of"] for x in rows)


def write(results, text):
    """Puts text in place of the Floods section of results (from its heading to the next `## `),
    or at its end."""
    old = open(results).read() if os.path.exists(results) else ""
    start = old.find("\n## Floods\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text if old else text
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start + 1] + text + (old[end:] if end >= 0 else "")
    with open(results, "w") as f:
        f.write(new)
