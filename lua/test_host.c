/* test_host.c — unit test of the LuaJIT host: script loading and its errors, Listing 1 against C,
 * error containment, budget, alerts, stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/pcap_reader.h"
#include "lua/host.h"
#include "unit.h"
#include "weir.h"

#define TH_SYN 0x02
#define TH_ACK 0x10

static char tmpdir[] = "/tmp/weir_test_host.XXXXXX";

/* Writes a script into the temp dir; returns its path (static buffer per slot). */
static const char *script(const char *name, const char *text)
{
	static char paths[16][512];
	static unsigned next;
	char *p = paths[next++ % 16];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return p;
}

/* Replays a capture through w with the Lua host (or the C dispatch when L is NULL). */
static int replay(struct weir_worker *w, struct weir_lua *L, const char *pcap)
{
	char err[256];
	int code;
	struct weir_pcap_reader *rd = weir_pcap_open(pcap, err, sizeof(err), &code);
	if (!rd)
		return -1;
	struct weir_rx_pkt pkts[32];
	int n;
	while ((n = weir_pcap_next(rd, pkts, 32, err, sizeof(err))) > 0) {
		weir_worker_rx(w, pkts, (unsigned)n);
		if (L)
			weir_lua_run(L);
		else
			weir_worker_run(w);
	}
	weir_pcap_close(rd);
	weir_worker_shutdown(w);
	if (L)
		weir_lua_run(L);
	else
		weir_worker_run(w);
	return n;
}

static uint64_t counter(const struct weir_lua *L, const char *name)
{
	const struct weir_lua_counter *c;
	const unsigned n = weir_lua_counters(L, &c);
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return c[i].value;
	return UINT64_MAX;
}

static const struct weir_lua_handler_stat *handler(const struct weir_lua *L, const char *where_part)
{
	const struct weir_lua_handler_stat *h;
	const unsigned n = weir_lua_handler_stats(L, &h);
	for (unsigned i = 0; i < n; i++)
		if (strstr(h[i].where, where_part))
			return &h[i];
	return NULL;
}

static struct weir_worker *worker(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	return weir_worker_create(&cfg, 0);
}

static void test_load_errors(void)
{
	char err[512];
	struct weir_worker *w = worker();
	errno = 0;
	CHECK(weir_lua_create(NULL, NULL, 0, err, sizeof(err)) == NULL);
	CHECK_EQ(errno, EINVAL);
	const char *syn = script("syntax.lua", "local x = \n\nlocal = 3\n");
	CHECK(weir_lua_create(w, &syn, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "syntax.lua:3:") != NULL);
	const char *rt =
	    script("runtime.lua", "local weir = require 'weir'\nweir.monitor_socket('tcp port')\n");
	CHECK(weir_lua_create(w, &rt, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "runtime.lua:2:") != NULL);
	const char *hook =
	    script("hook.lua", "local weir = require 'weir'\nlocal s = weir.monitor_socket()\n"
	                       "s:register(weir.ON_NEW_DATA, weir.PRE, function() end)\n");
	CHECK(weir_lua_create(w, &hook, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "hook.lua:3:") != NULL && strstr(err, "never raised") != NULL);
	const char *tbl = script("table.lua", "return { on_new_dta = function() end }\n");
	CHECK(weir_lua_create(w, &tbl, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "on_new_dta") != NULL);
	/* a top level that never ends is stopped by the time budget, as a handler is */
	const char *spin = script("spin.lua", "local n = 0\nwhile true do n = n + 1 end\n");
	CHECK(weir_lua_create(w, &spin, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "spin.lua:2:") != NULL &&
	      strstr(err, "time budget of 100 ms exceeded") != NULL);
	/* a top level asking for more than the heap cap names the script and the setting */
	const char *heap = script("heap.lua", "local s = string.rep('x', 2^30)\n");
	CHECK(weir_lua_create(w, &heap, 1, err, sizeof(err)) == NULL);
	CHECK_STR(err, "heap.lua: not enough memory: the Lua heap reached its limit (lua.memory_mb = 256)");
	const char *missing = "/nonexistent/x.lua";
	CHECK(weir_lua_create(w, &missing, 1, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "x.lua") != NULL);
	/* no scripts at all is a valid (if idle) host */
	struct weir_lua *L = weir_lua_create(w, NULL, 0, err, sizeof(err));
	CHECK(L != NULL);
	/* the entry points weir.lua calls check what they are given too */
	CHECK_EQ(weir_lua_slot_counter(L, NULL), -EINVAL);
	CHECK_EQ(weir_lua_slot_counter(L, ""), -EINVAL);
	CHECK_EQ(weir_lua_slot_handler(L, 0, "x.lua:1 pkt_in@pre"), -EINVAL); /* no script 0 */
	weir_lua_free(L);
	weir_lua_free(NULL);
	weir_worker_free(w);
}

