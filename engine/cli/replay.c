/* replay.c — `weir replay`: captures through the full stack, with a flow log, a counter summary and stream dumps. */
#define _GNU_SOURCE /* CPU_SET for --serve-cpus */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli/replay_serve.h"
#include "core/settings.h"
#include "io/pcap_reader.h"
#include "log/eve.h"
#include "json/json.h"
#include "log/stats_json.h"
#include "lua/host.h"
#include "web/web.h"
#include "weir.h"

struct replay_file {
	const char *name;
	unsigned long long packets;
	char error[512];
};

struct replay {
	struct weir_config cfg;
	const char *eve_path, *stats_path, *streams_dir;
	int quiet;
	int dpdk, pace; /* --dpdk: through DPDK's net_pcap PMD and the live path; --pace: at capture speed */
	FILE *eve;
	struct replay_file *files;
	int nfiles;
	int write_failed;
	const char *serve, *serve_token; /* --serve: the dashboard over this replay */
	unsigned pps;
	cpu_set_t serve_cpus; /* --serve-cpus: the dashboard's threads; empty: the caller's CPUs */
	struct weir_replay_serve *srv;
	const char *scripts[WEIR_LUA_MAX_SCRIPTS]; /* -s: Lua scripts, run by the Lua host */
	unsigned nscripts;
	int lua_jit; /* --lua-jit: the scripts' functions may be compiled (the loop budget no longer holds) */
	struct weir_lua *lua;
};

static void replay_usage(FILE *out)
{
	fputs("usage: weir replay [options] FILE...\n"
	      "  --eve FILE|-          write one EVE JSON flow record per flow\n"
	      "  --stats-json FILE|-   write a JSON summary of the counters at the end\n"
	      "  --write-streams DIR   write each flow's reassembled bytes to DIR/<flow_id>.c2s and .s2c\n"
	      "  --quiet               no progress display\n"
	      "  -s, --script FILE.lua run a Lua script (repeatable); its alerts go to --eve, its counters to --stats-json\n"
	      "  --lua-jit             let the scripts' own functions be JIT-compiled: faster, but an endless\n"
	      "                        loop in a compiled handler is no longer stopped (trusted scripts only)\n"
	      "  --serve ADDR:PORT     show the replay on the dashboard; it stays up until Ctrl-C\n"
	      "  --serve-token TOKEN   bearer token for --serve: 16 to 200 of A-Z a-z 0-9 -._~+/= (or\n"
	      "                        $WEIR_DASHBOARD_TOKEN; needed off loopback)\n"
	      "  --serve-cpus LIST     run the dashboard's threads on these CPUs (e.g. 0 or 0,2-3), off the\n"
	      "                        replay's: pin the replay with taskset, the dashboard with this\n"
	      "  --pps N               at most N packets per second (to watch a replay live)\n"
	      "  --dpdk                through DPDK's net_pcap PMD and the live worker path (the stats are weir run's)\n"
	      "  --pace                with --dpdk: hand packets over at capture speed\n"
	      "  --no-midstream        flows whose handshake was not seen are orphans\n"
	      "  --overlap first|last  which copy of overlapping bytes wins (default first)\n"
	      "  --buffer BYTES        most a side's reassembly buffer grows to (streams.buffer_per_side)\n"
	      "  --memcap BYTES        stream-buffer bytes of the worker (streams.memcap; 0: flows x 32 KiB)\n"
	      "  --max-flows N         flow table capacity (flows.max)\n"
	      "  --idle-timeout SEC    idle timeout of established flows (flows.idle_timeout)\n"
	      "exit: 0 ok, 64 usage, 65 damaged capture (what preceded the damage is reported), 66 unreadable file\n"
	      "defaults: weir check --defaults\n",
	      out);
}

enum replay_opt { O_EVE = 1, O_STATS, O_STREAMS, O_QUIET, O_NOMID, O_OVERLAP, O_BUFFER, O_MEMCAP, O_MAXFLOWS, O_IDLE, O_HELP, O_SERVE, O_SERVE_TOKEN, O_PPS, O_DPDK, O_PACE, O_SERVE_CPUS, O_LUA_JIT };

/* Parses an unsigned decimal option value within [lo, hi]; -1 on error. */
static long long parse_num(const char *opt, const char *s, long long lo, long long hi)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "weir replay: %s: '%s' is not a number in [%lld, %lld]\n", opt, s, lo, hi);
		return -1;
	}
	return v;
}

