/*
 * The libbzrtp endpoint and the in-memory network of the interop test and
 * the handshake benchmark. See bzrtp_peer.h.
 *
 * Written against the installed <bzrtp/bzrtp.h> (Debian libbzrtp-dev
 * 5.1.64). How bzrtp behaves, from its 5.1.64 sources:
 *  - Cacheless: with no bzrtp_setZIDCache call, bzrtp_initBzrtpContext
 *    draws a random ZID and the cache functions return
 *    BZRTP_ZIDCACHE_RUNTIME_CACHELESS (src/zidCache.c). With a cache, the
 *    ZID is the one stored for selfURI, and bzrtp_setZIDCache returns
 *    BZRTP_CACHE_SETUP when it created the tables.
 *  - The Hello is built in bzrtp_initBzrtpContext (bzrtp_initChannelContext),
 *    so bzrtp_setSupportedCryptoTypes must come before it.
 *  - bzrtp sends its first Hello at the first bzrtp_iterate after
 *    bzrtp_startChannelEngine (state_discovery_init arms the timer at 0).
 *  - bzrtp sends Commit only after a HelloACK (state_discovery_init ->
 *    waitingForHello -> Hello, or waitingForHelloAck -> HelloACK); a Commit
 *    from the peer in waitingForHelloAck makes it responder
 *    (bzrtp_turnIntoResponder). It ignores the peer's P (passive) flag.
 *  - Incoming packets must have a sequence number strictly above the last
 *    accepted one (bzrtp_packetCheck, BZRTP_PARSER_ERROR_OUTOFORDER), and
 *    the peer's sequence number starts at 0, so a first packet with
 *    sequence number 0 is refused.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bzrtp/bzrtp.h>

#include "tests/interop/bzrtp_peer.h"

#define W4(s) (((uint32_t)(uint8_t)(s)[0] << 24) | ((uint32_t)(uint8_t)(s)[1] << 16) | \
	       ((uint32_t)(uint8_t)(s)[2] << 8) | (uint32_t)(uint8_t)(s)[3])

/* --- the in-memory network ------------------------------------------------ */

void pkt_queue_init(struct pkt_queue *q)
{
	q->head = 0;
	q->count = 0;
	q->overflow = 0;
}

int pkt_queue_push(struct pkt_queue *q, const uint8_t *pkt, size_t len)
{
	if (len > PKT_QUEUE_MTU) {
		q->overflow++;
		return -EMSGSIZE;
	}
	if (q->count == PKT_QUEUE_CAP) {
		q->overflow++;
		return -ENOSPC;
	}
	size_t i = (q->head + q->count) % PKT_QUEUE_CAP;
	memcpy(q->buf[i], pkt, len);
	q->len[i] = len;
	q->count++;
	return 0;
}

size_t pkt_queue_pop(struct pkt_queue *q, uint8_t out[PKT_QUEUE_MTU])
{
	if (q->count == 0)
		return 0;
	size_t len = q->len[q->head];
	memcpy(out, q->buf[q->head], len);
	q->head = (q->head + 1) % PKT_QUEUE_CAP;
	q->count--;
	return len;
}

/* Packet header (12) + preamble and length (4): the type block is next. */
#define TYPE_OFF 16

const char *pkt_msg_type(const uint8_t *pkt, size_t len, char buf[9])
{
	if (len < TYPE_OFF + 8) {
		strcpy(buf, "?");
		return buf;
	}
	for (int i = 0; i < 8; i++) {
		uint8_t c = pkt[TYPE_OFF + i];
		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	}
	buf[8] = '\0';
	return buf;
}

enum pkt_kind pkt_kind_of(const uint8_t *pkt, size_t len)
{
	static const char *const names[] = {
		[PKT_HELLO] = "Hello   ", [PKT_HELLOACK] = "HelloACK",
		[PKT_COMMIT] = "Commit  ", [PKT_DHPART1] = "DHPart1 ",
		[PKT_DHPART2] = "DHPart2 ", [PKT_CONFIRM1] = "Confirm1",
		[PKT_CONFIRM2] = "Confirm2", [PKT_CONF2ACK] = "Conf2ACK",
		[PKT_ERROR] = "Error   ",
	};
	if (len < TYPE_OFF + 8)
		return PKT_OTHER;
	for (int k = 0; k < PKT_OTHER; k++)
		if (memcmp(pkt + TYPE_OFF, names[k], 8) == 0)
			return (enum pkt_kind)k;
	return PKT_OTHER;
}

