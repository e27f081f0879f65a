/* defrag.h — per-worker IPv4/IPv6 defragmentation: fragments of a datagram that can carry TCP in,
 * the whole IP packet out, under a memory cap, a timeout, a fragment cap and an overlap policy. */
#ifndef WEIR_DEFRAG_H
#define WEIR_DEFRAG_H

#include <stdint.h>

#include "weir.h"

/** Largest IP packet a datagram may become (the 16-bit IPv4 total length; for IPv6 the payload
 *  length, so 40 bytes more on the wire). */
#define WEIR_DEFRAG_IP_MAX 65535u

struct weir_defrag;

/** A completed datagram: the whole IP packet (IPv4 header of the first fragment with the total
 *  length, flags and checksum fixed; IPv6 header and extension headers before the fragment header,
 *  the fragment header removed). ip is the defragmenter's buffer: valid until its next
 *  weir_defrag_add(). */
struct weir_defrag_dgram {
	const uint8_t *ip;
	uint32_t len;
	uint8_t ip_ver;
	uint8_t overlap_diff; /**< 1: fragments overlapped with different bytes */
};

/**
 * Creates a defragmenter from cfg's defrag_* fields (memory cap, timeout, fragments per datagram,
 * overlap policy) and tunnel_depth (0: only TCP datagrams are reassembled), counting into
 * st[WEIR_DF_COUNT] (enum weir_defrag_counter; it must outlive d, and the memory counters are kept
 * current). NULL + errno (EINVAL: a zero cap, timeout or fragment count, a bad policy; ENOMEM). The
 * caller's thread only.
 */
struct weir_defrag *weir_defrag_create(const struct weir_config *cfg, uint64_t *st);
/** Frees d and every datagram it holds. NULL is a no-op. */
void weir_defrag_free(struct weir_defrag *d);

/**
 * Takes fragment p, a view weir_parse() returned WEIR_PARSE_FRAGMENT for (its frame holds caplen
 * bytes; its vlan ids are part of the datagram's key), at time now_ns, which also expires the
 * datagrams older than the timeout. Returns an enum weir_frag_outcome: WEIR_FRAG_DONE fills *out
 * with the completed datagram; HELD (kept), FAILED (the datagram is given up, counted by reason)
 * and NOT_TCP (a datagram that carries nothing weir decodes: nothing kept) do not touch *out.
 * Reassembled are datagrams of TCP and, when cfg's tunnel_depth is not 0, of the protocols a
 * tunnel the decoder takes off comes in (UDP, GRE, IPv4 and IPv6 in IP): a completed one may
 * still turn out to carry no TCP (a plain UDP datagram). Fragments are keyed by
 * (source, destination, id, protocol) for IPv4, (source, destination, id) for IPv6, and the VLAN
 * ids. An atomic fragment (offset 0, no more fragments) is a datagram of its own (RFC 6946).
 */
int weir_defrag_add(struct weir_defrag *d, const struct weir_pkt *p, uint32_t caplen,
                    uint64_t now_ns, struct weir_defrag_dgram *out);

#endif
