/* config.c — reads weir's Lua config file (LuaJIT, sandboxed) into struct weir_run_config, naming file:line on errors. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "config/config.h"

/* Registry key of the table that maps each top-level setting to the line that assigned it. */
#define LINES_KEY "weir.config.lines"

/* The reader's state: where errors go and which setting is being read. */
struct ld {
	lua_State *L;
	const char *file;
	char *err;
	size_t errlen;
	int env;        /* stack index of the config's environment table */
	int line;       /* line of the top-level setting being read (0 = unknown) */
	char path[160]; /* the setting being read, as written in the file */
};

static int fail(struct ld *d, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->line > 0)
		snprintf(d->err, d->errlen, "%s:%d: %s: %s", d->file, d->line, d->path, msg);
	else
		snprintf(d->err, d->errlen, "%s: %s: %s", d->file, d->path, msg);
	return -1;
}

void weir_run_config_defaults(struct weir_run_config *c)
{
	/* Without hugepages or PCI access weir still runs (test boxes, containers); an appliance
	 * config replaces these with its own EAL arguments. */
	static const char *const eal[] = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" };
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < sizeof(eal) / sizeof(eal[0]); i++)
		snprintf(c->eal[c->n_eal++], WEIR_CFG_STR, "%s", eal[i]);
	c->mbufs = 16383; /* 2^14 - 1: the mempool's optimum size; fits -m 256 without hugepages */
	c->mode = WEIR_MODE_INLINE;
	c->forward_non_tcp = 1;
	memset(c->pairs, 0xff, sizeof(c->pairs));
	c->workers = 1;
	weir_config_defaults(&c->engine);
}

int weir_run_config_check_listen(const char *s)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	errno = 0;
	const long port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 1 || port > 65535)
		return -1;
	unsigned char buf[16];
	if (host[0] == '[') {
		const size_t n = strlen(host);
		if (n < 3 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, buf) == 1 ? 0 : -1;
	}
	return inet_pton(AF_INET, host, buf) == 1 ? 0 : -1;
}

/* ---- value readers: the value is on the stack top; each sets d->path first ---------------- */

static int get_num(struct ld *d, double lo, double hi, double *out)
{
	if (lua_type(d->L, -1) != LUA_TNUMBER)
		return fail(d, "expected a number, got %s", luaL_typename(d->L, -1));
	const double v = lua_tonumber(d->L, -1);
	if (!(v >= lo && v <= hi))
		return fail(d, "%g is outside [%g, %g]", v, lo, hi);
	*out = v;
	return 0;
}

static int get_uint(struct ld *d, double lo, double hi, uint64_t *out)
{
	double v = 0;
	if (get_num(d, lo, hi, &v))
		return -1;
	if (v != floor(v))
		return fail(d, "%g is not a whole number", v);
	*out = (uint64_t)v;
	return 0;
}

static int get_bool(struct ld *d, uint8_t *out)
{
	if (lua_type(d->L, -1) != LUA_TBOOLEAN)
		return fail(d, "expected true or false, got %s", luaL_typename(d->L, -1));
	*out = (uint8_t)lua_toboolean(d->L, -1);
	return 0;
}

static int get_str(struct ld *d, char *out, size_t outlen)
{
	if (lua_type(d->L, -1) != LUA_TSTRING)
		return fail(d, "expected a string, got %s", luaL_typename(d->L, -1));
	size_t n;
	const char *s = lua_tolstring(d->L, -1, &n);
	if (n >= outlen || strlen(s) != n)
		return fail(d, "string too long or with a NUL byte");
	memcpy(out, s, n + 1);
	return 0;
}

/* Picks one of names (NULL-terminated); returns its index or -1. */
static int get_enum(struct ld *d, const char *const *names)
{
	char s[64];
	if (get_str(d, s, sizeof(s)))
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	char list[256] = "";
	for (int i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"", i ? ", " : "", names[i]);
	fail(d, "\"%s\" is not one of %s", s, list);
	return -1;
}

