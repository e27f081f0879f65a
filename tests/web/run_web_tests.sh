#!/bin/bash
# run_web_tests.sh — the dashboard's integration tests: browser (headless Chromium), promtool lint of /metrics,
# token and bad-request answers, and 1,000 concurrent wrk connections while a replay runs.
# usage: run_web_tests.sh WEIR_BINARY BUILD_DIR SOURCE_DIR [browser|metrics|http|abuse]...
# Tools come from packaging/install-deps --test (Debian packages, and tests/web/package.json's npm
# packages into tests/web/node_modules); a missing one fails the test, never skips it.
set -u
WEIR=$1 BUILD=$2 SRC=$3
shift 3
PARTS=${*:-browser metrics http abuse}
SAMPLE=$SRC/tests/data/sample.pcap
# The shared capture corpus sits beside the repository, as for the testdata label.
BIG=$SRC/../shared/testdata/external/ndpi/1kxun.pcap
OUT=$BUILD/web-test
mkdir -p "$OUT"
failed=0
pids=()

fail() { echo "FAIL: $*" >&2; failed=1; }
need() {
	command -v "$1" >/dev/null ||
		{ echo "FAIL: $1 is missing (Debian package $2): run packaging/install-deps --test" >&2; exit 1; }
}
need_corpus() {
	[ -r "$BIG" ] && return 0
	echo "################################################################################" >&2
	echo "# FAIL: $BIG not found: the shared capture corpus must be at ../shared beside" >&2
	echo "# the repository (as for the testdata label)" >&2
	echo "################################################################################" >&2
	exit 1
}
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits until the replay's dashboard says "done" (or 60 s pass); $2: its token, if any.
wait_done() {
	for _ in $(seq 600); do
		curl -sf -H "Authorization: Bearer ${2:-}" "http://127.0.0.1:$1/api/stats" 2>/dev/null |
			grep -q '"state":"done"' && return 0
		sleep 0.1
	done
	return 1
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

need curl curl
need python3 python3
ulimit -n 8192 # 1,000 connections on each side of the abuse test

for part in $PARTS; do
case $part in
browser)
	need chromium chromium; need node nodejs
	[ -f "$SRC/tests/web/node_modules/playwright-core/package.json" ] ||
		{ echo "FAIL: playwright-core is missing from tests/web/node_modules: run packaging/install-deps --test" >&2; exit 1; }
	port=$(free_port)
	# 4 copies of the sample at 150 packets/s: about 6 s of live traffic for the page to watch.
	"$WEIR" replay -q --serve "127.0.0.1:$port" --pps 150 --stats-json "$OUT/browser-summary.json" \
		"$SAMPLE" "$SAMPLE" "$SAMPLE" "$SAMPLE" 2>"$OUT/browser-weir.log" &
	pids+=($!)
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/stats" >/dev/null && break; sleep 0.1; done
	node "$SRC/tests/web/page_test.js" \
		"http://127.0.0.1:$port/" "$OUT/browser-summary.json" "$BUILD/web-dashboard.png" || fail "browser test"
	kill -INT "${pids[-1]}"; wait "${pids[-1]}" || fail "weir replay --serve exited $? after Ctrl-C"
	;;
metrics)
	need promtool prometheus; need_corpus
	port=$(free_port)
	"$WEIR" replay -q --serve "127.0.0.1:$port" "$BIG" "$SAMPLE" 2>"$OUT/metrics-weir.log" &
	pids+=($!)
	wait_done "$port" || fail "replay did not finish"
	curl -sf -D "$OUT/metrics.head" "http://127.0.0.1:$port/metrics" >"$OUT/metrics.txt" || fail "GET /metrics"
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$OUT/metrics.head" || fail "/metrics content type"
	lint=$(promtool check metrics <"$OUT/metrics.txt" 2>&1); rc=$?
	[ $rc -eq 0 ] && [ -z "$lint" ] || fail "promtool check metrics (exit $rc): $lint"
	grep -q '^weir_packets_total{core="0"} [1-9]' "$OUT/metrics.txt" || fail "weir_packets_total has no count"
	grep -q '^weir_events_total{core="0",event="conn_start"} [1-9]' "$OUT/metrics.txt" || fail "weir_events_total labels"
	grep -q '^weir_port_rx_packets_total{core="0",port="pcap"} [1-9]' "$OUT/metrics.txt" || fail "port label"
	echo "promtool: $(wc -l <"$OUT/metrics.txt") lines clean"
	kill -INT "${pids[-1]}"; wait "${pids[-1]}"
	;;
