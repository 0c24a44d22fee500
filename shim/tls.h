/*
 * SIP inside TLS (tls.c): the plaintext of a client's TLS sessions, taken
 * at the record calls of its TLS library (hooks_tls.c: OpenSSL, GnuTLS,
 * mbedTLS). A session whose first plaintext is SIP gets a stream
 * (stream.h), exactly as a TCP connection does: what the client writes is
 * framed and rewritten, what it reads is framed and shown to sipglue. The
 * TLS bytes on the socket are never touched, and plaintext that is not
 * SIP passes untouched.
 */
#ifndef SHIM_TLS_H
#define SHIM_TLS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The library's own write of n plaintext bytes on session sess: > 0 bytes
 * taken, or <= 0 (an error, or "want read/write": the library's return
 * value, handed to the client as it is).
 */
typedef long shim_tls_write_fn(void *sess, const uint8_t *p, size_t n);

/* A session just found to carry SIP, for the library's hook to adjust
 * (OpenSSL: accept a moving write buffer). */
typedef void shim_tls_sip_fn(void *sess);

/*
 * The client writes p[0..n) on sess. Returns what the client's call
 * returns: n once the library has taken everything the write produced
 * (the client is told its whole write went), or the library's error. A
 * retry of the same write after "want read/write" (same length) does not
 * feed the bytes again: it goes on sending what the first call produced,
 * from the same buffer, as the libraries require.
 */
long shim_tls_write(void *sess, const uint8_t *p, size_t n,
		    shim_tls_write_fn *real, shim_tls_sip_fn *on_sip);

/* The client read p[0..n) from sess (n > 0, consumed, not peeked). */
void shim_tls_read(void *sess, const uint8_t *p, size_t n);

/* The session is shut down (close_notify): what the shim still holds of
 * it goes first, as it is. */
void shim_tls_closing(void *sess, shim_tls_write_fn *real);

/* The session is freed: forget it (a new session may get its address). */
void shim_tls_forget(void *sess);

#endif
