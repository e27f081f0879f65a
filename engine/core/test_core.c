/* test_core.c — the worker end to end on hand-built frames: hooks, events, UDE chains, scope,
 * verdicts, stop-monitor, timers, timeouts, table policies, flow records and the API's error paths.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "weir.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define MS     1000000ull

/* ---- frames ------------------------------------------------------------------------------- */

struct frame {
	uint8_t b[1600];
	uint32_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Ethernet + IPv4 + TCP (20-byte header, plus an MSS option on SYNs). */
static void mk(struct frame *f, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
               uint8_t flags, uint32_t seq, uint32_t ack, const char *payload)
{
	const uint32_t plen = payload ? (uint32_t)strlen(payload) : 0;
	const uint32_t thl = (flags & TH_SYN) ? 24 : 20;
	memset(f->b, 0, 14 + 20 + thl);
	put16(f->b + 12, 0x0800);
	uint8_t *ip = f->b + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + thl + plen));
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	uint8_t *t = ip + 20;
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	if (flags & TH_SYN) {
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, 1460);
	}
	if (plen)
		memcpy(t + thl, payload, plen);
	f->len = 14 + 20 + thl + plen;
}

static struct weir_rx_pkt rx_of(struct frame *f, uint64_t ts)
{
	struct weir_rx_pkt r;
	memset(&r, 0, sizeof(r));
	r.frame = f->b;
	r.caplen = r.wirelen = f->len;
	r.ts_ns = ts;
	r.linktype = 1;
	return r;
}

/* ---- a recorder of every event ------------------------------------------------------------ */

struct seen {
	uint32_t event;
	int hook, side;
	uint64_t arg;
	int state[2]; /* both sides' states as the handler saw them */
	int has_pkt;
	int has_flow;
};

struct log {
	struct seen ev[512];
	unsigned n;
	int hook; /* the hook this registration is for (handlers don't get it) */
	struct weir_worker *w;
	char data[2][256]; /* stream bytes read at NEW_DATA, per side */
};

struct reg_ctx {
	struct log *log;
	int hook;
};

static void recorder(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                     void *user)
{
	struct reg_ctx *c = user;
	struct log *l = c->log;
	if (l->n == 512)
		return;
	struct seen *e = &l->ev[l->n++];
	e->event = ev;
	e->hook = c->hook;
	e->side = side;
	e->arg = arg;
	e->has_flow = f != NULL;
	e->has_pkt = weir_worker_packet(weir_msock_worker(s)) != NULL;
	e->state[0] = f ? weir_flow_state(f, 0) : -1;
	e->state[1] = f ? weir_flow_state(f, 1) : -1;
	if (ev == WEIR_EV_NEW_DATA && f && side <= 1) {
		struct weir_buf_info bi;
		weir_flow_buf_info(f, side, &bi);
		char *d = l->data[side];
		size_t have = strlen(d);
		if (have + arg < sizeof(l->data[0]))
			CHECK_EQ(weir_flow_peek(f, side, bi.next - arg, d + have, arg),
			         (long long)arg);
	}
}

static struct reg_ctx ctx[WEIR_HOOK_COUNT];

static struct weir_msock *record_all(struct weir_worker *w, struct log *l, const char *filter)
{
	char err[256];
	struct weir_msock *s = weir_msock_create(w, filter, err, sizeof(err));
	CHECK(s != NULL);
	for (int h = 0; h < WEIR_HOOK_COUNT; h++) {
		ctx[h].log = l;
		ctx[h].hook = h;
		for (uint32_t ev = 0; ev < WEIR_EV_BUILTIN_COUNT; ev++)
			weir_msock_register(s, ev, h, recorder,
			                    &ctx[h]); /* invalid (event, hook) pairs fail */
	}
	return s;
}

static int count(const struct log *l, uint32_t ev, int hook)
{
	int n = 0;
	for (unsigned i = 0; i < l->n; i++)
		n += l->ev[i].event == ev && (hook < 0 || l->ev[i].hook == hook);
	return n;
}

static const struct seen *find(const struct log *l, uint32_t ev, int hook, unsigned nth)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->ev[i].event == ev && (hook < 0 || l->ev[i].hook == hook) && nth-- == 0)
			return &l->ev[i];
	return NULL;
}

static void feed(struct weir_worker *w, struct frame *f, uint64_t ts)
{
	struct weir_rx_pkt r = rx_of(f, ts);
	CHECK_EQ(weir_worker_rx(w, &r, 1), 0);
	CHECK_EQ(weir_worker_run(w), 0);
}

struct records {
	struct weir_flow_record r[16];
	unsigned n;
};

static void sink(const struct weir_flow_record *rec, void *user)
{
	struct records *rs = user;
	if (rs->n < 16)
		rs->r[rs->n++] = *rec;
}

/* A worker of cfg whose flow records go to rs. */
static struct weir_worker *worker_to(const struct weir_config *cfg, struct records *rs)
{
	struct weir_worker *w = weir_worker_create(cfg, 0);
	rs->n = 0;
	weir_worker_set_flow_sink(w, sink, rs);
	return w;
}

#define C_IP 0x0a000001u
#define S_IP 0x0a000002u

/* A whole connection: handshake, request, response, FIN both ways. */
static void connection(struct weir_worker *w, uint16_t cport, uint16_t sport, uint64_t t0)
{
	struct frame f;
	mk(&f, C_IP, cport, S_IP, sport, TH_SYN, 1000, 0, NULL);
	feed(w, &f, t0);
	mk(&f, S_IP, sport, C_IP, cport, TH_SYN | TH_ACK, 5000, 1001, NULL);
	feed(w, &f, t0 + 1 * MS);
	mk(&f, C_IP, cport, S_IP, sport, TH_ACK, 1001, 5001, NULL);
	feed(w, &f, t0 + 2 * MS);
	mk(&f, C_IP, cport, S_IP, sport, TH_ACK | TH_PSH, 1001, 5001, "GET / HTTP/1.0\r\n\r\n");
	feed(w, &f, t0 + 3 * MS);
	mk(&f, S_IP, sport, C_IP, cport, TH_ACK | TH_PSH, 5001, 1019, "HTTP/1.0 200 OK\r\n\r\nhi");
	feed(w, &f, t0 + 4 * MS);
	mk(&f, S_IP, sport, C_IP, cport, TH_ACK | TH_FIN, 5022, 1019, NULL);
	feed(w, &f, t0 + 5 * MS);
	mk(&f, C_IP, cport, S_IP, sport, TH_ACK | TH_FIN, 1019, 5023, NULL);
	feed(w, &f, t0 + 6 * MS);
	mk(&f, S_IP, sport, C_IP, cport, TH_ACK, 5023, 1020, NULL);
	feed(w, &f, t0 + 7 * MS);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_api_errors(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	errno = 0;
	CHECK(weir_worker_create(NULL, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	struct weir_config bad = cfg;
	bad.max_flows = 0;
	CHECK(weir_worker_create(&bad, 0) == NULL);
	weir_worker_free(NULL);

	struct weir_worker *w = weir_worker_create(&cfg, 0);
	CHECK(w != NULL);
	char err[256];
	errno = 0;
	CHECK(weir_msock_create(w, "tcp port", err, sizeof(err)) == NULL);
	CHECK_EQ(errno, EINVAL);
	CHECK(err[0] != '\0');
	CHECK(weir_msock_create(NULL, NULL, err, sizeof(err)) == NULL);
	struct weir_msock *s = weir_msock_create(w, "tcp", err, sizeof(err));
	CHECK(s != NULL);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_NEW_DATA, WEIR_HOOK_PRE, NULL, NULL), -EINVAL);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_ORPHAN, WEIR_HOOK_POST_RCV, NULL, NULL), -EINVAL);
	CHECK_EQ(weir_msock_register(s, 999, WEIR_HOOK_PRE, NULL, NULL), -EINVAL);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_PKT_IN, 7, NULL, NULL), -EINVAL);
	CHECK_EQ(weir_msock_register(NULL, WEIR_EV_PKT_IN, 0, NULL, NULL), -EINVAL);
	CHECK_EQ(weir_msock_unregister(s, WEIR_EV_PKT_IN, WEIR_HOOK_PRE), -ENOENT);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, NULL, NULL), 0);
	CHECK_EQ(weir_msock_unregister(s, WEIR_EV_PKT_IN, WEIR_HOOK_PRE), 0);
	CHECK_EQ(weir_event_define(w, 12345, NULL, NULL), -EINVAL);
	CHECK_EQ(weir_event_define(NULL, WEIR_EV_REXMIT, NULL, NULL), -EINVAL);
	const int u1 = weir_event_define(w, WEIR_EV_REXMIT, NULL, NULL);
	CHECK(u1 >= WEIR_EV_UDE_FIRST);
	CHECK_EQ(weir_event_define(w, WEIR_EV_REXMIT, NULL, NULL),
	         u1); /* same definition, same id */
	const int u2 = weir_event_define(w, (uint32_t)u1, NULL, (void *)1);
	CHECK(u2 > u1);
	CHECK_EQ(weir_event_root(w, (uint32_t)u2), WEIR_EV_REXMIT);
	CHECK_EQ(weir_event_base(w, (uint32_t)u2), u1);
	CHECK_EQ(weir_event_base(w, WEIR_EV_REXMIT), -EINVAL);
	CHECK_EQ(weir_msock_register(s, (uint32_t)u2, WEIR_HOOK_PRE, NULL, NULL),
	         0); /* REXMIT is raised at PRE */
	CHECK_STR(weir_event_name(WEIR_EV_CONN_END), "conn_end");
	CHECK_STR(weir_event_name(1000), "unknown");
	CHECK_STR(weir_anomaly_name(WEIR_AN_RST_OUT_OF_WINDOW), "rst_out_of_window");
	CHECK_STR(weir_tcp_state_name(WEIR_TCP_TIME_WAIT), "time_wait");

	struct weir_event_rec recs[WEIR_POLL_MIN];
	CHECK_EQ(weir_worker_poll(w, recs, 8), -EINVAL);
	CHECK_EQ(weir_worker_poll(w, recs, WEIR_POLL_MIN), 0);
	struct weir_rx_pkt many[WEIR_RX_MAX + 1];
	CHECK_EQ(weir_worker_rx(w, many, WEIR_RX_MAX + 1), -EINVAL);
	CHECK_EQ(weir_worker_drop(w), -ENOENT);
	CHECK(weir_worker_packet(w) == NULL);
	CHECK_EQ(weir_flow_state(NULL, 0), -EINVAL);
	CHECK_EQ(weir_flow_peek(NULL, 0, 0, err, 1), -EINVAL);
	CHECK_EQ(weir_flow_set_overlap(NULL, 0, 0), -EINVAL);
	CHECK_EQ(weir_flow_stop_monitor(NULL, 2), -EINVAL);
	CHECK_EQ(weir_timer_add(NULL, NULL, 1, 1), -EINVAL);
	weir_msock_close(s);
	weir_msock_close(NULL);
	weir_worker_free(w);
}

