/* opts.h — table-driven options of the weir commands: one row per option (name, argument, help,
 * setter), parsed with getopt_long and printed as the command's --help. */
#ifndef WEIR_CLI_OPTS_H
#define WEIR_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

struct weir_cli_opt;
/** Stores arg (NULL for an option without argument) into ctx. 0, or an exit code with why in err
 * (the parser prints "PROG: --name: why"). */
typedef int (*weir_cli_set_fn)(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                               size_t errlen);

/** One option. */
struct weir_cli_opt {
	const char *name;    /**< long name, without "--" */
	char short_name;     /**< 0, or the one-letter form */
	const char *arg;     /**< the argument's name in --help; NULL: takes none */
	const char *help;    /**< "\n" starts a continuation line; the printer indents it */
	weir_cli_set_fn set; /**< a generic setter below, or the command's own */
	size_t off;          /**< the field in ctx a generic setter writes */
	const char *setting; /**< weir_cli_set_setting: the engine setting ("flows.max") */
	double value;        /**< weir_cli_set_setting without argument: the value stored;
	                          weir_cli_set_count: the largest count accepted */
};

/** Generic setters, each writing the field at ctx + o->off: an int set to 1 (set_flag); a uint8_t
 * set to 1 (set_byte); a const char * set to arg (set_ptr); a char[WEIR_CFG_STR] copied from arg
 * (set_cfgstr); an unsigned from arg in [1, o->value] (set_count); a cpu_set_t from a CPU list
 * like "0" or "0,2-3" (set_cpus); the engine setting o->setting of a struct weir_config, from arg
 * in the setting's range or o->value without argument (set_setting). */
int weir_cli_set_flag(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen);
int weir_cli_set_byte(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen);
int weir_cli_set_ptr(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                     size_t errlen);
int weir_cli_set_cfgstr(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                        size_t errlen);
int weir_cli_set_count(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                       size_t errlen);
int weir_cli_set_cpus(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen);
int weir_cli_set_setting(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                         size_t errlen);

/** A command: its name for messages ("weir replay"), the usage line after "usage: " (forms joined
 * by " | "), what it does in one line (weir --help, weir(8); required), its n option rows (at most
 * WEIR_CLI_MAX_OPTS), and the text printed after them (may be NULL; a line written as a row,
 * "  OPERAND...  what it is", is a row in weir(8) too). */
struct weir_cli_cmd {
	const char *prog, *usage, *about, *tail;
	const struct weir_cli_opt *opts;
	size_t n;
};

/** -h, --help: the row every command has beside its own; the parser handles it. */
extern const struct weir_cli_opt weir_cli_help_opt;

/** An exit status of weir (sysexits.h): the code, a word or two for --help, and what it means for
 * weir(8). */
struct weir_cli_exit {
	int code;
	const char *word, *meaning;
};
/** Every exit status weir uses, ascending; the one list --help and weir(8) print. */
extern const struct weir_cli_exit weir_cli_exits[];
extern const size_t weir_cli_n_exits;

/** Rows a command may have (getopt_long takes a fixed array). */
#define WEIR_CLI_MAX_OPTS 40

/** Parses argv (argv[0] is the command) into ctx; *first is the index of the first operand.
 * "--help" (or -h) prints the usage to stdout and returns -1; an unknown option prints it to stderr
 * and returns 64; a setter's failure prints why and returns its code. */
int weir_cli_parse(const struct weir_cli_cmd *c, void *ctx, int argc, char **argv, int *first);
/** Prints "usage: ...", the about line, one line per row (help text from the table) and -h, the
 * tail, then the exit statuses. */
void weir_cli_usage(FILE *out, const struct weir_cli_cmd *c);
/** Prints "exit status: 0 ok, 64 usage, ..." from weir_cli_exits, wrapped under 80 columns. */
void weir_cli_exits_usage(FILE *out);

#endif
