/*
 * The record calls of the TLS libraries SIP clients use (tls.h), exported
 * so a client's calls bind to them: OpenSSL (SSL_write, SSL_write_ex,
 * SSL_read, SSL_read_ex, SSL_shutdown, SSL_free: baresip/libre), GnuTLS
 * (gnutls_record_send, gnutls_record_recv, gnutls_bye, gnutls_deinit),
 * mbedTLS (mbedtls_ssl_write, mbedtls_ssl_read, mbedtls_ssl_close_notify,
 * mbedtls_ssl_free: linphonec through bctoolbox). SSL_peek and the
 * libraries' other calls are not interposed: a peek changes nothing the
 * shim needs to see.
 *
 * The real functions are found with dlsym(RTLD_NEXT) on the first call
 * (a client that calls one has the library loaded), else in the library
 * the client loaded with RTLD_LOCAL (dlopen RTLD_NOLOAD of its sonames).
 * Prototypes are written with opaque pointers, so no TLS library header
 * is needed to build the shim; the ABI is the same. With ZRTPSHIM_TLS=off
 * every hook is a plain call of the library.
 */
#include "config.h"

#include "shim/hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "shim/settings.h"
#include "shim/tls.h"

/* The library's function `name`: RTLD_NEXT, else a soname the client
 * loaded privately. NULL (logged) if neither has it. */
static void *tls_real(const char *name, const char *const *sonames)
{
	void *p = dlsym(RTLD_NEXT, name);

	for (size_t i = 0; p == NULL && sonames[i] != NULL; i++) {
		void *h = dlopen(sonames[i], RTLD_LAZY | RTLD_NOLOAD);
		if (h != NULL) {
			p = dlsym(h, name);
			dlclose(h);
		}
	}
	if (p == NULL)
		shim_log(SHIM_LOG_ERROR, "tls: %s called, but no TLS library "
			 "defines it", name);
	return p;
}

/* The pointer in *slot, resolved on the first call. */
static void *tls_fn(void *_Atomic *slot, const char *name,
		    const char *const *sonames)
{
	void *p = atomic_load_explicit(slot, memory_order_acquire);

	if (p == NULL) {
		p = tls_real(name, sonames);
		atomic_store_explicit(slot, p, memory_order_release);
	}
	return p;
}

/* fp = the real `name` (POSIX: dlsym's object pointer converts to a
 * function pointer; the copy through void ** keeps ISO C quiet). */
#define TLS_REAL(fp, name, sonames)                                           \
	do {                                                                  \
		static void *_Atomic slot_;                                   \
		*(void **)&(fp) = tls_fn(&slot_, name, sonames);              \
	} while (0)

static const char *const ossl_so[] = { "libssl.so.3", "libssl.so.1.1", NULL };
static const char *const gnutls_so[] = { "libgnutls.so.30", NULL };
static const char *const mbed_so[] = { "libmbedtls.so.14", "libmbedtls.so.12",
				       "libmbedtls.so.21", NULL };

/* Whether the hooks read plaintext at all. */
static bool tls_on(void)
{
	hook_init();
	return shim_config.tls && !shim_in_shim;
}

/* Run fn with the re-entry guard set (the library's own socket calls
 * underneath go straight to libc), errno as the library left it. */
#define GUARDED(stmt)                                                         \
	do {                                                                  \
		shim_in_shim++;                                               \
		stmt;                                                         \
		shim_in_shim--;                                               \
	} while (0)

/* ---- OpenSSL ------------------------------------------------------------ */

typedef int ossl_write_t(void *, const void *, int);
typedef int ossl_write_ex_t(void *, const void *, size_t, size_t *);
typedef int ossl_read_t(void *, void *, int);
typedef int ossl_read_ex_t(void *, void *, size_t, size_t *);
typedef int ossl_shutdown_t(void *);
typedef void ossl_free_t(void *);
typedef long ossl_ctrl_t(void *, int, long, void *);

SHIM_EXPORT int SSL_write(void *ssl, const void *buf, int num);
SHIM_EXPORT int SSL_write_ex(void *ssl, const void *buf, size_t num,
			     size_t *written);
SHIM_EXPORT int SSL_read(void *ssl, void *buf, int num);
SHIM_EXPORT int SSL_read_ex(void *ssl, void *buf, size_t num,
			    size_t *readbytes);
