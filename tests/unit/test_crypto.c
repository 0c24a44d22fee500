/*
 * The crypto suite: hashes, HMAC, the KDF of RFC 6189 §4.5.1, AES-CFB,
 * key agreement, negotiation (§4.1.2) and SAS rendering (§5.1.6). Each
 * vector is named after its public source.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/provider.h>
#include <sodium.h>

#include "tests/unit/suites.h"
#include "zrtp/crypto.h"
#include "zrtp/evp_lean.h"

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2;

	ck_assert_uint_eq(strlen(h) % 2, 0);
	ck_assert_uint_le(n, cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

#define ck_assert_hex(buf, len, hex)                                          \
	do {                                                                  \
		uint8_t exp_[512];                                            \
		size_t n_ = unhex((hex), exp_, sizeof(exp_));                 \
		ck_assert_uint_eq((len), n_);                                 \
		ck_assert_mem_eq((buf), exp_, n_);                            \
	} while (0)

/* ---- Hashes and HMAC ------------------------------------------------------ */

/* FIPS 180-2 Appendix B.1 / D.1: "abc", split over two pieces. */
START_TEST(test_hash_fips180_abc)
{
	uint8_t out[48];
	struct zrtp_iov v[] = { { "a", 1 }, { "bc", 2 } };

	ck_assert_int_eq(zrtp_hash(ZRTP_HASH_S256, v, 2, out), 0);
	ck_assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223"
			       "b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(zrtp_hash(ZRTP_HASH_S384, v, 2, out), 0);
	ck_assert_hex(out, 48, "cb00753f45a35e8bb5a03d699ac65007"
			       "272c32ab0eded1631a8b605a43ff5bed"
			       "8086072ba1e7cc2358baeca134c825a7");
	ck_assert_uint_eq(zrtp_hash_len(ZRTP_HASH_S256), 32);
	ck_assert_uint_eq(zrtp_hash_len(ZRTP_HASH_S384), 48);
	ck_assert_uint_eq(zrtp_hash_len(ZRTP_NAME('S', '5', '1', '2')), 0);
	ck_assert_int_eq(zrtp_hash(ZRTP_NAME('S', '5', '1', '2'), v, 2, out),
			 -EINVAL);
}
END_TEST

struct hmac_vec {
	const char *name;
	const char *key_hex;
	const char *data;
	const char *s256, *s384;
};

static const struct hmac_vec rfc4231[] = {
	{ "RFC 4231 4.2 test case 1",
	  "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
	  "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "RFC 4231 4.3 test case 2", "4a656665",
	  "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	  "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
	  "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649" },
	/* A key longer than the block: libsodium's _init API must hash it. */
	{ "RFC 4231 4.7 test case 6",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaa",
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	  "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
	  "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952" },
};

START_TEST(test_hmac_rfc4231)
{
	const struct hmac_vec *t = &rfc4231[_i];
	uint8_t key[200], out[48];
	size_t klen = unhex(t->key_hex, key, sizeof(key));
	size_t dlen = strlen(t->data);
	/* The data in two pieces, split unevenly, exercises the iov path. */
	struct zrtp_iov v[] = { { t->data, dlen / 3 },
				{ t->data + dlen / 3, dlen - dlen / 3 } };

	ck_assert_int_eq(zrtp_hmac(ZRTP_HASH_S256, key, klen, v, 2, out), 0);
	ck_assert_hex(out, 32, t->s256);
	ck_assert_int_eq(zrtp_hmac(ZRTP_HASH_S384, key, klen, v, 2, out), 0);
	ck_assert_hex(out, 48, t->s384);
}
END_TEST

/* ---- KDF (§4.5.1) ----------------------------------------------------------- */

/*
 * bzrtp test/bzrtpCryptoTest.cc, test_zrtpKDF: patterns its authors
 * generated with GNU ZRTP C++ (KI, a 56-byte Context, nine labels, output
 * lengths 14-32 bytes, HMAC-SHA-256).
 */
static const char gnuzrtp_kdf_ki[] =
	"33e66c01ca6fe64fb76ffde31cabc0fbad3d3102676b0c090fc996381e0a8c2f";
static const char gnuzrtp_kdf_ctx[] =
	"f01f2402000000008024adfb94a90690cf9ced13998c51347dc435a74d752544"
	"80c211f2d3205ea71b4ba4eec78eb7357528e56fcf4f749f";
static const struct {
	const char *label;
	const char *out;
} gnuzrtp_kdf[] = {
	{ "Responder SRTP master key", "f2cfc5724acfd7b50e89bed8a5c9f2cd" },
	{ "Responder SRTP master salt", "3c8fb13fd6ca83fbd6af3bd5ab1c" },
	{ "SAS", "d269b0718ad58f3c8e0dcf4535811d95"
		 "1847314128319f54c606595b522c5287" },
	{ "ZRTP Session Key", "c363390bc9ee13aa9e6a00528409ddc9"
			      "0717e01d1ae2dcf9a70ab98886ac6975" },
	{ "retained secret", "a7272dee77e7990c24b20b9f54ba2b61"
			     "7a23d8a59765829b78072bc51299015c" },
	{ "Responder ZRTP key", "75767d41829cb697c7a20d6812eadb9a" },
	{ "Initiator ZRTP key", "08a821460cbd6ce0f1fe3c4c704e3bea" },
	{ "Responder HMAC key", "2169f15c1b85a23977024d5ea71f4816"
				"23fe94dc1aabf489b8744d0d373d7cab" },
	{ "Initiator HMAC key", "1d117befd627cc5a80d0236e8d496be4"
				"2a6a0118ac4159e861b9b14a784b5d3f" },
};

START_TEST(test_kdf_bzrtp_gnuzrtp_patterns)
{
	uint8_t ki[32], ctx[56], exp[32], out[32];
	size_t n;

	ck_assert_uint_eq(unhex(gnuzrtp_kdf_ki, ki, sizeof(ki)), 32);
	ck_assert_uint_eq(unhex(gnuzrtp_kdf_ctx, ctx, sizeof(ctx)), 56);
	n = unhex(gnuzrtp_kdf[_i].out, exp, sizeof(exp));
	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(zrtp_kdf(ZRTP_HASH_S256, ki, sizeof(ki),
				  gnuzrtp_kdf[_i].label, ctx, sizeof(ctx),
				  n * 8, out), 0);
	ck_assert_mem_eq(out, exp, n);
	/* Nothing written past L bits. */
	for (size_t i = n; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0xee);
}
END_TEST

/*
 * The §4.5.1 byte layout, assembled by hand and MACed with zrtp_hmac
 * (itself proven against RFC 4231): i = 00 00 00 01, Label, 0x00,
 * Context, L = 32-bit big-endian bit count.
 */
