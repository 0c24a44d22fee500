/*
 * The ZRTP engine (RFC 6189): one zrtp_session per call between two
 * endpoints, one zrtp_stream per media stream of that call. The first
 * stream runs DH mode; later streams of the same session use Multistream
 * mode once the first is secure.
 *
 * The engine does no I/O. Packets come in through zrtp_stream_input with
 * the current time; packets go out, events are raised, randomness and the
 * retained-secret cache are reached through the callbacks given to
 * zrtp_session_new. Retransmissions happen in zrtp_stream_tick, which the
 * caller runs at zrtp_stream_deadline. Time is in milliseconds on any
 * monotonic clock. Callbacks must not call back into the engine.
 */
#ifndef ZRTP_ZRTP_H
#define ZRTP_ZRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zrtp/crypto.h"
#include "zrtp/packet.h"

#define ZRTP_NO_DEADLINE UINT64_MAX

/* Why a stream failed or a packet was refused (returned negated). */
enum zrtp_fail {
	ZRTP_FAIL_NONE = 0,
	ZRTP_FAIL_MALFORMED = 100,   /* did not parse; see zrtp_parse_err */
	ZRTP_FAIL_UNEXPECTED,        /* valid message, wrong state: ignored */
	ZRTP_FAIL_TIMEOUT,           /* retransmission budget exhausted */
	ZRTP_FAIL_NO_PEER,           /* Hello retries exhausted: no ZRTP peer */
	ZRTP_FAIL_VERSION,           /* no common protocol version */
	ZRTP_FAIL_NO_ALGO,           /* no common algorithm (§4.1.2) */
	ZRTP_FAIL_ALGO_NOT_OFFERED,  /* Commit chose something we never offered */
	ZRTP_FAIL_SAME_ZID,          /* peer presents our own ZID */
	ZRTP_FAIL_ZID_MISMATCH,      /* ZID in Commit differs from Hello */
	ZRTP_FAIL_HASH_CHAIN,        /* H0..H3 preimage does not hash up */
	ZRTP_FAIL_HELLO_MAC,
	ZRTP_FAIL_COMMIT_MAC,
	ZRTP_FAIL_DHPART_MAC,
	ZRTP_FAIL_CONFIRM_MAC,
	ZRTP_FAIL_HVI,               /* hvi != hash(DHPart2 || Hello) */
	ZRTP_FAIL_BAD_PV,            /* DH public value rejected */
	ZRTP_FAIL_HELLO_HASH,        /* Hello does not match a=zrtp-hash */
	ZRTP_FAIL_PEER_ERROR,        /* peer sent an Error message */
	ZRTP_FAIL_NO_SESSION_KEY,    /* Multistream before DH completed */
	ZRTP_FAIL_INTERNAL,          /* a primitive or the RNG failed */
};

enum zrtp_state {
	ZRTP_ST_IDLE,                /* created, not started */
	ZRTP_ST_DISCOVERY,           /* sending Hello / waiting for peer Hello */
	ZRTP_ST_COMMIT_SENT,         /* initiator, waiting for DHPart1/Confirm1 */
	ZRTP_ST_WAIT_DHPART2,        /* responder, DHPart1 sent */
	ZRTP_ST_WAIT_CONFIRM1,       /* initiator, DHPart2 sent */
	ZRTP_ST_WAIT_CONFIRM2,       /* responder, Confirm1 sent */
	ZRTP_ST_WAIT_CONF2ACK,       /* initiator, Confirm2 sent */
	ZRTP_ST_SECURE,
	ZRTP_ST_FAILED,
};

enum zrtp_role { ZRTP_ROLE_NONE, ZRTP_ROLE_INITIATOR, ZRTP_ROLE_RESPONDER };

/*
 * What a put asks of the cache. Several handshakes with one peer may run
 * at once (separate calls between the same two ZIDs): each read the cache
 * when it began, and they finish in different orders on the two sides. So
 * the engine does not hand over a whole new entry computed from what it
 * read; it says what happened, and the cache applies it to what it holds
 * now, under its own lock (zrtp_cache_put_retained, zrtp/cache.c).
 */
