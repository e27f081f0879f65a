/* test_parse.c — packet parsing: IPv4/IPv6/TCP fields and options, Ethernet, SLL, loopback and raw
 * IP, every truncation, fuzzed prefixes and mutations over every link layer (test_link.c: each
 * link-layer decoder). */
#include "parse/test_frames.h"

/* ---- Ethernet, VLAN, IPv4 ----------------------------------------------------------------- */

static void test_eth_ipv4_basic(void)
{
	uint8_t l2[64], b[FRAME_MAX];
	unsigned l2len = eth_plain(l2, 0x0800);
	unsigned n = frame_v4(b, l2, l2len, 0, 0x4000 /* DF: not a fragment */, &PLAIN);
	struct weir_pkt p;
	unsigned reason = 77;
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	check_seg(&p, &PLAIN);
	check_addr4(&p);
	CHECK_EQ(p.caplen, n);
	CHECK_EQ(p.wirelen, n);
	CHECK_EQ(p.l3_off, 14);
	CHECK_EQ(p.l4_off, 34);
	CHECK_EQ(p.ip_len, 20 + 20 + 5);
	CHECK_EQ(p.nvlan, 0);
	CHECK_EQ(p.vlan[0], 0);
	CHECK_EQ(p.ip_frag, 0);
	CHECK_EQ(p.wscale, 0xff);
	CHECK_EQ(p.mss, 0);
	CHECK_EQ(p.sack_perm, 0);
	CHECK_EQ(p.has_ts, 0);
	CHECK_EQ(p.nsack, 0);
	CHECK(p.payload == b + 54);

	/* reason may be NULL */
	CHECK_EQ(weir_parse(&p, b, n, n, WEIR_DLT_EN10MB, NULL), WEIR_PARSE_TCP);
	CHECK_EQ(p.seq, PLAIN.seq);
}

static void test_vlan(void)
{
	uint8_t l2[FRAME_MAX], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	static const uint16_t tp1[1] = {0x8100}, tc1[1] = {0x2064}; /* prio 1, vid 100 */
	unsigned l2len = put_eth(l2, tp1, tc1, 1, 0x0800);
	unsigned n = frame_v4(b, l2, l2len, 0, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, 1);
	CHECK_EQ(p.vlan[0], 100);
	CHECK_EQ(p.vlan[1], 0);
	CHECK_EQ(p.l3_off, 18);
	check_seg(&p, &PLAIN);

	static const uint16_t tp2[2] = {0x88a8, 0x8100}, tc2[2] = {0xf00a, 0x0fff};
	l2len = put_eth(l2, tp2, tc2, 2, 0x86dd);
	n = frame_v6(b, l2, l2len, 6, NULL, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, 2);
	CHECK_EQ(p.vlan[0], 10);   /* priority bits masked off */
	CHECK_EQ(p.vlan[1], 4095);
	CHECK_EQ(p.l3_off, 22);
	CHECK_EQ(p.l4_off, 62);
	check_addr6(&p);
	check_seg(&p, &PLAIN);

	static const uint16_t tp3[3] = {0x9100, 0x88a8, 0x8100}, tc3[3] = {1, 2, 3};
	l2len = put_eth(l2, tp3, tc3, 3, 0x0800);
	n = frame_v4(b, l2, l2len, 0, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, 3);
	CHECK_EQ(p.vlan[0], 1);
	CHECK_EQ(p.vlan[1], 2);
	CHECK_EQ(p.l3_off, 26);

	/* WEIR_L2_MAX_HEADERS tags below the Ethernet header are all walked; one more is too many */
	uint16_t tps[WEIR_L2_MAX_HEADERS + 1], tcs[WEIR_L2_MAX_HEADERS + 1];
	for (unsigned i = 0; i < WEIR_L2_MAX_HEADERS + 1; i++) {
		tps[i] = 0x8100;
		tcs[i] = (uint16_t)(i + 7);
	}
	l2len = put_eth(l2, tps, tcs, WEIR_L2_MAX_HEADERS, 0x0800);
	n = frame_v4(b, l2, l2len, 0, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, WEIR_L2_MAX_HEADERS);
	CHECK_EQ(p.vlan[0], 7);
	CHECK_EQ(p.vlan[1], 8);
	CHECK_EQ(p.l3_off, 14 + 4 * WEIR_L2_MAX_HEADERS);
	check_seg(&p, &PLAIN);
	l2len = put_eth(l2, tps, tcs, WEIR_L2_MAX_HEADERS + 1, 0x0800);
	n = frame_v4(b, l2, l2len, 0, 0, &PLAIN);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_L2_DEPTH);

	/* a tag cut short, and a tag whose inner type is missing */
	l2len = put_eth(l2, tp2, tc2, 2, 0x0800);
	EXPECT_MAL(l2, 14 + 2, 14 + 2, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_L2);
	EXPECT_MAL(l2, 14 + 4 + 3, 14 + 4 + 3, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_L2);
	/* tag present, IP missing */
	EXPECT_MAL(l2, l2len, l2len, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IP);
}

