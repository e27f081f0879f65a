/* dp_internal.h — layouts shared by the DPDK module's files (eal.c, lcore.c); not a public API. */
#ifndef WEIR_DP_INTERNAL_H
#define WEIR_DP_INTERNAL_H

#include <stdatomic.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dpdk/dpdk.h"

/* Packets per rx burst: DPDK's customary 32 keeps a burst in L1 and latency low. */
#define WEIR_DP_BURST 32
/* Hand-off ring size per worker: 4096 packets (~40 bursts) absorbs a worker's hiccup. */
#define WEIR_DP_RING 4096

struct weir_dp;

/** One lcore's worker: everything it touches on the data path is its own (share-nothing). */
struct weir_dp_lcore {
	struct weir_dp *dp;
	struct weir_worker *w;
	void *stack;                    /* the caller's stack around w (opts->stack) */
	struct rte_ring *in;            /* software spreading: packets for this worker */
	struct rte_ring *out;           /* software spreading: this worker's forwarded packets for the tx lcore */
	struct weir_dp_port_stats st[WEIR_CFG_MAX_PORTS];
	uint64_t handoff_pkts;
	uint64_t last_tick_ns;
	uint64_t loop_prev_ns;          /* the previous loop pass's clock, for the dashboard's load */
	uint64_t busy_ns, loop_ns;      /* loop time with and without work since the last publication */
	int prev_work;
	unsigned id, lcore;
	atomic_int done;                /* the worker has shut down (its stats are final) */
	struct weir_stats final;
	struct weir_rx_pkt rx[WEIR_DP_BURST];
	struct rte_mbuf *local[WEIR_DP_BURST];
	unsigned n_local;
	int rc;
} __rte_cache_aligned;

struct weir_dp {
	const struct weir_run_config *cfg;
	const struct weir_dp_opts *opts;
	unsigned flags, n_ports, n_workers;
	int rss;
	uint16_t port_id[WEIR_CFG_MAX_PORTS];
	uint8_t started[WEIR_CFG_MAX_PORTS];
	uint32_t max_frame[WEIR_CFG_MAX_PORTS]; /* longest frame port i sends (0: no limit) */
	char port_name[WEIR_CFG_MAX_PORTS][64];
	uint8_t rss_key[WEIR_CFG_MAX_PORTS][WEIR_CFG_RSS_KEY_MAX];
	struct rte_mempool *pool;
	int ts_off;                     /* mbuf dynfield offset of the rx timestamp, or -1 */
	uint64_t ts_flag;
	atomic_int rx_stopped;          /* the rx lcore(s) stopped receiving: drain and shut down */
	atomic_int setup_failed;
	uint64_t pace_t0, pace_w0;      /* --pace: first capture time and the wall time it was seen */
	struct weir_dp_lcore lc[WEIR_CFG_MAX_WORKERS];
};

int weir_dp_eal_args(const struct weir_run_config *cfg, const char *prog, char store[][WEIR_CFG_STR + 8],
                     char **argv, char *err, size_t errlen);
int weir_dp_ports_init(struct weir_dp *dp, char *err, size_t errlen);
void weir_dp_ports_close(struct weir_dp *dp);
/** Inline, a frame the stack let through is sent on unless a policy drops it: returns the counter
 *  in st of the policy that drops it (fragments, non_tcp), or NULL. A TCP fragment the worker held
 *  or completed a datagram with (r->frag) passes: the reassembled packet was inspected, and a drop
 *  verdict on it dropped the completing fragment already. One whose datagram cannot be
 *  reassembled (FAILED) was never inspected: it passes only with defrag.unreassembled = "forward".
 *  Fragments of other protocols are non-TCP traffic (forward_non_tcp). Any thread. */
uint64_t *weir_dp_policy_drop(const struct weir_run_config *cfg, struct weir_dp_port_stats *st,
                              const struct weir_rx_pkt *r);
/** Inline, a frame of len bytes that a port whose longest frame is max_frame (0: no limit) cannot
 *  send: longer than max_frame, or than max_frame + 4 with an 802.1Q tag, as the kernel rules for
 *  a packet socket. The frame holds an Ethernet header when len > max_frame. Any thread. */
static inline int weir_dp_too_big(uint32_t max_frame, const uint8_t *frame, uint32_t len)
{
	if (!max_frame || len <= max_frame)
		return 0;
	/* The kernel lets one 802.1Q tag pass the MTU (packet_extra_vlan_len_allowed). */
	return len > max_frame + RTE_VLAN_HLEN || frame[12] != 0x81 || frame[13] != 0x00;
}
/** What the port knows of a frame's checksums (enum weir_rx_csum bits) from its mbuf's ol_flags:
 *  a live port's frame is verified under checksums = "auto" except what the NIC verified (GOOD)
 *  or found wrong (BAD); a capture replayed through net_pcap (flags has WEIR_DP_REPLAY) is a
 *  capture: 0. Any thread. */
uint8_t weir_dp_rx_csum(unsigned flags, uint64_t ol_flags);
/** One port's dashboard counters from one lcore (name and port are the caller's): its share s of
 *  weir's own counters and, from the one lcore that reads the driver (es != NULL), the driver's
 *  port-wide ones; the dashboard sums the lcores. rx_missed is the summary's missed + no_mbuf
 *  (imissed + rx_nombuf). Any thread. */
void weir_dp_port_pub(const struct weir_dp_port_stats *s, const struct rte_eth_stats *es,
                      struct weir_statpub_port *out);
/** The body of every worker lcore (rte_lcore_function_t). */
int weir_dp_lcore_main(void *arg);

#endif
