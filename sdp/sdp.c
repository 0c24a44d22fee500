/*
 * The SDP view (RFC 8866): the few things the shim needs from a session
 * description, as slices into the caller's buffer. One pass, no copies,
 * no allocation; every read is bounded by len.
 *
 * What is refused (-EINVAL, so the rewrite passes the message through):
 * - a body that does not start with "v=0" (RFC 8866 §5.1: v= comes first);
 * - NUL bytes, or a CR that does not end a line (RFC 8866 §9 text excludes
 *   both);
 * - a non-empty line that is not "<type>=" with a type letter RFC 8866 §5
 *   knows: §5 tells parsers to ignore a description with a type letter they
 *   do not understand, and a line without '=' is not SDP at all;
 * - an m=, c=, a=rtcp or a=zrtp-hash line we cannot read completely, since
 *   guessing at any of those could put media, RTCP or the zrtp-hash in the
 *   wrong place. Numbers above 65535 (ports) are such lines.
 * Tolerated: empty lines (some stacks append an extra CRLF), bare LF line
 * ends, a missing line end on the last line, trailing blanks, unknown
 * attributes, several spaces between fields, and an a=zrtp-hash line with
 * an empty value (read as no hash; linphonec 5.1 sends one).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sdp/sdp.h"

struct sdp_line {
	const char *p;     /* content, without line end or trailing blanks */
	size_t len;
	size_t start;      /* offset of the line in the body */
	size_t end;        /* offset just past its line end (or len) */
	bool has_eol;
	bool crlf;
};

/* Next line at *pos; false at end of body, -1 in *err on a stray CR. */
static bool sdp_line_next(const char *b, size_t len, size_t *pos,
			  struct sdp_line *l, int *err)
{
	if (*pos >= len)
		return false;
	size_t s = *pos;
	const char *nl = memchr(b + s, '\n', len - s);
	size_t e = nl ? (size_t)(nl - b) : len;

	l->start = s;
	l->has_eol = nl != NULL;
	l->end = nl ? e + 1 : len;
	l->crlf = false;
	/* a lone "\r" at the very end is a truncated CRLF, not content */
	if (e > s && b[e - 1] == '\r') {
		e--;
		l->crlf = l->has_eol;
	}
	if (memchr(b + s, '\r', e - s) != NULL)
		*err = -EINVAL;
	while (e > s && (b[e - 1] == ' ' || b[e - 1] == '\t'))
		e--;
	l->p = b + s;
	l->len = e - s;
	*pos = l->end;
	return true;
}

static bool slice_eq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len == n && memcmp(p, lit, n) == 0;
}

static bool slice_ieq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = p[i], c = lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (a != c)
			return false;
	}
	return true;
}

/* A tokenizer over one line's fields, separated by runs of spaces. */
struct sdp_tok {
	const char *p;
	size_t len, pos;
};

static bool sdp_tok_next(struct sdp_tok *t, struct sip_slice *out)
{
	while (t->pos < t->len && t->p[t->pos] == ' ')
		t->pos++;
	if (t->pos >= t->len)
		return false;
	size_t s = t->pos;
	while (t->pos < t->len && t->p[t->pos] != ' ')
		t->pos++;
	out->p = t->p + s;
	out->len = t->pos - s;
	return true;
}

