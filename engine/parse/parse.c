/* parse.c — turns one captured frame into a struct weir_pkt view: IPv4/IPv6 and TCP headers, no
 * copy; the link layers below IP are link.c's. */
#include "parse/parse_internal.h"

#include <string.h>

#include "parse/tunnel.h"

#define IPV4_HLEN_MIN 20
#define IPV4_MF 0x2000    /* more-fragments flag in the flags/offset word */
#define IPV4_OFF_MASK 0x1fff /* fragment offset in 8-byte units */
#define IPV6_HLEN 40

/* IPv6 next-header values walked as extension headers (IANA protocol numbers). */
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_DSTOPTS 60
#define IP6_FRAG_HLEN 8
#define IP6_FRAG_OFF_MASK 0xfff8 /* offset in 8-byte units in the top 13 bits; bit 0 is M */

#define PROTO_TCP 6
#define TCP_HLEN_MIN 20

/* TCP option kinds and their fixed lengths (RFC 9293, 7323, 2018). */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_MSS_LEN 4
#define TCPOPT_WS 3
#define TCPOPT_WS_LEN 3
#define TCPOPT_SACKPERM 4
#define TCPOPT_SACKPERM_LEN 2
#define TCPOPT_SACK 5
#define TCPOPT_SACK_BLOCK 8 /* two 32-bit edges; the option is 2 + 8n bytes */
#define TCPOPT_TS 8
#define TCPOPT_TS_LEN 10
#define TS_ALIGNED_WORD 0x0101080au /* NOP, NOP, kind 8, length 10 */
#define TS_ALIGNED_LEN 12

#define WSCALE_ABSENT 0xff      /* documented value of weir_pkt.wscale without the option */
#define OFF16_MAX 0xffff    /* l3_off/l4_off are 16-bit */
#define IPV4_HLEN_MAX 60    /* IHL is 4 bits of 4-byte words */

/* One weir_parse call's state. The functions below carry a pointer to its first member, reason;
 * the tunnel step (decap) gets back to the whole from it, so the link and IP layers need no
 * argument for what only tunnels use. Every entry (weir_parse, weir_parse_cfg) starts from one. */
struct parse_state {
	unsigned reason;
	const struct weir_config *cfg; /* tunnel ports and depth limit (the view counts the depth) */
};

static inline struct parse_state *state_of(unsigned *reason)
{
	return (struct parse_state *)(void *)reason; /* reason is the first member (C11 6.7.2.1) */
}

/* Sets every header-derived field to its "absent" value, field by field: cheaper than clearing
 * the whole view, and the paths below only write what they find. */
static inline void reset_view(struct weir_pkt *p, uint32_t caplen, uint32_t wirelen)
{
	p->payload = NULL;
	p->caplen = caplen;
	p->wirelen = wirelen;
	p->payload_len = 0;
	p->seq = 0;
	p->ack = 0;
	p->l3_off = 0;
	p->l4_off = 0;
	p->ip_len = 0;
	p->sport = 0;
	p->dport = 0;
	p->win = 0;
	p->vlan[0] = 0;
	p->vlan[1] = 0;
	p->mss = 0;
	p->nvlan = 0;
	p->ip_ver = 0;
	p->l4proto = 0;
	p->tcp_flags = 0;
	p->wscale = WSCALE_ABSENT;
	p->sack_perm = 0;
	p->has_ts = 0;
	p->nsack = 0;
	p->ip_frag = 0;
	p->ttl = 0;
	p->encap = 0;
	p->tun_depth = 0;
	p->tun_type = 0;
	p->tun_id = 0;
	p->tun_keyed = 0;
	p->outer_l3_off = 0;
	p->ts_val = 0;
	p->ts_ecr = 0;
	memset(p->sack, 0, sizeof(p->sack));
	memset(p->src, 0, sizeof(p->src));
	memset(p->dst, 0, sizeof(p->dst));
}

/* Where the IP layer's bytes stop: the end its length field claims, clipped to what was
 * captured. Always <= caplen, so every later bound check against it is a caplen check too. */
static inline uint32_t clip_end(uint32_t ip_end, uint32_t caplen)
{
	return ip_end < caplen ? ip_end : caplen;
}

/* A non-TCP or fragmented IP packet: payload covers the bytes after the IP headers walked. */
static int ip_other(struct weir_pkt *p, const uint8_t *f, uint32_t off, uint32_t end, int result)
{
	p->l4_off = (uint16_t)off;
	if (end > off) {
		p->payload = f + off;
		p->payload_len = end - off;
	}
	return result;
}

