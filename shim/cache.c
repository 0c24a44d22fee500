/*
 * This process's ZID and retained-secret cache (cache.h).
 *
 * The cache lives in the state directory, loaded on the first call. Two
 * shimmed clients on one host share that directory, and a shared cache
 * would give them the same ZID (the peer then fails with "equal ZIDs").
 * Each process therefore takes an flock on its slot's lock file
 * (common/statedir.h): the first process gets cache.lock and uses
 * "cache"; a second one finds it taken and uses cache-1 (cache-1.lock),
 * then cache-2, ... The lock is held for the life of the process
 * (released by the kernel when it exits), so a client that restarts alone
 * gets "cache" and its ZID and retained secrets back. The lock is on a
 * separate file because the atomic save renames a new file over the
 * cache. A forked child drops the lock it inherited and takes its own
 * slot on its first call.
 *
 * cache_mu guards all of it; the engine's callbacks take it inside a
 * call's mutex (the lock order at the top of media.c).
 *
 * Saves happen on the timer thread (cache_flush), not in the put: a put
 * marks the table dirty and kicks the timer, which takes the file's image
 * under cache_mu and writes it (fsync, rename) holding only cache_save_mu.
 * A handshake that ends on the application's thread (the Confirm2 or
 * Conf2ACK arrives in its recv) therefore never waits for the disk, and
 * nor do the other calls' handshakes: with 1,000 calls ending their
 * handshakes within seconds, an fsync each on the application's thread
 * stalled it for hundreds of milliseconds. Puts in a row coalesce into
 * one write; a dirty table is also written when the process exits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/statedir.h"
#include "shim/cache.h"
#include "shim/log.h"
#include "shim/real.h"
#include "shim/settings.h"
#include "shim/timer.h"
#include "zrtp/cache.h"
#include "zrtp/zrtp.h"

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zrtp_cache *cache;        /* NULL: not loaded yet */
static bool cache_persist;              /* false: in memory only */
static char cache_path[4200];
static int cache_lock_fd = -1;
static uint8_t our_zid[12];
static atomic_bool cache_dirty;                 /* a put not written yet */
static pthread_mutex_t cache_save_mu = PTHREAD_MUTEX_INITIALIZER;

/* No lock held. Write the table if a put asked for it: the image under
 * cache_mu, the write under cache_save_mu only (writes stay in order). */
static void cache_flush(void)
{
	char path[sizeof cache_path];
	uint8_t *img = NULL;
	size_t len = 0;
	int err = 0;
	pthread_mutex_lock(&cache_save_mu);
	pthread_mutex_lock(&cache_mu);
	bool want = atomic_exchange(&cache_dirty, false) && cache &&
		    cache_persist;
	if (want) {
		img = zrtp_cache_image(cache, &len, &err);
		memcpy(path, cache_path, sizeof path);
	}
	pthread_mutex_unlock(&cache_mu);
	if (want) {
		int r = img ? zrtp_cache_write_image(img, len, path) : err;
		if (r < 0)
			shim_log(SHIM_LOG_ERROR, "media: saving %s failed: %s",
				 path, strerror(-r));
		zrtp_cache_image_free(img, len);
	}
	pthread_mutex_unlock(&cache_save_mu);
}

static uint64_t cache_timer_run(uint64_t now)
{
	(void)now;
	if (atomic_load(&cache_dirty))
		cache_flush();
	return UINT64_MAX;
}

__attribute__((destructor)) static void cache_at_exit(void)
{
	if (atomic_load(&cache_dirty))
		cache_flush();
}

/* cache_mu held (or not): the table changed; the timer writes it. */
static void cache_mark_dirty(void)
{
	if (!cache_persist)
		return;
	atomic_store(&cache_dirty, true);
	shim_timer_kick(cache_timer_run);
}

static bool cache_try_slot(const char *dir, int slot)
{
	char lock[sizeof cache_path + 8];
	if (statedir_cache_path(cache_path, sizeof cache_path, dir, slot) < 0)
		return false;
	snprintf(lock, sizeof lock, "%s.lock", cache_path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		shim_real.close(fd);
		return false;
	}
	cache_lock_fd = fd;
	return true;
}

