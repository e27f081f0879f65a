/* test_defrag.c — unit tests of the defragmenter: orders, duplicates, every overlap shape under
 * both policies, tiny and oversized fragments, the timeout, the memory cap, the fragment cap,
 * IPv6 extension headers, atomic fragments and datagrams other than TCP (UDP, a tunnel around
 * TCP, ICMP). Fragments go through the real decoder first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "defrag/defrag.h"
#include "parse/parse.h"
#include "unit.h"

#define SEC 1000000000ull

/* The datagram the IPv4 tests cut up: a 20-byte IPv4 header and 64 bytes of TCP (a 20-byte header
 * and 44 bytes of payload). */
#define L4LEN 64u

static uint8_t orig[20 + L4LEN];

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned sum16(const uint8_t *p, unsigned n)
{
	unsigned s = 0;
	for (unsigned i = 0; i + 1 < n; i += 2)
		s += (unsigned)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static void make_orig(void)
{
	memset(orig, 0, sizeof(orig));
	orig[0] = 0x45;
	put16(orig + 2, sizeof(orig));
	put16(orig + 4, 0x1234); /* id */
	orig[8] = 64;
	orig[9] = 6;
	memcpy(orig + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	uint8_t *t = orig + 20;
	put16(t, 40000);
	put16(t + 2, 80);
	t[4] = 1; /* seq 0x01000000 */
	t[12] = 5 << 4;
	t[13] = 0x18; /* PSH|ACK */
	put16(t + 14, 1000);
	for (unsigned i = 20; i < L4LEN; i++)
		t[i] = (uint8_t)('a' + i % 26);
	put16(orig + 10, ~sum16(orig, 20) & 0xffff);
}

struct fr {
	uint8_t b[128];
	unsigned n;
	struct weir_pkt p;
};

/* Raw-IPv4 fragment with header hdr (20 bytes) at offset off: the len bytes at data; mf: more
 * fragments. */
static void frag_at(struct fr *f, const uint8_t *hdr, const uint8_t *data, unsigned off,
                    unsigned len, int mf)
{
	memcpy(f->b, hdr, 20);
	put16(f->b + 2, 20 + len);
	put16(f->b + 6, (mf ? 0x2000 : 0) | off / 8);
	memcpy(f->b + 20, data, len);
	f->n = 20 + len;
	unsigned reason;
	CHECK_EQ(weir_parse(&f->p, f->b, f->n, f->n, WEIR_DLT_RAW, &reason), WEIR_PARSE_FRAGMENT);
	f->p.frame = f->b;
}

/* Fragment of orig: bytes [off, off + len) of its TCP part, or len copies of fill when fill is
 * not 0. */
static void frag4(struct fr *f, unsigned off, unsigned len, int mf, uint8_t fill)
{
	uint8_t filled[sizeof(f->b)];
	memset(filled, fill, sizeof(filled));
	frag_at(f, orig, fill ? filled : orig + 20 + off, off, len, mf);
}

/* Fragment of datagram dg (a 20-byte header): bytes [off, off + len) of what follows it. */
static void frag_of(struct fr *f, const uint8_t *dg, unsigned off, unsigned len, int mf)
{
	frag_at(f, dg, dg + 20 + off, off, len, mf);
}

static struct weir_config cfg_of(uint64_t memcap, uint32_t max_frags, int policy)
{
	struct weir_config c;
	memset(&c, 0, sizeof(c));
	c.defrag_memcap = memcap;
	c.defrag_timeout_ms = 30000;
	c.defrag_max_frags = max_frags;
	c.defrag_overlap = (uint8_t)policy;
	return c;
}

static struct weir_defrag *mk(uint64_t *st, uint64_t memcap, uint32_t max_frags, int policy)
{
	memset(st, 0, WEIR_DF_COUNT * sizeof(*st));
	const struct weir_config c = cfg_of(memcap, max_frags, policy);
	struct weir_defrag *d = weir_defrag_create(&c, st);
	CHECK(d != NULL);
	return d;
}

static int add(struct weir_defrag *d, struct fr *f, uint64_t t, struct weir_defrag_dgram *out)
{
	return weir_defrag_add(d, &f->p, f->n, t, out);
}

/* out is orig, whole: total length, no fragment bits, a valid checksum. */
static void check_orig(const struct weir_defrag_dgram *out)
{
	CHECK_EQ(out->ip_ver, 4);
	CHECK_EQ(out->len, sizeof(orig));
	CHECK_MEM(out->ip, orig, sizeof(orig));
	CHECK_EQ(sum16(out->ip, 20), 0xffff);
}

/* Cuts orig at the given offsets and feeds the pieces in the order given. */
static void feed_cut(const unsigned *order, unsigned n, const unsigned *cuts)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	for (unsigned i = 0; i < n; i++) {
		const unsigned k = order[i];
		struct fr f;
		frag4(&f, cuts[k], cuts[k + 1] - cuts[k], k + 1 < n, 0);
		const int r = add(d, &f, SEC, &out);
		CHECK_EQ(r, i + 1 < n ? WEIR_FRAG_HELD : WEIR_FRAG_DONE);
	}
	check_orig(&out);
	CHECK_EQ(st[WEIR_DF_REASSEMBLED], 1);
	CHECK_EQ(st[WEIR_DF_OVERLAPS], 0);
	CHECK_EQ(st[WEIR_DF_MEM_USED], 0); /* the completed datagram's memory went back */
	weir_defrag_free(d);
}

static void test_orders(void)
{
	static const unsigned cuts[] = {0, 24, 48, L4LEN};
	feed_cut((const unsigned[]){0, 1, 2}, 3, cuts);
	feed_cut((const unsigned[]){2, 1, 0}, 3, cuts);
	feed_cut((const unsigned[]){1, 2, 0}, 3, cuts);
}

/* The same fragment twice: an overlap with the same bytes, no difference. */
static void test_duplicate(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	struct fr a, b;
	frag4(&a, 0, 32, 1, 0);
	frag4(&b, 32, L4LEN - 32, 0, 0);
	CHECK_EQ(add(d, &a, SEC, &out), WEIR_FRAG_HELD);
	CHECK_EQ(add(d, &a, SEC, &out), WEIR_FRAG_HELD);
	CHECK_EQ(add(d, &b, SEC, &out), WEIR_FRAG_DONE);
	check_orig(&out);
	CHECK_EQ(st[WEIR_DF_OVERLAPS], 1);
	CHECK_EQ(st[WEIR_DF_OVERLAP_DIFF], 0);
	CHECK_EQ(out.overlap_diff, 0);
	weir_defrag_free(d);
}

/* Two fragments A then B over [a0, a1) and [b0, b1) (within [24, 56)), holes filled with 'C'
 * after them, the header [0, 24) and the end [56, 64) from orig: which bytes win in each block. */
static void overlap_case(int policy, unsigned a0, unsigned a1, unsigned b0, unsigned b1, int same)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, policy);
	struct weir_defrag_dgram out;
	struct fr f;
	const uint8_t fa = 'A', fb = same ? 'A' : 'B';
	frag4(&f, a0, a1 - a0, 1, fa);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag4(&f, b0, b1 - b0, 1, fb);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	for (unsigned s = 24; s < 56; s += 8) {
		if ((s >= a0 && s < a1) || (s >= b0 && s < b1))
			continue;
		frag4(&f, s, 8, 1, 'C');
		CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	}
	frag4(&f, 0, 24, 1, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag4(&f, 56, 8, 0, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_DONE);
	CHECK_EQ(out.len, sizeof(orig));
	for (unsigned s = 24; s < 56; s++) {
		const int in_a = s >= a0 && s < a1, in_b = s >= b0 && s < b1;
		const uint8_t want = in_a && in_b ? (policy == WEIR_OVERLAP_FIRST ? fa : fb)
		                     : in_a       ? fa
		                     : in_b       ? fb
		                                  : 'C';
		if (out.ip[20 + s] != want)
			fprintf(stderr, "policy %d A[%u,%u) B[%u,%u) byte %u: %c, want %c\n",
			        policy, a0, a1, b0, b1, s, out.ip[20 + s], want);
		CHECK_EQ(out.ip[20 + s], want);
	}
	CHECK_MEM(out.ip, orig, 44);
	CHECK_EQ(st[WEIR_DF_OVERLAPS], 1);
	CHECK_EQ(st[WEIR_DF_OVERLAP_DIFF], same ? 0 : 1);
	CHECK_EQ(out.overlap_diff, same ? 0 : 1);
	weir_defrag_free(d);
}

