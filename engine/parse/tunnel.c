/* tunnel.c — one small decoder per tunnel header (GRE, ERSPAN, Aruba 802.11 in GRE, VXLAN, Geneve,
 * GTP-U, Teredo, AYIYA, IP-in-IP). */
#include "parse/tunnel.h"

#include <errno.h>
#include <string.h>

#include "parse/parse.h"

#include "parse/bytes.h"

/* IANA protocol numbers that start a tunnel. */
#define PROTO_IPIP 4
#define PROTO_UDP  17
#define PROTO_IPV6 41
#define PROTO_GRE  47

#define UDP_HLEN 8

/* GRE (RFC 2784, key and sequence RFC 2890, version 1 RFC 2637): the flags and version word. */
#define GRE_HLEN     4
#define GRE_C        0x8000 /* checksum (and reserved1) present: 4 bytes */
#define GRE_R        0x4000 /* routing present (RFC 1701): source routes follow, not decoded */
#define GRE_K        0x2000 /* key present: 4 bytes */
#define GRE_S        0x1000 /* sequence number present: 4 bytes */
#define GRE_A        0x0080 /* version 1: acknowledgement number present: 4 bytes */
#define GRE_VER_MASK 0x0007
#define GRE_OPT_LEN  4 /* each optional field is 4 bytes */
/* GRE protocol types (EtherTypes) other than IPv4, IPv6 and Ethernet. */
#define GRE_PROTO_PPP       0x880b /* PPTP (version 1) */
#define GRE_PROTO_ERSPAN2   0x88be /* ERSPAN type II; type I when the S bit is clear */
#define GRE_PROTO_ERSPAN3   0x22eb /* ERSPAN type III */
#define ERSPAN2_HLEN        8
#define ERSPAN3_HLEN        12
#define ERSPAN3_SUBHDR_LEN  8      /* the optional platform-specific subheader (O bit) */
#define ERSPAN_SESSION_MASK 0x03ff /* low 10 bits of the first word's second half */
/* Aruba's access points tunnel 802.11 frames to their controller in GRE, the protocol type naming
 * the AP's link: 0x8200 to 0x8370 in steps of 0x10, and 0x9000 (Wireshark's list; Zeek takes the
 * same values). */
#define GRE_ARUBA_FIRST 0x8200
#define GRE_ARUBA_LAST  0x8370
#define GRE_ARUBA_STEP  0x0f /* low nibble 0 */
#define GRE_ARUBA_9000  0x9000
/* PPP in PPTP (RFC 1661): optional address/control 0xff 0x03, then a 1- or 2-byte protocol. */
#define PPP_ADDR_CTRL 0xff03
#define PPP_IPV4      0x0021
#define PPP_IPV6      0x0057

/* An 802.11 MAC header (IEEE 802.11-2020 9.2.4): frame control (protocol version 2 bits, type 2
 * bits, subtype 4 bits; then the flags byte), duration, three addresses, sequence control; a
 * fourth address when both To DS and From DS are set; in QoS data frames the QoS control field,
 * and the HT control field when the +HTC/Order flag is set. */
#define WLAN_HLEN      24
#define WLAN_ADDR4_LEN 6
#define WLAN_QOS_LEN   2
#define WLAN_HTC_LEN   4
#define WLAN_FC_VER    0x03 /* frame control byte 0: protocol version, only 0 exists */
#define WLAN_FC_TYPE   0x0c /* frame control byte 0: type */
#define WLAN_TYPE_DATA 0x08 /* type 2: data (0 management, 1 control) */
#define WLAN_SUB_QOS   0x80 /* subtype bit 3: QoS data */
#define WLAN_SUB_NULL  0x40 /* subtype bit 2: no data (null function, CF-ack/poll only) */
#define WLAN_DS_BOTH   0x03 /* flags: To DS and From DS */
#define WLAN_PROTECTED 0x40 /* flags: the body is encrypted */
#define WLAN_ORDER     0x80 /* flags: +HTC in a QoS data frame */
#define WLAN_QOS_AMSDU 0x80 /* QoS control byte 0, bit 7: the body is an A-MSDU */
/* An A-MSDU subframe header (9.3.2.2.2): destination, source, length of the MSDU that follows (its
 * LLC/SNAP header and packet). Subframes after the first are padded to 4 bytes. */
#define AMSDU_SUB_HLEN 14
#define LLC_SNAP_LEN   8 /* DSAP, SSAP, control, OUI, EtherType */

