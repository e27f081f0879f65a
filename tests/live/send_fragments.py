#!/usr/bin/env python3
"""send_fragments.py — live test helper: one TCP segment split into IPv6 fragments, sent as raw frames.

usage: send_fragments.py IFACE DST_MAC SRC_IP6 DST_IP6 DPORT FRAGMENTS
Builds a PSH|ACK segment with a correct TCP checksum, cuts it into FRAGMENTS pieces (8-byte
multiples, the TCP header whole in the first), and sends each as an Ethernet frame carrying IPv6
and a fragment header, through an AF_PACKET socket on IFACE. Reassembled, the segment is valid;
each piece alone is what a detector that skips fragments never sees. IPv6, because DPDK's
net_af_packet ports have the kernel reassemble IPv4 fragments before weir gets them
(PACKET_FANOUT_FLAG_DEFRAG); IPv6 fragments reach weir as they are. Prints the fragments sent.
"""
import os
import socket
import struct
import sys

PIECE = 32  # bytes of the segment per fragment: a multiple of 8 that holds the 20-byte TCP header
NH_TCP, NH_FRAGMENT = 6, 44


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def segment(src, dst, dport, length):
    payload = (b"GET /weir-fragment-test HTTP/1.0\r\n" * 8)[: length - 20]
    sport = 40000 + os.getpid() % 20000
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 0x12345678, 1, 5 << 4, 0x18, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!IxxxB", length, NH_TCP)
    csum = checksum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:] + payload


def main():
    iface, dst_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
    src, dst = socket.inet_pton(socket.AF_INET6, sys.argv[3]), socket.inet_pton(socket.AF_INET6, sys.argv[4])
    dport, count = int(sys.argv[5]), int(sys.argv[6])
    src_mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
    seg = segment(src, dst, dport, PIECE * count)
    ident = os.getpid()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for i in range(count):
        piece = seg[i * PIECE : (i + 1) * PIECE]
        more = 1 if i < count - 1 else 0
        frag = struct.pack("!BBHI", NH_TCP, 0, (i * PIECE // 8) << 3 | more, ident)
        ip6 = struct.pack("!IHBB", 6 << 28, len(frag) + len(piece), NH_FRAGMENT, 64) + src + dst
        s.send(dst_mac + src_mac + b"\x86\xdd" + ip6 + frag + piece)
    print(count)


if __name__ == "__main__":
    main()
