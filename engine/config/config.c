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
#include <luajit.h>
#include <lualib.h>

#include "config/config.h"
#include "core/settings.h"

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
	const struct weir_script_dirs *dirs; /* where a script's bare file name is looked up */
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

#define RUN_FIELD(f) offsetof(struct weir_run_config, f), sizeof(((struct weir_run_config *)0)->f)

static const char *const modes[] = { "inline", "passive", NULL }; /* enum weir_run_mode */
static const char *const frag_policies[] = { "drop", "forward", NULL }; /* enum weir_frag_policy */

/* The run's own scalar settings; the engine's (flows.*, streams.*, defrag.*) are
 * weir_engine_settings(). */
static const struct weir_setting run_settings[] = {
	{ "dpdk.mbufs", WEIR_SET_UINT, RUN_FIELD(mbufs), 16383, 1023, 1 << 24, NULL, "mbufs",
	  "packet buffers in the pool: 2^14 - 1 is the mempool's optimum, and fits -m 256 without hugepages" },
	{ "mode", WEIR_SET_ENUM, RUN_FIELD(mode), WEIR_MODE_INLINE, 0, 1, modes, "",
	  "\"inline\": a bump in the wire between pairs of ports; \"passive\": a tap or mirror, nothing sent" },
	{ "workers", WEIR_SET_UINT, RUN_FIELD(workers), 1, 1, WEIR_CFG_MAX_WORKERS, NULL, "lcores",
	  "worker lcores; without NIC RSS, flows are spread by a symmetric hash of the two addresses "
	  "(a TCP segment's IP fragments then reach the worker of its flow)" },
	{ "idle_sleep_us", WEIR_SET_UINT, RUN_FIELD(idle_sleep_us), 0, 0, 1000000, NULL, "us",
	  "sleep this long after an all-empty poll (0: busy polling)" },
	{ "forward_non_tcp", WEIR_SET_BOOL, RUN_FIELD(forward_non_tcp), 1, 0, 1, NULL, "",
	  "inline: pass non-TCP and non-IP frames untouched (false: drop them, counted)" },
	{ "defrag.unreassembled", WEIR_SET_ENUM, RUN_FIELD(unreassembled), WEIR_FRAGMENTS_DROP, 0, 1,
	  frag_policies, "",
	  "inline: a TCP fragment whose datagram cannot be reassembled (too many fragments, oversized, "
	  "inconsistent, no memory), so no detector saw it: \"drop\" (counted per port) or "
	  "\"forward\"; fragments held or reassembled are sent on (a drop verdict on the reassembled "
	  "packet drops the fragment that completed it)" },
	{ "lua.budget_ms", WEIR_SET_UINT, RUN_FIELD(lua_budget_ms), 100, 1, 60000, NULL, "ms",
	  "a script's handler call (or top level) using more CPU time is stopped with an error, even in "
	  "a JIT-compiled loop (counted: budget_stops)" },
	{ "lua.memory_mb", WEIR_SET_UINT, RUN_FIELD(lua_memory_mb), 256, 1, 1048576, NULL, "MiB",
	  "each worker's Lua heap: past it an allocation in a handler fails with \"not enough memory\" "
	  "(counted: memory_errors)" },
	{ "lua.max_errors", WEIR_SET_UINT, RUN_FIELD(lua_max_errors), 100, 0, 4294967295u, NULL, "errors",
	  "a handler is disabled after this many errors, on the dashboard and in /metrics (0: never)" },
};
#define N_RUN_SETTINGS (sizeof(run_settings) / sizeof(run_settings[0]))

const struct weir_setting *weir_run_setting(unsigned i, size_t *base)
{
	unsigned n_engine;
	const struct weir_setting *engine = weir_engine_settings(&n_engine);
	if (i < N_RUN_SETTINGS) {
		*base = 0;
		return &run_settings[i];
	}
	i -= (unsigned)N_RUN_SETTINGS;
	*base = offsetof(struct weir_run_config, engine);
	return i < n_engine ? &engine[i] : NULL;
}

