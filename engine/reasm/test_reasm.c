/* test_reasm.c — stream reassembly tests: ordering, overlaps, gaps, wrap-around, limits, model. */
#include "reasm/reasm.h"

#include <errno.h>
#include <stdlib.h>

#include "unit.h"

/* Memory cap for tests that do not exercise the cap: far above any ring used here. */
#define TEST_MEMCAP (64ull << 20)
/* Ring size of most tests: small enough to hit the edges with short segments. */
#define CAP 64

struct fix {
	struct weir_mem m;
	struct weir_stream s;
	uint32_t isn;
};

static void fix_init(struct fix *f, uint32_t cap, uint8_t policy, uint32_t seq0)
{
	CHECK_EQ(weir_mem_init(&f->m, TEST_MEMCAP), 0);
	weir_stream_init(&f->s, cap, policy, true);
	weir_stream_start(&f->s, seq0);
	f->isn = seq0;
}

/* As a flow's end does: the flush delivers what is held, then all memory goes back. */
static void fix_fini(struct fix *f)
{
	struct weir_reasm_res r;
	weir_stream_flush(&f->s, &r);
	weir_stream_fini(&f->s, &f->m);
	CHECK(f->s.frags == NULL && f->s.ring == NULL);
	CHECK_EQ(f->m.used, 0);
	weir_mem_fini(&f->m);
}

/* Adds bytes at stream offset off. */
static struct weir_reasm_res put(struct fix *f, uint64_t off, const void *data, uint32_t len)
{
	struct weir_reasm_res r;
	weir_stream_add(&f->s, &f->m, f->isn + (uint32_t)off, data, len, &r);
	return r;
}

static struct weir_reasm_res ack(struct fix *f, uint64_t off)
{
	struct weir_reasm_res r;
	weir_stream_ack(&f->s, f->isn + (uint32_t)off, &r);
	return r;
}

/* The stream's own invariants, checked after every step of the model tests. */
static void check_invariants(const struct weir_stream *s)
{
	CHECK_EQ(s->next, s->delivered + s->gap_bytes);
	CHECK(s->base <= s->next);
	CHECK(s->nfrags <= WEIR_REASM_MAX_FRAGS);
	uint64_t prev_end = s->next;
	for (unsigned k = 0; k < s->nfrags; k++) {
		CHECK(s->frags[k].len > 0);
		CHECK(s->frags[k].off > prev_end); /* disjoint, not touching, above next */
		prev_end = s->frags[k].off + s->frags[k].len;
	}
	if (s->buffering && s->ring)
		CHECK(prev_end <= s->base + s->cap);
}

static void test_not_started(void)
{
	struct weir_mem m;
	struct weir_stream s;
	struct weir_reasm_res r;
	CHECK_EQ(weir_mem_init(&m, TEST_MEMCAP), 0);
	weir_stream_init(&s, CAP, WEIR_OVERLAP_FIRST, true);
	memset(&r, 0xff, sizeof(r));
	weir_stream_add(&s, &m, 100, (const uint8_t *)"abc", 3, &r);
	CHECK_EQ(r.delivered, 0);
	CHECK_EQ(r.old_data, 0);
	CHECK_EQ(r.memfail, 0);
	CHECK_EQ(s.next, 0);
	CHECK_EQ(s.last, 0);
	CHECK(s.ring == NULL);
	memset(&r, 0xff, sizeof(r));
	weir_stream_ack(&s, 200, &r);
	CHECK_EQ(r.gap, 0);
	CHECK_EQ(s.gap_bytes, 0);
	weir_stream_start(&s, 100);
	weir_stream_start(&s, 5000); /* idempotent */
	CHECK_EQ(s.seq0, 100);
	weir_stream_add(&s, &m, 100, (const uint8_t *)"abc", 3, &r);
	CHECK_EQ(r.delivered, 3);
	/* zero-length and NULL data do nothing */
	weir_stream_add(&s, &m, 103, (const uint8_t *)"x", 0, &r);
	CHECK_EQ(r.delivered, 0);
	weir_stream_add(&s, &m, 110, NULL, 5, &r);
	CHECK_EQ(r.ooo, 0);
	CHECK_EQ(s.last, 3);
	CHECK_EQ(s.ooo_pkts, 0);
	weir_stream_release(&s, &m);
	weir_stream_release(&s, &m); /* twice is harmless */
	CHECK_EQ(m.used, 0);
	weir_mem_fini(&m);
}

static void test_in_order(void)
{
	struct fix f;
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 1000);
	CHECK(f.s.ring == NULL); /* lazily allocated */
	struct weir_reasm_res r = put(&f, 0, "hello ", 6);
	CHECK(f.s.ring != NULL);
	CHECK_EQ(f.m.used, CAP);
	CHECK_EQ(r.delivered, 6);
	CHECK_EQ(r.ooo, 0);
	CHECK_EQ(r.old_data, 0);
	r = put(&f, 6, "world", 5);
	CHECK_EQ(r.delivered, 5);
	CHECK_EQ(f.s.next, 11);
	CHECK_EQ(f.s.last, 11);
	CHECK_EQ(f.s.delivered, 11);
	CHECK_EQ(f.s.base, 0);
	char buf[32] = {0};
	CHECK_EQ(weir_stream_peek(&f.s, 0, buf, sizeof(buf)), 11);
	CHECK_STR(buf, "hello world");
	CHECK_EQ(weir_stream_peek(&f.s, 6, buf, 3), 3);
	CHECK_MEM(buf, "wor", 3);
	CHECK_EQ(weir_stream_peek(&f.s, 11, buf, 3), 0);
	CHECK_EQ(weir_stream_peek(&f.s, 50, buf, 3), 0);
	const uint8_t *p = NULL;
	CHECK_EQ(weir_stream_view(&f.s, 2, &p), 9);
	CHECK(p && memcmp(p, "llo world", 9) == 0);
	CHECK_EQ(weir_stream_view(&f.s, 11, &p), 0);
	CHECK_EQ(weir_stream_held(&f.s), 0);
	CHECK_EQ(weir_stream_frags(&f.s, NULL, 0), 0);
	CHECK_EQ(weir_stream_offset(&f.s, 1000), 0);
	CHECK_EQ(weir_stream_offset(&f.s, 1011), 11);
	CHECK_EQ(weir_stream_offset(&f.s, 999), -1);
	fix_fini(&f);
}

/* The 4-segment reordering helpers: a 40-byte stream cut into 4 pieces. */
static void fill_pattern(uint8_t *buf, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((off + i) % 251 + 1);
}

/* Sends the segments in the order perm and checks content, delivery and counters. */
static void run_perm(const uint32_t seg[4][2], const int perm[4], bool overlapping)
{
	uint8_t src[40], out[40];
	fill_pattern(src, sizeof(src), 0);
	for (int pol = 0; pol < 2; pol++) {
		struct fix f;
		fix_init(&f, CAP, (uint8_t)pol, 0xfffffff0u); /* also crosses the 2^32 wrap */
		uint64_t delivered = 0;
		unsigned ooo = 0;
		for (int k = 0; k < 4; k++) {
			const uint32_t *sg = seg[perm[k]];
			uint64_t before = f.s.next;
			struct weir_reasm_res r = put(&f, sg[0], src + sg[0], sg[1]);
			delivered += r.delivered;
			ooo += r.ooo;
			CHECK_EQ(r.ooo, sg[0] > before);
			CHECK_EQ(r.rexmit_diff, 0);
			CHECK_EQ(r.overlap_diff, 0);
			CHECK_EQ(r.outrun, 0);
			if (!overlapping)
				CHECK_EQ(r.overlap, 0);
			check_invariants(&f.s);
		}
		CHECK_EQ(delivered, 40);
		CHECK_EQ(f.s.next, 40);
		CHECK_EQ(f.s.ooo_pkts, ooo);
		CHECK_EQ(f.s.nfrags, 0);
		CHECK_EQ(f.s.overlap_diff, 0);
		memset(out, 0, sizeof(out));
		CHECK_EQ(weir_stream_peek(&f.s, 0, out, sizeof(out)), 40);
		CHECK_MEM(out, src, 40);
		fix_fini(&f);
	}
}

