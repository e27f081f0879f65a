/* test_eve.c — unit test of the EVE flow line: conn_state rows, exact line, JSON, bounds, times. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "log/eve.h"
#include "log/names.h"
#include "tcp/tcp.h"
#include "unit.h"

/* Every line produced is kept here and checked by a JSON parser at the end. */
#define MAX_LINES 64
struct lines {
	char text[MAX_LINES][WEIR_EVE_LINE_MAX];
	int n;
};

/* 2026-11-28T01:45:05 UTC, in seconds since the epoch (python3 calendar.timegm) */
#define T_2026 1795830305ull
#define NS 1000000000ull

static void set_v4(uint8_t *ip, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(ip, 0xee, 16); /* bytes past the first 4 must be ignored for IPv4 */
	ip[0] = a, ip[1] = b, ip[2] = c, ip[3] = d;
}

/* A flow record whose sides sent the packets their zflags say (1 packet per flag bit). */
static struct weir_flow_record mkrec(uint8_t zc, uint8_t zs, const char *hist, uint8_t reason)
{
	struct weir_flow_record r;

	memset(&r, 0, sizeof(r));
	r.flow_id = 1;
	r.tuple.ip_ver = 4;
	set_v4(r.tuple.client_ip, 192, 168, 1, 2);
	set_v4(r.tuple.server_ip, 192, 168, 1, 3);
	r.tuple.client_port = 50000;
	r.tuple.server_port = 443;
	r.start_ns = T_2026 * NS;
	r.end_ns = r.start_ns + NS / 2;
	r.zflags[0] = zc;
	r.zflags[1] = zs;
	r.side[0].pkts = (uint64_t)__builtin_popcount(zc);
	r.side[1].pkts = (uint64_t)__builtin_popcount(zs);
	r.reason = reason;
	snprintf(r.history, sizeof(r.history), "%s", hist);
	return r;
}

static int emit(struct lines *ls, const struct weir_flow_record *r)
{
	if (ls->n >= MAX_LINES)
		return -1;
	int n = weir_eve_flow(ls->text[ls->n], WEIR_EVE_LINE_MAX, r);
	CHECK(n > 0);
	if (n > 0)
		ls->n++;
	return n;
}

#define SYN WEIR_ZF_SYN
#define SA WEIR_ZF_SYNACK
#define FIN WEIR_ZF_FIN
#define RST WEIR_ZF_RST
#define DAT WEIR_ZF_DATA
#define ACK WEIR_ZF_ACK
#define EST WEIR_ZF_ESTABLISHED

/* Checks conn_state of one record and keeps its line for the JSON check. */
static void conn_case(struct lines *ls, uint8_t zc, uint8_t zs, const char *hist, const char *want)
{
	struct weir_flow_record r = mkrec(zc, zs, hist, WEIR_CLOSE_TIMEOUT);
	char key[64];

	CHECK_STR(weir_zeek_conn_state(&r), want);
	if (strcmp(weir_zeek_conn_state(&r), want))
		fprintf(stderr, "  (history \"%s\")\n", hist);
	if (emit(ls, &r) > 0) {
		snprintf(key, sizeof(key), "\"conn_state\":\"%s\"", want);
		CHECK(strstr(ls->text[ls->n - 1], key) != NULL);
	}
}

