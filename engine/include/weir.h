/* weir.h — the public C API of the weir flow-monitoring stack (workers, monitoring sockets, events, flows). */
#ifndef WEIR_H
#define WEIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * @file
 * weir watches TCP flows, keeps both endpoints' TCP state per flow, reassembles each side's byte
 * stream and raises events to handlers registered on monitoring sockets.
 *
 * Threading: everything hangs off a struct weir_worker. A worker and every object reached from it
 * (sockets, flows, event records, packet views) belong to the one thread that created the worker;
 * no call is thread-safe across workers, and none needs to be: workers share nothing.
 *
 * Errors: constructors return NULL and set errno; int functions return 0 (or a count) on success
 * and a negative errno on failure. No function exits, aborts or asserts on its input.
 *
 * The loop (pull style): the caller hands the worker a burst of packets (weir_worker_rx), then calls
 * weir_worker_poll() until it returns 0. Each non-zero poll returns the event records of exactly one
 * hook point of one packet (or one timer tick); the flow state seen by a handler is the state as of
 * that hook. weir_dispatch() runs the C handlers of a batch; a Lua host dispatches the same records
 * itself. weir_worker_run() is poll+dispatch until the burst is done.
 */

/** Endpoint of a flow. The client is the side that sent the first SYN (or, picked up mid-stream,
 *  the sender of the first packet seen; a SYN+ACK seen first makes its sender the server). */
enum weir_side { WEIR_SIDE_CLIENT = 0, WEIR_SIDE_SERVER = 1, WEIR_SIDE_BOTH = 2 };

/** Hook points within one packet's processing, in order.
 *  PRE: before either side's TCP update. POST_SND: after the sender's update (its state as the
 *  sender of this packet). POST_RCV: after the receiver's update and the reassembly of the payload.
 *  Events without a packet (idle timeout, user timer, end of flow at timeout/eviction/shutdown)
 *  are raised at POST_RCV and weir_worker_packet() then returns NULL.
 *
 *  Drop verdicts (weir_worker_drop) follow the packet's receiver: a dropped packet never reached
 *  it, so weir's view of the receiver must not change either.
 *  - Dropped at PRE or POST_SND: the receiver's update is skipped and POST_RCV is not raised for
 *    the packet. The sender's update stands (the sender did send it: its packet, byte and payload
 *    counters include it).
 *  - Dropped at POST_RCV: the receiver's update is undone once the packet's POST_RCV handlers
 *    have run: both sides' states and acknowledgements, both streams' offsets, held out-of-order
 *    ranges and counters, the history, handshake and end. A retransmission of the same bytes is
 *    then new data: delivered again, with NEW_DATA again (a detector can drop it again), so the
 *    stream equals what the receiver got. The ring's bytes stay where they are; what handlers
 *    changed (buffering, overlap policy, stopped sides) stays. Under WEIR_OVERLAP_LAST, held
 *    bytes the dropped packet overlapped keep its copy until they are re-sent.
 *  - A packet that ends the flow (RST, last ACK) raises CONN_END in a batch of its own after its
 *    POST_RCV handlers, and only when it was not dropped: a dropped RST does not end the flow. A
 *    drop from a handler of that batch (CONN_END, NEW_DATA of the bytes the end flushed) drops
 *    the packet but the end stands. A dropped RST leaves its sender's state as it was too (it
 *    may be an attacker's); its counters and Zeek facts keep it.
 *  Dropped packets are counted in weir_stats.drops. */
enum weir_hook { WEIR_HOOK_PRE = 0, WEIR_HOOK_POST_SND = 1, WEIR_HOOK_POST_RCV = 2, WEIR_HOOK_COUNT = 3 };

/** Built-in events. The record's side is the endpoint the event is about (see each). Which hooks
 *  raise which event is fixed; registering at a hook that never raises the event is -EINVAL:
 *  - PKT_IN          PRE, POST_SND, POST_RCV  every packet of a monitored flow; side = sender
 *  - CONN_START      PRE, POST_SND, POST_RCV  first packet of a new flow; side = sender
 *  - HANDSHAKE_DONE  POST_RCV                 both sides ESTABLISHED for the first time; side = sender of the completing ACK
 *  - STATE_CHANGE    POST_SND, POST_RCV       a side's TCP state changed; side = that side; arg = old<<8 | new
 *  - NEW_DATA        POST_RCV                 a side's stream advanced; side = the stream's sender; arg = bytes it
 *                                             advanced (gap bytes included, read as zeros): the new bytes are [next - arg, next)
 *  - REXMIT          PRE, POST_SND, POST_RCV  the packet retransmits sequence space already sent; side = sender
 *  - CONN_END        POST_RCV                 the flow ends (once per flow; after the POST_RCV batch of the packet
 *                                             that ended it, unless that packet was dropped); side = BOTH;
 *                                             arg = enum weir_close_reason
 *  - ORPHAN          PRE                      a TCP packet that belongs to no flow and creates none; flow = NULL; side = BOTH
 *  - ANOMALY         POST_SND, POST_RCV       something a correct stack would not do; arg = enum weir_anomaly; side = offending sender
 *  - TIMEOUT         POST_RCV                 the flow was idle past its timeout (CONN_END follows); side = BOTH
 *  - TIMER           POST_RCV                 a user timer fired; arg = its cookie; flow may be NULL */
enum weir_event {
	WEIR_EV_PKT_IN = 0,
	WEIR_EV_CONN_START = 1,
	WEIR_EV_HANDSHAKE_DONE = 2,
	WEIR_EV_STATE_CHANGE = 3,
	WEIR_EV_NEW_DATA = 4,
	WEIR_EV_REXMIT = 5,
	WEIR_EV_CONN_END = 6,
	WEIR_EV_ORPHAN = 7,
	WEIR_EV_ANOMALY = 8,
	WEIR_EV_TIMEOUT = 9,
	WEIR_EV_TIMER = 10,
	WEIR_EV_BUILTIN_COUNT = 11,
	/** User-defined event ids start here; they are ids, not bits. */
	WEIR_EV_UDE_FIRST = 64,
	WEIR_EV_UDE_MAX = 64 + 1024,
};

