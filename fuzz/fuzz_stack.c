/* fuzz_stack.c — libFuzzer target: the whole stack on a sequence of packets (flow table, both
 * TCP sides, reassembly, events, timers), with a handler on every event that calls the flow API
 * with fuzzed arguments and drops packets.
 *
 * Input: a 4-byte header, then records. Header: settings (overlap policy, midstream, buffering,
 * table size), then the seed of the handler's choices. Records:
 *   0 | len(2) | frame             a raw Ethernet frame, as captured
 *   1 | ctl(1) | flags(1) | seq(2) | ack(2) | win(1) | len(1) | dt(1)
 *                                  a TCP segment built on one of four connections: ctl picks
 *                                  the connection (bits 0-1), the direction (bit 2), whether seq
 *                                  and ack are absolute (bit 3) or small steps from the side's
 *                                  first sequence number, options (bits 4-7: MSS, window scale,
 *                                  timestamps, SACK); len payload bytes follow the record's end
 *                                  pattern; dt advances the clock (x 100 ms past 200: timeouts). */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "weir.h"

#define BURST 8
#define FRAME_MAX 4096 /* a raw record is cut to it; a built segment is at most 14 + 60 + 60 + 255 x 8 */

struct fuzz {
	uint64_t rng;
	struct weir_worker *w;
	struct weir_msock *sock;
	uint64_t now_ns;
};

static struct fuzz fz;

static uint64_t next(void)
{
	/* xorshift64*: the handler's choices, reproducible from the input's seed */
	fz.rng ^= fz.rng >> 12;
	fz.rng ^= fz.rng << 25;
	fz.rng ^= fz.rng >> 27;
	return fz.rng * 0x2545f4914f6cdd1dull;
}

/* A value a script could pass: small, huge, negative as unsigned, or around a real offset. */
static uint64_t arg(uint64_t near)
{
	switch (next() % 6) {
	case 0: return 0;
	case 1: return near;
	case 2: return near + (next() % 64) - 32;
	case 3: return UINT64_MAX - (next() % 4);
	case 4: return (uint64_t)1 << (next() % 64);
	default: return next() % 100000;
	}
}

/* The event's side most of the time, else another or an impossible one. */
static int side_arg(int side)
{
	static const int sides[] = {0, 1, 2, 3, -1, 1 << 30};
	return next() % 2 ? side : sides[next() % 6];
}

static void handler(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t a,
                    void *user)
{
	(void)user;
	(void)ev;
	uint8_t buf[256];
	const uint8_t *ptr;
	struct weir_tuple t;
	struct weir_tcp_info ti;
	struct weir_side_counters sc;
	struct weir_buf_info bi;
	struct weir_frag fr[4];
	if (!f)
		return;
	for (int k = next() % 4; k > 0; k--) {
		switch (next() % 14) {
		case 0: (void)weir_flow_peek(f, side_arg(side), arg(a), buf, arg(sizeof(buf)) % (sizeof(buf) + 1)); break;
		case 1: (void)weir_flow_view(f, side_arg(side), arg(a), &ptr); break;
		case 2: (void)weir_flow_set_buffering(f, side_arg(side), next() & 1); break;
		case 3: (void)weir_flow_set_overlap(f, side_arg(side), (int)(next() % 4) - 1); break;
		case 4: if (next() % 8 == 0) (void)weir_flow_stop_monitor(f, side_arg(side)); break;
		case 5: (void)weir_flow_tcp_info(f, side_arg(side), &ti); break;
		case 6: (void)weir_flow_counters(f, side_arg(side), &sc); break;
		case 7: (void)weir_flow_buf_info(f, side_arg(side), &bi); break;
		case 8: (void)weir_flow_frag_info(f, side_arg(side), fr, (unsigned)(next() % 5)); break;
		case 9: (void)weir_timer_add(s, next() & 1 ? f : NULL, arg(50) % 1000000, next()); break;
		case 10: (void)weir_flow_set_user(f, s, next() & 1 ? &fz : NULL); break;
		case 11: (void)weir_flow_tuple(f, &t); (void)weir_flow_state(f, side_arg(side)); break;
		case 12: if (next() % 4 == 0) (void)weir_worker_drop(fz.w); break;
		default: (void)weir_flow_id(f); (void)weir_flow_midstream(f); (void)weir_flow_user(f, s); break;
		}
	}
}

static bool setup(uint8_t settings)
{
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	cfg.max_flows = settings & 1 ? 4 : 64; /* small tables: eviction under pressure */
	cfg.buffer_per_side = settings & 2 ? 4096 : 65536;
	cfg.memcap = settings & 4 ? 64 * 1024 : 0;
	cfg.overlap = (settings >> 3) & 1;
	cfg.midstream = !((settings >> 4) & 1);
	cfg.buffering = !((settings >> 5) & 1);
	fz.w = weir_worker_create(&cfg, 0);
	if (!fz.w)
		return false;
	char err[256];
	fz.sock = weir_msock_create(fz.w, NULL, err, sizeof(err));
	if (!fz.sock)
		return false;
	for (uint32_t ev = 0; ev < WEIR_EV_BUILTIN_COUNT; ev++)
		for (int hook = 0; hook < WEIR_HOOK_COUNT; hook++)
			(void)weir_msock_register(fz.sock, ev, hook, handler, NULL);
	return true;
}

