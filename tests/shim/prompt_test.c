/*
 * shim/prompt.c on its own: what the mixer does to the RTP packets a
 * stream delivers, with the real clips (ZS_PROMPTS, the build's render)
 * and the real codecs (shim/codec.c), on a stream object built here.
 *
 *   - a PCMU packet under a "secure" prompt: the RTP header unchanged,
 *     the payload the same length, and every sample exactly the G.711 of
 *     (the peer's sample / 10 + the prompt's sample), the prompt read from
 *     clips_compose: the peer is kept under it, the prompt over it;
 *   - peer=false (a stream that delivers nothing): the prompt alone;
 *   - the prompt runs its length plus its silent tail, then packets pass
 *     unchanged, and no buffer is held any more;
 *   - telephone-event packets are never touched and do not advance it;
 *   - a pin alarm is not cut by the secure prompt of the same handshake,
 *     what the keypad asks for replaces what plays;
 *   - ZRTPSHIM_PROMPTS=off: nothing; cues: no code (the cue alone);
 *   - a codec we cannot speak in (G.729): untouched, one WARN;
 *   - G.722 and Opus: the payload is re-encoded (decodes to prompt-like
 *     energy), with the Opus packet's channels;
 *   - the events: secure -> the secure prompt (verified -> the short cue),
 *     mismatch, altered, pin-alarm, clear, verified map to their prompts.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

#include "shim/clips.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/media_int.h"
#include "shim/prompt.h"
#include "shim/real.h"
#include "shim/settings.h"
#include "zrtp/zrtp.h"

struct shim_real shim_real;
struct shim_config shim_config = { .prompts = SHIM_PROMPTS_CODE };
static int n_warn;

void shim_log(enum shim_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	if (lvl <= SHIM_LOG_WARN)
		n_warn++;
	if (!getenv("PROMPT_TEST_VERBOSE"))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* media.c's lookup, for prompt_on_event: the one stream of the test. */
static struct shim_media *the_stream;
struct shim_media *media_find_name(const char *name)
{
	return the_stream && strcmp(name, the_stream->name) == 0 ? the_stream
								  : NULL;
}
void media_stream_put(struct shim_media *s)
{
	(void)s;
}

static int failures, checks;
#define CHECK(c, ...) do { checks++; if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static struct shim_media *stream_new(uint8_t pt, const char *enc, int codec,
				     uint32_t rate, uint8_t ch)
{
	struct shim_media *s = calloc(1, sizeof *s);
	snprintf(s->name, sizeof s->name, "call-1/0");
	snprintf(s->sas, sizeof s->sas, "t45b");
	s->audio = true;
	s->phase = PH_SECURE;
	s->codecs_local.n = 2;
	s->codecs_local.e[0] = (struct shim_codec_entry){ .pt = pt,
		.codec = (uint8_t)codec, .rate = rate, .channels = ch };
	snprintf(s->codecs_local.e[0].name, 16, "%s", enc);
	s->codecs_local.e[1] = (struct shim_codec_entry){ .pt = 101,
		.codec = SHIM_CODEC_TEL_EVENT, .rate = 8000, .channels = 1 };
	the_stream = s;
	return s;
}

static void stream_free(struct shim_media *s)
{
	media_prompt_end_locked(s);
	the_stream = NULL;
	free(s);
}

/* A PCMU/PCMA/G.722-sized packet of a 660 Hz tone (the peer's). */
static size_t make_pkt(uint8_t *b, uint8_t pt, uint16_t seq, int codec,
		       size_t n_payload)
{
	memset(b, 0, 12);
	b[0] = 0x80;
	b[1] = pt;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[11] = 0x42;
	for (size_t i = 0; i < n_payload; i++) {
		double t = (seq * n_payload + i) / 8000.0;
		int16_t v = (int16_t)(8000 * sin(2 * M_PI * 660 * t));
		b[12 + i] = codec == SHIM_CODEC_PCMA ? linear_to_alaw(v)
						     : linear_to_ulaw(v);
	}
	return 12 + n_payload;
}

