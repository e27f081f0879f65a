/* test_frames.h — frame builders and checked parse wrappers shared by the parse unit tests
 * (test_parse.c: IP and TCP; test_link.c: the link layers). */
#ifndef WEIR_TEST_FRAMES_H
#define WEIR_TEST_FRAMES_H

#include "parse/parse.h"
#include "unit.h"

#include <stddef.h>
#include <stdlib.h>

#define FRAME_MAX 2048
#define NO_REASON WEIR_MAL_COUNT /* what parse writes to *reason when nothing is wrong */

/* ---- frame building --------------------------------------------------------------------- */

static const uint8_t SRC4[4] = {10, 0, 0, 1};
static const uint8_t DST4[4] = {192, 168, 1, 2};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t DST6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};

static inline unsigned put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	return 2;
}

static inline unsigned put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
	return 4;
}

/** A TCP segment to build. optlen must be a multiple of 4; doff = 0 means "the true one". */
struct seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt;
	unsigned optlen;
	unsigned doff;
	unsigned datalen; /* payload bytes 'a', 'b', ... */
};

static const struct seg PLAIN = {
	.sport = 40000, .dport = 443, .seq = 0xfedcba98, .ack = 0x01020304,
	.flags = 0x18, .win = 0xabcd, .datalen = 5,
};

static inline unsigned put_tcp(uint8_t *b, const struct seg *s)
{
	unsigned hlen = 20 + s->optlen;
	put16(b, s->sport);
	put16(b + 2, s->dport);
	put32(b + 4, s->seq);
	put32(b + 8, s->ack);
	b[12] = (uint8_t)((s->doff ? s->doff : hlen / 4) << 4);
	b[13] = s->flags;
	put16(b + 14, s->win);
	put32(b + 16, 0); /* checksum, urgent pointer */
	if (s->optlen)
		memcpy(b + 20, s->opt, s->optlen);
	for (unsigned i = 0; i < s->datalen; i++)
		b[hlen + i] = (uint8_t)('a' + i % 26);
	return hlen + s->datalen;
}

/* IPv4 header with optlen option bytes (NOPs) in front of l4len bytes. */
static inline unsigned put_ipv4(uint8_t *b, uint8_t proto, unsigned optlen, unsigned l4len, unsigned frag)
{
	unsigned hlen = 20 + optlen;
	b[0] = (uint8_t)(0x40 | hlen / 4);
	b[1] = 0;
	put16(b + 2, hlen + l4len);
	put16(b + 4, 0x1234);
	put16(b + 6, frag);
	b[8] = 63;
	b[9] = proto;
	put16(b + 10, 0);
	memcpy(b + 12, SRC4, 4);
	memcpy(b + 16, DST4, 4);
	memset(b + 20, 1, optlen);
	return hlen;
}

static inline unsigned put_ipv6(uint8_t *b, uint8_t nh, unsigned plen)
{
	put32(b, 0x60000000);
	put16(b + 4, plen);
	b[6] = nh;
	b[7] = 17;
	memcpy(b + 8, SRC6, 16);
	memcpy(b + 24, DST6, 16);
	return 40;
}

/* Ethernet header with the given tag TPIDs (each followed by its TCI) and the final type. */
static inline unsigned put_eth(uint8_t *b, const uint16_t *tpids, const uint16_t *tcis, unsigned ntags, uint16_t type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	memcpy(b, macs, 12);
	unsigned off = 12;
	for (unsigned i = 0; i < ntags; i++) {
		off += put16(b + off, tpids[i]);
		off += put16(b + off, tcis[i]);
	}
	off += put16(b + off, type);
	return off;
}

/* [l2][IPv4 + optlen option bytes][TCP]; returns the frame length. */
static inline unsigned frame_v4(uint8_t *b, const uint8_t *l2, unsigned l2len, unsigned ipopt, unsigned frag, const struct seg *s)
{
	if (l2len)
		memcpy(b, l2, l2len);
	unsigned tl = put_tcp(b + l2len + 20 + ipopt, s);
	put_ipv4(b + l2len, 6, ipopt, tl, frag);
	return l2len + 20 + ipopt + tl;
}

/* [l2][IPv6, next header nh][ext bytes as given][TCP]. */
static inline unsigned frame_v6(uint8_t *b, const uint8_t *l2, unsigned l2len, uint8_t nh, const uint8_t *ext, unsigned extlen, const struct seg *s)
{
	if (l2len)
		memcpy(b, l2, l2len);
	if (extlen)
		memcpy(b + l2len + 40, ext, extlen);
	unsigned tl = put_tcp(b + l2len + 40 + extlen, s);
	put_ipv6(b + l2len, nh, extlen + tl);
	return l2len + 40 + extlen + tl;
}

