/* test_mem.c — per-worker arena allocator: accounting, cap, peak, failures. */
#include "mem/mem.h"
#include "unit.h"

int main(void)
{
	struct weir_mem a, b;
	CHECK_EQ(weir_mem_init(&a, 4096), 0);
	CHECK_EQ(weir_mem_init(&b, 1 << 20), 0);
	CHECK(a.arena != b.arena);

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
	return UNIT_DONE();
}
