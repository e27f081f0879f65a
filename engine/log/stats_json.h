/* stats_json.h — a worker's counters as JSON members, the one form every summary (replay, run) uses. */
#ifndef WEIR_STATS_JSON_H
#define WEIR_STATS_JSON_H

#include <stdio.h>

#include "weir.h"

/** Writes st's counters as the members of a JSON object (no braces): "packets", "bytes",
 *  "tcp_packets", "other_packets", "fragments", "orphans", "drops", "flows"{...},
 *  "events"{...}, "anomalies"{...}, "malformed"{...}, "closes"{...}, "memory"{...},
 *  "defrag"{...}. */
void weir_stats_json_members(FILE *out, const struct weir_stats *st);

#endif