SHIM_EXPORT int SSL_shutdown(void *ssl);
SHIM_EXPORT void SSL_free(void *ssl);

static ossl_write_t *ossl_write_fn(void)
{
	ossl_write_t *fp;
	TLS_REAL(fp, "SSL_write", ossl_so);
	return fp;
}

/* What the stream produced, through the library's SSL_write. */
static long ossl_write_real(void *ssl, const uint8_t *p, size_t n)
{
	return ossl_write_fn()(ssl, p, n > 0x7fffffff ? 0x7fffffff : (int)n);
}

/* The shim's retry of a write is from its own buffer, which may have
 * moved since the first try: tell OpenSSL that is fine
 * (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER through SSL_ctrl, SSL_CTRL_MODE). */
static void ossl_on_sip(void *ssl)
{
	ossl_ctrl_t *ctrl;
	TLS_REAL(ctrl, "SSL_ctrl", ossl_so);
	if (ctrl != NULL)
		(void)ctrl(ssl, 33 /* SSL_CTRL_MODE */,
			   0x2 /* SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER */, NULL);
}

int SSL_write(void *ssl, const void *buf, int num)
{
	ossl_write_t *real = ossl_write_fn();
	long r;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (!tls_on() || num <= 0 || buf == NULL)
		return real(ssl, buf, num);
	GUARDED(r = shim_tls_write(ssl, buf, (size_t)num, ossl_write_real,
				   ossl_on_sip));
	return (int)r;
}

int SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *written)
{
	ossl_write_ex_t *real;
	long r;

	TLS_REAL(real, "SSL_write_ex", ossl_so);
	if (real == NULL) {
		errno = ENOSYS;
		return 0;
	}
	if (!tls_on() || num == 0 || buf == NULL || num > 0x7fffffff ||
	    ossl_write_fn() == NULL)
		return real(ssl, buf, num, written);
	GUARDED(r = shim_tls_write(ssl, buf, num, ossl_write_real,
				   ossl_on_sip));
	if (r <= 0)
		return 0;     /* SSL_get_error says why, as for the library */
	if (written != NULL)
		*written = num;
	return 1;
}

int SSL_read(void *ssl, void *buf, int num)
{
	ossl_read_t *real;
	int r;

	TLS_REAL(real, "SSL_read", ossl_so);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = real(ssl, buf, num);
	if (r > 0 && tls_on()) {
		int saved = errno;
		GUARDED(shim_tls_read(ssl, buf, (size_t)r));
		errno = saved;
	}
	return r;
}

int SSL_read_ex(void *ssl, void *buf, size_t num, size_t *readbytes)
{
	ossl_read_ex_t *real;
	int r;

	TLS_REAL(real, "SSL_read_ex", ossl_so);
	if (real == NULL) {
		errno = ENOSYS;
		return 0;
	}
	r = real(ssl, buf, num, readbytes);
	if (r == 1 && readbytes != NULL && *readbytes > 0 && tls_on()) {
		int saved = errno;
		GUARDED(shim_tls_read(ssl, buf, *readbytes));
		errno = saved;
	}
	return r;
}

int SSL_shutdown(void *ssl)
{
	ossl_shutdown_t *real;

	TLS_REAL(real, "SSL_shutdown", ossl_so);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (tls_on() && ossl_write_fn() != NULL)
		GUARDED(shim_tls_closing(ssl, ossl_write_real));
	return real(ssl);
}

void SSL_free(void *ssl)
{
	ossl_free_t *real;

	TLS_REAL(real, "SSL_free", ossl_so);
	if (ssl != NULL) {
		hook_init();
		shim_tls_forget(ssl);
	}
	if (real != NULL)
		real(ssl);
}

/* ---- GnuTLS -------------------------------------------------------------- */

typedef ssize_t gnutls_send_t(void *, const void *, size_t);
typedef ssize_t gnutls_recv_t(void *, void *, size_t);
typedef int gnutls_bye_t(void *, int);
typedef void gnutls_deinit_t(void *);

SHIM_EXPORT ssize_t gnutls_record_send(void *session, const void *data,
				       size_t size);
SHIM_EXPORT ssize_t gnutls_record_recv(void *session, void *data, size_t size);
SHIM_EXPORT int gnutls_bye(void *session, int how);
SHIM_EXPORT void gnutls_deinit(void *session);

