/* serve.h — the dashboard over the station's capture-file input (weir replay --serve), paced if
 * asked, kept up until Ctrl-C. */
#ifndef WEIR_STATION_SERVE_H
#define WEIR_STATION_SERVE_H

#include <sched.h>

#include "stats/statpub.h"
#include "weir.h"

struct weir_serve;
struct weir_station_unit;

/** Starts the dashboard on listen for unit u (its worker's counters and its scripts' totals)
 * publishing into pub (the caller's; both must outlive the server; script alerts reach it through
 * the caller's sinks). token: NULL unless required; pps: 0 = as fast as possible; cpus: the server
 * threads' CPUs, NULL = the caller's. Engine anomalies become the page's alerts. Blocks
 * SIGINT/SIGTERM in the calling thread (weir_serve_finish waits for them). NULL after printing
 * why. */
struct weir_serve *weir_serve_start(const struct weir_station_unit *u, struct weir_statpub *pub,
                                    const char *listen, const char *token, unsigned pps,
                                    const cpu_set_t *cpus);
/** After each packet: publishes the worker's counters when due and paces to pps. */
void weir_serve_packet(struct weir_serve *s);
/** Publishes the final counters, shows the replay as done, waits for Ctrl-C, stops and frees. NULL
 * is a no-op. */
void weir_serve_finish(struct weir_serve *s);

#endif
