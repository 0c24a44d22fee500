/*
 * The retained-secret cache: the table (put/get/replace/remove, expiry per
 * RFC 6189 §4.9), the atomic save, and load against every truncation and
 * every single-byte corruption of a valid file. The corruption tests know
 * the file layout documented at the top of zrtp/cache.c, so they can
 * re-seal a doctored file with a good checksum and reach each field check.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tests/unit/suites.h"
#include "zrtp/cache.h"
#include "zrtp/zrtp.h"

/* The file layout, from zrtp/cache.c. */
#define HDR_LEN 32
#define REC_LEN 280
#define SUM_LEN 32
#define FILE_LEN(n) (HDR_LEN + (n) * REC_LEN + SUM_LEN)

static char tmpdir[64];
static char cpath[128];

static void dir_setup(void)
{
	strcpy(tmpdir, "/tmp/zs-cache-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(cpath, sizeof(cpath), "%s/zrtp.cache", tmpdir);
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	/* The read-only-directory test leaves modes to undo. */
	chmod(p, 0700);
	return remove(p);
}

static void dir_teardown(void)
{
	if (tmpdir[0] != '\0')
		nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

/* Names in tmpdir other than . and .. */
static int dir_count(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void make_entry(struct zrtp_cache_entry *e, uint8_t seed,
		       uint64_t expiry)
{
	memset(e, 0, sizeof(*e));
	memset(e->zid, seed, 12);
	e->zid[11] = (uint8_t)(seed ^ 0x5a);
	memset(e->rs1, seed + 1, 32);
	memset(e->rs2, seed + 2, 32);
	e->has_rs1 = true;
	e->has_rs2 = (seed & 1) != 0;
	if (!e->has_rs2)
		memset(e->rs2, 0, 32);
	e->verified = (seed & 2) != 0;
	e->expiry = expiry;
}

static void assert_entry_eq(const struct zrtp_cache_entry *a,
			    const struct zrtp_cache_entry *b)
{
	ck_assert_mem_eq(a->zid, b->zid, 12);
	ck_assert_int_eq(a->has_rs1, b->has_rs1);
	ck_assert_int_eq(a->has_rs2, b->has_rs2);
	ck_assert_int_eq(a->verified, b->verified);
	ck_assert_mem_eq(a->rs1, b->rs1, 32);
	ck_assert_mem_eq(a->rs2, b->rs2, 32);
	ck_assert_uint_eq(a->expiry, b->expiry);
	ck_assert_str_eq(a->sip_id, b->sip_id);
	ck_assert_str_eq(a->name, b->name);
}

static const uint8_t own[12] = { 'o', 'w', 'n', '-', 'z', 'i', 'd', 0, 1, 2,
				 3, 4 };

static struct zrtp_cache *three_entry_cache(void)
{
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry e;

	ck_assert_ptr_nonnull(c);
	make_entry(&e, 0x30, ZRTP_CACHE_NEVER);
	ck_assert_int_eq(zrtp_cache_put(c, &e), 0);
	make_entry(&e, 0x11, 1700000000);
	ck_assert_int_eq(zrtp_cache_put(c, &e), 0);
	make_entry(&e, 0x22, 0);
	e.has_rs1 = false;
	memset(e.rs1, 0, 32);
	ck_assert_int_eq(zrtp_cache_put(c, &e), 0);
	return c;
}

static uint8_t *slurp(const char *p, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void spew(const char *p, const uint8_t *b, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, len), (ssize_t)len);
	close(fd);
}

/* A valid 3-entry file image. */
static uint8_t *valid_image(size_t *len)
{
	struct zrtp_cache *c = three_entry_cache();

	ck_assert_int_eq(zrtp_cache_save(c, cpath), 0);
	zrtp_cache_free(c);
	return slurp(cpath, len);
}

static void reseal(uint8_t *b, size_t len)
{
	ck_assert_uint_ge(len, SUM_LEN);
	crypto_hash_sha256(b + len - SUM_LEN, b, len - SUM_LEN);
}

/* Load must fail with -EBADMSG, a reason, and *out untouched. */
static void assert_bad(const char *p, const char *reason_has)
{
	struct zrtp_cache *sentinel = (struct zrtp_cache *)&sentinel;
	struct zrtp_cache *out = sentinel;
	char why[128];
	int r;

	memset(why, 0, sizeof(why));
	r = zrtp_cache_load(p, &out, why, sizeof(why));
	ck_assert_msg(r == -EBADMSG, "load gave %d (%s), want -EBADMSG", r,
		      why);
	ck_assert_ptr_eq(out, sentinel);
	ck_assert_msg(why[0] != '\0', "no reason given");
	ck_assert_msg(strchr(why, '\n') == NULL, "reason not one line: %s",
		      why);
	if (reason_has != NULL)
		ck_assert_msg(strstr(why, reason_has) != NULL,
			      "reason \"%s\" lacks \"%s\"", why, reason_has);
}

static void assert_bad_image(const uint8_t *b, size_t len,
			     const char *reason_has)
{
	spew(cpath, b, len);
	assert_bad(cpath, reason_has);
}

/* --- the table ------------------------------------------------------------- */

START_TEST(test_own_zid)
{
	struct zrtp_cache *c = zrtp_cache_new(own);
	uint8_t z[12];

	ck_assert_ptr_nonnull(c);
	memset(z, 0xee, sizeof(z));
	zrtp_cache_own_zid(c, z);
	ck_assert_mem_eq(z, own, 12);
	ck_assert_uint_eq(zrtp_cache_count(c), 0);
	ck_assert_ptr_null(zrtp_cache_at(c, 0));
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_put_get)
{
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry e, g, other;

	make_entry(&e, 7, ZRTP_CACHE_NEVER);
	make_entry(&other, 8, ZRTP_CACHE_NEVER);
	ck_assert_int_eq(zrtp_cache_get(c, e.zid, 100, &g), -ENOENT);
	ck_assert_int_eq(zrtp_cache_put(c, &e), 0);
	ck_assert_uint_eq(zrtp_cache_count(c), 1);
	memset(&g, 0xcc, sizeof(g));
	ck_assert_int_eq(zrtp_cache_get(c, e.zid, 100, &g), 0);
	assert_entry_eq(&g, &e);
	ck_assert_int_eq(zrtp_cache_get(c, other.zid, 100, &g), -ENOENT);
	zrtp_cache_free(c);
}
END_TEST

/* Secrets flagged absent are stored as zeros, whatever the caller left. */
START_TEST(test_put_absent_secret_zeroed)
{
	static const uint8_t zero[32];
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry e, g;

	make_entry(&e, 9, ZRTP_CACHE_NEVER);
	e.has_rs1 = false;
	e.has_rs2 = false;
	memset(e.rs1, 0xab, 32);
	memset(e.rs2, 0xcd, 32);
	ck_assert_int_eq(zrtp_cache_put(c, &e), 0);
	ck_assert_int_eq(zrtp_cache_get(c, e.zid, 0, &g), 0);
	ck_assert(!g.has_rs1 && !g.has_rs2);
	ck_assert_mem_eq(g.rs1, zero, 32);
	ck_assert_mem_eq(g.rs2, zero, 32);
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_replace)
{
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry a, b, g;

	make_entry(&a, 3, 1000);
	ck_assert_int_eq(zrtp_cache_put(c, &a), 0);
	b = a;
	memset(b.rs1, 0x77, 32);
	memcpy(b.rs2, a.rs1, 32);
	b.has_rs2 = true;
	b.verified = !a.verified;
	b.expiry = 2000;
	ck_assert_int_eq(zrtp_cache_put(c, &b), 0);
	ck_assert_uint_eq(zrtp_cache_count(c), 1);
	ck_assert_int_eq(zrtp_cache_get(c, a.zid, 0, &g), 0);
	assert_entry_eq(&g, &b);
	/* Put of the table's own storage (aliasing) is a no-op replace. */
	ck_assert_int_eq(zrtp_cache_put(c, zrtp_cache_at(c, 0)), 0);
	ck_assert_uint_eq(zrtp_cache_count(c), 1);
	ck_assert_int_eq(zrtp_cache_get(c, a.zid, 0, &g), 0);
	assert_entry_eq(&g, &b);
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_remove)
{
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry a, b, g;

	make_entry(&a, 1, ZRTP_CACHE_NEVER);
	make_entry(&b, 2, ZRTP_CACHE_NEVER);
	ck_assert_int_eq(zrtp_cache_put(c, &a), 0);
	ck_assert_int_eq(zrtp_cache_put(c, &b), 0);
	ck_assert_int_eq(zrtp_cache_remove(c, a.zid), 0);
	ck_assert_uint_eq(zrtp_cache_count(c), 1);
	ck_assert_int_eq(zrtp_cache_get(c, a.zid, 0, &g), -ENOENT);
	ck_assert_int_eq(zrtp_cache_get(c, b.zid, 0, &g), 0);
	assert_entry_eq(&g, &b);
	ck_assert_int_eq(zrtp_cache_remove(c, a.zid), -ENOENT);
	ck_assert_int_eq(zrtp_cache_remove(c, b.zid), 0);
	ck_assert_uint_eq(zrtp_cache_count(c), 0);
	ck_assert_ptr_null(zrtp_cache_at(c, 0));
	/* Removed then re-added comes back with the new contents. */
	a.expiry = 5;
	ck_assert_int_eq(zrtp_cache_put(c, &a), 0);
	ck_assert_int_eq(zrtp_cache_get(c, a.zid, 0, &g), 0);
	assert_entry_eq(&g, &a);
	zrtp_cache_free(c);
}
END_TEST

/* Many peers, inserted in scrambled order, some removed: at() enumerates
 * exactly the live set, each once, and get finds every one. */
START_TEST(test_count_at)
{
	enum { N = 300 };
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry e, g;
	int seen[N];
	size_t i;
	int k;

	for (k = 0; k < N; k++) {
		int id = (k * 7919) % N;

		make_entry(&e, (uint8_t)id, (uint64_t)id + 1000);
		e.zid[0] = (uint8_t)(id >> 8);
		e.zid[1] = (uint8_t)id;
		ck_assert_int_eq(zrtp_cache_put(c, &e), 0);
	}
	ck_assert_uint_eq(zrtp_cache_count(c), N);
	for (k = 0; k < N; k += 3) {
		make_entry(&e, (uint8_t)k, 0);
		e.zid[0] = (uint8_t)(k >> 8);
		e.zid[1] = (uint8_t)k;
		ck_assert_int_eq(zrtp_cache_remove(c, e.zid), 0);
	}
	ck_assert_uint_eq(zrtp_cache_count(c), N - (N + 2) / 3);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < zrtp_cache_count(c); i++) {
		const struct zrtp_cache_entry *p = zrtp_cache_at(c, i);
		int id;

		ck_assert_ptr_nonnull(p);
		id = p->zid[0] << 8 | p->zid[1];
		ck_assert_int_lt(id, N);
		ck_assert_int_ne(id % 3, 0);
		ck_assert_int_eq(seen[id]++, 0);
		ck_assert_uint_eq(p->expiry, (uint64_t)id + 1000);
		ck_assert_int_eq(zrtp_cache_get(c, p->zid, 0, &g), 0);
		assert_entry_eq(&g, p);
	}
	ck_assert_ptr_null(zrtp_cache_at(c, zrtp_cache_count(c)));
	zrtp_cache_free(c);
}
END_TEST

/* RFC 6189 §4.9: expired at or before now. */
START_TEST(test_expiry)
{
	static const uint8_t zero[32];
	const uint64_t now = 1700000000;
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry e[3], g;
	int k;

	for (k = 0; k < 3; k++) {
		make_entry(&e[k], (uint8_t)(0x41 + 2 * k), now - 1 + (uint64_t)k);
		e[k].has_rs2 = true;
		e[k].verified = true;
		ck_assert_int_eq(zrtp_cache_put(c, &e[k]), 0);
	}
	for (k = 0; k < 2; k++) {  /* now - 1 and now: expired */
		ck_assert_int_eq(zrtp_cache_get(c, e[k].zid, now, &g), 0);
		ck_assert_mem_eq(g.zid, e[k].zid, 12);
		ck_assert(!g.has_rs1);
		ck_assert(!g.has_rs2);
		ck_assert(!g.verified);
		ck_assert_mem_eq(g.rs1, zero, 32);
		ck_assert_mem_eq(g.rs2, zero, 32);
		ck_assert_uint_eq(g.expiry, e[k].expiry);
		/* The table itself still holds the entry as stored. */
		ck_assert_uint_eq(zrtp_cache_count(c), 3);
	}
	ck_assert_int_eq(zrtp_cache_get(c, e[2].zid, now, &g), 0);
	assert_entry_eq(&g, &e[2]);
	/* Earlier, the first one is still live. */
	ck_assert_int_eq(zrtp_cache_get(c, e[0].zid, now - 2, &g), 0);
	assert_entry_eq(&g, &e[0]);

	/* Never means never, even at the end of time. */
	e[0].expiry = ZRTP_CACHE_NEVER;
	ck_assert_int_eq(zrtp_cache_put(c, &e[0]), 0);
	ck_assert_int_eq(zrtp_cache_get(c, e[0].zid, UINT64_MAX, &g), 0);
	assert_entry_eq(&g, &e[0]);
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_null_args)
{
	struct zrtp_cache *c = zrtp_cache_new(own);
	struct zrtp_cache_entry e, g;
	uint8_t z[12];

	make_entry(&e, 1, 0);
	ck_assert_ptr_null(zrtp_cache_new(NULL));
	zrtp_cache_free(NULL);
	ck_assert_uint_eq(zrtp_cache_count(NULL), 0);
	ck_assert_ptr_null(zrtp_cache_at(NULL, 0));
	ck_assert_int_eq(zrtp_cache_get(NULL, e.zid, 0, &g), -EINVAL);
	ck_assert_int_eq(zrtp_cache_get(c, NULL, 0, &g), -EINVAL);
	ck_assert_int_eq(zrtp_cache_get(c, e.zid, 0, NULL), -EINVAL);
	ck_assert_int_eq(zrtp_cache_put(NULL, &e), -EINVAL);
	ck_assert_int_eq(zrtp_cache_put(c, NULL), -EINVAL);
	ck_assert_int_eq(zrtp_cache_remove(NULL, e.zid), -EINVAL);
	ck_assert_int_eq(zrtp_cache_remove(c, NULL), -EINVAL);
	memset(z, 0xff, sizeof(z));
	zrtp_cache_own_zid(NULL, z);
	ck_assert_mem_eq(z, (uint8_t[12]){ 0 }, 12);
	zrtp_cache_own_zid(c, NULL);
	ck_assert_int_eq(zrtp_cache_save(NULL, cpath), -EINVAL);
	ck_assert_int_eq(zrtp_cache_save(c, NULL), -EINVAL);
	ck_assert_int_eq(zrtp_cache_save(c, ""), -ENOENT);
	ck_assert_int_eq(zrtp_cache_load(NULL, &c, NULL, 0), -EINVAL);
	ck_assert_int_eq(zrtp_cache_load(cpath, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(dir_count(), 0);
	zrtp_cache_free(c);
}
END_TEST

/* --- save and load --------------------------------------------------------- */

/* The stored entry, as at() shows it: get would hide expired secrets. */
static const struct zrtp_cache_entry *find_raw(const struct zrtp_cache *c,
					       const uint8_t zid[12])
{
	size_t i;

	for (i = 0; i < zrtp_cache_count(c); i++)
		if (memcmp(zrtp_cache_at(c, i)->zid, zid, 12) == 0)
			return zrtp_cache_at(c, i);
	return NULL;
}

static void assert_same_cache(const struct zrtp_cache *a,
			      const struct zrtp_cache *b)
{
	uint8_t za[12], zb[12];
	size_t i;

	zrtp_cache_own_zid(a, za);
	zrtp_cache_own_zid(b, zb);
	ck_assert_mem_eq(za, zb, 12);
	ck_assert_uint_eq(zrtp_cache_count(a), zrtp_cache_count(b));
	for (i = 0; i < zrtp_cache_count(a); i++) {
		const struct zrtp_cache_entry *ea = zrtp_cache_at(a, i);
		const struct zrtp_cache_entry *eb = find_raw(b, ea->zid);

		ck_assert_ptr_nonnull(eb);
		assert_entry_eq(ea, eb);
	}
}

START_TEST(test_save_load_roundtrip)
{
	struct zrtp_cache *c = three_entry_cache(), *l = NULL;
	char why[128] = "unset";
	struct stat st;
	mode_t old = umask(0);

	ck_assert_int_eq(zrtp_cache_save(c, cpath), 0);
	umask(old);
	ck_assert_int_eq(stat(cpath, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq((size_t)st.st_size, FILE_LEN(3));
	ck_assert_int_eq(dir_count(), 1);  /* no temp file left behind */

	ck_assert_int_eq(zrtp_cache_load(cpath, &l, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_ptr_nonnull(l);
	assert_same_cache(c, l);
	assert_same_cache(l, c);
	zrtp_cache_free(l);
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_save_load_empty)
{
	static const uint8_t z2[12] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8 };
	struct zrtp_cache *c = zrtp_cache_new(z2), *l = NULL;
	uint8_t z[12];

	ck_assert_int_eq(zrtp_cache_save(c, cpath), 0);
	ck_assert_int_eq(zrtp_cache_load(cpath, &l, NULL, 0), 0);
	ck_assert_uint_eq(zrtp_cache_count(l), 0);
	zrtp_cache_own_zid(l, z);
	ck_assert_mem_eq(z, z2, 12);
	zrtp_cache_free(l);
	zrtp_cache_free(c);
}
END_TEST

/* A relative path saves next to the cwd (the directory fsync uses "."). */
START_TEST(test_save_relative_path)
{
	struct zrtp_cache *c = three_entry_cache(), *l = NULL;
	char cwd[4096];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_int_eq(zrtp_cache_save(c, "rel.cache"), 0);
	ck_assert_int_eq(zrtp_cache_load("rel.cache", &l, NULL, 0), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	assert_same_cache(c, l);
	ck_assert_int_eq(dir_count(), 1);
	zrtp_cache_free(l);
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_save_replaces)
{
	struct zrtp_cache *a = zrtp_cache_new(own), *b = three_entry_cache();
	struct zrtp_cache *l = NULL;
	struct zrtp_cache_entry e;
	struct stat st1, st2;

	make_entry(&e, 0x99, 42);
	ck_assert_int_eq(zrtp_cache_put(a, &e), 0);
	ck_assert_int_eq(zrtp_cache_save(a, cpath), 0);
	/* An existing file with a looser mode is replaced, not rewritten. */
	ck_assert_int_eq(chmod(cpath, 0644), 0);
	ck_assert_int_eq(stat(cpath, &st1), 0);
	ck_assert_int_eq(zrtp_cache_save(b, cpath), 0);
	ck_assert_int_eq(stat(cpath, &st2), 0);
	ck_assert_uint_ne(st1.st_ino, st2.st_ino);
	ck_assert_uint_eq(st2.st_mode & 07777, 0600);
	ck_assert_int_eq(dir_count(), 1);
	ck_assert_int_eq(zrtp_cache_load(cpath, &l, NULL, 0), 0);
	assert_same_cache(b, l);
	zrtp_cache_free(l);
	zrtp_cache_free(a);
	zrtp_cache_free(b);
}
END_TEST

/* A save that fails mid-write (file size limit: works as root too) leaves
 * the old file byte-for-byte intact and no temp file behind. */
START_TEST(test_save_failure_keeps_old)
{
	struct zrtp_cache *a = zrtp_cache_new(own), *b = three_entry_cache();
	struct zrtp_cache_entry e;
	struct rlimit old_rl, rl;
	uint8_t *before, *after;
	size_t blen, alen;
	void (*old_sig)(int);
	int r;

	make_entry(&e, 0x99, 42);
	ck_assert_int_eq(zrtp_cache_put(a, &e), 0);
	ck_assert_int_eq(zrtp_cache_save(a, cpath), 0);
	before = slurp(cpath, &blen);
	ck_assert_uint_eq(blen, FILE_LEN(1));

	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old_rl), 0);
	rl = old_rl;
	rl.rlim_cur = FILE_LEN(1) + 10;  /* room for a, not for b */
	old_sig = signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	r = zrtp_cache_save(b, cpath);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old_rl), 0);
	signal(SIGXFSZ, old_sig);
	ck_assert_int_eq(r, -EFBIG);

	after = slurp(cpath, &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(after, before, blen);
	ck_assert_int_eq(dir_count(), 1);
	free(before);
	free(after);
	zrtp_cache_free(a);
	zrtp_cache_free(b);
}
END_TEST

/* Renaming onto a directory fails; the temp file must not stay behind. */
START_TEST(test_save_onto_directory)
{
	struct zrtp_cache *c = three_entry_cache();
	int r;

	ck_assert_int_eq(mkdir(cpath, 0700), 0);
	r = zrtp_cache_save(c, cpath);
	ck_assert_msg(r == -EISDIR || r == -ENOTDIR || r == -EEXIST ||
		      r == -ENOTEMPTY, "save onto a directory gave %d", r);
	ck_assert_int_eq(dir_count(), 1);
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_save_missing_dir)
{
	struct zrtp_cache *c = three_entry_cache();
	char p[160];

	snprintf(p, sizeof(p), "%s/nope/zrtp.cache", tmpdir);
	ck_assert_int_eq(zrtp_cache_save(c, p), -ENOENT);
	ck_assert_int_eq(dir_count(), 0);
	zrtp_cache_free(c);
}
END_TEST

/* Only meaningful when permissions bind us (not root; CI runs as root). */
START_TEST(test_save_readonly_dir)
{
	struct zrtp_cache *a = three_entry_cache(), *b = zrtp_cache_new(own);
	uint8_t *before, *after;
	size_t blen, alen;

	ck_assert_int_eq(zrtp_cache_save(a, cpath), 0);
	before = slurp(cpath, &blen);
	ck_assert_int_eq(chmod(tmpdir, 0500), 0);
	if (geteuid() != 0)
		ck_assert_int_eq(zrtp_cache_save(b, cpath), -EACCES);
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);
	after = slurp(cpath, &alen);
	if (geteuid() != 0) {
		ck_assert_uint_eq(alen, blen);
		ck_assert_mem_eq(after, before, blen);
	}
	ck_assert_int_eq(dir_count(), 1);
	free(before);
	free(after);
	zrtp_cache_free(a);
	zrtp_cache_free(b);
}
END_TEST

/* --- corrupt files --------------------------------------------------------- */

START_TEST(test_load_missing)
{
	struct zrtp_cache *sentinel = (struct zrtp_cache *)&sentinel;
	struct zrtp_cache *out = sentinel;
	char why[128];

	ck_assert_int_eq(zrtp_cache_load(cpath, &out, why, sizeof(why)),
			 -ENOENT);
	ck_assert_ptr_eq(out, sentinel);
	/* A tiny reason buffer is fine, and so is none. */
	ck_assert_int_eq(zrtp_cache_load(cpath, &out, why, 1), -ENOENT);
	ck_assert_str_eq(why, "");
	ck_assert_int_eq(zrtp_cache_load(cpath, &out, NULL, 0), -ENOENT);
	ck_assert_ptr_eq(out, sentinel);
}
END_TEST

START_TEST(test_load_truncated)
{
	size_t len, n;
	uint8_t *img = valid_image(&len);

	ck_assert_uint_eq(len, FILE_LEN(3));
	for (n = 0; n < len; n++) {
		spew(cpath, img, n);
		assert_bad(cpath, n == 0 ? "empty" : NULL);
	}
	/* The reasons say where: header, a record, the checksum. */
	assert_bad_image(img, 20, "header");
	assert_bad_image(img, HDR_LEN + REC_LEN + 5, "record 2 of 3");
	assert_bad_image(img, FILE_LEN(3) - 1, "checksum");
	free(img);
}
END_TEST

START_TEST(test_load_byte_flips)
{
	static const uint8_t masks[] = { 0x01, 0x10, 0x80, 0xff };
	size_t len, i, m;
	uint8_t *img = valid_image(&len);

	for (i = 0; i < len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			img[i] ^= masks[m];
			assert_bad_image(img, len, NULL);
			img[i] ^= masks[m];
		}
	}
	/* Unflipped, the same image still loads: the loop tested the flips. */
	spew(cpath, img, len);
	{
		struct zrtp_cache *l = NULL;

		ck_assert_int_eq(zrtp_cache_load(cpath, &l, NULL, 0), 0);
		ck_assert_uint_eq(zrtp_cache_count(l), 3);
		zrtp_cache_free(l);
	}
	free(img);
}
END_TEST

START_TEST(test_load_bad_magic)
{
	size_t len;
	uint8_t *img = valid_image(&len);

	img[0] = 'X';
	reseal(img, len);
	assert_bad_image(img, len, "magic");
	/* A foreign file shorter than the magic. */
	assert_bad_image((const uint8_t *)"hello", 5, NULL);
	free(img);
}
END_TEST

START_TEST(test_load_future_version)
{
	size_t len;
	uint8_t *img = valid_image(&len);

	img[11] = 3;
	reseal(img, len);
	assert_bad_image(img, len, "version 3");
	img[8] = 0x80;
	img[11] = 1;
	reseal(img, len);
	assert_bad_image(img, len, "version");
	free(img);
}
END_TEST

START_TEST(test_load_empty)
{
	spew(cpath, (const uint8_t *)"", 0);
	assert_bad(cpath, "empty");
}
END_TEST

START_TEST(test_load_directory)
{
	ck_assert_int_eq(mkdir(cpath, 0700), 0);
	assert_bad(cpath, "regular");
}
END_TEST

/* A FIFO must not block the loader waiting for a writer. */
START_TEST(test_load_fifo)
{
	ck_assert_int_eq(mkfifo(cpath, 0600), 0);
	assert_bad(cpath, "regular");
}
END_TEST

START_TEST(test_load_oversized_count)
{
	static const uint32_t counts[] = { 4, 1000, 190650, 0x7fffffff,
					   0xffffffff };
	size_t len, k;
	uint8_t *img = valid_image(&len);

	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		uint32_t n = counts[k];

		img[24] = (uint8_t)(n >> 24);
		img[25] = (uint8_t)(n >> 16);
		img[26] = (uint8_t)(n >> 8);
		img[27] = (uint8_t)n;
		reseal(img, len);
		assert_bad_image(img, len, NULL);
	}
	assert_bad_image(img, len, "limit");
	/* Fewer records than the file holds: trailing bytes. */
	img[27] = 2;
	img[24] = img[25] = img[26] = 0;
	reseal(img, len);
	assert_bad_image(img, len, "trailing");
	free(img);
}
END_TEST

/* Over the size bound: refused from fstat, without reading 17 MiB. */
START_TEST(test_load_too_large)
{
	int fd = open(cpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "ZSHCACHE", 8), 8);
	ck_assert_int_eq(ftruncate(fd, 17 * 1024 * 1024), 0);
	close(fd);
	assert_bad(cpath, "too large");
}
END_TEST

