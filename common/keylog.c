/*
 * The SRTP key log (format in keylog.h). Parsing is strict about what it
 * knows (lengths, hex, duplicates) and lenient about what it does not
 * (unknown keys and labels), so a newer shim's log still loads.
 */
#include "config.h"

#include "common/keylog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Exactly 2*n hex digits into out (libsodium's codec, constant time). */
static int hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (len != 2 * n ||
	    sodium_hex2bin(out, n, s, len, NULL, &got, NULL) != 0 || got != n)
		return -EINVAL;
	return 0;
}

static int parse_port(const char *s, size_t len, uint16_t *port, bool *any)
{
	if (len == 1 && s[0] == '*') {
		*any = true;
		*port = 0;
		return 0;
	}
	if (len == 0 || len > 5)
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*any = false;
	*port = (uint16_t)v;
	return 0;
}

int keylog_addr_parse(const char *s, size_t len, struct keylog_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 1 && s[0] == '*') {
		out->any_ip = out->any_port = true;
		return 0;
	}
	const char *host, *colon;
	size_t host_len;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL || close + 1 >= s + len || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
		out->family = 6;
	} else {
		colon = NULL;
		for (size_t k = len; k > 0; k--) {
			if (s[k - 1] == ':') {
				colon = s + k - 1;
				break;
			}
		}
		if (colon == NULL)
			return -EINVAL;
		host = s;
		host_len = (size_t)(colon - s);
		out->family = 4;
	}
	if (parse_port(colon + 1, (size_t)(s + len - colon - 1), &out->port,
		       &out->any_port) < 0)
		return -EINVAL;
	if (host_len == 1 && host[0] == '*') {
		out->any_ip = true;
		out->family = 0;
		return 0;
	}
	char tmp[INET6_ADDRSTRLEN];
	if (host_len == 0 || host_len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, host, host_len);
	tmp[host_len] = '\0';
	if (inet_pton(out->family == 6 ? AF_INET6 : AF_INET, tmp, out->ip) != 1)
		return -EINVAL;
	static const uint8_t zero[16];
	if (memcmp(out->ip, zero, out->family == 6 ? 16 : 4) == 0) {
		out->any_ip = true;    /* bound to the wildcard address */
		out->family = 0;
	}
	return 0;
}

/* Append helpers for the I/O-free formatter. */
struct out {
	char *p;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->len + n >= o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* n <= KEYLOG_MAX_KEY_LEN bytes as lower-case hex. */
static void put_hex(struct out *o, const uint8_t *b, size_t n)
{
	char h[2 * KEYLOG_MAX_KEY_LEN + 1];

	if (n > KEYLOG_MAX_KEY_LEN) {
		o->full = true;
		return;
	}
	sodium_bin2hex(h, sizeof h, b, n);
	put(o, h, 2 * n);
	sodium_memzero(h, sizeof h);
}

static void put_uint(struct out *o, unsigned v)
{
	char d[12];
	size_t i = sizeof(d);
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, d + i, sizeof(d) - i);
}

static void put_addr(struct out *o, const struct keylog_addr *a)
{
	if (a->any_ip && a->any_port) {
		put(o, "*", 1);
		return;
	}
	if (a->any_ip) {
		put(o, "*", 1);
	} else {
		char ip[INET6_ADDRSTRLEN];
		if (inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->ip, ip,
			      sizeof(ip)) == NULL) {
			o->full = true;
			return;
		}
		if (a->family == 6)
			put(o, "[", 1);
		puts_(o, ip);
		if (a->family == 6)
			put(o, "]", 1);
	}
	put(o, ":", 1);
	if (a->any_port)
		put(o, "*", 1);
	else
		put_uint(o, a->port);
}

int keylog_addr_format(char *buf, size_t cap, const struct keylog_addr *a)
{
	if (cap == 0)
		return -ENOSPC;
	struct out o = { buf, cap, 0, false };
	buf[0] = '\0';
	put_addr(&o, a);
	return o.full ? -ENOSPC : (int)o.len;
}

int keylog_format(char *buf, size_t cap, const struct keylog_entry *e)
{
	return keylog_format_named(buf, cap, e, NULL);
}

