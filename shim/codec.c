/*
 * Payload types and the codecs a prompt can be mixed into (codec.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opus.h>
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#if defined(SHIM_SPANDSP_LINKED)
#include <stddef.h>
#include <spandsp/logging.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/queue.h>
#include <spandsp/tone_generate.h>
#include <spandsp/dtmf.h>
#endif

#include "shim/codec.h"
#include "shim/log.h"

enum shim_codec shim_codec_by_name(const char *name, size_t len)
{
	static const struct { const char *name; enum shim_codec c; } names[] = {
		{ "PCMU", SHIM_CODEC_PCMU }, { "PCMA", SHIM_CODEC_PCMA },
		{ "G722", SHIM_CODEC_G722 }, { "opus", SHIM_CODEC_OPUS },
		{ "telephone-event", SHIM_CODEC_TEL_EVENT },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == len &&
		    strncasecmp(names[i].name, name, len) == 0)
			return names[i].c;
	return SHIM_CODEC_OTHER;
}

const struct shim_codec_entry *shim_codec_find(const struct shim_codec_map *m,
					       uint8_t pt)
{
	for (unsigned i = 0; i < m->n && i < SHIM_CODECS_MAX; i++)
		if (m->e[i].pt == pt)
			return &m->e[i];
	return NULL;
}

unsigned shim_codec_pcm_rate(const struct shim_codec_entry *e)
{
	switch (e->codec) {
	case SHIM_CODEC_PCMU:
	case SHIM_CODEC_PCMA:
		return 8000;
	case SHIM_CODEC_G722:
		return 16000;
	case SHIM_CODEC_OPUS:
		return 48000;
	default:
		return 0;
	}
}

/* --- spandsp and libopus ---------------------------------------------------- */

static pthread_once_t spandsp_so_once = PTHREAD_ONCE_INIT;
static pthread_once_t g722_once = PTHREAD_ONCE_INIT;
static pthread_once_t dtmf_once = PTHREAD_ONCE_INIT;
static pthread_once_t opus_once = PTHREAD_ONCE_INIT;
static void *spandsp_so;

static struct shim_g722 g722_fns;
static _Atomic(const struct shim_g722 *) g722_ready;
static struct shim_dtmf_rx dtmf_fns;
static _Atomic(const struct shim_dtmf_rx *) dtmf_ready;

/* libopus's functions we use (opus.h's prototypes). */
static struct {
	OpusDecoder *(*decoder_create)(opus_int32 fs, int channels, int *err);
	int (*decode)(OpusDecoder *st, const unsigned char *data,
		      opus_int32 len, opus_int16 *pcm, int frame_size,
		      int decode_fec);
	void (*decoder_destroy)(OpusDecoder *st);
	OpusEncoder *(*encoder_create)(opus_int32 fs, int channels,
				       int application, int *err);
	opus_int32 (*encode)(OpusEncoder *st, const opus_int16 *pcm,
			     int frame_size, unsigned char *data,
			     opus_int32 max_data_bytes);
	int (*encoder_ctl)(OpusEncoder *st, int request, ...);
	void (*encoder_destroy)(OpusEncoder *st);
} opus;
static _Atomic bool opus_ready;

struct lib_sym {
	const char *name;
	void **slot;
};

/* Every name of syms from handle h (lib: its soname) into its slot; false
 * (logged: "without" says what the user goes without) if one is missing.
 * The handle stays open either way: nothing to undo safely. */
static bool lib_syms(void *h, const char *lib, const struct lib_sym *syms,
		     size_t n, const char *without)
{
	for (size_t i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			shim_log(SHIM_LOG_WARN, "codec: %s has no %s: %s", lib,
				 syms[i].name, without);
			return false;
		}
	}
	return true;
}

static void opus_open(void)
{
	void *h = dlopen("libopus.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		shim_log(SHIM_LOG_WARN, "codec: cannot load libopus.so.0 (%s): "
			 "no spoken prompts on Opus calls (Debian package "
			 "libopus0)", dlerror());
		return;
	}
	const struct lib_sym syms[] = {
		{ "opus_decoder_create", (void **)&opus.decoder_create },
		{ "opus_decode", (void **)&opus.decode },
		{ "opus_decoder_destroy", (void **)&opus.decoder_destroy },
		{ "opus_encoder_create", (void **)&opus.encoder_create },
		{ "opus_encode", (void **)&opus.encode },
		{ "opus_encoder_ctl", (void **)&opus.encoder_ctl },
		{ "opus_encoder_destroy", (void **)&opus.encoder_destroy },
	};
	if (lib_syms(h, "libopus.so.0", syms, sizeof syms / sizeof syms[0],
		     "no prompts on Opus calls"))
		atomic_store(&opus_ready, true);
}

