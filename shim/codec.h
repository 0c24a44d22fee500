/*
 * The audio codecs of a media line, as far as the user's loop needs them
 * (codec.c): which payload type is which codec (from the a=rtpmap lines
 * of both SDPs, sipglue), and a decoder and an encoder per stream for the
 * codecs a prompt can be mixed into: G.711 mu-law and A-law and G.722
 * (spandsp), Opus (libopus). Any other codec gets no prompt (logged once
 * by the caller).
 */
#ifndef SHIM_CODEC_H
#define SHIM_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum shim_codec {
	SHIM_CODEC_OTHER,          /* known by name only: no prompt */
	SHIM_CODEC_PCMU,
	SHIM_CODEC_PCMA,
	SHIM_CODEC_G722,
	SHIM_CODEC_OPUS,
	SHIM_CODEC_TEL_EVENT,      /* RFC 4733 telephone-event */
};

#define SHIM_CODECS_MAX 16

struct shim_codec_entry {
	uint8_t pt;
	uint8_t codec;             /* enum shim_codec */
	uint8_t channels;
	uint32_t rate;             /* the RTP clock rate of the rtpmap */
	char name[16];             /* the encoding name, for the log */
};

/* One side's payload types (ours: what we receive; the peer's: what it
 * receives). */
struct shim_codec_map {
	uint8_t n;
	struct shim_codec_entry e[SHIM_CODECS_MAX];
};

/* The codec of an encoding name (case-insensitive, RFC 4855 §3). */
enum shim_codec shim_codec_by_name(const char *name, size_t len);

/* The entry for pt, or NULL. */
const struct shim_codec_entry *shim_codec_find(const struct shim_codec_map *m,
					       uint8_t pt);

/* Samples per second a decoder of this entry gives (8000 for G.711,
 * 16000 for G.722, 48000 for Opus), 0 for codecs we cannot decode. */
unsigned shim_codec_pcm_rate(const struct shim_codec_entry *e);


/*
 * spandsp's G.722 codec and DTMF receiver, and libopus, each made ready
 * once, when a stream first needs it (never for a client that does not):
 *   - the DTMF receiver is linked into the shim from Debian's static
 *     libspandsp.a, symbols local (configure.ac; without the archive it
 *     comes from libspandsp.so.2 as G.722 does);
 *   - G.722 from libspandsp.so.2, loaded at run time (dlopen): the
 *     archive's G.722 crashes in its MMX dot product (codec.c);
 *   - libopus from libopus.so.0 (Debian's libopus.a is not PIC).
 * The G.711 conversions are spandsp's inline functions (spandsp/g711.h)
 * and need no library.
 */
struct shim_g722 {
	void *(*g722_encode_init)(void *s, int rate, int options);
	int (*g722_encode)(void *s, uint8_t *out, const int16_t *amp, int len);
	int (*g722_encode_free)(void *s);
	void *(*g722_decode_init)(void *s, int rate, int options);
	int (*g722_decode)(void *s, int16_t *amp, const uint8_t *in, int len);
	int (*g722_decode_free)(void *s);
};

struct shim_dtmf_rx {
	void *(*dtmf_rx_init)(void *s, void *callback, void *user_data);
	int (*dtmf_rx)(void *s, const int16_t *amp, int samples);
	size_t (*dtmf_rx_get)(void *s, char *digits, int max);
	int (*dtmf_rx_free)(void *s);
};

/* Make G.722, the DTMF receiver, libopus, or all three ready (each once;
 * call without stream locks held: dlopen takes the loader's lock). The
 * media layer loads only what a stream's codecs need (media.c). */
void shim_codec_g722_load(void);
void shim_codec_dtmf_load(void);
void shim_codec_opus_load(void);
void shim_codec_libs_load(void);

/* Whether m has a payload type of codec c. */
bool shim_codec_map_has(const struct shim_codec_map *m, enum shim_codec c);
/* The functions, or NULL (not made ready, or cannot be: logged once at
 * WARN). Never load. */
const struct shim_g722 *shim_codec_g722(void);
const struct shim_dtmf_rx *shim_codec_dtmf(void);

/* A decoder and an encoder for one stream's codec, made when a prompt
 * first needs them (never per packet). */
struct shim_codec_state {
	uint8_t codec;             /* enum shim_codec; OTHER: none */
	uint8_t pt;
	unsigned pcm_rate;
	void *dec, *enc;
	/* Opus: the encoder's channels (those of the peer's packets, so the
	 * client's decoder never switches between mono and stereo, which it
	 * hears as clicks), and a buffer to interleave into */
	int enc_channels;
	int16_t *stereo;
};

/* 0, -ENOTSUP (a codec we cannot decode, or spandsp missing for G.722),
 * -ENOMEM. Re-initialises a state already set up for another entry. */
int shim_codec_state_init(struct shim_codec_state *st,
			  const struct shim_codec_entry *e);
void shim_codec_state_fini(struct shim_codec_state *st);

/* One RTP payload to mono PCM at st->pcm_rate: samples, or -1. */
int shim_codec_decode(struct shim_codec_state *st, const uint8_t *in,
		      size_t len, int16_t *pcm, size_t cap);
/* n samples of mono PCM to one payload: bytes, or -1. */
int shim_codec_encode(struct shim_codec_state *st, const int16_t *pcm,
		      size_t n, uint8_t *out, size_t cap);

/* The largest number of samples one payload decodes to (120 ms at 48 kHz). */
#define SHIM_CODEC_PCM_MAX 5760

#endif
