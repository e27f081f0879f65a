/* gen_flows.c — weir_gen_flows: a synthetic pcap of N TCP flows open at the same time (all
 * handshakes, then data round-robin across the flows, then the closes), to compare the per-packet
 * cost of many concurrent flows with few. Deterministic. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE     64
#define EXIT_CANTCREAT 73

enum {
	PAYLOAD = 100, /* bytes of every data segment */
	ETH_LEN = 14,  /* Ethernet II, no tag */
	IP_LEN = 20,   /* IPv4, no options */
	TCP_LEN = 20,  /* no options */
	HDRS = ETH_LEN + IP_LEN + TCP_LEN,
	MAX_FLOWS = (1 << 24) - 2, /* one client address each in 10.0.0.1-10.255.255.254 */
	OUT_BUF = 4 << 20,         /* the output FILE's buffer */
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
};

/* Packets are 1 us apart from this time (2023-11-14T22:13:20Z). */
#define START_S 1700000000u

struct gen {
	FILE *out;
	uint64_t ts_us; /* since START_S */
	uint8_t payload[PAYLOAD];
};

/* Flow i: the client 10.a.b.c (i + 1: never the network's address), port 1024 + i % 64,000, to
 * 192.168.0.1:80. */
struct flow {
	uint8_t cli[4], srv[4];
	uint16_t cport, sport;
	uint32_t cisn, sisn;
};

static void flow_of(struct flow *f, uint32_t i)
{
	const uint32_t v = i + 1;
	f->cli[0] = 10;
	f->cli[1] = (uint8_t)(v >> 16);
	f->cli[2] = (uint8_t)(v >> 8);
	f->cli[3] = (uint8_t)v;
	f->srv[0] = 192;
	f->srv[1] = 168;
	f->srv[2] = 0;
	f->srv[3] = 1;
	f->cport = (uint16_t)(1024 + i % 64000);
	f->sport = 80;
	/* ISNs spread over the sequence space (Knuth's multiplicative hash of the index). */
	f->cisn = v * 2654435761u;
	f->sisn = v * 2246822519u;
}

/* Writes the n low bytes of v at p, most significant first (big) or last. */
static void put(uint8_t *p, uint32_t v, int n, int big)
{
	for (int k = 0; k < n; k++, v >>= 8)
		p[big ? n - 1 - k : k] = (uint8_t)v;
}

/* Ones' complement sum of len bytes (big-endian 16-bit words) added to sum, not folded. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes one frame from the client (c2s) or the server. 0, or -1 when the write failed. */
static int emit(struct gen *g, const struct flow *f, int c2s, uint32_t seq, uint32_t ack,
                uint8_t flags, int data)
{
	uint8_t fr[16 + HDRS + PAYLOAD];
	const uint32_t len = HDRS + (data ? PAYLOAD : 0);
	const uint64_t ts = g->ts_us++;
	put(fr, START_S + (uint32_t)(ts / 1000000), 4, 0);
	put(fr + 4, (uint32_t)(ts % 1000000), 4, 0);
	put(fr + 8, len, 4, 0);
	put(fr + 12, len, 4, 0);
	uint8_t *eth = fr + 16, *ip = eth + ETH_LEN, *tcp = ip + IP_LEN;
	static const uint8_t macs[2][6] = {{0x02, 0, 0, 0, 0, 1}, {0x02, 0, 0, 0, 0, 2}};
	memcpy(eth, macs[!c2s], 6);
	memcpy(eth + 6, macs[c2s], 6);
	put(eth + 12, 0x0800, 2, 1);
	const uint8_t *src = c2s ? f->cli : f->srv, *dst = c2s ? f->srv : f->cli;
	memset(ip, 0, IP_LEN);
	ip[0] = 0x45;
	put(ip + 2, (uint16_t)(len - ETH_LEN), 2, 1);
	put(ip + 6, 0x4000, 2, 1); /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put(ip + 10, fold(sum16(ip, IP_LEN, 0)), 2, 1);
	put(tcp, c2s ? f->cport : f->sport, 2, 1);
	put(tcp + 2, c2s ? f->sport : f->cport, 2, 1);
	put(tcp + 4, seq, 4, 1);
	put(tcp + 8, flags & TCP_ACK ? ack : 0, 4, 1);
	tcp[12] = (TCP_LEN / 4) << 4;
	tcp[13] = flags;
	put(tcp + 14, 65535, 2, 1);
	put(tcp + 16, 0, 2, 1);
	put(tcp + 18, 0, 2, 1);
	if (data)
		memcpy(tcp + TCP_LEN, g->payload, PAYLOAD);
	const uint32_t tcplen = len - ETH_LEN - IP_LEN;
	uint32_t sum = sum16(ip + 12, 8, 6 + tcplen); /* pseudo header: addresses, proto, length */
	put(tcp + 16, fold(sum16(tcp, tcplen, sum)), 2, 1);
	return fwrite(fr, 1, 16 + len, g->out) == 16 + len ? 0 : -1;
}

