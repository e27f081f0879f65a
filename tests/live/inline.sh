#!/bin/bash
# inline.sh — live test: weir inline (2x net_af_packet) between client and server namespaces, real HTTP through it.
# usage: inline.sh WEIR_BINARY clean|loss|drop|luadrop|workers2
# The clean case also runs the dashboard (in weir's namespace) and checks /api against the summary.
# Needs root, ip, ethtool, curl, python3, nstat, nft. Fails loudly (never skips) when they are missing.
# Prints "1 passed, 0 failed" or "0 passed, 1 failed"; leaves no namespace, interface or process behind.
set -u
WEIR=${1:?weir binary}; CASE=${2:?case}
fail() { echo "FAIL [$CASE]: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
. "$(dirname "$0")/topology.sh"
# --- topology: client <-> [weir: 2x af_packet] <-> server
topo_start live wl 10.99.0 ip ethtool curl python3 nstat nft cmp

mkdir -p $W/www
head -c 20000000 /dev/urandom > $W/www/big
for i in $(seq 1 30); do head -c $((i * 997 + 13)) /dev/urandom > $W/www/s$i; done
for port in 8080 8081; do
	(cd $W/www && exec ip netns exec $S python3 -m http.server $port --bind 10.99.0.2 >/dev/null 2>&1) & PIDS+=($!)
done

workers=1; rules=""; dash=""
[ "$CASE" = workers2 ] && workers=2
[ "$CASE" = drop ] && rules='firewall = { { port = 8081, action = "drop" } }'
# The same drop, decided by a Lua script (one Lua state per worker) instead of a built-in rule.
[ "$CASE" = luadrop ] && rules="scripts = { \"$(cd "$(dirname "$0")" && pwd)/drop_port.lua\" }"
# 127.0.0.1 is the loopback of weir's own namespace: nothing outside the test can reach it.
DASH=127.0.0.1:18080
[ "$CASE" = clean ] || [ "$CASE" = luadrop ] && dash="dashboard = { listen = \"$DASH\" }"
cat > $W/weir.lua <<CFG
dpdk = {
	eal = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" },
	ports = { "net_af_packet0,iface=${P}b,framecnt=4096", "net_af_packet1,iface=${P}y,framecnt=4096" },
}
workers = $workers
idle_sleep_us = 20
log = { eve = "$W/eve.json", stats = "$W/stats.json" }
$rules
$dash
CFG
"$WEIR" check -c $W/weir.lua >/dev/null || fail "weir check refused the config"
api() { ip netns exec $M curl -s -f -m 2 "http://$DASH/api/$1"; }
api_pkts() { api stats | grep -o '"packets":[0-9]*' | head -1 | cut -d: -f2; }
if [ "$CASE" = clean ]; then
	# A dashboard that cannot start (its port taken) stops weir run before any traffic: exit 78.
	ip netns exec $M python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",18080)); s.listen(); time.sleep(60)' & BUSY=$!
	PIDS+=($BUSY); sleep 0.3
	timeout -s KILL 60 ip netns exec $M "$WEIR" run -c $W/weir.lua > /dev/null 2> $W/busy.err; rc=$?
	kill -KILL $BUSY; wait $BUSY 2>/dev/null
	[ $rc = 78 ] || { cat $W/busy.err >&2; fail "weir run with the dashboard port taken exited $rc, want 78"; }
	grep -q "dashboard" $W/busy.err || fail "no message naming the dashboard: $(cat $W/busy.err)"
fi
ip netns exec $M "$WEIR" run -c $W/weir.lua > $W/weir.out 2> $W/weir.err & WPID=$!
for i in $(seq 100); do ip netns exec $S ss -ltn | grep -q 10.99.0.2:8081 && break; sleep 0.1; done
# weir is up when a first request gets through (it may still be starting EAL).
for i in $(seq 60); do
	kill -0 $WPID 2>/dev/null || { cat $W/weir.err >&2; fail "weir exited early"; }
	ip netns exec $C curl -s -m 2 -w '%{local_port}\n' -o /dev/null http://10.99.0.2:8080/s1 >> $W/probes.txt && break
	sleep 0.5
done

if [ "$CASE" = loss ]; then
	for l in "$C ${P}a" "$S ${P}z"; do read -r ns dev <<< "$l"
		printf 'table netdev impair { chain in { type filter hook ingress device "%s" priority 0; policy accept; meta l4proto tcp numgen random mod 100 < 2 counter drop; }; }\n' "$dev" > $W/impair.nft
		ip netns exec $ns nft -f $W/impair.nft || fail "nft"
	done
fi
export NSTAT_HISTORY=$W/nstat
touch $W/probes.txt
NSTAT_HISTORY=$W/nstat.c ip netns exec $C nstat -n; NSTAT_HISTORY=$W/nstat.s ip netns exec $S nstat -n

fmt='%{local_port} %{size_request} %{size_header} %{size_download} %{http_code} %{local_ip}\n'
get() { ip netns exec $C curl -s -m 60 -w "$fmt" -o "$W/got.$1" "http://10.99.0.2:${2:-8080}/$1"; }
: > $W/curl.txt
if [ "$CASE" = clean ]; then # /api/stats sampled while the traffic flows, four times a second
	( while :; do api stats >> $W/api_during.jsonl && echo >> $W/api_during.jsonl; sleep 0.25; done ) & SAMPLER=$!
	PIDS+=($SAMPLER)
fi
if [ "$CASE" = workers2 ]; then
	# Workers are picked by the two addresses (a segment's IP fragments carry no ports): the
	# requests come from eight client addresses, so that both workers get flows.
	for k in $(seq 11 18); do ip -n $C addr add 10.99.0.$k/24 dev ${P}a || fail "client address"; done
	export C W fmt
	fetch() { # fetch PREFIX: s1..s30 from the eight addresses, eight at a time
		for i in $(seq 1 30); do echo "$i 10.99.0.$((11 + i % 8))"; done | xargs -P 8 -L 1 sh -c \
			'ip netns exec "$C" curl -s -m 60 --interface "$2" -w "$fmt" -o "$W/'$1'.s$1" "http://10.99.0.2:8080/s$1"' _
	}
	fetch got >> $W/curl.txt
	fetch got2 >> $W/curl.txt
	for i in $(seq 1 30); do cmp -s $W/got2.s$i $W/www/s$i || fail "s$i differs (second round)"; done
else
	for i in $(seq 1 30); do get s$i >> $W/curl.txt; done
fi
get big >> $W/curl.txt
if [ "$CASE" = clean ]; then
	# More short transfers until the page's count has grown twice (it samples once a second).
	for i in $(seq 1 40); do
		[ "$(grep -o '"packets":[0-9]*' $W/api_during.jsonl 2>/dev/null | awk -F: '!s[$0]++' | wc -l)" -ge 4 ] && break
		ip netns exec $C curl -s -m 60 -w "$fmt" -o /dev/null "http://10.99.0.2:8080/s$i" >> $W/curl.txt; sleep 0.2
	done
	kill -KILL $SAMPLER; wait $SAMPLER 2>/dev/null
	# Traffic is over: once the count stands still, it is what the summary will say.
	prev=-1
	for i in $(seq 1 20); do
		sleep 1.1; cur=$(api_pkts); [ -n "$cur" ] && [ "$cur" = "$prev" ] && break; prev=$cur
	done
	api stats > $W/api_final.json || fail "/api/stats did not answer after the traffic"
	api ports > $W/api_ports.json || fail "/api/ports did not answer"
fi
for f in big $(seq -f 's%g' 1 30); do cmp -s $W/got.$f $W/www/$f || fail "$f: content differs"; done
if [ "$CASE" = drop ] || [ "$CASE" = luadrop ]; then
	ip netns exec $C curl -s -m 5 -o /dev/null http://10.99.0.2:8081/s1 && fail "connection to the dropped port 8081 succeeded"
fi
if [ "$CASE" = luadrop ]; then # the page's per-script table shows the script at work
	sleep 1.2; api scripts > $W/api_scripts.json || fail "/api/scripts did not answer"
fi
retrans=$(( $(NSTAT_HISTORY=$W/nstat.c ip netns exec $C nstat -az TcpRetransSegs | awk '/TcpRetransSegs/{print $2}') + \
            $(NSTAT_HISTORY=$W/nstat.s ip netns exec $S nstat -az TcpRetransSegs | awk '/TcpRetransSegs/{print $2}') ))

kill -INT $WPID; for i in $(seq 300); do kill -0 $WPID 2>/dev/null || break; sleep 0.1; done
wait $WPID; rc=$?; WPID=
[ $rc = 0 ] || { cat $W/weir.err >&2; fail "weir run exited $rc"; }
python3 "$(dirname "$0")/check_live.py" "$CASE" $W/curl.txt $W/eve.json $W/stats.json "$retrans" $workers $W/probes.txt \
	$W/api_during.jsonl $W/api_final.json $W/api_ports.json $W/api_scripts.json || fail "records"
echo "1 passed, 0 failed"