static int16_t dec(int codec, uint8_t x)
{
	return codec == SHIM_CODEC_PCMA ? alaw_to_linear(x) : ulaw_to_linear(x);
}

/* The prompt's samples at 8 kHz, flattened, with its tail. */
static int16_t *prompt_pcm(enum prompt_kind k, const char *sas, size_t *n)
{
	struct clip_seq q;
	if (clips_compose(k, sas, 8000, &q) != 0)
		return NULL;
	size_t len = clips_seq_len(&q);
	int16_t *p = calloc(len + 8000, sizeof *p);
	size_t o = 0;
	for (unsigned i = 0; i < q.n_parts; i++) {
		if (q.part[i].pcm)
			memcpy(p + o, q.part[i].pcm, q.part[i].n * sizeof *p);
		o += q.part[i].n;
	}
	*n = len;
	return p;
}

static void test_g711(int codec, uint8_t pt, const char *enc)
{
	struct shim_media *s = stream_new(pt, enc, codec, 8000, 1);
	size_t plen;
	int16_t *want = prompt_pcm(PROMPT_SECURE, "t45b", &plen);
	CHECK(want != NULL, "%s: clips_compose", enc);
	if (!want)
		return;
	uint8_t b[SHIM_PKT_MAX], orig[SHIM_PKT_MAX];
	size_t len = make_pkt(b, pt, 0, codec, 160);

	/* nothing asked: untouched */
	size_t n = len;
	CHECK(!media_prompt_mix_locked(s, b, &n, true) && n == len,
	      "%s: a packet without a prompt was changed", enc);

	media_prompt_request_locked(s, PROMPT_SECURE);
	size_t pos = 0, exact = 0, total = 0;
	uint16_t seq;
	bool ended = false;
	for (seq = 0; seq < 2000 && !ended; seq++) {
		len = make_pkt(b, pt, seq, codec, 160);
		memcpy(orig, b, len);
		n = len;
		bool mixed = media_prompt_mix_locked(s, b, &n, true);
		if (!mixed) {
			ended = true;
			CHECK(memcmp(b, orig, len) == 0 && n == len,
			      "%s: the packet after the prompt was changed", enc);
			break;
		}
		CHECK(n == len && memcmp(b, orig, 12) == 0,
		      "%s: header or length changed (seq %u)", enc, seq);
		for (size_t i = 0; i < 160; i++, pos++) {
			int32_t v = dec(codec, orig[12 + i]) / 10 +
				    (pos < plen ? want[pos] : 0);
			v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
			uint8_t e = codec == SHIM_CODEC_PCMA
					    ? linear_to_alaw(v) : linear_to_ulaw(v);
			total++;
			exact += b[12 + i] == e;
		}
	}
	CHECK(total > 0 && exact == total, "%s: %zu of %zu samples are "
	      "G.711(peer/10 + prompt)", enc, exact, total);
	/* the prompt, then 400 ms of silence, then nothing */
	CHECK(ended && pos >= plen + 3200 && pos < plen + 3200 + 160,
	      "%s: played %zu samples for a %zu-sample prompt + 3200 tail",
	      enc, pos, plen);
	CHECK(s->prompt.pcm == NULL && !s->prompt.active,
	      "%s: the player still holds its buffer", enc);
	free(want);
	stream_free(s);
}

