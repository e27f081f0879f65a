#!/bin/bash
# make_capture.sh — records the replay benchmark's capture: real Linux TCP between two network
# namespaces (curl -> python3 http.server over a veth pair), taken with tcpdump on the server's veth.
#
# usage: bench/make_capture.sh OUT.pcap [SMALL_DOWNLOADS [BIG_DOWNLOADS [BIG_MB]]]
#   defaults: 4000 small downloads (1 KiB..256 KiB, log-uniform sizes, 32 in parallel) and 3 big
#   ones of 64 MiB running alongside; about 400 MB and 400k packets. Needs root (netns), tcpdump,
#   ethtool, curl, python3, capinfos. All traffic stays inside the two namespaces it creates.
set -euo pipefail

OUT=${1:?usage: make_capture.sh OUT.pcap [SMALL [BIG [BIG_MB]]]}
SMALL=${2:-4000}
BIG=${3:-3}
BIG_MB=${4:-64}
PARALLEL=32          # concurrent small downloads: keeps many flows open at once
SMALL_FILES=64       # distinct small files; downloads cycle through them
SMALL_MIN=1024       # smallest small file (bytes)
SMALL_MAX=262144     # largest small file (bytes)
PORT=8080
# 10.77.0.0/24 exists only inside the two namespaces below.
CLI_IP=10.77.0.1
SRV_IP=10.77.0.2

for tool in ip ethtool tcpdump curl python3 capinfos; do
	command -v "$tool" >/dev/null || { echo "make_capture: $tool not found" >&2; exit 1; }
done

W=$(mktemp -d /tmp/weir-bench-cap.XXXXXX)
NC=wbc$$
NS=wbs$$
VC=wb$$c
VS=wb$$s
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$NC" 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

ip netns add "$NC"
ip netns add "$NS"
ip link add "$VC" type veth peer name "$VS"
ip link set "$VC" netns "$NC"
ip link set "$VS" netns "$NS"
for pair in "$NC $VC $CLI_IP" "$NS $VS $SRV_IP"; do
	read -r ns dev addr <<<"$pair"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$addr/24" dev "$dev"
	ip -n "$ns" link set "$dev" up
	# Real checksums and MTU-sized segments on the wire: without "tx off" the veth hands the
	# capture partial checksums; TSO/GSO/GRO off keeps every frame <= 1514 bytes.
	ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || true
done

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

(cd "$W/www" && exec ip netns exec "$NS" python3 -m http.server "$PORT" --bind "$SRV_IP" \
	>/dev/null 2>&1) &
PIDS+=($!)
for _ in $(seq 100); do
	ip netns exec "$NS" ss -ltn | grep -q "$SRV_IP:$PORT" && break
	sleep 0.1
done

# -B: a 256 MiB kernel buffer so the capture keeps up; -s 0: whole frames.
ip netns exec "$NS" tcpdump -i "$VS" -s 0 -B 262144 -w "$OUT" -U "tcp port $PORT" \
	2>"$W/tcpdump.err" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 100); do grep -q listening "$W/tcpdump.err" && break; sleep 0.1; done

# One curl process opens a new connection per URL (http.server speaks HTTP/1.0 and closes).
for i in $(seq 0 $((SMALL - 1))); do
	printf 'url = "http://%s:%d/s%d"\noutput = "/dev/null"\n' "$SRV_IP" "$PORT" $((i % SMALL_FILES))
done >"$W/small.cfg"
start=$(date +%s.%N)
BIGPIDS=()
for i in $(seq 0 $((BIG - 1))); do
	ip netns exec "$NC" curl -sS -o /dev/null "http://$SRV_IP:$PORT/b$i" &
	BIGPIDS+=($!)
done
ip netns exec "$NC" curl -sS --no-progress-meter -Z --parallel-max "$PARALLEL" -K "$W/small.cfg"
for p in "${BIGPIDS[@]}"; do wait "$p"; done
sleep 1 # the last FIN/ACK exchanges
kill -INT "$TCPDUMP"
wait "$TCPDUMP" || true
end=$(date +%s.%N)

cat "$W/tcpdump.err" >&2
dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$W/tcpdump.err")
capinfos -c -s -d "$OUT" 2>/dev/null | sed 's/^/  /'
printf 'make_capture: %d small + %d big downloads in %.1f s -> %s\n' "$SMALL" "$BIG" \
	"$(echo "$end - $start" | bc)" "$OUT"
if [ "${dropped:-0}" != 0 ]; then
	echo "make_capture: tcpdump dropped $dropped packets: the capture has holes; run again" >&2
	exit 1
fi