/* Sets the engine setting behind option c (--buffer ...) from s, within the setting's range. */
static int parse_setting(struct weir_config *cfg, int c, const char *s)
{
	static const struct {
		int opt;
		const char *name, *setting;
	} map[] = {
		{ O_BUFFER, "--buffer", "streams.buffer_per_side" }, { O_MEMCAP, "--memcap", "streams.memcap" },
		{ O_MAXFLOWS, "--max-flows", "flows.max" },          { O_IDLE, "--idle-timeout", "flows.idle_timeout" },
	};
	size_t i = 0;
	while (map[i].opt != c)
		i++;
	const struct weir_setting *st = weir_engine_setting(map[i].setting);
	char *end;
	errno = 0;
	const double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= st->lo && v <= st->hi) ||
	    (st->type == WEIR_SET_UINT && v != (double)(uint64_t)v)) {
		fprintf(stderr, "weir replay: %s: '%s' is not a %s in [%.15g, %.15g]\n", map[i].name, s,
		        st->type == WEIR_SET_UINT ? "whole number" : "number", st->lo, st->hi);
		return -1;
	}
	weir_setting_store(st, cfg, v);
	return 0;
}

/* Parses a CPU list ("0", "0,2-3") into set; -1 after printing why. */
static int parse_cpus(const char *s, cpu_set_t *set)
{
	const char *p = s;
	CPU_ZERO(set);
	while (*p) {
		char *end;
		errno = 0;
		const long lo = strtol(p, &end, 10);
		long hi = lo;
		if (end != p && *end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
		}
		if (errno || end == p || lo < 0 || hi < lo || hi >= CPU_SETSIZE || (*end && *end != ',') ||
		    (*end == ',' && !end[1]))
			break;
		for (long c = lo; c <= hi; c++)
			CPU_SET((int)c, set);
		p = *end ? end + 1 : end;
	}
	if (*p || !CPU_COUNT(set)) {
		fprintf(stderr, "weir replay: --serve-cpus: '%s' is not a CPU list like 0 or 0,2-3\n", s);
		return -1;
	}
	return 0;
}

static int token_bad(const char *what, const char *token)
{
	char why[128];
	if (weir_web_token_check(token, why, sizeof(why)) == 0)
		return 0;
	fprintf(stderr, "weir replay: %s: %s\n", what, why);
	return 1;
}

