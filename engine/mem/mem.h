/* mem.h — per-worker memory: one jemalloc arena and tcache per worker and a byte cap with accounting. */
#ifndef WEIR_MEM_H
#define WEIR_MEM_H

#include <stddef.h>
#include <stdint.h>

/** Blocks of this size are kept for reuse when freed: reassembly's first ring
 *  (WEIR_REASM_RING_FIRST), which nearly every flow with payload takes and gives back. */
#define WEIR_MEM_CACHE_BYTES 2048
/** How many such blocks are kept (64 KiB of them at most, outside the cap: they are free). */
#define WEIR_MEM_CACHE_MAX 32

/** One worker's allocator. Owned by the worker; used only on its thread. */
struct weir_mem {
	unsigned arena;   /**< jemalloc arena index (0 when arenas could not be created) */
	unsigned tcache;  /**< the worker's explicit jemalloc tcache, UINT32_MAX when none */
	int flags;        /**< mallocx flags selecting the arena and the tcache */
	uint64_t used;    /**< bytes currently allocated through this allocator */
	uint64_t peak;
	uint64_t cap;     /**< allocations past this fail (counted in fail) */
	uint64_t fail;
	/** Called when an allocation would pass the cap, to free at least need bytes if it can (it
	 *  must only free memory); NULL: none. */
	void (*reclaim)(void *ctx, uint64_t need);
	void *reclaim_ctx;
	unsigned ncached; /**< freed blocks of WEIR_MEM_CACHE_BYTES in cached[], reused first */
	void *cached[WEIR_MEM_CACHE_MAX];
};

/** Creates the worker's arena. Returns 0 or a negative errno. */
int weir_mem_init(struct weir_mem *m, uint64_t cap);
/** Destroys the arena (and the cached blocks). Everything allocated from it must have been
 *  freed. */
void weir_mem_fini(struct weir_mem *m);
/** size bytes from the arena, or NULL when the cap would be exceeded or memory is short. */
void *weir_mem_alloc(struct weir_mem *m, size_t size);
/** Like weir_mem_alloc, zeroed. */
void *weir_mem_zalloc(struct weir_mem *m, size_t size);
/** Frees p, which must have been allocated with size bytes (NULL is a no-op). */
void weir_mem_free(struct weir_mem *m, void *p, size_t size);

#endif
