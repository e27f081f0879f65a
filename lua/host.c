/* host.c — the LuaJIT host: creates a worker's Lua state, loads weir.lua and the scripts, runs a burst with one call into Lua. */
#define _GNU_SOURCE /* pthread_setname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "config/config.h"
#include "log/eve.h"
#include "lua/host.h"

/* Generated at build time: weir.lua and the FFI declarations (embed.cmake, gen_cdef.cmake). */
extern const char weir_lua_src_weir[];
extern const unsigned weir_lua_src_weir_len;
extern const char weir_lua_src_cdef[];
extern const unsigned weir_lua_src_cdef_len;
extern const void *const weir_lua_ffi_syms[];
extern const unsigned weir_lua_ffi_nsyms;

/* The FFI reads these records in place: the layouts weir.lua indexes must not drift. weir.lua also
 * compares ffi.sizeof() of each struct with the sizes C passes it at start. */
_Static_assert(sizeof(struct weir_event_rec) == 32, "event record is 32 bytes");
_Static_assert(offsetof(struct weir_event_rec, event) == 24, "event record layout");
_Static_assert(sizeof(struct weir_lua_handler_stat) == WEIR_LUA_NAME_MAX + 40, "handler stat layout");
_Static_assert(sizeof(struct weir_lua_counter) == WEIR_LUA_NAME_MAX + 8, "counter layout");
_Static_assert(sizeof(struct weir_lua_limits) == 16, "limits layout");
_Static_assert(sizeof(struct weir_lua_guard) == 8, "guard layout");

struct weir_lua {
	struct weir_worker *w;
	lua_State *L;
	struct weir_lua_guard guard; /* written by weir.lua around each call of script code */
	/* The heap: bytes in use and the cap (from limits.memory_mb at creation). */
	size_t mem, mem_limit;
	/* The watchdog's view, under wd_lock: the odd guard.seq it last saw, since when, and the one it
	 * set the hook for (read by the hook on the worker's thread, hence atomic). */
	uint32_t wd_seen, wd_fired;
	uint64_t wd_since_ns, wd_since_cpu_ns;
	pthread_t wd_thread; /* the thread that runs the state's script code, and its CPU clock */
	clockid_t wd_clock;
	int wd_has_clock;
	struct weir_lua *wd_next;
	int run_ref;
	int close_ref; /* weir.lua's _close, once its init ran (LUA_NOREF before) */
	struct weir_lua_limits lim;
	weir_lua_alert_fn alert_fn;
	void *alert_user;
	uint64_t run_errors;
	unsigned nscripts, nhandlers, ncounters;
	struct weir_lua_script_stat scripts[WEIR_LUA_MAX_SCRIPTS];
	struct weir_lua_handler_stat handlers[WEIR_LUA_MAX_HANDLERS];
	struct weir_lua_counter counters[WEIR_LUA_MAX_COUNTERS];
};

void weir_lua_limits_defaults(struct weir_lua_limits *lim)
{
	lim->max_errors = 100;
	lim->log_every = 100;
	lim->budget_ms = 100;
	lim->memory_mb = 256;
}

/* ---- the heap cap ------------------------------------------------------------------------------ */

/* The state's allocator: counts its bytes, and refuses to grow past mem_limit while script code runs
 * (guard.seq odd). weir.lua's own work between calls (dispatch, error reports) is never refused, so a
 * script holding its memory at the cap fails its own handlers, not the dispatcher. LuaJIT turns a
 * refusal into the Lua error "not enough memory", which the handler's pcall catches and counts. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct weir_lua *H = ud;
	if (nsize == 0) {
		free(ptr);
		H->mem -= osize;
		return NULL;
	}
	if (nsize > osize && (H->guard.seq & 1) &&
	    (H->mem >= H->mem_limit || nsize - osize > H->mem_limit - H->mem))
		return NULL;
	void *p = realloc(ptr, nsize);
	if (p)
		H->mem = H->mem - osize + nsize;
	return p;
}

/* ---- the time budget: one watchdog thread for every Lua state of the process --------------------
 *
 * Script code runs JIT-compiled. LuaJIT built with LUAJIT_ENABLE_CHECKHOOK (third_party/luajit) tests
 * the hook mask on every compiled loop's back edge, so a hook set from another thread reaches even a
 * compiled endless loop: the watchdog sees a call (an odd guard.seq) that has not changed for
 * budget_ms and sets a count hook of 1 on its state (lua_sethook may be called from another thread,
 * luajit.c's own Ctrl-C handler works this way). The hook runs on the worker's thread at the next
 * instruction or loop edge and raises the budget error there. Between budget checks nothing is
 * paid: no count hook, no interpreter. */
