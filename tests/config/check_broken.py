#!/usr/bin/env python3
"""check_broken.py — configs with every kind of mistake (`weir check -c`) and scripts that do not
load or fail in a handler (`weir check SCRIPT`, `weir replay -s`): each must give its exact message
(file:line, or script:line, where there is one) and its exit code; a handler's error is counted
and the replay goes on to the end (exit 0).

usage: check_broken.py WEIR SAMPLE_PCAP

The table "Broken inputs" of docs/SECURITY.md lists these cases with this file as their test.
"""
import json
import os
import subprocess
import sys
import tempfile

TIMEOUT_S = 60
PORTS = "dpdk = { ports = {'a', 'b'} }\n"

# (name, config text, message after "weir check: " ({f} = the file)); every one exits 78
CONFIGS = [
	("syntax", PORTS + "flows = { max = 10\n", "{f}:3: '}' expected (to close '{' at line 2) near '<eof>'"),
	("type", PORTS + "workers = 'two'\n", "{f}:2: workers: expected a number, got string"),
	("range", PORTS + "workers = 65\n", "{f}:2: workers: 65 is outside [1, 64]"),
	("negative", PORTS + "flows = { idle_timeout = -1 }\n", "{f}:2: flows.idle_timeout: -1 is outside"),
	("nan", PORTS + "flows = { max = 0/0 }\n", "{f}:2: flows.max: -nan is outside"),
	("inf", PORTS + "flows = { max = 1/0 }\n", "{f}:2: flows.max: inf is outside"),
	("fraction", PORTS + "flows = { max = 1.5 }\n", "{f}:2: flows.max: 1.5 is not a whole number"),
	("unknown_top", PORTS + "workerz = 2\n", "{f}:2: workerz: unknown setting (did you mean \"workers\"?)"),
	("unknown_key", PORTS + "streams = { memkap = 1000000 }\n",
	 "{f}:2: streams.memkap: unknown setting (did you mean \"memcap\"?)"),
	("unknown_far", PORTS + "colour = 'blue'\n", "{f}:2: colour: unknown setting"),
	("duplicate", PORTS + "workers = 2\nworkers = 4\n", "{f}:3: workers: set again (first set at line 2)"),
	("huge_string", PORTS + "log = { eve = string.rep('x', 100000) }\n",
	 "{f}:2: log.eve: string too long or with a NUL byte"),
	("huge_alloc", PORTS + "local s = string.rep('x', 2^30)\n", "{f}: memory limit exceeded (64 MiB allocated)"),
	("endless", PORTS + "while true do end\n", "{f}:2: instruction limit exceeded"),
	("include", PORTS + "dofile('other.lua')\n", "{f}:2: attempt to call global 'dofile' (a nil value)"),
	("require", PORTS + "require('other')\n", "{f}:2: attempt to call global 'require' (a nil value)"),
	("script_missing", PORTS + "scripts = { './missing.lua' }\n",
	 "{f}:2: scripts[1]: {d}/./missing.lua: No such file or directory"),
	("no_ports", "dpdk = {}\n", "{f}: dpdk.ports: no interface configured: edit {f} (dpdk.ports)"),
]

