/*
 * What the user is told of a stream's events (events.c): one log line
 * per event with the SAS, and the ZRTPSHIM_ON_EVENT command. Most are the
 * engine's (struct zrtp_event); "altered" and its end are the shim's own,
 * seen by the media path in SRTP the engine never handles. Whoever else
 * wants the events (the status file) listens through
 * shim_events_set_listener; events.c calls nothing above it.
 */
#ifndef SHIM_EVENTS_H
#define SHIM_EVENTS_H

#include <stdbool.h>

struct zrtp_event;

enum shim_event_kind {
	SHIM_EVENT_ZRTP,               /* the engine's: ev says which */
	SHIM_EVENT_ALTERED,            /* after SECURE, packets from the peer
					* and none authenticating */
	SHIM_EVENT_ALTERED_END,        /* authenticated packets again */
};

/* One event as the user sees it. */
struct shim_event_note {
	enum shim_event_kind kind;
	const char *stream;            /* "call-id/m-index" */
	const struct zrtp_event *ev;   /* SHIM_EVENT_ZRTP only, else NULL */
	const char *label;             /* "secure", "failed", "mismatch",
					* "hello-hash-mismatch",
					* "goclear-refused",
					* "sasrelay-ignored", "peer-hello",
					* "altered", "altered-end" */
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

/*
 * Media that stopped authenticating (altered true) or authenticates again
 * (false), once per episode, from the media path with the stream's lock
 * held like shim_events_emit. sas: the stream's. detail: what was seen,
 * appended to the reason. Runs ZRTPSHIM_ON_EVENT (ZRTPSHIM_EVENT=altered)
 * for the start of an episode only; its end is logged and recorded.
 */
void shim_events_emit_altered(const char *stream_name, bool altered,
			      const char *sas, const char *detail);

/* Called for every event the user is told about (not RECV_KEYS), before
 * the ZRTPSHIM_ON_EVENT command starts. One listener; NULL: none. */
typedef void shim_events_listener_fn(const struct shim_event_note *n);
void shim_events_set_listener(shim_events_listener_fn *fn);

/* Collect finished ZRTPSHIM_ON_EVENT commands (ours only, by pid). Takes
 * no stream lock. */
void shim_events_reap(void);

#endif
