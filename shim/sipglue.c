/*
 * SIP on the client's sockets: what the offer/answer exchange of each call
 * says about its media, and the a=zrtp-hash rewrite (RFC 6189 §8.1).
 *
 * Every SIP message the client sends or receives passes through here once
 * (io.c hands over UDP datagrams and complete TCP messages). sdp/ parses
 * it without copying; this file keeps, per Call-ID, the state the parser
 * cannot know:
 *
 *   - who has an offer outstanding (RFC 3261 §13.2.1, RFC 6337): needed to
 *     tell an offer from an answer (sip_dialog_classify), including the
 *     cases the message alone does not settle: a 2xx repeating the answer
 *     of an 18x, retransmitted responses, an INVITE without SDP (the 2xx
 *     offers, the ACK answers);
 *   - per m= line, our side (local RTP port, RTCP port or rtcp-mux, from
 *     the last SDP we sent) and the peer's (address, ports, mux, and its
 *     a=zrtp-hash, from the last SDP it sent).
 *
 * shim_media_describe is called for each protectable m= line when we send
 * SDP (it creates the stream and gives our Hello hash for the rewrite) and
 * again when the peer's SDP arrives; it attaches the fds and starts ZRTP
 * once both sides are known. The outgoing message is rewritten with
 * sdp_rewrite_zrtp_hash; if that fails it goes out unchanged, and the log
 * says why. Incoming messages are never modified.
 *
 * Every RTP-over-UDP profile is protectable alike (sdp.h's enum
 * sdp_profile): RTP/AVP(F), RTP/SAVP(F) with the client's SDES-SRTP, which
 * travels inside ours, and UDP/TLS/RTP/SAVP(F), whose DTLS records pass
 * untouched. An active m= line the shim cannot protect (RTP over TCP, an
 * unknown proto) is left alone entirely, never half-protected, and said
 * so: one WARN line per call and the line's entry in the status file.
 * So are ICE-TCP candidates on a line we do protect (RFC 6544: if ICE
 * picks one, that media leaves through TCP, where the shim is not).
 *
 * A call ends on BYE or CANCEL (either way), or a final non-2xx to its
 * first INVITE (a failed re-INVITE leaves the session as it was, §14.1):
 * its streams end (shim_media_call_ended). Memory is bounded: at most
 * SIPG_MAX_CALLS calls (the table of pointers grows by doubling, each call
 * allocated on its own); ended calls linger SIPG_ENDED_MS to absorb
 * retransmissions (a retransmitted BYE must not start anything), calls that
 * never got an answer expire after SIPG_IDLE_MS, and when the table is at
 * its ceiling the oldest ended call, else the oldest never-answered one, is
 * reclaimed; a live (answered) call is never evicted: the new call is
 * refused (an ERROR line and a "limit" event) and its media left alone.
 *
 * Each call also remembers who the peer is (learn_identity): every
 * request names its sender in From and its recipient in To, and a
 * response repeats its request's, so the peer is To in what we send as a
 * request and in the responses we receive, and From in the requests we
 * receive and the responses we send. A P-Asserted-Identity (RFC 3325) in
 * a message from the peer's side, when it names a sip:/sips: URI, is
 * preferred: a proxy of the peer's domain vouches for it. The identity
 * reaches the media layer with each line (it keys the pins of the cache).
 *
 * Locking: one mutex (sipg_mu) around the table, held while calling
 * shim_media_describe / shim_media_call_ended / shim_status_refresh. Lock
 * order: sipg_mu before any media lock and before status.c's; nothing in
 * the media layer, timer.c, events.c or status.c takes sipg_mu. After
 * each message (lock released) the status file is refreshed with the
 * streams' counters.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/demux.h"
#include "common/strmap.h"
#include "sdp/sdp.h"
#include "shim/clock.h"
#include "shim/events.h"
#include "shim/keypad.h"
#include "shim/log.h"
#include "shim/media.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "shim/sipglue.h"
#include "shim/status.h"

/* A hard ceiling on tracked calls (memory against a flood of INVITEs with
 * new Call-IDs); the table grows by doubling up to it. A test may lower it
 * (shim_sip_test_set_max_calls). */
#ifndef SIPG_MAX_CALLS
#define SIPG_MAX_CALLS 16384
#endif
#define SIPG_MAX_LINES SDP_MAX_MEDIA
#define SIPG_CALL_ID_MAX 256
#define SIPG_ENDED_MS (32u * 1000u)        /* RFC 3261 Timer B/F: 64*T1 */
#define SIPG_IDLE_MS (5u * 60u * 1000u)    /* no answer in 5 minutes */
#define SIPG_ZRTP_VERSION "1.10"

enum side { SIDE_NONE, SIDE_LOCAL, SIDE_PEER };

/* A transport address as a key: IPv6 (IPv4 mapped), then the port. */
#define SIPG_ADDR_KEY 18

