/* model.c — the dashboard's model: sums the workers' snapshots, derives rates, keeps the charted history and recent alerts, renders JSON. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/metrics.h"
#include "web/web_int.h"
#include "json/json.h"

/** Alerts kept for the page's feed (newest first); older ones remain counted in the totals. */
#define RECENT_ALERTS 100
/** Rows of the merged top-flows table: a laptop screen shows about this many. */
#define TOP_ROWS 20

/* Drop reasons shown on the page and in /api/stats. */
enum drop_reason { DROP_VERDICT = 0, DROP_RX_MISSED, DROP_RX_ERRORS, DROP_TX_ERRORS, DROP_MALFORMED,
	           DROP_REFUSED, DROP_FRAGMENTS, DROP_NON_TCP, DROP_COUNT };
static const char *const drop_names[DROP_COUNT] = { "verdict", "rx_missed", "rx_errors", "tx_errors",
	                                            "malformed", "flows_refused", "fragments", "non_tcp" };

struct hist {
	uint64_t t_ms;
	double pps, gbps, active, new_fps, events_ps, alerts_ps, drops_ps;
};

struct core_prev {
	uint64_t pkts, busy, wall, alert_seq;
	double pps, load;
};

struct recent_alert {
	struct weir_statpub_alert a;
	unsigned core;
};

struct weir_model {
	struct weir_statpub **pubs;
	unsigned npubs;
	struct weir_statpub_snap *snap; /* latest per worker */
	struct core_prev *cp;
	struct weir_stats tot, prev;
	uint64_t drops[DROP_COUNT], prev_drops[DROP_COUNT];
	uint64_t alerts, prev_alerts;
	double pps, bps, new_fps, alerts_ps, events_ps[WEIR_EV_BUILTIN_COUNT], drops_ps[DROP_COUNT];
	uint64_t prev_ns, samples;
	struct hist *hist;
	unsigned hn, hhead, hcount;
	struct recent_alert recent[RECENT_ALERTS];
	unsigned rhead, rcount;
	char mode[16], state[32];
	uint64_t reloads, reloads_failed;
	uint64_t boot_ms, wall_ms;
};

/* ---- JSON strings -------------------------------------------------------------------------- */

/* Appends s as a JSON string through the one escaper (engine/json), in room for its worst case. */
static void json_str(struct weir_sbuf *b, const char *s)
{
	const size_t n = strlen(s), max = WEIR_JSON_STR_MAX(n) + 1;
	char *p = weir_sb_room(b, max);
	if (!p)
		return;
	struct weir_json w;
	weir_json_init(&w, p, max);
	weir_json_str(&w, s, n);
	weir_json_end(&w);
	b->len += w.pos;
}

/* ---- lifetime ------------------------------------------------------------------------------- */

struct weir_model *weir_model_create(struct weir_statpub *const *pubs, unsigned npubs, unsigned history_n,
                                     const char *mode, uint64_t boot_ms)
{
	struct weir_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->npubs = npubs;
	m->pubs = calloc(npubs ? npubs : 1, sizeof(*m->pubs));
	m->snap = calloc(npubs ? npubs : 1, sizeof(*m->snap));
	m->cp = calloc(npubs ? npubs : 1, sizeof(*m->cp));
	m->hn = history_n ? history_n : 1;
	m->hist = calloc(m->hn, sizeof(*m->hist));
	if (!m->pubs || !m->snap || !m->cp || !m->hist) {
		weir_model_free(m);
		return NULL;
	}
	for (unsigned i = 0; i < npubs; i++)
		m->pubs[i] = pubs[i];
	snprintf(m->mode, sizeof(m->mode), "%s", mode ? mode : "run");
	snprintf(m->state, sizeof(m->state), "starting");
	m->boot_ms = boot_ms;
	return m;
}

void weir_model_free(struct weir_model *m)
{
	if (!m)
		return;
	free(m->pubs);
	free(m->snap);
	free(m->cp);
	free(m->hist);
	free(m);
}

/* ---- sampling ------------------------------------------------------------------------------- */

