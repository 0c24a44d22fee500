/*
 * SIP-over-TCP framing (RFC 3261 §18.3, §7.5; RFC 5626 §3.5.1).
 *
 * The framer sits in the client's own byte stream, so its one rule is
 * that every byte fed comes out exactly once, in order, and that it never
 * holds bytes that cannot become a SIP message. It holds bytes only while
 * they are still a possible SIP message:
 *
 *   START   at a message boundary. CR and LF pass through at once (the
 *           RFC 5626 CRLF / CRLFCRLF keep-alives, and §7.5's CRLFs before
 *           a start line). Any other byte begins a start line.
 *   LINE    the start line is checked byte by byte against the grammar of
 *           §7.1/§7.2 (Method SP URI SP SIP/2.0, or SIP/2.0 SP 3DIGIT ...).
 *           As soon as a byte makes it impossible, the bytes so far and
 *           the rest of that line pass through (DISCARD): a text protocol
 *           resynchronises at the next line, a binary one never waits.
 *   HEADERS held until the blank line. Content-Length (long or compact,
 *           any case, possibly folded; duplicates must agree) then gives
 *           the message's size. Without a usable one (RFC 3261 requires it
 *           on TCP) the header block passes through and we look for the
 *           next message after it: never wait for bytes that may not come.
 *   BODY    held until header + Content-Length bytes are there, then the
 *           whole message comes out as one SIP_FRAME_MESSAGE.
 *   SKIP    a message larger than max_msg: what is held and the rest of
 *           its Content-Length pass through unbuffered.
 * A start line or header block that does not end within max_msg bytes
 * passes through, and so does the rest of its line.
 *
 * Every decision depends only on the bytes, never on how they were split
 * into pieces, so a stream yields the same messages whatever the pieces.
 * The buffer is allocated once, max_msg bytes; feeding never allocates.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"

enum sip_framer_state {
	FR_START,
	FR_LINE,
	FR_HEADERS,
	FR_BODY,
	FR_SKIP,
	FR_DISCARD,
};

/* Where the start-line check is (see sip_framer_line_step). */
enum sip_line_state {
	SL_WORD,      /* Method, or SIP-Version of a Status-Line */
	SL_CODE,      /* Status-Code digits */
	SL_REASON,
	SL_URI,
	SL_VERSION,
	SL_EOL,       /* expecting CR or LF */
	SL_LF,        /* after CR, expecting LF */
};

struct sip_framer {
	uint8_t *buf;
	size_t cap;          /* max_msg */
	size_t len;          /* bytes held */
	enum sip_framer_state state;
	/* LINE */
	enum sip_line_state sl;
	size_t sl_pos;       /* next byte of buf to check */
	size_t sl_mark;      /* where the current start-line field began */
	bool sl_token;       /* first word is all token characters */
	bool sl_colon;       /* the Request-URI has its scheme ':' */
	/* HEADERS */
	size_t scan;         /* next byte to look at for the blank line */
	size_t line_start;   /* start of the header line being scanned */
	/* BODY */
	size_t msg_len;
	/* SKIP */
	uint64_t skip;
};

static const char sip_version[] = "SIP/2.0";

static bool fr_is_token(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("-.!%*_+`'~", c) != NULL;
}

static bool fr_is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static uint8_t fr_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

static bool fr_ieq(const uint8_t *p, size_t len, const char *s)
{
	if (len != strlen(s))
		return false;
	for (size_t i = 0; i < len; i++)
		if (fr_lower(p[i]) != fr_lower((uint8_t)s[i]))
			return false;
	return true;
}

struct sip_framer *sip_framer_new(size_t max_msg)
{
	if (max_msg == 0)
		max_msg = SIP_MAX_MSG;
	struct sip_framer *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->buf = malloc(max_msg);
	if (f->buf == NULL) {
		free(f);
		return NULL;
	}
	f->cap = max_msg;
	f->state = FR_START;
	return f;
}

void sip_framer_free(struct sip_framer *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	free(f);
}

size_t sip_framer_pending(const struct sip_framer *f)
{
	return f != NULL ? f->len : 0;
}

void sip_framer_flush(struct sip_framer *f, sip_frame_fn fn, void *arg)
{
	uint8_t *buf = f->buf;
	size_t cap = f->cap, len = f->len;

	if (len > 0)
		fn(arg, SIP_FRAME_PASSTHROUGH, buf, len);
	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->cap = cap;
	f->state = FR_START;
}

/* Hand out the first n held bytes and drop them from the buffer. */
static void fr_emit(struct sip_framer *f, enum sip_frame_kind kind, size_t n,
		    sip_frame_fn fn, void *arg)
{
	if (n == 0)
		return;
	fn(arg, kind, f->buf, n);
	memmove(f->buf, f->buf + n, f->len - n);
	f->len -= n;
}

