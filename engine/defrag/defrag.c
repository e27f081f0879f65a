/* defrag.c — IPv4/IPv6 datagrams rebuilt from their fragments: a hash of incomplete datagrams in
 * arrival order (for the timeout and the memory cap), each a byte buffer with a bitmap of the
 * 8-byte blocks it holds. Only datagrams that can carry a TCP segment weir decodes are kept. */
#include "defrag/defrag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem.h"
#include "parse/bytes.h"

#define NS_PER_MS 1000000ull
/* Buckets of the datagram hash: a power of two; chains stay short at the default 16 MiB cap,
 * which holds a few thousand small datagrams. */
#define BUCKETS 4096u
/* Fragment offsets count 8-byte blocks: a datagram has at most 65,536 / 8 of them. */
#define BLOCK         8u
#define NBLOCKS       ((WEIR_DEFRAG_IP_MAX + 1) / BLOCK)
#define IPV4_MF       0x2000u
#define IPV4_DF       0x4000u
#define IPV4_OFF_MASK 0x1fffu
#define IPV6_HLEN     40u
#define IP6_FRAG_HLEN 8u
#define IP6_OFF_MASK  0xfff8u
#define IP6_HOPOPTS   0
#define IP6_ROUTING   43
#define IP6_AH        51
#define IP6_DSTOPTS   60
#define PROTO_IPIP    4
#define PROTO_TCP     6
#define PROTO_UDP     17
#define PROTO_IPV6    41
#define PROTO_GRE     47
#define TCP_HLEN_MIN  20u
/* A first buffer this large holds a typical datagram (two 1,500-byte fragments) without growing. */
#define DATA_MIN 2048u

struct dg_key {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint16_t vlan[2];
	uint8_t ip_ver, proto;
	uint8_t pad[2];
};

/* One incomplete datagram. */
struct dg {
	struct dg *hnext;         /* hash chain */
	struct dg *older, *newer; /* arrival order of first fragments */
	struct dg_key key;
	uint32_t hash;
	uint64_t born_ns;
	uint8_t *data;    /* the fragmentable part: offset 0 is data[0] */
	uint32_t cap;     /* bytes of data */
	uint32_t end;     /* the datagram's length, once the last fragment came (else 0) */
	uint32_t hi;      /* highest fragment end seen */
	uint32_t covered; /* blocks held */
	uint32_t nfrags;
	uint8_t *hdr;   /* the first fragment's header (IPv6: up to the fragment header) */
	uint32_t hlen;  /* 0 until the fragment at offset 0 came */
	uint32_t nh_at; /* IPv6: where in hdr the next-header byte naming the fragment header is */
	uint8_t nh;     /* IPv6: the fragment header's next header */
	uint8_t diff;   /* an overlap with different bytes */
	uint8_t have_last;
	uint8_t dead;             /* given up: its later fragments fail too, until it times out */
	uint8_t map[NBLOCKS / 8]; /* blocks held */
};

struct weir_defrag {
	struct weir_mem mem;
	uint64_t *st; /* WEIR_DF_COUNT counters */
	uint64_t timeout_ns;
	uint32_t max_frags;
	uint8_t overlap;
	bool tunnels; /* tunnels are decapsulated: datagrams that may carry one are reassembled */
	struct dg *bucket[BUCKETS];
	struct dg *oldest, *newest;
	uint8_t out[WEIR_DEFRAG_IP_MAX + IPV6_HLEN]; /* the completed datagram */
};

/* One fragment, read from its frame. */
struct frag {
	struct dg_key key;
	const uint8_t *ip; /* its IP header */
	uint32_t
	    hlen; /* IPv4 header / IPv6 header and extension headers before the fragment header */
	const uint8_t *data; /* its share of the fragmentable part */
	uint32_t off, len;
	bool mf;
	uint8_t nh;    /* IPv6: the fragment header's next header */
	uint8_t proto; /* the datagram's protocol: IPv4's, IPv6's fragment header's next header */
};

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

