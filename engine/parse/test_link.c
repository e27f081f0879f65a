/* test_link.c — each link-layer decoder of link.c on hand-built frames: VLAN depth, PBB,
 * FabricPath, MPLS, PPPoE, PPP, Cisco HDLC, LLC/SNAP, FDDI; their truncations and lies; the
 * encapsulation bits; the entry a tunnel decoder uses. */
#include "parse/parse_internal.h"
#include "parse/test_frames.h"

#define BIT(e) (1u << WEIR_ENCAP_##e)

static const uint8_t MACS[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

/* Appends n bytes to the header being built at *len. */
static void add(uint8_t *l2, unsigned *len, const uint8_t *bytes, unsigned n)
{
	memcpy(l2 + *len, bytes, n);
	*len += n;
}

static void add16(uint8_t *l2, unsigned *len, unsigned v)
{
	*len += put16(l2 + *len, v);
}

/* An MPLS label stack entry: label, bottom-of-stack bit, TTL 64. */
static void add_label(uint8_t *l2, unsigned *len, uint32_t label, int bos)
{
	*len += put32(l2 + *len, label << 12 | (bos ? 0x100u : 0) | 64);
}

/* Parses [l2][IPv4][TCP] or [l2][IPv6][TCP] and expects TCP with the headers at l3_off. */
static void expect_tcp(const uint8_t *l2, unsigned l2len, int lt, int v6, unsigned encap, int line)
{
	uint8_t b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason = 77;
	unsigned n =
	    v6 ? frame_v6(b, l2, l2len, 6, NULL, 0, &PLAIN) : frame_v4(b, l2, l2len, 0, 0, &PLAIN);
	int r = parse(&p, b, n, lt, &reason);
	if (r != WEIR_PARSE_TCP || p.l3_off != l2len || p.encap != encap)
		fprintf(stderr, "  (expect_tcp from line %d: r=%d reason=%u l3_off=%u encap=%#x)\n",
		        line, r, reason, p.l3_off, p.encap);
	CHECK_EQ(r, WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.l3_off, l2len);
	CHECK_EQ(p.encap, encap);
	if (v6)
		check_addr6(&p);
	else
		check_addr4(&p);
	check_seg(&p, &PLAIN);
}
#define EXPECT_TCP(l2, len, lt, v6, encap) expect_tcp(l2, len, lt, v6, encap, __LINE__)

/* Expects OTHER for the frame [l2] padded with n zero bytes. */
static void expect_other(const uint8_t *l2, unsigned l2len, unsigned pad, int lt, int line)
{
	uint8_t b[FRAME_MAX] = {0};
	struct weir_pkt p;
	unsigned reason = 77;
	memcpy(b, l2, l2len);
	int r = parse(&p, b, l2len + pad, lt, &reason);
	if (r != WEIR_PARSE_OTHER)
		fprintf(stderr, "  (expect_other from line %d: r=%d reason=%u)\n", line, r, reason);
	CHECK_EQ(r, WEIR_PARSE_OTHER);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.ip_ver, 0);
}
#define EXPECT_OTHER(l2, len, pad, lt) expect_other(l2, len, pad, lt, __LINE__)

static void test_pbb(void)
{
	uint8_t l2[64];
	static const uint8_t itag[4] = {0x60, 0, 1, 0}; /* priority 3, I-SID 256 */
	unsigned len = 0;
	add(l2, &len, MACS, 12);
	add16(l2, &len, 0x88a8); /* B-tag */
	add16(l2, &len, 10);
	add16(l2, &len, 0x88e7);
	add(l2, &len, itag, 4);
	add(l2, &len, MACS, 12); /* the customer's addresses */
	add16(l2, &len, 0x8100); /* C-tag */
	add16(l2, &len, 0x2014);
	add16(l2, &len, 0x0800);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(VLAN) | BIT(PBB));
	struct weir_pkt p;
	unsigned reason;
	uint8_t b[FRAME_MAX];
	unsigned n = frame_v4(b, l2, len, 0, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, 2); /* the backbone's tag and the customer's */
	CHECK_EQ(p.vlan[0], 10);
	CHECK_EQ(p.vlan[1], 20);
	/* the I-tag and the customer header cut anywhere */
	for (unsigned cut = 18; cut < 18 + 18; cut++)
		EXPECT_MAL(b, cut, cut, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_L2);
	/* untagged customer frame of another type */
	put16(l2 + 34, 0x0806);
	EXPECT_OTHER(l2, 36, 28, WEIR_DLT_EN10MB);
}

