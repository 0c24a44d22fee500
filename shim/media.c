/*
 * The stream table (media.h): one stream per (call-id, m-line index), one
 * ZRTP session per call. What happens to each packet is in media_path.c,
 * the engine and its callbacks in media_engine.c, the timer's work and
 * the reader of unread sockets in media_reader.c.
 *
 * A stream is a struct shim_media (media_int.h). The fds that carry it
 * (its RTP fd and its RTCP fd, the same fd with rtcp-mux) point at it
 * through f->media; the stream only remembers their numbers and looks the
 * entry up again (shim_fd_get) when it needs it, so the registry and the
 * media table never hold each other alive.
 *
 * Locking. media_mu guards the table of calls and streams, the stream
 * reference counts and every store to f->media; it is a leaf lock (nothing
 * else is taken while it is held) and it is never held across the engine,
 * libsrtp or a system call. Each stream's mutex is its call's mutex
 * (call->mu), shared by the call's streams because they share one
 * zrtp_session, which is not thread-safe; it guards the engine, the SRTP
 * contexts, the phase, the buffers and the counters. A REPLACE from
 * shim_media_outgoing returns with it held (the protected bytes live in
 * the sending thread's buffer) and shim_media_send_done releases it; a
 * thread-local remembers which. The cache's lock (cache.c) is taken
 * inside call->mu by the engine's cache callbacks. Engine callbacks run
 * with call->mu held and never call the engine.
 *
 * One socket, several calls. A client may send every call's media from
 * one socket and announce its one port in every call (sipp's
 * rtp_stream). Those calls cannot be told apart on the wire: the same
 * addresses both ways, one ZRTP endpoint per socket. Handing the socket
 * to each new call would cut the earlier ones off (their media held by a
 * stream that never completes) and feed their Hellos to the new call's
 * engine, which compares them with its own call's a=zrtp-hash and cries
 * attack. So a socket has one stream: the first live call's. A later
 * call whose SDP names a socket a live stream of another call owns rides
 * on it (PH_SHARED): no engine of its own, its SDP announces the owner's
 * Hello hash (the Hello that really crosses on that address), its media,
 * sent on the shared socket, is protected with the owner's keys (the
 * owner's SAS covers it). Said once per socket at WARN, once per rider at
 * INFO. The stream outlives its own call while riders remain and ends
 * with the last of them, so no live call loses its media. A peer that
 * did not share (another address for this call) cannot read this call's
 * media: said at ERROR; nothing leaves in clear either way.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <srtp2/srtp.h>

#include "shim/addr.h"
#include "shim/cache.h"
#include "common/strmap.h"
#include "shim/clock.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/registry.h"
#include "shim/timer.h"
#include "zrtp/zrtp.h"

pthread_mutex_t media_mu = PTHREAD_MUTEX_INITIALIZER;
struct shim_call **media_calls;
size_t media_calls_cap;
static size_t media_calls_max = MEDIA_MAX_CALLS;
/* Call-ID -> 1 + the call's slot in media_calls (the key is the call's
 * own id), under media_mu: finding a call costs no scan of the table. */
static struct strmap media_by_id = STRMAP_INIT;
/* Where the search for a free slot starts (next fit). */
static size_t media_free_hint;
/* Ended streams whose rx is kept a moment (media_stream_end_drain_locked),
 * each with a reference; under media_mu. */
static struct shim_media *media_draining;
static unsigned adopt_counter;

const char *const media_phase_names[] = {
	[PH_WAITING] = "waiting", [PH_NEGOTIATING] = "negotiating",
	[PH_SECURE] = "secure", [PH_CLEAR] = "clear",
	[PH_FAILED] = "failed", [PH_ENDED] = "ended",
	[PH_SHARED] = "shared",
};

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

void media_stream_put(struct shim_media *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&media_mu);
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&media_mu);
	if (!last)
		return;
	pthread_mutex_lock(s->mu);
	media_stream_end_locked(s);
	pthread_mutex_unlock(s->mu);
	call_put(s->call);
	sodium_memzero(s, sizeof *s);
	free(s);
}

struct shim_media * media_get(struct shim_fd *f)
{
	pthread_mutex_lock(&media_mu);
	struct shim_media *s = atomic_load(&f->media);
	if (s)
		s->refs++;
	pthread_mutex_unlock(&media_mu);
	return s;
}

/* --- calls and streams ---------------------------------------------------- */

/* media_mu held. */
static struct shim_call *call_find(const char *id, size_t len)
{
	if (len > sizeof ((struct shim_call *)0)->id)
		len = sizeof ((struct shim_call *)0)->id;
	uintptr_t v = (uintptr_t)strmap_get(&media_by_id, id, len);
	return v ? media_calls[v - 1] : NULL;
}

