/* opts.h — table-driven options of the weir commands: one row per option (name, argument, help,
 * setter), parsed with getopt_long and printed as the command's --help. */
#ifndef WEIR_CLI_OPTS_H
#define WEIR_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

struct weir_cli_opt;
/** Stores arg (NULL for an option without argument) into ctx. 0, or an exit code with why in err
 *  (the parser prints "PROG: --name: why"). */
typedef int (*weir_cli_set_fn)(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                               size_t errlen);

struct weir_cli_opt {
	const char *name; /**< long name, without "--" */
	char short_name;  /**< 0, or the one-letter form */
	const char *arg;  /**< the argument's name in --help, NULL: takes none */
	const char
	    *help; /**< lines after the first start with "\n" and are indented by the printer */
	weir_cli_set_fn set;
	size_t off;          /**< the field in ctx the generic setters write */
	const char *setting; /**< weir_cli_set_setting: the engine setting ("flows.max") */
	double value;        /**< weir_cli_set_setting without argument: the value stored */
};

/** Generic setters: an int set to 1; a const char * set to arg; a char[WEIR_CFG_STR] copied from
 * arg; the engine setting o->setting of the struct weir_config at ctx + off, from arg (in its
 * range) or o->value. */
int weir_cli_set_flag(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen);
int weir_cli_set_ptr(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                     size_t errlen);
int weir_cli_set_cfgstr(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                        size_t errlen);
int weir_cli_set_setting(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                         size_t errlen);

/** How a command is described: its name for messages ("weir replay"), the usage line after "usage:
 * ", its n option rows, and the text printed after them (may be NULL). */
struct weir_cli_cmd {
	const char *prog, *usage, *tail;
	const struct weir_cli_opt *opts;
	size_t n;
};

/** Parses argv (argv[0] is the command) into ctx; *first is the index of the first operand.
 * "--help" prints the usage to stdout and returns -1; an unknown option prints it to stderr and
 * returns 64; a setter's failure prints why and returns its code. */
int weir_cli_parse(const struct weir_cli_cmd *c, void *ctx, int argc, char **argv, int *first);
/** Prints "usage: ..." and one line per row (help text from the table), then the tail. */
void weir_cli_usage(FILE *out, const struct weir_cli_cmd *c);

#endif