static void test_eth_other(void)
{
	uint8_t b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	/* ARP, PPPoE discovery, LLDP; an 802.3 length whose LLC header is not SNAP */
	static const uint16_t types[] = {0x0806, 0x8863, 0x88cc, 0x0000};
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(b, 0x45, sizeof(b));
		eth_plain(b, types[i]);
		reason = 77;
		CHECK_EQ(parse(&p, b, 60, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
		CHECK_EQ(reason, NO_REASON);
		CHECK_EQ(p.ip_ver, 0);
		CHECK_EQ(p.payload_len, 0);
		CHECK(p.payload == NULL);
	}
	static const uint16_t tp[1] = {0x8100}, tc[1] = {5};
	unsigned n = put_eth(b, tp, tc, 1, 0x0806);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
	CHECK_EQ(p.nvlan, 1);
	CHECK_EQ(p.vlan[0], 5);
	/* a bare Ethernet header of another type is complete */
	eth_plain(b, 0x0806);
	CHECK_EQ(parse(&p, b, 14, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
	for (unsigned len = 0; len < 14; len++)
		EXPECT_MAL(b, len, len, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_L2);
}

static void test_ipv4_options_and_padding(void)
{
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	unsigned l2len = eth_plain(l2, 0x0800);
	unsigned n = frame_v4(b, l2, l2len, 12, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.l3_off, 14);
	CHECK_EQ(p.l4_off, 14 + 32);
	CHECK_EQ(p.ip_len, 32 + 20 + 5);
	check_seg(&p, &PLAIN);
	/* maximum IHL: 40 option bytes */
	n = frame_v4(b, l2, l2len, 40, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.l4_off, 14 + 60);
	check_seg(&p, &PLAIN);

	/* A 54-byte SYN padded to the 60-byte Ethernet minimum: the padding is not payload. */
	struct seg syn = PLAIN;
	syn.flags = 0x02;
	syn.datalen = 0;
	n = frame_v4(b, l2, l2len, 0, 0, &syn);
	CHECK_EQ(n, 54);
	memset(b + n, 0xee, 6);
	CHECK_EQ(parse(&p, b, 60, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 0);
	CHECK(p.payload == NULL);
	CHECK_EQ(p.ip_len, 40);
	/* 2 bytes of data, 4 of padding */
	struct seg two = PLAIN;
	two.datalen = 2;
	n = frame_v4(b, l2, l2len, 0, 0, &two);
	memset(b + n, 0xee, 60 - n);
	CHECK_EQ(parse(&p, b, 60, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 2);
	CHECK_MEM(p.payload, "ab", 2);
}

static void test_ipv4_fragments(void)
{
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	unsigned l2len = eth_plain(l2, 0x0800);
	static const unsigned frags[] = {0x2000 /* MF, offset 0 */, 0x00b9 /* last, offset 185 */, 0x6001 /* DF|MF */};
	for (unsigned i = 0; i < 3; i++) {
		unsigned n = frame_v4(b, l2, l2len, 4, frags[i], &PLAIN);
		reason = 77;
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_FRAGMENT);
		CHECK_EQ(reason, NO_REASON);
		CHECK_EQ(p.ip_frag, 1);
		check_addr4(&p);
		CHECK_EQ(p.l4proto, 6);
		CHECK_EQ(p.l3_off, 14);
		CHECK_EQ(p.l4_off, 14 + 24);
		CHECK_EQ(p.ip_len, n - 14);
		CHECK_EQ(p.payload_len, n - 14 - 24);
		CHECK(p.payload == b + 38);
		CHECK_EQ(p.sport, 0); /* the TCP header is not read from a fragment */
		CHECK_EQ(p.seq, 0);
	}
	/* a fragment must still be length-consistent */
	unsigned n = frame_v4(b, l2, l2len, 0, 0x2000, &PLAIN);
	EXPECT_MAL(b, n - 1, n - 1, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_LEN);
}

static void test_ipv4_malformed(void)
{
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	unsigned l2len = eth_plain(l2, 0x0800);
	memset(b, 0xee, sizeof(b));
	unsigned n = frame_v4(b, l2, l2len, 8, 0, &PLAIN);
	uint8_t *ip = b + 14;

	for (unsigned len = 14; len < 14 + 20; len++)
		EXPECT_MAL(b, len, len, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IP);
	/* options cut by the capture */
	EXPECT_MAL(b, 14 + 24, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IP);
	ip[0] = 0x55;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_VERSION);
	ip[0] = 0x67; /* an IPv6 nibble behind the IPv4 EtherType */
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_VERSION);
	ip[0] = 0x44;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_HLEN);
	ip[0] = 0x40;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_HLEN);
	ip[0] = 0x47;
	put16(ip + 2, 27); /* total length < header length */
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_LEN);
	/* total length 0 (TCP segmentation offload): the frame is the packet */
	put16(ip + 2, 0);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.ip_len, n - 14);
	CHECK_EQ(p.payload_len, 5);
	CHECK_EQ(parse_exact(&p, b, n, 70000, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.ip_len, 65535); /* the wire length says more than 16 bits hold */
	CHECK_EQ(p.payload_len, 5);
	CHECK_EQ(parse_exact(&p, b, n, n + 9, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.ip_len, n - 14 + 9);
	EXPECT_MAL(b, 14 + 27, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IP);
	EXPECT_MAL(b, 14 + 30, 14 + 30, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_TCP);
	/* total length exceeds the frame: a lie when the frame is whole... */
	put16(ip + 2, (unsigned)(n - 14 + 100));
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_LEN);
	/* ...fine when a snap length cut it: payload_len is what is present */
	CHECK_EQ(parse_exact(&p, b, n, n + 100, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.payload_len, 5);
	CHECK_EQ(p.ip_len, n - 14 + 100);
	CHECK_EQ(p.wirelen, n + 100);
	put16(ip + 2, n - 14);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);

	/* not TCP: OTHER, with the L4 bytes described */
	ip[9] = 17;
	CHECK_EQ(parse(&p, b, n + 6, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.l4proto, 17);
	CHECK_EQ(p.ip_ver, 4);
	CHECK_EQ(p.l4_off, 14 + 28);
	CHECK_EQ(p.payload_len, n - 14 - 28); /* trailing 6 bytes are padding */
	CHECK(p.payload == b + 42);
	/* IP header only, no L4 bytes */
	put16(ip + 2, 28);
	CHECK_EQ(parse(&p, b, 14 + 28, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
	CHECK_EQ(p.payload_len, 0);
	CHECK(p.payload == NULL);
}

/* ---- TCP header and options --------------------------------------------------------------- */

static void test_tcp_syn_options(void)
{
	/* MSS 1460, SACK-permitted, timestamps, NOP, window scale 7: a Linux SYN */
	static const uint8_t opt[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7};
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason = 77;
	struct seg s = PLAIN;
	s.flags = 0x02;
	s.opt = opt;
	s.optlen = sizeof(opt);
	s.datalen = 0;
	unsigned l2len = eth_plain(l2, 0x0800);
	unsigned n = frame_v4(b, l2, l2len, 0, 0, &s);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	check_seg(&p, &s);
	CHECK_EQ(p.mss, 1460);
	CHECK_EQ(p.sack_perm, 1);
	CHECK_EQ(p.has_ts, 1);
	CHECK_EQ(p.ts_val, 0x1234);
	CHECK_EQ(p.ts_ecr, 0);
	CHECK_EQ(p.wscale, 7);
	CHECK_EQ(p.nsack, 0);

	/* a shift above the RFC 7323 cap of 14 is stored as sent; unknown kinds are skipped by length */
	static const uint8_t opt2[20] = {30, 6, 1, 2, 3, 4, 3, 3, 15, 254, 4, 0xaa, 0xbb, 2, 4, 0x23, 0x28, 0, 0, 0};
	s.opt = opt2;
	s.optlen = sizeof(opt2);
	n = frame_v4(b, l2, l2len, 0, 0, &s);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.wscale, 15);
	CHECK_EQ(p.mss, 9000);
	CHECK_EQ(p.has_ts, 0);
	CHECK_EQ(p.sack_perm, 0);

	/* known kinds with a wrong length are skipped, not taken */
	static const uint8_t opt3[16] = {2, 3, 9, 3, 4, 1, 1, 4, 3, 8, 8, 6, 1, 2, 3, 4};
	s.opt = opt3;
	s.optlen = sizeof(opt3);
	n = frame_v4(b, l2, l2len, 0, 0, &s);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.mss, 0);
	CHECK_EQ(p.wscale, 0xff);
	CHECK_EQ(p.sack_perm, 0);
	CHECK_EQ(p.has_ts, 0);

	/* the usual NOP, NOP, timestamps of an established flow (and the same in another order) */
	static const uint8_t ts_only[12] = {1, 1, 8, 10, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe};
	static const uint8_t ts_late[12] = {8, 10, 0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 1, 0};
	for (unsigned i = 0; i < 2; i++) {
		s.opt = i ? ts_late : ts_only;
		s.optlen = 12;
		s.datalen = 3;
		n = frame_v4(b, l2, l2len, 0, 0, &s);
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
		CHECK_EQ(reason, NO_REASON);
		CHECK_EQ(p.has_ts, 1);
		CHECK_EQ(p.ts_val, 0x80000001u);
		CHECK_EQ(p.ts_ecr, 0xfffffffeu);
		CHECK_EQ(p.mss, 0);
		check_seg(&p, &s);
	}
	s.datalen = 0;

	/* EOL ends the list: what follows it is not parsed */
	static const uint8_t opt4[8] = {1, 0, 2, 4, 0x05, 0xb4, 0, 0};
	s.opt = opt4;
	s.optlen = sizeof(opt4);
	n = frame_v4(b, l2, l2len, 0, 0, &s);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.mss, 0);
}

