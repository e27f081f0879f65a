#!/bin/bash
# replay.sh — times `weir replay` against libnids (nids_replay) on the same capture, runs interleaved.
#
# usage: bench/replay.sh [-n RUNS] [-c CAPTURE] [-b BUILD_DIR] [-w WEIR] [-l NIDS_REPLAY]
#   RUNS       runs of each tool, alternating weir / libnids (default 5)
#   CAPTURE    pcap to replay (default /tmp/weir-bench/bench.pcap, made by make_capture.sh if absent)
#   BUILD_DIR  a Release build of weir (default /tmp/build-bench); WEIR and NIDS_REPLAY default to
#              BUILD_DIR/bin/weir and BUILD_DIR/bin/nids_replay
# Prints per-run times, then the median packets/s of each tool, the ratio weir/libnids, CPU time
# per packet (perf stat task-clock), peak RSS, and the delivered bytes and flows of each.
set -euo pipefail

RUNS=5
CAPTURE=/tmp/weir-bench/bench.pcap
BUILD=/tmp/build-bench
WEIR=
NIDS=
while getopts "n:c:b:w:l:h" opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	c) CAPTURE=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	w) WEIR=$OPTARG ;;
	l) NIDS=$OPTARG ;;
	*) sed -n '2,10p' "$0"; exit 64 ;;
	esac
done
WEIR=${WEIR:-$BUILD/bin/weir}
NIDS=${NIDS:-$BUILD/bin/nids_replay}
HERE=$(cd "$(dirname "$0")" && pwd)

for b in "$WEIR" "$NIDS"; do
	[ -x "$b" ] || { echo "replay.sh: $b not found (cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD)" >&2; exit 1; }
done
if [ ! -f "$CAPTURE" ]; then
	echo "replay.sh: $CAPTURE missing, recording it with make_capture.sh" >&2
	mkdir -p "$(dirname "$CAPTURE")"
	"$HERE/make_capture.sh" "$CAPTURE"
fi

W=$(mktemp -d /tmp/weir-bench-run.XXXXXX)
trap 'rm -rf "$W"' EXIT

# perf stat gives CPU time even where the VM exposes no cycle counter; without perf, wall time only.
PERF=()
if perf stat -x, -e task-clock -o /dev/null -- true 2>/dev/null; then
	PERF=(perf stat -x, -e task-clock,cycles,instructions)
fi