/* The order of hooks and what each handler sees of the flow. */
/* A worker with default settings whose flow records go to rs and every event to l. */
static struct weir_worker *recorded_worker(unsigned id, struct records *rs, struct log *l)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, id);
	rs->n = 0;
	weir_worker_set_flow_sink(w, sink, rs);
	memset(l, 0, sizeof(*l));
	record_all(w, l, NULL);
	return w;
}

static void test_connection_events(void)
{
	struct records rs;
	static struct log l;
	struct weir_worker *w = recorded_worker(3, &rs, &l);
	connection(w, 40000, 80, 1000 * MS);

	/* CONN_START: at each hook of the first packet, side client; PRE sees the state before the
	 * update */
	CHECK_EQ(count(&l, WEIR_EV_CONN_START, -1), 3);
	const struct seen *e = find(&l, WEIR_EV_CONN_START, WEIR_HOOK_PRE, 0);
	CHECK(e && e->side == WEIR_SIDE_CLIENT && e->has_pkt);
	CHECK(e && e->state[0] == WEIR_TCP_CLOSED);
	e = find(&l, WEIR_EV_CONN_START, WEIR_HOOK_POST_SND, 0);
	CHECK(e && e->state[0] == WEIR_TCP_SYN_SENT && e->state[1] == WEIR_TCP_LISTEN);
	e = find(&l, WEIR_EV_CONN_START, WEIR_HOOK_POST_RCV, 0);
	CHECK(e && e->state[1] == WEIR_TCP_SYN_RCVD);
	/* PKT_IN at every hook of every packet */
	CHECK_EQ(count(&l, WEIR_EV_PKT_IN, WEIR_HOOK_PRE), 8);
	CHECK_EQ(count(&l, WEIR_EV_PKT_IN, WEIR_HOOK_POST_SND), 8);
	CHECK_EQ(count(&l, WEIR_EV_PKT_IN, WEIR_HOOK_POST_RCV), 8);
	CHECK_EQ(count(&l, WEIR_EV_HANDSHAKE_DONE, -1), 1);
	e = find(&l, WEIR_EV_HANDSHAKE_DONE, -1, 0);
	CHECK(e && e->state[0] == WEIR_TCP_ESTABLISHED && e->state[1] == WEIR_TCP_ESTABLISHED);
	/* NEW_DATA once per side with the byte count, and the bytes were peekable in the handler */
	CHECK_EQ(count(&l, WEIR_EV_NEW_DATA, WEIR_HOOK_POST_RCV), 2);
	e = find(&l, WEIR_EV_NEW_DATA, -1, 0);
	CHECK(e && e->side == WEIR_SIDE_CLIENT && e->arg == 18);
	CHECK_STR(l.data[0], "GET / HTTP/1.0\r\n\r\n");
	CHECK_STR(l.data[1], "HTTP/1.0 200 OK\r\n\r\nhi");
	/* STATE_CHANGE: the sender's at POST_SND, the receiver's at POST_RCV, old<<8|new */
	e = find(&l, WEIR_EV_STATE_CHANGE, WEIR_HOOK_POST_SND, 0);
	CHECK(e && e->side == WEIR_SIDE_CLIENT &&
	      e->arg == ((WEIR_TCP_CLOSED << 8) | WEIR_TCP_SYN_SENT));
	e = find(&l, WEIR_EV_STATE_CHANGE, WEIR_HOOK_POST_RCV, 0);
	CHECK(e && e->side == WEIR_SIDE_SERVER &&
	      e->arg == ((WEIR_TCP_LISTEN << 8) | WEIR_TCP_SYN_RCVD));
	/* the end: once, at POST_RCV, reason FIN */
	CHECK_EQ(count(&l, WEIR_EV_CONN_END, -1), 1);
	e = find(&l, WEIR_EV_CONN_END, -1, 0);
	CHECK(e && e->arg == WEIR_CLOSE_FIN && e->side == WEIR_SIDE_BOTH);
	CHECK_EQ(count(&l, WEIR_EV_REXMIT, -1), 0);
	CHECK_EQ(count(&l, WEIR_EV_ANOMALY, -1), 0);

	/* the record comes when the entry's linger ends (here: shutdown); the lingering entry holds
	 * no stream memory */
	CHECK_EQ(rs.n, 0);
	CHECK_EQ(weir_worker_stats(w)->mem_used, 0);
	CHECK(weir_worker_stats(w)->mem_peak > 0);
	weir_worker_shutdown(w);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(count(&l, WEIR_EV_CONN_END, -1), 1); /* not raised twice */
	const struct weir_flow_record *r = &rs.r[0];
	CHECK_EQ(r->flow_id >> 48, 3);
	CHECK_EQ(r->reason, WEIR_CLOSE_FIN);
	CHECK_EQ(r->side[0].pkts, 4);
	CHECK_EQ(r->side[1].pkts, 4);
	CHECK_EQ(r->side[0].delivered, 18);
	CHECK_EQ(r->side[1].delivered, 21);
	CHECK_EQ(r->tuple.client_port, 40000);
	CHECK_EQ(r->tuple.server_port, 80);
	CHECK_EQ(r->midstream, 0);
	CHECK_EQ(r->end_ns - r->start_ns, 7 * MS);
	const struct weir_stats *st = weir_worker_stats(w);
	CHECK_EQ(st->flows_created, 1);
	CHECK_EQ(st->flows_closed, 1);
	CHECK_EQ(st->flows_active, 0);
	CHECK_EQ(st->closes[WEIR_CLOSE_FIN], 1);
	CHECK_EQ(st->events[WEIR_EV_PKT_IN], 8);
	CHECK_EQ(st->events[WEIR_EV_CONN_END], 1);
	CHECK(st->flow_bytes > 0);
	weir_worker_free(w);
}

/* A SYN refused by a RST, retried with the same ISN (Windows' connect() retry): the RST deleted
 * the connection, so each attempt is its own flow (Zeek logs three REJ connections); a copy of
 * the SYN inside an attempt is still a retransmission of it. */
static void test_syn_after_rst(void)
{
	struct records rs;
	static struct log l;
	struct weir_worker *w = recorded_worker(0, &rs, &l);
	struct frame f;
	for (int i = 0; i < 3; i++) {
		const uint64_t t = (1000 + 500 * (uint64_t)i) * MS;
		mk(&f, C_IP, 26242, S_IP, 110, TH_SYN, 7000, 0, NULL);
		feed(w, &f, t);
		if (i == 2)
			feed(w, &f, t + 1 * MS);
		mk(&f, S_IP, 110, C_IP, 26242, TH_RST | TH_ACK, 0, 7001, NULL);
		feed(w, &f, t + 2 * MS);
	}
	CHECK_EQ(count(&l, WEIR_EV_CONN_START, WEIR_HOOK_PRE), 3);
	CHECK_EQ(count(&l, WEIR_EV_REXMIT, WEIR_HOOK_PRE), 1);
	weir_worker_shutdown(w);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(rs.n, 3);
	for (unsigned i = 0; i < rs.n; i++) {
		CHECK_EQ(rs.r[i].reason, WEIR_CLOSE_RST);
		CHECK_EQ(rs.r[i].side[0].pkts, i == 2 ? 2 : 1);
		CHECK_EQ(rs.r[i].side[1].pkts, 1);
		CHECK_STR(rs.r[i].history, "Sr");
	}
	CHECK_EQ(weir_worker_stats(w)->flows_created, 3);
	weir_worker_free(w);
}

/* ---- UDE chains, scope, verdicts ---------------------------------------------------------- */

struct ude_ctx {
	int filter_calls[2];
	int fired[3];
	int order[8];
	int norder;
};

static bool is_get(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                   void *user)
{
	(void)s, (void)ev, (void)arg;
	struct ude_ctx *c = user;
	c->filter_calls[0]++;
	char buf[4] = "";
	struct weir_buf_info bi;
	weir_flow_buf_info(f, side, &bi);
	return weir_flow_peek(f, side, 0, buf, 3) == 3 && !memcmp(buf, "GET", 3);
}

