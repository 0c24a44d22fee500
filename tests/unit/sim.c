/* The two-party simulator; see sim.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "tests/unit/sim.h"

/* splitmix64: the network's own PRNG, independent of the parties'. */
static uint64_t net_next(struct sim *sim)
{
	uint64_t z = (sim->net_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double net_uniform(struct sim *sim)
{
	return (double)(net_next(sim) >> 11) / (double)(1ull << 53);
}

/* Deterministic randomness: each call hashes (seed, counter) into a seed
 * for libsodium's deterministic generator. */
static int sim_random(void *arg, uint8_t *buf, size_t len)
{
	struct sim_party *p = arg;
	uint8_t in[40], seed[randombytes_SEEDBYTES];
	memcpy(in, p->seed, 32);
	memcpy(in + 32, &p->rng_counter, 8);
	p->rng_counter++;
	crypto_generichash(seed, sizeof seed, in, sizeof in, NULL, 0);
	randombytes_buf_deterministic(buf, len, seed);
	return 0;
}

static int sim_cache_find(const struct sim_cache *c, const uint8_t zid[12])
{
	for (int i = 0; i < c->n; i++)
		if (memcmp(c->zid[i], zid, 12) == 0)
			return i;
	return -1;
}

static int sim_cache_get(void *arg, const uint8_t zid[12],
			 struct zrtp_retained *out)
{
	struct sim_party *p = arg;
	if (p->fcache)
		return zrtp_cache_get_retained(p->fcache, zid, p->wall, out);
	int i = p->use_cache ? sim_cache_find(&p->cache, zid) : -1;
	if (i < 0)
		return -ENOENT;
	*out = p->cache.r[i];
	return 0;
}

/* Only with the real table (fcache): the simple one keeps no history. */
static size_t sim_cache_recent(void *arg, const uint8_t zid[12],
			       uint8_t out[ZRTP_RECENT_MAX][32], bool *young)
{
	struct sim_party *p = arg;
	*young = false;
	if (!p->fcache)
		return 0;
	return zrtp_cache_recent_retained(p->fcache, zid, p->wall, out,
					  ZRTP_RECENT_MAX, young);
}

static int sim_cache_put(void *arg, const uint8_t zid[12],
			 const struct zrtp_retained *in)
{
	struct sim_party *p = arg;
	p->cache.puts++;
	if (p->fcache)
		return zrtp_cache_put_retained(p->fcache, zid, p->wall, in);
	if (!p->use_cache)
		return 0;
	int i = sim_cache_find(&p->cache, zid);
	if (i < 0) {
		if (p->cache.n == SIM_CACHE_MAX)
			return -ENOMEM;
		i = p->cache.n++;
		memcpy(p->cache.zid[i], zid, 12);
	}
	p->cache.r[i] = *in;
	return 0;
}

enum zrtp_msg_type sim_pkt_type(const uint8_t *pkt, size_t len)
{
	static const char *const names[ZRTP_MSG_TYPE_COUNT] = {
		[ZRTP_MSG_HELLO] = "Hello   ", [ZRTP_MSG_HELLOACK] = "HelloACK",
		[ZRTP_MSG_COMMIT] = "Commit  ", [ZRTP_MSG_DHPART1] = "DHPart1 ",
		[ZRTP_MSG_DHPART2] = "DHPart2 ", [ZRTP_MSG_CONFIRM1] = "Confirm1",
		[ZRTP_MSG_CONFIRM2] = "Confirm2", [ZRTP_MSG_CONF2ACK] = "Conf2ACK",
		[ZRTP_MSG_ERROR] = "Error   ", [ZRTP_MSG_ERRORACK] = "ErrorACK",
		[ZRTP_MSG_GOCLEAR] = "GoClear ", [ZRTP_MSG_CLEARACK] = "ClearACK",
		[ZRTP_MSG_SASRELAY] = "SASrelay", [ZRTP_MSG_RELAYACK] = "RelayACK",
		[ZRTP_MSG_PING] = "Ping    ", [ZRTP_MSG_PINGACK] = "PingACK ",
	};
	if (len < ZRTP_PKT_HDR_LEN + ZRTP_MSG_HDR_LEN + ZRTP_CRC_LEN)
		return ZRTP_MSG_NONE;
	for (int t = 1; t < ZRTP_MSG_TYPE_COUNT; t++)
		if (memcmp(pkt + ZRTP_PKT_HDR_LEN + 4, names[t], 8) == 0)
			return (enum zrtp_msg_type)t;
	return ZRTP_MSG_NONE;
}

void sim_fix_crc(uint8_t *pkt, size_t len)
{
	uint8_t tmp[ZRTP_MAX_PKT_LEN + 64];
	if (len < ZRTP_PKT_HDR_LEN + ZRTP_CRC_LEN || len > sizeof tmp)
		return;
	uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
	uint32_t ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 |
			(uint32_t)pkt[10] << 8 | pkt[11];
	/* Wrap a copy of the message: the CRC comes out as the codec puts
	 * it, whatever the message now holds. */
	int n = zrtp_packet_wrap(tmp, sizeof tmp, seq, ssrc,
				 pkt + ZRTP_PKT_HDR_LEN,
				 len - ZRTP_PKT_HDR_LEN - ZRTP_CRC_LEN);
	if (n == (int)len)
		memcpy(pkt, tmp, len);
}

static void enqueue(struct sim *sim, int to, int index, const uint8_t *buf,
		    size_t len)
{
	if (sim->nq == SIM_MAX_QUEUE || len > sizeof sim->q[0].buf) {
		sim->overflow++;
		return;
	}
	struct sim_pkt *q = &sim->q[sim->nq++];
	q->media = false;
	uint64_t delay = 10 + net_next(sim) % 10;
	if (sim->reorder > 0 && net_uniform(sim) < sim->reorder)
		delay += net_next(sim) % 80;
	q->at = sim->now + delay;
	q->to = to;
	q->index = index;
	q->len = len;
	memcpy(q->buf, buf, len);
}

static void send_media(struct sim *sim, int from, int index)
{
	if (sim->loss > 0 && net_uniform(sim) < sim->loss)
		return;
	int before = sim->nq;
	enqueue(sim, 1 - from, index, sim->p[from].res[index].keys.local_key,
		ZRTP_MAX_KEY_LEN);
	if (sim->nq > before)
		sim->q[sim->nq - 1].media = true;
}

static int sim_send(void *arg, const uint8_t *pkt, size_t len)
{
	struct sim_stream_ref *ref = arg;
	struct sim *sim = ref->sim;
	struct sim_party *from = &sim->p[ref->party];
	uint8_t buf[ZRTP_MAX_PKT_LEN + 64];
	size_t n = len;

	if (len > sizeof buf)
		return -EMSGSIZE;
	memcpy(buf, pkt, len);
	enum zrtp_msg_type t = sim_pkt_type(buf, n);
	from->sent[t]++;
	if (sim->tamper && !sim->tamper(sim, ref->party, ref->index, buf, &n,
					sizeof buf, sim->tamper_arg))
		return 0;
	if (sim->loss > 0 && net_uniform(sim) < sim->loss)
		return 0;
	enqueue(sim, 1 - ref->party, ref->index, buf, n);
	if (sim->dup > 0 && net_uniform(sim) < sim->dup)
		enqueue(sim, 1 - ref->party, ref->index, buf, n);
	return 0;
}

static void sim_event(void *arg, const struct zrtp_event *ev)
{
	struct sim_stream_ref *ref = arg;
	struct sim_result *r = &ref->sim->p[ref->party].res[ref->index];
	r->role = ev->role;
	switch (ev->type) {
	case ZRTP_EV_RECV_KEYS:
		r->have_recv_key = true;
		memcpy(r->recv_key, ev->keys->remote_key, ZRTP_MAX_KEY_LEN);
		break;
	case ZRTP_EV_SECURE:
		r->have_recv_key = true;
		memcpy(r->recv_key, ev->keys->remote_key, ZRTP_MAX_KEY_LEN);
		r->n_secure++;
		r->algos = ev->algos;
		r->keys = *ev->keys;
		snprintf(r->sas, sizeof r->sas, "%s", ev->sas);
		r->verified = ev->verified;
		r->rs1_match = ev->rs1_match;
		break;
	case ZRTP_EV_FAILED:
		r->n_failed++;
		r->reason = ev->reason;
		r->error_code = ev->error_code;
		break;
	case ZRTP_EV_CACHE_MISMATCH: r->n_mismatch++; break;
	case ZRTP_EV_HELLO_HASH_MISMATCH: r->n_hash_mismatch++; break;
	case ZRTP_EV_GOCLEAR_REFUSED: r->n_goclear++; break;
	case ZRTP_EV_SASRELAY_IGNORED: r->n_sasrelay++; break;
	case ZRTP_EV_PEER_HELLO: break;
	}
}

static const struct zrtp_callbacks sim_callbacks = {
	.random = sim_random,
	.cache_get = sim_cache_get,
	.cache_put = sim_cache_put,
	.cache_recent = sim_cache_recent,
	.send = sim_send,
	.event = sim_event,
};

void sim_init(struct sim *sim, uint64_t seed, int n_streams)
{
	memset(sim, 0, sizeof *sim);
	sim->n_streams = n_streams;
	sim->net_state = seed * 0x2545f4914f6cdd1dull + 1;
	sim->now = 1000;
	for (int i = 0; i < 2; i++) {
		struct sim_party *p = &sim->p[i];
		uint8_t zid[12];
		memset(p->seed, 0, sizeof p->seed);
		memcpy(p->seed, &seed, sizeof seed);
		p->seed[31] = (uint8_t)(i + 1);
		sim_random(p, zid, sizeof zid);
		zrtp_config_default(&p->cfg, zid);
		p->use_cache = true;
	}
}

void sim_create(struct sim *sim)
{
	for (int i = 0; i < 2; i++) {
		struct sim_party *p = &sim->p[i];
		p->sess = zrtp_session_new(&p->cfg, &sim_callbacks, p);
		memset(p->res, 0, sizeof p->res);
		memset(p->sent, 0, sizeof p->sent);
		for (int j = 0; j < sim->n_streams; j++) {
			p->ref[j] = (struct sim_stream_ref){ sim, i, j };
			p->st[j] = p->sess ? zrtp_stream_new(p->sess,
				0x1000u * (unsigned)(i + 1) + (unsigned)j,
				&p->ref[j]) : NULL;
		}
	}
}

void sim_start(struct sim *sim)
{
	for (int j = 0; j < sim->n_streams; j++)
		for (int i = 0; i < 2; i++)
			if (sim->p[i].st[j])
				zrtp_stream_start(sim->p[i].st[j], sim->now);
}

static bool all_done(const struct sim *sim)
{
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < sim->n_streams; j++) {
			enum zrtp_state s = zrtp_stream_state(sim->p[i].st[j]);
			if (s != ZRTP_ST_SECURE && s != ZRTP_ST_FAILED)
				return false;
		}
	return true;
}

uint64_t sim_run(struct sim *sim, uint64_t limit_ms)
{
	uint64_t start = sim->now, end = sim->now + limit_ms;

	while (sim->now < end) {
		uint64_t next = UINT64_MAX;
		for (int k = 0; k < sim->nq; k++)
			if (sim->q[k].at < next)
				next = sim->q[k].at;
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < sim->n_streams; j++) {
				uint64_t d = zrtp_stream_deadline(sim->p[i].st[j]);
				if (d < next)
					next = d;
			}
		bool done = all_done(sim);
		if (sim->media && !done)
			for (int i = 0; i < 2; i++)
				for (int j = 0; j < sim->n_streams; j++)
					if (zrtp_stream_state(sim->p[i].st[j]) ==
						    ZRTP_ST_SECURE &&
					    sim->next_media[i][j] < next)
						next = sim->next_media[i][j];
		if (next == UINT64_MAX || (sim->nq == 0 && done))
			break;
		if (next > end)
			break;
		if (next > sim->now)
			sim->now = next;
		/* Deliver the earliest due packet (one at a time: delivery
		 * may enqueue more). */
		int best = -1;
		for (int k = 0; k < sim->nq; k++)
			if (sim->q[k].at <= sim->now &&
			    (best < 0 || sim->q[k].at < sim->q[best].at))
				best = k;
		if (best >= 0) {
			struct sim_pkt pk = sim->q[best];
			sim->q[best] = sim->q[--sim->nq];
			struct sim_party *p = &sim->p[pk.to];
			if (pk.media) {
				struct sim_result *r = &p->res[pk.index];
				enum zrtp_state before = zrtp_stream_state(p->st[pk.index]);
				if (r->have_recv_key &&
				    memcmp(r->recv_key, pk.buf, ZRTP_MAX_KEY_LEN) == 0 &&
				    zrtp_stream_srtp_received(p->st[pk.index], sim->now) == 0 &&
				    before != ZRTP_ST_SECURE)
					r->implicit_acks++;
				continue;
			}
			int perr = 0;
			int r = zrtp_stream_input(p->st[pk.index], pk.buf, pk.len,
						  sim->now, &perr);
			p->last_input = r;
			p->last_parse_err = perr;
			if (perr > 0 && perr < 16)
				p->perr[perr]++;
			if (r < 0)
				p->n_rejected++;
			continue;
		}
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < sim->n_streams; j++) {
				zrtp_stream_tick(sim->p[i].st[j], sim->now);
				if (sim->media && !done &&
				    zrtp_stream_state(sim->p[i].st[j]) == ZRTP_ST_SECURE &&
				    sim->next_media[i][j] <= sim->now) {
					sim->next_media[i][j] = sim->now + 20;
					send_media(sim, i, j);
				}
			}
	}
	return sim->now - start;
}

