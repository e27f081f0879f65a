/* checksum.c — verifies the IPv4 header and TCP checksums of a packet weir_parse() described
 * (RFC 1071 sums; the TCP pseudo-header of RFC 9293 and RFC 8200 sec. 8.1). */
#include "parse/parse_internal.h"

#include <string.h>

#define PROTO_TCP 6

/* The 16-bit one's-complement sum of n bytes at b, added to sum, in host byte order (RFC 1071
 * sec. 2(B): the sum is the same in either order, swapped), eight bytes a load with the carry
 * added back (sec. 2(C)). Not folded. */
static uint64_t sum_bytes(const uint8_t *b, uint32_t n, uint64_t sum)
{
	for (; n >= 8; b += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, b, sizeof(w));
		sum += w;
		sum += sum < w; /* end-around carry */
	}
	uint64_t tail = 0; /* the last 0-7 bytes, an odd last byte padded with a zero */
	memcpy(&tail, b, n);
	sum += tail;
	return sum + (sum < tail);
}

/* A sum folded to 16 bits. Over data that includes its checksum, a right one folds to 0xffff
 * (in either byte order). */
static uint16_t fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A 16-bit value in network order as the sums above read it. */
static uint64_t net16(uint16_t v)
{
	const uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	uint16_t h;
	memcpy(&h, b, sizeof(h));
	return h;
}

unsigned weir_parse_csum(const struct weir_pkt *p, int result, bool ip, bool tcp)
{
	const uint8_t *f = p->frame;
	if (f == NULL || p->caplen < p->l3_off)
		return NO_REASON;
	const uint8_t *h = f + p->l3_off;
	if (p->ip_ver == 4) {
		/* A total length of 0 marks a segment captured before TCP segmentation offload cut
		 * it: its checksums were never computed. */
		if (rd16(h + 2) == 0)
			return NO_REASON;
		if (ip && fold(sum_bytes(h, (uint32_t)(h[0] & 0x0f) * 4, 0)) != 0xffff)
			return WEIR_MAL_IP_CHECKSUM;
	} else if (rd16(h + 4) == 0) {
		return NO_REASON; /* a jumbogram or an offloaded segment, as above */
	}
	if (!tcp || result != WEIR_PARSE_TCP)
		return NO_REASON;
	/* The segment runs from the TCP header to the IP end; a snap length that cut it leaves
	 * nothing to verify. */
	const uint32_t l4 = p->l4_off;
	const uint32_t ip_end = p->l3_off + (uint32_t)p->ip_len;
	if (ip_end > p->caplen || l4 >= ip_end)
		return NO_REASON;
	const uint32_t seg = ip_end - l4;
	const unsigned alen = p->ip_ver == 4 ? 4 : 16;
	uint64_t sum = sum_bytes(p->src, alen, 0);
	sum = sum_bytes(p->dst, alen, sum);
	sum += net16(PROTO_TCP) + net16((uint16_t)seg); /* ip_len is 16 bits: seg < 65536 */
	return fold(sum_bytes(f + l4, seg, sum)) == 0xffff ? NO_REASON : WEIR_MAL_TCP_CHECKSUM;
}
