/* worker.c — one worker's packet path as a resumable state machine: parse, flow lookup, PRE, sender
 * update, POST_SND, receiver update, POST_RCV; plus expiries, evictions and shutdown, each pausing
 * where events fire. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "core/settings.h"
#include "parse/parse.h"

#define NS_PER_MS 1000000ull
#define EV(e)     (1u << (e))

static int config_valid(const struct weir_config *c)
{
	return c->max_flows > 0 && c->buffer_per_side >= 1024 &&
	       c->flow_policy <= WEIR_FLOWS_REFUSE_NEW && c->overlap <= WEIR_OVERLAP_LAST &&
	       c->defrag_memcap > 0 && c->defrag_timeout_ms > 0 && c->defrag_max_frags > 0 &&
	       c->defrag_overlap <= WEIR_OVERLAP_LAST && c->checksums <= WEIR_CHECKSUMS_OFF;
}

/* ---- the holders list: what the memory cap reclaims ---------------------------------------- */

static void hold_unlink(struct weir_worker *w, struct weir_flow *f)
{
	if (!f->holding)
		return;
	*(f->hold_prev ? &f->hold_prev->hold_next : &w->hold_head) = f->hold_next;
	*(f->hold_next ? &f->hold_next->hold_prev : &w->hold_tail) = f->hold_prev;
	f->hold_prev = f->hold_next = NULL;
	f->holding = 0;
}

/* f's side began to hold out-of-order bytes: f goes last (its hole is the newest). */
static void hold_link(struct weir_worker *w, struct weir_flow *f)
{
	hold_unlink(w, f);
	f->hold_prev = w->hold_tail;
	*(w->hold_tail ? &w->hold_tail->hold_next : &w->hold_head) = f;
	w->hold_tail = f;
	f->holding = 1;
}

/* The memory cap's reclaim (weir_mem.reclaim): gives up the held out-of-order bytes of the flows
 * whose hole opened longest ago, never the current packet's flow, until need bytes are free. A
 * hole that stays open is what a flood of out-of-order segments leaves; a live connection's
 * reordering is filled within a round trip. Without it such a flood keeps the whole cap and every
 * later flow stops buffering (anomaly memcap). A flow in the list may hold nothing any more (its
 * holes filled): it only leaves the list. */
static void mem_reclaim(void *ctx, uint64_t need)
{
	struct weir_worker *w = ctx;
	const uint64_t start = w->mem.used;
	struct weir_flow *f = w->hold_head;
	while (f && start - w->mem.used < need) {
		struct weir_flow *next = f->hold_next;
		if (f != w->cur) {
			for (int s = WEIR_SIDE_CLIENT; s <= WEIR_SIDE_SERVER; s++)
				w->st.mem_reclaimed +=
				    weir_stream_drop_held(&f->tcp.side[s].stream, &w->mem);
			hold_unlink(w, f);
		}
		f = next;
	}
}

