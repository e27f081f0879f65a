/* memloop.c — weir_memloop: the in-memory ceilings (walk, parse+hash) and the engine loop (tracking
 * only, reassembly) over a capture preloaded into one memory block; prints one JSON line. With
 * --workers N the engine modes split the packets by flow over N share-nothing workers, one thread
 * each, as the live path does, and also report the wall time of the parallel loop. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/settings.h"
#include "flow/flowtab.h"
#include "io/pcap_reader.h"
#include "parse/parse.h"
#include "weir.h"

/* sysexits.h values, as `weir replay` uses them. */
#define EXIT_USAGE 64
#define EXIT_OSERR 71

/* Packets a burst hands the engine: what `weir replay` hands it (station/pcap_input.c, BURST);
 * --burst changes it, up to WEIR_RX_MAX. */
#define REPLAY_BURST 32

enum mode { MODE_WALK, MODE_HASH, MODE_TRACK, MODE_REASM };
static const char *const mode_names[] = {"walk", "hash", "track", "reasm"};

/* One packet in the block: its header, then caplen bytes of frame, padded to 8 bytes. */
struct rec {
	uint64_t ts_ns;
	uint32_t caplen, wirelen;
	uint8_t data[];
};

/* The capture in memory. */
struct block {
	uint8_t *base;
	size_t used, size;
	uint64_t packets, bytes; /* one pass: frames and wire bytes */
	uint16_t linktype;
};

struct args {
	enum mode mode;
	const char *file;
	unsigned long repeat, max_flows, burst, workers;
	uint8_t checksums; /* enum weir_checksums */
};

/* Most --workers: each worker is a thread; more than the machine's CPUs only measures the
 * scheduler. */
#define WORKERS_MAX 64

static size_t rec_size(uint32_t caplen)
{
	return (sizeof(struct rec) + caplen + 7) & ~(size_t)7;
}

static const struct rec *rec_next(const struct rec *r)
{
	return (const struct rec *)((const uint8_t *)r + rec_size(r->caplen));
}

/* Room for need more bytes at b->used; -ENOMEM when it cannot grow. */
static int block_reserve(struct block *b, size_t need)
{
	if (b->size - b->used < need) {
		size_t size = b->size ? b->size : 1 << 20;
		while (size - b->used < need)
			size *= 2;
		uint8_t *base = realloc(b->base, size);
		if (!base)
			return -ENOMEM;
		b->base = base;
		b->size = size;
	}
	return 0;
}

static int block_add(struct block *b, const struct weir_rx_pkt *p)
{
	const size_t need = rec_size(p->caplen);
	if (block_reserve(b, need) != 0)
		return -ENOMEM;
	struct rec *r = (struct rec *)(b->base + b->used);
	r->ts_ns = p->ts_ns;
	r->caplen = p->caplen;
	r->wirelen = p->wirelen;
	memcpy(r->data, p->frame, p->caplen);
	b->used += need;
	b->packets++;
	b->bytes += p->wirelen;
	b->linktype = p->linktype;
	return 0;
}

/* Reads every packet of path into b (untimed). 0, or an exit code after a message on stderr. */
static int block_load(struct block *b, const char *path)
{
	char err[512];
	int code = 0;
	struct weir_pcap_reader *rd = weir_pcap_open(path, err, sizeof(err), &code);
	if (!rd) {
		fprintf(stderr, "weir_memloop: %s\n", err);
		return code;
	}
	struct weir_rx_pkt pkt;
	int n;
	while ((n = weir_pcap_next(rd, &pkt, 1, err, sizeof(err))) > 0) {
		if (block_add(b, &pkt) != 0) {
			snprintf(err, sizeof(err), "%s: out of memory", path);
			n = -ENOMEM;
			break;
		}
	}
	weir_pcap_close(rd);
	if (n < 0) {
		fprintf(stderr, "weir_memloop: %s\n", err);
		return n == -ENOMEM ? EXIT_OSERR : 65;
	}
	return 0;
}

/* The memory ceiling: one 8-byte word of every cache line of every frame. */
static uint64_t walk(const struct block *b)
{
	uint64_t sum = 0;
	const struct rec *r = (const struct rec *)b->base;
	for (uint64_t i = 0; i < b->packets; i++, r = rec_next(r)) {
		sum += r->ts_ns;
		for (uint32_t off = 0; off + 8 <= r->caplen; off += 64) {
			uint64_t w;
			memcpy(&w, r->data + off, sizeof(w));
			sum += w;
		}
	}
	return sum;
}

