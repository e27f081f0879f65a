/* test_config.c — unit test of the Lua config reader: defaults, every section, and errors naming file:line and setting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config/config.h"
#include "core/settings.h"
#include "unit.h"

static struct weir_run_config cfg;
static char err[1024];

static int load(const char *text)
{
	err[0] = '\0';
	return weir_run_config_load_string(&cfg, text, "t.lua", err, sizeof(err));
}

static void test_full(void)
{
	CHECK_EQ(load("dpdk = { eal = {'-l', '0-1'}, ports = { {dev = 'net_af_packet0,iface=a'}, 'net_af_packet1,iface=b' },\n"
	              "  mbufs = 4095 }\n"
	              "mode = 'inline'\npairs = {{0, 1}}\nworkers = 2\n"
	              "flows = { max = 1000, idle_timeout = 60, handshake_timeout = 5.5, timewait = 0, policy = 'refuse' }\n"
	              "streams = { buffer_per_side = 65536, memcap = 1048576, overlap = 'last', midstream = false }\n"
	              "dashboard = { listen = '127.0.0.1:8080', token = '0123456789abcdef' }\n"
	              "log = { eve = os.getenv('HOME') and '/tmp/eve.json' or 'x', stats = '-' }\n"
	              "idle_sleep_us = 20\nforward_non_tcp = false\nrss_key = '6d5A6d5a'\n"
	              "lua = { budget_ms = 250, memory_mb = 64, max_errors = 0 }\n"
	              "defrag = { memcap = 1048576, timeout = 30, max_fragments = 100, overlap = 'last',\n"
	              "  unreassembled = 'forward' }\n"
	              "firewall = { {port = 81, action = 'drop'}, {port = 82, action = 'pass'} }\n"
	              "tunnels = { max_depth = 1, vxlan_port = 8472, geneve_port = 0 }\n"),
	         0);
	CHECK_STR(err, "");
	CHECK_EQ(cfg.n_eal, 2);
	CHECK_STR(cfg.eal[1], "0-1");
	CHECK_EQ(cfg.n_ports, 2);
	CHECK_STR(cfg.ports[0].dev, "net_af_packet0,iface=a");
	CHECK_STR(cfg.ports[1].dev, "net_af_packet1,iface=b");
	CHECK_EQ(cfg.mbufs, 4095);
	CHECK_EQ(cfg.pairs[0], 1);
	CHECK_EQ(cfg.pairs[1], 0);
	CHECK_EQ(cfg.pairs[2], 0xff);
	CHECK_EQ(cfg.workers, 2);
	CHECK_EQ(cfg.engine.max_flows, 1000);
	CHECK_EQ(cfg.engine.idle_timeout_ms, 60000);
	CHECK_EQ(cfg.engine.handshake_timeout_ms, 5500);
	CHECK_EQ(cfg.engine.timewait_ms, 0);
	CHECK_EQ(cfg.engine.flow_policy, WEIR_FLOWS_REFUSE_NEW);
	CHECK_EQ(cfg.engine.buffer_per_side, 65536);
	CHECK_EQ(cfg.engine.memcap, 1048576);
	CHECK_EQ(cfg.engine.overlap, WEIR_OVERLAP_LAST);
	CHECK_EQ(cfg.engine.midstream, 0);
	CHECK_EQ(cfg.engine.tunnel_depth, 1);
	CHECK_EQ(cfg.engine.vxlan_port, 8472);
	CHECK_EQ(cfg.engine.geneve_port, 0);
	CHECK_EQ(cfg.engine.gtpu_port, WEIR_TUN_PORT_GTPU); /* not set: the default */
	CHECK_STR(cfg.dashboard_listen, "127.0.0.1:8080");
	CHECK_STR(cfg.eve_path, "/tmp/eve.json");
	CHECK_STR(cfg.stats_path, "-");
	CHECK_EQ(cfg.idle_sleep_us, 20);
	CHECK_EQ(cfg.forward_non_tcp, 0);
	CHECK_EQ(cfg.lua_budget_ms, 250);
	CHECK_EQ(cfg.lua_memory_mb, 64);
	CHECK_EQ(cfg.lua_max_errors, 0);
	CHECK_EQ(cfg.unreassembled, WEIR_FRAGMENTS_FORWARD);
	CHECK_EQ(cfg.engine.defrag_memcap, 1048576);
	CHECK_EQ(cfg.engine.defrag_timeout_ms, 30000);
	CHECK_EQ(cfg.engine.defrag_max_frags, 100);
	CHECK_EQ(cfg.engine.defrag_overlap, WEIR_OVERLAP_LAST);
	CHECK_EQ(cfg.rss_key_len, 4);
	CHECK_EQ(cfg.rss_key[1], 0x5a);
	CHECK_EQ(cfg.n_rules, 2);
	CHECK_EQ(cfg.rules[0].port, 81);
	CHECK_EQ(cfg.rules[0].action, WEIR_RULE_DROP);
	CHECK_EQ(cfg.rules[1].action, WEIR_RULE_PASS);
}