/* media_mu held. Take c out of the table (its slot and the index). */
static void call_unlist_locked(struct shim_call *c)
{
	uintptr_t v = (uintptr_t)strmap_del(&media_by_id, c->id, c->id_len);
	if (v && media_calls[v - 1] == c) {
		media_calls[v - 1] = NULL;
		if (v - 1 < media_free_hint)
			media_free_hint = v - 1;
	}
	c->in_table = false;
}

struct shim_media *media_find_name(const char *name)
{
	const char *slash = name ? strrchr(name, '/') : NULL;
	if (!slash || !slash[1])
		return NULL;
	char *end;
	unsigned long m = strtoul(slash + 1, &end, 10);
	if (*end || m >= MEDIA_MAX_LINES)
		return NULL;
	pthread_mutex_lock(&media_mu);
	struct shim_call *c = call_find(name, (size_t)(slash - name));
	struct shim_media *s = c ? c->lines[m] : NULL;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&media_mu);
	return s;
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
		for (size_t i = media_free_hint; i < media_calls_cap && slot < 0; i++)
			if (!media_calls[i])
				slot = (int)i;
		/* Full: evict a call none of whose fds is open any more. */
		for (int i = 0; i < (int)media_calls_cap && slot < 0; i++)
			if (!call_has_fds(media_calls[i])) {
				evicted = media_calls[i];
				call_unlist_locked(evicted);
				slot = i;
			}
		/* Still full: grow, up to the ceiling. */
		if (slot < 0 && media_calls_cap < media_calls_max) {
			size_t cap = media_calls_cap ? media_calls_cap * 2 : 16;
			if (cap > media_calls_max)
				cap = media_calls_max;
			struct shim_call **t = realloc(media_calls,
						       cap * sizeof *t);
			if (t) {
				memset(t + media_calls_cap, 0,
				       (cap - media_calls_cap) * sizeof *t);
				slot = (int)media_calls_cap;
				media_calls = t;
				media_calls_cap = cap;
			}
		}
		if (slot < 0) {
			size_t cap = media_calls_cap;
			pthread_mutex_unlock(&media_mu);
			char name[128];
			snprintf(name, sizeof name, "%.*s/%u",
				 (int)(id_len > 100 ? 100 : id_len), id, m_index);
			shim_log(SHIM_LOG_ERROR, "media: %zu live calls (the "
				 "limit): stream %s refused (not protected)",
				 cap, name);
			shim_events_emit_shim(SHIM_EVENT_LIMIT, name, "limit",
					      NULL, NULL, "too many calls: this "
					      "one is not protected");
			return NULL;
		}
		if (!(c = calloc(1, sizeof *c))) {
			pthread_mutex_unlock(&media_mu);
			return NULL;
		}
		pthread_mutex_init(&c->mu, NULL);
		c->id_len = id_len < sizeof c->id ? id_len : sizeof c->id;
		memcpy(c->id, id, c->id_len);
		if (strmap_put(&media_by_id, c->id, c->id_len,
			       (void *)(uintptr_t)(slot + 1)) < 0) {
			pthread_mutex_unlock(&media_mu);
			pthread_mutex_destroy(&c->mu);
			free(c);
			return NULL;
		}
		c->refs = 1;            /* the table's */
		c->in_table = true;
		media_calls[slot] = c;
		media_free_hint = (size_t)slot + 1;
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
	struct shim_media *lines[MEDIA_MAX_LINES], *done[MEDIA_MAX_LINES];
	bool keep[MEDIA_MAX_LINES], end_owner[MEDIA_MAX_LINES];
	pthread_mutex_lock(&media_mu);
	for (int j = 0; j < MEDIA_MAX_LINES; j++) {
		lines[j] = c->lines[j];
		c->lines[j] = NULL;
		keep[j] = end_owner[j] = false;
		done[j] = NULL;
		struct shim_media *s = lines[j];
		if (!s)
			continue;
		/* Other calls ride on it: it lives on for them. */
		if (s->n_riders > 0) {
			s->owner_gone = true;
			keep[j] = true;
		}
		/* A rider leaves; the last one ends an owner whose call ended. */
		struct shim_media *o = s->rides;
		if (o) {
			s->rides = NULL;
			end_owner[j] = --o->n_riders == 0 && o->owner_gone;
			done[j] = o;
		}
	}
	pthread_mutex_unlock(&media_mu);
	bool drain = false;
	uint64_t now = shim_clock_ms();
	for (int j = 0; j < MEDIA_MAX_LINES; j++) {
		if (lines[j] && !keep[j]) {
			pthread_mutex_lock(&c->mu);
			bool d = media_stream_end_drain_locked(lines[j], now);
			pthread_mutex_unlock(&c->mu);
			if (d) {
				pthread_mutex_lock(&media_mu);
				lines[j]->refs++;       /* the list's */
				lines[j]->drain_next = media_draining;
				media_draining = lines[j];
				pthread_mutex_unlock(&media_mu);
				drain = true;
			}
		}
		if (lines[j])
			media_stream_put(lines[j]);
		struct shim_media *o = done[j];
		if (end_owner[j]) {
			pthread_mutex_lock(o->mu);
			media_stream_end_locked(o);
			pthread_mutex_unlock(o->mu);
			shim_log(SHIM_LOG_INFO, "media %s: the last call sharing "
				 "its socket ended: stream ended", o->name);
		}
		media_stream_put(o);    /* the rider's reference */
	}
	call_put(c);                    /* the table's reference */
	if (drain)
		shim_timer_kick(shim_media_timer_run);
}