/* The parse+hash ceiling: weir's parser, then the flow key and its hash of every TCP segment. */
static uint64_t parse_hash(const struct block *b)
{
	uint64_t sum = 0;
	const struct rec *r = (const struct rec *)b->base;
	for (uint64_t i = 0; i < b->packets; i++, r = rec_next(r)) {
		struct weir_pkt p;
		struct weir_flow_key k;
		unsigned reason;
		if (weir_parse(&p, r->data, r->caplen, r->wirelen, b->linktype, &reason) !=
		    WEIR_PARSE_TCP)
			continue;
		weir_flow_key_make(&k, &p);
		sum += weir_flow_key_hash(&k);
	}
	return sum;
}

/* In-order bytes of every flow that ended (the flow records' delivered, both sides). */
static void sum_delivered(const struct weir_flow_record *rec, void *user)
{
	*(uint64_t *)user += rec->side[0].delivered + rec->side[1].delivered;
}

/* The engine's settings for mode: defaults (as `weir replay`), --max-flows, and for track no
 * stream buffers (`weir replay --no-buffering`). */
static void engine_config(struct weir_config *cfg, const struct args *a)
{
	weir_config_defaults(cfg);
	if (a->max_flows)
		cfg->max_flows = (uint32_t)a->max_flows;
	cfg->buffering = a->mode != MODE_TRACK;
	cfg->checksums = a->checksums;
}

static uint64_t thread_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One worker's share of the engine passes, run on a thread of its own. */
struct job {
	const struct block *b;
	const struct weir_config *cfg;
	unsigned burst;
	unsigned long repeat;
	pthread_barrier_t *start; /* every worker begins each pass's loop together */
	uint64_t cpu_ns, flows, delivered, mem_peak;
	uint64_t packets;                /* handed to the engine, all passes */
	uint64_t *loop_start, *loop_end; /* per pass, monotonic ns: the loop's wall-clock span */
	int rc;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The packet loop of one pass over j->b through w, timed in thread CPU and wall-clock time. */
static void engine_loop(struct job *j, struct weir_worker *w, unsigned long pass)
{
	struct weir_rx_pkt pkts[WEIR_RX_MAX];
	memset(pkts, 0, sizeof(pkts));
	const struct block *b = j->b;
	const struct rec *r = (const struct rec *)b->base;
	j->loop_start[pass] = mono_ns();
	const uint64_t t0 = thread_ns();
	for (uint64_t i = 0; i < b->packets;) {
		unsigned n = 0;
		for (; n < j->burst && i < b->packets; n++, i++, r = rec_next(r)) {
			pkts[n].frame = r->data;
			pkts[n].ts_ns = r->ts_ns;
			pkts[n].caplen = r->caplen;
			pkts[n].wirelen = r->wirelen;
			pkts[n].linktype = b->linktype;
			pkts[n].verdict = 0;
		}
		weir_worker_rx(w, pkts, n);
		weir_worker_run(w);
	}
	j->cpu_ns += thread_ns() - t0;
	j->loop_end[pass] = mono_ns();
	j->packets += b->packets;
}

/* Each pass starts from a fresh worker; only the packet loop is timed: creating the worker,
 * ending the open flows and freeing it are not. */
static void *engine_job(void *arg)
{
	struct job *j = arg;
	for (unsigned long pass = 0; pass < j->repeat; pass++) {
		struct weir_worker *w = j->rc ? NULL : weir_worker_create(j->cfg, 0);
		if (!w && !j->rc) {
			fprintf(stderr, "weir_memloop: cannot create a worker: %s\n",
			        strerror(errno));
			j->rc = EXIT_OSERR;
		}
		uint64_t got = 0;
		if (w)
			weir_worker_set_flow_sink(w, sum_delivered, &got);
		pthread_barrier_wait(j->start); /* a failed worker still takes its place */
		if (!w) {
			j->loop_start[pass] = j->loop_end[pass] = 0;
			continue;
		}
		engine_loop(j, w, pass);
		weir_worker_shutdown(w);
		weir_worker_run(w);
		const struct weir_stats *st = weir_worker_stats(w);
		j->flows += st->flows_created;
		if (st->mem_peak > j->mem_peak)
			j->mem_peak = st->mem_peak;
		j->delivered += got;
		weir_worker_free(w);
	}
	return NULL;
}

/* Splits b's packets over n blocks by flow, as the live path spreads them over its workers: both
 * directions of a flow land in one block; what is not TCP goes to the first. The shard is taken
 * from the high bits of the flow-key hash, so each worker's table still spreads its flows over
 * all of its buckets (the table indexes by the low bits). */
static int shard(const struct block *b, unsigned n, struct block *out)
{
	const struct rec *r = (const struct rec *)b->base;
	for (unsigned k = 0; k < n; k++)
		out[k].linktype = b->linktype;
	for (uint64_t i = 0; i < b->packets; i++, r = rec_next(r)) {
		struct weir_pkt p;
		struct weir_flow_key key;
		unsigned reason, k = 0;
		if (weir_parse(&p, r->data, r->caplen, r->wirelen, b->linktype, &reason) ==
		    WEIR_PARSE_TCP) {
			weir_flow_key_make(&key, &p);
			k = (unsigned)(((uint64_t)weir_flow_key_hash(&key) * n) >> 32);
		}
		const size_t size = rec_size(r->caplen);
		if (block_reserve(&out[k], size) != 0)
			return -ENOMEM;
		memcpy(out[k].base + out[k].used, r, size);
		out[k].used += size;
		out[k].packets++;
		out[k].bytes += r->wirelen;
	}
	return 0;
}

/* The engine modes: a.workers workers over b, each on its own thread; jobs[k] is worker k's share
 * (its packets and thread CPU time), total their sum. *wall_ns sums, per pass, the span from the
 * first loop's start to the last loop's end. */
static int engine_run(const struct block *b, const struct weir_config *cfg, const struct args *a,
                      struct job *jobs, struct job *total, uint64_t *wall_ns)
{
	const unsigned n = (unsigned)a->workers;
	struct block shards[WORKERS_MAX];
	pthread_t tids[WORKERS_MAX];
	pthread_barrier_t start;
	memset(shards, 0, sizeof(shards));
	memset(jobs, 0, n * sizeof(*jobs));
	int rc = 0;
	if (n > 1 && shard(b, n, shards) != 0) {
		fprintf(stderr, "weir_memloop: out of memory\n");
		rc = EXIT_OSERR;
		goto out;
	}
	pthread_barrier_init(&start, NULL, n);
	unsigned started = 0;
	for (; started < n; started++) {
		struct job *j = &jobs[started];
		j->b = n > 1 ? &shards[started] : b;
		j->cfg = cfg;
		j->burst = (unsigned)a->burst;
		j->repeat = a->repeat;
		j->start = &start;
		j->loop_start = calloc(a->repeat, sizeof(uint64_t));
		j->loop_end = calloc(a->repeat, sizeof(uint64_t));
		if (!j->loop_start || !j->loop_end ||
		    pthread_create(&tids[started], NULL, engine_job, j) != 0)
			break;
	}
	if (started < n) {
		/* The barrier counts n threads: the ones started wait forever without the rest. */
		fprintf(stderr, "weir_memloop: cannot start worker %u of %u\n", started + 1, n);
		return EXIT_OSERR;
	}
	for (unsigned k = 0; k < n; k++) {
		pthread_join(tids[k], NULL);
		if (jobs[k].rc)
			rc = jobs[k].rc;
		total->cpu_ns += jobs[k].cpu_ns;
		total->flows += jobs[k].flows;
		total->delivered += jobs[k].delivered;
		if (jobs[k].mem_peak > total->mem_peak)
			total->mem_peak = jobs[k].mem_peak;
	}
	for (unsigned long pass = 0; pass < a->repeat; pass++) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (unsigned k = 0; k < n; k++) {
			if (jobs[k].loop_start[pass] && jobs[k].loop_start[pass] < lo)
				lo = jobs[k].loop_start[pass];
			if (jobs[k].loop_end[pass] > hi)
				hi = jobs[k].loop_end[pass];
		}
		if (hi > lo)
			*wall_ns += hi - lo;
	}
	pthread_barrier_destroy(&start);
out:
	for (unsigned k = 0; k < n; k++) {
		free(jobs[k].loop_start);
		free(jobs[k].loop_end);
		free(shards[k].base);
	}
	return rc;
}