static void test_defaults(void)
{
	CHECK_EQ(load("dpdk = { ports = {'net_null0', 'net_null1'} }"), 0);
	struct weir_config d;
	weir_config_defaults(&d);
	CHECK_EQ(cfg.mode, WEIR_MODE_INLINE);
	CHECK_EQ(cfg.workers, 1);
	CHECK_EQ(cfg.forward_non_tcp, 1);
	CHECK_EQ(cfg.lua_budget_ms, 100);
	CHECK_EQ(cfg.lua_memory_mb, 256);
	CHECK_EQ(cfg.lua_max_errors, 100);
	CHECK_EQ(cfg.unreassembled, WEIR_FRAGMENTS_DROP);
	CHECK_EQ(cfg.engine.defrag_memcap, 16u << 20);
	CHECK_EQ(cfg.engine.defrag_timeout_ms, 60000);
	CHECK_EQ(cfg.engine.defrag_max_frags, 64);
	CHECK_EQ(cfg.engine.defrag_overlap, WEIR_OVERLAP_FIRST);
	CHECK_EQ(cfg.pairs[0], 1); /* two ports inline: paired without a pairs line */
	CHECK_EQ(cfg.pairs[1], 0);
	CHECK_EQ(cfg.engine.max_flows, d.max_flows);
	CHECK_EQ(cfg.engine.memcap, d.memcap);
	CHECK(cfg.n_eal > 0);
	CHECK_STR(cfg.eal[0], "--no-huge");
	CHECK_EQ(cfg.n_scripts, 0);
	CHECK_STR(cfg.dashboard_listen, "");
	CHECK_EQ(load("mode = 'passive'\ndpdk = { ports = {'net_null0'} }"), 0);
	CHECK_EQ(cfg.mode, WEIR_MODE_PASSIVE);
	CHECK_EQ(cfg.pairs[0], 0xff);
}

