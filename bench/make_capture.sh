#!/bin/bash
# make_capture.sh — records the replay benchmark's captures: real Linux TCP between network
# namespaces (curl -> python3 http.server), taken with tcpdump.
#
# usage: bench/make_capture.sh OUT.pcap [SMALL_DOWNLOADS [BIG_DOWNLOADS [BIG_MB]]]
#   defaults: 4000 small downloads (1 KiB..256 KiB, log-uniform sizes, 32 in parallel) and 3 big
#   ones of 64 MiB running alongside; about 400 MB and 400k packets; taken on the server's veth.
# usage: bench/make_capture.sh --short [N] OUT.pcap
#   N short connections (default 50000), responses of 100 B..4 KiB, 64 in parallel, served by
#   bench/http_server.py.
# usage: bench/make_capture.sh --impaired OUT.pcap [SMALL_DOWNLOADS [BIG_DOWNLOADS [BIG_MB]]]
#   defaults 400 small downloads and 1 of 32 MiB through a router namespace that drops 2 % of
#   the packets each way (nftables), the capture taken on the router's veth toward the server:
#   client->server packets are dropped before the capture point (the capture has holes that the
#   client's retransmissions fill), server->client ones after it (the capture has the lost packet
#   and its retransmission); then 1 % of the packets reordered by bench/reorder.py.
# Every mode also writes OUT.pcap.bytes.json: {"c2s": X, "s2c": Y, "connections": N}, the payload
# bytes the endpoints exchanged (curl's request, header and body sizes).
# Needs root (netns), tcpdump, ethtool, curl, python3, capinfos (nft for --impaired). All traffic
# stays inside the namespaces it creates.
set -euo pipefail

MODE=default
case "${1:-}" in
--short)
	MODE=short
	shift
	if [ $# -ge 2 ]; then SHORT=$1; shift; else SHORT=50000; fi
	[[ $SHORT =~ ^[1-9][0-9]*$ ]] || { echo "make_capture: bad --short count $SHORT" >&2; exit 64; }
	;;
--impaired) MODE=impaired; shift ;;
esac
OUT=${1:?usage: make_capture.sh [--short [N] | --impaired] OUT.pcap [SMALL [BIG [BIG_MB]]]}
BIN=$(cd "$(dirname "$0")" && pwd)
PARALLEL=32          # concurrent small downloads: keeps many flows open at once
SMALL_FILES=64       # distinct small files; downloads cycle through them
SMALL_MIN=1024       # smallest small file (bytes)
SMALL_MAX=262144     # largest small file (bytes)
case $MODE in
default) SMALL=${2:-4000} BIG=${3:-3} BIG_MB=${4:-64} ;;
short) SMALL=$SHORT BIG=0 BIG_MB=0 PARALLEL=64 SMALL_MIN=100 SMALL_MAX=4096 ;;
impaired) SMALL=${2:-400} BIG=${3:-1} BIG_MB=${4:-32} ;;
esac
LOSS=2               # --impaired: percent of packets dropped in each direction
REORDER=0.01         # --impaired: share of packets bench/reorder.py moves
PORT=8080
# 10.77.0.0/24 (and 10.77.1.0/24 for --impaired's client) exist only inside the namespaces below.
CLI_IP=10.77.0.1
SRV_IP=10.77.0.2
TOOLS="ip ethtool tcpdump curl python3 capinfos"
if [ "$MODE" = impaired ]; then
	CLI_IP=10.77.1.1
	TOOLS="$TOOLS nft"
fi
for tool in $TOOLS; do
	command -v "$tool" >/dev/null || { echo "make_capture: $tool not found" >&2; exit 1; }
done

W=$(mktemp -d /tmp/weir-bench-cap.XXXXXX)
NC=wbc$$
NS=wbs$$
NR=wbr$$ # --impaired: the router
VC=wb$$c
VS=wb$$s
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	for ns in "$NC" "$NS" "$NR"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT

# dev_up NS DEV ADDR/LEN: an address on a veth end, up, with the offloads that would hide real
# frames off.
dev_up() {
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$1" link set "$2" up
	# Real checksums and MTU-sized segments on the wire: without "tx off" the veth hands the
	# capture partial checksums; TSO/GSO/GRO off keeps every frame <= 1514 bytes.
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
}

NAMESPACES=("$NC" "$NS")
[ "$MODE" = impaired ] && NAMESPACES+=("$NR")
for ns in "${NAMESPACES[@]}"; do
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
done
if [ "$MODE" = impaired ]; then
	# client (10.77.1.1) -- router -- server (10.77.0.2); the capture is the router's veth
	# toward the server.
	ip link add "$VC" netns "$NC" type veth peer name "wb$$rc" netns "$NR"
	ip link add "$VS" netns "$NS" type veth peer name "wb$$rs" netns "$NR"
	dev_up "$NC" "$VC" "$CLI_IP/24"
	dev_up "$NR" "wb$$rc" 10.77.1.254/24
	dev_up "$NR" "wb$$rs" 10.77.0.254/24
	dev_up "$NS" "$VS" "$SRV_IP/24"
	ip -n "$NC" route add default via 10.77.1.254
	ip -n "$NS" route add default via 10.77.0.254
	ip netns exec "$NR" sysctl -qw net.ipv4.ip_forward=1
	# The forward hook runs after the capture saw a packet arriving from the server and before
	# it sees one leaving toward the server.
	ip netns exec "$NR" nft -f - <<EOF
