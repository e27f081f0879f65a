/* replay_serve.h — `weir replay --serve`: the dashboard over a replay, paced if asked, kept up until Ctrl-C. */
#ifndef WEIR_REPLAY_SERVE_H
#define WEIR_REPLAY_SERVE_H

#include <sched.h>

#include "weir.h"

struct weir_replay_serve;

/** Starts the dashboard on listen for worker w (token: NULL unless required; pps: 0 = as fast as
 *  possible; cpus: the server threads' CPUs, NULL = the caller's). Engine anomalies become the page's alerts. Blocks SIGINT/SIGTERM in the calling
 *  thread (weir_replay_serve_finish waits for them). NULL after printing why. */
struct weir_replay_serve *weir_replay_serve_start(struct weir_worker *w, const char *listen, const char *token,
                                                  unsigned pps, const cpu_set_t *cpus);
/** After each packet: publishes the worker's counters when due and paces to pps. */
void weir_replay_serve_packet(struct weir_replay_serve *s);
/** Publishes the final counters, shows the replay as done, waits for Ctrl-C, stops and frees. */
void weir_replay_serve_finish(struct weir_replay_serve *s);

#endif
