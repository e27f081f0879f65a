#!/bin/bash
# inline.sh — throughput of `weir run` inline against a plain DPDK forwarder (dpdk-testpmd, io mode) on the same topology, runs interleaved.
#
# usage: bench/inline.sh [-n RUNS] [-s MB] [-b BUILD_DIR] [-w WEIR] [-W WORKERS] [-P FLOWS] [-t "testpmd weir"]
#   RUNS       transfers per forwarder, alternating testpmd / weir (default 5)
#   MB         size of each HTTP transfer in MB (default 300)
#   BUILD_DIR  a Release build (default /tmp/build-run); WEIR defaults to BUILD_DIR/bin/weir
#   WORKERS    weir's workers (default 1, on CPU 1; 2: lcores 0-1); -t the forwarders to alternate
#   FLOWS      parallel downloads sharing the MB of a transfer (default 1; several let 2 workers share)
# Topology (tests/live's): client netns <-> [forwarder: 2x net_af_packet, 1 forwarding lcore on
# CPU 1] <-> server netns. Both forwarders busy-poll. For each transfer: MB/s, Gbit/s (payload over
# the transfer's wall time), and the forwarder's CPU time from /proc/PID/stat (utime + stime) over the transfer; at the
# end the medians, the ratio weir/testpmd and CPU seconds per Gbit (= cores per Gbit/s).
# Needs root, ip, ethtool, curl, python3, dpdk-testpmd (Debian: dpdk-dev). Leaves nothing behind.
set -u
RUNS=5 MB=300 BUILD=/tmp/build-run WEIR= WORKERS=1 TOOLS="testpmd weir" FLOWS=1
while getopts "n:s:b:w:W:t:P:h" opt; do
	case $opt in
	n) RUNS=$OPTARG ;;
	s) MB=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	w) WEIR=$OPTARG ;;
	W) WORKERS=$OPTARG ;;
	t) TOOLS=$OPTARG ;;
	P) FLOWS=$OPTARG ;;
	*) sed -n '2,15p' "$0"; exit 64 ;;
	esac
done
WEIR=${WEIR:-$BUILD/bin/weir}
die() { echo "inline.sh: $*" >&2; exit 1; }
. "$(dirname "$0")/../tests/live/topology.sh"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
case $WORKERS in 1) LCORES=1 ;; 2) LCORES=0-1 ;; *) die "-W: 1 or 2 workers on this 2-CPU topology" ;; esac
for t in ip ethtool curl python3 $([ "${TOOLS#*testpmd}" != "$TOOLS" ] && echo dpdk-testpmd); do command -v $t >/dev/null || die "missing tool: $t"; done
[ -x "$WEIR" ] || die "$WEIR not found (cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release && cmake --build $BUILD)"

