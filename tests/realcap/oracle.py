#!/usr/bin/env python3
"""oracle.py — checks weir's per-flow output for a pcap against tshark and tcpflow (independent tools).

usage:
  oracle.py --weir BIN PCAP                    derive expectations with tshark+tcpflow, run weir, compare
  oracle.py --weir BIN --expect EXP.json PCAP  compare with frozen expectations (no tshark/tcpflow needed)
  oracle.py --freeze EXP.json PCAP             derive expectations and write them (weir not run)
  options: --syn-retx BIN [--require-syn-retx]  also check `syn_retx PCAP` against tshark's count
           --weir-arg ARG (repeatable: extra options for weir replay, e.g. --weir-arg=--buffer
           --weir-arg=1048576; default: none, the contract's command exactly)
           --workdir DIR (keep the tool outputs there), --requests PCAP.requests.json (capture
           completeness check; default: PCAP.requests.json when it exists), -v (print every flow)
exit: 0 all equal; 1 weir differs (a per-flow diff table is printed); 2 the oracle could not run
(missing tool, weir failed, the tools disagree with each other, the capture is incomplete).

What is compared, per flow (a flow = one tshark tcp.stream, matched to one EVE flow line by client
and server address/port and the first packet's time, to the microsecond):
  pkts_toserver/toclient and zeek orig_pkts/resp_pkts   tshark packets per direction
  bytes_toserver/toclient and zeek *_ip_bytes           tshark ip.len (IPv4), ipv6.plen + 40 (IPv6)
  streams.*.payload                                     sum of tshark tcp.len
  streams.*.delivered, --write-streams files            tcpflow's files, which must also equal
                                                        tshark's follow,tcp,raw (else exit 2)
  streams.*.rexmit_pkts                                 tshark tcp.analysis.retransmission (where
                                                        that is wrong is reported: rexmit_rule())
  streams.*.gap_bytes, ooo_pkts                         from the sequence space seen (see seq_walk())
  zeek orig_bytes/resp_bytes                            delivered + gap_bytes
  flow.start                                            the stream's first frame time
  flow.reason, zeek conn_state                          only for the two shapes these captures have:
                                                        FIN both ways without RST ("fin", "SF") and
                                                        SYN answered by RST ("rst", "REJ")
and globally: the flow count, stats packets/bytes/tcp_packets/flows.created, no orphans, no
malformed frames, no file error.
"""
import argparse
import bisect
import datetime
import decimal
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

EXIT_OK, EXIT_DIFF, EXIT_ORACLE = 0, 1, 2
DIRS = ("toserver", "toclient")
TSHARK_FIELDS = [
	"frame.number", "frame.time_epoch", "frame.len", "tcp.stream", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
	"tcp.srcport", "tcp.dstport", "ip.len", "ipv6.plen", "tcp.len", "tcp.seq", "tcp.flags",
	"tcp.analysis.retransmission", "tcp.analysis.out_of_order", "tcp.analysis.lost_segment",
]
TH_FIN, TH_SYN, TH_RST, TH_ACK = 0x01, 0x02, 0x04, 0x10
IPV6_HEADER = 40  # ipv6.plen excludes the fixed header; weir's IP bytes include it


class OracleError(Exception):
	"""The oracle itself could not produce a trustworthy expectation (exit 2)."""


def run(cmd, **kw):
	"""Runs cmd, returns stdout (bytes); raises OracleError with its stderr on failure."""
	try:
		res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
	except FileNotFoundError:
		raise OracleError("%s: not found" % cmd[0])
	if res.returncode != 0:
		raise OracleError("%s exited %d: %s" % (" ".join(cmd), res.returncode,
		                                          res.stderr.decode(errors="replace").strip()[-2000:]))
	return res.stdout


def norm_ip(s):
	return str(ipaddress.ip_address(s))


def epoch_ns(s):
	"""tshark's frame.time_epoch ("1795831069.727557000") as integer ns, without float rounding."""
	return int(decimal.Decimal(s) * 1000000000)


def eve_us(s):
	"""EVE time "2026-11-28T01:45:05.123456+0000" as integer microseconds since the epoch."""
	dt = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")
	epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
	return (dt - epoch) // datetime.timedelta(microseconds=1)


# ---- tshark: packets, per-direction counters ---------------------------------------------------