table ip wbloss {
	chain forward {
		type filter hook forward priority 0; policy accept;
		numgen random mod 100 < $LOSS drop
	}
}
EOF
	CAP_NS=$NR CAP_DEV=wb$$rs
else
	ip link add "$VC" netns "$NC" type veth peer name "$VS" netns "$NS"
	dev_up "$NC" "$VC" "$CLI_IP/24"
	dev_up "$NS" "$VS" "$SRV_IP/24"
	CAP_NS=$NS CAP_DEV=$VS
fi
# --short: more connections than the default ephemeral range has ports, and no port reused.
if [ "$MODE" = short ]; then
	ip netns exec "$NC" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
fi

# The files the server offers: small ones with log-uniform sizes, and the big ones.
mkdir -p "$W/www"
python3 - "$W/www" "$SMALL_FILES" "$SMALL_MIN" "$SMALL_MAX" "$BIG" "$BIG_MB" <<'EOF'
import math, os, random, sys
d, n, lo, hi, nbig, big_mb = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(7)  # fixed seed: the same sizes on every run
for i in range(n):
    size = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    with open(os.path.join(d, "s%d" % i), "wb") as f:
        f.write(os.urandom(size))
for i in range(nbig):
    with open(os.path.join(d, "b%d" % i), "wb") as f:
        for _ in range(big_mb):
            f.write(os.urandom(1 << 20))
EOF

if [ "$MODE" = short ]; then
	ip netns exec "$NS" python3 "$BIN/http_server.py" "$W/www" "$SRV_IP" "$PORT" &
else
	(cd "$W/www" && exec ip netns exec "$NS" python3 -m http.server "$PORT" --bind "$SRV_IP" \
		>/dev/null 2>&1) &
fi
PIDS+=($!)
for _ in $(seq 100); do
	ip netns exec "$NS" ss -ltn | grep -q "$SRV_IP:$PORT" && break
	sleep 0.1
done

CAP=$OUT
[ "$MODE" = impaired ] && CAP=$W/lossy.pcap # reordered into OUT below
# -B: a 256 MiB kernel buffer so the capture keeps up; -s 0: whole frames.
ip netns exec "$CAP_NS" tcpdump -i "$CAP_DEV" -s 0 -B 262144 -w "$CAP" -U "tcp port $PORT" \
	2>"$W/tcpdump.err" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 100); do grep -q listening "$W/tcpdump.err" && break; sleep 0.1; done

# One curl process opens a new connection per URL (http.server speaks HTTP/1.0 and closes). Each
# transfer's request, header and body sizes go to $W/sizes.* for the bytes sidecar.
for i in $(seq 0 $((SMALL - 1))); do
	printf 'url = "http://%s:%d/s%d"\noutput = "/dev/null"\n' "$SRV_IP" "$PORT" $((i % SMALL_FILES))
done >"$W/small.cfg"
SIZES='%{size_request} %{size_header} %{size_download}\n'
start=$(date +%s.%N)
BIGPIDS=()
for i in $(seq 0 $((BIG - 1))); do
	ip netns exec "$NC" curl -sS -o /dev/null -w "$SIZES" "http://$SRV_IP:$PORT/b$i" \
		>"$W/sizes.big$i" &
	BIGPIDS+=($!)
done
ip netns exec "$NC" curl -sS --no-progress-meter -Z --parallel-max "$PARALLEL" -w "$SIZES" \
	-K "$W/small.cfg" >"$W/sizes.small"
for p in "${BIGPIDS[@]}"; do wait "$p"; done
sleep 1 # the last FIN/ACK exchanges
kill -INT "$TCPDUMP"
wait "$TCPDUMP" || true
if [ "$MODE" = impaired ]; then
	python3 "$BIN/reorder.py" --share "$REORDER" "$CAP" "$OUT"
fi
end=$(date +%s.%N)

# The bytes sidecar: what the clients sent (requests) and received (headers and bodies).
cat "$W"/sizes.* | python3 -c '
import json, sys
n = c2s = s2c = 0
for line in sys.stdin:
    req, hdr, body = map(int, line.split())
    n, c2s, s2c = n + 1, c2s + req, s2c + hdr + body
json.dump({"c2s": c2s, "s2c": s2c, "connections": n}, sys.stdout)
print()' >"$OUT.bytes.json"

cat "$W/tcpdump.err" >&2
dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$W/tcpdump.err")
capinfos -c -s -d "$OUT" 2>/dev/null | sed 's/^/  /'
printf 'make_capture: %s: %d small + %d big downloads in %.1f s -> %s %s\n' "$MODE" "$SMALL" \
	"$BIG" "$(echo "$end - $start" | bc)" "$OUT" "$(cat "$OUT.bytes.json")"
if [ "${dropped:-0}" != 0 ]; then
	echo "make_capture: tcpdump dropped $dropped packets: the capture has holes; run again" >&2
	exit 1
fi
