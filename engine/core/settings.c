/* settings.c — the engine's settings (struct weir_config): defaults, bounds, units and docs. */
#include "core/settings.h"

#include <stdint.h>
#include <string.h>

#include "reasm/reasm.h"

#define FIELD(f) offsetof(struct weir_config, f), sizeof(((struct weir_config *)0)->f)
#define WEEK_S   (7 * 86400.0) /* bounds every time: a longer one is a typo */

static const char *const flow_policies[] = {"evict", "refuse", NULL}; /* enum weir_flow_policy */
static const char *const overlaps[] = {"first", "last", NULL};        /* enum weir_overlap */
/* enum weir_checksums */
static const char *const checksum_modes[] = {"auto", "verify", "off", NULL};

static const struct weir_setting engine_settings[] = {
    {"flows.max", WEIR_SET_UINT, FIELD(max_flows), 65536, 1, 1 << 26, NULL, "flows",
     "flow-table entries per worker; a tracked flow costs about 0.7 KB (memory.flow_entry_bytes)"},
    {"flows.idle_timeout", WEIR_SET_SECONDS, FIELD(idle_timeout_ms), 300, 0.001, WEEK_S, NULL, "s",
     "an established flow idle this long ends (Zeek's tcp_inactivity_timeout is 5 min)"},
    {"flows.handshake_timeout", WEIR_SET_SECONDS, FIELD(handshake_timeout_ms), 75, 0.001, WEEK_S,
     NULL, "s",
     "a flow idle this long before its handshake completes ends; longer than Linux's SYN retry "
     "gaps (1, 2, 4 ... 64 s), so one unanswered attempt stays one flow"},
    {"flows.timewait", WEIR_SET_SECONDS, FIELD(timewait_ms), 2, 0, WEEK_S, NULL, "s",
     "a closed flow lingers this long for the last ACK and stray retransmissions"},
    {"flows.policy", WEIR_SET_ENUM, FIELD(flow_policy), WEIR_FLOWS_EVICT_IDLEST, 0, 1,
     flow_policies, "", "a full table: \"evict\" the idlest flow or \"refuse\" the new one"},
    {"streams.buffer_per_side", WEIR_SET_UINT, FIELD(buffer_per_side), 4u << 20, 1024, 1 << 30,
     NULL, "bytes",
     "most a side's reassembly ring grows to (it starts at 2 KiB, grows to hold the last 16 KiB "
     "delivered, then doubles while that much is out of order); Linux's tcp_rmem maximum (6 MiB) "
     "lets a window reach a few MiB on a LAN"},
    {"streams.memcap", WEIR_SET_UINT, FIELD(memcap), 0, 0, 1ull << 40, NULL, "bytes",
     "stream-buffer bytes per worker; 0: flows.max x 32 KiB (2 GiB at the default), enough for "
     "every flow's two rings of 16 KiB; at the cap, out-of-order bytes of the oldest holes are "
     "given up first (memory.reclaimed), then a side whose first ring does not fit stops "
     "buffering (anomaly memcap), its flow is still tracked"},
    {"streams.overlap", WEIR_SET_ENUM, FIELD(overlap), WEIR_OVERLAP_FIRST, 0, 1, overlaps, "",
     "which copy of overlapping bytes wins: \"first\" or \"last\""},
    {"streams.midstream", WEIR_SET_BOOL, FIELD(midstream), 1, 0, 1, NULL, "",
     "adopt flows whose handshake was not seen"},
    {"streams.buffering", WEIR_SET_BOOL, FIELD(buffering), 1, 0, 1, NULL, "",
     "new flows buffer the bytes of both sides; false: tracking only (state, sequence offsets, "
     "counters and NEW_DATA events, no bytes to read; a handler may still turn a side's "
     "buffering on)"},
    {"checksums", WEIR_SET_ENUM, FIELD(checksums), WEIR_CHECKSUMS_AUTO, 0, 2, checksum_modes, "",
     "IPv4 header and TCP checksums: a packet whose checksum is wrong is counted "
     "(malformed.ip_checksum, malformed.tcp_checksum) and not tracked, as the host drops it "
     "(inline it is forwarded); \"auto\" verifies what live ports receive unless the NIC did, "
     "not captures (their sender's offloaded checksums are wrong); \"verify\": captures too; "
     "\"off\""},
    {"defrag.memcap", WEIR_SET_UINT, FIELD(defrag_memcap), 16u << 20, 65536, 1ull << 40, NULL,
     "bytes",
     "bytes of incomplete IP datagrams per worker (a datagram costs its fragments' span, at "
     "least 2 KiB, plus about 1.2 KiB); past it the oldest are evicted (counted: defrag.evicted)"},
    {"defrag.timeout", WEIR_SET_SECONDS, FIELD(defrag_timeout_ms), 60, 0.001, 3600, NULL, "s",
     "an IP datagram still incomplete this long after its first fragment is given up "
     "(Suricata's default; Linux's ipfrag_time is 30 s)"},
    {"defrag.max_fragments", WEIR_SET_UINT, FIELD(defrag_max_frags), 64, 1, 8192, NULL, "fragments",
     "most fragments one datagram may take (a 64 KiB datagram cut at a 1,500-byte MTU takes "
     "45); one more gives the datagram up (counted: defrag.too_many)"},
    {"defrag.overlap", WEIR_SET_ENUM, FIELD(defrag_overlap), WEIR_OVERLAP_FIRST, 0, 1, overlaps, "",
     "which copy of overlapping fragment bytes wins: \"first\" (the earlier fragment's, as "
     "Suricata's and Snort's \"first\" policy) or \"last\"; bytes that differ raise anomaly "
     "frag_overlap_different either way"},
    {"tunnels.max_depth", WEIR_SET_UINT, FIELD(tunnel_depth), WEIR_TUN_MAX_DEPTH, 0, 8, NULL,
     "tunnels",
     "most nested tunnels taken off to reach the TCP inside (0: none); a deeper packet is counted "
     "(malformed.tunnel_depth) and not tracked (Zeek's Tunnel::max_depth is 2)"},
    {"tunnels.vxlan_port", WEIR_SET_UINT, FIELD(vxlan_port), WEIR_TUN_PORT_VXLAN, 0, 65535, NULL,
     "port",
     "UDP destination port of VXLAN (0: not decapsulated); Zeek's and Suricata's default too"},
    {"tunnels.geneve_port", WEIR_SET_UINT, FIELD(geneve_port), WEIR_TUN_PORT_GENEVE, 0, 65535, NULL,
     "port",
     "UDP destination port of Geneve (0: not decapsulated); Zeek's and Suricata's default too"},
    {"tunnels.gtpu_port", WEIR_SET_UINT, FIELD(gtpu_port), WEIR_TUN_PORT_GTPU, 0, 65535, NULL,
     "port",
     "UDP port of GTP-U, either end (0: not decapsulated); Zeek's default too, Suricata leaves GTP "
     "to its app-layer parser and does not decapsulate it"},
    {"tunnels.teredo_port", WEIR_SET_UINT, FIELD(teredo_port), WEIR_TUN_PORT_TEREDO, 0, 65535, NULL,
     "port",
     "UDP port of Teredo, either end (0: not decapsulated, nor recognised elsewhere by the Teredo "
     "prefix); Zeek's and Suricata's default too"},
    {"tunnels.ayiya_port", WEIR_SET_UINT, FIELD(ayiya_port), WEIR_TUN_PORT_AYIYA, 0, 65535, NULL,
     "port",
     "UDP port of AYIYA, either end (0: not decapsulated); Zeek's default, Suricata has no AYIYA"},
    {"tunnels.gre_udp_port", WEIR_SET_UINT, FIELD(gre_udp_port), WEIR_TUN_PORT_GRE_UDP, 0, 65535,
     NULL, "port",
     "UDP destination port of GRE-in-UDP (RFC 8086; 0: not decapsulated); Zeek's default too, "
     "Suricata has none"},
};

