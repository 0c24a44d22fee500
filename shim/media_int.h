/*
 * What the media files (media.c, media_engine.c, media_path.c,
 * media_reader.c) share and nothing else sees: the stream and call
 * objects, the table, and the functions one file gives the others. The
 * locking rules are at the top of media.c.
 */
#ifndef SHIM_MEDIA_INT_H
#define SHIM_MEDIA_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <srtp2/srtp.h>

#include "shim/clips.h"
#include "shim/keypad.h"
#include "shim/media.h"

/* The call table grows by doubling up to this ceiling (memory against a
 * flood of new Call-IDs); a full table refuses a new call, never evicts a
 * live one. Tests may lower it (shim_media_test_set_max_calls). */
#ifndef MEDIA_MAX_CALLS
#define MEDIA_MAX_CALLS 16384
#endif
#define MEDIA_MAX_LINES 8          /* m= lines per call we protect */
#define PEEKED_MAX 16              /* ZRTP copies taken from behind the head */
#define LOG_INTERVAL_MS 5000       /* rate limit of per-packet complaints */
/* srtp_protect_rtcp may add SRTP_MAX_TRAILER_LEN + 4 (E bit and index). */
#define PROTECT_MAX (SHIM_PKT_MAX - SRTP_MAX_TRAILER_LEN - 4)

enum media_phase {
	PH_WAITING,      /* no peer address yet: engine not started */
	PH_NEGOTIATING,
	PH_SECURE,
	PH_CLEAR,
	PH_FAILED,
	PH_ENDED,
	PH_SHARED,       /* rides on another call's stream (media.c) */
};

extern const char *const media_phase_names[];

/* The last packet peeked on one fd (MSG_PEEK): see shim_media_incoming.
 * Made on a stream's first peek on that fd (most clients never peek), kept
 * until the stream ends: 4 KiB that a stream which is never peeked at
 * does not carry. */
struct peek_slot {
	bool valid;
	int fd;
	enum shim_verdict verdict;
	size_t ct_len, pt_len;
	uint8_t ct[SHIM_PKT_MAX];
	uint8_t pt[SHIM_PKT_MAX];
};

struct shim_call;

/* A spoken prompt being played into a stream (prompt.c); call->mu, but
 * for `requested`, which the event listener sets without the lock. */
struct prompt_player {
	_Atomic int requested;           /* kind + 1 asked for, 0 none */
	_Atomic uint64_t requested_ms;
	bool active;
	enum prompt_kind kind;
	uint64_t started_ms;
	unsigned n_seq, seq_i, part;     /* where in seq[seq_i].part[part] */
	size_t off;
	struct clip_seq seq[2];          /* the phrase, then the code */
	struct shim_codec_state cs;
	int16_t *pcm;                    /* SHIM_CODEC_PCM_MAX samples * 2,
					  * while a prompt plays */
	bool codec_logged;
};

struct shim_media {
	int refs;                        /* media_mu */
	struct shim_call *call;          /* holds a reference to it */
	pthread_mutex_t *mu;             /* &call->mu */
	unsigned m_index;
	char name[128];
	bool adopted;

	/* Which fds carry it (-1: none). Written under media_mu. */
	_Atomic int rtp_fd, rtcp_fd;
	/* The RTP socket's inode: ZRTP is sent on the fd only while it is
	 * still that socket (a closed fd's number may already be reused
	 * while a blocked reader keeps the old entry, and its detach, alive). */
	_Atomic unsigned long rtp_ino;
	bool had_fd;                     /* media_mu */
	uint16_t local_rtp_port, local_rtcp_port;   /* media_mu */
	bool local_mux;
	/* Adopted streams (media_mu): where the client sent its first RTP
	 * and its first RTCP, to pair a socket with the other half of its
	 * stream (shim_media_adopt_rtcp). */
	struct sockaddr_storage adopt_rtp_to, adopt_rtcp_to;
	/* Calls sharing one socket (media.c, "One socket, several calls"),
	 * all media_mu: the live stream of another call whose socket this
	 * line's port is (a reference), how many lines ride on this one, and
	 * whether this one's own call ended while some still did. */
	struct shim_media *rides;
	int n_riders;
	bool owner_gone, share_logged;
	/* Adopted from its RTCP; no RTP seen yet (written under media_mu):
	 * held, and the engine waits, until RTP names the stream's RTP
	 * socket (ZRTP belongs on the RTP port, RFC 6189 §5). */
	_Atomic bool rtcp_only;

