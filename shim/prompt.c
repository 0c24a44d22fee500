/*
 * Spoken prompts in the earpiece (DESIGN.md "The user's loop").
 */
#include "config.h"

#include "shim/media_int.h"

void media_prompt_request_locked(struct shim_media *s, enum prompt_kind kind)
{
	(void)s;
	(void)kind;
}
