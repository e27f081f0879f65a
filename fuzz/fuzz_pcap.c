/* fuzz_pcap.c — libFuzzer target: the capture reader (weir's classic-pcap reader and libpcap's
 * pcapng path) on a file whose bytes are the input, read to the end or to the damage. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/pcap_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The reader takes a path: an anonymous in-memory file named through /proc. */
	const int fd = memfd_create("fuzz.pcap", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int code = 0;
	struct weir_pcap_reader *rd = weir_pcap_open(path, err, sizeof(err), &code);
	if (rd) {
		struct weir_rx_pkt pkts[32];
		int n;
		while ((n = weir_pcap_next(rd, pkts, 32, err, sizeof(err))) > 0) {
			for (int i = 0; i < n; i++) {
				/* Every frame must be readable to its captured length. */
				volatile uint8_t sum = 0;
				for (uint32_t j = 0; j < pkts[i].caplen; j++)
					sum ^= pkts[i].frame[j];
				(void)sum;
			}
		}
		(void)weir_pcap_progress(rd);
		weir_pcap_close(rd);
	} else if (code != 65 && code != 66) {
		__builtin_trap(); /* a refusal is always "not a capture" or "cannot read" */
	}
	close(fd);
	return 0;
}
