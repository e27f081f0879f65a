#!/usr/bin/env python3
"""oracle.py — compares one case's expect.json with tshark's independent view of the same capture.

usage: oracle.py CASE_DIR

Per expected flow and direction: packets, IP bytes, TCP payload, retransmissions
(tcp.analysis.retransmission), the bytes of `tshark -q -z follow,tcp,raw,0` (each of its
"[N bytes missing in capture file]" markers counted as N gap bytes and replaced by N zeros, as
weir writes a gap in its stream files), first/last packet times; per
input file the number of frames tshark reads. Each line says agree, or DIFFERS; a difference
that expect.json's "oracle" notes explain (a behaviour tshark does not model) is printed as
"differs (expected: ...)". Exits 1 on an unexplained difference.
"""
import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

FIELDS = ["frame.number", "frame.time_epoch", "ieee8021ad.id", "vlan.id", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "ip.len", "ipv6.plen", "tcp.len",
          "tcp.analysis.retransmission", "tcp.analysis.lost_segment", "tcp.stream",
          "ip.fragment", "ipv6.fragment", "ip.hdr_len", "ip.reassembled.length", "vxlan.vni", "gre.key"]
MISSING = re.compile(rb"\[(\d+) bytes missing in capture file\]\.?\x00?")


def tshark(args):
	p = subprocess.run(["tshark"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	return p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def eve_time(t):
	us = int(round(t * 1e6))
	d = datetime.datetime.fromtimestamp(us // 1000000, tz=datetime.timezone.utc)
	return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06d+0000" % (us % 1000000)


def frames(pcap, exclude):
	out, _ = tshark(["-r", pcap, "-Y", "tcp", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
	                 "-E", "aggregator=,"] + sum([["-e", f] for f in FIELDS], []))
	rows = []
	for line in out.splitlines():
		v = dict(zip(FIELDS, line.split("\t")))
		if int(v["frame.number"]) in exclude:
			continue
		# In a tunnel the TCP is in the innermost IP header: the last value of each list.
		last = lambda name: v[name].split(",")[-1]
		src = last("ip.src") or last("ipv6.src")
		dst = last("ip.dst") or last("ipv6.dst")
		iplen = int(last("ip.len")) if v["ip.len"] else int(last("ipv6.plen")) + 40
		if v["ip.reassembled.length"]: # the frame that completed an IPv4 datagram: its whole length
			iplen = int(last("ip.hdr_len")) + int(last("ip.reassembled.length"))
		# Tunnels whose id is part of weir's flow key (the VXLAN VNI, the GRE key).
		tun = (("vxlan", int(last("vxlan.vni"))) if v["vxlan.vni"] else
		       ("gre", int(last("gre.key"), 0)) if v["gre.key"] else None)
		rows.append({
			"n": int(v["frame.number"]), "t": float(v["frame.time_epoch"]),
			# An 802.1ad outer tag is ieee8021ad.id, the 802.1Q tags vlan.id: outermost first.
			"vlan": tuple(int(x) for x in (v["ieee8021ad.id"] + "," + v["vlan.id"]).split(",") if x),
			"src": (ipaddress.ip_address(src).compressed, int(v["tcp.srcport"])),
			"dst": (ipaddress.ip_address(dst).compressed, int(v["tcp.dstport"])),
			"iplen": iplen, "len": int(v["tcp.len"] or 0),
			"rexmit": bool(v["tcp.analysis.retransmission"]),
			"lost": bool(v["tcp.analysis.lost_segment"]),
			"stream": int(v["tcp.stream"]), "tun": tun,
			# the frames of the IP fragments this frame's TCP was reassembled from
			"frags": [int(x) for x in (v["ip.fragment"] + "," + v["ipv6.fragment"]).split(",") if x],
		})
	return rows


def split(pcap, nums, part):
	"""Writes the frames nums of pcap to part: Wireshark 4.0 does not tell conversations apart by
	VLAN, so each flow is analysed alone."""
	tshark(["-r", pcap, "-Y", "frame.number in {%s}" % ", ".join(map(str, nums)), "-w", part])


def follow(part, client):
	"""(c2s bytes, s2c bytes, c2s missing, s2c missing) of the one TCP stream in part."""
	out, _ = tshark(["-r", part, "-q", "-z", "follow,tcp,raw,0"])
	node0 = None
	data = [b"", b""]
	body = False
	for line in out.splitlines():
		if line.startswith("Node 0: "):
			host, port = line[8:].rsplit(":", 1)
			node0 = (ipaddress.ip_address(host.strip("[]")).compressed, int(port))
		elif line.startswith("Node 1: "):
			body = True
		elif body and line.startswith("====="):
			body = False
		elif body and line.strip():
			side = 1 if line.startswith("\t") else 0
			data[side] += bytes.fromhex(line.strip())
	if node0 != client:
		data.reverse()
	miss = []
	for i in (0, 1):
		miss.append(sum(int(m.group(1)) for m in MISSING.finditer(data[i])))
		data[i] = MISSING.sub(lambda m: b"\0" * int(m.group(1)), data[i])
	return data[0], data[1], miss[0], miss[1]


def expected_key(f):
	t = f.get("tunnel", {})
	return (tuple(f.get("vlan", [])), (ipaddress.ip_address(f["src_ip"]).compressed, f["src_port"]),
	        (ipaddress.ip_address(f["dest_ip"]).compressed, f["dest_port"]),
	        (t["type"], t["id"]) if "id" in t else None)


class Report:
	def __init__(self, case, notes):
		self.case, self.notes = case, notes
		self.unexplained = 0

	def line(self, run, what, want, got, field=None):
		"""One comparison; field (default: what) names it in expect.json's oracle notes."""
		field = field or what
		if want == got:
			verdict = "agree"
		else:
			note = self.notes.get("%s:%s" % (run, field)) or self.notes.get("*:%s" % field)
			if note:
				verdict = "differs, explained: %s" % note
			else:
				verdict = "DIFFERS"
				self.unexplained += 1
		show = lambda v: (repr(v) if isinstance(v, bytes) and len(v) <= 40 else
		                  "%d bytes" % len(v) if isinstance(v, bytes) else str(v))
		print("%-18s %-12s %-48s expect=%-16s tshark=%-16s %s" % (
			self.case, run, what, show(want), show(got), verdict))


def check_flow(rep, pcap, run, key, f, rows, done, nth=None):
	"""nth (0-based): the expected flow is the nth of several on its 4-tuple (ports reused), and
	is compared with tshark's nth stream on it."""
	vl, cli, srv, tun = key
	mine = [r for r in rows if r["vlan"] == vl and r["tun"] == tun and {r["src"], r["dst"]} == {cli, srv}]
	tag = "%s:%d>%s:%d%s%s" % (cli[0], cli[1], srv[0], srv[1], (" vlan" + ",".join(map(str, vl))) if vl else "",
	                           " %s %d" % tun if tun else "")
	if nth is not None:
		streams = sorted({r["stream"] for r in mine}, key=lambda s: min(r["n"] for r in mine if r["stream"] == s))
		mine = [r for r in mine if nth < len(streams) and r["stream"] == streams[nth]]
		tag += " #%d" % (nth + 1)
	if not mine:
		rep.line(run["name"], tag + " frames", "some", "none")
		return
	with tempfile.TemporaryDirectory() as td:
		part = os.path.join(td, "part.pcap")
		split(pcap, sorted({n for r in mine for n in [r["n"]] + r["frags"]}), part)
		mine = frames(part, set())
		c2s, s2c, m0, m1 = follow(part, cli)
	content = {"toserver": c2s, "toclient": s2c}
	missing = {"toserver": m0, "toclient": m1}
	sb = {"toserver": "c2s", "toclient": "s2c"}
	for d, sender in (("toserver", cli), ("toclient", srv)):
		dr = [r for r in mine if r["src"] == sender]
		st = f["streams"][d]
		checks = [
			("pkts", f["flow"]["pkts_" + d], len(dr)),
			("ip_bytes", f["flow"]["bytes_" + d], sum(r["iplen"] for r in dr)),
			("payload", st.get("payload"), sum(r["len"] for r in dr)),
			("rexmit_pkts", st.get("rexmit_pkts"), sum(r["rexmit"] for r in dr)),
			("content", f["stream_bytes"][sb[d]].encode("latin-1"), content[d]),
			("gap_bytes", st.get("gap_bytes"), missing[d]),
		]
		if st.get("gap_bytes"):
			# Reordering also raises lost_segment, so this is only asked where a gap is expected.
			checks.append(("gap_seen (lost_segment)", True, any(r["lost"] for r in dr)))
		for what, want, got in checks:
			if want is None:
				continue
			sig = (tag, d, what, repr(want))
			if sig in done:
				continue
			done.add(sig)
			rep.line(run["name"], "%s %s.%s" % (tag, d, what), want, got, "%s.%s" % (d, what))
	for what, want, got in (("start", f["flow"]["start"], eve_time(min(r["t"] for r in mine))),
	                        ("end", f["flow"]["end"], eve_time(max(r["t"] for r in mine)))):
		sig = (tag, what)
		if sig not in done:
			done.add(sig)
			rep.line(run["name"], "%s %s" % (tag, what), want, got, what)


def check_malformed(rep, run, pcap, bad):
	"""How many of the frames weir must count as malformed tshark itself flags as errors."""
	out, _ = tshark(["-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
	                 "-e", "frame.number", "-e", "_ws.expert.severity", "-e", "_ws.malformed"])
	flagged = 0
	for line in out.splitlines():
		cols = (line.split("\t") + ["", ""])[:3]
		sev = [int(x) for x in cols[1].split(",") if x]
		# 8388608 is Wireshark's PI_ERROR expert severity (malformed, bogus header field).
		if int(cols[0]) in bad and (cols[2] or (sev and max(sev) >= 8388608)):
			flagged += 1
	rep.line(run, "malformed frames tshark flags as errors", len(bad), flagged, "malformed")


def main(argv):
	if len(argv) != 2:
		sys.stderr.write(__doc__)
		return 2
	case_dir = os.path.abspath(argv[1])
	with open(os.path.join(case_dir, "expect.json")) as fh:
		exp = json.load(fh)
	oracle = exp.get("oracle", {})
	rep = Report(exp["case"], oracle.get("notes", {}))
	pcap = os.path.join(case_dir, "input.pcap")
	# exclude_frames: frames that are no part of any expected flow; malformed_frames (default: the
	# same): frames weir counts as malformed, some of which may still be tracked (bad TCP option).
	skip = oracle.get("exclude_frames", [])
	bad = oracle.get("malformed_frames", skip)
	rows = frames(pcap, set(skip))
	if bad:
		check_malformed(rep, exp["runs"][0]["name"], pcap, bad)
	done = set()
	for run in exp["runs"]:
		per_key = {}
		for k in run["flows"]:
			per_key.setdefault(k.split(" #")[0], []).append(k)
		for k, f in sorted(run["flows"].items()):
			same = sorted(per_key[k.split(" #")[0]], key=lambda x: int(x.split(" #")[1]) if " #" in x else 1)
			nth = same.index(k) if len(same) > 1 else None
			check_flow(rep, pcap, run, expected_key(f), f, rows, done, nth)
		if not run["flows"]:
			convs = {(r["vlan"], r["tun"], frozenset((r["src"], r["dst"]))) for r in rows}
			rep.line(run["name"], "flows (tshark: TCP conversations)", 0, len(convs), "flows")
		for i, fe in enumerate(run["stats"].get("files", [])):
			out, err = tshark(["-r", os.path.join(case_dir, fe["name"]), "-T", "fields", "-e", "frame.number"])
			rep.line(run["name"], "file %s frames" % fe["name"], fe["packets"], len(out.split()))
			if fe.get("error") == "*":
				rep.line(run["name"], "file %s damaged" % fe["name"], True, "cut short" in err)
	if not any(r["stats"].get("files") for r in exp["runs"]):
		out, _ = tshark(["-r", pcap, "-T", "fields", "-e", "frame.number"])
		rep.line(exp["runs"][0]["name"], "frames (stats.packets)", exp["runs"][0]["stats"]["packets"], len(out.split()))
	return 1 if rep.unexplained else 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