struct weir_defrag *weir_defrag_create(const struct weir_config *cfg, uint64_t *st)
{
	if (!cfg || !st || cfg->defrag_memcap == 0 || cfg->defrag_timeout_ms == 0 ||
	    cfg->defrag_max_frags == 0 || cfg->defrag_overlap > WEIR_OVERLAP_LAST) {
		errno = EINVAL;
		return NULL;
	}
	struct weir_defrag *d = calloc(1, sizeof(*d));
	if (!d || weir_mem_init(&d->mem, cfg->defrag_memcap) != 0) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	d->st = st;
	d->timeout_ns = (uint64_t)cfg->defrag_timeout_ms * NS_PER_MS;
	d->max_frags = cfg->defrag_max_frags;
	d->overlap = cfg->defrag_overlap;
	d->tunnels = cfg->tunnel_depth > 0;
	return d;
}

static void mem_stats(struct weir_defrag *d)
{
	d->st[WEIR_DF_MEM_USED] = d->mem.used;
	d->st[WEIR_DF_MEM_PEAK] = d->mem.peak;
}

static void dg_free(struct weir_defrag *d, struct dg *g)
{
	struct dg **pp = &d->bucket[g->hash & (BUCKETS - 1)];
	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	if (g->older)
		g->older->newer = g->newer;
	else
		d->oldest = g->newer;
	if (g->newer)
		g->newer->older = g->older;
	else
		d->newest = g->older;
	weir_mem_free(&d->mem, g->data, g->cap);
	weir_mem_free(&d->mem, g->hdr, g->hlen);
	weir_mem_free(&d->mem, g, sizeof(*g));
	mem_stats(d);
}

void weir_defrag_free(struct weir_defrag *d)
{
	if (!d)
		return;
	while (d->oldest)
		dg_free(d, d->oldest);
	weir_mem_fini(&d->mem);
	free(d);
}

/* Gives up datagram g (if any), counted in counter why. Given up for its own sake (not for time
 * or memory), it stays as a tombstone without its bytes until it times out, so that its later
 * fragments fail as well: inline, none of them is sent on uninspected. */
static int give_up(struct weir_defrag *d, struct dg *g, unsigned why)
{
	d->st[why]++;
	if (!g)
		return WEIR_FRAG_FAILED;
	if (why == WEIR_DF_TIMEOUTS || why == WEIR_DF_EVICTED) {
		dg_free(d, g);
		return WEIR_FRAG_FAILED;
	}
	weir_mem_free(&d->mem, g->data, g->cap);
	weir_mem_free(&d->mem, g->hdr, g->hlen);
	g->data = g->hdr = NULL;
	g->cap = g->hlen = 0;
	g->dead = 1;
	mem_stats(d);
	return WEIR_FRAG_FAILED;
}

/* Drops the oldest datagram: counted in why unless it was a tombstone already. */
static void drop_oldest(struct weir_defrag *d, struct dg *g, unsigned why)
{
	if (g->dead)
		dg_free(d, g);
	else
		give_up(d, g, why);
}

static void expire(struct weir_defrag *d, uint64_t now_ns)
{
	while (d->oldest && now_ns >= d->oldest->born_ns + d->timeout_ns)
		drop_oldest(d, d->oldest, WEIR_DF_TIMEOUTS);
}

/* Makes room for need more bytes, evicting the oldest datagrams other than keep. false when even
 * that is not enough. */
static bool room(struct weir_defrag *d, size_t need, const struct dg *keep)
{
	while (d->mem.used + need > d->mem.cap) {
		struct dg *g = d->oldest == keep ? (keep ? keep->newer : NULL) : d->oldest;
		if (!g)
			return false;
		drop_oldest(d, g, WEIR_DF_EVICTED);
	}
	return true;
}

static void *alloc(struct weir_defrag *d, size_t size, const struct dg *keep)
{
	if (!room(d, size, keep))
		return NULL;
	void *p = weir_mem_alloc(&d->mem, size);
	mem_stats(d);
	return p;
}

