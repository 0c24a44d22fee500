/*
 * zrtpshim status [--json] [--all] [--dir D]
 *                 [--watch [--interval MS] [--count N]]
 *
 * Every process running under the shim keeps $ZRTPSHIM_DIR/status/<pid>.json
 * (shim/status.c), rewritten atomically on every ZRTP event and SIP
 * message and once a second during a call: its live streams, their phase
 * and SAS, the verified and continuity flags, the peer's ZID and the
 * packet counters, and a bounded history of its ended streams. This
 * command reads those files. A file whose process is gone is shown only
 * with --all (marked "exited"): its last state is still what the call
 * ended with. --watch redraws the view (clear screen, then the same
 * output) every --interval ms until interrupted, or --count times.
 *
 * The files are written by the shim in a fixed layout (one stream object
 * per line); this reader takes its fields by name and treats anything it
 * cannot read as absent, never as an error of the whole command.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "common/statedir.h"
#include "tools/cmds.h"

int zrtpshim_state_dir(const char *cmd, char *buf, unsigned long cap)
{
	bool ignored;
	int r = statedir_path(buf, cap, &ignored);

	if (ignored)
		fprintf(stderr, "zrtpshim %s: ZRTPSHIM_DIR is longer than %lu "
			"bytes: ignored\n", cmd, cap - 1);
	if (r == -ENAMETOOLONG)
		fprintf(stderr, "zrtpshim %s: the state directory's path is "
			"too long\n", cmd);
	return r < 0 ? -1 : 0;
}

static char *slurp(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *b = malloc(max + 1);
	size_t n = b ? fread(b, 1, max, f) : 0;
	fclose(f);
	if (!b)
		return NULL;
	b[n] = '\0';
	return b;
}

/* The string value of "key": in s (up to the end of the line), unescaped
 * into out. false if absent. */
static bool json_str(const char *s, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	const char *p = strstr(s, pat);
	const char *eol = strchr(s, '\n');
	if (!p || (eol && p > eol))
		return false;
	p += strlen(pat);
	size_t o = 0;
	while (*p && *p != '"' && *p != '\n') {
		char c = *p++;
		if (c == '\\' && *p) {
			c = *p++;
			if (c == 'u') {   /* \u00XX: control bytes only */
				unsigned v = 0;
				for (int i = 0; i < 4 && *p; i++, p++)
					v = v * 16 + (unsigned)(*p <= '9' ? *p - '0'
							: (*p | 32) - 'a' + 10);
				c = (char)(v & 0xff);
			}
		}
		if (o + 1 < cap)
			out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

static long long json_num(const char *s, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(s, pat);
	const char *eol = strchr(s, '\n');
	if (!p || (eol && p > eol))
		return -1;
	return strtoll(p + strlen(pat), NULL, 10);
}

static bool json_bool(const char *s, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":true", key);
	const char *p = strstr(s, pat);
	const char *eol = strchr(s, '\n');
	return p && !(eol && p > eol);
}

static bool pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The stream objects of one section: lines starting "\n {\"name\":" from
 * from up to end (NULL: the end of doc). */
static int print_streams(const char *from, const char *end, bool history)
{
	int n = 0;
	for (const char *l = strstr(from, "\n {\"name\":"); l && (!end || l < end);
	     l = strstr(l + 1, "\n {\"name\":")) {
		const char *s = l + 1;
		char name[160] = "", phase[24] = "", sas[40] = "", zid[32] = "",
		     ev[32] = "", reason[160] = "", peer[200] = "";
		json_str(s, "name", name, sizeof name);
		json_str(s, "peer", peer, sizeof peer);
		json_str(s, "phase", phase, sizeof phase);
		json_str(s, "sas", sas, sizeof sas);
		json_str(s, "peer_zid", zid, sizeof zid);
		json_str(s, "last_event", ev, sizeof ev);
		json_str(s, "reason", reason, sizeof reason);
		const char *ind = history ? "    " : "  ";
		printf("%sstream %s", ind, name);
		long long ended = history ? json_num(s, "ended") : -1;
		if (ended > 0) {
			char when[32];
			time_t t = (time_t)ended;
			struct tm tm;
			if (localtime_r(&t, &tm) &&
			    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm))
				printf(" (ended %s)", when);
		}
		printf("\n%s  %-11s SAS %-6s verified %-3s "
		       "continuity %-3s peer ZID %s\n", ind, phase,
		       sas[0] ? sas : "-", json_bool(s, "verified") ? "yes" : "no",
		       json_bool(s, "continuity") ? "yes" : "no",
		       zid[0] ? zid : "-");
		if (peer[0])
			printf("%s  peer: %s\n", ind, peer);
		if (ev[0])
			printf("%s  last event: %s%s%s\n", ind, ev,
			       reason[0] ? ": " : "", reason);
		printf("%s  sent: %lld SRTP, %lld held, %lld clear, %lld dropped"
		       "   received: %lld SRTP, %lld ZRTP, %lld failed auth, "
		       "%lld clear dropped\n", ind,
		       json_num(s, "tx_srtp"), json_num(s, "tx_held"),
		       json_num(s, "tx_clear"), json_num(s, "tx_dropped"),
		       json_num(s, "rx_srtp"), json_num(s, "rx_zrtp"),
		       json_num(s, "rx_auth_fail"), json_num(s, "rx_clear"));
		n++;
	}
	return n;
}

