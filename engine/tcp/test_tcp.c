/* test_tcp.c — unit test of engine/tcp: both endpoints' states, events, retransmission and anomaly checks, windows, history. */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "unit.h"

#define SYN 0x02
#define FIN 0x01
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

#define C WEIR_SIDE_CLIENT
#define S WEIR_SIDE_SERVER
#define EVB(e) (1u << (e))

/* Default spacing of test packets: longer than the 3 ms reordering allowance, so that a resend
 * is a retransmission unless a test spaces packets closer on purpose. */
#define STEP_NS 10000000ull
#define MS 1000000ull
#define SEC 1000000000ull
/* Client and server ISNs of the standard connection. */
#define CI 1000u
#define SI 5000u

struct tt {
	struct weir_tcp_conn c;
	struct weir_mem m;
	uint64_t now;
	struct weir_tcp_out pre, snd, rcv;
};

static struct weir_pkt pk(uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
	struct weir_pkt p;
	memset(&p, 0, sizeof(p));
	p.tcp_flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.payload = (const uint8_t *)data;
	p.payload_len = data ? (uint32_t)strlen(data) : 0;
	p.ip_len = (uint16_t)(40 + p.payload_len);
	p.win = 65535;
	p.wscale = 0xff;
	p.ip_ver = 4;
	p.l4proto = 6;
	return p;
}

/* Runs the three stages the engine core runs for one packet, dt after the previous one. */
static void run_dt(struct tt *t, int sender, struct weir_pkt p, uint64_t dt)
{
	t->now += dt;
	p.ts_ns = t->now;
	weir_tcp_pre(&t->c, sender, &p, &t->pre);
	weir_tcp_sender_update(&t->c, sender, &p, &t->snd);
	weir_tcp_receiver_update(&t->c, &t->m, sender, &p, &t->rcv);
}

static void run(struct tt *t, int sender, struct weir_pkt p)
{
	run_dt(t, sender, p, STEP_NS);
}

/* A new flow from its first packet, as the core does it. */
static void start(struct tt *t, struct weir_pkt p)
{
	const bool syn_only = (p.tcp_flags & (SYN | ACK)) == SYN;
	const int sender = weir_tcp_first_sender(&p);
	weir_tcp_init(&t->c, &p, sender, !syn_only, 65536, WEIR_OVERLAP_FIRST, true);
	run(t, sender, p);
}

static struct tt *tt_new(void)
{
	struct tt *t = calloc(1, sizeof(*t));
	if (!t || weir_mem_init(&t->m, 16u << 20) != 0) {
		fprintf(stderr, "cannot set up the test\n");
		exit(2);
	}
	t->now = 1000 * SEC;
	return t;
}

static void tt_free(struct tt *t)
{
	weir_tcp_finish(&t->c, &t->m);
	CHECK_EQ(t->m.used, 0); /* both rings were released */
	weir_mem_fini(&t->m);
	free(t);
}

/* The standard handshake (no options): client ISN CI, server ISN SI. */
static void handshake(struct tt *t)
{
	start(t, pk(SYN, CI, 0, NULL));
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	run(t, C, pk(ACK, CI + 1, SI + 1, NULL));
}

static uint8_t st(const struct tt *t, int side)
{
	return t->c.side[side].state;
}

static bool state_change(const struct weir_tcp_out *o, uint8_t from, uint8_t to)
{
	return (o->events & EVB(WEIR_EV_STATE_CHANGE)) && o->old_state == from && o->new_state == to;
}

static bool has_anom(const struct weir_tcp_out *o, unsigned a)
{
	for (unsigned i = 0; i < o->nanom; i++)
		if (o->anom[i] == a)
			return (o->events & EVB(WEIR_EV_ANOMALY)) != 0;
	return false;
}

/* ---- handshake, data both ways, close by the client ---- */

static void test_open_and_data(struct tt *t)
{
	start(t, pk(SYN, CI, 0, NULL));
	CHECK_EQ(t->pre.events, 0);
	CHECK(state_change(&t->snd, WEIR_TCP_CLOSED, WEIR_TCP_SYN_SENT));
	CHECK_EQ(t->snd.events, EVB(WEIR_EV_STATE_CHANGE));
	CHECK(state_change(&t->rcv, WEIR_TCP_LISTEN, WEIR_TCP_SYN_RCVD));
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_STATE_CHANGE));
	CHECK_EQ(t->c.midstream, 0);

	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	CHECK_EQ(t->snd.events, 0); /* already SYN_RCVD since it received the SYN */
	CHECK_EQ(st(t, S), WEIR_TCP_SYN_RCVD);
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_SENT, WEIR_TCP_ESTABLISHED));
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_STATE_CHANGE));
	CHECK_EQ(t->c.side[C].snd_una, CI + 1);

	run(t, C, pk(ACK, CI + 1, SI + 1, NULL));
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->snd.events, 0);
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_RCVD, WEIR_TCP_ESTABLISHED));
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_STATE_CHANGE) | EVB(WEIR_EV_HANDSHAKE_DONE));
	CHECK_EQ(t->c.handshake_done, 1);

	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "hello"));
	CHECK_EQ(t->snd.events, 0);
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_NEW_DATA));
	CHECK_EQ(t->rcv.new_bytes, 5);
	CHECK_EQ(t->c.side[C].snd_nxt, CI + 6);
	run(t, S, pk(ACK, SI + 1, CI + 6, NULL));
	CHECK_EQ(t->rcv.events, 0);
	CHECK_EQ(t->c.side[C].snd_una, CI + 6);
	run(t, S, pk(ACK | PSH, SI + 1, CI + 6, "world!"));
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_NEW_DATA));
	CHECK_EQ(t->rcv.new_bytes, 6);
	run(t, C, pk(ACK, CI + 6, SI + 7, NULL));
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	CHECK_EQ(st(t, S), WEIR_TCP_ESTABLISHED);

	char buf[16];
	CHECK_EQ(weir_stream_peek(&t->c.side[C].stream, 0, buf, sizeof(buf)), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(weir_stream_peek(&t->c.side[S].stream, 0, buf, sizeof(buf)), 6);
	CHECK_MEM(buf, "world!", 6);
}

static void test_client_close(void)
{
	struct tt *t = tt_new();
	test_open_and_data(t);
	run(t, C, pk(FIN | ACK, CI + 6, SI + 7, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_ESTABLISHED, WEIR_TCP_FIN_WAIT_1));
	CHECK(state_change(&t->rcv, WEIR_TCP_ESTABLISHED, WEIR_TCP_CLOSE_WAIT));
	CHECK_EQ(t->c.side[C].fin_seq, CI + 6);
	run(t, S, pk(ACK, SI + 7, CI + 7, NULL));
	CHECK_EQ(t->snd.events, 0);
	CHECK(state_change(&t->rcv, WEIR_TCP_FIN_WAIT_1, WEIR_TCP_FIN_WAIT_2));
	run(t, S, pk(FIN | ACK, SI + 7, CI + 7, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_CLOSE_WAIT, WEIR_TCP_LAST_ACK));
	CHECK(state_change(&t->rcv, WEIR_TCP_FIN_WAIT_2, WEIR_TCP_TIME_WAIT));
	CHECK_EQ(t->c.ended, 0);
	run(t, C, pk(ACK, CI + 7, SI + 8, NULL));
	CHECK(state_change(&t->rcv, WEIR_TCP_LAST_ACK, WEIR_TCP_CLOSED));
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_FIN);
	CHECK_EQ(st(t, C), WEIR_TCP_TIME_WAIT);

	/* Zeek history: S = client SYN, h = server SYN+ACK, A = client's pure ACK, D = client data,
	 * a = server's pure ACK, d = server data, F = client FIN, f = server FIN; each once per
	 * direction (the later pure ACKs add nothing). */
	CHECK_STR(t->c.hist.s, "ShADadFf");
	CHECK_EQ(t->c.side[C].zflags, WEIR_ZF_SYN | WEIR_ZF_ACK | WEIR_ZF_DATA | WEIR_ZF_FIN | WEIR_ZF_ESTABLISHED);
	CHECK_EQ(t->c.side[S].zflags, WEIR_ZF_SYNACK | WEIR_ZF_ACK | WEIR_ZF_DATA | WEIR_ZF_FIN | WEIR_ZF_ESTABLISHED);
	CHECK_EQ(t->c.side[C].pkts, 6);
	CHECK_EQ(t->c.side[S].pkts, 5);
	CHECK_EQ(t->c.side[C].payload, 5);
	CHECK_EQ(t->c.side[C].bytes, 6 * 40 + 5);
	CHECK_EQ(t->c.side[C].rexmit_pkts, 0);
	tt_free(t);
}

