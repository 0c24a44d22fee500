/*
 * Who a From, To or P-Asserted-Identity header names (sdp.h,
 * sip_identity_parse): RFC 3261 §20.10 / §25.1 name-addr and addr-spec,
 * RFC 3325 §9.1. Pure: a slice in, two caller buffers out.
 *
 * The identity is the URI reduced to what names a party: scheme, user and
 * host[:port]. Its password, URI parameters (;transport=, ;user=phone)
 * and headers are dropped, the scheme and host are lower-cased (RFC 3261
 * §19.1.4: both compare case-insensitively; the user does not). The same
 * party therefore gives the same string whichever message carried it,
 * which is what a pin keyed by identity needs.
 *
 * The display name is the quoted-string unquoted (quoted-pairs undone) or
 * the run of tokens, with runs of white space (folded lines included)
 * made one space. A name longer than the buffer is cut at a UTF-8
 * character boundary. Control characters are refused later, by whoever
 * stores or shows the name.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "sdp/sdp.h"

static bool ident_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char ident_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Append name bytes, collapsing white space; false when full. */
struct ident_out {
	char *p;
	size_t cap, len;
	bool full, pending_space;
};

static void name_put(struct ident_out *o, char c)
{
	if (ident_ws(c)) {
		o->pending_space = o->len > 0;
		return;
	}
	if (o->full)
		return;
	if (o->pending_space) {
		if (o->len + 1 >= o->cap) {
			o->full = true;
			return;
		}
		o->p[o->len++] = ' ';
		o->pending_space = false;
	}
	if (o->len + 1 >= o->cap) {
		o->full = true;
		return;
	}
	o->p[o->len++] = c;
}

/* Cut a name that was truncated back to the last whole UTF-8 character. */
static void name_finish(struct ident_out *o)
{
	if (o->full && o->len > 0) {
		size_t i = o->len;
		/* Back to the lead byte of the last sequence. */
		while (i > 0 && ((unsigned char)o->p[i - 1] & 0xc0) == 0x80)
			i--;
		if (i > 0 && ((unsigned char)o->p[i - 1] & 0x80)) {
			unsigned char lead = (unsigned char)o->p[i - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
			if (o->len - (i - 1) < need)
				o->len = i - 1;
		}
	}
	while (o->len > 0 && o->p[o->len - 1] == ' ')
		o->len--;
	o->p[o->len] = '\0';
}

/* A character allowed in the user part or host as we keep it: printable
 * ASCII other than the delimiters of the header around the URI. */
static bool uri_char_ok(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && c != '<' && c != '>' && c != '"';
}

/*
 * The URI in [p, end): normalised into uri. 0, -EINVAL, -ENOSPC.
 */
static int uri_normalise(const char *p, const char *end, char *uri,
			 size_t uri_cap)
{
	size_t n = (size_t)(end - p), k = 0, scheme;
	char tmp[512];
	const char *at = NULL, *host, *hend, *q;

	if (n >= 4 && strncasecmp(p, "sip:", 4) == 0)
		scheme = 4;
	else if (n >= 5 && strncasecmp(p, "sips:", 5) == 0)
		scheme = 5;
	else
		return -EINVAL;
	for (q = p; q < end; q++)
		if (!uri_char_ok(*q))
			return -EINVAL;
	/* The user part may hold ';' and '?' (user-unreserved), never an
	 * unescaped '@': the first '@' ends it. */
	at = memchr(p + scheme, '@', (size_t)(end - p - (ptrdiff_t)scheme));
	host = at ? at + 1 : p + scheme;
	if (host < end && *host == '[') {
		hend = memchr(host, ']', (size_t)(end - host));
		if (!hend)
			return -EINVAL;
		for (q = host + 1; q < hend; q++)
			if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
			      (*q >= 'A' && *q <= 'F') || *q == ':' || *q == '.'))
				return -EINVAL;
		if (hend == host + 1)
			return -EINVAL;
		hend++;
	} else {
		hend = host;
		while (hend < end && ((*hend >= '0' && *hend <= '9') ||
				      (*hend >= 'a' && *hend <= 'z') ||
				      (*hend >= 'A' && *hend <= 'Z') ||
				      *hend == '-' || *hend == '.'))
			hend++;
		if (hend == host)
			return -EINVAL;
	}
	/* An optional port, then nothing or parameters / headers. */
	const char *pend = hend;
	if (pend < end && *pend == ':') {
		unsigned long port = 0;
		pend++;
		const char *d = pend;
		while (pend < end && *pend >= '0' && *pend <= '9' &&
		       pend - d < 6) {
			port = port * 10 + (unsigned long)(*pend - '0');
			pend++;
		}
		if (pend == d || port == 0 || port > 65535)
			return -EINVAL;
	}
	if (pend < end && *pend != ';' && *pend != '?')
		return -EINVAL;

	for (size_t i = 0; i < scheme; i++)
		tmp[k++] = ident_lower(p[i]);
	if (at) {
		/* user[:password]: the password goes. */
		const char *u = p + scheme, *uend = at;
		const char *colon = memchr(u, ':', (size_t)(uend - u));
		if (colon)
			uend = colon;
		if (uend == u)
			return -EINVAL;
		if ((size_t)(uend - u) + 1 > sizeof tmp - k)
			return -ENOSPC;
		memcpy(tmp + k, u, (size_t)(uend - u));
		k += (size_t)(uend - u);
		tmp[k++] = '@';
	}
	if ((size_t)(pend - host) + 1 > sizeof tmp - k)
		return -ENOSPC;
	for (q = host; q < pend; q++)
		tmp[k++] = ident_lower(*q);
	if (k + 1 > uri_cap)
		return -ENOSPC;
	memcpy(uri, tmp, k);
	uri[k] = '\0';
	return 0;
}