int keylog_format_named(char *buf, size_t cap, const struct keylog_entry *e,
			const char *stream)
{
	if (cap == 0)
		return -ENOSPC;
	if (suite_key_len(e->profile) == 0 ||
	    e->key_len != suite_key_len(e->profile))
		return -EINVAL;
	struct out o = { buf, cap, 0, false };
	buf[0] = '\0';
	uint8_t ssrc[4] = { (uint8_t)(e->ssrc >> 24), (uint8_t)(e->ssrc >> 16),
			    (uint8_t)(e->ssrc >> 8), (uint8_t)e->ssrc };
	puts_(&o, "SRTP ssrc=");
	if (e->any_ssrc)
		put(&o, "*", 1);
	else
		put_hex(&o, ssrc, 4);
	puts_(&o, " src=");
	put_addr(&o, &e->src);
	puts_(&o, " dst=");
	put_addr(&o, &e->dst);
	puts_(&o, " profile=");
	puts_(&o, suite_name(e->profile));
	puts_(&o, " key=");
	put_hex(&o, e->key, e->key_len);
	puts_(&o, " salt=");
	put_hex(&o, e->salt, KEYLOG_SALT_LEN);
	if (stream && stream[0] && strcspn(stream, " \t\r\n") == strlen(stream) &&
	    strlen(stream) < 200) {
		puts_(&o, " stream=");
		puts_(&o, stream);
	}
	puts_(&o, "\n");
	return o.full ? -ENOSPC : (int)o.len;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

#define FAIL(...)                                                              \
	do {                                                                   \
		if (why_len > 0)                                               \
			snprintf(why, why_len, __VA_ARGS__);                   \
		return -EINVAL;                                                \
	} while (0)

int keylog_parse_line(const char *line, size_t len, struct keylog_entry *out,
		      char *why, size_t why_len)
{
	size_t i = 0;
	while (i < len && is_blank(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	if (memchr(line, '\0', len) != NULL)
		FAIL("NUL byte in line");
	size_t ls = i;
	while (i < len && !is_blank(line[i]))
		i++;
	size_t label_len = i - ls;
	if (label_len != 4 || memcmp(line + ls, "SRTP", 4) != 0) {
		for (size_t k = ls; k < i; k++) {
			char c = line[k];
			if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '_'))
				FAIL("not a key log record (label \"%.*s\")",
				     (int)(label_len > 32 ? 32 : label_len),
				     line + ls);
		}
		return 0;
	}

	memset(out, 0, sizeof(*out));
	out->src.any_ip = out->src.any_port = true;
	out->dst.any_ip = out->dst.any_port = true;
	bool have_ssrc = false, have_profile = false, have_key = false,
	     have_salt = false, have_src = false, have_dst = false,
	     have_stream = false;
	const char *key_hex = NULL;
	size_t key_hex_len = 0;

	for (;;) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i == len)
			break;
		size_t fs = i;
		while (i < len && !is_blank(line[i]))
			i++;
		const char *f = line + fs;
		size_t flen = i - fs;
		const char *eq = memchr(f, '=', flen);
		if (eq == NULL)
			FAIL("field \"%.*s\" is not key=value",
			     (int)(flen > 32 ? 32 : flen), f);
		size_t klen = (size_t)(eq - f);
		const char *v = eq + 1;
		size_t vlen = flen - klen - 1;
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(f, s, klen) == 0)
#define ONCE(flag, s)                                                          \
	do {                                                                   \
		if (flag)                                                      \
			FAIL("field %s given twice", s);                       \
		flag = true;                                                   \
	} while (0)
		if (KEY("ssrc")) {
			ONCE(have_ssrc, "ssrc");
			if (vlen == 1 && v[0] == '*') {
				out->any_ssrc = true;
				continue;
			}
			if (vlen > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
				v += 2;
				vlen -= 2;
			}
			if (vlen == 0 || vlen > 8)
				FAIL("ssrc must be 1-8 hex digits");
			/* left-padded to 8 digits for the byte codec */
			char pad[8];
			uint8_t b[4];
			memset(pad, '0', sizeof pad);
			memcpy(pad + 8 - vlen, v, vlen);
			if (hex_decode(pad, sizeof pad, b, sizeof b) < 0)
				FAIL("ssrc must be 1-8 hex digits");
			out->ssrc = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
				    (uint32_t)b[2] << 8 | b[3];
		} else if (KEY("src") || KEY("dst")) {
			bool is_src = KEY("src");
			if (is_src)
				ONCE(have_src, "src");
			else
				ONCE(have_dst, "dst");
			if (keylog_addr_parse(v, vlen, is_src ? &out->src : &out->dst) < 0)
				FAIL("bad %s address \"%.*s\" (want IP:port, [IPv6]:port, *:port or *)",
				     is_src ? "src" : "dst",
				     (int)(vlen > 64 ? 64 : vlen), v);
		} else if (KEY("profile")) {
			ONCE(have_profile, "profile");
			if (suite_from_name(v, vlen, &out->profile) < 0)
				FAIL("unknown profile \"%.*s\"",
				     (int)(vlen > 40 ? 40 : vlen), v);
		} else if (KEY("key")) {
			ONCE(have_key, "key");
			key_hex = v;
			key_hex_len = vlen;
		} else if (KEY("salt")) {
			ONCE(have_salt, "salt");
			if (hex_decode(v, vlen, out->salt, KEYLOG_SALT_LEN) < 0)
				FAIL("salt must be %d hex digits",
				     2 * KEYLOG_SALT_LEN);
		} else if (KEY("stream")) {
			ONCE(have_stream, "stream");
			if (vlen == 0 || vlen >= sizeof(out->stream))
				FAIL("stream name must be 1-%zu bytes",
				     sizeof(out->stream) - 1);
			memcpy(out->stream, v, vlen);
			out->stream[vlen] = '\0';
		}
		/* any other key: ignored, for forward compatibility */
