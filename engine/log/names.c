/* names.c — the names of events, anomaly reasons, TCP states, close reasons, malformed reasons,
 * link-layer encapsulations and tunnels, as logs and APIs print them. */
#include "weir.h"
#include "log/names.h"

#define NAME_OF(table, i) ((i) < sizeof(table) / sizeof(table[0]) && table[i] ? table[i] : "unknown")

const char *weir_event_name(uint32_t ev)
{
	static const char *const names[] = { "pkt_in", "conn_start", "handshake_done", "state_change",
		                             "new_data", "rexmit", "conn_end", "orphan", "anomaly",
		                             "timeout", "timer" };
	return NAME_OF(names, ev);
}

const char *weir_anomaly_name(unsigned reason)
{
	static const char *const names[] = { "rst_out_of_window", "syn_on_established",
		                             "data_out_of_window", "rexmit_different",
		                             "overlap_different", "buffer_outrun", "ack_unseen_data",
		                             "bad_flags", "data_after_fin", "memcap",
		                             "frag_overlap_different" };
	return NAME_OF(names, reason);
}

const char *weir_defrag_counter_name(unsigned counter)
{
	static const char *const names[] = { "reassembled", "timeouts", "evicted", "too_many",
		                             "overlaps", "overlap_different", "oversized", "bad",
		                             "tiny", "not_tcp", "memory_used", "memory_peak" };
	_Static_assert(sizeof(names) / sizeof(names[0]) == WEIR_DF_COUNT, "a name per counter");
	return NAME_OF(names, counter);
}

/* The names EVE records carry, with their lengths (log/names.h); the last is "unknown". The
 * declarations' sizes would complete a short list with empty names: the lists are counted. */
#define TCP_STATE_NAMES                                                                            \
	WEIR_NAME("closed"), WEIR_NAME("listen"), WEIR_NAME("syn_sent"), WEIR_NAME("syn_rcvd"),    \
	    WEIR_NAME("established"), WEIR_NAME("fin_wait_1"), WEIR_NAME("fin_wait_2"),            \
	    WEIR_NAME("close_wait"), WEIR_NAME("closing"), WEIR_NAME("last_ack"),                  \
	    WEIR_NAME("time_wait"), WEIR_NAME("unknown")
#define CLOSE_REASON_NAMES                                                                         \
	WEIR_NAME("none"), WEIR_NAME("fin"), WEIR_NAME("rst"), WEIR_NAME("timeout"),               \
	    WEIR_NAME("evicted"), WEIR_NAME("shutdown"), WEIR_NAME("reused"), WEIR_NAME("unknown")
#define COUNT_NAMES(list) (sizeof((const struct weir_name[]){list}) / sizeof(struct weir_name))
#define TUNNEL_NAMES                                                                               \
	WEIR_NAME("none"), WEIR_NAME("gre"), WEIR_NAME("erspan"), WEIR_NAME("vxlan"),              \
	    WEIR_NAME("geneve"), WEIR_NAME("gtpu"), WEIR_NAME("teredo"), WEIR_NAME("ayiya"),       \
	    WEIR_NAME("ipip"), WEIR_NAME("unknown")
_Static_assert(COUNT_NAMES(TCP_STATE_NAMES) == WEIR_TCP_STATE_COUNT + 1, "a name per TCP state");
_Static_assert(COUNT_NAMES(TUNNEL_NAMES) == WEIR_TUN_COUNT + 1, "a name per tunnel");
_Static_assert(COUNT_NAMES(CLOSE_REASON_NAMES) == WEIR_CLOSE_COUNT + 1, "a name per close reason");
const struct weir_name weir_tcp_state_names[] = {TCP_STATE_NAMES};
const struct weir_name weir_close_reason_names[] = {CLOSE_REASON_NAMES};
const struct weir_name weir_tunnel_names[] = {TUNNEL_NAMES};

const char *weir_tcp_state_name(unsigned state)
{
	return weir_tcp_state_name_n(state)->s;
}

const char *weir_close_reason_name(unsigned reason)
{
	return weir_close_reason_name_n(reason)->s;
}

const char *weir_malformed_name(unsigned reason)
{
	static const char *const names[] = {
	    "trunc_l2",       "trunc_ip",    "bad_ip_version", "bad_ip_hlen",  "bad_ip_len",
	    "trunc_ipv6_ext", "trunc_tcp",   "bad_tcp_hlen",   "bad_tcp_opt",  "unknown_linktype",
	    "l2_depth",       "mpls_no_bos", "bad_pppoe",      "bad_pppoe_len", "bad_tunnel",
	    "tunnel_depth",   "tunnel_unsupported", "ip_checksum", "tcp_checksum"};
	_Static_assert(sizeof(names) / sizeof(names[0]) == WEIR_MAL_COUNT, "a name per reason");
	return NAME_OF(names, reason);
}

const char *weir_encap_name(unsigned encap)
{
	static const char *const names[] = {"vlan", "mpls", "pppoe",      "ppp",
	                                    "pbb",  "llc",  "fabricpath", "chdlc"};
	_Static_assert(sizeof(names) / sizeof(names[0]) == WEIR_ENCAP_COUNT,
	               "a name per encapsulation");
	return NAME_OF(names, encap);
}

const char *weir_tunnel_name(unsigned tunnel)
{
	return weir_tunnel_name_n(tunnel)->s;
}
