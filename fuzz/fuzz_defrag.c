/* fuzz_defrag.c — libFuzzer target: the IP defragmenter under small caps, fed IPv4 and IPv6
 * fragments built from compact records, so that the fuzzer steers ids, offsets, lengths, the
 * more-fragments bit, overlaps and the clock rather than header bytes. Each completed datagram
 * must be a whole IP packet the decoder accepts as such.
 *
 * Input: a settings byte (overlap policy, caps), then records of 6 bytes:
 *   ctl(1): bit 0 IPv6, bits 1-2 the datagram (id), bit 3 more fragments, bit 4 protocol UDP,
 *           bits 5-7 the payload pattern
 *   off(2): offset in 8-byte units (13 bits)   len(1): payload bytes / 4   dt(2): ms to advance */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "defrag/defrag.h"
#include "parse/parse.h"

static uint32_t build(uint8_t *f, const uint8_t *r)
{
	const int v6 = r[0] & 1;
	const uint16_t off = (uint16_t)((r[1] << 8 | r[2]) & 0x1fff);
	const uint32_t plen = r[3] * 4u;
	const int mf = (r[0] >> 3) & 1;
	const uint8_t proto = r[0] & 0x10 ? 17 : 6;
	const uint32_t id = (r[0] >> 1) & 3;
	memset(f, 0, 14);
	f[12] = v6 ? 0x86 : 0x08, f[13] = v6 ? 0xdd : 0x00;
	uint8_t *ip = f + 14, *pl;
	if (v6) {
		memset(ip, 0, 48);
		ip[0] = 0x60;
		const uint16_t len = htons((uint16_t)(8 + plen));
		memcpy(ip + 4, &len, 2);
		ip[6] = 44, ip[7] = 64;
		ip[8 + 15] = 1, ip[24 + 15] = 2;
		uint8_t *fh = ip + 40;
		fh[0] = proto;
		const uint16_t o = htons((uint16_t)(off << 3 | mf));
		memcpy(fh + 2, &o, 2);
		const uint32_t i = htonl(id);
		memcpy(fh + 4, &i, 4);
		pl = fh + 8;
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		const uint16_t len = htons((uint16_t)(20 + plen));
		memcpy(ip + 2, &len, 2);
		ip[5] = (uint8_t)id;
		const uint16_t o = htons((uint16_t)(off | (mf ? 0x2000 : 0)));
		memcpy(ip + 6, &o, 2);
		ip[8] = 64, ip[9] = proto;
		ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
		pl = ip + 20;
	}
	for (uint32_t k = 0; k < plen; k++)
		pl[k] = (uint8_t)(k + (r[0] >> 5)); /* a pattern per record: overlaps may differ */
	return (uint32_t)(pl - f) + plen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	cfg.defrag_overlap = data[0] & 1;
	cfg.defrag_max_frags = data[0] & 2 ? 4 : 64;
	cfg.defrag_memcap = data[0] & 4 ? 4096 : 1 << 20;
	cfg.defrag_timeout_ms = data[0] & 8 ? 50 : 60000;
	uint64_t st[WEIR_DF_COUNT] = {0};
	struct weir_defrag *d = weir_defrag_create(&cfg, st);
	if (!d)
		__builtin_trap(); /* these settings are all valid */
	static uint8_t frame[14 + 48 + 1024];
	uint64_t now = 1;
	for (size_t i = 1; i + 6 <= size; i += 6) {
		const uint8_t *r = data + i;
		now += (uint64_t)(r[4] << 8 | r[5]) * 1000000ull;
		const uint32_t len = build(frame, r);
		struct weir_pkt p = {
		    .frame = frame}; /* the caller's part of the view, as the worker's */
		unsigned reason = 0;
		if (weir_parse(&p, frame, len, len, WEIR_DLT_EN10MB, &reason) !=
		    WEIR_PARSE_FRAGMENT)
			continue;
		struct weir_defrag_dgram g;
		if (weir_defrag_add(d, &p, len, now, &g) != WEIR_FRAG_DONE)
			continue;
		if (g.len > WEIR_DEFRAG_IP_MAX + 40 || g.ip_ver != (r[0] & 1 ? 6 : 4))
			__builtin_trap();
		struct weir_pkt q = {.frame = g.ip};
		const int res = weir_parse(&q, g.ip, g.len, g.len,
		                           g.ip_ver == 6 ? WEIR_DLT_IPV6 : WEIR_DLT_IPV4, &reason);
		if (res == WEIR_PARSE_FRAGMENT)
			__builtin_trap(); /* a completed datagram is no fragment any more */
	}
	weir_defrag_free(d);
	return 0;
}
