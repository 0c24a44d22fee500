/*
 * The a=zrtp-hash rewrite (RFC 6189 §8.1): copy a SIP message, putting one
 * "a=zrtp-hash:<version> <hash>" line into each protectable m= section and
 * fixing Content-Length. Everything else is copied byte for byte: the
 * start line, every header but Content-Length's value, other multipart
 * parts and their boundaries, other SDP lines, non-protectable sections.
 *
 * It works only on a message that parsed completely (sip_msg_parse, then
 * sdp_parse of its SDP); otherwise it returns -EINVAL and the caller sends
 * the original. Two passes: the first only counts, so the new
 * Content-Length is known before the headers are written and nothing is
 * ever written past cap.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sdp/sdp.h"

#define ZRTP_ATTR "a=zrtp-hash:"
#define ZRTP_ATTR_LEN (sizeof(ZRTP_ATTR) - 1)
#define ZRTP_HASH_HEX 64
#define ZRTP_VERSION_MAX 16

/* Bounded output; with out == NULL it only counts. */
struct rw_out {
	uint8_t *out;
	size_t cap, len;
};

static void rw_put(struct rw_out *w, const void *p, size_t n)
{
	if (w->out && n <= w->cap && w->len <= w->cap - n)
		memcpy(w->out + w->len, p, n);
	w->len += n;
}

static void rw_str(struct rw_out *w, const char *s)
{
	rw_put(w, s, strlen(s));
}

struct rw_ctx {
	const char *version;
	const char *eol;           /* the SDP body's own line end */
};

static void rw_zrtp_line(struct rw_out *w, const struct rw_ctx *c,
			 const char *hash)
{
	rw_put(w, ZRTP_ATTR, ZRTP_ATTR_LEN);
	rw_str(w, c->version);
	rw_put(w, " ", 1);
	rw_put(w, hash, ZRTP_HASH_HEX);
}

static bool is_zrtp_line(const char *p, size_t len)
{
	return len >= ZRTP_ATTR_LEN && memcmp(p, ZRTP_ATTR, ZRTP_ATTR_LEN) == 0;
}

/*
 * One protectable m= section [s, e) of the SDP text b: each zrtp-hash line
 * already there is dropped, the first one replaced by ours; if there was
 * none, ours goes after the section's last non-empty line (the end of its
 * attributes, RFC 8866 §5 orders a= last), before any empty lines.
 */
static void rw_section(struct rw_out *w, const struct rw_ctx *c,
		       const char *b, size_t s, size_t e, const char *hash)
{
	size_t cursor = s, pos = s, ins = s;
	bool replaced = false, ins_eol = true;

	while (pos < e) {
		const char *nl = memchr(b + pos, '\n', e - pos);
		size_t ls = pos, le = nl ? (size_t)(nl - b) + 1 : e;
		size_t ce = nl ? (size_t)(nl - b) : e;

		while (ce > ls && (b[ce - 1] == '\r' || b[ce - 1] == ' ' ||
				   b[ce - 1] == '\t'))
			ce--;
		pos = le;
		if (ce == ls)
			continue;
		ins = le;
		ins_eol = nl != NULL;
		if (!is_zrtp_line(b + ls, ce - ls))
			continue;
		rw_put(w, b + cursor, ls - cursor);
		if (!replaced) {
			rw_zrtp_line(w, c, hash);
			if (nl)
				rw_str(w, c->eol);
			replaced = true;
		}
		cursor = le;
	}
	if (!replaced) {
		rw_put(w, b + cursor, ins - cursor);
		/* the last line lacks its line end; a lone CR there (a CRLF cut
		 * by Content-Length) only needs its LF, or it would be stray */
		if (!ins_eol)
			rw_str(w, ins > s && b[ins - 1] == '\r' ? "\n" : c->eol);
		rw_zrtp_line(w, c, hash);
		if (ins_eol)
			rw_str(w, c->eol);
		cursor = ins;
	}
	rw_put(w, b + cursor, e - cursor);
}

static void rw_sdp(struct rw_out *w, const struct rw_ctx *c, const char *b,
		   size_t len, const struct sdp_view *v,
		   const char *const hashes[SDP_MAX_MEDIA])
{
	size_t cursor = 0;

	for (size_t i = 0; i < v->n_media; i++) {
		const struct sdp_media *m = &v->media[i];
		if (!m->protectable || !hashes[i])
			continue;
		rw_put(w, b + cursor, m->start - cursor);
		rw_section(w, c, b, m->start, m->end, hashes[i]);
		cursor = m->end;
	}
	rw_put(w, b + cursor, len - cursor);
}

