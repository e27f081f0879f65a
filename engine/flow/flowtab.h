/* flowtab.h — per-worker flow table: symmetric keys, an entry pool touched only as flows take it, LRU order and a timer wheel. */
#ifndef WEIR_FLOWTAB_H
#define WEIR_FLOWTAB_H

#include <stddef.h>
#include <stdint.h>

#include "weir.h"

/** Symmetric flow key: endpoint a is the lower (address, port) of the two, so both directions of a
 *  connection build the same key. VLAN-aware, and tunnel-aware where a tunnel names a segment in
 *  both directions (weir_pkt.tun_keyed, tun_id: a VXLAN/Geneve VNI, a GRE key); other tunnels
 *  leave the key as if the packet had been seen directly. Padding is zeroed so keys compare with
 *  memcmp. */
struct weir_flow_key {
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint16_t vlan[2];
	uint8_t ip_ver;
	uint8_t tun_keyed; /**< enum weir_tunnel of tun_id; 0 when none */
	uint8_t pad[2];
	uint32_t tun_id;
};

/** Header every table entry starts with (the flow object embeds it as its first member). */
struct weir_ft_entry {
	struct weir_flow_key key;
	uint32_t hash;
	uint32_t chain;          /**< next entry index in the bucket, UINT32_MAX at the end */
	uint32_t chain_prev;     /**< previous entry index in the bucket, UINT32_MAX for the first */
	uint32_t lru_prev, lru_next;
	uint32_t tw_prev, tw_next;
	uint32_t tw_slot;        /**< wheel slot the entry is linked in, UINT32_MAX when not armed */
	uint32_t in_use;
	uint64_t deadline_ns;    /**< when the entry expires; 0 = never */
};

struct weir_flowtab;

/** Builds the key of p's flow. Returns 0 if p was sent by endpoint a, 1 if by endpoint b. */
int weir_flow_key_make(struct weir_flow_key *k, const struct weir_pkt *p);
/** Hash of a key (direction-independent since the key is). */
uint32_t weir_flow_key_hash(const struct weir_flow_key *k);

/** Creates a table of capacity entries of entry_size bytes each (>= sizeof(struct weir_ft_entry)),
 *  allocated but not touched until flows take them. weir_ft_insert() zeroes the first zero_size
 *  bytes after the header (at most entry_size - the header) and leaves the rest as the entry's
 *  last user left it: a caller that initialises part of its entry itself writes it once. NULL +
 *  errno (EINVAL, ENOMEM). */
struct weir_flowtab *weir_ft_create(uint32_t capacity, size_t entry_size, size_t zero_size);
/** Frees the table and its pool. NULL is a no-op. */
void weir_ft_free(struct weir_flowtab *ft);
uint32_t weir_ft_count(const struct weir_flowtab *ft);
uint32_t weir_ft_capacity(const struct weir_flowtab *ft);
/** Bytes the table costs per entry (entry, bucket share). */
size_t weir_ft_entry_cost(const struct weir_flowtab *ft);
/** The entry with key k, or NULL. O(1) expected. */
void *weir_ft_lookup(struct weir_flowtab *ft, const struct weir_flow_key *k, uint32_t hash);
/** Starts loading the bucket of hash into the cache (a lookup soon after finds it there). */
void weir_ft_prefetch_bucket(const struct weir_flowtab *ft, uint32_t hash);
/** Starts loading the first entry of hash's bucket (its first lines) into the cache; the bucket
 *  itself should have been prefetched a little earlier. */
void weir_ft_prefetch_entry(const struct weir_flowtab *ft, uint32_t hash);
/** Takes an entry from the pool for k (which must not be present), its zero_size bytes after the
 *  header zeroed (weir_ft_create), placed last in LRU order, not armed. NULL when the pool is
 *  empty. */
void *weir_ft_insert(struct weir_flowtab *ft, const struct weir_flow_key *k, uint32_t hash);
/** Unlinks the entry from the table, LRU and wheel and returns it to the pool. */
void weir_ft_remove(struct weir_flowtab *ft, void *entry);
/** Marks activity: moves the entry to the LRU tail and (re)arms it to expire at deadline_ns
 *  (0 disarms). O(1). */
void weir_ft_touch(struct weir_flowtab *ft, void *entry, uint64_t deadline_ns);
/** The least recently touched entry, or NULL when empty. */
void *weir_ft_idlest(struct weir_flowtab *ft);
/** Returns one entry whose deadline is <= now_ns and disarms it (it stays in the table), or NULL
 *  when none is due. Amortised O(1) per call; call until NULL. */
void *weir_ft_expired(struct weir_flowtab *ft, uint64_t now_ns);

#endif
