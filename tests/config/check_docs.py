#!/usr/bin/env python3
"""check_docs.py — the documentation against the settings table, so defaults cannot drift:

* README.md's settings block is exactly `weir check --defaults`;
* `weir check -c packaging/weir.lua` exits 78 asking for an interface (it names none), and with
  ports added every setting it shows is the default (dpdk.ports and the packaged log.eve aside):
  the documented config states the defaults;
* every setting name (flows.max, ...) README.md, packaging/weir.lua and `weir replay --help` mention
  exists;
* no doc states a default for a replay option or setting other than the table's;
* every repository path packaging/weir.lua names exists (a glob must match a file).

usage: check_docs.py WEIR REPO
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

TIMEOUT_S = 60
BLOCK = re.compile(r"<!-- weir check --defaults -->\n```\n(.*?)```\n<!-- end -->", re.S)
# (not a path's component: /etc/dpdk/dpdk.conf names no setting)
SETTING = re.compile(r"(?<![\w/])((?:flows|streams|dpdk|dashboard|log)\.[a-z_]+)\b")
OPTIONS = {"--buffer": "streams.buffer_per_side", "--max-flows": "flows.max",
           "--idle-timeout": "flows.idle_timeout", "--memcap": "streams.memcap"}
# "default --buffer 65536", "--max-flows N (default 65536)", "handshake_timeout ... default 30"
UNITS = {"": 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30, "s": 1}
NUM = r"(\d[\d,]*(?:\.\d+)?)\s*(KiB|MiB|GiB|s)?\b"


def run(*cmd):
	p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
	return p.returncode, p.stdout, p.stderr


def docs(repo):
	"""(name, text, whether its dotted names are settings) of every doc that may state a default."""
	names = ["README.md", "lua/README.md", "packaging/weir.lua"] + sorted(glob.glob("tests/*/README.md", root_dir=repo))
	names += [n for n in sorted(glob.glob("tests/*/*.py", root_dir=repo)) if n != "tests/config/check_docs.py"]
	for n in names:
		path = os.path.join(repo, n)
		if os.path.exists(path):
			with open(path, encoding="utf-8") as f:
				yield n, f.read(), n in ("README.md", "packaging/weir.lua")


# Prose that states a default without naming the setting: (pattern with the number, setting).
PHRASES = [(rf"{NUM} linger", "flows.timewait")]


def stated_defaults(text, known):
	"""(line number, setting, number) for each default a line states for a setting or option."""
	for i, line in enumerate(text.splitlines(), 1):
		for pat, name in PHRASES:
			for m in re.finditer(pat, line):
				yield i, name, float(m.group(1).replace(",", "")) * UNITS[m.group(2) or ""]
		for opt, name in list(OPTIONS.items()) + [(n, n) for n in known] + [(n.split(".")[-1], n) for n in known if "." in n]:
			o = re.escape(opt)
			for pat in (rf"default\W{{1,3}}{o}[ =]+{NUM}", rf"(?<![\w.]){o}\b[^.;\n]{{0,60}}\(default:? {NUM}",
			            rf"(?<![\w.]){o}\b[^.;\n]{{0,60}}default(?: is)?:? {NUM}"):
				for m in re.finditer(pat, line):
					yield i, name, float(m.group(1).replace(",", "")) * UNITS[m.group(2) or ""]


def main():
	if len(sys.argv) != 3:
		print(__doc__, file=sys.stderr)
		return 2
	weir, repo = sys.argv[1], sys.argv[2]
	bad = []
	rc, defaults, err = run(weir, "check", "--defaults")
	if rc != 0:
		print(f"weir check --defaults: exit {rc}: {err.strip()}")
		return 1
	table = {l.split(" = ", 1)[0]: l.split(" = ", 1)[1].split(" --", 1)[0].strip() for l in defaults.splitlines()}

	with open(os.path.join(repo, "README.md"), encoding="utf-8") as f:
		m = BLOCK.search(f.read())
	if not m:
		bad.append("README.md: no <!-- weir check --defaults --> block")
	elif m.group(1) != defaults:
		bad.append("README.md: the settings block differs from `weir check --defaults` (paste its output)")

	lua = os.path.join(repo, "packaging", "weir.lua")
	rc, out, err = run(weir, "check", "-c", lua)
	want = f"weir check: {lua}: dpdk.ports: no interface configured: edit {lua} (dpdk.ports)"
	if rc != 78 or err.strip() != want:
		bad.append(f"packaging/weir.lua: weir check -c exit {rc}, {err.strip()!r}; want 78, {want!r}")
	# With ports named (an admin's first edit), every other setting it shows is the default but
	# the EVE log's path, which the packaged config sets for the service and its logrotate file.
	with tempfile.NamedTemporaryFile("w", suffix=".lua") as t:
		with open(lua, encoding="utf-8") as f:
			t.write(f.read() + "\ndpdk.ports = { 'net_null0', 'net_null1' }\n")
		t.flush()
		rc, out, err = run(weir, "check", "-c", t.name)
	if rc != 0:
		bad.append(f"packaging/weir.lua with ports: weir check -c exit {rc}: {err.strip()}")
	for line in out.splitlines()[1:]:
		if not line.endswith("-- default") and not line.startswith(("dpdk.ports = ", 'log.eve = "/var/log/weir/eve.json" ')):
			bad.append(f"packaging/weir.lua: not the default: {line}")

	rc, helptext, _ = run(weir, "replay", "--help")
	texts = list(docs(repo)) + [("weir replay --help", helptext, True)]
	for name, text, names_settings in texts:
		for s in sorted(set(SETTING.findall(text))) if names_settings else ():
			if s not in table:
				bad.append(f"{name}: names {s}, which is not a setting")
		for i, s, v in sorted(set(stated_defaults(text, table))):
			try:
				want = float(table[s])
			except ValueError:
				continue
			if v != want:
				bad.append(f"{name}:{i}: states a default of {v:g} for {s}; the table's is {table[s]}")

	with open(lua, encoding="utf-8") as f:
		text = f.read()
	for p in sorted(set(re.findall(r"\b((?:scripts|lua|tests|engine|packaging|web)/[\w./*-]+\.\w+)", text))):
		if not glob.glob(os.path.join(repo, p)):
			bad.append(f"packaging/weir.lua: names {p}, which does not exist")

	for b in bad:
		print(b)
	print(f"{len(table)} settings; {len(bad)} problem(s)")
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
