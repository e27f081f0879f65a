#!/bin/bash
# reload.sh — live test of SIGHUP: weir inline (2x net_af_packet) between client and server namespaces
# keeps one TCP connection open across reloads.
#  - script A alerts on each new client chunk ("A <offset> <text>"); A is replaced on disk by B, SIGHUP:
#    the next chunk of the same connection reaches B (same flow_id, stream offsets going on), not A;
#    a setting changed in the same file is named in one line as taken at the next restart;
#  - a broken script (syntax error) then: B keeps running, stderr names file:line;
#  - 100 more reloads of B: still exactly one handler per chunk (the old states' sockets are gone, their
#    ids reused), every reload done;
#  - the EVE log (appended to: an earlier run's line stays) moved away before the first SIGHUP: the old
#    file has the lines before it, the new one the lines after, none lost or doubled;
#  - SIGUSR1 (logrotate's signal) after another move: the next chunk goes to a new EVE file and no
#    reload happens (B keeps running, no generation line, the reload counts unchanged);
#  - SIGINT: the flow's record (shutdown, established) counts every byte; stats say the reloads.
# usage: reload.sh WEIR_BINARY. Needs root, ip, ethtool, python3. Prints "1 passed, 0 failed" or fails.
set -u
WEIR=${1:?weir binary}
fail() {
	echo "FAIL [reload]: $*" >&2
	[ -f "${W:-}/weir.err" ] && sed 's/^/  weir: /' "$W/weir.err" >&2
	echo "0 passed, 1 failed"
	exit 1
}
. "$(dirname "$0")/topology.sh"
topo_start reload wr 10.98.0 ip ethtool python3

# tag TAG: a script that alerts with "TAG <stream offset of the chunk> <chunk>" on the client's data.
tag() {
	cat <<LUA
local weir = require "weir"
return { on_new_data = function(flow, side, n)
	if side ~= weir.CLIENT then return end
	local b = flow:new_bytes(side, n) or ""
	weir.alert{ msg = "$1 " .. (flow:next(side) - n) .. " " .. b:gsub("%c", ""), sid = 7, flow = flow }
end }
LUA
}
tag A > $W/a.lua; tag B > $W/b.lua
cp $W/a.lua $W/s.lua
cat > $W/weir.lua <<CFG
dpdk = {
	eal = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" },
	ports = { "net_af_packet0,iface=${P}b,framecnt=4096", "net_af_packet1,iface=${P}y,framecnt=4096" },
}
idle_sleep_us = 20
scripts = { "$W/s.lua" }
log = { eve = "$W/eve.json", stats = "$W/stats.json" }
CFG

# The server reads and discards; the client sends each line written to its FIFO on one connection.
ip netns exec $S python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.98.0.2", 9000)); s.listen(1)
c, _ = s.accept()
while c.recv(65536): pass' & PIDS+=($!)
for i in $(seq 50); do ip netns exec $S ss -ltn | grep -q 10.98.0.2:9000 && break; sleep 0.1; done
# a line of an earlier run: weir run appends to its EVE log (a restart must not truncate it)
echo '{"event_type":"earlier_run"}' > $W/eve.json
ip netns exec $M "$WEIR" run -c $W/weir.lua > $W/weir.out 2> $W/weir.err & WPID=$!
mkfifo $W/fifo
ip netns exec $C python3 -c '
import socket, sys, time
for _ in range(100):  # weir may still be starting: retry until the handshake gets through
    try:
        s = socket.create_connection(("10.98.0.2", 9000), timeout=1); break
    except OSError: time.sleep(0.2)
else: sys.exit("no connection")
print("connected", flush=True)
for line in open(sys.argv[1]):
    s.sendall(line.encode())
time.sleep(60)' $W/fifo > $W/client.out & PIDS+=($!)
exec 3> $W/fifo
for i in $(seq 150); do grep -q connected $W/client.out && break; kill -0 $WPID || fail "weir exited early"; sleep 0.1; done
grep -q connected $W/client.out || fail "the client did not connect through weir"

# wait_for FILE PATTERN [N]: until FILE has N (default 1) lines matching PATTERN, 10 s at most.
wait_for() {
	for i in $(seq 100); do [ "$(cat "$1" 2>/dev/null | grep -c -- "$2")" -ge "${3:-1}" ] && return 0; sleep 0.1; done
	fail "waited in vain for '$2' (x${3:-1}) in $(basename "$1")"
}
# send TEXT: one chunk, sent when the previous one is surely delivered (separate segments).
send() { echo "$1" >&3; sleep 0.3; }
reloaded() { wait_for $W/weir.err "reload: scripts of generation $1 running"; }

