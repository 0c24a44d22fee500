/*
 * The algorithm table of RFC 6189 §5.1, preferences, hashes, HMAC, the KDF
 * of §4.5.1, AES-CFB for Confirm/SASrelay and the negotiation of §4.1.2.
 * Key agreement lives in ka.c, SAS rendering in sas.c.
 *
 * SHA-256 and HMAC-SHA-256 come from libsodium; SHA-384, HMAC-SHA-384 and
 * AES-CFB128 from OpenSSL's EVP layer, which libsodium lacks (AES through
 * the lean context of evp_lean.c).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "zrtp/crypto.h"
#include "zrtp/evp_lean.h"

/* ---- The algorithm table ------------------------------------------------ */

static const uint32_t supported_hash[] = { ZRTP_HASH_S256, ZRTP_HASH_S384 };
static const uint32_t supported_cipher[] = { ZRTP_CIPHER_AES1,
					     ZRTP_CIPHER_AES3 };
static const uint32_t supported_auth[] = { ZRTP_AUTH_HS32, ZRTP_AUTH_HS80 };
/* Mult is supported (multistream mode); Prsh is not (DESIGN.md). */
static const uint32_t supported_ka[] = { ZRTP_KA_X255, ZRTP_KA_E255,
					 ZRTP_KA_DH3K, ZRTP_KA_EC25,
					 ZRTP_KA_EC38, ZRTP_KA_MULT };
static const uint32_t supported_sas[] = { ZRTP_SAS_B32, ZRTP_SAS_B256 };

/*
 * The mandatory-to-implement algorithms of §5.1.2-§5.1.6. §4.1.2: a Hello
 * need not list them; they are offered even when absent or when the count
 * is 0, after the listed ones in preference.
 */
static const uint32_t mandatory_hash[] = { ZRTP_HASH_S256 };
static const uint32_t mandatory_cipher[] = { ZRTP_CIPHER_AES1 };
static const uint32_t mandatory_auth[] = { ZRTP_AUTH_HS32, ZRTP_AUTH_HS80 };
static const uint32_t mandatory_ka[] = { ZRTP_KA_DH3K };
static const uint32_t mandatory_sas[] = { ZRTP_SAS_B32 };

struct name_list {
	const uint32_t *v;
	size_t n;
};

#define LIST(a) { (a), sizeof(a) / sizeof((a)[0]) }

static const struct name_list supported[ZRTP_KIND_COUNT] = {
	[ZRTP_KIND_HASH] = LIST(supported_hash),
	[ZRTP_KIND_CIPHER] = LIST(supported_cipher),
	[ZRTP_KIND_AUTH] = LIST(supported_auth),
	[ZRTP_KIND_KA] = LIST(supported_ka),
	[ZRTP_KIND_SAS] = LIST(supported_sas),
};

static const struct name_list mandatory[ZRTP_KIND_COUNT] = {
	[ZRTP_KIND_HASH] = LIST(mandatory_hash),
	[ZRTP_KIND_CIPHER] = LIST(mandatory_cipher),
	[ZRTP_KIND_AUTH] = LIST(mandatory_auth),
	[ZRTP_KIND_KA] = LIST(mandatory_ka),
	[ZRTP_KIND_SAS] = LIST(mandatory_sas),
};

static const char *const kind_names[ZRTP_KIND_COUNT] = {
	[ZRTP_KIND_HASH] = "hash",
	[ZRTP_KIND_CIPHER] = "cipher",
	[ZRTP_KIND_AUTH] = "auth",
	[ZRTP_KIND_KA] = "ka",
	[ZRTP_KIND_SAS] = "sas",
};

/* X255 and E255 (GNU ZRTP's spelling) are one algorithm. */
static uint32_t canonical(uint32_t name)
{
	return name == ZRTP_KA_E255 ? ZRTP_KA_X255 : name;
}

