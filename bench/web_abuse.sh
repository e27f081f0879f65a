#!/bin/bash
# web_abuse.sh — the replay's packet rate with and without 1,000 wrk connections on the dashboard, interleaved rounds, the data path and the HTTP side on separate CPUs; the accounting must be identical.
# usage: bench/web_abuse.sh [-n ROUNDS] [-k COPIES] [-c CAPTURE] [-b BUILD_DIR | -w WEIR_BINARY] [-o OUT_DIR]
# Exit 1 only on a correctness failure (accounting differs, server down, weir died), never on a rate.
set -u
ROUNDS=5
COPIES=1000 # 1,000 × 1kxun.pcap (1,723 packets) ≈ 1.7 M packets, a few seconds per run
CAPTURE=$(dirname "$0")/../../shared/testdata/external/ndpi/1kxun.pcap
BUILD=/tmp/build-bench
OUT= WEIR=
while getopts n:k:c:b:w:o: o; do
	case $o in
	n) ROUNDS=$OPTARG ;; k) COPIES=$OPTARG ;; c) CAPTURE=$OPTARG ;; b) BUILD=$OPTARG ;; w) WEIR=$OPTARG ;; o) OUT=$OPTARG ;;
	*) sed -n 3p "$0" >&2; exit 64 ;;
	esac
done
WEIR=${WEIR:-$BUILD/bin/weir}
OUT=${OUT:-$BUILD/web-abuse}
WRK_SECONDS=60 # upper bound only: wrk is stopped as soon as the replay is done
RAMP_S=1.5     # wrk opens its 1,000 connections and reaches a steady request rate before packets flow
mkdir -p "$OUT"
for t in "$WEIR" "$CAPTURE"; do [ -r "$t" ] || { echo "web_abuse: $t not found" >&2; exit 1; }; done
for t in wrk curl python3 taskset; do command -v $t >/dev/null || { echo "web_abuse: $t is missing" >&2; exit 1; }; done
ulimit -n 8192 # 1,000 connections on each side

# The appliance layout: the data path (the replay's main thread) alone on CPU 1; the dashboard's
# threads (--serve-cpus), wrk and this script on CPU 0. One CPU: everything shares it (said so).
if [ "$(nproc)" -ge 2 ]; then
	DATA_CPU=(taskset -c 1) SERVE_CPUS=(--serve-cpus 0)
	taskset -p -c 0 $$ >/dev/null
	echo "web_abuse: data path on CPU 1; dashboard threads, wrk and this script on CPU 0"
else
	DATA_CPU=() SERVE_CPUS=()
	echo "web_abuse: one CPU: the data path shares it with the dashboard and wrk"
fi

# The replay's first file is a FIFO holding an empty capture: weir blocks opening it, after its
# flow table and dashboard are up, until the script opens the gate. The rate is timed from that
# moment to the --stats-json file's mtime, so start-up is left out and, in the wrk runs, wrk is
# already at full load when the first packet is read.
GATE=$OUT/gate.fifo
files=("$GATE"); for _ in $(seq "$COPIES"); do files+=("$CAPTURE"); done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
open_gate() {
	python3 - "$GATE" <<'PY'
import struct, sys, time
with open(sys.argv[1], "wb") as f:          # returns once weir has opened the other end
    t0 = time.time_ns()
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))  # pcap header, Ethernet, no packets
print(t0)
PY
}
# The data path thread's schedstat: ns on the CPU, ns runnable but waiting for it, timeslices.
sched() { cat "/proc/$1/task/$1/schedstat"; }
mtime_ns() { python3 -c 'import os,sys; print(os.stat(sys.argv[1]).st_mtime_ns)' "$1"; }
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