static void test_fabricpath(void)
{
	uint8_t l2[64];
	unsigned len = 0;
	add(l2, &len, MACS, 12);
	add16(l2, &len, 0x8903);
	add16(l2, &len, 0x003f); /* FTag, TTL */
	add(l2, &len, MACS, 12);
	add16(l2, &len, 0x86dd);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 1, BIT(FABRICPATH));
	/* with a tag on the inner frame (nDPI's ajp.pcap) */
	len -= 2;
	add16(l2, &len, 0x8100);
	add16(l2, &len, 77);
	add16(l2, &len, 0x0800);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(FABRICPATH) | BIT(VLAN));
	for (unsigned cut = 14; cut < 30; cut++)
		EXPECT_MAL(l2, cut, cut, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_L2);
}

static void test_mpls(void)
{
	uint8_t l2[128], b[FRAME_MAX];
	unsigned len = 0;
	add(l2, &len, MACS, 12);
	add16(l2, &len, 0x8847);
	add_label(l2, &len, 1000, 0);
	add_label(l2, &len, 17, 1);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(MPLS)); /* IPv4 by the nibble */
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 1, BIT(MPLS)); /* IPv6 by the nibble */
	put16(l2 + 12, 0x8848);                             /* multicast */
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(MPLS));

	/* inside a VLAN (Zeek's mpls-in-vlan.pcap) */
	len = 0;
	add(l2, &len, MACS, 12);
	add16(l2, &len, 0x8100);
	add16(l2, &len, 3);
	add16(l2, &len, 0x8847);
	add_label(l2, &len, 99, 1);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(MPLS) | BIT(VLAN));

	/* an explicit-null bottom label says what follows, whatever the nibble */
	len = 14;
	add_label(l2, &len, 2, 1);
	put16(l2 + 12, 0x8847);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 1, BIT(MPLS));
	len = 14;
	add_label(l2, &len, 0, 1);
	unsigned n = frame_v6(b, l2, len, 6, NULL, 0, &PLAIN);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB,
	           WEIR_MAL_BAD_IP_VERSION); /* label 0: IPv4, holds IPv6 */

	/* after the bottom: a pseudowire control word (nibble 0) is not decoded; nothing at all */
	len = 14;
	add_label(l2, &len, 5000, 1);
	EXPECT_OTHER(l2, len, 40, WEIR_DLT_EN10MB);
	EXPECT_MAL(l2, len, len, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_IP);

	/* the frame ends inside the stack: no bottom of stack; a label cut short */
	len = 14;
	add_label(l2, &len, 5000, 0);
	add_label(l2, &len, 5001, 0);
	EXPECT_MAL(l2, len, len, WEIR_DLT_EN10MB, WEIR_MAL_MPLS_NO_BOS);
	EXPECT_MAL(l2, len - 1, len - 1, WEIR_DLT_EN10MB, WEIR_MAL_MPLS_NO_BOS);
	EXPECT_MAL(l2, 14, 14, WEIR_DLT_EN10MB, WEIR_MAL_MPLS_NO_BOS);

	/* WEIR_L2_MAX_HEADERS labels: walked; one more is too many */
	len = 14;
	for (unsigned i = 0; i < WEIR_L2_MAX_HEADERS - 1; i++)
		add_label(l2, &len, 100 + i, 0);
	add_label(l2, &len, 200, 1);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(MPLS));
	len -= 4;
	add_label(l2, &len, 300, 0);
	add_label(l2, &len, 200, 1);
	n = frame_v4(b, l2, len, 0, 0, &PLAIN);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_L2_DEPTH);
}

