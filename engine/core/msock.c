/* msock.c — monitoring sockets: creation, scope as a tcpdump expression compiled by libpcap,
 * closing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Snap length handed to the filter compiler: large enough for any frame we receive. */
#define WEIR_FILTER_SNAPLEN 262144

/* Compiles expr for linktype into *prog; on failure writes libpcap's message to err. */
static int filter_compile(const char *expr, int linktype, struct bpf_program *prog, char *err,
                          size_t errlen)
{
	pcap_t *dead = pcap_open_dead(linktype, WEIR_FILTER_SNAPLEN);
	if (!dead) {
		if (err && errlen)
			snprintf(err, errlen, "cannot compile filters for link type %d", linktype);
		return -EINVAL;
	}
	int rc = 0;
	if (pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s", pcap_geterr(dead));
		rc = -EINVAL;
	}
	pcap_close(dead);
	return rc;
}

struct weir_msock *weir_msock_create(struct weir_worker *w, const char *filter, char *err,
                                     size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!w) {
		errno = EINVAL;
		return NULL;
	}
	/* The lowest free id: a closed socket's id is free again only once weir_msock_reclaim()
	 * freed it; flows that knew the old socket forget it when they meet the new one
	 * (weir_msock_rescope). */
	unsigned id = 0;
	while (id < WEIR_MAX_SOCKS && w->socks[id])
		id++;
	if (id == WEIR_MAX_SOCKS) {
		if (err && errlen)
			snprintf(err, errlen, "at most %d monitoring sockets per worker",
			         WEIR_MAX_SOCKS);
		errno = ENOSPC;
		return NULL;
	}
	struct weir_msock *s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->w = w;
	s->id = id;
	s->born = w->socks_born;
	if (filter && filter[0]) {
		/* Validate now (as Ethernet) so a bad expression fails here, not on the first
		 * packet. */
		struct weir_msock_prog *p = &s->progs[0];
		if (filter_compile(filter, DLT_EN10MB, &p->prog, err, errlen) != 0) {
			free(s);
			errno = EINVAL;
			return NULL;
		}
		p->linktype = DLT_EN10MB;
		p->ok = 1;
		s->nprogs = 1;
		s->filter = strdup(filter);
		if (!s->filter) {
			pcap_freecode(&p->prog);
			free(s);
			errno = ENOMEM;
			return NULL;
		}
	}
	w->socks[id] = s;
	w->open_socks |= 1ull << id;
	w->socks_born++;
	return s;
}

int weir_msock_is_open(const struct weir_msock *s)
{
	/* an id is reused only after weir_msock_reclaim() freed the closed socket that held it, so
	 * a live handle's bit in open_socks is its own */
	return (int)(s->w->open_socks >> s->id & 1);
}

/* Frees what the socket holds besides its struct; safe to call again. */
static void msock_release(struct weir_msock *s)
{
	for (unsigned i = 0; i < s->nprogs; i++)
		if (s->progs[i].ok)
			pcap_freecode(&s->progs[i].prog);
	s->nprogs = 0;
	free(s->filter);
	s->filter = NULL;
	free(s->regs);
	s->regs = NULL;
	s->nregs = s->capregs = 0;
	memset(s->sub, 0, sizeof(s->sub));
}

void weir_msock_close(struct weir_msock *s)
{
	if (!s || !weir_msock_is_open(s))
		return;
	struct weir_worker *w = s->w;
	/* Records already queued for this socket are skipped by the dispatchers (open_socks). */
	w->open_socks &= ~(1ull << s->id);
	weir_timers_cancel(w, s);
	/* The struct itself stays in w->socks until the worker is freed: a second close, or any
	 * other call on the closed handle, finds it closed instead of touching freed memory. */
	msock_release(s);
	weir_subs_update(w);
}

int weir_msock_reclaim(struct weir_worker *w)
{
	if (!w)
		return -EINVAL;
	/* Between packets every record was handed out and dispatched; a burst handed over but not
	 * polled yet (the station swaps a host there) has none. */
	if (w->qi < w->qn || w->phase != WEIR_PH_IDLE)
		return -EBUSY;
	int n = 0;
	for (unsigned i = 0; i < WEIR_MAX_SOCKS; i++)
		if (w->socks[i] && !(w->open_socks >> i & 1)) {
			free(w->socks[i]);
			w->socks[i] = NULL;
			n++;
		}
	return n;
}

void weir_msock_free_all(struct weir_worker *w)
{
	for (unsigned i = 0; i < WEIR_MAX_SOCKS; i++)
		if (w->socks[i]) {
			msock_release(w->socks[i]);
			free(w->socks[i]);
		}
	memset(w->socks, 0, sizeof(w->socks));
	w->open_socks = 0;
	weir_subs_update(w);
}

struct weir_worker *weir_msock_worker(const struct weir_msock *s)
{
	return s ? s->w : NULL;
}

unsigned weir_msock_id(const struct weir_msock *s)
{
	return s ? s->id : 0;
}

/* The socket's program for linktype, compiled on first use; NULL when it cannot be compiled. */
static const struct bpf_program *msock_prog(struct weir_msock *s, int linktype)
{
	for (unsigned i = 0; i < s->nprogs; i++)
		if (s->progs[i].linktype == linktype)
			return s->progs[i].ok ? &s->progs[i].prog : NULL;
	if (s->nprogs == WEIR_MSOCK_PROGS)
		return NULL;
	struct weir_msock_prog *p = &s->progs[s->nprogs++];
	p->linktype = linktype;
	p->ok = filter_compile(s->filter, linktype, &p->prog, NULL, 0) == 0;
	return p->ok ? &p->prog : NULL;
}

/* Whether socket s's scope takes the packet rx in. */
static bool msock_matches(struct weir_msock *s, const struct weir_rx_pkt *rx)
{
	if (!s->filter)
		return true;
	const struct bpf_program *prog = msock_prog(s, rx->linktype);
	struct pcap_pkthdr h = {.caplen = rx->caplen, .len = rx->wirelen};
	return prog && pcap_offline_filter(prog, &h, rx->frame);
}

uint64_t weir_msock_scope(struct weir_worker *w, const struct weir_rx_pkt *rx)
{
	uint64_t scope = 0, open = w->open_socks;
	while (open) {
		const unsigned id = (unsigned)__builtin_ctzll(open);
		open &= open - 1;
		if (msock_matches(w->socks[id], rx))
			scope |= 1ull << id;
	}
	return scope;
}

void weir_msock_rescope(struct weir_worker *w, struct weir_flow *f, const struct weir_rx_pkt *rx)
{
	uint64_t newer = 0, in = 0;
	for (unsigned id = 0; id < WEIR_MAX_SOCKS; id++) {
		struct weir_msock *s = w->socks[id];
		/* born at or after the flow's last scoping (wrap-safe) */
		if (!s || (int32_t)(s->born - f->scoped) < 0)
			continue;
		newer |= 1ull << id;
		if ((w->open_socks >> id & 1) && (rx ? msock_matches(s, rx) : !s->filter))
			in |= 1ull << id;
	}
	f->sock_mask = (f->sock_mask & ~newer) | in;
	for (unsigned i = 0; f->user && i < WEIR_FLOW_USERS; i++)
		if (f->user[i].ptr && (newer >> f->user[i].sock & 1))
			f->user[i].ptr = NULL;
	f->scoped = w->socks_born;
}