def tshark_packets(pcap):
	"""(one dict per TCP frame, number of frames, their wire bytes). The outer TCP header only (occurrence=f), and
	frames carrying ICMP are not TCP packets (their TCP header is a quoted one). The HTTP dissector
	is off: it only costs time and does not change any tcp.* field used here (checked)."""
	cmd = ["tshark", "-n", "-r", pcap, "--disable-protocol", "http", "-T", "fields",
	       "-E", "separator=/t", "-E", "occurrence=f", "-e", "frame.protocols"]
	for f in TSHARK_FIELDS:
		cmd += ["-e", f]
	pkts = []
	wire = 0
	lines = run(cmd).decode().splitlines()
	for line in lines:
		cols = line.split("\t")
		wire += int(cols[3])  # frame.len: every frame's bytes on the wire, TCP or not
		protos = cols[0].split(":")
		if "tcp" not in protos or "icmp" in protos or "icmpv6" in protos:
			continue
		v = dict(zip(TSHARK_FIELDS, cols[1:]))
		v6 = v["ipv6.src"] != ""
		pkts.append({
			"frame": int(v["frame.number"]), "ns": epoch_ns(v["frame.time_epoch"]),
			"stream": int(v["tcp.stream"]),
			"src": norm_ip(v["ipv6.src"] if v6 else v["ip.src"]),
			"dst": norm_ip(v["ipv6.dst"] if v6 else v["ip.dst"]),
			"sport": int(v["tcp.srcport"]), "dport": int(v["tcp.dstport"]), "v6": v6,
			"ip_bytes": int(v["ipv6.plen"]) + IPV6_HEADER if v6 else int(v["ip.len"]),
			"len": int(v["tcp.len"]), "seq": int(v["tcp.seq"]), "flags": int(v["tcp.flags"], 16),
			"retrans": v["tcp.analysis.retransmission"] != "",
			"ooo": v["tcp.analysis.out_of_order"] != "",
			"lost": v["tcp.analysis.lost_segment"] != "",
		})
	return pkts, len(lines), wire


def new_dir_counts():
	return {"pkts": 0, "ip_bytes": 0, "payload": 0, "rexmit_pkts": 0, "tshark_retrans": 0,
	        "tshark_ooo": 0, "tshark_lost": 0, "retrans_unseen": 0, "ooo_seen": 0, "syn_rexmit": 0,
	        "resent": 0, "resent_unflagged": 0,
	        "ooo_pkts": 0, "gap_bytes": 0, "max_ooo_span": 0, "has_syn": False, "has_fin": False, "has_rst": False,
	        "has_synack": False}


class SeqSpace:
	"""The sequence space (relative to the ISN, so no wrap below 4 GiB) one sender was seen to use."""

	def __init__(self):
		self.iv = []       # sorted, merged [start, end) intervals seen
		self.inorder = None  # end of the contiguous run from the first byte seen

	def overlaps(self, a, b):
		i = bisect.bisect_right(self.iv, [a, float("inf")])
		if i > 0 and self.iv[i - 1][1] > a:
			return True
		return i < len(self.iv) and self.iv[i][0] < b

	def add(self, a, b):
		if self.inorder is None:
			self.inorder = a
		new = [a, b]
		keep = []
		for s, e in self.iv:
			if e < new[0] or s > new[1]:
				keep.append([s, e])
			else:
				new = [min(s, new[0]), max(e, new[1])]
		keep.append(new)
		keep.sort()
		self.iv = keep
		for s, e in self.iv:
			if s <= self.inorder < e:
				self.inorder = e

	def holes(self):
		"""Bytes between the first and the last byte seen that never were."""
		return sum(self.iv[i + 1][0] - self.iv[i][1] for i in range(len(self.iv) - 1))


def seq_walk(d, space, p):
	"""Classifies packet p of one direction against what that sender was seen to send before.

	A packet "re-sends seen sequence space" when its SYN, payload or FIN overlaps space an earlier
	packet of the same sender already covered. It is "ahead" (weir's ooo_pkts: arrived beyond the
	in-order point) when it carries payload that starts beyond the contiguous run seen so far."""
	start = p["seq"]
	end = start + p["len"] + (1 if p["flags"] & TH_SYN else 0) + (1 if p["flags"] & TH_FIN else 0)
	seen = end > start and space.overlaps(start, end)
	data_start = start + (1 if p["flags"] & TH_SYN else 0)
	if p["len"] > 0 and space.inorder is not None and data_start > space.inorder:
		d["ooo_pkts"] += 1
	if end > start:
		space.add(start, end)
		# How far beyond the in-order point (hole included) the sender's data reached: a
		# reassembler must hold that much out of order to lose nothing (veth reordering alone
		# reached 78 KB in a loss-free capture here).
		d["max_ooo_span"] = max(d["max_ooo_span"], space.iv[-1][1] - space.inorder)
	return seen