/* The other spelling of Curve25519, or 0. */
static uint32_t curve25519_alias(uint32_t name)
{
	if (name == ZRTP_KA_X255)
		return ZRTP_KA_E255;
	if (name == ZRTP_KA_E255)
		return ZRTP_KA_X255;
	return 0;
}

static bool list_has(const uint32_t *v, size_t n, uint32_t name)
{
	for (size_t i = 0; i < n; i++)
		if (canonical(v[i]) == canonical(name))
			return true;
	return false;
}

bool zrtp_algo_supported(enum zrtp_algo_kind kind, uint32_t name)
{
	if ((unsigned)kind >= ZRTP_KIND_COUNT)
		return false;
	return list_has(supported[kind].v, supported[kind].n, name);
}

/* ---- Preferences --------------------------------------------------------- */

void zrtp_algo_prefs_default(struct zrtp_algo_prefs *p)
{
	static const struct zrtp_algo_prefs def = {
		.n = {
			[ZRTP_KIND_HASH] = 2,
			[ZRTP_KIND_CIPHER] = 2,
			[ZRTP_KIND_AUTH] = 2,
			[ZRTP_KIND_KA] = 6,
			[ZRTP_KIND_SAS] = 2,
		},
		.list = {
			[ZRTP_KIND_HASH] = { ZRTP_HASH_S256, ZRTP_HASH_S384 },
			[ZRTP_KIND_CIPHER] = { ZRTP_CIPHER_AES1, ZRTP_CIPHER_AES3 },
			[ZRTP_KIND_AUTH] = { ZRTP_AUTH_HS80, ZRTP_AUTH_HS32 },
			/* Curve25519 under both names (bzrtp knows only X255,
			 * GNU ZRTP only E255); Mult last: offered for the
			 * second and later streams. */
			[ZRTP_KIND_KA] = { ZRTP_KA_X255, ZRTP_KA_E255,
					   ZRTP_KA_DH3K, ZRTP_KA_EC25,
					   ZRTP_KA_EC38, ZRTP_KA_MULT },
			[ZRTP_KIND_SAS] = { ZRTP_SAS_B32, ZRTP_SAS_B256 },
		},
	};
	*p = def;
}

