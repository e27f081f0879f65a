/* flowtab.c — the per-worker flow table: symmetric keys and their hash, an index-linked entry pool
 * with hash chains, LRU order and a hashed timing wheel for idle deadlines. */
#include "flow/flowtab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The hash reads the key as six 64-bit words; keys compare with memcmp. Both need a key without
 * compiler padding: 16 + 16 + 2 + 2 + 4 + 1 + 1 + 2 + 4 bytes. */
_Static_assert(sizeof(struct weir_flow_key) == 48, "weir_flow_key must have no hidden padding");

/* End of an index list (chain, LRU, wheel) and "not linked in the wheel". */
#define FT_NIL UINT32_MAX

/* Entries are cache-line aligned so one flow never shares a line with its neighbour. */
#define FT_ALIGN 64u
/* What weir_ft_prefetch_entry loads of an entry: the header and what a packet reads next. It
 * prefetches the lines one by one, the first two always (no entry is smaller). */
#define FT_PREFETCH_BYTES 256u
_Static_assert(FT_PREFETCH_BYTES == 4 * 64 && sizeof(struct weir_ft_entry) > 64,
               "weir_ft_prefetch_entry loads 2 to 4 lines");

/* Capacity limit: bucket counts are a power of two held in a uint32_t and indexes must stay
 * below FT_NIL, so 2^31 is the largest capacity whose bucket count still fits. */
#define FT_MAX_CAPACITY (1u << 31)

/* The timing wheel. A tick is 2^24 ns (16.78 ms): far below any timeout weir uses (timewait 2 s),
 * so a slot holds few entries that are not yet due, and coarse enough that advancing the clock by
 * a burst's worth of packets rarely crosses a slot. 4096 slots (16 KiB of list heads) make one
 * revolution 2^36 ns = 68.7 s, which covers the handshake (30 s) and timewait (2 s) timeouts
 * directly. Longer deadlines (the 300 s idle timeout, or hours) stay in their slot and are skipped
 * each time the slot comes round before their revolution (one compare per visit, about four
 * visits for 300 s) — cheaper and simpler than a second wheel level that would cascade them. */
#define FT_TICK_SHIFT  24
#define FT_WHEEL_SLOTS 4096u
#define FT_WHEEL_MASK  (FT_WHEEL_SLOTS - 1u)
/* tw_slot of an entry in the current tick's heap (tw_prev is then its position in the heap). */
#define FT_HEAP (FT_WHEEL_SLOTS + 1u)

struct weir_flowtab {
	uint8_t *pool;   /* capacity entries of esize bytes, FT_ALIGN aligned */
	size_t esize;    /* entry_size rounded up to FT_ALIGN */
	size_t zsize;    /* bytes after the header that insert zeroes */
	size_t pf_bytes; /* what weir_ft_prefetch_entry loads: esize, at most FT_PREFETCH_BYTES */
	uint32_t capacity, count;
	uint32_t nbuckets, bucket_mask;
	uint32_t *buckets;  /* head entry index per bucket, FT_NIL when empty */
	uint32_t free_head; /* entries freed by weir_ft_remove, linked through chain */
	uint32_t fresh; /* entries from here on were never handed out: never touched either, so a
	                 * table costs memory (and start-up time) for the flows it held, not for
	                 * its capacity */
	uint32_t lru_head, lru_tail;
	/* Wheel: every slot before tick cur is done for this revolution. The entries due in tick
	 * cur or before (those of slot cur once it is loaded, and any armed in the past) wait in a
	 * binary min-heap on their deadline, so each is looked at O(log n) times, however many
	 * share the tick: rescanning the slot's list whenever the clock reached its next deadline
	 * cost quadratic time when many flows ended within one tick (1 M flows closing in 3 s: 43 %
	 * of a replay). */
	uint64_t cur;
	int cur_loaded; /* slot cur's entries of this revolution are in the heap */
	uint32_t *heap; /* entry indexes, capacity of them; heap_n in use */
	uint32_t heap_n;
	/* No armed entry is due before this: a lower bound, so weir_ft_expired() can answer the
	 * calls between two deadlines (most of them: a packet calls it) without walking the wheel.
	 */
	uint64_t due_hint;
	uint32_t wheel[FT_WHEEL_SLOTS];
};