struct sipg_line {
	/* Our side, from the last SDP we sent. */
	bool have_local;
	bool local_protectable;
	uint16_t local_rtp, local_rtcp;
	bool local_mux;
	/* The peer's side, from the last SDP it sent. */
	bool have_peer;
	bool peer_protectable;
	struct sockaddr_storage peer_rtp, peer_rtcp;
	bool peer_mux;
	bool peer_hash_present;
	char peer_hash[65];
	/* Our Hello hash (from shim_media_describe). */
	bool have_hash;
	char hash[65];
	/* Told the status file this line is (partly) not protected. */
	bool unprot_noted;
	/* m=audio, and each side's payload types (a=rtpmap, RFC 3551) */
	bool audio;
	struct shim_codec_map local_codecs, peer_codecs;
};

struct sipg_call {
	bool used;
	char id[SIPG_CALL_ID_MAX];
	size_t id_len;
	uint64_t last_ms;
	bool ended;
	uint64_t ended_ms;
	/* An answer was exchanged for an INVITE: the session exists, and a
	 * failed re-INVITE must not end it. */
	bool established;
	/* The outstanding offer (RFC 3264): who made it, in which request. */
	enum side offer_by;
	uint32_t offer_cseq;
	/* The WARN about lines the shim cannot protect: once per call. */
	bool unprot_logged;
	/* The INVITE whose offer was answered by a response (18x or 2xx):
	 * SDP in later responses to it repeats that answer (RFC 6337 §3.1). */
	enum side answered_by;
	uint32_t answered_cseq;
	bool answered_valid;
	size_t n_lines;
	/* lines_cap (<= SIPG_MAX_LINES) allocated, grown to the most m=
	 * lines an SDP of the call had (lines_reserve), zeroed when made. */
	struct sipg_line *lines;
	size_t lines_cap;
	/* The peer's identity (learn_identity); "" until known. */
	char peer_id[128];
	char peer_name[64];
	bool peer_id_asserted;          /* from P-Asserted-Identity */
	/* The peer media addresses this call has in sipg_peer_addrs
	 * (call_index_locked), as keys. */
	size_t n_indexed;
	uint8_t indexed[2 * SIPG_MAX_LINES][SIPG_ADDR_KEY];
};

static pthread_mutex_t sipg_mu = PTHREAD_MUTEX_INITIALIZER;
/* sipg_n slots in use at the front; sipg_cap allocated; each non-NULL. */
static struct sipg_call **sipg_calls;
static size_t sipg_n, sipg_cap;
/* Call-ID -> call (each key is the call's own id): a message finds its
 * call without a scan of the table. */
static struct strmap sipg_by_id = STRMAP_INIT;
/*
 * The peer media addresses (RTP and RTCP) of every live call's lines that
 * are protectable, each with how many lines name it: what
 * shim_sip_peer_media_addr asks per RTP-shaped send on an fd no stream
 * owns, answered without a scan of every call's lines. An entry's key is
 * its own bytes.
 */
struct sipg_addr_ref {
	uint8_t key[SIPG_ADDR_KEY];
	unsigned n;
};
static struct strmap sipg_peer_addrs = STRMAP_INIT;

/* The last sweep for calls that lived long enough (table_expire_locked):
 * at most once per SIPG_SWEEP_MS, not per message. */
static uint64_t sipg_swept_ms;
#define SIPG_SWEEP_MS 1000u
static size_t sipg_max = SIPG_MAX_CALLS;

static bool slice_eq(struct sip_slice s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* --- the peer address index ----------------------------------------------- */

static bool addr_key(const struct sockaddr *a, uint8_t key[SIPG_ADDR_KEY])
{
	memset(key, 0, SIPG_ADDR_KEY);
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)a;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &v4->sin_addr, 4);
		memcpy(key + 16, &v4->sin_port, 2);
		return true;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const void *)a;
		memcpy(key, &v6->sin6_addr, 16);
		memcpy(key + 16, &v6->sin6_port, 2);
		return true;
	}
	return false;
}

static void addr_ref_add(const uint8_t key[SIPG_ADDR_KEY])
{
	struct sipg_addr_ref *r = strmap_get(&sipg_peer_addrs,
					     (const char *)key, SIPG_ADDR_KEY);
	if (r) {
		r->n++;
		return;
	}
	r = calloc(1, sizeof *r);
	if (!r)
		return;   /* not indexed: such a send is not held early */
	memcpy(r->key, key, SIPG_ADDR_KEY);
	r->n = 1;
	if (strmap_put(&sipg_peer_addrs, (const char *)r->key, SIPG_ADDR_KEY,
		       r) < 0)
		free(r);
}

static void addr_ref_drop(const uint8_t key[SIPG_ADDR_KEY])
{
	struct sipg_addr_ref *r = strmap_get(&sipg_peer_addrs,
					     (const char *)key, SIPG_ADDR_KEY);
	if (r && --r->n == 0) {
		strmap_del(&sipg_peer_addrs, (const char *)r->key,
			   SIPG_ADDR_KEY);
		free(r);
	}
}

/* sipg_mu held. Make the index say what c's lines say now (nothing for
 * an ended call or one being dropped). O(lines). */