START_TEST(test_kdf_layout_rfc6189_4_5_1)
{
	static const uint32_t hashes[] = { ZRTP_HASH_S256, ZRTP_HASH_S384 };
	uint32_t h = hashes[_i];
	size_t hl = zrtp_hash_len(h);
	const uint8_t ki[] = "key material of some length";
	const uint8_t ctx[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	uint8_t msg[64], mac[48], out[48];
	size_t m = 0;

	msg[m++] = 0x00;
	msg[m++] = 0x00;
	msg[m++] = 0x00;
	msg[m++] = 0x01;
	memcpy(msg + m, "ZRTP MSK", 8);
	m += 8;
	msg[m++] = 0x00;
	memcpy(msg + m, ctx, sizeof(ctx));
	m += sizeof(ctx);
	msg[m++] = 0x00;
	msg[m++] = 0x00;
	msg[m++] = (uint8_t)((hl * 8) >> 8);   /* 256 = 0x0100, 384 = 0x0180 */
	msg[m++] = (uint8_t)(hl * 8);
	ck_assert_uint_eq(m, 4 + 8 + 1 + 6 + 4);
	ck_assert_uint_eq(msg[m - 2], 0x01);
	ck_assert_uint_eq(msg[m - 1], hl == 32 ? 0x00 : 0x80);

	struct zrtp_iov v = { msg, m };
	ck_assert_int_eq(zrtp_hmac(h, ki, sizeof(ki), &v, 1, mac), 0);
	ck_assert_int_eq(zrtp_kdf(h, ki, sizeof(ki), "ZRTP MSK", ctx,
				  sizeof(ctx), hl * 8, out), 0);
	ck_assert_mem_eq(out, mac, hl);

	/* L = 128: the L field changes, so it is not a truncation of the above. */
	msg[m - 2] = 0x00;
	msg[m - 1] = 0x80;
	ck_assert_int_eq(zrtp_hmac(h, ki, sizeof(ki), &v, 1, mac), 0);
	ck_assert_int_eq(zrtp_kdf(h, ki, sizeof(ki), "ZRTP MSK", ctx,
				  sizeof(ctx), 128, out), 0);
	ck_assert_mem_eq(out, mac, 16);
}
END_TEST

START_TEST(test_kdf_bad_lengths)
{
	uint8_t ki[32] = { 1 }, out[64];

	ck_assert_int_eq(zrtp_kdf(ZRTP_HASH_S256, ki, 32, "x", NULL, 0, 0,
				  out), -EINVAL);
	ck_assert_int_eq(zrtp_kdf(ZRTP_HASH_S256, ki, 32, "x", NULL, 0, 12,
				  out), -EINVAL);
	ck_assert_int_eq(zrtp_kdf(ZRTP_HASH_S256, ki, 32, "x", NULL, 0, 264,
				  out), -EINVAL);
	ck_assert_int_eq(zrtp_kdf(ZRTP_HASH_S384, ki, 32, "x", NULL, 0, 384,
				  out), 0);
	ck_assert_int_eq(zrtp_kdf(0, ki, 32, "x", NULL, 0, 128, out), -EINVAL);
}
END_TEST

/* ---- AES-CFB (§5.1.3) -------------------------------------------------------- */

static const char sp800_38a_iv[] = "000102030405060708090a0b0c0d0e0f";
static const char sp800_38a_pt[] =
	"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	"30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static const struct {
	const char *name;
	uint32_t cipher;
	const char *key, *ct;
} sp800_38a[] = {
	{ "SP 800-38A F.3.13 CFB128-AES128.Encrypt", ZRTP_CIPHER_AES1,
	  "2b7e151628aed2a6abf7158809cf4f3c",
	  "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b"
	  "26751f67a3cbb140b1808cf187a4f4dfc04b05357c5d1c0eeac4c66f9ff7f2e6" },
	{ "SP 800-38A F.3.17 CFB128-AES256.Encrypt", ZRTP_CIPHER_AES3,
	  "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	  "dc7e84bfda79164b7ecd8486985d386039ffed143b28b1c832113c6331e5407b"
	  "df10132415e54b92a13ed0a8267ae2f975a385741ab9cef82031623d55b1e471" },
};

START_TEST(test_cfb_sp800_38a)
{
	uint8_t key[32], iv[16], pt[64], buf[64];
	size_t klen = unhex(sp800_38a[_i].key, key, sizeof(key));

	ck_assert_uint_eq(klen, zrtp_cipher_key_len(sp800_38a[_i].cipher));
	unhex(sp800_38a_iv, iv, sizeof(iv));
	unhex(sp800_38a_pt, pt, sizeof(pt));
	memcpy(buf, pt, sizeof(buf));
	ck_assert_int_eq(zrtp_cfb_encrypt(sp800_38a[_i].cipher, key, iv, buf,
					  sizeof(buf)), 0);
	ck_assert_hex(buf, sizeof(buf), sp800_38a[_i].ct);
	ck_assert_int_eq(zrtp_cfb_decrypt(sp800_38a[_i].cipher, key, iv, buf,
					  sizeof(buf)), 0);
	ck_assert_mem_eq(buf, pt, sizeof(pt));

	/* A length that is not a multiple of the block (Confirm is 40 bytes). */
	memcpy(buf, pt, sizeof(buf));
	ck_assert_int_eq(zrtp_cfb_encrypt(sp800_38a[_i].cipher, key, iv, buf,
					  40), 0);
	uint8_t ct[64];
	unhex(sp800_38a[_i].ct, ct, sizeof(ct));
	ck_assert_mem_eq(buf, ct, 40);
	ck_assert_mem_eq(buf + 40, pt + 40, 24);
}
END_TEST

START_TEST(test_cfb_lengths_and_tags)
{
	uint8_t key[32] = { 0 }, iv[16] = { 0 }, buf[4] = { 0 };

	ck_assert_uint_eq(zrtp_cipher_key_len(ZRTP_CIPHER_AES1), 16);
	ck_assert_uint_eq(zrtp_cipher_key_len(ZRTP_CIPHER_AES3), 32);
	ck_assert_uint_eq(zrtp_cipher_key_len(ZRTP_NAME('A', 'E', 'S', '2')), 0);
	ck_assert_int_eq(zrtp_cfb_encrypt(ZRTP_NAME('2', 'F', 'S', '1'), key,
					  iv, buf, 4), -EINVAL);
	ck_assert_int_eq(zrtp_cfb_encrypt(ZRTP_CIPHER_AES1, key, iv, buf, 0), 0);
	ck_assert_uint_eq(zrtp_auth_tag_len(ZRTP_AUTH_HS32), 4);
	ck_assert_uint_eq(zrtp_auth_tag_len(ZRTP_AUTH_HS80), 10);
	ck_assert_uint_eq(zrtp_auth_tag_len(ZRTP_NAME('S', 'K', '3', '2')), 0);
}
END_TEST

/* The lean context (zrtp/evp_lean.c): each of its seven ciphers comes from
 * its own provider, not the default context, and gives the default
 * context's bytes (encryption of the same random input with the same key
 * and IV; GCM with AAD, and its tag); any other name falls back to the
 * default context. */
static const char *const lean_cipher_names[] = {
	"AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "AES-128-GCM",
	"AES-256-GCM", "AES-128-CFB", "AES-256-CFB",
};

static void lean_encrypt(const EVP_CIPHER *c, const uint8_t *key,
			 const uint8_t *iv, const uint8_t *in, size_t len,
			 uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;
	bool gcm = EVP_CIPHER_get_mode(c) == EVP_CIPH_GCM_MODE;
	static const uint8_t aad[20] = { 1, 2, 3, 4, 5 };

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_EncryptInit_ex(ctx, c, NULL, key,
					    EVP_CIPHER_get_iv_length(c) > 0 ?
					    iv : NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (gcm)
		ck_assert_int_eq(EVP_EncryptUpdate(ctx, NULL, &n, aad,
						   sizeof aad), 1);
	ck_assert_int_eq(EVP_EncryptUpdate(ctx, out, &n, in, (int)len), 1);
	ck_assert_int_eq(EVP_EncryptFinal_ex(ctx, out + n, &m), 1);
	ck_assert_uint_eq((size_t)(n + m), len);
	if (gcm)
		ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
						     16, tag), 1);
	EVP_CIPHER_CTX_free(ctx);
}

START_TEST(test_lean_ciphers_match_default)
{
	const char *name = lean_cipher_names[_i];
	EVP_CIPHER *lean = zrtp_evp_cipher_fetch(name);
	EVP_CIPHER *dflt = EVP_CIPHER_fetch(NULL, name, NULL);
	uint8_t key[32], iv[16], in[160], a[160], b[160];
	uint8_t ta[16] = { 0 }, tb[16] = { 1 };

	ck_assert(zrtp_evp_lean_active());
	ck_assert_ptr_nonnull(lean);
	ck_assert_ptr_nonnull(dflt);
	ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_CIPHER_get0_provider(lean)),
			 ZRTP_EVP_LEAN_PROVIDER);
	ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_CIPHER_get0_provider(dflt)),
			 "default");
	ck_assert_int_eq(EVP_CIPHER_get_key_length(lean),
			 EVP_CIPHER_get_key_length(dflt));
	for (int round = 0; round < 8; round++) {
		randombytes_buf(key, sizeof key);
		randombytes_buf(iv, sizeof iv);
		randombytes_buf(in, sizeof in);   /* libsodium's */
		/* ECB takes whole blocks; the stream modes any length */
		size_t len = EVP_CIPHER_get_mode(lean) == EVP_CIPH_ECB_MODE
				     ? 16 * (size_t)(1 + round)
				     : 1 + (size_t)round * 19;
		lean_encrypt(lean, key, iv, in, len, a, ta);
		lean_encrypt(dflt, key, iv, in, len, b, tb);
		ck_assert_mem_eq(a, b, len);
		ck_assert_mem_ne(a, in, len);
		if (EVP_CIPHER_get_mode(lean) == EVP_CIPH_GCM_MODE)
			ck_assert_mem_eq(ta, tb, 16);
	}
	EVP_CIPHER_free(lean);
	EVP_CIPHER_free(dflt);
}
END_TEST

START_TEST(test_lean_other_names_fall_back)
{
	EVP_CIPHER *c = zrtp_evp_cipher_fetch("AES-128-CTR");

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(OSSL_PROVIDER_get0_name(EVP_CIPHER_get0_provider(c)),
			 "default");
	EVP_CIPHER_free(c);
	ck_assert_ptr_null(zrtp_evp_cipher_fetch(NULL));
	ck_assert_ptr_null(zrtp_evp_cipher_fetch("NO-SUCH-CIPHER"));
}
END_TEST

/* ---- Key agreement ------------------------------------------------------------- */

static struct zrtp_ka *ka_from_hex(uint32_t ka, const char *hex)
{
	uint8_t s[32];
	struct zrtp_ka *k = NULL;

	ck_assert_uint_eq(unhex(hex, s, sizeof(s)), 32);
	ck_assert_int_eq(zrtp_ka_new(ka, s, sizeof(s), &k), 0);
	ck_assert_ptr_nonnull(k);
	return k;
}

static struct zrtp_ka *ka_from_byte(uint32_t ka, uint8_t first)
{
	uint8_t s[48];
	size_t n = zrtp_ka_secret_len(ka);
	struct zrtp_ka *k = NULL;

	ck_assert_uint_le(n, sizeof(s));
	for (size_t i = 0; i < n; i++)
		s[i] = (uint8_t)(first + i);
	ck_assert_int_eq(zrtp_ka_new(ka, s, n, &k), 0);
	return k;
}