def rexmit_rule(d, p, seen):
	"""Counts p toward the expected rexmit_pkts, which is tshark's tcp.analysis.retransmission (the
	contract: "meant to equal Wireshark's count on ordinary captures"; fast and spurious
	retransmissions carry that flag too in tshark 4.0).

	tshark decides with timing heuristics, and in these captures the capture itself shows where
	it is wrong, since every byte a sender sent is in it (see gen_capture.sh). Both kinds of error
	are counted beside the expectation and reported, not folded into it:
	- "retrans_unseen": flagged a retransmission, but its sequence space was never seen before: a
	  late (reordered) first copy. veth delivers through per-CPU backlogs, so a server burst split
	  across CPUs arrives reordered (seen: 18 segments filling a hole); when the first copy comes
	  more than one handshake RTT (~30 us on veth) after the highest segment, tshark calls it a
	  retransmission;
	- "ooo_seen": flagged out-of-order, but it re-sends seen sequence space: a real retransmission
	  that came within one handshake RTT of the highest segment;
	- "resent_unflagged": re-sends seen space with neither flag (keep-alive, window probe).
	"resent" = packets that re-send seen sequence space: the ground truth for these captures."""
	if p["retrans"]:
		d["tshark_retrans"] += 1
		d["rexmit_pkts"] += 1
		if p["flags"] & (TH_SYN | TH_ACK) == TH_SYN:
			d["syn_rexmit"] += 1
		if not seen:
			d["retrans_unseen"] += 1
	if p["ooo"]:
		d["tshark_ooo"] += 1
		if seen:
			d["ooo_seen"] += 1
	if p["lost"]:
		d["tshark_lost"] += 1
	if seen:
		d["resent"] += 1
		if not p["retrans"] and not p["ooo"]:
			d["resent_unflagged"] += 1


def tshark_flows(pkts):
	"""Per tcp.stream: the client (sender of the first packet), times and per-direction counters.

	A SYN after a RST in the stream starts a new flow, as in weir and Zeek (a RST deletes the
	connection, so the SYN is a new attempt, even with the old ISN: a refused connect() whose RST
	was lost re-sends its SYN). tshark keeps one stream and flags that SYN a retransmission; in the
	new flow it is the first packet, not a retransmission."""
	flows, part = {}, {}
	for p in pkts:
		f = flows.get((p["stream"], part.get(p["stream"], 0)))
		if f is not None and p["flags"] & (TH_SYN | TH_ACK) == TH_SYN and \
				(f["toserver"]["has_rst"] or f["toclient"]["has_rst"]):
			part[p["stream"]] = part.get(p["stream"], 0) + 1
			p = dict(p, retrans=False)
			f = None
		if f is None:
			client_first = not (p["flags"] & TH_SYN and p["flags"] & TH_ACK)
			c, s = ((p["src"], p["sport"]), (p["dst"], p["dport"])) if client_first else \
				((p["dst"], p["dport"]), (p["src"], p["sport"]))
			f = flows[(p["stream"], part.get(p["stream"], 0))] = {
				"stream": p["stream"], "client_ip": c[0], "client_port": c[1], "server_ip": s[0],
				"server_port": s[1], "ip_version": 6 if p["v6"] else 4, "start_ns": p["ns"],
				"end_ns": p["ns"], "toserver": new_dir_counts(), "toclient": new_dir_counts(),
				"_space": {"toserver": SeqSpace(), "toclient": SeqSpace()}}
		f["end_ns"] = p["ns"]
		key = "toserver" if (p["src"], p["sport"]) == (f["client_ip"], f["client_port"]) else "toclient"
		d = f[key]
		d["pkts"] += 1
		d["ip_bytes"] += p["ip_bytes"]
		d["payload"] += p["len"]
		d["has_syn"] |= p["flags"] & (TH_SYN | TH_ACK) == TH_SYN
		d["has_synack"] |= p["flags"] & (TH_SYN | TH_ACK) == TH_SYN | TH_ACK
		d["has_fin"] |= bool(p["flags"] & TH_FIN)
		d["has_rst"] |= bool(p["flags"] & TH_RST)
		rexmit_rule(d, p, seq_walk(d, f["_space"][key], p))
	for f in flows.values():
		for key in DIRS:
			f[key]["gap_bytes"] = f["_space"][key].holes()
		del f["_space"]
		f["reason"], f["conn_state"] = close_shape(f)
	return [flows[k] for k in sorted(flows)]