static inline unsigned eth_plain(uint8_t *b, uint16_t type)
{
	return put_eth(b, NULL, NULL, 0, type);
}

/* ---- parse wrappers ----------------------------------------------------------------------- */

/* Parses a copy of the first caplen bytes in a buffer of exactly that size, so ASan sees any
 * read past caplen; checks the frame was not written, and that a second parse into a view
 * filled with other garbage gives the same bytes (every field is set, none left stale). */
static inline int parse_exact(struct weir_pkt *p, const uint8_t *b, uint32_t caplen, uint32_t wirelen, int lt, unsigned *reason)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	if (!copy) { /* a failed check, and a defined view and reason for the caller's */
		CHECK(copy != NULL);
		memset(p, 0, sizeof(*p));
		*reason = NO_REASON;
		return -1;
	}
	memcpy(copy, b, caplen);
	struct weir_pkt q;
	unsigned reason2 = 99;
	memset(p, 0xaa, sizeof(*p));
	memset(&q, 0x55, sizeof(q));
	p->frame = q.frame = copy; /* the caller's fields */
	p->ts_ns = q.ts_ns = 1;
	p->port = q.port = 3;
	int r = weir_parse(p, copy, caplen, wirelen, lt, reason);
	CHECK_EQ(weir_parse(&q, copy, caplen, wirelen, lt, &reason2), r);
	CHECK_EQ(reason2, *reason);
	/* up to the last field: the tail padding of the struct is nobody's */
	CHECK_MEM(p, &q, offsetof(struct weir_pkt, dst) + sizeof(q.dst));
	CHECK_MEM(copy, b, caplen);
	CHECK((p->payload == NULL) == (p->payload_len == 0));
	if (p->payload) {
		CHECK(p->payload >= copy && p->payload + p->payload_len <= copy + caplen);
		/* re-based onto b so callers may look at the bytes after the copy is gone */
		p->payload = b + (p->payload - copy);
	}
	p->frame = b;
	free(copy);
	return r;
}

static inline int parse(struct weir_pkt *p, const uint8_t *b, uint32_t n, int lt, unsigned *reason)
{
	return parse_exact(p, b, n, n, lt, reason);
}

/* Expects MALFORMED with reason why. */
static inline void expect_mal(const uint8_t *b, uint32_t caplen, uint32_t wirelen, int lt, unsigned why, int line)
{
	struct weir_pkt p;
	unsigned reason = 77;
	int r = parse_exact(&p, b, caplen, wirelen, lt, &reason);
	if (r != WEIR_PARSE_MALFORMED || reason != why)
		fprintf(stderr, "  (expect_mal from line %d: r=%d reason=%u)\n", line, r, reason);
	CHECK_EQ(r, WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, why);
}
#define EXPECT_MAL(b, cap, wire, lt, why) expect_mal(b, cap, wire, lt, why, __LINE__)

static inline void check_seg(const struct weir_pkt *p, const struct seg *s)
{
	CHECK_EQ(p->sport, s->sport);
	CHECK_EQ(p->dport, s->dport);
	CHECK_EQ(p->seq, s->seq);
	CHECK_EQ(p->ack, s->ack);
	CHECK_EQ(p->tcp_flags, s->flags);
	CHECK_EQ(p->win, s->win);
	CHECK_EQ(p->l4proto, 6);
	CHECK_EQ(p->payload_len, s->datalen);
	if (s->datalen && p->payload_len == s->datalen) {
		CHECK(p->payload != NULL);
		CHECK_EQ(p->payload[0], 'a');
		CHECK_EQ(p->payload[s->datalen - 1], 'a' + (s->datalen - 1) % 26);
	} else if (!s->datalen) {
		CHECK(p->payload == NULL);
	}
}

static inline void check_addr4(const struct weir_pkt *p)
{
	static const uint8_t zero[12];
	CHECK_EQ(p->ip_ver, 4);
	CHECK_MEM(p->src, SRC4, 4);
	CHECK_MEM(p->dst, DST4, 4);
	CHECK_MEM(p->src + 4, zero, 12);
	CHECK_MEM(p->dst + 4, zero, 12);
	CHECK_EQ(p->ttl, 63);
}

static inline void check_addr6(const struct weir_pkt *p)
{
	CHECK_EQ(p->ip_ver, 6);
	CHECK_MEM(p->src, SRC6, 16);
	CHECK_MEM(p->dst, DST6, 16);
	CHECK_EQ(p->ttl, 17);
}

#endif
