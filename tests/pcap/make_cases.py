#!/usr/bin/env python3
"""make_cases.py — regenerates the handcrafted TCP edge-case captures under tests/pcap/<case>/.

Each case gets input.pcap (written with plain `struct`, no scapy), expect.json (the per-flow
facts weir must report, checked by run_case.py) and README.md. The tests use the committed files;
this script exists so a case can be changed and rebuilt reproducibly: `python3 make_cases.py [CASE...]`.

Counts that follow from the packets themselves (packets, IP bytes, payload per direction) are
computed here from what is written; tcp.analysis and follow-stream views of the same files are
compared with these expectations by check_oracles.sh. Facts no tool models (overlap policy, gap
accounting, close reasons) are written per case with the reasoning in its README.
"""
import copy
import datetime
import ipaddress
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# An arbitrary fixed start time (2025-11-28T01:45:05Z) so regenerated files are byte-identical.
T0_US = 1764294305 * 1000000
# Ethernet's minimum frame is 64 bytes with the 4-byte FCS, which pcap does not keep: shorter
# frames are zero-padded to 60 on the wire, and that padding must never be taken for payload.
MIN_FRAME = 60
# The reassembly threshold Wireshark uses to call a late segment "out-of-order" rather than a
# retransmission is the handshake RTT; every handshake here takes HS_RTT_MS, data packets follow
# each other DATA_GAP_MS apart (well under it) and deliberate retransmissions come REXMIT_MS later.
HS_RTT_MS = 10
DATA_GAP_MS = 1
REXMIT_MS = 200
# The trailer (one UDP datagram) comes this long after the last TCP packet: longer than weir's
# 2 s linger after FIN/RST, so closed flows are ended by their close and not by end of input,
# and shorter than the 30 s handshake timeout, so nothing times out.
TRAILER_S = 10

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ETH_IPV4, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
TPID_8021Q, TPID_8021AD = 0x8100, 0x88A8
DLT_EN10MB = 1
DLT_USER0 = 147  # a link type weir does not decode: its frames must count as unknown_linktype
OPT_MSS = b"\x02\x04\x05\xb4"  # MSS 1460, as most SYNs carry

# ---------------------------------------------------------------------------------------------
# Wire formats


def checksum(data):
	if len(data) % 2:
		data += b"\0"
	s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
	while s >> 16:
		s = (s & 0xFFFF) + (s >> 16)
	return ~s & 0xFFFF


def ip_bytes(addr):
	return ipaddress.ip_address(addr).packed


def tcp_segment(src, dst, sport, dport, seq, ack, flags, win, opts=b"", payload=b"", doff=None, urp=0):
	"""A TCP header + payload with a correct checksum (doff overrides the data offset field; urp:
	the urgent pointer)."""
	opts += b"\x01" * (-len(opts) % 4)  # NOP padding to a 32-bit boundary
	hlen = 20 + len(opts)
	off = (doff if doff is not None else hlen // 4) << 12
	hdr = struct.pack("!HHIIHHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
	                  off | flags, win, 0, urp) + opts
	seglen = len(hdr) + len(payload)
	if ":" in src:
		pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack("!IxxxB", seglen, 6)
	else:
		pseudo = ip_bytes(src) + ip_bytes(dst) + struct.pack("!xBH", 6, seglen)
	c = checksum(pseudo + hdr + payload)
	return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def ipv4(src, dst, proto, payload, ident=0, frag=0x4000, ttl=64, ihl=5, total=None, version=4):
	"""An IPv4 header (DF set by default) with a correct header checksum, then payload."""
	opts = b"\x01" * (ihl * 4 - 20) if ihl > 5 else b""
	tot = total if total is not None else 20 + len(opts) + len(payload)
	hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tot, ident, frag, ttl, proto, 0,
	                  ip_bytes(src), ip_bytes(dst)) + opts
	c = checksum(hdr)
	return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


# IPv6 extension headers: (next-header number, body after the next-header byte).
EXT_HOP = 0
EXT_ROUTING = 43
EXT_AH = 51
EXT_DSTOPT = 60


def ext_hop_by_hop():
	return (EXT_HOP, b"\x00" + b"\x01\x04\x00\x00\x00\x00")  # hdr len 0 (8 bytes): one PadN option


def ext_dest_opts():
	return (EXT_DSTOPT, b"\x00" + b"\x01\x04\x00\x00\x00\x00")


def ext_srh(final_dst):
	# Segment routing header (type 4) with segments left 0 and one segment, the destination:
	# 8 fixed bytes + 16 = 24, so hdr ext len 2. With nothing left to route the checksum's
	# pseudo-header uses the IPv6 destination field as is.
	return (EXT_ROUTING, struct.pack("!BBBBBH", 2, 4, 0, 0, 0, 0) + ip_bytes(final_dst))


def ext_ah():
	# AH with a 12-byte ICV (HMAC-SHA1-96): 24 bytes, so its length field is 24/4 - 2 = 4.
	return (EXT_AH, struct.pack("!BHII", 4, 0, 0x1000, 1) + b"\xaa" * 12)


def ipv6(src, dst, nh, payload, exts=(), hlim=64, plen=None):
	"""An IPv6 header, extension headers in order, then the upper-layer payload (next header nh)."""
	body = payload
	nxt = nh
	for typ, rest in reversed(list(exts)):
		body = bytes([nxt]) + rest + body
		nxt = typ
	pl = plen if plen is not None else len(body)
	hdr = struct.pack("!IHBB16s16s", 6 << 28, pl, nxt, hlim, ip_bytes(src), ip_bytes(dst))
	return hdr + body


def ether(payload, ethertype, vlans=(), outgoing=True, pad=True):
	"""Ethernet II; vlans lists VLAN ids outermost first (two tags: 802.1ad outer, 802.1Q inner)."""
	a, b = b"\x02\x00\x00\x00\x00\x01", b"\x02\x00\x00\x00\x00\x02"
	dst, src = (b, a) if outgoing else (a, b)
	tags = b""
	for i, vid in enumerate(vlans):
		tpid = TPID_8021AD if (len(vlans) > 1 and i == 0) else TPID_8021Q
		tags += struct.pack("!HH", tpid, vid)
	frame = dst + src + tags + struct.pack("!H", ethertype) + payload
	if pad and len(frame) < MIN_FRAME:
		frame += b"\0" * (MIN_FRAME - len(frame))
	return frame


def udp_datagram(src, dst, sport, dport, payload):
	return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


# ---------------------------------------------------------------------------------------------
# Captures and connections


def seq_after(a, b):
	"""True when sequence number a is after b (mod 2^32)."""
	d = (a - b) & 0xFFFFFFFF
	return d != 0 and d < 0x80000000


class Capture:
	"""Frames with microsecond timestamps, written as a classic little-endian pcap."""

	def __init__(self, linktype=DLT_EN10MB, t_us=T0_US):
		self.linktype = linktype
		self.t = t_us
		self.recs = []  # (t_us, frame bytes, wire length)

	def add(self, frame, dt_ms=DATA_GAP_MS, wirelen=None):
		self.t += int(round(dt_ms * 1000))
		self.recs.append((self.t, frame, wirelen if wirelen is not None else len(frame)))

	def trailer(self):
		"""A UDP datagram TRAILER_S after everything else: advances weir's clock past the linger."""
		udp = udp_datagram("10.0.0.9", "10.0.0.10", 50000, 50001, b"tick")
		self.add(ether(ipv4("10.0.0.9", "10.0.0.10", 17, udp), ETH_IPV4), dt_ms=TRAILER_S * 1000)

	def write(self, path, cut_last_to=None):
		"""Writes the file; cut_last_to keeps only that many bytes of the last record's data."""
		out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, self.linktype)]
		for i, (t, frame, wirelen) in enumerate(self.recs):
			out.append(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame), wirelen))
			if cut_last_to is not None and i == len(self.recs) - 1:
				frame = frame[:cut_last_to]
			out.append(frame)
		with open(path, "wb") as f:
			f.write(b"".join(out))

	def total_bytes(self):
		return sum(r[2] for r in self.recs)


class Conn:
	"""Both endpoints of one TCP connection; side 0 is the client, 1 the server.

	Tracks what each side sent (as a capture tool would count it) so the expectation's packet,
	IP-byte and payload counts follow from the packets actually written."""

	def __init__(self, cap, cli, srv, cport, sport, isn_c, isn_s, vlans=(), wrap=None):
		self.cap = cap
		self.wrap = wrap  # wrap(ip packet, side) -> frame: the connection runs inside a tunnel
		self.addr = (cli, srv)
		self.port = (cport, sport)
		self.vlans = tuple(vlans)
		self.v6 = ":" in cli
		self.nxt = [isn_c & 0xFFFFFFFF, isn_s & 0xFFFFFFFF]
		self.ident = [0x1000, 0x5000]
		self.pkts = [0, 0]
		self.ipb = [0, 0]
		self.pay = [0, 0]
		self.first_us = None
		self.last_us = None
		self.zeek_pkts = []  # (side, flags, seq, payload length) for the Zeek history letters
		self.bad = []  # (side, IP length, payload length) of segments sent with a wrong checksum

	def send(self, side, flags, data=b"", seq=None, ack=None, dt_ms=DATA_GAP_MS, win=65535,
	         opts=b"", exts=(), ttl=64, urp=0, bad=None):
		"""One segment; bad: "tcp" or "ip" gives it a wrong TCP or IPv4 header checksum, and
		then it is not accounted (the case says what it is)."""
		src, dst = self.addr[side], self.addr[1 - side]
		sp, dp = self.port[side], self.port[1 - side]
		if seq is None:
			seq = self.nxt[side]
		if ack is None:
			ack = self.nxt[1 - side] if flags & ACK else 0
		seg = tcp_segment(src, dst, sp, dp, seq, ack, flags, win, opts, data, urp=urp)
		if bad == "tcp":
			seg = seg[:16] + bytes([seg[16] ^ 0x5a]) + seg[17:]
		if self.v6:
			ip = ipv6(src, dst, 6, seg, exts, hlim=ttl)
			frame = ether(ip, ETH_IPV6, self.vlans, outgoing=(side == 0))
		else:
			ip = ipv4(src, dst, 6, seg, ident=self.ident[side], ttl=ttl)
			if bad == "ip":
				ip = ip[:10] + bytes([ip[10] ^ 0x5a]) + ip[11:]
			self.ident[side] += 1
			frame = ether(ip, ETH_IPV4, self.vlans, outgoing=(side == 0))
		if self.wrap:
			frame = self.wrap(ip, side)
		self.cap.add(frame, dt_ms)
		if bad:
			self.bad.append((side, len(ip), len(data)))
		else:
			self.account(side, flags, seq, len(ip), len(data))
		return seq

	def account(self, side, flags, seq, ip_len, data_len):
		"""Counts a segment of this connection just added to the capture (by send, or by a case
		that wrote the frame itself because it is deliberately odd)."""
		self.pkts[side] += 1
		self.ipb[side] += ip_len
		self.pay[side] += data_len
		if self.first_us is None:
			self.first_us = self.cap.t
		self.last_us = self.cap.t
		end = (seq + data_len + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)) & 0xFFFFFFFF
		if seq_after(end, self.nxt[side]):
			self.nxt[side] = end
		self.zeek_pkts.append((side, flags, seq, data_len))

	def with_bad(self):
		"""A copy of this connection's counts that includes its wrong-checksum segments (what a
		run that does not verify checksums tracks)."""
		c = copy.copy(self)
		c.pkts, c.ipb, c.pay = list(self.pkts), list(self.ipb), list(self.pay)
		for side, ip_len, data_len in self.bad:
			c.pkts[side] += 1
			c.ipb[side] += ip_len
			c.pay[side] += data_len
		return c

	def skip(self, side, n):
		"""Side sends n bytes the capture never sees (a gap)."""
		self.nxt[side] = (self.nxt[side] + n) & 0xFFFFFFFF

	def handshake(self, opts_c=OPT_MSS, opts_s=OPT_MSS):
		self.send(0, SYN, opts=opts_c)
		self.send(1, SYN | ACK, opts=opts_s, dt_ms=HS_RTT_MS / 2)
		self.send(0, ACK, dt_ms=HS_RTT_MS / 2)

	def close(self, first=0):
		"""FIN from `first`, its ACK, FIN from the other side, the last ACK."""
		self.send(first, FIN | ACK)
		self.send(1 - first, ACK)
		self.send(1 - first, FIN | ACK)
		self.send(first, ACK)


def zeek_history(conn):
	"""Zeek's history letters for a connection, following update_history() in Zeek's
	src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc: each letter once per endpoint (SYN,
	FIN, RST again only with a new sequence number), upper case for the originator. Only the
	flag letters: use it only for captures without retransmission, reordering, gaps or zero
	windows, where Zeek adds no T/G/W/C letters."""
	seen = [set(), set()]
	last = [{}, {}]
	out = []

	def add(side, c):
		out.append(c if side == 0 else c.lower())

	def check(side, key, c):
		if key in seen[side]:
			return True
		seen[side].add(key)
		add(side, c)
		return False

	for side, fl, seq, ln in conn.zeek_pkts:
		bits = bool(fl & SYN) + bool(fl & FIN) + bool(fl & RST)
		if bits > 1:
			check(side, "I" if (fl & FIN and fl & RST) else "Q", "I" if (fl & FIN and fl & RST) else "Q")
		elif bits == 1:
			if fl & SYN:
				code = "H" if fl & ACK else "S"
				if check(side, "syn", code) and seq != last[side].get("syn"):
					add(side, code)
				last[side]["syn"] = seq
			if fl & FIN:
				end = (seq + ln) & 0xFFFFFFFF
				if check(side, "fin", "F") and end != last[side].get("fin"):
					add(side, "F")
				last[side]["fin"] = end
			if fl & RST:
				if check(side, "rst", "R") and seq != last[side].get("rst"):
					add(side, "R")
				last[side]["rst"] = seq
		elif ln:
			check(side, "data", "D")
		elif fl & ACK:
			check(side, "ack", "A")
	return "".join(out)


# ---------------------------------------------------------------------------------------------
# Expectations


