/* test_dp.c — unit test of the DPDK front end's inline policies and port accounting: driver and
 * lcore counters to the dashboard and the summary. */
#include <string.h>

#include "dpdk/dp_internal.h"
#include "unit.h"

static const struct weir_dp_port_stats LCORE = {
    .rx = 1000,
    .tx = 900,
    .verdict_drops = 40,
    .tx_full = 5,
    .too_big = 9,
    .handoff_full = 6,
    .malformed = 7,
    .non_tcp = 8,
    .fragments = 34,
    .rx_bytes = 64000,
    .tx_bytes = 57000,
};

/* The lcore that reads the driver publishes its drops with its own share: a NIC that missed
 * frames shows them on the dashboard and in /metrics (rx_missed was always 0 before). */
static void test_with_driver(void)
{
	struct rte_eth_stats es;
	memset(&es, 0, sizeof(es));
	es.imissed = 123;
	es.rx_nombuf = 4;
	es.ierrors = 2;
	es.oerrors = 3;
	es.ipackets =
	    999999; /* the driver's own totals are not weir's: rx/tx come from the lcore */
	struct weir_statpub_port out;
	memset(&out, 0xa5, sizeof(out));
	weir_dp_port_pub(&LCORE, &es, &out);
	CHECK_EQ(out.rx_missed, 127);
	CHECK_EQ(out.rx_errors, 2 + 7 + 6);
	CHECK_EQ(out.tx_errors, 3 + 5 + 9);
	CHECK_EQ(out.rx_pkts, 1000);
	CHECK_EQ(out.rx_bytes, 64000);
	CHECK_EQ(out.tx_pkts, 900);
	CHECK_EQ(out.tx_bytes, 57000);
	CHECK_EQ(out.frag_drops, 34);
	CHECK_EQ(out.non_tcp_drops, 8);
}

/* Every other lcore adds only its share: port-wide driver counters are not counted twice. */
static void test_without_driver(void)
{
	struct weir_statpub_port out;
	memset(&out, 0xa5, sizeof(out));
	weir_dp_port_pub(&LCORE, NULL, &out);
	CHECK_EQ(out.rx_missed, 0);
	CHECK_EQ(out.rx_errors, 7 + 6);
	CHECK_EQ(out.tx_errors, 5 + 9);
	CHECK_EQ(out.frag_drops, 34);
}

/* The summary's identity (rx + no_mbuf + missed = tx + verdict drops + passive + drops) counts
 * every drop reason, dropped fragments and frames too big for the out port too. */
static void test_identity(void)
{
	struct weir_dp_port_stats s = LCORE;
	s.no_mbuf = 4;
	s.missed = 123;
	CHECK_EQ(weir_dp_port_drops(&s), 4 + 123 + 5 + 9 + 6 + 7 + 8 + 34);
}

/* A frame over the out port's MTU + Ethernet header is too big, as the kernel rules for a packet
 * socket: 4 bytes more only with an 802.1Q tag (not 802.1ad); no limit known, nothing is. */
static void test_too_big(void)
{
	uint8_t b[1600];
	memset(b, 0, sizeof(b));
	const uint32_t max = 1500 + 14;
	b[12] = 0x08; /* IPv4 */
	CHECK(!weir_dp_too_big(max, b, 1514));
	CHECK(weir_dp_too_big(max, b, 1515));
	CHECK(!weir_dp_too_big(0, b, 1600));
	b[12] = 0x81; /* 802.1Q */
	CHECK(!weir_dp_too_big(max, b, 1518));
	CHECK(weir_dp_too_big(max, b, 1519));
	b[12] = 0x88, b[13] = 0xa8; /* 802.1ad: no allowance */
	CHECK(weir_dp_too_big(max, b, 1515));
}

/* An Ethernet frame with IPv4 protocol proto and the flags/offset word frag (a bare 20-byte L4). */
static struct weir_rx_pkt frame4(uint8_t *b, uint8_t proto, uint16_t frag)
{
	memset(b, 0, 54);
	b[12] = 0x08; /* IPv4 */
	b[14] = 0x45;
	b[17] = 40; /* total length */
	b[20] = (uint8_t)(frag >> 8);
	b[21] = (uint8_t)frag;
	b[22] = 64;
	b[23] = proto;
	b[46] = 5 << 4; /* TCP data offset */
	return (struct weir_rx_pkt){.frame = b, .caplen = 54, .wirelen = 54, .linktype = 1};
}

/* Every combination of forward_non_tcp and defrag.unreassembled on TCP, TCP fragments the worker
 * held, completed a datagram with, or could not reassemble, a UDP fragment, UDP and ARP: only an
 * unreassembled TCP fragment follows unreassembled (counted as a fragment when dropped); a UDP
 * fragment is non-TCP traffic. */