static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct weir_lua *wd_states; /* every live state, under wd_lock */
static int wd_running;

static uint32_t guard_seq(const struct weir_lua *H)
{
	return __atomic_load_n(&H->guard.seq, __ATOMIC_RELAXED);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	void *ud;
	lua_getallocf(L, &ud);
	struct weir_lua *H = ud;
	const uint32_t fired = __atomic_load_n(&H->wd_fired, __ATOMIC_ACQUIRE);
	if (guard_seq(H) != fired) { /* the call ended before the hook ran: nothing to stop */
		lua_sethook(L, NULL, 0, 0);
		return;
	}
	/* Not inside weir.lua's own functions (the call's bookkeeping, the sandbox's wrappers): an error
	 * there would escape the handler's pcall. The hook stays set and fires again at the next
	 * instruction, which is soon the script's. */
	if (lua_getinfo(L, "S", ar) && !strcmp(ar->source, "@weir.lua"))
		return;
	lua_sethook(L, NULL, 0, 0);
	H->guard.tripped = 1;
	luaL_where(L, 0);
	lua_pushfstring(L, "time budget of %d ms exceeded (endless loop?)", (int)H->lim.budget_ms);
	lua_concat(L, 2);
	lua_error(L);
}

/* CPU time the thread running H's script code has used, or UINT64_MAX when it cannot be read. */
static uint64_t thread_cpu_ns(const struct weir_lua *H)
{
	struct timespec ts;
	if (!H->wd_has_clock || clock_gettime(H->wd_clock, &ts) != 0)
		return UINT64_MAX;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether the call the watchdog has been watching since wd_since overran its budget: the budget
 * is the CPU time of the thread that runs it, so a worker the kernel does not run (a loaded
 * machine) is not charged for the wait; a call that uses no CPU (a trusted script blocked in a
 * read) is stopped after ten budgets of wall time, and never sooner than one second. */
static bool overran(const struct weir_lua *H, uint64_t now, uint64_t cpu)
{
	const uint64_t budget = (uint64_t)H->lim.budget_ms * 1000000u;
	const uint64_t wall_limit = budget * 10 > 1000000000u ? budget * 10 : 1000000000u;
	if (cpu == UINT64_MAX || H->wd_since_cpu_ns == UINT64_MAX)
		return now - H->wd_since_ns >= budget;
	return cpu - H->wd_since_cpu_ns >= budget || now - H->wd_since_ns >= wall_limit;
}

static void *watchdog(void *arg)
{
	(void)arg;
	const struct timespec tick = { 0, WEIR_LUA_WATCHDOG_MS * 1000000L };
	for (;;) {
		nanosleep(&tick, NULL);
		const uint64_t now = weir_lua_clock_ns();
		pthread_mutex_lock(&wd_lock);
		for (struct weir_lua *H = wd_states; H; H = H->wd_next) {
			const uint32_t seq = guard_seq(H);
			if (!(seq & 1)) {
				H->wd_seen = seq;
				continue;
			}
			const uint64_t cpu = thread_cpu_ns(H);
			if (seq != H->wd_seen) {
				H->wd_seen = seq;
				H->wd_since_ns = now;
				H->wd_since_cpu_ns = cpu;
				continue;
			}
			if (seq != H->wd_fired && overran(H, now, cpu)) {
				__atomic_store_n(&H->wd_fired, seq, __ATOMIC_RELEASE);
				lua_sethook(H->L, budget_hook, LUA_MASKCOUNT, 1);
			}
		}
		pthread_mutex_unlock(&wd_lock);
	}
	return NULL;
}

/* Puts H under the watchdog (starting its thread with the first state). 0 or a negative errno. */
static int watch(struct weir_lua *H)
{
	int rc = 0;
	pthread_mutex_lock(&wd_lock);
	if (!wd_running) {
		pthread_t t;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		rc = -pthread_create(&t, &a, watchdog, NULL);
		pthread_attr_destroy(&a);
		if (rc == 0) {
			pthread_setname_np(t, "weir-lua-wd");
			wd_running = 1;
		}
	}
	if (rc == 0) {
		H->wd_seen = H->wd_fired = 0;
		H->wd_next = wd_states;
		wd_states = H;
	}
	pthread_mutex_unlock(&wd_lock);
	return rc;
}

/* Notes the calling thread as the one that runs H's script code (whose CPU time the budget
 * counts); cheap when it already is. */
static void watch_thread(struct weir_lua *H)
{
	const pthread_t self = pthread_self();
	if (H->wd_has_clock && pthread_equal(self, H->wd_thread))
		return;
	clockid_t c;
	const int ok = pthread_getcpuclockid(self, &c) == 0;
	pthread_mutex_lock(&wd_lock);
	H->wd_thread = self;
	H->wd_clock = c;
	H->wd_has_clock = ok;
	pthread_mutex_unlock(&wd_lock);
}

/* Takes H from the watchdog's list: after this returns, the watchdog no longer touches H->L. */
static void unwatch(struct weir_lua *H)
{
	pthread_mutex_lock(&wd_lock);
	for (struct weir_lua **p = &wd_states; *p; p = &(*p)->wd_next)
		if (*p == H) {
			*p = H->wd_next;
			break;
		}
	pthread_mutex_unlock(&wd_lock);
}

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, WEIR_LUA_NAME_MAX, "%s", src ? src : "");
}

