/*
 * The keypad (shim/keypad.c, shim/media_keypad.c): RTP packets as the
 * client sends them go through media_keypad_rtp_locked on a stream made
 * here, with stand-ins for what a matched sequence calls (the engine's
 * zrtp_stream_set_verified, the prompt request, the events). The DTMF
 * tones are generated here (the frequency pairs of ITU-T Q.23, as in
 * RFC 4733's table) and coded with G.711; the receiver is spandsp's,
 * loaded at run time as the shim loads it.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

#include "shim/events.h"
#include "shim/keypad.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/settings.h"
#include "zrtp/zrtp.h"

/* --- stand-ins ------------------------------------------------------------------ */

struct shim_config shim_config;
const char *const media_phase_names[] = {
	"waiting", "negotiating", "secure", "clear", "failed", "ended",
	"shared",
};

static int n_verified_true, n_verified_false, set_verified_result;
static int n_ev_verified, n_ev_unverified, n_prompt_code, n_prompt_other;
static int n_ignored_logs;
static char ev_zid[32], ev_sas[32];

int zrtp_stream_set_verified(struct zrtp_stream *st, bool verified)
{
	(void)st;
	if (set_verified_result < 0)
		return set_verified_result;
	if (verified)
		n_verified_true++;
	else
		n_verified_false++;
	return 0;
}

void media_prompt_request_locked(struct shim_media *s, enum prompt_kind kind)
{
	(void)s;
	if (kind == PROMPT_CODE)
		n_prompt_code++;
	else
		n_prompt_other++;
}

void shim_events_emit_shim(enum shim_event_kind kind, const char *stream_name,
			   const char *label, const char *sas,
			   const char *peer_zid, const char *reason)
{
	(void)stream_name;
	(void)reason;
	if (kind == SHIM_EVENT_VERIFIED && strcmp(label, "verified") == 0)
		n_ev_verified++;
	if (kind == SHIM_EVENT_UNVERIFIED && strcmp(label, "unverified") == 0)
		n_ev_unverified++;
	snprintf(ev_zid, sizeof ev_zid, "%s", peer_zid);
	snprintf(ev_sas, sizeof ev_sas, "%s", sas);
}

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (strstr(buf, "ignored: the stream is not secure"))
		n_ignored_logs++;
	if (getenv("KEYPAD_TEST_VERBOSE"))
		fprintf(stderr, "log %d: %s\n", (int)lvl, buf);
}

/*
 * What baresip's process holds: librem's Goertzel filters, exported under
 * the names spandsp's own have (other arguments, other results), ahead in
 * the global scope (this program is linked with --export-dynamic). The
 * shim loads spandsp so that it still calls its own (RTLD_DEEPBIND): these
 * must never be reached.
 */
static int n_foreign_goertzel;
#define EXPORTED __attribute__((visibility("default")))
/* Not under AddressSanitizer: its runtime refuses RTLD_DEEPBIND, so the
 * sanitizer build of the shim loads spandsp without it (shim/codec.c). */
#if !defined(__SANITIZE_ADDRESS__)
EXPORTED void *goertzel_init(void *g, double freq, unsigned srate);
EXPORTED void goertzel_reset(void *g);
EXPORTED double goertzel_result(void *g);
void *goertzel_init(void *g, double freq, unsigned srate)
{
	(void)freq;
	(void)srate;
	n_foreign_goertzel++;
	return g;
}
void goertzel_reset(void *g)
{
	(void)g;
	n_foreign_goertzel++;
}
double goertzel_result(void *g)
{
	(void)g;
	n_foreign_goertzel++;
	return 1e12;
}
#endif

/* --- a stream ----------------------------------------------------------------- */

enum { PT_PCMU = 0, PT_PCMA = 8, PT_EVENT = 101 };

