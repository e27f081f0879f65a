/* link.c — the link layers below IP, one small decoder per header, chosen from a table by what the
 * header before named: Ethernet and its tags (802.1Q, 802.1ad, 0x9100) at any depth, PBB (802.1ah),
 * Cisco FabricPath, MPLS label stacks, PPPoE sessions, PPP, Cisco HDLC, 802.2 LLC/SNAP, FDDI,
 * Linux cooked (SLL, SLL2), BSD loopback and raw IP. */
#include "parse/parse_internal.h"

#include <string.h>

/* EtherTypes (IEEE registry). */
#define ETH_VLAN          0x8100 /* 802.1Q C-tag */
#define ETH_QINQ          0x88a8 /* 802.1ad S-tag */
#define ETH_QINQ_OLD      0x9100 /* pre-802.1ad vendor S-tag, still seen on carrier links */
#define ETH_PBB           0x88e7 /* 802.1ah I-tag */
#define ETH_FABRICPATH    0x8903 /* Cisco FabricPath */
#define ETH_MPLS          0x8847 /* MPLS unicast */
#define ETH_MPLS_MC       0x8848 /* MPLS multicast */
#define ETH_PPPOE_SESSION 0x8864
#define ETH_TYPE_MIN      0x0600 /* below: an 802.3 length, an 802.2 LLC header follows */

/* What the next header is when no EtherType names it: one past the 16-bit EtherTypes. */
enum next_hdr {
	NEXT_ETH = 0x10000, /* an Ethernet header (dst, src, type or length) */
	NEXT_LLC,           /* 802.2 LLC, SNAP when DSAP = SSAP = 0xaa */
	NEXT_IP,            /* IPv4 or IPv6 by the version nibble (raw IP link types) */
	NEXT_FDDI,          /* frame control, dst, src, then LLC */
	NEXT_PPP_LINK,      /* a PPP link's frame: HDLC address/control, or Cisco HDLC, or bare */
	NEXT_PPP,           /* a PPP protocol field, 1 or 2 bytes */
	NEXT_CHDLC,         /* Cisco HDLC: address, control, EtherType */
	NEXT_SLL,           /* Linux cooked v1: protocol in the last 2 of 16 bytes */
	NEXT_SLL2,          /* Linux cooked v2: protocol in the first 2 of 20 bytes */
	NEXT_NULL,          /* BSD loopback: 4-byte address family in the capturing host's order */
	NEXT_LOOP,          /* OpenBSD loopback: the family in network order */
};

#define VLAN_TAG_LEN     4      /* TCI + inner type */
#define VLAN_VID_MASK    0x0fff /* low 12 bits of the TCI; the top 4 are priority and DEI */
#define PBB_LEN          18     /* I-tag TCI and I-SID (4), customer dst and src MACs (12), type */
#define FABRICPATH_LEN   16     /* FTag and TTL (2), the inner Ethernet header (14) */
#define MPLS_LABEL_LEN   4      /* label 20 bits, traffic class 3, bottom of stack 1, TTL 8 */
#define MPLS_BOS         0x100  /* bottom-of-stack bit in the label entry's low 16 bits */
#define MPLS_IPV4_NULL   0      /* reserved labels: explicit null, IPv4 follows (RFC 3032) */
#define MPLS_IPV6_NULL   2      /* explicit null, IPv6 follows */
#define PPPOE_HLEN       6      /* version/type, code, session id, length */
#define PPPOE_VER_TYPE   0x11   /* version 1, type 1 (RFC 2516) */
#define PPP_IPV4         0x0021
#define PPP_IPV6         0x0057
#define HDLC_ADDR_ALL    0xff /* PPP in HDLC-like framing: address 0xff, control 0x03 (RFC 1662) */
#define HDLC_CTRL_UI     0x03
#define CHDLC_UNICAST    0x0f /* Cisco HDLC address bytes; control 0x00 */
#define CHDLC_BCAST      0x8f
#define CHDLC_HLEN       4
#define LLC_SAP_SNAP     0xaa
#define LLC_HLEN         3    /* DSAP, SSAP, control (UI frames) */
#define SNAP_HLEN        8    /* LLC, OUI (3), type */
#define FDDI_HLEN        13   /* frame control, dst, src */
#define FDDI_FC_LLC_MASK 0xf8 /* frame control 0x50-0x57: asynchronous LLC frames */
#define FDDI_FC_LLC      0x50
#define SLL_HLEN         16
#define SLL2_HLEN        20
#define NULL_HLEN        4