/* One record per row of Zeek's conn_state table (Conn::Info, base/protocols/conn/main.zeek). */
static void test_conn_states(struct lines *ls)
{
	/* S0 "Connection attempt seen, no reply": SYN (and its retransmissions), nothing back */
	conn_case(ls, SYN, 0, "S", "S0");
	/* still S0: a responder that ACKs the SYN without a SYN-ACK stays inactive in Zeek */
	conn_case(ls, SYN, ACK, "Sa", "S0");
	/* S1 "Connection established, not terminated" */
	conn_case(ls, SYN | ACK | DAT | EST, SA | DAT | ACK | EST, "ShADad", "S1");
	/* S1 too when the SYN was missed: the SYN-ACK establishes both ("we just missed that SYN") */
	conn_case(ls, ACK | DAT, SA | DAT, "hADd", "S1");
	/* SF "Normal establishment and termination" */
	conn_case(ls, SYN | ACK | DAT | FIN | EST, SA | ACK | DAT | FIN | EST, "ShADadFf", "SF");
	/* SF also mid-stream: both endpoints PARTIAL, then both CLOSED by their FINs */
	conn_case(ls, DAT | ACK | FIN, DAT | ACK | FIN, "DdAaFf", "SF");
	/* SF: a RST after the client's own FIN does not spoil a close the server completes */
	conn_case(ls, SYN | ACK | DAT | FIN | RST | EST, SA | ACK | DAT | FIN | EST, "ShADadFfR", "SF");
	/* SF: the same without a history to order FIN and RST: FIN first (the common case) is assumed */
	conn_case(ls, SYN | ACK | DAT | FIN | RST | EST, SA | ACK | DAT | FIN | EST, "", "SF");
	/* REJ "Connection attempt rejected": SYN answered by a RST */
	conn_case(ls, SYN, RST, "Sr", "REJ");
	/* REJ: both endpoints reset and no payload from either (the os == TCP_RESET sub-case) */
	conn_case(ls, SYN | RST, SA | RST, "ShRr", "REJ");
	/* S2 "established and close attempt by originator seen (but no reply from responder)" */
	conn_case(ls, SYN | ACK | DAT | FIN | EST, SA | ACK | DAT | EST, "ShADadF", "S2");
	/* S3 "established and close attempt by responder seen (but no reply from originator)" */
	conn_case(ls, SYN | ACK | DAT | EST, SA | ACK | DAT | FIN | EST, "ShADadf", "S3");
	/* RSTO "Connection established, originator aborted (sent a RST)" */
	conn_case(ls, SYN | ACK | DAT | RST | EST, SA | ACK | DAT | EST, "ShADadR", "RSTO");
	/* RSTO: the RST came before the client's FIN, so the FIN does not close it (UpdateResetState) */
	conn_case(ls, SYN | ACK | DAT | FIN | RST | EST, SA | ACK | DAT | FIN | EST, "ShADadRFf", "RSTO");
	/* RSTO: FIN then RST, but the server never closed, so the RST stands */
	conn_case(ls, SYN | ACK | DAT | FIN | RST | EST, SA | ACK | DAT | EST, "ShADadFR", "RSTO");
	/* RSTR "Responder sent a RST" (after an established connection) */
	conn_case(ls, SYN | ACK | DAT | EST, SA | ACK | DAT | RST | EST, "ShADadr", "RSTR");
	/* RSTOS0 "Originator sent a SYN followed by a RST, we never saw a SYN-ACK" */
	conn_case(ls, SYN | RST, 0, "SR", "RSTOS0");
	/* OTH: originator RST with an inactive responder but no leading SYN (regex fails) */
	conn_case(ls, DAT | RST, 0, "DR", "OTH");
	/* RSTRH "Responder sent a SYN ACK followed by a RST, we never saw a SYN" */
	conn_case(ls, 0, SA | RST, "hr", "RSTRH");
	/* SH "Originator sent a SYN followed by a FIN, we never saw a SYN ACK" */
	conn_case(ls, SYN | FIN, 0, "SF", "SH");
	/* SHR "Responder sent a SYN ACK followed by a FIN, we never saw a SYN" */
	conn_case(ls, 0, SA | FIN, "hf", "SHR");
	/* OTH "No SYN seen, just midstream traffic" */
	conn_case(ls, DAT | ACK, DAT | ACK, "DdAa", "OTH");
	/* OTH: nothing at all (an empty record must not crash either) */
	conn_case(ls, 0, 0, "", "OTH");
	CHECK_STR(weir_zeek_conn_state(NULL), "OTH");
}

/* REJ needs both sizes zero when both reset; with payload it is RSTR instead (Zeek's size test). */
static void test_rej_size(void)
{
	struct weir_flow_record r = mkrec(SYN | ACK | RST | EST, SA | RST | EST, "ShARr", WEIR_CLOSE_RST);

	CHECK_STR(weir_zeek_conn_state(&r), "REJ");
	r.side[1].delivered = 1;
	CHECK_STR(weir_zeek_conn_state(&r), "RSTR");
	r.side[1].delivered = 0;
	r.side[0].gap_bytes = 5; /* gaps count in Zeek's sequence-based size */
	CHECK_STR(weir_zeek_conn_state(&r), "RSTR");
}

/* An originator that sent nothing is INACTIVE in Zeek, whatever its peer's packets told weir
 * (a SYN+ACK or ACK may mark it established): ssh.server-side-half-duplex and a lone SYN+ACK. */
