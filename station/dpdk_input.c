/* dpdk_input.c — the station fed by DPDK ports (weir run) or by capture files as net_pcap ports
 * (weir replay
 * --dpdk): each worker lcore builds its unit, the dashboard runs on the CPUs the workers leave
 * free, and the port accounting is the summary. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "dpdk/dpdk.h"
#include "station/station_internal.h"
#include "web/web.h"

/* The flags must be reachable from a signal handler, which takes no argument: the file-level
 * mutables of the station. Whichever thread (DPDK starts some) takes the signal, the handler only
 * sets a flag: the lcores read stop, the control thread all three. */
static volatile sig_atomic_t stop_requested, hup_requested, usr1_requested;

static void on_signal(int sig)
{
	if (stop_requested)
		_exit(128 + sig); /* second signal: the user insists */
	stop_requested = 1;
}

static void on_control_signal(int sig)
{
	if (sig == SIGUSR1)
		usr1_requested = 1;
	else
		hup_requested = 1;
}

/* What the DPDK loop's callbacks (opts.user) see. */
struct dpdk_run {
	struct weir_station *st;
	struct weir_web *web;
	struct weir_station_control *control;
};

/* The DPDK loop's view of a unit (struct weir_dp_stack_ops). */
static void *stack_create(unsigned id, void *user, struct weir_worker **w)
{
	struct weir_station_unit *u = weir_station_unit_create(((struct dpdk_run *)user)->st, id);
	*w = u ? u->w : NULL;
	return u;
}

static void stack_run(void *u)
{
	weir_station_unit_run(u);
}

static unsigned stack_scripts(void *u, struct weir_statpub_script *out)
{
	return weir_station_unit_scripts(u, out);
}

static void stack_free(void *u)
{
	weir_station_unit_free(u);
}

static const struct weir_dp_stack_ops stack_ops = {
    .create = stack_create,
    .run = stack_run,
    .scripts = stack_scripts,
    .free = stack_free,
};

/* After EAL and the ports: the dashboard if configured and, for weir run, the control thread, on
 * the CPUs the workers leave free. */
static int started(const cpu_set_t *control_cpus, void *user)
{
	struct dpdk_run *r = user;
	const struct weir_run_config *cfg = r->st->p.cfg;
	char err[512];
	if (cfg->dashboard_listen[0]) {
		const struct weir_web_config wc = {
		    .listen = cfg->dashboard_listen,
		    .token = cfg->dashboard_token[0] ? cfg->dashboard_token : NULL,
		    .mode = "run",
		    .cpus = control_cpus,
		};
		if (!(r->web = weir_web_start(&wc, r->st->pubs, cfg->workers, err, sizeof(err)))) {
			fprintf(stderr, "%s: %s\n", r->st->p.prog, err);
			return -1;
		}
		weir_web_set_state(r->web, "running");
		fprintf(stderr, "%s: dashboard on http://%s/\n", r->st->p.prog,
		        cfg->dashboard_listen);
	}
	if (r->st->p.input == WEIR_STATION_PORTS &&
	    !(r->control = weir_station_control_start(r->st, control_cpus, r->web, &hup_requested,
	                                              &usr1_requested, &stop_requested)))
		return -1;
	return 0;
}

/* PCAP_DPDK: the config with one passive net_pcap port per file. 0 or 64 after printing why. */
static int files_as_ports(const struct weir_station *st, struct weir_run_config *cfg)
{
	*cfg = *st->p.cfg;
	if (st->p.n_files > WEIR_CFG_MAX_PORTS) {
		fprintf(stderr, "%s --dpdk: at most %d files\n", st->p.prog, WEIR_CFG_MAX_PORTS);
		return 64;
	}
	cfg->mode = WEIR_MODE_PASSIVE;
	cfg->mbufs = 4095; /* a replay holds at most a few bursts in flight */
	for (unsigned i = 0; i < st->p.n_files; i++)
		snprintf(cfg->ports[i].dev, sizeof(cfg->ports[i].dev), "net_pcap%u,rx_pcap=%.480s",
		         i, st->p.files[i]);
	cfg->n_ports = st->p.n_files;
	return 0;
}

static void summary(const struct weir_station *st, const struct weir_dp_result *res)
{
	for (unsigned p = 0; p < res->n_ports; p++) {
		const struct weir_dp_port_stats *s = &res->port[p];
		fprintf(stderr,
		        "%s: port %u %s: rx %llu tx %llu verdict-drops %llu passive %llu other "
		        "drops %llu\n",
		        st->p.prog, p, res->port_name[p], (unsigned long long)s->rx,
		        (unsigned long long)s->tx, (unsigned long long)s->verdict_drops,
		        (unsigned long long)s->passive, (unsigned long long)weir_dp_port_drops(s));
	}
}

int weir_station_run_dpdk(struct weir_station *st)
{
	static struct weir_run_config files_cfg; /* large; PCAP_DPDK only */
	static struct weir_dp_result res;        /* large; filled once */
	const struct weir_run_config *cfg = st->p.cfg;
	unsigned flags = 0;
	if (st->p.input == WEIR_STATION_PCAP_DPDK) {
		const int rc = files_as_ports(st, &files_cfg);
		if (rc)
			return rc;
		cfg = &files_cfg;
		flags = WEIR_DP_REPLAY | (st->p.pace ? WEIR_DP_PACE : 0);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (st->p.input ==
	    WEIR_STATION_PORTS) { /* reload; from before EAL: never the default (exit) */
		sa.sa_handler = on_control_signal;
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL); /* the EVE log alone */
	}
	struct dpdk_run r = {.st = st};
	const int dash = cfg->dashboard_listen[0] != 0;
	const struct weir_dp_opts opts = {
	    .flags = flags,
	    .stop = &stop_requested,
	    .stack = &stack_ops,
	    .user = &r,
	    .prog = st->p.prog,
	    .started = dash || st->p.input == WEIR_STATION_PORTS ? started : NULL,
	    .pubs = dash ? st->pubs : NULL,
	};
	int rc = weir_dp_run(cfg, &opts, &res);
	weir_station_control_stop(r.control);
	res.reloads = atomic_load(&st->reloads);
	res.reloads_failed = atomic_load(&st->reloads_failed);
	if (r.web) { /* the workers published their final counters: one last sample, then stop */
		weir_web_set_state(r.web, rc ? "failed" : "done");
		weir_web_refresh(r.web);
		weir_web_stop(r.web);
	}
	if (atomic_load(&st->scripts_failed))
		return 78; /* a script that does not load is a config error, not a crash */
	if (rc)
		return rc;
	summary(st, &res);
	if (cfg->stats_path[0]) {
		FILE *out = weir_station_open(st, cfg->stats_path, 0);
		if (!out)
			return 73;
		weir_dp_result_json(&res, cfg, out);
		weir_station_close(st, out);
	}
	return 0;
}