static int trace_level(void)
{
	static int level = -1;
	if (level < 0) {
		const char *s = getenv("INTEROP_TRACE");
		level = s ? atoi(s) : 0;
	}
	return level;
}

void interop_run_init(struct interop_run *run)
{
	memset(run, 0, sizeof(*run));
	run->step_ms = 10;
	run->limit_ms = 30000;
}

static void trace_packet(const struct interop_run *run, const char *from,
			 const char *to, const uint8_t *pkt, size_t len,
			 bool dropped, int rc)
{
	int level = trace_level();
	if (level <= 0)
		return;
	char t[9];
	unsigned seq = len >= 4 ? (unsigned)(pkt[2] << 8 | pkt[3]) : 0;
	if (dropped)
		fprintf(stderr, "[%6llu ms] %s -> %s  %s seq=%u len=%zu  DROPPED\n",
			(unsigned long long)run->now, from, to,
			pkt_msg_type(pkt, len, t), seq, len);
	else
		fprintf(stderr, "[%6llu ms] %s -> %s  %s seq=%u len=%zu  rc=%d (0x%x)\n",
			(unsigned long long)run->now, from, to,
			pkt_msg_type(pkt, len, t), seq, len, rc, (unsigned)rc);
	if (level >= 2) {
		for (size_t i = 0; i < len; i++)
			fprintf(stderr, "%s%02x", i % 32 == 0 ? "    " : "",
				pkt[i]);
		fprintf(stderr, "\n");
	}
}

/* Move everything queued, one packet from each side in turn. */
static void deliver_all(struct interop_run *run, struct interop_party *p[2])
{
	static uint8_t pkt[PKT_QUEUE_MTU];
	/* A bound against two engines answering each other forever. */
	for (int n = 0; n < 4 * PKT_QUEUE_CAP; n++) {
		bool moved = false;
		for (int from = 0; from < 2; from++) {
			size_t len = pkt_queue_pop(p[from]->out, pkt);
			if (len == 0)
				continue;
			moved = true;
			enum pkt_kind k = pkt_kind_of(pkt, len);
			run->sent[from][k]++;
			if (run->filter &&
			    !run->filter(run->filter_arg, from, pkt, len)) {
				run->dropped[from][k]++;
				trace_packet(run, p[from]->name, p[!from]->name,
					     pkt, len, true, 0);
				continue;
			}
			int rc = p[!from]->input(p[!from]->arg, pkt, len,
						 run->now);
			if (rc != 0)
				run->refused[!from]++;
			trace_packet(run, p[from]->name, p[!from]->name, pkt,
				     len, false, rc);
		}
		if (!moved)
			return;
	}
}

int interop_exchange(struct interop_run *run, struct interop_party *a,
		     struct interop_party *b)
{
	struct interop_party *p[2] = {a, b};
	uint64_t start = run->now;
	bool done = false;

	for (;;) {
		a->tick(a->arg, run->now);
		b->tick(b->arg, run->now);
		deliver_all(run, p);
		if (!done && a->finished(a->arg) && b->finished(b->arg)) {
			done = true;
			run->finished_at = run->now;
		}
		if (done && run->now - run->finished_at >= run->settle_ms)
			return 0;
		if (run->now - start >= run->limit_ms)
			return done ? 0 : -ETIMEDOUT;
		run->now += run->step_ms;
	}
}

/* --- algorithm names ------------------------------------------------------ */

struct algo_map {
	const char *wire;
	uint8_t id;
	uint8_t type;
};

