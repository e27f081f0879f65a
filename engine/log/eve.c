/* eve.c — formats an ended flow as one EVE JSON "flow" line, with Zeek conn.log fields under "zeek". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "log/eve.h"
#include "tcp/tcp.h" /* WEIR_ZF_* only; nothing of the tcp module is linked */
#include "json/json.h"

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


/* ns rounded to the nearest microsecond (500 ns and up round up). */
static uint64_t round_us(uint64_t ns)
{
	return ns / 1000 + (ns % 1000 >= 500);
}

/* sec's date and time of day (sod = sec % 86400) as YYYY-MM-DDTHH:MM:SS. The civil date comes
 * from days since the epoch by Howard Hinnant's days_from_civil inverse (proleptic Gregorian, eras
 * of 400 years), without gmtime/strftime: this runs per flow record. */
static void out_date(struct weir_json *w, uint64_t sec, uint64_t sod)
{
	const uint64_t z = sec / 86400 + 719468; /* days since 0000-03-01 */
	const uint64_t era = z / 146097, doe = z % 146097;
	const uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const uint64_t mp = (5 * doy + 2) / 153, day = doy - (153 * mp + 2) / 5 + 1;
	const uint64_t month = mp < 10 ? mp + 3 : mp - 9, year = era * 400 + yoe + (month <= 2);

	weir_json_u64_pad(w, year, 4);
	WEIR_JSON_LIT(w, "-");
	weir_json_u64_pad(w, month, 2);
	WEIR_JSON_LIT(w, "-");
	weir_json_u64_pad(w, day, 2);
	WEIR_JSON_LIT(w, "T");
	weir_json_u64_pad(w, sod / 3600, 2);
	WEIR_JSON_LIT(w, ":");
	weir_json_u64_pad(w, sod / 60 % 60, 2);
	WEIR_JSON_LIT(w, ":");
	weir_json_u64_pad(w, sod % 60, 2);
}

/* Writes ns since the epoch as "2026-11-28T01:45:05.123456+0000" (31 bytes). */
static void out_time(struct weir_json *w, uint64_t ns)
{
	/* A record's two times, and the records of a busy second, mostly share their second: its
	 * "YYYY-MM-DDTHH:MM:SS" is kept per thread (workers share nothing) and only the microseconds
	 * are formatted again. */
	static __thread uint64_t cached_sec = UINT64_MAX;
	static __thread char cached[24];
	static __thread size_t cached_len;
	const uint64_t us = round_us(ns), sec = us / 1000000, sod = sec % 86400;
	if (sec != cached_sec) {
		struct weir_json c;
		weir_json_init(&c, cached, sizeof(cached));
		out_date(&c, sec, sod);
		cached_len = c.pos; /* 19: a uint64_t of ns ends in the year 2554 */
		cached_sec = sec;
	}
	weir_json_raw(w, cached, cached_len);
	WEIR_JSON_LIT(w, ".");
	weir_json_u64_pad(w, us % 1000000, 6);
	WEIR_JSON_LIT(w, "+0000");
}

void weir_eve_time(char *buf, size_t len, uint64_t ns)
{
	if (!buf || !len)
		return;
	char t[40];
	struct weir_json w;

	weir_json_init(&w, t, sizeof(t));
	out_time(&w, ns);
	weir_json_end(&w);
	/* a short buffer gets the truncated, terminated prefix */
	const size_t n = w.pos < len - 1 ? w.pos : len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
}

