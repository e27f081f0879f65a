/* syn_retx.c — the mOS paper's Listing 1 on weir: count retransmitted SYNs with a user-defined event
 * (base event REXMIT, filter "SYN and not ACK") handled at the PRE hook of a passive monitoring socket. */
#include <stdio.h>
#include <stdlib.h>

#include "io/pcap_reader.h"
#include "weir.h"

#define TH_SYN 0x02
#define TH_ACK 0x10

/* The UDE's filter: the retransmitted packet is a SYN without ACK. */
static bool is_syn(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg, void *user)
{
	(void)f, (void)side, (void)ev, (void)arg, (void)user;
	const struct weir_pkt *p = weir_worker_packet(weir_msock_worker(s));
	return p && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;
}

static void count_syn_retx(struct weir_msock *s, struct weir_flow *f, int side, uint32_t ev, uint64_t arg, void *user)
{
	(void)s, (void)f, (void)side, (void)ev, (void)arg;
	++*(unsigned long long *)user;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: syn_retx FILE...\n");
		return 64;
	}
	struct weir_config cfg;
	weir_config_defaults(&cfg);
	struct weir_worker *w = weir_worker_create(&cfg, 0);
	char err[512];
	struct weir_msock *msock = w ? weir_msock_create(w, NULL, err, sizeof(err)) : NULL; /* all TCP flows */
	unsigned long long syn_retx = 0;
	const int ude_syn = msock ? weir_event_define(w, WEIR_EV_REXMIT, is_syn, NULL) : -1;
	if (ude_syn < 0 || weir_msock_register(msock, (uint32_t)ude_syn, WEIR_HOOK_PRE, count_syn_retx, &syn_retx) != 0) {
		fprintf(stderr, "syn_retx: cannot set up the monitoring socket\n");
		weir_worker_free(w);
		return 70;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		int code = 0;
		struct weir_pcap_reader *rd = weir_pcap_open(argv[i], err, sizeof(err), &code);
		if (!rd) {
			fprintf(stderr, "syn_retx: %s\n", err);
			rc = code;
			continue;
		}
		struct weir_rx_pkt pkt;
		int n;
		while ((n = weir_pcap_next(rd, &pkt, 1, err, sizeof(err))) > 0) {
			weir_worker_rx(w, &pkt, (unsigned)n);
			weir_worker_run(w);
		}
		if (n < 0) {
			fprintf(stderr, "syn_retx: %s\n", err);
			rc = 65;
		}
		weir_pcap_close(rd);
	}
	printf("syn_retx=%llu\n", syn_retx);
	weir_worker_free(w);
	return rc;
}
