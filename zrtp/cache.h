/*
 * The retained-secret cache (RFC 6189 §4.6.1, §4.9): our own ZID and, per
 * peer ZID, rs1, rs2, the SAS-verified flag and an expiry time.
 *
 * The table lives in memory; load and save move it to and from a file of
 * our own format (documented in cache.c). Save is atomic: a temporary
 * file in the same directory, fsync, rename, mode 0600. A corrupt,
 * truncated or foreign file is reported with a reason and never crashes.
 *
 * The engine never calls this module: it reaches the cache through the
 * callbacks in its context, which the shim (and the tests) implement on
 * top of this table.
 */
#ifndef ZRTP_CACHE_H
#define ZRTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZRTP_CACHE_NEVER UINT64_MAX

/* Secrets replaced in the last ZRTP_CACHE_RECENT_S seconds, at most
 * ZRTP_CACHE_RECENT of them, stay known (zrtp_cache_recent_retained). */
#define ZRTP_CACHE_RECENT 8
#define ZRTP_CACHE_RECENT_S 30

/* Longest SIP identity ("sip:user@host:port", normalised) and display
 * name, in bytes without the NUL. */
#define ZRTP_CACHE_ID_MAX 127
#define ZRTP_CACHE_NAME_MAX 63

struct zrtp_cache_entry {
	uint8_t zid[12];
	uint8_t rs1[32], rs2[32];
	bool has_rs1, has_rs2;
	bool verified;
	uint64_t expiry;       /* seconds since the epoch; ZRTP_CACHE_NEVER */
	/* Who was seen with this ZID (the shim's SIP signalling), "" if
	 * unknown: the peer's SIP identity (zrtp_cache_id_valid) and display
	 * name (zrtp_cache_name_valid). Not secrets. */
	char sip_id[ZRTP_CACHE_ID_MAX + 1];
	char name[ZRTP_CACHE_NAME_MAX + 1];
	/*
	 * In memory only, never in the file (a loaded entry has rs1_gen 1,
	 * rs2_gen 0, nothing recent, first_at 0): the generations of rs1 and
	 * rs2 (struct zrtp_retained), the secrets put_retained let go of in
	 * the last ZRTP_CACHE_RECENT_S seconds (recent_at 0: an empty slot),
	 * and when the first secret with this peer was stored (0: not in
	 * this process's life).
	 */
	uint32_t rs1_gen, rs2_gen;
	uint8_t recent[ZRTP_CACHE_RECENT][32];
	uint64_t recent_at[ZRTP_CACHE_RECENT];
	uint64_t first_at;
};

/* A SIP identity pinned to the ZID it completed ZRTP with. */
struct zrtp_cache_pin {
	char sip_id[ZRTP_CACHE_ID_MAX + 1];
	uint8_t zid[12];
};

struct zrtp_cache;

/* An empty cache with a fresh own ZID taken from zid (12 random bytes). */
struct zrtp_cache *zrtp_cache_new(const uint8_t zid[12]);
void zrtp_cache_free(struct zrtp_cache *c);  /* wipes the secrets */

/*
 * Load a cache file. A missing file is -ENOENT (the caller then creates
 * a new cache). A file that exists but is not a valid cache returns
 * -EBADMSG and, when why is given, a one-line reason such as
 * "truncated record 3" or "bad checksum". Never a partial table.
 */
int zrtp_cache_load(const char *path, struct zrtp_cache **out, char *why,
		    size_t why_len) __attribute__((warn_unused_result));

/* Atomic save (temp file, fsync, rename, mode 0600). 0 or -errno. */
int zrtp_cache_save(const struct zrtp_cache *c, const char *path)
	__attribute__((warn_unused_result));

/* zrtp_cache_save in two steps, so that a caller can let go of its lock
 * before the slow part: the file's bytes (NULL and *err -EFBIG, -ENOMEM;
 * the image holds secrets: zrtp_cache_image_free wipes it), then their
 * atomic write. */
uint8_t *zrtp_cache_image(const struct zrtp_cache *c, size_t *len, int *err);
int zrtp_cache_write_image(const uint8_t *img, size_t len, const char *path)
	__attribute__((warn_unused_result));
void zrtp_cache_image_free(uint8_t *img, size_t len);

void zrtp_cache_own_zid(const struct zrtp_cache *c, uint8_t zid[12]);

/*
 * Look up a peer. An entry whose expiry is at or before now has its rs1
 * and rs2 treated as absent (has_rs1 = has_rs2 = false) but keeps the
 * verified flag off as well. Returns 0 or -ENOENT.
 */