uint64_t media_drain_run(uint64_t now)
{
	struct shim_media *done = NULL, **pp;
	uint64_t next = UINT64_MAX;
	pthread_mutex_lock(&media_mu);
	for (pp = &media_draining; *pp;) {
		struct shim_media *s = *pp;
		/* rx_until is atomic: media_mu is a leaf lock, s->mu cannot
		 * be taken here. */
		uint64_t until = atomic_load(&s->rx_until);
		if (until && now < until) {
			if (until < next)
				next = until;
			pp = &s->drain_next;
			continue;
		}
		*pp = s->drain_next;
		s->drain_next = done;
		done = s;
	}
	pthread_mutex_unlock(&media_mu);
	while (done) {
		struct shim_media *s = done;
		done = s->drain_next;
		s->drain_next = NULL;
		pthread_mutex_lock(s->mu);
		if (s->phase == PH_ENDED && s->rx) {
			srtp_dealloc(s->rx);
			s->rx = NULL;
		}
		s->rx_until = 0;
		pthread_mutex_unlock(s->mu);
		media_stream_put(s);            /* the list's */
	}
	return next;
}

/* call->mu held: learn the peer from an address (RTP), RTCP at +1 unless
 * muxed. */
void media_stream_learn_peer(struct shim_media *s, const struct sockaddr *sa,
			      socklen_t len, bool mux)
{
	if (s->have_peer || !shim_addr_copy(&s->peer_rtp, sa, len))
		return;
	s->peer_rtcp = s->peer_rtp;
	s->peer_mux = mux;
	if (!mux)
		shim_addr_set_port(&s->peer_rtcp, (uint16_t)(shim_addr_port(&s->peer_rtp) + 1));
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
		media_stream_put(old);
	}
	shim_fd_put(f);
}

/*
 * The live stream of another call that owns the socket bound to port (or
 * that s already rides on), with a reference; NULL when s may take the
 * socket (nobody has it, s has it, or its stream ended or failed).
 */
static struct shim_media *socket_owner(struct shim_media *s, uint16_t port)
{
	struct shim_media *o = NULL;
	pthread_mutex_lock(&media_mu);
	if (s->rides) {
		o = s->rides;
		o->refs++;
	}
	pthread_mutex_unlock(&media_mu);
	if (o)
		return o;
	struct shim_fd *f = port ? shim_fd_find_port(port) : NULL;
	if (!f)
		return NULL;
	pthread_mutex_lock(&media_mu);
	o = f->kind == SHIM_FD_UDP ? atomic_load(&f->media) : NULL;
	if (o && (o == s || o->call == s->call || o->adopted ||
		  atomic_load(&o->rtp_fd) != f->fd))
		o = NULL;
	if (o)
		o->refs++;
	pthread_mutex_unlock(&media_mu);
	shim_fd_put(f);
	if (!o)
		return NULL;
	pthread_mutex_lock(o->mu);
	bool live = o->phase != PH_ENDED && o->phase != PH_FAILED;
	pthread_mutex_unlock(o->mu);
	if (!live) {
		media_stream_put(o);
		return NULL;
	}
	return o;
}

static bool addr_is_offset(const struct sockaddr_storage *a, int delta,
			   const struct sockaddr_storage *b);

static bool same_addr(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	return addr_is_offset(a, 0, b);
}

/*
 * s (a line of another call) rides on o, the stream that owns the socket
 * of its port (see "One socket, several calls" above): o's Hello hash
 * for s's SDP, no engine for s, said once per socket and once per rider.
 */