/* AddressSanitizer's runtime refuses RTLD_DEEPBIND (it aborts the
 * process): a sanitizer build loads spandsp without it, and its tests do
 * without the foreign Goertzel names (tests/shim/keypad_test.c). */
#if defined(__SANITIZE_ADDRESS__)
#define SPANDSP_DEEPBIND 0
#else
#define SPANDSP_DEEPBIND RTLD_DEEPBIND
#endif

static void spandsp_so_open(void)
{
	/* RTLD_DEEPBIND: spandsp's calls to its own exported helpers must
	 * reach spandsp. A client linked with libre's librem (baresip) has
	 * goertzel_init/_reset/_result of its own, with other arguments,
	 * ahead in the global scope: without it, spandsp's DTMF receiver runs
	 * librem's Goertzel filters and reports keys nobody pressed.
	 * RTLD_LAZY: spandsp needs libtiff and its image libraries (for
	 * fax), whose functions the shim never calls; binding them all now
	 * cost a tenth of the load. */
	spandsp_so = dlopen("libspandsp.so.2",
			    RTLD_LAZY | RTLD_LOCAL | SPANDSP_DEEPBIND);
	if (!spandsp_so)
		shim_log(SHIM_LOG_WARN, "codec: cannot load libspandsp.so.2 "
			 "(%s): no spoken prompts on G.722 calls%s (Debian "
			 "package libspandsp2)", dlerror(),
#if defined(SHIM_SPANDSP_LINKED)
			 ""
#else
			 " and no in-band DTMF keys"
#endif
			 );
}

/* G.722 always comes from libspandsp.so.2: Debian's libspandsp.a has a
 * dot product in MMX assembly (vector_int.o) that clobbers a register its
 * caller, compiled in the same unit, relies on, so G.722 from the archive
 * crashes; through the shared library's PLT the caller does not rely on
 * it. */
static void g722_open(void)
{
	pthread_once(&spandsp_so_once, spandsp_so_open);
	if (!spandsp_so)
		return;
	const struct lib_sym syms[] = {
#define SYM(n) { #n, (void **)&g722_fns.n }
		SYM(g722_encode_init), SYM(g722_encode), SYM(g722_encode_free),
		SYM(g722_decode_init), SYM(g722_decode), SYM(g722_decode_free),
#undef SYM
	};
	if (lib_syms(spandsp_so, "libspandsp.so.2", syms,
		     sizeof syms / sizeof syms[0], "no G.722 prompts"))
		atomic_store(&g722_ready, &g722_fns);
}

/* spandsp's dtmf_rx_init fills shared filter descriptors the first time,
 * behind a plain flag: two streams' first receivers made at once on two
 * threads would both write them. One receiver made and freed here, under
 * dtmf_once, fills them before any stream can. */
static void dtmf_ready_set(void)
{
	void *warm = dtmf_fns.dtmf_rx_init(NULL, NULL, NULL);
	if (!warm) {
		shim_log(SHIM_LOG_WARN, "codec: cannot make a DTMF receiver: "
			 "no in-band DTMF keys");
		return;
	}
	dtmf_fns.dtmf_rx_free(warm);
	atomic_store(&dtmf_ready, &dtmf_fns);
}

#if defined(SHIM_SPANDSP_LINKED)
/*
 * The DTMF receiver is linked into the shim from spandsp's static archive
 * (configure.ac), its symbols local to the shim: its calls to its own
 * Goertzel filters reach them whatever a client exports under their names
 * (librem's, in baresip), and nothing is loaded at run time (the shared
 * library brings libtiff and a dozen image libraries: ~18 ms of CPU per
 * process).
 *
 * The archive's logging.o reaches stderr in a way a shared object cannot
 * take, so the four logging functions the DTMF code calls are defined
 * here, and log nothing: spandsp's own log would go to the client's
 * stderr. span_log_test says no level is enabled, so span_log is never
 * asked to format anything; span_log_init leaves the state as
 * dtmf_rx_init cleared it.
 */
