/*
 * A map from byte strings (a Call-ID, a stream name) to pointers: open
 * addressing with linear probing, a power-of-two table kept at most half
 * full, deletion by backward shift (no tombstones). Lookup, insert and
 * delete cost O(1) on average whatever the number of entries; this is
 * what keeps the shim's per-message and per-refresh costs independent of
 * the number of calls.
 *
 * The map does not copy keys: an entry points at bytes its owner keeps
 * (the key is usually a field of the value) until it is deleted. The
 * hash is FNV-1a mixed with a per-map seed; keys that collide on purpose
 * make it slower, never wrong. Not thread-safe: the owner's lock guards it.
 */
#ifndef COMMON_STRMAP_H
#define COMMON_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	const char *key;        /* NULL: empty */
	size_t len;
	uint64_t hash;
	void *val;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap, n;          /* cap 0 or a power of two */
	uint64_t seed;
};

#define STRMAP_INIT { NULL, 0, 0, 0 }

/* The value stored under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key, size_t len);
/* Insert or replace; key must stay valid while the entry lives. 0 or
 * -ENOMEM (the map is unchanged then). */
int strmap_put(struct strmap *m, const char *key, size_t len, void *val)
	__attribute__((warn_unused_result));
/* Remove key; returns its value or NULL. */
void *strmap_del(struct strmap *m, const char *key, size_t len);
/* Frees the table (not the values); the map is empty and usable after. */
void strmap_clear(struct strmap *m);

#endif