static void test_overlap_shapes(void)
{
	static const unsigned shapes[][4] = {
	    {32, 48, 32, 48}, /* the same range */
	    {24, 56, 32, 40}, /* B inside A */
	    {32, 40, 24, 56}, /* B covers A */
	    {32, 48, 24, 40}, /* B overlaps A's start */
	    {24, 40, 32, 48}, /* B overlaps A's end */
	    {24, 32, 24, 48}, /* same start, B longer */
	    {24, 48, 40, 48}, /* same end, B shorter */
	};
	for (int policy = WEIR_OVERLAP_FIRST; policy <= WEIR_OVERLAP_LAST; policy++)
		for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
			for (int same = 0; same < 2; same++)
				overlap_case(policy, shapes[i][0], shapes[i][1], shapes[i][2],
				             shapes[i][3], same);
}

/* Tiny fragments that split the TCP header (RFC 1858): reassembled whole, counted as tiny; then a
 * second copy of the header's second half rewrites the ports and flags: "first" keeps the
 * original header, "last" takes the rewrite; both count the difference. */
static void test_tiny(void)
{
	for (int policy = WEIR_OVERLAP_FIRST; policy <= WEIR_OVERLAP_LAST; policy++) {
		uint64_t st[WEIR_DF_COUNT];
		struct weir_defrag *d = mk(st, 1 << 20, 64, policy);
		struct weir_defrag_dgram out;
		struct fr f;
		frag4(&f, 0, 8, 1, 0); /* the ports and the sequence number only */
		CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
		CHECK_EQ(st[WEIR_DF_TINY], 1);
		frag4(&f, 8, 8, 1, 0);
		CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
		frag4(&f, 8, 8, 1, 0x5a); /* offset 1 again: data offset and flags rewritten */
		CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
		frag4(&f, 16, L4LEN - 16, 0, 0);
		CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_DONE);
		if (policy == WEIR_OVERLAP_FIRST) {
			check_orig(&out);
		} else {
			CHECK_EQ(out.ip[20 + 12], 0x5a);
			CHECK_EQ(out.ip[20 + 13], 0x5a);
		}
		CHECK_EQ(st[WEIR_DF_OVERLAP_DIFF], 1);
		CHECK_EQ(out.overlap_diff, 1);
		weir_defrag_free(d);
	}
}

