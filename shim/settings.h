/*
 * The settings (settings.c), read once from the environment by
 * shim_settings_load; bad values are logged and replaced by the default,
 * never fatal. Read-only after start-up.
 */
#ifndef SHIM_SETTINGS_H
#define SHIM_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

enum shim_policy { SHIM_POLICY_REQUIRE, SHIM_POLICY_OPPORTUNISTIC };

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
};

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