const struct weir_setting *weir_engine_settings(unsigned *n)
{
	*n = sizeof(engine_settings) / sizeof(engine_settings[0]);
	return engine_settings;
}

const struct weir_setting *weir_engine_setting(const char *name)
{
	for (size_t i = 0; i < sizeof(engine_settings) / sizeof(engine_settings[0]); i++)
		if (!strcmp(engine_settings[i].name, name))
			return &engine_settings[i];
	return NULL;
}

void weir_setting_store(const struct weir_setting *s, void *base, double v)
{
	uint8_t *p = (uint8_t *)base + s->offset;
	if (s->type == WEIR_SET_SECONDS)
		v = v * 1000 + 0.5;
	if (s->size == sizeof(uint64_t)) {
		const uint64_t x = (uint64_t)v;
		memcpy(p, &x, sizeof(x));
	} else if (s->size == sizeof(uint32_t)) {
		const uint32_t x = (uint32_t)v;
		memcpy(p, &x, sizeof(x));
	} else {
		*p = (uint8_t)v;
	}
}

double weir_setting_value(const struct weir_setting *s, const void *base)
{
	const uint8_t *p = (const uint8_t *)base + s->offset;
	double v;
	if (s->size == sizeof(uint64_t)) {
		uint64_t x;
		memcpy(&x, p, sizeof(x));
		v = (double)x;
	} else if (s->size == sizeof(uint32_t)) {
		uint32_t x;
		memcpy(&x, p, sizeof(x));
		v = x;
	} else {
		v = *p;
	}
	return s->type == WEIR_SET_SECONDS ? v / 1000 : v;
}

void weir_settings_apply_defaults(const struct weir_setting *t, unsigned n, void *base)
{
	for (unsigned i = 0; i < n; i++)
		weir_setting_store(&t[i], base, t[i].def);
}

void weir_config_defaults(struct weir_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	weir_settings_apply_defaults(engine_settings,
	                             sizeof(engine_settings) / sizeof(engine_settings[0]), cfg);
}

uint64_t weir_config_derived_memcap(const struct weir_config *cfg)
{
	const uint64_t ring =
	    cfg->buffer_per_side < WEIR_REASM_RING_MIN ? cfg->buffer_per_side : WEIR_REASM_RING_MIN;
	return (uint64_t)cfg->max_flows * 2 * ring;
}
