/* pcap_input.c — the station fed by capture files in order through one worker (weir replay), with a
 * progress line, the dashboard if asked and the replay's JSON summary. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/pcap_reader.h"
#include "log/stats_json.h"
#include "station/serve.h"
#include "station/station_internal.h"
#include "json/json.h"

enum { BURST = 32 }; /* packets handed to the worker at a time */

struct pcap_file {
	const char *name;
	unsigned long long packets;
	char error[512];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(const struct weir_pcap_reader *rd, const char *name, double t0, int final)
{
	const double dt = now_s() - t0;
	const unsigned long long n = weir_pcap_count(rd);
	fprintf(stderr, "\r%s: %llu packets  %3.0f%%  %.0f kpps%s", name, n,
	        final ? 100.0 : 100.0 * weir_pcap_progress(rd), dt > 0 ? n / dt / 1e3 : 0.0,
	        final ? "\n" : "");
}

/* Runs one file through the unit. Returns 0, or an exit code for this file's failure. */
static int run_file(struct weir_station *st, struct weir_station_unit *u, struct pcap_file *pf,
                    struct weir_serve *srv)
{
	int code = 0;
	struct weir_pcap_reader *rd = weir_pcap_open(pf->name, pf->error, sizeof(pf->error), &code);
	if (!rd) {
		fprintf(stderr, "%s: %s\n", st->p.prog, pf->error);
		return code;
	}
	struct weir_rx_pkt pkts[BURST];
	const double t0 = now_s();
	double next_show = t0 + 0.5;
	unsigned long long show_at = 0x4000;
	/* The dashboard paces and publishes packet by packet (--pps): one packet per burst then. */
	const unsigned burst = srv ? 1 : BURST;
	int n;
	while ((n = weir_pcap_next(rd, pkts, burst, pf->error, sizeof(pf->error))) > 0) {
		weir_worker_rx(u->w, pkts, (unsigned)n);
		weir_station_unit_run(u);
		if (srv)
			weir_serve_packet(srv);
		if (st->p.progress && weir_pcap_count(rd) >= show_at) {
			show_at = weir_pcap_count(rd) + 0x4000;
			if (now_s() >= next_show) {
				progress(rd, pf->name, t0, 0);
				next_show = now_s() + 0.5;
			}
		}
	}
	pf->packets = weir_pcap_count(rd);
	if (st->p.progress)
		progress(rd, pf->name, t0, 1);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", st->p.prog, pf->error);
		code = 65;
	}
	weir_pcap_close(rd);
	return code;
}

static void write_stats(const struct weir_station_unit *u, const struct pcap_file *files,
                        unsigned n, FILE *out)
{
	fputc('{', out);
	weir_stats_json_members(out, weir_worker_stats(u->w));
	fputs(",\"files\":[", out);
	for (unsigned i = 0; i < n; i++) {
		const struct pcap_file *f = &files[i];
		fprintf(out, "%s{\"name\":", i ? "," : "");
		weir_json_fstr(out, f->name);
		fprintf(out, ",\"packets\":%llu,\"error\":", f->packets);
		if (f->error[0])
			weir_json_fstr(out, f->error);
		else
			fputs("null", out);
		fputc('}', out);
	}
	fputs("]", out);
	if (u->lua) { /* scripts: "scripts" (per handler: events, errors, ns per event) and
		         "counters" */
		const int len = weir_lua_stats_json(u->lua, NULL, 0);
		char *buf = len > 0 ? malloc((size_t)len + 1) : NULL;
		if (buf && weir_lua_stats_json(u->lua, buf, (size_t)len + 1) == len)
			fprintf(out, ",%s", buf);
		free(buf);
	}
	fputs("}\n", out);
}

int weir_station_run_pcap(struct weir_station *st)
{
	const struct weir_run_config *cfg = st->p.cfg;
	struct pcap_file *files = calloc(st->p.n_files, sizeof(*files));
	struct weir_station_unit *u = files ? weir_station_unit_create(st, 0) : NULL;
	struct weir_serve *srv = NULL;
	int rc = 0;
	if (!files)
		rc = 71;
	else if (!u)
		rc = atomic_load(&st->scripts_failed) ? 65 : 78;
	else if (cfg->dashboard_listen[0] &&
	         !(srv = weir_serve_start(u, st->pubs[0], cfg->dashboard_listen,
	                                  cfg->dashboard_token[0] ? cfg->dashboard_token : NULL,
	                                  st->p.pps, st->p.serve_cpus)))
		rc = 78;
	if (rc) {
		weir_station_unit_free(u);
		free(files);
		return rc;
	}
	/* A bad file does not stop the others: its error is reported and sets the exit code. */
	for (unsigned i = 0; i < st->p.n_files; i++) {
		files[i].name = st->p.files[i];
		const int frc = run_file(st, u, &files[i], srv);
		if (frc && !rc)
			rc = frc;
	}
	/* Every open flow is recorded (reason shutdown), also after a damaged file. */
	weir_worker_shutdown(u->w);
	weir_station_unit_run(u);
	if (cfg->stats_path[0]) {
		FILE *out = weir_station_open(st, cfg->stats_path, 0);
		if (out) {
			write_stats(u, files, st->p.n_files, out);
			weir_station_close(st, out);
		} else if (!rc) {
			rc = 73;
		}
	}
	if (st->eve)
		weir_station_unit_flush(u);
	weir_station_close(st, st->eve); /* complete before the dashboard waits for Ctrl-C */
	st->eve = NULL;
	weir_serve_finish(srv);
	weir_station_unit_free(u);
	free(files);
	return rc;
}
