/* names.c — the names of events, anomaly reasons, TCP states, close reasons and malformed reasons, as logs and APIs print them. */
#include "weir.h"

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
		                             "bad_flags", "data_after_fin", "memcap" };
	return NAME_OF(names, reason);
}

const char *weir_tcp_state_name(unsigned state)
{
	static const char *const names[] = { "closed", "listen", "syn_sent", "syn_rcvd",
		                             "established", "fin_wait_1", "fin_wait_2", "close_wait",
		                             "closing", "last_ack", "time_wait" };
	return NAME_OF(names, state);
}

const char *weir_close_reason_name(unsigned reason)
{
	static const char *const names[] = { "none", "fin", "rst", "timeout", "evicted", "shutdown", "reused" };
	return NAME_OF(names, reason);
}

const char *weir_malformed_name(unsigned reason)
{
	static const char *const names[] = { "trunc_l2", "trunc_ip", "bad_ip_version", "bad_ip_hlen",
		                             "bad_ip_len", "trunc_ipv6_ext", "trunc_tcp",
		                             "bad_tcp_hlen", "bad_tcp_opt", "unknown_linktype" };
	return NAME_OF(names, reason);
}