static void test_silent_originator(void)
{
	struct weir_flow_record r = mkrec(EST, SA | ACK | DAT | FIN | EST, "^hdaf", WEIR_CLOSE_TIMEOUT);

	r.side[0].pkts = 0;
	CHECK_STR(weir_zeek_conn_state(&r), "SHR");
	r = mkrec(EST, SA, "^h", WEIR_CLOSE_TIMEOUT);
	r.side[0].pkts = 0;
	CHECK_STR(weir_zeek_conn_state(&r), "OTH");
}

/* RSTOS0's regex: any upper-case H, A, F, G, I or Q between S and R makes it OTH. */
static void test_rstos0_regex(void)
{
	struct weir_flow_record r = mkrec(SYN | RST, 0, "SR", WEIR_CLOSE_RST);

	CHECK_STR(weir_zeek_conn_state(&r), "RSTOS0");
	snprintf(r.history, sizeof(r.history), "^SDR");
	CHECK_STR(weir_zeek_conn_state(&r), "RSTOS0");
	snprintf(r.history, sizeof(r.history), "SAR");
	CHECK_STR(weir_zeek_conn_state(&r), "OTH");
	snprintf(r.history, sizeof(r.history), "SQR");
	CHECK_STR(weir_zeek_conn_state(&r), "OTH");
	snprintf(r.history, sizeof(r.history), "S");
	CHECK_STR(weir_zeek_conn_state(&r), "OTH");
	/* a history without a NUL in its 32 bytes is read only within the array */
	memset(r.history, 'S', sizeof(r.history));
	CHECK_STR(weir_zeek_conn_state(&r), "OTH");
}

static const char golden[] =
	"{\"timestamp\":\"2026-11-28T01:45:05.999000+0000\",\"flow_id\":12,\"event_type\":\"flow\","
	"\"src_ip\":\"10.0.0.1\",\"src_port\":40000,\"dest_ip\":\"10.0.0.2\",\"dest_port\":80,"
	"\"proto\":\"TCP\",\"vlan\":[100],"
	"\"flow\":{\"pkts_toserver\":6,\"pkts_toclient\":4,\"bytes_toserver\":400,\"bytes_toclient\":1200,"
	"\"start\":\"2026-11-28T01:45:05.999000+0000\",\"end\":\"2026-11-28T01:45:06.001000+0000\","
	"\"age\":1,\"state\":\"closed\",\"reason\":\"fin\"},"
	"\"tcp\":{\"client_state\":\"time_wait\",\"server_state\":\"closed\",\"midstream\":false,\"bypassed\":false},"
	"\"streams\":{\"toserver\":{\"payload\":100,\"delivered\":80,\"gap_bytes\":0,\"rexmit_pkts\":1,"
	"\"rexmit_bytes\":20,\"resent_pkts\":2,\"ooo_pkts\":0,\"overlaps\":0,\"overlap_diff\":0,\"outrun_bytes\":0},"
	"\"toclient\":{\"payload\":1000,\"delivered\":990,\"gap_bytes\":10,\"rexmit_pkts\":0,"
	"\"rexmit_bytes\":0,\"resent_pkts\":0,\"ooo_pkts\":2,\"overlaps\":3,\"overlap_diff\":1,\"outrun_bytes\":5}},"
	"\"zeek\":{\"duration\":0.002000,\"orig_bytes\":80,\"resp_bytes\":1000,\"missed_bytes\":10,"
	"\"orig_pkts\":6,\"orig_ip_bytes\":400,\"resp_pkts\":4,\"resp_ip_bytes\":1200,"
	"\"conn_state\":\"SF\",\"history\":\"ShADadFf\"}}\n";

/* The contract's example flow, with distinct counters so that a swapped field shows. */
static struct weir_flow_record golden_rec(void)
{
	struct weir_flow_record r = mkrec(SYN | ACK | DAT | FIN | EST, SA | ACK | DAT | FIN | EST,
	                                  "ShADadFf", WEIR_CLOSE_FIN);