static int identity_parse(struct sip_slice value, char *uri, size_t uri_cap,
			  char *name, size_t name_cap)
{
	const char *p = value.p, *end = value.p + value.len;
	struct ident_out o = { .p = name, .cap = name_cap };
	int r;

	if (!p || !uri || uri_cap == 0 || !name || name_cap == 0)
		return -EINVAL;
	uri[0] = '\0';
	name[0] = '\0';
	while (p < end && ident_ws(*p))
		p++;
	if (p < end && *p == '"') {
		/* quoted-string, RFC 3261 §25.1: a backslash quotes the next
		 * character (not CR or LF). */
		p++;
		for (;;) {
			if (p >= end)
				return -EINVAL;
			if (*p == '"')
				break;
			if (*p == '\\') {
				if (p + 1 >= end || p[1] == '\r' || p[1] == '\n')
					return -EINVAL;
				p++;
			}
			name_put(&o, *p);
			p++;
		}
		p++;
		while (p < end && ident_ws(*p))
			p++;
		if (p >= end || *p != '<')
			return -EINVAL;
	} else {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		if (lt) {
			/* *(token LWS): tokens hold no quote or angle bracket. */
			for (const char *q = p; q < lt; q++) {
				if (*q == '"' || *q == '>' || *q == ';' ||
				    *q == ',' || ((unsigned char)*q < 0x20 &&
						  !ident_ws(*q)))
					return -EINVAL;
				name_put(&o, *q);
			}
			p = lt;
		}
	}
	const char *ustart, *uend;
	if (p < end && *p == '<') {
		ustart = p + 1;
		uend = memchr(ustart, '>', (size_t)(end - ustart));
		if (!uend)
			return -EINVAL;
	} else {
		/* addr-spec: the URI can hold no ';', ',' or '?', §20.10 —
		 * what follows ';' are the header's parameters (tag). */
		ustart = p;
		uend = p;
		while (uend < end && *uend != ';' && *uend != ',' &&
		       *uend != '?' && !ident_ws(*uend))
			uend++;
	}
	r = uri_normalise(ustart, uend, uri, uri_cap);
	if (r < 0)
		return r;
	name_finish(&o);
	return 0;
}

int sip_identity_parse(struct sip_slice value, char *uri, size_t uri_cap,
		       char *name, size_t name_cap)
{
	int r = identity_parse(value, uri, uri_cap, name, name_cap);

	if (r < 0 && uri && uri_cap && name && name_cap) {
		uri[0] = '\0';
		name[0] = '\0';
	}
	return r;
}
