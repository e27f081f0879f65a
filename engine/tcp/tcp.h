/* tcp.h — the two emulated TCP endpoints of a flow: per-side state machines, updated sender first, then receiver. */
#ifndef WEIR_TCP_H
#define WEIR_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/mem.h"
#include "reasm/reasm.h"
#include "weir.h"

/** Sequence-space comparisons (mod 2^32); never compare sequence numbers with < directly. */
#define WEIR_SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define WEIR_SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define WEIR_SEQ_GT(a, b) WEIR_SEQ_LT(b, a)
#define WEIR_SEQ_GEQ(a, b) WEIR_SEQ_LEQ(b, a)

/** weir_tcp_side.flags */
#define WEIR_TCPF_ISN_KNOWN 0x01  /* isn/snd_nxt are valid (a packet of this side was seen) */
#define WEIR_TCPF_WSCALE 0x02     /* window scaling in effect (both SYNs carried the option) */
#define WEIR_TCPF_FIN_SENT 0x04   /* fin_seq is valid */
#define WEIR_TCPF_FIN_ACKED 0x08
#define WEIR_TCPF_RST 0x10        /* this side sent an accepted RST */
#define WEIR_TCPF_STOPPED 0x20    /* monitoring of this side was stopped */
#define WEIR_TCPF_WIN_KNOWN 0x40  /* rcv_wnd is exact: this side's scale factor (or its SYN's unscaled window) is known */

/** weir_flow_record.zflags bits, per side */
#define WEIR_ZF_SYN 0x01
#define WEIR_ZF_SYNACK 0x02
#define WEIR_ZF_FIN 0x04
#define WEIR_ZF_RST 0x08
#define WEIR_ZF_DATA 0x10
#define WEIR_ZF_ACK 0x20
#define WEIR_ZF_ESTABLISHED 0x40

/** One endpoint as the box believes it to be. The stream holds the bytes this side SENT. */
struct weir_tcp_side {
	/* What every packet reads or writes: these 72 bytes and the stream's first 56 fill the
	 * side's first two cache lines. */
	uint64_t pkts, bytes, payload;
	uint64_t nxt_ts_ns;      /**< when snd_nxt last advanced: a late original is told from a retransmission by it */
	uint64_t last_ts_ns;     /**< when its latest packet was seen */
	uint32_t isn, snd_una, snd_nxt;
	uint32_t rcv_wnd;        /**< window this side last advertised, scaled */
	uint32_t last_ack;       /**< ack field of its latest packet */
	uint16_t last_win;       /**< raw window field of its latest packet */
	uint16_t dupacks;        /**< duplicate ACKs in a row (a fast retransmission answers them); stops at UINT16_MAX */
	uint8_t state;           /**< enum weir_tcp_state */
	uint8_t wscale;          /**< shift announced in its SYN, 0xff when none */
	uint8_t flags;           /**< WEIR_TCPF_* */
	uint8_t zflags;          /**< WEIR_ZF_* */
	uint8_t sack_perm, has_ts;
	uint8_t wnd_shift;       /**< shift of the windows it advertises, 0xff while unknown: set by
	                              the sender update of every SYN, since only SYNs change it */
	uint8_t pad;
	struct weir_stream stream;
	/* Then what only retransmissions, SYNs and FINs touch. */
	uint64_t rexmit_bytes;
	/* Segment counts in 32 bits, which keeps a flow's entry small: they stop at UINT32_MAX
	 * (weir_count32) and never wrap. */
	uint32_t rexmit_pkts;
	uint32_t resent_pkts;    /**< segments re-sending sequence space, before Wireshark's timing rule */
	uint32_t fin_seq;
	uint16_t mss;
	uint8_t pad2[2];
};
_Static_assert(sizeof(struct weir_tcp_side) == 192, "a side is 192 bytes: it is part of every flow entry");
_Static_assert(offsetof(struct weir_tcp_side, stream) + offsetof(struct weir_stream, frags) == 128,
               "a side's per-packet fields fill its first two cache lines");

/** Zeek history: letters in the order first seen; upper case for the client. */
struct weir_tcp_history {
	char s[32];
	uint8_t len;
	uint8_t cut_pending;     /**< bit per side: cut_from holds bytes no ACK has passed yet */
	uint8_t pad[2];
	uint32_t seen[2];        /**< per side, bit (letter - 'a') once a once-only letter was logged */
	uint32_t rep_cnt[2][4];  /**< per side, c/g/t/w seen since the letter was last logged */
	uint8_t rep_exp[2][4];   /**< per side, the letter is logged again at count 10^rep_exp (1, 10, 100...) */
	uint32_t cut_from[2];    /**< per side, the first byte of segment tails cut by the snap length
	                              (skipped by the stream at once) that no ACK has passed yet */
};

