#!/bin/bash
# run_case.sh — one realcap CTest case: make a live capture, replay it through weir, check it with oracle.py.
#
# usage: run_case.sh CASE WORKDIR WEIR SYN_RETX [gen_capture.sh options...]
#   CASE clean|loss  capture with the given options, then oracle.py
#   CASE synloss     same, and syn_retx must print tshark's SYN-retransmission count (> 0)
#   CASE sample      replay tests/data/sample.pcap against tests/data/sample.expect.json
#   CASE killed      SIGTERM gen_capture.sh in the middle of its workload: nothing may be left
# Every case that makes a capture also checks that the run left no netns, link, process or
# temporary directory behind. Missing root or tools is a FAILURE, never a skip: a test that
# cannot run must not look like a test that passed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data
[ $# -ge 4 ] || { echo "usage: $0 CASE WORKDIR WEIR SYN_RETX [gen options]" >&2; exit 2; }
CASE=$1 WORK=$2 WEIR=$3 SYNRETX=$4
shift 4

fail() { echo "realcap $CASE: FAIL: $*" >&2; exit 1; }

need_live() {
	[ "$(id -u)" = 0 ] || fail "must run as root: the live captures need network namespaces (sudo ctest -L realcap)"
	local t
	for t in ip tcpdump curl python3 ethtool ss nft tshark tcpflow; do
		command -v "$t" >/dev/null || fail "'$t' is not installed; the realcap tests need it (packaging/install-deps --test)"
	done
}

# leftovers PID: what a gen_capture.sh run with that pid could have left behind.
leftovers() {
	local pid=$1 left="" p
	ip netns list | grep -q "^wrc${pid}[cs]\b" && left+=" netns:$(ip netns list | grep "^wrc${pid}[cs]" | tr '\n' ' ')"
	ip -o link | grep -q "wrc${pid}[cs]" && left+=" link"
	compgen -G "/tmp/gen_capture.$pid.*" >/dev/null && left+=" tmpdir"
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -e "wrc${pid}[cs]" -e "/tmp/gen_capture\.$pid\."; then
			left+=" process:${p#/proc/}"
		fi
	done
	echo "$left"
}

capture() {
	local pcap=$1 pid left
	shift
	bash "$HERE/gen_capture.sh" "$pcap" "$@" &
	pid=$!
	wait "$pid" || fail "gen_capture.sh $* failed (exit $?)"
	left=$(leftovers "$pid")
	[ -z "$left" ] || fail "gen_capture.sh left behind:$left"
}

rm -rf "$WORK"
mkdir -p "$WORK" || fail "cannot create $WORK"
case "$CASE" in
clean|loss|synloss)
	need_live
	[ -x "$WEIR" ] || fail "weir binary '$WEIR' not found"
	capture "$WORK/$CASE.pcap" "$@"
	args=(--weir "$WEIR" --workdir "$WORK/oracle" "$WORK/$CASE.pcap")
	if [ "$CASE" = synloss ]; then
		[ -x "$SYNRETX" ] || fail "syn_retx binary '$SYNRETX' not found"
		args+=(--syn-retx "$SYNRETX" --require-syn-retx)
	fi
	python3 "$HERE/oracle.py" "${args[@]}" || fail "oracle.py found differences (above); inputs kept in $WORK"
	;;
sample)
	[ -x "$WEIR" ] || fail "weir binary '$WEIR' not found"
	command -v python3 >/dev/null || fail "python3 is not installed (packaging/install-deps --test)"
	python3 "$HERE/oracle.py" --weir "$WEIR" --workdir "$WORK/oracle" --expect "$DATA/sample.expect.json" \
		"$DATA/sample.pcap" || fail "weir differs from tests/data/sample.expect.json (above)"
	;;
killed)
	need_live
	bash "$HERE/gen_capture.sh" "$WORK/killed.pcap" "$@" &
	pid=$!
	# Wait until the run is in its workload (the capture file exists), then stop it.
	for _ in $(seq 200); do [ -e "$WORK/killed.pcap" ] && break; sleep 0.05; done
	[ -e "$WORK/killed.pcap" ] || { kill -TERM "$pid"; wait "$pid"; fail "gen_capture.sh never started capturing"; }
	ip netns list | grep -q "^wrc${pid}c" || fail "expected netns wrc${pid}c while running"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ "$rc" = 143 ] || fail "gen_capture.sh exited $rc after SIGTERM (want 143)"
	left=$(leftovers "$pid")
	[ -z "$left" ] || fail "gen_capture.sh left behind after SIGTERM:$left"
	[ ! -e "$WORK/killed.pcap" ] || fail "the partial capture was not removed"
	echo "realcap killed: SIGTERM mid-capture left nothing behind"
	;;
*)
	fail "unknown case"
	;;
esac
