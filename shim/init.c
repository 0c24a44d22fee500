/*
 * One-time setup (init.h): the libc pointers, the settings, the fd
 * registry, and the wiring of what the lower modules tell the upper ones
 * (the registry's release and dup callbacks, the events' listener), and
 * the fork handlers. The only module that knows every other.
 *
 * Run-once the libfaketime way: the first caller marks initialisation as
 * started BEFORE doing any of it, so a hook re-entered from inside the
 * setup (dlsym, getpwuid_r's NSS modules opening sockets and files) sees
 * "started" and, being on the initialising thread (shim_in_shim is set),
 * goes straight to libc. Other threads arriving meanwhile wait for the
 * first to finish: they must not see a half-built registry.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "shim/init.h"
#include "shim/io.h"
#include "shim/log.h"
#include "shim/media.h"
#include "shim/notify.h"
#include "shim/prompt.h"
#include "shim/real.h"
#include "shim/events.h"
#include "shim/registry.h"
#include "shim/settings.h"
#include "shim/status.h"
#include "shim/timer.h"

/* 0: not started; 1: running on some thread; SHIM_INIT_DONE. Hooks test
 * it inline (hooks.h) before calling shim_init. */
atomic_int shim_init_state;

/* What the registry tells the layers above it (it calls nothing above). */
static const struct shim_registry_ops registry_ops = {
	.released = shim_io_released,
	.duplicated = shim_media_on_bind,
};

/* pthread_atfork covers every fork, including glibc's internal ones
 * (daemon(3)) that never reach our exported fork(). */
static void init_atfork_child(void)
{
	shim_registry_atfork_child();
	shim_media_atfork_child();
	shim_status_atfork_child();
	shim_notify_atfork_child();
}

void shim_init(void)
{
	int expect = 0;
	int saved;

	if (atomic_load_explicit(&shim_init_state, memory_order_acquire) ==
	    SHIM_INIT_DONE)
		return;
	if (!atomic_compare_exchange_strong(&shim_init_state, &expect, 1)) {
		/* Re-entered from our own setup: the caller's guard sends it
		 * to libc. Another thread: wait; init is short and never
		 * waits for other threads. */
		if (shim_in_shim)
			return;
		while (atomic_load_explicit(&shim_init_state,
					    memory_order_acquire) != SHIM_INIT_DONE)
			sched_yield();
		return;
	}
	saved = errno;
	shim_in_shim++;
	shim_real_init();
	shim_settings_load();
	shim_registry_init(&registry_ops);
	(void)shim_events_add_listener(shim_status_on_event);
	(void)shim_events_add_listener(prompt_on_event);
	(void)shim_timer_add_work(shim_status_timer_run);
	shim_notify_init();
	(void)shim_events_add_listener(shim_notify_on_event);
	(void)pthread_atfork(shim_registry_atfork_prepare,
			     shim_registry_atfork_parent, init_atfork_child);
	shim_log(SHIM_LOG_DEBUG, "loaded: policy %s, state dir \"%s\"",
		 shim_config.policy == SHIM_POLICY_REQUIRE ? "require" :
		 "opportunistic", shim_config.dir);
	shim_in_shim--;
	atomic_store_explicit(&shim_init_state, SHIM_INIT_DONE,
			      memory_order_release);
	errno = saved;
}