static struct shim_media *stream_new(void)
{
	struct shim_media *s = calloc(1, sizeof *s);
	ck_assert_ptr_nonnull(s);
	snprintf(s->name, sizeof s->name, "kp-call/0");
	snprintf(s->sas, sizeof s->sas, "tx45");
	snprintf(s->kp.peer_zid, sizeof s->kp.peer_zid,
		 "0102030405060708090a0b0c");
	s->audio = true;
	s->phase = PH_SECURE;
	s->zs = (struct zrtp_stream *)(uintptr_t)0x1000;  /* never read */
	struct shim_codec_map *m = &s->codecs_peer;
	m->e[0] = (struct shim_codec_entry){ PT_PCMU, SHIM_CODEC_PCMU, 1, 8000,
					     "PCMU" };
	m->e[1] = (struct shim_codec_entry){ PT_PCMA, SHIM_CODEC_PCMA, 1, 8000,
					     "PCMA" };
	m->e[2] = (struct shim_codec_entry){ PT_EVENT, SHIM_CODEC_TEL_EVENT, 1,
					     8000, "telephone-event" };
	m->n = 3;
	return s;
}

static void stream_free(struct shim_media *s)
{
	media_keypad_end_locked(s);
	free(s);
}

static void reset(void)
{
	n_verified_true = n_verified_false = set_verified_result = 0;
	n_ev_verified = n_ev_unverified = n_prompt_code = n_prompt_other = 0;
	n_ignored_logs = 0;
	ev_zid[0] = ev_sas[0] = '\0';
	snprintf(shim_config.key_repeat, sizeof shim_config.key_repeat, "*0#");
	snprintf(shim_config.key_confirm, sizeof shim_config.key_confirm,
		 "*1#");
	snprintf(shim_config.key_withdraw, sizeof shim_config.key_withdraw,
		 "*9#");
	shim_config.inband = SHIM_INBAND_AUTO;
}

static size_t rtp(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts,
		  bool marker, const uint8_t *payload, size_t n)
{
	p[0] = 0x80;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	memcpy(p + 8, "\x11\x22\x33\x44", 4);
	memcpy(p + 12, payload, n);
	return 12 + n;
}

/* Send one packet through the keypad; it must come out unchanged. */
static void send_pkt(struct shim_media *s, const uint8_t *p, size_t n,
		     uint64_t now)
{
	uint8_t copy[2048];
	memcpy(copy, p, n);
	media_keypad_rtp_locked(s, p, n, now);
	ck_assert_mem_eq(copy, p, n);
}

static uint16_t seq_no;
static uint32_t ts_now = 1000;

/* One RFC 4733 key press as a client sends it (§2.5.1): the start (marker),
 * continuations, and the end packet three times (§2.5.1.4). */
static void press_event(struct shim_media *s, unsigned code, uint64_t now)
{
	uint8_t pkt[64], ev[4];
	ts_now += 1600;
	for (int i = 0; i < 6; i++) {
		bool end = i >= 3;
		uint16_t dur = (uint16_t)(160 * (i < 3 ? i + 1 : 3));
		ev[0] = (uint8_t)code;
		ev[1] = (uint8_t)((end ? 0x80 : 0) | 10);
		ev[2] = (uint8_t)(dur >> 8);
		ev[3] = (uint8_t)dur;
		size_t n = rtp(pkt, PT_EVENT, seq_no++, ts_now, i == 0, ev, 4);
		send_pkt(s, pkt, n, now + (uint64_t)i * 20);
	}
}

/* --- RFC 4733 ----------------------------------------------------------------- */

START_TEST(event_counts_once)
{
	reset();
	struct shim_media *s = stream_new();
	press_event(s, 5, 1000);
	ck_assert_uint_eq(s->kp.n_keys, 1);
	ck_assert_str_eq(s->kp.keys, "5");
	/* the same key again: a new event, a second key */
	press_event(s, 5, 2000);
	ck_assert_str_eq(s->kp.keys, "55");
	press_event(s, 10, 3000);
	press_event(s, 11, 3100);
	press_event(s, 15, 3200);
	ck_assert_str_eq(s->kp.keys, "55*#D");
	/* a late retransmission of the last end packet: the same event */
	uint8_t pkt[64], ev[4] = { 15, 0x80 | 10, 0, 240 };
	send_pkt(s, pkt, rtp(pkt, PT_EVENT, seq_no++, ts_now, false, ev, 4),
		 3300);
	ck_assert_str_eq(s->kp.keys, "55*#D");
	stream_free(s);
}
END_TEST

