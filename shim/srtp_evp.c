/*
 * AES-ICM, AES-GCM and HMAC-SHA1 for libsrtp2 on OpenSSL libcrypto
 * (srtp_evp.h).
 *
 * The layouts are libsrtp2's public ones (srtp2/cipher.h, srtp2/auth.h):
 * alloc makes the srtp_cipher_t / srtp_auth_t and its state in one block
 * and dealloc frees both (libsrtp2 frees them only through dealloc).
 *
 * AES-ICM (RFC 3711 4.1.1): the counter block is (salt || 0x0000) XOR the
 * IV libsrtp2 builds (SSRC and packet index; for the key derivation, the
 * label), its low 16 bits incremented by one per 16-byte block, and the
 * keystream is AES of the counter blocks. AES is OpenSSL's (EVP, in ECB
 * over the packet's counter blocks at once: AES-NI, pipelined); the
 * counter blocks and the XOR are here, as in every ICM. A keystream stays
 * below 2^16 blocks (1 MiB), which set_iv's budget enforces as libsrtp2's
 * own ICM does (srtp_err_status_terminus). A packet costs one
 * EVP_EncryptUpdate and no allocation: no per-packet EVP_EncryptInit_ex
 * (OpenSSL 3's CTR takes a new IV only through it, a long path that,
 * measured in real calls, cost more than the AES itself). AES-GCM:
 * below.
 *
 * HMAC-SHA1 (RFC 2104): init hashes the key's inner and outer pad blocks
 * once into two SHA_CTX; start copies the inner one into the working
 * state, so a packet costs its own blocks plus one outer block. This uses
 * libcrypto's SHA1_* functions (deprecated in OpenSSL 3 but present in
 * every 3.x) because OpenSSL 3.0's EVP_MAC_init with no key and
 * EVP_MD_CTX_copy_ex both duplicate a provider context, i.e. allocate,
 * per packet.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "shim/srtp_evp.h"
#include "zrtp/evp_lean.h"

#ifdef __SSE2__
#include <emmintrin.h>   /* the counter blocks and the XOR, 16 octets at a time */
#endif

/* libsrtp2's own known answers for AES-192 and AES-GCM (exported by
 * libsrtp2.so and in libsrtp2.a; declared only in its private headers). */
extern srtp_cipher_test_case_t srtp_aes_icm_192_test_case_0;
extern srtp_cipher_test_case_t srtp_aes_gcm_128_test_case_0;
extern srtp_cipher_test_case_t srtp_aes_gcm_256_test_case_0;

#define ICM_SALT_LEN 14
#define SHA1_LEN 20
#define SHA1_BLOCK 64

static unsigned long key_setups;

unsigned long srtp_evp_key_setups(void)
{
	return __atomic_load_n(&key_setups, __ATOMIC_RELAXED);
}

/* --- AES-ICM -------------------------------------------------------------- */

/* The ciphers, fetched once, from the lean context of zrtp/evp_lean.c
 * (the default provider's implementations, without OpenSSL building all
 * its other ciphers first). Keying a context with EVP_aes_128_ctr()
 * instead fetches it again on every init (a name lookup under a lock):
 * libsrtp2's self-test keys each type some 260 times at srtp_init, and
 * each call keys several. */
enum { F_ECB128, F_ECB192, F_ECB256, F_GCM128, F_GCM256, F_N };
static const char *const fetch_names[F_N] = {
	"AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "AES-128-GCM",
	"AES-256-GCM",
};
static EVP_CIPHER *fetched[F_N];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	for (int i = 0; i < F_N; i++)
		fetched[i] = zrtp_evp_cipher_fetch(fetch_names[i]);
}

/* The cipher i; the legacy handle should the fetch have failed (it
 * works, only slower). */
static const EVP_CIPHER *cipher_of(int i)
{
	pthread_once(&fetch_once, fetch_all);
	if (fetched[i] != NULL)
		return fetched[i];
	switch (i) {
	case F_ECB128: return EVP_aes_128_ecb();
	case F_ECB192: return EVP_aes_192_ecb();
	case F_ECB256: return EVP_aes_256_ecb();
	case F_GCM128: return EVP_aes_128_gcm();
	default: return EVP_aes_256_gcm();
	}
}

/* Keys ctx with cipher (enc 1) or only rekeys it when it already has it:
 * passing the cipher again would make OpenSSL free and remake the
 * provider's context. */
static bool key_ctx(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher,
		    const uint8_t *key)
{
	if (EVP_CIPHER_CTX_get0_cipher(ctx) == cipher)
		return EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, 1);
	return EVP_CipherInit_ex(ctx, cipher, NULL, key, NULL, 1);
}

