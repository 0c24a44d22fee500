/*
 * A libbzrtp endpoint for the interop test and the handshake benchmark,
 * and the in-memory network both run on.
 *
 * bzrtp's header and ours cannot meet in one translation unit: both define
 * ZRTP_HASH_S256, ZRTP_SAS_B32 and friends, with different values (bzrtp
 * numbers its algorithms 0x11.., we use the 4-character wire names). So
 * only bzrtp_peer.c includes <bzrtp/bzrtp.h>, and everything here speaks
 * wire names as big-endian words (ZRTP_NAME of zrtp/packet.h) and plain C.
 *
 * The bzrtp endpoint runs cacheless (bzrtp_setZIDCache is never called: a
 * random ZID, no retained secrets), is driven by bzrtp_iterate with the
 * simulated time passed in, and captures what bzrtp hands its client in
 * srtpSecretsAvailable/startSrtpSession: the SAS, the SRTP keys and salts,
 * the algorithms.
 *
 * The network: each party owns an outgoing FIFO; interop_exchange moves
 * packets from one party's FIFO into the other's input with zero latency,
 * through an optional filter (to drop chosen packets), on a simulated
 * clock, until both parties are finished. Set INTEROP_TRACE=1 in the
 * environment for a line per packet, 2 for a hex dump as well.
 */
#ifndef ZS_TESTS_INTEROP_BZRTP_PEER_H
#define ZS_TESTS_INTEROP_BZRTP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- the in-memory network ------------------------------------------------ */

#define PKT_QUEUE_CAP 64
#define PKT_QUEUE_MTU 1500

struct pkt_queue {
	size_t head, count;
	unsigned overflow;              /* packets refused because full */
	size_t len[PKT_QUEUE_CAP];
	uint8_t buf[PKT_QUEUE_CAP][PKT_QUEUE_MTU];
};

void pkt_queue_init(struct pkt_queue *q);
/* 0, or -ENOSPC (queue full) / -EMSGSIZE (longer than the MTU). */
int pkt_queue_push(struct pkt_queue *q, const uint8_t *pkt, size_t len);
/* Moves the oldest packet to out: its length, or 0 if the queue is empty. */
size_t pkt_queue_pop(struct pkt_queue *q, uint8_t out[PKT_QUEUE_MTU]);

/* The ZRTP message type of a packet ("Hello   ", "Commit  "...), or "?". */
const char *pkt_msg_type(const uint8_t *pkt, size_t len, char buf[9]);

/* Message types counted per direction by interop_exchange. */
enum pkt_kind {
	PKT_HELLO, PKT_HELLOACK, PKT_COMMIT, PKT_DHPART1, PKT_DHPART2,
	PKT_CONFIRM1, PKT_CONFIRM2, PKT_CONF2ACK, PKT_ERROR, PKT_OTHER,
	PKT_KIND_COUNT
};
enum pkt_kind pkt_kind_of(const uint8_t *pkt, size_t len);

/* One side of an exchange, whatever engine is behind it. */
struct interop_party {
	const char *name;
	void *arg;
	struct pkt_queue *out;          /* the party's sends land here */
	/* Feed one packet; the engine's own return code (logged in traces). */
	int (*input)(void *arg, const uint8_t *pkt, size_t len, uint64_t now);
	/* Run the party's timers at now. */
	void (*tick)(void *arg, uint64_t now);
	/* Secure (or failed for good): nothing more is expected from it. */
	bool (*finished)(void *arg);
};

/* Return false to drop a packet sent by party from (0 = a, 1 = b). */
typedef bool (*interop_filter_fn)(void *arg, int from, const uint8_t *pkt,
				  size_t len);

struct interop_run {
	/* in */
	uint64_t now;                   /* simulated ms; advanced by the run */
	uint64_t step_ms;               /* clock step between rounds (10) */
	uint64_t limit_ms;              /* give up after this long (30000) */
	uint64_t settle_ms;             /* keep running after both finish */
	interop_filter_fn filter;
	void *filter_arg;
	/* out */
	uint64_t finished_at;           /* when both were finished */
	unsigned sent[2][PKT_KIND_COUNT];       /* by sender, all packets */
	unsigned dropped[2][PKT_KIND_COUNT];    /* by sender, filtered out */
	unsigned refused[2];            /* input returned non-zero, by receiver */
};

void interop_run_init(struct interop_run *run);
/*
 * Start nothing (the caller starts both parties first, at run->now), then
 * alternate: tick both, deliver until both FIFOs are empty, step the
 * clock. Returns 0 when both finished within the limit, -ETIMEDOUT
 * otherwise. settle_ms more of the same runs after both finished, so late
 * retransmissions reach a party that already called itself done.
 */
int interop_exchange(struct interop_run *run, struct interop_party *a,
		     struct interop_party *b);

/* --- the bzrtp endpoint --------------------------------------------------- */