START_TEST(event_bad_length_or_code_ignored)
{
	reset();
	struct shim_media *s = stream_new();
	uint8_t pkt[64], ev[8] = { 1, 10, 0, 160, 1, 10, 0, 160 };
	send_pkt(s, pkt, rtp(pkt, PT_EVENT, 1, 5000, true, ev, 3), 1000);
	send_pkt(s, pkt, rtp(pkt, PT_EVENT, 2, 5160, true, ev, 5), 1000);
	send_pkt(s, pkt, rtp(pkt, PT_EVENT, 3, 5320, true, ev, 0), 1000);
	ev[0] = 16;   /* flash, not a key */
	send_pkt(s, pkt, rtp(pkt, PT_EVENT, 4, 5480, true, ev, 4), 1000);
	ev[0] = 200;
	send_pkt(s, pkt, rtp(pkt, PT_EVENT, 5, 5640, true, ev, 4), 1000);
	/* an RTP header that claims more CSRCs than the packet holds */
	ev[0] = 1;
	size_t n = rtp(pkt, PT_EVENT, 6, 5800, true, ev, 4);
	pkt[0] = 0x80 | 0x0f;
	send_pkt(s, pkt, n, 1000);
	/* the event on a payload type the SDPs do not map to telephone-event */
	send_pkt(s, pkt, rtp(pkt, 96, 7, 5960, true, ev, 4), 1000);
	ck_assert_uint_eq(s->kp.n_keys, 0);
	/* ...while a good one still counts */
	send_pkt(s, pkt, rtp(pkt, PT_EVENT, 8, 6120, true, ev, 4), 1000);
	ck_assert_str_eq(s->kp.keys, "1");
	stream_free(s);
}
END_TEST

START_TEST(event_sequences_act)
{
	reset();
	struct shim_media *s = stream_new();
	press_event(s, 10, 1000);
	press_event(s, 1, 1500);
	ck_assert_int_eq(n_verified_true, 0);
	press_event(s, 11, 2000);
	ck_assert_int_eq(n_verified_true, 1);
	ck_assert_int_eq(n_ev_verified, 1);
	ck_assert_str_eq(ev_zid, "0102030405060708090a0b0c");
	ck_assert_str_eq(ev_sas, "tx45");
	/* withdraw */
	press_event(s, 10, 3000);
	press_event(s, 9, 3100);
	press_event(s, 11, 3200);
	ck_assert_int_eq(n_verified_false, 1);
	ck_assert_int_eq(n_ev_unverified, 1);
	/* repeat: the code is spoken again; nothing is verified */
	press_event(s, 10, 4000);
	press_event(s, 0, 4100);
	press_event(s, 11, 4200);
	ck_assert_int_eq(n_prompt_code, 1);
	ck_assert_int_eq(n_prompt_other, 0);
	ck_assert_int_eq(n_verified_true, 1);
	/* keys before the sequence do not matter: 7 7 * 1 # */
	press_event(s, 7, 5000);
	press_event(s, 7, 5100);
	press_event(s, 10, 5200);
	press_event(s, 1, 5300);
	press_event(s, 11, 5400);
	ck_assert_int_eq(n_verified_true, 2);
	/* the engine refuses: no event */
	set_verified_result = -EINVAL;
	press_event(s, 10, 6000);
	press_event(s, 1, 6100);
	press_event(s, 11, 6200);
	ck_assert_int_eq(n_ev_verified, 2);
	stream_free(s);
}
END_TEST

