/*
 * The settings (settings.h): one table, read from the config file
 * (common/conffile.h) and then from the environment, which overrides it,
 * by the same code. Every value is checked: a bad one (an unknown word,
 * a number out of range, an over-long string) is logged as a warning
 * naming where it came from (the variable, or the file and line) and
 * skipped: the value held before it stays (the default, or what the file
 * said). Never fatal. Read once by shim_init, before any hook works.
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

#include "common/conffile.h"
#include "common/statedir.h"
#include "zrtp/crypto.h"
#include "shim/log.h"
#include "shim/settings.h"

/* The defaults are the table's; shim_settings_load applies them first. */
struct shim_config shim_config;

static int log_level;                 /* enum shim_log_level */
static char log_file[4096];
static char dir_setting[sizeof shim_config.dir];

enum setting_type {
	SETTING_WORDS,   /* one of words ("a|b|c"); the index into an int */
	SETTING_SWITCH,  /* two words, false first ("off|on"); into a bool */
	SETTING_UINT,    /* a decimal number in [min, max]; into a uint32_t */
	SETTING_STRING,  /* any text shorter than cap */
	SETTING_KEYS,    /* 1..SHIM_KEYSEQ_MAX DTMF keys: 0-9 * # A-D */
	SETTING_ALGOS,   /* a STRING that zrtp_algo_prefs_parse takes */
};

struct setting {
	const char *env;        /* the variable */
	const char *key;        /* the config file's key */
	enum setting_type type;
	const char *words;      /* WORDS, SWITCH: the values, '|'-separated;
				 * UINT: what the number counts */
	uint32_t min, max;      /* UINT */
	void *dst;              /* where it goes */
	size_t cap;             /* STRING, KEYS: dst's size */
	const char *def;        /* the default, as it would be written */
};

#define FIELD(f) &shim_config.f, sizeof shim_config.f
/* The man page zrtpshim(7) lists every row (tests/shim/man_settings.sh
 * checks it from the debug lines this table prints). */
static const struct setting settings[] = {
	{ "ZRTPSHIM_LOG", "log", SETTING_WORDS, "error|warn|info|debug",
	  0, 0, &log_level, 0, "info" },
	{ "ZRTPSHIM_LOG_FILE", "log_file", SETTING_STRING, NULL, 0, 0,
	  log_file, sizeof log_file, "" },
	{ "ZRTPSHIM_POLICY", "policy", SETTING_WORDS, "require|opportunistic",
	  0, 0, &shim_config.policy, 0, "require" },
	{ "ZRTPSHIM_TLS", "tls", SETTING_SWITCH, "off|on", 0, 0,
	  &shim_config.tls, 0, "on" },
	{ "ZRTPSHIM_DIR", "dir", SETTING_STRING, NULL, 0, 0,
	  dir_setting, sizeof dir_setting, "" },
	{ "ZRTPSHIM_ALTERED_MS", "altered_ms", SETTING_UINT,
	  "number of milliseconds", SHIM_ALTERED_MS_MIN, SHIM_ALTERED_MS_MAX,
	  &shim_config.altered_ms, 0, "3000" },
	{ "ZRTPSHIM_KEYLOG", "keylog", SETTING_STRING, NULL, 0, 0,
	  FIELD(keylog), "" },
	{ "ZRTPSHIM_ALGOS", "algos", SETTING_ALGOS, NULL, 0, 0,
	  FIELD(algos), "" },
	{ "ZRTPSHIM_ON_EVENT", "on_event", SETTING_STRING, NULL, 0, 0,
	  FIELD(on_event), "" },
	{ "ZRTPSHIM_PROMPTS", "prompts", SETTING_WORDS, "off|cues|code",
	  0, 0, &shim_config.prompts, 0, "code" },
	{ "ZRTPSHIM_PROMPT_ALWAYS_CODE", "prompt_always_code", SETTING_SWITCH,
	  "no|yes", 0, 0, &shim_config.prompt_always_code, 0, "no" },
	{ "ZRTPSHIM_PROMPTS_DIR", "prompts_dir", SETTING_STRING, NULL, 0, 0,
	  FIELD(prompts_dir), "" },
	{ "ZRTPSHIM_KEY_REPEAT", "key_repeat", SETTING_KEYS, NULL, 0, 0,
	  FIELD(key_repeat), "*0#" },
	{ "ZRTPSHIM_KEY_CONFIRM", "key_confirm", SETTING_KEYS, NULL, 0, 0,
	  FIELD(key_confirm), "*1#" },
	{ "ZRTPSHIM_KEY_WITHDRAW", "key_withdraw", SETTING_KEYS, NULL, 0, 0,
	  FIELD(key_withdraw), "*9#" },
	{ "ZRTPSHIM_INBAND", "inband", SETTING_WORDS, "auto|always|off",
	  0, 0, &shim_config.inband, 0, "auto" },
	{ "ZRTPSHIM_NOTIFY", "notify", SETTING_SWITCH, "off|on", 0, 0,
	  &shim_config.notify, 0, "on" },
	{ "ZRTPSHIM_HISTORY", "history", SETTING_UINT,
	  "number of ended streams", 0, SHIM_HISTORY_MAX,
	  &shim_config.history, 0, "32" },
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* Where each setting's value came from, for the debug lines. */
enum origin { FROM_DEFAULT, FROM_FILE, FROM_ENV };
static struct {
	enum origin from;
	unsigned line;
} origins[NSETTINGS];

/* The enum fields are stored through int: check they are int-sized. */
_Static_assert(sizeof(enum shim_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum shim_prompts) == sizeof(int), "enum size");

static const char *config_path_shown;  /* the file, for the warnings */

/* The index of word w (n bytes) in "a|b|c", or -1. Exact case, as these
 * were read before the table existed; only log's words take any case. */
static int word_index(const char *words, const char *w, size_t n,
		      bool anycase)
{
	int i = 0;

	for (const char *p = words;; i++) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && (anycase ? strncasecmp(p, w, n)
					 : strncmp(p, w, n)) == 0)
			return i;
		if (!bar)
			return -1;
		p = bar + 1;
	}
}

