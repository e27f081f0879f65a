/* tcp.c — both emulated endpoints of a flow: RFC 793 state machines, sequence tracking, retransmission and anomaly checks, Zeek history. */
#include "tcp/tcp.h"

#include <string.h>

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10
/* The six classic control bits; ECE/CWR alone do not make a packet "flagged". */
#define TH_CTL 0x3f

#define EV(e) (1u << (e))

/* RFC 7323 §2.3: a shift above 14 is used as 14. */
#define WSCALE_MAX 14

/* Wireshark's out-of-order threshold when the handshake RTT is unknown (3 ms,
 * epan/dissectors/packet-tcp.c): a segment below snd_nxt that comes this soon after the one that
 * advanced snd_nxt is a reordered original, not a retransmission. */
#define OOO_DEFAULT_NS 3000000ull
/* Wireshark's fast-retransmission window: a resend of the segment that at least two duplicate
 * ACKs asked for, within 20 ms of the last of them, is a retransmission even when it would
 * otherwise pass for reordering. */
#define FAST_REXMIT_DUPACKS 2
#define FAST_REXMIT_NS 20000000ull

/* Index of the repeated (logarithmic) history letters in rep_exp/rep_cnt. */
enum { REP_C = 0, REP_G = 1, REP_T = 2, REP_W = 3 };
/* Zeek's ScaledHistoryEntry: a repeated letter is logged at counts 1, 10, 100, ... */

static bool valid_side(int side)
{
	return side == WEIR_SIDE_CLIENT || side == WEIR_SIDE_SERVER;
}

/*
 * The segment's payload length on the wire. A capture cut by a snap length holds fewer bytes
 * (payload_len) than the sender sent, but sequence space follows what was sent: it is the IP
 * end minus the TCP header end, read from the frame when the view has one. Only payload_len
 * bytes are reassembled; the rest becomes a hole.
 */
static inline uint32_t wire_len(const struct weir_pkt *p)
{
	/* All of the IP packet was captured (most segments): the parser measured the payload up to
	 * the IP end, which is its length on the wire. */
	if ((uint32_t)p->l3_off + p->ip_len <= p->caplen)
		return p->payload_len;
	const uint32_t doff = (uint32_t)p->l4_off + 12; /* TCP data offset byte */
	if (!p->frame || p->caplen <= doff || p->ip_len == UINT16_MAX)
		return p->payload_len; /* no frame, or a jumbogram whose length saturated */
	const uint32_t start = p->l4_off + (uint32_t)(p->frame[doff] >> 4) * 4;
	const uint32_t end = (uint32_t)p->l3_off + p->ip_len;
	if (end <= start || end - start < p->payload_len)
		return p->payload_len;
	return end - start;
}

/* Sequence space p occupies: its wire length len plus one for each of SYN and FIN. */
static uint32_t seq_len(const struct weir_pkt *p, uint32_t len)
{
	return len + ((p->tcp_flags & TH_SYN) ? 1u : 0u) + ((p->tcp_flags & TH_FIN) ? 1u : 0u);
}

/* First payload byte's sequence number: data on a SYN starts after the SYN. */
static uint32_t data_seq(const struct weir_pkt *p)
{
	return p->seq + ((p->tcp_flags & TH_SYN) ? 1u : 0u);
}

static bool established_or_later(uint8_t st)
{
	return st >= WEIR_TCP_ESTABLISHED && st < WEIR_TCP_STATE_COUNT;
}

/* ---- stage output ------------------------------------------------------------------------ */

static void anomaly(struct weir_tcp_out *o, enum weir_anomaly a)
{
	o->events |= EV(WEIR_EV_ANOMALY);
	for (unsigned i = 0; i < o->nanom; i++)
		if (o->anom[i] == a)
			return;
	if (o->nanom < WEIR_TCP_MAX_ANOM)
		o->anom[o->nanom++] = (uint8_t)a;
}

/* A stage changes one side's state, maybe in several steps: old is the state before the first. */
static void set_state(struct weir_tcp_out *o, struct weir_tcp_side *s, uint8_t st)
{
	if (s->state == st)
		return;
	if (!(o->events & EV(WEIR_EV_STATE_CHANGE)))
		o->old_state = s->state;
	o->events |= EV(WEIR_EV_STATE_CHANGE);
	o->new_state = st;
	s->state = st;
}

/* Reached ESTABLISHED from SYN_SENT/SYN_RCVD: the side completed a handshake. */
static void establish(struct weir_tcp_out *o, struct weir_tcp_side *s)
{
	set_state(o, s, WEIR_TCP_ESTABLISHED);
	s->zflags |= WEIR_ZF_ESTABLISHED;
}

static void finish_out(struct weir_tcp_out *o)
{
	if ((o->events & EV(WEIR_EV_STATE_CHANGE)) && o->old_state == o->new_state)
		o->events &= ~EV(WEIR_EV_STATE_CHANGE);
}

/* ---- Zeek history -------------------------------------------------------------------------- */

static void hist_put(struct weir_tcp_history *h, int side, char letter)
{
	if (h->len >= sizeof(h->s) - 1)
		return;
	h->s[h->len++] = side == WEIR_SIDE_CLIENT ? (char)(letter - 'a' + 'A') : letter;
	h->s[h->len] = '\0';
}

/* Zeek's '^': the originator is not the sender of the first packet (Connection::FlipRoles() adds
 * it). It belongs to no side, so it is written as is. */
static void hist_flip(struct weir_tcp_history *h)
{
	if (h->len < sizeof(h->s) - 1) {
		h->s[h->len++] = '^';
		h->s[h->len] = '\0';
	}
}

/* Whether more than one of FIN, SYN and RST (bits 0, 1, 2) is set: clearing the lowest set bit
 * leaves one. */
static bool several_ends(uint8_t f)
{
	const unsigned x = f & (TH_FIN | TH_SYN | TH_RST);
	return (x & (x - 1)) != 0;
}