W=$(mktemp -d /tmp/weir-bench-inline.XXXXXX); P=wb$$; C=${P}c; S=${P}s; M=${P}m; SRV=; FPID=
cleanup() {
	trap '' INT TERM # a second Ctrl-C (or a signal to the whole group) must not cut the cleanup short
	[ -n "$FPID" ] && kill -INT $FPID 2>/dev/null && sleep 1 && kill -KILL $FPID 2>/dev/null
	[ -n "$SRV" ] && kill -KILL $SRV 2>/dev/null && wait $SRV 2>/dev/null
	topo_down $P $M
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

topo_up $P 10.98.0 $M || die "topology"

# The server sends GET /N as N bytes from memory (no disk, little CPU: it is not what is measured).
cat > $W/srv.py <<'PY'
import http.server, socketserver
BUF = memoryview(bytes(range(256)) * 4096)  # 1 MiB, not all zeros
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        n = int(self.path.strip("/") or 0)
        self.send_response(200); self.send_header("Content-Length", str(n)); self.end_headers()
        while n > 0:
            k = min(n, len(BUF)); self.wfile.write(BUF[:k]); n -= k
    def log_message(self, *a): pass
socketserver.TCPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer(("10.98.0.2", 8080), H).serve_forever()
PY
ip netns exec $S python3 $W/srv.py & SRV=$!

EAL='"--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", "-l", "'$LCORES'"'
cat > $W/weir.lua <<CFG
dpdk = { eal = { $EAL }, ports = { "net_af_packet0,iface=${P}b,framecnt=4096", "net_af_packet1,iface=${P}y,framecnt=4096" } }
workers = $WORKERS
idle_sleep_us = 0
log = { stats = "$W/weir-stats.json" }
CFG
"$WEIR" check -c $W/weir.lua >/dev/null || die "weir check refused $W/weir.lua"

start_fwd() { # $1: testpmd | weir; sets FPID once the path forwards
	if [ $1 = testpmd ]; then
		# Two lcores: testpmd forwards on lcore 1 (CPU 1, as weir); its main lcore prints stats.
		ip netns exec $M dpdk-testpmd --no-huge -m 256 --no-pci --no-shconf --no-telemetry --log-level=error -l 0-1 \
			--vdev=net_af_packet0,iface=${P}b,framecnt=4096 --vdev=net_af_packet1,iface=${P}y,framecnt=4096 \
			-- --forward-mode=io --total-num-mbufs=16384 --stats-period 3600 -a > $W/fwd.out 2>&1 & FPID=$!
	else
		ip netns exec $M "$WEIR" run -c $W/weir.lua > $W/fwd.out 2>&1 & FPID=$!
	fi
	for i in $(seq 60); do
		kill -0 $FPID 2>/dev/null || { cat $W/fwd.out >&2; die "$1 exited"; }
		ip netns exec $C curl -s -m 2 -o /dev/null http://10.98.0.2:8080/1000 && return 0
		sleep 0.5
	done
	die "$1: no path through it"
}
stop_fwd() {
	kill -INT $FPID; for i in $(seq 100); do kill -0 $FPID 2>/dev/null || break; sleep 0.1; done
	wait $FPID 2>/dev/null; FPID=
}
ticks() { awk '{print $14 + $15}' /proc/$1/stat; } # utime + stime, in clock ticks

HZ=$(getconf CLK_TCK); BYTES=$((MB * 1000000 / FLOWS * FLOWS))
echo "# tool run MB/s Gbit/s cpu_s cpu_s_per_Gbit" | tee $W/results
for r in $(seq 1 $RUNS); do
	for tool in $TOOLS; do
		start_fwd $tool
		t0=$(ticks $FPID)
		w0=$(date +%s%N)
		# FLOWS downloads at once, BYTES in all; the rate is BYTES over the wall time of them all.
		got=$(for i in $(seq $FLOWS); do echo "url = \"http://10.98.0.2:8080/$((BYTES / FLOWS))\""; echo 'output = "/dev/null"'; done |
			ip netns exec $C curl -s -m 300 -Z --parallel-max $FLOWS -K - -w '%{size_download}\n' | awk '{s += $1} END {print s}')
		w1=$(date +%s%N)
		t1=$(ticks $FPID)
		stop_fwd
		bps=$(( BYTES * 1000000000 / (w1 - w0) ))
		[ "$got" = "$BYTES" ] || die "$tool run $r: got $got of $BYTES bytes"
		if [ $tool = weir ]; then
			grep -q '"accounted":false' $W/weir-stats.json && die "weir run $r: accounting identity broken: $(cat $W/weir-stats.json)"
		fi
		awk -v t=$tool -v r=$r -v b="$bps" -v c=$((t1 - t0)) -v hz=$HZ -v n=$BYTES 'BEGIN {
			g = b * 8 / 1e9; cpu = c / hz; printf "%s %d %.1f %.3f %.2f %.3f\n", t, r, b / 1e6, g, cpu, cpu / (n * 8 / 1e9) }' \
			| tee -a $W/results
	done
done
python3 - $W/results <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")]
med = {}
for tool in ("testpmd", "weir"):
    rs = [r for r in rows if r[0] == tool]
    if not rs:
        continue
    med[tool] = [statistics.median(float(r[i]) for r in rs) for i in (2, 3, 5)]
    lo, hi = min(float(r[2]) for r in rs), max(float(r[2]) for r in rs)
    print(f"{tool:8s} median {med[tool][0]:7.1f} MB/s ({lo:.0f}-{hi:.0f})  {med[tool][1]:.2f} Gbit/s  "
          f"{med[tool][2]:.3f} CPU-s per Gbit")
if len(med) == 2:
    print(f"weir/testpmd throughput ratio (medians): {med['weir'][0] / med['testpmd'][0]:.2f}")
PY