static bool valid_version(const char *v)
{
	size_t n = v ? strnlen(v, ZRTP_VERSION_MAX + 1) : 0;
	if (n == 0 || n > ZRTP_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~')
			return false;
	return true;
}

static bool valid_hash(const char *h)
{
	if (strnlen(h, ZRTP_HASH_HEX + 1) != ZRTP_HASH_HEX)
		return false;
	for (size_t i = 0; i < ZRTP_HASH_HEX; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

static bool is_content_length(const struct sip_slice *n)
{
	static const char cl[] = "content-length";
	size_t len = n->len;

	while (len > 0 && (n->p[len - 1] == ' ' || n->p[len - 1] == '\t'))
		len--;
	if (len == 1)
		return n->p[0] == 'l' || n->p[0] == 'L';
	if (len != sizeof(cl) - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = n->p[i];
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch != cl[i])
			return false;
	}
	return true;
}

/* Offset of slice s in [base, base + len), or false if it is not inside. */
static bool slice_off(const struct sip_slice *s, const uint8_t *base,
		      size_t len, size_t *off)
{
	const char *b = (const char *)base;
	if (s->p < b || s->p > b + len || s->len > len - (size_t)(s->p - b))
		return false;
	*off = (size_t)(s->p - b);
	return true;
}

int sdp_rewrite_zrtp_hash(const uint8_t *msg, size_t len, bool stream,
			  const char *version,
			  const char *const hashes[SDP_MAX_MEDIA],
			  uint8_t *out, size_t cap)
{
	struct sip_msg m;
	struct sdp_view v;
	size_t body_off, sdp_off, off, prev_end = 0, n_cl = 0;

	if (!msg || !hashes || !valid_version(version) || (!out && cap))
		return -EINVAL;
	if (sip_msg_parse(msg, len, stream, &m) < 0 || m.sdp.len == 0)
		return -EINVAL;
	/* The parser vouches for these; a rewrite built on a wrong layout
	 * would corrupt the message, so they are checked again. */
	if (!slice_off(&m.body, msg, len, &body_off) ||
	    !slice_off(&m.sdp, msg, len, &sdp_off) ||
	    body_off != m.header_len || sdp_off < body_off ||
	    sdp_off + m.sdp.len > body_off + m.body.len ||
	    (stream && body_off + m.body.len != len) ||
	    (m.has_content_length && m.content_length != m.body.len) ||
	    (!m.has_content_length && body_off + m.body.len != len))
		return -EINVAL;
	if (sdp_parse(m.sdp.p ? (const uint8_t *)m.sdp.p : msg, m.sdp.len,
		      &v) < 0)
		return -EINVAL;
	for (size_t i = 0; i < v.n_media; i++)
		if (v.media[i].protectable && hashes[i] &&
		    !valid_hash(hashes[i]))
			return -EINVAL;

	/* every Content-Length value (a duplicate must agree, so all are
	 * rewritten): plain digits inside the headers, in order */
	for (size_t i = 0; i < m.n_headers; i++) {
		const struct sip_header *h = &m.headers[i];
		if (!is_content_length(&h->name))
			continue;
		if (!slice_off(&h->value, msg, body_off, &off) ||
		    h->value.len == 0 || off < prev_end)
			return -EINVAL;
		for (size_t k = 0; k < h->value.len; k++)
			if (h->value.p[k] < '0' || h->value.p[k] > '9')
				return -EINVAL;
		prev_end = off + h->value.len;
		n_cl++;
	}
	if (n_cl == 0 && m.has_content_length)
		return -EINVAL;

	struct rw_ctx c = { version, v.crlf ? "\r\n" : "\n" };
	const char *sdp = (const char *)msg + sdp_off;

	/* pass 1: the new body length */
	struct rw_out count = { NULL, 0, 0 };
	rw_sdp(&count, &c, sdp, m.sdp.len, &v, hashes);
	size_t body_len = m.body.len - m.sdp.len + count.len;
	char num[24];
	int nlen = snprintf(num, sizeof(num), "%zu", body_len);
	if (nlen <= 0 || (size_t)nlen >= sizeof(num))
		return -EINVAL;

	/* pass 2: write */
	struct rw_out w = { out, cap, 0 };
	size_t cursor = 0;
	for (size_t i = 0; i < m.n_headers; i++) {
		const struct sip_header *h = &m.headers[i];
		if (!is_content_length(&h->name))
			continue;
		off = (size_t)(h->value.p - (const char *)msg);
		rw_put(&w, msg + cursor, off - cursor);
		rw_put(&w, num, (size_t)nlen);
		cursor = off + h->value.len;
	}
	if (n_cl == 0 && stream) {
		/* before the blank line that ends the headers, in its style */
		size_t eol = (m.header_len >= 2 &&
			      msg[m.header_len - 2] == '\r') ? 2 : 1;
		size_t at = m.header_len - eol;
		rw_put(&w, msg + cursor, at - cursor);
		rw_str(&w, "Content-Length: ");
		rw_put(&w, num, (size_t)nlen);
		rw_put(&w, msg + at, eol);
		cursor = at;
	}
	rw_put(&w, msg + cursor, sdp_off - cursor);
	rw_sdp(&w, &c, sdp, m.sdp.len, &v, hashes);
	cursor = sdp_off + m.sdp.len;
	/* the rest of the body, and on UDP any bytes past Content-Length,
	 * which the receiver ignores (RFC 3261 §18.3) as it did before */
	rw_put(&w, msg + cursor, len - cursor);

	if (w.len > cap)
		return -ENOSPC;
	if (w.len > INT_MAX)
		return -E2BIG;
	return (int)w.len;
}
