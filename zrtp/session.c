/*
 * The ZRTP state machine (RFC 6189 §4, §5, §6, §9).
 *
 * One zrtp_stream runs one handshake. Its life:
 *
 *   DISCOVERY ──(peer Hello + our Hello acked)──> COMMIT_SENT   (initiator)
 *   DISCOVERY or COMMIT_SENT ──(peer Commit wins)──> WAIT_DHPART2 (responder)
 *   COMMIT_SENT ──DHPart1──> WAIT_CONFIRM1 ──Confirm1──> WAIT_CONF2ACK
 *   WAIT_DHPART2 ──DHPart2──> WAIT_CONFIRM2 ──Confirm2──> SECURE
 *   WAIT_CONF2ACK ──Conf2ACK──> SECURE
 *   Multistream: COMMIT_SENT ──Confirm1──> WAIT_CONF2ACK, and the
 *   responder answers a Mult Commit with Confirm1 (WAIT_CONFIRM2).
 *
 * What each state accepts (one handler per message, below):
 *
 *   state          message               goes to / answer
 *   IDLE           (nothing)             DISCOVERY by zrtp_stream_start
 *   DISCOVERY      HelloACK, Hello       COMMIT_SENT once both are in,
 *                                        unless passive
 *                  Commit                WAIT_DHPART2, Mult: WAIT_CONFIRM2
 *   COMMIT_SENT    Commit (contention)   as DISCOVERY if the peer's wins
 *                  DHPart1 (DH)          WAIT_CONFIRM1
 *                  Confirm1 (Mult)       WAIT_CONF2ACK
 *   WAIT_DHPART2   DHPart2               WAIT_CONFIRM2
 *                  same Commit           DHPart1 again
 *   WAIT_CONFIRM1  Confirm1              WAIT_CONF2ACK
 *   WAIT_CONFIRM2  Confirm2              SECURE
 *                  same DHPart2/Commit   Confirm1 / DHPart1 again
 *   WAIT_CONF2ACK  Conf2ACK, peer SRTP   SECURE
 *                  Confirm1              ignored (Confirm2 is on T2)
 *   SECURE         same Confirm2         Conf2ACK again
 *                  GoClear, SASrelay     Error 0x100 / RelayACK, stays
 *   FAILED         Hello after NO_PEER   DISCOVERY
 *                  Error                 ErrorACK
 *                  anything else         our stored Error again, if any
 *
 * Every state but IDLE and FAILED also takes Hello (the same one gets
 * HelloACK again), Ping (PingACK) and Error (ErrorACK; FAILED unless
 * SECURE). A failed check moves any handshake state to FAILED; so does
 * the timer once its budget is spent. Everything else is dropped.
 *
 * Every message we send is encoded once and stored: retransmissions and
 * answers to duplicates re-send the stored bytes (a fresh packet header),
 * so a duplicate never causes a second DH computation (§6). Every peer
 * message that later messages authenticate is stored verbatim too: the
 * hash chain (§9) reveals H2, H1, H0 one message later, and each revealed
 * preimage is checked against the stored image and used to check the
 * stored message's MAC. Each is stored in an allocation of its own size.
 * Once SECURE only what SECURE still answers is kept (go_secure): the two
 * Hellos (a repeated Hello gets HelloACK again; ours is a=zrtp-hash), the
 * HelloACK and, at the responder, the peer's Confirm2 and our Conf2ACK
 * (§4.6: a lost Conf2ACK makes the initiator repeat Confirm2, answered
 * with Conf2ACK again); the Commits, DHParts and Confirm1/Confirm2 are
 * freed, as nothing in SECURE re-sends or checks them.
 *
 * Failures that show an attack or a broken peer (a MAC, the hash chain,
 * hvi, a public value, a ZID switch, a Hello hash) end the stream; packets
 * that do not parse, or arrive in a state that does not expect them, are
 * dropped and leave the stream untouched, so injected garbage cannot end a
 * call.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "zrtp/zrtp.h"

/* Retransmission timers, RFC 6189 §6. */
#define T1_BASE 50
#define T1_CAP 200
#define T1_MAX 20
#define T2_BASE 150
#define T2_CAP 1200
#define T2_MAX 10

/* Error codes, RFC 6189 §5.9. */
#define ERR_MALFORMED 0x10
#define ERR_VERSION 0x30
#define ERR_HASH 0x51
#define ERR_CIPHER 0x52
#define ERR_KA 0x53
#define ERR_AUTH 0x54
#define ERR_SAS 0x55
#define ERR_NO_SECRET 0x56
#define ERR_BAD_PV 0x61
#define ERR_HVI 0x62
#define ERR_CONFIRM_MAC 0x70
#define ERR_EQUAL_ZID 0x90
#define ERR_GOCLEAR 0x100

#define KDF_CTX_MAX (12 + 12 + ZRTP_MAX_HASH_LEN)

/* A message's bytes (buf NULL and len 0 while none). */
struct stored {
	uint8_t *buf;
	size_t len;
};

struct zrtp_session {
	struct zrtp_config cfg;
	struct zrtp_callbacks cb;
	void *arg;
	struct zrtp_stream *streams;      /* list, for Multistream wake-ups */
	struct zrtp_stream *dh_stream;    /* the first stream: runs DH mode */
	bool have_peer_zid;
	uint8_t peer_zid[12];
	bool have_cache;                  /* cache looked up for peer_zid */
	bool cache_found;
	struct zrtp_retained cached;
	bool have_sess_key;               /* ZRTPSess, §4.5.2 */
	uint8_t sess_key[ZRTP_MAX_HASH_LEN];
	struct zrtp_algos sess_algos;
	char sas[32];
	bool sas_verified;
};

struct zrtp_stream {
	struct zrtp_session *s;
	struct zrtp_stream *next;
	void *arg;
	uint32_t ssrc;
	uint16_t seq;
	enum zrtp_state state;
	enum zrtp_role role;
	enum zrtp_fail fail;

	uint8_t h[4][32];                 /* our hash chain H0..H3 */
	struct stored hello, commit, dhpart, confirm, error;
	struct stored helloack, conf2ack; /* fixed answers */

	struct stored peer_hello_raw, peer_commit_raw, peer_dhpart_raw;
	struct stored peer_confirm_raw;
	struct zrtp_hello our_hello, peer_hello;
	struct zrtp_commit peer_commit;
	uint8_t peer_h1[32];              /* from the peer's DHPart */
	bool have_peer_hello, hello_acked;
	bool peer_hash_set;
	uint8_t peer_hello_hash[32];

	struct zrtp_algos algos;
	bool mult;
	struct zrtp_ka *ka;
	uint8_t commit_key[32];           /* our hvi or nonce, for contention */

	/* Key material, wiped as soon as it is no longer needed. */
	uint8_t kdf_ctx[KDF_CTX_MAX];
	size_t kdf_ctx_len;
	uint8_t s0[ZRTP_MAX_HASH_LEN];
	uint8_t mackey_i[ZRTP_MAX_HASH_LEN], mackey_r[ZRTP_MAX_HASH_LEN];
	uint8_t zrtpkey_i[ZRTP_MAX_KEY_LEN], zrtpkey_r[ZRTP_MAX_KEY_LEN];
	size_t hash_len;
	bool rs_match, cache_mismatch;
	uint32_t s1_gen;                  /* rs_match: the matched secret's */
	bool rs_concurrent;               /* no match, explained by another
					   * handshake (concurrent_rotation) */
	bool pending_rs;                  /* new rs1 held back after a mismatch */
	uint8_t new_rs1[32];
	uint32_t peer_cache_expiry;
	bool peer_v;
	char sas[32];