static const struct algo_map algos[] = {
	{"S256", ZRTP_HASH_S256, ZRTP_HASH_TYPE},
	{"S384", ZRTP_HASH_S384, ZRTP_HASH_TYPE},
	{"N256", ZRTP_HASH_N256, ZRTP_HASH_TYPE},
	{"N384", ZRTP_HASH_N384, ZRTP_HASH_TYPE},
	{"AES1", ZRTP_CIPHER_AES1, ZRTP_CIPHERBLOCK_TYPE},
	{"AES2", ZRTP_CIPHER_AES2, ZRTP_CIPHERBLOCK_TYPE},
	{"AES3", ZRTP_CIPHER_AES3, ZRTP_CIPHERBLOCK_TYPE},
	{"2FS1", ZRTP_CIPHER_2FS1, ZRTP_CIPHERBLOCK_TYPE},
	{"2FS2", ZRTP_CIPHER_2FS2, ZRTP_CIPHERBLOCK_TYPE},
	{"2FS3", ZRTP_CIPHER_2FS3, ZRTP_CIPHERBLOCK_TYPE},
	{"HS32", ZRTP_AUTHTAG_HS32, ZRTP_AUTHTAG_TYPE},
	{"HS80", ZRTP_AUTHTAG_HS80, ZRTP_AUTHTAG_TYPE},
	{"SK32", ZRTP_AUTHTAG_SK32, ZRTP_AUTHTAG_TYPE},
	{"SK64", ZRTP_AUTHTAG_SK64, ZRTP_AUTHTAG_TYPE},
	{"DH2k", ZRTP_KEYAGREEMENT_DH2k, ZRTP_KEYAGREEMENT_TYPE},
	{"X255", ZRTP_KEYAGREEMENT_X255, ZRTP_KEYAGREEMENT_TYPE},
	{"EC25", ZRTP_KEYAGREEMENT_EC25, ZRTP_KEYAGREEMENT_TYPE},
	{"X448", ZRTP_KEYAGREEMENT_X448, ZRTP_KEYAGREEMENT_TYPE},
	{"DH3k", ZRTP_KEYAGREEMENT_DH3k, ZRTP_KEYAGREEMENT_TYPE},
	{"EC38", ZRTP_KEYAGREEMENT_EC38, ZRTP_KEYAGREEMENT_TYPE},
	{"EC52", ZRTP_KEYAGREEMENT_EC52, ZRTP_KEYAGREEMENT_TYPE},
	{"Prsh", ZRTP_KEYAGREEMENT_Prsh, ZRTP_KEYAGREEMENT_TYPE},
	{"Mult", ZRTP_KEYAGREEMENT_Mult, ZRTP_KEYAGREEMENT_TYPE},
	{"B32 ", ZRTP_SAS_B32, ZRTP_SAS_TYPE},
	{"B256", ZRTP_SAS_B256, ZRTP_SAS_TYPE},
};

static int bz_id(uint8_t type, uint32_t wire)
{
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		if (algos[i].type == type && W4(algos[i].wire) == wire)
			return algos[i].id;
	return -1;
}

static uint32_t wire_of(uint8_t id)
{
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++)
		if (algos[i].id == id)
			return W4(algos[i].wire);
	return 0;
}

static int bz_type_of_kind(const char *kind)
{
	if (strcmp(kind, "hash") == 0)
		return ZRTP_HASH_TYPE;
	if (strcmp(kind, "cipher") == 0)
		return ZRTP_CIPHERBLOCK_TYPE;
	if (strcmp(kind, "auth") == 0)
		return ZRTP_AUTHTAG_TYPE;
	if (strcmp(kind, "ka") == 0)
		return ZRTP_KEYAGREEMENT_TYPE;
	if (strcmp(kind, "sas") == 0)
		return ZRTP_SAS_TYPE;
	return -1;
}