	/* Everything below: call->mu. */
	struct sockaddr_storage peer_rtp, peer_rtcp;
	bool have_peer, peer_mux;
	bool peer_signals_zrtp, peer_spoke_zrtp, hash_set;
	struct zrtp_stream *zs;
	bool started;
	enum media_phase phase;
	bool fail_logged, clear_logged, client_zrtp_logged;
	srtp_t tx, rx;
	/* A call ended (BYE, CANCEL): rx stays until rx_until (ms) so that
	 * the peer's SRTP sent before the end and still queued on the fd is
	 * delivered, then the drain list (media.c) wipes it. */
	_Atomic uint64_t rx_until;
	struct shim_media *drain_next;   /* media_mu: on the drain list */
	char sas[32];
	uint64_t last_log_auth, last_log_early;
	uint64_t pending_since[2];       /* reader duty, per fd role */
	/* ZRTP packets the reader gave the engine while they stayed in the
	 * RTP fd's queue (media_reader.c), oldest first */
	uint32_t peeked[PEEKED_MAX];
	unsigned n_peeked;
	/* Altered media (media_path.c), per kind ([0] RTP, [1] RTCP), from
	 * SECURE on: since when packets from the peer fail authentication
	 * with none of that kind authenticating (0: not failing), and when
	 * the last one failed. */
	uint64_t fail_since[2], fail_last[2];
	uint64_t altered_fail_base;      /* rx_auth_fail + rx_err then */
	uint64_t altered_at;             /* when the episode began */
	/* The line's codecs (shim_media_describe), for prompts and the
	 * keypad: is it m=audio, and our and the peer's payload types. */
	bool audio;
	struct shim_codec_map codecs_local, codecs_peer;
	struct prompt_player prompt;     /* prompt.c */
	struct keypad_state kp;          /* keypad.c: the client's keys */
	struct shim_media_stats st;      /* counters only; name/phase on read */
	/* The protected packet of a send lives in the sending thread's buffer
	 * (media_path.c), not here: one per thread, not one per stream. */
	struct peek_slot *peek[2];       /* [0] RTP fd, [1] RTCP fd, or NULL */
};

struct shim_call {
	int refs;                        /* media_mu */
	pthread_mutex_t mu;
	char id[256];
	size_t id_len;
	struct zrtp_session *sess;       /* mu */
	struct shim_media *lines[MEDIA_MAX_LINES];  /* media_mu */
	bool in_table;                   /* media_mu */
	/* Who the peer is (sipglue, shim_media_describe), mu: its SIP
	 * identity and display name, "" until known; whether that identity
	 * is pinned to a ZID in the cache (then this call never goes clear,
	 * whatever the policy), and whether its pin alarm was raised (once
	 * per call). */
	char peer_id[128];
	char peer_name[64];
	bool pinned;
	uint8_t pin_zid[12];
	bool pin_alarmed;
};

/* media.c: the table and the references. */
extern pthread_mutex_t media_mu;
/* media_calls_cap slots, NULL where free; both under media_mu. */
extern struct shim_call **media_calls;
extern size_t media_calls_cap;
/* The stream on f with a reference taken, or NULL. */
struct shim_media *media_get(struct shim_fd *f);
void media_stream_put(struct shim_media *s);
/* The live stream named "call-id/m-index", with a reference, or NULL.
 * Takes media_mu only: may be called with a stream lock held. */
struct shim_media *media_find_name(const char *name);
/* call->mu held: learn the peer from an address (RTP), RTCP at +1 unless
 * muxed. */
void media_stream_learn_peer(struct shim_media *s, const struct sockaddr *sa,
			     socklen_t len, bool mux);
/* An RTP-shaped send on f, a stream adopted from its RTCP: f carries both
 * (rtcp-mux, RFC 5761) and is the stream's RTP socket from now on. */
void media_adopted_mux_found(struct shim_media *s, struct shim_fd *f);

/* media_engine.c: libsrtp2/libsodium set-up, the engine and its
 * callbacks. */
void media_init(void);
/* call->mu held: make sure the engine stream exists (for our Hello hash):
 * 0, -ESHUTDOWN (ended), -ENOTSUP (no SRTP), -ENOMEM. */
