/*
 * The shim's one thread (timer.c). It sleeps until the earliest deadline
 * its work function returned, or until a kick, then runs the work again.
 */
#ifndef SHIM_TIMER_H
#define SHIM_TIMER_H

#include <stdint.h>

/* The work: do what is due at now (ms, CLOCK_MONOTONIC) and return when to
 * run again (ms, or UINT64_MAX: nothing to do until the next kick). */
typedef uint64_t shim_timer_work_fn(uint64_t now);

/* Run work soon, starting the thread if it is not running (lazily, and
 * again in a forked child). The thread runs the last work given. */
void shim_timer_kick(shim_timer_work_fn *work);

/* In a forked child: the parent's thread is gone; forget it and
 * re-initialise the timer's lock. */
void shim_timer_atfork_child(void);

#endif
