/* core.h — the worker's internal layout: flows, monitoring sockets, UDEs, timers and the poll state
 * machine. */
#ifndef WEIR_CORE_H
#define WEIR_CORE_H

#include <pcap/pcap.h>

#include "defrag/defrag.h"
#include "flow/flowtab.h"
#include "mem/mem.h"
#include "tcp/tcp.h"
#include "weir.h"

/** Most sockets per worker: a flow's scope is a 64-bit mask of socket ids. */
#define WEIR_MAX_SOCKS 64

struct weir_flow_user {
	uint16_t sock;
	void *ptr;
};
/** Link types a socket keeps a compiled filter for (replays rarely mix more). */
#define WEIR_MSOCK_PROGS 4
/** Parse-ahead: packets parsed (and buckets prefetched) this far ahead of the one in progress;
 *  their entries are prefetched WEIR_AHEAD_ENTRY ahead; slots: a power of two above AHEAD. */
#define WEIR_AHEAD       4
#define WEIR_AHEAD_ENTRY 2
#define WEIR_AHEAD_SLOTS 8
/** Record queue: one hook point of one packet raises at most this many records
 *  (64 sockets x a few events, plus anomalies); more are counted as lost. */
#define WEIR_QUEUE_MAX 1024

struct weir_flow {
	struct weir_ft_entry ft; /* first: the table's header */
	struct weir_worker *w;
	uint64_t id;
	uint64_t start_ns, last_ns;
	uint64_t sock_mask; /* sockets whose scope matched the first packet */
	uint8_t client_dir; /* weir_flow_key_make() direction of the client's packets: the
	                       client is the key's endpoint a when 0, b when 1 */
	uint8_t ended;      /* CONN_END raised; the entry lingers for late packets */
	uint8_t bypassed;   /* monitoring stopped on both sides */
	uint8_t end_reason;
	uint8_t syn_pending; /* a client SYN of ISN syn_isn awaits the server's answer */
	uint8_t tun_type;    /* enum weir_tunnel around the first packet (weir_pkt.tun_type) */
	uint8_t tun_depth;   /* tunnels around the first packet (in padding, as syn_isn) */
	uint8_t holding;     /* linked in the worker's holders list (w->hold_head) */
	struct weir_flow_user
	    *user;        /* WEIR_FLOW_USERS slots, taken on the first weir_flow_set_user() */
	uint8_t top_slot; /* index + 1 in the worker's top-flows sample, 0 when not in it */
	uint32_t syn_isn; /* (in padding: a flow entry stays within its cache lines) */
	uint32_t scoped;  /* w->socks_born when sock_mask was last computed */
	/* Tunneled flows only: the outermost header of the first packet (NULL otherwise, or when
	 * the memory cap refused it). */
	struct weir_tunnel_outer *outer;
	/* The worker's holders list: flows in the order their latest hole opened (a side began to
	 * hold out-of-order bytes), oldest first; what the memory cap reclaims from. */
	struct weir_flow *hold_prev, *hold_next;
	/* Last: the table zeroes the entry up to here (WEIR_FLOW_ZEROED) and weir_tcp_init() writes
	 * all of this, so a new flow's bytes are written once. */
	struct weir_tcp_conn tcp;
};
/** Bytes after the table's header that a new flow's entry needs zeroed: its fields before tcp. */
#define WEIR_FLOW_ZEROED (offsetof(struct weir_flow, tcp) - sizeof(struct weir_ft_entry))
_Static_assert(offsetof(struct weir_flow, tcp) + sizeof(struct weir_tcp_conn) ==
                   sizeof(struct weir_flow),
               "the TCP part ends the flow: weir_tcp_init() initialises all of it");

struct weir_reg {
	uint32_t event;
	uint8_t hook;
	weir_handler_fn fn;
	void *user;
};

struct weir_msock_prog {
	int linktype;
	int ok;
	struct bpf_program prog;
};