static void test_server_close(void)
{
	struct tt *t = tt_new();
	test_open_and_data(t);
	run(t, S, pk(FIN | ACK, SI + 7, CI + 6, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_ESTABLISHED, WEIR_TCP_FIN_WAIT_1));
	CHECK(state_change(&t->rcv, WEIR_TCP_ESTABLISHED, WEIR_TCP_CLOSE_WAIT));
	/* The client acks the FIN and closes in one packet. */
	run(t, C, pk(FIN | ACK, CI + 6, SI + 8, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_CLOSE_WAIT, WEIR_TCP_LAST_ACK));
	CHECK(state_change(&t->rcv, WEIR_TCP_FIN_WAIT_1, WEIR_TCP_TIME_WAIT));
	run(t, S, pk(ACK, SI + 8, CI + 7, NULL));
	CHECK(state_change(&t->rcv, WEIR_TCP_LAST_ACK, WEIR_TCP_CLOSED));
	CHECK_EQ(st(t, S), WEIR_TCP_TIME_WAIT);
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_FIN);
	CHECK_STR(t->c.hist.s, "ShADadfF");
	tt_free(t);
}

/* ---- simultaneous open and close, half close ---- */

static void test_simultaneous_open(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	run(t, S, pk(SYN, SI, 0, NULL)); /* the server's own SYN crossed the client's */
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->snd.events, 0);
	CHECK_EQ(st(t, S), WEIR_TCP_SYN_RCVD);
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_SENT, WEIR_TCP_SYN_RCVD));
	run(t, C, pk(SYN | ACK, CI, SI + 1, NULL));
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT)); /* its SYN again, as Wireshark sees it */
	CHECK_EQ(st(t, C), WEIR_TCP_SYN_RCVD);
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_RCVD, WEIR_TCP_ESTABLISHED));
	CHECK_EQ(t->rcv.events & EVB(WEIR_EV_HANDSHAKE_DONE), 0);
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	CHECK_EQ(t->snd.events, EVB(WEIR_EV_REXMIT));
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_RCVD, WEIR_TCP_ESTABLISHED));
	CHECK(t->rcv.events & EVB(WEIR_EV_HANDSHAKE_DONE));
	CHECK_EQ(st(t, S), WEIR_TCP_ESTABLISHED);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "ping"));
	CHECK_EQ(t->rcv.new_bytes, 4);
	CHECK_STR(t->c.hist.s, "SsHhD");
	tt_free(t);
}

static void test_simultaneous_close(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(FIN | ACK, CI + 1, SI + 1, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_ESTABLISHED, WEIR_TCP_FIN_WAIT_1));
	CHECK(state_change(&t->rcv, WEIR_TCP_ESTABLISHED, WEIR_TCP_CLOSE_WAIT));
	/* The server's FIN does not ack the client's: both FINs were in flight at once. */
	run(t, S, pk(FIN | ACK, SI + 1, CI + 1, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_CLOSE_WAIT, WEIR_TCP_CLOSING));
	CHECK(state_change(&t->rcv, WEIR_TCP_FIN_WAIT_1, WEIR_TCP_CLOSING));
	run(t, C, pk(ACK, CI + 2, SI + 2, NULL));
	CHECK(state_change(&t->rcv, WEIR_TCP_CLOSING, WEIR_TCP_TIME_WAIT));
	CHECK_EQ(t->c.ended, 0);
	run(t, S, pk(ACK, SI + 2, CI + 2, NULL));
	CHECK(state_change(&t->rcv, WEIR_TCP_CLOSING, WEIR_TCP_TIME_WAIT));
	CHECK_EQ(st(t, S), WEIR_TCP_TIME_WAIT);
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_FIN);
	CHECK_STR(t->c.hist.s, "ShAFfa");
	tt_free(t);
}

static void test_half_close(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(FIN | ACK, CI + 1, SI + 1, NULL));
	run(t, S, pk(ACK, SI + 1, CI + 2, NULL));
	CHECK_EQ(st(t, C), WEIR_TCP_FIN_WAIT_2);
	CHECK_EQ(st(t, S), WEIR_TCP_CLOSE_WAIT);
	/* The server keeps sending; the client keeps acking. */
	run(t, S, pk(ACK | PSH, SI + 1, CI + 2, "still "));
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_NEW_DATA));
	CHECK_EQ(t->snd.nanom, 0);
	run(t, C, pk(ACK, CI + 2, SI + 7, NULL));
	CHECK_EQ(t->rcv.events, 0);
	run(t, S, pk(ACK | PSH, SI + 7, CI + 2, "here"));
	CHECK_EQ(t->rcv.new_bytes, 4);
	CHECK_EQ(st(t, C), WEIR_TCP_FIN_WAIT_2);
	CHECK_EQ(st(t, S), WEIR_TCP_CLOSE_WAIT);
	run(t, S, pk(FIN | ACK, SI + 11, CI + 2, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_CLOSE_WAIT, WEIR_TCP_LAST_ACK));
	CHECK(state_change(&t->rcv, WEIR_TCP_FIN_WAIT_2, WEIR_TCP_TIME_WAIT));
	run(t, C, pk(ACK, CI + 2, SI + 12, NULL));
	CHECK(state_change(&t->rcv, WEIR_TCP_LAST_ACK, WEIR_TCP_CLOSED));
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_FIN);
	CHECK_EQ(t->c.side[S].stream.delivered, 10);
	tt_free(t);
}

/* ---- RST ---- */

static void test_rst(void)
{
	struct tt *t = tt_new();
	handshake(t);
	/* The server sent nothing yet: the client expects SI + 1, and only [SI, SI + 1] resets. */
	run(t, S, pk(RST, SI + 1 + 100000, 0, NULL));
	CHECK_EQ(t->snd.events & EVB(WEIR_EV_STATE_CHANGE), 0);
	CHECK(has_anom(&t->rcv, WEIR_AN_RST_OUT_OF_WINDOW));
	CHECK_EQ(t->rcv.events & EVB(WEIR_EV_STATE_CHANGE), 0);
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	CHECK_EQ(st(t, S), WEIR_TCP_ESTABLISHED);
	CHECK_EQ(t->c.ended, 0);
	run(t, S, pk(RST, SI - 1, 0, NULL)); /* below snd_una - 1 */
	CHECK(has_anom(&t->rcv, WEIR_AN_RST_OUT_OF_WINDOW));
	CHECK_EQ(t->c.ended, 0);
	CHECK_EQ(t->c.side[S].flags & WEIR_TCPF_RST, 0);
	/* In the client's window (65535) but not what it expects next: Linux answers with a
	 * challenge ACK (RFC 5961 §3.2) and goes on, and so does the flow. */
	run(t, S, pk(RST, SI + 1 + 1000, 0, NULL));
	CHECK(has_anom(&t->rcv, WEIR_AN_RST_OUT_OF_WINDOW));
	CHECK_EQ(t->c.ended, 0);
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);

	run(t, S, pk(RST, SI + 1, 0, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_ESTABLISHED, WEIR_TCP_CLOSED));
	CHECK(state_change(&t->rcv, WEIR_TCP_ESTABLISHED, WEIR_TCP_CLOSED));
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_RST);
	CHECK(t->c.side[S].flags & WEIR_TCPF_RST);
	CHECK(t->c.side[S].zflags & WEIR_ZF_RST);
	CHECK_STR(t->c.hist.s, "ShAr");
	/* Once the connection is over, stray RSTs are not flagged. */
	run(t, S, pk(RST, SI - 5000, 0, NULL));
	CHECK_EQ(t->rcv.nanom, 0);
	/* Nor is data read: the endpoint has no connection for it. */
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "after"));
	CHECK_EQ(t->rcv.new_bytes, 0);
	CHECK_EQ(t->c.side[C].stream.delivered, 0);
	tt_free(t);
}