/* Decimal digits only, value <= max. */
static bool parse_uint(const char *p, size_t len, uint32_t max, uint32_t *v)
{
	uint32_t x = 0;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (uint32_t)(p[i] - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

/* "IN IP4 <addr>" / "IN IP6 <addr>" from the tokenizer (RFC 8866 §5.7). */
static int parse_conn(struct sdp_tok *t, struct sip_slice *addr, int *family)
{
	struct sip_slice net, type, a, extra;
	if (!sdp_tok_next(t, &net) || !sdp_tok_next(t, &type) ||
	    !sdp_tok_next(t, &a) || sdp_tok_next(t, &extra))
		return -EINVAL;
	if (!slice_eq(net.p, net.len, "IN"))
		return -EINVAL;
	if (slice_eq(type.p, type.len, "IP4"))
		*family = 4;
	else if (slice_eq(type.p, type.len, "IP6"))
		*family = 6;
	else
		return -EINVAL;
	/* multicast "/ttl" and "/count" suffixes are not part of the address */
	const char *slash = memchr(a.p, '/', a.len);
	if (slash)
		a.len = (size_t)(slash - a.p);
	if (a.len == 0)
		return -EINVAL;
	*addr = a;
	return 0;
}

/* The profile of an m= line's proto field (RFC 8866 §5.14: "/"-separated
 * sub-fields). Compared without case, as the parser always did. */
static enum sdp_profile proto_profile(struct sip_slice proto)
{
	static const struct { const char *name; enum sdp_profile prof; } known[] = {
		{ "RTP/AVP", SDP_PROFILE_AVP },
		{ "RTP/AVPF", SDP_PROFILE_AVP },
		{ "RTP/SAVP", SDP_PROFILE_SAVP },
		{ "RTP/SAVPF", SDP_PROFILE_SAVP },
		{ "UDP/TLS/RTP/SAVP", SDP_PROFILE_DTLS },
		{ "UDP/TLS/RTP/SAVPF", SDP_PROFILE_DTLS },
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (slice_ieq(proto.p, proto.len, known[i].name))
			return known[i].prof;
	for (size_t s = 0; s < proto.len;) {
		const char *slash = memchr(proto.p + s, '/', proto.len - s);
		size_t e = slash ? (size_t)(slash - proto.p) : proto.len;
		if (slice_ieq(proto.p + s, e - s, "TCP"))
			return SDP_PROFILE_TCP;
		s = e + 1;
	}
	return SDP_PROFILE_OTHER;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 8866 §5.14) */
static int parse_m(const char *v, size_t len, struct sdp_media *m)
{
	struct sdp_tok t = { v, len, 0 };
	struct sip_slice type, port, proto;
	uint32_t n;

	if (!sdp_tok_next(&t, &type) || !sdp_tok_next(&t, &port) ||
	    !sdp_tok_next(&t, &proto))
		return -EINVAL;
	m->type = type;
	m->proto = proto;
	const char *slash = memchr(port.p, '/', port.len);
	size_t plen = slash ? (size_t)(slash - port.p) : port.len;
	if (!parse_uint(port.p, plen, 65535, &n))
		return -EINVAL;
	m->port = (uint16_t)n;
	m->n_ports = 1;
	if (slash) {
		size_t off = plen + 1;
		if (!parse_uint(port.p + off, port.len - off, 65535, &n) ||
		    n == 0)
			return -EINVAL;
		m->n_ports = (uint16_t)n;
	}
	m->profile = proto_profile(proto);
	/* the formats: payload type numbers on RTP profiles (RFC 8866
	 * §5.14); anything else there is not ours to read */
	struct sip_slice f;
	while (sdp_tok_next(&t, &f))
		if (m->n_fmt < SDP_MAX_FMT && parse_uint(f.p, f.len, 127, &n))
			m->fmt[m->n_fmt++] = (uint8_t)n;
	m->protectable = m->port != 0 && (m->profile == SDP_PROFILE_AVP ||
					  m->profile == SDP_PROFILE_SAVP ||
					  m->profile == SDP_PROFILE_DTLS);
	/* RFC 3605 §1: without a=rtcp, RTCP is on the next port. A rejected
	 * stream (port 0) has none, and 65535 has no next port: 0. */
	m->rtcp_port = (m->port != 0 && m->port < 65535) ?
		(uint16_t)(m->port + 1) : 0;
	return 0;
}

/* a=rtcp:<port> [IN IP4|IP6 <addr>] (RFC 3605 §2.1) */
static int parse_rtcp(const char *v, size_t len, struct sdp_media *m)
{
	struct sdp_tok t = { v, len, 0 };
	struct sip_slice port;
	uint32_t n;
	int family;

	if (!sdp_tok_next(&t, &port) || !parse_uint(port.p, port.len, 65535, &n))
		return -EINVAL;
	m->rtcp_port = (uint16_t)n;
	m->rtcp_addr.p = NULL;
	m->rtcp_addr.len = 0;
	if (t.pos < t.len && parse_conn(&t, &m->rtcp_addr, &family) < 0)
		return -EINVAL;
	return 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * a=zrtp-hash:<version> <hash> (RFC 6189 §8.1). The hash is the SHA-256
 * of the Hello, so exactly 64 hex digits; anything else cannot be checked
 * against a Hello and is refused rather than half understood.
 */
static int parse_zrtp_hash(const char *v, size_t len,
			   struct sip_slice *ver, struct sip_slice *hash)
{
	struct sdp_tok t = { v, len, 0 };
	struct sip_slice extra;

	if (!sdp_tok_next(&t, ver) || !sdp_tok_next(&t, hash) ||
	    sdp_tok_next(&t, &extra) || hash->len != 64)
		return -EINVAL;
	for (size_t i = 0; i < hash->len; i++)
		if (!is_hex(hash->p[i]))
			return -EINVAL;
	return 0;
}

static bool parse_dir(const char *name, size_t len, enum sdp_dir *dir)
{
	if (slice_eq(name, len, "sendrecv"))
		*dir = SDP_SENDRECV;
	else if (slice_eq(name, len, "sendonly"))
		*dir = SDP_SENDONLY;
	else if (slice_eq(name, len, "recvonly"))
		*dir = SDP_RECVONLY;
	else if (slice_eq(name, len, "inactive"))
		*dir = SDP_INACTIVE;
	else
		return false;
	return true;
}

/* a=rtpmap:<pt> <enc>/<rate>[/<channels>]: 0, or -EINVAL (ignored by the
 * caller). */
static int parse_rtpmap(const char *v, size_t len, struct sdp_rtpmap *r)
{
	struct sdp_tok t = { v, len, 0 };
	struct sip_slice pt, enc;
	uint32_t n;

	if (!sdp_tok_next(&t, &pt) || !parse_uint(pt.p, pt.len, 127, &n) ||
	    !sdp_tok_next(&t, &enc))
		return -EINVAL;
	r->pt = (uint8_t)n;
	const char *s1 = memchr(enc.p, '/', enc.len);
	if (!s1 || s1 == enc.p)
		return -EINVAL;
	r->enc.p = enc.p;
	r->enc.len = (size_t)(s1 - enc.p);
	const char *rest = s1 + 1;
	size_t rlen = enc.len - r->enc.len - 1;
	const char *s2 = memchr(rest, '/', rlen);
	size_t ratelen = s2 ? (size_t)(s2 - rest) : rlen;
	if (!parse_uint(rest, ratelen, 1000000, &n) || n == 0)
		return -EINVAL;
	r->rate = n;
	r->channels = 1;
	if (s2) {
		size_t off = ratelen + 1;
		if (!parse_uint(rest + off, rlen - off, 255, &n) || n == 0)
			return -EINVAL;
		r->channels = (uint8_t)n;
	}
	return 0;
}

bool sdp_media_codec(const struct sdp_media *m, uint8_t pt,
		     struct sdp_rtpmap *out)
{
	static const struct { uint8_t pt; const char *enc; uint32_t rate; }
	statics[] = {
		{ 0, "PCMU", 8000 }, { 3, "GSM", 8000 }, { 8, "PCMA", 8000 },
		/* RFC 3551 §4.5.2: G722's RTP clock is 8000 though it samples
		 * at 16 kHz */
		{ 9, "G722", 8000 }, { 18, "G729", 8000 },
	};
	for (size_t i = 0; i < m->n_rtpmap; i++)
		if (m->rtpmap[i].pt == pt) {
			*out = m->rtpmap[i];
			return true;
		}
	for (size_t i = 0; i < sizeof statics / sizeof statics[0]; i++)
		if (statics[i].pt == pt) {
			out->pt = pt;
			out->enc.p = statics[i].enc;
			out->enc.len = strlen(statics[i].enc);
			out->rate = statics[i].rate;
			out->channels = 1;
			return true;
		}
	return false;
}

/* An a= line; m is NULL at session level. */
static int parse_attr(const char *v, size_t len, const struct sdp_line *l,
		      struct sdp_view *out, struct sdp_media *m, bool *dir_set)
{
	const char *colon = memchr(v, ':', len);
	size_t nlen = colon ? (size_t)(colon - v) : len;
	const char *val = colon ? colon + 1 : v + len;
	size_t vlen = colon ? len - nlen - 1 : 0;
	enum sdp_dir dir;

	if (parse_dir(v, nlen, &dir)) {
		if (m) {
			m->dir = dir;
			*dir_set = true;
		} else {
			out->session_dir = dir;
		}
		return 0;
	}
	/* rtcp, rtcp-mux and zrtp-hash are media-level attributes; at session
	 * level they are left alone like any other unknown attribute. */
	if (!m)
		return 0;
	if (slice_eq(v, nlen, "rtcp")) {
		if (!colon)
			return -EINVAL;
		return parse_rtcp(val, vlen, m);
	}
	if (slice_eq(v, nlen, "rtcp-mux")) {
		m->rtcp_mux = true;
		return 0;
	}
	if (slice_eq(v, nlen, "rtpmap") && colon) {
		struct sdp_rtpmap r;
		if (m->n_rtpmap < SDP_MAX_FMT && parse_rtpmap(val, vlen, &r) == 0)
			m->rtpmap[m->n_rtpmap++] = r;
		return 0;
	}
	if (slice_eq(v, nlen, "candidate") && colon) {
		/* <foundation> <component-id> <transport> ... (RFC 8839
		 * §5.1); only the transport is read, and a line too short to
		 * have one is left alone like any attribute we ignore. */
		struct sdp_tok t = { val, vlen, 0 };
		struct sip_slice f, c, tr;
		if (sdp_tok_next(&t, &f) && sdp_tok_next(&t, &c) &&
		    sdp_tok_next(&t, &tr) && slice_ieq(tr.p, tr.len, "TCP"))
			m->tcp_candidates = true;
		return 0;
	}
	if (slice_eq(v, nlen, "zrtp-hash")) {
		struct sip_slice ver, hash;
		/* "a=zrtp-hash:" with nothing after it carries no hash: that
		 * is what linphonec 5.1 answers with when ZRTP is not among
		 * its encryptions. Nothing to misplace; read it as absent. */
		if (colon && vlen == 0)
			return 0;
		if (!colon || parse_zrtp_hash(val, vlen, &ver, &hash) < 0)
			return -EINVAL;
		/* several versions may be offered; the first one is recorded
		 * and the rewrite replaces them all with one line */
		if (!m->has_zrtp_hash) {
			m->has_zrtp_hash = true;
			m->zrtp_version = ver;
			m->zrtp_hash = hash;
			m->zrtp_line_start = l->start;
			m->zrtp_line_end = l->end;
		}
	}
	return 0;
}

int sdp_parse(const uint8_t *body, size_t len, struct sdp_view *out)
{
	const char *b = (const char *)body;
	bool own_addr[SDP_MAX_MEDIA] = { false };
	bool own_dir[SDP_MAX_MEDIA] = { false };
	bool seen_eol = false, first = true;
	struct sdp_media *m = NULL;
	struct sdp_line l;
	size_t pos = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->session_dir = SDP_SENDRECV;
	out->crlf = true;   /* what RFC 8866 §5 prescribes, if no line ends */
	if (!b || len == 0 || memchr(b, '\0', len) != NULL)
		return -EINVAL;

	while (sdp_line_next(b, len, &pos, &l, &err)) {
		if (err < 0)
			return err;
		if (l.has_eol && !seen_eol) {
			seen_eol = true;
			out->crlf = l.crlf;
		}
		if (first) {
			if (!slice_eq(l.p, l.len, "v=0"))
				return -EINVAL;
			first = false;
			continue;
		}
		if (l.len == 0)
			continue;
		if (l.len < 2 || l.p[1] != '=' ||
		    !memchr("vosiuepcbtrzkam", l.p[0], 15))
			return -EINVAL;
		const char *v = l.p + 2;
		size_t vlen = l.len - 2;
		size_t i = out->n_media;

		switch (l.p[0]) {
		case 'v':
			return -EINVAL;   /* a second description */
		case 'm':
			if (out->n_media == SDP_MAX_MEDIA)
				return -E2BIG;
			if (m)
				m->end = l.start;
			m = &out->media[out->n_media++];
			m->start = l.start;
			m->end = len;
			if (parse_m(v, vlen, m) < 0)
				return -EINVAL;
			break;
		case 'c': {
			struct sdp_tok t = { v, vlen, 0 };
			struct sip_slice addr;
			int family;
			if (parse_conn(&t, &addr, &family) < 0)
				return -EINVAL;
			/* several c= lines (layered multicast): the first counts */
			if (m && !own_addr[i - 1]) {
				own_addr[i - 1] = true;
				m->addr = addr;
				m->addr_family = family;
			} else if (!m && out->session_family == 0) {
				out->session_addr = addr;
				out->session_family = family;
			}
			break;
		}
		case 'a':
			if (parse_attr(v, vlen, &l, out, m,
				       m ? &own_dir[i - 1] : NULL) < 0)
				return -EINVAL;
			break;
		default:
			break;
		}
	}
	if (first)
		return -EINVAL;

	/* RFC 8866 §5.7 and §6.7: media level overrides session level */
	for (size_t i = 0; i < out->n_media; i++) {
		struct sdp_media *mi = &out->media[i];
		if (!own_addr[i]) {
			mi->addr = out->session_addr;
			mi->addr_family = out->session_family;
		}
		if (!own_dir[i])
			mi->dir = out->session_dir;
	}
	return 0;
}