const char *bzrtp_peer_err_str(int code)
{
	/* Public codes from bzrtp.h; the others from bzrtp's private
	 * packetParser.h, cryptoUtils.h and stateMachine.h (5.1.64). */
	switch (code) {
	case 0: return "ok";
	case 0x0002: return "BZRTP_ERROR_CONTEXTNOTREADY";
	case 0x0004: return "BZRTP_ERROR_INVALIDCONTEXT";
	case 0x0008: return "BZRTP_ERROR_MULTICHANNELNOTSUPPORTEDBYPEER";
	case 0x0080: return "BZRTP_ERROR_HELLOHASH_MISMATCH";
	case 0xa001: return "BZRTP_PARSER_ERROR_INVALIDCRC";
	case 0xa002: return "BZRTP_PARSER_ERROR_INVALIDPACKET";
	case 0xa004: return "BZRTP_PARSER_ERROR_OUTOFORDER";
	case 0xa008: return "BZRTP_PARSER_ERROR_INVALIDMESSAGE";
	case 0xa010: return "BZRTP_PARSER_ERROR_INVALIDCONTEXT";
	case 0xa020: return "BZRTP_PARSER_ERROR_UNMATCHINGCONFIRMMAC";
	case 0xa040: return "BZRTP_PARSER_ERROR_UNMATCHINGSSRC";
	case 0xa080: return "BZRTP_PARSER_ERROR_UNMATCHINGHASHCHAIN";
	case 0xa100: return "BZRTP_PARSER_ERROR_UNMATCHINGMAC";
	case 0xa200: return "BZRTP_PARSER_ERROR_UNEXPECTEDMESSAGE";
	case 0xa400: return "BZRTP_PARSER_ERROR_UNMATCHINGHVI";
	case 0x1001: return "ZRTP_CRYPTOAGREEMENT_INVALIDCONTEXT";
	case 0x1002: return "ZRTP_CRYPTOAGREEMENT_INVALIDMESSAGE";
	case 0x1004: return "ZRTP_CRYPTOAGREEMENT_NOCOMMONALGOFOUND";
	case 0x1005: return "ZRTP_CRYPTOAGREEMENT_INVALIDCIPHER";
	case 0x1006: return "ZRTP_CRYPTOAGREEMENT_INVALIDHASH";
	case 0x1007: return "ZRTP_CRYPTOAGREEMENT_INVALIDAUTHTAG";
	case 0x1008: return "ZRTP_CRYPTOAGREEMENT_INVALIDSAS";
	case 0xe001: return "BZRTP_ERROR_UNSUPPORTEDZRTPVERSION";
	case 0xe002: return "BZRTP_ERROR_UNMATCHINGPACKETREPETITION";
	default: return "?";
	}
}

/* --- the bzrtp endpoint --------------------------------------------------- */

struct bzrtp_cache {
	void *db;                       /* sqlite3 * */
	int (*close)(void *db);
};

struct bzrtp_cache *bzrtp_cache_new(void)
{
	int (*open_db)(const char *name, void **db);
	struct bzrtp_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*(void **)&open_db = dlsym(RTLD_DEFAULT, "sqlite3_open");
	*(void **)&c->close = dlsym(RTLD_DEFAULT, "sqlite3_close");
	if (!open_db || !c->close || open_db(":memory:", &c->db) != 0) {
		if (c->db && c->close)
			c->close(c->db);
		free(c);
		return NULL;
	}
	return c;
}

void bzrtp_cache_free(struct bzrtp_cache *c)
{
	if (!c)
		return;
	c->close(c->db);
	free(c);
}

struct bzrtp_peer {
	bzrtpContext_t *ctx;
	uint32_t ssrc;
	bool started;
	struct pkt_queue *out;
	struct bzrtp_peer_result res;
};

static int cb_send(void *client, const uint8_t *pkt, uint16_t len)
{
	struct bzrtp_peer *p = client;
	return pkt_queue_push(p->out, pkt, len) == 0 ? 0 : -1;
}

static void capture(struct bzrtp_peer *p, const bzrtpSrtpSecrets_t *s)
{
	struct bzrtp_peer_result *r = &p->res;

	r->hash = wire_of(s->hashAlgo);
	r->cipher = wire_of(s->cipherAlgo);
	r->auth = wire_of(s->authTagAlgo);
	r->ka = wire_of(s->keyAgreementAlgo);
	r->sas_algo = wire_of(s->sasAlgo);
	if (s->sas)
		snprintf(r->sas, sizeof(r->sas), "%s", s->sas);
	r->secrets_cache_mismatch = s->cacheMismatch != 0;
	/* Lengths are checked, not trusted: a short copy is a test failure. */
	r->key_len = 0;
	r->salt_len = 0;
	if (s->selfSrtpKey && s->peerSrtpKey &&
	    s->selfSrtpKeyLength == s->peerSrtpKeyLength &&
	    s->selfSrtpKeyLength <= sizeof(r->self_key)) {
		r->key_len = s->selfSrtpKeyLength;
		memcpy(r->self_key, s->selfSrtpKey, r->key_len);
		memcpy(r->peer_key, s->peerSrtpKey, r->key_len);
	}
	if (s->selfSrtpSalt && s->peerSrtpSalt &&
	    s->selfSrtpSaltLength == s->peerSrtpSaltLength &&
	    s->selfSrtpSaltLength <= sizeof(r->self_salt)) {
		r->salt_len = s->selfSrtpSaltLength;
		memcpy(r->self_salt, s->selfSrtpSalt, r->salt_len);
		memcpy(r->peer_salt, s->peerSrtpSalt, r->salt_len);
	}
}

