/* parse.h — link, network and TCP header parsing into a struct weir_pkt view (no copy). */
#ifndef WEIR_PARSE_H
#define WEIR_PARSE_H

#include "weir.h"

/** What a frame turned out to be. */
enum weir_parse_result {
	WEIR_PARSE_TCP = 0,       /**< an unfragmented TCP segment: every field of the view is set */
	WEIR_PARSE_OTHER = 1,     /**< not IP, or IP but not TCP: forwarded untouched */
	WEIR_PARSE_FRAGMENT = 2,  /**< an IPv4/IPv6 fragment: counted and passed, not reassembled */
	WEIR_PARSE_MALFORMED = 3, /**< truncated or inconsistent: *reason says why */
};

/** Link types understood (pcap DLT numbers). Below them weir walks 802.1Q/802.1ad/0x9100 tags at
 *  any depth (the two outermost ids kept in vlan[], all counted in nvlan), PBB (802.1ah), Cisco
 *  FabricPath, MPLS label stacks (IP after the bottom of stack, by explicit-null label or version
 *  nibble), PPPoE sessions, PPP (compressed protocol field too), Cisco HDLC and 802.2 LLC/SNAP
 *  (an 802.3 length instead of an EtherType), up to WEIR_L2_MAX_HEADERS headers below the link
 *  type's own (WEIR_MAL_L2_DEPTH beyond). weir_pkt.encap records the kinds crossed (enum weir_encap). */
#define WEIR_DLT_NULL 0       /* BSD loopback, host-order 4-byte family */
#define WEIR_DLT_EN10MB 1     /* Ethernet, with 802.1Q / 802.1ad tags */
#define WEIR_DLT_RAW 12       /* raw IP (OpenBSD numbering; also LINKTYPE_RAW 101) */
#define WEIR_DLT_RAW101 101
#define WEIR_DLT_LOOP 108     /* OpenBSD loopback, network-order family */
#define WEIR_DLT_LINUX_SLL 113
#define WEIR_DLT_IPV4 228
#define WEIR_DLT_IPV6 229
#define WEIR_DLT_LINUX_SLL2 276
#define WEIR_DLT_PPP        9   /* PPP: HDLC address/control optional; Cisco HDLC recognised too */
#define WEIR_DLT_FDDI       10  /* FDDI, then 802.2 LLC/SNAP */
#define WEIR_DLT_PPP_SERIAL 50  /* PPP in HDLC-like framing (RFC 1662), or Cisco HDLC */
#define WEIR_DLT_C_HDLC     104 /* Cisco HDLC: address, control, EtherType */

/**
 * Parses one frame. Fills *p (frame, ts and port are left to the caller: this sets the header
 * fields only) and returns an enum weir_parse_result. On WEIR_PARSE_MALFORMED, *reason is an
 * enum weir_malformed. Reads at most caplen bytes of frame; never writes to it.
 * IPv4 options are skipped; IPv6 extension headers (hop-by-hop, routing, destination options,
 * fragment, AH) are walked. The TCP payload is trimmed to the IP length (Ethernet padding is not
 * payload) and to caplen (a truncated capture yields the bytes present in payload_len).
 *
 * *reason (reason may be NULL) is always written: WEIR_MAL_COUNT when nothing is wrong. One case
 * sets it without MALFORMED: a TCP option whose length is < 2 or runs past the header returns
 * WEIR_PARSE_TCP with *reason = WEIR_MAL_BAD_TCP_OPT, the options before it kept and the rest
 * ignored (as Linux does, so the endpoint's view is followed); the caller counts it.
 * An IP length larger than the captured bytes is accepted only when wirelen > caplen (a snap
 * length cut the frame); otherwise it is WEIR_MAL_BAD_IP_LEN. A length field of 0 (IPv4 total
 * length under TCP segmentation offload, IPv6 jumbogram) means "the frame is the packet": the IP
 * end is max(caplen, wirelen); ip_len saturates at 65535. IPv4 options are skipped, not
 * validated. Checksums are not verified here: weir_parse_csum() does.
 * For a frame that is not IP, l3_off is 0. For OTHER over IP and for FRAGMENT, l4proto and
 * l4_off name the first header not walked and payload/payload_len cover the IP payload from
 * there. Headers that would put l3_off/l4_off past 65535 are MALFORMED (TRUNC_L2 / BAD_IP_LEN).
 * p == NULL returns MALFORMED (TRUNC_L2); a NULL frame is parsed as an empty one.
 *
 * Tunnels (engine/parse/tunnel.c) are taken off with the default settings (enum
 * weir_tunnel_defaults; weir_parse_cfg takes a config's): GRE and ERSPAN (IP protocol 47), IP-in-IP
 * (4, 41) and UDP to the tunnel ports (VXLAN, Geneve, GTP-U, Teredo, AYIYA, GRE-in-UDP). The view
 * then describes the innermost packet (l3_off, addresses, TCP), with tun_type, tun_depth, tun_id,
 * tun_keyed and outer_l3_off saying what was around it; VLAN tags outside and inside an Ethernet
 * tunnel are kept in that order. A bad tunnel header is MALFORMED (BAD_TUNNEL); a valid one over
 * a payload weir does not decode (TUNNEL_UNSUPPORTED) and one nested past the depth limit
 * (TUNNEL_DEPTH) are MALFORMED too: counted, not processed. A datagram on a tunnel port that is
 * not the tunnel's (a Teredo port datagram that holds no IPv6 packet, a GTP-U echo) is OTHER.
 */
int weir_parse(struct weir_pkt *p, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
               int linktype, unsigned *reason);

/** weir_parse() with cfg's tunnel settings (tunnel_depth and the *_port fields); cfg NULL: the
 *  defaults. */
int weir_parse_cfg(struct weir_pkt *p, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                   int linktype, const struct weir_config *cfg, unsigned *reason);

/**
 * Verifies the checksums of packet p, which weir_parse() returned as result (WEIR_PARSE_TCP or
 * WEIR_PARSE_FRAGMENT; p->frame must be the frame it parsed). ip: the IPv4 header checksum; tcp:
 * the TCP checksum over the pseudo-header, header and payload (TCP only, IPv4 or IPv6). Returns
 * WEIR_MAL_COUNT when they are right or cannot be verified (a segment cut by the snap length, an
 * IP length of 0: captured before segmentation offload, which computes them), else
 * WEIR_MAL_IP_CHECKSUM or WEIR_MAL_TCP_CHECKSUM. The IPv6 pseudo-header takes the destination
 * field as is (a routing header with segments left is not followed). Reads only what
 * weir_parse() checked. Any thread.
 */
unsigned weir_parse_csum(const struct weir_pkt *p, int result, bool ip, bool tcp);

/** The outermost IP header of a tunneled packet p (tun_depth > 0) as seen in its frame: its
 *  addresses, protocol and, for UDP, ports, in the packet's direction. 0, or -EINVAL when p was
 *  not tunneled. Reads only the bytes weir_parse checked. */
int weir_parse_outer(const struct weir_pkt *p, struct weir_tunnel_outer *out);

/**
 * Whether weir_parse() decodes frames of this link type (a pcap DLT number). Frames of any other
 * link type are MALFORMED with WEIR_MAL_UNKNOWN_LINKTYPE. Any thread.
 */
bool weir_parse_linktype_known(int linktype);

#endif