/* A fragment that would make the packet longer than 65,535 bytes: the datagram is given up; its
 * bytes go back, and its later fragments fail without being counted again. */
static void test_oversized(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	struct fr f;
	frag4(&f, 0, 24, 1, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	const uint64_t held = st[WEIR_DF_MEM_USED];
	frag4(&f, 65512, 8, 1, 'x'); /* 20 + 65,512 + 8 = 65,540 */
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_FAILED);
	CHECK_EQ(st[WEIR_DF_OVERSIZED], 1);
	CHECK(st[WEIR_DF_MEM_USED] < held);
	frag4(&f, 24, L4LEN - 24, 0, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_FAILED);
	CHECK_EQ(st[WEIR_DF_OVERSIZED], 1);
	frag4(&f, 65504, 8, 0, 'x'); /* 65,532: the largest that fits, in a datagram of its own */
	put16(f.b + 4, 0x4321);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	CHECK_EQ(st[WEIR_DF_OVERSIZED], 1);
	weir_defrag_free(d);
}

/* Middle fragments must be multiples of 8 bytes; the end must not move; a cut capture's bytes are
 * unknown. Each case on a datagram of its own (ids 1, 2, 3). */
static void test_bad(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	struct fr f;
	frag4(&f, 0, 20, 1, 0);
	put16(f.b + 4, 1);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_FAILED);
	CHECK_EQ(st[WEIR_DF_BAD], 1);
	frag4(&f, 32, 32, 0, 0);
	put16(f.b + 4, 2);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag4(&f, 32, 16, 0, 0); /* a second, different end */
	put16(f.b + 4, 2);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_FAILED);
	CHECK_EQ(st[WEIR_DF_BAD], 2);
	frag4(&f, 0, 32, 1, 0);
	put16(f.b + 4, 3);
	f.n -= 4; /* the capture cut it */
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_FAILED);
	CHECK_EQ(st[WEIR_DF_BAD], 3);
	weir_defrag_free(d);
}

