/*
 * libFuzzer target: arbitrary packets into one ZRTP stream, in each state
 * of its handshake (RFC 6189 §4-§6).
 *
 * Input:
 *   byte 0   scenario (scenarios[], modulo its size): which party gets the
 *            packets and where its stream is driven first
 *   byte 1   algorithms (alg_prefs); both parties offer exactly these,
 *            and Mult
 *   then     records: a 16-bit big-endian word, then that many bytes
 *              bits 0-10   length; 0 stands for "the application
 *                          authenticated SRTP from the peer"
 *                          (zrtp_stream_srtp_received, the implicit
 *                          Conf2ACK of §4.6)
 *              bits 11-14  how far the clock moves first (time_step)
 *              bit 15      re-wrap: header and CRC-32C as the codec writes
 *                          them, so mutated messages get past the CRC
 *
 * Setup: the simulator runs a handshake, fixed seed, no loss, between party
 * 0 (active: the initiator) and party 1 (passive, so the roles are fixed,
 * unless the scenario makes both active) until the fuzzed stream is where
 * the scenario wants it. From then on every packet either party sends is
 * dropped and the queue is emptied: the genuine peer is frozen, and the
 * fuzz packets go straight into zrtp_stream_input. The fuzzed stream is
 * the first (DH mode) or, for the Multistream scenarios, a second stream
 * of the same call, whose first stream is already secure.
 *
 * The reference: the same setup, then released (nothing dropped, a peer not
 * yet started is started) and run to the end, is what a genuine handshake
 * from that point comes to. A fuzz packet can replay the genuine peer's
 * messages but cannot forge a MAC, a hash preimage or a DH result, so the
 * stream may become SECURE only with exactly the reference's keys and SAS,
 * the ones the genuine peer holds. Anything else is a MiTM that worked.
 *
 * Each input rebuilds the handshake from scratch: an engine cannot be
 * copied, and a handshake costs well under a millisecond (DH3k, the
 * slowest, is kept to 1 algorithm byte in 32). The reference is computed
 * once per (scenario, algorithm byte) and kept.
 *
 * The invariants checked after every record trap (__builtin_trap) so that
 * libFuzzer stops on them like on a sanitizer report; see check_*().
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/sim.h"
#include "zrtp/zrtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEED 6189u
#define DRIVE_LIMIT_MS 60000u   /* simulated; the slowest setup needs ~10 s */
#define REF_LIMIT_MS 60000u
#define RTX_MAX_MS 1200u        /* T2's cap (§6): no timer runs further out */
#define REC_LEN_MASK 0x07ffu
#define REC_TIME_SHIFT 11
#define REC_REWRAP 0x8000u
#define TYPE_BIT(t) (1u << (t))

enum until {
	UNTIL_STARTED,   /* right after the streams start */
	UNTIL_STATE,     /* the fuzzed stream is in .state */
	UNTIL_SENT,      /* ... and has sent a .sent message */
	UNTIL_TIME,      /* .ms of simulated time have passed */
	UNTIL_DONE,      /* both streams SECURE */
};

/* A call before this one leaves retained secrets in the caches (§4.9). */
enum warm {
	WARM_NONE,
	WARM_BOTH,          /* both kept rs1: it matches */
	WARM_PEER_FORGOT,   /* the peer lost its cache: a mismatch */
};

struct scenario {
	const char *name;           /* corpus file names (gen_corpus.c) */
	int party;                  /* whose stream gets the fuzz packets */
	int stream;                 /* which one: 1 is a Multistream stream */
	enum zrtp_state state;      /* where it is when they start */
	enum zrtp_state peer_state; /* UNTIL_STATE: and the peer's stream, if
				     * not IDLE */
	enum until until;
	enum zrtp_msg_type sent;
	uint64_t ms;
	uint64_t step;              /* drive granularity, ms (0: 1 ms) */
	uint32_t drop;              /* the peer's messages lost, and those */
	uint32_t corrupt;           /* with a byte flipped (TYPE_BIT masks; on
				     * the fuzzed stream only) */
	bool both_active;
	bool idle;                  /* the fuzzed stream is never started */
	bool peer_late;             /* the peer starts only in the reference */
	bool sdp_hash;              /* the fuzzed stream knows the peer's Hello
				     * hash (a=zrtp-hash, §8.1) */
	enum warm warm;
};

