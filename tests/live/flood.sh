#!/bin/bash
# flood.sh — live test: the floods of issue 16 through weir inline (2x net_af_packet) under small caps,
# while legitimate HTTP transfers run before, during and after each of them (case floods); and weir
# stopped while a worker holds frames handed to it (case stop).
# floods:
#   weir runs with flows.max = 1024, streams.memcap = 256 KiB, defrag.memcap = 64 KiB,
#   defrag.max_fragments = 16 and a firewall rule dropping port 9. From the client's side, at 20,000
#   frames a second (bench/weir_flood unless said): a SYN flood of 30,000 flows; 2,000 SYNs to port 9;
#   overlapping retransmissions on 50 flows; tiny out-of-order segments on 1,000 flows; IPv4
#   fragments (the driver's kernel socket reassembles those: weir sees only completed datagrams);
#   IPv6 fragments (flood_frames.py: 300 datagrams never completed, 20 of 24 fragments); 200 frames
#   of 1,800 bytes, too big for the server side's MTU of 1,500. Flood frames go to a MAC no host has.
#   Then weir again with flows.policy = "refuse" and two workers, and the SYN flood: the transfers'
#   flows are refused.
# Asserted in each run: every transfer completes with every byte (cmp), with no pause over 0.5 s
# between them from the first flood to the last; each cap's counters moved (flows evicted, stream
# memory refused, overlap anomalies, defrag evictions and too_many; flows refused); per port, rx +
# missed + no_mbuf = tx + verdict drops + passive + each drop reason, exactly, with the reasons'
# counts the floods make (2,000 verdict drops, 200 too big, 20 x 8 fragments) — and the kernel
# agrees that each port's tx left: the frames the other port's interface sent are its tx (the rx
# side is shown beside the interface's counter, not checked: check_flood.py says why); the
# dashboard's /api/ports says the same. weir still runs at the end and exits 0 on SIGTERM. About 20 s.
# stop: weir with two workers; flood_stall.lua holds worker 1 in its tick for 2 s of CPU time once a
#   SYN to port 9999 reaches it, and 10 SYNs for that worker arrive meanwhile, then SIGTERM: all 11
#   frames are sent on and counted (the identity and the kernel's tx counters, as above). About 4 s.
# usage: flood.sh WEIR_BINARY WEIR_FLOOD_BINARY floods|stop. Needs root, ip, ethtool, curl, python3, cmp.
# Prints "1 passed, 0 failed" or "0 passed, 1 failed"; leaves no namespace, interface or process behind.
set -u
WEIR=${1:?weir binary}; GEN=${2:?weir_flood binary}; CASE=${3:?floods or stop}
PPS=20000                  # flood frames a second: the ring (framecnt) holds 0.4 s of them
MAX_FRAGMENTS=16           # defrag.max_fragments: the IPv6 flood's datagrams of 24 go past it
MAC=02:00:00:00:00:99      # flood frames' destination: no host's, so the server's stack ignores them
fail() {
	echo "FAIL [flood]: $*" >&2
	[ -f "${W:-}/weir.err" ] && tail -20 "$W/weir.err" | sed 's/^/  weir: /' >&2
	echo "0 passed, 1 failed"
	exit 1
}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/topology.sh"
topo_start flood wx 10.96.0 ip ethtool curl python3 cmp
[ -x "$GEN" ] || fail "no weir_flood binary at $GEN"

# Static neighbours: no ARP, so that every frame on weir's interfaces is one this test sent or a
# transfer made. The client's side takes jumbo frames, the server's does not.
SMAC=$(ip netns exec $S cat /sys/class/net/${P}z/address)
CMAC=$(ip netns exec $C cat /sys/class/net/${P}a/address)
ip -n $C neigh replace 10.96.0.2 lladdr $SMAC dev ${P}a nud permanent || fail "neighbour"
ip -n $S neigh replace 10.96.0.1 lladdr $CMAC dev ${P}z nud permanent || fail "neighbour"
ip -n $C link set ${P}a mtu 9000 && ip -n $M link set ${P}b mtu 9000 || fail "mtu"

# gen NAME GENERATOR...: makes a flood's frames before weir starts; its counts go to gen.jsonl
gen() {
	local name=$1; shift
	"$@" > $W/gen.out || fail "making the $name flood"
	sed "s/^{/{\"name\":\"$name\",/" $W/gen.out >> $W/gen.jsonl
}