/* A datagram incomplete past the timeout is given up: its last fragment then starts a new one. */
static void test_timeout(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	struct fr f;
	frag4(&f, 0, 32, 1, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag4(&f, 32, 32, 0, 0);
	CHECK_EQ(add(d, &f, SEC + 30 * SEC, &out), WEIR_FRAG_HELD);
	CHECK_EQ(st[WEIR_DF_TIMEOUTS], 1);
	frag4(&f, 0, 32, 1, 0); /* within the timeout of the new one: completes it */
	CHECK_EQ(add(d, &f, SEC + 59 * SEC, &out), WEIR_FRAG_DONE);
	check_orig(&out);
	weir_defrag_free(d);
}

/* The memory cap: first fragments of many datagrams (ids differ); the oldest are evicted, counted,
 * and the memory held never passes the cap. */
static void test_memcap(void)
{
	uint64_t st[WEIR_DF_COUNT];
	const uint64_t cap = 16384;
	struct weir_defrag *d = mk(st, cap, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	struct fr f;
	for (unsigned id = 0; id < 40; id++) {
		frag4(&f, 0, 32, 1, 0);
		put16(f.b + 4, id);
		f.p.frame = f.b;
		CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
		CHECK(st[WEIR_DF_MEM_USED] <= cap);
	}
	CHECK(st[WEIR_DF_EVICTED] > 0);
	CHECK(st[WEIR_DF_EVICTED] < 40);
	CHECK(st[WEIR_DF_MEM_PEAK] <= cap);
	frag4(&f, 32, 32, 0, 0);
	put16(f.b + 4, 0); /* the oldest was evicted: its end alone is held */
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag4(&f, 32, 32, 0, 0);
	put16(f.b + 4, 39); /* the newest is still there */
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_DONE);
	weir_defrag_free(d);
}

/* One fragment more than the cap gives the datagram up; the rest of its fragments fail too (inline
 * they are dropped, none sent on uninspected) until its timeout, after which the id is new. */
static void test_too_many(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 4, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	struct fr f;
	for (unsigned i = 0; i < 4; i++) {
		frag4(&f, 8 * i, 8, 1, 0);
		CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	}
	frag4(&f, 32, 8, 1, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_FAILED);
	CHECK_EQ(st[WEIR_DF_TOO_MANY], 1);
	frag4(&f, 40, L4LEN - 40, 0, 0);
	CHECK_EQ(add(d, &f, 2 * SEC, &out), WEIR_FRAG_FAILED);
	CHECK_EQ(st[WEIR_DF_TOO_MANY], 1);
	CHECK_EQ(add(d, &f, 31 * SEC, &out), WEIR_FRAG_HELD); /* the tombstone timed out */
	CHECK_EQ(st[WEIR_DF_TIMEOUTS], 0);                    /* (not counted again) */
	weir_defrag_free(d);
}

/* The same fragments on two VLANs are two datagrams; a UDP fragment is not reassembled. */
static void test_keys(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	struct fr f;
	frag4(&f, 0, 32, 1, 0);
	f.p.vlan[0] = 10;
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag4(&f, 32, 32, 0, 0);
	f.p.vlan[0] = 20;
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag4(&f, 32, 32, 0, 0);
	f.p.vlan[0] = 10;
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_DONE);
	frag4(&f, 0, 32, 1, 0);
	f.b[9] = 17;
	CHECK_EQ(weir_parse(&f.p, f.b, f.n, f.n, WEIR_DLT_RAW, NULL), WEIR_PARSE_FRAGMENT);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_NOT_TCP);
	CHECK_EQ(st[WEIR_DF_NOT_TCP], 1);
	weir_defrag_free(d);
}

