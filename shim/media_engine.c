/*
 * The engine side of a stream (media_int.h): libsrtp2 and libsodium set
 * up once, the call's zrtp_session and each stream's zrtp_stream, and the
 * engine's callbacks: send (ZRTP out on the stream's RTP socket), random,
 * the cache (cache.c), and events, which move the stream's phase (the
 * table at the top of media_path.c), make its SRTP contexts from the
 * negotiated keys (common/suite.h) and tell the user (events.c, and the
 * key log when it is on).
 *
 * Every function here runs with the call's mutex held, except media_init.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <sodium.h>
#include <srtp2/srtp.h>

#include "common/suite.h"
#include "shim/cache.h"
#include "shim/addr.h"
#include "shim/events.h"
#include "shim/keylog.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/real.h"
#include "shim/settings.h"
#include "shim/srtp_evp.h"
#include "zrtp/zrtp.h"

/* --- one-time setup ------------------------------------------------------- */

static pthread_once_t media_once = PTHREAD_ONCE_INIT;
static bool srtp_ok;

static void media_atfork_handler(void)
{
	shim_media_atfork_child();
}

/*
 * Where the shim is linked with the shared libsrtp2 (shim/static-deps.sh
 * found no archive), Debian's libsrtp2 does its crypto on NSS until
 * srtp_evp_install: each of its AES and HMAC contexts opens an NSS
 * context (NSS_InitContext) and closes it when freed, and NSS unloads its
 * softoken (softokn3, freebl, sqlite3) when the last one closes, so that
 * srtp_init's self-tests alone loaded and unloaded it 13 times (about
 * 20 ms of CPU). One context held for the life of the process keeps it
 * loaded. With libsrtp2.a linked in (the normal build), its kernel holds
 * our types from the start and NSS is not touched (srtp_evp.c); nor is a
 * client's own NSS. The flags are NSS's (nss.h), those of a read-only
 * context with no databases.
 */
static void nss_hold(void)
{
	typedef void *(*init_context_fn)(const char *, const char *,
					 const char *, const char *, void *,
					 unsigned int);
	enum { NSS_READONLY = 0x1, NSS_NOCERTDB = 0x2, NSS_NOMODDB = 0x4,
	       NSS_FORCEOPEN = 0x8, NSS_NOROOTINIT = 0x10,
	       NSS_OPTIMIZESPACE = 0x20 };
	static void *held;
	init_context_fn init;
	Dl_info ours, srtp;
	if (dladdr((void *)media_init, &ours) &&
	    dladdr((void *)srtp_init, &srtp) &&
	    ours.dli_fbase == srtp.dli_fbase)
		return;   /* libsrtp2.a, on our types */
	*(void **)&init = dlsym(RTLD_DEFAULT, "NSS_InitContext");
	if (!init || held)
		return;
	held = init("", "", "", "", NULL,
		    NSS_READONLY | NSS_NOCERTDB | NSS_NOMODDB | NSS_FORCEOPEN |
		    NSS_NOROOTINIT | NSS_OPTIMIZESPACE);
	if (!held)
		shim_log(SHIM_LOG_DEBUG, "media: NSS_InitContext failed "
			 "(libsrtp2 opens its own, slower)");
}

static void media_init_once(void)
{
	/* The shim's own libcrypto (linked in, Makefile.am) reads no
	 * openssl.cnf and loads no error strings: the system's or the
	 * client's OpenSSL configuration (OPENSSL_CONF) is the client's,
	 * and about 1 ms of CPU per process. Nor does it free itself at
	 * exit (OPENSSL_cleanup from atexit): that walked and freed all its
	 * method stores as the client exited, about 0.5 M instructions, for
	 * memory the exit returns anyway, and could free state under a
	 * client thread still sending media while the main thread exits.
	 * Before anything uses it: the first init decides. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
			    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS |
			    OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
			    OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
			    OPENSSL_INIT_NO_ATEXIT, NULL);
	nss_hold();
	if (sodium_init() < 0)
		shim_log(SHIM_LOG_ERROR, "media: sodium_init failed");
	srtp_err_status_t e = srtp_init();
	srtp_ok = e == srtp_err_status_ok;
	if (!srtp_ok)
		shim_log(SHIM_LOG_ERROR, "media: srtp_init failed (%d): no "
			 "media will flow", (int)e);
	/* AES and HMAC-SHA1 on libcrypto instead of Debian's NSS build
	 * (srtp_evp.h), where the kernel does not hold them already; a type
	 * libsrtp2 refuses stays its own, which is slower but byte-for-byte
	 * the same. */
	if (srtp_ok && (e = srtp_evp_install()) != srtp_err_status_ok)
		shim_log(SHIM_LOG_WARN, "media: SRTP stays partly on libsrtp2's "
			 "own AES/HMAC (%d)", (int)e);
	pthread_atfork(NULL, NULL, media_atfork_handler);
}