/* [Ethernet][tags][PPPoE session, length][PPP protocol] */
static unsigned pppoe_l2(uint8_t *l2, unsigned ntags, unsigned length, unsigned proto)
{
	static const uint8_t session[4] = {0x11, 0, 0x12, 0x34};
	unsigned len = 0;
	add(l2, &len, MACS, 12);
	for (unsigned i = 0; i < ntags; i++) {
		add16(l2, &len, i == 0 && ntags > 1 ? 0x88a8 : 0x8100);
		add16(l2, &len, 100 + i);
	}
	add16(l2, &len, 0x8864);
	add(l2, &len, session, 4);
	add16(l2, &len, length);
	add16(l2, &len, proto);
	return len;
}

static void test_pppoe(void)
{
	uint8_t l2[64], b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason;
	const unsigned v4len = 2 + 20 + 20 + PLAIN.datalen, v6len = 2 + 40 + 20 + PLAIN.datalen;
	EXPECT_TCP(l2, pppoe_l2(l2, 0, v4len, 0x0021), WEIR_DLT_EN10MB, 0, BIT(PPPOE) | BIT(PPP));
	EXPECT_TCP(l2, pppoe_l2(l2, 0, v6len, 0x0057), WEIR_DLT_EN10MB, 1, BIT(PPPOE) | BIT(PPP));
	/* over QinQ (Zeek's pppoe-over-qinq.pcap) */
	unsigned len = pppoe_l2(l2, 2, v4len, 0x0021);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(PPPOE) | BIT(PPP) | BIT(VLAN));
	unsigned n = frame_v4(b, l2, len, 0, 0, &PLAIN);
	CHECK_EQ(parse(&p, b, n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, 2);
	CHECK_EQ(p.vlan[1], 101);
	/* a length shorter than the frame is Ethernet padding */
	memset(b + n, 0, 20);
	CHECK_EQ(parse(&p, b, n + 20, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, PLAIN.datalen);
	/* PPP's own protocols (LCP) are not IP */
	EXPECT_OTHER(l2, pppoe_l2(l2, 0, 20, 0xc021), 18, WEIR_DLT_EN10MB);

	/* lies: a length past the whole frame, a length with no room for the protocol */
	len = pppoe_l2(l2, 0, v4len + 1, 0x0021);
	n = frame_v4(b, l2, len, 0, 0, &PLAIN);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_PPPOE_LEN);
	put16(b + 18, 0);
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_PPPOE_LEN);
	/* ... unless a snap length cut the frame: then the length may run past what was captured */
	put16(b + 18, v4len + 100);
	CHECK_EQ(parse_exact(&p, b, n, n + 100, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_TCP);
	/* another version or type; a discovery code on the session EtherType */
	pppoe_l2(l2, 0, v4len, 0x0021);
	memcpy(b, l2, 22);
	b[14] = 0x21;
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_PPPOE);
	b[14] = 0x11;
	b[15] = 0x09; /* PADI */
	EXPECT_MAL(b, n, n, WEIR_DLT_EN10MB, WEIR_MAL_BAD_PPPOE);
	/* the header or the protocol cut short */
	for (unsigned cut = 14; cut < 22; cut++)
		EXPECT_MAL(l2, cut, cut + 100, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_L2);
}

