/* lcore.c — the per-lcore loop: rx, software flow spreading, the stack and its hooks, verdicts, tx, drain and shutdown. */
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dpdk/dp_internal.h"
#include "parse/parse.h"

/* Live clock ticks at most once per ms: timeouts are in ms, and a clock read per burst is enough. */
#define TICK_NS 1000000ull
/* Replay: this many all-empty polls in a row mean the files are done (net_pcap reads from page cache
 * and returns 0 only at the end of its file). */
#define REPLAY_EMPTY_POLLS 64

static uint64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Direction-independent hash of the two addresses (XOR of both ends, then mixed): both directions
 * of a flow pick the same worker, and so do the IP fragments of its segments, which carry no ports
 * past the first: the worker that owns the flow is the one that reassembles them. The ports are
 * left out for that reason (flows between one pair of hosts share a worker). What is neither TCP
 * nor an IP fragment goes to worker 0. */
static unsigned owner_of(const struct weir_dp *dp, const struct rte_mbuf *m)
{
	struct weir_pkt p;
	if (dp->n_workers < 2)
		return 0;
	const int r = weir_parse_cfg(&p, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
	                             rte_pktmbuf_pkt_len(m), WEIR_DLT_EN10MB, &dp->cfg->engine, NULL);
	if (r != WEIR_PARSE_TCP && r != WEIR_PARSE_FRAGMENT)
		return 0;
	const unsigned alen = p.ip_ver == 6 ? 16 : 4;
	uint64_t h = 0;
	for (unsigned i = 0; i < alen; i++)
		h = h * 31 + (uint8_t)(p.src[i] ^ p.dst[i]);
	h ^= h >> 33; /* fmix64 of MurmurHash3: spreads the low bits */
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (unsigned)(h % dp->n_workers);
}

/* Sends n packets (all received on port idx) to its pair; what the ring refuses is counted and freed. */
static void tx_to_pair(struct weir_dp_lcore *lc, unsigned idx, struct rte_mbuf **m, unsigned n)
{
	struct weir_dp *dp = lc->dp;
	const uint16_t q = dp->rss ? (uint16_t)lc->id : 0;
	unsigned sent = 0;
	if (lc->out && !dp->rss) { /* not the tx lcore: hand back */
		sent = rte_ring_enqueue_burst(lc->out, (void **)m, n, NULL);
		for (unsigned i = sent; i < n; i++) {
			lc->st[idx].handoff_full++;
			rte_pktmbuf_free(m[i]);
		}
		return;
	}
	const uint16_t out = dp->port_id[dp->cfg->pairs[idx]];
	uint64_t bytes = 0; /* counted before tx: a sent mbuf belongs to the driver */
	for (unsigned i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(m[i]);
	/* A few retries ride out a momentarily full ring before counting drops. */
	for (int tries = 0; sent < n && tries < 4; tries++)
		sent += rte_eth_tx_burst(out, q, m + sent, (uint16_t)(n - sent));
	lc->st[idx].tx += sent;
	for (unsigned i = sent; i < n; i++) {
		bytes -= rte_pktmbuf_pkt_len(m[i]);
		lc->st[idx].tx_full++;
		rte_pktmbuf_free(m[i]);
	}
	lc->st[idx].tx_bytes += bytes;
}

/* After the stack ran: drop what got the drop verdict, or a policy's, or what the out port cannot
 * send (too big); send or release the rest. all_tcp: every frame was TCP, so no policy applies and
 * none is looked at again. */
static void verdicts(struct weir_dp_lcore *lc, struct rte_mbuf **m, unsigned n, int all_tcp)
{
	struct weir_dp *dp = lc->dp;
	struct rte_mbuf *fw[WEIR_CFG_MAX_PORTS][WEIR_DP_BURST];
	unsigned nfw[WEIR_CFG_MAX_PORTS] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		const unsigned idx = m[i]->port;
		uint64_t *dropped;
		if (lc->rx[i].verdict) {
			lc->st[idx].verdict_drops++;
			rte_pktmbuf_free(m[i]);
		} else if (dp->cfg->mode == WEIR_MODE_PASSIVE) {
			lc->st[idx].passive++;
			rte_pktmbuf_free(m[i]);
		} else if (!all_tcp && (dropped = weir_dp_policy_drop(dp->cfg, &lc->st[idx], &lc->rx[i]))) {
			(*dropped)++;
			rte_pktmbuf_free(m[i]);
		} else if (weir_dp_too_big(dp->max_frame[dp->cfg->pairs[idx]], lc->rx[i].frame,
		                           lc->rx[i].wirelen)) {
			lc->st[idx].too_big++;
			rte_pktmbuf_free(m[i]);
		} else {
			fw[idx][nfw[idx]++] = m[i];
		}
	}
	for (unsigned p = 0; p < dp->n_ports; p++)
		if (nfw[p])
			tx_to_pair(lc, p, fw[p], nfw[p]);
}