static void sum_stats(struct weir_stats *t, const struct weir_stats *s)
{
	uint64_t *a = (uint64_t *)t;
	const uint64_t *b = (const uint64_t *)s;
	_Static_assert(sizeof(struct weir_stats) % sizeof(uint64_t) == 0, "weir_stats is all uint64_t");
	for (size_t i = 0; i < sizeof(*t) / sizeof(uint64_t); i++)
		a[i] += b[i];
}

static double rate(uint64_t cur, uint64_t prev, double dt)
{
	return cur >= prev && dt > 0 ? (double)(cur - prev) / dt : 0.0;
}

/* New alerts of core c (seq beyond the last seen) into the recent ring. */
static void take_alerts(struct weir_model *m, unsigned c)
{
	const struct weir_statpub_snap *s = &m->snap[c];
	for (unsigned i = 0; i < s->nalerts; i++) {
		if (s->alerts[i].seq <= m->cp[c].alert_seq)
			continue;
		m->cp[c].alert_seq = s->alerts[i].seq;
		m->recent[m->rhead].a = s->alerts[i];
		m->recent[m->rhead].core = s->core;
		m->rhead = (m->rhead + 1) % RECENT_ALERTS;
		if (m->rcount < RECENT_ALERTS)
			m->rcount++;
	}
}

static void sum_all(struct weir_model *m, double dt)
{
	memset(&m->tot, 0, sizeof(m->tot));
	memset(m->drops, 0, sizeof(m->drops));
	m->alerts = 0;
	for (unsigned c = 0; c < m->npubs; c++) {
		struct weir_statpub_snap *s = &m->snap[c];
		struct core_prev *p = &m->cp[c];
		/* A slot the worker kept overwriting keeps its previous snapshot for this sample. */
		struct weir_statpub_snap tmp;
		if (weir_statpub_read(m->pubs[c], &tmp) == 0)
			*s = tmp;
		if (s->alerts_total < p->alert_seq) /* the worker restarted */
			p->alert_seq = 0;
		sum_stats(&m->tot, &s->st);
		m->alerts += s->alerts_total;
		m->drops[DROP_VERDICT] += s->st.drops;
		m->drops[DROP_REFUSED] += s->st.flows_refused;
		for (unsigned i = 0; i < WEIR_MAL_COUNT; i++)
			m->drops[DROP_MALFORMED] += s->st.malformed[i];
		for (unsigned i = 0; i < s->nports; i++) {
			m->drops[DROP_RX_MISSED] += s->ports[i].rx_missed;
			m->drops[DROP_RX_ERRORS] += s->ports[i].rx_errors;
			m->drops[DROP_TX_ERRORS] += s->ports[i].tx_errors;
			m->drops[DROP_FRAGMENTS] += s->ports[i].frag_drops;
			m->drops[DROP_NON_TCP] += s->ports[i].non_tcp_drops;
		}
		const uint64_t dw = s->wall_ns >= p->wall ? s->wall_ns - p->wall : 0;
		p->load = dw ? (double)(s->busy_ns - p->busy) / (double)dw : 0.0;
		p->pps = rate(s->st.pkts, p->pkts, dt);
		p->pkts = s->st.pkts;
		p->busy = s->busy_ns;
		p->wall = s->wall_ns;
		take_alerts(m, c);
	}
	m->tot.flow_bytes = m->npubs ? m->snap[0].st.flow_bytes : 0; /* per entry, not a sum */
}