def close_shape(f):
	"""(EVE flow.reason, Zeek conn_state) for the two flow shapes whose answer is unambiguous."""
	ts, tc = f["toserver"], f["toclient"]
	if ts["has_syn"] and tc["has_synack"] and ts["has_fin"] and tc["has_fin"] and \
			not ts["has_rst"] and not tc["has_rst"]:
		return "fin", "SF"
	if ts["has_syn"] and not tc["has_synack"] and tc["has_rst"] and ts["payload"] == 0 and \
			not ts["has_fin"] and not ts["has_rst"]:
		return "rst", "REJ"
	return None, None


# ---- reassembled bytes: tcpflow, cross-checked with tshark follow ------------------------------

def tcpflow_streams(pcap, outdir, flows):
	"""Maps (stream, direction) to the tcpflow file holding that direction's bytes (None: no data).

	tcpflow names files SRCIP.SPORT-DSTIP.DPORT (zero-padded IPv4, 'cN' appended when a 4-tuple is
	reused); the names are not relied on: its report.xml gives each file's 4-tuple and start time,
	and a file belongs to the stream with that 4-tuple whose time span contains its start."""
	run(["tcpflow", "-r", pcap, "-o", outdir])
	tree = ET.parse(os.path.join(outdir, "report.xml"))
	found = {}
	for fo in tree.iter("fileobject"):
		name = fo.findtext("filename")
		t = fo.find("tcpflow")
		if name is None or t is None:
			continue
		src, dst = norm_ip(t.get("src_ipn")), norm_ip(t.get("dst_ipn"))
		sport, dport = int(t.get("srcport")), int(t.get("dstport"))
		start = datetime.datetime.strptime(t.get("startime"), "%Y-%m-%dT%H:%M:%S.%fZ")
		start_us = (start - datetime.datetime(1970, 1, 1)) // datetime.timedelta(microseconds=1)
		path = name if os.path.isabs(name) else os.path.join(os.path.dirname(outdir.rstrip("/")), name)
		if not os.path.exists(path):
			path = os.path.join(outdir, os.path.basename(name))
		match = None
		for f in flows:
			for key, a, b in (("toserver", "client", "server"), ("toclient", "server", "client")):
				if (src, sport, dst, dport) == (f[a + "_ip"], f[a + "_port"], f[b + "_ip"], f[b + "_port"]) \
						and f["start_ns"] // 1000 <= start_us <= f["end_ns"] // 1000:
					match = (f["stream"], key)
		if match is None:
			raise OracleError("tcpflow file %s matches no tshark stream" % name)
		if match in found:
			raise OracleError("tcpflow wrote two files for stream %d %s" % match)
		found[match] = path
	return found


def follow_streams(pcap, nstreams):
	"""{(stream, direction): bytes} from tshark -z follow,tcp,raw (all streams in one pass).
	Node 0 of a follow section is the sender of the stream's first packet, i.e. our client."""
	if nstreams == 0:
		return {}
	cmd = ["tshark", "-n", "-r", pcap, "--disable-protocol", "http", "-q"]
	for i in range(nstreams):
		cmd += ["-z", "follow,tcp,raw,%d" % i]
	out = run(cmd).decode()
	res = {}
	for sec in re.finditer(r"^Filter: tcp\.stream eq (\d+)\nNode 0: [^\n]*\nNode 1: [^\n]*\n(.*?)^=+$",
	                       out, re.S | re.M):
		n = int(sec.group(1))
		c2s, s2c = [], []
		for line in sec.group(2).splitlines():
			if line.startswith("\t"):
				s2c.append(bytes.fromhex(line.strip()))
			elif line.strip():
				c2s.append(bytes.fromhex(line.strip()))
		res[(n, "toserver")] = b"".join(c2s)
		res[(n, "toclient")] = b"".join(s2c)
	return res


def sha256_file(path):
	h = hashlib.sha256()
	if path:
		with open(path, "rb") as fh:
			for blk in iter(lambda: fh.read(1 << 20), b""):
				h.update(blk)
	return h.hexdigest()


