/* test_mem.c — per-worker arena allocator: accounting, cap, peak, failures, reused blocks. */
#include "mem/mem.h"
#include "unit.h"

#ifdef WEIR_MEM_CHECKED
#include <sanitizer/asan_interface.h>

/* The sanitizer builds allocate through malloc (mem.c): the byte past a block is a red zone and a
 * freed block is poisoned, not kept for reuse, so a stray access to a ring is reported. */
static void test_checked(void)
{
	struct weir_mem m;
	CHECK_EQ(weir_mem_init(&m, 1 << 20), 0);
	uint8_t *p = weir_mem_alloc(&m, WEIR_MEM_CACHE_BYTES);
	CHECK(p != NULL);
	CHECK(!__asan_address_is_poisoned(p + WEIR_MEM_CACHE_BYTES - 1));
	CHECK(__asan_address_is_poisoned(p + WEIR_MEM_CACHE_BYTES));
	weir_mem_free(&m, p, WEIR_MEM_CACHE_BYTES);
	CHECK(__asan_address_is_poisoned(p));
	CHECK_EQ(m.ncached, 0);
	CHECK_EQ(m.used, 0);
	weir_mem_fini(&m);
}
#endif

int main(void)
{
	struct weir_mem a, b;
	CHECK_EQ(weir_mem_init(&a, 4096), 0);
	CHECK_EQ(weir_mem_init(&b, 1 << 20), 0);
#ifdef WEIR_MEM_CHECKED
	test_checked();
#else
	CHECK(a.arena != b.arena);
#endif

	void *p = weir_mem_alloc(&a, 1000);
	CHECK(p != NULL);
	CHECK_EQ(a.used, 1000);
	void *q = weir_mem_zalloc(&a, 3000);
	CHECK(q != NULL);
	CHECK_EQ(((unsigned char *)q)[2999], 0);
	CHECK_EQ(a.used, 4000);
	/* past the cap: refused and counted, nothing allocated */
	CHECK(weir_mem_alloc(&a, 200) == NULL);
	CHECK_EQ(a.fail, 1);
	CHECK_EQ(a.used, 4000);
	CHECK(weir_mem_alloc(&a, 0) == NULL);
	CHECK_EQ(a.fail, 2);
	weir_mem_free(&a, p, 1000);
	CHECK_EQ(a.used, 3000);
	CHECK_EQ(a.peak, 4000);
	weir_mem_free(&a, NULL, 123); /* no-op */
	CHECK_EQ(a.used, 3000);
	weir_mem_free(&a, q, 3000);
	CHECK_EQ(a.used, 0);

	/* the second worker's accounting is independent */
	void *r = weir_mem_alloc(&b, 5000);
	CHECK(r != NULL);
	CHECK_EQ(b.used, 5000);
	CHECK_EQ(a.used, 0);
	weir_mem_free(&b, r, 5000);

	weir_mem_fini(&a);
	weir_mem_fini(&b);

#ifndef WEIR_MEM_CHECKED /* the sanitizer builds keep no freed blocks (test_checked) */
	/* freed blocks of WEIR_MEM_CACHE_BYTES are reused, under the same accounting and cap */
	struct weir_mem c;
	CHECK_EQ(weir_mem_init(&c, 2 * WEIR_MEM_CACHE_BYTES), 0);
	void *x = weir_mem_alloc(&c, WEIR_MEM_CACHE_BYTES);
	CHECK(x != NULL);
	weir_mem_free(&c, x, WEIR_MEM_CACHE_BYTES);
	CHECK_EQ(c.used, 0);
	CHECK_EQ(c.ncached, 1);
	void *y = weir_mem_alloc(&c, WEIR_MEM_CACHE_BYTES);
	CHECK(y == x);
	CHECK_EQ(c.ncached, 0);
	CHECK_EQ(c.used, WEIR_MEM_CACHE_BYTES);
	CHECK_EQ(c.peak, WEIR_MEM_CACHE_BYTES);
	weir_mem_free(&c, y, WEIR_MEM_CACHE_BYTES);
	void *big = weir_mem_alloc(&c, WEIR_MEM_CACHE_BYTES + 1);
	CHECK(big != NULL);
	CHECK(weir_mem_alloc(&c, WEIR_MEM_CACHE_BYTES) == NULL); /* a cached block too */
	CHECK_EQ(c.fail, 1);
	CHECK_EQ(c.ncached, 1);
	weir_mem_free(&c, big, WEIR_MEM_CACHE_BYTES + 1);
	weir_mem_fini(&c);
	CHECK_EQ(c.ncached, 0);

	/* at most WEIR_MEM_CACHE_MAX are kept; the others go back to the arena */
	void *many[WEIR_MEM_CACHE_MAX + 8];
	CHECK_EQ(weir_mem_init(&c, 1 << 20), 0);
	for (unsigned i = 0; i < WEIR_MEM_CACHE_MAX + 8; i++)
		CHECK((many[i] = weir_mem_alloc(&c, WEIR_MEM_CACHE_BYTES)) != NULL);
	for (unsigned i = 0; i < WEIR_MEM_CACHE_MAX + 8; i++)
		weir_mem_free(&c, many[i], WEIR_MEM_CACHE_BYTES);
	CHECK_EQ(c.ncached, WEIR_MEM_CACHE_MAX);
	CHECK_EQ(c.used, 0);
	weir_mem_fini(&c);
#endif
	return UNIT_DONE();
}
