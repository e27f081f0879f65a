/* top.c — a bounded per-worker sample of the largest active flows, kept up to date in O(1)
 * amortised per packet for dashboards. */
#include <errno.h>
#include <string.h>

#include "core.h"

static uint64_t flow_bytes_total(const struct weir_flow *f)
{
	return f->tcp.side[0].bytes + f->tcp.side[1].bytes;
}

/* A member's bytes only grow, so a stale minimum is a lower bound of the true one: a flow at or
 * below it cannot enter, and most packets stop at that one comparison. */
static void top_recompute_min(struct weir_worker *w)
{
	uint64_t min = UINT64_MAX;
	unsigned at = 0;
	for (unsigned i = 0; i < w->ntop; i++) {
		const uint64_t b = flow_bytes_total(w->top[i]);
		if (b < min) {
			min = b;
			at = i;
		}
	}
	w->top_min = w->ntop ? min : 0;
	w->top_min_at = at;
}

void weir_top_update(struct weir_worker *w, struct weir_flow *f)
{
	if (f->top_slot)
		return;
	if (w->ntop < WEIR_TOP_FLOWS_MAX) {
		w->top[w->ntop++] = f;
		f->top_slot = (uint8_t)w->ntop;
		if (w->ntop == WEIR_TOP_FLOWS_MAX)
			top_recompute_min(w);
		return;
	}
	const uint64_t b = flow_bytes_total(f);
	if (b <= w->top_min)
		return;
	top_recompute_min(w);
	if (b <= w->top_min)
		return;
	struct weir_flow *out = w->top[w->top_min_at];
	out->top_slot = 0;
	w->top[w->top_min_at] = f;
	f->top_slot = (uint8_t)(w->top_min_at + 1);
	top_recompute_min(w);
}

void weir_top_remove(struct weir_worker *w, struct weir_flow *f)
{
	if (!f->top_slot)
		return;
	const unsigned i = f->top_slot - 1u;
	f->top_slot = 0;
	w->ntop--;
	if (i != w->ntop) {
		w->top[i] = w->top[w->ntop];
		w->top[i]->top_slot = (uint8_t)(i + 1);
	}
	w->top_min = 0; /* a free slot: the next flow seen enters */
}

int weir_worker_top_flows(const struct weir_worker *w, struct weir_flow_summary *out, unsigned max)
{
	if (!w || (!out && max))
		return -EINVAL;
	struct weir_flow_summary all[WEIR_TOP_FLOWS_MAX];
	const unsigned n = w->ntop;
	for (unsigned i = 0; i < n; i++) {
		const struct weir_flow *f = w->top[i];
		struct weir_flow_summary *s = &all[i];
		memset(s, 0, sizeof(*s));
		s->flow_id = f->id;
		weir_flow_tuple(f, &s->tuple);
		s->start_ns = f->start_ns;
		s->last_ns = f->last_ns;
		for (int k = 0; k < 2; k++) {
			s->pkts[k] = f->tcp.side[k].pkts;
			s->bytes[k] = f->tcp.side[k].bytes;
			s->state[k] = f->tcp.side[k].state;
		}
		s->midstream = f->tcp.midstream;
		s->ended = f->ended;
	}
	/* Insertion sort, largest first: n is at most WEIR_TOP_FLOWS_MAX. */
	for (unsigned i = 1; i < n; i++) {
		struct weir_flow_summary t = all[i];
		const uint64_t tb = t.bytes[0] + t.bytes[1];
		unsigned j = i;
		for (; j > 0 && all[j - 1].bytes[0] + all[j - 1].bytes[1] < tb; j--)
			all[j] = all[j - 1];
		all[j] = t;
	}
	const unsigned k = n < max ? n : max;
	if (k)
		memcpy(out, all, k * sizeof(*out));
	return (int)k;
}