START_TEST(test_ka_lengths)
{
	ck_assert_uint_eq(zrtp_ka_pv_len(ZRTP_KA_DH3K), 384);
	ck_assert_uint_eq(zrtp_ka_pv_len(ZRTP_KA_EC25), 64);
	ck_assert_uint_eq(zrtp_ka_pv_len(ZRTP_KA_EC38), 96);
	ck_assert_uint_eq(zrtp_ka_pv_len(ZRTP_KA_X255), 32);
	ck_assert_uint_eq(zrtp_ka_pv_len(ZRTP_KA_E255), 32);
	ck_assert_uint_eq(zrtp_ka_result_len(ZRTP_KA_DH3K), 384);
	ck_assert_uint_eq(zrtp_ka_result_len(ZRTP_KA_EC25), 32);
	ck_assert_uint_eq(zrtp_ka_result_len(ZRTP_KA_EC38), 48);
	ck_assert_uint_eq(zrtp_ka_result_len(ZRTP_KA_X255), 32);
	ck_assert_uint_eq(zrtp_ka_secret_len(ZRTP_KA_DH3K), 32);
	ck_assert_uint_eq(zrtp_ka_secret_len(ZRTP_KA_EC25), 32);
	ck_assert_uint_eq(zrtp_ka_secret_len(ZRTP_KA_EC38), 48);
	ck_assert_uint_eq(zrtp_ka_secret_len(ZRTP_KA_X255), 32);
	ck_assert_uint_eq(zrtp_ka_pv_len(ZRTP_KA_MULT), 0);
	ck_assert_uint_eq(zrtp_ka_secret_len(ZRTP_KA_PRSH), 0);
	ck_assert_uint_eq(zrtp_ka_result_len(ZRTP_NAME('E', '4', '1', '4')), 0);

	struct zrtp_ka *k = (struct zrtp_ka *)1;
	uint8_t s[33] = { 1 };
	ck_assert_int_eq(zrtp_ka_new(ZRTP_KA_MULT, s, 32, &k), -ENOTSUP);
	ck_assert_ptr_null(k);
	ck_assert_int_eq(zrtp_ka_new(ZRTP_KA_X255, s, 31, &k), -EINVAL);
	ck_assert_int_eq(zrtp_ka_new(ZRTP_KA_DH3K, s, 33, &k), -EINVAL);
	ck_assert_int_eq(zrtp_ka_new(ZRTP_KA_EC38, s, 32, &k), -EINVAL);
}
END_TEST

/* Two parties with deterministic secrets agree, for every DH type. */
START_TEST(test_ka_two_parties_agree)
{
	static const uint32_t kas[] = { ZRTP_KA_DH3K, ZRTP_KA_EC25,
					ZRTP_KA_X255, ZRTP_KA_E255,
					ZRTP_KA_EC38 };
	uint32_t ka = kas[_i];
	size_t pl = zrtp_ka_pv_len(ka), rl = zrtp_ka_result_len(ka);
	struct zrtp_ka *a = ka_from_byte(ka, 0x01), *b = ka_from_byte(ka, 0x21);
	struct zrtp_ka *a2 = ka_from_byte(ka, 0x01);
	uint8_t pa[384], pb[384], pa2[384], za[384], zb[384];

	ck_assert_int_eq(zrtp_ka_public(a, pa, pl), 0);
	ck_assert_int_eq(zrtp_ka_public(b, pb, pl), 0);
	ck_assert_int_eq(zrtp_ka_public(a, pa, pl - 1), -EINVAL);
	ck_assert_mem_ne(pa, pb, pl);
	/* Deterministic: the same secret gives the same public value. */
	ck_assert_int_eq(zrtp_ka_public(a2, pa2, pl), 0);
	ck_assert_mem_eq(pa, pa2, pl);

	ck_assert_int_eq(zrtp_ka_derive(a, pb, pl, za, sizeof(za)), 0);
	ck_assert_int_eq(zrtp_ka_derive(b, pa, pl, zb, sizeof(zb)), 0);
	ck_assert_mem_eq(za, zb, rl);
	ck_assert_int_eq(zrtp_ka_derive(a, pb, pl, za, rl - 1), -ENOSPC);
	ck_assert_int_eq(zrtp_ka_derive(a, pb, pl - 1, za, sizeof(za)),
			 -EBADMSG);
	ck_assert_int_eq(zrtp_ka_derive(a, pb, pl + 1, za, sizeof(za)),
			 -EBADMSG);
	zrtp_ka_free(a);
	zrtp_ka_free(a2);
	zrtp_ka_free(b);
	zrtp_ka_free(NULL);
}
END_TEST

/* RFC 7748 §6.1: Alice and Bob, through zrtp_ka_*. */
START_TEST(test_x255_rfc7748_6_1)
{
	struct zrtp_ka *a = ka_from_hex(ZRTP_KA_X255,
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	struct zrtp_ka *b = ka_from_hex(ZRTP_KA_E255,
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	uint8_t pa[32], pb[32], z[32];

	ck_assert_int_eq(zrtp_ka_public(a, pa, 32), 0);
	ck_assert_hex(pa, 32, "8520f0098930a754748b7ddcb43ef75a"
			      "0dbf3a0d26381af4eba4a98eaa9b4e6a");
	ck_assert_int_eq(zrtp_ka_public(b, pb, 32), 0);
	ck_assert_hex(pb, 32, "de9edb7d7b7dc1b4d35b61c2ece43537"
			      "3f8343c85b78674dadfc7e146f882b4f");
	ck_assert_int_eq(zrtp_ka_derive(a, pb, 32, z, 32), 0);
	ck_assert_hex(z, 32, "4a5d9d5ba4ce2de1728e3bf480350f25"
			     "e07e21c947d19e3376f09b3c1e161742");
	memset(z, 0, sizeof(z));
	ck_assert_int_eq(zrtp_ka_derive(b, pa, 32, z, 32), 0);
	ck_assert_hex(z, 32, "4a5d9d5ba4ce2de1728e3bf480350f25"
			     "e07e21c947d19e3376f09b3c1e161742");
	zrtp_ka_free(a);
	zrtp_ka_free(b);
}
END_TEST

/* RFC 7748 §5.2, first X25519 vector: scalar times an arbitrary u. */
START_TEST(test_x255_rfc7748_5_2)
{
	struct zrtp_ka *k = ka_from_hex(ZRTP_KA_X255,
		"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	uint8_t u[32], z[32];

	unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	      u, sizeof(u));
	ck_assert_int_eq(zrtp_ka_derive(k, u, 32, z, 32), 0);
	ck_assert_hex(z, 32, "c3da55379de9c6908e94ea4df28d084f"
			     "32eccf03491c71f754b4075577a28552");
	zrtp_ka_free(k);
}
END_TEST

/* Small-order u-coordinates (0 and 1) give an all-zero secret. */
START_TEST(test_x255_rejects_small_order)
{
	struct zrtp_ka *k = ka_from_byte(ZRTP_KA_X255, 0x40);
	uint8_t u[32] = { 0 }, z[32];

	ck_assert_int_eq(zrtp_ka_derive(k, u, 32, z, 32), -EBADMSG);
	u[0] = 1;
	ck_assert_int_eq(zrtp_ka_derive(k, u, 32, z, 32), -EBADMSG);
	zrtp_ka_free(k);
}
END_TEST

/*
 * RFC 5903 §8.1 (ECDH with P-256). Our scalar is (secret mod (n-1)) + 1,
 * so the secret bytes given are the RFC's i and r minus one.
 */
START_TEST(test_ec25_rfc5903_8_1)
{
	struct zrtp_ka *i = ka_from_hex(ZRTP_KA_EC25,
		"c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1432");
	struct zrtp_ka *r = ka_from_hex(ZRTP_KA_EC25,
		"c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee52");
	uint8_t gi[64], gr[64], z[32];

	ck_assert_int_eq(zrtp_ka_public(i, gi, 64), 0);
	ck_assert_hex(gi, 64,
		"dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
		"5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
	ck_assert_int_eq(zrtp_ka_public(r, gr, 64), 0);
	ck_assert_hex(gr, 64,
		"d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
		"56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab");
	ck_assert_int_eq(zrtp_ka_derive(i, gr, 64, z, 32), 0);
	ck_assert_hex(z, 32, "d6840f6b42f6edafd13116e0e1256520"
			     "2fef8e9ece7dce03812464d04b9442de");
	ck_assert_int_eq(zrtp_ka_derive(r, gi, 64, z, 32), 0);
	ck_assert_hex(z, 32, "d6840f6b42f6edafd13116e0e1256520"
			     "2fef8e9ece7dce03812464d04b9442de");
	zrtp_ka_free(i);
	zrtp_ka_free(r);
}
END_TEST

START_TEST(test_ec25_rejects_bad_points)
{
	struct zrtp_ka *a = ka_from_byte(ZRTP_KA_EC25, 0x01);
	struct zrtp_ka *b = ka_from_byte(ZRTP_KA_EC25, 0x21);
	uint8_t pb[65], bad[64], z[32];
	/* The P-256 field prime (FIPS 186-4 D.1.2.3). */
	static const char p256[] =
		"ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

	ck_assert_int_eq(zrtp_ka_public(b, pb, 64), 0);
	ck_assert_int_eq(zrtp_ka_derive(a, pb, 64, z, 32), 0);

	memcpy(bad, pb, 64);
	bad[63] ^= 1;                         /* y off by one: off the curve */
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 64, z, 32), -EBADMSG);
	memset(bad, 0, 64);                   /* (0, 0) */
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 64, z, 32), -EBADMSG);
	memcpy(bad, pb, 64);                  /* x = p: not a field element */
	unhex(p256, bad, 32);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 64, z, 32), -EBADMSG);
	memset(bad, 0xff, 64);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 64, z, 32), -EBADMSG);
	/* Wrong lengths: x alone (a compressed-style 32), 63, 65. */
	ck_assert_int_eq(zrtp_ka_derive(a, pb, 32, z, 32), -EBADMSG);
	ck_assert_int_eq(zrtp_ka_derive(a, pb, 63, z, 32), -EBADMSG);
	pb[64] = 0;
	ck_assert_int_eq(zrtp_ka_derive(a, pb, 65, z, 32), -EBADMSG);
	zrtp_ka_free(a);
	zrtp_ka_free(b);
}
END_TEST

