/*
 * A SIP byte stream (stream.h).
 *
 * Outgoing, the framer's frames are appended to an output buffer: a
 * complete message after sipglue's rewrite (or as it was), passthrough
 * bytes as they are. The buffer only grows while the caller cannot send
 * (a full socket buffer, a TLS WANT_WRITE); it is compacted when consumed.
 * Incoming, frames are shown to sipglue and dropped.
 *
 * Memory: two framers of SIP_MAX_MSG and one rewrite buffer per
 * connection, allocated with the stream (a client has one or two SIP
 * connections).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"
#include "shim/log.h"
#include "shim/sipglue.h"
#include "shim/stream.h"

/* A rewritten message: the original plus a=zrtp-hash lines. */
#define STREAM_REWRITE_CAP (SIP_MAX_MSG + 8192)

struct shim_stream {
	pthread_mutex_t mu;
	struct sip_framer *out_framer, *in_framer;
	uint8_t *rewrite;            /* STREAM_REWRITE_CAP */
	uint8_t *out;                /* output not yet consumed: out[off..len) */
	size_t out_off, out_len, out_cap;
	bool out_failed;             /* an append failed: ENOMEM */
};

struct shim_stream *shim_stream_new(void)
{
	struct shim_stream *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->out_framer = sip_framer_new(SIP_MAX_MSG);
	s->in_framer = sip_framer_new(SIP_MAX_MSG);
	s->rewrite = malloc(STREAM_REWRITE_CAP);
	if (!s->out_framer || !s->in_framer || !s->rewrite) {
		shim_stream_free(s);
		return NULL;
	}
	return s;
}

void shim_stream_free(struct shim_stream *s)
{
	if (s == NULL)
		return;
	sip_framer_free(s->out_framer);
	sip_framer_free(s->in_framer);
	free(s->rewrite);
	free(s->out);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void shim_stream_lock(struct shim_stream *s)
{
	pthread_mutex_lock(&s->mu);
}

void shim_stream_unlock(struct shim_stream *s)
{
	pthread_mutex_unlock(&s->mu);
}

static void out_append(struct shim_stream *s, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (s->out_off > 0 && s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
	if (s->out_len + n > s->out_cap) {
		if (s->out_off > 0) {     /* compact first */
			memmove(s->out, s->out + s->out_off,
				s->out_len - s->out_off);
			s->out_len -= s->out_off;
			s->out_off = 0;
		}
		if (s->out_len + n > s->out_cap) {
			size_t cap = s->out_cap ? s->out_cap : 4096;
			while (cap < s->out_len + n)
				cap *= 2;
			uint8_t *q = realloc(s->out, cap);
			if (q == NULL) {
				s->out_failed = true;
				return;
			}
			s->out = q;
			s->out_cap = cap;
		}
	}
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

static void out_frame(void *arg, enum sip_frame_kind kind, const uint8_t *p,
		      size_t len)
{
	struct shim_stream *s = arg;
	size_t n = 0;

	if (kind == SIP_FRAME_MESSAGE)
		n = shim_sip_outgoing(NULL, p, len, true, NULL, s->rewrite,
				      STREAM_REWRITE_CAP);
	if (n > 0 && n <= STREAM_REWRITE_CAP)
		out_append(s, s->rewrite, n);
	else
		out_append(s, p, len);
}

int shim_stream_write(struct shim_stream *s, const uint8_t *p, size_t n)
{
	s->out_failed = false;
	if (sip_framer_feed(s->out_framer, p, n, out_frame, s) < 0 ||
	    s->out_failed) {
		shim_log(SHIM_LOG_ERROR, "sip stream: out of memory: bytes of "
			 "the client's SIP stream may be lost");
		return -ENOMEM;
	}
	return 0;
}

const uint8_t *shim_stream_out(const struct shim_stream *s, size_t *len)
{
	*len = s->out_len - s->out_off;
	return s->out ? s->out + s->out_off : NULL;
}

void shim_stream_out_consume(struct shim_stream *s, size_t n)
{
	size_t left = s->out_len - s->out_off;

	s->out_off += n < left ? n : left;
	if (s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
}

size_t shim_stream_held(const struct shim_stream *s)
{
	return sip_framer_pending(s->out_framer);
}

static void held_frame(void *arg, enum sip_frame_kind kind, const uint8_t *p,
		       size_t len)
{
	(void)kind;
	out_append(arg, p, len);
}

void shim_stream_release_held(struct shim_stream *s)
{
	sip_framer_flush(s->out_framer, held_frame, s);
}

static void in_frame(void *arg, enum sip_frame_kind kind, const uint8_t *p,
		     size_t len)
{
	(void)arg;
	if (kind == SIP_FRAME_MESSAGE)
		shim_sip_incoming(NULL, p, len, true, NULL);
}

void shim_stream_read(struct shim_stream *s, const uint8_t *p, size_t n)
{
	if (sip_framer_feed(s->in_framer, p, n, in_frame, s) < 0)
		shim_log(SHIM_LOG_WARN, "sip stream: out of memory: a received "
			 "SIP message was not read");
}