static void test_tcp_sack(void)
{
	uint8_t l2[64], b[FRAME_MAX], opt[48]; /* 40 is the TCP limit; the slack quiets a false -O3 stringop-overflow warning */
	struct weir_pkt p;
	unsigned reason;
	unsigned l2len = eth_plain(l2, 0x86dd);
	struct seg s = PLAIN;
	s.opt = opt;
	for (unsigned nb = 1; nb <= 4; nb++) {
		unsigned o = 0;
		memset(opt, 0, sizeof(opt));
		opt[o++] = 1;
		opt[o++] = 1;
		if (nb <= 3) { /* timestamps fit beside up to 3 blocks */
			opt[o++] = 8;
			opt[o++] = 10;
			o += put32(opt + o, 0xdeadbeef);
			o += put32(opt + o, 0xcafef00d);
		}
		opt[o++] = 5;
		opt[o++] = (uint8_t)(2 + 8 * nb);
		for (unsigned i = 0; i < nb; i++) {
			o += put32(opt + o, 0xfffffff0u + i * 0x100);
			o += put32(opt + o, 0xfffffff0u + i * 0x100 + 0x80);
		}
		s.optlen = (o + 3) & ~3u;
		unsigned n = frame_v6(b, l2, l2len, 6, NULL, 0, &s);
		reason = 77;
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
		CHECK_EQ(reason, NO_REASON);
		check_seg(&p, &s);
		CHECK_EQ(p.nsack, nb);
		for (unsigned i = 0; i < nb; i++) {
			CHECK_EQ(p.sack[i][0], 0xfffffff0u + i * 0x100);
			CHECK_EQ(p.sack[i][1], 0xfffffff0u + i * 0x100 + 0x80);
		}
		for (unsigned i = nb; i < 4; i++)
			CHECK(p.sack[i][0] == 0 && p.sack[i][1] == 0);
		CHECK_EQ(p.has_ts, nb <= 3);
		if (nb <= 3) {
			CHECK_EQ(p.ts_val, 0xdeadbeef);
			CHECK_EQ(p.ts_ecr, 0xcafef00d);
		}
	}
	/* a SACK length that is not 2 + 8n is ignored */
	static const uint8_t odd[20] = {5, 19, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0};
	s.opt = odd;
	s.optlen = sizeof(odd);
	unsigned n = frame_v6(b, l2, l2len, 6, NULL, 0, &s);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.nsack, 0);
}

/* A bad option length returns TCP with BAD_TCP_OPT; options before it are kept. */
static void test_tcp_bad_options(void)
{
	static const uint8_t zero_len[12] = {2, 4, 0x05, 0xb4, 30, 0, 8, 10, 1, 2, 3, 4};
	static const uint8_t one_len[8] = {3, 3, 9, 30, 1, 4, 2, 0};
	static const uint8_t past_end[8] = {4, 2, 1, 1, 8, 10, 0, 0};
	static const uint8_t no_len_byte[4] = {1, 1, 1, 2};
	static const uint8_t past_sack[12] = {2, 4, 0x01, 0x00, 5, 10, 0, 0, 0, 1, 0, 0};
	static const uint8_t one_past[8] = {2, 4, 0x01, 0x00, 30, 5, 0, 0}; /* ends 1 byte too late */
	const struct { const uint8_t *opt; unsigned len; uint16_t mss; uint8_t ws, sp; } cases[] = {
		{zero_len, sizeof(zero_len), 1460, 0xff, 0},
		{one_len, sizeof(one_len), 0, 9, 0},
		{past_end, sizeof(past_end), 0, 0xff, 1},
		{no_len_byte, sizeof(no_len_byte), 0, 0xff, 0},
		{past_sack, sizeof(past_sack), 256, 0xff, 0},
		{one_past, sizeof(one_past), 256, 0xff, 0},
	};
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned l2len = eth_plain(l2, 0x0800);
	for (unsigned i = 0; i < 2 * sizeof(cases) / sizeof(cases[0]); i++) {
		struct seg s = PLAIN;
		unsigned c = i / 2;
		s.opt = cases[c].opt;
		s.optlen = cases[c].len;
		s.datalen = i % 2 ? 0 : 5; /* without payload the header ends the frame: ASan guards it */
		unsigned n = frame_v4(b, l2, l2len, 0, 0, &s);
		unsigned reason = 77;
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
		CHECK_EQ(reason, WEIR_MAL_BAD_TCP_OPT);
		check_seg(&p, &s); /* the segment itself is still described */
		CHECK_EQ(p.mss, cases[c].mss);
		CHECK_EQ(p.wscale, cases[c].ws);
		CHECK_EQ(p.sack_perm, cases[c].sp);
		CHECK_EQ(p.has_ts, 0);
		CHECK_EQ(p.nsack, 0);
	}
}

static void test_tcp_malformed(void)
{
	static const uint8_t opt[12] = {2, 4, 0x05, 0xb4, 1, 1, 1, 1, 1, 1, 1, 0};
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	unsigned l2len = eth_plain(l2, 0x0800);
	struct seg s = PLAIN;
	s.opt = opt;
	s.optlen = sizeof(opt);
	unsigned n = frame_v4(b, l2, l2len, 0, 0, &s);
	unsigned l4 = 34;

	/* every cut inside the TCP header, the capture known to be truncated */
	for (unsigned len = l4; len < l4 + 32; len++)
		EXPECT_MAL(b, len, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_TCP);
	/* a cut in the payload keeps what is present */
	CHECK_EQ(parse_exact(&p, b, l4 + 34, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 2);
	CHECK_EQ(p.mss, 1460);
	CHECK_EQ(parse_exact(&p, b, l4 + 32, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 0);
	CHECK(p.payload == NULL);

	/* data offset below 5 */
	for (unsigned doff = 0; doff < 5; doff++) {
		b[l4 + 12] = (uint8_t)(doff << 4);
		EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_TCP_HLEN);
	}
	/* data offset past the IP length (60 > 32 + 5) */
	b[l4 + 12] = 15 << 4;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_TCP_HLEN);
	b[l4 + 12] = 8 << 4;

	/* the IP length leaves less than a TCP header */
	put16(b + 16, 20 + 19);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_TCP);
	put16(b + 16, 20);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_TCP);
	put16(b + 16, 20 + 32 + 5);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	/* the IP length cuts into the options: inconsistent, not truncated */
	put16(b + 16, 20 + 24);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_TCP_HLEN);
}

/* ---- IPv6 --------------------------------------------------------------------------------- */

