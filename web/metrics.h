/* metrics.h — /metrics: the workers' snapshots in Prometheus text; the model calls it, it calls
 * nothing of the model. */
#ifndef WEIR_WEB_METRICS_H
#define WEIR_WEB_METRICS_H

#include "stats/statpub.h"
#include "web/sbuf.h"

/** Renders the n snapshots as Prometheus text format 0.0.4 into b. */
void weir_metrics_render(const struct weir_statpub_snap *snap, unsigned n, const char *mode,
                         struct weir_sbuf *b);

#endif