	/* One retransmission timer (§6): the stored message it repeats. */
	struct stored *rtx;
	uint64_t deadline;
	unsigned rtx_interval, rtx_cap, rtx_left;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int sha256(const void *p, size_t len, uint8_t out[32])
{
	struct zrtp_iov v = { p, len };
	return zrtp_hash(ZRTP_HASH_S256, &v, 1, out);
}

/* Truncated 64-bit MAC (§5: "MAC ... truncated to 64 bits"). */
static int mac8(uint32_t hash, const uint8_t *key, size_t key_len,
		const uint8_t *data, size_t len, uint8_t out[8])
{
	uint8_t full[ZRTP_MAX_HASH_LEN];
	struct zrtp_iov v = { data, len };
	int r = zrtp_hmac(hash, key, key_len, &v, 1, full);
	memcpy(out, full, 8);
	zrtp_wipe(full, sizeof full);
	return r;
}

/* Check the MAC in the last 8 bytes of a stored message, keyed with a
 * revealed hash-chain element: Hello (H2), Commit (H1), DHPart (H0). */
static bool stored_mac_ok(const struct stored *m, const uint8_t key[32])
{
	uint8_t mac[8];
	if (m->len < ZRTP_MSG_HDR_LEN + 8)
		return false;
	if (mac8(ZRTP_HASH_S256, key, 32, m->buf, m->len - 8, mac) < 0)
		return false;
	return zrtp_ct_equal(mac, m->buf + m->len - 8, 8);
}

static void stored_free(struct stored *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = 0;
}

/* 0 or -ENOMEM (then dst holds nothing). */
static int store(struct stored *dst, const uint8_t *p, size_t len)
{
	if (len == 0 || len > ZRTP_MAX_MSG_LEN) {
		stored_free(dst);
		return -EINVAL;
	}
	if (dst->len != len) {
		uint8_t *b = realloc(dst->buf, len);
		if (!b) {
			stored_free(dst);
			return -ENOMEM;
		}
		dst->buf = b;
		dst->len = len;
	}
	memcpy(dst->buf, p, len);
	return 0;
}

static bool stored_equal(const struct stored *a, const uint8_t *p, size_t len)
{
	return a->len == len && memcmp(a->buf, p, len) == 0;
}

static int rng(struct zrtp_stream *st, void *buf, size_t len)
{
	return st->s->cb.random(st->s->arg, buf, len);
}

static void emit(struct zrtp_stream *st, struct zrtp_event *ev)
{
	ev->role = st->role;
	ev->algos = st->algos;
	if (st->s->have_peer_zid && !ev->peer_zid)
		ev->peer_zid = st->s->peer_zid;
	if (st->s->cb.event)
		st->s->cb.event(st->arg, ev);
}

static void send_msg_bytes(struct zrtp_stream *st, const uint8_t *msg,
			   size_t len)
{
	uint8_t pkt[ZRTP_MAX_PKT_LEN];
	if (!msg || len == 0)
		return;
	int n = zrtp_packet_wrap(pkt, sizeof pkt, st->seq++, st->ssrc, msg, len);
	if (n > 0 && st->s->cb.send)
		(void)st->s->cb.send(st->arg, pkt, (size_t)n);
}

static void send_stored(struct zrtp_stream *st, const struct stored *m)
{
	send_msg_bytes(st, m->buf, m->len);
}

/* An answer built on the spot and not kept (ErrorACK, PingACK, ...). */
static void send_unstored(struct zrtp_stream *st, const struct zrtp_msg *m)
{
	uint8_t buf[ZRTP_MAX_MSG_LEN];
	int n = zrtp_msg_encode(buf, sizeof buf, m);
	if (n > 0)
		send_msg_bytes(st, buf, (size_t)n);
}

static int encode_into(struct stored *dst, const struct zrtp_msg *m)
{
	uint8_t buf[ZRTP_MAX_MSG_LEN];
	int n = zrtp_msg_encode(buf, sizeof buf, m);
	if (n < 0)
		return n;
	return store(dst, buf, (size_t)n);
}

/* Every stored message, freed (a stream that ends or never started). */
static void stored_free_all(struct zrtp_stream *st)
{
	struct stored *all[] = {
		&st->hello, &st->commit, &st->dhpart, &st->confirm, &st->error,
		&st->helloack, &st->conf2ack, &st->peer_hello_raw,
		&st->peer_commit_raw, &st->peer_dhpart_raw,
		&st->peer_confirm_raw,
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		stored_free(all[i]);
}

static void timer_start(struct zrtp_stream *st, struct stored *m, unsigned base,
			unsigned cap, unsigned max, uint64_t now)
{
	st->rtx = m;
	st->rtx_interval = base;
	st->rtx_cap = cap;
	st->rtx_left = max;
	st->deadline = now + base;
}

static void timer_stop(struct zrtp_stream *st)
{
	st->rtx = NULL;
	st->deadline = ZRTP_NO_DEADLINE;
}

static void wipe_keys(struct zrtp_stream *st)
{
	zrtp_wipe(st->s0, sizeof st->s0);
	zrtp_wipe(st->zrtpkey_i, sizeof st->zrtpkey_i);
	zrtp_wipe(st->zrtpkey_r, sizeof st->zrtpkey_r);
	zrtp_wipe(st->new_rs1, sizeof st->new_rs1);
	if (st->ka) {
		zrtp_ka_free(st->ka);
		st->ka = NULL;
	}
}

static void send_error(struct zrtp_stream *st, uint32_t code)
{
	struct zrtp_msg m = { .type = ZRTP_MSG_ERROR, .u.error_code = code };
	if (encode_into(&st->error, &m) == 0)
		send_stored(st, &st->error);
}

/* End the stream: no keys leave, nothing is written to the cache. */
static int fail(struct zrtp_stream *st, enum zrtp_fail why, uint32_t err_code)
{
	timer_stop(st);
	wipe_keys(st);
	zrtp_wipe(st->mackey_i, sizeof st->mackey_i);
	zrtp_wipe(st->mackey_r, sizeof st->mackey_r);
	st->pending_rs = false;
	st->state = ZRTP_ST_FAILED;
	st->fail = why;
	if (err_code)
		send_error(st, err_code);
	struct zrtp_event ev = { .type = ZRTP_EV_FAILED, .reason = why,
				 .error_code = err_code };
	emit(st, &ev);
	return -(int)why;
}

/* ------------------------------------------------------------------ */
/* building our messages                                               */

static bool hello_lists(const uint32_t *list, unsigned n, uint32_t name)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i] == name)
			return true;
	return false;
}

static int build_hello(struct zrtp_stream *st)
{
	const struct zrtp_config *cfg = &st->s->cfg;
	struct zrtp_msg m = { .type = ZRTP_MSG_HELLO };
	struct zrtp_hello *h = &m.u.hello;

	h->version = ZRTP_VERSION_110;
	memcpy(h->client_id, cfg->client_id, sizeof h->client_id);
	memcpy(h->h3, st->h[3], 32);
	memcpy(h->zid, cfg->zid, 12);
	h->passive = cfg->passive;
	zrtp_hello_set_algos(h, &cfg->prefs);
	/* Peers such as Linphone open a second stream only with a peer whose
	 * Hello lists Mult: a user's key-agreement list does not drop it,
	 * only cfg->multistream does. */
	bool listed = hello_lists(h->ka, h->n_ka, ZRTP_KA_MULT);
	if (cfg->multistream && !listed && h->n_ka < ZRTP_MAX_ALGOS)
		h->ka[h->n_ka++] = ZRTP_KA_MULT;
	if (!cfg->multistream && listed) {
		unsigned k = 0;
		for (unsigned i = 0; i < h->n_ka; i++)
			if (h->ka[i] != ZRTP_KA_MULT)
				h->ka[k++] = h->ka[i];
		h->n_ka = (uint8_t)k;
	}
	st->our_hello = *h;
	int r = encode_into(&st->hello, &m);
	if (r < 0)
		return r;
	/* §9: the Hello MAC is keyed with H2, revealed later by Commit. */
	return mac8(ZRTP_HASH_S256, st->h[2], 32, st->hello.buf,
		    st->hello.len - 8, st->hello.buf + st->hello.len - 8);
}

/* rsNID for one side (§4.3.1): MAC(rs, "Initiator"/"Responder"), or
 * random bytes when we hold no such secret. */
static int secret_id(struct zrtp_stream *st, const uint8_t *rs, bool have,
		     bool initiator, uint8_t out[8])
{
	if (!have)
		return rng(st, out, 8);
	const char *label = initiator ? "Initiator" : "Responder";
	return mac8(st->algos.hash, rs, 32, (const uint8_t *)label,
		    strlen(label), out);
}

/* Our DHPart (DHPart1 as responder, DHPart2 as initiator), MAC keyed H0. */
static int build_dhpart(struct zrtp_stream *st, bool initiator)
{
	const struct zrtp_retained *c = &st->s->cached;
	bool have = st->s->cache_found;
	uint8_t pv[ZRTP_MAX_PV_LEN];
	size_t pv_len = zrtp_ka_pv_len(st->algos.ka);
	struct zrtp_msg m = { .type = initiator ? ZRTP_MSG_DHPART2
						: ZRTP_MSG_DHPART1 };
	struct zrtp_dhpart *d = &m.u.dhpart;
	int r;

	if (pv_len == 0 || zrtp_ka_public(st->ka, pv, pv_len) < 0)
		return -EINVAL;
	memcpy(d->h1, st->h[1], 32);
	if ((r = secret_id(st, c->rs1, have && c->has_rs1, initiator,
			   d->rs1_id)) < 0 ||
	    (r = secret_id(st, c->rs2, have && c->has_rs2, initiator,
			   d->rs2_id)) < 0 ||
	    (r = rng(st, d->aux_id, 8)) < 0 || (r = rng(st, d->pbx_id, 8)) < 0)
		return r < 0 ? r : -EIO;
	d->pv = pv;
	d->pv_len = pv_len;
	if ((r = encode_into(&st->dhpart, &m)) < 0)
		return r;
	return mac8(ZRTP_HASH_S256, st->h[0], 32, st->dhpart.buf,
		    st->dhpart.len - 8, st->dhpart.buf + st->dhpart.len - 8);
}

/* Confirm1 (responder) or Confirm2 (initiator), §5.7. */
static int build_confirm(struct zrtp_stream *st, bool initiator)
{
	struct zrtp_confirm_body b = {
		.v = st->s->cache_found && st->s->cached.verified &&
		     st->rs_match,
		.cache_expiry = st->s->cfg.cache_ttl,
	};
	uint8_t plain[ZRTP_CONFIRM_BODY_LEN];
	struct zrtp_msg m = { .type = initiator ? ZRTP_MSG_CONFIRM2
						: ZRTP_MSG_CONFIRM1 };
	int r;

	memcpy(b.h0, st->h[0], 32);
	if ((r = zrtp_confirm_body_encode(plain, sizeof plain, &b)) < 0)
		return r;
	if ((r = rng(st, m.u.confirm.iv, 16)) < 0)
		return r;
	const uint8_t *zkey = initiator ? st->zrtpkey_i : st->zrtpkey_r;
	const uint8_t *mkey = initiator ? st->mackey_i : st->mackey_r;
	if ((r = zrtp_cfb_encrypt(st->algos.cipher, zkey, m.u.confirm.iv, plain,
				  sizeof plain)) < 0)
		goto out;
	m.u.confirm.enc = plain;
	m.u.confirm.enc_len = sizeof plain;
	if ((r = encode_into(&st->confirm, &m)) < 0)
		goto out;
	/* confirm_mac covers the encrypted part only (§5.7). */
	r = mac8(st->algos.hash, mkey, st->hash_len,
		 st->confirm.buf + ZRTP_CONFIRM_ENC_OFF,
		 st->confirm.len - ZRTP_CONFIRM_ENC_OFF,
		 st->confirm.buf + ZRTP_CONFIRM_MAC_OFF);
out:
	zrtp_wipe(plain, sizeof plain);
	return r;
}

/* ------------------------------------------------------------------ */
/* key derivation, §4.4 and §4.5                                        */

static void set_kdf_context(struct zrtp_stream *st, const uint8_t *total_hash)
{
	const uint8_t *ours = st->s->cfg.zid, *theirs = st->s->peer_zid;
	bool init = st->role == ZRTP_ROLE_INITIATOR;
	memcpy(st->kdf_ctx, init ? ours : theirs, 12);
	memcpy(st->kdf_ctx + 12, init ? theirs : ours, 12);
	memcpy(st->kdf_ctx + 24, total_hash, st->hash_len);
	st->kdf_ctx_len = 24 + st->hash_len;
}

