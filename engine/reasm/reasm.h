/* reasm.h — one side's TCP byte stream: in-order delivery, out-of-order hold, overlaps, gaps, retransmission checks. */
#ifndef WEIR_REASM_H
#define WEIR_REASM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mem/mem.h"
#include "weir.h"

/** A held out-of-order range (offsets are stream offsets). */
struct weir_reasm_frag {
	uint64_t off;
	uint32_t len;
	uint32_t pad;
};

/** A ring's first size: most streams carry little (a 2 KiB ring is a small jemalloc size class,
 *  two to a page). It doubles as delivered bytes come until it holds WEIR_REASM_RING_MIN of them,
 *  and beyond that only when a segment lands further ahead of the in-order point than it holds. */
#define WEIR_REASM_RING_FIRST 2048
/** Delivered bytes a stream keeps peekable (while it buffers): its ring grows to this size. */
#define WEIR_REASM_RING_MIN 16384

/** Most out-of-order ranges one side holds at once; a segment that would need more is outrun. */
#define WEIR_REASM_MAX_FRAGS 16

/**
 * One direction's stream. Offset 0 is the byte at seq0 (ISN + 1). Bytes are held in a ring of
 * cap bytes covering stream offsets [base, base + cap): delivered bytes from base to next, then
 * out-of-order ranges (frags) up to base + cap. The ring is allocated on first payload and grows
 * up to cap_max. Bytes skipped as a gap read as zeros (counted in gap_bytes), so [base, next)
 * is always one peekable run.
 */
struct weir_stream {
	/* What most segments read or write first: 56 bytes, within the side's first two cache
	 * lines (struct weir_tcp_side). */
	uint8_t *ring;           /**< NULL until the first byte is stored, or when buffering is off */
	uint32_t cap;            /**< ring size now: starts at WEIR_REASM_RING_FIRST, doubles as needed */
	uint32_t seq0;           /**< sequence number of offset 0 */
	uint32_t cap_max;        /**< the side's buffer limit: the ring never grows past it */
	uint8_t nfrags;
	uint8_t started;         /**< 1 once seq0 is known */
	uint8_t buffering;       /**< 0: nothing is stored, only offsets and counters are kept */
	uint8_t overlap;         /**< enum weir_overlap */
	uint64_t base;           /**< oldest offset held */
	uint64_t next;           /**< next in-order offset (delivered + gaps skipped) */
	uint64_t last;           /**< highest offset + 1 received */
	uint64_t delivered;      /**< bytes delivered in order */
	/* Then what only held ranges, gaps and discards touch. */
	struct weir_reasm_frag *frags; /**< sorted, disjoint, all above next: WEIR_REASM_MAX_FRAGS of them,
	                                    taken from the stream memory when the first range is held out
	                                    of order (most streams never hold one) */
	uint64_t gap_bytes;      /**< bytes skipped as never seen */
	uint64_t outrun_bytes;
	/* Segment counts in 32 bits, which keeps a flow's entry small: they stop at UINT32_MAX
	 * (weir_count32) and never wrap. */
	uint32_t ooo_pkts, overlaps, overlap_diff;
	uint32_t pad;
};
_Static_assert(sizeof(struct weir_stream) == 96, "a stream is 96 bytes: it is part of every flow entry");

/** Counts one more into a 32-bit counter of a flow: it stays at UINT32_MAX once there (a flow's
 *  packets must not wrap it to 0). */
static inline void weir_count32(uint32_t *c)
{
	*c += *c != UINT32_MAX;
}

/** What one weir_stream_add() / weir_stream_ack() did. */
struct weir_reasm_res {
	uint32_t delivered;      /**< new in-order bytes now readable from the old next */
	uint32_t gap;            /**< bytes skipped as a gap by this call */
	uint32_t outrun;         /**< bytes discarded: out of order and beyond the ring */
	uint8_t old_data;        /**< 1: some bytes of the segment were below next (already delivered) */
	uint8_t rexmit_diff;     /**< 1: of those, some still held differ from the new copy */
	uint8_t ooo;             /**< 1: the segment was held out of order */
	uint8_t overlap;         /**< 1: it overlapped held out-of-order bytes */
	uint8_t overlap_diff;    /**< 1: with different bytes */
	uint8_t memfail;         /**< 1: the ring could not be allocated (the side stops buffering) */
	uint8_t holes;           /**< how many separate holes the gap bytes came from */
	uint8_t pad;
};

/** What a stream update may change, saved so that the update can be undone (an inline drop: the
 *  receiver never got the segment). The ring's bytes are not saved: they stay in place. */