static int parse_args(struct replay *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "eve", required_argument, NULL, O_EVE },
		{ "stats-json", required_argument, NULL, O_STATS },
		{ "write-streams", required_argument, NULL, O_STREAMS },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "no-midstream", no_argument, NULL, O_NOMID },
		{ "overlap", required_argument, NULL, O_OVERLAP },
		{ "buffer", required_argument, NULL, O_BUFFER },
		{ "memcap", required_argument, NULL, O_MEMCAP },
		{ "max-flows", required_argument, NULL, O_MAXFLOWS },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "help", no_argument, NULL, O_HELP },
		{ "serve", required_argument, NULL, O_SERVE },
		{ "serve-token", required_argument, NULL, O_SERVE_TOKEN },
		{ "pps", required_argument, NULL, O_PPS },
		{ "serve-cpus", required_argument, NULL, O_SERVE_CPUS },
		{ "dpdk", no_argument, NULL, O_DPDK },
		{ "via-dpdk", no_argument, NULL, O_DPDK },
		{ "pace", no_argument, NULL, O_PACE },
		{ "script", required_argument, NULL, 's' },
		{ "lua-jit", no_argument, NULL, O_LUA_JIT },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qs:", opts, NULL)) != -1) {
		switch (c) {
		case O_EVE: r->eve_path = optarg; break;
		case 's':
			if (r->nscripts == WEIR_LUA_MAX_SCRIPTS) {
				fprintf(stderr, "weir replay: at most %d scripts\n", WEIR_LUA_MAX_SCRIPTS);
				return WEIR_EX_USAGE;
			}
			r->scripts[r->nscripts++] = optarg;
			break;
		case O_LUA_JIT: r->lua_jit = 1; break;
		case O_STATS: r->stats_path = optarg; break;
		case O_STREAMS: r->streams_dir = optarg; break;
		case 'q':
		case O_QUIET: r->quiet = 1; break;
		case O_NOMID: r->cfg.midstream = 0; break;
		case O_OVERLAP:
			if (!strcmp(optarg, "first"))
				r->cfg.overlap = WEIR_OVERLAP_FIRST;
			else if (!strcmp(optarg, "last"))
				r->cfg.overlap = WEIR_OVERLAP_LAST;
			else {
				fprintf(stderr, "weir replay: --overlap: '%s' is not first or last\n", optarg);
				return WEIR_EX_USAGE;
			}
			break;
		case O_BUFFER:
		case O_MEMCAP:
		case O_MAXFLOWS:
		case O_IDLE:
			if (parse_setting(&r->cfg, c, optarg) != 0)
				return WEIR_EX_USAGE;
			break;
		case O_DPDK: r->dpdk = 1; break;
		case O_PACE: r->pace = 1; break;
		case O_SERVE: r->serve = optarg; break;
		case O_SERVE_TOKEN: r->serve_token = optarg; break;
		case O_SERVE_CPUS:
			if (parse_cpus(optarg, &r->serve_cpus) != 0)
				return WEIR_EX_USAGE;
			break;
		case O_PPS:
			if ((v = parse_num("--pps", optarg, 1, 100000000)) < 0)
				return WEIR_EX_USAGE;
			r->pps = (unsigned)v;
			break;
		case O_HELP: replay_usage(stdout); return -1;
		default: replay_usage(stderr); return WEIR_EX_USAGE;
		}
	}
	/* --serve's token: the option, else the environment; both checked as the config's is. */
	const char *env = getenv("WEIR_DASHBOARD_TOKEN");
	if (r->serve && r->serve_token && token_bad("--serve-token", r->serve_token))
		return WEIR_EX_USAGE;
	if (r->serve && !r->serve_token && env && *env) {
		if (token_bad("$WEIR_DASHBOARD_TOKEN", env))
			return WEIR_EX_CONFIG;
		r->serve_token = env;
	}
	if (optind >= argc) {
		fputs("weir replay: no capture file given\n", stderr);
		replay_usage(stderr);
		return WEIR_EX_USAGE;
	}
	return 0;
}

/* ---- outputs ------------------------------------------------------------------------------ */

static void eve_sink(const struct weir_flow_record *rec, void *user)
{
	struct replay *r = user;
	char line[WEIR_EVE_LINE_MAX];
	const int n = weir_eve_flow(line, sizeof(line), rec);
	if (n > 0 && fwrite(line, 1, (size_t)n, r->eve) != (size_t)n)
		r->write_failed = 1;
}

static void stream_path(char *path, size_t size, const struct replay *r, struct weir_flow *f, int side)
{
	snprintf(path, size, "%s/%" PRIu64 ".%s", r->streams_dir, weir_flow_id(f),
	         side == WEIR_SIDE_CLIENT ? "c2s" : "s2c");
}

/* NEW_DATA handler of --write-streams: writes the bytes the side's stream just gained at their
 * stream offsets, so that bytes of a packet dropped inline (its update undone) are overwritten by
 * what the receiver gets instead. */
static void stream_writer(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t added, void *user)
{
	struct replay *r = user;
	struct weir_buf_info bi;
	(void)s;
	(void)ev;
	if (weir_flow_buf_info(f, side, &bi) != 0 || !bi.buffering)
		return;
	char path[4096];
	stream_path(path, sizeof(path), r, f, side);
	const int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		r->write_failed = 1;
		return;
	}
	static const uint8_t zeros[4096];
	for (uint64_t off = bi.next - added; off < bi.next;) {
		const uint8_t *p;
		ssize_t n = weir_flow_view(f, side, off, &p);
		if (n == -ENODATA) { /* older than the ring holds (a huge gap): zeros keep offsets true */
			p = zeros;
			n = (ssize_t)(bi.base - off < sizeof(zeros) ? bi.base - off : sizeof(zeros));
		}
		if (n <= 0 || pwrite(fd, p, (size_t)n, (off_t)off) != n) {
			r->write_failed = 1;
			break;
		}
		off += (uint64_t)n;
	}
	close(fd);
}

/* CONN_END handler of --write-streams: a file longer than its stream held bytes of a dropped
 * packet that were never delivered again. */
