#!/usr/bin/env python3
"""test_run_quick.py RUN BUILD_DIR — runs `bench/run --quick` into a temporary directory and checks
its output: RESULTS.md has one Throughput row for every tool x capture (a missing peer's row says
MISSING, no run FAILED, weir's own rows carry numbers), the 1 vs 2 workers table has both rates and
the two workers' packets adding up to the capture's and a note saying whether each run had a CPU
share of its own (root, autogroup scheduling), and results.svg is XML with one bar per row."""
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(sys.argv[1]))))
from checks import check, run  # noqa: E402  (bench/checks.py)

TOOLS = ["weir track", "weir reasm", "weir reasm, no EVE", "weir lua", "libnids", "tcpflow",
         "ndpiReader", "argus", "memloop walk", "memloop hash", "memloop track", "memloop reasm"]
CAPTURES = ["sample", "out_of_order", "synflood", "flows-100", "flows-1k"]


def section(md, title):
    """The rows (lists of cells) of the first table after the heading title."""
    lines = md.split("\n## " + title + "\n", 1)[1].lstrip("\n").splitlines()
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return rows[2:]


def main():
    out = tempfile.mkdtemp(prefix="bench-quick.")
    try:
        run([sys.executable, sys.argv[1], "--quick", "--build", sys.argv[2], "--out", out])
        md = open(os.path.join(out, "RESULTS.md")).read()
        tools = [r[0] for r in section(md, "Tools")]
        check(tools == TOOLS, "the Tools table lists %s (got %s)" % (TOOLS, tools))
        caps = section(md, "Captures")
        check([c[0] for c in caps] == CAPTURES, "the Captures table lists %s" % CAPTURES)
        check(all(c[2].replace(",", "").isdigit() for c in caps), "every capture was made and read")
        rows = section(md, "Throughput")
        pairs = [(r[0], r[1]) for r in rows]
        check(pairs == [(c, t) for c in CAPTURES for t in TOOLS],
              "one Throughput row for each of %d tools x %d captures (got %d rows)" % (
                  len(TOOLS), len(CAPTURES), len(rows)))
        check(not [r for r in rows if "FAILED" in r[2]], "no run failed: %s" % [r[:3] for r in rows if "FAILED" in r[2]])
        bad = [r[:3] for r in rows if not r[2].replace(",", "").isdigit() and "MISSING" not in r[2]
               and "not found" not in r[2]]
        check(not bad, "every row has packets/s or says its tool is missing: %s" % bad)
        mine = [r[:3] for r in rows if r[1].startswith(("weir", "memloop")) and not r[2].replace(",", "").isdigit()]
        check(not mine, "weir's rows and the ceilings have numbers: %s" % mine)
        workers = section(md, "1 vs 2 workers")
        rate = lambda cell: int(cell.split()[0].replace(",", ""))  # noqa: E731  ("1,234 (1,200–1,300)")
        check([w[0] for w in workers] == ["sample"] and rate(workers[0][1]) > 0 and rate(workers[0][2]) > 0,
              "1 vs 2 workers: packets per wall-clock second for each on sample (got %s)" % workers)
        split = [int(k.replace(",", "")) for k in workers[0][5].split(" (")[0].split(" / ")]
        frames = int(caps[0][2].replace(",", ""))
        check(len(split) == 2 and sum(split) == frames,
              "1 vs 2 workers: the two workers' packets add up to sample's %d (got %s)" % (frames, split))
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            own = os.geteuid() == 0 and f.read().strip() == "1"
        note = "Each run in a session of its own at autogroup nice -20" if own else "**Not root or no autogroup"
        check(note in md.split("\n## 1 vs 2 workers\n", 1)[1],
              "1 vs 2 workers: the note says whether each run had a CPU share of its own (%s)" % note)
        svg = ET.parse(os.path.join(out, "results.svg")).getroot()
        bars = [e for e in svg.iter("{http://www.w3.org/2000/svg}rect") if e.get("class") == "bar"]
        check(len(bars) == len(rows), "results.svg has one bar per row (%d bars, %d rows)" % (len(bars), len(rows)))
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