struct weir_msock {
	struct weir_worker *w;
	unsigned id;
	uint32_t born; /* w->socks_born when it was created */
	char *filter;  /* NULL: every TCP flow */
	struct weir_msock_prog progs[WEIR_MSOCK_PROGS];
	unsigned nprogs;
	struct weir_reg *regs;
	unsigned nregs, capregs;
	uint32_t sub[WEIR_HOOK_COUNT]; /* built-in events (UDE roots) subscribed at each hook */
};

struct weir_ude {
	uint32_t base, root;
	weir_filter_fn filter;
	void *user;
	uint32_t refs; /* definitions not released, and UDEs based on it; 0: a free slot */
};

struct weir_timer {
	uint64_t due_ns, seq, cookie, flow_id;
	struct weir_flow *flow;
	struct weir_msock *sock;
};

/** Where the poll state machine stands. */
enum weir_phase {
	WEIR_PH_IDLE = 0, /* between packets: deferred ends, expiries, timers, next packet */
	WEIR_PH_SND,      /* PRE was raised; next: the sender's update */
	WEIR_PH_RCV,      /* POST_SND was raised; next: the receiver's update */
	WEIR_PH_END,      /* POST_RCV was raised; next: undo the receiver's update if the packet was
	                     dropped, else raise the flow's end if the packet ended it */
	WEIR_PH_DONE,     /* next: finish the packet */
};

struct weir_worker {
	struct weir_config cfg;
	unsigned id;
	struct weir_mem mem;
	struct weir_flowtab *ft;
	struct weir_flow *hold_head, *hold_tail; /* the holders list (struct weir_flow.hold_prev) */
	struct weir_defrag *defrag;
	struct weir_rx_pkt defrag_rx; /* a reassembled datagram as a raw-IP frame, for scopes */
	struct weir_stats st;
	weir_flow_sink_fn sink;
	void *sink_user;
	uint64_t now_ns;
	uint64_t next_flow_id;

	struct weir_msock *socks[WEIR_MAX_SOCKS];
	uint64_t open_socks;
	uint32_t subs[WEIR_HOOK_COUNT]; /* sub[] of the open sockets OR-ed (weir_subs_update) */
	uint32_t socks_born;            /* sockets created so far: flows scoped before a socket was
	                                   created take it in at their next packet (weir_msock_rescope) */
	struct weir_ude udes[WEIR_EV_UDE_MAX - WEIR_EV_UDE_FIRST];
	unsigned nudes; /* slots ever used (some may be free again: refs 0) */

	struct weir_timer *timers; /* binary min-heap on (due_ns, seq) */
	unsigned ntimers, captimers;
	uint64_t timer_seq;

	/* the burst and the packet in progress */
	struct weir_rx_pkt *rx;
	unsigned nrx, rx_i;
	/* Packets of the burst parsed ahead of the one in progress (rx_i .. ahead_next - 1), their
	 * flow-table buckets and entries prefetched so the lookups find them in the cache. */
	struct weir_ahead {
		struct weir_pkt pkt;
		struct weir_flow_key key;
		uint32_t hash;
		int8_t dir, r;
		uint8_t reason;
	} ahead[WEIR_AHEAD_SLOTS];
	unsigned ahead_next;
	enum weir_phase phase;
	struct weir_pkt *pkt; /* the current packet: its parse-ahead slot, or moved_syn */
	int have_pkt;         /* pkt is the current packet (handlers may read it) */
	struct weir_flow *cur;
	int sender;
	uint32_t carry;      /* PKT_IN | CONN_START | REXMIT of the current packet */
	uint8_t pre_skipped; /* no open socket subscribed anything at PRE: it was skipped, as for a
	                        flow no open socket watches (REXMIT from the sender's update) */
	struct weir_tcp_out out;
	/* the latest SYN held on an open flow (syn_pending), to open the next flow with it when the
	 * server accepts it; one slot: a flow whose SYN was overwritten starts at the SYN+ACK */
	struct {
		uint64_t flow_id, ts_ns, prev_last_ns;
		uint32_t ts_val;
		uint16_t ip_len, win, mss;
		uint8_t wscale, sack_perm, has_ts;
	} held_syn;
	struct weir_pkt moved_syn; /* that SYN, rebuilt to open the next flow */
	uint8_t have_moved_syn;
	/* the flow before the receiver's update, saved when a POST_RCV handler may drop the packet
	 */
	struct weir_tcp_snap rcv_snap;
	uint8_t rcv_snapped;
	uint8_t snd_state, snd_rst; /* the sender's state and RST flag before its update */
	uint8_t rcv_was_ended;      /* the flow had ended before this packet */

