/* replay.c — `weir replay`: captures through the station, with a flow log, a counter summary and
 * stream dumps. */
#define _GNU_SOURCE /* cpu_set_t for --serve-cpus */
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli/opts.h"
#include "station/station.h"
#include "web/web.h"

struct replay {
	struct weir_run_config cfg; /* the options land here: the one description of a run */
	struct weir_station_params p;
	int quiet, dpdk, pace;
	cpu_set_t serve_cpus; /* --serve-cpus; empty: the caller's CPUs */
};

static int set_script(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen)
{
	struct replay *r = ctx;
	if (r->cfg.n_scripts == WEIR_CFG_MAX_SCRIPTS) {
		snprintf(err, errlen, "at most %d scripts", WEIR_CFG_MAX_SCRIPTS);
		return WEIR_EX_USAGE;
	}
	struct weir_cli_opt row = *o;
	row.off = offsetof(struct replay, cfg.scripts) + r->cfg.n_scripts * (size_t)WEIR_CFG_STR;
	const int rc = weir_cli_set_cfgstr(ctx, &row, arg, err, errlen);
	if (rc == 0)
		r->cfg.script_trusted[r->cfg.n_scripts++] = o->value != 0; /* --trusted-script */
	return rc;
}

#define RUN(field) offsetof(struct replay, cfg.field)
static const struct weir_cli_opt replay_opts[] = {
    {"eve", 0, "FILE|-", "write one EVE JSON flow record per flow", weir_cli_set_cfgstr,
     RUN(eve_path), 0, 0},
    {"stats-json", 0, "FILE|-", "write a JSON summary of the counters at the end",
     weir_cli_set_cfgstr, RUN(stats_path), 0, 0},
    {"write-streams", 0, "DIR", "write each flow's reassembled bytes to DIR/<flow_id>.c2s and .s2c",
     weir_cli_set_ptr, offsetof(struct replay, p.streams_dir), 0, 0},
    {"quiet", 'q', NULL, "no progress display", weir_cli_set_flag, offsetof(struct replay, quiet),
     0, 0},
    {"script", 's', "FILE.lua",
     "run a Lua script (repeatable); its alerts go to --eve, its counters to --stats-json",
     set_script, 0, 0, 0},
    {"trusted-script", 0, "FILE.lua",
     "run a Lua script outside the sandbox (repeatable): ffi, io, os and debug are\nreachable; "
     "for scripts you vouch for (lua/README.md)",
     set_script, 0, 0, 1},
    {"lua-budget-ms", 0, "MS", "stop a script's handler call using more than MS of CPU time (default 100)",
     weir_cli_set_count, RUN(lua_budget_ms), 0, 60000},
    {"lua-memory-mb", 0, "MB", "each Lua state's heap limit (default 256)", weir_cli_set_count,
     RUN(lua_memory_mb), 0, 1048576},
    {"serve", 0, "ADDR:PORT", "show the replay on the dashboard; it stays up until Ctrl-C",
     weir_cli_set_cfgstr, RUN(dashboard_listen), 0, 0},
    {"serve-token", 0, "TOKEN",
     "bearer token for --serve: 16 to 200 of A-Z a-z 0-9 -._~+/= (or\n$WEIR_DASHBOARD_TOKEN; "
     "needed off loopback)",
     weir_cli_set_cfgstr, RUN(dashboard_token), 0, 0},
    {"serve-cpus", 0, "LIST",
     "run the dashboard's threads on these CPUs (e.g. 0 or 0,2-3), off the\nreplay's: pin the "
     "replay with "
     "taskset, the dashboard with this",
     weir_cli_set_cpus, offsetof(struct replay, serve_cpus), 0, 0},
    {"pps", 0, "N", "at most N packets per second (to watch a replay live)", weir_cli_set_count,
     offsetof(struct replay, p.pps), 0, 100000000},
    {"dpdk", 0, NULL,
     "through DPDK's net_pcap PMD and the live worker path (the stats are weir run's)",
     weir_cli_set_flag, offsetof(struct replay, dpdk), 0, 0},
    {"pace", 0, NULL, "with --dpdk: hand packets over at capture speed", weir_cli_set_flag,
     offsetof(struct replay, pace), 0, 0},
    {"no-midstream", 0, NULL, "flows whose handshake was not seen are orphans",
     weir_cli_set_setting, RUN(engine), "streams.midstream", 0},
    {"no-buffering", 0, NULL, "tracking only: no flow buffers its bytes (streams.buffering off)",
     weir_cli_set_setting, RUN(engine), "streams.buffering", 0},
    {"overlap", 0, "first|last", "which copy of overlapping bytes wins (default first)",
     weir_cli_set_setting, RUN(engine), "streams.overlap", 0},
    {"defrag-overlap", 0, "first|last",
     "which copy of overlapping IP fragment bytes wins (defrag.overlap; default first)",
     weir_cli_set_setting, RUN(engine), "defrag.overlap", 0},
    {"checksums", 0, "auto|verify|off",
     "verify IPv4 header and TCP checksums (default auto: not in captures,\nwhose offloaded ones "
     "are wrong); a wrong one: counted, not tracked",
     weir_cli_set_setting, RUN(engine), "checksums", 0},
    {"buffer", 0, "BYTES", "most a side's reassembly buffer grows to (streams.buffer_per_side)",
     weir_cli_set_setting, RUN(engine), "streams.buffer_per_side", 0},
    {"memcap", 0, "BYTES", "stream-buffer bytes of the worker (streams.memcap; 0: flows x 32 KiB)",
     weir_cli_set_setting, RUN(engine), "streams.memcap", 0},
    {"max-flows", 0, "N", "flow table capacity (flows.max)", weir_cli_set_setting, RUN(engine),
     "flows.max", 0},
    {"idle-timeout", 0, "SEC", "idle timeout of established flows (flows.idle_timeout)",
     weir_cli_set_setting, RUN(engine), "flows.idle_timeout", 0},
    {"flow-policy", 0, "evict|refuse",
     "a full flow table evicts the idlest flow or refuses the new one (flows.policy)",
     weir_cli_set_setting, RUN(engine), "flows.policy", 0},
    {"defrag-memcap", 0, "BYTES", "bytes of incomplete IP datagrams held (defrag.memcap)",
     weir_cli_set_setting, RUN(engine), "defrag.memcap", 0},
    {"defrag-timeout", 0, "SEC", "an incomplete IP datagram is given up after (defrag.timeout)",
     weir_cli_set_setting, RUN(engine), "defrag.timeout", 0},
    {"defrag-max-fragments", 0, "N", "most fragments one datagram may take (defrag.max_fragments)",
     weir_cli_set_setting, RUN(engine), "defrag.max_fragments", 0},
};