static void cache_fresh(const char *why)
{
	uint8_t zid[12];
	randombytes_buf(zid, sizeof zid);
	cache = zrtp_cache_new(zid);
	sodium_memzero(zid, sizeof zid);
	if (!cache) {
		shim_log(SHIM_LOG_ERROR, "media: cannot allocate the cache");
		return;
	}
	if (cache_persist) {
		int r = zrtp_cache_save(cache, cache_path);
		if (r < 0)
			shim_log(SHIM_LOG_ERROR,
				 "media: cannot save new cache %s: %s",
				 cache_path, strerror(-r));
		else
			shim_log(SHIM_LOG_INFO, "media: new ZID in %s (%s)",
				 cache_path, why);
	}
}

/* cache_mu held. Load once: missing → new ZID and save; corrupt → moved
 * aside as cache.corrupt-<time>, loudly, and a fresh start. */
static void cache_load_locked(void)
{
	if (cache)
		return;
	const char *dir = shim_config.dir;
	cache_persist = false;
	if (dir[0]) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			shim_log(SHIM_LOG_WARN, "media: mkdir %s: %s", dir,
				 strerror(errno));
		for (int slot = 0; slot < STATEDIR_CACHE_SLOTS; slot++)
			if (cache_try_slot(dir, slot)) {
				cache_persist = true;
				if (slot > 0)
					shim_log(SHIM_LOG_INFO,
						 "media: another process holds %s/cache; "
						 "this one uses %s (its own ZID)",
						 dir, cache_path);
				break;
			}
		if (!cache_persist)
			shim_log(SHIM_LOG_WARN,
				 "media: no free cache slot in %s: ZID and "
				 "retained secrets live in memory only", dir);
	} else {
		shim_log(SHIM_LOG_WARN, "media: ZRTPSHIM_DIR unset: ZID and "
			 "retained secrets live in memory only");
	}
	if (!cache_persist) {
		cache_fresh("memory only");
	} else {
		char why[128] = "";
		int r = zrtp_cache_load(cache_path, &cache, why, sizeof why);
		if (r == -ENOENT) {
			cache_fresh("no cache yet");
		} else if (r < 0) {
			char aside[4300];
			snprintf(aside, sizeof aside, "%s.corrupt-%lld",
				 cache_path, (long long)time(NULL));
			bool moved = rename(cache_path, aside) == 0;
			shim_log(SHIM_LOG_ERROR,
				 "media: CACHE FILE %s IS CORRUPT (%s): %s; "
				 "starting with a new ZID, all retained secrets "
				 "and SAS verifications are lost", cache_path,
				 r == -EBADMSG ? why : strerror(-r),
				 moved ? aside : "could not move it aside");
			cache = NULL;
			cache_fresh("after a corrupt cache");
		}
	}
	if (cache)
		zrtp_cache_own_zid(cache, our_zid);
}

int shim_cache_get(void *arg, const uint8_t zid[12], struct zrtp_retained *out)
{
	int r = -ENOENT;
	pthread_mutex_lock(&cache_mu);
	if (cache)
		r = zrtp_cache_get_retained(cache, zid, (uint64_t)time(NULL),
					    out);
	pthread_mutex_unlock(&cache_mu);
	return r;
}

int shim_cache_put(void *arg, const uint8_t zid[12],
		   const struct zrtp_retained *in)
{
	int r = -ENOENT;
	pthread_mutex_lock(&cache_mu);
	if (cache) {
		r = zrtp_cache_put_retained(cache, zid, (uint64_t)time(NULL),
					    in);
		if (r == 0)
			cache_mark_dirty();
	}
	pthread_mutex_unlock(&cache_mu);
	return r;
}

size_t shim_cache_recent(void *arg, const uint8_t zid[12],
			 uint8_t out[][32], bool *young)
{
	size_t n = 0;
	*young = false;
	pthread_mutex_lock(&cache_mu);
	if (cache)
		n = zrtp_cache_recent_retained(cache, zid, (uint64_t)time(NULL),
					       out, ZRTP_RECENT_MAX, young);
	pthread_mutex_unlock(&cache_mu);
	return n;
}