/** Reasons attached to WEIR_EV_ANOMALY and counted per worker. */
enum weir_anomaly {
	WEIR_AN_RST_OUT_OF_WINDOW = 0,  /**< RST whose sequence is not one the receiver may expect next (between what
	                                     it acknowledged and what the sender sent): ignored, as the endpoint does
	                                     (RFC 5961 §3.2: an in-window one earns a challenge ACK) */
	WEIR_AN_SYN_ON_ESTABLISHED = 1, /**< SYN (new ISN) on a synchronized side: as the endpoint does (RFC 5961
	                                     §4: a challenge ACK), it changes nothing and the flow goes on; a
	                                     spoofed SYN cannot end inspection (see WEIR_CLOSE_REUSED) */
	WEIR_AN_DATA_OUT_OF_WINDOW = 2, /**< payload beyond what the receiver advertised */
	WEIR_AN_REXMIT_DIFFERENT = 3,   /**< retransmitted bytes differ from the original: evasion signal */
	WEIR_AN_OVERLAP_DIFFERENT = 4,  /**< out-of-order segments overlap with different bytes */
	WEIR_AN_BUFFER_OUTRUN = 5,      /**< out-of-order bytes did not fit the side's buffer and were discarded */
	WEIR_AN_ACK_UNSEEN_DATA = 6,    /**< the peer acknowledged bytes this box never saw (a gap) */
	WEIR_AN_BAD_FLAGS = 7,          /**< SYN+FIN, SYN+RST, no flags at all, ... */
	WEIR_AN_DATA_AFTER_FIN = 8,     /**< payload beyond a side's FIN */
	WEIR_AN_MEMCAP = 9,             /**< the worker's stream memory cap was hit; that side stops buffering */
	WEIR_AN_FRAG_OVERLAP_DIFFERENT = 10, /**< the packet was reassembled from IP fragments that overlap with
	                                          different bytes (evasion signal; the defrag overlap policy chose
	                                          which bytes the packet carries); raised at POST_SND */
	WEIR_AN_COUNT = 11,
};

/** RFC 793 states, as each endpoint is believed to be. */
enum weir_tcp_state {
	WEIR_TCP_CLOSED = 0, WEIR_TCP_LISTEN = 1, WEIR_TCP_SYN_SENT = 2, WEIR_TCP_SYN_RCVD = 3,
	WEIR_TCP_ESTABLISHED = 4, WEIR_TCP_FIN_WAIT_1 = 5, WEIR_TCP_FIN_WAIT_2 = 6,
	WEIR_TCP_CLOSE_WAIT = 7, WEIR_TCP_CLOSING = 8, WEIR_TCP_LAST_ACK = 9, WEIR_TCP_TIME_WAIT = 10,
	WEIR_TCP_STATE_COUNT = 11,
};

/** Why a flow ended. */
enum weir_close_reason {
	WEIR_CLOSE_NONE = 0, WEIR_CLOSE_FIN = 1, WEIR_CLOSE_RST = 2, WEIR_CLOSE_TIMEOUT = 3,
	WEIR_CLOSE_EVICTED = 4, WEIR_CLOSE_SHUTDOWN = 5,
	/** a client SYN with a new ISN on the same addresses and ports opened a new connection before
	 *  the old one's end was seen: its handshake never completed, or the server was closed or in
	 *  TIME_WAIT, or (on a synchronized connection) the server answered the SYN with a SYN+ACK for
	 *  its ISN; the SYN then opens the new flow. Without that answer the SYN is an anomaly
	 *  (SYN_ON_ESTABLISHED) and the old flow goes on. */
	WEIR_CLOSE_REUSED = 6,
	WEIR_CLOSE_COUNT = 7,
};

/** Which copy wins when two segments cover the same stream bytes (before delivery). */
enum weir_overlap { WEIR_OVERLAP_FIRST = 0, WEIR_OVERLAP_LAST = 1 };

/** Which packets have their IPv4 header and TCP checksums verified (struct weir_config.checksums).
 *  A packet that fails is counted (WEIR_MAL_IP_CHECKSUM, WEIR_MAL_TCP_CHECKSUM) and not
 *  tracked: the endpoint drops it, so a detector that took its bytes would be evaded. Inline it
 *  is forwarded (the endpoint drops it), as Suricata and Snort inline do. */
enum weir_checksums {
	/** frames from a live port (WEIR_RXCSUM_LIVE), except what the NIC verified; not captures,
	 *  whose senders' offloaded checksums are wrong */
	WEIR_CHECKSUMS_AUTO = 0,
	WEIR_CHECKSUMS_VERIFY = 1, /**< every frame, captures too, except what the NIC verified */
	WEIR_CHECKSUMS_OFF = 2,    /**< none */
};

/** What the receiver knows of a frame's checksums (struct weir_rx_pkt.csum, bits). 0: a frame
 *  read from a capture. The NIC's verdicts (DPDK RTE_MBUF_F_RX_*_CKSUM_GOOD/BAD) describe the
 *  outermost headers, so they are used only for frames not in a tunnel. */
enum weir_rx_csum {
	WEIR_RXCSUM_LIVE = 1,    /**< from a live port: checksums = "auto" verifies it */
	WEIR_RXCSUM_IP_GOOD = 2, /**< the NIC verified the IPv4 header checksum: right */
	WEIR_RXCSUM_IP_BAD = 4,  /**< ... wrong */
	WEIR_RXCSUM_L4_GOOD = 8, /**< the NIC verified the TCP checksum: right */
	WEIR_RXCSUM_L4_BAD = 16, /**< ... wrong */
};

/** What a full flow table does with a new flow. */
enum weir_flow_policy { WEIR_FLOWS_EVICT_IDLEST = 0, WEIR_FLOWS_REFUSE_NEW = 1 };

