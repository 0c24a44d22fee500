/*
 * libsrtp2's AES-ICM (128 and 256-bit keys, and 192), AES-GCM and
 * HMAC-SHA1 on OpenSSL libcrypto (AES-NI, the SHA extensions), installed
 * into libsrtp2's crypto kernel with its own srtp_replace_cipher_type and
 * srtp_replace_auth_type (in the shim, linked in its place: srtp_evp.c). libsrtp2 keeps the SRTP/SRTCP framing, the
 * replay window, the rollover counter and the key derivation; only the
 * two primitives change. Debian's libsrtp2 does them with NSS, which
 * costs ~3 us and several allocations per 172-byte packet.
 *
 * Every context (EVP_CIPHER_CTX, the keyed SHA-1 states) is made when
 * libsrtp2 allocates and keys a stream's cipher or auth; a packet only
 * resets the counter and hashes from a copy of the keyed state, and
 * allocates nothing.
 */
#ifndef SHIM_SRTP_EVP_H
#define SHIM_SRTP_EVP_H

#include <srtp2/srtp.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

/* The types, each with known-answer tests libsrtp2 runs when they are
 * installed: ours (RFC 3711 B.2, RFC 6188 7.1, RFC 2202) for the ones
 * ZRTP's SRTP uses, AES-ICM with 128 and 256-bit keys and HMAC-SHA1;
 * libsrtp2's own for AES-ICM-192 and AES-GCM, which are here so that no
 * type of the kernel is left on NSS (srtp_evp.c, SRTP_EVP_KERNEL_NAMES). */
extern const srtp_cipher_type_t srtp_evp_aes_icm_128;
extern const srtp_cipher_type_t srtp_evp_aes_icm_192;
extern const srtp_cipher_type_t srtp_evp_aes_icm_256;
extern const srtp_cipher_type_t srtp_evp_aes_gcm_128;
extern const srtp_cipher_type_t srtp_evp_aes_gcm_256;
extern const srtp_auth_type_t srtp_evp_hmac_sha1;

/* Puts ours in libsrtp2's kernel (after srtp_init) in place of the
 * stock AES-ICM (128, 192, 256), AES-GCM (128, 256) and HMAC-SHA1, with
 * srtp_replace_cipher_type / srtp_replace_auth_type, where the kernel
 * does not hold ours already. libsrtp2 first runs the new type's
 * self-test and the old type's test cases on it; a type that fails stays
 * the stock one. Returns the first error, srtp_err_status_ok if all are
 * in. Streams made before keep the types they were made with. */
srtp_err_status_t srtp_evp_install(void);

/* How many times one of our ciphers was keyed (init), process-wide: the
 * tests' proof that a session runs on these types. */
unsigned long srtp_evp_key_setups(void);

#endif