static gnutls_send_t *gnutls_send_fn(void)
{
	gnutls_send_t *fp;
	TLS_REAL(fp, "gnutls_record_send", gnutls_so);
	return fp;
}

static long gnutls_write_real(void *sess, const uint8_t *p, size_t n)
{
	return gnutls_send_fn()(sess, p, n);
}

ssize_t gnutls_record_send(void *session, const void *data, size_t size)
{
	gnutls_send_t *real = gnutls_send_fn();
	long r;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	/* (NULL, 0) is GnuTLS's own "go on with the interrupted send" */
	if (!tls_on() || size == 0 || data == NULL)
		return real(session, data, size);
	GUARDED(r = shim_tls_write(session, data, size, gnutls_write_real,
				   NULL));
	return (ssize_t)r;
}

ssize_t gnutls_record_recv(void *session, void *data, size_t size)
{
	gnutls_recv_t *real;
	ssize_t r;

	TLS_REAL(real, "gnutls_record_recv", gnutls_so);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = real(session, data, size);
	if (r > 0 && tls_on()) {
		int saved = errno;
		GUARDED(shim_tls_read(session, data, (size_t)r));
		errno = saved;
	}
	return r;
}

int gnutls_bye(void *session, int how)
{
	gnutls_bye_t *real;

	TLS_REAL(real, "gnutls_bye", gnutls_so);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (tls_on() && gnutls_send_fn() != NULL)
		GUARDED(shim_tls_closing(session, gnutls_write_real));
	return real(session, how);
}

void gnutls_deinit(void *session)
{
	gnutls_deinit_t *real;

	TLS_REAL(real, "gnutls_deinit", gnutls_so);
	if (session != NULL) {
		hook_init();
		shim_tls_forget(session);
	}
	if (real != NULL)
		real(session);
}

/* ---- mbedTLS -------------------------------------------------------------- */

typedef int mbed_write_t(void *, const unsigned char *, size_t);
typedef int mbed_read_t(void *, unsigned char *, size_t);
typedef int mbed_close_t(void *);
typedef void mbed_free_t(void *);

SHIM_EXPORT int mbedtls_ssl_write(void *ssl, const unsigned char *buf,
				  size_t len);
SHIM_EXPORT int mbedtls_ssl_read(void *ssl, unsigned char *buf, size_t len);
SHIM_EXPORT int mbedtls_ssl_close_notify(void *ssl);
SHIM_EXPORT void mbedtls_ssl_free(void *ssl);

static mbed_write_t *mbed_write_fn(void)
{
	mbed_write_t *fp;
	TLS_REAL(fp, "mbedtls_ssl_write", mbed_so);
	return fp;
}

static long mbed_write_real(void *ssl, const uint8_t *p, size_t n)
{
	return mbed_write_fn()(ssl, p, n);
}

int mbedtls_ssl_write(void *ssl, const unsigned char *buf, size_t len)
{
	mbed_write_t *real = mbed_write_fn();
	long r;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (!tls_on() || len == 0 || buf == NULL || len > 0x7fffffff)
		return real(ssl, buf, len);
	GUARDED(r = shim_tls_write(ssl, buf, len, mbed_write_real, NULL));
	return (int)r;
}

int mbedtls_ssl_read(void *ssl, unsigned char *buf, size_t len)
{
	mbed_read_t *real;
	int r;

	TLS_REAL(real, "mbedtls_ssl_read", mbed_so);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = real(ssl, buf, len);
	if (r > 0 && tls_on()) {
		int saved = errno;
		GUARDED(shim_tls_read(ssl, buf, (size_t)r));
		errno = saved;
	}
	return r;
}

int mbedtls_ssl_close_notify(void *ssl)
{
	mbed_close_t *real;

	TLS_REAL(real, "mbedtls_ssl_close_notify", mbed_so);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (tls_on() && mbed_write_fn() != NULL)
		GUARDED(shim_tls_closing(ssl, mbed_write_real));
	return real(ssl);
}

void mbedtls_ssl_free(void *ssl)
{
	mbed_free_t *real;

	TLS_REAL(real, "mbedtls_ssl_free", mbed_so);
	if (ssl != NULL) {
		hook_init();
		shim_tls_forget(ssl);
	}
	if (real != NULL)
		real(ssl);
}