static const struct scenario scenarios[] = {
	/* party 0: the initiator */
	{ .name = "i_idle", .party = 0, .state = ZRTP_ST_IDLE,
	  .until = UNTIL_STARTED, .idle = true },
	{ .name = "i_discovery", .party = 0, .state = ZRTP_ST_DISCOVERY,
	  .until = UNTIL_STARTED, .sdp_hash = true },
	{ .name = "i_discovery_unacked", .party = 0, .state = ZRTP_ST_DISCOVERY,
	  .until = UNTIL_SENT, .sent = ZRTP_MSG_HELLOACK,
	  .drop = TYPE_BIT(ZRTP_MSG_HELLOACK) },
	{ .name = "i_discovery_nohello", .party = 0, .state = ZRTP_ST_DISCOVERY,
	  .until = UNTIL_TIME, .ms = 60, .drop = TYPE_BIT(ZRTP_MSG_HELLO) },
	{ .name = "i_commit_sent", .party = 0, .state = ZRTP_ST_COMMIT_SENT,
	  .until = UNTIL_STATE },
	{ .name = "i_wait_confirm1", .party = 0, .state = ZRTP_ST_WAIT_CONFIRM1,
	  .until = UNTIL_STATE },
	{ .name = "i_wait_conf2ack", .party = 0, .state = ZRTP_ST_WAIT_CONF2ACK,
	  .until = UNTIL_STATE },
	{ .name = "i_secure", .party = 0, .state = ZRTP_ST_SECURE,
	  .until = UNTIL_DONE },
	{ .name = "i_failed_nopeer", .party = 0, .state = ZRTP_ST_FAILED,
	  .until = UNTIL_STATE, .step = 50, .peer_late = true },
	{ .name = "i_failed_timeout", .party = 0, .state = ZRTP_ST_FAILED,
	  .until = UNTIL_STATE, .step = 50,
	  .drop = TYPE_BIT(ZRTP_MSG_CONFIRM1) },
	{ .name = "i_failed_confirm_mac", .party = 0, .state = ZRTP_ST_FAILED,
	  .until = UNTIL_STATE, .corrupt = TYPE_BIT(ZRTP_MSG_CONFIRM1) },
	{ .name = "i_contention", .party = 0, .state = ZRTP_ST_COMMIT_SENT,
	  .until = UNTIL_STATE, .drop = TYPE_BIT(ZRTP_MSG_COMMIT),
	  .both_active = true },
	/* party 1: the responder */
	{ .name = "r_idle", .party = 1, .state = ZRTP_ST_IDLE,
	  .until = UNTIL_STARTED, .idle = true },
	{ .name = "r_discovery", .party = 1, .state = ZRTP_ST_DISCOVERY,
	  .until = UNTIL_STARTED, .sdp_hash = true },
	{ .name = "r_discovery_acked", .party = 1, .state = ZRTP_ST_DISCOVERY,
	  .until = UNTIL_TIME, .ms = 60, .drop = TYPE_BIT(ZRTP_MSG_COMMIT) },
	{ .name = "r_wait_dhpart2", .party = 1, .state = ZRTP_ST_WAIT_DHPART2,
	  .until = UNTIL_STATE },
	{ .name = "r_wait_confirm2", .party = 1, .state = ZRTP_ST_WAIT_CONFIRM2,
	  .until = UNTIL_STATE },
	{ .name = "r_secure", .party = 1, .state = ZRTP_ST_SECURE,
	  .until = UNTIL_DONE },
	{ .name = "r_failed_nopeer", .party = 1, .state = ZRTP_ST_FAILED,
	  .until = UNTIL_STATE, .step = 50, .peer_late = true },
	{ .name = "r_failed_hvi", .party = 1, .state = ZRTP_ST_FAILED,
	  .until = UNTIL_STATE, .corrupt = TYPE_BIT(ZRTP_MSG_DHPART2) },
	{ .name = "r_contention", .party = 1, .state = ZRTP_ST_COMMIT_SENT,
	  .until = UNTIL_STATE, .drop = TYPE_BIT(ZRTP_MSG_COMMIT),
	  .both_active = true },
	/* a second stream: Multistream mode once the first is secure */
	{ .name = "i_mult_commit_sent", .party = 0, .stream = 1,
	  .state = ZRTP_ST_COMMIT_SENT, .until = UNTIL_STATE },
	{ .name = "i_mult_wait_conf2ack", .party = 0, .stream = 1,
	  .state = ZRTP_ST_WAIT_CONF2ACK, .until = UNTIL_STATE },
	{ .name = "r_mult_discovery", .party = 1, .stream = 1,
	  .state = ZRTP_ST_DISCOVERY, .until = UNTIL_STATE,
	  .peer_state = ZRTP_ST_COMMIT_SENT, .drop = TYPE_BIT(ZRTP_MSG_COMMIT) },
	{ .name = "r_mult_wait_confirm2", .party = 1, .stream = 1,
	  .state = ZRTP_ST_WAIT_CONFIRM2, .until = UNTIL_STATE },
	/* a second call between the same endpoints */
	{ .name = "i_warm_wait_confirm1", .party = 0,
	  .state = ZRTP_ST_WAIT_CONFIRM1, .until = UNTIL_STATE,
	  .warm = WARM_BOTH },
	{ .name = "r_warm_wait_confirm2", .party = 1,
	  .state = ZRTP_ST_WAIT_CONFIRM2, .until = UNTIL_STATE,
	  .warm = WARM_BOTH },
	{ .name = "r_mismatch_wait_dhpart2", .party = 1,
	  .state = ZRTP_ST_WAIT_DHPART2, .until = UNTIL_STATE,
	  .warm = WARM_PEER_FORGOT },
};
#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* What a genuine handshake from the driven state ends with. */
struct reference {
	bool done;
	bool secure;
	char sas[32];
	struct zrtp_srtp_keys keys;
};

