/* statpub.c — the seqlock behind weir_statpub: the worker fills a private snapshot and copies it into the shared slot. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "stats/statpub.h"

/* A reader that collides with a publication retries; the worker holds the slot odd for one
 * ~10 KiB copy (about a microsecond) every few ms, so this many misses in a row means the
 * worker is publishing far faster than intended: report it instead of spinning on. */
#define READ_TRIES 64
/* Keeps the sequence word and the worker's private fields off the readers' cache lines. */
#define CACHE_LINE 64

struct weir_statpub {
	_Alignas(CACHE_LINE) _Atomic uint64_t seq; /* odd while the worker writes shared */
	_Alignas(CACHE_LINE) struct weir_statpub_snap shared;
	/* worker-private from here */
	_Alignas(CACHE_LINE) struct weir_statpub_snap local;
	uint64_t interval_ns;
	uint64_t last_ns;
	uint64_t alert_seq;
	unsigned alert_head;     /* next slot of the ring in local.alerts */
};

struct weir_statpub *weir_statpub_create(unsigned core, uint64_t interval_ns)
{
	struct weir_statpub *p = aligned_alloc(CACHE_LINE, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	atomic_init(&p->seq, 0);
	p->interval_ns = interval_ns ? interval_ns : WEIR_STATPUB_INTERVAL_NS;
	p->local.core = core;
	p->shared.core = core;
	return p;
}

void weir_statpub_free(struct weir_statpub *p)
{
	free(p);
}

int weir_statpub_due(const struct weir_statpub *p, uint64_t now_ns)
{
	return p->local.gen == 0 || now_ns - p->last_ns >= p->interval_ns || now_ns < p->last_ns;
}

void weir_statpub_account(struct weir_statpub *p, uint64_t busy_ns, uint64_t wall_ns)
{
	p->local.busy_ns += busy_ns;
	p->local.wall_ns += wall_ns;
}

static void copy_str(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

void weir_statpub_alert(struct weir_statpub *p, const struct weir_statpub_alert *a)
{
	struct weir_statpub_alert *slot = &p->local.alerts[p->alert_head];
	*slot = *a;
	slot->seq = ++p->alert_seq;
	copy_str(slot->source, a->source, sizeof(slot->source));
	copy_str(slot->msg, a->msg, sizeof(slot->msg));
	p->alert_head = (p->alert_head + 1) % WEIR_STATPUB_ALERTS;
	p->local.alerts_total++;
}

/* The ring, oldest first, into the shared slot. */
static void publish_alerts(struct weir_statpub *p)
{
	const unsigned n = p->local.alerts_total < WEIR_STATPUB_ALERTS ? (unsigned)p->local.alerts_total
	                                                                 : WEIR_STATPUB_ALERTS;
	const unsigned first = (p->alert_head + WEIR_STATPUB_ALERTS - n) % WEIR_STATPUB_ALERTS;
	for (unsigned i = 0; i < n; i++)
		p->shared.alerts[i] = p->local.alerts[(first + i) % WEIR_STATPUB_ALERTS];
	p->shared.nalerts = n;
}

void weir_statpub_publish(struct weir_statpub *p, const struct weir_worker *w,
                          const struct weir_statpub_port *ports, unsigned nports,
                          const struct weir_statpub_script *scripts, unsigned nscripts, uint64_t now_ns)
{
	struct weir_statpub_snap *l = &p->local;
	if (w) {
		l->st = *weir_worker_stats(w);
		const int n = weir_worker_top_flows(w, l->top, WEIR_TOP_FLOWS_MAX);
		l->ntop = n > 0 ? (unsigned)n : 0;
	}
	l->nports = nports < WEIR_STATPUB_PORTS ? nports : WEIR_STATPUB_PORTS;
	if (l->nports)
		memcpy(l->ports, ports, l->nports * sizeof(*ports));
	l->nscripts = nscripts < WEIR_STATPUB_SCRIPTS ? nscripts : WEIR_STATPUB_SCRIPTS;
	if (l->nscripts)
		memcpy(l->scripts, scripts, l->nscripts * sizeof(*scripts));
	l->gen++;
	l->pub_ns = now_ns;
	p->last_ns = now_ns;

	/* Seqlock write: odd, fence, copy, even (release). Only the part of each array in use is
	 * copied; the readers copy the counts with it. */
	const uint64_t s = atomic_load_explicit(&p->seq, memory_order_relaxed);
	atomic_store_explicit(&p->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	const size_t head = offsetof(struct weir_statpub_snap, ports);
	memcpy(&p->shared, l, head);
	memcpy(p->shared.ports, l->ports, l->nports * sizeof(l->ports[0]));
	memcpy(p->shared.scripts, l->scripts, l->nscripts * sizeof(l->scripts[0]));
	memcpy(p->shared.top, l->top, l->ntop * sizeof(l->top[0]));
	publish_alerts(p);
	atomic_store_explicit(&p->seq, s + 2, memory_order_release);
}

int weir_statpub_read(const struct weir_statpub *p, struct weir_statpub_snap *out)
{
	if (!p || !out)
		return -EINVAL;
	struct weir_statpub *q = (struct weir_statpub *)p; /* the atomic loads need a non-const object */
	for (int i = 0; i < READ_TRIES; i++) {
		const uint64_t s1 = atomic_load_explicit(&q->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		memcpy(out, &p->shared, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&q->seq, memory_order_relaxed) == s1) {
			/* Clamp counts so a caller indexing by them stays in bounds whatever happened. */
			if (out->nports > WEIR_STATPUB_PORTS)
				out->nports = WEIR_STATPUB_PORTS;
			if (out->nscripts > WEIR_STATPUB_SCRIPTS)
				out->nscripts = WEIR_STATPUB_SCRIPTS;
			if (out->ntop > WEIR_TOP_FLOWS_MAX)
				out->ntop = WEIR_TOP_FLOWS_MAX;
			if (out->nalerts > WEIR_STATPUB_ALERTS)
				out->nalerts = WEIR_STATPUB_ALERTS;
			return 0;
		}
	}
	return -EAGAIN;
}
