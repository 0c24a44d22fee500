/*
 * The SRTP key log: what the shim writes under ZRTPSHIM_KEYLOG and what
 * `zrtpshim verify --keylog` reads, in the spirit of SSLKEYLOGFILE.
 *
 * Text, UTF-8/ASCII, one record per line, one line per stream direction
 * (per sending SSRC). Lines end in LF (a CR before it is ignored).
 *
 *   # comment
 *   SRTP ssrc=ca110000 src=127.0.0.1:16000 dst=127.0.0.1:16100 \
 *        profile=AES_CM_128_HMAC_SHA1_80 key=<32 hex> salt=<28 hex>
 *
 * (one line; the backslash above is only for this comment).
 *
 * - The first word is the record label. "SRTP" is the only label defined;
 *   lines with another label made of [A-Z0-9_] are ignored (room to grow),
 *   as are blank lines and lines whose first non-blank character is '#'.
 * - Then key=value fields separated by blanks, in any order. Unknown keys
 *   are ignored; a known key given twice is an error.
 * - ssrc (required): the sender's SSRC, 1-8 hex digits, optional 0x, or
 *   "*" for any SSRC between the given addresses (what the shim writes:
 *   it makes the keys before the client has picked its SSRC, and the
 *   client may change it).
 * - profile (required): AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32,
 *   AES_CM_256_HMAC_SHA1_80 or AES_CM_256_HMAC_SHA1_32 (RFC 3711, RFC
 *   6188 names as in RFC 4568). SRTCP uses the same master key and salt
 *   with an 80-bit tag (RFC 6189 §4.5.3, libsrtp's *_32 profiles).
 * - key (required): the SRTP master key, 32 hex digits (128-bit profiles)
 *   or 64 (256-bit); salt (required): the master salt, 28 hex digits.
 * - src, dst (optional): the sender's and receiver's transport address,
 *   "IPv4:port", "[IPv6]:port", "*:port", or "*". An absent field, "*",
 *   and the unspecified addresses 0.0.0.0 / [::] match any address: the
 *   shim may only know the wildcard address its socket is bound to.
 *   These are RTP addresses: a reader matches SRTCP sent from the RTCP
 *   ports through the SDP's RTCP port (or port + 1).
 *
 * SSRCs are not unique (two sipp instances both send 0xCA110000), so a
 * reader matches on the SSRC and on every address the record gives, and
 * tries the most specific record first (keylog_entry_match).
 *
 * Profiles are the names of common/suite.h. The keys are secrets:
 * keylog_free wipes them.
 */
#ifndef COMMON_KEYLOG_H
#define COMMON_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/suite.h"

#define KEYLOG_MAX_KEY_LEN SUITE_MAX_KEY_LEN
#define KEYLOG_SALT_LEN SUITE_SALT_LEN
#define KEYLOG_LINE_MAX 512      /* longer lines are an error */
#define KEYLOG_STREAM_MAX 200    /* stream= names, NUL included */

/* A transport address as the log writes it. any_ip / any_port: wildcard. */
struct keylog_addr {
	bool any_ip, any_port;
	int family;                /* 4 or 6 when !any_ip */
	uint8_t ip[16];            /* IPv4 in the first 4 bytes */
	uint16_t port;
};

struct keylog_entry {
	uint32_t ssrc;
	bool any_ssrc;             /* "ssrc=*" */
	struct keylog_addr src, dst;
	enum suite profile;        /* common/suite.h */
	uint8_t key[KEYLOG_MAX_KEY_LEN];
	size_t key_len;            /* 16 or 32, follows the profile */
	uint8_t salt[KEYLOG_SALT_LEN];
	unsigned line;             /* 1-based line number in the file */
	/* "stream=" (optional, the shim's CALL-ID/M-INDEX): which stream of
	 * which call these keys are. A reader may try the keys on packets of
	 * that stream that the addresses do not name (a re-INVITE moved the
	 * media: the stream keeps its keys). "" when absent. */
	char stream[KEYLOG_STREAM_MAX];
};

struct keylog {
	struct keylog_entry *entries;
	size_t n, cap;
	size_t ignored;            /* lines with an unknown label */
};

/*
 * Parse one line (without its LF). Returns 1 with *out filled, 0 for a
 * line that carries no record (blank, comment, unknown label), or
 * -EINVAL with a reason in why (no line number: the caller adds it).
 */
int keylog_parse_line(const char *line, size_t len, struct keylog_entry *out,
		      char *why, size_t why_len)
	__attribute__((warn_unused_result));

/*
 * Parse a whole log from memory / from a file, appending to kl (which
 * starts zeroed). On error returns -EINVAL (or -errno / -ENOMEM) with
 * "LINE N: reason" (keylog_load: "FILE:N: reason") in why; kl keeps the
 * records parsed before the bad line and must still be freed.
 */
int keylog_parse_buf(struct keylog *kl, const char *buf, size_t len,
		     char *why, size_t why_len)
	__attribute__((warn_unused_result));
int keylog_load(struct keylog *kl, const char *path, char *why, size_t why_len)
	__attribute__((warn_unused_result));

/* Wipe the keys and free the table. */
void keylog_free(struct keylog *kl);

/*
 * Format one record as a line ending in "\n", NUL-terminated. Does no
 * I/O and no allocation (the shim calls it on its own thread, then
 * write(2)s the buffer). Returns the length without the NUL, or -ENOSPC
 * / -EINVAL. KEYLOG_LINE_MAX bytes are always enough.
 */
int keylog_format(char *buf, size_t cap, const struct keylog_entry *e)
	__attribute__((warn_unused_result));
/* The same with " stream=NAME" before the newline (the stream's name,
 * kept in keylog_entry.stream by the parser); a NULL, empty, over-long (200 bytes or more) name or one
 * with blanks is left out rather than break the line. */
int keylog_format_named(char *buf, size_t cap, const struct keylog_entry *e,
			const char *stream)
	__attribute__((warn_unused_result));

/*
 * How well a record matches a packet from src to dst with this SSRC:
 * -1 for no match, else the number of parts (ip/port of src and dst,
 * and twice for the SSRC) the record pins down, 0..6: higher is more
 * specific.
 */
int keylog_entry_match(const struct keylog_entry *e, uint32_t ssrc,
		       const struct keylog_addr *src,
		       const struct keylog_addr *dst);


/* "127.0.0.1:5060", "[::1]:5060", "*:5060", "*"; -EINVAL if bad. */
int keylog_addr_parse(const char *s, size_t len, struct keylog_addr *out);
int keylog_addr_format(char *buf, size_t cap, const struct keylog_addr *a);

#endif
