/* reasm.c — one side's TCP stream reassembly: in-order ring, held ranges, overlaps, gaps. */
#include "reasm/reasm.h"

#include <errno.h>
#include <string.h>

_Static_assert(WEIR_REASM_RING_FIRST == WEIR_MEM_CACHE_BYTES,
               "the first ring is the block size weir_mem keeps for reuse");

/* An ack further than this beyond the highest byte seen is not believed (the caller flags it):
 * no real receiver acknowledges a gigabyte the sender was never seen to send. */
#define REASM_ACK_MAX_AHEAD (1ull << 30)

/*
 * Invariants kept by every function:
 *  - next == delivered + gap_bytes; frags are sorted, disjoint, not adjacent, all start above next
 *    and end at or below base + cap (so they never share a ring slot with [base, next)).
 *  - ring != NULL: every byte of [base, next) and of every frag is stored at ring[off % cap];
 *    bytes of [base, next) that were skipped as a gap read as zeros, so what was delivered stays
 *    one contiguous, peekable run (the gap itself is counted in gap_bytes).
 *  - cap is the ring's current size: it starts small and doubles, up to cap_max, when a segment
 *    needs more room ahead of next (a scaled window in flight, reordered).
 *  - ring == NULL: base == next (nothing is peekable). The ring is only allocated while no frag
 *    is held, so a frag tracked without bytes (buffering was off) is never mistaken for stored.
 */

static uint64_t u64_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}
static uint64_t u64_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* res fields are 32-bit; a single call can only exceed that with absurd lengths. */
static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint64_t frag_end(const struct weir_reasm_frag *f)
{
	return f->off + f->len;
}

/* ---- ring access (offsets map to ring[off % cap]; a range may wrap once) ---- */

static void ring_write(struct weir_stream *s, uint64_t off, const uint8_t *src, uint64_t n)
{
	uint32_t pos = (uint32_t)(off % s->cap);
	uint64_t first = u64_min(n, s->cap - pos);
	memcpy(s->ring + pos, src, first);
	if (n > first) /* most segments do not wrap: no second call */
		memcpy(s->ring, src + first, n - first);
}

static void ring_read(const struct weir_stream *s, uint64_t off, uint8_t *dst, uint64_t n)
{
	uint32_t pos = (uint32_t)(off % s->cap);
	uint64_t first = u64_min(n, s->cap - pos);
	memcpy(dst, s->ring + pos, first);
	memcpy(dst + first, s->ring, n - first);
}

static bool ring_equal(const struct weir_stream *s, uint64_t off, const uint8_t *p, uint64_t n)
{
	uint32_t pos = (uint32_t)(off % s->cap);
	uint64_t first = u64_min(n, s->cap - pos);
	return memcmp(s->ring + pos, p, first) == 0 && memcmp(s->ring, p + first, n - first) == 0;
}

/* ---- the held ranges ---- */

static void frag_remove(struct weir_stream *s, unsigned i, unsigned count)
{
	memmove(&s->frags[i], &s->frags[i + count], (s->nfrags - i - count) * sizeof(s->frags[0]));
	s->nfrags = (uint8_t)(s->nfrags - count);
}

/* The frags [*i, *j) that overlap or touch [a, e): those a new range [a, e) merges with. */
static void frag_span(const struct weir_stream *s, uint64_t a, uint64_t e, unsigned *i, unsigned *j)
{
	unsigned k = 0;
	while (k < s->nfrags && frag_end(&s->frags[k]) < a)
		k++;
	*i = k;
	while (k < s->nfrags && s->frags[k].off <= e)
		k++;
	*j = k;
}

/* Replaces frags [i, j) by their union with [a, e); a range starting at next is delivered. */
static void frag_merge(struct weir_stream *s, unsigned i, unsigned j, uint64_t a, uint64_t e)
{
	uint64_t lo = a, hi = e;
	if (j > i) {
		lo = u64_min(lo, s->frags[i].off);
		hi = u64_max(hi, frag_end(&s->frags[j - 1]));
		frag_remove(s, i, j - i);
	}
	if (lo <= s->next) {
		/* Frags never touch each other, so nothing past hi became contiguous. */
		s->next = u64_max(s->next, hi);
		return;
	}
	memmove(&s->frags[i + 1], &s->frags[i], (s->nfrags - i) * sizeof(s->frags[0]));
	s->frags[i].off = lo;
	s->frags[i].len = (uint32_t)(hi - lo); /* within [next, next + cap], so it fits */
	s->frags[i].pad = 0;
	s->nfrags++;
}

