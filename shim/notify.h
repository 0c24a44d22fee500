/*
 * Desktop notifications (notify.c): a freedesktop Notifications message
 * on the session bus when a stream becomes secure (the SAS and the peer),
 * on every alarm, and when the user verifies or withdraws. Off with
 * ZRTPSHIM_NOTIFY=off; nothing at all where there is no session bus.
 */
#ifndef SHIM_NOTIFY_H
#define SHIM_NOTIFY_H

struct shim_event_note;

/* From shim_init: remember the session bus address (the environment is
 * read once, here). Starts nothing. */
void shim_notify_init(void);

/* The events' listener (init.c adds it). Runs with a stream lock held: it
 * only formats the message into a queue and wakes the shim's notifier
 * thread (started on the first message); it never blocks on the bus. */
void shim_notify_on_event(const struct shim_event_note *n);

/* In a forked child: the parent's thread and bus connection are gone;
 * forget them (a later event starts the child's own). */
void shim_notify_atfork_child(void);

#endif