	r.flow_id = 12;
	set_v4(r.tuple.client_ip, 10, 0, 0, 1);
	set_v4(r.tuple.server_ip, 10, 0, 0, 2);
	r.tuple.client_port = 40000;
	r.tuple.server_port = 80;
	r.tuple.vlan[0] = 100;
	/* crosses a second boundary: 2 ms long, age 1 as Suricata computes it */
	r.start_ns = T_2026 * NS + 999000000ull;
	r.end_ns = (T_2026 + 1) * NS + 1000000ull;
	r.side[0] = (struct weir_side_counters){ .pkts = 6, .bytes = 400, .payload = 100,
	                                          .delivered = 80, .rexmit_pkts = 1, .rexmit_bytes = 20,
	                                          .resent_pkts = 2 };
	r.side[1] = (struct weir_side_counters){ .pkts = 4, .bytes = 1200, .payload = 1000,
	                                          .delivered = 990, .gap_bytes = 10, .ooo_pkts = 2,
	                                          .overlaps = 3, .overlap_diff = 1, .outrun_bytes = 5 };
	r.state[0] = WEIR_TCP_TIME_WAIT;
	r.state[1] = WEIR_TCP_CLOSED;
	return r;
}

static void test_golden(struct lines *ls)
{
	struct weir_flow_record r = golden_rec();
	int n = emit(ls, &r);

	CHECK_EQ(n, (int)strlen(golden));
	CHECK_STR(ls->text[ls->n - 1], golden);
}

/* Every buffer size up to the line's length + 1: -ENOSPC below, never a byte past len. */
static void test_small_buffers(void)
{
	struct weir_flow_record r = golden_rec();
	int full = (int)strlen(golden);
	char big[WEIR_EVE_LINE_MAX + 16];

	for (int len = 0; len <= full + 1; len++) {
		/* exact-size heap buffers let the sanitizer catch any overrun; the canary catches it without */
		char *b = malloc(len ? (size_t)len : 1);
		memset(big, 0x5a, sizeof(big));
		int n = weir_eve_flow(b, (size_t)len, &r);
		int m = weir_eve_flow(big, (size_t)len, &r);
		CHECK_EQ(n, len <= full ? -ENOSPC : full);
		CHECK_EQ(m, n);
		CHECK(big[len] == 0x5a);
		if (len > 0 && n < 0)
			CHECK_EQ(b[0], '\0');
		free(b);
	}
	CHECK_EQ(weir_eve_flow(NULL, 100, &r), -EINVAL);
	CHECK_EQ(weir_eve_flow(big, sizeof(big), NULL), -EINVAL);
}

static void test_addresses_vlans(struct lines *ls)
{
	struct weir_flow_record r = mkrec(SYN, 0, "S", WEIR_CLOSE_TIMEOUT);
	const char *l;

	CHECK(emit(ls, &r) > 0);
	l = ls->text[ls->n - 1];
	CHECK(strstr(l, "\"src_ip\":\"192.168.1.2\",\"src_port\":50000,") != NULL);
	CHECK(strstr(l, "\"dest_ip\":\"192.168.1.3\",\"dest_port\":443,") != NULL);
	CHECK(strstr(l, "\"proto\":\"TCP\",\"flow\":{") != NULL); /* untagged: no vlan key */
	CHECK(strstr(l, "vlan") == NULL);

	r.tuple.ip_ver = 6;
	CHECK_EQ(inet_pton(AF_INET6, "2001:db8::1", r.tuple.client_ip), 1);
	CHECK_EQ(inet_pton(AF_INET6, "fe80::aa:bbff:fecc:dd01", r.tuple.server_ip), 1);
	r.tuple.vlan[0] = 7;
	r.tuple.vlan[1] = 4094;
	CHECK(emit(ls, &r) > 0);
	l = ls->text[ls->n - 1];
	CHECK(strstr(l, "\"src_ip\":\"2001:db8::1\"") != NULL);
	CHECK(strstr(l, "\"dest_ip\":\"fe80::aa:bbff:fecc:dd01\"") != NULL);
	CHECK(strstr(l, "\"proto\":\"TCP\",\"vlan\":[7,4094],\"flow\":") != NULL);

	r.tuple.vlan[1] = 0;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"vlan\":[7],\"flow\":") != NULL);
}

