/* station.c — one assembly of a running weir: each worker with its firewall rules, Lua host and
 * sinks, wired the same way whatever feeds it; the inputs' loops are in pcap_input.c and
 * dpdk_input.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/eve.h"
#include "station/station_internal.h"

/* ---- outputs ------------------------------------------------------------------------------ */

/* A unit's EVE lines are formatted straight into its batch, which is written with one fwrite when
 * it may not hold another line, every 256 runs of the unit, and when the unit is freed: a flood of
 * short flows writes some 60 records a write(). */
enum { EVE_BATCH = 64 << 10 };

FILE *weir_station_open(const struct weir_station *st, const char *path, int append)
{
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, append ? "a" : "w");
	if (!f)
		fprintf(stderr, "%s: %s: %s\n", st->p.prog, path, strerror(errno));
	return f;
}

int weir_station_eve_reopen(struct weir_station *st)
{
	if (!st->eve || st->eve == stdout)
		return 0;
	const char *path = st->p.cfg->eve_path;
	const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: reopening %s: %s (still writing the old file)\n", st->p.prog,
		        path, strerror(errno));
		return -1;
	}
	/* A worker's fwrite holds the FILE's lock for its whole line: under that lock, what is
	 * buffered goes to the old file, then the descriptor under the FILE becomes the new one. */
	flockfile(st->eve);
	int rc = fflush(st->eve) == 0 && dup2(fd, fileno(st->eve)) >= 0 ? 0 : -1;
	if (rc)
		fprintf(stderr, "%s: reopening %s: %s\n", st->p.prog, path, strerror(errno));
	funlockfile(st->eve);
	close(fd);
	return rc;
}

void weir_station_close(struct weir_station *st, FILE *f)
{
	if (f && (f == stdout ? fflush(f) : fclose(f)) != 0)
		atomic_store(&st->write_failed, 1);
}

/* One fwrite per batch of whole lines: stdio locks the FILE per call, so the workers' lines never
 * interleave. */
void weir_station_unit_flush(struct weir_station_unit *u)
{
	if (u->eve_len && fwrite(u->eve_batch, 1, u->eve_len, u->st->eve) != u->eve_len)
		atomic_store(&u->st->write_failed, 1);
	u->eve_len = 0;
	u->eve_flush_gen = atomic_load_explicit(&u->st->eve_flush_gen, memory_order_relaxed);
}

/* Room for a line (WEIR_EVE_LINE_MAX) at the end of the unit's batch, flushed first if need be. */
static char *eve_room(struct weir_station_unit *u)
{
	if (EVE_BATCH - u->eve_len < WEIR_EVE_LINE_MAX)
		weir_station_unit_flush(u);
	return u->eve_batch + u->eve_len;
}

/* Keeps the line just formatted in the room (n: its length, or a negative errno: none). */
static void eve_keep(struct weir_station_unit *u, int n)
{
	if (n > 0 && (size_t)n < WEIR_EVE_LINE_MAX)
		u->eve_len += (size_t)n;
}

static void eve_flow(const struct weir_flow_record *rec, void *user)
{
	struct weir_station_unit *u = user;
	eve_keep(u, weir_eve_flow(eve_room(u), WEIR_EVE_LINE_MAX, rec));
}

/* A script's weir.alert{}: an EVE alert line and an alert on the dashboard, on every input. */
static void script_alert(const struct weir_lua_alert *a, void *user)
{
	struct weir_station_unit *u = user;
	if (u->st->eve) /* in the same batch as the flow records: the file keeps their order */
		eve_keep(u, weir_lua_alert_json(eve_room(u), WEIR_EVE_LINE_MAX, a));
	if (u->pub) {
		struct weir_statpub_alert out;
		memset(&out, 0, sizeof(out));
		out.ts_ns = a->ts_ns;
		out.flow_id = a->flow_id;
		out.tuple = a->tuple;
		out.sid = a->sid;
		out.severity = (uint8_t)(a->severity < 255 ? a->severity : 255);
		snprintf(out.source, sizeof(out.source), "%.*s", WEIR_STATPUB_NAME - 1,
		         a->script_name ? a->script_name : "");
		snprintf(out.msg, sizeof(out.msg), "%.*s", WEIR_STATPUB_MSG - 1,
		         a->msg ? a->msg : "");
		weir_statpub_alert(u->pub, &out);
	}
}

