/* dp.c — weir_dp_run: EAL, ports, rings and lcores for one run, then the per-port accounting summary. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "dpdk/dp_internal.h"
#include "json/json.h"
#include "log/stats_json.h"
#include "parse/parse.h"

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int make_rings(struct weir_dp *dp, char *err, size_t errlen)
{
	if (dp->rss || dp->n_workers < 2)
		return 0;
	for (unsigned w = 1; w < dp->n_workers; w++) {
		char name[32];
		snprintf(name, sizeof(name), "weir_in%u", w);
		dp->lc[w].in = rte_ring_create(name, WEIR_DP_RING, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "weir_out%u", w);
		dp->lc[w].out = rte_ring_create(name, WEIR_DP_RING, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!dp->lc[w].in || !dp->lc[w].out) {
			snprintf(err, errlen, "workers: cannot create the hand-off rings: %s", rte_strerror(rte_errno));
			return -1;
		}
	}
	return 0;
}

static int assign_lcores(struct weir_dp *dp, char *err, size_t errlen)
{
	if (rte_lcore_count() < dp->n_workers) {
		snprintf(err, errlen, "workers: %u workers need %u lcores, dpdk.eal gives %u", dp->n_workers,
		         dp->n_workers, rte_lcore_count());
		return -1;
	}
	unsigned k = 0, lcore;
	dp->lc[k++].lcore = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (k < dp->n_workers)
			dp->lc[k++].lcore = lcore;
	}
	for (unsigned w = 0; w < dp->n_workers; w++) {
		dp->lc[w].dp = dp;
		dp->lc[w].id = w;
	}
	return 0;
}

static void collect(struct weir_dp *dp, struct weir_dp_result *res)
{
	memset(res, 0, sizeof(*res));
	res->n_ports = dp->n_ports;
	res->n_workers = dp->n_workers;
	res->rss = dp->rss;
	for (unsigned p = 0; p < dp->n_ports; p++) {
		struct weir_dp_port_stats *s = &res->port[p];
		snprintf(res->port_name[p], sizeof(res->port_name[p]), "%s", dp->port_name[p]);
		for (unsigned w = 0; w < dp->n_workers; w++) {
			const struct weir_dp_port_stats *l = &dp->lc[w].st[p];
			s->rx += l->rx;
			s->tx += l->tx;
			s->verdict_drops += l->verdict_drops;
			s->passive += l->passive;
			s->tx_full += l->tx_full;
			s->too_big += l->too_big;
			s->handoff_full += l->handoff_full;
			s->malformed += l->malformed;
			s->non_tcp += l->non_tcp;
			s->fragments += l->fragments;
			s->rx_bytes += l->rx_bytes;
			s->tx_bytes += l->tx_bytes;
		}
		struct rte_eth_stats es;
		if (dp->started[p] && rte_eth_stats_get(dp->port_id[p], &es) == 0) {
			s->no_mbuf = es.rx_nombuf;
			s->missed = es.imissed;
		}
	}
	for (unsigned w = 0; w < dp->n_workers; w++) {
		res->worker[w] = dp->lc[w].final;
		res->handoff_pkts[w] = dp->lc[w].handoff_pkts;
	}
}

/* The CPUs left for control threads: the process's CPUs before EAL (which pins this thread to the
 * main lcore) minus the workers' lcores; all of them when the workers take every CPU, since a
 * sleeping control thread is better placed on a busy CPU than not started. */
static void control_cpus(const struct weir_dp *dp, const cpu_set_t *before, cpu_set_t *out)
{
	cpu_set_t workers;
	CPU_ZERO(&workers);
	for (unsigned w = 0; w < dp->n_workers; w++) {
		const rte_cpuset_t cs = rte_lcore_cpuset(dp->lc[w].lcore);
		CPU_OR(&workers, &workers, &cs);
	}
	CPU_XOR(out, before, &workers);
	CPU_AND(out, out, before);
	if (CPU_COUNT(out) == 0)
		*out = *before;
}

static void release(struct weir_dp *dp)
{
	weir_dp_ports_close(dp);
	for (unsigned w = 0; w < WEIR_CFG_MAX_WORKERS; w++) {
		rte_ring_free(dp->lc[w].in);
		rte_ring_free(dp->lc[w].out);
	}
	rte_mempool_free(dp->pool);
}