int media_stream_engine_locked(struct shim_media *s);
/* call->mu held: start discovery once the peer's address is known; true
 * if it started now (the caller kicks the timer). */
bool media_stream_start_locked(struct shim_media *s, uint64_t now);
/* call->mu held: the peer's identity from the SDP's call (d) is known: if
 * it is pinned, the call may not go clear, and a peer SDP without
 * a=zrtp-hash raises the pin alarm. */
void media_pin_check_locked(struct shim_media *s,
			    const struct shim_media_desc *d);
/* call->mu held: wipe the keys and stop the engine; the phase is ENDED. */
void media_stream_end_locked(struct shim_media *s);
/* call->mu held (or one thread left): wipe and free the peek slots. */
void media_peek_free_locked(struct shim_media *s);
/* The end of its call: as media_stream_end_locked, but a SECURE stream
 * keeps rx for MEDIA_END_RX_MS (true: the caller puts it on the drain
 * list). */
#define MEDIA_END_RX_MS 2000u
bool media_stream_end_drain_locked(struct shim_media *s, uint64_t now);
/* Timer thread: wipe the rx of ended streams whose time is up; returns
 * the next deadline. */
uint64_t media_drain_run(uint64_t now);

/* media_path.c: call->mu held. The verdict for one received packet on fd
 * (unprotected in place). *kick: an engine ran (its deadline may have
 * moved). */
enum shim_verdict media_incoming_locked(struct shim_media *s, struct shim_fd *f,
					int fd, uint8_t *buf, size_t len,
					size_t *new_len,
					const struct sockaddr *from,
					socklen_t fromlen, bool *kick);

/* media_path.c: call->mu held. Raise the "altered" event if it is due;
 * returns when to look again (ms, UINT64_MAX: nothing pending). */
uint64_t media_altered_check_locked(struct shim_media *s, uint64_t now);

/* media_path.c: in a forked child, forget a send in progress. */
void media_path_atfork_child(void);

/* prompt.c: call->mu held. Speak kind into what s delivers to the client
 * from its next RTP packet on (a prompt already playing is replaced);
 * obeys ZRTPSHIM_PROMPTS. */
void media_prompt_request_locked(struct shim_media *s, enum prompt_kind kind);
/* call->mu held. An RTP packet (buf, *len bytes in a shim buffer of
 * SHIM_PKT_MAX) about to be delivered to the client: mix the prompt in,
 * if one plays (peer: the packet carries the peer's audio, to be kept
 * under the prompt; false: a packet that is not delivered otherwise, the
 * prompt alone replaces its payload). True if the packet is to be
 * delivered with the prompt. */
bool media_prompt_mix_locked(struct shim_media *s, uint8_t *buf, size_t *len,
			     bool peer);
/* call->mu held: the stream ends; free what the player holds. */
void media_prompt_end_locked(struct shim_media *s);
/* Load the clips (once; no stream lock held). */
void media_prompt_prepare(void);

/* keypad.c, call->mu held. One RTP packet the client sends, plaintext
 * (never written): its telephone-event or in-band DTMF keys. */
void media_keypad_rtp_locked(struct shim_media *s, const uint8_t *pkt,
			     size_t len, uint64_t now);
/* One key pressed (how: "telephone-event", "in-band tone", "SIP INFO"),
 * matched against the sequences; a match acts on a secure stream. */
void media_keypad_key_locked(struct shim_media *s, char key, const char *how,
			     uint64_t now);
/* The stream ends: free the DTMF receiver. */
void media_keypad_end_locked(struct shim_media *s);
/* Whether the keypad looks for in-band tones in a G.711 stream with
 * these payload types (peer NULL: not known yet), by ZRTPSHIM_INBAND:
 * always, never, or (auto) unless both SDPs have telephone-event, with
 * which the client sends its keys as events (RFC 4733). */
bool media_keypad_inband_wanted(const struct shim_codec_map *local,
				const struct shim_codec_map *peer);

/* media_reader.c: call->mu held. True (and forgotten) if this ZRTP
 * datagram's copy already went to the engine from behind the head of
 * the queue. */
bool media_peeked_consume(struct shim_media *s, const uint8_t *p, size_t len);

#endif