static inline struct weir_ft_entry *ft_at(const struct weir_flowtab *ft, uint32_t i)
{
	return (struct weir_ft_entry *)(void *)(ft->pool + (size_t)i * ft->esize);
}

/* Index of a live entry, or FT_NIL when p is not an in-use entry of this table (a stale or
 * foreign pointer is ignored rather than corrupting the lists). */
static inline uint32_t ft_index(const struct weir_flowtab *ft, const void *p)
{
	if (!ft || !p)
		return FT_NIL;
	uintptr_t base = (uintptr_t)ft->pool, at = (uintptr_t)p;
	if (at < base)
		return FT_NIL;
	uintptr_t off = at - base;
	if (off % ft->esize != 0 || off / ft->esize >= ft->capacity)
		return FT_NIL;
	uint32_t i = (uint32_t)(off / ft->esize);
	return i < ft->fresh && ft_at(ft, i)->in_use ? i : FT_NIL;
}

/* ---- keys and hashing ----------------------------------------------------------------- */

int weir_flow_key_make(struct weir_flow_key *k, const struct weir_pkt *p)
{
	if (!k || !p)
		return -EINVAL;
	/* IPv4 uses only the first 4 bytes; copying just those keeps the key canonical even if a
	 * parser left stray bytes behind them. Each length is a constant, so the compares and
	 * copies are a few loads and stores rather than calls. */
	const bool v4 = p->ip_ver == 4;
	int c;
	if (v4) {
		uint32_t s, d;
		memcpy(&s, p->src, 4);
		memcpy(&d, p->dst, 4);
		s = ntohl(s);
		d = ntohl(d);
		c = s < d ? -1 : s > d;
	} else {
		c = memcmp(p->src, p->dst, 16);
	}
	/* Same address and port on both ends (a LAND packet) cannot tell the directions apart;
	 * calling its sender a is as good as any rule and deterministic. */
	int src_is_b = c > 0 || (c == 0 && p->sport > p->dport);
	const uint8_t *a = src_is_b ? p->dst : p->src, *b = src_is_b ? p->src : p->dst;

	memset(k, 0, sizeof *k);
	if (v4) {
		memcpy(k->a, a, 4);
		memcpy(k->b, b, 4);
	} else {
		memcpy(k->a, a, 16);
		memcpy(k->b, b, 16);
	}
	k->pa = src_is_b ? p->dport : p->sport;
	k->pb = src_is_b ? p->sport : p->dport;
	k->vlan[0] = p->vlan[0];
	k->vlan[1] = p->vlan[1];
	k->ip_ver = p->ip_ver;
	k->tun_keyed = p->tun_keyed;
	k->tun_id = p->tun_id;
	return src_is_b;
}

/* The hash is a multiply-xorshift chain over the key's words, finished with MurmurHash3's fmix64
 * avalanche. No dependency offers one usable here: DPDK's header-only rte_jhash.h still needs the
 * DPDK include tree and its forced rte_config.h in every user of this module. The API passes no
 * table to the hash, so a per-table secret (SipHash) would have nowhere to live; hence a plain
 * mixer. It is not resistant to deliberately colliding keys: a flooding attacker who knows this
 * function can lengthen chains. Values depend on host byte order; they never leave the process. */
#define FT_MUL1 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio, odd: spreads bits upwards */
#define FT_MUL2 0xff51afd7ed558ccdull /* MurmurHash3 fmix64 constants */
#define FT_MUL3 0xc4ceb9fe1a85ec53ull

static inline uint64_t ft_load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w); /* the key is only 2-byte aligned */
	return w;
}

static inline uint64_t ft_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * FT_MUL1;
	return h ^ (h >> 32);
}