/* Fields behind a good checksum: each check must stand on its own. */
START_TEST(test_load_bad_fields)
{
	size_t len;
	uint8_t *img = valid_image(&len), *work = malloc(len);
	uint8_t *r0 = NULL, *r1 = NULL;

	ck_assert_ptr_nonnull(work);
	/* Unknown flag bit in record 2. */
	memcpy(work, img, len);
	work[HDR_LEN + REC_LEN + 15] |= 0x08;
	reseal(work, len);
	assert_bad_image(work, len, "record 2: unknown flags");
	memcpy(work, img, len);
	work[HDR_LEN + 2 * REC_LEN + 12] = 0x80;
	reseal(work, len);
	assert_bad_image(work, len, "record 3: unknown flags");

	/* Duplicate ZID: record 2 takes record 1's ZID. */
	memcpy(work, img, len);
	r0 = work + HDR_LEN;
	r1 = r0 + REC_LEN;
	memcpy(r1, r0, 12);
	reseal(work, len);
	assert_bad_image(work, len, "duplicate");

	/* Out of order: swap records 1 and 3. */
	memcpy(work, img, len);
	memcpy(work + HDR_LEN, img + HDR_LEN + 2 * REC_LEN, REC_LEN);
	memcpy(work + HDR_LEN + 2 * REC_LEN, img + HDR_LEN, REC_LEN);
	reseal(work, len);
	assert_bad_image(work, len, "order");

	/* Secret bytes behind a clear flag. Find the record without rs1 and
	 * one without rs2 (three_entry_cache has both kinds). */
	{
		int found1 = 0, found2 = 0, i;

		for (i = 0; i < 3; i++) {
			uint8_t *r = img + HDR_LEN + i * REC_LEN;

			if (!(r[15] & 1) && !found1) {
				memcpy(work, img, len);
				work[HDR_LEN + i * REC_LEN + 16 + 31] = 1;
				reseal(work, len);
				assert_bad_image(work, len, "rs1");
				found1 = 1;
			}
			if (!(r[15] & 2) && !found2) {
				memcpy(work, img, len);
				work[HDR_LEN + i * REC_LEN + 48] = 1;
				reseal(work, len);
				assert_bad_image(work, len, "rs2");
				found2 = 1;
			}
		}
		ck_assert(found1 && found2);
	}
	free(work);
	free(img);
}
END_TEST

