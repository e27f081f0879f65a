/* show.c — prints a run config's every setting as NAME = VALUE lines, each with its doc (weir check
 * --defaults) or whether it is the default (weir check -c), from the one settings table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/settings.h"

#define VALUE_MAX   4096
#define COMMENT_COL 36 /* where the "--" comment starts when the value is short */

/* A value being written: text in Lua syntax, truncated (never overflowed) at VALUE_MAX. */
struct val {
	char s[VALUE_MAX];
	size_t n;
};

static void put(struct val *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (v->n < sizeof(v->s) - 1) {
		const int k = vsnprintf(v->s + v->n, sizeof(v->s) - v->n, fmt, ap);
		if (k > 0) /* vsnprintf counts what it would have written: keep to what it did */
			v->n = v->n + (size_t)k < sizeof(v->s) ? v->n + (size_t)k : sizeof(v->s) - 1;
	}
	va_end(ap);
}

/* A Lua string literal: quotes, backslashes and control bytes escaped. */
static void put_str(struct val *v, const char *s)
{
	put(v, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(v, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			put(v, "\\%03u", *p); /* three digits: a digit after it cannot join the escape */
		else
			put(v, "%c", *p);
	}
	put(v, "\"");
}

/* { "a", "b" }; an item whose flag is set is written { "b", trusted = true } (flags may be NULL). */
static void put_list(struct val *v, const char (*items)[WEIR_CFG_STR], const uint8_t *trusted, unsigned n)
{
	put(v, "{");
	for (unsigned i = 0; i < n; i++) {
		put(v, i ? ", " : " ");
		if (trusted && trusted[i])
			put(v, "{ ");
		put_str(v, items[i]);
		if (trusted && trusted[i])
			put(v, ", trusted = true }");
	}
	put(v, n ? " }" : "}");
}

static void put_scalar(struct val *v, const struct weir_setting *s, double x)
{
	if (s->type == WEIR_SET_BOOL)
		put(v, "%s", x != 0 ? "true" : "false");
	else if (s->type == WEIR_SET_ENUM)
		put_str(v, s->names[(int)x]);
	else
		put(v, "%.15g", x);
}

enum { REQUIRED = -1 }; /* is_default of a setting without a default */

/* One line; its comment is the doc (docs) or whether the value is the default (else). */
static void line(FILE *out, const char *name, const struct val *v, int docs, const char *doc,
                 int is_default, const struct val *def)
{
	const int w = fprintf(out, "%s = %.*s", name, (int)v->n, v->s);
	fprintf(out, "%*s-- ", w < COMMENT_COL ? COMMENT_COL - w : 1, "");
	if (docs)
		fprintf(out, "%s\n", doc);
	else if (is_default == REQUIRED)
		fputs("required\n", out);
	else if (is_default)
		fputs("default\n", out);
	else
		fprintf(out, "set (default %.*s)\n", (int)def->n, def->s);
}

/* Two ports inline pair with each other without a pairs line: that is the default. */
static int pairs_default(const struct weir_run_config *c)
{
	for (unsigned i = 0; i < WEIR_CFG_MAX_PORTS; i++) {
		const unsigned auto_pair =
		    c->mode == WEIR_MODE_INLINE && c->n_ports == 2 && i < 2 ? 1 - i : 0xff;
		if (c->pairs[i] != auto_pair)
			return 0;
	}
	return 1;
}

static void put_pairs(struct val *v, const struct weir_run_config *c)
{
	put(v, "{");
	for (unsigned i = 0, k = 0; i < WEIR_CFG_MAX_PORTS; i++)
		if (c->pairs[i] != 0xff && c->pairs[i] > i)
			put(v, "%s{ %u, %u }", k++ ? ", " : " ", i, c->pairs[i]);
	put(v, v->s[v->n - 1] == '{' ? "}" : " }");
}

static void put_rules(struct val *v, const struct weir_run_config *c)
{
	put(v, "{");
	for (unsigned i = 0; i < c->n_rules; i++)
		put(v, "%s{ port = %u, action = \"%s\" }", i ? ", " : " ", c->rules[i].port,
		    c->rules[i].action == WEIR_RULE_PASS ? "pass" : "drop");
	put(v, c->n_rules ? " }" : "}");
}

static void put_rss_key(struct val *v, const struct weir_run_config *c)
{
	put(v, "\"");
	for (unsigned i = 0; i < c->rss_key_len; i++)
		put(v, "%02x", c->rss_key[i]);
	put(v, "\"");
}

/* The settings that are lists or strings, each with its doc. */
static void show_others(FILE *out, const struct weir_run_config *c, const struct weir_run_config *d,
                        int docs)
{
	struct val v = {.n = 0}, dv = {.n = 0};
	put_list(&v, c->eal, NULL, c->n_eal);
	put_list(&dv, d->eal, NULL, d->n_eal);
	int same = c->n_eal == d->n_eal;
	for (unsigned i = 0; same && i < c->n_eal; i++)
		same = !strcmp(c->eal[i], d->eal[i]);
	line(out, "dpdk.eal", &v, docs,
	     "EAL arguments: these run without hugepages or PCI access (test boxes, containers)",
	     same, &dv);

	v.n = 0;
	put(&v, "{");
	for (unsigned i = 0; i < c->n_ports; i++) {
		put(&v, i ? ", " : " ");
		put_str(&v, c->ports[i].dev);
	}
	put(&v, c->n_ports ? " }" : "}");
	line(out, "dpdk.ports", &v, docs,
	     "PCI addresses or vdev strings, counted from 0 (required)", REQUIRED, &v);

	v.n = dv.n = 0;
	put_pairs(&v, c);
	put(&dv, "{}");
	line(out, "pairs", &v, docs,
	     "inline: ports that forward to each other; two ports pair by default",
	     pairs_default(c), &dv);

	v.n = 0;
	put_rss_key(&v, c);
	dv.n = 0;
	put(&dv, "\"\"");
	line(out, "rss_key", &v, docs,
	     "hex RSS key of ports with several queues (\"\": a symmetric 6d5a key)",
	     c->rss_key_len == 0, &dv);

	v.n = dv.n = 0;
	put_list(&v, c->scripts, c->script_trusted, c->n_scripts);
	put(&dv, "{}");
	line(out, "scripts", &v, docs,
	     "Lua scripts loaded into every worker: a file name from /etc/weir/scripts (the "
	     "site's), else /usr/share/weir/scripts (shipped); a path from the config's directory; "
	     "{ \"x.lua\", trusted = true }: outside the sandbox (lua/README.md)",
	     c->n_scripts == 0, &dv);

	static const struct {
		const char *name, *doc;
		size_t off;
	} strs[] = {
	    {"dashboard.listen", "ADDRESS:PORT of the dashboard (\"\": none)",
	     offsetof(struct weir_run_config, dashboard_listen)},
	    {"dashboard.token", "bearer token of at least 16 characters (\"\": none; not shown)",
	     offsetof(struct weir_run_config, dashboard_token)},
	    {"log.eve", "EVE JSON: a \"flow\" record per flow and an \"alert\" per script alert, to this file (\"-\": stdout, \"\": none)",
	     offsetof(struct weir_run_config, eve_path)},
	    {"log.stats", "a JSON summary at exit to this file (\"-\": stdout, \"\": none)",
	     offsetof(struct weir_run_config, stats_path)},
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		const char *s = (const char *)c + strs[i].off;
		v.n = dv.n = 0;
		put_str(&v, s[0] && !strcmp(strs[i].name, "dashboard.token") ? "(set)" : s);
		put(&dv, "\"\"");
		line(out, strs[i].name, &v, docs, strs[i].doc, s[0] == '\0', &dv);
	}

	v.n = dv.n = 0;
	put_rules(&v, c);
	put(&dv, "{}");
	line(out, "firewall", &v, docs,
	     "built-in rules, first match wins: { port = N, action = \"drop\" | \"pass\" }",
	     c->n_rules == 0, &dv);
}

void weir_run_config_show(FILE *out, const struct weir_run_config *c, int docs)
{
	struct weir_run_config d; /* the defaults, to compare with */
	weir_run_config_defaults(&d);
	size_t base;
	const struct weir_setting *s;
	for (unsigned i = 0; (s = weir_run_setting(i, &base)) != NULL; i++) {
		struct val v = {.n = 0}, dv = {.n = 0};
		const double x = weir_setting_value(s, (const uint8_t *)c + base);
		const double dx = weir_setting_value(s, (const uint8_t *)&d + base);
		put_scalar(&v, s, x);
		put_scalar(&dv, s, dx);
		char doc[1024];
		snprintf(doc, sizeof(doc), "%s%s%s", s->unit, s->unit[0] ? ": " : "", s->doc);
		line(out, s->name, &v, docs, doc, x == dx, &dv);
	}
	show_others(out, c, &d, docs);
}