struct weir_worker *weir_worker_create(const struct weir_config *cfg, unsigned id)
{
	if (!cfg || !config_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	struct weir_worker *w = calloc(1, sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->cfg = *cfg;
	w->id = id;
	const uint64_t memcap = cfg->memcap ? cfg->memcap : weir_config_derived_memcap(cfg);
	if (weir_mem_init(&w->mem, memcap) != 0)
		goto err;
	w->mem.reclaim = mem_reclaim;
	w->mem.reclaim_ctx = w;
	w->ft = weir_ft_create(cfg->max_flows, sizeof(struct weir_flow), WEIR_FLOW_ZEROED);
	if (!w->ft)
		goto err;
	w->defrag = weir_defrag_create(cfg, w->st.defrag);
	if (!w->defrag)
		goto err;
	w->next_flow_id = 1;
	w->st.mem_cap = memcap;
	w->st.flow_bytes = weir_ft_entry_cost(w->ft);
	return w;
err:
	weir_ft_free(w->ft);
	weir_mem_fini(&w->mem);
	free(w);
	errno = ENOMEM;
	return NULL;
}

/* Gives back what a flow holds beside its entry and its streams: user slots, the outer header. */
static void flow_release(struct weir_worker *w, struct weir_flow *f)
{
	if (f->user) { /* (most flows hold neither: no call for them) */
		weir_mem_free(&w->mem, f->user, WEIR_FLOW_USERS * sizeof(*f->user));
		f->user = NULL;
	}
	if (f->outer) {
		weir_mem_free(&w->mem, f->outer, sizeof(*f->outer));
		f->outer = NULL;
	}
}

void weir_worker_free(struct weir_worker *w)
{
	if (!w)
		return;
	struct weir_flow *f;
	while ((f = weir_ft_idlest(w->ft)) != NULL) {
		weir_tcp_finish(&f->tcp, &w->mem);
		flow_release(w, f);
		weir_ft_remove(w->ft, f);
	}
	weir_ft_free(w->ft);
	weir_defrag_free(w->defrag);
	weir_msock_free_all(w);
	weir_timers_free(w);
	weir_mem_fini(&w->mem);
	free(w);
}

void weir_worker_set_flow_sink(struct weir_worker *w, weir_flow_sink_fn fn, void *user)
{
	w->sink = fn;
	w->sink_user = user;
}

int weir_worker_rx(struct weir_worker *w, struct weir_rx_pkt *pkts, unsigned n)
{
	if (!w || (!pkts && n) || n > WEIR_RX_MAX)
		return -EINVAL;
	if (w->rx_i < w->nrx || w->phase != WEIR_PH_IDLE)
		return -EBUSY;
	w->rx = pkts;
	w->nrx = n;
	w->rx_i = 0;
	w->ahead_next = 0;
	return 0;
}

void weir_worker_tick(struct weir_worker *w, uint64_t now_ns)
{
	if (now_ns > w->now_ns)
		w->now_ns = now_ns;
}

void weir_worker_shutdown(struct weir_worker *w)
{
	w->shutting_down = 1;
}

const struct weir_pkt *weir_worker_packet(const struct weir_worker *w)
{
	return w && w->have_pkt ? w->pkt : NULL;
}

int weir_worker_drop(struct weir_worker *w)
{
	if (!w || !w->have_pkt || w->rx_i >= w->nrx)
		return -ENOENT;
	w->rx[w->rx_i].verdict = 1;
	return 0;
}

const struct weir_stats *weir_worker_stats(const struct weir_worker *w)
{
	return &w->st;
}

uint64_t weir_worker_now(const struct weir_worker *w)
{
	return w->now_ns;
}

/* ---- flow lifetime ------------------------------------------------------------------------ */

/* Every member is written: no memset first (a flow's record takes two of these). */
_Static_assert(sizeof(struct weir_side_counters) == 12 * sizeof(uint64_t),
               "weir_side_counters_of() writes all 12 counters");
void weir_side_counters_of(const struct weir_tcp_side *s, struct weir_side_counters *c)
{
	c->pkts = s->pkts;
	c->bytes = s->bytes;
	c->payload = s->payload;
	c->delivered = s->stream.delivered;
	c->gap_bytes = s->stream.gap_bytes;
	c->rexmit_pkts = s->rexmit_pkts;
	c->rexmit_bytes = s->rexmit_bytes;
	c->resent_pkts = s->resent_pkts;
	c->ooo_pkts = s->stream.ooo_pkts;
	c->overlaps = s->stream.overlaps;
	c->overlap_diff = s->stream.overlap_diff;
	c->outrun_bytes = s->stream.outrun_bytes;
}

static void flow_record(struct weir_worker *w, struct weir_flow *f, int reason)
{
	if (!w->sink)
		return;
	/* Written member by member, not zeroed first (344 bytes a flow): the record has no padding
	 * (weir.h pads it explicitly), and the outer header is zeroed only when there is none. */
	struct weir_flow_record r;
	r.flow_id = f->id;
	weir_flow_tuple(f, &r.tuple);
	r.start_ns = f->start_ns;
	r.end_ns = f->last_ns;
	for (int s = 0; s < 2; s++) {
		weir_side_counters_of(&f->tcp.side[s], &r.side[s]);
		r.state[s] = f->tcp.side[s].state;
		r.zflags[s] = f->tcp.side[s].zflags;
	}
	r.reason = (uint8_t)reason;
	r.midstream = f->tcp.midstream;
	r.bypassed = f->bypassed;
	r.worker = (uint8_t)w->id;
	memcpy(r.history, f->tcp.hist.s, sizeof(r.history) - 1);
	r.history[sizeof(r.history) - 1] = '\0';
	if (f->outer)
		r.outer = *f->outer;
	else
		memset(&r.outer, 0, sizeof(r.outer));
	w->sink(&r, w->sink_user);
}

static void mem_stats(struct weir_worker *w)
{
	w->st.mem_used = w->mem.used;
	w->st.mem_peak = w->mem.peak;
	w->st.mem_fail = w->mem.fail;
}

/* Frees a flow whose end was raised: flushes its streams, writes its record, returns the entry. */
static void flow_finalize(struct weir_worker *w, struct weir_flow *f, int reason)
{
	weir_tcp_finish(&f->tcp, &w->mem);
	flow_record(w, f, reason);
	flow_release(w, f);
	w->st.flows_closed++;
	w->st.flows_active--;
	w->st.closes[reason]++;
	weir_top_remove(w, f);
	hold_unlink(w, f);
	weir_ft_remove(w->ft, f);
	mem_stats(w);
}

/* Raises the end of a flow: NEW_DATA for bytes released by the flush, TIMEOUT when idle, then
 * CONN_END; all at POST_RCV. Silent for bypassed flows (monitoring was stopped). */
static void raise_end(struct weir_worker *w, struct weir_flow *f, int reason)
{
	uint64_t adv[2] = {f->tcp.side[0].stream.next, f->tcp.side[1].stream.next};
	weir_tcp_flush(&f->tcp);
	adv[0] = f->tcp.side[0].stream.next - adv[0];
	adv[1] = f->tcp.side[1].stream.next - adv[1];
	f->ended = 1;
	f->end_reason = (uint8_t)reason;
	if (f->bypassed)
		return;
	if (f->scoped != w->socks_born) /* an end without a packet; with one, packet_flow did it */
		weir_msock_rescope(w, f, NULL);
	for (int s = 0; s < 2; s++) {
		if (adv[s] && !(f->tcp.side[s].flags & WEIR_TCPF_STOPPED)) {
			w->st.events[WEIR_EV_NEW_DATA]++;
			weir_emit(w, f, f->sock_mask, WEIR_HOOK_POST_RCV, EV(WEIR_EV_NEW_DATA), s,
			          adv[s]);
		}
	}
	if (reason == WEIR_CLOSE_TIMEOUT) {
		w->st.events[WEIR_EV_TIMEOUT]++;
		weir_emit(w, f, f->sock_mask, WEIR_HOOK_POST_RCV, EV(WEIR_EV_TIMEOUT),
		          WEIR_SIDE_BOTH, 0);
	}
	w->st.events[WEIR_EV_CONN_END]++;
	weir_emit(w, f, f->sock_mask, WEIR_HOOK_POST_RCV, EV(WEIR_EV_CONN_END), WEIR_SIDE_BOTH,
	          (uint64_t)reason);
}

/* Ends a flow outside any packet (timeout, eviction, shutdown); it is freed at the next step so
 * that CONN_END handlers still see it. */
static void end_without_packet(struct weir_worker *w, struct weir_flow *f, int reason)
{
	w->have_pkt = 0;
	if (f->ended) { /* CONN_END was raised with its FIN/RST: only the record is left */
		flow_finalize(w, f, f->end_reason);
		return;
	}
	raise_end(w, f, reason);
	w->ending = f;
	w->ending_reason = (uint8_t)reason;
}

static void flow_deadline(struct weir_worker *w, struct weir_flow *f)
{
	uint64_t ms;
	if (f->ended)
		ms = w->cfg.timewait_ms;
	else if (f->tcp.handshake_done || f->tcp.midstream)
		ms = w->cfg.idle_timeout_ms;
	else
		ms = w->cfg.handshake_timeout_ms;
	weir_ft_touch(w->ft, f, w->now_ns + ms * NS_PER_MS);
}

/* Keeps the outermost header of a tunneled flow's first packet, turned to the client's view;
 * under the memory cap like every per-flow allocation (refused: the record goes without it). */
static void flow_outer(struct weir_worker *w, struct weir_flow *f, const struct weir_pkt *p,
                       int sender)
{
	struct weir_tunnel_outer o;
	if (weir_parse_outer(p, &o) != 0 || !(f->outer = weir_mem_alloc(&w->mem, sizeof(o))))
		return;
	if (sender != WEIR_SIDE_CLIENT) {
		uint8_t a[16];
		memcpy(a, o.src_ip, 16);
		memcpy(o.src_ip, o.dst_ip, 16);
		memcpy(o.dst_ip, a, 16);
		const uint16_t port = o.src_port;
		o.src_port = o.dst_port;
		o.dst_port = port;
	}
	*f->outer = o;
}

/* Takes an entry for a new flow: the caller has checked that one is free. */
static struct weir_flow *flow_create(struct weir_worker *w, const struct weir_flow_key *k,
                                     uint32_t hash, int dir, uint64_t scope)
{
	struct weir_flow *f = weir_ft_insert(w->ft, k, hash);
	if (!f)
		return NULL;
	const struct weir_pkt *p = w->pkt;
	const int syn_only = (p->tcp_flags & 0x12) == 0x02;
	const int sender = weir_tcp_first_sender(p);
	f->w = w;
	f->id = ((uint64_t)w->id << 48) | w->next_flow_id++;
	f->start_ns = f->last_ns = p->ts_ns;
	f->sock_mask = scope;
	f->scoped = w->socks_born;
	f->client_dir = (uint8_t)(sender == WEIR_SIDE_CLIENT ? dir : !dir);
	f->tun_type = p->tun_type;
	f->tun_depth = p->tun_depth;
	if (p->tun_depth)
		flow_outer(w, f, p, sender);
	weir_tcp_init(&f->tcp, p, sender, !syn_only, w->cfg.buffer_per_side, w->cfg.overlap,
	              w->cfg.buffering != 0);
	w->st.flows_created++;
	w->st.flows_active++;
	if (!syn_only)
		w->st.flows_midstream++;
	return f;
}

/* Ends flow f (an eviction, a reused port) to make room for the current packet's flow. Returns 0
 * when the end queued records: their handlers see the flow first, and the packet starts again
 * afterwards. With nothing queued (no socket in scope subscribed, a bypassed flow) no handler can
 * come between: the flow is freed at once and the packet goes on (1). */
static int end_for_packet(struct weir_worker *w, struct weir_flow *f, int reason)
{
	end_without_packet(w, f, reason);
	if (w->qn)
		return 0;
	if (w->ending) {
		flow_finalize(w, w->ending, w->ending_reason);
		w->ending = NULL;
	}
	w->have_pkt = 1;
	return 1;
}

/* ---- the packet path ---------------------------------------------------------------------- */

static void orphan(struct weir_worker *w, uint64_t scope)
{
	w->have_moved_syn = 0;
	w->st.orphans++;
	w->st.events[WEIR_EV_ORPHAN]++;
	weir_emit(w, NULL, scope, WEIR_HOOK_PRE, EV(WEIR_EV_ORPHAN), WEIR_SIDE_BOTH, 0);
}

/* Events of the current packet are raised unless its flow has ended, is bypassed, or its sender
 * side was stopped. */
static int packet_raises(const struct weir_worker *w)
{
	const struct weir_flow *f = w->cur;
	return !f->ended && !f->bypassed && !(f->tcp.side[w->sender].flags & WEIR_TCPF_STOPPED);
}

/* Whether a client SYN with a new ISN on a flow still open starts a new connection, as the
 * server's stack takes it: the handshake never completed (a new attempt: Linux drops the
 * embryonic connection), or the server is closed or in TIME_WAIT (Linux accepts a SYN there as a
 * new connection). On a synchronized connection the SYN is answered by a challenge ACK and
 * changes nothing (RFC 5961 §4): one spoofed SYN must not end inspection of a live connection.
 * There the server's answer decides: a SYN+ACK for the new ISN means its end was not seen (lost
 * from the capture), anything else that the connection goes on. */
static bool syn_opens_new(const struct weir_flow *f)
{
	const uint8_t srv = f->tcp.side[WEIR_SIDE_SERVER].state;
	return srv < WEIR_TCP_ESTABLISHED || srv == WEIR_TCP_TIME_WAIT;
}

/* Notes the client SYN p whose fate the server's answer decides. */
static void syn_hold(struct weir_worker *w, struct weir_flow *f, const struct weir_pkt *p)
{
	f->syn_pending = 1;
	f->syn_isn = p->seq;
	w->held_syn.flow_id = f->id;
	w->held_syn.prev_last_ns = f->last_ns;
	w->held_syn.ts_ns = p->ts_ns;
	w->held_syn.ts_val = p->ts_val;
	w->held_syn.ip_len = p->ip_len;
	w->held_syn.win = p->win;
	w->held_syn.mss = p->mss;
	w->held_syn.wscale = p->wscale;
	w->held_syn.sack_perm = p->sack_perm;
	w->held_syn.has_ts = p->has_ts;
}

/* The server accepted f's pending SYN (synack is its answer): the SYN belongs to the next flow.
 * It leaves f's counts and is rebuilt (without payload) to open that flow. */
static void syn_move(struct weir_worker *w, struct weir_flow *f, const struct weir_pkt *synack)
{
	struct weir_tcp_side *c = &f->tcp.side[WEIR_SIDE_CLIENT];
	struct weir_pkt *p = &w->moved_syn;
	if (w->held_syn.flow_id != f->id)
		return; /* another flow's SYN took the slot since */
	c->pkts--;
	c->bytes -= w->held_syn.ip_len;
	f->last_ns = w->held_syn.prev_last_ns;
	*p = *synack;
	memcpy(p->src, synack->dst, sizeof(p->src));
	memcpy(p->dst, synack->src, sizeof(p->dst));
	p->sport = synack->dport;
	p->dport = synack->sport;
	p->frame = p->payload = NULL;
	p->payload_len = 0;
	p->tcp_flags = 0x02;
	p->ack = 0;
	p->ts_ns = w->held_syn.ts_ns;
	p->seq = f->syn_isn;
	p->ts_val = w->held_syn.ts_val;
	p->ts_ecr = 0;
	p->ip_len = w->held_syn.ip_len;
	p->win = w->held_syn.win;
	p->mss = w->held_syn.mss;
	p->wscale = w->held_syn.wscale;
	p->sack_perm = w->held_syn.sack_perm;
	p->has_ts = w->held_syn.has_ts;
	p->nsack = 0;
	w->held_syn.flow_id = 0;
	w->have_moved_syn = 1;
}

/* Whether the current packet shows that the open flow f ended unseen and the ports were reused. */
static bool reused(struct weir_worker *w, struct weir_flow *f, const struct weir_pkt *p, int dir)
{
	const struct weir_tcp_side *c = &f->tcp.side[WEIR_SIDE_CLIENT];
	if (dir == f->client_dir) {
		if ((p->tcp_flags & 0x12) != 0x02 || !(c->flags & WEIR_TCPF_ISN_KNOWN) ||
		    p->seq == c->isn)
			return false;
		if (syn_opens_new(f))
			return true;
		syn_hold(w, f, p);
		return false;
	}
	if (!f->syn_pending)
		return false;
	f->syn_pending = 0;
	if ((p->tcp_flags & 0x12) != 0x12 || p->ack != f->syn_isn + 1)
		return false;
	syn_move(w, f, p);
	return true;
}

/* Opens a flow with the SYN a reused flow gave up (syn_move): it goes through both updates as
 * its first packet, then the server's SYN+ACK (the current packet) follows in it. */
static struct weir_flow *flow_create_moved(struct weir_worker *w, const struct weir_flow_key *k,
                                           uint32_t hash, int dir, uint64_t scope)
{
	struct weir_pkt *synack = w->pkt;
	struct weir_tcp_out out;
	w->have_moved_syn = 0;
	w->pkt = &w->moved_syn;
	struct weir_flow *f = flow_create(w, k, hash, !dir, scope);
	if (f) {
		weir_tcp_sender_update(&f->tcp, WEIR_SIDE_CLIENT, w->pkt, &out);
		weir_tcp_receiver_update(&f->tcp, &w->mem, WEIR_SIDE_CLIENT, w->pkt, &out);
	}
	w->pkt = synack;
	return f;
}

/* Finds or makes the flow of the current TCP packet. Returns 1 when the packet goes on to PRE,
 * 0 when it is done (orphan, refused), -1 when another flow's end (an eviction, a reused port)
 * queued records that handlers must see first: the packet starts again afterwards. */
static int packet_flow(struct weir_worker *w, const struct weir_rx_pkt *rx,
                       const struct weir_ahead *a)
{
	const struct weir_pkt *p = w->pkt;
	const struct weir_flow_key *k = &a->key;
	const int dir = a->dir;
	const uint32_t hash = a->hash;
	const int syn_only = (p->tcp_flags & 0x12) == 0x02;
	struct weir_flow *f = weir_ft_lookup(w->ft, k, hash);

	/* Port reuse: a SYN with a new ISN after the old connection ended starts a new flow (the
	 * same ISN is a retransmission of the old flow's SYN, as Wireshark counts it). After a RST
	 * even the same ISN does: the RST deleted the connection (RFC 9293 §3.10.7), so the SYN is
	 * a new attempt (a connect() retried after a refusal; Zeek logs each attempt). */
	if (f && f->ended && syn_only &&
	    (p->seq != f->tcp.side[WEIR_SIDE_CLIENT].isn || f->end_reason == WEIR_CLOSE_RST)) {
		flow_finalize(w, f, f->end_reason);
		f = NULL;
	}
	if (f && !f->ended && reused(w, f, p, dir)) {
		if (!end_for_packet(w, f, WEIR_CLOSE_REUSED))
			return -1;
		f = NULL;
	}
	w->carry = EV(WEIR_EV_PKT_IN);
	if (!f) {
		const uint64_t scope = weir_msock_scope(w, rx);
		if (!syn_only && !w->have_moved_syn && !w->cfg.midstream) {
			orphan(w, scope);
			return 0;
		}
		if (weir_ft_count(w->ft) >= weir_ft_capacity(w->ft)) {
			if (w->cfg.flow_policy == WEIR_FLOWS_REFUSE_NEW) {
				w->st.flows_refused++;
				orphan(w, scope);
				return 0;
			}
			w->st.flows_evicted++;
			if (!end_for_packet(w, weir_ft_idlest(w->ft), WEIR_CLOSE_EVICTED))
				return -1;
		}
		f = w->have_moved_syn ? flow_create_moved(w, k, hash, dir, scope)
		                      : flow_create(w, k, hash, dir, scope);
		if (!f)
			return 0;
		w->carry |= EV(WEIR_EV_CONN_START);
		w->st.events[WEIR_EV_CONN_START]++;
	}
	if (f->scoped != w->socks_born)
		weir_msock_rescope(w, f, rx);
	w->cur = f;
	w->sender = dir == f->client_dir ? WEIR_SIDE_CLIENT : WEIR_SIDE_SERVER;
	f->last_ns = p->ts_ns;
	return 1;
}

/* Whether the checksums of a frame from rx are to be verified (enum weir_checksums). */
static inline bool csum_wanted(const struct weir_worker *w, const struct weir_rx_pkt *rx)
{
	return w->cfg.checksums == WEIR_CHECKSUMS_VERIFY ||
	       (w->cfg.checksums == WEIR_CHECKSUMS_AUTO && (rx->csum & WEIR_RXCSUM_LIVE));
}

/* Verifies the checksums of the TCP segment or IP fragment in a, but for what the receiver
 * already knows (nic: enum weir_rx_csum bits, about the outermost headers: not used for a frame
 * in a tunnel). A wrong one makes it malformed: counted by reason and not tracked, as the host
 * drops it. Out of line: most runs never come here. */
__attribute__((noinline)) static void csum_check(struct weir_ahead *a, unsigned nic)
{
	if (a->pkt.tun_depth)
		nic = 0;
	unsigned why;
	if (nic & WEIR_RXCSUM_IP_BAD)
		why = WEIR_MAL_IP_CHECKSUM;
	else if ((nic & WEIR_RXCSUM_L4_BAD) && a->r == WEIR_PARSE_TCP)
		why = WEIR_MAL_TCP_CHECKSUM;
	else
		why = weir_parse_csum(&a->pkt, a->r, !(nic & WEIR_RXCSUM_IP_GOOD),
		                      !(nic & WEIR_RXCSUM_L4_GOOD));
	if (why < WEIR_MAL_COUNT) {
		a->r = WEIR_PARSE_MALFORMED;
		a->reason = (uint8_t)why;
	}
}

/* Parses packet j of the burst into its parse-ahead slot and prefetches its flow's bucket. */
static void parse_ahead(struct weir_worker *w, unsigned j)
{
	const struct weir_rx_pkt *rx = &w->rx[j];
	struct weir_ahead *a = &w->ahead[j % WEIR_AHEAD_SLOTS];
	unsigned reason = WEIR_MAL_COUNT;
	a->pkt.frame = rx->frame;
	a->pkt.ts_ns = rx->ts_ns;
	a->pkt.port = rx->port;
	a->r = (int8_t)weir_parse_cfg(&a->pkt, rx->frame, rx->caplen, rx->wirelen, rx->linktype,
	                              &w->cfg, &reason);
	a->reason = (uint8_t)reason;
	/* Counted here, where each packet passes once (packet_start may take one twice). */
	for (unsigned e = a->pkt.encap; e; e &= e - 1)
		w->st.encap[__builtin_ctz(e)]++;
	if ((a->r == WEIR_PARSE_TCP || a->r == WEIR_PARSE_FRAGMENT) && csum_wanted(w, rx))
		csum_check(a, rx->csum);
	if (a->r != WEIR_PARSE_TCP)
		return;
	a->dir = (int8_t)weir_flow_key_make(&a->key, &a->pkt);
	a->hash = weir_flow_key_hash(&a->key);
	weir_ft_prefetch_bucket(w->ft, a->hash);
}

/* Hands an IP fragment to the defragmenter (its outcome in rx->frag, for the inline policy). A
 * datagram it completes takes the fragment's parse-ahead slot, parsed as raw IP with the
 * fragment's VLAN ids, port and time: one that carries a TCP segment (its own, or in a tunnel)
 * goes on as that TCP packet of its flow, any other as the non-TCP packet it is. Its frame, the
 * defragmenter's buffer, lasts until the next fragment is added: after this packet's events. */
static void packet_defrag(struct weir_worker *w, struct weir_rx_pkt *rx, struct weir_ahead *a)
{
	struct weir_pkt *p = &a->pkt;
	struct weir_defrag_dgram d;
	/* Inline, the fragments of a datagram that is not TCP (UDP around a tunnel, ...) stay
	 * non-TCP traffic whatever became of them, as they were before such datagrams were
	 * reassembled; but for one that completed a TCP segment, which was inspected. */
	const bool tcp = p->l4proto == IPPROTO_TCP;
	rx->frag = (uint8_t)weir_defrag_add(w->defrag, p, rx->caplen, rx->ts_ns, &d);
	if (rx->frag != WEIR_FRAG_DONE) {
		if (!tcp)
			rx->frag = WEIR_FRAG_NOT_TCP;
		return;
	}
	const uint16_t vlan[2] = {p->vlan[0], p->vlan[1]};
	const uint8_t nvlan = p->nvlan;
	/* The tunnel the fragments came through names the flow (its key), not the headers around
	 * them: the datagram is parsed alone, so the record of a flow that starts with it says no
	 * outer header (tun_depth stays 0). */
	const uint32_t tun_id = p->tun_id;
	const uint8_t tun_keyed = p->tun_keyed;
	const int dlt = d.ip_ver == 4 ? WEIR_DLT_IPV4 : WEIR_DLT_IPV6;
	unsigned reason = WEIR_MAL_COUNT;
	a->r = (int8_t)weir_parse_cfg(p, d.ip, d.len, d.len, dlt, &w->cfg, &reason);
	a->reason = (uint8_t)reason;
	p->frame = d.ip;
	p->ts_ns = rx->ts_ns;
	p->port = rx->port;
	memcpy(p->vlan, vlan, sizeof(vlan));
	p->nvlan = nvlan;
	if (p->tun_depth == 0) {
		p->tun_id = tun_id;
		p->tun_keyed = tun_keyed;
	}
	p->ip_frag = d.overlap_diff ? WEIR_IPFRAG_OVERLAP_DIFF : WEIR_IPFRAG_REASSEMBLED;
	w->defrag_rx = *rx;
	w->defrag_rx.frame = d.ip;
	w->defrag_rx.caplen = w->defrag_rx.wirelen = d.len;
	w->defrag_rx.linktype = (uint16_t)dlt;
	/* Its IPv4 header is the defragmenter's (each fragment's was verified); the NIC's verdicts
	 * were about the fragments. */
	if (a->r == WEIR_PARSE_TCP && csum_wanted(w, rx))
		csum_check(a, WEIR_RXCSUM_IP_GOOD);
	if (a->r != WEIR_PARSE_TCP) { /* a bad TCP header or checksum (counted), or no TCP */
		rx->frag = tcp ? WEIR_FRAG_FAILED : WEIR_FRAG_NOT_TCP;
		return;
	}
	a->dir = (int8_t)weir_flow_key_make(&a->key, p);
	a->hash = weir_flow_key_hash(&a->key);
}

/* Whether an open socket has the current flow in its scope: without one no event of the flow
 * reaches a handler, and its stages only count. */
static bool flow_watched(const struct weir_worker *w)
{
	return (w->cur->sock_mask & w->open_socks) != 0;
}

/* Takes REXMIT from the stage output w->out into the packet's carried events. */
static void note_rexmit(struct weir_worker *w)
{
	if (w->out.events & EV(WEIR_EV_REXMIT)) {
		w->carry |= EV(WEIR_EV_REXMIT);
		w->st.events[WEIR_EV_REXMIT]++;
	}
}

static void packet_unwatched(struct weir_worker *w);

/* Takes the next packet of the burst (parsed ahead) and raises PRE. */
static void packet_start(struct weir_worker *w)
{
	struct weir_rx_pkt *rx = &w->rx[w->rx_i];
	struct weir_pkt *p;
	while (w->ahead_next < w->nrx && w->ahead_next <= w->rx_i + WEIR_AHEAD)
		parse_ahead(w, w->ahead_next++);
	const unsigned soon = w->rx_i + WEIR_AHEAD_ENTRY;
	if (soon < w->ahead_next && w->ahead[soon % WEIR_AHEAD_SLOTS].r == WEIR_PARSE_TCP)
		weir_ft_prefetch_entry(w->ft, w->ahead[soon % WEIR_AHEAD_SLOTS].hash);
	struct weir_ahead *a = &w->ahead[w->rx_i % WEIR_AHEAD_SLOTS];
	if (a->r == WEIR_PARSE_FRAGMENT)
		packet_defrag(w, rx, a);
	w->pkt = p = &a->pkt;
	const unsigned reason = a->reason;
	const int r = a->r;
	w->st.pkts++;
	w->st.bytes += rx->wirelen;
	/* A TCP segment with a bad option is counted as malformed and still tracked (as Linux
	 * does). */
	if (reason < WEIR_MAL_COUNT)
		w->st.malformed[reason]++;
	if (r != WEIR_PARSE_TCP) {
		if (r == WEIR_PARSE_FRAGMENT)
			w->st.frag_pkts++;
		else if (r == WEIR_PARSE_OTHER)
			w->st.other_pkts++;
		w->rx_i++;
		return;
	}
	w->have_pkt = 1;
	const int got = packet_flow(w, p->ip_frag ? &w->defrag_rx : rx, a);
	if (got < 0) { /* an eviction was raised first; this packet starts again afterwards */
		w->st.pkts--;
		w->st.bytes -= rx->wirelen;
		if (reason < WEIR_MAL_COUNT)
			w->st.malformed[reason]--;
		return;
	}
	w->st.tcp_pkts++;
	if (got == 0) {
		w->phase = WEIR_PH_DONE;
		w->cur = NULL;
		return;
	}
	w->st.events[WEIR_EV_PKT_IN]++;
	if (!flow_watched(w)) {
		packet_unwatched(w);
		return;
	}
	w->phase = WEIR_PH_SND;
	w->pre_skipped = !w->subs[WEIR_HOOK_PRE];
	if (w->pre_skipped)
		return;
	weir_tcp_pre(&w->cur->tcp, w->sender, p, &w->out);
	note_rexmit(w);
	if (packet_raises(w))
		weir_emit(w, w->cur, w->cur->sock_mask, WEIR_HOOK_PRE, w->carry, w->sender, 0);
}

/* Queues one stage's records for the sockets that have the flow in scope: the carried packet
 * events, HANDSHAKE_DONE, STATE_CHANGE of side, NEW_DATA of the ndata streams in data (adv[s]
 * bytes each) and one ANOMALY per reason. Not inlined: an unwatched flow never comes here, and
 * its stages should not pay for the registers this needs. */
__attribute__((noinline)) static void emit_stage(struct weir_worker *w, int hook, int side,
                                                 const uint64_t adv[2], const int data[2],
                                                 int ndata)
{
	const struct weir_tcp_out *o = &w->out;
	struct weir_flow *f = w->cur;
	const uint64_t scope = f->sock_mask;
	weir_emit(w, f, scope, hook, w->carry, w->sender, 0);
	if (o->events & EV(WEIR_EV_HANDSHAKE_DONE))
		weir_emit(w, f, scope, hook, EV(WEIR_EV_HANDSHAKE_DONE), w->sender, 0);
	if (o->events & EV(WEIR_EV_STATE_CHANGE))
		weir_emit(w, f, scope, hook, EV(WEIR_EV_STATE_CHANGE), side,
		          ((uint64_t)o->old_state << 8) | o->new_state);
	for (int k = 0; k < ndata; k++)
		weir_emit(w, f, scope, hook, EV(WEIR_EV_NEW_DATA), data[k], adv[data[k]]);
	for (unsigned i = 0; i < o->nanom; i++)
		weir_emit(w, f, scope, hook, EV(WEIR_EV_ANOMALY), w->sender, o->anom[i]);
}

/* Counts one stage's events but NEW_DATA (stage_new_data): STATE_CHANGE, HANDSHAKE_DONE and one
 * ANOMALY per reason in the update's output w->out. */
static void count_stage(struct weir_worker *w)
{
	const struct weir_tcp_out *o = &w->out;
	if (o->events & EV(WEIR_EV_STATE_CHANGE))
		w->st.events[WEIR_EV_STATE_CHANGE]++;
	if (o->events & EV(WEIR_EV_HANDSHAKE_DONE))
		w->st.events[WEIR_EV_HANDSHAKE_DONE]++;
	for (unsigned i = 0; i < o->nanom; i++) {
		w->st.anomalies[o->anom[i] < WEIR_AN_COUNT ? o->anom[i] : 0]++;
		w->st.events[WEIR_EV_ANOMALY]++;
	}
}

/* Counts NEW_DATA of the packet's receiver stage, which raises events (packet_raises): one for each
 * stream that advanced (adv[side] = stream bytes added, gap bytes included, so a handler reads
 * [next - arg, next)) and was not stopped. Puts those streams in data, the sender's first; returns
 * how many. */
static int stage_new_data(struct weir_worker *w, const uint64_t adv[2], int data[2])
{
	const struct weir_flow *f = w->cur;
	int ndata = 0;
	for (int k = 0; k < 2; k++) {
		const int s = k == 0 ? w->sender : !w->sender;
		if (!adv[s] || (f->tcp.side[s].flags & WEIR_TCPF_STOPPED))
			continue;
		w->st.events[WEIR_EV_NEW_DATA]++;
		data[ndata++] = s;
	}
	return ndata;
}

/* Raises one stage's events: counts them, and queues their records when the flow is watched
 * (emit_stage). NEW_DATA comes at POST_RCV (adv: see stage_new_data; NULL at POST_SND). */
static void raise_stage(struct weir_worker *w, int hook, int side, const uint64_t adv[2])
{
	count_stage(w);
	/* Unwatched, only NEW_DATA is left to count, and only when a stream advanced. */
	if ((!flow_watched(w) && !(adv && (adv[0] | adv[1]))) || !packet_raises(w))
		return;
	int data[2] = {0, 0};
	const int ndata = adv ? stage_new_data(w, adv, data) : 0;
	if (flow_watched(w) && w->subs[hook]) /* else no socket asked for anything at this hook */
		emit_stage(w, hook, side, adv, data, ndata);
}

/* The sender's update, its state and RST flag saved first (undo_dropped_rst). */
static void sender_update(struct weir_worker *w)
{
	const struct weir_tcp_side *s = &w->cur->tcp.side[w->sender];
	w->snd_state = s->state;
	w->snd_rst = s->flags & WEIR_TCPF_RST;
	weir_tcp_sender_update(&w->cur->tcp, w->sender, w->pkt, &w->out);
}

static void packet_snd(struct weir_worker *w)
{
	sender_update(w);
	/* PRE was skipped: the update classified the packet before changing anything, as
	 * weir_tcp_pre() does */
	if (w->pre_skipped)
		note_rexmit(w);
	raise_stage(w, WEIR_HOOK_POST_SND, w->sender, NULL);
	w->phase = WEIR_PH_RCV;
}

static bool packet_dropped(const struct weir_worker *w)
{
	return w->rx[w->rx_i].verdict != 0;
}

/* A dropped RST closes nobody: its sender keeps the state it had (it may not even have sent it:
 * an attacker's RST). Its counters and Zeek facts still hold it, as for any dropped packet. */
static void undo_dropped_rst(struct weir_worker *w)
{
	struct weir_tcp_side *s = &w->cur->tcp.side[w->sender];
	if (!(w->pkt->tcp_flags & 0x04))
		return;
	s->state = w->snd_state;
	s->flags = (uint8_t)((s->flags & ~WEIR_TCPF_RST) | w->snd_rst);
}

/* Whether a handler may still drop the current packet after the receiver's update: it raises
 * events and a socket in its flow's scope is subscribed at POST_RCV to an event raise_stage()
 * raises (CONN_END comes after the verdict; TIMEOUT and TIMER have no packet). */
static bool rcv_may_drop(const struct weir_worker *w)
{
	const uint32_t later = EV(WEIR_EV_CONN_END) | EV(WEIR_EV_TIMEOUT) | EV(WEIR_EV_TIMER);
	return flow_watched(w) && packet_raises(w) &&
	       weir_subscribed(w, w->cur->sock_mask, WEIR_HOOK_POST_RCV, ~later);
}

/* The receiver's update; adv[side]: the bytes each stream advanced by. A side that began to hold
 * out-of-order bytes puts the flow last in the holders list. */
static inline __attribute__((always_inline)) void receiver_update(struct weir_worker *w,
                                                                  uint64_t adv[2])
{
	struct weir_flow *f = w->cur;
	adv[0] = f->tcp.side[0].stream.next;
	adv[1] = f->tcp.side[1].stream.next;
	const uint8_t held = f->tcp.side[w->sender].stream.nfrags;
	weir_tcp_receiver_update(&f->tcp, &w->mem, w->sender, w->pkt, &w->out);
	if (!held && f->tcp.side[w->sender].stream.nfrags)
		hold_link(w, f);
	adv[0] = f->tcp.side[0].stream.next - adv[0];
	adv[1] = f->tcp.side[1].stream.next - adv[1];
}

/* The receiver's update, unless the packet was dropped at PRE or POST_SND: the receiver never
 * gets it, so nothing changes on its side and POST_RCV is not raised. When a POST_RCV handler
 * may still drop it, the flow is saved first so that the update can be undone. */
static void packet_rcv(struct weir_worker *w)
{
	struct weir_flow *f = w->cur;
	w->rcv_was_ended = f->ended;
	w->rcv_snapped = 0;
	if (packet_dropped(w)) {
		undo_dropped_rst(w);
		w->phase = WEIR_PH_DONE;
		return;
	}
	if (rcv_may_drop(w)) {
		weir_tcp_snapshot(&f->tcp, &w->rcv_snap);
		w->rcv_snapped = 1;
	}
	uint64_t adv[2];
	receiver_update(w, adv);
	raise_stage(w, WEIR_HOOK_POST_RCV, !w->sender, adv);
	w->phase = WEIR_PH_END;
}

/* Raises f's end when the packet that went through ended the connection (f had not ended before
 * it: was_ended). */
static void end_if_ended(struct weir_worker *w, struct weir_flow *f, bool was_ended)
{
	if (!was_ended && f->tcp.ended)
		raise_end(w, f, f->tcp.end_reason);
}

/* After the POST_RCV handlers gave their verdict: a dropped packet never reached the receiver,
 * so its update is undone (the sender's retransmission will be new data, delivered once); a
 * packet that went through and ended the connection ends the flow. */
static void packet_end(struct weir_worker *w)
{
	struct weir_flow *f = w->cur;
	w->phase = WEIR_PH_DONE;
	if (w->rcv_snapped && packet_dropped(w)) {
		weir_tcp_restore(&f->tcp, &w->rcv_snap);
		undo_dropped_rst(w);
	} else
		end_if_ended(w, f, w->rcv_was_ended);
}

static inline __attribute__((always_inline)) void packet_done(struct weir_worker *w)
{
	struct weir_flow *f = w->cur;
	if (f) {
		flow_deadline(w, f);
		weir_top_update(w, f);
		if (f->ended) /* CONN_END's handlers have run: the lingering entry keeps no bytes */
			weir_tcp_release(&f->tcp, &w->mem);
	}
	w->st.drops += w->rx[w->rx_i].verdict;
	mem_stats(w);
	w->cur = NULL;
	w->have_pkt = 0;
	w->rx_i++;
	w->phase = WEIR_PH_IDLE;
}

/* A packet of a flow no socket watches queues no record at any stage, so no handler can come
 * between its stages, nor drop it: from the flow lookup to done in one go, with only the counts
 * of each stage. PRE is skipped (it would raise nothing, and the sender's update classifies the
 * packet as PRE does). */
static void packet_unwatched(struct weir_worker *w)
{
	struct weir_flow *f = w->cur;
	const bool was_ended = f->ended;
	weir_tcp_sender_update(&f->tcp, w->sender, w->pkt, &w->out);
	note_rexmit(w);
	count_stage(w);
	uint64_t adv[2];
	receiver_update(w, adv);
	count_stage(w);
	int data[2];
	if ((adv[0] | adv[1]) && packet_raises(w))
		stage_new_data(w, adv, data);
	end_if_ended(w, f, was_ended);
	packet_done(w);
}

/* Between packets: finish a pending end, then expiries, timers, shutdown, the next packet.
 * Returns 0 when nothing is left to do. */
static int step_idle(struct weir_worker *w)
{
	if (w->ending) {
		flow_finalize(w, w->ending, w->ending_reason);
		w->ending = NULL;
		return 1;
	}
	if (w->rx_i < w->nrx && w->rx[w->rx_i].ts_ns > w->now_ns)
		w->now_ns = w->rx[w->rx_i].ts_ns;
	struct weir_flow *f = weir_ft_expired(w->ft, w->now_ns);
	if (f) {
		end_without_packet(w, f, WEIR_CLOSE_TIMEOUT);
		return 1;
	}
	if (weir_timer_due(w) && weir_timers_fire(w))
		return 1;
	if (w->rx_i < w->nrx) {
		packet_start(w);
		return 1;
	}
	if (w->shutting_down) {
		f = weir_ft_idlest(w->ft);
		if (f) {
			end_without_packet(w, f, WEIR_CLOSE_SHUTDOWN);
			return 1;
		}
		w->shutting_down = 0;
	}
	w->rx = NULL;
	w->nrx = w->rx_i = 0;
	return 0;
}

int weir_worker_poll(struct weir_worker *w, struct weir_event_rec *out, unsigned max)
{
	if (!w || !out || max < WEIR_POLL_MIN)
		return -EINVAL;
	for (;;) {
		if (w->qi < w->qn) {
			unsigned n = w->qn - w->qi;
			if (n > max)
				n = max;
			memcpy(out, &w->q[w->qi], n * sizeof(*out));
			w->qi += n;
			return (int)n;
		}
		w->qn = w->qi = 0;
		switch (w->phase) {
		case WEIR_PH_IDLE:
			/* steps that queue nothing (most packets: unwatched, or raising nothing
			 * anyone asked for) follow each other here */
			do {
				if (!step_idle(w))
					return 0;
			} while (w->phase == WEIR_PH_IDLE && !w->qn);
			break;
		case WEIR_PH_SND:
			packet_snd(w);
			break;
		case WEIR_PH_RCV:
			packet_rcv(w);
			break;
		case WEIR_PH_END:
			packet_end(w);
			break;
		case WEIR_PH_DONE:
			packet_done(w);
			break;
		}
	}
}

int weir_worker_run(struct weir_worker *w)
{
	struct weir_event_rec recs[WEIR_POLL_MIN];
	int n;
	while ((n = weir_worker_poll(w, recs, WEIR_POLL_MIN)) > 0)
		weir_dispatch(w, recs, (unsigned)n);
	return n;
}
