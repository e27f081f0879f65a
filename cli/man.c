/* man.c — weir(8) in roff from the commands' option tables and the exit statuses (see man.h);
 * `weir help --man` prints it and the build installs its output. */
#include <ctype.h>
#include <string.h>

#include "cli/man.h"

/* Writes the first len bytes of s as roff text on one input line: a backslash as \e; every hyphen
 * as \-, so that options and paths render as the ASCII hyphen-minus one can copy; a newline (an
 * option's help continues on the next line of --help) as a space; \& before a '.' or '\'' that
 * would start the line and make it a request. */
static void textn(FILE *out, const char *s, size_t len)
{
	if (len && (*s == '.' || *s == '\''))
		fputs("\\&", out);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			fputs("\\e", out);
		else if (s[i] == '-')
			fputs("\\-", out);
		else
			fputc(s[i] == '\n' ? ' ' : s[i], out);
	}
}

static void text(FILE *out, const char *s)
{
	textn(out, s, strlen(s));
}

/* A sentence from a table's lower-case phrase: capitalised, with a full stop, on its own line. */
static void sentence(FILE *out, const char *s)
{
	fputc(toupper((unsigned char)*s), out);
	text(out, s + 1);
	fputs(".\n", out);
}

/* The first len bytes of s in a font (B or I), then back to roman. */
static void font(FILE *out, char f, const char *s, size_t len)
{
	fprintf(out, "\\f%c", f);
	textn(out, s, len);
	fputs("\\fR", out);
}

/* A word of a usage line or a tail's row: options and command words bold, placeholders (with
 * upper case, or "options") italic. */
static void word(FILE *out, const char *w, size_t len)
{
	int placeholder = len == 7 && !strncmp(w, "options", 7);
	for (size_t i = 0; i < len; i++)
		placeholder |= isupper((unsigned char)w[i]) != 0;
	font(out, w[0] != '-' && placeholder ? 'I' : 'B', w, len);
}

/* One usage form ("weir replay [options] FILE..."): its words, brackets roman; then a line
 * break. */
static void synopsis_form(FILE *out, const char *form, size_t len)
{
	const char *end = form + len;
	for (const char *w = form; w < end;) {
		size_t n = strcspn(w, " ");
		if (w + n > end)
			n = (size_t)(end - w);
		size_t lead = strspn(w, "["), trail = 0;
		while (trail < n - lead && w[n - 1 - trail] == ']')
			trail++;
		fprintf(out, "%s%.*s", w == form ? "" : " ", (int)lead, w);
		word(out, w + lead, n - lead - trail);
		fprintf(out, "%.*s", (int)trail, w + n - trail);
		w += n;
		w += strspn(w, " ");
	}
	fputs("\n.br\n", out);
}

/* Every usage form of c, split at " | ". */
static void synopsis(FILE *out, const struct weir_cli_cmd *c)
{
	for (const char *u = c->usage;;) {
		const char *bar = strstr(u, " | ");
		synopsis_form(out, u, bar ? (size_t)(bar - u) : strlen(u));
		if (!bar)
			break;
		u = bar + 3;
	}
}

/* One option row as a tagged paragraph: "-s, --script FILE.lua" then its help. */
static void option(FILE *out, const struct weir_cli_opt *o)
{
	fputs(".TP\n", out);
	if (o->short_name) {
		const char s[3] = {'-', o->short_name, 0};
		font(out, 'B', s, 2);
		fputs(", ", out);
	}
	fputs("\\fB\\-\\-", out);
	text(out, o->name);
	fputs("\\fR", out);
	if (o->arg) {
		fputc(' ', out);
		font(out, 'I', o->arg, strlen(o->arg));
	}
	fputc('\n', out);
	text(out, o->help);
	fputc('\n', out);
}

/* A tail's lines: one written as --help writes a row ("  SCRIPT.lua...  what it is", an operand)
 * becomes a tagged paragraph like an option's; the other lines are the lines of a paragraph. */
static void tail(FILE *out, const char *t)
{
	int in_rows = 1;
	while (*t) {
		const size_t len = strcspn(t, "\n");
		const int indented = !strncmp(t, "  ", 2) && t[2] != ' ';
		const char *gap = indented ? strstr(t + 2, "  ") : NULL;
		if (gap && gap < t + len) {
			const char *help = gap + strspn(gap, " ");
			fputs(".TP\n", out);
			word(out, t + 2, (size_t)(gap - t - 2));
			fputc('\n', out);
			textn(out, help, (size_t)(t + len - help));
			in_rows = 1;
		} else {
			fputs(in_rows ? ".PP\n" : ".br\n", out);
			textn(out, t, len);
			in_rows = 0;
		}
		fputc('\n', out);
		t += len + (t[len] == '\n');
	}
}

/* A command's subsection: its about line, its options, -h, and its tail. */
static void command(FILE *out, const struct weir_cli_cmd *c)
{
	fputs(".SS \"", out);
	text(out, c->prog);
	fputs("\"\n", out);
	sentence(out, c->about);
	for (size_t i = 0; i < c->n; i++)
		option(out, &c->opts[i]);
	option(out, &weir_cli_help_opt);
	if (c->tail)
		tail(out, c->tail);
}