int zrtp_cache_get(const struct zrtp_cache *c, const uint8_t zid[12],
		   uint64_t now, struct zrtp_cache_entry *out);

/* Insert or replace a peer's entry. 0 or -ENOMEM. */
int zrtp_cache_put(struct zrtp_cache *c, const struct zrtp_cache_entry *e);

/*
 * Names and pins (not secrets; the file keeps them beside the secrets).
 *
 * A SIP identity is "sip:" or "sips:" and then printable ASCII without
 * spaces, at most ZRTP_CACHE_ID_MAX bytes (the shim stores it normalised:
 * scheme, user, host[:port]). A display name is valid UTF-8 of printable
 * characters (no C0/C1 controls, no DEL), 1..ZRTP_CACHE_NAME_MAX bytes.
 */
bool zrtp_cache_id_valid(const char *id);
bool zrtp_cache_name_valid(const char *name);

/* Set the identity and/or name of a known peer (NULL: leave it; "":
 * clear it). 0, -ENOENT (no such peer) or -EINVAL (invalid). */
int zrtp_cache_set_names(struct zrtp_cache *c, const uint8_t zid[12],
			 const char *sip_id, const char *name);

/*
 * Pins: identity -> ZID, a table of its own kept sorted by identity
 * (binary search: a lookup per call costs log n). A pin names a ZID the
 * cache has an entry for; removing the entry removes its pins.
 * pin: insert or replace, 0, -EINVAL, -ENOENT (no entry for zid), -ENOMEM.
 * pin_find: 0 and *zid, or -ENOENT. unpin: 0 or -ENOENT.
 */
int zrtp_cache_pin(struct zrtp_cache *c, const char *sip_id,
		   const uint8_t zid[12]);
int zrtp_cache_pin_find(const struct zrtp_cache *c, const char *sip_id,
			uint8_t zid[12]);
int zrtp_cache_unpin(struct zrtp_cache *c, const char *sip_id);
size_t zrtp_cache_pin_count(const struct zrtp_cache *c);
const struct zrtp_cache_pin *zrtp_cache_pin_at(const struct zrtp_cache *c,
					       size_t i);

/* Remove a peer (and the pins to it). 0 or -ENOENT. */
int zrtp_cache_remove(struct zrtp_cache *c, const uint8_t zid[12]);

/*
 * The engine's view (struct zrtp_retained, zrtp/zrtp.h), for callers that
 * implement zrtp_callbacks.cache_get/cache_put on this table. now is wall
 * time in seconds; put turns the engine's ttl into an expiry (ttl 0 keeps
 * the stored one). Same returns as zrtp_cache_get / zrtp_cache_put.
 *
 * put applies in->put to the entry as it is now (the caller holds the
 * lock around the table, so concurrent handshakes' puts are serialised):
 * ZRTP_PUT_NEW keeps, of the stored rs1, rs2 and the new secret, the
 * newest (highest generation; among equals the greatest bytes, so both
 * peers pick the same whatever order their handshakes end in) as rs1, and
 * as rs2 the newest of an older generation (else the next of the same);
 * verified stays set only if it was and the handshake says so.
 * ZRTP_PUT_REPLACE: rs1 <- new, rs2 <- the stored rs1. ZRTP_PUT_FLAGS:
 * verified only. ZRTP_PUT_STORE: as given. Secrets let go of are kept as
 * recent (zrtp_cache_recent_retained).
 */
struct zrtp_retained;
int zrtp_cache_get_retained(const struct zrtp_cache *c, const uint8_t zid[12],
			    uint64_t now, struct zrtp_retained *out);
int zrtp_cache_put_retained(struct zrtp_cache *c, const uint8_t zid[12],
			    uint64_t now, const struct zrtp_retained *in);
/* zrtp_callbacks.cache_recent on this table: the unexpired rs1 and rs2
 * and the secrets let go of since now - ZRTP_CACHE_RECENT_S; *young: the
 * first secret with this peer was stored since then. */
size_t zrtp_cache_recent_retained(const struct zrtp_cache *c,
				  const uint8_t zid[12], uint64_t now,
				  uint8_t out[][32], size_t cap, bool *young);

size_t zrtp_cache_count(const struct zrtp_cache *c);
/* The i-th entry (0 <= i < count), in no particular order. */
const struct zrtp_cache_entry *zrtp_cache_at(const struct zrtp_cache *c,
					     size_t i);

#endif