static void call_index_locked(struct sipg_call *c, bool drop)
{
	for (size_t i = 0; i < c->n_indexed; i++)
		addr_ref_drop(c->indexed[i]);
	c->n_indexed = 0;
	if (drop || c->ended)
		return;
	for (size_t j = 0; j < c->n_lines; j++) {
		const struct sipg_line *l = &c->lines[j];
		if (!l->have_peer || !l->peer_protectable)
			continue;
		const struct sockaddr_storage *a[2] = { &l->peer_rtp,
							&l->peer_rtcp };
		for (int k = 0; k < 2; k++) {
			uint8_t *key = c->indexed[c->n_indexed];
			if (!addr_key((const struct sockaddr *)a[k], key))
				continue;
			addr_ref_add(key);
			c->n_indexed++;
		}
	}
}

/* --- the table ------------------------------------------------------------ */

/* sipg_mu held. End a call's media, keep the slot to absorb retransmits. */
static void call_end_locked(struct sipg_call *c, uint64_t now, const char *why)
{
	if (c->ended)
		return;
	c->ended = true;
	c->ended_ms = now;
	c->offer_by = SIDE_NONE;
	call_index_locked(c, true);
	shim_log(SHIM_LOG_INFO, "sip: call %.*s ended (%s)", (int)c->id_len,
		 c->id, why);
	/* The status file keeps the streams' final counters. */
	shim_status_call_ending(c->id, c->id_len);
	shim_media_call_ended(c->id, c->id_len);
}

/* sipg_mu held. Free slot i; the last slot moves into it. */
static void call_drop_locked(size_t i)
{
	strmap_del(&sipg_by_id, sipg_calls[i]->id, sipg_calls[i]->id_len);
	call_index_locked(sipg_calls[i], true);
	free(sipg_calls[i]->lines);
	free(sipg_calls[i]);
	sipg_calls[i] = sipg_calls[--sipg_n];
	sipg_calls[sipg_n] = NULL;
}

/* sipg_mu held. Drop what has lived long enough: a sweep of the table,
 * so at most once per SIPG_SWEEP_MS (a lifetime is longer by that much at
 * most), or when the table is at its ceiling. */
static void table_expire_locked(uint64_t now, bool force)
{
	if (!force && now - sipg_swept_ms < SIPG_SWEEP_MS && now >= sipg_swept_ms)
		return;
	sipg_swept_ms = now;
	for (size_t i = 0; i < sipg_n;) {
		struct sipg_call *c = sipg_calls[i];
		if (c->ended && now - c->ended_ms >= SIPG_ENDED_MS) {
			call_drop_locked(i);
			continue;
		} else if (!c->ended && !c->established &&
			   now - c->last_ms >= SIPG_IDLE_MS) {
			call_end_locked(c, now, "no answer for 5 minutes");
			call_drop_locked(i);
			continue;
		}
		i++;
	}
}

/*
 * sipg_mu held. The call with this Call-ID, or a new slot for it. At the
 * ceiling: the oldest ended call, else the oldest call without an answer,
 * is reclaimed; if every call is live the new one is refused (NULL, an
 * ERROR line and a "limit" event): a live call is never evicted.
 */
static struct sipg_call *call_get_locked(struct sip_slice id, bool create,
					 uint64_t now)
{
	if (id.len == 0 || id.len > SIPG_CALL_ID_MAX)
		return NULL;
	struct sipg_call *found = strmap_get(&sipg_by_id, id.p, id.len);
	if (found || !create)
		return found;
	if (sipg_n >= sipg_max)
		table_expire_locked(now, true);
	if (sipg_n >= sipg_max) {
		size_t victim = SIZE_MAX;
		for (int pass = 0; pass < 2 && victim == SIZE_MAX; pass++)
			for (size_t i = 0; i < sipg_n; i++) {
				struct sipg_call *c = sipg_calls[i];
				bool ok = pass == 0 ? c->ended : !c->established;
				if (ok && (victim == SIZE_MAX ||
					   c->last_ms < sipg_calls[victim]->last_ms))
					victim = i;
			}
		if (victim == SIZE_MAX) {
			char name[SIPG_CALL_ID_MAX + 8];
			snprintf(name, sizeof name, "%.*s/*", (int)id.len, id.p);
			shim_log(SHIM_LOG_ERROR, "sip: %zu live calls tracked (the "
				 "limit): call %.*s refused, its media is left "
				 "alone (not protected)", sipg_n, (int)id.len,
				 id.p);
			shim_events_emit_shim(SHIM_EVENT_LIMIT, name, "limit", NULL,
					      NULL, "too many calls: this one "
					      "is not protected");
			return NULL;
		}
		struct sipg_call *v = sipg_calls[victim];
		if (!v->ended)
			shim_log(SHIM_LOG_WARN, "sip: %zu calls tracked: forgetting "
				 "unanswered call %.*s to make room",
				 sipg_n, (int)v->id_len, v->id);
		call_end_locked(v, now, "evicted");
		call_drop_locked(victim);
	}
	if (sipg_n == sipg_cap) {
		size_t cap = sipg_cap ? sipg_cap * 2 : 16;
		struct sipg_call **t = realloc(sipg_calls, cap * sizeof *t);
		if (!t) {
			shim_log(SHIM_LOG_ERROR, "sip: out of memory: call %.*s "
				 "not tracked", (int)id.len, id.p);
			return NULL;
		}
		sipg_calls = t;
		sipg_cap = cap;
	}
	struct sipg_call *c = calloc(1, sizeof *c);
	if (!c) {
		shim_log(SHIM_LOG_ERROR, "sip: out of memory: call %.*s not "
			 "tracked", (int)id.len, id.p);
		return NULL;
	}
	c->used = true;
	memcpy(c->id, id.p, id.len);
	c->id_len = id.len;
	if (strmap_put(&sipg_by_id, c->id, c->id_len, c) < 0) {
		shim_log(SHIM_LOG_ERROR, "sip: out of memory: call %.*s not "
			 "tracked", (int)id.len, id.p);
		free(c);
		return NULL;
	}
	c->last_ms = now;
	sipg_calls[sipg_n++] = c;
	return c;
}