/* cache_mu held. */
static void cache_save_locked(void)
{
	cache_mark_dirty();
}

int shim_cache_pin_lookup(const char *sip_id, uint8_t zid[12])
{
	int r = -ENOENT;
	if (!sip_id || !sip_id[0])
		return -ENOENT;
	pthread_mutex_lock(&cache_mu);
	cache_load_locked();
	if (cache)
		r = zrtp_cache_pin_find(cache, sip_id, zid);
	pthread_mutex_unlock(&cache_mu);
	return r;
}

int shim_cache_peer_secure(const uint8_t zid[12], const char *sip_id,
			   const char *name, uint8_t pinned[12])
{
	int r = 0;
	if (!zid || !sip_id || !zrtp_cache_id_valid(sip_id))
		return -EINVAL;
	pthread_mutex_lock(&cache_mu);
	cache_load_locked();
	if (!cache) {
		pthread_mutex_unlock(&cache_mu);
		return -ENOMEM;
	}
	struct zrtp_cache_entry e;
	bool changed = false;
	if (zrtp_cache_get(cache, zid, 0, &e) == -ENOENT) {
		/* The engine stored no secret (yet): an entry for the names. */
		memset(&e, 0, sizeof e);
		memcpy(e.zid, zid, 12);
		e.expiry = ZRTP_CACHE_NEVER;
		if (zrtp_cache_put(cache, &e) < 0) {
			pthread_mutex_unlock(&cache_mu);
			return -ENOMEM;
		}
		changed = true;
	}
	/* A name already stored (seen first, or set by hand with
	 * `zrtpshim cache name`) stays. */
	bool name_ok = name && zrtp_cache_name_valid(name) && !e.name[0];
	changed |= strcmp(e.sip_id, sip_id) != 0 || name_ok;
	sodium_memzero(&e, sizeof e);
	if (zrtp_cache_set_names(cache, zid, sip_id, name_ok ? name : NULL) < 0)
		r = -EINVAL;
	uint8_t old[12];
	if (zrtp_cache_pin_find(cache, sip_id, old) == 0) {
		if (memcmp(old, zid, 12) != 0) {
			memcpy(pinned, old, 12);
			r = 1;
		}
	} else if (zrtp_cache_pin(cache, sip_id, zid) < 0) {
		r = -ENOMEM;
	} else {
		changed = true;
	}
	/* Each stream of a call comes here: write only what is new. */
	if (changed)
		cache_save_locked();
	pthread_mutex_unlock(&cache_mu);
	return r;
}

void shim_cache_peer_label(const char *zid_hex, char *out, size_t cap)
{
	uint8_t zid[12];
	size_t got = 0;
	if (!out || cap == 0)
		return;
	out[0] = '\0';
	if (!zid_hex || strlen(zid_hex) != 24 ||
	    sodium_hex2bin(zid, 12, zid_hex, 24, NULL, &got, NULL) != 0 ||
	    got != 12)
		return;
	pthread_mutex_lock(&cache_mu);
	struct zrtp_cache_entry e;
	if (cache && zrtp_cache_get(cache, zid, 0, &e) == 0) {
		if (e.name[0] && e.sip_id[0])
			snprintf(out, cap, "%s <%s>", e.name, e.sip_id);
		else
			snprintf(out, cap, "%s", e.name[0] ? e.name : e.sip_id);
		sodium_memzero(&e, sizeof e);
	}
	pthread_mutex_unlock(&cache_mu);
}

void shim_cache_own_zid(uint8_t zid[12])
{
	pthread_mutex_lock(&cache_mu);
	cache_load_locked();
	memcpy(zid, our_zid, sizeof our_zid);
	pthread_mutex_unlock(&cache_mu);
}

void shim_cache_atfork_child(void)
{
	pthread_mutex_init(&cache_mu, NULL);
	pthread_mutex_init(&cache_save_mu, NULL);
	atomic_store(&cache_dirty, false);
	if (cache_lock_fd >= 0) {
		shim_real.close(cache_lock_fd);
		cache_lock_fd = -1;
	}
	if (cache) {
		zrtp_cache_free(cache);
		cache = NULL;
	}
}