/* Walks the TCP options in [o, e). Returns false on an option whose length is < 2 or runs past
 * the header; what was parsed before it is kept. */
static bool parse_tcp_options(struct weir_pkt *p, const uint8_t *o, const uint8_t *e)
{
	while (o < e) {
		uint8_t kind = o[0];
		if (kind == TCPOPT_EOL)
			return true;
		if (kind == TCPOPT_NOP) {
			o++;
			continue;
		}
		if (e - o < 2)
			return false;
		uint8_t len = o[1];
		if (len < 2 || len > e - o)
			return false;
		/* An option of a known kind with the wrong length is skipped by its length, as
		 * Linux does: it is not malformed framing, only an unusable option. */
		switch (kind) {
		case TCPOPT_MSS:
			if (len == TCPOPT_MSS_LEN)
				p->mss = rd16(o + 2);
			break;
		case TCPOPT_WS:
			if (len == TCPOPT_WS_LEN)
				p->wscale = o[2];
			break;
		case TCPOPT_SACKPERM:
			if (len == TCPOPT_SACKPERM_LEN)
				p->sack_perm = 1;
			break;
		case TCPOPT_SACK:
			if (len > 2 && (len - 2) % TCPOPT_SACK_BLOCK == 0) {
				/* 40 option bytes fit at most 4 blocks, so n <= 4 always holds. */
				unsigned n = (unsigned)(len - 2) / TCPOPT_SACK_BLOCK;
				for (unsigned i = 0; i < n; i++) {
					p->sack[i][0] = rd32(o + 2 + i * TCPOPT_SACK_BLOCK);
					p->sack[i][1] = rd32(o + 6 + i * TCPOPT_SACK_BLOCK);
				}
				p->nsack = (uint8_t)n;
			}
			break;
		case TCPOPT_TS:
			if (len == TCPOPT_TS_LEN) {
				p->has_ts = 1;
				p->ts_val = rd32(o + 2);
				p->ts_ecr = rd32(o + 6);
			}
			break;
		default:
			break;
		}
		o += len;
	}
	return true;
}

/* The TCP header at off. ip_end is where the IP length says the segment ends (may lie past
 * caplen in a truncated capture). */
static int parse_tcp(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t off,
                     uint32_t ip_end, unsigned *reason)
{
	uint32_t end = clip_end(ip_end, caplen);
	p->l4_off = (uint16_t)off;
	if (end < off || end - off < TCP_HLEN_MIN)
		return malformed(reason, WEIR_MAL_TRUNC_TCP);
	const uint8_t *t = f + off;
	uint32_t hlen = (uint32_t)(t[12] >> 4) * 4;
	if (hlen < TCP_HLEN_MIN || hlen > ip_end - off)
		return malformed(reason, WEIR_MAL_BAD_TCP_HLEN);
	if (hlen > end - off)
		return malformed(reason, WEIR_MAL_TRUNC_TCP);
	p->sport = rd16(t);
	p->dport = rd16(t + 2);
	p->seq = rd32(t + 4);
	p->ack = rd32(t + 8);
	p->tcp_flags = t[13];
	p->win = rd16(t + 14);
	/* Most segments of an established flow carry exactly NOP, NOP, timestamps (RFC 7323
	 * appendix A layout): taking it in one compare saves ~15% of a parse. */
	if (hlen == TCP_HLEN_MIN + TS_ALIGNED_LEN && rd32(t + TCP_HLEN_MIN) == TS_ALIGNED_WORD) {
		p->has_ts = 1;
		p->ts_val = rd32(t + TCP_HLEN_MIN + 4);
		p->ts_ecr = rd32(t + TCP_HLEN_MIN + 8);
	} else if (hlen > TCP_HLEN_MIN && !parse_tcp_options(p, t + TCP_HLEN_MIN, t + hlen))
		*reason = WEIR_MAL_BAD_TCP_OPT;
	uint32_t data = off + hlen;
	if (end > data) {
		p->payload = f + data;
		p->payload_len = end - data;
	}
	return WEIR_PARSE_TCP;
}

/* ip_len is 16 bits: a jumbogram or offloaded super-packet reports 65535. */
static inline uint16_t sat16(uint32_t v)
{
	return (uint16_t)(v > UINT16_MAX ? UINT16_MAX : v);
}