def eve_time(t_us):
	d = datetime.datetime.fromtimestamp(t_us // 1000000, tz=datetime.timezone.utc)
	return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06d+0000" % (t_us % 1000000)


def flow_key(conn, tunnel=None):
	"""run_case.py's key of a flow; tunnel: its EVE "tunnel" object."""
	k = "%s %d > %s %d" % (ipaddress.ip_address(conn.addr[0]).compressed, conn.port[0],
	                       ipaddress.ip_address(conn.addr[1]).compressed, conn.port[1])
	if conn.vlans:
		k += " vlan " + ",".join(str(v) for v in conn.vlans)
	if tunnel:
		k += " tunnel %s%s" % (tunnel["type"], " %d" % tunnel["id"] if "id" in tunnel else "")
	return k


STREAM_KEYS = ("payload", "delivered", "gap_bytes", "rexmit_pkts", "rexmit_bytes", "ooo_pkts",
               "overlaps", "overlap_diff", "outrun_bytes")


def expect_flow(conn, c2s, s2c, reason, client_state=None, server_state=None, midstream=False,
                toserver=None, toclient=None, conn_state=None, history=None, closed=None):
	"""The facts of one flow. c2s/s2c are the bytes --write-streams writes: the stream in order,
	bytes skipped as a gap written as zeros (as weir_flow_peek reads them), so delivered is their
	length less gap_bytes. toserver/toclient override the stream counters (None as a value: not
	asserted for this case, with the reason in the README). Zeek's orig_bytes/resp_bytes are
	sequence-space sizes (delivered + gap, the files' lengths), as Zeek counts them."""
	streams = {}
	for name, content, side, over in (("toserver", c2s, 0, toserver), ("toclient", s2c, 1, toclient)):
		st = {k: 0 for k in STREAM_KEYS}
		st["payload"] = conn.pay[side]
		st["delivered"] = len(content) - ((over or {}).get("gap_bytes") or 0)
		st.update(over or {})
		streams[name] = {k: v for k, v in st.items() if v is not None}
	fl = {
		"pkts_toserver": conn.pkts[0], "pkts_toclient": conn.pkts[1],
		"bytes_toserver": conn.ipb[0], "bytes_toclient": conn.ipb[1],
		"start": eve_time(conn.first_us), "end": eve_time(conn.last_us), "reason": reason,
	}
	if closed if closed is not None else reason in ("fin", "rst"):
		fl["state"] = "closed"
	tcp = {"midstream": midstream, "bypassed": False}
	if client_state:
		tcp["client_state"] = client_state
	if server_state:
		tcp["server_state"] = server_state
	gap = [streams["toserver"].get("gap_bytes", 0), streams["toclient"].get("gap_bytes", 0)]
	zeek = {
		"orig_pkts": conn.pkts[0], "orig_ip_bytes": conn.ipb[0],
		"resp_pkts": conn.pkts[1], "resp_ip_bytes": conn.ipb[1],
		"orig_bytes": len(c2s), "resp_bytes": len(s2c),
		"missed_bytes": gap[0] + gap[1],
		"duration": round((conn.last_us - conn.first_us) / 1e6, 6),
	}
	if conn_state:
		zeek["conn_state"] = conn_state
	if history:
		zeek["history"] = history
	out = {
		"src_ip": ipaddress.ip_address(conn.addr[0]).compressed, "src_port": conn.port[0],
		"dest_ip": ipaddress.ip_address(conn.addr[1]).compressed, "dest_port": conn.port[1],
		"proto": "TCP", "flow": fl, "tcp": tcp, "streams": streams, "zeek": zeek,
		"stream_bytes": {"c2s": c2s.decode("latin-1"), "s2c": s2c.decode("latin-1")},
	}
	if conn.vlans:
		out["vlan"] = list(conn.vlans)
	return out


def base_stats(caps, conns, tcp_pkts, other, closes, anomalies=None, malformed=None, orphans=0,
               midstream=0, handshakes=None, fragments=0):
	"""Run-level facts. anomalies/malformed/closes are exact: unlisted reasons must be 0."""
	created = len(conns)
	st = {
		"packets": sum(len(c.recs) for c in caps),
		"bytes": sum(c.total_bytes() for c in caps),
		"tcp_packets": tcp_pkts, "other_packets": other, "fragments": fragments,
		"orphans": orphans,
		"flows": {"created": created, "closed": created, "active": 0, "midstream": midstream,
		          "refused": 0, "evicted": 0},
		"events": {"conn_end": created, "orphan": orphans, "timeout": 0},
		"anomalies": anomalies or {}, "malformed": malformed or {}, "closes": closes,
	}
	if other is None:
		del st["other_packets"]
	if handshakes is not None:
		st["events"]["handshake_done"] = handshakes
	return st


def tcp_count(conns):
	return sum(c.pkts[0] + c.pkts[1] for c in conns)


# ---------------------------------------------------------------------------------------------
# The cases. Each returns (captures by file name, expect dict, README text).

C_IP, S_IP = "10.0.0.1", "10.0.0.2"


def case_simultaneous_open():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40000, 5001, 1000, 5000)
	c.send(0, SYN, opts=OPT_MSS)                       # both SYNs cross on the wire
	c.send(1, SYN, opts=OPT_MSS)
	c.send(0, SYN | ACK, seq=1000, opts=OPT_MSS, dt_ms=HS_RTT_MS / 2)  # each answers the other's SYN
	c.send(1, SYN | ACK, seq=5000, opts=OPT_MSS)
	c.send(0, PSH | ACK, b"hello from A\n", dt_ms=HS_RTT_MS / 2)
	c.send(1, PSH | ACK, b"hello from B, A\n")
	c.send(0, ACK)
	c.close(first=0)
	cap.trailer()
	f = expect_flow(c, b"hello from A\n", b"hello from B, A\n", "fin", "time_wait", "closed",
	                toserver={"rexmit_pkts": 1}, toclient={"rexmit_pkts": 1}, conn_state="SF")
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """Simultaneous open: both ends send a bare SYN, both answer with SYN+ACK (RFC 793 sec. 3.4 fig. 8), then data both ways and a FIN close started by A.

- One flow, client = A (the first SYN); B's SYN must not start a second flow or be taken for a server answer; one handshake_done.
- Each SYN+ACK re-sends its sender's SYN (same sequence number): one retransmission per direction, as Wireshark flags it: `tshark -r input.pcap -Y tcp.analysis.retransmission -T fields -e frame.number -e ip.src` (frames 3 and 4).
- Delivered bytes: `tshark -r input.pcap -q -z follow,tcp,raw,0`. Packets/IP bytes per direction: `tshark -r input.pcap -q -z conv,tcp`.
- Final states: A closed first (FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT), B went CLOSE_WAIT -> LAST_ACK -> CLOSED; Zeek calls it SF (both FINs seen). No Zeek history asserted: Zeek's letters for a simultaneous open are not modelled here.
"""
	return {"input.pcap": cap}, exp, readme


def overlap_conn():
	"""Client stream offsets: 0-4, then 8-16 ahead, 12-20 overlapping it with different bytes,
	16-24 overlapping with the same bytes, finally the filler 4-8."""
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40001, 80, 0x10000000, 0x20000000)
	c.handshake()
	base = c.nxt[0]
	c.send(0, PSH | ACK, b"0123", seq=base)
	c.send(0, PSH | ACK, b"ABCDEFGH", seq=base + 8)
	c.send(0, PSH | ACK, b"wxyzIJKL", seq=base + 12, dt_ms=50)
	c.send(0, PSH | ACK, b"IJKLMNOP", seq=base + 16, dt_ms=50)
	c.send(0, PSH | ACK, b"4567", seq=base + 4)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.send(1, PSH | ACK, b"200 got it\n")
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	cap.trailer()
	return cap, c


def case_overlap_diff():
	cap, c = overlap_conn()
	first = b"0123" + b"4567" + b"ABCDEFGH" + b"IJKL" + b"MNOP"
	last = b"0123" + b"4567" + b"ABCD" + b"wxyz" + b"IJKL" + b"MNOP"
	over = {"rexmit_pkts": 2, "rexmit_bytes": None, "ooo_pkts": 3, "overlaps": 2, "overlap_diff": 1}
	runs = []
	for name, args, data in (("default", [], first), ("first", ["--overlap", "first"], first),
	                         ("last", ["--overlap", "last"], last)):
		f = expect_flow(c, data, b"200 got it\n", "fin", "time_wait", "closed", toserver=over,
		                conn_state="SF")
		runs.append({"name": name, "args": args, "exit": 0,
		             "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1},
		                                 anomalies={"overlap_different": 1}, handshakes=1),
		             "flows": {flow_key(c): f}})
	exp = {"runs": runs, "oracle": {"notes": {
		"last:toserver.content": "--overlap last keeps the later copy; Wireshark always keeps the first"}}}
	readme = """Out-of-order segments that overlap with DIFFERENT bytes, under both overlap policies.

Client stream (offset: bytes, in capture order): 0:"0123", 8:"ABCDEFGH" (ahead: held), 12:"wxyzIJKL" 50 ms later (overlaps held 12-16 "EFGH" with "wxyz": different), 16:"IJKLMNOP" 50 ms later (overlaps held 16-20 "IJKL" with the same bytes), 4:"4567" 1 ms later (fills the hole; everything becomes in order).

- `--overlap first` (and the default): the first copy of 12-16 wins: "01234567ABCDEFGHIJKLMNOP". `--overlap last`: the later copy wins: "01234567ABCDwxyzIJKLMNOP". No tool models a selectable policy; this is the definition of the two policies (Suricata/Snort "first"/"last"). For "first", `tshark -r input.pcap -q -z follow,tcp,raw,0` gives the same bytes (Wireshark keeps the first copy), see check_oracles output.
- Counters toserver: ooo_pkts 3 (the three segments held ahead of the in-order point), overlaps 2 (both segments that hit held bytes), overlap_diff 1 (only the one with different bytes); anomalies: overlap_different 1 and nothing else (the differing bytes were never delivered, so this is not rexmit_different).
- rexmit_pkts 2: the two overlapping segments re-send sequence space already seen and arrive 50 ms (> the 10 ms handshake RTT) after the highest segment, so Wireshark flags them `tcp.analysis.retransmission`; the filler (4-8) was never seen before and comes 1 ms after the highest segment: Wireshark says out-of-order, not retransmission: `tshark -r input.pcap -Y "tcp.analysis.retransmission || tcp.analysis.out_of_order" -T fields -e frame.number -e tcp.analysis.retransmission -e tcp.analysis.out_of_order`. rexmit_bytes is not asserted: the overlapping segments are half new bytes, and whether rexmit_bytes counts the segment or only its re-sent part is not defined by the contract.
"""
	return {"input.pcap": cap}, exp, readme


def case_rexmit_different():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40002, 21, 0x30000000, 0x40000000)
	c.handshake()
	seq = c.send(0, PSH | ACK, b"USER alice\r\n")
	c.send(0, PSH | ACK, b"USER admin\r\n", seq=seq, dt_ms=REXMIT_MS)   # same bytes of sequence space, other content
	c.send(0, PSH | ACK, b"USER alice\r\n", seq=seq, dt_ms=REXMIT_MS)   # and again with the original content
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.send(1, PSH | ACK, b"331 ok\r\n")
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	cap.trailer()
	f = expect_flow(c, b"USER alice\r\n", b"331 ok\r\n", "fin", "time_wait", "closed",
	                toserver={"rexmit_pkts": 2, "rexmit_bytes": 24}, conn_state="SF")
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1},
	                                     anomalies={"rexmit_different": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """Retransmission with different content (an IDS evasion): "USER alice\\r\\n" is delivered, then the same 12 bytes of sequence space are re-sent 200 ms later as "USER admin\\r\\n", then again as "USER alice\\r\\n".

- Delivered toserver stays "USER alice\\r\\n" (bytes already delivered cannot change): `tshark -r input.pcap -q -z follow,tcp,raw,0` shows the same.
- rexmit_pkts 2, rexmit_bytes 24 (two full 12-byte copies): `tshark -r input.pcap -Y tcp.analysis.retransmission` flags frames 5 and 6. payload 36 counts all three copies; zeek.orig_bytes 12 is sequence space, as Zeek counts it.
- Anomaly rexmit_different 1: only the first retransmission differs from the delivered bytes; the second matches them.
- overlaps 0 / overlap_diff 0 (and no overlap_different anomaly): those counters count only segments overlapping bytes held out of order (weir.h struct weir_side_counters), and nothing is ever held here; a retransmission that differs from bytes already delivered is reported by rexmit_pkts and the rexmit_different anomaly instead.
"""
	return {"input.pcap": cap}, exp, readme


def case_rst_in_window():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40003, 80, 0x50000000, 0x60000000)
	c.handshake()
	c.send(0, PSH | ACK, b"GET / HTTP/1.0\r\n\r\n")
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.send(1, PSH | ACK, b"HTTP/1.0 200 OK\r\n\r\nhello")
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.send(0, RST | ACK)                                  # seq = exactly what the server expects next
	cap.trailer()
	f = expect_flow(c, b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\nhello", "rst", "closed", "closed",
	                conn_state="RSTO", history=zeek_history(c))
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"rst": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """RST inside the window: after a request/response the client sends RST+ACK with exactly the sequence number the server expects (RFC 793/5961: acceptable), so the flow ends with reason rst.

- Both sides end CLOSED; closes.rst 1; no anomaly. Zeek: conn_state RSTO (established, originator aborted), history "%s" (update_history() letters, see make_cases.py zeek_history).
- Packet/byte counts include the RST: `tshark -r input.pcap -q -z conv,tcp`; delivered bytes: `tshark -r input.pcap -q -z follow,tcp,raw,0`.
""" % zeek_history(c)
	return {"input.pcap": cap}, exp, readme


def case_rst_out_of_window():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40004, 80, 0x70000000, 0x08000000)
	c.handshake()
	c.send(0, PSH | ACK, b"GET /a HTTP/1.1\r\n\r\n")
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	# Server "RST" 200000 bytes beyond what the client expects: the client advertised an unscaled
	# 65535-byte window, so this is outside it and must be ignored.
	c.send(1, RST | ACK, seq=c.nxt[1] + 200000)
	c.nxt[1] = (c.nxt[1] - 200000) & 0xFFFFFFFF  # the bogus RST consumed nothing
	c.send(1, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\nfirst")
	c.send(0, PSH | ACK, b"GET /b HTTP/1.1\r\n\r\n", dt_ms=HS_RTT_MS / 2)
	# Client "RST" a million bytes behind what the server expects: also outside the window.
	c.send(0, RST | ACK, seq=c.nxt[0] - 1000000)
	c.send(1, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\nsecond", dt_ms=HS_RTT_MS / 2)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	cap.trailer()
	f = expect_flow(c, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
	                b"HTTP/1.1 200 OK\r\n\r\nfirstHTTP/1.1 200 OK\r\n\r\nsecond", "fin", "time_wait", "closed")
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1},
	                                     anomalies={"rst_out_of_window": 2}, handshakes=1),
	                 "flows": {flow_key(c): f}}],
	       "oracle": {"notes": {"*:toclient.rexmit_pkts":
	                            "Wireshark takes the ignored RST's sequence number as the server's highest, "
	                            "so the server's next data and FIN look like retransmissions"}}}
	readme = """RSTs outside the receiver's window are ignored: the server sends RST+ACK with a sequence number 200000 beyond the client's expected one (window 65535, unscaled), the client sends one 1000000 behind; both must be ignored (anomaly rst_out_of_window counted twice) and the connection goes on with more data both ways and a FIN close (reason fin, closes.fin 1, closes.rst 0).

- Packet/byte counts include both RST packets (they belong to the flow): `tshark -r input.pcap -q -z conv,tcp`. Delivered bytes (RSTs carry none): `tshark -r input.pcap -q -z follow,tcp,raw,0`.
- Neither Zeek conn_state nor history is asserted: Zeek does not check RST sequence numbers, so its view ("R" letters, RSTO) is not what an RST-validating monitor reports.
"""
	return {"input.pcap": cap}, exp, readme


def case_midstream():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40005, 6379, 3000000000, 123456789)
	c.send(0, PSH | ACK, b"PING 1\n")     # no handshake in the capture
	c.send(1, PSH | ACK, b"PONG 1\n")
	c.send(0, PSH | ACK, b"PING 2\n")
	c.send(1, PSH | ACK, b"PONG 2\n")
	c.close(first=0)
	cap.trailer()
	f = expect_flow(c, b"PING 1\nPING 2\n", b"PONG 1\nPONG 2\n", "fin", "time_wait", "closed",
	                midstream=True)
	n = tcp_count([c])
	pickup = base_stats([cap], [c], n, 1, {"fin": 1}, midstream=1)
	orphan = base_stats([cap], [], n, 1, {}, orphans=n)
	exp = {"runs": [
		{"name": "default", "args": [], "exit": 0, "stats": pickup, "flows": {flow_key(c): f}},
		{"name": "no-midstream", "args": ["--no-midstream"], "exit": 0, "stats": orphan, "flows": {}},
	], "oracle": {"notes": {"no-midstream:flows": "with --no-midstream weir keeps no flow without a handshake; "
	                                              "tshark has no such mode"}}}
	readme = """Mid-stream pickup: the capture starts with the client's data (no SYN, no SYN+ACK), then data both ways and a FIN close.

- Default options: one flow picked up mid-stream (tcp.midstream true, flows.midstream 1), the client is the sender of the first packet, both streams delivered in full (`tshark -r input.pcap -q -z follow,tcp,raw,0`), reason fin.
- `--no-midstream`: no flow at all; every one of the %d TCP packets is an orphan (stats orphans and events.orphan), no EVE flow line.
- handshake_done is not asserted for the picked-up flow: whether adopting a flow as ESTABLISHED raises it is not defined. Zeek's conn_state/history for partial connections are not asserted either.
""" % n
	return {"input.pcap": cap}, exp, readme


