#!/bin/bash
# fragments.sh — live test: a TCP segment split into IPv6 fragments goes from the client namespace
# through weir inline to the server namespace. With the default policy no fragment reaches the
# server and weir counts each one dropped (exit summary, /api/stats, /api/ports, /metrics); with
# fragments = "forward" every fragment arrives (the server's Ip6ReasmReqds counts them).
# IPv6: net_af_packet ports have the kernel reassemble IPv4 fragments before weir sees them.
# usage: fragments.sh WEIR_BINARY
# Needs root, ip, ethtool, curl, python3, nstat. Fails loudly (never skips) when they are missing.
# Prints "1 passed, 0 failed" or "0 passed, 1 failed"; leaves no namespace, interface or process behind.
set -u
WEIR=${1:?weir binary}
N=4 # fragments the segment is cut into
fail() { echo "FAIL [fragments]: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (network namespaces)"
for t in ip ethtool curl python3 nstat; do command -v $t >/dev/null || fail "missing tool: $t"; done
[ -x "$WEIR" ] || fail "no weir binary at $WEIR"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/topology.sh"

W=$(mktemp -d /tmp/weir-frag.XXXXXX); P=wf$$; C=${P}c; S=${P}s; M=${P}m; SRV=; WPID=
# stop_weir: Ctrl-C, then up to 30 s to drain and write its summary; RC is its exit status.
stop_weir() {
	kill -INT $WPID 2>/dev/null
	for i in $(seq 300); do kill -0 $WPID 2>/dev/null || break; sleep 0.1; done
	kill -KILL $WPID 2>/dev/null # a weir that hangs does not hold the test
	wait $WPID; RC=$?; WPID=
}
cleanup() {
	trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
	[ -n "$WPID" ] && stop_weir
	[ -n "$SRV" ] && kill -TERM $SRV 2>/dev/null && wait $SRV
	topo_down $P $M # and whatever is left in the namespaces
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

topo_up $P 10.98.0 $M || fail "topology"
# The server takes IPv6 (the topology turns it off): the fragments' destination.
ip netns exec $S sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.${P}z.disable_ipv6=0 || fail "ipv6"
ip -n $S addr add fd00:98::2/64 dev ${P}z nodad || fail "ipv6 address"
SMAC=$(ip netns exec $S cat /sys/class/net/${P}z/address)
(cd "$W" && exec ip netns exec $S python3 -m http.server 8080 --bind 10.98.0.2 >/dev/null 2>&1) & SRV=$!
DASH=127.0.0.1:18080 # the loopback of weir's own namespace

# start_weir POLICY: weir run with fragments = POLICY; returns once a request gets through it.
start_weir() {
	cat > $W/weir.lua <<CFG
dpdk = {
	eal = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" },
	ports = { "net_af_packet0,iface=${P}b,framecnt=4096", "net_af_packet1,iface=${P}y,framecnt=4096" },
}
idle_sleep_us = 20
fragments = "$1"
log = { stats = "$W/stats.$1.json" }
dashboard = { listen = "$DASH" }
CFG
	ip netns exec $M "$WEIR" run -c $W/weir.lua > $W/weir.out 2> $W/weir.err & WPID=$!
	for i in $(seq 60); do
		kill -0 $WPID 2>/dev/null || fail "weir exited early: $(cat $W/weir.err)"
		ip netns exec $C curl -s -m 2 -o /dev/null http://10.98.0.2:8080/ && return 0
		sleep 0.5
	done
	fail "fragments = $1: no request got through weir"
}

# send_segment: the fragments from the client; sets ARRIVED to the fragments the server's IP took in.
send_segment() {
	NSTAT_HISTORY=$W/nstat ip netns exec $S nstat -n
	[ "$(ip netns exec $C python3 "$HERE/send_fragments.py" ${P}a $SMAC fd00:98::1 fd00:98::2 8080 $N)" = $N ] ||
		fail "sending"
	sleep 1
	ARRIVED=$(NSTAT_HISTORY=$W/nstat ip netns exec $S nstat -z Ip6ReasmReqds | awk '/Ip6ReasmReqds/{print $2}')
}

api() { ip netns exec $M curl -s -f -m 2 "http://$DASH/$1"; }

# Default policy: dropped, and the dashboard shows it (it samples once a second).
start_weir drop
send_segment
[ "$ARRIVED" = 0 ] || fail "fragments = drop: $ARRIVED of $N fragments reached the server"
for i in $(seq 10); do
	api api/stats > $W/api_stats.json && grep -q "\"fragments\":$N,\"non_tcp\"" $W/api_stats.json && break
	sleep 0.5
done
api api/ports > $W/api_ports.json || fail "/api/ports did not answer"
api metrics > $W/metrics.txt || fail "/metrics did not answer"
stop_weir; [ $RC = 0 ] || fail "weir run exited $RC: $(cat $W/weir.err)"

# fragments = "forward": every fragment arrives (and weir still counts them seen).
start_weir forward
send_segment
[ "$ARRIVED" = $N ] || fail "fragments = forward: $ARRIVED of $N fragments reached the server"
stop_weir; [ $RC = 0 ] || fail "weir run exited $RC: $(cat $W/weir.err)"

python3 - $N $W <<'PY' || fail "counters"
import json, re, sys
n, w = int(sys.argv[1]), sys.argv[2]
errs = []
for policy, want in (("drop", [n, 0]), ("forward", [0, 0])):
    st = json.load(open(f"{w}/stats.{policy}.json"))
    got = [p["drops"]["fragments"] for p in st["ports"]]
    seen = sum(x["fragments"] for x in st["workers"])
    if got != want or seen != n or not all(p["accounted"] for p in st["ports"]):
        errs.append(f"{policy}: summary drops.fragments per port {got} (want {want}), seen {seen} (want {n})")
    print(f"  fragments = {policy}: summary drops.fragments per port {got}, fragments seen {seen}")
stats = json.load(open(f"{w}/api_stats.json"))
ports = json.load(open(f"{w}/api_ports.json"))
by_port = [sum(p["fragment_drops"] for p in ports if p["port"] == i) for i in (0, 1)]
metric = sum(int(v) for v in re.findall(r'^weir_port_fragment_drops_total\{[^}]*\} (\d+)$', open(f"{w}/metrics.txt").read(), re.M))
if stats["drops"]["fragments"] != n or by_port != [n, 0] or metric != n:
    errs.append(f"dashboard: /api/stats drops.fragments {stats['drops']['fragments']}, /api/ports {by_port}, "
                f"/metrics {metric}: want {n}")
print(f"  dashboard: /api/stats drops.fragments {stats['drops']['fragments']}, /api/ports {by_port}, /metrics {metric}")
for e in errs:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
echo "1 passed, 0 failed"