static bool from_client(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                        uint64_t arg, void *user)
{
	(void)s, (void)f, (void)ev, (void)arg;
	struct ude_ctx *c =
	    (struct ude_ctx *)((char *)user - offsetof(struct ude_ctx, filter_calls[1]));
	c->filter_calls[1]++;
	return side == WEIR_SIDE_CLIENT;
}

static void on_ude(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                   void *user)
{
	(void)s, (void)f, (void)side, (void)ev, (void)arg;
	struct ude_ctx *c = *(struct ude_ctx **)user;
	const int which = ((int *)user)[2];
	c->fired[which]++;
	if (c->norder < 8)
		c->order[c->norder++] = which;
}

static void test_ude_chain(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	struct weir_msock *s = weir_msock_create(w, NULL, err, sizeof(err));
	struct ude_ctx c;
	memset(&c, 0, sizeof(c));
	const int get = weir_event_define(w, WEIR_EV_NEW_DATA, is_get, &c);
	const int get_cli = weir_event_define(w, (uint32_t)get, from_client, &c.filter_calls[1]);
	struct {
		struct ude_ctx *c;
		int which;
	} h[3] = {{&c, 0}, {&c, 1}, {&c, 2}};
	CHECK_EQ(weir_msock_register(s, (uint32_t)get_cli, WEIR_HOOK_POST_RCV, on_ude, &h[0]), 0);
	CHECK_EQ(weir_msock_register(s, (uint32_t)get, WEIR_HOOK_POST_RCV, on_ude, &h[1]), 0);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_NEW_DATA, WEIR_HOOK_POST_RCV, on_ude, &h[2]), 0);
	CHECK_EQ(weir_msock_register(s, (uint32_t)get, WEIR_HOOK_PRE, on_ude, &h[1]), -EINVAL);
	connection(w, 40001, 80, 1000 * MS);
	/* two NEW_DATA (request, response): the base handler fires on both, "GET" on the client's
	 */
	CHECK_EQ(c.fired[2], 2);
	CHECK_EQ(c.fired[1], 1);
	CHECK_EQ(c.fired[0], 1);
	/* shared ancestor evaluated once per record although two registrations depend on it */
	CHECK_EQ(c.filter_calls[0], 2);
	CHECK_EQ(c.filter_calls[1], 1);
	/* registration order within the record: get_cli, get, new_data */
	CHECK_EQ(c.order[0], 0);
	CHECK_EQ(c.order[1], 1);
	CHECK_EQ(c.order[2], 2);
	weir_worker_free(w);
}

static void drop_all(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                     void *user)
{
	(void)f, (void)side, (void)ev, (void)arg, (void)user;
	CHECK_EQ(weir_worker_drop(weir_msock_worker(s)), 0);
}

static void test_scope_and_drop(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	static struct log l80;
	memset(&l80, 0, sizeof(l80));
	record_all(w, &l80, "tcp port 80");
	struct weir_msock *d = weir_msock_create(w, "tcp port 81", err, sizeof(err));
	CHECK_EQ(weir_msock_register(d, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, drop_all, NULL), 0);
	struct frame f;
	mk(&f, C_IP, 40002, S_IP, 81, TH_SYN, 1, 0, NULL);
	struct weir_rx_pkt r = rx_of(&f, 5 * MS);
	weir_worker_rx(w, &r, 1);
	weir_worker_run(w);
	CHECK_EQ(r.verdict, 1);
	CHECK_EQ(l80.n, 0); /* out of the port-80 socket's scope */
	mk(&f, C_IP, 40003, S_IP, 80, TH_SYN, 1, 0, NULL);
	r = rx_of(&f, 6 * MS);
	weir_worker_rx(w, &r, 1);
	weir_worker_run(w);
	CHECK_EQ(r.verdict, 0);
	CHECK(l80.n > 0);
	CHECK_EQ(weir_worker_stats(w)->drops, 1);
	weir_worker_free(w);
}

/* Sends one SYN of a new flow (client port sport) through w. */
static void one_syn(struct weir_worker *w, uint16_t sport, uint64_t ts)
{
	struct frame f;
	mk(&f, C_IP, sport, S_IP, 80, TH_SYN, 1, 0, NULL);
	struct weir_rx_pkt r = rx_of(&f, ts);
	weir_worker_rx(w, &r, 1);
	weir_worker_run(w);
}

/* weir_emit looks at no socket when no open one subscribed the event at that hook (the worker's
 * union of subscriptions): closing or unregistering on one socket keeps what the others asked for. */
static void test_subscription_union(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	static struct log la, lb;
	memset(&la, 0, sizeof(la));
	memset(&lb, 0, sizeof(lb));
	struct reg_ctx ca = {.log = &la, .hook = WEIR_HOOK_PRE}, cb = {.log = &lb, .hook = WEIR_HOOK_PRE};
	struct weir_msock *a = weir_msock_create(w, NULL, err, sizeof(err));
	struct weir_msock *b = weir_msock_create(w, NULL, err, sizeof(err));
	CHECK_EQ(weir_msock_register(a, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, recorder, &ca), 0);
	CHECK_EQ(weir_msock_register(b, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, recorder, &cb), 0);
	CHECK_EQ(weir_msock_register(b, WEIR_EV_CONN_START, WEIR_HOOK_PRE, recorder, &cb), 0);
	one_syn(w, 40010, 5 * MS);
	CHECK_EQ(la.n, 1);
	CHECK_EQ(lb.n, 2);
	weir_msock_close(a); /* b still wants PKT_IN */
	one_syn(w, 40011, 6 * MS);
	CHECK_EQ(la.n, 1);
	CHECK_EQ(lb.n, 4);
	CHECK_EQ(weir_msock_unregister(b, WEIR_EV_PKT_IN, WEIR_HOOK_PRE), 0); /* CONN_START stays */
	one_syn(w, 40012, 7 * MS);
	CHECK_EQ(lb.n, 5);
	CHECK_EQ(lb.ev[4].event, WEIR_EV_CONN_START);
	CHECK_EQ(weir_msock_unregister(b, WEIR_EV_CONN_START, WEIR_HOOK_PRE), 0);
	one_syn(w, 40013, 8 * MS);
	CHECK_EQ(lb.n, 5);
	CHECK_EQ(weir_msock_register(b, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, recorder, &cb), 0);
	one_syn(w, 40014, 9 * MS);
	CHECK_EQ(lb.n, 6);
	weir_worker_free(w);
}

/* ---- stop monitoring, timers, timeouts ---------------------------------------------------- */

static void stop_on_start(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                          uint64_t arg, void *user)
{
	(void)s, (void)side, (void)ev, (void)arg, (void)user;
	CHECK_EQ(weir_flow_stop_monitor(f, WEIR_SIDE_BOTH), 0);
}

static void test_stop_monitor(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct records rs;
	struct weir_worker *w = worker_to(&cfg, &rs);
	static struct log l;
	memset(&l, 0, sizeof(l));
	struct weir_msock *s = record_all(w, &l, NULL);
	CHECK_EQ(
	    weir_msock_register(s, WEIR_EV_CONN_START, WEIR_HOOK_POST_RCV, stop_on_start, NULL), 0);
	connection(w, 40004, 80, 10 * MS);
	weir_worker_shutdown(w);
	weir_worker_run(w);
	/* after the first packet's POST_RCV: nothing more, not even CONN_END */
	CHECK_EQ(count(&l, WEIR_EV_PKT_IN, -1), 3);
	CHECK_EQ(count(&l, WEIR_EV_CONN_END, -1), 0);
	CHECK_EQ(count(&l, WEIR_EV_NEW_DATA, -1), 0);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(rs.r[0].bypassed, 1);
	CHECK_EQ(rs.r[0].side[0].pkts + rs.r[0].side[1].pkts, 8); /* still counted */
	CHECK_EQ(weir_worker_stats(w)->mem_used, 0);
	weir_worker_free(w);
}

struct timer_ctx {
	struct weir_msock *s;
	uint64_t cookies[4];
	int n;
	int had_flow;
};

static void on_timer(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                     void *user)
{
	(void)s, (void)side, (void)ev;
	struct timer_ctx *c = user;
	if (c->n < 4)
		c->cookies[c->n++] = arg;
	c->had_flow += f != NULL;
}

static void arm_on_start(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                         uint64_t arg, void *user)
{
	(void)side, (void)ev, (void)arg, (void)user;
	CHECK_EQ(weir_timer_add(s, f, 50, 77), 0);     /* fires: the flow lives 70 ms */
	CHECK_EQ(weir_timer_add(s, f, 100000, 88), 0); /* cancelled: the flow ends first */
}

