#!/usr/bin/env python3
"""check_memcap.py — the stream memory cap through `weir replay`: which sides lose buffering when the
cap is hit, that it is counted and visible, that tracking goes on; and that the default cap holds
every tracked flow's two first rings.

usage: check_memcap.py WEIR

A capture of FLOWS concurrent flows is generated (handshakes first, then each flow's request and
response in turn, then the closes, so every ring is held until the end) and replayed with
--memcap room for RINGS first rings. The sides that send payload first get the rings; every
later side's ring is refused once: it stops buffering (no stream file), memory.failed and
anomalies.memcap count it, and its flow still gets its record with every byte delivered.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pcap"))
import make_cases as mc  # the pcap cases' packet builder  # noqa: E402

FIRST = 2048          # WEIR_REASM_RING_FIRST: a side's first ring
RING = 16384          # WEIR_REASM_RING_MIN: what a ring grows to, counted twice a flow in the default cap
FLOWS, RINGS = 8, 3
REQ, RESP = 100, 200  # payload bytes per side
TIMEOUT_S = 60


def capture(path):
	"""FLOWS flows to port 80: all handshakes, then each flow's request and response, then the closes."""
	cap = mc.Capture()
	conns = [mc.Conn(cap, "10.0.0.1", "10.0.0.2", 40001 + i, 80, 1000 * i, 500000 + 1000 * i) for i in range(FLOWS)]
	for c in conns:
		c.handshake()
	for i, c in enumerate(conns):
		c.send(0, mc.PSH | mc.ACK, bytes([65 + i]) * REQ)
		c.send(1, mc.PSH | mc.ACK, bytes([97 + i]) * RESP)
	for c in conns:
		c.close()
	cap.trailer()
	cap.write(path)


def defaults(weir):
	"""`weir check --defaults` as {name: value text}."""
	p = subprocess.run([weir, "check", "--defaults"], capture_output=True, text=True, timeout=TIMEOUT_S)
	return {} if p.returncode else {l.split(" = ", 1)[0]: l.split(" = ", 1)[1].split(" --", 1)[0].strip() for l in p.stdout.splitlines()}


def replay(weir, d, name, pcap, *args):
	eve, stats, streams = (os.path.join(d, name + x) for x in (".eve", ".stats", ".streams"))
	p = subprocess.run([weir, "replay", "--quiet", "--eve", eve, "--stats-json", stats, "--write-streams", streams,
	                    *args, pcap], capture_output=True, text=True, timeout=TIMEOUT_S)
	if p.returncode != 0:
		print(f"{name}: weir replay exit {p.returncode}: {p.stderr.strip().splitlines()[0]}")
		return {}, {"memory": {}, "anomalies": {}}, {}
	with open(eve) as f:
		flows = {r["src_port"]: r for r in map(json.loads, f) if r.get("event_type") == "flow"}
	with open(stats) as f:
		st = json.load(f)
	files = {}
	for fn in os.listdir(streams):
		fid, side = fn.split(".")
		files[(int(fid), side)] = os.path.getsize(os.path.join(streams, fn))
	return flows, st, files


def main():
	if len(sys.argv) != 2:
		print(__doc__, file=sys.stderr)
		return 2
	weir = sys.argv[1]
	bad = []

	def check(what, got, want):
		print(f"{what}: {got}" + ("" if got == want else f"  MISMATCH, want {want}"))
		if got != want:
			bad.append(what)

	with tempfile.TemporaryDirectory() as d:
		pcap = os.path.join(d, "flows.pcap")
		capture(pcap)
		# 1. the cap is hit: the first RINGS sides to send payload buffer, the others do not
		flows, st, files = replay(weir, d, "capped", pcap, "--memcap", str(RINGS * FIRST))
		check("capped: flows recorded", sorted(flows), [40001 + i for i in range(FLOWS)])
		order = [(40001 + i, side) for i in range(FLOWS) for side in ("c2s", "s2c")]  # payload order
		want_buffered = set(order[:RINGS])
		got_buffered = {(r["src_port"], side) for r in flows.values() for side in ("c2s", "s2c")
		                if (r["flow_id"], side) in files}
		check("capped: sides with a stream file", sorted(got_buffered), sorted(want_buffered))
		check("capped: memory.failed", st["memory"].get("failed"), len(order) - RINGS)
		check("capped: anomalies.memcap", st["anomalies"].get("memcap", 0), len(order) - RINGS)
		check("capped: memory.cap", st["memory"].get("cap"), RINGS * FIRST)
		check("capped: memory.peak", st["memory"].get("peak"), RINGS * FIRST)
		check("capped: flows closed by fin", sorted(r["flow"]["reason"] for r in flows.values()), ["fin"] * FLOWS)
		check("capped: delivered per flow (toserver, toclient)",
		      sorted({(r["streams"]["toserver"]["delivered"], r["streams"]["toclient"]["delivered"]) for r in flows.values()}),
		      [(REQ, RESP)])
		# 2. the default cap: flows.max x two full-grown rings, so no flow here loses buffering
		flows, st, files = replay(weir, d, "default", pcap)
		table = defaults(weir)
		check("weir check --defaults: flows.max listed", "flows.max" in table, True)
		max_flows = int(table.get("flows.max", 0))
		check("default: memory.cap", st["memory"].get("cap"), max_flows * 2 * RING)
		check("default: memory.failed", st["memory"].get("failed"), 0)
		check("default: stream files", len(files), 2 * FLOWS)
		flows, st, files = replay(weir, d, "derived", pcap, "--max-flows", "100")
		check("--max-flows 100: memory.cap", st["memory"].get("cap"), 100 * 2 * RING)
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
