/* test_opts.c — the option table: each generic setter's values and refusals, short forms, operands,
 * --help, and the manual's roff. */
#define _GNU_SOURCE /* CPU_ISSET */
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli/man.h"
#include "cli/opts.h"
#include "config/config.h"
#include "unit.h"

struct ctx {
	int flag;
	uint8_t byte;
	const char *ptr;
	char str[WEIR_CFG_STR];
	unsigned count;
	cpu_set_t cpus;
	struct weir_config engine;
};

#define AT(f) offsetof(struct ctx, f)
static const struct weir_cli_opt rows[] = {
    {"flag", 'f', NULL, "a flag", weir_cli_set_flag, AT(flag), 0, 0},
    {"byte", 0, NULL, "a byte\nsecond line", weir_cli_set_byte, AT(byte), 0, 0},
    {"ptr", 'p', "X", "a pointer", weir_cli_set_ptr, AT(ptr), 0, 0},
    {"str", 0, "S", "a string", weir_cli_set_cfgstr, AT(str), 0, 0},
    {"count", 0, "N", "a count", weir_cli_set_count, AT(count), 0, 10},
    {"cpus", 0, "LIST", "CPUs", weir_cli_set_cpus, AT(cpus), 0, 0},
    {"max-flows", 0, "N", "flows.max", weir_cli_set_setting, AT(engine), "flows.max", 0},
    {"idle", 0, "SEC", "flows.idle_timeout", weir_cli_set_setting, AT(engine), "flows.idle_timeout",
     0},
    {"overlap", 0, "first|last", "streams.overlap", weir_cli_set_setting, AT(engine),
     "streams.overlap", 0},
    {"no-midstream", 0, NULL, "streams.midstream off", weir_cli_set_setting, AT(engine),
     "streams.midstream", 0},
    {"odd", 0, "A\\B", ".a dot first,\n'a quote, a back\\slash", weir_cli_set_flag, AT(flag), 0, 0},
};
static const struct weir_cli_cmd cmd = {
    .prog = "weir test",
    .usage = "weir test [options] FILE... | weir test --flag",
    .about = "test the table",
    .tail = "tail\n  OPERAND...  operands\n",
    .opts = rows,
    .n = sizeof(rows) / sizeof(rows[0]),
};

/* Parses the NULL-terminated arguments after "test" into a fresh c; returns the parser's result. */
#define PARSE(c, first, ...) parse(c, first, (char *[]){"test", __VA_ARGS__, NULL})

static int parse(struct ctx *c, int *first, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	memset(c, 0, sizeof(*c));
	weir_config_defaults(&c->engine);
	return weir_cli_parse(&cmd, c, argc, argv, first);
}

static void test_values(void)
{
	struct ctx c;
	int first = 0;
	CHECK_EQ(PARSE(&c, &first, "-f", "--byte", "-p", "P", "--str", "S", "--count", "10",
	               "--cpus", "0,2-3", "--max-flows", "100", "--idle", "2.5", "--overlap",
	               "last", "--no-midstream", "a.pcap", "b.pcap"),
	         0);
	CHECK_EQ(first, 18);
	CHECK_EQ(c.flag, 1);
	CHECK_EQ(c.byte, 1);
	CHECK_STR(c.ptr, "P");
	CHECK_STR(c.str, "S");
	CHECK_EQ(c.count, 10);
	CHECK(CPU_ISSET(0, &c.cpus) && !CPU_ISSET(1, &c.cpus) && CPU_ISSET(2, &c.cpus) &&
	      CPU_ISSET(3, &c.cpus));
	CHECK_EQ(CPU_COUNT(&c.cpus), 3);
	CHECK_EQ(c.engine.max_flows, 100);
	CHECK_EQ(c.engine.idle_timeout_ms, 2500);
	CHECK_EQ(c.engine.overlap, WEIR_OVERLAP_LAST);
	CHECK_EQ(c.engine.midstream, 0);
	CHECK_EQ(PARSE(&c, &first, "only.pcap"), 0); /* nothing set: the defaults stay */
	CHECK_EQ(first, 1);
	CHECK_EQ(c.engine.midstream, 1);
	CHECK_EQ(c.engine.overlap, WEIR_OVERLAP_FIRST);
}