def attach_bytes(pcap, flows, workdir):
	"""Adds delivered/sha256 per direction from tcpflow; stops if tshark follow disagrees."""
	files = tcpflow_streams(pcap, os.path.join(workdir, "tcpflow"), flows)
	follow = follow_streams(pcap, max((f["stream"] for f in flows), default=-1) + 1)
	for f in flows:
		for key in DIRS:
			path = files.get((f["stream"], key))
			size = os.path.getsize(path) if path else 0
			digest = sha256_file(path)
			fb = follow.get((f["stream"], key), b"")
			if len(fb) != size or hashlib.sha256(fb).hexdigest() != digest:
				raise OracleError("stream %d %s: tcpflow has %d bytes, tshark follow %d (or different "
				                  "content): the reference tools disagree" % (f["stream"], key, size, len(fb)))
			f[key]["delivered"] = size
			f[key]["sha256"] = digest
			f[key]["_file"] = path
	return flows


def derive(pcap, workdir):
	"""The expectation document for pcap, from tshark and tcpflow."""
	for tool in ("tshark", "tcpflow"):
		if shutil.which(tool) is None:
			raise OracleError("%s is not installed (apt-get install -y %s)" % (tool, tool))
	pkts, nframes, wire = tshark_packets(pcap)
	flows = attach_bytes(pcap, tshark_flows(pkts), workdir)
	for f in flows:
		for key in DIRS:
			if f[key]["gap_bytes"]:
				# gen_capture.sh captures have no holes (drops happen after the capture point);
				# what tcpflow and follow put in a hole is not weir's business to imitate.
				raise OracleError("stream %d %s: %d bytes never captured: not a gap-free capture"
				                  % (f["stream"], key, f[key]["gap_bytes"]))
	return {
		"pcap": os.path.basename(pcap), "pcap_sha256": sha256_file(pcap),
		"frames": nframes, "wire_bytes": wire, "tcp_frames": len(pkts),
		# per flow, so a SYN that starts a new flow after a RST is not one (tshark_flows)
		"syn_retransmissions": sum(f[d]["syn_rexmit"] for f in flows for d in DIRS),
		"tools": tool_versions(), "flows": flows,
	}