static int parse_count(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	const unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > max) {
		fprintf(stderr, "weir_gen_flows: bad %s %s (1..%" PRIu64 ")\n", opt, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void usage(FILE *out)
{
	fputs("usage: weir_gen_flows [--concurrent N] [--packets P] OUT.pcap\n"
	      "Writes N TCP flows open at the same time (default 1000): the N handshakes, then\n"
	      "100-byte segments round-robin across the flows, alternating directions, until the "
	      "file\n"
	      "holds P packets (default 8000000; P >= 3 N), then each flow's FIN, FIN and ACK.\n",
	      out);
}

/* The whole file: handshakes, data (P - 3N segments), closes. 0, or -1 when a write failed. */
static int generate(struct gen *g, uint32_t n, uint64_t data)
{
	static const uint8_t hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
	                                0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
	if (fwrite(hdr, 1, sizeof(hdr), g->out) != sizeof(hdr))
		return -1;
	struct flow f;
	int rc = 0;
	for (uint32_t i = 0; i < n && !rc; i++) {
		flow_of(&f, i);
		rc = emit(g, &f, 1, f.cisn, 0, TCP_SYN, 0) ||
		     emit(g, &f, 0, f.sisn, f.cisn + 1, TCP_SYN | TCP_ACK, 0) ||
		     emit(g, &f, 1, f.cisn + 1, f.sisn + 1, TCP_ACK, 0);
	}
	/* Round r: every flow sends one segment, the client on even rounds; before round r a flow's
	 * client sent (r + 1) / 2 segments and its server r / 2. */
	for (uint64_t j = 0; j < data && !rc; j++) {
		const uint64_t r = j / n;
		flow_of(&f, (uint32_t)(j % n));
		const uint32_t c = f.cisn + 1 + PAYLOAD * (uint32_t)((r + 1) / 2);
		const uint32_t s = f.sisn + 1 + PAYLOAD * (uint32_t)(r / 2);
		rc = r % 2 ? emit(g, &f, 0, s, c, TCP_PSH | TCP_ACK, 1)
		           : emit(g, &f, 1, c, s, TCP_PSH | TCP_ACK, 1);
	}
	for (uint32_t i = 0; i < n && !rc; i++) {
		flow_of(&f, i);
		const uint64_t rounds = data / n + (i < data % n);
		const uint32_t c = f.cisn + 1 + PAYLOAD * (uint32_t)((rounds + 1) / 2);
		const uint32_t s = f.sisn + 1 + PAYLOAD * (uint32_t)(rounds / 2);
		rc = emit(g, &f, 1, c, s, TCP_FIN | TCP_ACK, 0) ||
		     emit(g, &f, 0, s, c + 1, TCP_FIN | TCP_ACK, 0) ||
		     emit(g, &f, 1, c + 1, s + 1, TCP_ACK, 0);
	}
	return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t n = 1000, p = 8000000;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--concurrent") && i + 1 < argc) {
			if (parse_count("--concurrent", argv[++i], MAX_FLOWS, &n))
				return EXIT_USAGE;
		} else if (!strcmp(argv[i], "--packets") && i + 1 < argc) {
			if (parse_count("--packets", argv[++i], UINT64_C(1) << 40, &p))
				return EXIT_USAGE;
		} else if (argv[i][0] == '-' || path) {
			usage(stderr);
			return EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path || p < 3 * n) {
		fputs(path ? "weir_gen_flows: --packets must be at least 3 x --concurrent (the "
		             "handshakes)\n"
		           : "weir_gen_flows: no output file\n",
		      stderr);
		return EXIT_USAGE;
	}
	static struct gen g;
	for (unsigned k = 0; k < PAYLOAD; k++)
		g.payload[k] = (uint8_t)('a' + k % 26);
	char *buf = malloc(OUT_BUF);
	g.out = buf ? fopen(path, "wb") : NULL;
	if (!g.out) {
		fprintf(stderr, "weir_gen_flows: %s: %s\n", path, strerror(errno));
		free(buf);
		return EXIT_CANTCREAT;
	}
	setvbuf(g.out, buf, _IOFBF, OUT_BUF);
	int rc = generate(&g, (uint32_t)n, p - 3 * n);
	if (fclose(g.out) != 0)
		rc = -1;
	free(buf);
	if (rc) {
		fprintf(stderr, "weir_gen_flows: writing %s failed\n", path);
		return EXIT_CANTCREAT;
	}
	return 0;
}