/* The encapsulation of a tunneled flow follows the tuple; the id only when the tunnel keys flows. */
static void test_tunnel(struct lines *ls)
{
	struct weir_flow_record r = mkrec(SYN, 0, "S", WEIR_CLOSE_TIMEOUT);

	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "tunnel") == NULL);
	r.tuple.tunnel = WEIR_TUN_VXLAN;
	r.tuple.tun_depth = 1;
	r.tuple.tun_keyed = WEIR_TUN_VXLAN;
	r.tuple.tun_id = 16777215;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1],
	             "\"proto\":\"TCP\",\"tunnel\":{\"type\":\"vxlan\",\"depth\":1,\"id\":16777215},"
	             "\"flow\":") != NULL);
	/* the outermost header, when kept: IPv6 and UDP ports; another protocol by its number */
	r.outer.ip_ver = 6;
	r.outer.proto = 17;
	CHECK_EQ(inet_pton(AF_INET6, "2001:db8::a", r.outer.src_ip), 1);
	CHECK_EQ(inet_pton(AF_INET6, "2001:db8::b", r.outer.dst_ip), 1);
	r.outer.src_port = 49152;
	r.outer.dst_port = 4789;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"tunnel\":{\"type\":\"vxlan\",\"depth\":1,\"id\":"
	                                  "16777215,\"src_ip\":\"2001:db8::a\","
	                                  "\"dest_ip\":\"2001:db8::b\",\"src_port\":49152,\"dest_"
	                                  "port\":4789,\"proto\":\"UDP\"},") != NULL);
	r.outer.ip_ver = 4;
	r.outer.proto = 115; /* L2TPv3: no ports shown */
	r.outer.src_port = r.outer.dst_port = 0;
	memcpy(r.outer.src_ip, "\x0a\x00\x00\x01", 4);
	memcpy(r.outer.dst_ip, "\x0a\x00\x00\x02", 4);
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1],
	             "\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"10.0.0.2\",\"proto\":\"115\"},") !=
	      NULL);
	memset(&r.outer, 0, sizeof(r.outer));
	r.tuple.vlan[0] = 5;
	r.tuple.tunnel = WEIR_TUN_GTPU;
	r.tuple.tun_depth = 2;
	r.tuple.tun_keyed = 0;
	r.tuple.tun_id = 0;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1],
	             "\"vlan\":[5],\"tunnel\":{\"type\":\"gtpu\",\"depth\":2},\"flow\":") != NULL);
}

/* Suricata-style flow state and reason, tcp state names. */
static void test_states(struct lines *ls)
{
	struct weir_flow_record r = mkrec(SYN, 0, "S", WEIR_CLOSE_TIMEOUT);

	r.state[0] = WEIR_TCP_SYN_SENT;
	r.state[1] = 200; /* out of range: named, not indexed */
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"state\":\"new\",\"reason\":\"timeout\"}") != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"client_state\":\"syn_sent\",\"server_state\":\"unknown\"") != NULL);

	r = mkrec(SYN | ACK | EST, SA | EST, "ShA", WEIR_CLOSE_SHUTDOWN);
	r.state[0] = r.state[1] = WEIR_TCP_ESTABLISHED;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"state\":\"established\",\"reason\":\"shutdown\"}") != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"client_state\":\"established\"") != NULL);

	r = mkrec(DAT, DAT, "Dd", WEIR_CLOSE_EVICTED);
	r.midstream = 1;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"state\":\"established\",\"reason\":\"evicted\"}") != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"midstream\":true,\"bypassed\":false") != NULL);

	r.bypassed = 1;
	r.reason = WEIR_CLOSE_RST;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"state\":\"bypassed\",\"reason\":\"rst\"}") != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"midstream\":true,\"bypassed\":true") != NULL);

	r.bypassed = 0;
	r.reason = 99;
	r.state[0] = WEIR_TCP_FIN_WAIT_2;
	r.state[1] = WEIR_TCP_LAST_ACK;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"reason\":\"unknown\"}") != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"client_state\":\"fin_wait_2\",\"server_state\":\"last_ack\"") != NULL);
}