/*
 * RFC 5903 §8.2 (ECDH with P-384), the EC38 wire layout of §5.1.5: pv is
 * x || y, 48 bytes each, DHResult the 48-byte x of the shared point. As
 * for EC25 the secret bytes are the RFC's i and r minus one.
 */
static const char rfc5903_p384_gi[] =
	"667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
	"de3ac808acb4bdb4c88732aee95f41aa"
	"9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
	"eb9fcff3c2c947dae69b4c634573a81c";
static const char rfc5903_p384_gr[] =
	"e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
	"0d1ac43a0336def96fda41d0774a3571"
	"dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
	"f83fa40142209dff5eaad96db9e6386c";
static const char rfc5903_p384_girx[] =
	"11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
	"d603135569b9e9d09cf5d4a270f59746";

static struct zrtp_ka *ka_from_hex48(uint32_t ka, const char *hex)
{
	uint8_t s[48];
	struct zrtp_ka *k = NULL;

	ck_assert_uint_eq(unhex(hex, s, sizeof(s)), 48);
	ck_assert_int_eq(zrtp_ka_new(ka, s, sizeof(s), &k), 0);
	ck_assert_ptr_nonnull(k);
	return k;
}

START_TEST(test_ec38_rfc5903_8_2)
{
	struct zrtp_ka *i = ka_from_hex48(ZRTP_KA_EC38,
		"099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
		"e35b538041e649ee3faef896783ab193");
	struct zrtp_ka *r = ka_from_hex48(ZRTP_KA_EC38,
		"41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
		"e0308312916b8ed2960e4bd55a7448fb");
	uint8_t gi[96], gr[96], z[48];

	ck_assert_int_eq(zrtp_ka_public(i, gi, 96), 0);
	ck_assert_hex(gi, 96, rfc5903_p384_gi);
	ck_assert_int_eq(zrtp_ka_public(r, gr, 96), 0);
	ck_assert_hex(gr, 96, rfc5903_p384_gr);
	ck_assert_int_eq(zrtp_ka_derive(i, gr, 96, z, 48), 0);
	ck_assert_hex(z, 48, rfc5903_p384_girx);
	memset(z, 0, sizeof(z));
	ck_assert_int_eq(zrtp_ka_derive(r, gi, 96, z, 48), 0);
	ck_assert_hex(z, 48, rfc5903_p384_girx);
	/* The RFC's own public values, not ours, give the same secret. */
	uint8_t pv[96];
	unhex(rfc5903_p384_gr, pv, sizeof(pv));
	ck_assert_int_eq(zrtp_ka_derive(i, pv, 96, z, 48), 0);
	ck_assert_hex(z, 48, rfc5903_p384_girx);
	zrtp_ka_free(i);
	zrtp_ka_free(r);
}
END_TEST

/*
 * A public value that is not a point of P-384 must never reach the
 * scalar multiplication (§5.1.5, invalid-curve attacks): off the curve,
 * the all-zero encoding peers use for the point at infinity, coordinates
 * that are not field elements, a P-256 point, and wrong lengths.
 */
START_TEST(test_ec38_rejects_bad_points)
{
	struct zrtp_ka *a = ka_from_byte(ZRTP_KA_EC38, 0x01);
	uint8_t gr[97], bad[96], z[48];
	/* The P-384 field prime (FIPS 186-4 D.1.2.4). */
	static const char p384[] =
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		"fffffffeffffffff0000000000000000ffffffff";

	unhex(rfc5903_p384_gr, gr, 96);
	ck_assert_int_eq(zrtp_ka_derive(a, gr, 96, z, 48), 0);

	memcpy(bad, gr, 96);
	bad[95] ^= 1;                         /* y off by one: off the curve */
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	memcpy(bad, gr, 96);
	bad[0] ^= 0x80;                       /* x changed: off the curve */
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	memset(bad, 0, 96);                   /* (0, 0): "infinity" */
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	memcpy(bad, gr, 96);                  /* x = p: not a field element */
	unhex(p384, bad, 48);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	memcpy(bad, gr, 96);                  /* y = p */
	unhex(p384, bad + 48, 48);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	/* (0, sqrt(b)) is a point of P-384 (computed from the curve's b);
	 * (p, sqrt(b)) is the same point with x left unreduced: refused,
	 * not silently taken mod p. */
	static const char sqrt_b[] =
		"c306610fb0ae5a159cf45c06069f22a6c5eb3641c602d42dea2c4b4f75550793"
		"406d80d2b91ad54f9048bd487af1ade1";
	memset(bad, 0, 96);
	unhex(sqrt_b, bad + 48, 48);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), 0);
	unhex(p384, bad, 48);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	memset(bad, 0xff, 96);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	/* A valid P-256 point (RFC 5903 §8.1 gr), zero-extended. */
	memset(bad, 0, 96);
	unhex("d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63",
	      bad + 16, 32);
	unhex("56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
	      bad + 64, 32);
	ck_assert_int_eq(zrtp_ka_derive(a, bad, 96, z, 48), -EBADMSG);
	/* Wrong lengths: x alone, an EC25-sized value, 95, 97. */
	ck_assert_int_eq(zrtp_ka_derive(a, gr, 48, z, 48), -EBADMSG);
	ck_assert_int_eq(zrtp_ka_derive(a, gr, 64, z, 48), -EBADMSG);
	ck_assert_int_eq(zrtp_ka_derive(a, gr, 95, z, 48), -EBADMSG);
	gr[96] = 0;
	ck_assert_int_eq(zrtp_ka_derive(a, gr, 97, z, 48), -EBADMSG);
	/* Room for an EC25 result only. */
	ck_assert_int_eq(zrtp_ka_derive(a, gr, 96, z, 32), -ENOSPC);
	zrtp_ka_free(a);
}
END_TEST

/*
 * The RFC 3526 §4 3072-bit MODP prime, computed from its defining formula
 * p = 2^3072 - 2^3008 - 1 + 2^64 * ([2^2942 pi] + 1690314); and an
 * independent cross-check computed with Python's pow() over that group:
 * party A's secret is bytes 01..20, B's 21..40 (as ka_from_byte makes).
 */
static const char rfc3526_p3072_hex[] =
	"ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74"
	"020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437"
	"4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed"
	"ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05"
	"98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb"
	"9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b"
	"e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718"
	"3995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33"
	"a85521abdf1cba64ecfb850458dbef0a8aea71575d060c7db3970f85a6e1e4c7"
	"abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864"
	"d87602733ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e2"
	"08e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffffffffffffffff";

static const char dh3k_pv_a_hex[] =
	"708862b0cffa71fe166cc12799c8f990817c8bac6984bc27964320f740f0f4c0"
	"eb9d72a62b2b27d191ff6b21f9afd12b8003c232c5ad30d106fff0d87bdb806b"
	"7d2df476b395259c0297af4da6cbebfd4f4a3c42c710e8ada5b1cbdc06a877a8"
	"3299787d35b7cd57978e60b2ef73ccf3d7369079715181f3cbde33d94970d315"
	"398681d1a36e5f6ceec78660f1f8eb1500eb805dffc38ff8811ba7611b95eb70"
	"53660d3cef6b5aee38d16cfbfd678626cd81fb187f3314eb8c9b4332a4a0aec1"
	"8d9e2f228f773def0a05f2a615912166242ab9ac86b4f6f6244dac5ddb93b656"
	"cd9df19c3d82eef7a3c0fcbf8f105b9a9257875ce5b48b460bd771e208793a09"
	"3db63492f01b0a40c4580abe41fda00e758f1a0b07cb945281a083824bf44e84"
	"d1a64652bf372b34d17460ff698bf8bebef274902ce1b91f7ea2193b7bdcbe89"
	"13e27fab4160748bf5d499fc2ffb99326980ef5856e1eea957c42b724ad53467"
	"de7038e0ade707435611b35ac34e5cec3fb2feabe8a8ca4fdba666377c3803dc";

