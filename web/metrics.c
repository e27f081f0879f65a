/* metrics.c — /metrics: the workers' snapshots in Prometheus text exposition format 0.0.4, one labelled sample per core. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "web/metrics.h"

/* Label values: escape \ " and newline (exposition_formats.md). */
static void label_value(struct weir_sbuf *b, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		const char c = s[i];
		if (c == '\\' || c == '"')
			weir_sb_printf(b, "\\%c", c);
		else if (c == '\n')
			weir_sb_printf(b, "\\n");
		else
			weir_sb_printf(b, "%c", c);
	}
}

static void family(struct weir_sbuf *b, const char *name, const char *type, const char *help)
{
	weir_sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A per-core scalar taken from the snapshot at byte offset off. */
static void per_core(struct weir_sbuf *b, const struct weir_statpub_snap *snap, unsigned n, const char *name,
                     const char *type, const char *help, size_t off, double scale)
{
	family(b, name, type, help);
	for (unsigned c = 0; c < n; c++) {
		uint64_t v;
		memcpy(&v, (const char *)&snap[c] + off, sizeof(v));
		if (scale == 1.0)
			weir_sb_printf(b, "%s{core=\"%u\"} %" PRIu64 "\n", name, snap[c].core, v);
		else
			weir_sb_printf(b, "%s{core=\"%u\"} %.9g\n", name, snap[c].core, (double)v * scale);
	}
}

#define ST(field) offsetof(struct weir_statpub_snap, st.field)

/* A per-core counter array with one label (event, reason). */
static void per_core_array(struct weir_sbuf *b, const struct weir_statpub_snap *snap, unsigned n, const char *name,
                           const char *help, const char *label, size_t off, unsigned first, unsigned count,
                           const char *(*label_of)(unsigned))
{
	family(b, name, "counter", help);
	for (unsigned c = 0; c < n; c++) {
		const uint64_t *arr = (const uint64_t *)((const char *)&snap[c] + off);
		for (unsigned i = first; i < count; i++)
			weir_sb_printf(b, "%s{core=\"%u\",%s=\"%s\"} %" PRIu64 "\n", name, snap[c].core, label,
			               label_of(i), arr[i]);
	}
}

static void ports(struct weir_sbuf *b, const struct weir_statpub_snap *snap, unsigned n)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} f[] = {
		{ "weir_port_rx_packets_total", "Packets received on the port.", offsetof(struct weir_statpub_port, rx_pkts) },
		{ "weir_port_rx_bytes_total", "Bytes received on the port.", offsetof(struct weir_statpub_port, rx_bytes) },
		{ "weir_port_tx_packets_total", "Packets sent on the port.", offsetof(struct weir_statpub_port, tx_pkts) },
		{ "weir_port_tx_bytes_total", "Bytes sent on the port.", offsetof(struct weir_statpub_port, tx_bytes) },
		{ "weir_port_rx_missed_total", "Packets lost at the port (no receive descriptor or mbuf) before weir saw them.",
		  offsetof(struct weir_statpub_port, rx_missed) },
		{ "weir_port_rx_errors_total", "Erroneous received packets.", offsetof(struct weir_statpub_port, rx_errors) },
		{ "weir_port_tx_errors_total", "Packets that failed to be sent.", offsetof(struct weir_statpub_port, tx_errors) },
		{ "weir_port_fragment_drops_total", "IP fragments dropped inline: of a datagram that could not be "
		  "reassembled (defrag.unreassembled = drop).",
		  offsetof(struct weir_statpub_port, frag_drops) },
		{ "weir_port_non_tcp_drops_total", "Non-TCP frames dropped inline (forward_non_tcp = false).",
		  offsetof(struct weir_statpub_port, non_tcp_drops) },
	};
	unsigned total = 0;
	for (unsigned c = 0; c < n; c++)
		total += snap[c].nports;
	if (!total) /* no ports (replay): no empty families */
		return;
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		family(b, f[k].name, "counter", f[k].help);
		for (unsigned c = 0; c < n; c++)
			for (unsigned i = 0; i < snap[c].nports; i++) {
				const struct weir_statpub_port *p = &snap[c].ports[i];
				uint64_t v;
				memcpy(&v, (const char *)p + f[k].off, sizeof(v));
				weir_sb_printf(b, "%s{core=\"%u\",port=\"", f[k].name, snap[c].core);
				label_value(b, p->name, sizeof(p->name));
				weir_sb_printf(b, "\"} %" PRIu64 "\n", v);
			}
	}
}

