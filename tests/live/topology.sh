# topology.sh — sourced by the live tests, the inline bench and run-weir: the inline topology from the
# environment reference, built and removed in one place, and the live tests' common start (topo_start).
#   netns ${P}c (NET.1, veth ${P}a) <-> ${P}b [weir: 2x net_af_packet] ${P}y <-> (veth ${P}z, NET.2) netns ${P}s
# topo_up P NET [MIDDLE_NS]: the weir-side ends ${P}b and ${P}y go into MIDDLE_NS, or stay in the
# caller's namespace. Returns non-zero when a step fails. IPv6 is off in the namespaces (less noise).
topo_up() {
	local P=$1 net=$2 m=${3:-} n
	local c=${P}c s=${P}s
	for n in $c $s $m; do
		ip netns add $n || return 1
		ip -n $n link set lo up
		ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
	ip link add ${P}a type veth peer name ${P}b || return 1
	ip link add ${P}y type veth peer name ${P}z || return 1
	ip link set ${P}a netns $c && ip link set ${P}z netns $s || return 1
	if [ -n "$m" ]; then
		ip link set ${P}b netns $m && ip link set ${P}y netns $m || return 1
	fi
	ip -n $c addr add $net.1/24 dev ${P}a && ip -n $s addr add $net.2/24 dev ${P}z || return 1
	ip -n $c link set ${P}a up && ip -n $s link set ${P}z up || return 1
	local mid=(ip); [ -n "$m" ] && mid=(ip -n $m)
	"${mid[@]}" link set ${P}b up && "${mid[@]}" link set ${P}y up || return 1
	# Required: af_packet forwards frames as they are, so the endpoints must put real checksums in them.
	ip netns exec $c ethtool -K ${P}a tx off >/dev/null && ip netns exec $s ethtool -K ${P}z tx off >/dev/null
}

# topo_down P [MIDDLE_NS]: kills what runs in the namespaces and removes them and the veths.
# Every step may find its object gone already; none may stop the others (callers run set -e).
topo_down() {
	local P=$1 m=${2:-} n
	for n in ${P}c ${P}s $m; do
		ip netns pids $n 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del $n 2>/dev/null || true
	done
	ip link del ${P}b 2>/dev/null || true
	ip link del ${P}y 2>/dev/null || true
}

# topo_cleanup: the live tests' EXIT trap. Stops weir ($WPID, with SIGINT so that it writes its
# records) and the processes in PIDS, gives each 5 s, then removes the topology ($P, $M) and $W.
topo_cleanup() {
	trap '' INT TERM # a second Ctrl-C (or a signal to the whole group) must not cut the cleanup short
	[ -n "$WPID" ] && kill -INT "$WPID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}" $WPID; do
		for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	topo_down $P $M
	rm -rf "$W"
}

# topo_dpdk FRAMES: the start of weir's config: its two ports on ${P}b and ${P}y (net_af_packet,
# FRAMES ring frames each) with EAL arguments that need no hugepages, and a 20 us idle sleep.
topo_dpdk() {
	cat <<CFG
dpdk = {
	eal = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" },
	ports = { "net_af_packet0,iface=${P}b,framecnt=$1", "net_af_packet1,iface=${P}y,framecnt=$1" },
}
idle_sleep_us = 20
CFG
}

# topo_stop SIGNAL: sends weir ($WPID) SIGNAL and gives it 30 s to drain and write its records,
# then kills it; sets RC to its exit status and clears WPID.
topo_stop() {
	kill -$1 $WPID 2>/dev/null
	for i in $(seq 300); do kill -0 $WPID 2>/dev/null || break; sleep 0.1; done
	kill -KILL $WPID 2>/dev/null
	wait $WPID; RC=$?; WPID=
}

# topo_settled PATH: prints the dashboard's answer to PATH (through the caller's function api) once
# it stands still: it samples once a second, so two equal answers a sample apart. Non-zero when the
# dashboard does not answer.
topo_settled() {
	local prev= cur i
	for i in $(seq 20); do
		sleep 1.1; cur=$(api $1) || return 1
		[ "$cur" = "$prev" ] && break; prev=$cur
	done
	echo "$cur"
}

# topo_start NAME PREFIX NET TOOL...: the live tests' start. Calls the caller's fail() unless run as
# root with every TOOL on PATH and an executable $WEIR. Then sets the globals the test and topo_cleanup
# use: W (a new folder /tmp/weir-NAME.XXXXXX), P (PREFIX and the test's pid), the namespaces C, S
# and M (weir's), PIDS=() and WPID=; traps EXIT with topo_cleanup and INT/TERM with exit 1 (so the
# cleanup runs), and builds the topology on NET (NET.1 the client, NET.2 the server) with weir in M.
topo_start() {
	local name=$1 prefix=$2 net=$3 t
	shift 3
	[ "$(id -u)" = 0 ] || fail "needs root (network namespaces)"
	for t in "$@"; do
		command -v $t >/dev/null || fail "missing tool: $t (packaging/install-deps --test)"
	done
	[ -x "$WEIR" ] || fail "no weir binary at $WEIR"
	W=$(mktemp -d /tmp/weir-$name.XXXXXX) || fail "mktemp"
	P=$prefix$$; C=${P}c; S=${P}s; M=${P}m; PIDS=(); WPID=
	trap topo_cleanup EXIT
	trap 'exit 1' INT TERM
	topo_up $P $net $M || fail "topology"
}
