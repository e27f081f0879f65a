/* eve.c — formats an ended flow as one EVE JSON "flow" line, with Zeek conn.log fields under "zeek". */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log/eve.h"
#include "tcp/tcp.h" /* WEIR_ZF_* only; nothing of the tcp module is linked */

/* Zeek's TCP endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h), the inputs of conn_state(). */
enum zeek_endpoint {
	ZEEK_INACTIVE,
	ZEEK_SYN_SENT,
	ZEEK_SYN_ACK_SENT,
	ZEEK_PARTIAL,
	ZEEK_ESTABLISHED,
	ZEEK_CLOSED,
	ZEEK_RESET,
};

/* Either kind of SYN: Zeek's state machine often only asks "did this endpoint send a SYN". */
#define ZF_ANY_SYN (WEIR_ZF_SYN | WEIR_ZF_SYNACK)

/* Position of the first ch in the history (bounded by its array), or -1. */
static int hist_find(const char *h, size_t n, char ch)
{
	for (size_t i = 0; i < n && h[i]; i++)
		if (h[i] == ch)
			return (int)i;
	return -1;
}

/* Zeek's RSTOS0 test: the whole history must match the pattern  \^?S[^HAFGIQ]*R.*  (written between
 * slashes in main.zeek), i.e. an originator 'R' follows the originator 'S' with none of the
 * originator letters H, A, F, G, I, Q in between; responder (lower-case) letters may appear. */
static bool hist_syn_then_rst(const char *h, size_t n)
{
	size_t i = 0;

	if (i < n && h[i] == '^')
		i++;
	if (i >= n || h[i] != 'S')
		return false;
	for (i++; i < n && h[i]; i++) {
		if (h[i] == 'R')
			return true;
		if (strchr("HAFGIQ", h[i]))
			return false;
	}
	return false;
}

/* Whether side s sent its FIN before its RST. Zeek keeps a RST that follows the endpoint's own FIN
 * from spoiling a normal close (UpdateClosedState / UpdateEstablishedState turn it back to CLOSED
 * once the peer closes too), but a FIN after a RST is ignored (UpdateResetState). The history gives
 * the order; when it lacks either letter, FIN-then-RST (close, then abort on unread data) is the
 * common case and is assumed. */
static bool fin_before_rst(const struct weir_flow_record *rec, int s)
{
	size_t n = sizeof(rec->history);
	int f = hist_find(rec->history, n, s == WEIR_SIDE_CLIENT ? 'F' : 'f');
	int r = hist_find(rec->history, n, s == WEIR_SIDE_CLIENT ? 'R' : 'r');

	return f < 0 || r < 0 || f < r;
}

/* Zeek state of an endpoint that sent neither FIN nor RST, after UpdateInactiveState():
 * - originator: its SYN gives SYN_SENT (SYN+ACK gives SYN_ACK_SENT) until the responder's SYN[+ACK]
 *   makes it ESTABLISHED; without a SYN it is PARTIAL, unless the responder's SYN+ACK was seen, in
 *   which case its ACK establishes it ("we just missed that initial SYN");
 * - responder: any SYN[+ACK] makes it ESTABLISHED; pure ACKs to an originator still in SYN_SENT
 *   leave it INACTIVE ("eccentric TCPs ack an initial SYN before the SYN reply"); else PARTIAL;
 * - an endpoint that sent nothing is INACTIVE.
 * Approximation: zflags record what was sent, not in which order, so e.g. a responder's ACK is
 * judged against the originator's opening state, not its state at that moment. */