static const char dh3k_z_ab_hex[] =
	"8fe5162317cfd2c8399a64dd022e41e8654c47da6e2b089f2c5cea73e5d5e4c0"
	"05f598ab89a2cf164d34799ee1bb5191cb5d003cbe778f73ef98fc1bb716a468"
	"dca76ba8e9d1e2da900ca6c4f699857163a2d8608b681b44a575255ec59facf5"
	"8be97e903c9bf45be40a160b4df044fa9dc839097f249affbaa66901feb9c0b8"
	"b9f45c9348da38ea9c483465219c189adc3bebf14c7ef2deb03b0e269fce843a"
	"002d9e189993199f951aa8b75db59e6e4154074ef3a3d45f9fe4db594cb4219d"
	"30fbd86946be3e9d46b86acbd0967b0d12d8cd5d3eeb39b3ed74174ee863edd6"
	"d60eefdbdbefdc3af0abc24652dca95575d5252c8f68237a04f1bd98771b61b9"
	"a6c79bfeb3430f61185a5891da496af262722a13e238be38c136a5a1c6705f3e"
	"b0f7deec693ac77ee97c3366c2d0535cf57736342513c3f5fc65fc607c58fb7a"
	"9388efac49a0620b7120cb4719c90149cb0941e66410345ecbaab16cd3146c07"
	"b4ec9ed5f5cf910080d695c244c3d9883bbf3442cbe66201fbf2fc77da9dcb8f";

START_TEST(test_dh3k_known_answer)
{
	static uint8_t exp[384], pv[384], z[384];
	struct zrtp_ka *a = ka_from_byte(ZRTP_KA_DH3K, 0x01);
	struct zrtp_ka *b = ka_from_byte(ZRTP_KA_DH3K, 0x21);
	struct zrtp_ka *two;
	uint8_t s[32] = { 0 };

	ck_assert_int_eq(zrtp_ka_public(a, pv, 384), 0);
	ck_assert_uint_eq(unhex(dh3k_pv_a_hex, exp, sizeof(exp)), 384);
	ck_assert_mem_eq(pv, exp, 384);
	ck_assert_int_eq(zrtp_ka_public(b, pv, 384), 0);
	ck_assert_int_eq(zrtp_ka_derive(a, pv, 384, z, 384), 0);
	ck_assert_uint_eq(unhex(dh3k_z_ab_hex, exp, sizeof(exp)), 384);
	ck_assert_mem_eq(z, exp, 384);

	/* x = 256: pv = 2^256, big-endian and left-padded to 384 bytes. */
	s[30] = 0x01;
	ck_assert_int_eq(zrtp_ka_new(ZRTP_KA_DH3K, s, 32, &two), 0);
	ck_assert_int_eq(zrtp_ka_public(two, pv, 384), 0);
	for (int i = 0; i < 384; i++)
		ck_assert_uint_eq(pv[i], i == 384 - 33 ? 1 : 0);
	zrtp_ka_free(two);
	zrtp_ka_free(a);
	zrtp_ka_free(b);
}
END_TEST

static void be_add(uint8_t *v, size_t len, int delta)
{
	/* v += delta for delta in [-2, 2], big-endian, no overflow expected. */
	int carry = delta;
	for (size_t i = len; i-- > 0 && carry != 0;) {
		int x = v[i] + carry;
		carry = x < 0 ? -1 : x > 255 ? 1 : 0;
		v[i] = (uint8_t)(x - carry * 256);
	}
}

/* §5.1.5 / §4.4.1.1: pv of 0, 1, p-1 and anything >= p is refused. */
START_TEST(test_dh3k_rejects_degenerate)
{
	struct zrtp_ka *a = ka_from_byte(ZRTP_KA_DH3K, 0x01);
	static uint8_t p[384], v[384], z[384];

	ck_assert_uint_eq(unhex(rfc3526_p3072_hex, p, sizeof(p)), 384);
	memset(v, 0, 384);
	ck_assert_int_eq(zrtp_ka_derive(a, v, 384, z, 384), -EBADMSG);
	v[383] = 1;
	ck_assert_int_eq(zrtp_ka_derive(a, v, 384, z, 384), -EBADMSG);
	v[383] = 2;                                   /* g itself is fine */
	ck_assert_int_eq(zrtp_ka_derive(a, v, 384, z, 384), 0);
	memcpy(v, p, 384);
	be_add(v, 384, -1);                           /* p - 1 */
	ck_assert_int_eq(zrtp_ka_derive(a, v, 384, z, 384), -EBADMSG);
	be_add(v, 384, -1);                           /* p - 2 is fine */
	ck_assert_int_eq(zrtp_ka_derive(a, v, 384, z, 384), 0);
	ck_assert_int_eq(zrtp_ka_derive(a, p, 384, z, 384), -EBADMSG);
	memcpy(v, p, 384);
	be_add(v, 384, 1);                            /* p + 1 */
	ck_assert_int_eq(zrtp_ka_derive(a, v, 384, z, 384), -EBADMSG);
	memset(v, 0xff, 384);                         /* 2^3072 - 1 */
	ck_assert_int_eq(zrtp_ka_derive(a, v, 384, z, 384), -EBADMSG);
	zrtp_ka_free(a);

	/* Exponents 0 and 1 would publish 1 and g: refused at creation. */
	struct zrtp_ka *k = NULL;
	uint8_t s[32] = { 0 };
	ck_assert_int_eq(zrtp_ka_new(ZRTP_KA_DH3K, s, 32, &k), -EINVAL);
	s[31] = 1;
	ck_assert_int_eq(zrtp_ka_new(ZRTP_KA_DH3K, s, 32, &k), -EINVAL);
	ck_assert_ptr_null(k);
}
END_TEST

/* ---- Negotiation (§4.1.2) -------------------------------------------------------- */

static void hello_with(struct zrtp_hello *h, const char *prefs)
{
	struct zrtp_algo_prefs p;

	memset(h, 0, sizeof(*h));
	memset(&p, 0, sizeof(p));  /* every kind empty (count 0) ... */
	if (prefs != NULL)         /* ... unless named */
		ck_assert_int_eq(zrtp_algo_prefs_parse(&p, prefs), 0);
	zrtp_hello_set_algos(h, &p);
}

START_TEST(test_prefs_default)
{
	struct zrtp_algo_prefs p;
	char b[5];
	static const char *const ka[] = { "X255", "E255", "DH3k", "EC25",
					  "EC38", "Mult" };

	zrtp_algo_prefs_default(&p);
	ck_assert_uint_eq(p.n[ZRTP_KIND_KA], 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(zrtp_algo_str(p.list[ZRTP_KIND_KA][i], b), ka[i]);
	ck_assert_uint_eq(p.n[ZRTP_KIND_HASH], 2);
	ck_assert_uint_eq(p.list[ZRTP_KIND_HASH][0], ZRTP_HASH_S256);
	ck_assert_uint_eq(p.list[ZRTP_KIND_HASH][1], ZRTP_HASH_S384);
	ck_assert_uint_eq(p.list[ZRTP_KIND_CIPHER][0], ZRTP_CIPHER_AES1);
	ck_assert_uint_eq(p.list[ZRTP_KIND_CIPHER][1], ZRTP_CIPHER_AES3);
	ck_assert_uint_eq(p.list[ZRTP_KIND_AUTH][0], ZRTP_AUTH_HS80);
	ck_assert_uint_eq(p.list[ZRTP_KIND_AUTH][1], ZRTP_AUTH_HS32);
	ck_assert_uint_eq(p.list[ZRTP_KIND_SAS][0], ZRTP_SAS_B32);
	ck_assert_uint_eq(p.list[ZRTP_KIND_SAS][1], ZRTP_SAS_B256);
	ck_assert_str_eq(zrtp_algo_str(ZRTP_SAS_B32, b), "B32");
	ck_assert_str_eq(zrtp_algo_str(0x01414243, b), "?ABC");
}
END_TEST

START_TEST(test_prefs_parse)
{
	struct zrtp_algo_prefs p, before;

	zrtp_algo_prefs_default(&p);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p,
			 "ka=EC25,DH3k;cipher=AES3,AES1;sas=B256,B32"), 0);
	ck_assert_uint_eq(p.n[ZRTP_KIND_KA], 2);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][0], ZRTP_KA_EC25);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][1], ZRTP_KA_DH3K);
	ck_assert_uint_eq(p.list[ZRTP_KIND_CIPHER][0], ZRTP_CIPHER_AES3);
	ck_assert_uint_eq(p.list[ZRTP_KIND_SAS][1], ZRTP_SAS_B32);
	/* Kinds not named keep their list. */
	ck_assert_uint_eq(p.n[ZRTP_KIND_HASH], 2);
	ck_assert_uint_eq(p.list[ZRTP_KIND_AUTH][0], ZRTP_AUTH_HS80);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p, "hash=S384"), 0);
	ck_assert_uint_eq(p.n[ZRTP_KIND_HASH], 1);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p, "sas=B32 "), 0);
	/* Curve25519: one position, both names, the written one first. */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p, "ka=E255,Mult"), 0);
	ck_assert_uint_eq(p.n[ZRTP_KIND_KA], 3);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][0], ZRTP_KA_E255);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][1], ZRTP_KA_X255);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][2], ZRTP_KA_MULT);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p, "ka=DH3k,X255"), 0);
	ck_assert_uint_eq(p.n[ZRTP_KIND_KA], 3);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][1], ZRTP_KA_X255);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][2], ZRTP_KA_E255);
	/* Every key agreement we have fits in a Hello's 7 entries. */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p,
			 "ka=Mult,EC38,EC25,DH3k,E255"), 0);
	ck_assert_uint_eq(p.n[ZRTP_KIND_KA], 6);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][4], ZRTP_KA_E255);
	ck_assert_uint_eq(p.list[ZRTP_KIND_KA][5], ZRTP_KA_X255);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p, "ka=EC38"), 0);
	ck_assert_uint_eq(p.n[ZRTP_KIND_KA], 1);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&p, ""), 0);

	static const char *const bad[] = {
		"foo=S256",           /* unknown kind */
		"hash=S512",          /* unknown algorithm */
		"hash=AES1",          /* right name, wrong kind */
		"hash=",              /* empty list */
		"hash",               /* no '=' */
		"hash=S256,",         /* empty name */
		"hash=S256,S256",     /* duplicate */
		"ka=X255,E255",       /* the same algorithm twice */
		"ka=E255,DH3k,X255",
		"ka=Prsh",            /* not implemented */
		"cipher=AES",         /* short name */
		"cipher=AES11",       /* long name */
		"ka=dh3k",            /* names are case-sensitive */
		"ka=X255;hash=S256;sas=B33",
		"ka=DH3k,DH3k,DH3k,DH3k,DH3k,DH3k,DH3k,DH3k",
		"ka=X255;;hash=S256",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		before = p;
		ck_assert_msg(zrtp_algo_prefs_parse(&p, bad[i]) == -EINVAL,
			      "accepted \"%s\"", bad[i]);
		/* A failed parse leaves the preferences alone. */
		ck_assert_mem_eq(&p, &before, sizeof(p));
	}
}
END_TEST