static void test_policy(void)
{
	/* The frames' checksums are 0, wrong: a TCP one still passes, as the endpoint, not the box,
	 * drops a segment with a wrong checksum (the worker does not track it). */
	uint8_t tcp[54], held[54], done[54], failed[54], ufrag[54], udp[54], arp[54];
	struct weir_rx_pkt r[] = {frame4(tcp, 6, 0x4000),    frame4(held, 6, 0x2000),
	                          frame4(done, 6, 0x0004),   frame4(failed, 6, 0x2004),
	                          frame4(ufrag, 17, 0x2000), frame4(udp, 17, 0),
	                          frame4(arp, 0, 0)};
	arp[12] = 0x08, arp[13] = 0x06;
	r[1].frag = WEIR_FRAG_HELD;
	r[2].frag = WEIR_FRAG_DONE;
	r[3].frag = WEIR_FRAG_FAILED;
	r[4].frag = WEIR_FRAG_NOT_TCP;
	static const struct {
		uint8_t forward_non_tcp, unreassembled;
		char want[8]; /* per frame: '-' sent, 'f' dropped as a fragment, 'n' as non-TCP */
	} cases[] = {
	    {1, WEIR_FRAGMENTS_DROP, "---f---"},
	    {1, WEIR_FRAGMENTS_FORWARD, "-------"},
	    {0, WEIR_FRAGMENTS_DROP, "---fnnn"},
	    {0, WEIR_FRAGMENTS_FORWARD, "----nnn"},
	};
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct weir_run_config cfg;
		weir_run_config_defaults(&cfg);
		cfg.forward_non_tcp = cases[c].forward_non_tcp;
		cfg.unreassembled = cases[c].unreassembled;
		for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
			struct weir_dp_port_stats st = {0};
			const uint64_t *d = weir_dp_policy_drop(&cfg, &st, &r[i]);
			const char got = !d                   ? '-'
			                 : d == &st.fragments ? 'f'
			                 : d == &st.non_tcp   ? 'n'
			                                      : '?';
			if (got != cases[c].want[i])
				fprintf(stderr, "case %u frame %u: got %c, want %c\n", c, i, got,
				        cases[c].want[i]);
			CHECK(got == cases[c].want[i]);
		}
	}
}

/* The NIC's checksum verdicts, from mbuf ol_flags: trusted when it verified (GOOD, BAD), verified
 * by the worker when it did not (UNKNOWN, NONE: only LIVE); a replayed capture is a capture. */
static void test_rx_csum(void)
{
	CHECK_EQ(weir_dp_rx_csum(0, 0), WEIR_RXCSUM_LIVE);
	CHECK_EQ(weir_dp_rx_csum(0, RTE_MBUF_F_RX_IP_CKSUM_NONE | RTE_MBUF_F_RX_L4_CKSUM_NONE),
	         WEIR_RXCSUM_LIVE);
	CHECK_EQ(weir_dp_rx_csum(0, RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD),
	         WEIR_RXCSUM_LIVE | WEIR_RXCSUM_IP_GOOD | WEIR_RXCSUM_L4_GOOD);
	CHECK_EQ(weir_dp_rx_csum(0, RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD),
	         WEIR_RXCSUM_LIVE | WEIR_RXCSUM_IP_GOOD | WEIR_RXCSUM_L4_BAD);
	CHECK_EQ(weir_dp_rx_csum(0, RTE_MBUF_F_RX_IP_CKSUM_BAD),
	         WEIR_RXCSUM_LIVE | WEIR_RXCSUM_IP_BAD);
	CHECK_EQ(weir_dp_rx_csum(WEIR_DP_REPLAY, RTE_MBUF_F_RX_L4_CKSUM_BAD), 0);
}

/* TCP in IP-in-IP is TCP to the inline policy when the run takes tunnels off, as the workers then
 * track it, and non-TCP when its config turns tunnels off (tunnels.max_depth = 0). */
static void test_policy_tunnel(void)
{
	uint8_t b[74];
	memset(b, 0, sizeof(b));
	struct weir_rx_pkt r = frame4(b, 4, 0x4000); /* outer: IPv4 carrying IPv4 */
	memset(b + 34, 0, 40);
	memcpy(b + 34, b + 14, 20); /* inner IPv4 header: the outer one's copy, protocol TCP */
	b[17] = 60;
	b[34 + 9] = 6;
	b[34 + 20 + 12] = 5 << 4;
	r.caplen = r.wirelen = sizeof(b);
	struct weir_run_config cfg;
	weir_run_config_defaults(&cfg);
	cfg.forward_non_tcp = 0;
	struct weir_dp_port_stats st = {0};
	CHECK(weir_dp_policy_drop(&cfg, &st, &r) == NULL);
	cfg.engine.tunnel_depth = 0;
	CHECK(weir_dp_policy_drop(&cfg, &st, &r) == &st.non_tcp);
}

int main(void)
{
	test_policy();
	test_policy_tunnel();
	test_rx_csum();
	test_with_driver();
	test_without_driver();
	test_identity();
	test_too_big();
	return UNIT_DONE();
}