/* Each bad config is refused with a message that starts with the expected file:line: setting. */
static void test_errors(void)
{
	static const struct { const char *text, *want;
	} bad[] = {
	    {"dpdk = { ports = {'a','b'} }\nworkers = 0\n", "t.lua:2: workers: 0 is outside"},
	    {"dpdk = { ports = {'a','b'} }\n\nmode = 'bridge'\n",
	     "t.lua:3: mode: \"bridge\" is not one of"},
	    {"dpdk = { ports = {'a','b'} }\nflows = { maxx = 3 }\n",
	     "t.lua:2: flows.maxx: unknown setting"},
	    {"dpdk = { ports = {'a','b'} }\nworker = 2\n", "t.lua:2: worker: unknown setting"},
	    {"dpdk = { ports = {'a','b'}, eal = {'-l', 3} }\n",
	     "t.lua:1: dpdk.eal[2]: expected a string"},
	    {"dpdk = { ports = { {dev = 5} } }\n", "t.lua:1: dpdk.ports[1].dev: expected a string"},
	    {"dpdk = { ports = { {} } }\n", "t.lua:1: dpdk.ports[1].dev: missing"},
	    {"dpdk = {}\n", "t.lua: dpdk.ports: no interface configured: edit t.lua (dpdk.ports)"},
	    {"dpdk = { ports = {'a','b','c'} }\n", "t.lua: pairs: inline mode: every port"},
	    {"dpdk = { ports = {'a','b'} }\npairs = {{0, 5}}\n",
	     "t.lua: pairs: port 5 is not configured"},
	    {"dpdk = { ports = {'a','b'} }\npairs = {{0, 0}}\n", "t.lua:2: pairs[1]: port 0 or 0"},
	    {"dpdk = { ports = {'a','b'} }\npairs = {{0}}\n", "t.lua:2: pairs[1]: a pair is"},
	    {"dpdk = { ports = {'a','b'} }\nflows = { max = 1.5 }\n",
	     "t.lua:2: flows.max: 1.5 is not a whole"},
	    {"dpdk = { ports = {'a','b'} }\nstreams = { midstream = 1 }\n",
	     "t.lua:2: streams.midstream: expected true"},
	    {"dpdk = { ports = {'a','b'} }\ndashboard = { listen = 'localhost:80' }\n",
	     "t.lua:2: dashboard.listen:"},
	    {"dpdk = { ports = {'a','b'} }\ndashboard = { listen = '127.0.0.1:0' }\n",
	     "t.lua:2: dashboard.listen:"},
	    {"dpdk = { ports = {'a','b'} }\ndashboard = { token = 'short' }\n",
	     "t.lua:2: dashboard.token: shorter"},
	    {"dpdk = { ports = {'a','b'} }\nrss_key = 'abc'\n",
	     "t.lua:2: rss_key: expected an even"},
	    {"dpdk = { ports = {'a','b'} }\nrss_key = 'zz'\n", "t.lua:2: rss_key: 'zz' is not"},
	    {"dpdk = { ports = {'a','b'} }\nscripts = {'/nonexistent/x.lua'}\n",
	     "t.lua:2: scripts[1]: /nonexistent/x.lua:"},
	    {"dpdk = { ports = {'a','b'} }\nfirewall = {{action = 'drop'}}\n",
	     "t.lua:2: firewall[1].port: missing"},
	    {"dpdk = { ports = {'a','b'} }\nfirewall = {{port = 80, action = 'reject'}}\n",
	     "t.lua:2: firewall[1].action:"},
	    {"dpdk = { ports = {'a','b'} }\npairs = {a = 1}\n", "t.lua:2: pairs: expected a list"},
	    {"dpdk = {\n ports = {'a','b'} \n", "t.lua:3:"}, /* syntax error: Lua's own file:line */
	    {"dpdk = { ports = {'a','b'} }\nerror('boom')\n", "t.lua:2: boom"},
	    {"io.open('/etc/passwd')\n", "t.lua:1:"}, /* no io in the sandbox */
	    {"dpdk = 'x'\n", "t.lua:1: dpdk: expected a table"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { unreassembled = 'reassemble' }\n",
	     "t.lua:2: defrag.unreassembled: \"reassemble\" is not one"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { unreassembled = false }\n",
	     "t.lua:2: defrag.unreassembled: expected a string"},
	    {"dpdk = { ports = {'a','b'} }\nfragments = 'drop'\n", "t.lua:2: fragments: unknown"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { memcap = -1 }\n", "t.lua:2: defrag.memcap:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { memcap = 0 }\n", "t.lua:2: defrag.memcap:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { memcap = 2^41 }\n", "t.lua:2: defrag.memcap:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { timeout = 0 }\n", "t.lua:2: defrag.timeout:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { timeout = -5 }\n", "t.lua:2: defrag.timeout:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { timeout = 1e9 }\n", "t.lua:2: defrag.timeout:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { max_fragments = 0 }\n",
	     "t.lua:2: defrag.max_fragments:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { max_fragments = 8193 }\n",
	     "t.lua:2: defrag.max_fragments:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { max_fragments = 1.5 }\n",
	     "t.lua:2: defrag.max_fragments:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { overlap = 'bsd' }\n", "t.lua:2: defrag.overlap:"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { max_frags = 10 }\n", "t.lua:2: defrag"},
	    {"dpdk = { ports = {'a','b'} }\ntunnels = { vxlan_port = 65536 }\n",
	     "t.lua:2: tunnels.vxlan_port: 65536 is outside"},
	    {"dpdk = { ports = {'a','b'} }\ntunnels = { teredo = 3544 }\n",
	     "t.lua:2: tunnels.teredo: unknown setting"},
	    {"dpdk = { ports = {'a','b'} }\ntunnels = { max_depth = 9 }\n",
	     "t.lua:2: tunnels.max_depth: 9 is outside"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(load(bad[i].text), -1);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0) {
			fprintf(stderr, "case %zu: got '%s', want prefix '%s'\n", i, err, bad[i].want);
			CHECK(0);
		}
	}
}

/* An unknown setting names the known one closest to it (at most two edits away, one for a name
 * of four letters or fewer), in its section; nothing is suggested when none is that close. */
static void test_did_you_mean(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"dpdk = { ports = {'a','b'} }\nworkerz = 2\n",
	     "t.lua:2: workerz: unknown setting (did you mean \"workers\"?)"},
	    {"dpdk = { ports = {'a','b'} }\nflows = { maxx = 3 }\n",
	     "t.lua:2: flows.maxx: unknown setting (did you mean \"max\"?)"},
	    {"dpdk = { ports = {'a','b'} }\ndefrag = { max_frags = 10 }\n",
	     "t.lua:2: defrag.max_frags: unknown setting"},
	    {"dpdk = { ports = {'a','b'} }\ndashbord = {}\n",
	     "t.lua:2: dashbord: unknown setting (did you mean \"dashboard\"?)"},
	    {"dpdk = { portz = {'a','b'} }\n",
	     "t.lua:1: dpdk.portz: unknown setting (did you mean \"ports\"?)"},
	    {"dpdk = { ports = {'a','b'} }\ncolour = 'blue'\n", "t.lua:2: colour: unknown setting"},
	    {"dpdk = { ports = {'a','b'} }\nmod = 'inline'\n",
	     "t.lua:2: mod: unknown setting (did you mean \"mode\"?)"},
	    {"dpdk = { ports = {'a','b'} }\nxy = 1\n", "t.lua:2: xy: unknown setting"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(load(bad[i].text), -1);
		if (strcmp(err, bad[i].want) != 0) {
			fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, bad[i].want);
			CHECK(0);
		}
	}
	/* a key far longer than any setting is compared no further than its length allows */
	char text[4200];
	snprintf(text, sizeof(text), "dpdk = { ports = {'a','b'} }\n%04000d = 1\n", 0);
	text[29] = 'w'; /* a name, not a number */
	CHECK_EQ(load(text), -1);
	CHECK(strstr(err, "unknown setting") != NULL && strstr(err, "did you mean") == NULL);
}

