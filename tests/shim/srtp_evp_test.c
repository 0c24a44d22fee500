/*
 * shim/srtp_evp.c against libsrtp2's own AES-ICM, AES-GCM and HMAC-SHA1
 * (Debian's, on NSS), which stay reachable as libsrtp2's exported type
 * structs (this test links the shared libsrtp2, not the shim): the
 * RFC vectors, libsrtp2's known-answer tests, and whole SRTP and SRTCP
 * sessions of every profile, one side on ours and the other on stock,
 * byte for byte, across a rollover and with replays. First of all, the
 * shim's own initialisation (media_init, the real shim/media_engine.c
 * with the stand-ins of stubs.c) must have put ours in libsrtp2's kernel.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <srtp2/srtp.h>

#include "shim/events.h"
#include "shim/keylog.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/srtp_evp.h"
#include "tests/shim/stubs.h"

/* libsrtp2's own types (exported data of libsrtp2.so) and two functions
 * of its crypto kernel that only its private crypto_kernel.h declares. */
extern const srtp_cipher_type_t srtp_aes_icm_128;
extern const srtp_cipher_type_t srtp_aes_icm_192;
extern const srtp_cipher_type_t srtp_aes_icm_256;
extern const srtp_cipher_type_t srtp_aes_gcm_128;
extern const srtp_cipher_type_t srtp_aes_gcm_256;
extern const srtp_auth_type_t srtp_hmac;
srtp_err_status_t srtp_crypto_kernel_alloc_cipher(srtp_cipher_type_id_t id,
						  srtp_cipher_pointer_t *cp,
						  int key_len, int tag_len);
srtp_err_status_t srtp_crypto_kernel_alloc_auth(srtp_auth_type_id_t id,
						srtp_auth_pointer_t *ap,
						int key_len, int tag_len);

/* ---- test-only stand-ins for the rest of the shim (as media_test.c) ----- */

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	int saved = errno;
	if (lvl <= SHIM_LOG_WARN) {
		char line[1024];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(line, sizeof line, fmt, ap);
		va_end(ap);
		dprintf(2, "  [shim %d] %s\n", (int)lvl, line);
	}
	errno = saved;
}

void shim_events_emit_shim(enum shim_event_kind kind, const char *stream_name,
			   const char *label, const char *sas,
			   const char *peer_zid, const char *reason)
{
	(void)kind, (void)stream_name, (void)label, (void)sas, (void)peer_zid,
		(void)reason;
}

void shim_events_emit(const char *stream_name, const struct zrtp_event *ev,
		      const char *sas)
{
	(void)stream_name, (void)ev, (void)sas;
}

void shim_events_emit_altered(const char *stream_name, bool altered,
			      const char *sas, const char *detail)
{
	(void)stream_name, (void)altered, (void)sas, (void)detail;
}

void shim_keylog_write(const char *stream_name, uint16_t local_rtp_port,
		       uint16_t local_rtcp_port,
		       const struct sockaddr_storage *peer_rtp,
		       const struct sockaddr_storage *peer_rtcp,
		       const struct zrtp_srtp_keys *keys)
{
	(void)stream_name, (void)local_rtp_port, (void)local_rtcp_port;
	(void)peer_rtp, (void)peer_rtcp, (void)keys;
}

/* ---- allocation counter ------------------------------------------------ */

/* malloc, calloc and realloc of the whole process (libsrtp2, libcrypto
 * and NSS call them through the dynamic linker, which finds these first)
 * counted and passed to glibc (exported: the build hides symbols by
 * default). Not under ASan, whose own allocator must
 * stay the only one. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
static unsigned long allocs;

__attribute__((visibility("default")))
void *malloc(size_t n)
{
	__atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED);
	return __libc_malloc(n);
}

__attribute__((visibility("default")))
void *calloc(size_t n, size_t m)
{
	__atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED);
	return __libc_calloc(n, m);
}

__attribute__((visibility("default")))
void *realloc(void *p, size_t n)
{
	__atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED);
	return __libc_realloc(p, n);
}
#endif

/* ---- helpers -------------------------------------------------------------- */

enum impl { STOCK, OURS };

/* Puts one side's three types in libsrtp2's kernel; what srtp_create
 * makes next (the key derivation included) runs on them. */