/* The table on the stack top may hold only the keys in names (NULL-terminated). */
static int check_keys(struct ld *d, const char *const *names)
{
	const size_t plen = strlen(d->path);
	lua_pushnil(d->L);
	while (lua_next(d->L, -2)) {
		lua_pop(d->L, 1);
		int known = 0;
		if (lua_type(d->L, -1) == LUA_TSTRING)
			for (int i = 0; names[i] && !known; i++)
				known = !strcmp(lua_tostring(d->L, -1), names[i]);
		if (!known) {
			if (lua_type(d->L, -1) == LUA_TSTRING)
				snprintf(d->path + plen, sizeof(d->path) - plen, ".%s", lua_tostring(d->L, -1));
			lua_pop(d->L, 1);
			return fail(d, "unknown setting");
		}
	}
	return 0;
}

static int want_table(struct ld *d)
{
	if (lua_type(d->L, -1) != LUA_TTABLE)
		return fail(d, "expected a table, got %s", luaL_typename(d->L, -1));
	return 0;
}

/* Length of the array part of the table on the stack top, checking it holds nothing else. */
static int list_len(struct ld *d, unsigned max, unsigned *n)
{
	if (want_table(d))
		return -1;
	const size_t len = lua_objlen(d->L, -1);
	size_t count = 0;
	lua_pushnil(d->L);
	while (lua_next(d->L, -2)) {
		lua_pop(d->L, 1);
		count++;
	}
	if (count != len)
		return fail(d, "expected a list {a, b, ...} without named keys or holes");
	if (len > max)
		return fail(d, "%zu entries, at most %u", len, max);
	*n = (unsigned)len;
	return 0;
}

/* Pushes field key of the table on the stack top and names it in d->path (base.key). */
static int field(struct ld *d, const char *base, const char *key)
{
	snprintf(d->path, sizeof(d->path), "%s.%s", base, key);
	lua_getfield(d->L, -1, key);
	return lua_isnil(d->L, -1) ? 0 : 1;
}

/* ---- sections ----------------------------------------------------------------------------- */

static int read_port(struct ld *d, struct weir_port_cfg *p, unsigned i)
{
	snprintf(d->path, sizeof(d->path), "dpdk.ports[%u]", i + 1);
	if (lua_type(d->L, -1) == LUA_TSTRING)
		return get_str(d, p->dev, sizeof(p->dev));
	static const char *const keys[] = { "dev", NULL };
	if (want_table(d) || check_keys(d, keys))
		return -1;
	char base[64];
	snprintf(base, sizeof(base), "dpdk.ports[%u]", i + 1);
	int rc = field(d, base, "dev") ? get_str(d, p->dev, sizeof(p->dev)) : fail(d, "missing (a PCI address or vdev string)");
	lua_pop(d->L, 1);
	if (!rc && !p->dev[0])
		return fail(d, "empty");
	return rc;
}

static int read_dpdk(struct ld *d, struct weir_run_config *c)
{
	static const char *const keys[] = { "eal", "ports", "mbufs", NULL };
	uint64_t v = 0;
	unsigned n;
	if (want_table(d) || check_keys(d, keys))
		return -1;
	if (field(d, "dpdk", "eal")) {
		if (list_len(d, WEIR_CFG_MAX_EAL, &n))
			return -1;
		c->n_eal = 0;
		for (unsigned i = 0; i < n; i++) {
			lua_rawgeti(d->L, -1, (int)i + 1);
			snprintf(d->path, sizeof(d->path), "dpdk.eal[%u]", i + 1);
			if (get_str(d, c->eal[i], WEIR_CFG_STR))
				return -1;
			lua_pop(d->L, 1);
			c->n_eal++;
		}
	}
	lua_pop(d->L, 1);
	if (field(d, "dpdk", "ports")) {
		if (list_len(d, WEIR_CFG_MAX_PORTS, &n))
			return -1;
		for (unsigned i = 0; i < n; i++) {
			lua_rawgeti(d->L, -1, (int)i + 1);
			if (read_port(d, &c->ports[i], i))
				return -1;
			lua_pop(d->L, 1);
		}
		c->n_ports = n;
	}
	lua_pop(d->L, 1);
	if (field(d, "dpdk", "mbufs")) {
		if (get_uint(d, 1023, 1 << 24, &v))
			return -1;
		c->mbufs = (unsigned)v;
	}
	lua_pop(d->L, 1);
	return 0;
}

