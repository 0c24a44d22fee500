/*
 * Key agreement (RFC 6189 §4.4.1, §5.1.5): DH3k, EC25, EC38 and X255/E255.
 *
 * The private key is derived only from bytes the caller supplies, so a
 * test or a fuzzer replays the same exchange. Wire formats follow §5.1.5
 * and what bzrtp and GNU ZRTP put on the wire:
 *   DH3k  pv = g^x mod p, 384 bytes big-endian (RFC 3526 group 15, g = 2);
 *         DHResult = the shared value, 384 bytes big-endian, left-padded.
 *   EC25  pv = x || y of the P-256 point, 32 bytes each, big-endian;
 *         DHResult = x of the shared point, 32 bytes.
 *   EC38  the same with P-384: pv 48 + 48 bytes, DHResult 48 bytes.
 *   X255  pv and DHResult are RFC 7748 u-coordinates, 32 bytes.
 *
 * DH3k, EC25 and EC38 use OpenSSL's BIGNUM and EC_POINT layers (not the
 * deprecated DH and EC_KEY objects); X255 uses libsodium.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <sodium.h>

#include "zrtp/crypto.h"

#define DH3K_LEN 384
#define EC25_LEN 32
#define EC38_LEN 48
#define X255_LEN 32

struct zrtp_ka {
	uint32_t ka;             /* canonical: E255 is stored as X255 */
	BIGNUM *priv;            /* DH3k exponent, EC25/EC38 scalar */
	uint8_t x255[X255_LEN];  /* X255 scalar */
	uint8_t pv[ZRTP_MAX_PV_LEN];
	size_t pv_len;
};

static uint32_t ka_canonical(uint32_t ka)
{
	return ka == ZRTP_KA_E255 ? ZRTP_KA_X255 : ka;
}

size_t zrtp_ka_pv_len(uint32_t ka)
{
	switch (ka_canonical(ka)) {
	case ZRTP_KA_DH3K:
		return DH3K_LEN;
	case ZRTP_KA_EC25:
		return 2 * EC25_LEN;
	case ZRTP_KA_EC38:
		return 2 * EC38_LEN;
	case ZRTP_KA_X255:
		return X255_LEN;
	default:
		return 0;
	}
}

size_t zrtp_ka_secret_len(uint32_t ka)
{
	switch (ka_canonical(ka)) {
	case ZRTP_KA_DH3K:  /* a 256-bit exponent, §5.1.5 */
	case ZRTP_KA_EC25:
	case ZRTP_KA_X255:
		return 32;
	case ZRTP_KA_EC38:  /* a full-size scalar: reduced mod n, bias < 2^-190 */
		return EC38_LEN;
	default:
		return 0;
	}
}

size_t zrtp_ka_result_len(uint32_t ka)
{
	switch (ka_canonical(ka)) {
	case ZRTP_KA_DH3K:
		return DH3K_LEN;
	case ZRTP_KA_EC25:
		return EC25_LEN;
	case ZRTP_KA_EC38:
		return EC38_LEN;
	case ZRTP_KA_X255:
		return X255_LEN;
	default:
		return 0;
	}
}

/* ---- DH3k ------------------------------------------------------------------ */

static int dh3k_init(struct zrtp_ka *k, const uint8_t *secret, size_t len)
{
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *p = BN_get_rfc3526_prime_3072(NULL);
	BIGNUM *g = BN_new();
	BIGNUM *y = BN_new();
	int rc = -ENOMEM;

	k->priv = BN_secure_new();
	if (ctx == NULL || p == NULL || g == NULL || y == NULL ||
	    k->priv == NULL || !BN_set_word(g, 2))
		goto out;
	BN_set_flags(k->priv, BN_FLG_CONSTTIME);
	if (BN_bin2bn(secret, (int)len, k->priv) == NULL)
		goto out;
	/* An exponent of 0 or 1 would give a public value we reject ourselves. */
	rc = -EINVAL;
	if (BN_is_zero(k->priv) || BN_is_one(k->priv))
		goto out;
	rc = -EIO;
	if (!BN_mod_exp_mont_consttime(y, g, k->priv, p, ctx, NULL) ||
	    BN_bn2binpad(y, k->pv, DH3K_LEN) != DH3K_LEN)
		goto out;
	k->pv_len = DH3K_LEN;
	rc = 0;
out:
	BN_free(y);
	BN_free(g);
	BN_free(p);
	BN_CTX_free(ctx);
	return rc;
}