START_TEST(test_negotiate_intersection)
{
	struct zrtp_algo_prefs ours;
	struct zrtp_hello peer;
	struct zrtp_algos r;
	enum zrtp_algo_kind fk = ZRTP_KIND_COUNT;

	zrtp_algo_prefs_default(&ours);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours,
			 "hash=S384,S256;cipher=AES3,AES1"), 0);
	hello_with(&peer, "hash=S256,S384;cipher=AES1;auth=HS32,HS80;"
			  "ka=DH3k,EC25;sas=B256,B32");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, &fk), 0);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S384);     /* ours first */
	ck_assert_uint_eq(r.cipher, ZRTP_CIPHER_AES1); /* only common */
	ck_assert_uint_eq(r.auth, ZRTP_AUTH_HS80);     /* ours first */
	ck_assert_uint_eq(r.sas, ZRTP_SAS_B32);        /* ours first */
	/* ours first in common: DH3k; peer's: DH3k. */
	ck_assert_uint_eq(r.ka, ZRTP_KA_DH3K);
	ck_assert_uint_eq(fk, ZRTP_KIND_COUNT);
}
END_TEST

/* Key agreement: the faster of the two first choices. */
START_TEST(test_negotiate_ka_faster_first_choice)
{
	struct zrtp_algo_prefs ours;
	struct zrtp_hello peer;
	struct zrtp_algos r;

	zrtp_algo_prefs_default(&ours);         /* X255, DH3k, EC25, Mult */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=DH3k,EC25,X255"), 0);
	hello_with(&peer, "ka=EC25,DH3k");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_EC25);  /* EC25 beats DH3k */

	hello_with(&peer, "ka=X255,DH3k");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_X255);  /* X255 beats DH3k */

	/* Same answer with the roles swapped: both ends agree (§4.2). */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=X255,DH3k"), 0);
	hello_with(&peer, "ka=DH3k,EC25,X255");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_X255);

	/* A peer first choice we lack is skipped, not chosen. */
	hello_with(&peer, "ka=EC25,DH3k");
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=X255,DH3k"), 0);
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_DH3K);

	/* Mult is not a DH type: never the first stream's key agreement. */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=Mult,EC25,DH3k"), 0);
	hello_with(&peer, "ka=Mult,EC25");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_EC25);
}
END_TEST

/* A peer listing nothing (all counts 0) still offers the mandatory set. */
START_TEST(test_negotiate_zero_counts)
{
	struct zrtp_algo_prefs ours;
	struct zrtp_hello peer;
	struct zrtp_algos r;

	zrtp_algo_prefs_default(&ours);
	hello_with(&peer, NULL);
	ck_assert_uint_eq(peer.n_ka, 0);
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S256);
	ck_assert_uint_eq(r.cipher, ZRTP_CIPHER_AES1);
	ck_assert_uint_eq(r.auth, ZRTP_AUTH_HS80);
	ck_assert_uint_eq(r.ka, ZRTP_KA_DH3K);
	ck_assert_uint_eq(r.sas, ZRTP_SAS_B32);

	/* Implicit ones count even when others are listed. */
	hello_with(&peer, "hash=S384;auth=HS32;ka=EC25");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S256);  /* ours first, implicit */
	ck_assert_uint_eq(r.auth, ZRTP_AUTH_HS80);  /* implicit */
	ck_assert_uint_eq(r.ka, ZRTP_KA_EC25);      /* EC25 beats our DH3k */

	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_HASH, ZRTP_HASH_S256));
	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_CIPHER, ZRTP_CIPHER_AES1));
	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_AUTH, ZRTP_AUTH_HS80));
	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_KA, ZRTP_KA_DH3K));
	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_SAS, ZRTP_SAS_B32));
	ck_assert(!zrtp_hello_offers(&peer, ZRTP_KIND_CIPHER, ZRTP_CIPHER_AES3));
	ck_assert(!zrtp_hello_offers(&peer, ZRTP_KIND_SAS, ZRTP_SAS_B256));
	ck_assert(!zrtp_hello_offers(&peer, ZRTP_KIND_KA, ZRTP_KA_X255));
	ck_assert(!zrtp_hello_offers(&peer, ZRTP_KIND_KA, ZRTP_KA_MULT));
	ck_assert(!zrtp_hello_offers(&peer, ZRTP_KIND_HASH, ZRTP_CIPHER_AES1));
}
END_TEST

/*
 * A Hello shaped like GNU ZRTP's (ZRTPCPP, ZRTP4J): Curve25519 only as
 * 'E255'; neither DH3k nor Mult listed although DH3k is implicitly
 * offered (§4.1.2); names we do not know (Skein, Twofish, its emoji and
 * decimal SAS) mixed in.
 */
static void hello_gnu_zrtp(struct zrtp_hello *h)
{
	static const uint32_t hash[] = { ZRTP_HASH_S384, ZRTP_HASH_S256,
					 ZRTP_NAME('S', 'K', 'N', '3') };
	static const uint32_t cipher[] = { ZRTP_NAME('2', 'F', 'S', '3'),
					   ZRTP_CIPHER_AES3,
					   ZRTP_NAME('2', 'F', 'S', '1'),
					   ZRTP_CIPHER_AES1 };
	static const uint32_t auth[] = { ZRTP_NAME('S', 'K', '3', '2'),
					 ZRTP_NAME('S', 'K', '6', '4'),
					 ZRTP_AUTH_HS32, ZRTP_AUTH_HS80 };
	static const uint32_t sas[] = { ZRTP_NAME('B', '3', '2', 'E'),
					ZRTP_NAME('B', '1', '0', 'D'),
					ZRTP_SAS_B32 };

	memset(h, 0, sizeof(*h));
	memcpy(h->hash, hash, sizeof(hash));
	h->n_hash = 3;
	memcpy(h->cipher, cipher, sizeof(cipher));
	h->n_cipher = 4;
	memcpy(h->auth, auth, sizeof(auth));
	h->n_auth = 4;
	h->ka[0] = ZRTP_KA_E255;
	h->n_ka = 1;
	memcpy(h->sas, sas, sizeof(sas));
	h->n_sas = 3;
}

/* GNU ZRTP matches names literally: its first choice found in our Hello,
 * else the mandatory DH3k. */
static uint32_t gnu_zrtp_pick_ka(const struct zrtp_hello *ours,
				 const uint32_t *its, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ours->n_ka; j++)
			if (ours->ka[j] == its[i])
				return its[i];
	return ZRTP_KA_DH3K;
}

