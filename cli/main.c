/* main.c — the weir command: dispatches to subcommands; weir --help and weir(8) list them from
 * the one table below. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli/man.h"
#include "cli/opts.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.0.0"
#endif

struct help {
	int man;
};

static const struct weir_cli_opt help_opts[] = {
    {"man", 0, NULL,
     "print this manual, weir(8), as roff (read it with weir help --man | man -l -)",
     weir_cli_set_flag, offsetof(struct help, man), 0, 0},
};

static const struct weir_cli_cmd version_cmd = {
    .prog = "weir version",
    .usage = "weir version",
    .about = "print the version (also weir --version, weir -V)",
};

static const struct weir_cli_cmd help_cmd = {
    .prog = "weir help",
    .usage = "weir help [--man]",
    .about = "list the commands and the exit statuses (also weir --help, weir -h)",
    .opts = help_opts,
    .n = sizeof(help_opts) / sizeof(help_opts[0]),
};

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/* The commands, in the order --help and weir(8) list them. */
static const struct sub {
	int (*run)(int argc, char **argv);
	const struct weir_cli_cmd *cmd;
} subs[] = {
    {weir_cmd_replay, &weir_replay_cmd},
    {weir_cmd_run, &weir_run_cmd},
    {weir_cmd_check, &weir_check_cmd},
    {cmd_version, &version_cmd},
    {cmd_help, &help_cmd},
};
#define N_SUBS (sizeof(subs) / sizeof(subs[0]))

/* "replay" of "weir replay". */
static const char *sub_name(const struct sub *s)
{
	return strchr(s->cmd->prog, ' ') + 1;
}

static void usage(FILE *out)
{
	fputs("usage: weir <command> [options]\ncommands:\n", out);
	for (size_t i = 0; i < N_SUBS; i++)
		fprintf(out, "  %-8s %s\n", sub_name(&subs[i]), subs[i].cmd->about);
	fputs("weir <command> --help lists its options; weir(8) (weir help --man) describes them "
	      "all\n",
	      out);
	weir_cli_exits_usage(out);
}

/* Parses a command without operands: as weir_cli_parse, and 64 after an operand. */
static int no_operands(const struct weir_cli_cmd *c, void *ctx, int argc, char **argv)
{
	int first;
	const int rc = weir_cli_parse(c, ctx, argc, argv, &first);
	if (rc || first == argc)
		return rc;
	fprintf(stderr, "%s: unexpected '%s'\n", c->prog, argv[first]);
	weir_cli_usage(stderr, c);
	return WEIR_EX_USAGE;
}

/* Output to stdout that may not have been written (a closed pipe, a full disk) is a failure. */
static int stdout_rc(void)
{
	return fflush(stdout) == 0 && !ferror(stdout) ? WEIR_EX_OK : WEIR_EX_CANTCREAT;
}

static int cmd_version(int argc, char **argv)
{
	const int rc = no_operands(&version_cmd, NULL, argc, argv);
	if (rc)
		return rc < 0 ? WEIR_EX_OK : rc;
	printf("weir %s\n", WEIR_VERSION);
	return stdout_rc();
}

static int cmd_help(int argc, char **argv)
{
	struct help h = {0};
	const struct weir_cli_cmd *cmds[N_SUBS];
	const int rc = no_operands(&help_cmd, &h, argc, argv);
	if (rc)
		return rc < 0 ? WEIR_EX_OK : rc;
	for (size_t i = 0; i < N_SUBS; i++)
		cmds[i] = subs[i].cmd;
	if (h.man)
		weir_cli_man(stdout, WEIR_VERSION, cmds, N_SUBS);
	else
		usage(stdout);
	return stdout_rc();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return WEIR_EX_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		return cmd_help(argc - 1, argv + 1);
	for (size_t i = 0; i < N_SUBS; i++)
		if (!strcmp(cmd, sub_name(&subs[i])))
			return subs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "weir: unknown command '%s'\n", cmd);
	usage(stderr);
	return WEIR_EX_USAGE;
}
