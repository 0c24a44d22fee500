/*
 * One-time setup: the libc pointers, the configuration from the
 * environment, the fd registry, the fork handlers.
 *
 * Run-once the libfaketime way: the first caller marks initialisation as
 * started BEFORE doing any of it, so a hook re-entered from inside the
 * setup (dlsym, getpwuid_r's NSS modules opening sockets and files) sees
 * "started" and, being on the initialising thread (shim_in_shim is set),
 * goes straight to libc. Other threads arriving meanwhile wait for the
 * first to finish: they must not see a half-built registry.
 *
 * Every environment value is checked: unknown words and over-long values
 * are logged as warnings and replaced by the default, never fatal.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/statedir.h"
#include "shim/private.h"
#include "shim/shim.h"

struct shim_config shim_config = {
	.policy = SHIM_POLICY_REQUIRE,
	.log_level = SHIM_LOG_INFO,
};

/* 0: not started; 1: running on some thread; 2: done (SHIM_INIT_DONE).
 * Hooks test it inline (hooks.h) before calling shim_init. */
atomic_int shim_init_state;
#define init_state shim_init_state

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

static void config_log_level(void)
{
	static const char *const names[] = {
		[SHIM_LOG_ERROR] = "error", [SHIM_LOG_WARN] = "warn",
		[SHIM_LOG_INFO] = "info", [SHIM_LOG_DEBUG] = "debug",
	};
	const char *v = secure_getenv("ZRTPSHIM_LOG");

	if (v == NULL || *v == '\0')
		return;
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		if (strcasecmp(v, names[i]) == 0) {
			shim_config.log_level = i;
			return;
		}
	}
	shim_log(SHIM_LOG_WARN, "ZRTPSHIM_LOG=%.32s%s is not one of "
		 "error|warn|info|debug: using info", v,
		 strlen(v) > 32 ? "..." : "");
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

static void config_load(void)
{
	/* The level first, then the file: the warnings below obey both. */
	config_log_level();
	config_string("ZRTPSHIM_LOG_FILE", shim_config.log_file,
		      sizeof(shim_config.log_file));
	config_policy();
	config_dir();
	config_string("ZRTPSHIM_KEYLOG", shim_config.keylog,
		      sizeof(shim_config.keylog));
	config_string("ZRTPSHIM_ALGOS", shim_config.algos,
		      sizeof(shim_config.algos));
	config_string("ZRTPSHIM_ON_EVENT", shim_config.on_event,
		      sizeof(shim_config.on_event));
	if (shim_config.keylog[0] != '\0')
		shim_log(SHIM_LOG_WARN, "ZRTPSHIM_KEYLOG is set: SRTP keys "
			 "are written to %s; anyone who reads it can decrypt "
			 "these calls", shim_config.keylog);
}

/* pthread_atfork covers every fork, including glibc's internal ones
 * (daemon(3)) that never reach our exported fork(). */
static void init_atfork_child(void)
{
	shim_registry_atfork_child();
}

void shim_init(void)
{
	int expect = 0;
	int saved;

	if (atomic_load_explicit(&init_state, memory_order_acquire) == 2)
		return;
	if (!atomic_compare_exchange_strong(&init_state, &expect, 1)) {
		/* Re-entered from our own setup: the caller's guard sends it
		 * to libc. Another thread: wait; init is short and never
		 * waits for other threads. */
		if (shim_in_shim)
			return;
		while (atomic_load_explicit(&init_state,
					    memory_order_acquire) != 2)
			sched_yield();
		return;
	}
	saved = errno;
	shim_in_shim++;
	shim_real_init();
	config_load();
	shim_registry_init();
	(void)pthread_atfork(shim_registry_atfork_prepare,
			     shim_registry_atfork_parent, init_atfork_child);
	shim_log(SHIM_LOG_DEBUG, "loaded: policy %s, state dir \"%s\"",
		 shim_config.policy == SHIM_POLICY_REQUIRE ? "require" :
		 "opportunistic", shim_config.dir);
	shim_in_shim--;
	atomic_store_explicit(&init_state, 2, memory_order_release);
	errno = saved;
}
