/* host.h — the LuaJIT host: one Lua state per worker runs detector scripts that pull event records over the FFI. */
#ifndef WEIR_LUA_HOST_H
#define WEIR_LUA_HOST_H

#include "weir.h"

/*
 * This header is plain C like weir.h: the build turns both into the Lua FFI declarations
 * (lua/gen_cdef.cmake), so it holds no macros, bitfields or structs passed by value.
 *
 * Threading: a struct weir_lua belongs to the thread of its worker, like the worker itself. The
 * stats arrays may be read from another thread as plain 64-bit loads (torn values are not possible
 * on x86-64 for aligned words; a reader wanting consistency copies them on the worker's thread).
 */

struct weir_lua;

/** Capacities of the host's fixed arrays (a script asking for more gets a Lua error). */
enum weir_lua_caps {
	WEIR_LUA_MAX_SCRIPTS = 32,   /**< scripts per worker */
	WEIR_LUA_MAX_HANDLERS = 512, /**< handler, UDE filter and timer slots per worker */
	WEIR_LUA_MAX_COUNTERS = 256, /**< weir.counter() names per worker */
	WEIR_LUA_NAME_MAX = 96,      /**< bytes of a name, NUL included (longer names are cut) */
	WEIR_LUA_PEEK_MAX = 4194304, /**< most bytes one flow:peek returns: 4 MiB, the default
	                              *   buffer_per_side, so one peek reads all a side can hold */
};

/** One handler (a registration, a UDE filter or a script's timers): what the dashboard shows. */
struct weir_lua_handler_stat {
	char where[WEIR_LUA_NAME_MAX]; /**< "file.lua:12 new_data@post_rcv" */
	uint64_t events;               /**< times it ran */
	uint64_t errors;               /**< Lua errors it raised (budget overruns included) */
	uint64_t timed;                /**< calls whose duration was sampled */
	uint64_t timed_ns;             /**< their total duration: ns per event = timed_ns / timed */
	uint32_t script;               /**< index into the script table */
	uint32_t disabled;             /**< 1 once it hit the error limit: it no longer runs */
};

/** One script: its file name and totals. */
struct weir_lua_script_stat {
	char name[WEIR_LUA_NAME_MAX];
	uint64_t errors;        /**< all its handlers' errors */
	uint64_t alerts;        /**< weir.alert() calls */
	uint64_t budget_stops;  /**< of the errors: calls the watchdog stopped (limits.budget_ms) */
	uint64_t memory_errors; /**< of the errors: allocations refused at the heap cap (limits.memory_mb) */
};

/** A named counter of weir.counter(); scripts naming the same counter share it. */
struct weir_lua_counter {
	char name[WEIR_LUA_NAME_MAX];
	uint64_t value;
};

/** Limits of the error containment; weir_lua_limits_defaults() fills in the defaults. */
struct weir_lua_limits {
	uint32_t max_errors; /**< a handler is disabled after this many errors; 0: never (default 100) */
	uint32_t log_every;  /**< log the 1st error of a handler, then every Nth (default 100) */
	uint32_t budget_ms;  /**< CPU time one handler call, UDE filter, timer callback or script top
	                      *   level may use before the watchdog stops it with an error (default 100;
	                      *   it is stopped within budget_ms + WEIR_LUA_WATCHDOG_MS of it; a call
	                      *   that uses no CPU, blocked, after 10 x budget_ms of wall time, at least
	                      *   1 s) */
	uint32_t memory_mb;  /**< the Lua state's heap: inside a handler, an allocation past it fails with
	                      *   the Lua error "not enough memory" (default 256). Read when the state is
	                      *   created (weir_lua_create_with), not by weir_lua_set_limits. */
};

/** The watchdog's period: it looks at every Lua state this often. */
enum { WEIR_LUA_WATCHDOG_MS = 10 };

/** What the running handler shares with the watchdog thread (weir.lua writes it through the FFI). */
struct weir_lua_guard {
	uint32_t seq;     /**< odd while script code runs (a handler, a filter, a top level): weir.lua
	                   *   adds 2 before and 1 after each call, so a new call is a new odd value */
	uint32_t tripped; /**< 1 once the call running now overran budget_ms: the sandbox's pcall, xpcall
	                   *   and coroutine.resume raise the error again, so a script cannot catch it */
};

/** An alert raised by weir.alert{}. The strings are valid during the sink's call only. */
struct weir_lua_alert {
	uint64_t flow_id;        /**< 0 when the alert names no flow */
	uint64_t ts_ns;          /**< the worker's clock */
	struct weir_tuple tuple; /**< the flow's addresses, client first (zero without a flow) */
	uint32_t sid;
	uint32_t severity;
	uint32_t script;         /**< index into the script table */
	uint32_t has_flow;
	const char *msg;
	const char *script_name;
};

/** Receives alerts on the worker's thread. */
typedef void (*weir_lua_alert_fn)(const struct weir_lua_alert *a, void *user);

/** A script to load: its file, and whether it runs outside the sandbox (the config's
 *  { "x.lua", trusted = true }: the full Lua environment, ffi, io and os included; the time budget
 *  and the heap cap still apply). */
