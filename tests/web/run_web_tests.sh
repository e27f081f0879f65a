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
# A script that trips the time budget (5 ms, so that the stops cost little) and the heap cap (32 MiB)
# on every flow: the browser and metrics parts show its counters.
LIMITS=(-s "$SRC/tests/web/limits.lua" --lua-budget-ms 5 --lua-memory-mb 32)
TOKEN=weir-web-test-token-0123456789
OUT=$BUILD/web-test
mkdir -p "$OUT"
failed=0
pids=()

fail() { echo "FAIL: $*" >&2; failed=1; }
need() {
	command -v "$1" >/dev/null ||
		{ echo "FAIL: $1 is missing (Debian package $2): run packaging/install-deps --test" >&2; exit 1; }
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
	# 4 copies of the sample at 150 packets/s: about 6 s of live traffic for the page to watch; with
	# a token, so the page works from the cookie that /?token= sets.
	"$WEIR" replay -q --serve "127.0.0.1:$port" --serve-token "$TOKEN" --pps 150 "${LIMITS[@]}" \
		--stats-json "$OUT/browser-summary.json" "$SAMPLE" "$SAMPLE" "$SAMPLE" "$SAMPLE" 2>"$OUT/browser-weir.log" &
	pids+=($!)
	for _ in $(seq 50); do curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/stats" >/dev/null && break; sleep 0.1; done
	node "$SRC/tests/web/page_test.js" "http://127.0.0.1:$port/" "$TOKEN" "$OUT/browser-summary.json" \
		"$BUILD/web-dashboard.png" || fail "browser test"
	kill -INT "${pids[-1]}"; wait "${pids[-1]}" || fail "weir replay --serve exited $? after Ctrl-C"
	;;
metrics)
	need promtool prometheus
	port=$(free_port)
	"$WEIR" replay -q --serve "127.0.0.1:$port" "${LIMITS[@]}" --stats-json "$OUT/metrics-summary.json" \
		"$SAMPLE" "$SRC/tests/pcap/malformed/input.pcap" 2>"$OUT/metrics-weir.log" &
	pids+=($!)
	wait_done "$port" || fail "replay did not finish"
	curl -sf -D "$OUT/metrics.head" "http://127.0.0.1:$port/metrics" >"$OUT/metrics.txt" || fail "GET /metrics"
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$OUT/metrics.head" || fail "/metrics content type"
	lint=$(promtool check metrics <"$OUT/metrics.txt" 2>&1); rc=$?
	[ $rc -eq 0 ] && [ -z "$lint" ] || fail "promtool check metrics (exit $rc): $lint"
	grep -q '^weir_packets_total{core="0"} [1-9]' "$OUT/metrics.txt" || fail "weir_packets_total has no count"
	grep -q '^weir_events_total{core="0",event="conn_start"} [1-9]' "$OUT/metrics.txt" || fail "weir_events_total labels"
	grep -q '^weir_port_rx_packets_total{core="0",port="pcap"} [1-9]' "$OUT/metrics.txt" || fail "port label"
	# The Lua limits' counters of limits.lua, as the Lua host counted them in the summary.
	for c in budget_stops memory_errors; do
		want=$(python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["scripts"][0]; print(s[sys.argv[2]])' \
			"$OUT/metrics-summary.json" $c)
		[ "${want:-0}" -gt 0 ] || fail "the summary counts no $c for limits.lua: ${want:-none}"
		grep -qx "weir_script_${c}_total{core=\"0\",script=\"limits.lua\"} $want" "$OUT/metrics.txt" ||
			fail "weir_script_${c}_total of limits.lua is not $want: $(grep "^weir_script_${c}_total" "$OUT/metrics.txt")"
	done
	echo "promtool: $(wc -l <"$OUT/metrics.txt") lines clean"
	kill -INT "${pids[-1]}"; wait "${pids[-1]}" || fail "weir replay --serve exited $? after Ctrl-C"
	;;
http)
	# Refused without a token off loopback, with a clear message (exit 78, nothing bound).
	msg=$("$WEIR" replay -q --serve 0.0.0.0:1 "$SAMPLE" 2>&1); rc=$?
	[ $rc -eq 78 ] || fail "non-loopback without a token: exit $rc, wanted 78"
	echo "$msg" | grep -q "needs a bearer token" || fail "no clear message: $msg"
	# One rule for a token from each source (16 to 200 of A-Za-z0-9-._~+/=), the same message, and
	# the exit code of the source: 64 for the option, 78 for the environment and the config.
	refused() { # WANTED_EXIT MESSAGE COMMAND... (a token let through would serve until stopped)
		local want=$1 text=$2 out rc
		shift 2
		out=$(timeout -s INT 10 "$@" 2>&1); rc=$?
		[ $rc -eq "$want" ] || fail "$*: exit $rc, wanted $want"
		[ "$out" = "$text" ] || fail "$*: said '$out', wanted '$text'"
	}
	refused 64 "weir replay: --serve-token: shorter than 16 characters" \
		"$WEIR" replay -q --serve 127.0.0.1:1 --serve-token 0123456789abcde "$SAMPLE"
	refused 64 "weir replay: --serve-token: may only hold letters, digits and -._~+/=" \
		"$WEIR" replay -q --serve 127.0.0.1:1 --serve-token "0123456789 abcdef" "$SAMPLE"
	refused 78 "weir replay: \$WEIR_DASHBOARD_TOKEN: shorter than 16 characters" \
		env WEIR_DASHBOARD_TOKEN=Tok-123 "$WEIR" replay -q --serve 127.0.0.1:1 "$SAMPLE"
	refused 78 "weir replay: \$WEIR_DASHBOARD_TOKEN: longer than 200 characters" \
		env WEIR_DASHBOARD_TOKEN="$(head -c 201 /dev/zero | tr '\0' a)" "$WEIR" replay -q --serve 127.0.0.1:1 "$SAMPLE"
	printf 'dashboard = { listen = "127.0.0.1:1", token = "0123456789abcde" }\n' >"$OUT/short-token.lua"
	refused 78 "weir run: $OUT/short-token.lua:1: dashboard.token: shorter than 16 characters" \
		"$WEIR" run -c "$OUT/short-token.lua"
	port=$(free_port)
	WEIR_DASHBOARD_TOKEN=$TOKEN "$WEIR" replay -q --serve "127.0.0.1:$port" "$SAMPLE" 2>"$OUT/http-weir.log" &
	pids+=($!)
	wait_done "$port" "$TOKEN" || fail "replay with token did not come up"
	u="http://127.0.0.1:$port"
	[ "$(code "$u/api/stats")" = 401 ] || fail "no token: not 401"
	[ "$(code "$u/")" = 401 ] || fail "page without token: not 401"
	[ "$(code -H 'Authorization: Bearer wrong' "$u/metrics")" = 401 ] || fail "wrong bearer: not 401"
	[ "$(code -H "Authorization: Bearer ${TOKEN}x" "$u/metrics")" = 401 ] || fail "longer bearer: not 401"
	[ "$(code -H "Authorization: Bearer $TOKEN" "$u/api/stats")" = 200 ] || fail "bearer: not 200"
	# ?token= only on the page: a cookie and a redirect to / (the token leaves the address bar)
	for p in /api/stats /api/all /metrics /app.js; do
		[ "$(code "$u$p?token=$TOKEN")" = 401 ] || fail "?token= on $p: not 401"
	done
	[ "$(code "$u/?token=wrong")" = 401 ] || fail "wrong ?token=: not 401"
	curl -s -o /dev/null -D "$OUT/cookie.head" -c "$OUT/cookies.txt" "$u/?token=$TOKEN"
	grep -q '^HTTP/1.1 303' "$OUT/cookie.head" || fail "/?token=: not 303: $(head -1 "$OUT/cookie.head")"
	grep -qx "Location: /$(printf '\r')" "$OUT/cookie.head" || fail "/?token=: no redirect to /"
	grep -qx "Set-Cookie: weir_token=$TOKEN; Path=/; HttpOnly; SameSite=Strict$(printf '\r')" "$OUT/cookie.head" ||
		fail "/?token=: no HttpOnly SameSite=Strict cookie"
	[ "$(code -b "$OUT/cookies.txt" "$u/")" = 200 ] || fail "page with the cookie: not 200"
	[ "$(code -b "$OUT/cookies.txt" "$u/api/all")" = 200 ] || fail "/api/all with the cookie: not 200"
	[ "$(code -b "weir_token=${TOKEN%?}" "$u/api/all")" = 401 ] || fail "wrong cookie: not 401"
	A=(-H "Authorization: Bearer $TOKEN")
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
	kill -INT "${pids[-1]}"; wait "${pids[-1]}" || fail "weir replay --serve exited $? after Ctrl-C"
	;;
abuse)
	need wrk wrk; need taskset util-linux
	# One round of bench/web_abuse.sh: the replay alone and under 1,000 wrk connections on the
	# dashboard, the data path on its own CPU and the HTTP threads and wrk on the other (as an
	# appliance runs). Both packet rates are printed, never asserted (timings on a shared box are
	# not a test); it fails when the accounting differs, the server stops answering or weir dies.
	"$SRC/bench/web_abuse.sh" -n 1 -k 2000 -c "$SAMPLE" -w "$WEIR" -o "$OUT/abuse" || fail "abuse under wrk"
	;;
*) fail "unknown part $part" ;;
esac
done
exit $failed
