/*
 * The shim's one thread (timer.h). It sleeps on a condition variable (on
 * CLOCK_MONOTONIC) until the earliest deadline its work functions returned
 * or until shim_timer_kick signals a nearer one, then runs every work
 * again: the media layer's (tick the engines due, read media fds the
 * client never reads) and the status file's (its counters, once a second
 * while a stream is live). A work added with shim_timer_add_work does not
 * start the thread; it runs once something kicks.
 *
 * It is created lazily by the first kick, with every signal blocked (a
 * client's signal handlers must never run on it), and again in a forked
 * child, where only the forking thread survives. timer_mu guards the
 * wake-up state only; the work runs with it released, so the lock
 * order with the streams' locks never arises. The thread runs with
 * shim_in_shim set: every socket call it makes goes straight to libc.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim/clock.h"
#include "shim/log.h"
#include "shim/real.h"
#include "shim/timer.h"

static pthread_mutex_t timer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cv;
static bool cv_ready;
static bool running;
static bool kicked;
static pid_t running_pid;
static shim_timer_work_fn *work_fns[SHIM_TIMER_MAX_WORK];   /* timer_mu */

/* timer_mu held. */
static int work_add_locked(shim_timer_work_fn *work)
{
	for (int i = 0; i < SHIM_TIMER_MAX_WORK; i++) {
		if (work_fns[i] == work)
			return 0;
		if (!work_fns[i]) {
			work_fns[i] = work;
			return 0;
		}
	}
	return -ENOSPC;
}

/* timer_mu held. */
static void cv_init_locked(void)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&timer_cv, &a);
	pthread_condattr_destroy(&a);
	cv_ready = true;
}

static void *timer_main(void *arg)
{
	shim_in_shim = 1;
	for (;;) {
		uint64_t now = shim_clock_ms();
		shim_timer_work_fn *work[SHIM_TIMER_MAX_WORK];
		pthread_mutex_lock(&timer_mu);
		memcpy(work, work_fns, sizeof work);
		pthread_mutex_unlock(&timer_mu);
		uint64_t next = UINT64_MAX;
		for (int i = 0; i < SHIM_TIMER_MAX_WORK && work[i]; i++) {
			uint64_t d = work[i](now);
			if (d < next)
				next = d;
		}

		pthread_mutex_lock(&timer_mu);
		while (!kicked) {
			if (next == UINT64_MAX) {
				pthread_cond_wait(&timer_cv, &timer_mu);
				continue;
			}
			if (shim_clock_ms() >= next)
				break;
			struct timespec ts = {
				.tv_sec = (time_t)(next / 1000u),
				.tv_nsec = (long)(next % 1000u) * 1000000L,
			};
			if (pthread_cond_timedwait(&timer_cv, &timer_mu, &ts) ==
			    ETIMEDOUT)
				break;
		}
		kicked = false;
		pthread_mutex_unlock(&timer_mu);
	}
	return NULL;
}

void shim_timer_kick(shim_timer_work_fn *work)
{
	int saved = errno;
	pthread_mutex_lock(&timer_mu);
	(void)work_add_locked(work);
	if (!cv_ready)
		cv_init_locked();
	if (!running || running_pid != getpid()) {
		pthread_t t;
		pthread_attr_t attr;
		sigset_t all, old;
		sigfillset(&all);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		int r = pthread_create(&t, &attr, timer_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
		if (r == 0) {
			running = true;
			running_pid = getpid();
		} else {
			shim_log(SHIM_LOG_ERROR, "timer: cannot start the thread "
				 "(%s): ZRTP retransmissions will not happen",
				 strerror(r));
		}
	}
	kicked = true;
	pthread_cond_signal(&timer_cv);
	pthread_mutex_unlock(&timer_mu);
	errno = saved;
}

int shim_timer_add_work(shim_timer_work_fn *work)
{
	pthread_mutex_lock(&timer_mu);
	int r = work_add_locked(work);
	pthread_mutex_unlock(&timer_mu);
	return r;
}

void shim_timer_atfork_child(void)
{
	pthread_mutex_init(&timer_mu, NULL);
	cv_init_locked();
	running = false;
	kicked = false;
	running_pid = 0;
}