void shim_sip_test_set_max_calls(size_t max)
{
	pthread_mutex_lock(&sipg_mu);
	sipg_max = max ? max : SIPG_MAX_CALLS;
	pthread_mutex_unlock(&sipg_mu);
}

/* --- SDP into line state -------------------------------------------------- */

/*
 * A transport address from an SDP address slice and port. Our socket's
 * family decides IPv4 vs v4-mapped IPv6 (a dual-stack client sends IPv4
 * peers through an AF_INET6 socket). Unspecified addresses (the old
 * c=0.0.0.0 hold, RFC 3264 §8.4) give no address: false.
 */
static bool sdp_addr(struct sip_slice a, uint16_t port, int want_family,
		     struct sockaddr_storage *out)
{
	char buf[64];
	memset(out, 0, sizeof *out);
	if (a.len == 0 || a.len >= sizeof buf || port == 0)
		return false;
	memcpy(buf, a.p, a.len);
	buf[a.len] = '\0';
	struct in_addr v4;
	struct in6_addr v6;
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		if (v4.s_addr == htonl(INADDR_ANY))
			return false;
		if (want_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(port);
			s6->sin6_addr.s6_addr[10] = 0xff;
			s6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&s6->sin6_addr.s6_addr[12], &v4, 4);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)out;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(port);
			s4->sin_addr = v4;
		}
		return true;
	}
	if (inet_pton(AF_INET6, buf, &v6) == 1) {
		if (IN6_IS_ADDR_UNSPECIFIED(&v6))
			return false;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = v6;
		return true;
	}
	return false;   /* an FQDN: we do not resolve names */
}

/* The family of the socket bound to our RTP port, AF_INET if unknown. */
static int local_family(uint16_t port)
{
	struct shim_fd *f = port ? shim_fd_find_port(port) : NULL;
	int fam = AF_INET;
	if (f) {
		fam = f->family == AF_INET6 ? AF_INET6 : AF_INET;
		shim_fd_put(f);
	}
	return fam;
}

/* The payload types of an m= line as the media layer knows codecs. */
static void codecs_of(const struct sdp_media *m, struct shim_codec_map *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < m->n_fmt && out->n < SHIM_CODECS_MAX; i++) {
		struct sdp_rtpmap r;
		if (!sdp_media_codec(m, m->fmt[i], &r))
			continue;
		struct shim_codec_entry *e = &out->e[out->n++];
		e->pt = r.pt;
		e->codec = (uint8_t)shim_codec_by_name(r.enc.p, r.enc.len);
		e->rate = r.rate;
		e->channels = r.channels;
		snprintf(e->name, sizeof e->name, "%.*s",
			 (int)(r.enc.len < 15 ? r.enc.len : 15), r.enc.p);
	}
}

/*
 * Make room for n lines (at most SIPG_MAX_LINES), new ones zeroed; how
 * many the call has room for (fewer only when memory ran out: those
 * lines are not tracked, said at ERROR).
 */
static size_t lines_reserve(struct sipg_call *c, size_t n)
{
	if (n > SIPG_MAX_LINES)
		n = SIPG_MAX_LINES;
	if (n <= c->lines_cap)
		return n;
	struct sipg_line *t = realloc(c->lines, n * sizeof *t);
	if (!t) {
		shim_log(SHIM_LOG_ERROR, "sip: out of memory: call %.*s: m= "
			 "lines from %zu on not tracked", (int)c->id_len,
			 c->id, c->lines_cap);
		return c->lines_cap;
	}
	memset(t + c->lines_cap, 0, (n - c->lines_cap) * sizeof *t);
	c->lines = t;
	c->lines_cap = n;
	return n;
}

