/* check.c — `weir check`: validates a run config (-c FILE) or Lua scripts without starting anything. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config/config.h"
#include "lua/host.h"

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
	weir_run_config_show(stdout, &cfg, 0);
	return WEIR_EX_OK;
}

/* ---- weir check --defaults: every setting, its default, unit and doc --------------------- */

static int show_defaults(void)
{
	static struct weir_run_config cfg; /* large (fixed-size strings) */
	weir_run_config_defaults(&cfg);
	weir_run_config_show(stdout, &cfg, 1);
	return WEIR_EX_OK;
}

/* ---- weir check SCRIPT.lua: scripts (the Lua host's part) ------------------------------- */

static int check_scripts(int argc, char **argv)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	if (!w) {
		fprintf(stderr, "weir check: cannot create a worker: %s\n", strerror(errno));
		return WEIR_EX_SOFTWARE;
	}
	/* Loading runs each script's top level: sockets are opened and handlers registered. */
	char err[1024];
	struct weir_lua *L = weir_lua_create(w, (const char *const *)argv, (unsigned)argc, err, sizeof(err));
	int rc = WEIR_EX_OK;
	if (!L) {
		fprintf(stderr, "weir check: %s\n", err);
		rc = WEIR_EX_DATAERR;
	} else {
		const struct weir_lua_handler_stat *hs;
		const unsigned n = weir_lua_handler_stats(L, &hs);
		for (unsigned i = 0; i < n; i++)
			printf("  %s\n", hs[i].where);
		printf("ok: %d script%s\n", argc, argc == 1 ? "" : "s");
	}
	weir_lua_free(L);
	weir_worker_free(w);
	return rc;
}

int weir_cmd_check(int argc, char **argv)
{
	if (argc == 3 && (!strcmp(argv[1], "-c") || !strcmp(argv[1], "--config")))
		return check_config(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--defaults"))
		return show_defaults();
	if (argc >= 2 && argv[1][0] != '-')
		return check_scripts(argc - 1, argv + 1);
	fputs("usage: weir check -c CONFIG.lua    validate a run configuration (exit 78 when invalid) and\n"
	      "                                   print every setting, marking those that are not the default\n"
	      "       weir check --defaults       print every setting's default, unit and doc\n"
	      "       weir check SCRIPT.lua...    validate scripts\n",
	      stderr);
	return WEIR_EX_USAGE;
}
