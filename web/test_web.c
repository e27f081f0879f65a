/* test_web.c — unit test of the dashboard server: address rules, routes, JSON and metrics content, token checks, bad requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "config/config.h"
#include "web/web.h"
#include "web/web_int.h"

/* Sends req raw to 127.0.0.1:port and reads the whole answer; returns the status code or -1. */
static int http_raw(unsigned port, const char *req, size_t reqlen, char *out, size_t outlen)
{
	const int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { 1, 0 }; /* an unanswered request ends the read after this */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t off = 0; off < reqlen;) {
		const ssize_t n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may answer and close before reading it all */
		off += (size_t)n;
	}
	size_t got = 0;
	ssize_t n;
	while (got + 1 < outlen && (n = recv(fd, out + got, outlen - 1 - got, 0)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(fd);
	int code = -1;
	if (sscanf(out, "HTTP/1.%*d %d", &code) != 1)
		return -1;
	return code;
}

static int http_get(unsigned port, const char *path, const char *extra, char *out, size_t outlen)
{
	char req[1024];
	const int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", path,
	                       extra ? extra : "");
	return http_raw(port, req, (size_t)n, out, outlen);
}

static const char *body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");
	return b ? b + 4 : "";
}

static char g_buf[1 << 20];

static void test_parse_listen(void)
{
	struct sockaddr_storage ss;
	int lo = -1;
	CHECK_EQ(weir_web_parse_listen("127.0.0.1:8080", &ss, &lo), 0);
	CHECK_EQ(lo, 1);
	CHECK_EQ(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8080);
	CHECK_EQ(weir_web_parse_listen("127.9.9.9:1", &ss, &lo), 0);
	CHECK_EQ(lo, 1);
	CHECK_EQ(weir_web_parse_listen("0.0.0.0:80", &ss, &lo), 0);
	CHECK_EQ(lo, 0);
	CHECK_EQ(weir_web_parse_listen("[::1]:9000", &ss, &lo), 0);
	CHECK_EQ(lo, 1);
	CHECK_EQ(ss.ss_family, AF_INET6);
	CHECK_EQ(weir_web_parse_listen("[::]:9000", &ss, &lo), 0);
	CHECK_EQ(lo, 0);
	CHECK_EQ(weir_web_parse_listen("127.0.0.1", &ss, &lo), -EINVAL);
	CHECK_EQ(weir_web_parse_listen("127.0.0.1:", &ss, &lo), -EINVAL);
	CHECK_EQ(weir_web_parse_listen("127.0.0.1:70000", &ss, &lo), -EINVAL);
	CHECK_EQ(weir_web_parse_listen("localhost:80", &ss, &lo), -EINVAL);
	CHECK_EQ(weir_web_parse_listen("[::1]9000", &ss, &lo), -EINVAL);
	CHECK_EQ(weir_web_parse_listen(":80", &ss, &lo), -EINVAL);
	CHECK_EQ(weir_web_parse_listen(NULL, &ss, &lo), -EINVAL);
}

