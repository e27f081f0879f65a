/* fuzz_parse.c — libFuzzer target: the packet decoder. The first input byte picks the link type
 * (every one weir decodes, and one it does not) and the tunnel settings, the rest is the frame. A
 * frame it decodes as TCP also goes through the flow key and its hash, as the worker does. */
#include <stddef.h>
#include <stdint.h>

#include "flow/flowtab.h"
#include "parse/parse.h"

static const int linktypes[] = {
    WEIR_DLT_EN10MB,     WEIR_DLT_RAW,  WEIR_DLT_RAW101, WEIR_DLT_IPV4,
    WEIR_DLT_IPV6,       WEIR_DLT_NULL, WEIR_DLT_LOOP,   WEIR_DLT_LINUX_SLL,
    WEIR_DLT_LINUX_SLL2, WEIR_DLT_PPP,  WEIR_DLT_FDDI,   WEIR_DLT_PPP_SERIAL,
    WEIR_DLT_C_HDLC,     147, /* DLT_USER0: not decoded, must be reported as such */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const int linktype = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
	const uint8_t *frame = data + 1;
	const uint32_t caplen = (uint32_t)(size - 1);
	/* The wire length is the captured length, or longer (a snap length cut the frame). */
	const uint32_t wirelen = caplen + (data[0] & 0x80 ? 1000u : 0u);
	/* The default tunnel settings, or one tunnel deep with the tunnels on other ports. */
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	if (data[0] & 0x40) {
		cfg.tunnel_depth = 1;
		cfg.vxlan_port = 53, cfg.geneve_port = 123, cfg.gtpu_port = 0, cfg.teredo_port = 443;
	}
	struct weir_pkt p = {.frame = frame};
	unsigned reason = 0;
	const int r = weir_parse_cfg(&p, frame, caplen, wirelen, linktype, &cfg, &reason);
	if (r == WEIR_PARSE_TCP) {
		/* Everything the view points at must lie inside the frame. */
		if (p.payload_len &&
		    (p.payload < frame || p.payload + p.payload_len > frame + caplen))
			__builtin_trap();
		struct weir_flow_key k;
		weir_flow_key_make(&k, &p);
		(void)weir_flow_key_hash(&k);
	}
	return 0;
}