send one
wait_for $W/eve.json '"signature":"A 0 one"'
mv $W/eve.json $W/eve.old # what logrotate does; SIGHUP reopens
cp $W/b.lua $W/s.lua
sed -i 's/^idle_sleep_us = 20$/idle_sleep_us = 30/' $W/weir.lua # not applied live: said so
kill -HUP $WPID; reloaded 1
grep -q "reload: changed idle_sleep_us: taken at the next restart" $W/weir.err || fail "no line naming the changed setting"
[ "$(grep -c 'reload: changed' $W/weir.err)" = 1 ] || fail "more than one line on changed settings"
sed -i 's/^idle_sleep_us = 30$/idle_sleep_us = 20/' $W/weir.lua
send two
wait_for $W/eve.json '"signature":"B 4 two"'
echo 'local x = ' > $W/s.lua # a syntax error: the reload is refused, B keeps running
kill -HUP $WPID; wait_for $W/weir.err "reload: the new scripts do not load"
grep -q "s.lua:2:" $W/weir.err || fail "the refused script's error does not say file:line"
send three
wait_for $W/eve.json '"signature":"B 8 three"'
cp $W/b.lua $W/s.lua
for g in $(seq 2 101); do kill -HUP $WPID; reloaded $g; done
send four
wait_for $W/eve.json '"signature":"B 14 four"'
n_reload=$(grep -c 'reload: ' $W/weir.err)
mv $W/eve.json $W/eve.mid; kill -USR1 $WPID # logrotate's reopen: no reload
for i in $(seq 100); do [ -e $W/eve.json ] && break; sleep 0.1; done # the control thread took it
[ -e $W/eve.json ] || fail "SIGUSR1 did not reopen the EVE log"
send five
wait_for $W/eve.json '"signature":"B 19 five"'
[ "$(grep -c 'reload: ' $W/weir.err)" = "$n_reload" ] || fail "SIGUSR1 did more than reopen the EVE log: $(grep 'reload: ' $W/weir.err | tail -2)"
sleep 0.5
kill -INT $WPID; for i in $(seq 100); do kill -0 $WPID 2>/dev/null || break; sleep 0.1; done
wait $WPID; rc=$?; WPID=
[ $rc = 0 ] || fail "weir run exited $rc"
python3 - $W/eve.old $W/eve.mid $W/eve.json $W/stats.json <<'PY' || fail "records"
import json, sys
old = [json.loads(l) for l in open(sys.argv[1])]
mid = [json.loads(l) for l in open(sys.argv[2])]
new = [json.loads(l) for l in open(sys.argv[3])]
stats = json.load(open(sys.argv[4]))
sig = lambda recs: [r["alert"]["signature"] for r in recs if r["event_type"] == "alert"]
assert old[0] == {"event_type": "earlier_run"}, "the earlier run's line is gone: %r" % old[:1]
assert sig(old) == ["A 0 one"], "old EVE file: %r" % sig(old)
assert sig(mid) == ["B 4 two", "B 8 three", "B 14 four"], "EVE file of SIGHUP: %r" % sig(mid)
assert sig(new) == ["B 19 five"], "EVE file of SIGUSR1: %r" % sig(new)
new = mid + new
ids = {r["flow_id"] for r in old + new if r["event_type"] == "alert"}  # (an early SYN may have been refused)
assert len(ids) == 1, "alerts of several flows: %r" % ids
fid = ids.pop()
flows = [r for r in old + new if r["event_type"] == "flow" and r["flow_id"] == fid]
assert len(flows) == 1 and flows[0] in new, "the flow's record: %r" % flows
f = flows[0]
assert f["flow"]["reason"] == "shutdown" and f["flow"]["state"] == "established", f["flow"]
assert f["tcp"]["client_state"] == "established" and f["tcp"]["server_state"] == "established", f["tcp"]
# the five chunks, 4 + 4 + 6 + 5 + 5 bytes, delivered on one stream across the reloads
assert f["streams"]["toserver"]["delivered"] == 24, f["streams"]
assert stats["reloads"] == {"done": 101, "failed": 1}, stats["reloads"]
print("ok: one flow across 102 SIGHUPs and a SIGUSR1: A then B on its stream, the broken script refused, EVE reopened")
PY
echo "1 passed, 0 failed"
