/* station_internal.h — the station's layout, shared by its files (station.c, pcap_input.c,
 * dpdk_input.c); not a public API. */
#ifndef WEIR_STATION_INTERNAL_H
#define WEIR_STATION_INTERNAL_H

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
};

struct weir_station {
	struct weir_station_params p;
	FILE *eve;               /**< the one EVE writer: flow records and script alerts, or NULL */
	atomic_int write_failed; /**< an output could not be written */
	atomic_int scripts_failed; /**< a worker's scripts did not load (said once) */
	unsigned n_workers;
	/** Dashboard slots, one per worker, or none. */
	struct weir_statpub *pubs[WEIR_CFG_MAX_WORKERS];
};

/** Builds worker id's unit (worker, rules, Lua host, sinks); NULL after printing why. Worker's
 * thread. */
struct weir_station_unit *weir_station_unit_create(struct weir_station *st, unsigned id);
/** Runs the unit's pending burst: through the Lua host when there are scripts. */
void weir_station_unit_run(struct weir_station_unit *u);
/** The unit's per-script totals for the dashboard (at most WEIR_STATPUB_SCRIPTS); how many. */
unsigned weir_station_unit_scripts(const struct weir_station_unit *u,
                                   struct weir_statpub_script *out);
/** Frees the unit with its Lua host and worker. NULL is a no-op. */
void weir_station_unit_free(struct weir_station_unit *u);

/** Opens an output ("-": stdout); NULL after printing why. */
FILE *weir_station_open(const struct weir_station *st, const char *path);
/** Closes an output from weir_station_open (stdout is flushed); a failure sets write_failed. */
void weir_station_close(struct weir_station *st, FILE *f);

/** The inputs' loops: a sysexits code (see weir_station_run). */
int weir_station_run_pcap(struct weir_station *st);
int weir_station_run_dpdk(struct weir_station *st);

#endif