static int zeek_opening_state(const struct weir_flow_record *rec, int s)
{
	uint8_t zf = rec->zflags[s], peer = rec->zflags[!s];

	if (!zf && !rec->side[s].pkts)
		return ZEEK_INACTIVE;
	if (s == WEIR_SIDE_CLIENT) {
		if (peer & ZF_ANY_SYN)
			return ZEEK_ESTABLISHED;
		if (zf & WEIR_ZF_SYN)
			return ZEEK_SYN_SENT;
		return (zf & WEIR_ZF_SYNACK) ? ZEEK_SYN_ACK_SENT : ZEEK_PARTIAL;
	}
	if (zf & ZF_ANY_SYN)
		return ZEEK_ESTABLISHED;
	if (!(zf & WEIR_ZF_DATA) && zeek_opening_state(rec, WEIR_SIDE_CLIENT) == ZEEK_SYN_SENT)
		return ZEEK_INACTIVE;
	return ZEEK_PARTIAL;
}

/* Zeek's final endpoint state of side s (client = originator, server = responder). A FIN moves
 * any state to CLOSED and a RST to RESET; a RST after the endpoint's own FIN is undone when the
 * peer closes as well (see fin_before_rst). Our final RFC 793 states are not used: they move on
 * the peer's packets too (CLOSE_WAIT on the peer's FIN), while Zeek's endpoint states move only on
 * the endpoint's own packets (and the peer's SYN), which is what zflags record. */
static int zeek_endpoint_state(const struct weir_flow_record *rec, int s)
{
	uint8_t zf = rec->zflags[s], peer = rec->zflags[!s];

	if (zf & WEIR_ZF_RST) {
		if ((zf & WEIR_ZF_FIN) && (peer & WEIR_ZF_FIN) && fin_before_rst(rec, s))
			return ZEEK_CLOSED;
		return ZEEK_RESET;
	}
	if (zf & WEIR_ZF_FIN)
		return ZEEK_CLOSED;
	return zeek_opening_state(rec, s);
}

/* Zeek's size of an endpoint: payload bytes from sequence numbers (last seq - start seq), so gaps
 * count and retransmissions do not: what was delivered plus what was skipped. */
static uint64_t zeek_size(const struct weir_side_counters *c)
{
	return c->delivered + c->gap_bytes;
}

/* The decision tree of conn_state() in zeek/scripts/base/protocols/conn/main.zeek, branch by
 * branch, for TCP. */
const char *weir_zeek_conn_state(const struct weir_flow_record *rec)
{
	if (!rec)
		return "OTH";
	int os = zeek_endpoint_state(rec, WEIR_SIDE_CLIENT);
	int rs = zeek_endpoint_state(rec, WEIR_SIDE_SERVER);
	bool o_inactive = os == ZEEK_INACTIVE || os == ZEEK_PARTIAL;
	bool r_inactive = rs == ZEEK_INACTIVE || rs == ZEEK_PARTIAL;

	if (rs == ZEEK_RESET) {
		if (os == ZEEK_SYN_SENT || os == ZEEK_SYN_ACK_SENT ||
		    (os == ZEEK_RESET && zeek_size(&rec->side[0]) == 0 && zeek_size(&rec->side[1]) == 0))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == ZEEK_RESET) {
		if (r_inactive)
			return hist_syn_then_rst(rec->history, sizeof(rec->history)) ? "RSTOS0" : "OTH";
		return "RSTO";
	}
	if (rs == ZEEK_CLOSED && os == ZEEK_CLOSED)
		return "SF";
	if (os == ZEEK_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == ZEEK_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == ZEEK_SYN_SENT && rs == ZEEK_INACTIVE)
		return "S0";
	if (os == ZEEK_ESTABLISHED && rs == ZEEK_ESTABLISHED)
		return "S1";
	return "OTH";
}

/* ---- output ------------------------------------------------------------------------------ */

/* A bounded writer: once something does not fit, full is set and nothing more is written. */
struct eve_out {
	char *buf;
	size_t len, pos;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void out_fmt(struct eve_out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	size_t room = o->len - o->pos;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->pos, room, fmt, ap);
	va_end(ap);
	/* n == room would leave no byte for the terminating NUL */
	if (n < 0 || (size_t)n >= room) {
		o->full = true;
		return;
	}
	o->pos += (size_t)n;
}

/* A JSON string from at most n bytes of s: quotes, backslashes, control and non-ASCII bytes are
 * escaped so that the line stays valid (UTF-8) JSON whatever the record holds. */