static bool is_syn(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                   void *user)
{
	(void)f, (void)side, (void)ev, (void)arg, (void)user;
	const struct weir_pkt *p = weir_worker_packet(weir_msock_worker(s));
	return p && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;
}

static void count(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                  void *user)
{
	(void)s, (void)f, (void)side, (void)ev, (void)arg;
	++*(unsigned long long *)user;
}

/* Listing 1 in Lua counts what the C Listing 1 counts, on a capture with SYN retransmissions. */
static void test_listing1(void)
{
	const char *pcap = WEIR_SRC "/tests/pcap/syn_retx/input.pcap";
	struct weir_worker *wc = worker();
	char err[512];
	struct weir_msock *ms = weir_msock_create(wc, NULL, err, sizeof(err));
	unsigned long long c_count = 0;
	const int ude = weir_event_define(wc, WEIR_EV_REXMIT, is_syn, NULL);
	CHECK(ude >= WEIR_EV_UDE_FIRST);
	CHECK_EQ(weir_msock_register(ms, (uint32_t)ude, WEIR_HOOK_PRE, count, &c_count), 0);
	CHECK_EQ(replay(wc, NULL, pcap), 0);
	weir_worker_free(wc);

	const char *s = script(
	    "syn_retx.lua",
	    "local weir = require 'weir'\n"
	    "local syn_retx = weir.counter('syn_retx')\n"
	    "local ude_syn = weir.define_event(weir.ON_REXMIT, function(flow, side)\n"
	    "   local p = flow:packet()\n"
	    "   return p.tcp.syn and not p.tcp.ack\n"
	    "end)\n"
	    "local msock = weir.monitor_socket()\n"
	    "msock:register(ude_syn, weir.PRE_TCP, function(flow, side) syn_retx:inc() end)\n");
	struct weir_worker *w = worker();
	struct weir_lua *L = weir_lua_create(w, &s, 1, err, sizeof(err));
	CHECK(L != NULL);
	if (!L) {
		fprintf(stderr, "%s\n", err);
		weir_worker_free(w);
		return;
	}
	CHECK_EQ(replay(w, L, pcap), 0);
	CHECK(c_count > 0);
	CHECK_EQ(counter(L, "syn_retx"), c_count);
	const struct weir_lua_handler_stat *h = handler(L, "@pre");
	CHECK(h != NULL && h->events == c_count && h->errors == 0);
	CHECK_EQ(weir_lua_run_errors(L), 0);
	weir_lua_free(L);
	weir_worker_free(w);
}

struct alerts {
	unsigned n;
	uint64_t flow_id;
	uint16_t port;
	char msg[64];
	char json[1024];
};

static void alert_sink(const struct weir_lua_alert *a, void *user)
{
	struct alerts *al = user;
	if (al->n++ == 0) {
		al->flow_id = a->flow_id;
		al->port = a->tuple.server_port;
		snprintf(al->msg, sizeof(al->msg), "%s", a->msg);
		weir_lua_alert_json(al->json, sizeof(al->json), a);
	}
}

/* A failing handler is counted, logged, disabled; the other script keeps running; alerts reach the
 * sink. */