static void run_stack(struct weir_dp_lcore *lc)
{
	lc->dp->opts->stack->run(lc->stack);
}

static uint64_t pkt_time(const struct weir_dp *dp, const struct rte_mbuf *m, uint64_t now)
{
	if ((dp->flags & WEIR_DP_REPLAY) && dp->ts_off >= 0 && (m->ol_flags & dp->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, dp->ts_off, const uint64_t *) * 1000ull; /* net_pcap: us */
	return now;
}

/* Runs up to WEIR_DP_BURST packets (mbuf->port = config port index) through the stack, then verdicts. */
static void process(struct weir_dp_lcore *lc, struct rte_mbuf **m, unsigned n, uint64_t now)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *mb = m[i];
		if (mb->nb_segs > 1 && rte_pktmbuf_linearize(mb) != 0) {
			lc->st[mb->port].malformed++;
			rte_pktmbuf_free(mb);
			continue;
		}
		struct weir_rx_pkt *r = &lc->rx[k];
		memset(r, 0, sizeof(*r));
		r->frame = rte_pktmbuf_mtod(mb, const uint8_t *);
		r->user = mb;
		r->caplen = rte_pktmbuf_data_len(mb);
		r->wirelen = rte_pktmbuf_pkt_len(mb);
		r->port = mb->port;
		r->linktype = WEIR_DLT_EN10MB; /* every DPDK port delivers Ethernet frames */
		r->ts_ns = pkt_time(lc->dp, mb, now);
		r->csum = weir_dp_rx_csum(lc->dp->flags, mb->ol_flags);
		m[k++] = mb;
	}
	if (k == 0)
		return;
	/* The stack parses every frame and counts the TCP ones: a burst that added k needs no
	 * second parse for the policies (~13 ns a frame). */
	const uint64_t tcp0 = weir_worker_stats(lc->w)->tcp_pkts;
	if (weir_worker_rx(lc->w, lc->rx, k) == 0) {
		run_stack(lc);
	} else { /* cannot happen with a finished previous burst; never lose packets silently */
		for (unsigned i = 0; i < k; i++) {
			lc->st[m[i]->port].malformed++;
			rte_pktmbuf_free(m[i]);
		}
		return;
	}
	verdicts(lc, m, k, weir_worker_stats(lc->w)->tcp_pkts - tcp0 == k);
}

/* --pace: waits until the wall clock has advanced as far as the capture clock since the first packet. */
static void pace(struct weir_dp *dp, const struct rte_mbuf *m)
{
	const uint64_t ts = pkt_time(dp, m, 0);
	if (!ts)
		return;
	if (!dp->pace_t0) {
		dp->pace_t0 = ts;
		dp->pace_w0 = wall_ns();
		return;
	}
	const uint64_t due = dp->pace_w0 + (ts > dp->pace_t0 ? ts - dp->pace_t0 : 0);
	for (uint64_t now = wall_ns(); now < due && !*dp->opts->stop; now = wall_ns())
		rte_delay_us_sleep((unsigned)((due - now) / 1000 < 100000 ? (due - now) / 1000 + 1 : 100000));
}