static void test_timers_and_timeout(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	cfg.handshake_timeout_ms = 1000;
	struct records rs;
	struct weir_worker *w = worker_to(&cfg, &rs);
	char err[256];
	struct weir_msock *s = weir_msock_create(w, NULL, err, sizeof(err));
	static struct log l;
	memset(&l, 0, sizeof(l));
	ctx[WEIR_HOOK_POST_RCV].log = &l;
	ctx[WEIR_HOOK_POST_RCV].hook = WEIR_HOOK_POST_RCV;
	struct timer_ctx tc = {.s = s};
	CHECK_EQ(weir_msock_register(s, WEIR_EV_TIMER, WEIR_HOOK_POST_RCV, on_timer, &tc), 0);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_CONN_START, WEIR_HOOK_PRE, arm_on_start, NULL), 0);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_TIMEOUT, WEIR_HOOK_POST_RCV, recorder,
	                             &ctx[WEIR_HOOK_POST_RCV]),
	         0);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_CONN_END, WEIR_HOOK_POST_RCV, recorder,
	                             &ctx[WEIR_HOOK_POST_RCV]),
	         0);
	CHECK_EQ(weir_timer_add(s, NULL, 10, 5),
	         0); /* a flow-less timer, due at 10 ms of worker time */

	struct frame f;
	mk(&f, C_IP, 40005, S_IP, 80, TH_SYN, 1, 0, NULL); /* the handshake never completes */
	feed(w, &f, 20 * MS);
	CHECK_EQ(tc.n, 1); /* the flow-less timer: due before this packet */
	CHECK_EQ(tc.cookies[0], 5);
	weir_worker_tick(w, 90 * MS);
	weir_worker_run(w);
	CHECK_EQ(tc.n, 2);
	CHECK_EQ(tc.cookies[1], 77);
	CHECK_EQ(tc.had_flow, 1);
	CHECK_EQ(rs.n, 0);
	weir_worker_tick(w, 2000 * MS); /* past the handshake timeout */
	weir_worker_run(w);
	CHECK_EQ(l.n, 2);
	CHECK(l.ev[0].event == WEIR_EV_TIMEOUT && l.ev[1].event == WEIR_EV_CONN_END);
	CHECK(l.ev[1].arg == WEIR_CLOSE_TIMEOUT && !l.ev[1].has_pkt && l.ev[1].has_flow);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(rs.r[0].reason, WEIR_CLOSE_TIMEOUT);
	weir_worker_tick(w, 200000 * MS);
	weir_worker_run(w);
	CHECK_EQ(tc.n, 2); /* the long timer died with its flow */
	weir_worker_free(w);
}

/* Closing a socket cancels its timers (they would fire into the freed socket); another socket's
 * timers fire as armed, and a socket closed by a handler gets none of the records still queued. */
static void close_other(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                        uint64_t arg, void *user)
{
	(void)s, (void)f, (void)side, (void)ev, (void)arg;
	weir_msock_close(user);
}

static void test_close_cancels_timers(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	struct weir_msock *a = weir_msock_create(w, NULL, err, sizeof(err));
	struct weir_msock *b = weir_msock_create(w, NULL, err, sizeof(err));
	struct timer_ctx ta = {.s = a}, tb = {.s = b};
	CHECK_EQ(weir_msock_register(a, WEIR_EV_TIMER, WEIR_HOOK_POST_RCV, on_timer, &ta), 0);
	CHECK_EQ(weir_msock_register(b, WEIR_EV_TIMER, WEIR_HOOK_POST_RCV, on_timer, &tb), 0);
	for (uint64_t i = 0; i < 3; i++)
		CHECK_EQ(weir_timer_add(a, NULL, 10 + i, 100 + i), 0);
	CHECK_EQ(weir_timer_add(b, NULL, 12, 200), 0);
	CHECK_EQ(weir_timer_add(b, NULL, 30, 201), 0);
	weir_msock_close(a);
	weir_worker_tick(w, 20 * MS);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(ta.n, 0);
	CHECK_EQ(tb.n, 1);
	CHECK_EQ(tb.cookies[0], 200);
	CHECK_EQ(weir_worker_stats(w)->events[WEIR_EV_TIMER], 1);

	/* b's handler closes c while c's record of the same tick is queued behind it */
	struct weir_msock *c = weir_msock_create(w, NULL, err, sizeof(err));
	struct timer_ctx tcx = {.s = c};
	CHECK_EQ(weir_msock_register(b, WEIR_EV_TIMER, WEIR_HOOK_POST_RCV, close_other, c), 0);
	CHECK_EQ(weir_msock_register(c, WEIR_EV_TIMER, WEIR_HOOK_POST_RCV, on_timer, &tcx), 0);
	CHECK_EQ(weir_timer_add(c, NULL, 10, 300), 0); /* due at 30 ms, with b's 201 */
	CHECK_EQ(weir_timer_add(c, NULL, 50, 301), 0);
	weir_worker_tick(w, 100 * MS);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(tb.n, 2);
	CHECK_EQ(tcx.n, 0);
	weir_worker_free(w);
}

/* Closing is idempotent: the handle stays valid (closed) until the worker is freed, and every
 * other call on a closed socket fails with -EBADF instead of touching freed memory. */
/* streams.buffering = false: tracking only. NEW_DATA still comes with its byte count and the
 * offsets advance, but no side holds a byte (peek: -EINVAL) and no stream memory is taken. */
struct tracked {
	unsigned new_data;
	uint64_t bytes;
	uint8_t buffering[2];
	long long peek;
};

static void on_new_data(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                        uint64_t arg, void *user)
{
	(void)s;
	(void)ev;
	struct tracked *t = user;
	struct weir_buf_info bi;
	CHECK_EQ(weir_flow_buf_info(f, side, &bi), 0);
	t->new_data++;
	t->bytes += arg;
	t->buffering[side] = bi.buffering;
	char b[64];
	t->peek = weir_flow_peek(f, side, bi.next - arg, b, arg);
	CHECK_EQ(bi.next, t->bytes - (side ? 18 : 0));
}

/* One segment of a scripted connection between C_IP:cport and S_IP:80, at_ms after the first. */
struct seg {
	bool from_server;
	uint8_t flags;
	uint32_t seq, ack;
	const char *payload;
	uint64_t at_ms;
};

/* Feeds the n segments of a connection to w; watched: a socket that records every event into l has
 * it in scope. */
static const struct weir_stats *play(struct weir_worker *w, uint16_t cport, const struct seg *segs,
                                     unsigned n, bool watched, struct log *l)
{
	if (watched)
		record_all(w, l, NULL);
	struct frame f;
	for (unsigned i = 0; i < n; i++) {
		const struct seg *g = &segs[i];
		if (g->from_server)
			mk(&f, S_IP, 80, C_IP, cport, g->flags, g->seq, g->ack, g->payload);
		else
			mk(&f, C_IP, cport, S_IP, 80, g->flags, g->seq, g->ack, g->payload);
		feed(w, &f, 1000 * MS + g->at_ms * MS);
	}
	return weir_worker_stats(w);
}

/* A connection with a retransmitted request (a REXMIT), a data-after-FIN anomaly and NEW_DATA both
 * ways. */
static const struct weir_stats *rexmit_connection(struct weir_worker *w, bool watched,
                                                  struct log *l)
{
	static const struct seg segs[] = {
	    {false, TH_SYN, 1000, 0, NULL, 0},
	    {true, TH_SYN | TH_ACK, 5000, 1001, NULL, 1},
	    {false, TH_ACK, 1001, 5001, NULL, 2},
	    {false, TH_ACK | TH_PSH, 1001, 5001, "GET / HTTP/1.0\r\n\r\n", 3},
	    {false, TH_ACK | TH_PSH, 1001, 5001, "GET / HTTP/1.0\r\n\r\n", 100},
	    {true, TH_ACK | TH_PSH, 5001, 1019, "HTTP/1.0 200 OK\r\n\r\nhi", 101},
	    {true, TH_ACK | TH_FIN, 5022, 1019, NULL, 102},
	    {true, TH_ACK | TH_PSH, 5023, 1019, "late", 103},
	};
	return play(w, 40001, segs, sizeof(segs) / sizeof(segs[0]), watched, l);
}

/* A flow no socket watches skips the event layer (and PRE's classification): its counts must be
 * those of a watched flow. */
static void test_unwatched_counts(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *quiet = weir_worker_create(&cfg, 0);
	struct weir_worker *watched = weir_worker_create(&cfg, 0);
	static struct log l;
	memset(&l, 0, sizeof(l));
	const struct weir_stats *a = rexmit_connection(quiet, false, NULL);
	const struct weir_stats *b = rexmit_connection(watched, true, &l);
	CHECK_EQ(count(&l, WEIR_EV_REXMIT, WEIR_HOOK_PRE), 1);
	CHECK_EQ(a->events[WEIR_EV_REXMIT], 1);
	CHECK_EQ(a->anomalies[WEIR_AN_DATA_AFTER_FIN], 1);
	for (int e = 0; e < WEIR_EV_BUILTIN_COUNT; e++)
		CHECK_EQ(a->events[e], b->events[e]);
	for (int an = 0; an < WEIR_AN_COUNT; an++)
		CHECK_EQ(a->anomalies[an], b->anomalies[an]);
	weir_worker_free(quiet);
	weir_worker_free(watched);
}

/* A connection whose client sends a segment beyond a hole, then fills it, and which both sides
 * close; then the worker shuts down (the flow's record). */
static const struct weir_stats *hole_close_connection(struct weir_worker *w, bool watched,
                                                      struct log *l)
{
	static const struct seg segs[] = {
	    {false, TH_SYN, 1000, 0, NULL, 0},
	    {true, TH_SYN | TH_ACK, 5000, 1001, NULL, 1},
	    {false, TH_ACK, 1001, 5001, NULL, 2},
	    {false, TH_ACK | TH_PSH, 1006, 5001, "world", 3},
	    {false, TH_ACK | TH_PSH, 1001, 5001, "hello", 4},
	    {true, TH_ACK | TH_PSH, 5001, 1011, "ok", 5},
	    {false, TH_ACK | TH_FIN, 1011, 5003, NULL, 6},
	    {true, TH_ACK | TH_FIN, 5003, 1012, NULL, 7},
	    {false, TH_ACK, 1012, 5004, NULL, 8},
	};
	play(w, 40002, segs, sizeof(segs) / sizeof(segs[0]), watched, l);
	weir_worker_shutdown(w);
	CHECK_EQ(weir_worker_run(w), 0);
	return weir_worker_stats(w);
}

