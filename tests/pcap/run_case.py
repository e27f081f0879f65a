#!/usr/bin/env python3
"""run_case.py — runs `weir replay` on one tests/pcap case and checks every fact in its expect.json.

usage: run_case.py CASE_DIR WEIR [--syn-retx SYN_RETX] [--keep]

For each run in expect.json: weir replay --quiet --eve - --stats-json F --write-streams D [args]
inputs..., then compares the exit code, the EVE flow lines (keyed by client/server 5-tuple and
VLAN ids; a second flow on the same tuple, by start time, is "KEY #2"), the bytes written per flow and side, and the stats JSON. Prints one line per
mismatch and exits 1 if there is any, 0 when everything matches, 2 when the case itself is
unusable. --keep leaves the run directories in place for inspection.
"""
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT_S = 120  # a hung weir fails the test instead of stalling CTest
DURATION_TOL = 1.5e-6  # weir prints durations in seconds; a microsecond of rounding is allowed
# Sections of the stats JSON compared exactly: a counter absent from the expectation must be 0.
EXACT_SECTIONS = ("anomalies", "malformed", "closes")


def norm_ip(s):
	try:
		return ipaddress.ip_address(s).compressed
	except (ValueError, TypeError):
		return str(s)


def flow_key(line):
	k = "%s %s > %s %s" % (norm_ip(line.get("src_ip")), line.get("src_port"),
	                       norm_ip(line.get("dest_ip")), line.get("dest_port"))
	if line.get("vlan"):
		k += " vlan " + ",".join(str(v) for v in line["vlan"])
	t = line.get("tunnel")
	if t:
		k += " tunnel %s%s" % (t.get("type"), " %d" % t["id"] if "id" in t else "")
	return k


class Checker:
	def __init__(self):
		self.checked = 0
		self.bad = []

	def fail(self, where, msg):
		self.bad.append("%s: %s" % (where, msg))

	def value(self, where, path, got, want):
		"""Compares one expected leaf; want "*" means any non-null value."""
		self.checked += 1
		ok = False
		if want == "*":
			ok = got is not None
		elif path.endswith("_ip"):
			ok = norm_ip(got) == norm_ip(want)
		elif isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
			ok = abs(got - want) <= DURATION_TOL
		elif isinstance(want, bool) or isinstance(got, bool):
			ok = got is want
		else:
			ok = got == want
		if not ok:
			self.fail(where, "%s: weir=%s expected=%s" % (path, json.dumps(got), json.dumps(want)))

	def tree(self, where, path, got, want, exact=False):
		"""Walks want; every leaf must be in got with the same value. exact: got's extra keys must be 0."""
		if isinstance(want, dict):
			if not isinstance(got, dict):
				self.checked += 1
				self.fail(where, "%s: weir=%s expected an object" % (path, json.dumps(got)))
				return
			for k, v in want.items():
				sub = "%s.%s" % (path, k) if path else k
				if k not in got:
					self.checked += 1
					self.fail(where, "%s: missing in weir output (expected %s)" % (sub, json.dumps(v)))
					continue
				self.tree(where, sub, got[k], v, exact or k in EXACT_SECTIONS and path == "")
			if exact:
				for k, v in got.items():
					if k not in want:
						self.value(where, "%s.%s" % (path, k), v, 0)
		elif isinstance(want, list) and want and isinstance(want[0], dict):
			self.checked += 1
			if not isinstance(got, list) or len(got) != len(want):
				self.fail(where, "%s: weir=%s expected %d entries" % (path, json.dumps(got), len(want)))
				return
			for i, (g, w) in enumerate(zip(got, want)):
				if isinstance(g, dict) and "name" in w and isinstance(g.get("name"), str):
					g = dict(g, name=os.path.basename(g["name"]))
				self.tree(where, "%s[%d]" % (path, i), g, w)
		else:
			self.value(where, path, got, want)


def run_weir(weir, case_dir, inputs, run, workdir):
	stats_path = os.path.join(workdir, "stats.json")
	streams = os.path.join(workdir, "streams")
	os.makedirs(streams)
	cmd = [weir, "replay", "--quiet", "--eve", "-", "--stats-json", stats_path, "--write-streams", streams]
	cmd += run.get("args", []) + [os.path.join(case_dir, f) for f in inputs]
	try:
		p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT_S)
	except subprocess.TimeoutExpired:
		return cmd, None, b"", b"timed out after %d s" % TIMEOUT_S, stats_path, streams
	return cmd, p.returncode, p.stdout, p.stderr, stats_path, streams