START_TEST(sequences_configured)
{
	reset();
	snprintf(shim_config.key_confirm, sizeof shim_config.key_confirm,
		 "##42");
	struct shim_media *s = stream_new();
	press_event(s, 10, 1000);
	press_event(s, 1, 1100);
	press_event(s, 11, 1200);
	ck_assert_int_eq(n_verified_true, 0);
	press_event(s, 11, 1300);
	press_event(s, 11, 1400);
	press_event(s, 4, 1500);
	press_event(s, 2, 1600);
	ck_assert_int_eq(n_verified_true, 1);
	stream_free(s);
}
END_TEST

/* --- the matcher's gap ----------------------------------------------------------- */

START_TEST(match_resets_after_gap)
{
	reset();
	struct keypad_state k;
	memset(&k, 0, sizeof k);
	const char *r = "*0#", *c = "*1#", *w = "*9#";
	ck_assert_int_eq(keypad_match(&k, '*', 1000, r, c, w), KEYPAD_NONE);
	ck_assert_int_eq(keypad_match(&k, '1', 2000, r, c, w), KEYPAD_NONE);
	/* more than 5 s later: the sequence starts over */
	ck_assert_int_eq(keypad_match(&k, '#', 2000 + KEYPAD_GAP_MS + 1, r, c,
				      w), KEYPAD_NONE);
	/* 4.9 s between keys is still one sequence */
	ck_assert_int_eq(keypad_match(&k, '*', 20000, r, c, w), KEYPAD_NONE);
	ck_assert_int_eq(keypad_match(&k, '1', 24900, r, c, w), KEYPAD_NONE);
	ck_assert_int_eq(keypad_match(&k, '#', 29800, r, c, w),
			 KEYPAD_CONFIRM);
	/* a match forgets the keys: "#" alone does not match again */
	ck_assert_int_eq(keypad_match(&k, '#', 29900, r, c, w), KEYPAD_NONE);
	/* an empty sequence never matches */
	ck_assert_int_eq(keypad_match(&k, '*', 40000, "", "", ""), KEYPAD_NONE);
	/* more keys than a sequence holds: the oldest go */
	for (int i = 0; i < 20; i++)
		keypad_match(&k, '5', 50000 + (uint64_t)i, r, c, w);
	ck_assert_uint_eq(k.n_keys, SHIM_KEYSEQ_MAX);
	ck_assert_int_eq(keypad_match(&k, '*', 50100, r, c, w), KEYPAD_NONE);
	ck_assert_int_eq(keypad_match(&k, '9', 50200, r, c, w), KEYPAD_NONE);
	ck_assert_int_eq(keypad_match(&k, '#', 50300, r, c, w),
			 KEYPAD_WITHDRAW);
}
END_TEST

START_TEST(not_secure_ignored)
{
	reset();
	struct shim_media *s = stream_new();
	s->phase = PH_CLEAR;
	press_event(s, 10, 1000);
	press_event(s, 1, 1100);
	press_event(s, 11, 1200);
	ck_assert_int_eq(n_verified_true, 0);
	ck_assert_int_eq(n_ev_verified, 0);
	ck_assert_int_eq(n_ignored_logs, 1);
	s->phase = PH_NEGOTIATING;
	press_event(s, 10, 2000);
	press_event(s, 0, 2100);
	press_event(s, 11, 2200);
	ck_assert_int_eq(n_prompt_code, 0);
	ck_assert_int_eq(n_ignored_logs, 2);
	stream_free(s);
}
END_TEST

/* --- in-band tones ------------------------------------------------------------ */

/* ITU-T Q.23 (RFC 4733 §3.2's table): row and column frequencies. */
static void dtmf_freqs(char key, double *lo, double *hi)
{
	static const char *rows[4] = { "123A", "456B", "789C", "*0#D" };
	static const double row_f[4] = { 697, 770, 852, 941 };
	static const double col_f[4] = { 1209, 1336, 1477, 1633 };
	for (int r = 0; r < 4; r++) {
		const char *c = strchr(rows[r], key);
		if (c) {
			*lo = row_f[r];
			*hi = col_f[c - rows[r]];
			return;
		}
	}
	ck_abort_msg("no such key %c", key);
}