static bool next_perm(int *a, int n)
{
	int i = n - 2;
	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	int j = n - 1;
	while (a[j] <= a[i])
		j--;
	int t = a[i];
	a[i] = a[j];
	a[j] = t;
	for (int l = i + 1, r = n - 1; l < r; l++, r--) {
		t = a[l];
		a[l] = a[r];
		a[r] = t;
	}
	return true;
}

static void test_permutations(void)
{
	static const uint32_t plain[4][2] = {{0, 10}, {10, 10}, {20, 10}, {30, 10}};
	static const uint32_t overl[4][2] = {{0, 14}, {8, 15}, {18, 12}, {25, 15}};
	int perm[4] = {0, 1, 2, 3};
	int n = 0;
	do {
		run_perm(plain, perm, false);
		run_perm(overl, perm, true);
		n++;
	} while (next_perm(perm, 4));
	CHECK_EQ(n, 24);
}

/* Overlap of one new segment against held range(s), then the hole at [0, 5) is filled. */
struct ov_case {
	const char *name;
	uint32_t off, len; /* the new segment */
	unsigned overlap;  /* expected res.overlap */
	unsigned nfrags_after;
};

static void run_overlap_case(const struct ov_case *c, uint8_t policy, bool differ)
{
	/* Held: [10,20) = 'A' and [30,40) = 'B'. New: 'a'.. (differs) or the same letters; 'n'
	 * where nothing was held. Then [0,5) fills the hole at the start. */
	uint8_t want[64], seg[64];
	memset(want, '.', sizeof(want));
	struct fix f;
	fix_init(&f, CAP, policy, 7);
	uint8_t held1[10], held2[10];
	memset(held1, 'A', 10);
	memset(held2, 'B', 10);
	struct weir_reasm_res r = put(&f, 10, held1, 10);
	CHECK_EQ(r.ooo, 1);
	r = put(&f, 30, held2, 10);
	CHECK_EQ(f.s.nfrags, 2);
	CHECK_EQ(weir_stream_held(&f.s), 20);
	memset(want + 10, 'A', 10);
	memset(want + 30, 'B', 10);
	bool any_diff = false;
	for (uint32_t i = 0; i < c->len; i++) {
		uint32_t o = c->off + i;
		uint8_t same = want[o];
		uint8_t b = (uint8_t)(same == '.' ? 'n' : (differ ? same + 32 : same));
		seg[i] = b;
		if (same != '.' && b != same)
			any_diff = true;
	}
	r = put(&f, c->off, seg, c->len);
	CHECK_EQ(r.ooo, 1);
	CHECK_EQ(r.overlap, c->overlap);
	CHECK_EQ(r.overlap_diff, any_diff);
	CHECK_EQ(f.s.overlaps, c->overlap);
	CHECK_EQ(f.s.overlap_diff, any_diff);
	CHECK_EQ(f.s.nfrags, c->nfrags_after);
	CHECK_EQ(r.delivered, 0);
	for (uint32_t i = 0; i < c->len; i++) {
		uint32_t o = c->off + i;
		if (want[o] == '.' || policy == WEIR_OVERLAP_LAST)
			want[o] = seg[i];
	}
	uint8_t head[5];
	memset(head, 'h', sizeof(head));
	memset(want, 'h', sizeof(head));
	r = put(&f, 0, head, sizeof(head));
	uint64_t end = c->off + c->len > 40 ? c->off + c->len : 40;
	/* from 0: delivered up to the first byte nobody sent */
	uint64_t contig = 0;
	while (contig < end && want[contig] != '.')
		contig++;
	CHECK_EQ(r.delivered, contig);
	CHECK_EQ(f.s.next, contig);
	weir_stream_flush(&f.s, &r);
	CHECK_EQ(f.s.next, end);
	CHECK_EQ(f.s.nfrags, 0);
	uint8_t out[64];
	uint64_t base = f.s.base;
	for (uint64_t k = 0; k < end; k++) /* holes skipped by the flush read as zeros */
		if (want[k] == '.')
			want[k] = 0;
	CHECK_EQ(weir_stream_peek(&f.s, base, out, sizeof(out)), end - base);
	CHECK_MEM(out, want + base, end - base);
	if (memcmp(out, want + base, end - base) != 0)
		fprintf(stderr, "  case %s policy %u differ %d\n", c->name, policy, differ);
	fix_fini(&f);
}

static void test_overlap_cases(void)
{
	static const struct ov_case cases[] = {
	    {"exact", 10, 10, 1, 2},
	    {"before-inside", 5, 10, 1, 2},
	    {"inside-after", 15, 10, 1, 2},
	    {"inside", 12, 5, 1, 2},
	    {"covers-both", 8, 34, 1, 1},
	    {"covers-both-exact", 10, 30, 1, 1},
	    {"adjacent-after", 20, 5, 0, 2},
	    {"adjacent-before", 5, 5, 0, 2},
	    {"bridges-adjacent", 20, 10, 0, 1},
	    {"disjoint", 22, 4, 0, 3},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		for (int pol = 0; pol < 2; pol++)
			for (int differ = 0; differ < 2; differ++)
				run_overlap_case(&cases[k], (uint8_t)pol, differ);
}

/* An in-order segment that covers held bytes: the policy also applies at delivery. */
static void test_overlap_in_order(void)
{
	for (int pol = 0; pol < 2; pol++) {
		struct fix f;
		fix_init(&f, CAP, (uint8_t)pol, 0);
		put(&f, 4, "XYZ", 3);
		struct weir_reasm_res r = put(&f, 0, "abcdefgh", 8);
		CHECK_EQ(r.ooo, 0);
		CHECK_EQ(r.overlap, 1);
		CHECK_EQ(r.overlap_diff, 1);
		CHECK_EQ(r.delivered, 8);
		char out[9] = {0};
		CHECK_EQ(weir_stream_peek(&f.s, 0, out, 8), 8);
		CHECK_STR(out, pol == WEIR_OVERLAP_FIRST ? "abcdXYZh" : "abcdefgh");
		/* a repeat of the same bytes (delivered now) is a retransmission, not an overlap */
		r = put(&f, 4, pol == WEIR_OVERLAP_FIRST ? "XYZ" : "efg", 3);
		CHECK_EQ(r.old_data, 1);
		CHECK_EQ(r.rexmit_diff, 0);
		CHECK_EQ(r.overlap, 0);
		CHECK_EQ(f.s.overlaps, 1);
		fix_fini(&f);
	}
}

/* The segment counters are 32 bits (a stream is part of every flow entry): past UINT32_MAX
 * they stay there instead of wrapping to 0. */
static void test_counters_saturate(void)
{
	CHECK_EQ(sizeof(struct weir_stream), 96);
	struct fix f;
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 0);
	f.s.ooo_pkts = f.s.overlaps = f.s.overlap_diff = UINT32_MAX - 1;
	put(&f, 8, "ijkl", 4);
	CHECK_EQ(f.s.ooo_pkts, UINT32_MAX);
	put(&f, 10, "KLmn", 4); /* ahead again, overlapping the held "kl" with different bytes */
	CHECK_EQ(f.s.ooo_pkts, UINT32_MAX);
	CHECK_EQ(f.s.overlaps, UINT32_MAX);
	CHECK_EQ(f.s.overlap_diff, UINT32_MAX);
	put(&f, 12, "MNop", 4); /* the held "mn" again, differing */
	CHECK_EQ(f.s.ooo_pkts, UINT32_MAX);
	CHECK_EQ(f.s.overlaps, UINT32_MAX);
	CHECK_EQ(f.s.overlap_diff, UINT32_MAX);
	fix_fini(&f);
}

