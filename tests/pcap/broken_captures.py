#!/usr/bin/env python3
"""broken_captures.py — damaged pcap and pcapng files through `weir replay`: each must end with the
exit code and the message the table below gives (the file's name and how many packets came before
the damage), after processing those packets; a file that is odd but readable must be read whole.

usage: broken_captures.py WEIR

Where a capture is damaged weir stops reading it: the packets before the damage are processed and
reported, the rest of the file is not (a record's length is all there is to find the next one,
and once it is wrong nothing after it can be trusted). The captures are written here with plain
`struct`; the pcapng messages after "damaged after packet N: " are libpcap's own.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile

TIMEOUT_S = 30


def frame(i):
	"""An Ethernet/IPv4/TCP SYN, padded to 60 bytes; each i is a new flow."""
	tcp = struct.pack(">HHIIBBHHH", 40000 + i, 80, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
	ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
	                 socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2"))
	f = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip + tcp
	return f + b"\0" * (60 - len(f))


# ---- classic pcap ----
def pcap_hdr(snaplen=65535):
	return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)


def rec(i, caplen=None, wirelen=None, usec=0):
	d = frame(i)
	return struct.pack("<IIII", 1700000000 + i, usec, len(d) if caplen is None else caplen,
	                   len(d) if wirelen is None else wirelen) + d


# ---- pcapng ----
def blk(btype, body, e="<", total=None):
	body += b"\0" * ((4 - len(body) % 4) % 4)
	n = 12 + len(body) if total is None else total
	return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def shb(e="<"):
	return blk(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1), e)


def idb(snaplen=0, e="<", opts=b""):
	return blk(1, struct.pack(e + "HHI", 1, 0, snaplen) + opts, e)


def tsoffset(sec):
	"""if_tsoffset (option 14): seconds added to every timestamp of the interface."""
	return struct.pack("<HHq", 14, 8, sec) + struct.pack("<HH", 0, 0)


def epb(i, iface=0, ts_us=1700000000000000, caplen=None, e="<", total=None):
	d = frame(i)
	head = struct.pack(e + "IIIII", iface, (ts_us >> 32) & 0xFFFFFFFF, ts_us & 0xFFFFFFFF,
	                   len(d) if caplen is None else caplen, len(d))
	return blk(6, head + d, e, total)


NG = shb() + idb()
GOOD = [epb(i) for i in range(3)]

# (file, bytes, exit code, message after "weir replay: FILE: " or None for none, packets read)
CASES = [
	# classic pcap
	("empty.pcap", b"", 65,
	 "not a readable capture: truncated dump file; tried to read 4 file header bytes, only got 0", 0),
	("short_header.pcap", pcap_hdr()[:10], 65,
	 "not a readable capture: truncated dump file; tried to read 24 file header bytes, only got 6", 0),
	("header_only.pcap", pcap_hdr(), 0, None, 0),
	("caplen_huge.pcap", pcap_hdr() + rec(0) + rec(1, caplen=0x7FFFFFFF) + rec(2), 65,
	 "damaged after packet 1: invalid packet capture length 2147483647, bigger than the maximum of 262144", 1),
	("cut_record_header.pcap", pcap_hdr() + rec(0) + rec(1)[:10], 65,
	 "damaged after packet 1: truncated dump file; tried to read 16 header bytes, only got 10", 1),
	("cut_record_data.pcap", pcap_hdr() + rec(0) + rec(1)[:40], 65,
	 "damaged after packet 1: truncated dump file; tried to read 60 captured bytes, only got 24", 1),
	# odd but readable: a snap length of 0 means "no limit"; a capture length over the wire
	# length or a microsecond field past a second are read as they are
	("snaplen0.pcap", pcap_hdr(0) + rec(0) + rec(1), 0, None, 2),
	("caplen_over_wirelen.pcap", pcap_hdr() + rec(0, wirelen=20), 0, None, 1),
	("usec_overflow.pcap", pcap_hdr() + rec(0, usec=2000000), 0, None, 1),
	# pcapng
	("ok.pcapng", NG + b"".join(GOOD), 0, None, 3),
	("big_endian.pcapng", shb(">") + idb(e=">") + b"".join(epb(i, e=">") for i in range(3)), 0, None, 3),
	("unknown_block.pcapng", NG + GOOD[0] + blk(0x0BADB10C, b"not a block libpcap knows") + GOOD[1] + GOOD[2],
	 0, None, 3),
	("snaplen0.pcapng", shb() + idb(0) + b"".join(GOOD), 0, None, 3),
	("block_length_short.pcapng", NG + GOOD[0] + epb(1, total=8) + GOOD[2], 65,
	 "damaged after packet 1: block in pcapng dump file has a length of 8 < 12", 1),
	("block_length_unaligned.pcapng", NG + GOOD[0] + epb(1, total=99) + GOOD[2], 65,
	 "damaged after packet 1: block in pcapng dump file has a length of 99 that is not a multiple of 4", 1),
	("block_length_huge.pcapng", NG + GOOD[0] + epb(1, total=0x7FFFFFF0) + GOOD[2], 65,
	 "damaged after packet 1: pcapng block size 2147483632 > maximum 16777216", 1),
	("caplen_over_block.pcapng", NG + GOOD[0] + epb(1, caplen=5000) + GOOD[2], 65,
	 "damaged after packet 1: block of type 6 in pcapng dump file is too short", 1),
	("caplen_over_snaplen.pcapng", shb() + idb(40) + b"".join(GOOD), 65,
	 "damaged after packet 0: invalid packet capture length 60, bigger than snaplen of 40", 0),
	("interface_out_of_range.pcapng", NG + GOOD[0] + epb(1, iface=5) + GOOD[2], 65,
	 "damaged after packet 1: a packet arrived on interface 5, but there's no Interface Description "
	 "Block for that interface", 1),
	("no_interface.pcapng", shb() + b"".join(GOOD), 65,
	 "not a readable capture: the capture file has a packet block before any Interface Description Blocks", 0),
	("truncated.pcapng", (NG + b"".join(GOOD))[:-30], 65,
	 "damaged after packet 2: truncated pcapng dump file; tried to read 84 bytes, only got 54", 2),
	# a second section in the other byte order: libpcap reads one byte order a file
	("second_section_swapped.pcapng", NG + GOOD[0] + shb(">") + idb(e=">") + epb(1, e=">"), 65,
	 "damaged after packet 1: pcapng block size 469762048 > maximum 16777216", 1),
	# 2^64-1 us is past what nanoseconds since 1970 can hold in 64 bits (2554); an offset of
	# -2e9 s puts a timestamp before 1970
	("timestamp_huge.pcapng", NG + GOOD[0] + epb(1, ts_us=2**64 - 1) + GOOD[2], 65,
	 "damaged after packet 1: timestamp 18446744073709 s is out of range (0 to 18446744072 s)", 1),
	("timestamp_negative.pcapng", shb() + idb(opts=tsoffset(-2000000000)) + GOOD[0], 65,
	 "damaged after packet 0: timestamp -300000000 s is out of range (0 to 18446744072 s)", 0),
]


def main():
	if len(sys.argv) != 2:
		sys.stderr.write(__doc__)
		return 2
	weir = sys.argv[1]
	bad = 0
	with tempfile.TemporaryDirectory(prefix="weir-broken-") as tmp:
		stats = os.path.join(tmp, "stats.json")
		for name, data, code, msg, packets in CASES:
			path = os.path.join(tmp, name)
			with open(path, "wb") as f:
				f.write(data)
			p = subprocess.run([weir, "replay", "--quiet", "--stats-json", stats, path],
			                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=TIMEOUT_S)
			err = p.stderr.decode(errors="replace")
			want = "" if msg is None else "weir replay: %s: %s\n" % (path, msg)
			got_packets = None
			if os.path.exists(stats):
				with open(stats) as f:
					got_packets = json.load(f)["files"][0]["packets"]
			ok = p.returncode == code and err == want and got_packets == packets
			print("%-32s exit %d, %s packets, %s" % (name, p.returncode, got_packets, err.strip() or "no message")
			      + ("" if ok else "  MISMATCH: want exit %d, %d packets, %r" % (code, packets, want)))
			bad += not ok
			if os.path.exists(stats):
				os.unlink(stats)
		# a directory or a missing file is no input (66)
		for path, what in ((tmp, "Is a directory"), (os.path.join(tmp, "missing.pcap"), "No such file or directory")):
			p = subprocess.run([weir, "replay", "--quiet", path], stdout=subprocess.DEVNULL,
			                   stderr=subprocess.PIPE, timeout=TIMEOUT_S)
			err = p.stderr.decode(errors="replace")
			want = "weir replay: %s: %s\n" % (path, what)
			ok = p.returncode == 66 and err == want
			print("%-32s exit %d, %s" % (os.path.basename(path) or path, p.returncode, err.strip())
			      + ("" if ok else "  MISMATCH: want exit 66, %r" % want))
			bad += not ok
	print("%d of %d broken captures as expected" % (len(CASES) + 2 - bad, len(CASES) + 2))
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
