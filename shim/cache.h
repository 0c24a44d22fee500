/*
 * This process's ZID and retained-secret cache (cache.c): the cache file
 * of one slot under the state directory (common/statedir.h), taken with a
 * lock held for the life of the process, and the engine's cache
 * callbacks on it.
 */
#ifndef SHIM_CACHE_H
#define SHIM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zrtp_retained;

/* Our ZID, loading (or creating) the cache on the first call. */
void shim_cache_own_zid(uint8_t zid[12]);

/* zrtp_callbacks.cache_get / cache_put (arg unused). */
int shim_cache_get(void *arg, const uint8_t zid[12], struct zrtp_retained *out);
int shim_cache_put(void *arg, const uint8_t zid[12],
		   const struct zrtp_retained *in);
/* zrtp_callbacks.cache_recent (zrtp.h) on the same table. */
size_t shim_cache_recent(void *arg, const uint8_t zid[12],
			 uint8_t out[][32], bool *young);

/*
 * Names and pins (zrtp/cache.h), for the media layer and events.c.
 *
 * pin_lookup: the ZID a SIP identity is pinned to: 0, or -ENOENT.
 * peer_secure: a stream with the peer zid became SECURE in a call whose
 * peer is sip_id / name (name may be "" or invalid: then not stored).
 * The entry of zid gets both (made if the engine stored none; a name it
 * already has stays: seen first, or set by hand), and
 * sip_id is pinned to zid unless it is pinned to another ZID already:
 * then 1 and *pinned is that ZID (the pin stays: the user decides).
 * Else 0 (or -errno). The file is saved on a change.
 * peer_label: "Display Name <sip:id>", "sip:id", "Name" or "" for a peer
 * ZID given in hex; never blocks on I/O.
 */
int shim_cache_pin_lookup(const char *sip_id, uint8_t zid[12]);
int shim_cache_peer_secure(const uint8_t zid[12], const char *sip_id,
			   const char *name, uint8_t pinned[12]);
void shim_cache_peer_label(const char *zid_hex, char *out, size_t cap);

/* In a forked child: give up the parent's slot lock and cache, so the
 * child takes its own slot (and ZID) on its first call. */
void shim_cache_atfork_child(void);

#endif