static void stream_trim(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg, void *user)
{
	(void)s;
	(void)side;
	(void)ev;
	(void)arg;
	for (int d = WEIR_SIDE_CLIENT; d <= WEIR_SIDE_SERVER; d++) {
		char path[4096];
		struct weir_buf_info bi;
		struct stat sb;
		stream_path(path, sizeof(path), user, f, d);
		if (weir_flow_buf_info(f, d, &bi) == 0 && stat(path, &sb) == 0 && (uint64_t)sb.st_size > bi.next &&
		    truncate(path, (off_t)bi.next) != 0)
			((struct replay *)user)->write_failed = 1;
	}
}

static void write_stats(const struct replay *r, const struct weir_stats *st, FILE *out)
{
	fputc('{', out);
	weir_stats_json_members(out, st);
	fputs(",\"files\":[", out);
	for (int i = 0; i < r->nfiles; i++) {
		const struct replay_file *f = &r->files[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		weir_json_fstr(out, f->name);
		fprintf(out, ",\"packets\":%llu,\"error\":", f->packets);
		if (f->error[0])
			weir_json_fstr(out, f->error);
		else
			fputs("null", out);
		fputc('}', out);
	}
	fputs("]", out);
	if (r->lua) { /* -s: "scripts" (per handler: events, errors, ns per event) and "counters" */
		const int n = weir_lua_stats_json(r->lua, NULL, 0);
		char *buf = n > 0 ? malloc((size_t)n + 1) : NULL;
		if (buf && weir_lua_stats_json(r->lua, buf, (size_t)n + 1) == n)
			fprintf(out, ",%s", buf);
		free(buf);
	}
	fputs("}\n", out);
}

/* ---- the replay loop ---------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(const struct weir_pcap_reader *rd, const char *name, double t0, int final)
{
	const double dt = now_s() - t0;
	const unsigned long long n = weir_pcap_count(rd);
	fprintf(stderr, "\r%s: %llu packets  %3.0f%%  %.0f kpps%s", name, n,
	        final ? 100.0 : 100.0 * weir_pcap_progress(rd), dt > 0 ? n / dt / 1e3 : 0.0, final ? "\n" : "");
}

/* Processes the pending burst: through the Lua host when scripts are loaded. */
static void run_burst(struct weir_worker *w, struct weir_lua *lua)
{
	if (lua)
		weir_lua_run(lua);
	else
		weir_worker_run(w);
}

/* -s: a script's alert becomes an EVE alert line. */
static void alert_sink(const struct weir_lua_alert *a, void *user)
{
	struct replay *r = user;
	char line[WEIR_EVE_LINE_MAX];
	const int n = weir_lua_alert_json(line, sizeof(line), a);
	if (n > 0 && (size_t)n < sizeof(line) && fwrite(line, 1, (size_t)n, r->eve) != (size_t)n)
		r->write_failed = 1;
}

/* Runs one file through the worker. Returns 0, or an exit code for this file's failure. */
static int replay_file(struct weir_worker *w, struct weir_lua *lua, struct replay_file *rf, int show,
                       struct weir_replay_serve *srv)
{
	int code = 0;
	struct weir_pcap_reader *rd = weir_pcap_open(rf->name, rf->error, sizeof(rf->error), &code);
	if (!rd) {
		fprintf(stderr, "weir replay: %s\n", rf->error);
		return code;
	}
	struct weir_rx_pkt pkt;
	const double t0 = now_s();
	double next_show = t0 + 0.5;
	int n;
	while ((n = weir_pcap_next(rd, &pkt, 1, rf->error, sizeof(rf->error))) > 0) {
		weir_worker_rx(w, &pkt, (unsigned)n);
		run_burst(w, lua);
		if (srv)
			weir_replay_serve_packet(srv);
		if (show && (weir_pcap_count(rd) & 0x3fff) == 0 && now_s() >= next_show) {
			progress(rd, rf->name, t0, 0);
			next_show = now_s() + 0.5;
		}
	}
	rf->packets = weir_pcap_count(rd);
	if (show)
		progress(rd, rf->name, t0, 1);
	if (n < 0) {
		fprintf(stderr, "weir replay: %s\n", rf->error);
		code = WEIR_EX_DATAERR;
	}
	weir_pcap_close(rd);
	return code;
}

static FILE *open_out(const char *path)
{
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "weir replay: %s: %s\n", path, strerror(errno));
	return f;
}