/* Sizes of the structs the FFI reads, for weir.lua's layout check. */
static void push_layout(lua_State *L)
{
	static const struct {
		const char *name;
		size_t size;
	} sizes[] = {
		{ "struct weir_event_rec", sizeof(struct weir_event_rec) },
		{ "struct weir_pkt", sizeof(struct weir_pkt) },
		{ "struct weir_tuple", sizeof(struct weir_tuple) },
		{ "struct weir_tcp_info", sizeof(struct weir_tcp_info) },
		{ "struct weir_buf_info", sizeof(struct weir_buf_info) },
		{ "struct weir_side_counters", sizeof(struct weir_side_counters) },
		{ "struct weir_stats", sizeof(struct weir_stats) },
		{ "struct weir_lua_handler_stat", sizeof(struct weir_lua_handler_stat) },
		{ "struct weir_lua_counter", sizeof(struct weir_lua_counter) },
		{ "struct weir_lua_limits", sizeof(struct weir_lua_limits) },
	};
	lua_createtable(L, 0, (int)(sizeof(sizes) / sizeof(sizes[0])));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		lua_pushinteger(L, (lua_Integer)sizes[i].size);
		lua_setfield(L, -2, sizes[i].name);
	}
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg ? msg : "unknown Lua error");
}

/* Loads weir.lua and calls its init(cdef, worker, host, layout); leaves the module table on the stack.
 * Both chunks are embedded as bytecode (lua/bcdump.c), named inside: mode "b". */
static int host_init(struct weir_lua *H, char *err, size_t errlen)
{
	lua_State *L = H->L;
	if (luaL_loadbufferx(L, weir_lua_src_weir, weir_lua_src_weir_len, "@weir.lua", "b") != 0 ||
	    lua_pcall(L, 0, 1, 0) != 0 || !lua_istable(L, -1)) {
		set_err(err, errlen, lua_tostring(L, -1));
		return -EINVAL;
	}
	lua_getfield(L, -1, "_init");
	if (luaL_loadbufferx(L, weir_lua_src_cdef, weir_lua_src_cdef_len, "@weir_cdef.lua", "b") != 0 ||
	    lua_pcall(L, 0, 1, 0) != 0) { /* the chunk returns the declarations as one string */
		set_err(err, errlen, lua_tostring(L, -1));
		return -EINVAL;
	}
	lua_pushlightuserdata(L, H->w);
	lua_pushlightuserdata(L, H);
	push_layout(L);
	if (lua_pcall(L, 4, 0, 0) != 0) {
		set_err(err, errlen, lua_tostring(L, -1));
		return -EINVAL;
	}
	return 0;
}

/* Loads one script file and runs its top level through the module's _load(index, name, chunk,
 * trusted). */
