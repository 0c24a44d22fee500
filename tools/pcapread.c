/*
 * The capture reader: libpcap for the file format, everything from the
 * link layer up decoded here.
 *
 * Trust: every length comes from the capture and is checked against the
 * bytes libpcap handed us (caplen) before it is used. A frame the snaplen
 * cut short is "truncated"; a header whose lengths cannot be true of the
 * bytes that were on the wire is "bad_header". Both are skipped.
 *
 * Memory is bounded whatever the capture says:
 *   - IPv4/IPv6 fragments: FRAG_SLOTS datagrams in progress, 64 KiB each,
 *     the oldest evicted (and counted in frag_incomplete);
 *   - TCP: at most TCP_MAX_FLOWS flows (one per direction), least recently
 *     used evicted; out-of-order bytes wait in one of TCP_RINGS rings of
 *     TCP_WINDOW bytes, in at most TCP_MAX_RANGES separate ranges.
 * A UDP datagram costs no allocation and no copy: pr_next hands out a
 * pointer into libpcap's own buffer.
 *
 * TCP gaps (bytes the capture never saw) are declared, counted in
 * tcp_gaps, and skipped when one of these shows they will not come:
 *   - the other direction ACKs beyond them (the receiver got them, the
 *     capture did not) — the usual case, and it lets SIP after a gap be
 *     delivered right away;
 *   - a later segment does not fit in the window or the range table, or
 *     no ring is free;
 *   - RST, a new SYN on the same 4-tuple, flow eviction, end of file.
 * Data that was declared missing and shows up later is a retransmission
 * and dropped. A flow whose SYN is not in the capture starts at the first
 * segment that carries data.
 */
#include "config.h"

#include "tools/pcapread.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define IOBUF_SIZE (256u * 1024u)
#define ETH_VLAN_MAX 4          /* stacked 802.1Q / 802.1ad tags */
#define IP6_EXT_MAX 8           /* extension headers walked per packet */

#define FRAG_SLOTS 16
#define FRAG_BUF 65536u
#define FRAG_UNITS (FRAG_BUF / 8)
#define FRAG_MAX_AGE_USEC (60ull * 1000000ull)

#define TCP_MAX_FLOWS 4096u
#define TCP_HASH_SIZE 8192u     /* power of two */
#define TCP_RINGS 64
#define TCP_WINDOW 65536u       /* power of two, >= any IP payload */
#define TCP_MAX_RANGES 8

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* A 4-tuple in one direction; fully initialised so memcmp compares it. */
struct flow_key {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t family;
	uint8_t pad[3];
};

struct seq_range {
	uint32_t start, end;    /* [start, end) in sequence space */
};

struct tcp_flow {
	struct flow_key key;
	uint32_t hnext;         /* hash chain: index + 1, 0 ends it */
	uint32_t lru_prev, lru_next;  /* index + 1, 0 = none */
	bool used;
	bool synced;            /* next_seq is meaningful */
	bool have_isn;          /* the SYN was seen: isn is meaningful */
	bool has_fin;
	bool flush_pending;     /* declare missing bytes up to flush_to */
	bool flush_all;         /* declare missing bytes before every range */
	bool unsync_after;      /* forget next_seq once drained (RST) */
	bool resync;            /* the next chunk does not continue the last */
	uint32_t isn, next_seq, fin_seq, flush_to;
	int ring;               /* index in the ring pool, -1 none */
	unsigned nr;
	struct seq_range rg[TCP_MAX_RANGES];  /* sorted, disjoint, > next_seq */
};

struct frag_slot {
	bool used;
	bool have_total;
	uint8_t family, proto;
	uint32_t id;
	uint8_t src[16], dst[16];
	uint64_t first_ts, born;
	uint32_t total, max_end, units_set;
	uint8_t *buf;           /* FRAG_BUF bytes, kept across datagrams */
	uint8_t map[FRAG_UNITS / 8];
};

/* The TCP segment being worked through; its bytes live in libpcap's (or a
 * fragment slot's) buffer until the next frame is read. */
struct tcp_seg {
	bool active, ack_done, syn_done;
	struct tcp_flow *flow;
	struct flow_key rkey;
	uint8_t flags;
	uint32_t seq, ack;
	const uint8_t *data;
	size_t len;
};