/* The generator (gen_corpus.c) records the peer's packets through this. */
struct capture {
	int n;
	bool released[16];
	size_t len[16];
	uint8_t pkt[16][ZRTP_MAX_PKT_LEN];
};

struct drive {
	const struct scenario *sc;
	uint64_t t0;
	bool frozen;     /* the scenario's state is reached: drop everything */
	bool released;   /* the reference run: no drops, no corruption */
	struct capture *cap;
};

static struct sim the_sim;   /* ~600 KB: static, reset by sim_init */

static void die(const char *what, const struct scenario *sc, unsigned alg)
{
	fprintf(stderr, "fuzz_engine: %s (scenario %s, algorithms 0x%02x)\n",
		what, sc->name, alg);
	abort();
}

/* Algorithm byte: DH3k for 1 value in 32 of the low bits, else EC25,
 * X255 or E255 (GNU ZRTP's name for it); the high bits pick the rest. */
static void alg_prefs(uint8_t alg, struct zrtp_algo_prefs *p)
{
	uint32_t ka;
	if ((alg & 0x1f) == 0x1f)
		ka = ZRTP_KA_DH3K;
	else if (alg & 1)
		ka = ZRTP_KA_EC25;
	else if (alg & 2)
		ka = ZRTP_KA_E255;
	else
		ka = ZRTP_KA_X255;
	sim_prefs_single(p, alg & 0x20 ? ZRTP_HASH_S384 : ZRTP_HASH_S256,
			 alg & 0x40 ? ZRTP_CIPHER_AES3 : ZRTP_CIPHER_AES1,
			 alg & 0x80 ? ZRTP_AUTH_HS80 : ZRTP_AUTH_HS32, ka,
			 alg & 0x80 ? ZRTP_SAS_B256 : ZRTP_SAS_B32, false);
}

static bool reached(const struct drive *d, const struct sim *sim)
{
	const struct scenario *sc = d->sc;
	const struct sim_party *f = &sim->p[sc->party];
	const struct zrtp_stream *peer = sim->p[1 - sc->party].st[sc->stream];
	enum zrtp_state s = zrtp_stream_state(f->st[sc->stream]);

	switch (sc->until) {
	case UNTIL_STARTED:
		return true;
	case UNTIL_STATE:
		return s == sc->state &&
		       (sc->peer_state == ZRTP_ST_IDLE ||
			zrtp_stream_state(peer) == sc->peer_state);
	case UNTIL_SENT:
		return s == sc->state && f->sent[sc->sent] > 0;
	case UNTIL_TIME:
		return sim->now >= d->t0 + sc->ms;
	case UNTIL_DONE:
		return s == ZRTP_ST_SECURE &&
		       zrtp_stream_state(peer) == ZRTP_ST_SECURE;
	}
	return false;
}

/*
 * Every packet either party sends passes here. Freezing on the send that
 * first sees the target state matters: a stream changes state and then
 * sends its answer, and that answer must not reach the peer.
 */
