/* dpdk.h — weir on DPDK ports: EAL from the run config, per-lcore share-nothing workers, inline or passive. */
#ifndef WEIR_DPDK_H
#define WEIR_DPDK_H

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "stats/statpub.h"
#include "weir.h"

/** Flags of struct weir_dp_opts. */
#define WEIR_DP_REPLAY 1u /**< ports read files (net_pcap rx_pcap): stop at their end; capture time is the clock */
#define WEIR_DP_PACE 2u   /**< with REPLAY: hand packets over at capture speed */

/** Per port and lcore packet accounting: rx + no_mbuf + missed = tx + verdict_drops + the other drops. */
struct weir_dp_port_stats {
	uint64_t rx;            /**< frames the port delivered */
	uint64_t tx;            /**< frames sent on (to the paired port) */
	uint64_t verdict_drops; /**< frames a handler or rule gave the drop verdict */
	uint64_t passive;       /**< passive mode: frames seen and released (nothing is sent) */
	uint64_t no_mbuf;       /**< the driver found no mbuf (rte_eth_stats rx_nombuf) */
	uint64_t missed;        /**< the port dropped before weir saw them (rte_eth_stats imissed) */
	uint64_t tx_full;       /**< the tx ring of the out port was full */
	uint64_t too_big;       /**< longer than the out port sends (its interface's MTU): a
	                             net_af_packet port's kernel would discard them without a word */
	uint64_t handoff_full;  /**< the ring to the owning worker (or back to the tx lcore) was full */
	uint64_t malformed;     /**< frames that could not be presented to the stack (unlinearisable chains) */
	uint64_t non_tcp;       /**< non-TCP frames dropped because forward_non_tcp = false */
	uint64_t fragments;     /**< TCP fragments whose datagram could not be reassembled, dropped
	                             (defrag.unreassembled = "drop") */
	uint64_t rx_bytes;      /**< bytes of the rx frames (not part of the identity) */
	uint64_t tx_bytes;      /**< bytes of the frames sent on */
};

/** A worker's stack as the caller assembles it (the worker, its Lua host, its sinks): built, run and
 *  freed on the worker's own lcore, so the DPDK loop knows only the worker. */
struct weir_dp_stack_ops {
	/** Builds worker id's stack on its lcore; returns it with *w set to its worker, or NULL after
	 *  printing why (the run then ends with 70). */
	void *(*create)(unsigned id, void *user, struct weir_worker **w);
	/** Runs the worker's pending burst (or its tick's work) through the stack. */
	void (*run)(void *stack);
	/** The stack's per-script totals for the dashboard (at most WEIR_STATPUB_SCRIPTS); how many. */
	unsigned (*scripts)(void *stack, struct weir_statpub_script *out);
	/** Frees the stack and its worker, after the worker's shutdown ran; NULL is a no-op. */
	void (*free)(void *stack);
};

/** Called once on the calling thread after EAL and the ports are up, before any worker runs.
 *  control_cpus: the CPUs the process had before EAL minus those of the workers' lcores (all of
 *  them when the workers take every CPU): where control threads (the dashboard) belong. Non-zero
 *  ends the run before it starts with exit code 78; the callback has printed why. */
typedef int (*weir_dp_started_fn)(const cpu_set_t *control_cpus, void *user);

struct weir_dp_opts {
	unsigned flags;                  /**< WEIR_DP_* */
	volatile sig_atomic_t *stop;     /**< set (by a signal handler) to stop: rx stops, workers drain and shut down */
	const struct weir_dp_stack_ops *stack; /**< each worker's stack (required) */
	void *user;                      /**< passed to stack->create and started */
	const char *prog;                /**< argv[0] for EAL and messages ("weir run") */
	weir_dp_started_fn started;      /**< may be NULL */
	/** One dashboard slot per worker (cfg->workers of them), or NULL. Each lcore publishes its
	 *  worker's counters and its share of the port counters into pubs[id] every slot interval,
	 *  and once more, final, after its worker shut down. */
	struct weir_statpub *const *pubs;
};

/** What a finished run leaves for the summary. */
struct weir_dp_result {
	unsigned n_ports, n_workers;
	char port_name[WEIR_CFG_MAX_PORTS][64];
	struct weir_dp_port_stats port[WEIR_CFG_MAX_PORTS]; /**< summed over lcores, with the driver's drops */
	struct weir_stats worker[WEIR_CFG_MAX_WORKERS];     /**< each worker's counters after its shutdown */
	uint64_t handoff_pkts[WEIR_CFG_MAX_WORKERS];        /**< packets each worker took from another lcore's rx */
	int rss;                                            /**< 1: ports spread flows in hardware (symmetric RSS) */
	double seconds;                                     /**< wall time from the first poll to the end */
	uint64_t reloads, reloads_failed; /**< the caller's: hot reloads done and refused */
};

/** Runs cfg until *opts->stop (or, with REPLAY, the end of the files). Returns a sysexits code:
 *  0, 78 (config: EAL, ports, lcores, opts->started refused; one message naming the setting goes to
 *  stderr), 70 (a worker's stack could not be built, or a worker failed), 71.  */
int weir_dp_run(const struct weir_run_config *cfg, const struct weir_dp_opts *opts, struct weir_dp_result *res);

/** The frames of s lost or dropped by a policy (not by a verdict): the sum of the summary's drops{}. */
uint64_t weir_dp_port_drops(const struct weir_dp_port_stats *s);

/** Writes res as one JSON object (per-port accounting and per-worker counters) followed by '\n'. */
void weir_dp_result_json(const struct weir_dp_result *res, const struct weir_run_config *cfg, FILE *out);

#endif