void weir_eve_json_time(struct weir_json *w, uint64_t ns)
{
	WEIR_JSON_LIT(w, "\"");
	out_time(w, ns);
	WEIR_JSON_LIT(w, "\"");
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

/* IPv4 in dotted decimal without inet_ntop, which formats through sprintf (a third of a flow
 * record's time); IPv6 through inet_ntop for its zero compression rules. */
void weir_eve_json_addr(struct weir_json *w, const uint8_t *ip, uint8_t ver)
{
	char s[INET6_ADDRSTRLEN];

	if (ver == 4) {
		WEIR_JSON_LIT(w, "\"");
		for (int i = 0; i < 4; i++) {
			if (i)
				WEIR_JSON_LIT(w, ".");
			weir_json_u64(w, ip[i]);
		}
		WEIR_JSON_LIT(w, "\"");
		return;
	}
	if (!inet_ntop(AF_INET6, ip, s, sizeof(s)))
		s[0] = '\0';
	weir_json_cstr(w, s);
}

/* One of weir's own names (states, reasons: plain ASCII letters, digits and '_' from the engine's
 * tables, never input) as a JSON string: quoted, without the escaper's per-byte checks. */
static void out_name(struct weir_json *w, const char *s)
{
	WEIR_JSON_LIT(w, "\"");
	weir_json_raw(w, s, strlen(s));
	WEIR_JSON_LIT(w, "\"");
}

static void out_bool(struct weir_json *w, bool v)
{
	if (v)
		WEIR_JSON_LIT(w, "true");
	else
		WEIR_JSON_LIT(w, "false");
}

static void out_header(struct weir_json *w, const struct weir_flow_record *rec)
{
	const struct weir_tuple *t = &rec->tuple;

	WEIR_JSON_LIT(w, "{\"timestamp\":");
	weir_eve_json_time(w, rec->start_ns);
	WEIR_JSON_KV(w, ",\"flow_id\":", rec->flow_id);
	WEIR_JSON_LIT(w, ",\"event_type\":\"flow\",\"src_ip\":");
	weir_eve_json_addr(w, t->client_ip, t->ip_ver);
	WEIR_JSON_KV(w, ",\"src_port\":", t->client_port);
	WEIR_JSON_LIT(w, ",\"dest_ip\":");
	weir_eve_json_addr(w, t->server_ip, t->ip_ver);
	WEIR_JSON_KV(w, ",\"dest_port\":", t->server_port);
	WEIR_JSON_LIT(w, ",\"proto\":\"TCP\"");
	/* 0 means "no tag" in the tuple (weir_pkt.vlan), so a second id implies the first was
	 * present */
	if (t->vlan[0] || t->vlan[1]) {
		WEIR_JSON_LIT(w, ",\"vlan\":[");
		weir_json_u64(w, t->vlan[0]);
		if (t->vlan[1]) {
			WEIR_JSON_LIT(w, ",");
			weir_json_u64(w, t->vlan[1]);
		}
		WEIR_JSON_LIT(w, "]");
	}
}

static void out_flow(struct weir_json *w, const struct weir_flow_record *rec)
{
	uint64_t s_us = round_us(rec->start_ns), e_us = round_us(rec->end_ns);
	/* Suricata's age: the difference of the whole-second parts of end and start, so a 2 ms flow
	 * that crosses a second boundary has age 1 */
	uint64_t age = e_us >= s_us ? e_us / 1000000 - s_us / 1000000 : 0;

	WEIR_JSON_KV(w, ",\"flow\":{\"pkts_toserver\":", rec->side[0].pkts);
	WEIR_JSON_KV(w, ",\"pkts_toclient\":", rec->side[1].pkts);
	WEIR_JSON_KV(w, ",\"bytes_toserver\":", rec->side[0].bytes);
	WEIR_JSON_KV(w, ",\"bytes_toclient\":", rec->side[1].bytes);
	WEIR_JSON_LIT(w, ",\"start\":");
	weir_eve_json_time(w, rec->start_ns);
	WEIR_JSON_LIT(w, ",\"end\":");
	weir_eve_json_time(w, rec->end_ns);
	WEIR_JSON_KV(w, ",\"age\":", age);
	WEIR_JSON_LIT(w, ",\"state\":");
	out_name(w, flow_state_name(rec));
	WEIR_JSON_LIT(w, ",\"reason\":");
	out_name(w, weir_close_reason_name(rec->reason));
	WEIR_JSON_LIT(w, "},\"tcp\":{\"client_state\":");
	out_name(w, weir_tcp_state_name(rec->state[0]));
	WEIR_JSON_LIT(w, ",\"server_state\":");
	out_name(w, weir_tcp_state_name(rec->state[1]));
	WEIR_JSON_LIT(w, ",\"midstream\":");
	out_bool(w, rec->midstream);
	WEIR_JSON_LIT(w, ",\"bypassed\":");
	out_bool(w, rec->bypassed);
	WEIR_JSON_LIT(w, "}");
}

static void out_stream(struct weir_json *w, const struct weir_side_counters *c)
{
	WEIR_JSON_KV(w, "{\"payload\":", c->payload);
	WEIR_JSON_KV(w, ",\"delivered\":", c->delivered);
	WEIR_JSON_KV(w, ",\"gap_bytes\":", c->gap_bytes);
	WEIR_JSON_KV(w, ",\"rexmit_pkts\":", c->rexmit_pkts);
	WEIR_JSON_KV(w, ",\"rexmit_bytes\":", c->rexmit_bytes);
	WEIR_JSON_KV(w, ",\"resent_pkts\":", c->resent_pkts);
	WEIR_JSON_KV(w, ",\"ooo_pkts\":", c->ooo_pkts);
	WEIR_JSON_KV(w, ",\"overlaps\":", c->overlaps);
	WEIR_JSON_KV(w, ",\"overlap_diff\":", c->overlap_diff);
	WEIR_JSON_KV(w, ",\"outrun_bytes\":", c->outrun_bytes);
	WEIR_JSON_LIT(w, "}");
}

/* Zeek conn.log fields with Zeek's meaning (base/protocols/conn/main.zeek, Conn::Info):
 * duration = last - first packet time; orig_bytes/resp_bytes = payload bytes from sequence
 * numbers; missed_bytes = bytes in content gaps (both directions); *_pkts and *_ip_bytes = packets
 * and IP-level bytes (IP total length) per endpoint, as the conn-size analyzer counts them. */
static void out_zeek(struct weir_json *w, const struct weir_flow_record *rec)
{
	const struct weir_side_counters *c = &rec->side[0], *r = &rec->side[1];
	uint64_t s_us = round_us(rec->start_ns), e_us = round_us(rec->end_ns);
	/* from the rounded times, so that duration always equals the printed end - start */
	uint64_t dur = e_us >= s_us ? e_us - s_us : 0;

	WEIR_JSON_KV(w, ",\"zeek\":{\"duration\":", dur / 1000000);
	WEIR_JSON_LIT(w, ".");
	weir_json_u64_pad(w, dur % 1000000, 6);
	WEIR_JSON_KV(w, ",\"orig_bytes\":", zeek_size(c));
	WEIR_JSON_KV(w, ",\"resp_bytes\":", zeek_size(r));
	WEIR_JSON_KV(w, ",\"missed_bytes\":", c->gap_bytes + r->gap_bytes);
	WEIR_JSON_KV(w, ",\"orig_pkts\":", c->pkts);
	WEIR_JSON_KV(w, ",\"orig_ip_bytes\":", c->bytes);
	WEIR_JSON_KV(w, ",\"resp_pkts\":", r->pkts);
	WEIR_JSON_KV(w, ",\"resp_ip_bytes\":", r->bytes);
	WEIR_JSON_LIT(w, ",\"conn_state\":");
	out_name(w, weir_zeek_conn_state(rec));
	WEIR_JSON_LIT(w, ",\"history\":");
	weir_json_str(w, rec->history, strnlen(rec->history, sizeof(rec->history)));
	WEIR_JSON_LIT(w, "}}\n");
}

int weir_eve_flow(char *buf, size_t len, const struct weir_flow_record *rec)
{
	if (!buf || !rec)
		return -EINVAL;
	if (!len)
		return -ENOSPC;

	struct weir_json w;

	weir_json_init(&w, buf, len);
	out_header(&w, rec);
	out_flow(&w, rec);
	WEIR_JSON_LIT(&w, ",\"streams\":{\"toserver\":");
	out_stream(&w, &rec->side[0]);
	WEIR_JSON_LIT(&w, ",\"toclient\":");
	out_stream(&w, &rec->side[1]);
	WEIR_JSON_LIT(&w, "}");
	out_zeek(&w, rec);
	return weir_json_end(&w);
}
