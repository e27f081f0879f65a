/* station_internal.h — the station's layout, shared by its files (station.c, pcap_input.c,
 * dpdk_input.c); not a public API. */
#ifndef WEIR_STATION_INTERNAL_H
#define WEIR_STATION_INTERNAL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>

#include "lua/host.h"
#include "station/station.h"
#include "stats/statpub.h"
#include "weir.h"

/** One worker's stack: the worker, its Lua host (when there are scripts) and its sinks. Built, run
 * and freed on the worker's own thread. */
struct weir_station_unit {
	struct weir_station *st;
	struct weir_worker *w;
	struct weir_lua *lua;     /**< NULL without scripts */
	struct weir_statpub *pub; /**< its dashboard slot (the station's), or NULL */
	unsigned id;
	unsigned gen;   /**< the script generation it runs (0: the config's) */
	uint64_t beats; /**< weir_station_unit_run calls */
	char *eve_batch;        /**< EVE lines not yet written (NULL without --eve) */
	size_t eve_len;         /**< bytes in eve_batch */
	unsigned eve_flush_gen; /**< the station's eve_flush_gen at its last write */
};

/** What one worker shows the control thread (control.c): written by the worker's thread only, on
 * a cache line of its own so that workers never share one. */
struct weir_station_slot {
	atomic_uint_fast64_t
	    beat;        /**< weir_station_unit_run calls: the watchdog's proof of progress */
	atomic_uint gen; /**< the script generation it has taken up (loaded or failed) */
	atomic_uint failed_gen; /**< the latest generation it could not load (0: none) */
	atomic_int done;        /**< its unit was freed (the run is ending) */
	atomic_uint_fast64_t flows, pkts, script_errors; /**< sampled for the STATUS line */
} __attribute__((aligned(64)));

struct weir_station {
	struct weir_station_params p;
	FILE *eve;               /**< the one EVE writer: flow records and script alerts, or NULL */
	/** Bumped by the control thread every second: then each unit writes its EVE batch. */
	atomic_uint eve_flush_gen;
	atomic_int write_failed; /**< an output could not be written */
	atomic_int scripts_failed; /**< a worker's scripts did not load (said once) */
	unsigned n_workers;
	/** Dashboard slots, one per worker, or none. */
	struct weir_statpub *pubs[WEIR_CFG_MAX_WORKERS];
	/* Hot reload: the control thread loads the config again into reload_cfg, checks its
	 * scripts, then publishes script_gen (release); each worker sees the new generation at its
	 * next burst (one relaxed load) and loads reload_cfg's scripts on its own thread.
	 * reload_cfg is not written again before every worker took the generation up (slot[].gen).
	 */
	atomic_uint script_gen;
	struct weir_run_config
	    *reload_cfg;         /**< the scripts of generations > 0 (control thread's) */
	atomic_uint units_ready; /**< units built: all of them is READY=1 */
	atomic_uint_fast64_t reloads, reloads_failed;
	struct weir_station_slot slot[WEIR_CFG_MAX_WORKERS];
};

/** Builds worker id's unit (worker, rules, Lua host, sinks); NULL after printing why. Worker's
 * thread. */
struct weir_station_unit *weir_station_unit_create(struct weir_station *st, unsigned id);
/** Runs the unit's pending burst: through the Lua host when there are scripts. */
void weir_station_unit_run(struct weir_station_unit *u);
/** The unit's per-script totals for the dashboard (at most WEIR_STATPUB_SCRIPTS); how many. */
unsigned weir_station_unit_scripts(const struct weir_station_unit *u,
                                   struct weir_statpub_script *out);
/** Writes the unit's batched EVE lines to the station's EVE file (which must be open). Worker's
 *  thread. */
void weir_station_unit_flush(struct weir_station_unit *u);
/** Frees the unit with its Lua host and worker, writing its batched EVE lines if the EVE file is
 *  still open. NULL is a no-op. */
void weir_station_unit_free(struct weir_station_unit *u);

/** Opens an output ("-": stdout) to be written from its start, or with append to be added to;
 * NULL after printing why. */
FILE *weir_station_open(const struct weir_station *st, const char *path, int append);
/** Points the EVE writer at a new file of its path (logrotate moved the old one away): lines
 * written before go to the old file, lines after to the new one, none lost; workers may write
 * meanwhile. 0, or -1 after printing why (the old file stays in use). Control thread. */
int weir_station_eve_reopen(struct weir_station *st);
/** Loads cfg's scripts on a throw-away worker of cfg's engine settings, as every worker will
 * (their top level runs: sockets, handlers); with list, prints each handler's location. 0, or -1
 * after printing why (file:line). Any thread but the workers'. */
int weir_station_check_cfg_scripts(const struct weir_run_config *cfg, const char *prog, int list);

/* ---- the control thread (control.c): weir run's SIGHUP, sd_notify and watchdog ------------- */

struct weir_station_control;
struct weir_web;
/** Starts the control thread of a PORTS run on cpus: it waits for every unit to be built to say
 *  READY=1, reloads on *hup (the config file again: scripts checked first, then published; the
 *  EVE log reopened), reopens the EVE log alone on *usr1 (logrotate), refreshes STATUS= and flushes
 * the EVE log every second, pings the watchdog while every worker makes progress, and says
 * STOPPING=1 once *stop is set; the reload counts go to web too (the dashboard's, or NULL). NULL
 * after printing why. */
struct weir_station_control *weir_station_control_start(struct weir_station *st,
                                                        const cpu_set_t *cpus, struct weir_web *web,
                                                        volatile sig_atomic_t *hup,
                                                        volatile sig_atomic_t *usr1,
                                                        volatile sig_atomic_t *stop);
/** Stops and joins the control thread; NULL is a no-op. */
void weir_station_control_stop(struct weir_station_control *c);
/** Closes an output from weir_station_open (stdout is flushed); a failure sets write_failed. */
void weir_station_close(struct weir_station *st, FILE *f);

/** The inputs' loops: a sysexits code (see weir_station_run). */
int weir_station_run_pcap(struct weir_station *st);
int weir_station_run_dpdk(struct weir_station *st);

#endif
