/*
 * The keypad's side of a stream (media_int.h, keypad.h): keys read from
 * the RTP the client sends and from its SIP INFO, and what a matched
 * sequence does. Everything here runs under the stream's call->mu, on the
 * send path: no allocation but the one DTMF receiver a G.711 stream gets
 * when its first packet goes out, no copy of the packet (G.711 is decoded
 * into a buffer on the stack), and the packet itself is never written.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

#include "shim/codec.h"
#include "shim/events.h"
#include "shim/keypad.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/settings.h"
#include "zrtp/zrtp.h"

static const char *action_name(enum keypad_action a)
{
	switch (a) {
	case KEYPAD_REPEAT: return "repeat the code";
	case KEYPAD_CONFIRM: return "confirm the code";
	case KEYPAD_WITHDRAW: return "withdraw the confirmation";
	default: return "none";
	}
}

static const char *action_seq(enum keypad_action a)
{
	switch (a) {
	case KEYPAD_REPEAT: return shim_config.key_repeat;
	case KEYPAD_CONFIRM: return shim_config.key_confirm;
	case KEYPAD_WITHDRAW: return shim_config.key_withdraw;
	default: return "";
	}
}

static void act_locked(struct shim_media *s, enum keypad_action a,
		       const char *how)
{
	if (s->phase != PH_SECURE || !s->zs) {
		shim_log(SHIM_LOG_INFO, "media %s: keypad: %s (%s, by %s) "
			 "ignored: the stream is not secure (%s)", s->name,
			 action_seq(a), action_name(a), how,
			 media_phase_names[s->phase]);
		return;
	}
	if (a == KEYPAD_REPEAT) {
		shim_log(SHIM_LOG_INFO, "media %s: keypad: %s (by %s): the "
			 "code %s is spoken again", s->name, action_seq(a),
			 how, s->sas);
		media_prompt_request_locked(s, PROMPT_CODE);
		return;
	}
	bool verified = a == KEYPAD_CONFIRM;
	int r = zrtp_stream_set_verified(s->zs, verified);
	if (r < 0) {
		shim_log(SHIM_LOG_WARN, "media %s: keypad: %s (%s, by %s) "
			 "failed: %s%s", s->name, action_seq(a), action_name(a),
			 how, strerror(-r), r == -EINVAL ? " (this stream "
			 "has no SAS of its own: use the call's first stream)"
			 : "");
		return;
	}
	shim_log(SHIM_LOG_INFO, "media %s: keypad: %s (by %s): the SAS %s "
		 "of peer %s is %s in the cache", s->name, action_seq(a), how,
		 s->sas, s->kp.peer_zid[0] ? s->kp.peer_zid : "-",
		 verified ? "marked verified" : "no longer marked verified");
	shim_events_emit_shim(verified ? SHIM_EVENT_VERIFIED
				       : SHIM_EVENT_UNVERIFIED,
			      s->name, verified ? "verified" : "unverified",
			      s->sas, s->kp.peer_zid,
			      verified ? "the user confirmed the SAS from the "
					 "keypad"
				       : "the user withdrew the confirmation "
					 "from the keypad");
}

void media_keypad_key_locked(struct shim_media *s, char key, const char *how,
			     uint64_t now)
{
	if (s->phase == PH_ENDED)
		return;
	shim_log(SHIM_LOG_DEBUG, "media %s: keypad: key %c (%s)", s->name, key,
		 how);
	enum keypad_action a = keypad_match(&s->kp, key, now,
						shim_config.key_repeat,
						shim_config.key_confirm,
						shim_config.key_withdraw);
	if (a != KEYPAD_NONE)
		act_locked(s, a, how);
}

/* The G.711 octets gathered so far through spandsp's receiver, and the
 * keys it found. */
static void inband_flush_locked(struct shim_media *s, uint64_t now)
{
	const struct shim_dtmf_rx *sp = shim_codec_dtmf();
	size_t n = s->kp.inband_n;
	if (!sp || !s->kp.dtmf || n == 0)
		return;
	int16_t pcm[800];
	for (size_t off = 0; off < n;) {
		size_t k = n - off < 800 ? n - off : 800;
		for (size_t i = 0; i < k; i++)
			pcm[i] = s->kp.inband_alaw
				 ? alaw_to_linear(s->kp.inband[off + i])
				 : ulaw_to_linear(s->kp.inband[off + i]);
		sp->dtmf_rx(s->kp.dtmf, pcm, (int)k);
		off += k;
	}
	s->kp.inband_n = 0;
	char digits[SHIM_KEYSEQ_MAX + 1];
	size_t got = sp->dtmf_rx_get(s->kp.dtmf, digits, SHIM_KEYSEQ_MAX);
	for (size_t i = 0; i < got && i < SHIM_KEYSEQ_MAX; i++)
		if (keypad_is_key(digits[i]))
			media_keypad_key_locked(s, keypad_key_upper(digits[i]),
						"in-band tone", now);
}

/* In-band tones in one G.711 payload: gathered, and given to spandsp's
 * receiver (made for the stream the first time; 8000 samples/s, which
 * G.711 is) by KEYPAD_INBAND_BATCH. */
