/*
 * What happens to each packet on a media fd (media.h), both ways.
 *
 * Each datagram is classified by common/demux.h (the classifier
 * `zrtpshim verify` uses too), with the RTCP socket of a stream without
 * rtcp-mux as an RTCP port:
 *   ZRTP  incoming goes to the engine and never to the client; outgoing
 *         (a client that speaks ZRTP itself) passes untouched.
 *   RTP, RTCP  held / protected / unprotected by the phase, below.
 *   STUN, DTLS, SIP, anything else: untouched.
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
 * Altered media. A transcoder or an SBC that terminates the media (and
 * re-encodes what it takes for RTP) makes every packet fail
 * authentication, and nothing is delivered. The user must hear of it: on
 * a secure stream, when packets from the peer's address keep failing and
 * none of that kind (RTP, or RTCP) authenticates for
 * ZRTPSHIM_ALTERED_MS, the "altered" event is raised (events.c: log,
 * status file, ZRTPSHIM_ON_EVENT), once per episode. Failures stop
 * counting as "keep arriving" after a gap of the window (at most 1 s):
 * silence or a hold is not an alteration. An authenticated packet of the
 * failing kind ends the episode (logged once) and re-arms it. The check
 * runs on every failure and in the timer's work (media_reader.c), so a
 * stream whose every packet fails raises it on time even when packets
 * are sparse. Packets from elsewhere (anyone can send to our port) never
 * count, and nothing changes in what is delivered or dropped.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <srtp2/srtp.h>

#include "common/demux.h"
#include "shim/addr.h"
#include "shim/clock.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "shim/timer.h"
#include "zrtp/zrtp.h"

/* The REPLACE this thread is sending (shim_media_send_done). */
static _Thread_local struct shim_media *tl_sending;
/* Its protected bytes: a send is protected and sent on one thread between
 * shim_media_outgoing and shim_media_send_done, so one buffer per thread
 * serves every stream (ciphertext only: nothing here needs wiping). */
static _Thread_local uint8_t tl_out[SHIM_PKT_MAX];

void media_path_atfork_child(void)
{
	tl_sending = NULL;
}

/* --- outgoing ------------------------------------------------------------- */

/*
 * The client sends ZRTP itself (a native ZRTP endpoint run under the
 * shim). Its packets pass untouched, but our engine answers the peer on
 * the same port, so the two handshakes will fight: say so once. Standing
 * aside is not done automatically: a client whose own ZRTP fails may fall
 * back to clear RTP, which the policy forbids.
 */
static void note_client_zrtp(struct shim_media *s)
{
	pthread_mutex_lock(s->mu);
	if (!s->client_zrtp_logged) {
		s->client_zrtp_logged = true;
		shim_log(SHIM_LOG_WARN, "media %s: the client speaks ZRTP itself; "
			 "its ZRTP passes untouched but the shim's own handshake "
			 "on this port will compete with it: run native ZRTP "
			 "clients without the shim", s->name);
	}
	pthread_mutex_unlock(s->mu);
}

/* The class of a datagram on fd, one of s's sockets (common/demux.h):
 * the RTCP socket of a stream without mux carries only RTCP. */
static enum demux_class media_classify(const struct shim_media *s, int fd,
				       const uint8_t *p, size_t len)
{
	bool on_rtcp_fd = atomic_load(&s->rtcp_fd) == fd &&
			  atomic_load(&s->rtp_fd) != fd;

	return demux_classify(p, len, on_rtcp_fd ? DEMUX_PORT_RTCP
						 : DEMUX_PORT_RTP);
}