http)
	# Refused without a token off loopback, with a clear message (exit 78, nothing bound).
	msg=$("$WEIR" replay -q --serve 0.0.0.0:1 "$SAMPLE" 2>&1); rc=$?
	[ $rc -eq 78 ] || fail "non-loopback without a token: exit $rc, wanted 78"
	echo "$msg" | grep -q "needs a bearer token" || fail "no clear message: $msg"
	port=$(free_port)
	WEIR_DASHBOARD_TOKEN=Tok-123 "$WEIR" replay -q --serve "127.0.0.1:$port" "$SAMPLE" 2>"$OUT/http-weir.log" &
	pids+=($!)
	wait_done "$port" Tok-123 || fail "replay with token did not come up"
	u="http://127.0.0.1:$port"
	[ "$(code "$u/api/stats")" = 401 ] || fail "no token: not 401"
	[ "$(code "$u/")" = 401 ] || fail "page without token: not 401"
	[ "$(code -H 'Authorization: Bearer wrong' "$u/metrics")" = 401 ] || fail "wrong token: not 401"
	[ "$(code -H 'Authorization: Bearer Tok-123' "$u/api/stats")" = 200 ] || fail "token: not 200"
	[ "$(code "$u/?token=Tok-123")" = 200 ] || fail "?token: not 200"
	A=(-H 'Authorization: Bearer Tok-123')
	[ "$(code "${A[@]}" "$u/nope")" = 404 ] || fail "unknown path: not 404"
	[ "$(code "${A[@]}" -X POST -d x "$u/api/stats")" = 405 ] || fail "POST: not 405"
	[ "$(code "${A[@]}" -X DELETE "$u/")" = 405 ] || fail "DELETE: not 405"
	[ "$(code "${A[@]}" -H "X-Huge: $(head -c 100000 /dev/zero | tr '\0' a)" "$u/")" = 431 ] || fail "huge header: not 431"
	python3 - "$port" <<'PY' || fail "raw malformed requests"
import socket, sys
port = int(sys.argv[1])
cases = [(b"GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", b"400"), (b"GET / FOO\r\n\r\n", b"400"),
         (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n", b"400"), (b"\x00\xff garbage\r\n\r\n", b"")]
bad = 0
for req, want in cases:
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(1)
    s.sendall(req)
    try: got = s.recv(64)
    except socket.timeout: got = b""
    status = got.split(b" ")[1] if got.startswith(b"HTTP/") else b""
    if status != want: print("malformed", req[:30], "->", got[:40]); bad = 1
sys.exit(bad)
PY
	[ "$(code "${A[@]}" "$u/api/stats")" = 200 ] || fail "server down after bad requests"
	kill -INT "${pids[-1]}"; wait "${pids[-1]}"
	;;
abuse)
	need wrk wrk; need taskset util-linux; need_corpus
	# One round of bench/web_abuse.sh: the replay alone and under 1,000 wrk connections on the
	# dashboard, the data path on its own CPU and the HTTP threads and wrk on the other (as an
	# appliance runs). Both packet rates are printed, never asserted (timings on a shared box are
	# not a test); it fails when the accounting differs, the server stops answering or weir dies.
	"$SRC/bench/web_abuse.sh" -n 1 -k 300 -c "$BIG" -w "$WEIR" -o "$OUT/abuse" || fail "abuse under wrk"
	;;
*) fail "unknown part $part" ;;
esac
done
exit $failed
