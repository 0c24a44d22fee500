/*
 * `zrtpshim verify`: the analysis behind the verdict, its two passes
 * (see verify.h and README.md ("zrtpshim verify") for the method; the
 * other concerns are in the files verify_int.h lists).
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
#include "tools/verify_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "common/demux.h"
#include "common/suite.h"
#include "zrtp/crypto.h"

/* ------------------------------------------------------------------ */
/* Flows                                                               */

static int addr_cmp(const struct pr_addr *a, const struct pr_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->ip, b->ip, ip_len(a->family));
	if (c != 0)
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

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

/* A new flow for the pair, found first by flow_get and flow_find from
 * now on (the head of its hash chain). */
static struct flow *flow_new(struct ctx *c, const struct pr_addr *src,
			     const struct pr_addr *dst, uint64_t usec)
{
	uint32_t h = pair_hash(src, dst);
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
	return f;
}

/* The pair's current flow (its latest epoch), made if there is none. */
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
	*dir = 0;
	return flow_new(c, src, dst, usec);
}

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

/*
 * The call in force for a pair of addresses at time t: of the SDP in
 * force for each (verify_announced_at), the later one. A callee's shim
 * sends its Hello when the offer arrives, before its own answer: the
 * offer, naming the other side, already tells the call.
 */
static const struct announce *pair_call_at(const struct ctx *c,
					   const struct pr_addr *a,
					   const struct pr_addr *b, uint64_t t)
{
	const struct announce *x = verify_announced_at(c, a, false, t);
	const struct announce *y = verify_announced_at(c, b, false, t);
	if (x == NULL || y == NULL)
		return x != NULL ? x : y;
	bool xb = x->first_usec <= t, yb = y->first_usec <= t;
	if (xb != yb)
		return xb ? x : y;
	/* both before t: the later; both after (SDP captured late): the first */
	return (x->first_usec >= y->first_usec) == xb ? x : y;
}

/* The call a flow belongs to: the one in force for its pair at its first
 * Hello (else when it began). NULL: no SDP named either address. */
static const struct announce *flow_call(const struct ctx *c,
					const struct flow *f)
{
	uint64_t t = f->first_usec;
	if (f->d[0].hello || f->d[1].hello)
		t = !f->d[1].hello ? f->d[0].hello_usec
		    : !f->d[0].hello ? f->d[1].hello_usec
		    : f->d[0].hello_usec < f->d[1].hello_usec ? f->d[0].hello_usec
							      : f->d[1].hello_usec;
	return pair_call_at(c, &f->a, &f->b, t);
}

/*
 * A Hello on a flow whose same side already sent a different one. When
 * the call in force for the pair now is another than the one the flow
 * belongs to, this is the next call on reused ports: its handshake,
 * media and Hello check start afresh in a new flow of the same pair (the
 * earlier call is judged on its own). A new Hello within one call (a
 * client restarting its stream) stays where it is.
 */
static struct flow *epoch_for_hello(struct ctx *c, struct flow *f, int *dir,
				    const struct pr_datagram *d,
				    const uint8_t hash[32])
{
	const struct fdir *fd = &f->d[*dir];
	if (!fd->hello || memcmp(fd->hello_hash, hash, 32) == 0)
		return f;
	const struct announce *now = pair_call_at(c, &d->src, &d->dst, d->ts_usec);
	const struct announce *was = flow_call(c, f);
	if (now == NULL || was == NULL || strcmp(now->call_id, was->call_id) == 0)
		return f;
	struct flow *n = flow_new(c, &d->src, &d->dst, d->ts_usec);
	if (n == NULL)
		return f;
	n->later_epoch = true;
	*dir = 0;
	return n;
}