/* Address families in DLT_NULL/DLT_LOOP headers: IPv4 is 2 everywhere; IPv6 differs by OS
 * (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin). */
#define BSD_AF_INET          2
#define BSD_AF_INET6_BSD     24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN  30

/* The longest header above is SLL2's, the longest IPv4 header 60 bytes: a walk from an
 * EtherType at most ENTRY_OFF_MAX into the frame puts l3_off and l4_off within their 16 bits, as
 * does a walk from the frame's start (the link type's own header and as many more). */
#define ENTRY_OFF_MAX (UINT16_MAX - WEIR_L2_MAX_HEADERS * SLL2_HLEN - 60)
_Static_assert((1 + WEIR_L2_MAX_HEADERS) * SLL2_HLEN + 60 <= UINT16_MAX,
               "a frame's own link layers fit the 16-bit offsets");

/* A frame on its way down the link layers: the next header is `next`, at `off`. */
struct walk {
	struct weir_pkt *p;
	const uint8_t *f;
	uint32_t caplen, wirelen;
	uint32_t off;
	uint32_t next; /* an EtherType, or an enum next_hdr */
	unsigned *reason;
};

/* A decoder returns this to go on with the next header, or an enum weir_parse_result. */
#define STEP_ON (-1)

static inline uint32_t avail(const struct walk *w)
{
	return w->caplen - w->off;
}

/* Goes on with the header `next` after this one's hlen bytes; next 0 is something weir does not
 * decode (not IP). */
static inline int on(struct walk *w, uint32_t hlen, uint32_t next)
{
	if (next == 0)
		return WEIR_PARSE_OTHER;
	w->off += hlen;
	w->next = next;
	return STEP_ON;
}

/* Goes on with an EtherType read from the frame: a value below 0x0600 is an 802.3 length. */
static inline int on_type(struct walk *w, uint32_t hlen, uint16_t type)
{
	return on(w, hlen, type < ETH_TYPE_MIN ? (uint32_t)NEXT_LLC : type);
}

/* What an IP version nibble says follows: IPv4, IPv6, or 0. */
static inline uint32_t ip_by_version(uint8_t first)
{
	return first >> 4 == 4 ? ETH_IPV4 : first >> 4 == 6 ? ETH_IPV6 : 0;
}

