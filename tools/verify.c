/*
 * `zrtpshim verify`: the analysis behind the verdict (see verify.h and
 * README.md ("zrtpshim verify") for the method).
 *
 * Two passes over what the capture gives. The first pass reads every
 * datagram once: SIP/SDP is parsed as it comes (UDP directly, TCP through
 * the framer), ZRTP is decoded into the flow's handshake state, every
 * RTP/RTCP packet is reduced to a small record (header fields, length,
 * content statistic, key-log authentication result), and audio is written
 * while the payload is at hand. The second pass, after the capture ends,
 * knows everything the capture knows (all SDP, when each handshake
 * completed, each direction's timestamp step) and classifies the records.
 * A capture that starts mid-call or carries its SDP late is judged the
 * same as one in order.
 */
#include "tools/verify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"
#include "common/demux.h"
#include "common/keylog.h"
#include "common/suite.h"
#include "zrtp/crypto.h"
#include "zrtp/packet.h"

#define MAX_HASHES 4
#define MAX_PT 16
#define FLOW_BUCKETS 4096
#define STEP_SLOTS 8
#define MAX_CAND 8

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

static size_t ip_len(int family)
{
	return family == 6 ? 16 : 4;
}

static bool ip_eq(const struct pr_addr *a, const struct pr_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, ip_len(a->family)) == 0;
}

static bool addr_eq(const struct pr_addr *a, const struct pr_addr *b)
{
	return ip_eq(a, b) && a->port == b->port;
}

static int addr_cmp(const struct pr_addr *a, const struct pr_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->ip, b->ip, ip_len(a->family));
	if (c != 0)
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

static void to_keylog_addr(const struct pr_addr *a, struct keylog_addr *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->ip, a->ip, ip_len(a->family));
	k->port = a->port;
}

/* ------------------------------------------------------------------ */
/* What SDP announced                                                  */

struct ptmap {
	uint8_t pt;
	char name[16];
	unsigned rate;
};

struct announce {
	struct pr_addr rtp;        /* ip all-zero + any_ip: c= was 0.0.0.0 */
	bool any_ip;
	uint16_t rtcp_port;
	bool rtcp_mux;
	char call_id[96];
	char hashes[MAX_HASHES][65];
	size_t n_hash;
	struct ptmap pts[MAX_PT];
	size_t n_pt;
};

/* ------------------------------------------------------------------ */
/* Flows: one per unordered pair of UDP transport addresses            */

enum rec_kind { REC_RTP, REC_RTCP };
enum rtcp_shape { RTCP_SHAPE_CLEAR, RTCP_SHAPE_SRTCP, RTCP_SHAPE_UNKNOWN };
enum rec_auth { AUTH_NONE, AUTH_OK, AUTH_FAIL, AUTH_NO_KEY };

/* One RTP or RTCP packet, reduced for the second pass. */
struct rec {
	uint64_t usec, frame;
	uint32_t ssrc, ts;
	uint16_t seq, plen;        /* payload bytes after the RTP header */
	uint8_t pt, kind, shape, auth;
	bool bad_header;           /* RTP: CSRCs/extension past the end */
	float z;
};

struct step_slot {
	uint32_t step;
	uint32_t count;
};

struct wav {
	FILE *f;
	uint32_t ssrc;
	uint64_t samples;
	char path[256];
	bool failed;
};

struct fdir {
	struct rec *recs;
	size_t n_recs, cap_recs;
	struct verify_counts n;     /* zrtp, stun, other counted in pass 1 */
	uint32_t ssrc[VERIFY_MAX_SSRC];
	uint32_t ssrc_count[VERIFY_MAX_SSRC];
	size_t n_ssrc;
	bool ssrc_overflow;
	uint64_t hist[256];         /* RTP payload bytes */
	uint64_t pt_count[128];
	struct step_slot steps[STEP_SLOTS];
	bool have_last;
	uint32_t last_ssrc, last_ts;
	uint16_t last_seq;

	bool hello;
	uint8_t hello_hash[32];
	char client_id[17];
	bool commit;
	struct zrtp_commit commit_msg;
	struct wav wav;
};

struct flow {
	struct flow *next;          /* hash chain */
	struct flow *order_next;    /* in order of first packet */
	struct pr_addr a, b;        /* a: sender of the first packet */
	uint64_t first_usec;
	struct fdir d[2];
	/* ZRTP, in the flow's own terms (dir index of the sender) */
	struct verify_zrtp_event ev[VERIFY_MAX_ZRTP_EVENTS];
	size_t n_ev;
	bool ev_overflow;
	int dhpart1_from, dhpart2_from, confirm1_from, confirm2_from,
	    conf2ack_from;
	uint64_t confirm2_usec, conf2ack_usec;
	/* second pass */
	int role;                   /* 0 undecided, 1 RTP, 2 RTCP, 3 other */
	struct flow *rtp_flow;      /* for RTCP flows */
	bool swapped;               /* RTCP flow: d[0] is the stream's dir 1 */
	size_t stream;              /* index in the report, for RTP flows */
};

struct tcpdir {
	struct tcpdir *next;
	struct pr_addr src, dst;
	struct sip_framer *framer;
};

struct candidate {
	size_t entry;
	int score;
};

struct ctx {
	const struct verify_options *opt;
	struct verify_report *rep;
	struct flow *buckets[FLOW_BUCKETS];
	struct flow *first, *last;
	size_t n_flows;
	struct tcpdir *tcp;
	struct announce *ann;
	size_t n_ann, cap_ann;
	char (*call_ids)[96];
	size_t n_call_ids, cap_call_ids;
	struct keylog kl;
	srtp_t *sessions;           /* per key log record, lazily */
	bool *session_bad;
	int err;                    /* -ENOMEM seen */
	const struct pr_datagram *cur;
};

static uint32_t hash_addr(uint32_t h, const struct pr_addr *a)
{
	const uint8_t *p = a->ip;
	for (size_t i = 0; i < ip_len(a->family); i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (uint8_t)a->port) * 16777619u;
	h = (h ^ (uint8_t)(a->port >> 8)) * 16777619u;
	return h;
}

static uint32_t pair_hash(const struct pr_addr *x, const struct pr_addr *y)
{
	if (addr_cmp(x, y) > 0) {
		const struct pr_addr *t = x;
		x = y;
		y = t;
	}
	return hash_addr(hash_addr(2166136261u, x), y) % FLOW_BUCKETS;
}

static struct flow *flow_get(struct ctx *c, const struct pr_addr *src,
			     const struct pr_addr *dst, uint64_t usec, int *dir)
{
	uint32_t h = pair_hash(src, dst);
	for (struct flow *f = c->buckets[h]; f != NULL; f = f->next) {
		if (addr_eq(&f->a, src) && addr_eq(&f->b, dst)) {
			*dir = 0;
			return f;
		}
		if (addr_eq(&f->a, dst) && addr_eq(&f->b, src)) {
			*dir = 1;
			return f;
		}
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		c->err = -ENOMEM;
		return NULL;
	}
	f->a = *src;
	f->b = *dst;
	f->first_usec = usec;
	f->dhpart1_from = f->dhpart2_from = f->confirm1_from =
		f->confirm2_from = f->conf2ack_from = -1;
	f->next = c->buckets[h];
	c->buckets[h] = f;
	if (c->last)
		c->last->order_next = f;
	else
		c->first = f;
	c->last = f;
	c->n_flows++;
	*dir = 0;
	return f;
}

/* ------------------------------------------------------------------ */
/* Statistics (no libm: the tool links without it)                     */

static double sqrt_pos(double x)
{
	if (x <= 0.0)
		return 0.0;
	double r = x > 1.0 ? x : 1.0;
	for (int i = 0; i < 64; i++) {
		double n = 0.5 * (r + x / r);
		if (n >= r)
			break;
		r = n;
	}
	return r;
}

/* log2 for x > 0: scale into [1, 2), then ln(m) = 2 atanh((m-1)/(m+1)). */
static double log2_pos(double x)
{
	int e = 0;
	while (x >= 2.0) {
		x *= 0.5;
		e++;
	}
	while (x < 1.0) {
		x *= 2.0;
		e--;
	}
	double y = (x - 1.0) / (x + 1.0), y2 = y * y, term = y, sum = 0.0;
	for (int k = 1; k < 60; k += 2) {
		sum += term / k;
		term *= y2;
	}
	return e + 2.0 * sum / 0.69314718055994530942;
}

double verify_payload_z(const uint8_t *p, size_t len)
{
	if (len < 2)
		return 0.0;
	unsigned hist[256] = { 0 };
	for (size_t i = 0; i < len; i++)
		hist[p[i]]++;
	double e = (double)len / 256.0, x2 = 0.0;
	for (int i = 0; i < 256; i++) {
		double d = hist[i] - e;
		x2 += d * d / e;
	}
	/* Var(X²) = 2(k-1)(1-1/n) under a uniform source (k = 256 bins). */
	double sd = sqrt_pos(2.0 * 255.0 * (1.0 - 1.0 / (double)len));
	return (x2 - 255.0) / sd;
}

static double entropy_of(const uint64_t hist[256], uint64_t total)
{
	if (total == 0)
		return 0.0;
	double h = 0.0;
	for (int i = 0; i < 256; i++) {
		if (hist[i] == 0)
			continue;
		double q = (double)hist[i] / (double)total;
		h -= q * log2_pos(q);
	}
	return h;
}

/* ------------------------------------------------------------------ */
/* G.711 (ITU-T G.711 tables, written as the usual bit expansions)    */

