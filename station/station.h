/* station.h — one assembly of a running weir: from a run config, the workers, their Lua hosts and
 * their sinks (EVE flow records and script alerts, the dashboard, the stats summary), fed by
 * capture files or DPDK ports. `weir replay`, `weir replay --dpdk`, `weir run` and `weir check` are
 * front ends over it. */
#ifndef WEIR_STATION_H
#define WEIR_STATION_H

#include <sched.h>

#include "config/config.h"

/** Where the packets come from. */
enum weir_station_input {
	WEIR_STATION_PCAP,      /**< capture files, read in order by one worker (weir replay) */
	WEIR_STATION_PCAP_DPDK, /**< capture files as net_pcap ports, the live worker path */
	WEIR_STATION_PORTS,     /**< the config's DPDK ports, until SIGINT/SIGTERM (weir run) */
};

struct weir_station_params {
	/** Everything a run is: engine settings, scripts (and lua.*), log.eve, log.stats,
	 * firewall rules, the dashboard (listen, token); for PORTS the ports, workers and EAL too.
	 * Read-only; must outlive the station. */
	const struct weir_run_config *cfg;
	enum weir_station_input input;
	const char *prog;   /**< prefix of messages ("weir replay") and EAL's argv[0] */
	const char
	    *config_path;   /**< PORTS: cfg's file, read again on SIGHUP (hot reload), or NULL */
	char *const *files; /**< PCAP, PCAP_DPDK: the captures */
	unsigned n_files;
	int pace;                /**< PCAP_DPDK: hand packets over at capture speed */
	int progress;            /**< PCAP: a progress line on stderr */
	const char *streams_dir; /**< each flow's bytes to DIR/<flow_id>.c2s|s2c, or NULL */
	unsigned pps;            /**< PCAP dashboard: at most N packets per second (0: no limit) */
	const cpu_set_t *serve_cpus; /**< PCAP dashboard threads: these CPUs (NULL: the caller's) */
};

struct weir_station;

/** Opens what a run shares before any packet: the EVE writer (cfg->eve_path; PORTS appends to it,
 * the others start it afresh), the stream directory
 * and one dashboard slot per worker (cfg->dashboard_listen). The workers, their Lua hosts and
 * sinks are built when the run starts, each on its worker's thread. NULL after one message on
 * stderr, with *code the sysexits exit code (73 an output that cannot be created, 71 out of
 * memory). Calling thread. */
struct weir_station *weir_station_create(const struct weir_station_params *p, int *code);

/** Runs the input to its end (PORTS: until SIGINT/SIGTERM; SIGHUP reloads the scripts and
 * reopens the EVE log; systemd is told READY, STATUS, WATCHDOG, RELOADING and STOPPING when it
 * runs weir as Type=notify), then writes the stats summary. Every
 * flow record and every script alert goes to the one EVE writer on every input. Returns a sysexits
 * code: 0, 64 usage (more files than --dpdk takes), 65 damaged capture or (PCAP) a script that
 * does not load, 66 unreadable capture, 73 an output failed, 78 config (EAL, ports, a dashboard
 * that cannot start; on DPDK a script that does not load), 70/71. With a PCAP dashboard it stays up
 * until Ctrl-C. Call once; calling thread. */
int weir_station_run(struct weir_station *st);

/** Closes the outputs and frees everything; NULL is a no-op. */
void weir_station_free(struct weir_station *st);

/** Loads scripts (n of them) on a worker of default settings without running anything, printing
 * each handler's location (weir check). Returns 0 or 65 after printing why. */
int weir_station_check_scripts(char *const *scripts, unsigned n, const char *prog);

#endif