static void scripts(struct weir_sbuf *b, const struct weir_statpub_snap *snap, unsigned n)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
		double scale;
		int is32;
	} f[] = {
		{ "weir_script_events_total", "counter", "Events handled by the script's handlers.",
		  offsetof(struct weir_statpub_script, events), 1.0, 0 },
		{ "weir_script_errors_total", "counter", "Errors raised by the script's handlers.",
		  offsetof(struct weir_statpub_script, errors), 1.0, 0 },
		{ "weir_script_seconds_total", "counter", "Time spent in the script's handlers.",
		  offsetof(struct weir_statpub_script, ns), 1e-9, 0 },
		{ "weir_script_alerts_total", "counter", "Alerts raised by the script.",
		  offsetof(struct weir_statpub_script, alerts), 1.0, 0 },
		{ "weir_script_budget_stops_total", "counter",
		  "Handler calls stopped by the time budget (lua.budget_ms); counted in the errors too.",
		  offsetof(struct weir_statpub_script, budget_stops), 1.0, 0 },
		{ "weir_script_memory_errors_total", "counter",
		  "Allocations refused at the Lua heap cap (lua.memory_mb); counted in the errors too.",
		  offsetof(struct weir_statpub_script, memory_errors), 1.0, 0 },
		{ "weir_script_handlers_disabled", "gauge", "Handlers disabled after errors.",
		  offsetof(struct weir_statpub_script, disabled), 1.0, 1 },
	};
	unsigned total = 0;
	for (unsigned c = 0; c < n; c++)
		total += snap[c].nscripts;
	if (!total)
		return;
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		family(b, f[k].name, f[k].type, f[k].help);
		for (unsigned c = 0; c < n; c++)
			for (unsigned i = 0; i < snap[c].nscripts; i++) {
				const struct weir_statpub_script *s = &snap[c].scripts[i];
				uint64_t v = 0;
				uint32_t v32 = 0;
				if (f[k].is32)
					memcpy(&v32, (const char *)s + f[k].off, sizeof(v32)), v = v32;
				else
					memcpy(&v, (const char *)s + f[k].off, sizeof(v));
				weir_sb_printf(b, "%s{core=\"%u\",script=\"", f[k].name, snap[c].core);
				label_value(b, s->name, sizeof(s->name));
				weir_sb_printf(b, "\"} %.9g\n", (double)v * f[k].scale);
			}
	}
}

static const char *close_name(unsigned i)
{
	return weir_close_reason_name(i);
}

void weir_metrics_render(const struct weir_statpub_snap *snap, unsigned n, const char *mode, struct weir_sbuf *b)
{
	family(b, "weir_info", "gauge", "Always 1; the mode label says how weir runs.");
	weir_sb_printf(b, "weir_info{mode=\"");
	label_value(b, mode ? mode : "run", 16);
	weir_sb_printf(b, "\"} 1\n");
	per_core(b, snap, n, "weir_packets_total", "counter", "Frames received.", ST(pkts), 1.0);
	per_core(b, snap, n, "weir_bytes_total", "counter", "Wire bytes received.", ST(bytes), 1.0);
	per_core(b, snap, n, "weir_tcp_packets_total", "counter", "TCP packets over IP.", ST(tcp_pkts), 1.0);
	per_core(b, snap, n, "weir_other_packets_total", "counter", "Packets that are not TCP over IP.", ST(other_pkts), 1.0);
	per_core(b, snap, n, "weir_fragments_total", "counter",
	         "IP fragments that completed no datagram: held, given up, or not reassembled (the "
	         "fragment that completes a datagram counts as the packet it rebuilds, TCP or not).",
	         ST(frag_pkts), 1.0);
	per_core(b, snap, n, "weir_orphans_total", "counter", "TCP packets that belong to no flow.", ST(orphans), 1.0);
	per_core(b, snap, n, "weir_drops_total", "counter", "Packets given the drop verdict.", ST(drops), 1.0);
	per_core(b, snap, n, "weir_flows_total", "counter", "Flows created.", ST(flows_created), 1.0);
	per_core(b, snap, n, "weir_flows_closed_total", "counter", "Flows ended and freed.", ST(flows_closed), 1.0);
	per_core(b, snap, n, "weir_flows_refused_total", "counter", "New flows refused, the table being full.",
	         ST(flows_refused), 1.0);
	per_core(b, snap, n, "weir_flows_evicted_total", "counter", "Flows evicted to make room.", ST(flows_evicted), 1.0);
	per_core(b, snap, n, "weir_active_flows", "gauge", "Flows in the table.", ST(flows_active), 1.0);
	per_core_array(b, snap, n, "weir_events_total", "Event records raised, by built-in event.", "event",
	               ST(events), 0, WEIR_EV_BUILTIN_COUNT, weir_event_name);
	per_core_array(b, snap, n, "weir_anomalies_total", "TCP anomalies, by reason.", "reason", ST(anomalies), 0,
	               WEIR_AN_COUNT, weir_anomaly_name);
	per_core_array(b, snap, n, "weir_malformed_total", "Malformed frames, by reason.", "reason", ST(malformed), 0,
	               WEIR_MAL_COUNT, weir_malformed_name);
	per_core_array(b, snap, n, "weir_flow_closes_total", "Flow ends, by reason.", "reason", ST(closes), 1,
	               WEIR_CLOSE_COUNT, close_name);
	per_core(b, snap, n, "weir_stream_memory_bytes", "gauge", "Stream buffer memory in use.", ST(mem_used), 1.0);
	per_core(b, snap, n, "weir_stream_memory_failures_total", "counter", "Stream buffer allocations refused by the memcap.",
	         ST(mem_fail), 1.0);
	per_core(b, snap, n, "weir_stream_memory_reclaimed_bytes_total", "counter",
	         "Out-of-order bytes given up to make room under the memcap, the oldest holes first.",
	         ST(mem_reclaimed), 1.0);
	per_core(b, snap, n, "weir_alerts_total", "counter", "Alerts recorded (scripts and engine).",
	         offsetof(struct weir_statpub_snap, alerts_total), 1.0);
	per_core(b, snap, n, "weir_core_busy_seconds_total", "counter", "Time the worker spent processing.",
	         offsetof(struct weir_statpub_snap, busy_ns), 1e-9);
	per_core(b, snap, n, "weir_core_seconds_total", "counter", "Time the worker has been running.",
	         offsetof(struct weir_statpub_snap, wall_ns), 1e-9);
	ports(b, snap, n);
	scripts(b, snap, n);
}
