/* test_pcap_reader.c — the reader against libpcap, the oracle: every packet's time, lengths and
 * bytes, and where a damaged file stops, for classic pcap files weir reads itself (µs and ns,
 * either byte order, records across its 1 MiB reads, huge and truncated records) and for pcapng,
 * which libpcap reads. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/pcap_reader.h"
#include "unit.h"

static char dir[] = "/tmp/weir-test-pcap-XXXXXX";

static uint32_t bswap(uint32_t v, int swap)
{
	return swap ? __builtin_bswap32(v) : v;
}

static void put(FILE *f, uint32_t v, int swap)
{
	v = bswap(v, swap);
	fwrite(&v, 4, 1, f);
}

/* A classic pcap of n records of caplen lens[i % nlens]; trunc > 0 cuts the file that many bytes
 * short; bad_caplen, when not 0, is written as the caplen of record n - 1. */
static void write_pcap(const char *path, int nano, int swap, unsigned n, const uint32_t *lens,
                       unsigned nlens, long trunc, uint32_t bad_caplen)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	put(f, nano ? 0xa1b23c4du : 0xa1b2c3d4u, swap);
	const uint16_t ver[2] = {swap ? 0x0200 : 2, swap ? 0x0400 : 4};
	fwrite(ver, 2, 2, f);
	put(f, 0, swap);
	put(f, 0, swap);
	put(f, 262144, swap);
	put(f, 1 /* LINKTYPE_ETHERNET */, swap);
	static uint8_t data[65536];
	for (unsigned i = 0; i < n; i++) {
		const uint32_t len = lens[i % nlens];
		put(f, 1700000000u + i, swap);
		put(f, (i * 7919u) % (nano ? 1000000000u : 1000000u), swap);
		put(f, i == n - 1 && bad_caplen ? bad_caplen : len, swap);
		put(f, len + i % 3, swap); /* wire length at least caplen */
		for (uint32_t k = 0; k < len; k++)
			data[k] = (uint8_t)(i * 31 + k);
		fwrite(data, 1, len, f);
	}
	fclose(f);
	if (trunc > 0) {
		FILE *g = fopen(path, "rb");
		fseek(g, 0, SEEK_END);
		const long size = ftell(g);
		fclose(g);
		CHECK_EQ(truncate(path, size - trunc), 0);
	}
}

/* Reads path with weir's reader in bursts of burst and with libpcap, and compares. Returns the
 * packets weir read; *damaged: weir reported damage. */
static unsigned long long compare(const char *path, unsigned burst, int *damaged)
{
	char err[512] = "", perr[PCAP_ERRBUF_SIZE];
	int code = 0;
	struct weir_pcap_reader *r = weir_pcap_open(path, err, sizeof(err), &code);
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	CHECK(r != NULL);
	CHECK(p != NULL);
	if (!r || !p)
		return 0;
	struct weir_rx_pkt pkts[64];
	int n, oracle_rc = 1;
	unsigned long long got = 0;
	double last_progress = 0;
	while ((n = weir_pcap_next(r, pkts, burst, err, sizeof(err))) > 0) {
		CHECK(n <= (int)burst);
		for (int i = 0; i < n; i++) {
			struct pcap_pkthdr *h;
			const u_char *d;
			oracle_rc = pcap_next_ex(p, &h, &d);
			CHECK_EQ(oracle_rc, 1);
			if (oracle_rc != 1)
				break;
			CHECK_EQ(pkts[i].ts_ns,
			         (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec);
			CHECK_EQ(pkts[i].caplen, h->caplen);
			CHECK_EQ(pkts[i].wirelen, h->len);
			CHECK_EQ(pkts[i].linktype, DLT_EN10MB);
			CHECK_MEM(pkts[i].frame, d, h->caplen);
			got++;
		}
		const double pr = weir_pcap_progress(r);
		CHECK(pr >= last_progress && pr <= 1.0);
		last_progress = pr;
	}
	CHECK_EQ(weir_pcap_count(r), got);
	*damaged = n < 0;
	if (n < 0) {
		CHECK_EQ(n, -EIO);
		CHECK(strstr(err, path) != NULL && strstr(err, "damaged after packet") != NULL);
	} else {
		CHECK(weir_pcap_progress(r) == 1.0);
	}
	/* libpcap ends at the same packet: cleanly, or with an error where weir saw damage */
	struct pcap_pkthdr *h;
	const u_char *d;
	oracle_rc = pcap_next_ex(p, &h, &d);
	CHECK_EQ(oracle_rc, n < 0 ? PCAP_ERROR : PCAP_ERROR_BREAK);
	pcap_close(p);
	weir_pcap_close(r);
	return got;
}

static void test_classic(void)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	const uint32_t small[] = {60, 1514, 0, 74, 9000, 1, 1514, 333};
	int damaged;
	for (int nano = 0; nano < 2; nano++)
		for (int swap = 0; swap < 2; swap++) {
			/* 3,000 records: about 12 MB, many 1 MiB reads, records cut by every read
			 */
			write_pcap(path, nano, swap, 3000, small, 8, 0, 0);
			CHECK_EQ(compare(path, 1, &damaged), 3000);
			CHECK(!damaged);
			CHECK_EQ(compare(path, 32, &damaged), 3000);
			CHECK(!damaged);
		}
	/* a record as large as libpcap allows, between small ones */
	const uint32_t big[] = {60, 65535, 60};
	write_pcap(path, 0, 0, 40, big, 3, 0, 0);
	CHECK_EQ(compare(path, 7, &damaged), 40);
	CHECK(!damaged);
	/* empty: a header only */
	write_pcap(path, 1, 0, 0, small, 1, 0, 0);
	CHECK_EQ(compare(path, 32, &damaged), 0);
	CHECK(!damaged);
}

