/* flood.c — weir_flood: a synthetic pcap of one kind of flood (SYNs, tiny out-of-order segments,
 * overlapping retransmissions, IP fragments), with legitimate connections interleaved evenly in
 * time, to check that weir's caps hold and its legitimate flows stay whole. Deterministic. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapw.h"

#define EXIT_USAGE     64
#define EXIT_CANTCREAT 73

enum {
	OUT_BUF = 16 << 20,       /* the output FILE's buffer */
	FLOOD_PORT0 = 1024,       /* flood flows' client ports: 1024 up to LEGIT_PORT0 - 1 */
	LEGIT_PORT0 = 49152,      /* legitimate flows' client ports: 49152 up to 65535 */
	LEGIT_C2S = 100,          /* bytes of a legitimate client segment */
	LEGIT_S2C = 1000,         /* bytes of a legitimate server segment */
	OVERLAP_LEN = 100,        /* bytes of an overlap flood segment */
	OVERLAP_STEP = 50,        /* its start moves by this much ... */
	OVERLAP_SPOTS = 8,        /* ... over this many places, then starts again */
	OVERLAP_DIFF_EVERY = 4,   /* every 4th pass over the spots sends different bytes */
	FRAG_LEN = 8,             /* bytes of IP payload per fragment */
	FRAG_DATA = 40,           /* TCP payload of an incomplete datagram: 60 bytes, 8 fragments */
	FRAG_COMPLETE_EVERY = 16, /* datagram d completes when d % 16 == 0 (a SYN: 3 fragments) */
	FRAG_SKIP = 1u << 1,      /* the fragment an incomplete datagram never sends: its second */
};

enum kind { SYN, TINY_OOO, OVERLAP, FRAG };
static const char *const kind_names[] = {"syn", "tiny-ooo", "overlap", "frag"};

struct flood {
	struct pcapw w;
	enum kind kind;
	uint64_t count;         /* SYNs, tiny segments, overlap segments or datagrams */
	uint64_t flows;         /* the flooding connections of tiny-ooo and overlap */
	uint64_t legit, rounds; /* legitimate flows, and the data segments each sends */
	uint32_t net, hosts;    /* client addresses: net + 1 .. net + hosts */
	uint8_t srv[4];
	uint16_t port;
};

/* One connection: flood flow i or legitimate flow i. */
struct conn {
	uint8_t cli[4];
	uint16_t cport;
	uint32_t cisn, sisn;
};

static void conn_of(const struct flood *g, struct conn *c, uint64_t i, int legit)
{
	const uint32_t a = g->net + 1 + (uint32_t)(i % g->hosts);
	const uint64_t v = i + 1 + (legit ? UINT64_C(1) << 31 : 0);
	c->cli[0] = (uint8_t)(a >> 24);
	c->cli[1] = (uint8_t)(a >> 16);
	c->cli[2] = (uint8_t)(a >> 8);
	c->cli[3] = (uint8_t)a;
	c->cport = (uint16_t)((legit ? LEGIT_PORT0 : FLOOD_PORT0) + i / g->hosts);
	/* ISNs spread over the sequence space (Knuth's multiplicative hash of the index). */
	c->cisn = (uint32_t)v * 2654435761u;
	c->sisn = (uint32_t)v * 2246822519u;
}

/* Byte o of side (0 client, 1 server) of legitimate flow j: what the test computes again. */
static uint8_t legit_byte(uint64_t j, int side, uint64_t o)
{
	return (uint8_t)((j * 131 + (uint64_t)side * 71 + o) % 251);
}

static int seg(struct flood *g, const struct conn *c, int c2s, uint32_t seq, uint32_t ack,
               uint8_t flags, const uint8_t *data, uint32_t len)
{
	const struct pcapw_seg s = {.cli = c->cli,
	                            .srv = g->srv,
	                            .cport = c->cport,
	                            .sport = g->port,
	                            .c2s = c2s,
	                            .seq = seq,
	                            .ack = ack,
	                            .flags = flags,
	                            .data = data,
	                            .len = len};
	return pcapw_tcp(&g->w, &s);
}