static uint32_t key_hash(const struct dg_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* Reads an IPv4 fragment's fields. false when its bytes are not all captured. */
static bool read_v4(const struct weir_pkt *p, uint32_t caplen, struct frag *fr)
{
	const uint8_t *h = p->frame + p->l3_off;
	fr->hlen = (uint32_t)(h[0] & 0x0f) * 4;
	const uint16_t fo = rd16(h + 6);
	fr->off = (uint32_t)(fo & IPV4_OFF_MASK) * BLOCK;
	fr->mf = (fo & IPV4_MF) != 0;
	fr->key.id = rd16(h + 4);
	fr->key.proto = h[9];
	fr->ip = h;
	fr->data = h + fr->hlen;
	fr->len = p->ip_len - fr->hlen;
	return (uint32_t)p->l3_off + p->ip_len <= caplen;
}

/* Reads an IPv6 fragment's fields: the decoder left l4_off just past the fragment header. */
static bool read_v6(const struct weir_pkt *p, uint32_t caplen, struct frag *fr)
{
	const uint8_t *fh = p->frame + p->l4_off - IP6_FRAG_HLEN;
	const uint16_t fo = rd16(fh + 2);
	fr->off = fo & IP6_OFF_MASK;
	fr->mf = (fo & 1) != 0;
	fr->key.id = rd32(fh + 4);
	fr->nh = fh[0];
	fr->ip = p->frame + p->l3_off;
	fr->hlen = (uint32_t)(p->l4_off - IP6_FRAG_HLEN - p->l3_off);
	fr->data = p->frame + p->l4_off;
	fr->len = p->ip_len - (uint32_t)(p->l4_off - p->l3_off);
	return (uint32_t)p->l3_off + p->ip_len <= caplen;
}

static bool read_frag(const struct weir_pkt *p, uint32_t caplen, struct frag *fr)
{
	memset(fr, 0, sizeof(*fr));
	memcpy(fr->key.src, p->src, sizeof(fr->key.src));
	memcpy(fr->key.dst, p->dst, sizeof(fr->key.dst));
	memcpy(fr->key.vlan, p->vlan, sizeof(fr->key.vlan));
	fr->key.ip_ver = p->ip_ver;
	const bool whole = p->ip_ver == 4 ? read_v4(p, caplen, fr) : read_v6(p, caplen, fr);
	fr->proto = p->ip_ver == 4 ? fr->key.proto : fr->nh;
	return whole;
}

/* IPv6: where the next-header byte that names the fragment header sits in hdr[0, hlen). The
 * decoder walked the same chain to find the fragment header; UINT32_MAX if it does not add up. */
static uint32_t v6_nh_at(const uint8_t *h, uint32_t hlen)
{
	uint32_t at = 6, pos = IPV6_HLEN;
	uint8_t nh = h[6];
	while (pos < hlen) {
		if (hlen - pos < 2)
			return UINT32_MAX;
		uint32_t len;
		if (nh == IP6_AH)
			len = ((uint32_t)h[pos + 1] + 2) * 4;
		else if (nh == IP6_HOPOPTS || nh == IP6_ROUTING || nh == IP6_DSTOPTS)
			len = ((uint32_t)h[pos + 1] + 1) * 8;
		else
			return UINT32_MAX;
		at = pos;
		nh = h[pos];
		pos += len;
	}
	return pos == hlen ? at : UINT32_MAX;
}

static struct dg *lookup(struct weir_defrag *d, const struct dg_key *k, uint32_t hash)
{
	for (struct dg *g = d->bucket[hash & (BUCKETS - 1)]; g; g = g->hnext)
		if (g->hash == hash && !memcmp(&g->key, k, sizeof(*k)))
			return g;
	return NULL;
}

static struct dg *dg_new(struct weir_defrag *d, const struct dg_key *k, uint32_t hash,
                         uint64_t now_ns)
{
	struct dg *g = alloc(d, sizeof(*g), NULL);
	if (!g)
		return NULL;
	memset(g, 0, sizeof(*g));
	g->key = *k;
	g->hash = hash;
	g->born_ns = now_ns;
	g->hnext = d->bucket[hash & (BUCKETS - 1)];
	d->bucket[hash & (BUCKETS - 1)] = g;
	g->older = d->newest;
	if (d->newest)
		d->newest->newer = g;
	else
		d->oldest = g;
	d->newest = g;
	return g;
}

/* Grows g's buffer to hold end bytes. */
static bool grow(struct weir_defrag *d, struct dg *g, uint32_t end)
{
	if (end <= g->cap)
		return true;
	uint32_t cap = g->cap ? g->cap : DATA_MIN;
	while (cap < end)
		cap *= 2;
	if (cap > WEIR_DEFRAG_IP_MAX + 1)
		cap = WEIR_DEFRAG_IP_MAX + 1;
	uint8_t *n = alloc(d, cap, g);
	if (!n)
		return false;
	if (g->data)
		memcpy(n, g->data, g->cap);
	weir_mem_free(&d->mem, g->data, g->cap);
	g->data = n;
	g->cap = cap;
	return true;
}

static bool block_held(const struct dg *g, uint32_t b)
{
	return (g->map[b / 8] >> (b % 8)) & 1;
}

/* Copies the fragment's bytes in, block by block: a block already held is compared (an overlap)
 * and overwritten only under the "last" policy. */
static void put_bytes(struct weir_defrag *d, struct dg *g, const struct frag *fr)
{
	bool overlap = false, diff = false;
	const uint32_t end = fr->off + fr->len;
	for (uint32_t b = fr->off / BLOCK; b * BLOCK < end; b++) {
		const uint32_t s = b * BLOCK, n = end - s < BLOCK ? end - s : BLOCK;
		const uint8_t *src = fr->data + (s - fr->off);
		if (block_held(g, b)) {
			overlap = true;
			diff |= memcmp(g->data + s, src, n) != 0;
			if (d->overlap != WEIR_OVERLAP_LAST)
				continue;
		} else {
			g->map[b / 8] |= (uint8_t)(1u << (b % 8));
			g->covered++;
		}
		memcpy(g->data + s, src, n);
	}
	if (overlap)
		d->st[WEIR_DF_OVERLAPS]++;
	if (diff) {
		d->st[WEIR_DF_OVERLAP_DIFF]++;
		g->diff = 1;
	}
}

/* Keeps the first fragment's header (offset 0), under the overlap policy when it comes again. */
static bool keep_header(struct weir_defrag *d, struct dg *g, const struct frag *fr)
{
	if (g->hlen && (d->overlap != WEIR_OVERLAP_LAST || g->hlen != fr->hlen))
		return true;
	if (!g->hlen) {
		g->hdr = alloc(d, fr->hlen, g);
		if (!g->hdr)
			return false;
		g->hlen = fr->hlen;
	}
	memcpy(g->hdr, fr->ip, fr->hlen);
	g->nh = fr->nh;
	return true;
}

/* Whether a datagram of protocol proto can carry a TCP segment weir decodes: TCP, or a tunnel the
 * decoder takes off (UDP for VXLAN, Geneve, GTP-U, Teredo, AYIYA and GRE in UDP; GRE; IPv4 and
 * IPv6 in IP) when tunnels are decapsulated. Which UDP port a datagram goes to is known only from
 * its first fragment, which may come last: every UDP datagram is taken. */
static bool carries_tcp(const struct weir_defrag *d, uint8_t proto)
{
	if (proto == PROTO_TCP)
		return true;
	return d->tunnels && (proto == PROTO_UDP || proto == PROTO_GRE || proto == PROTO_IPIP ||
	                      proto == PROTO_IPV6);
}

/* A first TCP fragment too short for the TCP header it starts: the tiny-fragment evasion (RFC
 * 1858). */
static bool tiny(const struct frag *fr)
{
	return fr->off == 0 && fr->proto == PROTO_TCP &&
	       (fr->len < TCP_HLEN_MIN || fr->len < (uint32_t)(fr->data[12] >> 4) * 4);
}

/* Writes the whole IP packet of complete datagram g (or of an atomic fragment, g NULL) into d->out.
 */
static void build(struct weir_defrag *d, const struct frag *fr, const struct dg *g,
                  struct weir_defrag_dgram *out)
{
	const uint8_t *hdr = g ? g->hdr : fr->ip;
	const uint32_t hlen = g ? g->hlen : fr->hlen, len = g ? g->end : fr->len;
	uint8_t *o = d->out;
	memcpy(o, hdr, hlen);
	memcpy(o + hlen, g ? g->data : fr->data, len);
	if (fr->key.ip_ver == 4) {
		wr16(o + 2, hlen + len);
		wr16(o + 6, rd16(o + 6) & IPV4_DF);
		wr16(o + 10, 0);
		uint32_t sum = 0;
		for (uint32_t i = 0; i < hlen; i += 2)
			sum += rd16(o + i);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		wr16(o + 10, ~sum & 0xffff);
	} else {
		o[g ? g->nh_at : v6_nh_at(hdr, hlen)] = g ? g->nh : fr->nh;
		wr16(o + 4, hlen - IPV6_HLEN + len);
	}
	out->ip = o;
	out->len = hlen + len;
	out->ip_ver = fr->key.ip_ver;
	out->overlap_diff = g ? g->diff : 0;
}

/* Checks a fragment's shape against its datagram: returns the counter that gives it up, or
 * WEIR_DF_COUNT when it fits. */
static unsigned misfit(struct weir_defrag *d, const struct dg *g, const struct frag *fr)
{
	const uint32_t end = fr->off + fr->len;
	if (fr->hlen + end > WEIR_DEFRAG_IP_MAX + (fr->key.ip_ver == 6 ? IPV6_HLEN : 0))
		return WEIR_DF_OVERSIZED;
	if (fr->mf && (fr->len == 0 || fr->len % BLOCK))
		return WEIR_DF_BAD; /* only the last fragment may end inside a block */
	if (!fr->mf && ((g->have_last && end != g->end) || end < g->hi))
		return WEIR_DF_BAD; /* two different ends, or bytes already held past this end */
	if (g->have_last && end > g->end)
		return WEIR_DF_BAD;
	if (g->nfrags >= d->max_frags)
		return WEIR_DF_TOO_MANY;
	return WEIR_DF_COUNT;
}

int weir_defrag_add(struct weir_defrag *d, const struct weir_pkt *p, uint32_t caplen,
                    uint64_t now_ns, struct weir_defrag_dgram *out)
{
	struct frag fr;
	if (!d || !p || !p->frame || !out || (p->ip_ver != 4 && p->ip_ver != 6))
		return WEIR_FRAG_FAILED;
	expire(d, now_ns);
	if (!read_frag(p, caplen, &fr))
		return give_up(d, NULL,
		               WEIR_DF_BAD); /* the capture cut it: its bytes are unknown */
	if (!carries_tcp(d, fr.proto)) {
		d->st[WEIR_DF_NOT_TCP]++;
		return WEIR_FRAG_NOT_TCP;
	}
	if (tiny(&fr))
		d->st[WEIR_DF_TINY]++;
	if (fr.off == 0 && !fr.mf) { /* atomic: a whole datagram, never merged with others */
		if (fr.key.ip_ver == 6 && v6_nh_at(fr.ip, fr.hlen) == UINT32_MAX)
			return give_up(d, NULL, WEIR_DF_BAD);
		build(d, &fr, NULL, out);
		d->st[WEIR_DF_REASSEMBLED]++;
		return WEIR_FRAG_DONE;
	}
	const uint32_t hash = key_hash(&fr.key);
	struct dg *g = lookup(d, &fr.key, hash);
	if (!g && !(g = dg_new(d, &fr.key, hash, now_ns)))
		return give_up(d, NULL, WEIR_DF_EVICTED);
	if (g->dead)
		return WEIR_FRAG_FAILED;
	const unsigned why = misfit(d, g, &fr);
	if (why < WEIR_DF_COUNT)
		return give_up(d, g, why);
	if (fr.off == 0 && fr.key.ip_ver == 6 && v6_nh_at(fr.ip, fr.hlen) == UINT32_MAX)
		return give_up(d, g, WEIR_DF_BAD);
	if (!grow(d, g, fr.off + fr.len) || (fr.off == 0 && !keep_header(d, g, &fr)))
		return give_up(d, g, WEIR_DF_EVICTED);
	if (fr.off == 0 && fr.key.ip_ver == 6)
		g->nh_at = v6_nh_at(g->hdr, g->hlen);
	g->nfrags++;
	put_bytes(d, g, &fr);
	if (fr.off + fr.len > g->hi)
		g->hi = fr.off + fr.len;
	if (!fr.mf) {
		g->have_last = 1;
		g->end = fr.off + fr.len;
	}
	if (!g->have_last || !g->hlen || g->covered != (g->end + BLOCK - 1) / BLOCK)
		return WEIR_FRAG_HELD;
	build(d, &fr, g, out);
	d->st[WEIR_DF_REASSEMBLED]++;
	dg_free(d, g);
	return WEIR_FRAG_DONE;
}