/* A connection refused: the server answers the SYN with RST+ACK (seq 0, as Linux does). */
static void test_rejected(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	CHECK_STR(t->c.hist.s, "S");
	run(t, S, pk(RST | ACK, 0, CI + 1, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_SYN_RCVD, WEIR_TCP_CLOSED));
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_SENT, WEIR_TCP_CLOSED));
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_RST);
	CHECK_STR(t->c.hist.s, "Sr");
	CHECK_EQ(t->c.side[C].zflags, WEIR_ZF_SYN);
	CHECK_EQ(t->c.side[S].zflags, WEIR_ZF_RST);
	CHECK_EQ(t->c.handshake_done, 0);
	CHECK_EQ(t->c.side[S].flags & WEIR_TCPF_ISN_KNOWN, 0); /* a RST's seq 0 is not its ISN */
	tt_free(t);
}

/* A RST that acks exactly the SYN of a side in SYN_SENT is accepted even with a wild seq. */
static void test_rst_answering_syn(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	run(t, S, pk(SYN | ACK, SI, CI + 77, NULL)); /* acks nothing the client sent: ignored */
	CHECK_EQ(st(t, C), WEIR_TCP_SYN_SENT);
	run(t, S, pk(RST | ACK, SI + 900000, CI + 2, NULL));
	CHECK(has_anom(&t->rcv, WEIR_AN_RST_OUT_OF_WINDOW));
	run(t, S, pk(RST | ACK, SI + 900000, CI + 1, NULL));
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(st(t, C), WEIR_TCP_CLOSED);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_RST);
	tt_free(t);
}

/* ---- retransmissions ---- */

/*
 * What Wireshark (tcp.analysis.retransmission) calls a retransmission and what it does not:
 * a SYN sent again with the same ISN is one (the mOS paper's Listing 1 counts exactly these);
 * a SYN with a new ISN is a new attempt; a keep-alive (0 or 1 byte at snd_nxt - 1) and a pure
 * ACK are not; a repeated SYN+ACK, data segment or FIN is.
 */
static void test_syn_rexmit(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	CHECK_EQ(t->pre.events, 0);
	struct weir_tcp_conn before = t->c;
	struct weir_pkt again = pk(SYN, CI, 0, NULL);
	again.ts_ns = t->now + SEC;
	struct weir_tcp_out o;
	weir_tcp_pre(&t->c, C, &again, &o);
	CHECK_EQ(o.events, EVB(WEIR_EV_REXMIT));
	CHECK_MEM(&before, &t->c, sizeof(before)); /* PRE changes nothing */
	run_dt(t, C, again, SEC);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->snd.events, EVB(WEIR_EV_REXMIT)); /* no state change: still SYN_SENT */
	CHECK_EQ(t->c.side[C].rexmit_pkts, 1);
	CHECK_EQ(st(t, C), WEIR_TCP_SYN_SENT);
	CHECK_STR(t->c.hist.s, "S"); /* SYN-only connection */

	run_dt(t, C, pk(SYN, CI + 5000, 0, NULL), SEC); /* a new ISN: a new attempt */
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->c.side[C].isn, CI + 5000);
	CHECK_EQ(t->c.side[C].stream.cap_max, 65536); /* the stream starts again with its own limit */
	run(t, S, pk(SYN | ACK, SI, CI + 5001, NULL));
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	run_dt(t, S, pk(SYN | ACK, SI, CI + 5001, NULL), SEC); /* its ACK was lost */
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->c.side[S].rexmit_pkts, 1);
	run(t, C, pk(ACK, CI + 5001, SI + 1, NULL));
	CHECK_EQ(t->pre.events, 0);
	run(t, C, pk(ACK | PSH, CI + 5001, SI + 1, "abcdef"));
	CHECK_EQ(t->pre.events, 0);
	run_dt(t, C, pk(ACK, CI + 5006, SI + 1, NULL), SEC); /* keep-alive, no byte */
	CHECK_EQ(t->pre.events, 0);
	run_dt(t, C, pk(ACK, CI + 5006, SI + 1, "Z"), SEC); /* keep-alive with a filler byte */
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.nanom, 0); /* the filler is not compared with the byte it overlaps */
	run(t, C, pk(ACK, CI + 5007, SI + 1, NULL)); /* pure ACK */
	CHECK_EQ(t->pre.events, 0);
	run_dt(t, C, pk(FIN | ACK, CI + 5007, SI + 1, NULL), SEC);
	CHECK_EQ(t->pre.events, 0);
	run_dt(t, C, pk(FIN | ACK, CI + 5007, SI + 1, NULL), SEC);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->c.side[C].rexmit_pkts, 2);
	CHECK_EQ(st(t, C), WEIR_TCP_FIN_WAIT_1);
	tt_free(t);
}

static void test_data_rexmit(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "hello"));
	CHECK_EQ(t->rcv.new_bytes, 5);
	run_dt(t, C, pk(ACK | PSH, CI + 1, SI + 1, "hello"), SEC);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->snd.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->rcv.events, 0); /* same bytes: nothing new, nothing odd */
	run_dt(t, C, pk(ACK | PSH, CI + 1, SI + 1, "HELLO"), SEC);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK(has_anom(&t->rcv, WEIR_AN_REXMIT_DIFFERENT));
	CHECK_EQ(t->rcv.new_bytes, 0);
	/* Partly old, partly new: a retransmission that also delivers the new part. */
	run_dt(t, C, pk(ACK | PSH, CI + 4, SI + 1, "lo, you"), SEC);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->rcv.new_bytes, 5);
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(t->c.side[C].rexmit_pkts, 3);
	CHECK_EQ(t->c.side[C].rexmit_bytes, 17);
	CHECK_EQ(t->c.side[C].payload, 22);
	char buf[16];
	CHECK_EQ(weir_stream_peek(&t->c.side[C].stream, 0, buf, sizeof(buf)), 10);
	CHECK_MEM(buf, "hello, you", 10);
	/* Zeek's 't' is logged at the first retransmission; the partial one passes snd_nxt. */
	CHECK_STR(t->c.hist.s, "ShADT");
	tt_free(t);
}

/* A segment below snd_nxt that comes right after the one past it was reordered on the way,
 * not sent twice; unless duplicate ACKs asked for it (a fast retransmission). */
static void test_reorder_vs_fast_rexmit(void)
{
	struct tt *t = tt_new();
	handshake(t); /* first RTT 20 ms: the reordering allowance */
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "0123456789"));
	run_dt(t, C, pk(ACK | PSH, CI + 21, SI + 1, "klmnopqrst"), MS); /* one was late */
	CHECK_EQ(t->pre.events, 0);
	run_dt(t, C, pk(ACK | PSH, CI + 11, SI + 1, "abcdefghij"), MS);
	CHECK_EQ(t->pre.events, 0); /* reordered, not resent */
	CHECK_EQ(t->rcv.new_bytes, 20);
	run_dt(t, S, pk(ACK, SI + 1, CI + 31, NULL), MS);
	run_dt(t, C, pk(ACK | PSH, CI + 1, SI + 1, "0123456789"), MS);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT)); /* soon, but already acknowledged */
	run_dt(t, C, pk(ACK | PSH, CI + 11, SI + 1, "abcdefghij"), 30 * MS);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT)); /* past the allowance */

	run_dt(t, C, pk(ACK | PSH, CI + 31, SI + 1, "AAAAAAAAAA"), MS);
	run_dt(t, C, pk(ACK | PSH, CI + 41, SI + 1, "BBBBBBBBBB"), MS);
	run_dt(t, C, pk(ACK | PSH, CI + 51, SI + 1, "CCCCCCCCCC"), MS);
	for (int i = 0; i < 3; i++) /* the first ack, then two duplicates */
		run_dt(t, S, pk(ACK, SI + 1, CI + 41, NULL), MS / 10);
	CHECK_EQ(t->c.side[S].dupacks, 2);
	run_dt(t, C, pk(ACK | PSH, CI + 41, SI + 1, "BBBBBBBBBB"), MS / 10);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	run(t, S, pk(ACK, SI + 1, CI + 61, NULL));
	CHECK_EQ(t->c.side[S].dupacks, 0);
	/* below snd_nxt four times: the reordered first copy, two resends, the fast retransmission;
	 * Wireshark's rule (rexmit_pkts) leaves out the reordered one */
	CHECK_EQ(t->c.side[C].resent_pkts, 4);
	CHECK_EQ(t->c.side[C].rexmit_pkts, 3);
	tt_free(t);
}

