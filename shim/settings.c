/*
 * The settings (settings.h), all from the environment. Every value is
 * checked: unknown words and over-long values are logged as warnings and
 * replaced by the default, never fatal. Read once by shim_init.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/statedir.h"
#include "shim/log.h"
#include "shim/settings.h"

struct shim_config shim_config = {
	.policy = SHIM_POLICY_REQUIRE,
	.tls = true,
	.altered_ms = SHIM_ALTERED_MS_DEFAULT,
	.prompts = SHIM_PROMPTS_CODE,
	.key_repeat = "*0#",
	.key_confirm = "*1#",
	.key_withdraw = "*9#",
	.notify = true,
	.history = SHIM_HISTORY_DEFAULT,
};

/* Copy an environment value into dst; over-long values are refused with a
 * warning (the field keeps its default). Returns true if copied. */
static bool config_copy(const char *name, const char *val, char *dst,
			size_t cap)
{
	size_t len = strnlen(val, cap);

	if (len >= cap) {
		shim_log(SHIM_LOG_WARN, "%s is longer than %zu bytes: ignored",
			 name, cap - 1);
		return false;
	}
	memcpy(dst, val, len + 1);
	return true;
}

static enum shim_log_level config_log_level(void)
{
	static const char *const names[] = {
		[SHIM_LOG_ERROR] = "error", [SHIM_LOG_WARN] = "warn",
		[SHIM_LOG_INFO] = "info", [SHIM_LOG_DEBUG] = "debug",
	};
	const char *v = secure_getenv("ZRTPSHIM_LOG");

	if (v == NULL || *v == '\0')
		return SHIM_LOG_INFO;
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcasecmp(v, names[i]) == 0)
			return (enum shim_log_level)i;
	shim_log(SHIM_LOG_WARN, "ZRTPSHIM_LOG=%.32s%s is not one of "
		 "error|warn|info|debug: using info", v,
		 strlen(v) > 32 ? "..." : "");
	return SHIM_LOG_INFO;
}

/* ZRTPSHIM_TLS=off: the TLS record hooks pass everything to the library
 * unread (media is then protected as unannounced, from its first packet). */
static void config_tls(void)
{
	const char *v = secure_getenv("ZRTPSHIM_TLS");

	if (v == NULL || *v == '\0')
		return;
	if (strcmp(v, "on") == 0)
		shim_config.tls = true;
	else if (strcmp(v, "off") == 0)
		shim_config.tls = false;
	else
		shim_log(SHIM_LOG_WARN, "ZRTPSHIM_TLS=%.32s%s is not on|off: "
			 "using on", v, strlen(v) > 32 ? "..." : "");
}

static void config_policy(void)
{
	const char *v = secure_getenv("ZRTPSHIM_POLICY");

	if (v == NULL || *v == '\0')
		return;
	if (strcmp(v, "require") == 0)
		shim_config.policy = SHIM_POLICY_REQUIRE;
	else if (strcmp(v, "opportunistic") == 0)
		shim_config.policy = SHIM_POLICY_OPPORTUNISTIC;
	else
		shim_log(SHIM_LOG_WARN, "ZRTPSHIM_POLICY=%.32s%s is not "
			 "require|opportunistic: using require", v,
			 strlen(v) > 32 ? "..." : "");
}

/* A whole number of milliseconds in [SHIM_ALTERED_MS_MIN,
 * SHIM_ALTERED_MS_MAX]; anything else (a sign, a unit, blanks, out of
 * range) is refused with a warning and the default stays. */
static void config_altered_ms(void)
{
	const char *v = secure_getenv("ZRTPSHIM_ALTERED_MS");
	uint64_t x = 0;
	size_t i;

	if (v == NULL || *v == '\0')
		return;
	for (i = 0; v[i] >= '0' && v[i] <= '9' && x <= SHIM_ALTERED_MS_MAX; i++)
		x = x * 10 + (uint64_t)(v[i] - '0');
	if (v[i] != '\0' || x < SHIM_ALTERED_MS_MIN || x > SHIM_ALTERED_MS_MAX) {
		shim_log(SHIM_LOG_WARN, "ZRTPSHIM_ALTERED_MS=%.32s%s is not a "
			 "number of milliseconds from %u to %u: using %u", v,
			 strlen(v) > 32 ? "..." : "", SHIM_ALTERED_MS_MIN,
			 SHIM_ALTERED_MS_MAX, SHIM_ALTERED_MS_DEFAULT);
		return;
	}
	shim_config.altered_ms = (uint32_t)x;
}

