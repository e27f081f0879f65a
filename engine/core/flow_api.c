/* flow_api.c — what handlers may ask of a flow: addresses, each side's TCP view, counters, stream
 * peeks, controls. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core.h"

#define SIDE_OK(side) ((side) == WEIR_SIDE_CLIENT || (side) == WEIR_SIDE_SERVER)

uint64_t weir_flow_id(const struct weir_flow *f)
{
	return f ? f->id : 0;
}

/* Every member of the tuple is written below: no memset first (each flow record takes one). */
_Static_assert(sizeof(struct weir_tuple) == 2 * 16 + 4 * sizeof(uint16_t) + 4 + sizeof(uint32_t),
               "weir_flow_tuple() writes every member");

/* The tuple is not stored: the table's key holds both endpoints, client_dir says which is which. */
int weir_flow_tuple(const struct weir_flow *f, struct weir_tuple *out)
{
	if (!f || !out)
		return -EINVAL;
	const struct weir_flow_key *k = &f->ft.key;
	const bool client_b = f->client_dir != 0;
	memcpy(out->client_ip, client_b ? k->b : k->a, sizeof(out->client_ip));
	memcpy(out->server_ip, client_b ? k->a : k->b, sizeof(out->server_ip));
	out->client_port = client_b ? k->pb : k->pa;
	out->server_port = client_b ? k->pa : k->pb;
	out->vlan[0] = k->vlan[0];
	out->vlan[1] = k->vlan[1];
	out->ip_ver = k->ip_ver;
	out->tunnel = f->tun_type;
	out->tun_depth = f->tun_depth;
	out->tun_keyed = k->tun_keyed;
	out->tun_id = k->tun_id;
	return 0;
}

int weir_flow_state(const struct weir_flow *f, int side)
{
	if (!f || !SIDE_OK(side))
		return -EINVAL;
	return f->tcp.side[side].state;
}

int weir_flow_tcp_info(const struct weir_flow *f, int side, struct weir_tcp_info *out)
{
	if (!f || !SIDE_OK(side) || !out)
		return -EINVAL;
	const struct weir_tcp_side *s = &f->tcp.side[side];
	memset(out, 0, sizeof(*out));
	out->isn = s->isn;
	out->snd_una = s->snd_una;
	out->snd_nxt = s->snd_nxt;
	out->rcv_wnd = s->rcv_wnd;
	out->mss = s->mss;
	out->state = s->state;
	out->wscale = s->wscale;
	out->sack_perm = s->sack_perm;
	out->has_ts = s->has_ts;
	return 0;
}

int weir_flow_counters(const struct weir_flow *f, int side, struct weir_side_counters *out)
{
	if (!f || !SIDE_OK(side) || !out)
		return -EINVAL;
	weir_side_counters_of(&f->tcp.side[side], out);
	return 0;
}

int weir_flow_buf_info(const struct weir_flow *f, int side, struct weir_buf_info *out)
{
	if (!f || !SIDE_OK(side) || !out)
		return -EINVAL;
	const struct weir_stream *s = &f->tcp.side[side].stream;
	memset(out, 0, sizeof(*out));
	out->base = s->base;
	out->next = s->next;
	out->last = s->last;
	out->held_ooo = weir_stream_held(s);
	out->buffering = s->buffering;
	out->overlap = s->overlap;
	return 0;
}

int weir_flow_frag_info(const struct weir_flow *f, int side, struct weir_frag *out, unsigned max)
{
	if (!f || !SIDE_OK(side) || (!out && max))
		return -EINVAL;
	return weir_stream_frags(&f->tcp.side[side].stream, out, max);
}

ssize_t weir_flow_peek(const struct weir_flow *f, int side, uint64_t off, void *buf, size_t len)
{
	if (!f || !SIDE_OK(side) || (!buf && len))
		return -EINVAL;
	return weir_stream_peek(&f->tcp.side[side].stream, off, buf, len);
}

ssize_t weir_flow_view(const struct weir_flow *f, int side, uint64_t off, const uint8_t **ptr)
{
	if (!f || !SIDE_OK(side) || !ptr)
		return -EINVAL;
	return weir_stream_view(&f->tcp.side[side].stream, off, ptr);
}

/* Applies fn to side, or to both sides for WEIR_SIDE_BOTH. */
#define FOR_SIDES(side, s, body)                                                                   \
	for (int s = (side) == WEIR_SIDE_BOTH ? 0 : (side);                                        \
	     s <= ((side) == WEIR_SIDE_BOTH ? 1 : (side)); s++)                                    \
	body

int weir_flow_set_buffering(struct weir_flow *f, int side, bool on)
{
	if (!f || (!SIDE_OK(side) && side != WEIR_SIDE_BOTH))
		return -EINVAL;
	FOR_SIDES(side, s, {
		if (on && (f->tcp.side[s].flags & WEIR_TCPF_STOPPED))
			return -EPERM; /* a stopped side stays stopped */
		weir_stream_set_buffering(&f->tcp.side[s].stream, &f->w->mem, on);
	});
	return 0;
}

int weir_flow_set_overlap(struct weir_flow *f, int side, int policy)
{
	if (!f || (!SIDE_OK(side) && side != WEIR_SIDE_BOTH) ||
	    (policy != WEIR_OVERLAP_FIRST && policy != WEIR_OVERLAP_LAST))
		return -EINVAL;
	FOR_SIDES(side, s, { f->tcp.side[s].stream.overlap = (uint8_t)policy; });
	return 0;
}

int weir_flow_stop_monitor(struct weir_flow *f, int side)
{
	if (!f || (!SIDE_OK(side) && side != WEIR_SIDE_BOTH))
		return -EINVAL;
	FOR_SIDES(side, s, {
		f->tcp.side[s].flags |= WEIR_TCPF_STOPPED;
		weir_stream_set_buffering(&f->tcp.side[s].stream, &f->w->mem, false);
	});
	if ((f->tcp.side[0].flags & WEIR_TCPF_STOPPED) &&
	    (f->tcp.side[1].flags & WEIR_TCPF_STOPPED))
		f->bypassed = 1;
	return 0;
}

int weir_flow_set_user(struct weir_flow *f, const struct weir_msock *s, void *user)
{
	if (!f || !s)
		return -EINVAL;
	if (!f->user) {
		if (!user)
			return 0;
		/* Few flows get one: the slots are taken from the worker's memory when first
		 * needed. */
		f->user = weir_mem_zalloc(&f->w->mem, WEIR_FLOW_USERS * sizeof(*f->user));
		if (!f->user)
			return -ENOMEM;
	}
	int free_slot = -1;
	for (int i = 0; i < WEIR_FLOW_USERS; i++) {
		if (f->user[i].ptr && f->user[i].sock == s->id) {
			f->user[i].ptr = user;
			return 0;
		}
		if (!f->user[i].ptr && free_slot < 0)
			free_slot = i;
	}
	if (!user)
		return 0;
	if (free_slot < 0)
		return -ENOSPC;
	f->user[free_slot].sock = (uint16_t)s->id;
	f->user[free_slot].ptr = user;
	return 0;
}

void *weir_flow_user(const struct weir_flow *f, const struct weir_msock *s)
{
	if (!f || !s || !f->user)
		return NULL;
	for (int i = 0; i < WEIR_FLOW_USERS; i++)
		if (f->user[i].ptr && f->user[i].sock == s->id)
			return f->user[i].ptr;
	return NULL;
}

int weir_flow_midstream(const struct weir_flow *f)
{
	return f ? f->tcp.midstream : -EINVAL;
}