static int dh3k_derive(const struct zrtp_ka *k, const uint8_t *peer,
		       uint8_t *result)
{
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *p = BN_get_rfc3526_prime_3072(NULL);
	BIGNUM *pm1 = BN_new();
	BIGNUM *y = BN_new();
	BIGNUM *z = BN_secure_new();
	int rc = -ENOMEM;

	if (ctx == NULL || p == NULL || pm1 == NULL || y == NULL || z == NULL ||
	    BN_copy(pm1, p) == NULL || !BN_sub_word(pm1, 1) ||
	    BN_bin2bn(peer, DH3K_LEN, y) == NULL)
		goto out;
	/* §5.1.5 / §4.4.1.1: pvr of 0, 1, p-1 or >= p is an attack. */
	rc = -EBADMSG;
	if (BN_is_zero(y) || BN_is_one(y) || BN_cmp(y, pm1) >= 0)
		goto out;
	rc = -EIO;
	if (!BN_mod_exp_mont_consttime(z, y, k->priv, p, ctx, NULL) ||
	    BN_bn2binpad(z, result, DH3K_LEN) != DH3K_LEN)
		goto out;
	rc = 0;
out:
	BN_clear_free(z);
	BN_free(y);
	BN_free(pm1);
	BN_free(p);
	BN_CTX_free(ctx);
	return rc;
}

/* ---- EC25 (NIST P-256) and EC38 (NIST P-384) ---------------------------------- */

/* The curve and its coordinate length, from the (canonical) type. */
static int ec_curve(uint32_t ka, size_t *clen)
{
	if (ka == ZRTP_KA_EC38) {
		*clen = EC38_LEN;
		return NID_secp384r1;
	}
	*clen = EC25_LEN;
	return NID_X9_62_prime256v1;
}

static int ec_init(struct zrtp_ka *k, const uint8_t *secret, size_t len)
{
	size_t clen;
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(ec_curve(k->ka, &clen));
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *nm1 = BN_new();
	BIGNUM *x = BN_new(), *y = BN_new();
	EC_POINT *pub = grp != NULL ? EC_POINT_new(grp) : NULL;
	int rc = -ENOMEM;

	k->priv = BN_secure_new();
	if (grp == NULL || ctx == NULL || nm1 == NULL || x == NULL ||
	    y == NULL || pub == NULL || k->priv == NULL)
		goto out;
	BN_set_flags(k->priv, BN_FLG_CONSTTIME);
	rc = -EIO;
	/* d = (secret mod (n - 1)) + 1, in [1, n-1]. */
	if (BN_copy(nm1, EC_GROUP_get0_order(grp)) == NULL ||
	    !BN_sub_word(nm1, 1) ||
	    BN_bin2bn(secret, (int)len, k->priv) == NULL ||
	    !BN_mod(k->priv, k->priv, nm1, ctx) || !BN_add_word(k->priv, 1))
		goto out;
	if (!EC_POINT_mul(grp, pub, k->priv, NULL, NULL, ctx) ||
	    !EC_POINT_get_affine_coordinates(grp, pub, x, y, ctx) ||
	    BN_bn2binpad(x, k->pv, (int)clen) != (int)clen ||
	    BN_bn2binpad(y, k->pv + clen, (int)clen) != (int)clen)
		goto out;
	k->pv_len = 2 * clen;
	rc = 0;
out:
	EC_POINT_free(pub);
	BN_free(y);
	BN_free(x);
	BN_free(nm1);
	BN_CTX_free(ctx);
	EC_GROUP_free(grp);
	return rc;
}