static int host_load(struct weir_lua *H, const struct weir_lua_script *sc, char *err, size_t errlen)
{
	const char *path = sc->path;
	lua_State *L = H->L;
	if (H->nscripts == WEIR_LUA_MAX_SCRIPTS) {
		set_err(err, errlen, "too many scripts");
		return -ENOSPC;
	}
	const unsigned idx = H->nscripts++;
	const char *base = strrchr(path, '/');
	copy_name(H->scripts[idx].name, base ? base + 1 : path);
	lua_getfield(L, -1, "_load");
	lua_pushinteger(L, (lua_Integer)idx);
	lua_pushstring(L, path);
	/* Source only ("t"): bytecode is not checked by LuaJIT, and could do anything the sandbox forbids. */
	if (luaL_loadfilex(L, path, "t") != 0) { /* "file:line: message" for syntax errors */
		set_err(err, errlen, lua_tostring(L, -1));
		lua_pop(L, 3);
		return -EINVAL;
	}
	lua_pushboolean(L, sc->trusted != 0);
	if (lua_pcall(L, 4, 0, 0) != 0) {
		set_err(err, errlen, lua_tostring(L, -1));
		lua_pop(L, 1);
		return -EINVAL;
	}
	return 0;
}

struct weir_lua *weir_lua_create(struct weir_worker *w, const char *const *scripts, unsigned n, char *err,
                                 size_t errlen)
{
	struct weir_lua_script sc[WEIR_LUA_MAX_SCRIPTS];
	if (n > WEIR_LUA_MAX_SCRIPTS) {
		set_err(err, errlen, "too many scripts");
		errno = EINVAL;
		return NULL;
	}
	for (unsigned i = 0; i < n; i++)
		sc[i] = (struct weir_lua_script){ scripts[i], 0 };
	return weir_lua_create_with(w, sc, n, NULL, err, errlen);
}

struct weir_lua *weir_lua_create_with(struct weir_worker *w, const struct weir_lua_script *scripts, unsigned n,
                                      const struct weir_lua_limits *lim, char *err, size_t errlen)
{
	int rc = -ENOMEM;
	struct weir_lua *H = w && (scripts || !n) ? calloc(1, sizeof(*H)) : NULL;
	if (!H) {
		set_err(err, errlen, w ? "out of memory" : "no worker");
		errno = w ? ENOMEM : EINVAL;
		return NULL;
	}
	/* Touch the generated table so the linker keeps every function the FFI declares. */
	if (weir_lua_ffi_nsyms == 0 || !weir_lua_ffi_syms[0])
		goto err;
	H->w = w;
	if (lim)
		H->lim = *lim;
	else
		weir_lua_limits_defaults(&H->lim);
	H->close_ref = LUA_NOREF;
	H->mem_limit = (size_t)H->lim.memory_mb << 20;
	H->L = lua_newstate(host_alloc, H);
	if (!H->L) {
		set_err(err, errlen, "cannot create a Lua state");
		goto err;
	}
	if ((rc = watch(H)) != 0) {
		set_err(err, errlen, "cannot start the Lua watchdog thread");
		goto err;
	}
	watch_thread(H); /* the scripts' top levels run here */
	luaL_openlibs(H->L);
	if ((rc = host_init(H, err, errlen)) != 0)
		goto err;
	lua_getfield(H->L, -1,
	             "_close"); /* from here on, a failure closes what the scripts opened */
	H->close_ref = luaL_ref(H->L, LUA_REGISTRYINDEX);
	for (unsigned i = 0; i < n; i++)
		if ((rc = host_load(H, &scripts[i], err, errlen)) != 0)
			goto err;
	lua_getfield(H->L, -1, "_run");
	H->run_ref = luaL_ref(H->L, LUA_REGISTRYINDEX);
	lua_settop(H->L, 0);
	return H;
err:
	weir_lua_free(H);
	errno = rc == -ENOMEM ? ENOMEM : EINVAL;
	return NULL;
}

int weir_lua_run(struct weir_lua *H)
{
	if (!H)
		return -EINVAL;
	watch_thread(H);
	lua_rawgeti(H->L, LUA_REGISTRYINDEX, H->run_ref);
	if (lua_pcall(H->L, 0, 0, 0) == 0)
		return 0;
	/* Handlers run under their own pcall: reaching here is a bug of the dispatcher itself. */
	if (H->run_errors++ == 0)
		fprintf(stderr, "weir: lua dispatcher failed: %s\n", lua_tostring(H->L, -1));
	lua_settop(H->L, 0);
	return weir_worker_run(H->w);
}