static void test_rexmit(void)
{
	struct fix f;
	fix_init(&f, 16, WEIR_OVERLAP_FIRST, 0x7ffffffe);
	put(&f, 0, "0123456789", 10);
	struct weir_reasm_res r = put(&f, 2, "234", 3);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.rexmit_diff, 0);
	CHECK_EQ(r.delivered, 0);
	CHECK_EQ(r.ooo, 0);
	r = put(&f, 2, "2X4", 3);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.rexmit_diff, 1);
	char out[16] = {0};
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, 10), 10);
	CHECK_STR(out, "0123456789"); /* delivered bytes never change */
	/* partially old: identical old part, new tail delivered */
	r = put(&f, 8, "89ab", 4);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.rexmit_diff, 0);
	CHECK_EQ(r.delivered, 2);
	CHECK_EQ(f.s.next, 12);
	/* partially old with a different old part */
	r = put(&f, 10, "Zbcd", 4);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.rexmit_diff, 1);
	CHECK_EQ(r.delivered, 2);
	memset(out, 0, sizeof(out));
	CHECK_EQ(weir_stream_peek(&f.s, 10, out, 4), 4);
	CHECK_STR(out, "abcd");
	/* ring of 16 after 14 bytes: base still 0; 8 more slide it to 6 */
	r = put(&f, 14, "efghijkl", 8);
	CHECK_EQ(r.delivered, 8);
	CHECK_EQ(f.s.base, 6);
	CHECK_EQ(weir_stream_peek(&f.s, 5, out, 4), -ENODATA);
	/* entirely below base: counted as old, cannot be compared */
	r = put(&f, 0, "QQQQQ", 5);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.rexmit_diff, 0);
	/* straddling base: only the held part is compared */
	r = put(&f, 4, "QQ6789", 6);
	CHECK_EQ(r.rexmit_diff, 0);
	r = put(&f, 4, "QQ67x9", 6);
	CHECK_EQ(r.rexmit_diff, 1);
	/* before offset 0 (seq below seq0) */
	r = put(&f, (uint64_t)-3, "abc", 3);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.delivered, 0);
	CHECK_EQ(f.s.next, 22);
	CHECK_EQ(f.s.last, 22);
	fix_fini(&f);
}

static void test_ack_gaps(void)
{
	struct fix f;
	char out[64];
	/* leading gap: nothing seen, the receiver acks 100 bytes */
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 5);
	struct weir_reasm_res r = ack(&f, 100);
	CHECK_EQ(r.gap, 100);
	CHECK_EQ(r.delivered, 0);
	CHECK_EQ(f.s.next, 100);
	CHECK_EQ(f.s.gap_bytes, 100);
	CHECK_EQ(f.s.base, 100);
	r = put(&f, 100, "abc", 3);
	CHECK_EQ(r.delivered, 3);
	CHECK_EQ(weir_stream_peek(&f.s, 99, out, 3), -ENODATA);
	CHECK_EQ(weir_stream_peek(&f.s, 100, out, 3), 3);
	CHECK_MEM(out, "abc", 3);
	/* an ack at or below next does nothing */
	r = ack(&f, 103);
	CHECK_EQ(r.gap, 0);
	r = ack(&f, 50);
	CHECK_EQ(r.gap, 0);
	CHECK_EQ(f.s.next, 103);
	/* absurd ack: more than 1 GiB beyond what was seen */
	r = ack(&f, 103 + (1u << 30) + 1);
	CHECK_EQ(r.gap, 0);
	CHECK_EQ(f.s.next, 103);
	fix_fini(&f);

	/* middle gap with held ranges: [0,10) delivered, [20,30) and [40,50) held */
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 0xffffffffu);
	put(&f, 0, "0123456789", 10);
	put(&f, 20, "KLMNOPQRST", 10);
	put(&f, 40, "klmnopqrst", 10);
	r = ack(&f, 15); /* inside the first hole: skipped bytes read as zeros, one run from base */
	CHECK_EQ(r.gap, 5);
	CHECK_EQ(r.delivered, 0);
	CHECK_EQ(f.s.next, 15);
	CHECK_EQ(f.s.base, 0);
	CHECK_EQ(weir_stream_peek(&f.s, 5, out, 10), 10);
	CHECK_MEM(out, "56789\0\0\0\0\0", 10);
	r = ack(&f, 25); /* skips [15,20), delivers the held range it reaches */
	CHECK_EQ(r.gap, 5);
	CHECK_EQ(r.delivered, 10);
	CHECK_EQ(f.s.next, 30);
	CHECK_EQ(f.s.base, 0);
	CHECK_EQ(weir_stream_peek(&f.s, 18, out, sizeof(out)), 12);
	CHECK_MEM(out, "\0\0KLMNOPQRST", 12);
	put(&f, 30, "uvw", 3);
	r = ack(&f, 45); /* gap [33,40), held [40,50) delivered whole */
	CHECK_EQ(r.gap, 7);
	CHECK_EQ(r.delivered, 10);
	CHECK_EQ(f.s.next, 50);
	CHECK_EQ(f.s.gap_bytes, 17);
	CHECK_EQ(f.s.delivered, 33);
	CHECK_EQ(f.s.nfrags, 0);
	r = ack(&f, 60); /* past everything held: the rest is a gap */
	CHECK_EQ(r.gap, 10);
	CHECK_EQ(f.s.next, 60);
	CHECK_EQ(weir_stream_peek(&f.s, 59, out, 1), 1);
	CHECK_EQ(out[0], 0);
	CHECK_EQ(weir_stream_peek(&f.s, 60, out, 1), 0);
	/* an ack exactly at a held range's start, then the range is contiguous */
	put(&f, 70, "xyz", 3);
	r = ack(&f, 70);
	CHECK_EQ(r.gap, 10);
	CHECK_EQ(r.delivered, 3);
	CHECK_EQ(f.s.next, 73);
	CHECK_EQ(f.s.next, f.s.delivered + f.s.gap_bytes);
	fix_fini(&f);
}

static void test_flush(void)
{
	struct fix f;
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 0);
	struct weir_reasm_res r;
	weir_stream_flush(&f.s, &r); /* nothing held */
	CHECK_EQ(r.gap, 0);
	CHECK_EQ(f.s.next, 0);
	put(&f, 0, "ab", 2);
	put(&f, 5, "fg", 2);
	put(&f, 10, "kl", 2);
	weir_stream_flush(&f.s, &r);
	CHECK_EQ(r.delivered, 4);
	CHECK_EQ(r.gap, 6);
	CHECK_EQ(f.s.next, 12);
	CHECK_EQ(f.s.nfrags, 0);
	CHECK_EQ(f.s.base, 0);
	char out[12];
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, 12), 12);
	CHECK_MEM(out, "ab\0\0\0fg\0\0\0kl", 12);
	fix_fini(&f);
}

static void test_outrun_cap(void)
{
	struct fix f;
	uint8_t buf[200];
	fill_pattern(buf, sizeof(buf), 0);
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 1);
	/* next 0: the ring can hold up to offset 64 */
	struct weir_reasm_res r = put(&f, 50, buf + 50, 50);
	CHECK_EQ(r.ooo, 1);
	CHECK_EQ(r.outrun, 36);
	CHECK_EQ(f.s.outrun_bytes, 36);
	CHECK_EQ(weir_stream_held(&f.s), 14);
	CHECK_EQ(f.s.last, 100);
	r = put(&f, 100, buf + 100, 10); /* wholly beyond */
	CHECK_EQ(r.outrun, 10);
	CHECK_EQ(r.ooo, 1);
	CHECK_EQ(f.s.nfrags, 1);
	/* in-order data is delivered; base slides so that later out-of-order bytes fit */
	r = put(&f, 0, buf, 40);
	CHECK_EQ(r.delivered, 40);
	CHECK_EQ(f.s.next, 40);
	CHECK_EQ(f.s.base, 0);
	r = put(&f, 64, buf + 64, 40); /* up to 104 = next + 64 */
	CHECK_EQ(r.outrun, 0);
	CHECK_EQ(f.s.base, 40);
	CHECK_EQ(f.s.nfrags, 1); /* [50,64) and [64,104) touch: one range */
	CHECK_EQ(weir_stream_peek(&f.s, 39, buf + 150, 1), -ENODATA);
	r = put(&f, 40, buf + 40, 10);
	CHECK_EQ(r.delivered, 64);
	CHECK_EQ(f.s.next, 104);
	uint8_t out[64];
	CHECK_EQ(weir_stream_peek(&f.s, 40, out, 64), 64);
	CHECK_MEM(out, buf + 40, 64);
	/* an in-order segment longer than the ring is delivered whole; the ring keeps its tail */
	r = put(&f, 104, buf + 104, 90);
	CHECK_EQ(r.delivered, 90);
	CHECK_EQ(r.outrun, 0);
	CHECK_EQ(f.s.base, 194 - CAP);
	CHECK_EQ(weir_stream_peek(&f.s, 194 - CAP, out, 64), 64);
	CHECK_MEM(out, buf + 194 - CAP, 64);
	CHECK_EQ(f.s.outrun_bytes, 46);
	fix_fini(&f);
}