/* A flow no socket watches runs from its lookup to done in one straight line: every counter
 * (events, memory, closes) and its flow record must be those of a watched flow, through a hole that
 * is filled and both FINs. */
static void test_unwatched_whole(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	static struct records rq, rw;
	struct weir_worker *quiet = worker_to(&cfg, &rq);
	struct weir_worker *watched = worker_to(&cfg, &rw);
	static struct log l;
	memset(&l, 0, sizeof(l));
	const struct weir_stats *a = hole_close_connection(quiet, false, NULL);
	const struct weir_stats *b = hole_close_connection(watched, true, &l);
	CHECK_EQ(count(&l, WEIR_EV_CONN_END, -1), 1);
	CHECK_EQ(a->events[WEIR_EV_CONN_END], 1);
	CHECK_EQ(a->events[WEIR_EV_NEW_DATA], 2); /* the hole filled (10 bytes), the response */
	CHECK_EQ(a->closes[WEIR_CLOSE_FIN], 1);
	CHECK(a->mem_peak > 0);
	CHECK_MEM(a, b, sizeof(*a));
	CHECK_EQ(rq.n, 1);
	CHECK_EQ(rw.n, 1);
	CHECK_EQ(rq.r[0].side[WEIR_SIDE_CLIENT].delivered, 10);
	CHECK_EQ(rq.r[0].side[WEIR_SIDE_CLIENT].ooo_pkts, 1);
	CHECK_MEM(&rq.r[0], &rw.r[0], sizeof(rq.r[0]));
	weir_worker_free(quiet);
	weir_worker_free(watched);
}

/* A watched flow whose sockets subscribed nothing at PRE skips PRE as an unwatched one does: REXMIT
 * still reaches the later hooks, and every count is that of a flow watched at PRE. */
static void test_pre_skipped_counts(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *pre = weir_worker_create(&cfg, 0);
	struct weir_worker *post = weir_worker_create(&cfg, 0);
	static struct log lp, l;
	memset(&lp, 0, sizeof(lp));
	memset(&l, 0, sizeof(l));
	char err[256];
	struct weir_msock *s = weir_msock_create(post, NULL, err, sizeof(err));
	struct reg_ctx c = {.log = &l, .hook = WEIR_HOOK_POST_SND};
	CHECK_EQ(weir_msock_register(s, WEIR_EV_REXMIT, WEIR_HOOK_POST_SND, recorder, &c), 0);
	const struct weir_stats *a = rexmit_connection(pre, true, &lp);
	const struct weir_stats *b = rexmit_connection(post, false, NULL);
	CHECK_EQ(count(&l, WEIR_EV_REXMIT, WEIR_HOOK_POST_SND), 1);
	CHECK_EQ(l.n, 1);
	CHECK_EQ(b->events[WEIR_EV_REXMIT], 1);
	for (int e = 0; e < WEIR_EV_BUILTIN_COUNT; e++)
		CHECK_EQ(a->events[e], b->events[e]);
	weir_worker_free(pre);
	weir_worker_free(post);
}

static void test_tracking_only(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	CHECK_EQ(cfg.buffering, 1);
	cfg.buffering = 0;
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	struct weir_msock *s = weir_msock_create(w, NULL, err, sizeof(err));
	struct tracked t = {.buffering = {1, 1}};
	CHECK_EQ(weir_msock_register(s, WEIR_EV_NEW_DATA, WEIR_HOOK_POST_RCV, on_new_data, &t), 0);
	connection(w, 40000, 80, 1000 * MS);
	CHECK_EQ(t.new_data, 2);
	CHECK_EQ(t.bytes, 18 + 21);
	CHECK_EQ(t.buffering[0], 0);
	CHECK_EQ(t.buffering[1], 0);
	CHECK_EQ(t.peek, -EINVAL);
	CHECK_EQ(weir_worker_stats(w)->mem_peak, 0);
	weir_worker_free(w);
}

/* Per flow and socket user pointers: slots are taken from the worker's memory on the first set
 * (no flow carries them otherwise), at most WEIR_FLOW_USERS sockets hold one, and the slots go
 * back when the flow's record is written. */
struct users {
	struct weir_msock *socks[WEIR_FLOW_USERS + 1];
	int rc[WEIR_FLOW_USERS + 1];
	void *got[WEIR_FLOW_USERS + 1];
	uint64_t used_before;
	int done;
};

static int marks[WEIR_FLOW_USERS + 1];

static void set_users(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev,
                      uint64_t arg, void *user)
{
	(void)s;
	(void)side;
	(void)ev;
	(void)arg;
	struct users *u = user;
	if (u->done)
		return;
	u->done = 1;
	struct weir_worker *w = weir_msock_worker(u->socks[0]);
	u->used_before = weir_worker_stats(w)->mem_used;
	CHECK(weir_flow_user(f, u->socks[0]) == NULL);
	CHECK_EQ(weir_flow_set_user(f, u->socks[0], NULL), 0); /* clearing takes nothing */
	for (int i = 0; i <= WEIR_FLOW_USERS; i++)
		u->rc[i] = weir_flow_set_user(f, u->socks[i], &marks[i]);
	CHECK_EQ(weir_flow_set_user(f, u->socks[1], &marks[0]),
	         0); /* a socket's own slot is replaced */
	for (int i = 0; i <= WEIR_FLOW_USERS; i++)
		u->got[i] = weir_flow_user(f, u->socks[i]);
	CHECK_EQ(weir_flow_set_user(NULL, u->socks[0], &marks[0]), -EINVAL);
	CHECK_EQ(weir_flow_set_user(f, NULL, &marks[0]), -EINVAL);
}

static void test_flow_users(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	static struct users u;
	memset(&u, 0, sizeof(u));
	for (int i = 0; i <= WEIR_FLOW_USERS; i++) {
		u.socks[i] = weir_msock_create(w, NULL, err, sizeof(err));
		CHECK(u.socks[i] != NULL);
	}
	CHECK_EQ(weir_msock_register(u.socks[0], WEIR_EV_CONN_START, WEIR_HOOK_PRE, set_users, &u),
	         0);
	connection(w, 40000, 80, 1000 * MS);
	CHECK(u.done);
	for (int i = 0; i < WEIR_FLOW_USERS; i++)
		CHECK_EQ(u.rc[i], 0);
	CHECK_EQ(u.rc[WEIR_FLOW_USERS], -ENOSPC);
	CHECK(u.got[0] == &marks[0] && u.got[1] == &marks[0] && u.got[2] == &marks[2]);
	CHECK(u.got[WEIR_FLOW_USERS] == NULL);
	CHECK_EQ(u.used_before, 0);
	weir_worker_shutdown(w);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(weir_worker_stats(w)->mem_used, 0); /* the slots went with the flow */
	CHECK(weir_worker_stats(w)->mem_peak >= WEIR_FLOW_USERS * sizeof(void *));
	weir_worker_free(w);
}

static void test_close_twice(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	struct weir_msock *s = weir_msock_create(w, "tcp port 80", err, sizeof(err));
	CHECK(s != NULL);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, NULL, NULL), 0);
	const unsigned id = weir_msock_id(s);
	weir_msock_close(s);
	weir_msock_close(s);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, NULL, NULL), -EBADF);
	CHECK_EQ(weir_msock_unregister(s, WEIR_EV_PKT_IN, WEIR_HOOK_PRE), -EBADF);
	CHECK_EQ(weir_timer_add(s, NULL, 1, 1), -EBADF);
	CHECK_EQ(weir_msock_id(s), id);
	CHECK(weir_msock_worker(s) == w);
	struct weir_msock *t = weir_msock_create(w, NULL, err, sizeof(err));
	CHECK(t != NULL && weir_msock_id(t) != id); /* not reused before a reclaim */
	CHECK_EQ(weir_msock_reclaim(NULL), -EINVAL);
	CHECK_EQ(weir_msock_reclaim(w), 1); /* s is freed: its id is free again */
	struct weir_msock *u = weir_msock_create(w, NULL, err, sizeof(err));
	CHECK(u != NULL && weir_msock_id(u) == id);
	weir_worker_free(w);
}

/* UDE definitions given back: an id is free once every definition of it and every UDE on it is;
 * then the lowest free id is taken. */
static void test_ude_release(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	CHECK_EQ(weir_event_release(w, WEIR_EV_PKT_IN), -EINVAL);
	CHECK_EQ(weir_event_release(NULL, WEIR_EV_UDE_FIRST), -EINVAL);
	CHECK_EQ(weir_event_release(w, WEIR_EV_UDE_FIRST), -EINVAL);
	const int a = weir_event_define(w, WEIR_EV_PKT_IN, NULL, (void *)1);
	CHECK_EQ(weir_event_define(w, WEIR_EV_PKT_IN, NULL, (void *)1),
	         a); /* a second definition */
	const int b = weir_event_define(w, (uint32_t)a, NULL, (void *)2);
	CHECK_EQ(weir_event_release(w, (uint32_t)a), 0);
	CHECK_EQ(weir_event_release(w, (uint32_t)a), 0); /* both given back; b still holds a */
	CHECK_EQ(weir_event_root(w, (uint32_t)a), WEIR_EV_PKT_IN);
	CHECK_EQ(weir_event_release(w, (uint32_t)b), 0); /* b goes, and a with it */
	CHECK_EQ(weir_event_root(w, (uint32_t)b), -EINVAL);
	CHECK_EQ(weir_event_root(w, (uint32_t)a), -EINVAL);
	CHECK_EQ(weir_event_release(w, (uint32_t)a), -EINVAL);
	struct weir_msock *s = weir_msock_create(w, NULL, err, sizeof(err));
	CHECK_EQ(weir_msock_register(s, (uint32_t)a, WEIR_HOOK_PRE, NULL, NULL), -EINVAL);
	CHECK_EQ(weir_event_define(w, WEIR_EV_CONN_START, NULL, NULL), a); /* the lowest free id */
	CHECK_EQ(weir_event_define(w, WEIR_EV_CONN_START, NULL, (void *)3), b);
	/* many definitions given back never fill the table */
	for (unsigned i = 0; i < 4 * (WEIR_EV_UDE_MAX - WEIR_EV_UDE_FIRST); i++) {
		const int u =
		    weir_event_define(w, WEIR_EV_PKT_IN, NULL, (void *)(uintptr_t)(i + 10));
		CHECK(u > b);
		CHECK_EQ(weir_event_release(w, (uint32_t)u), 0);
	}
	weir_worker_free(w);
}

