/*
 * Between the shim's event/status files only (events.c, sipglue.c):
 * nothing here is part of the contract in shim.h.
 */
#ifndef SHIM_EVENTS_H
#define SHIM_EVENTS_H

/*
 * Rewrite this process's status file ($ZRTPSHIM_DIR/status/<pid>.json)
 * with fresh counters from shim_media_stats_get, and reap finished
 * ZRTPSHIM_ON_EVENT commands. Takes media.c's locks: call it with no
 * stream lock held (sipglue calls it after each SIP message and just
 * before a call's streams end).
 */
void shim_status_refresh(void);

/*
 * Create $ZRTPSHIM_DIR and its parents (mode 0700) once per process, so
 * the cache and the status file have a home even when ~/.local/state
 * does not exist yet. sipglue calls it before the first SIP message can
 * create a stream.
 */
void shim_state_dir_ensure(void);

#endif