/* ---- --write-streams ---------------------------------------------------------------------- */

static void stream_path(char *path, size_t size, const struct weir_station *st, struct weir_flow *f,
                        int side)
{
	snprintf(path, size, "%s/%" PRIu64 ".%s", st->p.streams_dir, weir_flow_id(f),
	         side == WEIR_SIDE_CLIENT ? "c2s" : "s2c");
}

/* NEW_DATA handler: writes the bytes the side's stream just gained at their stream offsets, so that
 * bytes of a packet dropped inline (its update undone) are overwritten by what the receiver gets
 * instead. */
static void stream_writer(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                          uint64_t added, void *user)
{
	struct weir_station *st = ((struct weir_station_unit *)user)->st;
	struct weir_buf_info bi;
	(void)s;
	(void)ev;
	if (weir_flow_buf_info(f, side, &bi) != 0 || !bi.buffering)
		return;
	char path[4096];
	stream_path(path, sizeof(path), st, f, side);
	const int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd < 0) {
		atomic_store(&st->write_failed, 1);
		return;
	}
	static const uint8_t zeros[4096];
	for (uint64_t off = bi.next - added; off < bi.next;) {
		const uint8_t *p;
		ssize_t n = weir_flow_view(f, side, off, &p);
		if (n == -ENODATA) { /* older than the ring holds (a huge gap): zeros keep offsets
			                true */
			p = zeros;
			n = (ssize_t)(bi.base - off < sizeof(zeros) ? bi.base - off
			                                            : sizeof(zeros));
		}
		if (n <= 0 || pwrite(fd, p, (size_t)n, (off_t)off) != n) {
			atomic_store(&st->write_failed, 1);
			break;
		}
		off += (uint64_t)n;
	}
	close(fd);
}

/* CONN_END handler: a file longer than its stream held bytes of a dropped packet never delivered
 * again. */
static void stream_trim(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                        uint64_t arg, void *user)
{
	struct weir_station *st = ((struct weir_station_unit *)user)->st;
	(void)s;
	(void)side;
	(void)ev;
	(void)arg;
	for (int d = WEIR_SIDE_CLIENT; d <= WEIR_SIDE_SERVER; d++) {
		char path[4096];
		struct weir_buf_info bi;
		struct stat sb;
		stream_path(path, sizeof(path), st, f, d);
		if (weir_flow_buf_info(f, d, &bi) == 0 && stat(path, &sb) == 0 &&
		    (uint64_t)sb.st_size > bi.next && truncate(path, (off_t)bi.next) != 0)
			atomic_store(&st->write_failed, 1);
	}
}

/* ---- firewall rules ----------------------------------------------------------------------- */

/* firewall = {{port = N, action = "drop"}}: the first rule naming either end's port decides. */
static void rule_handler(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                         uint64_t arg, void *user)
{
	const struct weir_run_config *cfg = user;
	struct weir_tuple t;
	(void)side;
	(void)ev;
	(void)arg;
	if (weir_flow_tuple(f, &t) != 0)
		return;
	for (unsigned i = 0; i < cfg->n_rules; i++) {
		if (cfg->rules[i].port != t.client_port && cfg->rules[i].port != t.server_port)
			continue;
		if (cfg->rules[i].action == WEIR_RULE_DROP)
			weir_worker_drop(weir_msock_worker(s));
		return;
	}
}

/* ---- a worker's unit ---------------------------------------------------------------------- */