enum shim_verdict shim_media_outgoing(struct shim_fd *f, const uint8_t *pkt,
				      size_t len, const struct sockaddr *to,
				      socklen_t tolen, const uint8_t **out,
				      size_t *out_len)
{
	struct shim_media *s = media_get(f);
	if (!s)
		return SHIM_PASS;
	enum demux_class k = media_classify(s, f->fd, pkt, len);
	if (k != DEMUX_RTP && k != DEMUX_RTCP) {
		/* STUN, DTLS, the client's own ZRTP, anything else: as is */
		if (k == DEMUX_ZRTP)
			note_client_zrtp(s);
		media_stream_put(s);
		return SHIM_PASS;
	}
	media_init();
	int saved = errno;
	enum shim_verdict v = SHIM_DROP;
	bool kick = false;
	bool rtcp = k == DEMUX_RTCP;

	if (!rtcp && atomic_load(&s->rtcp_only))
		media_adopted_mux_found(s, f);
	pthread_mutex_lock(s->mu);
	bool rtcp_fd = atomic_load(&s->rtcp_fd) == f->fd &&
		       atomic_load(&s->rtp_fd) != f->fd;
	if (!s->have_peer && !rtcp_fd && !rtcp && s->phase == PH_WAITING) {
		/* The client knows where to send before the SDP told us. Only
		 * RTP says where the peer's RTP is: RTCP may go elsewhere
		 * (port + 1, a=rtcp; RFC 3550 §11, RFC 3605). */
		if (to)
			media_stream_learn_peer(s, to, tolen, s->local_mux);
		else if (f->peer.ss_family)
			media_stream_learn_peer(s, (const struct sockaddr *)&f->peer,
					  sizeof f->peer, s->local_mux);
		kick = media_stream_start_locked(s, shim_clock_ms());
	}
	if (!rtcp && s->audio)
		media_keypad_rtp_locked(s, pkt, len, shim_clock_ms());
	switch (s->phase) {
	case PH_SECURE: {
		if (len > PROTECT_MAX || !s->tx) {
			s->st.tx_err++;
			break;
		}
		memcpy(tl_out, pkt, len);
		int n = (int)len;
		srtp_err_status_t e = rtcp ? srtp_protect_rtcp(s->tx, tl_out, &n)
					   : srtp_protect(s->tx, tl_out, &n);
		if (e != srtp_err_status_ok || n < 0 || n > SHIM_PKT_MAX) {
			s->st.tx_err++;
			uint64_t t = shim_clock_ms();
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
		*out = tl_out;
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
	case PH_SHARED:     /* never on a socket: the owner has it */
		s->st.tx_dropped++;
		break;
	}
	if (v == SHIM_REPLACE) {
		tl_sending = s;   /* keeps the lock and the reference */
	} else {
		pthread_mutex_unlock(s->mu);
		media_stream_put(s);
	}
	if (kick)
		shim_timer_kick(shim_media_timer_run);
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
	media_stream_put(s);
	errno = saved;
}

/* --- altered media (call->mu held) ---------------------------------------- */

static uint64_t altered_window(void)
{
	return shim_config.altered_ms ? shim_config.altered_ms
				      : SHIM_ALTERED_MS_DEFAULT;
}

/* Longer than this without a failure of a kind: its packets stopped. */
static uint64_t altered_gap(void)
{
	uint64_t w = altered_window();
	return w < 1000 ? w : 1000;
}

static bool from_peer(const struct shim_media *s, const struct sockaddr *from,
		      socklen_t fromlen)
{
	if (!from)
		return true;   /* a connected socket hears only its peer */
	return s->have_peer &&
	       (shim_addr_same_host(&s->peer_rtp, from, fromlen) ||
		shim_addr_same_host(&s->peer_rtcp, from, fromlen));
}

static void altered_forget_stale(struct shim_media *s, uint64_t now)
{
	for (int k = 0; k < 2; k++)
		if (s->fail_since[k] && now - s->fail_last[k] > altered_gap())
			s->fail_since[k] = 0;
}

uint64_t media_altered_check_locked(struct shim_media *s, uint64_t now)
{
	if (s->phase != PH_SECURE)
		return UINT64_MAX;
	altered_forget_stale(s, now);
	if (s->st.altered)
		return UINT64_MAX;
	uint64_t next = UINT64_MAX, w = altered_window();
	for (int k = 0; k < 2; k++) {
		if (!s->fail_since[k])
			continue;
		if (now - s->fail_since[k] < w) {
			if (s->fail_since[k] + w < next)
				next = s->fail_since[k] + w;
			continue;
		}
		s->st.altered = true;
		s->st.altered_episodes++;
		s->altered_at = now;
		s->altered_fail_base = s->st.rx_auth_fail + s->st.rx_err;
		char d[160];
		snprintf(d, sizeof d, "no %s from the peer has authenticated "
			 "for %llu ms while they kept arriving",
			 k ? "RTCP" : "RTP",
			 (unsigned long long)(now - s->fail_since[k]));
		shim_events_emit_altered(s->name, true, s->sas, d);
		return UINT64_MAX;
	}
	return next;
}

/* A packet of kind k (0 RTP, 1 RTCP) from the peer failed on a secure
 * stream. *kick: a new deadline for the timer. */
static void altered_on_fail(struct shim_media *s, int k, uint64_t now,
			    bool *kick)
{
	s->fail_last[k] = now;
	if (!s->fail_since[k]) {
		s->fail_since[k] = now;
		*kick = true;
	}
	media_altered_check_locked(s, now);
}

static void altered_on_auth(struct shim_media *s, int k)
{
	s->fail_since[k] = 0;
	if (!s->st.altered)
		return;   /* every packet of a good call: no clock read */
	uint64_t now = shim_clock_ms();
	altered_forget_stale(s, now);
	if (s->fail_since[!k])
		return;   /* the other kind still fails */
	s->st.altered = false;
	char d[160];
	snprintf(d, sizeof d, "after %llu ms altered; %llu packets failed "
		 "meanwhile", (unsigned long long)(now - s->altered_at),
		 (unsigned long long)(s->st.rx_auth_fail + s->st.rx_err -
				      s->altered_fail_base));
	shim_events_emit_altered(s->name, false, s->sas, d);
}

/* --- incoming ------------------------------------------------------------- */

static void log_rate(struct shim_media *s, uint64_t *last, const char *what,
		     uint64_t count)
{
	uint64_t t = shim_clock_ms();
	if (*last && t - *last < LOG_INTERVAL_MS)
		return;
	*last = t;
	shim_log(SHIM_LOG_WARN, "media %s: dropped %s (%llu so far)", s->name,
		 what, (unsigned long long)count);
}

/* call->mu held. The verdict for one received packet, unprotected in
 * place. *kick: an engine ran (its deadline may have moved). */
enum shim_verdict media_incoming_locked(struct shim_media *s, struct shim_fd *f,
					 int fd, uint8_t *buf, size_t len,
					 size_t *new_len,
					 const struct sockaddr *from,
					 socklen_t fromlen, bool *kick)
{
	bool on_rtcp_fd = atomic_load(&s->rtcp_fd) == fd &&
			  atomic_load(&s->rtp_fd) != fd;
	enum demux_class k = media_classify(s, fd, buf, len);

	if (k == DEMUX_ZRTP) {
		/* its copy already went to the engine */
		if (!on_rtcp_fd && media_peeked_consume(s, buf, len))
			return SHIM_DROP;
		s->st.rx_zrtp++;
		if (s->phase == PH_ENDED)
			return SHIM_DROP;
		if (on_rtcp_fd || atomic_load(&s->rtcp_only)) {
			/* ZRTP belongs on the RTP port; a stream adopted from
			 * its RTCP does not know that port yet. */
			s->st.rx_zrtp_bad++;
			return SHIM_DROP;
		}
		uint64_t now = shim_clock_ms();
		if (!s->have_peer && from)
			media_stream_learn_peer(s, from, fromlen, s->local_mux);
		media_stream_start_locked(s, now);
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
	if (k != DEMUX_RTP && k != DEMUX_RTCP)
		return SHIM_PASS;   /* STUN, DTLS, anything else: as is */
	bool rtcp = k == DEMUX_RTCP;

	if (s->phase == PH_CLEAR) {
		s->st.rx_clear++;
		/* a warning spoken over the peer's clear audio */
		if (!rtcp && media_prompt_mix_locked(s, buf, new_len, true))
			return SHIM_REPLACE;
		return SHIM_PASS;
	}
	/* What the peer sent before the call ended, still queued: the keys
	 * are kept a moment for it (media_stream_end_drain_locked). */
	bool draining = s->phase == PH_ENDED && s->rx &&
			shim_clock_ms() < s->rx_until;
	if ((s->phase == PH_ENDED && !draining) || s->phase == PH_FAILED ||
	    !s->rx) {
		s->st.rx_early++;
		/* Nothing of it is delivered; but the user hears why the call
		 * is silent, in a packet that carries the prompt alone. */
		if (!rtcp && s->phase != PH_ENDED &&
		    media_prompt_mix_locked(s, buf, new_len, false))
			return SHIM_REPLACE;
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
	bool watch = s->phase == PH_SECURE && from_peer(s, from, fromlen);
	if (watch && e != srtp_err_status_ok &&
	    e != srtp_err_status_replay_fail && e != srtp_err_status_replay_old)
		altered_on_fail(s, rtcp, shim_clock_ms(), kick);
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
	if (watch)
		altered_on_auth(s, rtcp);
	if (s->phase != PH_SECURE && s->zs &&
	    zrtp_stream_state(s->zs) == ZRTP_ST_WAIT_CONF2ACK) {
		/* RFC 6189 §4.6 (as bzrtp): SRTP from the peer that
		 * authenticates is an implicit Conf2ACK. */
		zrtp_stream_srtp_received(s->zs, shim_clock_ms());
		*kick = true;
	}
	*new_len = (size_t)n;
	if (!rtcp)
		media_prompt_mix_locked(s, buf, new_len, true);
	return SHIM_REPLACE;
}

void media_peek_free_locked(struct shim_media *s)
{
	for (int i = 0; i < 2; i++) {
		if (!s->peek[i])
			continue;
		sodium_memzero(s->peek[i], sizeof *s->peek[i]);
		free(s->peek[i]);
		s->peek[i] = NULL;
	}
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
	struct shim_media *s = media_get(f);
	if (!s)
		return SHIM_PASS;
	media_init();
	int saved = errno;
	bool kick = false;
	enum shim_verdict v;

	pthread_mutex_lock(s->mu);
	int role = atomic_load(&s->rtp_fd) == f->fd ? 0 : 1;
	struct peek_slot *slot = s->peek[role];
	if (slot && slot->valid && slot->fd == f->fd && slot->ct_len == len &&
	    len <= sizeof slot->ct && memcmp(slot->ct, buf, len) == 0) {
		v = slot->verdict;
		if (v == SHIM_REPLACE) {
			memcpy(buf, slot->pt, slot->pt_len);
			*new_len = slot->pt_len;
		}
		if (!peek)
			sodium_memzero(slot, sizeof *slot);
	} else {
		if (!peek && slot && slot->valid)
			sodium_memzero(slot, sizeof *slot);
		if (peek && !slot && len <= SHIM_PKT_MAX)
			slot = s->peek[role] = calloc(1, sizeof *slot);
		/* No slot (out of memory): the peek is answered, and the
		 * read that follows meets the replay window like a replay. */
		bool keep = peek && slot && len <= sizeof slot->ct;
		if (keep)
			memcpy(slot->ct, buf, len);
		v = media_incoming_locked(s, f, f->fd, buf, len, new_len, from,
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
	media_stream_put(s);
	if (kick)
		shim_timer_kick(shim_media_timer_run);
	errno = saved;
	return v;
}