/* Parse "name,name,..." of [s, end) into one kind's list. */
static int parse_list(enum zrtp_algo_kind kind, const char *s,
		      const char *end, uint8_t *n_out, uint32_t *list)
{
	uint8_t n = 0;

	if (s == end)
		return -EINVAL;
	while (s <= end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *tok_end = comma != NULL ? comma : end;
		size_t len = (size_t)(tok_end - s);
		char name[4] = { ' ', ' ', ' ', ' ' };
		uint32_t w;

		/* Names are 4 characters; "B32" stands for "B32 ". */
		if (len == 0 || len > 4 || (len < 4 && !(len == 3 &&
		    kind == ZRTP_KIND_SAS)))
			return -EINVAL;
		memcpy(name, s, len);
		w = ZRTP_NAME(name[0], name[1], name[2], name[3]);
		if (!zrtp_algo_supported(kind, w) || list_has(list, n, w))
			return -EINVAL;
		if (n == ZRTP_MAX_ALGOS)
			return -EINVAL;
		list[n++] = w;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	/*
	 * Curve25519 takes one position in the user's list but is offered
	 * under both names, the one written first: a peer matches names
	 * literally, and each known implementation knows only one of them.
	 */
	for (uint8_t i = 0; i < n; i++) {
		uint32_t alias = curve25519_alias(list[i]);
		if (alias == 0)
			continue;
		if (n == ZRTP_MAX_ALGOS)
			return -EINVAL;
		memmove(&list[i + 2], &list[i + 1], (n - i - 1) * sizeof(list[0]));
		list[i + 1] = alias;
		n++;
		break;
	}
	*n_out = n;
	return 0;
}

int zrtp_algo_prefs_parse(struct zrtp_algo_prefs *p, const char *s)
{
	struct zrtp_algo_prefs tmp;

	if (p == NULL || s == NULL)
		return -EINVAL;
	tmp = *p;
	/* Applied to a copy: on error *p is left as it was. */
	while (*s != '\0') {
		const char *semi = strchr(s, ';');
		const char *end = semi != NULL ? semi : s + strlen(s);
		const char *eq = memchr(s, '=', (size_t)(end - s));
		int kind = -1;

		if (eq == NULL)
			return -EINVAL;
		for (int k = 0; k < ZRTP_KIND_COUNT; k++) {
			size_t kl = strlen(kind_names[k]);
			if ((size_t)(eq - s) == kl &&
			    memcmp(s, kind_names[k], kl) == 0)
				kind = k;
		}
		if (kind < 0)
			return -EINVAL;
		uint32_t list[ZRTP_MAX_ALGOS];
		uint8_t n;
		int rc = parse_list((enum zrtp_algo_kind)kind, eq + 1, end, &n,
				    list);
		if (rc < 0)
			return rc;
		tmp.n[kind] = n;
		memset(tmp.list[kind], 0, sizeof(tmp.list[kind]));
		memcpy(tmp.list[kind], list, n * sizeof(list[0]));
		if (semi == NULL)
			break;
		s = semi + 1;
	}
	*p = tmp;
	return 0;
}

/* ---- Hashes and HMAC (§5.1.2) -------------------------------------------- */

size_t zrtp_hash_len(uint32_t hash)
{
	switch (hash) {
	case ZRTP_HASH_S256:
		return 32;
	case ZRTP_HASH_S384:
		return 48;
	default:
		return 0;
	}
}

static int evp_digest(const EVP_MD *md, const struct zrtp_iov *v, size_t n,
		      uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, v[i].p, v[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int zrtp_hash(uint32_t hash, const struct zrtp_iov *v, size_t n, uint8_t *out)
{
	if ((v == NULL && n > 0) || out == NULL)
		return -EINVAL;
	if (hash == ZRTP_HASH_S256) {
		crypto_hash_sha256_state st;
		crypto_hash_sha256_init(&st);
		for (size_t i = 0; i < n; i++)
			crypto_hash_sha256_update(&st, v[i].p, v[i].len);
		crypto_hash_sha256_final(&st, out);
		return 0;
	}
	if (hash == ZRTP_HASH_S384)
		return evp_digest(EVP_sha384(), v, n, out);
	return -EINVAL;
}

static int evp_hmac(const char *digest, const uint8_t *key, size_t key_len,
		    const struct zrtp_iov *v, size_t n, uint8_t *out,
		    size_t out_len)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};
	/* EVP_MAC_init rejects a NULL key even when its length is 0. */
	static const uint8_t empty[1];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	size_t got = 0;
	int ok = ctx != NULL &&
		 EVP_MAC_init(ctx, key_len > 0 ? key : empty, key_len,
			      params) == 1;

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, v[i].p, v[i].len) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &got, out_len) == 1 &&
	     got == out_len;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -EIO;
}

int zrtp_hmac(uint32_t hash, const uint8_t *key, size_t key_len,
	      const struct zrtp_iov *v, size_t n, uint8_t *out)
{
	if ((key == NULL && key_len > 0) || (v == NULL && n > 0) || out == NULL)
		return -EINVAL;
	if (hash == ZRTP_HASH_S256) {
		/* The _init API takes a key of any length (hashed if > 64). */
		crypto_auth_hmacsha256_state st;
		crypto_auth_hmacsha256_init(&st, key, key_len);
		for (size_t i = 0; i < n; i++)
			crypto_auth_hmacsha256_update(&st, v[i].p, v[i].len);
		crypto_auth_hmacsha256_final(&st, out);
		sodium_memzero(&st, sizeof(st));
		return 0;
	}
	if (hash == ZRTP_HASH_S384)
		return evp_hmac("SHA384", key, key_len, v, n, out, 48);
	return -EINVAL;
}

/* ---- KDF (§4.5.1) ---------------------------------------------------------- */

