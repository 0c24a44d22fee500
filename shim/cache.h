/*
 * This process's ZID and retained-secret cache (cache.c): the cache file
 * of one slot under the state directory (common/statedir.h), taken with a
 * lock held for the life of the process, and the engine's cache
 * callbacks on it.
 */
#ifndef SHIM_CACHE_H
#define SHIM_CACHE_H

#include <stdint.h>

struct zrtp_retained;

/* Our ZID, loading (or creating) the cache on the first call. */
void shim_cache_own_zid(uint8_t zid[12]);

/* zrtp_callbacks.cache_get / cache_put (arg unused). */
int shim_cache_get(void *arg, const uint8_t zid[12], struct zrtp_retained *out);
int shim_cache_put(void *arg, const uint8_t zid[12],
		   const struct zrtp_retained *in);

/* In a forked child: give up the parent's slot lock and cache, so the
 * child takes its own slot (and ZID) on its first call. */
void shim_cache_atfork_child(void);

#endif