static void test_errors_and_alerts(void)
{
	const char *scripts[] = {
	    script("bad.lua",
	           "local weir = require 'weir'\nlocal s = weir.monitor_socket()\n"
	           "s:register(weir.ON_PKT_IN, weir.PRE, function(flow) error('boom') end)\n"),
	    script("good.lua", "local weir = require 'weir'\nlocal n = weir.counter('pkts')\n"
	                       "return { on_pkt_in = function(flow) n:inc() end,\n"
	                       "  on_conn_start = function(flow) weir.alert{msg='new flow', sid=7, "
	                       "flow=flow} end }\n"),
	};
	char err[512];
	struct weir_worker *w = worker();
	struct weir_lua *L = weir_lua_create(w, scripts, 2, err, sizeof(err));
	CHECK(L != NULL);
	if (!L) {
		fprintf(stderr, "%s\n", err);
		weir_worker_free(w);
		return;
	}
	struct weir_lua_limits lim;
	weir_lua_limits_defaults(&lim);
	lim.max_errors = 5;
	CHECK_EQ(weir_lua_set_limits(L, &lim), 0);
	CHECK_EQ(weir_lua_set_limits(L, NULL), -EINVAL);
	struct alerts al = {0};
	weir_lua_set_alert_sink(L, alert_sink, &al);
	CHECK_EQ(replay(w, L, WEIR_SRC "/tests/data/sample.pcap"), 0);
	const struct weir_lua_handler_stat *bad = handler(L, "bad.lua:3");
	CHECK(bad != NULL && bad->errors == 5 && bad->disabled == 1 && bad->events == 5);
	CHECK_EQ(counter(L, "pkts"), weir_worker_stats(w)->tcp_pkts);
	CHECK_EQ(al.n, weir_worker_stats(w)->flows_created);
	CHECK_EQ(al.flow_id, 1);
	CHECK_EQ(al.port, 8080);
	CHECK_STR(al.msg, "new flow");
	CHECK(strstr(al.json, "\"event_type\":\"alert\"") &&
	      strstr(al.json, "\"signature_id\":7") && strstr(al.json, "\"dest_port\":8080") &&
	      strstr(al.json, "\"flow_id\":1,"));
	const struct weir_lua_script_stat *ss;
	CHECK_EQ(weir_lua_script_stats(L, &ss), 2);
	CHECK_STR(ss[0].name, "bad.lua");
	CHECK_EQ(ss[0].errors, 5);
	CHECK_EQ(ss[1].alerts, al.n);
	char json[4096];
	const int n = weir_lua_stats_json(L, json, sizeof(json));
	CHECK(n > 0 && (size_t)n < sizeof(json));
	CHECK(strstr(json, "\"counters\":{\"pkts\":") != NULL);
	CHECK(strstr(json, "\"disabled\":true") != NULL);
	char small[8];
	CHECK_EQ(weir_lua_stats_json(L, small, sizeof(small)),
	         n); /* truncation reports the size needed */
	weir_lua_free(L);
	weir_worker_free(w);
}

/* Reads a whole small file into buf (NUL-terminated); returns its length or -1. */
static long slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	const size_t n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return (long)n;
}

/* Endless loops of every kind, in handlers, in a top-level helper and in a required module, are
 * stopped by the time budget although they run JIT-compiled (a loop is compiled after 56
 * iterations, long before its budget ends); so are a handler growing a table without end and one
 * asking string.rep for 1 GiB, at the heap cap. Each is counted (as a budget stop or a memory
 * error), logged with file:line and disabled; the capture is processed to the end and the other
 * script counts every packet. A trusted script reaches ffi, which the sandbox refuses. */