/* Zeek byte fields: sequence-space sizes, gaps both ways; end before start never goes negative. */
static void test_zeek_fields(struct lines *ls)
{
	struct weir_flow_record r = mkrec(SYN | DAT | EST, SA | DAT | EST, "ShDd", WEIR_CLOSE_TIMEOUT);

	r.side[0] = (struct weir_side_counters){ .pkts = 3, .bytes = 300, .payload = 250,
	                                          .delivered = 100, .gap_bytes = 50 };
	r.side[1] = (struct weir_side_counters){ .pkts = 2, .bytes = 200, .delivered = 7, .gap_bytes = 3 };
	r.end_ns = r.start_ns - 1;
	CHECK(emit(ls, &r) > 0);
	const char *l = ls->text[ls->n - 1];
	CHECK(strstr(l, "\"duration\":0.000000,\"orig_bytes\":150,\"resp_bytes\":10,\"missed_bytes\":53,"
	                "\"orig_pkts\":3,\"orig_ip_bytes\":300,\"resp_pkts\":2,\"resp_ip_bytes\":200,") != NULL);

	/* Zeek reports gaps only between two established endpoints: none mid-stream. */
	r.zflags[0] = r.zflags[1] = DAT;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"orig_bytes\":150,\"resp_bytes\":10,\"missed_bytes\":0,") != NULL);

	/* An originator that sent nothing: the responder's ACKs made weir skip bytes of its stream,
	 * but in Zeek it has no size and no gap (ssh.server-side-half-duplex). */
	r.zflags[0] = EST;
	r.zflags[1] = SA | DAT | EST;
	r.side[0] = (struct weir_side_counters){ .gap_bytes = 2670 };
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"orig_bytes\":0,\"resp_bytes\":10,\"missed_bytes\":0,\"orig_pkts\":0,") != NULL);
	r = mkrec(SYN | DAT | EST, SA | DAT | EST, "ShDd", WEIR_CLOSE_TIMEOUT);
	CHECK(strstr(l, "\"age\":0,") != NULL);

	/* a long flow: 1 day, 1.5 s rounded from ns */
	r.end_ns = r.start_ns + 86401ull * NS + 499999999ull;
	CHECK(emit(ls, &r) > 0);
	CHECK(strstr(ls->text[ls->n - 1], "\"duration\":86401.500000,") != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"age\":86401,") != NULL);
}

/* Hostile history bytes and every field at its maximum: escaped, and within WEIR_EVE_LINE_MAX. */
static void test_worst_case(struct lines *ls)
{
	struct weir_flow_record r;

	memset(&r, 0xff, sizeof(r));
	r.tuple.ip_ver = 6;
	r.history[0] = '"';
	r.history[1] = '\\';
	r.history[2] = 0x01;
	r.history[3] = 'S';
	int n = emit(ls, &r);
	CHECK(n > 0 && n < WEIR_EVE_LINE_MAX);
	/* the 0xff bytes are ill-formed UTF-8: one U+FFFD each (engine/json/json.h) */
	CHECK(strstr(ls->text[ls->n - 1], "\"history\":\"\\\"\\\\\\u0001S\xef\xbf\xbd\xef\xbf\xbd") != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"src_ip\":\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\"") != NULL);

	/* the room reserved before the history holds the worst case: these four 39-byte addresses
	 * (two of the tunnel's) may be 45 (an IPv4 tail), and a name copy writes WEIR_NAME_PAD
	 * bytes */
	const char *h = strstr(ls->text[ls->n - 1], "\"history\":");
	CHECK(h != NULL);
	CHECK(strstr(ls->text[ls->n - 1], "\"tunnel\":{\"type\":\"unknown\"") != NULL);
	if (h)
		CHECK(h - ls->text[ls->n - 1] + 4 * (45 - 39) + WEIR_NAME_PAD < WEIR_EVE_FIXED_MAX);
}

/* A side whose ten counters are all 0 is written as one constant: the same text as the fields
 * one by one, and a single non-zero counter (the last) still goes field by field. */
static void test_zero_streams(struct lines *ls)
{
	struct weir_flow_record r = mkrec(SYN, 0, "S", WEIR_CLOSE_TIMEOUT);

	r.side[1].outrun_bytes = 7;
	CHECK(emit(ls, &r) > 0);
	static const char want[] =
		"\"streams\":{\"toserver\":{\"payload\":0,\"delivered\":0,\"gap_bytes\":0,"
		"\"rexmit_pkts\":0,\"rexmit_bytes\":0,\"resent_pkts\":0,\"ooo_pkts\":0,\"overlaps\":0,"
		"\"overlap_diff\":0,\"outrun_bytes\":0},\"toclient\":{\"payload\":0,\"delivered\":0,"
		"\"gap_bytes\":0,\"rexmit_pkts\":0,\"rexmit_bytes\":0,\"resent_pkts\":0,\"ooo_pkts\":0,"
		"\"overlaps\":0,\"overlap_diff\":0,\"outrun_bytes\":7}},";
	CHECK(strstr(ls->text[ls->n - 1], want) != NULL);
}

