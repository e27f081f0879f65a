/* config.h — weir's run configuration: one Lua file of tables, read by LuaJIT at start into a plain C struct. */
#ifndef WEIR_CONFIG_RUN_H
#define WEIR_CONFIG_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weir.h"

/* Fixed capacities keep the struct plain (no ownership to track); each is far above a real box. */
#define WEIR_CFG_MAX_PORTS 16
#define WEIR_CFG_MAX_EAL 64
#define WEIR_CFG_MAX_SCRIPTS 32
#define WEIR_CFG_MAX_RULES 64
#define WEIR_CFG_MAX_WORKERS 64
#define WEIR_CFG_STR 512
#define WEIR_CFG_RSS_KEY_MAX 52 /* the longest RSS key a DPDK port takes (i40e: 52 bytes) */

enum weir_run_mode { WEIR_MODE_INLINE = 0, WEIR_MODE_PASSIVE = 1 };
enum weir_rule_action { WEIR_RULE_DROP = 0, WEIR_RULE_PASS = 1 };
/** defrag.unreassembled = "drop" | "forward": what inline mode does with a fragment whose datagram
 *  weir cannot reassemble (so no detector sees what it carries). */
enum weir_frag_policy { WEIR_FRAGMENTS_DROP = 0, WEIR_FRAGMENTS_FORWARD = 1 };

/** One DPDK port: a PCI address ("0000:03:00.0") or a virtual device string ("net_pcap0,rx_pcap=a.pcap"). */
struct weir_port_cfg {
	char dev[WEIR_CFG_STR];
};

/** A built-in rule: every packet of TCP connections to or from port is given action (first match wins). */
struct weir_rule_cfg {
	uint16_t port;
	uint8_t action; /**< enum weir_rule_action */
	uint8_t pad;
};

/** Everything `weir run` reads from its config file. Defaults for every field (weir_run_config_defaults). */
struct weir_run_config {
	char eal[WEIR_CFG_MAX_EAL][WEIR_CFG_STR]; /**< extra EAL arguments, in order */
	unsigned n_eal;
	struct weir_port_cfg ports[WEIR_CFG_MAX_PORTS];
	unsigned n_ports;
	unsigned mbufs;               /**< mbufs in the packet pool (dpdk.mbufs) */
	uint8_t mode;                 /**< enum weir_run_mode */
	uint8_t forward_non_tcp;      /**< inline: forward non-TCP / non-IP frames untouched (default 1) */
	uint8_t unreassembled;        /**< inline: enum weir_frag_policy for a TCP fragment whose datagram cannot
	                               *   be reassembled (default drop); fragments of other protocols are
	                               *   non-TCP traffic (forward_non_tcp) */
	uint8_t pairs[WEIR_CFG_MAX_PORTS]; /**< inline: the port each port forwards to (0xff = none) */
	unsigned workers;             /**< worker lcores */
	unsigned idle_sleep_us;       /**< sleep after an all-empty poll; 0 = busy polling */
	uint8_t rss_key[WEIR_CFG_RSS_KEY_MAX];
	unsigned rss_key_len;         /**< 0: weir's symmetric default key */
	struct weir_config engine;    /**< flows = {...}, streams = {...}, defrag = {...} */
	char scripts[WEIR_CFG_MAX_SCRIPTS][WEIR_CFG_STR];
	uint8_t script_trusted[WEIR_CFG_MAX_SCRIPTS]; /**< 1: { "x.lua", trusted = true }: outside the sandbox */
	unsigned n_scripts;
	unsigned lua_budget_ms;  /**< lua.budget_ms: time one handler call may run */
	unsigned lua_memory_mb;  /**< lua.memory_mb: each worker's Lua heap */
	unsigned lua_max_errors; /**< lua.max_errors: a handler is disabled after this many (0: never) */
	char dashboard_listen[WEIR_CFG_STR]; /**< "" = no dashboard */
	char dashboard_token[WEIR_CFG_STR];  /**< "" = no token */
	char eve_path[WEIR_CFG_STR];         /**< log.eve: flow records ("" = none, "-" = stdout) */
	char stats_path[WEIR_CFG_STR];       /**< log.stats: JSON summary at exit ("" = none, "-" = stdout) */
	struct weir_rule_cfg rules[WEIR_CFG_MAX_RULES]; /**< firewall = {{port=N, action="drop"}} */
	unsigned n_rules;
};

