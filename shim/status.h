/*
 * The status file (status.c), $ZRTPSHIM_DIR/status/<pid>.json, that
 * `zrtpshim status` reads: every stream's phase, SAS, last event and
 * counters. It reads the media layer's counters and listens to events.
 */
#ifndef SHIM_STATUS_H
#define SHIM_STATUS_H

#include <stdbool.h>

struct shim_event_note;

/*
 * Rewrite the file with fresh counters from the media layer, and reap
 * finished event commands. Takes the media locks: call it with no stream
 * lock held (sipglue calls it after each SIP message and just before a
 * call's streams end).
 */
void shim_status_refresh(void);

/*
 * sipglue: m= line stream_name ("call-id/m-index") of a call is not
 * protected. whole: the line's transport is one the shim cannot protect
 * (its phase reads "unprotected"); else only a path it may take (ICE-TCP
 * candidates). why: one line for the user, in the entry's "unprotected"
 * field. Takes only status.c's lock.
 */
void shim_status_note_unprotected(const char *stream_name, bool whole,
				  const char *why);

/* The events' listener (init.c wires it): record the event and rewrite
 * the file with the counters of the last refresh. Runs with a stream lock
 * held, so it never calls into the media layer. */
void shim_status_on_event(const struct shim_event_note *n);

#endif
