/*
 * Spoken prompts in the earpiece (DESIGN.md "The user's loop"): when a
 * stream becomes secure, or something is wrong with it, the user hears it
 * in the audio the shim delivers to its own client, as if the peer had
 * said it (Zfone did this with short tones; we speak).
 *
 * What is said comes from the events (prompt_on_event, a listener of
 * events.c): secure (the code, or a short "verified" cue for a peer
 * verified before), cache mismatch, opportunistic clear, cannot encrypt,
 * altered media, pin alarm, the keypad's verified/unverified; the keypad
 * asks for the code again through media_prompt_request_locked. The
 * listener runs on whatever thread raised the event, often with the
 * stream's own lock held, so it only records the request in the stream
 * (an atomic); the packet path picks it up.
 *
 * How it is played: into each RTP packet delivered to the client from
 * then on, by the stream's negotiated codec (the payload type's a=rtpmap,
 * codec.h): the payload is decoded, the peer's audio is kept under the
 * prompt at a lower level (so the peer is not lost while the prompt
 * plays), and the sum is encoded again into the same payload type. The
 * RTP header stays the peer's (sequence, timestamp, SSRC), so the
 * client's jitter buffer sees the stream it expects. G.711 and G.722 keep
 * the payload's length; Opus frames are re-encoded (a fresh encoder: the
 * client's decoder takes it as a new talk spurt). Another codec gets no
 * prompt, and one log line per stream says so. On a stream that delivers
 * nothing (failed, or held by the policy), a packet that arrives from the
 * peer carries the prompt alone and nothing of the peer: the user hears
 * why the call is silent.
 *
 * Memory: nothing per packet. The decoder/encoder pair and a PCM buffer
 * exist while a prompt plays and are freed when it ends.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shim/clock.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/prompt.h"
#include "shim/settings.h"
#include "zrtp/zrtp.h"

/* The peer's audio under a prompt: -20 dB, ducked as announcements are:
 * still heard (and measurable in what a G.711 recording holds), and the
 * code stays clear over a loud peer (at -14 dB a speech recogniser
 * already took a steady tone through Opus for extra words). */
#define PEER_UNDER_NUM 1
#define PEER_UNDER_DEN 10

/* Silence after each prompt (see player_start). */
#define PROMPT_TAIL_MS 400

static bool clips_ok;

static void prepare_once(void)
{
	/* the codec libraries: loaded by the media layer for the streams
	 * whose codecs need them */
	clips_ok = clips_load(shim_config.prompts_dir[0] ? shim_config.prompts_dir
							 : NULL) == 0;
}

void media_prompt_prepare(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (shim_config.prompts != SHIM_PROMPTS_OFF)
		pthread_once(&once, prepare_once);
}

/* Which requests may replace which: an alarm is not cut by the secure
 * prompt that follows it in the same handshake; what the user asked for
 * (the keypad) always plays. */
static int priority(enum prompt_kind k)
{
	switch (k) {
	case PROMPT_PIN_ALARM: return 5;
	case PROMPT_MISMATCH: return 4;
	case PROMPT_CLEAR: return 3;
	case PROMPT_CANNOT_ENCRYPT:
	case PROMPT_ALTERED: return 2;
	default: return 1;
	}
}

static bool user_asked(enum prompt_kind k)
{
	return k == PROMPT_CODE || k == PROMPT_VERIFIED || k == PROMPT_UNVERIFIED;
}

static const char *const kind_names[PROMPT_KIND_COUNT] = {
	[PROMPT_SECURE] = "secure", [PROMPT_SECURE_VERIFIED] = "secure-verified",
	[PROMPT_SECURE_CUE] = "secure-cue", [PROMPT_CODE] = "code",
	[PROMPT_VERIFIED] = "verified", [PROMPT_UNVERIFIED] = "unverified",
	[PROMPT_MISMATCH] = "mismatch", [PROMPT_CLEAR] = "clear",
	[PROMPT_CANNOT_ENCRYPT] = "cannot-encrypt", [PROMPT_ALTERED] = "altered",
	[PROMPT_PIN_ALARM] = "pin-alarm",
};