/* Every byte value of an IPv4 address (the octet table) against snprintf. */
static void test_octets(void)
{
	struct weir_flow_record r = mkrec(SYN, 0, "S", WEIR_CLOSE_TIMEOUT);
	char line[WEIR_EVE_LINE_MAX], want[64];
	unsigned bad = 0;

	for (unsigned b = 0; b < 256; b++) {
		const uint8_t o[4] = { (uint8_t)b, (uint8_t)~b, (uint8_t)(b / 2), (uint8_t)(b * 7) };
		memcpy(r.tuple.client_ip, o, 4);
		snprintf(want, sizeof(want), "\"src_ip\":\"%u.%u.%u.%u\",", o[0], o[1], o[2], o[3]);
		if (weir_eve_flow(line, sizeof(line), &r) <= 0 || !strstr(line, want)) {
			if (bad++ < 5)
				fprintf(stderr, "octets: want %s in %s\n", want, line);
		}
	}
	CHECK_EQ(bad, 0);
}

/* A flow's end in the same microsecond as its start is written as the start's text; one rounding
 * step later, or later in the same second, it is formatted. */
static void test_end_time(void)
{
	struct weir_flow_record r = mkrec(SYN, 0, "S", WEIR_CLOSE_TIMEOUT);
	char line[WEIR_EVE_LINE_MAX];

	r.start_ns = T_2026 * NS + 999999100ull;
	r.end_ns = T_2026 * NS + 999999499ull;
	CHECK(weir_eve_flow(line, sizeof(line), &r) > 0);
	CHECK(strstr(line, "\"start\":\"2026-11-28T01:45:05.999999+0000\","
	                   "\"end\":\"2026-11-28T01:45:05.999999+0000\",\"age\":0,") != NULL);
	CHECK(strstr(line, "\"duration\":0.000000,") != NULL);
	r.end_ns = T_2026 * NS + 999999500ull;
	CHECK(weir_eve_flow(line, sizeof(line), &r) > 0);
	CHECK(strstr(line, "\"start\":\"2026-11-28T01:45:05.999999+0000\","
	                   "\"end\":\"2026-11-28T01:45:06.000000+0000\",\"age\":1,") != NULL);
	CHECK(strstr(line, "\"duration\":0.000001,") != NULL);
	r.start_ns = T_2026 * NS + 1000ull; /* the same second, 4 us apart */
	r.end_ns = T_2026 * NS + 5000ull;
	CHECK(weir_eve_flow(line, sizeof(line), &r) > 0);
	CHECK(strstr(line, "\"start\":\"2026-11-28T01:45:05.000001+0000\","
	                   "\"end\":\"2026-11-28T01:45:05.000005+0000\",\"age\":0,") != NULL);
}

/* Around the room reserve's boundary: a buffer with room for the line but not for
 * WEIR_EVE_FIXED_MAX (served through a full-size one), exactly WEIR_EVE_FIXED_MAX (the NUL's byte
 * is kept apart, so still not), and one byte more (written in place): the same line each time,
 * never a byte past the buffer. */
static void test_reserve_boundary(void)
{
	struct weir_flow_record r = golden_rec();
	const int full = (int)strlen(golden);
	const size_t caps[] = {(size_t)full + 1, WEIR_EVE_FIXED_MAX, WEIR_EVE_FIXED_MAX + 1};
	char buf[WEIR_EVE_LINE_MAX];

	CHECK(full + 1 < WEIR_EVE_FIXED_MAX);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		memset(buf, 0x5a, sizeof(buf));
		CHECK_EQ(weir_eve_flow(buf, caps[i], &r), full);
		CHECK_STR(buf, golden);
		CHECK(buf[caps[i]] == 0x5a);
	}
}