/* A zero-window probe does not advance snd_nxt, so the data that follows it is not a resend. */
static void test_zero_window(void)
{
	struct tt *t = tt_new();
	handshake(t);
	struct weir_pkt zw = pk(ACK, SI + 1, CI + 1, NULL);
	zw.win = 0;
	run(t, S, zw);
	CHECK_EQ(t->c.side[S].rcv_wnd, 0);
	run_dt(t, C, pk(ACK, CI + 1, SI + 1, "x"), SEC); /* probe */
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(t->c.side[C].snd_nxt, CI + 1);
	run_dt(t, C, pk(ACK, CI + 1, SI + 1, "x"), SEC); /* probe again */
	CHECK_EQ(t->pre.events, 0);
	run(t, S, pk(ACK, SI + 1, CI + 2, NULL)); /* window open again */
	run(t, C, pk(ACK | PSH, CI + 2, SI + 1, "yz"));
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->c.side[C].stream.delivered, 3);
	/* Wireshark: more than one byte starting just below snd_nxt is new data after a probe
	 * byte, not a resend (here the probe went unnoticed: the window was open). */
	run(t, C, pk(ACK | PSH, CI + 4, SI + 1, "p"));
	run_dt(t, C, pk(ACK | PSH, CI + 4, SI + 1, "pqr"), SEC);
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.new_bytes, 2);
	CHECK_STR(t->c.hist.s, "ShAawD");
	tt_free(t);
}

/* ---- windows ---- */

static void scaled_open(struct tt *t, uint8_t cshift, uint8_t sshift)
{
	struct weir_pkt syn = pk(SYN, CI, 0, NULL), synack = pk(SYN | ACK, SI, CI + 1, NULL);
	syn.win = 1000;
	syn.wscale = cshift;
	syn.mss = 1460;
	syn.sack_perm = 1;
	synack.win = 2000;
	synack.wscale = sshift;
	synack.mss = 1400;
	start(t, syn);
	CHECK_EQ(t->c.side[C].rcv_wnd, 1000);
	run(t, S, synack);
	CHECK_EQ(t->c.side[S].rcv_wnd, 2000); /* a SYN's own window is never scaled */
	CHECK_EQ(t->c.side[C].mss, 1460);
	CHECK_EQ(t->c.side[S].mss, 1400);
	CHECK_EQ(t->c.side[C].sack_perm, 1);
	CHECK_EQ(t->c.side[S].sack_perm, 0);
	struct weir_pkt ack = pk(ACK, CI + 1, SI + 1, NULL);
	ack.win = 100;
	run(t, C, ack);
	struct weir_pkt sack = pk(ACK, SI + 1, CI + 1, NULL);
	sack.win = 50;
	run(t, S, sack);
}

static void test_window_scaling(void)
{
	struct tt *t = tt_new();
	scaled_open(t, 7, 2);
	CHECK(t->c.side[C].flags & WEIR_TCPF_WSCALE);
	CHECK(t->c.side[S].flags & WEIR_TCPF_WSCALE);
	CHECK_EQ(t->c.side[C].rcv_wnd, 100u << 7);
	CHECK_EQ(t->c.side[S].rcv_wnd, 50u << 2);
	/* The server offers 200 bytes past CI + 1: exactly 200 fit, one more does not (and is
	 * still reassembled: the box may have missed a window update). */
	char big[201];
	memset(big, 'q', 200);
	big[200] = '\0';
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, big));
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(t->rcv.new_bytes, 200);
	run(t, C, pk(ACK | PSH, CI + 201, SI + 1, "!"));
	CHECK(has_anom(&t->rcv, WEIR_AN_DATA_OUT_OF_WINDOW));
	CHECK_EQ(t->rcv.new_bytes, 1);
	tt_free(t);

	t = tt_new();
	scaled_open(t, 7, 0xff); /* only the SYN offers scaling: nobody scales */
	CHECK_EQ(t->c.side[C].flags & WEIR_TCPF_WSCALE, 0);
	CHECK_EQ(t->c.side[S].flags & WEIR_TCPF_WSCALE, 0);
	CHECK_EQ(t->c.side[C].rcv_wnd, 100);
	CHECK_EQ(t->c.side[S].rcv_wnd, 50);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "fits"));
	CHECK_EQ(t->rcv.nanom, 0);
	tt_free(t);

	t = tt_new();
	scaled_open(t, 0xff, 3); /* a SYN+ACK offering it to a SYN that did not: ignored */
	CHECK_EQ(t->c.side[S].flags & WEIR_TCPF_WSCALE, 0);
	CHECK_EQ(t->c.side[S].rcv_wnd, 50);
	tt_free(t);

	t = tt_new();
	scaled_open(t, 20, 14); /* shifts above 14 count as 14 (RFC 7323) */
	CHECK_EQ(t->c.side[C].wscale, 20);
	CHECK_EQ(t->c.side[C].rcv_wnd, 100u << 14);
	tt_free(t);
}

/* ---- sequence wrap-around ---- */

static void test_wraparound(void)
{
	struct tt *t = tt_new();
	const uint32_t ci = 0xfffffff0u, si = 0xfffffffeu;
	start(t, pk(SYN, ci, 0, NULL));
	run(t, S, pk(SYN | ACK, si, ci + 1, NULL));
	run(t, C, pk(ACK, ci + 1, si + 1, NULL));
	CHECK_EQ(t->c.handshake_done, 1);
	run(t, C, pk(ACK | PSH, ci + 1, si + 1, "0123456789abcdef0123")); /* crosses 0 */
	CHECK_EQ(t->rcv.new_bytes, 20);
	CHECK_EQ(t->c.side[C].snd_nxt, 0x00000005u);
	run(t, C, pk(ACK | PSH, 0x00000005u, si + 1, "ABCDEFGHIJKLMNOPQRST"));
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.new_bytes, 20);
	run(t, S, pk(ACK | PSH, si + 1, 0x00000019u, "server")); /* its first byte is at 2^32 - 1 */
	CHECK_EQ(t->rcv.new_bytes, 6);
	CHECK_EQ(t->c.side[C].snd_una, 0x00000019u);
	CHECK_EQ(t->rcv.nanom, 0);
	run_dt(t, C, pk(ACK | PSH, ci + 1, si + 7, "0123456789abcdef0123"), SEC);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT)); /* below snd_nxt across the wrap */
	CHECK_EQ(t->rcv.nanom, 0);
	run(t, C, pk(FIN | ACK, 0x00000019u, si + 7, NULL));
	run(t, S, pk(FIN | ACK, si + 7, 0x0000001au, NULL));
	run(t, C, pk(ACK, 0x0000001au, si + 8, NULL));
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_FIN);
	char buf[64];
	CHECK_EQ(weir_stream_peek(&t->c.side[C].stream, 0, buf, sizeof(buf)), 40);
	CHECK_MEM(buf, "0123456789abcdef0123ABCDEFGHIJKLMNOPQRST", 40);
	CHECK_EQ(weir_stream_peek(&t->c.side[S].stream, 0, buf, sizeof(buf)), 6);
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 0);
	CHECK_EQ(t->c.side[S].stream.gap_bytes, 0);
	tt_free(t);
}

/* ---- flows picked up late ---- */

static void test_midstream(void)
{
	struct tt *t = tt_new();
	start(t, pk(ACK, 7000, 9000, "abc"));
	CHECK_EQ(t->c.midstream, 1);
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	CHECK_EQ(st(t, S), WEIR_TCP_ESTABLISHED);
	CHECK_EQ(t->snd.events, 0);
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_NEW_DATA));
	CHECK_EQ(t->c.side[C].isn, 7000);
	CHECK_EQ(t->c.side[S].flags & WEIR_TCPF_ISN_KNOWN, 0);
	run(t, S, pk(ACK | PSH, 9000, 7003, "xyz!"));
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_NEW_DATA));
	CHECK_EQ(t->rcv.new_bytes, 4);
	CHECK_EQ(t->c.side[S].isn, 9000);
	CHECK_EQ(t->c.side[S].stream.seq0, 9000);
	CHECK_EQ(t->c.side[C].stream.seq0, 7000);
	run(t, C, pk(ACK, 7003, 9004, NULL));
	CHECK_EQ(t->rcv.events, 0); /* never a HANDSHAKE_DONE */
	CHECK_EQ(t->c.handshake_done, 0);
	run(t, C, pk(FIN | ACK, 7003, 9004, NULL));
	run(t, S, pk(FIN | ACK, 9004, 7004, NULL));
	run(t, C, pk(ACK, 7004, 9005, NULL));
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_FIN);
	CHECK_EQ(t->c.side[C].zflags & WEIR_ZF_ESTABLISHED, 0);
	CHECK_STR(t->c.hist.s, "DdAFf");
	tt_free(t);
}