/* Word i of "a|b|c" into buf. */
static const char *word_at(const char *words, int i, char *buf, size_t cap)
{
	const char *p = words;

	for (; i > 0 && p; i--) {
		p = strchr(p, '|');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return "?";
	size_t len = strcspn(p, "|");
	snprintf(buf, cap, "%.*s", (int)len, p);
	return buf;
}

static bool dtmf_key(char c)
{
	return (c >= '0' && c <= '9') || c == '*' || c == '#' ||
	       (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd');
}

/* The current value of s as text. */
static const char *setting_text(const struct setting *s, char *buf,
				size_t cap)
{
	switch (s->type) {
	case SETTING_WORDS:
		return word_at(s->words, *(const int *)s->dst, buf, cap);
	case SETTING_SWITCH:
		return word_at(s->words, *(const bool *)s->dst ? 1 : 0, buf,
			       cap);
	case SETTING_UINT:
		snprintf(buf, cap, "%u", *(const uint32_t *)s->dst);
		return buf;
	case SETTING_STRING:
	case SETTING_KEYS:
	case SETTING_ALGOS:
		return (const char *)s->dst;
	}
	return "?";
}

/*
 * Set s from v (n bytes, not NUL-terminated). where names the source
 * for a warning ("ZRTPSHIM_PROMPTS=loud", "config F:12: prompts = loud")
 * and nowhere is its short form for a too-long value (the value itself
 * is not repeated). Returns true if set; on false the value held stays
 * and, if warn, a warning says so.
 */
static bool setting_set(const struct setting *s, const char *v, size_t n,
			const char *where, const char *nowhere, bool warn)
{
	char cur[64];
	int i;

	switch (s->type) {
	case SETTING_WORDS:
	case SETTING_SWITCH:
		i = word_index(s->words, v, n, s->dst == (void *)&log_level);
		if (i < 0)
			break;
		if (s->type == SETTING_WORDS)
			*(int *)s->dst = i;
		else
			*(bool *)s->dst = i == 1;
		return true;
	case SETTING_UINT: {
		uint64_t x = 0;
		size_t k;
		for (k = 0; k < n && v[k] >= '0' && v[k] <= '9' && x <= s->max;
		     k++)
			x = x * 10 + (uint64_t)(v[k] - '0');
		if (k == 0 || k != n || x < s->min || x > s->max) {
			if (warn)
				shim_log(SHIM_LOG_WARN, "%s is not a %s from "
					 "%u to %u: using %s", where, s->words,
					 s->min, s->max,
					 setting_text(s, cur, sizeof cur));
			return false;
		}
		*(uint32_t *)s->dst = (uint32_t)x;
		return true;
	}
	case SETTING_ALGOS:
		/* Checked here so that the warning names its line; the engine
		 * parses it again for each stream (shim/media_engine.c). */
		if (n > 0 && n < s->cap) {
			struct zrtp_algo_prefs prefs;
			char list[sizeof shim_config.algos];
			memcpy(list, v, n);
			list[n] = '\0';
			if (zrtp_algo_prefs_parse(&prefs, list) < 0) {
				if (warn)
					shim_log(SHIM_LOG_WARN, "%s \"%s\" is not "
						 "valid: using %s", nowhere, list,
						 *(char *)s->dst ? (char *)s->dst :
						 "the defaults");
				return false;
			}
		}
		/* fall through */
	case SETTING_STRING:
		if (n >= s->cap) {
			if (warn)
				shim_log(SHIM_LOG_WARN, "%s is longer than %zu "
					 "bytes: ignored", nowhere, s->cap - 1);
			return false;
		}
		memcpy(s->dst, v, n);
		((char *)s->dst)[n] = '\0';
		return true;
	case SETTING_KEYS: {
		bool ok = n >= 1 && n < s->cap;
		for (size_t k = 0; ok && k < n; k++)
			ok = dtmf_key(v[k]);
		if (!ok) {
			if (warn)
				shim_log(SHIM_LOG_WARN, "%s is not 1 to %d keys "
					 "of 0-9 * # A-D: using %s", where,
					 SHIM_KEYSEQ_MAX,
					 setting_text(s, cur, sizeof cur));
			return false;
		}
		for (size_t k = 0; k < n; k++)
			((char *)s->dst)[k] = (v[k] >= 'a' && v[k] <= 'd') ?
				(char)(v[k] - 'a' + 'A') : v[k];
		((char *)s->dst)[n] = '\0';
		return true;
	}
	}
	if (warn)
		shim_log(SHIM_LOG_WARN, "%s is not one of %s: using %s", where,
			 s->words, setting_text(s, cur, sizeof cur));
	return false;
}

static void settings_defaults(void)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		(void)setting_set(&settings[i], settings[i].def,
				  strlen(settings[i].def), "", "", false);
		origins[i].from = FROM_DEFAULT;
	}
}