static void test_budget(void)
{
	/* the module sits beside the script: the only place a script's require looks */
	script("spinmod.lua", "local M = {}\n"
	                      "function M.forever() local x = 0 while true do x = x + 1 end end\n"
	                      "return M\n");
	const char *text = "local weir = require 'weir'\n"
	                   "local spin = require 'spinmod'\n"
	                   "local t = { a = 1, b = 2 }\n"
	                   "local function helper(s)\n"
	                   "  local i = 0\n"
	                   "  while true do i = i + #s end\n"
	                   "end\n"
	                   "return {\n"
	                   "  on_conn_start = function() while true do end end,\n"
	                   "  on_handshake_done = function() local n = 0 while true do for k in "
	                   "pairs(t) do n = n + 1 end end end,\n"
	                   "  on_new_data = function() local s = 'abcx' while true do local i = "
	                   "s:find('x', 1, true) end end,\n"
	                   "  on_conn_end = function() helper('abc') end,\n"
	                   "  on_state_change = function() spin.forever() end,\n"
	                   "}\n";
	const char *mem = "local weir = require 'weir'\n"
	                  "return {\n"
	                  "  on_conn_start = function() local t = {} while true do t[#t + 1] = "
	                  "('x'):rep(2^20) .. #t end end,\n"
	                  "  on_conn_end = function() return string.rep('x', 2^30) end,\n"
	                  "}\n";
	const char *count =
	    "local weir = require 'weir'\nlocal p, d = weir.counter('pkts'), weir.counter('done')\n"
	    "local ffi = require 'ffi'\n" /* trusted: outside the sandbox */
	    "return { on_pkt_in = function() p:inc() end, on_conn_end = function() d:inc() end }\n";
	/* The endless loops under a 20 ms budget. The heap cap runs in a state of its own with a
	 * long budget: the budget is wall time, and on a loaded machine a handler that is only
	 * filling the heap can be descheduled for 20 ms and stopped by the budget before it reaches
	 * the cap. */
	const struct weir_lua_script loops_scripts[] = {
	    {script("loop.lua", text), 0},
	    {script("count.lua", count), 1},
	};
	const struct weir_lua_script mem_scripts[] = {
	    {script("mem.lua", mem), 0},
	    {script("count2.lua", count), 1},
	};
	static const struct {
		const char *where, *line;
	} loops[] =
	    {
	        {"loop.lua:9 conn_start@", "loop.lua:9: time budget of 20 ms exceeded"},
	        {"loop.lua:10 handshake_done@", "loop.lua:10: time budget of 20 ms exceeded"},
	        {"loop.lua:11 new_data@", "loop.lua:11: time budget of 20 ms exceeded"},
	        {"loop.lua:12 conn_end@", "loop.lua:6: time budget of 20 ms exceeded"},
	        {"loop.lua:13 state_change@", "spinmod.lua:2: time budget of 20 ms exceeded"},
	    },
	  heap[] = {
	      {"mem.lua:3 conn_start@",
	       "not enough memory: the Lua heap reached its limit (lua.memory_mb = 8)"},
	      {"mem.lua:4 conn_end@",
	       "not enough memory: the Lua heap reached its limit (lua.memory_mb = 8)"},
	  };
	for (int run = 0; run < 2; run++) {
		char err[512];
		struct weir_lua_limits lim;
		weir_lua_limits_defaults(&lim);
		lim.budget_ms = run == 0 ? 20 : 60000;
		lim.memory_mb = 8;
		lim.max_errors = 2;
		struct weir_worker *w = worker();
		struct weir_lua *L = weir_lua_create_with(w, run == 0 ? loops_scripts : mem_scripts,
		                                          2, &lim, err, sizeof(err));
		CHECK(L != NULL);
		if (!L) {
			fprintf(stderr, "%s\n", err);
			weir_worker_free(w);
			return;
		}
		/* The error log goes to stderr: catch it in a file for the file:line checks. */
		char logpath[600], log[16384];
		snprintf(logpath, sizeof(logpath), "%s/stderr", tmpdir);
		fflush(stderr);
		const int saved = dup(STDERR_FILENO);
		FILE *lf = fopen(logpath, "w");
		if (lf && saved >= 0)
			dup2(fileno(lf), STDERR_FILENO);
		CHECK_EQ(replay(w, L, WEIR_SRC "/tests/data/sample.pcap"), 0);
		fflush(stderr);
		if (lf && saved >= 0)
			dup2(saved, STDERR_FILENO);
		if (saved >= 0)
			close(saved);
		if (lf)
			fclose(lf);
		CHECK(slurp(logpath, log, sizeof(log)) > 0);
		const size_t n =
		    run == 0 ? sizeof(loops) / sizeof(loops[0]) : sizeof(heap) / sizeof(heap[0]);
		for (size_t i = 0; i < n; i++) {
			const char *where = run == 0 ? loops[i].where : heap[i].where;
			const struct weir_lua_handler_stat *h = handler(L, where);
			CHECK(h != NULL && h->errors == 2 && h->disabled == 1 && h->events == 2);
			CHECK(strstr(log, run == 0 ? loops[i].line : heap[i].line) != NULL);
		}
		const struct weir_stats *st = weir_worker_stats(w);
		CHECK_EQ(st->pkts, 235); /* the whole of sample.pcap: 235 packets in 9 flows */
		CHECK_EQ(st->flows_created, 9);
		CHECK_EQ(st->flows_closed, 9);
		CHECK_EQ(counter(L, "pkts"), st->tcp_pkts);
		CHECK_EQ(counter(L, "done"), st->flows_closed);
		const struct weir_lua_script_stat *ss;
		CHECK_EQ(weir_lua_script_stats(L, &ss), 2);
		CHECK_EQ(ss[0].errors, run == 0 ? 10 : 4);
		CHECK_EQ(ss[0].budget_stops, run == 0 ? 10 : 0);
		CHECK_EQ(ss[0].memory_errors, run == 0 ? 0 : 4);
		CHECK_EQ(ss[1].errors, 0);
		CHECK_EQ(weir_lua_run_errors(L), 0);
		weir_lua_free(L);
		weir_worker_free(w);
	}
}

