/* test_statpub.c — unit test of the stats publication: snapshots, alert ring, top-flows sample, and torn-read freedom under a racing writer. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stats/statpub.h"
#include "unit.h"

/* ---- frames: Ethernet + IPv4 + TCP, enough for the parser ------------------------------------ */

#define DLT_EN10MB_ 1 /* pcap link type of Ethernet */

static unsigned frame(uint8_t *b, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, uint32_t seq,
                      uint32_t ack, uint8_t flags, unsigned payload)
{
	memset(b, 0, 54 + payload);
	b[12] = 0x08; /* IPv4 */
	uint8_t *ip = b + 14;
	const unsigned iplen = 20 + 20 + payload;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 6;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	uint8_t *t = ip + 20;
	t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff, t[15] = 0xff;
	return 54 + payload;
}

static uint8_t g_frame[2048];

static void send1(struct weir_worker *w, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                  uint32_t seq, uint32_t ack, uint8_t flags, unsigned payload, uint64_t ts)
{
	struct weir_rx_pkt rx;
	memset(&rx, 0, sizeof(rx));
	rx.frame = g_frame;
	rx.caplen = rx.wirelen = frame(g_frame, src, dst, sp, dp, seq, ack, flags, payload);
	rx.ts_ns = ts;
	rx.linktype = DLT_EN10MB_;
	weir_worker_rx(w, &rx, 1);
	weir_worker_run(w);
}

/* A handshake on client port sp, then n data segments of len bytes from the client. */
static void flow(struct weir_worker *w, uint16_t sp, int n, unsigned len, uint64_t *ts)
{
	const uint32_t c = 0x0a000001, s = 0x0a000002;
	send1(w, c, s, sp, 80, 1000, 0, 0x02, 0, (*ts)++);
	send1(w, s, c, 80, sp, 5000, 1001, 0x12, 0, (*ts)++);
	send1(w, c, s, sp, 80, 1001, 5001, 0x10, 0, (*ts)++);
	for (int i = 0; i < n; i++)
		send1(w, c, s, sp, 80, 1001 + (uint32_t)i * len, 5001, 0x18, len, (*ts)++);
}

static void close_flow(struct weir_worker *w, uint16_t sp, uint32_t cseq, uint64_t *ts)
{
	const uint32_t c = 0x0a000001, s = 0x0a000002;
	send1(w, c, s, sp, 80, cseq, 5001, 0x04, 0, (*ts)++); /* RST ends it now */
}

static void test_top_flows(void)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	cfg.timewait_ms = 1; /* ended flows leave the table at the next packet a few ms later */
	struct weir_worker *w = weir_worker_create(&cfg, 3);
	CHECK(w != NULL);
	struct weir_flow_summary top[WEIR_TOP_FLOWS_MAX + 4];
	CHECK_EQ(weir_worker_top_flows(w, top, WEIR_TOP_FLOWS_MAX), 0);
	CHECK_EQ(weir_worker_top_flows(NULL, top, 1), -EINVAL);
	CHECK_EQ(weir_worker_top_flows(w, NULL, 1), -EINVAL);
	uint64_t ts = 1000000000ull;
	/* 24 flows of growing size: the sample keeps the 16 largest, largest first. */
	for (int i = 0; i < 24; i++)
		flow(w, (uint16_t)(10000 + i), 1 + i, 100, &ts);
	int n = weir_worker_top_flows(w, top, WEIR_TOP_FLOWS_MAX + 4);
	CHECK_EQ(n, WEIR_TOP_FLOWS_MAX);
	CHECK_EQ(top[0].tuple.client_port, 10023);
	CHECK_EQ(top[0].pkts[WEIR_SIDE_CLIENT], 2 + 24);
	CHECK_EQ(top[0].pkts[WEIR_SIDE_SERVER], 1);
	CHECK_EQ(top[0].bytes[WEIR_SIDE_CLIENT], 2 * 40 + 24 * 140 /* IP bytes */);
	CHECK_EQ(top[0].state[WEIR_SIDE_CLIENT], WEIR_TCP_ESTABLISHED);
	CHECK_EQ(top[0].state[WEIR_SIDE_SERVER], WEIR_TCP_ESTABLISHED);
	CHECK_EQ(top[n - 1].tuple.client_port, 10008);
	for (int i = 1; i < n; i++)
		CHECK(top[i - 1].bytes[0] + top[i - 1].bytes[1] >= top[i].bytes[0] + top[i].bytes[1]);
	/* Only 2 asked for: the 2 largest. */
	CHECK_EQ(weir_worker_top_flows(w, top, 2), 2);
	CHECK_EQ(top[1].tuple.client_port, 10022);

	/* The largest ends and is freed: it leaves the sample, and a small flow that grows enters. */
	close_flow(w, 10023, 1001 + 24 * 100, &ts);
	ts += 10 * 1000000ull;
	flow(w, 20000, 40, 100, &ts);
	n = weir_worker_top_flows(w, top, WEIR_TOP_FLOWS_MAX);
	CHECK_EQ(top[0].tuple.client_port, 20000);
	for (int i = 0; i < n; i++)
		CHECK(top[i].tuple.client_port != 10023);
	weir_worker_free(w);
}