/* Step k (0-2) of c's handshake. */
static int handshake(struct flood *g, const struct conn *c, unsigned k)
{
	if (k == 0)
		return seg(g, c, 1, c->cisn, 0, PCAPW_SYN, NULL, 0);
	if (k == 1)
		return seg(g, c, 0, c->sisn, c->cisn + 1, PCAPW_SYN | PCAPW_ACK, NULL, 0);
	return seg(g, c, 1, c->cisn + 1, c->sisn + 1, PCAPW_ACK, NULL, 0);
}

/* ---- the legitimate flows: rounds of one packet each (handshakes, data, closes) ------------ */

static uint64_t legit_packets(const struct flood *g)
{
	return g->legit * (6 + g->rounds);
}

/* What side's stream holds before round r (client on even rounds, server on odd ones). */
static uint32_t legit_sent(uint64_t r, int side)
{
	return side ? LEGIT_S2C * (uint32_t)(r / 2) : LEGIT_C2S * (uint32_t)((r + 1) / 2);
}

/* Legitimate packet q: round q / L of flow q % L. Rounds 0-2 are the handshakes, then R rounds of
 * data, then 3 of closes: every flow sends exactly every L legitimate packets. */
static int legit_packet(struct flood *g, uint64_t q)
{
	struct conn c;
	const uint64_t j = q % g->legit, r = q / g->legit;
	conn_of(g, &c, j, 1);
	if (r < 3)
		return handshake(g, &c, (unsigned)r);
	const uint64_t d = r - 3 < g->rounds ? r - 3 : g->rounds; /* data rounds before this one */
	const uint32_t cs = c.cisn + 1 + legit_sent(d, 0), ss = c.sisn + 1 + legit_sent(d, 1);
	if (r >= 3 + g->rounds) {
		const uint64_t k = r - 3 - g->rounds;
		return k == 0   ? seg(g, &c, 1, cs, ss, PCAPW_FIN | PCAPW_ACK, NULL, 0)
		       : k == 1 ? seg(g, &c, 0, ss, cs + 1, PCAPW_FIN | PCAPW_ACK, NULL, 0)
		                : seg(g, &c, 1, cs + 1, ss + 1, PCAPW_ACK, NULL, 0);
	}
	const int side = (int)(d % 2);
	const uint32_t len = side ? LEGIT_S2C : LEGIT_C2S, off = legit_sent(d, side);
	uint8_t b[LEGIT_S2C];
	for (uint32_t k = 0; k < len; k++)
		b[k] = legit_byte(j, side, off + k);
	return side ? seg(g, &c, 0, ss, cs, PCAPW_PSH | PCAPW_ACK, b, len)
	            : seg(g, &c, 1, cs, ss, PCAPW_PSH | PCAPW_ACK, b, len);
}

/* ---- the floods ------------------------------------------------------------------------------ */

static uint64_t flood_packets(const struct flood *g)
{
	switch (g->kind) {
	case SYN:
		return g->count;
	case TINY_OOO:
	case OVERLAP:
		return 3 * g->flows + g->count;
	case FRAG:
		break;
	}
	const uint64_t complete = (g->count + FRAG_COMPLETE_EVERY - 1) / FRAG_COMPLETE_EVERY;
	return 3 * complete + 7 * (g->count - complete);
}

/* Segment s of tiny-ooo flow c: byte 1 + 2 s of the client's stream, beyond the never-sent byte
 * 0, with a hole after each, so no two ever join. */
static int tiny_segment(struct flood *g, const struct conn *c, uint64_t s)
{
	const uint8_t b = (uint8_t)('a' + s % 26);
	return seg(g, c, 1, c->cisn + 1 + 1 + 2 * (uint32_t)s, c->sisn + 1, PCAPW_PSH | PCAPW_ACK,
	           &b, 1);
}

/* Segment s of overlap flow c: OVERLAP_LEN bytes at 1 + (s % SPOTS) x STEP, beyond the never-sent
 * byte 0, so each spot overlaps the next by half; every DIFF_EVERY-th pass over the spots the bytes
 * differ from the first copy's. */
