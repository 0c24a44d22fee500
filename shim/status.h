/*
 * The status file (status.c), $ZRTPSHIM_DIR/status/<pid>.json, that
 * `zrtpshim status` reads: every live stream's phase, SAS, last event and
 * counters, and a bounded history of ended streams (ZRTPSHIM_HISTORY). It reads the media layer's counters and listens to events.
 */
#ifndef SHIM_STATUS_H
#define SHIM_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shim_event_note;

/*
 * Ask for the file to be rewritten with fresh counters: the timer thread
 * does it, within ST_MIN_WRITE_MS (200 ms), not the caller (sipglue calls
 * it after each SIP message). Takes no stream lock.
 */
void shim_status_refresh(void);

/*
 * sipglue, just before a call's streams end: take that call's final
 * counters (its streams only, found by Call-ID without a scan), reap
 * finished event commands, and ask the timer for a write. Takes the media
 * locks: call it with no stream lock held.
 */
void shim_status_call_ending(const char *call_id, size_t len);

/*
 * sipglue: m= line stream_name ("call-id/m-index") of a call is not
 * protected. whole: the line's transport is one the shim cannot protect
 * (its phase reads "unprotected"); else only a path it may take (ICE-TCP
 * candidates). why: one line for the user, in the entry's "unprotected"
 * field. Takes only status.c's lock.
 */
void shim_status_note_unprotected(const char *stream_name, bool whole,
				  const char *why);

/*
 * The timer thread's work (init.c adds it, timer.h): refresh as above at
 * most once a second while any stream is live, so `status --json`
 * counters grow during a call. Returns its next deadline (UINT64_MAX when
 * idle until the next kick). Timer thread only; takes no lock the timer
 * holds.
 */
uint64_t shim_status_timer_run(uint64_t now);

/* In a forked child: status.c's lock re-made, the timer's pacing reset. */
void shim_status_atfork_child(void);

/* The events' listener (init.c wires it): record the event and rewrite
 * the file with the counters of the last refresh. Runs with a stream lock
 * held, so it never calls into the media layer. */
void shim_status_on_event(const struct shim_event_note *n);

#endif