struct weir_stream_snap {
	uint64_t base, next, last, delivered, gap_bytes, outrun_bytes;
	uint32_t ooo_pkts, overlaps, overlap_diff, pad32;
	struct weir_reasm_frag frags[WEIR_REASM_MAX_FRAGS];
	uint8_t nfrags;
	uint8_t pad[7];
};

/** Prepares an empty stream (not started) whose buffer may grow to cap bytes. */
void weir_stream_init(struct weir_stream *s, uint32_t cap, uint8_t overlap, bool buffering);
/** weir_stream_init() of a stream whose bytes are all zero already (in a zeroed connection). */
void weir_stream_init_zeroed(struct weir_stream *s, uint32_t cap, uint8_t overlap, bool buffering);
/** Fixes offset 0 at seq0. Idempotent once started. */
void weir_stream_start(struct weir_stream *s, uint32_t seq0);
/** Releases the ring (the stream keeps its offsets and counters). */
void weir_stream_release(struct weir_stream *s, struct weir_mem *m);
/** Gives up every held out-of-order range (its bytes count as outrun) and gives back their array,
 *  and the ring too when it holds no delivered byte (base == next, so no view points into it):
 *  what the memory cap takes from one flow for another. Returns the bytes given up. */
uint64_t weir_stream_drop_held(struct weir_stream *s, struct weir_mem *m);
/** Releases the ring and, when no range is held, the held ranges' array: all the stream's memory
 *  (it goes on by offset and takes memory again if it needs it). */
void weir_stream_fini(struct weir_stream *s, struct weir_mem *m);
/** The 64-bit stream offset of seq, taken as the one nearest to s->next (handles wrap-around).
 *  Inline: every segment and every ack asks it. */
static inline int64_t weir_stream_offset(const struct weir_stream *s, uint32_t seq)
{
	const uint32_t next_seq = s->seq0 + (uint32_t)s->next;
	return (int64_t)s->next + (int32_t)(seq - next_seq);
}
/** Whether ack lies beyond next: only then can weir_stream_ack() change anything (most acks
 *  do not, and the caller skips the call). */
static inline bool weir_stream_ack_passes(const struct weir_stream *s, uint32_t ack)
{
	return s->started && weir_stream_offset(s, ack) > (int64_t)s->next;
}
/** Adds len payload bytes that start at seq. Delivers what becomes in order, holds what is ahead
 *  (within the ring), applies the overlap policy to bytes not yet delivered, compares
 *  retransmitted bytes with what is still held. Fills *res (zeroed first). */
void weir_stream_add(struct weir_stream *s, struct weir_mem *m, uint32_t seq, const uint8_t *data,
                     uint32_t len, struct weir_reasm_res *res);
/** The peer acknowledged everything before ack: offsets below it that were never seen are skipped
 *  (counted in gap_bytes) and held ranges that become in order are delivered. */
void weir_stream_ack(struct weir_stream *s, uint32_t ack, struct weir_reasm_res *res);
/** End of stream: skips every hole and delivers all held ranges. */
void weir_stream_flush(struct weir_stream *s, struct weir_reasm_res *res);
/** Copies delivered bytes [off, off+len) (clipped to next; gap bytes read as zeros). -ENODATA if
 *  off < base, -EINVAL if buffering is off. Returns bytes copied (0 when off >= next). */
ssize_t weir_stream_peek(const struct weir_stream *s, uint64_t off, void *buf, size_t len);
/** Points *ptr at the contiguous delivered bytes at off (up to the ring's end). Errors as peek. */
ssize_t weir_stream_view(const struct weir_stream *s, uint64_t off, const uint8_t **ptr);
/** Copies up to max held ranges to out; returns the number held. */
int weir_stream_frags(const struct weir_stream *s, struct weir_frag *out, unsigned max);
/** Turns buffering off (the ring is released; ranges are still tracked by offset without bytes,
 *  so delivery and gap counters stay exact) or back on (bytes are stored from then on). */
void weir_stream_set_buffering(struct weir_stream *s, struct weir_mem *m, bool on);
/** Saves the offsets and counters of s before an update that may have to be undone. */
void weir_stream_snapshot(const struct weir_stream *s, struct weir_stream_snap *snap);
/** Undoes the updates since snap: offsets, held ranges and counters go back; the ring, its size,
 *  buffering and the overlap policy stay as they are now (the ring may have grown, a handler may
 *  have turned buffering off). Delivered bytes the ring still holds stay peekable. Held ranges
 *  whose bytes the update overwrote (an in-order segment longer than the ring) are discarded
 *  and counted in outrun_bytes. Under WEIR_OVERLAP_LAST a held range the update overlapped keeps
 *  the update's copy of those bytes. */
void weir_stream_restore(struct weir_stream *s, const struct weir_stream_snap *snap);
/** Bytes currently held out of order. */
uint32_t weir_stream_held(const struct weir_stream *s);

#endif
