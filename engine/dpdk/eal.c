/* eal.c — EAL start-up from the run config and port set-up (queues, symmetric RSS, the mbuf pool). */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dpdk/dp_internal.h"

/* Microsoft's RSS key with a 16-bit period (0x6d5a repeated): swapping source and destination
 * gives the same hash, so both directions of a flow land on the same queue (Woo & Park, 2012). */
static const uint8_t symmetric_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/* Descriptors per queue: enough to absorb a burst of a busy 10G port for ~100 us; the driver may adjust. */
#define NB_DESC 1024
/* Per-lcore mempool cache: DPDK's maximum sensible (RTE_MEMPOOL_CACHE_MAX_SIZE is 512). */
#define POOL_CACHE 256

static int is_pci(const char *dev)
{
	unsigned a, b, c, d;
	char end;
	return sscanf(dev, "%x:%x:%x.%x%c", &a, &b, &c, &d, &end) == 4 ||
	       sscanf(dev, "%x:%x.%x%c", &b, &c, &d, &end) == 3;
}

static int has_arg(const struct weir_run_config *cfg, const char *a, size_t n)
{
	for (unsigned i = 0; i < cfg->n_eal; i++)
		if (!strncmp(cfg->eal[i], a, n))
			return 1;
	return 0;
}

/* Builds EAL's argv: the configured arguments, lcores for the workers unless given, the log
 * level unless given, and one --vdev or -a per port. */
int weir_dp_eal_args(const struct weir_run_config *cfg, const char *prog, char store[][WEIR_CFG_STR + 8],
                     char **argv, char *err, size_t errlen)
{
	int n = 0;
	snprintf(store[n++], WEIR_CFG_STR, "%s", prog);
	for (unsigned i = 0; i < cfg->n_eal; i++)
		snprintf(store[n++], WEIR_CFG_STR, "%s", cfg->eal[i]);
	if (!has_arg(cfg, "-l", 2) && !has_arg(cfg, "--lcores", 8) && !has_arg(cfg, "-c", 2)) {
		snprintf(store[n++], WEIR_CFG_STR, "-l");
		snprintf(store[n++], WEIR_CFG_STR, "0-%u", cfg->workers - 1);
	}
	if (!has_arg(cfg, "--log-level", 11))
		snprintf(store[n++], WEIR_CFG_STR, "--log-level=error");
	for (unsigned i = 0; i < cfg->n_ports; i++) {
		if (is_pci(cfg->ports[i].dev)) {
			if (has_arg(cfg, "--no-pci", 8)) {
				snprintf(err, errlen, "dpdk.ports[%u]: PCI address %s, but dpdk.eal has --no-pci", i + 1,
				         cfg->ports[i].dev);
				return -1;
			}
			snprintf(store[n++], WEIR_CFG_STR + 8, "-a%s", cfg->ports[i].dev);
		} else {
			snprintf(store[n++], WEIR_CFG_STR + 8, "--vdev=%s", cfg->ports[i].dev);
		}
	}
	for (int i = 0; i < n; i++)
		argv[i] = store[i];
	argv[n] = NULL;
	return n;
}

/* The ethdev name of a port: a PCI address as is, a vdev string up to its first comma. */
static void dev_name(const char *dev, char *out, size_t len)
{
	snprintf(out, len, "%s", dev);
	char *comma = strchr(out, ',');
	if (comma)
		*comma = '\0';
}

static int port_conf(struct weir_dp *dp, unsigned i, struct rte_eth_conf *conf, char *err, size_t errlen)
{
	const struct weir_run_config *cfg = dp->cfg;
	struct rte_eth_dev_info info;
	const uint16_t pid = dp->port_id[i];
	if (rte_eth_dev_info_get(pid, &info) != 0) {
		snprintf(err, errlen, "dpdk.ports[%u]: cannot read the device info", i + 1);
		return -1;
	}
	memset(conf, 0, sizeof(*conf));
	if (dp->rss) {
		const unsigned klen = cfg->rss_key_len ? cfg->rss_key_len : info.hash_key_size;
		if (klen != info.hash_key_size || klen > sizeof(symmetric_key)) {
			snprintf(err, errlen, "rss_key: %u bytes, port %s takes %u-byte keys", klen, dp->port_name[i],
			         info.hash_key_size);
			return -1;
		}
		memcpy(dp->rss_key[i], cfg->rss_key_len ? cfg->rss_key : symmetric_key, klen);
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_key = dp->rss_key[i];
		conf->rx_adv_conf.rss_conf.rss_key_len = (uint8_t)klen;
		conf->rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
	}
	if ((dp->flags & WEIR_DP_REPLAY) && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	return 0;
}

/* Hardware spreading needs every port to have a queue per worker and RSS; else the rx lcore hashes. */
static int all_ports_rss(const struct weir_dp *dp)
{
	if (dp->n_workers < 2)
		return 0;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct rte_eth_dev_info info;
		if (rte_eth_dev_info_get(dp->port_id[i], &info) != 0 || info.max_rx_queues < dp->n_workers ||
		    info.max_tx_queues < dp->n_workers || !info.flow_type_rss_offloads || !info.hash_key_size)
			return 0;
	}
	return 1;
}

