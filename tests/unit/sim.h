/*
 * A two-party ZRTP simulator for the unit tests: two endpoints, each a
 * zrtp_session with up to SIM_MAX_STREAMS streams, joined by in-memory
 * queues that lose, duplicate and reorder packets, under a simulated clock.
 * Randomness is deterministic per seed, so every run can be replayed.
 */
#ifndef ZS_TESTS_SIM_H
#define ZS_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zrtp/cache.h"
#include "zrtp/zrtp.h"

#define SIM_MAX_STREAMS 4
#define SIM_MAX_QUEUE 512
#define SIM_CACHE_MAX 8

struct sim;

/* What one stream saw: its events, in summary. */
struct sim_result {
	int n_secure, n_failed, n_mismatch, n_hash_mismatch;
	int n_goclear, n_sasrelay;
	enum zrtp_fail reason;
	uint32_t error_code;
	enum zrtp_role role;
	struct zrtp_algos algos;
	char sas[32];
	struct zrtp_srtp_keys keys;
	bool verified, rs1_match;
	bool have_recv_key;                /* RECV_KEYS or SECURE seen */
	uint8_t recv_key[ZRTP_MAX_KEY_LEN];
	int implicit_acks;                 /* SRTP that completed a stream */
};

/* An endpoint's cache: what cache_get/put see; puts are counted. */
struct sim_cache {
	int n;
	uint8_t zid[SIM_CACHE_MAX][12];
	struct zrtp_retained r[SIM_CACHE_MAX];
	int puts;
};

struct sim_stream_ref {
	struct sim *sim;
	int party, index;
};

struct sim_party {
	struct zrtp_config cfg;
	struct zrtp_session *sess;
	struct zrtp_stream *st[SIM_MAX_STREAMS];
	struct sim_stream_ref ref[SIM_MAX_STREAMS];
	struct sim_result res[SIM_MAX_STREAMS];
	struct sim_cache cache;
	bool use_cache;
	struct zrtp_cache *fcache;         /* if set: the real cache table */
	uint64_t wall;                     /* its clock, seconds */
	uint8_t seed[32];
	uint64_t rng_counter;
	int sent[ZRTP_MSG_TYPE_COUNT];     /* messages sent, by type */
	int last_input;                    /* last zrtp_stream_input result */
	int last_parse_err;
	int perr[16];                      /* parse errors seen, by code */
	int n_rejected;                    /* inputs that returned < 0 */
};

struct sim_pkt {
	uint64_t at;
	int to, index;
	bool media;                        /* a modelled SRTP packet */
	size_t len;
	uint8_t buf[ZRTP_MAX_PKT_LEN + 64];
};

/*
 * Called for every packet a party sends, before the network sees it.
 * May rewrite buf/len (up to cap) or return false to drop it.
 */
typedef bool (*sim_tamper_fn)(struct sim *sim, int from, int index,
			      uint8_t *buf, size_t *len, size_t cap, void *arg);

struct sim {
	struct sim_party p[2];
	int n_streams;
	uint64_t now;
	double loss, dup, reorder;
	uint64_t net_state;                /* network PRNG */
	struct sim_pkt q[SIM_MAX_QUEUE];
	int nq;
	int overflow;
	sim_tamper_fn tamper;
	void *tamper_arg;
	/* Model media: a SECURE stream sends an "SRTP" packet every 20 ms
	 * carrying its sending key; a receiver holding the matching key calls
	 * zrtp_stream_srtp_received (the shim's implicit Conf2ACK). */
	bool media;
	uint64_t next_media[2][SIM_MAX_STREAMS];
};

/* Set up two parties with ZIDs derived from seed; default configs. */
void sim_init(struct sim *sim, uint64_t seed, int n_streams);
/* Create sessions and streams (after editing p[i].cfg). */
void sim_create(struct sim *sim);
/* Start every stream of both parties at the current time. */
void sim_start(struct sim *sim);
/* Run until every stream is SECURE or FAILED and the network is quiet,
 * or until the simulated time limit. Returns the time used (ms). */
uint64_t sim_run(struct sim *sim, uint64_t limit_ms);
/* Free sessions and streams; keeps caches and results. */
void sim_destroy(struct sim *sim);

/* Both sides of stream i are secure with one SAS and crossed keys. */
bool sim_stream_agrees(const struct sim *sim, int i);

/* Re-CRC a packet after the tamper hook edited its message. */
void sim_fix_crc(uint8_t *pkt, size_t len);
/* The message type of a ZRTP packet (ZRTP_MSG_NONE if it does not parse
 * structurally; ignores the CRC). */
enum zrtp_msg_type sim_pkt_type(const uint8_t *pkt, size_t len);

/* Prefs with exactly one algorithm of each kind (plus Mult if mult). */
void sim_prefs_single(struct zrtp_algo_prefs *p, uint32_t hash,
		      uint32_t cipher, uint32_t auth, uint32_t ka, uint32_t sas,
		      bool mult);

#endif