def case_ipv6_ext():
	cap = Capture()
	a, b = "2001:db8::1", "2001:db8::2"
	c = Conn(cap, a, b, 40006, 443, 0x11111111, 0x22222222)
	hop, dst, ah = ext_hop_by_hop(), ext_dest_opts(), ext_ah()
	srh = ext_srh(a)
	c.send(0, SYN, opts=OPT_MSS, exts=[hop])
	c.send(1, SYN | ACK, opts=OPT_MSS, dt_ms=HS_RTT_MS / 2)
	c.send(0, ACK, exts=[dst], dt_ms=HS_RTT_MS / 2)
	c.send(0, PSH | ACK, b"client hello over v6", exts=[hop, dst])
	c.send(1, ACK, exts=[srh])
	c.send(1, PSH | ACK, b"server hello over v6!", exts=[hop, srh, dst])
	c.send(0, PSH | ACK, b"authenticated", exts=[ah])
	c.send(1, ACK)
	c.send(0, FIN | ACK, exts=[hop, dst, ah])
	c.send(1, ACK)
	c.send(1, FIN | ACK, exts=[dst])
	c.send(0, ACK)
	cap.trailer()
	f = expect_flow(c, b"client hello over v6authenticated", b"server hello over v6!", "fin",
	                "time_wait", "closed", conn_state="SF", history=zeek_history(c))
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """IPv6 with extension headers before TCP: hop-by-hop options, destination options, a segment routing header (type 4, segments left 0) and AH, alone and chained (up to hop-by-hop + AH + destination options on one FIN), on a full connection.

- The parser must walk every chain to TCP: packet counts, IP bytes (IPv6 payload length + 40, extension headers included) and payload per direction as `tshark -r input.pcap -T fields -e ipv6.plen -e tcp.len` and `-q -z conv,tcp` show; delivered bytes as `tshark -r input.pcap -q -z follow,tcp,raw,0`.
- Addresses are compared as IPv6 addresses (any textual form). Zeek conn_state SF, history "%s".
""" % zeek_history(c)
	return {"input.pcap": cap}, exp, readme


def case_vlan():
	cap = Capture()
	conns = []
	for vl in ((100,), (200,), (10, 20), (11, 20)):
		conns.append(Conn(cap, C_IP, S_IP, 40007, 80, 0x01010101, 0x02020202, vlans=vl))
	# Same addresses, ports and sequence numbers and the same lengths on every VLAN, only the
	# content differs: flows merged by mistake would show up as retransmissions with different bytes.
	msgs = {c.vlans: ("request on %-8s" % ",".join(map(str, c.vlans))).encode() for c in conns}
	resp = {c.vlans: ("response on %-8s!" % ",".join(map(str, c.vlans))).encode() for c in conns}
	steps = [lambda c: c.send(0, SYN, opts=OPT_MSS), lambda c: c.send(1, SYN | ACK, opts=OPT_MSS),
	         lambda c: c.send(0, ACK), lambda c: c.send(0, PSH | ACK, msgs[c.vlans]),
	         lambda c: c.send(1, ACK), lambda c: c.send(1, PSH | ACK, resp[c.vlans]),
	         lambda c: c.send(0, ACK), lambda c: c.send(0, FIN | ACK), lambda c: c.send(1, ACK),
	         lambda c: c.send(1, FIN | ACK), lambda c: c.send(0, ACK)]
	for step in steps:
		for c in conns:
			step(c)
	cap.trailer()
	flows = {}
	for c in conns:
		flows[flow_key(c)] = expect_flow(c, msgs[c.vlans], resp[c.vlans], "fin", "time_wait", "closed",
		                                 conn_state="SF", history=zeek_history(c))
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], conns, tcp_count(conns), 1, {"fin": 4}, handshakes=4),
	                 "flows": flows}]}
	readme = """VLAN-aware flow keys: four connections with the same addresses, ports, sequence numbers and lengths, interleaved packet by packet, on 802.1Q VLAN 100, 802.1Q VLAN 200, QinQ 802.1ad 10 / 802.1Q 20 and QinQ 11 / 20 (the last two differ only by the outer id). Four flows, each with its own bytes, "vlan" listing the ids outermost first; no retransmission or anomaly (a merge would produce both).

- Wireshark 4.0 does not separate conversations by VLAN, so the oracle splits the capture first: check_oracles runs `tshark -r input.pcap -Y "frame.number in {...}" -w part.pcap` with the frames of one VLAN stack (from `-T fields -e vlan.id`), then `tshark -r part.pcap -q -z follow,tcp,raw,0` and the per-direction counts on each part.
- Zeek conn_state SF and history "%s" for each.
""" % zeek_history(conns[0])
	return {"input.pcap": cap}, exp, readme


# Outer endpoints of the tunnels (VTEPs, GRE ends, GSNs).
T_A, T_B = "192.0.2.1", "192.0.2.2"
PROTO_GRE, PROTO_UDP = 47, 17
PORT_VXLAN, PORT_GTPU = 4789, 2152


def in_vxlan(vni):
	"""Wraps an inner IPv4 packet in Ethernet/IPv4/UDP/VXLAN(vni)/Ethernet, each side from its VTEP."""
	def wrap(ip, side):
		src, dst = (T_A, T_B) if side == 0 else (T_B, T_A)
		inner = ether(ip, ETH_IPV4, outgoing=(side == 0), pad=False)
		vx = struct.pack("!II", 0x08000000, vni << 8) + inner
		# The source port is the VTEP's hash of the inner flow (RFC 7348 5): one per direction here.
		udp = udp_datagram(src, dst, 49152 + side, PORT_VXLAN, vx)
		return ether(ipv4(src, dst, PROTO_UDP, udp), ETH_IPV4, outgoing=(side == 0))
	return wrap


def in_gre(key):
	"""Wraps an inner IPv4 packet in Ethernet/IPv4/GRE with key (RFC 2890), the same both ways."""
	def wrap(ip, side):
		src, dst = (T_A, T_B) if side == 0 else (T_B, T_A)
		gre = struct.pack("!HHI", 0x2000, ETH_IPV4, key) + ip
		return ether(ipv4(src, dst, PROTO_GRE, gre), ETH_IPV4, outgoing=(side == 0))
	return wrap


def in_gtpu(teid_up, teid_down):
	"""Wraps an inner IPv4 packet in Ethernet/IPv4/UDP/GTP-U G-PDU: uplink (client to server)
	carries the receiving GSN's TEID teid_up, downlink teid_down."""
	def wrap(ip, side):
		src, dst = (T_A, T_B) if side == 0 else (T_B, T_A)
		gtp = struct.pack("!BBHI", 0x30, 0xFF, len(ip), teid_up if side == 0 else teid_down) + ip
		udp = udp_datagram(src, dst, PORT_GTPU, PORT_GTPU, gtp)
		return ether(ipv4(src, dst, PROTO_UDP, udp), ETH_IPV4, outgoing=(side == 0))
	return wrap


def case_tunnels():
	cap = Capture()
	# One inner connection (addresses, ports, sequence numbers, lengths) five times: plain, in
	# VXLAN segments 100 and 200, and under GRE keys 7 and 8; and another in GTP-U, whose TEIDs
	# differ by direction.
	# The outermost header as the client sent it (the EVE "tunnel" object's addresses).
	vx = {"src_ip": T_A, "dest_ip": T_B, "src_port": 49152, "dest_port": PORT_VXLAN, "proto": "UDP"}
	gre = {"src_ip": T_A, "dest_ip": T_B, "proto": "GRE"}
	tunnels = [
		(None, None),
		(in_vxlan(100), dict(vx, type="vxlan", depth=1, id=100)),
		(in_vxlan(200), dict(vx, type="vxlan", depth=1, id=200)),
		(in_gre(7), dict(gre, type="gre", depth=1, id=7)),
		(in_gre(8), dict(gre, type="gre", depth=1, id=8)),
	]
	conns = [Conn(cap, C_IP, S_IP, 40030, 80, 0x03030303, 0x04040404, wrap=w) for w, _ in tunnels]
	gtp = Conn(cap, C_IP, S_IP, 40031, 80, 0x05050505, 0x06060606, wrap=in_gtpu(0x1111, 0x2222))
	tun_of = {id(c): t for c, (_, t) in zip(conns, tunnels)}
	tun_of[id(gtp)] = {"type": "gtpu", "depth": 1, "src_ip": T_A, "dest_ip": T_B,
	                   "src_port": PORT_GTPU, "dest_port": PORT_GTPU, "proto": "UDP"}
	names = {id(c): (t["type"] + str(t["id"])) if t else "plain" for c, (_, t) in zip(conns, tunnels)}
	names[id(gtp)] = "gtpu"
	msgs = {k: ("request in %-8s" % v).encode() for k, v in names.items()}
	resp = {k: ("response in %-8s!" % v).encode() for k, v in names.items()}
	everyone = conns + [gtp]
	steps = [lambda c: c.send(0, SYN, opts=OPT_MSS), lambda c: c.send(1, SYN | ACK, opts=OPT_MSS),
	         lambda c: c.send(0, ACK), lambda c: c.send(0, PSH | ACK, msgs[id(c)]),
	         lambda c: c.send(1, ACK), lambda c: c.send(1, PSH | ACK, resp[id(c)]),
	         lambda c: c.send(0, ACK), lambda c: c.send(0, FIN | ACK), lambda c: c.send(1, ACK),
	         lambda c: c.send(1, FIN | ACK), lambda c: c.send(0, ACK)]
	for step in steps:
		for c in everyone:
			step(c)
	cap.trailer()
	flows = {}
	for c in everyone:
		t = tun_of[id(c)]
		f = expect_flow(c, msgs[id(c)], resp[id(c)], "fin", "time_wait", "closed", conn_state="SF",
		                history=zeek_history(c))
		if t:
			f["tunnel"] = t
		flows[flow_key(c, t)] = f
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], everyone, tcp_count(everyone), 1, {"fin": 6},
	                                     handshakes=6),
	                 "flows": flows}]}
	readme = """Tunneled flows: one inner connection (the same addresses, ports, sequence numbers and lengths; only the content differs) plain, in VXLAN segments 100 and 200 (UDP 4789, each VTEP's source port its own) and in GRE with keys 7 and 8 (the same key both ways), interleaved packet by packet; and a second connection in GTP-U whose TEIDs differ by direction (0x1111 uplink, 0x2222 downlink). Six flows: the VNI and the GRE key are part of a flow's identity, so the five copies stay apart (a merge would show retransmissions with different bytes), and the GTP-U connection is one flow although each direction carries its own TEID. Each record names its encapsulation ("tunnel": type, depth, the id for VXLAN and GRE, and the outermost header as the client sent it: addresses, UDP ports, protocol); `bytes_*` count the inner IP packets.

- Oracle: `tshark -r input.pcap -q -z conv,tcp` shows the inner conversations, keyed by the inner addresses and ports only (the five copies are one conversation of 55 frames, the GTP-U one 11). check_oracles therefore splits the capture by inner addresses, ports and `vxlan.vni` / `gre.key` (the innermost `ip.*` values of each frame), then compares each part's packets, inner IP bytes (`ip.len`), payload, times and `follow,tcp,raw` bytes with the flow's.
- Zeek conn_state SF and history "%s" for each.
""" % zeek_history(conns[0])
	return {"input.pcap": cap}, exp, readme


def case_out_of_order():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40008, 80, 0x0A000000, 0x0B000000)
	c.handshake()
	base = c.nxt[0]
	blk = [bytes([0x41 + i]) * 100 for i in range(4)]      # "AAA..", "BBB..", "CCC..", "DDD.."
	for i in (0, 2, 1, 3):                                  # C arrives before B
		c.send(0, ACK, blk[i], seq=base + 100 * i)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	sb = c.nxt[1]
	rb = [bytes([0x61 + i]) * 60 for i in range(3)]         # "aaa..", "bbb..", "ccc.."
	for i in (2, 0, 1):                                     # the last segment first
		c.send(1, ACK, rb[i], seq=sb + 60 * i)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=1)
	cap.trailer()
	f = expect_flow(c, b"".join(blk), b"".join(rb), "fin", "closed", "time_wait",
	                toserver={"ooo_pkts": 1}, toclient={"ooo_pkts": 1}, conn_state="SF")
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """Out-of-order delivery in both directions, 1 ms apart (under the 10 ms handshake RTT): the client's 4 x 100-byte segments arrive A, C, B, D; the server's 3 x 60-byte segments arrive c, a, b. The server closes first.

- Delivered bytes in stream order: `tshark -r input.pcap -q -z follow,tcp,raw,0`.
- ooo_pkts 1 per direction: one segment (C, c) arrived ahead of the in-order point; the others were in order when they arrived.
- rexmit_pkts 0 both ways: the late segments re-send nothing that was seen before; Wireshark marks them out-of-order and none as retransmission: `tshark -r input.pcap -Y "tcp.analysis.out_of_order || tcp.analysis.retransmission" -T fields -e frame.number -e tcp.analysis.out_of_order -e tcp.analysis.retransmission`.
- Final states: the server closed first (TIME_WAIT), the client is CLOSED. Zeek conn_state SF; history not asserted (Zeek counts the late segments as retransmissions, 't'/'T').
"""
	return {"input.pcap": cap}, exp, readme


def case_gap():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40009, 80, 0x0C000000, 0x0D000000)
	c.handshake()
	c.send(0, PSH | ACK, b"x" * 100)              # offsets 0-100
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.skip(0, 100)                                # 100-200: sent, never captured
	c.send(0, PSH | ACK, b"z" * 100)              # 200-300
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)           # acks 300: the box never saw 100-200
	c.send(1, PSH | ACK, b"r" * 50)               # server offsets 0-50
	c.skip(1, 30)                                 # 50-80: sent, never captured
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)           # acks 80
	c.close(first=1)
	cap.trailer()
	# The stream files hold the skipped bytes as zeros (weir_flow_peek reads a gap that way, as
	# tcpflow writes one), so each file is as long as the side's sequence space.
	f = expect_flow(c, b"x" * 100 + b"\0" * 100 + b"z" * 100, b"r" * 50 + b"\0" * 30, "fin", "closed",
	                "time_wait", toserver={"gap_bytes": 100, "ooo_pkts": 1}, toclient={"gap_bytes": 30},
	                conn_state="SF")
	end_hole = "a hole at the end of a stream has no bytes after it, so follow prints no marker"
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1},
	                                     anomalies={"ack_unseen_data": 2}, handshakes=1),
	                 "flows": {flow_key(c): f}}],
	       "oracle": {"notes": {"*:toclient.gap_bytes": end_hole + " (gap_seen shows tshark found it)",
	                            "*:toclient.content": end_hole + ": tshark's bytes lack the 30 zeros weir "
	                                                  "writes for it"}}}
	readme = """Gaps: bytes that were sent and acknowledged but never captured. Client offsets 100-200 are missing between two captured segments (the server then acks 300); the server's offsets 50-80 are missing at the end of its data (the client acks 80, then the server's FIN comes at offset 80).

- toserver: delivered 200, gap_bytes 100, ooo_pkts 1 (offsets 200-300 arrive ahead of the in-order point and are held until the ACK of 300 reveals the hole); toclient: delivered 50, gap_bytes 30; zeek.missed_bytes 130 and orig_bytes 300 / resp_bytes 80 (sequence space, Zeek's meaning).
- Stream files (`--write-streams`) hold the gap bytes as zeros, as `weir_flow_peek` reads them (and as tcpflow writes a hole), so each file's size is delivered + gap_bytes: c2s is 100 "x", 100 NUL, 100 "z" (300 bytes); s2c is 50 "r" then 30 NUL (80 bytes: the hole at the end is written too, since the ACK of 80 and the FIN at offset 80 move the in-order point past it).
- Anomaly ack_unseen_data 2: one per acknowledgement of bytes never seen (the ACK of 300 and the ACK of 80).
- Wireshark sees the same two holes: `tshark -r input.pcap -Y "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment" -T fields -e frame.number -e tcp.analysis.lost_segment -e tcp.analysis.ack_lost_segment` (previous segment not captured before client frame 6 and before the server's FIN; ACKed unseen segment at frames 7 and 9). `tshark -q -z follow,tcp,raw,0` prints the captured bytes on either side of the client's hole with a "[100 bytes missing in capture file]" marker in it, which check_oracles reads as 100 zeros; the server's hole at the end of its data gets no marker, so tshark's s2c is 50 bytes where the file has 80 (an explained difference).
- The server closed first: server TIME_WAIT, client CLOSED; Zeek conn_state SF, history not asserted (gaps add 'G' letters not modelled here).
"""
	return {"input.pcap": cap}, exp, readme