static int cb_secrets(void *client, const bzrtpSrtpSecrets_t *s, uint8_t part)
{
	struct bzrtp_peer *p = client;
	p->res.secrets_parts |= part;
	capture(p, s);
	return 0;
}

static int cb_start(void *client, const bzrtpSrtpSecrets_t *s, int32_t verified)
{
	struct bzrtp_peer *p = client;
	p->res.start_calls++;
	p->res.secure = true;
	p->res.verified = verified;
	capture(p, s);
	return 0;
}

static int cb_status(void *client, const uint8_t level, const uint8_t id,
		     const char *msg)
{
	struct bzrtp_peer *p = client;
	if (level == BZRTP_MESSAGE_ERROR)
		p->res.errors++;
	if (id == BZRTP_MESSAGE_CACHEMISMATCH)
		p->res.cache_mismatch++;
	if (trace_level() > 0)
		fprintf(stderr, "  bzrtp[%08x] status level=%u id=%u %s\n",
			(unsigned)(p ? p->ssrc : 0), level, id,
			msg ? msg : "");
	return 0;
}

static void set_types(bzrtpContext_t *ctx, uint8_t type, const uint32_t *list,
		      uint8_t n)
{
	uint8_t ids[7];
	uint8_t k = 0;
	if (n == 0)
		return;
	for (uint8_t i = 0; i < n && i < 7; i++) {
		int id = bz_id(type, list[i]);
		if (id >= 0)
			ids[k++] = (uint8_t)id;
	}
	bzrtp_setSupportedCryptoTypes(ctx, type, ids, k);
}

struct bzrtp_peer *bzrtp_peer_new(const struct bzrtp_peer_config *cfg,
				  uint32_t ssrc, struct pkt_queue *out)
{
	struct bzrtp_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ssrc = ssrc;
	p->out = out;
	p->ctx = bzrtp_createBzrtpContext();
	if (!p->ctx) {
		free(p);
		return NULL;
	}

	bzrtpCallbacks_t cbs;
	memset(&cbs, 0, sizeof(cbs));
	cbs.bzrtp_statusMessage = cb_status;
	cbs.bzrtp_messageLevel = BZRTP_MESSAGE_LOG;
	cbs.bzrtp_sendData = cb_send;
	cbs.bzrtp_srtpSecretsAvailable = cb_secrets;
	cbs.bzrtp_startSrtpSession = cb_start;
	if (bzrtp_setCallbacks(p->ctx, &cbs) != 0)
		goto fail;

	/* Before init: init takes the ZID from the cache. */
	if (cfg && cfg->cache) {
		int rc = bzrtp_setZIDCache(p->ctx, cfg->cache->db,
					   cfg->self_uri, cfg->peer_uri);
		if (rc != 0 && rc != BZRTP_CACHE_SETUP &&
		    rc != BZRTP_CACHE_UPDATE)
			goto fail;
	}

	/* Before init: the Hello is built from these lists there. */
	if (cfg) {
		set_types(p->ctx, ZRTP_HASH_TYPE, cfg->hash, cfg->n_hash);
		set_types(p->ctx, ZRTP_CIPHERBLOCK_TYPE, cfg->cipher,
			  cfg->n_cipher);
		set_types(p->ctx, ZRTP_AUTHTAG_TYPE, cfg->auth, cfg->n_auth);
		set_types(p->ctx, ZRTP_KEYAGREEMENT_TYPE, cfg->ka, cfg->n_ka);
		set_types(p->ctx, ZRTP_SAS_TYPE, cfg->sas, cfg->n_sas);
	}

	if (bzrtp_initBzrtpContext(p->ctx, ssrc) != 0)
		goto fail;
	if (bzrtp_setClientData(p->ctx, ssrc, p) != 0)
		goto fail;
	return p;
fail:
	/* With no channel (init failed) this frees the context too. */
	bzrtp_destroyBzrtpContext(p->ctx, ssrc);
	free(p);
	return NULL;
}

