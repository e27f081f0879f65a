/* control.c — weir run's control thread: hot reload on SIGHUP (scripts checked, then swapped by
 * each worker between bursts; the EVE log reopened), the EVE log alone reopened on SIGUSR1, and
 * systemd's notifications (READY, STATUS, RELOADING, STOPPING, and WATCHDOG only while every worker
 * makes progress). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "core/settings.h"
#include "station/station_internal.h"
#include "web/web.h"

/* The thread wakes this often: it bounds how late a SIGHUP or a stop is seen; while the workers
 * take a reload up, every RELOAD_TICK_NS (the READY=1 after it is not late). */
#define CONTROL_TICK_NS 10000000ull
#define RELOAD_TICK_NS  500000ull
/* Without a watchdog, a worker that ran no burst or tick for this long is said stuck in STATUS=. */
#define STUCK_NS 1000000000ull
/* STATUS= is refreshed, and the EVE log flushed (tail -f, logrotate), this often. */
#define STATUS_EVERY_NS 1000000000ull

struct weir_station_control {
	struct weir_station *st;
	struct weir_web *web; /* the dashboard, shown the reload counts; or NULL */
	pthread_t thread;
	volatile sig_atomic_t *hup, *usr1, *stop;
	atomic_int quit;
	int ready, stopping;
	unsigned stuck;       /* heartbeats(): a worker that makes no progress, + 1; or 0 */
	unsigned pending;     /* a published generation not yet taken up by every worker */
	uint64_t hup_ns;      /* when its SIGHUP was seen */
	uint64_t sent_ns;     /* when the checked scripts were published to the workers */
	uint64_t watchdog_ns; /* ping interval: half of WATCHDOG_USEC; 0 without a watchdog */
	uint64_t next_ping_ns, next_status_ns;
	uint64_t last_beat[WEIR_CFG_MAX_WORKERS]; /* each worker's heartbeat as last seen */
	uint64_t moved_ns[WEIR_CFG_MAX_WORKERS];  /* when it was last seen to move */
	uint64_t status_pkts, status_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- what changed in the file besides the scripts ----------------------------------------- */

static void add_name(char *buf, size_t size, const char *name)
{
	const size_t len = strlen(buf);
	snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
}

/* One line naming the settings of b that differ from the running a: they need a restart. */
static void note_restart_settings(const struct weir_run_config *a, const struct weir_run_config *b,
                                  const char *prog)
{
	char names[1024] = "";
	const struct weir_setting *s;
	size_t base;
	for (unsigned i = 0; (s = weir_run_setting(i, &base)) != NULL; i++)
		if (strncmp(s->name, "lua.", 4) != 0 && /* the scripts' limits: a reload applies them */
		    memcmp((const char *)a + base + s->offset, (const char *)b + base + s->offset,
		           s->size) != 0)
			add_name(names, sizeof(names), s->name);
	if (a->n_eal != b->n_eal || memcmp(a->eal, b->eal, sizeof(a->eal)))
		add_name(names, sizeof(names), "dpdk.eal");
	if (a->n_ports != b->n_ports || memcmp(a->ports, b->ports, sizeof(a->ports)) ||
	    memcmp(a->pairs, b->pairs, sizeof(a->pairs)))
		add_name(names, sizeof(names), "dpdk.ports");
	if (a->rss_key_len != b->rss_key_len || memcmp(a->rss_key, b->rss_key, sizeof(a->rss_key)))
		add_name(names, sizeof(names), "dpdk.rss_key");
	if (strcmp(a->dashboard_listen, b->dashboard_listen) ||
	    strcmp(a->dashboard_token, b->dashboard_token))
		add_name(names, sizeof(names), "dashboard");
	if (strcmp(a->eve_path, b->eve_path) || strcmp(a->stats_path, b->stats_path))
		add_name(names, sizeof(names), "log");
	if (a->n_rules != b->n_rules || memcmp(a->rules, b->rules, sizeof(a->rules)))
		add_name(names, sizeof(names), "firewall");
	if (names[0])
		fprintf(stderr, "%s: reload: changed %s: taken at the next restart, not now\n",
		        prog, names);
}

/* ---- systemd ------------------------------------------------------------------------------ */

static void send_status(struct weir_station_control *c, const char *extra)
{
	const struct weir_station *st = c->st;
	uint64_t flows = 0, pkts = 0, errors = 0;
	for (unsigned w = 0; w < st->n_workers; w++) {
		flows += atomic_load_explicit(&st->slot[w].flows, memory_order_relaxed);
		pkts += atomic_load_explicit(&st->slot[w].pkts, memory_order_relaxed);
		errors += atomic_load_explicit(&st->slot[w].script_errors, memory_order_relaxed);
	}
	const uint64_t now = mono_ns();
	const double kpps =
	    c->status_ns && now > c->status_ns && pkts >= c->status_pkts
	        ? (double)(pkts - c->status_pkts) * 1e6 / (double)(now - c->status_ns)
	        : 0.0;
	c->status_pkts = pkts;
	c->status_ns = now;
	if (c->web)
		weir_web_set_reloads(c->web, atomic_load(&st->reloads),
		                     atomic_load(&st->reloads_failed));
	c->next_status_ns = now + STATUS_EVERY_NS;
	char state[48] = "running";
	if (c->stopping)
		snprintf(state, sizeof(state), "stopping");
	else if (c->stuck)
		snprintf(state, sizeof(state), "worker %u stuck", c->stuck - 1);
	sd_notifyf(
	    0,
	    "%sSTATUS=%s: %u port%s, %u worker%s, %llu flows, %.1f kpps, %llu script errors, "
	    "reloads %llu (%llu failed)",
	    extra, state, st->p.cfg->n_ports, st->p.cfg->n_ports == 1 ? "" : "s", st->n_workers,
	    st->n_workers == 1 ? "" : "s", (unsigned long long)flows, kpps,
	    (unsigned long long)errors, (unsigned long long)atomic_load(&st->reloads),
	    (unsigned long long)atomic_load(&st->reloads_failed));
}

/* Follows each worker's heartbeat (every control tick): c->stuck is the first worker that ran no
 * burst or tick lately, + 1, or 0. Lately: within half the watchdog interval (1 s without one)
 * plus the idle sleep, since an idle worker ticks once a millisecond after its sleep. */
static void heartbeats(struct weir_station_control *c, uint64_t now)
{
	const struct weir_station *st = c->st;
	const uint64_t late =
	    (c->watchdog_ns ? c->watchdog_ns : STUCK_NS) + st->p.cfg->idle_sleep_us * 1000ull;
	c->stuck = 0;
	for (unsigned w = 0; w < st->n_workers; w++) {
		const uint64_t b = atomic_load_explicit(&st->slot[w].beat, memory_order_relaxed);
		if (b != c->last_beat[w] || atomic_load(&st->slot[w].done) || !c->moved_ns[w])
			c->moved_ns[w] = now;
		c->last_beat[w] = b;
		if (!c->stuck && now - c->moved_ns[w] > late)
			c->stuck = w + 1;
	}
}

/* WATCHDOG=1 only when no worker is stuck (one in a script's endless loop stops the pings, and
 * systemd restarts weir). Before READY the start-up is bounded by systemd's start timeout. */
static void watchdog(struct weir_station_control *c, uint64_t now)
{
	if (!c->watchdog_ns || now < c->next_ping_ns)
		return;
	c->next_ping_ns = now + c->watchdog_ns;
	if (!c->stuck || !c->ready)
		sd_notify(0, "WATCHDOG=1");
}

/* ---- reload ------------------------------------------------------------------------------- */

static void reload_failed(struct weir_station_control *c)
{
	atomic_fetch_add(&c->st->reloads_failed, 1);
	send_status(c, "READY=1\n");
}

/* SIGHUP: the EVE log is reopened; the config file is read again and its scripts checked on a
 * throw-away worker; if they load, their generation is published for the workers to take up. */
static void reload(struct weir_station_control *c)
{
	struct weir_station *st = c->st;
	const char *prog = st->p.prog;
	char err[1024];
	c->hup_ns = mono_ns();
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
	           (unsigned long long)(c->hup_ns / 1000));
	weir_station_eve_reopen(st);
	if (!st->p.config_path) {
		send_status(c, "READY=1\n");
		return;
	}
	struct weir_run_config *nc = st->reload_cfg;
	if (weir_run_config_load(nc, st->p.config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: reload: %s (the running scripts stay)\n", prog, err);
		reload_failed(c);
		return;
	}
	note_restart_settings(st->p.cfg, nc, prog);
	nc->engine = st->p.cfg->engine; /* checked on a worker like the running ones */
	if (weir_station_check_cfg_scripts(nc, prog, 0) != 0) {
		fprintf(stderr, "%s: reload: the new scripts do not load; the running ones stay\n",
		        prog);
		reload_failed(c);
		return;
	}
	c->sent_ns = mono_ns();
	c->pending = atomic_load(&st->script_gen) + 1;
	atomic_store_explicit(&st->script_gen, c->pending, memory_order_release);
}

/* Whether every worker took the pending generation up; then counts and reports it. */
static void reload_done(struct weir_station_control *c)
{
	struct weir_station *st = c->st;
	int failed = 0;
	for (unsigned w = 0; w < st->n_workers; w++) {
		const struct weir_station_slot *sl = &st->slot[w];
		if (atomic_load(&sl->done))
			continue;
		if (atomic_load_explicit(&sl->gen, memory_order_acquire) != c->pending)
			return;
		failed |= atomic_load(&sl->failed_gen) == c->pending;
	}
	const uint64_t now = mono_ns();
	if (failed) {
		fprintf(stderr, "%s: reload: generation %u failed on a worker (see above)\n",
		        st->p.prog, c->pending);
		reload_failed(c);
	} else {
		atomic_fetch_add(&st->reloads, 1);
		fprintf(
		    stderr,
		    "%s: reload: scripts of generation %u running on %u worker%s, %.1f ms after "
		    "SIGHUP (checked in %.1f ms, then taken up in %.1f ms)\n",
		    st->p.prog, c->pending, st->n_workers, st->n_workers == 1 ? "" : "s",
		    (double)(now - c->hup_ns) / 1e6, (double)(c->sent_ns - c->hup_ns) / 1e6,
		    (double)(now - c->sent_ns) / 1e6);
		send_status(c, "READY=1\n");
	}
	c->pending = 0;
}

static void *control_main(void *arg)
{
	struct weir_station_control *c = arg;
	struct weir_station *st = c->st;
	while (!atomic_load(&c->quit)) {
		const uint64_t now = mono_ns();
		if (!c->ready && atomic_load(&st->units_ready) == st->n_workers) {
			/* the ports and the dashboard were up before any unit was built */
			c->ready = 1;
			send_status(c, "READY=1\n");
		}
		if (*c->stop && !c->stopping) {
			c->stopping = 1;
			send_status(c, "STOPPING=1\n");
		}
		if (c->pending)
			reload_done(c);
		/* SIGUSR1 (logrotate): a new EVE file, the scripts and what they hold untouched */
		if (*c->usr1) {
			*c->usr1 = 0;
			weir_station_eve_reopen(st);
		}
		/* a SIGHUP waits for READY and for the previous reload to be taken up */
		if (*c->hup && c->ready && !c->pending && !c->stopping) {
			*c->hup = 0;
			reload(c);
		}
		if (c->ready && now >= c->next_status_ns) {
			send_status(c, "");
			/* fflush takes the FILE's lock, as the workers' fwrite does; the workers
			 * write their batches when they see the generation move */
			if (st->eve && fflush(st->eve) != 0)
				atomic_store(&st->write_failed, 1);
			atomic_fetch_add_explicit(&st->eve_flush_gen, 1, memory_order_relaxed);
		}
		heartbeats(c, now);
		watchdog(c, now);
		const struct timespec ts = {0,
		                            (long)(c->pending ? RELOAD_TICK_NS : CONTROL_TICK_NS)};
		nanosleep(&ts, NULL);
	}
	/* A stop that drained within one tick ends the loop before the loop saw it: systemd still
	 * hears that weir is going down. */
	if (!c->stopping)
		send_status(c, "STOPPING=1\n");
	return NULL;
}

struct weir_station_control *weir_station_control_start(struct weir_station *st,
                                                        const cpu_set_t *cpus, struct weir_web *web,
                                                        volatile sig_atomic_t *hup,
                                                        volatile sig_atomic_t *usr1,
                                                        volatile sig_atomic_t *stop)
{
	struct weir_station_control *c = calloc(1, sizeof(*c));
	if (!c || !(st->reload_cfg = calloc(1, sizeof(*st->reload_cfg)))) {
		fprintf(stderr, "%s: control thread: out of memory\n", st->p.prog);
		free(c);
		return NULL;
	}
	c->st = st;
	c->web = web;
	c->hup = hup;
	c->usr1 = usr1;
	c->stop = stop;
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		c->watchdog_ns = usec * 1000ull / 2;
	const int rc = pthread_create(&c->thread, NULL, control_main, c);
	if (rc != 0) {
		fprintf(stderr, "%s: control thread: %s\n", st->p.prog, strerror(rc));
		free(c);
		return NULL;
	}
	pthread_setname_np(c->thread, "weir-control");
	if (cpus) /* on the CPUs the workers leave free, like the dashboard */
		pthread_setaffinity_np(c->thread, sizeof(*cpus), cpus);
	return c;
}

void weir_station_control_stop(struct weir_station_control *c)
{
	if (!c)
		return;
	atomic_store(&c->quit, 1);
	pthread_join(c->thread, NULL);
	free(c);
}