/* Hop-by-hop (8) -> routing (24) -> destination options (16) -> atomic fragment (8) -> TCP */
static unsigned ext_chain(uint8_t *e, unsigned frag_word, uint8_t last_nh)
{
	memset(e, 0, 56);
	e[0] = 43;
	e[1] = 0;
	e[2] = 1; /* PadN */
	e[3] = 4;
	e[8] = 60;
	e[9] = 2;
	e[10] = 0; /* type 0 routing, 0 segments left */
	e[32] = 44;
	e[33] = 1;
	e[48] = last_nh;
	put16(e + 50, frag_word);
	put32(e + 52, 0xabcdef01);
	return 56;
}

static void test_ipv6_ext(void)
{
	uint8_t l2[64], b[FRAME_MAX], e[128];
	struct weir_pkt p;
	unsigned reason = 77;
	unsigned l2len = eth_plain(l2, 0x86dd);
	unsigned elen = ext_chain(e, 0, 6);
	unsigned n = frame_v6(b, l2, l2len, 0, e, elen, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	check_addr6(&p);
	check_seg(&p, &PLAIN);
	CHECK_EQ(p.l3_off, 14);
	CHECK_EQ(p.l4_off, 14 + 40 + 56);
	CHECK_EQ(p.ip_len, 40 + 56 + 25);
	CHECK_EQ(p.ip_frag, 0);

	/* a real fragment: offset != 0, or M set */
	/* reserved bits (0x0006) are ignored on receipt (RFC 8200): still an atomic fragment */
	ext_chain(e, 0x0006, 6);
	n = frame_v6(b, l2, l2len, 0, e, elen, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.ip_frag, 0);
	check_seg(&p, &PLAIN);

	static const unsigned words[] = {0x0008, 0x0001, 0xfff9};
	for (unsigned i = 0; i < 3; i++) {
		ext_chain(e, words[i], 6);
		n = frame_v6(b, l2, l2len, 0, e, elen, &PLAIN);
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_FRAGMENT);
		CHECK_EQ(p.ip_frag, 1);
		CHECK_EQ(p.l4proto, 6);
		CHECK_EQ(p.l4_off, 14 + 40 + 56);
		CHECK_EQ(p.payload_len, 25);
		CHECK_EQ(p.seq, 0);
		check_addr6(&p);
	}

	/* AH (RFC 4302): payload length 4 means (4 + 2) * 4 = 24 bytes */
	memset(e, 0, 24);
	e[0] = 6;
	e[1] = 4;
	n = frame_v6(b, l2, l2len, 51, e, 24, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.l4_off, 14 + 40 + 24);
	check_seg(&p, &PLAIN);

	/* headers that are not walked: ESP, no next header, UDP, ICMPv6, mobility */
	static const uint8_t others[] = {50, 59, 17, 58, 135};
	for (unsigned i = 0; i < sizeof(others); i++) {
		n = frame_v6(b, l2, l2len, others[i], NULL, 0, &PLAIN);
		reason = 77;
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
		CHECK_EQ(reason, NO_REASON);
		CHECK_EQ(p.l4proto, others[i]);
		CHECK_EQ(p.l4_off, 54);
		CHECK_EQ(p.payload_len, 25);
		check_addr6(&p);
	}
	/* ESP behind a destination-options header */
	ext_chain(e, 0, 50);
	n = frame_v6(b, l2, l2len, 0, e, elen, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
	CHECK_EQ(p.l4proto, 50);
	CHECK_EQ(p.l4_off, 14 + 40 + 56);
}

/* What the live path routes by (weir_parse's result alone). */
static int parse_class(const uint8_t *b, uint32_t caplen, uint32_t wirelen, int lt)
{
	struct weir_pkt p;
	return weir_parse(&p, b, caplen, wirelen, lt, NULL);
}

/* A TCP segment split into fragments must read as FRAGMENT on every path (the inline fragments
 * policy depends on it), whatever the tags and extension headers in front; a TCP segment behind
 * IPv6 extension headers is TCP. */
static void test_class(void)
{
	uint8_t l2[64], b[FRAME_MAX], e[128];
	const unsigned l2len = eth_plain(l2, 0x0800);
	unsigned n = frame_v4(b, l2, l2len, 0, 0x4000, &PLAIN);
	CHECK_EQ(parse_class(b, n, n, WEIR_DLT_EN10MB), WEIR_PARSE_TCP);
	static const unsigned frags[] = {0x2000 /* first: MF */, 0x0003 /* last: offset only */,
	                                 0x2001};
	for (unsigned i = 0; i < 3; i++) {
		n = frame_v4(b, l2, l2len, 0, frags[i], &PLAIN);
		CHECK_EQ(parse_class(b, n, n, WEIR_DLT_EN10MB), WEIR_PARSE_FRAGMENT);
	}
	/* the same fragment behind 802.1ad + 802.1Q tags, and as raw IP */
	static const uint16_t tpids[] = {0x88a8, 0x8100}, tcis[] = {100, 200};
	const unsigned tagged = put_eth(l2, tpids, tcis, 2, 0x0800);
	n = frame_v4(b, l2, tagged, 0, 0x2000, &PLAIN);
	CHECK_EQ(parse_class(b, n, n, WEIR_DLT_EN10MB), WEIR_PARSE_FRAGMENT);
	n = frame_v4(b, NULL, 0, 0, 0x2000, &PLAIN);
	CHECK_EQ(parse_class(b, n, n, WEIR_DLT_RAW), WEIR_PARSE_FRAGMENT);
	/* IPv6: TCP behind extension headers; a fragment header with M set; an atomic fragment is
	 * TCP */
	const unsigned l2v6 = eth_plain(l2, 0x86dd);
	const unsigned elen = ext_chain(e, 0, 6);
	n = frame_v6(b, l2, l2v6, 0, e, elen, &PLAIN);
	CHECK_EQ(parse_class(b, n, n, WEIR_DLT_EN10MB), WEIR_PARSE_TCP);
	ext_chain(e, 0x0001, 6);
	n = frame_v6(b, l2, l2v6, 0, e, elen, &PLAIN);
	CHECK_EQ(parse_class(b, n, n, WEIR_DLT_EN10MB), WEIR_PARSE_FRAGMENT);
	const uint8_t atomic[8] = {6, 0, 0, 0, 0, 0, 0, 1};
	n = frame_v6(b, l2, l2v6, 44, atomic, sizeof(atomic), &PLAIN);
	CHECK_EQ(parse_class(b, n, n, WEIR_DLT_EN10MB), WEIR_PARSE_TCP);
	/* UDP over IPv4, a truncated IPv4 header, ARP, nothing, an unknown link type */
	eth_plain(l2, 0x0800);
	n = frame_v4(b, l2, l2len, 0, 0, &PLAIN);
	b[l2len + 9] = 17;
	CHECK_EQ(parse_class(b, n, n, WEIR_DLT_EN10MB), WEIR_PARSE_OTHER);
	CHECK_EQ(parse_class(b, l2len + 10, l2len + 10, WEIR_DLT_EN10MB), WEIR_PARSE_MALFORMED);
	n = eth_plain(b, 0x0806);
	memset(b + n, 0, 28);
	CHECK_EQ(parse_class(b, n + 28, n + 28, WEIR_DLT_EN10MB), WEIR_PARSE_OTHER);
	CHECK_EQ(parse_class(NULL, 0, 0, WEIR_DLT_EN10MB), WEIR_PARSE_MALFORMED);
	CHECK_EQ(parse_class(b, n, n, 9999), WEIR_PARSE_MALFORMED);
}

static void test_ipv6_malformed(void)
{
	uint8_t l2[64], b[FRAME_MAX], e[128];
	struct weir_pkt p;
	unsigned reason;
	unsigned l2len = eth_plain(l2, 0x86dd);
	unsigned elen = ext_chain(e, 0, 6);
	unsigned n = frame_v6(b, l2, l2len, 0, e, elen, &PLAIN);

	for (unsigned len = 14; len < 54; len++)
		EXPECT_MAL(b, len, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IP);
	/* every cut inside the extension headers */
	for (unsigned len = 54; len < 54 + 56; len++)
		EXPECT_MAL(b, len, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IPV6_EXT);
	for (unsigned len = 54 + 56; len < 54 + 56 + 20; len++)
		EXPECT_MAL(b, len, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_TCP);
	/* an extension header longer than the IPv6 payload length says */
	b[14 + 40 + 9] = 200;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IPV6_EXT);
	b[14 + 40 + 9] = 2;
	/* payload length past the whole frame / past a snap-length cut */
	put16(b + 18, n - 54 + 1);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_LEN);
	CHECK_EQ(parse_exact(&p, b, n, n + 1, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 5);
	CHECK_EQ(p.ip_len, n - 14 + 1);
	/* payload length 0 (jumbogram): the frame is the packet */
	put16(b + 18, 0);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 5);
	CHECK_EQ(p.ip_len, n - 14);
	CHECK_EQ(parse_exact(&p, b, n - 2, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 3);
	CHECK_EQ(p.ip_len, n - 14);
	/* payload length shorter than the frame: Ethernet padding trimmed */
	put16(b + 18, n - 54 - 3);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 2);
	CHECK_EQ(p.ip_len, n - 14 - 3);
	b[14] = 0x40;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_VERSION);
	b[14] = 0x60;

	/* a truncated fragment header and a truncated AH */
	memset(e, 0, 24);
	e[0] = 6;
	n = frame_v6(b, l2, l2len, 44, e, 8, &PLAIN);
	for (unsigned len = 54; len < 62; len++)
		EXPECT_MAL(b, len, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IPV6_EXT);
	e[1] = 4;
	n = frame_v6(b, l2, l2len, 51, e, 24, &PLAIN);
	for (unsigned len = 54; len < 78; len++)
		EXPECT_MAL(b, len, n, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IPV6_EXT);
}