static void test_outrun_frags(void)
{
	struct fix f;
	fix_init(&f, 4096, WEIR_OVERLAP_LAST, 0);
	uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	/* 16 disjoint ranges at 10, 20, ... 160 */
	for (unsigned k = 1; k <= WEIR_REASM_MAX_FRAGS; k++)
		put(&f, 10 * k, b, 2);
	CHECK_EQ(f.s.nfrags, WEIR_REASM_MAX_FRAGS);
	struct weir_reasm_res r = put(&f, 200, b, 4);
	CHECK_EQ(r.outrun, 4);
	CHECK_EQ(r.ooo, 1);
	CHECK_EQ(f.s.nfrags, WEIR_REASM_MAX_FRAGS);
	r = put(&f, 5, b, 2); /* disjoint, below the others: also refused */
	CHECK_EQ(r.outrun, 2);
	r = put(&f, 12, b, 3); /* adjacent to [10,12): merged */
	CHECK_EQ(r.outrun, 0);
	CHECK_EQ(r.overlap, 0);
	CHECK_EQ(weir_stream_held(&f.s), 35);
	r = put(&f, 24, b, 4); /* overlaps [20,22)? no: touches nothing, [22,24) is free */
	CHECK_EQ(r.outrun, 4);
	r = put(&f, 21, b, 4); /* overlaps [20,22) */
	CHECK_EQ(r.outrun, 0);
	CHECK_EQ(r.overlap, 1);
	r = put(&f, 15, b, 5); /* bridges [10,15) and [20,25): one range fewer */
	CHECK_EQ(f.s.nfrags, WEIR_REASM_MAX_FRAGS - 1);
	r = put(&f, 200, b, 4); /* room again */
	CHECK_EQ(r.outrun, 0);
	CHECK_EQ(f.s.outrun_bytes, 10);
	/* in-order data needs no slot */
	r = put(&f, 0, b, 4);
	CHECK_EQ(r.delivered, 4);
	check_invariants(&f.s);
	fix_fini(&f);
}

static void test_ring_wrap_view(void)
{
	struct fix f;
	uint8_t buf[64], out[64];
	fill_pattern(buf, sizeof(buf), 0);
	fix_init(&f, 16, WEIR_OVERLAP_FIRST, 0);
	put(&f, 0, buf, 10);
	put(&f, 10, buf + 10, 14);
	CHECK_EQ(f.s.base, 8);
	const uint8_t *p;
	CHECK_EQ(weir_stream_view(&f.s, 8, &p), 8); /* ring slots 8..15 */
	CHECK_MEM(p, buf + 8, 8);
	CHECK_EQ(weir_stream_view(&f.s, 16, &p), 8); /* wrapped to slot 0 */
	CHECK_MEM(p, buf + 16, 8);
	CHECK_EQ(weir_stream_view(&f.s, 20, &p), 4);
	CHECK_MEM(p, buf + 20, 4);
	CHECK_EQ(weir_stream_view(&f.s, 7, &p), -ENODATA);
	CHECK(p == NULL);
	CHECK_EQ(weir_stream_view(&f.s, 24, &p), 0);
	CHECK_EQ(weir_stream_view(&f.s, 8, NULL), -EINVAL);
	CHECK_EQ(weir_stream_peek(&f.s, 8, out, 64), 16);
	CHECK_MEM(out, buf + 8, 16);
	CHECK_EQ(weir_stream_peek(&f.s, 13, out, 6), 6);
	CHECK_MEM(out, buf + 13, 6);
	CHECK_EQ(weir_stream_peek(&f.s, 13, NULL, 6), -EINVAL);
	/* an out-of-order range that wraps in the ring */
	struct weir_reasm_res r = put(&f, 30, buf + 30, 8); /* next 24: up to 40 */
	CHECK_EQ(r.outrun, 0);
	CHECK_EQ(f.s.base, 22);
	r = put(&f, 24, buf + 24, 6);
	CHECK_EQ(r.delivered, 14);
	CHECK_EQ(weir_stream_peek(&f.s, 22, out, 64), 16);
	CHECK_MEM(out, buf + 22, 16);
	fix_fini(&f);
}

/* A 17 GiB stream starting just below 2^32 (so the sequence wraps 5 times), in 4 MiB pieces:
 * most of a piece in order (only the ring's worth is copied), then its tail split in two and
 * sent reordered. The content pattern has a period (251) prime to 2^32. */
#define WRAP_PIECE (4u << 20)
#define WRAP_TAIL  (32u << 10)
#define WRAP_CAP   (64u << 10)
#define WRAP_TOTAL (17ull << 30)