static int read_pairs(struct ld *d, struct weir_run_config *c)
{
	unsigned n;
	if (list_len(d, WEIR_CFG_MAX_PORTS, &n))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		lua_rawgeti(d->L, -1, (int)i + 1);
		snprintf(d->path, sizeof(d->path), "pairs[%u]", i + 1);
		unsigned two;
		uint64_t a = 0, b = 0;
		if (list_len(d, 2, &two))
			return -1;
		if (two != 2)
			return fail(d, "a pair is {port, port}, 0-based port indexes");
		lua_rawgeti(d->L, -1, 1);
		if (get_uint(d, 0, WEIR_CFG_MAX_PORTS - 1, &a))
			return -1;
		lua_rawgeti(d->L, -2, 2);
		if (get_uint(d, 0, WEIR_CFG_MAX_PORTS - 1, &b))
			return -1;
		lua_pop(d->L, 3);
		if (a == b || c->pairs[a] != 0xff || c->pairs[b] != 0xff)
			return fail(d, "port %u or %u is already paired (or paired with itself)", (unsigned)a, (unsigned)b);
		c->pairs[a] = (uint8_t)b;
		c->pairs[b] = (uint8_t)a;
	}
	return 0;
}

static int read_flows(struct ld *d, struct weir_config *e)
{
	static const char *const keys[] = { "max", "idle_timeout", "handshake_timeout", "timewait", "policy", NULL };
	static const char *const policies[] = { "evict", "refuse", NULL };
	uint64_t v = 0;
	double s;
	int k;
	if (want_table(d) || check_keys(d, keys))
		return -1;
	if (field(d, "flows", "max")) {
		if (get_uint(d, 1, 1 << 26, &v))
			return -1;
		e->max_flows = (uint32_t)v;
	}
	lua_pop(d->L, 1);
	/* Times are seconds (fractions allowed), stored as ms; a week bounds them. */
	static const char *const times[] = { "idle_timeout", "handshake_timeout", "timewait" };
	uint32_t *dst[] = { &e->idle_timeout_ms, &e->handshake_timeout_ms, &e->timewait_ms };
	for (int i = 0; i < 3; i++) {
		if (field(d, "flows", times[i])) {
			if (get_num(d, i == 2 ? 0 : 0.001, 7 * 86400, &s))
				return -1;
			*dst[i] = (uint32_t)(s * 1000 + 0.5);
		}
		lua_pop(d->L, 1);
	}
	if (field(d, "flows", "policy")) {
		if ((k = get_enum(d, policies)) < 0)
			return -1;
		e->flow_policy = (uint8_t)(k ? WEIR_FLOWS_REFUSE_NEW : WEIR_FLOWS_EVICT_IDLEST);
	}
	lua_pop(d->L, 1);
	return 0;
}

static int read_streams(struct ld *d, struct weir_config *e)
{
	static const char *const keys[] = { "buffer_per_side", "memcap", "overlap", "midstream", NULL };
	static const char *const overlaps[] = { "first", "last", NULL };
	uint64_t v = 0;
	int k;
	if (want_table(d) || check_keys(d, keys))
		return -1;
	if (field(d, "streams", "buffer_per_side")) {
		if (get_uint(d, 1024, 1 << 30, &v))
			return -1;
		e->buffer_per_side = (uint32_t)v;
	}
	lua_pop(d->L, 1);
	if (field(d, "streams", "memcap")) {
		if (get_uint(d, 1 << 16, 1ull << 40, &v))
			return -1;
		e->memcap = v;
	}
	lua_pop(d->L, 1);
	if (field(d, "streams", "overlap")) {
		if ((k = get_enum(d, overlaps)) < 0)
			return -1;
		e->overlap = (uint8_t)k;
	}
	lua_pop(d->L, 1);
	if (field(d, "streams", "midstream") && get_bool(d, &e->midstream))
		return -1;
	lua_pop(d->L, 1);
	return 0;
}