def case_seq_wrap():
	cap = Capture()
	# ISNs just below 2^32: client offset 255 and server offset 63 are at sequence number 0.
	c = Conn(cap, C_IP, S_IP, 40010, 80, 0xFFFFFF00, 0xFFFFFFC0)
	ws_ts = OPT_MSS + b"\x01\x03\x03\x07" + b"\x04\x02\x08\x0a\x00\x00\x10\x00\x00\x00\x00\x00"
	c.send(0, SYN, opts=ws_ts)
	c.send(1, SYN | ACK, opts=ws_ts, dt_ms=HS_RTT_MS / 2)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2, win=1024)
	base = c.nxt[0]
	blk = [bytes([0x30 + i]) * 200 for i in range(3)]
	for i in (0, 2, 1):                    # 400-600 before 200-400, which straddles the wrap
		c.send(0, PSH | ACK, blk[i], seq=base + 200 * i, win=1024)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2, win=1024)
	r = [b"R" * 100, b"S" * 100]
	c.send(1, PSH | ACK, r[0], win=1024)   # 0-100 straddles the wrap at offset 63
	c.send(1, PSH | ACK, r[1], win=1024)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2, win=1024)
	c.send(0, FIN | ACK, win=1024)
	c.send(1, ACK, win=1024)
	c.send(1, FIN | ACK, win=1024)
	c.send(0, ACK, win=1024)
	cap.trailer()
	f = expect_flow(c, b"".join(blk), b"".join(r), "fin", "time_wait", "closed",
	                toserver={"ooo_pkts": 1}, conn_state="SF")
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """Sequence-number wrap-around: client ISN 0xFFFFFF00 and server ISN 0xFFFFFFC0, so both streams cross 2^32 (client at offset 255, server at offset 63); the client's segment that straddles the wrap arrives after the one beyond it (out of order across the wrap), and the FINs and last ACKs have small sequence numbers. SYNs carry window scale (7) and timestamps.

- Delivered 600 / 200 bytes in order: `tshark -r input.pcap -q -z follow,tcp,raw,0`. ooo_pkts 1 toserver; no retransmission: `tshark -r input.pcap -Y tcp.analysis.retransmission` is empty.
- Zeek conn_state SF; history not asserted (the reordered segment gives Zeek a 'T').
"""
	return {"input.pcap": cap}, exp, readme


