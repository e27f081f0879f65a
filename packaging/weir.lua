-- weir.lua — weir's documented default run configuration, installed as /etc/weir/weir.lua (weir run
-- -c weir.lua; weir check -c weir.lua). Every setting is optional except dpdk.ports, which you must
-- set; the values below are the defaults unless marked.
-- The file is Lua, run in a sandbox (string, math, table, os.getenv; no io): locals and loops are
-- allowed (within 1,000,000 VM instructions and 64 MiB of allocations), and any global that is not
-- a setting below is an error (typos are caught). `weir check --defaults` prints every setting with
-- its default and doc; `weir check -c weir.lua` shows which of these differ (a test keeps them equal).

dpdk = {
	-- EAL arguments. These run without hugepages or PCI access (af_packet ports, test boxes,
	-- containers). Without -l/--lcores weir uses lcores 0..workers-1.
	eal = { "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry" },
	-- Ports, counted from 0: a PCI address ("0000:03:00.0") or a virtual device string
	-- ("net_af_packet0,iface=eth1", "net_pcap0,rx_pcap=in.pcap", "net_tap0,iface=wtap0"). Required:
	-- none is set here, so `weir check` and `weir run` (and the weir service) stop with exit 78 and
	-- "no interface configured: edit /etc/weir/weir.lua (dpdk.ports)" until you name your own.
	-- weir does not guess one: on `lo` an af_packet port sees every frame twice (sent and
	-- received), and any other interface may be one whose traffic weir must not touch.
	--
	-- Without a DPDK NIC: af_packet on two interfaces weir sits between (inline), or on one that
	-- carries a mirror or tap (set mode = "passive" below); the service has CAP_NET_RAW and
	-- CAP_NET_ADMIN for it:
	--   ports = { "net_af_packet0,iface=eth1,framecnt=4096", "net_af_packet1,iface=eth2,framecnt=4096" },
	-- With a DPDK NIC (package dpdk): reserve hugepages (dpdk-hugepages.py --setup 1G, or
	-- NR_2M_PAGES= in /etc/dpdk/dpdk.conf, which the dpdk service reads at boot), give the NIC
	-- to vfio-pci (dpdk-devbind.py --bind vfio-pci 0000:03:00.0, or a "pci 0000:03:00.0 vfio-pci"
	-- line in /etc/dpdk/interfaces), let user weir open /dev/vfio/* and the hugepage mount (a
	-- udev rule, dpdk-hugepages.py --mount -U weir -G weir: device access, no capability), drop
	-- --no-huge, -m and --no-pci from eal above and name the NIC by its PCI address:
	--   eal = { "--no-shconf", "--no-telemetry" },
	--   ports = { "0000:03:00.0", "0000:03:00.1" },
	ports = {},
	mbufs = 16383,           -- packet buffers in the pool
}

mode = "inline"              -- "inline": bump in the wire between pairs; "passive": tap/mirror, nothing sent
pairs = { { 0, 1 } }         -- inline: ports that forward to each other (two ports pair by default)
workers = 1                  -- worker lcores; flows are spread by a symmetric hash of the addresses
idle_sleep_us = 0            -- sleep this long after an all-empty poll (0: busy polling)
forward_non_tcp = true       -- inline: pass non-TCP and non-IP frames untouched (false: drop, counted)
-- rss_key = "6d5a..."       -- hex RSS key for ports with several queues (default: symmetric 6d5a)

flows = {
	max = 65536,             -- flow-table entries per worker
	idle_timeout = 300,      -- seconds an established flow may be idle
	handshake_timeout = 75,  -- seconds a flow may idle before its handshake completes
	timewait = 2,            -- seconds a closed flow lingers for late packets
	policy = "evict",        -- full table: "evict" the idlest flow or "refuse" new ones
}

streams = {
	buffer_per_side = 4194304, -- most bytes a side's reassembly buffer grows to
	memcap = 0,                -- stream-buffer bytes per worker (0: flows.max x 32 KiB)
	overlap = "first",         -- which copy of overlapping bytes wins: "first" or "last"
	midstream = true,          -- adopt flows whose handshake was not seen
	buffering = true,          -- false: tracking only, no flow buffers its bytes
}

defrag = {
	memcap = 16777216,         -- bytes of incomplete IP datagrams per worker; the oldest are evicted past it
	timeout = 60,              -- seconds an incomplete datagram is kept after its first fragment
	max_fragments = 64,        -- most fragments one datagram may take
	overlap = "first",         -- which copy of overlapping fragment bytes wins: "first" or "last"
	unreassembled = "drop",    -- inline: a TCP fragment whose datagram cannot be reassembled: "drop" or "forward"
}

scripts = {}                 -- Lua scripts loaded into every worker, e.g. { "http_logger.lua", "syn_retx.lua" }:
                             -- a file name is looked up in /etc/weir/scripts (the site's: it overrides
                             -- a shipped one of the same name), then in /usr/share/weir/scripts (the
                             -- shipped ones); a path is used as is, relative to this file's directory;
                             -- { "x.lua", trusted = true } runs x.lua outside the sandbox (ffi, io, os)

lua = {
	budget_ms = 100,     -- a handler call running longer is stopped with an error (even a compiled loop)
	memory_mb = 256,     -- each worker's Lua heap; past it a handler's allocation fails
	max_errors = 100,    -- a handler is disabled after this many errors (0: never)
}

dashboard = {
	-- listen = "127.0.0.1:8080", -- not set: no dashboard
	-- token = "...",             -- bearer token of at least 16 characters
}

log = {
	eve = "/var/log/weir/eve.json", -- EVE JSON: flow records and script alerts ("-" = stdout; default
	                                -- none); logrotate rotates it (/etc/logrotate.d/weir), and
	                                -- `systemctl reload weir` (SIGHUP) reopens it
	-- stats = "-",                    -- a JSON summary at exit, with per-port accounting
}

-- Built-in rules, first match wins: every packet of TCP connections to or from port gets action
-- ("drop" or "pass"). A small test aid; scripts are the real policy language.
firewall = {}