/* VXLAN (RFC 7348): flags (I bit: the VNI is valid), 3 reserved, VNI (24 bits), 1 reserved. */
#define VXLAN_HLEN 8
#define VXLAN_I    0x08
/* Geneve (RFC 8926): version and option length (4-byte words), flags, protocol, VNI, reserved. */
#define GENEVE_HLEN        8
#define GENEVE_OPTLEN_MASK 0x3f

/* GTP-U (3GPP TS 29.281): flags (version 3 bits, PT, spare, E, S, PN), message type, length,
 * TEID; then 4 more bytes (sequence, N-PDU, next extension type) when any of E, S, PN is set. */
#define GTP_HLEN      8
#define GTP_OPT_LEN   4
#define GTP_VERSION_1 1
#define GTP_PT        0x10
#define GTP_E         0x04
#define GTP_ESPN      0x07
#define GTP_GPDU      0xff /* message type of a G-PDU: a user packet follows */

/* Teredo (RFC 4380): an IPv6 packet, optionally after an authentication indicator (type 1) and
 * an origin indication (type 0, 8 bytes). */
#define TEREDO_AUTH       0x0001
#define TEREDO_AUTH_FIXED 13 /* type 2, id-len 1, au-len 1, nonce 8, confirmation 1 */
#define TEREDO_ORIGIN     0x0000
#define TEREDO_ORIGIN_LEN 8
#define IPV6_HLEN         40

/* AYIYA: identity length (2^n bytes) and type, signature length (4-byte words) and hash,
 * authentication and opcode, next header, epoch time; then identity and signature. */
#define AYIYA_HLEN       8
#define AYIYA_OP_FORWARD 1

/* The inner packet is IPv4 or IPv6 as its version nibble says. */
static int inner_ip(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	if (n <= h->len)
		return WEIR_TUN_BAD;
	switch (b[h->len] >> 4) {
	case 4:
		h->inner = WEIR_INNER_IPV4;
		return WEIR_TUN_OK;
	case 6:
		h->inner = WEIR_INNER_IPV6;
		return WEIR_TUN_OK;
	default:
		return WEIR_TUN_BAD;
	}
}

/* PPP after a PPTP GRE header at h->len: steps over it to the IP packet. */
static int gre_ppp(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	uint32_t o = h->len;
	if (n - o >= 2 && rd16(b + o) == PPP_ADDR_CTRL)
		o += 2;
	if (n - o < 1)
		return WEIR_TUN_BAD;
	/* Protocol-field compression (RFC 1661 6.5): an odd first byte is the whole field. */
	uint16_t proto = b[o];
	if (proto & 1) {
		o += 1;
	} else {
		if (n - o < 2)
			return WEIR_TUN_BAD;
		proto = rd16(b + o);
		o += 2;
	}
	h->len = o;
	if (proto == PPP_IPV4)
		h->inner = WEIR_INNER_IPV4;
	else if (proto == PPP_IPV6)
		h->inner = WEIR_INNER_IPV6;
	else /* LCP, IPCP, MPPE-compressed or encrypted (0x00fd), ... */
		return WEIR_TUN_UNSUPPORTED;
	return WEIR_TUN_OK;
}

/* ERSPAN after a GRE header at h->len; the mirrored Ethernet frame follows. */
static int gre_erspan(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h, uint16_t proto,
                      uint16_t flags)
{
	h->type = WEIR_TUN_ERSPAN;
	h->inner = WEIR_INNER_ETH;
	if (proto == GRE_PROTO_ERSPAN2 && !(flags & GRE_S))
		return WEIR_TUN_OK; /* type I: no ERSPAN header */
	uint32_t hl = proto == GRE_PROTO_ERSPAN2 ? ERSPAN2_HLEN : ERSPAN3_HLEN;
	if (n - h->len < hl)
		return WEIR_TUN_BAD;
	const uint8_t *e = b + h->len;
	h->id = rd16(e + 2) & ERSPAN_SESSION_MASK;
	if (proto == GRE_PROTO_ERSPAN3 && (e[11] & 1))
		hl += ERSPAN3_SUBHDR_LEN;
	if (n - h->len < hl)
		return WEIR_TUN_BAD;
	h->len += hl;
	return WEIR_TUN_OK;
}