START_TEST(test_negotiate_gnu_zrtp_hello)
{
	struct zrtp_algo_prefs ours;
	struct zrtp_hello peer, hello;
	struct zrtp_algos r;

	/* We initiate: the Commit names Curve25519 as the peer does. */
	zrtp_algo_prefs_default(&ours);
	hello_gnu_zrtp(&peer);
	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_KA, ZRTP_KA_X255));
	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_KA, ZRTP_KA_DH3K));
	ck_assert(!zrtp_hello_offers(&peer, ZRTP_KIND_KA, ZRTP_KA_MULT));
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_E255);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S256);
	ck_assert_uint_eq(r.cipher, ZRTP_CIPHER_AES1);
	ck_assert_uint_eq(r.auth, ZRTP_AUTH_HS80);
	ck_assert_uint_eq(r.sas, ZRTP_SAS_B32);

	/* The peer initiates: our Hello lists E255, next to X255. */
	zrtp_hello_set_algos(&hello, &ours);
	ck_assert_uint_eq(hello.ka[0], ZRTP_KA_X255);
	ck_assert_uint_eq(hello.ka[1], ZRTP_KA_E255);
	static const uint32_t gnu_e255_first[] = { ZRTP_KA_E255, ZRTP_KA_EC25,
						   ZRTP_KA_DH3K };
	ck_assert_uint_eq(gnu_zrtp_pick_ka(&hello, gnu_e255_first, 3),
			  ZRTP_KA_E255);
	/* The same with a user's list naming it X255 or E255. */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=DH3k,X255"), 0);
	zrtp_hello_set_algos(&hello, &ours);
	ck_assert_uint_eq(gnu_zrtp_pick_ka(&hello, gnu_e255_first, 1),
			  ZRTP_KA_E255);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=E255"), 0);
	zrtp_hello_set_algos(&hello, &ours);
	ck_assert_uint_eq(gnu_zrtp_pick_ka(&hello, gnu_e255_first, 1),
			  ZRTP_KA_E255);

	/* Without Curve25519 on our side: the unlisted DH3k. */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=EC38,DH3k,Mult"), 0);
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_DH3K);
}
END_TEST

/* Both names are one algorithm; the Commit uses one the peer listed. */
START_TEST(test_negotiate_e255_alias)
{
	struct zrtp_algo_prefs ours;
	struct zrtp_hello peer;
	struct zrtp_algos r;

	zrtp_algo_prefs_default(&ours);
	hello_with(&peer, "ka=X255");      /* like ours: X255, E255 */
	ck_assert(zrtp_hello_offers(&peer, ZRTP_KIND_KA, ZRTP_KA_E255));
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_X255);

	/* A Hello listing only X255, as bzrtp's does. */
	memset(&peer, 0, sizeof(peer));
	peer.ka[0] = ZRTP_KA_X255;
	peer.n_ka = 1;
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=E255,DH3k"), 0);
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_X255);
	/* Ours first (E255) when the peer lists both. */
	hello_with(&peer, "ka=X255");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_E255);

	ck_assert(zrtp_algo_supported(ZRTP_KIND_KA, ZRTP_KA_E255));
	ck_assert(zrtp_algo_supported(ZRTP_KIND_KA, ZRTP_KA_EC38));
	ck_assert(!zrtp_algo_supported(ZRTP_KIND_KA, ZRTP_KA_PRSH));
	ck_assert(!zrtp_algo_supported(ZRTP_KIND_HASH, ZRTP_KA_X255));
	ck_assert(!zrtp_algo_supported(ZRTP_KIND_COUNT, ZRTP_HASH_S256));
}
END_TEST

/*
 * EC38 and the 384-bit hash (§5.1.5; GNU ZRTP refuses an EC38 Commit
 * with S256): EC38 is chosen only when both offer S384, and then with
 * S384, and with AES3 when both offer it (§5.1.3 SHOULD).
 */
START_TEST(test_negotiate_ec38_takes_s384)
{
	struct zrtp_algo_prefs ours;
	struct zrtp_hello peer;
	struct zrtp_algos r;
	enum zrtp_algo_kind fk;

	zrtp_algo_prefs_default(&ours);           /* S256 before S384 */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=EC38,DH3k"), 0);
	hello_with(&peer, "hash=S256,S384;cipher=AES1,AES3;ka=EC38");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_EC38);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S384);
	ck_assert_uint_eq(r.cipher, ZRTP_CIPHER_AES3);
	ck_assert(zrtp_algos_coupled_ok(&r));

	/* No AES3 on one side: AES1 still goes. */
	hello_with(&peer, "hash=S384;cipher=AES1;ka=EC38");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_EC38);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S384);
	ck_assert_uint_eq(r.cipher, ZRTP_CIPHER_AES1);

	/* No S384 at the peer: not EC38, the implicit DH3k and S256. */
	hello_with(&peer, "hash=S256;ka=EC38");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_DH3K);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S256);
	/* No S384 on our side: the same. */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "hash=S256"), 0);
	hello_with(&peer, "hash=S384,S256;ka=EC38");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_DH3K);
	/* ... and nothing at all when EC38 was the only choice. */
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=EC38"), 0);
	fk = ZRTP_KIND_COUNT;
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, &fk), -ENOTSUP);
	ck_assert_int_eq(fk, ZRTP_KIND_KA);

	/* EC38 is the slowest (§4.1.2): DH3k wins a difference of first
	 * choices, in either direction. */
	zrtp_algo_prefs_default(&ours);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=EC38,DH3k"), 0);
	hello_with(&peer, "hash=S384;ka=DH3k,EC38");
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_DH3K);
	ck_assert_uint_eq(r.hash, ZRTP_HASH_S256);
	/* EC25 beats it too. */
	hello_with(&peer, "hash=S384;ka=EC25,EC38");
	ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, "ka=EC38,EC25"), 0);
	ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, NULL), 0);
	ck_assert_uint_eq(r.ka, ZRTP_KA_EC25);

	struct zrtp_algos bad = { ZRTP_HASH_S256, ZRTP_CIPHER_AES3,
				  ZRTP_AUTH_HS80, ZRTP_KA_EC38, ZRTP_SAS_B32 };
	ck_assert(!zrtp_algos_coupled_ok(&bad));
	bad.ka = ZRTP_KA_EC25;
	ck_assert(zrtp_algos_coupled_ok(&bad));
	bad.ka = ZRTP_KA_E255;
	bad.hash = ZRTP_HASH_S384;
	ck_assert(zrtp_algos_coupled_ok(&bad));
	ck_assert(!zrtp_algos_coupled_ok(NULL));
}
END_TEST

START_TEST(test_negotiate_no_common)
{
	struct zrtp_algo_prefs ours;
	struct zrtp_hello peer;
	struct zrtp_algos r;
	enum zrtp_algo_kind fk;

	static const struct {
		const char *ours, *peer;
		enum zrtp_algo_kind kind;
	} t[] = {
		{ "hash=S384", "hash=S256", ZRTP_KIND_HASH },
		{ "cipher=AES3", "cipher=AES1", ZRTP_KIND_CIPHER },
		{ "sas=B256", "sas=B32", ZRTP_KIND_SAS },
		{ "ka=X255,EC25", "ka=DH3k", ZRTP_KIND_KA },
		{ "ka=Mult", "ka=Mult,DH3k", ZRTP_KIND_KA },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		zrtp_algo_prefs_default(&ours);
		ck_assert_int_eq(zrtp_algo_prefs_parse(&ours, t[i].ours), 0);
		hello_with(&peer, t[i].peer);
		fk = ZRTP_KIND_COUNT;
		memset(&r, 0x5a, sizeof(r));
		ck_assert_int_eq(zrtp_negotiate(&ours, &peer, &r, &fk),
				 -ENOTSUP);
		ck_assert_int_eq(fk, t[i].kind);
	}
}
END_TEST

START_TEST(test_hello_set_algos)
{
	struct zrtp_algo_prefs p;
	struct zrtp_hello h;

	memset(&h, 0xaa, sizeof(h));
	zrtp_algo_prefs_default(&p);
	zrtp_hello_set_algos(&h, &p);
	ck_assert_uint_eq(h.n_hash, 2);
	ck_assert_uint_eq(h.n_cipher, 2);
	ck_assert_uint_eq(h.n_auth, 2);
	ck_assert_uint_eq(h.n_ka, 6);
	ck_assert_uint_eq(h.n_sas, 2);
	ck_assert_uint_eq(h.ka[0], ZRTP_KA_X255);
	ck_assert_uint_eq(h.ka[1], ZRTP_KA_E255);
	ck_assert_uint_eq(h.ka[4], ZRTP_KA_EC38);
	ck_assert_uint_eq(h.ka[5], ZRTP_KA_MULT);
	ck_assert_uint_eq(h.ka[6], 0);
	ck_assert_uint_eq(h.auth[0], ZRTP_AUTH_HS80);
	ck_assert_uint_eq(h.sas[1], ZRTP_SAS_B256);
}
END_TEST

/* ---- SAS (§5.1.6) ------------------------------------------------------------------ */

static void render(uint32_t sas, uint8_t b0, uint8_t b1, uint8_t b2,
		   char *buf, size_t cap)
{
	uint8_t h[32] = { b0, b1, b2 };
	for (int i = 3; i < 32; i++)
		h[i] = 0xa5;  /* bits past the rendered ones must not matter */
	ck_assert_int_eq(zrtp_sas_render(sas, h, buf, cap), (int)strlen(buf));
}