static void test_refusals(void)
{
	struct ctx c;
	int first;
	char longstr[WEIR_CFG_STR + 1];
	memset(longstr, 'x', WEIR_CFG_STR);
	longstr[WEIR_CFG_STR] = 0;
	CHECK_EQ(PARSE(&c, &first, "--bogus"), WEIR_EX_USAGE);
	CHECK_EQ(PARSE(&c, &first, "--str", longstr), WEIR_EX_USAGE);
	longstr[WEIR_CFG_STR - 1] = 0; /* the longest that fits */
	CHECK_EQ(PARSE(&c, &first, "--str", longstr), 0);
	const char *bad_counts[] = {"0", "11", "-1", "1x", "", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_counts) / sizeof(bad_counts[0]); i++)
		CHECK_EQ(PARSE(&c, &first, "--count", (char *)bad_counts[i]), WEIR_EX_USAGE);
	const char *bad_cpus[] = {"", "0,", "3-1", "-1", "a", "0,,1", "99999"};
	for (size_t i = 0; i < sizeof(bad_cpus) / sizeof(bad_cpus[0]); i++)
		CHECK_EQ(PARSE(&c, &first, "--cpus", (char *)bad_cpus[i]), WEIR_EX_USAGE);
	CHECK_EQ(PARSE(&c, &first, "--max-flows", "1.5"), WEIR_EX_USAGE); /* a whole number */
	CHECK_EQ(PARSE(&c, &first, "--max-flows", "0"),
	         WEIR_EX_USAGE); /* below the table's range */
	CHECK_EQ(PARSE(&c, &first, "--idle", "nan"), WEIR_EX_USAGE);
	CHECK_EQ(PARSE(&c, &first, "--overlap", "middle"), WEIR_EX_USAGE);
	CHECK_EQ(PARSE(&c, &first, "--flag=1"), WEIR_EX_USAGE); /* a flag takes no argument */
}

static void test_help(void)
{
	struct ctx c;
	int first;
	char out[4096] = "";
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	weir_cli_usage(f, &cmd);
	fclose(f);
	CHECK(strstr(out,
	             "usage: weir test [options] FILE... | weir test --flag\ntest the table\n") ==
	      out);
	CHECK(strstr(out, "\n  -f, --flag            a flag\n") != NULL);
	CHECK(strstr(out,
	             "\n  --byte                a byte\n                        second line\n") !=
	      NULL);
	CHECK(strstr(out, "\n  -p, --ptr X           a pointer\n") != NULL);
	CHECK(strstr(out, "\n  -h, --help            print this help and exit\ntail\n") != NULL);
	CHECK(strstr(out, "\nexit status: 0 ok, 64 usage,") != NULL);
	CHECK_EQ(PARSE(&c, &first, "--help"), -1);
	CHECK_EQ(PARSE(&c, &first, "-h"), -1);
}

/* The roff of weir(8): synopsis forms, every row with hyphens as \- and continuation lines
 * joined, what would be a request or an escape made text, the tail's row, every exit status. */
static void test_man(void)
{
	static char out[16384];
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	const struct weir_cli_cmd *cmds[] = {&cmd};
	weir_cli_man(f, "9.8.7", cmds, 1);
	fclose(f);
	const char *want[] = {
	    ".TH WEIR 8 \"\" \"weir 9.8.7\" ",
	    "\n.SH SYNOPSIS\n\\fBweir\\fR \\fBtest\\fR [\\fIoptions\\fR] \\fIFILE...\\fR\n.br\n"
	    "\\fBweir\\fR \\fBtest\\fR \\fB\\-\\-flag\\fR\n.br\n",
	    "\n.SS \"weir test\"\nTest the table.\n.TP\n\\fB\\-f\\fR, \\fB\\-\\-flag\\fR\na flag\n",
	    "\n.TP\n\\fB\\-\\-byte\\fR\na byte second line\n",
	    "\n.TP\n\\fB\\-\\-overlap\\fR \\fIfirst|last\\fR\nstreams.overlap\n",
	    "\n.TP\n\\fB\\-\\-odd\\fR \\fIA\\eB\\fR\n\\&.a dot first, 'a quote, a back\\eslash\n",
	    "\n.TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nprint this help and exit\n.PP\ntail\n"
	    ".TP\n\\fIOPERAND...\\fR\noperands\n.SH EXIT STATUS\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(out, want[i]))
			CHECK_STR(out, want[i]); /* prints both */
	for (size_t i = 0; i < weir_cli_n_exits; i++) {
		char tp[32];
		snprintf(tp, sizeof(tp), "\n.TP\n.B %d\n", weir_cli_exits[i].code);
		CHECK(strstr(out, tp) != NULL);
	}
}

int main(void)
{
	test_values();
	test_refusals();
	test_help();
	test_man();
	return UNIT_DONE();
}
