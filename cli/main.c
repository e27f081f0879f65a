/* main.c — the weir command: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fputs("usage: weir <command> [options]\n"
	      "commands:\n"
	      "  replay [options] FILE...   replay pcap/pcapng captures through the stack\n"
	      "                             (weir replay --help for its options)\n"
	      "  run -c CONFIG              run live on DPDK ports (inline or passive), as CONFIG says\n"
	      "  check -c CONFIG            validate a run configuration (exit 78 when invalid)\n"
	      "  version                    print the version\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return WEIR_EX_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "replay"))
		return weir_cmd_replay(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return weir_cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return weir_cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("weir %s\n", WEIR_VERSION);
		return WEIR_EX_OK;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return WEIR_EX_OK;
	}
	fprintf(stderr, "weir: unknown command '%s'\n", cmd);
	usage(stderr);
	return WEIR_EX_USAGE;
}
