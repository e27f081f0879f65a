#!/bin/bash
# caps.sh SRC UNIT — the capabilities of the installed weir.service (UNIT) are enough and each is
# needed: /usr/bin/weir runs inline on the live test topology (tests/live/topology.sh) as the user
# weir with only the unit's AmbientCapabilities (setpriv), and an HTTP transfer passes through it;
# then each capability is dropped in turn and weir must fail to start its ports. Locked memory is
# limited to 8 MiB in the runs (what an unprivileged process gets by default; the unit's
# LimitMEMLOCK=infinity cannot be applied where raising the limit is not permitted, as in a
# container), so CAP_IPC_LOCK is what lets the af_packet rings be locked. Called by deb_package.sh
# with the package installed; needs root, under /tmp/weir-shared.lock.
set -u
src=$1 unit=$2 WEIR=/usr/bin/weir
fail() { echo "caps: FAIL: $*" >&2; exit 1; }
. "$src/tests/live/topology.sh"
caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
[ -n "$caps" ] || fail "no AmbientCapabilities= in $unit"
[ "$caps" = "$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")" ] || fail "the bounding set is not the ambient set"

topo_start caps wk 10.97.0 ip ethtool curl python3 cmp prlimit setpriv
chmod 755 "$W"
mkdir "$W/www" "$W/log" && chown weir:weir "$W/log"
head -c 300000 /dev/urandom >"$W/www/f"
(cd "$W/www" && exec ip netns exec $S python3 -m http.server 8080 --bind 10.97.0.2 >/dev/null 2>&1) &
PIDS+=($!)
cat >"$W/weir.lua" <<CFG
dpdk = { ports = { "net_af_packet0,iface=${P}b,framecnt=4096", "net_af_packet1,iface=${P}y,framecnt=4096" } }
idle_sleep_us = 20
log = { eve = "$W/log/eve.json" }
CFG

# run CAPLIST NAME: weir as user weir with exactly CAPLIST (setpriv's +cap,+cap form) until one
# transfer passes or it exits; prints "ok" when the transfer passed.
run() {
	local list=$1 name=$2 i
	ip netns exec $M prlimit --memlock=8388608 -- setpriv --reuid weir --regid weir --init-groups \
		--inh-caps "-all,$list" --ambient-caps "$list" --bounding-set "-all,$list" \
		"$WEIR" run -c "$W/weir.lua" >"$W/$name.out" 2>"$W/$name.err" &
	WPID=$!
	for i in $(seq 30); do
		kill -0 $WPID 2>/dev/null || break
		if ip netns exec $C curl -s -m 2 -o "$W/got" http://10.97.0.2:8080/f && cmp -s "$W/got" "$W/www/f"; then
			echo ok
			break
		fi
		sleep 0.5
	done
	kill -INT $WPID 2>/dev/null
	wait $WPID
	WPID=
}

all=$(for c in $caps; do c=${c#CAP_}; printf '+%s,' "${c,,}"; done)
all=${all%,}
[ "$(run "$all" all)" = ok ] || { cat "$W/all.err" >&2; fail "no transfer through weir with $caps"; }
grep -q '"event_type":"flow"' "$W/log/eve.json" || fail "weir as user weir wrote no flow record"
for c in $caps; do
	c=${c#CAP_}
	less=$(echo ",$all," | sed "s/,+${c,,},/,/; s/^,//; s/,$//")
	[ "$(run "$less" "no_$c")" = ok ] && fail "a transfer passed without CAP_$c: it is not needed"
	grep -q "dpdk.ports" "$W/no_$c.err" || { cat "$W/no_$c.err" >&2; fail "without CAP_$c: no port error"; }
	echo "caps: without CAP_$c: $(grep -m1 -iE 'not permitted|failed|could not' "$W/no_$c.err")"
done
echo "caps: ok ($caps enough, each needed)"