int span_log(logging_state_t *s, int level, const char *format, ...)
{
	(void)s;
	(void)level;
	(void)format;
	return 0;
}

logging_state_t *span_log_init(logging_state_t *s, int level, const char *tag)
{
	(void)level;
	(void)tag;
	return s;
}

int span_log_set_protocol(logging_state_t *s, const char *protocol)
{
	(void)s;
	(void)protocol;
	return 0;
}

int span_log_test(logging_state_t *s, int level)
{
	(void)s;
	(void)level;
	return 0;
}

/* The struct's prototypes take the state as void *: the same calls. */
static void dtmf_open(void)
{
	dtmf_fns.dtmf_rx_init = (void *(*)(void *, void *, void *))dtmf_rx_init;
	dtmf_fns.dtmf_rx = (int (*)(void *, const int16_t *, int))dtmf_rx;
	dtmf_fns.dtmf_rx_get = (size_t (*)(void *, char *, int))dtmf_rx_get;
	dtmf_fns.dtmf_rx_free = (int (*)(void *))dtmf_rx_free;
	dtmf_ready_set();
}
#else
static void dtmf_open(void)
{
	pthread_once(&spandsp_so_once, spandsp_so_open);
	if (!spandsp_so)
		return;
	const struct lib_sym syms[] = {
#define SYM(n) { #n, (void **)&dtmf_fns.n }
		SYM(dtmf_rx_init), SYM(dtmf_rx), SYM(dtmf_rx_get),
		SYM(dtmf_rx_free),
#undef SYM
	};
	if (lib_syms(spandsp_so, "libspandsp.so.2", syms,
		     sizeof syms / sizeof syms[0], "no in-band DTMF keys"))
		dtmf_ready_set();
}
#endif

void shim_codec_g722_load(void)
{
	pthread_once(&g722_once, g722_open);
}

void shim_codec_dtmf_load(void)
{
	pthread_once(&dtmf_once, dtmf_open);
}

void shim_codec_opus_load(void)
{
	pthread_once(&opus_once, opus_open);
}

void shim_codec_libs_load(void)
{
	shim_codec_g722_load();
	shim_codec_dtmf_load();
	shim_codec_opus_load();
}

/* Whether m has a payload type of codec c. */
bool shim_codec_map_has(const struct shim_codec_map *m, enum shim_codec c)
{
	for (unsigned i = 0; i < m->n && i < SHIM_CODECS_MAX; i++)
		if (m->e[i].codec == c)
			return true;
	return false;
}

const struct shim_g722 *shim_codec_g722(void)
{
	return atomic_load(&g722_ready);
}

const struct shim_dtmf_rx *shim_codec_dtmf(void)
{
	return atomic_load(&dtmf_ready);
}

/* --- decoders and encoders ------------------------------------------------ */

/* The bitrate our Opus frames are encoded at (per channel): the code
 * must come through clearly, whatever the peer sent at. */
#define OPUS_PROMPT_BITRATE 48000

void shim_codec_state_fini(struct shim_codec_state *st)
{
	const struct shim_g722 *sp = shim_codec_g722();
	switch (st->codec) {
	case SHIM_CODEC_G722:
		if (sp && st->dec)
			sp->g722_decode_free(st->dec);
		if (sp && st->enc)
			sp->g722_encode_free(st->enc);
		break;
	case SHIM_CODEC_OPUS:
		if (st->dec)
			opus.decoder_destroy(st->dec);
		if (st->enc)
			opus.encoder_destroy(st->enc);
		free(st->stereo);
		break;
	default:
		break;
	}
	memset(st, 0, sizeof *st);
}

