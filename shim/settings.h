/*
 * The settings (settings.c), read once by shim_settings_load from the
 * config file (common/conffile.h) and the environment, which overrides
 * it; bad values are logged (with the file's line) and skipped, so the
 * default stays, never fatal. Read-only after start-up. zrtpshim(7)
 * lists them all.
 */
#ifndef SHIM_SETTINGS_H
#define SHIM_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

enum shim_policy { SHIM_POLICY_REQUIRE, SHIM_POLICY_OPPORTUNISTIC };

/* ZRTPSHIM_PROMPTS: what the earpiece hears (shim/prompt.c). */
enum shim_prompts {
	SHIM_PROMPTS_OFF,          /* nothing */
	SHIM_PROMPTS_CUES,         /* the state and warnings, no code */
	SHIM_PROMPTS_CODE,         /* the state, warnings and the SAS */
};

/* ZRTPSHIM_INBAND: when the keypad looks for DTMF tones in the client's
 * G.711 audio (shim/media_keypad.c). */
enum shim_inband {
	SHIM_INBAND_AUTO,          /* unless both SDPs have telephone-event */
	SHIM_INBAND_ALWAYS,        /* on every G.711 stream */
	SHIM_INBAND_OFF,           /* never */
};

#define SHIM_KEYSEQ_MAX 8          /* DTMF keys of one keypad sequence */

struct shim_config {
	enum shim_policy policy;
	char dir[4096];            /* state: cache, status (common/statedir.h) */
	char keylog[4096];         /* ZRTPSHIM_KEYLOG ("" = off) */
	char algos[512];           /* ZRTPSHIM_ALGOS */
	char on_event[4096];       /* ZRTPSHIM_ON_EVENT */
	bool tls;                  /* ZRTPSHIM_TLS: read SIP inside TLS */
	uint32_t altered_ms;       /* ZRTPSHIM_ALTERED_MS: after SECURE, this
				    * long with packets from the peer and none
				    * authenticating is the "altered" event */
	enum shim_prompts prompts; /* ZRTPSHIM_PROMPTS: off|cues|code */
	bool prompt_always_code;   /* ZRTPSHIM_PROMPT_ALWAYS_CODE: speak the
				    * code to a verified peer too */
	char prompts_dir[4096];    /* ZRTPSHIM_PROMPTS_DIR ("" = installed) */
	/* ZRTPSHIM_KEY_REPEAT, _CONFIRM, _WITHDRAW: DTMF sequences (0-9 * #
	 * A-D) the user keys to hear the code again, to confirm it, and to
	 * withdraw a confirmation */
	char key_repeat[SHIM_KEYSEQ_MAX + 1];
	char key_confirm[SHIM_KEYSEQ_MAX + 1];
	char key_withdraw[SHIM_KEYSEQ_MAX + 1];
	enum shim_inband inband;   /* ZRTPSHIM_INBAND: auto|always|off */
	bool notify;               /* ZRTPSHIM_NOTIFY: desktop notifications */
	uint32_t history;          /* ZRTPSHIM_HISTORY: ended streams kept in
				    * the status file */
};

#define SHIM_HISTORY_DEFAULT 32u
#define SHIM_HISTORY_MAX 1000u

#define SHIM_ALTERED_MS_DEFAULT 3000u
#define SHIM_ALTERED_MS_MIN 100u
#define SHIM_ALTERED_MS_MAX 600000u

extern struct shim_config shim_config;

/* Read every ZRTPSHIM_* variable (and configure the log first). */
void shim_settings_load(void);

/*
 * Create the state directory and its parents (mode 0700) once per
 * process, so the cache and the status file have a home even when
 * ~/.local/state does not exist yet. sipglue calls it before the first
 * SIP message can create a stream.
 */
void shim_state_dir_ensure(void);

#endif