static void test_time(void)
{
	char b[64];

	weir_eve_time(b, sizeof(b), 0);
	CHECK_STR(b, "1970-01-01T00:00:00.000000+0000");
	weir_eve_time(b, sizeof(b), T_2026 * NS + 123456000ull);
	CHECK_STR(b, "2026-11-28T01:45:05.123456+0000");
	/* a leap day, one microsecond before midnight: 951868799 = 2000-02-29T23:59:59 */
	weir_eve_time(b, sizeof(b), 951868799ull * NS + 999999000ull);
	CHECK_STR(b, "2000-02-29T23:59:59.999999+0000");
	/* to the nearest microsecond: below 500 ns down, from 500 ns up, carrying into the date */
	weir_eve_time(b, sizeof(b), T_2026 * NS + 123456499ull);
	CHECK_STR(b, "2026-11-28T01:45:05.123456+0000");
	weir_eve_time(b, sizeof(b), T_2026 * NS + 123456500ull);
	CHECK_STR(b, "2026-11-28T01:45:05.123457+0000");
	weir_eve_time(b, sizeof(b), 951868799ull * NS + 999999500ull);
	CHECK_STR(b, "2000-03-01T00:00:00.000000+0000");
	/* the largest time the API can carry (year 2554) still formats */
	weir_eve_time(b, sizeof(b), UINT64_MAX);
	CHECK_STR(b, "2554-07-21T23:34:33.709552+0000");
	/* short buffers are truncated and terminated, never overrun */
	memset(b, 'x', sizeof(b));
	weir_eve_time(b, 5, 0);
	CHECK_STR(b, "1970");
	CHECK_EQ(b[5], 'x');
	weir_eve_time(b, 0, 0);
	CHECK_EQ(b[0], '1');
	weir_eve_time(NULL, 10, 0);
}

/* The formatted second is cached per thread: against gmtime_r and strftime, the oracle, over
 * 200,000 times that walk through seconds, days, months and years in steps of every size, each
 * formatted twice in a row, and back in time as often as forward. */
static void test_time_oracle(void)
{
	uint64_t x = 88172645463325252ull; /* xorshift64 */
	unsigned bad = 0;
	uint64_t ns = 0;
	for (unsigned i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i % 4 == 0)
			ns = x % (4102444800ull * NS); /* anywhere before 2100 */
		else
			ns += (x % 3 == 0 ? x % (2 * NS) : x % 1000000000000ull) - (x % 5 == 0 ? ns / 2 : 0);
		for (int twice = 0; twice < 2; twice++) {
			char got[64], want[64];
			weir_eve_time(got, sizeof(got), ns);
			const uint64_t us = ns / 1000 + (ns % 1000 >= 500);
			const time_t t = (time_t)(us / 1000000);
			struct tm tm;
			gmtime_r(&t, &tm);
			const size_t n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
			snprintf(want + n, sizeof(want) - n, ".%06u+0000", (unsigned)(us % 1000000));
			if (strcmp(got, want) != 0 && bad++ < 5)
				fprintf(stderr, "time %llu: got %s, want %s\n", (unsigned long long)ns, got, want);
		}
	}
	CHECK_EQ(bad, 0);
}

/* Feeds every line to Python's json module; also checks the top-level key order of the contract. */
static void check_json(const struct lines *ls)
{
	static const char script[] =
		"python3 -c '\n"
		"import json, sys\n"
		"top = [\"timestamp\", \"flow_id\", \"event_type\", \"src_ip\", \"src_port\", \"dest_ip\",\n"
		"       \"dest_port\", \"proto\", \"vlan\", \"tunnel\", \"flow\", \"tcp\", \"streams\", \"zeek\"]\n"
		"bad = 0\n"
		"for n, line in enumerate(sys.stdin):\n"
		"    try:\n"
		"        d = json.loads(line)\n"
		"        want = [k for k in top if k not in (\"vlan\", \"tunnel\") or k in d]\n"
		"        assert list(d) == want, list(d)\n"
		"        assert line.endswith(\"}\\n\") and line.count(\"\\n\") == 1\n"
		"    except Exception as e:\n"
		"        bad += 1\n"
		"        print(\"line\", n, \"invalid:\", e, file=sys.stderr)\n"
		"sys.exit(1 if bad or n + 1 != int(sys.argv[1]) else 0)\n"
		"' %d";
	char cmd[sizeof(script) + 16];

	snprintf(cmd, sizeof(cmd), script, ls->n);
	FILE *p = popen(cmd, "w");
	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < ls->n; i++)
		fputs(ls->text[i], p);
	int st = pclose(p);
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	static struct lines ls;

	test_conn_states(&ls);
	test_rej_size();
	test_silent_originator();
	test_rstos0_regex();
	test_golden(&ls);
	test_small_buffers();
	test_addresses_vlans(&ls);
	test_tunnel(&ls);
	test_states(&ls);
	test_zeek_fields(&ls);
	test_worst_case(&ls);
	test_zero_streams(&ls);
	test_reserve_boundary();
	test_octets();
	test_end_time();
	test_time();
	test_time_oracle();
	CHECK(ls.n > 30);
	check_json(&ls);
	return UNIT_DONE();
}
