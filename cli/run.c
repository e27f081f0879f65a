/* run.c — `weir run -c CONFIG`: live traffic on DPDK ports through the station, until
 * SIGINT/SIGTERM; SIGHUP reloads, SIGUSR1 reopens the EVE log. */
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "cli/opts.h"
#include "station/station.h"

struct run {
	const char *config;
};

static const struct weir_cli_opt run_opts[] = {
    {"config", 'c', "CONFIG.lua", "the run configuration (the package's is /etc/weir/weir.lua)",
     weir_cli_set_ptr, offsetof(struct run, config), 0, 0},
};

const struct weir_cli_cmd weir_run_cmd = {
    .prog = "weir run",
    .usage = "weir run -c CONFIG.lua",
    .about = "run live on DPDK ports, inline or passive, as the configuration says",
    .tail =
        "Signals:\n"
        "  SIGHUP   reload scripts (checked first; flows keep state), reopen the EVE log\n"
        "  SIGUSR1  reopen the EVE log only (logrotate): the scripts keep running as they are\n"
        "  SIGTERM  stop cleanly: rx stops, the workers drain, every open flow is logged\n"
        "  SIGINT   the same as SIGTERM; a second SIGINT or SIGTERM exits at once\n"
        "Under systemd (Type=notify): READY=1 once ports, workers and dashboard are up, STATUS=,\n"
        "RELOADING=1 around a reload, STOPPING=1, WATCHDOG=1 while every worker makes progress.\n",
    .opts = run_opts,
    .n = sizeof(run_opts) / sizeof(run_opts[0]),
};

int weir_cmd_run(int argc, char **argv)
{
	struct run r = {0};
	int first, rc = weir_cli_parse(&weir_run_cmd, &r, argc, argv, &first);
	if (rc)
		return rc < 0 ? WEIR_EX_OK : rc;
	if (!r.config || first != argc) {
		weir_cli_usage(stderr, &weir_run_cmd);
		return WEIR_EX_USAGE;
	}
	static struct weir_run_config cfg; /* large; read-only after load */
	char err[1024];
	if (weir_run_config_load(&cfg, r.config, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir run: %s\n", err);
		return WEIR_EX_CONFIG;
	}
	const struct weir_station_params p = {
	    .cfg = &cfg, .input = WEIR_STATION_PORTS, .prog = "weir run", .config_path = r.config};
	struct weir_station *st = weir_station_create(&p, &rc);
	if (st)
		rc = weir_station_run(st);
	weir_station_free(st);
	return rc;
}
