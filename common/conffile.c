/* The config file: its path, reading it, its lines (conffile.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/conffile.h"

static int join(char *buf, size_t cap, const char *base, const char *tail)
{
	size_t lb = strlen(base), lt = strlen(tail);

	if (lb + lt >= cap)
		return -ENAMETOOLONG;
	memcpy(buf, base, lb);
	memcpy(buf + lb, tail, lt + 1);
	return 1;
}

int conffile_path(char *buf, size_t cap)
{
	const char *v = secure_getenv("ZRTPSHIM_CONFIG");
	char pwbuf[1024];
	struct passwd pw, *pwp = NULL;

	if (cap == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	/* A set-user-ID client: the user's file must not choose the files
	 * it writes (log_file, keylog) with its privileges, as the user's
	 * environment may not (secure_getenv). */
	if (getauxval(AT_SECURE))
		return 0;
	if (v != NULL && *v != '\0')
		return strcmp(v, "none") == 0 ? 0 : join(buf, cap, v, "");
	/* XDG Base Directory: relative values are invalid, ignored. */
	v = secure_getenv("XDG_CONFIG_HOME");
	if (v != NULL && v[0] == '/')
		return join(buf, cap, v, "/zrtpshim/config");
	v = secure_getenv("HOME");
	if (v != NULL && v[0] == '/')
		return join(buf, cap, v, "/.config/zrtpshim/config");
	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 &&
	    pwp != NULL && pwp->pw_dir != NULL && pwp->pw_dir[0] == '/')
		return join(buf, cap, pwp->pw_dir, "/.config/zrtpshim/config");
	return 0;
}

int conffile_read(const char *path, char *buf, size_t cap, size_t *len,
		  const char **why)
{
	struct stat st;
	size_t n = 0;
	int fd, r = 0;

	*len = 0;
	*why = "";
	if (cap < CONFFILE_MAX + 1)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO put there must not hang the client's start. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			*why = strerror(errno);
		return r;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		*why = strerror(errno);
	} else if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		*why = "is a directory";
	} else if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		*why = "is not a regular file";
	} else if (st.st_size > CONFFILE_MAX) {
		r = -EFBIG;
		*why = "is larger than 65536 bytes";
	}
	/* pread: the shim hooks read(2), not pread(2). */
	while (r == 0 && n <= CONFFILE_MAX) {
		ssize_t k = pread(fd, buf + n, CONFFILE_MAX + 1 - n, (off_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			*why = strerror(errno);
		} else if (k == 0) {
			break;
		} else {
			n += (size_t)k;
		}
	}
	close(fd);
	if (r == 0 && n > CONFFILE_MAX) {
		r = -EFBIG;
		*why = "is larger than 65536 bytes";
	}
	if (r == 0 && memchr(buf, '\0', n) != NULL) {
		r = -EINVAL;
		*why = "holds NUL bytes (a binary file?)";
	}
	if (r < 0)
		return r;
	buf[n] = '\0';
	*len = n;
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* 1 if section header s..e (trimmed, starting with '[') matches prog, 0
 * if not, -1 if malformed. */
static int section_match(const char *s, const char *e, const char *prog)
{
	char glob[256];
	size_t n;

	if (e - s < 2 || e[-1] != ']')
		return -1;
	s++;
	e--;
	while (s < e && blank(*s))
		s++;
	while (e > s && blank(e[-1]))
		e--;
	n = (size_t)(e - s);
	if (n == 0 || n >= sizeof glob || memchr(s, ']', n) != NULL)
		return -1;
	memcpy(glob, s, n);
	glob[n] = '\0';
	return prog != NULL && fnmatch(glob, prog, 0) == 0;
}

void conffile_walk(const char *text, size_t len, const char *prog,
		   conffile_fn *fn, void *ctx)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	bool applies = true;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *s = p, *eq, *k;

		line++;
		p = nl ? nl + 1 : end;
		while (s < e && blank(*s))
			s++;
		while (e > s && blank(e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (*s == '[') {
			int m = section_match(s, e, prog);
			if (m < 0) {
				fn(ctx, CONFFILE_MALFORMED, line, s,
				   (size_t)(e - s), NULL, 0);
				/* Lines after a broken header apply to no
				 * one: it was meant to restrict them. */
				applies = false;
			} else {
				applies = m == 1;
			}
			continue;
		}
		eq = memchr(s, '=', (size_t)(e - s));
		k = eq ? eq : s;
		while (k > s && blank(k[-1]))
			k--;
		bool ok = eq != NULL && k > s;
		for (const char *c = s; ok && c < k; c++)
			ok = key_char(*c);
		if (!ok) {
			fn(ctx, CONFFILE_MALFORMED, line, s, (size_t)(e - s),
			   NULL, 0);
			continue;
		}
		const char *v = eq + 1;
		while (v < e && blank(*v))
			v++;
		fn(ctx, applies ? CONFFILE_SET : CONFFILE_SET_OTHER, line, s,
		   (size_t)(k - s), v, (size_t)(e - v));
	}
}

struct lookup {
	const char *key;
	char *out;
	size_t cap;
	int found;
};

static void lookup_item(void *ctx, enum conffile_item item, unsigned line,
			const char *key, size_t klen, const char *val,
			size_t vlen)
{
	struct lookup *l = ctx;

	(void)line;
	if (item != CONFFILE_SET || strlen(l->key) != klen ||
	    strncasecmp(key, l->key, klen) != 0)
		return;
	/* A later line wins; one too long for out is skipped (the earlier
	 * value stays), as the shim skips it. */
	if (vlen < l->cap) {
		memcpy(l->out, val, vlen);
		l->out[vlen] = '\0';
		l->found = vlen > 0;
	}
}

int conffile_lookup(const char *key, const char *prog, char *out,
		    size_t cap)
{
	char path[4096];
	const char *why;
	size_t len;
	char *text;
	struct lookup l = { key, out, cap, 0 };

	if (cap == 0 || conffile_path(path, sizeof path) != 1)
		return 0;
	text = malloc(CONFFILE_MAX + 1);
	if (text == NULL)
		return 0;
	if (conffile_read(path, text, CONFFILE_MAX + 1, &len, &why) == 0)
		conffile_walk(text, len, prog, lookup_item, &l);
	free(text);
	if (!l.found)
		out[0] = '\0';
	return l.found;
}
