/* statpub.h — lock-free publication of a worker's counters, ports, scripts, top flows and alerts to readers on other threads. */
#ifndef WEIR_STATPUB_H
#define WEIR_STATPUB_H

#include <stdint.h>

#include "weir.h"

/**
 * @file
 * Each worker owns one struct weir_statpub. Every few milliseconds (weir_statpub_due() by the
 * clock the caller passes) it copies its state into the slot with weir_statpub_publish(): one
 * seqlock write, no lock, no allocation, no system call. Readers (the HTTP thread) copy a
 * consistent snapshot out with weir_statpub_read(); a reader never writes to the slot, so a
 * stalled or slow reader cannot slow the worker: it only retries its own copy.
 */

/** Capacities of a snapshot (plain C enum for the FFI). Ports: a worker polls a few queues;
 *  scripts: the Lua host's script count per worker is small; alerts: the most recent ones a reader
 *  sees at 1 Hz from a worker (older ones are counted in alerts_total). */
enum weir_statpub_limits {
	WEIR_STATPUB_PORTS = 8,
	WEIR_STATPUB_SCRIPTS = 16,
	WEIR_STATPUB_ALERTS = 32,
	WEIR_STATPUB_NAME = 32,
	WEIR_STATPUB_MSG = 96,
};

/** Default publication interval: 10 ms keeps a 1 Hz dashboard fresh and costs one ~10 KiB copy. */
#define WEIR_STATPUB_INTERVAL_NS 10000000ull

/** One port (or queue) as the worker sees it; the caller fills it from its driver counters. */
struct weir_statpub_port {
	char name[WEIR_STATPUB_NAME]; /**< "0", "0000:01:00.0", "pcap" */
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	uint64_t rx_missed;            /**< lost at the port before weir saw them: imissed + rx_nombuf */
	uint64_t rx_errors, tx_errors; /**< ierrors, oerrors, and frames weir could not take in or send */
	uint64_t frag_drops;           /**< inline: IP fragments dropped under defrag.unreassembled = drop */
	uint64_t non_tcp_drops;        /**< inline: non-TCP frames dropped (forward_non_tcp = false) */
	uint16_t port;
	uint8_t pad[6];
};

/** One script's counters on this worker (what the Lua host reports). */
struct weir_statpub_script {
	char name[WEIR_STATPUB_NAME];
	uint64_t events;        /**< handler calls */
	uint64_t errors;        /**< handler errors (Lua runtime errors) */
	uint64_t ns;            /**< time spent in handlers */
	uint64_t alerts;        /**< alerts raised */
	uint64_t budget_stops;  /**< of the errors: calls the time budget stopped (lua.budget_ms) */
	uint64_t memory_errors; /**< of the errors: allocations refused at the heap cap (lua.memory_mb) */
	uint32_t handlers;      /**< handlers defined */
	uint32_t disabled;      /**< handlers disabled after errors */
};

/** One alert (a script's alert{} or an engine anomaly). */
struct weir_statpub_alert {
	uint64_t seq;            /**< per worker, from 1: readers merge by it */
	uint64_t ts_ns;          /**< wall or packet time, as the worker's clock */
	uint64_t flow_id;
	struct weir_tuple tuple;
	uint32_t sid;
	uint8_t severity;        /**< 1 high .. 3 low (Suricata's convention) */
	uint8_t pad[3];
	char source[WEIR_STATPUB_NAME]; /**< script name, or "engine" */
	char msg[WEIR_STATPUB_MSG];
};

/** A consistent copy of one worker's publication. */
struct weir_statpub_snap {
	uint64_t gen;            /**< publications so far; 0: never published */
	uint64_t pub_ns;         /**< the caller's clock at publication */
	uint64_t busy_ns;        /**< cumulative time the worker was busy (caller-measured) */
	uint64_t wall_ns;        /**< cumulative time it has been running; busy/wall is its load */
	unsigned core;           /**< worker id / lcore */
	unsigned nports, nscripts, ntop, nalerts;
	uint64_t alerts_total;   /**< alerts ever recorded; alerts[] holds the last nalerts, oldest first */
	struct weir_stats st;
	struct weir_statpub_port ports[WEIR_STATPUB_PORTS];
	struct weir_statpub_script scripts[WEIR_STATPUB_SCRIPTS];
	struct weir_flow_summary top[WEIR_TOP_FLOWS_MAX];
	struct weir_statpub_alert alerts[WEIR_STATPUB_ALERTS];
};

struct weir_statpub;

/** Creates a slot for worker core. interval_ns 0 means WEIR_STATPUB_INTERVAL_NS. NULL + errno. */
struct weir_statpub *weir_statpub_create(unsigned core, uint64_t interval_ns);
/** Frees the slot; no reader may use it any more. NULL is a no-op. */
void weir_statpub_free(struct weir_statpub *p);

/* ---- the worker's side (one thread) -------------------------------------------------------- */

/** True when the interval has passed since the last publication (now_ns: the caller's clock). */
int weir_statpub_due(const struct weir_statpub *p, uint64_t now_ns);
/** Adds busy and total time of the worker loop since the last call (for per-core load). */
void weir_statpub_account(struct weir_statpub *p, uint64_t busy_ns, uint64_t wall_ns);
/** Records an alert; it is published with the next weir_statpub_publish(). The caller's seq is
 *  ignored. Strings are truncated to fit. */
void weir_statpub_alert(struct weir_statpub *p, const struct weir_statpub_alert *a);
/** Publishes the worker's counters and top flows (w may be NULL: counters stay zero), and the
 *  caller's port and script arrays (up to the snapshot's capacity; more are dropped and
 *  counted in no snapshot). Worker's thread; never blocks. */
void weir_statpub_publish(struct weir_statpub *p, const struct weir_worker *w,
                          const struct weir_statpub_port *ports, unsigned nports,
                          const struct weir_statpub_script *scripts, unsigned nscripts, uint64_t now_ns);

/* ---- readers (any thread) ------------------------------------------------------------------ */

/** Copies the latest publication into out. 0, or -EAGAIN when the worker kept overwriting the
 *  slot during every attempt (out is then unspecified; try again later). */
int weir_statpub_read(const struct weir_statpub *p, struct weir_statpub_snap *out);

#endif
