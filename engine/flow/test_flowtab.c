/* test_flowtab.c — unit tests of the flow table: keys, hash spread, pool, chains, LRU, timing
 * wheel, and a randomized run against a plain-array reference model. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow/flowtab.h"
#include "unit.h"

/* Mirrors of flowtab.c's wheel geometry, used only to state the expected expiry order. */
#define TICK_SHIFT  24
#define WHEEL_SLOTS 4096u

#define MS   1000000ull
#define SEC  (1000 * MS)
#define HOUR (3600 * SEC)
/* Replay timestamps: a 2023 capture time in ns since the epoch, not aligned to anything. */
#define T0 1700000000123456789ull

/* What the tests store in a table: the header, then a body the table must zero on insert. */
struct tflow {
	struct weir_ft_entry h;
	uint32_t id;
	uint32_t junk[40];
};
/* zero_size of weir_ft_create() for a body entirely zeroed on insert */
#define BODY(entry_size) ((entry_size) - sizeof(struct weir_ft_entry))

static uint64_t rnd(uint64_t *s) /* splitmix64: fixed-seed, reproducible */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static struct weir_pkt pkt4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct weir_pkt p;
	memset(&p, 0, sizeof p);
	p.ip_ver = 4;
	p.src[0] = (uint8_t)(src >> 24), p.src[1] = (uint8_t)(src >> 16);
	p.src[2] = (uint8_t)(src >> 8), p.src[3] = (uint8_t)src;
	p.dst[0] = (uint8_t)(dst >> 24), p.dst[1] = (uint8_t)(dst >> 16);
	p.dst[2] = (uint8_t)(dst >> 8), p.dst[3] = (uint8_t)dst;
	p.sport = sport;
	p.dport = dport;
	return p;
}