int weir_tun_wlan(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	*h = (struct weir_tun_hdr){.type = WEIR_TUN_GRE};
	if (n < WLAN_HLEN || (b[0] & WLAN_FC_VER) != 0)
		return WEIR_TUN_BAD;
	if ((b[0] & WLAN_FC_TYPE) != WLAN_TYPE_DATA || (b[0] & WLAN_SUB_NULL))
		return WEIR_TUN_NOT; /* management, control, or a data frame that holds none */
	uint32_t o = WLAN_HLEN;
	if ((b[1] & WLAN_DS_BOTH) == WLAN_DS_BOTH)
		o += WLAN_ADDR4_LEN;
	int amsdu = 0;
	if (b[0] & WLAN_SUB_QOS) {
		if (n < o + WLAN_QOS_LEN)
			return WEIR_TUN_BAD;
		amsdu = (b[o] & WLAN_QOS_AMSDU) != 0;
		o += WLAN_QOS_LEN + ((b[1] & WLAN_ORDER) ? WLAN_HTC_LEN : 0);
	}
	if (b[1] & WLAN_PROTECTED)
		return WEIR_TUN_UNSUPPORTED; /* WEP, TKIP, CCMP: no key to decrypt with */
	if (amsdu) {
		/* The first subframe only: weir's view is one packet per frame (the MSDUs after
		 * it are not seen; docs/ZEEK.md). */
		if (n < o + AMSDU_SUB_HLEN)
			return WEIR_TUN_BAD;
		const uint32_t msdu = rd16(b + o + AMSDU_SUB_HLEN - 2);
		o += AMSDU_SUB_HLEN;
		if (msdu < LLC_SNAP_LEN || msdu > n - o)
			return WEIR_TUN_BAD;
	}
	if (n < o + LLC_SNAP_LEN)
		return WEIR_TUN_BAD;
	h->len = o;
	h->inner = WEIR_INNER_LLC;
	return WEIR_TUN_OK;
}

/* Whether a GRE protocol type is one of Aruba's 802.11 encapsulations. */
static int gre_aruba(uint16_t proto)
{
	return (proto >= GRE_ARUBA_FIRST && proto <= GRE_ARUBA_LAST && !(proto & GRE_ARUBA_STEP)) ||
	       proto == GRE_ARUBA_9000;
}

int weir_tun_gre(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	*h = (struct weir_tun_hdr){.type = WEIR_TUN_GRE};
	if (n < GRE_HLEN)
		return WEIR_TUN_BAD;
	const uint16_t flags = rd16(b), proto = rd16(b + 2);
	const unsigned ver = flags & GRE_VER_MASK;
	uint32_t o = GRE_HLEN;
	if (ver > 1)
		return WEIR_TUN_BAD;
	if (flags & GRE_R)
		return WEIR_TUN_UNSUPPORTED; /* RFC 1701 source routing, deprecated by RFC 2784 */
	if (ver == 1 && (!(flags & GRE_K) || (flags & GRE_C) || proto != GRE_PROTO_PPP))
		return WEIR_TUN_BAD; /* RFC 2637 4.1: K set, C clear, protocol PPP */
	if (flags & GRE_C)
		o += GRE_OPT_LEN;
	if (flags & GRE_K) {
		if (n < o + GRE_OPT_LEN)
			return WEIR_TUN_BAD;
		/* Version 0: a key both ends configure alike. Version 1: payload length and the
		 * peer's call id, different in each direction: not a flow identity. */
		if (ver == 0) {
			h->id = rd32(b + o);
			h->keyed = 1;
		}
		o += GRE_OPT_LEN;
	}
	if (flags & GRE_S)
		o += GRE_OPT_LEN;
	if (ver == 1 && (flags & GRE_A))
		o += GRE_OPT_LEN;
	if (n < o)
		return WEIR_TUN_BAD;
	h->len = o;
	switch (proto) {
	case WEIR_INNER_IPV4:
	case WEIR_INNER_IPV6:
	case WEIR_INNER_ETH:
		h->inner = proto;
		return WEIR_TUN_OK;
	case GRE_PROTO_PPP:
		/* A PPTP acknowledgement carries no payload. */
		return n == o ? WEIR_TUN_NOT : gre_ppp(b, n, h);
	case GRE_PROTO_ERSPAN2:
	case GRE_PROTO_ERSPAN3:
		return gre_erspan(b, n, h, proto, flags);
	default:
		if (gre_aruba(proto)) {        /* version 0: version 1 is PPP only */
			struct weir_tun_hdr w; /* h keeps the GRE key */
			const int r = weir_tun_wlan(b + o, n - o, &w);
			h->len = o + w.len;
			h->inner = w.inner;
			return r;
		}
		return WEIR_TUN_UNSUPPORTED; /* WCCP, MPLS, ... */
	}
}

int weir_tun_vxlan(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	*h = (struct weir_tun_hdr){.type = WEIR_TUN_VXLAN};
	if (n < VXLAN_HLEN || !(b[0] & VXLAN_I))
		return WEIR_TUN_BAD;
	h->id = rd32(b + 4) >> 8;
	h->keyed = 1;
	h->len = VXLAN_HLEN;
	h->inner = WEIR_INNER_ETH;
	return WEIR_TUN_OK;
}