/* Where the frame ends on the wire: a snap length may have cut the capture short. */
static inline uint32_t frame_end(uint32_t caplen, uint32_t wirelen)
{
	return wirelen > caplen ? wirelen : caplen;
}

/* Checks an IP length field against the captured bytes. Returns the IP end (possibly past
 * caplen when the capture was cut short by a snap length) or 0 when inconsistent. */
static inline uint32_t ip_end_of(uint32_t off, uint32_t len, uint32_t caplen, uint32_t wirelen)
{
	uint32_t ip_end = off + len;
	if (ip_end > caplen && wirelen <= caplen)
		return 0; /* whole frame captured, yet the IP length claims more: a lie */
	return ip_end;
}

/* The tunnel step, after an IP layer found a payload that is not TCP (defined below: the inner
 * packet goes through the link and IP steps again). */
static int decap(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                 unsigned *reason);

/* An IPv4 payload that is not TCP: plain traffic, or a tunnel to take off. Out of line, so that
 * the TCP path of weir_parse_ipv4 compiles as it did before tunnels (no register saves for this
 * branch). */
__attribute__((noinline)) static int ip_payload(struct weir_pkt *p, const uint8_t *f,
                                                uint32_t caplen, uint32_t wirelen, uint32_t off,
                                                uint32_t end, unsigned *reason)
{
	ip_other(p, f, off, end, WEIR_PARSE_OTHER);
	return decap(p, f, caplen, wirelen, reason);
}

int weir_parse_ipv4(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                    uint32_t off, unsigned *reason)
{
	if (caplen - off < IPV4_HLEN_MIN)
		return malformed(reason, WEIR_MAL_TRUNC_IP);
	const uint8_t *h = f + off;
	if (h[0] >> 4 != 4)
		return malformed(reason, WEIR_MAL_BAD_IP_VERSION);
	uint32_t hlen = (uint32_t)(h[0] & 0x0f) * 4;
	if (hlen < IPV4_HLEN_MIN)
		return malformed(reason, WEIR_MAL_BAD_IP_HLEN);
	uint32_t tot = rd16(h + 2);
	if (tot != 0 && tot < hlen)
		return malformed(reason, WEIR_MAL_BAD_IP_LEN);
	if (hlen > caplen - off)
		return malformed(reason, WEIR_MAL_TRUNC_IP);
	uint32_t ip_end;
	if (tot == 0) {
		/* Captured on a host doing TCP segmentation offload, a large segment goes by with
		 * total length 0 (Zeek's kerberos_tso trace has them; Zeek and Wireshark take the
		 * frame as the packet). A zero cannot describe a real packet, so nothing is lost. */
		ip_end = frame_end(caplen, wirelen);
	} else {
		ip_end = ip_end_of(off, tot, caplen, wirelen);
		if (ip_end == 0)
			return malformed(reason, WEIR_MAL_BAD_IP_LEN);
	}
	p->ip_ver = 4;
	p->ip_len = sat16(ip_end - off);
	p->ttl = h[8];
	p->l4proto = h[9];
	memcpy(p->src, h + 12, 4);
	memcpy(p->dst, h + 16, 4);
	uint32_t l4 = off + hlen;
	if (rd16(h + 6) & (IPV4_MF | IPV4_OFF_MASK)) {
		p->ip_frag = 1;
		return ip_other(p, f, l4, clip_end(ip_end, caplen), WEIR_PARSE_FRAGMENT);
	}
	if (h[9] != PROTO_TCP)
		return ip_payload(p, f, caplen, wirelen, l4, clip_end(ip_end, caplen), reason);
	return parse_tcp(p, f, caplen, l4, ip_end, reason);
}

/* Walks IPv6 extension headers from off (the byte after the fixed header) with next header nh,
 * up to end (IP end clipped to caplen). Returns a result; for TCP, *l4 is the TCP offset. */