void media_init(void)
{
	pthread_once(&media_once, media_init_once);
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

static int cb_random(void *arg, uint8_t *buf, size_t len)
{
	randombytes_buf(buf, len);
	return 0;
}


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
				     s->have_peer ? shim_addr_len(&s->peer_rtp) : 0);
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
		 "hash=%s verified=%s continuity=%s hello-hash=%s", s->name,
		 ev->sas ? ev->sas : "", t,
		 ev->role == ZRTP_ROLE_INITIATOR ? "initiator" : "responder",
		 k, c, a, h, ev->verified ? "yes" : "no",
		 ev->rs1_match ? "cached secret matched" : "none",
		 s->hash_set ? "matched" : "not (yet) known");
}

/* --- pins (DESIGN.md, "Pinning") ------------------------------------------ */

/*
 * A SIP identity that completed ZRTP is pinned to the peer's ZID in the
 * cache (shim_cache_peer_secure, at SECURE). A later call with that
 * identity is held to ZRTP whatever the policy: without it, whoever can
 * answer for the identity (a forged From, a hijacked registration, a
 * proxy that strips a=zrtp-hash) could talk the shim into clear media
 * with opportunistic. The alarm is raised once per call, as early as the
 * SDP shows it (no a=zrtp-hash) and at the latest when the Hello retries
 * end; a ZID other than the pinned one is reported at SECURE, the call
 * staying secure: the users compare the SAS and decide
 * (`zrtpshim cache forget`/`unpin`).
 */
/* peer_zid (hex): the ZID the peer showed, or for a peer without ZRTP the
 * one its identity is pinned to, so the event names the peer as the cache
 * knows it (events.c: the note's peer_name). */
static void pin_alarm_locked(struct shim_media *s, const char *peer_zid,
			     const char *reason)
{
	if (s->call->pin_alarmed)
		return;
	s->call->pin_alarmed = true;
	shim_events_emit_shim(SHIM_EVENT_PIN_ALARM, s->name, "pin-alarm",
			      s->sas[0] ? s->sas : NULL, peer_zid, reason);
}

void media_pin_check_locked(struct shim_media *s,
			    const struct shim_media_desc *d)
{
	struct shim_call *c = s->call;
	if (d->peer_sip_id[0] && strcmp(c->peer_id, d->peer_sip_id) != 0) {
		snprintf(c->peer_id, sizeof c->peer_id, "%s", d->peer_sip_id);
		c->pinned = shim_cache_pin_lookup(c->peer_id, c->pin_zid) == 0;
		if (c->pinned)
			shim_log(SHIM_LOG_INFO, "media %s: %s is pinned to ZID "
				 "%02x%02x%02x...: this call must be ZRTP",
				 s->name, c->peer_id, c->pin_zid[0],
				 c->pin_zid[1], c->pin_zid[2]);
	}
	if (d->peer_display[0])
		snprintf(c->peer_name, sizeof c->peer_name, "%s",
			 d->peer_display);
	if (c->pinned && d->have_peer && !d->peer_signals_zrtp &&
	    !s->peer_spoke_zrtp && s->phase != PH_SECURE) {
		char zid[25], reason[400];
		sodium_bin2hex(zid, sizeof zid, c->pin_zid, 12);
		snprintf(reason, sizeof reason, "%s spoke ZRTP before (ZID %s) "
			 "but its SDP of this call has no a=zrtp-hash: it may "
			 "not be who it claims; no media of this call goes out "
			 "in clear", c->peer_id, zid);
		pin_alarm_locked(s, zid, reason);
	}
}

/* At SECURE: store who the peer is with its ZID, pin the identity, and
 * report a ZID other than the pinned one. */
static void pin_secure_locked(struct shim_media *s, const uint8_t *peer_zid,
			      bool *other, char other_reason[400])
{
	struct shim_call *c = s->call;
	uint8_t old[12];
	*other = false;
	if (!peer_zid || !c->peer_id[0])
		return;
	int r = shim_cache_peer_secure(peer_zid, c->peer_id, c->peer_name, old);
	if (r == 1) {
		char nz[25], oz[25];
		sodium_bin2hex(nz, sizeof nz, peer_zid, 12);
		sodium_bin2hex(oz, sizeof oz, old, 12);
		snprintf(other_reason, 400, "possible attack: %s answered with "
			 "another ZRTP identity (ZID %s) than the one pinned "
			 "(ZID %s): compare the SAS aloud before you talk",
			 c->peer_id, nz, oz);
		*other = true;
	} else if (r == 0 && !c->pinned) {
		shim_log(SHIM_LOG_INFO, "media %s: %s pinned to its ZID",
			 s->name, c->peer_id);
		c->pinned = true;
		memcpy(c->pin_zid, peer_zid, 12);
	}
}