static int overlap_segment(struct flood *g, const struct conn *c, uint64_t s)
{
	const uint32_t off = 1 + (uint32_t)(s % OVERLAP_SPOTS) * OVERLAP_STEP;
	const int differ = s / OVERLAP_SPOTS % OVERLAP_DIFF_EVERY == OVERLAP_DIFF_EVERY - 1;
	uint8_t b[OVERLAP_LEN];
	for (uint32_t k = 0; k < OVERLAP_LEN; k++)
		b[k] = (uint8_t)((differ ? 'A' : 'a') + (off + k) % 26);
	return seg(g, c, 1, c->cisn + 1 + off, c->sisn + 1, PCAPW_PSH | PCAPW_ACK, b, OVERLAP_LEN);
}

/* Datagram d: a SYN of flood flow d in three fragments when d % COMPLETE_EVERY == 0, else a
 * segment with FRAG_DATA bytes in eight fragments of which the second is never sent. Source
 * address and IP id (d / hosts) differ for every datagram. */
static int frag_datagram(struct flood *g, uint64_t d)
{
	static const uint8_t zeros[FRAG_DATA];
	struct conn c;
	conn_of(g, &c, d, 0);
	const int complete = d % FRAG_COMPLETE_EVERY == 0;
	const struct pcapw_seg s = {.cli = c.cli,
	                            .srv = g->srv,
	                            .cport = c.cport,
	                            .sport = g->port,
	                            .c2s = 1,
	                            .seq = c.cisn,
	                            .flags = complete ? PCAPW_SYN : PCAPW_PSH,
	                            .data = zeros,
	                            .len = complete ? 0 : FRAG_DATA};
	return pcapw_tcp_frags(&g->w, &s, (uint16_t)(d / g->hosts), FRAG_LEN,
	                       complete ? 0 : FRAG_SKIP) < 0
	           ? -1
	           : 0;
}

/* Flood packet p; for frag, p counts datagrams (each written whole). */
static int flood_packet(struct flood *g, uint64_t p)
{
	struct conn c;
	if (g->kind == FRAG)
		return frag_datagram(g, p);
	if (g->kind == SYN) {
		conn_of(g, &c, p, 0);
		return handshake(g, &c, 0);
	}
	/* Round 0: each flow's handshake and first segment, so that the flood holds memory from
	 * its first packets; then one segment of each flow per round. */
	uint64_t flow = p / 4, s = 0;
	if (p < 4 * g->flows && p % 4 < 3) {
		conn_of(g, &c, flow, 0);
		return handshake(g, &c, (unsigned)(p % 4));
	}
	if (p >= 4 * g->flows) {
		flow = (p - 4 * g->flows) % g->flows;
		s = 1 + (p - 4 * g->flows) / g->flows;
	}
	conn_of(g, &c, flow, 0);
	return g->kind == TINY_OOO ? tiny_segment(g, &c, s) : overlap_segment(g, &c, s);
}

/* The flood's units (packets; datagrams for frag), with the legitimate packets spread evenly among
 * them: legitimate packet l goes before flood unit f when (2 l + 1) F <= (2 f + 1) L. */
static int generate(struct flood *g)
{
	const uint64_t nf = g->kind == FRAG ? g->count : flood_packets(g), nl = legit_packets(g);
	uint64_t f = 0, l = 0;
	int rc = 0;
	while (!rc && (f < nf || l < nl)) {
		if (l < nl && (f == nf || (2 * l + 1) * nf <= (2 * f + 1) * nl))
			rc = legit_packet(g, l++);
		else
			rc = flood_packet(g, f++);
	}
	return rc;
}