/* A section of tagged paragraphs from pairs of strings: tag (in font f), text; NULL ends. */
static void tagged(FILE *out, const char *title, char f, const char *const *pairs)
{
	fprintf(out, ".SH %s\n", title);
	for (; pairs[0]; pairs += 2) {
		fputs(".TP\n", out);
		font(out, f, pairs[0], strlen(pairs[0]));
		fputc('\n', out);
		text(out, pairs[1]);
		fputc('\n', out);
	}
}

static const char *const description[] = {
    "weir watches the TCP flows passing through a middlebox, keeps both endpoints' TCP state per "
    "flow, reassembles each side's byte stream and raises events to Lua scripts (detectors), "
    "which log, raise alerts and, inline, drop packets. Every flow is recorded in the EVE JSON "
    "log when it ends.",
    "weir run works on live traffic on DPDK ports, inline (a bump in the wire between pairs of "
    "ports) or passive (a tap or mirror port), as its configuration says; weir.service runs it "
    "as weir run -c /etc/weir/weir.lua. weir replay sends capture files through the same stack. "
    "weir check validates a configuration or scripts without starting anything.",
    NULL};

static const char *const files[] = {
    "/etc/weir/weir.lua",
    "The run configuration of weir.service (a conffile): Lua, run in a sandbox; weir check "
    "--defaults prints every setting with its default and doc.",
    "/etc/weir/scripts/",
    "Site scripts: a script here is used instead of the shipped one of the same name.",
    "/usr/share/weir/scripts/",
    "The scripts weir ships.",
    "/var/log/weir/eve.json",
    "The EVE JSON log (log.eve): one flow record per flow and the scripts' alerts; weir.service "
    "writes here (LogsDirectory=weir) and logrotate rotates it.",
    "/var/lib/weir",
    "weir.service's state directory (StateDirectory=weir).",
    NULL};

static const char *const signals[] = {
    "SIGHUP",
    "Reload (weir run; systemctl reload weir): read the configuration's script list again, load "
    "and check the new scripts, and only if they load swap them in: every flow keeps its state "
    "and its later events reach the new scripts. If they do not load, the running scripts stay "
    "and the error is logged. The EVE log is reopened too.",
    "SIGUSR1",
    "Reopen the EVE log only (weir run; what logrotate sends after moving it): the scripts and "
    "what they hold in Lua are untouched.",
    "SIGTERM, SIGINT",
    "Stop cleanly: reception stops, the workers drain, the last records (every open flow, the "
    "summary) are written. A second one exits at once.",
    NULL};

static const char *const environment[] = {
    "NOTIFY_SOCKET",
    "Set by systemd for weir.service (Type=notify): weir run reports READY=1 once its ports and "
    "dashboard are up, and a one-line STATUS= summary.",
    "WATCHDOG_USEC",
    "Set by systemd with WatchdogSec=: weir run's control thread sends WATCHDOG=1 within that "
    "interval.",
    "WEIR_DASHBOARD_TOKEN",
    "The bearer token of weir replay --serve when --serve-token is not given.",
    "WEIR_SITE_SCRIPTS_DIR, WEIR_SHIPPED_SCRIPTS_DIR",
    "Used instead of /etc/weir/scripts and /usr/share/weir/scripts, where a configuration's bare "
    "script names are looked up and a script's require finds modules (after the script's own "
    "directory).",
    NULL};

void weir_cli_man(FILE *out, const char *version, const struct weir_cli_cmd *const *cmds, size_t n)
{
	fputs(".\\\" weir(8), printed by `weir help --man` from weir's command tables (cli/): edit "
	      "those, not this page.\n",
	      out);
	fprintf(out, ".TH WEIR 8 \"\" \"weir %s\" \"System Manager's Manual\"\n", version);
	fputs(".nh\n.ad l\n", out); /* no hyphens inside option names and paths; ragged right */
	fputs(".SH NAME\nweir \\- stateful TCP flow monitor for middleboxes, scriptable in Lua\n"
	      ".SH SYNOPSIS\n",
	      out);
	for (size_t i = 0; i < n; i++)
		synopsis(out, cmds[i]);
	fputs(".SH DESCRIPTION\n", out);
	for (const char *const *p = description; *p; p++) {
		fputs(p == description ? "" : ".PP\n", out);
		text(out, *p);
		fputc('\n', out);
	}
	fputs(".SH COMMANDS\n", out);
	for (size_t i = 0; i < n; i++)
		command(out, cmds[i]);
	fputs(".SH EXIT STATUS\n", out);
	for (size_t i = 0; i < weir_cli_n_exits; i++) {
		fprintf(out, ".TP\n.B %d\n", weir_cli_exits[i].code);
		sentence(out, weir_cli_exits[i].meaning);
	}
	tagged(out, "FILES", 'I', files);
	tagged(out, "SIGNALS", 'B', signals);
	tagged(out, "ENVIRONMENT", 'B', environment);
	fputs(
	    ".PP\nThe shipped scripts read their own settings from WEIR_* variables, named at the "
	    "top of each script in /usr/share/weir/scripts/.\n"
	    ".SH SEE ALSO\n.BR systemctl (1),\n.BR systemd.service (5),\n.BR logrotate (8)\n.PP\n"
	    "/usr/share/doc/weir/README.md.gz (settings, outputs, the dashboard) and "
	    "/usr/share/doc/weir/lua\\-api.md.gz (writing scripts).\n",
	    out);
}
