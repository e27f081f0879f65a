/* event.c — registrations, user-defined events, the record queue, C dispatch, user timers and names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define HOOK(h) (1u << (h))
#define ALL_HOOKS (HOOK(WEIR_HOOK_PRE) | HOOK(WEIR_HOOK_POST_SND) | HOOK(WEIR_HOOK_POST_RCV))
#define POST_HOOKS (HOOK(WEIR_HOOK_POST_SND) | HOOK(WEIR_HOOK_POST_RCV))

unsigned weir_event_hooks(uint32_t ev)
{
	static const unsigned hooks[WEIR_EV_BUILTIN_COUNT] = {
		[WEIR_EV_PKT_IN] = ALL_HOOKS,
		[WEIR_EV_CONN_START] = ALL_HOOKS,
		[WEIR_EV_HANDSHAKE_DONE] = HOOK(WEIR_HOOK_POST_RCV),
		[WEIR_EV_STATE_CHANGE] = POST_HOOKS,
		[WEIR_EV_NEW_DATA] = HOOK(WEIR_HOOK_POST_RCV),
		[WEIR_EV_REXMIT] = ALL_HOOKS,
		[WEIR_EV_CONN_END] = HOOK(WEIR_HOOK_POST_RCV),
		[WEIR_EV_ORPHAN] = HOOK(WEIR_HOOK_PRE),
		[WEIR_EV_ANOMALY] = POST_HOOKS,
		[WEIR_EV_TIMEOUT] = HOOK(WEIR_HOOK_POST_RCV),
		[WEIR_EV_TIMER] = HOOK(WEIR_HOOK_POST_RCV),
	};
	return ev < WEIR_EV_BUILTIN_COUNT ? hooks[ev] : 0;
}

void weir_subs_update(struct weir_worker *w)
{
	memset(w->subs, 0, sizeof(w->subs));
	for (uint64_t open = w->open_socks; open; open &= open - 1) {
		const struct weir_msock *s = w->socks[__builtin_ctzll(open)];
		for (int h = 0; h < WEIR_HOOK_COUNT; h++)
			w->subs[h] |= s->sub[h];
	}
}

void weir_emit_socks(struct weir_worker *w, struct weir_flow *f, uint64_t scope, int hook, uint32_t bits,
                     int side, uint64_t arg)
{
	scope &= w->open_socks;
	while (scope) {
		const unsigned id = (unsigned)__builtin_ctzll(scope);
		scope &= scope - 1;
		struct weir_msock *s = w->socks[id];
		uint32_t m = s->sub[hook] & bits;
		while (m) {
			const uint32_t ev = (uint32_t)__builtin_ctz(m);
			m &= m - 1;
			if (w->qn == WEIR_QUEUE_MAX) {
				w->q_lost++;
				continue;
			}
			struct weir_event_rec *r = &w->q[w->qn++];
			r->flow = f;
			r->sock = s;
			r->arg = arg;
			r->event = ev;
			r->sock_id = (uint16_t)id;
			r->hook = (uint8_t)hook;
			r->side = (uint8_t)side;
		}
	}
}

bool weir_subscribed(const struct weir_worker *w, uint64_t scope, int hook, uint32_t bits)
{
	if (!(bits & w->subs[hook]))
		return false;
	scope &= w->open_socks;
	while (scope) {
		const unsigned id = (unsigned)__builtin_ctzll(scope);
		scope &= scope - 1;
		if (w->socks[id]->sub[hook] & bits)
			return true;
	}
	return false;
}

/* ---- user-defined events ------------------------------------------------------------------ */

/* The slot of a defined UDE ev, or -1 (a built-in, unknown, or released). */
static int ude_index(const struct weir_worker *w, uint32_t ev)
{
	if (ev < WEIR_EV_UDE_FIRST || ev >= WEIR_EV_UDE_FIRST + w->nudes)
		return -1;
	const unsigned i = ev - WEIR_EV_UDE_FIRST;
	return w->udes[i].refs ? (int)i : -1;
}

int weir_event_root(const struct weir_worker *w, uint32_t ev)
{
	if (ev < WEIR_EV_BUILTIN_COUNT)
		return (int)ev;
	const int i = w ? ude_index(w, ev) : -1;
	return i >= 0 ? (int)w->udes[i].root : -EINVAL;
}

int weir_event_base(const struct weir_worker *w, uint32_t ev)
{
	const int i = w ? ude_index(w, ev) : -1;
	return i >= 0 ? (int)w->udes[i].base : -EINVAL;
}