static void print_human(const char *doc, long pid, bool alive)
{
	char policy[32] = "?";
	json_str(doc, "policy", policy, sizeof policy);
	long long upd = json_num(doc, "updated");
	long long ago = upd > 0 ? (long long)time(NULL) - upd : -1;
	printf("process %ld (%s), policy %s%s, updated %llds ago\n", pid,
	       alive ? "running" : "exited", policy,
	       json_bool(doc, "keylog") ? ", KEY LOG ON" : "", ago);
	/* A file of an older shim has no history: all its streams are
	 * listed as they were. */
	const char *hist = strstr(doc, "\n],\"history\":[");
	int live = print_streams(doc, hist, false);
	int ended = 0;
	for (const char *l = hist; l; l = strstr(l + 1, "\n {\"name\":"))
		ended += l != hist;
	if (live == 0)
		printf("  %s\n", ended ? "no live call" : "no calls yet");
	if (ended) {
		printf("  history: %d ended stream%s, oldest first (kept: %lld)\n",
		       ended, ended == 1 ? "" : "s",
		       json_num(doc, "history_max"));
		print_streams(hist, NULL, true);
	}
}

static void status_usage(FILE *f)
{
	fprintf(f,
		"usage: zrtpshim status [--json] [--all] [--dir DIR]\n"
		"                       [--watch [--interval MS] [--count N]]\n"
		"Shows every process running under the shim: its live streams, their\n"
		"state and SAS, packet counters, and its recently ended streams.\n"
		"--all adds processes that have exited (their last state). --dir: the\n"
		"state directory (default $ZRTPSHIM_DIR, dir in the config file,\n"
		"$XDG_STATE_HOME/zrtpshim, ~/.local/state/zrtpshim; zrtpshim(7)).\n"
		"--watch: redraw every --interval ms (default 1000) until\n"
		"interrupted, or --count times.\n");
}

/* A whole number in [lo, hi], or -1. */
static long parse_count(const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return -1;
	return x;
}