static void learn_local(struct sipg_call *c, const struct sdp_view *v)
{
	c->n_lines = lines_reserve(c, v->n_media);
	for (size_t i = 0; i < c->n_lines; i++) {
		const struct sdp_media *m = &v->media[i];
		struct sipg_line *l = &c->lines[i];
		l->have_local = true;
		l->local_protectable = m->protectable;
		l->local_rtp = m->port;
		l->local_mux = m->rtcp_mux;
		l->local_rtcp = m->rtcp_mux ? m->port : m->rtcp_port;
		l->audio = m->type.len == 5 && memcmp(m->type.p, "audio", 5) == 0;
		codecs_of(m, &l->local_codecs);
	}
}

static void learn_peer(struct sipg_call *c, const struct sdp_view *v)
{
	size_t n = lines_reserve(c, v->n_media);
	if (n > c->n_lines)
		c->n_lines = n;
	for (size_t i = 0; i < n; i++) {
		const struct sdp_media *m = &v->media[i];
		struct sipg_line *l = &c->lines[i];
		l->peer_protectable = m->protectable;
		l->peer_mux = m->rtcp_mux;
		codecs_of(m, &l->peer_codecs);
		int fam = local_family(l->local_rtp);
		struct sockaddr_storage rtp, rtcp;
		if (sdp_addr(m->addr, m->port, fam, &rtp)) {
			struct sip_slice ra = m->rtcp_addr.len ? m->rtcp_addr
							       : m->addr;
			uint16_t rp = m->rtcp_mux ? m->port : m->rtcp_port;
			if (!sdp_addr(ra, rp, fam, &rtcp))
				rtcp = rtp;
			l->peer_rtp = rtp;
			l->peer_rtcp = rtcp;
			l->have_peer = true;
		}
		/* The hash belongs to this SDP: a re-offer without it means
		 * the peer no longer signals ZRTP here. */
		l->peer_hash_present = false;
		l->peer_hash[0] = '\0';
		if (m->has_zrtp_hash && m->zrtp_hash.len == 64) {
			memcpy(l->peer_hash, m->zrtp_hash.p, 64);
			l->peer_hash[64] = '\0';
			l->peer_hash_present = true;
		} else if (m->has_zrtp_hash) {
			shim_log(SHIM_LOG_WARN, "sip: call %.*s m=%zu: the "
				 "peer's a=zrtp-hash is malformed: ignored",
				 (int)c->id_len, c->id, i);
		}
	}
}

/*
 * sipg_mu held. The lines of an SDP (ours or the peer's) that the shim
 * cannot protect, told once per call in the log and once per line to the
 * status file. A rejected line (port 0) carries nothing and is not news.
 */
static void report_unprotected(struct sipg_call *c, const struct sdp_view *v,
			       bool ours)
{
	char list[512];
	size_t used = 0;
	bool fresh = false;

	list[0] = '\0';
	size_t n_lines = lines_reserve(c, v->n_media);
	for (size_t i = 0; i < n_lines; i++) {
		const struct sdp_media *m = &v->media[i];
		bool whole = m->port != 0 && !m->protectable;
		if (!whole && !(m->protectable && m->tcp_candidates))
			continue;
		char why[200];
		snprintf(why, sizeof why, whole ?
			 "%s SDP: transport %.*s: the shim cannot protect it; "
			 "this media is not covered" :
			 "%s SDP: ICE-TCP candidates (%.*s): media over TCP "
			 "would not be protected",
			 ours ? "our" : "the peer's",
			 (int)(m->proto.len > 40 ? 40 : m->proto.len), m->proto.p);
		if (used < sizeof list) {
			int n = snprintf(list + used, sizeof list - used,
					 "%sm=%zu %.*s%s", used ? ", " : "", i,
					 (int)(m->proto.len > 40 ? 40 : m->proto.len),
					 m->proto.p, whole ? "" : " (ICE-TCP)");
			if (n > 0)
				used += (size_t)n;
		}
		struct sipg_line *l = &c->lines[i];
		if (!l->unprot_noted) {
			char name[128];
			snprintf(name, sizeof name, "%.*s/%zu",
				 (int)(c->id_len > 100 ? 100 : c->id_len),
				 c->id, i);
			shim_status_note_unprotected(name, whole, why);
			l->unprot_noted = true;
			fresh = true;
		}
	}
	if (fresh && !c->unprot_logged) {
		c->unprot_logged = true;
		shim_log(SHIM_LOG_WARN, "sip: call %.*s: NOT PROTECTED: %s (%s "
			 "SDP): a transport the shim cannot protect; those lines "
			 "are left alone, the others are protected",
			 (int)c->id_len, c->id, list, ours ? "our" : "the peer's");
	}
}

/*
 * sipg_mu held. Tell the media layer about every line we protect. with_peer: the
 * peer's side is part of the negotiated session (an answer was exchanged,
 * or we are answering its offer).
 */
