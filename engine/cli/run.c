/* run.c — `weir run -c CONFIG`: live traffic on DPDK ports with the flow log, signals and the exit summary. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"
#include "dpdk/dpdk.h"
#include "log/eve.h"
#include "stats/statpub.h"
#include "web/web.h"

/* The stop flag must be reachable from a signal handler, which takes no argument: the one
 * file-level mutable this command has. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	if (stop_requested)
		_exit(128 + sig); /* second signal: the user insists */
	stop_requested = 1;
}

struct run_out {
	FILE *eve;
	int write_failed;
	const struct weir_run_config *cfg;
	const char *prog;
	struct weir_statpub *pubs[WEIR_CFG_MAX_WORKERS]; /* the dashboard's slots, one per worker */
	struct weir_web *web;
};

static void eve_sink(const struct weir_flow_record *rec, void *user)
{
	struct run_out *o = user;
	char line[WEIR_EVE_LINE_MAX];
	const int n = weir_eve_flow(line, sizeof(line), rec);
	/* One fwrite per line: stdio locks the FILE per call, so workers' lines never interleave. */
	if (n > 0 && fwrite(line, 1, (size_t)n, o->eve) != (size_t)n)
		o->write_failed = 1;
}

static int setup_worker(struct weir_worker *w, unsigned id, void *user)
{
	struct run_out *o = user;
	(void)id;
	if (o->eve)
		weir_worker_set_flow_sink(w, eve_sink, o);
	return 0;
}

/* After EAL: the dashboard, on the CPUs the workers leave free. */
static int start_dashboard(const cpu_set_t *control_cpus, void *user)
{
	struct run_out *o = user;
	const struct weir_run_config *cfg = o->cfg;
	char err[512];
	const struct weir_web_config wc = {
		.listen = cfg->dashboard_listen,
		.token = cfg->dashboard_token[0] ? cfg->dashboard_token : NULL,
		.mode = "run",
		.cpus = control_cpus,
	};
	if (!(o->web = weir_web_start(&wc, o->pubs, cfg->workers, err, sizeof(err)))) {
		fprintf(stderr, "%s: %s\n", o->prog, err);
		return -1;
	}
	weir_web_set_state(o->web, "running");
	fprintf(stderr, "%s: dashboard on http://%s/\n", o->prog, cfg->dashboard_listen);
	return 0;
}

static void free_pubs(struct run_out *o)
{
	for (unsigned w = 0; w < WEIR_CFG_MAX_WORKERS; w++) {
		weir_statpub_free(o->pubs[w]);
		o->pubs[w] = NULL;
	}
}

static FILE *open_out(const char *path)
{
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "weir run: %s: %s\n", path, strerror(errno));
	return f;
}

