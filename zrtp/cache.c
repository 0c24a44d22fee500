/*
 * The retained-secret cache: an in-memory table kept sorted by peer ZID
 * (binary search for lookups; the file is written in the same order), and
 * its file format.
 *
 * File format, version 2. All integers big-endian.
 *
 *   offset  size  field
 *        0     8  magic "ZSHCACHE"
 *        8     4  format version (2)
 *       12    12  our own ZID
 *       24     4  record count n
 *       28     4  pin count p
 *       32 280*n  records, strictly ascending by ZID (memcmp order):
 *                   +0  12  peer ZID
 *                  +12   4  flags: bit 0 has_rs1, bit 1 has_rs2,
 *                           bit 2 verified; other bits must be zero
 *                  +16  32  rs1 (all zero unless has_rs1)
 *                  +48  32  rs2 (all zero unless has_rs2)
 *                  +80   8  expiry, seconds since the epoch;
 *                           0xffffffffffffffff = never
 *                  +88 128  SIP identity, NUL-padded ("" = unknown)
 *                 +216  64  display name, NUL-padded ("" = unknown)
 *          140*p  pins, strictly ascending by identity (strcmp order):
 *                   +0 128  SIP identity, NUL-padded, not empty
 *                 +128  12  the ZID it is pinned to (a record's)
 *            32   SHA-256 of every byte before it
 *
 * Version 1 (still loaded, never written): a 28-byte header without the
 * pin count, 88-byte records (the first 88 bytes above), no pins; its
 * peers load with no names.
 *
 * The file is canonical: one byte string per table, so load can refuse
 * anything save would not have written (duplicate or unsorted ZIDs,
 * unknown flags, secret bytes behind a clear flag, trailing bytes). The
 * checksum detects corruption, not tampering: whoever can write the file
 * can recompute it. Protection against other users is the 0600 mode.
 *
 * Load reads at most CACHE_FILE_MAX bytes, checks the whole image before
 * building anything, and hands back either a complete table or nothing.
 * Every buffer that held rs1/rs2 is wiped before it is freed: the read and
 * write images, entries that are overwritten or removed, the array when it
 * grows (no realloc: it would free the old copy unwiped) and on free.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include "zrtp/cache.h"
#include "zrtp/zrtp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define CACHE_MAGIC        "ZSHCACHE"
#define CACHE_MAGIC_LEN    8
#define CACHE_VERSION      2u
#define CACHE_HDR_LEN      32
#define CACHE_REC_LEN      280
#define CACHE_PIN_LEN      140
#define CACHE_V1_HDR_LEN   28
#define CACHE_V1_REC_LEN   88
#define CACHE_ID_LEN       (ZRTP_CACHE_ID_MAX + 1)
#define CACHE_NAME_LEN     (ZRTP_CACHE_NAME_MAX + 1)
#define CACHE_SUM_LEN      crypto_hash_sha256_BYTES
#define CACHE_FILE_MAX     (16u * 1024 * 1024)

#define CACHE_F_RS1        0x1u
#define CACHE_F_RS2        0x2u
#define CACHE_F_VERIFIED   0x4u
#define CACHE_F_ALL        (CACHE_F_RS1 | CACHE_F_RS2 | CACHE_F_VERIFIED)

/* Most records (or pins) a file within CACHE_FILE_MAX can hold. */
#define CACHE_MAX_RECORDS \
	((CACHE_FILE_MAX - CACHE_HDR_LEN - CACHE_SUM_LEN) / CACHE_REC_LEN)
#define CACHE_MAX_PINS \
	((CACHE_FILE_MAX - CACHE_HDR_LEN - CACHE_SUM_LEN) / CACHE_PIN_LEN)
#define CACHE_V1_MAX_RECORDS \
	((CACHE_FILE_MAX - CACHE_V1_HDR_LEN - CACHE_SUM_LEN) / CACHE_V1_REC_LEN)

struct zrtp_cache {
	uint8_t own_zid[12];
	struct zrtp_cache_entry *e;   /* sorted by zid, no duplicates */
	size_t n, cap;
	struct zrtp_cache_pin *pin;   /* sorted by sip_id, no duplicates */
	size_t npin, pincap;
};

static const uint8_t zero32[32];

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void set_why(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* Index of zid if present (*found = true), else where it would go. */
static size_t cache_find(const struct zrtp_cache *c, const uint8_t zid[12],
			 bool *found)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(c->e[mid].zid, zid, 12);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Grow to hold at least want entries; the old array is wiped, not realloc'd. */
static int cache_reserve(struct zrtp_cache *c, size_t want)
{
	struct zrtp_cache_entry *ne;
	size_t ncap;

	if (want <= c->cap)
		return 0;
	ncap = c->cap ? c->cap : 8;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / sizeof(*ne))
			return -ENOMEM;
		ncap *= 2;
	}
	ne = calloc(ncap, sizeof(*ne));
	if (ne == NULL)
		return -ENOMEM;
	if (c->e != NULL) {
		memcpy(ne, c->e, c->n * sizeof(*ne));
		sodium_memzero(c->e, c->cap * sizeof(*ne));
		free(c->e);
	}
	c->e = ne;
	c->cap = ncap;
	return 0;
}

