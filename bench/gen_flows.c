/* gen_flows.c — weir_gen_flows: a synthetic pcap of N TCP flows open at the same time (all
 * handshakes, then data round-robin across the flows, then the closes), to compare the per-packet
 * cost of many concurrent flows with few. Deterministic. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapw.h"

#define EXIT_USAGE     64
#define EXIT_CANTCREAT 73

enum {
	PAYLOAD = 100,             /* bytes of every data segment */
	MAX_FLOWS = (1 << 24) - 2, /* one client address each in 10.0.0.1-10.255.255.254 */
	OUT_BUF = 4 << 20,         /* the output FILE's buffer */
};

struct gen {
	struct pcapw w;
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

/* Writes one frame from the client (c2s) or the server. 0, or -1 when the write failed. */
static int emit(struct gen *g, const struct flow *f, int c2s, uint32_t seq, uint32_t ack,
                uint8_t flags, int data)
{
	const struct pcapw_seg s = {.cli = f->cli,
	                            .srv = f->srv,
	                            .cport = f->cport,
	                            .sport = f->sport,
	                            .c2s = c2s,
	                            .seq = seq,
	                            .ack = ack,
	                            .flags = flags,
	                            .data = data ? g->payload : NULL,
	                            .len = data ? PAYLOAD : 0};
	return pcapw_tcp(&g->w, &s);
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
	struct flow f;
	int rc = 0;
	for (uint32_t i = 0; i < n && !rc; i++) {
		flow_of(&f, i);
		rc = emit(g, &f, 1, f.cisn, 0, PCAPW_SYN, 0) ||
		     emit(g, &f, 0, f.sisn, f.cisn + 1, PCAPW_SYN | PCAPW_ACK, 0) ||
		     emit(g, &f, 1, f.cisn + 1, f.sisn + 1, PCAPW_ACK, 0);
	}
	/* Round r: every flow sends one segment, the client on even rounds; before round r a flow's
	 * client sent (r + 1) / 2 segments and its server r / 2. */
	for (uint64_t j = 0; j < data && !rc; j++) {
		const uint64_t r = j / n;
		flow_of(&f, (uint32_t)(j % n));
		const uint32_t c = f.cisn + 1 + PAYLOAD * (uint32_t)((r + 1) / 2);
		const uint32_t s = f.sisn + 1 + PAYLOAD * (uint32_t)(r / 2);
		rc = r % 2 ? emit(g, &f, 0, s, c, PCAPW_PSH | PCAPW_ACK, 1)
		           : emit(g, &f, 1, c, s, PCAPW_PSH | PCAPW_ACK, 1);
	}
	for (uint32_t i = 0; i < n && !rc; i++) {
		flow_of(&f, i);
		const uint64_t rounds = data / n + (i < data % n);
		const uint32_t c = f.cisn + 1 + PAYLOAD * (uint32_t)((rounds + 1) / 2);
		const uint32_t s = f.sisn + 1 + PAYLOAD * (uint32_t)(rounds / 2);
		rc = emit(g, &f, 1, c, s, PCAPW_FIN | PCAPW_ACK, 0) ||
		     emit(g, &f, 0, s, c + 1, PCAPW_FIN | PCAPW_ACK, 0) ||
		     emit(g, &f, 1, c + 1, s + 1, PCAPW_ACK, 0);
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
	static struct gen g = {.w = {.cmac = {0x02, 0, 0, 0, 0, 2}, .smac = {0x02, 0, 0, 0, 0, 1}}};
	for (unsigned k = 0; k < PAYLOAD; k++)
		g.payload[k] = (uint8_t)('a' + k % 26);
	if (pcapw_open(&g.w, path, OUT_BUF) != 0) {
		fprintf(stderr, "weir_gen_flows: %s: %s\n", path, strerror(errno));
		return EXIT_CANTCREAT;
	}
	int rc = generate(&g, (uint32_t)n, p - 3 * n);
	if (pcapw_close(&g.w) != 0)
		rc = -1;
	if (rc) {
		fprintf(stderr, "weir_gen_flows: writing %s failed\n", path);
		return EXIT_CANTCREAT;
	}
	return 0;
}