static int read_scripts(struct ld *d, struct weir_run_config *c)
{
	unsigned n;
	if (list_len(d, WEIR_CFG_MAX_SCRIPTS, &n))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		lua_rawgeti(d->L, -1, (int)i + 1);
		snprintf(d->path, sizeof(d->path), "scripts[%u]", i + 1);
		if (get_str(d, c->scripts[i], WEIR_CFG_STR))
			return -1;
		if (access(c->scripts[i], R_OK) != 0)
			return fail(d, "%s: %s", c->scripts[i], strerror(errno));
		lua_pop(d->L, 1);
	}
	c->n_scripts = n;
	return 0;
}

static int read_dashboard(struct ld *d, struct weir_run_config *c)
{
	static const char *const keys[] = { "listen", "token", NULL };
	if (want_table(d) || check_keys(d, keys))
		return -1;
	if (field(d, "dashboard", "listen")) {
		if (get_str(d, c->dashboard_listen, sizeof(c->dashboard_listen)))
			return -1;
		if (weir_run_config_check_listen(c->dashboard_listen))
			return fail(d, "\"%s\" is not ADDRESS:PORT (numeric IPv4 or [IPv6])", c->dashboard_listen);
	}
	lua_pop(d->L, 1);
	if (field(d, "dashboard", "token")) {
		if (get_str(d, c->dashboard_token, sizeof(c->dashboard_token)))
			return -1;
		/* A short token is guessable; 16 characters is the least a bearer token should have. */
		if (strlen(c->dashboard_token) < 16)
			return fail(d, "shorter than 16 characters");
	}
	lua_pop(d->L, 1);
	return 0;
}

static int read_log(struct ld *d, struct weir_run_config *c)
{
	static const char *const keys[] = { "eve", "stats", NULL };
	if (want_table(d) || check_keys(d, keys))
		return -1;
	if (field(d, "log", "eve") && get_str(d, c->eve_path, sizeof(c->eve_path)))
		return -1;
	lua_pop(d->L, 1);
	if (field(d, "log", "stats") && get_str(d, c->stats_path, sizeof(c->stats_path)))
		return -1;
	lua_pop(d->L, 1);
	return 0;
}

static int read_rss_key(struct ld *d, struct weir_run_config *c)
{
	char hex[2 * WEIR_CFG_RSS_KEY_MAX + 1];
	if (get_str(d, hex, sizeof(hex)))
		return fail(d, "expected a hex string of at most %d bytes", WEIR_CFG_RSS_KEY_MAX);
	const size_t n = strlen(hex);
	if (n == 0 || n % 2)
		return fail(d, "expected an even, non-zero number of hex digits");
	for (size_t i = 0; i < n; i += 2) {
		unsigned b;
		if (!isxdigit((unsigned char)hex[i]) || !isxdigit((unsigned char)hex[i + 1]) ||
		    sscanf(hex + i, "%2x", &b) != 1)
			return fail(d, "'%c%c' is not a hex byte", hex[i], hex[i + 1]);
		c->rss_key[i / 2] = (uint8_t)b;
	}
	c->rss_key_len = (unsigned)(n / 2);
	return 0;
}

static int read_firewall(struct ld *d, struct weir_run_config *c)
{
	static const char *const keys[] = { "port", "action", NULL };
	static const char *const actions[] = { "drop", "pass", NULL };
	unsigned n;
	uint64_t v = 0;
	int k;
	if (list_len(d, WEIR_CFG_MAX_RULES, &n))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		char base[32];
		snprintf(base, sizeof(base), "firewall[%u]", i + 1);
		snprintf(d->path, sizeof(d->path), "%s", base);
		lua_rawgeti(d->L, -1, (int)i + 1);
		if (want_table(d) || check_keys(d, keys))
			return -1;
		if (!field(d, base, "port"))
			return fail(d, "missing");
		if (get_uint(d, 0, 65535, &v))
			return -1;
		lua_pop(d->L, 1);
		k = WEIR_RULE_DROP;
		if (field(d, base, "action") && (k = get_enum(d, actions)) < 0)
			return -1;
		lua_pop(d->L, 2);
		c->rules[i].port = (uint16_t)v;
		c->rules[i].action = (uint8_t)k;
	}
	c->n_rules = n;
	return 0;
}