/** Sets every field to its default (no ports, inline, one worker, no scripts). */
void weir_run_config_defaults(struct weir_run_config *c);

/** Reads a config file into c (defaults first). Returns 0, or -1 with one message in err naming
 *  "file:line: setting: problem" (the line of the top-level assignment that holds the setting). */
int weir_run_config_load(struct weir_run_config *c, const char *path, char *err, size_t errlen);

/** Same for a config given as a string (name is used in messages, and its directory for relative
 *  script paths). */
int weir_run_config_load_string(struct weir_run_config *c, const char *text, const char *name, char *err,
                                size_t errlen);

/** Where a `scripts = {...}` entry that is a bare file name ("http_logger.lua": no '/') is looked
 *  up: first the site's directory, whose scripts override shipped ones of the same name, then the
 *  shipped one. An entry with a '/' is a path: as given when absolute, else from the config file's
 *  directory; it is never searched. c->scripts holds the file each entry resolved to. */
struct weir_script_dirs {
	const char *site;    /**< the site's scripts: /etc/weir/scripts when installed */
	const char *shipped; /**< the shipped detectors: /usr/share/weir/scripts when installed */
};

/** The directories compiled in from the install layout: SYSCONFDIR/weir/scripts and
 *  DATADIR/weir/scripts. */
extern const struct weir_script_dirs weir_script_dirs_installed;

/** The directories in force: weir_script_dirs_installed, each replaced by the environment's
 *  WEIR_SITE_SCRIPTS_DIR or WEIR_SHIPPED_SCRIPTS_DIR when that is set and not empty (a test, a tree
 *  run in place). weir_run_config_load and _load_string look bare script names up there, and a
 *  script's require searches them after the script's own directory (lua/host.h). The strings stay
 *  valid while the environment is not changed. */
struct weir_script_dirs weir_script_dirs_in_force(void);

/** weir_run_config_load (text NULL: name is the file to read) or _load_string (text is the config)
 *  with the script directories dirs instead of the installed ones. */
int weir_run_config_load_dirs(struct weir_run_config *c, const char *text, const char *name,
                              const struct weir_script_dirs *dirs, char *err, size_t errlen);

struct weir_setting;
/** The i-th scalar setting of a run config, the run's own (mode, workers, ...) then the engine's
 *  (flows.*, streams.*), with in *base the offset in struct weir_run_config of the struct that
 *  holds its field; NULL past the last. The one source of their defaults, bounds and docs. */
const struct weir_setting *weir_run_setting(unsigned i, size_t *base);

/** Prints every setting of c as NAME = VALUE (Lua syntax), one a line, with its unit and doc when
 *  docs is set, else whether it is the default ("default", "set (default X)", "required"). */
void weir_run_config_show(FILE *out, const struct weir_run_config *c, int docs);

/** Parses "host:port" with a numeric IPv4 host or "[v6]:port"; 0 when valid. */
int weir_run_config_check_listen(const char *s);

/** A dashboard token's shortest length (a shorter one is guessable) and longest (it travels in a
 *  header and a cookie, well inside the web server's per-connection memory). */
enum weir_token_limits { WEIR_TOKEN_MIN = 16, WEIR_TOKEN_MAX = 200 };
/** Checks a dashboard token, wherever it comes from (config file, --serve-token,
 *  $WEIR_DASHBOARD_TOKEN, weir_web_start): WEIR_TOKEN_MIN to WEIR_TOKEN_MAX letters, digits and
 *  -._~+/= (characters a header and a cookie carry unquoted). 0, or -EINVAL with the reason in err
 *  ("shorter than 16 characters", ...); the caller says where the token came from. */
int weir_token_check(const char *token, char *err, size_t errlen);

#endif