static void test_alone_and_events(void)
{
	struct shim_media *s = stream_new(0, "PCMU", SHIM_CODEC_PCMU, 8000, 1);
	uint8_t b[SHIM_PKT_MAX];
	size_t plen, n;
	int16_t *want = prompt_pcm(PROMPT_CANNOT_ENCRYPT, "", &plen);

	/* peer=false: the prompt alone */
	media_prompt_request_locked(s, PROMPT_CANNOT_ENCRYPT);
	size_t len = make_pkt(b, 0, 7, SHIM_CODEC_PCMU, 160);
	n = len;
	CHECK(media_prompt_mix_locked(s, b, &n, false), "prompt alone: not mixed");
	size_t exact = 0;
	for (size_t i = 0; i < 160; i++)
		exact += b[12 + i] == linear_to_ulaw(want[i]);
	CHECK(exact == 160, "prompt alone: %zu of 160 samples are the prompt's",
	      exact);

	/* telephone-events pass and do not advance the prompt */
	uint8_t te[16] = { 0x80, 101, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0x42,
			   1, 0x0a, 0, 160 };
	uint8_t te0[16];
	memcpy(te0, te, 16);
	size_t tn = 16;
	CHECK(!media_prompt_mix_locked(s, te, &tn, true) && tn == 16 &&
	      memcmp(te, te0, 16) == 0, "a telephone-event was touched");
	len = make_pkt(b, 0, 8, SHIM_CODEC_PCMU, 160);
	n = len;
	media_prompt_mix_locked(s, b, &n, false);
	exact = 0;
	for (size_t i = 0; i < 160; i++)
		exact += b[12 + i] == linear_to_ulaw(want[160 + i]);
	CHECK(exact == 160, "the telephone-event advanced the prompt");
	media_prompt_end_locked(s);
	free(want);

	/* priorities: the pin alarm is not cut by "secure" */
	media_prompt_request_locked(s, PROMPT_PIN_ALARM);
	media_prompt_request_locked(s, PROMPT_SECURE);
	CHECK(atomic_load(&s->prompt.requested) == PROMPT_PIN_ALARM + 1,
	      "secure replaced a pending pin alarm");
	len = make_pkt(b, 0, 9, SHIM_CODEC_PCMU, 160);
	n = len;
	media_prompt_mix_locked(s, b, &n, true);
	CHECK(s->prompt.active && s->prompt.kind == PROMPT_PIN_ALARM,
	      "the pin alarm does not play");
	media_prompt_request_locked(s, PROMPT_SECURE);
	n = len;
	media_prompt_mix_locked(s, b, &n, true);
	CHECK(s->prompt.kind == PROMPT_PIN_ALARM, "secure cut the pin alarm");
	/* ...but the keypad's repeat does */
	media_prompt_request_locked(s, PROMPT_CODE);
	n = len;
	media_prompt_mix_locked(s, b, &n, true);
	CHECK(s->prompt.kind == PROMPT_CODE, "the keypad's repeat did not play");
	media_prompt_end_locked(s);

	/* the events */
	struct { enum shim_event_kind kind; enum zrtp_event_type ev;
		 bool verified; enum prompt_kind want; } evs[] = {
		{ SHIM_EVENT_ZRTP, ZRTP_EV_SECURE, false, PROMPT_SECURE },
		{ SHIM_EVENT_ZRTP, ZRTP_EV_SECURE, true, PROMPT_SECURE_VERIFIED },
		{ SHIM_EVENT_ZRTP, ZRTP_EV_CACHE_MISMATCH, false, PROMPT_MISMATCH },
		{ SHIM_EVENT_ZRTP, ZRTP_EV_FAILED, false, PROMPT_CANNOT_ENCRYPT },
		{ SHIM_EVENT_ALTERED, 0, false, PROMPT_ALTERED },
		{ SHIM_EVENT_CLEAR, 0, false, PROMPT_CLEAR },
		{ SHIM_EVENT_PIN_ALARM, 0, false, PROMPT_PIN_ALARM },
		{ SHIM_EVENT_VERIFIED, 0, false, PROMPT_VERIFIED },
		{ SHIM_EVENT_UNVERIFIED, 0, false, PROMPT_UNVERIFIED },
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		struct zrtp_event ev = { .type = evs[i].ev,
					 .verified = evs[i].verified };
		struct shim_event_note note = { .kind = evs[i].kind,
			.stream = "call-1/0", .label = "x",
			.ev = evs[i].kind == SHIM_EVENT_ZRTP ? &ev : NULL };
		atomic_store(&s->prompt.requested, 0);
		prompt_on_event(&note);
		CHECK(atomic_load(&s->prompt.requested) == (int)evs[i].want + 1,
		      "event %zu asked for %d, want %d", i,
		      atomic_load(&s->prompt.requested) - 1, evs[i].want);
	}
	/* another stream's event does nothing here */
	struct shim_event_note other = { .kind = SHIM_EVENT_CLEAR,
					 .stream = "call-2/0", .label = "clear" };
	atomic_store(&s->prompt.requested, 0);
	prompt_on_event(&other);
	CHECK(atomic_load(&s->prompt.requested) == 0, "another stream's event");

	/* off: nothing; cues: the secure event asks for the cue */
	shim_config.prompts = SHIM_PROMPTS_OFF;
	media_prompt_request_locked(s, PROMPT_SECURE);
	CHECK(atomic_load(&s->prompt.requested) == 0, "prompts off still asked");
	shim_config.prompts = SHIM_PROMPTS_CUES;
	struct zrtp_event sec = { .type = ZRTP_EV_SECURE };
	struct shim_event_note ns = { .kind = SHIM_EVENT_ZRTP, .ev = &sec,
				      .stream = "call-1/0", .label = "secure" };
	prompt_on_event(&ns);
	CHECK(atomic_load(&s->prompt.requested) == PROMPT_SECURE_CUE + 1,
	      "cues: the secure event did not ask for the cue");
	shim_config.prompts = SHIM_PROMPTS_CODE;
	stream_free(s);
}

