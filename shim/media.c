/*
 * The media path: one stream per (call-id, m-line index), one ZRTP session
 * per call, SRTP with libsrtp2 once ZRTP is secure (DESIGN.md "Protocol
 * decisions", "Policy").
 *
 * A stream is a struct shim_media. The fds that carry it (its RTP fd and
 * its RTCP fd, the same fd with rtcp-mux) point at it through f->media;
 * the stream only remembers their numbers and looks the entry up again
 * (shim_fd_get) when it needs it, so the registry and the media table
 * never hold each other alive.
 *
 * Demultiplexing on a media fd, both ways (DESIGN.md):
 *   ZRTP  first byte 0x10/0x11, magic 'ZRTP', valid CRC-32C: the engine's.
 *         Incoming goes to the engine and never to the client; outgoing
 *         (a client that speaks ZRTP itself) passes untouched.
 *   STUN  top bits 00 and cookie 0x2112A442 (RFC 5389 §6): untouched.
 *   RTP/RTCP version 2: RTCP when it comes on the RTCP fd of a stream
 *         without mux, or by its packet type 192..223 (RFC 5761 §4) on a
 *         muxed fd. Held / protected / unprotected by the policy below.
 *   anything else: untouched.
 *
 * What happens to RTP and RTCP, by the stream's phase:
 *   waiting, negotiating  out: DROP (held, counted; nothing leaves in
 *                         clear). in: SRTP that authenticates with the
 *                         early receive keys (ZRTP_EV_RECV_KEYS) is
 *                         delivered and is the implicit Conf2ACK; the
 *                         rest is dropped and counted.
 *   secure                out: srtp_protect into the stream's buffer,
 *                         REPLACE. in: srtp_unprotect, REPLACE; failures
 *                         (tampered, forged, replayed, cleartext) DROP.
 *   clear                 opportunistic, the peer's SDP had no
 *                         a=zrtp-hash and the Hello retries ended with
 *                         ZRTP_FAIL_NO_PEER: PASS both ways, warned once
 *                         per stream. A late Hello from the peer puts the
 *                         stream back to negotiating (the engine revives a
 *                         NO_PEER stream on a Hello): once a peer has
 *                         spoken ZRTP there is no way back to clear.
 *   failed, ended         DROP, the reason logged once, counted.
 *
 * Locking. media_mu guards the table of calls and streams, the stream
 * reference counts and every store to f->media; it is a leaf lock (nothing
 * else is taken while it is held) and it is never held across the engine,
 * libsrtp or a system call. Each stream's mutex is its call's mutex
 * (call->mu), shared by the call's streams because they share one
 * zrtp_session, which is not thread-safe; it guards the engine, the SRTP
 * contexts, the phase, the buffers and the counters. A REPLACE from
 * shim_media_outgoing returns with it held (the protected bytes live in
 * the stream's buffer) and shim_media_send_done releases it; a
 * thread-local remembers which. cache_mu guards the retained-secret cache
 * and is taken inside call->mu by the engine's cache callbacks. Engine
 * callbacks run with call->mu held and never call the engine.
 *
 * Our ZID and the cache: $ZRTPSHIM_DIR/cache, loaded on the first call.
 * Two shimmed clients on one host share that directory, and a shared cache
 * would give them the same ZID (the peer then fails with "equal ZIDs").
 * Each process therefore takes an flock on a lock file next to the cache:
 * the first process gets cache.lock and uses "cache"; a second one finds it
 * taken and uses cache-1 (cache-1.lock), then cache-2, ... up to 15. The
 * lock is held for the life of the process (released by the kernel when it
 * exits), so a client that restarts alone gets "cache" and its ZID and
 * retained secrets back. The lock is on a separate file because the atomic
 * save renames a new file over the cache. A forked child drops the lock it
 * inherited and takes its own slot on its first call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sodium.h>
#include <srtp2/srtp.h>

#include "common/suite.h"
#include "shim/shim.h"
#include "zrtp/cache.h"
#include "zrtp/zrtp.h"

#define MEDIA_MAX_CALLS 64
#define MEDIA_MAX_LINES 8          /* m= lines per call we protect */
#define MEDIA_MAX_CACHE_SLOTS 16
#define READER_DELAY_MS 300        /* pending this long on an unread fd */
#define PEEKED_MAX 16              /* ZRTP copies taken from behind the head */
#define READER_POLL_MS 100
#define READER_ZRTP_POLL_MS 10     /* while negotiating: ZRTP waits for us */
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
};

static const char *const phase_names[] = {
	[PH_WAITING] = "waiting", [PH_NEGOTIATING] = "negotiating",
	[PH_SECURE] = "secure", [PH_CLEAR] = "clear",
	[PH_FAILED] = "failed", [PH_ENDED] = "ended",
};

/* The last packet peeked on one fd (MSG_PEEK): see shim_media_incoming. */
struct peek_slot {
	bool valid;
	int fd;
	enum shim_verdict verdict;
	size_t ct_len, pt_len;
	uint8_t ct[SHIM_PKT_MAX];
	uint8_t pt[SHIM_PKT_MAX];
};

struct shim_call;

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

	/* Everything below: call->mu. */
	struct sockaddr_storage peer_rtp, peer_rtcp;
	bool have_peer, peer_mux;
	bool peer_signals_zrtp, peer_spoke_zrtp, hash_set;
	struct zrtp_stream *zs;
	bool started;
	enum media_phase phase;
	bool fail_logged, clear_logged, client_zrtp_logged;
	srtp_t tx, rx;
	char sas[32];
	uint64_t last_log_auth, last_log_early;
	uint64_t pending_since[2];       /* reader duty, per fd role */
	/* ZRTP packets reader_peek_past gave the engine while they stayed in
	 * the RTP fd's queue (ids from zrtp_copy_id), oldest first */
	uint32_t peeked[PEEKED_MAX];
	unsigned n_peeked;
	struct shim_media_stats st;      /* counters only; name/phase on read */
	uint8_t out[SHIM_PKT_MAX];
	struct peek_slot peek[2];        /* [0] RTP fd, [1] RTCP fd */
};

struct shim_call {
	int refs;                        /* media_mu */
	pthread_mutex_t mu;
	char id[256];
	size_t id_len;
	struct zrtp_session *sess;       /* mu */
	struct shim_media *lines[MEDIA_MAX_LINES];  /* media_mu */
	bool in_table;                   /* media_mu */
};

static pthread_mutex_t media_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shim_call *calls[MEDIA_MAX_CALLS];
static unsigned adopt_counter;

/* The REPLACE this thread is sending (shim_media_send_done). */
static _Thread_local struct shim_media *tl_sending;

/* --- small helpers -------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static void sa_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (ss->ss_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

/* A peer address we can send to: not the unspecified address, not port 0. */
static bool sa_usable(const struct sockaddr_storage *ss)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;
	if (sa_port(ss) == 0)
		return false;
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr !=
		       htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr,
			      &any6, sizeof any6) != 0;
	return false;
}

static bool sa_copy(struct sockaddr_storage *dst, const struct sockaddr *src,
		    socklen_t len)
{
	if (!src || len < sizeof(sa_family_t))
		return false;
	if (src->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memset(dst, 0, sizeof *dst);
		memcpy(dst, src, sizeof(struct sockaddr_in));
		return true;
	}
	if (src->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		memset(dst, 0, sizeof *dst);
		memcpy(dst, src, sizeof(struct sockaddr_in6));
		return true;
	}
	return false;
}