void weir_lua_free(struct weir_lua *H)
{
	if (!H)
		return;
	if (H->L) {
		if (H->close_ref != LUA_NOREF) {
			lua_rawgeti(H->L, LUA_REGISTRYINDEX, H->close_ref);
			if (lua_pcall(H->L, 0, 0, 0) != 0)
				fprintf(stderr, "weir: lua host: closing its sockets failed: %s\n",
				        lua_tostring(H->L, -1));
		}
		unwatch(H);
		lua_close(H->L);
	}
	free(H);
}

int weir_lua_set_limits(struct weir_lua *H, const struct weir_lua_limits *lim)
{
	if (!H || !lim)
		return -EINVAL;
	H->lim = *lim;
	return 0;
}

void weir_lua_set_alert_sink(struct weir_lua *H, weir_lua_alert_fn fn, void *user)
{
	H->alert_fn = fn;
	H->alert_user = user;
}

unsigned weir_lua_handler_stats(const struct weir_lua *H, const struct weir_lua_handler_stat **out)
{
	*out = H->handlers;
	return H->nhandlers;
}

unsigned weir_lua_script_stats(const struct weir_lua *H, const struct weir_lua_script_stat **out)
{
	*out = H->scripts;
	return H->nscripts;
}

unsigned weir_lua_counters(const struct weir_lua *H, const struct weir_lua_counter **out)
{
	*out = H->counters;
	return H->ncounters;
}

uint64_t weir_lua_run_errors(const struct weir_lua *H)
{
	return H->run_errors;
}

/* ---- called from weir.lua ------------------------------------------------------------------ */

int weir_lua_slot_handler(struct weir_lua *H, unsigned script, const char *where)
{
	if (script >= H->nscripts)
		return -EINVAL;
	if (H->nhandlers == WEIR_LUA_MAX_HANDLERS)
		return -ENOSPC;
	struct weir_lua_handler_stat *s = &H->handlers[H->nhandlers];
	copy_name(s->where, where);
	s->script = script;
	return (int)H->nhandlers++;
}

int weir_lua_slot_counter(struct weir_lua *H, const char *name)
{
	if (!name || !name[0])
		return -EINVAL;
	for (unsigned i = 0; i < H->ncounters; i++)
		if (!strncmp(H->counters[i].name, name, WEIR_LUA_NAME_MAX - 1))
			return (int)i;
	if (H->ncounters == WEIR_LUA_MAX_COUNTERS)
		return -ENOSPC;
	copy_name(H->counters[H->ncounters].name, name);
	return (int)H->ncounters++;
}

void weir_lua_raise_alert(struct weir_lua *H, unsigned script, const struct weir_flow *f, uint32_t sid,
                          uint32_t severity, const char *msg)
{
	if (script >= H->nscripts)
		return;
	struct weir_lua_alert a;
	memset(&a, 0, sizeof(a));
	if (f) {
		a.flow_id = weir_flow_id(f);
		a.has_flow = weir_flow_tuple(f, &a.tuple) == 0;
	}
	a.ts_ns = weir_worker_now(H->w);
	a.sid = sid;
	a.severity = severity;
	a.script = script;
	a.msg = msg ? msg : "";
	a.script_name = H->scripts[script].name;
	H->scripts[script].alerts++;
	if (H->alert_fn)
		H->alert_fn(&a, H->alert_user);
}

const char *weir_lua_script_dir(unsigned i)
{
	const struct weir_script_dirs d = weir_script_dirs_in_force();
	return i == 0 ? d.site : i == 1 ? d.shipped : NULL;
}

uint64_t weir_lua_clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct weir_lua_handler_stat *weir_lua_handler_array(struct weir_lua *H)
{
	return H->handlers;
}

struct weir_lua_script_stat *weir_lua_script_array(struct weir_lua *H)
{
	return H->scripts;
}

struct weir_lua_counter *weir_lua_counter_array(struct weir_lua *H)
{
	return H->counters;
}

struct weir_lua_limits *weir_lua_limits_of(struct weir_lua *H)
{
	return &H->lim;
}

