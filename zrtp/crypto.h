/*
 * The algorithm table of RFC 6189 §5.1.2-§5.1.6 and the primitives behind
 * it: hashes, HMAC, the KDF of §4.5.1, AES-CFB for Confirm, key agreement,
 * negotiation (§4.1.2) and SAS rendering (§5.1.6, §7).
 *
 * Every primitive comes from libsodium, or from OpenSSL libcrypto where
 * libsodium lacks it (SHA-384, AES-CFB, DH-3072, P-256, P-384). Nothing here
 * reads the clock, the environment or a random source: key agreement
 * secrets are derived from bytes the caller supplies.
 *
 * Algorithms are named by their 4-character wire names as big-endian
 * words (ZRTP_NAME), so the codec and this table need no mapping.
 */
#ifndef ZRTP_CRYPTO_H
#define ZRTP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zrtp/packet.h"

#define ZRTP_HASH_S256 ZRTP_NAME('S', '2', '5', '6')
#define ZRTP_HASH_S384 ZRTP_NAME('S', '3', '8', '4')
#define ZRTP_CIPHER_AES1 ZRTP_NAME('A', 'E', 'S', '1')
#define ZRTP_CIPHER_AES3 ZRTP_NAME('A', 'E', 'S', '3')
#define ZRTP_AUTH_HS32 ZRTP_NAME('H', 'S', '3', '2')
#define ZRTP_AUTH_HS80 ZRTP_NAME('H', 'S', '8', '0')
#define ZRTP_KA_DH3K ZRTP_NAME('D', 'H', '3', 'k')
#define ZRTP_KA_X255 ZRTP_NAME('X', '2', '5', '5')
#define ZRTP_KA_E255 ZRTP_NAME('E', '2', '5', '5')  /* GNU ZRTP's name for X255 */
#define ZRTP_KA_EC25 ZRTP_NAME('E', 'C', '2', '5')
#define ZRTP_KA_EC38 ZRTP_NAME('E', 'C', '3', '8')
#define ZRTP_KA_MULT ZRTP_NAME('M', 'u', 'l', 't')
#define ZRTP_KA_PRSH ZRTP_NAME('P', 'r', 's', 'h')
#define ZRTP_SAS_B32 ZRTP_NAME('B', '3', '2', ' ')
#define ZRTP_SAS_B256 ZRTP_NAME('B', '2', '5', '6')
#define ZRTP_VERSION_110 ZRTP_NAME('1', '.', '1', '0')

#define ZRTP_MAX_HASH_LEN 48
#define ZRTP_MAX_KEY_LEN 32
#define ZRTP_SALT_LEN 14        /* 112-bit SRTP master salt, §4.5.3 */
#define ZRTP_MAX_DH_RESULT 384

enum zrtp_algo_kind {
	ZRTP_KIND_HASH,
	ZRTP_KIND_CIPHER,
	ZRTP_KIND_AUTH,
	ZRTP_KIND_KA,
	ZRTP_KIND_SAS,
	ZRTP_KIND_COUNT
};

/* One preference list per kind, most preferred first. */
struct zrtp_algo_prefs {
	uint8_t n[ZRTP_KIND_COUNT];
	uint32_t list[ZRTP_KIND_COUNT][ZRTP_MAX_ALGOS];
};

/* What a Commit carries: the algorithms of the stream. */
struct zrtp_algos {
	uint32_t hash, cipher, auth, ka, sas;
};

/* A pointer+length piece of input for the multi-part hash functions. */
struct zrtp_iov {
	const void *p;
	size_t len;
};

/* true if this build implements the algorithm (E255 counts as X255). */
bool zrtp_algo_supported(enum zrtp_algo_kind kind, uint32_t name);

/* The project's default preferences (DESIGN.md, "Protocol decisions"). */
void zrtp_algo_prefs_default(struct zrtp_algo_prefs *p);

/*
 * Parse a preference string such as "ka=X255,DH3k;cipher=AES3,AES1"
 * (kinds: hash, cipher, auth, ka, sas; names as on the wire, "B32" for
 * "B32 "). Kinds not named keep their current list. Curve25519 is written
 * once, as X255 or E255, and listed under both names, that one first.
 * Returns 0, or -EINVAL for an unknown kind or algorithm, an empty or
 * overlong list.
 */
int zrtp_algo_prefs_parse(struct zrtp_algo_prefs *p, const char *s);

/* Hashes and HMAC (§5.1.2). Lengths: S256 32, S384 48; 0 if unknown. */
size_t zrtp_hash_len(uint32_t hash);
int zrtp_hash(uint32_t hash, const struct zrtp_iov *v, size_t n, uint8_t *out);
int zrtp_hmac(uint32_t hash, const uint8_t *key, size_t key_len,
	      const struct zrtp_iov *v, size_t n, uint8_t *out);

