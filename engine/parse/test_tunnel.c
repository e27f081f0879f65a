/* test_tunnel.c — each tunnel header decoder on its own, then whole tunneled frames through
 * weir_parse_cfg. */
#include "parse/parse.h"
#include "parse/tunnel.h"
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

/* ---- byte strings ------------------------------------------------------------------------ */

/* A frame under construction; headers are appended as hex text and lengths patched after. */
struct fb {
	uint8_t b[1024];
	unsigned n;
};

/* Appends the bytes of a hex string (spaces ignored). */
static void hex(struct fb *f, const char *h)
{
	while (*h) {
		if (*h == ' ') {
			h++;
			continue;
		}
		char two[3] = {h[0], h[1], 0};
		f->b[f->n++] = (uint8_t)strtoul(two, NULL, 16);
		h += 2;
	}
}

static void set_be16(uint8_t *at, unsigned v)
{
	at[0] = (uint8_t)(v >> 8);
	at[1] = (uint8_t)v;
}

/* Outer and inner headers; each returns where it starts, for fix() once the frame is complete. */
static unsigned eth(struct fb *f, const char *type)
{
	unsigned at = f->n;
	hex(f, "020000000001 020000000002");
	hex(f, type);
	return at;
}

static unsigned ipv4(struct fb *f, const char *proto, const char *src, const char *dst)
{
	unsigned at = f->n;
	hex(f, "4500 0000 0001 0000 40");
	hex(f, proto);
	hex(f, "0000");
	hex(f, src);
	hex(f, dst);
	return at;
}

static unsigned ipv6(struct fb *f, const char *nh, const char *src, const char *dst)
{
	unsigned at = f->n;
	hex(f, "60000000 0000");
	hex(f, nh);
	hex(f, "40");
	hex(f, src);
	hex(f, dst);
	return at;
}

static unsigned udp(struct fb *f, const char *sport, const char *dport)
{
	unsigned at = f->n;
	hex(f, sport);
	hex(f, dport);
	hex(f, "0000 0000");
	return at;
}

/* A TCP SYN from port 0x9c40 (40000) to 80 with 3 bytes of payload. */
static void tcp(struct fb *f)
{
	hex(f, "9c40 0050 00000001 00000000 5002 ffff 0000 0000 616263");
}

static void fix_ipv4(struct fb *f, unsigned at)
{
	set_be16(f->b + at + 2, f->n - at);
}

static void fix_ipv6(struct fb *f, unsigned at)
{
	set_be16(f->b + at + 4, f->n - at - 40);
}

static void fix_udp(struct fb *f, unsigned at)
{
	set_be16(f->b + at + 4, f->n - at);
}

#define V4_OUT_SRC "0a000001"
#define V4_OUT_DST "0a000002"
#define V4_IN_SRC  "c0a80001"
#define V4_IN_DST  "c0a80002"
#define V6_IN_SRC  "20010db8000000000000000000000001"
#define V6_IN_DST  "20010db8000000000000000000000002"

