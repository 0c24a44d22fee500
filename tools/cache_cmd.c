/*
 * zrtpshim cache: the retained-secret caches of the shim (zrtp/cache.h).
 *
 *   zrtpshim cache list                 every cache file, our ZID, its peers
 *   zrtpshim cache verify ZID...        mark the SAS with these peers verified
 *   zrtpshim cache verify --sas SAS     ... the peers of streams with this SAS
 *                                       (from the status files)
 *   zrtpshim cache unverify ZID...      clear the flag
 *   zrtpshim cache forget ZID...        drop the peer (rs1, rs2, flag,
 *                                       names) and unpin its identities
 *   zrtpshim cache name ZID NAME        set the peer's display name
 *   zrtpshim cache unpin IDENTITY...    drop the pin of a SIP identity
 *   options: --dir DIR (state directory), --file F (one cache file only),
 *            --force (edit a cache a running client holds)
 *
 * Where the caches are: each process under the shim takes the first free
 * slot of $ZRTPSHIM_DIR/cache, cache-1, ... cache-15 (an flock on
 * cache[-N].lock held for its lifetime: shim/cache.c), so two clients on
 * one host have two ZIDs. verify edits every cache of the directory that
 * knows the peer.
 *
 * Marking the SAS verified (RFC 6189 §7.1): after both users read the SAS
 * aloud and it matched, each side runs `zrtpshim cache verify
 * <peer ZID>` (the ZID is in the log line "event: secure ... peer-zid=" and
 * in `zrtpshim status`). The flag persists in the cache file; in the next
 * call with rs1 continuity, both sides then report verified=yes (the
 * engine also requires the peer's V flag, §5.7: both sides must mark it).
 *
 * Names and pins: the shim stores, with each peer ZID, the SIP identity
 * and display name of the call that completed ZRTP with it, and pins the
 * identity to the ZID. A later call with that identity must then be ZRTP
 * with that ZID, under either policy (pin-alarm otherwise). When a peer
 * really changed its ZID (a new device, a lost cache), `unpin` its
 * identity or `forget` its old ZID, after comparing the SAS.
 *
 * A running client keeps its cache in memory and rewrites the file from
 * memory after its next key agreement, which would undo an edit made
 * meanwhile (and an edit racing its write could lose its new rs1). So a
 * cache whose lock is held is refused unless --force: mark the SAS after
 * the client has exited, or restart it after marking.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/statedir.h"
#include "tools/cmds.h"
#include "zrtp/cache.h"

#define MAX_ZIDS 32
#define MAX_SLOTS STATEDIR_CACHE_SLOTS

enum op { OP_LIST, OP_VERIFY, OP_UNVERIFY, OP_FORGET, OP_NAME, OP_UNPIN };

static void cache_usage(FILE *f)
{
	fprintf(f,
		"usage: zrtpshim cache list\n"
		"       zrtpshim cache verify PEER-ZID... | --sas SAS\n"
		"       zrtpshim cache unverify PEER-ZID...\n"
		"       zrtpshim cache forget PEER-ZID...   (also unpins it)\n"
		"       zrtpshim cache name PEER-ZID NAME\n"
		"       zrtpshim cache unpin SIP-IDENTITY...\n"
		"options: --dir DIR   state directory (default $ZRTPSHIM_DIR, dir in\n"
		"                     the config file, $XDG_STATE_HOME/zrtpshim,\n"
		"                     ~/.local/state/zrtpshim; zrtpshim(7))\n"
		"         --file F    one cache file instead of every cache in DIR\n"
		"         --force     edit a cache a running client holds (it may\n"
		"                     undo the change at its next call)\n"
		"After you and your peer compared the SAS aloud and it matched, run\n"
		"`zrtpshim cache verify PEER-ZID` (the ZID is in the log line\n"
		"\"event: secure ... peer-zid=\" and in `zrtpshim status`), or\n"
		"`zrtpshim cache verify --sas SAS`. Your peer does the same with yours.\n"
		"The next call with the same peer then reports verified=yes.\n"
		"A SIP identity that completed ZRTP is pinned to the peer's ZID\n"
		"(`cache list` shows pins): a later call with it that is not ZRTP,\n"
		"or is ZRTP with another ZID, raises a pin alarm and never goes\n"
		"clear. If the peer really changed (new device, lost cache), compare\n"
		"the SAS, then `zrtpshim cache unpin SIP-IDENTITY` (or forget its old\n"
		"ZID).\n");
}

static bool parse_zid(const char *s, uint8_t zid[12])
{
	size_t got = 0;

	return strlen(s) == 24 &&
	       sodium_hex2bin(zid, 12, s, 24, NULL, &got, NULL) == 0 &&
	       got == 12;
}

static void zid_hex(const uint8_t zid[12], char out[25])
{
	sodium_bin2hex(out, 25, zid, 12);
}

/* Is the cache's lock file held by a running client? */
static bool in_use(const char *cache_path)
{
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof lock, "%s.lock", cache_path);
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	if (!held)
		flock(fd, LOCK_UN);
	close(fd);
	return held;
}

