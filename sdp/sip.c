/*
 * SIP message parsing (RFC 3261 §7, §18.3, §20, §25) and the offer/answer
 * view of a message (RFC 3261 §13.2.1, RFC 3262, RFC 3311, RFC 6337).
 *
 * One pass, no copies, no allocation: every string handed back is a slice
 * of the caller's buffer, and every read is bounded by len (the buffer is
 * not NUL terminated and may hold anything).
 *
 * What is refused, so the caller passes the message through untouched:
 * - -EINVAL: a NUL byte in the start line or the headers, or in the SDP
 *   (a binary non-SDP part, e.g. SIP-T's application/ISUP, is allowed:
 *   RFC 3261 bodies are octets); a CR that does not end a line; a start
 *   line that is not exactly Method SP Request-URI SP SIP/2.0 or
 *   SIP/2.0 SP 3DIGIT [SP Reason] (§7.1, §7.2); a header line that is not
 *   token *WSP ":" (§7.3.1); a continuation line before any header; no
 *   blank line ending the headers (§7: it "MUST be present even if the
 *   message-body is not"); a missing, duplicated-and-different or
 *   malformed Call-ID or CSeq, or a request whose CSeq method is not its
 *   method (§8.1.1.5; RFC 4475 §3.1.2.19); a multipart body without a
 *   boundary or whose parts are not delimited.
 * - -EBADMSG: Content-Length missing on a stream, duplicated and
 *   different, not 1*DIGIT (so negative values too), too large to be
 *   real, larger than the bytes there, or (stream) not equal to them.
 * - -E2BIG: more than SIP_MAX_MSG bytes or SIP_MAX_HEADERS header lines.
 * Tolerated: bare LF line ends, CRLFs before the start line (§7.5), WSP
 * before the colon, folded headers (the value slice then spans the fold),
 * compact header names (§7.3.3), a lower-case "sip/2.0".
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>

#include "sdp/sdp.h"

/* No real message comes close; a bigger one is a lie about its length. */
#define SIP_CONTENT_LENGTH_MAX 0x7fffffffu
/* RFC 2046 §5.1.1: a boundary is 1 to 70 characters. */
#define MIME_BOUNDARY_MAX 70