/* A letter logged at most once per direction. */
static void hist_once(struct weir_tcp_history *h, int side, char letter)
{
	uint32_t bit = 1u << (letter - 'a');
	if (h->seen[side] & bit)
		return;
	h->seen[side] |= bit;
	hist_put(h, side, letter);
}

/* A letter logged when its count reaches 1, 10, 100, ... (Zeek's ScaledHistoryEntry). Out of
 * line: its letters (c, g, t, w) mark unusual packets. */
__attribute__((noinline, cold)) static void hist_scaled(struct weir_tcp_history *h, int side,
                                                        int slot, char letter)
{
	static const uint32_t pow10[] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u,
	                                 100000000u, 1000000000u};
	uint8_t *e = &h->rep_exp[side][slot];
	uint32_t *cnt = &h->rep_cnt[side][slot];
	if (++*cnt != pow10[*e])
		return;
	hist_put(h, side, letter);
	if (*e + 1u == sizeof(pow10) / sizeof(pow10[0]))
		*cnt = 0; /* the threshold would pass 2^32: keep it and count again, as Zeek does */
	else
		++*e;
}

/* Zeek's 'g': content gaps are logged only while both endpoints are established or closing
 * cleanly (TCP_Reassembler::Gap): each sent a packet, completed the handshake and sent no RST.
 * In a one-sided or partial connection an unseen range is a sequence artefact, not a gap. */
__attribute__((noinline, cold)) static void hist_gaps(struct weir_tcp_conn *c, int side,
                                                      unsigned holes)
{
	for (int i = 0; i < 2; i++) {
		const struct weir_tcp_side *s = &c->side[i];
		if (!s->pkts || (s->zflags & (WEIR_ZF_ESTABLISHED | WEIR_ZF_RST)) != WEIR_ZF_ESTABLISHED)
			return;
	}
	while (holes--) /* one gap per hole, as Zeek's reassembler reports them */
		hist_scaled(&c->hist, side, REP_G, 'g');
}

/* hist_gaps() when there are holes: most acks pass none. */
static inline void hist_gap(struct weir_tcp_conn *c, int side, unsigned holes)
{
	if (holes)
		hist_gaps(c, side, holes);
}

/* A snap-length cut: the stream skips the segment's unseen tail at once, but Zeek sees a gap only
 * when an ACK passes over it. Remember where the unseen bytes begin. */
static void cut_seen(struct weir_tcp_history *h, int side, uint32_t from)
{
	if (h->cut_pending & (1u << side))
		return;
	h->cut_pending |= (uint8_t)(1u << side);
	h->cut_from[side] = from;
}

/* Whether ack passes cut bytes of r no earlier ACK passed: one hole for Zeek. */
static unsigned cut_passed(struct weir_tcp_history *h, int rside, const struct weir_tcp_side *r, uint32_t ack)
{
	if (!(h->cut_pending & (1u << rside)) || !WEIR_SEQ_GT(ack, h->cut_from[rside]))
		return 0;
	if (WEIR_SEQ_GEQ(ack, r->stream.seq0 + (uint32_t)r->stream.next))
		h->cut_pending &= (uint8_t)~(1u << rside);
	else
		h->cut_from[rside] = ack;
	return 1;
}

/*
 * The per-packet letters, following Zeek's update_history(): a packet with more than one of
 * SYN/FIN/RST is 'i' (FIN+RST: inconsistent) or 'q' (SYN+FIN, SYN+RST: multi-flag); with exactly
 * one it is 's'/'h' (SYN without/with ACK), 'f' or 'r'; with none it is 'd' when it carries
 * payload, else 'a' when it has ACK. So a FIN carrying data is 'f', not 'd'.
 */
static void hist_flags(struct weir_tcp_history *h, int side, const struct weir_pkt *p, uint32_t len)
{
	const uint8_t f = p->tcp_flags;
	if (several_ends(f)) {
		hist_once(h, side, (f & TH_FIN) && (f & TH_RST) ? 'i' : 'q');
	} else if (f & (TH_SYN | TH_FIN | TH_RST)) {
		if (f & TH_SYN)
			hist_once(h, side, (f & TH_ACK) ? 'h' : 's');
		else if (f & TH_FIN)
			hist_once(h, side, 'f');
		else
			hist_once(h, side, 'r');
	} else if (len) {
		hist_once(h, side, 'd');
	} else if (f & TH_ACK) {
		hist_once(h, side, 'a');
	}
}

/* ---- retransmission classification ------------------------------------------------------- */

/*
 * Whether p re-sends sequence space its sender already sent. Follows Wireshark's
 * tcp.analysis.retransmission (which also covers its fast and spurious retransmissions) so that
 * counts agree on ordinary captures:
 *  - only packets with payload, SYN or FIN; keep-alives (0/1 byte at snd_nxt - 1) never;
 *  - a SYN is a retransmission only with the ISN already seen (a new ISN is a new attempt);
 *  - payload entirely at or below what the peer acknowledged is one (spurious);
 *  - so is a resend answering duplicate ACKs (fast retransmission);
 *  - else it starts below snd_nxt, unless it comes within the first RTT (3 ms if unknown) of the
 *    packet that advanced snd_nxt and does not end exactly there: that is a reordered original.
 */
/* Whether p's bytes lie at or below what its sender's peer already acknowledged. */
static bool acked_already(const struct weir_tcp_side *s, const struct weir_pkt *p, uint32_t len)
{
	return len > 0 && WEIR_SEQ_GT(s->snd_una, s->isn) && WEIR_SEQ_LEQ(p->seq + len, s->snd_una);
}

/* Whether p (of wire length len) re-sends sequence space (payload, SYN or FIN) its sender already
 * sent: what a TCP stack counts as a retransmitted segment (TcpRetransSegs), before any timing
 * heuristics. */
