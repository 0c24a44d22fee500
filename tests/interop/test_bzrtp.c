/*
 * Interop with Linphone's libbzrtp, in one process: our engine and a bzrtp
 * context over in-memory queues with a shared simulated clock.
 *
 * Each handshake test asserts what a real call needs: both ends secure,
 * the same SAS, our sending key and salt equal to bzrtp's receiving ones
 * and the reverse, the algorithms we configured on both sides, the roles
 * we forced. Covered, in both roles unless noted: DH3k and X255; HS80,
 * HS32; B32, B256; S384 with AES3; key-agreement first choices that
 * differ; Commit contention (both active); 30% packet loss (DH3k);
 * a=zrtp-hash both ways and a mismatch; retained secrets and the
 * SAS-verified flag over four calls against bzrtp's own cache; a second
 * stream in Multistream mode; our first sequence number on the wire.
 *
 * Forcing the roles (bzrtp has no API for it):
 *  - bzrtp responder: bzrtp sends Commit only after it receives a HelloACK
 *    (bzrtp stateMachine.c, state_discovery_waitingForHello and
 *    state_discovery_waitingForHelloAck). The network drops every HelloACK
 *    we send, so bzrtp can only answer our Commit, which may be sent in
 *    place of a HelloACK (RFC 6189 §5.3). Everything else of ours goes
 *    through.
 *  - bzrtp initiator: we are passive (cfg.passive, the P flag of §5.2:
 *    never send Commit); bzrtp ignores the P flag and commits.
 *
 * INTEROP_TRACE=1 prints every packet and the receiver's return code
 * (bzrtp's codes are named in bzrtp_peer_err_str); 2 adds a hex dump.
 */
#include <check.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/interop/bzrtp_peer.h"
#include "zrtp/zrtp.h"

#define OURS_SSRC 0x0a0b0c0du
#define BZRTP_SSRC 0x1a1b1c1du

/* --- our endpoint --------------------------------------------------------- */

#define MEM_CACHE_CAP 4

struct mem_cache {
	unsigned n;
	uint8_t zid[MEM_CACHE_CAP][12];
	struct zrtp_retained rs[MEM_CACHE_CAP];
};

/* Who we are across calls: our ZID and our cache. */
struct ours_ident {
	uint8_t zid[12];
	struct mem_cache cache;
};

/* One stream of ours; the first one of a session owns it (and its cache). */
struct ours {
	struct zrtp_session *sess;
	bool owns_sess;
	struct zrtp_stream *st;
	struct pkt_queue out;
	struct ours_ident own;          /* identity of a one-call session */
	struct ours_ident *id;          /* own, or one that outlives the call */
	unsigned n_secure, n_failed, n_hash_mismatch, n_cache_mismatch;
	bool rs1_match;
	enum zrtp_role role;
	struct zrtp_algos algos;
	struct zrtp_srtp_keys keys;
	char sas[64];
	bool verified;
	enum zrtp_fail reason;
	uint32_t error_code;
	int last_rc;
};

static int ours_random(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
	return 0;
}

static int ours_cache_get(void *arg, const uint8_t zid[12],
			  struct zrtp_retained *out)
{
	struct mem_cache *c = &((struct ours *)arg)->id->cache;
	for (unsigned i = 0; i < c->n; i++)
		if (memcmp(c->zid[i], zid, 12) == 0) {
			*out = c->rs[i];
			return 0;
		}
	return -ENOENT;
}

static int ours_cache_put(void *arg, const uint8_t zid[12],
			  const struct zrtp_retained *in)
{
	struct mem_cache *c = &((struct ours *)arg)->id->cache;
	unsigned i;
	for (i = 0; i < c->n; i++)
		if (memcmp(c->zid[i], zid, 12) == 0)
			break;
	if (i == MEM_CACHE_CAP)
		return -ENOSPC;
	if (i == c->n)
		c->n++;
	memcpy(c->zid[i], zid, 12);
	c->rs[i] = *in;
	return 0;
}

static int ours_send(void *arg, const uint8_t *pkt, size_t len)
{
	struct ours *o = arg;
	return pkt_queue_push(&o->out, pkt, len);
}

static void ours_event(void *arg, const struct zrtp_event *ev)
{
	struct ours *o = arg;
	switch (ev->type) {
	case ZRTP_EV_SECURE:
		o->n_secure++;
		o->role = ev->role;
		o->algos = ev->algos;
		o->verified = ev->verified;
		o->rs1_match = ev->rs1_match;
		if (ev->keys)
			o->keys = *ev->keys;   /* wiped by the engine after */
		if (ev->sas)
			snprintf(o->sas, sizeof(o->sas), "%s", ev->sas);
		break;
	case ZRTP_EV_FAILED:
		o->n_failed++;
		o->reason = ev->reason;
		o->error_code = ev->error_code;
		break;
	case ZRTP_EV_HELLO_HASH_MISMATCH:
		o->n_hash_mismatch++;
		break;
	case ZRTP_EV_CACHE_MISMATCH:
		o->n_cache_mismatch++;
		break;
	default:
		break;
	}
	if (getenv("INTEROP_TRACE"))
		fprintf(stderr, "  ours event %d reason=%s code=0x%x\n",
			(int)ev->type, zrtp_fail_str(ev->reason),
			(unsigned)ev->error_code);
}

