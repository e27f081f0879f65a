/* pcap_reader.h — offline input: pcap and pcapng files as bursts of struct weir_rx_pkt. */
#ifndef WEIR_PCAP_READER_H
#define WEIR_PCAP_READER_H

#include <stddef.h>

#include "weir.h"

struct weir_pcap_reader;

/** Opens a capture file. NULL on failure with a message naming the file in err and *exit_code
 *  set to a sysexits code: 66 (EX_NOINPUT) when it cannot be read (missing, unreadable, a
 *  directory), 65 (EX_DATAERR) when it is not a capture libpcap understands. A link type weir_parse() does not decode is named on stderr
 *  ("FILE: link type N (NAME) is not decoded by weir ..."): the file is still read, its frames
 *  counted as malformed (unknown_linktype). */
struct weir_pcap_reader *weir_pcap_open(const char *path, char *err, size_t errlen, int *exit_code);
/** Closes the file. NULL is a no-op. */
void weir_pcap_close(struct weir_pcap_reader *r);
/**
 * Fills pkts with the next packets (at most max; nothing is copied: frames point into the reader's
 * read buffer or libpcap's and stay valid until the next call; a classic pcap file gives
 * up to max packets per call, other input one). Returns the count, 0 at the end of the file, or
 * -EIO when the file is damaged or truncated, or a timestamp lies outside 1970..2554 (what
 * nanoseconds since 1970 hold in 64 bits): err then says after how many packets; everything
 * before the damage was returned, and nothing after it is read (tests/pcap/broken_captures.py).
 */
int weir_pcap_next(struct weir_pcap_reader *r, struct weir_rx_pkt *pkts, unsigned max, char *err, size_t errlen);
/** Fraction of the file read so far (0..1), for progress displays. */
double weir_pcap_progress(const struct weir_pcap_reader *r);
/** Packets returned so far. */
unsigned long long weir_pcap_count(const struct weir_pcap_reader *r);

#endif