/* The scalar setting called name ("flows.max"), or NULL. */
static const struct weir_setting *find_setting(const char *name, size_t *base)
{
	const struct weir_setting *s;
	for (unsigned i = 0; (s = weir_run_setting(i, base)) != NULL; i++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

void weir_run_config_defaults(struct weir_run_config *c)
{
	/* Without hugepages or PCI access weir still runs (test boxes, containers); an appliance
	 * config replaces these with its own EAL arguments. */
	static const char *const eal[] = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" };
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < sizeof(eal) / sizeof(eal[0]); i++)
		snprintf(c->eal[c->n_eal++], WEIR_CFG_STR, "%s", eal[i]);
	memset(c->pairs, 0xff, sizeof(c->pairs));
	weir_settings_apply_defaults(run_settings, N_RUN_SETTINGS, c);
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

/* A name longer than this is not compared for a suggestion (no setting is near that long). */
#define SUGGEST_MAX_LEN 48

/* Levenshtein distance of a and b, each at most SUGGEST_MAX_LEN bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	const size_t la = strlen(a), lb = strlen(b);
	size_t row[SUGGEST_MAX_LEN + 1];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			const size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* "unknown setting" for key, naming the one of names (NULL-terminated) closest to it when it is
 * at most two edits away (one for a key of four letters or fewer: "xy" is no typo of "ip"). */
static int fail_unknown(struct ld *d, const char *key, const char *const *names)
{
	const size_t len = key ? strlen(key) : 0;
	const char *best = NULL;
	size_t best_d = len <= 4 ? 2 : 3;
	for (size_t i = 0; len && len <= SUGGEST_MAX_LEN && names[i]; i++) {
		if (strlen(names[i]) > SUGGEST_MAX_LEN)
			continue;
		const size_t e = edit_distance(key, names[i]);
		if (e < best_d) {
			best_d = e;
			best = names[i];
		}
	}
	if (best)
		return fail(d, "unknown setting (did you mean \"%s\"?)", best);
	return fail(d, "unknown setting");
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
			const char *key =
			    lua_type(d->L, -1) == LUA_TSTRING ? lua_tostring(d->L, -1) : NULL;
			if (key)
				snprintf(d->path + plen, sizeof(d->path) - plen, ".%s", key);
			const int rc = fail_unknown(d, key, names);
			lua_pop(d->L, 1);
			return rc;
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

/* Reads the scalar setting s (its value on the stack top) into the struct at base. */
static int read_setting(struct ld *d, const struct weir_setting *s, void *base)
{
	uint64_t u = 0;
	uint8_t b = 0;
	double v = 0;
	int k;
	snprintf(d->path, sizeof(d->path), "%s", s->name);
	switch (s->type) {
	case WEIR_SET_UINT:
		if (get_uint(d, s->lo, s->hi, &u))
			return -1;
		v = (double)u;
		break;
	case WEIR_SET_SECONDS:
		if (get_num(d, s->lo, s->hi, &v))
			return -1;
		break;
	case WEIR_SET_BOOL:
		if (get_bool(d, &b))
			return -1;
		v = b;
		break;
	case WEIR_SET_ENUM:
		if ((k = get_enum(d, s->names)) < 0)
			return -1;
		v = k;
		break;
	}
	weir_setting_store(s, base, v);
	return 0;
}

/* Reads the scalar settings of section (the table on the stack top), which may also hold the keys
 * in extra (NULL-terminated; read by the caller). */
static int read_section(struct ld *d, struct weir_run_config *c, const char *section, const char *const *extra)
{
	const char *keys[32];
	size_t nk = 0, base;
	const size_t plen = strlen(section);
	const struct weir_setting *s;
	for (unsigned i = 0; (s = weir_run_setting(i, &base)) != NULL; i++)
		if (!strncmp(s->name, section, plen) && s->name[plen] == '.' && nk < 31)
			keys[nk++] = s->name + plen + 1;
	for (size_t i = 0; extra[i] && nk < 31; i++)
		keys[nk++] = extra[i];
	keys[nk] = NULL;
	if (want_table(d) || check_keys(d, keys))
		return -1;
	for (unsigned i = 0; (s = weir_run_setting(i, &base)) != NULL; i++) {
		if (strncmp(s->name, section, plen) || s->name[plen] != '.')
			continue;
		if (field(d, section, s->name + plen + 1) && read_setting(d, s, (uint8_t *)c + base))
			return -1;
		lua_pop(d->L, 1);
	}
	return 0;
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
	static const char *const keys[] = { "eal", "ports", NULL };
	unsigned n;
	if (read_section(d, c, "dpdk", keys))
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

/* Whether path can be read: 0, 1 when it does not exist, or -1 with the error (d->path names the
 * entry). */
static int readable(struct ld *d, const char *path)
{
	if (access(path, R_OK) == 0)
		return 0;
	return errno == ENOENT ? 1 : fail(d, "%s: %s", path, strerror(errno));
}

/* Resolves scripts entry name into out (WEIR_CFG_STR bytes). A bare file name is looked up in the
 * site's directory, then the shipped one (a site script overrides a shipped one of the same
 * name); a name with a '/' is a path, taken from the config file's directory when relative (the
 * same file whatever the current directory: a service runs in /). */
static int resolve_script(struct ld *d, const char *name, char *out)
{
	int rc;
	if (strchr(name, '/')) {
		const char *slash = strrchr(d->file, '/');
		const int dirlen = name[0] == '/' || !slash ? 0 : (int)(slash - d->file + 1);
		if (snprintf(out, WEIR_CFG_STR, "%.*s%s", dirlen, d->file, name) >= WEIR_CFG_STR)
			return fail(d, "%s: path too long", name);
		rc = readable(d, out);
		return rc > 0 ? fail(d, "%s: %s", out, strerror(ENOENT)) : rc;
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return fail(d, "\"%s\" is not a script's file name", name);
	const char *const dirs[] = {d->dirs->site, d->dirs->shipped};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (snprintf(out, WEIR_CFG_STR, "%s/%s", dirs[i], name) >= WEIR_CFG_STR)
			return fail(d, "%s/%s: path too long", dirs[i], name);
		if ((rc = readable(d, out)) <= 0)
			return rc;
	}
	return fail(d, "%s: not in %s nor in %s", name, dirs[0], dirs[1]);
}

/* One entry of scripts: "x.lua", or { "x.lua", trusted = true } (the value on the stack top). */
static int read_script_entry(struct ld *d, char *name, size_t len, uint8_t *trusted)
{
	*trusted = 0;
	if (lua_type(d->L, -1) != LUA_TTABLE)
		return get_str(d, name, len);
	const size_t plen = strlen(d->path);
	lua_pushnil(d->L);
	while (lua_next(d->L, -2)) {
		lua_pop(d->L, 1);
		const int t = lua_type(d->L, -1);
		if ((t == LUA_TNUMBER && lua_tonumber(d->L, -1) == 1) ||
		    (t == LUA_TSTRING && !strcmp(lua_tostring(d->L, -1), "trusted")))
			continue;
		if (t == LUA_TSTRING)
			snprintf(d->path + plen, sizeof(d->path) - plen, ".%s", lua_tostring(d->L, -1));
		lua_pop(d->L, 1);
		return fail(d, "unknown setting (an entry is \"x.lua\" or { \"x.lua\", trusted = true })");
	}
	lua_getfield(d->L, -1, "trusted");
	snprintf(d->path + plen, sizeof(d->path) - plen, ".trusted");
	if (!lua_isnil(d->L, -1) && get_bool(d, trusted))
		return -1;
	lua_pop(d->L, 1);
	lua_rawgeti(d->L, -1, 1);
	snprintf(d->path + plen, sizeof(d->path) - plen, "[1]");
	if (get_str(d, name, len))
		return -1;
	lua_pop(d->L, 1);
	d->path[plen] = 0;
	return 0;
}

static int read_scripts(struct ld *d, struct weir_run_config *c)
{
	unsigned n;
	char name[WEIR_CFG_STR];
	if (list_len(d, WEIR_CFG_MAX_SCRIPTS, &n))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		lua_rawgeti(d->L, -1, (int)i + 1);
		snprintf(d->path, sizeof(d->path), "scripts[%u]", i + 1);
		if (read_script_entry(d, name, sizeof(name), &c->script_trusted[i]) ||
		    resolve_script(d, name, c->scripts[i]))
			return -1;
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
		char why[128];
		if (get_str(d, c->dashboard_token, sizeof(c->dashboard_token)))
			return -1;
		if (weir_token_check(c->dashboard_token, why, sizeof(why)) != 0)
			return fail(d, "%s", why);
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
		return fail(d, "no interface configured: edit %s (dpdk.ports)", d->file);
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

/* ---- the sandbox's bounds ----------------------------------------------------------------- */

/* packaging/weir.lua runs about 50 VM instructions and allocates 51 KB (38 KB of it the standard
 * libraries); these bounds stop an endless loop or an allocation bomb in a few ms. The budget
 * counts every byte ever allocated (frees do not refund it), so the work of a library call that
 * builds a string or table, proportional to what it allocates, is bounded too. A single pattern
 * match that backtracks (('a'):rep(3000):find('.-.-.-b')) allocates nothing and runs no hook in
 * its one C call, so the config's string library has no pattern functions: a config is data. */
#define SANDBOX_HOOK_EVERY   1000 /* VM instructions between two count hooks */
#define SANDBOX_MAX_HOOKS    1000 /* so at most 1,000,000 instructions: ~3 ms interpreted */
#define SANDBOX_ALLOC_BUDGET (64ull << 20)
#define SANDBOX_KEY          "weir.config.sandbox"

struct sandbox {
	const char *file;
	uint64_t allocated; /* bytes allocated so far (the budget's count) */
	unsigned hooks;
};

/* The config state's allocator: refuses what would take the state past its budget. */
static void *sandbox_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
	struct sandbox *sb = ud;
	if (nsize == 0) {
		free(p);
		return NULL;
	}
	const size_t had = p ? osize : 0, grow = nsize > had ? nsize - had : 0;
	if (sb->allocated + grow > SANDBOX_ALLOC_BUDGET)
		return NULL; /* never for a shrink: LuaJIT assumes those succeed */
	void *q = realloc(p, nsize);
	if (q)
		sb->allocated += grow;
	return q;
}

/* The count hook: past the limit the chunk stops with file:line. From then on every instruction
 * fails, so a pcall in the config cannot catch the error and loop on. */
static void sandbox_hook(lua_State *L, lua_Debug *ar)
{
	lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX_KEY);
	struct sandbox *sb = lua_touserdata(L, -1);
	lua_pop(L, 1);
	if (++sb->hooks <= SANDBOX_MAX_HOOKS)
		return;
	lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, 1);
	lua_getinfo(L, "l", ar);
	lua_pushfstring(L,
	                "%s:%d: instruction limit exceeded (%d VM instructions; an endless loop?)",
	                sb->file, ar->currentline, SANDBOX_HOOK_EVERY * SANDBOX_MAX_HOOKS);
	lua_error(L);
}

/* A Lua state for one config, with the standard libraries: JIT off (LuaJIT does not run hooks
 * inside compiled traces), the count hook set, allocations under the budget. NULL when out of
 * memory. */
static lua_State *sandbox_state(struct sandbox *sb)
{
	lua_State *L = lua_newstate(sandbox_alloc, sb);
	/* A LuaJIT without GC64 takes no custom allocator on x86-64: no memory budget there. */
	if (!L)
		L = luaL_newstate();
	if (!L)
		return NULL;
	luaL_openlibs(L); /* before the JIT is turned off: opening the jit library turns it on */
	luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
	/* From the library table itself, so that method calls on strings ("s":find) lose them too. */
	static const char *const unbounded[] = { "find", "match", "gmatch", "gsub", "dump", NULL };
	lua_getglobal(L, "string");
	for (int i = 0; unbounded[i]; i++) {
		lua_pushnil(L);
		lua_setfield(L, -2, unbounded[i]);
	}
	lua_pop(L, 1);
	lua_pushlightuserdata(L, sb);
	lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX_KEY);
	lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, SANDBOX_HOOK_EVERY);
	return L;
}