/* A setting given two values at the top level is a mistake (the first would be lost): the
 * second assignment fails with both lines. "flows = flows or {}" changes nothing and passes;
 * other globals may change as a script likes. */
static void test_duplicates(void)
{
	CHECK_EQ(load("dpdk = { ports = {'a','b'} }\nworkers = 2\n\nworkers = 3\n"), -1);
	CHECK(!strcmp(err, "t.lua:4: workers: set again (first set at line 2)"));
	CHECK_EQ(load("dpdk = { ports = {'a','b'} }\ndpdk = { ports = {'c','d'} }\n"), -1);
	CHECK(!strcmp(err, "t.lua:2: dpdk: set again (first set at line 1)"));
	CHECK_EQ(load("local n = 1\nfor i = 1, 3 do n = n + i; base = i end\ndpdk = { ports = {'a','b'} }\n"
	              "workers = base\n"),
	         -1);
	CHECK(!strcmp(err, "t.lua:2: base: unknown setting"));
	CHECK_EQ(load("dpdk = { ports = {'a','b'} }\nworkers = 2\nworkers = 2\nflows = flows or {}\n"
	              "flows = flows or {}\nflows.max = 1000\n"),
	         0);
	CHECK_EQ(cfg.workers, 2u);
}

/* Writes an empty file at dir/name (dir/sub made first when name has one). */
static void touch(const char *dir, const char *name)
{
	char p[600];
	const char *slash = strchr(name, '/');
	if (slash) {
		snprintf(p, sizeof(p), "%s/%.*s", dir, (int)(slash - name), name);
		CHECK_EQ(mkdir(p, 0700), 0);
	}
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
}