static void test_ppp(void)
{
	static const uint8_t hdlc_v4[4] = {0xff, 0x03, 0x00, 0x21}, bare_v6[2] = {0x00, 0x57};
	static const uint8_t pfc_v4[1] = {0x21}, chdlc[4] = {0x0f, 0x00, 0x08, 0x00};
	static const int lts[2] = {WEIR_DLT_PPP, WEIR_DLT_PPP_SERIAL};
	for (unsigned i = 0; i < 2; i++) {
		EXPECT_TCP(hdlc_v4, 4, lts[i], 0, BIT(PPP));
		EXPECT_TCP(bare_v6, 2, lts[i], 1, BIT(PPP));
		EXPECT_TCP(pfc_v4, 1, lts[i], 0, BIT(PPP)); /* protocol field compressed */
		/* Cisco HDLC on a PPP link (nDPI's BGP_Cisco_hdlc_slarp.pcap) */
		EXPECT_TCP(chdlc, 4, lts[i], 0, BIT(CHDLC));
		static const uint8_t lcp[4] = {0xff, 0x03, 0xc0, 0x21};
		EXPECT_OTHER(lcp, 4, 10, lts[i]);
		/* a 2-byte protocol cut short; a frame too short for anything */
		EXPECT_MAL(hdlc_v4, 3, 3, lts[i], WEIR_MAL_TRUNC_L2);
		EXPECT_MAL(hdlc_v4, 1, 1, lts[i], WEIR_MAL_TRUNC_L2);
		EXPECT_MAL(pfc_v4, 1, 1, lts[i], WEIR_MAL_TRUNC_L2);
	}
}

static void test_chdlc(void)
{
	uint8_t l2[16];
	unsigned len = 0;
	static const uint8_t hdr[2] = {0x8f, 0x00};
	add(l2, &len, hdr, 2);
	add16(l2, &len, 0x86dd);
	EXPECT_TCP(l2, len, WEIR_DLT_C_HDLC, 1, BIT(CHDLC));
	/* MPLS inside (nDPI's BGP_redist.pcap) */
	len = 2;
	add16(l2, &len, 0x8847);
	add_label(l2, &len, 24000, 1);
	EXPECT_TCP(l2, len, WEIR_DLT_C_HDLC, 0, BIT(CHDLC) | BIT(MPLS));
	put16(l2 + 2, 0x8035); /* SLARP, the keepalives */
	EXPECT_OTHER(l2, 4, 20, WEIR_DLT_C_HDLC);
	for (unsigned cut = 0; cut < 4; cut++)
		EXPECT_MAL(l2, cut, cut, WEIR_DLT_C_HDLC, WEIR_MAL_TRUNC_L2);
}

static void test_llc_snap(void)
{
	uint8_t l2[64];
	static const uint8_t snap_ip[8] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00};
	unsigned len = 0;
	add(l2, &len, MACS, 12);
	add16(l2, &len, 8 + 20 + 20 + PLAIN.datalen); /* an 802.3 length */
	add(l2, &len, snap_ip, 8);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(LLC));
	/* behind a tag, the length in the tag's type field */
	len = 12;
	add16(l2, &len, 0x8100);
	add16(l2, &len, 9);
	add16(l2, &len, 0x05dc);
	add(l2, &len, snap_ip, 8);
	EXPECT_TCP(l2, len, WEIR_DLT_EN10MB, 0, BIT(LLC) | BIT(VLAN));
	for (unsigned cut = 18; cut < 26; cut++)
		EXPECT_MAL(l2, cut, cut, WEIR_DLT_EN10MB, WEIR_MAL_TRUNC_L2);
	/* spanning tree (SAP 0x42), Cisco's own SNAP (CDP) */
	static const uint8_t stp[3] = {0x42, 0x42, 0x03},
	                     cdp[8] = {0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0};
	len = 12;
	add16(l2, &len, 38);
	add(l2, &len, stp, 3);
	EXPECT_OTHER(l2, len, 35, WEIR_DLT_EN10MB);
	len = 14;
	add(l2, &len, cdp, 8);
	EXPECT_OTHER(l2, len, 30, WEIR_DLT_EN10MB);
	/* Linux cooked: protocol 4 is 802.2 */
	uint8_t sll[32] = {0, 4, 0, 1, 0, 6};
	len = 14;
	add16(sll, &len, 4);
	add(sll, &len, snap_ip, 8);
	EXPECT_TCP(sll, len, WEIR_DLT_LINUX_SLL, 0, BIT(LLC));
}