/* ---- loading ------------------------------------------------------------------------------ */

static int known_top(const char *name);

/* __newindex of the config's environment, an always-empty proxy (upvalue 1: the table that holds
 * the globals): stores the global and remembers the assigning line. A setting given a second,
 * different value is an error naming both lines; other globals may change freely. */
static int env_newindex(lua_State *L)
{
	lua_Debug ar;
	int line = 0;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
		line = ar.currentline;
	lua_getfield(L, LUA_REGISTRYINDEX, LINES_KEY);
	lua_pushvalue(L, 2);
	lua_rawget(L, -2);
	const int first = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	lua_pushvalue(L, 2);
	lua_rawget(L, lua_upvalueindex(1));
	const int same = lua_rawequal(L, -1, 3); /* "flows = flows or {}" changes nothing */
	lua_pop(L, 1);
	if (first && !same && lua_type(L, 2) == LUA_TSTRING && known_top(lua_tostring(L, 2))) {
		luaL_where(L, 1);
		lua_pushfstring(L, "%s: set again (first set at line %d)", lua_tostring(L, 2), first);
		lua_concat(L, 2);
		return lua_error(L);
	}
	lua_pushvalue(L, 2);
	lua_pushinteger(L, line);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	lua_settop(L, 3);
	lua_rawset(L, lua_upvalueindex(1));
	return 0;
}