enum zrtp_retained_put {
	ZRTP_PUT_STORE,    /* store rs1, rs2 and verified as given */
	ZRTP_PUT_NEW,      /* rs1 is a new retained secret of generation
			    * rs1_gen (the secret it matched + 1, or 0); rs2
			    * and verified are what §4.6.1 gives from the
			    * entry read at the start, for a cache that just
			    * stores (ZRTP_PUT_STORE's meaning) */
	ZRTP_PUT_REPLACE,  /* rs1 replaces the stored rs1, which becomes rs2
			    * (the user confirmed the SAS after a mismatch) */
	ZRTP_PUT_FLAGS,    /* only verified changes (secrets, expiry stay) */
};

/* The secrets the cache keeps for one peer, as the engine sees them. */
struct zrtp_retained {
	uint8_t rs1[32], rs2[32];
	bool has_rs1, has_rs2;
	bool verified;
	uint32_t ttl;    /* put only: seconds to keep rs1 (0xffffffff: forever;
			  * 0: keep the stored expiry) */
	/* The secrets' generations: a secret derived with the help of one of
	 * generation g is of generation g + 1, one without any is of 0, so
	 * both peers agree on it; the cache keeps the newest generation as
	 * rs1 whatever the order its puts come in. */
	uint32_t rs1_gen, rs2_gen;
	enum zrtp_retained_put put;   /* put only */
};

/* How many secrets cache_recent hands back at most. */
#define ZRTP_RECENT_MAX 10

/* SRTP master keys and salts for one stream once it is secure. */
struct zrtp_srtp_keys {
	uint32_t cipher, auth;       /* AES1/AES3, HS32/HS80 */
	size_t key_len;              /* 16 or 32 */
	uint8_t local_key[ZRTP_MAX_KEY_LEN], local_salt[ZRTP_SALT_LEN];
	uint8_t remote_key[ZRTP_MAX_KEY_LEN], remote_salt[ZRTP_SALT_LEN];
};

enum zrtp_event_type {
	ZRTP_EV_SECURE,            /* keys, sas, verified, algos */
	ZRTP_EV_FAILED,            /* reason (and error_code if the peer's) */
	ZRTP_EV_CACHE_MISMATCH,    /* retained secrets did not match */
	ZRTP_EV_HELLO_HASH_MISMATCH,
	ZRTP_EV_GOCLEAR_REFUSED,   /* peer asked to go clear: refused */
	ZRTP_EV_SASRELAY_IGNORED,  /* peer relayed a SAS: not trusted */
	ZRTP_EV_PEER_HELLO,        /* first valid Hello from the peer */
	ZRTP_EV_RECV_KEYS,         /* initiator, Confirm2 sent: keys (remote
				    * half only) to authenticate the peer's
				    * first SRTP, an implicit Conf2ACK */
};

struct zrtp_event {
	enum zrtp_event_type type;
	enum zrtp_fail reason;
	uint32_t error_code;            /* Error message code, sent or received */
	enum zrtp_role role;
	struct zrtp_algos algos;
	const struct zrtp_srtp_keys *keys;  /* SECURE only; wiped after */
	const char *sas;                /* SECURE only (DH streams; Mult copies) */
	bool verified;                  /* SECURE: SAS verified in an earlier call */
	bool rs1_match;                 /* SECURE: continuity from the cache */
	const uint8_t *peer_zid;        /* 12 bytes, once known */
};

struct zrtp_callbacks {
	/* Session-level: sess_arg. Fill buf with len random bytes: 0 or <0. */
	int (*random)(void *sess_arg, uint8_t *buf, size_t len);
	/* 0 and *out filled, or -ENOENT. May be NULL: no cache. */
	int (*cache_get)(void *sess_arg, const uint8_t zid[12],
			 struct zrtp_retained *out);
	int (*cache_put)(void *sess_arg, const uint8_t zid[12],
			 const struct zrtp_retained *in);
	/*
	 * May be NULL. After a handshake found no secret it shares with the
	 * peer although it read some from the cache: the peer's secrets the
	 * cache holds now or let go of in the last moments (another handshake
	 * with this peer, concurrent with this one, may have replaced the
	 * ones this one read), at most ZRTP_RECENT_MAX into out; returns how
	 * many. *young: the first secret with this peer is that recent (the
	 * peer may not have stored it yet). The engine then reports no cache
	 * mismatch when the peer named one of these (or held none and *young)
	 * and reports one otherwise; the call has no continuity either way.
	 */
	size_t (*cache_recent)(void *sess_arg, const uint8_t zid[12],
			       uint8_t out[ZRTP_RECENT_MAX][32], bool *young);
	/* Stream-level: stream_arg. Send one packet: 0 or <0 (counted). */
	int (*send)(void *stream_arg, const uint8_t *pkt, size_t len);
	void (*event)(void *stream_arg, const struct zrtp_event *ev);
};