static void test_other_codecs(void)
{
	uint8_t b[SHIM_PKT_MAX];
	size_t n;

	/* G.729: untouched, said once */
	struct shim_media *s = stream_new(18, "G729", SHIM_CODEC_OTHER, 8000, 1);
	media_prompt_request_locked(s, PROMPT_SECURE);
	int w = n_warn;
	for (int i = 0; i < 3; i++) {
		size_t len = make_pkt(b, 18, (uint16_t)i, SHIM_CODEC_PCMU, 20);
		n = len;
		CHECK(!media_prompt_mix_locked(s, b, &n, true) && n == len,
		      "G.729 was touched");
		media_prompt_request_locked(s, PROMPT_SECURE);
	}
	CHECK(n_warn == w + 1, "G.729: %d warnings, want 1", n_warn - w);
	stream_free(s);

	/* G.722 (spandsp): the same length, re-encoded */
	s = stream_new(9, "G722", SHIM_CODEC_G722, 8000, 1);
	shim_codec_libs_load();
	if (!shim_codec_g722()) {
		fprintf(stderr, "SKIP G.722: no libspandsp.so.2\n");
	} else {
		media_prompt_request_locked(s, PROMPT_SECURE);
		size_t len = make_pkt(b, 9, 1, SHIM_CODEC_PCMU, 160);
		uint8_t orig[SHIM_PKT_MAX];
		memcpy(orig, b, len);
		n = len;
		CHECK(media_prompt_mix_locked(s, b, &n, true) && n == len &&
		      memcmp(b + 12, orig + 12, 160) != 0,
		      "G.722: not re-encoded in place");
	}
	stream_free(s);

	/* Opus: a stereo packet (TOC s bit) gets a stereo one back */
	s = stream_new(96, "opus", SHIM_CODEC_OPUS, 48000, 2);
	media_prompt_request_locked(s, PROMPT_SECURE);
	/* an Opus packet: TOC config 15 (CELT... no: SILK/hybrid FB 20 ms is
	 * config 15), stereo, one frame, a DTX-like empty frame body */
	uint8_t op[16] = { 0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x42,
			   (15 << 3) | 0x04, 0, 0, 0 };
	n = 13;
	bool mixed = media_prompt_mix_locked(s, op, &n, true);
	CHECK(mixed && n > 13 && (op[12] & 0x04), "Opus: %s, %zu bytes, TOC "
	      "%02x (want a stereo frame)", mixed ? "mixed" : "not mixed", n,
	      op[12]);
	stream_free(s);
}

int main(void)
{
	const char *dir = getenv("ZS_PROMPTS");
	if (!dir) {
		fprintf(stderr, "prompt_test: ZS_PROMPTS not set\n");
		return 99;
	}
	snprintf(shim_config.prompts_dir, sizeof shim_config.prompts_dir, "%s",
		 dir);
	media_prompt_prepare();
	test_g711(SHIM_CODEC_PCMU, 0, "PCMU");
	test_g711(SHIM_CODEC_PCMA, 8, "PCMA");
	test_alone_and_events();
	test_other_codecs();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
