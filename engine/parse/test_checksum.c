/* test_checksum.c — weir_parse_csum(): IPv4 header and TCP checksums over IPv4 and IPv6, odd
 * lengths, every single-byte corruption, and what cannot be verified (snap length, TSO). */
#include "parse/test_frames.h"

/* The reference sum: RFC 1071 read as big-endian 16-bit words, one byte at a time. */
static uint32_t ref_sum(const uint8_t *b, unsigned n, uint32_t sum)
{
	for (unsigned i = 0; i < n; i++)
		sum += i % 2 ? b[i] : (uint32_t)b[i] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes the right checksums into an Ethernet frame of IPv4 or IPv6 (no extension headers but
 * those of ext_len bytes) carrying TCP, as a sending host does. */
static void set_csums(uint8_t *b, unsigned n, unsigned ext_len)
{
	uint8_t *ip = b + 14;
	unsigned l4, alen;
	if (ip[0] >> 4 == 4) {
		const unsigned hl = (ip[0] & 0x0f) * 4u;
		put16(ip + 10, 0);
		put16(ip + 10, ref_fold(ref_sum(ip, hl, 0)));
		l4 = 14 + hl;
		alen = 4;
	} else {
		l4 = 14 + 40 + ext_len;
		alen = 16;
	}
	const unsigned seg = n - l4;
	const uint8_t *src = ip + (alen == 4 ? 12 : 8);
	uint32_t sum = ref_sum(src, 2 * alen, 0) + 6 + seg; /* both addresses are adjacent */
	put16(b + l4 + 16, 0);
	put16(b + l4 + 16, ref_fold(ref_sum(b + l4, seg, sum)));
}

static unsigned csum_of(const uint8_t *b, uint32_t caplen, uint32_t wirelen, bool ip, bool tcp)
{
	struct weir_pkt p;
	unsigned reason;
	const int r = parse_exact(&p, b, caplen, wirelen, WEIR_DLT_EN10MB, &reason);
	CHECK(r == WEIR_PARSE_TCP || r == WEIR_PARSE_FRAGMENT);
	return weir_parse_csum(&p, r, ip, tcp);
}

static void test_ipv4(void)
{
	uint8_t l2[14], b[FRAME_MAX];
	const unsigned l2len = eth_plain(l2, 0x0800);
	for (unsigned datalen = 0; datalen < 8; datalen++) { /* odd and even segment lengths */
		struct seg s = PLAIN;
		s.datalen = datalen;
		const unsigned n = frame_v4(b, l2, l2len, 4, 0x4000, &s); /* with IP options */
		set_csums(b, n, 0);
		CHECK_EQ(csum_of(b, n, n, true, true), NO_REASON);
		/* Every single-byte change of the IP header is caught by its checksum, of the TCP
		 * segment by the TCP one (the fields that make it TCP stay: the version/IHL byte,
		 * the lengths, the protocol, the data offset). */
		for (unsigned i = 14; i < n; i++) {
			if (i == 14 || i == 16 || i == 17 || i == 14 + 9 || i == 14 + 24 + 12)
				continue;
			b[i] ^= 0x01;
			const unsigned want =
			    i < 14 + 24 ? WEIR_MAL_IP_CHECKSUM : WEIR_MAL_TCP_CHECKSUM;
			/* The TTL and the header checksum are outside the pseudo-header. */
			const bool in_pseudo = i >= 14 + 12 && i < 14 + 20;
			unsigned got = csum_of(b, n, n, true, true);
			CHECK_EQ(got, want);
			/* not asked to check the IP header: an IP header byte matters only through
			 * the pseudo-header (the addresses) */
			got = csum_of(b, n, n, false, true);
			CHECK_EQ(got,
			         i >= 14 + 24 || in_pseudo ? WEIR_MAL_TCP_CHECKSUM : NO_REASON);
			CHECK_EQ(csum_of(b, n, n, false, false), NO_REASON);
			b[i] ^= 0x01;
		}
		CHECK_EQ(csum_of(b, n, n, true, true), NO_REASON);
	}
}

static void test_ipv6(void)
{
	uint8_t l2[14], b[FRAME_MAX];
	const unsigned l2len = eth_plain(l2, 0x86dd);
	const uint8_t hop[8] = {6, 0, 1, 4, 0, 0, 0, 0}; /* hop-by-hop, next header TCP, PadN */
	struct seg s = PLAIN;
	s.datalen = 33;
	const unsigned n = frame_v6(b, l2, l2len, 0, hop, sizeof(hop), &s);
	set_csums(b, n, sizeof(hop));
	CHECK_EQ(csum_of(b, n, n, true, true), NO_REASON);
	b[n - 1] ^= 0x80; /* the payload's last byte */
	CHECK_EQ(csum_of(b, n, n, true, true), WEIR_MAL_TCP_CHECKSUM);
	b[n - 1] ^= 0x80;
	b[14 + 8 + 15] ^= 0x01; /* the source address: in the pseudo-header */
	CHECK_EQ(csum_of(b, n, n, true, true), WEIR_MAL_TCP_CHECKSUM);
	b[14 + 8 + 15] ^= 0x01;
	b[14 + 7] ^= 0x01; /* the hop limit: not */
	CHECK_EQ(csum_of(b, n, n, true, true), NO_REASON);
}

/* What cannot be verified is not called wrong: a segment cut by the snap length, and an IPv4
 * total length of 0 (a segment captured before segmentation offload). */
static void test_unverifiable(void)
{
	uint8_t l2[14], b[FRAME_MAX];
	const unsigned l2len = eth_plain(l2, 0x0800);
	struct seg s = PLAIN;
	s.datalen = 100;
	const unsigned n = frame_v4(b, l2, l2len, 0, 0x4000, &s);
	set_csums(b, n, 0);
	b[n - 1] ^= 0x01; /* wrong, but past the snap length */
	CHECK_EQ(csum_of(b, n - 10, n, true, true), NO_REASON);
	CHECK_EQ(csum_of(b, n, n, true, true), WEIR_MAL_TCP_CHECKSUM);
	put16(b + 14 + 2, 0);
	set_csums(b, n, 0);
	b[n - 1] ^= 0x01;
	CHECK_EQ(csum_of(b, n, n, true, true), NO_REASON);
	/* No frame to read: nothing verified. */
	struct weir_pkt p;
	memset(&p, 0, sizeof(p));
	CHECK_EQ(weir_parse_csum(&p, WEIR_PARSE_TCP, true, true), NO_REASON);
}

/* A fragment has only its IP header verified: its TCP bytes are checked once reassembled. */
static void test_fragment(void)
{
	uint8_t l2[14], b[FRAME_MAX];
	const unsigned l2len = eth_plain(l2, 0x0800);
	const unsigned n = frame_v4(b, l2, l2len, 0, 0x2000 /* MF */, &PLAIN);
	set_csums(b, n, 0);
	b[n - 1] ^= 0x01; /* the TCP checksum no longer matches: not looked at */
	CHECK_EQ(csum_of(b, n, n, true, true), NO_REASON);
	b[14 + 8] ^= 0x01; /* the TTL */
	CHECK_EQ(csum_of(b, n, n, true, true), WEIR_MAL_IP_CHECKSUM);
}

int main(void)
{
	test_ipv4();
	test_ipv6();
	test_unverifiable();
	test_fragment();
	return UNIT_DONE();
}