/* The stored form: absent secrets are all zero, so the file is canonical. */
static void entry_normalise(struct zrtp_cache_entry *dst,
			    const struct zrtp_cache_entry *src)
{
	memcpy(dst->zid, src->zid, 12);
	dst->has_rs1 = src->has_rs1;
	dst->has_rs2 = src->has_rs2;
	dst->verified = src->verified;
	dst->expiry = src->expiry;
	if (src->has_rs1)
		memcpy(dst->rs1, src->rs1, 32);
	else
		sodium_memzero(dst->rs1, 32);
	if (src->has_rs2)
		memcpy(dst->rs2, src->rs2, 32);
	else
		sodium_memzero(dst->rs2, 32);
	/* NUL-padded, so the file image is canonical. */
	memset(dst->sip_id, 0, sizeof dst->sip_id);
	memset(dst->name, 0, sizeof dst->name);
	if (zrtp_cache_id_valid(src->sip_id))
		memcpy(dst->sip_id, src->sip_id, strlen(src->sip_id));
	if (zrtp_cache_name_valid(src->name))
		memcpy(dst->name, src->name, strlen(src->name));
	/* In memory only (cache.h). */
	dst->rs1_gen = src->has_rs1 ? src->rs1_gen : 0;
	dst->rs2_gen = src->has_rs2 ? src->rs2_gen : 0;
	memcpy(dst->recent, src->recent, sizeof dst->recent);
	memcpy(dst->recent_at, src->recent_at, sizeof dst->recent_at);
	dst->first_at = src->first_at;
}

/* --- names ----------------------------------------------------------------- */

/* The bounded strlen of a field that may lack its NUL. */
static size_t field_len(const char *s, size_t max)
{
	const char *z = memchr(s, '\0', max + 1);

	return z ? (size_t)(z - s) : max + 1;
}

bool zrtp_cache_id_valid(const char *id)
{
	size_t len, i, scheme;

	if (id == NULL)
		return false;
	len = field_len(id, ZRTP_CACHE_ID_MAX);
	if (len > ZRTP_CACHE_ID_MAX)
		return false;
	if (strncmp(id, "sip:", 4) == 0)
		scheme = 4;
	else if (strncmp(id, "sips:", 5) == 0)
		scheme = 5;
	else
		return false;
	if (len == scheme)
		return false;
	for (i = scheme; i < len; i++)
		if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return false;
	return true;
}

/* One UTF-8 sequence at p (n bytes left): its code point, or -1. */
static long utf8_next(const unsigned char *p, size_t n, size_t *used)
{
	unsigned long cp;
	size_t k, need;

	if (p[0] < 0x80) {
		*used = 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		cp = p[0] & 0x07;
	} else {
		return -1;
	}
	if (n < need)
		return -1;
	for (k = 1; k < need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*used = need;
	return (long)cp;
}

bool zrtp_cache_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len, i = 0;

	if (name == NULL)
		return false;
	len = field_len(name, ZRTP_CACHE_NAME_MAX);
	if (len == 0 || len > ZRTP_CACHE_NAME_MAX)
		return false;
	while (i < len) {
		size_t used = 0;
		long cp = utf8_next(p + i, len - i, &used);

		/* Controls (C0, DEL, C1) could move a terminal's cursor or
		 * forge a line of the log. */
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    cp == 0x2028 || cp == 0x2029 ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return false;
		i += used;
	}
	return true;
}

struct zrtp_cache *zrtp_cache_new(const uint8_t zid[12])
{
	struct zrtp_cache *c;

	if (zid == NULL) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	memcpy(c->own_zid, zid, 12);
	return c;
}

void zrtp_cache_free(struct zrtp_cache *c)
{
	if (c == NULL)
		return;
	if (c->e != NULL) {
		sodium_memzero(c->e, c->cap * sizeof(*c->e));
		free(c->e);
	}
	free(c->pin);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

void zrtp_cache_own_zid(const struct zrtp_cache *c, uint8_t zid[12])
{
	if (zid == NULL)
		return;
	if (c == NULL)
		memset(zid, 0, 12);
	else
		memcpy(zid, c->own_zid, 12);
}

int zrtp_cache_get(const struct zrtp_cache *c, const uint8_t zid[12],
		   uint64_t now, struct zrtp_cache_entry *out)
{
	const struct zrtp_cache_entry *e;
	bool found;
	size_t i;

	if (c == NULL || zid == NULL || out == NULL)
		return -EINVAL;
	i = cache_find(c, zid, &found);
	if (!found)
		return -ENOENT;
	e = &c->e[i];
	*out = *e;
	/* RFC 6189 §4.9: an expired secret is no secret at all. */
	if (e->expiry != ZRTP_CACHE_NEVER && e->expiry <= now) {
		sodium_memzero(out->rs1, sizeof(out->rs1));
		sodium_memzero(out->rs2, sizeof(out->rs2));
		out->has_rs1 = out->has_rs2 = false;
		out->verified = false;
	}
	return 0;
}

int zrtp_cache_put(struct zrtp_cache *c, const struct zrtp_cache_entry *e)
{
	struct zrtp_cache_entry tmp;
	bool found;
	size_t i;
	int r;

	if (c == NULL || e == NULL)
		return -EINVAL;
	/* e may point into the table (zrtp_cache_at); work from a copy. */
	entry_normalise(&tmp, e);
	i = cache_find(c, tmp.zid, &found);
	if (!found) {
		r = cache_reserve(c, c->n + 1);
		if (r < 0) {
			sodium_memzero(&tmp, sizeof(tmp));
			return r;
		}
		memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof(*c->e));
		c->n++;
	}
	/* Overwrites the old secrets in place (or the slot just opened). */
	c->e[i] = tmp;
	sodium_memzero(&tmp, sizeof(tmp));
	return 0;
}