static void algo_str(uint32_t name, char out[5])
{
	for (int i = 0; i < 4; i++) {
		uint8_t c = (uint8_t)(name >> (24 - 8 * i));
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[4] = '\0';
	if (out[3] == ' ')
		out[3] = '\0';
}

/* RFC 5389 §6: top two bits zero and the magic cookie. */
static bool pkt_is_stun(const uint8_t *p, size_t len)
{
	return len >= 20 && (p[0] & 0xc0) == 0 && be32(p + 4) == 0x2112A442u;
}

/* RFC 6189 §5: first byte, magic cookie and a CRC-32C that checks out. */
static bool pkt_is_zrtp(const uint8_t *p, size_t len)
{
	if (len < ZRTP_PKT_HDR_LEN + ZRTP_MSG_HDR_LEN + ZRTP_CRC_LEN ||
	    !zrtp_packet_looks_zrtp(p, len))
		return false;
	const uint8_t *c = p + len - ZRTP_CRC_LEN;
	uint32_t crc = (uint32_t)c[0] | (uint32_t)c[1] << 8 |
		       (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
	return zrtp_crc32c(p, len - ZRTP_CRC_LEN) == crc;
}

static bool pkt_is_rtp2(const uint8_t *p, size_t len)
{
	return len >= 12 && (p[0] >> 6) == 2;
}

/* RFC 5761 §4: on a muxed port, RTCP packet types 192..223 are the
 * bytes an RTP packet with the marker bit and PT 64..95 would carry;
 * those RTP payload types must not be used with mux. */
static bool pkt_is_rtcp_type(const uint8_t *p, size_t len)
{
	return len >= 8 && p[1] >= 192 && p[1] <= 223;
}

/* --- the retained-secret cache and our ZID -------------------------------- */

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zrtp_cache *cache;        /* NULL: not loaded yet */
static bool cache_persist;              /* false: in memory only */
static char cache_path[4200];
static int cache_lock_fd = -1;
static uint8_t our_zid[12];

static bool cache_try_slot(const char *dir, int slot)
{
	char lock[4200];
	if (slot == 0) {
		snprintf(lock, sizeof lock, "%s/cache.lock", dir);
		snprintf(cache_path, sizeof cache_path, "%s/cache", dir);
	} else {
		snprintf(lock, sizeof lock, "%s/cache-%d.lock", dir, slot);
		snprintf(cache_path, sizeof cache_path, "%s/cache-%d", dir, slot);
	}
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		shim_real.close(fd);
		return false;
	}
	cache_lock_fd = fd;
	return true;
}

static void cache_fresh(const char *why)
{
	uint8_t zid[12];
	randombytes_buf(zid, sizeof zid);
	cache = zrtp_cache_new(zid);
	sodium_memzero(zid, sizeof zid);
	if (!cache) {
		shim_log(SHIM_LOG_ERROR, "media: cannot allocate the cache");
		return;
	}
	if (cache_persist) {
		int r = zrtp_cache_save(cache, cache_path);
		if (r < 0)
			shim_log(SHIM_LOG_ERROR,
				 "media: cannot save new cache %s: %s",
				 cache_path, strerror(-r));
		else
			shim_log(SHIM_LOG_INFO, "media: new ZID in %s (%s)",
				 cache_path, why);
	}
}

/* cache_mu held. Load once: missing → new ZID and save; corrupt → moved
 * aside as cache.corrupt-<time>, loudly, and a fresh start. */
static void cache_load_locked(void)
{
	if (cache)
		return;
	const char *dir = shim_config.dir;
	cache_persist = false;
	if (dir[0]) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			shim_log(SHIM_LOG_WARN, "media: mkdir %s: %s", dir,
				 strerror(errno));
		for (int slot = 0; slot < MEDIA_MAX_CACHE_SLOTS; slot++)
			if (cache_try_slot(dir, slot)) {
				cache_persist = true;
				if (slot > 0)
					shim_log(SHIM_LOG_INFO,
						 "media: another process holds %s/cache; "
						 "this one uses %s (its own ZID)",
						 dir, cache_path);
				break;
			}
		if (!cache_persist)
			shim_log(SHIM_LOG_WARN,
				 "media: no free cache slot in %s: ZID and "
				 "retained secrets live in memory only", dir);
	} else {
		shim_log(SHIM_LOG_WARN, "media: ZRTPSHIM_DIR unset: ZID and "
			 "retained secrets live in memory only");
	}
	if (!cache_persist) {
		cache_fresh("memory only");
	} else {
		char why[128] = "";
		int r = zrtp_cache_load(cache_path, &cache, why, sizeof why);
		if (r == -ENOENT) {
			cache_fresh("no cache yet");
		} else if (r < 0) {
			char aside[4300];
			snprintf(aside, sizeof aside, "%s.corrupt-%lld",
				 cache_path, (long long)time(NULL));
			bool moved = rename(cache_path, aside) == 0;
			shim_log(SHIM_LOG_ERROR,
				 "media: CACHE FILE %s IS CORRUPT (%s): %s; "
				 "starting with a new ZID, all retained secrets "
				 "and SAS verifications are lost", cache_path,
				 r == -EBADMSG ? why : strerror(-r),
				 moved ? aside : "could not move it aside");
			cache = NULL;
			cache_fresh("after a corrupt cache");
		}
	}
	if (cache)
		zrtp_cache_own_zid(cache, our_zid);
}

static int cb_random(void *arg, uint8_t *buf, size_t len)
{
	randombytes_buf(buf, len);
	return 0;
}

static int cb_cache_get(void *arg, const uint8_t zid[12],
			struct zrtp_retained *out)
{
	int r = -ENOENT;
	pthread_mutex_lock(&cache_mu);
	if (cache)
		r = zrtp_cache_get_retained(cache, zid, (uint64_t)time(NULL),
					    out);
	pthread_mutex_unlock(&cache_mu);
	return r;
}

static int cb_cache_put(void *arg, const uint8_t zid[12],
			const struct zrtp_retained *in)
{
	int r = -ENOENT;
	pthread_mutex_lock(&cache_mu);
	if (cache) {
		r = zrtp_cache_put_retained(cache, zid, (uint64_t)time(NULL),
					    in);
		if (r == 0 && cache_persist) {
			int s = zrtp_cache_save(cache, cache_path);
			if (s < 0)
				shim_log(SHIM_LOG_ERROR,
					 "media: saving %s failed: %s",
					 cache_path, strerror(-s));
		}
	}
	pthread_mutex_unlock(&cache_mu);
	return r;
}

/* --- one-time setup ------------------------------------------------------- */

static pthread_once_t media_once = PTHREAD_ONCE_INIT;
static bool srtp_ok;

static void media_atfork_handler(void)
{
	shim_media_atfork_child();
}

static void media_init_once(void)
{
	if (sodium_init() < 0)
		shim_log(SHIM_LOG_ERROR, "media: sodium_init failed");
	srtp_err_status_t e = srtp_init();
	srtp_ok = e == srtp_err_status_ok;
	if (!srtp_ok)
		shim_log(SHIM_LOG_ERROR, "media: srtp_init failed (%d): no "
			 "media will flow", (int)e);
	pthread_atfork(NULL, NULL, media_atfork_handler);
}

static void media_init(void)
{
	pthread_once(&media_once, media_init_once);
}

/* --- references ----------------------------------------------------------- */

/* media_mu held. */
static void call_ref(struct shim_call *c) { c->refs++; }

static void call_put(struct shim_call *c)
{
	pthread_mutex_lock(&media_mu);
	bool last = --c->refs == 0;
	pthread_mutex_unlock(&media_mu);
	if (!last)
		return;
	if (c->sess)
		zrtp_session_free(c->sess);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* call->mu held: wipe the keys and stop the engine. */
static void stream_end_locked(struct shim_media *s)
{
	if (s->tx) {
		srtp_dealloc(s->tx);
		s->tx = NULL;
	}
	if (s->rx) {
		srtp_dealloc(s->rx);
		s->rx = NULL;
	}
	if (s->zs) {
		zrtp_stream_free(s->zs);
		s->zs = NULL;
	}
	for (int i = 0; i < 2; i++)
		sodium_memzero(&s->peek[i], sizeof s->peek[i]);
	sodium_memzero(s->out, sizeof s->out);
	s->phase = PH_ENDED;
}

static void stream_put(struct shim_media *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&media_mu);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&media_mu);
	if (!last)
		return;
	pthread_mutex_lock(s->mu);
	stream_end_locked(s);
	pthread_mutex_unlock(s->mu);
	call_put(s->call);
	sodium_memzero(s, sizeof *s);
	free(s);
}