/** Reasons a frame is counted as malformed (not processed further, except BAD_TCP_OPT; never a crash). */
enum weir_malformed {
	WEIR_MAL_TRUNC_L2 = 0, WEIR_MAL_TRUNC_IP = 1, WEIR_MAL_BAD_IP_VERSION = 2,
	WEIR_MAL_BAD_IP_HLEN = 3, WEIR_MAL_BAD_IP_LEN = 4, WEIR_MAL_TRUNC_IPV6_EXT = 5,
	WEIR_MAL_TRUNC_TCP = 6, WEIR_MAL_BAD_TCP_HLEN = 7,
	WEIR_MAL_BAD_TCP_OPT = 8, /**< counted, yet the segment is tracked with the options before it (as Linux does) */
	WEIR_MAL_UNKNOWN_LINKTYPE = 9, /**< the capture's link type is not one weir decodes (the file is named at open) */
	WEIR_MAL_L2_DEPTH = 10,        /**< more link-layer headers (tags, labels, ...) than WEIR_L2_MAX_HEADERS */
	WEIR_MAL_MPLS_NO_BOS = 11,     /**< the frame ends inside an MPLS label stack: no bottom-of-stack label */
	WEIR_MAL_BAD_PPPOE = 12,       /**< a PPPoE session header whose version/type is not 1/1 or whose code is not 0 */
	WEIR_MAL_BAD_PPPOE_LEN = 13,   /**< a PPPoE length shorter than the PPP protocol field, or longer than the whole frame */
	WEIR_MAL_BAD_TUNNEL = 14,        /**< a tunnel header (GRE, VXLAN, Geneve, GTP-U, AYIYA, ...) truncated or invalid */
	WEIR_MAL_TUNNEL_DEPTH = 15,      /**< tunnels nested deeper than tunnels.max_depth: not decapsulated */
	WEIR_MAL_TUNNEL_UNSUPPORTED = 16, /**< a valid tunnel header over a payload weir does not decode (GRE
	                                       routing, encrypted 802.11, PPP other than IP, ...): not processed */
	WEIR_MAL_IP_CHECKSUM = 17,  /**< an IPv4 header (or fragment) whose header checksum is wrong: the host drops it, so
	                                 weir does not track it (checked under the checksums setting) */
	WEIR_MAL_TCP_CHECKSUM = 18, /**< a TCP segment (over IPv4 or IPv6, reassembled or not) whose checksum is wrong:
	                                 not given to the TCP state machine (checked under the checksums setting) */
	WEIR_MAL_COUNT = 19,
};

/** Link-layer headers weir walks in one frame below the link type's own header (Ethernet, SLL,
 *  ...) before it gives up (WEIR_MAL_L2_DEPTH): each VLAN tag, each MPLS label, PBB, PPPoE, PPP,
 *  LLC, ... Suricata's decoder stops at 16 layers too. */
enum { WEIR_L2_MAX_HEADERS = 16 };

/** Link-layer encapsulations a frame may cross on its way to IP, counted per kind in
 *  weir_stats.encap (a frame counts once per kind, whatever the number of such headers). */
enum weir_encap {
	WEIR_ENCAP_VLAN = 0,       /**< 802.1Q, 802.1ad or 0x9100 tags */
	WEIR_ENCAP_MPLS = 1,       /**< an MPLS label stack (unicast or multicast) */
	WEIR_ENCAP_PPPOE = 2,      /**< a PPPoE session header */
	WEIR_ENCAP_PPP = 3,        /**< a PPP protocol field: PPP links (DLT 9, 50) and inside PPPoE */
	WEIR_ENCAP_PBB = 4,        /**< an 802.1ah provider backbone bridge I-tag */
	WEIR_ENCAP_LLC = 5,        /**< an 802.2 LLC/SNAP header (802.3 length frames, FDDI) */
	WEIR_ENCAP_FABRICPATH = 6, /**< a Cisco FabricPath header */
	WEIR_ENCAP_CHDLC = 7,      /**< a Cisco HDLC header (DLT 104, or on a PPP link) */
	WEIR_ENCAP_COUNT = 8,
};

/** Encapsulations weir takes off to reach the TCP inside (weir_pkt.tun_type, weir_tuple.tunnel). */
enum weir_tunnel {
	WEIR_TUN_NONE = 0,
	WEIR_TUN_GRE = 1,    /**< GRE v0 (RFC 2784/2890) and v1 (PPTP), over IP or UDP (RFC 8086) */
	WEIR_TUN_ERSPAN = 2, /**< Cisco ERSPAN type I, II and III in GRE */
	WEIR_TUN_VXLAN = 3,  /**< RFC 7348 */
	WEIR_TUN_GENEVE = 4, /**< RFC 8926 */
	WEIR_TUN_GTPU = 5,   /**< 3GPP TS 29.281 GTP-U v1 G-PDUs */
	WEIR_TUN_TEREDO = 6, /**< RFC 4380 */
	WEIR_TUN_AYIYA = 7,  /**< draft-massar-v6ops-ayiya */
	WEIR_TUN_IPIP = 8,   /**< IPv4 or IPv6 directly in IPv4 or IPv6 (IP protocols 4 and 41: IP-in-IP, 6in4, 4in6) */
	WEIR_TUN_COUNT = 9,
};

/** Default tunnel settings (enum constants, so the header stays plain C for the Lua FFI): the UDP
 *  ports are IANA's, which Zeek and Suricata use too. */
enum weir_tunnel_defaults {
	WEIR_TUN_PORT_VXLAN = 4789, WEIR_TUN_PORT_GENEVE = 6081, WEIR_TUN_PORT_GTPU = 2152,
	WEIR_TUN_PORT_TEREDO = 3544, WEIR_TUN_PORT_AYIYA = 5072, WEIR_TUN_PORT_GRE_UDP = 4754,
	WEIR_TUN_MAX_DEPTH = 3, /**< nested tunnels taken off before a frame is left undecoded */
};

