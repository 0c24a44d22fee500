/*
 * The SRTP protection profiles ZRTP can key (RFC 6189 §5.1.3, §5.1.4),
 * in one table: the negotiated cipher and auth tag name a profile; the
 * profile gives its RFC 4568 name (the key log's), its key and tag
 * lengths, and the libsrtp2 crypto policies for SRTP and SRTCP. The shim
 * and `zrtpshim verify` both read it (after libre's srtp suite switch).
 *
 * SRTCP uses the same master key and salt with an 80-bit tag for every
 * profile, the _32 ones included (RFC 4568 §6.2.1's rule, as libsrtp's
 * srtp_crypto_policy_set_from_profile_for_rtcp and bzrtp do).
 */
#ifndef COMMON_SUITE_H
#define COMMON_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include <srtp2/srtp.h>

enum suite {
	SUITE_AES_CM_128_HMAC_SHA1_80,
	SUITE_AES_CM_128_HMAC_SHA1_32,
	SUITE_AES_CM_256_HMAC_SHA1_80,
	SUITE_AES_CM_256_HMAC_SHA1_32,
};
#define SUITE_COUNT 4

#define SUITE_MAX_KEY_LEN 32
#define SUITE_SALT_LEN 14           /* 112-bit master salt */
#define SUITE_RTCP_TAG_LEN 10

/* The profile for a ZRTP cipher (AES1, AES3) and auth tag (HS80, HS32)
 * with this key length: 0, or -ENOTSUP for any other combination. */
int suite_from_zrtp(uint32_t cipher, uint32_t auth, size_t key_len,
		    enum suite *out);

/* RFC 4568 name, e.g. "AES_CM_128_HMAC_SHA1_80"; "?" if out of range. */
const char *suite_name(enum suite s);
/* The profile with that exact name: 0, or -EINVAL. */
int suite_from_name(const char *name, size_t len, enum suite *out);
size_t suite_key_len(enum suite s);         /* 16 or 32; 0 if invalid */
size_t suite_rtp_tag_len(enum suite s);     /* 10 or 4; 0 if invalid */

/* Set pol->rtp and pol->rtcp for the profile: 0, or -EINVAL. */
int suite_policy(enum suite s, srtp_policy_t *pol);

#endif