static void test_refusals(struct weir_statpub *p)
{
	char err[256] = "";
	struct weir_web_config cfg = { .listen = "0.0.0.0:0" };
	CHECK(weir_web_start(&cfg, &p, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "needs a bearer token") != NULL);
	cfg.token = "";
	CHECK(weir_web_start(&cfg, &p, 1, err, sizeof(err)) == NULL);
	cfg.token = "bad token;0123456789";
	cfg.listen = "127.0.0.1:0";
	CHECK(weir_web_start(&cfg, &p, 1, err, sizeof(err)) == NULL);
	CHECK_STR(err, "dashboard: token: may only hold letters, digits and -._~+/=");
	cfg.token = NULL;
	cfg.listen = "nonsense";
	CHECK(weir_web_start(&cfg, &p, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not ADDRESS:PORT") != NULL);
	/* A port already taken is refused with a message, not a crash. */
	cfg.listen = "127.0.0.1:0";
	struct weir_web *a = weir_web_start(&cfg, &p, 1, err, sizeof(err));
	CHECK(a != NULL);
	char taken[64];
	snprintf(taken, sizeof(taken), "127.0.0.1:%u", a ? weir_web_port(a) : 1);
	cfg.listen = taken;
	struct weir_web *b = weir_web_start(&cfg, &p, 1, err, sizeof(err));
	CHECK(b == NULL);
	CHECK(strstr(err, "cannot listen") != NULL);
	weir_web_stop(b);
	weir_web_stop(a);
	weir_web_stop(NULL);
}

static void publish(struct weir_statpub *p, uint64_t pkts, uint64_t now)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	/* No traffic: a worker with zero counters, then the counters the test wants in the snapshot. */
	struct weir_statpub_port port = { .name = "pcap\"0", .rx_pkts = pkts, .rx_missed = 3, .frag_drops = 4,
		                          .non_tcp_drops = 5 };
	struct weir_statpub_script sc = { .name = "http.lua", .events = 10, .errors = 11, .ns = 5000, .handlers = 2,
		                          .disabled = 1, .budget_stops = 6, .memory_errors = 5 };
	weir_statpub_publish(p, w, &port, 1, &sc, 1, now);
	weir_worker_free(w);
}

static void wait_for(unsigned port, const char *needle)
{
	for (int i = 0; i < 100; i++) {
		if (http_get(port, "/api/all", NULL, g_buf, sizeof(g_buf)) == 200 && strstr(g_buf, needle))
			return;
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

static void test_routes(struct weir_statpub *p)
{
	char err[256] = "";
	struct weir_web_config cfg = { .listen = "127.0.0.1:0", .mode = "replay", .sample_ms = 50 };
	struct weir_web *web = weir_web_start(&cfg, &p, 1, err, sizeof(err));
	CHECK(web != NULL);
	if (!web)
		return;
	const unsigned port = weir_web_port(web);
	CHECK(port > 0);
	struct weir_statpub_alert a = { .sid = 9, .severity = 1, .source = "engine", .msg = "rst_out_of_window <x>" };
	weir_statpub_alert(p, &a);
	publish(p, 77, 1);
	weir_web_set_state(web, "done");
	weir_web_refresh(web);
	wait_for(port, "\"state\":\"done\"");

	CHECK_EQ(http_get(port, "/", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "Content-Type: text/html") != NULL);
	CHECK(strstr(g_buf, "<title>weir dashboard</title>") != NULL);
	CHECK_EQ(http_get(port, "/vendor/uPlot.iife.min.js", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "uPlot") != NULL);
	CHECK_EQ(http_get(port, "/app.js", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK_EQ(http_get(port, "/favicon.ico", NULL, g_buf, sizeof(g_buf)), 204);
	CHECK_EQ(http_get(port, "/api/stats", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "Content-Type: application/json") != NULL);
	CHECK(strstr(g_buf, "\"mode\":\"replay\",\"state\":\"done\"") != NULL);
	CHECK(strstr(g_buf, "\"rx_missed\":3") != NULL);
	CHECK(strstr(g_buf, "\"fragments\":4,\"non_tcp\":5}") != NULL); /* drops{} by reason */
	CHECK_EQ(http_get(port, "/api/ports", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "\"name\":\"pcap\\\"0\",\"rx_packets\":77") != NULL);
	CHECK(strstr(g_buf, "\"rx_missed\":3,\"rx_errors\":0,\"tx_errors\":0,\"fragment_drops\":4,"
	                    "\"non_tcp_drops\":5}") != NULL);
	CHECK_EQ(http_get(port, "/api/scripts", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "\"name\":\"http.lua\",\"events\":10,\"errors\":11,\"ns_per_event\":500,\"alerts\":0,"
	                    "\"handlers\":2,\"disabled\":1,\"budget_stops\":6,\"memory_errors\":5}") != NULL);
	CHECK_EQ(http_get(port, "/api/alerts", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "\"msg\":\"rst_out_of_window <x>\"") != NULL);
	CHECK_EQ(http_get(port, "/api/history", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(body_of(g_buf), "{\"t\":[") == body_of(g_buf));
	CHECK_EQ(http_get(port, "/metrics", NULL, g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "Content-Type: text/plain; version=0.0.4") != NULL);
	CHECK(strstr(g_buf, "# TYPE weir_packets_total counter\nweir_packets_total{core=\"0\"} 0\n") != NULL);
	CHECK(strstr(g_buf, "weir_port_rx_packets_total{core=\"0\",port=\"pcap\\\"0\"} 77\n") != NULL);
	CHECK(strstr(g_buf, "weir_port_rx_missed_total{core=\"0\",port=\"pcap\\\"0\"} 3\n") != NULL);
	CHECK(strstr(g_buf, "weir_port_fragment_drops_total{core=\"0\",port=\"pcap\\\"0\"} 4\n") != NULL);
	CHECK(strstr(g_buf, "weir_port_non_tcp_drops_total{core=\"0\",port=\"pcap\\\"0\"} 5\n") != NULL);
	CHECK(strstr(g_buf, "weir_script_handlers_disabled{core=\"0\",script=\"http.lua\"} 1\n") != NULL);
	CHECK(strstr(g_buf, "# HELP weir_script_budget_stops_total Handler calls stopped by the time budget "
	                    "(lua.budget_ms); counted in the errors too.\n"
	                    "# TYPE weir_script_budget_stops_total counter\n"
	                    "weir_script_budget_stops_total{core=\"0\",script=\"http.lua\"} 6\n") != NULL);
	CHECK(strstr(g_buf, "# HELP weir_script_memory_errors_total Allocations refused at the Lua heap cap "
	                    "(lua.memory_mb); counted in the errors too.\n"
	                    "# TYPE weir_script_memory_errors_total counter\n"
	                    "weir_script_memory_errors_total{core=\"0\",script=\"http.lua\"} 5\n") != NULL);
	CHECK(strstr(g_buf, "weir_alerts_total{core=\"0\"} 1\n") != NULL);
	CHECK(g_buf[strlen(g_buf) - 1] == '\n');

	/* Errors: 4xx, and the server keeps serving. */
	CHECK_EQ(http_get(port, "/nope", NULL, g_buf, sizeof(g_buf)), 404);
	CHECK_EQ(http_get(port, "/api/", NULL, g_buf, sizeof(g_buf)), 404);
	static const char post[] = "POST /api/stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
	CHECK_EQ(http_raw(port, post, sizeof(post) - 1, g_buf, sizeof(g_buf)), 405);
	static const char bad_header[] = "GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n";
	CHECK_EQ(http_raw(port, bad_header, sizeof(bad_header) - 1, g_buf, sizeof(g_buf)), 400);
	CHECK_EQ(http_raw(port, "GET / FOO\r\n\r\n", 13, g_buf, sizeof(g_buf)), 400);
	static const char bad_len[] = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n";
	CHECK_EQ(http_raw(port, bad_len, sizeof(bad_len) - 1, g_buf, sizeof(g_buf)), 400);
	/* A request line that is not HTTP at all: libmicrohttpd closes without an answer. */
	CHECK_EQ(http_raw(port, "GARBAGE\r\n\r\n", 11, g_buf, sizeof(g_buf)), -1);
	CHECK_EQ(http_raw(port, "\x00\x01\x02\r\n\r\n", 7, g_buf, sizeof(g_buf)), -1);
	CHECK_EQ(http_get(port, "/../../etc/passwd", NULL, g_buf, sizeof(g_buf)), 404);
	const size_t big = 64 * 1024;
	char *huge = malloc(big + 64);
	int n = snprintf(huge, big + 64, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(huge + n, 'a', big);
	memcpy(huge + n + big, "\r\n\r\n", 5);
	const int code = http_raw(port, huge, (size_t)n + big + 4, g_buf, sizeof(g_buf));
	CHECK(code >= 400 && code < 500);
	free(huge);
	CHECK_EQ(http_get(port, "/api/cores", NULL, g_buf, sizeof(g_buf)), 200);
	weir_web_stop(web);
}

/* The one check every token source goes through: length and characters. */
#define FFFD "\xef\xbf\xbd"

/* The model renders names and messages through the one escaper: ill-formed UTF-8 becomes U+FFFD,
 * control bytes \u00XX, valid UTF-8 stays (no server needed). */
static void test_model_hostile_strings(void)
{
	struct weir_statpub *p = weir_statpub_create(0, 0);
	struct weir_statpub_alert a = { .sid = 1, .severity = 1, .source = "s\xc0\xaf.lua",
		                        .msg = "m\xff\xfe\x01\"\xed\xa0\x80 caf\xc3\xa9" };
	weir_statpub_alert(p, &a);
	publish(p, 1, 1);
	struct weir_model *m = weir_model_create(&p, 1, 4, "replay", 0);
	CHECK(m != NULL);
	if (!m) {
		weir_statpub_free(p);
		return;
	}
	weir_model_sample(m, 1000000, 1, "done");
	struct weir_sbuf b = { 0 };
	weir_model_render(m, WEIR_DOC_ALERTS, &b);
	CHECK(b.p && strstr(b.p, "\"source\":\"s" FFFD FFFD ".lua\",\"msg\":\"m" FFFD FFFD "\\u0001\\\"" FFFD FFFD FFFD
	                         " caf\xc3\xa9\"") != NULL);
	weir_sb_free(&b);
	weir_model_free(m);
	weir_statpub_free(p);
}

/* Each worker runs its own copy of a script: /api/scripts shows one row per name, its counters summed
 * over the workers (no server needed). */
static void test_model_scripts_summed(void)
{
	struct weir_statpub *p[2] = { weir_statpub_create(0, 0), weir_statpub_create(1, 0) };
	const struct weir_statpub_script sc[2][2] = {
		{ { .name = "a.lua", .events = 1, .errors = 10, .budget_stops = 3, .memory_errors = 5,
		    .handlers = 1 },
		  { .name = "b.lua", .events = 2 } },
		{ { .name = "a.lua", .events = 4, .errors = 20, .budget_stops = 7, .memory_errors = 11,
		    .handlers = 1 },
		  { .name = "b.lua", .events = 8 } },
	};
	for (unsigned c = 0; c < 2; c++)
		weir_statpub_publish(p[c], NULL, NULL, 0, sc[c], 2, 1);
	struct weir_model *m = weir_model_create(p, 2, 4, "run", 0);
	CHECK(m != NULL);
	if (m) {
		weir_model_sample(m, 1000000, 1, "running");
		struct weir_sbuf b = { 0 };
		weir_model_render(m, WEIR_DOC_SCRIPTS, &b);
		CHECK_STR(b.p, "[{\"name\":\"a.lua\",\"events\":5,\"errors\":30,\"ns_per_event\":0,\"alerts\":0,"
		               "\"handlers\":1,\"disabled\":0,\"budget_stops\":10,\"memory_errors\":16},"
		               "{\"name\":\"b.lua\",\"events\":10,\"errors\":0,\"ns_per_event\":0,\"alerts\":0,"
		               "\"handlers\":0,\"disabled\":0,\"budget_stops\":0,\"memory_errors\":0}]");
		weir_sb_free(&b);
		weir_model_free(m);
	}
	weir_statpub_free(p[0]);
	weir_statpub_free(p[1]);
}

static void test_token_check(struct weir_statpub *p)
{
	char err[128] = "", long_tok[WEIR_TOKEN_MAX + 2];
	CHECK_EQ(weir_token_check("0123456789abcdef", err, sizeof(err)), 0);
	CHECK_EQ(weir_token_check("0123456789abcde", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "shorter than 16 characters");
	CHECK_EQ(weir_token_check("", err, sizeof(err)), -EINVAL);
	CHECK_EQ(weir_token_check(NULL, err, sizeof(err)), -EINVAL);
	memset(long_tok, 'a', sizeof(long_tok) - 1);
	long_tok[WEIR_TOKEN_MAX] = 0;
	CHECK_EQ(weir_token_check(long_tok, err, sizeof(err)), 0);
	long_tok[WEIR_TOKEN_MAX] = 'a';
	long_tok[WEIR_TOKEN_MAX + 1] = 0;
	CHECK_EQ(weir_token_check(long_tok, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "longer than 200 characters");
	CHECK_EQ(weir_token_check("A-._~+/=z0123456789", err, sizeof(err)), 0);
	static const char *const bad[] = { "0123456789abcdef;", "0123456789 abcdef", "0123456789abcdef\x7f",
		                           "0123456789\"abcdef", "0123456789abcdef\xc3\xa9", "0123456789ab\tcdef" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(weir_token_check(bad[i], err, sizeof(err)), -EINVAL);
		CHECK_STR(err, "may only hold letters, digits and -._~+/=");
	}
	/* weir_web_start applies it too, whatever the caller checked. */
	struct weir_web_config cfg = { .listen = "127.0.0.1:0", .token = "short-token" };
	CHECK(weir_web_start(&cfg, &p, 1, err, sizeof(err)) == NULL);
	CHECK_STR(err, "dashboard: token: shorter than 16 characters");
}

#define TOK "s3cret-T0ken-0123"

static void test_token(struct weir_statpub *p)
{
	char err[256] = "";
	struct weir_web_config cfg = { .listen = "127.0.0.1:0", .token = TOK };
	struct weir_web *web = weir_web_start(&cfg, &p, 1, err, sizeof(err));
	CHECK(web != NULL);
	if (!web)
		return;
	const unsigned port = weir_web_port(web);
	CHECK_EQ(http_get(port, "/api/stats", NULL, g_buf, sizeof(g_buf)), 401);
	CHECK(strstr(g_buf, "WWW-Authenticate: Bearer") != NULL);
	CHECK_EQ(http_get(port, "/", NULL, g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/metrics", NULL, g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/nope", NULL, g_buf, sizeof(g_buf)), 401); /* no probing without it */
	/* the bearer header: right on every path; wrong, a prefix, longer, or another scheme: 401 */
	CHECK_EQ(http_get(port, "/api/stats", "Authorization: Bearer " TOK "\r\n", g_buf, sizeof(g_buf)), 200);
	CHECK_EQ(http_get(port, "/metrics", "Authorization: Bearer " TOK "\r\n", g_buf, sizeof(g_buf)), 200);
	CHECK_EQ(http_get(port, "/app.js", "Authorization: Bearer " TOK "\r\n", g_buf, sizeof(g_buf)), 200);
	CHECK_EQ(http_get(port, "/api/stats", "Authorization: Bearer wrong\r\n", g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/stats", "Authorization: Bearer s3cret-T0ken-012\r\n", g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/stats", "Authorization: Bearer " TOK "4\r\n", g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/stats", "Authorization: Bearer S3cret-T0ken-0123\r\n", g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/stats", "Authorization: Basic " TOK "\r\n", g_buf, sizeof(g_buf)), 401);
	/* ?token= only on the page, once: a cookie and a redirect to / that drops it from the address */
	CHECK_EQ(http_get(port, "/?token=" TOK, NULL, g_buf, sizeof(g_buf)), 303);
	CHECK(strstr(g_buf, "\r\nSet-Cookie: weir_token=" TOK "; Path=/; HttpOnly; SameSite=Strict\r\n") != NULL);
	CHECK(strstr(g_buf, "\r\nLocation: /\r\n") != NULL);
	CHECK(strstr(g_buf, "<html") == NULL); /* the redirect, not the page */
	CHECK_EQ(http_get(port, "/?token=s3cret-T0ken-012", NULL, g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/stats?token=" TOK, NULL, g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/all?token=" TOK, NULL, g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/metrics?token=" TOK, NULL, g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/app.js?token=" TOK, NULL, g_buf, sizeof(g_buf)), 401);
	/* the cookie: right on every path, wrong or a prefix: 401 */
	CHECK_EQ(http_get(port, "/", "Cookie: weir_token=" TOK "\r\n", g_buf, sizeof(g_buf)), 200);
	CHECK(strstr(g_buf, "Set-Cookie") == NULL);
	CHECK_EQ(http_get(port, "/api/all", "Cookie: weir_token=" TOK "\r\n", g_buf, sizeof(g_buf)), 200);
	CHECK_EQ(http_get(port, "/api/all", "Cookie: a=b; weir_token=" TOK "\r\n", g_buf, sizeof(g_buf)), 200);
	CHECK_EQ(http_get(port, "/api/all", "Cookie: weir_token=nope\r\n", g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/all", "Cookie: weir_token=s3cret-T0ken-012\r\n", g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port, "/api/all", "Cookie: token=" TOK "\r\n", g_buf, sizeof(g_buf)), 401);
	weir_web_stop(web);

	/* A token with + / =: the cookie carries them as they are; in the address + means a space,
	 * so it is written %2B there. */
	cfg.token = "b64+token/value==";
	web = weir_web_start(&cfg, &p, 1, err, sizeof(err));
	CHECK(web != NULL);
	if (!web)
		return;
	const unsigned port2 = weir_web_port(web);
	CHECK_EQ(http_get(port2, "/?token=b64%2Btoken%2Fvalue%3D%3D", NULL, g_buf, sizeof(g_buf)), 303);
	CHECK(strstr(g_buf, "\r\nSet-Cookie: weir_token=b64+token/value==; Path=/;") != NULL);
	CHECK_EQ(http_get(port2, "/?token=b64+token/value==", NULL, g_buf, sizeof(g_buf)), 401);
	CHECK_EQ(http_get(port2, "/api/all", "Cookie: weir_token=b64+token/value==\r\n", g_buf, sizeof(g_buf)), 200);
	CHECK_EQ(http_get(port2, "/api/all", "Authorization: Bearer b64+token/value==\r\n", g_buf, sizeof(g_buf)), 200);
	weir_web_stop(web);
}

int main(void)
{
	test_parse_listen();
	test_model_hostile_strings();
	test_model_scripts_summed();
	struct weir_statpub *p = weir_statpub_create(0, 0);
	CHECK(p != NULL);
	test_refusals(p);
	test_routes(p);
	test_token_check(p);
	test_token(p);
	weir_statpub_free(p);
	return UNIT_DONE();
}