enum rd_state { RD_READ, RD_FLUSH, RD_END };

struct pr_reader {
	pcap_t *pcap;
	uint8_t *iobuf;         /* the FILE's buffer, IOBUF_SIZE bytes */
	int dlt;
	struct pr_stats st;
	enum rd_state state;
	uint64_t ts, index;     /* of the frame being worked on */
	bool cut;               /* that frame's caplen < len */

	struct frag_slot frag[FRAG_SLOTS];
	uint64_t frag_born;

	struct tcp_flow *flows;           /* TCP_MAX_FLOWS, on first TCP */
	uint32_t *hash;                   /* TCP_HASH_SIZE heads, index + 1 */
	uint32_t nflows, lru_head, lru_tail;  /* head = most recent */
	uint8_t *ring[TCP_RINGS];
	bool ring_busy[TCP_RINGS];
	struct tcp_seg seg;
	struct tcp_flow *drain;
	uint32_t flush_iter;
};

enum { SKIP = 0, OUT = 1, TCP_PENDING = 2 };

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Too short for its headers: the snaplen's doing, or the header's lie. */
static int short_frame(struct pr_reader *r)
{
	if (r->cut)
		r->st.truncated++;
	else
		r->st.bad_header++;
	return SKIP;
}

/* ---- TCP flows --------------------------------------------------------- */

static uint32_t flow_hash(const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (TCP_HASH_SIZE - 1);
}

static struct tcp_flow *flow_find(struct pr_reader *r, const struct flow_key *k)
{
	if (!r->flows)
		return NULL;
	for (uint32_t i = r->hash[flow_hash(k)]; i; i = r->flows[i - 1].hnext)
		if (memcmp(&r->flows[i - 1].key, k, sizeof(*k)) == 0)
			return &r->flows[i - 1];
	return NULL;
}

static uint32_t flow_idx(const struct pr_reader *r, const struct tcp_flow *f)
{
	return (uint32_t)(f - r->flows) + 1;
}

static void lru_unlink(struct pr_reader *r, struct tcp_flow *f)
{
	if (f->lru_prev)
		r->flows[f->lru_prev - 1].lru_next = f->lru_next;
	else
		r->lru_head = f->lru_next;
	if (f->lru_next)
		r->flows[f->lru_next - 1].lru_prev = f->lru_prev;
	else
		r->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = 0;
}

static void lru_push(struct pr_reader *r, struct tcp_flow *f)
{
	uint32_t i = flow_idx(r, f);
	f->lru_prev = 0;
	f->lru_next = r->lru_head;
	if (r->lru_head)
		r->flows[r->lru_head - 1].lru_prev = i;
	else
		r->lru_tail = i;
	r->lru_head = i;
}

static void ring_release(struct pr_reader *r, struct tcp_flow *f)
{
	if (f->ring >= 0)
		r->ring_busy[f->ring] = false;
	f->ring = -1;
}

/* Forget a flow; whatever it still held was never delivered. */
static void flow_evict(struct pr_reader *r, struct tcp_flow *f)
{
	if (f->nr)
		r->st.tcp_gaps += f->rg[f->nr - 1].end - f->next_seq;
	ring_release(r, f);
	uint32_t *pp = &r->hash[flow_hash(&f->key)];
	uint32_t me = flow_idx(r, f);
	while (*pp != me)
		pp = &r->flows[*pp - 1].hnext;
	*pp = f->hnext;
	lru_unlink(r, f);
	f->used = false;
}

static struct tcp_flow *flow_get(struct pr_reader *r, const struct flow_key *k)
{
	if (!r->flows) {
		r->flows = calloc(TCP_MAX_FLOWS, sizeof(*r->flows));
		r->hash = calloc(TCP_HASH_SIZE, sizeof(*r->hash));
		if (!r->flows || !r->hash) {
			free(r->flows);
			free(r->hash);
			r->flows = NULL;
			r->hash = NULL;
			return NULL;
		}
	}
	struct tcp_flow *f = flow_find(r, k);
	if (f) {
		if (r->lru_head != flow_idx(r, f)) {
			lru_unlink(r, f);
			lru_push(r, f);
		}
		return f;
	}
	if (r->nflows < TCP_MAX_FLOWS) {
		f = &r->flows[r->nflows++];
	} else {
		f = &r->flows[r->lru_tail - 1];
		flow_evict(r, f);
	}
	uint32_t h = flow_hash(k);
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->used = true;
	f->resync = true;
	f->ring = -1;
	f->hnext = r->hash[h];
	r->hash[h] = flow_idx(r, f);
	lru_push(r, f);
	return f;
}