static int kdf(struct zrtp_stream *st, const uint8_t *ki, const char *label,
	       size_t bytes, uint8_t *out)
{
	return zrtp_kdf(st->algos.hash, ki, st->hash_len, label, st->kdf_ctx,
			st->kdf_ctx_len, bytes * 8, out);
}

/* total_hash over the messages of the handshake in their wire order. */
static int total_hash(struct zrtp_stream *st, uint8_t *out)
{
	bool init = st->role == ZRTP_ROLE_INITIATOR;
	const struct stored *hello_r = init ? &st->peer_hello_raw : &st->hello;
	const struct stored *commit = init ? &st->commit : &st->peer_commit_raw;
	const struct stored *dh1 = init ? &st->peer_dhpart_raw : &st->dhpart;
	const struct stored *dh2 = init ? &st->dhpart : &st->peer_dhpart_raw;
	struct zrtp_iov v[4] = {
		{ hello_r->buf, hello_r->len }, { commit->buf, commit->len },
		{ dh1->buf, dh1->len }, { dh2->buf, dh2->len },
	};
	return zrtp_hash(st->algos.hash, v, st->mult ? 2 : 4, out);
}

/*
 * No secret matched although we read some for this peer. Separate calls
 * between the same two ZIDs run their DH handshakes at once (Multistream,
 * §4.4.3, joins streams of one call only), each read the cache when it
 * began and each rotates it (§4.6.1) when it ends, in an order that
 * differs between the two sides: the peer may have read a newer secret
 * than ours, or an older one ours has replaced meanwhile, or none yet
 * while our first one with it is seconds old. That is no sign of anyone
 * in the middle, and the peer proves it only by naming (rsID, §4.3.1) a
 * secret we hold or just let go of (cache_recent): then no mismatch is
 * reported. The secret is not used (the peer cannot know we hold it), so
 * the call has no continuity and is not "verified": its SAS must be
 * compared, and nothing of the cache changes but the new secret's merge.
 * A peer that names nothing we know is a mismatch, as before, unless our
 * very first secret with it is that recent.
 */
static bool concurrent_rotation(struct zrtp_stream *st,
				const struct zrtp_dhpart *peer)
{
	struct zrtp_session *s = st->s;
	uint8_t known[ZRTP_RECENT_MAX][32];
	bool young = false, named = false, init = st->role == ZRTP_ROLE_INITIATOR;
	if (!s->cb.cache_recent)
		return false;
	size_t n = s->cb.cache_recent(s->arg, s->peer_zid, known, &young);
	if (n > ZRTP_RECENT_MAX)
		n = ZRTP_RECENT_MAX;
	const char *label = init ? "Responder" : "Initiator";
	for (size_t i = 0; i < n && !named; i++) {
		uint8_t id[8];
		if (mac8(st->algos.hash, known[i], 32, (const uint8_t *)label,
			 strlen(label), id) < 0)
			continue;
		named = zrtp_ct_equal(id, peer->rs1_id, 8) ||
			zrtp_ct_equal(id, peer->rs2_id, 8);
	}
	zrtp_wipe(known, sizeof known);
	return named || young;
}

/*
 * Which retained secret both sides share (§4.3.1). Both sides test the
 * same (initiator secret, responder secret) pairs in the same order, so
 * they pick the same value even when several IDs match.
 */
static void match_secrets(struct zrtp_stream *st, const struct zrtp_dhpart *peer,
			  uint8_t s1[32], bool *have_s1)
{
	const struct zrtp_retained *c = &st->s->cached;
	bool init = st->role == ZRTP_ROLE_INITIATOR;
	const uint8_t *mine[2] = { c->rs1, c->rs2 };
	bool have[2] = { st->s->cache_found && c->has_rs1,
			 st->s->cache_found && c->has_rs2 };
	const uint8_t *theirs[2] = { peer->rs1_id, peer->rs2_id };

	*have_s1 = false;
	for (int a = 0; a < 2 && !*have_s1; a++) {      /* initiator's rsA */
		for (int b = 0; b < 2 && !*have_s1; b++) { /* responder's rsB */
			int my = init ? a : b, their = init ? b : a;
			uint8_t id[8];
			if (!have[my])
				continue;
			/* The peer's ID for its rs is MAC(rs, its role). */
			const char *label = init ? "Responder" : "Initiator";
			if (mac8(st->algos.hash, mine[my], 32,
				 (const uint8_t *)label, strlen(label), id) < 0)
				continue;
			if (zrtp_ct_equal(id, theirs[their], 8)) {
				memcpy(s1, mine[my], 32);
				*have_s1 = true;
				st->s1_gen = my == 0 ? c->rs1_gen : c->rs2_gen;
			}
		}
	}
	st->rs_match = *have_s1;
	/* §4.6.1.1: we hold a secret for this peer, yet nothing matches. */
	st->rs_concurrent = (have[0] || have[1]) && !*have_s1 &&
			    concurrent_rotation(st, peer);
	st->cache_mismatch = (have[0] || have[1]) && !*have_s1 &&
			     !st->rs_concurrent;
}

/* The keys of §4.5.3 from s0, for both roles. */
static int derive_keys(struct zrtp_stream *st)
{
	size_t kl = zrtp_cipher_key_len(st->algos.cipher);
	int r;
	if ((r = kdf(st, st->s0, "Initiator HMAC key", st->hash_len,
		     st->mackey_i)) < 0 ||
	    (r = kdf(st, st->s0, "Responder HMAC key", st->hash_len,
		     st->mackey_r)) < 0 ||
	    (r = kdf(st, st->s0, "Initiator ZRTP key", kl, st->zrtpkey_i)) < 0 ||
	    (r = kdf(st, st->s0, "Responder ZRTP key", kl, st->zrtpkey_r)) < 0)
		return r;
	return 0;
}

/* DH mode s0 (§4.4.1.4). */
static int derive_dh(struct zrtp_stream *st, const struct zrtp_dhpart *peer)
{
	uint8_t result[ZRTP_MAX_DH_RESULT], th[ZRTP_MAX_HASH_LEN], s1[32];
	size_t rlen = zrtp_ka_result_len(st->algos.ka);
	uint8_t counter[4], len_s1[4], zero[4] = { 0 };
	bool have_s1;
	int r;

	r = zrtp_ka_derive(st->ka, peer->pv, peer->pv_len, result, sizeof result);
	if (r < 0)
		return -ZRTP_FAIL_BAD_PV;
	if ((r = total_hash(st, th)) < 0)
		goto out;
	set_kdf_context(st, th);
	match_secrets(st, peer, s1, &have_s1);
	put32(counter, 1);
	put32(len_s1, have_s1 ? 32 : 0);
	const char *label = "ZRTP-HMAC-KDF";
	struct zrtp_iov v[] = {
		{ counter, 4 }, { result, rlen }, { label, strlen(label) },
		{ st->kdf_ctx, st->kdf_ctx_len },       /* ZIDi ZIDr total_hash */
		{ len_s1, 4 }, { s1, have_s1 ? 32 : 0 },
		{ zero, 4 },                            /* s2: no auxsecret */
		{ zero, 4 },                            /* s3: no pbxsecret */
	};
	if ((r = zrtp_hash(st->algos.hash, v, sizeof v / sizeof v[0], st->s0)) < 0)
		goto out;
	r = derive_keys(st);
out:
	zrtp_wipe(result, sizeof result);
	zrtp_wipe(s1, sizeof s1);
	zrtp_ka_free(st->ka);
	st->ka = NULL;
	return r < 0 ? -ZRTP_FAIL_INTERNAL : 0;
}

/* Multistream s0 from ZRTPSess (§4.4.3.2). */
static int derive_mult(struct zrtp_stream *st)
{
	uint8_t th[ZRTP_MAX_HASH_LEN];
	if (total_hash(st, th) < 0)
		return -ZRTP_FAIL_INTERNAL;
	set_kdf_context(st, th);
	if (kdf(st, st->s->sess_key, "ZRTP MSK", st->hash_len, st->s0) < 0 ||
	    derive_keys(st) < 0)
		return -ZRTP_FAIL_INTERNAL;
	return 0;
}