/* ZRTPSHIM_PROMPTS=off|cues|code and ZRTPSHIM_PROMPT_ALWAYS_CODE=yes|no */
static void config_prompts(void)
{
	static const char *const words[] = {
		[SHIM_PROMPTS_OFF] = "off", [SHIM_PROMPTS_CUES] = "cues",
		[SHIM_PROMPTS_CODE] = "code",
	};
	const char *v = secure_getenv("ZRTPSHIM_PROMPTS");
	if (v != NULL && *v != '\0') {
		int i;
		for (i = 0; i < 3 && strcmp(v, words[i]) != 0; i++)
			;
		if (i < 3)
			shim_config.prompts = (enum shim_prompts)i;
		else
			shim_log(SHIM_LOG_WARN, "ZRTPSHIM_PROMPTS=%.32s%s is not "
				 "off|cues|code: using code", v,
				 strlen(v) > 32 ? "..." : "");
	}
	v = secure_getenv("ZRTPSHIM_PROMPT_ALWAYS_CODE");
	if (v != NULL && *v != '\0') {
		if (strcmp(v, "yes") == 0)
			shim_config.prompt_always_code = true;
		else if (strcmp(v, "no") == 0)
			shim_config.prompt_always_code = false;
		else
			shim_log(SHIM_LOG_WARN, "ZRTPSHIM_PROMPT_ALWAYS_CODE="
				 "%.32s%s is not yes|no: using no", v,
				 strlen(v) > 32 ? "..." : "");
	}
}

/* common/statedir.h's rule, the one `zrtpshim status` and `cache` use. */
static void config_dir(void)
{
	bool ignored;
	int r = statedir_path(shim_config.dir, sizeof shim_config.dir,
			      &ignored);

	if (ignored)
		shim_log(SHIM_LOG_WARN, "ZRTPSHIM_DIR is longer than %zu bytes: "
			 "ignored", sizeof shim_config.dir - 1);
	if (r == -ENOENT)
		shim_log(SHIM_LOG_WARN, "no ZRTPSHIM_DIR, XDG_STATE_HOME or "
			 "HOME: no state directory (no cache, no status)");
	else if (r < 0)
		shim_log(SHIM_LOG_WARN, "state directory path too long: "
			 "no state directory (no cache, no status)");
}

static void config_string(const char *name, char *dst, size_t cap)
{
	const char *v = secure_getenv(name);

	if (v != NULL && *v != '\0')
		(void)config_copy(name, v, dst, cap);
}

void shim_settings_load(void)
{
	static char log_file[4096];

	/* The level first, then the file: the warnings below obey both. */
	enum shim_log_level level = config_log_level();
	config_string("ZRTPSHIM_LOG_FILE", log_file, sizeof log_file);
	shim_log_configure(level, log_file);
	config_policy();
	config_tls();
	config_dir();
	config_altered_ms();
	config_string("ZRTPSHIM_KEYLOG", shim_config.keylog,
		      sizeof(shim_config.keylog));
	config_string("ZRTPSHIM_ALGOS", shim_config.algos,
		      sizeof(shim_config.algos));
	config_string("ZRTPSHIM_ON_EVENT", shim_config.on_event,
		      sizeof(shim_config.on_event));
	config_prompts();
	config_string("ZRTPSHIM_PROMPTS_DIR", shim_config.prompts_dir,
		      sizeof(shim_config.prompts_dir));
	if (shim_config.keylog[0] != '\0')
		shim_log(SHIM_LOG_WARN, "ZRTPSHIM_KEYLOG is set: SRTP keys "
			 "are written to %s; anyone who reads it can decrypt "
			 "these calls", shim_config.keylog);
}

static pthread_once_t state_dir_once = PTHREAD_ONCE_INIT;

static void state_dir_make(void)
{
	char p[sizeof shim_config.dir];
	int saved = errno;
	snprintf(p, sizeof p, "%s", shim_config.dir);
	if (p[0] != '/')
		return;
	/* mkdir -p: each parent in turn; existing ones are fine. */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			shim_log(SHIM_LOG_WARN, "state directory: mkdir %s: %s: "
				 "no cache file, no status file", p,
				 strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	errno = saved;
}

void shim_state_dir_ensure(void)
{
	if (shim_config.dir[0])
		pthread_once(&state_dir_once, state_dir_make);
}
