/*
 * A SIP byte stream (stream.c): the plaintext of one TCP connection or TLS
 * session, both directions. What the client writes is framed (sdp/'s
 * framer, RFC 3261 §18.3) and each complete message goes to sipglue,
 * which may rewrite it (a=zrtp-hash); what the client reads is framed and
 * shown to sipglue. Messages split across writes, several in one write,
 * and a rewrite that changes the length all come out as one consistent
 * stream for the peer.
 *
 * The price: the bytes of a message not yet complete are held (the
 * client is told they were written) until the rest arrives, and a held
 * message goes out when it completes. Bytes that cannot be SIP pass at
 * once (the framer's rule), so a stream that is not SIP is never delayed.
 *
 * One stream's calls are serialised by its own mutex, which the caller
 * takes (shim_stream_lock) around every other call: a write and the flush
 * of its output must not interleave with another thread's.
 */
#ifndef SHIM_STREAM_H
#define SHIM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shim_stream;

/* NULL when memory is short (the caller then passes the stream through). */
struct shim_stream *shim_stream_new(void);
void shim_stream_free(struct shim_stream *s);
void shim_stream_lock(struct shim_stream *s);
void shim_stream_unlock(struct shim_stream *s);

/*
 * The client wrote p[0..n). Appends to the stream's output what the peer
 * must get now: completed messages (rewritten or not), bytes that cannot
 * be SIP. 0, or -ENOMEM (nothing appended: the caller sends p as is after
 * shim_stream_out_take).
 */
int shim_stream_write(struct shim_stream *s, const uint8_t *p, size_t n);

/* What is waiting to go to the peer (output not yet consumed). */
const uint8_t *shim_stream_out(const struct shim_stream *s, size_t *len);
/* n bytes of the output went to the peer. */
void shim_stream_out_consume(struct shim_stream *s, size_t n);
/* Bytes of an incomplete message the framer holds. */
size_t shim_stream_held(const struct shim_stream *s);
/* The connection ends: the held bytes become output as they are (they
 * are the client's, and it believes they were sent). */
void shim_stream_release_held(struct shim_stream *s);

/* The client read p[0..n) (consumed, not peeked): framed, each complete
 * message shown to sipglue. */
void shim_stream_read(struct shim_stream *s, const uint8_t *p, size_t n);

#endif