static int media_ride(struct shim_media *s, struct shim_media *o,
		      const struct shim_media_desc *d, char hash_out[65])
{
	bool first = false, socket_first = false;
	int riders;
	pthread_mutex_lock(&media_mu);
	if (!s->rides) {
		s->rides = o;
		o->refs++;
		o->n_riders++;
		first = true;
		socket_first = !o->share_logged;
		o->share_logged = true;
	}
	riders = o->n_riders;
	pthread_mutex_unlock(&media_mu);

	int r = -EINVAL;
	bool peer_differs = false;
	char oname[128];
	pthread_mutex_lock(o->mu);
	if (o->zs && hash_out)
		r = zrtp_stream_hello_hash(o->zs, hash_out) < 0 ? -EINVAL : 0;
	else if (o->zs)
		r = 0;
	if (d->have_peer && shim_addr_usable(&d->peer_rtp) && o->have_peer)
		peer_differs = !same_addr(&d->peer_rtp, &o->peer_rtp);
	snprintf(oname, sizeof oname, "%s", o->name);
	pthread_mutex_unlock(o->mu);

	pthread_mutex_lock(s->mu);
	bool warn_peer = peer_differs && !s->fail_logged;
	if (warn_peer)
		s->fail_logged = true;
	s->phase = PH_SHARED;
	pthread_mutex_unlock(s->mu);

	if (socket_first)
		shim_log(SHIM_LOG_WARN, "media %s: calls share one media "
			 "address: local port %u already carries %s, a live "
			 "call, and the client sends every call's media from "
			 "that one socket, where the calls cannot be told "
			 "apart. One ZRTP stream per socket: this call and any "
			 "later one on port %u ride on %s (its keys protect "
			 "their media, its SAS covers them, their a=zrtp-hash "
			 "is its Hello's); no handshake of their own. This is "
			 "not an attack.", s->name, (unsigned)d->local_rtp_port,
			 oname, (unsigned)d->local_rtp_port, oname);
	else if (first)
		shim_log(SHIM_LOG_INFO, "media %s: rides on %s too (shared "
			 "media socket, port %u: %d calls on it)", s->name, oname,
			 (unsigned)d->local_rtp_port, riders + 1);
	if (warn_peer)
		shim_log(SHIM_LOG_ERROR, "media %s: its peer's media address "
			 "is not the one %s talks to: the peer cannot read this "
			 "call's media, which leaves protected with the other "
			 "call's keys (never in clear)", s->name, oname);
	return r;
}

/* --- the public entry points ---------------------------------------------- */

/*
 * The codec libraries a stream may need, loaded now, with no lock held
 * (dlopen takes the loader's lock): spandsp's G.722 for prompts on G.722,
 * its DTMF receiver for the keypad's in-band tones on G.711 where they are
 * looked for (media_keypad_inband_wanted; linked in where configure
 * could, codec.h), libopus for prompts on Opus. A library no stream needs
 * stays unloaded: libspandsp.so.2 alone brings libtiff, libstdc++ and more
 * into the client, about 18 ms of CPU per process on this project's
 * machines. The answer's describe (the peer's codecs known) may load what
 * the offer's did not.
 */
static void codec_libs_for(const struct shim_media_desc *d)
{
	const struct shim_codec_map *l = &d->local_codecs;
	const struct shim_codec_map *p = d->have_peer && d->peer_codecs.n
					 ? &d->peer_codecs : NULL;
	bool prompts = shim_config.prompts != SHIM_PROMPTS_OFF;
#define HAS(c) (shim_codec_map_has(l, c) || (p && shim_codec_map_has(p, c)))
	bool g711 = HAS(SHIM_CODEC_PCMU) || HAS(SHIM_CODEC_PCMA);
	bool inband = g711 && media_keypad_inband_wanted(l, p);
	if (g711 && !inband && p && shim_config.inband == SHIM_INBAND_AUTO)
		shim_log(SHIM_LOG_INFO, "media call %.*s m=%u: keypad: no in-band "
			 "tones looked for: both SDPs have telephone-event "
			 "(ZRTPSHIM_INBAND=auto; always looks anyway)",
			 (int)(d->call_id_len > 16 ? 16 : d->call_id_len),
			 d->call_id, d->m_index);
	if (prompts && HAS(SHIM_CODEC_G722))
		shim_codec_g722_load();
	if (inband)
		shim_codec_dtmf_load();
	if (prompts && HAS(SHIM_CODEC_OPUS))
		shim_codec_opus_load();
#undef HAS
}