static void out_str(struct eve_out *o, const char *s, size_t n)
{
	out_fmt(o, "\"");
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			out_fmt(o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			out_fmt(o, "\\u%04x", c);
		else
			out_fmt(o, "%c", c);
	}
	out_fmt(o, "\"");
}

/* ns rounded to the nearest microsecond (500 ns and up round up). */
static uint64_t round_us(uint64_t ns)
{
	return ns / 1000 + (ns % 1000 >= 500);
}

void weir_eve_time(char *buf, size_t len, uint64_t ns)
{
	if (!buf || !len)
		return;
	uint64_t us = round_us(ns);
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	char date[64];

	if (!gmtime_r(&sec, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
		buf[0] = '\0';
		return;
	}
	const int n = snprintf(buf, len, "%s.%06u+0000", date, (unsigned)(us % 1000000));
	if (n < 0 && len) /* (a short buffer gets the truncated, terminated prefix) */
		buf[0] = '\0';
}

/* Suricata's flow "state": closed by FIN/RST; otherwise (timeout, eviction, shutdown) "established"
 * once the handshake completed, else "new". A flow picked up mid-stream starts established, as in
 * Suricata's midstream mode. */
static const char *flow_state_name(const struct weir_flow_record *rec)
{
	if (rec->bypassed)
		return "bypassed";
	if (rec->reason == WEIR_CLOSE_FIN || rec->reason == WEIR_CLOSE_RST)
		return "closed";
	if (((rec->zflags[0] | rec->zflags[1]) & WEIR_ZF_ESTABLISHED) || rec->midstream)
		return "established";
	return "new";
}

static void out_addr(struct eve_out *o, const uint8_t *ip, uint8_t ver)
{
	char s[INET6_ADDRSTRLEN];

	if (!inet_ntop(ver == 4 ? AF_INET : AF_INET6, ip, s, sizeof(s)))
		s[0] = '\0';
	out_str(o, s, sizeof(s));
}

static void out_header(struct eve_out *o, const struct weir_flow_record *rec)
{
	const struct weir_tuple *t = &rec->tuple;
	char ts[40];

	weir_eve_time(ts, sizeof(ts), rec->start_ns);
	out_fmt(o, "{\"timestamp\":\"%s\",\"flow_id\":%" PRIu64 ",\"event_type\":\"flow\",\"src_ip\":",
	        ts, rec->flow_id);
	out_addr(o, t->client_ip, t->ip_ver);
	out_fmt(o, ",\"src_port\":%u,\"dest_ip\":", (unsigned)t->client_port);
	out_addr(o, t->server_ip, t->ip_ver);
	out_fmt(o, ",\"dest_port\":%u,\"proto\":\"TCP\"", (unsigned)t->server_port);
	/* 0 means "no tag" in the tuple (weir_pkt.vlan), so a second id implies the first was present */
	if (t->vlan[1])
		out_fmt(o, ",\"vlan\":[%u,%u]", (unsigned)t->vlan[0], (unsigned)t->vlan[1]);
	else if (t->vlan[0])
		out_fmt(o, ",\"vlan\":[%u]", (unsigned)t->vlan[0]);
}

static void out_flow(struct eve_out *o, const struct weir_flow_record *rec)
{
	char start[40], end[40];
	uint64_t s_us = round_us(rec->start_ns), e_us = round_us(rec->end_ns);
	/* Suricata's age: the difference of the whole-second parts of end and start, so a 2 ms flow
	 * that crosses a second boundary has age 1 */
	uint64_t age = e_us >= s_us ? e_us / 1000000 - s_us / 1000000 : 0;

	weir_eve_time(start, sizeof(start), rec->start_ns);
	weir_eve_time(end, sizeof(end), rec->end_ns);
	out_fmt(o, ",\"flow\":{\"pkts_toserver\":%" PRIu64 ",\"pkts_toclient\":%" PRIu64
	        ",\"bytes_toserver\":%" PRIu64 ",\"bytes_toclient\":%" PRIu64,
	        rec->side[0].pkts, rec->side[1].pkts, rec->side[0].bytes, rec->side[1].bytes);
	out_fmt(o, ",\"start\":\"%s\",\"end\":\"%s\",\"age\":%" PRIu64 ",\"state\":\"%s\",\"reason\":\"%s\"}",
	        start, end, age, flow_state_name(rec), weir_close_reason_name(rec->reason));
	out_fmt(o, ",\"tcp\":{\"client_state\":\"%s\",\"server_state\":\"%s\",\"midstream\":%s,\"bypassed\":%s}",
	        weir_tcp_state_name(rec->state[0]), weir_tcp_state_name(rec->state[1]),
	        rec->midstream ? "true" : "false", rec->bypassed ? "true" : "false");
}

static void out_stream(struct eve_out *o, const char *name, const struct weir_side_counters *c)
{
	out_fmt(o, "\"%s\":{\"payload\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"gap_bytes\":%" PRIu64
	        ",\"rexmit_pkts\":%" PRIu64 ",\"rexmit_bytes\":%" PRIu64 ",\"resent_pkts\":%" PRIu64
	        ",\"ooo_pkts\":%" PRIu64 ",\"overlaps\":%" PRIu64 ",\"overlap_diff\":%" PRIu64
	        ",\"outrun_bytes\":%" PRIu64 "}",
	        name, c->payload, c->delivered, c->gap_bytes, c->rexmit_pkts, c->rexmit_bytes,
	        c->resent_pkts, c->ooo_pkts, c->overlaps, c->overlap_diff, c->outrun_bytes);
}

/* Zeek conn.log fields with Zeek's meaning (base/protocols/conn/main.zeek, Conn::Info):
 * duration = last - first packet time; orig_bytes/resp_bytes = payload bytes from sequence
 * numbers; missed_bytes = bytes in content gaps (both directions); *_pkts and *_ip_bytes = packets
 * and IP-level bytes (IP total length) per endpoint, as the conn-size analyzer counts them. */
static void out_zeek(struct eve_out *o, const struct weir_flow_record *rec)
{
	const struct weir_side_counters *c = &rec->side[0], *r = &rec->side[1];
	uint64_t s_us = round_us(rec->start_ns), e_us = round_us(rec->end_ns);
	/* from the rounded times, so that duration always equals the printed end - start */
	uint64_t dur = e_us >= s_us ? e_us - s_us : 0;

	out_fmt(o, ",\"zeek\":{\"duration\":%" PRIu64 ".%06" PRIu64 ",\"orig_bytes\":%" PRIu64
	        ",\"resp_bytes\":%" PRIu64 ",\"missed_bytes\":%" PRIu64,
	        dur / 1000000, dur % 1000000, zeek_size(c), zeek_size(r), c->gap_bytes + r->gap_bytes);
	out_fmt(o, ",\"orig_pkts\":%" PRIu64 ",\"orig_ip_bytes\":%" PRIu64 ",\"resp_pkts\":%" PRIu64
	        ",\"resp_ip_bytes\":%" PRIu64 ",\"conn_state\":\"%s\",\"history\":",
	        c->pkts, c->bytes, r->pkts, r->bytes, weir_zeek_conn_state(rec));
	out_str(o, rec->history, sizeof(rec->history));
	out_fmt(o, "}}\n");
}

int weir_eve_flow(char *buf, size_t len, const struct weir_flow_record *rec)
{
	if (!buf || !rec)
		return -EINVAL;
	if (!len)
		return -ENOSPC;

	struct eve_out o = { .buf = buf, .len = len, .pos = 0, .full = false };

	out_header(&o, rec);
	out_flow(&o, rec);
	out_fmt(&o, ",\"streams\":{");
	out_stream(&o, "toserver", &rec->side[0]);
	out_fmt(&o, ",");
	out_stream(&o, "toclient", &rec->side[1]);
	out_fmt(&o, "}");
	out_zeek(&o, rec);
	if (o.full) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o.pos;
}