const struct weir_cli_cmd weir_replay_cmd = {
    .prog = "weir replay",
    .usage = "weir replay [options] FILE...",
    .about = "send capture files (pcap, pcapng) through the stack, in order, as one stream",
    .tail = "defaults: weir check --defaults\n",
    .opts = replay_opts,
    .n = sizeof(replay_opts) / sizeof(replay_opts[0]),
};

/* --serve's token: the option, else the environment; both checked as the config's is. */
static int serve_token(struct weir_run_config *cfg)
{
	const char *env = getenv("WEIR_DASHBOARD_TOKEN");
	const int from_env = !cfg->dashboard_token[0] && env && *env;
	char why[128];
	if (!cfg->dashboard_listen[0] || (!cfg->dashboard_token[0] && !from_env))
		return 0;
	if (from_env)
		snprintf(cfg->dashboard_token, sizeof(cfg->dashboard_token), "%.*s",
		         WEIR_CFG_STR - 1, env);
	if (weir_token_check(cfg->dashboard_token, why, sizeof(why)) == 0)
		return 0;
	fprintf(stderr, "weir replay: %s: %s\n",
	        from_env ? "$WEIR_DASHBOARD_TOKEN" : "--serve-token", why);
	return from_env ? WEIR_EX_CONFIG : WEIR_EX_USAGE;
}

int weir_cmd_replay(int argc, char **argv)
{
	static struct replay r; /* large (the run config's fixed-size strings) */
	memset(&r, 0, sizeof(r));
	weir_run_config_defaults(&r.cfg);
	int first, rc = weir_cli_parse(&weir_replay_cmd, &r, argc, argv, &first);
	if (rc)
		return rc < 0 ? WEIR_EX_OK : rc;
	if ((rc = serve_token(&r.cfg)))
		return rc;
	if (first >= argc) {
		fputs("weir replay: no capture file given\n", stderr);
		weir_cli_usage(stderr, &weir_replay_cmd);
		return WEIR_EX_USAGE;
	}
	r.p.cfg = &r.cfg;
	r.p.input = r.dpdk ? WEIR_STATION_PCAP_DPDK : WEIR_STATION_PCAP;
	r.p.prog = "weir replay";
	r.p.files = argv + first;
	r.p.n_files = (unsigned)(argc - first);
	r.p.pace = r.pace;
	r.p.progress = !r.quiet && isatty(STDERR_FILENO);
	r.p.serve_cpus = CPU_COUNT(&r.serve_cpus) ? &r.serve_cpus : NULL;
	struct weir_station *st = weir_station_create(&r.p, &rc);
	if (st)
		rc = weir_station_run(st);
	weir_station_free(st);
	return rc;
}