def case_syn_retx():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40011, 25, 0x0E000000, 0x0F000000)
	syn = c.send(0, SYN, opts=OPT_MSS)
	c.send(0, SYN, seq=syn, opts=OPT_MSS, dt_ms=1000)     # RTO 1 s, then doubled
	c.send(0, SYN, seq=syn, opts=OPT_MSS, dt_ms=2000)
	c.send(1, SYN | ACK, opts=OPT_MSS, dt_ms=HS_RTT_MS / 2)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.send(1, PSH | ACK, b"220 mail ready\r\n")
	c.send(0, PSH | ACK, b"QUIT\r\n")
	c.send(1, PSH | ACK, b"221 bye\r\n")
	c.close(first=1)
	cap.trailer()
	f = expect_flow(c, b"QUIT\r\n", b"220 mail ready\r\n221 bye\r\n", "fin", "closed", "time_wait",
	                toserver={"rexmit_pkts": 2, "rexmit_bytes": 0}, conn_state="SF",
	                history=zeek_history(c))
	exp = {"syn_retx": 2,
	       "runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """SYN retransmission: the client's SYN is sent three times (same ISN, 1 s then 2 s apart) before the SYN+ACK; then a short exchange and a FIN close started by the server.

- rexmit_pkts toserver 2 (rexmit_bytes 0: SYNs carry no payload): `tshark -r input.pcap -Y "tcp.analysis.retransmission && tcp.flags.syn==1 && tcp.flags.ack==0"` flags frames 2 and 3. The `syn_retx` example (REXMIT UDE filtered on SYN and not ACK) must print `syn_retx=2`.
- One flow, one handshake. Zeek conn_state SF, history "%s" (a SYN repeated with the same sequence number adds no letter, and Zeek adds 'T' only for payload).
""" % zeek_history(c)
	return {"input.pcap": cap}, exp, readme


def case_rexmit_after_syn_retx():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40012, 80, 0x10000000, 0x11000000)
	syn = c.send(0, SYN, opts=OPT_MSS)
	c.send(1, SYN | ACK, opts=OPT_MSS, dt_ms=0.027)        # lost before the client: it sends its SYN again
	c.send(0, SYN, seq=syn, opts=OPT_MSS, dt_ms=1000)     # RTO 1 s
	c.send(1, SYN | ACK, seq=c.nxt[1] - 1, opts=OPT_MSS, dt_ms=0.014)
	c.send(0, ACK, dt_ms=0.068)                           # handshake RTT 82 us (from the latest SYN)
	c.send(0, PSH | ACK, b"GET / HTTP/1.1\r\n\r\n", dt_ms=0.1)
	blk = [bytes([0x61 + i]) * 100 for i in range(3)]     # "aaa..", "bbb..", "ccc.."
	a = c.send(1, ACK, blk[0], dt_ms=0.5)
	c.send(1, ACK, blk[1], dt_ms=0.001)
	c.send(1, ACK, blk[2], dt_ms=0.001)
	c.send(0, ACK, ack=a, dt_ms=0.061)                    # the client asks for "aaa.." again
	c.send(1, ACK, blk[0], seq=a, dt_ms=0.062)            # re-sent 123 us after the highest segment
	c.send(0, ACK, dt_ms=0.02)
	c.close(first=1)
	cap.trailer()
	f = expect_flow(c, b"GET / HTTP/1.1\r\n\r\n", b"".join(blk), "fin", "closed", "time_wait",
	                toserver={"rexmit_pkts": 1, "rexmit_bytes": 0},
	                toclient={"rexmit_pkts": 2, "rexmit_bytes": 100}, conn_state="SF")
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """A resend measured against the handshake RTT of the *latest* SYN (cut down from a realcap_loss capture that failed 1 run in 16). The client's SYN is answered, the SYN+ACK is lost before the client (the capture still sees it), and the client sends its SYN again 1 s later; the handshake then takes 82 us from that SYN. The server sends three 100-byte segments 1 us apart, the client's ACK names the first one's sequence number (weir takes no account of its being a duplicate ACK: it is only the first), and the server re-sends the first segment 123 us after the highest one.

- rexmit_pkts toclient 2 (the repeated SYN+ACK and the re-sent "aaa.." segment, rexmit_bytes 100) and toserver 1 (the repeated SYN): `tshark -r input.pcap -Y tcp.analysis.retransmission` flags frames 3, 4 and 11. Wireshark's initial RTT is from the most recent SYN to the first ACK (`tcp.analysis.initial_rtt` 0.000082000), so a resend 123 us after the highest segment is past it and a retransmission, not out-of-order. Measured from the first SYN (1 s), it would read as reordering.
- One flow, one handshake; the server closes first. Zeek conn_state SF; history not asserted (Zeek adds 'T' for the re-sent segment).
"""
	return {"input.pcap": cap}, exp, readme


def case_half_close():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40012, 80, 0x12000000, 0x13000000)
	c.handshake()
	c.send(0, PSH | ACK, b"GET /big HTTP/1.0\r\n\r\n")
	c.send(0, FIN | ACK)                                   # the client is done sending
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	body = [b"HTTP/1.0 200 OK\r\n\r\n", b"b" * 500, b"c" * 500]
	for part in body:
		c.send(1, PSH | ACK, part)                     # and still receives
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.send(1, FIN | ACK, dt_ms=50)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	cap.trailer()
	f = expect_flow(c, b"GET /big HTTP/1.0\r\n\r\n", b"".join(body), "fin", "time_wait", "closed",
	                conn_state="SF", history=zeek_history(c))
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1},
	                                     handshakes=1),
	                 "flows": {flow_key(c): f}}]}
	readme = """Half close: the client sends its request and a FIN, the server acks the FIN and then sends 1019 more bytes in three segments (client in FIN_WAIT_2, server in CLOSE_WAIT), then closes its side 50 ms later.

- Data after the client's FIN from the *server* is legitimate: all of it is delivered (`tshark -r input.pcap -q -z follow,tcp,raw,0`), no data_after_fin anomaly, no anomaly at all; reason fin; final states client TIME_WAIT, server CLOSED.
- Zeek conn_state SF, history "%s".
""" % zeek_history(c)
	return {"input.pcap": cap}, exp, readme


def case_malformed():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40013, 80, 0x14000000, 0x15000000)
	bad = {}
	bad_frames = []   # frame numbers weir counts as malformed
	skip_frames = []  # of those, the ones that are no part of the connection (the oracle skips them)

	def junk(reason, frame, wirelen=None, tracked=False):
		cap.add(frame, wirelen=wirelen)
		bad[reason] = bad.get(reason, 0) + 1
		bad_frames.append(len(cap.recs))
		if not tracked:
			skip_frames.append(len(cap.recs))

	def tcp4(seq, flags, payload=b"", opts=b"", doff=None):
		return tcp_segment(C_IP, S_IP, 40013, 80, seq, c.nxt[1], flags, 65535, opts, payload, doff)

	c.handshake()
	nxt = c.nxt[0]
	junk("trunc_l2", b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00")                       # 10 bytes
	junk("trunc_ip", ether(ipv4(C_IP, S_IP, 6, b"")[:12], ETH_IPV4, pad=False))          # 12 of 20 IP bytes
	full = ether(ipv4(C_IP, S_IP, 6, tcp4(nxt, ACK | PSH, b"EVIL")), ETH_IPV4)
	junk("trunc_ip", full[:30], wirelen=len(full))                                         # snaplen cut inside IP
	junk("bad_ip_version", ether(ipv4(C_IP, S_IP, 6, tcp4(nxt, ACK, b"EVIL"), version=5), ETH_IPV4))
	junk("bad_ip_hlen", ether(ipv4(C_IP, S_IP, 6, tcp4(nxt, ACK, b"EVIL"), ihl=4), ETH_IPV4))
	junk("bad_ip_len", ether(ipv4(C_IP, S_IP, 6, tcp4(nxt, ACK, b"EVIL"), total=16), ETH_IPV4))
	# IPv6 says 4 bytes of payload and starts a hop-by-hop header, which needs at least 8.
	v6 = ipv6("2001:db8::1", "2001:db8::2", EXT_HOP, b"", plen=4) + b"\x06\x00\x01\x00"
	junk("trunc_ipv6_ext", ether(v6, ETH_IPV6, pad=False))
	junk("trunc_tcp", ether(ipv4(C_IP, S_IP, 6, tcp4(nxt, ACK)[:12]), ETH_IPV4))
	junk("bad_tcp_hlen", ether(ipv4(C_IP, S_IP, 6, tcp4(nxt, ACK | PSH, b"EVIL", doff=4)), ETH_IPV4))
	# A window-scale option claiming 8 bytes where 4 bytes of options are left. Counted as
	# malformed, yet tracked with the options before the bad one (none), as Linux does: its
	# "EVIL" becomes the client's stream offsets 0-4, so it is counted in the connection too.
	evil = ipv4(C_IP, S_IP, 6, tcp4(nxt, ACK | PSH, b"EVIL", opts=b"\x03\x08\x07\x00"))
	junk("bad_tcp_opt", ether(evil, ETH_IPV4), tracked=True)
	c.account(0, ACK | PSH, nxt, len(evil), len(b"EVIL"))
	# The good copy re-sends offsets 0-4 with other bytes ("GOOD" under the delivered "EVIL").
	c.send(0, PSH | ACK, b"GOOD request\n", seq=nxt)
	# Counted but not malformed: a non-first IPv4 fragment (of a UDP datagram) and an ARP request.
	frag = ipv4("10.0.0.7", "10.0.0.8", 17, b"f" * 16, ident=0x4242, frag=0x0002)   # offset 16 bytes
	cap.add(ether(frag, ETH_IPV4))
	arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\0\0\0\0\x01", ip_bytes(C_IP),
	                  b"\0" * 6, ip_bytes(S_IP))
	cap.add(ether(arp, ETH_ARP, outgoing=True))
	c.send(1, PSH | ACK, b"GOOD response\n", dt_ms=HS_RTT_MS / 2)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	cap.trailer()
	odd = Capture(linktype=DLT_USER0, t_us=cap.t)
	odd.add(b"\x00\x01\x02\x03" * 10, dt_ms=1000)
	odd.add(b"\x04\x05\x06\x07" * 10)
	bad["unknown_linktype"] = 2
	f = expect_flow(c, b"EVIL request\n", b"GOOD response\n", "fin", "time_wait", "closed",
	                conn_state="SF", history=zeek_history(c))
	st = base_stats([cap, odd], [c], tcp_count([c]), None, {"fin": 1}, malformed=bad, handshakes=1,
	                fragments=1, anomalies={"rexmit_different": 1})
	st["files"] = [{"name": "input.pcap", "packets": len(cap.recs), "error": None},
	               {"name": "input-dlt147.pcap", "packets": len(odd.recs), "error": None}]
	exp = {"inputs": ["input.pcap", "input-dlt147.pcap"],
	       "runs": [{"name": "default", "args": [], "exit": 0, "stats": st, "flows": {flow_key(c): f}}],
	       "oracle": {"exclude_frames": skip_frames, "malformed_frames": bad_frames, "notes": {
	           "*:malformed": "tshark shows the snaplen-cut frame as 'packet size limited during capture' and "
	                          "only warns about the overlong TCP option (it decodes that segment as TCP)"}}}
	lines = "\n".join("  - %s: %d" % kv for kv in sorted(bad.items()))
	opt = bad_frames[-1]
	hlen = bad_frames[-2]
	readme = """Malformed and truncated frames, counted by reason (never a crash), interleaved with one good connection. Most bad frames carry the flow's addresses and the client's next sequence number with the payload "EVIL". All but one are not processed further: had any of them reached the TCP layer it would show up in the flow's packet counts or stream. The exception is the segment with a bad TCP option (frame %(opt)d): it is counted as bad_tcp_opt and still tracked with the options before the bad one, as Linux does (engine/parse/parse.h; weir.h enum weir_malformed). A second file (link type 147, DLT_USER0) holds 2 frames weir cannot decode. Also a non-first IPv4 fragment (stats fragments 1) and an ARP request, which are not malformed.

- malformed (exact; every other reason 0):
%(lines)s
- Frame %(opt)d is the client's first data: sequence number ISN+1, a 4-byte option block holding a window-scale option that claims 8 bytes (it runs past the header, and no option comes before it, so none is kept), payload "EVIL": client stream offsets 0-4. Frame %(good)d, 1 ms later, is "GOOD request\\n" at the same sequence number: offsets 0-4 again with other bytes, then 9 new ones. Delivered bytes cannot change, so c2s is "EVIL request\\n" (delivered 13; s2c "GOOD response\\n"), and the re-sent bytes that differ raise anomaly rexmit_different 1, the only anomaly.
- Counts, from the frames: the connection's %(plain)d ordinary packets (client SYN, ACK, request, ACK, FIN, ACK; server SYN+ACK, response, ACK, FIN) plus frame %(opt)d: pkts_toserver %(pkts)d, bytes_toserver %(ipb_plain)d + %(evil_ip)d = %(ipb)d (frame %(opt)d's IP datagram: 20 IP + 20 TCP + 4 option + 4 payload bytes), toserver payload 13 + 4 = %(pay)d, stats tcp_packets %(tcp)d (the other bad frames never count as TCP packets). Zeek orig_pkts %(pkts)d, orig_ip_bytes %(ipb)d, orig_bytes 13 (sequence space).
- rexmit_pkts 0: frame %(good)d comes within the first RTT (1 ms < 10 ms) of frame %(opt)d, which advanced the client's sequence, and does not end where frame %(opt)d ended, so by Wireshark's rule it is out of order, not a retransmission (rexmit_different is about the bytes, whatever that classification). `tshark -r input.pcap -Y "tcp.analysis.retransmission || tcp.analysis.out_of_order" -T fields -e frame.number -e tcp.analysis.retransmission -e tcp.analysis.out_of_order` marks no retransmission; it marks frame %(good)d out-of-order (and frame %(opt)d too, after the bad-header-length segment of frame %(hlen)d, which tshark also decodes; on the oracle's split below only the request is marked). ooo_pkts 0 (frame %(good)d starts below the in-order point, not ahead of it), overlaps 0 (nothing is held out of order).
- Oracle: tshark decodes frame %(opt)d as TCP (it only warns about the option), so check_oracles keeps that frame in the flow and skips the other bad ones (`oracle.exclude_frames`; `oracle.malformed_frames` lists all %(nbad)d for the malformed count): on that split `tshark -q -z follow,tcp,raw,0` gives "EVIL request\\n" (Wireshark keeps the first copy of re-sent bytes) and the packet, IP-byte and payload counts above.
- Zeek conn_state SF, history "%(hist)s": frame %(opt)d gives the client's 'D'; frame %(good)d adds no 'T' because it extends the client's highest sequence number (Zeek's update_last_seq() calls DidRxmit() only for a segment that does not).
- stats.packets/bytes count every frame of both files; other_packets is not asserted (whether a fragment or ARP frame counts there is not defined); files lists both inputs with no error.
""" % {"opt": opt, "good": opt + 1, "lines": lines, "plain": tcp_count([c]) - 1, "pkts": c.pkts[0],
	       "ipb_plain": c.ipb[0] - len(evil), "evil_ip": len(evil), "ipb": c.ipb[0], "pay": c.pay[0],
	       "tcp": tcp_count([c]), "nbad": len(bad_frames), "hist": zeek_history(c), "hlen": hlen}
	return {"input.pcap": cap, "input-dlt147.pcap": odd}, exp, readme


def case_truncated_file():
	cap = Capture()
	a = Conn(cap, C_IP, S_IP, 40014, 80, 0x16000000, 0x17000000)
	a.handshake()
	a.send(0, PSH | ACK, b"first connection\n")
	a.send(1, PSH | ACK, b"first reply\n", dt_ms=HS_RTT_MS / 2)
	a.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	a.close(first=0)
	b = Conn(cap, C_IP, S_IP, 40015, 80, 0x18000000, 0x19000000)
	cap.t += 5000000                      # 5 s later: flow A's linger is over by then
	b.handshake()
	b.send(0, PSH | ACK, b"second connection\n")
	b.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	complete = len(cap.recs)
	# The last record says 70 bytes but the file ends after 20 of them.
	cap.add(ether(ipv4(S_IP, C_IP, 6, tcp_segment(S_IP, C_IP, 80, 40015, b.nxt[1], b.nxt[0], PSH | ACK, 65535, b"",
	                                                b"lost reply\n")), ETH_IPV4, outgoing=False))
	fa = expect_flow(a, b"first connection\n", b"first reply\n", "fin", "time_wait", "closed",
	                 conn_state="SF", history=zeek_history(a))
	fb = expect_flow(b, b"second connection\n", b"", "shutdown", "established", "established",
	                 conn_state="S1", history=zeek_history(b))
	st = base_stats([cap], [a, b], tcp_count([a, b]), 0, {"fin": 1, "shutdown": 1}, handshakes=2)
	st["packets"] = complete
	st["bytes"] = sum(r[2] for r in cap.recs[:complete])
	st["files"] = [{"name": "input.pcap", "packets": complete, "error": "*"}]
	exp = {"runs": [{"name": "default", "args": [], "exit": 65, "stats": st,
	                 "flows": {flow_key(a): fa, flow_key(b): fb}}]}
	readme = """A truncated pcap file: the last record header announces a whole frame but the file ends 20 bytes into it (as when a capture is copied while still being written). Before it: a complete connection A (closed by FIN) and, 5 s later, connection B (handshake and one request, still open).

- Exit code 65; the %d complete records are still processed and reported: A with reason fin, B with reason shutdown at end of input (both ESTABLISHED, Zeek S1); stats.files[0].error is a message (not null) and its packets is %d. The damaged record is not counted.
- libpcap's own view: `tcpdump -r input.pcap` prints %d packets, then "truncated dump file"; `tshark -r input.pcap -q -z follow,tcp,raw,0` shows connection A's bytes.
""" % (complete, complete, complete)
	return {"input.pcap": (cap, 20)}, exp, readme


def case_syn_spoofed():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40016, 80, 0x1A000000, 0x1B000000)
	c.handshake()
	first, second = bytes(range(100)), bytes(range(100, 200))
	c.send(0, PSH | ACK, first)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	# A third party sends a SYN with a new ISN on the open connection's addresses and ports.
	nxt = c.nxt[0]
	spoofed = c.send(0, SYN, seq=0x7A000000, opts=OPT_MSS, dt_ms=100)
	c.nxt[0] = nxt                                       # it consumed nothing of the real client's
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)                  # the server's challenge ACK (RFC 5961 4.2)
	c.send(0, PSH | ACK, second, dt_ms=100)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	cap.trailer()
	f = expect_flow(c, first + second, b"", "fin", "time_wait", "closed", conn_state="SF")
	st = base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, anomalies={"syn_on_established": 1},
	                handshakes=1)
	runs = [{"name": "default", "args": [], "exit": 0, "stats": st, "flows": {flow_key(c): f}}]
	runs += policy_runs(lambda pol: {flow_key(c): f}, lambda pol: st)  # the same under both
	exp = {"runs": runs,
	       "oracle": {"notes": {
	           "*:toserver.content": "tshark starts a new stream at any SYN with a new sequence number "
	                                 "(port numbers reused), so its stream 0 ends before the SYN: it has the "
	                                 "first 100 bytes only; the endpoints keep one connection (RFC 5961)",
	           "*:toserver.rexmit_pkts": "in the stream tshark starts at the SYN, the client's next data and FIN "
	                                     "lie below the SYN's sequence number: it flags both as retransmissions"}}}
	readme = """A spoofed SYN on a live connection: handshake, 100 bytes from the client, then a SYN with a new ISN (0x%08x) on the same addresses and ports, the server's challenge ACK (the ACK it sends for any SYN on a synchronized connection, RFC 5961 sec. 4.2; Linux does the same and the connection goes on), 100 more bytes, a FIN close.

- One flow, reason fin: the SYN does not end it as `reused` (it did before: two flows, only the first 100 bytes delivered). The SYN is counted in the client's packets and bytes (it came from the client's address) and as anomaly syn_on_established 1; its sequence number moves nothing, so the second 100 bytes are neither a retransmission nor out of order: delivered 200 (c2s is bytes 0..199).
- Packet/byte counts: `tshark -r input.pcap -q -z conv,tcp`. tshark itself starts a new stream at the SYN (its "port numbers reused" rule), so `tshark -r input.pcap -q -z follow,tcp,raw,0` gives the first 100 bytes and stream 1 the other 100, and it flags the client's data and FIN after the SYN as retransmissions (they lie below the SYN's sequence number): both explained differences in the oracle. Zeek history not asserted: Zeek logs a second 'S' for a SYN with a new sequence number, weir logs each letter once per side.
- Runs: the default, `--overlap first`, `--overlap last`: the same facts (nothing is held out of order; the SYN's sequence number moves nothing).
""" % spoofed
	return {"input.pcap": cap}, exp, readme


def case_port_reuse():
	cap = Capture()
	flows = {}

	def opened(port, isn_c, isn_s, name, after_s=0):
		"""A connection on port: handshake, a request and a reply (after_s: seconds of quiet first)."""
		c = Conn(cap, C_IP, S_IP, port, 80, isn_c, isn_s)
		cap.t += int(after_s * 1000000)
		c.handshake()
		c.send(0, PSH | ACK, name.encode() + b"\n")
		c.send(1, PSH | ACK, b"reply " + name.encode() + b"\n", dt_ms=HS_RTT_MS / 2)
		return c

	def reopened(port, isn_c, isn_s, name, after_s):
		"""The same ports again after_s seconds later: a whole connection closed by the client."""
		c = opened(port, isn_c, isn_s, name, after_s)
		c.close(first=0)
		flows[flow_key(c) + " #2"] = expect_flow(c, name.encode() + b"\n", b"reply " + name.encode() + b"\n",
		                                         "fin", "time_wait", "closed", conn_state="SF",
		                                         history=zeek_history(c))
		return c

	# A: closed by FIN both ways (all seen); 500 ms later, in its 2 s linger, the same ports again.
	a1 = opened(40017, 0x1C000000, 0x1D000000, "A1")
	a1.close(first=0)
	flows[flow_key(a1)] = expect_flow(a1, b"A1\n", b"reply A1\n", "fin", "time_wait", "closed",
	                                  conn_state="SF", history=zeek_history(a1))
	a2 = reopened(40017, 0x1C100000, 0x1D100000, "A2", 0.5)
	# B: the server closed first and sits in TIME_WAIT; the client's last ACK is not in the
	# capture. A SYN with a higher ISN 1 s later opens a new connection (Linux accepts it there).
	b1 = opened(40018, 0x1E000000, 0x1F000000, "B1")
	b1.send(1, FIN | ACK)
	b1.send(0, ACK)
	b1.send(0, FIN | ACK)                                # its ACK is missing
	flows[flow_key(b1)] = expect_flow(b1, b"B1\n", b"reply B1\n", "reused", "last_ack", "time_wait",
	                                  conn_state="SF", history=zeek_history(b1), closed=False)
	b2 = reopened(40018, 0x1E100000, 0x1F100000, "B2", 1)
	# C: idle, its end not in the capture at all; 20 s later a SYN with a new ISN, which the
	# server answers with a SYN+ACK for that ISN: a new connection on the same ports.
	c1 = opened(40019, 0x20000000, 0x21000000, "C1")
	c1.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	flows[flow_key(c1)] = expect_flow(c1, b"C1\n", b"reply C1\n", "reused", "established",
	                                  "established", history=zeek_history(c1), closed=False)
	c2 = reopened(40019, 0x20100000, 0x21100000, "C2", 20)
	# D: a SYN nobody answers, then 3 s later a SYN with another ISN: a new attempt (the first never
	# completed its handshake), answered and closed.
	d1 = Conn(cap, C_IP, S_IP, 40023, 80, 0x28000000, 0x29000000)
	d1.send(0, SYN, opts=OPT_MSS)
	flows[flow_key(d1)] = expect_flow(d1, b"", b"", "reused", "syn_sent", "syn_rcvd", conn_state="S0",
	                                  history=zeek_history(d1), closed=False)
	d2 = reopened(40023, 0x28100000, 0x29100000, "D2", 3)
	cap.trailer()
	conns = [a1, a2, b1, b2, c1, c2, d1, d2]
	exp = {"runs": [{"name": "default", "args": [], "exit": 0,
	                 "stats": base_stats([cap], conns, tcp_count(conns), 1, {"fin": 5, "reused": 3},
	                                     anomalies={"syn_on_established": 1}, handshakes=7),
	                 "flows": flows}]}
	readme = """Genuine port reuse: the same client port opens a second connection after the first one ended (or never started), four ways. Each port gives two flows (the second keyed "... #2" in expect.json: flows on one 4-tuple are told apart by start time).

- A (port 40017): closed by FIN both ways, all seen; 500 ms later, within weir's 2 s linger, a SYN with a new ISN. The first flow ends by its FIN (reason fin), the second is a new flow with its own handshake.
- B (port 40018): the server closed first (TIME_WAIT), the client's FIN has no ACK in the capture, so weir still has the client in LAST_ACK; 1 s later a SYN with a higher ISN. Linux accepts a SYN on a TIME_WAIT socket as a new connection, so the first flow ends as `reused` right away and the SYN opens the second.
- C (port 40019): handshake, data, then its end is not in the capture at all; 20 s later a SYN with a new ISN, which the server answers with a SYN+ACK for that ISN. On a synchronized connection a SYN alone proves nothing (spoofed SYNs get a challenge ACK, see syn_spoofed), so it is counted (anomaly syn_on_established 1) and the server's answer decides: its SYN+ACK for the new ISN ends the first flow as `reused` and the second flow starts with it. Both handshakes complete (handshake_done 6).
- D (port 40023): a SYN nobody answers, then 3 s later a SYN with another ISN: the first attempt never completed its handshake, so the second SYN is a new attempt right away (reason `reused`; client syn_sent, server syn_rcvd as the box saw it, Zeek S0).
- Per-connection packet/byte counts: `tshark -r input.pcap -q -z conv,tcp` lists one conversation per port (tshark merges the two connections of a port); the oracle splits them by `tcp.stream` (tshark starts a new stream at each SYN: "TCP port numbers reused").
""" 
	return {"input.pcap": cap}, exp, readme


def send_fragments(c, side, flags, data, pieces):
	"""One segment of c sent as IP fragments: pieces lists (offset, length, replacement bytes or
	None) into the segment (TCP header included), in capture order; the last fragment is the one
	ending the segment. Accounted as the one packet the reassembled datagram is."""
	src, dst = c.addr[side], c.addr[1 - side]
	seq, ack = c.nxt[side], c.nxt[1 - side]
	seg = tcp_segment(src, dst, c.port[side], c.port[1 - side], seq, ack, flags, 65535, b"", data)
	ident = c.ident[side]
	c.ident[side] += 1
	for off, n, alt in pieces:
		body = alt if alt is not None else seg[off:off + n]
		more = 0 if off + n == len(seg) else 1
		if c.v6:
			fh = struct.pack("!BBHI", 6, 0, off | more, ident)
			ip = ipv6(src, dst, 44, fh + body, exts=[ext_hop_by_hop()])
			frame = ether(ip, ETH_IPV6, c.vlans, outgoing=(side == 0))
		else:
			ip = ipv4(src, dst, 6, body, ident=ident, frag=(0x2000 if more else 0) | off // 8)
			frame = ether(ip, ETH_IPV4, c.vlans, outgoing=(side == 0))
		c.cap.add(frame)
	ip_len = (40 + 8 if c.v6 else 20) + len(seg)
	c.account(side, flags, seq, ip_len, len(data))


def case_fragments():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40020, 80, 0x30000000, 0x31000000)
	c.handshake()
	req = b"GET /secret HTTP/1.0\r\n\r\n"  # 24 bytes: TCP part 44
	# Tiny first fragment (8 bytes: the ports and the sequence number), the rest of the header with
	# "GET ", then "/secret " and a second copy of those 8 bytes saying "/public ", then the end.
	send_fragments(c, 0, PSH | ACK, req, [(0, 8, None), (8, 16, None), (24, 8, None),
	                                       (24, 8, b"/public "), (32, 12, None)])
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.send(1, PSH | ACK, b"HTTP/1.0 200 OK\r\n\r\n")
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	v6 = Conn(cap, "2001:db8::1", "2001:db8::2", 40021, 80, 0x32000000, 0x33000000)
	v6.handshake()
	body = b"a request over IPv6, cut in two"
	# Behind a hop-by-hop header; the second half first.
	send_fragments(v6, 0, PSH | ACK, body, [(32, 19, None), (0, 32, None)])
	v6.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	v6.close(first=0)
	cap.trailer()
	frag_frames = 4 + 1  # fragments that completed no datagram (the last of each completes it)
	runs = []
	for name, args, got in (("default", [], req), ("first", ["--defrag-overlap", "first"], req),
	                        ("last", ["--defrag-overlap", "last"], req.replace(b"/secret ", b"/public "))):
		flows = {flow_key(c): expect_flow(c, got, b"HTTP/1.0 200 OK\r\n\r\n", "fin", "time_wait",
		                                  "closed", conn_state="SF", history=zeek_history(c)),
		         flow_key(v6): expect_flow(v6, body, b"", "fin", "time_wait", "closed",
		                                   conn_state="SF", history=zeek_history(v6))}
		st = base_stats([cap], [c, v6], tcp_count([c, v6]), 1, {"fin": 2},
		                anomalies={"frag_overlap_different": 1}, handshakes=2,
		                fragments=frag_frames)
		st["defrag"] = {"reassembled": 2, "overlaps": 1, "overlap_different": 1, "tiny": 1,
		                "timeouts": 0, "evicted": 0, "too_many": 0, "oversized": 0, "bad": 0,
		                "not_tcp": 0, "memory_used": 0}
		runs.append({"name": name, "args": args, "exit": 0, "stats": st, "flows": flows})
	exp = {"runs": runs, "oracle": {"notes": {
		"last:toserver.content": "--defrag-overlap last keeps the later copy; tshark keeps the first",
		"*:toserver.ip_bytes": "the IPv6 datagram: tshark has no reassembled IPv6 length field and "
		                       "the oracle takes the completing fragment's (88); weir counts the "
		                       "reassembled packet (99)"}}}
	readme = """TCP segments cut into IP fragments, with the tiny-fragment and overlapping-fragment evasions.

- IPv4, port 40020: the request "GET /secret HTTP/1.0\\r\\n\\r\\n" (44 bytes of TCP) is sent as five fragments: bytes 0-8 (tiny: only the ports and the sequence number, RFC 1858), 8-24 (the rest of the header and "GET "), 24-32 "/secret ", 24-32 again saying "/public " (same offset, different bytes), 32-44 (the end). weir reassembles it into one packet: counted once in the flow (packets, IP bytes 64), the four fragments before the last one in `fragments`, and `defrag` counts reassembled, tiny 1, overlaps 1, overlap_different 1; the anomaly frag_overlap_different is raised once, on this flow.
- Default and `--defrag-overlap first` (`defrag.overlap = "first"`): the first copy wins, the stream is "GET /secret ..."; `--defrag-overlap last`: "GET /public ...". tshark reassembles the datagram keeping the first copy, flagging the overlap (`tshark -r input.pcap -Y ip.fragment.overlap.conflict`), and follows the same stream as the default run (`tshark -r input.pcap -q -z follow,tcp,raw,0`).
- IPv6, port 40021: a 51-byte segment behind a hop-by-hop header, cut at 32 bytes, the second fragment first. Reassembled into one packet of 99 IP bytes (the hop-by-hop header kept, the fragment header gone).
- Zeek conn_state SF for both; history as for unfragmented packets.
"""
	return {"input.pcap": cap}, exp, readme


def fragmented(wrap, cut, cap):
	"""wrap, but an outer IPv4 datagram with more than cut bytes (a multiple of 8) after its header
	is sent as fragments of cut bytes: the later ones are added to cap first, last one first, and
	the first one, which then completes the datagram, is returned (sent and accounted as the
	segment). Its attribute datagrams counts the datagrams cut."""
	ident = [0x7000]

	def wrap_frags(ip, side):
		frame = wrap(ip, side)
		outer = frame[14:]
		hlen, tot = (outer[0] & 0x0F) * 4, struct.unpack("!H", outer[2:4])[0]
		body = outer[hlen:tot]
		if len(body) <= cut:
			return frame
		src, dst = (str(ipaddress.ip_address(outer[a:a + 4])) for a in (12, 16))
		ident[0] += 1
		wrap_frags.datagrams += 1
		frames = [ether(ipv4(src, dst, outer[9], body[off:off + cut], ident=ident[0],
		                     frag=(0x2000 if off + cut < len(body) else 0) | off // 8),
		                ETH_IPV4, outgoing=(side == 0)) for off in range(0, len(body), cut)]
		for f in reversed(frames[1:]):
			cap.add(f)
		return frames[0]
	wrap_frags.datagrams = 0
	return wrap_frags


def fragmented_datagram(cap, src, dst, proto, payload, cut, ident):
	"""A datagram of proto sent as IPv4 fragments of cut bytes, in order. Their number."""
	pieces = range(0, len(payload), cut)
	for off in pieces:
		more = 0x2000 if off + cut < len(payload) else 0
		cap.add(ether(ipv4(src, dst, proto, payload[off:off + cut], ident=ident, frag=more | off // 8),
		              ETH_IPV4))
	return len(pieces)


def case_tunnel_fragments():
	cap = Capture()
	# A connection in GTP-U and one in VXLAN whose data segments come in outer UDP datagrams cut
	# into IPv4 fragments (the first fragment, which holds the UDP and tunnel headers, last), as
	# a link with a small MTU between two tunnel endpoints does; their handshakes and ACKs fit.
	gtp = Conn(cap, C_IP, S_IP, 40040, 80, 0x40000000, 0x41000000,
	           wrap=fragmented(in_gtpu(0x3333, 0x4444), 64, cap))
	vx = Conn(cap, C_IP, S_IP, 40041, 80, 0x42000000, 0x43000000,
	          wrap=fragmented(in_vxlan(300), 80, cap))
	req = b"GET /tunneled/and/fragmented HTTP/1.1\r\nHost: weir\r\n\r\n"
	resp = b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n" + b"b" * 60
	start = len(cap.recs)
	for c in (gtp, vx):
		c.handshake()
		c.send(0, PSH | ACK, req)
		c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
		c.send(1, PSH | ACK, resp)
		c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
		c.close(first=0)
	held = len(cap.recs) - start - tcp_count([gtp, vx])  # fragments before each completing one
	# A DNS answer in two fragments: reassembled, a UDP datagram like any other (not TCP, not a
	# failure); an ICMP echo request in two fragments: not reassembled (defrag not_tcp).
	answer = udp_datagram("10.0.0.53", C_IP, 53, 40053, b"\x12\x34\x81\x80" + b"a" * 92)
	dns = fragmented_datagram(cap, "10.0.0.53", C_IP, PROTO_UDP, answer, 64, 0x5353)
	echo = b"\x08\x00\x00\x00\x00\x01\x00\x01" + b"p" * 88
	icmp = fragmented_datagram(cap, C_IP, "10.0.0.53", 1, echo, 64, 0x1c01)
	cap.trailer()
	vx_t = {"type": "vxlan", "depth": 1, "id": 300, "src_ip": T_A, "dest_ip": T_B,
	        "src_port": 49152, "dest_port": PORT_VXLAN, "proto": "UDP"}
	gtp_t = {"type": "gtpu", "depth": 1, "src_ip": T_A, "dest_ip": T_B, "src_port": PORT_GTPU,
	         "dest_port": PORT_GTPU, "proto": "UDP"}
	flows = {}
	for c, t in ((gtp, gtp_t), (vx, vx_t)):
		f = expect_flow(c, req, resp, "fin", "time_wait", "closed", conn_state="SF",
		                history=zeek_history(c))
		f["tunnel"] = t
		flows[flow_key(c, t)] = f
	st = base_stats([cap], [gtp, vx], tcp_count([gtp, vx]), 1 + 1, {"fin": 2}, handshakes=2,
	                fragments=held + (dns - 1) + icmp)
	cut = gtp.wrap.datagrams + vx.wrap.datagrams
	st["defrag"] = {"reassembled": cut + 1, "not_tcp": icmp, "timeouts": 0, "evicted": 0,
	                "too_many": 0, "overlaps": 0, "overlap_different": 0, "oversized": 0,
	                "bad": 0, "tiny": 0, "memory_used": 0}
	outer = ("of a segment in a fragmented outer datagram the oracle takes the reassembled outer "
	         "datagram's ip.len (36 more in GTP-U, 50 in VXLAN: the outer IPv4, UDP and tunnel "
	         "headers); weir counts the inner IP packet, as for every tunneled segment")
	exp = {"runs": [{"name": "default", "args": [], "exit": 0, "stats": st, "flows": flows}],
	       "oracle": {"notes": {"*:toserver.ip_bytes": outer, "*:toclient.ip_bytes": outer}}}
	readme = """Tunneled connections whose outer datagrams are IPv4 fragments (issue 15: Zeek's gtp1_gn_normal_incl_fragmentation and gtp2_different_udp_port captures show it on a real GTP link), and fragmented datagrams that are not TCP.

- Port 40040 in GTP-U (TEIDs 0x3333 up, 0x4444 down), port 40041 in VXLAN segment 300: a handshake, a %(req)d-byte request, an ACK, a %(resp)d-byte response, an ACK and a FIN close. Every outer datagram with more than 64 (GTP-U) or 80 (VXLAN) bytes after its IPv4 header is sent as fragments of that size, the first fragment (the UDP and tunnel headers) after the others: the %(cut)d data segments. weir reassembles each outer datagram (`defrag.reassembled` %(cut)d, and 1 below), takes the tunnel off and tracks the TCP segment inside as one packet of its flow: both flows are whole (packets, inner IP bytes, both streams), as if nothing had been cut. The %(held)d fragments that come before a completing one count in `fragments`.
- A DNS answer (UDP from port 53, 104 bytes) in 2 fragments: reassembled too (a UDP datagram may carry a tunnel), then a non-TCP packet like any other: `other_packets` counts it (with the trailer), nothing malformed, no flow.
- An ICMP echo request in 2 fragments: ICMP carries nothing weir decodes, so it is not reassembled (`defrag.not_tcp` 2, both in `fragments`).
- Oracle: tshark reassembles the outer datagrams (`ip.defragment`, on by default) and decodes GTP-U and VXLAN: `tshark -r input.pcap -q -z conv,tcp` shows the two inner conversations with these packet counts; `tshark -r input.pcap -Y ip.flags.mf==1 || ip.frag_offset>0` lists the %(nfrag)d fragments.
- Zeek conn_state SF for both (Zeek reassembles outer fragments before decapsulating); history as for unfragmented packets.
""" % {"req": len(req), "resp": len(resp), "held": held, "cut": cut,
       "nfrag": held + cut + dns + icmp}
	return {"input.pcap": cap}, exp, readme


# ---------------------------------------------------------------------------------------------
# Evasion cases (Ptacek & Newsham, "Insertion, Evasion, and Denial of Service", 1998, and what
# followed): each states the bytes weir delivers under both streams.overlap policies. docs/EVASION.md
# sums them up.

POLICIES = ("first", "last")


def policy_runs(flows, stats, extra_args=()):
	"""One run per streams.overlap policy; flows(policy) and stats(policy) give its facts."""
	return [{"name": pol, "args": list(extra_args) + ["--overlap", pol], "exit": 0,
	         "stats": stats(pol), "flows": flows(pol)} for pol in POLICIES]


def true_bytes(lo, hi):
	"""What the sender means at stream offsets [lo, hi): lower-case letters."""
	return bytes(b"abcdefghijklmnopqrstuvwxyz"[o % 26] for o in range(lo, hi))


def other_bytes(lo, hi):
	"""Different bytes for the same offsets: upper case."""
	return true_bytes(lo, hi).upper()


def deliver(segments, policy):
	"""The stream a receiver following `policy` builds from segments [(offset, bytes)] in arrival
	order, and what it saw on the way: bytes already delivered never change; of two copies of a
	byte held out of order, the first or the last one wins. The definition of the two policies
	(Suricata's and Snort's "first"/"last"), written independently of weir's reassembly. Returns
	(stream, counters): ooo_pkts (segments starting ahead of the in-order point), overlaps /
	overlap_diff (segments over held bytes / with other bytes), rexmit_different (segments
	re-sending delivered bytes with other bytes)."""
	held, out = {}, bytearray()
	n = {"ooo_pkts": 0, "overlaps": 0, "overlap_diff": 0, "rexmit_different": 0}
	for off, data in segments:
		n["ooo_pkts"] += off > len(out)
		over = [held[off + i] != b for i, b in enumerate(data) if off + i in held]
		n["overlaps"] += bool(over)
		n["overlap_diff"] += any(over)
		n["rexmit_different"] += any(out[off + i] != b for i, b in enumerate(data) if off + i < len(out))
		for i, b in enumerate(data):
			o = off + i
			if o < len(out):
				continue
			if o not in held or policy == "last":
				held[o] = b
		while len(out) in held:
			out.append(held.pop(len(out)))
	return bytes(out), n


# Shapes of a new segment against bytes already sent, in stream offsets: what is sent first
# (bytes from 0 are delivered at once; bytes after a hole are held out of order), then the new
# segment, then the bytes that fill any hole left before them. "Before/at/inside" is where the
# new segment starts against a held one, "inside (ends before)/at/after" where it ends.
OVERLAP_SHAPES = (
	("starts_before_ends_inside", ((8, 16),), (6, 12)),
	("starts_before_ends_at", ((8, 16),), (6, 16)),
	("starts_before_ends_after", ((8, 16),), (6, 20)),
	("starts_at_ends_inside", ((8, 16),), (8, 12)),
	("exact_duplicate", ((8, 16),), (8, 16)),
	("starts_at_ends_after", ((8, 16),), (8, 20)),
	("starts_inside_ends_inside", ((8, 16),), (10, 14)),
	("starts_inside_ends_at", ((8, 16),), (10, 16)),
	("starts_inside_ends_after", ((8, 16),), (10, 20)),
	("covers_several", ((8, 12), (14, 18)), (6, 20)),
	# over bytes already delivered: a retransmission, whatever the policy
	("delivered_exact", ((0, 8),), (0, 8)),
	("delivered_inside", ((0, 8),), (2, 6)),
	("delivered_then_new", ((0, 8),), (4, 12)),
	("delivered_then_held", ((0, 8), (12, 16)), (6, 14)),
)


def case_evasion_overlap_shapes():
	cap = Capture()
	conns = []  # (conn, segments in arrival order, differs)
	port = 41000
	for name, held, new in OVERLAP_SHAPES:
		for differs in (False, True):
			c = Conn(cap, C_IP, S_IP, port, 80, 0x11000000 + port * 0x1000, 0x22000000)
			port += 1
			c.handshake()
			base = c.nxt[0]
			segs = [(lo, true_bytes(lo, hi)) for lo, hi in held]
			segs.append((new[0], (other_bytes if differs else true_bytes)(*new)))
			start = min(lo for lo, _ in segs)
			if start:
				segs.append((0, true_bytes(0, start)))  # fills the hole: everything is in order
			for off, data in segs:
				c.send(0, PSH | ACK, data, seq=base + off)
			c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
			c.close(first=0)
			conns.append((c, segs, differs, name))
	cap.trailer()
	cs = [c for c, _, _, _ in conns]

	def flows(pol):
		out = {}
		for c, segs, differs, name in conns:
			data, n = deliver(segs, pol)
			over = {k: n[k] for k in ("ooo_pkts", "overlaps", "overlap_diff")}
			over.update(rexmit_pkts=None, rexmit_bytes=None)
			out[flow_key(c)] = expect_flow(c, data, b"", "fin", "time_wait", "closed",
			                               toserver=over, conn_state="SF")
		return out

	def stats(pol):
		an = {"overlap_different": 0, "rexmit_different": 0}
		for _, segs, _, _ in conns:
			n = deliver(segs, pol)[1]
			an["overlap_different"] += n["overlap_diff"]
			an["rexmit_different"] += n["rexmit_different"]
		return base_stats([cap], cs, tcp_count(cs), 1, {"fin": len(cs)}, anomalies=an,
		                  handshakes=len(cs))

	exp = {"runs": policy_runs(flows, stats), "oracle": {"notes": {
		"first:toserver.content": "where a new segment starts below held bytes, Wireshark's follow "
		                          "keeps the lower-starting segment's bytes over them (a policy of "
		                          "its own), where --overlap first keeps the held copy",
		"last:toserver.content": "--overlap last keeps the later copy; Wireshark keeps its own choice"}}}
	def span(seg):
		return "%d-%d" % (seg[0], seg[0] + len(seg[1]))

	rows = []
	for c, segs, d, name in conns:
		k = len(OVERLAP_SHAPES[[x[0] for x in OVERLAP_SHAPES].index(name)][1])  # segments before
		n = deliver(segs, "first")[1]
		rows.append("| %d | %s | %s | %s | %s | %r | %r | %s |" % (
			c.port[0], name, " ".join(span(x) for x in segs[:k]), span(segs[k]),
			"different" if d else "same", deliver(segs, "first")[0].decode(),
			deliver(segs, "last")[0].decode(),
			"overlap_different" if n["overlap_diff"] else "rexmit_different" if n["rexmit_different"] else "-"))
	rows = "\n".join(rows)
	readme = """Every shape of a TCP segment overlapping bytes sent before (held out of order, or already delivered), with the same and with different bytes, under both overlap policies: %d connections, one shape each.

Per connection (client port below), in stream offsets of the client's data: the segments "sent before" go first with the sender's real bytes (lower case, offset o is letter o mod 26): from 0 they are delivered at once, after a hole they are held; then the new segment, with the same bytes or with different ones (upper case); then, where a hole is left at 0, the bytes that fill it, so everything becomes in order. The server acknowledges and a FIN close follows.

| port | shape | sent before | new | content | `--overlap first` | `--overlap last` | anomaly |
|---|---|---|---|---|---|---|---|
%s

- The delivered bytes and counters are computed by `deliver()` in make_cases.py from the definition of the policies (bytes held out of order: the first or the last copy wins; bytes delivered never change), not from weir's reassembly. Where the two copies overlap, "first" keeps the held (real) bytes and "last" takes the new segment's; bytes only the new segment covers are its own under both (upper case in the "different" rows). Over bytes already delivered (the `delivered_*` shapes) the policy changes nothing: the real bytes stay.
- Counters toserver: ooo_pkts (segments starting ahead of the in-order point), overlaps (segments over held bytes: 1 wherever something was held, also when the new one covers two held segments), overlap_diff (of those, with other bytes); anomaly overlap_different once per connection whose new segment differs over held bytes, rexmit_different once per connection whose new segment differs over delivered bytes only; none with the same bytes. rexmit_pkts/rexmit_bytes are not asserted (a segment half over held bytes: see overlap_diff).
- A run per policy: `--overlap first`, `--overlap last`.
""" % (len(conns), rows)
	return {"input.pcap": cap}, exp, readme


def case_evasion_out_of_window():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40200, 80, 0x12000000, 0x13000000)
	WIN = 1000  # the server's window, unscaled: small enough for the stream to reach past it
	c.send(0, SYN, opts=OPT_MSS)
	c.send(1, SYN | ACK, opts=OPT_MSS, dt_ms=HS_RTT_MS / 2, win=WIN)
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	base = c.nxt[0]
	c.send(0, PSH | ACK, true_bytes(0, 500))
	# 1600 is past the server's right edge (it acknowledged 0 with a 1000-byte window; it has 500
	# and its edge is 1500 at most): Linux drops a segment starting beyond it (tcp_sequence()).
	c.send(0, PSH | ACK, b"X" * 10, seq=base + 1600)
	c.nxt[0] = base + 500
	c.send(1, ACK, win=WIN, dt_ms=HS_RTT_MS / 2)
	c.send(0, PSH | ACK, true_bytes(500, 1000), dt_ms=HS_RTT_MS / 2)
	c.send(1, ACK, win=WIN, dt_ms=HS_RTT_MS / 2)
	c.send(0, PSH | ACK, true_bytes(1000, 1500), dt_ms=HS_RTT_MS / 2)
	c.send(0, PSH | ACK, true_bytes(1500, 1620))
	c.send(1, ACK, win=WIN, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	cap.trailer()
	got = {"first": true_bytes(0, 1600) + b"X" * 10 + true_bytes(1610, 1620),
	       "last": true_bytes(0, 1620)}
	# The real bytes 500-1620 come after the sender reached 1610: three retransmissions by weir's
	# rule (sequence space already seen), 1120 bytes.
	over = {"ooo_pkts": 1, "overlaps": 1, "overlap_diff": 1, "rexmit_pkts": 3, "rexmit_bytes": 1120}

	def flows(pol):
		return {flow_key(c): expect_flow(c, got[pol], b"", "fin", "time_wait", "closed", toserver=over,
		                                 conn_state="SF")}

	def stats(pol):
		return base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1,
		                  anomalies={"data_out_of_window": 1, "overlap_different": 1})

	exp = {"runs": policy_runs(flows, stats), "oracle": {"notes": {
		"*:toserver.content": "tshark reassembles the out-of-window segment as any other; "
		                      "--overlap last keeps the later copy",
		"*:toserver.rexmit_pkts": "Wireshark calls the in-window copy of 1600-1610 a retransmission"}}}
	readme = """Data outside the receiver's window (Ptacek & Newsham's insertion: bytes the endpoint drops).

The server advertises a 1000-byte window (unscaled) and acknowledges in steps of 500. The client sends offsets 0-500, then 10 bytes "XXXXXXXXXX" at 1600, beyond the server's right edge (it acknowledged 0 with a 1000-byte window, and holds 500: Linux's edge is 1500 at most, and it drops a segment that starts past it, `tcp_sequence()`), then the real bytes 500-1620 in window, and a FIN close.