static void describe_lines(struct sipg_call *c, bool with_peer)
{
	for (size_t i = 0; i < c->n_lines; i++) {
		struct sipg_line *l = &c->lines[i];
		l->have_hash = false;
		if (!l->have_local || !l->local_protectable)
			continue;
		if (with_peer && l->have_peer && !l->peer_protectable)
			continue;   /* the peer rejected it, or answered with
				     * a transport we cannot protect */
		struct shim_media_desc d;
		memset(&d, 0, sizeof d);
		d.call_id = c->id;
		d.call_id_len = c->id_len;
		d.m_index = (unsigned)i;
		d.local_rtp_port = l->local_rtp;
		d.local_rtcp_port = l->local_rtcp;
		d.local_mux = l->local_mux;
		d.audio = l->audio;
		d.local_codecs = l->local_codecs;
		memcpy(d.peer_sip_id, c->peer_id, sizeof d.peer_sip_id);
		memcpy(d.peer_display, c->peer_name, sizeof d.peer_display);
		if (with_peer && l->have_peer) {
			d.peer_codecs = l->peer_codecs;
			d.have_peer = true;
			d.peer_rtp = l->peer_rtp;
			d.peer_rtcp = l->peer_rtcp;
			d.peer_mux = l->peer_mux;
			d.peer_signals_zrtp = l->peer_hash_present;
			d.have_peer_hash = l->peer_hash_present;
			if (l->peer_hash_present)
				memcpy(d.peer_hash, l->peer_hash, 65);
		}
		char hash[65] = "";
		int r = shim_media_describe(&d, hash);
		if (r == 0 && strlen(hash) == 64) {
			memcpy(l->hash, hash, 65);
			l->have_hash = true;
		} else {
			shim_log(SHIM_LOG_WARN, "sip: call %.*s m=%zu (port %u): "
				 "the media path refused it (%s): not protected",
				 (int)c->id_len, c->id, i, l->local_rtp,
				 r < 0 ? strerror(-r) : "no Hello hash");
		}
	}
}

/* --- who the peer is ------------------------------------------------------- */

/*
 * sipg_mu held. The peer's identity from one message sent by `by` (see
 * the top of this file). A header that does not parse, or names no
 * sip:/sips: URI, is ignored: what was learned stays.
 */
static void learn_identity(struct sipg_call *c, const struct sip_msg *m,
			   enum side by)
{
	char uri[sizeof c->peer_id], name[sizeof c->peer_name];

	if (by == SIDE_PEER) {
		for (size_t i = 0; i < m->n_headers && i < SIP_MAX_HEADERS; i++) {
			const struct sip_header *h = &m->headers[i];
			if (!slice_eq(h->name, "P-Asserted-Identity"))
				continue;
			if (sip_identity_parse(h->value, uri, sizeof uri, name,
					       sizeof name) < 0)
				continue;   /* e.g. a tel: URI: the next one */
			memcpy(c->peer_id, uri, sizeof uri);
			if (name[0])
				memcpy(c->peer_name, name, sizeof name);
			c->peer_id_asserted = true;
			return;
		}
	}
	if (c->peer_id_asserted)
		return;
	bool to = (m->kind == SIP_REQUEST) == (by == SIDE_LOCAL);
	const struct sip_header *h = sip_msg_header(m, to ? "To" : "From");
	if (h && sip_identity_parse(h->value, uri, sizeof uri, name,
				    sizeof name) == 0) {
		memcpy(c->peer_id, uri, sizeof uri);
		memcpy(c->peer_name, name, sizeof name);
	}
}

/* --- offer/answer --------------------------------------------------------- */

/*
 * sipg_mu held. Classify m as sent by `by`, with this call's state, and
 * update the offer/answer bookkeeping. Returns the role of its SDP.
 */
static enum sip_sdp_role classify(struct sipg_call *c, const struct sip_msg *m,
				  enum side by, struct sip_dialog_info *info)
{
	bool is_invite_resp = m->kind == SIP_RESPONSE &&
			      slice_eq(m->cseq_method, "INVITE");
	bool pending = c->offer_by != SIDE_NONE && c->offer_by != by;

	/* A response repeating the answer already given to this INVITE
	 * (18x then 2xx, or a retransmission): still the answer. */
	if (is_invite_resp && c->answered_valid && c->answered_by == by &&
	    c->answered_cseq == m->cseq)
		pending = true;
	sip_dialog_classify(m, pending, info);

	if (info->sdp_role == SIP_SDP_OFFER) {
		c->offer_by = by;
		c->offer_cseq = m->cseq;
		c->answered_valid = false;
	} else if (info->sdp_role == SIP_SDP_ANSWER) {
		c->offer_by = SIDE_NONE;
		if (is_invite_resp) {
			c->answered_valid = true;
			c->answered_by = by;
			c->answered_cseq = m->cseq;
		}
		if (slice_eq(info->method, "INVITE") ||
		    slice_eq(info->method, "ACK"))
			c->established = true;
	}
	/* A 2xx to an INVITE establishes the dialog even without SDP. */
	if (is_invite_resp && m->status >= 200 && m->status < 300)
		c->established = true;
	return info->sdp_role;
}

/*
 * sipg_mu held. Whether a message that "ends media" by the parser's
 * reading really ends this call: BYE always; CANCEL and a final error
 * only for the first INVITE (a failed re-INVITE leaves the session).
 */
