/* The SRTP profile table (suite.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/suite.h"
#include "zrtp/crypto.h"

/* libsrtp2 spells some of its setters as macros: give each a function. */
static void p128_80(srtp_crypto_policy_t *p)
{
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(p);
}

static void p128_32(srtp_crypto_policy_t *p)
{
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(p);
}

static void p256_80(srtp_crypto_policy_t *p)
{
	srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(p);
}

static void p256_32(srtp_crypto_policy_t *p)
{
	srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(p);
}

static const struct {
	const char *name;
	uint32_t cipher, auth;       /* the ZRTP names that select it */
	size_t key_len, tag_len;
	void (*rtp)(srtp_crypto_policy_t *);
	void (*rtcp)(srtp_crypto_policy_t *);
} suites[SUITE_COUNT] = {
	[SUITE_AES_CM_128_HMAC_SHA1_80] = {
		"AES_CM_128_HMAC_SHA1_80", ZRTP_CIPHER_AES1, ZRTP_AUTH_HS80,
		16, 10, p128_80, p128_80 },
	[SUITE_AES_CM_128_HMAC_SHA1_32] = {
		"AES_CM_128_HMAC_SHA1_32", ZRTP_CIPHER_AES1, ZRTP_AUTH_HS32,
		16, 4, p128_32, p128_80 },
	[SUITE_AES_CM_256_HMAC_SHA1_80] = {
		"AES_CM_256_HMAC_SHA1_80", ZRTP_CIPHER_AES3, ZRTP_AUTH_HS80,
		32, 10, p256_80, p256_80 },
	[SUITE_AES_CM_256_HMAC_SHA1_32] = {
		"AES_CM_256_HMAC_SHA1_32", ZRTP_CIPHER_AES3, ZRTP_AUTH_HS32,
		32, 4, p256_32, p256_80 },
};

static bool valid(enum suite s)
{
	return (unsigned)s < SUITE_COUNT;
}

int suite_from_zrtp(uint32_t cipher, uint32_t auth, size_t key_len,
		    enum suite *out)
{
	for (unsigned i = 0; i < SUITE_COUNT; i++)
		if (suites[i].cipher == cipher && suites[i].auth == auth &&
		    suites[i].key_len == key_len) {
			*out = (enum suite)i;
			return 0;
		}
	return -ENOTSUP;
}

const char *suite_name(enum suite s)
{
	return valid(s) ? suites[s].name : "?";
}

int suite_from_name(const char *name, size_t len, enum suite *out)
{
	for (unsigned i = 0; i < SUITE_COUNT; i++)
		if (strlen(suites[i].name) == len &&
		    memcmp(suites[i].name, name, len) == 0) {
			*out = (enum suite)i;
			return 0;
		}
	return -EINVAL;
}

size_t suite_key_len(enum suite s)
{
	return valid(s) ? suites[s].key_len : 0;
}

size_t suite_rtp_tag_len(enum suite s)
{
	return valid(s) ? suites[s].tag_len : 0;
}

int suite_policy(enum suite s, srtp_policy_t *pol)
{
	if (!valid(s))
		return -EINVAL;
	suites[s].rtp(&pol->rtp);
	suites[s].rtcp(&pol->rtcp);
	return 0;
}