- weir flags the segment (anomaly data_out_of_window 1) but still holds it: a passive box may have missed the window update that made it acceptable, and dropping bytes the endpoint took would lose them for good. So the real bytes over 1600-1610 are an overlap with different bytes (overlaps 1, overlap_diff 1, anomaly overlap_different 1) and the policy decides: `--overlap first` delivers the attacker's "XXXXXXXXXX" at 1600 (evaded, with both anomalies raised), `--overlap last` delivers the real bytes, as the endpoint read them.
- ooo_pkts 1 (the segment at 1600); payload 1630 counts both copies; delivered 1620; rexmit_pkts 3, rexmit_bytes 1120: once the sender was seen at 1610, the three segments from 500 to 1620 re-send sequence space already seen.
"""
	return {"input.pcap": cap}, exp, readme


def case_evasion_rst():
	cap = Capture()
	req, evil = b"GET / HTTP/1.0\r\n", b"X-Evil: after the RST\r\n\r\n"
	# 40210: an exact RST from the client ends the connection; the data it sends afterwards
	# reaches no socket (Linux answers it with a RST).
	a = Conn(cap, C_IP, S_IP, 40210, 80, 0x14000000, 0x15000000)
	a.handshake()
	a.send(0, PSH | ACK, req)
	a.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	a.send(0, RST | ACK, dt_ms=HS_RTT_MS / 2)
	a.send(0, PSH | ACK, evil)
	# 40211: RSTs the server must ignore: one in its window but past what the client sent (RFC
	# 5961 §3.2: Linux sends a challenge ACK and goes on), one a million bytes out of the window;
	# the data after them is read.
	b = Conn(cap, C_IP, S_IP, 40211, 80, 0x16000000, 0x17000000)
	b.handshake()
	b.send(0, PSH | ACK, req)
	b.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	nxt = b.nxt[0]
	b.send(0, RST | ACK, seq=nxt + 100, dt_ms=HS_RTT_MS / 2)
	b.nxt[0] = nxt                                     # a RST consumes nothing
	b.send(1, ACK, dt_ms=HS_RTT_MS / 2)               # the challenge ACK
	b.send(0, RST | ACK, seq=nxt + 1000000, dt_ms=HS_RTT_MS / 2)
	b.nxt[0] = nxt
	b.send(0, PSH | ACK, evil, dt_ms=HS_RTT_MS / 2)
	b.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	b.close(first=0)
	cap.trailer()

	def flows(pol):
		return {flow_key(a): expect_flow(a, req, b"", "rst", "closed", "closed", conn_state="RSTO"),
		        flow_key(b): expect_flow(b, req + evil, b"", "fin", "time_wait", "closed")}

	def stats(pol):
		return base_stats([cap], [a, b], tcp_count([a, b]), 1, {"fin": 1, "rst": 1}, handshakes=2,
		                  anomalies={"rst_out_of_window": 2})

	exp = {"runs": policy_runs(flows, stats), "oracle": {"notes": {
		"*:toserver.content": "tshark follows every byte of the stream, also those sent after the "
		                      "RST that ended the connection (port 40210)",
		"*:toserver.rexmit_pkts": "tshark takes the ignored RST's sequence number (100 past the data) "
		                          "as the client's highest, so the data after it looks re-sent"}}}
	readme = """Data after a RST, and RSTs with a sequence number the receiver does not accept.