static bool resends(const struct weir_tcp_conn *c, int sender, const struct weir_pkt *p,
                    uint32_t len)
{
	const struct weir_tcp_side *s = &c->side[sender];
	const uint8_t f = p->tcp_flags;
	if (!(s->flags & WEIR_TCPF_ISN_KNOWN) || (len == 0 && !(f & (TH_SYN | TH_FIN))))
		return false;
	if ((f & TH_SYN) && (p->seq != s->isn || !(s->zflags & (WEIR_ZF_SYN | WEIR_ZF_SYNACK))))
		return false;
	if (len <= 1 && p->seq == s->snd_nxt - 1 && !(f & (TH_SYN | TH_FIN | TH_RST)))
		return false; /* keep-alive */
	if (len > 1 && p->seq == s->snd_nxt - 1)
		return false; /* new data after a zero-window probe byte */
	return acked_already(s, p, len) || WEIR_SEQ_LT(p->seq, s->snd_nxt);
}

/* What p is to its sender's sequence space. */
enum resend_kind {
	SEG_NEW,    /* nothing re-sent */
	SEG_RESENT, /* re-sent (resends()), but so soon that it reads as reordering */
	SEG_REXMIT, /* Wireshark's tcp.analysis.retransmission */
};

/* Wireshark's tcp.analysis.retransmission: a re-sent segment, unless it came so soon after the
 * highest one (within the first RTT, and not a fast retransmission) that it reads as reordering.
 * len: p's wire length. Out of line: resend_kind() answers the common segments itself. */
__attribute__((noinline, cold)) static enum resend_kind
resend_kind_full(const struct weir_tcp_conn *c, int sender, const struct weir_pkt *p, uint32_t len)
{
	const struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	if (!resends(c, sender, p, len))
		return SEG_NEW;
	if (acked_already(s, p, len))
		return SEG_REXMIT;
	if (r->dupacks >= FAST_REXMIT_DUPACKS && r->last_ack == p->seq && p->ts_ns - r->last_ts_ns < FAST_REXMIT_NS)
		return SEG_REXMIT;
	const uint64_t thres = c->first_rtt_ns ? c->first_rtt_ns : OOO_DEFAULT_NS;
	const uint64_t since = p->ts_ns - s->nxt_ts_ns; /* wraps when time went back: not "soon" */
	if (since < thres && s->snd_nxt != p->seq + seq_len(p, len))
		return SEG_RESENT;
	return SEG_REXMIT;
}

/* resend_kind_full() for every packet. Without SYN, nothing from snd_nxt on that no ACK passed
 * is re-sent, nor is a pure ACK (without FIN): resends() is false for both. Most packets. */
static inline enum resend_kind resend_kind(const struct weir_tcp_conn *c, int sender,
                                           const struct weir_pkt *p, uint32_t len)
{
	const struct weir_tcp_side *s = &c->side[sender];
	const uint8_t f = p->tcp_flags;
	if (!(f & TH_SYN) && ((len == 0 && !(f & TH_FIN)) ||
	                      (WEIR_SEQ_GEQ(p->seq, s->snd_nxt) && !acked_already(s, p, len))))
		return SEG_NEW;
	return resend_kind_full(c, sender, p, len);
}

/* ---- windows ------------------------------------------------------------------------------ */

static unsigned shift_of(uint8_t wscale)
{
	return wscale > WSCALE_MAX ? WSCALE_MAX : wscale;
}

static bool sent_syn(const struct weir_tcp_side *s)
{
	return (s->zflags & (WEIR_ZF_SYN | WEIR_ZF_SYNACK)) != 0;
}

/*
 * Whether side s's scale factor is known: both SYNs were seen, or s sent the SYN+ACK (its option
 * says whether scaling is on and its own shift), or the peer's SYN+ACK had no option (then
 * nobody scales). A side whose SYN was not seen while scaling is on stays unknown.
 */
static bool scale_known(const struct weir_tcp_side *s, const struct weir_tcp_side *r)
{
	if (sent_syn(s) && sent_syn(r))
		return true;
	if (s->zflags & WEIR_ZF_SYNACK)
		return true;
	return (r->zflags & WEIR_ZF_SYNACK) && r->wscale == 0xff;
}

/* Scaling is decided by the SYN+ACK: on only when both SYNs carry the option (RFC 7323). If
 * the SYN was not seen, a SYN+ACK carrying the option implies the SYN did. */
static void negotiate_scale(struct weir_tcp_side *s, struct weir_tcp_side *r)
{
	const bool on = s->wscale != 0xff && (!sent_syn(r) || r->wscale != 0xff);
	if (on) {
		s->flags |= WEIR_TCPF_WSCALE;
		r->flags |= WEIR_TCPF_WSCALE;
	} else {
		s->flags &= (uint8_t)~WEIR_TCPF_WSCALE;
		r->flags &= (uint8_t)~WEIR_TCPF_WSCALE;
	}
}

/* The shift of the windows s advertises (after a SYN), 0xff while its scale factor is unknown. */
static uint8_t window_shift(const struct weir_tcp_side *s, const struct weir_tcp_side *r)
{
	if (!scale_known(s, r))
		return 0xff;
	return (uint8_t)((s->flags & WEIR_TCPF_WSCALE) ? shift_of(s->wscale) : 0);
}

/* The window s advertises in p, whose shift is sh (window_shift()). A SYN's own window is never
 * scaled. */
static inline void update_window(struct weir_tcp_side *s, const struct weir_pkt *p, uint8_t sh)
{
	if (p->tcp_flags & TH_SYN) {
		s->rcv_wnd = p->win;
		s->flags |= WEIR_TCPF_WIN_KNOWN;
	} else if (sh != 0xff) {
		s->rcv_wnd = (uint32_t)p->win << sh;
		s->flags |= WEIR_TCPF_WIN_KNOWN;
	} else {
		s->rcv_wnd = p->win; /* raw: the shift is unknown */
		s->flags &= (uint8_t)~WEIR_TCPF_WIN_KNOWN;
	}
}

/*
 * Whether r would accept the RST p from sender s. A receiver resets only on the sequence number
 * it expects next (RFC 5961 §3.2, as Linux does: any other RST in its window earns a challenge
 * ACK and changes nothing, so a third party's guess cannot end the connection, nor inspection
 * of it). That number lies between what r acknowledged and what s sent: an RST in
 * [snd_una(s) - 1, max(snd_nxt(s), snd_una(s))] is taken. Lenient while either side was never
 * seen. A RST acknowledging exactly the SYN of a side still in SYN_SENT/SYN_RCVD answers that SYN
 * and is accepted.
 */
