/* The state directory rule (statedir.h). */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conffile.h"
#include "common/statedir.h"

static int join(char *buf, size_t cap, const char *base, const char *tail)
{
	size_t lb = strlen(base), lt = strlen(tail);

	if (lb + lt >= cap)
		return -ENAMETOOLONG;
	memcpy(buf, base, lb);
	memcpy(buf + lb, tail, lt + 1);
	return 0;
}

int statedir_from(char *buf, size_t cap, const char *dir)
{
	const char *v;
	char pwbuf[1024];
	struct passwd pw, *pwp = NULL;
	int r;

	if (cap == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if (dir != NULL && *dir != '\0')
		return join(buf, cap, dir, "");
	v = secure_getenv("XDG_STATE_HOME");
	if (v != NULL && v[0] == '/')
		r = join(buf, cap, v, "/zrtpshim");
	else if ((v = secure_getenv("HOME")) != NULL && v[0] == '/')
		r = join(buf, cap, v, "/.local/state/zrtpshim");
	else if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 &&
		 pwp != NULL && pwp->pw_dir != NULL && pwp->pw_dir[0] == '/')
		r = join(buf, cap, pwp->pw_dir, "/.local/state/zrtpshim");
	else
		r = -ENOENT;
	if (r < 0)
		buf[0] = '\0';
	return r;
}

int statedir_path(char *buf, size_t cap, bool *dir_ignored)
{
	const char *v = secure_getenv("ZRTPSHIM_DIR");
	char file_dir[4096];

	if (dir_ignored)
		*dir_ignored = false;
	if (cap == 0)
		return -ENAMETOOLONG;
	if (v != NULL && *v != '\0') {
		if (strnlen(v, cap) < cap)
			return statedir_from(buf, cap, v);
		if (dir_ignored)
			*dir_ignored = true;
	}
	/* The shim reads its file the same way (shim/settings.c); the
	 * command is no client, so only the lines before any section. */
	if (conffile_lookup("dir", NULL, file_dir, sizeof file_dir) == 1 &&
	    strlen(file_dir) < cap)
		return statedir_from(buf, cap, file_dir);
	return statedir_from(buf, cap, NULL);
}

int statedir_cache_path(char *buf, size_t cap, const char *dir, int slot)
{
	int n;

	if (slot < 0 || slot >= STATEDIR_CACHE_SLOTS)
		return -EINVAL;
	n = slot == 0 ? snprintf(buf, cap, "%s/cache", dir)
		      : snprintf(buf, cap, "%s/cache-%d", dir, slot);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