	/* a flow whose CONN_END was raised without a packet; freed at the next step */
	struct weir_flow *ending;
	uint8_t ending_reason;
	uint8_t shutting_down;

	/* top-flows sample (top.c): unordered; top_min is a lower bound of its smallest member */
	struct weir_flow *top[WEIR_TOP_FLOWS_MAX];
	unsigned ntop, top_min_at;
	uint64_t top_min;

	struct weir_event_rec q[WEIR_QUEUE_MAX];
	unsigned qn, qi;
	uint64_t q_lost;

	/* dispatch: UDE filter results cached per record (generation-stamped) */
	uint32_t ude_gen;
	uint32_t ude_stamp[WEIR_EV_UDE_MAX - WEIR_EV_UDE_FIRST];
	uint8_t ude_val[WEIR_EV_UDE_MAX - WEIR_EV_UDE_FIRST];
};

/* worker.c */
/** Fills c from one side's TCP and stream counters. */
void weir_side_counters_of(const struct weir_tcp_side *s, struct weir_side_counters *c);

/* top.c */
/** Offers the flow of the packet just processed to the top-flows sample. */
void weir_top_update(struct weir_worker *w, struct weir_flow *f);
/** Takes a flow about to be freed out of the sample. */
void weir_top_remove(struct weir_worker *w, struct weir_flow *f);

/* event.c */
/** Hooks (bit per enum weir_hook) at which a built-in event is raised. */
unsigned weir_event_hooks(uint32_t ev);
/** Recomputes w->subs after a socket's subscriptions changed or a socket closed. */
void weir_subs_update(struct weir_worker *w);
/** weir_emit() past its test: looks at each socket in scope. */
void weir_emit_socks(struct weir_worker *w, struct weir_flow *f, uint64_t scope, int hook,
                     uint32_t bits, int side, uint64_t arg);
/** Queues records of the built-in events in bits for every in-scope socket subscribed at hook.
 *  Inline: most stages of a watched flow raise nothing any open socket asked for, one test. */
static inline void weir_emit(struct weir_worker *w, struct weir_flow *f, uint64_t scope, int hook,
                             uint32_t bits, int side, uint64_t arg)
{
	if (bits & w->subs[hook])
		weir_emit_socks(w, f, scope, hook, bits, side, arg);
}
/** Whether a socket in scope is subscribed at hook to any built-in event in bits: what weir_emit()
 *  would queue records for. */
bool weir_subscribed(const struct weir_worker *w, uint64_t scope, int hook, uint32_t bits);
/** Whether a user timer is due (inline: the worker asks between every two packets). */
static inline bool weir_timer_due(const struct weir_worker *w)
{
	return w->ntimers && w->timers[0].due_ns <= w->now_ns;
}
/** Fires due user timers into the queue; returns how many records were queued. */
unsigned weir_timers_fire(struct weir_worker *w);
/** Removes every pending timer of socket s (it is being closed). */
void weir_timers_cancel(struct weir_worker *w, const struct weir_msock *s);
void weir_timers_free(struct weir_worker *w);

/* msock.c */
/** Sockets whose scope matches the current packet (frame of linktype). */
uint64_t weir_msock_scope(struct weir_worker *w, const struct weir_rx_pkt *rx);
/** Brings f's scope up to date when sockets were created since it was computed (a hot reload):
 *  each newer socket is matched against rx, or with rx NULL (an event without a packet) only a
 *  socket without a filter takes f in; a bit of an older socket whose id a newer one reuses is
 *  dropped, and so is a user pointer that socket set. */
void weir_msock_rescope(struct weir_worker *w, struct weir_flow *f, const struct weir_rx_pkt *rx);
/** 1 while s is open, 0 once closed. */
int weir_msock_is_open(const struct weir_msock *s);
void weir_msock_free_all(struct weir_worker *w);

#endif