static void test_synack_first(void)
{
	struct tt *t = tt_new();
	struct weir_pkt sa = pk(SYN | ACK, SI, CI + 1, NULL);
	CHECK_EQ(weir_tcp_first_sender(&sa), S);
	start(t, sa);
	CHECK_EQ(t->c.midstream, 1);
	CHECK_EQ(t->c.side[C].isn, CI);
	CHECK(state_change(&t->snd, WEIR_TCP_LISTEN, WEIR_TCP_SYN_RCVD));
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_SENT, WEIR_TCP_ESTABLISHED));
	run(t, C, pk(ACK, CI + 1, SI + 1, NULL));
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_RCVD, WEIR_TCP_ESTABLISHED));
	CHECK_EQ(t->rcv.events & EVB(WEIR_EV_HANDSHAKE_DONE), 0); /* the SYN was not seen */
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "GET /"));
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.new_bytes, 5);
	CHECK_EQ(t->c.side[C].stream.seq0, CI + 1);
	run_dt(t, C, pk(SYN, CI, 0, NULL), SEC); /* a late SYN is not a resend: never seen before */
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->snd.nanom, 0);
	CHECK_STR(t->c.hist.s, "^hADS"); /* Zeek's flip letter first: the originator sent no packet yet */
	tt_free(t);
}

/* Payload on a SYN starts at ISN + 1 but is not taken: a stack without a Fast Open cookie drops
 * it (acknowledging only the SYN) and the sender sends it again. Fast Open data the SYN+ACK
 * acknowledges is a gap. */
static void test_syn_data(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, "BAD"));
	CHECK(state_change(&t->snd, WEIR_TCP_CLOSED, WEIR_TCP_SYN_SENT));
	CHECK_EQ(t->rcv.events, EVB(WEIR_EV_STATE_CHANGE));
	CHECK_EQ(t->rcv.new_bytes, 0);
	CHECK_EQ(t->c.side[C].snd_nxt, CI + 4);
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL)); /* only the SYN acknowledged */
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	CHECK_EQ(t->rcv.nanom, 0);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "GET /"));
	CHECK_EQ(t->rcv.new_bytes, 5);
	CHECK_EQ(t->rcv.nanom, 0); /* the endpoint never had "BAD": nothing differs */
	char buf[8];
	CHECK_EQ(weir_stream_peek(&t->c.side[C].stream, 0, buf, sizeof(buf)), 5);
	CHECK_MEM(buf, "GET /", 5);
	CHECK_STR(t->c.hist.s, "ShD"); /* data on a SYN is an 'S', not a 'D' */
	tt_free(t);

	t = tt_new();
	start(t, pk(SYN, CI, 0, "GET"));
	run(t, S, pk(SYN | ACK, SI, CI + 4, NULL)); /* Fast Open: the data acknowledged */
	CHECK(has_anom(&t->rcv, WEIR_AN_ACK_UNSEEN_DATA));
	run(t, C, pk(ACK | PSH, CI + 4, SI + 1, " /"));
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 3);
	CHECK_EQ(t->c.side[C].stream.delivered, 2);
	CHECK_EQ(weir_stream_peek(&t->c.side[C].stream, 3, buf, sizeof(buf)), 2);
	CHECK_MEM(buf, " /", 2);
	tt_free(t);
}

/* ---- gaps ---- */

static void test_ack_unseen(void)
{
	struct tt *t = tt_new();
	handshake(t);
	/* The server acks 100 client bytes the box never saw. */
	run(t, S, pk(ACK, SI + 1, CI + 101, NULL));
	CHECK(has_anom(&t->rcv, WEIR_AN_ACK_UNSEEN_DATA));
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 100);
	CHECK_EQ(t->c.side[C].stream.next, 100);
	CHECK_EQ(t->c.side[C].snd_una, CI + 101);
	run(t, C, pk(ACK | PSH, CI + 101, SI + 1, "after"));
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.new_bytes, 5);
	/* A segment held past a hole is released when the peer's ack shows the hole was sent. */
	run(t, C, pk(ACK | PSH, CI + 126, SI + 1, "held"));
	CHECK_EQ(t->rcv.new_bytes, 0);
	CHECK_EQ(weir_stream_held(&t->c.side[C].stream), 4);
	run(t, S, pk(ACK, SI + 1, CI + 130, NULL));
	CHECK(has_anom(&t->rcv, WEIR_AN_ACK_UNSEEN_DATA));
	CHECK_EQ(t->rcv.peer_new_bytes, 4);
	CHECK_EQ(t->rcv.events & EVB(WEIR_EV_NEW_DATA), 0); /* events describe the sender's stream */
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 120);
	/* An ack of the FIN does not make the FIN a missing byte. */
	run(t, C, pk(FIN | ACK, CI + 130, SI + 1, NULL));
	run(t, S, pk(ACK, SI + 1, CI + 131, NULL));
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 120);
	CHECK_STR(t->c.hist.s, "ShAaGDF"); /* one 'G': the next is logged at the 10th gap */
	tt_free(t);
}

/* Only the server's packets are captured (ssh.server-side-half-duplex): its ACKs skip client
 * bytes the box never saw. The stream counts them as a gap, but Zeek's history has no 'G': the
 * client sent no packet, so the endpoints are not both established. Mid-stream neither. */
static void test_gap_one_sided(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN | ACK, SI, CI + 1, NULL));
	run(t, S, pk(ACK | PSH, SI + 1, CI + 1, "banner"));
	run(t, S, pk(ACK, SI + 7, CI + 101, NULL));
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 100);
	run(t, S, pk(FIN | ACK, SI + 7, CI + 201, NULL));
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 200);
	CHECK_STR(t->c.hist.s, "^hdaf");
	tt_free(t);

	t = tt_new();
	start(t, pk(ACK, CI + 1, SI + 1, "abc"));
	run(t, S, pk(ACK, SI + 1, CI + 14, NULL));
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 10);
	CHECK_STR(t->c.hist.s, "Da");
	tt_free(t);
}

/* A capture cut by a snap length: sequence space follows the IP length, the bytes do not. */
static void test_truncated(void)
{
	struct tt *t = tt_new();
	handshake(t);
	uint8_t frame[64];
	memset(frame, 'x', sizeof(frame));
	struct weir_pkt p = pk(ACK | PSH, CI + 1, SI + 1, NULL);
	p.frame = frame;
	p.caplen = sizeof(frame);
	p.l3_off = 14;
	p.l4_off = 34;
	p.ip_len = 20 + 20 + 100; /* 100 payload bytes sent, 10 captured */
	frame[34 + 12] = 5 << 4;  /* TCP header of 20 bytes */
	p.payload = frame + 54;
	p.payload_len = 10;
	run(t, C, p);
	CHECK_EQ(t->c.side[C].snd_nxt, CI + 101);
	CHECK_EQ(t->rcv.new_bytes, 10);
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 90);
	CHECK_EQ(t->c.side[C].stream.next, 100);
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_STR(t->c.hist.s, "ShAD"); /* Zeek's gap comes when an ACK passes the unseen bytes */
	run(t, S, pk(ACK, SI + 1, CI + 51, NULL));
	CHECK_EQ(t->rcv.nanom, 0); /* nothing unseen: the tail was accounted for */
	CHECK_STR(t->c.hist.s, "ShADaG");
	run(t, S, pk(ACK, SI + 1, CI + 101, NULL));
	CHECK_EQ(t->c.hist.rep_cnt[C][1], 2); /* the ACK passed more of the hole: a second gap */
	run(t, S, pk(ACK, SI + 1, CI + 101, NULL));
	CHECK_EQ(t->c.hist.rep_cnt[C][1], 2); /* a duplicate ACK passes nothing new */
	run(t, C, pk(ACK | PSH, CI + 101, SI + 1, "next"));
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.new_bytes, 4);
	CHECK_EQ(t->c.side[C].payload, 14);
	CHECK_STR(t->c.hist.s, "ShADaG");
	tt_free(t);
}