static void kernel_use(enum impl w)
{
	ck_assert_int_eq(srtp_replace_cipher_type(w == OURS ?
		&srtp_evp_aes_icm_128 : &srtp_aes_icm_128, SRTP_AES_ICM_128), 0);
	ck_assert_int_eq(srtp_replace_cipher_type(w == OURS ?
		&srtp_evp_aes_icm_192 : &srtp_aes_icm_192, SRTP_AES_ICM_192), 0);
	ck_assert_int_eq(srtp_replace_cipher_type(w == OURS ?
		&srtp_evp_aes_icm_256 : &srtp_aes_icm_256, SRTP_AES_ICM_256), 0);
	ck_assert_int_eq(srtp_replace_cipher_type(w == OURS ?
		&srtp_evp_aes_gcm_128 : &srtp_aes_gcm_128, SRTP_AES_GCM_128), 0);
	ck_assert_int_eq(srtp_replace_cipher_type(w == OURS ?
		&srtp_evp_aes_gcm_256 : &srtp_aes_gcm_256, SRTP_AES_GCM_256), 0);
	ck_assert_int_eq(srtp_replace_auth_type(w == OURS ?
		&srtp_evp_hmac_sha1 : &srtp_hmac, SRTP_HMAC_SHA1), 0);
}

static void hex(const char *s, uint8_t *out, size_t n)
{
	ck_assert_uint_eq(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* n octets of keystream of type ct (key with salt, klen octets) at iv. */
static void keystream(const srtp_cipher_type_t *ct, const uint8_t *key,
		      int klen, uint8_t iv[16], uint8_t *out, uint32_t n)
{
	srtp_cipher_t *c = NULL;
	ck_assert_int_eq(srtp_cipher_type_alloc(ct, &c, klen, 0), 0);
	ck_assert_int_eq(srtp_cipher_init(c, key), 0);
	ck_assert_int_eq(srtp_cipher_set_iv(c, iv, srtp_direction_encrypt), 0);
	ck_assert_int_eq(srtp_cipher_output(c, out, &n), 0);
	ck_assert_int_eq(srtp_cipher_dealloc(c), 0);
}

/* ---- the shim's initialisation installs ours ------------------------------ */

START_TEST(installed_by_media_init)
{
	srtp_cipher_t *c = NULL;
	ck_assert_int_eq(srtp_crypto_kernel_alloc_cipher(SRTP_AES_ICM_128, &c,
		SRTP_AES_ICM_128_KEY_LEN_WSALT, 0), 0);
	ck_assert_ptr_eq(c->type, &srtp_evp_aes_icm_128);
	ck_assert_str_eq(c->type->description, srtp_evp_aes_icm_128.description);
	srtp_cipher_dealloc(c);
	c = NULL;
	ck_assert_int_eq(srtp_crypto_kernel_alloc_cipher(SRTP_AES_ICM_256, &c,
		SRTP_AES_ICM_256_KEY_LEN_WSALT, 0), 0);
	ck_assert_ptr_eq(c->type, &srtp_evp_aes_icm_256);
	srtp_cipher_dealloc(c);
	c = NULL;
	ck_assert_int_eq(srtp_crypto_kernel_alloc_cipher(SRTP_AES_ICM_192, &c,
		SRTP_AES_ICM_192_KEY_LEN_WSALT, 0), 0);
	ck_assert_ptr_eq(c->type, &srtp_evp_aes_icm_192);
	srtp_cipher_dealloc(c);
	c = NULL;
	ck_assert_int_eq(srtp_crypto_kernel_alloc_cipher(SRTP_AES_GCM_128, &c,
		SRTP_AES_GCM_128_KEY_LEN_WSALT, 16), 0);
	ck_assert_ptr_eq(c->type, &srtp_evp_aes_gcm_128);
	srtp_cipher_dealloc(c);
	c = NULL;
	ck_assert_int_eq(srtp_crypto_kernel_alloc_cipher(SRTP_AES_GCM_256, &c,
		SRTP_AES_GCM_256_KEY_LEN_WSALT, 8), 0);
	ck_assert_ptr_eq(c->type, &srtp_evp_aes_gcm_256);
	srtp_cipher_dealloc(c);
	srtp_auth_t *a = NULL;
	ck_assert_int_eq(srtp_crypto_kernel_alloc_auth(SRTP_HMAC_SHA1, &a, 20,
						       10), 0);
	ck_assert_ptr_eq(a->type, &srtp_evp_hmac_sha1);
	a->type->dealloc(a);

	/* and a session made through the public API is keyed on ours */
	srtp_policy_t p;
	uint8_t key[30] = { 1, 2, 3 };
	memset(&p, 0, sizeof p);
	srtp_crypto_policy_set_rtp_default(&p.rtp);
	srtp_crypto_policy_set_rtp_default(&p.rtcp);
	p.ssrc.type = ssrc_any_outbound;
	p.key = key;
	unsigned long before = srtp_evp_key_setups();
	srtp_t s;
	ck_assert_int_eq(srtp_create(&s, &p), 0);
	ck_assert_uint_gt(srtp_evp_key_setups(), before);
	srtp_dealloc(s);
}
END_TEST

/* ---- RFC vectors ------------------------------------------------------------ */

/* RFC 3711 B.2: the AES-CM keystream for session key 2B7E..., salt
 * F0F1...FD, ROC, SEQ and SSRC 0 (IV 0), blocks 0-2 and 0xFEFF-0xFF01. */
START_TEST(rfc3711_b2_keystream)
{
	static const struct { unsigned ctr; const char *ks; } blocks[] = {
		{ 0x0000, "E03EAD0935C95E80E166B16DD92B4EB4" },
		{ 0x0001, "D23513162B02D0F72A43A2FE4A5F97AB" },
		{ 0x0002, "41E95B3BB0A2E8DD477901E4FCA894C0" },
		{ 0xfeff, "EC8CDF7398607CB0F2D21675EA9EA1E4" },
		{ 0xff00, "362B7C3C6773516318A077D7FC5073AE" },
		{ 0xff01, "6A2CC3787889374FBEB4C81B17BA6C44" },
	};
	uint8_t key[30];
	hex("2B7E151628AED2A6ABF7158809CF4F3C" "F0F1F2F3F4F5F6F7F8F9FAFBFCFD",
	    key, sizeof key);
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		uint8_t iv[16] = { 0 }, want[16], ours[16], stock[16];
		/* the counter is salt XOR IV: the block number goes in the IV */
		iv[14] = (uint8_t)(blocks[i].ctr >> 8);
		iv[15] = (uint8_t)blocks[i].ctr;
		hex(blocks[i].ks, want, sizeof want);
		keystream(&srtp_evp_aes_icm_128, key, 30, iv, ours, 16);
		keystream(&srtp_aes_icm_128, key, 30, iv, stock, 16);
		ck_assert_mem_eq(ours, want, 16);
		ck_assert_mem_eq(stock, want, 16);
	}
	/* one run of 0x103 blocks through the low byte's wrap, and a long
	 * run at a random IV: the same as stock */
	static uint8_t ours[0x1030], stock[0x1030];
	uint8_t iv[16] = { 0 };
	iv[14] = 0xfe;
	keystream(&srtp_evp_aes_icm_128, key, 30, iv, ours, 0x1030);
	keystream(&srtp_aes_icm_128, key, 30, iv, stock, 0x1030);
	ck_assert_mem_eq(ours, stock, 0x1030);
	randombytes_buf(iv, 14);
	iv[14] = iv[15] = 0;
	keystream(&srtp_evp_aes_icm_128, key, 30, iv, ours, sizeof ours);
	keystream(&srtp_aes_icm_128, key, 30, iv, stock, sizeof stock);
	ck_assert_mem_eq(ours, stock, sizeof ours);
}
END_TEST

/* RFC 6188 7.1: the same for AES-256, and a random key and IV. */
START_TEST(rfc6188_71_keystream)
{
	uint8_t key[46], want[48], ours[1400], stock[1400], iv[16] = { 0 };
	hex("57f82fe3613fd170a85ec93c40b1f092" "2ec4cb0dc025b58272147cc438944a98"
	    "f0f1f2f3f4f5f6f7f8f9fafbfcfd", key, sizeof key);
	hex("92bdd28a93c3f52511c677d08b5515a4" "9da71b2378a854f67050756ded165bac"
	    "63c4868b7096d88421b563b8c94c9a31", want, sizeof want);
	keystream(&srtp_evp_aes_icm_256, key, 46, iv, ours, 48);
	keystream(&srtp_aes_icm_256, key, 46, iv, stock, 48);
	ck_assert_mem_eq(ours, want, 48);
	ck_assert_mem_eq(stock, want, 48);
	randombytes_buf(key, sizeof key);
	randombytes_buf(iv, 14);
	keystream(&srtp_evp_aes_icm_256, key, 46, iv, ours, sizeof ours);
	keystream(&srtp_aes_icm_256, key, 46, iv, stock, sizeof stock);
	ck_assert_mem_eq(ours, stock, sizeof ours);
}
END_TEST

/* RFC 3711 B.3: the key derivation, as libsrtp2 runs it (srtp_kdf_generate:
 * the cipher keyed with master key || master salt, the label in octet 7
 * of the IV, keystream from index 0), for labels 0 (cipher key), 1 (auth
 * key) and 2 (salt); and for AES-256 (RFC 6188 4.1: the same with a
 * 32-octet master key), random keys against stock, labels 0 to 5. */
START_TEST(rfc3711_b3_key_derivation)
{
	static const struct { uint8_t label; size_t n; const char *want; } k[] = {
		{ 0, 16, "C61E7A93744F39EE10734AFE3FF7A087" },
		{ 2, 14, "30CBBC08863D8C85D49DB34A9AE1" },
		{ 1, 20, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4" },
	};
	uint8_t master[30];
	hex("E1F97A0D3E018BE0D64FA32C06DE4139" "0EC675AD498AFEEBB6960B3AABE6",
	    master, sizeof master);
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		uint8_t iv[16] = { 0 }, want[20], ours[20], stock[20];
		iv[7] = k[i].label;
		hex(k[i].want, want, k[i].n);
		keystream(&srtp_evp_aes_icm_128, master, 30, iv, ours,
			  (uint32_t)k[i].n);
		keystream(&srtp_aes_icm_128, master, 30, iv, stock,
			  (uint32_t)k[i].n);
		ck_assert_mem_eq(ours, want, k[i].n);
		ck_assert_mem_eq(stock, want, k[i].n);
	}
	uint8_t master256[46];
	randombytes_buf(master256, sizeof master256);
	for (uint8_t label = 0; label < 6; label++) {
		uint8_t iv[16] = { 0 }, ours[32], stock[32];
		iv[7] = label;
		keystream(&srtp_evp_aes_icm_256, master256, 46, iv, ours, 32);
		keystream(&srtp_aes_icm_256, master256, 46, iv, stock, 32);
		ck_assert_mem_eq(ours, stock, 32);
	}
}
END_TEST

/* Our keystream taken in pieces of every size 1..40 (then random ones),
 * across 1..4 calls per block, equals stock's taken at once, for the
 * three key sizes: what a call leaves of a block is the next call's. */
START_TEST(icm_keystream_in_pieces)
{
	static const struct { const srtp_cipher_type_t *ours, *stock; int klen; }
	types[] = {
		{ &srtp_evp_aes_icm_128, &srtp_aes_icm_128, 30 },
		{ &srtp_evp_aes_icm_192, &srtp_aes_icm_192, 38 },
		{ &srtp_evp_aes_icm_256, &srtp_aes_icm_256, 46 },
	};
	for (size_t t = 0; t < 3; t++)
		for (unsigned piece = 1; piece <= 60; piece++) {
			uint8_t key[46], iv[16], whole[1400], parts[1400];
			randombytes_buf(key, sizeof key);
			randombytes_buf(iv, sizeof iv);
			iv[14] = 0xfe;   /* the low 16 bits cross 0xff00 */
			iv[15] = 0xd0;
			keystream(types[t].stock, key, types[t].klen, iv, whole,
				  sizeof whole);
			srtp_cipher_t *c = NULL;
			ck_assert_int_eq(srtp_cipher_type_alloc(types[t].ours, &c,
						types[t].klen, 0), 0);
			ck_assert_int_eq(srtp_cipher_init(c, key), 0);
			ck_assert_int_eq(srtp_cipher_set_iv(c, iv,
						srtp_direction_encrypt), 0);
			memset(parts, 0, sizeof parts);
			for (uint32_t off = 0; off < sizeof parts;) {
				uint32_t n = piece <= 40 ? piece
					: 1 + randombytes_uniform(300);
				if (n > sizeof parts - off)
					n = (uint32_t)(sizeof parts - off);
				ck_assert_int_eq(srtp_cipher_encrypt(c,
						parts + off, &n), 0);
				off += n;
			}
			ck_assert_msg(memcmp(whole, parts, sizeof whole) == 0,
				      "%s: pieces of %u differ",
				      types[t].ours->description, piece);
			ck_assert_int_eq(srtp_cipher_dealloc(c), 0);
		}
}
END_TEST

/* ---- libsrtp2's known-answer tests, both ways ------------------------------ */

START_TEST(libsrtp_kats)
{
	/* ours against its own vectors and against libsrtp2's */
	ck_assert_int_eq(srtp_cipher_type_self_test(&srtp_evp_aes_icm_128), 0);
	ck_assert_int_eq(srtp_cipher_type_self_test(&srtp_evp_aes_icm_256), 0);
	ck_assert_int_eq(srtp_cipher_type_self_test(&srtp_evp_aes_icm_192), 0);
	ck_assert_int_eq(srtp_cipher_type_self_test(&srtp_evp_aes_gcm_128), 0);
	ck_assert_int_eq(srtp_cipher_type_self_test(&srtp_evp_aes_gcm_256), 0);
	ck_assert_int_eq(srtp_auth_type_self_test(&srtp_evp_hmac_sha1), 0);
	ck_assert_int_eq(srtp_cipher_type_test(&srtp_evp_aes_icm_128,
					       srtp_aes_icm_128.test_data), 0);
	ck_assert_int_eq(srtp_cipher_type_test(&srtp_evp_aes_icm_256,
					       srtp_aes_icm_256.test_data), 0);
	ck_assert_int_eq(srtp_auth_type_test(&srtp_evp_hmac_sha1,
					     srtp_hmac.test_data), 0);
	/* and stock against ours: the vectors are right */
	ck_assert_int_eq(srtp_cipher_type_test(&srtp_aes_icm_128,
					       srtp_evp_aes_icm_128.test_data), 0);
	ck_assert_int_eq(srtp_cipher_type_test(&srtp_aes_icm_256,
					       srtp_evp_aes_icm_256.test_data), 0);
	ck_assert_int_eq(srtp_auth_type_test(&srtp_hmac,
					     srtp_evp_hmac_sha1.test_data), 0);
}
END_TEST

/* HMAC-SHA1 over random data of every length 0..300 and every key length
 * 0..20, tags of 4, 10 and 20 octets, in one piece and in two (start,
 * update, compute, as srtp_protect does with the ROC). */
START_TEST(hmac_random)
{
	uint8_t key[20], data[300];
	randombytes_buf(key, sizeof key);
	randombytes_buf(data, sizeof data);
	static const int tags[] = { 4, 10, 20 };
	for (int klen = 0; klen <= 20; klen += 4)
		for (int t = 0; t < 3; t++)
			for (int len = 0; len <= 300; len++) {
				uint8_t to[20], ts[20], to2[20];
				srtp_auth_t *ao = NULL, *as = NULL;
				ck_assert_int_eq(srtp_evp_hmac_sha1.alloc(&ao, klen, tags[t]), 0);
				ck_assert_int_eq(srtp_hmac.alloc(&as, klen, tags[t]), 0);
				ck_assert_int_eq(srtp_auth_init(ao, key), 0);
				ck_assert_int_eq(srtp_auth_init(as, key), 0);
				ck_assert_int_eq(srtp_auth_start(ao), 0);
				ck_assert_int_eq(srtp_auth_start(as), 0);
				ck_assert_int_eq(srtp_auth_compute(ao, data, len, to), 0);
				ck_assert_int_eq(srtp_auth_compute(as, data, len, ts), 0);
				ck_assert_mem_eq(to, ts, (size_t)tags[t]);
				int cut = len / 3;
				ck_assert_int_eq(srtp_auth_start(ao), 0);
				ck_assert_int_eq(srtp_auth_update(ao, data, cut), 0);
				ck_assert_int_eq(srtp_auth_compute(ao, data + cut,
								   len - cut, to2), 0);
				ck_assert_mem_eq(to2, ts, (size_t)tags[t]);
				srtp_auth_dealloc(ao);
				srtp_auth_dealloc(as);
			}
}
END_TEST

/* ---- whole sessions, ours against stock -------------------------------- */

/* RTCP gets the profile's cipher and HMAC-SHA1-80 (RFC 3711 5.2: the
 * SRTCP tag is 80 bits; libsrtp2's _32 policy setters are for RTP); the
 * GCM profiles (RFC 7714, not ZRTP's: ours are in the kernel too) keep
 * their own. */
struct profile {
	const char *name;
	void (*set)(srtp_crypto_policy_t *p);
	void (*rtcp)(srtp_crypto_policy_t *p);
};
static const struct profile profiles[] = {
	{ "AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default,
	  srtp_crypto_policy_set_rtp_default },
	{ "AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
	  srtp_crypto_policy_set_rtp_default },
	{ "AES_CM_256_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
	  srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80 },
	{ "AES_CM_256_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
	  srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80 },
	{ "AES_CM_192_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80,
	  srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80 },
	{ "AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth,
	  srtp_crypto_policy_set_aes_gcm_128_16_auth },
	{ "AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth,
	  srtp_crypto_policy_set_aes_gcm_256_16_auth },
	{ "AEAD_AES_128_GCM_8", srtp_crypto_policy_set_aes_gcm_128_8_auth,
	  srtp_crypto_policy_set_aes_gcm_128_8_auth },
	{ "AEAD_AES_256_GCM_8", srtp_crypto_policy_set_aes_gcm_256_8_auth,
	  srtp_crypto_policy_set_aes_gcm_256_8_auth },
};

static int pr_tag_len(const struct profile *pr)
{
	srtp_crypto_policy_t p;
	pr->set(&p);
	return p.auth_tag_len;
}

/* One session of implementation w. */
static srtp_t session(enum impl w, const struct profile *pr, const uint8_t *key,
		      uint32_t ssrc)
{
	srtp_policy_t p;
	memset(&p, 0, sizeof p);
	pr->set(&p.rtp);
	pr->rtcp(&p.rtcp);
	p.ssrc.type = ssrc_specific;
	p.ssrc.value = ssrc;
	p.key = (unsigned char *)key;
	p.window_size = 128;
	kernel_use(w);
	unsigned long before = srtp_evp_key_setups();
	srtp_t s;
	ck_assert_int_eq(srtp_create(&s, &p), 0);
	/* proof of which implementation the session runs on */
	if (w == OURS)
		ck_assert_uint_gt(srtp_evp_key_setups(), before);
	else
		ck_assert_uint_eq(srtp_evp_key_setups(), before);
	kernel_use(OURS);
	return s;
}

#define MAXP 1400

/* RTP of every length 12..1400 from sequence 65530 (the ROC goes to 1
 * after six packets): ours and stock protect to the same bytes; stock
 * takes ours back and ours takes stock's back to the plain packet; each
 * packet offered again is refused as a replay by both. */
START_TEST(rtp_both_ways)
{
	const struct profile *pr = &profiles[_i];
	uint8_t key[46];
	uint32_t ssrc;
	randombytes_buf(key, sizeof key);
	randombytes_buf(&ssrc, sizeof ssrc);
	srtp_t tx_o = session(OURS, pr, key, ssrc);
	srtp_t tx_s = session(STOCK, pr, key, ssrc);
	srtp_t rx_o = session(OURS, pr, key, ssrc);
	srtp_t rx_s = session(STOCK, pr, key, ssrc);
	uint16_t seq = 65530;
	uint32_t ssrc_be = htonl(ssrc);
	/* the packet of sequence 2 (ROC 1), plain and protected */
	uint8_t wrapped_plain[32 + SRTP_MAX_TRAILER_LEN],
		wrapped[32 + SRTP_MAX_TRAILER_LEN];
	int wrapped_len = 0;
	for (int len = 12; len <= MAXP; len++, seq++) {
		uint8_t plain[MAXP], a[MAXP + SRTP_MAX_TRAILER_LEN],
			b[MAXP + SRTP_MAX_TRAILER_LEN];
		randombytes_buf(plain, (size_t)len);
		plain[0] = 0x80;                  /* marker and PT random */
		plain[2] = (uint8_t)(seq >> 8);
		plain[3] = (uint8_t)seq;
		memcpy(plain + 8, &ssrc_be, 4);
		memcpy(a, plain, (size_t)len);
		memcpy(b, plain, (size_t)len);
		int la = len, lb = len;
		ck_assert_int_eq(srtp_protect(tx_o, a, &la), 0);
		ck_assert_int_eq(srtp_protect(tx_s, b, &lb), 0);
		ck_assert_int_eq(la, lb);
		ck_assert_msg(memcmp(a, b, (size_t)la) == 0,
			      "%s: len %d seq %u: ours and stock differ",
			      pr->name, len, seq);
		if (seq == 2) {
			memcpy(wrapped_plain, plain, (size_t)len);
			memcpy(wrapped, a, (size_t)la);
			wrapped_len = la;
		}
		uint8_t a2[sizeof a], b2[sizeof b];
		memcpy(a2, a, (size_t)la);
		memcpy(b2, b, (size_t)lb);
		int ua = la, ub = lb;
		ck_assert_int_eq(srtp_unprotect(rx_s, a, &ua), 0);
		ck_assert_int_eq(srtp_unprotect(rx_o, b, &ub), 0);
		ck_assert_int_eq(ua, len);
		ck_assert_int_eq(ub, len);
		ck_assert_mem_eq(a, plain, (size_t)len);
		ck_assert_mem_eq(b, plain, (size_t)len);
		ua = la, ub = lb;
		ck_assert_int_eq(srtp_unprotect(rx_s, a2, &ua),
				 srtp_err_status_replay_fail);
		ck_assert_int_eq(srtp_unprotect(rx_o, b2, &ub),
				 srtp_err_status_replay_fail);
	}
	/* the rollover counter moved: a fresh session (ROC 0) protects
	 * sequence 2 differently */
	ck_assert_int_gt(wrapped_len, 0);
	srtp_t fresh = session(STOCK, pr, key, ssrc);
	int fl = wrapped_len - pr_tag_len(pr);
	ck_assert_int_eq(srtp_protect(fresh, wrapped_plain, &fl), 0);
	ck_assert_int_eq(fl, wrapped_len);
	ck_assert(memcmp(wrapped_plain, wrapped, (size_t)fl) != 0);
	srtp_dealloc(fresh);
	/* a flipped bit in the tag: refused by both */
	uint8_t plain[172], a[172 + SRTP_MAX_TRAILER_LEN], b[sizeof a];
	memset(plain, 0, sizeof plain);
	plain[0] = 0x80, plain[2] = (uint8_t)(seq >> 8), plain[3] = (uint8_t)seq;
	memcpy(plain + 8, &ssrc_be, 4);
	memcpy(a, plain, sizeof plain);
	int la = sizeof plain;
	ck_assert_int_eq(srtp_protect(tx_o, a, &la), 0);
	a[la - 1] ^= 1;
	memcpy(b, a, (size_t)la);
	int ua = la, ub = la;
	ck_assert_int_eq(srtp_unprotect(rx_s, a, &ua), srtp_err_status_auth_fail);
	ck_assert_int_eq(srtp_unprotect(rx_o, b, &ub), srtp_err_status_auth_fail);
	srtp_dealloc(tx_o);
	srtp_dealloc(tx_s);
	srtp_dealloc(rx_o);
	srtp_dealloc(rx_s);
}
END_TEST

/* SRTCP (RFC 3711 3.4) of every length 8..1400: the same, each packet with
 * the next SRTCP index. */
START_TEST(rtcp_both_ways)
{
	const struct profile *pr = &profiles[_i];
	uint8_t key[46];
	uint32_t ssrc;
	randombytes_buf(key, sizeof key);
	randombytes_buf(&ssrc, sizeof ssrc);
	srtp_t tx_o = session(OURS, pr, key, ssrc);
	srtp_t tx_s = session(STOCK, pr, key, ssrc);
	srtp_t rx_o = session(OURS, pr, key, ssrc);
	srtp_t rx_s = session(STOCK, pr, key, ssrc);
	uint32_t ssrc_be = htonl(ssrc);
	for (int len = 8; len <= MAXP; len++) {
		uint8_t plain[MAXP], a[MAXP + SRTP_MAX_TRAILER_LEN + 4],
			b[MAXP + SRTP_MAX_TRAILER_LEN + 4];
		randombytes_buf(plain, (size_t)len);
		plain[0] = 0x80;
		plain[1] = 200;                   /* SR */
		plain[2] = (uint8_t)((len / 4 - 1) >> 8);
		plain[3] = (uint8_t)(len / 4 - 1);
		memcpy(plain + 4, &ssrc_be, 4);
		memcpy(a, plain, (size_t)len);
		memcpy(b, plain, (size_t)len);
		int la = len, lb = len;
		ck_assert_int_eq(srtp_protect_rtcp(tx_o, a, &la), 0);
		ck_assert_int_eq(srtp_protect_rtcp(tx_s, b, &lb), 0);
		ck_assert_int_eq(la, lb);
		ck_assert_msg(memcmp(a, b, (size_t)la) == 0,
			      "%s: RTCP len %d: ours and stock differ",
			      pr->name, len);
		uint8_t a2[sizeof a], b2[sizeof b];
		memcpy(a2, a, (size_t)la);
		memcpy(b2, b, (size_t)lb);
		int ua = la, ub = lb;
		ck_assert_int_eq(srtp_unprotect_rtcp(rx_s, a, &ua), 0);
		ck_assert_int_eq(srtp_unprotect_rtcp(rx_o, b, &ub), 0);
		ck_assert_int_eq(ua, len);
		ck_assert_int_eq(ub, len);
		ck_assert_mem_eq(a, plain, (size_t)len);
		ck_assert_mem_eq(b, plain, (size_t)len);
		ua = la, ub = lb;
		ck_assert_int_eq(srtp_unprotect_rtcp(rx_s, a2, &ua),
				 srtp_err_status_replay_fail);
		ck_assert_int_eq(srtp_unprotect_rtcp(rx_o, b2, &ub),
				 srtp_err_status_replay_fail);
	}
	srtp_dealloc(tx_o);
	srtp_dealloc(tx_s);
	srtp_dealloc(rx_o);
	srtp_dealloc(rx_s);
}
END_TEST

/* Protect and unprotect, RTP and RTCP, on ours: no allocation at all
 * once the sessions exist (stock's count is printed for comparison). */
START_TEST(no_allocation_per_packet)
{
#if COUNT_ALLOCS
	const struct profile *pr = &profiles[_i];
	uint8_t key[46] = { 9 };
	unsigned long n[2];
	for (int w = STOCK; w <= OURS; w++) {
		srtp_t tx = session((enum impl)w, pr, key, 77);
		srtp_t rx = session((enum impl)w, pr, key, 77);
		uint32_t be = htonl(77);
		/* no ck_assert inside: Check's own bookkeeping allocates */
		int bad = 0;
		unsigned long before = __atomic_load_n(&allocs, __ATOMIC_RELAXED);
		for (int i = 0; i < 1000; i++) {
			uint8_t b[172 + SRTP_MAX_TRAILER_LEN + 4] = { 0x80 };
			memcpy(b + 8, &be, 4);
			b[2] = (uint8_t)(i >> 8), b[3] = (uint8_t)i;
			int l = 172;
			bad |= srtp_protect(tx, b, &l) | srtp_unprotect(rx, b, &l);
			b[1] = 200;
			memcpy(b + 4, &be, 4);
			l = 172;
			bad |= srtp_protect_rtcp(tx, b, &l) |
			       srtp_unprotect_rtcp(rx, b, &l);
		}
		n[w] = __atomic_load_n(&allocs, __ATOMIC_RELAXED) - before;
		ck_assert_int_eq(bad, 0);
		srtp_dealloc(tx);
		srtp_dealloc(rx);
	}
	printf("%s: allocations per RTP+RTCP round trip: stock %.2f, ours %.2f\n",
	       pr->name, n[STOCK] / 1000.0, n[OURS] / 1000.0);
	ck_assert_uint_eq(n[OURS], 0);
	/* the counter counts */
	unsigned long before = __atomic_load_n(&allocs, __ATOMIC_RELAXED);
	void *volatile q = malloc(16);   /* volatile: not optimised away */
	free(q);
	ck_assert_uint_eq(__atomic_load_n(&allocs, __ATOMIC_RELAXED), before + 1);
#endif
}
END_TEST

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	/* the shim's own path: srtp_init, then ours installed */
	media_init();
	Suite *s = suite_create("srtp_evp");
	TCase *tc = tcase_create("srtp_evp");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, installed_by_media_init);
	tcase_add_test(tc, rfc3711_b2_keystream);
	tcase_add_test(tc, rfc6188_71_keystream);
	tcase_add_test(tc, rfc3711_b3_key_derivation);
	tcase_add_test(tc, icm_keystream_in_pieces);
	tcase_add_test(tc, libsrtp_kats);
	tcase_add_test(tc, hmac_random);
	tcase_add_loop_test(tc, rtp_both_ways, 0,
			    (int)(sizeof profiles / sizeof profiles[0]));
	tcase_add_loop_test(tc, rtcp_both_ways, 0,
			    (int)(sizeof profiles / sizeof profiles[0]));
	tcase_add_loop_test(tc, no_allocation_per_packet, 0,
			    (int)(sizeof profiles / sizeof profiles[0]));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* exit(), not return: the timer thread may still be sleeping */
	exit(failed ? 1 : 0);
}
