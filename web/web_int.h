/* web_int.h — inside the web server: the model that turns snapshots into the JSON documents (and
 * /metrics through metrics.h). Dependencies point one way: server.c -> model (this header) ->
 * metrics.h -> sbuf.h. */
#ifndef WEIR_WEB_INT_H
#define WEIR_WEB_INT_H

#include <stdint.h>

#include "stats/statpub.h"
#include "web/sbuf.h"

/** The documents served, rebuilt at each sample. */
enum weir_doc {
	WEIR_DOC_STATS = 0, WEIR_DOC_CORES, WEIR_DOC_PORTS, WEIR_DOC_SCRIPTS, WEIR_DOC_FLOWS,
	WEIR_DOC_ALERTS, WEIR_DOC_HISTORY, WEIR_DOC_ALL, WEIR_DOC_METRICS, WEIR_DOC_COUNT,
};

struct weir_model;

/** A model over npubs slots keeping history_n samples. NULL on ENOMEM. */
struct weir_model *weir_model_create(struct weir_statpub *const *pubs, unsigned npubs, unsigned history_n,
                                     const char *mode, uint64_t boot_ms);
void weir_model_free(struct weir_model *m);
/** Reads every slot and updates totals, rates, history and recent alerts. now_ns: monotonic
 *  clock, wall_ms: Unix time in ms. */
void weir_model_sample(struct weir_model *m, uint64_t now_ns, uint64_t wall_ms, const char *state);
/** The hot reloads done and refused, for the next render. */
void weir_model_set_reloads(struct weir_model *m, uint64_t done, uint64_t failed);
/** Renders one document into b (cleared first). */
void weir_model_render(const struct weir_model *m, enum weir_doc doc, struct weir_sbuf *b);

#endif