/* One view of every status file; 0 or 2. */
static int status_show(const char *dir, bool json, bool all)
{
	char sdir[PATH_MAX + 16];
	snprintf(sdir, sizeof sdir, "%s/status", dir);
	struct dirent **ents = NULL;
	int ne = scandir(sdir, &ents, NULL, alphasort);
	if (ne < 0 && errno != ENOENT) {
		fprintf(stderr, "zrtpshim status: %s: %s\n", sdir,
			strerror(errno));
		return 2;
	}
	if (json)
		printf("{\"dir\":\"%s\",\"processes\":[", dir);
	int shown = 0;
	for (int i = 0; i < ne; i++) {
		const char *nm = ents[i]->d_name;
		char *end;
		long pid = strtol(nm, &end, 10);
		if (nm[0] == '.' || pid <= 0 || strcmp(end, ".json") != 0)
			continue;
		bool alive = pid_alive(pid);
		if (!alive && !all)
			continue;
		char path[PATH_MAX + 300];
		snprintf(path, sizeof path, "%s/%s", sdir, nm);
		/* A history of up to 1000 streams: room for it. */
		char *doc = slurp(path, 16 << 20);
		if (!doc || doc[0] != '{') {
			fprintf(stderr, "zrtpshim status: %s: unreadable, "
				"skipped\n", path);
			free(doc);
			continue;
		}
		if (json) {
			size_t l = strlen(doc);
			while (l && (doc[l - 1] == '\n' || doc[l - 1] == ' '))
				doc[--l] = '\0';
			printf("%s\n{\"alive\":%s,\"status\":%s}",
			       shown ? "," : "", alive ? "true" : "false", doc);
		} else {
			print_human(doc, pid, alive);
		}
		shown++;
		free(doc);
	}
	for (int i = 0; i < ne; i++)
		free(ents[i]);
	free(ents);
	if (json)
		printf("\n]}\n");
	else if (shown == 0)
		printf("no %sprocess under zrtpshim in %s\n", all ? "" :
		       "running ", dir);
	return fflush(stdout) == 0 ? 0 : 2;
}

int zrtpshim_cmd_status(int argc, char **argv)
{
	bool json = false, all = false, watch = false;
	long interval = 1000, count = 0;
	char dir[PATH_MAX] = "";
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--all") == 0) {
			all = true;
		} else if (strcmp(argv[i], "--watch") == 0) {
			watch = true;
		} else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			interval = parse_count(argv[++i], 50, 3600000);
			if (interval < 0) {
				fprintf(stderr, "zrtpshim status: --interval %s "
					"is not a number of milliseconds from 50 "
					"to 3600000\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count = parse_count(argv[++i], 1, 1000000000);
			if (count < 0) {
				fprintf(stderr, "zrtpshim status: --count %s is "
					"not a number from 1\n", argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			snprintf(dir, sizeof dir, "%s", argv[++i]);
		} else if (strcmp(argv[i], "--help") == 0 ||
			   strcmp(argv[i], "-h") == 0) {
			status_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "zrtpshim status: unknown argument %s\n",
				argv[i]);
			status_usage(stderr);
			return 2;
		}
	}
	if (!watch && count) {
		fprintf(stderr, "zrtpshim status: --count needs --watch\n");
		return 2;
	}
	if (!dir[0] && zrtpshim_state_dir("status", dir, sizeof dir) < 0) {
		fprintf(stderr, "zrtpshim status: no state directory (set "
			"ZRTPSHIM_DIR or HOME)\n");
		return 2;
	}
	if (!watch)
		return status_show(dir, json, all);
	for (long k = 0; count == 0 || k < count; k++) {
		if (k > 0) {
			struct timespec ts = { interval / 1000,
					       (interval % 1000) * 1000000L };
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		/* Home, clear the screen, then the view (ECMA-48 CUP, ED). */
		time_t now = time(NULL);
		struct tm tm;
		char when[32] = "";
		if (localtime_r(&now, &tm))
			strftime(when, sizeof when, "%H:%M:%S", &tm);
		printf("\033[H\033[2J");
		if (!json)
			printf("zrtpshim status --watch, every %ld ms, %s\n\n",
			       interval, when);
		if (status_show(dir, json, all) != 0)
			return 2;
	}
	return 0;
}