static void test_fddi(void)
{
	uint8_t l2[32];
	static const uint8_t snap_ip6[8] = {0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd};
	unsigned len = 0;
	l2[len++] = 0x50; /* frame control: asynchronous LLC, priority 0 */
	add(l2, &len, MACS, 12);
	add(l2, &len, snap_ip6, 8);
	EXPECT_TCP(l2, len, WEIR_DLT_FDDI, 1, BIT(LLC));
	l2[0] = 0x57;
	EXPECT_TCP(l2, len, WEIR_DLT_FDDI, 1, BIT(LLC));
	l2[0] = 0x41; /* station management */
	EXPECT_OTHER(l2, len, 40, WEIR_DLT_FDDI);
	l2[0] = 0x50;
	for (unsigned cut = 0; cut < 21; cut++)
		EXPECT_MAL(l2, cut, cut, WEIR_DLT_FDDI, WEIR_MAL_TRUNC_L2);
}

/* The Ethernet decoder entered from an EtherType at an offset, as for Ethernet in a tunnel. */
static void test_ethertype_entry(void)
{
	uint8_t b[FRAME_MAX];
	struct weir_pkt p;
	unsigned reason = NO_REASON;
	static const uint16_t tp[1] = {0x8100}, tc[1] = {33};
	memset(b, 0xee, 50); /* whatever came before */
	unsigned l2 = 50 + put_eth(b + 50, tp, tc, 1, 0x0800);
	unsigned n = l2 + frame_v4(b + l2, NULL, 0, 0, 0, &PLAIN);
	memset(&p, 0, sizeof(p));
	p.wscale = 0xff;
	CHECK_EQ(weir_link_ethertype(&p, b, n, n, 64, 0x8100, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(reason, NO_REASON);
	CHECK_EQ(p.l3_off, l2);
	CHECK_EQ(p.nvlan, 1);
	CHECK_EQ(p.vlan[0], 33);
	CHECK_EQ(p.encap, BIT(VLAN));
	check_seg(&p, &PLAIN);
	/* an entry past the captured bytes */
	memset(&p, 0, sizeof(p));
	CHECK_EQ(weir_link_ethertype(&p, b, n, n, n + 1, 0x0800, &reason), WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_TRUNC_L2);
	/* an entry so deep the headers below could not be described by 16-bit offsets: the same
	 * VLAN-tagged IPv4 packet 65,200 bytes into a frame */
	enum { DEEP = 65200 };
	uint8_t *big = calloc(1, DEEP + FRAME_MAX);
	CHECK(big != NULL);
	if (!big)
		return;
	memcpy(big + DEEP - 64, b, n);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(weir_link_ethertype(&p, big, DEEP - 64 + n, DEEP - 64 + n, DEEP, 0x8100, &reason),
	         WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_TRUNC_L2);
	/* 100 bytes less deep, it is decoded */
	memmove(big + DEEP - 164, big + DEEP - 64, n);
	memset(&p, 0, sizeof(p));
	CHECK_EQ(weir_link_ethertype(&p, big, DEEP - 164 + n, DEEP - 164 + n, DEEP - 100, 0x8100,
	                             &reason),
	         WEIR_PARSE_TCP);
	CHECK_EQ(p.l3_off, DEEP - 100 + 4);
	free(big);
}

static void test_linktypes_known(void)
{
	static const int known[] = {0, 1, 9, 10, 12, 50, 101, 104, 108, 113, 228, 229, 276};
	static const int unknown[] = {-1, 2, 105, 127, 147, 239, 1000};
	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		CHECK(weir_parse_linktype_known(known[i]));
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(!weir_parse_linktype_known(unknown[i]));
	/* plain Ethernet and the other link types directly under IP cross no encapsulation */
	uint8_t l2[16];
	EXPECT_TCP(l2, eth_plain(l2, 0x0800), WEIR_DLT_EN10MB, 0, 0);
}

int main(void)
{
	test_pbb();
	test_fabricpath();
	test_mpls();
	test_pppoe();
	test_ppp();
	test_chdlc();
	test_llc_snap();
	test_fddi();
	test_ethertype_entry();
	test_linktypes_known();
	return UNIT_DONE();
}