/*
 * KDF(KI, Label, Context, L) of §4.5.1: HMAC(KI, i || Label || 0x00 ||
 * Context || L) with i = 1 and L in bits, truncated to L bits. L must be a
 * multiple of 8 and at most the hash length.
 */
int zrtp_kdf(uint32_t hash, const uint8_t *ki, size_t ki_len,
	     const char *label, const uint8_t *context, size_t context_len,
	     size_t bits, uint8_t *out);

/* Ciphers (§5.1.3): key length 16 (AES1) or 32 (AES3); 0 if unknown. */
size_t zrtp_cipher_key_len(uint32_t cipher);
/* AES in 128-bit CFB mode, in place, as Confirm and SASrelay use it. */
int zrtp_cfb_encrypt(uint32_t cipher, const uint8_t *key,
		     const uint8_t iv[16], uint8_t *buf, size_t len);
int zrtp_cfb_decrypt(uint32_t cipher, const uint8_t *key,
		     const uint8_t iv[16], uint8_t *buf, size_t len);

/* SRTP auth tag length in bytes for HS32 (4) and HS80 (10); 0 unknown. */
size_t zrtp_auth_tag_len(uint32_t auth);

/*
 * Key agreement (§4.4.1, §5.1.5). X255 and E255 are the same algorithm.
 *   pv_len:     public value on the wire: DH3k 384, EC25 64, EC38 96,
 *               X255 32
 *   secret_len: random bytes zrtp_ka_new needs: DH3k 32 (a 256-bit
 *               exponent), EC25 32 and EC38 48 (reduced mod n), X255 32
 *   result_len: DHResult: DH3k 384 (left-padded), EC25 32 (x), EC38 48
 *               (x), X255 32
 * All three are 0 for Mult, Prsh and unknown names.
 */
size_t zrtp_ka_pv_len(uint32_t ka);
size_t zrtp_ka_secret_len(uint32_t ka);
size_t zrtp_ka_result_len(uint32_t ka);

struct zrtp_ka;  /* a private key; wiped on free */

int zrtp_ka_new(uint32_t ka, const uint8_t *secret, size_t secret_len,
		struct zrtp_ka **out) __attribute__((warn_unused_result));
/* Write our public value (exactly zrtp_ka_pv_len bytes). */
int zrtp_ka_public(const struct zrtp_ka *k, uint8_t *pv, size_t pv_len);
/*
 * Compute DHResult from the peer's public value. Rejects with -EBADMSG a
 * public value of the wrong length, DH3k pv of 0, 1, p-1 or >= p, an EC25
 * or EC38 point not on its curve (or a coordinate >= p), an X255 value
 * giving an all-zero secret.
 */
int zrtp_ka_derive(const struct zrtp_ka *k, const uint8_t *peer_pv,
		   size_t pv_len, uint8_t *result, size_t result_cap)
	__attribute__((warn_unused_result));
void zrtp_ka_free(struct zrtp_ka *k);

/*
 * Negotiation (§4.1.2), done by the Commit sender: choose each algorithm
 * from our preferences and the peer's Hello, honouring a count of 0 and
 * the implicitly offered mandatory algorithms (S256, AES1, HS32, HS80,
 * DH3k, B32). Key agreement: the faster of the two Hellos' first choices
 * when both support it; EC38 only when both offer S384, which it then
 * takes as the hash (and AES3 as the cipher when both offer it).
 * Curve25519 is named the way the peer's Hello names it. Returns 0 or
 * -ENOTSUP naming the failing kind in *failed_kind (for the Error code).
 */
int zrtp_negotiate(const struct zrtp_algo_prefs *ours,
		   const struct zrtp_hello *peer, struct zrtp_algos *out,
		   enum zrtp_algo_kind *failed_kind);

/* false for a combination a Commit may not carry: EC38 without S384. */
bool zrtp_algos_coupled_ok(const struct zrtp_algos *a);

/* Did a Hello offer this algorithm, explicitly or implicitly? */
bool zrtp_hello_offers(const struct zrtp_hello *h, enum zrtp_algo_kind kind,
		       uint32_t name);
/* Fill the algorithm lists of a Hello from preferences. */
void zrtp_hello_set_algos(struct zrtp_hello *h, const struct zrtp_algo_prefs *p);

/*
 * SAS rendering (§5.1.6): B32 gives 4 characters of z-base-32 from the
 * leftmost 20 bits of sashash; B256 gives two PGP words (even word from the
 * first byte, odd word from the second) joined by ':'. Returns the string
 * length or -EINVAL/-ENOSPC.
 */
int zrtp_sas_render(uint32_t sas, const uint8_t sashash[32], char *buf,
		    size_t cap);

/* Constant-time compare (libsodium). */
bool zrtp_ct_equal(const void *a, const void *b, size_t len);
/* Wipe a secret (libsodium). */
void zrtp_wipe(void *p, size_t len);

const char *zrtp_algo_str(uint32_t name, char buf[5]);

#endif