/* The peer ZIDs of streams whose SAS is sas, from the status files. */
static size_t zids_from_sas(const char *dir, const char *sas,
			    uint8_t zids[][12], size_t max)
{
	char sdir[PATH_MAX + 16];
	snprintf(sdir, sizeof sdir, "%s/status", dir);
	DIR *d = opendir(sdir);
	size_t n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	char want[64];
	snprintf(want, sizeof want, "\"sas\":\"%s\"", sas);
	while ((e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX + 300];
		snprintf(path, sizeof path, "%s/%s", sdir, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		char line[4096];
		while (fgets(line, sizeof line, f) && n < max) {
			if (!strstr(line, want))
				continue;
			const char *z = strstr(line, "\"peer_zid\":\"");
			uint8_t zid[12];
			char hexz[25];
			if (!z)
				continue;
			snprintf(hexz, sizeof hexz, "%.24s", z + 12);
			if (!parse_zid(hexz, zid))
				continue;
			bool dup = false;
			for (size_t k = 0; k < n; k++)
				dup |= memcmp(zids[k], zid, 12) == 0;
			if (!dup)
				memcpy(zids[n++], zid, 12);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void list_one(const char *path, const struct zrtp_cache *c)
{
	uint8_t own[12];
	char h[25];
	zrtp_cache_own_zid(c, own);
	zid_hex(own, h);
	printf("%s%s\n  our ZID %s\n", path, in_use(path) ? " (in use)" : "", h);
	size_t n = zrtp_cache_count(c);
	if (n == 0)
		printf("  no peers\n");
	for (size_t i = 0; i < n; i++) {
		const struct zrtp_cache_entry *e = zrtp_cache_at(c, i);
		zid_hex(e->zid, h);
		char exp[40];
		if (e->expiry == ZRTP_CACHE_NEVER) {
			snprintf(exp, sizeof exp, "never");
		} else {
			time_t t = (time_t)e->expiry;
			struct tm tm;
			strftime(exp, sizeof exp, "%Y-%m-%d %H:%M:%S",
				 localtime_r(&t, &tm));
		}
		printf("  peer %s  verified %-3s  rs1 %-3s rs2 %-3s expires %s\n",
		       h, e->verified ? "yes" : "no", e->has_rs1 ? "yes" : "no",
		       e->has_rs2 ? "yes" : "no", exp);
		if (e->sip_id[0] || e->name[0])
			printf("       identity %s  name %s\n",
			       e->sip_id[0] ? e->sip_id : "-",
			       e->name[0] ? e->name : "-");
	}
	size_t np = zrtp_cache_pin_count(c);
	for (size_t i = 0; i < np; i++) {
		const struct zrtp_cache_pin *p = zrtp_cache_pin_at(c, i);
		zid_hex(p->zid, h);
		printf("  pin %s -> %s\n", p->sip_id, h);
	}
}

int zrtpshim_cmd_cache(int argc, char **argv)
{
	if (argc < 1) {
		cache_usage(stderr);
		return 2;
	}
	enum op op;
	if (strcmp(argv[0], "list") == 0)
		op = OP_LIST;
	else if (strcmp(argv[0], "verify") == 0)
		op = OP_VERIFY;
	else if (strcmp(argv[0], "unverify") == 0)
		op = OP_UNVERIFY;
	else if (strcmp(argv[0], "forget") == 0)
		op = OP_FORGET;
	else if (strcmp(argv[0], "name") == 0)
		op = OP_NAME;
	else if (strcmp(argv[0], "unpin") == 0)
		op = OP_UNPIN;
	else if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		cache_usage(stdout);
		return 0;
	} else {
		fprintf(stderr, "zrtpshim cache: unknown subcommand %s\n", argv[0]);
		cache_usage(stderr);
		return 2;
	}

	char dir[PATH_MAX] = "";
	const char *file = NULL, *sas = NULL;
	bool force = false;
	uint8_t zids[MAX_ZIDS][12];
	size_t nz = 0;
	const char *new_name = NULL;
	const char *ids[MAX_ZIDS];
	size_t nid = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--dir") == 0 && i + 1 < argc) {
			snprintf(dir, sizeof dir, "%s", argv[++i]);
		} else if (strcmp(a, "--file") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(a, "--sas") == 0 && i + 1 < argc &&
			   op == OP_VERIFY) {
			sas = argv[++i];
		} else if (strcmp(a, "--force") == 0) {
			force = true;
		} else if (op == OP_UNPIN && a[0] != '-' && nid < MAX_ZIDS) {
			ids[nid++] = a;
		} else if (op == OP_NAME && nz == 1 && !new_name) {
			if (!zrtp_cache_name_valid(a)) {
				fprintf(stderr, "zrtpshim cache name: not a valid "
					"display name (printable UTF-8 without "
					"control characters, 1 to %d bytes)\n",
					ZRTP_CACHE_NAME_MAX);
				return 2;
			}
			new_name = a;
		} else if (op != OP_LIST && op != OP_UNPIN && a[0] != '-' &&
			   nz < MAX_ZIDS && !(op == OP_NAME && nz == 1)) {
			if (!parse_zid(a, zids[nz])) {
				fprintf(stderr, "zrtpshim cache: %s is not a ZID "
					"(24 hex digits)\n", a);
				return 2;
			}
			nz++;
		} else {
			fprintf(stderr, "zrtpshim cache: unexpected argument %s\n",
				a);
			cache_usage(stderr);
			return 2;
		}
	}
	if (!dir[0] && !file && zrtpshim_state_dir("cache", dir, sizeof dir) < 0) {
		fprintf(stderr, "zrtpshim cache: no state directory (set "
			"ZRTPSHIM_DIR or HOME, or give --file)\n");
		return 2;
	}
	if (sas) {
		nz += zids_from_sas(dir, sas, zids + nz, MAX_ZIDS - nz);
		if (nz == 0) {
			fprintf(stderr, "zrtpshim cache: no stream with SAS %s "
				"in %s/status\n", sas, dir);
			return 1;
		}
	}
	if (op == OP_UNPIN && nid == 0) {
		fprintf(stderr, "zrtpshim cache unpin: which SIP identity? (as "
			"`zrtpshim cache list` shows it, e.g. sip:bob@example.org)\n");
		return 2;
	}
	if (op != OP_LIST && op != OP_UNPIN && nz == 0) {
		fprintf(stderr, "zrtpshim cache %s: which peer? give its ZID\n",
			argv[0]);
		return 2;
	}
	if (op == OP_NAME && !new_name) {
		fprintf(stderr, "zrtpshim cache name: give the ZID and the name\n");
		return 2;
	}

	/* The cache files to look at. */
	char paths[MAX_SLOTS][PATH_MAX + 16];
	size_t np = 0;
	if (file) {
		snprintf(paths[np++], sizeof paths[0], "%s", file);
	} else {
		for (int s = 0; s < MAX_SLOTS; s++) {
			if (statedir_cache_path(paths[np], sizeof paths[0], dir,
						s) == 0 &&
			    access(paths[np], F_OK) == 0)
				np++;
		}
	}
	if (np == 0) {
		fprintf(stderr, "zrtpshim cache: no cache file in %s\n", dir);
		return 1;
	}

	int rc = 0;
	bool found[MAX_ZIDS] = { 0 };
	for (size_t p = 0; p < np; p++) {
		struct zrtp_cache *c = NULL;
		char why[160] = "";
		int r = zrtp_cache_load(paths[p], &c, why, sizeof why);
		if (r < 0) {
			fprintf(stderr, "zrtpshim cache: %s: %s\n", paths[p],
				r == -EBADMSG ? why : strerror(-r));
			rc = 1;
			continue;
		}
		if (op == OP_LIST) {
			list_one(paths[p], c);
			zrtp_cache_free(c);
			continue;
		}
		bool changed = false;
		bool here[MAX_ZIDS] = { 0 };
		for (size_t k = 0; k < nid; k++)
			if (zrtp_cache_unpin(c, ids[k]) == 0) {
				found[k] = here[k] = true;
				changed = true;
			}
		for (size_t k = 0; k < nz; k++) {
			struct zrtp_cache_entry e;
			bool have = false;
			for (size_t i = 0; i < zrtp_cache_count(c); i++)
				if (memcmp(zrtp_cache_at(c, i)->zid, zids[k], 12) == 0) {
					e = *zrtp_cache_at(c, i);
					have = true;
					break;
				}
			if (!have)
				continue;
			found[k] = here[k] = true;
			if (op == OP_FORGET) {
				changed |= zrtp_cache_remove(c, zids[k]) == 0;
			} else if (op == OP_NAME) {
				changed |= zrtp_cache_set_names(c, zids[k], NULL,
								new_name) == 0;
			} else {
				e.verified = op == OP_VERIFY;
				changed |= zrtp_cache_put(c, &e) == 0;
			}
			explicit_bzero(&e, sizeof e);
		}
		if (changed) {
			if (in_use(paths[p]) && !force) {
				fprintf(stderr, "zrtpshim cache: %s is in use by a "
					"running client, which would undo this "
					"change at its next call: quit it and run "
					"this again (or --force)\n", paths[p]);
				rc = 1;
			} else if ((r = zrtp_cache_save(c, paths[p])) < 0) {
				fprintf(stderr, "zrtpshim cache: saving %s: %s\n",
					paths[p], strerror(-r));
				rc = 1;
			} else {
				for (size_t k = 0; k < nid; k++)
					if (here[k])
						printf("%s: %s unpinned\n", paths[p],
						       ids[k]);
				for (size_t k = 0; k < nz; k++) {
					char h[25];
					zid_hex(zids[k], h);
					if (here[k] && op == OP_NAME)
						printf("%s: peer %s named %s\n",
						       paths[p], h, new_name);
					else if (here[k])
						printf("%s: peer %s %s\n", paths[p], h,
						       op == OP_VERIFY ? "verified" :
						       op == OP_UNVERIFY ? "not verified" :
						       "forgotten");
				}
			}
		}
		zrtp_cache_free(c);
	}
	for (size_t k = 0; k < nid; k++)
		if (!found[k]) {
			fprintf(stderr, "zrtpshim cache: %s is pinned in no "
				"cache\n", ids[k]);
			rc = 1;
		}
	for (size_t k = 0; k < nz && op != OP_LIST; k++)
		if (!found[k]) {
			char h[25];
			zid_hex(zids[k], h);
			fprintf(stderr, "zrtpshim cache: peer %s is in no cache "
				"(no call with it completed yet?)\n", h);
			rc = 1;
		}
	return rc;
}
