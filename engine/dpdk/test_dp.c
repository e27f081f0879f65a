/* test_dp.c — unit test of the DPDK front end's port accounting: driver and lcore counters to the dashboard and the summary. */
#include <string.h>

#include "dpdk/dp_internal.h"
#include "unit.h"

static const struct weir_dp_port_stats LCORE = {
	.rx = 1000, .tx = 900, .verdict_drops = 40, .tx_full = 5, .handoff_full = 6, .malformed = 7,
	.non_tcp = 8, .fragments = 34, .rx_bytes = 64000, .tx_bytes = 57000,
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
	es.ipackets = 999999; /* the driver's own totals are not weir's: rx/tx come from the lcore */
	struct weir_statpub_port out;
	memset(&out, 0xa5, sizeof(out));
	weir_dp_port_pub(&LCORE, &es, &out);
	CHECK_EQ(out.rx_missed, 127);
	CHECK_EQ(out.rx_errors, 2 + 7 + 6);
	CHECK_EQ(out.tx_errors, 3 + 5);
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
	CHECK_EQ(out.tx_errors, 5);
	CHECK_EQ(out.frag_drops, 34);
}

/* The summary's identity (rx + no_mbuf + missed = tx + verdict drops + passive + drops) counts
 * every drop reason, dropped fragments too. */
static void test_identity(void)
{
	struct weir_dp_port_stats s = LCORE;
	s.no_mbuf = 4;
	s.missed = 123;
	CHECK_EQ(weir_dp_port_drops(&s), 4 + 123 + 5 + 6 + 7 + 8 + 34);
}

int main(void)
{
	test_with_driver();
	test_without_driver();
	test_identity();
	return UNIT_DONE();
}
