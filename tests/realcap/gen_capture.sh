#!/bin/bash
# gen_capture.sh — records a pcap of real Linux TCP traffic (curl <-> python HTTP servers) between two netns.
#
# usage: gen_capture.sh OUT.pcap [--loss PCT] [--flows N] [--big MB] [--syn-loss PCT]
#
# Topology: netns <P>c (client, veth <P>c, 10.77.0.1/24 + fd77::1/64) <-veth-> netns <P>s (server,
# veth <P>s, 10.77.0.2/24 + fd77::2/64), where <P> = wrc<pid> so parallel runs never collide.
# tcpdump captures on the client veth. Writes OUT.pcap and OUT.pcap.requests.json (what curl asked
# for and got, per transfer, plus the drop counters). Needs root, tcpdump, curl, python3, ethtool,
# ip and (for --loss/--syn-loss) nft. Exit codes: 0 ok, 2 usage, 3 missing tool/not root, 1 failure.
#
# Where the loss happens, and what the capture therefore shows (verified, see tests/realcap/README.md):
# the drops are nftables rules in the netdev *ingress* hook of both veths. A packet the client sends
# is captured on its way out and may then be dropped at the server's ingress; a packet the server
# sends is captured by tcpdump on the client veth *before* the client's ingress hook drops it (packet
# taps run ahead of the ingress hooks in __netif_receive_skb_core). So every dropped packet is in
# the capture, followed later by its retransmission: the capture has no holes, only retransmissions.
set -u

usage() {
	echo "usage: $0 OUT.pcap [--loss PCT] [--flows N] [--big MB] [--syn-loss PCT]" >&2
	exit 2
}

OUT=""
LOSS=0
FLOWS=10
BIG=8
SYNLOSS=0
while [ $# -gt 0 ]; do
	case "$1" in
	--loss) [ $# -ge 2 ] || usage; LOSS=$2; shift 2 ;;
	--flows) [ $# -ge 2 ] || usage; FLOWS=$2; shift 2 ;;
	--big) [ $# -ge 2 ] || usage; BIG=$2; shift 2 ;;
	--syn-loss) [ $# -ge 2 ] || usage; SYNLOSS=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) echo "unknown option $1" >&2; usage ;;
	*) [ -z "$OUT" ] || usage; OUT=$1; shift ;;
	esac
done
[ -n "$OUT" ] || usage
isnum() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
if ! isnum "$LOSS" || ! isnum "$SYNLOSS" || ! isnum "$BIG" || ! [[ $FLOWS =~ ^[0-9]+$ ]]; then
	usage
fi
[ "$FLOWS" -ge 3 ] || { echo "--flows must be at least 3 (keep-alive, parallel, single)" >&2; exit 2; }