/* Builds the sandbox: a few pure functions (string, math, table, tostring, ...) and os.getenv
 * so a config can take paths from the environment; no io, no require, no loadfile. Pushes the
 * table the globals go to, then the proxy that is the chunk's environment. */
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
	lua_newtable(L); /* the globals: the libraries behind them */
	lua_insert(L, -2);
	lua_setmetatable(L, -2);
	lua_newtable(L); /* the proxy's metatable: reads from the globals, writes through newindex */
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "__index");
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, env_newindex, 1);
	lua_setfield(L, -2, "__newindex");
	lua_newtable(L);
	lua_insert(L, -2);
	lua_setmetatable(L, -2);
}

typedef int (*section_fn)(struct ld *d, struct weir_run_config *c);

static int read_flows(struct ld *d, struct weir_run_config *c)
{
	static const char *const none[] = { NULL };
	return read_section(d, c, "flows", none);
}

static int read_streams(struct ld *d, struct weir_run_config *c)
{
	static const char *const none[] = { NULL };
	return read_section(d, c, "streams", none);
}

static int read_defrag(struct ld *d, struct weir_run_config *c)
{
	static const char *const none[] = { NULL };
	return read_section(d, c, "defrag", none);
}

static int read_tunnels(struct ld *d, struct weir_run_config *c)
{
	static const char *const none[] = { NULL };
	return read_section(d, c, "tunnels", none);
}

