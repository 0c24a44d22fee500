/* Placeholder until the rendered clips land: no clips, no prompts. */
#include "config.h"

#include <errno.h>

#include "shim/clips.h"

const unsigned clips_rates[CLIPS_N_RATES] = { 8000, 16000, 48000 };

int clips_load(const char *dir)
{
	(void)dir;
	return -ENOENT;
}

int clips_compose(enum prompt_kind kind, const char *sas, unsigned rate,
		  struct clip_seq *out)
{
	(void)kind; (void)sas; (void)rate; (void)out;
	return -ENOENT;
}

size_t clips_seq_len(const struct clip_seq *q)
{
	size_t n = 0;
	for (unsigned i = 0; i < q->n_parts; i++)
		n += q->part[i].n;
	return n;
}