/* IPv6: a hop-by-hop and a destination-options header before the fragment header. The rebuilt
 * packet keeps them, the destination options now name TCP, the payload length covers it all. */
static unsigned frag6(uint8_t *b, unsigned off, unsigned len, int mf, uint32_t id)
{
	memset(b, 0, 40 + 16 + 8);
	b[0] = 0x60;
	b[6] = 0; /* hop-by-hop */
	b[7] = 64;
	b[8] = 1;   /* ::1 */
	b[23] = 1;  /* source ::1 */
	b[39] = 2;  /* destination ::2 */
	b[40] = 60; /* hop-by-hop: next is destination options, length 0 (8 bytes), PadN */
	b[42] = 1;
	b[43] = 4;
	b[48] = 44; /* destination options: next is the fragment header */
	b[50] = 1;
	b[51] = 4;
	b[56] = 6; /* fragment header: next is TCP */
	put16(b + 58, off | (mf ? 1 : 0));
	put16(b + 60, id >> 16);
	put16(b + 62, id & 0xffff);
	memcpy(b + 64, orig + 20 + off, len);
	put16(b + 4, 16 + 8 + len);
	return 64 + len;
}

static void test_ipv6(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	uint8_t b[2][160];
	struct weir_pkt p[2];
	const unsigned n0 = frag6(b[0], 0, 32, 1, 0xabcdef01),
	               n1 = frag6(b[1], 32, 32, 0, 0xabcdef01);
	CHECK_EQ(weir_parse(&p[0], b[0], n0, n0, WEIR_DLT_RAW, NULL), WEIR_PARSE_FRAGMENT);
	CHECK_EQ(weir_parse(&p[1], b[1], n1, n1, WEIR_DLT_RAW, NULL), WEIR_PARSE_FRAGMENT);
	p[0].frame = b[0];
	p[1].frame = b[1];
	CHECK_EQ(weir_defrag_add(d, &p[1], n1, SEC, &out), WEIR_FRAG_HELD);
	CHECK_EQ(weir_defrag_add(d, &p[0], n0, SEC, &out), WEIR_FRAG_DONE);
	CHECK_EQ(out.ip_ver, 6);
	CHECK_EQ(out.len, 40 + 16 + L4LEN);
	CHECK_EQ(out.ip[4] << 8 | out.ip[5], 16 + L4LEN);
	CHECK_EQ(out.ip[48], 6); /* destination options now name TCP */
	CHECK_MEM(out.ip + 56, orig + 20, L4LEN);
	struct weir_pkt q;
	CHECK_EQ(weir_parse(&q, out.ip, out.len, out.len, WEIR_DLT_IPV6, NULL), WEIR_PARSE_TCP);
	CHECK_EQ(q.sport, 40000);
	CHECK_EQ(q.dport, 80);
	CHECK_EQ(q.payload_len, L4LEN - 20);
	weir_defrag_free(d);
}

/* Atomic fragments (offset 0, no more; RFC 6946) are whole packets, never merged with a datagram
 * of the same id: here one arrives while a fragment of that id is held. */
static void test_atomic(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_defrag *d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_defrag_dgram out;
	uint8_t b[2][160];
	struct weir_pkt p[2];
	const unsigned n0 = frag6(b[0], 32, 32, 0, 7), n1 = frag6(b[1], 0, L4LEN, 1, 7);
	CHECK_EQ(weir_parse(&p[0], b[0], n0, n0, WEIR_DLT_RAW, NULL), WEIR_PARSE_FRAGMENT);
	CHECK_EQ(weir_parse(&p[1], b[1], n1, n1, WEIR_DLT_RAW, NULL), WEIR_PARSE_FRAGMENT);
	p[0].frame = b[0];
	p[1].frame = b[1];
	CHECK_EQ(weir_defrag_add(d, &p[0], n0, SEC, &out), WEIR_FRAG_HELD);
	b[1][59] = 0; /* M cleared after decoding: now atomic */
	CHECK_EQ(weir_defrag_add(d, &p[1], n1, SEC, &out), WEIR_FRAG_DONE);
	CHECK_EQ(out.len, 40 + 16 + L4LEN);
	CHECK_EQ(out.ip[48], 6);
	CHECK_EQ(st[WEIR_DF_OVERLAPS], 0);
	CHECK(st[WEIR_DF_MEM_USED] > 0); /* the held fragment is still there */
	struct fr f;
	frag4(&f, 0, L4LEN, 1, 0);
	f.b[6] = 0; /* IPv4 too */
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_DONE);
	check_orig(&out);
	weir_defrag_free(d);
}