struct bzrtp_peer *bzrtp_peer_add_stream(struct bzrtp_peer *first,
					 uint32_t ssrc, struct pkt_queue *out)
{
	struct bzrtp_peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ctx = first->ctx;
	p->ssrc = ssrc;
	p->out = out;
	if (bzrtp_addChannel(p->ctx, ssrc) != 0) {
		free(p);
		return NULL;
	}
	if (bzrtp_setClientData(p->ctx, ssrc, p) != 0) {
		bzrtp_destroyBzrtpContext(p->ctx, ssrc);
		free(p);
		return NULL;
	}
	return p;
}

void bzrtp_peer_free(struct bzrtp_peer *p)
{
	if (!p)
		return;
	bzrtp_destroyBzrtpContext(p->ctx, p->ssrc);
	memset(p, 0, sizeof(*p));
	free(p);
}

int bzrtp_peer_start(struct bzrtp_peer *p)
{
	int rc = bzrtp_startChannelEngine(p->ctx, p->ssrc);
	if (rc == 0)
		p->started = true;
	return rc;
}

int bzrtp_peer_tick(struct bzrtp_peer *p, uint64_t now)
{
	if (!p->started)
		return 0;
	return bzrtp_iterate(p->ctx, p->ssrc, now);
}

int bzrtp_peer_input(struct bzrtp_peer *p, const uint8_t *pkt, size_t len)
{
	/* bzrtp takes a non-const buffer and a 16-bit length. */
	uint8_t copy[PKT_QUEUE_MTU];
	if (len > sizeof(copy))
		return -EMSGSIZE;
	memcpy(copy, pkt, len);
	return bzrtp_processMessage(p->ctx, p->ssrc, copy, (uint16_t)len);
}

void bzrtp_peer_set_verified(struct bzrtp_peer *p, bool verified)
{
	if (verified)
		bzrtp_SASVerified(p->ctx);
	else
		bzrtp_resetSASVerified(p->ctx);
}

bool bzrtp_peer_secure(const struct bzrtp_peer *p)
{
	return p->res.secure &&
	       bzrtp_getChannelStatus(p->ctx, p->ssrc) == BZRTP_CHANNEL_SECURE;
}

const struct bzrtp_peer_result *bzrtp_peer_result(const struct bzrtp_peer *p)
{
	return &p->res;
}

int bzrtp_peer_hello_hash(struct bzrtp_peer *p, char out[65])
{
	/* "1.10 " + 64 hex digits + NUL */
	uint8_t buf[80];
	if (bzrtp_getSelfHelloHash(p->ctx, p->ssrc, buf, sizeof(buf)) != 0)
		return -EIO;
	const char *hex = strchr((const char *)buf, ' ');
	hex = hex ? hex + 1 : (const char *)buf;
	if (strlen(hex) != 64)
		return -EIO;
	memcpy(out, hex, 65);
	return 0;
}

int bzrtp_peer_set_peer_hello_hash(struct bzrtp_peer *p, const char *hex)
{
	uint8_t buf[80];
	size_t len = strlen(hex);
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, hex, len + 1);
	return bzrtp_setPeerHelloHash(p->ctx, p->ssrc, buf, len);
}

static int party_input(void *arg, const uint8_t *pkt, size_t len, uint64_t now)
{
	(void)now;
	return bzrtp_peer_input(arg, pkt, len);
}

static void party_tick(void *arg, uint64_t now)
{
	bzrtp_peer_tick(arg, now);
}

static bool party_finished(void *arg)
{
	return bzrtp_peer_secure(arg);
}

void bzrtp_peer_party(struct bzrtp_peer *p, const char *name,
		      struct interop_party *out)
{
	out->name = name;
	out->arg = p;
	out->out = p->out;
	out->input = party_input;
	out->tick = party_tick;
	out->finished = party_finished;
}

bool bzrtp_peer_supports(const char *kind, uint32_t name)
{
	int type = bz_type_of_kind(kind);
	int id = type < 0 ? -1 : bz_id((uint8_t)type, name);
	if (id < 0)
		return false;
	bzrtpContext_t *ctx = bzrtp_createBzrtpContext();
	if (!ctx)
		return false;
	uint8_t ids[7];
	uint8_t n = bzrtp_getSupportedCryptoTypes(ctx, (uint8_t)type, ids);
	bool found = false;
	for (uint8_t i = 0; i < n && i < 7; i++)
		if (ids[i] == id)
			found = true;
	/* No channel was created: this frees the context. */
	bzrtp_destroyBzrtpContext(ctx, 0);
	return found;
}
