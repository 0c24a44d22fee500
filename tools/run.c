/*
 * zrtpshim run [--policy require|opportunistic] [--] CMD ARGS...
 *
 * Puts libzrtpshim.so first in LD_PRELOAD, sets ZRTPSHIM_POLICY if asked,
 * and becomes CMD (execvp). The library is looked for, in order:
 *   $ZRTPSHIM_LIB (an explicit path, for unusual layouts);
 *   the build tree, relative to this binary: <exe dir>/../.libs/ (and
 *     ../../.libs/ for a libtool-wrapped tools/.libs/zrtpshim);
 *   the install directory given at build time (ZRTPSHIM_LIBDIR, $(libdir)).
 * The path is made absolute: CMD may change directory before it loads.
 *
 * Exit: 127 CMD not found, 126 CMD not executable, 2 bad usage or no
 * library; otherwise the exit status is CMD's own.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cmds.h"

#ifndef ZRTPSHIM_LIBDIR
#define ZRTPSHIM_LIBDIR "/usr/local/lib"
#endif
#define LIBNAME "libzrtpshim.so"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: zrtpshim run [--policy require|opportunistic] [--] CMD ARGS...\n"
		"Runs CMD with libzrtpshim.so preloaded: its SIP calls get ZRTP and\n"
		"their media SRTP. The SAS appears in the log (stderr, or\n"
		"ZRTPSHIM_LOG_FILE) and in `zrtpshim status`.\n"
		"  --policy require        no media ever leaves in clear (default)\n"
		"  --policy opportunistic  media flows in clear, with a warning, when\n"
		"                          the peer shows no sign of ZRTP\n"
		"Settings: the config file (~/.config/zrtpshim/config, sections by\n"
		"CMD's program name) and ZRTPSHIM_* variables, which override it;\n"
		"see zrtpshim(7). ZRTPSHIM_LIB overrides where libzrtpshim.so is found.\n");
}

static bool readable(const char *p)
{
	return access(p, R_OK) == 0;
}

/* The library's absolute path into buf, or false. */
static bool find_lib(char *buf, size_t cap)
{
	const char *env = getenv("ZRTPSHIM_LIB");
	if (env && *env) {
		if (!readable(env)) {
			fprintf(stderr, "zrtpshim run: ZRTPSHIM_LIB=%s: %s\n",
				env, strerror(errno));
			return false;
		}
		if (!realpath(env, buf))
			return false;
		return true;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			static const char *const rel[] = {
				"/../.libs/" LIBNAME, "/../../.libs/" LIBNAME,
			};
			for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
				char cand[PATH_MAX + 64];
				snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
				if (readable(cand) && realpath(cand, buf))
					return true;
			}
		}
	}
	char inst[PATH_MAX];
	snprintf(inst, sizeof inst, "%s/%s", ZRTPSHIM_LIBDIR, LIBNAME);
	if (readable(inst) && strlen(inst) < cap) {
		snprintf(buf, cap, "%s", inst);
		return true;
	}
	fprintf(stderr, "zrtpshim run: cannot find %s (looked next to this "
		"binary in ../.libs/ and in %s; set ZRTPSHIM_LIB to its path)\n",
		LIBNAME, ZRTPSHIM_LIBDIR);
	return false;
}

/* LD_PRELOAD with lib first, our library not repeated. */
static char *preload_value(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *v = malloc(n);
	if (!v)
		return NULL;
	size_t o = (size_t)snprintf(v, n, "%s", lib);
	if (old) {
		const char *p = old;
		while (*p) {
			size_t l = strcspn(p, " :");
			bool ours = false;
			for (size_t i = 0; l >= sizeof LIBNAME - 1 &&
			     i + sizeof LIBNAME - 1 <= l; i++)
				if (memcmp(p + i, LIBNAME, sizeof LIBNAME - 1) == 0)
					ours = true;
			if (l && !ours) {
				v[o++] = ':';
				memcpy(v + o, p, l);
				o += l;
			}
			p += l;
			while (*p == ' ' || *p == ':')
				p++;
		}
	}
	v[o] = '\0';
	return v;
}

int zrtpshim_cmd_run(int argc, char **argv)
{
	const char *policy = NULL;
	int i = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--policy") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "zrtpshim run: --policy needs "
					"require or opportunistic\n");
				return 2;
			}
			policy = argv[++i];
		} else if (strncmp(a, "--policy=", 9) == 0) {
			policy = a + 9;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			run_usage(stdout);
			return 0;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "zrtpshim run: unknown option %s (CMD's "
				"own options go after --)\n", a);
			return 2;
		} else {
			break;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "zrtpshim run: no command given\n");
		run_usage(stderr);
		return 2;
	}
	if (policy && strcmp(policy, "require") != 0 &&
	    strcmp(policy, "opportunistic") != 0) {
		fprintf(stderr, "zrtpshim run: --policy %s: want require or "
			"opportunistic\n", policy);
		return 2;
	}
	char lib[PATH_MAX];
	if (!find_lib(lib, sizeof lib))
		return 2;
	if (strpbrk(lib, " :")) {
		fprintf(stderr, "zrtpshim run: %s: LD_PRELOAD cannot hold a path "
			"with a space or colon\n", lib);
		return 2;
	}
	char *pre = preload_value(lib);
	if (!pre || setenv("LD_PRELOAD", pre, 1) != 0 ||
	    (policy && setenv("ZRTPSHIM_POLICY", policy, 1) != 0)) {
		fprintf(stderr, "zrtpshim run: cannot set the environment: %s\n",
			strerror(errno));
		free(pre);
		return 2;
	}
	free(pre);
	fflush(NULL);
	execvp(argv[i], argv + i);
	int e = errno;
	fprintf(stderr, "zrtpshim run: %s: %s\n", argv[i],
		e == ENOENT ? "command not found" : strerror(e));
	return e == ENOENT ? 127 : 126;
}