void weir_model_sample(struct weir_model *m, uint64_t now_ns, uint64_t wall_ms, const char *state)
{
	const double dt = m->samples ? (double)(now_ns - m->prev_ns) / 1e9 : 0.0;
	sum_all(m, dt);
	if (m->tot.pkts < m->prev.pkts) /* counters went back: a restarted engine; start over */
		m->hcount = 0;
	m->pps = rate(m->tot.pkts, m->prev.pkts, dt);
	m->bps = rate(m->tot.bytes, m->prev.bytes, dt) * 8;
	m->new_fps = rate(m->tot.flows_created, m->prev.flows_created, dt);
	m->alerts_ps = rate(m->alerts, m->prev_alerts, dt);
	double ev = 0, dr = 0;
	for (unsigned i = 0; i < WEIR_EV_BUILTIN_COUNT; i++)
		ev += m->events_ps[i] = rate(m->tot.events[i], m->prev.events[i], dt);
	for (unsigned i = 0; i < DROP_COUNT; i++)
		dr += m->drops_ps[i] = rate(m->drops[i], m->prev_drops[i], dt);
	if (m->samples) {
		struct hist *h = &m->hist[m->hhead];
		*h = (struct hist){ wall_ms, m->pps, m->bps / 1e9, (double)m->tot.flows_active, m->new_fps, ev,
			            m->alerts_ps, dr };
		m->hhead = (m->hhead + 1) % m->hn;
		if (m->hcount < m->hn)
			m->hcount++;
	}
	m->prev = m->tot;
	memcpy(m->prev_drops, m->drops, sizeof(m->drops));
	m->prev_alerts = m->alerts;
	m->prev_ns = now_ns;
	m->wall_ms = wall_ms;
	m->samples++;
	if (state)
		snprintf(m->state, sizeof(m->state), "%s", state);
}

void weir_model_set_reloads(struct weir_model *m, uint64_t done, uint64_t failed)
{
	m->reloads = done;
	m->reloads_failed = failed;
}

/* ---- rendering ------------------------------------------------------------------------------ */

#define J_COUNTERS(b, names, arr, count)                                                        \
	do {                                                                                    \
		for (unsigned i_ = 0; i_ < (count); i_++)                                       \
			weir_sb_printf(b, "%s\"%s\":%" PRIu64, i_ ? "," : "", names(i_), (arr)[i_]); \
	} while (0)

static const char *close_name_skip_none(unsigned i)
{
	return weir_close_reason_name(i + 1);
}

static void render_stats(const struct weir_model *m, struct weir_sbuf *b)
{
	const struct weir_stats *t = &m->tot;
	weir_sb_printf(b, "{\"boot\":%" PRIu64 ",\"t\":%" PRIu64 ",\"mode\":", m->boot_ms, m->wall_ms);
	json_str(b, m->mode);
	weir_sb_printf(b, ",\"state\":");
	json_str(b, m->state);
	weir_sb_printf(b, ",\"reloads\":{\"done\":%" PRIu64 ",\"failed\":%" PRIu64 "}", m->reloads,
	               m->reloads_failed);
	weir_sb_printf(b, ",\"workers\":%u,\"samples\":%" PRIu64, m->npubs, m->samples);
	weir_sb_printf(b,
	               ",\"totals\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"tcp_packets\":%" PRIu64
	               ",\"other_packets\":%" PRIu64 ",\"fragments\":%" PRIu64 ",\"orphans\":%" PRIu64
	               ",\"alerts\":%" PRIu64 ",\"flows\":{\"created\":%" PRIu64 ",\"closed\":%" PRIu64
	               ",\"active\":%" PRIu64 ",\"midstream\":%" PRIu64 ",\"refused\":%" PRIu64
	               ",\"evicted\":%" PRIu64 "}}",
	               t->pkts, t->bytes, t->tcp_pkts, t->other_pkts, t->frag_pkts, t->orphans, m->alerts,
	               t->flows_created, t->flows_closed, t->flows_active, t->flows_midstream, t->flows_refused,
	               t->flows_evicted);
	weir_sb_printf(b, ",\"rates\":{\"pps\":%.1f,\"bps\":%.1f,\"gbps\":%.6f,\"new_flows_ps\":%.1f,\"alerts_ps\":%.1f",
	               m->pps, m->bps, m->bps / 1e9, m->new_fps, m->alerts_ps);
	weir_sb_printf(b, ",\"events_ps\":{");
	for (unsigned i = 0; i < WEIR_EV_BUILTIN_COUNT; i++)
		weir_sb_printf(b, "%s\"%s\":%.1f", i ? "," : "", weir_event_name(i), m->events_ps[i]);
	weir_sb_printf(b, "},\"drops_ps\":{");
	for (unsigned i = 0; i < DROP_COUNT; i++)
		weir_sb_printf(b, "%s\"%s\":%.1f", i ? "," : "", drop_names[i], m->drops_ps[i]);
	weir_sb_printf(b, "}},\"drops\":{");
	for (unsigned i = 0; i < DROP_COUNT; i++)
		weir_sb_printf(b, "%s\"%s\":%" PRIu64, i ? "," : "", drop_names[i], m->drops[i]);
	weir_sb_printf(b, "},\"events\":{");
	J_COUNTERS(b, weir_event_name, t->events, WEIR_EV_BUILTIN_COUNT);
	weir_sb_printf(b, "},\"anomalies\":{");
	J_COUNTERS(b, weir_anomaly_name, t->anomalies, WEIR_AN_COUNT);
	weir_sb_printf(b, "},\"malformed\":{");
	J_COUNTERS(b, weir_malformed_name, t->malformed, WEIR_MAL_COUNT);
	weir_sb_printf(b, "},\"closes\":{");
	J_COUNTERS(b, close_name_skip_none, t->closes + 1, WEIR_CLOSE_COUNT - 1);
	weir_sb_printf(b,
	               "},\"memory\":{\"used\":%" PRIu64 ",\"peak\":%" PRIu64 ",\"cap\":%" PRIu64
	               ",\"failed\":%" PRIu64 ",\"flow_entry_bytes\":%" PRIu64 "}}",
	               t->mem_used, t->mem_peak, t->mem_cap, t->mem_fail, t->flow_bytes);
}

