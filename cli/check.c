/* check.c — `weir check`: validates a run config (-c FILE) or Lua scripts without starting
 * anything. */
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "cli/opts.h"
#include "station/station.h"

struct check {
	const char *config;
	int defaults;
};

static const struct weir_cli_opt check_opts[] = {
    {"config", 'c', "CONFIG.lua",
     "validate a run configuration (exit 78 when invalid) and print every\nsetting, marking "
     "those that are not the default",
     weir_cli_set_ptr, offsetof(struct check, config), 0, 0},
    {"defaults", 0, NULL, "print every setting's default, unit and doc", weir_cli_set_flag,
     offsetof(struct check, defaults), 0, 0},
};

const struct weir_cli_cmd weir_check_cmd = {
    .prog = "weir check",
    .usage = "weir check -c CONFIG.lua | weir check --defaults | weir check SCRIPT.lua...",
    .about = "validate a run configuration or scripts without starting anything",
    .tail = "  SCRIPT.lua...         validate scripts: load them and list their handlers\n",
    .opts = check_opts,
    .n = sizeof(check_opts) / sizeof(check_opts[0]),
};

int weir_cmd_check(int argc, char **argv)
{
	struct check c = {0};
	int first, rc = weir_cli_parse(&weir_check_cmd, &c, argc, argv, &first);
	if (rc)
		return rc < 0 ? WEIR_EX_OK : rc;
	const int scripts = argc - first;
	if (!!c.config + c.defaults + (scripts > 0) != 1 || (c.config && scripts)) {
		weir_cli_usage(stderr, &weir_check_cmd);
		return WEIR_EX_USAGE;
	}
	if (scripts)
		return weir_station_check_scripts(argv + first, (unsigned)scripts, "weir check");
	static struct weir_run_config cfg; /* large (fixed-size strings); read-only after load */
	char err[1024];
	weir_run_config_defaults(&cfg);
	if (c.config && weir_run_config_load(&cfg, c.config, err, sizeof(err)) != 0) {
		fprintf(stderr, "weir check: %s\n", err);
		return WEIR_EX_CONFIG;
	}
	if (c.config)
		printf("%s: ok (%s, %u port%s, %u worker%s, %u script%s%s%s)\n", c.config,
		       cfg.mode == WEIR_MODE_INLINE ? "inline" : "passive", cfg.n_ports,
		       cfg.n_ports == 1 ? "" : "s", cfg.workers, cfg.workers == 1 ? "" : "s",
		       cfg.n_scripts, cfg.n_scripts == 1 ? "" : "s",
		       cfg.eve_path[0] ? ", flow log " : "", cfg.eve_path);
	weir_run_config_show(stdout, &cfg, c.defaults);
	return WEIR_EX_OK;
}