/* The counts a test checks, as one JSON line on stdout. */
static void summary(const struct flood *g)
{
	const uint64_t fp = flood_packets(g), lp = legit_packets(g);
	const uint64_t complete =
	    g->kind == FRAG ? (g->count + FRAG_COMPLETE_EVERY - 1) / FRAG_COMPLETE_EVERY : 0;
	const uint64_t flows = g->kind == SYN ? g->count : g->kind == FRAG ? complete : g->flows;
	printf("{\"kind\":\"%s\",\"packets\":%" PRIu64 ",\"flood_packets\":%" PRIu64
	       ",\"legit_packets\":%" PRIu64 ",\"flood_flows\":%" PRIu64 ",\"legit_flows\":%" PRIu64
	       ",\"legit_c2s_bytes\":%" PRIu32 ",\"legit_s2c_bytes\":%" PRIu32,
	       kind_names[g->kind], fp + lp, fp, lp, flows, g->legit, legit_sent(g->rounds, 0),
	       legit_sent(g->rounds, 1));
	if (g->kind == FRAG)
		printf(",\"datagrams\":%" PRIu64 ",\"complete\":%" PRIu64
		       ",\"incomplete\":%" PRIu64,
		       g->count, complete, g->count - complete);
	if (g->kind == OVERLAP || g->kind == TINY_OOO)
		printf(",\"segments\":%" PRIu64, g->count);
	printf("}\n");
}

static void usage(FILE *out)
{
	fputs(
	    "usage: weir_flood syn|tiny-ooo|overlap|frag --out OUT.pcap [--count N] [--flows F]\n"
	    "         [--legit L] [--legit-rounds R] [--client A.B.C.D/P] [--server A.B.C.D]\n"
	    "         [--port P] [--smac MAC] [--dmac MAC]\n"
	    "  syn       N SYNs of distinct flows (default N 1000000)\n"
	    "  tiny-ooo  F flows (handshake and first segment each), then the rest of N 1-byte\n"
	    "            client segments round-robin, each beyond a hole never filled (bytes 1,\n"
	    "            3, 5, ... of each stream)\n"
	    "  overlap   the same with N 100-byte segments over 8 half-overlapping places beyond\n"
	    "            a hole; every 4th pass over them with other bytes\n"
	    "  frag      N IP datagrams in 8-byte fragments: every 16th a SYN that completes, the\n"
	    "            others never (their second fragment is missing)\n"
	    "  --legit L         L complete connections spread evenly over the flood, in rounds\n"
	    "                    of one packet each: SYN, SYN+ACK, ACK, R segments (client 100\n"
	    "                    bytes, server 1000, alternating), FIN, FIN, ACK\n"
	    "  --client NET/P    client addresses (default 10.0.0.0/8); --server, --port: the\n"
	    "                    server (default 192.168.0.1:80); --smac, --dmac: client and "
	    "server MAC\n"
	    "Prints one JSON line of counts. Packets are 1 us apart; the same arguments write the\n"
	    "same bytes.\n",
	    out);
}

static int parse_num(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	const unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "weir_flood: bad %s %s (%" PRIu64 "..%" PRIu64 ")\n", opt, s, min,
		        max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_mac(const char *opt, const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	           &end) != 6) {
		fprintf(stderr, "weir_flood: bad %s %s (aa:bb:cc:dd:ee:ff)\n", opt, s);
		return -1;
	}
	for (int k = 0; k < 6; k++)
		mac[k] = (uint8_t)v[k];
	return 0;
}

/* "A.B.C.D" into a (host order); with prefix, "A.B.C.D/P" (P 8..30) into a and *prefix. */
static int parse_addr(const char *opt, const char *s, uint32_t *a, unsigned *prefix)
{
	char buf[32];
	struct in_addr in;
	const char *slash = strchr(s, '/');
	uint64_t p = 32;
	const size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(buf) || (slash && !prefix) || (prefix && !slash))
		goto bad;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (inet_pton(AF_INET, buf, &in) != 1 || (slash && parse_num(opt, slash + 1, 8, 30, &p)))
		goto bad;
	*a = ntohl(in.s_addr);
	if (prefix) {
		*prefix = (unsigned)p;
		*a &= ~(uint32_t)0 << (32 - p);
	}
	return 0;
bad:
	fprintf(stderr, "weir_flood: bad %s %s (%s)\n", opt, s,
	        prefix ? "A.B.C.D/P, P 8..30" : "A.B.C.D");
	return -1;
}