static const struct setting *setting_by_key(const char *k, size_t n)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strlen(settings[i].key) == n &&
		    strncasecmp(settings[i].key, k, n) == 0)
			return &settings[i];
	return NULL;
}

/* The value shown in a warning: at most 32 bytes, then "...". */
#define SHOWN(v, n) (int)((n) > 32 ? 32 : (n)), (v), (n) > 32 ? "..." : ""

struct file_pass {
	bool only_log;   /* the first pass: log and log_file, silently */
};

static void file_item(void *ctx, enum conffile_item item, unsigned line,
		      const char *key, size_t klen, const char *val,
		      size_t vlen)
{
	const struct file_pass *pass = ctx;
	const struct setting *s;
	char where[4096 + 128], nowhere[4096 + 96];

	if (item == CONFFILE_MALFORMED) {
		if (!pass->only_log)
			shim_log(SHIM_LOG_WARN, "config %s:%u: \"%.*s%s\" is "
				 "not \"key = value\", \"[program]\" nor a "
				 "\"#\" comment: ignored", config_path_shown,
				 line, SHOWN(key, klen));
		return;
	}
	s = setting_by_key(key, klen);
	if (s == NULL) {
		if (!pass->only_log)
			shim_log(SHIM_LOG_WARN, "config %s:%u: unknown setting "
				 "\"%.*s%s\": ignored", config_path_shown, line,
				 SHOWN(key, klen));
		return;
	}
	if (item != CONFFILE_SET)
		return;
	if (pass->only_log && s->dst != (void *)&log_level &&
	    s->dst != (void *)log_file)
		return;
	snprintf(where, sizeof where, "config %s:%u: %s = %.*s%s",
		 config_path_shown, line, s->key, SHOWN(val, vlen));
	snprintf(nowhere, sizeof nowhere, "config %s:%u: %s",
		 config_path_shown, line, s->key);
	/* An empty value brings the default back. */
	if (vlen == 0) {
		val = s->def;
		vlen = strlen(s->def);
	}
	if (setting_set(s, val, vlen, where, nowhere, !pass->only_log)) {
		origins[s - settings].from = FROM_FILE;
		origins[s - settings].line = line;
	}
}