/* ---- other link types --------------------------------------------------------------------- */

static void test_raw(void)
{
	uint8_t b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	static const int lts[] = {WEIR_DLT_RAW, WEIR_DLT_RAW101, WEIR_DLT_IPV4, WEIR_DLT_IPV6};
	for (unsigned i = 0; i < 4; i++) {
		unsigned n = frame_v4(b, NULL, 0, 0, 0, &PLAIN);
		reason = 77;
		CHECK_EQ(parse(&p, b, n, lts[i], &reason), WEIR_PARSE_TCP);
		CHECK_EQ(reason, NO_REASON);
		CHECK_EQ(p.l3_off, 0);
		CHECK_EQ(p.l4_off, 20);
		check_addr4(&p);
		check_seg(&p, &PLAIN);
		n = frame_v6(b, NULL, 0, 6, NULL, 0, &PLAIN);
		CHECK_EQ(parse(&p, b, n, lts[i], &reason), WEIR_PARSE_TCP);
		CHECK_EQ(p.l4_off, 40);
		check_addr6(&p);
		check_seg(&p, &PLAIN);
		EXPECT_MAL(b, 0, 0, lts[i], WEIR_MAL_TRUNC_IP);
		EXPECT_MAL(b, 1, 1, lts[i], WEIR_MAL_TRUNC_IP);
		EXPECT_MAL(b, 39, 39, lts[i], WEIR_MAL_TRUNC_IP);
		b[0] = 0x50;
		EXPECT_MAL(b, n, n, lts[i], WEIR_MAL_BAD_IP_VERSION);
		b[0] = 0x00;
		EXPECT_MAL(b, 1, 1, lts[i], WEIR_MAL_BAD_IP_VERSION);
	}
}

static void test_sll(void)
{
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	/* SLL v1: packet type, ARPHRD, address length, 8 address bytes, protocol */
	memset(l2, 0, 16);
	put16(l2, 4);      /* sent by us */
	put16(l2 + 2, 1);  /* ARPHRD_ETHER */
	put16(l2 + 4, 6);
	put16(l2 + 14, 0x0800);
	unsigned n = frame_v4(b, l2, 16, 0, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_LINUX_SLL, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.l3_off, 16);
	check_addr4(&p);
	check_seg(&p, &PLAIN);
	for (unsigned len = 0; len < 16; len++)
		EXPECT_MAL(b, len, len, WEIR_DLT_LINUX_SLL, WEIR_MAL_TRUNC_L2);
	EXPECT_MAL(b, 16, 16, WEIR_DLT_LINUX_SLL, WEIR_MAL_TRUNC_IP);
	/* libpcap puts a stripped VLAN tag back at the protocol field */
	put16(l2 + 14, 0x8100);
	put16(l2 + 16, 42);
	put16(l2 + 18, 0x86dd);
	n = frame_v6(b, l2, 20, 6, NULL, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_LINUX_SLL, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, 1);
	CHECK_EQ(p.vlan[0], 42);
	CHECK_EQ(p.l3_off, 20);
	check_addr6(&p);
	put16(b + 14, 0x0806);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_LINUX_SLL, &reason), WEIR_PARSE_OTHER);

	/* SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address */
	memset(l2, 0, 20);
	put16(l2, 0x86dd);
	put32(l2 + 4, 3);
	put16(l2 + 8, 1);
	l2[11] = 6;
	n = frame_v6(b, l2, 20, 6, NULL, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_LINUX_SLL2, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.l3_off, 20);
	check_addr6(&p);
	check_seg(&p, &PLAIN);
	for (unsigned len = 0; len < 20; len++)
		EXPECT_MAL(b, len, len, WEIR_DLT_LINUX_SLL2, WEIR_MAL_TRUNC_L2);
	put16(b, 0x0800); /* says IPv4, holds IPv6 */
	EXPECT_MAL(b, n, n, WEIR_DLT_LINUX_SLL2, WEIR_MAL_BAD_IP_VERSION);
	put16(b, 0x0003);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_LINUX_SLL2, &reason), WEIR_PARSE_OTHER);
}