/** Both endpoints. */
struct weir_tcp_conn {
	struct weir_tcp_side side[2];   /**< indexed by enum weir_side */
	struct weir_tcp_history hist;
	uint8_t handshake_done;
	uint8_t midstream;
	uint8_t ended;                  /**< 1 once the connection is over (FIN both ways acked, or RST) */
	uint8_t end_reason;             /**< enum weir_close_reason when ended */
	uint64_t syn_ts_ns;             /**< time of the latest SYN without ACK */
	uint64_t first_rtt_ns;          /**< SYN to the first ACK without SYN (0 = unknown): bounds reordering */
};

/** What the receiver's update may change, saved before it so that it can be undone when the
 *  packet is dropped inline after it (the receiver never got the packet). What handlers control
 *  (buffering, overlap policy, stopped sides) is not part of it. */
struct weir_tcp_snap {
	struct weir_stream_snap stream[2];
	struct weir_tcp_history hist;
	uint32_t snd_una[2];
	uint8_t state[2], zflags[2], flags[2];
	uint8_t handshake_done, ended, end_reason;
	uint8_t pad[7];
};

/** Most anomalies one stage reports. */
#define WEIR_TCP_MAX_ANOM 4

/** What one stage did, for the event layer. */
struct weir_tcp_out {
	uint32_t events;                /**< bits 1u << enum weir_event raised at this stage */
	uint32_t new_bytes;             /**< NEW_DATA: in-order bytes added to the sender's stream */
	uint8_t old_state, new_state;   /**< STATE_CHANGE: of the stage's side */
	uint8_t nanom;
	uint8_t anom[WEIR_TCP_MAX_ANOM];/**< enum weir_anomaly */
	uint8_t pad;
	uint32_t peer_new_bytes;        /**< receiver update only: in-order bytes added to the RECEIVER's stream
	                                     because the sender's ack skipped a gap (a NEW_DATA whose side is the
	                                     receiver; not reflected in events, which describe the sender) */
};

/** Which side sent the first packet p of a new flow: WEIR_SIDE_SERVER for a SYN+ACK, else
 *  WEIR_SIDE_CLIENT. */
int weir_tcp_first_sender(const struct weir_pkt *p);
/** Initialises c for a new flow whose first packet p was sent by side sender. midstream: the
 *  first packet is not a SYN (both sides start ESTABLISHED). A SYN+ACK first is mid-stream too
 *  (c->midstream = 1, no HANDSHAKE_DONE) but keeps the handshake: its sender starts LISTEN and
 *  the peer SYN_SENT with ISN ack - 1, and the history starts with Zeek's flip letter '^'.
 *  cap/overlap/buffering set up both streams. */
void weir_tcp_init(struct weir_tcp_conn *c, const struct weir_pkt *p, int sender, bool midstream,
                   uint32_t cap, uint8_t overlap, bool buffering);
/** PRE: classifies p before any update. Sets REXMIT when p re-sends sequence space (SYN, FIN or
 *  payload) that its sender already sent; changes nothing. */
void weir_tcp_pre(const struct weir_tcp_conn *c, int sender, const struct weir_pkt *p, struct weir_tcp_out *o);
/** The sender's update: its state as the sender of p (SYN_SENT, FIN_WAIT_1, ...), snd_nxt, its
 *  advertised window and options, its counters and history. Raises STATE_CHANGE, ANOMALY. */
void weir_tcp_sender_update(struct weir_tcp_conn *c, int sender, const struct weir_pkt *p, struct weir_tcp_out *o);
/** The receiver's update: its state as the receiver of p, RST window check, ACK processing of the
 *  sender's ack (gaps in the receiver's own stream), the payload into the sender's stream.
 *  Raises STATE_CHANGE, NEW_DATA, HANDSHAKE_DONE, ANOMALY; sets c->ended when the connection is over. */
void weir_tcp_receiver_update(struct weir_tcp_conn *c, struct weir_mem *m, int sender,
                              const struct weir_pkt *p, struct weir_tcp_out *o);
/** Saves what weir_tcp_receiver_update() may change. */
void weir_tcp_snapshot(const struct weir_tcp_conn *c, struct weir_tcp_snap *snap);
/** Undoes the receiver's update taken after snap: both sides' states, acknowledgements and
 *  streams (weir_stream_restore), the history, handshake and end. The sender's update stays
 *  (the sender did send the packet). */
void weir_tcp_restore(struct weir_tcp_conn *c, const struct weir_tcp_snap *snap);
/** The flow is ending: skips every hole of both streams (a gap, in the history too) and delivers
 *  what they hold. Idempotent. */
void weir_tcp_flush(struct weir_tcp_conn *c);
/** End of the flow: flushes both streams (holes become gaps) and releases their memory. */
void weir_tcp_finish(struct weir_tcp_conn *c, struct weir_mem *m);
/** Releases both streams' memory (weir_stream_fini); the streams go on by offset and take memory
 *  again if new bytes come (an ended connection that lingers holds none). */
void weir_tcp_release(struct weir_tcp_conn *c, struct weir_mem *m);

#endif