/* Parses argv into g; the output path into *path. 0, 1 for --help, or -1 after saying why. */
static int parse_args(struct flood *g, int argc, char **argv, const char **path)
{
	uint32_t srv = 0xc0a80001; /* 192.168.0.1 */
	unsigned prefix = 8;
	uint64_t v;
	int rc = 0;
	for (int i = 1; i < argc && !rc; i++) {
		const char *a = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (a[0] != '-') {
			unsigned k = 0;
			while (k < 4 && strcmp(a, kind_names[k]))
				k++;
			if (k == 4 || i != 1) {
				fprintf(stderr, "weir_flood: unknown kind or argument %s\n", a);
				return -1;
			}
			g->kind = (enum kind)k;
			continue;
		}
		if (!arg) {
			fprintf(stderr, "weir_flood: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--out"))
			*path = arg;
		else if (!strcmp(a, "--count"))
			rc = parse_num(a, arg, 1, UINT64_C(1) << 36, &g->count);
		else if (!strcmp(a, "--flows"))
			rc = parse_num(a, arg, 1, 1 << 24, &g->flows);
		else if (!strcmp(a, "--legit"))
			rc = parse_num(a, arg, 0, 1 << 24, &g->legit);
		else if (!strcmp(a, "--legit-rounds"))
			rc = parse_num(a, arg, 0, 10000, &g->rounds);
		else if (!strcmp(a, "--port"))
			rc = parse_num(a, arg, 1, 65535, &v), g->port = (uint16_t)v;
		else if (!strcmp(a, "--smac"))
			rc = parse_mac(a, arg, g->w.cmac);
		else if (!strcmp(a, "--dmac"))
			rc = parse_mac(a, arg, g->w.smac);
		else if (!strcmp(a, "--client"))
			rc = parse_addr(a, arg, &g->net, &prefix);
		else if (!strcmp(a, "--server"))
			rc = parse_addr(a, arg, &srv, NULL);
		else {
			fprintf(stderr, "weir_flood: unknown option %s\n", a);
			return -1;
		}
	}
	if (rc)
		return -1;
	g->hosts = (uint32_t)((UINT64_C(1) << (32 - prefix)) - 2);
	for (int k = 0; k < 4; k++)
		g->srv[k] = (uint8_t)(srv >> (24 - 8 * k));
	return 0;
}

/* What the addresses can hold: distinct flood and legitimate flows, distinct datagram ids. */
static const char *check_room(const struct flood *g)
{
	const uint64_t hosts = g->hosts;
	const uint64_t flood = g->kind == TINY_OOO || g->kind == OVERLAP ? g->flows : g->count;
	if (flood > hosts * (LEGIT_PORT0 - FLOOD_PORT0))
		return "more flood flows than client addresses x 48128 ports";
	if (g->legit > hosts * (65536 - LEGIT_PORT0))
		return "more legitimate flows than client addresses x 16384 ports";
	if (g->kind == FRAG && g->count > hosts * 65536)
		return "more datagrams than client addresses x 65536 IP ids";
	if ((g->kind == TINY_OOO || g->kind == OVERLAP) &&
	    (g->count < g->flows || g->count / g->flows > 30000))
		return "--count / --flows must be 1 to 30000 segments a flow (beyond, they would "
		       "leave the window)";
	return NULL;
}

int main(int argc, char **argv)
{
	static struct flood g = {
	    .w = {.cmac = {0x02, 0, 0, 0, 0, 2}, .smac = {0x02, 0, 0, 0, 0, 1}},
	    .count = 1000000,
	    .flows = 1000,
	    .rounds = 10,
	    .net = 0x0a000000, /* 10.0.0.0/8 */
	    .port = 80,
	};
	const char *path = NULL;
	const int rc = argc < 2 ? -1 : parse_args(&g, argc, argv, &path);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc || !path || (argc > 1 && argv[1][0] == '-')) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *why = check_room(&g);
	if (why) {
		fprintf(stderr, "weir_flood: %s\n", why);
		return EXIT_USAGE;
	}
	if (pcapw_open(&g.w, path, OUT_BUF) != 0) {
		fprintf(stderr, "weir_flood: %s: %s\n", path, strerror(errno));
		return EXIT_CANTCREAT;
	}
	int bad = generate(&g);
	if (pcapw_close(&g.w) != 0)
		bad = -1;
	if (bad) {
		fprintf(stderr, "weir_flood: writing %s failed\n", path);
		return EXIT_CANTCREAT;
	}
	summary(&g);
	return 0;
}