/* One ACK over two holes is two gaps for Zeek (one per hole), not one. */
static void test_gap_holes(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "abc"));
	run(t, C, pk(ACK | PSH, CI + 14, SI + 1, "xyz"));
	run(t, C, pk(ACK | PSH, CI + 27, SI + 1, "uvw"));
	run(t, S, pk(ACK, SI + 1, CI + 30, NULL));
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 20);
	CHECK_EQ(t->c.hist.rep_cnt[C][1], 2);
	CHECK_STR(t->c.hist.s, "ShADaG");
	tt_free(t);
}

/* ---- anomalies ---- */

static void test_anomalies(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN | FIN, CI, 0, NULL));
	CHECK(has_anom(&t->snd, WEIR_AN_BAD_FLAGS));
	CHECK_STR(t->c.hist.s, "Q");
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	run(t, C, pk(ACK, CI + 1, SI + 1, NULL));
	run(t, C, pk(0, CI + 1, 0, "nothing")); /* no flags at all: dropped by the peer */
	CHECK(has_anom(&t->snd, WEIR_AN_BAD_FLAGS));
	CHECK_EQ(t->rcv.events, 0);
	CHECK_EQ(t->c.side[C].stream.delivered, 0);
	run(t, C, pk(SYN, CI + 777, 0, NULL));
	CHECK(has_anom(&t->snd, WEIR_AN_SYN_ON_ESTABLISHED));
	CHECK_EQ(t->snd.events & EVB(WEIR_EV_STATE_CHANGE), 0);
	CHECK_EQ(t->c.side[C].isn, CI);
	run(t, S, pk(FIN | RST, SI + 1, 0, NULL));
	CHECK(has_anom(&t->snd, WEIR_AN_BAD_FLAGS));
	CHECK_EQ(t->c.ended, 1); /* still a RST, and in the window */
	tt_free(t);

	t = tt_new();
	handshake(t);
	run(t, C, pk(FIN | ACK, CI + 1, SI + 1, "bye"));
	CHECK_EQ(t->c.side[C].fin_seq, CI + 4);
	CHECK_EQ(t->snd.nanom, 0);
	CHECK_EQ(t->rcv.new_bytes, 3);
	run(t, C, pk(ACK | PSH, CI + 5, SI + 1, "more"));
	CHECK(has_anom(&t->snd, WEIR_AN_DATA_AFTER_FIN));
	run_dt(t, C, pk(FIN | ACK, CI + 1, SI + 1, "bye"), SEC); /* its FIN again: fine */
	CHECK_EQ(t->snd.nanom, 0);
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK_STR(t->c.hist.s, "ShAFDT");
	tt_free(t);
}

/* ---- history details and zflags ---- */

static void test_history_scaled(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "xy"));
	for (int i = 1; i <= 10; i++) {
		run_dt(t, C, pk(ACK | PSH, CI + 1, SI + 1, "xy"), SEC);
		CHECK_STR(t->c.hist.s, i < 10 ? "ShADT" : "ShADTT");
	}
	struct weir_pkt zw = pk(ACK, SI + 1, CI + 3, NULL);
	zw.win = 0;
	run(t, S, zw);
	CHECK_STR(t->c.hist.s, "ShADTTaw");
	run(t, S, pk(FIN | RST, SI + 1, 0, NULL));
	CHECK_STR(t->c.hist.s, "ShADTTawi");
	tt_free(t);

	/* Bounded at 31 letters. "ShADda" and then, per side, 't' and 'w' at 1, 10, ... 100000
	 * resends with a zero window make 30; the client's FIN is the 31st, the server's is cut. */
	t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "cc"));
	run(t, S, pk(ACK | PSH, SI + 1, CI + 3, "ss"));
	run(t, S, pk(ACK, SI + 3, CI + 3, NULL));
	for (int i = 0; i < 100000; i++) {
		struct weir_pkt a = pk(ACK | PSH, CI + 1, SI + 3, "cc"), b = pk(ACK | PSH, SI + 1, CI + 3, "ss");
		a.win = b.win = 0;
		run_dt(t, C, a, SEC);
		run_dt(t, S, b, SEC);
	}
	CHECK_EQ(t->c.hist.len, 30);
	run(t, C, pk(FIN | ACK, CI + 3, SI + 3, NULL));
	run(t, S, pk(FIN | ACK, SI + 3, CI + 4, NULL));
	CHECK_EQ(t->c.hist.len, 31);
	CHECK_EQ(strlen(t->c.hist.s), 31);
	CHECK_EQ(t->c.hist.s[30], 'F');
	CHECK_EQ(t->c.side[C].rexmit_pkts, 100000);
	CHECK_EQ(t->c.side[S].rexmit_pkts, 100000);
	tt_free(t);
}

/* Zeek ignores a zero window that follows the peer's FIN: the peer has nothing more to send. */
static void test_zero_window_after_fin(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(FIN | ACK, CI + 1, SI + 1, NULL));
	struct weir_pkt zw = pk(ACK, SI + 1, CI + 2, NULL);
	zw.win = 0;
	run(t, S, zw);
	CHECK_STR(t->c.hist.s, "ShAFa");
	tt_free(t);
}

/* The server's SYN+ACK was not captured: the client's ACK shows it was received. */
static void test_missed_synack(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	run(t, C, pk(ACK, CI + 1, SI + 1, NULL));
	CHECK(state_change(&t->snd, WEIR_TCP_SYN_SENT, WEIR_TCP_ESTABLISHED));
	CHECK(state_change(&t->rcv, WEIR_TCP_SYN_RCVD, WEIR_TCP_ESTABLISHED));
	CHECK(t->rcv.events & EVB(WEIR_EV_HANDSHAKE_DONE));
	run(t, S, pk(ACK | PSH, SI + 1, CI + 1, "hi"));
	CHECK_EQ(t->c.side[S].stream.seq0, SI + 1); /* its stream starts at its first packet */
	CHECK_EQ(t->rcv.new_bytes, 2);
	tt_free(t);
}

/* The server's sequence numbers as the box saw them lag what the client acknowledged (the SYN+ACK
 * came after a stray FIN and moved nothing, as in Zeek's fin_retransmission.pcap): a RST at the
 * acknowledged number still resets. */
static void test_rst_acked_past_nxt(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	run(t, C, pk(FIN, CI, 0, NULL));
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	run(t, C, pk(FIN | ACK, CI, SI + 1, NULL));
	run(t, S, pk(RST, SI + 1, 0, NULL));
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_RST);
	tt_free(t);
}

/* Picked up mid-stream (the window scale unknown): a RST resets only at a sequence number the
 * receiver may expect next, not anywhere in the largest window the raw value could mean. */
static void test_rst_midstream(void)
{
	struct tt *t = tt_new();
	start(t, pk(ACK, 7000, 9000, NULL));
	struct weir_pkt a = pk(ACK, 9000, 7000, NULL);
	a.win = 10;
	run(t, S, a);
	CHECK_EQ(t->c.side[S].flags & WEIR_TCPF_WIN_KNOWN, 0);
	CHECK_EQ(t->c.side[S].rcv_wnd, 10);
	run(t, C, pk(RST, 7000 + 5000, 0, NULL));
	CHECK(has_anom(&t->rcv, WEIR_AN_RST_OUT_OF_WINDOW));
	CHECK_EQ(t->c.ended, 0);
	run(t, C, pk(RST, 7000, 0, NULL));
	CHECK_EQ(t->rcv.nanom, 0);
	CHECK_EQ(t->c.ended, 1);
	tt_free(t);
}

/* The reordering allowance is the handshake RTT once known (here 100 ms, not 3 ms). */
static void test_first_rtt(void)
{
	struct tt *t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	run_dt(t, S, pk(SYN | ACK, SI, CI + 1, NULL), 50 * MS);
	run_dt(t, C, pk(ACK, CI + 1, SI + 1, NULL), 50 * MS);
	CHECK_EQ(t->c.first_rtt_ns, 100 * MS);
	run(t, C, pk(ACK | PSH, CI + 11, SI + 1, "later"));
	run_dt(t, C, pk(ACK | PSH, CI + 1, SI + 1, "earlier..."), 50 * MS);
	CHECK_EQ(t->pre.events, 0);
	CHECK_EQ(t->rcv.new_bytes, 15);
	tt_free(t);
}