int zrtp_cache_remove(struct zrtp_cache *c, const uint8_t zid[12])
{
	bool found;
	size_t i;

	if (c == NULL || zid == NULL)
		return -EINVAL;
	i = cache_find(c, zid, &found);
	if (!found)
		return -ENOENT;
	memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof(*c->e));
	c->n--;
	/* The last slot still holds a copy of what was moved down. */
	sodium_memzero(&c->e[c->n], sizeof(*c->e));
	/* A pin names an entry: forgetting the peer unpins it. */
	for (i = c->npin; i-- > 0;)
		if (memcmp(c->pin[i].zid, zid, 12) == 0) {
			memmove(&c->pin[i], &c->pin[i + 1],
				(c->npin - i - 1) * sizeof(*c->pin));
			c->npin--;
		}
	return 0;
}

int zrtp_cache_set_names(struct zrtp_cache *c, const uint8_t zid[12],
			 const char *sip_id, const char *name)
{
	struct zrtp_cache_entry *e;
	bool found;
	size_t i;

	if (c == NULL || zid == NULL)
		return -EINVAL;
	if ((sip_id && sip_id[0] && !zrtp_cache_id_valid(sip_id)) ||
	    (name && name[0] && !zrtp_cache_name_valid(name)))
		return -EINVAL;
	i = cache_find(c, zid, &found);
	if (!found)
		return -ENOENT;
	e = &c->e[i];
	if (sip_id) {
		memset(e->sip_id, 0, sizeof e->sip_id);
		memcpy(e->sip_id, sip_id, strlen(sip_id));
	}
	if (name) {
		memset(e->name, 0, sizeof e->name);
		memcpy(e->name, name, strlen(name));
	}
	return 0;
}

/* --- pins ------------------------------------------------------------------ */

/* Index of sip_id if present (*found = true), else where it would go. */
static size_t pin_find(const struct zrtp_cache *c, const char *sip_id,
		       bool *found)
{
	size_t lo = 0, hi = c->npin;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->pin[mid].sip_id, sip_id);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int pin_reserve(struct zrtp_cache *c, size_t want)
{
	struct zrtp_cache_pin *np;
	size_t ncap;

	if (want <= c->pincap)
		return 0;
	ncap = c->pincap ? c->pincap : 8;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / sizeof(*np))
			return -ENOMEM;
		ncap *= 2;
	}
	np = realloc(c->pin, ncap * sizeof(*np));
	if (np == NULL)
		return -ENOMEM;
	c->pin = np;
	c->pincap = ncap;
	return 0;
}

int zrtp_cache_pin(struct zrtp_cache *c, const char *sip_id,
		   const uint8_t zid[12])
{
	struct zrtp_cache_pin p;
	bool found;
	size_t i;

	if (c == NULL || zid == NULL || !zrtp_cache_id_valid(sip_id))
		return -EINVAL;
	(void)cache_find(c, zid, &found);
	if (!found)
		return -ENOENT;
	memset(&p, 0, sizeof p);
	memcpy(p.sip_id, sip_id, strlen(sip_id));
	memcpy(p.zid, zid, 12);
	i = pin_find(c, p.sip_id, &found);
	if (!found) {
		if (c->npin >= CACHE_MAX_PINS || pin_reserve(c, c->npin + 1) < 0)
			return -ENOMEM;
		memmove(&c->pin[i + 1], &c->pin[i],
			(c->npin - i) * sizeof(*c->pin));
		c->npin++;
	}
	c->pin[i] = p;
	return 0;
}

int zrtp_cache_pin_find(const struct zrtp_cache *c, const char *sip_id,
			uint8_t zid[12])
{
	bool found;
	size_t i;

	if (c == NULL || sip_id == NULL || zid == NULL)
		return -EINVAL;
	i = pin_find(c, sip_id, &found);
	if (!found)
		return -ENOENT;
	memcpy(zid, c->pin[i].zid, 12);
	return 0;
}