/* Builds an Ethernet/IPv4/TCP frame into f; returns its length. */
static uint32_t build(uint8_t *f, const uint8_t *r, const uint8_t *pl, size_t plen)
{
	static const uint32_t isn[4][2] = {{1000, 50000}, {0xfffff000u, 7}, {123456789, 987654321},
	                                   {0x7fffffffu, 0x80000000u}};
	const unsigned conn = r[0] & 3, dir = (r[0] >> 2) & 1;
	const bool absolute = r[0] & 8;
	const uint16_t seqd = (uint16_t)(r[2] << 8 | r[3]), ackd = (uint16_t)(r[4] << 8 | r[5]);
	uint32_t seq = absolute ? (uint32_t)seqd << 16 : isn[conn][dir] + (int16_t)seqd;
	uint32_t ack = absolute ? (uint32_t)ackd << 16 : isn[conn][!dir] + (int16_t)ackd;
	uint8_t opt[40];
	unsigned olen = 0;
	if (r[0] & 0x10) { opt[olen++] = 2; opt[olen++] = 4; opt[olen++] = 5; opt[olen++] = 0xb4; }
	if (r[0] & 0x20) { opt[olen++] = 1; opt[olen++] = 3; opt[olen++] = 3; opt[olen++] = r[6] & 15; }
	if (r[0] & 0x40) {
		opt[olen++] = 1; opt[olen++] = 1; opt[olen++] = 8; opt[olen++] = 10;
		for (int i = 0; i < 8; i++)
			opt[olen++] = (uint8_t)(i < 4 ? (fz.now_ns >> (24 - 8 * i)) : r[1] >> (i - 4));
	}
	if (r[0] & 0x80) {
		opt[olen++] = 1; opt[olen++] = 1; opt[olen++] = 5; opt[olen++] = 10;
		const uint32_t l = ack + r[7] * 100u, rr = l + 1460;
		const uint32_t e[2] = {htonl(l), htonl(rr)};
		memcpy(opt + olen, e, 8);
		olen += 8;
	}
	const uint8_t mac[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	memcpy(f, mac, 12);
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	const uint16_t iplen = (uint16_t)(20 + 20 + olen + plen);
	memset(ip, 0, 20);
	ip[0] = 0x45, ip[2] = iplen >> 8, ip[3] = iplen & 0xff, ip[8] = 64, ip[9] = 6;
	const uint8_t a[4] = {10, 0, 0, (uint8_t)(1 + conn)}, b[4] = {10, 0, 1, 1};
	memcpy(ip + 12, dir ? b : a, 4);
	memcpy(ip + 16, dir ? a : b, 4);
	const uint16_t cport = (uint16_t)(40000 + conn), sport = 80;
	const uint16_t ports[2] = {htons(dir ? sport : cport), htons(dir ? cport : sport)};
	memcpy(tcp, ports, 4);
	const uint32_t sa[2] = {htonl(seq), htonl(ack)};
	memcpy(tcp + 4, sa, 8);
	tcp[12] = (uint8_t)((20 + olen) / 4) << 4;
	tcp[13] = r[1];
	tcp[14] = r[6], tcp[15] = 0xff;
	tcp[16] = tcp[17] = tcp[18] = tcp[19] = 0;
	memcpy(tcp + 20, opt, olen);
	memcpy(tcp + 20 + olen, pl, plen);
	return 14 + iplen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	memset(&fz, 0, sizeof(fz));
	fz.rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)data[1] << 16 | (uint64_t)data[2] << 8 | data[3]);
	if (!setup(data[0])) {
		weir_worker_free(fz.w);
		return 0;
	}
	static uint8_t frames[BURST][FRAME_MAX];
	struct weir_rx_pkt pkts[BURST];
	unsigned n = 0;
	fz.now_ns = 1700000000ull * 1000000000ull;
	size_t i = 4;
	while (i < size) {
		const uint8_t type = data[i++] % 2;
		uint32_t len = 0;
		if (type == 0) {
			if (size - i < 2)
				break;
			len = (uint32_t)data[i] << 8 | data[i + 1];
			i += 2;
			if (len > size - i)
				len = (uint32_t)(size - i);
			if (len > FRAME_MAX)
				len = FRAME_MAX;
			memcpy(frames[n], data + i, len);
			i += len;
			fz.now_ns += 1000;
		} else {
			if (size - i < 9)
				break;
			const uint8_t *r = data + i;
			i += 9;
			const uint8_t dt = r[8];
			fz.now_ns += dt < 200 ? dt * 1000000ull : (dt - 199) * 100000000000ull;
			size_t plen = r[7] * 8u;
			if (plen > size - i)
				plen = size - i;
			len = build(frames[n], r, data + i, plen);
			i += plen;
		}
		memset(&pkts[n], 0, sizeof(pkts[n]));
		pkts[n].frame = frames[n];
		pkts[n].caplen = pkts[n].wirelen = len;
		pkts[n].ts_ns = fz.now_ns;
		pkts[n].linktype = 1; /* DLT_EN10MB */
		if (++n == BURST || i >= size) {
			if (weir_worker_rx(fz.w, pkts, n) == 0)
				(void)weir_worker_run(fz.w);
			n = 0;
		}
	}
	if (n && weir_worker_rx(fz.w, pkts, n) == 0)
		(void)weir_worker_run(fz.w);
	weir_worker_tick(fz.w, fz.now_ns + 3600ull * 1000000000ull);
	(void)weir_worker_run(fz.w);
	weir_worker_shutdown(fz.w);
	(void)weir_worker_run(fz.w);
	weir_worker_free(fz.w);
	return 0;
}