int shim_media_describe(const struct shim_media_desc *d, char hash_out[65])
{
	struct shim_call *evicted;
	int r;

	media_init();
	if (!d || !d->call_id)
		return -EINVAL;
	if (d->audio) {
		media_prompt_prepare();
		codec_libs_for(d);
	}
	struct shim_media *s = stream_obtain(d->call_id, d->call_id_len,
					     d->m_index, false, &evicted);
	if (evicted)
		call_release_lines(evicted);
	if (!s)
		return d->m_index >= MEDIA_MAX_LINES ? -E2BIG : -ENOMEM;

	struct shim_media *owner = socket_owner(s, d->local_rtp_port);
	if (owner) {
		r = media_ride(s, owner, d, hash_out);
		media_stream_put(owner);
		media_stream_put(s);
		return r;
	}

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
	r = media_stream_engine_locked(s);
	if (r == 0 && hash_out)
		r = zrtp_stream_hello_hash(s->zs, hash_out) < 0 ? -EINVAL : 0;
	if (r == 0) {
		if (d->peer_signals_zrtp)
			s->peer_signals_zrtp = true;
		s->audio = d->audio;
		if (d->local_codecs.n)
			s->codecs_local = d->local_codecs;
		if (d->have_peer && d->peer_codecs.n)
			s->codecs_peer = d->peer_codecs;
		if (d->have_peer && shim_addr_usable(&d->peer_rtp)) {
			/* A re-INVITE may move the peer: follow it (but not
			 * to the c=0.0.0.0 / port 0 of a hold or a refusal). */
			s->peer_rtp = d->peer_rtp;
			s->peer_rtcp = d->peer_rtcp;
			s->peer_mux = d->peer_mux;
			if (d->peer_mux)
				s->peer_rtcp = d->peer_rtp;
			s->have_peer = shim_addr_len(&s->peer_rtp) != 0;
		}
		if (d->have_peer_hash && !s->hash_set) {
			size_t hl = strnlen(d->peer_hash, sizeof d->peer_hash);
			if (zrtp_stream_set_peer_hello_hash(s->zs, d->peer_hash,
							    hl) == 0) {
				s->hash_set = true;
				/* The Hello came first: the engine compared
				 * it just now, and a mismatch failed it. */
				if (s->peer_spoke_zrtp &&
				    zrtp_stream_state(s->zs) != ZRTP_ST_FAILED)
					shim_log(SHIM_LOG_INFO, "media %s: the "
						 "peer's Hello matches the "
						 "a=zrtp-hash of its SDP",
						 s->name);
			}
			else
				shim_log(SHIM_LOG_WARN, "media %s: the peer's "
					 "a=zrtp-hash is not usable", s->name);
		}
		media_pin_check_locked(s, d);
		kick = media_stream_start_locked(s, shim_clock_ms());
	}
	pthread_mutex_unlock(s->mu);
	media_stream_put(s);
	if (kick)
		shim_timer_kick(shim_media_timer_run);
	return r;
}

void shim_media_on_bind(struct shim_fd *f)
{
	uint16_t port = shim_addr_port(&f->local);
	if (!port || f->kind != SHIM_FD_UDP)
		return;
	media_init();
	struct shim_media *old = NULL;
	pthread_mutex_lock(&media_mu);
	for (int i = 0; i < (int)media_calls_cap && !old; i++) {
		struct shim_call *c = media_calls[i];
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
				media_stream_put(old);
				return;
			}
		}
	}
	pthread_mutex_unlock(&media_mu);
}