uint32_t weir_flow_key_hash(const struct weir_flow_key *k)
{
	if (!k)
		return 0;
	const uint8_t *b = (const uint8_t *)k;
	/* Two lanes over alternate words halve the chain of dependent multiplies (the hash is
	 * latency-bound: every packet waits for it before its lookup). The start values are
	 * arbitrary fixed constants that differ, so swapping words between lanes changes the
	 * result. */
	const uint64_t tail = ft_load64(b + 40);
	uint64_t x = ft_mix(sizeof *k, ft_load64(b)), y = ft_mix(FT_MUL3, ft_load64(b + 8));
	x = ft_mix(x, ft_load64(b + 16));
	y = ft_mix(y, ft_load64(b + 24));
	x = ft_mix(x, ft_load64(b + 32));
	y = ft_mix(y, tail);
	uint64_t h = ft_mix(x, y);
	h ^= h >> 33;
	h *= FT_MUL2;
	h ^= h >> 33;
	h *= FT_MUL3;
	h ^= h >> 33;
	return (uint32_t)h ^ (uint32_t)(h >> 32);
}

/* ---- creation -------------------------------------------------------------------------- */

struct weir_flowtab *weir_ft_create(uint32_t capacity, size_t entry_size, size_t zero_size)
{
	if (capacity == 0 || capacity > FT_MAX_CAPACITY ||
	    entry_size < sizeof(struct weir_ft_entry) || entry_size > SIZE_MAX / 2 ||
	    zero_size > entry_size - sizeof(struct weir_ft_entry)) {
		errno = EINVAL;
		return NULL;
	}
	size_t esize = (entry_size + FT_ALIGN - 1) & ~(size_t)(FT_ALIGN - 1);
	if (esize > SIZE_MAX / capacity) {
		errno = ENOMEM;
		return NULL;
	}
	/* Twice as many buckets as entries (a power of two, at most FT_MAX_CAPACITY): a chain
	 * holds half an entry on average, so a new flow's lookup and an ended flow's unlinking
	 * touch fewer other entries, each a cache miss once the table outgrows the cache. */
	const uint64_t want =
	    2 * (uint64_t)capacity < FT_MAX_CAPACITY ? 2 * (uint64_t)capacity : FT_MAX_CAPACITY;
	uint32_t nb = 1;
	while (nb < want)
		nb <<= 1;

	struct weir_flowtab *ft = calloc(1, sizeof *ft);
	if (!ft)
		goto err;
	ft->pool = aligned_alloc(FT_ALIGN, esize * capacity);
	ft->buckets = malloc(sizeof *ft->buckets * nb);
	ft->heap = malloc(sizeof *ft->heap * capacity); /* touched only as far as it is used */
	if (!ft->pool || !ft->buckets || !ft->heap)
		goto err;
	ft->esize = esize;
	ft->zsize = zero_size;
	ft->pf_bytes = esize < FT_PREFETCH_BYTES ? esize : FT_PREFETCH_BYTES;
	ft->capacity = capacity;
	ft->nbuckets = nb;
	ft->bucket_mask = nb - 1;
	memset(ft->buckets, 0xff, sizeof *ft->buckets * nb); /* all FT_NIL */
	memset(ft->wheel, 0xff, sizeof ft->wheel);
	/* The pool is not touched here: a fresh table fills it front to back (ft->fresh). */
	ft->free_head = FT_NIL;
	ft->fresh = 0;
	ft->lru_head = ft->lru_tail = FT_NIL;
	return ft;
err:
	weir_ft_free(ft);
	errno = ENOMEM;
	return NULL;
}

void weir_ft_free(struct weir_flowtab *ft)
{
	if (!ft)
		return;
	free(ft->pool);
	free(ft->buckets);
	free(ft->heap);
	free(ft);
}

uint32_t weir_ft_count(const struct weir_flowtab *ft)
{
	return ft ? ft->count : 0;
}

uint32_t weir_ft_capacity(const struct weir_flowtab *ft)
{
	return ft ? ft->capacity : 0;
}

size_t weir_ft_entry_cost(const struct weir_flowtab *ft)
{
	if (!ft)
		return 0;
	size_t buckets = sizeof *ft->buckets * (size_t)ft->nbuckets;
	return ft->esize + (buckets + ft->capacity - 1) / ft->capacity;
}