static bool really_ends(const struct sipg_call *c, const struct sip_msg *m,
			const struct sip_dialog_info *info)
{
	if (slice_eq(info->method, "BYE"))
		return m->kind == SIP_REQUEST;
	if (slice_eq(info->method, "CANCEL"))
		return m->kind == SIP_REQUEST && !c->established;
	if (m->kind == SIP_RESPONSE && slice_eq(info->method, "INVITE")) {
		/* Auth challenges end nothing: the client retries with the
		 * same Call-ID and a new CSeq. */
		if (m->status == 401 || m->status == 407)
			return false;
		return !c->established;
	}
	return false;
}

/* sipg_mu held. A failed re-INVITE: its offer is withdrawn (RFC 3261 §14.1). */
static void rollback_offer(struct sipg_call *c, const struct sip_msg *m)
{
	if (c->offer_by != SIDE_NONE && c->offer_cseq == m->cseq)
		c->offer_by = SIDE_NONE;
}

struct parsed {
	struct sip_msg msg;
	struct sdp_view sdp;
	bool have_sdp;
};

/* A sip_msg is several kilobytes: not on a client thread's stack, and not
 * in static TLS. sipg_mu guards it. */
static struct parsed sipg_parsed;

/* sipg_mu held. */
static struct parsed *parse(const uint8_t *msg, size_t len, bool stream)
{
	struct parsed *p = &sipg_parsed;
	p->have_sdp = false;
	int r = sip_msg_parse(msg, len, stream, &p->msg);
	if (r < 0) {
		shim_log(SHIM_LOG_DEBUG, "sip: a %zu-byte message did not parse "
			 "(%s): passed through", len, strerror(-r));
		return NULL;
	}
	if (p->msg.sdp.len > 0) {
		r = sdp_parse((const uint8_t *)p->msg.sdp.p, p->msg.sdp.len,
			      &p->sdp);
		if (r == 0)
			p->have_sdp = true;
		else
			shim_log(SHIM_LOG_WARN, "sip: call %.*s: SDP did not "
				 "parse (%s): its media is not learned",
				 (int)p->msg.call_id.len, p->msg.call_id.p,
				 strerror(-r));
	}
	return p;
}

/* --- the two entry points -------------------------------------------------- */

/* The index answers (an IPv4 address also matches its v4-mapped IPv6
 * form): no scan of the calls, per send. */
bool shim_sip_peer_media_addr(const struct sockaddr *to)
{
	uint8_t key[SIPG_ADDR_KEY];

	if (to == NULL || !addr_key(to, key))
		return false;
	pthread_mutex_lock(&sipg_mu);
	bool hit = strmap_get(&sipg_peer_addrs, (const char *)key,
			      SIPG_ADDR_KEY) != NULL;
	pthread_mutex_unlock(&sipg_mu);
	return hit;
}

/*
 * sipg_mu held. What both directions do first: parse, find the call (a new
 * one only for an offer or an INVITE), classify the SDP, and handle the
 * messages that end a call. Returns the call when the message carries SDP
 * with an offer or an answer to learn from, else NULL.
 */
static struct sipg_call *message_step_locked(const uint8_t *msg, size_t len,
					     bool stream, enum side from,
					     uint64_t now, struct parsed **pp,
					     enum sip_sdp_role *role,
					     char *info_key)
{
	bool ours = from == SIDE_LOCAL;
	struct parsed *p = parse(msg, len, stream);
	if (!p)
		return NULL;
	const struct sip_msg *m = &p->msg;
	/* A key our client sends in an INFO (the keypad); the INFO itself
	 * goes out untouched. */
	if (ours && info_key && m->kind == SIP_REQUEST &&
	    slice_eq(m->method, "INFO") && m->content_type.len > 0) {
		*info_key = keypad_info_key(m->content_type.p,
					    m->content_type.len, m->body.p,
					    m->body.len);
		if (!*info_key && m->content_type.len >= 16 &&
		    strncasecmp(m->content_type.p, "application/dtmf", 16) == 0)
			shim_log(SHIM_LOG_INFO, "sip: call %.*s: a DTMF INFO "
				 "whose body names no key: ignored by the "
				 "keypad", (int)(m->call_id.len > 100 ? 100 :
						 m->call_id.len), m->call_id.p);
	}
	table_expire_locked(now, false);
	bool is_request = m->kind == SIP_REQUEST;
	bool may_start = p->have_sdp || (is_request &&
					 slice_eq(m->method, "INVITE"));
	struct sipg_call *c = call_get_locked(m->call_id, may_start, now);
	if (!c)
		return NULL;
	c->last_ms = now;
	learn_identity(c, m, from);

	struct sip_dialog_info info;
	*role = classify(c, m, from, &info);
	if (c->ended) {
		/* Retransmissions of the end (BYE, 200 BYE, ACK to 487) go
		 * untouched; a new INVITE on an ended Call-ID starts over. */
		if (!(is_request && slice_eq(m->method, "INVITE") &&
		      *role == SIP_SDP_OFFER) || c->established)
			return NULL;
		c->ended = false;
		call_index_locked(c, false);
	}
	if (info.ends_media) {
		if (really_ends(c, m, &info))
			call_end_locked(c, now, is_request ?
					(ours ? "we sent it" : "the peer sent it") :
					(ours ? "we refused the INVITE" :
						"the peer refused the INVITE"));
		else if (m->kind == SIP_RESPONSE)
			rollback_offer(c, m);
		return NULL;
	}
	if (*role == SIP_SDP_NONE || !p->have_sdp)
		return NULL;
	*pp = p;
	return c;
}