static int walk_ipv6_ext(struct weir_pkt *p, const uint8_t *f, uint32_t end, uint32_t off,
                         uint8_t nh, uint32_t *l4, unsigned *reason)
{
	for (;;) {
		uint32_t len;
		switch (nh) {
		case PROTO_TCP:
			*l4 = off;
			p->l4proto = nh;
			return WEIR_PARSE_TCP;
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_DSTOPTS:
			if (end < off || end - off < 2)
				return malformed(reason, WEIR_MAL_TRUNC_IPV6_EXT);
			len = ((uint32_t)f[off + 1] + 1) * 8; /* in 8-byte units, not counting the first 8 */
			break;
		case IP6_AH:
			if (end < off || end - off < 2)
				return malformed(reason, WEIR_MAL_TRUNC_IPV6_EXT);
			len = ((uint32_t)f[off + 1] + 2) * 4; /* RFC 4302: 4-byte units, minus 2 */
			break;
		case IP6_FRAGMENT:
			if (end < off || end - off < IP6_FRAG_HLEN)
				return malformed(reason, WEIR_MAL_TRUNC_IPV6_EXT);
			/* An atomic fragment (offset 0, M clear; RFC 6946) is a whole packet. */
			if (rd16(f + off + 2) & (IP6_FRAG_OFF_MASK | 1)) {
				if (off + IP6_FRAG_HLEN > OFF16_MAX)
					return malformed(reason, WEIR_MAL_BAD_IP_LEN);
				p->ip_frag = 1;
				p->l4proto = f[off];
				return ip_other(p, f, off + IP6_FRAG_HLEN, end, WEIR_PARSE_FRAGMENT);
			}
			len = IP6_FRAG_HLEN;
			break;
		default:
			/* ESP, no-next-header (59), UDP, ICMPv6, ...: not ours to look into. */
			p->l4proto = nh;
			return ip_other(p, f, off, end, WEIR_PARSE_OTHER);
		}
		if (len > end - off)
			return malformed(reason, WEIR_MAL_TRUNC_IPV6_EXT);
		nh = f[off];
		off += len;
		if (off > OFF16_MAX) /* cannot be described by the 16-bit l4_off */
			return malformed(reason, WEIR_MAL_BAD_IP_LEN);
	}
}

int weir_parse_ipv6(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                    uint32_t off, unsigned *reason)
{
	if (caplen - off < IPV6_HLEN)
		return malformed(reason, WEIR_MAL_TRUNC_IP);
	const uint8_t *h = f + off;
	if (h[0] >> 4 != 6)
		return malformed(reason, WEIR_MAL_BAD_IP_VERSION);
	uint32_t plen = rd16(h + 4);
	uint32_t ip_end;
	if (plen == 0) {
		/* Jumbogram (RFC 2675), or TSO as for IPv4: the frame is the packet. */
		ip_end = frame_end(caplen, wirelen);
	} else {
		ip_end = ip_end_of(off, IPV6_HLEN + plen, caplen, wirelen);
		if (ip_end == 0)
			return malformed(reason, WEIR_MAL_BAD_IP_LEN);
	}
	p->ip_ver = 6;
	p->ip_len = sat16(ip_end - off);
	p->ttl = h[7];
	memcpy(p->src, h + 8, 16);
	memcpy(p->dst, h + 24, 16);
	uint32_t l4 = 0;
	int r = walk_ipv6_ext(p, f, clip_end(ip_end, caplen), off + IPV6_HLEN, h[6], &l4, reason);
	if (r == WEIR_PARSE_OTHER)
		return decap(p, f, caplen, wirelen, reason);
	if (r != WEIR_PARSE_TCP)
		return r;
	return parse_tcp(p, f, caplen, l4, ip_end, reason);
}

/* The inner packet of a tunnel at off, of type inner (an EtherType, or WEIR_INNER_ETH for an
 * Ethernet frame), inside the outer IP packet's captured bytes [.., end). It goes through the
 * link layers as any frame does: tags inside the tunnel follow those outside it in the view. */
static int parse_inner(struct weir_pkt *p, const uint8_t *f, uint32_t end, uint32_t wirelen,
                       uint32_t off, uint16_t inner, unsigned *reason)
{
	if (inner == WEIR_INNER_ETH) {
		if (end - off < ETH_HLEN)
			return malformed(reason, WEIR_MAL_TRUNC_L2);
		inner = rd16(f + off + ETH_HLEN - 2);
		off += ETH_HLEN;
	}
	return weir_link_ethertype(p, f, end, wirelen, off, inner, reason);
}