/* What reassembly reports comes out as anomalies of the sender. */
static void test_reasm_anomalies(void)
{
	struct tt *t = tt_new();
	struct weir_pkt syn = pk(SYN, CI, 0, NULL);
	weir_tcp_init(&t->c, &syn, C, false, 16, WEIR_OVERLAP_FIRST, true); /* 16-byte buffers */
	run(t, C, syn);
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	run(t, C, pk(ACK, CI + 1, SI + 1, NULL));
	run(t, C, pk(ACK | PSH, CI + 5, SI + 1, "AAAA"));
	CHECK_EQ(t->rcv.nanom, 0);
	run(t, C, pk(ACK | PSH, CI + 7, SI + 1, "BBBB")); /* overlaps the held bytes, differently */
	CHECK(has_anom(&t->rcv, WEIR_AN_OVERLAP_DIFFERENT));
	run(t, C, pk(ACK | PSH, CI + 30, SI + 1, "far ahead"));
	CHECK(has_anom(&t->rcv, WEIR_AN_BUFFER_OUTRUN));
	tt_free(t);

	t = tt_new();
	weir_mem_fini(&t->m);
	CHECK_EQ(weir_mem_init(&t->m, 1000), 0); /* less than one ring */
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "no room"));
	CHECK(has_anom(&t->rcv, WEIR_AN_MEMCAP));
	CHECK_EQ(t->rcv.new_bytes, 7); /* still delivered, just not stored */
	tt_free(t);
}

/* ---- stopped sides ---- */

static void test_stopped(void)
{
	struct tt *t = tt_new();
	handshake(t);
	t->c.side[C].flags |= WEIR_TCPF_STOPPED;
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "ignored"));
	CHECK_EQ(t->rcv.events, 0);
	CHECK_EQ(t->c.side[C].stream.delivered, 0);
	CHECK_EQ(t->c.side[C].payload, 7);
	CHECK_EQ(t->c.side[C].snd_nxt, CI + 8);
	run(t, S, pk(ACK | PSH, SI + 1, CI + 8, "kept"));
	CHECK_EQ(t->rcv.new_bytes, 4);
	CHECK_EQ(t->rcv.nanom, 0); /* no gap either: the stopped side is not reassembled */
	run(t, C, pk(FIN | ACK, CI + 8, SI + 5, NULL));
	CHECK_EQ(st(t, C), WEIR_TCP_FIN_WAIT_1);
	CHECK_EQ(st(t, S), WEIR_TCP_CLOSE_WAIT);
	CHECK(t->c.side[C].stream.ring == NULL);
	tt_free(t);
}

/* ---- end of flow, bad arguments ---- */

static void test_finish(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "abc"));
	run(t, C, pk(ACK | PSH, CI + 14, SI + 1, "later")); /* 10 bytes never seen before it */
	CHECK_EQ(weir_stream_held(&t->c.side[C].stream), 5);
	CHECK(t->m.used > 0);
	weir_tcp_finish(&t->c, &t->m);
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 10);
	CHECK_EQ(t->c.side[C].stream.delivered, 8);
	CHECK_EQ(t->m.used, 0);
	CHECK_STR(t->c.hist.s, "ShADG");
	tt_free(t); /* finishing twice is harmless */
}

static void test_bad_args(void)
{
	struct tt *t = tt_new();
	struct weir_pkt p = pk(SYN, CI, 0, NULL);
	struct weir_tcp_out o;
	CHECK_EQ(weir_tcp_first_sender(NULL), C);
	CHECK_EQ(weir_tcp_first_sender(&p), C);
	weir_tcp_init(NULL, &p, C, false, 1024, 0, true);
	weir_tcp_init(&t->c, NULL, C, false, 1024, 0, true);
	CHECK_EQ(t->c.midstream, 1);
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	weir_tcp_init(&t->c, &p, 7, false, 1024, 0, true); /* no such side */
	CHECK_EQ(t->c.midstream, 1);
	weir_tcp_init(&t->c, &p, C, false, 1024, 0, true);
	const struct weir_tcp_conn before = t->c;
	memset(&o, 0xab, sizeof(o));
	weir_tcp_pre(&t->c, 2, &p, &o);
	CHECK_EQ(o.events, 0);
	CHECK_EQ(o.nanom, 0);
	memset(&o, 0xab, sizeof(o));
	weir_tcp_sender_update(&t->c, -1, &p, &o);
	CHECK_EQ(o.events, 0);
	memset(&o, 0xab, sizeof(o));
	weir_tcp_receiver_update(&t->c, &t->m, 2, &p, &o);
	CHECK_EQ(o.events, 0);
	CHECK_EQ(o.peer_new_bytes, 0);
	weir_tcp_sender_update(NULL, C, &p, &o);
	weir_tcp_sender_update(&t->c, C, NULL, &o);
	weir_tcp_receiver_update(NULL, &t->m, C, &p, &o);
	weir_tcp_receiver_update(&t->c, &t->m, C, NULL, &o);
	weir_tcp_pre(NULL, C, &p, &o);
	CHECK_EQ(o.events, 0);
	weir_tcp_pre(&t->c, C, &p, NULL);
	weir_tcp_sender_update(&t->c, C, &p, NULL);
	weir_tcp_receiver_update(&t->c, &t->m, C, &p, NULL);
	CHECK_MEM(&before, &t->c, sizeof(before)); /* none of those touched the connection */
	weir_tcp_finish(NULL, &t->m);

	/* Payload without a captured pointer, and a stream without memory, do not crash. */
	struct weir_pkt d = pk(ACK | PSH, CI + 1, SI + 1, NULL);
	d.payload_len = 10;
	start(t, pk(SYN, CI, 0, NULL));
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	run(t, C, d);
	CHECK_EQ(t->rcv.new_bytes, 0);
	run(t, S, pk(ACK, SI + 1, CI + 11, NULL));
	CHECK(has_anom(&t->rcv, WEIR_AN_ACK_UNSEEN_DATA)); /* the 10 bytes were never seen */
	weir_tcp_receiver_update(&t->c, NULL, C, &p, &o);
	tt_free(t);
}

/* ---- undoing the receiver's update (an inline drop after POST_RCV) ---- */

/* The sender's update, then the receiver's after a snapshot; the receiver's is then undone. */
static void run_dropped(struct tt *t, int sender, struct weir_pkt p)
{
	struct weir_tcp_snap snap;
	t->now += STEP_NS;
	p.ts_ns = t->now;
	weir_tcp_sender_update(&t->c, sender, &p, &t->snd);
	weir_tcp_snapshot(&t->c, &snap);
	weir_tcp_receiver_update(&t->c, &t->m, sender, &p, &t->rcv);
	weir_tcp_restore(&t->c, &snap);
}

