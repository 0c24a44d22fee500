/*
 * The AES ciphers ZRTP (CFB) and SRTP (ECB for AES-ICM, GCM) take from
 * OpenSSL, fetched from a library context of their own that knows only
 * them (evp_lean.c).
 */
#ifndef ZRTP_EVP_LEAN_H
#define ZRTP_EVP_LEAN_H

#include <stdbool.h>

#include <openssl/evp.h>

/* One of "AES-128-ECB", "AES-192-ECB", "AES-256-ECB", "AES-128-GCM",
 * "AES-256-GCM", "AES-128-CFB", "AES-256-CFB" (the default provider's
 * implementation, through the lean context; the caller frees it with
 * EVP_CIPHER_free). Any other name, or a lean context that could not be
 * built: EVP_CIPHER_fetch(NULL, name, NULL), the default context. NULL
 * only if that fails too. */
EVP_CIPHER *zrtp_evp_cipher_fetch(const char *name);

/* Whether the lean context is in use (built, and its provider loaded). */
bool zrtp_evp_lean_active(void);

/* The provider name the lean context's ciphers report
 * (OSSL_PROVIDER_get0_name of EVP_CIPHER_get0_provider). */
#define ZRTP_EVP_LEAN_PROVIDER "zrtp-aes"

#endif