/* An IPv4 datagram of protocol proto with orig's addresses and id around the n bytes at l4 (which
 * may be b + 20): its length. */
static unsigned dgram4(uint8_t *b, uint8_t proto, const uint8_t *l4, unsigned n)
{
	memmove(b + 20, l4, n);
	memcpy(b, orig, 20);
	put16(b + 2, 20 + n);
	b[9] = proto;
	put16(b + 10, 0);
	put16(b + 10, ~sum16(b, 20) & 0xffff);
	return 20 + n;
}

/* A UDP datagram from port 53 to 5353 with 32 bytes of payload (no checksum), or to the GTP-U
 * port with a G-PDU header around orig when gtp. Its length. */
static unsigned udp4(uint8_t *b, int gtp)
{
	uint8_t u[8 + 8 + sizeof(orig)];
	const unsigned n = gtp ? sizeof(u) : 8 + 32;
	memset(u, 0, sizeof(u));
	put16(u, gtp ? WEIR_TUN_PORT_GTPU : 53);
	put16(u + 2, gtp ? WEIR_TUN_PORT_GTPU : 5353);
	put16(u + 4, n);
	if (gtp) {
		u[8] = 0x30; /* version 1, PT: GTP */
		u[9] = 0xff; /* G-PDU */
		put16(u + 10, sizeof(orig));
		memcpy(u + 12, "\0\0\0\x2a", 4); /* TEID */
		memcpy(u + 16, orig, sizeof(orig));
	} else {
		memset(u + 8, 'd', 32);
	}
	return dgram4(b, 17, u, n);
}

/* A defragmenter whose config c decapsulates tunnels (GTP-U on its port). */
static struct weir_defrag *mk_tunnels(uint64_t *st, struct weir_config *c)
{
	*c = cfg_of(1 << 20, 64, WEIR_OVERLAP_FIRST);
	c->tunnel_depth = WEIR_TUN_MAX_DEPTH;
	c->gtpu_port = WEIR_TUN_PORT_GTPU;
	memset(st, 0, WEIR_DF_COUNT * sizeof(*st));
	struct weir_defrag *d = weir_defrag_create(c, st);
	CHECK(d != NULL);
	return d;
}

/* Tunnels decapsulated: the fragments of a UDP datagram are reassembled, and a plain one is a
 * packet that is not TCP; with tunnels off they carry nothing weir decodes, as ICMP never does. */
static void test_udp(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_config c;
	struct weir_defrag *d = mk_tunnels(st, &c);
	struct weir_defrag_dgram out;
	uint8_t dg[128];
	const unsigned n = udp4(dg, 0);
	struct fr f;
	frag_of(&f, dg, 0, 16, 1);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	CHECK_EQ(st[WEIR_DF_TINY], 0); /* shorter than a TCP header, but not TCP */
	frag_of(&f, dg, 16, n - 36, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_DONE);
	CHECK_EQ(out.len, n);
	CHECK_MEM(out.ip, dg, n);
	struct weir_pkt q;
	CHECK_EQ(weir_parse_cfg(&q, out.ip, out.len, out.len, WEIR_DLT_IPV4, &c, NULL),
	         WEIR_PARSE_OTHER);
	CHECK_EQ(q.l4proto, 17);
	CHECK_EQ(st[WEIR_DF_REASSEMBLED], 1);
	CHECK_EQ(st[WEIR_DF_NOT_TCP], 0);
	/* ICMP (an echo request) is never reassembled. */
	const uint8_t echo[24] = {8};
	const unsigned ni = dgram4(dg, 1, echo, sizeof(echo));
	frag_of(&f, dg, 0, 16, 1);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_NOT_TCP);
	frag_of(&f, dg, 16, ni - 36, 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_NOT_TCP);
	CHECK_EQ(st[WEIR_DF_NOT_TCP], 2);
	CHECK_EQ(st[WEIR_DF_MEM_USED], 0);
	weir_defrag_free(d);
	/* Tunnels off: UDP is not reassembled either. */
	d = mk(st, 1 << 20, 64, WEIR_OVERLAP_FIRST);
	udp4(dg, 0);
	frag_of(&f, dg, 0, 16, 1);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_NOT_TCP);
	CHECK_EQ(st[WEIR_DF_NOT_TCP], 1);
	weir_defrag_free(d);
}

