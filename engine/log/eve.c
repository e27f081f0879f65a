/* eve.c — formats an ended flow as one EVE JSON "flow" line, with Zeek conn.log fields under "zeek". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "log/eve.h"
#include "log/names.h"
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
 * - an endpoint that sent nothing is INACTIVE, even when the peer's SYN+ACK or ACK moved weir's
 *   view of it (its zflags then hold ESTABLISHED): Zeek's endpoint states move on its own packets.
 * Approximation: zflags record what was sent, not in which order, so e.g. a responder's ACK is
 * judged against the originator's opening state, not its state at that moment. */
static int zeek_opening_state(const struct weir_flow_record *rec, int s)
{
	uint8_t zf = rec->zflags[s], peer = rec->zflags[!s];

	if (!rec->side[s].pkts)
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
 * count and retransmissions do not: what was delivered plus what was skipped. An endpoint that
 * sent no packet has no sequence numbers of its own: its size is 0, even when the peer's ACKs
 * made weir's stream skip bytes it never saw. */
static uint64_t zeek_size(const struct weir_side_counters *c)
{
	return c->pkts ? c->delivered + c->gap_bytes : 0;
}

/* Zeek's missed_bytes: content gaps are reported only while both endpoints are established or
 * closing cleanly (TCP_Reassembler::Gap, report_gaps_for_partial off): both sent packets and
 * completed the handshake. Judged from the end of the flow (a RST at the very end keeps the gaps
 * seen before it). weir's stream counters (gap_bytes) keep every skipped byte. */
static uint64_t zeek_missed(const struct weir_flow_record *rec)
{
	for (int i = 0; i < 2; i++)
		if (!rec->side[i].pkts || !(rec->zflags[i] & WEIR_ZF_ESTABLISHED))
			return 0;
	return rec->side[0].gap_bytes + rec->side[1].gap_bytes;
}

/* Zeek's conn_state names, the values of the decision tree below. */
enum zeek_conn_state {
	CS_REJ,
	CS_RSTRH,
	CS_RSTR,
	CS_RSTOS0,
	CS_OTH,
	CS_RSTO,
	CS_SF,
	CS_SH,
	CS_S2,
	CS_SHR,
	CS_S3,
	CS_S0,
	CS_S1,
	CS_COUNT
};

/* The decision tree of conn_state() in zeek/scripts/base/protocols/conn/main.zeek, branch by
 * branch, for TCP. */
static enum zeek_conn_state conn_state(const struct weir_flow_record *rec)
{
	int os = zeek_endpoint_state(rec, WEIR_SIDE_CLIENT);
	int rs = zeek_endpoint_state(rec, WEIR_SIDE_SERVER);
	bool o_inactive = os == ZEEK_INACTIVE || os == ZEEK_PARTIAL;
	bool r_inactive = rs == ZEEK_INACTIVE || rs == ZEEK_PARTIAL;

	if (rs == ZEEK_RESET) {
		if (os == ZEEK_SYN_SENT || os == ZEEK_SYN_ACK_SENT ||
		    (os == ZEEK_RESET && zeek_size(&rec->side[0]) == 0 && zeek_size(&rec->side[1]) == 0))
			return CS_REJ;
		return o_inactive ? CS_RSTRH : CS_RSTR;
	}
	if (os == ZEEK_RESET) {
		if (r_inactive)
			return hist_syn_then_rst(rec->history, sizeof(rec->history)) ? CS_RSTOS0
			                                                             : CS_OTH;
		return CS_RSTO;
	}
	if (rs == ZEEK_CLOSED && os == ZEEK_CLOSED)
		return CS_SF;
	if (os == ZEEK_CLOSED)
		return r_inactive ? CS_SH : CS_S2;
	if (rs == ZEEK_CLOSED)
		return o_inactive ? CS_SHR : CS_S3;
	if (os == ZEEK_SYN_SENT && rs == ZEEK_INACTIVE)
		return CS_S0;
	if (os == ZEEK_ESTABLISHED && rs == ZEEK_ESTABLISHED)
		return CS_S1;
	return CS_OTH;
}

static const struct weir_name *zeek_conn_state(const struct weir_flow_record *rec)
{
	static const struct weir_name names[] = {
	    WEIR_NAME("REJ"), WEIR_NAME("RSTRH"), WEIR_NAME("RSTR"), WEIR_NAME("RSTOS0"),
	    WEIR_NAME("OTH"), WEIR_NAME("RSTO"),  WEIR_NAME("SF"),   WEIR_NAME("SH"),
	    WEIR_NAME("S2"),  WEIR_NAME("SHR"),   WEIR_NAME("S3"),   WEIR_NAME("S0"),
	    WEIR_NAME("S1"),
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == CS_COUNT, "a name per conn_state");
	return &names[conn_state(rec)];
}

const char *weir_zeek_conn_state(const struct weir_flow_record *rec)
{
	return rec ? zeek_conn_state(rec)->s : "OTH";
}

/* ---- output ------------------------------------------------------------------------------
 * A flow record is written on the flood path, once per flow: its text up to the history has a
 * known most size (WEIR_EVE_FIXED_MAX, eve.h), so weir_eve_flow reserves that room once and writes
 * into it with the json writer's unchecked weir_json_put_* pieces, constant text as fixed-size
 * copies; only the history, which may hold any byte, goes through the checked escaper. */

_Static_assert(WEIR_EVE_FIXED_MAX +
                       WEIR_JSON_STR_MAX(sizeof(((struct weir_flow_record *)0)->history)) +
                       sizeof("}}\n") <
                   WEIR_EVE_LINE_MAX,
               "a record fits in WEIR_EVE_LINE_MAX");
/* A quoted EVE time: "YYYY-MM-DDTHH:MM:SS.uuuuuu+0000", 31 bytes (a uint64_t of ns ends in 2554).
 */
#define EVE_TIME_LEN 31
/* The most bytes of an address text, quotes included (IPv6 with an IPv4 tail). */
#define EVE_ADDR_MAX (INET6_ADDRSTRLEN + 1)

/* ns rounded to the nearest microsecond (500 ns and up round up). */
static uint64_t round_us(uint64_t ns)
{
	return ns / 1000 + (ns % 1000 >= 500);
}

/* sec's date and time of day (sod = sec % 86400) as YYYY-MM-DDTHH:MM:SS. The civil date comes
 * from days since the epoch by Howard Hinnant's days_from_civil inverse (proleptic Gregorian, eras
 * of 400 years), without gmtime/strftime: this runs per flow record. */
static char *put_date(char *p, uint64_t sec, uint64_t sod)
{
	const uint64_t z = sec / 86400 + 719468; /* days since 0000-03-01 */
	const uint64_t era = z / 146097, doe = z % 146097;
	const uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const uint64_t mp = (5 * doy + 2) / 153, day = doy - (153 * mp + 2) / 5 + 1;
	const uint64_t month = mp < 10 ? mp + 3 : mp - 9, year = era * 400 + yoe + (month <= 2);

	p = weir_json_put_fixed(p, year, 4);
	*p++ = '-';
	p = weir_json_put_fixed(p, month, 2);
	*p++ = '-';
	p = weir_json_put_fixed(p, day, 2);
	*p++ = 'T';
	p = weir_json_put_fixed(p, sod / 3600, 2);
	*p++ = ':';
	p = weir_json_put_fixed(p, sod / 60 % 60, 2);
	*p++ = ':';
	return weir_json_put_fixed(p, sod % 60, 2);
}

/* Writes the microseconds of a second (us below 1,000,000) as 6 digits: three digit pairs from
 * 32-bit divisions by constants, which the compiler turns into multiplications. */
static char *put_us(char *p, uint32_t us)
{
	memcpy(p, weir_json_digit_pairs + 2 * (us / 10000), 2);
	memcpy(p + 2, weir_json_digit_pairs + 2 * (us / 100 % 100), 2);
	memcpy(p + 4, weir_json_digit_pairs + 2 * (us % 100), 2);
	return p + 6;
}

/* Writes us (microseconds since the epoch) as "2026-11-28T01:45:05.123456+0000" (EVE_TIME_LEN
 * bytes). */
static char *put_time(char *p, uint64_t us)
{
	/* A record's two times, and the records of a busy second, mostly share their second: its
	 * "YYYY-MM-DDTHH:MM:SS." is kept per thread (workers share nothing) and only the
	 * microseconds are formatted again. */
	static __thread uint64_t cached_sec = UINT64_MAX;
	static __thread char cached[20];
	const uint64_t sec = us / 1000000;
	if (sec != cached_sec) {
		*put_date(cached, sec, sec % 86400) = '.';
		cached_sec = sec;
	}
	memcpy(p, cached, sizeof(cached));
	p = put_us(p + sizeof(cached), (uint32_t)(us % 1000000));
	return WEIR_JSON_PUT_LIT(p, "+0000");
}

void weir_eve_time(char *buf, size_t len, uint64_t ns)
{
	if (!buf || !len)
		return;
	char t[EVE_TIME_LEN];

	put_time(t, round_us(ns));
	/* a short buffer gets the truncated, terminated prefix */
	const size_t n = sizeof(t) < len - 1 ? sizeof(t) : len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
}

void weir_eve_json_time(struct weir_json *w, uint64_t ns)
{
	char t[EVE_TIME_LEN + 2];

	t[0] = '"';
	*put_time(t + 1, round_us(ns)) = '"';
	weir_json_raw(w, t, sizeof(t));
}

/* Suricata's flow "state": closed by FIN/RST; otherwise (timeout, eviction, shutdown) "established"
 * once the handshake completed, else "new". A flow picked up mid-stream starts established, as in
 * Suricata's midstream mode. */
static const struct weir_name *flow_state_name(const struct weir_flow_record *rec)
{
	static const struct weir_name names[] = {WEIR_NAME("bypassed"), WEIR_NAME("closed"),
	                                         WEIR_NAME("established"), WEIR_NAME("new")};
	if (rec->bypassed)
		return &names[0];
	if (rec->reason == WEIR_CLOSE_FIN || rec->reason == WEIR_CLOSE_RST)
		return &names[1];
	if (((rec->zflags[0] | rec->zflags[1]) & WEIR_ZF_ESTABLISHED) || rec->midstream)
		return &names[2];
	return &names[3];
}

/* ".0" to ".255": each byte of an IPv4 address with the dot before it, NUL-padded to 4 bytes (one
 * fixed-size copy), and that text's length; built by the compiler from the number n. OCT_D(n, i) is
 * n's digit i from the left, or NUL past its last. */
struct octet {
	char s[4];
	uint8_t n;
};
#define OCT_LEN(n) ((n) >= 100 ? 3 : (n) >= 10 ? 2 : 1)
#define OCT_POW(k) ((k) == 2 ? 100 : (k) == 1 ? 10 : 1)
#define OCT_D(n, i)                                                                                \
	((i) < OCT_LEN(n) ? (char)('0' + (n) / OCT_POW(OCT_LEN(n) - 1 - (i)) % 10) : '\0')
#define OCT(n)   {{'.', OCT_D(n, 0), OCT_D(n, 1), OCT_D(n, 2)}, 1 + OCT_LEN(n)},
#define OCT4(n)  OCT(n) OCT((n) + 1) OCT((n) + 2) OCT((n) + 3)
#define OCT16(n) OCT4(n) OCT4((n) + 4) OCT4((n) + 8) OCT4((n) + 12)
#define OCT64(n) OCT16(n) OCT16((n) + 16) OCT16((n) + 32) OCT16((n) + 48)
static const struct octet octets[256] = {OCT64(0) OCT64(64) OCT64(128) OCT64(192)};

/* The address ip as a quoted string (at most EVE_ADDR_MAX bytes): IPv4 in dotted decimal without
 * inet_ntop, which formats through sprintf (a third of a flow record's time); IPv6 through
 * inet_ntop for its zero compression rules. */
static char *put_addr(char *p, const uint8_t *ip, uint8_t ver)
{
	if (ver == 4) {
		char *q = p;
		for (int i = 0; i < 4; i++) {
			memcpy(p, octets[ip[i]].s, sizeof(octets[0].s));
			p += octets[ip[i]].n;
		}
		*q = '"'; /* over the first dot */
	} else {
		*p++ = '"';
		if (inet_ntop(AF_INET6, ip, p, INET6_ADDRSTRLEN))
			p += strlen(p);
	}
	*p++ = '"';
	return p;
}

void weir_eve_json_addr(struct weir_json *w, const uint8_t *ip, uint8_t ver)
{
	char s[EVE_ADDR_MAX];

	weir_json_raw(w, s, (size_t)(put_addr(s, ip, ver) - s));
}

/* One of weir's own names (states, reasons: plain ASCII letters, digits and '_' from the engine's
 * tables, never input), copied whole (WEIR_NAME_PAD bytes) without the escaper's checks. */
static char *put_name(char *p, const struct weir_name *n)
{
	memcpy(p, n->s, WEIR_NAME_PAD);
	return p + n->n;
}

static char *put_bool(char *p, bool v)
{
	return v ? WEIR_JSON_PUT_LIT(p, "true") : WEIR_JSON_PUT_LIT(p, "false");
}

/* A record's start and end to the nearest microsecond, computed once for its four uses, and where
 * its quoted timestamp was written (the flow's start is the same text). */
struct rec_times {
	uint64_t s_us, e_us;
	const char *ts;
};

/* The outer IP protocol as Suricata names a protocol ("GRE", "UDP"; the number otherwise). */
static char *put_outer_proto(char *p, uint8_t proto)
{
	switch (proto) {
	case 47:
		return WEIR_JSON_PUT_LIT(p, "\"GRE\"");
	case 17:
		return WEIR_JSON_PUT_LIT(p, "\"UDP\"");
	case 4:
		return WEIR_JSON_PUT_LIT(p, "\"IPIP\"");
	case 41:
		return WEIR_JSON_PUT_LIT(p, "\"IPv6\"");
	default:
		*p++ = '"';
		p = weir_json_put_u64(p, proto);
		*p++ = '"';
		return p;
	}
}

/* A tunneled flow's encapsulation, after Suricata's "tunnel" object (a packet's outer header and
 * depth): what the flow's first packet had around it. "id" is the VNI or GRE key that is part of
 * the flow's identity; the outer addresses are the outermost header's, turned to the client's
 * view (weir_tunnel_outer), absent when the memory cap refused to keep them. */
static char *put_tunnel(char *p, const struct weir_flow_record *rec)
{
	const struct weir_tuple *t = &rec->tuple;
	const struct weir_tunnel_outer *o = &rec->outer;
	p = WEIR_JSON_PUT_LIT(p, ",\"tunnel\":{\"type\":\"");
	p = put_name(p, weir_tunnel_name_n(t->tunnel));
	p = WEIR_JSON_PUT_LIT(p, "\",\"depth\":");
	p = weir_json_put_u64(p, t->tun_depth);
	if (t->tun_keyed) {
		p = WEIR_JSON_PUT_LIT(p, ",\"id\":");
		p = weir_json_put_u64(p, t->tun_id);
	}
	if (o->ip_ver) {
		p = WEIR_JSON_PUT_LIT(p, ",\"src_ip\":");
		p = put_addr(p, o->src_ip, o->ip_ver);
		p = WEIR_JSON_PUT_LIT(p, ",\"dest_ip\":");
		p = put_addr(p, o->dst_ip, o->ip_ver);
		if (o->src_port || o->dst_port) {
			p = WEIR_JSON_PUT_LIT(p, ",\"src_port\":");
			p = weir_json_put_u64(p, o->src_port);
			p = WEIR_JSON_PUT_LIT(p, ",\"dest_port\":");
			p = weir_json_put_u64(p, o->dst_port);
		}
		p = WEIR_JSON_PUT_LIT(p, ",\"proto\":");
		p = put_outer_proto(p, o->proto);
	}
	*p++ = '}';
	return p;
}

/* From "{" to the proto. */
static char *put_header(char *p, const struct weir_flow_record *rec, struct rec_times *tm)
{
	const struct weir_tuple *t = &rec->tuple;

	p = WEIR_JSON_PUT_LIT(p, "{\"timestamp\":\"");
	tm->ts = p - 1;
	p = put_time(p, tm->s_us);
	p = WEIR_JSON_PUT_LIT(p, "\",\"flow_id\":");
	p = weir_json_put_u64(p, rec->flow_id);
	p = WEIR_JSON_PUT_LIT(p, ",\"event_type\":\"flow\",\"src_ip\":");
	p = put_addr(p, t->client_ip, t->ip_ver);
	p = WEIR_JSON_PUT_LIT(p, ",\"src_port\":");
	p = weir_json_put_u64(p, t->client_port);
	p = WEIR_JSON_PUT_LIT(p, ",\"dest_ip\":");
	p = put_addr(p, t->server_ip, t->ip_ver);
	p = WEIR_JSON_PUT_LIT(p, ",\"dest_port\":");
	p = weir_json_put_u64(p, t->server_port);
	p = WEIR_JSON_PUT_LIT(p, ",\"proto\":\"TCP\"");
	/* 0 means "no tag" in the tuple (weir_pkt.vlan), so a second id implies the first was
	 * present */
	if (t->vlan[0] || t->vlan[1]) {
		p = WEIR_JSON_PUT_LIT(p, ",\"vlan\":[");
		p = weir_json_put_u64(p, t->vlan[0]);
		if (t->vlan[1]) {
			*p++ = ',';
			p = weir_json_put_u64(p, t->vlan[1]);
		}
		*p++ = ']';
	}
	if (t->tun_depth)
		p = put_tunnel(p, rec);
	return p;
}

static char *put_flow(char *p, const struct weir_flow_record *rec, const struct rec_times *tm)
{
	const uint64_t s_us = tm->s_us, e_us = tm->e_us;
	/* Suricata's age: the difference of the whole-second parts of end and start, so a 2 ms flow
	 * that crosses a second boundary has age 1 */
	uint64_t age = e_us > s_us ? e_us / 1000000 - s_us / 1000000 : 0;

	p = WEIR_JSON_PUT_LIT(p, ",\"flow\":{\"pkts_toserver\":");
	p = weir_json_put_u64(p, rec->side[0].pkts);
	p = WEIR_JSON_PUT_LIT(p, ",\"pkts_toclient\":");
	p = weir_json_put_u64(p, rec->side[1].pkts);
	p = WEIR_JSON_PUT_LIT(p, ",\"bytes_toserver\":");
	p = weir_json_put_u64(p, rec->side[0].bytes);
	p = WEIR_JSON_PUT_LIT(p, ",\"bytes_toclient\":");
	p = weir_json_put_u64(p, rec->side[1].bytes);
	p = WEIR_JSON_PUT_LIT(p, ",\"start\":");
	memcpy(p, tm->ts, EVE_TIME_LEN + 2); /* the timestamp, the same time */
	p = WEIR_JSON_PUT_LIT(p + EVE_TIME_LEN + 2, ",\"end\":\"");
	if (e_us == s_us) { /* a flow of one packet (a SYN flood's): the start's text again */
		memcpy(p, tm->ts + 1, EVE_TIME_LEN);
		p += EVE_TIME_LEN;
	} else {
		p = put_time(p, e_us);
	}
	p = WEIR_JSON_PUT_LIT(p, "\",\"age\":");
	p = weir_json_put_u64(p, age);
	p = WEIR_JSON_PUT_LIT(p, ",\"state\":\"");
	p = put_name(p, flow_state_name(rec));
	p = WEIR_JSON_PUT_LIT(p, "\",\"reason\":\"");
	p = put_name(p, weir_close_reason_name_n(rec->reason));
	p = WEIR_JSON_PUT_LIT(p, "\"},\"tcp\":{\"client_state\":\"");
	p = put_name(p, weir_tcp_state_name_n(rec->state[0]));
	p = WEIR_JSON_PUT_LIT(p, "\",\"server_state\":\"");
	p = put_name(p, weir_tcp_state_name_n(rec->state[1]));
	p = WEIR_JSON_PUT_LIT(p, "\",\"midstream\":");
	p = put_bool(p, rec->midstream);
	p = WEIR_JSON_PUT_LIT(p, ",\"bypassed\":");
	p = put_bool(p, rec->bypassed);
	*p++ = '}';
	return p;
}

/* A side's counters under "streams": key text and field, in order. */
#define STREAM_FIELDS(X)                                                                           \
	X("{\"payload\":", payload)                                                                \
	X(",\"delivered\":", delivered)                                                            \
	X(",\"gap_bytes\":", gap_bytes)                                                            \
	X(",\"rexmit_pkts\":", rexmit_pkts)                                                        \
	X(",\"rexmit_bytes\":", rexmit_bytes)                                                      \
	X(",\"resent_pkts\":", resent_pkts)                                                        \
	X(",\"ooo_pkts\":", ooo_pkts)                                                              \
	X(",\"overlaps\":", overlaps)                                                              \
	X(",\"overlap_diff\":", overlap_diff)                                                      \
	X(",\"outrun_bytes\":", outrun_bytes)
#define STREAM_ZERO_TEXT(key, field) key "0"
#define STREAM_OR(key, field)        | c->field
#define STREAM_PUT(key, field)                                                                     \
	p = WEIR_JSON_PUT_LIT(p, key);                                                             \
	p = weir_json_put_u64(p, c->field);

static char *put_stream(char *p, const struct weir_side_counters *c)
{
	/* Most sides of most flows (every side of a SYN flood) lost, resent and reordered nothing:
	 * when all ten counters are 0, their text is one constant. */
	if (!(0 STREAM_FIELDS(STREAM_OR)))
		return WEIR_JSON_PUT_LIT(p, STREAM_FIELDS(STREAM_ZERO_TEXT) "}");
	STREAM_FIELDS(STREAM_PUT)
	*p++ = '}';
	return p;
}

/* Zeek conn.log fields with Zeek's meaning (base/protocols/conn/main.zeek, Conn::Info):
 * duration = last - first packet time; orig_bytes/resp_bytes = payload bytes from sequence
 * numbers; missed_bytes = bytes in content gaps (both directions); *_pkts and *_ip_bytes = packets
 * and IP-level bytes (IP total length) per endpoint, as the conn-size analyzer counts them. Up to
 * the history's key. */
static char *put_zeek(char *p, const struct weir_flow_record *rec, const struct rec_times *tm)
{
	const struct weir_side_counters *c = &rec->side[0], *r = &rec->side[1];
	const uint64_t s_us = tm->s_us, e_us = tm->e_us;
	/* from the rounded times, so that duration always equals the printed end - start */
	uint64_t dur = e_us >= s_us ? e_us - s_us : 0;

	p = WEIR_JSON_PUT_LIT(p, ",\"zeek\":{\"duration\":");
	if (dur) {
		p = weir_json_put_u64(p, dur / 1000000);
		*p++ = '.';
		p = put_us(p, (uint32_t)(dur % 1000000));
	} else { /* a flow of one packet */
		p = WEIR_JSON_PUT_LIT(p, "0.000000");
	}
	p = WEIR_JSON_PUT_LIT(p, ",\"orig_bytes\":");
	p = weir_json_put_u64(p, zeek_size(c));
	p = WEIR_JSON_PUT_LIT(p, ",\"resp_bytes\":");
	p = weir_json_put_u64(p, zeek_size(r));
	p = WEIR_JSON_PUT_LIT(p, ",\"missed_bytes\":");
	p = weir_json_put_u64(p, zeek_missed(rec));
	p = WEIR_JSON_PUT_LIT(p, ",\"orig_pkts\":");
	p = weir_json_put_u64(p, c->pkts);
	p = WEIR_JSON_PUT_LIT(p, ",\"orig_ip_bytes\":");
	p = weir_json_put_u64(p, c->bytes);
	p = WEIR_JSON_PUT_LIT(p, ",\"resp_pkts\":");
	p = weir_json_put_u64(p, r->pkts);
	p = WEIR_JSON_PUT_LIT(p, ",\"resp_ip_bytes\":");
	p = weir_json_put_u64(p, r->bytes);
	p = WEIR_JSON_PUT_LIT(p, ",\"conn_state\":\"");
	p = put_name(p, zeek_conn_state(rec));
	return WEIR_JSON_PUT_LIT(p, "\",\"history\":");
}

/* Writes rec's line into w: in the room reserved for the record's most size; when the room is
 * not there, through a buffer that has it, copied in whole or not at all. */
static void out_flow_record(struct weir_json *w, const struct weir_flow_record *rec)
{
	char *p = weir_json_reserve(w, WEIR_EVE_FIXED_MAX);

	if (!p) {
		char line[WEIR_EVE_LINE_MAX];
		struct weir_json big;
		weir_json_init(&big, line, sizeof(line));
		out_flow_record(&big, rec);
		weir_json_raw(w, line, big.pos);
		return;
	}
	struct rec_times tm = {.s_us = round_us(rec->start_ns), .e_us = round_us(rec->end_ns)};
	p = put_header(p, rec, &tm);
	p = put_flow(p, rec, &tm);
	p = WEIR_JSON_PUT_LIT(p, ",\"streams\":{\"toserver\":");
	p = put_stream(p, &rec->side[0]);
	p = WEIR_JSON_PUT_LIT(p, ",\"toclient\":");
	p = put_stream(p, &rec->side[1]);
	*p++ = '}';
	p = put_zeek(p, rec, &tm);
	/* the history is engine letters; any other byte goes through the escaper */
	char *h = weir_json_put_plain(p, rec->history, sizeof(rec->history));
	if (h) {
		weir_json_commit(w, WEIR_JSON_PUT_LIT(h, "}}\n"));
		return;
	}
	weir_json_commit(w, p);
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
	out_flow_record(&w, rec);
	return weir_json_end(&w);
}
