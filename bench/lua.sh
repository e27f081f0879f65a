#!/bin/bash
# lua.sh — cost of Lua scripting on `weir replay`: packets/s with no script, with a NEW_DATA handler on every flow
# (one that only counts, one that reads the new bytes as a string, one through the zero-copy view), and the C
# Listing 1 (syn_retx) vs the Lua one, same capture, same run; and the Lua dispatch's ns per event from the host's
# own sampling. Best of RUNS for each. Each Lua row runs with the shipped defaults (sandbox, time budget, heap
# cap) and again as a trusted script (--trusted-script: no sandbox), to show what the safety costs.
#
# usage: bench/lua.sh [-n RUNS] [-c CAPTURE] [-b BUILD_DIR]
#   CAPTURE defaults to /tmp/weir-bench/bench.pcap (made by make_capture.sh if absent)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=3
CAPTURE=/tmp/weir-bench/bench.pcap
BUILD=$HERE/../build
while getopts "n:c:b:" o; do
	case $o in
	n) RUNS=$OPTARG ;;
	c) CAPTURE=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	*) sed -n 2,7p "$0"; exit 64 ;;
	esac
done
WEIR=$BUILD/bin/weir
SYN_RETX=$BUILD/bin/syn_retx
if [ ! -f "$CAPTURE" ]; then
	mkdir -p "$(dirname "$CAPTURE")"
	"$HERE/make_capture.sh" "$CAPTURE"
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The issue's yardstick: a handler on every flow's new data that only counts.
cat >"$T/count.lua" <<'LUA'
local weir = require "weir"
local events = weir.counter("events")
return { on_new_data = function() events:inc() end }
LUA
# A handler on every flow's new data that reads the new bytes (a string copy) and looks at them.
cat >"$T/new_data.lua" <<'LUA'
local weir = require "weir"
local seen = weir.counter("bytes_read")
return { on_new_data = function(flow, side, n)
   local s = flow:new_bytes(side, n)
   if s then seen:inc(#s) end
end }
LUA
# The same handler reading through the zero-copy view instead of a copied string.
cat >"$T/new_data_view.lua" <<'LUA'
local weir = require "weir"
local seen = weir.counter("bytes_read")
return { on_new_data = function(flow, side, n)
   local off = flow:next(side) - n
   local p, len = flow:view(side, off)
   if p then seen:inc(len) end
end }
LUA
cat "$CAPTURE" >/dev/null
PKTS=$("$WEIR" replay --quiet --stats-json - "$CAPTURE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')

best() { # best wall time (s) of RUNS runs of the command
	local b=
	for _ in $(seq "$RUNS"); do
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
		t1=$(date +%s.%N)
		b=$(python3 -c "t=$t1-$t0; b='$b'; print(t if not b or t<float(b) else b)")
	done
	echo "$b"
}
row() {
	printf "%-34s %8.3f s  %9.0f pps  %s\n" "$1" "$2" "$(python3 -c "print($PKTS/$2)")" "${3:-}"
}
echo "capture: $CAPTURE ($PKTS packets), best of $RUNS"
base=$(best "$WEIR" replay --quiet "$CAPTURE")
row "replay, no script" "$base"
slower() { python3 -c "print('%.1f %% slower than no script' % (100*($1-$base)/$base))"; }
for opt in -s --trusted-script; do
	tag=", default"
	[ "$opt" = -s ] || tag=", trusted"
	cnt=$(best "$WEIR" replay --quiet $opt "$T/count.lua" "$CAPTURE")
	row "new_data (count only$tag)" "$cnt" "$(slower "$cnt")"
	nd=$(best "$WEIR" replay --quiet $opt "$T/new_data.lua" "$CAPTURE")
	row "new_data (new_bytes string$tag)" "$nd" "$(slower "$nd")"
	ndv=$(best "$WEIR" replay --quiet $opt "$T/new_data_view.lua" "$CAPTURE")
	row "new_data (view$tag)" "$ndv" "$(slower "$ndv")"
	l1=$(best "$WEIR" replay --quiet $opt "$HERE/../scripts/syn_retx.lua" "$CAPTURE")
	row "Lua Listing 1 (syn_retx.lua$tag)" "$l1" "$(slower "$l1")"
	[ "$opt" != -s ] || nd_default=$cnt
done
c1=$(best "$SYN_RETX" "$CAPTURE")
row "C Listing 1 (syn_retx)" "$c1"
nd=$nd_default
# ns per event: the host samples 1 call in 16 with a monotonic clock (the handler + its pcall).
"$WEIR" replay --quiet -s "$T/count.lua" --stats-json "$T/s.json" "$CAPTURE"
python3 - "$T/s.json" "$base" "$nd" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); base, nd = float(sys.argv[2]), float(sys.argv[3])
h = [h for sc in s["scripts"] for h in sc["handlers"] if "new_data@" in h["where"]][0]
ev = h["events"]
print("new_data events: %d, handler ns/event (sampled, handler incl. pcall): %d" % (ev, h["ns_per_event"]))
print("whole Lua path per NEW_DATA event (wall difference / events): %.0f ns" % ((nd - base) * 1e9 / ev))
PY