/* Replaces L on w by a state of script s between bursts, as a hot reload does: the new state
 * first, then (only if it loads) the old one freed, its sockets closed; then the ids reclaimed. */
static struct weir_lua *swap(struct weir_worker *w, struct weir_lua *L, const char *s)
{
	char err[512];
	struct weir_lua *N = weir_lua_create(w, &s, 1, err, sizeof(err));
	CHECK(N != NULL);
	if (N)
		weir_lua_free(L);
	else
		fprintf(stderr, "swap: %s\n", err);
	CHECK(weir_msock_reclaim(w) >= 0); /* the failed state's sockets too, as the station does */
	return N ? N : L;
}

/* 2000 swaps of a script's state on one worker with flows open (a hot reload, at the C level):
 * no socket, UDE id or handler slot of an old state is left (the ids are reused), no handler of
 * an old state runs again, and the flows open across the swaps reach the newest state's handlers
 * with their streams going on. LSan (the sanitizer build) checks that nothing leaks. */
static void test_swap(void)
{
	static const char body[] =
	    "local weir = require 'weir'\n"
	    "local data, old = weir.counter('swap.data'), weir.counter('swap.old_flows')\n"
	    "local u = weir.define_event(weir.ON_NEW_DATA, function(flow, side) return true end)\n"
	    "weir.monitor_socket():register(u, function(flow) data:inc()\n"
	    "  if flow:id() <= %llu then old:inc() end end)\n"
	    "weir.timer(3600000, function() end)\n"
	    "return { on_conn_end = function() end }\n";
	char text[sizeof(body) + 32], err[256];
	int code, n;
	struct weir_worker *w = worker();
	snprintf(text, sizeof(text), body, 0ull);
	const char *s = script("swap.lua", text);
	struct weir_lua *L = weir_lua_create(w, &s, 1, err, sizeof(err));
	CHECK(L != NULL);
	const struct weir_lua_handler_stat *hs;
	const unsigned handlers = weir_lua_handler_stats(L, &hs);
	static int probe[2];
	const int ude0 = weir_event_define(w, WEIR_EV_PKT_IN, NULL, &probe[0]);
	struct weir_pcap_reader *rd =
	    weir_pcap_open(WEIR_SRC "/tests/data/sample.pcap", err, sizeof(err), &code);
	CHECK(rd != NULL);
	struct weir_rx_pkt pkt;
	/* the first 25 packets: two flows open, each with data seen and more to come */
	for (unsigned i = 0; i < 25 && weir_pcap_next(rd, &pkt, 1, err, sizeof(err)) > 0; i++) {
		weir_worker_rx(w, &pkt, 1);
		weir_lua_run(L);
	}
	CHECK(counter(L, "swap.data") > 0);
	const unsigned long long open_flows = weir_worker_stats(w)->flows_created;
	CHECK(weir_worker_stats(w)->flows_active > 0);
	/* the new states count data of the flows opened before them */
	snprintf(text, sizeof(text), body, open_flows);
	s = script("swap2.lua", text);
	/* as the station does it: the next burst handed over, the swaps before its first poll */
	CHECK((n = weir_pcap_next(rd, &pkt, 1, err, sizeof(err))) > 0);
	weir_worker_rx(w, &pkt, 1);
	for (unsigned i = 0; i < 2000; i++)
		L = swap(w, L, s);
	CHECK_EQ(weir_lua_handler_stats(L, &hs), handlers);
	/* one more C UDE takes the next id: the 2000 states' definitions took none for good */
	CHECK_EQ(weir_event_define(w, WEIR_EV_PKT_IN, NULL, &probe[1]), ude0 + 1);
	struct weir_msock *probe_sock = weir_msock_create(w, NULL, err, sizeof(err));
	CHECK(probe_sock != NULL && weir_msock_id(probe_sock) < 4); /* ids reused */
	weir_msock_close(probe_sock);
	CHECK_EQ(counter(L, "swap.data"), 0);
	weir_lua_run(L);
	while ((n = weir_pcap_next(rd, &pkt, 1, err, sizeof(err))) > 0) {
		weir_worker_rx(w, &pkt, 1);
		weir_lua_run(L);
	}
	weir_pcap_close(rd);
	/* flows open across the swaps reached the newest state */
	CHECK(counter(L, "swap.old_flows") > 0);
	const struct weir_stats *st = weir_worker_stats(w);
	/* each NEW_DATA ran the newest state's one handler once: old states' handlers are gone */
	CHECK(counter(L, "swap.data") <= st->events[WEIR_EV_NEW_DATA]);
	CHECK_EQ(weir_lua_run_errors(L), 0);
	weir_lua_free(L);
	weir_worker_free(w);
}