/* The DH stream's peer is authenticated: keep ZRTPSess and the SAS. */
static int session_keys(struct zrtp_stream *st)
{
	struct zrtp_session *s = st->s;
	uint8_t sashash[32];
	int r;

	if (st->mult) {
		memcpy(st->sas, s->sas, sizeof st->sas);
		return 0;
	}
	if ((r = kdf(st, st->s0, "SAS", 32, sashash)) < 0 ||
	    (r = zrtp_sas_render(st->algos.sas, sashash, st->sas,
				 sizeof st->sas)) < 0)
		return r;
	zrtp_wipe(sashash, sizeof sashash);
	if ((r = kdf(st, st->s0, "retained secret", 32, st->new_rs1)) < 0)
		return r;
	if (!s->have_sess_key) {
		if ((r = kdf(st, st->s0, "ZRTP Session Key", st->hash_len,
			     s->sess_key)) < 0)
			return r;
		s->have_sess_key = true;
		s->sess_algos = st->algos;
		memcpy(s->sas, st->sas, sizeof s->sas);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the cache                                                           */

static void cache_lookup(struct zrtp_session *s)
{
	if (s->have_cache)
		return;
	s->have_cache = true;
	s->cache_found = s->cb.cache_get &&
			 s->cb.cache_get(s->arg, s->peer_zid, &s->cached) == 0;
	if (!s->cache_found)
		memset(&s->cached, 0, sizeof s->cached);
}

static uint32_t min_ttl(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* §4.6.1: rs2 <- rs1, rs1 <- the new secret, as the cache applies it to
 * what it holds by now (ZRTP_PUT_NEW, or ZRTP_PUT_REPLACE after the user
 * vouched for a call with a mismatch). rs2 here is what a cache that just
 * stores would keep. */
static void cache_commit_new_rs(struct zrtp_stream *st, bool verified,
				enum zrtp_retained_put put)
{
	struct zrtp_session *s = st->s;
	struct zrtp_retained n = {
		.verified = verified, .put = put,
		.rs1_gen = st->rs_match ? st->s1_gen + 1 : 0,
	};
	if (s->cache_found && s->cached.has_rs1) {
		memcpy(n.rs2, s->cached.rs1, 32);
		n.has_rs2 = true;
		n.rs2_gen = s->cached.rs1_gen;
	}
	memcpy(n.rs1, st->new_rs1, 32);
	n.has_rs1 = true;
	n.ttl = min_ttl(s->cfg.cache_ttl, st->peer_cache_expiry);
	if (s->cb.cache_put && s->cb.cache_put(s->arg, s->peer_zid, &n) == 0) {
		s->cached = n;
		s->cache_found = true;
	}
	zrtp_wipe(&n, sizeof n);
}

static void cache_update(struct zrtp_stream *st)
{
	struct zrtp_session *s = st->s;
	if (st->mult || !s->cb.cache_put)
		return;
	if (st->cache_mismatch) {
		/* §4.6.1.1: report, clear the flag, keep the old secrets until
		 * the user confirms the SAS (zrtp_stream_set_verified). */
		struct zrtp_retained keep = s->cached;
		keep.verified = false;
		keep.ttl = 0;   /* flag only: the stored expiry stands */
		keep.put = ZRTP_PUT_FLAGS;
		if (s->cb.cache_put(s->arg, s->peer_zid, &keep) == 0)
			s->cached.verified = false;
		zrtp_wipe(&keep, sizeof keep);
		st->pending_rs = true;
		return;
	}
	if (min_ttl(s->cfg.cache_ttl, st->peer_cache_expiry) == 0)
		return;   /* either side asked not to keep a secret */
	/* A call that lost continuity to a concurrent one leaves the flag as
	 * the cache has it; only a mismatch clears it (§4.6.1.1). */
	cache_commit_new_rs(st, (st->rs_match || st->rs_concurrent) &&
				s->cached.verified, ZRTP_PUT_NEW);
}

/* ------------------------------------------------------------------ */
/* reaching SECURE                                                     */

static void wake_other_streams(struct zrtp_stream *st, uint64_t now);

/* The SRTP master keys and salts of §4.5.3, arranged for our role. */
static int srtp_keys(struct zrtp_stream *st, struct zrtp_srtp_keys *keys)
{
	size_t kl = zrtp_cipher_key_len(st->algos.cipher);
	bool init = st->role == ZRTP_ROLE_INITIATOR;
	uint8_t ki[ZRTP_MAX_KEY_LEN], si[ZRTP_SALT_LEN];
	uint8_t kr[ZRTP_MAX_KEY_LEN], sr[ZRTP_SALT_LEN];
	int r;

	memset(keys, 0, sizeof *keys);
	keys->cipher = st->algos.cipher;
	keys->auth = st->algos.auth;
	keys->key_len = kl;
	if ((r = kdf(st, st->s0, "Initiator SRTP master key", kl, ki)) == 0 &&
	    (r = kdf(st, st->s0, "Initiator SRTP master salt", ZRTP_SALT_LEN,
		     si)) == 0 &&
	    (r = kdf(st, st->s0, "Responder SRTP master key", kl, kr)) == 0 &&
	    (r = kdf(st, st->s0, "Responder SRTP master salt", ZRTP_SALT_LEN,
		     sr)) == 0) {
		memcpy(keys->local_key, init ? ki : kr, kl);
		memcpy(keys->local_salt, init ? si : sr, ZRTP_SALT_LEN);
		memcpy(keys->remote_key, init ? kr : ki, kl);
		memcpy(keys->remote_salt, init ? sr : si, ZRTP_SALT_LEN);
	}
	zrtp_wipe(ki, sizeof ki);
	zrtp_wipe(kr, sizeof kr);
	zrtp_wipe(si, sizeof si);
	zrtp_wipe(sr, sizeof sr);
	return r;
}

/*
 * Into SECURE (§4.6, §4.6.1): from WAIT_CONFIRM2 after Confirm2, or from
 * WAIT_CONF2ACK after Conf2ACK or the peer's first SRTP. Stops the timer,
 * updates the cache, hands the SRTP keys out, then lets streams waiting in
 * DISCOVERY commit (Multistream). Sends nothing; only a failed key
 * derivation goes to FAILED instead, without an Error.
 */
static void go_secure(struct zrtp_stream *st, uint64_t now)
{
	struct zrtp_session *s = st->s;
	struct zrtp_srtp_keys keys;

	timer_stop(st);
	if (srtp_keys(st, &keys) < 0) {
		zrtp_wipe(&keys, sizeof keys);
		fail(st, ZRTP_FAIL_INTERNAL, 0);
		return;
	}
	if (st->cache_mismatch) {
		struct zrtp_event ev = { .type = ZRTP_EV_CACHE_MISMATCH };
		emit(st, &ev);
	}
	cache_update(st);
	st->state = ZRTP_ST_SECURE;
	bool verified = st->mult ? s->sas_verified
				 : (st->rs_match && s->cached.verified &&
				    st->peer_v);
	if (!st->mult)
		s->sas_verified = verified;
	struct zrtp_event ev = {
		.type = ZRTP_EV_SECURE, .keys = &keys, .sas = st->sas,
		.verified = verified, .rs1_match = st->rs_match,
	};
	emit(st, &ev);
	zrtp_wipe(&keys, sizeof keys);
	if (!st->pending_rs)
		zrtp_wipe(st->new_rs1, sizeof st->new_rs1);
	zrtp_wipe(st->s0, sizeof st->s0);
	zrtp_wipe(st->zrtpkey_i, sizeof st->zrtpkey_i);
	zrtp_wipe(st->zrtpkey_r, sizeof st->zrtpkey_r);
	/* What SECURE no longer answers or checks (top of this file). */
	stored_free(&st->commit);
	stored_free(&st->dhpart);
	stored_free(&st->confirm);
	stored_free(&st->peer_commit_raw);
	stored_free(&st->peer_dhpart_raw);
	wake_other_streams(st, now);
}

/* ------------------------------------------------------------------ */
/* the initiator's Commit                                              */

static bool peer_offers_mult(const struct zrtp_stream *st)
{
	return zrtp_hello_offers(&st->peer_hello, ZRTP_KIND_KA, ZRTP_KA_MULT);
}


static uint32_t negotiate_error(enum zrtp_algo_kind k)
{
	switch (k) {
	case ZRTP_KIND_HASH: return ERR_HASH;
	case ZRTP_KIND_CIPHER: return ERR_CIPHER;
	case ZRTP_KIND_AUTH: return ERR_AUTH;
	case ZRTP_KIND_KA: return ERR_KA;
	default: return ERR_SAS;
	}
}

/*
 * Our Commit (§4.1, §4.2, §5.4): from DISCOVERY once the peer's Hello is
 * in and ours was acknowledged, never when passive; a later stream whose
 * peer offers Mult waits for ZRTPSess (woken when the DH stream is
 * secure) unless the DH stream failed. To COMMIT_SENT, the Commit stored
 * and repeated on T2. No common algorithm: FAILED with Error 0x51-0x55,
 * the code of the missing kind.
 */
static int maybe_commit(struct zrtp_stream *st, uint64_t now)
{
	struct zrtp_session *s = st->s;
	struct zrtp_msg m = { .type = ZRTP_MSG_COMMIT };
	struct zrtp_commit *c = &m.u.commit;
	int r;

	if (st->state != ZRTP_ST_DISCOVERY || !st->have_peer_hello ||
	    !st->hello_acked || s->cfg.passive)
		return 0;
	bool mult_ok = peer_offers_mult(st) && s->cfg.multistream;
	if (st != s->dh_stream && mult_ok && !s->have_sess_key &&
	    s->dh_stream && s->dh_stream->state != ZRTP_ST_FAILED)
		return 0;   /* wait for the DH stream, then go Multistream */

	st->role = ZRTP_ROLE_INITIATOR;
	if (mult_ok && s->have_sess_key) {
		st->mult = true;
		st->algos = s->sess_algos;
		st->algos.ka = ZRTP_KA_MULT;
	} else {
		enum zrtp_algo_kind bad;
		if (zrtp_negotiate(&s->cfg.prefs, &st->peer_hello, &st->algos,
				   &bad) < 0)
			return fail(st, ZRTP_FAIL_NO_ALGO, negotiate_error(bad));
	}
	st->hash_len = zrtp_hash_len(st->algos.hash);

	memcpy(c->h2, st->h[2], 32);
	memcpy(c->zid, s->cfg.zid, 12);
	c->hash = st->algos.hash;
	c->cipher = st->algos.cipher;
	c->auth = st->algos.auth;
	c->ka = st->algos.ka;
	c->sas = st->algos.sas;
	if (st->mult) {
		if (rng(st, c->nonce, 16) < 0)
			return fail(st, ZRTP_FAIL_INTERNAL, 0);
		memset(st->commit_key, 0, sizeof st->commit_key);
		memcpy(st->commit_key, c->nonce, 16);
	} else {
		/* The DHPart2 we will send is fixed now: hvi commits to it
		 * (§4.4.1.1): hvi = hash(DHPart2 || responder's Hello). */
		uint8_t secret[64], hvi[ZRTP_MAX_HASH_LEN];
		size_t sl = zrtp_ka_secret_len(st->algos.ka);
		if (sl == 0 || sl > sizeof secret || rng(st, secret, sl) < 0 ||
		    zrtp_ka_new(st->algos.ka, secret, sl, &st->ka) < 0) {
			zrtp_wipe(secret, sizeof secret);
			return fail(st, ZRTP_FAIL_INTERNAL, 0);
		}
		zrtp_wipe(secret, sizeof secret);
		if (build_dhpart(st, true) < 0)
			return fail(st, ZRTP_FAIL_INTERNAL, 0);
		struct zrtp_iov v[2] = {
			{ st->dhpart.buf, st->dhpart.len },
			{ st->peer_hello_raw.buf, st->peer_hello_raw.len },
		};
		if (zrtp_hash(st->algos.hash, v, 2, hvi) < 0)
			return fail(st, ZRTP_FAIL_INTERNAL, 0);
		memcpy(c->hvi, hvi, 32);
		memcpy(st->commit_key, hvi, 32);
	}
	if ((r = encode_into(&st->commit, &m)) < 0 ||
	    (r = mac8(ZRTP_HASH_S256, st->h[1], 32, st->commit.buf,
		      st->commit.len - 8, st->commit.buf + st->commit.len - 8)) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	st->state = ZRTP_ST_COMMIT_SENT;
	send_stored(st, &st->commit);
	timer_start(st, &st->commit, T2_BASE, T2_CAP, T2_MAX, now);
	return 0;
}

static void wake_other_streams(struct zrtp_stream *st, uint64_t now)
{
	for (struct zrtp_stream *o = st->s->streams; o; o = o->next)
		if (o != st && o->state == ZRTP_ST_DISCOVERY)
			(void)maybe_commit(o, now);
}

/* ------------------------------------------------------------------ */
/* one function per received message                                   */

static bool version_ok(uint32_t v)
{
	/* "1.1x": we speak 1.10 (§4.1.1); an older peer cannot talk to us. */
	return (v >> 8) == (ZRTP_VERSION_110 >> 8);
}

/*
 * Hello (§4.1, §5.2): any state but IDLE; in FAILED only after NO_PEER,
 * which returns to DISCOVERY and restarts our Hello on T1. The first is
 * checked (version: Error 0x30; our own ZID: 0x90; a ZID other than the
 * session's peer's, or not the a=zrtp-hash: no Error) and stored; it and
 * every copy get the stored HelloACK, a changed Hello is dropped. May go
 * on to COMMIT_SENT (maybe_commit).
 */
static int on_hello(struct zrtp_stream *st, const struct zrtp_msg *m,
		    uint64_t now)
{
	struct zrtp_session *s = st->s;
	const struct zrtp_hello *h = &m->u.hello;

	if (st->have_peer_hello) {
		if (!stored_equal(&st->peer_hello_raw, m->msg, m->msg_len))
			return -ZRTP_FAIL_UNEXPECTED;  /* Hello may not change */
		send_stored(st, &st->helloack);
		return 0;
	}
	if (!version_ok(h->version))
		return fail(st, ZRTP_FAIL_VERSION, ERR_VERSION);
	if (memcmp(h->zid, s->cfg.zid, 12) == 0)
		return fail(st, ZRTP_FAIL_SAME_ZID, ERR_EQUAL_ZID);
	if (s->have_peer_zid && memcmp(h->zid, s->peer_zid, 12) != 0)
		return fail(st, ZRTP_FAIL_ZID_MISMATCH, 0);
	if (st->peer_hash_set) {
		uint8_t hh[32];
		if (sha256(m->msg, m->msg_len, hh) < 0 ||
		    !zrtp_ct_equal(hh, st->peer_hello_hash, 32)) {
			struct zrtp_event ev = { .type = ZRTP_EV_HELLO_HASH_MISMATCH };
			emit(st, &ev);
			return fail(st, ZRTP_FAIL_HELLO_HASH, 0);
		}
	}
	if (store(&st->peer_hello_raw, m->msg, m->msg_len) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	st->peer_hello = *h;
	st->have_peer_hello = true;
	if (!s->have_peer_zid) {
		memcpy(s->peer_zid, h->zid, 12);
		s->have_peer_zid = true;
	}
	cache_lookup(s);
	if (st->state == ZRTP_ST_FAILED) {
		/* A late peer after NO_PEER: discovery starts over. */
		st->state = ZRTP_ST_DISCOVERY;
		st->fail = ZRTP_FAIL_NONE;
		send_stored(st, &st->hello);
		timer_start(st, &st->hello, T1_BASE, T1_CAP, T1_MAX, now);
	}
	send_stored(st, &st->helloack);
	struct zrtp_event ev = { .type = ZRTP_EV_PEER_HELLO };
	emit(st, &ev);
	return maybe_commit(st, now);
}

/*
 * HelloACK (§4.1, §5.3): DISCOVERY only. The first stops our Hello's T1
 * timer; any may go on to COMMIT_SENT (maybe_commit). Sends nothing.
 */
static int on_helloack(struct zrtp_stream *st, uint64_t now)
{
	if (st->state != ZRTP_ST_DISCOVERY)
		return -ZRTP_FAIL_UNEXPECTED;
	if (!st->hello_acked) {
		st->hello_acked = true;
		timer_stop(st);
	}
	return maybe_commit(st, now);
}

/* Commit contention (§4.2): true if the peer's Commit wins. */
static bool peer_commit_wins(const struct zrtp_stream *st,
			     const struct zrtp_commit *pc)
{
	bool peer_dh = pc->ka != ZRTP_KA_MULT && pc->ka != ZRTP_KA_PRSH;
	bool our_dh = !st->mult;
	if (peer_dh != our_dh)
		return peer_dh;   /* the DH Commit proceeds */
	const uint8_t *theirs = peer_dh ? pc->hvi : pc->nonce;
	size_t n = peer_dh ? 32 : 16;
	return memcmp(st->commit_key, theirs, n) < 0;  /* lower one yields */
}

/* Did our Hello offer, explicitly or implicitly, what the Commit chose? */
static bool commit_algos_offered(const struct zrtp_stream *st,
				 const struct zrtp_commit *c, uint32_t *err)
{
	const struct { enum zrtp_algo_kind k; uint32_t name, err; } want[] = {
		{ ZRTP_KIND_HASH, c->hash, ERR_HASH },
		{ ZRTP_KIND_CIPHER, c->cipher, ERR_CIPHER },
		{ ZRTP_KIND_AUTH, c->auth, ERR_AUTH },
		{ ZRTP_KIND_KA, c->ka, ERR_KA },
		{ ZRTP_KIND_SAS, c->sas, ERR_SAS },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (!zrtp_hello_offers(&st->our_hello, want[i].k, want[i].name) ||
		    (want[i].name != ZRTP_KA_MULT &&
		     !zrtp_algo_supported(want[i].k, want[i].name))) {
			*err = want[i].err;
			return false;
		}
	}
	return true;
}

/*
 * The peer's Commit makes us responder (§4.2, §4.4.1, §4.4.3): from
 * DISCOVERY, or COMMIT_SENT when it wins; it also acknowledges our Hello.
 * DH: WAIT_DHPART2 sending DHPart1; Mult: WAIT_CONFIRM2 sending Confirm1;
 * stored, not timed (the initiator repeats). Wrong H2 or Hello MAC, a ZID
 * switch: FAILED, no Error; Preshared: 0x56; an algorithm we did not
 * offer: 0x51-0x55; EC38 without S384: 0x51. Mult before we hold
 * ZRTPSess, or with another hash: dropped.
 */
static int become_responder(struct zrtp_stream *st, const struct zrtp_msg *m)
{
	struct zrtp_session *s = st->s;
	const struct zrtp_commit *c = &m->u.commit;
	uint8_t h3[32];
	uint32_t err;

	/* §9: H2 from the Commit must hash to the Hello's H3, and unlock the
	 * Hello's MAC. */
	if (sha256(c->h2, 32, h3) < 0 || !zrtp_ct_equal(h3, st->peer_hello.h3, 32))
		return fail(st, ZRTP_FAIL_HASH_CHAIN, 0);
	if (!stored_mac_ok(&st->peer_hello_raw, c->h2))
		return fail(st, ZRTP_FAIL_HELLO_MAC, 0);
	if (memcmp(c->zid, st->peer_hello.zid, 12) != 0)
		return fail(st, ZRTP_FAIL_ZID_MISMATCH, 0);
	if (c->ka == ZRTP_KA_PRSH)
		return fail(st, ZRTP_FAIL_ALGO_NOT_OFFERED, ERR_NO_SECRET);
	if (!commit_algos_offered(st, c, &err))
		return fail(st, ZRTP_FAIL_ALGO_NOT_OFFERED, err);
	/* EC38 with a 256-bit hash is no combination we offer (§5.1.5). */
	struct zrtp_algos chosen = { c->hash, c->cipher, c->auth, c->ka, c->sas };
	if (!zrtp_algos_coupled_ok(&chosen))
		return fail(st, ZRTP_FAIL_ALGO_NOT_OFFERED, ERR_HASH);
	if (c->ka == ZRTP_KA_MULT &&
	    (!s->have_sess_key || c->hash != s->sess_algos.hash))
		return -ZRTP_FAIL_UNEXPECTED;  /* DH stream not done: resent */

	timer_stop(st);
	if (st->ka) {
		zrtp_ka_free(st->ka);
		st->ka = NULL;
	}
	if (store(&st->peer_commit_raw, m->msg, m->msg_len) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	st->peer_commit = *c;
	st->role = ZRTP_ROLE_RESPONDER;
	st->algos = (struct zrtp_algos){ c->hash, c->cipher, c->auth, c->ka,
					 c->sas };
	st->hash_len = zrtp_hash_len(c->hash);
	st->mult = c->ka == ZRTP_KA_MULT;
	st->hello_acked = true;   /* a Commit acknowledges our Hello */

	if (st->mult) {
		if (derive_mult(st) < 0 || build_confirm(st, false) < 0)
			return fail(st, ZRTP_FAIL_INTERNAL, 0);
		st->state = ZRTP_ST_WAIT_CONFIRM2;
		send_stored(st, &st->confirm);
		return 0;
	}
	uint8_t secret[64];
	size_t sl = zrtp_ka_secret_len(c->ka);
	if (sl == 0 || sl > sizeof secret || rng(st, secret, sl) < 0 ||
	    zrtp_ka_new(c->ka, secret, sl, &st->ka) < 0 ||
	    build_dhpart(st, false) < 0) {
		zrtp_wipe(secret, sizeof secret);
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	}
	zrtp_wipe(secret, sizeof secret);
	st->state = ZRTP_ST_WAIT_DHPART2;
	send_stored(st, &st->dhpart);
	return 0;
}

/*
 * Commit (§4.2, §5.4): dropped until the peer's Hello is in. DISCOVERY:
 * we respond. COMMIT_SENT: contention, the loser yields (ours winning,
 * the peer's is ignored). WAIT_DHPART2 / WAIT_CONFIRM2: a byte-equal
 * copy gets our stored DHPart1 (Mult: Confirm1) again, nothing computed.
 */
static int on_commit(struct zrtp_stream *st, const struct zrtp_msg *m)
{
	if (!st->have_peer_hello)
		return -ZRTP_FAIL_UNEXPECTED;  /* cannot check it yet: resent */
	switch (st->state) {
	case ZRTP_ST_DISCOVERY:
		return become_responder(st, m);
	case ZRTP_ST_COMMIT_SENT:
		if (!peer_commit_wins(st, &m->u.commit))
			return 0;   /* ours proceeds; the peer yields */
		return become_responder(st, m);
	case ZRTP_ST_WAIT_DHPART2:
	case ZRTP_ST_WAIT_CONFIRM2:
		if (st->role == ZRTP_ROLE_RESPONDER &&
		    stored_equal(&st->peer_commit_raw, m->msg, m->msg_len)) {
			/* Our answer was lost: repeat it, compute nothing. */
			send_stored(st, st->mult ? &st->confirm : &st->dhpart);
			return 0;
		}
		return -ZRTP_FAIL_UNEXPECTED;
	default:
		return -ZRTP_FAIL_UNEXPECTED;
	}
}

/*
 * DHPart1 at the initiator (§4.4.1, §5.5): COMMIT_SENT, DH mode only.
 * Stored, DH computed, to WAIT_CONFIRM1 sending the DHPart2 fixed when we
 * committed (stored, T2 replaces the Commit's timer); later copies are
 * dropped. Wrong H1 or Hello MAC: FAILED, no Error; a bad public value:
 * 0x61. Its own MAC waits for the H0 in Confirm1.
 */
static int on_dhpart1(struct zrtp_stream *st, const struct zrtp_msg *m,
		      uint64_t now)
{
	const struct zrtp_dhpart *d = &m->u.dhpart;
	uint8_t h2[32], h3[32];

	if (st->state != ZRTP_ST_COMMIT_SENT || st->mult)
		return -ZRTP_FAIL_UNEXPECTED;
	/* The initiator never saw the responder's Commit: H1 must hash
	 * twice to the Hello's H3, and H2 unlocks the Hello MAC. */
	if (sha256(d->h1, 32, h2) < 0 || sha256(h2, 32, h3) < 0 ||
	    !zrtp_ct_equal(h3, st->peer_hello.h3, 32))
		return fail(st, ZRTP_FAIL_HASH_CHAIN, 0);
	if (!stored_mac_ok(&st->peer_hello_raw, h2))
		return fail(st, ZRTP_FAIL_HELLO_MAC, 0);
	if (d->pv_len != zrtp_ka_pv_len(st->algos.ka))
		return fail(st, ZRTP_FAIL_BAD_PV, ERR_BAD_PV);
	if (store(&st->peer_dhpart_raw, m->msg, m->msg_len) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	memcpy(st->peer_h1, d->h1, 32);
	int r = derive_dh(st, d);
	if (r == -ZRTP_FAIL_BAD_PV)
		return fail(st, ZRTP_FAIL_BAD_PV, ERR_BAD_PV);
	if (r < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	st->state = ZRTP_ST_WAIT_CONFIRM1;
	send_stored(st, &st->dhpart);
	timer_start(st, &st->dhpart, T2_BASE, T2_CAP, T2_MAX, now);
	return 0;
}

/*
 * DHPart2 at the responder (§4.4.1, §4.4.1.1, §5.6): WAIT_DHPART2, to
 * WAIT_CONFIRM2 sending Confirm1 (stored, not timed); in WAIT_CONFIRM2 a
 * byte-equal copy gets that Confirm1 again. Wrong H1 or Commit MAC:
 * FAILED, no Error; hvi: 0x62; a bad public value: 0x61.
 */
static int on_dhpart2(struct zrtp_stream *st, const struct zrtp_msg *m)
{
	const struct zrtp_dhpart *d = &m->u.dhpart;
	uint8_t h2[32], hvi[ZRTP_MAX_HASH_LEN];

	if (st->state == ZRTP_ST_WAIT_CONFIRM2 && !st->mult &&
	    stored_equal(&st->peer_dhpart_raw, m->msg, m->msg_len)) {
		send_stored(st, &st->confirm);
		return 0;
	}
	if (st->state != ZRTP_ST_WAIT_DHPART2)
		return -ZRTP_FAIL_UNEXPECTED;
	if (sha256(d->h1, 32, h2) < 0 ||
	    !zrtp_ct_equal(h2, st->peer_commit.h2, 32))
		return fail(st, ZRTP_FAIL_HASH_CHAIN, 0);
	/* hvi binds the Commit to this DHPart2 and our Hello: without this
	 * check a MiTM can steer the SAS (CVE-2016-6271). */
	struct zrtp_iov v[2] = { { m->msg, m->msg_len },
				 { st->hello.buf, st->hello.len } };
	if (zrtp_hash(st->algos.hash, v, 2, hvi) < 0 ||
	    !zrtp_ct_equal(hvi, st->peer_commit.hvi, 32))
		return fail(st, ZRTP_FAIL_HVI, ERR_HVI);
	if (!stored_mac_ok(&st->peer_commit_raw, d->h1))
		return fail(st, ZRTP_FAIL_COMMIT_MAC, 0);
	if (d->pv_len != zrtp_ka_pv_len(st->algos.ka))
		return fail(st, ZRTP_FAIL_BAD_PV, ERR_BAD_PV);
	if (store(&st->peer_dhpart_raw, m->msg, m->msg_len) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	memcpy(st->peer_h1, d->h1, 32);
	int r = derive_dh(st, d);
	if (r == -ZRTP_FAIL_BAD_PV)
		return fail(st, ZRTP_FAIL_BAD_PV, ERR_BAD_PV);
	if (r < 0 || build_confirm(st, false) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	st->state = ZRTP_ST_WAIT_CONFIRM2;
	send_stored(st, &st->confirm);
	return 0;
}

/*
 * Authenticate and decrypt a peer Confirm with the peer role's keys, then
 * check the H0 it reveals against the hash chain (§5.7, §9). Failures end
 * the stream: confirm_mac with Error 0x70, a body that does not parse with
 * 0x10, H0 or the MAC it opens with no Error.
 */
static int check_confirm(struct zrtp_stream *st, const struct zrtp_msg *m,
			 bool from_initiator)
{
	const struct zrtp_confirm *c = &m->u.confirm;
	const uint8_t *mkey = from_initiator ? st->mackey_i : st->mackey_r;
	const uint8_t *zkey = from_initiator ? st->zrtpkey_i : st->zrtpkey_r;
	uint8_t mac[8], plain[ZRTP_MAX_MSG_LEN];
	struct zrtp_confirm_body b;
	uint8_t h1[32], h2[32], h3[32];

	if (mac8(st->algos.hash, mkey, st->hash_len, c->enc, c->enc_len, mac) < 0 ||
	    !zrtp_ct_equal(mac, c->mac, 8))
		return fail(st, ZRTP_FAIL_CONFIRM_MAC, ERR_CONFIRM_MAC);
	memcpy(plain, c->enc, c->enc_len);
	int r = zrtp_cfb_decrypt(st->algos.cipher, zkey, c->iv, plain,
				 c->enc_len);
	if (r == 0)
		r = zrtp_confirm_body_parse(plain, c->enc_len, &b);
	zrtp_wipe(plain, sizeof plain);
	if (r < 0)
		return fail(st, ZRTP_FAIL_CONFIRM_MAC, ERR_MALFORMED);
	if (sha256(b.h0, 32, h1) < 0 || sha256(h1, 32, h2) < 0 ||
	    sha256(h2, 32, h3) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);

	if (!st->mult) {
		/* H0 opens the MAC of the peer's DHPart. */
		if (!zrtp_ct_equal(h1, st->peer_h1, 32))
			return fail(st, ZRTP_FAIL_HASH_CHAIN, 0);
		if (!stored_mac_ok(&st->peer_dhpart_raw, b.h0))
			return fail(st, ZRTP_FAIL_DHPART_MAC, 0);
	} else if (from_initiator) {
		/* Multistream responder: H0 -> H1 opens the Commit's MAC. */
		if (!zrtp_ct_equal(h2, st->peer_commit.h2, 32))
			return fail(st, ZRTP_FAIL_HASH_CHAIN, 0);
		if (!stored_mac_ok(&st->peer_commit_raw, h1))
			return fail(st, ZRTP_FAIL_COMMIT_MAC, 0);
	} else {
		/* Multistream initiator: H0 -> H3 and H2 opens the Hello MAC. */
		if (!zrtp_ct_equal(h3, st->peer_hello.h3, 32))
			return fail(st, ZRTP_FAIL_HASH_CHAIN, 0);
		if (!stored_mac_ok(&st->peer_hello_raw, h2))
			return fail(st, ZRTP_FAIL_HELLO_MAC, 0);
	}
	st->peer_v = b.v;
	st->peer_cache_expiry = b.cache_expiry;
	return 0;
}

/*
 * Confirm1 at the initiator (§4.6, §5.7): WAIT_CONFIRM1, or COMMIT_SENT
 * in Mult. To WAIT_CONF2ACK sending Confirm2 (stored, T2) and handing out
 * the receive keys; in WAIT_CONF2ACK any Confirm1 is ignored, as the timer
 * repeats Confirm2. Failures: check_confirm.
 */
static int on_confirm1(struct zrtp_stream *st, const struct zrtp_msg *m,
		       uint64_t now)
{
	int r;
	if (st->role != ZRTP_ROLE_INITIATOR)
		return -ZRTP_FAIL_UNEXPECTED;
	if (st->state == ZRTP_ST_WAIT_CONF2ACK)
		return 0;   /* a repeat: our Confirm2 is on its timer */
	if (st->mult && st->state == ZRTP_ST_COMMIT_SENT) {
		if (derive_mult(st) < 0)
			return fail(st, ZRTP_FAIL_INTERNAL, 0);
	} else if (st->state != ZRTP_ST_WAIT_CONFIRM1) {
		return -ZRTP_FAIL_UNEXPECTED;
	}
	if ((r = check_confirm(st, m, false)) < 0)
		return r;
	if (session_keys(st) < 0 || build_confirm(st, true) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	st->state = ZRTP_ST_WAIT_CONF2ACK;
	send_stored(st, &st->confirm);
	timer_start(st, &st->confirm, T2_BASE, T2_CAP, T2_MAX, now);
	/* The responder may send SRTP as soon as it has our Confirm2: hand
	 * out the keys to recognise it (an implicit Conf2ACK). */
	struct zrtp_srtp_keys keys;
	if (srtp_keys(st, &keys) == 0) {
		memset(keys.local_key, 0, sizeof keys.local_key);
		memset(keys.local_salt, 0, sizeof keys.local_salt);
		struct zrtp_event ev = { .type = ZRTP_EV_RECV_KEYS, .keys = &keys };
		emit(st, &ev);
	}
	zrtp_wipe(&keys, sizeof keys);
	return 0;
}

/*
 * Confirm2 at the responder (§4.6, §5.7, §5.8): WAIT_CONFIRM2. Stored,
 * answered with the fixed Conf2ACK (not timed), then SECURE; in SECURE a
 * byte-equal copy gets Conf2ACK again. Failures: check_confirm.
 */
static int on_confirm2(struct zrtp_stream *st, const struct zrtp_msg *m,
		       uint64_t now)
{
	int r;
	if (st->role != ZRTP_ROLE_RESPONDER)
		return -ZRTP_FAIL_UNEXPECTED;
	if (st->state == ZRTP_ST_SECURE) {
		if (!stored_equal(&st->peer_confirm_raw, m->msg, m->msg_len))
			return -ZRTP_FAIL_UNEXPECTED;
		send_stored(st, &st->conf2ack);   /* our Conf2ACK was lost */
		return 0;
	}
	if (st->state != ZRTP_ST_WAIT_CONFIRM2)
		return -ZRTP_FAIL_UNEXPECTED;
	if ((r = check_confirm(st, m, true)) < 0)
		return r;
	if (store(&st->peer_confirm_raw, m->msg, m->msg_len) < 0 ||
	    session_keys(st) < 0)
		return fail(st, ZRTP_FAIL_INTERNAL, 0);
	send_stored(st, &st->conf2ack);
	go_secure(st, now);
	return 0;
}

/*
 * Conf2ACK (§4.6, §5.8): WAIT_CONF2ACK to SECURE, which stops the
 * Confirm2 timer; a copy in SECURE is dropped. Sends nothing.
 */
static int on_conf2ack(struct zrtp_stream *st, uint64_t now)
{
	if (st->state != ZRTP_ST_WAIT_CONF2ACK)
		return -ZRTP_FAIL_UNEXPECTED;
	go_secure(st, now);
	return 0;
}

/*
 * Error (§4.7.1, §5.9, §5.10): every state but IDLE; each copy gets an
 * ErrorACK built on the spot. In the handshake it ends the stream
 * (PEER_ERROR, the peer's code in the event, no Error back); in SECURE
 * and FAILED it changes nothing.
 */
static int on_error(struct zrtp_stream *st, const struct zrtp_msg *m)
{
	struct zrtp_msg ack = { .type = ZRTP_MSG_ERRORACK };
	send_unstored(st, &ack);
	/* An unauthenticated Error cannot tear down a secure stream. */
	if (st->state == ZRTP_ST_SECURE || st->state == ZRTP_ST_FAILED)
		return -ZRTP_FAIL_UNEXPECTED;
	timer_stop(st);
	wipe_keys(st);
	st->state = ZRTP_ST_FAILED;
	st->fail = ZRTP_FAIL_PEER_ERROR;
	struct zrtp_event ev = { .type = ZRTP_EV_FAILED,
				 .reason = ZRTP_FAIL_PEER_ERROR,
				 .error_code = m->u.error_code };
	emit(st, &ev);
	return -ZRTP_FAIL_PEER_ERROR;
}

/* GoClear (§4.7.2, §5.11): SECURE only; we never allow clear media. A
 * GoClear that proves it comes from the peer (clear_mac) gets Error 0x100,
 * built on the spot, and an event; the stream stays SECURE. Others are
 * dropped. */
static int on_goclear(struct zrtp_stream *st, const struct zrtp_msg *m)
{
	uint8_t mac[8];
	const uint8_t *key = st->role == ZRTP_ROLE_INITIATOR ? st->mackey_r
							     : st->mackey_i;
	if (st->state != ZRTP_ST_SECURE)
		return -ZRTP_FAIL_UNEXPECTED;
	if (mac8(st->algos.hash, key, st->hash_len, (const uint8_t *)"GoClear ",
		 8, mac) < 0 || !zrtp_ct_equal(mac, m->u.clear_mac, 8))
		return -ZRTP_FAIL_UNEXPECTED;
	struct zrtp_msg e = { .type = ZRTP_MSG_ERROR, .u.error_code = ERR_GOCLEAR };
	send_unstored(st, &e);
	struct zrtp_event ev = { .type = ZRTP_EV_GOCLEAR_REFUSED,
				 .error_code = ERR_GOCLEAR };
	emit(st, &ev);
	return 0;
}

/* SASrelay (§5.13, §5.14): SECURE only, stays SECURE. We trust no MiTM,
 * so the relayed SAS is never shown (nor its MAC checked); a RelayACK
 * built on the spot stops the peer's retransmissions. */
static int on_sasrelay(struct zrtp_stream *st)
{
	if (st->state != ZRTP_ST_SECURE)
		return -ZRTP_FAIL_UNEXPECTED;
	struct zrtp_msg ack = { .type = ZRTP_MSG_RELAYACK };
	send_unstored(st, &ack);
	struct zrtp_event ev = { .type = ZRTP_EV_SASRELAY_IGNORED };
	emit(st, &ev);
	return 0;
}

/* Ping (§5.15, §5.16): every state but IDLE and FAILED (zrtp_stream_input
 * does not pass it on there), no change; a PingACK with our endpoint hash
 * is built for each. */
static int on_ping(struct zrtp_stream *st, const struct zrtp_msg *m)
{
	struct zrtp_msg a = { .type = ZRTP_MSG_PINGACK };
	uint8_t in[16], hash[32];
	memcpy(in, st->s->cfg.zid, 12);
	put32(in + 12, st->ssrc);
	if (sha256(in, sizeof in, hash) < 0)
		return -ZRTP_FAIL_INTERNAL;
	a.u.pingack.version = ZRTP_VERSION_110;
	memcpy(a.u.pingack.sender_hash, hash, 8);
	memcpy(a.u.pingack.received_hash, m->u.ping.endpoint_hash, 8);
	a.u.pingack.ssrc = m->ssrc;
	send_unstored(st, &a);
	return 0;
}

/* ------------------------------------------------------------------ */
/* public API                                                          */

int zrtp_stream_input(struct zrtp_stream *st, const uint8_t *pkt, size_t len,
		      uint64_t now, int *parse_err)
{
	struct zrtp_msg m;
	int r = zrtp_packet_parse(pkt, len, &m);

	if (parse_err)
		*parse_err = r < 0 ? -r : 0;
	if (r < 0)
		return -ZRTP_FAIL_MALFORMED;
	if (st->state == ZRTP_ST_IDLE)
		return -ZRTP_FAIL_UNEXPECTED;
	if (st->state == ZRTP_ST_FAILED) {
		if (m.type == ZRTP_MSG_HELLO && st->fail == ZRTP_FAIL_NO_PEER)
			return on_hello(st, &m, now);
		if (m.type == ZRTP_MSG_ERROR)
			return on_error(st, &m);
		if (m.type != ZRTP_MSG_ERRORACK && st->error.len)
			send_stored(st, &st->error);   /* it may have been lost */
		return -ZRTP_FAIL_UNEXPECTED;
	}
	switch (m.type) {
	case ZRTP_MSG_HELLO: return on_hello(st, &m, now);
	case ZRTP_MSG_HELLOACK: return on_helloack(st, now);
	case ZRTP_MSG_COMMIT: return on_commit(st, &m);
	case ZRTP_MSG_DHPART1: return on_dhpart1(st, &m, now);
	case ZRTP_MSG_DHPART2: return on_dhpart2(st, &m);
	case ZRTP_MSG_CONFIRM1: return on_confirm1(st, &m, now);
	case ZRTP_MSG_CONFIRM2: return on_confirm2(st, &m, now);
	case ZRTP_MSG_CONF2ACK: return on_conf2ack(st, now);
	case ZRTP_MSG_ERROR: return on_error(st, &m);
	case ZRTP_MSG_GOCLEAR: return on_goclear(st, &m);
	case ZRTP_MSG_SASRELAY: return on_sasrelay(st);
	case ZRTP_MSG_PING: return on_ping(st, &m);
	default:
		return -ZRTP_FAIL_UNEXPECTED;   /* ErrorACK, ClearACK, ... */
	}
}

/* The implicit Conf2ACK (§4.6): WAIT_CONF2ACK to SECURE; SECURE stays. */
int zrtp_stream_srtp_received(struct zrtp_stream *st, uint64_t now)
{
	if (st->state == ZRTP_ST_WAIT_CONF2ACK)
		go_secure(st, now);
	else if (st->state != ZRTP_ST_SECURE)
		return -EINVAL;
	return 0;
}

/*
 * Retransmission (§6): the one timed message (Hello on T1; Commit, DHPart2
 * or Confirm2 on T2) is re-sent from its store, the interval doubling up
 * to the cap. Budget spent: FAILED, no Error; NO_PEER if no Hello was
 * ever heard, else TIMEOUT. Past its Commit the responder has no timer:
 * it only answers.
 */
void zrtp_stream_tick(struct zrtp_stream *st, uint64_t now)
{
	if (!st->rtx || now < st->deadline)
		return;
	if (st->rtx_left == 0) {
		/* Hello unanswered and no Hello heard: nobody speaks ZRTP. */
		bool silent = st->rtx == &st->hello && !st->have_peer_hello;
		fail(st, silent ? ZRTP_FAIL_NO_PEER : ZRTP_FAIL_TIMEOUT, 0);
		return;
	}
	st->rtx_left--;
	send_stored(st, st->rtx);
	st->rtx_interval *= 2;
	if (st->rtx_interval > st->rtx_cap)
		st->rtx_interval = st->rtx_cap;
	st->deadline = now + st->rtx_interval;
}

uint64_t zrtp_stream_deadline(const struct zrtp_stream *st)
{
	return st->rtx ? st->deadline : ZRTP_NO_DEADLINE;
}

/* Discovery (§4.1): IDLE to DISCOVERY, our stored Hello sent on T1. */
int zrtp_stream_start(struct zrtp_stream *st, uint64_t now)
{
	if (st->state != ZRTP_ST_IDLE)
		return -EALREADY;
	st->state = ZRTP_ST_DISCOVERY;
	send_stored(st, &st->hello);
	timer_start(st, &st->hello, T1_BASE, T1_CAP, T1_MAX, now);
	return 0;
}

void zrtp_config_default(struct zrtp_config *cfg, const uint8_t zid[12])
{
	memset(cfg, 0, sizeof *cfg);
	memcpy(cfg->zid, zid, 12);
	/* §5.2: 16 bytes, padded with spaces (cut if the version is long). */
	static const char id[] = "zrtpshim " PACKAGE_VERSION;
	size_t n = sizeof id - 1;
	memset(cfg->client_id, ' ', sizeof cfg->client_id);
	memcpy(cfg->client_id, id,
	       n < sizeof cfg->client_id ? n : sizeof cfg->client_id);
	zrtp_algo_prefs_default(&cfg->prefs);
	cfg->cache_ttl = 0xffffffffu;
	cfg->multistream = true;
}

struct zrtp_session *zrtp_session_new(const struct zrtp_config *cfg,
				      const struct zrtp_callbacks *cb,
				      void *sess_arg)
{
	if (!cfg || !cb || !cb->random)
		return NULL;
	struct zrtp_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->cb = *cb;
	s->arg = sess_arg;
	return s;
}

void zrtp_session_free(struct zrtp_session *s)
{
	if (!s)
		return;
	zrtp_wipe(s, sizeof *s);
	free(s);
}

struct zrtp_stream *zrtp_stream_new(struct zrtp_session *s, uint32_t ssrc,
				    void *stream_arg)
{
	struct zrtp_stream *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->s = s;
	st->arg = stream_arg;
	st->ssrc = ssrc;
	st->state = ZRTP_ST_IDLE;
	st->deadline = ZRTP_NO_DEADLINE;
	/* §9: a fresh hash chain per stream, H0 random. */
	if (s->cb.random(s->arg, st->h[0], 32) < 0 ||
	    s->cb.random(s->arg, (uint8_t *)&st->seq, sizeof st->seq) < 0)
		goto err;
	/* Random, low and non-zero: bzrtp drops every packet after its
	 * sequence number wraps, and refuses a first packet numbered 0. */
	st->seq = (uint16_t)((st->seq & 0x3fff) + 1);
	for (int i = 1; i < 4; i++)
		if (sha256(st->h[i - 1], 32, st->h[i]) < 0)
			goto err;
	if (build_hello(st) < 0)
		goto err;
	struct zrtp_msg ack = { .type = ZRTP_MSG_HELLOACK };
	struct zrtp_msg c2a = { .type = ZRTP_MSG_CONF2ACK };
	if (encode_into(&st->helloack, &ack) < 0 ||
	    encode_into(&st->conf2ack, &c2a) < 0)
		goto err;
	st->next = s->streams;
	s->streams = st;
	if (!s->dh_stream)
		s->dh_stream = st;
	return st;
err:
	stored_free_all(st);
	zrtp_wipe(st, sizeof *st);
	free(st);
	return NULL;
}

void zrtp_stream_free(struct zrtp_stream *st)
{
	if (!st)
		return;
	struct zrtp_session *s = st->s;
	for (struct zrtp_stream **p = &s->streams; *p; p = &(*p)->next)
		if (*p == st) {
			*p = st->next;
			break;
		}
	if (s->dh_stream == st)
		s->dh_stream = NULL;
	wipe_keys(st);
	stored_free_all(st);
	zrtp_wipe(st, sizeof *st);
	free(st);
}

enum zrtp_state zrtp_stream_state(const struct zrtp_stream *st)
{
	return st->state;
}

enum zrtp_role zrtp_stream_role(const struct zrtp_stream *st)
{
	return st->role;
}

enum zrtp_fail zrtp_stream_failure(const struct zrtp_stream *st)
{
	return st->fail;
}

const char *zrtp_stream_sas(const struct zrtp_stream *st)
{
	return st->state == ZRTP_ST_SECURE ? st->sas : "";
}

int zrtp_stream_hello_hash(const struct zrtp_stream *st, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t h[32];
	if (sha256(st->hello.buf, st->hello.len, h) < 0)
		return -EIO;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

/* a=zrtp-hash (§8.1): a mismatch, now or when the Hello comes, moves any
 * state but FAILED (SECURE too) to FAILED with HELLO_HASH_MISMATCH and no
 * Error. */
int zrtp_stream_set_peer_hello_hash(struct zrtp_stream *st, const char *hex,
				    size_t len)
{
	uint8_t h[32];
	size_t n = 0;

	/* No ignore set and no hex_end: 64 hex digits of either case and
	 * nothing else, or sodium_hex2bin fails or stops short of 32. */
	if (!hex || len != 64 ||
	    sodium_hex2bin(h, sizeof h, hex, len, NULL, &n, NULL) != 0 ||
	    n != sizeof h)
		return -EINVAL;
	memcpy(st->peer_hello_hash, h, 32);
	st->peer_hash_set = true;
	if (st->have_peer_hello && st->state != ZRTP_ST_FAILED) {
		uint8_t got[32];
		if (sha256(st->peer_hello_raw.buf, st->peer_hello_raw.len, got) < 0 ||
		    !zrtp_ct_equal(got, h, 32)) {
			struct zrtp_event ev = { .type = ZRTP_EV_HELLO_HASH_MISMATCH };
			emit(st, &ev);
			fail(st, ZRTP_FAIL_HELLO_HASH, 0);
		}
	}
	return 0;
}

int zrtp_stream_set_verified(struct zrtp_stream *st, bool verified)
{
	struct zrtp_session *s = st->s;
	if (st->state != ZRTP_ST_SECURE || st->mult)
		return -EINVAL;
	if (!s->cb.cache_put)
		return -ENOTSUP;
	if (st->pending_rs && verified) {
		/* The user vouched for this call after a mismatch: now the
		 * new secret may replace the old (§4.6.1.1). */
		cache_commit_new_rs(st, true, ZRTP_PUT_REPLACE);
		st->pending_rs = false;
		zrtp_wipe(st->new_rs1, sizeof st->new_rs1);
	} else {
		struct zrtp_retained r = s->cached;
		r.verified = verified;
		r.ttl = 0;
		r.put = ZRTP_PUT_FLAGS;
		int e = s->cb.cache_put(s->arg, s->peer_zid, &r);
		zrtp_wipe(&r, sizeof r);
		if (e < 0)
			return e;
		s->cached.verified = verified;
	}
	s->sas_verified = verified;
	return 0;
}

const char *zrtp_fail_str(enum zrtp_fail f)
{
	switch (f) {
	case ZRTP_FAIL_NONE: return "none";
	case ZRTP_FAIL_MALFORMED: return "malformed packet";
	case ZRTP_FAIL_UNEXPECTED: return "unexpected message";
	case ZRTP_FAIL_TIMEOUT: return "retransmissions exhausted";
	case ZRTP_FAIL_NO_PEER: return "no ZRTP peer (Hello unanswered)";
	case ZRTP_FAIL_VERSION: return "unsupported ZRTP version";
	case ZRTP_FAIL_NO_ALGO: return "no common algorithm";
	case ZRTP_FAIL_ALGO_NOT_OFFERED: return "Commit chose an algorithm we did not offer";
	case ZRTP_FAIL_SAME_ZID: return "peer uses our own ZID";
	case ZRTP_FAIL_ZID_MISMATCH: return "peer ZID changed";
	case ZRTP_FAIL_HASH_CHAIN: return "hash chain preimage mismatch";
	case ZRTP_FAIL_HELLO_MAC: return "bad Hello MAC";
	case ZRTP_FAIL_COMMIT_MAC: return "bad Commit MAC";
	case ZRTP_FAIL_DHPART_MAC: return "bad DHPart MAC";
	case ZRTP_FAIL_CONFIRM_MAC: return "bad Confirm MAC";
	case ZRTP_FAIL_HVI: return "hvi does not match DHPart2";
	case ZRTP_FAIL_BAD_PV: return "bad DH public value";
	case ZRTP_FAIL_HELLO_HASH: return "Hello does not match a=zrtp-hash";
	case ZRTP_FAIL_PEER_ERROR: return "peer sent Error";
	case ZRTP_FAIL_NO_SESSION_KEY: return "Multistream without a session key";
	case ZRTP_FAIL_INTERNAL: return "internal error";
	}
	return "unknown";
}

const char *zrtp_state_str(enum zrtp_state s)
{
	static const char *const names[] = {
		"idle", "discovery", "commit-sent", "wait-dhpart2",
		"wait-confirm1", "wait-confirm2", "wait-conf2ack", "secure",
		"failed",
	};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}
