/* serve.c — `weir replay --serve`: publishes the replay worker's counters to the dashboard, paces
 * packets, waits for Ctrl-C. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "station/serve.h"
#include "station/station_internal.h"
#include "web/web.h"

/* Pacing sleeps only once the replay is this far ahead of its schedule: fewer, longer sleeps. */
#define PACE_SLACK_NS 2000000ull

struct weir_serve {
	const struct weir_station_unit *u;
	struct weir_statpub *pub;
	struct weir_web *web;
	sigset_t sigs;
	unsigned pps;
	uint64_t t0, last, npkts, slept;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ANOMALY handler: each engine anomaly is an alert on the page. */
static void anomaly_alert(struct weir_msock *sock, struct weir_flow *f, int side, uint32_t ev,
                          uint64_t arg, void *user)
{
	struct weir_serve *s = user;
	struct weir_statpub_alert a;
	(void)sock, (void)side, (void)ev;
	memset(&a, 0, sizeof(a));
	a.ts_ns = weir_worker_now(s->u->w);
	a.flow_id = weir_flow_id(f);
	if (f)
		weir_flow_tuple(f, &a.tuple);
	a.sid = (uint32_t)arg;
	a.severity = 2;
	snprintf(a.source, sizeof(a.source), "engine");
	snprintf(a.msg, sizeof(a.msg), "anomaly %s", weir_anomaly_name((unsigned)arg));
	weir_statpub_alert(s->pub, &a);
}

static void publish(struct weir_serve *s, uint64_t now)
{
	const struct weir_stats *st = weir_worker_stats(s->u->w);
	/* The capture is the replay's only port. */
	struct weir_statpub_port port = {
	    .name = "pcap", .rx_pkts = st->pkts, .rx_bytes = st->bytes};
	weir_statpub_account(s->pub, (now - s->last) - s->slept, now - s->last);
	s->slept = 0;
	s->last = now;
	struct weir_statpub_script scripts[WEIR_STATPUB_SCRIPTS];
	const unsigned nscripts = weir_station_unit_scripts(s->u, scripts);
	weir_statpub_publish(s->pub, s->u->w, &port, 1, scripts, nscripts, now);
}

struct weir_serve *weir_serve_start(const struct weir_station_unit *u, struct weir_statpub *pub,
                                    const char *listen, const char *token, unsigned pps,
                                    const cpu_set_t *cpus)
{
	struct weir_serve *s = calloc(1, sizeof(*s));
	char err[256];
	if (!s) {
		fputs("weir replay: --serve: out of memory\n", stderr);
		return NULL;
	}
	s->u = u;
	s->pub = pub;
	s->pps = pps;
	struct weir_msock *m = weir_msock_create(u->w, NULL, err, sizeof(err));
	if (!m ||
	    weir_msock_register(m, WEIR_EV_ANOMALY, WEIR_HOOK_POST_SND, anomaly_alert, s) != 0 ||
	    weir_msock_register(m, WEIR_EV_ANOMALY, WEIR_HOOK_POST_RCV, anomaly_alert, s) != 0)
		fprintf(stderr, "weir replay: --serve: anomalies will not show as alerts\n");
	/* Ctrl-C ends the wait in finish(); threads started from here on inherit the mask. */
	sigemptyset(&s->sigs);
	sigaddset(&s->sigs, SIGINT);
	sigaddset(&s->sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s->sigs, NULL);
	struct weir_web_config cfg = {
	    .listen = listen, .token = token, .mode = "replay", .cpus = cpus};
	s->web = weir_web_start(&cfg, &s->pub, 1, err, sizeof(err));
	if (!s->web) {
		fprintf(stderr, "weir replay: %s\n", err);
		pthread_sigmask(SIG_UNBLOCK, &s->sigs, NULL);
		free(s);
		return NULL;
	}
	weir_web_set_state(s->web, "replaying");
	fprintf(stderr, "weir replay: dashboard on http://%s/ (port %u)\n", listen,
	        weir_web_port(s->web));
	s->t0 = s->last = mono_ns();
	publish(s, s->t0);
	return s;
}

void weir_serve_packet(struct weir_serve *s)
{
	uint64_t now = mono_ns();
	s->npkts++;
	if (s->pps) {
		const uint64_t due = s->t0 + s->npkts * 1000000000ull / s->pps;
		if (due > now + PACE_SLACK_NS) {
			const uint64_t d = due - now;
			struct timespec ts = {(time_t)(d / 1000000000ull),
			                      (long)(d % 1000000000ull)};
			nanosleep(&ts, NULL);
			const uint64_t after = mono_ns();
			s->slept += after - now;
			now = after;
		}
	}
	if (weir_statpub_due(s->pub, now))
		publish(s, now);
}

void weir_serve_finish(struct weir_serve *s)
{
	if (!s)
		return;
	publish(s, mono_ns());
	weir_web_set_state(s->web, "done");
	weir_web_refresh(s->web);
	fputs("weir replay: replay done; the dashboard stays up until Ctrl-C\n", stderr);
	int sig = 0;
	sigwait(&s->sigs, &sig);
	weir_web_stop(s->web);
	pthread_sigmask(SIG_UNBLOCK, &s->sigs, NULL);
	free(s);
}