/* Receives one burst from port i (queue q) and spreads it: own packets are processed, others handed off. */
static unsigned rx_port(struct weir_dp_lcore *lc, unsigned i, uint16_t q, uint64_t now)
{
	struct weir_dp *dp = lc->dp;
	struct rte_mbuf *m[WEIR_DP_BURST];
	const uint16_t want = (dp->flags & WEIR_DP_PACE) ? 1 : WEIR_DP_BURST;
	const uint16_t n = rte_eth_rx_burst(dp->port_id[i], q, m, want);
	if (!n)
		return 0;
	lc->st[i].rx += n;
	if (dp->flags & WEIR_DP_PACE)
		pace(dp, m[0]);
	unsigned nl = 0;
	for (uint16_t k = 0; k < n; k++) {
		m[k]->port = (uint16_t)i; /* from here on: the config's port index */
		lc->st[i].rx_bytes += rte_pktmbuf_pkt_len(m[k]);
		const unsigned o = dp->rss ? lc->id : owner_of(dp, m[k]);
		if (o == lc->id) {
			m[nl++] = m[k];
		} else if (rte_ring_enqueue(dp->lc[o].in, m[k]) != 0) {
			lc->st[i].handoff_full++;
			rte_pktmbuf_free(m[k]);
		}
	}
	process(lc, m, nl, now);
	return n;
}

/* The tx lcore sends what other workers handed back (each mbuf->port is its input port index). */
static unsigned drain_out(struct weir_dp_lcore *lc)
{
	struct weir_dp *dp = lc->dp;
	unsigned total = 0;
	for (unsigned w = 1; w < dp->n_workers; w++) {
		struct rte_mbuf *m[WEIR_DP_BURST], *by[WEIR_CFG_MAX_PORTS][WEIR_DP_BURST];
		unsigned nby[WEIR_CFG_MAX_PORTS] = { 0 };
		const unsigned n = rte_ring_dequeue_burst(dp->lc[w].out, (void **)m, WEIR_DP_BURST, NULL);
		for (unsigned k = 0; k < n; k++)
			by[m[k]->port][nby[m[k]->port]++] = m[k];
		for (unsigned p = 0; p < dp->n_ports; p++)
			if (nby[p])
				tx_to_pair(lc, p, by[p], nby[p]);
		total += n;
	}
	return total;
}

static int worker_setup(struct weir_dp_lcore *lc)
{
	const struct weir_dp_opts *o = lc->dp->opts;
	return (lc->stack = o->stack->create(lc->id, o->user, &lc->w)) ? 0 : -1;
}

/* Copies this lcore's counters into its dashboard slot when due (always with force): the
 * worker's stats and top flows, and its share of each port's counters (the dashboard sums the
 * lcores). The driver's counters (imissed, ierrors, ...) are port-wide: lcore 0 alone adds them. */
static void publish(struct weir_dp_lcore *lc, uint64_t now, int force)
{
	const struct weir_dp *dp = lc->dp;
	struct weir_statpub *pub = dp->opts->pubs ? dp->opts->pubs[lc->id] : NULL;
	if (!pub || !lc->w || (!force && !weir_statpub_due(pub, now)))
		return;
	struct weir_statpub_port ports[WEIR_STATPUB_PORTS];
	const unsigned np = dp->n_ports < WEIR_STATPUB_PORTS ? dp->n_ports : WEIR_STATPUB_PORTS;
	memset(ports, 0, sizeof(ports));
	for (unsigned p = 0; p < np; p++) {
		struct rte_eth_stats es;
		const int drv =
		    lc->id == 0 && dp->started[p] && rte_eth_stats_get(dp->port_id[p], &es) == 0;
		weir_dp_port_pub(&lc->st[p], drv ? &es : NULL, &ports[p]);
		snprintf(ports[p].name, sizeof(ports[p].name), "%.*s", WEIR_STATPUB_NAME - 1, dp->port_name[p]);
		ports[p].port = (uint16_t)p;
	}
	struct weir_statpub_script scripts[WEIR_STATPUB_SCRIPTS];
	const unsigned ns = dp->opts->stack->scripts(lc->stack, scripts);
	weir_statpub_account(pub, lc->busy_ns, lc->loop_ns);
	lc->busy_ns = lc->loop_ns = 0;
	weir_statpub_publish(pub, lc->w, ports, np, scripts, ns, now);
}

/* Adds the time since the previous loop pass to the load counters: busy when that pass had work. */
static void account(struct weir_dp_lcore *lc, uint64_t now, int work)
{
	if (lc->loop_prev_ns && now > lc->loop_prev_ns) {
		const uint64_t d = now - lc->loop_prev_ns;
		lc->loop_ns += d;
		if (lc->prev_work)
			lc->busy_ns += d;
	}
	lc->loop_prev_ns = now;
	lc->prev_work = work;
}

