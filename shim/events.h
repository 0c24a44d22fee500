/*
 * What the user is told of a stream's ZRTP events (events.c): one log line
 * per event with the SAS, and the ZRTPSHIM_ON_EVENT command. Whoever else
 * wants the events (the status file) listens through
 * shim_events_set_listener; events.c calls nothing above it.
 */
#ifndef SHIM_EVENTS_H
#define SHIM_EVENTS_H

struct zrtp_event;

/* One event as the user sees it. */
struct shim_event_note {
	const char *stream;            /* "call-id/m-index" */
	const struct zrtp_event *ev;
	const char *label;             /* "secure", "failed", "mismatch",
					* "hello-hash-mismatch",
					* "goclear-refused",
					* "sasrelay-ignored", "peer-hello" */
	const char *sas;               /* "" except on SECURE */
	const char *reason;            /* one line for the user */
	const char *peer_zid;          /* 24 hex digits, or "" */
};

/*
 * One stream event, after media has logged it; sas is "" except on
 * SECURE. Called on the thread that fed the engine, with the stream's
 * lock held: it must not block for long, and neither may the listener.
 */
void shim_events_emit(const char *stream_name, const struct zrtp_event *ev,
		      const char *sas);

/* Called for every event the user is told about (not RECV_KEYS), before
 * the ZRTPSHIM_ON_EVENT command starts. One listener; NULL: none. */
typedef void shim_events_listener_fn(const struct shim_event_note *n);
void shim_events_set_listener(shim_events_listener_fn *fn);

/* Collect finished ZRTPSHIM_ON_EVENT commands (ours only, by pid). Takes
 * no stream lock. */
void shim_events_reap(void);

#endif