/* The stream on f with a reference taken, or NULL. */
static struct shim_media *media_get(struct shim_fd *f)
{
	pthread_mutex_lock(&media_mu);
	struct shim_media *s = atomic_load(&f->media);
	if (s)
		s->refs++;
	pthread_mutex_unlock(&media_mu);
	return s;
}

/* --- SRTP ----------------------------------------------------------------- */

/* The profile follows the negotiated cipher and tag (common/suite.h). */
static int srtp_ctx_new(srtp_t *out, const struct zrtp_srtp_keys *k,
			bool outbound)
{
	srtp_policy_t p;
	uint8_t master[32 + ZRTP_SALT_LEN];
	enum suite su;
	memset(&p, 0, sizeof p);

	if (suite_from_zrtp(k->cipher, k->auth, k->key_len, &su) < 0 ||
	    suite_policy(su, &p) < 0)
		return -ENOTSUP;
	const uint8_t *key = outbound ? k->local_key : k->remote_key;
	const uint8_t *salt = outbound ? k->local_salt : k->remote_salt;
	memcpy(master, key, k->key_len);
	memcpy(master + k->key_len, salt, ZRTP_SALT_LEN);
	p.key = master;
	p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	p.window_size = 1024;
	/* A repeated index would reuse keystream: refuse, never allow. */
	p.allow_repeat_tx = 0;
	srtp_err_status_t e = srtp_create(out, &p);
	sodium_memzero(master, sizeof master);
	if (e != srtp_err_status_ok) {
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

/* --- engine callbacks (call->mu held; never call the engine) -------------- */

static int cb_send(void *arg, const uint8_t *pkt, size_t len)
{
	struct shim_media *s = arg;
	int fd = atomic_load(&s->rtp_fd);
	struct stat sb;
	int saved = errno;
	if (fd < 0 || fstat(fd, &sb) != 0 ||
	    (unsigned long)sb.st_ino != atomic_load(&s->rtp_ino)) {
		errno = saved;
		s->st.tx_err++;
		return -EBADF;
	}
	int guard = shim_in_shim;
	shim_in_shim = 1;
	ssize_t n = shim_real.sendto(fd, pkt, len, MSG_DONTWAIT | MSG_NOSIGNAL,
				     s->have_peer ? (const struct sockaddr *)&s->peer_rtp
						  : NULL,
				     s->have_peer ? sa_len(&s->peer_rtp) : 0);
	int err = errno;
	shim_in_shim = guard;
	errno = saved;
	if (n < 0) {
		s->st.tx_err++;
		return -err;
	}
	return 0;
}

static void log_secure(struct shim_media *s, const struct zrtp_event *ev)
{
	char h[5], c[5], a[5], k[5], t[5];
	algo_str(ev->algos.hash, h);
	algo_str(ev->algos.cipher, c);
	algo_str(ev->algos.auth, a);
	algo_str(ev->algos.ka, k);
	algo_str(ev->algos.sas, t);
	shim_log(SHIM_LOG_INFO,
		 "media %s: SECURE sas=%s (%s) role=%s ka=%s cipher=%s auth=%s "
		 "hash=%s verified=%s continuity=%s", s->name,
		 ev->sas ? ev->sas : "", t,
		 ev->role == ZRTP_ROLE_INITIATOR ? "initiator" : "responder",
		 k, c, a, h, ev->verified ? "yes" : "no",
		 ev->rs1_match ? "cached secret matched" : "none");
}

static void on_failed(struct shim_media *s, const struct zrtp_event *ev)
{
	if (s->phase == PH_SECURE || s->phase == PH_ENDED)
		return;
	bool clear_ok = shim_config.policy == SHIM_POLICY_OPPORTUNISTIC &&
			ev->reason == ZRTP_FAIL_NO_PEER &&
			!s->peer_signals_zrtp && !s->peer_spoke_zrtp;
	if (clear_ok) {
		s->phase = PH_CLEAR;
		shim_log(SHIM_LOG_WARN,
			 "media %s: the peer does not speak ZRTP: media of this "
			 "call flows IN CLEAR (policy opportunistic)", s->name);
		s->clear_logged = true;
		return;
	}
	s->phase = PH_FAILED;
	if (!s->fail_logged) {
		const char *why = ev->reason == ZRTP_FAIL_NO_PEER &&
					  shim_config.policy == SHIM_POLICY_OPPORTUNISTIC
				  ? " (the peer signalled ZRTP, so no fallback to clear)"
				  : "";
		shim_log(SHIM_LOG_ERROR,
			 "media %s: ZRTP FAILED: %s%s (error 0x%x); no media "
			 "will be sent or delivered on this stream%s", s->name,
			 zrtp_fail_str(ev->reason),
			 ev->error_code ? " from/to the peer" : "",
			 (unsigned)ev->error_code, why);
		s->fail_logged = true;
	}
}

static void cb_event(void *arg, const struct zrtp_event *ev)
{
	struct shim_media *s = arg;
	const char *sas = "";

	switch (ev->type) {
	case ZRTP_EV_PEER_HELLO:
		s->peer_spoke_zrtp = true;
		if (s->phase == PH_CLEAR || s->phase == PH_FAILED) {
			shim_log(SHIM_LOG_WARN,
				 "media %s: the peer spoke ZRTP late: media held "
				 "again until the handshake completes", s->name);
			s->phase = PH_NEGOTIATING;
			s->fail_logged = false;
		}
		shim_log(SHIM_LOG_DEBUG, "media %s: peer Hello", s->name);
		break;
	case ZRTP_EV_RECV_KEYS:
		if (!s->rx && ev->keys && srtp_ctx_new(&s->rx, ev->keys, false) < 0)
			shim_log(SHIM_LOG_ERROR, "media %s: cannot set up SRTP "
				 "receive keys", s->name);
		break;
	case ZRTP_EV_SECURE: {
		sas = ev->sas ? ev->sas : "";
		snprintf(s->sas, sizeof s->sas, "%s", sas);
		int r = 0;
		if (!s->rx)
			r = srtp_ctx_new(&s->rx, ev->keys, false);
		if (r == 0 && !s->tx)
			r = srtp_ctx_new(&s->tx, ev->keys, true);
		if (r < 0) {
			s->phase = PH_FAILED;
			shim_log(SHIM_LOG_ERROR, "media %s: ZRTP secure but SRTP "
				 "setup failed: media dropped", s->name);
			break;
		}
		s->phase = PH_SECURE;
		log_secure(s, ev);
		if (shim_config.keylog[0]) {
			uint16_t lr, lc;
			pthread_mutex_lock(&media_mu);
			lr = s->local_rtp_port;
			lc = s->local_rtcp_port;
			pthread_mutex_unlock(&media_mu);
			shim_keylog_write(s->name, lr, lc, &s->peer_rtp,
					  &s->peer_rtcp, ev->keys);
		}
		break;
	}
	case ZRTP_EV_FAILED:
		on_failed(s, ev);
		break;
	case ZRTP_EV_CACHE_MISMATCH:
		shim_log(SHIM_LOG_ERROR,
			 "media %s: !!! CACHE MISMATCH: the peer's retained "
			 "secret does not match ours. Either the peer lost its "
			 "cache or someone is in the middle: COMPARE THE SAS "
			 "ALOUD. The verified flag is cleared.", s->name);
		break;
	case ZRTP_EV_HELLO_HASH_MISMATCH:
		shim_log(SHIM_LOG_ERROR,
			 "media %s: !!! POSSIBLE ATTACK: the peer's Hello does "
			 "not match the a=zrtp-hash of its SDP; the stream is "
			 "not secure", s->name);
		break;
	case ZRTP_EV_GOCLEAR_REFUSED:
		shim_log(SHIM_LOG_WARN, "media %s: the peer asked to go clear: "
			 "refused", s->name);
		break;
	case ZRTP_EV_SASRELAY_IGNORED:
		shim_log(SHIM_LOG_WARN, "media %s: the peer relayed a SAS: "
			 "ignored (not trusted)", s->name);
		break;
	}
	shim_events_emit(s->name, ev, sas);
}

static const struct zrtp_callbacks media_callbacks = {
	.random = cb_random,
	.cache_get = cb_cache_get,
	.cache_put = cb_cache_put,
	.send = cb_send,
	.event = cb_event,
};

/* Weak no-ops until events.c lands; its definitions take precedence. */
__attribute__((weak)) void shim_events_emit(const char *stream_name,
					    const struct zrtp_event *ev,
					    const char *sas)
{
}

__attribute__((weak)) void shim_keylog_write(
	const char *stream_name, uint16_t local_rtp_port,
	uint16_t local_rtcp_port, const struct sockaddr_storage *peer_rtp,
	const struct sockaddr_storage *peer_rtcp,
	const struct zrtp_srtp_keys *keys)
{
}

/* --- calls and streams ---------------------------------------------------- */

static struct zrtp_session *session_new(struct shim_call *c)
{
	struct zrtp_config cfg;
	pthread_mutex_lock(&cache_mu);
	cache_load_locked();
	zrtp_config_default(&cfg, our_zid);
	pthread_mutex_unlock(&cache_mu);
	if (shim_config.algos[0] &&
	    zrtp_algo_prefs_parse(&cfg.prefs, shim_config.algos) < 0) {
		shim_log(SHIM_LOG_WARN, "media: ZRTPSHIM_ALGOS \"%s\" is not "
			 "valid: using the defaults", shim_config.algos);
		zrtp_algo_prefs_default(&cfg.prefs);
	}
	return zrtp_session_new(&cfg, &media_callbacks, c);
}

/* media_mu held. */
static struct shim_call *call_find(const char *id, size_t len)
{
	if (len > sizeof calls[0]->id)
		len = sizeof calls[0]->id;
	for (int i = 0; i < MEDIA_MAX_CALLS; i++)
		if (calls[i] && calls[i]->id_len == len &&
		    memcmp(calls[i]->id, id, len) == 0)
			return calls[i];
	return NULL;
}

static bool call_has_fds(const struct shim_call *c)
{
	for (int j = 0; j < MEDIA_MAX_LINES; j++)
		if (c->lines[j] && (atomic_load(&c->lines[j]->rtp_fd) >= 0 ||
				    atomic_load(&c->lines[j]->rtcp_fd) >= 0))
			return true;
	return false;
}

/*
 * Find or create the call and its stream m_index. The stream comes back
 * with a reference for the caller (the call is kept by the stream). NULL
 * when the table is full or memory is short. *to_release: a call evicted
 * to make room, for call_release_lines once media_mu is dropped.
 */
static struct shim_media *stream_obtain(const char *id, size_t id_len,
					unsigned m_index, bool adopted,
					struct shim_call **to_release)
{
	struct shim_call *c, *evicted = NULL;
	struct shim_media *s;

	*to_release = NULL;
	if (m_index >= MEDIA_MAX_LINES)
		return NULL;
	pthread_mutex_lock(&media_mu);
	c = call_find(id, id_len);
	if (!c) {
		int slot = -1;
		for (int i = 0; i < MEDIA_MAX_CALLS && slot < 0; i++)
			if (!calls[i])
				slot = i;
		/* Full: evict a call none of whose fds is open any more. */
		for (int i = 0; i < MEDIA_MAX_CALLS && slot < 0; i++)
			if (!call_has_fds(calls[i])) {
				evicted = calls[i];
				evicted->in_table = false;
				calls[i] = NULL;
				slot = i;
			}
		if (slot < 0 || !(c = calloc(1, sizeof *c))) {
			pthread_mutex_unlock(&media_mu);
			return NULL;
		}
		pthread_mutex_init(&c->mu, NULL);
		c->id_len = id_len < sizeof c->id ? id_len : sizeof c->id;
		memcpy(c->id, id, c->id_len);
		c->refs = 1;            /* the table's */
		c->in_table = true;
		calls[slot] = c;
	}
	s = c->lines[m_index];
	if (!s) {
		s = calloc(1, sizeof *s);
		if (!s) {
			pthread_mutex_unlock(&media_mu);
			return NULL;
		}
		s->refs = 1;            /* the call's */
		s->call = c;
		call_ref(c);
		s->mu = &c->mu;
		s->m_index = m_index;
		s->adopted = adopted;
		atomic_init(&s->rtp_fd, -1);
		atomic_init(&s->rtcp_fd, -1);
		snprintf(s->name, sizeof s->name, "%.*s/%u",
			 (int)(c->id_len > 100 ? 100 : c->id_len), c->id,
			 m_index);
		c->lines[m_index] = s;
	}
	s->refs++;                      /* the caller's */
	pthread_mutex_unlock(&media_mu);
	*to_release = evicted;
	return s;
}

/* Drop a call from the table and release every line (the evicted one, or
 * the one that ended). */
static void call_release_lines(struct shim_call *c)
{
	struct shim_media *lines[MEDIA_MAX_LINES];
	pthread_mutex_lock(&media_mu);
	for (int j = 0; j < MEDIA_MAX_LINES; j++) {
		lines[j] = c->lines[j];
		c->lines[j] = NULL;
	}
	pthread_mutex_unlock(&media_mu);
	for (int j = 0; j < MEDIA_MAX_LINES; j++)
		if (lines[j]) {
			pthread_mutex_lock(&c->mu);
			stream_end_locked(lines[j]);
			pthread_mutex_unlock(&c->mu);
			stream_put(lines[j]);
		}
	call_put(c);                    /* the table's reference */
}

/* call->mu held: make sure the engine stream exists (for our Hello hash). */
static int stream_engine_locked(struct shim_media *s)
{
	if (s->phase == PH_ENDED)
		return -ESHUTDOWN;
	if (s->zs)
		return 0;
	if (!srtp_ok)
		return -ENOTSUP;
	if (!s->call->sess) {
		s->call->sess = session_new(s->call);
		if (!s->call->sess)
			return -ENOMEM;
	}
	uint32_t ssrc;
	randombytes_buf(&ssrc, sizeof ssrc);
	s->zs = zrtp_stream_new(s->call->sess, ssrc, s);
	return s->zs ? 0 : -ENOMEM;
}

/* call->mu held: start discovery once the peer's address is known. */
static bool stream_start_locked(struct shim_media *s, uint64_t now)
{
	if (s->started || !s->have_peer || stream_engine_locked(s) < 0)
		return false;
	s->started = true;
	if (s->phase == PH_WAITING)
		s->phase = PH_NEGOTIATING;
	zrtp_stream_start(s->zs, now);
	shim_log(SHIM_LOG_DEBUG, "media %s: ZRTP started", s->name);
	return true;
}

/* call->mu held: learn the peer from an address (RTP), RTCP at +1 unless
 * muxed. */
static void stream_learn_peer(struct shim_media *s, const struct sockaddr *sa,
			      socklen_t len, bool mux)
{
	if (s->have_peer || !sa_copy(&s->peer_rtp, sa, len))
		return;
	s->peer_rtcp = s->peer_rtp;
	s->peer_mux = mux;
	if (!mux)
		sa_set_port(&s->peer_rtcp, (uint16_t)(sa_port(&s->peer_rtp) + 1));
	s->have_peer = true;
}

/*
 * Point f at s in the given role (0 RTP, 1 RTCP, 2 both). Any stream f
 * pointed at before loses it. media_mu held; returns the stream whose
 * reference the caller must drop after unlocking (or NULL).
 */
static struct shim_media *attach_locked(struct shim_media *s, struct shim_fd *f,
					int role)
{
	struct shim_media *old = atomic_load(&f->media);
	if (old && old != s) {
		if (atomic_load(&old->rtp_fd) == f->fd)
			atomic_store(&old->rtp_fd, -1);
		if (atomic_load(&old->rtcp_fd) == f->fd)
			atomic_store(&old->rtcp_fd, -1);
	}
	if (old != s) {
		s->refs++;
		atomic_store(&f->media, s);
	} else {
		old = NULL;
	}
	if (role == 0 || role == 2) {
		struct stat sb;
		int saved = errno;
		atomic_store(&s->rtp_ino, fstat(f->fd, &sb) == 0
					  ? (unsigned long)sb.st_ino : 0);
		errno = saved;
		atomic_store(&s->rtp_fd, f->fd);
	}
	if (role == 1 || role == 2)
		atomic_store(&s->rtcp_fd, f->fd);
	s->had_fd = true;
	return old;
}

static void attach_port(struct shim_media *s, uint16_t port, int role)
{
	if (!port)
		return;
	struct shim_fd *f = shim_fd_find_port(port);
	if (!f)
		return;
	if (f->kind == SHIM_FD_UDP) {
		pthread_mutex_lock(&media_mu);
		struct shim_media *old = attach_locked(s, f, role);
		pthread_mutex_unlock(&media_mu);
		stream_put(old);
	}
	shim_fd_put(f);
}

/* --- the public entry points ---------------------------------------------- */

int shim_media_describe(const struct shim_media_desc *d, char hash_out[65])
{
	struct shim_call *evicted;
	int r;

	media_init();
	if (!d || !d->call_id)
		return -EINVAL;
	struct shim_media *s = stream_obtain(d->call_id, d->call_id_len,
					     d->m_index, false, &evicted);
	if (evicted)
		call_release_lines(evicted);
	if (!s)
		return d->m_index >= MEDIA_MAX_LINES ? -E2BIG : -ENOMEM;

	bool mux = d->local_mux || (d->local_rtcp_port &&
				    d->local_rtcp_port == d->local_rtp_port);
	pthread_mutex_lock(&media_mu);
	s->local_rtp_port = d->local_rtp_port;
	s->local_rtcp_port = mux ? d->local_rtp_port
				 : (d->local_rtcp_port ? d->local_rtcp_port
				    : (uint16_t)(d->local_rtp_port + 1));
	s->local_mux = mux;
	pthread_mutex_unlock(&media_mu);
	if (mux) {
		attach_port(s, d->local_rtp_port, 2);
	} else {
		attach_port(s, d->local_rtp_port, 0);
		attach_port(s, s->local_rtcp_port, 1);
	}

	bool kick = false;
	pthread_mutex_lock(s->mu);
	r = stream_engine_locked(s);
	if (r == 0 && hash_out)
		r = zrtp_stream_hello_hash(s->zs, hash_out) < 0 ? -EINVAL : 0;
	if (r == 0) {
		if (d->peer_signals_zrtp)
			s->peer_signals_zrtp = true;
		if (d->have_peer && sa_usable(&d->peer_rtp)) {
			/* A re-INVITE may move the peer: follow it (but not
			 * to the c=0.0.0.0 / port 0 of a hold or a refusal). */
			s->peer_rtp = d->peer_rtp;
			s->peer_rtcp = d->peer_rtcp;
			s->peer_mux = d->peer_mux;
			if (d->peer_mux)
				s->peer_rtcp = d->peer_rtp;
			s->have_peer = sa_len(&s->peer_rtp) != 0;
		}
		if (d->have_peer_hash && !s->hash_set) {
			size_t hl = strnlen(d->peer_hash, sizeof d->peer_hash);
			if (zrtp_stream_set_peer_hello_hash(s->zs, d->peer_hash,
							    hl) == 0)
				s->hash_set = true;
			else
				shim_log(SHIM_LOG_WARN, "media %s: the peer's "
					 "a=zrtp-hash is not usable", s->name);
		}
		kick = stream_start_locked(s, now_ms());
	}
	pthread_mutex_unlock(s->mu);
	stream_put(s);
	if (kick)
		shim_timer_kick();
	return r;
}

void shim_media_on_bind(struct shim_fd *f)
{
	uint16_t port = sa_port(&f->local);
	if (!port || f->kind != SHIM_FD_UDP)
		return;
	media_init();
	struct shim_media *old = NULL;
	pthread_mutex_lock(&media_mu);
	for (int i = 0; i < MEDIA_MAX_CALLS && !old; i++) {
		struct shim_call *c = calls[i];
		if (!c)
			continue;
		for (int j = 0; j < MEDIA_MAX_LINES; j++) {
			struct shim_media *s = c->lines[j];
			if (!s)
				continue;
			int role = -1;
			if (s->local_rtp_port == port)
				role = s->local_mux ? 2 : 0;
			else if (s->local_rtcp_port == port)
				role = 1;
			if (role >= 0) {
				old = attach_locked(s, f, role);
				pthread_mutex_unlock(&media_mu);
				stream_put(old);
				return;
			}
		}
	}
	pthread_mutex_unlock(&media_mu);
}

void shim_media_adopt(struct shim_fd *f, const struct sockaddr *to,
		      socklen_t tolen)
{
	media_init();
	if (atomic_load(&f->media))
		return;
	uint16_t port = sa_port(&f->local);

	/* RTCP of a stream adopted on port-1. */
	if (port > 1) {
		struct shim_media *old = NULL, *hit = NULL;
		pthread_mutex_lock(&media_mu);
		for (int i = 0; i < MEDIA_MAX_CALLS && !hit; i++)
			if (calls[i] && calls[i]->lines[0] &&
			    calls[i]->lines[0]->adopted &&
			    calls[i]->lines[0]->local_rtp_port == port - 1 &&
			    atomic_load(&calls[i]->lines[0]->rtcp_fd) < 0) {
				hit = calls[i]->lines[0];
				hit->local_rtcp_port = port;
				hit->local_mux = false;
				old = attach_locked(hit, f, 1);
			}
		pthread_mutex_unlock(&media_mu);
		if (hit) {
			stream_put(old);
			return;
		}
	}

	char id[64];
	struct shim_call *evicted;
	pthread_mutex_lock(&media_mu);
	unsigned n = ++adopt_counter;
	pthread_mutex_unlock(&media_mu);
	int idl = snprintf(id, sizeof id, "adopted-%u-fd%d", n, f->fd);
	struct shim_media *s = stream_obtain(id, (size_t)idl, 0, true, &evicted);
	if (evicted)
		call_release_lines(evicted);
	if (!s) {
		shim_log(SHIM_LOG_ERROR, "media: cannot adopt fd %d: its RTP "
			 "will be dropped", f->fd);
		return;
	}
	pthread_mutex_lock(&media_mu);
	s->local_rtp_port = port;
	s->local_rtcp_port = port;       /* until an RTCP fd at +1 shows up */
	s->local_mux = true;
	struct shim_media *old = attach_locked(s, f, 2);
	pthread_mutex_unlock(&media_mu);
	stream_put(old);

	bool kick = false;
	pthread_mutex_lock(s->mu);
	if (!sa_copy(&s->peer_rtp, to, tolen) &&
	    !sa_copy(&s->peer_rtp, (const struct sockaddr *)&f->peer,
		     sizeof f->peer))
		memset(&s->peer_rtp, 0, sizeof s->peer_rtp);
	s->have_peer = sa_len(&s->peer_rtp) != 0;
	s->peer_rtcp = s->peer_rtp;
	if (s->have_peer)
		sa_set_port(&s->peer_rtcp, (uint16_t)(sa_port(&s->peer_rtp) + 1));
	shim_log(SHIM_LOG_INFO, "media %s: RTP on fd %d (port %u) that no SDP "
		 "announced: protecting it", s->name, f->fd, (unsigned)port);
	kick = stream_start_locked(s, now_ms());
	pthread_mutex_unlock(s->mu);
	stream_put(s);
	if (kick)
		shim_timer_kick();
}

void shim_media_detach(struct shim_fd *f)
{
	pthread_mutex_lock(&media_mu);
	struct shim_media *s = atomic_load(&f->media);
	atomic_store(&f->media, NULL);
	bool gone = false;
	if (s) {
		if (atomic_load(&s->rtp_fd) == f->fd)
			atomic_store(&s->rtp_fd, -1);
		if (atomic_load(&s->rtcp_fd) == f->fd)
			atomic_store(&s->rtcp_fd, -1);
		gone = s->had_fd && atomic_load(&s->rtp_fd) < 0 &&
		       atomic_load(&s->rtcp_fd) < 0;
	}
	pthread_mutex_unlock(&media_mu);
	if (!s)
		return;
	/* The stream ends with its last socket (keys wiped); the call leaves
	 * the table when none of its streams has a socket any more. */
	struct shim_call *release = NULL;
	if (gone) {
		pthread_mutex_lock(s->mu);
		stream_end_locked(s);
		pthread_mutex_unlock(s->mu);
		pthread_mutex_lock(&media_mu);
		struct shim_call *c = s->call;
		if (c->in_table && !call_has_fds(c)) {
			for (int i = 0; i < MEDIA_MAX_CALLS; i++)
				if (calls[i] == c)
					calls[i] = NULL;
			c->in_table = false;
			release = c;
		}
		pthread_mutex_unlock(&media_mu);
	}
	stream_put(s);                   /* f's reference */
	if (release)
		call_release_lines(release);
}

void shim_media_call_ended(const char *call_id, size_t len)
{
	pthread_mutex_lock(&media_mu);
	struct shim_call *c = call_find(call_id, len);
	if (c) {
		for (int i = 0; i < MEDIA_MAX_CALLS; i++)
			if (calls[i] == c)
				calls[i] = NULL;
		c->in_table = false;
	}
	pthread_mutex_unlock(&media_mu);
	if (!c)
		return;
	shim_log(SHIM_LOG_INFO, "media: call %.*s ended", (int)(len > 100 ? 100 : len),
		 call_id);
	/* The fds keep pointing at the ended streams, which drop their RTP:
	 * nothing sent after a secure call goes out in clear. A new call's
	 * SDP re-attaches them. */
	call_release_lines(c);
}

/* --- outgoing ------------------------------------------------------------- */

/*
 * The client sends ZRTP itself (a native ZRTP endpoint run under the
 * shim). Its packets pass untouched, but our engine answers the peer on
 * the same port, so the two handshakes will fight: say so once. Standing
 * aside is not done automatically: a client whose own ZRTP fails may fall
 * back to clear RTP, which the policy forbids.
 */
static void note_client_zrtp(struct shim_fd *f)
{
	struct shim_media *s = media_get(f);
	if (!s)
		return;
	pthread_mutex_lock(s->mu);
	if (!s->client_zrtp_logged) {
		s->client_zrtp_logged = true;
		shim_log(SHIM_LOG_WARN, "media %s: the client speaks ZRTP itself; "
			 "its ZRTP passes untouched but the shim's own handshake "
			 "on this port will compete with it: run native ZRTP "
			 "clients without the shim", s->name);
	}
	pthread_mutex_unlock(s->mu);
	stream_put(s);
}

enum shim_verdict shim_media_outgoing(struct shim_fd *f, const uint8_t *pkt,
				      size_t len, const struct sockaddr *to,
				      socklen_t tolen, const uint8_t **out,
				      size_t *out_len)
{
	if (pkt_is_stun(pkt, len) || !pkt_is_rtp2(pkt, len)) {
		if (pkt_is_zrtp(pkt, len))
			note_client_zrtp(f);
		return SHIM_PASS;
	}
	struct shim_media *s = media_get(f);
	if (!s)
		return SHIM_PASS;
	media_init();
	int saved = errno;
	enum shim_verdict v = SHIM_DROP;
	bool kick = false;

	pthread_mutex_lock(s->mu);
	bool rtcp_fd = atomic_load(&s->rtcp_fd) == f->fd &&
		       atomic_load(&s->rtp_fd) != f->fd;
	bool rtcp = rtcp_fd || pkt_is_rtcp_type(pkt, len);
	if (!s->have_peer && !rtcp_fd && s->phase == PH_WAITING) {
		/* The client knows where to send before the SDP told us. */
		if (to)
			stream_learn_peer(s, to, tolen, s->local_mux);
		else if (f->peer.ss_family)
			stream_learn_peer(s, (const struct sockaddr *)&f->peer,
					  sizeof f->peer, s->local_mux);
		kick = stream_start_locked(s, now_ms());
	}
	switch (s->phase) {
	case PH_SECURE: {
		if (len > PROTECT_MAX || !s->tx) {
			s->st.tx_err++;
			break;
		}
		memcpy(s->out, pkt, len);
		int n = (int)len;
		srtp_err_status_t e = rtcp ? srtp_protect_rtcp(s->tx, s->out, &n)
					   : srtp_protect(s->tx, s->out, &n);
		if (e != srtp_err_status_ok || n < 0 || n > SHIM_PKT_MAX) {
			s->st.tx_err++;
			uint64_t t = now_ms();
			if (t - s->last_log_auth >= LOG_INTERVAL_MS) {
				s->last_log_auth = t;
				shim_log(SHIM_LOG_WARN, "media %s: srtp_protect "
					 "failed (%d), packet dropped (%llu so "
					 "far)", s->name, (int)e,
					 (unsigned long long)s->st.tx_err);
			}
			break;
		}
		s->st.tx_srtp++;
		*out = s->out;
		*out_len = (size_t)n;
		v = SHIM_REPLACE;
		break;
	}
	case PH_CLEAR:
		s->st.tx_clear++;
		v = SHIM_PASS;
		break;
	case PH_WAITING:
	case PH_NEGOTIATING:
		s->st.tx_held++;
		break;
	case PH_FAILED:
	case PH_ENDED:
		s->st.tx_dropped++;
		break;
	}
	if (v == SHIM_REPLACE) {
		tl_sending = s;   /* keeps the lock and the reference */
	} else {
		pthread_mutex_unlock(s->mu);
		stream_put(s);
	}
	if (kick)
		shim_timer_kick();
	errno = saved;
	return v;
}

void shim_media_send_done(struct shim_fd *f)
{
	struct shim_media *s = tl_sending;
	if (!s)
		return;
	tl_sending = NULL;
	int saved = errno;
	pthread_mutex_unlock(s->mu);
	stream_put(s);
	errno = saved;
}

/* --- incoming ------------------------------------------------------------- */

static void log_rate(struct shim_media *s, uint64_t *last, const char *what,
		     uint64_t count)
{
	uint64_t t = now_ms();
	if (*last && t - *last < LOG_INTERVAL_MS)
		return;
	*last = t;
	shim_log(SHIM_LOG_WARN, "media %s: dropped %s (%llu so far)", s->name,
		 what, (unsigned long long)count);
}

/*
 * The identity of one ZRTP datagram for reader_peek_past: its CRC-32C
 * trailer and its length. A retransmission has a new sequence number and
 * so another CRC; only the very same datagram (or a byte-exact duplicate,
 * which the engine would treat as one anyway) has the same id.
 */
static uint32_t zrtp_copy_id(const uint8_t *p, size_t len)
{
	return be32(p + len - ZRTP_CRC_LEN) ^ (uint32_t)len * 2654435761u;
}

static bool peeked_find(const struct shim_media *s, uint32_t id, unsigned *at)
{
	for (unsigned i = 0; i < s->n_peeked; i++)
		if (s->peeked[i] == id) {
			*at = i;
			return true;
		}
	return false;
}

static void peeked_remove(struct shim_media *s, unsigned at)
{
	memmove(&s->peeked[at], &s->peeked[at + 1],
		(s->n_peeked - at - 1) * sizeof s->peeked[0]);
	s->n_peeked--;
}

static void peeked_add(struct shim_media *s, uint32_t id)
{
	if (s->n_peeked == PEEKED_MAX)   /* forgotten: read again, a duplicate */
		peeked_remove(s, 0);
	s->peeked[s->n_peeked++] = id;
}

/* call->mu held. The verdict for one received packet, unprotected in
 * place. *kick: an engine ran (its deadline may have moved). */
static enum shim_verdict incoming_locked(struct shim_media *s, struct shim_fd *f,
					 int fd, uint8_t *buf, size_t len,
					 size_t *new_len,
					 const struct sockaddr *from,
					 socklen_t fromlen, bool *kick)
{
	bool on_rtcp_fd = atomic_load(&s->rtcp_fd) == fd &&
			  atomic_load(&s->rtp_fd) != fd;

	if (pkt_is_zrtp(buf, len)) {
		unsigned at;
		if (s->n_peeked && !on_rtcp_fd &&
		    peeked_find(s, zrtp_copy_id(buf, len), &at)) {
			/* its copy already went to the engine */
			peeked_remove(s, at);
			return SHIM_DROP;
		}
		s->st.rx_zrtp++;
		if (s->phase == PH_ENDED)
			return SHIM_DROP;
		if (on_rtcp_fd) {
			s->st.rx_zrtp_bad++;   /* ZRTP belongs on the RTP port */
			return SHIM_DROP;
		}
		uint64_t now = now_ms();
		if (!s->have_peer && from)
			stream_learn_peer(s, from, fromlen, s->local_mux);
		stream_start_locked(s, now);
		if (!s->zs || !s->started) {
			s->st.rx_zrtp_bad++;
			return SHIM_DROP;
		}
		int perr = 0;
		int r = zrtp_stream_input(s->zs, buf, len, now, &perr);
		if (r < 0) {
			s->st.rx_zrtp_bad++;
			shim_log(SHIM_LOG_DEBUG, "media %s: ZRTP packet refused: "
				 "%s%s%s", s->name, zrtp_fail_str((enum zrtp_fail)-r),
				 perr ? ": " : "",
				 perr ? zrtp_parse_err_str(perr) : "");
		}
		*kick = true;
		return SHIM_DROP;
	}
	if (!pkt_is_rtp2(buf, len))
		return SHIM_PASS;
	bool rtcp = on_rtcp_fd || pkt_is_rtcp_type(buf, len);

	if (s->phase == PH_CLEAR) {
		s->st.rx_clear++;
		return SHIM_PASS;
	}
	if (s->phase == PH_ENDED || s->phase == PH_FAILED || !s->rx) {
		s->st.rx_early++;
		log_rate(s, &s->last_log_early,
			 s->phase == PH_FAILED || s->phase == PH_ENDED
				 ? "RTP on a stream that is not secure"
				 : "RTP before the ZRTP handshake gave keys",
			 s->st.rx_early);
		return SHIM_DROP;
	}
	int n = (int)len;
	srtp_err_status_t e = rtcp ? srtp_unprotect_rtcp(s->rx, buf, &n)
				   : srtp_unprotect(s->rx, buf, &n);
	switch (e) {
	case srtp_err_status_ok:
		break;
	case srtp_err_status_auth_fail:
		s->st.rx_auth_fail++;
		log_rate(s, &s->last_log_auth, "packets failing SRTP "
			 "authentication (tampered, forged or cleartext)",
			 s->st.rx_auth_fail);
		return SHIM_DROP;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		s->st.rx_replay++;
		return SHIM_DROP;
	default:
		s->st.rx_err++;
		return SHIM_DROP;
	}
	if (n < 0 || (size_t)n > len) {
		s->st.rx_err++;
		return SHIM_DROP;
	}
	s->st.rx_srtp++;
	if (s->phase != PH_SECURE && s->zs &&
	    zrtp_stream_state(s->zs) == ZRTP_ST_WAIT_CONF2ACK) {
		/* RFC 6189 §4.6 (as bzrtp): SRTP from the peer that
		 * authenticates is an implicit Conf2ACK. */
		zrtp_stream_srtp_received(s->zs, now_ms());
		*kick = true;
	}
	*new_len = (size_t)n;
	return SHIM_REPLACE;
}

/*
 * MSG_PEEK: libsrtp has no way to authenticate without advancing the
 * replay window, and no context clone. So the first look at a packet
 * (peek or not) unprotects it for real, and a peek remembers the
 * ciphertext, the verdict and the plaintext in a slot per fd; the next
 * look at the same bytes on that fd (another peek, or the read that
 * consumes it) gets the same answer from the slot without touching the
 * window again. The read that consumes the packet (any non-peek call)
 * empties the slot, so a later replay of the same bytes meets the replay
 * window and is dropped.
 */
enum shim_verdict shim_media_incoming(struct shim_fd *f, uint8_t *buf,
				      size_t len, size_t *new_len,
				      const struct sockaddr *from,
				      socklen_t fromlen, bool peek)
{
	*new_len = len;
	if (pkt_is_stun(buf, len))
		return SHIM_PASS;
	struct shim_media *s = media_get(f);
	if (!s)
		return SHIM_PASS;
	media_init();
	int saved = errno;
	bool kick = false;
	enum shim_verdict v;

	pthread_mutex_lock(s->mu);
	int role = atomic_load(&s->rtp_fd) == f->fd ? 0 : 1;
	struct peek_slot *slot = &s->peek[role];
	if (slot->valid && slot->fd == f->fd && slot->ct_len == len &&
	    len <= sizeof slot->ct && memcmp(slot->ct, buf, len) == 0) {
		v = slot->verdict;
		if (v == SHIM_REPLACE) {
			memcpy(buf, slot->pt, slot->pt_len);
			*new_len = slot->pt_len;
		}
		if (!peek)
			sodium_memzero(slot, sizeof *slot);
	} else {
		if (!peek && slot->valid)
			sodium_memzero(slot, sizeof *slot);
		bool keep = peek && len <= sizeof slot->ct;
		if (keep)
			memcpy(slot->ct, buf, len);
		v = incoming_locked(s, f, f->fd, buf, len, new_len, from,
				    fromlen, &kick);
		if (keep) {
			slot->valid = true;
			slot->fd = f->fd;
			slot->ct_len = len;
			slot->verdict = v;
			slot->pt_len = v == SHIM_REPLACE ? *new_len : 0;
			if (v == SHIM_REPLACE)
				memcpy(slot->pt, buf, *new_len);
		}
	}
	pthread_mutex_unlock(s->mu);
	stream_put(s);
	if (kick)
		shim_timer_kick();
	errno = saved;
	return v;
}

/* --- the timer's work ----------------------------------------------------- */

/* Timer thread only. */
static uint8_t reader_buf[SHIM_PKT_MAX];

/* One datagram of fd into reader_buf, never blocking (flags: MSG_PEEK or
 * 0), its sender in *from. */
static ssize_t reader_recv(int fd, int flags, struct sockaddr_storage *from,
			   socklen_t *fl)
{
	*fl = sizeof *from;
	return shim_real.recvfrom(fd, reader_buf, sizeof reader_buf,
				  flags | MSG_DONTWAIT,
				  (struct sockaddr *)from, fl);
}

/*
 * Take ZRTP packets from the head of an unread fd's queue at once: the
 * client never gets ZRTP whoever reads first, so this takes nothing from
 * it, and a client that never reads (sipp's rtp_stream) then completes its
 * handshake at network speed instead of at the pace of the 300 ms rule.
 * Stops at the first packet that is not ZRTP. Returns how many it took.
 */
static int reader_take_zrtp(struct shim_media *s, struct shim_fd *f, int fd)
{
	int taken = 0;
	for (int i = 0; i < 64 && !atomic_load(&f->client_reads); i++) {
		struct sockaddr_storage from;
		socklen_t fl;
		ssize_t n = reader_recv(fd, MSG_PEEK, &from, &fl);
		if (n < 0 || !pkt_is_zrtp(reader_buf, (size_t)n))
			break;
		n = reader_recv(fd, 0, &from, &fl);
		if (n < 0)
			break;
		bool kick = false;
		size_t nl = 0;
		pthread_mutex_lock(s->mu);
		incoming_locked(s, f, fd, reader_buf, (size_t)n, &nl,
				(struct sockaddr *)&from, fl, &kick);
		pthread_mutex_unlock(s->mu);
		taken++;
	}
	return taken;
}

/*
 * ZRTP queued behind a packet that is not ZRTP, on an fd the client never
 * reads: linphonec sends a STUN request just before its Hello. The head
 * may be taken only after READER_DELAY_MS (the client might read it), and
 * the handshake would wait that long. Where the kernel lets UDP peek at an
 * offset (SO_PEEK_OFF), look past the head and give the engine a copy of
 * each ZRTP packet, leaving the queue as it was; the copy's id is kept so
 * that the packet, when read from the queue later (by the duty below or by
 * the client), is not given twice. The offset is set back to -1 (plain
 * peeks) at once; only an fd the client has not read yet is touched. (A
 * client whose very first read is a MSG_PEEK made during those few
 * microseconds would peek past the head; a plain read is not affected,
 * the kernel moves the offset back. Accepted.) Without SO_PEEK_OFF
 * (ENOPROTOOPT, EOPNOTSUPP) it does nothing.
 */
static atomic_bool peek_off_unsupported;

/* How long data may wait at the head of an fd the client does not read
 * before the shim reads it. A variable only so that a test can make it
 * endless and see that ZRTP behind the head is still found. */
uint32_t shim_media_reader_delay_ms = READER_DELAY_MS;

static void reader_peek_past(struct shim_media *s, struct shim_fd *f, int fd)
{
	int off = 0;
	if (atomic_load(&peek_off_unsupported))
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off) < 0) {
		if (errno == ENOPROTOOPT || errno == EOPNOTSUPP)
			atomic_store(&peek_off_unsupported, true);
		return;
	}
	for (int i = 0; i < 64 && !atomic_load(&f->client_reads); i++) {
		struct sockaddr_storage from;
		socklen_t fl;
		ssize_t n = reader_recv(fd, MSG_PEEK, &from, &fl);
		if (n < 0)
			break;
		if (!pkt_is_zrtp(reader_buf, (size_t)n))
			continue;
		uint32_t id = zrtp_copy_id(reader_buf, (size_t)n);
		unsigned at;
		bool kick = false;
		size_t nl = 0;
		pthread_mutex_lock(s->mu);
		if (!peeked_find(s, id, &at)) {
			incoming_locked(s, f, fd, reader_buf, (size_t)n, &nl,
					(struct sockaddr *)&from, fl, &kick);
			peeked_add(s, id);
			s->st.rx_zrtp_peeked++;
		}
		pthread_mutex_unlock(s->mu);
	}
	off = -1;
	setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
}