static void render_cores(const struct weir_model *m, struct weir_sbuf *b)
{
	weir_sb_printf(b, "[");
	for (unsigned c = 0; c < m->npubs; c++) {
		const struct weir_statpub_snap *s = &m->snap[c];
		weir_sb_printf(b,
		               "%s{\"core\":%u,\"load\":%.3f,\"pps\":%.1f,\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
		               ",\"flows_active\":%" PRIu64 ",\"events\":%" PRIu64 ",\"publications\":%" PRIu64
		               ",\"busy_ns\":%" PRIu64 ",\"wall_ns\":%" PRIu64 "}",
		               c ? "," : "", s->core, m->cp[c].load, m->cp[c].pps, s->st.pkts, s->st.bytes,
		               s->st.flows_active, s->st.events[WEIR_EV_PKT_IN], s->gen, s->busy_ns, s->wall_ns);
	}
	weir_sb_printf(b, "]");
}

static void render_ports(const struct weir_model *m, struct weir_sbuf *b)
{
	int first = 1;
	weir_sb_printf(b, "[");
	for (unsigned c = 0; c < m->npubs; c++) {
		const struct weir_statpub_snap *s = &m->snap[c];
		for (unsigned i = 0; i < s->nports; i++, first = 0) {
			const struct weir_statpub_port *p = &s->ports[i];
			weir_sb_printf(b, "%s{\"core\":%u,\"port\":%u,\"name\":", first ? "" : ",", s->core, p->port);
			json_str(b, p->name);
			weir_sb_printf(b,
			               ",\"rx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_packets\":%" PRIu64
			               ",\"tx_bytes\":%" PRIu64 ",\"rx_missed\":%" PRIu64 ",\"rx_errors\":%" PRIu64
			               ",\"tx_errors\":%" PRIu64 ",\"fragment_drops\":%" PRIu64 ",\"non_tcp_drops\":%" PRIu64 "}",
			               p->rx_pkts, p->rx_bytes, p->tx_pkts, p->tx_bytes, p->rx_missed, p->rx_errors,
			               p->tx_errors, p->frag_drops, p->non_tcp_drops);
		}
	}
	weir_sb_printf(b, "]");
}