size_t shim_sip_outgoing(struct shim_fd *f, const uint8_t *msg, size_t len,
			 bool stream, const struct sockaddr *peer,
			 uint8_t *out, size_t cap)
{
	(void)f;
	(void)peer;
	if (!msg || len == 0 || len > SIP_MAX_MSG)
		return 0;
	size_t result = 0;
	uint64_t now = shim_clock_ms();
	struct parsed *p = NULL;
	enum sip_sdp_role role;

	shim_state_dir_ensure();
	pthread_mutex_lock(&sipg_mu);
	char info_key = 0;
	char info_call[256];
	size_t info_call_len = 0;
	struct sipg_call *c = message_step_locked(msg, len, stream, SIDE_LOCAL,
						  now, &p, &role, &info_key);
	if (info_key) {
		/* the media layer is called without sipg_mu */
		const struct sip_slice *id = &sipg_parsed.msg.call_id;
		info_call_len = id->len < sizeof info_call ? id->len
							   : sizeof info_call;
		memcpy(info_call, id->p, info_call_len);
	}
	if (!c)
		goto out;
	learn_local(c, &p->sdp);
	call_index_locked(c, false);
	report_unprotected(c, &p->sdp, true);
	/* Answering the peer's offer: its side is known now. Offering: the
	 * peer's side from the current session (if any) still holds until
	 * its answer arrives. */
	describe_lines(c, role == SIP_SDP_ANSWER || c->established);

	const char *hashes[SDP_MAX_MEDIA] = { 0 };
	size_t nh = 0;
	for (size_t i = 0; i < c->n_lines && i < SDP_MAX_MEDIA; i++)
		if (c->lines[i].have_hash) {
			hashes[i] = c->lines[i].hash;
			nh++;
		}
	if (nh == 0)
		goto out;
	int r = sdp_rewrite_zrtp_hash(msg, len, stream, SIPG_ZRTP_VERSION,
				      hashes, out, cap);
	if (r > 0) {
		result = (size_t)r;
		shim_log(SHIM_LOG_DEBUG, "sip: call %.*s: %s with a=zrtp-hash "
			 "on %zu m= line(s)", (int)c->id_len, c->id,
			 role == SIP_SDP_OFFER ? "offer" : "answer", nh);
	} else {
		shim_log(SHIM_LOG_WARN, "sip: call %.*s: cannot add a=zrtp-hash "
			 "(%s): %s sent unchanged; the peer cannot check our "
			 "Hello against signalling", (int)c->id_len, c->id,
			 r == -ENOSPC ? "the message would not fit" :
			 r == -EINVAL ? "the message did not parse completely" :
			 strerror(r < 0 ? -r : EINVAL),
			 role == SIP_SDP_OFFER ? "offer" : "answer");
	}
out:
	pthread_mutex_unlock(&sipg_mu);
	if (info_key)
		shim_media_keypad_key(info_call, info_call_len, info_key);
	shim_status_refresh();
	return result;
}

void shim_sip_incoming(struct shim_fd *f, const uint8_t *msg, size_t len,
		       bool stream, const struct sockaddr *from)
{
	(void)f;
	(void)from;
	if (!msg || len == 0 || len > SIP_MAX_MSG)
		return;
	uint64_t now = shim_clock_ms();
	struct parsed *p = NULL;
	enum sip_sdp_role role;

	shim_state_dir_ensure();
	pthread_mutex_lock(&sipg_mu);
	struct sipg_call *c = message_step_locked(msg, len, stream, SIDE_PEER,
						  now, &p, &role, NULL);
	if (!c)
		goto out;
	learn_peer(c, &p->sdp);
	call_index_locked(c, false);
	report_unprotected(c, &p->sdp, false);
	/* The peer's answer to our offer completes the exchange: tell the
	 * media path. The peer's offer waits for our answer (we do not know
	 * which lines we accept, nor our ports), unless a session exists
	 * and our side is already known. */
	if (role == SIP_SDP_ANSWER) {
		size_t nh = 0;
		for (size_t i = 0; i < c->n_lines; i++)
			nh += c->lines[i].have_peer && c->lines[i].peer_hash_present;
		shim_log(SHIM_LOG_DEBUG, "sip: call %.*s: the peer's answer "
			 "read, a=zrtp-hash on %zu m= line(s)", (int)c->id_len,
			 c->id, nh);
		describe_lines(c, true);
	}
out:
	pthread_mutex_unlock(&sipg_mu);
	shim_status_refresh();
}