/** Engine configuration. Read-only once a worker is created from it. */
struct weir_config {
	uint32_t max_flows;        /**< flow-table capacity per worker (default 65536) */
	uint32_t idle_timeout_ms;  /**< idle timeout of established flows (default 300000) */
	uint32_t handshake_timeout_ms; /**< idle timeout before the handshake completes (default 75000) */
	uint32_t timewait_ms;      /**< how long a closed flow lingers for late packets (default 2000) */
	uint32_t buffer_per_side;  /**< most bytes a side's reassembly ring grows to (default 4 MiB; rings start at 16 KiB) */
	uint64_t memcap;           /**< stream-buffer bytes per worker; 0 (the default): max_flows x two first rings (32 KiB) */
	uint8_t flow_policy;       /**< enum weir_flow_policy */
	uint8_t overlap;           /**< default enum weir_overlap for new flows */
	uint8_t midstream;         /**< 1: adopt flows whose handshake was not seen (default 1) */
	uint8_t buffering;         /**< 1: new flows buffer both sides' bytes (default 1); 0: tracking only */
	uint8_t defrag_overlap;    /**< enum weir_overlap for overlapping IP fragments (default FIRST) */
	uint8_t tunnel_depth;      /**< most nested tunnels decapsulated (default WEIR_TUN_MAX_DEPTH); 0: none */
	uint8_t checksums;         /**< enum weir_checksums: which packets' checksums are verified (default AUTO) */
	uint8_t pad;
	uint32_t defrag_timeout_ms;/**< an incomplete IP datagram is given up this long after its first fragment (default 60000) */
	uint32_t defrag_max_frags; /**< most fragments one datagram may take (default 64) */
	uint64_t defrag_memcap;    /**< bytes of incomplete datagrams per worker; the oldest are evicted past it (default 16 MiB) */
	/** UDP ports whose datagrams are decapsulated (0: that tunnel is not looked for). VXLAN,
	 *  Geneve and GRE-in-UDP are matched on the destination port only (their source port is a
	 *  flow hash), GTP-U, Teredo and AYIYA on either port (their replies come from it). */
	uint32_t vxlan_port, geneve_port, gtpu_port, teredo_port, ayiya_port, gre_udp_port;
};

/** Sets every field of *cfg to its default. */
void weir_config_defaults(struct weir_config *cfg);

/** What a packet is with respect to IP fragmentation (struct weir_pkt.ip_frag). */
enum weir_ip_frag {
	WEIR_IPFRAG_NONE = 0,        /**< a whole IP packet */
	WEIR_IPFRAG_FRAGMENT = 1,    /**< one fragment, as the decoder sees it */
	WEIR_IPFRAG_REASSEMBLED = 2, /**< a datagram reassembled from fragments: frame is the whole IP
	                                  packet (raw IP, l3_off 0) in a buffer of the worker's; VLAN
	                                  ids, port and time are those of the fragment that completed it */
	WEIR_IPFRAG_OVERLAP_DIFF = 3,/**< reassembled, and its fragments overlapped with different bytes */
};

/** A parsed packet: a view into the caller's frame, never a copy (a reassembled datagram is the
 *  exception: see enum weir_ip_frag). Valid until the next poll. */
struct weir_pkt {
	const uint8_t *frame;   /**< start of the link-layer frame */
	const uint8_t *payload; /**< TCP payload (or L4 payload), may be NULL when payload_len = 0 */
	uint64_t ts_ns;         /**< capture or receive time, ns since the epoch */
	uint32_t caplen;        /**< bytes of frame present */
	uint32_t wirelen;       /**< bytes of the frame on the wire */
	uint32_t payload_len;   /**< TCP payload bytes present, after IP-length trimming */
	uint32_t seq, ack;      /**< host order */
	uint16_t l3_off, l4_off;/**< offsets into frame */
	uint16_t ip_len;        /**< IPv4 total length / IPv6 payload length + 40 */
	uint16_t sport, dport;  /**< host order */
	uint16_t win;           /**< raw window field, host order (unscaled) */
	uint16_t vlan[2];       /**< the two outermost 802.1Q/802.1ad ids (0 when absent) */
	uint16_t mss;           /**< MSS option, 0 when absent */
	uint16_t port;          /**< input port */
	uint8_t nvlan;          /**< number of 802.1Q/802.1ad/0x9100 tags (2 ids kept, all counted) */
	uint8_t ip_ver;         /**< 4 or 6 */
	uint8_t l4proto;        /**< IPPROTO_TCP, ... */
	uint8_t tcp_flags;      /**< FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	uint8_t wscale;         /**< window-scale option shift, 0xff when absent */
	uint8_t sack_perm;      /**< 1 when SACK-permitted is present */
	uint8_t has_ts;         /**< 1 when the timestamp option is present */
	uint8_t nsack;          /**< SACK blocks present (up to 4) */
	uint8_t ip_frag;        /**< enum weir_ip_frag */
	uint8_t ttl;            /**< IPv4 TTL / IPv6 hop limit */
	uint8_t encap;          /**< link-layer encapsulations crossed: bit 1 << enum weir_encap per kind */
	uint8_t tun_depth;      /**< tunnels taken off (0: the packet was not tunneled) */
	uint32_t ts_val, ts_ecr;/**< timestamp option */
	uint32_t sack[4][2];    /**< SACK blocks: left, right edge */
	uint8_t src[16];        /**< IPv4 in the first 4 bytes, rest zero; the innermost header's */
	uint8_t dst[16];
	/** The innermost tunnel that names a segment in both directions (VXLAN and Geneve VNI, GRE
	 *  key): its id, which is part of the flow's identity; 0 when none. GTP-U TEIDs and PPTP call
	 *  ids differ per direction, so they cannot name a flow and are not kept. */
	uint32_t tun_id;
	uint8_t tun_keyed;      /**< enum weir_tunnel of the tunnel tun_id belongs to; 0 when none */
	uint8_t tun_type;       /**< enum weir_tunnel of the innermost tunnel taken off; 0 when none */
	uint16_t outer_l3_off;  /**< offset of the outermost IP header when tun_depth > 0 (l3_off is the innermost's) */
};

