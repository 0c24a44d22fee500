/*
 * The shim's one thread (timer.c). It sleeps until the earliest deadline
 * its work functions returned, or until a kick, then runs them again.
 */
#ifndef SHIM_TIMER_H
#define SHIM_TIMER_H

#include <stdint.h>

/* The work: do what is due at now (ms, CLOCK_MONOTONIC) and return when to
 * run again (ms, or UINT64_MAX: nothing to do until the next kick). */
typedef uint64_t shim_timer_work_fn(uint64_t now);

/* Run work soon (it joins the thread's works if it is not one yet),
 * starting the thread if it is not running (lazily, and again in a forked
 * child). Each wake-up runs every work and sleeps until the earliest
 * deadline they returned. */
void shim_timer_kick(shim_timer_work_fn *work);

/* Add work to the thread's works without starting the thread or waking
 * it (the status file's refresh, from init): it runs from the next kick
 * on. 0, or -ENOSPC past SHIM_TIMER_MAX_WORK. */
#define SHIM_TIMER_MAX_WORK 4
int shim_timer_add_work(shim_timer_work_fn *work);

/* In a forked child: the parent's thread is gone; forget it and
 * re-initialise the timer's lock. */
void shim_timer_atfork_child(void);

#endif
