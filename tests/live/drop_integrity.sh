#!/bin/bash
# drop_integrity.sh — live test: weir inline drops one packet of a real transfer (tests/live/drop_marker.lua, at
# POST_RCV); the client's stack retransmits it, the transfer completes, and the client stream weir reassembled
# (written by the script) is byte for byte what the server received, with the marker seen twice: dropped, then passed.
# usage: drop_integrity.sh WEIR_BINARY
# Needs root, ip, ethtool, python3, cmp. Fails loudly (never skips) when they are missing.
# Prints "1 passed, 0 failed" or "0 passed, 1 failed"; leaves no namespace, interface or process behind.
set -u
WEIR=${1:?weir binary}
fail() { echo "FAIL [drop_integrity]: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/topology.sh"
topo_start drop wd 10.98.0 ip ethtool python3 cmp

# 3 MB of random bytes with the marker once, 1 MB in: far from the handshake, inside the transfer.
python3 - "$W/sent" <<'PY' || fail "cannot write the file to send"
import os, sys
data = bytearray(os.urandom(3000000))
m = b"WEIR-DROP-MARKER-7f3a9c"
data = data.replace(m, b"x" * len(m))
data[1000000:1000000 + len(m)] = m
open(sys.argv[1], "wb").write(data)
PY

cat > $W/weir.lua <<CFG
dpdk = {
	eal = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" },
	ports = { "net_af_packet0,iface=${P}b,framecnt=4096", "net_af_packet1,iface=${P}y,framecnt=4096" },
}
idle_sleep_us = 20
log = { eve = "$W/eve.json", stats = "$W/stats.json" }
scripts = { "$HERE/drop_marker.lua" }
CFG
"$WEIR" check -c $W/weir.lua >/dev/null || fail "weir check refused the config"
WEIR_DROP_STREAM=$W/weir.stream WEIR_DROP_MARKS=$W/weir.marks ip netns exec $M "$WEIR" run -c $W/weir.lua > $W/weir.out 2> $W/weir.err & WPID=$!

# The server writes everything it receives on one connection to received, then closes.
ip netns exec $S python3 - "$W/received" <<'PY' & PIDS+=($!)
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.98.0.2", 9000))
l.listen(1)
c, _ = l.accept()
with open(sys.argv[1], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
c.close()
PY
SERVER=${PIDS[-1]}
# weir is up when a probe connection to another port gets a RST through it (EAL may still be starting).
for i in $(seq 60); do
	kill -0 $WPID 2>/dev/null || { cat $W/weir.err >&2; fail "weir exited early"; }
	ip netns exec $C python3 -c 'import socket; s=socket.socket(); s.settimeout(1)
try: s.connect(("10.98.0.2", 9001))
except ConnectionRefusedError: raise SystemExit(0)
except OSError: raise SystemExit(1)' && break
	sleep 0.5
done
ip netns exec $C python3 - "$W/sent" <<'PY' || fail "the client's transfer failed"
import socket, sys
s = socket.create_connection(("10.98.0.2", 9000), timeout=60)
s.sendall(open(sys.argv[1], "rb").read())
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
PY
for i in $(seq 100); do kill -0 $SERVER 2>/dev/null || break; sleep 0.1; done
kill -0 $SERVER 2>/dev/null && fail "the server did not see the end of the transfer"

kill -INT $WPID; for i in $(seq 300); do kill -0 $WPID 2>/dev/null || break; sleep 0.1; done
wait $WPID; rc=$?; WPID=
[ $rc = 0 ] || { cat $W/weir.err >&2; fail "weir run exited $rc"; }

cmp -s $W/received $W/sent || fail "the server received other bytes than the client sent"
cmp $W/weir.stream $W/received || fail "weir's reassembled client stream differs from what the server received"
marks=$(cat $W/weir.marks)
[ "$(cut -d' ' -f1 <<< "$marks" | tr '\n' ' ')" = "drop pass " ] || fail "marker sightings: '$marks', want one drop then one pass"
[ "$(cut -d' ' -f2 <<< "$marks" | sort -u)" = 1000000 ] || fail "marker offsets: '$marks', want 1000000"
python3 - "$W/stats.json" "$W/eve.json" <<'PY' || fail "records"
import json, sys
st = json.load(open(sys.argv[1]))
drops = sum(p["verdict_drops"] for p in st["ports"])
recs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
mine = [r for r in recs if r["dest_port"] == 9000]
errs = []
if drops != 1:
    errs.append("verdict drops %d, want 1" % drops)
if len(mine) != 1:
    errs.append("%d flow records for port 9000, want 1" % len(mine))
else:
    s = mine[0]["streams"]["toserver"]
    if s["delivered"] != 3000000 or s["gap_bytes"]:
        errs.append("toserver delivered %d gap %d, want 3000000 and 0" % (s["delivered"], s["gap_bytes"]))
    if s["resent_pkts"] < 1:
        errs.append("no resent segment counted: the dropped segment was retransmitted")
    print("  flow: %s; toserver %s" % (mine[0]["flow"], s))
for e in errs:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
echo "  marks: $(tr '\n' ';' < $W/weir.marks)"
echo "1 passed, 0 failed"