static int ec_derive(const struct zrtp_ka *k, const uint8_t *peer,
		     uint8_t *result)
{
	size_t clen;
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(ec_curve(k->ka, &clen));
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *p = BN_new();
	BIGNUM *x = BN_new(), *y = BN_new();
	BIGNUM *sx = BN_secure_new();
	EC_POINT *q = grp != NULL ? EC_POINT_new(grp) : NULL;
	EC_POINT *s = grp != NULL ? EC_POINT_new(grp) : NULL;
	int rc = -ENOMEM;

	if (grp == NULL || ctx == NULL || p == NULL || x == NULL ||
	    y == NULL || sx == NULL || q == NULL || s == NULL ||
	    !EC_GROUP_get_curve(grp, p, NULL, NULL, ctx) ||
	    BN_bin2bn(peer, (int)clen, x) == NULL ||
	    BN_bin2bn(peer + clen, (int)clen, y) == NULL)
		goto out;
	/*
	 * The coordinates must be field elements and the point on the curve
	 * (P-256 and P-384 have cofactor 1, so that is the whole check; the
	 * point at infinity has no affine x || y); an invalid point would
	 * leak bits of our scalar.
	 */
	rc = -EBADMSG;
	if (BN_cmp(x, p) >= 0 || BN_cmp(y, p) >= 0 ||
	    !EC_POINT_set_affine_coordinates(grp, q, x, y, ctx) ||
	    EC_POINT_is_on_curve(grp, q, ctx) != 1 ||
	    EC_POINT_is_at_infinity(grp, q))
		goto out;
	rc = -EIO;
	if (!EC_POINT_mul(grp, s, NULL, q, k->priv, ctx))
		goto out;
	rc = -EBADMSG;
	if (EC_POINT_is_at_infinity(grp, s))
		goto out;
	rc = -EIO;
	if (!EC_POINT_get_affine_coordinates(grp, s, sx, NULL, ctx) ||
	    BN_bn2binpad(sx, result, (int)clen) != (int)clen)
		goto out;
	rc = 0;
out:
	EC_POINT_clear_free(s);
	EC_POINT_free(q);
	BN_clear_free(sx);
	BN_free(y);
	BN_free(x);
	BN_free(p);
	BN_CTX_free(ctx);
	EC_GROUP_free(grp);
	return rc;
}

/* ---- Public interface -------------------------------------------------------- */

int zrtp_ka_new(uint32_t ka, const uint8_t *secret, size_t secret_len,
		struct zrtp_ka **out)
{
	struct zrtp_ka *k;
	uint32_t c = ka_canonical(ka);
	int rc;

	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (zrtp_ka_secret_len(c) == 0)
		return -ENOTSUP;
	if (secret == NULL || secret_len != zrtp_ka_secret_len(c))
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	k->ka = c;

	switch (c) {
	case ZRTP_KA_DH3K:
		rc = dh3k_init(k, secret, secret_len);
		break;
	case ZRTP_KA_EC25:
	case ZRTP_KA_EC38:
		rc = ec_init(k, secret, secret_len);
		break;
	default: /* X255; libsodium clamps the scalar itself (RFC 7748 §5) */
		rc = sodium_init() < 0 ? -EIO : 0;
		memcpy(k->x255, secret, X255_LEN);
		if (rc == 0 && crypto_scalarmult_base(k->pv, k->x255) != 0)
			rc = -EIO;
		k->pv_len = X255_LEN;
		break;
	}
	if (rc < 0) {
		zrtp_ka_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int zrtp_ka_public(const struct zrtp_ka *k, uint8_t *pv, size_t pv_len)
{
	if (k == NULL || pv == NULL)
		return -EINVAL;
	if (pv_len != k->pv_len)
		return -EINVAL;
	memcpy(pv, k->pv, k->pv_len);
	return 0;
}

int zrtp_ka_derive(const struct zrtp_ka *k, const uint8_t *peer_pv,
		   size_t pv_len, uint8_t *result, size_t result_cap)
{
	if (k == NULL || peer_pv == NULL || result == NULL)
		return -EINVAL;
	if (result_cap < zrtp_ka_result_len(k->ka))
		return -ENOSPC;
	if (pv_len != zrtp_ka_pv_len(k->ka))
		return -EBADMSG;

	switch (k->ka) {
	case ZRTP_KA_DH3K:
		return dh3k_derive(k, peer_pv, result);
	case ZRTP_KA_EC25:
	case ZRTP_KA_EC38:
		return ec_derive(k, peer_pv, result);
	default:
		/* Fails on an all-zero output: a small-order peer point. */
		if (crypto_scalarmult(result, k->x255, peer_pv) != 0) {
			sodium_memzero(result, X255_LEN);
			return -EBADMSG;
		}
		return 0;
	}
}

void zrtp_ka_free(struct zrtp_ka *k)
{
	if (k == NULL)
		return;
	BN_clear_free(k->priv);
	sodium_memzero(k, sizeof(*k));
	free(k);
}