/* Forget where the flow was: the next SYN or data segment starts it. */
static void flow_unsync(struct tcp_flow *f)
{
	f->synced = f->have_isn = f->has_fin = false;
	f->resync = true;
}

/* Move next_seq to n; ranges at or below it are trimmed away. */
static void flow_advance(struct tcp_flow *f, uint32_t n)
{
	f->next_seq = n;
	unsigned k = 0;
	for (unsigned i = 0; i < f->nr; i++) {
		struct seq_range g = f->rg[i];
		if (!seq_lt(n, g.end))
			continue;
		if (seq_lt(g.start, n))
			g.start = n;
		f->rg[k++] = g;
	}
	f->nr = k;
}

static void fill_tcp(const struct pr_reader *r, struct tcp_flow *f,
		     struct pr_datagram *d, const uint8_t *p, size_t len)
{
	d->proto = PR_TCP;
	d->resync = f->resync;
	f->resync = false;
	d->ts_usec = r->ts;
	d->index = r->index;
	d->src.family = d->dst.family = f->key.family;
	memcpy(d->src.ip, f->key.src, 16);
	memcpy(d->dst.ip, f->key.dst, 16);
	d->src.port = f->key.sport;
	d->dst.port = f->key.dport;
	d->data = p;
	d->len = len;
}

/*
 * Hand out the next in-order bytes the flow holds, declaring gaps as its
 * flush flags allow. Returns 1 with *d filled, 0 when there is nothing
 * (more) to deliver.
 */
static int flow_drain(struct pr_reader *r, struct tcp_flow *f,
		      struct pr_datagram *d)
{
	while (f->nr) {
		struct seq_range *g = &f->rg[0];
		if (g->start == f->next_seq) {
			uint32_t pos = g->start & (TCP_WINDOW - 1);
			uint32_t n = g->end - g->start;
			if (n > TCP_WINDOW - pos)
				n = TCP_WINDOW - pos;
			fill_tcp(r, f, d, r->ring[f->ring] + pos, n);
			flow_advance(f, f->next_seq + n);
			return 1;
		}
		if (f->flush_all ||
		    (f->flush_pending && !seq_lt(f->flush_to, g->start))) {
			r->st.tcp_gaps += g->start - f->next_seq;
			f->next_seq = g->start;
			f->resync = true;
			continue;
		}
		break;
	}
	if (f->flush_pending && seq_lt(f->next_seq, f->flush_to)) {
		r->st.tcp_gaps += f->flush_to - f->next_seq;
		flow_advance(f, f->flush_to);
		f->resync = true;
	}
	f->flush_pending = f->flush_all = false;
	if (f->unsync_after && !f->nr) {
		flow_unsync(f);
		f->unsync_after = false;
	}
	if (!f->nr)
		ring_release(r, f);
	return 0;
}

static int ring_get(struct pr_reader *r)
{
	for (int i = 0; i < TCP_RINGS; i++) {
		if (r->ring_busy[i])
			continue;
		if (!r->ring[i] && !(r->ring[i] = malloc(TCP_WINDOW)))
			return -1;
		r->ring_busy[i] = true;
		return i;
	}
	return -1;
}

/*
 * Keep an out-of-order segment [seq, seq+len), seq > next_seq, for later.
 * Returns false when it cannot be kept (beyond the window, too many
 * ranges, no ring): the caller then declares a gap to make room.
 */