/* Settings that depend on each other, checked once everything is read. */
static int cross_check(struct ld *d, struct weir_run_config *c)
{
	d->line = 0;
	snprintf(d->path, sizeof(d->path), "dpdk.ports");
	if (c->n_ports == 0)
		return fail(d, "no port configured");
	snprintf(d->path, sizeof(d->path), "pairs");
	unsigned paired = 0;
	for (unsigned i = 0; i < WEIR_CFG_MAX_PORTS; i++)
		if (c->pairs[i] != 0xff) {
			paired++;
			if (i >= c->n_ports || c->pairs[i] >= c->n_ports)
				return fail(d, "port %u is not configured (%u ports, counted from 0)",
				            i >= c->n_ports ? i : c->pairs[i], c->n_ports);
		}
	if (c->mode == WEIR_MODE_INLINE && paired == 0 && c->n_ports == 2) {
		c->pairs[0] = 1; /* the common bump in the wire needs no pairs line */
		c->pairs[1] = 0;
		paired = 2;
	}
	if (c->mode == WEIR_MODE_INLINE && paired != c->n_ports)
		return fail(d, "inline mode: every port must be in a pair (%u of %u are)", paired, c->n_ports);
	return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

/* __newindex of the config's environment: stores the global and remembers the assigning line. */
static int env_newindex(lua_State *L)
{
	lua_Debug ar;
	int line = 0;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
		line = ar.currentline;
	lua_getfield(L, LUA_REGISTRYINDEX, LINES_KEY);
	lua_pushvalue(L, 2);
	lua_pushinteger(L, line);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	lua_rawset(L, 1);
	return 0;
}

/* Builds the sandbox: a few pure functions (string, math, table, tostring, ...) and os.getenv
 * so a config can take paths from the environment; no io, no require, no loadfile. */
static void push_env(lua_State *L)
{
	static const char *const safe[] = { "ipairs", "pairs", "tostring", "tonumber", "type", "select",
		                            "unpack", "error", "assert", "pcall", "string", "math", "table", NULL };
	lua_newtable(L); /* the metatable holds the library names so they never count as settings */
	lua_newtable(L);
	for (int i = 0; safe[i]; i++) {
		lua_getglobal(L, safe[i]);
		lua_setfield(L, -2, safe[i]);
	}
	lua_newtable(L);
	lua_getglobal(L, "os");
	lua_getfield(L, -1, "getenv");
	lua_setfield(L, -3, "getenv");
	lua_pop(L, 1);
	lua_setfield(L, -2, "os");
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, env_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_newtable(L);
	lua_pushvalue(L, -2);
	lua_setmetatable(L, -2);
	lua_remove(L, -2);
}

typedef int (*section_fn)(struct ld *d, struct weir_run_config *c);

static int read_top_scalar(struct ld *d, struct weir_run_config *c)
{
	static const char *const modes[] = { "inline", "passive", NULL };
	static const char *const frag_policies[] = { "drop", "forward", NULL }; /* enum weir_frag_policy */
	uint64_t v = 0;
	int k;
	if (!strcmp(d->path, "mode")) {
		if ((k = get_enum(d, modes)) < 0)
			return -1;
		c->mode = (uint8_t)k;
		return 0;
	}
	if (!strcmp(d->path, "workers")) {
		if (get_uint(d, 1, WEIR_CFG_MAX_WORKERS, &v))
			return -1;
		c->workers = (unsigned)v;
		return 0;
	}
	if (!strcmp(d->path, "idle_sleep_us")) {
		if (get_uint(d, 0, 1000000, &v))
			return -1;
		c->idle_sleep_us = (unsigned)v;
		return 0;
	}
	if (!strcmp(d->path, "forward_non_tcp"))
		return get_bool(d, &c->forward_non_tcp);
	if (!strcmp(d->path, "fragments")) {
		if ((k = get_enum(d, frag_policies)) < 0)
			return -1;
		c->fragments = (uint8_t)k;
		return 0;
	}
	if (!strcmp(d->path, "scripts_jit"))
		return get_bool(d, &c->scripts_jit);
	return read_rss_key(d, c);
}

static int wrap_flows(struct ld *d, struct weir_run_config *c) { return read_flows(d, &c->engine); }
static int wrap_streams(struct ld *d, struct weir_run_config *c) { return read_streams(d, &c->engine); }

/* Reads every top-level setting (the environment table is on the stack top). */
static int read_settings(struct ld *d, struct weir_run_config *c)
{
	static const struct { const char *name; section_fn fn; } sections[] = {
		{ "dpdk", read_dpdk }, { "pairs", read_pairs }, { "flows", wrap_flows },
		{ "streams", wrap_streams }, { "scripts", read_scripts }, { "dashboard", read_dashboard },
		{ "log", read_log }, { "firewall", read_firewall }, { "mode", read_top_scalar },
		{ "workers", read_top_scalar }, { "idle_sleep_us", read_top_scalar },
		{ "forward_non_tcp", read_top_scalar }, { "rss_key", read_top_scalar },
		{ "scripts_jit", read_top_scalar }, { "fragments", read_top_scalar },
	};
	const size_t nsec = sizeof(sections) / sizeof(sections[0]);
	/* Sections are read in this fixed order so "mode" is known before pairs are checked. */
	for (size_t i = 0; i < nsec; i++) {
		lua_getfield(d->L, LUA_REGISTRYINDEX, LINES_KEY);
		lua_getfield(d->L, -1, sections[i].name);
		d->line = (int)lua_tointeger(d->L, -1);
		lua_pop(d->L, 2);
		snprintf(d->path, sizeof(d->path), "%s", sections[i].name);
		lua_pushstring(d->L, sections[i].name); /* raw: not the sandbox's library names */
		lua_rawget(d->L, d->env);
		if (!lua_isnil(d->L, -1) && sections[i].fn(d, c))
			return -1;
		lua_settop(d->L, d->env);
	}
	/* Any other global is a typo or a setting this version does not know. */
	lua_pushnil(d->L);
	while (lua_next(d->L, d->env)) {
		lua_pop(d->L, 1);
		const char *key = lua_type(d->L, -1) == LUA_TSTRING ? lua_tostring(d->L, -1) : "?";
		size_t i = 0;
		while (i < nsec && strcmp(key, sections[i].name))
			i++;
		if (i == nsec) {
			lua_getfield(d->L, LUA_REGISTRYINDEX, LINES_KEY);
			lua_getfield(d->L, -1, key);
			d->line = (int)lua_tointeger(d->L, -1);
			snprintf(d->path, sizeof(d->path), "%s", key);
			return fail(d, "unknown setting");
		}
	}
	return cross_check(d, c);
}

static int load(struct weir_run_config *c, const char *text, const char *name, char *err, size_t errlen)
{
	weir_run_config_defaults(c);
	lua_State *L = luaL_newstate();
	if (!L) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	luaL_openlibs(L);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, LINES_KEY);
	char chunk[WEIR_CFG_STR + 1];
	snprintf(chunk, sizeof(chunk), "@%s", name); /* '@': Lua names the chunk as a file in messages */
	int rc = text ? luaL_loadbuffer(L, text, strlen(text), chunk) : luaL_loadfile(L, name);
	if (rc == 0) {
		push_env(L);
		lua_pushvalue(L, -1);
		lua_setfenv(L, -3);
		lua_insert(L, -2);
		rc = lua_pcall(L, 0, 0, 0);
	}
	if (rc != 0) { /* Lua's own message already starts with file:line */
		const char *m = lua_tostring(L, -1);
		snprintf(err, errlen, "%s", m ? m : "unknown Lua error");
		lua_close(L);
		return -1;
	}
	struct ld d = { .L = L, .file = name, .err = err, .errlen = errlen, .env = lua_gettop(L) };
	rc = read_settings(&d, c);
	lua_close(L);
	return rc;
}

int weir_run_config_load(struct weir_run_config *c, const char *path, char *err, size_t errlen)
{
	return load(c, NULL, path, err, errlen);
}

int weir_run_config_load_string(struct weir_run_config *c, const char *text, const char *name, char *err,
                                size_t errlen)
{
	return load(c, text, name, err, errlen);
}