/* id: who we are, kept across calls; NULL for a fresh one-call identity. */
static void ours_new_as(struct ours *o, const char *prefs, bool passive,
			struct ours_ident *id)
{
	static const struct zrtp_callbacks cb = {
		.random = ours_random,
		.cache_get = ours_cache_get,
		.cache_put = ours_cache_put,
		.send = ours_send,
		.event = ours_event,
	};
	struct zrtp_config cfg;

	memset(o, 0, sizeof(*o));
	pkt_queue_init(&o->out);
	if (id) {
		o->id = id;
	} else {
		o->id = &o->own;
		randombytes_buf(o->own.zid, sizeof(o->own.zid));
	}
	zrtp_config_default(&cfg, o->id->zid);
	ck_assert_int_eq(zrtp_algo_prefs_parse(&cfg.prefs, prefs), 0);
	cfg.passive = passive;
	o->sess = zrtp_session_new(&cfg, &cb, o);
	ck_assert_ptr_nonnull(o->sess);
	o->owns_sess = true;
	o->st = zrtp_stream_new(o->sess, OURS_SSRC, o);
	ck_assert_ptr_nonnull(o->st);
}

static void ours_new(struct ours *o, const char *prefs, bool passive)
{
	ours_new_as(o, prefs, passive, NULL);
}

/* A later stream of first's session: Multistream once the first is secure. */
static void ours_add_stream(struct ours *o, struct ours *first, uint32_t ssrc)
{
	memset(o, 0, sizeof(*o));
	pkt_queue_init(&o->out);
	o->id = first->id;
	o->sess = first->sess;
	o->st = zrtp_stream_new(o->sess, ssrc, o);
	ck_assert_ptr_nonnull(o->st);
}

/* Later streams first: a session's streams must go before it. */
static void ours_free(struct ours *o)
{
	zrtp_stream_free(o->st);
	if (o->owns_sess)
		zrtp_session_free(o->sess);
}

static int ours_party_input(void *arg, const uint8_t *pkt, size_t len,
			    uint64_t now)
{
	struct ours *o = arg;
	o->last_rc = zrtp_stream_input(o->st, pkt, len, now, NULL);
	return o->last_rc;
}

static void ours_party_tick(void *arg, uint64_t now)
{
	struct ours *o = arg;
	uint64_t d = zrtp_stream_deadline(o->st);
	if (d != ZRTP_NO_DEADLINE && now >= d)
		zrtp_stream_tick(o->st, now);
}

static bool ours_party_finished(void *arg)
{
	struct ours *o = arg;
	enum zrtp_state s = zrtp_stream_state(o->st);
	return s == ZRTP_ST_SECURE || s == ZRTP_ST_FAILED;
}

static void ours_party(struct ours *o, struct interop_party *p)
{
	p->name = "ours";
	p->arg = o;
	p->out = &o->out;
	p->input = ours_party_input;
	p->tick = ours_party_tick;
	p->finished = ours_party_finished;
}

/* --- one handshake -------------------------------------------------------- */

/*
 * What both sides are configured with, as wire names. ka is the expected
 * outcome; when ours_ka/bz_ka are set, they are the two sides' own first
 * and second choices instead of ka alone.
 */
struct algo_set {
	uint32_t hash, cipher, auth, auth2, ka, sas;
	uint32_t ours_ka[2], bz_ka[2];
	const char *ours_prefs;   /* instead of the above for ours ("": defaults) */
};

struct pair {
	struct ours ours;
	struct pkt_queue bz_out;
	struct bzrtp_peer *bz;
	struct interop_party party[2];   /* 0: ours, 1: bzrtp */
	struct interop_run run;
	int rc;
	bool expect_verified;           /* SAS verified in an earlier call */
};