/* Without a ring nothing below next can be read back. */
static void settle_base(struct weir_stream *s)
{
	if (!s->ring)
		s->base = s->next;
}

/* ---- public ---- */

void weir_stream_init(struct weir_stream *s, uint32_t cap, uint8_t overlap, bool buffering)
{
	memset(s, 0, sizeof(*s));
	weir_stream_init_zeroed(s, cap, overlap, buffering);
}

void weir_stream_init_zeroed(struct weir_stream *s, uint32_t cap, uint8_t overlap, bool buffering)
{
	s->cap_max = cap;
	s->cap = cap < WEIR_REASM_RING_FIRST ? cap : WEIR_REASM_RING_FIRST;
	s->overlap = overlap;
	s->buffering = buffering ? 1 : 0;
}

void weir_stream_start(struct weir_stream *s, uint32_t seq0)
{
	if (s->started)
		return;
	s->seq0 = seq0;
	s->started = 1;
	s->base = s->next = s->last = 0;
}

void weir_stream_release(struct weir_stream *s, struct weir_mem *m)
{
	if (s->ring && m)
		weir_mem_free(m, s->ring, s->cap);
	s->ring = NULL;
	s->base = s->next;
}

#define FRAGS_BYTES (WEIR_REASM_MAX_FRAGS * sizeof(struct weir_reasm_frag))

void weir_stream_fini(struct weir_stream *s, struct weir_mem *m)
{
	weir_stream_release(s, m);
	if (s->frags && s->nfrags == 0 && m) {
		weir_mem_free(m, s->frags, FRAGS_BYTES);
		s->frags = NULL;
	}
}

uint64_t weir_stream_drop_held(struct weir_stream *s, struct weir_mem *m)
{
	if (!s->nfrags)
		return 0;
	const uint64_t held = weir_stream_held(s);
	s->outrun_bytes += held;
	s->nfrags = 0;
	weir_mem_free(m, s->frags, FRAGS_BYTES);
	s->frags = NULL;
	if (s->base == s->next)
		weir_stream_release(s, m);
	return held;
}

/* Flags overlaps of [a, e) with frags [i, j), comparing bytes when the frags are stored. */
static void check_overlaps(struct weir_stream *s, unsigned i, unsigned j, uint64_t a, uint64_t e,
                           const uint8_t *d, struct weir_reasm_res *res)
{
	for (unsigned k = i; k < j; k++) {
		uint64_t lo = u64_max(a, s->frags[k].off), hi = u64_min(e, frag_end(&s->frags[k]));
		if (lo >= hi)
			continue; /* only touching */
		res->overlap = 1;
		if (s->ring && !ring_equal(s, lo, d + (lo - a), hi - lo))
			res->overlap_diff = 1;
	}
}

/* Stores [a, e) (data d) in the ring, sliding base so that the ring still covers e. Under
 * WEIR_OVERLAP_FIRST the bytes of frags [i, j) are kept. Only the last cap bytes can land. */
static void store(struct weir_stream *s, unsigned i, unsigned j, uint64_t a, uint64_t e,
                  const uint8_t *d)
{
	if (e > s->base + s->cap)
		s->base = e - s->cap;
	uint64_t c = u64_max(a, s->base);
	if (s->overlap == WEIR_OVERLAP_FIRST) {
		for (unsigned k = i; k < j && c < e; k++) {
			uint64_t fo = s->frags[k].off;
			if (fo > c)
				ring_write(s, c, d + (c - a), u64_min(fo, e) - c);
			c = u64_max(c, frag_end(&s->frags[k]));
		}
	}
	if (c < e)
		ring_write(s, c, d + (c - a), e - c);
}

/* Ring size to hold need bytes: doubling from the current size, at most cap_max. */
static uint32_t ring_size_for(const struct weir_stream *s, uint64_t need)
{
	uint64_t c = s->cap;
	while (c < need && c < s->cap_max)
		c *= 2;
	return (uint32_t)u64_min(c, s->cap_max);
}

/* Moves the ring's bytes into a larger one so that need bytes from next fit. A failed
 * allocation keeps the old ring (the caller then discards what does not fit). */