/* ---- flow-table policies and orphans ------------------------------------------------------- */

/* The client port of each flow a CONN_END handler saw end. */
static uint16_t ended_port[4];
static unsigned nended;

static void on_end(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg,
                   void *user)
{
	struct weir_tuple t;
	(void)s;
	(void)side;
	(void)ev;
	(void)arg;
	(void)user;
	if (nended < 4 && weir_flow_tuple(f, &t) == 0)
		ended_port[nended++] = t.client_port;
}

/* An eviction no handler hears frees the idlest flow at once and the packet goes on in the same
 * step; one a handler hears still shows it the evicted flow (not the entry's next flow), and the
 * packet that evicted it is counted once either way. */
static void test_eviction_unheard(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	cfg.max_flows = 2;
	struct records rs;
	struct weir_worker *w = worker_to(&cfg, &rs);
	char err[256];
	struct weir_msock *s = weir_msock_create(w, "tcp port 41000", err, sizeof(err));
	CHECK(s != NULL);
	CHECK_EQ(weir_msock_register(s, WEIR_EV_CONN_END, WEIR_HOOK_POST_RCV, on_end, NULL), 0);
	nended = 0;
	struct frame f;
	/* 41002 evicts 41000 (watched), 41003 evicts 41001 (no socket has it in scope) */
	for (uint16_t i = 0; i < 4; i++) {
		mk(&f, C_IP, (uint16_t)(41000 + i), S_IP, 80, TH_SYN, 1, 0, NULL);
		feed(w, &f, (10 + i) * MS);
	}
	const struct weir_stats *st = weir_worker_stats(w);
	CHECK_EQ(st->flows_created, 4);
	CHECK_EQ(st->flows_evicted, 2);
	CHECK_EQ(st->flows_active, 2);
	CHECK_EQ(st->pkts, 4);
	CHECK_EQ(st->tcp_pkts, 4);
	CHECK_EQ(st->events[WEIR_EV_PKT_IN], 4);
	CHECK_EQ(st->events[WEIR_EV_CONN_START], 4);
	CHECK_EQ(rs.n, 2);
	CHECK_EQ(rs.r[0].tuple.client_port, 41000);
	CHECK_EQ(rs.r[1].tuple.client_port, 41001);
	CHECK_EQ(rs.r[0].reason, WEIR_CLOSE_EVICTED);
	CHECK_EQ(rs.r[1].reason, WEIR_CLOSE_EVICTED);
	CHECK_EQ(nended, 1);
	CHECK_EQ(ended_port[0], 41000);
	weir_worker_free(w);
}

static void test_table_policies(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	cfg.max_flows = 2;
	struct records rs;
	struct weir_worker *w = worker_to(&cfg, &rs);
	static struct log l;
	memset(&l, 0, sizeof(l));
	record_all(w, &l, NULL);
	struct frame f;
	for (uint16_t i = 0; i < 3; i++) {
		mk(&f, C_IP, (uint16_t)(41000 + i), S_IP, 80, TH_SYN, 1, 0, NULL);
		feed(w, &f, (10 + i) * MS);
	}
	const struct weir_stats *st = weir_worker_stats(w);
	CHECK_EQ(st->flows_evicted, 1);
	CHECK_EQ(st->flows_active, 2);
	CHECK_EQ(rs.n, 1);
	CHECK_EQ(rs.r[0].reason, WEIR_CLOSE_EVICTED);
	CHECK_EQ(rs.r[0].tuple.client_port, 41000); /* the idlest went */
	CHECK_EQ(count(&l, WEIR_EV_CONN_END, -1), 1);
	CHECK_EQ(count(&l, WEIR_EV_CONN_START, WEIR_HOOK_PRE), 3);
	weir_worker_free(w);

	cfg.flow_policy = WEIR_FLOWS_REFUSE_NEW;
	cfg.midstream = 0;
	w = weir_worker_create(&cfg, 0);
	memset(&l, 0, sizeof(l));
	record_all(w, &l, NULL);
	for (uint16_t i = 0; i < 3; i++) {
		mk(&f, C_IP, (uint16_t)(42000 + i), S_IP, 80, TH_SYN, 1, 0, NULL);
		feed(w, &f, (10 + i) * MS);
	}
	mk(&f, C_IP, 43000, S_IP, 80, TH_ACK, 1, 1, NULL); /* no handshake, midstream off */
	feed(w, &f, 20 * MS);
	st = weir_worker_stats(w);
	CHECK_EQ(st->flows_refused, 1);
	CHECK_EQ(st->flows_active, 2);
	CHECK_EQ(st->orphans, 2);
	CHECK_EQ(count(&l, WEIR_EV_ORPHAN, WEIR_HOOK_PRE), 2);
	const struct seen *e = find(&l, WEIR_EV_ORPHAN, -1, 0);
	CHECK(e && !e->has_flow && e->has_pkt && e->side == WEIR_SIDE_BOTH);
	weir_worker_free(w);
}

static void test_malformed_and_other(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	struct frame f;
	mk(&f, C_IP, 40006, S_IP, 80, TH_SYN, 1, 0, NULL);
	f.len = 30; /* cut inside the IP header */
	feed(w, &f, MS);
	mk(&f, C_IP, 40006, S_IP, 80, TH_SYN, 1, 0, NULL);
	f.b[14 + 9] = 17; /* UDP: not ours */
	feed(w, &f, MS);
	const struct weir_stats *st = weir_worker_stats(w);
	CHECK_EQ(st->pkts, 2);
	CHECK_EQ(st->tcp_pkts, 0);
	CHECK_EQ(st->other_pkts, 1);
	uint64_t mal = 0;
	for (int i = 0; i < WEIR_MAL_COUNT; i++)
		mal += st->malformed[i];
	CHECK_EQ(mal, 1);
	CHECK_EQ(st->flows_created, 0);
	weir_worker_free(w);
}

/* ---- checksums ---------------------------------------------------------------------------- */

