/* A string -> pointer hash map (strmap.h). */
#include "common/strmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint64_t strmap_hash(const struct strmap *m, const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ m->seed;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ull;
	}
	/* FNV's low bits mix poorly: fold the high ones in (the index is
	 * taken from the low bits). */
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

static size_t strmap_find(const struct strmap *m, const char *key, size_t len,
			  uint64_t h, bool *found)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	for (;; i = (i + 1) & mask) {
		const struct strmap_slot *s = &m->slots[i];
		if (!s->key) {
			*found = false;
			return i;
		}
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) {
			*found = true;
			return i;
		}
	}
}

void *strmap_get(const struct strmap *m, const char *key, size_t len)
{
	bool found;
	if (m->n == 0)
		return NULL;
	size_t i = strmap_find(m, key, len, strmap_hash(m, key, len), &found);
	return found ? m->slots[i].val : NULL;
}

static int strmap_grow(struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct strmap_slot *t = calloc(cap, sizeof *t);
	if (!t)
		return -ENOMEM;
	struct strmap_slot *old = m->slots;
	size_t old_cap = m->cap;
	if (!old_cap)   /* any value will do; the address differs per map */
		m->seed = (uint64_t)(uintptr_t)m * 0x9e3779b97f4a7c15ull;
	m->slots = t;
	m->cap = cap;
	for (size_t k = 0; k < old_cap; k++) {
		if (!old[k].key)
			continue;
		size_t i = (size_t)old[k].hash & (cap - 1);
		while (t[i].key)
			i = (i + 1) & (cap - 1);
		t[i] = old[k];
	}
	free(old);
	return 0;
}

int strmap_put(struct strmap *m, const char *key, size_t len, void *val)
{
	bool found;
	if ((m->n + 1) * 2 > m->cap && strmap_grow(m) < 0)
		return -ENOMEM;
	uint64_t h = strmap_hash(m, key, len);
	size_t i = strmap_find(m, key, len, h, &found);
	struct strmap_slot *s = &m->slots[i];
	if (!found)
		m->n++;
	s->key = key;   /* the owner's bytes may have moved: take these */
	s->len = len;
	s->hash = h;
	s->val = val;
	return 0;
}

void *strmap_del(struct strmap *m, const char *key, size_t len)
{
	bool found;
	if (m->n == 0)
		return NULL;
	size_t mask = m->cap - 1;
	size_t i = strmap_find(m, key, len, strmap_hash(m, key, len), &found);
	if (!found)
		return NULL;
	void *val = m->slots[i].val;
	/* Backward shift: move later entries of the run into the hole when
	 * their home slot does not lie cyclically in (hole, their slot]. */
	size_t hole = i;
	for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = (size_t)m->slots[j].hash & mask;
		bool stays = hole <= j ? (hole < home && home <= j)
				       : (hole < home || home <= j);
		if (stays)
			continue;
		m->slots[hole] = m->slots[j];
		hole = j;
	}
	memset(&m->slots[hole], 0, sizeof m->slots[hole]);
	m->n--;
	return val;
}

void strmap_clear(struct strmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}
