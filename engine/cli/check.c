/* check.c — `weir check`: validates a run config (-c FILE) or Lua scripts without starting anything. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config/config.h"

/* ---- weir check -c CONFIG: the run configuration ---------------------------------------- */

static int check_config(const char *path)
{
	static struct weir_run_config cfg; /* large (fixed-size strings); read-only after load */
	char err[1024];
	if (weir_run_config_load(&cfg, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir check: %s\n", err);
		return WEIR_EX_CONFIG;
	}
	printf("%s: ok (%s, %u port%s, %u worker%s, %u script%s%s%s)\n", path,
	       cfg.mode == WEIR_MODE_INLINE ? "inline" : "passive", cfg.n_ports, cfg.n_ports == 1 ? "" : "s",
	       cfg.workers, cfg.workers == 1 ? "" : "s", cfg.n_scripts, cfg.n_scripts == 1 ? "" : "s",
	       cfg.eve_path[0] ? ", flow log " : "", cfg.eve_path);
	return WEIR_EX_OK;
}

/* ---- weir check SCRIPT.lua: scripts (the Lua host's part) ------------------------------- */

static int check_scripts(int argc, char **argv)
{
	(void)argv;
	fprintf(stderr, "weir check: checking scripts needs the Lua host, which this build does not have (%d given)\n",
	        argc);
	return WEIR_EX_USAGE;
}

int weir_cmd_check(int argc, char **argv)
{
	if (argc == 3 && (!strcmp(argv[1], "-c") || !strcmp(argv[1], "--config")))
		return check_config(argv[2]);
	if (argc >= 2 && argv[1][0] != '-')
		return check_scripts(argc - 1, argv + 1);
	fputs("usage: weir check -c CONFIG.lua    validate a run configuration (exit 78 when invalid)\n"
	      "       weir check SCRIPT.lua...    validate scripts\n",
	      stderr);
	return WEIR_EX_USAGE;
}
