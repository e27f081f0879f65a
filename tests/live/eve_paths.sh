#!/bin/bash
# eve_paths.sh WEIR SRC: the same capture with a script that raises alerts through every assembly of weir gives
# the same EVE log. `weir replay` (pcap reader) and `weir replay --dpdk` (net_pcap port, the live worker path):
# identical line for line, nothing normalised (both run on the capture's clock). `weir run` on a net_pcap port
# runs on the wall clock until SIGINT: its alert lines must equal replay's with "timestamp" removed, and it must
# log the same flows (flow_id, 5-tuple, packets and bytes; how they end depends on the clock).
set -euo pipefail
weir=$1 src=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
pcap=$src/tests/data/sample.pcap
export WEIR_SIGS="9001:474554,9002:48545450" # "GET" to the server, "HTTP" both ways: alerts on every flow
"$weir" replay -q "$pcap" -s "$src/scripts/sigmatch.lua" --eve "$d/replay.json"
"$weir" replay -q --dpdk "$pcap" -s "$src/scripts/sigmatch.lua" --eve "$d/dpdk.json" 2>"$d/dpdk.err" ||
	{ cat "$d/dpdk.err"; exit 1; }
# count TYPE FILE: the EVE records of TYPE in FILE (0 while FILE does not exist yet).
count() { if [ -f "$2" ]; then awk -v p="\"event_type\":\"$1\"" 'index($0, p) { n++ } END { print n + 0 }' "$2"; else echo 0; fi; }
alerts=$(count alert "$d/replay.json")
flows=$(count flow "$d/replay.json")
echo "replay: $flows flows, $alerts alerts"
[ "$alerts" -gt 0 ] && [ "$flows" -gt 0 ] || { echo "FAIL: replay logged no alerts or no flows"; exit 1; }
diff "$d/replay.json" "$d/dpdk.json" || { echo "FAIL: replay and replay --dpdk differ"; exit 1; }

cat >"$d/run.lua" <<LUA
dpdk = { ports = { { dev = "net_pcap0,rx_pcap=$pcap" } }, mbufs = 4095 }
mode = "passive"
scripts = { "$src/scripts/sigmatch.lua" }
log = { eve = "$d/run.json" }
LUA
"$weir" run -c "$d/run.lua" 2>"$d/run.err" &
pid=$!
# net_pcap reads the whole file at once; then the run idles until SIGINT.
for _ in $(seq 50); do
	[ "$(count alert "$d/run.json")" -ge "$alerts" ] && break
	sleep 0.1
done
sleep 0.5
kill -INT "$pid"
wait "$pid" || { cat "$d/run.err"; echo "FAIL: weir run exit $?"; exit 1; }
strip_ts() { grep '"event_type":"alert"' "$1" | sed 's/"timestamp":"[^"]*",//'; }
diff <(strip_ts "$d/replay.json") <(strip_ts "$d/run.json") || { echo "FAIL: weir run's alerts differ"; exit 1; }
flowkeys() { grep '"event_type":"flow"' "$1" | grep -o '"flow_id":[0-9]*,.*"bytes_toclient":[0-9]*' | sort; }
diff <(flowkeys "$d/replay.json") <(flowkeys "$d/run.json") || { echo "FAIL: weir run's flows differ"; exit 1; }
echo "ok: replay, replay --dpdk and run log the same flows and alerts"
