/* stats_json.c — a worker's counters as JSON members, named as the logs name them. */
#include "log/stats_json.h"

#include <inttypes.h>

static void named(FILE *out, const char *key, const char *(*name)(unsigned), const uint64_t *v,
                  unsigned first, unsigned count)
{
	fprintf(out, ",\"%s\":{", key);
	for (unsigned i = first; i < count; i++)
		fprintf(out, "%s\"%s\":%" PRIu64, i > first ? "," : "", name(i), v[i]);
	fputc('}', out);
}

static const char *event_name(unsigned ev)
{
	return weir_event_name(ev);
}

void weir_stats_json_members(FILE *out, const struct weir_stats *st)
{
	fprintf(out,
	        "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"tcp_packets\":%" PRIu64
	        ",\"other_packets\":%" PRIu64 ",\"fragments\":%" PRIu64 ",\"orphans\":%" PRIu64
	        ",\"drops\":%" PRIu64 ",\"flows\":{\"created\":%" PRIu64 ",\"closed\":%" PRIu64
	        ",\"active\":%" PRIu64 ",\"midstream\":%" PRIu64 ",\"refused\":%" PRIu64
	        ",\"evicted\":%" PRIu64 "}",
	        st->pkts, st->bytes, st->tcp_pkts, st->other_pkts, st->frag_pkts, st->orphans, st->drops,
	        st->flows_created, st->flows_closed, st->flows_active, st->flows_midstream,
	        st->flows_refused, st->flows_evicted);
	named(out, "events", event_name, st->events, 0, WEIR_EV_BUILTIN_COUNT);
	named(out, "anomalies", weir_anomaly_name, st->anomalies, 0, WEIR_AN_COUNT);
	named(out, "malformed", weir_malformed_name, st->malformed, 0, WEIR_MAL_COUNT);
	named(out, "closes", weir_close_reason_name, st->closes, WEIR_CLOSE_FIN, WEIR_CLOSE_COUNT);
	fprintf(out,
	        ",\"memory\":{\"used\":%" PRIu64 ",\"peak\":%" PRIu64 ",\"cap\":%" PRIu64
	        ",\"failed\":%" PRIu64 ",\"flow_entry_bytes\":%" PRIu64 "}",
	        st->mem_used, st->mem_peak, st->mem_cap, st->mem_fail, st->flow_bytes);
}
