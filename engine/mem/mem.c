/* mem.c — per-worker jemalloc arenas with a byte cap, so workers never contend on one allocator. */
#include "mem.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef WEIR_MEM_CHECKED
/* The sanitizer builds (WEIR_SANITIZE, WEIR_FUZZ) take the worker's memory from malloc, which
 * AddressSanitizer watches: red zones around every ring, use after free, leaks. jemalloc's arenas
 * and the cache of freed blocks below would hide every stream access from it. The accounting and
 * the cap are the same. */
enum { CHECKED = 1 };
#else
enum { CHECKED = 0 };
#endif

int weir_mem_init(struct weir_mem *m, uint64_t cap)
{
	memset(m, 0, sizeof(*m));
	m->cap = cap;
	m->tcache = UINT32_MAX;
	if (CHECKED)
		return 0;
	unsigned arena = 0;
	size_t sz = sizeof(arena);
	if (mallctl("arenas.create", &arena, &sz, NULL, 0) != 0)
		return -ENOMEM;
	m->arena = arena;
	/* A cache of the worker's own (an explicit tcache, never the thread's automatic one, which all
	 * arenas of a thread share): without one every ring's allocation and free took the arena's
	 * lock and its slow path, about 1,000 instructions each, 4 per short flow. */
	unsigned tcache = 0;
	sz = sizeof(tcache);
	if (mallctl("tcache.create", &tcache, &sz, NULL, 0) == 0) {
		m->tcache = tcache;
		m->flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE(tcache);
	} else {
		m->flags = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
	}
	return 0;
}

void weir_mem_fini(struct weir_mem *m)
{
	while (m->ncached)
		sdallocx(m->cached[--m->ncached], WEIR_MEM_CACHE_BYTES, m->flags);
	if (m->flags != 0) {
		if (m->tcache != UINT32_MAX) /* its cached blocks go back to the arena first */
			mallctl("tcache.destroy", NULL, NULL, &m->tcache, sizeof(m->tcache));
		char name[48];
		snprintf(name, sizeof(name), "arena.%u.destroy", m->arena);
		mallctl(name, NULL, NULL, NULL, 0);
	}
	m->flags = 0;
}

void *weir_mem_alloc(struct weir_mem *m, size_t size)
{
	if (size && m->used + size > m->cap && m->reclaim)
		m->reclaim(m->reclaim_ctx, m->used + size - m->cap);
	if (size == 0 || m->used + size > m->cap) {
		m->fail++;
		return NULL;
	}
	void *p;
	if (CHECKED)
		p = malloc(size);
	else if (size == WEIR_MEM_CACHE_BYTES && m->ncached)
		p = m->cached[--m->ncached]; /* jemalloc's own cache takes about 130 instructions */
	else
		p = mallocx(size, m->flags);
	if (!p) {
		m->fail++;
		return NULL;
	}
	m->used += size;
	if (m->used > m->peak)
		m->peak = m->used;
	return p;
}

void *weir_mem_zalloc(struct weir_mem *m, size_t size)
{
	void *p = weir_mem_alloc(m, size);
	if (p)
		memset(p, 0, size);
	return p;
}

void weir_mem_free(struct weir_mem *m, void *p, size_t size)
{
	if (!p)
		return;
	m->used -= size;
	if (CHECKED)
		free(p);
	else if (size == WEIR_MEM_CACHE_BYTES && m->ncached < WEIR_MEM_CACHE_MAX)
		m->cached[m->ncached++] = p;
	else
		sdallocx(p, size, m->flags);
}