/** A flow's addresses, client first. */
struct weir_tuple {
	uint8_t client_ip[16], server_ip[16]; /**< IPv4 in the first 4 bytes */
	uint16_t client_port, server_port;
	uint16_t vlan[2];
	uint8_t ip_ver;
	uint8_t tunnel;     /**< enum weir_tunnel of the innermost tunnel of the flow's first packet; 0 when none */
	uint8_t tun_depth;  /**< tunnels around the flow's first packet */
	uint8_t tun_keyed;  /**< enum weir_tunnel whose id is tun_id (weir_pkt.tun_keyed); 0 when none */
	uint32_t tun_id;    /**< VXLAN/Geneve VNI or GRE key the flow is in (weir_pkt.tun_id) */
};

/** One side's TCP view (sequence numbers are absolute, host order). */
struct weir_tcp_info {
	uint32_t isn;            /**< initial sequence number (the first seq seen if mid-stream) */
	uint32_t snd_una;        /**< highest sequence acknowledged by the peer */
	uint32_t snd_nxt;        /**< highest sequence sent + 1 */
	uint32_t rcv_wnd;        /**< window this side last advertised, scaled */
	uint16_t mss;
	uint8_t state;           /**< enum weir_tcp_state */
	uint8_t wscale;          /**< 0xff when not negotiated */
	uint8_t sack_perm, has_ts, pad[2];
};

/** One side's stream buffer: offsets are stream offsets (0 = first byte after the ISN). */
struct weir_buf_info {
	uint64_t base;           /**< oldest offset still held (peekable) */
	uint64_t next;           /**< next in-order offset expected (= bytes delivered + gaps skipped) */
	uint64_t last;           /**< highest offset + 1 of any byte received (in or out of order) */
	uint32_t held_ooo;       /**< out-of-order bytes held */
	uint8_t buffering;       /**< 0 when buffering is off for this side */
	uint8_t overlap;         /**< enum weir_overlap */
	uint8_t pad[2];
};

/** An out-of-order fragment held beyond the in-order point. */
struct weir_frag { uint64_t offset; uint32_t len; uint32_t pad; };

/** One side's counters (the side is the sender). The segment counts rexmit_pkts, resent_pkts,
 *  ooo_pkts, overlaps and overlap_diff stop at 4,294,967,295 (2^32 - 1) in one flow. */
struct weir_side_counters {
	uint64_t pkts, bytes;        /**< packets and IP bytes sent by this side */
	uint64_t payload;            /**< TCP payload bytes sent, retransmissions included */
	uint64_t delivered;          /**< bytes delivered in order to the stream */
	uint64_t gap_bytes;          /**< bytes skipped, never seen */
	uint64_t rexmit_pkts, rexmit_bytes; /**< retransmissions as Wireshark flags them (tcp.analysis.retransmission) */
	uint64_t resent_pkts;        /**< segments below the sender's highest sequence sent: every
	                                  retransmission (what the sender's stack counts as TcpRetransSegs)
	                                  and reordered first copies alike, before Wireshark's timing rule */
	uint64_t ooo_pkts;           /**< segments that arrived ahead of the in-order point */
	uint64_t overlaps;           /**< segments overlapping bytes held out of order */
	uint64_t overlap_diff;       /**< of those, with different bytes (retransmissions that differ
	                                  from delivered bytes raise the anomaly REXMIT_DIFFERENT) */
	uint64_t outrun_bytes;       /**< out-of-order bytes discarded for lack of buffer */
};

/** One event record, fixed size; what weir_worker_poll() returns and a Lua host reads. */
struct weir_event_rec {
	struct weir_flow *flow;     /**< NULL for ORPHAN and flow-less TIMER */
	struct weir_msock *sock;    /**< the socket whose subscription raised it */
	uint64_t arg;               /**< event-specific, see enum weir_event */
	uint32_t event;             /**< a built-in enum weir_event; UDEs are derived by the dispatcher */
	uint16_t sock_id;           /**< index of sock within its worker */
	uint8_t hook;               /**< enum weir_hook */
	uint8_t side;               /**< enum weir_side */
};

/** A received packet handed to the worker. The frame must stay valid until the burst is done. */
struct weir_rx_pkt {
	const uint8_t *frame;
	void *user;                 /**< the caller's handle (an mbuf), untouched */
	uint64_t ts_ns;
	uint32_t caplen, wirelen;
	uint16_t port;
	uint16_t linktype;          /**< pcap DLT_* of the frame (DLT_EN10MB for DPDK ports) */
	uint8_t verdict;            /**< out: 0 forward, 1 drop (set by handlers) */
	uint8_t frag;               /**< out: enum weir_frag_outcome (0 unless the frame is an IP fragment) */
	uint8_t csum;               /**< in: enum weir_rx_csum bits (0: from a capture, nothing verified) */
	uint8_t pad[5];
};

/** What the worker did with an IP fragment (struct weir_rx_pkt.frag): inline, a frame whose datagram
 *  cannot be reassembled (FAILED) follows the run's defrag policy; a fragment held or completing a
 *  datagram is sent on unless a handler drops the reassembled packet (its verdict lands on the
 *  completing fragment, without which the receiver cannot rebuild the datagram either). */
enum weir_frag_outcome {
	WEIR_FRAG_NONE = 0,      /**< not an IP fragment */
	WEIR_FRAG_HELD = 1,      /**< held: its datagram is not complete yet */
	WEIR_FRAG_DONE = 2,      /**< completed a datagram carrying a TCP segment (its own or in a tunnel), processed as that TCP packet */
	WEIR_FRAG_FAILED = 3,    /**< its datagram cannot be reassembled (counted by reason: enum weir_defrag_counter) */
	WEIR_FRAG_NOT_TCP = 4,   /**< a fragment of a datagram that is not TCP (not reassembled, or held, given up or completed without a TCP segment inside): non-TCP traffic */
};

/** IP defragmentation counters of one worker (struct weir_stats.defrag[], named by
 *  weir_defrag_counter_name()). Monotonic except MEM_USED. */