/* Parses f with cfg and checks the inner TCP segment of tcp(). */
static struct weir_pkt parse_tcp_frame(const struct fb *f, const struct weir_config *cfg, int v6)
{
	struct weir_pkt p;
	unsigned reason = 0;
	p.frame = f->b; /* the caller's to set, as the worker does */
	CHECK_EQ(weir_parse_cfg(&p, f->b, f->n, f->n, WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_TCP);
	CHECK_EQ(reason, WEIR_MAL_COUNT);
	CHECK_EQ(p.sport, 40000);
	CHECK_EQ(p.dport, 80);
	CHECK_EQ(p.tcp_flags, 0x02);
	CHECK_EQ(p.payload_len, 3);
	CHECK(p.payload && !memcmp(p.payload, "abc", 3));
	CHECK_EQ(p.ip_ver, v6 ? 6 : 4);
	CHECK_EQ(p.src[0], v6 ? 0x20 : 0xc0);
	CHECK_EQ(p.dst[v6 ? 15 : 3], 2);
	CHECK_EQ(p.outer_l3_off, 14);
	return p;
}

/* ---- the decoders alone ----------------------------------------------------------------- */

static int dec(int (*fn)(const uint8_t *, uint32_t, struct weir_tun_hdr *), const char *h,
               struct weir_tun_hdr *out)
{
	struct fb f = {.n = 0};
	hex(&f, h);
	return fn(f.b, f.n, out);
}

static void test_gre(void)
{
	struct weir_tun_hdr h;
	CHECK_EQ(dec(weir_tun_gre, "0000 0800 45", &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 4);
	CHECK_EQ(h.inner, WEIR_INNER_IPV4);
	CHECK_EQ(h.type, WEIR_TUN_GRE);
	CHECK_EQ(h.keyed, 0);
	/* checksum, key, sequence: 4 + 3 x 4 bytes; the key names the tunnel */
	CHECK_EQ(dec(weir_tun_gre, "b000 86dd 00000000 01020304 00000009 60", &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 16);
	CHECK_EQ(h.inner, WEIR_INNER_IPV6);
	CHECK_EQ(h.keyed, 1);
	CHECK_EQ(h.id, 0x01020304);
	CHECK_EQ(dec(weir_tun_gre, "2000 6558 0000002a 02", &h), WEIR_TUN_OK);
	CHECK_EQ(h.inner, WEIR_INNER_ETH);
	CHECK_EQ(h.id, 42);
	CHECK_EQ(dec(weir_tun_gre, "2000 0800 000000", &h), WEIR_TUN_BAD); /* key cut short */
	CHECK_EQ(dec(weir_tun_gre, "b000 0800 00000000 00000001", &h),
	         WEIR_TUN_BAD); /* no room for S */
	CHECK_EQ(dec(weir_tun_gre, "0800", &h), WEIR_TUN_BAD);
	CHECK_EQ(dec(weir_tun_gre, "0002 0800 45", &h), WEIR_TUN_BAD); /* version 2 */
	CHECK_EQ(dec(weir_tun_gre, "4000 0800 00000000 45", &h),
	         WEIR_TUN_UNSUPPORTED);                                              /* routing */
	CHECK_EQ(dec(weir_tun_gre, "0000 8847 00001140", &h), WEIR_TUN_UNSUPPORTED); /* MPLS */
	CHECK_EQ(dec(weir_tun_gre, "0000 880b ff03 0021 45", &h), WEIR_TUN_OK); /* PPP in v0 too */
	CHECK_EQ(h.len, 8);

	/* version 1 (PPTP): key = payload length + call id, different each way: not a flow key */
	CHECK_EQ(dec(weir_tun_gre, "3081 880b 00140005 00000001 00000002 ff03 0021 45", &h),
	         WEIR_TUN_OK);
	CHECK_EQ(h.len, 20);
	CHECK_EQ(h.inner, WEIR_INNER_IPV4);
	CHECK_EQ(h.keyed, 0);
	CHECK_EQ(dec(weir_tun_gre, "2001 880b 00140005 21 45", &h), WEIR_TUN_OK); /* compressed */
	CHECK_EQ(h.len, 9);
	CHECK_EQ(dec(weir_tun_gre, "2001 880b 00140005 0057 60", &h), WEIR_TUN_OK);
	CHECK_EQ(h.inner, WEIR_INNER_IPV6);
	CHECK_EQ(h.len, 10);
	CHECK_EQ(dec(weir_tun_gre, "2001 880b 00140005 ff03 c021 01", &h),
	         WEIR_TUN_UNSUPPORTED);                                               /* LCP */
	CHECK_EQ(dec(weir_tun_gre, "2081 880b 00000005 00000001", &h), WEIR_TUN_NOT); /* ack only */
	CHECK_EQ(dec(weir_tun_gre, "0001 880b 00000005", &h), WEIR_TUN_BAD);      /* K missing */
	CHECK_EQ(dec(weir_tun_gre, "2001 0800 00000005 45", &h), WEIR_TUN_BAD);   /* not PPP */
	CHECK_EQ(dec(weir_tun_gre, "2001 880b 00140005 ff03", &h), WEIR_TUN_BAD); /* no protocol */
}

static void test_erspan(void)
{
	struct weir_tun_hdr h;
	/* type II: GRE with a sequence number, 8-byte ERSPAN header (session 0x155), Ethernet */
	CHECK_EQ(dec(weir_tun_gre, "1000 88be 00000001 1000 0155 00000000 02", &h), WEIR_TUN_OK);
	CHECK_EQ(h.type, WEIR_TUN_ERSPAN);
	CHECK_EQ(h.len, 16);
	CHECK_EQ(h.inner, WEIR_INNER_ETH);
	CHECK_EQ(h.id, 0x155);
	CHECK_EQ(h.keyed, 0);
	/* type I: no sequence number, no ERSPAN header */
	CHECK_EQ(dec(weir_tun_gre, "0000 88be 02", &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 4);
	/* type III: 12 bytes, and the platform subheader when the O bit is set */
	CHECK_EQ(dec(weir_tun_gre, "1000 22eb 00000001 2000 0001 00000000 0000 0000 02", &h),
	         WEIR_TUN_OK);
	CHECK_EQ(h.len, 20);
	CHECK_EQ(dec(weir_tun_gre,
	             "1000 22eb 00000001 2000 0001 00000000 0000 0001 0000000000000000 02", &h),
	         WEIR_TUN_OK);
	CHECK_EQ(h.len, 28);
	CHECK_EQ(dec(weir_tun_gre, "1000 22eb 00000001 2000 0001 00000000 0000 0001 00", &h),
	         WEIR_TUN_BAD);
	CHECK_EQ(dec(weir_tun_gre, "1000 88be 00000001 1000", &h), WEIR_TUN_BAD);
}

/* 802.11 headers: frame control, duration, three addresses, sequence control. */
#define WLAN_DATA     "0802 0000 020000000001 020000000002 020000000003 0000"
#define WLAN_QOS      "8802 0000 020000000001 020000000002 020000000003 0000"
#define WLAN_QOS_4ADR "8803 0000 020000000001 020000000002 020000000003 0000 020000000004"
#define LLC_SNAP_IPV4 "aaaa03 000000 0800 45"

static void test_wlan(void)
{
	struct weir_tun_hdr h;
	/* a data frame: LLC/SNAP follows the 24-byte header */
	CHECK_EQ(dec(weir_tun_wlan, WLAN_DATA LLC_SNAP_IPV4, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 24);
	CHECK_EQ(h.inner, WEIR_INNER_LLC);
	/* QoS data: 2 more bytes; with To DS and From DS the fourth address too */
	CHECK_EQ(dec(weir_tun_wlan, WLAN_QOS "0000" LLC_SNAP_IPV4, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 26);
	CHECK_EQ(dec(weir_tun_wlan, WLAN_QOS_4ADR "0000" LLC_SNAP_IPV4, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 32);
	/* +HTC: the HT control field after the QoS control field */
	CHECK_EQ(
	    dec(weir_tun_wlan,
	        "8882 0000 020000000001 020000000002 020000000003 0000 0000 00000000" LLC_SNAP_IPV4,
	        &h),
	    WEIR_TUN_OK);
	CHECK_EQ(h.len, 30);
	/* an A-MSDU (QoS control bit 7): the first subframe's header, its MSDU of 9 bytes */
	CHECK_EQ(dec(weir_tun_wlan,
	             WLAN_QOS "8000 020000000001 020000000002 0009" LLC_SNAP_IPV4
	                      "000000 020000000001 020000000002 0009" LLC_SNAP_IPV4,
	             &h),
	         WEIR_TUN_OK);
	CHECK_EQ(h.len, 26 + 14);
	CHECK_EQ(h.inner, WEIR_INNER_LLC);
	/* its length past the frame, or too short for LLC/SNAP */
	CHECK_EQ(
	    dec(weir_tun_wlan, WLAN_QOS "8000 020000000001 020000000002 000a" LLC_SNAP_IPV4, &h),
	    WEIR_TUN_BAD);
	CHECK_EQ(
	    dec(weir_tun_wlan, WLAN_QOS "8000 020000000001 020000000002 0007" LLC_SNAP_IPV4, &h),
	    WEIR_TUN_BAD);
	CHECK_EQ(dec(weir_tun_wlan, WLAN_QOS "8000 020000000001 0200", &h), WEIR_TUN_BAD);
	/* encrypted: counted as not decoded */
	CHECK_EQ(dec(weir_tun_wlan,
	             "8842 0000 020000000001 020000000002 020000000003 0000 0000" LLC_SNAP_IPV4,
	             &h),
	         WEIR_TUN_UNSUPPORTED);
	/* management (beacon), control, null data: no packet */
	CHECK_EQ(dec(weir_tun_wlan, "8000 0000 ffffffffffff 020000000002 020000000002 0000 00", &h),
	         WEIR_TUN_NOT);
	CHECK_EQ(dec(weir_tun_wlan, "d400 0000 020000000001 020000000002 020000000003 0000", &h),
	         WEIR_TUN_NOT);
	CHECK_EQ(dec(weir_tun_wlan, "4801 0000 020000000001 020000000002 020000000003 0000", &h),
	         WEIR_TUN_NOT);
	/* cut short; protocol version 1 */
	CHECK_EQ(dec(weir_tun_wlan, "0802 0000 020000000001", &h), WEIR_TUN_BAD);
	CHECK_EQ(dec(weir_tun_wlan, WLAN_DATA "aaaa03", &h), WEIR_TUN_BAD);
	CHECK_EQ(dec(weir_tun_wlan, WLAN_QOS_4ADR, &h), WEIR_TUN_BAD);
	CHECK_EQ(dec(weir_tun_wlan,
	             "0902 0000 020000000001 020000000002 020000000003 0000" LLC_SNAP_IPV4, &h),
	         WEIR_TUN_BAD);

	/* in GRE: Aruba's protocol types 0x8200-0x8370 (step 0x10) and 0x9000; the key is kept */
	CHECK_EQ(dec(weir_tun_gre, "2000 8240 00000009" WLAN_DATA LLC_SNAP_IPV4, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 8 + 24);
	CHECK_EQ(h.inner, WEIR_INNER_LLC);
	CHECK_EQ(h.type, WEIR_TUN_GRE);
	CHECK_EQ(h.keyed, 1);
	CHECK_EQ(h.id, 9);
	CHECK_EQ(dec(weir_tun_gre, "0000 8370" WLAN_DATA LLC_SNAP_IPV4, &h), WEIR_TUN_OK);
	CHECK_EQ(dec(weir_tun_gre, "0000 9000" WLAN_DATA LLC_SNAP_IPV4, &h), WEIR_TUN_OK);
	CHECK_EQ(dec(weir_tun_gre, "0000 8380" WLAN_DATA LLC_SNAP_IPV4, &h), WEIR_TUN_UNSUPPORTED);
	CHECK_EQ(dec(weir_tun_gre, "0000 8241" WLAN_DATA LLC_SNAP_IPV4, &h), WEIR_TUN_UNSUPPORTED);
	CHECK_EQ(dec(weir_tun_gre, "0000 8200 08", &h), WEIR_TUN_BAD);
}

static void test_vxlan_geneve(void)
{
	struct weir_tun_hdr h;
	CHECK_EQ(dec(weir_tun_vxlan, "08000000 12345600 02", &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 8);
	CHECK_EQ(h.id, 0x123456);
	CHECK_EQ(h.keyed, 1);
	CHECK_EQ(h.inner, WEIR_INNER_ETH);
	CHECK_EQ(dec(weir_tun_vxlan, "00000000 12345600 02", &h), WEIR_TUN_BAD); /* I flag clear */
	CHECK_EQ(dec(weir_tun_vxlan, "08000000 123456", &h), WEIR_TUN_BAD);

	/* two option words are skipped by the length field */
	CHECK_EQ(dec(weir_tun_geneve, "02006558 00002a00 01020304 05060708 02", &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 16);
	CHECK_EQ(h.id, 42);
	CHECK_EQ(h.keyed, 1);
	CHECK_EQ(h.inner, WEIR_INNER_ETH);
	CHECK_EQ(dec(weir_tun_geneve, "00000800 00000100 45", &h), WEIR_TUN_OK);
	CHECK_EQ(h.inner, WEIR_INNER_IPV4);
	CHECK_EQ(dec(weir_tun_geneve, "02006558 00002a00 01020304", &h),
	         WEIR_TUN_BAD);                                                   /* options cut */
	CHECK_EQ(dec(weir_tun_geneve, "40006558 00002a00 02", &h), WEIR_TUN_BAD); /* version 1 */
	CHECK_EQ(dec(weir_tun_geneve, "00008847 00002a00 00", &h), WEIR_TUN_UNSUPPORTED); /* MPLS */
}

static void test_gtpu(void)
{
	struct weir_tun_hdr h;
	CHECK_EQ(dec(weir_tun_gtpu, "30ff 0004 01020304 45000000", &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 8);
	CHECK_EQ(h.inner, WEIR_INNER_IPV4);
	CHECK_EQ(h.keyed, 0); /* the TEID differs in each direction */
	CHECK_EQ(dec(weir_tun_gtpu, "32ff 0008 01020304 00010000 60", &h), WEIR_TUN_OK); /* S */
	CHECK_EQ(h.len, 12);
	CHECK_EQ(h.inner, WEIR_INNER_IPV6);
	/* E: a PDU session container (type 0x85, one word) then no more */
	CHECK_EQ(dec(weir_tun_gtpu, "34ff 000c 01020304 00000085 01000900 45", &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 16);
	/* two extension headers chained */
	CHECK_EQ(dec(weir_tun_gtpu, "34ff 0010 01020304 00000085 01000985 01000900 45", &h),
	         WEIR_TUN_OK);
	CHECK_EQ(h.len, 20);
	CHECK_EQ(dec(weir_tun_gtpu, "34ff 000c 01020304 00000085 00000900 45", &h),
	         WEIR_TUN_BAD); /* len 0 */
	CHECK_EQ(dec(weir_tun_gtpu, "34ff 000c 01020304 00000085 02000900", &h),
	         WEIR_TUN_BAD);                                                  /* runs out */
	CHECK_EQ(dec(weir_tun_gtpu, "30ff 0004 01020304 55", &h), WEIR_TUN_BAD); /* not IP */
	CHECK_EQ(dec(weir_tun_gtpu, "3001 0000 00000000", &h), WEIR_TUN_NOT);    /* echo */
	CHECK_EQ(dec(weir_tun_gtpu, "30ff 0000 01020304", &h), WEIR_TUN_NOT);    /* empty */
	CHECK_EQ(dec(weir_tun_gtpu, "50ff 0004 01020304 45", &h), WEIR_TUN_BAD); /* version 2 */
	CHECK_EQ(dec(weir_tun_gtpu, "20ff 0004 01020304 45", &h), WEIR_TUN_BAD); /* GTP' (PT 0) */
	CHECK_EQ(dec(weir_tun_gtpu, "32ff 0004 01020304 00", &h), WEIR_TUN_BAD); /* S cut */
}

/* An IPv6 header of payload length plen, then plen bytes, as hex. */
static void teredo_ipv6(struct fb *f, unsigned plen)
{
	unsigned at = ipv6(f, "3b", "20010000413700000000000000000001", V6_IN_DST);
	for (unsigned i = 0; i < plen; i++)
		hex(f, "00");
	fix_ipv6(f, at);
}

static void test_teredo(void)
{
	struct weir_tun_hdr h;
	struct fb f = {.n = 0};
	teredo_ipv6(&f, 4);
	CHECK_EQ(weir_tun_teredo(f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 0);
	CHECK_EQ(h.inner, WEIR_INNER_IPV6);
	CHECK_EQ(weir_tun_teredo(f.b, f.n - 1, &h),
	         WEIR_TUN_NOT); /* length disagrees: not Teredo */
	f.n = 0;
	hex(&f, "0000 1234 c0a80001"); /* origin indication */
	teredo_ipv6(&f, 0);
	CHECK_EQ(weir_tun_teredo(f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 8);
	f.n = 0;
	hex(&f, "0001 02 01 aabb cc 0102030405060708 00"); /* authentication: id 2, auth 1 */
	hex(&f, "0000 1234 c0a80001");
	teredo_ipv6(&f, 0);
	CHECK_EQ(weir_tun_teredo(f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 16 + 8);
	f.n = 0;
	hex(&f, "0001 ff ff 00");
	CHECK_EQ(weir_tun_teredo(f.b, f.n, &h), WEIR_TUN_NOT);
}

static void test_ayiya(void)
{
	struct weir_tun_hdr h;
	/* identity 2^4 = 16 bytes, signature 5 words = 20 bytes, opcode forward, next header 41 */
	struct fb f = {.n = 0};
	hex(&f, "41 52 11 29 00000000");
	for (int i = 0; i < 36; i++)
		hex(&f, "ee");
	hex(&f, "60");
	CHECK_EQ(weir_tun_ayiya(f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.len, 44);
	CHECK_EQ(h.inner, WEIR_INNER_IPV6);
	CHECK_EQ(weir_tun_ayiya(f.b, 43, &h), WEIR_TUN_BAD);
	f.b[3] = 4;
	CHECK_EQ(weir_tun_ayiya(f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.inner, WEIR_INNER_IPV4);
	f.b[3] = 17;
	CHECK_EQ(weir_tun_ayiya(f.b, f.n, &h), WEIR_TUN_UNSUPPORTED);
	f.b[2] = 0x12; /* opcode echo request */
	CHECK_EQ(weir_tun_ayiya(f.b, f.n, &h), WEIR_TUN_NOT);
	CHECK_EQ(weir_tun_ayiya(f.b, 7, &h), WEIR_TUN_BAD);
}

/* The UDP dispatch: which ports are matched on which end. */
static void test_udp_ports(void)
{
	struct weir_config cfg = {0};
	cfg.tunnel_depth = 3;
	cfg.vxlan_port = 4789;
	cfg.gtpu_port = 2152;
	struct weir_tun_hdr h;
	struct fb f = {.n = 0};
	udp(&f, "c000", "12b5"); /* to 4789 */
	hex(&f, "08000000 00000100 02");
	CHECK_EQ(weir_tun_decode(&cfg, 17, f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.type, WEIR_TUN_VXLAN);
	CHECK_EQ(h.len, 16);
	set_be16(f.b, 4789); /* from 4789: VXLAN's source port is a hash, not a sign */
	set_be16(f.b + 2, 0xc000);
	CHECK_EQ(weir_tun_decode(&cfg, 17, f.b, f.n, &h), WEIR_TUN_NOT);
	cfg.vxlan_port = 0;
	set_be16(f.b + 2, 4789);
	CHECK_EQ(weir_tun_decode(&cfg, 17, f.b, f.n, &h), WEIR_TUN_NOT); /* disabled */
	f.n = 0;
	udp(&f, "0868", "c000"); /* from 2152: GTP-U replies come from its port */
	hex(&f, "30ff 0004 01020304 45000000");
	CHECK_EQ(weir_tun_decode(&cfg, 17, f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.type, WEIR_TUN_GTPU);
	CHECK_EQ(h.len, 16);
	fix_udp(&f, 0);
	set_be16(f.b + 4, 8 + 8); /* the UDP length leaves the G-PDU without its packet */
	CHECK_EQ(weir_tun_decode(&cfg, 17, f.b, f.n, &h), WEIR_TUN_NOT);
	set_be16(f.b + 4, 8 + 7); /* ... or cuts its header */
	CHECK_EQ(weir_tun_decode(&cfg, 17, f.b, f.n, &h), WEIR_TUN_BAD);
	CHECK_EQ(weir_tun_decode(&cfg, 17, f.b, 7, &h), WEIR_TUN_NOT); /* no UDP header */
	CHECK_EQ(weir_tun_decode(&cfg, 4, f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.type, WEIR_TUN_IPIP);
	CHECK_EQ(h.inner, WEIR_INNER_IPV4);
	CHECK_EQ(weir_tun_decode(&cfg, 41, f.b, f.n, &h), WEIR_TUN_OK);
	CHECK_EQ(h.inner, WEIR_INNER_IPV6);
	CHECK_EQ(weir_tun_decode(&cfg, 50, f.b, f.n, &h), WEIR_TUN_NOT); /* ESP */
}

/* ---- whole frames ----------------------------------------------------------------------- */

/* A tunneled TCP segment: Ethernet (outer_eth: what follows the MACs), IPv4 of protocol proto
 * ("11": UDP from sport to dport, else no UDP header), the tunnel header hdr, then an Ethernet
 * header when inner_eth names its type, and IPv4 (or IPv6 when v6)/TCP. Returns where the
 * tunnel header starts. */
static unsigned tunneled(struct fb *f, const char *outer_eth, const char *proto, const char *sport,
                         const char *dport, const char *hdr, const char *inner_eth, int v6)
{
	eth(f, outer_eth);
	const unsigned o = ipv4(f, proto, V4_OUT_SRC, V4_OUT_DST);
	const int is_udp = !strcmp(proto, "11");
	const unsigned d = is_udp ? udp(f, sport, dport) : 0;
	const unsigned h = f->n;
	hex(f, hdr);
	if (inner_eth)
		eth(f, inner_eth);
	const unsigned i =
	    v6 ? ipv6(f, "06", V6_IN_SRC, V6_IN_DST) : ipv4(f, "06", V4_IN_SRC, V4_IN_DST);
	tcp(f);
	if (v6)
		fix_ipv6(f, i);
	else
		fix_ipv4(f, i);
	if (is_udp)
		fix_udp(f, d);
	fix_ipv4(f, o);
	return h;
}

/* Ethernet/IPv4/GRE with key 7/IPv4/TCP. */
static void frame_gre(struct fb *f)
{
	tunneled(f, "0800", "2f", NULL, NULL, "2000 0800 00000007", NULL, 0);
}

/* Ethernet/IPv4/UDP to 4754/GRE/IPv6/TCP. */
static void frame_gre_udp(struct fb *f)
{
	tunneled(f, "0800", "11", "c000", "1292", "0000 86dd", NULL, 1);
}

/* ERSPAN type II (session 0x155) mirroring an Ethernet/IPv4/TCP frame. */
static void frame_erspan(struct fb *f)
{
	tunneled(f, "0800", "2f", NULL, NULL, "1000 88be 00000001 1000 0155 00000000", "0800", 0);
}

/* Aruba: GRE 0x8240, an 802.11 QoS data frame holding an A-MSDU of two subframes, each LLC/SNAP,
 * IPv4/TCP: the first one's length patched, the second a copy of it after 1 byte of padding. */
static void frame_aruba(struct fb *f)
{
	const unsigned h = tunneled(f, "0800", "2f", NULL, NULL,
	                            "0000 8240" WLAN_QOS "8000 020000000001 020000000002 0000"
	                            "aaaa03 000000 0800",
	                            NULL, 0);
	const unsigned sub = h + 4 + 26, msdu = f->n - sub - 14; /* 8 + 43 */
	set_be16(f->b + sub + 12, msdu);
	hex(f, "00");
	for (unsigned i = 0; i < 14 + msdu; i++)
		f->b[f->n + i] = f->b[sub + i];
	f->n += 14 + msdu;
	fix_ipv4(f, 14);
}

/* PPTP: GRE version 1 with sequence number, PPP with address and control, IPv4/TCP. */
static void frame_pptp(struct fb *f)
{
	tunneled(f, "0800", "2f", NULL, NULL, "3001 880b 0000 0005 00000001 ff03 0021", NULL, 0);
}

static void test_frame_gre(const struct weir_config *cfg)
{
	struct fb f = {.n = 0};
	frame_gre(&f);
	struct weir_pkt p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_GRE);
	CHECK_EQ(p.tun_depth, 1);
	CHECK_EQ(p.tun_keyed, WEIR_TUN_GRE);
	CHECK_EQ(p.tun_id, 7);
	CHECK_EQ(p.l3_off, 14 + 20 + 8);
	CHECK_EQ(p.l4_off, 14 + 20 + 8 + 20);
	CHECK_EQ(p.ip_len, 43);

	/* the same inside UDP to 4754 (GRE-in-UDP) */
	struct fb u = {.n = 0};
	frame_gre_udp(&u);
	p = parse_tcp_frame(&u, cfg, 1);
	CHECK_EQ(p.tun_type, WEIR_TUN_GRE);
	CHECK_EQ(p.tun_keyed, 0);
	CHECK_EQ(p.l3_off, 14 + 20 + 8 + 4);

	f.n = 0;
	frame_erspan(&f);
	p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_ERSPAN);
	CHECK_EQ(p.tun_keyed, 0); /* a mirror session names no segment: the flow is keyed as seen */
	CHECK_EQ(p.l3_off, 14 + 20 + 4 + 4 + 8 + 14);
	f.n = 0;
	frame_pptp(&f);
	p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_GRE);
	CHECK_EQ(p.tun_keyed, 0);
	CHECK_EQ(p.l3_off, 14 + 20 + 12 + 4);

	/* Aruba's 802.11 A-MSDU: the first subframe's packet */
	f.n = 0;
	frame_aruba(&f);
	p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_GRE);
	CHECK_EQ(p.tun_keyed, 0);
	CHECK_EQ(p.l3_off, 14 + 20 + 4 + 26 + 14 + 8);
	CHECK_EQ(p.ip_len, 43);

	/* an unknown GRE payload is counted, not passed as plain traffic */
	f.n = 0;
	frame_gre(&f);
	f.b[14 + 20 + 2] = 0x88;
	f.b[14 + 20 + 3] = 0x47;
	unsigned reason = 0;
	struct weir_pkt q;
	CHECK_EQ(weir_parse_cfg(&q, f.b, f.n, f.n, WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_TUNNEL_UNSUPPORTED);
	/* a GRE header cut by the IP length */
	set_be16(f.b + 14 + 2, 20 + 6);
	CHECK_EQ(weir_parse_cfg(&q, f.b, f.n, f.n, WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_BAD_TUNNEL);
}

/* VXLAN (VNI 42) in a frame tagged 100 carrying an Ethernet frame tagged 5. */
static void frame_vxlan(struct fb *f)
{
	tunneled(f, "8100 0064 0800", "11", "d431", "12b5", "08000000 00002a00", "8100 0005 86dd",
	         1);
}

/* Both tags are kept, outer first. */
static void test_frame_vxlan(const struct weir_config *cfg)
{
	struct fb f = {.n = 0};
	frame_vxlan(&f);
	const unsigned o = 18;
	struct weir_pkt p;
	unsigned reason;
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, cfg, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.tun_type, WEIR_TUN_VXLAN);
	CHECK_EQ(p.tun_id, 42);
	CHECK_EQ(p.tun_keyed, WEIR_TUN_VXLAN);
	CHECK_EQ(p.nvlan, 2);
	CHECK_EQ(p.vlan[0], 100);
	CHECK_EQ(p.vlan[1], 5);
	CHECK_EQ(p.outer_l3_off, 18);
	p.frame = f.b; /* the caller's to set, as the worker does */
	struct weir_tunnel_outer out;
	CHECK_EQ(weir_parse_outer(&p, &out), 0);
	CHECK_EQ(out.ip_ver, 4);
	CHECK_EQ(out.proto, 17);
	CHECK_EQ(out.src_port, 0xd431);
	CHECK_EQ(out.dst_port, 4789);
	CHECK_MEM(out.src_ip, "\x0a\x00\x00\x01", 4);
	CHECK_MEM(out.dst_ip, "\x0a\x00\x00\x02", 4);
	CHECK_EQ(p.l3_off, 18 + 20 + 8 + 8 + 18);
	CHECK_EQ(p.payload_len, 3);
	/* an untagged inner frame adds no tag */
	f.n = 0;
	tunneled(&f, "8100 0064 0800", "11", "d431", "12b5", "08000000 00002a00", "86dd", 1);
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, cfg, &reason), WEIR_PARSE_TCP);
	CHECK_EQ(p.nvlan, 1);
	CHECK_EQ(p.vlan[0], 100);
	CHECK_EQ(p.vlan[1], 0);
	f.n = 0;
	frame_vxlan(&f);
	/* the inner Ethernet header cut short */
	CHECK_EQ(weir_parse_cfg(&p, f.b, 18 + 20 + 8 + 8 + 10, 18 + 20 + 8 + 8 + 10,
	                        WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_MALFORMED);
	/* the outer IP length cuts the inner frame: its IP length is a lie, not a snap length */
	set_be16(f.b + 18 + 2, f.n - 18 - 10);
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_BAD_IP_LEN);
	/* ... but a snap length that cut the frame leaves the inner TCP header readable */
	fix_ipv4(&f, o);
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n - 2, f.n, WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_TCP);
	CHECK_EQ(p.payload_len, 1);
}

/* Geneve (VNI 7, one option word) carrying Ethernet/IPv4/TCP. */
static void frame_geneve(struct fb *f)
{
	tunneled(f, "0800", "11", "d431", "17c1", "01006558 00000700 00010100", "0800", 0);
}

/* GTP-U with a sequence number carrying IPv4/TCP. */
static void frame_gtpu(struct fb *f)
{
	const unsigned h =
	    tunneled(f, "0800", "11", "0868", "0868", "32ff 0000 0000abcd 00010000", NULL, 0);
	set_be16(f->b + h + 2, f->n - h - 8);
}

static void test_frame_geneve_gtpu(const struct weir_config *cfg)
{
	struct fb f = {.n = 0};
	frame_geneve(&f);
	struct weir_pkt p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_GENEVE);
	CHECK_EQ(p.tun_id, 7);

	f.n = 0;
	frame_gtpu(&f);
	p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_GTPU);
	CHECK_EQ(p.tun_keyed, 0);
	CHECK_EQ(p.tun_id, 0);
	CHECK_EQ(p.l3_off, 14 + 20 + 8 + 12);
}

/* Teredo from its port, with an origin indication, carrying IPv6/TCP. */
static void frame_teredo(struct fb *f)
{
	tunneled(f, "0800", "11", "0dd8", "c000", "0000 1234 c0a80001", NULL, 1);
}

/* AYIYA (identity 2 bytes, signature 1 word) carrying IPv4/TCP. */
static void frame_ayiya(struct fb *f)
{
	tunneled(f, "0800", "11", "13d0", "13d0", "11 10 11 04 00000000 0102 00000000", NULL, 0);
}

/* Four IPv4 headers around the TCP: three IP-in-IP tunnels. */
static void frame_ipip3(struct fb *f)
{
	eth(f, "0800");
	unsigned at[4];
	for (int k = 0; k < 4; k++)
		at[k] = ipv4(f, k < 3 ? "04" : "06", k < 3 ? V4_OUT_SRC : V4_IN_SRC,
		             k < 3 ? V4_OUT_DST : V4_IN_DST);
	tcp(f);
	for (int k = 3; k >= 0; k--)
		fix_ipv4(f, at[k]);
}

static void test_frame_teredo_ayiya(const struct weir_config *cfg)
{
	struct fb f = {.n = 0};
	frame_teredo(&f);
	struct weir_pkt p = parse_tcp_frame(&f, cfg, 1);
	CHECK_EQ(p.tun_type, WEIR_TUN_TEREDO);
	CHECK_EQ(p.l3_off, 14 + 20 + 8 + 8);

	/* Teredo between a client and a relay, neither on 3544: recognised by the Teredo prefix */
	f.n = 0;
	eth(&f, "0800");
	unsigned o = ipv4(&f, "11", V4_OUT_SRC, V4_OUT_DST);
	unsigned d = udp(&f, "0ed5", "8084");
	unsigned i = ipv6(&f, "06", "20010000413700000000000000000001", V6_IN_DST);
	tcp(&f);
	fix_ipv6(&f, i);
	fix_udp(&f, d);
	fix_ipv4(&f, o);
	p = parse_tcp_frame(&f, cfg, 1);
	CHECK_EQ(p.tun_type, WEIR_TUN_TEREDO);
	f.b[i + 9] = 0x02; /* 2002::/16 is 6to4's, not Teredo's: plain UDP */
	unsigned reason;
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_OTHER);
	CHECK_EQ(p.tun_depth, 0);
	CHECK_EQ(p.l4proto, 17);

	f.n = 0;
	frame_ayiya(&f);
	p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_AYIYA);
	CHECK_EQ(p.l3_off, 14 + 20 + 8 + 8 + 2 + 4);
}

/* 6in4 and 4in6, and IP-in-IP nested past the depth limit. */
static void test_frame_ipip(const struct weir_config *cfg)
{
	struct fb f = {.n = 0};
	tunneled(&f, "0800", "29", NULL, NULL, "", NULL, 1);
	struct weir_pkt p = parse_tcp_frame(&f, cfg, 1);
	CHECK_EQ(p.tun_type, WEIR_TUN_IPIP);
	CHECK_EQ(p.l3_off, 34);

	f.n = 0;
	eth(&f, "86dd");
	const unsigned o = ipv6(&f, "04", V6_IN_DST, V6_IN_SRC);
	const unsigned i = ipv4(&f, "06", V4_IN_SRC, V4_IN_DST);
	tcp(&f);
	fix_ipv4(&f, i);
	fix_ipv6(&f, o);
	p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_type, WEIR_TUN_IPIP);
	CHECK_EQ(p.l3_off, 54);
	struct weir_tunnel_outer out;
	CHECK_EQ(weir_parse_outer(&p, &out), 0);
	CHECK_EQ(out.ip_ver, 6);
	CHECK_EQ(out.proto, 4);
	CHECK_EQ(out.src_port, 0);
	CHECK_EQ(out.src_ip[15], 2); /* the outer header runs from V6_IN_DST to V6_IN_SRC */
	CHECK_EQ(out.dst_ip[15], 1);
	p.tun_depth = 0;
	CHECK_EQ(weir_parse_outer(&p, &out), -EINVAL); /* not tunneled */
	CHECK_EQ(weir_parse_outer(NULL, &out), -EINVAL);

	/* three tunnels: a limit of 3 takes them off, 2 does not */
	f.n = 0;
	frame_ipip3(&f);
	p = parse_tcp_frame(&f, cfg, 0);
	CHECK_EQ(p.tun_depth, 3);
	struct weir_config two = *cfg;
	two.tunnel_depth = 2;
	unsigned reason;
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, &two, &reason),
	         WEIR_PARSE_MALFORMED);
	CHECK_EQ(reason, WEIR_MAL_TUNNEL_DEPTH);
	two.tunnel_depth = 0; /* tunnels off: the outer packet is plain IP-in-IP traffic */
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, &two, &reason),
	         WEIR_PARSE_OTHER);
	CHECK_EQ(reason, WEIR_MAL_COUNT);
	CHECK_EQ(p.tun_depth, 0);
	CHECK_EQ(p.l4proto, 4);
}

/* Ports come from the config: VXLAN on Linux's old default 8472 only when configured. */
static void test_frame_ports(const struct weir_config *cfg)
{
	struct fb f = {.n = 0};
	tunneled(&f, "0800", "11", "d431", "2118", "08000000 00000300", "0800", 0);
	struct weir_pkt p;
	unsigned reason;
	CHECK_EQ(weir_parse_cfg(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, cfg, &reason),
	         WEIR_PARSE_OTHER);
	CHECK_EQ(weir_parse(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, &reason), WEIR_PARSE_OTHER);
	struct weir_config mine = *cfg;
	mine.vxlan_port = 8472;
	p = parse_tcp_frame(&f, &mine, 0);
	CHECK_EQ(p.tun_id, 3);
}

/* Random byte mutations in the headers and random cuts of every tunneled frame above: whatever
 * the bytes, the result is one of the four, the view stays inside the captured bytes (the frame
 * is copied to a buffer of exactly caplen bytes, so a sanitizer build catches any read past). */
static void test_mutations(const struct weir_config *cfg, unsigned rounds)
{
	static void (*const builders[])(struct fb *) = {
	    frame_erspan, frame_pptp,   frame_gre,   frame_gre_udp, frame_vxlan, frame_geneve,
	    frame_gtpu,   frame_teredo, frame_ayiya, frame_ipip3,   frame_aruba};
	const unsigned nb = sizeof(builders) / sizeof(builders[0]);
	uint64_t seed = 0x7e77e1f00dull;
	unsigned results[4] = {0};
	for (unsigned i = 0; i < rounds; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		struct fb f = {.n = 0};
		builders[(seed >> 33) % nb](&f);
		for (unsigned m = 0; m < 1 + (seed >> 20) % 4; m++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			const unsigned span = f.n < 120 ? f.n : 120;
			f.b[(seed >> 33) % span] = (uint8_t)(seed >> 13);
		}
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		const uint32_t caplen = (seed & 1) ? f.n : (uint32_t)((seed >> 33) % (f.n + 1));
		const uint32_t wirelen = (seed & 2) ? caplen : f.n;
		uint8_t *copy = malloc(caplen ? caplen : 1);
		CHECK(copy != NULL);
		if (!copy)
			return;
		memcpy(copy, f.b, caplen);
		struct weir_pkt p;
		unsigned reason;
		const int r =
		    weir_parse_cfg(&p, copy, caplen, wirelen, WEIR_DLT_EN10MB, cfg, &reason);
		CHECK(r >= WEIR_PARSE_TCP && r <= WEIR_PARSE_MALFORMED);
		if (r >= WEIR_PARSE_TCP && r <= WEIR_PARSE_MALFORMED)
			results[r]++;
		CHECK(p.tun_depth <= cfg->tunnel_depth);
		if (p.tun_depth) { /* the outer header is read within what the parse checked */
			struct weir_tunnel_outer out;
			p.frame = copy;
			CHECK_EQ(weir_parse_outer(&p, &out), 0);
		}
		if (r == WEIR_PARSE_MALFORMED)
			CHECK(reason < WEIR_MAL_COUNT);
		if (r == WEIR_PARSE_TCP) {
			CHECK(p.l4_off + 20u <= caplen);
			CHECK(p.payload_len == 0 || p.payload + p.payload_len <= copy + caplen);
		}
		free(copy);
	}
	/* the mutations reach every outcome, not only the first check they hit */
	for (unsigned r = 0; r < 4; r++)
		CHECK(results[r] > 0);
}

int main(void)
{
	test_gre();
	test_erspan();
	test_wlan();
	test_vxlan_geneve();
	test_gtpu();
	test_teredo();
	test_ayiya();
	test_udp_ports();
	/* the settings' defaults, which weir_parse uses too */
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_pkt p;
	struct fb f = {.n = 0};
	frame_vxlan(&f);
	CHECK_EQ(weir_parse(&p, f.b, f.n, f.n, WEIR_DLT_EN10MB, NULL), WEIR_PARSE_TCP);
	CHECK_EQ(p.tun_id, 42);
	test_frame_gre(&cfg);
	test_frame_vxlan(&cfg);
	test_frame_geneve_gtpu(&cfg);
	test_frame_teredo_ayiya(&cfg);
	test_frame_ipip(&cfg);
	test_frame_ports(&cfg);
	test_mutations(&cfg, 200000);
	return UNIT_DONE();
}