int zrtp_kdf(uint32_t hash, const uint8_t *ki, size_t ki_len,
	     const char *label, const uint8_t *context, size_t context_len,
	     size_t bits, uint8_t *out)
{
	size_t hlen = zrtp_hash_len(hash);
	uint8_t full[ZRTP_MAX_HASH_LEN];
	static const uint8_t counter[4] = { 0, 0, 0, 1 };  /* i = 1 */
	static const uint8_t zero = 0;
	uint8_t l_be[4];
	int rc;

	if (hlen == 0 || label == NULL || out == NULL ||
	    (context == NULL && context_len > 0) || bits == 0 ||
	    bits % 8 != 0 || bits > hlen * 8)
		return -EINVAL;
	l_be[0] = (uint8_t)(bits >> 24);
	l_be[1] = (uint8_t)(bits >> 16);
	l_be[2] = (uint8_t)(bits >> 8);
	l_be[3] = (uint8_t)bits;

	/* KDF(KI, Label, Context, L) = HMAC(KI, i || Label || 0x00 || Context || L) */
	const struct zrtp_iov v[] = {
		{ counter, sizeof(counter) },
		{ label, strlen(label) },
		{ &zero, 1 },
		{ context, context_len },
		{ l_be, sizeof(l_be) },
	};
	rc = zrtp_hmac(hash, ki, ki_len, v, sizeof(v) / sizeof(v[0]), full);
	if (rc == 0)
		memcpy(out, full, bits / 8);
	sodium_memzero(full, sizeof(full));
	return rc;
}

/* ---- Ciphers (§5.1.3) ------------------------------------------------------ */

size_t zrtp_cipher_key_len(uint32_t cipher)
{
	switch (cipher) {
	case ZRTP_CIPHER_AES1:
		return 16;
	case ZRTP_CIPHER_AES3:
		return 32;
	default:
		return 0;
	}
}

/* AES-128-CFB and AES-256-CFB (CFB128), fetched once from the lean
 * context (evp_lean.h); the legacy handles (the default context, fetched
 * at every init) should the fetch fail. */
static EVP_CIPHER *cfb_fetched[2];
static pthread_once_t cfb_once = PTHREAD_ONCE_INIT;

static void cfb_fetch(void)
{
	cfb_fetched[0] = zrtp_evp_cipher_fetch("AES-128-CFB");
	cfb_fetched[1] = zrtp_evp_cipher_fetch("AES-256-CFB");
}

static int cfb(uint32_t cipher, const uint8_t *key, const uint8_t iv[16],
	       uint8_t *buf, size_t len, int enc)
{
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx;
	int ok, outl = 0;

	pthread_once(&cfb_once, cfb_fetch);
	switch (cipher) {
	case ZRTP_CIPHER_AES1:
		c = cfb_fetched[0] ? cfb_fetched[0] : EVP_aes_128_cfb128();
		break;
	case ZRTP_CIPHER_AES3:
		c = cfb_fetched[1] ? cfb_fetched[1] : EVP_aes_256_cfb128();
		break;
	default:
		return -EINVAL;
	}
	if (key == NULL || iv == NULL || (buf == NULL && len > 0) ||
	    len > (size_t)INT32_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	/* CFB is a stream mode: in-place update is allowed, no final block. */
	ok = EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc) == 1 &&
	     EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) == 1 &&
	     (size_t)outl == len;
	EVP_CIPHER_CTX_free(ctx);  /* cleanses the key schedule */
	return ok ? 0 : -EIO;
}

int zrtp_cfb_encrypt(uint32_t cipher, const uint8_t *key,
		     const uint8_t iv[16], uint8_t *buf, size_t len)
{
	return cfb(cipher, key, iv, buf, len, 1);
}

int zrtp_cfb_decrypt(uint32_t cipher, const uint8_t *key,
		     const uint8_t iv[16], uint8_t *buf, size_t len)
{
	return cfb(cipher, key, iv, buf, len, 0);
}