/* The environment over the file: a variable set and not empty wins. */
static void env_pass(bool only_log)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		const char *v = secure_getenv(s->env);
		char where[128];
		size_t n;

		if (v == NULL || *v == '\0')
			continue;
		if (only_log && s->dst != (void *)&log_level &&
		    s->dst != (void *)log_file)
			continue;
		n = strlen(v);
		snprintf(where, sizeof where, "%s=%.*s%s", s->env, SHOWN(v, n));
		if (setting_set(s, v, n, where, s->env, !only_log))
			origins[i].from = FROM_ENV;
	}
}

/* The file, read once; CONFFILE_MAX bytes at most (static: the shim
 * starts before the client's allocator may be usable). */
static char config_text[CONFFILE_MAX + 1];

/* The log's own settings come first: the warnings about everything else,
 * the file's included, must go where ZRTPSHIM_LOG_FILE / log_file say, at
 * the level ZRTPSHIM_LOG / log say. So the file is read, a silent pass
 * takes log and log_file from it and from the environment, the log is
 * configured, and then a full pass over the file and the environment
 * applies everything with warnings (log and log_file again, to the same
 * values, now with their warnings). */
void shim_settings_load(void)
{
	static char path[4096];
	const char *prog = program_invocation_short_name;
	const char *why = "";
	size_t len = 0;
	int pr, rr = -ENOENT;
	struct file_pass silent = { true }, loud = { false };

	pr = conffile_path(path, sizeof path);
	config_path_shown = path;
	if (pr == 1)
		rr = conffile_read(path, config_text, sizeof config_text, &len,
				   &why);

	settings_defaults();
	if (rr == 0)
		conffile_walk(config_text, len, prog, file_item, &silent);
	env_pass(true);
	shim_log_configure((enum shim_log_level)log_level, log_file);

	if (pr == -ENAMETOOLONG)
		shim_log(SHIM_LOG_WARN, "config: the file's path is too long: "
			 "not read");
	else if (rr != 0 && rr != -ENOENT)
		shim_log(SHIM_LOG_WARN, "config %s: %s: not read (defaults "
			 "and environment only)", path, why);
	settings_defaults();
	if (rr == 0)
		conffile_walk(config_text, len, prog, file_item, &loud);
	env_pass(false);

	int r = statedir_from(shim_config.dir, sizeof shim_config.dir,
			      dir_setting);
	if (r == -ENOENT)
		shim_log(SHIM_LOG_WARN, "no ZRTPSHIM_DIR, XDG_STATE_HOME or "
			 "HOME: no state directory (no cache, no status)");
	else if (r < 0)
		shim_log(SHIM_LOG_WARN, "state directory path too long: "
			 "no state directory (no cache, no status)");
	if (shim_config.keylog[0] != '\0') {
		size_t k = 0;
		while (settings[k].dst != (void *)shim_config.keylog)
			k++;
		if (origins[k].from == FROM_FILE)
			shim_log(SHIM_LOG_WARN, "config %s:%u: keylog is set: "
				 "SRTP keys are written to %s; anyone who reads "
				 "it can decrypt these calls", path,
				 origins[k].line, shim_config.keylog);
		else
			shim_log(SHIM_LOG_WARN, "ZRTPSHIM_KEYLOG is set: SRTP "
				 "keys are written to %s; anyone who reads it "
				 "can decrypt these calls", shim_config.keylog);
	}

	shim_log(SHIM_LOG_DEBUG, "config: %s%s for program \"%s\"",
		 pr == 1 ? path : "none",
		 pr != 1 ? "" : rr == 0 ? "" : rr == -ENOENT ? " (absent)" :
		 " (not read)", prog);
	for (size_t i = 0; i < NSETTINGS; i++) {
		char cur[64], from[4096 + 32];
		if (origins[i].from == FROM_FILE)
			snprintf(from, sizeof from, "config %s:%u", path,
				 origins[i].line);
		else
			snprintf(from, sizeof from, "%s",
				 origins[i].from == FROM_ENV ? "env" : "default");
		shim_log(SHIM_LOG_DEBUG, "setting %s (%s) = \"%s\" from %s, "
			 "default \"%s\"", settings[i].key, settings[i].env,
			 setting_text(&settings[i], cur, sizeof cur), from,
			 settings[i].def);
	}
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
