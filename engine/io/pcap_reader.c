/* pcap_reader.c — reads capture files at nanosecond precision and hands out zero-copy packets.
 *
 * pcapng, FIFOs and pcap variants other than the classic µs/ns formats go through libpcap. A
 * classic pcap that is a regular file is read by weir itself, in reads of 1 MiB, and its packets
 * are handed out where they lie in that buffer, several per call. libpcap's offline reader costs
 * 607 instructions a packet (callgrind, bench.pcap's first 30,000 packets) and copies every record
 * a second time (fread() from stdio's buffer into its own); this costs 83 and no copy. (Mapping the
 * file instead was measured too and kept no advantage: the engine then takes the cache misses the
 * read's copy took.) libpcap still opens every file first: it checks the header and names the link
 * type as a DLT (the file holds a LINKTYPE).
 */
#include "pcap_reader.h"

#include "parse/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	READ_BUF = 1 << 20,  /* bytes per read() of a capture */
	FILE_HDR = 24,       /* classic pcap: file header, then per record: */
	REC_HDR = 16,        /* ts_sec, ts_frac, caplen, len */
	MAX_CAPLEN = 262144, /* libpcap's largest snapshot for common link types */
};

/* The last second whose nanoseconds still fit a uint64_t ts_ns (2554-07-21): a pcapng timestamp
 * is 64 bits of any unit, so a damaged one can lie past it (or before 1970 with an offset). */
#define MAX_TS_SEC ((UINT64_MAX - 999999999ull) / 1000000000ull)

struct weir_pcap_reader {
	pcap_t *p; /* NULL when weir reads the file itself */
	char *buf; /* the FILE's buffer */
	char *path;
	int linktype;
	long long size;
	unsigned long long count;
	/* classic pcap read by weir */
	int fd;
	uint8_t swapped, nano, eof;
	uint32_t max_caplen;
	long long off;   /* file offset of buf[0] */
	size_t len, pos; /* bytes read into buf; the next record's start in it */
};

static void set_err(char *err, size_t errlen, int *exit_code, int code, const char *path,
                    const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	*exit_code = code;
}

/* Whether the file at fd starts as a classic pcap weir reads itself; sets swapped and nano. */
static int classic(struct weir_pcap_reader *r, int fd)
{
	uint8_t h[FILE_HDR];
	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	uint32_t magic;
	memcpy(&magic, h, sizeof(magic));
	const uint32_t swapped = __builtin_bswap32(magic);
	r->swapped = magic != 0xa1b2c3d4u && magic != 0xa1b23c4du;
	magic = r->swapped ? swapped : magic;
	if (magic != 0xa1b2c3d4u && magic != 0xa1b23c4du)
		return 0;
	r->nano = magic == 0xa1b23c4du;
	return 1;
}

struct weir_pcap_reader *weir_pcap_open(const char *path, char *err, size_t errlen, int *exit_code)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		set_err(err, errlen, exit_code, 66 /* EX_NOINPUT */, path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		set_err(err, errlen, exit_code, 66 /* EX_NOINPUT */, path, strerror(EISDIR));
		return NULL;
	}
	struct weir_pcap_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		set_err(err, errlen, exit_code, 71 /* EX_OSERR */, path, "out of memory");
		return NULL;
	}
	r->fd = -1;
	r->size = (long long)st.st_size;
	/* libpcap reads through stdio; its default 4 KiB buffer made one read() per 4 KiB, which
	 * cost more system time than the whole engine's user time on a replay. */
	r->buf = malloc(READ_BUF); /* glibc ignores setvbuf's size without a buffer of ours */
	FILE *f = r->buf ? fopen(path, "rb") : NULL;
	if (f)
		setvbuf(f, r->buf, _IOFBF, READ_BUF);
	r->p = f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr)
	         : NULL;
	if (!r->p && !f)
		snprintf(perr, sizeof(perr), "%s", strerror(errno));
	else if (!r->p)
		fclose(f); /* pcap_fopen_offline closes it only on success (pcap_close) */
	if (!r->p) {
		char what[PCAP_ERRBUF_SIZE + 32];
		snprintf(what, sizeof(what), "not a readable capture: %s", perr);
		set_err(err, errlen, exit_code, 65 /* EX_DATAERR */, path, what);
		weir_pcap_close(r);
		return NULL;
	}
	r->linktype = pcap_datalink(r->p);
	if (!weir_parse_linktype_known(r->linktype)) {
		const char *name = pcap_datalink_val_to_name(r->linktype);
		fprintf(
		    stderr,
		    "weir: %s: link type %d (%s) is not decoded by weir: its packets are counted "
		    "as malformed (unknown_linktype)\n",
		    path, r->linktype, name ? name : "no name known to libpcap");
	}
	const int snap = pcap_snapshot(r->p);
	r->max_caplen = snap > MAX_CAPLEN && snap <= READ_BUF / 2 ? (uint32_t)snap : MAX_CAPLEN;
	if (S_ISREG(st.st_mode) && (r->fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 &&
	    classic(r, r->fd)) {
		pcap_close(r->p); /* closes the FILE; its buffer is now weir's */
		r->p = NULL;
		r->off = FILE_HDR; /* buf holds nothing yet; the records start after the header */
		if (lseek(r->fd, FILE_HDR, SEEK_SET) != FILE_HDR) {
			set_err(err, errlen, exit_code, 66 /* EX_NOINPUT */, path, strerror(errno));
			weir_pcap_close(r);
			return NULL;
		}
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	} else if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	return r;
}

