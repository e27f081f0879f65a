/* nids_replay.c — the libnids baseline of bench/run: one pcap through libnids, both sides of every flow reassembled. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nids.h>
#include <pcap.h>

#include "json/json.h"

/* Same exit codes as `weir replay` (sysexits.h values), so bench/run treats both tools alike. */
#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66

/* weir's default flow-table capacity (struct weir_config.max_flows); libnids follows at most 3/4 of
 * its hash-table size, so the table is sized to allow as many concurrent flows as weir. */
#define DEFAULT_MAX_FLOWS 65536

struct nids_counts {
	uint64_t packets;   /* frames read from the file (libnids itself does not count them) */
	uint64_t flows;     /* connections whose handshake libnids saw complete (NIDS_JUST_EST) */
	uint64_t bytes_c2s; /* in-order bytes delivered to the server side: what the client sent */
	uint64_t bytes_s2c;
	uint64_t data_calls; /* NIDS_DATA callbacks */
	uint64_t closed, reset, timed_out, exiting;
	uint64_t warnings;  /* libnids' syslog warnings (bad headers, queue pruned, table full) */
	uint64_t pruned;    /* of those, out-of-order queues over 64 KiB that libnids threw away */
};

/* libnids hands its callbacks no user pointer, so they can only reach the counters through a
 * file-scope object. The program is single-threaded (nids_params.multiproc stays 0). */
static struct nids_counts counts;

static void on_tcp(struct tcp_stream *s, void **param)
{
	(void)param;
	switch (s->nids_state) {
	case NIDS_JUST_EST:
		s->client.collect++;
		s->server.collect++;
		counts.flows++;
		break;
	case NIDS_DATA:
		/* libnids names the half by its receiver: server.count_new is what the client sent. */
		counts.bytes_c2s += (uint64_t)s->server.count_new;
		counts.bytes_s2c += (uint64_t)s->client.count_new;
		counts.data_calls++;
		break;
	case NIDS_CLOSE:
		counts.closed++;
		break;
	case NIDS_RESET:
		counts.reset++;
		break;
	case NIDS_TIMED_OUT:
		counts.timed_out++;
		break;
	case NIDS_EXITING:
		counts.exiting++;
		break;
	default:
		break;
	}
}

/* Replaces libnids' default warning sink, which calls syslog() for every odd packet and would
 * dominate the measurement on captures with many of them. */
static void on_warning(int type, int err, struct ip *iph, void *data)
{
	(void)iph;
	(void)data;
	counts.warnings++;
	if (type == NIDS_WARN_TCP && err == NIDS_WARN_TCP_BIGQUEUE)
		counts.pruned++;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	(void)user;
	counts.packets++;
	/* libnids' handler takes non-const pointers but only reads through them. */
	nids_pcap_handler(NULL, (struct pcap_pkthdr *)h, (u_char *)bytes);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: nids_replay [--max-flows N] FILE.pcap\n"
	             "Replays FILE through libnids (checksums not verified, both sides of every flow\n"
	             "collected) and prints one JSON line: packets, flows, delivered bytes, loop time.\n");
}

static void print_result(const char *file, const char *error, double loop_s, double exit_s)
{
	double pps = loop_s > 0 ? (double)counts.packets / loop_s : 0;

	printf("{\"tool\":\"libnids\",\"file\":");
	weir_json_fstr(stdout, file);
	printf(",\"packets\":%" PRIu64 ",\"flows\":%" PRIu64
	       ",\"bytes\":%" PRIu64 ",\"bytes_c2s\":%" PRIu64 ",\"bytes_s2c\":%" PRIu64
	       ",\"data_calls\":%" PRIu64 ",\"closed\":%" PRIu64 ",\"reset\":%" PRIu64
	       ",\"timed_out\":%" PRIu64 ",\"exiting\":%" PRIu64 ",\"warnings\":%" PRIu64
	       ",\"pruned\":%" PRIu64 ",\"loop_s\":%.6f,\"exit_s\":%.6f,\"pps\":%.0f,\"error\":",
	       counts.packets, counts.flows, counts.bytes_c2s + counts.bytes_s2c,
	       counts.bytes_c2s, counts.bytes_s2c, counts.data_calls, counts.closed, counts.reset,
	       counts.timed_out, counts.exiting, counts.warnings, counts.pruned, loop_s, exit_s, pps);
	if (error)
		weir_json_fstr(stdout, error);
	else
		fputs("null", stdout);
	fputs("}\n", stdout);
}

/* Parses argv into *file and *max_flows; returns 0, or an exit code. */
static int parse_args(int argc, char **argv, const char **file, long *max_flows)
{
	*file = NULL;
	*max_flows = DEFAULT_MAX_FLOWS;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(argv[i], "--max-flows") && i + 1 < argc) {
			char *end;

			errno = 0;
			*max_flows = strtol(argv[++i], &end, 10);
			/* 3/4 of n_tcp_streams (an int) must hold it */
			if (errno || *end || *max_flows < 1 || *max_flows > (1L << 28)) {
				fprintf(stderr, "nids_replay: bad --max-flows %s\n", argv[i]);
				return EXIT_USAGE;
			}
		} else if (argv[i][0] == '-' || *file) {
			usage(stderr);
			return EXIT_USAGE;
		} else {
			*file = argv[i];
		}
	}
	if (!*file) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* One rule matching every source address (mask 0): never verify TCP checksums, as weir does
	 * not. libnids keeps the pointer, so it lives as long as main. */
	struct nids_chksum_ctl no_checksums = {.netaddr = 0, .mask = 0, .action = NIDS_DONT_CHKSUM};
	char errbuf[PCAP_ERRBUF_SIZE];
	const char *file, *error = NULL;
	long max_flows;
	pcap_t *pcap;
	int rc = parse_args(argc, argv, &file, &max_flows);

	if (rc)
		return rc < 0 ? 0 : rc;
	pcap = pcap_open_offline(file, errbuf);
	if (!pcap) {
		fprintf(stderr, "nids_replay: %s\n", errbuf);
		return EXIT_NOINPUT;
	}
	nids_params.pcap_desc = pcap;
	nids_params.n_tcp_streams = (int)(max_flows * 4 / 3 + 1);
	nids_params.scan_num_hosts = 0; /* no port-scan detection: weir has none */
	nids_params.syslog = on_warning;
	nids_params.multiproc = 0;
	if (!nids_init()) {
		fprintf(stderr, "nids_replay: %s\n", nids_errbuf);
		pcap_close(pcap);
		return EXIT_DATAERR;
	}
	nids_register_chksum_ctl(&no_checksums, 1);
	nids_register_tcp(on_tcp);

	double t0 = now_s();
	if (pcap_dispatch(pcap, -1, on_frame, NULL) < 0) {
		error = pcap_geterr(pcap); /* a damaged file: what came before was processed */
		rc = EXIT_DATAERR;
	}
	double t1 = now_s();
	/* Streams still open at the end of the file get NIDS_EXITING here, like weir's shutdown. */
	nids_exit();
	double t2 = now_s();

	if (error)
		fprintf(stderr, "nids_replay: %s: %s\n", file, error);
	print_result(file, error ? "damaged" : NULL, t1 - t0, t2 - t1);
	pcap_close(pcap);
	return rc;
}