static void test_seq_wrap(void)
{
	struct fix f;
	uint8_t *pat = malloc(WRAP_PIECE + 251), out[4096], want[4096];
	CHECK(pat != NULL);
	if (!pat)
		return;
	fill_pattern(pat, WRAP_PIECE + 251, 0);
	fix_init(&f, WRAP_CAP, WEIR_OVERLAP_FIRST, 0xffffff00u);
	CHECK_EQ(weir_stream_offset(&f.s, 0x10), 0x110);
	CHECK_EQ(weir_stream_offset(&f.s, 0xfffffeffu), -1);
	unsigned bad = 0, crossings = 0;
	const uint32_t body = WRAP_PIECE - WRAP_TAIL, half = WRAP_TAIL / 2;
	for (uint64_t x = 0; x < WRAP_TOTAL; x += WRAP_PIECE) {
		const uint8_t *d = pat + x % 251;
		uint32_t seq = f.isn + (uint32_t)x;
		if (seq + WRAP_PIECE < seq)
			crossings++;
		struct weir_reasm_res r0, r1, r2;
		weir_stream_add(&f.s, &f.m, seq, d, body, &r0);
		weir_stream_add(&f.s, &f.m, seq + body + half, d + body + half, half, &r1);
		weir_stream_add(&f.s, &f.m, seq + body, d + body, half, &r2);
		if (r0.delivered != body || r0.ooo || !r1.ooo || r1.delivered || r1.outrun ||
		    r2.delivered != WRAP_TAIL || r2.ooo)
			bad++;
		if (weir_stream_offset(&f.s, seq + body) != (int64_t)(x + body))
			bad++;
		if (x % (1ull << 30) == 0) { /* spot-check content once per GiB */
			uint64_t at = x + WRAP_PIECE - sizeof(out) - 3;
			fill_pattern(want, sizeof(want), at);
			if (weir_stream_peek(&f.s, at, out, sizeof(out)) != (ssize_t)sizeof(out) ||
			    memcmp(out, want, sizeof(out)) != 0)
				bad++;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(crossings, 5);
	CHECK_EQ(f.s.next, WRAP_TOTAL);
	CHECK_EQ(f.s.delivered, WRAP_TOTAL);
	CHECK_EQ(f.s.ooo_pkts, WRAP_TOTAL / WRAP_PIECE);
	CHECK_EQ(f.s.base, WRAP_TOTAL - WRAP_CAP);
	uint64_t at = WRAP_TOTAL - sizeof(out) - 7;
	fill_pattern(want, sizeof(want), at);
	CHECK_EQ(weir_stream_peek(&f.s, at, out, sizeof(out)), sizeof(out));
	CHECK_MEM(out, want, sizeof(out));
	/* retransmission and ack across the wrap */
	uint32_t seq = f.isn + (uint32_t)at;
	struct weir_reasm_res r;
	weir_stream_add(&f.s, &f.m, seq, want, 100, &r);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.rexmit_diff, 0);
	want[50] ^= 1;
	weir_stream_add(&f.s, &f.m, seq, want, 100, &r);
	CHECK_EQ(r.rexmit_diff, 1);
	r = ack(&f, WRAP_TOTAL + 1000);
	CHECK_EQ(r.gap, 1000);
	CHECK_EQ(f.s.next, WRAP_TOTAL + 1000);
	/* a sequence number 3 GiB behind is read as 1 GiB ahead (nearest to next) */
	CHECK_EQ(weir_stream_offset(&f.s, f.isn + (uint32_t)(WRAP_TOTAL + 1000) - 0xc0000000u),
	         (int64_t)(WRAP_TOTAL + 1000 + 0x40000000ull));
	free(pat);
	fix_fini(&f);
}

static void test_buffering_toggle(void)
{
	struct fix f;
	char out[32];
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 0);
	put(&f, 0, "abcd", 4);
	CHECK_EQ(f.m.used, CAP);
	weir_stream_set_buffering(&f.s, &f.m, false);
	CHECK(f.s.ring == NULL);
	CHECK_EQ(f.m.used, 0);
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, 4), -EINVAL);
	const uint8_t *p;
	CHECK_EQ(weir_stream_view(&f.s, 4, &p), -EINVAL);
	/* ranges are still tracked: held, overlap, delivery, gap */
	struct weir_reasm_res r = put(&f, 8, "ijkl", 4);
	CHECK_EQ(r.ooo, 1);
	CHECK_EQ(weir_stream_held(&f.s), 4);
	r = put(&f, 10, "XXXX", 4);
	CHECK_EQ(r.overlap, 1);
	CHECK_EQ(r.overlap_diff, 0); /* nothing to compare with */
	CHECK_EQ(f.s.overlaps, 1);
	CHECK_EQ(f.s.overlap_diff, 0);
	r = put(&f, 20, "uvwx", 4);
	CHECK_EQ(f.s.nfrags, 2);
	CHECK(f.s.ring == NULL); /* ranges are tracked, no bytes stored */
	CHECK(f.m.used == WEIR_REASM_MAX_FRAGS * sizeof(struct weir_reasm_frag));
	r = put(&f, 2, "cdefgh", 6);
	CHECK_EQ(r.old_data, 1);
	CHECK_EQ(r.rexmit_diff, 0);
	CHECK_EQ(r.delivered, 10);
	CHECK_EQ(f.s.next, 14);
	/* back on while [20,24) is held without bytes: nothing is stored until it is delivered */
	weir_stream_set_buffering(&f.s, &f.m, true);
	CHECK_EQ(f.s.base, 14);
	CHECK_EQ(weir_stream_peek(&f.s, 13, out, 4), -ENODATA);
	CHECK_EQ(weir_stream_peek(&f.s, 14, out, 4), 0);
	r = put(&f, 14, "opqrst", 6);
	CHECK_EQ(r.delivered, 10);
	CHECK_EQ(f.s.next, 24);
	CHECK(f.s.ring == NULL);
	CHECK_EQ(f.s.base, 24);
	CHECK_EQ(weir_stream_peek(&f.s, 20, out, 4), -ENODATA);
	r = put(&f, 24, "yz", 2);
	CHECK(f.s.ring != NULL);
	CHECK_EQ(weir_stream_peek(&f.s, 24, out, 4), 2);
	CHECK_MEM(out, "yz", 2);
	r = put(&f, 24, "yZ", 2);
	CHECK_EQ(r.rexmit_diff, 1);
	/* on while already on changes nothing */
	weir_stream_set_buffering(&f.s, &f.m, true);
	CHECK_EQ(weir_stream_peek(&f.s, 24, out, 4), 2);
	CHECK_EQ(f.s.next, f.s.delivered + f.s.gap_bytes);
	fix_fini(&f);
}

static void test_memcap(void)
{
	struct weir_mem m;
	struct weir_stream s;
	struct weir_reasm_res r;
	const size_t ranges = WEIR_REASM_MAX_FRAGS * sizeof(struct weir_reasm_frag);
	CHECK_EQ(weir_mem_init(&m, ranges + CAP - 1), 0); /* the held ranges fit, a ring does not */
	weir_stream_init(&s, CAP, WEIR_OVERLAP_FIRST, true);
	weir_stream_start(&s, 42);
	weir_stream_add(&s, &m, 42 + 10, (const uint8_t *)"later", 5, &r);
	CHECK_EQ(r.memfail, 1);
	CHECK_EQ(r.ooo, 1);
	CHECK_EQ(s.buffering, 0);
	CHECK(s.ring == NULL);
	CHECK_EQ(m.fail, 1);
	CHECK_EQ(weir_stream_held(&s), 5);
	weir_stream_add(&s, &m, 42, (const uint8_t *)"0123456789", 10, &r);
	CHECK_EQ(r.memfail, 0); /* reported once: the side no longer tries */
	CHECK_EQ(r.delivered, 15);
	CHECK_EQ(s.delivered, 15);
	char out[4];
	CHECK_EQ(weir_stream_peek(&s, 0, out, 4), -EINVAL);
	CHECK_EQ(m.fail, 1);
	CHECK_EQ(m.used, ranges);
	weir_stream_fini(&s, &m);
	CHECK_EQ(m.used, 0);
	/* not even room to hold a range: the segment ahead is outrun (its bytes become a gap when
	 * the peer acknowledges them), the failure counted; in-order bytes are still delivered */
	weir_stream_init(&s, CAP, WEIR_OVERLAP_FIRST, true);
	weir_stream_start(&s, 42);
	void *taken = weir_mem_alloc(&m, ranges + CAP - 100); /* leaves 99 bytes */
	CHECK(taken != NULL);
	weir_stream_add(&s, &m, 42 + 10, (const uint8_t *)"later", 5, &r);
	CHECK_EQ(r.outrun, 5);
	CHECK_EQ(s.outrun_bytes, 5);
	CHECK_EQ(weir_stream_held(&s), 0);
	CHECK_EQ(m.fail, 2);
	weir_stream_add(&s, &m, 42, (const uint8_t *)"0123456789", 10, &r);
	CHECK_EQ(r.delivered, 10);
	weir_stream_ack(&s, 42 + 15, &r);
	CHECK_EQ(r.gap, 5);
	CHECK_EQ(s.next, s.delivered + s.gap_bytes);
	weir_stream_fini(&s, &m);
	weir_mem_free(&m, taken, ranges + CAP - 100);
	/* no allocator at all behaves like an exhausted one */
	weir_stream_init(&s, CAP, WEIR_OVERLAP_FIRST, true);
	weir_stream_start(&s, 0);
	weir_stream_add(&s, NULL, 0, (const uint8_t *)"ab", 2, &r);
	CHECK_EQ(r.memfail, 1);
	CHECK_EQ(r.delivered, 2);
	/* a zero-sized buffer holds nothing out of order but still delivers in order */
	weir_stream_init(&s, 0, WEIR_OVERLAP_FIRST, true);
	weir_stream_start(&s, 0);
	weir_stream_add(&s, &m, 5, (const uint8_t *)"ab", 2, &r);
	CHECK_EQ(r.outrun, 2);
	CHECK_EQ(r.memfail, 0);
	weir_stream_add(&s, &m, 0, (const uint8_t *)"abcde", 5, &r);
	CHECK_EQ(r.delivered, 5);
	CHECK_EQ(weir_stream_peek(&s, 0, out, 4), -ENODATA);
	CHECK_EQ(weir_stream_peek(&s, 5, out, 4), 0);
	CHECK_EQ(m.used, 0);
	weir_mem_fini(&m);
}

