/* exits.c — the exit statuses weir uses (sysexits.h) and what each means: the one list that every
 * --help and weir(8) print. */
#include <stdio.h>

#include "cli.h"
#include "cli/opts.h"

/* --help wraps the list before this column. */
#define EXITS_WIDTH 79

const struct weir_cli_exit weir_cli_exits[] = {
    {WEIR_EX_OK, "ok", "success"},
    {WEIR_EX_USAGE, "usage",
     "a bad command line: an unknown option, an option value out of range, an operand missing or "
     "too many"},
    {WEIR_EX_DATAERR, "bad input",
     "a damaged or truncated capture (weir replay: what preceded the damage is still processed "
     "and reported), or a script that does not load (weir check SCRIPT.lua, weir replay -s)"},
    {WEIR_EX_NOINPUT, "no input", "a capture file that does not exist or cannot be read"},
    {WEIR_EX_SOFTWARE, "internal error", "a worker failed (weir run, weir replay --dpdk)"},
    {WEIR_EX_OSERR, "out of memory", "memory or another system resource ran out"},
    {WEIR_EX_CANTCREAT, "cannot write",
     "an output cannot be created or written: the EVE log (--eve, log.eve), the summary "
     "(--stats-json, log.stats) or the stream directory (--write-streams)"},
    {WEIR_EX_CONFIG, "bad config",
     "a configuration that does not load or a setting out of range (weir run, weir check -c), "
     "DPDK's EAL or a port that does not start, a dashboard that cannot listen or a bad token, a "
     "script that does not load under weir run or weir replay --dpdk; weir.service does not "
     "restart on it (RestartPreventExitStatus=78)"},
};
const size_t weir_cli_n_exits = sizeof(weir_cli_exits) / sizeof(weir_cli_exits[0]);

void weir_cli_exits_usage(FILE *out)
{
	size_t col = (size_t)fprintf(out, "exit status:");
	for (size_t i = 0; i < weir_cli_n_exits; i++) {
		char item[64];
		const size_t len =
		    (size_t)snprintf(item, sizeof(item), " %d %s%s", weir_cli_exits[i].code,
		                     weir_cli_exits[i].word, i + 1 < weir_cli_n_exits ? "," : "");
		if (col + len > EXITS_WIDTH) {
			fputs("\n ", out);
			col = 1;
		}
		col += (size_t)fprintf(out, "%s", item);
	}
	fputc('\n', out);
}