/* RFC 3261 §25.1 token characters. */
static bool sip_is_token(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-.!%*_+`'~", c) != NULL;
}

static bool sip_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Linear white space inside a value: WSP, and the CR/LF of a fold. */
static bool sip_is_lws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static unsigned char sip_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool sip_ieq(const char *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sip_lower((unsigned char)p[i]) != sip_lower((unsigned char)s[i]))
			return false;
	return true;
}

static bool sip_slice_ieq(struct sip_slice s, const char *lit)
{
	return s.p != NULL && sip_ieq(s.p, s.len, lit);
}

static bool sip_slice_eq(struct sip_slice a, struct sip_slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static struct sip_slice sip_slice_trim(const char *p, size_t len)
{
	while (len > 0 && sip_is_lws((unsigned char)p[0])) {
		p++;
		len--;
	}
	while (len > 0 && sip_is_lws((unsigned char)p[len - 1]))
		len--;
	return (struct sip_slice){ p, len };
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */

struct sip_line {
	size_t start;    /* offset of the first byte */
	size_t len;      /* content, without CRLF / LF */
	size_t next;     /* offset just past the line end */
};

/*
 * The line at pos in b[0..len). 0, -EAGAIN when no LF follows (the line
 * is not complete), -EINVAL on a CR that is not followed by LF.
 */
static int sip_line_get(const char *b, size_t len, size_t pos,
			struct sip_line *l)
{
	const char *lf = memchr(b + pos, '\n', len - pos);

	if (lf == NULL)
		return -EAGAIN;
	size_t end = (size_t)(lf - b);
	size_t content = end;

	if (content > pos && b[content - 1] == '\r')
		content--;
	if (memchr(b + pos, '\r', content - pos) != NULL)
		return -EINVAL;
	l->start = pos;
	l->len = content - pos;
	l->next = end + 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Header blocks (the message's and a MIME part's)                     */

/*
 * Split the header lines in b[pos..len) up to the blank line into hdrs
 * (at most max; more is -E2BIG). *n_out: how many, *end: just past the
 * blank line. -EINVAL if a line is not a header or there is no blank line.
 */
static int sip_headers_split(const char *b, size_t len, size_t pos,
			     struct sip_header *hdrs, size_t max, size_t *n_out,
			     size_t *end)
{
	size_t n = 0;
	struct sip_header *cur = NULL;   /* the one a fold continues */

	for (;;) {
		struct sip_line l;
		int rc = sip_line_get(b, len, pos, &l);

		if (rc == -EAGAIN)
			return -EINVAL;   /* no blank line: not a whole message */
		if (rc < 0)
			return rc;
		pos = l.next;
		if (l.len == 0)
			break;
		const char *p = b + l.start;

		if (sip_is_wsp((unsigned char)p[0])) {
			/* §7.3.1 folding: this line continues the previous value. */
			if (cur == NULL)
				return -EINVAL;
			struct sip_slice t = sip_slice_trim(p, l.len);

			if (t.len == 0)
				continue;
			if (cur->value.len == 0)
				cur->value.p = t.p;
			cur->value.len = (size_t)(t.p + t.len - cur->value.p);
			continue;
		}
		size_t i = 0;

		while (i < l.len && sip_is_token((unsigned char)p[i]))
			i++;
		size_t name_len = i;

		while (i < l.len && sip_is_wsp((unsigned char)p[i]))
			i++;
		if (name_len == 0 || i >= l.len || p[i] != ':')
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		cur = &hdrs[n++];
		cur->name = (struct sip_slice){ p, name_len };
		cur->value = sip_slice_trim(p + i + 1, l.len - i - 1);
		if (cur->value.len == 0)
			cur->value.p = p + l.len;
	}
	*n_out = n;
	*end = pos;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Start line (§7.1, §7.2)                                             */

static bool sip_is_version(const char *p, size_t len)
{
	return sip_ieq(p, len, "SIP/2.0");
}

static int sip_start_line_parse(const char *p, size_t len, struct sip_msg *m)
{
	size_t i = 0;

	if (len >= 8 && sip_is_version(p, 7) && p[7] == ' ') {
		/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
		i = 8;
		if (len - i < 3)
			return -EINVAL;
		int status = 0;

		for (size_t k = 0; k < 3; k++) {
			unsigned char c = (unsigned char)p[i + k];

			if (c < '0' || c > '9')
				return -EINVAL;
			status = status * 10 + (c - '0');
		}
		if (status < 100 || status > 699)
			return -EINVAL;
		i += 3;
		/* Some stacks drop the SP before an empty reason; accept that. */
		if (i < len && p[i] != ' ')
			return -EINVAL;
		for (; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return -EINVAL;
		}
		m->kind = SIP_RESPONSE;
		m->status = status;
		return 0;
	}

	/* Request-Line = Method SP Request-URI SP SIP-Version */
	while (i < len && sip_is_token((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= len || p[i] != ' ')
		return -EINVAL;
	m->method = (struct sip_slice){ p, i };
	size_t u = ++i;

	while (i < len && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	if (i == u || i >= len || p[i] != ' ')
		return -EINVAL;
	m->uri = (struct sip_slice){ p + u, i - u };
	/* Every Request-URI is absolute: scheme ":" (RFC 3986 §3.1). */
	size_t s = 0;
	const char *uri = m->uri.p;

	if (!((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')))
		return -EINVAL;
	while (s < m->uri.len && uri[s] != ':') {
		unsigned char c = (unsigned char)uri[s];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return -EINVAL;
		s++;
	}
	if (s >= m->uri.len)
		return -EINVAL;
	i++;
	if (!sip_is_version(p + i, len - i))
		return -EINVAL;
	m->kind = SIP_REQUEST;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Header values we read                                               */

/* Content-Length = 1*DIGIT (§20.14). Anything else, "-1" too, is bad. */
static int sip_content_length_parse(struct sip_slice v, size_t *out)
{
	uint64_t n = 0;

	if (v.len == 0)
		return -EBADMSG;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if (c < '0' || c > '9')
			return -EBADMSG;
		n = n * 10 + (uint64_t)(c - '0');
		if (n > SIP_CONTENT_LENGTH_MAX)
			return -EBADMSG;
	}
	*out = (size_t)n;
	return 0;
}

/* CSeq = 1*DIGIT LWS Method (§20.16). */
static int sip_cseq_parse(struct sip_slice v, uint32_t *seq,
			  struct sip_slice *method)
{
	size_t i = 0;
	uint64_t n = 0;

	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9') {
		n = n * 10 + (uint64_t)(v.p[i] - '0');
		if (n > UINT32_MAX)
			return -EINVAL;
		i++;
	}
	if (i == 0 || i >= v.len || !sip_is_lws((unsigned char)v.p[i]))
		return -EINVAL;
	while (i < v.len && sip_is_lws((unsigned char)v.p[i]))
		i++;
	size_t s = i;

	while (i < v.len && sip_is_token((unsigned char)v.p[i]))
		i++;
	if (i == s || i != v.len)
		return -EINVAL;
	*seq = (uint32_t)n;
	*method = (struct sip_slice){ v.p + s, i - s };
	return 0;
}

/* Call-ID = word ["@" word]: no white space inside (§20.8, §25.1). */
static int sip_call_id_check(struct sip_slice v)
{
	if (v.len == 0)
		return -EINVAL;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if (c <= 0x20 || c >= 0x7f)
			return -EINVAL;
	}
	return 0;
}

/* The media type of a Content-Type value: up to ';', trimmed. */
static struct sip_slice sip_media_type(struct sip_slice v)
{
	const char *semi = memchr(v.p, ';', v.len);
	size_t n = semi != NULL ? (size_t)(semi - v.p) : v.len;

	return sip_slice_trim(v.p, n);
}

/*
 * The boundary parameter of a multipart Content-Type (RFC 2046 §5.1.1,
 * RFC 2045 §5.1): token or quoted-string, 1..70 characters.
 */
static int sip_boundary_get(struct sip_slice v, struct sip_slice *out)
{
	size_t i = 0;

	while (i < v.len) {
		while (i < v.len && v.p[i] != ';') {
			if (v.p[i] == '"') {
				/* skip a quoted parameter value of another name */
				for (i++; i < v.len && v.p[i] != '"'; i++)
					if (v.p[i] == '\\')
						i++;
			}
			i++;
		}
		if (i >= v.len)
			break;
		i++;   /* past ';' */
		while (i < v.len && sip_is_lws((unsigned char)v.p[i]))
			i++;
		size_t ns = i;

		while (i < v.len && sip_is_token((unsigned char)v.p[i]))
			i++;
		size_t nl = i - ns;

		while (i < v.len && sip_is_lws((unsigned char)v.p[i]))
			i++;
		if (i >= v.len || v.p[i] != '=')
			continue;
		i++;
		while (i < v.len && sip_is_lws((unsigned char)v.p[i]))
			i++;
		if (!sip_ieq(v.p + ns, nl, "boundary"))
			continue;
		size_t vs, vl;

		if (i < v.len && v.p[i] == '"') {
			vs = ++i;
			while (i < v.len && v.p[i] != '"') {
				if (v.p[i] == '\\')
					return -EINVAL;   /* not a boundary char */
				i++;
			}
			if (i >= v.len)
				return -EINVAL;
			vl = i - vs;
		} else {
			vs = i;
			/* Lenient: unquoted boundaries often hold non-token
			 * bchars ('/', '=', ':'), so take all up to ';'/LWS. */
			while (i < v.len && v.p[i] != ';' &&
			       !sip_is_lws((unsigned char)v.p[i]) && v.p[i] != '"')
				i++;
			vl = i - vs;
		}
		if (vl == 0 || vl > MIME_BOUNDARY_MAX)
			return -EINVAL;
		*out = (struct sip_slice){ v.p + vs, vl };
		return 0;
	}
	return -EINVAL;
}

/*
 * Is there a delimiter line "--boundary" at pos? *kind: 1 delimiter,
 * 2 close delimiter; *next: past its line end (or the end of the body
 * for a close delimiter without one).
 */
static bool sip_mime_delimiter_at(const char *b, size_t len, size_t pos,
				  struct sip_slice bnd, int *kind, size_t *next)
{
	if (len - pos < 2 + bnd.len || b[pos] != '-' || b[pos + 1] != '-' ||
	    memcmp(b + pos + 2, bnd.p, bnd.len) != 0)
		return false;
	size_t i = pos + 2 + bnd.len;

	*kind = 1;
	if (len - i >= 2 && b[i] == '-' && b[i + 1] == '-') {
		*kind = 2;
		i += 2;
	}
	/* transport-padding := *LWSP-char, then CRLF */
	while (i < len && sip_is_wsp((unsigned char)b[i]))
		i++;
	if (i < len && b[i] == '\r')
		i++;
	if (i < len && b[i] == '\n') {
		*next = i + 1;
		return true;
	}
	if (i >= len) {
		/* at the very end of the body, with or without its "--":
		 * the last part is delimited, whatever the sender forgot */
		*kind = 2;
		*next = len;
		return true;
	}
	return false;
}

/*
 * Find the first application/sdp part of a multipart body (RFC 2046
 * §5.1.1). A delimiter is "--boundary" at the start of a line; the line
 * end before it belongs to it. Nested multiparts are not searched.
 */
static int sip_multipart_sdp(const char *b, size_t len, struct sip_slice bnd,
			     struct sip_slice *sdp)
{
	size_t pos = 0;
	int kind = 0;
	size_t next = 0;

	/* The preamble ends at the first delimiter at a line start. */
	for (;;) {
		if (sip_mime_delimiter_at(b, len, pos, bnd, &kind, &next))
			break;
		const char *lf = memchr(b + pos, '\n', len - pos);

		if (lf == NULL)
			return -EINVAL;
		pos = (size_t)(lf - b) + 1;
	}
	while (kind == 1) {
		size_t part = next;
		/* The part runs to the next delimiter line. */
		size_t scan = part;
		size_t part_end = 0;

		for (;;) {
			if (sip_mime_delimiter_at(b, len, scan, bnd, &kind, &next)) {
				part_end = scan;
				break;
			}
			const char *lf = memchr(b + scan, '\n', len - scan);

			if (lf == NULL)
				return -EINVAL;
			scan = (size_t)(lf - b) + 1;
		}
		/* The CRLF (or LF) before the delimiter is the delimiter's. */
		size_t content_end = part_end;

		if (content_end > part && b[content_end - 1] == '\n')
			content_end--;
		if (content_end > part && b[content_end - 1] == '\r')
			content_end--;

		struct sip_header hdrs[16];
		size_t n = 0, body_start = 0;
		int rc = sip_headers_split(b, part_end, part, hdrs, 16, &n,
					   &body_start);

		if (rc < 0)
			continue;   /* a part we cannot read is not the SDP */
		if (body_start > content_end)
			body_start = content_end;
		for (size_t i = 0; i < n; i++) {
			if (!sip_ieq(hdrs[i].name.p, hdrs[i].name.len, "Content-Type"))
				continue;
			if (sip_slice_ieq(sip_media_type(hdrs[i].value),
					  "application/sdp")) {
				*sdp = (struct sip_slice){ b + body_start,
							   content_end - body_start };
				return 0;
			}
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */

/* A single-valued header seen again must say the same thing. */
static int sip_single(struct sip_slice *have, bool *seen, struct sip_slice v)
{
	if (*seen)
		return sip_slice_eq(*have, v) ? 0 : -EINVAL;
	*have = v;
	*seen = true;
	return 0;
}

int sip_msg_parse(const uint8_t *buf, size_t len, bool stream,
		  struct sip_msg *out)
{
	const char *b = (const char *)buf;
	struct sip_msg *m = out;
	int rc;

	memset(m, 0, offsetof(struct sip_msg, headers));
	if (buf == NULL)
		return -EINVAL;
	if (len > SIP_MAX_MSG)
		return -E2BIG;

	size_t pos = 0;

	/* §7.5: CRLFs before the start line are ignored. */
	while (pos < len && (b[pos] == '\r' || b[pos] == '\n'))
		pos++;
	struct sip_line start;

	rc = sip_line_get(b, len, pos, &start);
	if (rc < 0)
		return -EINVAL;
	size_t hdr_end = 0;

	rc = sip_headers_split(b, len, start.next, m->headers, SIP_MAX_HEADERS,
			       &m->n_headers, &hdr_end);
	if (rc < 0)
		return rc;
	if (memchr(b, '\0', hdr_end) != NULL)
		return -EINVAL;
	m->header_len = hdr_end;
	rc = sip_start_line_parse(b + start.start, start.len, m);
	if (rc < 0)
		return rc;

	struct sip_slice cseq_v = { 0 }, ctype_v = { 0 };
	struct sip_slice cenc_v = { 0 };
	bool seen_cid = false, seen_cseq = false, seen_ctype = false;
	bool seen_cenc = false;
	int cl_err = 0;

	for (size_t i = 0; i < m->n_headers; i++) {
		const struct sip_header *h = &m->headers[i];
		const char *n = h->name.p;
		size_t nl = h->name.len;

		if (sip_ieq(n, nl, "Call-ID") || sip_ieq(n, nl, "i")) {
			rc = sip_call_id_check(h->value);
			if (rc == 0)
				rc = sip_single(&m->call_id, &seen_cid, h->value);
		} else if (sip_ieq(n, nl, "CSeq")) {
			rc = sip_single(&cseq_v, &seen_cseq, h->value);
		} else if (sip_ieq(n, nl, "Content-Type") || sip_ieq(n, nl, "c")) {
			rc = sip_single(&ctype_v, &seen_ctype, h->value);
		} else if (sip_ieq(n, nl, "Content-Encoding") || sip_ieq(n, nl, "e")) {
			cenc_v = h->value;
			seen_cenc = true;
		} else if (sip_ieq(n, nl, "Content-Length") || sip_ieq(n, nl, "l")) {
			size_t v = 0;
			int e = sip_content_length_parse(h->value, &v);

			if (e < 0)
				cl_err = e;
			else if (m->has_content_length && v != m->content_length)
				cl_err = -EBADMSG;
			m->has_content_length = true;
			m->content_length = v;
		}
		if (rc < 0)
			return rc;
	}
	if (!seen_cid || !seen_cseq)
		return -EINVAL;
	rc = sip_cseq_parse(cseq_v, &m->cseq, &m->cseq_method);
	if (rc < 0)
		return rc;
	if (m->kind == SIP_REQUEST) {
		if (!sip_slice_eq(m->method, m->cseq_method))
			return -EINVAL;
	} else {
		m->method = m->cseq_method;
	}
	if (seen_ctype)
		m->content_type = sip_media_type(ctype_v);

	/* §18.3: the body is Content-Length bytes. */
	size_t avail = len - hdr_end;

	if (cl_err < 0)
		return cl_err;
	if (m->has_content_length) {
		if (m->content_length > avail)
			return -EBADMSG;
		if (stream && m->content_length != avail)
			return -EBADMSG;
	} else {
		if (stream)
			return -EBADMSG;
		m->content_length = avail;
	}
	m->body = (struct sip_slice){ b + hdr_end, m->content_length };

	if (m->body.len == 0 || !seen_ctype)
		return 0;
	/* An encoded body (gzip, ...) cannot be read as SDP here. */
	if (seen_cenc && !sip_slice_ieq(cenc_v, "identity"))
		return 0;
	if (sip_slice_ieq(m->content_type, "application/sdp")) {
		m->sdp = m->body;
	} else if (m->content_type.len > 10 &&
		   sip_ieq(m->content_type.p, 10, "multipart/")) {
		struct sip_slice bnd;

		rc = sip_boundary_get(ctype_v, &bnd);
		if (rc < 0)
			return rc;
		rc = sip_multipart_sdp(m->body.p, m->body.len, bnd, &m->sdp);
		if (rc < 0)
			return rc;
	}
	/* RFC 8866 §5: SDP is text; a NUL in it means we would misread it. */
	if (m->sdp.len > 0 && memchr(m->sdp.p, '\0', m->sdp.len) != NULL)
		return -EINVAL;
	if (m->sdp.len == 0)
		m->sdp = (struct sip_slice){ NULL, 0 };
	return 0;
}

/* ------------------------------------------------------------------ */

/* RFC 3261 §7.3.3 compact forms, and the ones later RFCs registered. */
static const struct {
	char compact;
	const char *name;
} sip_compact[] = {
	{ 'i', "Call-ID" }, { 'l', "Content-Length" }, { 'c', "Content-Type" },
	{ 'f', "From" }, { 't', "To" }, { 'v', "Via" }, { 'm', "Contact" },
	{ 'k', "Supported" }, { 's', "Subject" }, { 'e', "Content-Encoding" },
	{ 'o', "Event" },             /* RFC 6665 */
	{ 'u', "Allow-Events" },      /* RFC 6665 */
	{ 'r', "Refer-To" },          /* RFC 3515 */
	{ 'b', "Referred-By" },       /* RFC 3892 */
	{ 'x', "Session-Expires" },   /* RFC 4028 */
	{ 'a', "Accept-Contact" },    /* RFC 3841 */
	{ 'j', "Reject-Contact" },    /* RFC 3841 */
	{ 'd', "Request-Disposition" },  /* RFC 3841 */
};

const struct sip_header *sip_msg_header(const struct sip_msg *m,
					const char *name)
{
	if (m == NULL || name == NULL || name[0] == '\0')
		return NULL;
	const char *alt = NULL;
	char alt1[2] = { 0, 0 };

	for (size_t i = 0; i < sizeof(sip_compact) / sizeof(sip_compact[0]); i++) {
		alt1[0] = sip_compact[i].compact;
		if (sip_ieq(name, strlen(name), sip_compact[i].name)) {
			alt = alt1;
			break;
		}
		if (sip_ieq(name, strlen(name), alt1)) {
			alt = sip_compact[i].name;
			break;
		}
	}
	for (size_t i = 0; i < m->n_headers && i < SIP_MAX_HEADERS; i++) {
		const struct sip_header *h = &m->headers[i];

		if (sip_ieq(h->name.p, h->name.len, name) ||
		    (alt != NULL && sip_ieq(h->name.p, h->name.len, alt)))
			return h;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Offer/answer                                                        */

static bool sip_slice_is(struct sip_slice s, const char *lit)
{
	size_t n = strlen(lit);

	/* Methods are case-sensitive (§7.1). */
	return s.p != NULL && s.len == n && memcmp(s.p, lit, n) == 0;
}

/*
 * Whether the message carries a session description. An SDP body we
 * cannot read (Content-Encoding) still counts, so that the roles of the
 * messages after it stay right.
 */
static bool sip_has_sdp(const struct sip_msg *m)
{
	if (m->sdp.len > 0)
		return true;
	return m->body.len > 0 &&
	       sip_slice_ieq(m->content_type, "application/sdp");
}

void sip_dialog_classify(const struct sip_msg *m, bool offer_pending,
			 struct sip_dialog_info *out)
{
	memset(out, 0, sizeof(*out));
	out->call_id = m->call_id;
	out->cseq = m->cseq;
	out->method = m->kind == SIP_REQUEST ? m->method : m->cseq_method;
	out->status = m->kind == SIP_REQUEST ? 0 : m->status;

	bool sdp = sip_has_sdp(m);
	struct sip_slice meth = out->method;
	/* With an offer outstanding, SDP answers it; otherwise it offers. */
	enum sip_sdp_role reply = offer_pending ? SIP_SDP_ANSWER : SIP_SDP_OFFER;

	if (m->kind == SIP_REQUEST) {
		if (sip_slice_is(meth, "INVITE") || sip_slice_is(meth, "UPDATE")) {
			/* §13.2.1, RFC 3311 §5.1: SDP in these is an offer. */
			if (sdp)
				out->sdp_role = SIP_SDP_OFFER;
		} else if (sip_slice_is(meth, "ACK")) {
			/* §13.2.1: the ACK answers the offer of a 2xx; SDP in an
			 * ACK with nothing outstanding is ignored (RFC 6337 §3.1). */
			if (sdp && offer_pending)
				out->sdp_role = SIP_SDP_ANSWER;
		} else if (sip_slice_is(meth, "PRACK")) {
			/* RFC 3262 §5: answers an offer in a reliable 1xx, or
			 * makes a new offer when that 1xx carried the answer. */
			if (sdp)
				out->sdp_role = reply;
		} else if (sip_slice_is(meth, "BYE") ||
			   sip_slice_is(meth, "CANCEL")) {
			out->ends_media = true;
		}
		return;
	}

	int st = m->status;

	if (sip_slice_is(meth, "INVITE")) {
		if (st >= 300) {
			/* A final non-2xx ends the INVITE without a session. For a
			 * re-INVITE the old session stays (§14.1): only the caller,
			 * who knows it is one, can tell. */
			out->ends_media = true;
		} else if (sdp && st > 100) {
			/* §13.2.1, RFC 6337 §2.1: 18x or 2xx answers the INVITE's
			 * offer, or offers when the INVITE had none. */
			out->sdp_role = reply;
		}
	} else if (sip_slice_is(meth, "UPDATE") || sip_slice_is(meth, "PRACK")) {
		/* RFC 3311 §5.2, RFC 3262 §5: a 2xx carries the answer. */
		if (sdp && st >= 200 && st < 300)
			out->sdp_role = SIP_SDP_ANSWER;
	}
}