static bool flow_buffer(struct pr_reader *r, struct tcp_flow *f, uint32_t seq,
			const uint8_t *p, size_t len)
{
	uint32_t base = f->next_seq;
	uint32_t s = seq - base, e = s + (uint32_t)len;   /* relative */
	if (e > TCP_WINDOW)
		return false;
	struct seq_range out[TCP_MAX_RANGES + 1];
	unsigned n = 0, i = 0;
	for (; i < f->nr && f->rg[i].end - base < s; i++)
		out[n++] = f->rg[i];
	for (; i < f->nr && f->rg[i].start - base <= e; i++) {
		if (f->rg[i].start - base < s)
			s = f->rg[i].start - base;
		if (f->rg[i].end - base > e)
			e = f->rg[i].end - base;
	}
	out[n++] = (struct seq_range){ base + s, base + e };
	for (; i < f->nr; i++) {
		if (n == TCP_MAX_RANGES)
			return false;
		out[n++] = f->rg[i];
	}
	if (n > TCP_MAX_RANGES)
		return false;
	if (f->ring < 0 && (f->ring = ring_get(r)) < 0)
		return false;
	uint32_t pos = seq & (TCP_WINDOW - 1);
	size_t first = len < TCP_WINDOW - pos ? len : TCP_WINDOW - pos;
	memcpy(r->ring[f->ring] + pos, p, first);
	memcpy(r->ring[f->ring], p + first, len - first);
	memcpy(f->rg, out, n * sizeof(out[0]));
	f->nr = n;
	return true;
}

enum { STEP_OUT, STEP_AGAIN, STEP_DONE };

/* Work the current segment one step further. */
static int seg_step(struct pr_reader *r, struct pr_datagram *d)
{
	struct tcp_seg *s = &r->seg;
	struct tcp_flow *f = s->flow;

	if (!s->ack_done) {
		s->ack_done = true;
		struct tcp_flow *rev;
		if ((s->flags & TH_ACK) && !(s->flags & TH_RST) &&
		    (rev = flow_find(r, &s->rkey)) && rev->synced) {
			uint32_t to = s->ack;
			if (rev->has_fin && seq_lt(rev->fin_seq, to))
				to = rev->fin_seq;   /* the FIN takes one */
			if (seq_lt(rev->next_seq, to)) {
				rev->flush_to = to;
				rev->flush_pending = true;
				r->drain = rev;
				return STEP_AGAIN;
			}
		}
	}
	if ((s->flags & TH_SYN) && !s->syn_done) {
		/* A SYN with another ISN is a new connection on the same
		 * 4-tuple; a repeated one changes nothing. */
		if (!(f->have_isn && f->isn == s->seq)) {
			if (f->nr) {    /* finish the old connection first */
				f->flush_all = true;
				r->drain = f;
				return STEP_AGAIN;
			}
			flow_unsync(f);
			f->synced = f->have_isn = true;
			f->isn = s->seq;
			f->next_seq = s->seq + 1;
		}
		s->syn_done = true;
		s->seq++;
	}
	if (s->flags & TH_RST) {
		if (f->nr) {
			f->flush_all = true;
			f->unsync_after = true;
			r->drain = f;
		} else {
			flow_unsync(f);
		}
		return STEP_DONE;
	}
	if ((s->flags & TH_FIN) && !f->has_fin && f->synced) {
		f->has_fin = true;
		f->fin_seq = s->seq + (uint32_t)s->len;
	}
	if (s->len == 0)
		return STEP_DONE;
	if (!f->synced) {
		f->synced = true;
		f->next_seq = s->seq;
		if ((s->flags & TH_FIN) && !f->has_fin) {
			f->has_fin = true;
			f->fin_seq = s->seq + (uint32_t)s->len;
		}
	}
	int32_t rel = (int32_t)(s->seq - f->next_seq);
	if (rel < 0) {              /* retransmitted bytes */
		if ((uint32_t)-(int64_t)rel >= s->len)
			return STEP_DONE;
		s->data += (uint32_t)-(int64_t)rel;
		s->len -= (uint32_t)-(int64_t)rel;
		s->seq = f->next_seq;
		rel = 0;
	}
	if (rel == 0) {
		fill_tcp(r, f, d, s->data, s->len);
		flow_advance(f, s->seq + (uint32_t)s->len);
		s->len = 0;
		if (f->nr)
			r->drain = f;
		return STEP_OUT;
	}
	if (flow_buffer(r, f, s->seq, s->data, s->len))
		return STEP_DONE;
	/* No room: the bytes before the earliest ones we hold are lost. */
	f->flush_to = f->nr ? f->rg[0].start : s->seq;
	f->flush_pending = true;
	r->drain = f;
	return STEP_AGAIN;
}