static void test_bsd_loopback(void)
{
	uint8_t l2[4], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	static const uint32_t v6fams[] = {24, 28, 30};
	uint32_t fam = 2;
	memcpy(l2, &fam, 4); /* host order */
	unsigned n = frame_v4(b, l2, 4, 0, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_NULL, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.l3_off, 4);
	check_addr4(&p);
	check_seg(&p, &PLAIN);
	fam = __builtin_bswap32(2); /* written by a machine of the other byte order */
	memcpy(b, &fam, 4);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_NULL, &reason), WEIR_PARSE_TCP);
	for (unsigned i = 0; i < 3; i++) {
		memcpy(l2, &v6fams[i], 4);
		n = frame_v6(b, l2, 4, 6, NULL, 0, &PLAIN);
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_NULL, &reason), WEIR_PARSE_TCP);
		check_addr6(&p);
		check_seg(&p, &PLAIN);
		put32(b, v6fams[i]); /* network order */
		CHECK_EQ(parse(&p, b, n, WEIR_DLT_LOOP, &reason), WEIR_PARSE_TCP);
		CHECK_EQ(p.l3_off, 4);
		check_addr6(&p);
	}
	put32(b, 2);
	EXPECT_MAL(b, n, n, WEIR_DLT_LOOP, WEIR_MAL_BAD_IP_VERSION); /* IPv4 family, IPv6 packet */
	put32(b, 7);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_LOOP, &reason), WEIR_PARSE_OTHER);
	CHECK_EQ(p.l3_off, 0);
	CHECK_EQ(p.ip_ver, 0);
	fam = 23;
	memcpy(b, &fam, 4);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_NULL, &reason), WEIR_PARSE_OTHER);
	for (unsigned len = 0; len < 4; len++) {
		EXPECT_MAL(b, len, len, WEIR_DLT_NULL, WEIR_MAL_TRUNC_L2);
		EXPECT_MAL(b, len, len, WEIR_DLT_LOOP, WEIR_MAL_TRUNC_L2);
	}
	put32(b, 30);
	EXPECT_MAL(b, 4, 4, WEIR_DLT_LOOP, WEIR_MAL_TRUNC_IP);
}

static void test_bad_arguments(void)
{
	uint8_t b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason = 77;
	unsigned n = frame_v4(b, NULL, 0, 0, 0, &PLAIN);
	static const int unknown[] = {-1, 2, 105, 127, 113 + 1, 275, 1000, 0x7fffffff};
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		EXPECT_MAL(b, n, n, unknown[i], WEIR_MAL_UNKNOWN_LINKTYPE);
	CHECK_EQ(weir_parse(NULL, b, n, n, WEIR_DLT_RAW, &reason), WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_TRUNC_L2);
	CHECK_EQ(weir_parse(NULL, b, n, n, WEIR_DLT_RAW, NULL), WEIR_PARSE_MALFORMED);
	/* a NULL frame is an empty one, whatever caplen says */
	CHECK_EQ(weir_parse(&p, NULL, 1000, 1000, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_TRUNC_L2);
	CHECK_EQ(p.caplen, 0);
	CHECK_EQ(weir_parse(&p, NULL, 1000, 1000, WEIR_DLT_RAW, &reason), WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_TRUNC_IP);
	/* zero-length frames of every link type */
	static const int lts[] = {0, 1, 12, 101, 108, 113, 228, 229, 276, 9, 10, 50, 104};
	static const unsigned why[] = {WEIR_MAL_TRUNC_L2, WEIR_MAL_TRUNC_L2, WEIR_MAL_TRUNC_IP,
	                               WEIR_MAL_TRUNC_IP, WEIR_MAL_TRUNC_L2, WEIR_MAL_TRUNC_L2,
	                               WEIR_MAL_TRUNC_IP, WEIR_MAL_TRUNC_IP, WEIR_MAL_TRUNC_L2,
	                               WEIR_MAL_TRUNC_L2, WEIR_MAL_TRUNC_L2, WEIR_MAL_TRUNC_L2,
	                               WEIR_MAL_TRUNC_L2};
	for (unsigned i = 0; i < sizeof(lts) / sizeof(lts[0]); i++) {
		EXPECT_MAL(b, 0, 0, lts[i], why[i]);
		EXPECT_MAL(b, 0, 1500, lts[i], why[i]);
	}
}

/* Headers that end past 64 KiB cannot be described by the 16-bit offsets: malformed. */
static void test_huge_offsets(void)
{
	enum { BIG = 70000 };
	uint8_t *b = calloc(1, BIG);
	CHECK(b != NULL);
	if (!b)
		return;
	struct weir_pkt p;
	unsigned reason;
	/* 16400 VLAN tags would put the IP header at 65614: the depth limit stops the walk first
	 * (test_link.c: a walk entered that deep) */
	put16(b + 12, 0x8100);
	for (unsigned i = 0; i < 16400; i++)
		put16(b + 14 + 4 * i + 2, i + 1 < 16400 ? 0x8100 : 0x0800);
	unsigned n = frame_v4(b + 14 + 4 * 16400, NULL, 0, 0, 0, &PLAIN) + 14 + 4 * 16400;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_L2_DEPTH);

	/* a jumbogram whose 32 destination-options headers of 2048 bytes end past 65535 */
	memset(b, 0, BIG);
	unsigned off = eth_plain(b, 0x86dd);
	off += put_ipv6(b + off, 60, 0);
	for (unsigned i = 0; i < 32; i++, off += 2048) {
		b[off] = i + 1 < 32 ? 60 : 6;
		b[off + 1] = 255;
	}
	n = off + put_tcp(b + off, &PLAIN);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_LEN);
	/* one header fewer still fits: TCP at 63542; the jumbo IP length saturates ip_len */
	b[14 + 40 + 30 * 2048] = 6;
	struct seg s = PLAIN;
	s.datalen = 3000;
	n = 14 + 40 + 31 * 2048 + put_tcp(b + 14 + 40 + 31 * 2048, &s);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.l4_off, 14 + 40 + 31 * 2048);
	CHECK_EQ(p.ip_len, 65535);
	check_seg(&p, &s);

	/* a real fragment header at 65534: its data would start past 65535 */
	memset(b + 54, 0, BIG - 54);
	off = 54;
	for (unsigned i = 0; i < 32; i++) {
		b[off] = i + 1 < 32 ? 60 : 44;
		b[off + 1] = i + 1 < 32 ? 255 : 248; /* 31 x 2048 + 1992 bytes */
		off += ((unsigned)b[off + 1] + 1) * 8;
	}
	CHECK_EQ(off, 65534);
	b[off] = 6;
	put16(b + off + 2, 0x0008);
	n = off + 8 + put_tcp(b + off + 8, &PLAIN);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_LEN);
	put16(b + off + 2, 0); /* atomic: walked on to TCP at 65542, past what l4_off holds */
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_IP_LEN);
	free(b);
}

/* ---- prefixes, mutations ------------------------------------------------------------------ */

struct base {
	uint8_t b[FRAME_MAX];
	unsigned n;
	int lt;
};

#define NBASE 19

static unsigned base_eth_v4(struct base *f)
{
	static const uint8_t opt[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7};
	uint8_t l2[32];
	struct seg s = PLAIN;
	s.opt = opt;
	s.optlen = sizeof(opt);
	f->lt = WEIR_DLT_EN10MB;
	return frame_v4(f->b, l2, eth_plain(l2, 0x0800), 0, 0, &s);
}