enum weir_defrag_counter {
	WEIR_DF_REASSEMBLED = 0,  /**< datagrams completed and processed (TCP; UDP, GRE, IP in IP when tunnels are decapsulated) */
	WEIR_DF_TIMEOUTS = 1,     /**< datagrams given up incomplete at the timeout */
	WEIR_DF_EVICTED = 2,      /**< incomplete datagrams evicted by the memory cap (oldest first) */
	WEIR_DF_TOO_MANY = 3,     /**< datagrams given up: more fragments than the cap */
	WEIR_DF_OVERLAPS = 4,     /**< fragments that overlap bytes already held */
	WEIR_DF_OVERLAP_DIFF = 5, /**< of those, with different bytes (anomaly FRAG_OVERLAP_DIFFERENT on the flow) */
	WEIR_DF_OVERSIZED = 6,    /**< datagrams given up: a fragment ends past 65,535 bytes of IP packet */
	WEIR_DF_BAD = 7,          /**< datagrams given up: a truncated fragment, a middle fragment not a
	                               multiple of 8 bytes, two different ends, bytes past the end */
	WEIR_DF_TINY = 8,         /**< first fragments too short to hold the whole TCP header (reassembled anyway) */
	WEIR_DF_NOT_TCP = 9,      /**< fragments of datagrams that carry nothing weir decodes (not reassembled) */
	WEIR_DF_MEM_USED = 10,    /**< bytes held by incomplete datagrams now */
	WEIR_DF_MEM_PEAK = 11,    /**< the most bytes they ever held */
	WEIR_DF_COUNT = 12,
};

/** Per-worker counters. Monotonic except flows_active and mem_*. */
struct weir_stats {
	uint64_t pkts, bytes;             /**< frames and wire bytes received */
	uint64_t tcp_pkts, other_pkts;    /**< TCP over IP; IP that is not TCP, or not IP */
	uint64_t frag_pkts;               /**< IP fragments that did not complete a datagram (the one that does
	                                       counts as the TCP packet it completes) */
	uint64_t orphans;                 /**< TCP packets belonging to no flow */
	uint64_t drops;                   /**< packets given the drop verdict */
	uint64_t flows_created, flows_closed, flows_active, flows_midstream;
	uint64_t flows_refused;           /**< new flows refused because the table was full (REFUSE_NEW) */
	uint64_t flows_evicted;           /**< flows evicted to make room (EVICT_IDLEST) */
	uint64_t events[WEIR_EV_BUILTIN_COUNT]; /**< records raised, by built-in event */
	uint64_t anomalies[WEIR_AN_COUNT];
	uint64_t malformed[WEIR_MAL_COUNT];
	uint64_t encap[WEIR_ENCAP_COUNT]; /**< frames that crossed each link-layer encapsulation */
	uint64_t closes[WEIR_CLOSE_COUNT];
	uint64_t mem_used, mem_peak, mem_cap, mem_fail; /**< the worker's stream memory: rings, held-range arrays, flow user slots */
	uint64_t mem_reclaimed;           /**< out-of-order bytes given up to make room under the cap, the
	                                       oldest holes first (in their sides' outrun bytes too) */
	uint64_t flow_bytes;              /**< bytes of one tracked flow entry (fixed part) */
	uint64_t defrag[WEIR_DF_COUNT];   /**< enum weir_defrag_counter */
};

/** The outermost header around a tunneled flow's first packet, as the client sent it (the
 *  packet's own when the first packet came from the server, turned round). */
struct weir_tunnel_outer {
	uint8_t src_ip[16], dst_ip[16]; /**< client side, server side; IPv4 in the first 4 bytes */
	uint16_t src_port, dst_port;    /**< the outer UDP ports when proto is UDP, else 0 */
	uint8_t ip_ver;                 /**< 4 or 6; 0: not known (no tunnel, or no memory for it) */
	uint8_t proto;                  /**< the outer IP protocol: 47 GRE, 17 UDP, 4 or 41 IP-in-IP
	                                     (IPv6: its fixed header's next header) */
	uint8_t pad[2];
};

/** What a flow record (EVE "flow") is made of, handed to the flow sink at the end of each flow. */
struct weir_flow_record {
	uint64_t flow_id;            /**< unique per worker run; stable in the log */
	struct weir_tuple tuple;
	uint64_t start_ns, end_ns;
	struct weir_side_counters side[2];
	uint8_t state[2];            /**< final enum weir_tcp_state per side */
	uint8_t reason;              /**< enum weir_close_reason */
	uint8_t midstream;           /**< 1: handshake not seen */
	uint8_t bypassed;            /**< 1: monitoring was stopped on both sides */
	/** Zeek endpoint facts per side, for conn_state: bit 0 SYN sent, 1 SYN+ACK sent, 2 FIN sent,
	 *  3 RST sent, 4 payload sent, 5 pure ACK sent, 6 established (handshake completed). */
	uint8_t zflags[2];
	uint8_t worker;
	char history[32];            /**< Zeek history letters, NUL-terminated */
	struct weir_tunnel_outer outer; /**< when tuple.tun_depth > 0: the outermost header */
};

struct weir_worker;
struct weir_msock;
struct weir_flow;

/** A C event handler. Runs on the worker's thread; may call any weir_flow_* function on flow. */
typedef void (*weir_handler_fn)(struct weir_msock *sock, struct weir_flow *flow, int side,
                                uint32_t event, uint64_t arg, void *user);
/** A C UDE filter: the UDE fires when its base fires and this returns true. */
typedef bool (*weir_filter_fn)(struct weir_msock *sock, struct weir_flow *flow, int side,
                               uint32_t event, uint64_t arg, void *user);
/** The flow sink: called once per flow as it ends (also at shutdown), on the worker's thread. */
typedef void (*weir_flow_sink_fn)(const struct weir_flow_record *rec, void *user);

/* ---- workers ---------------------------------------------------------------------------- */

/** Creates a worker (its flow table, pools and jemalloc arena). NULL + errno on failure
 *  (EINVAL bad config, ENOMEM). id labels the worker in records and stats. */
struct weir_worker *weir_worker_create(const struct weir_config *cfg, unsigned id);
/** Frees the worker and everything it owns. NULL is a no-op. Open flows are dropped silently:
 *  call weir_worker_shutdown() first to have them recorded. */