static void test_publish_read(void)
{
	struct weir_statpub *p = weir_statpub_create(7, 5000);
	CHECK(p != NULL);
	struct weir_statpub_snap s;
	CHECK_EQ(weir_statpub_read(p, &s), 0);
	CHECK_EQ(s.gen, 0);
	CHECK_EQ(s.core, 7);
	CHECK_EQ(weir_statpub_read(NULL, &s), -EINVAL);
	CHECK_EQ(weir_statpub_read(p, NULL), -EINVAL);
	CHECK(weir_statpub_due(p, 0)); /* never published: due */

	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 7);
	uint64_t ts = 1;
	flow(w, 1234, 3, 10, &ts);
	struct weir_statpub_port ports[WEIR_STATPUB_PORTS + 2];
	memset(ports, 0, sizeof(ports));
	for (unsigned i = 0; i < WEIR_STATPUB_PORTS + 2; i++) {
		snprintf(ports[i].name, sizeof(ports[i].name), "p%u", i);
		ports[i].rx_pkts = 100 + i;
	}
	struct weir_statpub_script sc = { .name = "x.lua", .events = 5, .errors = 9, .ns = 900, .disabled = 1,
		                          .budget_stops = 3, .memory_errors = 4 };
	weir_statpub_account(p, 30, 100);
	weir_statpub_publish(p, w, ports, WEIR_STATPUB_PORTS + 2, &sc, 1, 1000);
	CHECK(!weir_statpub_due(p, 1000 + 4999));
	CHECK(weir_statpub_due(p, 1000 + 5000));
	CHECK(weir_statpub_due(p, 10)); /* the clock went back (a restart): publish */
	CHECK_EQ(weir_statpub_read(p, &s), 0);
	CHECK_EQ(s.gen, 1);
	CHECK_EQ(s.pub_ns, 1000);
	CHECK_EQ(s.st.pkts, 6);
	CHECK_EQ(s.st.flows_created, 1);
	CHECK_EQ(s.nports, WEIR_STATPUB_PORTS);
	CHECK_STR(s.ports[WEIR_STATPUB_PORTS - 1].name, "p7");
	CHECK_EQ(s.ports[2].rx_pkts, 102);
	CHECK_EQ(s.nscripts, 1);
	CHECK_STR(s.scripts[0].name, "x.lua");
	CHECK_EQ(s.scripts[0].disabled, 1);
	CHECK_EQ(s.scripts[0].errors, 9);
	CHECK_EQ(s.scripts[0].budget_stops, 3);
	CHECK_EQ(s.scripts[0].memory_errors, 4);
	CHECK_EQ(s.busy_ns, 30);
	CHECK_EQ(s.wall_ns, 100);
	CHECK_EQ(s.ntop, 1);
	CHECK_EQ(s.top[0].tuple.client_port, 1234);
	weir_worker_free(w);

	/* Alerts: a ring of the last WEIR_STATPUB_ALERTS, oldest first; long strings truncated. */
	struct weir_statpub_alert a;
	memset(&a, 0, sizeof(a));
	memset(a.msg, 'm', sizeof(a.msg)); /* not NUL-terminated: must not overrun */
	strcpy(a.source, "engine");
	for (int i = 0; i < WEIR_STATPUB_ALERTS + 8; i++) {
		a.sid = (uint32_t)i;
		weir_statpub_alert(p, &a);
	}
	weir_statpub_publish(p, NULL, NULL, 0, NULL, 0, 2000);
	CHECK_EQ(weir_statpub_read(p, &s), 0);
	CHECK_EQ(s.alerts_total, WEIR_STATPUB_ALERTS + 8);
	CHECK_EQ(s.nalerts, WEIR_STATPUB_ALERTS);
	CHECK_EQ(s.alerts[0].sid, 8);
	CHECK_EQ(s.alerts[0].seq, 9);
	CHECK_EQ(s.alerts[WEIR_STATPUB_ALERTS - 1].sid, WEIR_STATPUB_ALERTS + 7);
	CHECK_EQ(strlen(s.alerts[0].msg), WEIR_STATPUB_MSG - 1);
	CHECK_STR(s.alerts[0].source, "engine");
	CHECK_EQ(s.nports, 0);
	CHECK_EQ(s.st.pkts, 6); /* w == NULL keeps the last counters */
	weir_statpub_free(p);
	weir_statpub_free(NULL);
}