/* The reverse direction of p (addresses and ports swapped, VLANs kept). */
static struct weir_pkt reversed(const struct weir_pkt *p)
{
	struct weir_pkt r = *p;
	memcpy(r.src, p->dst, 16);
	memcpy(r.dst, p->src, 16);
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

/* Key number id: distinct ids give distinct keys (id picks the client address and port). */
static struct weir_flow_key key_of(uint32_t id)
{
	struct weir_pkt p =
	    pkt4(0x0a000000u | (id >> 8), (uint16_t)(40000 + (id & 0xff)), 0xc0a80101u, 443);
	struct weir_flow_key k;
	weir_flow_key_make(&k, &p);
	return k;
}

static void test_key_v4(void)
{
	struct weir_pkt p = pkt4(0x0a000001u, 1234, 0x0a000002u, 80), r = reversed(&p);
	struct weir_flow_key k1, k2;
	memset(&k1, 0xaa, sizeof k1);
	memset(&k2, 0x55, sizeof k2);
	CHECK_EQ(weir_flow_key_make(&k1, &p), 0);
	CHECK_EQ(weir_flow_key_make(&k2, &r), 1);
	CHECK_MEM(&k1, &k2, sizeof k1);
	CHECK_EQ(weir_flow_key_hash(&k1), weir_flow_key_hash(&k2));
	static const uint8_t a[16] = {10, 0, 0, 1}, b[16] = {10, 0, 0, 2}, zero[3] = {0};
	CHECK_MEM(k1.a, a, 16);
	CHECK_MEM(k1.b, b, 16);
	CHECK_EQ(k1.pa, 1234);
	CHECK_EQ(k1.pb, 80);
	CHECK_EQ(k1.ip_ver, 4);
	CHECK_MEM(k1.pad, zero, 3);

	/* The address decides before the port: 10.0.0.1:80 is a against 10.0.0.2:1. */
	p = pkt4(0x0a000002u, 1, 0x0a000001u, 80);
	CHECK_EQ(weir_flow_key_make(&k1, &p), 1);
	CHECK_EQ(k1.pa, 80);
	/* Addresses compare byte by byte, the first byte first: 9.0.0.3 is below 10.0.0.2. */
	p = pkt4(0x0a000002u, 1, 0x09000003u, 2);
	CHECK_EQ(weir_flow_key_make(&k1, &p), 1);
	static const uint8_t nine[16] = {9, 0, 0, 3};
	CHECK_MEM(k1.a, nine, 16);
	/* Same address: the lower port is a. */
	p = pkt4(0x7f000001u, 5000, 0x7f000001u, 22);
	r = reversed(&p);
	CHECK_EQ(weir_flow_key_make(&k1, &p), 1);
	CHECK_EQ(weir_flow_key_make(&k2, &r), 0);
	CHECK_MEM(&k1, &k2, sizeof k1);
	CHECK_EQ(k1.pa, 22);
	/* Same address and port on both ends: deterministic, both directions equal. */
	p = pkt4(0x7f000001u, 7, 0x7f000001u, 7);
	CHECK_EQ(weir_flow_key_make(&k1, &p), 0);
	CHECK_EQ(weir_flow_key_make(&k2, &p), 0);
	CHECK_MEM(&k1, &k2, sizeof k1);
	/* Stray bytes behind an IPv4 address do not change the key. */
	p = pkt4(0x0a000001u, 1234, 0x0a000002u, 80);
	weir_flow_key_make(&k1, &p);
	p.src[9] = 0x77;
	p.dst[15] = 0x66;
	weir_flow_key_make(&k2, &p);
	CHECK_MEM(&k1, &k2, sizeof k1);
	CHECK_EQ(weir_flow_key_make(NULL, &p), -EINVAL);
	CHECK_EQ(weir_flow_key_make(&k1, NULL), -EINVAL);
}

static void test_key_v6_vlan(void)
{
	struct weir_pkt p;
	memset(&p, 0, sizeof p);
	p.ip_ver = 6;
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x09};
	static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0x01, [15] = 0x01};
	memcpy(p.src, s6, 16);
	memcpy(p.dst, d6, 16);
	p.sport = 443;
	p.dport = 50000;
	struct weir_pkt r = reversed(&p);
	struct weir_flow_key k1, k2, k3;
	CHECK_EQ(weir_flow_key_make(&k1, &p), 0); /* ...00 09 < ...01 01 */
	CHECK_EQ(weir_flow_key_make(&k2, &r), 1);
	CHECK_MEM(&k1, &k2, sizeof k1);
	CHECK_MEM(k1.a, s6, 16);
	CHECK_EQ(k1.ip_ver, 6);
	CHECK_EQ(weir_flow_key_hash(&k1), weir_flow_key_hash(&k2));

	/* The same addresses on another VLAN (outer or inner) are another flow. */
	p.vlan[0] = 100;
	r = reversed(&p);
	weir_flow_key_make(&k2, &p);
	weir_flow_key_make(&k3, &r);
	CHECK(memcmp(&k1, &k2, sizeof k1) != 0);
	CHECK_MEM(&k2, &k3, sizeof k2);
	CHECK_EQ(k2.vlan[0], 100);
	CHECK(weir_flow_key_hash(&k1) != weir_flow_key_hash(&k2));
	p.vlan[1] = 7;
	weir_flow_key_make(&k3, &p);
	CHECK(memcmp(&k2, &k3, sizeof k2) != 0);
	CHECK(weir_flow_key_hash(&k2) != weir_flow_key_hash(&k3));
	/* The same inner connection in another VXLAN segment (or GRE key) is another flow, both
	 * directions alike; the id is hashed, so the two rarely share a chain. */
	p.vlan[0] = p.vlan[1] = 0;
	p.tun_keyed = WEIR_TUN_VXLAN;
	p.tun_id = 100;
	r = reversed(&p);
	weir_flow_key_make(&k1, &p);
	weir_flow_key_make(&k2, &r);
	CHECK_MEM(&k1, &k2, sizeof k1);
	CHECK_EQ(k1.tun_id, 100);
	CHECK_EQ(k1.tun_keyed, WEIR_TUN_VXLAN);
	p.tun_id = 200;
	weir_flow_key_make(&k3, &p);
	CHECK(memcmp(&k1, &k3, sizeof k1) != 0);
	CHECK(weir_flow_key_hash(&k1) != weir_flow_key_hash(&k3));
	p.tun_keyed = WEIR_TUN_GRE; /* GRE key 200 is not VNI 200 */
	weir_flow_key_make(&k1, &p);
	CHECK(memcmp(&k1, &k3, sizeof k1) != 0);
	CHECK(weir_flow_key_hash(&k1) != weir_flow_key_hash(&k3));
	/* A tunnel that keys nothing (GTP-U, Teredo: tun_keyed 0) leaves the key as seen directly.
	 */
	p.tun_keyed = 0;
	p.tun_id = 0;
	p.tun_type = WEIR_TUN_GTPU;
	p.tun_depth = 1;
	weir_flow_key_make(&k1, &p);
	p.tun_type = 0;
	p.tun_depth = 0;
	weir_flow_key_make(&k2, &p);
	CHECK_MEM(&k1, &k2, sizeof k1);
	/* IPv4 10.0.0.1 and the IPv6 address with the same leading bytes differ by ip_ver. */
	struct weir_pkt q4 = pkt4(0x0a000001u, 1, 0x0a000002u, 2), q6 = q4;
	q6.ip_ver = 6;
	weir_flow_key_make(&k1, &q4);
	weir_flow_key_make(&k2, &q6);
	CHECK(memcmp(&k1, &k2, sizeof k1) != 0);
}