/* 802.1Q / 802.1ad / 0x9100: the two outermost ids are kept, every tag is counted. */
static int step_vlan(struct walk *w)
{
	if (avail(w) < VLAN_TAG_LEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	const uint8_t *h = w->f + w->off;
	struct weir_pkt *p = w->p;
	if (p->nvlan < 2)
		p->vlan[p->nvlan] = rd16(h) & VLAN_VID_MASK;
	p->nvlan++; /* at most WEIR_L2_MAX_HEADERS: no wrap */
	return on_type(w, VLAN_TAG_LEN, rd16(h + 2));
}

/* One MPLS label. Below the bottom of the stack the label says what follows when it is an
 * explicit null, else the first nibble does (4 or 6; anything else, an Ethernet pseudowire or
 * other payload, is not decoded). */
static int step_mpls(struct walk *w)
{
	if (avail(w) < MPLS_LABEL_LEN)
		return malformed(w->reason, WEIR_MAL_MPLS_NO_BOS);
	const uint8_t *h = w->f + w->off;
	if (!(rd16(h + 2) & MPLS_BOS))
		return on(w, MPLS_LABEL_LEN, w->next); /* another label */
	const uint32_t label = rd32(h) >> 12;
	if (label == MPLS_IPV4_NULL || label == MPLS_IPV6_NULL)
		return on(w, MPLS_LABEL_LEN, label == MPLS_IPV4_NULL ? ETH_IPV4 : ETH_IPV6);
	if (avail(w) == MPLS_LABEL_LEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_IP);
	return on(w, MPLS_LABEL_LEN, ip_by_version(h[MPLS_LABEL_LEN]));
}

/* A PPPoE session header (RFC 2516); its payload is PPP. The length may be shorter than the
 * frame (Ethernet padding), not longer unless a snap length cut the frame. */
static int step_pppoe(struct walk *w)
{
	if (avail(w) < PPPOE_HLEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	const uint8_t *h = w->f + w->off;
	if (h[0] != PPPOE_VER_TYPE || h[1] != 0)
		return malformed(w->reason, WEIR_MAL_BAD_PPPOE);
	const uint32_t len = rd16(h + 4);
	if (len < 1 || (len > avail(w) - PPPOE_HLEN && w->wirelen <= w->caplen))
		return malformed(w->reason, WEIR_MAL_BAD_PPPOE_LEN);
	return on(w, PPPOE_HLEN, NEXT_PPP);
}

/* A PPP protocol field: one byte when compressed (RFC 1661: a protocol's low byte is odd, its
 * high byte even, so an odd first byte is the whole field). */
static int step_ppp(struct walk *w)
{
	if (avail(w) < 1)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	const uint8_t *h = w->f + w->off;
	uint32_t proto = h[0], len = 1;
	if (!(proto & 1)) {
		if (avail(w) < 2)
			return malformed(w->reason, WEIR_MAL_TRUNC_L2);
		proto = rd16(h);
		len = 2;
	}
	/* anything else (LCP, IPCP, ...) is PPP's own traffic */
	return on(w, len, proto == PPP_IPV4 ? ETH_IPV4 : proto == PPP_IPV6 ? ETH_IPV6 : 0);
}

/* A PPP link's frame (DLT_PPP, DLT_PPP_SERIAL): the HDLC address and control bytes when present;
 * Cisco HDLC when its address and control come first (routers log it on PPP links too). A frame
 * of one byte has no room for a protocol and a payload. */
static int step_ppp_link(struct walk *w)
{
	if (avail(w) < 2)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	const uint8_t *h = w->f + w->off;
	if (h[0] == HDLC_ADDR_ALL && h[1] == HDLC_CTRL_UI)
		return on(w, 2, NEXT_PPP);
	if ((h[0] == CHDLC_UNICAST || h[0] == CHDLC_BCAST) && h[1] == 0)
		return on(w, 0, NEXT_CHDLC);
	return on(w, 0, NEXT_PPP);
}

/* 802.2 LLC: only SNAP with an EtherType (OUI 0) leads to IP; other SAPs (spanning tree,
 * NetBIOS, IPX, ...) are not IP. */
static int step_llc(struct walk *w)
{
	if (avail(w) < LLC_HLEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	const uint8_t *h = w->f + w->off;
	if (h[0] != LLC_SAP_SNAP || h[1] != LLC_SAP_SNAP || h[2] != HDLC_CTRL_UI)
		return WEIR_PARSE_OTHER;
	if (avail(w) < SNAP_HLEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	if (h[3] | h[4] | h[5])
		return WEIR_PARSE_OTHER; /* an organisation's own protocol (Cisco CDP, ...) */
	return on_type(w, SNAP_HLEN, rd16(h + 6));
}

/* FDDI: frame control, dst, src (their bit order does not matter here), then LLC. */
static int step_fddi(struct walk *w)
{
	if (avail(w) < FDDI_HLEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	if ((w->f[w->off] & FDDI_FC_LLC_MASK) != FDDI_FC_LLC)
		return WEIR_PARSE_OTHER; /* station management, MAC frames, tokens */
	return on(w, FDDI_HLEN, NEXT_LLC);
}

/* Raw IP: the version nibble says which. */
static int step_ip(struct walk *w)
{
	if (avail(w) < 1)
		return malformed(w->reason, WEIR_MAL_TRUNC_IP);
	const uint32_t next = ip_by_version(w->f[w->off]);
	if (next == 0)
		return malformed(w->reason, WEIR_MAL_BAD_IP_VERSION);
	return on(w, 0, next);
}

static int bsd_family(struct walk *w, uint32_t family)
{
	const int v6 = family == BSD_AF_INET6_BSD || family == BSD_AF_INET6_FREEBSD ||
	               family == BSD_AF_INET6_DARWIN;
	return on(w, NULL_HLEN, family == BSD_AF_INET ? ETH_IPV4 : v6 ? ETH_IPV6 : 0);
}

static int step_null(struct walk *w)
{
	uint32_t fam;
	if (avail(w) < NULL_HLEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	memcpy(&fam, w->f + w->off, sizeof(fam));
	/* Host order of the capturing machine, which need not be ours: the family is a small
	 * number, so a value with the high half set was written the other way round. */
	if (fam & 0xffff0000u)
		fam = __builtin_bswap32(fam);
	return bsd_family(w, fam);
}

static int step_loop(struct walk *w)
{
	if (avail(w) < NULL_HLEN)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	return bsd_family(w, rd32(w->f + w->off));
}

#define ENCAP(e) (1u << WEIR_ENCAP_##e)

/* The decoders, by what names them; the most common first (the lookup is a scan). A header of
 * fixed length that ends in an EtherType has no step function: hlen and type_off describe it.
 * encap is the weir_pkt.encap bit a frame crossing the header gets. */
static const struct decoder {
	uint32_t next;
	int (*step)(struct walk *w);
	uint8_t encap;
	uint8_t hlen, type_off;
} decoders[] = {
    {NEXT_ETH, NULL, 0, ETH_HLEN, 12},
    {ETH_VLAN, step_vlan, ENCAP(VLAN), 0, 0},
    {ETH_QINQ, step_vlan, ENCAP(VLAN), 0, 0},
    {ETH_QINQ_OLD, step_vlan, ENCAP(VLAN), 0, 0},
    {NEXT_IP, step_ip, 0, 0, 0},
    /* libpcap re-inserts a VLAN tag the kernel stripped at the protocol field, so tags may
     * follow; protocol 4 (802.2 frames) is below 0x0600 and so goes to LLC */
    {NEXT_SLL, NULL, 0, SLL_HLEN, 14},
    {NEXT_NULL, step_null, 0, 0, 0},
    {ETH_MPLS, step_mpls, ENCAP(MPLS), 0, 0},
    {ETH_MPLS_MC, step_mpls, ENCAP(MPLS), 0, 0},
    {ETH_PPPOE_SESSION, step_pppoe, ENCAP(PPPOE), 0, 0},
    {NEXT_PPP, step_ppp, ENCAP(PPP), 0, 0},
    {NEXT_LLC, step_llc, ENCAP(LLC), 0, 0},
    /* 802.1ah: the I-tag, then the customer's Ethernet header */
    {ETH_PBB, NULL, ENCAP(PBB), PBB_LEN, PBB_LEN - 2},
    /* FabricPath: the outer header's FTag and TTL, then the whole inner Ethernet header */
    {ETH_FABRICPATH, NULL, ENCAP(FABRICPATH), FABRICPATH_LEN, FABRICPATH_LEN - 2},
    {NEXT_PPP_LINK, step_ppp_link, 0, 0, 0},
    /* Cisco HDLC: address, control, then an EtherType */
    {NEXT_CHDLC, NULL, ENCAP(CHDLC), CHDLC_HLEN, 2},
    {NEXT_FDDI, step_fddi, 0, 0, 0},
    {NEXT_SLL2, NULL, 0, SLL2_HLEN, 0},
    {NEXT_LOOP, step_loop, 0, 0, 0},
};

/* A header of d->hlen bytes whose EtherType is at d->type_off. */
static int step_typed(struct walk *w, const struct decoder *d)
{
	if (avail(w) < d->hlen)
		return malformed(w->reason, WEIR_MAL_TRUNC_L2);
	return on_type(w, d->hlen, rd16(w->f + w->off + d->type_off));
}

/* The link types weir decodes (pcap DLT numbers) and the header each frame starts with. */
static const struct {
	int dlt;
	uint32_t first;
} linktypes[] = {
    {WEIR_DLT_EN10MB, NEXT_ETH},      {WEIR_DLT_RAW, NEXT_IP},
    {WEIR_DLT_RAW101, NEXT_IP},       {WEIR_DLT_IPV4, NEXT_IP},
    {WEIR_DLT_IPV6, NEXT_IP},         {WEIR_DLT_LINUX_SLL, NEXT_SLL},
    {WEIR_DLT_LINUX_SLL2, NEXT_SLL2}, {WEIR_DLT_NULL, NEXT_NULL},
    {WEIR_DLT_LOOP, NEXT_LOOP},       {WEIR_DLT_FDDI, NEXT_FDDI},
    {WEIR_DLT_PPP, NEXT_PPP_LINK},    {WEIR_DLT_PPP_SERIAL, NEXT_PPP_LINK},
    {WEIR_DLT_C_HDLC, NEXT_CHDLC},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct decoder *decoder_of(uint32_t next)
{
	for (unsigned i = 0; i < COUNT(decoders); i++)
		if (decoders[i].next == next)
			return &decoders[i];
	return NULL;
}

/* Walks the headers from w->next at w->off down to IP, at most max_headers of them. */
static int walk(struct walk *w, unsigned max_headers)
{
	for (unsigned n = 0;; n++) {
		if (w->next == ETH_IPV4 || w->next == ETH_IPV6) {
			w->p->l3_off = (uint16_t)w->off;
			if (w->next == ETH_IPV4)
				return weir_parse_ipv4(w->p, w->f, w->caplen, w->wirelen, w->off,
				                       w->reason);
			return weir_parse_ipv6(w->p, w->f, w->caplen, w->wirelen, w->off,
			                       w->reason);
		}
		const struct decoder *d = decoder_of(w->next);
		if (d == NULL)
			return WEIR_PARSE_OTHER; /* ARP, LLDP, PPPoE discovery, ...: not IP */
		if (n == max_headers)
			return malformed(w->reason, WEIR_MAL_L2_DEPTH);
		w->p->encap |= d->encap;
		const int r = d->step ? d->step(w) : step_typed(w, d);
		if (r != STEP_ON)
			return r;
	}
}

int weir_link_ethertype(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                        uint32_t off, uint16_t type, unsigned *reason)
{
	struct walk w = {p, f, caplen, wirelen, off, 0, reason};
	if (off > caplen || off > ENTRY_OFF_MAX)
		return malformed(reason, WEIR_MAL_TRUNC_L2);
	on_type(&w, 0, type);
	return walk(&w, WEIR_L2_MAX_HEADERS);
}

static int first_header(int linktype, uint32_t *first)
{
	for (unsigned i = 0; i < COUNT(linktypes); i++) {
		if (linktypes[i].dlt == linktype) {
			*first = linktypes[i].first;
			return 1;
		}
	}
	return 0;
}

int weir_link_parse(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                    int linktype, unsigned *reason)
{
	struct walk w = {p, f, caplen, wirelen, 0, 0, reason};
	if (!first_header(linktype, &w.next))
		return malformed(reason, WEIR_MAL_UNKNOWN_LINKTYPE);
	return walk(&w, 1 + WEIR_L2_MAX_HEADERS); /* the link type's own header, then the limit */
}

bool weir_parse_linktype_known(int linktype)
{
	uint32_t first;
	return first_header(linktype, &first) != 0;
}
