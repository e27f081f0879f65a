#!/bin/bash
# edges.sh — live tests of what weir inline drops, and of what the port drops before weir sees it.
#   fragments: a TCP segment split into IPv6 fragments goes from the client namespace through weir
#     to the server namespace. By default weir reassembles it (one flow, defrag.reassembled) and
#     every fragment arrives (the server's Ip6ReasmReqds counts them). With defrag.max_fragments
#     below the fragment count the datagram cannot be reassembled: the fragments past the cap are
#     dropped and counted (exit summary, /api/stats, /api/ports, /metrics); with
#     defrag.unreassembled = "forward" they all arrive. IPv6: net_af_packet ports have the kernel
#     reassemble IPv4 fragments before weir sees them.
#   missed: weir is stopped (SIGSTOP) while the client floods the server, so the kernel's capture
#     buffer overflows; the frames the port lost show as rx_missed in /api/ports and /metrics, equal
#     to the summary's missed + no_mbuf. The ports are net_pcap on the same interfaces: DPDK's
#     net_af_packet does not read the kernel's drop counter (imissed stays 0), net_pcap does.
# usage: edges.sh WEIR_BINARY fragments|missed
# Needs root, ip, ethtool, curl, python3, nstat. Fails loudly (never skips) when they are missing.
# Prints "1 passed, 0 failed" or "0 passed, 1 failed"; leaves no namespace, interface or process behind.
set -u
WEIR=${1:?weir binary}; CASE=${2:?case}
N=4         # fragments the segment is cut into
CAP=2       # defrag.max_fragments where the datagram must not be reassembled
FLOOD=20000 # 1000-byte datagrams sent while weir is stopped: 20 MB, ten times libpcap's 2 MB buffer
fail() { echo "FAIL [$CASE]: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/topology.sh"
topo_start frag wf 10.98.0 ip ethtool curl python3 nstat

# stop_weir: Ctrl-C, then up to 30 s to drain and write its summary; RC is its exit status.
stop_weir() {
	kill -INT $WPID 2>/dev/null
	for i in $(seq 300); do kill -0 $WPID 2>/dev/null || break; sleep 0.1; done
	kill -KILL $WPID 2>/dev/null # a weir that hangs does not hold the test
	wait $WPID; RC=$?; WPID=
}
# The server takes IPv6 (the topology turns it off): the fragments' destination.
ip netns exec $S sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.${P}z.disable_ipv6=0 || fail "ipv6"
ip -n $S addr add fd00:98::2/64 dev ${P}z nodad || fail "ipv6 address"
SMAC=$(ip netns exec $S cat /sys/class/net/${P}z/address)
(cd "$W" && exec ip netns exec $S python3 -m http.server 8080 --bind 10.98.0.2 >/dev/null 2>&1) & PIDS+=($!)
DASH=127.0.0.1:18080 # the loopback of weir's own namespace

# start_weir TAG PMD [SETTING]: weir run on two PMD ports (net_af_packet or net_pcap), its summary
# in stats.TAG.json, with SETTING added to the config; returns once a request gets through it.
start_weir() {
	local opts=""
	[ "$2" = net_af_packet ] && opts=",framecnt=4096"
	cat > $W/weir.lua <<CFG
dpdk = {
	eal = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" },
	ports = { "${2}0,iface=${P}b$opts", "${2}1,iface=${P}y$opts" },
}
idle_sleep_us = 20
log = { stats = "$W/stats.$1.json" }
dashboard = { listen = "$DASH" }
${3:-}
CFG
	ip netns exec $M "$WEIR" run -c $W/weir.lua > $W/weir.out 2> $W/weir.err & WPID=$!
	for i in $(seq 60); do
		kill -0 $WPID 2>/dev/null || fail "weir exited early: $(cat $W/weir.err)"
		ip netns exec $C curl -s -m 2 -o /dev/null http://10.98.0.2:8080/ && return 0
		sleep 0.5
	done
	fail "$1: no request got through weir"
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

# dashboard FIELD: once FIELD in /api/ports has stopped changing (the page samples once a second;
# two equal readings a sample apart), saves /api/stats, /api/ports and /metrics.
dashboard() {
	local prev=-1 cur
	for i in $(seq 10); do
		sleep 1.1
		cur=$(api api/ports | grep -o "\"$1\":[0-9]*" | tr '\n' ' ')
		[ -n "$cur" ] && [ "$cur" = "$prev" ] && break
		prev=$cur
	done
	api api/stats > $W/api_stats.json || fail "/api/stats did not answer"
	api api/ports > $W/api_ports.json || fail "/api/ports did not answer"
	api metrics > $W/metrics.txt || fail "/metrics did not answer"
}

case_fragments() {
	# Default: the fragments are reassembled for inspection and all sent on.
	start_weir reassembled net_af_packet
	send_segment
	[ "$ARRIVED" = $N ] || fail "reassembled: $ARRIVED of $N fragments reached the server"
	stop_weir; [ $RC = 0 ] || fail "weir run exited $RC: $(cat $W/weir.err)"
	# A datagram that cannot be reassembled (more fragments than defrag.max_fragments): the
	# fragments from the one past the cap on are dropped (defrag.unreassembled = "drop"), counted
	# per port and on the dashboard.
	start_weir unreassembled net_af_packet "defrag = { max_fragments = $CAP }"
	send_segment
	[ "$ARRIVED" = $CAP ] || fail "unreassembled: $ARRIVED of $N fragments reached the server (want $CAP)"
	dashboard fragment_drops
	stop_weir; [ $RC = 0 ] || fail "weir run exited $RC: $(cat $W/weir.err)"
	# defrag.unreassembled = "forward": every fragment arrives (and weir still counts them seen).
	start_weir forward net_af_packet "defrag = { max_fragments = $CAP, unreassembled = \"forward\" }"
	send_segment
	[ "$ARRIVED" = $N ] || fail "unreassembled = forward: $ARRIVED of $N fragments reached the server"
	stop_weir; [ $RC = 0 ] || fail "weir run exited $RC: $(cat $W/weir.err)"
}

case_missed() {
	start_weir missed net_pcap # the start probe resolved the server's MAC: no ARP needed while stopped
	kill -STOP $WPID
	ip netns exec $C python3 -c "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range($FLOOD): s.sendto(b'x' * 1000, ('10.98.0.2', 9))" || fail "flood"
	kill -CONT $WPID
	dashboard rx_missed
	stop_weir; [ $RC = 0 ] || fail "weir run exited $RC: $(cat $W/weir.err)"
}

case $CASE in
fragments) case_fragments ;;
missed) case_missed ;;
*) fail "unknown case" ;;
esac
python3 "$HERE/check_edges.py" $CASE $W $N $FLOOD $CAP || fail "counters"
echo "1 passed, 0 failed"