void weir_worker_free(struct weir_worker *w);
/** Sets the sink that receives one record per ended flow. */
void weir_worker_set_flow_sink(struct weir_worker *w, weir_flow_sink_fn fn, void *user);
/** Hands a burst of up to WEIR_RX_MAX packets to the worker. The array and frames must stay valid
 *  until poll returns 0. -EBUSY if the previous burst is not done, -EINVAL on bad arguments. */
int weir_worker_rx(struct weir_worker *w, struct weir_rx_pkt *pkts, unsigned n);
/** Burst limits as enum constants (not macros) so the header stays plain C for the Lua FFI. */
enum weir_limits {
	WEIR_RX_MAX = 256,  /**< most packets in one weir_worker_rx() burst (a typical DPDK burst is 32) */
	WEIR_POLL_MIN = 64, /**< smallest record array weir_worker_poll() accepts */
};
/** Advances the worker's clock to now_ns (live mode); expired flows and timers are processed at
 *  the next poll. Packet timestamps advance the clock too, so replay needs no call. */
void weir_worker_tick(struct weir_worker *w, uint64_t now_ns);
/** Ends every open flow with reason SHUTDOWN; their CONN_END records come out of the next polls. */
void weir_worker_shutdown(struct weir_worker *w);
/** Runs the pending work until it reaches a hook point that raises subscribed events, and writes
 *  those records (at most max, which must be >= WEIR_POLL_MIN) to out. Returns the record count,
 *  or 0 when the burst, the due timers and pending ends are all done. */
int weir_worker_poll(struct weir_worker *w, struct weir_event_rec *out, unsigned max);
/** Runs the C handlers (and C UDE filters) for records returned by the last poll. */
void weir_dispatch(struct weir_worker *w, const struct weir_event_rec *recs, unsigned n);
/** poll + dispatch until poll returns 0. Returns 0 or a negative errno. */
int weir_worker_run(struct weir_worker *w);
/** The packet being processed at the current hook, or NULL (timers, timeouts, shutdown). */
const struct weir_pkt *weir_worker_packet(const struct weir_worker *w);
/** Sets the current packet's verdict to drop; what that undoes is described at enum weir_hook.
 *  -ENOENT when there is no current packet. */
int weir_worker_drop(struct weir_worker *w);
/** The worker's counters (a live view, read on the worker's thread). */
const struct weir_stats *weir_worker_stats(const struct weir_worker *w);
/** The worker's clock (ns). */
uint64_t weir_worker_now(const struct weir_worker *w);

/* ---- top flows (for dashboards) --------------------------------------------------------- */

/** Size of a worker's top-flows sample (an enum constant so the header stays plain C for the FFI). */
enum weir_top_limits { WEIR_TOP_FLOWS_MAX = 16 };

/** One flow of the top-flows sample: a copy, safe to keep. */
struct weir_flow_summary {
	uint64_t flow_id;
	struct weir_tuple tuple;
	uint64_t start_ns, last_ns;  /**< first and latest packet */
	uint64_t pkts[2], bytes[2];  /**< per side (the sender), IP bytes */
	uint8_t state[2];            /**< enum weir_tcp_state per side */
	uint8_t midstream;           /**< 1: handshake not seen */
	uint8_t ended;               /**< 1: CONN_END was raised, the entry lingers (TIME_WAIT) */
	uint8_t pad[4];
};

/** Copies up to max flows of the worker's sample of its largest flows (bytes of both sides),
 *  largest first, and returns the count. The sample holds up to WEIR_TOP_FLOWS_MAX flows and is
 *  kept on the packet path at O(1) amortised cost: a flow enters when it outgrows the smallest
 *  member and leaves when it is freed. It is a sample, not an exact ranking: a flow pushed out
 *  re-enters only when it outgrows the smallest member again. Worker's thread only; -EINVAL on
 *  bad arguments. */
int weir_worker_top_flows(const struct weir_worker *w, struct weir_flow_summary *out, unsigned max);

/* ---- monitoring sockets ----------------------------------------------------------------- */

/** Creates a passive monitoring socket whose scope is a tcpdump filter expression (compiled by
 *  libpcap; NULL or "" means all TCP). A flow is in scope when its first packet matches; orphans
 *  are matched per packet. A flow already open when the socket is created (a hot reload) is in
 *  scope when its next packet matches (a socket without a filter also takes it in at an end
 *  without a packet). At most 64 sockets per worker, closed ones not yet reclaimed included.
 *  NULL + errno (EINVAL: bad filter, the compiler's message is written to err; ENOSPC: too many
 *  sockets). */
struct weir_msock *weir_msock_create(struct weir_worker *w, const char *filter, char *err, size_t errlen);
/** Closes a socket: its registrations and its pending timers are removed, records already queued
 *  for it are not dispatched, and flows stop referring to it. The handle stays valid, closed, until
 *  weir_msock_reclaim() or the worker's end frees it (until then its id is not reused): closing it
 *  again is a no-op, and weir_msock_register, weir_msock_unregister and weir_timer_add on it return
 *  -EBADF. NULL is a no-op. */
void weir_msock_close(struct weir_msock *s);
/** Frees every closed socket of w so that its id can be taken again (a host replacing its
 *  scripts closes theirs, then reclaims them: reloads do not run out of ids). Every handle of a
 *  closed socket becomes invalid: call it only when nothing holds one. Not from a handler: between
 *  bursts, or after weir_worker_rx and before the burst's first poll. Returns how many were freed,
 *  -EBUSY with a packet in progress, -EINVAL. */
int weir_msock_reclaim(struct weir_worker *w);
/** The socket's worker and its index (the sock_id of its records). */
struct weir_worker *weir_msock_worker(const struct weir_msock *s);
unsigned weir_msock_id(const struct weir_msock *s);
/** Registers fn for (event, hook) on s; event may be a UDE. fn may be NULL: the socket then only
 *  subscribes, for a host (Lua) that dispatches records itself. Handlers run in registration
 *  order. -EINVAL for an unknown event or a hook that never raises it; -EBADF: s is closed. */
