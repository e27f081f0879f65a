/* pcapw.c — the synthetic capture writer of the bench generators (see pcapw.h). */
#include "pcapw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Writes the n low bytes of v at p, most significant first (big) or last. */
static void put(uint8_t *p, uint32_t v, int n, int big)
{
	for (int k = 0; k < n; k++, v >>= 8)
		p[big ? n - 1 - k : k] = (uint8_t)v;
}

/* Ones' complement sum of len bytes (big-endian 16-bit words) added to sum, not folded. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int pcapw_open(struct pcapw *w, const char *path, size_t buf_size)
{
	static const uint8_t hdr[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
	                                0,    0,    0,    0,    0xff, 0xff, 0, 0, 1, 0, 0, 0};
	w->ts_us = 0;
	w->buf = malloc(buf_size);
	w->out = w->buf ? fopen(path, "wb") : NULL;
	if (!w->out) {
		const int e = w->buf ? errno : ENOMEM;
		free(w->buf);
		errno = e;
		return -1;
	}
	setvbuf(w->out, w->buf, _IOFBF, buf_size);
	return fwrite(hdr, 1, sizeof(hdr), w->out) == sizeof(hdr) ? 0 : -1;
}

int pcapw_close(struct pcapw *w)
{
	const int rc = fclose(w->out) == 0 ? 0 : -1;
	free(w->buf);
	return rc;
}

/* One frame: the IPv4 header (id, flags and fragment offset field frag) over l4 (len bytes). */
static int ip_frame(struct pcapw *w, const struct pcapw_seg *s, uint16_t id, uint16_t frag,
                    const uint8_t *l4, uint32_t len)
{
	uint8_t fr[16 + PCAPW_ETH + PCAPW_IP + PCAPW_MAX_L4];
	const uint32_t flen = PCAPW_ETH + PCAPW_IP + len;
	const uint64_t ts = w->ts_us++;
	put(fr, PCAPW_START_S + (uint32_t)(ts / 1000000), 4, 0);
	put(fr + 4, (uint32_t)(ts % 1000000), 4, 0);
	put(fr + 8, flen, 4, 0);
	put(fr + 12, flen, 4, 0);
	uint8_t *eth = fr + 16, *ip = eth + PCAPW_ETH;
	memcpy(eth, s->c2s ? w->smac : w->cmac, 6);
	memcpy(eth + 6, s->c2s ? w->cmac : w->smac, 6);
	put(eth + 12, 0x0800, 2, 1);
	memset(ip, 0, PCAPW_IP);
	ip[0] = 0x45;
	put(ip + 2, PCAPW_IP + len, 2, 1);
	put(ip + 4, id, 2, 1);
	put(ip + 6, frag, 2, 1);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, s->c2s ? s->cli : s->srv, 4);
	memcpy(ip + 16, s->c2s ? s->srv : s->cli, 4);
	put(ip + 10, fold(sum16(ip, PCAPW_IP, 0)), 2, 1);
	memcpy(ip + PCAPW_IP, l4, len);
	return fwrite(fr, 1, 16 + flen, w->out) == 16 + flen ? 0 : -1;
}

/* The TCP header and payload of s, checksum included, into tcp; returns their length. */
static uint32_t tcp_bytes(const struct pcapw_seg *s, uint8_t *tcp)
{
	put(tcp, s->c2s ? s->cport : s->sport, 2, 1);
	put(tcp + 2, s->c2s ? s->sport : s->cport, 2, 1);
	put(tcp + 4, s->seq, 4, 1);
	put(tcp + 8, s->flags & PCAPW_ACK ? s->ack : 0, 4, 1);
	tcp[12] = (PCAPW_TCP / 4) << 4;
	tcp[13] = s->flags;
	put(tcp + 14, 65535, 2, 1);
	put(tcp + 16, 0, 4, 1); /* checksum and urgent pointer */
	if (s->len)
		memcpy(tcp + PCAPW_TCP, s->data, s->len);
	const uint32_t len = PCAPW_TCP + s->len;
	/* pseudo header: addresses, protocol, length */
	uint32_t sum = sum16(s->c2s ? s->cli : s->srv, 4, 6 + len);
	sum = sum16(s->c2s ? s->srv : s->cli, 4, sum);
	put(tcp + 16, fold(sum16(tcp, len, sum)), 2, 1);
	return len;
}

int pcapw_tcp(struct pcapw *w, const struct pcapw_seg *s)
{
	uint8_t tcp[PCAPW_MAX_L4];
	const uint32_t len = tcp_bytes(s, tcp);
	return ip_frame(w, s, 0, PCAPW_DF, tcp, len);
}

int pcapw_tcp_frags(struct pcapw *w, const struct pcapw_seg *s, uint16_t id, uint32_t frag,
                    uint64_t skip)
{
	uint8_t tcp[PCAPW_MAX_L4];
	const uint32_t len = tcp_bytes(s, tcp);
	int n = 0;
	for (uint32_t off = 0, k = 0; off < len; off += frag, k++) {
		if (k < 64 && skip >> k & 1)
			continue;
		const uint32_t part = len - off < frag ? len - off : frag;
		const uint16_t field = (uint16_t)(off / 8 | (off + part < len ? PCAPW_MF : 0));
		if (ip_frame(w, s, id, field, tcp + off, part) != 0)
			return -1;
		n++;
	}
	return n;
}