/* ---- IP fragments ------------------------------------------------------ */

static void frag_drop(struct pr_reader *r, struct frag_slot *fs, bool incomplete)
{
	fs->used = false;
	if (incomplete)
		r->st.frag_incomplete++;
}

/*
 * Add a fragment (payload bytes at offset off, more to come if mf).
 * Returns the whole payload when this one completed it, else NULL.
 */
static const uint8_t *frag_add(struct pr_reader *r, uint8_t family,
			       const uint8_t *src, const uint8_t *dst,
			       uint32_t id, uint8_t proto, uint32_t off,
			       bool mf, const uint8_t *p, size_t len,
			       size_t *total)
{
	size_t alen = family == 4 ? 4 : 16;
	if ((mf && (len == 0 || len % 8)) || off + len > FRAG_BUF - 1) {
		r->st.bad_header++;
		return NULL;
	}
	struct frag_slot *fs = NULL, *free_slot = NULL, *oldest = NULL;
	for (int i = 0; i < FRAG_SLOTS; i++) {
		struct frag_slot *c = &r->frag[i];
		if (c->used && r->ts - c->first_ts > FRAG_MAX_AGE_USEC &&
		    r->ts > c->first_ts)
			frag_drop(r, c, true);
		if (!c->used) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		if (c->family == family && c->id == id && c->proto == proto &&
		    memcmp(c->src, src, alen) == 0 &&
		    memcmp(c->dst, dst, alen) == 0) {
			fs = c;
			break;
		}
		if (!oldest || c->born < oldest->born)
			oldest = c;
	}
	if (!fs) {
		if (!free_slot) {
			frag_drop(r, oldest, true);
			free_slot = oldest;
		}
		fs = free_slot;
		if (!fs->buf && !(fs->buf = malloc(FRAG_BUF))) {
			r->st.frag_incomplete++;
			return NULL;
		}
		fs->used = true;
		fs->have_total = false;
		fs->family = family;
		fs->proto = proto;
		fs->id = id;
		memcpy(fs->src, src, alen);
		memcpy(fs->dst, dst, alen);
		fs->first_ts = r->ts;
		fs->born = ++r->frag_born;
		fs->total = fs->max_end = fs->units_set = 0;
		memset(fs->map, 0, sizeof(fs->map));
	}
	uint32_t end = off + (uint32_t)len;
	if (!mf) {
		if ((fs->have_total && fs->total != end) || fs->max_end > end)
			goto inconsistent;
		fs->have_total = true;
		fs->total = end;
	} else if (fs->have_total && end > fs->total) {
		goto inconsistent;
	}
	memcpy(fs->buf + off, p, len);
	for (uint32_t u = off / 8; u < (end + 7) / 8; u++) {
		if (!(fs->map[u / 8] & (1u << (u % 8)))) {
			fs->map[u / 8] |= (uint8_t)(1u << (u % 8));
			fs->units_set++;
		}
	}
	if (end > fs->max_end)
		fs->max_end = end;
	if (fs->have_total && fs->units_set == (fs->total + 7) / 8) {
		fs->used = false;
		*total = fs->total;
		return fs->buf;
	}
	return NULL;

inconsistent:   /* two different ends: nothing sane can come of it */
	r->st.bad_header++;
	frag_drop(r, fs, false);
	return NULL;
}

/* ---- Transport --------------------------------------------------------- */