int16_t verify_ulaw_decode(uint8_t u)
{
	u = (uint8_t)~u;
	int t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

int16_t verify_alaw_decode(uint8_t a)
{
	a ^= 0x55;
	int t = (a & 0x0f) << 4;
	int seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else if (seg == 1)
		t += 0x108;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

/* ------------------------------------------------------------------ */
/* SIP and SDP                                                         */

static void slice_copy(char *dst, size_t cap, const char *p, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		dst[i] = (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? (char)ch : '?';
	}
	dst[n] = '\0';
}

/* The format list of an m= line and its a=rtpmap lines. */
static void media_pts(const char *sec, size_t len, struct announce *an)
{
	an->n_pt = 0;
	size_t pos = 0, line = 0;
	while (pos < len) {
		size_t end = pos;
		while (end < len && sec[end] != '\n' && sec[end] != '\r')
			end++;
		const char *l = sec + pos;
		size_t ll = end - pos;
		if (line == 0 && ll > 2 && l[0] == 'm' && l[1] == '=') {
			/* m=<media> <port> <proto> <fmt> ... */
			size_t i = 2, field = 0;
			while (i < ll) {
				while (i < ll && l[i] == ' ')
					i++;
				size_t s = i;
				while (i < ll && l[i] != ' ')
					i++;
				if (i == s)
					break;
				if (field >= 3 && an->n_pt < MAX_PT) {
					unsigned v = 0;
					bool ok = i - s <= 3;
					for (size_t k = s; k < i && ok; k++) {
						if (l[k] < '0' || l[k] > '9')
							ok = false;
						else
							v = v * 10 + (unsigned)(l[k] - '0');
					}
					if (ok && v < 128) {
						struct ptmap *m = &an->pts[an->n_pt++];
						memset(m, 0, sizeof(*m));
						m->pt = (uint8_t)v;
						if (v == 0)
							strcpy(m->name, "PCMU");
						else if (v == 8)
							strcpy(m->name, "PCMA");
						m->rate = 8000;
					}
				}
				field++;
			}
		} else if (ll > 9 && memcmp(l, "a=rtpmap:", 9) == 0) {
			size_t i = 9;
			unsigned v = 0;
			while (i < ll && l[i] >= '0' && l[i] <= '9' && v < 1000)
				v = v * 10 + (unsigned)(l[i++] - '0');
			while (i < ll && l[i] == ' ')
				i++;
			size_t s = i;
			while (i < ll && l[i] != '/')
				i++;
			for (size_t k = 0; k < an->n_pt; k++) {
				if (an->pts[k].pt != v)
					continue;
				slice_copy(an->pts[k].name, sizeof(an->pts[k].name),
					   l + s, i - s);
				unsigned r = 0;
				if (i < ll)
					i++;
				while (i < ll && l[i] >= '0' && l[i] <= '9' && r < 1000000)
					r = r * 10 + (unsigned)(l[i++] - '0');
				an->pts[k].rate = r;
			}
		}
		line++;
		while (end < len && (sec[end] == '\n' || sec[end] == '\r'))
			end++;
		pos = end;
	}
}

static struct announce *announce_get(struct ctx *c, const struct pr_addr *a,
				     bool any_ip)
{
	for (size_t i = 0; i < c->n_ann; i++) {
		struct announce *an = &c->ann[i];
		if (an->rtp.port == a->port && an->any_ip == any_ip &&
		    (any_ip || ip_eq(&an->rtp, a)))
			return an;
	}
	if (c->n_ann == c->cap_ann) {
		size_t nc = c->cap_ann ? 2 * c->cap_ann : 16;
		struct announce *n = realloc(c->ann, nc * sizeof(*n));
		if (n == NULL) {
			c->err = -ENOMEM;
			return NULL;
		}
		c->ann = n;
		c->cap_ann = nc;
	}
	struct announce *an = &c->ann[c->n_ann++];
	memset(an, 0, sizeof(*an));
	an->rtp = *a;
	an->any_ip = any_ip;
	return an;
}

static void note_call_id(struct ctx *c, const char *id)
{
	for (size_t i = 0; i < c->n_call_ids; i++)
		if (strcmp(c->call_ids[i], id) == 0)
			return;
	if (c->n_call_ids == c->cap_call_ids) {
		size_t nc = c->cap_call_ids ? 2 * c->cap_call_ids : 8;
		char(*n)[96] = realloc(c->call_ids, nc * sizeof(*n));
		if (n == NULL) {
			c->err = -ENOMEM;
			return;
		}
		c->call_ids = n;
		c->cap_call_ids = nc;
	}
	strcpy(c->call_ids[c->n_call_ids++], id);
}

static void handle_sip(struct ctx *c, const uint8_t *buf, size_t len,
		       bool stream)
{
	struct sip_msg *m = malloc(sizeof(*m));
	if (m == NULL) {
		c->err = -ENOMEM;
		return;
	}
	if (sip_msg_parse(buf, len, stream, m) != 0) {
		c->rep->sip_bad++;
		free(m);
		return;
	}
	c->rep->sip_messages++;
	if (m->sdp.len > 0) {
		struct sdp_view v;
		if (sdp_parse((const uint8_t *)m->sdp.p, m->sdp.len, &v) == 0) {
			char call_id[96];
			slice_copy(call_id, sizeof(call_id), m->call_id.p,
				   m->call_id.len);
			note_call_id(c, call_id);
			for (size_t i = 0; i < v.n_media; i++) {
				const struct sdp_media *md = &v.media[i];
				if (md->port == 0)
					continue;
				struct pr_addr a;
				memset(&a, 0, sizeof(a));
				a.port = md->port;
				bool any = true;
				char ip[INET6_ADDRSTRLEN];
				if (md->addr.len > 0 && md->addr.len < sizeof(ip)) {
					memcpy(ip, md->addr.p, md->addr.len);
					ip[md->addr.len] = '\0';
					int fam = md->addr_family == 6 ? 6 : 4;
					if (inet_pton(fam == 6 ? AF_INET6 : AF_INET, ip, a.ip) == 1) {
						static const uint8_t zero[16];
						a.family = fam;
						any = memcmp(a.ip, zero, ip_len(fam)) == 0;
					}
				}
				if (any)
					memset(&a, 0, sizeof(a)), a.port = md->port;
				struct announce *an = announce_get(c, &a, any);
				if (an == NULL)
					break;
				strcpy(an->call_id, call_id);
				an->rtcp_port = md->rtcp_port;
				an->rtcp_mux = md->rtcp_mux;
				if (md->has_zrtp_hash && md->zrtp_hash.len == 64) {
					char h[65];
					for (size_t k = 0; k < 64; k++) {
						char ch = md->zrtp_hash.p[k];
						h[k] = (ch >= 'A' && ch <= 'F') ? (char)(ch + 32) : ch;
					}
					h[64] = '\0';
					bool have = false;
					for (size_t k = 0; k < an->n_hash; k++)
						have |= strcmp(an->hashes[k], h) == 0;
					if (!have) {
						if (an->n_hash == MAX_HASHES) {
							memmove(an->hashes[0], an->hashes[1],
								sizeof(an->hashes[0]) * (MAX_HASHES - 1));
							an->n_hash--;
						}
						strcpy(an->hashes[an->n_hash++], h);
					}
				}
				if (md->end > md->start && md->end <= m->sdp.len)
					media_pts(m->sdp.p + md->start,
						  md->end - md->start, an);
			}
		}
	}
	free(m);
}

static void tcp_frame(void *arg, enum sip_frame_kind kind, const uint8_t *p,
		      size_t len)
{
	struct ctx *c = arg;
	if (kind == SIP_FRAME_MESSAGE)
		handle_sip(c, p, len, true);
}

static void handle_tcp(struct ctx *c, const struct pr_datagram *d)
{
	struct tcpdir *t;
	for (t = c->tcp; t != NULL; t = t->next)
		if (addr_eq(&t->src, &d->src) && addr_eq(&t->dst, &d->dst))
			break;
	if (t == NULL) {
		t = calloc(1, sizeof(*t));
		if (t == NULL) {
			c->err = -ENOMEM;
			return;
		}
		t->src = d->src;
		t->dst = d->dst;
		t->framer = sip_framer_new(SIP_MAX_MSG);
		if (t->framer == NULL) {
			free(t);
			c->err = -ENOMEM;
			return;
		}
		t->next = c->tcp;
		c->tcp = t;
	} else if (d->resync) {
		/* bytes missing before these: a message in the framer would
		 * be glued to unrelated bytes, so start afresh */
		struct sip_framer *nf = sip_framer_new(SIP_MAX_MSG);
		if (nf == NULL) {
			c->err = -ENOMEM;
			return;
		}
		sip_framer_free(t->framer);
		t->framer = nf;
	}
	if (sip_framer_feed(t->framer, d->data, d->len, tcp_frame, c) < 0)
		c->err = -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Packet shapes                                                       */

/*
 * RFC 3550 §6.1 compound walk. Clear: the headers chain to exactly the
 * end. SRTCP (RFC 3711 §3.4): the first packet's header is in clear and
 * fits, then E||index (E set when encrypted) and an 80-bit tag.
 */
static enum rtcp_shape rtcp_shape(const uint8_t *p, size_t len)
{
	size_t pos = 0;
	while (pos + 4 <= len) {
		if ((p[pos] & 0xc0) != 0x80 || p[pos + 1] < 192 || p[pos + 1] > 223)
			break;
		size_t l = ((size_t)p[pos + 2] << 8 | p[pos + 3]) * 4 + 4;
		if (pos + l > len)
			break;
		pos += l;
		if (pos == len)
			return RTCP_SHAPE_CLEAR;
	}
	size_t trailer = 4 + SUITE_RTCP_TAG_LEN;
	if (len >= 8 + trailer) {
		size_t first = ((size_t)p[2] << 8 | p[3]) * 4 + 4;
		if (first <= len - trailer && (p[len - trailer] & 0x80))
			return RTCP_SHAPE_SRTCP;
		if (pos == len - trailer)  /* E = 0: authenticated only */
			return RTCP_SHAPE_SRTCP;
	}
	return RTCP_SHAPE_UNKNOWN;
}

/* Offset of the RTP payload (RFC 3550 §5.1, §5.3.1), or 0 if impossible. */
static size_t rtp_payload_off(const uint8_t *p, size_t len)
{
	if (len < 12)
		return 0;
	size_t off = 12 + 4 * (size_t)(p[0] & 0x0f);
	if (off > len)
		return 0;
	if (p[0] & 0x10) {
		if (off + 4 > len)
			return 0;
		off += 4 + 4 * ((size_t)p[off + 2] << 8 | p[off + 3]);
		if (off > len)
			return 0;
	}
	return off;
}

/* ------------------------------------------------------------------ */
/* Key log authentication (libsrtp2)                                   */

static bool srtp_inited;

static int session_new(const struct keylog_entry *e, srtp_t *out)
{
	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	if (suite_policy(e->profile, &pol) < 0)
		return -EINVAL;
	uint8_t key[KEYLOG_MAX_KEY_LEN + KEYLOG_SALT_LEN];
	memcpy(key, e->key, e->key_len);
	memcpy(key + e->key_len, e->salt, KEYLOG_SALT_LEN);
	pol.key = key;
	/* ssrc=*: a template libsrtp clones per SSRC on its first
	 * authenticated packet (a failed try creates nothing) */
	pol.ssrc.type = e->any_ssrc ? ssrc_any_inbound : ssrc_specific;
	pol.ssrc.value = e->any_ssrc ? 0 : e->ssrc;
	/* The largest replay window libsrtp takes: captures reorder. */
	pol.window_size = 0x7fff;
	pol.allow_repeat_tx = 1;
	srtp_err_status_t st = srtp_create(out, &pol);
	explicit_bzero(key, sizeof(key));
	return st == srtp_err_status_ok ? 0 : -EINVAL;
}

/*
 * Authenticate (and decrypt, into buf) with one record. A packet the
 * replay window already saw - a duplicate in the capture - is retried in
 * a scratch session carrying the stream's rollover counter.
 */
static bool try_unprotect(struct ctx *c, size_t ei, bool rtcp, uint32_t ssrc,
			  uint8_t *buf, int *len, const uint8_t *orig,
			  size_t orig_len)
{
	if (c->session_bad[ei])
		return false;
	const struct keylog_entry *e = &c->kl.entries[ei];
	if (c->sessions[ei] == NULL && session_new(e, &c->sessions[ei]) < 0) {
		c->session_bad[ei] = true;
		return false;
	}
	memcpy(buf, orig, orig_len);
	*len = (int)orig_len;
	srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(c->sessions[ei], buf, len)
				    : srtp_unprotect(c->sessions[ei], buf, len);
	if (st == srtp_err_status_ok)
		return true;
	if (st != srtp_err_status_replay_fail && st != srtp_err_status_replay_old)
		return false;
	srtp_t scratch;
	if (session_new(e, &scratch) < 0)
		return false;
	uint32_t roc = 0;
	/* (an ssrc=* scratch session has no stream yet to carry it: ROC 0) */
	if (!rtcp && srtp_get_stream_roc(c->sessions[ei], ssrc, &roc) ==
			     srtp_err_status_ok)
		(void)srtp_set_stream_roc(scratch, ssrc, roc);
	memcpy(buf, orig, orig_len);
	*len = (int)orig_len;
	st = rtcp ? srtp_unprotect_rtcp(scratch, buf, len)
		  : srtp_unprotect(scratch, buf, len);
	srtp_dealloc(scratch);
	return st == srtp_err_status_ok;
}

/* The RTP address that goes with an RTCP address. */
static struct pr_addr rtp_of_rtcp(const struct ctx *c, const struct pr_addr *a)
{
	struct pr_addr r = *a;
	for (size_t i = 0; i < c->n_ann; i++) {
		const struct announce *an = &c->ann[i];
		if ((an->any_ip || ip_eq(&an->rtp, a)) && !an->rtcp_mux &&
		    an->rtcp_port == a->port) {
			r.port = an->rtp.port;
			return r;
		}
	}
	r.port = (uint16_t)(a->port - 1);
	return r;
}

static enum rec_auth authenticate(struct ctx *c, const struct pr_datagram *d,
				  uint32_t ssrc, bool rtcp, uint8_t *buf,
				  int *out_len)
{
	struct keylog_addr src, dst;
	to_keylog_addr(&d->src, &src);
	to_keylog_addr(&d->dst, &dst);
	struct candidate cand[MAX_CAND];
	size_t n = 0;
	for (int pass = 0; pass < 2 && n == 0; pass++) {
	if (pass == 1) {
		if (!rtcp)
			break;
		/* key log addresses are RTP addresses: SRTCP from the RTCP
		 * ports (SDP a=rtcp, else port + 1) maps back to them */
		struct pr_addr a = rtp_of_rtcp(c, &d->src), b = rtp_of_rtcp(c, &d->dst);
		to_keylog_addr(&a, &src);
		to_keylog_addr(&b, &dst);
	}
	for (size_t i = 0; i < c->kl.n; i++) {
		int s = keylog_entry_match(&c->kl.entries[i], ssrc, &src, &dst);
		if (s < 0)
			continue;
		size_t k = n < MAX_CAND ? n++ : MAX_CAND - 1;
		if (k == MAX_CAND - 1 && n == MAX_CAND && cand[k].score >= s)
			continue;
		cand[k].entry = i;
		cand[k].score = s;
		while (k > 0 && cand[k - 1].score < cand[k].score) {
			struct candidate t = cand[k];
			cand[k] = cand[k - 1];
			cand[k - 1] = t;
			k--;
		}
	}
	}
	if (n == 0)
		return AUTH_NO_KEY;
	if (d->len > 65536)
		return AUTH_FAIL;
	for (size_t i = 0; i < n; i++)
		if (try_unprotect(c, cand[i].entry, rtcp, ssrc, buf, out_len,
				  d->data, d->len))
			return AUTH_OK;
	return AUTH_FAIL;
}

/* ------------------------------------------------------------------ */
/* Audio                                                               */

static void put_le(uint8_t *p, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void wav_header(uint8_t h[44], uint64_t samples)
{
	uint32_t data = samples > 0x7ffffff0u / 2 ? 0x7ffffff0u : (uint32_t)(samples * 2);
	memcpy(h, "RIFF", 4);
	put_le(h + 4, 36 + data, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le(h + 16, 16, 4);
	put_le(h + 20, 1, 2);        /* PCM */
	put_le(h + 22, 1, 2);        /* mono */
	put_le(h + 24, 8000, 4);
	put_le(h + 28, 16000, 4);
	put_le(h + 32, 2, 2);
	put_le(h + 34, 16, 2);
	memcpy(h + 36, "data", 4);
	put_le(h + 40, data, 4);
}

static const struct ptmap *codec_of(struct ctx *c, const struct pr_addr *src,
				    uint8_t pt)
{
	static const struct ptmap pcmu = { 0, "PCMU", 8000 },
				  pcma = { 8, "PCMA", 8000 };
	for (size_t i = 0; i < c->n_ann; i++) {
		const struct announce *an = &c->ann[i];
		if (an->rtp.port != src->port || (!an->any_ip && !ip_eq(&an->rtp, src)))
			continue;
		for (size_t k = 0; k < an->n_pt; k++)
			if (an->pts[k].pt == pt)
				return &an->pts[k];
	}
	/* RFC 3551 static types, when no SDP says otherwise */
	if (pt == 0)
		return &pcmu;
	if (pt == 8)
		return &pcma;
	return NULL;
}

static bool is_g711(const struct ptmap *m, bool *alaw)
{
	if (m == NULL || m->rate != 8000)
		return false;
	if (strcmp(m->name, "PCMU") == 0 || strcmp(m->name, "pcmu") == 0) {
		*alaw = false;
		return true;
	}
	if (strcmp(m->name, "PCMA") == 0 || strcmp(m->name, "pcma") == 0) {
		*alaw = true;
		return true;
	}
	return false;
}

static void wav_write(struct ctx *c, struct fdir *fd, const struct pr_datagram *d,
		      uint32_t ssrc, bool alaw, const uint8_t *pl, size_t n)
{
	struct wav *w = &fd->wav;
	if (w->failed || n == 0)
		return;
	if (w->f == NULL) {
		char s[INET6_ADDRSTRLEN + 8], t[INET6_ADDRSTRLEN + 8];
		pr_addr_str(&d->src, s, sizeof(s));
		pr_addr_str(&d->dst, t, sizeof(t));
		for (char *q = s; *q; q++)
			if (*q == ':' || *q == '[' || *q == ']')
				*q = '_';
		for (char *q = t; *q; q++)
			if (*q == ':' || *q == '[' || *q == ']')
				*q = '_';
		snprintf(w->path, sizeof(w->path), "%s/%s-to-%s-%08x.wav",
			 c->opt->audio_dir, s, t, ssrc);
		w->f = fopen(w->path, "wb");
		if (w->f == NULL) {
			w->failed = true;
			return;
		}
		uint8_t h[44];
		wav_header(h, 0);
		if (fwrite(h, 1, 44, w->f) != 44)
			w->failed = true;
		w->ssrc = ssrc;
	}
	if (ssrc != w->ssrc)
		return;
	uint8_t out[2 * 1500];
	while (n > 0) {
		size_t k = n > 1500 ? 1500 : n;
		for (size_t i = 0; i < k; i++) {
			int16_t v = alaw ? verify_alaw_decode(pl[i]) : verify_ulaw_decode(pl[i]);
			put_le(out + 2 * i, (uint16_t)v, 2);
		}
		if (fwrite(out, 2, k, w->f) != k)
			w->failed = true;
		w->samples += k;
		pl += k;
		n -= k;
	}
}

static void wav_close(struct wav *w)
{
	if (w->f == NULL)
		return;
	uint8_t h[44];
	wav_header(h, w->samples);
	if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, 44, w->f) != 44)
		w->failed = true;
	if (fclose(w->f) != 0)
		w->failed = true;
	w->f = NULL;
}

/* The SDP that announced a as an RTP (or, rtcp, a non-mux RTCP) address. */
static const struct announce *announced(const struct ctx *c,
					const struct pr_addr *a, bool rtcp)
{
	for (size_t i = 0; i < c->n_ann; i++) {
		const struct announce *an = &c->ann[i];
		if (!an->any_ip && !ip_eq(&an->rtp, a))
			continue;
		uint16_t want = rtcp ? (an->rtcp_mux ? 0 : an->rtcp_port) : an->rtp.port;
		if (want != 0 && want == a->port)
			return an;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The first pass                                                      */

static void ssrc_note(struct fdir *fd, uint32_t ssrc)
{
	for (size_t i = 0; i < fd->n_ssrc; i++) {
		if (fd->ssrc[i] == ssrc) {
			fd->ssrc_count[i]++;
			return;
		}
	}
	if (fd->n_ssrc == VERIFY_MAX_SSRC) {
		fd->ssrc_overflow = true;
		return;
	}
	fd->ssrc[fd->n_ssrc] = ssrc;
	fd->ssrc_count[fd->n_ssrc++] = 1;
}

static void step_note(struct fdir *fd, uint32_t step)
{
	if (step == 0 || step > 8000)
		return;
	size_t lo = 0;
	for (size_t i = 0; i < STEP_SLOTS; i++) {
		if (fd->steps[i].count > 0 && fd->steps[i].step == step) {
			fd->steps[i].count++;
			return;
		}
		if (fd->steps[i].count < fd->steps[lo].count)
			lo = i;
	}
	if (fd->steps[lo].count <= 1) {   /* replace the rarest step */
		fd->steps[lo].step = step;
		fd->steps[lo].count = 1;
	}
}

static uint32_t step_mode(const struct fdir *fd)
{
	uint32_t best = 0, cnt = 0;
	for (size_t i = 0; i < STEP_SLOTS; i++)
		if (fd->steps[i].count > cnt) {
			cnt = fd->steps[i].count;
			best = fd->steps[i].step;
		}
	return cnt >= 2 ? best : 0;
}

static struct rec *rec_add(struct ctx *c, struct fdir *fd)
{
	if (fd->n_recs == fd->cap_recs) {
		size_t nc = fd->cap_recs ? 2 * fd->cap_recs : 256;
		struct rec *n = realloc(fd->recs, nc * sizeof(*n));
		if (n == NULL) {
			c->err = -ENOMEM;
			return NULL;
		}
		fd->recs = n;
		fd->cap_recs = nc;
	}
	struct rec *r = &fd->recs[fd->n_recs++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void ev_add(struct flow *f, enum zrtp_msg_type t, int dir, uint64_t usec)
{
	if (f->n_ev > 0) {
		struct verify_zrtp_event *last = &f->ev[f->n_ev - 1];
		if (last->type == t && last->dir == dir) {
			last->count++;
			return;
		}
	}
	if (f->n_ev == VERIFY_MAX_ZRTP_EVENTS) {
		f->ev_overflow = true;
		return;
	}
	f->ev[f->n_ev++] = (struct verify_zrtp_event){ (uint8_t)t, (uint8_t)dir, 1, usec };
}

static void handle_zrtp(struct flow *f, int dir, const struct pr_datagram *d)
{
	struct fdir *fd = &f->d[dir];
	struct zrtp_msg m;
	if (zrtp_packet_parse(d->data, d->len, &m) != 0) {
		fd->n.zrtp_bad++;
		return;
	}
	fd->n.zrtp++;
	ev_add(f, m.type, dir, d->ts_usec);
	switch (m.type) {
	case ZRTP_MSG_HELLO:
		if (!fd->hello) {
			struct zrtp_iov v = { m.msg, m.msg_len };
			if (zrtp_hash(ZRTP_HASH_S256, &v, 1, fd->hello_hash) == 0)
				fd->hello = true;
			const char *cid = (const char *)m.u.hello.client_id;
			const char *nul = memchr(cid, '\0', 16);
			slice_copy(fd->client_id, sizeof(fd->client_id), cid,
				   nul ? (size_t)(nul - cid) : 16);
			for (int i = 15; i >= 0 && fd->client_id[i] == ' '; i--)
				fd->client_id[i] = '\0';
		}
		break;
	case ZRTP_MSG_COMMIT:
		fd->commit = true;
		fd->commit_msg = m.u.commit;
		break;
	case ZRTP_MSG_DHPART1:
		if (f->dhpart1_from < 0)
			f->dhpart1_from = dir;
		break;
	case ZRTP_MSG_DHPART2:
		if (f->dhpart2_from < 0)
			f->dhpart2_from = dir;
		break;
	case ZRTP_MSG_CONFIRM1:
		if (f->confirm1_from < 0)
			f->confirm1_from = dir;
		break;
	case ZRTP_MSG_CONFIRM2:
		if (f->confirm2_from < 0) {
			f->confirm2_from = dir;
			f->confirm2_usec = d->ts_usec;
		}
		break;
	case ZRTP_MSG_CONF2ACK:
		if (f->conf2ack_from < 0) {
			f->conf2ack_from = dir;
			f->conf2ack_usec = d->ts_usec;
		}
		break;
	default:
		break;
	}
}

/* A datagram demux_classify calls RTCP (at least 8 bytes, version 2). */
static void handle_rtcp(struct ctx *c, struct fdir *fd,
			const struct pr_datagram *d)
{
	const uint8_t *p = d->data;
	size_t len = d->len;
	uint8_t buf[65536 + 64];
	int plain_len = 0;

	struct rec *r = rec_add(c, fd);
	if (r == NULL)
		return;
	r->kind = REC_RTCP;
	r->usec = d->ts_usec;
	r->frame = d->index;
	r->ssrc = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		  (uint32_t)p[6] << 8 | p[7];
	r->shape = (uint8_t)rtcp_shape(p, len);
	r->plen = (uint16_t)(len > 0xffff ? 0xffff : len);
	if (c->kl.n > 0 && r->shape != RTCP_SHAPE_CLEAR)
		r->auth = (uint8_t)authenticate(c, d, r->ssrc, true, buf,
						&plain_len);
}

/*
 * A datagram demux_classify calls RTP (at least 12 bytes, version 2).
 * One whose CSRC list or header extension runs past its end still is
 * RTP to the shim (held, protected); here it has no payload to judge,
 * so it can only be of unknown class (classify_rtp), never "other".
 */
static void handle_rtp(struct ctx *c, struct fdir *fd,
		       const struct pr_datagram *d)
{
	const uint8_t *p = d->data;
	size_t len = d->len;
	uint8_t buf[65536 + 64];
	int plain_len = 0;

	size_t off = rtp_payload_off(p, len);
	bool bad_header = off == 0;
	if (bad_header)
		off = len;
	struct rec *r = rec_add(c, fd);
	if (r == NULL)
		return;
	r->kind = REC_RTP;
	r->usec = d->ts_usec;
	r->frame = d->index;
	r->pt = p[1] & 0x7f;
	r->seq = (uint16_t)(p[2] << 8 | p[3]);
	r->ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		(uint32_t)p[6] << 8 | p[7];
	r->ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
		  (uint32_t)p[10] << 8 | p[11];
	size_t plen = len - off;
	r->plen = (uint16_t)(plen > 0xffff ? 0xffff : plen);
	r->z = plen >= VERIFY_MIN_CONTENT_BYTES ? (float)verify_payload_z(p + off, plen) : 0.0f;
	r->bad_header = bad_header;
	ssrc_note(fd, r->ssrc);
	fd->pt_count[r->pt]++;
	for (size_t i = off; i < len; i++)
		fd->hist[p[i]]++;
	uint32_t step = 0;
	if (fd->have_last && fd->last_ssrc == r->ssrc &&
	    (uint16_t)(fd->last_seq + 1) == r->seq) {
		step = r->ts - fd->last_ts;
		step_note(fd, step);
	}
	fd->have_last = true;
	fd->last_ssrc = r->ssrc;
	fd->last_seq = r->seq;
	fd->last_ts = r->ts;

	if (c->kl.n > 0)
		r->auth = (uint8_t)authenticate(c, d, r->ssrc, false, buf, &plain_len);

	if (c->opt->audio_dir != NULL && !bad_header) {
		bool alaw;
		if (!is_g711(codec_of(c, &d->src, r->pt), &alaw))
			return;
		if (r->auth == AUTH_OK) {
			size_t poff = rtp_payload_off(buf, (size_t)plain_len);
			if (poff > 0) {
				size_t n = (size_t)plain_len - poff;
				if (buf[0] & 0x20)  /* padding, RFC 3550 §5.1 */
					n = n > buf[plain_len - 1] ? n - buf[plain_len - 1] : 0;
				wav_write(c, fd, d, r->ssrc, alaw, buf + poff, n);
			}
		} else if (r->auth != AUTH_FAIL &&
			   (r->z > VERIFY_Z_STRUCTURED || (step != 0 && plen == step))) {
			wav_write(c, fd, d, r->ssrc, alaw, p + off, plen);
		}
	}
}

/*
 * The port a datagram is on, for demux_classify: an RTCP port some SDP
 * seen so far announced without rtcp-mux, else RTP (muxed or unknown).
 */
static enum demux_port demux_port_of(const struct ctx *c,
				     const struct pr_datagram *d)
{
	return announced(c, &d->src, true) || announced(c, &d->dst, true)
		       ? DEMUX_PORT_RTCP : DEMUX_PORT_RTP;
}

/* Every packet decision is demux_classify's, the shim's own (demux.h). */
static void handle_datagram(struct ctx *c, const struct pr_datagram *d)
{
	if (d->proto == PR_TCP) {
		handle_tcp(c, d);
		return;
	}
	enum demux_class k = demux_classify(d->data, d->len, demux_port_of(c, d));
	if (k == DEMUX_SIP) {
		uint64_t before = c->rep->sip_messages;
		handle_sip(c, d->data, d->len, false);
		if (c->rep->sip_messages != before)
			return;
	}
	int dir;
	struct flow *f = flow_get(c, &d->src, &d->dst, d->ts_usec, &dir);
	if (f == NULL)
		return;
	struct fdir *fd = &f->d[dir];
	switch (k) {
	case DEMUX_ZRTP: handle_zrtp(f, dir, d); break;
	case DEMUX_STUN: fd->n.stun++; break;
	case DEMUX_DTLS: fd->n.dtls++; break;
	case DEMUX_RTCP: handle_rtcp(c, fd, d); break;
	case DEMUX_RTP: handle_rtp(c, fd, d); break;
	case DEMUX_SIP:             /* SIP-like, but sip_msg_parse refused it */
	case DEMUX_OTHER: fd->n.other++; break;
	}
}

/* ------------------------------------------------------------------ */
/* The second pass                                                     */

static struct flow *flow_find(struct ctx *c, const struct pr_addr *x,
			      const struct pr_addr *y)
{
	uint32_t h = pair_hash(x, y);
	for (struct flow *f = c->buckets[h]; f != NULL; f = f->next)
		if ((addr_eq(&f->a, x) && addr_eq(&f->b, y)) ||
		    (addr_eq(&f->a, y) && addr_eq(&f->b, x)))
			return f;
	return NULL;
}

static size_t count_kind(const struct fdir *fd, enum rec_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < fd->n_recs; i++)
		n += fd->recs[i].kind == k;
	return n;
}

static void decide_roles(struct ctx *c)
{
	for (struct flow *f = c->first; f != NULL; f = f->order_next) {
		size_t rtp = count_kind(&f->d[0], REC_RTP) + count_kind(&f->d[1], REC_RTP);
		size_t rtcp = count_kind(&f->d[0], REC_RTCP) + count_kind(&f->d[1], REC_RTCP);
		uint64_t zrtp = f->d[0].n.zrtp + f->d[1].n.zrtp +
				f->d[0].n.zrtp_bad + f->d[1].n.zrtp_bad;
		bool ann_rtp = announced(c, &f->a, false) || announced(c, &f->b, false);
		bool ann_rtcp = announced(c, &f->a, true) || announced(c, &f->b, true);
		if (ann_rtp || zrtp > 0) {
			f->role = 1;
			continue;
		}
		if (ann_rtcp || (rtcp > 0 && rtp == 0)) {
			struct pr_addr x = rtp_of_rtcp(c, &f->a), y = rtp_of_rtcp(c, &f->b);
			struct flow *r = flow_find(c, &x, &y);
			if (r != NULL && r != f) {
				f->role = 2;
				f->rtp_flow = r;
				f->swapped = !addr_eq(&r->a, &x);
				continue;
			}
			if (ann_rtcp) {
				f->role = 1;
				continue;
			}
		}
		/* Unannounced: media if one SSRC repeats, as RTP does. */
		bool media = false;
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; i < f->d[k].n_ssrc; i++)
				media |= f->d[k].ssrc_count[i] >= 3;
		f->role = media || rtcp >= 3 ? 1 : 3;
	}
	/* An RTCP flow whose RTP flow is itself not media stays on its own. */
	for (struct flow *f = c->first; f != NULL; f = f->order_next)
		if (f->role == 2 && f->rtp_flow->role != 1) {
			f->role = 1;
			f->rtp_flow = NULL;
		}
}

enum pclass { P_SRTP, P_CLEAR, P_UNKNOWN };

static enum pclass classify_rtp(struct ctx *c, const struct rec *r,
				const struct fdir *fd, const struct pr_addr *src,
				uint32_t spp, bool zrtp_ok, uint64_t keys_usec)
{
	if (r->auth == AUTH_OK)
		return P_SRTP;
	if (r->bad_header)
		return P_UNKNOWN;
	bool content = r->plen >= VERIFY_MIN_CONTENT_BYTES;
	bool structured = content && r->z > VERIFY_Z_STRUCTURED;
	if (structured)
		return P_CLEAR;
	bool alaw;
	bool g711 = is_g711(codec_of(c, src, r->pt), &alaw);
	if (g711 && spp != 0) {
		if (r->plen == spp)
			return P_CLEAR;   /* no room for an auth tag */
		if (r->plen == spp + 10 || r->plen == spp + 4)
			return P_SRTP;
	}
	if (zrtp_ok && r->usec >= keys_usec)
		return P_SRTP;        /* random-looking, after ZRTP on this 5-tuple */
	(void)fd;
	return P_UNKNOWN;
}

static void fail_reason(struct verify_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_reason(struct verify_report *rep, const char *fmt, ...)
{
	size_t l = strlen(rep->reasons);
	if (l + 4 >= sizeof(rep->reasons))
		return;
	if (l > 0) {
		strcpy(rep->reasons + l, "; ");
		l += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->reasons + l, sizeof(rep->reasons) - l, fmt, ap);
	va_end(ap);
}

static void algo_str(char out[5], uint32_t v)
{
	char b[5];
	zrtp_algo_str(v, b);
	memcpy(out, b, 5);
	for (int i = 3; i >= 0 && out[i] == ' '; i--)
		out[i] = '\0';
}

static void handshake(struct flow *f, struct verify_stream *s)
{
	s->n_ev = f->n_ev;
	memcpy(s->ev, f->ev, sizeof(f->ev[0]) * f->n_ev);
	s->ev_overflow = f->ev_overflow;
	s->initiator = f->confirm2_from >= 0 ? f->confirm2_from
		       : f->dhpart2_from >= 0 ? f->dhpart2_from
		       : (f->d[0].commit != f->d[1].commit ? (f->d[0].commit ? 0 : 1) : -1);
	const struct zrtp_commit *cm = NULL;
	if (s->initiator >= 0 && f->d[s->initiator].commit)
		cm = &f->d[s->initiator].commit_msg;
	if (cm != NULL) {
		s->have_algos = true;
		algo_str(s->ka, cm->ka);
		algo_str(s->hash, cm->hash);
		algo_str(s->cipher, cm->cipher);
		algo_str(s->auth, cm->auth);
		algo_str(s->sas, cm->sas);
	}
	bool dh = cm == NULL || (cm->ka != ZRTP_KA_MULT && cm->ka != ZRTP_KA_PRSH);
	char *m = s->hs_missing;
	size_t cap = sizeof(s->hs_missing);
	m[0] = '\0';
#define MISS(cond, name)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			snprintf(m + strlen(m), cap - strlen(m), "%s%s",      \
				 m[0] ? " " : "", name);                       \
	} while (0)
	MISS(f->d[0].hello && f->d[1].hello, "Hello(both)");
	MISS(f->d[0].commit || f->d[1].commit, "Commit");
	if (dh) {
		MISS(f->dhpart1_from >= 0, "DHPart1");
		MISS(f->dhpart2_from >= 0, "DHPart2");
	}
	MISS(f->confirm1_from >= 0, "Confirm1");
	MISS(f->confirm2_from >= 0, "Confirm2");
	MISS(f->conf2ack_from >= 0, "Conf2ACK");
#undef MISS
	s->hs_complete = m[0] == '\0';
	s->hs_end_usec = s->hs_complete ? f->conf2ack_usec : 0;
}

static enum verify_hash_check hash_check(const struct ctx *c,
					 const struct fdir *fd,
					 const struct pr_addr *src)
{
	if (!fd->hello)
		return VERIFY_HASH_NO_HELLO;
	const struct announce *an = announced(c, src, false);
	if (an == NULL)
		return VERIFY_HASH_NO_SDP;
	if (an->n_hash == 0)
		return VERIFY_HASH_NOT_IN_SDP;
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", fd->hello_hash[i]);
	for (size_t i = 0; i < an->n_hash; i++)
		if (strcmp(an->hashes[i], hex) == 0)
			return VERIFY_HASH_MATCH;
	return VERIFY_HASH_MISMATCH;
}

/* Classify one direction's records into the stream's counts. */
static void tally(struct ctx *c, const struct flow *f, int k,
		  struct verify_stream *s, int sdir, bool zrtp_ok,
		  uint64_t keys_usec, const struct flow *rtp_flow)
{
	const struct fdir *fd = &f->d[k];
	struct verify_dir *vd = &s->dir[sdir];
	const struct pr_addr *src = k == 0 ? &f->a : &f->b;
	/* G.711 knowledge comes from the RTP address, RTCP has no payload type */
	uint32_t spp = step_mode(fd);
	for (size_t i = 0; i < fd->n_recs; i++) {
		const struct rec *r = &fd->recs[i];
		if (r->auth == AUTH_OK)
			vd->n.auth_ok++;
		else if (r->auth == AUTH_FAIL)
			vd->n.auth_fail++;
		else if (r->auth == AUTH_NO_KEY)
			vd->n.no_key++;
		if (r->auth == AUTH_FAIL && s->n_failed_frames < VERIFY_MAX_FAILED_REPORT)
			s->failed_frames[s->n_failed_frames++] = r->frame;
		if (r->kind == REC_RTCP) {
			if (r->auth == AUTH_OK || r->shape == RTCP_SHAPE_SRTCP)
				vd->n.srtcp++;
			else if (r->shape == RTCP_SHAPE_CLEAR)
				vd->n.rtcp_clear++;
			else
				vd->n.rtcp_unknown++;
		} else {
			switch (classify_rtp(c, r, fd, src, spp, zrtp_ok, keys_usec)) {
			case P_SRTP: vd->n.srtp++; break;
			case P_CLEAR: vd->n.rtp_clear++; break;
			default: vd->n.rtp_unknown++; break;
			}
			if (!s->has_media || r->usec < s->first_media_usec)
				s->first_media_usec = r->usec;
			s->has_media = true;
		}
		if (r->kind == REC_RTCP && !s->has_media && rtp_flow == NULL)
			s->has_media = true;
	}
	vd->n.zrtp += fd->n.zrtp;
	vd->n.zrtp_bad += fd->n.zrtp_bad;
	vd->n.stun += fd->n.stun;
	vd->n.dtls += fd->n.dtls;
	vd->n.other += fd->n.other;
}

static void fill_dir(struct ctx *c, const struct flow *f, int k,
		     struct verify_dir *vd)
{
	const struct fdir *fd = &f->d[k];
	vd->src = k == 0 ? f->a : f->b;
	vd->dst = k == 0 ? f->b : f->a;
	memcpy(vd->ssrc, fd->ssrc, sizeof(vd->ssrc));
	vd->n_ssrc = fd->n_ssrc;
	vd->ssrc_overflow = fd->ssrc_overflow;
	vd->announced = announced(c, &vd->src, false) != NULL;
	vd->sent_hello = fd->hello;
	memcpy(vd->client_id, fd->client_id, sizeof(vd->client_id));
	vd->hash_check = hash_check(c, fd, &vd->src);
	uint64_t total = 0;
	for (int i = 0; i < 256; i++)
		total += fd->hist[i];
	vd->payload_bytes = total;
	vd->payload_entropy = entropy_of(fd->hist, total);
	vd->payload_type = -1;
	uint64_t best = 0;
	for (int i = 0; i < 128; i++)
		if (fd->pt_count[i] > best) {
			best = fd->pt_count[i];
			vd->payload_type = i;
		}
	vd->codec[0] = '\0';
	if (vd->payload_type >= 0) {
		const struct ptmap *m = codec_of(c, &vd->src, (uint8_t)vd->payload_type);
		if (m != NULL)
			snprintf(vd->codec, sizeof(vd->codec), "%s/%u", m->name, m->rate);
	}
	vd->samples_per_pkt = step_mode(fd);
	if (fd->wav.path[0] != '\0' && !fd->wav.failed) {
		snprintf(vd->wav_path, sizeof(vd->wav_path), "%s", fd->wav.path);
		vd->wav_samples = fd->wav.samples;
	}
}

static int build_report(struct ctx *c)
{
	struct verify_report *rep = c->rep;
	decide_roles(c);
	size_t n = 0;
	for (struct flow *f = c->first; f != NULL; f = f->order_next)
		n += f->role == 1;
	rep->streams = calloc(n ? n : 1, sizeof(*rep->streams));
	if (rep->streams == NULL)
		return -ENOMEM;
	for (struct flow *f = c->first; f != NULL; f = f->order_next) {
		if (f->role == 3) {
			for (int k = 0; k < 2; k++)
				rep->udp_other += f->d[k].n_recs + f->d[k].n.zrtp +
						  f->d[k].n.zrtp_bad + f->d[k].n.stun +
						  f->d[k].n.dtls + f->d[k].n.other;
			continue;
		}
		if (f->role != 1)
			continue;
		f->stream = rep->n_streams;
		struct verify_stream *s = &rep->streams[rep->n_streams++];
		s->id = (unsigned)rep->n_streams;
		const struct announce *an = announced(c, &f->a, false);
		if (an == NULL)
			an = announced(c, &f->b, false);
		s->announced = an != NULL;
		if (an != NULL) {
			snprintf(s->call_id, sizeof(s->call_id), "%s", an->call_id);
			s->rtcp_mux = an->rtcp_mux;
		}
		fill_dir(c, f, 0, &s->dir[0]);
		fill_dir(c, f, 1, &s->dir[1]);
		handshake(f, s);
		uint64_t keys = f->confirm2_from >= 0 ? f->confirm2_usec : 0;
		tally(c, f, 0, s, 0, s->hs_complete, keys, NULL);
		tally(c, f, 1, s, 1, s->hs_complete, keys, NULL);
	}
	for (struct flow *f = c->first; f != NULL; f = f->order_next) {
		if (f->role != 2)
			continue;
		struct flow *r = f->rtp_flow;
		struct verify_stream *s = &rep->streams[r->stream];
		s->has_rtcp_flow = true;
		s->rtcp[0] = f->swapped ? f->b : f->a;
		s->rtcp[1] = f->swapped ? f->a : f->b;
		uint64_t keys = r->confirm2_from >= 0 ? r->confirm2_usec : 0;
		tally(c, f, 0, s, f->swapped ? 1 : 0, s->hs_complete, keys, r);
		tally(c, f, 1, s, f->swapped ? 0 : 1, s->hs_complete, keys, r);
	}
	return 0;
}

static void verdict(struct ctx *c)
{
	struct verify_report *rep = c->rep;
	rep->reasons[0] = '\0';
	if (rep->partial)
		fail_reason(rep, "partial capture (%s): the verdict covers only what was read",
			    rep->partial_why);
	size_t media = 0;
	for (size_t i = 0; i < rep->n_streams; i++) {
		struct verify_stream *s = &rep->streams[i];
		struct verify_counts t = { 0 };
		for (int k = 0; k < 2; k++) {
			const struct verify_counts *n = &s->dir[k].n;
			t.srtp += n->srtp;
			t.srtcp += n->srtcp;
			t.rtp_clear += n->rtp_clear;
			t.rtcp_clear += n->rtcp_clear;
			t.rtp_unknown += n->rtp_unknown;
			t.rtcp_unknown += n->rtcp_unknown;
			t.auth_ok += n->auth_ok;
			t.auth_fail += n->auth_fail;
		}
		bool any = t.srtp + t.srtcp + t.rtp_clear + t.rtcp_clear +
			   t.rtp_unknown + t.rtcp_unknown > 0;
		s->has_media = any;
		if (s->hs_complete && s->has_media && s->first_media_usec != 0) {
			s->first_media_rel_usec = (int64_t)(s->first_media_usec - s->hs_end_usec);
			s->media_before_secure = s->first_media_usec < s->hs_end_usec;
		}
		s->keylog_secured = c->kl.n > 0 && t.auth_ok > 0 && t.auth_fail == 0 &&
				    t.auth_ok == t.srtp + t.srtcp;
		s->secured = s->hs_complete || s->keylog_secured;
		if (!any)
			continue;
		media++;
		if (!s->secured)
			fail_reason(rep, "stream %u: media without a completed ZRTP handshake%s%s%s",
				    s->id, s->hs_missing[0] ? " (missing: " : "",
				    s->hs_missing[0] ? s->hs_missing : "", s->hs_missing[0] ? ")" : "");
		if (t.rtp_clear > 0)
			fail_reason(rep, "stream %u: %llu cleartext RTP packets", s->id,
				    (unsigned long long)t.rtp_clear);
		if (t.rtcp_clear > 0)
			fail_reason(rep, "stream %u: %llu cleartext RTCP packets", s->id,
				    (unsigned long long)t.rtcp_clear);
		if (t.rtp_unknown + t.rtcp_unknown > 0)
			fail_reason(rep, "stream %u: %llu media packets of unknown class", s->id,
				    (unsigned long long)(t.rtp_unknown + t.rtcp_unknown));
		if (t.auth_fail > 0)
			fail_reason(rep, "stream %u: %llu packets failed SRTP authentication",
				    s->id, (unsigned long long)t.auth_fail);
		for (int k = 0; k < 2; k++)
			if (s->dir[k].hash_check == VERIFY_HASH_MISMATCH)
				fail_reason(rep, "stream %u: a Hello does not match its SDP a=zrtp-hash",
					    s->id);
	}
	if (media == 0)
		fail_reason(rep, "no media in the capture: nothing to prove");
	rep->verdict = rep->reasons[0] ? VERIFY_FAIL : VERIFY_PASS;
	if (rep->verdict == VERIFY_PASS)
		snprintf(rep->reasons, sizeof(rep->reasons),
			 "all %zu media streams ZRTP-secured, no cleartext media", media);
}

static void ctx_free(struct ctx *c)
{
	struct flow *f = c->first;
	while (f != NULL) {
		struct flow *nx = f->order_next;
		for (int k = 0; k < 2; k++) {
			free(f->d[k].recs);
			wav_close(&f->d[k].wav);
		}
		free(f);
		f = nx;
	}
	while (c->tcp != NULL) {
		struct tcpdir *nx = c->tcp->next;
		sip_framer_free(c->tcp->framer);
		free(c->tcp);
		c->tcp = nx;
	}
	if (c->sessions != NULL)
		for (size_t i = 0; i < c->kl.n; i++)
			if (c->sessions[i] != NULL)
				srtp_dealloc(c->sessions[i]);
	free(c->sessions);
	free(c->session_bad);
	keylog_free(&c->kl);
	free(c->ann);
	free(c->call_ids);
}

int verify_run(const char *capture, const struct verify_options *opt,
	       struct verify_report **out, char *why, size_t why_len)
{
	static const struct verify_options none = { NULL, NULL };
	if (opt == NULL)
		opt = &none;
	*out = NULL;
	struct ctx *c = calloc(1, sizeof(*c));
	struct verify_report *rep = calloc(1, sizeof(*rep));
	int r = 0;
	struct pr_reader *pr = NULL;
	if (c == NULL || rep == NULL) {
		free(c);
		free(rep);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	c->opt = opt;
	c->rep = rep;
	snprintf(rep->capture, sizeof(rep->capture), "%s", capture);

	if (opt->keylog_path != NULL) {
		char kwhy[256];
		r = keylog_load(&c->kl, opt->keylog_path, kwhy, sizeof(kwhy));
		if (r < 0) {
			snprintf(why, why_len, "key log %s", kwhy);
			goto fail;
		}
		if (!srtp_inited) {
			/* srtp_init fails when the process already initialised
			 * libsrtp (a test, a host program): probe instead */
			struct keylog_entry probe = { .profile = SUITE_AES_CM_128_HMAC_SHA1_80,
						      .key_len = 16 };
			srtp_t ps = NULL;
			if (srtp_init() != srtp_err_status_ok &&
			    session_new(&probe, &ps) < 0) {
				snprintf(why, why_len, "libsrtp2 failed to initialise");
				r = -EIO;
				goto fail;
			}
			if (ps != NULL)
				srtp_dealloc(ps);
			srtp_inited = true;
		}
		c->sessions = calloc(c->kl.n + 1, sizeof(*c->sessions));
		c->session_bad = calloc(c->kl.n + 1, sizeof(*c->session_bad));
		if (c->sessions == NULL || c->session_bad == NULL) {
			r = -ENOMEM;
			snprintf(why, why_len, "out of memory");
			goto fail;
		}
		rep->keylog_used = true;
		rep->keylog_records = c->kl.n;
	}
	if (opt->audio_dir != NULL) {
		char probe[512];
		snprintf(probe, sizeof(probe), "%s/.zrtpshim-verify-probe", opt->audio_dir);
		FILE *pf = fopen(probe, "wb");
		if (pf == NULL) {
			r = -errno;
			snprintf(why, why_len, "audio directory %s: %s", opt->audio_dir,
				 strerror(errno));
			goto fail;
		}
		fclose(pf);
		remove(probe);
	}

	char pwhy[256] = "";
	r = pr_open(capture, &pr, pwhy, sizeof(pwhy));
	if (r < 0) {
		snprintf(why, why_len, "%s: %s", capture, pwhy[0] ? pwhy : strerror(-r));
		goto fail;
	}
	rep->linktype = pr_linktype(pr);
	struct pr_datagram d;
	int rc;
	while ((rc = pr_next(pr, &d)) == 1) {
		c->cur = &d;
		handle_datagram(c, &d);
		if (c->err < 0)
			break;
	}
	if (c->err < 0) {
		r = c->err;
		snprintf(why, why_len, "out of memory while reading %s", capture);
		goto fail;
	}
	rep->stats = *pr_stats(pr);
	const struct pr_stats *st = &rep->stats;
	char *pw = rep->partial_why;
	size_t pcap = sizeof(rep->partial_why);
#define PART(...) snprintf(pw + strlen(pw), pcap - strlen(pw), __VA_ARGS__)
	if (rc < 0 || st->file_truncated)
		PART("%sthe file ends inside a record after %llu frames",
		     pw[0] ? ", " : "", (unsigned long long)st->frames);
	if (st->truncated)
		PART("%s%llu frames cut short (snaplen)", pw[0] ? ", " : "",
		     (unsigned long long)st->truncated);
	if (st->bad_header)
		PART("%s%llu frames with impossible header lengths", pw[0] ? ", " : "",
		     (unsigned long long)st->bad_header);
	if (st->frag_incomplete)
		PART("%s%llu incomplete IP fragments", pw[0] ? ", " : "",
		     (unsigned long long)st->frag_incomplete);
	if (st->tcp_gaps)
		PART("%s%llu TCP bytes missing", pw[0] ? ", " : "",
		     (unsigned long long)st->tcp_gaps);
#undef PART
	rep->partial = pw[0] != '\0';
	pr_close(pr);
	pr = NULL;

	for (struct flow *f = c->first; f != NULL; f = f->order_next)
		for (int k = 0; k < 2; k++)
			wav_close(&f->d[k].wav);
	r = build_report(c);
	if (r < 0) {
		snprintf(why, why_len, "out of memory");
		goto fail;
	}
	rep->calls = c->n_call_ids;
	verdict(c);
	ctx_free(c);
	free(c);
	*out = rep;
	return 0;
fail:
	if (pr != NULL)
		pr_close(pr);
	ctx_free(c);
	free(c);
	verify_report_free(rep);
	return r < 0 ? r : -EINVAL;
}

void verify_report_free(struct verify_report *r)
{
	if (r == NULL)
		return;
	free(r->streams);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static const char *hash_check_str(enum verify_hash_check h)
{
	switch (h) {
	case VERIFY_HASH_NO_HELLO: return "no-hello";
	case VERIFY_HASH_NO_SDP: return "no-sdp";
	case VERIFY_HASH_NOT_IN_SDP: return "no-zrtp-hash";
	case VERIFY_HASH_MATCH: return "match";
	case VERIFY_HASH_MISMATCH: return "mismatch";
	}
	return "?";
}

static const char *ev_name(uint8_t t)
{
	return zrtp_msg_type_name((enum zrtp_msg_type)t);
}

void verify_report_print(FILE *f, const struct verify_report *r)
{
	fprintf(f, "capture: %s\n", r->capture);
	fprintf(f, "  frames %llu (udp %llu, tcp segments %llu), SIP messages %llu",
		(unsigned long long)r->stats.frames, (unsigned long long)r->stats.udp,
		(unsigned long long)r->stats.tcp_segments,
		(unsigned long long)r->sip_messages);
	if (r->sip_bad)
		fprintf(f, " (+%llu unparsable)", (unsigned long long)r->sip_bad);
	fprintf(f, ", calls with SDP %llu\n", (unsigned long long)r->calls);
	const struct pr_stats *st = &r->stats;
	if (st->not_ip || st->not_udp_tcp || r->udp_other)
		fprintf(f, "  not IP %llu, not UDP/TCP %llu, other UDP %llu\n",
			(unsigned long long)st->not_ip, (unsigned long long)st->not_udp_tcp,
			(unsigned long long)r->udp_other);
	if (r->partial)
		fprintf(f, "  PARTIAL: %s\n", r->partial_why);
	if (r->keylog_used)
		fprintf(f, "  key log: %zu records\n", r->keylog_records);
	for (size_t i = 0; i < r->n_streams; i++) {
		const struct verify_stream *s = &r->streams[i];
		char a[64], b[64];
		pr_addr_str(&s->dir[0].src, a, sizeof(a));
		pr_addr_str(&s->dir[0].dst, b, sizeof(b));
		fprintf(f, "\nstream %u: %s <-> %s%s%s%s\n", s->id, a, b,
			s->announced ? "" : " (not announced in SDP)",
			s->call_id[0] ? ", Call-ID " : "", s->call_id);
		if (s->has_rtcp_flow) {
			pr_addr_str(&s->rtcp[0], a, sizeof(a));
			pr_addr_str(&s->rtcp[1], b, sizeof(b));
			fprintf(f, "  RTCP: %s <-> %s\n", a, b);
		} else if (s->rtcp_mux) {
			fprintf(f, "  RTCP: multiplexed (rtcp-mux)\n");
		}
		if (s->n_ev > 0) {
			fprintf(f, "  ZRTP:");
			for (size_t k = 0; k < s->n_ev; k++) {
				fprintf(f, " %s%s", ev_name(s->ev[k].type),
					s->ev[k].dir == 0 ? ">" : "<");
				if (s->ev[k].count > 1)
					fprintf(f, "x%u", s->ev[k].count);
			}
			fprintf(f, "%s\n", s->ev_overflow ? " ..." : "");
			fprintf(f, "  handshake: %s", s->hs_complete ? "complete" : "INCOMPLETE");
			if (!s->hs_complete)
				fprintf(f, " (missing: %s)", s->hs_missing);
			if (s->have_algos)
				fprintf(f, ", %s %s %s %s %s", s->ka, s->hash, s->cipher,
					s->auth, s->sas);
			fprintf(f, "\n");
			if (s->hs_complete && s->has_media)
				fprintf(f, "  first media %+.3f s after the handshake ended%s\n",
					(double)s->first_media_rel_usec / 1e6,
					s->media_before_secure ? " (MEDIA BEFORE SECURE)" : "");
		} else {
			fprintf(f, "  ZRTP: none\n");
		}
		for (int k = 0; k < 2; k++) {
			const struct verify_dir *d = &s->dir[k];
			const struct verify_counts *n = &d->n;
			pr_addr_str(&d->src, a, sizeof(a));
			fprintf(f, "  %s %s:", k == 0 ? ">" : "<", a);
			if (d->n_ssrc > 0) {
				fprintf(f, " ssrc");
				for (size_t j = 0; j < d->n_ssrc; j++)
					fprintf(f, "%s%08x", j ? "," : " ", d->ssrc[j]);
			}
			if (d->codec[0])
				fprintf(f, " %s", d->codec);
			if (d->sent_hello)
				fprintf(f, " client \"%s\", zrtp-hash %s", d->client_id,
					hash_check_str(d->hash_check));
			fprintf(f, "\n    zrtp %llu", (unsigned long long)n->zrtp);
			if (n->zrtp_bad)
				fprintf(f, " (+%llu bad)", (unsigned long long)n->zrtp_bad);
			fprintf(f, ", srtp %llu, CLEAR RTP %llu, unknown %llu, srtcp %llu, rtcp clear %llu",
				(unsigned long long)n->srtp, (unsigned long long)n->rtp_clear,
				(unsigned long long)n->rtp_unknown, (unsigned long long)n->srtcp,
				(unsigned long long)n->rtcp_clear);
			if (n->rtcp_unknown)
				fprintf(f, " (+%llu unknown)", (unsigned long long)n->rtcp_unknown);
			fprintf(f, ", stun %llu, dtls %llu, other %llu\n",
				(unsigned long long)n->stun, (unsigned long long)n->dtls,
				(unsigned long long)n->other);
			if (r->keylog_used)
				fprintf(f, "    authenticated %llu, FAILED %llu, no key %llu\n",
					(unsigned long long)n->auth_ok,
					(unsigned long long)n->auth_fail,
					(unsigned long long)n->no_key);
			if (d->payload_bytes > 0)
				fprintf(f, "    payload entropy %.2f bits/byte, %u samples/packet\n",
					d->payload_entropy, d->samples_per_pkt);
			if (d->wav_path[0])
				fprintf(f, "    audio: %s (%.2f s)\n", d->wav_path,
					(double)d->wav_samples / 8000.0);
		}
		if (s->n_failed_frames > 0) {
			fprintf(f, "  failed authentication in frames:");
			for (size_t k = 0; k < s->n_failed_frames; k++)
				fprintf(f, " %llu", (unsigned long long)s->failed_frames[k]);
			fprintf(f, "\n");
		}
		fprintf(f, "  secured: %s\n",
			s->secured ? (s->hs_complete ? "yes (ZRTP handshake)" : "yes (key log)")
				   : (s->has_media ? "NO" : "no media"));
	}
	fprintf(f, "\nverdict: %s: %s\n", r->verdict == VERIFY_PASS ? "PASS" : "FAIL",
		r->reasons);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_addr(FILE *f, const struct pr_addr *a)
{
	char b[64];
	json_str(f, pr_addr_str(a, b, sizeof(b)));
}

static void json_counts(FILE *f, const struct verify_counts *n)
{
	fprintf(f, "{\"zrtp\":%llu,\"zrtp_bad\":%llu,\"srtp\":%llu,\"rtp_clear\":%llu,"
		"\"rtp_unknown\":%llu,\"srtcp\":%llu,\"rtcp_clear\":%llu,"
		"\"rtcp_unknown\":%llu,\"stun\":%llu,\"dtls\":%llu,\"other\":%llu,"
		"\"auth_ok\":%llu,\"auth_fail\":%llu,\"no_key\":%llu}",
		(unsigned long long)n->zrtp, (unsigned long long)n->zrtp_bad,
		(unsigned long long)n->srtp, (unsigned long long)n->rtp_clear,
		(unsigned long long)n->rtp_unknown, (unsigned long long)n->srtcp,
		(unsigned long long)n->rtcp_clear, (unsigned long long)n->rtcp_unknown,
		(unsigned long long)n->stun, (unsigned long long)n->dtls,
		(unsigned long long)n->other, (unsigned long long)n->auth_ok, (unsigned long long)n->auth_fail,
		(unsigned long long)n->no_key);
}

void verify_report_json(FILE *f, const struct verify_report *r)
{
	const struct pr_stats *st = &r->stats;
	fprintf(f, "{\"version\":1,\"capture\":");
	json_str(f, r->capture);
	fprintf(f, ",\"verdict\":\"%s\",\"exit\":%d,\"reasons\":",
		r->verdict == VERIFY_PASS ? "pass" : "fail", (int)r->verdict);
	json_str(f, r->reasons);
	fprintf(f, ",\"partial\":%s,\"partial_why\":", r->partial ? "true" : "false");
	json_str(f, r->partial_why);
	fprintf(f, ",\"stats\":{\"frames\":%llu,\"udp\":%llu,\"tcp_segments\":%llu,"
		"\"not_ip\":%llu,\"not_udp_tcp\":%llu,\"truncated\":%llu,"
		"\"bad_header\":%llu,\"frag_incomplete\":%llu,\"tcp_gaps\":%llu,"
		"\"file_truncated\":%s,\"sip_messages\":%llu,\"sip_bad\":%llu,"
		"\"calls\":%llu,\"udp_other\":%llu}",
		(unsigned long long)st->frames, (unsigned long long)st->udp,
		(unsigned long long)st->tcp_segments, (unsigned long long)st->not_ip,
		(unsigned long long)st->not_udp_tcp, (unsigned long long)st->truncated,
		(unsigned long long)st->bad_header, (unsigned long long)st->frag_incomplete,
		(unsigned long long)st->tcp_gaps, st->file_truncated ? "true" : "false",
		(unsigned long long)r->sip_messages, (unsigned long long)r->sip_bad,
		(unsigned long long)r->calls, (unsigned long long)r->udp_other);
	if (r->keylog_used)
		fprintf(f, ",\"keylog_records\":%zu", r->keylog_records);
	else
		fprintf(f, ",\"keylog_records\":null");
	fprintf(f, ",\"streams\":[");
	for (size_t i = 0; i < r->n_streams; i++) {
		const struct verify_stream *s = &r->streams[i];
		fprintf(f, "%s{\"id\":%u,\"call_id\":", i ? "," : "", s->id);
		json_str(f, s->call_id);
		fprintf(f, ",\"announced\":%s,\"rtcp_mux\":%s,\"rtcp\":",
			s->announced ? "true" : "false", s->rtcp_mux ? "true" : "false");
		if (s->has_rtcp_flow) {
			fputc('[', f);
			json_addr(f, &s->rtcp[0]);
			fputc(',', f);
			json_addr(f, &s->rtcp[1]);
			fputc(']', f);
		} else {
			fprintf(f, "null");
		}
		fprintf(f, ",\"zrtp\":{\"messages\":[");
		for (size_t k = 0; k < s->n_ev; k++)
			fprintf(f, "%s{\"type\":\"%s\",\"from\":%u,\"count\":%u}", k ? "," : "",
				ev_name(s->ev[k].type), s->ev[k].dir, s->ev[k].count);
		fprintf(f, "],\"truncated\":%s,\"complete\":%s,\"missing\":",
			s->ev_overflow ? "true" : "false", s->hs_complete ? "true" : "false");
		json_str(f, s->hs_missing);
		fprintf(f, ",\"initiator\":%d,\"algorithms\":", s->initiator);
		if (s->have_algos) {
			fprintf(f, "{\"ka\":");
			json_str(f, s->ka);
			fprintf(f, ",\"hash\":");
			json_str(f, s->hash);
			fprintf(f, ",\"cipher\":");
			json_str(f, s->cipher);
			fprintf(f, ",\"auth\":");
			json_str(f, s->auth);
			fprintf(f, ",\"sas\":");
			json_str(f, s->sas);
			fputc('}', f);
		} else {
			fprintf(f, "null");
		}
		fprintf(f, "},\"has_media\":%s,\"first_media_after_handshake_ms\":",
			s->has_media ? "true" : "false");
		if (s->hs_complete && s->has_media)
			fprintf(f, "%.3f", (double)s->first_media_rel_usec / 1000.0);
		else
			fprintf(f, "null");
		fprintf(f, ",\"keylog_secured\":%s,\"secured\":%s,\"failed_frames\":[",
			s->keylog_secured ? "true" : "false", s->secured ? "true" : "false");
		for (size_t k = 0; k < s->n_failed_frames; k++)
			fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)s->failed_frames[k]);
		fprintf(f, "],\"directions\":[");
		for (int k = 0; k < 2; k++) {
			const struct verify_dir *d = &s->dir[k];
			fprintf(f, "%s{\"src\":", k ? "," : "");
			json_addr(f, &d->src);
			fprintf(f, ",\"dst\":");
			json_addr(f, &d->dst);
			fprintf(f, ",\"announced\":%s,\"ssrc\":[", d->announced ? "true" : "false");
			for (size_t j = 0; j < d->n_ssrc; j++)
				fprintf(f, "%s\"%08x\"", j ? "," : "", d->ssrc[j]);
			fprintf(f, "],\"payload_type\":%d,\"codec\":", d->payload_type);
			json_str(f, d->codec);
			fprintf(f, ",\"samples_per_packet\":%u,\"payload_entropy\":%.3f,"
				"\"hello\":%s,\"client_id\":",
				d->samples_per_pkt, d->payload_entropy,
				d->sent_hello ? "true" : "false");
			json_str(f, d->client_id);
			fprintf(f, ",\"zrtp_hash\":\"%s\",\"counts\":", hash_check_str(d->hash_check));
			json_counts(f, &d->n);
			fprintf(f, ",\"wav\":");
			if (d->wav_path[0])
				json_str(f, d->wav_path);
			else
				fprintf(f, "null");
			fputc('}', f);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "]}\n");
}
