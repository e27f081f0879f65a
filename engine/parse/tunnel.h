/* tunnel.h — tunnel header decoders for parse.c: each reads one encapsulation header and says what
 * follows it. */
#ifndef WEIR_TUNNEL_H
#define WEIR_TUNNEL_H

#include <stdint.h>

#include "weir.h"

/* What follows a tunnel header, as an EtherType (IEEE registry). */
#define WEIR_INNER_IPV4 0x0800
#define WEIR_INNER_IPV6 0x86dd
#define WEIR_INNER_ETH  0x6558 /* Transparent Ethernet Bridging: a whole Ethernet frame */
#define WEIR_INNER_LLC  0x0000 /* an 802.3 length: an 802.2 LLC header (SNAP for IP) follows */

/** One decoded tunnel header. */
struct weir_tun_hdr {
	uint32_t
	    len; /**< header bytes: the inner packet starts len bytes after the header's start */
	uint32_t id;    /**< VNI or GRE key when keyed; 0 otherwise */
	uint16_t inner; /**< what follows, as an EtherType (WEIR_INNER_*) */
	uint8_t type;   /**< enum weir_tunnel */
	uint8_t
	    keyed; /**< 1: id names the tunnel in both directions (it joins the flow's identity) */
};

/** What a decoder found. */
enum weir_tun_result {
	WEIR_TUN_OK = 0,  /**< *h is filled: decapsulate */
	WEIR_TUN_NOT = 1, /**< not a tunneled packet (a datagram on the port that is something
	                       else, a GTP-U echo, a PPTP acknowledgement): plain traffic */
	WEIR_TUN_BAD = 2, /**< truncated or invalid header (WEIR_MAL_BAD_TUNNEL) */
	WEIR_TUN_UNSUPPORTED = 3, /**< a valid header over a payload weir does not decode
	                               (WEIR_MAL_TUNNEL_UNSUPPORTED) */
};

/* One decoder per header. b points at the header, n bytes of it (and what follows) are present;
 * each returns an enum weir_tun_result and reads nothing past b + n. */
int weir_tun_gre(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);
/* An 802.11 data frame (Aruba's GRE payload), to its LLC header: of an A-MSDU, the first
 * subframe's. */
int weir_tun_wlan(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);
int weir_tun_vxlan(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);
int weir_tun_geneve(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);
int weir_tun_gtpu(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);
int weir_tun_teredo(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);
int weir_tun_ayiya(const uint8_t *b, uint32_t n, struct weir_tun_hdr *h);

/**
 * The tunnel, if any, that an IP payload of protocol proto starts (GRE, IP-in-IP, or a UDP
 * datagram to one of cfg's tunnel ports): b points at the IP payload, n bytes present. For UDP, h
 * covers the UDP header too. Returns an enum weir_tun_result; WEIR_TUN_NOT for anything else.
 */
int weir_tun_decode(const struct weir_config *cfg, uint8_t proto, const uint8_t *b, uint32_t n,
                    struct weir_tun_hdr *h);

#endif