/* --- names and pins ---------------------------------------------------------- */

START_TEST(test_names_valid)
{
	char longid[ZRTP_CACHE_ID_MAX + 2], longname[ZRTP_CACHE_NAME_MAX + 2];

	ck_assert(zrtp_cache_id_valid("sip:bob@127.0.0.1:5062"));
	ck_assert(zrtp_cache_id_valid("sips:alice@example.com"));
	ck_assert(!zrtp_cache_id_valid("tel:+12345"));
	ck_assert(!zrtp_cache_id_valid("sip:"));
	ck_assert(!zrtp_cache_id_valid("sip:bob @host"));
	ck_assert(!zrtp_cache_id_valid("sip:bob\n@host"));
	ck_assert(!zrtp_cache_id_valid("sip:b\xc3\xa9@host"));
	ck_assert(!zrtp_cache_id_valid(""));
	ck_assert(!zrtp_cache_id_valid(NULL));
	memset(longid, 'a', sizeof longid);
	memcpy(longid, "sip:", 4);
	longid[ZRTP_CACHE_ID_MAX] = '\0';
	ck_assert(zrtp_cache_id_valid(longid));
	longid[ZRTP_CACHE_ID_MAX] = 'a';
	longid[ZRTP_CACHE_ID_MAX + 1] = '\0';
	ck_assert(!zrtp_cache_id_valid(longid));

	ck_assert(zrtp_cache_name_valid("Bob"));
	ck_assert(zrtp_cache_name_valid("Zo\xc3\xab \"Z\" O'Neil"));
	ck_assert(zrtp_cache_name_valid("\xe6\x97\xa5\xe6\x9c\xac"));
	ck_assert(!zrtp_cache_name_valid(""));
	ck_assert(!zrtp_cache_name_valid("Bob\nevent: secure"));
	ck_assert(!zrtp_cache_name_valid("Bob\x1b[2J"));
	ck_assert(!zrtp_cache_name_valid("Bob\x7f"));
	ck_assert(!zrtp_cache_name_valid("\xc2\x85"));        /* NEL (C1) */
	ck_assert(!zrtp_cache_name_valid("\xe2\x80\xae" "evil")); /* RLO */
	ck_assert(!zrtp_cache_name_valid("\xc3"));            /* cut short */
	ck_assert(!zrtp_cache_name_valid("\xc0\xaf"));        /* overlong */
	ck_assert(!zrtp_cache_name_valid("\xed\xa0\x80"));    /* surrogate */
	ck_assert(!zrtp_cache_name_valid("\xff"));
	memset(longname, 'n', sizeof longname);
	longname[ZRTP_CACHE_NAME_MAX] = '\0';
	ck_assert(zrtp_cache_name_valid(longname));
	longname[ZRTP_CACHE_NAME_MAX] = 'n';
	longname[ZRTP_CACHE_NAME_MAX + 1] = '\0';
	ck_assert(!zrtp_cache_name_valid(longname));
}
END_TEST