/* Runs a loaded config on DPDK and writes the outputs; shared with `weir replay --dpdk`. */
int weir_run_config_exec(const struct weir_run_config *cfg, unsigned flags, const char *prog)
{
	struct run_out o = { .cfg = cfg, .prog = prog };
	if (cfg->n_scripts && !weir_dp_has_lua()) {
		fprintf(stderr, "%s: scripts: this build has no Lua host (lua/), so scripts cannot run\n", prog);
		return WEIR_EX_CONFIG;
	}
	if (cfg->dashboard_listen[0]) {
		for (unsigned w = 0; w < cfg->workers; w++) {
			if (!(o.pubs[w] = weir_statpub_create(w, 0))) {
				fprintf(stderr, "%s: dashboard: %s\n", prog, strerror(errno));
				free_pubs(&o);
				return WEIR_EX_OSERR;
			}
		}
	}
	if (cfg->eve_path[0] && !(o.eve = open_out(cfg->eve_path))) {
		free_pubs(&o);
		return WEIR_EX_CANTCREAT;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	static struct weir_dp_result res; /* large; filled once */
	const struct weir_dp_opts opts = {
		.flags = flags, .stop = &stop_requested, .setup = setup_worker, .user = &o, .prog = prog,
		.started = cfg->dashboard_listen[0] ? start_dashboard : NULL,
		.pubs = cfg->dashboard_listen[0] ? o.pubs : NULL,
	};
	int rc = weir_dp_run(cfg, &opts, &res);
	if (o.web) { /* the workers published their final counters: one last sample, then stop */
		weir_web_set_state(o.web, rc ? "failed" : "done");
		weir_web_refresh(o.web);
		weir_web_stop(o.web);
		o.web = NULL;
	}
	free_pubs(&o);
	if (o.eve && o.eve != stdout)
		fclose(o.eve);
	else if (o.eve)
		fflush(o.eve);
	if (rc)
		return rc;
	for (unsigned p = 0; p < res.n_ports; p++) {
		const struct weir_dp_port_stats *s = &res.port[p];
		fprintf(stderr, "%s: port %u %s: rx %llu tx %llu verdict-drops %llu passive %llu other drops %llu\n", prog,
		        p, res.port_name[p], (unsigned long long)s->rx, (unsigned long long)s->tx,
		        (unsigned long long)s->verdict_drops, (unsigned long long)s->passive,
		        (unsigned long long)weir_dp_port_drops(s));
	}
	if (cfg->stats_path[0]) {
		FILE *out = open_out(cfg->stats_path);
		if (!out)
			return WEIR_EX_CANTCREAT;
		weir_dp_result_json(&res, cfg, out);
		if (out != stdout)
			fclose(out);
	}
	if (o.write_failed) {
		fprintf(stderr, "%s: writing the flow log failed\n", prog);
		return WEIR_EX_CANTCREAT;
	}
	return WEIR_EX_OK;
}

int weir_cmd_run(int argc, char **argv)
{
	const char *path = NULL;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "c:h")) != -1) {
		if (c == 'c')
			path = optarg;
		else {
			fputs("usage: weir run -c CONFIG.lua   (see packaging/weir.lua; SIGINT/SIGTERM stop it cleanly)\n",
			      c == 'h' ? stdout : stderr);
			return c == 'h' ? WEIR_EX_OK : WEIR_EX_USAGE;
		}
	}
	if (!path || optind != argc) {
		fputs("usage: weir run -c CONFIG.lua\n", stderr);
		return WEIR_EX_USAGE;
	}
	static struct weir_run_config cfg; /* large; read-only after load */
	char err[1024];
	if (weir_run_config_load(&cfg, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir run: %s\n", err);
		return WEIR_EX_CONFIG;
	}
	return weir_run_config_exec(&cfg, 0, "weir run");
}

int weir_replay_dpdk(const struct weir_config *engine, char **files, int n, const char *eve, const char *stats, int pace)
{
	static struct weir_run_config cfg;
	weir_run_config_defaults(&cfg);
	if (n > WEIR_CFG_MAX_PORTS) {
		fprintf(stderr, "weir replay --dpdk: at most %d files\n", WEIR_CFG_MAX_PORTS);
		return WEIR_EX_USAGE;
	}
	cfg.engine = *engine;
	cfg.mode = WEIR_MODE_PASSIVE;
	cfg.mbufs = 4095; /* a replay holds at most a few bursts in flight */
	for (int i = 0; i < n; i++)
		snprintf(cfg.ports[i].dev, sizeof(cfg.ports[i].dev), "net_pcap%d,rx_pcap=%.480s", i, files[i]);
	cfg.n_ports = (unsigned)n;
	snprintf(cfg.eve_path, sizeof(cfg.eve_path), "%s", eve ? eve : "");
	snprintf(cfg.stats_path, sizeof(cfg.stats_path), "%s", stats ? stats : "");
	return weir_run_config_exec(&cfg, WEIR_DP_REPLAY | (pace ? WEIR_DP_PACE : 0), "weir replay");
}