/* Loads "scripts = { list }" as the config file name with the script directories dirs. */
static int load_scripts(const char *list, const char *name, const struct weir_script_dirs *dirs)
{
	char text[256];
	snprintf(text, sizeof(text), "dpdk = { ports = {'a','b'} }\nscripts = { %s }\n", list);
	err[0] = '\0';
	return weir_run_config_load_dirs(&cfg, text, name, dirs, err, sizeof(err));
}

/* A bare script name is looked up in the site's directory, then the shipped one; a name with a '/'
 * is a path from the config file's directory and is never searched; a missing one is an error
 * naming the config's file:line. */
static void test_script_dirs(void)
{
	char root[] = "/tmp/weir-test-config-XXXXXX", site[64], shipped[64], conf[64], name[96],
	     p[600];
	CHECK(mkdtemp(root) != NULL);
	snprintf(site, sizeof(site), "%s/site", root);
	snprintf(shipped, sizeof(shipped), "%s/shipped", root);
	snprintf(conf, sizeof(conf), "%s/conf", root);
	CHECK_EQ(mkdir(site, 0700) | mkdir(shipped, 0700) | mkdir(conf, 0700), 0);
	touch(site, "both.lua");
	touch(shipped, "both.lua");
	touch(shipped, "shipped.lua");
	touch(site, "sub/deep.lua");
	const struct weir_script_dirs dirs = {.site = site, .shipped = shipped};
	snprintf(name, sizeof(name), "%s/weir.lua", conf);

	CHECK_EQ(load_scripts("'both.lua', { 'shipped.lua', trusted = true }, { '../shipped/shipped.lua' }",
	                      name, &dirs),
	         0);
	CHECK_STR(err, "");
	CHECK_EQ(cfg.n_scripts, 3);
	snprintf(p, sizeof(p), "%s/both.lua", site); /* the site's wins */
	CHECK_STR(cfg.scripts[0], p);
	snprintf(p, sizeof(p), "%s/shipped.lua", shipped);
	CHECK_STR(cfg.scripts[1], p);
	snprintf(p, sizeof(p), "%s/../shipped/shipped.lua", conf); /* from the config's directory */
	CHECK_STR(cfg.scripts[2], p);
	CHECK_EQ(cfg.script_trusted[0] + 2 * cfg.script_trusted[1] + 4 * cfg.script_trusted[2], 2);

	static const struct {
		const char *list, *want;
	} bad[] = {
	    {"'missing.lua'", "%s:2: scripts[1]: missing.lua: not in %s/site nor in %s/shipped"},
	    {"'both.lua', 'sub/deep.lua'", "%s:2: scripts[2]: %s/conf/sub/deep.lua: No such file"},
	    {"'../site/both.lua', '../both.lua'",
	     "%s:2: scripts[2]: %s/conf/../both.lua: No such file"},
	    {"'..'", "%s:2: scripts[1]: \"..\" is not a script's file name"},
	    {"'.'", "%s:2: scripts[1]: \".\" is not a script's file name"},
	    {"{ 'both.lua', trusted = 1 }", "%s:2: scripts[1].trusted: expected true or false, got number"},
	    {"{ 'both.lua', trust = true }", "%s:2: scripts[1].trust: unknown setting"},
	    {"{ 'both.lua', 'x.lua' }", "%s:2: scripts[1]: unknown setting"},
	    {"{ trusted = true }", "%s:2: scripts[1][1]: expected a string, got nil"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[600];
		snprintf(want, sizeof(want), bad[i].want, name, root, root);
		CHECK_EQ(load_scripts(bad[i].list, name, &dirs), -1);
		if (strncmp(err, want, strlen(want)) != 0) {
			fprintf(stderr, "case %zu: got '%s', want prefix '%s'\n", i, err, want);
			CHECK(0);
		}
	}
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	CHECK_EQ(system(p), 0);
}

static void test_file_and_listen(void)
{
	CHECK_EQ(weir_run_config_load(&cfg, "/nonexistent/weir.lua", err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent/weir.lua") != NULL);
	CHECK_EQ(weir_run_config_check_listen("127.0.0.1:8080"), 0);
	CHECK_EQ(weir_run_config_check_listen("[::1]:8080"), 0);
	CHECK_EQ(weir_run_config_check_listen("127.0.0.1"), -1);
	CHECK_EQ(weir_run_config_check_listen(":80"), -1);
	CHECK_EQ(weir_run_config_check_listen("1.2.3.4:65536"), -1);
	CHECK_EQ(weir_run_config_check_listen("[::1:80"), -1);
}

/* The settings table is the reader's source: each setting's default lies in its range, and a config
 * that writes every default out (as `weir check --defaults` prints it) loads to the defaults. */
static void test_settings_table(void)
{
	static struct weir_run_config d;
	weir_run_config_defaults(&d);
	char text[8192] = "dpdk = { ports = {'a', 'b'} }\n";
	size_t base;
	const struct weir_setting *s;
	unsigned n = 0;
	for (unsigned i = 0; (s = weir_run_setting(i, &base)) != NULL; i++, n++) {
		CHECK(s->def >= s->lo && s->def <= s->hi);
		CHECK(s->doc[0] != '\0');
		const double v = weir_setting_value(s, (const uint8_t *)&d + base);
		CHECK(v == s->def);
		char val[64];
		if (s->type == WEIR_SET_ENUM)
			snprintf(val, sizeof(val), "'%s'", s->names[(int)v]);
		else if (s->type == WEIR_SET_BOOL)
			snprintf(val, sizeof(val), "%s", v ? "true" : "false");
		else
			snprintf(val, sizeof(val), "%.15g", v);
		const char *dot = strchr(s->name, '.');
		if (dot) /* flows.max = v needs the table flows */
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%.*s = %.*s or {}\n",
			         (int)(dot - s->name), s->name, (int)(dot - s->name), s->name);
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s = %s\n", s->name, val);
	}
	CHECK(n >= 15);
	CHECK_EQ(load(text), 0);
	CHECK_STR(err, "");
	CHECK_MEM(&cfg.engine, &d.engine, sizeof(d.engine));
	CHECK_EQ(cfg.mbufs, d.mbufs);
	CHECK_EQ(cfg.workers, d.workers);
	CHECK_EQ(cfg.mode, d.mode);
	CHECK_EQ(cfg.forward_non_tcp, d.forward_non_tcp);
	CHECK_EQ(cfg.engine.handshake_timeout_ms, 75000);
	CHECK_EQ(cfg.engine.memcap, 0); /* 0: the worker derives it from max_flows */
}

/* weir check's listing: a hostile string is escaped as a Lua literal, and a value longer than the
 * line buffer (64 EAL arguments of 500 bytes) is cut, never overrun. */
static void test_show(void)
{
	static char text[40000];
	snprintf(text, sizeof(text), "dpdk = { ports = {'a', 'b'}, eal = {} }\nlog = { eve = 'q\"\\\\\\n1' }\n"
	                             "for i = 1, 64 do dpdk.eal[i] = string.rep('e', 500) end\n");
	CHECK_EQ(load(text), 0);
	CHECK_STR(err, "");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	weir_run_config_show(out, &cfg, 0);
	fclose(out);
	CHECK(strstr(buf, "log.eve = \"q\\\"\\\\\\0101\"") != NULL);
	CHECK(strstr(buf, "flows.handshake_timeout = 75 ") != NULL);
	const char *eal = strstr(buf, "dpdk.eal = { \"eee");
	CHECK(eal != NULL);
	CHECK(eal && strchr(eal, '\n') - eal < 4200);
	free(buf);
}

/* CPU time of this thread: what the limits bound. Wall time would also count the other work of
 * a loaded machine (the suite runs two tests at a time, beside the sanitizer build). */
static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Endless loops and allocation bombs fail with file:line (or file), even when the config catches
 * errors with pcall; an ordinary loop that builds settings is well inside the bounds. The limits
 * count VM instructions and bytes; the 5 s of CPU time is no speed goal (a case takes about 0.3 s,
 * 1 s under the sanitizers) but catches a limit that does not hold. */
static void test_limits(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"dpdk = { ports = {'a','b'} }\nwhile true do end\n",
	     "t.lua:2: instruction limit exceeded"},
	    {"local function f()\n  repeat until false\nend\nlocal function g() f() end\ng()\n",
	     "t.lua:2: instruction limit exceeded"},
	    {"while true do\n  pcall(function() while true do end end)\nend\n",
	     "t.lua:2: instruction limit exceeded"},
	    {"for i = 1, 1e12 do local s = tostring(i) .. 'x' end\n",
	     "t.lua:1: instruction limit exceeded"},
	    {"local s = string.rep('x', 2^30)\n", "t.lua: memory limit exceeded"},
	    {"local s = 'x'\nwhile true do s = s .. s end\n", "t.lua: memory limit exceeded"},
	    {"local t = {}\nfor i = 1, 1e7 do t[i] = ('x'):rep(1024) .. i end\n",
	     "t.lua: memory limit exceeded"},
	    {"local s = ('x'):rep(2^20)\nlocal t = {}\nfor i = 1, 1000 do t[i] = s end\nlocal r = "
	     "table.concat(t)\n",
	     "t.lua: memory limit exceeded"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const double t0 = now_s();
		CHECK_EQ(load(bad[i].text), -1);
		const double took = now_s() - t0;
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0 || took > 5.0) {
			fprintf(stderr,
			        "case %zu: got '%s' after %.3f s of CPU, want prefix '%s' within 5 s\n", i,
			        err, took, bad[i].want);
			CHECK(0);
		}
	}
	/* 64 rules built in a loop, and a string grown to 1 MiB: a config may compute */
	CHECK_EQ(load("dpdk = { ports = {'a','b'} }\nfirewall = {}\n"
	              "for p = 1, 64 do firewall[p] = { port = 1000 + p, action = p % 2 == 0 and "
	              "'pass' or 'drop' } end\n"
	              "local s = ('x'):rep(2^20)\nassert(#s == 2^20)\n"),
	         0);
	CHECK_STR(err, "");
	CHECK_EQ(cfg.n_rules, 64);
	CHECK_EQ(cfg.rules[63].port, 1064);
	CHECK_EQ(cfg.rules[63].action, WEIR_RULE_PASS);
}

int main(void)
{
	test_full();
	test_defaults();
	test_errors();
	test_did_you_mean();
	test_duplicates();
	test_file_and_listen();
	test_script_dirs();
	test_limits();
	test_settings_table();
	test_show();
	return UNIT_DONE();
}