static bool drive_tamper(struct sim *sim, int from, int index, uint8_t *buf,
			 size_t *len, size_t cap, void *arg)
{
	struct drive *d = arg;
	(void)cap;

	if (!d->released) {
		if (!d->frozen && reached(d, sim))
			d->frozen = true;
		if (d->frozen)
			return false;
	}
	if (from == d->sc->party || index != d->sc->stream)
		return true;
	enum zrtp_msg_type t = sim_pkt_type(buf, *len);
	if (d->cap && d->cap->n < 16 && *len <= ZRTP_MAX_PKT_LEN) {
		d->cap->released[d->cap->n] = d->released;
		d->cap->len[d->cap->n] = *len;
		memcpy(d->cap->pkt[d->cap->n], buf, *len);
		d->cap->n++;
	}
	if (d->released)
		return true;
	if (d->sc->drop & TYPE_BIT(t))
		return false;
	if ((d->sc->corrupt & TYPE_BIT(t)) &&
	    *len > ZRTP_PKT_HDR_LEN + ZRTP_MSG_HDR_LEN + ZRTP_CRC_LEN +
			   ZRTP_MAC_LEN) {
		/* Last byte before the MAC: a DH value (hvi fails) or the
		 * Confirm ciphertext (its MAC fails). */
		buf[*len - ZRTP_CRC_LEN - ZRTP_MAC_LEN - 1] ^= 0x01;
		sim_fix_crc(buf, *len);
	}
	return true;
}

/* Set up both parties and run until the scenario's state; 0 or -1. */
static int drive(struct sim *sim, struct drive *d, uint8_t alg)
{
	const struct scenario *sc = d->sc;
	int fz = sc->party, n = sc->stream + 1;

	sim_init(sim, FUZZ_SEED, n);
	for (int i = 0; i < 2; i++)
		alg_prefs(alg, &sim->p[i].cfg.prefs);
	sim->p[1].cfg.passive = !sc->both_active;
	if (sc->warm != WARM_NONE) {
		sim_create(sim);
		if (!sim->p[0].st[0] || !sim->p[1].st[0])
			return -1;
		sim_start(sim);
		sim_run(sim, REF_LIMIT_MS);
		if (!sim_stream_agrees(sim, 0))
			return -1;
		sim_destroy(sim);   /* the caches stay */
		if (sc->warm == WARM_PEER_FORGOT)
			sim->p[1 - fz].cache.n = 0;
	}
	sim_create(sim);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < n; j++)
			if (!sim->p[i].st[j])
				return -1;
	if (sc->sdp_hash) {
		char hex[65];
		if (zrtp_stream_hello_hash(sim->p[1 - fz].st[sc->stream],
					   hex) < 0 ||
		    zrtp_stream_set_peer_hello_hash(sim->p[fz].st[sc->stream],
						    hex, 64) < 0)
			return -1;
	}
	sim->tamper = drive_tamper;
	sim->tamper_arg = d;
	d->t0 = sim->now;
	for (int j = 0; j < n; j++)
		for (int i = 0; i < 2; i++) {
			bool skip = i == fz ? sc->idle && j == sc->stream
					    : sc->peer_late;
			if (!skip &&
			    zrtp_stream_start(sim->p[i].st[j], sim->now) < 0)
				return -1;
		}
	while (!reached(d, sim) && sim->now < d->t0 + DRIVE_LIMIT_MS) {
		/* sim_run does not move the clock past the last event it
		 * handled: step it by hand. */
		uint64_t step = sc->step ? sc->step : 1;
		uint64_t next = sim->now + step;
		sim_run(sim, step);
		if (sim->now < next)
			sim->now = next;
	}
	if (!reached(d, sim))
		return -1;
	d->frozen = true;
	sim->nq = 0;
	return zrtp_stream_state(sim->p[fz].st[sc->stream]) == sc->state ? 0
									  : -1;
}

/* Drive, release, and note how the fuzzed stream's handshake ends. */
static void reference_run(unsigned sci, uint8_t alg, struct reference *ref,
			  struct capture *cap)
{
	const struct scenario *sc = &scenarios[sci];
	struct sim *sim = &the_sim;
	struct drive d = { .sc = sc, .cap = cap };

	if (drive(sim, &d, alg) < 0)
		die("setup did not reach its state", sc, alg);
	d.released = true;
	if (sc->peer_late)
		for (int j = 0; j <= sc->stream; j++)
			(void)zrtp_stream_start(sim->p[1 - sc->party].st[j],
						sim->now);
	sim_run(sim, REF_LIMIT_MS);

