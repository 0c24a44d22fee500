/*
 * The spoken clips of the prompts (clips.c): recorded at build time from
 * text by festival with an HTS voice (data/prompts.txt, scripts/
 * render-prompts.sh), shipped as data, loaded once, read-only after.
 * Another voice or language is a data change.
 *
 * A prompt is a sequence of clips: a phrase ("secure call, code:"), then
 * the SAS read out (B32: one clip per character, ICAO/NATO alphabet for
 * letters and digit words; B256: its two PGP words), with short silences
 * between parts. clips_compose gives the sequence as slices of the loaded
 * PCM: no copies, nothing allocated.
 */
#ifndef SHIM_CLIPS_H
#define SHIM_CLIPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the user is told; each has its own phrase. */
enum prompt_kind {
	PROMPT_SECURE,          /* "secure call, code:" + SAS */
	PROMPT_SECURE_VERIFIED, /* "secure, verified" (a verified peer) */
	PROMPT_SECURE_CUE,      /* "secure call" (ZRTPSHIM_PROMPTS=cues) */
	PROMPT_CODE,            /* "code:" + SAS (the keypad's repeat) */
	PROMPT_VERIFIED,        /* "verified" (the user just confirmed) */
	PROMPT_UNVERIFIED,      /* "confirmation withdrawn" */
	PROMPT_MISMATCH,        /* "the security code has changed: compare
				 * it before you talk. code:" + SAS */
	PROMPT_CLEAR,           /* "warning: this call is not encrypted" */
	PROMPT_CANNOT_ENCRYPT,  /* "this call cannot be encrypted: no audio
				 * will be sent" */
	PROMPT_ALTERED,         /* "warning: the audio is being altered in
				 * the network" */
	PROMPT_PIN_ALARM,       /* "warning: this caller used encryption
				 * before and does not now" */
	PROMPT_KIND_COUNT
};

/* The rates the clips exist at (one pack per rate). */
#define CLIPS_N_RATES 3
extern const unsigned clips_rates[CLIPS_N_RATES];   /* 8000, 16000, 48000 */

#define CLIPS_SEQ_MAX 16

/* One part of a prompt: n samples of mono s16 at the rate asked for
 * (pcm NULL: n samples of silence). */
struct clip_part {
	const int16_t *pcm;
	size_t n;
};

struct clip_seq {
	unsigned rate;
	unsigned n_parts;
	struct clip_part part[CLIPS_SEQ_MAX];
};

/*
 * Load the packs from dir (ZRTPSHIM_PROMPTS_DIR, else the installed
 * $(pkgdatadir)/prompts). Once per process; later calls return the first
 * result. 0, or -errno with one ERROR log line saying what is missing or
 * malformed (then every prompt is silently unavailable: clips_compose
 * returns -ENOENT).
 */
int clips_load(const char *dir);

/*
 * The sequence for kind at rate (one of clips_rates), sas as the engine
 * renders it (B32: 4 characters of z-base-32; B256: "word:word"; "" for
 * kinds without a code). 0, -EINVAL (bad rate, kind or SAS character),
 * -ENOENT (clips not loaded, or a clip missing from the pack).
 */
int clips_compose(enum prompt_kind kind, const char *sas, unsigned rate,
		  struct clip_seq *out);

/* Total samples of a sequence. */
size_t clips_seq_len(const struct clip_seq *q);

#endif