START_TEST(test_names_set)
{
	struct zrtp_cache *c = three_entry_cache();
	struct zrtp_cache_entry e;
	struct zrtp_retained rt;
	uint8_t z[12], none[12];

	memcpy(z, zrtp_cache_at(c, 0)->zid, 12);
	memset(none, 0xee, 12);
	ck_assert_int_eq(zrtp_cache_set_names(c, z, "sip:bob@h", "Bob"), 0);
	ck_assert_int_eq(zrtp_cache_get(c, z, 0, &e), 0);
	ck_assert_str_eq(e.sip_id, "sip:bob@h");
	ck_assert_str_eq(e.name, "Bob");
	/* Refused: nothing changes. */
	ck_assert_int_eq(zrtp_cache_set_names(c, z, NULL, "B\nob"), -EINVAL);
	ck_assert_int_eq(zrtp_cache_set_names(c, z, "mailto:b@h", NULL),
			 -EINVAL);
	ck_assert_int_eq(zrtp_cache_set_names(c, none, "sip:x@h", NULL),
			 -ENOENT);
	ck_assert_int_eq(zrtp_cache_get(c, z, 0, &e), 0);
	ck_assert_str_eq(e.sip_id, "sip:bob@h");
	ck_assert_str_eq(e.name, "Bob");
	/* NULL leaves a field, "" clears it. */
	ck_assert_int_eq(zrtp_cache_set_names(c, z, NULL, "Robert"), 0);
	ck_assert_int_eq(zrtp_cache_get(c, z, 0, &e), 0);
	ck_assert_str_eq(e.sip_id, "sip:bob@h");
	ck_assert_str_eq(e.name, "Robert");
	/* The engine's put (new secrets) keeps the names. */
	memset(&rt, 0, sizeof rt);
	memset(rt.rs1, 7, 32);
	rt.has_rs1 = true;
	rt.ttl = 100;
	ck_assert_int_eq(zrtp_cache_put_retained(c, z, 1000, &rt), 0);
	ck_assert_int_eq(zrtp_cache_get(c, z, 0, &e), 0);
	ck_assert_str_eq(e.sip_id, "sip:bob@h");
	ck_assert_str_eq(e.name, "Robert");
	ck_assert_int_eq(zrtp_cache_set_names(c, z, "", ""), 0);
	ck_assert_int_eq(zrtp_cache_get(c, z, 0, &e), 0);
	ck_assert_str_eq(e.sip_id, "");
	ck_assert_str_eq(e.name, "");
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_pins)
{
	struct zrtp_cache *c = three_entry_cache();
	uint8_t z0[12], z1[12], got[12], none[12];
	char id[64];
	int i;

	memcpy(z0, zrtp_cache_at(c, 0)->zid, 12);
	memcpy(z1, zrtp_cache_at(c, 1)->zid, 12);
	memset(none, 0xee, 12);
	ck_assert_int_eq(zrtp_cache_pin_find(c, "sip:bob@h", got), -ENOENT);
	ck_assert_int_eq(zrtp_cache_pin(c, "sip:bob@h", none), -ENOENT);
	ck_assert_int_eq(zrtp_cache_pin(c, "bob@h", z0), -EINVAL);
	/* Many identities, inserted out of order: each found. */
	for (i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "sip:u%02d@h", (i * 17) % 40);
		ck_assert_int_eq(zrtp_cache_pin(c, id, (i & 1) ? z1 : z0), 0);
	}
	ck_assert_uint_eq(zrtp_cache_pin_count(c), 40);
	for (i = 1; i < 40; i++)
		ck_assert_int_lt(strcmp(zrtp_cache_pin_at(c, i - 1)->sip_id,
					zrtp_cache_pin_at(c, i)->sip_id), 0);
	for (i = 0; i < 40; i++) {
		int k = (i * 17) % 40;

		snprintf(id, sizeof id, "sip:u%02d@h", k);
		ck_assert_int_eq(zrtp_cache_pin_find(c, id, got), 0);
		ck_assert_mem_eq(got, (i & 1) ? z1 : z0, 12);
	}
	/* Re-pinning moves the identity; unpin removes one. */
	ck_assert_int_eq(zrtp_cache_pin(c, "sip:u00@h", z1), 0);
	ck_assert_uint_eq(zrtp_cache_pin_count(c), 40);
	ck_assert_int_eq(zrtp_cache_pin_find(c, "sip:u00@h", got), 0);
	ck_assert_mem_eq(got, z1, 12);
	ck_assert_int_eq(zrtp_cache_unpin(c, "sip:u00@h"), 0);
	ck_assert_int_eq(zrtp_cache_unpin(c, "sip:u00@h"), -ENOENT);
	ck_assert_int_eq(zrtp_cache_pin_find(c, "sip:u00@h", got), -ENOENT);
	ck_assert_uint_eq(zrtp_cache_pin_count(c), 39);
	/* Forgetting a peer unpins every identity pinned to it. */
	ck_assert_int_eq(zrtp_cache_remove(c, z1), 0);
	ck_assert_uint_eq(zrtp_cache_pin_count(c), 19);
	for (i = 0; i < (int)zrtp_cache_pin_count(c); i++)
		ck_assert_mem_eq(zrtp_cache_pin_at(c, i)->zid, z0, 12);
	ck_assert_int_eq(zrtp_cache_pin_find(c, "sip:u17@h", got), -ENOENT);
	zrtp_cache_free(c);
}
END_TEST