/*
 * Reader duty for one fd of s the client never reads: once data has been
 * pending for READER_DELAY_MS, read it (MSG_DONTWAIT) and give ZRTP to the
 * engine; everything else is counted as dropped (the client would never
 * have read it). Returns when to look again.
 */
static uint64_t reader_duty(struct shim_media *s, int role, uint64_t now)
{
	int fd = atomic_load(role == 0 ? &s->rtp_fd : &s->rtcp_fd);
	if (fd < 0 || (role == 1 && fd == atomic_load(&s->rtp_fd)))
		return UINT64_MAX;
	struct shim_fd *f = shim_fd_get(fd);
	if (!f)
		return UINT64_MAX;
	uint64_t next = UINT64_MAX;
	if (atomic_load(&f->media) != s || atomic_load(&f->client_reads))
		goto out;
	pthread_mutex_lock(s->mu);
	bool negotiating = s->phase == PH_NEGOTIATING;
	pthread_mutex_unlock(s->mu);
	next = now + (negotiating ? READER_ZRTP_POLL_MS : READER_POLL_MS);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) {
		s->pending_since[role] = 0;
		goto out;
	}
	if (reader_take_zrtp(s, f, fd) > 0 &&
	    (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))) {
		s->pending_since[role] = 0;
		goto out;
	}
	if (negotiating && role == 0)
		reader_peek_past(s, f, fd);
	/* while negotiating, keep looking past the head every
	 * READER_ZRTP_POLL_MS (next as set above) */
	if (!s->pending_since[role]) {
		s->pending_since[role] = now;
		if (!negotiating)
			next = now + shim_media_reader_delay_ms;
		goto out;
	}
	if (now - s->pending_since[role] < shim_media_reader_delay_ms) {
		if (!negotiating)
			next = s->pending_since[role] + shim_media_reader_delay_ms;
		goto out;
	}
	s->pending_since[role] = 0;
	for (int i = 0; i < 256; i++) {
		if (atomic_load(&f->client_reads))
			break;
		struct sockaddr_storage from;
		socklen_t fl;
		ssize_t n = reader_recv(fd, 0, &from, &fl);
		if (n < 0)
			break;
		bool kick = false, zrtp = pkt_is_zrtp(reader_buf, (size_t)n);
		size_t nl = 0;
		pthread_mutex_lock(s->mu);
		incoming_locked(s, f, fd, reader_buf, (size_t)n, &nl,
				(struct sockaddr *)&from, fl, &kick);
		if (!zrtp)
			s->st.rx_not_reading++;
		pthread_mutex_unlock(s->mu);
	}
	next = now + READER_POLL_MS;