START_TEST(test_sas_b32)
{
	char b[32];

	render(ZRTP_SAS_B32, 0x00, 0x00, 0x00, b, sizeof(b));
	ck_assert_str_eq(b, "yyyy");
	render(ZRTP_SAS_B32, 0xff, 0xff, 0xff, b, sizeof(b));
	ck_assert_str_eq(b, "9999");
	/* Only the leftmost 20 bits: the low nibble of byte 2 is ignored. */
	render(ZRTP_SAS_B32, 0xff, 0xff, 0xf0, b, sizeof(b));
	ck_assert_str_eq(b, "9999");
	render(ZRTP_SAS_B32, 0x00, 0x00, 0x0f, b, sizeof(b));
	ck_assert_str_eq(b, "yyyy");
	render(ZRTP_SAS_B32, 0x00, 0x00, 0x10, b, sizeof(b));
	ck_assert_str_eq(b, "yyyb");
	/* 0x08 0x86 0x42 -> 00001 00010 00011 00100 = b n d r (z-base-32). */
	render(ZRTP_SAS_B32, 0x08, 0x86, 0x42, b, sizeof(b));
	ck_assert_str_eq(b, "bndr");
	/*
	 * The sashash of the GNU ZRTP "SAS" KDF pattern in bzrtp's crypto
	 * test: d2 69 b0 -> 11010 01001 10100 11011 = 26 9 20 27 = "4jw5".
	 */
	render(ZRTP_SAS_B32, 0xd2, 0x69, 0xb0, b, sizeof(b));
	ck_assert_str_eq(b, "4jw5");

	uint8_t h[32] = { 0 };
	ck_assert_int_eq(zrtp_sas_render(ZRTP_SAS_B32, h, b, 5), 4);
	ck_assert_int_eq(zrtp_sas_render(ZRTP_SAS_B32, h, b, 4), -ENOSPC);
	ck_assert_int_eq(zrtp_sas_render(ZRTP_NAME('B', '1', '6', ' '), h, b,
					 sizeof(b)), -EINVAL);
}
END_TEST

START_TEST(test_sas_b256)
{
	char b[64];

	render(ZRTP_SAS_B256, 0x00, 0x00, 0, b, sizeof(b));
	ck_assert_str_eq(b, "aardvark:adroitness");
	render(ZRTP_SAS_B256, 0xff, 0xff, 0, b, sizeof(b));
	ck_assert_str_eq(b, "Zulu:Yucatan");
	render(ZRTP_SAS_B256, 0xd2, 0x69, 0, b, sizeof(b));
	ck_assert_str_eq(b, "standard:guitarist");

	uint8_t h[32] = { 0 };
	/* "aardvark:adroitness" is 19 characters: needs 20 bytes. */
	ck_assert_int_eq(zrtp_sas_render(ZRTP_SAS_B256, h, b, 20), 19);
	ck_assert_int_eq(zrtp_sas_render(ZRTP_SAS_B256, h, b, 19), -ENOSPC);
}
END_TEST

/*
 * The worked example of the Wikipedia "PGP word list" article: the
 * fingerprint E582 94F2 E9A2 2748 6E8B 061B 31CC 528F D7FA 3F19 reads
 * "topmost Istanbul Pluto vagabond treadmill Pacific brackish dictator
 * goldfish Medusa afflict bravado chatter revolver Dupont midsummer
 * stopwatch whimsical cowbell bottomless".
 */
START_TEST(test_sas_b256_pgp_fingerprint_example)
{
	static const uint8_t fp[20] = {
		0xe5, 0x82, 0x94, 0xf2, 0xe9, 0xa2, 0x27, 0x48, 0x6e, 0x8b,
		0x06, 0x1b, 0x31, 0xcc, 0x52, 0x8f, 0xd7, 0xfa, 0x3f, 0x19,
	};
	static const char *const words[10] = {
		"topmost:Istanbul", "Pluto:vagabond", "treadmill:Pacific",
		"brackish:dictator", "goldfish:Medusa", "afflict:bravado",
		"chatter:revolver", "Dupont:midsummer", "stopwatch:whimsical",
		"cowbell:bottomless",
	};
	char b[64];

	for (int i = 0; i < 10; i++) {
		render(ZRTP_SAS_B256, fp[2 * i], fp[2 * i + 1], 0, b, sizeof(b));
		ck_assert_str_eq(b, words[i]);
	}
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Both lists: 256 distinct words; a few entries at fixed indexes. */
START_TEST(test_sas_b256_word_lists)
{
	static char words[2][256][24];
	const char *sorted[256];
	char b[64];

	for (int i = 0; i < 256; i++) {
		render(ZRTP_SAS_B256, (uint8_t)i, (uint8_t)i, 0, b, sizeof(b));
		char *colon = strchr(b, ':');
		ck_assert_ptr_nonnull(colon);
		*colon = '\0';
		ck_assert_uint_lt(strlen(b), 24);
		ck_assert_uint_lt(strlen(colon + 1), 24);
		strcpy(words[0][i], b);
		strcpy(words[1][i], colon + 1);
	}
	for (int l = 0; l < 2; l++) {
		for (int i = 0; i < 256; i++)
			sorted[i] = words[l][i];
		qsort(sorted, 256, sizeof(sorted[0]), cmp_str);
		for (int i = 1; i < 256; i++)
			ck_assert_msg(strcmp(sorted[i - 1], sorted[i]) != 0,
				      "duplicate word %s", sorted[i]);
	}
	/* No word appears in both lists. */
	for (int i = 0; i < 256; i++)
		for (int j = 0; j < 256; j++)
			ck_assert_str_ne(words[0][i], words[1][j]);

	ck_assert_str_eq(words[0][0x00], "aardvark");
	ck_assert_str_eq(words[0][0x01], "absurd");
	ck_assert_str_eq(words[0][0x80], "merit");
	ck_assert_str_eq(words[0][0xfe], "woodlark");
	ck_assert_str_eq(words[0][0xff], "Zulu");
	ck_assert_str_eq(words[1][0x00], "adroitness");
	ck_assert_str_eq(words[1][0x01], "adviser");
	ck_assert_str_eq(words[1][0x80], "intention");
	ck_assert_str_eq(words[1][0xfe], "yesteryear");
	ck_assert_str_eq(words[1][0xff], "Yucatan");
}
END_TEST

/* ---- Helpers ------------------------------------------------------------------------ */

START_TEST(test_ct_equal_and_wipe)
{
	uint8_t a[16], b[16];

	memset(a, 7, sizeof(a));
	memset(b, 7, sizeof(b));
	ck_assert(zrtp_ct_equal(a, b, sizeof(a)));
	b[15] ^= 0x80;
	ck_assert(!zrtp_ct_equal(a, b, sizeof(a)));
	ck_assert(zrtp_ct_equal(a, b, 15));
	zrtp_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		ck_assert_uint_eq(a[i], 0);
}
END_TEST

Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("hash");
	tcase_add_test(tc, test_hash_fips180_abc);
	tcase_add_loop_test(tc, test_hmac_rfc4231, 0,
			    sizeof(rfc4231) / sizeof(rfc4231[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("kdf");
	tcase_add_loop_test(tc, test_kdf_bzrtp_gnuzrtp_patterns, 0,
			    sizeof(gnuzrtp_kdf) / sizeof(gnuzrtp_kdf[0]));
	tcase_add_loop_test(tc, test_kdf_layout_rfc6189_4_5_1, 0, 2);
	tcase_add_test(tc, test_kdf_bad_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("cipher");
	tcase_add_loop_test(tc, test_cfb_sp800_38a, 0,
			    sizeof(sp800_38a) / sizeof(sp800_38a[0]));
	tcase_add_test(tc, test_cfb_lengths_and_tags);
	tcase_add_loop_test(tc, test_lean_ciphers_match_default, 0,
			    sizeof(lean_cipher_names) /
				    sizeof(lean_cipher_names[0]));
	tcase_add_test(tc, test_lean_other_names_fall_back);
	suite_add_tcase(s, tc);

	tc = tcase_create("ka");
	tcase_add_test(tc, test_ka_lengths);
	tcase_add_loop_test(tc, test_ka_two_parties_agree, 0, 5);
	tcase_add_test(tc, test_x255_rfc7748_6_1);
	tcase_add_test(tc, test_x255_rfc7748_5_2);
	tcase_add_test(tc, test_x255_rejects_small_order);
	tcase_add_test(tc, test_ec25_rfc5903_8_1);
	tcase_add_test(tc, test_ec25_rejects_bad_points);
	tcase_add_test(tc, test_ec38_rfc5903_8_2);
	tcase_add_test(tc, test_ec38_rejects_bad_points);
	tcase_add_test(tc, test_dh3k_known_answer);
	tcase_add_test(tc, test_dh3k_rejects_degenerate);
	suite_add_tcase(s, tc);

	tc = tcase_create("negotiate");
	tcase_add_test(tc, test_prefs_default);
	tcase_add_test(tc, test_prefs_parse);
	tcase_add_test(tc, test_negotiate_intersection);
	tcase_add_test(tc, test_negotiate_ka_faster_first_choice);
	tcase_add_test(tc, test_negotiate_zero_counts);
	tcase_add_test(tc, test_negotiate_gnu_zrtp_hello);
	tcase_add_test(tc, test_negotiate_e255_alias);
	tcase_add_test(tc, test_negotiate_ec38_takes_s384);
	tcase_add_test(tc, test_negotiate_no_common);
	tcase_add_test(tc, test_hello_set_algos);
	suite_add_tcase(s, tc);

	tc = tcase_create("sas");
	tcase_add_test(tc, test_sas_b32);
	tcase_add_test(tc, test_sas_b256);
	tcase_add_test(tc, test_sas_b256_pgp_fingerprint_example);
	tcase_add_test(tc, test_sas_b256_word_lists);
	tcase_add_test(tc, test_ct_equal_and_wipe);
	suite_add_tcase(s, tc);

	return s;
}