/* A TCP segment in GTP-U whose outer UDP datagram came in fragments (the first one holding only
 * the UDP and GTP-U headers, the last one first): reassembled, the decoder takes the tunnel off
 * and finds orig's segment. */
static void test_tunnel(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_config c;
	struct weir_defrag *d = mk_tunnels(st, &c);
	struct weir_defrag_dgram out;
	uint8_t dg[160];
	const unsigned n = udp4(dg, 1);
	struct weir_pkt q;
	CHECK_EQ(weir_parse_cfg(&q, dg, n, n, WEIR_DLT_IPV4, &c, NULL), WEIR_PARSE_TCP);
	static const unsigned cuts[] = {0, 16, 56};
	struct fr f;
	frag_of(&f, dg, cuts[2], n - 20 - cuts[2], 0);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag_of(&f, dg, cuts[1], cuts[2] - cuts[1], 1);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_HELD);
	frag_of(&f, dg, cuts[0], cuts[1] - cuts[0], 1);
	CHECK_EQ(add(d, &f, SEC, &out), WEIR_FRAG_DONE);
	CHECK_EQ(out.len, n);
	CHECK_EQ(weir_parse_cfg(&q, out.ip, out.len, out.len, WEIR_DLT_IPV4, &c, NULL),
	         WEIR_PARSE_TCP);
	CHECK_EQ(q.tun_depth, 1);
	CHECK_EQ(q.tun_type, WEIR_TUN_GTPU);
	CHECK_EQ(q.sport, 40000);
	CHECK_EQ(q.dport, 80);
	CHECK_EQ(q.seq, 0x01000000u);
	CHECK_EQ(q.payload_len, L4LEN - 20);
	CHECK_MEM(q.payload, orig + 40, L4LEN - 20);
	CHECK_EQ(st[WEIR_DF_REASSEMBLED], 1);
	CHECK_EQ(st[WEIR_DF_TINY], 0);
	weir_defrag_free(d);
}

static void test_args(void)
{
	uint64_t st[WEIR_DF_COUNT];
	struct weir_config c = cfg_of(1 << 20, 64, WEIR_OVERLAP_FIRST);
	struct weir_config bad[4] = {c, c, c, c};
	bad[0].defrag_memcap = 0;
	bad[1].defrag_timeout_ms = 0;
	bad[2].defrag_max_frags = 0;
	bad[3].defrag_overlap = 2;
	for (unsigned i = 0; i < 4; i++) {
		errno = 0;
		CHECK(weir_defrag_create(&bad[i], st) == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	CHECK(weir_defrag_create(&c, NULL) == NULL);
	weir_defrag_free(NULL);
	struct weir_defrag *d = weir_defrag_create(&c, st);
	struct weir_defrag_dgram out;
	CHECK_EQ(weir_defrag_add(d, NULL, 0, 0, &out), WEIR_FRAG_FAILED);
	weir_defrag_free(d);
}

int main(void)
{
	make_orig();
	test_orders();
	test_duplicate();
	test_overlap_shapes();
	test_tiny();
	test_oversized();
	test_bad();
	test_timeout();
	test_memcap();
	test_too_many();
	test_keys();
	test_ipv6();
	test_atomic();
	test_udp();
	test_tunnel();
	test_args();
	return UNIT_DONE();
}