/*
 * Preference lists as wire names, most preferred first; a count of 0 keeps
 * bzrtp's default list for that kind. bzrtp itself appends the mandatory
 * algorithms it finds missing (S256, AES1, HS32 and HS80, DH3k and Mult,
 * B32), so its Hello always offers those too.
 */
struct bzrtp_cache;

struct bzrtp_peer_config {
	uint32_t hash[7], cipher[7], auth[7], ka[7], sas[7];
	uint8_t n_hash, n_cipher, n_auth, n_ka, n_sas;
	/* NULL: cacheless (random ZID, no retained secrets). Otherwise the
	 * ZID and retained secrets live in cache under self_uri/peer_uri. */
	struct bzrtp_cache *cache;
	const char *self_uri, *peer_uri;
};

/*
 * bzrtp's ZID cache: an in-memory sqlite3 database, so that retained
 * secrets and the SAS-verified flag carry from one call to the next.
 * sqlite3 is reached through libbzrtp's own dependency (dlsym), so the
 * test links nothing more. NULL if that fails.
 */
struct bzrtp_cache *bzrtp_cache_new(void);
void bzrtp_cache_free(struct bzrtp_cache *c);

/* What bzrtp told its client, in our terms. */
struct bzrtp_peer_result {
	bool secure;                    /* startSrtpSession was called */
	unsigned start_calls;           /* how often (1 expected) */
	unsigned secrets_parts;         /* OR of 1 (sender), 2 (receiver) seen */
	int32_t verified;               /* startSrtpSession's "verified" */
	char sas[64];
	uint32_t hash, cipher, auth, ka, sas_algo;  /* wire names, 0 unknown */
	size_t key_len, salt_len;
	uint8_t self_key[32], self_salt[14];        /* bzrtp encrypts with */
	uint8_t peer_key[32], peer_salt[14];        /* bzrtp decrypts with */
	unsigned errors;                /* statusMessage calls at ERROR level */
	unsigned cache_mismatch;        /* BZRTP_MESSAGE_CACHEMISMATCH seen */
	bool secrets_cache_mismatch;    /* bzrtpSrtpSecrets_t.cacheMismatch */
};

struct bzrtp_peer;

/* A started-later bzrtp endpoint sending into out; NULL on failure. */
struct bzrtp_peer *bzrtp_peer_new(const struct bzrtp_peer_config *cfg,
				  uint32_t ssrc, struct pkt_queue *out);
/*
 * A second stream of the same bzrtp session (bzrtp_addChannel): it runs
 * Multistream mode once the first is secure and the peer's Hello offered
 * Mult; otherwise its start fails (BZRTP_ERROR_CONTEXTNOTREADY 0x2,
 * BZRTP_ERROR_MULTICHANNELNOTSUPPORTEDBYPEER 0x8). Free every handle, in
 * any order: the bzrtp context goes with the last one.
 */
struct bzrtp_peer *bzrtp_peer_add_stream(struct bzrtp_peer *first,
					 uint32_t ssrc, struct pkt_queue *out);
void bzrtp_peer_free(struct bzrtp_peer *p);

/* bzrtp_startChannelEngine (0 or bzrtp's code): the first Hello goes out
 * at the next tick. */
int bzrtp_peer_start(struct bzrtp_peer *p);
/* bzrtp_iterate at now (ms). */
int bzrtp_peer_tick(struct bzrtp_peer *p, uint64_t now);
/* bzrtp_processMessage; 0 or bzrtp's error code (e.g. 0xa100 bad MAC). */
int bzrtp_peer_input(struct bzrtp_peer *p, const uint8_t *pkt, size_t len);

/* BZRTP_CHANNEL_SECURE says so and startSrtpSession was called. */
bool bzrtp_peer_secure(const struct bzrtp_peer *p);
const struct bzrtp_peer_result *bzrtp_peer_result(const struct bzrtp_peer *p);

/* The user confirmed (or revoked) the SAS: bzrtp_SASVerified or
 * bzrtp_resetSASVerified, written to the cache. */
void bzrtp_peer_set_verified(struct bzrtp_peer *p, bool verified);

/* The a=zrtp-hash of bzrtp's Hello: 64 lowercase hex digits. 0 or -EIO. */
int bzrtp_peer_hello_hash(struct bzrtp_peer *p, char out[65]);
/* Give bzrtp the peer's a=zrtp-hash (64 hex digits). 0 or bzrtp's code. */
int bzrtp_peer_set_peer_hello_hash(struct bzrtp_peer *p, const char *hex);

/* An interop_party driving this endpoint. */
void bzrtp_peer_party(struct bzrtp_peer *p, const char *name,
		      struct interop_party *out);

/* Does this libbzrtp implement the algorithm? kind: "hash", "cipher",
 * "auth", "ka" or "sas". */
bool bzrtp_peer_supports(const char *kind, uint32_t name);

/* A bzrtp error code as its name in bzrtp's sources, or "?". */
const char *bzrtp_peer_err_str(int code);

#endif