	const struct sim_result *r = &sim->p[sc->party].res[sc->stream];
	memset(ref, 0, sizeof *ref);
	ref->done = true;
	ref->secure = r->n_secure == 1 &&
		      zrtp_stream_state(sim->p[sc->party].st[sc->stream]) ==
			      ZRTP_ST_SECURE;
	memcpy(ref->sas, r->sas, sizeof ref->sas);
	ref->keys = r->keys;
	sim_destroy(sim);
}

static const struct reference *reference_get(unsigned sci, uint8_t alg)
{
	static struct reference refs[N_SCENARIOS][256];
	struct reference *ref = &refs[sci][alg];
	if (!ref->done)
		reference_run(sci, alg, ref, NULL);
	return ref;
}

/* 1 ms, then 10 ms doubling up to ~164 s: retransmissions and timeouts. */
static uint64_t time_step(unsigned k)
{
	return k == 0 ? 1 : 10ull << (k - 1);
}

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_engine: violated: %s (line %d)\n", \
				#cond, __LINE__);                              \
			__builtin_trap();                                      \
		}                                                              \
	} while (0)

/* What a record may not change unless the engine says it did. */
struct snapshot {
	enum zrtp_state state;
	enum zrtp_fail fail;
	uint64_t deadline;
	int n_secure, n_failed;
};

static void snap(struct snapshot *s, const struct zrtp_stream *st,
		 const struct sim_result *r)
{
	s->state = zrtp_stream_state(st);
	s->fail = zrtp_stream_failure(st);
	s->deadline = zrtp_stream_deadline(st);
	s->n_secure = r->n_secure;
	s->n_failed = r->n_failed;
}

static bool keys_equal(const struct zrtp_srtp_keys *a,
		       const struct zrtp_srtp_keys *b)
{
	return a->cipher == b->cipher && a->auth == b->auth &&
	       a->key_len == b->key_len && a->key_len <= ZRTP_MAX_KEY_LEN &&
	       memcmp(a->local_key, b->local_key, a->key_len) == 0 &&
	       memcmp(a->remote_key, b->remote_key, a->key_len) == 0 &&
	       memcmp(a->local_salt, b->local_salt, ZRTP_SALT_LEN) == 0 &&
	       memcmp(a->remote_salt, b->remote_salt, ZRTP_SALT_LEN) == 0;
}

/* Holds after every record, whatever it was. */
static void check_stream(const struct zrtp_stream *st,
			 const struct sim_result *r, const struct snapshot *before,
			 const struct reference *ref)
{
	enum zrtp_state s = zrtp_stream_state(st);
	enum zrtp_fail f = zrtp_stream_failure(st);

	CHECK(s >= ZRTP_ST_IDLE && s <= ZRTP_ST_FAILED);
	CHECK((s == ZRTP_ST_FAILED) == (f != ZRTP_FAIL_NONE));
	/* Nothing unauthenticated tears a secure stream down (§5.9), and
	 * nothing takes a stream back to IDLE. */
	if (before->state == ZRTP_ST_SECURE)
		CHECK(s == ZRTP_ST_SECURE);
	if (before->state != ZRTP_ST_IDLE)
		CHECK(s != ZRTP_ST_IDLE);
	/* SECURE once, and only with the keys the genuine peer holds. */
	CHECK(r->n_secure <= 1);
	CHECK((s == ZRTP_ST_SECURE) == (r->n_secure == 1));
	if (r->n_secure > before->n_secure) {
		CHECK(ref->secure);
		CHECK(strcmp(r->sas, ref->sas) == 0);
		CHECK(keys_equal(&r->keys, &ref->keys));
	}
	if (s == ZRTP_ST_SECURE)
		CHECK(strcmp(zrtp_stream_sas(st), ref->sas) == 0);
	/* Every move to FAILED is announced once. */
	if (s == ZRTP_ST_FAILED && before->state != ZRTP_ST_FAILED)
		CHECK(r->n_failed == before->n_failed + 1);
}