struct weir_lua_script {
	const char *path;
	uint32_t trusted;
};

/** Creates the Lua state of worker w and loads the n scripts (file paths, sandboxed) in order; each runs its
 *  top level now (opening sockets, registering handlers). NULL on failure with a message naming
 *  file:line written to err (and errno EINVAL for a script error, ENOMEM). The worker must outlive it. */
struct weir_lua *weir_lua_create(struct weir_worker *w, const char *const *scripts, unsigned n, char *err,
                                 size_t errlen);
/** weir_lua_create with scripts that may be trusted, and limits lim (NULL: the defaults) in force
 *  from the start, lim->memory_mb included. */
struct weir_lua *weir_lua_create_with(struct weir_worker *w, const struct weir_lua_script *scripts, unsigned n,
                                      const struct weir_lua_limits *lim, char *err, size_t errlen);
/** The Lua counterpart of weir_worker_run(): processes the pending burst (one call into Lua, which
 *  polls the worker and dispatches every record). Returns 0 or a negative errno; a failure of the
 *  dispatcher itself is counted and the burst is finished by weir_worker_run(). */
int weir_lua_run(struct weir_lua *L);
/** Closes every monitoring socket its scripts opened (their registrations, timers and flows'
 *  scope go with them; the worker then reclaims their ids with weir_msock_reclaim), gives back the
 *  UDEs they defined (weir_event_release) and frees the state; what the scripts did to flows stays (buffering off, monitoring stopped). Worker's thread,
 *  between bursts. NULL is a no-op. */
void weir_lua_free(struct weir_lua *L);

void weir_lua_limits_defaults(struct weir_lua_limits *lim);
/** Sets the limits (takes effect at the next run). -EINVAL for a NULL argument. */
int weir_lua_set_limits(struct weir_lua *L, const struct weir_lua_limits *lim);
/** Sets the sink receiving alerts (NULL: alerts are only counted). */
void weir_lua_set_alert_sink(struct weir_lua *L, weir_lua_alert_fn fn, void *user);

/** The stats arrays (live views, read on the worker's thread); each returns the element count. */
unsigned weir_lua_handler_stats(const struct weir_lua *L, const struct weir_lua_handler_stat **out);
unsigned weir_lua_script_stats(const struct weir_lua *L, const struct weir_lua_script_stat **out);
unsigned weir_lua_counters(const struct weir_lua *L, const struct weir_lua_counter **out);
/** Failures of the dispatcher itself (not of handlers): should stay 0. */
uint64_t weir_lua_run_errors(const struct weir_lua *L);

/** Writes "scripts":[...],"counters":{...} (two JSON members, no braces) into buf. Returns the
 *  length it needs (like snprintf): the output is complete only when that is < len. */
int weir_lua_stats_json(const struct weir_lua *L, char *buf, size_t len);
/** Writes a as one EVE JSON line ("event_type":"alert") ending in '\n'. Returns the length it
 *  needs, like snprintf. */
int weir_lua_alert_json(char *buf, size_t len, const struct weir_lua_alert *a);
/** Writes the n bytes at s as one quoted JSON string, escaped by weir's one escaper
 *  (engine/json/json.h), into buf (weir.json_string). Returns the length it needs, like snprintf:
 *  the output is complete only when that is < len; 6 * n + 3 always suffices. */
size_t weir_lua_json_string(char *buf, size_t len, const char *s, size_t n);

/* ---- called from weir.lua through the FFI (not for C callers) --------------------------- */

/** Takes a handler stats slot for script, named where; its index, -EINVAL (no such script) or
 *  -ENOSPC. */
int weir_lua_slot_handler(struct weir_lua *L, unsigned script, const char *where);
/** The index of counter name, created at 0 if new; -EINVAL (NULL or empty name), -ENOSPC when the
 *  table is full. */
int weir_lua_slot_counter(struct weir_lua *L, const char *name);
/** Raises an alert of script about flow f (may be NULL); counts it and calls the sink. */
void weir_lua_raise_alert(struct weir_lua *L, unsigned script, const struct weir_flow *f, uint32_t sid,
                          uint32_t severity, const char *msg);
/** The i-th directory a script's require searches after the script's own: 0 the site's scripts, 1
 *  the shipped ones (weir_script_dirs_in_force(), where a config's bare script names are looked
 *  up); NULL past the last. */
const char *weir_lua_script_dir(unsigned i);
/** Monotonic clock, ns (handler timing). */
uint64_t weir_lua_clock_ns(void);
/** The arrays above as pointers, for the FFI side. */
struct weir_lua_handler_stat *weir_lua_handler_array(struct weir_lua *L);
struct weir_lua_script_stat *weir_lua_script_array(struct weir_lua *L);
struct weir_lua_counter *weir_lua_counter_array(struct weir_lua *L);
struct weir_lua_limits *weir_lua_limits_of(struct weir_lua *L);
struct weir_lua_guard *weir_lua_guard_of(struct weir_lua *L);

#endif