#undef KEY
#undef ONCE
	}
	if (!have_ssrc)
		FAIL("missing ssrc=");
	if (!have_profile)
		FAIL("missing profile=");
	if (!have_key)
		FAIL("missing key=");
	if (!have_salt)
		FAIL("missing salt=");
	size_t want = suite_key_len(out->profile);
	out->key_len = want;
	if (hex_decode(key_hex, key_hex_len, out->key, want) < 0) {
		explicit_bzero(out, sizeof(*out));
		FAIL("key must be %zu hex digits for this profile", 2 * want);
	}
	return 1;
}

int keylog_parse_buf(struct keylog *kl, const char *buf, size_t len,
		     char *why, size_t why_len)
{
	unsigned lineno = 0;
	size_t pos = 0;
	char reason[160];
	while (pos < len) {
		lineno++;
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;
		size_t ll = end - pos;
		if (ll > KEYLOG_LINE_MAX) {
			if (why_len > 0)
				snprintf(why, why_len, "line %u: longer than %d bytes",
					 lineno, KEYLOG_LINE_MAX);
			return -EINVAL;
		}
		struct keylog_entry e;
		int r = keylog_parse_line(buf + pos, ll, &e, reason, sizeof(reason));
		if (r < 0) {
			if (why_len > 0)
				snprintf(why, why_len, "line %u: %s", lineno, reason);
			return r;
		}
		if (r == 0) {
			/* count unknown labels, not blanks and comments */
			size_t k = pos;
			while (k < end && is_blank(buf[k]))
				k++;
			if (k < end && buf[k] != '#')
				kl->ignored++;
		} else {
			if (kl->n == kl->cap) {
				size_t nc = kl->cap ? 2 * kl->cap : 16;
				struct keylog_entry *ne = calloc(nc, sizeof(*ne));
				if (ne == NULL) {
					explicit_bzero(&e, sizeof(e));
					if (why_len > 0)
						snprintf(why, why_len, "out of memory");
					return -ENOMEM;
				}
				if (kl->n > 0) {
					memcpy(ne, kl->entries, kl->n * sizeof(*ne));
					explicit_bzero(kl->entries, kl->n * sizeof(*ne));
				}
				free(kl->entries);
				kl->entries = ne;
				kl->cap = nc;
			}
			e.line = lineno;
			kl->entries[kl->n++] = e;
			explicit_bzero(&e, sizeof(e));
		}
		pos = nl ? end + 1 : len;
	}
	return 0;
}

int keylog_load(struct keylog *kl, const char *path, char *why, size_t why_len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		if (why_len > 0)
			snprintf(why, why_len, "%s: %s", path, strerror(e));
		return -e;
	}
	size_t cap = 0, len = 0;
	char *buf = NULL;
	for (;;) {
		if (len == cap) {
			if (cap >= (64u << 20)) {
				free(buf);
				fclose(f);
				if (why_len > 0)
					snprintf(why, why_len, "%s: larger than 64 MiB", path);
				return -EFBIG;
			}
			size_t nc = cap ? 2 * cap : 4096;
			char *nb = malloc(nc);
			if (nb == NULL) {
				if (buf)
					explicit_bzero(buf, len);
				free(buf);
				fclose(f);
				if (why_len > 0)
					snprintf(why, why_len, "out of memory");
				return -ENOMEM;
			}
			if (len > 0)
				memcpy(nb, buf, len);
			if (buf)
				explicit_bzero(buf, len);
			free(buf);
			buf = nb;
			cap = nc;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	int r;
	char reason[200];
	if (err != 0) {
		r = -err;
		snprintf(reason, sizeof(reason), "read error: %s", strerror(err));
	} else {
		r = keylog_parse_buf(kl, buf, len, reason, sizeof(reason));
	}
	if (r < 0 && why_len > 0)
		snprintf(why, why_len, "%s: %s", path, reason);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

void keylog_free(struct keylog *kl)
{
	if (kl->entries != NULL)
		explicit_bzero(kl->entries, kl->cap * sizeof(*kl->entries));
	free(kl->entries);
	memset(kl, 0, sizeof(*kl));
}

static int addr_match(const struct keylog_addr *rec,
		      const struct keylog_addr *pkt)
{
	int score = 0;
	if (!rec->any_ip) {
		if (pkt == NULL || pkt->any_ip || rec->family != pkt->family ||
		    memcmp(rec->ip, pkt->ip, rec->family == 6 ? 16 : 4) != 0)
			return -1;
		score++;
	}
	if (!rec->any_port) {
		if (pkt == NULL || pkt->any_port || rec->port != pkt->port)
			return -1;
		score++;
	}
	return score;
}

int keylog_entry_match(const struct keylog_entry *e, uint32_t ssrc,
		       const struct keylog_addr *src,
		       const struct keylog_addr *dst)
{
	if (!e->any_ssrc && e->ssrc != ssrc)
		return -1;
	int a = addr_match(&e->src, src), b = addr_match(&e->dst, dst);
	if (a < 0 || b < 0)
		return -1;
	return a + b + (e->any_ssrc ? 0 : 2);
}