/* The longest frame a port sends, or 0 when no limit is known. net_af_packet sends through a
 * packet socket whose kernel discards a frame over the interface's MTU without telling the driver,
 * which counts it sent (the PMD sets PACKET_LOSS): weir must drop and count such frames itself,
 * against the MTU the interface has when the port starts, plus its Ethernet header. */
static uint32_t max_frame(uint16_t pid)
{
	struct rte_eth_dev_info info;
	char name[IF_NAMESIZE];
	if (rte_eth_dev_info_get(pid, &info) != 0 ||
	    strcmp(info.driver_name, "net_af_packet") != 0 || !info.if_index ||
	    !if_indextoname(info.if_index, name))
		return 0;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	const int s = socket(AF_INET, SOCK_DGRAM, 0);
	const int rc = s < 0 ? -1 : ioctl(s, SIOCGIFMTU, &ifr);
	if (s >= 0)
		close(s);
	return rc == 0 && ifr.ifr_mtu > 0 ? (uint32_t)ifr.ifr_mtu + RTE_ETHER_HDR_LEN : 0;
}

static int port_start(struct weir_dp *dp, unsigned i, char *err, size_t errlen)
{
	const uint16_t pid = dp->port_id[i];
	const uint16_t nq = dp->rss ? (uint16_t)dp->n_workers : 1;
	struct rte_eth_conf conf;
	uint16_t nrx = NB_DESC, ntx = NB_DESC;
	int rc;
	if (port_conf(dp, i, &conf, err, errlen))
		return -1;
	if ((rc = rte_eth_dev_configure(pid, nq, nq, &conf)) != 0 ||
	    (rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx)) != 0) {
		snprintf(err, errlen, "dpdk.ports[%u]: %s: configure: %s", i + 1, dp->port_name[i], rte_strerror(-rc));
		return -1;
	}
	for (uint16_t q = 0; q < nq; q++) {
		if ((rc = rte_eth_rx_queue_setup(pid, q, nrx, rte_eth_dev_socket_id(pid), NULL, dp->pool)) != 0 ||
		    (rc = rte_eth_tx_queue_setup(pid, q, ntx, rte_eth_dev_socket_id(pid), NULL)) != 0) {
			snprintf(err, errlen, "dpdk.ports[%u]: %s: queue %u: %s", i + 1, dp->port_name[i], q,
			         rte_strerror(-rc));
			return -1;
		}
	}
	if ((rc = rte_eth_dev_start(pid)) != 0) {
		snprintf(err, errlen, "dpdk.ports[%u]: %s: start: %s", i + 1, dp->port_name[i], rte_strerror(-rc));
		return -1;
	}
	dp->started[i] = 1;
	dp->max_frame[i] = max_frame(pid);
	rte_eth_promiscuous_enable(pid); /* a bump in the wire forwards every frame, not only its own MAC */
	return 0;
}

int weir_dp_ports_init(struct weir_dp *dp, char *err, size_t errlen)
{
	const struct weir_run_config *cfg = dp->cfg;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		char name[WEIR_CFG_STR];
		dev_name(cfg->ports[i].dev, name, sizeof(name));
		snprintf(dp->port_name[i], sizeof(dp->port_name[i]), "%.63s", name);
		if (rte_eth_dev_get_port_by_name(name, &dp->port_id[i]) != 0) {
			snprintf(err, errlen, "dpdk.ports[%u]: no such device '%s' (EAL could not probe it)", i + 1,
			         cfg->ports[i].dev);
			return -1;
		}
	}
	dp->pool = rte_pktmbuf_pool_create("weir_mbufs", cfg->mbufs, POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                                   (int)rte_socket_id());
	if (!dp->pool) {
		snprintf(err, errlen, "dpdk.mbufs: cannot allocate %u mbufs: %s (raise -m in dpdk.eal)", cfg->mbufs,
		         rte_strerror(rte_errno));
		return -1;
	}
	dp->rss = all_ports_rss(dp);
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (port_start(dp, i, err, errlen))
			return -1;
	/* net_pcap registers the timestamp field when the offload is on; capture time in us. */
	dp->ts_off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	const int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	dp->ts_flag = bit >= 0 ? 1ull << bit : 0;
	return 0;
}

void weir_dp_ports_close(struct weir_dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		if (!dp->started[i])
			continue;
		rte_eth_dev_stop(dp->port_id[i]);
		rte_eth_dev_close(dp->port_id[i]);
		dp->started[i] = 0;
	}
}