out:
	shim_fd_put(f);
	return next;
}

uint64_t shim_media_timer_run(uint64_t now)
{
	struct shim_media *list[MEDIA_MAX_CALLS * MEDIA_MAX_LINES];
	size_t n = 0;
	uint64_t next = UINT64_MAX;

	pthread_mutex_lock(&media_mu);
	for (int i = 0; i < MEDIA_MAX_CALLS; i++)
		for (int j = 0; calls[i] && j < MEDIA_MAX_LINES; j++)
			if (calls[i]->lines[j]) {
				calls[i]->lines[j]->refs++;
				list[n++] = calls[i]->lines[j];
			}
	pthread_mutex_unlock(&media_mu);

	for (size_t k = 0; k < n; k++) {
		struct shim_media *s = list[k];
		pthread_mutex_lock(s->mu);
		if (s->zs && s->started && s->phase != PH_ENDED) {
			if (zrtp_stream_deadline(s->zs) <= now)
				zrtp_stream_tick(s->zs, now);
			uint64_t d = s->zs ? zrtp_stream_deadline(s->zs)
					   : ZRTP_NO_DEADLINE;
			if (d < next)
				next = d;
		}
		bool duty = s->phase != PH_ENDED;
		pthread_mutex_unlock(s->mu);
		if (duty)
			for (int role = 0; role < 2; role++) {
				uint64_t d = reader_duty(s, role, now);
				if (d < next)
					next = d;
			}
		stream_put(s);
	}
	return next;
}

