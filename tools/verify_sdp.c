/*
 * `zrtpshim verify`: SIP learning. Every SIP message (UDP, or TCP through
 * the framer) is counted; the media lines of its SDP become
 * announcements (RTP address, RTCP port or rtcp-mux, a=zrtp-hash,
 * payload types) that the analysis asks about an address.
 */
#include "tools/verify_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

void verify_slice_copy(char *dst, size_t cap, const char *p, size_t len)
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
				verify_slice_copy(an->pts[k].name, sizeof(an->pts[k].name),
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
				     bool any_ip, const char *call_id)
{
	for (size_t i = 0; i < c->n_ann; i++) {
		struct announce *an = &c->ann[i];
		if (an->rtp.port == a->port && an->any_ip == any_ip &&
		    (any_ip || ip_eq(&an->rtp, a)) &&
		    strcmp(an->call_id, call_id) == 0)
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
	an->first_usec = c->cur != NULL ? c->cur->ts_usec : 0;
	snprintf(an->call_id, sizeof(an->call_id), "%s", call_id);
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

void verify_sip_handle(struct ctx *c, const uint8_t *buf, size_t len,
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
			verify_slice_copy(call_id, sizeof(call_id), m->call_id.p,
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
				struct announce *an = announce_get(c, &a, any, call_id);
				if (an == NULL)
					break;
				an->m_index = (unsigned)i;
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
		verify_sip_handle(c, p, len, true);
}

void verify_sip_tcp(struct ctx *c, const struct pr_datagram *d)
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

static bool announces(const struct announce *an, const struct pr_addr *a,
		      bool rtcp)
{
	if (!an->any_ip && !ip_eq(&an->rtp, a))
		return false;
	uint16_t want = rtcp ? (an->rtcp_mux ? 0 : an->rtcp_port) : an->rtp.port;
	return want != 0 && want == a->port;
}

const struct announce *verify_announced(const struct ctx *c,
					const struct pr_addr *a, bool rtcp)
{
	return verify_announced_at(c, a, rtcp, UINT64_MAX);
}

const struct announce *verify_announced_at(const struct ctx *c,
					   const struct pr_addr *a, bool rtcp,
					   uint64_t t)
{
	const struct announce *before = NULL, *after = NULL;
	for (size_t i = 0; i < c->n_ann; i++) {
		const struct announce *an = &c->ann[i];
		if (!announces(an, a, rtcp))
			continue;
		if (an->first_usec <= t) {
			if (before == NULL || an->first_usec >= before->first_usec)
				before = an;
		} else if (after == NULL || an->first_usec < after->first_usec) {
			after = an;
		}
	}
	return before != NULL ? before : after;
}

bool verify_stream_name_at(const struct ctx *c, const struct pr_addr *src,
			   const struct pr_addr *dst, bool rtcp, uint64_t t,
			   char *out, size_t cap)
{
	const struct announce *an = NULL;
	const struct pr_addr *side[2] = { dst, src };
	for (int k = 0; k < 2 && an == NULL; k++) {
		if (rtcp)
			an = verify_announced_at(c, side[k], true, t);
		if (an == NULL)
			an = verify_announced_at(c, side[k], false, t);
	}
	if (an == NULL || an->call_id[0] == '\0')
		return false;
	int n = snprintf(out, cap, "%s/%u", an->call_id, an->m_index);
	return n > 0 && (size_t)n < cap;
}

/* The RTP address that goes with an RTCP address. */
struct pr_addr verify_rtp_of_rtcp(const struct ctx *c, const struct pr_addr *a)
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

const struct ptmap *verify_codec_of(struct ctx *c, const struct pr_addr *src,
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