struct icm_state {
	EVP_CIPHER_CTX *ctx;         /* AES in ECB, keyed; EVP_Cipher only */
	int key_size;                /* 16, 24 or 32: the AES key before the
				      * salt */
	uint8_t offset[16];          /* salt || 0x0000 */
	uint8_t ctr[16];             /* the next counter block */
	uint8_t ks[16];              /* the last keystream block ... */
	unsigned ks_left;            /* ... and how many of its octets,
				      * at its end, are not used yet */
	size_t budget;               /* keystream octets left before the
				      * 16-bit block counter would wrap */
};

struct icm_block {
	srtp_cipher_t c;
	struct icm_state s;
};

static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *cp, int key_len,
				   int tag_len)
{
	(void)tag_len;
	const srtp_cipher_type_t *type;
	int algorithm, key_size;
	if (key_len == SRTP_AES_ICM_128_KEY_LEN_WSALT) {
		type = &srtp_evp_aes_icm_128;
		algorithm = SRTP_AES_ICM_128;
		key_size = SRTP_AES_128_KEY_LEN;
	} else if (key_len == SRTP_AES_ICM_192_KEY_LEN_WSALT) {
		type = &srtp_evp_aes_icm_192;
		algorithm = SRTP_AES_ICM_192;
		key_size = SRTP_AES_192_KEY_LEN;
	} else if (key_len == SRTP_AES_ICM_256_KEY_LEN_WSALT) {
		type = &srtp_evp_aes_icm_256;
		algorithm = SRTP_AES_ICM_256;
		key_size = SRTP_AES_256_KEY_LEN;
	} else {
		return srtp_err_status_bad_param;
	}
	struct icm_block *b = calloc(1, sizeof *b);
	if (b == NULL)
		return srtp_err_status_alloc_fail;
	b->s.ctx = EVP_CIPHER_CTX_new();
	if (b->s.ctx == NULL) {
		free(b);
		return srtp_err_status_alloc_fail;
	}
	b->s.key_size = key_size;
	b->c.type = type;
	b->c.state = &b->s;
	b->c.key_len = key_len;
	b->c.algorithm = algorithm;
	*cp = &b->c;
	return srtp_err_status_ok;
}

static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t cp)
{
	if (cp == NULL)
		return srtp_err_status_bad_param;
	struct icm_block *b = (struct icm_block *)cp;
	EVP_CIPHER_CTX_free(b->s.ctx);
	OPENSSL_cleanse(b, sizeof *b);
	free(b);
	return srtp_err_status_ok;
}

/* key: the AES key (key_size octets) followed by the 14-octet salt. */
static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
	struct icm_state *s = state;
	const EVP_CIPHER *evp = cipher_of(
		s->key_size == SRTP_AES_256_KEY_LEN ? F_ECB256 :
		s->key_size == SRTP_AES_192_KEY_LEN ? F_ECB192 : F_ECB128);
	memset(s->offset, 0, sizeof s->offset);
	memcpy(s->offset, key + s->key_size, ICM_SALT_LEN);
	s->budget = 0;
	s->ks_left = 0;
	/* No EVP_CIPHER_CTX_set_padding: the context is only ever used
	 * through EVP_Cipher, on whole blocks, where padding plays no part;
	 * set, OpenSSL would also re-send it to the provider as a parameter
	 * at every rekey (libsrtp2's self-tests rekey some 800 times). */
	if (!key_ctx(s->ctx, evp, key))
		return srtp_err_status_cipher_fail;
	__atomic_fetch_add(&key_setups, 1, __ATOMIC_RELAXED);
	return srtp_err_status_ok;
}

/* The counter block: (salt || 0x0000) XOR iv; nothing of OpenSSL's is
 * touched per packet here. */
static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv,
				    srtp_cipher_direction_t dir)
{
	(void)dir;
	struct icm_state *s = state;
	for (int i = 0; i < 16; i++)
		s->ctr[i] = s->offset[i] ^ iv[i];
	s->budget = (size_t)(0x10000 - ((unsigned)s->ctr[14] << 8 |
					s->ctr[15])) * 16;
	s->ks_left = 0;
	return srtp_err_status_ok;
}

/* n (1..ICM_CHUNK) keystream blocks into ks: the counter blocks from
 * s->ctr on (the low 16 bits counting, RFC 3711 4.1.1; the budget keeps
 * them from wrapping), encrypted in one call. */
