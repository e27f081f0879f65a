/* test_config.c — unit test of the Lua config reader: defaults, every section, and errors naming file:line and setting. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
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
	              "idle_sleep_us = 20\nforward_non_tcp = false\nrss_key = '6d5A6d5a'\nscripts_jit = true\n"
	              "fragments = 'forward'\n"
	              "firewall = { {port = 81, action = 'drop'}, {port = 82, action = 'pass'} }\n"),
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
	CHECK_STR(cfg.dashboard_listen, "127.0.0.1:8080");
	CHECK_STR(cfg.eve_path, "/tmp/eve.json");
	CHECK_STR(cfg.stats_path, "-");
	CHECK_EQ(cfg.idle_sleep_us, 20);
	CHECK_EQ(cfg.forward_non_tcp, 0);
	CHECK_EQ(cfg.scripts_jit, 1);
	CHECK_EQ(cfg.fragments, WEIR_FRAGMENTS_FORWARD);
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
	CHECK_EQ(cfg.scripts_jit, 0);
	CHECK_EQ(cfg.fragments, WEIR_FRAGMENTS_DROP);
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
	static const struct { const char *text, *want; } bad[] = {
		{ "dpdk = { ports = {'a','b'} }\nworkers = 0\n", "t.lua:2: workers: 0 is outside" },
		{ "dpdk = { ports = {'a','b'} }\n\nmode = 'bridge'\n", "t.lua:3: mode: \"bridge\" is not one of" },
		{ "dpdk = { ports = {'a','b'} }\nflows = { maxx = 3 }\n", "t.lua:2: flows.maxx: unknown setting" },
		{ "dpdk = { ports = {'a','b'} }\nworker = 2\n", "t.lua:2: worker: unknown setting" },
		{ "dpdk = { ports = {'a','b'}, eal = {'-l', 3} }\n", "t.lua:1: dpdk.eal[2]: expected a string" },
		{ "dpdk = { ports = { {dev = 5} } }\n", "t.lua:1: dpdk.ports[1].dev: expected a string" },
		{ "dpdk = { ports = { {} } }\n", "t.lua:1: dpdk.ports[1].dev: missing" },
		{ "dpdk = {}\n", "t.lua: dpdk.ports: no port configured" },
		{ "dpdk = { ports = {'a','b','c'} }\n", "t.lua: pairs: inline mode: every port" },
		{ "dpdk = { ports = {'a','b'} }\npairs = {{0, 5}}\n", "t.lua: pairs: port 5 is not configured" },
		{ "dpdk = { ports = {'a','b'} }\npairs = {{0, 0}}\n", "t.lua:2: pairs[1]: port 0 or 0" },
		{ "dpdk = { ports = {'a','b'} }\npairs = {{0}}\n", "t.lua:2: pairs[1]: a pair is" },
		{ "dpdk = { ports = {'a','b'} }\nflows = { max = 1.5 }\n", "t.lua:2: flows.max: 1.5 is not a whole" },
		{ "dpdk = { ports = {'a','b'} }\nstreams = { midstream = 1 }\n", "t.lua:2: streams.midstream: expected true" },
		{ "dpdk = { ports = {'a','b'} }\ndashboard = { listen = 'localhost:80' }\n", "t.lua:2: dashboard.listen:" },
		{ "dpdk = { ports = {'a','b'} }\ndashboard = { listen = '127.0.0.1:0' }\n", "t.lua:2: dashboard.listen:" },
		{ "dpdk = { ports = {'a','b'} }\ndashboard = { token = 'short' }\n", "t.lua:2: dashboard.token: shorter" },
		{ "dpdk = { ports = {'a','b'} }\nrss_key = 'abc'\n", "t.lua:2: rss_key: expected an even" },
		{ "dpdk = { ports = {'a','b'} }\nrss_key = 'zz'\n", "t.lua:2: rss_key: 'zz' is not" },
		{ "dpdk = { ports = {'a','b'} }\nscripts = {'/nonexistent/x.lua'}\n", "t.lua:2: scripts[1]: /nonexistent/x.lua:" },
		{ "dpdk = { ports = {'a','b'} }\nfirewall = {{action = 'drop'}}\n", "t.lua:2: firewall[1].port: missing" },
		{ "dpdk = { ports = {'a','b'} }\nfirewall = {{port = 80, action = 'reject'}}\n", "t.lua:2: firewall[1].action:" },
		{ "dpdk = { ports = {'a','b'} }\npairs = {a = 1}\n", "t.lua:2: pairs: expected a list" },
		{ "dpdk = {\n ports = {'a','b'} \n", "t.lua:3:" },            /* syntax error: Lua's own file:line */
		{ "dpdk = { ports = {'a','b'} }\nerror('boom')\n", "t.lua:2: boom" },
		{ "io.open('/etc/passwd')\n", "t.lua:1:" },                   /* no io in the sandbox */
		{ "dpdk = 'x'\n", "t.lua:1: dpdk: expected a table" },
		{ "dpdk = { ports = {'a','b'} }\nfragments = 'reassemble'\n", "t.lua:2: fragments: \"reassemble\" is not one" },
		{ "dpdk = { ports = {'a','b'} }\nfragments = false\n", "t.lua:2: fragments: expected a string" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(load(bad[i].text), -1);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0) {
			fprintf(stderr, "case %zu: got '%s', want prefix '%s'\n", i, err, bad[i].want);
			CHECK(0);
		}
	}
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

int main(void)
{
	test_full();
	test_defaults();
	test_errors();
	test_file_and_listen();
	return UNIT_DONE();
}