/* RFC 1071 over big-endian words, one byte at a time (the engine's sum is another). */
static uint16_t csum16(const uint8_t *b, unsigned n, uint32_t sum)
{
	for (unsigned i = 0; i < n; i++)
		sum += i % 2 ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes the right IPv4 header and TCP checksums into a frame from mk(). */
static void fix_csums(struct frame *f)
{
	uint8_t *ip = f->b + 14;
	put16(ip + 10, 0);
	put16(ip + 10, csum16(ip, 20, 0));
	const unsigned seg = f->len - 34;
	put16(ip + 20 + 16, 0);
	uint32_t pseudo = 6 + seg;
	for (unsigned i = 12; i < 20; i += 2)
		pseudo += (uint32_t)ip[i] << 8 | ip[i + 1];
	put16(ip + 20 + 16, csum16(ip + 20, seg, pseudo));
}

/* Feeds one segment with right checksums, or with a wrong TCP (bad_tcp) or IPv4 header checksum
 * (bad_ip), as a receiver that knows csum (enum weir_rx_csum) of it. */
static void feed_csum(struct weir_worker *w, struct frame *f, uint64_t ts, uint8_t csum, int bad_ip,
                      int bad_tcp)
{
	fix_csums(f);
	f->b[14 + 10] ^= (uint8_t)(bad_ip ? 0x01 : 0);
	f->b[34 + 17] ^= (uint8_t)(bad_tcp ? 0x01 : 0);
	struct weir_rx_pkt r = rx_of(f, ts);
	r.csum = csum;
	CHECK_EQ(weir_worker_rx(w, &r, 1), 0);
	CHECK_EQ(weir_worker_run(w), 0);
}

/* checksums = mode; one SYN a case, each on its own port: whether its flow was created, and which
 * malformed reason counted it. */
static void test_checksums(void)
{
	static const struct {
		uint8_t mode, csum;
		int bad_ip, bad_tcp;
		int tracked;
		int reason; /* -1: none */
	} cases[] = {
	    /* auto: not a capture (csum 0); a live frame, but for what the NIC verified */
	    {WEIR_CHECKSUMS_AUTO, 0, 1, 1, 1, -1},
	    {WEIR_CHECKSUMS_AUTO, WEIR_RXCSUM_LIVE, 0, 0, 1, -1},
	    {WEIR_CHECKSUMS_AUTO, WEIR_RXCSUM_LIVE, 0, 1, 0, WEIR_MAL_TCP_CHECKSUM},
	    {WEIR_CHECKSUMS_AUTO, WEIR_RXCSUM_LIVE, 1, 0, 0, WEIR_MAL_IP_CHECKSUM},
	    {WEIR_CHECKSUMS_AUTO, WEIR_RXCSUM_LIVE | WEIR_RXCSUM_IP_GOOD | WEIR_RXCSUM_L4_GOOD, 1,
	     1, 1, -1},
	    {WEIR_CHECKSUMS_AUTO, WEIR_RXCSUM_LIVE | WEIR_RXCSUM_IP_GOOD, 1, 1, 0,
	     WEIR_MAL_TCP_CHECKSUM},
	    {WEIR_CHECKSUMS_AUTO, WEIR_RXCSUM_LIVE | WEIR_RXCSUM_L4_BAD, 0, 0, 0,
	     WEIR_MAL_TCP_CHECKSUM},
	    {WEIR_CHECKSUMS_AUTO, WEIR_RXCSUM_LIVE | WEIR_RXCSUM_IP_BAD, 0, 0, 0,
	     WEIR_MAL_IP_CHECKSUM},
	    /* verify: captures too */
	    {WEIR_CHECKSUMS_VERIFY, 0, 0, 0, 1, -1},
	    {WEIR_CHECKSUMS_VERIFY, 0, 0, 1, 0, WEIR_MAL_TCP_CHECKSUM},
	    {WEIR_CHECKSUMS_VERIFY, WEIR_RXCSUM_L4_GOOD | WEIR_RXCSUM_IP_GOOD, 1, 1, 1, -1},
	    /* off: nothing, whatever the NIC said */
	    {WEIR_CHECKSUMS_OFF, WEIR_RXCSUM_LIVE, 1, 1, 1, -1},
	    {WEIR_CHECKSUMS_OFF, WEIR_RXCSUM_LIVE | WEIR_RXCSUM_L4_BAD, 0, 0, 1, -1},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct weir_config cfg;
		weir_config_defaults(&cfg);
		CHECK_EQ(cfg.checksums, WEIR_CHECKSUMS_AUTO);
		cfg.checksums = cases[i].mode;
		struct weir_worker *w = weir_worker_create(&cfg, 0);
		struct frame f;
		mk(&f, C_IP, (uint16_t)(41000 + i), S_IP, 80, TH_SYN, 1, 0, NULL);
		feed_csum(w, &f, MS, cases[i].csum, cases[i].bad_ip, cases[i].bad_tcp);
		const struct weir_stats *st = weir_worker_stats(w);
		if (st->flows_created != (uint64_t)cases[i].tracked)
			fprintf(stderr, "  (checksum case %u)\n", i);
		CHECK_EQ(st->flows_created, (uint64_t)cases[i].tracked);
		CHECK_EQ(st->tcp_pkts, (uint64_t)cases[i].tracked);
		CHECK_EQ(st->malformed[WEIR_MAL_IP_CHECKSUM],
		         cases[i].reason == WEIR_MAL_IP_CHECKSUM);
		CHECK_EQ(st->malformed[WEIR_MAL_TCP_CHECKSUM],
		         cases[i].reason == WEIR_MAL_TCP_CHECKSUM);
		weir_worker_free(w);
	}
	struct weir_config bad;
	weir_config_defaults(&bad);
	bad.checksums = WEIR_CHECKSUMS_OFF + 1;
	errno = 0;
	CHECK(weir_worker_create(&bad, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
}

/* ---- IP fragments ------------------------------------------------------------------------- */

/* Fragment of whole (an Ethernet + IPv4 + TCP frame from mk()): bytes [off, off + len) of its IP
 * payload, or len copies of fill when fill is not 0; mf: more fragments. */
static struct weir_rx_pkt frag_of(const struct frame *whole, struct frame *f, unsigned off,
                                  unsigned len, int mf, uint8_t fill, uint64_t ts)
{
	memcpy(f->b, whole->b, 14 + 20);
	put16(f->b + 14 + 2, (uint16_t)(20 + len));
	put16(f->b + 14 + 4, 0x77);
	put16(f->b + 14 + 6, (uint16_t)((mf ? 0x2000 : 0) | off / 8));
	if (fill)
		memset(f->b + 34, fill, len);
	else
		memcpy(f->b + 34, whole->b + 34 + off, len);
	f->len = 34 + len;
	return rx_of(f, ts);
}

/* A segment cut into IP fragments is one TCP packet of its flow: in a filtered socket's scope
 * (matched on the reassembled packet), its bytes delivered; fragments that overlap with different
 * bytes raise FRAG_OVERLAP_DIFFERENT on that flow at POST_SND; a drop verdict on the reassembled
 * packet lands on the fragment that completed it. */
static void test_fragments(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[256];
	static struct log l;
	memset(&l, 0, sizeof(l));
	record_all(w, &l, "tcp port 80");
	struct weir_msock *d = weir_msock_create(w, "tcp port 81", err, sizeof(err));
	CHECK_EQ(weir_msock_register(d, WEIR_EV_PKT_IN, WEIR_HOOK_PRE, drop_all, NULL), 0);
	const char *data = "0123456789abcdefghijklmnopqrstuvwxyzABCD"; /* 40 bytes: TCP part 60 */
	struct frame whole, f[4];
	struct weir_rx_pkt r[4];
	mk(&whole, C_IP, 40010, S_IP, 80, TH_ACK | TH_PSH, 1000, 1, data);
	r[0] = frag_of(&whole, &f[0], 24, 36, 0, 0, MS); /* the end first */
	r[1] = frag_of(&whole, &f[1], 0, 24, 1, 0, 2 * MS);
	CHECK_EQ(weir_worker_rx(w, r, 2), 0);
	CHECK_EQ(weir_worker_run(w), 0);
	const struct weir_stats *st = weir_worker_stats(w);
	CHECK_EQ(r[0].frag, WEIR_FRAG_HELD);
	CHECK_EQ(r[1].frag, WEIR_FRAG_DONE);
	CHECK_EQ(st->frag_pkts, 1);
	CHECK_EQ(st->tcp_pkts, 1);
	CHECK_EQ(st->flows_created, 1);
	CHECK_EQ(st->defrag[WEIR_DF_REASSEMBLED], 1);
	CHECK_EQ(count(&l, WEIR_EV_PKT_IN, WEIR_HOOK_PRE), 1);
	CHECK_STR(l.data[0], data);
	CHECK_EQ(count(&l, WEIR_EV_ANOMALY, -1), 0);

	mk(&whole, C_IP, 40010, S_IP, 80, TH_ACK | TH_PSH, 1040, 1, data);
	r[0] = frag_of(&whole, &f[0], 0, 32, 1, 0, 3 * MS);
	r[1] = frag_of(&whole, &f[1], 24, 8, 1, 'X', 3 * MS); /* different payload bytes */
	r[2] = frag_of(&whole, &f[2], 32, 28, 0, 0, 3 * MS);
	CHECK_EQ(weir_worker_rx(w, r, 3), 0);
	CHECK_EQ(weir_worker_run(w), 0);
	const struct seen *a = find(&l, WEIR_EV_ANOMALY, WEIR_HOOK_POST_SND, 0);
	CHECK(a != NULL && a->arg == WEIR_AN_FRAG_OVERLAP_DIFFERENT && a->has_flow);
	CHECK_EQ(st->anomalies[WEIR_AN_FRAG_OVERLAP_DIFFERENT], 1);
	CHECK_EQ(st->defrag[WEIR_DF_OVERLAP_DIFF], 1);
	CHECK_EQ(strlen(l.data[0]), 80);
	CHECK(!memcmp(l.data[0] + 40, data, 40)); /* "first": the earlier fragment's bytes */

	mk(&whole, C_IP, 40011, S_IP, 81, TH_ACK | TH_PSH, 1000, 1, data);
	r[0] = frag_of(&whole, &f[0], 0, 24, 1, 0, 4 * MS);
	r[1] = frag_of(&whole, &f[1], 24, 36, 0, 0, 4 * MS);
	CHECK_EQ(weir_worker_rx(w, r, 2), 0);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(r[0].verdict, 0);
	CHECK_EQ(r[1].verdict, 1);
	CHECK_EQ(r[1].frag, WEIR_FRAG_DONE);
	CHECK_EQ(st->flows_created, 2);
	weir_worker_free(w);
}

/* Under checksums = "verify": a fragment whose IPv4 header checksum is wrong is counted and never
 * reaches the defragmenter (the host drops it); a datagram reassembled from right fragments whose
 * TCP checksum is wrong is counted and not tracked, its completing fragment FAILED. */
static void test_fragment_checksums(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	cfg.checksums = WEIR_CHECKSUMS_VERIFY;
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	const char *data = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
	struct frame whole, f[3];
	struct weir_rx_pkt r[3];
	mk(&whole, C_IP, 40012, S_IP, 80, TH_ACK | TH_PSH, 1000, 1, data);
	fix_csums(&whole);
	r[0] = frag_of(&whole, &f[0], 0, 24, 1, 0, MS);
	r[1] = frag_of(&whole, &f[1], 24, 36, 0, 0, MS);
	for (int i = 0; i < 2; i++) {
		put16(f[i].b + 14 + 10, 0);
		put16(f[i].b + 14 + 10, csum16(f[i].b + 14, 20, 0));
	}
	r[2] = r[1];
	f[2] = f[1];
	r[2].frame = f[2].b;
	f[2].b[14 + 8] = 1; /* a lower TTL, the header checksum left as it was */
	CHECK_EQ(weir_worker_rx(w, &r[2], 1),
	         0); /* not held: the real one completes the datagram */
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(weir_worker_rx(w, r, 2), 0);
	CHECK_EQ(weir_worker_run(w), 0);
	const struct weir_stats *st = weir_worker_stats(w);
	CHECK_EQ(r[2].frag, WEIR_FRAG_NONE);
	CHECK_EQ(r[1].frag, WEIR_FRAG_DONE);
	CHECK_EQ(st->malformed[WEIR_MAL_IP_CHECKSUM], 1);
	CHECK_EQ(st->defrag[WEIR_DF_OVERLAPS], 0);
	CHECK_EQ(st->flows_created, 1);

	mk(&whole, C_IP, 40013, S_IP, 80, TH_ACK | TH_PSH, 1000, 1, data);
	fix_csums(&whole);
	whole.b[whole.len - 1] ^= 0x01; /* a payload byte the TCP checksum no longer covers */
	r[0] = frag_of(&whole, &f[0], 0, 24, 1, 0, 2 * MS);
	r[1] = frag_of(&whole, &f[1], 24, 36, 0, 0, 2 * MS);
	for (int i = 0; i < 2; i++) {
		put16(f[i].b + 14 + 10, 0);
		put16(f[i].b + 14 + 10, csum16(f[i].b + 14, 20, 0));
	}
	CHECK_EQ(weir_worker_rx(w, r, 2), 0);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(r[1].frag, WEIR_FRAG_FAILED);
	CHECK_EQ(st->malformed[WEIR_MAL_TCP_CHECKSUM], 1);
	CHECK_EQ(st->defrag[WEIR_DF_REASSEMBLED], 2);
	CHECK_EQ(st->flows_created, 1);
	weir_worker_free(w);
}

/* Puts the frame (Ethernet and all) in VXLAN segment vni: outer Ethernet, IPv4 and UDP to 4789. */
static void in_vxlan(struct frame *f, uint32_t vni)
{
	enum { OUTER = 14 + 20 + 8 + 8 };
	memmove(f->b + OUTER, f->b, f->len);
	memset(f->b, 0, OUTER);
	put16(f->b + 12, 0x0800);
	uint8_t *ip = f->b + 14, *udp = ip + 20, *vx = udp + 8;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + 8 + f->len));
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, 0xc0000201u);
	put32(ip + 16, 0xc0000202u);
	put16(udp, 49152);
	put16(udp + 2, 4789);
	put16(udp + 4, (uint16_t)(8 + 8 + f->len));
	vx[0] = 0x08; /* a VNI is present */
	put32(vx + 4, vni << 8);
	f->len += OUTER;
}