/* PCM at 8 kHz: each key a tone of on_ms, then off_ms of silence. */
static size_t tones(const char *keys, int on_ms, int off_ms, int16_t *pcm,
		    size_t cap)
{
	size_t n = 0;
	for (const char *k = keys; *k; k++) {
		double lo, hi;
		dtmf_freqs(*k, &lo, &hi);
		for (int i = 0; i < on_ms * 8 && n < cap; i++, n++) {
			double t = i / 8000.0;
			pcm[n] = (int16_t)(6000 * sin(2 * M_PI * lo * t) +
					   6000 * sin(2 * M_PI * hi * t));
		}
		for (int i = 0; i < off_ms * 8 && n < cap; i++, n++)
			pcm[n] = 0;
	}
	return n;
}

/* Send PCM as 20 ms G.711 packets; returns the time after the last. */
static uint64_t send_pcm(struct shim_media *s, const int16_t *pcm, size_t n,
			 bool alaw, uint64_t now)
{
	uint8_t pkt[256], pl[160];
	for (size_t off = 0; off + 160 <= n; off += 160) {
		for (int i = 0; i < 160; i++)
			pl[i] = alaw ? linear_to_alaw(pcm[off + (size_t)i])
				     : linear_to_ulaw(pcm[off + (size_t)i]);
		ts_now += 160;
		size_t len = rtp(pkt, alaw ? PT_PCMA : PT_PCMU, seq_no++,
				 ts_now, false, pl, 160);
		send_pkt(s, pkt, len, now);
		now += 20;
	}
	return now;
}

static int16_t pcm_buf[8000 * 10];

/* The client's audio going on, silent, for one batch of the detector
 * (KEYPAD_INBAND_BATCH samples): the keys before it have been looked at. */
static uint64_t send_quiet_batch(struct shim_media *s, bool alaw, uint64_t now)
{
	static int16_t quiet[KEYPAD_INBAND_BATCH];
	return send_pcm(s, quiet, KEYPAD_INBAND_BATCH, alaw, now);
}

START_TEST(inband_pcmu_confirms)
{
	reset();
	shim_codec_libs_load();
	ck_assert_ptr_nonnull(shim_codec_dtmf());
	struct shim_media *s = stream_new();
	size_t n = tones("5*1#", 100, 100, pcm_buf, sizeof pcm_buf / 2);
	send_pcm(s, pcm_buf, n, false, 1000);
	ck_assert_int_eq(n_verified_true, 1);
	ck_assert_int_eq(n_ev_verified, 1);
	ck_assert_ptr_nonnull(s->kp.dtmf);
	ck_assert_int_eq(n_foreign_goertzel, 0);
	stream_free(s);
}
END_TEST

START_TEST(inband_pcma_withdraws)
{
	reset();
	shim_codec_libs_load();
	struct shim_media *s = stream_new();
	size_t n = tones("*9", 80, 80, pcm_buf, sizeof pcm_buf / 2);
	uint64_t t = send_pcm(s, pcm_buf, n, true, 1000);
	void *rx = s->kp.dtmf;
	ck_assert_ptr_nonnull(rx);
	t = send_quiet_batch(s, true, t);
	ck_assert_str_eq(s->kp.keys, "*9");
	n = tones("#", 80, 80, pcm_buf, sizeof pcm_buf / 2);
	t = send_pcm(s, pcm_buf, n, true, t);
	send_quiet_batch(s, true, t);
	/* one receiver for the stream, not one per packet */
	ck_assert_ptr_eq(s->kp.dtmf, rx);
	ck_assert_int_eq(n_verified_false, 1);
	ck_assert_int_eq(n_ev_unverified, 1);
	stream_free(s);
}
END_TEST

/* The tones are looked for in batches of KEYPAD_INBAND_BATCH samples; a
 * key in the last, partial batch is still found when the stream ends. */