static bool rst_acceptable(const struct weir_tcp_side *s, const struct weir_tcp_side *r, const struct weir_pkt *p)
{
	if (!(s->flags & WEIR_TCPF_ISN_KNOWN) || !(r->flags & WEIR_TCPF_ISN_KNOWN))
		return true;
	if ((p->tcp_flags & TH_ACK) && p->ack == r->isn + 1 &&
	    (r->state == WEIR_TCP_SYN_SENT || r->state == WEIR_TCP_SYN_RCVD))
		return true;
	/* What r acknowledged was sent, even where the box missed how (snd_nxt can lag it). */
	const uint32_t sent = WEIR_SEQ_GT(s->snd_una, s->snd_nxt) ? s->snd_una : s->snd_nxt;
	return WEIR_SEQ_GEQ(p->seq, s->snd_una - 1) && WEIR_SEQ_LEQ(p->seq, sent);
}

/* ---- public: setup ------------------------------------------------------------------------ */

int weir_tcp_first_sender(const struct weir_pkt *p)
{
	if (p && (p->tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		return WEIR_SIDE_SERVER;
	return WEIR_SIDE_CLIENT;
}

/* Sets up a side of a zeroed connection. */
/* s is zeroed (weir_tcp_init): its stream is not cleared a second time. */
static void side_init(struct weir_tcp_side *s, uint8_t state, uint32_t cap, uint8_t overlap, bool buffering)
{
	weir_stream_init_zeroed(&s->stream, cap, overlap, buffering);
	s->state = state;
	s->wscale = 0xff;
	s->wnd_shift = 0xff; /* no SYN seen */
}

/* A side's sequence numbers, known from seq onwards (snd_nxt advances as it sends). */
static void side_learn(struct weir_tcp_side *s, uint32_t isn, uint32_t stream_seq0, uint64_t ts)
{
	s->isn = isn;
	s->snd_una = isn;
	s->snd_nxt = isn;
	s->nxt_ts_ns = ts;
	s->flags |= WEIR_TCPF_ISN_KNOWN;
	weir_stream_start(&s->stream, stream_seq0);
}

void weir_tcp_init(struct weir_tcp_conn *c, const struct weir_pkt *p, int sender, bool midstream,
                   uint32_t cap, uint8_t overlap, bool buffering)
{
	if (!c)
		return;
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 2; i++)
		side_init(&c->side[i], WEIR_TCP_CLOSED, cap, overlap, buffering);
	if (!p || !valid_side(sender)) {
		c->midstream = 1;
		c->side[0].state = c->side[1].state = WEIR_TCP_ESTABLISHED;
		return;
	}
	struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	const uint8_t f = p->tcp_flags;
	if ((f & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
		/* The server's SYN+ACK comes first: its peer sent the SYN unseen, with ISN ack - 1. The
		 * peer is the originator, so the roles are flipped from the first packet's. */
		c->midstream = 1;
		hist_flip(&c->hist);
		s->state = WEIR_TCP_LISTEN;
		r->state = WEIR_TCP_SYN_SENT;
		side_learn(r, p->ack - 1, p->ack, p->ts_ns);
		r->snd_nxt = r->snd_una = p->ack;
	} else if ((f & TH_SYN) && !midstream) {
		s->state = WEIR_TCP_CLOSED;
		r->state = WEIR_TCP_LISTEN;
	} else {
		c->midstream = 1;
		s->state = r->state = WEIR_TCP_ESTABLISHED;
	}
}

/* ---- PRE ----------------------------------------------------------------------------------- */

void weir_tcp_pre(const struct weir_tcp_conn *c, int sender, const struct weir_pkt *p, struct weir_tcp_out *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	if (c && p && valid_side(sender) && resend_kind(c, sender, p, wire_len(p)) == SEG_REXMIT)
		o->events |= EV(WEIR_EV_REXMIT);
}

/* ---- sender update ------------------------------------------------------------------------ */

/* A SYN with a new ISN before the connection is established is a new attempt: the side's
 * sequence numbers start again (and its stream too while nothing is in it). */
static void side_relearn(struct weir_tcp_side *s, const struct weir_pkt *p)
{
	struct weir_stream *st = &s->stream;
	if (!st->ring && st->nfrags == 0 && st->next == 0 && st->last == 0)
		weir_stream_init(st, st->cap_max, st->overlap, st->buffering != 0);
	s->flags &= (uint8_t)~(WEIR_TCPF_FIN_SENT | WEIR_TCPF_FIN_ACKED);
	side_learn(s, p->seq, p->seq + 1, p->ts_ns);
}

static void syn_options(struct weir_tcp_side *s, const struct weir_pkt *p)
{
	s->mss = p->mss;
	s->wscale = p->wscale;
	s->sack_perm = p->sack_perm ? 1 : 0;
	s->has_ts = p->has_ts ? 1 : 0;
}

/* What sending a SYN or SYN+ACK does to its sender. Returns false when the sender is already
 * synchronized: a late copy of its SYN, or one with a new ISN (spoofed, or a new connection whose
 * end the box did not see); its own sequence numbers and window stay. */
static bool sender_syn(struct weir_tcp_side *s, struct weir_tcp_side *r, const struct weir_pkt *p,
                       struct weir_tcp_out *o)
{
	const bool synack = (p->tcp_flags & TH_ACK) != 0;
	if (established_or_later(s->state)) {
		if (p->seq != s->isn)
			anomaly(o, WEIR_AN_SYN_ON_ESTABLISHED);
		return false;
	}
	if (p->seq != s->isn)
		side_relearn(s, p);
	syn_options(s, p);
	if (!synack) {
		/* SYN_RCVD stays: its own SYN crossed the peer's (simultaneous open). */
		if (s->state == WEIR_TCP_CLOSED || s->state == WEIR_TCP_LISTEN)
			set_state(o, s, WEIR_TCP_SYN_SENT);
		return true;
	}
	set_state(o, s, WEIR_TCP_SYN_RCVD);
	negotiate_scale(s, r);
	return true;
}

/* What sending a FIN does to its sender. */
static void sender_fin(struct weir_tcp_side *s, const struct weir_tcp_side *r,
                       const struct weir_pkt *p, uint32_t len, struct weir_tcp_out *o)
{
	if (!(s->flags & WEIR_TCPF_FIN_SENT)) {
		s->fin_seq = data_seq(p) + len;
		s->flags |= WEIR_TCPF_FIN_SENT;
	}
	switch (s->state) {
	case WEIR_TCP_SYN_RCVD:
	case WEIR_TCP_ESTABLISHED:
		set_state(o, s, WEIR_TCP_FIN_WAIT_1);
		break;
	case WEIR_TCP_CLOSE_WAIT:
		/* Its FIN does not ack the peer's: it was sent before that FIN arrived, so the two
		 * FINs crossed (simultaneous close) and it goes the active closer's way. */
		if ((r->flags & WEIR_TCPF_FIN_SENT) &&
		    (!(p->tcp_flags & TH_ACK) || WEIR_SEQ_LEQ(p->ack, r->fin_seq)))
			set_state(o, s, WEIR_TCP_CLOSING);
		else
			set_state(o, s, WEIR_TCP_LAST_ACK);
		break;
	default:
		break; /* a repeated FIN, or a FIN from a side that is not open */
	}
}

/* SYN+FIN, SYN+RST, FIN+RST, or none of the classic bits. */
static bool bad_flags(uint8_t f)
{
	return several_ends(f) || (f & TH_CTL) == 0;
}

static void sender_zflags(struct weir_tcp_side *s, const struct weir_pkt *p, uint32_t len)
{
	const uint8_t f = p->tcp_flags;
	if (f & TH_SYN)
		s->zflags |= (f & TH_ACK) ? WEIR_ZF_SYNACK : WEIR_ZF_SYN;
	if (f & TH_FIN)
		s->zflags |= WEIR_ZF_FIN;
	if (f & TH_RST)
		s->zflags |= WEIR_ZF_RST;
	if (len)
		s->zflags |= WEIR_ZF_DATA;
	else if ((f & (TH_ACK | TH_SYN | TH_FIN | TH_RST)) == TH_ACK)
		s->zflags |= WEIR_ZF_ACK;
}

/* The repeated history letters of the sender's packet, after hist_flags()'s (and before its
 * zflags take this packet in). As in Zeek:
 * 't' is payload whose end does not pass what the side sent before (update_last_seq), so a
 * reordered original counts too; 'w' is a zero window, unless it comes with or after the
 * side's RST or after the peer's FIN (update_window). */
static inline void sender_marks(struct weir_tcp_conn *c, int sender, const struct weir_pkt *p,
                                uint32_t len, bool known)
{
	const struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	const bool rst = ((p->tcp_flags & TH_RST) | (s->zflags & WEIR_ZF_RST)) != 0;
	if (len && known && !rst && WEIR_SEQ_LEQ(p->seq + seq_len(p, len), s->snd_nxt))
		hist_scaled(&c->hist, sender, REP_T, 't');
	if (p->win == 0 && !rst && !(r->flags & WEIR_TCPF_FIN_SENT))
		hist_scaled(&c->hist, sender, REP_W, 'w');
}

/* snd_nxt is the highest sequence sent. A zero-window probe (one byte at snd_nxt into a closed
 * window) does not advance it, as in Wireshark, so the data that follows is not a resend. */
static void advance_nxt(struct weir_tcp_side *s, const struct weir_tcp_side *r,
                        const struct weir_pkt *p, uint32_t len)
{
	const uint32_t end = p->seq + seq_len(p, len);
	if (!WEIR_SEQ_GT(end, s->snd_nxt))
		return;
	if (len == 1 && p->seq == s->snd_nxt && (r->flags & WEIR_TCPF_ISN_KNOWN) && r->rcv_wnd == 0)
		return;
	s->snd_nxt = end;
	s->nxt_ts_ns = p->ts_ns;
}

/* Duplicate ACKs as Wireshark counts them: no data, no SYN/FIN/RST, the same ack and the same
 * non-zero window as its previous packet, at snd_nxt. Any other ack value starts again. */
static void track_acks(struct weir_tcp_side *s, const struct weir_pkt *p, uint32_t len, bool known)
{
	if (p->ack != s->last_ack)
		s->dupacks = 0;
	else if (known && len == 0 && p->win != 0 && p->win == s->last_win &&
	         p->seq == s->snd_nxt && !(p->tcp_flags & (TH_SYN | TH_FIN | TH_RST)) &&
	         s->dupacks < UINT16_MAX)
		s->dupacks++;
	s->last_ack = p->ack;
	s->last_win = p->win;
	s->last_ts_ns = p->ts_ns;
}

/* The handshake RTT (latest SYN to the first ACK without SYN) bounds what counts as reordering. */
static void handshake_rtt(struct weir_tcp_conn *c, const struct weir_pkt *p)
{
	const uint8_t f = p->tcp_flags & (TH_SYN | TH_ACK);
	if (f == TH_SYN)
		c->syn_ts_ns = p->ts_ns;
	else if (f == TH_ACK && !c->first_rtt_ns && c->syn_ts_ns && p->ts_ns > c->syn_ts_ns)
		c->first_rtt_ns = p->ts_ns - c->syn_ts_ns;
}

/* The sender's counters, and REXMIT. */
static inline void sender_count(struct weir_tcp_conn *c, int sender, const struct weir_pkt *p,
                                uint32_t len, struct weir_tcp_out *o)
{
	struct weir_tcp_side *s = &c->side[sender];
	const enum resend_kind kind = resend_kind(c, sender, p, len);
	s->pkts++;
	s->bytes += p->ip_len;
	s->payload += p->payload_len;
	if (kind != SEG_NEW)
		weir_count32(&s->resent_pkts);
	if (kind == SEG_REXMIT) {
		o->events |= EV(WEIR_EV_REXMIT);
		weir_count32(&s->rexmit_pkts);
		s->rexmit_bytes += p->payload_len;
	}
}

/* The checks that only need the sender's own view. Out of line: a plain ACK only comes here
 * for a fragment or after its sender's FIN (sender_plain()). */
__attribute__((noinline)) static void sender_checks(const struct weir_tcp_side *s,
                                                    const struct weir_pkt *p, uint32_t len,
                                                    struct weir_tcp_out *o)
{
	if (bad_flags(p->tcp_flags))
		anomaly(o, WEIR_AN_BAD_FLAGS);
	if (p->ip_frag == WEIR_IPFRAG_OVERLAP_DIFF) /* its fragments disagreed: evasion signal */
		anomaly(o, WEIR_AN_FRAG_OVERLAP_DIFFERENT);
	if ((s->flags & WEIR_TCPF_FIN_SENT) && len && WEIR_SEQ_GT(data_seq(p) + len, s->fin_seq))
		anomaly(o, WEIR_AN_DATA_AFTER_FIN);
}

/* Whether p is a plain packet: ACK without SYN, FIN or RST. */
static inline bool plain(const struct weir_pkt *p)
{
	return (p->tcp_flags & (TH_SYN | TH_FIN | TH_RST | TH_ACK)) == TH_ACK;
}

/* The sender's update of a plain packet p (of wire length len) from a side whose sequence numbers
 * are known and that is past SYN_SENT: most packets. What sender_any() does, less the steps
 * that cannot apply (no state changes, no new ISN, no SYN options; its flags are never bad). */
static inline void sender_plain(struct weir_tcp_conn *c, int sender, const struct weir_pkt *p,
                                uint32_t len, struct weir_tcp_out *o)
{
	struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	sender_count(c, sender, p, len, o);
	if (p->ip_frag == WEIR_IPFRAG_OVERLAP_DIFF || (s->flags & WEIR_TCPF_FIN_SENT))
		sender_checks(s, p, len, o);
	hist_once(&c->hist, sender, len ? 'd' : 'a'); /* hist_flags() of a plain packet */
	sender_marks(c, sender, p, len, true);
	s->zflags |= len ? WEIR_ZF_DATA : WEIR_ZF_ACK; /* sender_zflags() of a plain packet */
	track_acks(s, p, len, true);
	handshake_rtt(c, p);
	if (p->has_ts)
		s->has_ts = 1;
	advance_nxt(s, r, p, len);
	update_window(s, p, s->wnd_shift);
}

/* The sender's update of any packet. */
static void sender_any(struct weir_tcp_conn *c, int sender, const struct weir_pkt *p, uint32_t len,
                       struct weir_tcp_out *o)
{
	struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	const uint8_t f = p->tcp_flags;
	const bool known = (s->flags & WEIR_TCPF_ISN_KNOWN) != 0;
	sender_count(c, sender, p, len, o);
	sender_checks(s, p, len, o);
	hist_flags(&c->hist, sender, p, len);
	sender_marks(c, sender, p, len, known);
	sender_zflags(s, p, len);
	track_acks(s, p, len, known);
	handshake_rtt(c, p); /* before the returns below: a repeated SYN is the latest SYN too */
	if (!known && !(f & TH_RST)) /* a RST's sequence number is not trusted to start a side */
		side_learn(s, p->seq, data_seq(p), p->ts_ns);
	if (f & TH_RST) {
		if (rst_acceptable(s, r, p)) {
			s->flags |= WEIR_TCPF_RST;
			set_state(o, s, WEIR_TCP_CLOSED);
		}
		finish_out(o);
		return;
	}
	if (f & TH_SYN) {
		if (!sender_syn(s, r, p, o)) {
			finish_out(o);
			return;
		}
	} else {
		if ((f & TH_ACK) && s->state == WEIR_TCP_SYN_SENT)
			establish(o, s); /* it answers a SYN+ACK the box did not see */
		if (f & TH_FIN)
			sender_fin(s, r, p, len, o);
		if (p->has_ts)
			s->has_ts = 1;
	}
	advance_nxt(s, r, p, len);
	update_window(s, p, window_shift(s, r));
	finish_out(o);
}

/* sender_any(), and the window shifts, whose inputs (SYN options, which side sent a SYN) only a
 * SYN changes. Out of line: most packets take sender_plain(). */
__attribute__((noinline)) static void sender_update(struct weir_tcp_conn *c, int sender,
                                                    const struct weir_pkt *p, uint32_t len,
                                                    struct weir_tcp_out *o)
{
	struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	sender_any(c, sender, p, len, o);
	if (p->tcp_flags & TH_SYN) {
		s->wnd_shift = window_shift(s, r);
		r->wnd_shift = window_shift(r, s);
	}
}

void weir_tcp_sender_update(struct weir_tcp_conn *c, int sender, const struct weir_pkt *p,
                            struct weir_tcp_out *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	if (!c || !p || !valid_side(sender))
		return;
	const struct weir_tcp_side *s = &c->side[sender];
	const uint32_t len = wire_len(p);
	if (plain(p) && (s->flags & WEIR_TCPF_ISN_KNOWN) && s->state != WEIR_TCP_SYN_SENT)
		sender_plain(c, sender, p, len, o);
	else
		sender_update(c, sender, p, len, o);
}

/* ---- receiver update ---------------------------------------------------------------------- */

static void receiver_rst(struct weir_tcp_conn *c, struct weir_tcp_side *s, struct weir_tcp_side *r,
                         const struct weir_pkt *p, struct weir_tcp_out *o)
{
	if (!rst_acceptable(s, r, p)) {
		if (!c->ended) /* late RSTs after the end answer stray segments: not worth a flag */
			anomaly(o, WEIR_AN_RST_OUT_OF_WINDOW);
		return;
	}
	set_state(o, r, WEIR_TCP_CLOSED);
	if (!c->ended) {
		c->ended = 1;
		c->end_reason = WEIR_CLOSE_RST;
	}
}

/* The peer acknowledged r's bytes up to ack: holes below it were never seen by the box. */
static void receiver_gap(struct weir_tcp_conn *c, int rside, uint32_t ack, struct weir_tcp_out *o)
{
	struct weir_tcp_side *r = &c->side[rside];
	if (r->flags & WEIR_TCPF_STOPPED)
		return;
	if ((r->flags & WEIR_TCPF_FIN_SENT) && WEIR_SEQ_GT(ack, r->fin_seq))
		ack = r->fin_seq; /* the FIN takes a sequence number but is not a byte */
	if (!weir_stream_ack_passes(&r->stream, ack)) { /* nothing unseen acknowledged: no bytes */
		hist_gap(c, rside, cut_passed(&c->hist, rside, r, ack));
		return;
	}
	struct weir_reasm_res res;
	weir_stream_ack(&r->stream, ack, &res);
	if (res.gap)
		anomaly(o, WEIR_AN_ACK_UNSEEN_DATA);
	hist_gap(c, rside, res.holes + cut_passed(&c->hist, rside, r, ack));
	o->peer_new_bytes = res.delivered;
}

/* ACK processing: r's SYN and FIN acknowledged, its snd_una, gaps in its stream. */
static void receiver_ack(struct weir_tcp_conn *c, int rside, const struct weir_pkt *p, struct weir_tcp_out *o)
{
	struct weir_tcp_side *r = &c->side[rside];
	const uint32_t ack = p->ack;
	if (!(r->flags & WEIR_TCPF_ISN_KNOWN)) {
		if (r->state == WEIR_TCP_SYN_RCVD)
			establish(o, r); /* its SYN+ACK was not seen: the ACK is believed */
		return;
	}
	if (r->state == WEIR_TCP_SYN_SENT) {
		/* RFC 793: in SYN_SENT an ack outside (ISN, snd_nxt] is refused with the segment. */
		if (!WEIR_SEQ_GT(ack, r->isn) || !WEIR_SEQ_LEQ(ack, r->snd_nxt))
			return;
		if (p->tcp_flags & TH_SYN)
			establish(o, r);
	} else if (r->state == WEIR_TCP_SYN_RCVD && WEIR_SEQ_GT(ack, r->isn)) {
		establish(o, r);
	}
	if (WEIR_SEQ_GT(ack, r->snd_una))
		r->snd_una = ack;
	if ((r->flags & WEIR_TCPF_FIN_SENT) && WEIR_SEQ_GT(ack, r->fin_seq)) {
		r->flags |= WEIR_TCPF_FIN_ACKED;
		if (r->state == WEIR_TCP_FIN_WAIT_1)
			set_state(o, r, WEIR_TCP_FIN_WAIT_2);
		else if (r->state == WEIR_TCP_CLOSING)
			set_state(o, r, WEIR_TCP_TIME_WAIT);
		else if (r->state == WEIR_TCP_LAST_ACK)
			set_state(o, r, WEIR_TCP_CLOSED);
	}
	receiver_gap(c, rside, ack, o);
}

/* What receiving a SYN (without ACK) or a FIN does to r, after the ACK was processed. Out of line:
 * most packets carry neither. */
__attribute__((noinline)) static void receiver_ctl(struct weir_tcp_side *r,
                                                   const struct weir_pkt *p, struct weir_tcp_out *o)
{
	const uint8_t f = p->tcp_flags;
	if (f & TH_SYN) {
		if (!(f & TH_ACK) && (r->state == WEIR_TCP_LISTEN || r->state == WEIR_TCP_SYN_SENT))
			set_state(o, r, WEIR_TCP_SYN_RCVD);
		return; /* a FIN on a SYN is not acted on */
	}
	if (!(f & TH_FIN))
		return;
	switch (r->state) {
	case WEIR_TCP_SYN_RCVD:
	case WEIR_TCP_ESTABLISHED:
		set_state(o, r, WEIR_TCP_CLOSE_WAIT);
		break;
	case WEIR_TCP_FIN_WAIT_1:
		set_state(o, r, WEIR_TCP_CLOSING);
		break;
	case WEIR_TCP_FIN_WAIT_2:
		set_state(o, r, WEIR_TCP_TIME_WAIT);
		break;
	default:
		break;
	}
}

static void reasm_result(const struct weir_reasm_res *res, struct weir_tcp_out *o)
{
	if (res->delivered) {
		o->events |= EV(WEIR_EV_NEW_DATA);
		o->new_bytes = res->delivered;
	}
	if (res->rexmit_diff)
		anomaly(o, WEIR_AN_REXMIT_DIFFERENT);
	if (res->overlap_diff)
		anomaly(o, WEIR_AN_OVERLAP_DIFFERENT);
	if (res->outrun)
		anomaly(o, WEIR_AN_BUFFER_OUTRUN);
	if (res->memfail)
		anomaly(o, WEIR_AN_MEMCAP);
}

/*
 * The sender's payload into its stream. A segment without ACK is not reassembled: other than a
 * SYN, any synchronized receiver drops it (RFC 793 §3.9); a SYN's bytes are dropped by a stack
 * without a Fast Open cookie, which acknowledges only the SYN (Linux does), and the sender sends
 * them again, so a copy the endpoint never read must not stand for the one it reads (Fast Open
 * data the SYN+ACK acknowledges becomes a gap). Nor is anything after the connection ended
 * (an accepted RST, or both FINs acknowledged): no socket reads it any more. Payload past
 * the receiver's advertised right edge is flagged but still reassembled (the box may have missed
 * a window update); a one-byte probe of a zero window is not flagged.
 */
static void receiver_payload(struct weir_tcp_conn *c, struct weir_mem *m, int sender,
                             const struct weir_pkt *p, struct weir_tcp_out *o)
{
	struct weir_tcp_side *s = &c->side[sender];
	const struct weir_tcp_side *r = &c->side[!sender];
	const uint32_t len = wire_len(p), seq = data_seq(p);
	if (!len || c->ended || (s->flags & WEIR_TCPF_STOPPED) || !(p->tcp_flags & TH_ACK))
		return;
	if ((r->flags & WEIR_TCPF_WIN_KNOWN) && WEIR_SEQ_GT(s->snd_una, s->isn)) {
		const uint32_t edge = s->snd_una + r->rcv_wnd;
		const bool probe = r->rcv_wnd == 0 && len == 1 && seq == edge;
		if (!probe && WEIR_SEQ_GT(seq + len, edge))
			anomaly(o, WEIR_AN_DATA_OUT_OF_WINDOW);
	}
	const int64_t off = weir_stream_offset(&s->stream, seq);
	const bool in_order = off <= (int64_t)s->stream.next;
	if (len == 1 && p->seq == s->snd_nxt - 1 && off < (int64_t)s->stream.next && !(p->tcp_flags & (TH_SYN | TH_FIN)))
		return; /* a keep-alive's byte (one already delivered) is filler, not a resend to compare */
	struct weir_reasm_res res;
	memset(&res, 0, sizeof(res));
	if (p->payload_len && p->payload)
		weir_stream_add(&s->stream, m, seq, p->payload, p->payload_len, &res);
	if (len > p->payload_len && in_order) {
		/* The capture cut the segment short: its missing tail was sent, so it is a gap now
		 * rather than a hole waiting for bytes that will never be captured. */
		struct weir_reasm_res tail;
		weir_stream_ack(&s->stream, seq + len, &tail);
		res.delivered += tail.delivered;
		if (tail.gap)
			cut_seen(&c->hist, sender, seq + p->payload_len);
	}
	reasm_result(&res, o);
}

static bool closed_by_fin(const struct weir_tcp_side *s)
{
	return (s->flags & WEIR_TCPF_FIN_SENT) && (s->state == WEIR_TCP_TIME_WAIT || s->state == WEIR_TCP_CLOSED);
}

/* Whether the receiver takes nothing more of p than this: an RST (accepted or not), or a SYN to a
 * synchronized receiver. Out of line: most packets carry neither. */
__attribute__((noinline)) static bool receiver_refuses(struct weir_tcp_conn *c, int sender,
                                                       const struct weir_pkt *p,
                                                       struct weir_tcp_out *o)
{
	struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	if (p->tcp_flags & TH_RST) {
		receiver_rst(c, s, r, p, o);
		finish_out(o);
		return true;
	}
	/* RFC 5961 §4: a synchronized receiver answers any SYN with a challenge ACK and discards
	 * the segment: its ack, payload and flags change nothing. */
	return (p->tcp_flags & TH_SYN) && established_or_later(r->state);
}

void weir_tcp_receiver_update(struct weir_tcp_conn *c, struct weir_mem *m, int sender,
                              const struct weir_pkt *p, struct weir_tcp_out *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	if (!c || !p || !valid_side(sender))
		return;
	struct weir_tcp_side *s = &c->side[sender], *r = &c->side[!sender];
	/* A plain packet (most) has no RST or SYN to check, nor anything for receiver_ctl(). */
	const bool pl = plain(p);
	if (!pl && receiver_refuses(c, sender, p, o))
		return;
	if (p->tcp_flags & TH_ACK)
		receiver_ack(c, !sender, p, o);
	if (!pl)
		receiver_ctl(r, p, o);
	receiver_payload(c, m, sender, p, o);
	if (!c->handshake_done && !c->midstream &&
	    (s->zflags & r->zflags & WEIR_ZF_ESTABLISHED)) {
		c->handshake_done = 1;
		o->events |= EV(WEIR_EV_HANDSHAKE_DONE);
	}
	if (!c->ended && closed_by_fin(s) && closed_by_fin(r)) {
		c->ended = 1;
		c->end_reason = WEIR_CLOSE_FIN;
	}
	finish_out(o);
}

/* ---- undoing the receiver's update ------------------------------------------------------- */

/* The flag bits the receiver's update sets (receiver_ack); the others belong to the sender's
 * update or to handlers (STOPPED). */
#define RCV_FLAGS WEIR_TCPF_FIN_ACKED

void weir_tcp_snapshot(const struct weir_tcp_conn *c, struct weir_tcp_snap *snap)
{
	for (int i = 0; i < 2; i++) {
		const struct weir_tcp_side *s = &c->side[i];
		weir_stream_snapshot(&s->stream, &snap->stream[i]);
		snap->snd_una[i] = s->snd_una;
		snap->state[i] = s->state;
		snap->zflags[i] = s->zflags;
		snap->flags[i] = s->flags;
	}
	snap->hist = c->hist;
	snap->handshake_done = c->handshake_done;
	snap->ended = c->ended;
	snap->end_reason = c->end_reason;
}

void weir_tcp_restore(struct weir_tcp_conn *c, const struct weir_tcp_snap *snap)
{
	for (int i = 0; i < 2; i++) {
		struct weir_tcp_side *s = &c->side[i];
		weir_stream_restore(&s->stream, &snap->stream[i]);
		s->snd_una = snap->snd_una[i];
		s->state = snap->state[i];
		s->zflags = snap->zflags[i];
		s->flags = (uint8_t)((s->flags & ~RCV_FLAGS) | (snap->flags[i] & RCV_FLAGS));
	}
	c->hist = snap->hist;
	c->handshake_done = snap->handshake_done;
	c->ended = snap->ended;
	c->end_reason = snap->end_reason;
}

/* ---- end ---------------------------------------------------------------------------------- */

void weir_tcp_flush(struct weir_tcp_conn *c)
{
	for (int i = 0; i < 2; i++) {
		struct weir_reasm_res res;
		weir_stream_flush(&c->side[i].stream, &res);
		hist_gap(c, i, res.holes);
	}
}

void weir_tcp_release(struct weir_tcp_conn *c, struct weir_mem *m)
{
	for (int i = 0; i < 2; i++)
		weir_stream_fini(&c->side[i].stream, m);
}

void weir_tcp_finish(struct weir_tcp_conn *c, struct weir_mem *m)
{
	if (!c)
		return;
	weir_tcp_flush(c);
	weir_tcp_release(c, m);
}