/* Scripts are merged by name across workers: each worker runs its own copy. */
static void render_scripts(const struct weir_model *m, struct weir_sbuf *b)
{
	struct weir_statpub_script acc[WEIR_STATPUB_SCRIPTS];
	unsigned n = 0;
	for (unsigned c = 0; c < m->npubs; c++) {
		const struct weir_statpub_snap *s = &m->snap[c];
		for (unsigned i = 0; i < s->nscripts; i++) {
			const struct weir_statpub_script *x = &s->scripts[i];
			unsigned k = 0;
			while (k < n && strncmp(acc[k].name, x->name, sizeof(x->name)) != 0)
				k++;
			if (k == n) {
				if (n == WEIR_STATPUB_SCRIPTS)
					continue;
				acc[n] = *x;
				acc[n++].name[sizeof(x->name) - 1] = 0;
				continue;
			}
			acc[k].events += x->events, acc[k].errors += x->errors, acc[k].ns += x->ns;
			acc[k].alerts += x->alerts, acc[k].disabled += x->disabled;
			acc[k].budget_stops += x->budget_stops, acc[k].memory_errors += x->memory_errors;
		}
	}
	weir_sb_printf(b, "[");
	for (unsigned k = 0; k < n; k++) {
		weir_sb_printf(b, "%s{\"name\":", k ? "," : "");
		json_str(b, acc[k].name);
		weir_sb_printf(b,
		               ",\"events\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"ns_per_event\":%.0f,\"alerts\":%" PRIu64
		               ",\"handlers\":%u,\"disabled\":%u,\"budget_stops\":%" PRIu64
		               ",\"memory_errors\":%" PRIu64 "}",
		               acc[k].events, acc[k].errors, acc[k].events ? (double)acc[k].ns / (double)acc[k].events : 0.0,
		               acc[k].alerts, acc[k].handlers, acc[k].disabled, acc[k].budget_stops,
		               acc[k].memory_errors);
	}
	weir_sb_printf(b, "]");
}

static void addr_str(const uint8_t *ip, unsigned ver, uint16_t port, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(ver == 6 ? AF_INET6 : AF_INET, ip, a, sizeof(a));
	snprintf(out, len, ver == 6 ? "[%s]:%u" : "%s:%u", a, port);
}

struct top_row {
	const struct weir_flow_summary *f;
	unsigned core;
};

static int top_cmp(const void *x, const void *y)
{
	const struct weir_flow_summary *a = ((const struct top_row *)x)->f, *b = ((const struct top_row *)y)->f;
	const uint64_t ab = a->bytes[0] + a->bytes[1], bb = b->bytes[0] + b->bytes[1];
	return ab < bb ? 1 : ab > bb ? -1 : 0;
}

static void render_flows(const struct weir_model *m, struct weir_sbuf *b)
{
	struct top_row *rows = calloc((size_t)m->npubs * WEIR_TOP_FLOWS_MAX + 1, sizeof(*rows));
	unsigned n = 0;
	for (unsigned c = 0; rows && c < m->npubs; c++)
		for (unsigned i = 0; i < m->snap[c].ntop; i++)
			rows[n++] = (struct top_row){ &m->snap[c].top[i], m->snap[c].core };
	if (n)
		qsort(rows, n, sizeof(*rows), top_cmp);
	weir_sb_printf(b, "[");
	for (unsigned i = 0; i < n && i < TOP_ROWS; i++) {
		const struct weir_flow_summary *f = rows[i].f;
		char cl[64], sv[64];
		addr_str(f->tuple.client_ip, f->tuple.ip_ver, f->tuple.client_port, cl, sizeof(cl));
		addr_str(f->tuple.server_ip, f->tuple.ip_ver, f->tuple.server_port, sv, sizeof(sv));
		weir_sb_printf(b, "%s{\"flow_id\":%" PRIu64 ",\"core\":%u,\"client\":\"%s\",\"server\":\"%s\"", i ? "," : "",
		               f->flow_id, rows[i].core, cl, sv);
		weir_sb_printf(b,
		               ",\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64 ",\"bytes_c2s\":%" PRIu64 ",\"bytes_s2c\":%" PRIu64
		               ",\"duration_s\":%.3f,\"client_state\":\"%s\",\"server_state\":\"%s\",\"midstream\":%u,\"ended\":%u}",
		               f->bytes[0] + f->bytes[1], f->pkts[0] + f->pkts[1], f->bytes[0], f->bytes[1],
		               f->last_ns >= f->start_ns ? (double)(f->last_ns - f->start_ns) / 1e9 : 0.0,
		               weir_tcp_state_name(f->state[0]), weir_tcp_state_name(f->state[1]), f->midstream, f->ended);
	}
	weir_sb_printf(b, "]");
	free(rows);
}

