/* web_int.h — inside the web server: the growable text buffer and the model that turns snapshots into JSON and Prometheus text. */
#ifndef WEIR_WEB_INT_H
#define WEIR_WEB_INT_H

#include <stdint.h>

#include "stats/statpub.h"

/** A growable string; oom is set (and appends stop) when memory runs out. */
struct weir_sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void weir_sb_printf(struct weir_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Appends s as a JSON string (quoted, escaped). */
void weir_sb_json_str(struct weir_sbuf *b, const char *s);
void weir_sb_free(struct weir_sbuf *b);

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
/** Renders one document into b (cleared first). */
void weir_model_render(const struct weir_model *m, enum weir_doc doc, struct weir_sbuf *b);

/** Renders the n snapshots as Prometheus text format 0.0.4 (metrics.c). */
void weir_metrics_render(const struct weir_statpub_snap *snap, unsigned n, const char *mode, struct weir_sbuf *b);

#endif
