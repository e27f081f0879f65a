/* pcapw.h — the synthetic capture writer the bench generators share (weir_gen_flows, weir_flood):
 * Ethernet + IPv4 + TCP frames with valid checksums into a classic pcap, through a big stdio
 * buffer, one microsecond apart. */
#ifndef WEIR_BENCH_PCAPW_H
#define WEIR_BENCH_PCAPW_H

#include <stdint.h>
#include <stdio.h>

enum {
	PCAPW_ETH = 14, /* Ethernet II, no tag */
	PCAPW_IP = 20,  /* IPv4, no options */
	PCAPW_TCP = 20, /* no options */
	PCAPW_MAX_L4 = 1480,
	PCAPW_FIN = 0x01,
	PCAPW_SYN = 0x02,
	PCAPW_PSH = 0x08,
	PCAPW_ACK = 0x10,
	PCAPW_MF = 0x2000, /* IPv4 more-fragments flag */
	PCAPW_DF = 0x4000, /* IPv4 don't-fragment flag */
};

/* Packets are 1 us apart from this time (2023-11-14T22:13:20Z). */
#define PCAPW_START_S 1700000000u

struct pcapw {
	FILE *out;
	char *buf;
	uint64_t ts_us;  /* the next packet's time, since PCAPW_START_S */
	uint8_t cmac[6]; /* the client's MAC: source of client-to-server frames */
	uint8_t smac[6]; /* the server's */
};

/* One TCP segment of a connection between cli:cport and srv:sport. */
struct pcapw_seg {
	const uint8_t *cli, *srv; /* 4 bytes each */
	uint16_t cport, sport;
	int c2s; /* 1: from the client */
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len; /* at most PCAPW_MAX_L4 - PCAPW_TCP */
};

/* Opens path with a buf_size stdio buffer and writes the pcap header. 0, or -1 (errno set). */
int pcapw_open(struct pcapw *w, const char *path, size_t buf_size);
/* Flushes and closes: 0, or -1 when a write failed. */
int pcapw_close(struct pcapw *w);
/* Writes s as one frame (DF set, IP id 0). 0, or -1 when the write failed. */
int pcapw_tcp(struct pcapw *w, const struct pcapw_seg *s);
/* Writes s as IP datagram `id` cut into fragments of frag bytes (a multiple of 8), except those
 * whose bit is set in skip (fragment k: bit k); returns the number written, or -1. */
int pcapw_tcp_frags(struct pcapw *w, const struct pcapw_seg *s, uint16_t id, uint32_t frag,
                    uint64_t skip);

#endif