START_TEST(test_names_pins_roundtrip)
{
	struct zrtp_cache *c = three_entry_cache(), *l = NULL;
	uint8_t z0[12], z2[12], got[12];
	char why[128] = "";
	struct stat st;

	memcpy(z0, zrtp_cache_at(c, 0)->zid, 12);
	memcpy(z2, zrtp_cache_at(c, 2)->zid, 12);
	ck_assert_int_eq(zrtp_cache_set_names(c, z0, "sip:bob@127.0.0.1:5062",
					      "Bob \"the\" Builder"), 0);
	ck_assert_int_eq(zrtp_cache_set_names(c, z2, NULL, "Zo\xc3\xab"), 0);
	ck_assert_int_eq(zrtp_cache_pin(c, "sip:bob@127.0.0.1:5062", z0), 0);
	ck_assert_int_eq(zrtp_cache_pin(c, "sips:carol@example.org", z2), 0);
	ck_assert_int_eq(zrtp_cache_save(c, cpath), 0);
	ck_assert_int_eq(stat(cpath, &st), 0);
	ck_assert_uint_eq((size_t)st.st_size, FILE_LEN(3) + 2 * 140);
	ck_assert_int_eq(zrtp_cache_load(cpath, &l, why, sizeof why), 0);
	assert_same_cache(c, l);
	assert_same_cache(l, c);
	ck_assert_uint_eq(zrtp_cache_pin_count(l), 2);
	ck_assert_int_eq(zrtp_cache_pin_find(l, "sip:bob@127.0.0.1:5062", got),
			 0);
	ck_assert_mem_eq(got, z0, 12);
	ck_assert_int_eq(zrtp_cache_pin_find(l, "sips:carol@example.org", got),
			 0);
	ck_assert_mem_eq(got, z2, 12);
	zrtp_cache_free(l);
	zrtp_cache_free(c);
}
END_TEST

