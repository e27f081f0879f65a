/* opts.c — table-driven options: getopt_long from the rows, --help printed from them, generic
 * setters. */
#define _GNU_SOURCE /* CPU_SET and friends for --serve-cpus */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli/opts.h"
#include "config/config.h"
#include "core/settings.h"

/* The widest option column of --help ("  -s, --script FILE.lua"), then one space. */
#define HELP_COL 23
/* getopt_long values of rows without a one-letter form: above every char. */
#define LONG_BASE 256

int weir_cli_set_flag(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	*(int *)((char *)ctx + o->off) = 1;
	return 0;
}

int weir_cli_set_byte(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	*((uint8_t *)ctx + o->off) = 1;
	return 0;
}

int weir_cli_set_ptr(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                     size_t errlen)
{
	(void)err, (void)errlen;
	*(const char **)((char *)ctx + o->off) = arg;
	return 0;
}

int weir_cli_set_cfgstr(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                        size_t errlen)
{
	if (strlen(arg) >= WEIR_CFG_STR) {
		snprintf(err, errlen, "longer than %d bytes", WEIR_CFG_STR - 1);
		return WEIR_EX_USAGE;
	}
	snprintf((char *)ctx + o->off, WEIR_CFG_STR, "%s", arg);
	return 0;
}

int weir_cli_set_count(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                       size_t errlen)
{
	char *end;
	errno = 0;
	const long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || (double)v > o->value) {
		snprintf(err, errlen, "'%s' is not a number in [1, %.0f]", arg, o->value);
		return WEIR_EX_USAGE;
	}
	*(unsigned *)((char *)ctx + o->off) = (unsigned)v;
	return 0;
}

int weir_cli_set_cpus(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                      size_t errlen)
{
	cpu_set_t *set = (cpu_set_t *)((char *)ctx + o->off);
	const char *p = arg;
	CPU_ZERO(set);
	while (*p) {
		char *end;
		errno = 0;
		const long lo = strtol(p, &end, 10);
		long hi = lo;
		if (end != p && *end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
		}
		if (errno || end == p || lo < 0 || hi < lo || hi >= CPU_SETSIZE ||
		    (*end && *end != ',') || (*end == ',' && !end[1]))
			break;
		for (long c = lo; c <= hi; c++)
			CPU_SET((int)c, set);
		p = *end ? end + 1 : end;
	}
	if (*p || !CPU_COUNT(set)) {
		snprintf(err, errlen, "'%s' is not a CPU list like 0 or 0,2-3", arg);
		return WEIR_EX_USAGE;
	}
	return 0;
}

/* An enum setting's value: the index of its name; -1 when arg names none. */
static double enum_value(const struct weir_setting *st, const char *arg)
{
	for (unsigned i = 0; st->names[i]; i++)
		if (!strcmp(st->names[i], arg))
			return i;
	return -1;
}

int weir_cli_set_setting(void *ctx, const struct weir_cli_opt *o, const char *arg, char *err,
                         size_t errlen)
{
	const struct weir_setting *st = weir_engine_setting(o->setting);
	double v = o->value;
	if (arg && st->type == WEIR_SET_ENUM) {
		if ((v = enum_value(st, arg)) < 0) {
			snprintf(err, errlen, "'%s' is not %s or %s", arg, st->names[0],
			         st->names[1]);
			return WEIR_EX_USAGE;
		}
	} else if (arg) {
		char *end;
		errno = 0;
		v = strtod(arg, &end);
		if (errno || end == arg || *end || !(v >= st->lo && v <= st->hi) ||
		    (st->type == WEIR_SET_UINT && v != (double)(uint64_t)v)) {
			snprintf(err, errlen, "'%s' is not a %s in [%.15g, %.15g]", arg,
			         st->type == WEIR_SET_UINT ? "whole number" : "number", st->lo,
			         st->hi);
			return WEIR_EX_USAGE;
		}
	}
	weir_setting_store(st, (char *)ctx + o->off, v);
	return 0;
}

const struct weir_cli_opt weir_cli_help_opt = {
    .name = "help", .short_name = 'h', .help = "print this help and exit"};

static void usage_row(FILE *out, const struct weir_cli_opt *o)
{
	char left[128];
	int k = snprintf(left, sizeof(left), "  ");
	if (o->short_name)
		k += snprintf(left + k, sizeof(left) - (size_t)k, "-%c, ", o->short_name);
	snprintf(left + k, sizeof(left) - (size_t)k, "--%s%s%s", o->name, o->arg ? " " : "",
	         o->arg ? o->arg : "");
	fprintf(out, "%-*s ", HELP_COL, left);
	for (const char *h = o->help; *h; h++) {
		fputc(*h, out);
		if (*h == '\n')
			fprintf(out, "%*s", HELP_COL + 1, "");
	}
	fputc('\n', out);
}

void weir_cli_usage(FILE *out, const struct weir_cli_cmd *c)
{
	fprintf(out, "usage: %s\n%s\n", c->usage, c->about);
	for (size_t i = 0; i < c->n; i++)
		usage_row(out, &c->opts[i]);
	usage_row(out, &weir_cli_help_opt);
	if (c->tail)
		fputs(c->tail, out);
	weir_cli_exits_usage(out);
}

int weir_cli_parse(const struct weir_cli_cmd *c, void *ctx, int argc, char **argv, int *first)
{
	if (c->n > WEIR_CLI_MAX_OPTS) { /* a table too long for this parser: the build's mistake,
		                           said loudly */
		fprintf(stderr, "%s: %zu options, the parser takes %d\n", c->prog, c->n,
		        WEIR_CLI_MAX_OPTS);
		return WEIR_EX_SOFTWARE;
	}
	struct option lo[WEIR_CLI_MAX_OPTS + 2];
	char shorts[2 * WEIR_CLI_MAX_OPTS + 2] = {weir_cli_help_opt.short_name};
	size_t ns = 1;
	for (size_t i = 0; i < c->n; i++) {
		const struct weir_cli_opt *o = &c->opts[i];
		lo[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL,
		                        (int)(LONG_BASE + i)};
		if (o->short_name) {
			shorts[ns++] = o->short_name;
			if (o->arg)
				shorts[ns++] = ':';
		}
	}
	const size_t n = c->n;
	lo[n] = (struct option){weir_cli_help_opt.name, no_argument, NULL,
	                        weir_cli_help_opt.short_name};
	lo[n + 1] = (struct option){NULL, 0, NULL, 0};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		size_t i = ch >= LONG_BASE ? (size_t)(ch - LONG_BASE) : 0;
		while (ch < LONG_BASE && i < n && c->opts[i].short_name != ch)
			i++;
		if (ch == weir_cli_help_opt.short_name) {
			weir_cli_usage(stdout, c);
			return -1;
		}
		if (ch == '?' || i >= n) {
			weir_cli_usage(stderr, c);
			return WEIR_EX_USAGE;
		}
		char err[256] = "";
		const int rc = c->opts[i].set(ctx, &c->opts[i], c->opts[i].arg ? optarg : NULL, err,
		                              sizeof(err));
		if (rc) {
			fprintf(stderr, "%s: --%s: %s\n", c->prog, c->opts[i].name, err);
			return rc;
		}
	}
	*first = optind;
	return 0;
}