/* ---- a writer racing readers: every snapshot must be one publication, never a mix ----------- */

struct race {
	struct weir_statpub *p;
	atomic_int stop;
	atomic_ulong published;
};

/* Readers keep reading this long while the writer publishes as fast as it can. */
#define RACE_MS 300

static void *writer(void *arg)
{
	struct race *r = arg;
	struct weir_statpub_script sc[WEIR_STATPUB_SCRIPTS];
	memset(sc, 0, sizeof(sc));
	for (uint64_t g = 1; !atomic_load_explicit(&r->stop, memory_order_relaxed); g++) {
		for (unsigned i = 0; i < WEIR_STATPUB_SCRIPTS; i++)
			sc[i].events = sc[i].errors = sc[i].ns = g;
		weir_statpub_account(r->p, 1, 1);
		weir_statpub_publish(r->p, NULL, NULL, 0, sc, (unsigned)(g % WEIR_STATPUB_SCRIPTS) + 1, g);
		atomic_store_explicit(&r->published, (unsigned long)g, memory_order_relaxed);
	}
	return NULL;
}

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_race(void)
{
	struct race r = { .p = weir_statpub_create(0, 1) };
	atomic_init(&r.stop, 0);
	atomic_init(&r.published, 0);
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, writer, &r), 0);
	/* A stalled reader: the writer keeps publishing while nobody reads. */
	struct timespec nap = { 0, 20 * 1000000 };
	nanosleep(&nap, NULL);
	const unsigned long before = atomic_load(&r.published);
	nanosleep(&nap, NULL);
	CHECK(atomic_load(&r.published) > before);
	unsigned long reads = 0, torn = 0, again = 0;
	struct weir_statpub_snap s;
	const uint64_t end = ms_now() + RACE_MS;
	while (ms_now() < end) {
		const int rc = weir_statpub_read(r.p, &s);
		if (rc == -EAGAIN) {
			again++;
			continue;
		}
		reads++;
		if (s.pub_ns != s.gen || s.busy_ns != s.gen || s.nscripts != s.gen % WEIR_STATPUB_SCRIPTS + 1)
			torn++;
		for (unsigned i = 0; i < s.nscripts; i++)
			if (s.scripts[i].events != s.gen || s.scripts[i].ns != s.gen)
				torn++;
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	printf("race: %lu publishes, %lu reads, %lu torn, %lu -EAGAIN\n", atomic_load(&r.published), reads,
	       torn, again);
	CHECK(reads > 100);
	CHECK_EQ(torn, 0);
	CHECK_EQ(weir_statpub_read(r.p, &s), 0);
	CHECK_EQ(s.gen, atomic_load(&r.published));
	weir_statpub_free(r.p);
}

int main(void)
{
	test_top_flows();
	test_publish_read();
	test_race();
	return UNIT_DONE();
}