/* zrtp_stream_input's contract (zrtp.h). */
static void check_input(const struct zrtp_stream *st, int ret, int perr,
			const struct snapshot *before, const struct sim_result *r)
{
	CHECK(ret == 0 || (ret <= -ZRTP_FAIL_MALFORMED &&
			   ret >= -ZRTP_FAIL_INTERNAL));
	CHECK((ret == -ZRTP_FAIL_MALFORMED) == (perr != 0));
	if (ret == -ZRTP_FAIL_MALFORMED)
		CHECK(perr >= ZRTP_PERR_SHORT && perr <= ZRTP_PERR_TOO_LONG);
	if (ret == -ZRTP_FAIL_MALFORMED || ret == -ZRTP_FAIL_UNEXPECTED) {
		/* "leave the stream as it was" */
		CHECK(zrtp_stream_state(st) == before->state);
		CHECK(zrtp_stream_failure(st) == before->fail);
		CHECK(zrtp_stream_deadline(st) == before->deadline);
		CHECK(r->n_secure == before->n_secure);
		CHECK(r->n_failed == before->n_failed);
	} else if (ret < 0) {
		/* "every other reason has moved the stream to FAILED" */
		CHECK(zrtp_stream_state(st) == ZRTP_ST_FAILED);
		CHECK(zrtp_stream_failure(st) == (enum zrtp_fail)-ret);
		CHECK(r->n_failed == before->n_failed + 1);
		CHECK(r->reason == (enum zrtp_fail)-ret);
	}
}

/* zrtp_stream_srtp_received's contract (zrtp.h). */
static void check_srtp(const struct zrtp_stream *st, int ret,
		       const struct snapshot *before)
{
	enum zrtp_state s = zrtp_stream_state(st);
	if (before->state == ZRTP_ST_WAIT_CONF2ACK) {
		CHECK(ret == 0);
		CHECK(s == ZRTP_ST_SECURE || s == ZRTP_ST_FAILED);
	} else if (before->state == ZRTP_ST_SECURE) {
		CHECK(ret == 0 && s == ZRTP_ST_SECURE);
	} else {
		CHECK(ret == -EINVAL);
		CHECK(s == before->state);
		CHECK(zrtp_stream_deadline(st) == before->deadline);
	}
}

/* After zrtp_stream_tick(now): the next deadline is in the future, within
 * the longest interval, and only a stream in a handshake has one. */
static void check_deadline(const struct zrtp_stream *st, uint64_t now)
{
	uint64_t dl = zrtp_stream_deadline(st);
	enum zrtp_state s = zrtp_stream_state(st);

	if (s == ZRTP_ST_IDLE || s == ZRTP_ST_SECURE || s == ZRTP_ST_FAILED)
		CHECK(dl == ZRTP_NO_DEADLINE);
	if (dl != ZRTP_NO_DEADLINE)
		CHECK(dl > now && dl <= now + RTX_MAX_MS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned sci = data[0] % N_SCENARIOS;
	uint8_t alg = data[1];
	const struct scenario *sc = &scenarios[sci];
	const struct reference *ref = reference_get(sci, alg);
	struct sim *sim = &the_sim;
	struct drive d = { .sc = sc };

	if (drive(sim, &d, alg) < 0)
		die("setup did not reach its state", sc, alg);

	struct zrtp_stream *st = sim->p[sc->party].st[sc->stream];
	const struct sim_result *r = &sim->p[sc->party].res[sc->stream];
	uint64_t now = sim->now;
	size_t off = 2;
	struct snapshot before;

	snap(&before, st, r);
	check_stream(st, r, &before, ref);
	while (off + 2 <= size) {
		unsigned w = (unsigned)data[off] << 8 | data[off + 1];
		size_t len = w & REC_LEN_MASK;
		off += 2;
		if (len > size - off)
			len = size - off;
		now += time_step((w >> REC_TIME_SHIFT) & 0x0f);
		snap(&before, st, r);

		if (len == 0) {
			int ret = zrtp_stream_srtp_received(st, now);
			check_srtp(st, ret, &before);
		} else {
			/* An exact-size copy: ASan sees any read past it. */
			uint8_t *pkt = malloc(len);
			if (!pkt)
				break;
			memcpy(pkt, data + off, len);
			if (w & REC_REWRAP)
				sim_fix_crc(pkt, len);
			int perr = -1;
			int ret = zrtp_stream_input(st, pkt, len, now, &perr);
			free(pkt);
			check_input(st, ret, perr, &before, r);
		}
		check_stream(st, r, &before, ref);

		snap(&before, st, r);
		zrtp_stream_tick(st, now);
		check_stream(st, r, &before, ref);
		check_deadline(st, now);
		off += len;
	}
	sim_destroy(sim);
	return 0;
}