/* A version-1 file (what every earlier shim wrote), built here byte by
 * byte from its documented layout: it loads, with no names and no pins. */
START_TEST(test_load_v1)
{
	uint8_t img[28 + 2 * 88 + 32];
	struct zrtp_cache *l = NULL;
	struct zrtp_cache_entry e;
	uint8_t z[12], za[12], zb[12];
	char why[128] = "";

	memset(img, 0, sizeof img);
	memcpy(img, "ZSHCACHE", 8);
	img[11] = 1;
	memcpy(img + 12, own, 12);
	img[27] = 2;
	memset(za, 0x11, 12);
	memset(zb, 0x22, 12);
	memcpy(img + 28, za, 12);
	img[28 + 15] = 0x5;                 /* rs1, verified */
	memset(img + 28 + 16, 0xaa, 32);
	memset(img + 28 + 80, 0xff, 8);     /* never */
	memcpy(img + 28 + 88, zb, 12);
	img[28 + 88 + 15] = 0x2;            /* rs2 */
	memset(img + 28 + 88 + 48, 0xbb, 32);
	img[28 + 88 + 87] = 100;
	crypto_hash_sha256(img + sizeof img - 32, img, sizeof img - 32);
	spew(cpath, img, sizeof img);
	ck_assert_int_eq(zrtp_cache_load(cpath, &l, why, sizeof why), 0);
	ck_assert_uint_eq(zrtp_cache_count(l), 2);
	ck_assert_uint_eq(zrtp_cache_pin_count(l), 0);
	zrtp_cache_own_zid(l, z);
	ck_assert_mem_eq(z, own, 12);
	ck_assert_int_eq(zrtp_cache_get(l, za, 0, &e), 0);
	ck_assert(e.has_rs1 && !e.has_rs2 && e.verified);
	ck_assert_uint_eq(e.expiry, ZRTP_CACHE_NEVER);
	ck_assert_uint_eq(e.rs1[31], 0xaa);
	ck_assert_str_eq(e.sip_id, "");
	ck_assert_str_eq(e.name, "");
	ck_assert_int_eq(zrtp_cache_get(l, zb, 0, &e), 0);
	ck_assert(!e.has_rs1 && e.has_rs2 && !e.verified);
	ck_assert_uint_eq(e.expiry, 100);
	/* Saved again, it becomes version 2 and keeps everything. */
	ck_assert_int_eq(zrtp_cache_set_names(l, za, "sip:a@h", "A"), 0);
	ck_assert_int_eq(zrtp_cache_save(l, cpath), 0);
	zrtp_cache_free(l);
	l = NULL;
	ck_assert_int_eq(zrtp_cache_load(cpath, &l, why, sizeof why), 0);
	ck_assert_int_eq(zrtp_cache_get(l, za, 0, &e), 0);
	ck_assert_str_eq(e.sip_id, "sip:a@h");
	ck_assert(e.verified);
	zrtp_cache_free(l);

	/* A corrupt version-1 file still fails as before. */
	img[28 + 20] ^= 1;
	spew(cpath, img, sizeof img);
	assert_bad(cpath, "checksum");
	img[28 + 20] ^= 1;
	img[28 + 15] = 0x1;                 /* rs1 flag, ... */
	img[28 + 88 + 16] = 1;              /* ... rs1 bytes in record 2 */
	crypto_hash_sha256(img + sizeof img - 32, img, sizeof img - 32);
	spew(cpath, img, sizeof img);
	assert_bad(cpath, "record 2: rs1");
	assert_bad_image(img, sizeof img - 40, "record 2 of 2");
}
END_TEST