/* The C-level sockets of a unit: firewall rules and --write-streams. 0 or -1 after printing why. */
static int unit_sockets(struct weir_station_unit *u)
{
	const struct weir_station *st = u->st;
	const struct weir_run_config *cfg = st->p.cfg;
	char err[512] = "";
	struct weir_msock *s;
	if (cfg->n_rules && (!(s = weir_msock_create(u->w, NULL, err, sizeof(err))) ||
	                     weir_msock_register(s, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, rule_handler,
	                                         (void *)cfg) != 0)) {
		fprintf(stderr, "%s: firewall: %s\n", st->p.prog, err[0] ? err : strerror(errno));
		return -1;
	}
	if (st->p.streams_dir &&
	    (!(s = weir_msock_create(u->w, NULL, err, sizeof(err))) ||
	     weir_msock_register(s, WEIR_EV_NEW_DATA, WEIR_HOOK_POST_RCV, stream_writer, u) != 0 ||
	     weir_msock_register(s, WEIR_EV_CONN_END, WEIR_HOOK_POST_RCV, stream_trim, u) != 0)) {
		fprintf(stderr, "%s: cannot watch streams: %s\n", st->p.prog,
		        err[0] ? err : strerror(errno));
		return -1;
	}
	return 0;
}

/* One Lua state per worker running cfg's scripts (scripts' state is share-nothing like the flow
 * table); NULL with why in err. */
static struct weir_lua *unit_lua(struct weir_station_unit *u, const struct weir_run_config *cfg,
                                 char *err, size_t errlen)
{
	struct weir_lua_script scripts[WEIR_CFG_MAX_SCRIPTS];
	for (unsigned i = 0; i < cfg->n_scripts; i++) {
		scripts[i].path = cfg->scripts[i];
		scripts[i].trusted = cfg->script_trusted[i];
	}
	struct weir_lua_limits lim;
	weir_lua_limits_defaults(&lim);
	lim.budget_ms = cfg->lua_budget_ms;
	lim.memory_mb = cfg->lua_memory_mb;
	lim.max_errors = cfg->lua_max_errors;
	struct weir_lua *lua =
	    weir_lua_create_with(u->w, scripts, cfg->n_scripts, &lim, err, errlen);
	if (lua && (u->st->eve || u->pub))
		weir_lua_set_alert_sink(lua, script_alert, u);
	return lua;
}

struct weir_station_unit *weir_station_unit_create(struct weir_station *st, unsigned id)
{
	struct weir_station_unit *u = calloc(1, sizeof(*u));
	if (!u) {
		fprintf(stderr, "%s: worker %u: out of memory\n", st->p.prog, id);
		return NULL;
	}
	u->st = st;
	u->id = id;
	u->pub = st->pubs[id];
	if (!(u->w = weir_worker_create(&st->p.cfg->engine, id))) {
		fprintf(stderr, "%s: worker %u: cannot create: %s\n", st->p.prog, id,
		        strerror(errno));
		goto err;
	}
	if (st->eve) {
		if (!(u->eve_batch = malloc(EVE_BATCH))) {
			fprintf(stderr, "%s: worker %u: out of memory\n", st->p.prog, id);
			goto err;
		}
		weir_worker_set_flow_sink(u->w, eve_flow, u);
	}
	if (unit_sockets(u) != 0)
		goto err;
	char err[1024];
	if (st->p.cfg->n_scripts && !(u->lua = unit_lua(u, st->p.cfg, err, sizeof(err)))) {
		/* every worker loads the same files: said once */
		if (atomic_exchange(&st->scripts_failed, 1) == 0)
			fprintf(stderr, "%s: %s\n", st->p.prog, err);
		goto err;
	}
	atomic_fetch_add(&st->units_ready, 1);
	return u;
err:
	weir_station_unit_free(u);
	return NULL;
}

/* The scripts of generation gen, between bursts: a new Lua state is built on this thread and
 * replaces the old one only if it loads. The old state's sockets are closed (none of its
 * handlers, timers or subscriptions is left) and their ids reclaimed; flows, their TCP state and
 * their streams are the worker's and stay. */