static unsigned base_qinq_v6(struct base *f)
{
	static const uint8_t opt[28] = {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 8, 10, 1, 2, 3, 4, 5, 6};
	static const uint16_t tp[2] = {0x88a8, 0x8100}, tc[2] = {7, 8};
	uint8_t l2[32], e[64];
	struct seg s = PLAIN;
	s.opt = opt;
	s.optlen = sizeof(opt);
	s.datalen = 40;
	f->lt = WEIR_DLT_EN10MB;
	return frame_v6(f->b, l2, put_eth(l2, tp, tc, 2, 0x86dd), 0, e, ext_chain(e, 0, 6), &s);
}

/* Ethernet/IPv4 with options/TCP, 1 data byte, padded to 60 bytes. */
static unsigned base_padded(struct base *f)
{
	uint8_t l2[32];
	struct seg s = PLAIN;
	s.datalen = 1;
	f->lt = WEIR_DLT_EN10MB;
	unsigned n = frame_v4(f->b, l2, eth_plain(l2, 0x0800), 4, 0, &s);
	memset(f->b + n, 0, 60 - n);
	return 60;
}

static unsigned base_raw_ah(struct base *f)
{
	uint8_t e[24] = {6, 4};
	f->lt = WEIR_DLT_RAW;
	return frame_v6(f->b, NULL, 0, 51, e, sizeof(e), &PLAIN);
}

static unsigned base_sll_vlan(struct base *f)
{
	uint8_t l2[20] = {0, 4, 0, 1, 0, 6};
	put16(l2 + 14, 0x8100);
	put16(l2 + 16, 99);
	put16(l2 + 18, 0x0800);
	f->lt = WEIR_DLT_LINUX_SLL;
	return frame_v4(f->b, l2, 20, 8, 0, &PLAIN);
}

static unsigned base_misc(struct base *f, unsigned which)
{
	uint8_t l2[20] = {0}, e[64];
	uint32_t fam = 2;
	switch (which) {
	case 0:
		put16(l2, 0x86dd);
		f->lt = WEIR_DLT_LINUX_SLL2;
		return frame_v6(f->b, l2, 20, 6, NULL, 0, &PLAIN);
	case 1:
		memcpy(l2, &fam, 4);
		f->lt = WEIR_DLT_NULL;
		return frame_v4(f->b, l2, 4, 0, 0, &PLAIN);
	case 2:
		put32(l2, 28);
		f->lt = WEIR_DLT_LOOP;
		return frame_v6(f->b, l2, 4, 0, e, ext_chain(e, 0, 6), &PLAIN);
	case 3:
		f->lt = WEIR_DLT_EN10MB;
		return frame_v4(f->b, l2, eth_plain(l2, 0x0800), 0, 0x2010, &PLAIN); /* fragment */
	default:
		f->lt = WEIR_DLT_EN10MB;
		return frame_v6(f->b, l2, eth_plain(l2, 0x86dd), 17, NULL, 0, &PLAIN); /* "UDP" */
	}
}

/* Frames behind the link layers of link.c: [l2 as given][IPv4 or IPv6][TCP]. */
static unsigned base_link(struct base *f, unsigned which)
{
	static const struct {
		int lt;
		uint8_t v6;
		uint8_t len;
		uint8_t l2[48];
	} l2s[] = {
	    /* S-tag 10, PBB I-tag, customer MACs, C-tag 20, IPv4 */
	    {WEIR_DLT_EN10MB, 0, 40, {2, 0,  0,    0,    0, 1, 2,    0, 0, 0,  0,    2, 0x88, 0xa8,
	                              0, 10, 0x88, 0xe7, 0, 0, 1,    0, 4, 0,  0,    0, 0,    1,
	                              4, 0,  0,    0,    0, 2, 0x81, 0, 0, 20, 0x08, 0}},
	    /* FabricPath, inner Ethernet, IPv6 */
	    {WEIR_DLT_EN10MB, 1, 30, {2,    0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x89, 0x03, 0,
	                              0x3f, 4, 0, 0, 0, 0, 1, 4, 0, 0, 0, 0, 2,    0x86, 0xdd}},
	    /* C-tag, two MPLS labels, IPv4 by the nibble */
	    {WEIR_DLT_EN10MB, 0, 26, {2, 0, 0, 0,    0,    1, 2,    0, 0,  0, 0,    2, 0x81,
	                              0, 0, 5, 0x88, 0x47, 0, 0x10, 0, 64, 0, 0x20, 1, 64}},
	    /* QinQ, PPPoE session (length 67: PPP protocol, IPv6, TCP), PPP IPv6 */
	    {WEIR_DLT_EN10MB, 1, 30, {2,    0,    0,    0,    0, 1, 2,    0,  0, 0,
	                              0,    2,    0x88, 0xa8, 0, 1, 0x81, 0,  0, 2,
	                              0x88, 0x64, 0x11, 0,    0, 7, 0,    67, 0, 0x57}},
	    /* 802.3 length, LLC/SNAP, IPv4 */
	    {WEIR_DLT_EN10MB, 0, 22, {2, 0, 0,    0,    0,    1, 2, 0, 0, 0, 0,
	                              2, 0, 0x40, 0xaa, 0xaa, 3, 0, 0, 0, 8, 0}},
	    /* FDDI, LLC/SNAP, IPv4 */
	    {WEIR_DLT_FDDI, 0, 21, {0x50, 2, 0,    0,    0, 0, 1, 2, 0, 0, 0,
	                            0,    2, 0xaa, 0xaa, 3, 0, 0, 0, 8, 0}},
	    /* PPP in HDLC framing, IPv4 */
	    {WEIR_DLT_PPP_SERIAL, 0, 4, {0xff, 3, 0, 0x21}},
	    /* PPP, compressed protocol field, IPv6 */
	    {WEIR_DLT_PPP, 1, 1, {0x57}},
	    /* Cisco HDLC, MPLS explicit-null IPv4 label */
	    {WEIR_DLT_C_HDLC, 0, 8, {0x0f, 0, 0x88, 0x47, 0, 0, 1, 64}},
	};
	f->lt = l2s[which].lt;
	const unsigned n = l2s[which].v6
	                       ? frame_v6(f->b, l2s[which].l2, l2s[which].len, 6, NULL, 0, &PLAIN)
	                       : frame_v4(f->b, l2s[which].l2, l2s[which].len, 0, 0, &PLAIN);
	struct weir_pkt p;
	CHECK_EQ(weir_parse(&p, f->b, n, n, f->lt, NULL),
	         WEIR_PARSE_TCP); /* or the prefixes test little */
	return n;
}

static void build_bases(struct base *f)
{
	memset(f, 0, sizeof(*f) * NBASE);
	for (unsigned i = 0; i < 9; i++)
		f[10 + i].n = base_link(&f[10 + i], i);
	f[0].n = base_eth_v4(&f[0]);
	f[1].n = base_qinq_v6(&f[1]);
	f[2].n = base_padded(&f[2]);
	f[3].n = base_raw_ah(&f[3]);
	f[4].n = base_sll_vlan(&f[4]);
	for (unsigned i = 0; i < 5; i++)
		f[5 + i].n = base_misc(&f[5 + i], i);
}