# run MODE TAG: one replay, with or without wrk; appends "MODE packets seconds" to $OUT/rates.
run() {
	local mode=$1 tag=$2 port pid wrkpid= t0 t1 pkts s0 s1
	port=$(free_port)
	rm -f "$GATE" "$OUT/$tag.json"; mkfifo "$GATE"
	"${DATA_CPU[@]}" "$WEIR" replay -q --serve "127.0.0.1:$port" "${SERVE_CPUS[@]}" \
		--stats-json "$OUT/$tag.json" "${files[@]}" 2>"$OUT/$tag.log" &
	pid=$!
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/stats" >/dev/null && break; sleep 0.05; done
	if [ "$mode" = wrk ]; then
		wrk -t2 -c1000 -d${WRK_SECONDS}s "http://127.0.0.1:$port/api/all" >"$OUT/$tag.wrk" 2>&1 &
		wrkpid=$!
		sleep $RAMP_S
	fi
	s0=$(sched $pid) # weir is blocked opening the gate: its main thread is not running
	t0=$(open_gate)
	for _ in $(seq 2400); do grep -q "replay done" "$OUT/$tag.log" && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
	if [ -s "$OUT/$tag.json" ]; then
		t1=$(mtime_ns "$OUT/$tag.json")
		s1=$(sched $pid) # now waiting for Ctrl-C; the few µs after the JSON was written are noise
		pkts=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['packets'])" "$OUT/$tag.json")
		set -- $s0 $s1
		echo "$mode $pkts $t0 $t1 $(($4 - $1)) $(($5 - $2))" >>"$OUT/rates"
		python3 -c "import sys; p,a,b,c,w=map(int,sys.argv[1:6]); print(f'web_abuse: {sys.argv[6]:>8}: {p} packets in {(b-a)/1e9:.2f} s: {p/(b-a)*1e6:.0f} kpps; data path thread {c/p:.0f} ns CPU/packet, {w/1e6:.0f} ms waiting for its CPU')" \
			"$pkts" "$t0" "$t1" "$(($4 - $1))" "$(($5 - $2))" "$tag"
	else
		fail "$tag: no stats JSON ($(tail -1 "$OUT/$tag.log"))"
	fi
	if [ -n "$wrkpid" ]; then
		# Still under load: the server answers.
		[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/stats")" = 200 ] ||
			fail "$tag: server did not answer under wrk"
		kill -INT $wrkpid; wait $wrkpid
		echo "web_abuse: $tag: wrk ran $(python3 -c "import time,sys; print(f'{(time.time_ns()-int(sys.argv[1]))/1e9:.1f}')" "$t0") s after the gate opened"
		grep -E "requests in|Requests/sec|Socket errors|Non-2xx" "$OUT/$tag.wrk" | sed "s/^ */web_abuse: $tag: wrk: /"
		[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/stats")" = 200 ] ||
			fail "$tag: server down after wrk"
	fi
	kill -0 $pid 2>/dev/null || fail "$tag: weir died"
	kill -INT $pid 2>/dev/null; wait $pid; local rc=$?
	[ $rc -eq 0 ] || fail "$tag: weir replay exited $rc"
}

rm -f "$OUT/rates"
for r in $(seq "$ROUNDS"); do
	# Alternate which goes first, so a drift in the machine's load does not favour one mode.
	if [ $((r % 2)) = 1 ]; then order="quiet wrk"; else order="wrk quiet"; fi
	for mode in $order; do run "$mode" "$mode-$r"; done
done

python3 - "$OUT" "$ROUNDS" <<'PY' || fail "accounting differs with wrk"
import glob, json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
keys = ("packets", "bytes", "flows", "events", "anomalies", "malformed", "closes", "drops", "orphans", "tcp_packets")
docs = {p: json.load(open(p)) for p in sorted(glob.glob(out + "/*-[0-9]*.json"))}
ref_name = out + "/quiet-1.json"
ref = docs.get(ref_name)
bad = ref is None or len(docs) != 2 * rounds
for name, d in docs.items():
    for k in keys:
        if d.get(k) != ref.get(k):
            print(f"web_abuse: {name}: {k} differs: {d.get(k)} vs {ref.get(k)}"); bad = True
if not bad:
    print(f"web_abuse: accounting identical in all {len(docs)} runs: packets {ref['packets']}, bytes {ref['bytes']},"
          f" flows created {ref['flows']['created']} closed {ref['flows']['closed']}, events and closes equal")
rates, cpu, wait = ({"quiet": [], "wrk": []} for _ in range(3))
for line in open(out + "/rates"):
    mode, p, a, b, c, w = line.split()
    rates[mode].append(int(p) / (int(b) - int(a)) * 1e6)
    cpu[mode].append(int(c) / int(p))
    wait[mode].append(int(w) / 1e6)
med = statistics.median
for mode, v in rates.items():
    if v:
        print(f"web_abuse: {mode:>5}: median {med(v):.0f} kpps (range {min(v):.0f}-{max(v):.0f}); data path CPU"
              f" {med(cpu[mode]):.0f} ns/packet ({min(cpu[mode]):.0f}-{max(cpu[mode]):.0f}); waiting for its CPU"
              f" {med(wait[mode]):.0f} ms ({min(wait[mode]):.0f}-{max(wait[mode]):.0f}); {len(v)} runs")
if rates["quiet"] and rates["wrk"]:
    print(f"web_abuse: wrk/quiet (medians): rate {med(rates['wrk']) / med(rates['quiet']):.3f},"
          f" CPU per packet {med(cpu['wrk']) / med(cpu['quiet']):.3f}")
sys.exit(1 if bad else 0)
PY
rm -f "$GATE"
exit $failed