/* §5.1.4: HS32 and HS80 are HMAC-SHA1 tags of 32 and 80 bits. */
size_t zrtp_auth_tag_len(uint32_t auth)
{
	switch (auth) {
	case ZRTP_AUTH_HS32:
		return 4;
	case ZRTP_AUTH_HS80:
		return 10;
	default:
		return 0;
	}
}

/* ---- Negotiation (§4.1.2) -------------------------------------------------- */

static void hello_list(const struct zrtp_hello *h, enum zrtp_algo_kind kind,
		       const uint32_t **v, size_t *n)
{
	uint8_t cnt;

	switch (kind) {
	case ZRTP_KIND_HASH:
		*v = h->hash;
		cnt = h->n_hash;
		break;
	case ZRTP_KIND_CIPHER:
		*v = h->cipher;
		cnt = h->n_cipher;
		break;
	case ZRTP_KIND_AUTH:
		*v = h->auth;
		cnt = h->n_auth;
		break;
	case ZRTP_KIND_KA:
		*v = h->ka;
		cnt = h->n_ka;
		break;
	case ZRTP_KIND_SAS:
	default:
		*v = h->sas;
		cnt = h->n_sas;
		break;
	}
	*n = cnt > ZRTP_MAX_ALGOS ? ZRTP_MAX_ALGOS : cnt;
}

bool zrtp_hello_offers(const struct zrtp_hello *h, enum zrtp_algo_kind kind,
		       uint32_t name)
{
	const uint32_t *v;
	size_t n;

	if (h == NULL || (unsigned)kind >= ZRTP_KIND_COUNT)
		return false;
	if (list_has(mandatory[kind].v, mandatory[kind].n, name))
		return true;
	hello_list(h, kind, &v, &n);
	return list_has(v, n, name);
}

/*
 * A Hello's effective list in its order of preference: the listed names,
 * then the implicit mandatory ones it did not list (§4.1.2). Returns the
 * length; out has room for ZRTP_MAX_ALGOS + the mandatory ones.
 */
#define EFFECTIVE_MAX (ZRTP_MAX_ALGOS + 2)

static size_t hello_effective(const struct zrtp_hello *h,
			      enum zrtp_algo_kind kind, uint32_t *out)
{
	const uint32_t *v;
	size_t n, m = 0;

	hello_list(h, kind, &v, &n);
	for (size_t i = 0; i < n; i++)
		out[m++] = v[i];
	for (size_t i = 0; i < mandatory[kind].n; i++)
		if (!list_has(out, m, mandatory[kind].v[i]))
			out[m++] = mandatory[kind].v[i];
	return m;
}

/* True for the Diffie-Hellman types: not Mult or Prsh (§5.1.5). */
static bool ka_is_dh(uint32_t ka)
{
	return ka != ZRTP_KA_MULT && ka != ZRTP_KA_PRSH;
}

/*
 * Speed rank for the key agreement rule of §4.1.2, fastest first. The
 * RFC orders DH2k < EC25 < DH3k < EC38; Curve25519 (added to the ZRTP
 * registry later) is faster than all of them. bzrtp and GNU ZRTP use the
 * same order.
 */
static int ka_rank(uint32_t ka)
{
	switch (canonical(ka)) {
	case ZRTP_KA_X255:
		return 0;
	case ZRTP_KA_EC25:
		return 1;
	case ZRTP_KA_DH3K:
		return 2;
	case ZRTP_KA_EC38:
		return 3;
	default:
		return 100;
	}
}

static bool ours_usable(enum zrtp_algo_kind kind, uint32_t name)
{
	return zrtp_algo_supported(kind, name) &&
	       (kind != ZRTP_KIND_KA || ka_is_dh(name));
}

static bool ours_list(const struct zrtp_algo_prefs *ours,
		      enum zrtp_algo_kind kind, uint32_t name)
{
	size_t n = ours->n[kind] > ZRTP_MAX_ALGOS ? ZRTP_MAX_ALGOS :
						     ours->n[kind];
	return list_has(ours->list[kind], n, name);
}