int weir_event_define(struct weir_worker *w, uint32_t base, weir_filter_fn filter, void *user)
{
	if (!w)
		return -EINVAL;
	const int root = weir_event_root(w, base);
	if (root < 0)
		return -EINVAL;
	unsigned slot = w->nudes;
	for (unsigned i = 0; i < w->nudes; i++) {
		struct weir_ude *u = &w->udes[i];
		if (!u->refs) {
			slot =
			    slot < i ? slot : i; /* the lowest free one, if it comes to a new id */
			continue;
		}
		if (u->base == base && u->filter == filter && u->user == user) {
			u->refs++;
			return (int)(WEIR_EV_UDE_FIRST + i);
		}
	}
	if (slot == WEIR_EV_UDE_MAX - WEIR_EV_UDE_FIRST)
		return -ENOSPC;
	const int b = ude_index(w, base);
	if (b >= 0) /* a base stays defined while a UDE on it is */
		w->udes[b].refs++;
	w->udes[slot] = (struct weir_ude){
	    .base = base, .root = (uint32_t)root, .filter = filter, .user = user, .refs = 1};
	if (slot == w->nudes)
		w->nudes++;
	return (int)(WEIR_EV_UDE_FIRST + slot);
}

int weir_event_release(struct weir_worker *w, uint32_t ev)
{
	int i = w ? ude_index(w, ev) : -1;
	if (i < 0)
		return -EINVAL;
	while (i >= 0 && --w->udes[i].refs == 0) /* its last definition: its base loses one too */
		i = ude_index(w, w->udes[i].base);
	return 0;
}

/* ---- registrations ------------------------------------------------------------------------ */

static void resubscribe(struct weir_msock *s)
{
	memset(s->sub, 0, sizeof(s->sub));
	for (unsigned i = 0; i < s->nregs; i++) {
		const struct weir_reg *r = &s->regs[i];
		s->sub[r->hook] |= 1u << weir_event_root(s->w, r->event);
	}
	weir_subs_update(s->w);
}

int weir_msock_register(struct weir_msock *s, uint32_t event, int hook, weir_handler_fn fn, void *user)
{
	if (!s || hook < 0 || hook >= WEIR_HOOK_COUNT)
		return -EINVAL;
	if (!weir_msock_is_open(s))
		return -EBADF;
	const int root = weir_event_root(s->w, event);
	if (root < 0 || !(weir_event_hooks((uint32_t)root) & HOOK(hook)))
		return -EINVAL;
	if (s->nregs == s->capregs) {
		const unsigned cap = s->capregs ? s->capregs * 2 : 8;
		struct weir_reg *regs = realloc(s->regs, cap * sizeof(*regs));
		if (!regs)
			return -ENOMEM;
		s->regs = regs;
		s->capregs = cap;
	}
	s->regs[s->nregs++] = (struct weir_reg){ .event = event, .hook = (uint8_t)hook, .fn = fn, .user = user };
	s->sub[hook] |= 1u << root;
	s->w->subs[hook] |= 1u << root;
	return 0;
}

int weir_msock_unregister(struct weir_msock *s, uint32_t event, int hook)
{
	if (!s || hook < 0 || hook >= WEIR_HOOK_COUNT)
		return -EINVAL;
	if (!weir_msock_is_open(s))
		return -EBADF;
	unsigned kept = 0;
	for (unsigned i = 0; i < s->nregs; i++) {
		if (s->regs[i].event == event && s->regs[i].hook == hook)
			continue;
		s->regs[kept++] = s->regs[i];
	}
	if (kept == s->nregs)
		return -ENOENT;
	s->nregs = kept;
	resubscribe(s);
	return 0;
}

/* ---- C dispatch --------------------------------------------------------------------------- */

/* Whether UDE ev fires for record r: its base fires and its filter agrees; results are cached
 * for the record so shared ancestors are evaluated once. */
static int ude_fires(struct weir_worker *w, uint32_t ev, const struct weir_event_rec *r)
{
	if (ev < WEIR_EV_BUILTIN_COUNT)
		return ev == r->event;
	const unsigned i = ev - WEIR_EV_UDE_FIRST;
	if (w->ude_stamp[i] == w->ude_gen)
		return w->ude_val[i];
	const struct weir_ude *u = &w->udes[i];
	int v = u->root == r->event && ude_fires(w, u->base, r);
	if (v && u->filter)
		v = u->filter(r->sock, r->flow, r->side, ev, r->arg, u->user);
	w->ude_stamp[i] = w->ude_gen;
	w->ude_val[i] = (uint8_t)v;
	return v;
}

