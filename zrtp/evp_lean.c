/*
 * A library context for the AES ciphers (evp_lean.h).
 *
 * OpenSSL 3.0 builds, on the first fetch of any cipher from a library
 * context, every cipher its providers offer (some 150 methods) and, in
 * the default context, a name map of every legacy object name: some 3 M
 * instructions at the first SRTP or ZRTP cipher of a process, where a
 * call needs seven. The lean context has one provider, built in here,
 * that offers exactly those seven: its algorithm table is the default
 * provider's own entries for them (names, properties and implementation
 * dispatch tables, read once with OSSL_PROVIDER_query_operation), and
 * its provider context is the default provider's, so the implementations
 * run as they do when fetched from the default provider: the same code,
 * the same bytes. Nothing here implements a cipher.
 *
 * The default provider stays loaded in the default context (which is
 * where OpenSSL would load it anyway); nothing is fetched from there by
 * this module. Built once; never freed (a process's OpenSSL is not
 * cleaned up at exit: media_engine.c).
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/provider.h>

#include "zrtp/evp_lean.h"

static const char *const lean_names[] = {
	"AES-128-ECB", "AES-192-ECB", "AES-256-ECB",
	"AES-128-GCM", "AES-256-GCM",
	"AES-128-CFB", "AES-256-CFB",
};
#define LEAN_N (sizeof(lean_names) / sizeof(lean_names[0]))

static pthread_once_t lean_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *lean_ctx;                 /* NULL: not in use */
static OSSL_PROVIDER *dflt;                    /* in the default context */
static OSSL_ALGORITHM lean_ciphers[LEAN_N + 1];  /* NULL-terminated */

/* The first of an OSSL_ALGORITHM's colon-separated names, compared
 * without case as OpenSSL compares them. */
static bool first_name_is(const char *names, const char *want)
{
	size_t n = strcspn(names, ":");
	return n == strlen(want) && strncasecmp(names, want, n) == 0;
}

static const OSSL_ALGORITHM *lean_query(void *provctx, int operation_id,
					int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	return operation_id == OSSL_OP_CIPHER ? lean_ciphers : NULL;
}

static const OSSL_DISPATCH lean_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))lean_query },
	{ 0, NULL }
};

static int lean_provider_init(const OSSL_CORE_HANDLE *handle,
			      const OSSL_DISPATCH *in,
			      const OSSL_DISPATCH **out, void **provctx)
{
	(void)handle;
	(void)in;
	*out = lean_dispatch;
	/* The default provider's own context: its implementations read
	 * their library context and core handle from it. */
	*provctx = OSSL_PROVIDER_get0_provider_ctx(dflt);
	return *provctx != NULL;
}

/* The default provider's entries for lean_names, in that order; false
 * if one is missing. */
static bool lean_table(void)
{
	int no_cache = 0;
	const OSSL_ALGORITHM *all =
		OSSL_PROVIDER_query_operation(dflt, OSSL_OP_CIPHER, &no_cache);
	if (all == NULL)
		return false;
	bool ok = true;
	for (size_t i = 0; i < LEAN_N && ok; i++) {
		const OSSL_ALGORITHM *a = all;
		while (a->algorithm_names != NULL &&
		       !first_name_is(a->algorithm_names, lean_names[i]))
			a++;
		if (a->algorithm_names == NULL)
			ok = false;
		else
			lean_ciphers[i] = *a;
	}
	OSSL_PROVIDER_unquery_operation(dflt, OSSL_OP_CIPHER, all);
	return ok;   /* lean_ciphers[LEAN_N], static, stays the terminator */
}

static void lean_build(void)
{
	OSSL_LIB_CTX *ctx = NULL;

	dflt = OSSL_PROVIDER_load(NULL, "default");
	if (dflt == NULL || !lean_table())
		return;
	ctx = OSSL_LIB_CTX_new();
	if (ctx == NULL)
		return;
	if (OSSL_PROVIDER_add_builtin(ctx, ZRTP_EVP_LEAN_PROVIDER,
				      lean_provider_init) != 1 ||
	    OSSL_PROVIDER_load(ctx, ZRTP_EVP_LEAN_PROVIDER) == NULL) {
		OSSL_LIB_CTX_free(ctx);
		return;
	}
	lean_ctx = ctx;
}

bool zrtp_evp_lean_active(void)
{
	pthread_once(&lean_once, lean_build);
	return lean_ctx != NULL;
}

EVP_CIPHER *zrtp_evp_cipher_fetch(const char *name)
{
	EVP_CIPHER *c = NULL;

	if (name == NULL)
		return NULL;
	if (zrtp_evp_lean_active()) {
		for (size_t i = 0; i < LEAN_N; i++)
			if (strcasecmp(name, lean_names[i]) == 0) {
				c = EVP_CIPHER_fetch(lean_ctx, name, NULL);
				break;
			}
	}
	return c != NULL ? c : EVP_CIPHER_fetch(NULL, name, NULL);
}