static void fr_begin_line(struct sip_framer *f)
{
	f->state = FR_LINE;
	f->sl = SL_WORD;
	f->sl_pos = 0;
	f->sl_mark = 0;
	f->sl_token = true;
	f->sl_colon = false;
}

/*
 * Check the start line from sl_pos on. 1: complete and valid, headers
 * start at sl_pos; 0: valid so far; -1: cannot be a SIP start line.
 */
static int fr_line_step(struct sip_framer *f)
{
	const uint8_t *b = f->buf;

	for (; f->sl_pos < f->len; f->sl_pos++) {
		uint8_t c = b[f->sl_pos];
		size_t field = f->sl_pos - f->sl_mark;

		switch (f->sl) {
		case SL_WORD:
			if (c == ' ') {
				if (field == 0)
					return -1;
				if (fr_ieq(b, field, sip_version))
					f->sl = SL_CODE;
				else if (f->sl_token)
					f->sl = SL_URI;
				else
					return -1;
				f->sl_mark = f->sl_pos + 1;
			} else if (c == '/') {
				f->sl_token = false;
			} else if (!fr_is_token(c)) {
				return -1;
			}
			break;
		case SL_CODE:
			if (field < 3) {
				if (c < '0' || c > '9' || (field == 0 && (c < '1' || c > '6')))
					return -1;
			} else if (c == ' ') {
				f->sl = SL_REASON;
			} else if (c == '\r') {
				f->sl = SL_LF;
			} else if (c == '\n') {
				f->sl_pos++;
				return 1;
			} else {
				return -1;
			}
			break;
		case SL_REASON:
			if (c == '\r') {
				f->sl = SL_LF;
			} else if (c == '\n') {
				f->sl_pos++;
				return 1;
			} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				return -1;
			}
			break;
		case SL_URI:
			if (c == ' ') {
				if (field == 0 || !f->sl_colon)
					return -1;
				f->sl = SL_VERSION;
				f->sl_mark = f->sl_pos + 1;
			} else if (c <= 0x20 || c >= 0x7f) {
				return -1;
			} else if (c == ':') {
				f->sl_colon = true;
			}
			break;
		case SL_VERSION:
			if (fr_lower(c) != fr_lower((uint8_t)sip_version[field]))
				return -1;
			if (field + 1 == sizeof(sip_version) - 1)
				f->sl = SL_EOL;
			break;
		case SL_EOL:
			if (c == '\r') {
				f->sl = SL_LF;
			} else if (c == '\n') {
				f->sl_pos++;
				return 1;
			} else {
				return -1;
			}
			break;
		case SL_LF:
			if (c != '\n')
				return -1;
			f->sl_pos++;
			return 1;
		}
	}
	return 0;
}

/* Find the blank line; its end offset, or 0 while it is not there. */
static size_t fr_headers_end(struct sip_framer *f)
{
	const uint8_t *b = f->buf;

	while (f->scan < f->len) {
		const uint8_t *lf = memchr(b + f->scan, '\n', f->len - f->scan);

		if (lf == NULL) {
			f->scan = f->len;
			return 0;
		}
		size_t end = (size_t)(lf - b);
		size_t n = end - f->line_start;

		f->scan = end + 1;
		if (n == 0 || (n == 1 && b[f->line_start] == '\r'))
			return end + 1;
		f->line_start = end + 1;
	}
	return 0;
}

/*
 * Content-Length from the header lines in b[from..to): 0 and *out, or -1
 * when it is absent, not 1*DIGIT, too large, or given twice differently.
 */
static int fr_content_length(const uint8_t *b, size_t from, size_t to,
			     uint64_t *out)
{
	bool seen = false;
	uint64_t cl = 0;
	size_t pos = from;

	while (pos < to) {
		const uint8_t *lf = memchr(b + pos, '\n', to - pos);
		size_t eol = lf != NULL ? (size_t)(lf - b) : to;
		size_t i = pos;

		while (i < eol && fr_is_token(b[i]))
			i++;
		size_t name_end = i;

		while (i < eol && (b[i] == ' ' || b[i] == '\t'))
			i++;
		bool is_cl = i < eol && b[i] == ':' &&
			(fr_ieq(b + pos, name_end - pos, "Content-Length") ||
			 fr_ieq(b + pos, name_end - pos, "l"));
		/* The value runs on through folded lines (§7.3.1). */
		size_t vend = eol;

		while (vend + 1 < to && (b[vend + 1] == ' ' || b[vend + 1] == '\t')) {
			const uint8_t *lf2 = memchr(b + vend + 1, '\n', to - vend - 1);

			vend = lf2 != NULL ? (size_t)(lf2 - b) : to;
		}
		if (is_cl) {
			size_t v = i + 1;
			uint64_t n = 0;
			size_t digits = 0;

			while (v < vend && fr_is_lws(b[v]))
				v++;
			while (v < vend && b[v] >= '0' && b[v] <= '9') {
				n = n * 10 + (uint64_t)(b[v] - '0');
				if (n > 0x7fffffffu)   /* as sip_msg_parse */
					return -1;
				v++;
				digits++;
			}
			while (v < vend && fr_is_lws(b[v]))
				v++;
			if (digits == 0 || v != vend || (seen && n != cl))
				return -1;
			seen = true;
			cl = n;
		}
		pos = vend + 1;
	}
	if (!seen)
		return -1;
	*out = cl;
	return 0;
}

