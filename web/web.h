/* web.h — the dashboard and metrics server: a control thread that samples the workers' statpub slots and serves the page, /api and /metrics. */
#ifndef WEIR_WEB_H
#define WEIR_WEB_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "stats/statpub.h"

/**
 * @file
 * The server never touches a worker: it reads the workers' struct weir_statpub slots (a copy,
 * no lock the workers take) once per sample period, turns them into JSON documents and
 * Prometheus text, and hands those to libmicrohttpd's threads. A slow or stalled client holds
 * only its own connection.
 *
 * Use from `weir run`:
 *   1. create one weir_statpub per worker (weir_statpub_create(lcore, 0)) before the workers start;
 *   2. web = weir_web_start(&(struct weir_web_config){ .listen = conf.dashboard.listen,
 *            .token = conf.dashboard.token, .mode = "run", .cpus = &control_cpus },
 *            pubs, nworkers, err, sizeof(err));  NULL: print err and exit 78 (EX_CONFIG);
 *   3. each worker, in its loop: if (weir_statpub_due(pub, now)) weir_statpub_publish(pub, w,
 *      ports, nports, scripts, nscripts, now); and weir_statpub_account(pub, busy_ns, loop_ns);
 *   4. at exit, after the workers stopped: weir_web_stop(web), then weir_statpub_free() each slot.
 */

/** Server settings. Strings are copied by weir_web_start(). */
struct weir_web_config {
	const char *listen;    /**< "ADDR:PORT" or "[ADDR6]:PORT"; NULL: "127.0.0.1:8080" */
	const char *token;     /**< bearer token (see weir_token_check in config/config.h); required (non-empty) when
	                            listen is not loopback. When set, every endpoint needs it: header
	                            "Authorization: Bearer T" or the cookie weir_token=T, which
	                            "GET /?token=T" sets (answered by a redirect to /); ?token= on
	                            any other path is refused */
	const char *mode;      /**< shown on the page: "run" or "replay" (NULL: "run") */
	unsigned sample_ms;    /**< how often the slots are sampled (0: 1000) */
	unsigned history_s;    /**< seconds of charted history (0: 300) */
	const cpu_set_t *cpus; /**< CPUs for the server's threads (NULL: the caller's); keep the
	                            workers' lcores out of it */
};

struct weir_web;

/** Starts the server thread(s) over npubs slots (they must outlive the server). NULL on error,
 *  with a one-line reason in err: bad address, a non-loopback address without a token, the
 *  port in use, no memory. */
struct weir_web *weir_web_start(const struct weir_web_config *cfg, struct weir_statpub *const *pubs,
                                unsigned npubs, char *err, size_t errlen);
/** Sets the state word shown on the page and in /api/stats ("running", "done", ...). */
void weir_web_set_state(struct weir_web *web, const char *state);
/** Sets the hot reloads done and refused, shown in /api/stats ("reloads"). */
void weir_web_set_reloads(struct weir_web *web, uint64_t done, uint64_t failed);
/** Takes a fresh sample now (e.g. after the final publication of a replay). */
void weir_web_refresh(struct weir_web *web);
/** The port actually bound (useful with port 0). */
unsigned weir_web_port(const struct weir_web *web);
/** Stops the server and frees it. NULL is a no-op. */
void weir_web_stop(struct weir_web *web);

/** Parses "ADDR:PORT" / "[ADDR6]:PORT" into a socket address; sets *loopback. 0 or -EINVAL. */
struct sockaddr_storage;
int weir_web_parse_listen(const char *listen, struct sockaddr_storage *ss, int *loopback);

#endif