static int decap(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                 unsigned *reason)
{
	struct parse_state *st = state_of(reason);
	struct weir_tun_hdr h;
	if (st->cfg->tunnel_depth == 0 || p->payload == NULL)
		return WEIR_PARSE_OTHER;
	switch (weir_tun_decode(st->cfg, p->l4proto, p->payload, p->payload_len, &h)) {
	case WEIR_TUN_OK:
		break;
	case WEIR_TUN_BAD:
		return malformed(reason, WEIR_MAL_BAD_TUNNEL);
	case WEIR_TUN_UNSUPPORTED:
		return malformed(reason, WEIR_MAL_TUNNEL_UNSUPPORTED);
	default:
		return WEIR_PARSE_OTHER;
	}
	if (p->tun_depth >= st->cfg->tunnel_depth)
		return malformed(reason, WEIR_MAL_TUNNEL_DEPTH);
	if (p->tun_depth++ == 0)
		p->outer_l3_off = p->l3_off;
	p->tun_type = h.type;
	if (h.keyed) {
		p->tun_id = h.id;
		p->tun_keyed = h.type;
	}
	const uint32_t off = (uint32_t)(p->payload - f) + h.len;
	/* The inner packet ends where the outer one does; a snap length that cut the outer packet
	 * cut the inner one by as much. */
	const uint32_t end = off - h.len + p->payload_len;
	const uint32_t inner_wire = wirelen > caplen ? end + (wirelen - caplen) : end;
	p->payload = NULL;
	p->payload_len = 0;
	p->l4proto = 0;
	return parse_inner(p, f, end, inner_wire, off, h.inner, reason);
}

/* Settings of weir_parse(), and of weir_parse_cfg() without a config: the defaults. */
static const struct weir_config tunnel_defaults = {
    .tunnel_depth = WEIR_TUN_MAX_DEPTH,
    .vxlan_port = WEIR_TUN_PORT_VXLAN,
    .geneve_port = WEIR_TUN_PORT_GENEVE,
    .gtpu_port = WEIR_TUN_PORT_GTPU,
    .teredo_port = WEIR_TUN_PORT_TEREDO,
    .ayiya_port = WEIR_TUN_PORT_AYIYA,
    .gre_udp_port = WEIR_TUN_PORT_GRE_UDP,
};

/* The frame's link layer, then IP. Ethernet, most frames on most links: its type is read once,
 * here, and IP goes straight to IP (through the link-layer walk, a table lookup and a call per
 * header, a parse cost 67 instructions more: 250 instead of 183, callgrind, weir_memloop hash on
 * 30,000 packets of bench.pcap); anything else walks on from that EtherType. */
static inline __attribute__((always_inline)) int parse_link(struct weir_pkt *p, const uint8_t *f,
                                                            uint32_t caplen, uint32_t wirelen,
                                                            int linktype, unsigned *reason)
{
	if (linktype == WEIR_DLT_EN10MB && caplen >= ETH_HLEN) {
		const uint16_t type = rd16(f + ETH_HLEN - 2);
		if (type == ETH_IPV4 || type == ETH_IPV6) {
			p->l3_off = ETH_HLEN;
			if (type == ETH_IPV4)
				return weir_parse_ipv4(p, f, caplen, wirelen, ETH_HLEN, reason);
			return weir_parse_ipv6(p, f, caplen, wirelen, ETH_HLEN, reason);
		}
		return weir_link_ethertype(p, f, caplen, wirelen, ETH_HLEN, type, reason);
	}
	return weir_link_parse(p, f, caplen, wirelen, linktype, reason);
}

/* Both entries' body, inlined into each: a call less per frame. */
static inline __attribute__((always_inline)) int
parse_frame(struct weir_pkt *p, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
            int linktype, const struct weir_config *cfg, unsigned *reason)
{
	struct parse_state st = {NO_REASON, cfg};
	int r;
	if (p == NULL) {
		r = malformed(&st.reason, WEIR_MAL_TRUNC_L2);
	} else {
		if (frame == NULL)
			caplen = 0; /* nothing to read, whatever the caller said */
		reset_view(p, caplen, wirelen);
		r = parse_link(p, frame, caplen, wirelen, linktype, &st.reason);
	}
	if (reason)
		*reason = st.reason;
	return r;
}

int weir_parse_cfg(struct weir_pkt *p, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                   int linktype, const struct weir_config *cfg, unsigned *reason)
{
	return parse_frame(p, frame, caplen, wirelen, linktype, cfg ? cfg : &tunnel_defaults,
	                   reason);
}

int weir_parse(struct weir_pkt *p, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
               int linktype, unsigned *reason)
{
	return parse_frame(p, frame, caplen, wirelen, linktype, &tunnel_defaults, reason);
}