struct weir_lua_guard *weir_lua_guard_of(struct weir_lua *H)
{
	return &H->guard;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* ns per event, rounded to the nearest integer, half to even (as printf's %.0f did). */
static uint64_t ns_per_event(const struct weir_lua_handler_stat *h)
{
	if (!h->timed)
		return 0;
	uint64_t q = h->timed_ns / h->timed, r = h->timed_ns % h->timed;
	if (r > h->timed - r || (r == h->timed - r && (q & 1)))
		q++;
	return q;
}

static void json_handlers(struct weir_json *w, const struct weir_lua *H, unsigned s)
{
	int first = 1;
	for (unsigned i = 0; i < H->nhandlers; i++) {
		const struct weir_lua_handler_stat *h = &H->handlers[i];
		if (h->script != s)
			continue;
		if (!first)
			WEIR_JSON_LIT(w, ",");
		first = 0;
		WEIR_JSON_LIT(w, "{\"where\":");
		weir_json_cstr(w, h->where);
		WEIR_JSON_KV(w, ",\"events\":", h->events);
		WEIR_JSON_KV(w, ",\"errors\":", h->errors);
		WEIR_JSON_KV(w, ",\"ns_per_event\":", ns_per_event(h));
		if (h->disabled)
			WEIR_JSON_LIT(w, ",\"disabled\":true}");
		else
			WEIR_JSON_LIT(w, ",\"disabled\":false}");
	}
}

int weir_lua_stats_json(const struct weir_lua *H, char *buf, size_t len)
{
	struct weir_json w;

	weir_json_init(&w, buf, len);
	WEIR_JSON_LIT(&w, "\"scripts\":[");
	for (unsigned s = 0; s < H->nscripts; s++) {
		if (s)
			WEIR_JSON_LIT(&w, ",");
		WEIR_JSON_LIT(&w, "{\"name\":");
		weir_json_cstr(&w, H->scripts[s].name);
		WEIR_JSON_KV(&w, ",\"errors\":", H->scripts[s].errors);
		WEIR_JSON_KV(&w, ",\"alerts\":", H->scripts[s].alerts);
		WEIR_JSON_KV(&w, ",\"budget_stops\":", H->scripts[s].budget_stops);
		WEIR_JSON_KV(&w, ",\"memory_errors\":", H->scripts[s].memory_errors);
		WEIR_JSON_LIT(&w, ",\"handlers\":[");
		json_handlers(&w, H, s);
		WEIR_JSON_LIT(&w, "]}");
	}
	WEIR_JSON_LIT(&w, "],\"counters\":{");
	for (unsigned i = 0; i < H->ncounters; i++) {
		if (i)
			WEIR_JSON_LIT(&w, ",");
		weir_json_cstr(&w, H->counters[i].name);
		WEIR_JSON_KV(&w, ":", H->counters[i].value);
	}
	WEIR_JSON_LIT(&w, "}");
	weir_json_end(&w);
	return (int)w.len;
}

int weir_lua_alert_json(char *buf, size_t len, const struct weir_lua_alert *a)
{
	struct weir_json w;

	weir_json_init(&w, buf, len);
	WEIR_JSON_LIT(&w, "{\"timestamp\":");
	weir_eve_json_time(&w, a->ts_ns);
	if (a->has_flow) {
		const struct weir_tuple *t = &a->tuple;
		WEIR_JSON_KV(&w, ",\"flow_id\":", a->flow_id);
		WEIR_JSON_LIT(&w, ",\"event_type\":\"alert\",\"src_ip\":");
		weir_eve_json_addr(&w, t->client_ip, t->ip_ver);
		WEIR_JSON_KV(&w, ",\"src_port\":", t->client_port);
		WEIR_JSON_LIT(&w, ",\"dest_ip\":");
		weir_eve_json_addr(&w, t->server_ip, t->ip_ver);
		WEIR_JSON_KV(&w, ",\"dest_port\":", t->server_port);
		WEIR_JSON_LIT(&w, ",\"proto\":\"TCP\"");
	} else {
		WEIR_JSON_LIT(&w, ",\"event_type\":\"alert\"");
	}
	WEIR_JSON_KV(&w, ",\"alert\":{\"signature_id\":", a->sid);
	WEIR_JSON_KV(&w, ",\"severity\":", a->severity);
	WEIR_JSON_LIT(&w, ",\"signature\":");
	weir_json_cstr(&w, a->msg);
	WEIR_JSON_LIT(&w, ",\"script\":");
	weir_json_cstr(&w, a->script_name);
	WEIR_JSON_LIT(&w, "}}\n");
	weir_json_end(&w);
	return (int)w.len;
}

size_t weir_lua_json_string(char *buf, size_t len, const char *s, size_t n)
{
	struct weir_json w;

	weir_json_init(&w, buf, len);
	weir_json_str(&w, s, n);
	weir_json_end(&w);
	return w.len;
}