const char *prompt_kind_name(enum prompt_kind k)
{
	return (unsigned)k < PROMPT_KIND_COUNT && kind_names[k] ? kind_names[k]
								 : "?";
}

/* Record a request (no lock needed): it replaces a pending one of lower
 * or equal priority. */
static void request(struct prompt_player *p, enum prompt_kind k)
{
	int cur = atomic_load(&p->requested);
	for (;;) {
		if (cur && !user_asked(k) &&
		    priority((enum prompt_kind)(cur - 1)) > priority(k))
			return;
		if (atomic_compare_exchange_weak(&p->requested, &cur, (int)k + 1))
			break;
	}
	atomic_store(&p->requested_ms, shim_clock_ms());
}

void media_prompt_request_locked(struct shim_media *s, enum prompt_kind kind)
{
	if (shim_config.prompts == SHIM_PROMPTS_OFF || kind >= PROMPT_KIND_COUNT)
		return;
	request(&s->prompt, kind);
}

/* What an event says to the ear (-1: nothing). */
static int kind_of_event(const struct shim_event_note *n)
{
	bool code = shim_config.prompts == SHIM_PROMPTS_CODE;
	switch (n->kind) {
	case SHIM_EVENT_ZRTP:
		if (!n->ev)
			return -1;
		switch (n->ev->type) {
		case ZRTP_EV_SECURE:
			if (!code)
				return PROMPT_SECURE_CUE;
			return n->ev->verified && !shim_config.prompt_always_code
				       ? PROMPT_SECURE_VERIFIED : PROMPT_SECURE;
		case ZRTP_EV_CACHE_MISMATCH:
			return PROMPT_MISMATCH;
		case ZRTP_EV_FAILED:
		case ZRTP_EV_HELLO_HASH_MISMATCH:
			return PROMPT_CANNOT_ENCRYPT;
		default:
			return -1;
		}
	case SHIM_EVENT_ALTERED: return PROMPT_ALTERED;
	case SHIM_EVENT_CLEAR: return PROMPT_CLEAR;
	case SHIM_EVENT_PIN_ALARM: return PROMPT_PIN_ALARM;
	case SHIM_EVENT_VERIFIED: return PROMPT_VERIFIED;
	case SHIM_EVENT_UNVERIFIED: return PROMPT_UNVERIFIED;
	default: return -1;
	}
}

void prompt_on_event(const struct shim_event_note *n)
{
	if (shim_config.prompts == SHIM_PROMPTS_OFF || !n || !n->stream)
		return;
	int k = kind_of_event(n);
	if (k < 0)
		return;
	struct shim_media *s = media_find_name(n->stream);
	if (!s)
		return;
	request(&s->prompt, (enum prompt_kind)k);
	media_stream_put(s);
}

/* --- playing -------------------------------------------------------------- */

static bool kind_has_code(enum prompt_kind k)
{
	return k == PROMPT_SECURE || k == PROMPT_CODE || k == PROMPT_MISMATCH;
}

static void player_stop(struct shim_media *s)
{
	struct prompt_player *p = &s->prompt;
	p->active = false;
	free(p->pcm);
	p->pcm = NULL;
	shim_codec_state_fini(&p->cs);
}

void media_prompt_end_locked(struct shim_media *s)
{
	player_stop(s);
	atomic_store(&s->prompt.requested, 0);
}

/* Start the requested prompt at the codec's rate: false if it cannot be
 * played on this stream (said once). */