static void ring_grow(struct weir_stream *s, struct weir_mem *m, uint64_t need)
{
	const uint32_t ncap = ring_size_for(s, need);
	if (!s->ring || ncap <= s->cap || !m)
		return;
	uint8_t *nr = weir_mem_alloc(m, ncap);
	if (!nr)
		return;
	struct weir_stream old = *s;
	s->ring = nr;
	s->cap = ncap;
	for (uint64_t off = old.base; off < old.next;) { /* copy in runs that do not wrap either ring */
		uint64_t n = u64_min(old.next - off, old.cap - off % old.cap);
		n = u64_min(n, ncap - off % ncap);
		memcpy(nr + off % ncap, old.ring + off % old.cap, n);
		off += n;
	}
	for (unsigned k = 0; k < s->nfrags; k++) {
		for (uint64_t off = s->frags[k].off; off < frag_end(&s->frags[k]);) {
			uint64_t n = u64_min(frag_end(&s->frags[k]) - off, old.cap - off % old.cap);
			n = u64_min(n, ncap - off % ncap);
			memcpy(nr + off % ncap, old.ring + off % old.cap, n);
			off += n;
		}
	}
	weir_mem_free(m, old.ring, old.cap);
}

/* Whether [a, e) should be stored (need: e - next before it), allocating the ring if needed
 * (failure turns buffering off). A ring smaller than WEIR_REASM_RING_MIN grows rather than
 * overwrite delivered bytes it holds: the first ring is small (most streams carry little) and
 * the last WEIR_REASM_RING_MIN delivered bytes stay peekable as with a first ring of that size. */
static bool want_store(struct weir_stream *s, struct weir_mem *m, uint64_t need, uint64_t e,
                       struct weir_reasm_res *res)
{
	if (!s->buffering || s->cap == 0)
		return false;
	if (s->ring) {
		if (s->cap < WEIR_REASM_RING_MIN && e - s->base > need)
			need = u64_min(e - s->base, WEIR_REASM_RING_MIN);
		if (need > s->cap)
			ring_grow(s, m, need);
		return true;
	}
	if (s->nfrags)
		return false; /* held ranges without bytes: wait until they are delivered */
	s->cap = ring_size_for(s, need);
	s->ring = m ? weir_mem_alloc(m, s->cap) : NULL;
	if (!s->ring) {
		res->memfail = 1;
		s->buffering = 0;
		return false;
	}
	s->base = s->next;
	return true;
}

static void outrun(struct weir_stream *s, uint64_t n, struct weir_reasm_res *res)
{
	res->outrun = sat32((uint64_t)res->outrun + n);
	s->outrun_bytes += n;
}

/* The common segment, [a, e) exactly at next with nothing held and room in the ring as it is
 * (want_store() would not grow it): stored and delivered as add_new() would, without its steps
 * for held ranges and growth. Returns false, changing nothing, for any other segment. */
static bool append_in_order(struct weir_stream *s, uint64_t a, uint64_t e, const uint8_t *d,
                            struct weir_reasm_res *res)
{
	const uint64_t len = e - a;
	if (a != s->next || s->nfrags || !s->ring || !s->buffering || len > s->cap ||
	    (s->cap < WEIR_REASM_RING_MIN && e - s->base > s->cap))
		return false;
	if (e > s->base + s->cap)
		s->base = e - s->cap;
	ring_write(s, a, d, len);
	s->next = e;
	res->delivered = sat32(len);
	s->delivered += len;
	return true;
}