static void render_alerts(const struct weir_model *m, struct weir_sbuf *b)
{
	weir_sb_printf(b, "[");
	for (unsigned i = 0; i < m->rcount; i++) { /* newest first */
		const struct recent_alert *r = &m->recent[(m->rhead + RECENT_ALERTS - 1 - i) % RECENT_ALERTS];
		char cl[64], sv[64];
		addr_str(r->a.tuple.client_ip, r->a.tuple.ip_ver, r->a.tuple.client_port, cl, sizeof(cl));
		addr_str(r->a.tuple.server_ip, r->a.tuple.ip_ver, r->a.tuple.server_port, sv, sizeof(sv));
		weir_sb_printf(b, "%s{\"ts_ns\":%" PRIu64 ",\"core\":%u,\"seq\":%" PRIu64 ",\"flow_id\":%" PRIu64
		               ",\"sid\":%u,\"severity\":%u,\"client\":\"%s\",\"server\":\"%s\",\"source\":",
		               i ? "," : "", r->a.ts_ns, r->core, r->a.seq, r->a.flow_id, r->a.sid, r->a.severity, cl, sv);
		json_str(b, r->a.source);
		weir_sb_printf(b, ",\"msg\":");
		json_str(b, r->a.msg);
		weir_sb_printf(b, "}");
	}
	weir_sb_printf(b, "]");
}

/* Column arrays, oldest first: what uPlot takes as data. */
static void render_history(const struct weir_model *m, struct weir_sbuf *b)
{
	static const char *const cols[] = { "t", "pps", "gbps", "active", "new_flows_ps", "events_ps", "alerts_ps",
		                            "drops_ps" };
	weir_sb_printf(b, "{");
	for (unsigned c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		weir_sb_printf(b, "%s\"%s\":[", c ? "," : "", cols[c]);
		for (unsigned i = 0; i < m->hcount; i++) {
			const struct hist *h = &m->hist[(m->hhead + m->hn - m->hcount + i) % m->hn];
			const double v[] = { (double)h->t_ms / 1e3, h->pps, h->gbps, h->active, h->new_fps,
				             h->events_ps, h->alerts_ps, h->drops_ps };
			weir_sb_printf(b, c == 0 ? "%s%.3f" : "%s%.6g", i ? "," : "", v[c]);
		}
		weir_sb_printf(b, "]");
	}
	weir_sb_printf(b, "}");
}

void weir_model_render(const struct weir_model *m, enum weir_doc doc, struct weir_sbuf *b)
{
	static void (*const fn[])(const struct weir_model *, struct weir_sbuf *) = {
		[WEIR_DOC_STATS] = render_stats, [WEIR_DOC_CORES] = render_cores, [WEIR_DOC_PORTS] = render_ports,
		[WEIR_DOC_SCRIPTS] = render_scripts, [WEIR_DOC_FLOWS] = render_flows, [WEIR_DOC_ALERTS] = render_alerts,
		[WEIR_DOC_HISTORY] = render_history,
	};
	static const char *const names[] = { "stats", "cores", "ports", "scripts", "flows", "alerts", "history" };
	b->len = 0;
	b->oom = 0;
	if (doc == WEIR_DOC_METRICS) {
		weir_metrics_render(m->snap, m->npubs, m->mode, b);
	} else if (doc == WEIR_DOC_ALL) {
		weir_sb_printf(b, "{");
		for (unsigned d = 0; d < WEIR_DOC_ALL; d++) {
			weir_sb_printf(b, "%s\"%s\":", d ? "," : "", names[d]);
			fn[d](m, b);
		}
		weir_sb_printf(b, "}");
	} else if (doc < WEIR_DOC_ALL) {
		fn[doc](m, b);
	}
	char *end = weir_sb_room(b, 0);
	if (end)
		*end = 0;
}