/* max_msg bytes held and still no end: let them go, and their line. */
static void fr_overflow(struct sip_framer *f, sip_frame_fn fn, void *arg)
{
	bool at_eol = f->buf[f->len - 1] == '\n';

	fr_emit(f, SIP_FRAME_PASSTHROUGH, f->len, fn, arg);
	f->state = at_eol ? FR_START : FR_DISCARD;
}

/*
 * Work through what is held. Returns once it needs more bytes, with the
 * held bytes being (a prefix of) one possible message.
 */
static void fr_process(struct sip_framer *f, sip_frame_fn fn, void *arg)
{
	for (;;) {
		switch (f->state) {
		case FR_START: {
			size_t n = 0;

			while (n < f->len && (f->buf[n] == '\r' || f->buf[n] == '\n'))
				n++;
			fr_emit(f, SIP_FRAME_PASSTHROUGH, n, fn, arg);
			if (f->len == 0)
				return;
			fr_begin_line(f);
			break;
		}
		case FR_LINE: {
			int rc = fr_line_step(f);

			if (rc < 0) {
				f->state = FR_DISCARD;
				break;
			}
			if (rc == 0) {
				if (f->len < f->cap)
					return;
				fr_overflow(f, fn, arg);   /* a start line > max_msg */
				break;
			}
			f->state = FR_HEADERS;
			f->scan = f->sl_pos;
			f->line_start = f->sl_pos;
			break;
		}
		case FR_HEADERS: {
			size_t end = fr_headers_end(f);
			uint64_t cl = 0;

			if (end == 0) {
				if (f->len < f->cap)
					return;
				fr_overflow(f, fn, arg);   /* headers > max_msg */
				break;
			}
			if (fr_content_length(f->buf, f->sl_pos, end, &cl) < 0) {
				fr_emit(f, SIP_FRAME_PASSTHROUGH, end, fn, arg);
				f->state = FR_START;
				break;
			}
			if ((uint64_t)end + cl > f->cap) {
				f->skip = (uint64_t)end + cl - f->len;
				fr_emit(f, SIP_FRAME_PASSTHROUGH, f->len, fn, arg);
				f->state = FR_SKIP;
				return;
			}
			f->msg_len = end + (size_t)cl;
			f->state = FR_BODY;
			break;
		}
		case FR_BODY:
			if (f->len < f->msg_len)
				return;
			fr_emit(f, SIP_FRAME_MESSAGE, f->msg_len, fn, arg);
			f->state = FR_START;
			break;
		case FR_DISCARD: {
			const uint8_t *lf = memchr(f->buf, '\n', f->len);

			if (lf == NULL) {
				fr_emit(f, SIP_FRAME_PASSTHROUGH, f->len, fn, arg);
				return;
			}
			fr_emit(f, SIP_FRAME_PASSTHROUGH,
				(size_t)(lf - f->buf) + 1, fn, arg);
			f->state = FR_START;
			break;
		}
		case FR_SKIP:
			return;   /* only entered with nothing held */
		}
	}
}

int sip_framer_feed(struct sip_framer *f, const uint8_t *p, size_t len,
		    sip_frame_fn fn, void *arg)
{
	while (len > 0) {
		/* Unbuffered states take bytes straight from the input. */
		if (f->state == FR_SKIP) {
			size_t n = f->skip < len ? (size_t)f->skip : len;

			fn(arg, SIP_FRAME_PASSTHROUGH, p, n);
			p += n;
			len -= n;
			f->skip -= n;
			if (f->skip == 0)
				f->state = FR_START;
			continue;
		}
		if (f->len == 0 && f->state == FR_DISCARD) {
			const uint8_t *lf = memchr(p, '\n', len);
			size_t n = lf != NULL ? (size_t)(lf - p) + 1 : len;

			fn(arg, SIP_FRAME_PASSTHROUGH, p, n);
			p += n;
			len -= n;
			if (lf != NULL)
				f->state = FR_START;
			continue;
		}
		if (f->len == 0 && f->state == FR_START &&
		    (p[0] == '\r' || p[0] == '\n')) {
			size_t n = 0;

			while (n < len && (p[n] == '\r' || p[n] == '\n'))
				n++;
			fn(arg, SIP_FRAME_PASSTHROUGH, p, n);
			p += n;
			len -= n;
			continue;
		}
		size_t n = f->cap - f->len;

		if (n > len)
			n = len;
		memcpy(f->buf + f->len, p, n);
		f->len += n;
		p += n;
		len -= n;
		fr_process(f, fn, arg);
	}
	return 0;
}