/* The part of a segment at or above next: [a, e) with data d, a >= next. */
static void add_new(struct weir_stream *s, struct weir_mem *m, uint64_t a, uint64_t e,
                    const uint8_t *d, struct weir_reasm_res *res)
{
	uint64_t old_next = s->next;
	if (a > s->next) {
		res->ooo = 1;
		weir_count32(&s->ooo_pkts);
		if (s->ring && e - s->next > s->cap)
			ring_grow(s, m, e - s->next);
		/* In-order bytes are always delivered; only bytes ahead of next need room. The limit is
		 * the largest ring (cap_max) when the ring is not yet allocated or buffering is off. */
		uint64_t room = s->next + (s->ring ? s->cap : s->cap_max);
		if (e > room) {
			outrun(s, e - u64_max(a, room), res);
			e = room;
		}
		if (a >= e)
			return;
	}
	if (a > s->next && !s->frags && !(m && (s->frags = weir_mem_alloc(m, FRAGS_BYTES)))) {
		outrun(s, e - a, res); /* no memory to hold it: counted in mem.failed too */
		return;
	}
	unsigned i, j;
	frag_span(s, a, e, &i, &j);
	if (a > s->next && i == j && s->nfrags >= WEIR_REASM_MAX_FRAGS) {
		outrun(s, e - a, res);
		return;
	}
	check_overlaps(s, i, j, a, e, d, res);
	if (want_store(s, m, e - old_next, e, res))
		store(s, i, j, a, e, d);
	frag_merge(s, i, j, a, e);
	settle_base(s);
	if (res->overlap)
		weir_count32(&s->overlaps);
	if (res->overlap_diff)
		weir_count32(&s->overlap_diff);
	res->delivered = sat32(s->next - old_next);
	s->delivered += s->next - old_next;
}

void weir_stream_add(struct weir_stream *s, struct weir_mem *m, uint32_t seq, const uint8_t *data,
                     uint32_t len, struct weir_reasm_res *res)
{
	memset(res, 0, sizeof(*res));
	if (!s->started || len == 0 || !data)
		return;
	int64_t o = weir_stream_offset(s, seq);
	int64_t e = o + len;
	if (e > 0 && (uint64_t)e > s->last)
		s->last = (uint64_t)e;
	int64_t next = (int64_t)s->next;
	if (o == next && append_in_order(s, (uint64_t)o, (uint64_t)e, data, res))
		return;
	if (o < next) {
		res->old_data = 1;
		/* Bytes below base were overwritten (or before offset 0): nothing to compare. */
		int64_t lo = o > (int64_t)s->base ? o : (int64_t)s->base;
		int64_t hi = e < next ? e : next;
		if (s->ring && lo < hi &&
		    !ring_equal(s, (uint64_t)lo, data + (lo - o), (uint64_t)(hi - lo)))
			res->rexmit_diff = 1;
		if (e <= next)
			return;
	}
	int64_t a = o > next ? o : next;
	add_new(s, m, (uint64_t)a, (uint64_t)e, data + (a - o), res);
}

/* Moves next to at least target, skipping holes (gaps) and delivering the frags met on the way
 * and those that become contiguous. */
static void skip_to(struct weir_stream *s, uint64_t target, struct weir_reasm_res *res)
{
	uint64_t cur = s->next, gap = 0, dl = 0;
	struct weir_reasm_frag holes[WEIR_REASM_MAX_FRAGS + 1];
	unsigned nholes = 0;
	while (s->nfrags && s->frags[0].off <= u64_max(cur, target)) {
		if (s->frags[0].off > cur) {
			gap += s->frags[0].off - cur;
			holes[nholes++] = (struct weir_reasm_frag){ .off = cur, .len = sat32(s->frags[0].off - cur) };
		}
		cur = frag_end(&s->frags[0]);
		dl += s->frags[0].len;
		frag_remove(s, 0, 1);
	}
	if (cur < target) {
		gap += target - cur;
		holes[nholes++] = (struct weir_reasm_frag){ .off = cur, .len = sat32(target - cur) };
		cur = target;
	}
	s->next = cur;
	if (s->ring) {
		/* Keep [base, next) one run: the ring's last cap bytes, holes zeroed. */
		if (cur > s->base + s->cap)
			s->base = cur - s->cap;
		for (unsigned k = 0; k < nholes; k++) {
			uint64_t lo = u64_max(holes[k].off, s->base), hi = holes[k].off + holes[k].len;
			for (uint64_t off = lo; off < hi;) {
				uint64_t n = u64_min(hi - off, s->cap - off % s->cap);
				memset(s->ring + off % s->cap, 0, n);
				off += n;
			}
		}
	}
	settle_base(s);
	s->gap_bytes += gap;
	s->delivered += dl;
	res->gap = sat32(gap);
	res->holes = (uint8_t)nholes; /* at most WEIR_REASM_MAX_FRAGS + 1 */
	res->delivered = sat32(dl);
}

void weir_stream_ack(struct weir_stream *s, uint32_t ack, struct weir_reasm_res *res)
{
	memset(res, 0, sizeof(*res));
	if (!weir_stream_ack_passes(s, ack))
		return;
	int64_t ao = weir_stream_offset(s, ack);
	uint64_t seen = u64_max(s->last, s->next);
	if ((uint64_t)ao > seen && (uint64_t)ao - seen > REASM_ACK_MAX_AHEAD)
		return;
	skip_to(s, (uint64_t)ao, res);
}