static int setup_outputs(struct replay *r, struct weir_worker *w)
{
	if (r->eve_path) {
		if (!(r->eve = open_out(r->eve_path)))
			return WEIR_EX_CANTCREAT;
		weir_worker_set_flow_sink(w, eve_sink, r);
	}
	if (r->streams_dir) {
		if (mkdir(r->streams_dir, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "weir replay: %s: %s\n", r->streams_dir, strerror(errno));
			return WEIR_EX_CANTCREAT;
		}
		char err[256];
		struct weir_msock *s = weir_msock_create(w, NULL, err, sizeof(err));
		if (!s || weir_msock_register(s, WEIR_EV_NEW_DATA, WEIR_HOOK_POST_RCV, stream_writer, r) != 0 ||
		    weir_msock_register(s, WEIR_EV_CONN_END, WEIR_HOOK_POST_RCV, stream_trim, r) != 0) {
			fprintf(stderr, "weir replay: cannot watch streams: %s\n", err);
			return WEIR_EX_SOFTWARE;
		}
	}
	return 0;
}

int weir_cmd_replay(int argc, char **argv)
{
	struct replay r;
	memset(&r, 0, sizeof(r));
	weir_config_defaults(&r.cfg);
	int rc = parse_args(&r, argc, argv);
	if (rc)
		return rc < 0 ? WEIR_EX_OK : rc;
	if (r.dpdk)
		return weir_replay_dpdk(&r.cfg, argv + optind, argc - optind, r.eve_path, r.stats_path, r.pace);
	struct weir_worker *w = weir_worker_create(&r.cfg, 0);
	if (!w) {
		fprintf(stderr, "weir replay: cannot create the worker: %s\n", strerror(errno));
		return WEIR_EX_CONFIG;
	}
	r.nfiles = argc - optind;
	r.files = calloc((size_t)r.nfiles, sizeof(*r.files));
	if (!r.files) {
		weir_worker_free(w);
		return WEIR_EX_OSERR;
	}
	for (int i = 0; i < r.nfiles; i++)
		r.files[i].name = argv[optind + i];
	rc = setup_outputs(&r, w);
	if (!rc && r.serve) {
		if (!(r.srv = weir_replay_serve_start(w, r.serve, r.serve_token, r.pps,
		                                      CPU_COUNT(&r.serve_cpus) ? &r.serve_cpus : NULL)))
			rc = WEIR_EX_CONFIG;
	}
	if (!rc && r.nscripts) {
		char err[1024];
		struct weir_lua_limits lim;
		weir_lua_limits_defaults(&lim);
		lim.jit = (uint32_t)r.lua_jit;
		if (!(r.lua = weir_lua_create_with(w, r.scripts, r.nscripts, &lim, err, sizeof(err)))) {
			fprintf(stderr, "weir replay: %s\n", err);
			rc = WEIR_EX_DATAERR;
		} else if (r.eve) {
			weir_lua_set_alert_sink(r.lua, alert_sink, &r);
		}
	}
	const int setup_ok = rc == 0;
	const int show = !r.quiet && isatty(STDERR_FILENO);
	/* A bad file does not stop the others: its error is reported and sets the exit code. */
	for (int i = 0; i < r.nfiles && setup_ok; i++) {
		const int frc = replay_file(w, r.lua, &r.files[i], show, r.srv);
		if (frc && !rc)
			rc = frc;
	}
	/* Every open flow is recorded (reason shutdown), also after a damaged file. */
	weir_worker_shutdown(w);
	run_burst(w, r.lua);
	if (r.stats_path) {
		FILE *out = open_out(r.stats_path);
		if (out) {
			write_stats(&r, weir_worker_stats(w), out);
			if (out != stdout)
				fclose(out);
		} else if (!rc) {
			rc = WEIR_EX_CANTCREAT;
		}
	}
	if (r.eve && r.eve != stdout)
		fclose(r.eve);
	else if (r.eve)
		fflush(r.eve);
	if (r.write_failed) {
		fputs("weir replay: writing an output failed\n", stderr);
		rc = rc ? rc : WEIR_EX_CANTCREAT;
	}
	weir_replay_serve_finish(r.srv); /* --serve: until Ctrl-C */
	weir_lua_free(r.lua);
	weir_worker_free(w);
	free(r.files);
	return rc;
}