#define ICM_CHUNK 96
static bool icm_keystream(struct icm_state *s, uint8_t *ks, size_t n)
{
	unsigned c = (unsigned)s->ctr[14] << 8 | s->ctr[15];
#ifdef __SSE2__
	__m128i t = _mm_loadu_si128((const __m128i *)s->ctr);
	for (size_t b = 0; b < n; b++, c++)
		_mm_storeu_si128((__m128i *)(ks + 16 * b),
				 _mm_insert_epi16(t, (int)(((c & 0xff) << 8) |
							  ((c >> 8) & 0xff)), 7));
#else
	for (size_t b = 0; b < n; b++, c++) {
		memcpy(ks + 16 * b, s->ctr, 14);
		ks[16 * b + 14] = (uint8_t)(c >> 8);
		ks[16 * b + 15] = (uint8_t)c;
	}
#endif
	s->ctr[14] = (uint8_t)(c >> 8);
	s->ctr[15] = (uint8_t)c;
	/* EVP_Cipher: straight to the provider's cipher function (whole
	 * blocks, nothing buffered), not through EVP_EncryptUpdate's
	 * buffering; > 0 on success (the length, or 1 for a legacy one) */
	return EVP_Cipher(s->ctx, ks, ks, (unsigned)(16 * n)) > 0;
}

static void xor_into(uint8_t *buf, const uint8_t *ks, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16)
		_mm_storeu_si128((__m128i *)(buf + i),
				 _mm_xor_si128(_mm_loadu_si128((const __m128i *)(buf + i)),
					       _mm_loadu_si128((const __m128i *)(ks + i))));
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t a, b;
		memcpy(&a, buf + i, 8);
		memcpy(&b, ks + i, 8);
		a ^= b;
		memcpy(buf + i, &a, 8);
	}
	for (; i < n; i++)
		buf[i] ^= ks[i];
}

/* Encrypts and decrypts alike, in place, going on with the keystream of
 * the last set_iv (libsrtp2 may take a keystream prefix first, of any
 * length: what is left of a block is kept for the next call). */
static srtp_err_status_t icm_encrypt(void *state, uint8_t *buf,
				     unsigned int *len)
{
	struct icm_state *s = state;
	size_t n = *len;
	if (n > s->budget + s->ks_left)
		return srtp_err_status_terminus;
	size_t take = n < s->ks_left ? n : s->ks_left;
	xor_into(buf, s->ks + 16 - s->ks_left, take);
	s->ks_left -= (unsigned)take;
	buf += take;
	n -= take;
	uint8_t ks[16 * ICM_CHUNK];
	size_t used = 0;             /* of ks, to wipe */
	while (n > 0) {
		size_t blocks = (n + 15) / 16;
		if (blocks > ICM_CHUNK)
			blocks = ICM_CHUNK;
		if (16 * blocks > used)
			used = 16 * blocks;
		if (!icm_keystream(s, ks, blocks)) {
			OPENSSL_cleanse(ks, used);
			return srtp_err_status_cipher_fail;
		}
		s->budget -= 16 * blocks;
		size_t use = n < 16 * blocks ? n : 16 * blocks;
		xor_into(buf, ks, use);
		buf += use;
		n -= use;
		if (use < 16 * blocks) {
			/* the last block's unused end, for the next call */
			s->ks_left = (unsigned)(16 * blocks - use);
			memcpy(s->ks, ks + 16 * (blocks - 1), 16);
		}
	}
	OPENSSL_cleanse(ks, used);
	return srtp_err_status_ok;
}

/* Known answers for the self-test libsrtp2 runs at installation: RFC 3711
 * B.2 (AES-128, the first three keystream blocks and the three around the
 * counter's low byte wrapping) and RFC 6188 7.1 (AES-256), as keystream
 * over a zero plaintext. The IV is zero: the counter is the salt. */
static const uint8_t kat_zero[48];
static const uint8_t kat_iv0[16];
static uint8_t kat_iv_feff[16] = { [14] = 0xfe, [15] = 0xff };