void weir_stream_flush(struct weir_stream *s, struct weir_reasm_res *res)
{
	memset(res, 0, sizeof(*res));
	if (!s->started || s->nfrags == 0)
		return;
	skip_to(s, frag_end(&s->frags[s->nfrags - 1]), res);
}

void weir_stream_snapshot(const struct weir_stream *s, struct weir_stream_snap *snap)
{
	snap->base = s->base;
	snap->next = s->next;
	snap->last = s->last;
	snap->delivered = s->delivered;
	snap->gap_bytes = s->gap_bytes;
	snap->ooo_pkts = s->ooo_pkts;
	snap->overlaps = s->overlaps;
	snap->overlap_diff = s->overlap_diff;
	snap->outrun_bytes = s->outrun_bytes;
	if (s->nfrags)
		memcpy(snap->frags, s->frags, s->nfrags * sizeof(s->frags[0]));
	snap->nfrags = s->nfrags;
}

void weir_stream_restore(struct weir_stream *s, const struct weir_stream_snap *snap)
{
	/* The ring keeps its last cap bytes: the update may have slid base up, overwriting what lay
	 * below. Past the old next, the old delivered bytes are gone, and so are held bytes below
	 * the new base. */
	const uint64_t lost_below = s->ring ? s->base : 0;
	s->next = snap->next;
	s->last = snap->last;
	s->delivered = snap->delivered;
	s->gap_bytes = snap->gap_bytes;
	s->ooo_pkts = snap->ooo_pkts;
	s->overlaps = snap->overlaps;
	s->overlap_diff = snap->overlap_diff;
	s->outrun_bytes = snap->outrun_bytes;
	s->nfrags = 0;
	for (unsigned k = 0; k < snap->nfrags; k++) {
		if (snap->frags[k].off < lost_below)
			s->outrun_bytes += snap->frags[k].len;
		else
			s->frags[s->nfrags++] = snap->frags[k];
	}
	s->base = u64_min(u64_max(snap->base, lost_below), s->next);
	settle_base(s);
}

/* How many delivered bytes can be read at off, or a negative errno. */
static ssize_t readable(const struct weir_stream *s, uint64_t off)
{
	if (!s->buffering)
		return -EINVAL;
	if (off < s->base)
		return -ENODATA;
	if (off >= s->next || !s->ring)
		return 0;
	return (ssize_t)(s->next - off);
}

ssize_t weir_stream_peek(const struct weir_stream *s, uint64_t off, void *buf, size_t len)
{
	ssize_t n = readable(s, off);
	if (n <= 0)
		return n;
	if (len && !buf)
		return -EINVAL;
	if ((size_t)n > len)
		n = (ssize_t)len;
	ring_read(s, off, buf, (uint64_t)n);
	return n;
}

ssize_t weir_stream_view(const struct weir_stream *s, uint64_t off, const uint8_t **ptr)
{
	if (!ptr)
		return -EINVAL;
	*ptr = NULL;
	ssize_t n = readable(s, off);
	if (n <= 0)
		return n;
	uint32_t pos = (uint32_t)(off % s->cap);
	if ((uint64_t)n > s->cap - pos)
		n = (ssize_t)(s->cap - pos);
	*ptr = s->ring + pos;
	return n;
}

int weir_stream_frags(const struct weir_stream *s, struct weir_frag *out, unsigned max)
{
	for (unsigned k = 0; out && k < max && k < s->nfrags; k++) {
		out[k].offset = s->frags[k].off;
		out[k].len = s->frags[k].len;
		out[k].pad = 0;
	}
	return s->nfrags;
}

void weir_stream_set_buffering(struct weir_stream *s, struct weir_mem *m, bool on)
{
	if (!on) {
		weir_stream_release(s, m);
		s->buffering = 0;
		return;
	}
	if (!s->buffering) {
		s->buffering = 1;
		s->base = s->next;
	}
}

uint32_t weir_stream_held(const struct weir_stream *s)
{
	uint64_t n = 0;
	for (unsigned k = 0; k < s->nfrags; k++)
		n += s->frags[k].len;
	return sat32(n);
}