/* Properties every parse must have, whatever the input. */
static void check_invariants(const struct weir_pkt *p, int r, unsigned reason, uint32_t caplen)
{
	CHECK(r >= WEIR_PARSE_TCP && r <= WEIR_PARSE_MALFORMED);
	if (r == WEIR_PARSE_MALFORMED)
		CHECK(reason < WEIR_MAL_COUNT);
	else
		CHECK(reason == NO_REASON || (r == WEIR_PARSE_TCP && reason == WEIR_MAL_BAD_TCP_OPT));
	CHECK_EQ(p->caplen, caplen);
	CHECK(p->nsack <= 4);
	CHECK(p->ip_ver == 0 || p->ip_ver == 4 || p->ip_ver == 6);
	CHECK_EQ(p->ip_frag, r == WEIR_PARSE_FRAGMENT);
	if (r == WEIR_PARSE_TCP) {
		CHECK(p->ip_ver != 0);
		CHECK_EQ(p->l4proto, 6);
		CHECK(p->l3_off < p->l4_off);
		CHECK(p->l4_off + 20u <= caplen);
		if (p->payload_len)
			CHECK(p->payload >= p->frame + p->l4_off + 20);
	}
	if (r == WEIR_PARSE_OTHER && p->ip_ver == 0)
		CHECK_EQ(p->payload_len, 0);
}

/* Every prefix of a TCP frame: malformed (by truncation) until the TCP header is whole, then TCP
 * with the bytes present; and the same prefixes claimed whole: TCP only once the IP length fits. */
static void test_prefixes(const struct base *bases)
{
	for (unsigned k = 0; k < NBASE; k++) {
		const struct base *f = &bases[k];
		struct weir_pkt full, p;
		unsigned reason;
		int rfull = parse(&full, f->b, f->n, f->lt, &reason);
		uint32_t hdr_end = full.l4_off + (uint32_t)(f->b[full.l4_off + 12] >> 4) * 4;
		uint32_t ip_end = full.l3_off + full.ip_len;
		for (uint32_t len = 0; len <= f->n; len++) {
			int r = parse_exact(&p, f->b, len, f->n, f->lt, &reason);
			check_invariants(&p, r, reason, len);
			if (rfull != WEIR_PARSE_TCP)
				continue;
			if (len < hdr_end) {
				CHECK_EQ(r, WEIR_PARSE_MALFORMED);
				CHECK(reason == WEIR_MAL_TRUNC_L2 || reason == WEIR_MAL_TRUNC_IP ||
				      reason == WEIR_MAL_TRUNC_IPV6_EXT ||
				      reason == WEIR_MAL_TRUNC_TCP ||
				      reason == WEIR_MAL_MPLS_NO_BOS);
			} else {
				CHECK_EQ(r, WEIR_PARSE_TCP);
				CHECK_EQ(p.seq, full.seq);
				CHECK_EQ(p.mss, full.mss);
				CHECK_EQ(p.nsack, full.nsack);
				CHECK_EQ(p.payload_len, (len < ip_end ? len : ip_end) - hdr_end);
			}
			r = parse_exact(&p, f->b, len, len, f->lt, &reason);
			check_invariants(&p, r, reason, len);
			if (len >= ip_end)
				CHECK_EQ(r, WEIR_PARSE_TCP);
			else
				CHECK_EQ(r, WEIR_PARSE_MALFORMED);
		}
	}
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: a fixed seed gives the same run everywhere */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Random byte mutations (mostly in the headers), random cuts and link types. */
static void test_mutations(const struct base *bases, unsigned rounds)
{
	static const int lts[] = {0, 1, 12, 101, 108, 113, 228, 229, 276, 9, 10, 50, 104};
	uint64_t seed = 0x5eed5eed12345678ull;
	uint8_t b[FRAME_MAX];
	unsigned counts[4] = {0};
	for (unsigned i = 0; i < rounds; i++) {
		const struct base *f = &bases[rng_next(&seed) % NBASE];
		memcpy(b, f->b, f->n);
		unsigned nmut = 1 + rng_next(&seed) % 4;
		for (unsigned m = 0; m < nmut; m++) {
			uint64_t x = rng_next(&seed);
			unsigned span = (x & 3) ? (f->n < 100 ? f->n : 100) : f->n;
			unsigned pos = (unsigned)(x >> 8) % span;
			uint8_t v = (uint8_t)(x >> 40);
			b[pos] = (x & 0x30) == 0 ? 0 : (x & 0x30) == 0x10 ? 0xff : v;
		}
		uint64_t x = rng_next(&seed);
		uint32_t caplen = (x & 1) ? f->n : (uint32_t)(x >> 8) % (f->n + 1);
		uint32_t wirelen = (x & 2) ? caplen : f->n + (uint32_t)(x >> 40) % 64;
		int lt = (x & 0x1c) ? f->lt : lts[(x >> 32) % (sizeof(lts) / sizeof(lts[0]))];
		struct weir_pkt p;
		unsigned reason;
		int r = parse_exact(&p, b, caplen, wirelen, lt, &reason);
		check_invariants(&p, r, reason, caplen);
		if (r >= 0 && r < 4)
			counts[r]++;
	}
	/* the mutations must have reached every outcome, or they test little */
	for (unsigned r = 0; r < 4; r++)
		CHECK(counts[r] > rounds / 100);
	fprintf(stderr, "mutations: tcp %u other %u fragment %u malformed %u\n", counts[0], counts[1], counts[2], counts[3]);
}

/* Payload bytes do not change how a frame parses. */
static void test_payload_mutations(const struct base *bases)
{
	uint64_t seed = 42;
	uint8_t b[FRAME_MAX];
	for (unsigned k = 0; k < NBASE; k++) {
		const struct base *f = &bases[k];
		struct weir_pkt full, p;
		unsigned reason;
		if (parse(&full, f->b, f->n, f->lt, &reason) != WEIR_PARSE_TCP || full.payload_len == 0)
			continue;
		uint32_t data = (uint32_t)(full.payload - f->b);
		for (unsigned i = 0; i < 200; i++) {
			memcpy(b, f->b, f->n);
			for (uint32_t j = data; j < f->n; j++)
				b[j] = (uint8_t)rng_next(&seed);
			CHECK_EQ(parse(&p, b, f->n, f->lt, &reason), WEIR_PARSE_TCP);
			CHECK_EQ(p.payload_len, full.payload_len);
			CHECK(p.payload == b + data);
			CHECK_EQ(p.seq, full.seq);
			CHECK_EQ(p.wscale, full.wscale);
		}
	}
}

int main(void)
{
	test_eth_ipv4_basic();
	test_vlan();
	test_eth_other();
	test_ipv4_options_and_padding();
	test_ipv4_fragments();
	test_ipv4_malformed();
	test_tcp_syn_options();
	test_tcp_sack();
	test_tcp_bad_options();
	test_tcp_malformed();
	test_ipv6_ext();
	test_ipv6_malformed();
	test_class();
	test_raw();
	test_sll();
	test_bsd_loopback();
	test_bad_arguments();
	test_huge_offsets();

	struct base *bases = malloc(sizeof(*bases) * NBASE);
	CHECK(bases != NULL);
	if (bases) {
		build_bases(bases);
		test_prefixes(bases);
		test_mutations(bases, 20000);
		test_payload_mutations(bases);
		free(bases);
	}
	return UNIT_DONE();
}