static int decode_l4(struct pr_reader *r, struct pr_datagram *d, uint8_t family,
		     const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     const uint8_t *p, size_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	if (proto == 17) {
		if (len < 8) {
			r->st.bad_header++;
			return SKIP;
		}
		size_t ulen = rd16(p + 4);
		if (ulen < 8 || ulen > len) {
			r->st.bad_header++;
			return SKIP;
		}
		r->st.udp++;
		d->proto = PR_UDP;
		d->resync = false;
		d->ts_usec = r->ts;
		d->index = r->index;
		d->src.family = d->dst.family = family;
		memset(d->src.ip, 0, 16);
		memset(d->dst.ip, 0, 16);
		memcpy(d->src.ip, src, alen);
		memcpy(d->dst.ip, dst, alen);
		d->src.port = rd16(p);
		d->dst.port = rd16(p + 2);
		d->data = p + 8;
		d->len = ulen - 8;
		return OUT;
	}
	if (proto != 6) {
		r->st.not_udp_tcp++;
		return SKIP;
	}
	if (len < 20) {
		r->st.bad_header++;
		return SKIP;
	}
	size_t doff = (size_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > len) {
		r->st.bad_header++;
		return SKIP;
	}
	r->st.tcp_segments++;
	struct flow_key k;
	memset(&k, 0, sizeof(k));
	k.family = family;
	memcpy(k.src, src, alen);
	memcpy(k.dst, dst, alen);
	k.sport = rd16(p);
	k.dport = rd16(p + 2);
	struct tcp_flow *f = flow_get(r, &k);
	if (!f)
		return SKIP;
	struct tcp_seg *s = &r->seg;
	memset(s, 0, sizeof(*s));
	s->rkey = k;
	memcpy(s->rkey.src, k.dst, 16);
	memcpy(s->rkey.dst, k.src, 16);
	s->rkey.sport = k.dport;
	s->rkey.dport = k.sport;
	s->active = true;
	s->flow = f;
	s->flags = p[13];
	s->seq = rd32(p + 4);
	s->ack = rd32(p + 8);
	s->data = p + doff;
	s->len = len - doff;
	return TCP_PENDING;
}

/* ---- Network ----------------------------------------------------------- */

static int decode_ipv4(struct pr_reader *r, struct pr_datagram *d,
		       const uint8_t *p, size_t avail)
{
	if (avail < 20)
		return short_frame(r);
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;
	size_t tot = rd16(p + 2);
	if ((p[0] >> 4) != 4 || ihl < 20 || tot < ihl) {
		r->st.bad_header++;
		return SKIP;
	}
	if (tot > avail)
		return short_frame(r);
	uint16_t fr = rd16(p + 6);
	uint32_t off = (uint32_t)(fr & 0x1fff) * 8;
	bool mf = fr & 0x2000;
	const uint8_t *pl = p + ihl;
	size_t plen = tot - ihl;
	if (off || mf) {
		pl = frag_add(r, 4, p + 12, p + 16, rd16(p + 4), p[9], off, mf,
			      pl, plen, &plen);
		if (!pl)
			return SKIP;
	}
	return decode_l4(r, d, 4, p + 12, p + 16, p[9], pl, plen);
}

static bool ip6_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60;   /* hop-by-hop, routing, dest */
}

static int decode_ipv6(struct pr_reader *r, struct pr_datagram *d,
		       const uint8_t *p, size_t avail)
{
	if (avail < 40)
		return short_frame(r);
	if ((p[0] >> 4) != 6) {
		r->st.bad_header++;
		return SKIP;
	}
	size_t plen = rd16(p + 4);
	if (plen == 0) {            /* jumbogram (RFC 2675): not on our wire */
		r->st.bad_header++;
		return SKIP;
	}
	if (40 + plen > avail)
		return short_frame(r);
	const uint8_t *src = p + 8, *dst = p + 24;
	const uint8_t *q = p + 40;
	uint8_t nh = p[6];
	bool reassembled = false;
	for (int hops = 0;; hops++) {
		if (hops > IP6_EXT_MAX) {
			r->st.bad_header++;
			return SKIP;
		}
		if (ip6_ext(nh)) {
			if (plen < 8 || (size_t)(q[1] + 1) * 8 > plen) {
				r->st.bad_header++;
				return SKIP;
			}
			size_t hl = (size_t)(q[1] + 1) * 8;
			nh = q[0];
			q += hl;
			plen -= hl;
			continue;
		}
		if (nh == 44) {     /* fragment header, RFC 8200 §4.5 */
			if (plen < 8 || reassembled) {
				r->st.bad_header++;
				return SKIP;
			}
			uint16_t fo = rd16(q + 2);
			uint32_t off = fo & 0xfff8;
			bool mf = fo & 1;
			uint32_t id = rd32(q + 4);
			nh = q[0];
			q += 8;
			plen -= 8;
			if (off || mf) {
				q = frag_add(r, 6, src, dst, id, nh, off, mf,
					     q, plen, &plen);
				if (!q)
					return SKIP;
			}
			reassembled = true;
			continue;
		}
		break;
	}
	return decode_l4(r, d, 6, src, dst, nh, q, plen);
}

