/* man.h — weir(8) in roff, rendered from the commands' option tables and the exit statuses, so
 * that the manual and --help cannot drift. */
#ifndef WEIR_CLI_MAN_H
#define WEIR_CLI_MAN_H

#include <stddef.h>
#include <stdio.h>

#include "cli/opts.h"

/** Writes weir(8) to out: a SYNOPSIS line per usage form of each of the n commands, a subsection
 * per command with its about line, every option row, -h and its tail, EXIT STATUS from
 * weir_cli_exits, and the fixed sections (DESCRIPTION, FILES, SIGNALS, ENVIRONMENT, SEE ALSO).
 * version ("0.1.0") goes in the header; there is no date, so the page is the same in every build.
 */
void weir_cli_man(FILE *out, const char *version, const struct weir_cli_cmd *const *cmds, size_t n);

#endif