static bool player_start(struct shim_media *s, enum prompt_kind k,
			 const struct shim_codec_entry *e)
{
	struct prompt_player *p = &s->prompt;
	player_stop(s);
	unsigned rate = shim_codec_pcm_rate(e);
	int r = rate ? shim_codec_state_init(&p->cs, e) : -ENOTSUP;
	if (r < 0) {
		if (!p->codec_logged)
			shim_log(SHIM_LOG_WARN, "media %s: no spoken prompt on "
				 "this stream: its codec %s (payload type %u) "
				 "%s", s->name, e->name, e->pt,
				 r == -ENOTSUP ? "is not one the shim can speak "
				 "in (PCMU, PCMA, G722, opus)"
				 : "could not be set up");
		p->codec_logged = true;
		return false;
	}
	if (!clips_ok) {
		if (!p->codec_logged)
			shim_log(SHIM_LOG_WARN, "media %s: no spoken prompt: the "
				 "prompt clips are not loaded", s->name);
		p->codec_logged = true;
		return false;
	}
	/* a pin alarm on a secure stream (another ZID): the code follows */
	enum prompt_kind phrase = k;
	bool with_code = kind_has_code(k) ||
			 (k == PROMPT_PIN_ALARM && s->sas[0] &&
			  shim_config.prompts == SHIM_PROMPTS_CODE);
	if (shim_config.prompts != SHIM_PROMPTS_CODE && k == PROMPT_CODE)
		return false;
	p->n_seq = 0;
	if (kind_has_code(k) && !s->sas[0])
		return false;
	if (kind_has_code(k)) {
		r = clips_compose(phrase, s->sas, rate, &p->seq[p->n_seq]);
	} else {
		r = clips_compose(phrase, "", rate, &p->seq[p->n_seq]);
		if (r == 0 && with_code) {
			p->n_seq++;
			r = clips_compose(PROMPT_CODE, s->sas, rate,
					  &p->seq[p->n_seq]);
		}
	}
	if (r < 0) {
		shim_log(SHIM_LOG_WARN, "media %s: no spoken prompt %s: %s",
			 s->name, prompt_kind_name(k), strerror(-r));
		return false;
	}
	/* A tail of silence: the client's jitter buffer plays what it holds
	 * only while packets keep coming, and on a stream that delivers
	 * nothing but the prompt they stop with it. */
	struct clip_seq *last = &p->seq[p->n_seq];
	if (last->n_parts < CLIPS_SEQ_MAX)
		last->part[last->n_parts++] = (struct clip_part){
			.pcm = NULL, .n = (size_t)rate * PROMPT_TAIL_MS / 1000 };
	p->n_seq++;
	p->pcm = malloc(2 * SHIM_CODEC_PCM_MAX * sizeof *p->pcm);
	if (!p->pcm) {
		shim_codec_state_fini(&p->cs);
		return false;
	}
	p->kind = k;
	p->seq_i = p->part = 0;
	p->off = 0;
	p->active = true;
	p->started_ms = shim_clock_ms();
	uint64_t asked = atomic_load(&p->requested_ms);
	shim_log(SHIM_LOG_INFO, "media %s: prompt %s%s%s started (%llu ms "
		 "after it was asked for), codec %s", s->name,
		 prompt_kind_name(k), with_code ? " code=" : "",
		 with_code ? s->sas : "",
		 (unsigned long long)(p->started_ms > asked ? p->started_ms - asked
							    : 0), e->name);
	return true;
}

/* The next n samples of the prompt into out (0 past its end); false when
 * it has ended before this block. */
static bool player_read(struct prompt_player *p, int16_t *out, size_t n)
{
	size_t done = 0;
	if (p->seq_i >= p->n_seq)
		return false;
	while (done < n && p->seq_i < p->n_seq) {
		const struct clip_seq *q = &p->seq[p->seq_i];
		if (p->part >= q->n_parts) {
			p->seq_i++;
			p->part = 0;
			p->off = 0;
			continue;
		}
		const struct clip_part *c = &q->part[p->part];
		size_t take = c->n - p->off;
		if (take > n - done)
			take = n - done;
		if (c->pcm)
			memcpy(out + done, c->pcm + p->off, take * sizeof *out);
		else
			memset(out + done, 0, take * sizeof *out);
		done += take;
		p->off += take;
		if (p->off >= c->n) {
			p->part++;
			p->off = 0;
		}
	}
	if (done < n)
		memset(out + done, 0, (n - done) * sizeof *out);
	return true;
}

