/*
 * A minimal mbedTLS client for tests/e2e/tls_libs.sh (Debian ships no
 * mbedTLS command-line client): mbedtls_client HOST PORT connects over
 * TLS without checking the server's certificate, gives every chunk it
 * reads from stdin to one mbedtls_ssl_write, and once stdin ends prints
 * to stdout what mbedtls_ssl_read returns until the server closes. Then
 * mbedtls_ssl_close_notify and mbedtls_ssl_free. Exit 0 if the session
 * worked, 1 otherwise (the mbedTLS error on stderr).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

static int report(const char *what, int r)
{
	char msg[160];

	mbedtls_strerror(r, msg, sizeof msg);
	fprintf(stderr, "mbedtls_client: %s: -0x%04x %s\n", what,
		(unsigned)-r, msg);
	return 1;
}

/* The whole of buf[0..n) through mbedtls_ssl_write (it may take less). */
static int write_all(mbedtls_ssl_context *ssl, const unsigned char *buf,
		     size_t n)
{
	while (n > 0) {
		int r = mbedtls_ssl_write(ssl, buf, n);
		if (r == MBEDTLS_ERR_SSL_WANT_READ ||
		    r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (r <= 0)
			return r;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	unsigned char buf[4096];
	int rc = 1, r;

	if (argc != 3) {
		fprintf(stderr, "usage: mbedtls_client HOST PORT\n");
		return 2;
	}
	mbedtls_net_init(&net);
	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_config_init(&conf);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);

	if ((r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
				       NULL, 0)) != 0) {
		report("ctr_drbg_seed", r);
		goto out;
	}
	if ((r = mbedtls_net_connect(&net, argv[1], argv[2],
				     MBEDTLS_NET_PROTO_TCP)) != 0) {
		report("connect", r);
		goto out;
	}
	if ((r = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
					     MBEDTLS_SSL_TRANSPORT_STREAM,
					     MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		report("config_defaults", r);
		goto out;
	}
	/* A test server with a self-signed certificate. */
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	if ((r = mbedtls_ssl_setup(&ssl, &conf)) != 0) {
		report("ssl_setup", r);
		goto out;
	}
	mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv,
			    NULL);
	while ((r = mbedtls_ssl_handshake(&ssl)) != 0) {
		if (r != MBEDTLS_ERR_SSL_WANT_READ &&
		    r != MBEDTLS_ERR_SSL_WANT_WRITE) {
			report("handshake", r);
			goto out;
		}
	}

	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n < 0) {
			perror("mbedtls_client: stdin");
			goto out;
		}
		if (n == 0)
			break;
		if ((r = write_all(&ssl, buf, (size_t)n)) != 0) {
			report("ssl_write", r);
			goto out;
		}
	}

	for (;;) {
		r = mbedtls_ssl_read(&ssl, buf, sizeof buf);
		if (r == MBEDTLS_ERR_SSL_WANT_READ ||
		    r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
			break;
		if (r < 0) {
			report("ssl_read", r);
			goto out;
		}
		if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
			goto out;
		fflush(stdout);
	}
	rc = 0;
	(void)mbedtls_ssl_close_notify(&ssl);
out:
	mbedtls_net_free(&net);
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return rc;
}