/* Each worker's share: its packets (how even the split by flow is) and its thread CPU seconds (the
 * wall time it would take on a CPU of its own). */
static void print_workers(const struct job *jobs, unsigned n)
{
	printf(",\"worker_packets\":[");
	for (unsigned k = 0; k < n; k++)
		printf("%s%" PRIu64, k ? "," : "", jobs[k].packets);
	printf("],\"worker_seconds\":[");
	for (unsigned k = 0; k < n; k++)
		printf("%s%.9f", k ? "," : "", jobs[k].cpu_ns / 1e9);
	printf("]");
}

static void usage(FILE *out)
{
	fputs(
	    "usage: weir_memloop walk|hash|track|reasm FILE.pcap [--repeat N] [--max-flows N] "
	    "[--burst N] [--workers N] [--checksums auto|verify|off]\n"
	    "Loads FILE into memory, then times only the loop over it (thread CPU time) and "
	    "prints\n"
	    "one JSON line. walk: reads every frame; hash: weir's parser and flow-key hash; "
	    "track:\n"
	    "the engine with stream buffering off; reasm: the engine with default settings.\n"
	    "--workers N (track, reasm): N workers on N threads, the packets split by flow; also\n"
	    "prints the wall-clock time of the parallel loop and packets a wall-clock second, and\n"
	    "each worker's packets and thread CPU seconds.\n"
	    "--checksums (track, reasm): the engine's checksums setting (default auto: a capture\n"
	    "is not verified; verify: it is).\n",
	    out);
}