/* ---- LRU and wheel lists ---------------------------------------------------------------- */

static void lru_unlink(struct weir_flowtab *ft, struct weir_ft_entry *e)
{
	if (e->lru_prev != FT_NIL)
		ft_at(ft, e->lru_prev)->lru_next = e->lru_next;
	else
		ft->lru_head = e->lru_next;
	if (e->lru_next != FT_NIL)
		ft_at(ft, e->lru_next)->lru_prev = e->lru_prev;
	else
		ft->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = FT_NIL;
}

static void lru_append(struct weir_flowtab *ft, struct weir_ft_entry *e, uint32_t i)
{
	e->lru_prev = ft->lru_tail;
	e->lru_next = FT_NIL;
	if (ft->lru_tail != FT_NIL)
		ft_at(ft, ft->lru_tail)->lru_next = i;
	else
		ft->lru_head = i;
	ft->lru_tail = i;
}

/* ---- the current tick's heap (ordered by deadline, then index) ---- */

static bool heap_less(const struct weir_flowtab *ft, uint32_t a, uint32_t b)
{
	const uint64_t da = ft_at(ft, a)->deadline_ns, db = ft_at(ft, b)->deadline_ns;
	return da < db || (da == db && a < b);
}

static void heap_set(struct weir_flowtab *ft, uint32_t pos, uint32_t i)
{
	ft->heap[pos] = i;
	ft_at(ft, i)->tw_prev = pos;
}

