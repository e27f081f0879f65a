/* stats_json.c — a worker's counters as JSON members, named as the logs name them. */
#include "log/stats_json.h"

#include <stdlib.h>

#include "json/json.h"

/* ,"key":{"name":v,...} over the counters first..count-1 of v. */
static void named(struct weir_json *w, const char *key, const char *(*name)(unsigned),
                  const uint64_t *v, unsigned first, unsigned count)
{
	WEIR_JSON_LIT(w, ",");
	weir_json_cstr(w, key);
	WEIR_JSON_LIT(w, ":{");
	for (unsigned i = first; i < count; i++) {
		if (i > first)
			WEIR_JSON_LIT(w, ",");
		weir_json_cstr(w, name(i));
		WEIR_JSON_KV(w, ":", v[i]);
	}
	WEIR_JSON_LIT(w, "}");
}

static const char *event_name(unsigned ev)
{
	return weir_event_name(ev);
}

static void members(struct weir_json *w, const struct weir_stats *st)
{
	WEIR_JSON_KV(w, "\"packets\":", st->pkts);
	WEIR_JSON_KV(w, ",\"bytes\":", st->bytes);
	WEIR_JSON_KV(w, ",\"tcp_packets\":", st->tcp_pkts);
	WEIR_JSON_KV(w, ",\"other_packets\":", st->other_pkts);
	WEIR_JSON_KV(w, ",\"fragments\":", st->frag_pkts);
	WEIR_JSON_KV(w, ",\"orphans\":", st->orphans);
	WEIR_JSON_KV(w, ",\"drops\":", st->drops);
	WEIR_JSON_KV(w, ",\"flows\":{\"created\":", st->flows_created);
	WEIR_JSON_KV(w, ",\"closed\":", st->flows_closed);
	WEIR_JSON_KV(w, ",\"active\":", st->flows_active);
	WEIR_JSON_KV(w, ",\"midstream\":", st->flows_midstream);
	WEIR_JSON_KV(w, ",\"refused\":", st->flows_refused);
	WEIR_JSON_KV(w, ",\"evicted\":", st->flows_evicted);
	WEIR_JSON_LIT(w, "}");
	named(w, "events", event_name, st->events, 0, WEIR_EV_BUILTIN_COUNT);
	named(w, "anomalies", weir_anomaly_name, st->anomalies, 0, WEIR_AN_COUNT);
	named(w, "malformed", weir_malformed_name, st->malformed, 0, WEIR_MAL_COUNT);
	named(w, "encapsulations", weir_encap_name, st->encap, 0, WEIR_ENCAP_COUNT);
	named(w, "closes", weir_close_reason_name, st->closes, WEIR_CLOSE_FIN, WEIR_CLOSE_COUNT);
	WEIR_JSON_KV(w, ",\"memory\":{\"used\":", st->mem_used);
	WEIR_JSON_KV(w, ",\"peak\":", st->mem_peak);
	WEIR_JSON_KV(w, ",\"cap\":", st->mem_cap);
	WEIR_JSON_KV(w, ",\"failed\":", st->mem_fail);
	WEIR_JSON_KV(w, ",\"reclaimed\":", st->mem_reclaimed);
	WEIR_JSON_KV(w, ",\"flow_entry_bytes\":", st->flow_bytes);
	WEIR_JSON_LIT(w, "}");
	named(w, "defrag", weir_defrag_counter_name, st->defrag, 0, WEIR_DF_COUNT);
}

void weir_stats_json_members(FILE *out, const struct weir_stats *st)
{
	char stack[4096], *buf = stack; /* about 2 KiB today; a heap buffer if the names grow */
	struct weir_json w;

	weir_json_init(&w, buf, sizeof(stack));
	members(&w, st);
	if (weir_json_end(&w) < 0) {
		const size_t need = w.len + 1;
		buf = malloc(need);
		if (!buf)
			return;
		weir_json_init(&w, buf, need);
		members(&w, st);
		weir_json_end(&w);
	}
	fwrite(buf, 1, w.pos, out);
	if (buf != stack)
		free(buf);
}