/* Longest chain and empty-bucket count of n hashes in nb buckets (low bits, as the table). */
static void spread(const uint32_t *h, uint32_t n, uint32_t nb, uint32_t *maxc, uint32_t *empty)
{
	uint32_t *cnt = calloc(nb, sizeof *cnt);
	if (!cnt) {
		CHECK(cnt != NULL);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		cnt[h[i] & (nb - 1)]++;
	*maxc = 0;
	*empty = 0;
	for (uint32_t b = 0; b < nb; b++) {
		if (cnt[b] > *maxc)
			*maxc = cnt[b];
		*empty += cnt[b] == 0;
	}
	free(cnt);
}

/* 100k keys in 131072 buckets (load 0.763): a uniform hash leaves e^-0.763 = 46.6% of buckets
 * empty and (Poisson) a chain over 10 about once in a thousand tables. */
static void check_spread(const uint32_t *h, uint32_t n, const char *what)
{
	uint32_t maxc = UINT32_MAX, empty = 0;
	spread(h, n, 131072, &maxc, &empty);
	fprintf(stderr, "hash spread (%s): longest chain %u, empty buckets %.3f\n", what, maxc,
	        empty / 131072.0);
	CHECK(maxc <= 12);
	CHECK(empty > 0.446 * 131072 && empty < 0.486 * 131072);
}

static void test_hash_spread(void)
{
	enum { N = 100000 };
	uint32_t *h = malloc(N * sizeof *h);
	if (!h) {
		CHECK(h != NULL);
		return;
	}
	uint64_t s = 1;
	for (uint32_t i = 0; i < N; i++) { /* random IPv4 4-tuples */
		struct weir_pkt p = pkt4((uint32_t)rnd(&s), (uint16_t)rnd(&s), (uint32_t)rnd(&s),
		                         (uint16_t)rnd(&s));
		struct weir_flow_key k;
		weir_flow_key_make(&k, &p);
		h[i] = weir_flow_key_hash(&k);
	}
	check_spread(h, N, "random v4");
	for (uint32_t i = 0; i < N; i++) { /* one server, clients on a /16 with sequential ports */
		struct weir_flow_key k = key_of(i);
		h[i] = weir_flow_key_hash(&k);
	}
	check_spread(h, N, "sequential clients");
	for (uint32_t i = 0; i < N; i++) { /* two hosts, every port pair: only the ports vary */
		struct weir_pkt p = pkt4(0x0a000001u, (uint16_t)(1024 + i % 317), 0x0a000002u,
		                         (uint16_t)(1 + i / 317));
		struct weir_flow_key k;
		weir_flow_key_make(&k, &p);
		h[i] = weir_flow_key_hash(&k);
	}
	check_spread(h, N, "port pairs");
	free(h);

	/* Avalanche: flipping one key bit changes about half of the 32 hash bits. */
	uint64_t flips = 0, trials = 0;
	for (uint32_t i = 0; i < 2000; i++) {
		struct weir_flow_key k = key_of(i), k2 = k;
		uint32_t bit = (uint32_t)(rnd(&s) % (41 * 8)); /* any bit up to ip_ver */
		((uint8_t *)&k2)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		flips +=
		    (uint64_t)__builtin_popcount(weir_flow_key_hash(&k) ^ weir_flow_key_hash(&k2));
		trials++;
	}
	double avg = (double)flips / (double)trials;
	fprintf(stderr, "hash avalanche: %.2f of 32 bits change per flipped key bit\n", avg);
	CHECK(avg > 15.0 && avg < 17.0);
	CHECK_EQ(weir_flow_key_hash(NULL), 0);
}

static void test_create_errors(void)
{
	errno = 0;
	CHECK(weir_ft_create(0, sizeof(struct tflow), 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(weir_ft_create(10, sizeof(struct weir_ft_entry) - 1, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(weir_ft_create((1u << 31) + 1, 64, 0) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0; /* 2^31 entries of 2^40 bytes: more than an address space */
	CHECK(weir_ft_create(1u << 31, (size_t)1 << 40, 0) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0; /* more zeroed than the body holds */
	CHECK(weir_ft_create(10, sizeof(struct tflow), BODY(sizeof(struct tflow)) + 1) == NULL);
	CHECK_EQ(errno, EINVAL);
	weir_ft_free(NULL);
	CHECK_EQ(weir_ft_count(NULL), 0);
	CHECK(weir_ft_idlest(NULL) == NULL);
	CHECK(weir_ft_expired(NULL, T0) == NULL);
}

/* insert zeroes zero_size bytes after the header and nothing more: the rest of a reused entry is
 * what its last flow left (the owner writes it itself). */
static void test_zero_size(void)
{
	struct weir_flowtab *ft = weir_ft_create(
	    2, sizeof(struct tflow), offsetof(struct tflow, junk) - sizeof(struct weir_ft_entry));
	CHECK(ft != NULL);
	if (!ft)
		return;
	struct weir_flow_key k0 = key_of(0), k1 = key_of(1);
	struct tflow *a = weir_ft_insert(ft, &k0, weir_flow_key_hash(&k0));
	CHECK(a != NULL);
	if (a) {
		a->id = 7;
		memset(a->junk, 0xab, sizeof a->junk);
		weir_ft_remove(ft, a);
		struct tflow *b = weir_ft_insert(ft, &k1, weir_flow_key_hash(&k1));
		CHECK(b == a); /* the freed entry is taken again */
		if (b) {
			uint32_t ab[40];
			memset(ab, 0xab, sizeof ab);
			CHECK_EQ(b->id, 0);
			CHECK_MEM(b->junk, ab, sizeof ab);
		}
	}
	weir_ft_free(ft);
}

static void test_capacity(void)
{
	enum { CAP = 1000 };
	struct weir_ft_entry **e = calloc(CAP, sizeof *e);
	struct weir_flowtab *ft = weir_ft_create(CAP, 200, BODY(200));
	CHECK(ft != NULL && e != NULL);
	if (!ft || !e)
		goto out;
	CHECK_EQ(weir_ft_capacity(ft), CAP);
	/* 200 rounds up to 256; 2048 buckets of 4 bytes over 1000 entries is 8.192, rounded up. */
	CHECK_EQ(weir_ft_entry_cost(ft), 256 + 9);
	for (uint32_t i = 0; i < CAP; i++) {
		struct weir_flow_key k = key_of(i);
		e[i] = weir_ft_insert(ft, &k, weir_flow_key_hash(&k));
		CHECK(e[i] != NULL);
		if (!e[i])
			goto out;
		CHECK_EQ((uintptr_t)e[i] % 64, 0);
		CHECK_EQ(e[i]->in_use, 1);
		CHECK_EQ(e[i]->deadline_ns, 0);
		memset(e[i] + 1, 0xab, 200 - sizeof **e); /* dirty the body for the reuse check */
	}
	CHECK_EQ((uint8_t *)e[1] - (uint8_t *)e[0], 256);
	CHECK_EQ(weir_ft_count(ft), CAP);
	struct weir_flow_key extra = key_of(CAP);
	CHECK(weir_ft_insert(ft, &extra, weir_flow_key_hash(&extra)) == NULL);
	CHECK_EQ(weir_ft_count(ft), CAP);
	for (uint32_t i = 0; i < CAP; i++) {
		struct weir_flow_key k = key_of(i);
		CHECK(weir_ft_lookup(ft, &k, weir_flow_key_hash(&k)) == e[i]);
	}
	CHECK(weir_ft_lookup(ft, &extra, weir_flow_key_hash(&extra)) == NULL);
	/* Remove every third; those vanish, the rest stay; the freed room takes new keys, zeroed.
	 */
	for (uint32_t i = 0; i < CAP; i += 3)
		weir_ft_remove(ft, e[i]);
	CHECK_EQ(weir_ft_count(ft), CAP - 334);
	for (uint32_t i = 0; i < CAP; i++) {
		struct weir_flow_key k = key_of(i);
		CHECK(weir_ft_lookup(ft, &k, weir_flow_key_hash(&k)) == (i % 3 ? e[i] : NULL));
	}
	struct tflow *n = weir_ft_insert(ft, &extra, weir_flow_key_hash(&extra));
	CHECK(n != NULL);
	if (n) {
		static const uint8_t zero[200 - sizeof(struct weir_ft_entry)];
		CHECK_MEM(&n->id, zero, sizeof zero);
		CHECK(weir_ft_lookup(ft, &extra, weir_flow_key_hash(&extra)) == (void *)n);
	}
out:
	weir_ft_free(ft);
	free(e);
}

/* Entries inserted with one hash value share a chain: removing from its middle, head and tail. */
/* Resident memory of this process, bytes (/proc/self/statm: pages). */
static long resident_bytes(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

/* A table costs memory for the flows it holds, not for its capacity: creating one of 65,536 page-
 * sized entries (256 MiB) touches none of them, and its entries are touched as flows come. Before,
 * creation wrote every entry's header (the whole 256 MiB here, and ~88 MB at weir's defaults). */
static void test_lazy_pool(void)
{
	const long before = resident_bytes();
	struct weir_flowtab *ft = weir_ft_create(1u << 16, 4096, BODY(4096));
	CHECK(ft != NULL);
	if (!ft)
		return;
	const long after = resident_bytes();
	CHECK(before > 0 && after > 0);
	CHECK(after - before <
	      100l << 20); /* the bucket array (512 KiB), under ASan its shadow too */
	struct weir_flow_key k;
	memset(&k, 0, sizeof(k));
	void *first = NULL;
	for (uint32_t i = 0; i < 1000; i++) { /* front to back: the first entries of the pool */
		k.pa = (uint16_t)i;
		k.pb = (uint16_t)(i >> 16);
		void *e = weir_ft_insert(ft, &k, weir_flow_key_hash(&k));
		CHECK(e != NULL);
		if (!first)
			first = e;
		CHECK((uint8_t *)e - (uint8_t *)first == (ptrdiff_t)i * 4096);
	}
	CHECK_EQ(weir_ft_count(ft), 1000);
	weir_ft_free(ft);
}

static void test_chain_remove(void)
{
	struct weir_flowtab *ft =
	    weir_ft_create(16, sizeof(struct tflow), BODY(sizeof(struct tflow)));
	CHECK(ft != NULL);
	if (!ft)
		return;
	struct weir_flow_key k[5];
	void *e[5];
	for (int i = 0; i < 5; i++) {
		k[i] = key_of((uint32_t)i);
		/* 7 and 7 + 16 land in bucket 7 of 16: equal-hash and equal-bucket neighbours */
		e[i] = weir_ft_insert(ft, &k[i], i == 4 ? 7 + 16 : 7);
		CHECK(e[i] != NULL);
	}
	CHECK(weir_ft_lookup(ft, &k[0], 7) == e[0]);
	CHECK(weir_ft_lookup(ft, &k[4], 7) == NULL); /* right key, wrong hash */
	CHECK(weir_ft_lookup(ft, &k[4], 23) == e[4]);
	weir_ft_remove(ft, e[2]); /* middle of 4 -> 3 -> 2 -> 1 -> 0 */
	CHECK(weir_ft_lookup(ft, &k[2], 7) == NULL);
	CHECK(weir_ft_lookup(ft, &k[1], 7) == e[1]);
	CHECK(weir_ft_lookup(ft, &k[3], 7) == e[3]);
	CHECK(weir_ft_lookup(ft, &k[0], 7) == e[0]);
	weir_ft_remove(ft, e[4]); /* head */
	weir_ft_remove(ft, e[0]); /* tail */
	CHECK(weir_ft_lookup(ft, &k[4], 23) == NULL);
	CHECK(weir_ft_lookup(ft, &k[0], 7) == NULL);
	CHECK(weir_ft_lookup(ft, &k[1], 7) == e[1]);
	CHECK(weir_ft_lookup(ft, &k[3], 7) == e[3]);
	CHECK_EQ(weir_ft_count(ft), 2);
	/* A removed, foreign or misaligned pointer is ignored. */
	weir_ft_remove(ft, e[2]);
	weir_ft_remove(ft, NULL);
	weir_ft_remove(ft, (uint8_t *)e[1] + 8);
	struct tflow outside;
	weir_ft_remove(ft, &outside);
	weir_ft_touch(ft, e[2], T0);
	CHECK_EQ(weir_ft_count(ft), 2);
	CHECK(weir_ft_lookup(ft, &k[1], 7) == e[1]);
	CHECK(weir_ft_expired(ft, T0 + HOUR) == NULL);
	weir_ft_free(ft);
}

static void test_lru(void)
{
	struct weir_flowtab *ft =
	    weir_ft_create(8, sizeof(struct tflow), BODY(sizeof(struct tflow)));
	CHECK(ft != NULL);
	if (!ft)
		return;
	CHECK(weir_ft_idlest(ft) == NULL);
	void *e[5];
	for (uint32_t i = 0; i < 5; i++) {
		struct weir_flow_key k = key_of(i);
		e[i] = weir_ft_insert(ft, &k, weir_flow_key_hash(&k));
	}
	CHECK(weir_ft_idlest(ft) == e[0]);
	weir_ft_touch(ft, e[0], 0);
	CHECK(weir_ft_idlest(ft) == e[1]);
	weir_ft_touch(ft, e[2], 0);
	weir_ft_touch(ft, e[1], 0);
	weir_ft_touch(ft, e[1], 0); /* already last */
	static const int order[5] = {3, 4, 0, 2, 1};
	for (int i = 0; i < 5; i++) {
		void *idle = weir_ft_idlest(ft);
		CHECK(idle == e[order[i]]);
		weir_ft_remove(ft, idle);
	}
	CHECK(weir_ft_idlest(ft) == NULL);
	CHECK_EQ(weir_ft_count(ft), 0);
	weir_ft_free(ft);
}

/* A table of n entries for timer tests; e receives them in insertion order. */
static struct weir_flowtab *timer_table(void **e, uint32_t n)
{
	struct weir_flowtab *ft =
	    weir_ft_create(n, sizeof(struct tflow), BODY(sizeof(struct tflow)));
	CHECK(ft != NULL);
	for (uint32_t i = 0; ft && i < n; i++) {
		struct weir_flow_key k = key_of(i);
		e[i] = weir_ft_insert(ft, &k, weir_flow_key_hash(&k));
		((struct tflow *)e[i])->id = i;
	}
	return ft;
}

static void test_timer_basic(void)
{
	void *e[4];
	struct weir_flowtab *ft = timer_table(e, 4);
	if (!ft)
		return;
	/* Armed before the wheel ever saw a clock; due exactly at the deadline, not 1 ns before. */
	weir_ft_touch(ft, e[0], T0 + 1000);
	CHECK(weir_ft_expired(ft, T0 + 999) == NULL);
	CHECK(weir_ft_expired(ft, T0 + 1000) == e[0]);
	CHECK_EQ(((struct weir_ft_entry *)e[0])->deadline_ns, 0);
	CHECK(weir_ft_expired(ft, T0 + 1000) == NULL);
	CHECK(weir_ft_expired(ft, T0 + HOUR) == NULL); /* disarmed: never again */
	uint64_t t = T0 + HOUR;
	/* Re-arming pushes the deadline later (and the wheel forgets the first one). */
	weir_ft_touch(ft, e[1], t + 10 * MS);
	weir_ft_touch(ft, e[1], t + 5 * SEC);
	CHECK(weir_ft_expired(ft, t + 10 * MS) == NULL);
	CHECK(weir_ft_expired(ft, t + 5 * SEC - 1) == NULL);
	CHECK(weir_ft_expired(ft, t + 5 * SEC) == e[1]);
	/* Re-arming earlier also works. */
	t += 5 * SEC;
	weir_ft_touch(ft, e[1], t + 50 * SEC);
	weir_ft_touch(ft, e[1], t + 3 * MS);
	CHECK(weir_ft_expired(ft, t + 3 * MS) == e[1]);
	/* Disarm with 0, and removal of an armed entry. */
	weir_ft_touch(ft, e[2], t + SEC);
	weir_ft_touch(ft, e[2], 0);
	weir_ft_touch(ft, e[3], t + SEC);
	weir_ft_remove(ft, e[3]);
	CHECK(weir_ft_expired(ft, t + 2 * SEC) == NULL);
	CHECK(weir_ft_expired(ft, t + 10 * HOUR) == NULL);
	/* A deadline already in the past fires at the next call. */
	t += 10 * HOUR;
	weir_ft_touch(ft, e[2], t - 7 * SEC);
	CHECK(weir_ft_expired(ft, t) == e[2]);
	weir_ft_touch(ft, e[2], 1); /* long before anything the wheel saw */
	CHECK(weir_ft_expired(ft, t) == e[2]);
	CHECK(weir_ft_expired(ft, t) == NULL);
	weir_ft_free(ft);
}

/* Many deadlines in one tick (flows that end close together), in scrambled order, some re-armed,
 * one removed: each fires exactly when the clock reaches it, in deadline order. (The wheel keeps
 * them in a heap: rescanning the tick's list at every deadline took quadratic time.) */
static void test_timer_dense(void)
{
	enum { N = 3000 };
	void *e[N];
	struct weir_flowtab *ft = timer_table(e, N);
	if (!ft)
		return;
	const uint64_t t = T0 + HOUR;
	CHECK(weir_ft_expired(ft, t) == NULL);
	for (uint32_t k = 0; k < N; k++) { /* entry j is due at t + 1 us + 2 us * j */
		const uint32_t j = (k * 1237u) % N;
		weir_ft_touch(ft, e[j], t + 1000 + 2000ull * j + (j % 3 ? 0 : 5 * SEC));
	}
	for (uint32_t j = 0; j < N; j += 3) /* those parked 5 s later come back */
		weir_ft_touch(ft, e[j], t + 1000 + 2000ull * j);
	weir_ft_remove(ft, e[N / 2]);
	uint32_t fired = 0, late = 0, wrong = 0;
	for (uint64_t now = t; now <= t + 1000 + 2000ull * N; now += 1000) {
		void *x;
		while ((x = weir_ft_expired(ft, now)) != NULL) {
			const uint32_t j = ((struct tflow *)x)->id;
			if (j >= N || j == N / 2 || x != e[j])
				wrong++;
			else if (t + 1000 + 2000ull * j !=
			         now) /* every deadline is one of the clock's steps */
				late++;
			fired++;
		}
	}
	CHECK_EQ(fired, N - 1);
	CHECK_EQ(wrong, 0);
	CHECK_EQ(late, 0);
	weir_ft_free(ft);
}

static void test_timer_far(void)
{
	void *e[3];
	struct weir_flowtab *ft = timer_table(e, 3);
	if (!ft)
		return;
	CHECK(weir_ft_expired(ft, T0) == NULL);
	/* Hours away (many revolutions of the wheel), stepped through 10 s at a time. */
	weir_ft_touch(ft, e[0], T0 + 3 * HOUR);
	weir_ft_touch(ft, e[1], T0 + 3 * HOUR + 7 * MS);
	int early = 0;
	uint64_t t;
	for (t = T0; t < T0 + 3 * HOUR; t += 10 * SEC)
		early += weir_ft_expired(ft, t) != NULL;
	CHECK_EQ(early, 0);
	CHECK(weir_ft_expired(ft, T0 + 3 * HOUR - 1) == NULL);
	CHECK(weir_ft_expired(ft, T0 + 3 * HOUR) == e[0]);
	CHECK(weir_ft_expired(ft, T0 + 3 * HOUR + 7 * MS - 1) == NULL);
	CHECK(weir_ft_expired(ft, T0 + 3 * HOUR + 7 * MS) == e[1]);
	/* Time jumps: one call hours ahead finds everything due, whatever its slot. */
	t = T0 + 4 * HOUR;
	weir_ft_touch(ft, e[0], t + SEC);
	weir_ft_touch(ft, e[1], t + 100 * SEC);
	weir_ft_touch(ft, e[2], t + 2 * HOUR);
	CHECK(weir_ft_expired(ft, t) == NULL);
	int seen = 0;
	void *x;
	while ((x = weir_ft_expired(ft, t + 2 * HOUR - 1)) != NULL)
		seen |= 1 << ((struct tflow *)x)->id;
	CHECK_EQ(seen, 3);
	CHECK(weir_ft_expired(ft, t + 10 * HOUR) == e[2]);
	CHECK(weir_ft_expired(ft, UINT64_MAX) == NULL);
	/* A far deadline armed after a jump to the end of time still works. */
	weir_ft_touch(ft, e[0], UINT64_MAX);
	CHECK(weir_ft_expired(ft, UINT64_MAX - 1) == NULL);
	CHECK(weir_ft_expired(ft, UINT64_MAX) == e[0]);
	weir_ft_free(ft);
}

/* Many deadlines in one 16.8 ms slot: each due one comes out once, none early; and an entry
 * already found due can still be re-armed or removed before it is handed out. */
static void test_timer_same_slot(void)
{
	enum { N = 500 };
	void *e[N];
	struct weir_flowtab *ft = timer_table(e, N);
	if (!ft)
		return;
	uint64_t base = ((T0 >> TICK_SHIFT) + 10) << TICK_SHIFT; /* start of a slot */
	CHECK(weir_ft_expired(ft, T0) == NULL);
	for (uint32_t i = 0; i < N; i++)
		weir_ft_touch(ft, e[i], base + 1000 + i);
	uint8_t got[N] = {0};
	int n = 0, bad = 0;
	void *x;
	while ((x = weir_ft_expired(ft, base + 1000 + 249)) != NULL) {
		uint32_t id = ((struct tflow *)x)->id;
		bad += id >= 250 || got[id];
		got[id] = 1;
		n++;
	}
	CHECK_EQ(n, 250);
	CHECK_EQ(bad, 0);
	/* Half of the rest, then interfere with the entries found due but not yet returned. */
	for (n = 0; n < 100; n++)
		CHECK(weir_ft_expired(ft, base + 1000 + N) != NULL);
	int pending = 0;
	for (uint32_t i = 250; i < N; i++)
		if (((struct weir_ft_entry *)e[i])->deadline_ns != 0)
			pending++;
	CHECK_EQ(pending, 150);
	uint32_t moved = N, gone = N;
	for (uint32_t i = 250; i < N; i++) {
		if (((struct weir_ft_entry *)e[i])->deadline_ns == 0)
			continue;
		if (moved == N) {
			moved = i;
			weir_ft_touch(ft, e[i], base + HOUR);
		} else if (gone == N) {
			gone = i;
			weir_ft_remove(ft, e[i]);
		}
	}
	for (n = 0; weir_ft_expired(ft, base + 1000 + N) != NULL; n++)
		;
	CHECK_EQ(n, 148);
	CHECK(weir_ft_expired(ft, base + HOUR) == (moved < N ? e[moved] : NULL));
	weir_ft_free(ft);
}

/* ---- randomized model test ------------------------------------------------------------- */

/* 2048 keys over 1024 entries with inserts at 25% and removals at 20% of steps: the table
 * hovers around full (equilibrium 0.25(1 - x) = 0.2x gives 1138 wanted), so refusals happen too. */
enum { M_KEYS = 2048, M_CAP = 1024 };

/* The reference: plain arrays indexed by key id. */
struct model {
	struct weir_flowtab *ft;
	uint64_t rng, now, stamp;
	uint32_t count;
	uint64_t last_full_tick; /* clock tick of the last complete drain */
	int order_known;         /* the last drain was complete, so expiry order is predictable */
	uint8_t present[M_KEYS];
	struct tflow *ptr[M_KEYS];
	uint64_t deadline[M_KEYS], lru[M_KEYS];
	struct weir_flow_key key[M_KEYS];
	uint32_t hash[M_KEYS];
	long errors;
	long refused, fired; /* coverage: inserts refused when full, entries expired */
	uint32_t peak;
};

static void m_fail(struct model *m, int ok)
{
	if (!ok)
		m->errors++;
}

static void m_insert(struct model *m, uint32_t id)
{
	if (m->present[id]) {
		m_fail(m, weir_ft_lookup(m->ft, &m->key[id], m->hash[id]) == (void *)m->ptr[id]);
		return;
	}
	struct tflow *f = weir_ft_insert(m->ft, &m->key[id], m->hash[id]);
	if (m->count == M_CAP) {
		m_fail(m, f == NULL);
		m->refused++;
		return;
	}
	m_fail(m, f != NULL && f->id == 0 && f->junk[39] == 0 && f->h.deadline_ns == 0);
	if (!f)
		return;
	f->id = id;
	f->junk[39] = 0xdead; /* must be gone when the entry is reused */
	m->present[id] = 1;
	m->ptr[id] = f;
	m->deadline[id] = 0;
	m->lru[id] = ++m->stamp;
	if (++m->count > m->peak)
		m->peak = m->count;
}

static void m_touch(struct model *m, uint32_t id)
{
	uint64_t r = rnd(&m->rng) % 100, d;
	if (r < 10)
		d = 0;
	else if (r < 20)
		d = m->now - rnd(&m->rng) % (10 * SEC);
	else if (r < 80)
		d = m->now + rnd(&m->rng) % (100 * SEC);
	else if (r < 95)
		d = m->now + rnd(&m->rng) % (400 * SEC);
	else
		d = m->now + rnd(&m->rng) % (5 * HOUR);
	weir_ft_touch(m->ft, m->ptr[id], d);
	m->deadline[id] = d;
	m->lru[id] = ++m->stamp;
}

/* Expiry: every returned entry is live and due; a complete drain returns exactly the due set, and
 * (after a complete drain less than a revolution ago) in order of the slot the wheel keeps it in.
 */
static void m_drain(struct model *m, int limit)
{
	uint64_t now_tick = m->now >> TICK_SHIFT, prev_eff = 0;
	int ordered = m->order_known && now_tick - m->last_full_tick < WHEEL_SLOTS;
	struct tflow *f;
	int n = 0, done = 0;
	for (; limit < 0 || n < limit; n++) {
		if ((f = weir_ft_expired(m->ft, m->now)) == NULL) {
			done = 1;
			break;
		}
		uint32_t id = f->id;
		if (id >= M_KEYS || !m->present[id] || m->ptr[id] != f || m->deadline[id] == 0 ||
		    m->deadline[id] > m->now || f->h.deadline_ns != 0) {
			m->errors++;
			return;
		}
		uint64_t eff = m->deadline[id] >> TICK_SHIFT;
		if (eff < m->last_full_tick)
			eff = m->last_full_tick;
		m_fail(m, !ordered || eff >= prev_eff);
		prev_eff = eff;
		m->deadline[id] = 0;
		m->fired++;
	}
	m->order_known = done;
	if (!done)
		return;
	m->last_full_tick = now_tick;
	for (uint32_t id = 0; id < M_KEYS; id++)
		m_fail(m, !m->present[id] || m->deadline[id] == 0 || m->deadline[id] > m->now);
}

static void m_advance(struct model *m)
{
	uint64_t r = rnd(&m->rng) % 100;
	if (r < 80)
		m->now += rnd(&m->rng) % (50 * MS);
	else if (r < 95)
		m->now += rnd(&m->rng) % (20 * SEC);
	else if (r < 99)
		m->now += rnd(&m->rng) % (200 * SEC);
	else
		m->now += rnd(&m->rng) % (10 * HOUR);
	m_drain(m, rnd(&m->rng) % 5 ? -1 : (int)(rnd(&m->rng) % 6));
}

static void m_check_idlest(struct model *m)
{
	uint32_t best = M_KEYS;
	for (uint32_t id = 0; id < M_KEYS; id++)
		if (m->present[id] && (best == M_KEYS || m->lru[id] < m->lru[best]))
			best = id;
	m_fail(m, weir_ft_idlest(m->ft) == (best == M_KEYS ? NULL : (void *)m->ptr[best]));
}

static void m_step(struct model *m)
{
	uint32_t id = (uint32_t)(rnd(&m->rng) % M_KEYS);
	uint64_t r = rnd(&m->rng) % 100;
	if (r < 25) {
		m_insert(m, id);
	} else if (r < 45) {
		void *want = m->present[id] ? m->ptr[id] : NULL;
		m_fail(m, weir_ft_lookup(m->ft, &m->key[id], m->hash[id]) == want);
	} else if (r < 65) {
		if (m->present[id]) {
			weir_ft_remove(m->ft, m->ptr[id]);
			m->present[id] = 0;
			m->count--;
		}
	} else if (r < 87) {
		if (m->present[id])
			m_touch(m, id);
	} else if (r < 98) {
		m_advance(m);
	} else {
		m_check_idlest(m);
	}
	m_fail(m, weir_ft_count(m->ft) == m->count);
}

static void test_model(void)
{
	struct model *m = calloc(1, sizeof *m);
	CHECK(m != NULL);
	if (!m)
		return;
	m->ft = weir_ft_create(M_CAP, sizeof(struct tflow), BODY(sizeof(struct tflow)));
	CHECK(m->ft != NULL);
	m->rng = 20240611;
	m->now = T0;
	for (uint32_t id = 0; id < M_KEYS; id++) {
		m->key[id] = key_of(id);
		m->hash[id] = weir_flow_key_hash(&m->key[id]);
	}
	long ops = 0;
	for (; m->ft && ops < 1000000 && m->errors == 0; ops++)
		m_step(m);
	if (m->ft)
		m_drain(m, -1);
	fprintf(stderr,
	        "model: %ld ops, %u live at the end (peak %u), %ld refused, %ld expired, clock "
	        "+%.1f h\n",
	        ops, m->count, m->peak, m->refused, m->fired, (double)(m->now - T0) / (double)HOUR);
	CHECK_EQ(m->errors, 0);
	CHECK_EQ(ops, 1000000);
	CHECK(m->refused > 1000 && m->fired > 10000); /* the run really hit both paths */
	weir_ft_free(m->ft);
	free(m);
}

static double ns_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

/* Throughput, printed only: lookups of present keys in random order in a full 64k table. Thread
 * CPU time, so that other processes on a shared machine do not count (their cache use still does).
 */
static void bench_lookup(void)
{
	enum { N = 65536, Q = 1 << 20 };
	struct weir_flowtab *ft = weir_ft_create(N, 512, BODY(512));
	struct weir_flow_key *k = malloc(N * sizeof *k);
	uint32_t *h = malloc(N * sizeof *h), *q = malloc(Q * sizeof *q);
	if (!ft || !k || !h || !q)
		goto out;
	uint64_t s = 7;
	for (uint32_t i = 0; i < N; i++) {
		k[i] = key_of(i);
		h[i] = weir_flow_key_hash(&k[i]);
		weir_ft_insert(ft, &k[i], h[i]);
	}
	for (uint32_t i = 0; i < Q; i++)
		q[i] = (uint32_t)(rnd(&s) % N);
	struct timespec a, b, c, d;
	uintptr_t sink = 0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (uint32_t i = 0; i < Q; i++)
		sink += (uintptr_t)weir_ft_lookup(ft, &k[q[i]], h[q[i]]);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	for (uint32_t i = 0; i < Q; i++)
		sink += (uintptr_t)weir_ft_lookup(ft, &k[q[i]], weir_flow_key_hash(&k[q[i]]));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
	uint64_t now = T0;
	for (uint32_t i = 0; i < Q;
	     i++) { /* per packet: find the flow, re-arm it, poll the wheel */
		void *e = weir_ft_lookup(ft, &k[q[i]], h[q[i]]);
		now += 1000; /* 1 Mpps */
		weir_ft_touch(ft, e, now + 300 * SEC);
		sink += (uintptr_t)weir_ft_expired(ft, now);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &d);
	fprintf(stderr,
	        "lookup: %.1f ns (hash given), %.1f ns (hash + lookup), %.1f ns (lookup + touch + "
	        "expired)"
	        ", 64k flows, cost %zu B/flow [%s]\n",
	        ns_between(&a, &b) / Q, ns_between(&b, &c) / Q, ns_between(&c, &d) / Q,
	        weir_ft_entry_cost(ft), sink ? "ok" : "?");
out:
	weir_ft_free(ft);
	free(k);
	free(h);
	free(q);
}

int main(void)
{
	test_key_v4();
	test_key_v6_vlan();
	test_hash_spread();
	test_create_errors();
	test_zero_size();
	test_capacity();
	test_lazy_pool();
	test_chain_remove();
	test_lru();
	test_timer_basic();
	test_timer_far();
	test_timer_dense();
	test_timer_same_slot();
	test_model();
	bench_lookup();
	return UNIT_DONE();
}