/* Behind a good checksum, bad names and pins are refused. */
START_TEST(test_load_bad_names)
{
	struct zrtp_cache *c = three_entry_cache();
	uint8_t z0[12], *img, *work;
	size_t len;
	const size_t id_off = 88, name_off = 88 + 128;
	const size_t pins = HDR_LEN + 3 * REC_LEN;

	memcpy(z0, zrtp_cache_at(c, 0)->zid, 12);
	ck_assert_int_eq(zrtp_cache_set_names(c, z0, "sip:bob@h", "Bob"), 0);
	ck_assert_int_eq(zrtp_cache_pin(c, "sip:bob@h", z0), 0);
	ck_assert_int_eq(zrtp_cache_pin(c, "sip:carl@h", z0), 0);
	ck_assert_int_eq(zrtp_cache_save(c, cpath), 0);
	zrtp_cache_free(c);
	img = slurp(cpath, &len);
	work = malloc(len);
	ck_assert_ptr_nonnull(work);
	ck_assert_uint_eq(len, FILE_LEN(3) + 2 * 140);

	memcpy(work, img, len);
	work[HDR_LEN + name_off + 1] = '\n';
	reseal(work, len);
	assert_bad_image(work, len, "record 1: bad display name");
	memcpy(work, img, len);
	work[HDR_LEN + name_off + 10] = 'x';     /* bytes after the NUL */
	reseal(work, len);
	assert_bad_image(work, len, "record 1: bad display name");
	memcpy(work, img, len);
	memset(work + HDR_LEN + name_off, 'x', 64);   /* no NUL */
	reseal(work, len);
	assert_bad_image(work, len, "record 1: bad display name");
	memcpy(work, img, len);
	memcpy(work + HDR_LEN + id_off, "tel:1", 5);
	reseal(work, len);
	assert_bad_image(work, len, "record 1: bad SIP identity");
	/* Pins: order, empty, unknown ZID, count. */
	memcpy(work, img, len);
	memcpy(work + pins, img + pins + 140, 140);
	memcpy(work + pins + 140, img + pins, 140);
	reseal(work, len);
	assert_bad_image(work, len, "pin 2: identities not in ascending");
	memcpy(work, img, len);
	memset(work + pins, 0, 128);
	reseal(work, len);
	assert_bad_image(work, len, "pin 1: bad SIP identity");
	memcpy(work, img, len);
	work[pins + 140 + 128] ^= 0x40;
	reseal(work, len);
	assert_bad_image(work, len, "pin 2: its ZID has no record");
	memcpy(work, img, len);
	work[31] = 3;
	reseal(work, len);
	assert_bad_image(work, len, "truncated pin 3 of 3");
	memcpy(work, img, len);
	work[31] = 1;
	reseal(work, len);
	assert_bad_image(work, len, "trailing");
	memcpy(work, img, len);
	work[28] = 0x7f;
	reseal(work, len);
	assert_bad_image(work, len, "pin count");
	/* Untouched, it loads (the cases above were the changes). */
	assert_bad_image(img, len - 1, NULL);
	spew(cpath, img, len);
	{
		struct zrtp_cache *l = NULL;

		ck_assert_int_eq(zrtp_cache_load(cpath, &l, NULL, 0), 0);
		ck_assert_uint_eq(zrtp_cache_pin_count(l), 2);
		zrtp_cache_free(l);
	}
	free(work);
	free(img);
}
END_TEST

/*
 * zrtp_cache_put_retained's merge (ZRTP_PUT_NEW): concurrent handshakes
 * with one peer put their new secrets in whatever order they end; every
 * order of the same puts leaves the same rs1 and rs2 (the newest
 * generation, the greater bytes among equals; rs2 the newest of an older
 * generation), so the two peers keep a common secret. What drops out is
 * recent (zrtp_cache_recent_retained). REPLACE and FLAGS as documented.
 */
