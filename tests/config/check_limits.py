#!/usr/bin/env python3
"""check_limits.py — `weir check -c` (and `weir run -c`) of configs that loop forever or allocate without end: each must
fail with exit 78 and the config's file:line (file for memory) within a second, never hang.

usage: check_limits.py WEIR
"""
import os
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 10  # a regression (a config that hangs weir) fails here instead of stalling CTest
BOUND_S = 1.0   # what the loader promises

CASES = [
	# (name, subcommand, config text, expected start of the message after "weir SUBCOMMAND: ")
	("while", "check", "dpdk = { ports = {'a', 'b'} }\nwhile true do end\n", "{f}:2: instruction limit exceeded"),
	("run_while", "run", "dpdk = { ports = {'a', 'b'} }\nwhile true do end\n", "{f}:2: instruction limit exceeded"),
	("nested_repeat", "check", "local function spin()\n  repeat until false\nend\nlocal function outer() spin() end\n"
	 "dpdk = { ports = {'a', 'b'} }\nouter()\n", "{f}:2: instruction limit exceeded"),
	("pcall_loop", "check", "while true do\n  pcall(function() while true do end end)\nend\n",
	 "{f}:2: instruction limit exceeded"),
	("string_rep", "check", "local s = string.rep('x', 2^30)\n", "{f}: memory limit exceeded"),
	("doubling", "check", "local s = 'x'\nwhile true do s = s .. s end\n", "{f}: memory limit exceeded"),
	# one C call that backtracks for hours: pattern functions are not in a config's string library
	("backtrack", "check", "local s = ('a'):rep(3000)\nlocal x = s:find('.-.-.-b')\n", "{f}:2: attempt to call method 'find'"),
	("backtrack_lib", "check", "local x = string.match(('a'):rep(3000), '.-.-.-b')\n", "{f}:1: attempt to call field 'match'"),
	("bytecode", "check", None, "{f}: attempt to load chunk with wrong mode"),
	("error_table", "check", "error({})\n", "{f}: an error value that is not a string"),
]


def main():
	if len(sys.argv) != 2:
		print(__doc__, file=sys.stderr)
		return 2
	weir = sys.argv[1]
	bad = 0
	with tempfile.TemporaryDirectory() as d:
		for name, cmd, text, want in CASES:
			path = os.path.join(d, name + ".lua")
			if text is None:  # precompiled bytecode, which the loader must refuse
				subprocess.run(["luajit", "-b", "-e", "dpdk = {}", path], check=True)
			else:
				with open(path, "w") as f:
					f.write(text)
			want = f"weir {cmd}: " + want.format(f=path)
			t0 = time.monotonic()
			try:
				p = subprocess.run([weir, cmd, "-c", path], capture_output=True, text=True, timeout=TIMEOUT_S)
			except subprocess.TimeoutExpired:
				print(f"{name}: weir {cmd} -c did not return within {TIMEOUT_S} s")
				bad += 1
				continue
			took = time.monotonic() - t0
			ok = p.returncode == 78 and p.stderr.startswith(want) and took < BOUND_S
			print(f"{name}: exit {p.returncode} after {took:.3f} s: {p.stderr.strip()}" + ("" if ok else f"  (want exit 78, '{want}...', < {BOUND_S} s)"))
			bad += not ok
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