int zrtp_cache_unpin(struct zrtp_cache *c, const char *sip_id)
{
	bool found;
	size_t i;

	if (c == NULL || sip_id == NULL)
		return -EINVAL;
	i = pin_find(c, sip_id, &found);
	if (!found)
		return -ENOENT;
	memmove(&c->pin[i], &c->pin[i + 1], (c->npin - i - 1) * sizeof(*c->pin));
	c->npin--;
	return 0;
}

size_t zrtp_cache_pin_count(const struct zrtp_cache *c)
{
	return c == NULL ? 0 : c->npin;
}

const struct zrtp_cache_pin *zrtp_cache_pin_at(const struct zrtp_cache *c,
					       size_t i)
{
	if (c == NULL || i >= c->npin)
		return NULL;
	return &c->pin[i];
}

size_t zrtp_cache_count(const struct zrtp_cache *c)
{
	return c == NULL ? 0 : c->n;
}

const struct zrtp_cache_entry *zrtp_cache_at(const struct zrtp_cache *c,
					     size_t i)
{
	if (c == NULL || i >= c->n)
		return NULL;
	return &c->e[i];
}

/* --- load ------------------------------------------------------------------ */

/* Read the whole regular file behind fd into a fresh buffer (*len bytes). */
static int read_file(int fd, uint8_t **buf, size_t *len, char *why,
		     size_t why_len)
{
	struct stat st;
	uint8_t *b;
	size_t want, got = 0;

	if (fstat(fd, &st) < 0) {
		int e = errno;

		set_why(why, why_len, "cannot stat: %s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		set_why(why, why_len, "not a regular file");
		return -EBADMSG;
	}
	if (st.st_size == 0) {
		set_why(why, why_len, "empty file");
		return -EBADMSG;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > CACHE_FILE_MAX) {
		set_why(why, why_len, "file too large (%jd bytes, limit %u)",
			(intmax_t)st.st_size, CACHE_FILE_MAX);
		return -EBADMSG;
	}
	want = (size_t)st.st_size;
	b = malloc(want);
	if (b == NULL) {
		set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	/* Never more than fstat promised; a file that shrank reads short. */
	while (got < want) {
		ssize_t r = read(fd, b + got, want - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			sodium_memzero(b, got);
			free(b);
			set_why(why, why_len, "read error: %s", strerror(e));
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* A NUL-padded string field of size bytes: valid (by ok, or empty when
 * empty_ok) and zero after its end. */
static bool field_ok(const uint8_t *f, size_t size, bool (*ok)(const char *),
		     bool empty_ok)
{
	const uint8_t *z = memchr(f, 0, size);

	if (z == NULL)
		return false;
	if (!sodium_is_zero(z, size - (size_t)(z - f)))
		return false;
	if (z == f)
		return empty_ok;
	return ok((const char *)f);
}

/* Check a whole file image and build the table from it; nothing partial. */
static int cache_parse(const uint8_t *b, size_t len, struct zrtp_cache **out,
		       char *why, size_t why_len)
{
	uint8_t sum[CACHE_SUM_LEN];
	struct zrtp_cache *c;
	uint32_t version, count, npin = 0;
	size_t hdr, rec, max;
	uint64_t need;
	size_t i;

	if (len < CACHE_MAGIC_LEN) {
		set_why(why, why_len, "truncated header (%zu bytes)", len);
		return -EBADMSG;
	}
	if (memcmp(b, CACHE_MAGIC, CACHE_MAGIC_LEN) != 0) {
		set_why(why, why_len, "bad magic: not a zrtpshim cache file");
		return -EBADMSG;
	}
	if (len < 12) {
		set_why(why, why_len, "truncated header (%zu bytes)", len);
		return -EBADMSG;
	}
	version = get_be32(b + 8);
	if (version == 1) {
		hdr = CACHE_V1_HDR_LEN;
		rec = CACHE_V1_REC_LEN;
		max = CACHE_V1_MAX_RECORDS;
	} else if (version == CACHE_VERSION) {
		hdr = CACHE_HDR_LEN;
		rec = CACHE_REC_LEN;
		max = CACHE_MAX_RECORDS;
	} else {
		set_why(why, why_len, "unsupported format version %" PRIu32
			" (expected 1 or %u)", version, CACHE_VERSION);
		return -EBADMSG;
	}
	if (len < hdr) {
		set_why(why, why_len, "truncated header (%zu bytes)", len);
		return -EBADMSG;
	}
	count = get_be32(b + 24);
	if (count > max) {
		set_why(why, why_len, "record count %" PRIu32
			" exceeds the limit of %zu", count, max);
		return -EBADMSG;
	}
	if (version == CACHE_VERSION) {
		npin = get_be32(b + 28);
		if (npin > CACHE_MAX_PINS) {
			set_why(why, why_len, "pin count %" PRIu32
				" exceeds the limit of %zu", npin,
				(size_t)CACHE_MAX_PINS);
			return -EBADMSG;
		}
	}
	need = hdr + (uint64_t)count * rec + (uint64_t)npin * CACHE_PIN_LEN +
	       CACHE_SUM_LEN;
	if (len < need) {
		size_t body = len - hdr;

		if (body < (uint64_t)count * rec)
			set_why(why, why_len, "truncated record %zu of %" PRIu32,
				body / rec + 1, count);
		else if (body - (uint64_t)count * rec <
			 (uint64_t)npin * CACHE_PIN_LEN)
			set_why(why, why_len, "truncated pin %zu of %" PRIu32,
				(size_t)((body - count * rec) / CACHE_PIN_LEN + 1),
				npin);
		else
			set_why(why, why_len, "truncated checksum");
		return -EBADMSG;
	}
	if (len > need) {
		set_why(why, why_len, "%zu bytes of trailing data",
			(size_t)(len - need));
		return -EBADMSG;
	}
	crypto_hash_sha256(sum, b, (size_t)need - CACHE_SUM_LEN);
	if (sodium_memcmp(sum, b + need - CACHE_SUM_LEN, CACHE_SUM_LEN) != 0) {
		set_why(why, why_len, "bad checksum");
		return -EBADMSG;
	}

	for (i = 0; i < count; i++) {
		const uint8_t *r = b + hdr + i * rec;
		uint32_t flags = get_be32(r + 12);

		if (flags & ~CACHE_F_ALL) {
			set_why(why, why_len, "record %zu: unknown flags 0x%"
				PRIx32, i + 1, flags);
			return -EBADMSG;
		}
		if (!(flags & CACHE_F_RS1) && !sodium_is_zero(r + 16, 32)) {
			set_why(why, why_len, "record %zu: rs1 bytes without "
				"the rs1 flag", i + 1);
			return -EBADMSG;
		}
		if (!(flags & CACHE_F_RS2) && !sodium_is_zero(r + 48, 32)) {
			set_why(why, why_len, "record %zu: rs2 bytes without "
				"the rs2 flag", i + 1);
			return -EBADMSG;
		}
		if (i > 0) {
			int cmp = memcmp(r - rec, r, 12);

			if (cmp == 0) {
				set_why(why, why_len, "record %zu: duplicate "
					"ZID", i + 1);
				return -EBADMSG;
			}
			if (cmp > 0) {
				set_why(why, why_len, "record %zu: ZIDs not in "
					"ascending order", i + 1);
				return -EBADMSG;
			}
		}
		if (version == CACHE_VERSION &&
		    !field_ok(r + 88, CACHE_ID_LEN, zrtp_cache_id_valid, true)) {
			set_why(why, why_len, "record %zu: bad SIP identity",
				i + 1);
			return -EBADMSG;
		}
		if (version == CACHE_VERSION &&
		    !field_ok(r + 88 + CACHE_ID_LEN, CACHE_NAME_LEN,
			      zrtp_cache_name_valid, true)) {
			set_why(why, why_len, "record %zu: bad display name",
				i + 1);
			return -EBADMSG;
		}
	}
	for (i = 0; i < npin; i++) {
		const uint8_t *pp = b + hdr + count * rec + i * CACHE_PIN_LEN;
		size_t lo = 0, hi = count;
		bool known = false;

		if (!field_ok(pp, CACHE_ID_LEN, zrtp_cache_id_valid, false)) {
			set_why(why, why_len, "pin %zu: bad SIP identity", i + 1);
			return -EBADMSG;
		}
		if (i > 0 && strcmp((const char *)pp - CACHE_PIN_LEN,
				    (const char *)pp) >= 0) {
			set_why(why, why_len, "pin %zu: identities not in "
				"ascending order", i + 1);
			return -EBADMSG;
		}
		while (lo < hi && !known) {
			size_t mid = lo + (hi - lo) / 2;
			int cmp = memcmp(b + hdr + mid * rec, pp + CACHE_ID_LEN,
					 12);

			if (cmp == 0)
				known = true;
			else if (cmp < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!known) {
			set_why(why, why_len, "pin %zu: its ZID has no record",
				i + 1);
			return -EBADMSG;
		}
	}

	c = zrtp_cache_new(b + 12);
	if (c == NULL || cache_reserve(c, count) < 0 ||
	    pin_reserve(c, npin) < 0) {
		zrtp_cache_free(c);
		set_why(why, why_len, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < count; i++) {
		const uint8_t *r = b + hdr + i * rec;
		struct zrtp_cache_entry *e = &c->e[i];
		uint32_t flags = get_be32(r + 12);

		memcpy(e->zid, r, 12);
		e->has_rs1 = (flags & CACHE_F_RS1) != 0;
		e->has_rs2 = (flags & CACHE_F_RS2) != 0;
		e->verified = (flags & CACHE_F_VERIFIED) != 0;
		memcpy(e->rs1, r + 16, 32);
		memcpy(e->rs2, r + 48, 32);
		/* Generations are not in the file: rs1 newer than rs2. */
		e->rs1_gen = e->has_rs1 ? 1 : 0;
		e->rs2_gen = 0;
		e->expiry = get_be64(r + 80);
		if (version == CACHE_VERSION) {
			memcpy(e->sip_id, r + 88, CACHE_ID_LEN);
			memcpy(e->name, r + 88 + CACHE_ID_LEN, CACHE_NAME_LEN);
		}
	}
	c->n = count;
	for (i = 0; i < npin; i++) {
		const uint8_t *pp = b + hdr + count * rec + i * CACHE_PIN_LEN;

		memcpy(c->pin[i].sip_id, pp, CACHE_ID_LEN);
		memcpy(c->pin[i].zid, pp + CACHE_ID_LEN, 12);
	}
	c->npin = npin;
	*out = c;
	return 0;
}

int zrtp_cache_load(const char *path, struct zrtp_cache **out, char *why,
		    size_t why_len)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, r;

	set_why(why, why_len, "%s", "");
	if (path == NULL || out == NULL) {
		set_why(why, why_len, "invalid argument");
		return -EINVAL;
	}
	if (sodium_init() < 0) {
		set_why(why, why_len, "libsodium failed to initialise");
		return -EIO;
	}
	/* O_NONBLOCK: a FIFO at the path must not hang us before fstat. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		set_why(why, why_len, "cannot open: %s", strerror(e));
		return -e;
	}
	r = read_file(fd, &buf, &len, why, why_len);
	close(fd);
	if (r < 0)
		return r;
	r = cache_parse(buf, len, out, why, why_len);
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

/* --- save ------------------------------------------------------------------ */

static int write_all(int fd, const uint8_t *b, size_t len)
{
	while (len > 0) {
		ssize_t r = write(fd, b, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		b += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Make the rename durable. File systems that cannot sync a directory say so
 * with EINVAL; that is not a failure of the save. */
static int sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, r = 0;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

static uint8_t *cache_serialise(const struct zrtp_cache *c, size_t *len)
{
	size_t n = c->n, np = c->npin, total;
	uint8_t *b;
	size_t i;

	if (n > CACHE_MAX_RECORDS || np > CACHE_MAX_PINS)
		return NULL;
	total = CACHE_HDR_LEN + n * CACHE_REC_LEN + np * CACHE_PIN_LEN +
		CACHE_SUM_LEN;
	if (total > CACHE_FILE_MAX)
		return NULL;
	b = calloc(1, total);
	if (b == NULL)
		return NULL;
	memcpy(b, CACHE_MAGIC, CACHE_MAGIC_LEN);
	put_be32(b + 8, CACHE_VERSION);
	memcpy(b + 12, c->own_zid, 12);
	put_be32(b + 24, (uint32_t)n);
	put_be32(b + 28, (uint32_t)np);
	for (i = 0; i < n; i++) {
		const struct zrtp_cache_entry *e = &c->e[i];
		uint8_t *r = b + CACHE_HDR_LEN + i * CACHE_REC_LEN;
		uint32_t flags = (e->has_rs1 ? CACHE_F_RS1 : 0) |
				 (e->has_rs2 ? CACHE_F_RS2 : 0) |
				 (e->verified ? CACHE_F_VERIFIED : 0);

		memcpy(r, e->zid, 12);
		put_be32(r + 12, flags);
		memcpy(r + 16, e->has_rs1 ? e->rs1 : zero32, 32);
		memcpy(r + 48, e->has_rs2 ? e->rs2 : zero32, 32);
		put_be64(r + 80, e->expiry);
		/* Stored padded (entry_normalise): copy the whole field. */
		memcpy(r + 88, e->sip_id, CACHE_ID_LEN);
		memcpy(r + 88 + CACHE_ID_LEN, e->name, CACHE_NAME_LEN);
	}
	for (i = 0; i < np; i++) {
		uint8_t *pp = b + CACHE_HDR_LEN + n * CACHE_REC_LEN +
			      i * CACHE_PIN_LEN;

		memcpy(pp, c->pin[i].sip_id, CACHE_ID_LEN);
		memcpy(pp + CACHE_ID_LEN, c->pin[i].zid, 12);
	}
	crypto_hash_sha256(b + total - CACHE_SUM_LEN, b, total - CACHE_SUM_LEN);
	*len = total;
	return b;
}

uint8_t *zrtp_cache_image(const struct zrtp_cache *c, size_t *len, int *err)
{
	uint8_t *img;
	*len = 0;
	*err = 0;
	if (c == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	if (c->n > CACHE_MAX_RECORDS || c->npin > CACHE_MAX_PINS ||
	    CACHE_HDR_LEN + c->n * CACHE_REC_LEN + c->npin * CACHE_PIN_LEN +
	    CACHE_SUM_LEN > CACHE_FILE_MAX) {
		*err = -EFBIG;
		return NULL;
	}
	if (sodium_init() < 0) {
		*err = -EIO;
		return NULL;
	}
	img = cache_serialise(c, len);
	if (img == NULL)
		*err = -ENOMEM;
	return img;
}

void zrtp_cache_image_free(uint8_t *img, size_t len)
{
	if (img == NULL)
		return;
	sodium_memzero(img, len);
	free(img);
}

int zrtp_cache_write_image(const uint8_t *img, size_t img_len,
			   const char *path)
{
	static const char suffix[] = ".tmp.XXXXXX";
	size_t plen;
	char *tmp;
	int fd, r = 0;

	if (img == NULL || path == NULL)
		return -EINVAL;
	if (path[0] == '\0')
		return -ENOENT;
	plen = strlen(path);
	tmp = malloc(plen + sizeof(suffix));
	if (tmp == NULL)
		return -ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, suffix, sizeof(suffix));
	/* The temp file shares the target's directory so rename is atomic. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || (r = write_all(fd, img, img_len)) < 0 ||
	    fsync(fd) < 0) {
		if (r == 0)
			r = -errno;
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		goto out;
	}
	r = sync_dir_of(path);
out:
	free(tmp);
	return r;
}

int zrtp_cache_save(const struct zrtp_cache *c, const char *path)
{
	size_t len;
	int r;
	if (c == NULL || path == NULL)
		return -EINVAL;
	if (path[0] == '\0')
		return -ENOENT;
	uint8_t *img = zrtp_cache_image(c, &len, &r);
	if (img == NULL)
		return r;
	r = zrtp_cache_write_image(img, len, path);
	zrtp_cache_image_free(img, len);
	return r;
}

int zrtp_cache_get_retained(const struct zrtp_cache *c, const uint8_t zid[12],
			    uint64_t now, struct zrtp_retained *out)
{
	struct zrtp_cache_entry e;
	int r;

	if (!out)
		return -EINVAL;
	if ((r = zrtp_cache_get(c, zid, now, &e)) < 0)
		return r;
	memset(out, 0, sizeof *out);
	memcpy(out->rs1, e.rs1, sizeof out->rs1);
	memcpy(out->rs2, e.rs2, sizeof out->rs2);
	out->has_rs1 = e.has_rs1;
	out->has_rs2 = e.has_rs2;
	out->rs1_gen = e.rs1_gen;
	out->rs2_gen = e.rs2_gen;
	out->verified = e.verified;
	sodium_memzero(&e, sizeof e);
	return 0;
}

/* One secret and its generation, while put_retained merges. */
struct rs_cand {
	const uint8_t *rs;
	uint32_t gen;
};

/* a before b: the newer generation, then the greater bytes (both peers
 * order their common secrets alike). */
static bool rs_before(const struct rs_cand *a, const struct rs_cand *b)
{
	if (a->gen != b->gen)
		return a->gen > b->gen;
	return memcmp(a->rs, b->rs, 32) > 0;
}

/* A secret let go of at now: the oldest slot (or an empty one) takes it. */
static void recent_add(struct zrtp_cache_entry *e, const uint8_t rs[32],
		       uint64_t now)
{
	size_t k = 0;
	for (size_t i = 1; i < ZRTP_CACHE_RECENT; i++)
		if (e->recent_at[i] < e->recent_at[k])
			k = i;
	memcpy(e->recent[k], rs, 32);
	e->recent_at[k] = now ? now : 1;
}

/*
 * ZRTP_PUT_NEW on e (the stored entry; has_old false: none or expired):
 * rs1 is the newest of the stored secrets and the new one, rs2 the newest
 * of an older generation than rs1, else the next of the same; what drops
 * out is kept as recent. Puts of concurrent handshakes reach the same
 * pair in any order, and both peers order the secrets alike.
 */
static void merge_new(struct zrtp_cache_entry *e, bool has_old,
		      const struct zrtp_retained *in, uint64_t now)
{
	struct rs_cand cand[3];
	uint8_t keep[3][32];
	size_t n = 0;
	if (has_old && e->has_rs1)
		cand[n++] = (struct rs_cand){ e->rs1, e->rs1_gen };
	if (has_old && e->has_rs2)
		cand[n++] = (struct rs_cand){ e->rs2, e->rs2_gen };
	bool dup = false;
	for (size_t i = 0; i < n; i++)
		dup |= sodium_memcmp(cand[i].rs, in->rs1, 32) == 0;
	if (!dup)
		cand[n++] = (struct rs_cand){ in->rs1, in->rs1_gen };
	/* Sort (three at most) newest first. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && rs_before(&cand[j], &cand[j - 1]); j--) {
			struct rs_cand t = cand[j];
			cand[j] = cand[j - 1];
			cand[j - 1] = t;
		}
	size_t second = n > 1 ? 1 : n;
	for (size_t i = 1; i < n; i++)
		if (cand[i].gen < cand[0].gen) {
			second = i;
			break;
		}
	/* The candidates point into e and in: copy before overwriting. */
	uint32_t gen[3];
	for (size_t i = 0; i < n; i++) {
		memcpy(keep[i], cand[i].rs, 32);
		gen[i] = cand[i].gen;
	}
	memcpy(e->rs1, keep[0], 32);
	e->rs1_gen = gen[0];
	e->has_rs1 = true;
	e->has_rs2 = second < n;
	if (e->has_rs2) {
		memcpy(e->rs2, keep[second], 32);
		e->rs2_gen = gen[second];
	} else {
		memset(e->rs2, 0, 32);
		e->rs2_gen = 0;
	}
	for (size_t i = 1; i < n; i++)
		if (i != second)
			recent_add(e, keep[i], now);
	sodium_memzero(keep, sizeof keep);
}

int zrtp_cache_put_retained(struct zrtp_cache *c, const uint8_t zid[12],
			    uint64_t now, const struct zrtp_retained *in)
{
	struct zrtp_cache_entry e, old;
	bool have_old, has_old_secrets;
	int r;

	if (!c || !zid || !in)
		return -EINVAL;
	memset(&e, 0, sizeof e);
	memset(&old, 0, sizeof old);
	have_old = zrtp_cache_get(c, zid, 0, &old) == 0;
	/* Secrets that expired are no secrets (§4.9), but recent ones are
	 * kept as such. */
	has_old_secrets = have_old && (old.has_rs1 || old.has_rs2) &&
			  (old.expiry == ZRTP_CACHE_NEVER || old.expiry > now);
	if (have_old)
		e = old;   /* names, recent secrets, generations */
	memcpy(e.zid, zid, sizeof e.zid);
	switch (in->put) {
	case ZRTP_PUT_NEW:
		if (!in->has_rs1) {
			r = -EINVAL;
			goto out;
		}
		merge_new(&e, has_old_secrets, in, now);
		e.verified = has_old_secrets ? old.verified && in->verified
					     : in->verified;
		break;
	case ZRTP_PUT_REPLACE:
		if (!in->has_rs1) {
			r = -EINVAL;
			goto out;
		}
		if (has_old_secrets && old.has_rs2)
			recent_add(&e, old.rs2, now);
		e.has_rs2 = has_old_secrets && old.has_rs1;
		memcpy(e.rs2, old.rs1, sizeof e.rs2);
		e.rs2_gen = old.rs1_gen;
		memcpy(e.rs1, in->rs1, sizeof e.rs1);
		e.rs1_gen = e.has_rs2 ? old.rs1_gen + 1 : 0;
		e.has_rs1 = true;
		e.verified = in->verified;
		break;
	case ZRTP_PUT_FLAGS:
		if (have_old) {
			e.verified = in->verified;
			break;
		}
		/* nothing stored: store what it carries */
		__attribute__((fallthrough));
	case ZRTP_PUT_STORE:
	default:
		memcpy(e.rs1, in->rs1, sizeof e.rs1);
		memcpy(e.rs2, in->rs2, sizeof e.rs2);
		e.has_rs1 = in->has_rs1;
		e.has_rs2 = in->has_rs2;
		e.rs1_gen = in->rs1_gen;
		e.rs2_gen = in->rs2_gen;
		e.verified = in->verified;
		break;
	}
	if (!has_old_secrets && (e.has_rs1 || e.has_rs2) &&
	    in->put != ZRTP_PUT_FLAGS)
		e.first_at = now ? now : 1;
	if (in->put == ZRTP_PUT_FLAGS && have_old)
		e.expiry = old.expiry;
	else if (in->ttl == 0)
		e.expiry = have_old ? old.expiry : ZRTP_CACHE_NEVER;
	else if (in->ttl == 0xffffffffu || now > UINT64_MAX - in->ttl)
		e.expiry = ZRTP_CACHE_NEVER;
	else
		e.expiry = now + in->ttl;
	/* Secrets without their flag are stored as zeros (the file format
	 * insists on it). */
	if (!e.has_rs1)
		memset(e.rs1, 0, sizeof e.rs1);
	if (!e.has_rs2)
		memset(e.rs2, 0, sizeof e.rs2);
	r = zrtp_cache_put(c, &e);
out:
	sodium_memzero(&e, sizeof e);
	sodium_memzero(&old, sizeof old);
	return r;
}

size_t zrtp_cache_recent_retained(const struct zrtp_cache *c,
				  const uint8_t zid[12], uint64_t now,
				  uint8_t out[][32], size_t cap, bool *young)
{
	struct zrtp_cache_entry e;
	size_t n = 0;
	uint64_t since = now > ZRTP_CACHE_RECENT_S ? now - ZRTP_CACHE_RECENT_S : 0;

	if (young)
		*young = false;
	if (!c || !zid || !out || zrtp_cache_get(c, zid, now, &e) < 0)
		return 0;
	if (e.has_rs1 && n < cap)
		memcpy(out[n++], e.rs1, 32);
	if (e.has_rs2 && n < cap)
		memcpy(out[n++], e.rs2, 32);
	for (size_t i = 0; i < ZRTP_CACHE_RECENT && n < cap; i++)
		if (e.recent_at[i] && e.recent_at[i] >= since &&
		    e.recent_at[i] <= now)
			memcpy(out[n++], e.recent[i], 32);
	if (young)
		*young = e.first_at && e.first_at >= since && e.first_at <= now;
	sodium_memzero(&e, sizeof e);
	return n;
}