static void test_restore(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "GET /"));
	run_dropped(t, C, pk(ACK | PSH, CI + 6, SI + 1, "EVIL"));
	CHECK_EQ(t->rcv.new_bytes, 4); /* it was delivered, then undone */
	CHECK_EQ(t->c.side[C].stream.next, 5);
	CHECK_EQ(t->c.side[C].stream.delivered, 5);
	CHECK_EQ(t->c.side[C].snd_nxt, CI + 10); /* the sender did send it */
	CHECK_EQ(t->c.side[C].pkts, 4);
	CHECK_EQ(t->c.side[C].payload, 9);
	run(t, C, pk(ACK | PSH, CI + 6, SI + 1, "EVIL")); /* its retransmission is new data */
	CHECK(t->pre.events & EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->rcv.new_bytes, 4);
	CHECK_EQ(t->c.side[C].stream.delivered, 9);
	CHECK_EQ(t->c.side[C].stream.gap_bytes, 0);

	/* an ack of bytes never seen, dropped: no gap, snd_una unchanged */
	const struct weir_tcp_history hist = t->c.hist;
	const uint32_t una = t->c.side[S].snd_una;
	run_dropped(t, C, pk(ACK, CI + 10, SI + 101, NULL));
	CHECK_EQ(t->c.side[S].snd_una, una);
	CHECK_EQ(t->c.side[S].stream.gap_bytes, 0);
	CHECK_EQ(t->c.side[S].stream.next, 0);
	CHECK_STR(t->c.hist.s, hist.s);

	/* the last ACK of a close, dropped: not over yet; delivered again, it ends the flow */
	run(t, C, pk(FIN | ACK, CI + 10, SI + 1, NULL));
	run(t, S, pk(FIN | ACK, SI + 1, CI + 11, NULL));
	run_dropped(t, C, pk(ACK, CI + 11, SI + 2, NULL));
	CHECK_EQ(t->c.ended, 0);
	CHECK_EQ(st(t, S), WEIR_TCP_LAST_ACK);
	CHECK_EQ(t->c.side[S].flags & WEIR_TCPF_FIN_ACKED, 0);
	run(t, C, pk(ACK, CI + 11, SI + 2, NULL));
	CHECK_EQ(t->c.ended, 1);
	CHECK_EQ(t->c.end_reason, WEIR_CLOSE_FIN);
	tt_free(t);

	/* a RST dropped inline: the receiver never got it, the connection goes on */
	t = tt_new();
	handshake(t);
	run_dropped(t, S, pk(RST | ACK, SI + 1, CI + 1, NULL));
	CHECK_EQ(t->c.ended, 0);
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "still here"));
	CHECK_EQ(t->c.side[C].stream.delivered, 10);
	tt_free(t);

	/* a handshake's ACK dropped: HANDSHAKE_DONE comes with the next one */
	t = tt_new();
	start(t, pk(SYN, CI, 0, NULL));
	run(t, S, pk(SYN | ACK, SI, CI + 1, NULL));
	run_dropped(t, C, pk(ACK, CI + 1, SI + 1, NULL));
	CHECK(t->rcv.events & EVB(WEIR_EV_HANDSHAKE_DONE));
	CHECK_EQ(t->c.handshake_done, 0);
	CHECK_EQ(st(t, S), WEIR_TCP_SYN_RCVD);
	run(t, C, pk(ACK, CI + 1, SI + 1, NULL));
	CHECK(t->rcv.events & EVB(WEIR_EV_HANDSHAKE_DONE));
	CHECK_EQ(st(t, S), WEIR_TCP_ESTABLISHED);
	tt_free(t);
}

/* RFC 5961 §4: a SYN with a new ISN on a synchronized connection is answered by a challenge ACK
 * and discarded; its sequence numbers, ack and payload change neither side. */
static void test_syn_on_established(void)
{
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "0123456789"));
	run(t, C, pk(SYN, CI + 5000, 0, NULL));
	CHECK(has_anom(&t->snd, WEIR_AN_SYN_ON_ESTABLISHED));
	CHECK_EQ(t->c.side[C].snd_nxt, CI + 11);
	CHECK_EQ(t->c.side[C].isn, CI);
	CHECK_EQ(st(t, C), WEIR_TCP_ESTABLISHED);
	CHECK_EQ(st(t, S), WEIR_TCP_ESTABLISHED);
	/* one carrying data within the window and acking unseen bytes: discarded whole */
	run(t, C, pk(SYN | ACK, CI + 20, SI + 500, "INJECTED"));
	CHECK(has_anom(&t->snd, WEIR_AN_SYN_ON_ESTABLISHED));
	CHECK_EQ(t->rcv.events, 0);
	CHECK_EQ(t->c.side[C].stream.last, 10);
	CHECK_EQ(t->c.side[C].stream.nfrags, 0);
	CHECK_EQ(t->c.side[S].stream.gap_bytes, 0);
	run(t, S, pk(ACK, SI + 1, CI + 11, NULL)); /* the challenge ACK */
	run(t, C, pk(ACK | PSH, CI + 11, SI + 1, "abcdefghij"));
	CHECK_EQ(t->c.side[C].stream.delivered, 20);
	CHECK_EQ(t->c.side[C].rexmit_pkts, 0);
	tt_free(t);
}

/* Plain packets (ACK without SYN, FIN or RST) take a shorter path through both updates; its edges
 * must agree with the full one. */
static void test_plain_edges(void)
{
	struct tt *t = tt_new();
	handshake(t);
	/* The server acknowledges ten bytes the box never saw; their late copy starts at snd_nxt
	 * but is a (spurious) retransmission all the same. */
	run(t, S, pk(ACK, SI + 1, CI + 11, NULL));
	CHECK(has_anom(&t->rcv, WEIR_AN_ACK_UNSEEN_DATA));
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "0123456789"));
	CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->snd.events, EVB(WEIR_EV_REXMIT));
	CHECK_EQ(t->c.side[C].rexmit_pkts, 1);
	CHECK_EQ(t->c.side[C].resent_pkts, 1);
	/* New bytes after them are not. */
	run(t, C, pk(ACK | PSH, CI + 11, SI + 1, "abc"));
	CHECK_EQ(t->snd.events, 0);
	CHECK_EQ(t->c.side[C].rexmit_pkts, 1);
	/* A plain segment whose IP fragments disagreed is flagged as any other. */
	struct weir_pkt p = pk(ACK | PSH, CI + 14, SI + 1, "def");
	p.ip_frag = WEIR_IPFRAG_OVERLAP_DIFF;
	run(t, C, p);
	CHECK(has_anom(&t->snd, WEIR_AN_FRAG_OVERLAP_DIFFERENT));
	CHECK_EQ(t->snd.nanom, 1);
	CHECK_EQ(t->rcv.new_bytes, 3);
	tt_free(t);

	/* Mid-stream, no SYN seen: a plain packet's window stays raw, its scale unknown. */
	t = tt_new();
	start(t, pk(ACK, CI + 1, SI + 1, NULL));
	run(t, S, pk(ACK, SI + 1, CI + 1, NULL));
	struct weir_pkt q = pk(ACK | PSH, CI + 1, SI + 1, "x");
	q.win = 300;
	run(t, C, q);
	CHECK_EQ(t->c.side[C].rcv_wnd, 300);
	CHECK_EQ(t->c.side[C].flags & WEIR_TCPF_WIN_KNOWN, 0);
	tt_free(t);
}

/* A flow's segment counters are 32 bits and its duplicate ACK count 16 (they are part of every
 * flow entry, whose size is pinned here): at their maximum they stay, never wrap. */
static void test_counters_saturate(void)
{
	CHECK_EQ(sizeof(struct weir_tcp_side), 192);
	CHECK_EQ(sizeof(struct weir_tcp_conn), 496);
	struct tt *t = tt_new();
	handshake(t);
	run(t, C, pk(ACK | PSH, CI + 1, SI + 1, "abcd"));
	t->c.side[C].rexmit_pkts = t->c.side[C].resent_pkts = UINT32_MAX - 1;
	for (int i = 0; i < 3; i++) {
		run_dt(t, C, pk(ACK | PSH, CI + 1, SI + 1, "abcd"), SEC);
		CHECK_EQ(t->pre.events, EVB(WEIR_EV_REXMIT));
		CHECK_EQ(t->c.side[C].rexmit_pkts, UINT32_MAX);
		CHECK_EQ(t->c.side[C].resent_pkts, UINT32_MAX);
	}
	CHECK_EQ(t->c.side[C].rexmit_bytes, 12);
	run(t, S, pk(ACK, SI + 1, CI + 5, NULL));
	t->c.side[S].dupacks = UINT16_MAX - 1;
	for (int i = 0; i < 3; i++) {
		run(t, S, pk(ACK, SI + 1, CI + 5, NULL));
		CHECK_EQ(t->c.side[S].dupacks, UINT16_MAX);
	}
	tt_free(t);
}

int main(void)
{
	struct tt *t = tt_new();
	test_open_and_data(t);
	CHECK_STR(t->c.hist.s, "ShADad");
	tt_free(t);
	test_client_close();
	test_server_close();
	test_simultaneous_open();
	test_simultaneous_close();
	test_half_close();
	test_rst();
	test_rejected();
	test_rst_answering_syn();
	test_syn_rexmit();
	test_data_rexmit();
	test_reorder_vs_fast_rexmit();
	test_zero_window();
	test_window_scaling();
	test_wraparound();
	test_midstream();
	test_synack_first();
	test_syn_data();
	test_ack_unseen();
	test_gap_one_sided();
	test_truncated();
	test_gap_holes();
	test_anomalies();
	test_history_scaled();
	test_zero_window_after_fin();
	test_missed_synack();
	test_rst_midstream();
	test_rst_acked_past_nxt();
	test_first_rtt();
	test_reasm_anomalies();
	test_stopped();
	test_finish();
	test_bad_args();
	test_restore();
	test_syn_on_established();
	test_plain_edges();
	test_counters_saturate();
	return UNIT_DONE();
}