die() { echo "gen_capture: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "gen_capture: FAIL: must run as root (network namespaces)" >&2; exit 3; }
for t in ip tcpdump curl python3 ethtool ss; do
	command -v "$t" >/dev/null || { echo "gen_capture: FAIL: '$t' not found" >&2; exit 3; }
done
# Loss is given in percent (fractions allowed) and applied per 10000 so 0.5% is exact.
bp() { awk -v p="$1" 'BEGIN { printf "%d", p * 100 + 0.5 }'; }
LOSS_BP=$(bp "$LOSS")
SYN_BP=$(bp "$SYNLOSS")
if [ "$LOSS_BP" -gt 0 ] || [ "$SYN_BP" -gt 0 ]; then
	command -v nft >/dev/null || { echo "gen_capture: FAIL: 'nft' not found (apt-get install nftables)" >&2; exit 3; }
fi
if [ "$LOSS_BP" -gt 5000 ] || [ "$SYN_BP" -gt 9000 ]; then
	die "loss too high to finish (max 50%, syn 90%)"
fi

P=wrc$$
NC=${P}c       # client netns and its veth
NS=${P}s       # server netns and its veth
C4=10.77.0.1
S4=10.77.0.2
C6=fd77::1
S6=fd77::2
HTTP_PORT=8080
UP_PORT=8081
CLOSED_PORT=8099 # nothing listens here: the connection is refused with a RST
LOST_RST_PORT=8098 # nothing listens either, and the client loses the first RST (lose_first_rst)
W=$(mktemp -d "/tmp/gen_capture.$$.XXXXXX") # the pid in the name lets a test check for leftovers
PIDS=()
TCPDUMP_PID=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# Deleting a netns deletes the veth in it (and its peer); the processes are gone already.
	ip netns del "$NC" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$W"
	# A capture cut short must not pass for a finished one.
	[ "$rc" = 0 ] || rm -f "$OUT" "$OUT.requests.json"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

inc() { ip netns exec "$NC" "$@"; }
ins() { ip netns exec "$NS" "$@"; }

setup_net() {
	local ns
	for ns in "$NC" "$NS"; do
		ip netns add "$ns" || die "ip netns add $ns"
		ip -n "$ns" link set lo up
		# Before the veth exists, so it inherits them: no duplicate address detection (a tentative
		# link-local address leaves the first neighbour solicitation unanswered for 1 s) and no
		# router solicitations in the capture.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.default.router_solicitations=0 || die "sysctl in $ns"
	done
	ip link add "$NC" netns "$NC" type veth peer name "$NS" netns "$NS" || die "veth"
	ip -n "$NC" addr add $C4/24 dev "$NC"
	ip -n "$NS" addr add $S4/24 dev "$NS"
	ip -n "$NC" addr add $C6/64 dev "$NC" nodad
	ip -n "$NS" addr add $S6/64 dev "$NS" nodad
	ip -n "$NC" link set "$NC" up
	ip -n "$NS" link set "$NS" up
	# Required (environment.md): with tx offloads on, the capture would hold partial checksums
	# (wrong on the wire) and TSO/GSO super-frames far above the MTU; off, it looks like a wire.
	inc ethtool -K "$NC" tx off >/dev/null || die "ethtool $NC"
	ins ethtool -K "$NS" tx off >/dev/null || die "ethtool $NS"
}

# impair NS DEV: random drops in the ingress hook of DEV (see the header for what the capture sees).
impair() {
	local ns=$1 dev=$2 rules=""
	# The SYN rule comes first so its counter tells how many SYNs were dropped on purpose.
	if [ "$SYN_BP" -gt 0 ]; then
		rules+="tcp flags & (syn | ack) == syn numgen random mod 10000 < $SYN_BP counter drop"$'\n'
	fi
	if [ "$LOSS_BP" -gt 0 ]; then
		rules+="meta l4proto tcp numgen random mod 10000 < $LOSS_BP counter drop"$'\n'
	fi
	[ -n "$rules" ] || return 0
	ip netns exec "$ns" nft -f - <<-EOF || die "nft in $ns"
	table netdev impair {
		chain in {
			type filter hook ingress device "$dev" priority 0; policy accept;
			$rules
		}
	}
	EOF
}

# lose_first_rst: the client's ingress drops every other RST from LOST_RST_PORT, after the capture
# saw it. The kernel then re-sends its SYN with the same ISN and the second RST refuses it: the
# shape of a refused connect() whose RST was lost (weir and Zeek: two flows; tshark: one stream).
lose_first_rst() {
	ip netns exec "$NC" nft -f - <<-EOF || die "nft in $NC"
	table netdev lostrst {
		chain in {
			type filter hook ingress device "$NC" priority 0; policy accept;
			tcp sport $LOST_RST_PORT tcp flags & rst == rst numgen inc mod 2 == 0 counter drop
		}
	}
	EOF
}

# drops NS: "syn_drops loss_drops" counted by the impair rules in NS.
drops() {
	local out syn=0 loss=0
	out=$(ip netns exec "$1" nft list table netdev impair 2>/dev/null) || { echo "0 0"; return; }
	if [ "$SYN_BP" -gt 0 ]; then
		syn=$(grep 'syn' <<<"$out" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1)
	fi
	if [ "$LOSS_BP" -gt 0 ]; then
		loss=$(grep 'l4proto' <<<"$out" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1)
	fi
	echo "${syn:-0} ${loss:-0}"
}

make_files() {
	mkdir -p "$W/www" "$W/up"
	# Assorted sizes: empty, one byte, around one MSS (1448 with timestamps), a window's worth.
	local s i=0
	for s in 0 1 512 1447 1448 1449 3000 16384 50000 65536; do
		head -c "$s" /dev/urandom >"$W/www/f$i.bin"
		i=$((i + 1))
	done
	head -c "$(awk -v m="$BIG" 'BEGIN { printf "%d", m * 1048576 }')" /dev/urandom >"$W/www/big.bin"
	head -c 40000 /dev/urandom >"$W/up/put.bin"
	head -c 700 /dev/urandom >"$W/up/post.bin"
}

start_servers() {
	# The file server: python's own http.server, HTTP/1.1 so curl can keep connections alive.
	# (-d rather than cd: the directory in its command line identifies it as this run's.)
	ip netns exec "$NS" python3 -m http.server -p HTTP/1.1 -b :: -d "$W/www" "$HTTP_PORT" >"$W/http.log" 2>&1 &
	PIDS+=($!)
	# The upload sink: reads the request body (PUT or POST) and answers with its length.
	cat >"$W/upload.py" <<-'EOF'
	import http.server, socket, sys
	class Sink(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.1"
	    def sink(self):
	        left = int(self.headers.get("Content-Length", "0"))
	        got = 0
	        while left > 0:
	            b = self.rfile.read(min(left, 65536))
	            if not b:
	                break
	            left -= len(b)
	            got += len(b)
	        body = ("received %d\n" % got).encode()
	        self.send_response(200)
	        self.send_header("Content-Length", str(len(body)))
	        self.end_headers()
	        self.wfile.write(body)
	    do_PUT = do_POST = sink
	    def log_message(self, *args):
	        pass
	class Dual(http.server.ThreadingHTTPServer):
	    address_family = socket.AF_INET6
	    def server_bind(self):
	        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
	        super().server_bind()
	Dual(("::", int(sys.argv[1])), Sink).serve_forever()
	EOF
	ip netns exec "$NS" python3 "$W/upload.py" "$UP_PORT" >"$W/upload.log" 2>&1 &
	PIDS+=($!)
	local port
	for port in "$HTTP_PORT" "$UP_PORT"; do
		for _ in $(seq 100); do
			ins ss -Hltn "sport = :$port" | grep -q LISTEN && break
			sleep 0.05
		done
		ins ss -Hltn "sport = :$port" | grep -q LISTEN || die "server on port $port did not start"
	done
	# Both address families reachable before the capture starts (ARP and ND resolved), so the
	# workload's timing does not depend on neighbour discovery. Not captured.
	inc curl -s -o /dev/null -m 10 --retry 5 --retry-connrefused "$(url4 $HTTP_PORT /f0.bin)" || die "IPv4 warm-up failed"
	inc curl -s -o /dev/null -m 10 --retry 5 --retry-connrefused "$(url6 $HTTP_PORT /f0.bin)" || die "IPv6 warm-up failed"
}

start_tcpdump() {
	# -Z root: write OUT as root (Debian's tcpdump would switch to user tcpdump). -B: a large kernel
	# buffer (KiB) so a fast transfer is not dropped by the capture itself. Not --immediate-mode:
	# that uses a TPACKET_V2 ring of 256 KiB slots (snaplen 0) which overflows within 64 packets.
	# With the default TPACKET_V3 ring, a block is handed to tcpdump when full or after its 1 s
	# timeout, so stop_tcpdump waits for the file to stop growing first; both counts are checked.
	ip netns exec "$NC" tcpdump -i "$NC" -w "$OUT" -s 0 -U -B 32768 -Z root -n >"$W/tcpdump.log" 2>&1 &
	TCPDUMP_PID=$!
	PIDS+=($!)
	for _ in $(seq 100); do
		grep -q "listening on" "$W/tcpdump.log" 2>/dev/null && return 0
		kill -0 "$TCPDUMP_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$W/tcpdump.log" >&2
	die "tcpdump did not start"
}

# One line of JSON per transfer, written by curl itself (-w), tagged with the workload group.
wfmt() {
	printf '{"group":"%s","method":"%%{method}","url":"%%{url_effective}","status":"%%{http_code}",' "$1"
	printf '"size_download":%%{size_download},"size_upload":%%{size_upload},"local_ip":"%%{local_ip}",'
	printf '"local_port":%%{local_port},"remote_ip":"%%{remote_ip}","remote_port":%%{remote_port},'
	printf '"num_connects":%%{num_connects},"exitcode":%%{exitcode}}\\n'
}

# ccurl GROUP OUTFILE ARGS...: curl in the client netns, its -w lines appended to OUTFILE.
ccurl() {
	local group=$1 out=$2
	shift 2
	local err="$W/curl.err"
	[ "$group" = refused ] && err=/dev/null # "Failed to connect" is the point
	inc curl -s -S -m 60 -w "$(wfmt "$group")" "$@" >>"$out" 2>>"$err"
}

url4() { echo "http://$S4:$1$2"; }
url6() { echo "http://[$S6]:$1$2"; }

workload() {
	local ka=$(((FLOWS + 2) / 3)) par=$(((FLOWS + 1) / 3)) i args=() pids=() n=0
	local single=$((FLOWS - ka - par))
	# Several requests on one kept-alive connection (the curl invocation reuses it).
	for ((i = 0; i < ka; i++)); do args+=(-o /dev/null "$(url4 $HTTP_PORT "/f$((i % 10)).bin")"); done
	ccurl keepalive "$W/req.0" "${args[@]}"
	# Parallel connections, alternating IPv6 and IPv4.
	for ((i = 0; i < par; i++)); do
		local u
		if ((i % 2)); then u=$(url4 $HTTP_PORT "/f$(((i + 3) % 10)).bin"); else u=$(url6 $HTTP_PORT "/f$(((i + 3) % 10)).bin"); fi
		ccurl parallel "$W/req.1.p$i" -o /dev/null "$u" &
		pids+=($!)
	done
	wait "${pids[@]}"
	# One request per connection, including a missing file (404).
	for ((i = 0; i < single; i++)); do
		local path="/f$(((i + 5) % 10)).bin"
		((i == 1)) && path=/missing.bin
		if ((i % 2)); then u=$(url4 $HTTP_PORT "$path"); else u=$(url6 $HTTP_PORT "$path"); fi
		ccurl single "$W/req.2" -o /dev/null "$u"
	done
	ccurl big "$W/req.2" -o /dev/null "$(url4 $HTTP_PORT /big.bin)"
	ccurl upload "$W/req.2" -o /dev/null -T "$W/up/put.bin" "$(url6 $UP_PORT /put.bin)"
	ccurl upload "$W/req.2" -o /dev/null --data-binary "@$W/up/post.bin" "$(url4 $UP_PORT /post)"
	# Refused: nothing listens, the server's kernel answers the SYN with RST+ACK (curl exit 7).
	ccurl refused "$W/req.2" -o /dev/null "$(url4 $CLOSED_PORT /)"
	# Refused after a lost RST: the SYN goes out again 1 s later (the initial RTO).
	ccurl refused "$W/req.2" -o /dev/null "$(url4 $LOST_RST_PORT /)"
	if [ "$SYN_BP" -gt 0 ]; then
		# The SYN drops are random: connect again until one SYN was dropped (then retransmitted).
		local tries=0
		while [ "$(drops "$NS" | cut -d' ' -f1)" = 0 ] && [ $tries -lt 200 ]; do # at 10 %: none in 200 is 1e-9
			ccurl synretry "$W/req.2" -o /dev/null "$(url4 $HTTP_PORT /f2.bin)"
			tries=$((tries + 1))
		done
		[ "$(drops "$NS" | cut -d' ' -f1)" != 0 ] || die "no SYN was dropped in $tries extra connections"
	fi
}

# Waits until neither endpoint has a connection that can still send (all closed or TIME_WAIT), so
# the capture holds every FIN and retransmission; a lossy close can take a few RTOs.
wait_quiet() {
	local states="state established state syn-sent state syn-recv state fin-wait-1 state fin-wait-2 state close-wait state last-ack state closing"
	for _ in $(seq 200); do
		# shellcheck disable=SC2086
		if [ -z "$(inc ss -Htan $states)" ] && [ -z "$(ins ss -Htan $states)" ]; then
			sleep 0.05
			return 0
		fi
		sleep 0.05
	done
	echo "gen_capture: warning: connections still open after 10 s" >&2
}

# Stops tcpdump once every packet reached the file: a pending TPACKET_V3 block is released after
# its 1 s timeout, so the file must not grow for longer than that. Then checks that tcpdump wrote
# every packet the kernel handed to the socket and the kernel dropped none.
stop_tcpdump() {
	local size=-1 still=0 now cap rcv kdrop
	while [ $still -lt 15 ]; do
		now=$(stat -c %s "$OUT" 2>/dev/null || echo 0)
		if [ "$now" = "$size" ]; then still=$((still + 1)); else still=0; size=$now; fi
		sleep 0.1
	done
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID"
	cap=$(sed -n 's/^\([0-9]*\) packets* captured.*/\1/p' "$W/tcpdump.log")
	rcv=$(sed -n 's/^\([0-9]*\) packets* received by filter.*/\1/p' "$W/tcpdump.log")
	kdrop=$(sed -n 's/^\([0-9]*\) packets* dropped by kernel.*/\1/p' "$W/tcpdump.log")
	if [ "${kdrop:-x}" != 0 ] || [ "${cap:-x}" != "${rcv:-y}" ]; then
		cat "$W/tcpdump.log" >&2
		die "the capture is incomplete (captured ${cap:-?}, received ${rcv:-?}, dropped by kernel ${kdrop:-?})"
	fi
}

write_requests() {
	local cd sd
	cd=$(drops "$NC")
	sd=$(drops "$NS")
	python3 - "$W" "$OUT.requests.json" "$cd" "$sd" "$LOSS" "$SYNLOSS" "$FLOWS" "$BIG" <<-'EOF'
	import glob, json, os, sys, urllib.parse
	w, out, cd, sd = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
	files = {}
	for d, prefix in (("www", "/"), ("up", "/upload-source/")):
	    for f in sorted(os.listdir(os.path.join(w, d))):
	        files[prefix + f] = os.path.getsize(os.path.join(w, d, f))
	reqs = []
	for name in sorted(glob.glob(os.path.join(w, "req.*"))):
	    with open(name) as fh:
	        for line in fh:
	            if line.strip():
	                r = json.loads(line)
	                r["path"] = urllib.parse.urlsplit(r["url"]).path
	                r["status"] = int(r["status"])  # 0: no HTTP response (refused)
	                r["ip_version"] = 6 if urllib.parse.urlsplit(r["url"]).hostname.count(":") else 4
	                reqs.append(r)
	doc = {
	    "generator": "tests/realcap/gen_capture.sh",
	    "options": {"loss_pct": float(sys.argv[5]), "syn_loss_pct": float(sys.argv[6]),
	                "flows": int(sys.argv[7]), "big_mb": float(sys.argv[8])},
	    "server": {"ipv4": "10.77.0.2", "ipv6": "fd77::2", "http_port": 8080, "upload_port": 8081,
	               "closed_port": 8099, "lost_rst_port": 8098},
	    "client": {"ipv4": "10.77.0.1", "ipv6": "fd77::1"},
	    "files": files,
	    "requests": reqs,
	    # nftables drop counters: *_ingress = packets dropped on arrival at that endpoint.
	    "drops": {"client_ingress_syn": int(cd[0]), "client_ingress": int(cd[1]),
	              "server_ingress_syn": int(sd[0]), "server_ingress": int(sd[1])},
	}
	with open(out, "w") as fh:
	    json.dump(doc, fh, indent=1)
	    fh.write("\n")
	EOF
}

# A run killed with SIGKILL cannot clean up: remove the namespaces of runs whose script is gone,
# ending the processes still inside them (they were started by that run).
reap_stale() {
	local ns pid
	for ns in $(ip netns list | sed -n 's/^\(wrc[0-9]*[cs]\)\( .*\)\{0,1\}$/\1/p'); do
		pid=${ns#wrc}
		pid=${pid%?}
		kill -0 "$pid" 2>/dev/null && continue
		echo "gen_capture: removing $ns, left by an earlier run that was killed" >&2
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	local d
	for d in /tmp/gen_capture.*.*; do
		[ -d "$d" ] || continue
		pid=${d#/tmp/gen_capture.}
		pid=${pid%%.*}
		kill -0 "$pid" 2>/dev/null || rm -rf "$d"
	done
}

main() {
	rm -f "$OUT" "$OUT.requests.json"
	reap_stale
	make_files
	setup_net
	start_servers
	# After the warm-up requests, so the drop counters count only drops inside the capture.
	impair "$NC" "$NC"
	impair "$NS" "$NS"
	lose_first_rst
	start_tcpdump
	local t0=$SECONDS
	workload
	wait_quiet
	write_requests || die "writing $OUT.requests.json"
	stop_tcpdump
	[ -s "$W/curl.err" ] && sed 's/^/gen_capture: curl: /' "$W/curl.err" >&2
	local n
	n=$(grep -c . "$W"/req.* | awk -F: '{ s += $2 } END { print s }')
	echo "gen_capture: $OUT: $(sed -n 's/^\([0-9]*\) packets* captured.*/\1/p' "$W/tcpdump.log") packets, $n transfers," \
		"drops client/server ingress $(drops "$NC" | tr ' ' /) $(drops "$NS" | tr ' ' /) (syn/all), $((SECONDS - t0)) s" >&2
}

main