static void worker_finish(struct weir_dp_lcore *lc)
{
	if (lc->w) {
		weir_worker_shutdown(lc->w); /* every open flow ends with reason shutdown and is recorded */
		run_stack(lc);
		lc->final = *weir_worker_stats(lc->w);
		publish(lc, wall_ns(), 1); /* the final counters: the dashboard ends where the summary does */
	}
	lc->dp->opts->stack->free(lc->stack);
	lc->stack = NULL;
	lc->w = NULL;
	atomic_store(&lc->done, 1);
}

static int others_done(const struct weir_dp *dp)
{
	for (unsigned w = 1; w < dp->n_workers; w++)
		if (!atomic_load(&dp->lc[w].done))
			return 0;
	return 1;
}

/* One pass of an lcore: rx (its queues, or every port's queue 0 on the rx lcore), hand-offs, ticks. */
static unsigned poll_once(struct weir_dp_lcore *lc, int rx_on, uint64_t now)
{
	struct weir_dp *dp = lc->dp;
	unsigned work = 0;
	if (rx_on && (dp->rss || lc->id == 0))
		for (unsigned i = 0; i < dp->n_ports; i++)
			work += rx_port(lc, i, dp->rss ? (uint16_t)lc->id : 0, now);
	if (lc->in) {
		struct rte_mbuf *m[WEIR_DP_BURST];
		const unsigned n = rte_ring_dequeue_burst(lc->in, (void **)m, WEIR_DP_BURST, NULL);
		lc->handoff_pkts += n;
		process(lc, m, n, now);
		work += n;
	}
	if (lc->id == 0 && !dp->rss)
		work += drain_out(lc);
	if (!(dp->flags & WEIR_DP_REPLAY) && now - lc->last_tick_ns >= TICK_NS) {
		weir_worker_tick(lc->w, now); /* idle timeouts and timers run on the live clock */
		run_stack(lc);
		lc->last_tick_ns = now;
	}
	return work;
}

int weir_dp_lcore_main(void *arg)
{
	struct weir_dp_lcore *lc = arg;
	struct weir_dp *dp = lc->dp;
	if (worker_setup(lc) != 0) {
		atomic_store(&dp->setup_failed, 1);
		lc->rc = -1;
	}
	unsigned empty = 0;
	int rx_on = !atomic_load(&dp->setup_failed);
	if (!rx_on && lc->id == 0) /* never receiving: the fed workers must not wait for it */
		atomic_store(&dp->rx_stopped, 1);
	const int fed_by_rx_lcore = lc->id != 0 && !dp->rss;
	for (;;) {
		const uint64_t now = wall_ns();
		/* Only a poll made once nothing more can come in may end the loop: rx stopped here
		 * and, on a fed worker, the rx lcore seen to have stopped feeding it. A worker that
		 * found its ring empty and then saw the rx lcore stop would leave what it was
		 * handed meanwhile. */
		const int draining = !rx_on && (!fed_by_rx_lcore || atomic_load(&dp->rx_stopped));
		const unsigned work = lc->w ? poll_once(lc, rx_on, now) : 0;
		account(lc, now, work != 0);
		publish(lc, now, 0);
		empty = work ? 0 : empty + 1;
		if (rx_on && (*dp->opts->stop || atomic_load(&dp->setup_failed) ||
		              (fed_by_rx_lcore && atomic_load(&dp->rx_stopped)) ||
		              ((dp->flags & WEIR_DP_REPLAY) && lc->id == 0 && empty >= REPLAY_EMPTY_POLLS))) {
			rx_on = 0; /* stop rx; what is in flight still drains */
			if (lc->id == 0)
				atomic_store(&dp->rx_stopped, 1);
		}
		/* The rx lcore stops only once every worker that hands it packets back is done:
		 * what they handed back since its poll is then all there is. */
		if (draining && !work && (lc->id != 0 || dp->rss || others_done(dp))) {
			while (lc->id == 0 && !dp->rss && drain_out(lc))
				;
			break;
		}
		if (!work && dp->cfg->idle_sleep_us)
			rte_delay_us_sleep(dp->cfg->idle_sleep_us);
	}
	worker_finish(lc);
	return lc->rc;
}
