/*
 * The media path (media*.c): one stream per media line (its RTP and RTCP
 * sockets), one ZRTP session per call, SRTP with libsrtp2 once ZRTP is
 * secure. What happens to each packet is written up at the top of
 * media_path.c; the stream table and its locking at the top of media.c.
 */
#ifndef SHIM_MEDIA_H
#define SHIM_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shim/codec.h"

struct shim_fd;

enum shim_verdict {
	SHIM_PASS,      /* send / deliver the original bytes */
	SHIM_DROP,      /* held or consumed: nothing sent / delivered */
	SHIM_REPLACE,   /* send / deliver the bytes the media path produced */
};

#define SHIM_PKT_MAX 2048   /* MTU-sized RTP + SRTP_MAX_TRAILER_LEN, rounded */

/*
 * An outgoing datagram on an fd with media. For REPLACE, *out and *out_len
 * give the protected packet (in the sending thread's buffer, valid until
 * its shim_media_send_done; the caller sends it under the stream's send lock,
 * which media takes and io.c releases with shim_media_send_done).
 * send_done may be called after any verdict: it releases only what a
 * REPLACE on this thread took (PASS and DROP return with nothing held).
 */
enum shim_verdict shim_media_outgoing(struct shim_fd *f, const uint8_t *pkt,
				      size_t len, const struct sockaddr *to,
				      socklen_t tolen, const uint8_t **out,
				      size_t *out_len);
void shim_media_send_done(struct shim_fd *f);

/*
 * An incoming datagram on an fd with media, in a shim buffer of
 * SHIM_PKT_MAX bytes. REPLACE: buf now holds *new_len bytes of plain RTP
 * or RTCP for the client. DROP: consumed. peek: the packet stays queued
 * (MSG_PEEK): authenticate without advancing replay state.
 */
enum shim_verdict shim_media_incoming(struct shim_fd *f, uint8_t *buf,
				      size_t len, size_t *new_len,
				      const struct sockaddr *from,
				      socklen_t fromlen, bool peek);

/* An RTP-shaped send on a UDP fd no SDP announced: make it media (or the
 * RTP of a stream its RTCP already started, shim_media_adopt_rtcp). */
void shim_media_adopt(struct shim_fd *f, const struct sockaddr *to,
		      socklen_t tolen);

/* An RTCP-shaped send on a UDP fd no SDP announced: attach it as the RTCP
 * of the adopted stream it belongs to (its port is that stream's RTP port
 * + 1, or it sends to that stream's peer RTP address + 1), or else adopt
 * it as a stream that waits for its RTP, held until then. On return
 * f->media is set unless memory or the table ran out. */
void shim_media_adopt_rtcp(struct shim_fd *f, const struct sockaddr *to,
			   socklen_t tolen);

/* Detach an fd's media when the fd goes away (the registry's released
 * callback); the stream ends with its last socket or with the call. */
void shim_media_detach(struct shim_fd *f);

/* A tracked UDP fd got a local port (bind, or a dup of a bound fd): attach
 * it if SDP already named that port (the registry's duplicated callback). */
void shim_media_on_bind(struct shim_fd *f);

/* What the SDP of a call says about one of its media lines (sipglue). */
struct shim_media_desc {
	const char *call_id;
	size_t call_id_len;
	unsigned m_index;              /* position of the m= line */
	uint16_t local_rtp_port;       /* from our own SDP */
	uint16_t local_rtcp_port;      /* a=rtcp or port+1 */
	bool local_mux;
	bool have_peer;                /* from the peer's SDP */
	struct sockaddr_storage peer_rtp, peer_rtcp;
	bool peer_mux;
	bool have_peer_hash;
	char peer_hash[65];            /* the peer's a=zrtp-hash hex */
	bool peer_signals_zrtp;        /* the peer's SDP had a=zrtp-hash */
	bool audio;                    /* m=audio */
	/* payload types of our SDP (what we receive) and, with have_peer,
	 * of the peer's (what it receives) */
	struct shim_codec_map local_codecs, peer_codecs;
	/* Who the peer is by this call's signalling (sipglue: To of a call we
	 * place, From of one we receive, P-Asserted-Identity when the peer's
	 * side sent one): its normalised sip:/sips: URI and display name,
	 * "" when unknown. Sized as zrtp/cache.h's ZRTP_CACHE_ID_MAX and
	 * ZRTP_CACHE_NAME_MAX, plus the NUL. */
	char peer_sip_id[128];
	char peer_display[64];
};

/*
 * Create or update the stream of (call, m_index) and attach the fds bound
 * to its local ports. Writes our Hello's hash (64 hex + NUL) for
 * a=zrtp-hash into hash_out. Starts ZRTP once the peer's address is known.
 * 0 or -errno.
 */
int shim_media_describe(const struct shim_media_desc *d, char hash_out[65]);

/* A DTMF key the client sent in a SIP INFO of this call (sipglue): to
 * the keypad of the call's first audio stream. */
void shim_media_keypad_key(const char *call_id, size_t len, char key);

/* BYE, CANCEL or a final error: the call's streams end (keys wiped). */
void shim_media_call_ended(const char *call_id, size_t len);

/* After fork, in the child (idempotent; media also registers it with
 * pthread_atfork): every stream forgets its SRTP keys and replay state and
 * drops its media from then on, the locks are re-initialised, and the
 * child gives up the parent's cache lock (so it takes its own ZID). */
void shim_media_atfork_child(void);

/* Counters and state of one stream, for status and tests. */
struct shim_media_stats {
	char name[128];                /* "call-id/m-index" */
	const char *phase;             /* "waiting", "negotiating", "secure",
					* "clear", "failed", "ended" */
	int zrtp_state;                /* enum zrtp_state, -1 if no engine */
	char sas[32];
	uint64_t tx_srtp, tx_held, tx_clear, tx_dropped, tx_err;
	uint64_t rx_srtp, rx_zrtp, rx_zrtp_bad, rx_auth_fail, rx_replay,
		 rx_early, rx_clear, rx_not_reading, rx_err;
	uint64_t rx_zrtp_peeked;       /* ZRTP copied from behind the head of
					* an fd the client does not read */
	bool altered;                  /* in an "altered" episode now */
	uint64_t altered_episodes;     /* how many began */
};

/* The i-th live stream (0 <= i): 0, or -ENOENT past the last. A scan to
 * the i-th: for tests; a refresh of all uses shim_media_stats_all. */
int shim_media_stats_get(size_t i, struct shim_media_stats *out);

/* Every live stream's counters, in one pass: fills out[0..min(n, cap))
 * and returns n, the number of live streams (n > cap: grow, ask again);
 * 0 also when memory is short. shim_media_stats_call: the streams of the
 * call with that Call-ID only (found without a scan). No lock held. */
size_t shim_media_stats_all(struct shim_media_stats *out, size_t cap);
size_t shim_media_stats_call(const char *call_id, size_t len,
			     struct shim_media_stats *out, size_t cap);

/* Tests only: the ceiling of the call table (0: the built-in one). */
void shim_media_test_set_max_calls(size_t max);

/* Reader duty: how long data may wait on an fd the client does not read
 * before the shim reads it (300 ms; tests may change it before any call). */
extern uint32_t shim_media_reader_delay_ms;

/* The timer thread's work (media_reader.c): tick every engine due at now
 * (ms, CLOCK_MONOTONIC), do the reader duty for media fds the client does
 * not read, see whether a secure stream's media has been altered
 * (media_path.c), and return when to run again (ms, or UINT64_MAX). */
uint64_t shim_media_timer_run(uint64_t now);

#endif