static void inband_locked(struct shim_media *s, const uint8_t *p, size_t n,
			  bool alaw, uint64_t now)
{
	const struct shim_dtmf_rx *sp = shim_codec_dtmf();
	if (!sp) {
		if (!s->kp.dtmf_unavailable)
			shim_log(SHIM_LOG_INFO, "media %s: keypad: no in-band "
				 "DTMF detection (spandsp's receiver not ready: "
				 "libspandsp not installed, or this call's SDPs did "
				 "not call for it); telephone-events and SIP INFO still work",
				 s->name);
		s->kp.dtmf_unavailable = true;
		return;
	}
	if (!s->kp.dtmf) {
		if (s->kp.dtmf_unavailable)
			return;
		s->kp.inband = malloc(KEYPAD_INBAND_BATCH);
		s->kp.dtmf = s->kp.inband ? sp->dtmf_rx_init(NULL, NULL, NULL)
					  : NULL;
		if (!s->kp.dtmf) {
			free(s->kp.inband);
			s->kp.inband = NULL;
			s->kp.dtmf_unavailable = true;
			shim_log(SHIM_LOG_WARN, "media %s: keypad: cannot make "
				 "a DTMF receiver: no in-band keys", s->name);
			return;
		}
		s->kp.inband_n = 0;
	}
	if (s->kp.inband_n > 0 && s->kp.inband_alaw != alaw)
		inband_flush_locked(s, now);
	s->kp.inband_alaw = alaw;
	s->kp.inband_ms = now;
	while (n > 0) {
		size_t room = KEYPAD_INBAND_BATCH - s->kp.inband_n;
		size_t take = n < room ? n : room;
		memcpy(s->kp.inband + s->kp.inband_n, p, take);
		s->kp.inband_n = (uint16_t)(s->kp.inband_n + take);
		p += take;
		n -= take;
		if (s->kp.inband_n == KEYPAD_INBAND_BATCH)
			inband_flush_locked(s, now);
	}
}

bool media_keypad_inband_wanted(const struct shim_codec_map *local,
				const struct shim_codec_map *peer)
{
	switch (shim_config.inband) {
	case SHIM_INBAND_ALWAYS:
		return true;
	case SHIM_INBAND_OFF:
		return false;
	default:
		return !(shim_codec_map_has(local, SHIM_CODEC_TEL_EVENT) &&
			 (!peer || shim_codec_map_has(peer, SHIM_CODEC_TEL_EVENT)));
	}
}

void media_keypad_rtp_locked(struct shim_media *s, const uint8_t *pkt,
			     size_t len, uint64_t now)
{
	/* RFC 3550 §5.1: the payload after the CSRCs, the extension and
	 * before the padding; anything that does not add up is left alone. */
	if (!s->audio || len < 12 || (pkt[0] >> 6) != 2)
		return;
	size_t off = 12 + 4u * (pkt[0] & 0x0f);
	if (off > len)
		return;
	if (pkt[0] & 0x10) {
		if (off + 4 > len)
			return;
		off += 4 + 4u * (((size_t)pkt[off + 2] << 8) | pkt[off + 3]);
		if (off > len)
			return;
	}
	size_t end = len;
	if (pkt[0] & 0x20) {
		uint8_t pad = pkt[len - 1];
		if (pad == 0 || pad > end - off)
			return;
		end -= pad;
	}
	uint8_t pt = pkt[1] & 0x7f;
	const struct shim_codec_entry *e = shim_codec_find(&s->codecs_peer, pt);
	if (!e)
		e = shim_codec_find(&s->codecs_local, pt);
	if (!e)
		return;
	switch (e->codec) {
	case SHIM_CODEC_TEL_EVENT: {
		uint32_t ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 |
			      (uint32_t)pkt[6] << 8 | pkt[7];
		char key = keypad_event_input(&s->kp, pkt + off, end - off, ts);
		if (key)
			media_keypad_key_locked(s, key, "telephone-event", now);
		break;
	}
	case SHIM_CODEC_PCMU:
	case SHIM_CODEC_PCMA:
		/* A client that sends telephone-events sends its keys that
		 * way, not also as tones (RFC 4733 §2.6); nor, by default,
		 * one that negotiated them (ZRTPSHIM_INBAND). */
		if (!s->kp.ev_seen && e->rate == 8000 && e->channels <= 1 &&
		    media_keypad_inband_wanted(&s->codecs_local,
					       s->codecs_peer.n ? &s->codecs_peer
								: NULL))
			inband_locked(s, pkt + off, end - off,
				      e->codec == SHIM_CODEC_PCMA, now);
		break;
	default:
		break;
	}
}

void media_keypad_end_locked(struct shim_media *s)
{
	const struct shim_dtmf_rx *sp = shim_codec_dtmf();
	if (s->kp.dtmf && sp) {
		/* the last of the audio too: a key pressed just before,
		 * at the time it was sent */
		inband_flush_locked(s, s->kp.inband_ms);
		sp->dtmf_rx_free(s->kp.dtmf);
	}
	free(s->kp.inband);
	memset(&s->kp, 0, sizeof s->kp);
}