/*
 * EC38 is coupled to a 384-bit negotiated hash (§5.1.5; GNU ZRTP refuses
 * an EC38 Commit with S256): it is a candidate only when both sides offer
 * S384. Both ends see the same two Hellos, so they agree on this too.
 */
static bool ka_hash_available(const struct zrtp_algo_prefs *ours,
			      const struct zrtp_hello *peer, uint32_t ka)
{
	if (canonical(ka) != ZRTP_KA_EC38)
		return true;
	return ours_list(ours, ZRTP_KIND_HASH, ZRTP_HASH_S384) &&
	       zrtp_hello_offers(peer, ZRTP_KIND_HASH, ZRTP_HASH_S384);
}

static bool list_has_exact(const uint32_t *v, size_t n, uint32_t name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == name)
			return true;
	return false;
}

/*
 * Key agreement (§4.1.2): each side's first choice among the types both
 * offer; if they differ, the faster of the two. Both endpoints compute the
 * same answer from the two Hellos, which §4.2 relies on when both send a
 * Commit. Curve25519 is named as the peer can read it: our spelling if
 * its Hello lists that one too, else the peer's (GNU ZRTP sees 'E255').
 */
static int choose_ka(const struct zrtp_algo_prefs *ours,
		     const struct zrtp_hello *peer, uint32_t *out)
{
	uint32_t peer_list[EFFECTIVE_MAX];
	size_t peer_n = hello_effective(peer, ZRTP_KIND_KA, peer_list);
	size_t our_n = ours->n[ZRTP_KIND_KA] > ZRTP_MAX_ALGOS ?
			       ZRTP_MAX_ALGOS : ours->n[ZRTP_KIND_KA];
	const uint32_t *our_list = ours->list[ZRTP_KIND_KA];
	uint32_t self_first = 0, peer_first = 0, chosen;

	for (size_t i = 0; i < our_n && self_first == 0; i++)
		if (ours_usable(ZRTP_KIND_KA, our_list[i]) &&
		    ka_hash_available(ours, peer, our_list[i]) &&
		    list_has(peer_list, peer_n, our_list[i]))
			self_first = our_list[i];
	for (size_t i = 0; i < peer_n && peer_first == 0; i++)
		if (ours_usable(ZRTP_KIND_KA, peer_list[i]) &&
		    ka_hash_available(ours, peer, peer_list[i]) &&
		    list_has(our_list, our_n, peer_list[i]))
			peer_first = peer_list[i];
	if (self_first == 0 || peer_first == 0)
		return -ENOTSUP;

	chosen = ka_rank(peer_first) < ka_rank(self_first) ? peer_first :
							      self_first;
	if (!list_has_exact(peer_list, peer_n, chosen))
		for (size_t i = 0; i < peer_n; i++)
			if (canonical(peer_list[i]) == canonical(chosen)) {
				chosen = peer_list[i];
				break;
			}
	*out = chosen;
	return 0;
}

/* Our most preferred supported algorithm that the peer offers. */
static int choose_ours_first(const struct zrtp_algo_prefs *ours,
			     const struct zrtp_hello *peer,
			     enum zrtp_algo_kind kind, uint32_t *out)
{
	size_t n = ours->n[kind] > ZRTP_MAX_ALGOS ? ZRTP_MAX_ALGOS :
						     ours->n[kind];

	for (size_t i = 0; i < n; i++) {
		uint32_t a = ours->list[kind][i];
		if (ours_usable(kind, a) && zrtp_hello_offers(peer, kind, a)) {
			*out = a;
			return 0;
		}
	}
	return -ENOTSUP;
}