void sim_destroy(struct sim *sim)
{
	for (int i = 0; i < 2; i++) {
		struct sim_party *p = &sim->p[i];
		for (int j = 0; j < sim->n_streams; j++) {
			zrtp_stream_free(p->st[j]);
			p->st[j] = NULL;
		}
		zrtp_session_free(p->sess);
		p->sess = NULL;
	}
	sim->nq = 0;
}

bool sim_stream_agrees(const struct sim *sim, int i)
{
	const struct sim_result *a = &sim->p[0].res[i], *b = &sim->p[1].res[i];
	if (a->n_secure != 1 || b->n_secure != 1 || a->n_failed || b->n_failed)
		return false;
	if (a->sas[0] == '\0' || strcmp(a->sas, b->sas) != 0)
		return false;
	if (a->role == b->role || a->role == ZRTP_ROLE_NONE)
		return false;
	size_t kl = a->keys.key_len;
	if (kl == 0 || kl != b->keys.key_len)
		return false;
	if (memcmp(a->keys.local_key, b->keys.remote_key, kl) != 0 ||
	    memcmp(a->keys.remote_key, b->keys.local_key, kl) != 0 ||
	    memcmp(a->keys.local_salt, b->keys.remote_salt, ZRTP_SALT_LEN) != 0 ||
	    memcmp(a->keys.remote_salt, b->keys.local_salt, ZRTP_SALT_LEN) != 0)
		return false;
	/* The two directions must not share a key. */
	if (memcmp(a->keys.local_key, a->keys.remote_key, kl) == 0)
		return false;
	return memcmp(&a->algos, &b->algos, sizeof a->algos) == 0;
}

void sim_prefs_single(struct zrtp_algo_prefs *p, uint32_t hash,
		      uint32_t cipher, uint32_t auth, uint32_t ka, uint32_t sas,
		      bool mult)
{
	memset(p, 0, sizeof *p);
	p->n[ZRTP_KIND_HASH] = 1;
	p->list[ZRTP_KIND_HASH][0] = hash;
	p->n[ZRTP_KIND_CIPHER] = 1;
	p->list[ZRTP_KIND_CIPHER][0] = cipher;
	p->n[ZRTP_KIND_AUTH] = 1;
	p->list[ZRTP_KIND_AUTH][0] = auth;
	p->n[ZRTP_KIND_KA] = 1;
	p->list[ZRTP_KIND_KA][0] = ka;
	if (mult) {
		p->n[ZRTP_KIND_KA] = 2;
		p->list[ZRTP_KIND_KA][1] = ZRTP_KA_MULT;
	}
	p->n[ZRTP_KIND_SAS] = 1;
	p->list[ZRTP_KIND_SAS][0] = sas;
}