void weir_pcap_close(struct weir_pcap_reader *r)
{
	if (!r)
		return;
	if (r->p)
		pcap_close(r->p); /* closes the FILE before its buffer goes */
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->path);
	free(r);
}

/* Moves the unread bytes to the front of buf and reads until it is full or the file ends.
 * 0, or -EIO with err set. */
static int fill(struct weir_pcap_reader *r, char *err, size_t errlen)
{
	memmove(r->buf, r->buf + r->pos, r->len - r->pos);
	r->off += (long long)r->pos;
	r->len -= r->pos;
	r->pos = 0;
	while (r->len < READ_BUF) {
		const ssize_t n = read(r->fd, r->buf + r->len, READ_BUF - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: cannot read after packet %llu: %s", r->path,
			         r->count, strerror(errno));
			return -EIO;
		}
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->len += (size_t)n;
	}
	return 0;
}

static uint32_t field(const struct weir_pcap_reader *r, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return r->swapped ? __builtin_bswap32(v) : v;
}

/* Next packets of a classic pcap: all whole records in buf, up to max. Frames handed out stay
 * where they are until the next call, so buf is refilled only before the first one. */
static int next_classic(struct weir_pcap_reader *r, struct weir_rx_pkt *pkts, unsigned max,
                        char *err, size_t errlen)
{
	unsigned n = 0;
	while (n < max) {
		const size_t left = r->len - r->pos;
		const uint8_t *h = (const uint8_t *)r->buf + r->pos;
		const uint32_t caplen = left >= REC_HDR ? field(r, h + 8) : 0;
		if (caplen > r->max_caplen) {
			snprintf(err, errlen,
			         "%s: damaged after packet %llu: invalid packet capture length %u, "
			         "bigger than "
			         "the maximum of %u",
			         r->path, r->count, caplen, r->max_caplen);
			return n ? (int)n : -EIO;
		}
		if (left < REC_HDR || left - REC_HDR < caplen) {
			if (!r->eof) {
				if (n)
					break;
				if (fill(r, err, errlen))
					return -EIO;
				continue;
			}
			if (left == 0)
				break;
			if (left < REC_HDR)
				snprintf(err, errlen,
				         "%s: damaged after packet %llu: truncated dump file; "
				         "tried to read %d "
				         "header bytes, only got %zu",
				         r->path, r->count, REC_HDR, left);
			else
				snprintf(err, errlen,
				         "%s: damaged after packet %llu: truncated dump file; "
				         "tried to read %u "
				         "captured bytes, only got %zu",
				         r->path, r->count, caplen, left - REC_HDR);
			return n ? (int)n : -EIO;
		}
		struct weir_rx_pkt *p = &pkts[n++];
		memset(p, 0, sizeof(*p));
		const uint64_t frac = field(r, h + 4);
		p->ts_ns = (uint64_t)field(r, h) * 1000000000ull + (r->nano ? frac : frac * 1000);
		p->frame = h + REC_HDR;
		p->caplen = caplen;
		p->wirelen = field(r, h + 12);
		p->linktype = (uint16_t)r->linktype;
		r->pos += REC_HDR + caplen;
		r->count++;
	}
	return (int)n;
}

int weir_pcap_next(struct weir_pcap_reader *r, struct weir_rx_pkt *pkts, unsigned max, char *err,
                   size_t errlen)
{
	if (!r || !pkts || max == 0)
		return -EINVAL;
	if (!r->p)
		return next_classic(r, pkts, max, err, errlen);
	struct pcap_pkthdr *h;
	const u_char *data;
	const int rc = pcap_next_ex(r->p, &h, &data);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(err, errlen, "%s: damaged after packet %llu: %s", r->path, r->count,
		         pcap_geterr(r->p));
		return -EIO;
	}
	if (h->ts.tv_sec < 0 || (uint64_t)h->ts.tv_sec > MAX_TS_SEC) {
		snprintf(
		    err, errlen,
		    "%s: damaged after packet %llu: timestamp %lld s is out of range (0 to %llu s)",
		    r->path, r->count, (long long)h->ts.tv_sec, (unsigned long long)MAX_TS_SEC);
		return -EIO;
	}
	memset(&pkts[0], 0, sizeof(pkts[0]));
	pkts[0].frame = data;
	pkts[0].ts_ns =
	    (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec; /* nano precision */
	pkts[0].caplen = h->caplen;
	pkts[0].wirelen = h->len;
	pkts[0].linktype = (uint16_t)r->linktype;
	r->count++;
	return 1;
}

double weir_pcap_progress(const struct weir_pcap_reader *r)
{
	FILE *f = r->p ? pcap_file(r->p) : NULL;
	const long long pos = r->p ? (f ? ftell(f) : -1) : r->off + (long long)r->pos;
	if (pos < 0 || r->size <= 0)
		return 0.0;
	return (double)pos / (double)r->size;
}

unsigned long long weir_pcap_count(const struct weir_pcap_reader *r)
{
	return r->count;
}