static void unit_reload(struct weir_station_unit *u, unsigned gen)
{
	struct weir_station *st = u->st;
	struct weir_station_slot *sl = &st->slot[u->id];
	const struct weir_run_config *cfg = st->reload_cfg;
	struct weir_lua *lua = NULL;
	char err[1024];
	if (cfg->n_scripts && !(lua = unit_lua(u, cfg, err, sizeof(err)))) {
		/* the check passed on a throw-away worker: this worker is short of memory or
		 * sockets */
		fprintf(stderr, "%s: reload: worker %u keeps its scripts: %s\n", st->p.prog, u->id,
		        err);
		atomic_store(&sl->failed_gen, gen);
	} else {
		weir_lua_free(u->lua);
		u->lua = lua;
	}
	const int rc = weir_msock_reclaim(u->w); /* also the failed state's sockets */
	if (rc < 0)
		fprintf(stderr, "%s: worker %u: reclaiming sockets: %s\n", st->p.prog, u->id,
		        strerror(-rc));
	u->gen = gen;
	atomic_store_explicit(&sl->gen, gen, memory_order_release);
}

void weir_station_unit_run(struct weir_station_unit *u)
{
	struct weir_station *st = u->st;
	/* The reload check, one relaxed load a call; what it publishes is read after an acquire. */
	if (atomic_load_explicit(&st->script_gen, memory_order_relaxed) != u->gen)
		unit_reload(u, atomic_load_explicit(&st->script_gen, memory_order_acquire));
	if (u->lua)
		weir_lua_run(u->lua);
	else
		weir_worker_run(u->w);
	struct weir_station_slot *sl = &st->slot[u->id];
	atomic_store_explicit(&sl->beat, ++u->beats, memory_order_relaxed);
	/* a reader of `--eve -` sees lines as they come; weir run's log is written every second */
	if (u->eve_len &&
	    (u->st->eve == stdout || (u->beats & 255) == 0 ||
	     atomic_load_explicit(&st->eve_flush_gen, memory_order_relaxed) != u->eve_flush_gen))
		weir_station_unit_flush(u);
	if ((u->beats & 255) == 0) { /* the STATUS line's sample: every 256 bursts or ticks */
		const struct weir_stats *ws = weir_worker_stats(u->w);
		atomic_store_explicit(&sl->flows, ws->flows_active, memory_order_relaxed);
		atomic_store_explicit(&sl->pkts, ws->pkts, memory_order_relaxed);
		uint64_t errors = 0;
		const struct weir_lua_script_stat *ss;
		const unsigned n = u->lua ? weir_lua_script_stats(u->lua, &ss) : 0;
		for (unsigned i = 0; i < n; i++)
			errors += ss[i].errors;
		atomic_store_explicit(&sl->script_errors, errors, memory_order_relaxed);
	}
}

/* Handler time is sampled (timed of events calls): scaled up to all calls. */
unsigned weir_station_unit_scripts(const struct weir_station_unit *u,
                                   struct weir_statpub_script *out)
{
	const struct weir_lua_script_stat *ss;
	const struct weir_lua_handler_stat *hs;
	if (!u->lua)
		return 0;
	unsigned n = weir_lua_script_stats(u->lua, &ss);
	const unsigned nh = weir_lua_handler_stats(u->lua, &hs);
	n = n < WEIR_STATPUB_SCRIPTS ? n : WEIR_STATPUB_SCRIPTS;
	memset(out, 0, n * sizeof(*out));
	for (unsigned i = 0; i < n; i++) {
		snprintf(out[i].name, sizeof(out[i].name), "%.*s", WEIR_STATPUB_NAME - 1,
		         ss[i].name);
		out[i].errors = ss[i].errors;
		out[i].alerts = ss[i].alerts;
		out[i].budget_stops = ss[i].budget_stops;
		out[i].memory_errors = ss[i].memory_errors;
	}
	for (unsigned h = 0; h < nh; h++) {
		const unsigned i = hs[h].script;
		if (i >= n)
			continue;
		out[i].events += hs[h].events;
		out[i].handlers++;
		out[i].disabled += hs[h].disabled != 0;
		if (hs[h].timed)
			out[i].ns += (uint64_t)((double)hs[h].timed_ns * (double)hs[h].events /
			                        (double)hs[h].timed);
	}
	return n;
}

void weir_station_unit_free(struct weir_station_unit *u)
{
	if (!u)
		return;
	weir_lua_free(u->lua);
	weir_worker_free(u->w);
	if (u->st->eve)
		weir_station_unit_flush(u);
	free(u->eve_batch);
	atomic_store(&u->st->slot[u->id].done, 1);
	free(u);
}