static void put_kind(struct zrtp_cache *c, const uint8_t z[12], uint8_t fill,
		     uint32_t gen, enum zrtp_retained_put kind, bool verified,
		     uint64_t now)
{
	struct zrtp_retained rt;
	memset(&rt, 0, sizeof rt);
	memset(rt.rs1, fill, 32);
	memset(rt.rs2, 0xee, 32);      /* what a plain store would keep */
	rt.has_rs1 = rt.has_rs2 = true;
	rt.rs1_gen = gen;
	rt.verified = verified;
	rt.ttl = 0xffffffffu;
	rt.put = kind;
	ck_assert_int_eq(zrtp_cache_put_retained(c, z, now, &rt), 0);
}

START_TEST(test_put_new_any_order)
{
	/* P (gen 0), then its children A, B, C (gen 1), then D, a child of
	 * C (gen 2) and E, another of B's siblings' children (gen 2). */
	static const struct { uint8_t fill; uint32_t gen; } put[] = {
		{ 0x50, 0 }, { 0x41, 1 }, { 0x43, 1 }, { 0x42, 1 },
		{ 0x44, 2 }, { 0x3e, 2 },
	};
	static const int orders[][6] = {
		{ 0, 1, 2, 3, 4, 5 }, { 0, 3, 2, 1, 5, 4 }, { 0, 2, 1, 3, 4, 5 },
		{ 0, 1, 3, 4, 2, 5 }, { 0, 3, 5, 1, 4, 2 },
	};
	uint8_t z[12], d[32], c[32], out[ZRTP_RECENT_MAX][32];
	memset(z, 0x11, 12);
	memset(d, 0x44, 32);
	memset(c, 0x43, 32);
	for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
		uint8_t self[12] = { 1 };
		struct zrtp_cache *t = zrtp_cache_new(self);
		struct zrtp_cache_entry e;
		for (int k = 0; k < 6; k++)
			put_kind(t, z, put[orders[o][k]].fill,
				 put[orders[o][k]].gen, ZRTP_PUT_NEW, true,
				 1000 + k);
		ck_assert_int_eq(zrtp_cache_get(t, z, 2000, &e), 0);
		ck_assert(e.has_rs1 && e.has_rs2);
		ck_assert_mem_eq(e.rs1, d, 32);
		ck_assert_uint_eq(e.rs1_gen, 2);
		ck_assert_mem_eq(e.rs2, c, 32);
		ck_assert_uint_eq(e.rs2_gen, 1);
		ck_assert(e.verified);
		/* Within ZRTP_CACHE_RECENT_S of the last put, what dropped out
		 * is known; so are rs1, rs2. */
		bool young = true;
		size_t n = zrtp_cache_recent_retained(t, z, 1010, out,
						      ZRTP_RECENT_MAX, &young);
		ck_assert_uint_ge(n, 5);
		ck_assert(young);   /* the first secret is 10 s old */
		ck_assert_mem_eq(out[0], d, 32);
		n = zrtp_cache_recent_retained(t, z, 1000 + 6 + ZRTP_CACHE_RECENT_S,
					       out, ZRTP_RECENT_MAX, &young);
		ck_assert_uint_eq(n, 2);
		ck_assert(!young);
		zrtp_cache_free(t);
	}
}
END_TEST

START_TEST(test_put_replace_and_flags)
{
	uint8_t self[12] = { 1 }, z[12], a[32], b[32], n[32];
	struct zrtp_cache *t = zrtp_cache_new(self);
	struct zrtp_cache_entry e;
	memset(z, 0x22, 12);
	memset(a, 0xa0, 32);
	memset(b, 0xb0, 32);
	memset(n, 0x01, 32);
	put_kind(t, z, 0xa0, 0, ZRTP_PUT_NEW, false, 1000);
	put_kind(t, z, 0xb0, 1, ZRTP_PUT_NEW, false, 1001);
	/* A flag-only put changes neither secret. */
	put_kind(t, z, 0x99, 0, ZRTP_PUT_FLAGS, true, 1002);
	ck_assert_int_eq(zrtp_cache_get(t, z, 2000, &e), 0);
	ck_assert(e.verified);
	ck_assert_mem_eq(e.rs1, b, 32);
	ck_assert_mem_eq(e.rs2, a, 32);
	/* A verified flag cleared (a mismatch) is not set again by a
	 * handshake that read it set. */
	put_kind(t, z, 0x99, 0, ZRTP_PUT_FLAGS, false, 1003);
	put_kind(t, z, 0xc0, 2, ZRTP_PUT_NEW, true, 1004);
	ck_assert_int_eq(zrtp_cache_get(t, z, 2000, &e), 0);
	ck_assert(!e.verified);
	/* Replace (after the user confirmed the SAS of a mismatching call):
	 * the new secret, low generation or not, becomes rs1. */
	put_kind(t, z, 0x01, 0, ZRTP_PUT_REPLACE, true, 1005);
	ck_assert_int_eq(zrtp_cache_get(t, z, 2000, &e), 0);
	ck_assert(e.verified);
	ck_assert_mem_eq(e.rs1, n, 32);
	ck_assert_uint_eq(e.rs1_gen, 3);
	ck_assert_uint_eq(e.rs2_gen, 2);
	zrtp_cache_free(t);
}
END_TEST

Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_own_zid);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_put_absent_secret_zeroed);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_count_at);
	tcase_add_test(tc, test_expiry);
	tcase_add_test(tc, test_null_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_save_load_roundtrip);
	tcase_add_test(tc, test_save_load_empty);
	tcase_add_test(tc, test_save_relative_path);
	tcase_add_test(tc, test_save_replaces);
	tcase_add_test(tc, test_save_failure_keeps_old);
	tcase_add_test(tc, test_save_onto_directory);
	tcase_add_test(tc, test_save_missing_dir);
	tcase_add_test(tc, test_save_readonly_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("corrupt");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	/* test_load_byte_flips writes and loads the file 4 times per byte
	 * of a version-2 image (904 bytes): seconds on a busy disk. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_load_truncated);
	tcase_add_test(tc, test_load_byte_flips);
	tcase_add_test(tc, test_load_bad_magic);
	tcase_add_test(tc, test_load_future_version);
	tcase_add_test(tc, test_load_empty);
	tcase_add_test(tc, test_load_directory);
	tcase_add_test(tc, test_load_fifo);
	tcase_add_test(tc, test_load_oversized_count);
	tcase_add_test(tc, test_load_too_large);
	tcase_add_test(tc, test_load_bad_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_names_valid);
	tcase_add_test(tc, test_names_set);
	tcase_add_test(tc, test_pins);
	tcase_add_test(tc, test_names_pins_roundtrip);
	tcase_add_test(tc, test_load_v1);
	tcase_add_test(tc, test_load_bad_names);
	tcase_add_test(tc, test_put_new_any_order);
	tcase_add_test(tc, test_put_replace_and_flags);
	suite_add_tcase(s, tc);
	return s;
}