static const char *w4(uint32_t n, char buf[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(n >> (24 - 8 * i));
		buf[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	buf[4] = '\0';
	return buf;
}

/* Identities that outlive one call (NULL: fresh, cacheless ones). */
struct call_ids {
	struct ours_ident *ours;
	struct bzrtp_cache *bz_cache;
};

static void pair_new_as(struct pair *p, const struct algo_set *a, bool passive,
			const struct call_ids *ids)
{
	char prefs[128], kas[16], h[5], c[5], t1[5], t2[5], k[5], k2[5], s[5];
	struct bzrtp_peer_config bc;

	/* "B32 " is spelled "B32" in preference strings. Mult last, as in
	 * our defaults: bzrtp only adds a second stream for a peer whose
	 * Hello offers it. */
	if (a->ours_ka[0])
		snprintf(kas, sizeof(kas), "%s,%s", w4(a->ours_ka[0], k),
			 w4(a->ours_ka[1], k2));
	else
		snprintf(kas, sizeof(kas), "%s", w4(a->ka, k));
	snprintf(prefs, sizeof(prefs),
		 "hash=%s;cipher=%s;auth=%s,%s;ka=%s,Mult;sas=%s", w4(a->hash, h),
		 w4(a->cipher, c), w4(a->auth, t1), w4(a->auth2, t2), kas,
		 a->sas == ZRTP_SAS_B32 ? "B32" : w4(a->sas, s));
	memset(p, 0, sizeof(*p));
	ours_new_as(&p->ours, a->ours_prefs ? a->ours_prefs : prefs, passive,
		    ids ? ids->ours : NULL);

	memset(&bc, 0, sizeof(bc));
	bc.hash[0] = a->hash;
	bc.n_hash = 1;
	bc.cipher[0] = a->cipher;
	bc.n_cipher = 1;
	bc.auth[0] = a->auth;
	bc.auth[1] = a->auth2;
	bc.n_auth = 2;
	bc.ka[0] = a->ka;
	bc.n_ka = 1;
	if (a->bz_ka[0]) {
		bc.ka[0] = a->bz_ka[0];
		bc.ka[1] = a->bz_ka[1];
		bc.n_ka = 2;
	}
	bc.sas[0] = a->sas;
	bc.n_sas = 1;
	if (ids && ids->bz_cache) {
		bc.cache = ids->bz_cache;
		bc.self_uri = "sip:bzrtp@example.org";
		bc.peer_uri = "sip:ours@example.org";
	}
	pkt_queue_init(&p->bz_out);
	p->bz = bzrtp_peer_new(&bc, BZRTP_SSRC, &p->bz_out);
	ck_assert_ptr_nonnull(p->bz);

	ours_party(&p->ours, &p->party[0]);
	bzrtp_peer_party(p->bz, "bzrtp", &p->party[1]);
	interop_run_init(&p->run);
	p->run.settle_ms = 2000;
}

static void pair_new(struct pair *p, const struct algo_set *a, bool passive)
{
	pair_new_as(p, a, passive, NULL);
}

static void pair_free(struct pair *p)
{
	ours_free(&p->ours);
	bzrtp_peer_free(p->bz);
}

static void pair_start(struct pair *p)
{
	ck_assert_int_eq(zrtp_stream_start(p->ours.st, p->run.now), 0);
	ck_assert_int_eq(bzrtp_peer_start(p->bz), 0);
}

static void pair_run(struct pair *p)
{
	p->rc = interop_exchange(&p->run, &p->party[0], &p->party[1]);
}

/* Drop every HelloACK we send: bzrtp then never commits. */
static bool drop_our_helloack(void *arg, int from, const uint8_t *pkt,
			      size_t len)
{
	(void)arg;
	return !(from == 0 && pkt_kind_of(pkt, len) == PKT_HELLOACK);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

/* What one side encrypts with, the other decrypts with. */
static void check_keys(const struct ours *o, const struct bzrtp_peer_result *b,
		       uint32_t cipher)
{
	char k1[65], k2[65];

	ck_assert_uint_eq(o->keys.key_len, zrtp_cipher_key_len(cipher));
	ck_assert_uint_eq(b->key_len, o->keys.key_len);
	ck_assert_uint_eq(b->salt_len, ZRTP_SALT_LEN);
	hex(o->keys.local_key, o->keys.key_len, k1);
	hex(b->peer_key, b->key_len, k2);
	ck_assert_msg(memcmp(o->keys.local_key, b->peer_key, b->key_len) == 0,
		      "our local_key %s != bzrtp peerSrtpKey %s", k1, k2);
	ck_assert_msg(memcmp(o->keys.local_salt, b->peer_salt, b->salt_len) == 0,
		      "our local_salt != bzrtp peerSrtpSalt");
	hex(o->keys.remote_key, o->keys.key_len, k1);
	hex(b->self_key, b->key_len, k2);
	ck_assert_msg(memcmp(o->keys.remote_key, b->self_key, b->key_len) == 0,
		      "our remote_key %s != bzrtp selfSrtpKey %s", k1, k2);
	ck_assert_msg(memcmp(o->keys.remote_salt, b->self_salt, b->salt_len) == 0,
		      "our remote_salt != bzrtp selfSrtpSalt");
	ck_assert_msg(memcmp(o->keys.local_key, o->keys.remote_key,
			     o->keys.key_len) != 0,
		      "initiator and responder keys are equal");
}

/* Everything a secure call needs, on both sides. */
static void check_secure_pair(struct pair *p, const struct algo_set *a,
			      enum zrtp_role our_role, bool forced)
{
	const struct ours *o = &p->ours;
	const struct bzrtp_peer_result *b = bzrtp_peer_result(p->bz);
	char x1[5], x2[5], x3[5];

	ck_assert_msg(zrtp_stream_state(o->st) == ZRTP_ST_SECURE,
		      "ours not secure: state %s, failure %s, error 0x%x, last rc %d "
		      "(bzrtp refused %u packets of ours; rerun with INTEROP_TRACE=1)",
		      zrtp_state_str(zrtp_stream_state(o->st)),
		      zrtp_fail_str(zrtp_stream_failure(o->st)),
		      (unsigned)o->error_code, o->last_rc, p->run.refused[1]);
	ck_assert_msg(bzrtp_peer_secure(p->bz),
		      "bzrtp not secure (it refused %u packets of ours, "
		      "%u bzrtp errors; rerun with INTEROP_TRACE=1)",
		      p->run.refused[1], b->errors);
	ck_assert_int_eq(p->rc, 0);
	ck_assert_uint_eq(o->n_secure, 1);
	ck_assert_uint_eq(o->n_failed, 0);
	ck_assert_uint_eq(b->start_calls, 1);
	ck_assert_uint_eq(b->secrets_parts, 3);

	/* Roles; when forced, that the forcing did what it claims (in
	 * contention both may have sent Commit). */
	ck_assert_int_eq(o->role, our_role);
	ck_assert_int_eq(zrtp_stream_role(o->st), our_role);
	int ini = our_role == ZRTP_ROLE_INITIATOR ? 0 : 1;
	ck_assert_uint_ge(p->run.sent[ini][PKT_COMMIT], 1);
	ck_assert_uint_ge(p->run.sent[ini][PKT_DHPART2], 1);
	ck_assert_uint_ge(p->run.sent[!ini][PKT_DHPART1], 1);
	ck_assert_uint_eq(p->run.sent[ini][PKT_DHPART1], 0);
	ck_assert_uint_eq(p->run.sent[!ini][PKT_DHPART2], 0);
	if (forced)
		ck_assert_uint_eq(p->run.sent[!ini][PKT_COMMIT], 0);

	/* SAS: same string, and what the stream reports afterwards. */
	ck_assert_msg(o->sas[0] != '\0', "ours gave no SAS");
	ck_assert_str_eq(o->sas, b->sas);
	ck_assert_str_eq(zrtp_stream_sas(o->st), b->sas);
	if (a->sas == ZRTP_SAS_B32)
		ck_assert_uint_eq(strlen(o->sas), 4);
	else
		ck_assert_ptr_nonnull(strchr(o->sas, ':'));

	/* Algorithms as configured, on both sides. */
	ck_assert_msg(o->algos.ka == a->ka && b->ka == a->ka,
		      "ka: ours %s, bzrtp %s, want %s", w4(o->algos.ka, x1),
		      w4(b->ka, x2), w4(a->ka, x3));
	ck_assert_msg(o->algos.auth == a->auth && b->auth == a->auth,
		      "auth: ours %s, bzrtp %s", w4(o->algos.auth, x1),
		      w4(b->auth, x2));
	ck_assert_uint_eq(o->algos.hash, a->hash);
	ck_assert_uint_eq(b->hash, a->hash);
	ck_assert_uint_eq(o->algos.cipher, a->cipher);
	ck_assert_uint_eq(b->cipher, a->cipher);
	ck_assert_uint_eq(o->algos.sas, a->sas);
	ck_assert_uint_eq(b->sas_algo, a->sas);
	ck_assert_uint_eq(o->keys.cipher, a->cipher);
	ck_assert_uint_eq(o->keys.auth, a->auth);

	check_keys(o, b, a->cipher);

	/* Verified only where an earlier call confirmed the SAS; never a
	 * cache mismatch between two honest endpoints. */
	ck_assert_msg(o->verified == p->expect_verified,
		      "ours: verified %d, want %d", o->verified,
		      p->expect_verified);
	ck_assert_msg((b->verified != 0) == p->expect_verified,
		      "bzrtp: verified %d, want %d", (int)b->verified,
		      p->expect_verified);
	ck_assert_uint_eq(o->n_cache_mismatch, 0);
	ck_assert_uint_eq(b->cache_mismatch, 0);
	ck_assert(!b->secrets_cache_mismatch);
	ck_assert_uint_eq(p->ours.out.overflow, 0);
	ck_assert_uint_eq(p->bz_out.overflow, 0);
}

static void handshake(const struct algo_set *a, enum zrtp_role our_role)
{
	struct pair p;
	bool ours_init = our_role == ZRTP_ROLE_INITIATOR;

	pair_new(&p, a, !ours_init);
	if (ours_init)
		p.run.filter = drop_our_helloack;
	pair_start(&p);
	pair_run(&p);
	check_secure_pair(&p, a, our_role, true);
	pair_free(&p);
}

static const struct algo_set dh3k_hs80_b32 = {
	.hash = ZRTP_HASH_S256, .cipher = ZRTP_CIPHER_AES1,
	.auth = ZRTP_AUTH_HS80, .auth2 = ZRTP_AUTH_HS32,
	.ka = ZRTP_KA_DH3K, .sas = ZRTP_SAS_B32,
};
static const struct algo_set x255_hs80_b32 = {
	.hash = ZRTP_HASH_S256, .cipher = ZRTP_CIPHER_AES1,
	.auth = ZRTP_AUTH_HS80, .auth2 = ZRTP_AUTH_HS32,
	.ka = ZRTP_KA_X255, .sas = ZRTP_SAS_B32,
};
static const struct algo_set x255_hs32_b256 = {
	.hash = ZRTP_HASH_S256, .cipher = ZRTP_CIPHER_AES1,
	.auth = ZRTP_AUTH_HS32, .auth2 = ZRTP_AUTH_HS80,
	.ka = ZRTP_KA_X255, .sas = ZRTP_SAS_B256,
};
static const struct algo_set dh3k_hs32_b256 = {
	.hash = ZRTP_HASH_S256, .cipher = ZRTP_CIPHER_AES1,
	.auth = ZRTP_AUTH_HS32, .auth2 = ZRTP_AUTH_HS80,
	.ka = ZRTP_KA_DH3K, .sas = ZRTP_SAS_B256,
};

static const struct algo_set x255_s384_aes3 = {
	.hash = ZRTP_HASH_S384, .cipher = ZRTP_CIPHER_AES3,
	.auth = ZRTP_AUTH_HS80, .auth2 = ZRTP_AUTH_HS32,
	.ka = ZRTP_KA_X255, .sas = ZRTP_SAS_B32,
};
static const struct algo_set dh3k_s384_aes3 = {
	.hash = ZRTP_HASH_S384, .cipher = ZRTP_CIPHER_AES3,
	.auth = ZRTP_AUTH_HS80, .auth2 = ZRTP_AUTH_HS32,
	.ka = ZRTP_KA_DH3K, .sas = ZRTP_SAS_B32,
};
/*
 * First choices differ: §4.1.2 takes the faster one, X255 here, and both
 * sides must get there on their own. bzrtp as responder builds its DHPart
 * public value when the Hello arrives, from its own choice
 * (bzrtp_responseToHelloMessage -> bzrtp_cryptoAlgoAgreement), and
 * bzrtp_turnIntoResponder takes the other algorithms from the Commit but
 * not a different key agreement.
 */
static const struct algo_set ours_dh3k_first = {
	.hash = ZRTP_HASH_S256, .cipher = ZRTP_CIPHER_AES1,
	.auth = ZRTP_AUTH_HS80, .auth2 = ZRTP_AUTH_HS32,
	.ka = ZRTP_KA_X255, .sas = ZRTP_SAS_B32,
	.ours_ka = {ZRTP_KA_DH3K, ZRTP_KA_X255},
	.bz_ka = {ZRTP_KA_X255, ZRTP_KA_DH3K},
};
static const struct algo_set bzrtp_dh3k_first = {
	.hash = ZRTP_HASH_S256, .cipher = ZRTP_CIPHER_AES1,
	.auth = ZRTP_AUTH_HS80, .auth2 = ZRTP_AUTH_HS32,
	.ka = ZRTP_KA_X255, .sas = ZRTP_SAS_B32,
	.ours_ka = {ZRTP_KA_X255, ZRTP_KA_DH3K},
	.bz_ka = {ZRTP_KA_DH3K, ZRTP_KA_X255},
};

/*
 * Our defaults as they are (Curve25519 as X255 and E255, DH3k, EC25, EC38,
 * Mult; S256, S384; AES1, AES3): bzrtp skips the E255 and EC38 it does
 * not know and X255 is chosen whoever initiates.
 */
static const struct algo_set ours_defaults_x255 = {
	.hash = ZRTP_HASH_S256, .cipher = ZRTP_CIPHER_AES1,
	.auth = ZRTP_AUTH_HS80, .auth2 = ZRTP_AUTH_HS32,
	.ka = ZRTP_KA_X255, .sas = ZRTP_SAS_B32,
	.bz_ka = {ZRTP_KA_X255, ZRTP_KA_DH3K},
	.ours_prefs = "",
};

START_TEST(ours_defaults_x255_both_roles)
{
	handshake(&ours_defaults_x255, ZRTP_ROLE_INITIATOR);
	handshake(&ours_defaults_x255, ZRTP_ROLE_RESPONDER);
}
END_TEST

START_TEST(ours_initiator_x255_s384_aes3)
{
	handshake(&x255_s384_aes3, ZRTP_ROLE_INITIATOR);
}
END_TEST

START_TEST(bzrtp_initiator_dh3k_s384_aes3)
{
	handshake(&dh3k_s384_aes3, ZRTP_ROLE_RESPONDER);
}
END_TEST

START_TEST(ours_initiator_ka_first_choices_differ)
{
	handshake(&ours_dh3k_first, ZRTP_ROLE_INITIATOR);
	handshake(&bzrtp_dh3k_first, ZRTP_ROLE_INITIATOR);
}
END_TEST

START_TEST(bzrtp_initiator_ka_first_choices_differ)
{
	handshake(&ours_dh3k_first, ZRTP_ROLE_RESPONDER);
	handshake(&bzrtp_dh3k_first, ZRTP_ROLE_RESPONDER);
}
END_TEST

START_TEST(ours_initiator_dh3k)
{
	handshake(&dh3k_hs80_b32, ZRTP_ROLE_INITIATOR);
}
END_TEST

START_TEST(bzrtp_initiator_dh3k)
{
	handshake(&dh3k_hs80_b32, ZRTP_ROLE_RESPONDER);
}
END_TEST

START_TEST(ours_initiator_x255)
{
	handshake(&x255_hs80_b32, ZRTP_ROLE_INITIATOR);
}
END_TEST

START_TEST(bzrtp_initiator_x255)
{
	handshake(&x255_hs80_b32, ZRTP_ROLE_RESPONDER);
}
END_TEST

START_TEST(ours_initiator_x255_hs32_b256)
{
	ck_assert(bzrtp_peer_supports("sas", ZRTP_SAS_B256));
	handshake(&x255_hs32_b256, ZRTP_ROLE_INITIATOR);
}
END_TEST

START_TEST(bzrtp_initiator_dh3k_hs32_b256)
{
	ck_assert(bzrtp_peer_supports("sas", ZRTP_SAS_B256));
	handshake(&dh3k_hs32_b256, ZRTP_ROLE_RESPONDER);
}
END_TEST

/*
 * Both active, nothing dropped: both may send Commit and §4.2 decides
 * (bzrtp compares hvi in state_keyAgreement_sendingCommit). Whoever wins,
 * the call must come up with matching keys. Repeated, since the winner
 * depends on random hvi values.
 */
START_TEST(contention_x255)
{
	unsigned ours_won = 0;
	for (int i = 0; i < 8; i++) {
		struct pair p;
		pair_new(&p, &x255_hs80_b32, false);
		pair_start(&p);
		pair_run(&p);
		enum zrtp_role r = zrtp_stream_role(p.ours.st);
		ck_assert_msg(r == ZRTP_ROLE_INITIATOR || r == ZRTP_ROLE_RESPONDER,
			      "round %d: ours has no role (state %s, %s)", i,
			      zrtp_state_str(zrtp_stream_state(p.ours.st)),
			      zrtp_fail_str(zrtp_stream_failure(p.ours.st)));
		check_secure_pair(&p, &x255_hs80_b32, r, false);
		ours_won += r == ZRTP_ROLE_INITIATOR;
		pair_free(&p);
	}
	fprintf(stderr, "contention_x255: ours initiator in %u of 8 calls\n",
		ours_won);
}
END_TEST

/* a=zrtp-hash both ways (§8.1): each side checks the other's Hello. */
START_TEST(hello_hash_both_ways)
{
	struct pair p;
	char ours_hash[65], bz_hash[65];

	pair_new(&p, &x255_hs80_b32, false);
	p.run.filter = drop_our_helloack;
	pair_start(&p);
	ck_assert_int_eq(zrtp_stream_hello_hash(p.ours.st, ours_hash), 0);
	ck_assert_int_eq(bzrtp_peer_hello_hash(p.bz, bz_hash), 0);
	ck_assert_int_eq(zrtp_stream_set_peer_hello_hash(p.ours.st, bz_hash, 64), 0);
	ck_assert_int_eq(bzrtp_peer_set_peer_hello_hash(p.bz, ours_hash), 0);
	pair_run(&p);
	ck_assert_uint_eq(p.ours.n_hash_mismatch, 0);
	check_secure_pair(&p, &x255_hs80_b32, ZRTP_ROLE_INITIATOR, true);
	pair_free(&p);
}
END_TEST

/* A wrong a=zrtp-hash for bzrtp's Hello: we must never go secure. */
START_TEST(hello_hash_mismatch)
{
	struct pair p;
	char bz_hash[65];

	pair_new(&p, &x255_hs80_b32, false);
	p.run.filter = drop_our_helloack;
	p.run.limit_ms = 5000;
	pair_start(&p);
	ck_assert_int_eq(bzrtp_peer_hello_hash(p.bz, bz_hash), 0);
	bz_hash[10] = bz_hash[10] == '0' ? '1' : '0';
	ck_assert_int_eq(zrtp_stream_set_peer_hello_hash(p.ours.st, bz_hash, 64), 0);
	pair_run(&p);
	ck_assert_int_ne(zrtp_stream_state(p.ours.st), ZRTP_ST_SECURE);
	ck_assert_uint_eq(p.ours.n_secure, 0);
	ck_assert(!bzrtp_peer_secure(p.bz));
	ck_assert_int_eq(zrtp_stream_state(p.ours.st), ZRTP_ST_FAILED);
	ck_assert_int_eq(zrtp_stream_failure(p.ours.st), ZRTP_FAIL_HELLO_HASH);
	pair_free(&p);
}
END_TEST

/*
 * A lossy network, deterministic per seed: each packet is lost with the
 * given percentage, never more than 4 in a row in one direction (so the
 * retransmission budgets of §6 are not what is being tested). With
 * drop_helloack, our HelloACKs are dropped as well, to keep bzrtp the
 * responder.
 */
struct lossy {
	uint32_t state;
	unsigned percent;
	unsigned run[2];
	bool drop_helloack;
};

static bool lossy_filter(void *arg, int from, const uint8_t *pkt, size_t len)
{
	struct lossy *l = arg;
	if (l->drop_helloack && !drop_our_helloack(NULL, from, pkt, len))
		return false;
	l->state = l->state * 1103515245u + 12345u;
	bool lose = (l->state >> 16) % 100 < l->percent && l->run[from] < 4;
	l->run[from] = lose ? l->run[from] + 1 : 0;
	return !lose;
}

static void lossy_handshakes(const struct algo_set *a, enum zrtp_role our_role)
{
	bool ours_init = our_role == ZRTP_ROLE_INITIATOR;
	for (uint32_t seed = 1; seed <= 6; seed++) {
		struct pair p;
		struct lossy l = {
			.state = seed, .percent = 30, .drop_helloack = ours_init,
		};
		pair_new(&p, a, !ours_init);
		p.run.filter = lossy_filter;
		p.run.filter_arg = &l;
		pair_start(&p);
		pair_run(&p);
		ck_assert_msg(zrtp_stream_state(p.ours.st) == ZRTP_ST_SECURE &&
			      bzrtp_peer_secure(p.bz),
			      "seed %u: ours %s (%s), bzrtp %s; refused by ours %u, "
			      "by bzrtp %u (rerun with INTEROP_TRACE=1)",
			      (unsigned)seed,
			      zrtp_state_str(zrtp_stream_state(p.ours.st)),
			      zrtp_fail_str(zrtp_stream_failure(p.ours.st)),
			      bzrtp_peer_secure(p.bz) ? "secure" : "not secure",
			      p.run.refused[0], p.run.refused[1]);
		check_secure_pair(&p, a, our_role, true);
		pair_free(&p);
	}
}

START_TEST(lossy_ours_initiator_dh3k)
{
	lossy_handshakes(&dh3k_hs80_b32, ZRTP_ROLE_INITIATOR);
}
END_TEST

START_TEST(lossy_bzrtp_initiator_dh3k)
{
	lossy_handshakes(&dh3k_hs80_b32, ZRTP_ROLE_RESPONDER);
}
END_TEST

/*
 * Four calls between the same two endpoints, each keeping its cache: ours
 * in memory, bzrtp's in sqlite. From the second call on, both must find
 * the retained secret of the previous call (§4.3.1 rs1IDi/rs1IDr in the
 * DHParts, s1 in s0 of §4.4.1.4), and once the SAS was confirmed after
 * the first call, both must report the next calls as verified (the V flag
 * of Confirm, §5.7, and bzrtp's "previously verified" AND peer's V).
 * Roles alternate, since rs1ID is keyed by role.
 */
START_TEST(cache_continuity)
{
	const struct algo_set *a = &x255_hs80_b32;
	static const enum zrtp_role roles[] = {
		ZRTP_ROLE_INITIATOR, ZRTP_ROLE_RESPONDER,
		ZRTP_ROLE_INITIATOR, ZRTP_ROLE_RESPONDER,
	};
	struct ours_ident me;
	struct call_ids ids = { .ours = &me };

	memset(&me, 0, sizeof(me));
	randombytes_buf(me.zid, sizeof(me.zid));
	ids.bz_cache = bzrtp_cache_new();
	ck_assert_msg(ids.bz_cache != NULL,
		      "no sqlite3 through libbzrtp for its cache");

	for (int i = 0; i < 4; i++) {
		struct pair p;
		bool ours_init = roles[i] == ZRTP_ROLE_INITIATOR;
		pair_new_as(&p, a, !ours_init, &ids);
		if (ours_init)
			p.run.filter = drop_our_helloack;
		p.expect_verified = i > 0;
		pair_start(&p);
		pair_run(&p);
		check_secure_pair(&p, a, roles[i], true);
		ck_assert_msg(p.ours.rs1_match == (i > 0),
			      "call %d: ours rs1_match %d", i, p.ours.rs1_match);
		if (i == 0) {
			ck_assert_int_eq(zrtp_stream_set_verified(p.ours.st, true), 0);
			bzrtp_peer_set_verified(p.bz, true);
		}
		pair_free(&p);
	}
	bzrtp_cache_free(ids.bz_cache);
}
END_TEST

/*
 * A second stream of the same call (video), Multistream mode (§4.4.3):
 * bzrtp_addChannel on bzrtp's side, a second zrtp_stream on ours, started
 * once the first is secure. Roles forced as for the first stream. bzrtp
 * gives no SAS for a Mult channel, so keys and algorithms are compared.
 */
static void multistream(enum zrtp_role our_role)
{
	const struct algo_set *a = &x255_hs80_b32;
	bool ours_init = our_role == ZRTP_ROLE_INITIATOR;
	struct pair p;
	struct ours o2;
	struct pkt_queue bq2;
	struct interop_party q[2];
	struct interop_run run;
	char x1[5], x2[5];

	pair_new(&p, a, !ours_init);
	if (ours_init)
		p.run.filter = drop_our_helloack;
	pair_start(&p);
	pair_run(&p);
	check_secure_pair(&p, a, our_role, true);

	ours_add_stream(&o2, &p.ours, OURS_SSRC + 1);
	pkt_queue_init(&bq2);
	struct bzrtp_peer *b2 = bzrtp_peer_add_stream(p.bz, BZRTP_SSRC + 1, &bq2);
	ck_assert_ptr_nonnull(b2);
	ours_party(&o2, &q[0]);
	bzrtp_peer_party(b2, "bzrtp#2", &q[1]);
	interop_run_init(&run);
	run.now = p.run.now;
	run.settle_ms = 2000;
	run.filter = p.run.filter;
	ck_assert_int_eq(zrtp_stream_start(o2.st, run.now), 0);
	int rc = bzrtp_peer_start(b2);
	ck_assert_msg(rc == 0, "bzrtp refused a second stream: 0x%x %s", (unsigned)rc,
		      bzrtp_peer_err_str(rc));
	rc = interop_exchange(&run, &q[0], &q[1]);

	const struct bzrtp_peer_result *b = bzrtp_peer_result(b2);
	ck_assert_msg(zrtp_stream_state(o2.st) == ZRTP_ST_SECURE,
		      "ours#2 not secure: state %s, failure %s, last rc %d",
		      zrtp_state_str(zrtp_stream_state(o2.st)),
		      zrtp_fail_str(zrtp_stream_failure(o2.st)), o2.last_rc);
	ck_assert_msg(bzrtp_peer_secure(b2), "bzrtp#2 not secure (refused %u)",
		      run.refused[1]);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(o2.n_secure, 1);
	ck_assert_uint_eq(b->start_calls, 1);
	ck_assert_int_eq(o2.role, our_role);
	int ini = ours_init ? 0 : 1;
	ck_assert_uint_ge(run.sent[ini][PKT_COMMIT], 1);
	ck_assert_uint_eq(run.sent[!ini][PKT_COMMIT], 0);
	ck_assert_uint_eq(run.sent[0][PKT_DHPART1] + run.sent[0][PKT_DHPART2] +
			  run.sent[1][PKT_DHPART1] + run.sent[1][PKT_DHPART2], 0);

	ck_assert_msg(o2.algos.ka == ZRTP_KA_MULT && b->ka == ZRTP_KA_MULT,
		      "ka: ours %s, bzrtp %s, want Mult", w4(o2.algos.ka, x1),
		      w4(b->ka, x2));
	ck_assert_uint_eq(o2.algos.hash, a->hash);
	ck_assert_uint_eq(b->hash, a->hash);
	ck_assert_uint_eq(o2.algos.cipher, a->cipher);
	ck_assert_uint_eq(b->cipher, a->cipher);
	ck_assert_uint_eq(o2.algos.auth, a->auth);
	ck_assert_uint_eq(b->auth, a->auth);
	check_keys(&o2, b, a->cipher);
	ck_assert_msg(memcmp(o2.keys.local_key, p.ours.keys.local_key,
			     o2.keys.key_len) != 0,
		      "stream 2 reuses stream 1's key");
	/* Ours repeats the call's SAS on later streams. */
	ck_assert_str_eq(o2.sas, p.ours.sas);

	ours_free(&o2);
	bzrtp_peer_free(b2);
	pair_free(&p);
}

START_TEST(multistream_ours_initiator)
{
	multistream(ZRTP_ROLE_INITIATOR);
}
END_TEST

START_TEST(multistream_bzrtp_initiator)
{
	multistream(ZRTP_ROLE_RESPONDER);
}
END_TEST

/*
 * bzrtp refuses every packet whose sequence number is not above the last
 * one it accepted, with no wrap-around, and starts from 0
 * (src/packetParser.c bzrtp_packetCheck, BZRTP_PARSER_ERROR_OUTOFORDER).
 * A stream whose sequence number wraps 0xffff -> 0 mid-handshake is dead
 * to bzrtp from that packet on; bzrtp's own streams start at 1..0x1000
 * (bzrtp_initChannelContext). So our first sequence number must leave
 * room for a handshake's worth of retransmissions. (A first packet with
 * sequence number 0 is refused too, but it is a Hello and its
 * retransmission gets through: 50 ms lost, not the call.) Checked on the
 * wire, over enough streams to catch a uniform 16-bit draw.
 */
#define SEQ_ROOM 1024

START_TEST(seq_start_leaves_room)
{
	uint8_t pkt[PKT_QUEUE_MTU];
	unsigned lo = 0xffff, hi = 0;

	for (int i = 0; i < 2048; i++) {
		struct ours o;
		ours_new(&o, "ka=X255", false);
		ck_assert_int_eq(zrtp_stream_start(o.st, 0), 0);
		size_t len = pkt_queue_pop(&o.out, pkt);
		ck_assert_uint_ge(len, 4);
		ck_assert_int_eq(pkt_kind_of(pkt, len), PKT_HELLO);
		unsigned seq = (unsigned)(pkt[2] << 8 | pkt[3]);
		lo = seq < lo ? seq : lo;
		hi = seq > hi ? seq : hi;
		ours_free(&o);
		ck_assert_msg(seq <= 0xffff - SEQ_ROOM,
			      "stream %d starts at sequence number %u: bzrtp "
			      "drops everything after a wrap (first seen so "
			      "far %u..%u)", i, seq, lo, hi);
	}
}
END_TEST

static Suite *bzrtp_interop_suite(void)
{
	Suite *s = suite_create("bzrtp_interop");
	TCase *tc = tcase_create("handshake");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ours_initiator_dh3k);
	tcase_add_test(tc, bzrtp_initiator_dh3k);
	tcase_add_test(tc, ours_initiator_x255);
	tcase_add_test(tc, bzrtp_initiator_x255);
	tcase_add_test(tc, ours_initiator_x255_hs32_b256);
	tcase_add_test(tc, bzrtp_initiator_dh3k_hs32_b256);
	tcase_add_test(tc, ours_initiator_x255_s384_aes3);
	tcase_add_test(tc, bzrtp_initiator_dh3k_s384_aes3);
	tcase_add_test(tc, ours_initiator_ka_first_choices_differ);
	tcase_add_test(tc, bzrtp_initiator_ka_first_choices_differ);
	tcase_add_test(tc, ours_defaults_x255_both_roles);
	tcase_add_test(tc, contention_x255);
	tcase_add_test(tc, hello_hash_both_ways);
	tcase_add_test(tc, hello_hash_mismatch);
	tcase_add_test(tc, lossy_ours_initiator_dh3k);
	tcase_add_test(tc, lossy_bzrtp_initiator_dh3k);
	tcase_add_test(tc, cache_continuity);
	tcase_add_test(tc, multistream_ours_initiator);
	tcase_add_test(tc, multistream_bzrtp_initiator);
	tcase_add_test(tc, seq_start_leaves_room);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "test_bzrtp: sodium_init failed\n");
		return EXIT_FAILURE;
	}
	SRunner *sr = srunner_create(bzrtp_interop_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