/* Is b the address of a with its port moved by delta (same family)? */
static bool addr_is_offset(const struct sockaddr_storage *a, int delta,
			   const struct sockaddr_storage *b)
{
	if (!a->ss_family || a->ss_family != b->ss_family ||
	    shim_addr_port(b) != (uint16_t)(shim_addr_port(a) + delta))
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* Where a send on f goes: its own address, else the connected peer; false
 * (dst zeroed) if neither is an IP address. */
static bool send_dest_copy(struct sockaddr_storage *dst, struct shim_fd *f,
			   const struct sockaddr *to, socklen_t tolen)
{
	if (shim_addr_copy(dst, to, tolen) ||
	    shim_addr_copy(dst, (const struct sockaddr *)&f->peer,
			   sizeof f->peer))
		return true;
	memset(dst, 0, sizeof *dst);
	return false;
}

/*
 * media_mu held. The adopted stream whose other half a socket on `port`
 * sending to dst is. Adopted streams are line 0 of their own call; this
 * runs once per socket (its first RTP or RTCP send, io.c), never per
 * packet: afterwards f->media answers.
 *   rtcp: the socket sends RTCP; the stream has RTP and the socket is on
 *         its RTP port + 1 or sends to its peer's RTP port + 1 (RFC 3550
 *         §11: RTCP on the next port up, both ends).
 *   !rtcp: the socket sends RTP; the stream is waiting for it (rtcp_only)
 *         and its RTCP socket is on this port + 1 or sends to dst's
 *         port + 1.
 */
static struct shim_media *adopted_half_locked(bool rtcp, uint16_t port,
					      const struct sockaddr_storage *dst)
{
	for (int i = 0; i < (int)media_calls_cap; i++) {
		struct shim_media *s = media_calls[i] ? media_calls[i]->lines[0]
						      : NULL;
		if (!s || !s->adopted || atomic_load(&s->rtcp_only) == rtcp)
			continue;
		if (rtcp ? (port > 1 && s->local_rtp_port == port - 1) ||
			   addr_is_offset(&s->adopt_rtp_to, 1, dst)
			 : (port && s->local_rtcp_port == port + 1) ||
			   addr_is_offset(dst, 1, &s->adopt_rtcp_to))
			return s;
	}
	return NULL;
}

/* A new adopted stream (its own call), with a reference for the caller. */
static struct shim_media *adopted_new(struct shim_fd *f)
{
	char id[64];
	struct shim_call *evicted;
	pthread_mutex_lock(&media_mu);
	unsigned n = ++adopt_counter;
	pthread_mutex_unlock(&media_mu);
	int idl = snprintf(id, sizeof id, "adopted-%u-fd%d", n, f->fd);
	struct shim_media *s = stream_obtain(id, (size_t)idl, 0, true, &evicted);
	if (evicted)
		call_release_lines(evicted);
	if (!s)
		shim_log(SHIM_LOG_ERROR, "media: cannot adopt fd %d: its RTP "
			 "and RTCP will be held (dropped)", f->fd);
	return s;
}

void shim_media_adopt(struct shim_fd *f, const struct sockaddr *to,
		      socklen_t tolen)
{
	media_init();
	if (atomic_load(&f->media))
		return;
	uint16_t port = shim_addr_port(&f->local);
	struct sockaddr_storage dst;
	bool have_dst = send_dest_copy(&dst, f, to, tolen);

	/* RTCP of a stream adopted on port-1. */
	if (port > 1) {
		struct shim_media *old = NULL, *hit = NULL;
		pthread_mutex_lock(&media_mu);
		for (int i = 0; i < (int)media_calls_cap && !hit; i++)
			if (media_calls[i] && media_calls[i]->lines[0] &&
			    media_calls[i]->lines[0]->adopted &&
			    media_calls[i]->lines[0]->local_rtp_port == port - 1 &&
			    atomic_load(&media_calls[i]->lines[0]->rtcp_fd) < 0) {
				hit = media_calls[i]->lines[0];
				hit->local_rtcp_port = port;
				hit->local_mux = false;
				old = attach_locked(hit, f, 1);
			}
		pthread_mutex_unlock(&media_mu);
		if (hit) {
			media_stream_put(old);
			return;
		}
	}

	/* The RTP of a stream whose RTCP came first: the pair is whole. */
	struct shim_media *s = NULL, *old = NULL;
	pthread_mutex_lock(&media_mu);
	if (have_dst && (s = adopted_half_locked(false, port, &dst)) != NULL) {
		atomic_store(&s->rtcp_only, false);
		s->local_rtp_port = port;
		s->local_mux = false;
		s->adopt_rtp_to = dst;
		s->refs++;                      /* ours, below */
		old = attach_locked(s, f, 0);
	}
	pthread_mutex_unlock(&media_mu);
	media_stream_put(old);
	bool paired = s != NULL;
	if (!paired) {
		s = adopted_new(f);
		if (!s)
			return;
		pthread_mutex_lock(&media_mu);
		s->local_rtp_port = port;
		s->local_rtcp_port = port;   /* until an RTCP fd at +1 shows up */
		s->local_mux = true;
		s->adopt_rtp_to = dst;
		old = attach_locked(s, f, 2);
		pthread_mutex_unlock(&media_mu);
		media_stream_put(old);
	}

	bool kick = false;
	pthread_mutex_lock(s->mu);
	s->peer_rtp = dst;
	s->have_peer = have_dst;
	if (!paired) {
		s->peer_rtcp = s->peer_rtp;
		if (s->have_peer)
			shim_addr_set_port(&s->peer_rtcp, (uint16_t)(shim_addr_port(&s->peer_rtp) + 1));
	}
	s->peer_mux = false;
	if (paired)
		shim_log(SHIM_LOG_INFO, "media %s: RTP on fd %d (port %u) "
			 "completes the stream its RTCP began: protecting both",
			 s->name, f->fd, (unsigned)port);
	else
		shim_log(SHIM_LOG_INFO, "media %s: RTP on fd %d (port %u) that "
			 "no SDP announced: protecting it", s->name, f->fd,
			 (unsigned)port);
	kick = media_stream_start_locked(s, shim_clock_ms());
	pthread_mutex_unlock(s->mu);
	media_stream_put(s);
	if (kick)
		shim_timer_kick(shim_media_timer_run);
}

void shim_media_adopt_rtcp(struct shim_fd *f, const struct sockaddr *to,
			   socklen_t tolen)
{
	media_init();
	if (atomic_load(&f->media))
		return;
	uint16_t port = shim_addr_port(&f->local);
	struct sockaddr_storage dst;
	bool have_dst = send_dest_copy(&dst, f, to, tolen);

	/* The RTCP of an adopted stream: it shares the stream's phase, held
	 * while negotiating and SRTCP once secure (RFC 3711 §3.4). */
	struct shim_media *s, *old = NULL;
	pthread_mutex_lock(&media_mu);
	s = adopted_half_locked(true, port, &dst);
	if (s) {
		s->local_rtcp_port = port;
		s->local_mux = false;
		s->adopt_rtcp_to = dst;
		s->refs++;                      /* ours, below */
		old = attach_locked(s, f, 1);
	}
	pthread_mutex_unlock(&media_mu);
	media_stream_put(old);
	if (s) {
		pthread_mutex_lock(s->mu);
		/* The client knows where its RTCP goes (a=rtcp, RFC 3605). */
		if (have_dst)
			s->peer_rtcp = dst;
		pthread_mutex_unlock(s->mu);
		shim_log(SHIM_LOG_INFO, "media %s: RTCP on fd %d (port %u) "
			 "belongs to it: held and protected with its RTP",
			 s->name, f->fd, (unsigned)port);
		media_stream_put(s);
		return;
	}

	/* RTCP before any RTP of its stream (a client that reports before it
	 * sends, or sends nothing but RTCP): a stream of its own that waits
	 * for its RTP. Presumed muxed on f until RTP from another socket
	 * claims it (shim_media_adopt); the engine does not start before
	 * that, since ZRTP runs on the RTP port. */
	s = adopted_new(f);
	if (!s)
		return;
	pthread_mutex_lock(&media_mu);
	atomic_store(&s->rtcp_only, true);
	s->local_rtp_port = 0;
	s->local_rtcp_port = port;
	s->local_mux = true;
	s->adopt_rtcp_to = dst;
	old = attach_locked(s, f, 2);
	pthread_mutex_unlock(&media_mu);
	media_stream_put(old);
	pthread_mutex_lock(s->mu);
	if (have_dst)
		s->peer_rtcp = dst;
	pthread_mutex_unlock(s->mu);
	shim_log(SHIM_LOG_INFO, "media %s: RTCP on fd %d (port %u) before any "
		 "RTP, and no SDP announced it: held until its RTP shows up",
		 s->name, f->fd, (unsigned)port);
	media_stream_put(s);
}

void media_adopted_mux_found(struct shim_media *s, struct shim_fd *f)
{
	uint16_t port = shim_addr_port(&f->local);
	bool now = false;
	pthread_mutex_lock(&media_mu);
	if (atomic_load(&s->rtcp_only) && atomic_load(&s->rtp_fd) == f->fd) {
		atomic_store(&s->rtcp_only, false);
		s->local_rtp_port = s->local_rtcp_port = port;
		s->local_mux = true;
		now = true;
	}
	pthread_mutex_unlock(&media_mu);
	if (now)
		shim_log(SHIM_LOG_INFO, "media %s: RTP on fd %d (port %u), the "
			 "socket of its RTCP (rtcp-mux): protecting both",
			 s->name, f->fd, (unsigned)port);
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
		media_stream_end_locked(s);
		pthread_mutex_unlock(s->mu);
		pthread_mutex_lock(&media_mu);
		struct shim_call *c = s->call;
		if (c->in_table && !call_has_fds(c)) {
			call_unlist_locked(c);
			release = c;
		}
		pthread_mutex_unlock(&media_mu);
	}
	media_stream_put(s);                   /* f's reference */
	if (release)
		call_release_lines(release);
}