START_TEST(inband_last_batch_at_end)
{
	reset();
	shim_codec_libs_load();
	struct shim_media *s = stream_new();
	size_t n = tones("*1", 100, 100, pcm_buf, sizeof pcm_buf / 2);
	ck_assert_uint_eq(n % KEYPAD_INBAND_BATCH, 0);
	uint64_t t = send_pcm(s, pcm_buf, n, false, 1000);
	ck_assert_str_eq(s->kp.keys, "*1");
	/* "#" for 80 ms: four packets, less than a batch */
	n = tones("#", 80, 0, pcm_buf, sizeof pcm_buf / 2);
	ck_assert_uint_lt(n, KEYPAD_INBAND_BATCH);
	send_pcm(s, pcm_buf, n, false, t);
	ck_assert_uint_eq(s->kp.inband_n, n);
	ck_assert_int_eq(n_verified_true, 0);
	media_keypad_end_locked(s);
	ck_assert_int_eq(n_verified_true, 1);
	ck_assert_ptr_null(s->kp.inband);
	stream_free(s);
}
END_TEST

/* ZRTPSHIM_INBAND: auto looks for tones unless both SDPs have
 * telephone-event (the client then sends its keys as events); always and
 * off do what they say. The stream's peer map has telephone-event. */
START_TEST(inband_policy)
{
	struct shim_codec_map with = { 0 }, without = { 0 };
	with.e[0] = (struct shim_codec_entry){ PT_PCMU, SHIM_CODEC_PCMU, 1,
					       8000, "PCMU" };
	with.e[1] = (struct shim_codec_entry){ PT_EVENT, SHIM_CODEC_TEL_EVENT,
					       1, 8000, "telephone-event" };
	with.n = 2;
	without.e[0] = with.e[0];
	without.n = 1;
	reset();
	ck_assert(!media_keypad_inband_wanted(&with, &with));
	ck_assert(!media_keypad_inband_wanted(&with, NULL));  /* not known yet */
	ck_assert(media_keypad_inband_wanted(&with, &without));
	ck_assert(media_keypad_inband_wanted(&without, &with));
	ck_assert(media_keypad_inband_wanted(&without, NULL));
	shim_config.inband = SHIM_INBAND_ALWAYS;
	ck_assert(media_keypad_inband_wanted(&with, &with));
	shim_config.inband = SHIM_INBAND_OFF;
	ck_assert(!media_keypad_inband_wanted(&without, &without));

	/* through the packets: both with telephone-event, auto: the tones
	 * pass unread; always: they are keys */
	shim_codec_libs_load();
	for (int mode = 0; mode < 3; mode++) {
		reset();
		shim_config.inband = mode == 2 ? SHIM_INBAND_OFF
			: mode == 1 ? SHIM_INBAND_ALWAYS : SHIM_INBAND_AUTO;
		struct shim_media *s = stream_new();
		if (mode < 2)
			s->codecs_local = s->codecs_peer;   /* both sides */
		size_t n = tones("*1#", 100, 100, pcm_buf, sizeof pcm_buf / 2);
		uint64_t t = send_pcm(s, pcm_buf, n, false, 1000);
		send_quiet_batch(s, false, t);
		if (mode == 1) {
			ck_assert_int_eq(n_verified_true, 1);
		} else {
			ck_assert_int_eq(n_verified_true, 0);
			ck_assert_ptr_null(s->kp.dtmf);
			ck_assert_uint_eq(s->kp.n_keys, 0);
		}
		stream_free(s);
	}
}
END_TEST

/* Speech-like sound: a voiced source whose pitch glides (harmonics under
 * a slowly moving formant-ish envelope) plus noise, syllables and
 * pauses. No key may come out of it. */
