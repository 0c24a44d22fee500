/*
 * Spoken prompts in the earpiece (prompt.c): the events' listener that
 * turns what happens to a stream into what its user hears.
 */
#ifndef SHIM_PROMPT_H
#define SHIM_PROMPT_H

#include "shim/clips.h"

struct shim_event_note;

/* events.c's listener (init.c adds it). */
void prompt_on_event(const struct shim_event_note *n);

/* "secure", "mismatch", ... for the log. */
const char *prompt_kind_name(enum prompt_kind k);

#endif