int shim_codec_state_init(struct shim_codec_state *st,
			  const struct shim_codec_entry *e)
{
	if (st->codec != SHIM_CODEC_OTHER && st->pt == e->pt &&
	    st->codec == e->codec)
		return 0;
	shim_codec_state_fini(st);
	unsigned rate = shim_codec_pcm_rate(e);
	if (!rate)
		return -ENOTSUP;
	switch (e->codec) {
	case SHIM_CODEC_G722: {
		const struct shim_g722 *sp = shim_codec_g722();
		if (!sp)
			return -ENOTSUP;
		st->dec = sp->g722_decode_init(NULL, 64000, 0);
		st->enc = sp->g722_encode_init(NULL, 64000, 0);
		break;
	}
	case SHIM_CODEC_OPUS: {
		int err;
		if (!atomic_load(&opus_ready))
			return -ENOTSUP;
		st->dec = opus.decoder_create(48000, 1, &err);
		st->stereo = malloc(2 * SHIM_CODEC_PCM_MAX * sizeof *st->stereo);
		/* the encoder is made at the first packet, with its channels */
		if (!st->dec || !st->stereo) {
			if (st->dec)
				opus.decoder_destroy(st->dec);
			free(st->stereo);
			memset(st, 0, sizeof *st);
			return -ENOMEM;
		}
		st->codec = e->codec;
		st->pt = e->pt;
		st->pcm_rate = rate;
		return 0;
	}
	default:
		break;
	}
	st->codec = e->codec;
	st->pt = e->pt;
	st->pcm_rate = rate;
	if ((e->codec == SHIM_CODEC_G722 || e->codec == SHIM_CODEC_OPUS) &&
	    (!st->dec || !st->enc)) {
		shim_codec_state_fini(st);
		return -ENOMEM;
	}
	return 0;
}

int shim_codec_decode(struct shim_codec_state *st, const uint8_t *in,
		      size_t len, int16_t *pcm, size_t cap)
{
	const struct shim_g722 *sp;
	switch (st->codec) {
	case SHIM_CODEC_PCMU:
	case SHIM_CODEC_PCMA:
		if (len > cap)
			return -1;
		for (size_t i = 0; i < len; i++)
			pcm[i] = st->codec == SHIM_CODEC_PCMU
					 ? ulaw_to_linear(in[i])
					 : alaw_to_linear(in[i]);
		return (int)len;
	case SHIM_CODEC_G722:
		/* two samples per byte at 64 kbit/s (RFC 3551 §4.5.2) */
		sp = shim_codec_g722();
		if (!sp || len * 2 > cap || len > 4096)
			return -1;
		return sp->g722_decode(st->dec, pcm, in, (int)len);
	case SHIM_CODEC_OPUS: {
		if (len == 0 || len > 1500)
			return -1;
		/* RFC 6716 §3.1: the TOC byte's s bit says stereo */
		int ch = (in[0] & 0x04) ? 2 : 1;
		if (st->enc && st->enc_channels != ch) {
			opus.encoder_destroy(st->enc);
			st->enc = NULL;
		}
		if (!st->enc) {
			int err;
			st->enc = opus.encoder_create(48000, ch,
						      OPUS_APPLICATION_VOIP, &err);
			if (!st->enc)
				return -1;
			st->enc_channels = ch;
			opus.encoder_ctl((OpusEncoder *)st->enc,
					 OPUS_SET_BITRATE(OPUS_PROMPT_BITRATE * ch));
		}
		int n = opus.decode(st->dec, in, (opus_int32)len, pcm,
				    (int)(cap < SHIM_CODEC_PCM_MAX ? cap
						: SHIM_CODEC_PCM_MAX), 0);
		return n < 0 ? -1 : n;
	}
	default:
		return -1;
	}
}

int shim_codec_encode(struct shim_codec_state *st, const int16_t *pcm,
		      size_t n, uint8_t *out, size_t cap)
{
	const struct shim_g722 *sp;
	switch (st->codec) {
	case SHIM_CODEC_PCMU:
	case SHIM_CODEC_PCMA:
		if (n > cap)
			return -1;
		for (size_t i = 0; i < n; i++)
			out[i] = st->codec == SHIM_CODEC_PCMU
					 ? linear_to_ulaw(pcm[i])
					 : linear_to_alaw(pcm[i]);
		return (int)n;
	case SHIM_CODEC_G722:
		sp = shim_codec_g722();
		if (!sp || n / 2 > cap || n > 8192)
			return -1;
		return sp->g722_encode(st->enc, out, pcm, (int)n);
	case SHIM_CODEC_OPUS: {
		if (!st->enc || n > SHIM_CODEC_PCM_MAX)
			return -1;
		if (st->enc_channels == 2) {
			for (size_t i = 0; i < n; i++)
				st->stereo[2 * i] = st->stereo[2 * i + 1] = pcm[i];
			pcm = st->stereo;
		}
		int r = opus.encode(st->enc, pcm, (int)n, out,
				    (opus_int32)(cap > 1275 ? 1275 : cap));
		return r < 0 ? -1 : r;
	}
	default:
		return -1;
	}
}