- Port 40210: request, then the client's RST+ACK at exactly the sequence number the server expects (it resets the connection), then 25 more bytes "X-Evil: after the RST..." from the client. The endpoint has no connection any more (Linux answers them with a RST): weir ends the flow by the RST (reason rst, closes.rst) and does not deliver the bytes after it: c2s is the request only (delivered 16); the late segment still counts in the flow's packets and payload (it is in the flow's 2 s linger). Zeek: RSTO.
- Port 40211: request, then a RST+ACK from the client's address 100 bytes past what the client sent (inside the server's 65535-byte window, not the exact next sequence number: RFC 5961 §3.2, Linux answers with a challenge ACK and the connection goes on), the server's challenge ACK, a RST a million bytes out of the window, then the 25 bytes and a FIN close. weir ignores both RSTs (anomaly rst_out_of_window 2) and delivers the bytes after them, as the endpoint read them: c2s = request + "X-Evil...". (Before weir followed RFC 5961 the first RST ended the flow and the bytes after it went unseen.)
- Runs under both overlap policies (nothing overlaps: the same bytes).
"""
	return {"input.pcap": cap}, exp, readme


GOOD_REQ, EVIL_REQ = b"GET /good HTTP/1.0\r\n\r\n", b"GET /evil HTTP/1.0\r\n\r\n"


def insert_in_order(c, **evil):
	"""A handshake, "GET /", then a copy of the rest with the attacker's bytes sent as evil says
	(Conn.send's bad= or ttl=: a copy the endpoint never reads), then the real rest at the same
	sequence numbers, the server's ACK and a FIN close."""
	c.handshake()
	c.send(0, PSH | ACK, GOOD_REQ[:5])
	seq = c.send(0, PSH | ACK, EVIL_REQ[5:], **evil)
	c.nxt[0] = seq
	c.send(0, PSH | ACK, GOOD_REQ[5:], seq=seq)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)


def insert_held(c, **evil):
	"""As insert_in_order, out of order: the attacker's copy of the rest ahead of a hole, the real
	copy of the same range, then "GET /" filling the hole."""
	c.handshake()
	base = c.nxt[0]
	c.send(0, PSH | ACK, EVIL_REQ[5:], seq=base + 5, **evil)
	c.send(0, PSH | ACK, GOOD_REQ[5:], seq=base + 5)
	c.send(0, PSH | ACK, GOOD_REQ[:5], seq=base)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)


def case_evasion_bad_checksum():
	cap = Capture()
	# 40220: in order, a wrong TCP checksum on the attacker's copy (the endpoint drops it);
	# 40221: the same held out of order; 40222: in order, a wrong IPv4 header checksum; 40223:
	# IPv6, in order, a wrong TCP checksum.
	a = Conn(cap, C_IP, S_IP, 40220, 80, 0x18000000, 0x19000000)
	insert_in_order(a, bad="tcp")
	b = Conn(cap, C_IP, S_IP, 40221, 80, 0x1A000000, 0x1B000000)
	insert_held(b, bad="tcp")
	c = Conn(cap, C_IP, S_IP, 40222, 80, 0x1C000000, 0x1D000000)
	insert_in_order(c, bad="ip")
	d = Conn(cap, "2001:db8::1", "2001:db8::2", 40223, 80, 0x1E000000, 0x1F000000)
	insert_in_order(d, bad="tcp")
	cap.trailer()
	conns = [a, b, c, d]
	good, evil = GOOD_REQ, EVIL_REQ
	# Not verified, the real copy re-sends the 17 bytes of sequence space the bad one took.
	rexmit = {"rexmit_pkts": 1, "rexmit_bytes": 17}

	def flows(verify, pol):
		out = {}
		for k in conns:
			if verify:
				data, over, kk = good, {"ooo_pkts": 1} if k is b else {}, k
			elif k is b:
				data, kk = evil if pol == "first" else good, k.with_bad()
				over = dict(rexmit, ooo_pkts=2, overlaps=1, overlap_diff=1)
			else:
				data, over, kk = evil, rexmit, k.with_bad()
			out[flow_key(k)] = expect_flow(kk, data, b"", "fin", "time_wait", "closed", toserver=over,
			                               conn_state="SF")
		return out

	def stats(verify, pol):
		if verify:
			return base_stats([cap], conns, tcp_count(conns), 1, {"fin": 4}, handshakes=4,
			                  malformed={"tcp_checksum": 3, "ip_checksum": 1})
		an = {"rexmit_different": 3, "overlap_different": 1}
		return base_stats([cap], conns, tcp_count(conns) + 4, 1, {"fin": 4}, handshakes=4, anomalies=an)

	runs = []
	for mode, verify in (("verify", True), ("off", False)):
		for r in policy_runs(lambda pol: flows(verify, pol), lambda pol: stats(verify, pol),
		                     ["--checksums", mode]):
			r["name"] = "%s-%s" % (mode, r["name"])
			runs.append(r)
	runs.append({"name": "default", "args": [], "exit": 0, "stats": stats(False, "first"),
	             "flows": flows(False, "first")})
	exp = {"runs": runs, "oracle": {"notes": {
		"*:toserver.content": "tshark does not verify checksums by default: it follows the bad copies",
		"*:toserver.pkts": "runs that verify checksums leave the bad segments out of their flows",
		"*:toserver.ip_bytes": "runs that verify checksums leave the bad segments out of their flows",
		"*:toserver.payload": "runs that verify checksums leave the bad segments out of their flows",
		"*:toserver.rexmit_pkts": "tshark sees the bad copy, so the real one is a retransmission to it; "
		                          "verified, weir never saw the bad copy"}}}
	readme = """Segments with wrong checksums (insertion: the endpoint drops them; a monitor that takes them is evaded).

Four connections; in each the client's request is "GET /good HTTP/1.0\\r\\n\\r\\n" and a copy with the attacker's bytes ("evil") and a wrong checksum covers the same sequence numbers first:
- 40220: in order: "GET /", the bad copy of the rest (TCP checksum wrong), the real rest.
- 40221: out of order: the bad copy ahead of a hole, the real copy of the same range, then "GET /" filling the hole.
- 40222: in order as 40220, the bad copy with a wrong IPv4 header checksum.
- 40223: IPv6, in order as 40220, TCP checksum wrong.

Runs:
- `--checksums verify` under both policies: the bad segments are counted (malformed tcp_checksum 3, ip_checksum 1), left out of their flows (packets, bytes, payload are the good segments') and out of the TCP state machine: every connection delivers "GET /good ...", no anomaly; in 40221 only the real copy was held ahead of the hole (ooo_pkts 1, overlaps 0).
- `--checksums off` under both policies, and the default run (`checksums = "auto"` does not verify a capture: a sending host's offloaded checksums are wrong in it): the bad segments are tracked like any other. In order (40220, 40222, 40223) the bad copy is delivered first and the real one re-sends its 17 bytes with other content (rexmit_pkts 1, rexmit_bytes 17, anomaly rexmit_different 3): "GET /evil ..." under both policies. Out of order (40221) the policy decides: first "GET /evil ...", last "GET /good ..." (ooo_pkts 2, overlaps 1, overlap_diff 1, anomaly overlap_different 1; rexmit_pkts 1 too: the real copy re-sends sequence space already seen).
- The frames' checksums are made by make_cases.py (RFC 1071) and flipped in one byte for the bad ones: `tshark -r input.pcap -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y "tcp.checksum.status == 2 || ip.checksum.status == 2"` lists exactly the four bad frames.
"""
	return {"input.pcap": cap}, exp, readme