static void test_damaged(void)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/d.pcap", dir);
	const uint32_t lens[] = {100, 1514};
	int damaged;
	/* the last record's data cut short, then its header */
	write_pcap(path, 0, 0, 1000, lens, 2, 10, 0);
	CHECK_EQ(compare(path, 32, &damaged), 999);
	CHECK(damaged);
	write_pcap(path, 1, 1, 1000, lens, 2, 1514 + 10, 0);
	CHECK_EQ(compare(path, 1, &damaged), 999);
	CHECK(damaged);
	/* a capture length no link type has: refused, as libpcap refuses it, nothing read past it
	 */
	write_pcap(path, 0, 0, 500, lens, 2, 0, 0x7fffffff);
	CHECK_EQ(compare(path, 32, &damaged), 499);
	CHECK(damaged);
	write_pcap(path, 0, 1, 500, lens, 2, 0, 262145);
	CHECK_EQ(compare(path, 5, &damaged), 499);
	CHECK(damaged);
}

static void test_open_errors(void)
{
	char err[512], path[96];
	int code = 0;
	snprintf(path, sizeof(path), "%s/missing.pcap", dir);
	CHECK(weir_pcap_open(path, err, sizeof(err), &code) == NULL);
	CHECK_EQ(code, 66);
	snprintf(path, sizeof(path), "%s/junk.pcap", dir);
	FILE *f = fopen(path, "wb");
	fputs("not a capture at all, just text long enough for a header", f);
	fclose(f);
	CHECK(weir_pcap_open(path, err, sizeof(err), &code) == NULL);
	CHECK_EQ(code, 65);
	CHECK(strstr(err, "not a readable capture") != NULL);
}

/* pcapng goes through libpcap: the same packets. A section header, one Ethernet interface (µs),
 * n enhanced packet blocks. */
static void write_pcapng(const char *path, unsigned n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	const uint32_t shb[] = {0x0a0d0d0a, 28, 0x1a2b3c4d, 0x00000001, 0xffffffff, 0xffffffff, 28};
	const uint32_t idb[] = {1, 20, 1 /* LINKTYPE_ETHERNET */, 0, 20};
	fwrite(shb, sizeof(shb), 1, f);
	fwrite(idb, sizeof(idb), 1, f);
	uint8_t data[1520];
	for (unsigned i = 0; i < n; i++) {
		const uint32_t len = 60 + (i * 97) % 1400, pad = (4 - len % 4) % 4;
		const uint64_t us = 1700000000000000ull + i * 1001ull;
		const uint32_t epb[] = {
		    6, 32 + len + pad, 0, (uint32_t)(us >> 32), (uint32_t)us, len, len};
		fwrite(epb, sizeof(epb), 1, f);
		memset(data, 0, sizeof(data));
		for (uint32_t k = 0; k < len; k++)
			data[k] = (uint8_t)(i + k * 3);
		fwrite(data, 1, len + pad, f);
		fwrite(&epb[1], 4, 1, f);
	}
	fclose(f);
}

static void test_pcapng(void)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/n.pcapng", dir);
	write_pcapng(path, 300);
	int damaged;
	CHECK_EQ(compare(path, 32, &damaged), 300);
	CHECK(!damaged);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	test_classic();
	test_damaged();
	test_open_errors();
	test_pcapng();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	return UNIT_DONE();
}