/* --- status, fork ---------------------------------------------------------- */

int shim_media_stats_get(size_t i, struct shim_media_stats *out)
{
	struct shim_media *s = NULL;
	size_t k = 0;
	pthread_mutex_lock(&media_mu);
	for (int c = 0; c < MEDIA_MAX_CALLS && !s; c++)
		for (int j = 0; calls[c] && j < MEDIA_MAX_LINES && !s; j++)
			if (calls[c]->lines[j] && k++ == i) {
				s = calls[c]->lines[j];
				s->refs++;
			}
	pthread_mutex_unlock(&media_mu);
	if (!s)
		return -ENOENT;
	pthread_mutex_lock(s->mu);
	*out = s->st;
	snprintf(out->name, sizeof out->name, "%s", s->name);
	out->phase = phase_names[s->phase];
	out->zrtp_state = s->zs ? (int)zrtp_stream_state(s->zs) : -1;
	snprintf(out->sas, sizeof out->sas, "%s", s->sas);
	pthread_mutex_unlock(s->mu);
	stream_put(s);
	return 0;
}

static pid_t forked_for;

void shim_media_atfork_child(void)
{
	pid_t me = getpid();
	if (forked_for == me)
		return;
	forked_for = me;
	/* One thread now: whatever a vanished thread held is re-made. */
	pthread_mutex_init(&media_mu, NULL);
	pthread_mutex_init(&cache_mu, NULL);
	tl_sending = NULL;
	for (int i = 0; i < MEDIA_MAX_CALLS; i++) {
		struct shim_call *c = calls[i];
		if (!c)
			continue;
		pthread_mutex_init(&c->mu, NULL);
		for (int j = 0; j < MEDIA_MAX_LINES; j++) {
			struct shim_media *s = c->lines[j];
			if (!s)
				continue;
			/* The parent goes on with these keys and indexes;
			 * the child must never reuse them. The engine may be
			 * mid-update: leave it alone until the stream dies. */
			if (s->tx)
				srtp_dealloc(s->tx);
			if (s->rx)
				srtp_dealloc(s->rx);
			s->tx = s->rx = NULL;
			sodium_memzero(s->peek, sizeof s->peek);
			s->phase = PH_ENDED;
		}
	}
	if (cache_lock_fd >= 0) {
		shim_real.close(cache_lock_fd);
		cache_lock_fd = -1;
	}
	if (cache) {
		zrtp_cache_free(cache);
		cache = NULL;
	}
	shim_timer_atfork_child();
}