struct zrtp_config {
	uint8_t zid[12];
	uint8_t client_id[16];          /* padded with spaces */
	struct zrtp_algo_prefs prefs;
	uint32_t cache_ttl;             /* what we announce in Confirm */
	bool passive;                   /* never send Commit (§4.1) */
	bool multistream;               /* offer Mult in every Hello (default) */
};

struct zrtp_session;
struct zrtp_stream;

void zrtp_config_default(struct zrtp_config *cfg, const uint8_t zid[12]);

struct zrtp_session *zrtp_session_new(const struct zrtp_config *cfg,
				      const struct zrtp_callbacks *cb,
				      void *sess_arg);
/* Frees the session and wipes ZRTPSess; its streams must be freed first. */
void zrtp_session_free(struct zrtp_session *s);

/* A new stream; ssrc goes into every ZRTP packet header it sends. */
struct zrtp_stream *zrtp_stream_new(struct zrtp_session *s, uint32_t ssrc,
				    void *stream_arg);
void zrtp_stream_free(struct zrtp_stream *st);

/* Start discovery: send the first Hello. */
int zrtp_stream_start(struct zrtp_stream *st, uint64_t now);

/*
 * Feed one received ZRTP packet. Returns 0 when it was accepted (or was a
 * duplicate answered from the stored response), else -enum zrtp_fail:
 * MALFORMED and UNEXPECTED leave the stream as it was; every other reason
 * has moved the stream to FAILED and raised ZRTP_EV_FAILED.
 * *parse_err, when given, receives the zrtp_parse_err of MALFORMED.
 */
int zrtp_stream_input(struct zrtp_stream *st, const uint8_t *pkt, size_t len,
		      uint64_t now, int *parse_err);

/*
 * The caller authenticated an SRTP packet from the peer with the remote
 * keys of ZRTP_EV_RECV_KEYS. For an initiator waiting for Conf2ACK this is
 * the implicit acknowledgement the RFC allows (§4.6, as bzrtp does): the
 * stream becomes SECURE. Otherwise it changes nothing. 0 or -EINVAL.
 */
int zrtp_stream_srtp_received(struct zrtp_stream *st, uint64_t now);

/* Run timers due at now (retransmissions, timeouts). */
void zrtp_stream_tick(struct zrtp_stream *st, uint64_t now);
/* When zrtp_stream_tick next needs to run, or ZRTP_NO_DEADLINE. */
uint64_t zrtp_stream_deadline(const struct zrtp_stream *st);

enum zrtp_state zrtp_stream_state(const struct zrtp_stream *st);
enum zrtp_role zrtp_stream_role(const struct zrtp_stream *st);
/* Why it failed (ZRTP_FAIL_NONE unless FAILED). */
enum zrtp_fail zrtp_stream_failure(const struct zrtp_stream *st);

/* SHA-256 of our Hello message in lowercase hex (a=zrtp-hash, §8.1). */
int zrtp_stream_hello_hash(const struct zrtp_stream *st, char out[65]);
/*
 * The peer's a=zrtp-hash from signalling (64 hex digits, the version
 * prefix stripped). Checked against the peer's Hello whether it arrived
 * already or arrives later; a mismatch fails the stream. 0 or -EINVAL.
 */
int zrtp_stream_set_peer_hello_hash(struct zrtp_stream *st, const char *hex,
				    size_t len);

/*
 * The user confirmed (or revoked) the SAS. Writes the verified flag to
 * the cache, and after a cache mismatch, the new retained secret too.
 */
int zrtp_stream_set_verified(struct zrtp_stream *st, bool verified);

/* The SAS of a secure stream ("" before). */
const char *zrtp_stream_sas(const struct zrtp_stream *st);

const char *zrtp_fail_str(enum zrtp_fail f);
const char *zrtp_state_str(enum zrtp_state s);

#endif