def check_run(chk, case_dir, inputs, run, weir, workdir):
	where = "run %s" % run["name"]
	cmd, rc, out, err, stats_path, streams = run_weir(weir, case_dir, inputs, run, workdir)
	print("  %s: %s" % (where, " ".join(cmd)))
	chk.checked += 1
	if rc is None or rc < 0:
		chk.fail(where, "weir did not finish (%s); stderr: %s" % (
			"timeout" if rc is None else "signal %d" % -rc, err.decode(errors="replace")[-2000:]))
		return
	if rc != run.get("exit", 0):
		chk.fail(where, "exit code: weir=%d expected=%d; stderr: %s" % (
			rc, run.get("exit", 0), err.decode(errors="replace").strip()[-500:]))

	lines = []
	for n, raw in enumerate(out.decode(errors="replace").splitlines(), 1):
		if not raw.strip():
			continue
		try:
			line = json.loads(raw)
		except ValueError as e:
			chk.fail(where, "EVE line %d is not JSON (%s): %s" % (n, e, raw[:200]))
			continue
		if line.get("event_type") == "flow":
			lines.append(line)
	# Flows on one 4-tuple (ports reused) are told apart by start: the second is "KEY #2", ...
	flows = {}
	for line in sorted(lines, key=lambda l: (flow_key(l), l.get("flow", {}).get("start", ""))):
		k = flow_key(line)
		n = 1
		while (k if n == 1 else "%s #%d" % (k, n)) in flows:
			n += 1
		flows[k if n == 1 else "%s #%d" % (k, n)] = line

	want_flows = run.get("flows", {})
	chk.checked += 1
	for k in sorted(set(flows) - set(want_flows)):
		chk.fail(where, "unexpected flow %s: %s" % (k, json.dumps(flows[k])[:300]))
	for k, want in sorted(want_flows.items()):
		fw = "%s flow %s" % (where, k)
		if k not in flows:
			chk.checked += 1
			chk.fail(fw, "missing from the EVE output (weir reported: %s)" % (sorted(flows) or "no flows"))
			continue
		got = flows[k]
		chk.tree(fw, "", got, {kk: v for kk, v in want.items() if kk != "stream_bytes"})
		for what in ("vlan", "tunnel"):
			if what not in want and got.get(what):
				chk.checked += 1
				chk.fail(fw, "%s: weir=%s but the expectation has none" % (what, json.dumps(got[what])))
		for side, content in sorted(want.get("stream_bytes", {}).items()):
			chk.checked += 1
			path = os.path.join(streams, "%s.%s" % (got.get("flow_id"), side))
			exp = content.encode("latin-1")
			if not os.path.exists(path):
				if exp:
					chk.fail(fw, "%s: no stream file %s (expected %d bytes)" % (side, os.path.basename(path), len(exp)))
				continue
			with open(path, "rb") as f:
				data = f.read()
			if data != exp:
				chk.fail(fw, "%s bytes: weir=%r expected=%r" % (side, data[:120], exp[:120]))

	chk.checked += 1
	try:
		with open(stats_path) as f:
			stats = json.load(f)
	except (OSError, ValueError) as e:
		chk.fail(where, "stats JSON unreadable: %s" % e)
		return
	chk.tree("%s stats" % where, "", stats, run.get("stats", {}))


def check_syn_retx(chk, case_dir, inputs, prog, want):
	cmd = [prog] + [os.path.join(case_dir, f) for f in inputs]
	print("  syn_retx: %s" % " ".join(cmd))
	chk.checked += 1
	try:
		p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT_S)
	except subprocess.TimeoutExpired:
		chk.fail("syn_retx", "timed out")
		return
	got = None
	for line in p.stdout.decode(errors="replace").splitlines():
		if line.startswith("syn_retx="):
			try:
				got = int(line.split("=", 1)[1])
			except ValueError:
				pass
	if p.returncode != 0 or got != want:
		chk.fail("syn_retx", "weir=%s (exit %d) expected syn_retx=%d; output: %s" % (
			got, p.returncode, want, p.stdout.decode(errors="replace").strip()[:200]))


def main(argv):
	args = [a for a in argv[1:] if a != "--keep"]
	keep = "--keep" in argv
	syn_retx = None
	if "--syn-retx" in args:
		i = args.index("--syn-retx")
		if i + 1 >= len(args):
			sys.stderr.write(__doc__)
			return 2
		syn_retx = args[i + 1]
		del args[i:i + 2]
	if len(args) != 2:
		sys.stderr.write(__doc__)
		return 2
	case_dir, weir = os.path.abspath(args[0]), args[1]
	try:
		with open(os.path.join(case_dir, "expect.json")) as f:
			exp = json.load(f)
	except (OSError, ValueError) as e:
		sys.stderr.write("%s: cannot read expect.json: %s\n" % (case_dir, e))
		return 2
	if not os.access(weir, os.X_OK):
		sys.stderr.write("weir binary %s is not executable\n" % weir)
		return 2
	name = exp.get("case", os.path.basename(case_dir))
	inputs = exp.get("inputs", ["input.pcap"])
	print("case %s" % name)
	chk = Checker()
	top = tempfile.mkdtemp(prefix="weir-pcap-%s-" % name)
	for run in exp["runs"]:
		wd = os.path.join(top, run["name"])
		os.makedirs(wd)
		check_run(chk, case_dir, inputs, run, weir, wd)
	if syn_retx and "syn_retx" in exp:
		check_syn_retx(chk, case_dir, inputs, syn_retx, exp["syn_retx"])
	if keep:
		print("  outputs kept in %s" % top)
	else:
		shutil.rmtree(top, ignore_errors=True)
	for b in chk.bad:
		print("  MISMATCH %s" % b)
	if chk.bad:
		print("FAIL %s: %d of %d facts differ" % (name, len(chk.bad), chk.checked))
		return 1
	print("PASS %s: %d facts" % (name, chk.checked))
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