static int decode_ip(struct pr_reader *r, struct pr_datagram *d,
		     const uint8_t *p, size_t avail)
{
	if (avail < 1)
		return short_frame(r);
	switch (p[0] >> 4) {
	case 4:
		return decode_ipv4(r, d, p, avail);
	case 6:
		return decode_ipv6(r, d, p, avail);
	default:
		r->st.not_ip++;
		return SKIP;
	}
}

static int decode_ethertype(struct pr_reader *r, struct pr_datagram *d,
			    uint16_t type, const uint8_t *p, size_t avail)
{
	if (type == 0x0800)
		return decode_ipv4(r, d, p, avail);
	if (type == 0x86dd)
		return decode_ipv6(r, d, p, avail);
	r->st.not_ip++;
	return SKIP;
}

/* ---- Link layer -------------------------------------------------------- */

static int decode_frame(struct pr_reader *r, struct pr_datagram *d,
			const uint8_t *p, size_t n)
{
	switch (r->dlt) {
	case DLT_EN10MB: {
		if (n < 14)
			return short_frame(r);
		uint16_t type = rd16(p + 12);
		size_t off = 14;
		for (int tags = 0;
		     type == 0x8100 || type == 0x88a8 || type == 0x9100; tags++) {
			if (tags == ETH_VLAN_MAX) {
				r->st.not_ip++;
				return SKIP;
			}
			if (n < off + 4)
				return short_frame(r);
			type = rd16(p + off + 2);
			off += 4;
		}
		return decode_ethertype(r, d, type, p + off, n - off);
	}
	case DLT_LINUX_SLL:
		if (n < 16)
			return short_frame(r);
		return decode_ethertype(r, d, rd16(p + 14), p + 16, n - 16);
	case DLT_LINUX_SLL2:
		if (n < 20)
			return short_frame(r);
		return decode_ethertype(r, d, rd16(p), p + 20, n - 20);
	case DLT_NULL:
	case DLT_LOOP: {
		/* The AF value is in the writer's byte order for NULL and
		 * network order for LOOP; files cross machines, accept both. */
		if (n < 4)
			return short_frame(r);
		uint32_t be = rd32(p);
		uint32_t af = be < 256 ? be : (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			(uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (af == 2)
			return decode_ipv4(r, d, p + 4, n - 4);
		if (af == 24 || af == 28 || af == 30)
			return decode_ipv6(r, d, p + 4, n - 4);
		r->st.not_ip++;
		return SKIP;
	}
	case DLT_IPV4:
		return decode_ipv4(r, d, p, n);
	case DLT_IPV6:
		return decode_ipv6(r, d, p, n);
	default:    /* DLT_RAW */
		return decode_ip(r, d, p, n);
	}
}

static bool dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return false;
	}
}

/* ---- The interface ----------------------------------------------------- */

/* Close what pr_open had opened when it gives up. */
static int open_fail(struct pr_reader *r, FILE *fp, int err)
{
	if (r && r->pcap)
		pcap_close(r->pcap);    /* closes fp too */
	else if (fp)
		fclose(fp);
	if (r)
		free(r->iobuf);         /* only after fp stopped using it */
	free(r);
	return err;
}