static int parse_count(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	const unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > max) {
		fprintf(stderr, "weir_memloop: bad %s %s (1..%lu)\n", opt, s, max);
		return EXIT_USAGE;
	}
	*out = v;
	return 0;
}

/* The checksums setting by its name, as a config file gives it. */
static int parse_checksums(const char *s, uint8_t *out)
{
	const struct weir_setting *set = weir_engine_setting("checksums");
	for (uint8_t i = 0; set->names[i]; i++) {
		if (!strcmp(s, set->names[i])) {
			*out = i;
			return 0;
		}
	}
	fprintf(stderr, "weir_memloop: bad --checksums %s (auto, verify or off)\n", s);
	return EXIT_USAGE;
}

/* Fills *a from argv. 0, -1 after --help, or an exit code. */
static int parse_args(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->repeat = 1;
	a->burst = REPLAY_BURST;
	a->workers = 1;
	const char *pos[2] = {NULL, NULL};
	unsigned npos = 0;
	for (int i = 1; i < argc; i++) {
		int rc = 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			rc = parse_count("--repeat", argv[++i], 1000000, &a->repeat);
		} else if (!strcmp(argv[i], "--max-flows") && i + 1 < argc) {
			rc = parse_count("--max-flows", argv[++i], UINT32_MAX, &a->max_flows);
		} else if (!strcmp(argv[i], "--burst") && i + 1 < argc) {
			rc = parse_count("--burst", argv[++i], WEIR_RX_MAX, &a->burst);
		} else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
			rc = parse_count("--workers", argv[++i], WORKERS_MAX, &a->workers);
		} else if (!strcmp(argv[i], "--checksums") && i + 1 < argc) {
			rc = parse_checksums(argv[++i], &a->checksums);
		} else if (argv[i][0] == '-' || npos == 2) {
			usage(stderr);
			return EXIT_USAGE;
		} else {
			pos[npos++] = argv[i];
		}
		if (rc)
			return rc;
	}
	if (npos != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (a->mode = MODE_WALK; a->mode <= MODE_REASM; a->mode++)
		if (!strcmp(pos[0], mode_names[a->mode]))
			break;
	if (a->mode > MODE_REASM) {
		fprintf(stderr, "weir_memloop: unknown mode %s\n", pos[0]);
		return EXIT_USAGE;
	}
	if (a->workers > 1 && a->mode < MODE_TRACK) {
		fprintf(stderr, "weir_memloop: --workers needs track or reasm\n");
		return EXIT_USAGE;
	}
	a->file = pos[1];
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct weir_config cfg;
	engine_config(&cfg, &a);
	struct block b = {0};
	if ((rc = block_load(&b, a.file))) {
		free(b.base);
		return rc;
	}
	struct job total = {0};
	struct job jobs[WORKERS_MAX];
	uint64_t wall_ns = 0;
	volatile uint64_t sink = 0; /* keeps the ceilings' loops from being optimised away */
	if (a.mode >= MODE_TRACK) {
		rc = engine_run(&b, &cfg, &a, jobs, &total, &wall_ns);
	} else {
		for (unsigned long i = 0; i < a.repeat; i++) {
			const uint64_t t0 = thread_ns();
			sink += a.mode == MODE_WALK ? walk(&b) : parse_hash(&b);
			total.cpu_ns += thread_ns() - t0;
		}
	}
	free(b.base);
	if (rc)
		return rc;
	const uint64_t packets = b.packets * a.repeat;
	const uint64_t cpu_ns = total.cpu_ns;
	printf("{\"mode\":\"%s\",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"flows\":%" PRIu64
	       ",\"seconds\":%.9f,\"ns_per_packet\":%.2f",
	       mode_names[a.mode], packets, b.bytes * a.repeat, total.flows, cpu_ns / 1e9,
	       packets ? (double)cpu_ns / (double)packets : 0.0);
	if (a.mode >= MODE_TRACK) {
		printf(",\"delivered\":%" PRIu64 ",\"stream_peak\":%" PRIu64 ",\"workers\":%lu"
		       ",\"wall_seconds\":%.9f,\"wall_pps\":%.0f",
		       total.delivered, total.mem_peak, a.workers, wall_ns / 1e9,
		       wall_ns ? (double)packets * 1e9 / (double)wall_ns : 0.0);
		print_workers(jobs, (unsigned)a.workers);
	}
	printf(",\"burst\":%lu}\n", a.burst);
	return 0;
}