/* 2000 swaps of states whose UDE definitions differ each time (1,100 distinct definitions in all,
 * more than the 1,024 UDE ids): each state gives its UDEs back when it goes, so every swap loads
 * and the ids stay few. */
static void test_swap_udes(void)
{
	char err[256], text[512];
	struct weir_worker *w = worker();
	struct weir_lua *L = weir_lua_create(w, NULL, 0, err, sizeof(err));
	static int probe;
	for (unsigned i = 0; i < 2000; i++) {
		/* i % 110 definitions on PKT_IN, then one on built-in event (i / 110) % 10 */
		snprintf(
		    text, sizeof(text),
		    "local weir = require 'weir'\n"
		    "local f = function() return true end\n"
		    "for _ = 1, %u do weir.define_event(weir.ON_PKT_IN, f) end\n"
		    "local u = weir.define_event(%u, f)\n"
		    "weir.monitor_socket():register(weir.define_event(u, f), function() end)\n",
		    i % 110, (i / 110) % 10);
		L = swap(w, L, script("udes.lua", text));
	}
	/* the last state holds at most 111 + 1 ids; freed ones are taken first */
	CHECK(weir_event_define(w, WEIR_EV_PKT_IN, NULL, &probe) < WEIR_EV_UDE_FIRST + 300);
	weir_lua_free(L);
	weir_worker_free(w);
}

/* Appends "label = { [0] = "name", ... }," with C's names 0 .. n - 1 to a Lua table literal. */
static void lua_names(char *buf, size_t len, const char *label, const char *(*name)(unsigned),
                      unsigned n)
{
	size_t at = strlen(buf);
	at += (size_t)snprintf(buf + at, len - at, "%s = {", label);
	for (unsigned i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "[%u] = '%s', ", i, name(i));
	if (at < len)
		snprintf(buf + at, len - at, "},\n");
}

/* The name tables and constants a script sees are C's: C writes its own into a module beside the
 * script, which compares (scripts have no FFI to ask C themselves: the sandbox). */
