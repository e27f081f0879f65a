/* cli.h — the weir command line: subcommands and the exit codes they share (sysexits.h). */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#define WEIR_EX_OK        0
#define WEIR_EX_USAGE     64
#define WEIR_EX_DATAERR   65
#define WEIR_EX_NOINPUT   66
#define WEIR_EX_SOFTWARE  70
#define WEIR_EX_OSERR     71
#define WEIR_EX_CANTCREAT 73
#define WEIR_EX_CONFIG    78

/* The commands' option tables (cli/opts.h): each command's --help and weir(8) print them. */
struct weir_cli_cmd;
extern const struct weir_cli_cmd weir_replay_cmd, weir_run_cmd, weir_check_cmd;

/** weir replay [options] FILE... (argv[0] is "replay"). Returns an exit code. */
int weir_cmd_replay(int argc, char **argv);
/** weir check -c CONFIG | weir check SCRIPT.lua... (argv[0] is "check"). */
int weir_cmd_check(int argc, char **argv);
/** weir run -c CONFIG (argv[0] is "run"): live traffic on DPDK ports. */
int weir_cmd_run(int argc, char **argv);

#endif