START_TEST(inband_speech_like_no_keys)
{
	reset();
	shim_codec_libs_load();
	struct shim_media *s = stream_new();
	srand(7);
	size_t n = sizeof pcm_buf / 2;
	double phase = 0;
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / 8000.0;
		double f0 = 120 + 40 * sin(2 * M_PI * 0.7 * t) +
			    30 * sin(2 * M_PI * 2.3 * t);
		phase += 2 * M_PI * f0 / 8000.0;
		double v = 0;
		for (int h = 1; h <= 25; h++) {
			double fh = f0 * h;
			double f1 = 500 + 300 * sin(2 * M_PI * 1.1 * t);
			double f2 = 1500 + 500 * sin(2 * M_PI * 0.9 * t);
			double g = exp(-pow((fh - f1) / 200, 2)) +
				   0.6 * exp(-pow((fh - f2) / 250, 2)) + 0.05;
			v += g * sin(h * phase) / h;
		}
		double syl = sin(2 * M_PI * 3.0 * t);
		double env = syl > 0 ? syl : 0.0;
		double noise = ((double)rand() / RAND_MAX - 0.5) * 0.3;
		pcm_buf[i] = (int16_t)(9000 * (env * v + noise));
	}
	send_pcm(s, pcm_buf, n, false, 1000);
	send_pcm(s, pcm_buf, n, true, 20000);
	ck_assert_uint_eq(s->kp.n_keys, 0);
	/* white noise too */
	for (size_t i = 0; i < n; i++)
		pcm_buf[i] = (int16_t)(rand() % 16000 - 8000);
	send_pcm(s, pcm_buf, n, false, 40000);
	ck_assert_uint_eq(s->kp.n_keys, 0);
	ck_assert_int_eq(n_verified_true + n_verified_false, 0);
	stream_free(s);
}
END_TEST

/* A steady tone under the keys (a client's audio, say 440 or 660 Hz):
 * only the keys come out. */
START_TEST(inband_over_tone)
{
	reset();
	shim_codec_libs_load();
	struct shim_media *s = stream_new();
	for (int hz = 440; hz <= 660; hz += 220) {
		size_t n = 8000 * 3;
		for (size_t i = 0; i < n; i++)
			pcm_buf[i] = (int16_t)(0.3 * 32767 *
					       sin(2 * M_PI * hz * (double)i / 8000));
		uint64_t t = send_pcm(s, pcm_buf, n, hz == 660, 1000);
		ck_assert_uint_eq(s->kp.n_keys, 0);
		n = tones("*1#", 150, 150, pcm_buf, sizeof pcm_buf / 2);
		t = send_pcm(s, pcm_buf, n, hz == 660, t);
		send_quiet_batch(s, hz == 660, t);
		ck_assert_int_eq(n_verified_true, hz == 440 ? 1 : 2);
	}
	stream_free(s);
}
END_TEST

/* A client that sends telephone-events sends its keys that way: tones in
 * its audio are not read as keys too. */
START_TEST(inband_off_once_events_seen)
{
	reset();
	shim_codec_libs_load();
	struct shim_media *s = stream_new();
	press_event(s, 5, 500);
	size_t n = tones("*1#", 100, 100, pcm_buf, sizeof pcm_buf / 2);
	send_pcm(s, pcm_buf, n, false, 1000);
	ck_assert_str_eq(s->kp.keys, "5");
	ck_assert_int_eq(n_verified_true, 0);
	stream_free(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("keypad");
	TCase *tc = tcase_create("keypad");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, event_counts_once);
	tcase_add_test(tc, event_bad_length_or_code_ignored);
	tcase_add_test(tc, event_sequences_act);
	tcase_add_test(tc, sequences_configured);
	tcase_add_test(tc, match_resets_after_gap);
	tcase_add_test(tc, not_secure_ignored);
	tcase_add_test(tc, inband_pcmu_confirms);
	tcase_add_test(tc, inband_pcma_withdraws);
	tcase_add_test(tc, inband_last_batch_at_end);
	tcase_add_test(tc, inband_policy);
	tcase_add_test(tc, inband_speech_like_no_keys);
	tcase_add_test(tc, inband_off_once_events_seen);
	tcase_add_test(tc, inband_over_tone);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