static int read_lua(struct ld *d, struct weir_run_config *c)
{
	static const char *const none[] = { NULL };
	return read_section(d, c, "lua", none);
}

static const struct {
	const char *name;
	section_fn fn;
} sections[] = {
	{ "dpdk", read_dpdk },         { "pairs", read_pairs },     { "flows", read_flows },
	{ "streams", read_streams },   { "defrag", read_defrag },   { "scripts", read_scripts },
	{ "lua", read_lua },           { "dashboard", read_dashboard },
	{ "log", read_log },           { "firewall", read_firewall }, { "rss_key", read_rss_key },
	{ "tunnels", read_tunnels },
};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

/* Pushes the top-level setting name (raw: not the sandbox's library names), noting its line. */
static void push_top(struct ld *d, const char *name)
{
	lua_getfield(d->L, LUA_REGISTRYINDEX, LINES_KEY);
	lua_getfield(d->L, -1, name);
	d->line = (int)lua_tointeger(d->L, -1);
	lua_pop(d->L, 2);
	snprintf(d->path, sizeof(d->path), "%s", name);
	lua_pushstring(d->L, name);
	lua_rawget(d->L, d->env);
}

/* Whether name is a top-level setting: a section or a top-level scalar (mode, workers, ...). */
static int known_top(const char *name)
{
	size_t base;
	for (size_t i = 0; i < N_SECTIONS; i++)
		if (!strcmp(name, sections[i].name))
			return 1;
	return !strchr(name, '.') && find_setting(name, &base);
}

/* Fills names (room for n, NULL-terminated) with the top-level settings' names. */
static void top_names(const char **names, size_t n)
{
	size_t k = 0, base;
	const struct weir_setting *s;
	for (size_t i = 0; i < N_SECTIONS && k + 1 < n; i++)
		names[k++] = sections[i].name;
	for (unsigned i = 0; (s = weir_run_setting(i, &base)) != NULL && k + 1 < n; i++)
		if (!strchr(s->name, '.'))
			names[k++] = s->name;
	names[k] = NULL;
}