static void on_failed(struct shim_media *s, const struct zrtp_event *ev)
{
	if (s->phase == PH_SECURE || s->phase == PH_ENDED)
		return;
	if (s->call->pinned && ev->reason == ZRTP_FAIL_NO_PEER &&
	    !s->peer_spoke_zrtp) {
		char zid[25], reason[400];
		sodium_bin2hex(zid, sizeof zid, s->call->pin_zid, 12);
		snprintf(reason, sizeof reason, "%s spoke ZRTP before (ZID %s) "
			 "but no ZRTP Hello came in this call: it may not be "
			 "who it claims; no media of this call goes out in "
			 "clear", s->call->peer_id, zid);
		pin_alarm_locked(s, zid, reason);
	}
	bool clear_ok = shim_config.policy == SHIM_POLICY_OPPORTUNISTIC &&
			ev->reason == ZRTP_FAIL_NO_PEER &&
			!s->call->pinned &&
			!s->peer_signals_zrtp && !s->peer_spoke_zrtp;
	if (clear_ok) {
		s->phase = PH_CLEAR;
		shim_log(SHIM_LOG_WARN,
			 "media %s: the peer does not speak ZRTP: media of this "
			 "call flows IN CLEAR (policy opportunistic)", s->name);
		s->clear_logged = true;
		shim_events_emit_shim(SHIM_EVENT_CLEAR, s->name, "clear", "",
				      "", "the peer does not speak ZRTP: this "
				      "call is not encrypted (policy "
				      "opportunistic)");
		return;
	}
	s->phase = PH_FAILED;
	if (!s->fail_logged) {
		const char *why = ev->reason == ZRTP_FAIL_NO_PEER &&
					  shim_config.policy == SHIM_POLICY_OPPORTUNISTIC
				  ? (s->call->pinned
				     ? " (the peer's identity is pinned, so no "
				       "fallback to clear)"
				     : " (the peer signalled ZRTP, so no fallback "
				       "to clear)")
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
	bool pin_other = false;
	char pin_reason[400];

	switch (ev->type) {
	case ZRTP_EV_PEER_HELLO:
		/* The engine emits it only after the Hello passed the check
		 * against a hash it already had (RFC 6189 §8.1.1). */
		if (s->hash_set)
			shim_log(SHIM_LOG_INFO, "media %s: the peer's Hello "
				 "matches the a=zrtp-hash of its SDP", s->name);
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
		if (ev->peer_zid)
			sodium_bin2hex(s->kp.peer_zid, sizeof s->kp.peer_zid,
				       ev->peer_zid, 12);
		log_secure(s, ev);
		pin_secure_locked(s, ev->peer_zid, &pin_other, pin_reason);
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
	if (pin_other) {
		char nz[25];
		sodium_bin2hex(nz, sizeof nz, ev->peer_zid, 12);
		pin_alarm_locked(s, nz, pin_reason);
	}
}

static const struct zrtp_callbacks media_callbacks = {
	.random = cb_random,
	.cache_get = shim_cache_get,
	.cache_put = shim_cache_put,
	.cache_recent = shim_cache_recent,
	.send = cb_send,
	.event = cb_event,
};


/* --- the engine of a stream ---------------------------------------------- */

static struct zrtp_session *session_new(struct shim_call *c)
{
	struct zrtp_config cfg;
	uint8_t zid[12];
	shim_cache_own_zid(zid);
	zrtp_config_default(&cfg, zid);
	if (shim_config.algos[0] &&
	    zrtp_algo_prefs_parse(&cfg.prefs, shim_config.algos) < 0) {
		shim_log(SHIM_LOG_WARN, "media: ZRTPSHIM_ALGOS \"%s\" is not "
			 "valid: using the defaults", shim_config.algos);
		zrtp_algo_prefs_default(&cfg.prefs);
	}
	return zrtp_session_new(&cfg, &media_callbacks, c);
}

int media_stream_engine_locked(struct shim_media *s)
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

bool media_stream_start_locked(struct shim_media *s, uint64_t now)
{
	if (s->started || !s->have_peer || media_stream_engine_locked(s) < 0)
		return false;
	s->started = true;
	if (s->phase == PH_WAITING)
		s->phase = PH_NEGOTIATING;
	zrtp_stream_start(s->zs, now);
	shim_log(SHIM_LOG_DEBUG, "media %s: ZRTP started", s->name);
	return true;
}

bool media_stream_end_drain_locked(struct shim_media *s, uint64_t now)
{
	srtp_t rx = s->phase == PH_SECURE ? s->rx : NULL;
	s->rx = NULL;
	media_stream_end_locked(s);
	if (!rx)
		return false;
	s->rx = rx;
	s->rx_until = now + MEDIA_END_RX_MS;
	return true;
}

void media_stream_end_locked(struct shim_media *s)
{
	/* first: the keypad's last gathered audio may hold a key, acted on
	 * while the stream still has its ZRTP stream */
	media_keypad_end_locked(s);
	s->rx_until = 0;
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
	media_peek_free_locked(s);
	media_prompt_end_locked(s);
	s->phase = PH_ENDED;
}