/* EAL, ports and rings; 0 or a sysexits code after printing one message. */
static int start(struct weir_dp *dp, const struct weir_run_config *cfg, const struct weir_dp_opts *opts)
{
	static char store[WEIR_CFG_MAX_EAL + WEIR_CFG_MAX_PORTS + 8][WEIR_CFG_STR + 8]; /* EAL keeps argv */
	static char *argv[WEIR_CFG_MAX_EAL + WEIR_CFG_MAX_PORTS + 9];
	char err[1024];
	cpu_set_t before, ctl;
	if (sched_getaffinity(0, sizeof(before), &before) != 0) {
		CPU_ZERO(&before);
		for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, &before);
	}
	const int argc = weir_dp_eal_args(cfg, opts->prog, store, argv, err, sizeof(err));
	if (argc < 0) {
		fprintf(stderr, "%s: %s\n", opts->prog, err);
		return 78;
	}
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: dpdk.eal: EAL initialisation failed: %s (arguments:", opts->prog,
		        rte_strerror(rte_errno));
		for (int i = 1; i < argc; i++)
			fprintf(stderr, " %s", argv[i]);
		fputs(")\n", stderr);
		return 78;
	}
	if (assign_lcores(dp, err, sizeof(err)) || weir_dp_ports_init(dp, err, sizeof(err)) ||
	    make_rings(dp, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", opts->prog, err);
		release(dp);
		rte_eal_cleanup();
		return 78;
	}
	control_cpus(dp, &before, &ctl);
	if (opts->started && opts->started(&ctl, opts->user) != 0) {
		release(dp);
		rte_eal_cleanup();
		return 78;
	}
	return 0;
}

int weir_dp_run(const struct weir_run_config *cfg, const struct weir_dp_opts *opts, struct weir_dp_result *res)
{
	struct weir_dp *dp = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*dp));
	if (!dp)
		return 71;
	memset(dp, 0, sizeof(*dp));
	dp->cfg = cfg;
	dp->opts = opts;
	dp->flags = opts->flags;
	dp->n_ports = cfg->n_ports;
	dp->n_workers = cfg->workers;
	dp->ts_off = -1;
	int rc = start(dp, cfg, opts);
	if (rc) {
		free(dp);
		return rc;
	}
	const double t0 = mono_s();
	for (unsigned w = 1; w < dp->n_workers; w++)
		rte_eal_remote_launch(weir_dp_lcore_main, &dp->lc[w], dp->lc[w].lcore);
	rc = weir_dp_lcore_main(&dp->lc[0]);
	rte_eal_mp_wait_lcore();
	for (unsigned w = 1; w < dp->n_workers; w++)
		rc |= dp->lc[w].rc;
	collect(dp, res);
	res->seconds = mono_s() - t0;
	release(dp);
	rte_eal_cleanup();
	free(dp);
	return rc ? 70 : 0;
}

uint64_t *weir_dp_policy_drop(const struct weir_run_config *cfg, struct weir_dp_port_stats *st,
                              const struct weir_rx_pkt *r)
{
	if (cfg->forward_non_tcp && cfg->unreassembled == WEIR_FRAGMENTS_FORWARD)
		return NULL; /* everything passes: no need to look */
	/* Parsed with the workers' tunnel settings: classified as they will track it. */
	struct weir_pkt p;
	const struct weir_config *e = &cfg->engine;
	switch (weir_parse_cfg(&p, r->frame, r->caplen, r->wirelen, r->linktype, e, NULL)) {
	case WEIR_PARSE_TCP:
		return NULL;
	case WEIR_PARSE_FRAGMENT:
		if (r->frag == WEIR_FRAG_HELD || r->frag == WEIR_FRAG_DONE)
			return NULL; /* inspected once its datagram is whole */
		if (r->frag == WEIR_FRAG_NOT_TCP)
			return cfg->forward_non_tcp ? NULL : &st->non_tcp;
		return cfg->unreassembled == WEIR_FRAGMENTS_FORWARD ? NULL : &st->fragments;
	default:
		return cfg->forward_non_tcp ? NULL : &st->non_tcp;
	}
}