DASH=127.0.0.1:18080 # the loopback of weir's own namespace
api() { ip netns exec $M curl -s -f -m 2 "http://$DASH/api/$1"; }

# legit: HTTP transfers one after another until $R/stop exists, a line each in $R/legit.txt:
# FILE START END CURL_EXIT HTTP_CODE BYTES SAME (1: cmp equal)
legit() {
	local i=0 f out rc t0 same
	while [ ! -e $R/stop ]; do
		for f in $SIZES; do
			i=$((i + 1)); t0=$(date +%s.%N)
			out=$(ip netns exec $C curl -s -m 30 -w '%{http_code} %{size_download}' -o $W/got/$i \
			      http://10.96.0.2:8080/f$f); rc=$?
			cmp -s $W/got/$i $W/www/f$f && same=1 || same=0
			echo "$f $t0 $(date +%s.%N) $rc ${out:-000 0} $same" >> $R/legit.txt
			rm -f $W/got/$i
		done
	done
}
# transfers N: returns once N more transfers have ended
transfers() {
	local want=$(($(wc -l < $R/legit.txt) + $1))
	for i in $(seq 600); do [ "$(wc -l < $R/legit.txt)" -ge $want ] && return 0; sleep 0.1; done
	fail "$POLICY: fewer than $1 transfers ended in 60 s"
}
# flood NAME: sends NAME.pcap from the client through weir; a line in floods.txt: NAME START END SENT
flood() {
	local t0=$(date +%s.%N) n
	n=$(ip netns exec $C python3 "$HERE/send_pcap.py" ${P}a $W/$1.pcap $PPS) || fail "sending the $1 flood"
	echo "$1 $t0 $(date +%s.%N) $n" >> $R/floods.txt
	transfers 4
}
# kernel TAG: the kernel's counters of weir's namespace in $R (interfaces, IP reassembly)
kernel() {
	ip -j -s -n $M link show > $R/links.$1.json && ip netns exec $M cat /proc/net/snmp > $R/snmp.$1.txt ||
		fail "the kernel's counters"
}

# start_weir: weir run with $R/weir.lua, the kernel's counters taken just before; returns once the
# dashboard listens, which it does once the ports are started: from then on weir sees every frame.
start_weir() {
	"$WEIR" check -c $R/weir.lua >/dev/null || fail "$R: weir check refused the config"
	kernel before
	ip netns exec $M "$WEIR" run -c $R/weir.lua > $W/weir.out 2> $W/weir.err & WPID=$!
	for i in $(seq 100); do
		kill -0 $WPID 2>/dev/null || { wait $WPID; rc=$?; WPID=; fail "$R: weir exited early: exit $rc"; }
		api stats > /dev/null && break
		sleep 0.2
	done
}

# run POLICY WORKERS FLOOD...: weir with flows.policy = POLICY and WORKERS workers; the transfers run
# while each FLOOD is sent, then weir stops; its records and the kernel's counters around the run are
# in $W/POLICY.
run() {
	POLICY=$1; R=$W/$1; local workers=$2; shift 2
	mkdir -p $R; : > $R/legit.txt; : > $R/floods.txt
	topo_dpdk 8192 > $R/weir.lua
	cat >> $R/weir.lua <<CFG
workers = $workers
flows = { max = 1024, policy = "$POLICY" }
streams = { memcap = 262144 }
defrag = { memcap = 65536, max_fragments = $MAX_FRAGMENTS }
firewall = { { port = 9, action = "drop" } }
dashboard = { listen = "$DASH" }
log = { stats = "$R/stats.flood.json" }
CFG
	start_weir
	ip netns exec $C curl -s -m 5 -o /dev/null http://10.96.0.2:8080/f1013 ||
		fail "$POLICY: no request got through weir"
	legit & LEGIT=$!; PIDS+=($LEGIT)
	transfers 4
	for f in "$@"; do flood $f; done
	transfers 1 # five ended since the last flood: four began after it
	touch $R/stop; wait $LEGIT
	topo_settled ports > $R/api_ports.json || fail "$POLICY: /api/ports did not answer"
	kill -0 $WPID 2>/dev/null || fail "$POLICY: weir is not running after the floods"
	topo_stop TERM
	[ $RC = 0 ] || fail "$POLICY: weir run exited $RC on SIGTERM"
	kernel after
}

case_floods() {
	mkdir -p $W/www $W/got
	SIZES="2000000 200000 20011 1013"
	for s in $SIZES; do head -c $s /dev/urandom > $W/www/f$s; done
	(cd $W/www && exec ip netns exec $S python3 -m http.server 8080 --bind 10.96.0.2 >/dev/null 2>&1) & PIDS+=($!)
	flood_args=(--client 10.97.0.0/16 --server 10.96.0.2 --port 8080 --smac 02:00:00:00:00:98 --dmac $MAC --out)
	gen syn "$GEN" syn --count 30000 "${flood_args[@]}" $W/syn.pcap
	gen syn9 "$GEN" syn --count 2000 "${flood_args[@]}" $W/syn9.pcap --port 9
	gen overlap "$GEN" overlap --flows 50 --count 5000 "${flood_args[@]}" $W/overlap.pcap
	gen tiny-ooo "$GEN" tiny-ooo --flows 1000 --count 10000 "${flood_args[@]}" $W/tiny-ooo.pcap
	gen frag "$GEN" frag --count 2000 "${flood_args[@]}" $W/frag.pcap
	gen frag6 python3 "$HERE/flood_frames.py" frag6 $W/frag6.pcap $MAC 300 20 24
	gen big python3 "$HERE/flood_frames.py" big $W/big.pcap $MAC 200 1800
	for i in $(seq 100); do ip netns exec $S ss -ltn | grep -q 10.96.0.2:8080 && break; sleep 0.1; done

	# Every flood under flows.policy = "evict"; then the SYN flood again under "refuse" with two workers
	# (the rx lcore hands the other one the flows of its half of the addresses): the tables fill with
	# flows that never complete a handshake, and the transfers' flows are refused, untracked but still
	# sent on.
	run evict 1 syn syn9 overlap tiny-ooo frag frag6 big
	python3 "$HERE/check_flood.py" floods $W/evict $W/gen.jsonl ${P}b ${P}y $MAX_FRAGMENTS \
		flows.evicted memory.failed anomalies.memcap anomalies.overlap_different defrag.evicted defrag.too_many ||
		fail "evict: records"
	run refuse 2 syn
	python3 "$HERE/check_flood.py" floods $W/refuse $W/gen.jsonl ${P}b ${P}y $MAX_FRAGMENTS flows.refused ||
		fail "refuse: records"
}

# stop: weir with two workers is stopped while the rx lcore hands the other worker frames that worker
# has not polled yet: flood_stall.lua holds the worker in its tick (a timer callback) for 2 s of CPU
# time once a SYN to port 9999 reaches it, after it found its ring empty; meanwhile 10 SYNs for it
# arrive and SIGTERM. Every frame weir received must still be sent on, and counted.
case_stop() {
	R=$W/stop; mkdir -p $R
	gen trigger python3 "$HERE/flood_frames.py" syn $W/trigger.pcap $MAC 2 1 9999 1
	gen stall python3 "$HERE/flood_frames.py" syn $W/stall.pcap $MAC 2 1 8080 10
	topo_dpdk 8192 > $R/weir.lua
	cat >> $R/weir.lua <<CFG
workers = 2
scripts = { "$HERE/flood_stall.lua" }
lua = { budget_ms = 10000 }
dashboard = { listen = "$DASH" }
log = { stats = "$R/stats.flood.json" }
CFG
	start_weir
	ip netns exec $C python3 "$HERE/send_pcap.py" ${P}a $W/trigger.pcap $PPS > /dev/null || fail "sending"
	sleep 0.2
	ip netns exec $C python3 "$HERE/send_pcap.py" ${P}a $W/stall.pcap $PPS > /dev/null || fail "sending"
	topo_stop TERM
	[ $RC = 0 ] || fail "stop: weir run exited $RC on SIGTERM"
	kernel after
	python3 "$HERE/check_flood.py" stop $R $W/gen.jsonl ${P}b ${P}y || fail "stop: records"
}

case $CASE in
floods) case_floods ;;
stop) case_stop ;;
*) fail "unknown case $CASE" ;;
esac
echo "1 passed, 0 failed"