/* ---- randomized tests against a byte-per-byte model (fixed seeds: reproducible) ---- */

static uint64_t rnd(uint64_t *st)
{
	/* xorshift64*: small, deterministic, good enough to shuffle segments */
	uint64_t x = *st;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd_below(uint64_t *st, uint32_t n)
{
	return (uint32_t)(rnd(st) % n);
}

/* Model stream length, its ring, and how far past the end a segment may reach. */
#define MODEL_LEN    20000u
#define MODEL_CAP    700u
#define MODEL_SLACK  2048u
#define MODEL_MAXSEG 300u

/* The model: one flag and value per offset (no ring, no ranges). */
struct model {
	uint8_t have[MODEL_LEN + MODEL_SLACK]; /* held out of order */
	uint8_t hval[MODEL_LEN + MODEL_SLACK];
	uint8_t dval[MODEL_LEN + MODEL_SLACK]; /* delivered content */
	uint64_t next, last, delivered, gap, ooo, overlaps, overlap_diff, outrun;
	uint8_t policy;
};

static unsigned model_runs(const struct model *md, uint64_t *held)
{
	unsigned runs = 0;
	*held = 0;
	/* nothing is ever held past next + cap */
	uint64_t end = md->next + MODEL_CAP + 1;
	if (end > MODEL_LEN + MODEL_SLACK)
		end = MODEL_LEN + MODEL_SLACK;
	for (uint64_t i = md->next; i < end; i++) {
		*held += md->have[i];
		if (md->have[i] && !md->have[i - 1])
			runs++;
	}
	return runs;
}

static void model_deliver(struct model *md, struct weir_reasm_res *r)
{
	while (md->have[md->next]) {
		md->dval[md->next] = md->hval[md->next];
		md->have[md->next] = 0;
		md->next++;
		md->delivered++;
		r->delivered++;
	}
}

/* The rules of the brief, one byte at a time. base is the stream's base before the call. */
static void model_add(struct model *md, uint64_t o, const uint8_t *d, uint32_t len, uint64_t base,
                      struct weir_reasm_res *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t e = o + len;
	if (e > md->last)
		md->last = e;
	for (uint64_t i = o; i < e && i < md->next; i++) {
		r->old_data = 1;
		if (i >= base && md->dval[i] != d[i - o])
			r->rexmit_diff = 1;
	}
	uint64_t a = o > md->next ? o : md->next;
	if (a >= e)
		return;
	if (a > md->next) {
		r->ooo = 1;
		md->ooo++;
		uint64_t room = md->next + MODEL_CAP;
		if (e > room) {
			r->outrun += (uint32_t)(e - (a > room ? a : room));
			e = room;
		}
		bool touches = false;
		for (uint64_t i = a - 1; i <= e && i < MODEL_LEN + MODEL_SLACK; i++)
			touches |= md->have[i] != 0;
		uint64_t held;
		if (a < e && !touches && model_runs(md, &held) >= WEIR_REASM_MAX_FRAGS)
			r->outrun += (uint32_t)(e - a), e = a;
	}
	for (uint64_t i = a; i < e; i++) {
		if (md->have[i]) {
			r->overlap = 1;
			if (md->hval[i] != d[i - o])
				r->overlap_diff = 1;
		}
		if (!md->have[i] || md->policy == WEIR_OVERLAP_LAST)
			md->hval[i] = d[i - o];
		md->have[i] = 1;
	}
	md->overlaps += r->overlap;
	md->overlap_diff += r->overlap_diff;
	md->outrun += r->outrun;
	model_deliver(md, r);
}

static void model_skip(struct model *md, uint64_t target, struct weir_reasm_res *r)
{
	memset(r, 0, sizeof(*r));
	for (uint64_t i = md->next; i < target; i++) {
		if (md->have[i])
			continue;
		md->gap++;
		r->gap++;
	}
	for (uint64_t i = md->next; i < target; i++) {
		if (md->have[i]) {
			md->dval[i] = md->hval[i];
			md->have[i] = 0;
			md->delivered++;
			r->delivered++;
		}
	}
	md->next = target;
	model_deliver(md, r);
}

/* Compares a stream with the model after one step. full: byte contents and diff flags too. */
static unsigned compare(const struct weir_stream *s, const struct model *md,
                        const struct weir_reasm_res *r, const struct weir_reasm_res *mr, bool full)
{
	unsigned bad = 0;
	uint64_t held;
	unsigned runs = model_runs(md, &held);
	bad += s->next != md->next || s->last != md->last || s->delivered != md->delivered;
	bad += s->gap_bytes != md->gap || s->ooo_pkts != md->ooo || s->overlaps != md->overlaps;
	bad += s->outrun_bytes != md->outrun || s->nfrags != runs || weir_stream_held(s) != held;
	bad += r->delivered != mr->delivered || r->gap != mr->gap || r->outrun != mr->outrun;
	bad += r->old_data != mr->old_data || r->ooo != mr->ooo || r->overlap != mr->overlap;
	if (full) {
		bad += s->overlap_diff != md->overlap_diff || r->overlap_diff != mr->overlap_diff;
		bad += r->rexmit_diff != mr->rexmit_diff;
	}
	if (s->buffering && s->base < s->next) {
		static const size_t max = MODEL_CAP;
		uint8_t out[MODEL_CAP];
		ssize_t n = weir_stream_peek(s, s->base, out, max);
		bad += n != (ssize_t)(s->next - s->base) ||
		       memcmp(out, md->dval + s->base, (size_t)n) != 0;
	}
	check_invariants(s);
	return bad;
}

/* The streams one randomized run drives in lockstep with the model:
 *  [0] buffered, compared in full; [1] never buffering; [2] toggled at random; [3] tiny memcap. */
#define TWINS 4
struct run {
	struct model *md;
	uint8_t *truth;
	struct weir_mem m[TWINS];
	struct weir_stream s[TWINS];
	uint64_t st;
	uint32_t seq0, maxseg;
	unsigned corrupt_pct, memfails, fragfull;
	bool acks;
};

/* One random step on every twin and the model. Returns false for a step with nothing to compare. */
static bool run_step(struct run *ru, struct weir_reasm_res r[TWINS], struct weir_reasm_res *mr)
{
	struct model *md = ru->md;
	uint32_t op = rnd_below(&ru->st, 100);
	if (ru->acks && op < 3) {
		uint64_t target = md->next + rnd_below(&ru->st, 400);
		for (int k = 0; k < TWINS; k++)
			weir_stream_ack(&ru->s[k], ru->seq0 + (uint32_t)target, &r[k]);
		memset(mr, 0, sizeof(*mr));
		if (target > md->next)
			model_skip(md, target, mr);
		return true;
	}
	if (op < 6) {
		weir_stream_set_buffering(&ru->s[2], &ru->m[2], rnd_below(&ru->st, 2));
		return false;
	}
	/* start: mostly just around next, sometimes below it, sometimes past the ring */
	uint8_t seg[MODEL_MAXSEG];
	int64_t start = (int64_t)md->next + (int64_t)rnd_below(&ru->st, MODEL_CAP + 200) - 150;
	if (start < 0)
		start = 0;
	uint32_t len = 1 + rnd_below(&ru->st, ru->maxseg);
	memcpy(seg, ru->truth + start, len);
	if (rnd_below(&ru->st, 100) < ru->corrupt_pct)
		seg[rnd_below(&ru->st, len)] ^= (uint8_t)(1 + rnd_below(&ru->st, 255));
	uint64_t base = ru->s[0].base;
	for (int k = 0; k < TWINS; k++)
		weir_stream_add(&ru->s[k], &ru->m[k], ru->seq0 + (uint32_t)start, seg, len, &r[k]);
	ru->fragfull += ru->s[0].nfrags == WEIR_REASM_MAX_FRAGS;
	ru->memfails += r[3].memfail;
	model_add(md, (uint64_t)start, seg, len, base, mr);
	return true;
}

/* Runs until the model's stream is complete; returns the number of divergences. */
static unsigned run_loop(struct run *ru)
{
	unsigned bad = 0, steps = 0;
	while (ru->md->next < MODEL_LEN && steps++ < 200000 && !bad) {
		struct weir_reasm_res r[TWINS], mr;
		if (!run_step(ru, r, &mr))
			continue;
		for (int k = 0; k < TWINS; k++) {
			unsigned b = compare(&ru->s[k], ru->md, &r[k], &mr, k == 0);
			if (b)
				fprintf(stderr, "  twin %d diverged from the model at step %u\n", k,
				        steps);
			bad += b;
		}
	}
	return bad;
}

/* One randomized run: segments around next with a share of corrupted copies, occasional acks
 * and buffering toggles. */
static void run_model(uint64_t seed, uint8_t policy, unsigned corrupt_pct, bool acks,
                      uint32_t maxseg)
{
	struct run ru = {.st = seed, .maxseg = maxseg, .corrupt_pct = corrupt_pct, .acks = acks};
	ru.md = calloc(1, sizeof(*ru.md));
	ru.truth = malloc(MODEL_LEN + MODEL_SLACK);
	CHECK(ru.md && ru.truth);
	if (!ru.md || !ru.truth) {
		free(ru.md);
		free(ru.truth);
		return;
	}
	for (unsigned i = 0; i < MODEL_LEN + MODEL_SLACK; i++)
		ru.truth[i] = (uint8_t)rnd(&ru.st);
	ru.md->policy = policy;
	ru.seq0 = (uint32_t)rnd(&ru.st);
	for (int k = 0; k < TWINS; k++) {
		CHECK_EQ(weir_mem_init(&ru.m[k], k == 3 ? MODEL_CAP / 2 : TEST_MEMCAP), 0);
		weir_stream_init(&ru.s[k], MODEL_CAP, policy, k != 1);
		weir_stream_start(&ru.s[k], ru.seq0);
	}
	const struct model *md = ru.md;
	CHECK_EQ(run_loop(&ru), 0);
	CHECK(md->next >= MODEL_LEN);
	CHECK_EQ(ru.memfails, 1);
	CHECK(md->ooo > 0 && md->overlaps > 0 && md->outrun > 0);
	if (maxseg < 20)
		CHECK(ru.fragfull > 0); /* the range limit was reached */
	if (corrupt_pct)
		CHECK(md->overlap_diff > 0);
	else
		CHECK_EQ(md->overlap_diff, 0);
	if (!acks) {
		/* nothing skipped, nothing corrupted: the stream is exactly the original */
		CHECK_EQ(md->gap, 0);
		if (!corrupt_pct)
			CHECK_MEM(md->dval, ru.truth, MODEL_LEN);
	}
	for (int k = 0; k < TWINS; k++) {
		struct weir_reasm_res r;
		weir_stream_flush(&ru.s[k], &r);
		weir_stream_fini(&ru.s[k], &ru.m[k]);
		CHECK_EQ(ru.m[k].used, 0);
		weir_mem_fini(&ru.m[k]);
	}
	free(ru.md);
	free(ru.truth);
}

static void test_model(void)
{
	for (uint64_t seed = 1; seed <= 16; seed++) {
		for (uint8_t pol = 0; pol < 2; pol++) {
			uint64_t sd = seed * 0x9e3779b97f4a7c15ull;
			run_model(sd, pol, 0, false, MODEL_MAXSEG);  /* same bytes only */
			run_model(sd, pol, 20, false, MODEL_MAXSEG); /* evasions */
			run_model(sd, pol, 10, true, MODEL_MAXSEG);  /* with gaps */
			run_model(sd, pol, 10, true, 12); /* tiny segments: the range limit */
		}
	}
}

/* A ring starts at WEIR_REASM_RING_FIRST and doubles as delivered bytes come until it holds
 * WEIR_REASM_RING_MIN of them (all peekable), then stays; it doubles again, keeping its bytes,
 * when a segment lands further ahead; past cap_max the excess is outrun. */
static void test_ring_growth(void)
{
	struct fix f;
	const uint32_t max = 1u << 20;
	fix_init(&f, max, WEIR_OVERLAP_FIRST, 1000);
	static uint8_t data[300000];
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 8));
	struct weir_reasm_res r = put(&f, 0, data, 100);
	CHECK_EQ(f.s.cap, WEIR_REASM_RING_FIRST);
	CHECK_EQ(f.m.used, WEIR_REASM_RING_FIRST);
	uint32_t off = 100;
	for (; off < 100 + 3 * WEIR_REASM_RING_MIN; off += 1000) {
		r = put(&f, off, data + off, 1000);
		CHECK_EQ(r.delivered, 1000);
		const uint32_t held = off + 1000 < WEIR_REASM_RING_MIN ? off + 1000 : WEIR_REASM_RING_MIN;
		CHECK(f.s.cap >= held && f.s.cap <= WEIR_REASM_RING_MIN);
		CHECK_EQ(f.s.next - f.s.base, held); /* nothing delivered in the last RING_MIN is lost */
	}
	CHECK_EQ(f.s.cap, WEIR_REASM_RING_MIN);
	CHECK_EQ(f.m.used, WEIR_REASM_RING_MIN);
	char seen[WEIR_REASM_RING_MIN];
	CHECK_EQ(weir_stream_peek(&f.s, off - WEIR_REASM_RING_MIN, seen, sizeof(seen)), sizeof(seen));
	CHECK_MEM(seen, data + off - WEIR_REASM_RING_MIN, sizeof(seen));
	fix_fini(&f);
	fix_init(&f, max, WEIR_OVERLAP_FIRST, 1000);
	r = put(&f, 0, data, 100);
	r = put(&f, 200000, data + 200000, 1000); /* far ahead: the ring grows instead of outrunning */
	CHECK_EQ(r.outrun, 0);
	CHECK_EQ(r.ooo, 1);
	CHECK(f.s.cap >= 201000 - 100);
	CHECK_EQ(f.m.used, f.s.cap + WEIR_REASM_MAX_FRAGS * sizeof(struct weir_reasm_frag));
	char out[100];
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, 100), 100); /* the delivered bytes moved along */
	CHECK_MEM(out, data, 100);
	for (off = 100; off < 200000; off += 1000) { /* fill the hole */
		const uint32_t n = off + 1000 > 200000 ? 200000 - off : 1000;
		r = put(&f, off, data + off, n);
		CHECK_EQ(r.outrun, 0);
	}
	CHECK_EQ(f.s.next, 201000);
	CHECK_EQ(f.s.delivered, 201000);
	static uint8_t all[201000];
	const uint64_t base = f.s.base;
	CHECK_EQ(weir_stream_peek(&f.s, base, all, sizeof(all)), 201000 - base);
	CHECK_MEM(all, data + base, 201000 - base);
	/* beyond cap_max from next: discarded */
	r = put(&f, 201000 + max + 10, data, 100);
	CHECK_EQ(r.outrun, 100);
	CHECK(f.s.cap <= max);
	fix_fini(&f);
}