static const uint8_t rfc3711_b2_key[30] = {
	0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
	0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t rfc3711_b2_ks0[48] = {
	0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80,
	0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
	0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7,
	0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab,
	0x41, 0xe9, 0x5b, 0x3b, 0xb0, 0xa2, 0xe8, 0xdd,
	0x47, 0x79, 0x01, 0xe4, 0xfc, 0xa8, 0x94, 0xc0,
};
static const uint8_t rfc3711_b2_ks_feff[48] = {
	0xec, 0x8c, 0xdf, 0x73, 0x98, 0x60, 0x7c, 0xb0,
	0xf2, 0xd2, 0x16, 0x75, 0xea, 0x9e, 0xa1, 0xe4,
	0x36, 0x2b, 0x7c, 0x3c, 0x67, 0x73, 0x51, 0x63,
	0x18, 0xa0, 0x77, 0xd7, 0xfc, 0x50, 0x73, 0xae,
	0x6a, 0x2c, 0xc3, 0x78, 0x78, 0x89, 0x37, 0x4f,
	0xbe, 0xb4, 0xc8, 0x1b, 0x17, 0xba, 0x6c, 0x44,
};
static const uint8_t rfc6188_71_key[46] = {
	0x57, 0xf8, 0x2f, 0xe3, 0x61, 0x3f, 0xd1, 0x70,
	0xa8, 0x5e, 0xc9, 0x3c, 0x40, 0xb1, 0xf0, 0x92,
	0x2e, 0xc4, 0xcb, 0x0d, 0xc0, 0x25, 0xb5, 0x82,
	0x72, 0x14, 0x7c, 0xc4, 0x38, 0x94, 0x4a, 0x98,
	0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
	0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
};
static const uint8_t rfc6188_71_ks0[48] = {
	0x92, 0xbd, 0xd2, 0x8a, 0x93, 0xc3, 0xf5, 0x25,
	0x11, 0xc6, 0x77, 0xd0, 0x8b, 0x55, 0x15, 0xa4,
	0x9d, 0xa7, 0x1b, 0x23, 0x78, 0xa8, 0x54, 0xf6,
	0x70, 0x50, 0x75, 0x6d, 0xed, 0x16, 0x5b, 0xac,
	0x63, 0xc4, 0x86, 0x8b, 0x70, 0x96, 0xd8, 0x84,
	0x21, 0xb5, 0x63, 0xb8, 0xc9, 0x4c, 0x9a, 0x31,
};

static const srtp_cipher_test_case_t icm128_kat1 = {
	.key_length_octets = SRTP_AES_ICM_128_KEY_LEN_WSALT,
	.key = rfc3711_b2_key,
	.idx = kat_iv_feff,
	.plaintext_length_octets = 48,
	.plaintext = kat_zero,
	.ciphertext_length_octets = 48,
	.ciphertext = rfc3711_b2_ks_feff,
};
static const srtp_cipher_test_case_t icm128_kat0 = {
	.key_length_octets = SRTP_AES_ICM_128_KEY_LEN_WSALT,
	.key = rfc3711_b2_key,
	.idx = (uint8_t *)kat_iv0,
	.plaintext_length_octets = 48,
	.plaintext = kat_zero,
	.ciphertext_length_octets = 48,
	.ciphertext = rfc3711_b2_ks0,
	.next_test_case = &icm128_kat1,
};
static const srtp_cipher_test_case_t icm256_kat0 = {
	.key_length_octets = SRTP_AES_ICM_256_KEY_LEN_WSALT,
	.key = rfc6188_71_key,
	.idx = (uint8_t *)kat_iv0,
	.plaintext_length_octets = 48,
	.plaintext = kat_zero,
	.ciphertext_length_octets = 48,
	.ciphertext = rfc6188_71_ks0,
};

const srtp_cipher_type_t srtp_evp_aes_icm_128 = {
	.alloc = icm_alloc,
	.dealloc = icm_dealloc,
	.init = icm_init,
	.encrypt = icm_encrypt,
	.decrypt = icm_encrypt,
	.set_iv = icm_set_iv,
	.description = "AES-128 counter mode on OpenSSL EVP (zrtpshim)",
	.test_data = &icm128_kat0,
	.id = SRTP_AES_ICM_128,
};

const srtp_cipher_type_t srtp_evp_aes_icm_256 = {
	.alloc = icm_alloc,
	.dealloc = icm_dealloc,
	.init = icm_init,
	.encrypt = icm_encrypt,
	.decrypt = icm_encrypt,
	.set_iv = icm_set_iv,
	.description = "AES-256 counter mode on OpenSSL EVP (zrtpshim)",
	.test_data = &icm256_kat0,
	.id = SRTP_AES_ICM_256,
};

/* AES-192: libsrtp2's own known answer (its exported test case). */
const srtp_cipher_type_t srtp_evp_aes_icm_192 = {
	.alloc = icm_alloc,
	.dealloc = icm_dealloc,
	.init = icm_init,
	.encrypt = icm_encrypt,
	.decrypt = icm_encrypt,
	.set_iv = icm_set_iv,
	.description = "AES-192 counter mode on OpenSSL EVP (zrtpshim)",
	.test_data = &srtp_aes_icm_192_test_case_0,
	.id = SRTP_AES_ICM_192,
};

/* --- AES-GCM -------------------------------------------------------------- */

/*
 * AES-GCM as libsrtp2's srtp.c drives it (RFC 7714): init takes the AES
 * key alone (srtp.c folds the salt into the 12-octet IV itself); per
 * packet, set_iv with the direction, set_aad with the authenticated
 * header, then encrypt and get_tag (the tag is written after the
 * ciphertext), or decrypt over ciphertext and tag, which checks the tag
 * and leaves the plaintext length. Not used by ZRTP's profiles; here so
 * that the kernel holds no NSS type (srtp_evp.h).
 */
struct gcm_state {
	EVP_CIPHER_CTX *ctx;
	int key_size;                /* 16 or 32 */
	int tag_len;                 /* 8 or 16 */
	srtp_cipher_direction_t dir;
};

struct gcm_block {
	srtp_cipher_t c;
	struct gcm_state s;
};

static srtp_err_status_t gcm_alloc(srtp_cipher_pointer_t *cp, int key_len,
				   int tag_len)
{
	const srtp_cipher_type_t *type;
	int algorithm, key_size;
	if (key_len == SRTP_AES_GCM_128_KEY_LEN_WSALT) {
		type = &srtp_evp_aes_gcm_128;
		algorithm = SRTP_AES_GCM_128;
		key_size = SRTP_AES_128_KEY_LEN;
	} else if (key_len == SRTP_AES_GCM_256_KEY_LEN_WSALT) {
		type = &srtp_evp_aes_gcm_256;
		algorithm = SRTP_AES_GCM_256;
		key_size = SRTP_AES_256_KEY_LEN;
	} else {
		return srtp_err_status_bad_param;
	}
	if (tag_len != 8 && tag_len != 16)
		return srtp_err_status_bad_param;
	struct gcm_block *b = calloc(1, sizeof *b);
	if (b == NULL)
		return srtp_err_status_alloc_fail;
	b->s.ctx = EVP_CIPHER_CTX_new();
	if (b->s.ctx == NULL) {
		free(b);
		return srtp_err_status_alloc_fail;
	}
	b->s.key_size = key_size;
	b->s.tag_len = tag_len;
	b->s.dir = srtp_direction_any;
	b->c.type = type;
	b->c.state = &b->s;
	b->c.key_len = key_len;
	b->c.algorithm = algorithm;
	*cp = &b->c;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_dealloc(srtp_cipher_pointer_t cp)
{
	if (cp == NULL)
		return srtp_err_status_bad_param;
	struct gcm_block *b = (struct gcm_block *)cp;
	EVP_CIPHER_CTX_free(b->s.ctx);
	OPENSSL_cleanse(b, sizeof *b);
	free(b);
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_init(void *state, const uint8_t *key)
{
	struct gcm_state *s = state;
	s->dir = srtp_direction_any;
	if (!key_ctx(s->ctx, cipher_of(s->key_size == SRTP_AES_256_KEY_LEN ?
				       F_GCM256 : F_GCM128), key))
		return srtp_err_status_init_fail;
	__atomic_fetch_add(&key_setups, 1, __ATOMIC_RELAXED);
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_iv(void *state, uint8_t *iv,
				    srtp_cipher_direction_t dir)
{
	struct gcm_state *s = state;
	if (dir != srtp_direction_encrypt && dir != srtp_direction_decrypt)
		return srtp_err_status_bad_param;
	s->dir = dir;
	if (!EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, iv,
			       dir == srtp_direction_encrypt))
		return srtp_err_status_init_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_set_aad(void *state, const uint8_t *aad,
				     uint32_t len)
{
	struct gcm_state *s = state;
	int out = 0;
	if (s->dir == srtp_direction_any || len > INT_MAX)
		return srtp_err_status_bad_param;
	if (len > 0 && !EVP_CipherUpdate(s->ctx, NULL, &out, aad, (int)len))
		return srtp_err_status_algo_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t gcm_encrypt(void *state, uint8_t *buf,
				     unsigned int *len)
{
	struct gcm_state *s = state;
	int out = 0;
	if (s->dir != srtp_direction_encrypt || *len > INT_MAX)
		return srtp_err_status_bad_param;
	if (*len > 0 && (!EVP_CipherUpdate(s->ctx, buf, &out, buf, (int)*len) ||
			 out != (int)*len))
		return srtp_err_status_cipher_fail;
	return srtp_err_status_ok;
}

/* After encrypt: the tag (tag_len octets) into tag. */
static srtp_err_status_t gcm_get_tag(void *state, uint8_t *tag, uint32_t *len)
{
	struct gcm_state *s = state;
	uint8_t none[16];
	int out = 0;
	if (s->dir != srtp_direction_encrypt)
		return srtp_err_status_bad_param;
	if (!EVP_CipherFinal_ex(s->ctx, none, &out) ||
	    !EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, s->tag_len, tag))
		return srtp_err_status_algo_fail;
	*len = (uint32_t)s->tag_len;
	return srtp_err_status_ok;
}

/* buf holds the ciphertext and then the tag; on success, *len is the
 * plaintext's. A wrong tag: srtp_err_status_auth_fail. */
static srtp_err_status_t gcm_decrypt(void *state, uint8_t *buf,
				     unsigned int *len)
{
	struct gcm_state *s = state;
	uint8_t none[16];
	int out = 0;
	if (s->dir != srtp_direction_decrypt || *len > INT_MAX ||
	    *len < (unsigned)s->tag_len)
		return srtp_err_status_bad_param;
	unsigned int n = *len - (unsigned)s->tag_len;
	if (!EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_SET_TAG, s->tag_len,
				 buf + n))
		return srtp_err_status_algo_fail;
	if (n > 0 && (!EVP_CipherUpdate(s->ctx, buf, &out, buf, (int)n) ||
		      out != (int)n))
		return srtp_err_status_cipher_fail;
	if (EVP_CipherFinal_ex(s->ctx, none, &out) <= 0)
		return srtp_err_status_auth_fail;
	*len = n;
	return srtp_err_status_ok;
}

/* Known answers: libsrtp2's own (its exported test cases, tags of 16 and
 * of 8 octets). */
const srtp_cipher_type_t srtp_evp_aes_gcm_128 = {
	.alloc = gcm_alloc,
	.dealloc = gcm_dealloc,
	.init = gcm_init,
	.set_aad = gcm_set_aad,
	.encrypt = gcm_encrypt,
	.decrypt = gcm_decrypt,
	.set_iv = gcm_set_iv,
	.get_tag = gcm_get_tag,
	.description = "AES-128 GCM on OpenSSL EVP (zrtpshim)",
	.test_data = &srtp_aes_gcm_128_test_case_0,
	.id = SRTP_AES_GCM_128,
};

const srtp_cipher_type_t srtp_evp_aes_gcm_256 = {
	.alloc = gcm_alloc,
	.dealloc = gcm_dealloc,
	.init = gcm_init,
	.set_aad = gcm_set_aad,
	.encrypt = gcm_encrypt,
	.decrypt = gcm_decrypt,
	.set_iv = gcm_set_iv,
	.get_tag = gcm_get_tag,
	.description = "AES-256 GCM on OpenSSL EVP (zrtpshim)",
	.test_data = &srtp_aes_gcm_256_test_case_0,
	.id = SRTP_AES_GCM_256,
};

/* --- HMAC-SHA1 ------------------------------------------------------------ */

struct hmac_state {
	SHA_CTX inner;               /* after the key's ipad block */
	SHA_CTX outer;               /* after the key's opad block */
	SHA_CTX work;
};

struct hmac_block {
	srtp_auth_t a;
	struct hmac_state s;
};

static srtp_err_status_t hmac_alloc(srtp_auth_pointer_t *ap, int key_len,
				    int out_len)
{
	/* As libsrtp2's own: keys and tags of at most one SHA-1 output. */
	if (key_len < 0 || key_len > SHA1_LEN || out_len < 0 ||
	    out_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	struct hmac_block *b = calloc(1, sizeof *b);
	if (b == NULL)
		return srtp_err_status_alloc_fail;
	b->a.type = &srtp_evp_hmac_sha1;
	b->a.state = &b->s;
	b->a.out_len = out_len;
	b->a.key_len = key_len;
	b->a.prefix_len = 0;
	*ap = &b->a;
	return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_pointer_t ap)
{
	if (ap == NULL)
		return srtp_err_status_bad_param;
	struct hmac_block *b = (struct hmac_block *)ap;
	OPENSSL_cleanse(b, sizeof *b);
	free(b);
	return srtp_err_status_ok;
}

static srtp_err_status_t hmac_init(void *state, const uint8_t *key,
				   int key_len)
{
	struct hmac_state *s = state;
	uint8_t pad[SHA1_BLOCK];
	if (key_len < 0 || key_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	memset(pad, 0x36, sizeof pad);
	for (int i = 0; i < key_len; i++)
		pad[i] ^= key[i];
	int ok = SHA1_Init(&s->inner) && SHA1_Update(&s->inner, pad, sizeof pad);
	for (size_t i = 0; i < sizeof pad; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	ok = ok && SHA1_Init(&s->outer) && SHA1_Update(&s->outer, pad, sizeof pad);
	OPENSSL_cleanse(pad, sizeof pad);
	s->work = s->inner;
	return ok ? srtp_err_status_ok : srtp_err_status_auth_fail;
}

static srtp_err_status_t hmac_start(void *state)
{
	struct hmac_state *s = state;
	s->work = s->inner;
	return srtp_err_status_ok;
}

static srtp_err_status_t hmac_update(void *state, const uint8_t *buf,
				     int len)
{
	struct hmac_state *s = state;
	if (len < 0)
		return srtp_err_status_bad_param;
	if (!SHA1_Update(&s->work, buf, (size_t)len))
		return srtp_err_status_auth_fail;
	return srtp_err_status_ok;
}

static srtp_err_status_t hmac_compute(void *state, const uint8_t *buf,
				      int len, int tag_len, uint8_t *tag)
{
	struct hmac_state *s = state;
	uint8_t h[SHA1_LEN];
	if (len < 0 || tag_len < 0 || tag_len > SHA1_LEN)
		return srtp_err_status_bad_param;
	int ok = SHA1_Update(&s->work, buf, (size_t)len) &&
		 SHA1_Final(h, &s->work);
	s->work = s->outer;
	ok = ok && SHA1_Update(&s->work, h, sizeof h) && SHA1_Final(h, &s->work);
	memcpy(tag, h, (size_t)tag_len);
	OPENSSL_cleanse(h, sizeof h);
	return ok ? srtp_err_status_ok : srtp_err_status_auth_fail;
}

/* RFC 2202 section 3, test cases 1 to 3 (4 to 7 have keys longer than the
 * 20 octets libsrtp2's HMAC takes). */
static const uint8_t rfc2202_k1[20] = {
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
};
static const uint8_t rfc2202_t1[20] = {
	0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
	0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00,
};
static const uint8_t rfc2202_t2[20] = {
	0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
	0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79,
};
static const uint8_t rfc2202_k3[20] = {
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
};
static const uint8_t rfc2202_d3[50] = {
	0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
	0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
	0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
	0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
	0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
};
static const uint8_t rfc2202_t3[20] = {
	0x12, 0x5d, 0x73, 0x42, 0xb9, 0xac, 0x11, 0xcd, 0x91, 0xa3,
	0x9a, 0xf4, 0x8a, 0xa1, 0x7b, 0x4f, 0x63, 0xf1, 0x75, 0xd3,
};

static const srtp_auth_test_case_t hmac_kat3 = {
	.key_length_octets = 20, .key = rfc2202_k3,
	.data_length_octets = 50, .data = rfc2202_d3,
	.tag_length_octets = 20, .tag = rfc2202_t3,
};
static const srtp_auth_test_case_t hmac_kat2 = {
	.key_length_octets = 4, .key = (const uint8_t *)"Jefe",
	.data_length_octets = 28,
	.data = (const uint8_t *)"what do ya want for nothing?",
	.tag_length_octets = 20, .tag = rfc2202_t2,
	.next_test_case = &hmac_kat3,
};
static const srtp_auth_test_case_t hmac_kat1 = {
	.key_length_octets = 20, .key = rfc2202_k1,
	.data_length_octets = 8, .data = (const uint8_t *)"Hi There",
	.tag_length_octets = 20, .tag = rfc2202_t1,
	.next_test_case = &hmac_kat2,
};

const srtp_auth_type_t srtp_evp_hmac_sha1 = {
	.alloc = hmac_alloc,
	.dealloc = hmac_dealloc,
	.init = hmac_init,
	.compute = hmac_compute,
	.update = hmac_update,
	.start = hmac_start,
	.description = "HMAC-SHA1 on OpenSSL libcrypto (zrtpshim)",
	.test_data = &hmac_kat1,
	.id = SRTP_HMAC_SHA1,
};

/* --- installation --------------------------------------------------------- */

/* Two functions of libsrtp2's crypto kernel that only its private
 * crypto_kernel.h declares (exported by libsrtp2.so and in libsrtp2.a). */
const srtp_cipher_type_t *
srtp_crypto_kernel_get_cipher_type(srtp_cipher_type_id_t id);
const srtp_auth_type_t *srtp_crypto_kernel_get_auth_type(srtp_auth_type_id_t id);

static const struct {
	const srtp_cipher_type_t *type;
	srtp_cipher_type_id_t id;
} our_ciphers[] = {
	{ &srtp_evp_aes_icm_128, SRTP_AES_ICM_128 },
	{ &srtp_evp_aes_icm_192, SRTP_AES_ICM_192 },
	{ &srtp_evp_aes_icm_256, SRTP_AES_ICM_256 },
	{ &srtp_evp_aes_gcm_128, SRTP_AES_GCM_128 },
	{ &srtp_evp_aes_gcm_256, SRTP_AES_GCM_256 },
};

srtp_err_status_t srtp_evp_install(void)
{
	srtp_err_status_t first = srtp_err_status_ok, e;
	for (size_t i = 0; i < sizeof our_ciphers / sizeof our_ciphers[0]; i++) {
		const srtp_cipher_type_t *cur =
			srtp_crypto_kernel_get_cipher_type(our_ciphers[i].id);
		if (cur == our_ciphers[i].type)
			continue;   /* in already (SRTP_EVP_KERNEL_NAMES) */
		/* A kernel without that type (a libsrtp2 built without GCM)
		 * is left so: replacing would add it. */
		if (cur == NULL)
			continue;
		e = srtp_replace_cipher_type(our_ciphers[i].type,
					     our_ciphers[i].id);
		if (e != srtp_err_status_ok && first == srtp_err_status_ok)
			first = e;
	}
	if (srtp_crypto_kernel_get_auth_type(SRTP_HMAC_SHA1) != &srtp_evp_hmac_sha1) {
		e = srtp_replace_auth_type(&srtp_evp_hmac_sha1, SRTP_HMAC_SHA1);
		if (e != srtp_err_status_ok && first == srtp_err_status_ok)
			first = e;
	}
	return first;
}

#ifdef SRTP_EVP_KERNEL_NAMES
/*
 * The shim links libsrtp2.a (shim/static-deps.sh). Its crypto_kernel.o,
 * which srtp_init's kernel comes from, names the types it loads:
 * srtp_aes_icm_128/192/256, srtp_aes_gcm_128/256, srtp_hmac, and their
 * debug modules. Defined here, they are ours, so the linker takes none of
 * the archive's NSS objects (aes_icm_nss.o, aes_gcm_nss.o, hmac_nss.o):
 * the shim then neither needs NSS nor loads it into the client, whose own
 * NSS (if it has one) stays its own, and srtp_init keys and self-tests
 * these types instead of opening NSS (about 7 ms of CPU per process).
 * srtp_evp_install then finds them in place. tests/shim/check-exports.sh
 * fails if any NSS code is linked in.
 */
extern const srtp_cipher_type_t srtp_aes_icm_128
	__attribute__((alias("srtp_evp_aes_icm_128")));
extern const srtp_cipher_type_t srtp_aes_icm_192
	__attribute__((alias("srtp_evp_aes_icm_192")));
extern const srtp_cipher_type_t srtp_aes_icm_256
	__attribute__((alias("srtp_evp_aes_icm_256")));
extern const srtp_cipher_type_t srtp_aes_gcm_128
	__attribute__((alias("srtp_evp_aes_gcm_128")));
extern const srtp_cipher_type_t srtp_aes_gcm_256
	__attribute__((alias("srtp_evp_aes_gcm_256")));
extern const srtp_auth_type_t srtp_hmac
	__attribute__((alias("srtp_evp_hmac_sha1")));

/* libsrtp2's srtp_debug_module_t (its private err.h): on, name. */
struct srtp_evp_debug_module {
	int on;
	const char *name;
};
struct srtp_evp_debug_module srtp_mod_aes_icm = { 0, "aes icm" };
struct srtp_evp_debug_module srtp_mod_aes_gcm = { 0, "aes gcm" };
struct srtp_evp_debug_module srtp_mod_hmac = { 0, "hmac sha-1" };

/*
 * rand() as libsrtp2.a's cipher.o alone calls it: the random keys and
 * data of its cipher self-tests (srtp_cipher_rand_for_tests, one call per
 * octet), which srtp_init runs for every type, some 400,000 calls. glibc's
 * rand takes a lock on each, about 1 ms of CPU per process. Defined here,
 * this generator (xorshift32, per thread) is what the linker gives
 * cipher.o; it is local to the shim (exports.map), so a client's rand is
 * still libc's, and nothing else linked in calls rand. Test inputs need
 * no more than variety.
 */
int rand(void)
{
	static __thread uint32_t x = 2463534242u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return (int)(x & RAND_MAX);
}
#endif