# Runs one timed command: $1 = tag, rest = command. Its stdout goes to $W/<tag>.out; the wall time
# (ns), perf's counters and GNU time's peak RSS land beside it.
timed() {
	local tag=$1 t0 t1
	shift
	local cmd=("$@")
	[ ${#PERF[@]} -gt 0 ] && cmd=("${PERF[@]}" -o "$W/$tag.perf" -- "${cmd[@]}")
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$W/$tag.rss" "${cmd[@]}" >"$W/$tag.out" 2>"$W/$tag.err" || {
		rc=$?
		# 65: the file is damaged; both tools still report what came before the damage
		if [ $rc -ne 65 ]; then echo "replay.sh: $tag failed (exit $rc):" >&2; cat "$W/$tag.err" >&2; exit 1; fi
	}
	t1=$(date +%s%N)
	echo $((t1 - t0)) >"$W/$tag.ns"
}

cat "$CAPTURE" >/dev/null # page cache: every run reads the file from memory
cut -d' ' -f1-3 /proc/loadavg >"$W/load.before" # other work on the machine skews the numbers
# One untimed warm-up of each, then the interleaved timed runs.
timed warm_weir "$WEIR" replay --quiet --stats-json "$W/warm_weir.stats" "$CAPTURE"
timed warm_nids "$NIDS" "$CAPTURE"
# The fixed cost of each tool (start-up, table allocation, exit) measured on a capture with the
# same file header and no packets, so the per-packet rate can be shown without it.
EMPTY=
if [ "$(head -c 4 "$CAPTURE" | od -An -tx1 | tr -d ' ')" = d4c3b2a1 ] ||
   [ "$(head -c 4 "$CAPTURE" | od -An -tx1 | tr -d ' ')" = a1b2c3d4 ]; then
	EMPTY=$W/empty.pcap
	head -c 24 "$CAPTURE" >"$EMPTY" # a classic pcap file header alone
fi
for i in $(seq 1 "$RUNS"); do
	timed "weir$i" "$WEIR" replay --quiet --stats-json "$W/weir$i.stats" "$CAPTURE"
	timed "nids$i" "$NIDS" "$CAPTURE"
	if [ -n "$EMPTY" ]; then
		timed "weir_empty$i" "$WEIR" replay --quiet "$EMPTY"
		timed "nids_empty$i" "$NIDS" "$EMPTY"
	fi
done
# Delivered bytes are per flow in the EVE log; this run is not timed (it also writes the log).
"$WEIR" replay --quiet --eve "$W/eve.json" --stats-json "$W/eve.stats" "$CAPTURE" || [ $? -eq 65 ]

cut -d' ' -f1-3 /proc/loadavg >"$W/load.after"

python3 - "$W" "$RUNS" "$CAPTURE" <<'EOF'
import json, os, platform, statistics, sys
w, runs, capture = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def perf(tag):
    """task-clock ms and cycles from perf stat -x, output (None when absent or unsupported)."""
    out = {}
    p = os.path.join(w, tag + ".perf")
    if os.path.exists(p):
        for line in open(p):
            f = line.strip().split(",")
            if len(f) > 2 and f[0] and not f[0].startswith("<"):
                out[f[2]] = float(f[0])
    return out

def run(tag):
    r = {"wall_s": int(open(os.path.join(w, tag + ".ns")).read()) / 1e9,
         "rss_kb": int(open(os.path.join(w, tag + ".rss")).read().split()[-1])}
    r.update(perf(tag))
    return r

weir_stats = json.load(open(os.path.join(w, "weir1.stats")))
nids_out = json.loads(open(os.path.join(w, "nids1.out")).read())
pkts = weir_stats["packets"]
if nids_out["packets"] != pkts:
    print("WARNING: weir read %d packets, libnids %d" % (pkts, nids_out["packets"]))
weir = [run("weir%d" % i) for i in range(1, runs + 1)]
nids = [run("nids%d" % i) for i in range(1, runs + 1)]
loops = [json.loads(open(os.path.join(w, "nids%d.out" % i)).read())["loop_s"] for i in range(1, runs + 1)]

print("capture: %s (%d packets, %.0f MB)" % (capture, pkts, os.path.getsize(capture) / 1e6))
print("machine: %s, %d CPUs, %s" % (platform.processor() or platform.machine(), os.cpu_count(),
      open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(" :\t")))
print("load average (1/5/15 min): %s before, %s after" % (
    open(os.path.join(w, "load.before")).read().strip(), open(os.path.join(w, "load.after")).read().strip()))
print("\nrun  weir wall s  libnids wall s  libnids loop s")
for i in range(runs):
    print("%3d  %11.3f  %14.3f  %14.3f" % (i + 1, weir[i]["wall_s"], nids[i]["wall_s"], loops[i]))

def med(rs, key):
    v = [r[key] for r in rs if key in r]
    return statistics.median(v) if v else None

ww, nw, nl = med(weir, "wall_s"), med(nids, "wall_s"), statistics.median(loops)
print("\nmedian of %d runs (whole process, wall clock):" % runs)
print("  weir     %8.0f packets/s  (%.3f s)" % (pkts / ww, ww))
print("  libnids  %8.0f packets/s  (%.3f s; packet loop alone: %.0f packets/s)" % (pkts / nw, nw, pkts / nl))
print("  ratio weir/libnids: %.2f  (>1: weir is faster)" % (nw / ww))
if os.path.exists(os.path.join(w, "weir_empty1.ns")):
    we = [run("weir_empty%d" % i) for i in range(1, runs + 1)]
    ne = [run("nids_empty%d" % i) for i in range(1, runs + 1)]
    wew, new_ = med(we, "wall_s"), med(ne, "wall_s")
    print("  fixed cost (same header, no packets): weir %.3f s, libnids %.3f s" % (wew, new_))
    print("  without it: weir %.0f packets/s, libnids %.0f packets/s, ratio weir/libnids %.2f"
          % (pkts / (ww - wew), pkts / (nw - new_), (nw - new_) / (ww - wew)))
wc, nc = med(weir, "task-clock"), med(nids, "task-clock")
if wc and nc:
    print("  CPU time per packet: weir %.0f ns, libnids %.0f ns (perf task-clock)" % (wc * 1e6 / pkts, nc * 1e6 / pkts))
wy, ny = med(weir, "cycles"), med(nids, "cycles")
if wy and ny:
    print("  cycles per packet: weir %.0f, libnids %.0f" % (wy / pkts, ny / pkts))
elif wc and nc:
    # No cycle counter (a VM without a virtual PMU): estimate from CPU time at the nominal clock.
    mhz = [float(l.split(":")[1]) for l in open("/proc/cpuinfo") if l.startswith("cpu MHz")]
    if mhz:
        ghz = mhz[0] / 1000
        print("  cycles per packet (estimated: CPU time x %.2f GHz, no cycle counter here): weir %.0f, libnids %.0f"
              % (ghz, wc * 1e6 / pkts * ghz, nc * 1e6 / pkts * ghz))
print("  peak RSS: weir %.0f MB, libnids %.0f MB" % (med(weir, "rss_kb") / 1024, med(nids, "rss_kb") / 1024))

delivered = [0, 0]
midstream = 0
for line in open(os.path.join(w, "eve.json")):
    if not line.strip():
        continue
    f = json.loads(line)
    s = f.get("streams", {})
    delivered[0] += s.get("toserver", {}).get("delivered", 0)
    delivered[1] += s.get("toclient", {}).get("delivered", 0)
    midstream += 1 if f.get("tcp", {}).get("midstream") else 0
fl = weir_stats["flows"]
print("\ndelivered bytes (client->server + server->client):")
print("  weir     %d (%d + %d) in %d flows (%d picked up mid-stream)" % (sum(delivered), delivered[0], delivered[1], fl["created"], midstream))
print("  libnids  %d (%d + %d) in %d flows (handshake seen; %d queues pruned)" % (
    nids_out["bytes"], nids_out["bytes_c2s"], nids_out["bytes_s2c"], nids_out["flows"], nids_out["pruned"]))
if sum(delivered) != nids_out["bytes"]:
    print("  difference weir - libnids: %+d bytes" % (sum(delivered) - nids_out["bytes"]))
EOF