# (name, script text, exit code of `weir check` and `weir replay -s`, message, or the handler's
# first error line and the counters it leaves when the script loads)
SCRIPTS = [
	("syntax", "local x = \n\nlocal = 3\n", 65, "{f}:3: unexpected symbol near 'local'"),
	("top_error", "local weir = require 'weir'\nweir.monitor_socket('tcp port')\n", 65, "{f}:2: "),
	("top_endless", "local n = 0\nwhile true do n = n + 1 end\n", 65,
	 "{f}:2: time budget of 100 ms exceeded (endless loop?)"),
	("top_alloc", "local s = string.rep('x', 2^30)\n", 65,
	 "{b}: not enough memory: the Lua heap reached its limit (lua.memory_mb = 256)"),
]
HANDLERS = [
	("handler_error",
	 "local weir = require 'weir'\nreturn { on_conn_start = function(flow)\n  error('boom')\nend }\n",
	 "weir: {b}:2 conn_start@post_rcv: {f}:3: boom (error 1)", {"errors": 9}),
	("handler_endless",
	 "local weir = require 'weir'\nreturn { on_conn_start = function(flow)\n  while true do end\nend }\n",
	 "weir: {b}:2 conn_start@post_rcv: {f}:3: time budget of 100 ms exceeded (endless loop?) (error 1)",
	 {"errors": 9, "budget_stops": 9}),
	("handler_alloc",
	 "local weir = require 'weir'\nreturn { on_conn_start = function(flow)\n  local s = string.rep('x', 2^30)\nend }\n",
	 "weir: {b}:2 conn_start@post_rcv: not enough memory: the Lua heap reached its limit "
	 "(lua.memory_mb = 256) (error 1)", {"errors": 9, "memory_errors": 9}),
]


def fill(msg, **names):
	"""msg with {f}, {d}, {b} replaced (str.format would take the braces of Lua's messages)."""
	for k, v in names.items():
		msg = msg.replace("{%s}" % k, v)
	return msg


def run(cmd):
	return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)


def main():
	if len(sys.argv) != 3:
		print(__doc__, file=sys.stderr)
		return 2
	weir, pcap = sys.argv[1], sys.argv[2]
	bad = 0

	def report(name, ok, got, want):
		nonlocal bad
		print(f"{name}: {got}" + ("" if ok else f"  (want {want})"))
		bad += not ok

	with tempfile.TemporaryDirectory() as d:
		for name, text, msg in CONFIGS:
			path = os.path.join(d, name + ".lua")
			with open(path, "w") as f:
				f.write(text)
			p = run([weir, "check", "-c", path])
			want = "weir check: " + fill(msg, f=path, d=d)
			report("config " + name, p.returncode == 78 and p.stderr.startswith(want),
			       f"exit {p.returncode}: {p.stderr.strip()}", f"exit 78, '{want}...'")
		for path, what in ((os.path.join(d, "none.lua"), "cannot open {f}: No such file or directory"),
		                   (d, "cannot read {f}: Is a directory")):
			p = run([weir, "check", "-c", path])
			want = fill("weir check: {f}: " + what, f=path) + "\n"
			report("config " + os.path.basename(path), p.returncode == 78 and p.stderr == want,
			       f"exit {p.returncode}: {p.stderr.strip()}", f"exit 78, {want!r}")
		for name, text, code, msg in SCRIPTS:
			path = os.path.join(d, name + ".lua")
			with open(path, "w") as f:
				f.write(text)
			for cmd in (["check", path], ["replay", "--quiet", "-s", path, pcap]):
				p = run([weir] + cmd)
				want = f"weir {cmd[0]}: " + fill(msg, f=path, b=os.path.basename(path))
				report(f"script {name} ({cmd[0]})", p.returncode == code and p.stderr.startswith(want),
				       f"exit {p.returncode}: {p.stderr.strip()}", f"exit {code}, '{want}...'")
		for name, text, first, counters in HANDLERS:
			path = os.path.join(d, name + ".lua")
			stats = os.path.join(d, "stats.json")
			with open(path, "w") as f:
				f.write(text)
			p = run([weir, "replay", "--quiet", "-s", path, "--stats-json", stats, pcap])
			want = fill(first, f=path, b=os.path.basename(path))
			got = {}
			if p.returncode == 0:
				with open(stats) as f:
					got = json.load(f)["scripts"][0]
			ok = p.returncode == 0 and p.stderr.splitlines()[:1] == [want] and \
				all(got.get(k) == v for k, v in counters.items())
			report("handler " + name, ok, f"exit {p.returncode}, {p.stderr.splitlines()[:1]}, "
			       + ", ".join(f"{k} {got.get(k)}" for k in counters), f"exit 0, {want!r}, {counters}")
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