/* ---- undoing an update (an inline drop) ---- */

static void test_restore(void)
{
	struct fix f;
	struct weir_stream_snap snap;
	char out[128];
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 1000);
	put(&f, 0, "0123", 4);
	put(&f, 8, "89AB", 4); /* held */
	weir_stream_snapshot(&f.s, &snap);
	struct weir_reasm_res r = put(&f, 4, "4567", 4); /* fills the hole: 12 delivered */
	CHECK_EQ(r.delivered, 8);
	weir_stream_restore(&f.s, &snap);
	check_invariants(&f.s);
	CHECK_EQ(f.s.next, 4);
	CHECK_EQ(f.s.delivered, 4);
	CHECK_EQ(f.s.last, 12);
	CHECK_EQ(f.s.ooo_pkts, 1);
	CHECK_EQ(f.s.nfrags, 1);
	CHECK_EQ(f.s.frags[0].off, 8);
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, sizeof(out)), 4);
	r = put(&f, 4, "4567", 4); /* the retransmission is new data again */
	CHECK_EQ(r.delivered, 8);
	CHECK_EQ(r.old_data, 0);
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, sizeof(out)), 12);
	CHECK_MEM(out, "0123456789AB", 12);

	/* an ack that skipped a gap is undone too */
	put(&f, 20, "KLMN", 4);
	weir_stream_snapshot(&f.s, &snap);
	r = ack(&f, 24);
	CHECK_EQ(r.gap, 8);
	weir_stream_restore(&f.s, &snap);
	check_invariants(&f.s);
	CHECK_EQ(f.s.next, 12);
	CHECK_EQ(f.s.gap_bytes, 0);
	CHECK_EQ(f.s.nfrags, 1);

	/* a handler turned buffering off before the verdict: the ring stays released */
	weir_stream_snapshot(&f.s, &snap);
	put(&f, 12, "CDEFGHIJ", 8);
	weir_stream_set_buffering(&f.s, &f.m, false);
	weir_stream_restore(&f.s, &snap);
	check_invariants(&f.s);
	CHECK(f.s.ring == NULL);
	CHECK_EQ(f.s.base, 12);
	CHECK_EQ(f.s.next, 12);
	CHECK_EQ(f.m.used, WEIR_REASM_MAX_FRAGS * sizeof(struct weir_reasm_frag)); /* the ranges' array */
	fix_fini(&f);

	/* an in-order segment longer than the ring slid base past the old next: nothing old is
	 * peekable, and the held range it overwrote is discarded (outrun) */
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 7);
	static const char big[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"
	                          "cdefghijklmnopqrstuvwxyz0123456789";
	put(&f, 0, big, 10);
	put(&f, 20, big + 20, 4);
	weir_stream_snapshot(&f.s, &snap);
	r = put(&f, 10, big + 10, 88);
	CHECK_EQ(r.delivered, 88);
	CHECK(f.s.base > 10);
	weir_stream_restore(&f.s, &snap);
	check_invariants(&f.s);
	CHECK_EQ(f.s.next, 10);
	CHECK_EQ(f.s.base, 10);
	CHECK_EQ(f.s.nfrags, 0);
	CHECK_EQ(f.s.outrun_bytes, 4);
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, 10), -ENODATA);
	r = put(&f, 10, big + 10, 40);
	CHECK_EQ(r.delivered, 40);
	CHECK_EQ(weir_stream_peek(&f.s, 10, out, 40), 40);
	CHECK_MEM(out, big + 10, 40);
	fix_fini(&f);

	/* the ring grew during the update: it keeps its new size and the old bytes */
	fix_init(&f, 1u << 20, WEIR_OVERLAP_FIRST, 99);
	put(&f, 0, big, 50);
	weir_stream_snapshot(&f.s, &snap);
	put(&f, 40000, big, 10);
	const uint32_t grown = f.s.cap;
	CHECK(grown > WEIR_REASM_RING_MIN);
	weir_stream_restore(&f.s, &snap);
	check_invariants(&f.s);
	CHECK_EQ(f.s.cap, grown);
	CHECK_EQ(f.m.used, grown + WEIR_REASM_MAX_FRAGS * sizeof(struct weir_reasm_frag));
	CHECK_EQ(f.s.nfrags, 0);
	CHECK_EQ(f.s.last, 50);
	CHECK_EQ(weir_stream_peek(&f.s, 0, out, 50), 50);
	CHECK_MEM(out, big, 50);
	fix_fini(&f);
}