static void test_names(void)
{
	char mod[4096] = "return {\n";
	lua_names(mod, sizeof(mod), "event", weir_event_name, WEIR_EV_BUILTIN_COUNT);
	lua_names(mod, sizeof(mod), "state", weir_tcp_state_name, WEIR_TCP_STATE_COUNT);
	lua_names(mod, sizeof(mod), "anomaly", weir_anomaly_name, WEIR_AN_COUNT);
	lua_names(mod, sizeof(mod), "close", weir_close_reason_name, WEIR_CLOSE_COUNT);
	const size_t at = strlen(mod);
	snprintf(mod + at, sizeof(mod) - at,
	         "PRE = %d, POST_SND = %d, POST_RCV = %d, CLIENT = %d, SERVER = %d, BOTH = %d }\n",
	         WEIR_HOOK_PRE, WEIR_HOOK_POST_SND, WEIR_HOOK_POST_RCV, WEIR_SIDE_CLIENT,
	         WEIR_SIDE_SERVER, WEIR_SIDE_BOTH);
	CHECK(strlen(mod) < sizeof(mod) - 1);
	script("cnames.lua", mod);
	const char *check = script(
	    "names.lua",
	    "local weir = require 'weir'\n"
	    "local C = require 'cnames'\n"
	    "local function check(label, t, prefix)\n"
	    "  local want = C[label]\n"
	    "  for i = 0, #want do\n"
	    "    assert(t[i] == want[i], string.format('%s_names[%d] is %s, C says %s', label, i, "
	    "tostring(t[i]), want[i]))\n"
	    "    if prefix then assert(weir[prefix .. want[i]:upper()] == i, prefix .. "
	    "want[i]:upper()) end\n"
	    "  end\n"
	    "  assert(t[#want + 1] == nil and t[-1] == nil, label .. '_names has more than C')\n"
	    "end\n"
	    "check('event', weir.event_names, 'ON_')\n"
	    "check('state', weir.state_names)\n"
	    "check('anomaly', weir.anomaly_names, 'AN_')\n"
	    "check('close', weir.close_names)\n"
	    "for _, name in ipairs { 'PRE', 'POST_SND', 'POST_RCV' } do\n"
	    "  assert(weir[name] == C[name] and weir.hook_names[C[name]] == name:lower(), name)\n"
	    "end\n"
	    "assert(weir.PRE_TCP == C.PRE and weir.POST_TCP == C.POST_RCV)\n"
	    "assert(weir.CLIENT == C.CLIENT and weir.SERVER == C.SERVER and weir.BOTH == C.BOTH)\n"
	    "assert(weir.close_names[#C.close] == 'reused')\n");
	char err[512] = "";
	struct weir_worker *w = worker();
	struct weir_lua *L = weir_lua_create(w, &check, 1, err, sizeof(err));
	CHECK(L != NULL);
	if (!L)
		fprintf(stderr, "%s\n", err);
	weir_lua_free(L);
	weir_worker_free(w);
}

/* The budget counts the CPU time of the thread running the call: a call that waits without
 * using the CPU (here a trusted script's sleep: as a worker the kernel does not run) is not
 * stopped at budget_ms, one that stays blocked past the wall-time limit (10 budgets, at least 1 s)
 * is stopped when it returns. */
static void test_budget_cpu_time(void)
{
	for (int run = 0; run < 2; run++) {
		char text[512], err[512];
		snprintf(text, sizeof(text),
		         "local ffi = require 'ffi'\n"
		         "ffi.cdef 'int usleep(unsigned int)'\n"
		         "local done = false\n"
		         "return { on_conn_start = function()\n"
		         "  if done then return end\n"
		         "  done = true\n"
		         "  ffi.C.usleep(%d)\n"
		         "  local x = 0 for i = 1, 10 do x = x + i end\n"
		         "end }\n",
		         run == 0 ? 300000 : 1300000);
		const struct weir_lua_script sc[] = { { script("sleeper.lua", text), 1 } };
		struct weir_lua_limits lim;
		weir_lua_limits_defaults(&lim);
		lim.budget_ms = 50;
		struct weir_worker *w = worker();
		struct weir_lua *L = weir_lua_create_with(w, sc, 1, &lim, err, sizeof(err));
		CHECK(L != NULL);
		if (!L) {
			fprintf(stderr, "%s\n", err);
			weir_worker_free(w);
			return;
		}
		CHECK_EQ(replay(w, L, WEIR_SRC "/tests/data/sample.pcap"), 0);
		const struct weir_lua_script_stat *ss;
		CHECK_EQ(weir_lua_script_stats(L, &ss), 1);
		CHECK_EQ(ss[0].budget_stops, run == 0 ? 0 : 1);
		weir_lua_free(L);
		weir_worker_free(w);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_load_errors();
	test_listing1();
	test_errors_and_alerts();
	test_budget();
	test_budget_cpu_time();
	test_swap();
	test_swap_udes();
	test_names();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return UNIT_DONE();
}