/* Restores the heap order around pos (its entry's deadline may have moved either way). */
static void heap_fix(struct weir_flowtab *ft, uint32_t pos)
{
	const uint32_t i = ft->heap[pos];
	while (pos > 0 && heap_less(ft, i, ft->heap[(pos - 1) / 2])) {
		heap_set(ft, pos, ft->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	for (;;) {
		uint32_t c = 2 * pos + 1;
		if (c >= ft->heap_n)
			break;
		if (c + 1 < ft->heap_n && heap_less(ft, ft->heap[c + 1], ft->heap[c]))
			c++;
		if (!heap_less(ft, ft->heap[c], i))
			break;
		heap_set(ft, pos, ft->heap[c]);
		pos = c;
	}
	heap_set(ft, pos, i);
}

static void heap_push(struct weir_flowtab *ft, struct weir_ft_entry *e, uint32_t i)
{
	e->tw_slot = FT_HEAP;
	e->tw_next = FT_NIL;
	heap_set(ft, ft->heap_n++, i); /* never full: it holds live entries only */
	heap_fix(ft, ft->heap_n - 1);
}

static void heap_remove(struct weir_flowtab *ft, struct weir_ft_entry *e)
{
	const uint32_t pos = e->tw_prev, last = ft->heap[--ft->heap_n];
	e->tw_prev = e->tw_next = e->tw_slot = FT_NIL;
	if (pos == ft->heap_n)
		return;
	heap_set(ft, pos, last);
	heap_fix(ft, pos);
}

static void tw_unlink(struct weir_flowtab *ft, struct weir_ft_entry *e)
{
	if (e->tw_slot == FT_NIL)
		return;
	if (e->tw_slot == FT_HEAP) {
		heap_remove(ft, e);
		return;
	}
	if (e->tw_prev != FT_NIL)
		ft_at(ft, e->tw_prev)->tw_next = e->tw_next;
	else
		ft->wheel[e->tw_slot] = e->tw_next;
	if (e->tw_next != FT_NIL)
		ft_at(ft, e->tw_next)->tw_prev = e->tw_prev;
	e->tw_prev = e->tw_next = e->tw_slot = FT_NIL;
}

static void tw_push(struct weir_flowtab *ft, struct weir_ft_entry *e, uint32_t i, uint32_t slot)
{
	uint32_t head = ft->wheel[slot];
	e->tw_prev = FT_NIL;
	e->tw_next = head;
	e->tw_slot = slot;
	if (head != FT_NIL)
		ft_at(ft, head)->tw_prev = i;
	ft->wheel[slot] = i;
}

/* Sets an entry's deadline and puts it in the slot of that deadline, or in the heap when its
 * tick is the current one or past (so past deadlines fire at once instead of a revolution late).
 * An entry already in the right slot stays where it is: a flow re-armed by every packet with
 * "now + timeout" mostly keeps its slot, and leaving it saves touching two list neighbours
 * (cache misses in a large pool). */
static void tw_arm(struct weir_flowtab *ft, struct weir_ft_entry *e, uint32_t i, uint64_t deadline)
{
	e->deadline_ns = deadline;
	if (deadline == 0) {
		tw_unlink(ft, e);
		return;
	}
	if (deadline < ft->due_hint)
		ft->due_hint = deadline;
	const uint64_t tick = deadline >> FT_TICK_SHIFT;
	if (tick <= ft->cur) {
		if (e->tw_slot == FT_HEAP) {
			heap_fix(ft, e->tw_prev);
		} else {
			tw_unlink(ft, e);
			heap_push(ft, e, i);
		}
		return;
	}
	uint32_t slot = (uint32_t)(tick & FT_WHEEL_MASK);
	if (e->tw_slot != slot) {
		tw_unlink(ft, e);
		tw_push(ft, e, i, slot);
	}
}

/* ---- lookup, insert, remove ------------------------------------------------------------- */

void *weir_ft_lookup(struct weir_flowtab *ft, const struct weir_flow_key *k, uint32_t hash)
{
	if (!ft || !k)
		return NULL;
	for (uint32_t i = ft->buckets[hash & ft->bucket_mask]; i != FT_NIL;) {
		struct weir_ft_entry *e = ft_at(ft, i);
		if (e->hash == hash && memcmp(&e->key, k, sizeof *k) == 0)
			return e;
		i = e->chain;
	}
	return NULL;
}

void weir_ft_prefetch_bucket(const struct weir_flowtab *ft, uint32_t hash)
{
	__builtin_prefetch(&ft->buckets[hash & ft->bucket_mask]);
}

void weir_ft_prefetch_entry(const struct weir_flowtab *ft, uint32_t hash)
{
	const uint32_t i = ft->buckets[hash & ft->bucket_mask];
	if (i == FT_NIL)
		return;
	const uint8_t *e = (const uint8_t *)ft_at(ft, i);
	/* pf_bytes is 128 (the smallest entry, FT_ALIGN-rounded), 192 or 256: no loop needed */
	__builtin_prefetch(e);
	__builtin_prefetch(e + 64);
	if (ft->pf_bytes > 128)
		__builtin_prefetch(e + 128);
	if (ft->pf_bytes > 192)
		__builtin_prefetch(e + 192);
}

void *weir_ft_insert(struct weir_flowtab *ft, const struct weir_flow_key *k, uint32_t hash)
{
	if (!ft || !k)
		return NULL;
	uint32_t i;
	struct weir_ft_entry *e;
	if (ft->free_head != FT_NIL) {
		i = ft->free_head;
		e = ft_at(ft, i);
		ft->free_head = e->chain;
	} else if (ft->fresh < ft->capacity) {
		i = ft->fresh++;
		e = ft_at(ft, i);
	} else {
		return NULL;
	}

	memset((uint8_t *)e + sizeof *e, 0, ft->zsize);
	e->key = *k;
	e->hash = hash;
	uint32_t *head = &ft->buckets[hash & ft->bucket_mask];
	e->chain = *head;
	e->chain_prev = FT_NIL;
	if (*head != FT_NIL) /* (the lookup that missed k has just read it) */
		ft_at(ft, *head)->chain_prev = i;
	*head = i;
	lru_append(ft, e, i);
	e->tw_prev = e->tw_next = e->tw_slot = FT_NIL;
	e->deadline_ns = 0;
	e->in_use = 1;
	ft->count++;
	return e;
}

void weir_ft_remove(struct weir_flowtab *ft, void *entry)
{
	uint32_t i = ft_index(ft, entry);
	if (i == FT_NIL)
		return;
	struct weir_ft_entry *e = entry;
	/* Chains are doubly linked so that this is stores only: walking the bucket from its head
	 * to find i waited on a cache miss at every hop once the table outgrew the cache (a third
	 * of a SYN flood's time, every flow ending evicted). */
	if (e->chain_prev != FT_NIL)
		ft_at(ft, e->chain_prev)->chain = e->chain;
	else
		ft->buckets[e->hash & ft->bucket_mask] = e->chain;
	if (e->chain != FT_NIL)
		ft_at(ft, e->chain)->chain_prev = e->chain_prev;
	lru_unlink(ft, e);
	tw_unlink(ft, e);
	e->deadline_ns = 0;
	e->in_use = 0;
	e->chain = ft->free_head;
	ft->free_head = i;
	ft->count--;
}

/* ---- LRU and timers --------------------------------------------------------------------- */

void weir_ft_touch(struct weir_flowtab *ft, void *entry, uint64_t deadline_ns)
{
	uint32_t i = ft_index(ft, entry);
	if (i == FT_NIL)
		return;
	struct weir_ft_entry *e = entry;
	if (ft->lru_tail != i) {
		lru_unlink(ft, e);
		lru_append(ft, e, i);
	}
	tw_arm(ft, e, i, deadline_ns);
}

void *weir_ft_idlest(struct weir_flowtab *ft)
{
	if (!ft || ft->lru_head == FT_NIL)
		return NULL;
	return ft_at(ft, ft->lru_head);
}

/* Moves slot cur's entries of this revolution (their tick is cur, or was passed over by a clock
 * that jumped) into the heap; those of later revolutions stay. */
static void tw_load(struct weir_flowtab *ft)
{
	const uint32_t slot = (uint32_t)(ft->cur & FT_WHEEL_MASK);
	for (uint32_t i = ft->wheel[slot]; i != FT_NIL;) {
		struct weir_ft_entry *e = ft_at(ft, i);
		const uint32_t next = e->tw_next;
		if (e->deadline_ns >> FT_TICK_SHIFT <= ft->cur) {
			tw_unlink(ft, e);
			heap_push(ft, e, i);
		}
		i = next;
	}
	ft->cur_loaded = 1;
}

/* weir_ft_expired() past the hint: walks the ticks up to now's, loading each slot. Not inlined:
 * its register saves would cost every call the hint answers. */
__attribute__((noinline)) static void *ft_expire(struct weir_flowtab *ft, uint64_t now_ns)
{
	const uint64_t now_tick = now_ns >> FT_TICK_SHIFT;
	/* A clock that moved a revolution or more needs each slot visited once, not once per tick:
	 * start one revolution back so the walk ends on now's slot. */
	if (now_tick > ft->cur && now_tick - ft->cur >= FT_WHEEL_SLOTS) {
		ft->cur = now_tick - (FT_WHEEL_SLOTS - 1);
		ft->cur_loaded = 0;
	}
	for (;;) {
		if (!ft->cur_loaded)
			tw_load(ft);
		if (ft->heap_n && ft_at(ft, ft->heap[0])->deadline_ns <= now_ns) {
			struct weir_ft_entry *e = ft_at(ft, ft->heap[0]);
			tw_unlink(ft, e);
			e->deadline_ns = 0;
			return e;
		}
		if (ft->cur >= now_tick) {
			/* Every entry of tick cur or before is in the heap; the others are due in a
			 * later tick. */
			const uint64_t next_tick = (ft->cur + 1) << FT_TICK_SHIFT;
			const uint64_t top =
			    ft->heap_n ? ft_at(ft, ft->heap[0])->deadline_ns : next_tick;
			ft->due_hint = top < next_tick ? top : next_tick;
			return NULL;
		}
		ft->cur++; /* tick cur is over: everything left in the heap is later */
		ft->cur_loaded = 0;
	}
}

void *weir_ft_expired(struct weir_flowtab *ft, uint64_t now_ns)
{
	if (!ft || now_ns < ft->due_hint)
		return NULL;
	return ft_expire(ft, now_ns);
}