int pr_open(const char *path, struct pr_reader **out, char *why, size_t why_len)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct stat sb;
	struct pr_reader *r;
	int e;

	*out = NULL;
	if (why_len)
		why[0] = '\0';
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		e = errno;
		snprintf(why, why_len, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	e = fstat(fileno(fp), &sb) != 0 ? errno
		: S_ISDIR(sb.st_mode) ? EISDIR : 0;
	if (e) {
		snprintf(why, why_len, "cannot open %s: %s", path, strerror(e));
		return open_fail(NULL, fp, -e);
	}
	if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
		snprintf(why, why_len, "%s is empty", path);
		return open_fail(NULL, fp, -EINVAL);
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->iobuf = malloc(IOBUF_SIZE))) {
		snprintf(why, why_len, "%s: out of memory", path);
		return open_fail(r, fp, -ENOMEM);
	}
	/* libpcap reads with fread: a large stdio buffer keeps read(2)s few
	 * (glibc ignores the size unless it is given the buffer too). */
	setvbuf(fp, (char *)r->iobuf, _IOFBF, IOBUF_SIZE);

	eb[0] = '\0';
	r->pcap = pcap_fopen_offline(fp, eb);
	if (!r->pcap) {
		if (strstr(eb, "truncated"))
			snprintf(why, why_len, "%s: capture header is truncated",
				 path);
		else if (strstr(eb, "unknown file format"))
			snprintf(why, why_len,
				 "%s is not a pcap or pcapng capture", path);
		else
			snprintf(why, why_len,
				 "%s is not a readable pcap or pcapng capture: %s",
				 path, eb);
		return open_fail(r, fp, -EINVAL);
	}
	r->dlt = pcap_datalink(r->pcap);
	if (!dlt_supported(r->dlt)) {
		const char *name = pcap_datalink_val_to_name(r->dlt);
		snprintf(why, why_len, "%s: unsupported link type %d (%s)", path,
			 r->dlt, name ? name : "unknown");
		return open_fail(r, fp, -EINVAL);
	}
	*out = r;
	return 0;
}

static void frags_expire_all(struct pr_reader *r)
{
	for (int i = 0; i < FRAG_SLOTS; i++)
		if (r->frag[i].used)
			frag_drop(r, &r->frag[i], true);
}

int pr_next(struct pr_reader *r, struct pr_datagram *d)
{
	for (;;) {
		if (r->drain) {
			if (flow_drain(r, r->drain, d))
				return 1;
			r->drain = NULL;
		}
		if (r->seg.active) {
			int rc = seg_step(r, d);
			if (rc == STEP_OUT)
				return 1;
			if (rc == STEP_DONE)
				r->seg.active = false;
			continue;
		}
		if (r->state == RD_FLUSH) {
			/* End of data: what waited for missing bytes goes now. */
			while (r->flows && r->flush_iter < r->nflows) {
				struct tcp_flow *f = &r->flows[r->flush_iter++];
				if (f->used && f->nr) {
					f->flush_all = true;
					r->drain = f;
					break;
				}
			}
			if (r->drain)
				continue;
			frags_expire_all(r);
			r->state = RD_END;
		}
		if (r->state == RD_END)
			return r->st.file_truncated ? -EIO : 0;

		struct pcap_pkthdr *h;
		const u_char *p;
		int rc = pcap_next_ex(r->pcap, &h, &p);
		if (rc != 1) {
			/* -2 is the end; anything else (offline: -1) means
			 * libpcap could not read a whole record. */
			if (rc != -2)
				r->st.file_truncated = true;
			r->state = RD_FLUSH;
			r->flush_iter = 0;
			continue;
		}
		r->st.frames++;
		r->index = r->st.frames;
		r->ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		r->cut = h->caplen < h->len;
		if (decode_frame(r, d, p, h->caplen) == OUT)
			return 1;
	}
}

const struct pr_stats *pr_stats(const struct pr_reader *r)
{
	return &r->st;
}

int pr_linktype(const struct pr_reader *r)
{
	return r->dlt;
}

void pr_close(struct pr_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < FRAG_SLOTS; i++)
		free(r->frag[i].buf);
	for (int i = 0; i < TCP_RINGS; i++)
		free(r->ring[i]);
	free(r->flows);
	free(r->hash);
	pcap_close(r->pcap);
	free(r->iobuf);
	free(r);
}

const char *pr_addr_str(const struct pr_addr *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	if (!cap)
		return buf;
	if (a->family == 4 && inet_ntop(AF_INET, a->ip, ip, sizeof(ip)))
		snprintf(buf, cap, "%s:%u", ip, (unsigned)a->port);
	else if (a->family == 6 && inet_ntop(AF_INET6, a->ip, ip, sizeof(ip)))
		snprintf(buf, cap, "[%s]:%u", ip, (unsigned)a->port);
	else
		snprintf(buf, cap, "?:%u", (unsigned)a->port);
	return buf;
}