/* Reads every top-level setting (the environment table is on the stack top). */
static int read_settings(struct ld *d, struct weir_run_config *c)
{
	for (size_t i = 0; i < N_SECTIONS; i++) {
		push_top(d, sections[i].name);
		if (!lua_isnil(d->L, -1) && sections[i].fn(d, c))
			return -1;
		lua_settop(d->L, d->env);
	}
	size_t base;
	const struct weir_setting *s;
	for (unsigned i = 0; (s = weir_run_setting(i, &base)) != NULL; i++) {
		if (strchr(s->name, '.'))
			continue; /* read with its section */
		push_top(d, s->name);
		if (!lua_isnil(d->L, -1) && read_setting(d, s, (uint8_t *)c + base))
			return -1;
		lua_settop(d->L, d->env);
	}
	/* Any other global is a typo or a setting this version does not know. */
	lua_pushnil(d->L);
	while (lua_next(d->L, d->env)) {
		lua_pop(d->L, 1);
		const char *key = lua_type(d->L, -1) == LUA_TSTRING ? lua_tostring(d->L, -1) : "?";
		if (!known_top(key)) {
			lua_getfield(d->L, LUA_REGISTRYINDEX, LINES_KEY);
			lua_getfield(d->L, -1, key);
			d->line = (int)lua_tointeger(d->L, -1);
			snprintf(d->path, sizeof(d->path), "%s", key);
			const char *names[128]; /* the top-level names: about 20 */
			top_names(names, sizeof(names) / sizeof(names[0]));
			return fail_unknown(d, key, names);
		}
	}
	return cross_check(d, c);
}

const struct weir_script_dirs weir_script_dirs_installed = {
    .site = WEIR_SITE_SCRIPTS_DIR,
    .shipped = WEIR_SHIPPED_SCRIPTS_DIR,
};

int weir_run_config_load_dirs(struct weir_run_config *c, const char *text, const char *name,
                              const struct weir_script_dirs *dirs, char *err, size_t errlen)
{
	weir_run_config_defaults(c);
	struct sandbox sb = { .file = name };
	lua_State *L = sandbox_state(&sb);
	if (!L) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, LINES_KEY);
	char chunk[WEIR_CFG_STR + 1];
	snprintf(chunk, sizeof(chunk), "@%s", name); /* '@': Lua names the chunk as a file in messages */
	/* Text only: precompiled bytecode is not checked by LuaJIT and could crash the loader. */
	int rc = text ? luaL_loadbufferx(L, text, strlen(text), chunk, "t") : luaL_loadfilex(L, name, "t");
	if (rc == 0) {
		push_env(L);
		lua_setfenv(L, -3);
		lua_insert(L, -2); /* the globals stay below the chunk, read once it has run */
		rc = lua_pcall(L, 0, 0, 0);
	}
	if (rc == LUA_ERRMEM) { /* LuaJIT's message has no position */
		snprintf(err, errlen, "%s: memory limit exceeded (%llu MiB allocated)", name,
		         SANDBOX_ALLOC_BUDGET >> 20);
		lua_close(L);
		return -1;
	}
	if (rc != 0) { /* Lua's messages start with file:line, except a few of the loader's own */
		const char *m = lua_tostring(L, -1);
		if (!m)
			m = "an error value that is not a string";
		if (!strncmp(m, name, strlen(name)))
			snprintf(err, errlen, "%s", m);
		else
			snprintf(err, errlen, "%s: %s", name, m);
		lua_close(L);
		return -1;
	}
	struct ld d = {
	    .L = L, .file = name, .err = err, .errlen = errlen, .env = lua_gettop(L), .dirs = dirs};
	rc = read_settings(&d, c);
	lua_close(L);
	return rc;
}

struct weir_script_dirs weir_script_dirs_in_force(void)
{
	struct weir_script_dirs d = weir_script_dirs_installed;
	const char *site = getenv("WEIR_SITE_SCRIPTS_DIR"),
	           *shipped = getenv("WEIR_SHIPPED_SCRIPTS_DIR");
	if (site && site[0])
		d.site = site;
	if (shipped && shipped[0])
		d.shipped = shipped;
	return d;
}

int weir_run_config_load(struct weir_run_config *c, const char *path, char *err, size_t errlen)
{
	const struct weir_script_dirs dirs = weir_script_dirs_in_force();
	return weir_run_config_load_dirs(c, NULL, path, &dirs, err, errlen);
}

int weir_run_config_load_string(struct weir_run_config *c, const char *text, const char *name, char *err,
                                size_t errlen)
{
	const struct weir_script_dirs dirs = weir_script_dirs_in_force();
	return weir_run_config_load_dirs(c, text, name, &dirs, err, errlen);
}