/* A segment cut into IP fragments inside a VXLAN segment belongs to the flow that segment's
 * unfragmented packets make: the datagram, parsed alone once whole, keeps the VNI in its flow key.
 * The same fragments in another VNI are another flow. */
static void test_fragments_in_tunnel(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	const char *data = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
	struct frame whole, f[2];
	struct weir_rx_pkt r[2];
	mk(&whole, C_IP, 40020, S_IP, 80, TH_ACK | TH_PSH, 1000, 1, data);
	struct frame plain = whole;
	in_vxlan(&plain, 7);
	feed(w, &plain, MS);
	const struct weir_stats *st = weir_worker_stats(w);
	CHECK_EQ(st->flows_created, 1);
	mk(&whole, C_IP, 40020, S_IP, 80, TH_ACK | TH_PSH, 1040, 1, data);
	for (uint32_t vni = 7; vni <= 8; vni++) {
		r[0] = frag_of(&whole, &f[0], 0, 24, 1, 0, 2 * MS);
		r[1] = frag_of(&whole, &f[1], 24, 36, 0, 0, 2 * MS);
		in_vxlan(&f[0], vni);
		in_vxlan(&f[1], vni);
		r[0] = rx_of(&f[0], 2 * MS);
		r[1] = rx_of(&f[1], 2 * MS);
		CHECK_EQ(weir_worker_rx(w, r, 2), 0);
		CHECK_EQ(weir_worker_run(w), 0);
		CHECK_EQ(r[1].frag, WEIR_FRAG_DONE);
		CHECK_EQ(st->defrag[WEIR_DF_REASSEMBLED], vni - 6);
		CHECK_EQ(st->flows_created, vni - 6); /* VNI 7: the same flow; VNI 8: a new one */
	}
	CHECK_EQ(st->tcp_pkts, 3);
	weir_worker_free(w);
}

/* The outer UDP datagram of a VXLAN packet in IPv4 fragments: reassembled, then decapsulated, its
 * TCP segment is a packet of its flow and the fragment that completed it DONE. Inline, every other
 * fragment of a UDP datagram stays non-TCP traffic (NOT_TCP): held, completing a datagram that
 * holds no TCP (to a port no tunnel uses: a UDP packet), or of a datagram given up. */
static void test_outer_fragments(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	const char *data = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
	struct frame outer, f[2];
	struct weir_rx_pkt r[2];
	mk(&outer, C_IP, 40022, S_IP, 80, TH_ACK | TH_PSH, 1000, 1, data);
	in_vxlan(&outer, 9);
	const unsigned body = outer.len - 34; /* UDP, VXLAN, the inner frame */
	const struct weir_stats *st = weir_worker_stats(w);
	for (unsigned i = 0; i < 2; i++) {
		if (i == 1)
			put16(outer.b + 34 + 2, 5353); /* no tunnel on that port */
		r[0] = frag_of(&outer, &f[0], 48, body - 48, 0, 0, (1 + i) * MS);
		r[1] = frag_of(&outer, &f[1], 0, 48, 1, 0, (1 + i) * MS);
		CHECK_EQ(weir_worker_rx(w, r, 2), 0);
		CHECK_EQ(weir_worker_run(w), 0);
		CHECK_EQ(r[0].frag, WEIR_FRAG_NOT_TCP);
		CHECK_EQ(r[1].frag, i == 0 ? WEIR_FRAG_DONE : WEIR_FRAG_NOT_TCP);
		CHECK_EQ(st->defrag[WEIR_DF_REASSEMBLED], 1 + i);
		CHECK_EQ(st->frag_pkts, 1 + i);
	}
	CHECK_EQ(st->tcp_pkts, 1);
	CHECK_EQ(st->flows_created, 1);
	CHECK_EQ(st->other_pkts, 1);
	CHECK_EQ(st->defrag[WEIR_DF_NOT_TCP], 0);
	r[0] = frag_of(&outer, &f[0], 0, 44, 1, 0, 3 * MS); /* not a multiple of 8: given up */
	CHECK_EQ(weir_worker_rx(w, r, 1), 0);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(r[0].frag, WEIR_FRAG_NOT_TCP);
	CHECK_EQ(st->defrag[WEIR_DF_BAD], 1);
	weir_worker_free(w);
}

/* Puts the frame's IPv4 packet inside another IPv4 header from osrc to odst (IP-in-IP). */
static void in_ipip(struct frame *f, uint32_t osrc, uint32_t odst)
{
	memmove(f->b + 34, f->b + 14, f->len - 14);
	uint8_t *ip = f->b + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(f->len - 14 + 20));
	ip[8] = 64;
	ip[9] = 4;
	put32(ip + 12, osrc);
	put32(ip + 16, odst);
	f->len += 20;
}

/* A tunneled flow picked up at the server's SYN+ACK: the record's tunnel and outer header are the
 * first packet's, turned so that the outer source is the client's side. */
static void test_tunnel_outer(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct records rs;
	struct weir_worker *w = worker_to(&cfg, &rs);
	const uint32_t c_end = 0xc0000201u, s_end = 0xc0000202u; /* 192.0.2.1, 192.0.2.2 */
	struct frame f;
	mk(&f, S_IP, 80, C_IP, 40040, TH_SYN | TH_ACK, 5000, 1001, NULL);
	in_ipip(&f, s_end, c_end);
	feed(w, &f, 1000 * MS);
	mk(&f, C_IP, 40040, S_IP, 80, TH_ACK, 1001, 5001, NULL);
	in_ipip(&f, c_end, s_end);
	feed(w, &f, 1001 * MS);
	weir_worker_shutdown(w);
	CHECK_EQ(weir_worker_run(w), 0);
	CHECK_EQ(rs.n, 1);
	const struct weir_flow_record *r = &rs.r[0];
	CHECK_EQ(r->tuple.client_port, 40040);
	CHECK_EQ(r->tuple.tunnel, WEIR_TUN_IPIP);
	CHECK_EQ(r->tuple.tun_depth, 1);
	CHECK_EQ(r->tuple.tun_keyed, 0);
	CHECK_EQ(r->outer.ip_ver, 4);
	CHECK_EQ(r->outer.proto, 4);
	CHECK_MEM(r->outer.src_ip, "\xc0\x00\x02\x01", 4);
	CHECK_MEM(r->outer.dst_ip, "\xc0\x00\x02\x02", 4);
	CHECK_EQ(r->side[0].pkts + r->side[1].pkts, 2);
	weir_worker_free(w);
}

int main(void)
{
	test_api_errors();
	test_connection_events();
	test_syn_after_rst();
	test_tracking_only();
	test_unwatched_counts();
	test_unwatched_whole();
	test_pre_skipped_counts();
	test_flow_users();
	test_ude_chain();
	test_scope_and_drop();
	test_subscription_union();
	test_stop_monitor();
	test_timers_and_timeout();
	test_close_cancels_timers();
	test_close_twice();
	test_ude_release();
	test_table_policies();
	test_eviction_unheard();
	test_malformed_and_other();
	test_checksums();
	test_fragments();
	test_fragment_checksums();
	test_fragments_in_tunnel();
	test_outer_fragments();
	test_tunnel_outer();
	return UNIT_DONE();
}