int weir_tun_geneve(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	*h = (struct weir_tun_hdr){.type = WEIR_TUN_GENEVE};
	if (n < GENEVE_HLEN || b[0] >> 6 != 0) /* only version 0 exists */
		return WEIR_TUN_BAD;
	const uint32_t hl = GENEVE_HLEN + (uint32_t)(b[0] & GENEVE_OPTLEN_MASK) * 4;
	if (n < hl)
		return WEIR_TUN_BAD;
	h->id = rd32(b + 4) >> 8;
	h->keyed = 1;
	h->len = hl; /* options are skipped by their total length */
	const uint16_t proto = rd16(b + 2);
	if (proto != WEIR_INNER_ETH && proto != WEIR_INNER_IPV4 && proto != WEIR_INNER_IPV6)
		return WEIR_TUN_UNSUPPORTED;
	h->inner = proto;
	return WEIR_TUN_OK;
}

int weir_tun_gtpu(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	*h = (struct weir_tun_hdr){.type = WEIR_TUN_GTPU};
	if (n < GTP_HLEN || b[0] >> 5 != GTP_VERSION_1 || !(b[0] & GTP_PT))
		return WEIR_TUN_BAD;
	if (b[1] != GTP_GPDU)
		return WEIR_TUN_NOT; /* echo, error indication, end marker: signalling, no user
		                        packet */
	/* The TEID names the receiver's end, so each direction carries its own: it is not kept. */
	uint32_t o = GTP_HLEN;
	if (b[0] & GTP_ESPN) {
		if (n < o + GTP_OPT_LEN)
			return WEIR_TUN_BAD;
		uint8_t next = b[o + 3];
		o += GTP_OPT_LEN;
		/* Extension headers (E): length in 4-byte words, contents, next type in the last
		 * byte. */
		while ((b[0] & GTP_E) && next != 0) {
			if (n - o < 1 || b[o] == 0 || n - o < (uint32_t)b[o] * 4)
				return WEIR_TUN_BAD;
			const uint32_t len = (uint32_t)b[o] * 4;
			next = b[o + len - 1];
			o += len;
		}
	}
	h->len = o;
	if (n == o)
		return WEIR_TUN_NOT; /* a G-PDU with no packet in it */
	return inner_ip(b, n, h);
}

/* Whether an IPv6 header at b (n bytes from it to the datagram's end) is what Teredo would carry:
 * the datagram holds exactly the packet. Teredo has no header of its own, so this is how it is
 * told from other traffic on its port (Zeek and Suricata check the same). */
static int teredo_ipv6(const uint8_t *b, uint32_t n)
{
	return n >= IPV6_HLEN && b[0] >> 4 == 6 && IPV6_HLEN + (uint32_t)rd16(b + 4) == n;
}

int weir_tun_teredo(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	*h = (struct weir_tun_hdr){.type = WEIR_TUN_TEREDO};
	uint32_t o = 0;
	if (n - o >= TEREDO_AUTH_FIXED && rd16(b + o) == TEREDO_AUTH) {
		const uint32_t alen = TEREDO_AUTH_FIXED + b[o + 2] + b[o + 3];
		if (n - o < alen)
			return WEIR_TUN_NOT;
		o += alen;
	}
	if (n - o >= TEREDO_ORIGIN_LEN && rd16(b + o) == TEREDO_ORIGIN)
		o += TEREDO_ORIGIN_LEN;
	if (!teredo_ipv6(b + o, n - o))
		return WEIR_TUN_NOT;
	h->len = o;
	h->inner = WEIR_INNER_IPV6;
	return WEIR_TUN_OK;
}

int weir_tun_ayiya(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h)
{
	*h = (struct weir_tun_hdr){.type = WEIR_TUN_AYIYA};
	if (n < AYIYA_HLEN)
		return WEIR_TUN_BAD;
	const uint32_t hl = AYIYA_HLEN + (1u << (b[0] >> 4)) + (uint32_t)(b[1] >> 4) * 4;
	if (n < hl)
		return WEIR_TUN_BAD;
	if ((b[2] & 0x0f) != AYIYA_OP_FORWARD)
		return WEIR_TUN_NOT; /* echo, motd, query: no packet */
	h->len = hl;
	if (b[3] == PROTO_IPV6)
		h->inner = WEIR_INNER_IPV6;
	else if (b[3] == PROTO_IPIP)
		h->inner = WEIR_INNER_IPV4;
	else
		return WEIR_TUN_UNSUPPORTED;
	return WEIR_TUN_OK;
}

