/* pcap_reader.c — reads pcap/pcapng with libpcap at nanosecond precision and hands out zero-copy packets. */
#include "pcap_reader.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { READ_BUF = 1 << 20 }; /* bytes per read() of a capture */

struct weir_pcap_reader {
	pcap_t *p;
	char *buf; /* the FILE's buffer */
	char *path;
	int linktype;
	long long size;
	unsigned long long count;
};

struct weir_pcap_reader *weir_pcap_open(const char *path, char *err, size_t errlen, int *exit_code)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		*exit_code = 66; /* EX_NOINPUT */
		return NULL;
	}
	/* libpcap reads through stdio; its default 4 KiB buffer made one read() per 4 KiB, which cost
	 * more system time than the whole engine's user time on a replay. */
	char *buf = malloc(READ_BUF); /* glibc ignores setvbuf's size without a buffer of ours */
	FILE *f = buf ? fopen(path, "rb") : NULL;
	if (f)
		setvbuf(f, buf, _IOFBF, READ_BUF);
	pcap_t *p = f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr) : NULL;
	if (!p && !f)
		snprintf(perr, sizeof(perr), "%s", strerror(errno));
	else if (!p)
		fclose(f); /* pcap_fopen_offline closes it only on success (pcap_close) */
	if (!p) {
		free(buf);
		snprintf(err, errlen, "%s: not a readable capture: %s", path, perr);
		*exit_code = 65; /* EX_DATAERR */
		return NULL;
	}
	struct weir_pcap_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		pcap_close(p);
		free(buf);
		snprintf(err, errlen, "%s: out of memory", path);
		*exit_code = 71; /* EX_OSERR */
		return NULL;
	}
	r->p = p;
	r->buf = buf;
	r->linktype = pcap_datalink(p);
	r->size = (long long)st.st_size;
	return r;
}

void weir_pcap_close(struct weir_pcap_reader *r)
{
	if (!r)
		return;
	pcap_close(r->p); /* closes the FILE before its buffer goes */
	free(r->buf);
	free(r->path);
	free(r);
}

int weir_pcap_next(struct weir_pcap_reader *r, struct weir_rx_pkt *pkts, unsigned max, char *err, size_t errlen)
{
	if (!r || !pkts || max == 0)
		return -EINVAL;
	struct pcap_pkthdr *h;
	const u_char *data;
	const int rc = pcap_next_ex(r->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(err, errlen, "%s: damaged after packet %llu: %s", r->path, r->count, pcap_geterr(r->p));
		return -EIO;
	}
	memset(&pkts[0], 0, sizeof(pkts[0]));
	pkts[0].frame = data;
	pkts[0].ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec; /* nano precision */
	pkts[0].caplen = h->caplen;
	pkts[0].wirelen = h->len;
	pkts[0].linktype = (uint16_t)r->linktype;
	r->count++;
	return 1;
}

double weir_pcap_progress(const struct weir_pcap_reader *r)
{
	FILE *f = pcap_file(r->p);
	long pos = f ? ftell(f) : -1;
	if (pos < 0 || r->size <= 0)
		return 0.0;
	return (double)pos / (double)r->size;
}

unsigned long long weir_pcap_count(const struct weir_pcap_reader *r)
{
	return r->count;
}