void shim_media_call_ended(const char *call_id, size_t len)
{
	pthread_mutex_lock(&media_mu);
	struct shim_call *c = call_find(call_id, len);
	if (c)
		call_unlist_locked(c);
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

void shim_media_keypad_key(const char *call_id, size_t len, char key)
{
	if (!call_id)
		return;
	pthread_mutex_lock(&media_mu);
	struct shim_call *c = call_find(call_id, len);
	struct shim_media *s = NULL;
	for (int i = 0; c && i < MEDIA_MAX_LINES && !s; i++)
		if (c->lines[i] && c->lines[i]->audio)
			s = c->lines[i];
	if (s)
		s->refs++;
	pthread_mutex_unlock(&media_mu);
	if (!s) {
		shim_log(SHIM_LOG_INFO, "media: call %.*s: keypad: key %c from "
			 "a SIP INFO ignored: the call has no audio stream",
			 (int)(len > 100 ? 100 : len), call_id, key);
		return;
	}
	int saved = errno;
	pthread_mutex_lock(s->mu);
	media_keypad_key_locked(s, key, "SIP INFO", shim_clock_ms());
	pthread_mutex_unlock(s->mu);
	media_stream_put(s);
	errno = saved;
}

/* --- counters, fork ---------------------------------------------------------- */

/* Copy s's counters (s referenced, no lock held); drops the reference. */
static void stats_fill_put(struct shim_media *s, struct shim_media_stats *out)
{
	pthread_mutex_lock(s->mu);
	*out = s->st;
	snprintf(out->name, sizeof out->name, "%s", s->name);
	out->phase = media_phase_names[s->phase];
	out->zrtp_state = s->zs ? (int)zrtp_stream_state(s->zs) : -1;
	snprintf(out->sas, sizeof out->sas, "%s", s->sas);
	pthread_mutex_unlock(s->mu);
	media_stream_put(s);
}

/*
 * One pass over the table (or one call's lines): a reference to each
 * stream under media_mu, then each one's counters under its own lock.
 * Returns how many streams there are (more than cap: the caller grows
 * and asks again), or 0 when the scratch array cannot be allocated.
 */
static size_t stats_collect(struct shim_call *one, const char *id, size_t len,
			    struct shim_media_stats *out, size_t cap)
{
	struct shim_media **ref = cap ? malloc(cap * sizeof *ref) : NULL;
	size_t n = 0, k = 0;
	if (cap && !ref)
		return 0;
	pthread_mutex_lock(&media_mu);
	if (id)
		one = call_find(id, len);
	for (size_t c = 0; c < media_calls_cap; c++) {
		struct shim_call *call = id ? one : media_calls[c];
		for (int j = 0; call && j < MEDIA_MAX_LINES; j++) {
			struct shim_media *s = call->lines[j];
			if (!s)
				continue;
			if (k < cap) {
				s->refs++;
				ref[k++] = s;
			}
			n++;
		}
		if (id)
			break;
	}
	pthread_mutex_unlock(&media_mu);
	for (size_t i = 0; i < k; i++)
		stats_fill_put(ref[i], &out[i]);
	free(ref);
	return n;
}

size_t shim_media_stats_all(struct shim_media_stats *out, size_t cap)
{
	return stats_collect(NULL, NULL, 0, out, cap);
}

size_t shim_media_stats_call(const char *call_id, size_t len,
			     struct shim_media_stats *out, size_t cap)
{
	return call_id ? stats_collect(NULL, call_id, len, out, cap) : 0;
}

int shim_media_stats_get(size_t i, struct shim_media_stats *out)
{
	struct shim_media *s = NULL;
	size_t k = 0;
	pthread_mutex_lock(&media_mu);
	for (int c = 0; c < (int)media_calls_cap && !s; c++)
		for (int j = 0; media_calls[c] && j < MEDIA_MAX_LINES && !s; j++)
			if (media_calls[c]->lines[j] && k++ == i) {
				s = media_calls[c]->lines[j];
				s->refs++;
			}
	pthread_mutex_unlock(&media_mu);
	if (!s)
		return -ENOENT;
	stats_fill_put(s, out);
	return 0;
}

void shim_media_test_set_max_calls(size_t max)
{
	pthread_mutex_lock(&media_mu);
	media_calls_max = max ? max : MEDIA_MAX_CALLS;
	pthread_mutex_unlock(&media_mu);
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
	media_path_atfork_child();
	for (int i = 0; i < (int)media_calls_cap; i++) {
		struct shim_call *c = media_calls[i];
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
			media_peek_free_locked(s);
			s->phase = PH_ENDED;
		}
	}
	/* Ended calls' streams keeping rx a moment are out of the table. */
	for (struct shim_media *s = media_draining; s; s = s->drain_next) {
		if (s->rx)
			srtp_dealloc(s->rx);
		s->rx = NULL;
		atomic_store(&s->rx_until, 0);
	}
	shim_cache_atfork_child();
	shim_timer_atfork_child();
}
