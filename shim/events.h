/*
 * What the user is told of a stream's events (events.c): one log line
 * per event with the SAS, and the ZRTPSHIM_ON_EVENT command. Most are the
 * engine's (struct zrtp_event); "altered" and its end are the shim's own,
 * seen by the media path in SRTP the engine never handles. Whoever else
 * wants the events (the status file) listens through
 * shim_events_add_listener; events.c calls nothing above it.
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
	SHIM_EVENT_CLEAR,              /* opportunistic: the call flows in
					* clear (no ZRTP peer) */
	SHIM_EVENT_PIN_ALARM,          /* a pinned SIP identity without ZRTP,
					* or with another ZID */
	SHIM_EVENT_VERIFIED,           /* the user confirmed the SAS */
	SHIM_EVENT_UNVERIFIED,         /* the user withdrew a confirmation */
	SHIM_EVENT_LIMIT,              /* a table at its ceiling refused a
					* new call (its stream name ends
					* in a star) */
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
	const char *peer_name;         /* the peer's SIP identity and display
					* name as the cache knows them
					* ("Name <sip:id>", "sip:id"), or "";
					* looked up by peer_zid in the cache,
					* so no emitter may hold the cache's
					* lock (shim/cache.c) */
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

/*
 * An event of the shim's own (not the engine's): kind is one of
 * SHIM_EVENT_CLEAR, _PIN_ALARM, _VERIFIED, _UNVERIFIED, _LIMIT; label is its name
 * for the log, the listeners and ZRTPSHIM_EVENT. Logged at ERROR when
 * alarm is true (else INFO or WARN for CLEAR), then the listeners, then
 * ZRTPSHIM_ON_EVENT. Same calling rules as shim_events_emit. peer_zid and
 * sas may be NULL.
 */
void shim_events_emit_shim(enum shim_event_kind kind, const char *stream_name,
			   const char *label, const char *sas,
			   const char *peer_zid, const char *reason);

/* Called for every event the user is told about (not RECV_KEYS), before
 * the ZRTPSHIM_ON_EVENT command starts, in the order added. At most
 * SHIM_EVENTS_MAX_LISTENERS (extra ones are refused with -ENOSPC). */
#define SHIM_EVENTS_MAX_LISTENERS 4
typedef void shim_events_listener_fn(const struct shim_event_note *n);
int shim_events_add_listener(shim_events_listener_fn *fn);

/* Collect finished ZRTPSHIM_ON_EVENT commands (ours only, by pid). Takes
 * no stream lock. */
void shim_events_reap(void);

#endif