void weir_dispatch(struct weir_worker *w, const struct weir_event_rec *recs, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		const struct weir_event_rec *r = &recs[k];
		struct weir_msock *s = r->sock;
		if (!(w->open_socks & (1ull << r->sock_id))) /* closed by an earlier handler */
			continue;
		if (++w->ude_gen == 0) { /* wrapped: stale stamps could match again */
			memset(w->ude_stamp, 0, sizeof(w->ude_stamp));
			w->ude_gen = 1;
		}
		/* Handlers may register or unregister meanwhile: re-read the bound every time. */
		for (unsigned i = 0; i < s->nregs; i++) {
			const struct weir_reg reg = s->regs[i];
			if (reg.hook != r->hook || !reg.fn)
				continue;
			if (reg.event == r->event || (reg.event >= WEIR_EV_UDE_FIRST && ude_fires(w, reg.event, r)))
				reg.fn(s, r->flow, r->side, reg.event, r->arg, reg.user);
		}
	}
}

/* ---- user timers (a binary min-heap on due time, then arming order) ------------------------ */

static int timer_before(const struct weir_timer *a, const struct weir_timer *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_swap(struct weir_timer *t, unsigned a, unsigned b)
{
	struct weir_timer x = t[a];
	t[a] = t[b];
	t[b] = x;
}

/* Restores the heap order below i (after t[i] was replaced). */
static void heap_down(struct weir_timer *t, unsigned n, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, m = i;
		if (l < n && timer_before(&t[l], &t[m]))
			m = l;
		if (l + 1 < n && timer_before(&t[l + 1], &t[m]))
			m = l + 1;
		if (m == i)
			return;
		heap_swap(t, i, m);
		i = m;
	}
}

int weir_timer_add(struct weir_msock *s, struct weir_flow *flow, uint64_t delay_ms, uint64_t cookie)
{
	if (!s || delay_ms > WEIR_TIMER_MAX_DAYS * 86400000ull)
		return -EINVAL;
	if (!weir_msock_is_open(s))
		return -EBADF;
	struct weir_worker *w = s->w;
	if (w->ntimers == w->captimers) {
		const unsigned cap = w->captimers ? w->captimers * 2 : 64;
		struct weir_timer *t = realloc(w->timers, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		w->timers = t;
		w->captimers = cap;
	}
	unsigned i = w->ntimers++;
	w->timers[i] = (struct weir_timer){ .due_ns = w->now_ns + delay_ms * 1000000ull,
		                            .seq = w->timer_seq++, .cookie = cookie,
		                            .flow_id = flow ? flow->id : 0, .flow = flow, .sock = s };
	while (i && timer_before(&w->timers[i], &w->timers[(i - 1) / 2])) {
		heap_swap(w->timers, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct weir_timer timer_pop(struct weir_worker *w)
{
	struct weir_timer *t = w->timers;
	struct weir_timer top = t[0];
	t[0] = t[--w->ntimers];
	heap_down(t, w->ntimers, 0);
	return top;
}

unsigned weir_timers_fire(struct weir_worker *w)
{
	unsigned queued = w->qn;
	while (weir_timer_due(w)) {
		struct weir_timer t = timer_pop(w);
		struct weir_flow *f = t.flow;
		/* a flow's timers die with it: the entry may since hold another flow */
		if (f && (!f->ft.in_use || f->id != t.flow_id || f->ended))
			continue;
		w->st.events[WEIR_EV_TIMER]++;
		weir_emit(w, f, 1ull << t.sock->id, WEIR_HOOK_POST_RCV, 1u << WEIR_EV_TIMER,
		          WEIR_SIDE_BOTH, t.cookie);
		w->have_pkt = 0;
		if (w->qn - queued >= WEIR_POLL_MIN)
			break;
	}
	return w->qn - queued;
}

void weir_timers_cancel(struct weir_worker *w, const struct weir_msock *s)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < w->ntimers; i++)
		if (w->timers[i].sock != s)
			w->timers[kept++] = w->timers[i];
	if (kept == w->ntimers)
		return;
	w->ntimers = kept;
	for (unsigned i = kept / 2; i-- > 0;) /* rebuild the heap bottom-up */
		heap_down(w->timers, kept, i);
}

void weir_timers_free(struct weir_worker *w)
{
	free(w->timers);
	w->timers = NULL;
	w->ntimers = w->captimers = 0;
}