/* The memory cap's reclaim (weir_mem.reclaim) frees a held stream's ranges for another: the held
 * bytes count as outrun, the array and a ring holding no delivered byte go back; a stream with
 * delivered bytes keeps its ring (a view may point into it). */
static struct weir_stream *reclaim_victim;
static uint64_t reclaim_dropped;

static void reclaim_one(void *ctx, uint64_t need)
{
	(void)need;
	reclaim_dropped += weir_stream_drop_held(reclaim_victim, ctx);
}

static void test_drop_held(void)
{
	struct fix f, g;
	fix_init(&f, CAP, WEIR_OVERLAP_FIRST, 1000);
	CHECK_EQ(weir_stream_drop_held(&f.s, &f.m), 0); /* nothing held: nothing changes */
	put(&f, 10, "abc", 3);
	put(&f, 20, "de", 2);
	CHECK_EQ(weir_stream_held(&f.s), 5);
	CHECK_EQ(weir_stream_drop_held(&f.s, &f.m), 5);
	CHECK_EQ(f.s.nfrags, 0);
	CHECK(f.s.frags == NULL && f.s.ring == NULL);
	CHECK_EQ(f.m.used, 0);
	CHECK_EQ(f.s.outrun_bytes, 5);
	check_invariants(&f.s);
	/* the stream goes on: the hole's bytes deliver, the dropped ones are a gap at the ack */
	struct weir_reasm_res r = put(&f, 0, "0123456789", 10);
	CHECK_EQ(r.delivered, 10);
	r = ack(&f, 22);
	CHECK_EQ(r.gap, 12);
	fix_fini(&f);
	/* delivered bytes keep the ring */
	fix_init(&g, CAP, WEIR_OVERLAP_FIRST, 7);
	put(&g, 0, "xy", 2);
	put(&g, 5, "z", 1);
	CHECK_EQ(weir_stream_drop_held(&g.s, &g.m), 1);
	CHECK(g.s.ring != NULL && g.s.frags == NULL);
	char out[2];
	CHECK_EQ(weir_stream_peek(&g.s, 0, out, 2), 2);
	CHECK(memcmp(out, "xy", 2) == 0);
	check_invariants(&g.s);
	fix_fini(&g);
	/* the hook: an allocation past the cap asks for room first, and gets it */
	struct weir_mem m;
	struct weir_stream a, b;
	const size_t ranges = WEIR_REASM_MAX_FRAGS * sizeof(struct weir_reasm_frag);
	CHECK_EQ(weir_mem_init(&m, ranges + CAP), 0); /* one stream's held ranges and ring */
	weir_stream_init(&a, CAP, WEIR_OVERLAP_FIRST, true);
	weir_stream_start(&a, 1);
	weir_stream_add(&a, &m, 1 + 4, (const uint8_t *)"held", 4, &r);
	CHECK_EQ(m.used, ranges + CAP);
	reclaim_victim = &a;
	m.reclaim = reclaim_one;
	m.reclaim_ctx = &m;
	weir_stream_init(&b, CAP, WEIR_OVERLAP_FIRST, true);
	weir_stream_start(&b, 1);
	weir_stream_add(&b, &m, 1, (const uint8_t *)"in order", 8, &r);
	CHECK_EQ(r.memfail, 0);
	CHECK_EQ(r.delivered, 8);
	CHECK_EQ(reclaim_dropped, 4);
	CHECK_EQ(m.fail, 0);
	weir_stream_fini(&a, &m);
	weir_stream_fini(&b, &m);
	CHECK_EQ(m.used, 0);
	weir_mem_fini(&m);
}

int main(void)
{
	test_not_started();
	test_in_order();
	test_permutations();
	test_overlap_cases();
	test_overlap_in_order();
	test_rexmit();
	test_ack_gaps();
	test_flush();
	test_outrun_cap();
	test_ring_growth();
	test_outrun_frags();
	test_ring_wrap_view();
	test_seq_wrap();
	test_buffering_toggle();
	test_memcap();
	test_drop_held();
	test_model();
	test_restore();
	test_counters_saturate();
	return UNIT_DONE();
}