/* ---- the station -------------------------------------------------------------------------- */

struct weir_station *weir_station_create(const struct weir_station_params *p, int *code)
{
	const struct weir_run_config *cfg = p->cfg;
	struct weir_station *st = calloc(1, sizeof(*st));
	if (!st) {
		fprintf(stderr, "%s: out of memory\n", p->prog);
		*code = 71;
		return NULL;
	}
	st->p = *p;
	st->n_workers = p->input == WEIR_STATION_PCAP ? 1 : cfg->workers;
	if (p->streams_dir && mkdir(p->streams_dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s: %s\n", p->prog, p->streams_dir, strerror(errno));
		*code = 73;
		goto err;
	}
	/* An appliance's restart must not truncate the log it wrote before: weir run appends. */
	if (cfg->eve_path[0] &&
	    !(st->eve = weir_station_open(st, cfg->eve_path, p->input == WEIR_STATION_PORTS))) {
		*code = 73;
		goto err;
	}
	/* The units batch their lines (EVE_BATCH): a file's stdio buffer would only copy each batch
	 * once more, so a batch goes to write() as it is (stdout keeps its own buffer). */
	if (st->eve && st->eve != stdout)
		setvbuf(st->eve, NULL, _IONBF, 0);
	for (unsigned w = 0; cfg->dashboard_listen[0] && w < st->n_workers; w++) {
		if (!(st->pubs[w] = weir_statpub_create(w, 0))) {
			fprintf(stderr, "%s: dashboard: %s\n", p->prog, strerror(errno));
			*code = 71;
			goto err;
		}
	}
	return st;
err:
	weir_station_free(st);
	return NULL;
}

int weir_station_run(struct weir_station *st)
{
	int rc = st->p.input == WEIR_STATION_PCAP ? weir_station_run_pcap(st)
	                                          : weir_station_run_dpdk(st);
	weir_station_close(st, st->eve);
	st->eve = NULL;
	if (atomic_load(&st->write_failed)) {
		fprintf(stderr, "%s: writing an output failed\n", st->p.prog);
		rc = rc ? rc : 73;
	}
	return rc;
}

void weir_station_free(struct weir_station *st)
{
	if (!st)
		return;
	weir_station_close(st, st->eve);
	for (unsigned w = 0; w < WEIR_CFG_MAX_WORKERS; w++)
		weir_statpub_free(st->pubs[w]);
	free(st->reload_cfg);
	free(st);
}

int weir_station_check_cfg_scripts(const struct weir_run_config *cfg, const char *prog, int list)
{
	struct weir_station st = {.p = {.cfg = cfg, .prog = prog}};
	/* Loading runs each script's top level: sockets are opened and handlers registered. */
	struct weir_station_unit *u = weir_station_unit_create(&st, 0);
	if (!u)
		return -1;
	const struct weir_lua_handler_stat *hs;
	const unsigned nh = u->lua && list ? weir_lua_handler_stats(u->lua, &hs) : 0;
	for (unsigned i = 0; i < nh; i++)
		printf("  %s\n", hs[i].where);
	weir_station_unit_free(u);
	return 0;
}

int weir_station_check_scripts(char *const *scripts, unsigned n, const char *prog)
{
	static struct weir_run_config cfg; /* large (fixed-size strings) */
	weir_run_config_defaults(&cfg);
	for (unsigned i = 0; i < n; i++) {
		if (i == WEIR_CFG_MAX_SCRIPTS || strlen(scripts[i]) >= WEIR_CFG_STR) {
			fprintf(stderr, "%s: %s: at most %d scripts of paths under %d bytes\n",
			        prog, scripts[i], WEIR_CFG_MAX_SCRIPTS, WEIR_CFG_STR);
			return 65;
		}
		snprintf(cfg.scripts[i], sizeof(cfg.scripts[i]), "%s", scripts[i]);
	}
	cfg.n_scripts = n;
	if (weir_station_check_cfg_scripts(&cfg, prog, 1) != 0)
		return 65;
	printf("ok: %u script%s\n", n, n == 1 ? "" : "s");
	return 0;
}