int weir_msock_register(struct weir_msock *s, uint32_t event, int hook, weir_handler_fn fn, void *user);
/** Removes every registration of (event, hook) on s. -ENOENT when there was none, -EBADF on a
 *  closed socket. */
int weir_msock_unregister(struct weir_msock *s, uint32_t event, int hook);

/** Defines a user-defined event: it fires when base (built-in or UDE) fires and filter returns
 *  true. filter may be NULL for a host that evaluates its own filters. Defining the same
 *  (base, filter, user) again returns the same id. Returns the id (>= WEIR_EV_UDE_FIRST) or a
 *  negative errno (-EINVAL unknown base, -ENOSPC: 1,024 UDEs defined and not released). */
int weir_event_define(struct weir_worker *w, uint32_t base, weir_filter_fn filter, void *user);
/** Gives back one weir_event_define() of ev (a host whose scripts go, at a hot reload): once every
 *  definition of it is given back and no UDE is based on it, its id is free to be defined anew.
 *  No registration may still name it (close the sockets first). 0, or -EINVAL (not a defined
 *  UDE). */
int weir_event_release(struct weir_worker *w, uint32_t ev);
/** The built-in event at the root of ev's UDE chain (ev itself for a built-in); -EINVAL if unknown. */
int weir_event_root(const struct weir_worker *w, uint32_t ev);
/** The base of a UDE; -EINVAL for a built-in or unknown id. */
int weir_event_base(const struct weir_worker *w, uint32_t ev);
/** Name of a built-in event ("conn_start"), anomaly reason, TCP state, close reason, malformed
 *  reason, link-layer encapsulation; "unknown" if out of range. */
const char *weir_event_name(uint32_t ev);
const char *weir_anomaly_name(unsigned reason);
const char *weir_tcp_state_name(unsigned state);
const char *weir_close_reason_name(unsigned reason);
const char *weir_malformed_name(unsigned reason);
const char *weir_encap_name(unsigned encap);
const char *weir_defrag_counter_name(unsigned counter);
/** Name of an enum weir_tunnel ("vxlan"; "none" for WEIR_TUN_NONE); "unknown" if out of range. */
const char *weir_tunnel_name(unsigned tunnel);

/** Longest timer delay (an enum constant so the header stays plain C for the FFI): 36,500 days,
 *  about 100 years, far from overflowing the clock's 64-bit nanoseconds. */
enum weir_timer_limits { WEIR_TIMER_MAX_DAYS = 36500 };

/** Arms a one-shot timer that raises WEIR_EV_TIMER (arg = cookie) on s after delay_ms of the
 *  worker's clock, for flow (or NULL). A timer on a flow is cancelled when the flow ends; every
 *  timer of a socket is cancelled when the socket is closed. -EINVAL (NULL s, delay_ms above
 *  WEIR_TIMER_MAX_DAYS), -EBADF (s is closed), -ENOMEM. */
int weir_timer_add(struct weir_msock *s, struct weir_flow *flow, uint64_t delay_ms, uint64_t cookie);

/* ---- flows (valid inside handlers, until the handler returns) ---------------------------- */

/** The flow's id, unique within its worker. */
uint64_t weir_flow_id(const struct weir_flow *f);
/** Client and server addresses. */
int weir_flow_tuple(const struct weir_flow *f, struct weir_tuple *out);
/** enum weir_tcp_state of side, or -EINVAL. */
int weir_flow_state(const struct weir_flow *f, int side);
int weir_flow_tcp_info(const struct weir_flow *f, int side, struct weir_tcp_info *out);
int weir_flow_counters(const struct weir_flow *f, int side, struct weir_side_counters *out);
int weir_flow_buf_info(const struct weir_flow *f, int side, struct weir_buf_info *out);
/** Copies up to max held out-of-order fragments of side; returns how many there are in total. */
int weir_flow_frag_info(const struct weir_flow *f, int side, struct weir_frag *out, unsigned max);
/** Copies up to len in-order bytes of side's stream starting at stream offset off (bytes skipped
 *  as a gap read as zeros; weir_flow_counters says how many). Returns the count (0 at the end of
 *  what was delivered), -ENODATA when off is older than what is held (the return is never
 *  silent), -EINVAL (bad side, buffering off). */
ssize_t weir_flow_peek(const struct weir_flow *f, int side, uint64_t off, void *buf, size_t len);
/** Zero-copy: points *ptr at the longest contiguous run of delivered bytes at off and returns its
 *  length (a run may end before the delivered end; call again at off + length). Errors as peek. */
ssize_t weir_flow_view(const struct weir_flow *f, int side, uint64_t off, const uint8_t **ptr);
/** Turns buffering of side's stream on or off (off releases its memory; NEW_DATA still fires).
 *  side may be BOTH. */
int weir_flow_set_buffering(struct weir_flow *f, int side, bool on);
/** Sets side's overlap policy (enum weir_overlap); allowed at any time. side may be BOTH. */
int weir_flow_set_overlap(struct weir_flow *f, int side, int policy);
/** Stops monitoring side: no more events for that side's packets and its buffers are released.
 *  When both sides are stopped the flow is bypassed: no more events at all (no CONN_END), its
 *  packets are only counted, and its flow record says bypassed. side may be BOTH. */
int weir_flow_stop_monitor(struct weir_flow *f, int side);
/** Sockets that may hold a user pointer on one flow at a time. */
enum { WEIR_FLOW_USERS = 4 };
/** Per flow and socket user pointer (the caller owns what it points to; free it at CONN_END).
 *  NULL clears it. 0, -EINVAL, -ENOSPC when WEIR_FLOW_USERS other sockets hold one, or -ENOMEM
 *  when the worker's memory cap refuses the flow's first slots. */
int weir_flow_set_user(struct weir_flow *f, const struct weir_msock *s, void *user);
void *weir_flow_user(const struct weir_flow *f, const struct weir_msock *s);
/** 1 when the handshake was not seen (picked up mid-stream). */
int weir_flow_midstream(const struct weir_flow *f);

#endif