int zrtp_negotiate(const struct zrtp_algo_prefs *ours,
		   const struct zrtp_hello *peer, struct zrtp_algos *out,
		   enum zrtp_algo_kind *failed_kind)
{
	struct zrtp_algos r = { 0 };
	/* Key agreement first: EC38 decides the hash and the cipher. */
	static const enum zrtp_algo_kind order[] = {
		ZRTP_KIND_KA, ZRTP_KIND_HASH, ZRTP_KIND_CIPHER,
		ZRTP_KIND_AUTH, ZRTP_KIND_SAS,
	};
	uint32_t *slot[ZRTP_KIND_COUNT] = {
		[ZRTP_KIND_HASH] = &r.hash,
		[ZRTP_KIND_CIPHER] = &r.cipher,
		[ZRTP_KIND_AUTH] = &r.auth,
		[ZRTP_KIND_KA] = &r.ka,
		[ZRTP_KIND_SAS] = &r.sas,
	};

	if (ours == NULL || peer == NULL || out == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum zrtp_algo_kind k = order[i];
		bool ec38 = i > 0 && canonical(r.ka) == ZRTP_KA_EC38;
		int rc;

		if (k == ZRTP_KIND_KA) {
			rc = choose_ka(ours, peer, slot[k]);
		} else if (k == ZRTP_KIND_HASH && ec38) {
			r.hash = ZRTP_HASH_S384;  /* choose_ka saw both offer it */
			rc = 0;
		} else if (k == ZRTP_KIND_CIPHER && ec38 &&
			   ours_list(ours, k, ZRTP_CIPHER_AES3) &&
			   zrtp_hello_offers(peer, k, ZRTP_CIPHER_AES3)) {
			/* §5.1.3: EC38 SHOULD go with AES-256, as GNU ZRTP
			 * does whenever both offer it. */
			r.cipher = ZRTP_CIPHER_AES3;
			rc = 0;
		} else {
			rc = choose_ours_first(ours, peer, k, slot[k]);
		}
		if (rc < 0) {
			if (failed_kind != NULL)
				*failed_kind = k;
			return rc;
		}
	}
	*out = r;
	return 0;
}

bool zrtp_algos_coupled_ok(const struct zrtp_algos *a)
{
	return a != NULL && (canonical(a->ka) != ZRTP_KA_EC38 ||
			     a->hash == ZRTP_HASH_S384);
}

void zrtp_hello_set_algos(struct zrtp_hello *h, const struct zrtp_algo_prefs *p)
{
	uint8_t *counts[ZRTP_KIND_COUNT] = {
		[ZRTP_KIND_HASH] = &h->n_hash,
		[ZRTP_KIND_CIPHER] = &h->n_cipher,
		[ZRTP_KIND_AUTH] = &h->n_auth,
		[ZRTP_KIND_KA] = &h->n_ka,
		[ZRTP_KIND_SAS] = &h->n_sas,
	};
	uint32_t *lists[ZRTP_KIND_COUNT] = {
		[ZRTP_KIND_HASH] = h->hash,
		[ZRTP_KIND_CIPHER] = h->cipher,
		[ZRTP_KIND_AUTH] = h->auth,
		[ZRTP_KIND_KA] = h->ka,
		[ZRTP_KIND_SAS] = h->sas,
	};

	for (int k = 0; k < ZRTP_KIND_COUNT; k++) {
		uint8_t n = p->n[k] > ZRTP_MAX_ALGOS ? ZRTP_MAX_ALGOS : p->n[k];
		memset(lists[k], 0, ZRTP_MAX_ALGOS * sizeof(uint32_t));
		memcpy(lists[k], p->list[k], n * sizeof(uint32_t));
		*counts[k] = n;
	}
}

/* ---- Helpers ---------------------------------------------------------------- */

bool zrtp_ct_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

void zrtp_wipe(void *p, size_t len)
{
	if (p != NULL)
		sodium_memzero(p, len);
}

const char *zrtp_algo_str(uint32_t name, char buf[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(name >> (24 - 8 * i));
		buf[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	buf[4] = '\0';
	/* "B32 " reads better without its padding. */
	if (buf[3] == ' ')
		buf[3] = '\0';
	return buf;
}
