/*
 * SIP inside TLS (tls.h): the table of the client's TLS sessions, by the
 * library's session pointer, and what is done with their plaintext.
 *
 * A session is SIP or not from its first plaintext either way (CRLF
 * keep-alives, a SIP start line, or a few upper-case letters of one);
 * one that is not is remembered as such and costs a table lookup per
 * record call from then on. A SIP session has a stream (stream.h) and
 * the length of a write the library has not finished taking, so that a
 * retry after "want read/write" goes on with the bytes already produced
 * instead of framing the client's bytes twice.
 *
 * Locking: tls_mu guards the table (a leaf lock, held only to find or
 * insert an entry); each session's stream lock serialises its calls and
 * is held across the library's real write, so a second thread writing on
 * the same session waits (the libraries forbid concurrent writes on one
 * session anyway). Entries live until the library frees the session.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/demux.h"
#include "shim/log.h"
#include "shim/stream.h"
#include "shim/tls.h"

enum tls_kind { TLS_UNDECIDED, TLS_SIP, TLS_OTHER };

struct tls_sess {
	void *key;
	enum tls_kind kind;
	struct shim_stream *st;      /* TLS_SIP */
	size_t retry_len;            /* a write being retried, 0: none */
	struct tls_sess *next;
};

#define TLS_BUCKETS 64

static pthread_mutex_t tls_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tls_sess *tls_table[TLS_BUCKETS];

static size_t bucket(const void *key)
{
	uintptr_t k = (uintptr_t)key;
	return (size_t)((k >> 4) ^ (k >> 12)) % TLS_BUCKETS;
}

/* tls_mu held. */
static struct tls_sess *find_locked(void *key, bool create)
{
	struct tls_sess **head = &tls_table[bucket(key)];

	for (struct tls_sess *t = *head; t != NULL; t = t->next)
		if (t->key == key)
			return t;
	if (!create)
		return NULL;
	struct tls_sess *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->key = key;
	t->next = *head;
	*head = t;
	return t;
}

static struct tls_sess *sess_get(void *key, bool create)
{
	pthread_mutex_lock(&tls_mu);
	struct tls_sess *t = find_locked(key, create);
	pthread_mutex_unlock(&tls_mu);
	return t;
}

/* The first plaintext of a session could begin SIP (RFC 3261 §7.1, RFC
 * 5626 §3.5.1 keep-alives): the same test as a TCP connection's. */
static bool may_be_sip(const uint8_t *p, size_t n)
{
	bool crlf = n > 0;

	for (size_t i = 0; i < n && crlf; i++)
		crlf = p[i] == '\r' || p[i] == '\n';
	if (crlf || demux_sip_looks(p, n))
		return true;
	if (n >= 8 || n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(p[i] >= 'A' && p[i] <= 'Z') && p[i] != '/')
			return false;
	return true;
}

/* Decide an undecided session from its first plaintext (tls_mu not held;
 * the entry's kind is only ever set once, under tls_mu). */
static enum tls_kind decide(struct tls_sess *t, const uint8_t *p, size_t n)
{
	enum tls_kind k;

	pthread_mutex_lock(&tls_mu);
	if (t->kind == TLS_UNDECIDED) {
		if (may_be_sip(p, n) && (t->st = shim_stream_new()) != NULL) {
			t->kind = TLS_SIP;
			shim_log(SHIM_LOG_INFO, "tls: session %p carries SIP: "
				 "read and rewritten inside TLS", t->key);
		} else {
			t->kind = TLS_OTHER;
		}
	}
	k = t->kind;
	pthread_mutex_unlock(&tls_mu);
	return k;
}

/* Stream lock held: give the library what the stream has for the peer.
 * 1 once it took everything, else the library's return value (<= 0). */
static long flush_locked(struct tls_sess *t, shim_tls_write_fn *real)
{
	for (;;) {
		size_t n;
		const uint8_t *p = shim_stream_out(t->st, &n);
		if (n == 0)
			return 1;
		long r = real(t->key, p, n);
		if (r <= 0)
			return r;
		shim_stream_out_consume(t->st, (size_t)r);
	}
}

long shim_tls_write(void *sess, const uint8_t *p, size_t n,
		    shim_tls_write_fn *real, shim_tls_sip_fn *on_sip)
{
	int saved = errno;
	struct tls_sess *t = sess_get(sess, true);

	if (t == NULL || n == 0)
		return real(sess, p, n);
	if (t->kind == TLS_UNDECIDED && decide(t, p, n) == TLS_SIP && on_sip)
		on_sip(sess);
	if (t->kind != TLS_SIP)
		return real(sess, p, n);

	shim_stream_lock(t->st);
	if (t->retry_len != n) {
		/* A new write (a retry has the same length: its bytes were
		 * framed by the first call). Output an earlier write left
		 * queued goes first. */
		if (shim_stream_write(t->st, p, n) < 0) {
			shim_stream_unlock(t->st);
			errno = ENOMEM;
			return -1;
		}
		t->retry_len = n;
	}
	long r = flush_locked(t, real);
	if (r > 0)
		t->retry_len = 0;
	shim_stream_unlock(t->st);
	if (r <= 0)
		return r;            /* the library's error: the client retries */
	errno = saved;
	return (long)n;
}

void shim_tls_read(void *sess, const uint8_t *p, size_t n)
{
	int saved = errno;
	struct tls_sess *t = sess_get(sess, true);

	if (t == NULL || n == 0)
		return;
	if (t->kind == TLS_UNDECIDED)
		(void)decide(t, p, n);
	if (t->kind == TLS_SIP) {
		shim_stream_lock(t->st);
		shim_stream_read(t->st, p, n);
		shim_stream_unlock(t->st);
	}
	errno = saved;
}

void shim_tls_closing(void *sess, shim_tls_write_fn *real)
{
	int saved = errno;
	struct tls_sess *t = sess_get(sess, false);

	if (t == NULL || t->kind != TLS_SIP)
		return;
	shim_stream_lock(t->st);
	if (shim_stream_held(t->st) > 0)
		shim_stream_release_held(t->st);
	if (flush_locked(t, real) <= 0)
		shim_log(SHIM_LOG_WARN, "tls: session %p shut down with SIP "
			 "bytes the library did not take", sess);
	shim_stream_unlock(t->st);
	errno = saved;
}

void shim_tls_forget(void *sess)
{
	struct tls_sess *t = NULL;

	pthread_mutex_lock(&tls_mu);
	for (struct tls_sess **pp = &tls_table[bucket(sess)]; *pp;
	     pp = &(*pp)->next)
		if ((*pp)->key == sess) {
			t = *pp;
			*pp = t->next;
			break;
		}
	pthread_mutex_unlock(&tls_mu);
	if (t != NULL) {
		shim_stream_free(t->st);
		free(t);
	}
}
