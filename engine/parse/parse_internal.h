/* parse_internal.h — what the decoders of engine/parse share: byte readers (bytes.h), the
 * malformed return, the IP entry points (parse.c) and the link-layer walk (link.c). Not for use
 * outside engine/parse. */
#ifndef WEIR_PARSE_INTERNAL_H
#define WEIR_PARSE_INTERNAL_H

#include "parse/bytes.h"
#include "parse/parse.h"

/* EtherTypes (IEEE registry) the IP path and the link layers both name. */
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_HLEN 14 /* dst MAC, src MAC, type */

/* Marks "nothing wrong" in *reason: one past the last real reason. */
#define NO_REASON WEIR_MAL_COUNT

static inline int malformed(unsigned *reason, unsigned why)
{
	*reason = why;
	return WEIR_PARSE_MALFORMED;
}

/* The IPv4 / IPv6 header at off and what it carries (parse.c). f is the whole frame: caplen and
 * wirelen are the frame's, and l3_off is the caller's to set. Returns an enum weir_parse_result. */
int weir_parse_ipv4(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                    uint32_t off, unsigned *reason);
int weir_parse_ipv6(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                    uint32_t off, unsigned *reason);

/* Decodes a frame of the given link type from its first byte (link.c): the link-layer headers,
 * then IP. The view must have been reset (every field absent). */
int weir_link_parse(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                    int linktype, unsigned *reason);

/* Decodes from an EtherType (type) whose header ends at off: VLAN tags, PBB, FabricPath, MPLS,
 * PPPoE, LLC/SNAP (a type < 0x0600 is an 802.3 length), then IP (link.c). The entry for Ethernet
 * carried inside something else (a tunnel): off is the byte after the inner Ethernet header's
 * type field. Header depth is counted from here against WEIR_L2_MAX_HEADERS. */
int weir_link_ethertype(struct weir_pkt *p, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                        uint32_t off, uint16_t type, unsigned *reason);

#endif