def tool_versions():
	tv = run(["tshark", "--version"]).decode().splitlines()[0]
	tf = subprocess.run(["tcpflow", "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
	return {"tshark": tv.strip(), "tcpflow": tf.stdout.decode().split("Running")[0].strip()}


def frozen(doc):
	"""doc without the local file paths, as written by --freeze."""
	out = dict(doc)
	out["flows"] = [{k: ({kk: vv for kk, vv in v.items() if not kk.startswith("_")}
	                     if k in DIRS else v) for k, v in f.items()} for f in doc["flows"]]
	return out


# ---- weir ---------------------------------------------------------------------------------------

def run_weir(weir, pcap, workdir, extra):
	"""Runs the replay CLI (the contract's command, plus the --weir-arg options given); returns
	(EVE flow records, stats, streams dir, (exit code, end of stderr)). A failing exit is a
	difference like any other, reported with the rest, as long as the outputs were written."""
	eve, stats, sdir = (os.path.join(workdir, n) for n in ("eve.json", "stats.json", "streams"))
	os.makedirs(sdir, exist_ok=True)
	cmd = [weir, "replay", "--eve", eve, "--stats-json", stats, "--write-streams", sdir] + extra + [pcap, "--quiet"]
	try:
		res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	except OSError as e:
		raise OracleError("%s: %s" % (weir, e))
	status = (res.returncode, res.stderr.decode(errors="replace").strip()[-500:])
	if not (os.path.exists(eve) and os.path.exists(stats)):
		raise OracleError("%s exited %d without writing its outputs: %s" % (" ".join(cmd), *status))
	recs = []
	with open(eve) as fh:
		for n, line in enumerate(fh, 1):
			if not line.strip():
				continue
			try:
				r = json.loads(line)
			except ValueError as e:
				raise OracleError("%s:%d: not JSON: %s" % (eve, n, e))
			if r.get("event_type") == "flow":
				recs.append(r)
	with open(stats) as fh:
		try:
			st = json.load(fh)
		except ValueError as e:
			raise OracleError("%s: not JSON: %s" % (stats, e))
	return recs, st, sdir, status


def match_flows(exp_flows, recs):
	"""Pairs each expected flow with the EVE record of the same addresses and start (to the us).
	Returns (pairs, unmatched expected, unmatched records)."""
	by_key = {}
	for r in recs:
		try:
			key = (norm_ip(r["src_ip"]), r["src_port"], norm_ip(r["dest_ip"]), r["dest_port"],
			       eve_us(r["flow"]["start"]))
		except (KeyError, ValueError, TypeError):
			key = ("unparsable", id(r))
		by_key.setdefault(key, []).append(r)
	pairs, missing = [], []
	for f in exp_flows:
		key = (f["client_ip"], f["client_port"], f["server_ip"], f["server_port"], f["start_ns"] // 1000)
		lst = by_key.get(key)
		if lst:
			pairs.append((f, lst.pop(0)))
		else:
			missing.append(f)
	extra = [r for lst in by_key.values() for r in lst]
	return pairs, missing, extra


def get(rec, *path):
	for p in path:
		if not isinstance(rec, dict) or p not in rec:
			return "(absent)"
		rec = rec[p]
	return rec


def compare_flow(f, r, sdir, diffs):
	"""Appends (flow label, field, weir value, oracle value) for every difference."""
	label = "%d/%s" % (f["stream"], get(r, "flow_id"))

	def check(field, weir_val, want):
		if weir_val != want:
			diffs.append((label, field, weir_val, want))

	for key, short, zk in (("toserver", "toserver", "orig"), ("toclient", "toclient", "resp")):
		d = f[key]
		st = get(r, "streams", short)
		check("flow.pkts_" + short, get(r, "flow", "pkts_" + short), d["pkts"])
		check("flow.bytes_" + short, get(r, "flow", "bytes_" + short), d["ip_bytes"])
		check("zeek.%s_pkts" % zk, get(r, "zeek", zk + "_pkts"), d["pkts"])
		check("zeek.%s_ip_bytes" % zk, get(r, "zeek", zk + "_ip_bytes"), d["ip_bytes"])
		for field in ("payload", "delivered", "gap_bytes", "rexmit_pkts", "ooo_pkts"):
			check("streams.%s.%s" % (short, field), get(st, field), d[field])
		check("zeek.%s_bytes" % zk, get(r, "zeek", zk + "_bytes"), d["delivered"] + d["gap_bytes"])
		compare_stream(label, key, f, r, sdir, d, diffs)
	if f["reason"] is not None:
		check("flow.reason", get(r, "flow", "reason"), f["reason"])
		check("zeek.conn_state", get(r, "zeek", "conn_state"), f["conn_state"])
	check("tcp.midstream", get(r, "tcp", "midstream"), False)


def compare_stream(label, key, f, r, sdir, d, diffs):
	"""The --write-streams file against the reference bytes (sha256; first differing offset when
	tcpflow's file is at hand)."""
	ext = "c2s" if key == "toserver" else "s2c"
	path = os.path.join(sdir, "%s.%s" % (get(r, "flow_id"), ext))
	have = os.path.exists(path)
	size = os.path.getsize(path) if have else 0
	digest = sha256_file(path if have else None)
	if size == d["delivered"] and digest == d["sha256"]:
		return
	where = ""
	ref = d.get("_file")
	if ref is not None or d["delivered"] == 0:
		a = open(path, "rb").read() if have else b""
		b = open(ref, "rb").read() if ref else b""
		off = first_difference(a, b)
		where = " first difference at offset %d" % off
	diffs.append((label, "file " + ext, "%d bytes%s" % (size, "" if have else " (no file)"),
	              "%d bytes sha256 %s..%s" % (d["delivered"], d["sha256"][:12], where)))


def first_difference(a, b):
	"""Offset of the first byte where a and b differ (the shorter length if one is a prefix)."""
	n = min(len(a), len(b))
	blk = 65536
	i = 0
	while i < n and a[i:i + blk] == b[i:i + blk]:
		i += blk
	while i < n and a[i] == b[i]:
		i += 1
	return min(i, n)


def compare_stats(exp, st, nrecs, diffs):
	def check(field, weir_val, want):
		if weir_val != want:
			diffs.append(("stats", field, weir_val, want))

	check("packets", get(st, "packets"), exp["frames"])
	check("bytes", get(st, "bytes"), exp["wire_bytes"])
	check("tcp_packets", get(st, "tcp_packets"), exp["tcp_frames"])
	check("flows.created", get(st, "flows", "created"), len(exp["flows"]))
	check("EVE flow lines", nrecs, len(exp["flows"]))
	check("orphans", get(st, "orphans"), 0)
	mal = get(st, "malformed")
	check("malformed (sum)", sum(mal.values()) if isinstance(mal, dict) else mal, 0)
	files = get(st, "files")
	check("files[0].error", files[0].get("error", "(absent)") if isinstance(files, list) and files else files, None)


def compare(exp, recs, st, sdir):
	diffs = []
	pairs, missing, extra = match_flows(exp["flows"], recs)
	for f in missing:
		diffs.append(("%d/-" % f["stream"], "flow", "(no EVE line)", flow_name(f)))
	for r in extra:
		diffs.append(("-/%s" % get(r, "flow_id"), "flow", "%s:%s -> %s:%s start %s" % (
			get(r, "src_ip"), get(r, "src_port"), get(r, "dest_ip"), get(r, "dest_port"),
			get(r, "flow", "start")), "(no such tshark stream)"))
	for f, r in pairs:
		compare_flow(f, r, sdir, diffs)
	compare_stats(exp, st, len(recs), diffs)
	return diffs, pairs


def outrun_notes(pairs):
	"""Explains discarded out-of-order bytes: how much buffer the capture needed there."""
	notes = []
	for f, r in pairs:
		for key in DIRS:
			out = get(r, "streams", key, "outrun_bytes")
			if isinstance(out, int) and out > 0:
				notes.append("stream %d %s: weir discarded %d out-of-order bytes (outrun); the capture "
				             "holds up to %d bytes beyond a hole there, all of which arrive; weir's "
				             "reassembly window is --buffer (default: streams.buffer_per_side in weir check --defaults)"
				             % (f["stream"], key, out, f[key]["max_ooo_span"]))
	return notes


def flow_name(f):
	fmt = "[%s]:%d" if f["ip_version"] == 6 else "%s:%d"
	return (fmt % (f["client_ip"], f["client_port"])) + " -> " + (fmt % (f["server_ip"], f["server_port"]))


# ---- reports ------------------------------------------------------------------------------------

def print_table(rows, head):
	rows = [head] + [tuple(str(c) for c in r) for r in rows]
	w = [max(len(r[i]) for r in rows) for i in range(len(head))]
	for r in rows:
		print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())


def print_flows(exp):
	rows = []
	for f in exp["flows"]:
		ts, tc = f["toserver"], f["toclient"]
		cs = lambda k: "%d/%d" % (ts[k], tc[k])
		rows.append((f["stream"], flow_name(f), cs("pkts"), cs("delivered"), cs("rexmit_pkts"),
		             cs("resent"), cs("retrans_unseen"), cs("ooo_seen"), cs("ooo_pkts"),
		             cs("max_ooo_span"), f["reason"] or "-"))
	print_table(rows, ("stream", "flow", "pkts c/s", "delivered c/s", "rexmit c/s", "resent c/s",
	                   "late-1st c/s", "quick c/s", "ooo c/s", "ooo-span c/s", "reason"))
	print("(rexmit = tshark's retransmission flag; resent = re-sends sequence space seen before; "
	      "late-1st = flagged but first copies; quick = resent but flagged out-of-order; ooo-span = "
	      "most bytes beyond the in-order point)")


def check_requests(exp, path):
	"""The capture holds every connection curl reported (else the generator lost packets)."""
	with open(path) as fh:
		req = json.load(fh)
	ports = {(f["client_port"], f["server_port"]): f for f in exp["flows"]}
	for r in req.get("requests", []):
		if r.get("exitcode") != 0:
			continue
		f = ports.get((r["local_port"], r["remote_port"]))
		if f is None:
			raise OracleError("%s: request %s from port %d is not in the capture" % (path, r["url"], r["local_port"]))
		if f["toclient"]["delivered"] < r["size_download"] or f["toserver"]["delivered"] < r["size_upload"]:
			raise OracleError("%s: the capture holds less of %s than curl transferred" % (path, r["url"]))
	closed = req.get("server", {}).get("closed_port")
	if closed and not any(f["server_port"] == closed and f["reason"] == "rst" for f in exp["flows"]):
		raise OracleError("%s: no refused connection to port %s in the capture" % (path, closed))
	# The SYN re-sent after the lost RST is a second refused attempt, so a second flow.
	lost = req.get("server", {}).get("lost_rst_port")
	if lost and sum(f["server_port"] == lost and f["reason"] == "rst" for f in exp["flows"]) != 2:
		raise OracleError("%s: the connection to port %s whose first RST was lost is not two refused "
		                  "flows" % (path, lost))


def syn_retx_check(binary, pcap, want, require):
	out = run([binary, pcap]).decode().strip()
	m = re.fullmatch(r"syn_retx=(\d+)", out)
	if not m:
		return [("syn_retx", "output", out, "syn_retx=%d" % want)]
	diffs = []
	if int(m.group(1)) != want:
		diffs.append(("syn_retx", "count", int(m.group(1)), want))
	if require and want == 0:
		raise OracleError("the capture has no SYN retransmission, so the SYN check proves nothing")
	return diffs


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("pcap")
	ap.add_argument("--weir")
	ap.add_argument("--weir-arg", action="append", default=[], metavar="ARG",
	                help="pass ARG to weir replay as well (repeat for several; e.g. --weir-arg=--buffer)")
	ap.add_argument("--expect")
	ap.add_argument("--freeze")
	ap.add_argument("--syn-retx")
	ap.add_argument("--require-syn-retx", action="store_true")
	ap.add_argument("--requests")
	ap.add_argument("--workdir")
	ap.add_argument("-v", "--verbose", action="store_true")
	a = ap.parse_args()
	if not a.freeze and not a.weir:
		ap.error("--weir BIN (or --freeze OUT) is required")
	work = a.workdir or tempfile.mkdtemp(prefix="oracle.")
	os.makedirs(work, exist_ok=True)
	try:
		return run_oracle(a, work)
	except OracleError as e:
		print("ORACLE FAILED (%s): %s" % (a.pcap, e), file=sys.stderr)
		return EXIT_ORACLE
	finally:
		if not a.workdir:
			shutil.rmtree(work, ignore_errors=True)


def run_oracle(a, work):
	if a.expect:
		with open(a.expect) as fh:
			exp = json.load(fh)
		if sha256_file(a.pcap) != exp["pcap_sha256"]:
			raise OracleError("%s is not the capture %s was derived from" % (a.pcap, a.expect))
	else:
		exp = derive(a.pcap, work)
		req = a.requests or (a.pcap + ".requests.json" if os.path.exists(a.pcap + ".requests.json") else None)
		if req:
			check_requests(exp, req)
	if a.verbose:
		print_flows(exp)
	if a.freeze:
		with open(a.freeze, "w") as fh:
			json.dump(frozen(exp), fh, indent=1, sort_keys=True)
			fh.write("\n")
		print("oracle: wrote %s (%d flows)" % (a.freeze, len(exp["flows"])))
		if not a.weir:
			return EXIT_OK
	recs, st, sdir, (rc, err) = run_weir(a.weir, a.pcap, work, a.weir_arg)
	diffs, pairs = compare(exp, recs, st, sdir)
	if rc != 0:
		diffs.insert(0, ("weir", "exit code", "%d (%s)" % (rc, err), 0))
	if a.syn_retx:
		diffs += syn_retx_check(a.syn_retx, a.pcap, exp["syn_retransmissions"], a.require_syn_retx)
	if diffs:
		print("oracle: %s: %d differences between weir and the oracle:" % (a.pcap, len(diffs)))
		print_table(diffs, ("stream/flow_id", "field", "weir", "oracle"))
		for note in outrun_notes(pairs):
			print("note: " + note)
		if not a.verbose:
			print("\nexpected per flow (oracle):")
			print_flows(exp)
		return EXIT_DIFF
	print(summary(a, exp))
	return EXIT_OK


def summary(a, exp):
	n = lambda k: sum(f[d][k] for f in exp["flows"] for d in DIRS)
	return ("oracle: OK %s: %d flows, %d frames, %d retransmissions as tshark flags them (re-sent in "
	        "fact: %d; flagged but first copies: %d; re-sent but flagged out-of-order: %d), %d SYN "
	        "retransmissions, %d bytes delivered byte-identical to %s"
	        % (os.path.basename(a.pcap), len(exp["flows"]), exp["frames"], n("rexmit_pkts"), n("resent"),
	           n("retrans_unseen"), n("ooo_seen"), exp["syn_retransmissions"], n("delivered"),
	           "the frozen expectation" if a.expect else "tcpflow and tshark follow"))


if __name__ == "__main__":
	sys.exit(main())