/* The RTP payload of buf: offset and length (RFC 3550 §5.1, §5.3.1), or
 * false for a packet whose header runs past its end. */
static bool rtp_payload(const uint8_t *b, size_t len, size_t *off, size_t *plen)
{
	if (len < 12 || (b[0] >> 6) != 2)
		return false;
	size_t o = 12 + 4u * (b[0] & 0x0f);
	if (b[0] & 0x10) {
		if (o + 4 > len)
			return false;
		o += 4 + 4u * (((size_t)b[o + 2] << 8) | b[o + 3]);
	}
	size_t pad = (b[0] & 0x20) && len > 0 ? b[len - 1] : 0;
	if (o + pad > len)
		return false;
	*off = o;
	*plen = len - o - pad;
	return true;
}

static const struct shim_codec_entry *codec_of(const struct shim_media *s,
					       uint8_t pt)
{
	const struct shim_codec_entry *e = shim_codec_find(&s->codecs_local, pt);
	return e ? e : shim_codec_find(&s->codecs_peer, pt);
}

bool media_prompt_mix_locked(struct shim_media *s, uint8_t *buf, size_t *len,
			     bool peer)
{
	struct prompt_player *p = &s->prompt;
	size_t off, plen;

	if (!p->active && !atomic_load(&p->requested))
		return false;
	if (!s->audio || !rtp_payload(buf, *len, &off, &plen) || plen == 0)
		return false;
	const struct shim_codec_entry *e = codec_of(s, buf[1] & 0x7f);
	if (!e || e->codec == SHIM_CODEC_TEL_EVENT)
		return false;   /* DTMF or an unknown type: not audio to mix */
	int req = atomic_exchange(&p->requested, 0);
	if (req && (!p->active || user_asked((enum prompt_kind)(req - 1)) ||
		    priority((enum prompt_kind)(req - 1)) >= priority(p->kind))) {
		if (!player_start(s, (enum prompt_kind)(req - 1), e))
			return false;
	}
	if (!p->active)
		return false;
	if (e->pt != p->cs.pt && shim_codec_state_init(&p->cs, e) < 0) {
		player_stop(s);   /* the peer switched to a codec we cannot speak */
		return false;
	}
	int16_t *pcm = p->pcm, *pr = p->pcm + SHIM_CODEC_PCM_MAX;
	int n = shim_codec_decode(&p->cs, buf + off, plen, pcm,
				  SHIM_CODEC_PCM_MAX);
	if (n <= 0)
		return false;
	if (!player_read(p, pr, (size_t)n)) {
		shim_log(SHIM_LOG_DEBUG, "media %s: prompt %s ended after %llu "
			 "ms", s->name, prompt_kind_name(p->kind),
			 (unsigned long long)(shim_clock_ms() - p->started_ms));
		player_stop(s);
		return false;
	}
	for (int i = 0; i < n; i++) {
		int32_t v = pr[i] + (peer ? pcm[i] * PEER_UNDER_NUM / PEER_UNDER_DEN
					  : 0);
		pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	/* the re-encoded payload replaces the old one and any padding */
	size_t cap = SHIM_PKT_MAX - off;
	if (cap > 1200)
		cap = 1200;
	int m = shim_codec_encode(&p->cs, pcm, (size_t)n, buf + off, cap);
	if (m <= 0) {
		player_stop(s);
		return false;
	}
	buf[0] &= (uint8_t)~0x20;
	*len = off + (size_t)m;
	return true;
}