uint8_t weir_dp_rx_csum(unsigned flags, uint64_t ol_flags)
{
	if (flags & WEIR_DP_REPLAY)
		return 0;
	const uint64_t ip = ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	const uint64_t l4 = ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	return (uint8_t)(WEIR_RXCSUM_LIVE |
	                 (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD ? WEIR_RXCSUM_IP_GOOD : 0) |
	                 (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD ? WEIR_RXCSUM_IP_BAD : 0) |
	                 (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD ? WEIR_RXCSUM_L4_GOOD : 0) |
	                 (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD ? WEIR_RXCSUM_L4_BAD : 0));
}

uint64_t weir_dp_port_drops(const struct weir_dp_port_stats *s)
{
	return s->no_mbuf + s->missed + s->tx_full + s->too_big + s->handoff_full + s->malformed +
	       s->non_tcp + s->fragments;
}

void weir_dp_port_pub(const struct weir_dp_port_stats *s, const struct rte_eth_stats *es,
                      struct weir_statpub_port *out)
{
	out->rx_pkts = s->rx;
	out->rx_bytes = s->rx_bytes;
	out->tx_pkts = s->tx;
	out->tx_bytes = s->tx_bytes;
	out->rx_missed = es ? es->imissed + es->rx_nombuf : 0;
	out->rx_errors = s->malformed + s->handoff_full + (es ? es->ierrors : 0);
	out->tx_errors = s->tx_full + s->too_big + (es ? es->oerrors : 0);
	out->frag_drops = s->fragments;
	out->non_tcp_drops = s->non_tcp;
}

static void port_json(const struct weir_dp_port_stats *s, const char *name, unsigned pair, FILE *out)
{
	const uint64_t in = s->rx + s->no_mbuf + s->missed;
	const uint64_t accounted = s->tx + s->verdict_drops + s->passive + weir_dp_port_drops(s);
	fputs("{\"name\":", out);
	weir_json_fstr(out, name); /* the driver's name for the port, from the config's dev string */
	fprintf(out,
	        ",\"pair\":%d,\"rx\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"verdict_drops\":%" PRIu64
	        ",\"passive\":%" PRIu64 ",\"drops\":{\"no_mbuf\":%" PRIu64 ",\"missed\":%" PRIu64
	        ",\"tx_full\":%" PRIu64 ",\"too_big\":%" PRIu64 ",\"handoff_full\":%" PRIu64
	        ",\"malformed\":%" PRIu64 ",\"non_tcp\":%" PRIu64 ",\"fragments\":%" PRIu64
	        "},\"accounted\":%s}",
	        pair == 0xff ? -1 : (int)pair, s->rx, s->tx, s->verdict_drops, s->passive,
	        s->no_mbuf, s->missed, s->tx_full, s->too_big, s->handoff_full, s->malformed,
	        s->non_tcp, s->fragments, in == accounted ? "true" : "false");
}

void weir_dp_result_json(const struct weir_dp_result *res, const struct weir_run_config *cfg, FILE *out)
{
	fprintf(out, "{\"mode\":\"%s\",\"seconds\":%.3f,\"rss\":%s,\"ports\":[",
	        cfg->mode == WEIR_MODE_INLINE ? "inline" : "passive", res->seconds, res->rss ? "true" : "false");
	for (unsigned p = 0; p < res->n_ports; p++) {
		fputs(p ? "," : "", out);
		port_json(&res->port[p], res->port_name[p], cfg->pairs[p], out);
	}
	fputs("],\"workers\":[", out);
	for (unsigned w = 0; w < res->n_workers; w++) {
		const struct weir_stats *st = &res->worker[w];
		fprintf(out, "%s{\"id\":%u,\"handoff_packets\":%" PRIu64 ",", w ? "," : "", w, res->handoff_pkts[w]);
		weir_stats_json_members(out, st);
		fputc('}', out);
	}
	fprintf(out, "],\"reloads\":{\"done\":%" PRIu64 ",\"failed\":%" PRIu64 "}}\n", res->reloads,
	        res->reloads_failed);
}