static void handle_zrtp(struct ctx *c, struct flow *f, int dir,
			const struct pr_datagram *d)
{
	struct zrtp_msg m;
	if (zrtp_packet_parse(d->data, d->len, &m) != 0) {
		f->d[dir].n.zrtp_bad++;
		return;
	}
	uint8_t hh[32];
	if (m.type == ZRTP_MSG_HELLO) {
		struct zrtp_iov v = { m.msg, m.msg_len };
		if (zrtp_hash(ZRTP_HASH_S256, &v, 1, hh) != 0)
			return;
		f = epoch_for_hello(c, f, &dir, d, hh);
	}
	struct fdir *fd = &f->d[dir];
	fd->n.zrtp++;
	ev_add(f, m.type, dir, d->ts_usec);
	switch (m.type) {
	case ZRTP_MSG_HELLO:
		if (!fd->hello) {
			memcpy(fd->hello_hash, hh, sizeof(hh));
			fd->hello = true;
			fd->hello_usec = d->ts_usec;
			const char *cid = (const char *)m.u.hello.client_id;
			const char *nul = memchr(cid, '\0', 16);
			verify_slice_copy(fd->client_id, sizeof(fd->client_id), cid,
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
		r->auth = (uint8_t)verify_authenticate(c, d, r->ssrc, true, buf,
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
		r->auth = (uint8_t)verify_authenticate(c, d, r->ssrc, false, buf, &plain_len);

	if (c->opt->audio_dir != NULL && !bad_header) {
		bool alaw;
		if (!verify_is_g711(verify_codec_of(c, &d->src, r->pt), &alaw))
			return;
		if (r->auth == AUTH_OK) {
			size_t poff = rtp_payload_off(buf, (size_t)plain_len);
			if (poff > 0) {
				size_t n = (size_t)plain_len - poff;
				if (buf[0] & 0x20)  /* padding, RFC 3550 §5.1 */
					n = n > buf[plain_len - 1] ? n - buf[plain_len - 1] : 0;
				verify_wav_write(c, fd, d, r->ssrc, alaw, buf + poff, n);
			}
		} else if (r->auth != AUTH_FAIL &&
			   (r->z > VERIFY_Z_STRUCTURED || (step != 0 && plen == step))) {
			verify_wav_write(c, fd, d, r->ssrc, alaw, p + off, plen);
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
	return verify_announced(c, &d->src, true) || verify_announced(c, &d->dst, true)
		       ? DEMUX_PORT_RTCP : DEMUX_PORT_RTP;
}

/* Every packet decision is demux_classify's, the shim's own (demux.h). */
static void handle_datagram(struct ctx *c, const struct pr_datagram *d)
{
	if (d->proto == PR_TCP) {
		verify_sip_tcp(c, d);
		return;
	}
	enum demux_class k = demux_classify(d->data, d->len, demux_port_of(c, d));
	if (k == DEMUX_SIP) {
		uint64_t before = c->rep->sip_messages;
		verify_sip_handle(c, d->data, d->len, false);
		if (c->rep->sip_messages != before)
			return;
	}
	int dir;
	struct flow *f = flow_get(c, &d->src, &d->dst, d->ts_usec, &dir);
	if (f == NULL)
		return;
	struct fdir *fd = &f->d[dir];
	switch (k) {
	case DEMUX_ZRTP: handle_zrtp(c, f, dir, d); break;
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
		bool ann_rtp = verify_announced(c, &f->a, false) || verify_announced(c, &f->b, false);
		bool ann_rtcp = verify_announced(c, &f->a, true) || verify_announced(c, &f->b, true);
		if (ann_rtp || zrtp > 0) {
			f->role = 1;
			continue;
		}
		if (ann_rtcp || (rtcp > 0 && rtp == 0)) {
			struct pr_addr x = verify_rtp_of_rtcp(c, &f->a), y = verify_rtp_of_rtcp(c, &f->b);
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
	bool g711 = verify_is_g711(verify_codec_of(c, src, r->pt), &alaw);
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

/* The announcement of a in the given call (any time), or NULL. */
static const struct announce *announced_in(const struct ctx *c,
					   const struct pr_addr *a,
					   const char *call_id)
{
	const struct announce *an = NULL;
	for (size_t i = 0; i < c->n_ann; i++) {
		const struct announce *x = &c->ann[i];
		if (strcmp(x->call_id, call_id) == 0 && x->rtp.port == a->port &&
		    (x->any_ip || ip_eq(&x->rtp, a)))
			an = x;
	}
	return an;
}

static enum verify_hash_check hash_check(const struct ctx *c,
					 const struct fdir *fd,
					 const struct pr_addr *src,
					 const struct announce *call)
{
	if (!fd->hello)
		return VERIFY_HASH_NO_HELLO;
	/* this side's SDP in the flow's own call: with ports reused call
	 * after call, each call's Hello answers to its own call's SDP */
	const struct announce *an = call != NULL ? announced_in(c, src, call->call_id) : NULL;
	if (an == NULL)
		an = verify_announced_at(c, src, false, fd->hello_usec);
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
	vd->announced = verify_announced(c, &vd->src, false) != NULL;
	vd->sent_hello = fd->hello;
	memcpy(vd->client_id, fd->client_id, sizeof(vd->client_id));
	vd->hash_check = hash_check(c, fd, &vd->src, flow_call(c, f));
	uint64_t total = 0;
	for (int i = 0; i < 256; i++)
		total += fd->hist[i];
	vd->payload_bytes = total;
	vd->payload_entropy = verify_entropy(fd->hist, total);
	vd->payload_type = -1;
	uint64_t best = 0;
	for (int i = 0; i < 128; i++)
		if (fd->pt_count[i] > best) {
			best = fd->pt_count[i];
			vd->payload_type = i;
		}
	vd->codec[0] = '\0';
	if (vd->payload_type >= 0) {
		const struct ptmap *m = verify_codec_of(c, &vd->src, (uint8_t)vd->payload_type);
		if (m != NULL)
			snprintf(vd->codec, sizeof(vd->codec), "%s/%u", m->name, m->rate);
	}
	vd->samples_per_pkt = step_mode(fd);
	if (fd->wav.path[0] != '\0' && !fd->wav.failed) {
		snprintf(vd->wav_path, sizeof(vd->wav_path), "%s", fd->wav.path);
		vd->wav_samples = fd->wav.samples;
	}
}

static bool ssrc_in(const struct fdir *fd, uint32_t v)
{
	for (size_t i = 0; i < fd->n_ssrc; i++)
		if (fd->ssrc[i] == v)
			return true;
	return false;
}

/*
 * A flow without ZRTP of its own that carries on a secured stream of the
 * same call: a re-INVITE moved the media to another address pair (the
 * shim keeps the stream's keys and SRTP state; there is no second
 * handshake). It must be announced by the same call's SDP for the same
 * m= line as an earlier flow whose handshake completed before this flow
 * began, and every SSRC it carries must be one that flow carried. The
 * earliest such flow (the one with the handshake) is returned, or NULL.
 */
static const struct flow *continued_flow(const struct ctx *c,
					 const struct flow *f)
{
	const struct announce *an = flow_call(c, f);
	if (an == NULL || f->n_ev > 0)
		return NULL;
	for (const struct flow *g = c->first; g != NULL && g != f; g = g->order_next) {
		if (g->role != 1)
			continue;
		const struct flow *root = g->cont != NULL ? g->cont : g;
		if (!c->rep->streams[root->stream].hs_complete ||
		    root->conf2ack_usec > f->first_usec)
			continue;
		const struct announce *ga = flow_call(c, g);
		if (ga == NULL || strcmp(ga->call_id, an->call_id) != 0 ||
		    ga->m_index != an->m_index)
			continue;
		bool same = true;
		for (int k = 0; k < 2 && same; k++)
			for (size_t i = 0; i < f->d[k].n_ssrc && same; i++)
				same = ssrc_in(&g->d[0], f->d[k].ssrc[i]) ||
				       ssrc_in(&g->d[1], f->d[k].ssrc[i]);
		if (same && !f->d[0].ssrc_overflow && !f->d[1].ssrc_overflow)
			return root;
	}
	return NULL;
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
		const struct announce *an = flow_call(c, f);
		s->announced = an != NULL;
		if (an != NULL) {
			snprintf(s->call_id, sizeof(s->call_id), "%s", an->call_id);
			s->rtcp_mux = an->rtcp_mux;
		}
		fill_dir(c, f, 0, &s->dir[0]);
		fill_dir(c, f, 1, &s->dir[1]);
		handshake(f, s);
		s->later_epoch = f->later_epoch;
		uint64_t keys = f->confirm2_from >= 0 ? f->confirm2_usec : 0;
		bool zrtp_ok = s->hs_complete;
		if (!s->hs_complete && (f->cont = continued_flow(c, f)) != NULL) {
			s->continues = rep->streams[f->cont->stream].id;
			keys = f->cont->confirm2_usec;
			zrtp_ok = true;
		}
		tally(c, f, 0, s, 0, zrtp_ok, keys, NULL);
		tally(c, f, 1, s, 1, zrtp_ok, keys, NULL);
	}
	for (struct flow *f = c->first; f != NULL; f = f->order_next) {
		if (f->role != 2)
			continue;
		struct flow *r = f->rtp_flow;
		struct verify_stream *s = &rep->streams[r->stream];
		s->has_rtcp_flow = true;
		s->rtcp[0] = f->swapped ? f->b : f->a;
		s->rtcp[1] = f->swapped ? f->a : f->b;
		const struct flow *hs = r->cont != NULL ? r->cont : r;
		uint64_t keys = hs->confirm2_from >= 0 ? hs->confirm2_usec : 0;
		bool zrtp_ok = s->hs_complete || s->continues != 0;
		tally(c, f, 0, s, f->swapped ? 1 : 0, zrtp_ok, keys, r);
		tally(c, f, 1, s, f->swapped ? 0 : 1, zrtp_ok, keys, r);
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
		s->secured = s->hs_complete || s->keylog_secured || s->continues != 0;
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
			verify_wav_close(&f->d[k].wav);
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
	verify_keylog_close(c);
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
		r = verify_keylog_open(c, opt->keylog_path, why, why_len);
		if (r < 0)
			goto fail;
		rep->keylog_used = true;
		rep->keylog_records = c->kl.n;
	}
	if (opt->audio_dir != NULL) {
		r = verify_audio_probe(opt->audio_dir, why, why_len);
		if (r < 0)
			goto fail;
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
			verify_wav_close(&f->d[k].wav);
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