def case_evasion_ttl_expired():
	cap = Capture()
	# 40230: in order, the attacker's copy with TTL 1 (it expires at the first router, before the
	# endpoint); 40231: the same held out of order.
	a = Conn(cap, C_IP, S_IP, 40230, 80, 0x20000000, 0x21000000)
	insert_in_order(a, ttl=1)
	b = Conn(cap, C_IP, S_IP, 40231, 80, 0x22000000, 0x23000000)
	insert_held(b, ttl=1)
	cap.trailer()
	good, evil = GOOD_REQ, EVIL_REQ

	def flows(pol):
		rexmit = {"rexmit_pkts": 1, "rexmit_bytes": 17}  # the real copy re-sends the TTL-1 one's 17 bytes
		return {flow_key(a): expect_flow(a, evil, b"", "fin", "time_wait", "closed", conn_state="SF",
		                                 toserver=rexmit),
		        flow_key(b): expect_flow(b, evil if pol == "first" else good, b"", "fin", "time_wait",
		                                 "closed", conn_state="SF",
		                                 toserver=dict(rexmit, ooo_pkts=2, overlaps=1, overlap_diff=1))}

	def stats(pol):
		return base_stats([cap], [a, b], tcp_count([a, b]), 1, {"fin": 2}, handshakes=2,
		                  anomalies={"rexmit_different": 1, "overlap_different": 1})

	exp = {"runs": policy_runs(flows, stats), "oracle": {"notes": {
		"*:toserver.content": "tshark follows the first copy; --overlap last keeps the later one"}}}
	readme = """TTL-expired duplicates: a copy with the attacker's bytes and TTL 1, which expires at the first router and never reaches the endpoint, then the real bytes at the same sequence numbers. weir cannot know how many hops away the endpoint is, so it does not judge TTLs: it sees both copies and the anomaly is the signal.

- 40230, in order ("GET /", the TTL-1 copy of the rest, the real rest): the TTL-1 copy is delivered at once, and bytes delivered never change, so under both policies weir delivers "GET /evil ..." while the endpoint read "GET /good ...": evaded, with anomaly rexmit_different (the real copy is a retransmission with other bytes: rexmit_pkts 1, rexmit_bytes 17).
- 40231, out of order (the TTL-1 copy ahead of a hole, the real copy, then "GET /"): the policy decides: `--overlap first` delivers "GET /evil ..." (evaded), `--overlap last` delivers "GET /good ..." as the endpoint read it; anomaly overlap_different under both (overlaps 1, overlap_diff 1, ooo_pkts 2; rexmit_pkts 1, rexmit_bytes 17: the real copy re-sends sequence space already seen).
- Anomalies: rexmit_different 1, overlap_different 1 in every run.
"""
	return {"input.pcap": cap}, exp, readme


def case_evasion_syn_data():
	cap = Capture()
	# 40240: a SYN carrying bytes; the server acknowledges only the SYN (no Fast Open cookie), so
	# the client sends its request again at ISN + 1, with other bytes.
	a = Conn(cap, C_IP, S_IP, 40240, 80, 0x24000000, 0x25000000)
	isn = a.nxt[0]
	a.send(0, SYN, b"GET /evil", opts=OPT_MSS)
	a.nxt[0] = isn + 1
	a.send(1, SYN | ACK, opts=OPT_MSS, dt_ms=HS_RTT_MS / 2)
	a.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	a.send(0, PSH | ACK, b"GET /good HTTP/1.0\r\n\r\n")
	a.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	a.close(first=0)
	# 40241: TCP Fast Open: the SYN+ACK acknowledges the SYN's 4 bytes; the rest follows.
	b = Conn(cap, C_IP, S_IP, 40241, 80, 0x26000000, 0x27000000)
	b.send(0, SYN, b"GET ", opts=OPT_MSS)
	b.send(1, SYN | ACK, opts=OPT_MSS, dt_ms=HS_RTT_MS / 2)
	b.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	b.send(0, PSH | ACK, b"/tfo HTTP/1.0\r\n\r\n")
	b.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	b.close(first=0)
	cap.trailer()

	def flows(pol):
		return {flow_key(a): expect_flow(a, b"GET /good HTTP/1.0\r\n\r\n", b"", "fin", "time_wait", "closed",
		                                 conn_state="SF", toserver={"rexmit_pkts": 1, "rexmit_bytes": 22}),
		        flow_key(b): expect_flow(b, b"\0" * 4 + b"/tfo HTTP/1.0\r\n\r\n", b"", "fin", "time_wait",
		                                 "closed", conn_state="SF", toserver={"gap_bytes": 4})}

	def stats(pol):
		return base_stats([cap], [a, b], tcp_count([a, b]), 1, {"fin": 2}, handshakes=2,
		                  anomalies={"ack_unseen_data": 1})

	exp = {"runs": policy_runs(flows, stats), "oracle": {"notes": {
		"*:toserver.content": "tshark follows the SYN's payload as stream bytes",
		"*:toserver.gap_bytes": "tshark has the Fast Open bytes from the SYN: no gap",
		"*:toserver.gap_seen (lost_segment)": "tshark has the Fast Open bytes from the SYN: no gap"}}}
	readme = """Data on a SYN.

- 40240: the client's SYN carries "GET /evil"; the server's SYN+ACK acknowledges only the SYN (ISN + 1: a stack without a TCP Fast Open cookie, Linux by default, drops the bytes), and the client sends its request again from ISN + 1 as "GET /good HTTP/1.0\\r\\n\\r\\n" (22 bytes), which is what the endpoint reads. weir does not reassemble a SYN's bytes, so it delivers "GET /good ..." under both policies, with no anomaly (nothing the endpoint read differs). The resend covers sequence numbers the SYN carried: rexmit_pkts 1, rexmit_bytes 22. payload 31 counts both. (Before, weir delivered the SYN's bytes first and the real request was a rexmit_different: "GET /evil" won under both policies.)
- 40241: TCP Fast Open: the SYN's "GET " (4 bytes) is acknowledged by the SYN+ACK (ack = ISN + 5), then "/tfo HTTP/1.0\\r\\n\\r\\n". As weir did not keep the SYN's bytes, the acknowledgement makes them a gap: gap_bytes 4 (written as zeros), anomaly ack_unseen_data 1; the rest is delivered. A Fast Open request's first segment is lost to inspection, and says so.
- Runs under both overlap policies (nothing is held out of order).
"""
	return {"input.pcap": cap}, exp, readme


def case_evasion_urgent():
	cap = Capture()
	c = Conn(cap, C_IP, S_IP, 40250, 80, 0x28000000, 0x29000000)
	c.handshake()
	c.send(0, PSH | ACK, b"GET /se")
	# Urgent pointer 1: the urgent byte is the segment's first, "X" (BSD's reading: the pointer
	# points past it, as Linux has it unless tcp_stdurg is set).
	c.send(0, PSH | ACK | URG, b"Xcret HTTP/1.0\r\n\r\n", urp=1)
	c.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=0)
	cap.trailer()

	def flows(pol):
		return {flow_key(c): expect_flow(c, b"GET /seXcret HTTP/1.0\r\n\r\n", b"", "fin", "time_wait",
		                                 "closed", conn_state="SF")}

	def stats(pol):
		return base_stats([cap], [c], tcp_count([c]), 1, {"fin": 1}, handshakes=1)

	exp = {"runs": policy_runs(flows, stats)}
	readme = """Urgent data: "GET /se", then a segment with URG set and urgent pointer 1 carrying "Xcret HTTP/1.0\\r\\n\\r\\n" (the urgent byte is its first, "X").

- weir ignores the urgent pointer and delivers the bytes in line under both policies: "GET /seXcret HTTP/1.0\\r\\n\\r\\n", with no anomaly (as Suricata's default `stream.reassembly.urgent.policy: inline`).
- A Linux receiver without SO_OOBINLINE (the default) takes the urgent byte out of the stream (tcp_recvmsg() skips it; the application reads it only with MSG_OOB): it reads "GET /secret HTTP/1.0\\r\\n\\r\\n". With SO_OOBINLINE it reads what weir delivers. So one byte per urgent pointer can differ between weir and the application: docs/EVASION.md lists this as open.
"""
	return {"input.pcap": cap}, exp, readme


CASES = {
	"simultaneous_open": case_simultaneous_open,
	"overlap_diff": case_overlap_diff,
	"rexmit_different": case_rexmit_different,
	"rst_in_window": case_rst_in_window,
	"rst_out_of_window": case_rst_out_of_window,
	"midstream": case_midstream,
	"ipv6_ext": case_ipv6_ext,
	"vlan": case_vlan,
	"tunnels": case_tunnels,
	"out_of_order": case_out_of_order,
	"gap": case_gap,
	"seq_wrap": case_seq_wrap,
	"syn_retx": case_syn_retx,
	"rexmit_after_syn_retx": case_rexmit_after_syn_retx,
	"half_close": case_half_close,
	"malformed": case_malformed,
	"truncated_file": case_truncated_file,
	"syn_spoofed": case_syn_spoofed,
	"port_reuse": case_port_reuse,
	"fragments": case_fragments,
	"tunnel_fragments": case_tunnel_fragments,
	"evasion_overlap_shapes": case_evasion_overlap_shapes,
	"evasion_out_of_window": case_evasion_out_of_window,
	"evasion_rst": case_evasion_rst,
	"evasion_bad_checksum": case_evasion_bad_checksum,
	"evasion_ttl_expired": case_evasion_ttl_expired,
	"evasion_syn_data": case_evasion_syn_data,
	"evasion_urgent": case_evasion_urgent,
}


def capture_drop_integrity():
	"""Inline drops (no expect.json: the test that uses it, lua/spec/drop_integrity_spec.lua,
	runs a dropping script and checks what the receivers got)."""
	cap = Capture()
	req = b"GET /index.html HTTP/1.1\r\n"
	evil, good = b"X-Attack: EVILMARKER\r\n", b"X-Attack: GOODSTUFF!\r\n"
	# 40020: the segment carrying the marker is sent three times (the sender's RTO), then nothing.
	a = Conn(cap, C_IP, S_IP, 40020, 80, 0x22000000, 0x23000000)
	a.handshake()
	a.send(0, PSH | ACK, req)
	a.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	seq = a.send(0, PSH | ACK, evil)
	a.send(0, PSH | ACK, evil, seq=seq, dt_ms=REXMIT_MS)
	a.send(0, PSH | ACK, evil, seq=seq, dt_ms=2 * REXMIT_MS)
	# 40021: the marker's segment, then a "retransmission" of the same bytes of sequence space
	# with other content: what the receiver gets when the first copy is dropped.
	b = Conn(cap, C_IP, S_IP, 40021, 80, 0x24000000, 0x25000000)
	b.handshake()
	b.send(0, PSH | ACK, req)
	b.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	seq = b.send(0, PSH | ACK, evil)
	b.send(0, PSH | ACK, good, seq=seq, dt_ms=REXMIT_MS)
	b.send(1, ACK, dt_ms=HS_RTT_MS / 2)
	b.send(1, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\n")
	b.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	b.close(first=0)
	# 40022: an in-window RST from the server's address in the middle of the response, then the
	# rest of the response and a FIN close.
	c = Conn(cap, C_IP, S_IP, 40022, 80, 0x26000000, 0x27000000)
	c.handshake()
	c.send(0, PSH | ACK, req)
	c.send(1, PSH | ACK, b"HTTP/1.1 200 OK\r\n", dt_ms=HS_RTT_MS / 2)
	c.send(1, RST | ACK)
	c.send(1, PSH | ACK, b"\r\nbody after the RST")
	c.send(0, ACK, dt_ms=HS_RTT_MS / 2)
	c.close(first=1)
	cap.trailer()
	readme = """Captures for inline drops (no expect.json: `lua/spec/drop_integrity_spec.lua` replays this file with a dropping script and checks what the receivers got; regenerate with `make_cases.py drop_integrity`).

- Port 40020: after the request line, the segment "X-Attack: EVILMARKER\\r\\n" is sent three times (200 ms, then 400 ms later, same bytes, no ACK). A script that drops every packet whose new bytes hold EVILMARKER must see each copy as new data and drop all three: the receiver got the request line only.
- Port 40021: the segment with EVILMARKER, then the same sequence space again as "X-Attack: GOODSTUFF!\\r\\n" 200 ms later, acknowledged, a response and a FIN close. Dropping the first copy, the receiver got the second: the client's stream is the request line then GOODSTUFF!.
- Port 40022: an in-window RST+ACK from the server's address between two parts of the response, then the rest and a FIN close. Dropped, the connection goes on: one flow, reason fin, the whole response.
"""
	return {"input.pcap": cap}, readme


# Captures without expectations, for tests that run scripts on them.
CAPTURES = {
	"drop_integrity": capture_drop_integrity,
}


def main(argv):
	names = argv[1:] or sorted(CASES) + sorted(CAPTURES)
	for name in names:
		if name not in CASES and name not in CAPTURES:
			sys.stderr.write("unknown case %s (have: %s)\n" % (name, " ".join(sorted(CASES) + sorted(CAPTURES))))
			return 64
		d = os.path.join(HERE, name)
		os.makedirs(d, exist_ok=True)
		if name in CAPTURES:
			files, readme = CAPTURES[name]()
			for fname, cap in files.items():
				cap.write(os.path.join(d, fname))
			with open(os.path.join(d, "README.md"), "w") as f:
				f.write("# %s\n\n%s" % (name, readme))
			print("wrote %s" % name)
			continue
		files, exp, readme = CASES[name]()
		for fname, cap in files.items():
			if isinstance(cap, tuple):
				cap[0].write(os.path.join(d, fname), cut_last_to=cap[1])
			else:
				cap.write(os.path.join(d, fname))
		exp = dict({"case": name, "inputs": ["input.pcap"]}, **exp)
		with open(os.path.join(d, "expect.json"), "w") as f:
			json.dump(exp, f, indent=1, sort_keys=True)
			f.write("\n")
		with open(os.path.join(d, "README.md"), "w") as f:
			f.write("# %s\n\n%s" % (name, readme))
		print("wrote %s" % name)
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