/* Teredo after qualification: a client talks to a relay on ports neither of which is 3544. As
 * Zeek's Teredo signature does, a datagram on other ports is taken as Teredo when it holds exactly
 * one IPv6 packet from or to the Teredo prefix 2001:0::/32 (RFC 4380 2.6). */
static int teredo_elsewhere(const uint8_t *b, uint32_t n)
{
	static const uint8_t prefix[4] = {0x20, 0x01, 0x00, 0x00};
	return teredo_ipv6(b, n) && (!memcmp(b + 8, prefix, 4) || !memcmp(b + 24, prefix, 4));
}

/* A decoder of a header that follows a UDP header. */
typedef int (*udp_decoder)(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);

/* The UDP datagram at b (n bytes present): a tunnel when a port matches, its decoder run past
 * the UDP header and h->len then counting the UDP header too. */
static int tun_udp(const struct weir_config *cfg, const uint8_t *b, uint32_t n,
                   struct weir_tun_hdr *h)
{
	if (n < UDP_HLEN)
		return WEIR_TUN_NOT; /* the IP layer's business: not a tunnel we can tell */
	const uint32_t sport = rd16(b), dport = rd16(b + 2);
	udp_decoder dec = NULL;
	/* 0 disables a port: compared first, it can never match the datagram's port 0. */
	if (cfg->vxlan_port && dport == cfg->vxlan_port)
		dec = weir_tun_vxlan;
	else if (cfg->geneve_port && dport == cfg->geneve_port)
		dec = weir_tun_geneve;
	else if (cfg->gre_udp_port && dport == cfg->gre_udp_port)
		dec = weir_tun_gre;
	else if (cfg->gtpu_port && (dport == cfg->gtpu_port || sport == cfg->gtpu_port))
		dec = weir_tun_gtpu;
	else if (cfg->teredo_port && (dport == cfg->teredo_port || sport == cfg->teredo_port))
		dec = weir_tun_teredo;
	else if (cfg->ayiya_port && (dport == cfg->ayiya_port || sport == cfg->ayiya_port))
		dec = weir_tun_ayiya;
	else if (cfg->teredo_port && teredo_elsewhere(b + UDP_HLEN, n - UDP_HLEN))
		dec = weir_tun_teredo;
	else
		return WEIR_TUN_NOT;
	/* The UDP length bounds the datagram when it is smaller than what the IP layer gave. */
	const uint32_t ulen = rd16(b + 4);
	if (ulen >= UDP_HLEN && ulen < n)
		n = ulen;
	const int r = dec(b + UDP_HLEN, n - UDP_HLEN, h);
	h->len += UDP_HLEN;
	return r;
}

int weir_tun_decode(const struct weir_config *cfg, uint8_t proto, const uint8_t *b, uint32_t n,
                    struct weir_tun_hdr *h)
{
	switch (proto) {
	case PROTO_UDP:
		return tun_udp(cfg, b, n, h);
	case PROTO_GRE:
		return weir_tun_gre(b, n, h);
	case PROTO_IPIP:
	case PROTO_IPV6:
		*h = (struct weir_tun_hdr){.type = WEIR_TUN_IPIP,
		                           .inner = proto == PROTO_IPIP ? WEIR_INNER_IPV4
		                                                        : WEIR_INNER_IPV6};
		return WEIR_TUN_OK;
	default:
		return WEIR_TUN_NOT;
	}
}

int weir_parse_outer(const struct weir_pkt *p, struct weir_tunnel_outer *out)
{
	if (!p || !out || !p->tun_depth || !p->frame)
		return -EINVAL;
	/* The parse that set tun_depth walked this header whole and the UDP header after it when
	 * it was UDP (tun_udp): nothing here reads past what it checked. */
	const uint8_t *h = p->frame + p->outer_l3_off;
	uint32_t l4;
	memset(out, 0, sizeof(*out));
	if (h[0] >> 4 == 4) {
		out->ip_ver = 4;
		out->proto = h[9];
		memcpy(out->src_ip, h + 12, 4);
		memcpy(out->dst_ip, h + 16, 4);
		l4 = (uint32_t)(h[0] & 0x0f) * 4;
	} else {
		out->ip_ver = 6;
		out->proto = h[6];
		memcpy(out->src_ip, h + 8, 16);
		memcpy(out->dst_ip, h + 24, 16);
		l4 = IPV6_HLEN;
	}
	if (out->proto == PROTO_UDP) {
		out->src_port = rd16(h + l4);
		out->dst_port = rd16(h + l4 + 2);
	}
	return 0;
}
