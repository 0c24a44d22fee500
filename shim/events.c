/*
 * What the user sees of a stream's ZRTP events (DESIGN.md "The user's
 * surface"): one log line per event with the SAS, the ZRTPSHIM_ON_EVENT
 * command, the SRTP key log (ZRTPSHIM_KEYLOG) and the status file that
 * `zrtpshim status` reads.
 *
 * Calling context (shim.h): shim_events_emit and shim_keylog_write run on
 * whatever thread fed the engine, with that stream's lock held. They must
 * not call into media.c and must not block for long: they take only
 * events_mu (a leaf lock), write small files, and start the event command
 * with posix_spawn (vfork-like: no fork(), which the shim hooks, and the
 * caller waits only until the exec).
 *
 * The status file, $ZRTPSHIM_DIR/status/<pid>.json, is rewritten whole and
 * atomically (temporary file, rename) on every event and by
 * shim_status_refresh, which sipglue calls after each SIP message with no
 * stream lock held: only there may we ask media.c for counters
 * (shim_media_stats_get takes the stream locks). So phases and SAS are
 * current at every event, and packet counters are as of the last SIP
 * message (a call's last refresh happens just before its streams end,
 * which gives its final counters).
 *
 * Event commands are our children: we remember their pids and reap only
 * those (waitpid(pid, WNOHANG) at each event and refresh), never
 * waitpid(-1), so the client's own children are left to the client.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>

#include "shim/events.h"
#include "shim/shim.h"
#include "common/keylog.h"
#include "common/suite.h"
#include "zrtp/zrtp.h"

extern char **environ;

#define EV_MAX_STREAMS 64
#define EV_MAX_CHILDREN 16
#define EV_STATUS_CAP (EV_MAX_STREAMS * 1024 + 1024)

struct ev_stream {
	bool used;
	bool live;                 /* seen in the last stats snapshot */
	uint64_t seq;              /* last touched (for eviction) */
	char name[128];
	char phase[16];
	char last_event[24];
	char sas[32];
	char reason[128];
	char peer_zid[25];
	bool verified, continuity;
	bool have_counters;
	int zrtp_state;
	unsigned n_events;
	time_t last_time;
	struct shim_media_stats st;
};

static pthread_mutex_t events_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ev_stream ev_streams[EV_MAX_STREAMS];
static uint64_t ev_seq;
static pid_t ev_children[EV_MAX_CHILDREN];
static bool status_dir_ok, status_dir_tried;
static bool keylog_warned;

/* --- small helpers ---------------------------------------------------------- */

static void fd_close(int fd)
{
	if (shim_real.close)
		shim_real.close(fd);
	else
		close(fd);
}

static bool fd_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = shim_real.write ? shim_real.write(fd, p, n)
					    : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* The hook's and the status file's name for an event; NULL: not one the
 * user is told about through the hook. */
static const char *event_name(enum zrtp_event_type t)
{
	switch (t) {
	case ZRTP_EV_SECURE: return "secure";
	case ZRTP_EV_FAILED: return "failed";
	case ZRTP_EV_CACHE_MISMATCH: return "mismatch";
	case ZRTP_EV_HELLO_HASH_MISMATCH: return "hello-hash-mismatch";
	default: return NULL;
	}
}

static void event_reason(const struct zrtp_event *ev, char *buf, size_t cap)
{
	switch (ev->type) {
	case ZRTP_EV_SECURE:
		snprintf(buf, cap, "%s", ev->rs1_match ?
			 "secure; cached secret matched (continuity)" :
			 "secure; no cached secret: compare the SAS");
		break;
	case ZRTP_EV_FAILED:
		if (ev->error_code)
			snprintf(buf, cap, "%s (ZRTP error 0x%x)",
				 zrtp_fail_str(ev->reason),
				 (unsigned)ev->error_code);
		else
			snprintf(buf, cap, "%s", zrtp_fail_str(ev->reason));
		break;
	case ZRTP_EV_CACHE_MISMATCH:
		snprintf(buf, cap, "the peer's retained secret does not match "
			 "ours: compare the SAS aloud");
		break;
	case ZRTP_EV_HELLO_HASH_MISMATCH:
		snprintf(buf, cap, "the peer's Hello does not match the "
			 "a=zrtp-hash of its SDP: possible attack");
		break;
	case ZRTP_EV_GOCLEAR_REFUSED:
		snprintf(buf, cap, "the peer asked to go clear: refused");
		break;
	case ZRTP_EV_SASRELAY_IGNORED:
		snprintf(buf, cap, "the peer relayed a SAS: ignored");
		break;
	default:
		buf[0] = '\0';
	}
}

/* --- the stream table (events_mu held) ------------------------------------- */

static struct ev_stream *stream_find_locked(const char *name, bool create)
{
	struct ev_stream *free_s = NULL, *oldest = NULL;
	for (size_t i = 0; i < EV_MAX_STREAMS; i++) {
		struct ev_stream *s = &ev_streams[i];
		if (!s->used) {
			if (!free_s)
				free_s = s;
			continue;
		}
		if (strcmp(s->name, name) == 0)
			return s;
		/* Evict the stalest stream that media.c has forgotten, else
		 * the stalest of all. */
		if (!oldest || (oldest->live && !s->live) ||
		    (oldest->live == s->live && s->seq < oldest->seq))
			oldest = s;
	}
	if (!create)
		return NULL;
	struct ev_stream *s = free_s ? free_s : oldest;
	memset(s, 0, sizeof *s);
	s->used = true;
	s->live = true;
	s->zrtp_state = -1;
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->phase, sizeof s->phase, "negotiating");
	return s;
}

/* --- the status file -------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->full = true;
		return;
	}
	b->len += (size_t)n;
}

/* A JSON string (RFC 8259 §7): Call-IDs may hold quotes and backslashes. */
static void sb_json_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

static pthread_once_t state_dir_once = PTHREAD_ONCE_INIT;

static void state_dir_make(void)
{
	char p[sizeof shim_config.dir];
	int saved = errno;
	snprintf(p, sizeof p, "%s", shim_config.dir);
	if (p[0] != '/')
		return;
	/* mkdir -p: each parent in turn; existing ones are fine. */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			shim_log(SHIM_LOG_WARN, "state directory: mkdir %s: %s: "
				 "no cache file, no status file", p,
				 strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	errno = saved;
}

void shim_state_dir_ensure(void)
{
	if (shim_config.dir[0])
		pthread_once(&state_dir_once, state_dir_make);
}

static bool status_dir(char *path, size_t cap)
{
	const char *dir = shim_config.dir;
	if (!dir[0])
		return false;
	int n = snprintf(path, cap, "%s/status", dir);
	if (n < 0 || (size_t)n >= cap)
		return false;
	if (!status_dir_tried) {
		status_dir_tried = true;
		shim_state_dir_ensure();
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			shim_log(SHIM_LOG_WARN, "status: mkdir %s: %s: no "
				 "status file", path, strerror(errno));
		else
			status_dir_ok = true;
	}
	return status_dir_ok;
}

/* events_mu held. */
static void status_write_locked(void)
{
	char dir[4200], tmp[4300], final[4300];
	if (!status_dir(dir, sizeof dir))
		return;
	char *mem = malloc(EV_STATUS_CAP);
	if (!mem)
		return;
	struct sbuf b = { mem, 0, EV_STATUS_CAP, false };
	pid_t pid = getpid();
	sb_printf(&b, "{\"pid\":%d,\"updated\":%lld,\"policy\":\"%s\","
		  "\"keylog\":%s,\"streams\":[", (int)pid,
		  (long long)time(NULL),
		  shim_config.policy == SHIM_POLICY_OPPORTUNISTIC ?
		  "opportunistic" : "require",
		  shim_config.keylog[0] ? "true" : "false");
	bool first = true;
	for (size_t i = 0; i < EV_MAX_STREAMS; i++) {
		const struct ev_stream *s = &ev_streams[i];
		if (!s->used)
			continue;
		sb_printf(&b, "%s\n {\"name\":", first ? "" : ",");
		first = false;
		sb_json_str(&b, s->name);
		sb_printf(&b, ",\"phase\":");
		sb_json_str(&b, s->phase);
		sb_printf(&b, ",\"zrtp_state\":");
		if (s->zrtp_state >= 0)
			sb_json_str(&b, zrtp_state_str((enum zrtp_state)s->zrtp_state));
		else
			sb_printf(&b, "null");
		sb_printf(&b, ",\"sas\":");
		sb_json_str(&b, s->sas);
		sb_printf(&b, ",\"verified\":%s,\"continuity\":%s,\"peer_zid\":",
			  s->verified ? "true" : "false",
			  s->continuity ? "true" : "false");
		sb_json_str(&b, s->peer_zid);
		sb_printf(&b, ",\"last_event\":");
		sb_json_str(&b, s->last_event);
		sb_printf(&b, ",\"reason\":");
		sb_json_str(&b, s->reason);
		sb_printf(&b, ",\"events\":%u,\"last_event_time\":%lld",
			  s->n_events, (long long)s->last_time);
		const struct shim_media_stats *t = &s->st;
		sb_printf(&b, ",\"counters\":{\"tx_srtp\":%llu,\"tx_held\":%llu,"
			  "\"tx_clear\":%llu,\"tx_dropped\":%llu,\"tx_err\":%llu,"
			  "\"rx_srtp\":%llu,\"rx_zrtp\":%llu,\"rx_zrtp_bad\":%llu,"
			  "\"rx_auth_fail\":%llu,\"rx_replay\":%llu,"
			  "\"rx_early\":%llu,\"rx_clear\":%llu,"
			  "\"rx_not_reading\":%llu,\"rx_zrtp_peeked\":%llu,"
			  "\"rx_err\":%llu}}",
			  (unsigned long long)t->tx_srtp,
			  (unsigned long long)t->tx_held,
			  (unsigned long long)t->tx_clear,
			  (unsigned long long)t->tx_dropped,
			  (unsigned long long)t->tx_err,
			  (unsigned long long)t->rx_srtp,
			  (unsigned long long)t->rx_zrtp,
			  (unsigned long long)t->rx_zrtp_bad,
			  (unsigned long long)t->rx_auth_fail,
			  (unsigned long long)t->rx_replay,
			  (unsigned long long)t->rx_early,
			  (unsigned long long)t->rx_clear,
			  (unsigned long long)t->rx_not_reading,
			  (unsigned long long)t->rx_zrtp_peeked,
			  (unsigned long long)t->rx_err);
	}
	sb_printf(&b, "\n]}\n");
	if (b.full) {
		free(mem);
		return;
	}
	snprintf(tmp, sizeof tmp, "%s/.%d.json.tmp", dir, (int)pid);
	snprintf(final, sizeof final, "%s/%d.json", dir, (int)pid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		      0600);
	if (fd >= 0) {
		bool ok = fd_write_all(fd, b.p, b.len);
		fd_close(fd);
		if (!ok || rename(tmp, final) != 0)
			unlink(tmp);
	}
	free(mem);
}

/* --- the event command ------------------------------------------------------ */

/* events_mu held. */
static void reap_locked(void)
{
	for (size_t i = 0; i < EV_MAX_CHILDREN; i++) {
		pid_t p = ev_children[i];
		if (p <= 0)
			continue;
		int st;
		pid_t r = waitpid(p, &st, WNOHANG);
		if (r == p) {
			if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
				shim_log(SHIM_LOG_WARN, "event: ZRTPSHIM_ON_EVENT "
					 "command (pid %d) exited with %d",
					 (int)p, WEXITSTATUS(st));
			else if (WIFSIGNALED(st))
				shim_log(SHIM_LOG_WARN, "event: ZRTPSHIM_ON_EVENT "
					 "command (pid %d) killed by signal %d",
					 (int)p, WTERMSIG(st));
			ev_children[i] = 0;
		} else if (r < 0 && errno == ECHILD) {
			ev_children[i] = 0;   /* the client reaped it */
		}
	}
}

static bool is_our_preload(const char *p, size_t n)
{
	static const char me[] = "libzrtpshim";
	for (size_t i = 0; i + sizeof me - 1 <= n; i++)
		if (memcmp(p + i, me, sizeof me - 1) == 0)
			return true;
	return false;
}

/* LD_PRELOAD without our library (separators: space and colon), so the
 * event command does not run under the shim. NULL: nothing left. */
static char *preload_without_us(const char *v)
{
	size_t n = strlen(v);
	char *out = malloc(n + sizeof "LD_PRELOAD=");
	if (!out)
		return NULL;
	size_t o = (size_t)sprintf(out, "LD_PRELOAD=");
	size_t base = o;
	const char *p = v;
	while (*p) {
		size_t l = strcspn(p, " :");
		if (l && !is_our_preload(p, l)) {
			if (o > base)
				out[o++] = ':';
			memcpy(out + o, p, l);
			o += l;
		}
		p += l;
		while (*p == ' ' || *p == ':')
			p++;
	}
	out[o] = '\0';
	if (o == base) {
		free(out);
		return NULL;
	}
	return out;
}

static char *env_pair(const char *k, const char *v)
{
	size_t n = strlen(k) + strlen(v) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s=%s", k, v);
	return s;
}

/* events_mu held. sh -c "$ZRTPSHIM_ON_EVENT" with the event in its
 * environment. */
static void hook_run_locked(const char *event, const char *sas,
			    const char *stream, const char *reason)
{
	size_t slot = EV_MAX_CHILDREN;
	for (size_t i = 0; i < EV_MAX_CHILDREN; i++)
		if (ev_children[i] <= 0) {
			slot = i;
			break;
		}
	if (slot == EV_MAX_CHILDREN) {
		shim_log(SHIM_LOG_WARN, "event: %d ZRTPSHIM_ON_EVENT commands "
			 "still running: not starting another for %s",
			 EV_MAX_CHILDREN, event);
		return;
	}
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **envp = calloc(n + 6, sizeof *envp);
	char *own[5] = { 0 };
	if (!envp)
		return;
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "ZRTPSHIM_EVENT=", 15) == 0 ||
		    strncmp(*e, "ZRTPSHIM_SAS=", 13) == 0 ||
		    strncmp(*e, "ZRTPSHIM_STREAM=", 16) == 0 ||
		    strncmp(*e, "ZRTPSHIM_REASON=", 16) == 0)
			continue;
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
			if (!own[4])
				own[4] = preload_without_us(*e + 11);
			if (own[4])
				envp[k++] = own[4];
			continue;
		}
		envp[k++] = *e;
	}
	own[0] = env_pair("ZRTPSHIM_EVENT", event);
	own[1] = env_pair("ZRTPSHIM_SAS", sas);
	own[2] = env_pair("ZRTPSHIM_STREAM", stream);
	own[3] = env_pair("ZRTPSHIM_REASON", reason);
	for (int i = 0; i < 4; i++)
		if (own[i])
			envp[k++] = own[i];
	envp[k] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* No stdin; the client's other descriptors stay out of it. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	/* The calling thread may block signals (the timer thread does):
	 * the command starts with a clean mask and default dispositions. */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	char *argv[] = { "sh", "-c", shim_config.on_event, NULL };
	pid_t pid;
	int r = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0)
		shim_log(SHIM_LOG_ERROR, "event: cannot run ZRTPSHIM_ON_EVENT "
			 "(%s): %s", event, strerror(r));
	else
		ev_children[slot] = pid;
	for (int i = 0; i < 5; i++)
		free(own[i]);
	free(envp);
}

/* --- shim.h: events ----------------------------------------------------------- */

void shim_events_emit(const char *stream_name, const struct zrtp_event *ev,
		      const char *sas)
{
	if (!stream_name || !ev)
		return;
	if (!sas)
		sas = "";
	int saved = errno;
	const char *name = event_name(ev->type);
	char reason[128];
	event_reason(ev, reason, sizeof reason);
	char zid[25] = "";
	if (ev->peer_zid)
		sodium_bin2hex(zid, sizeof zid, ev->peer_zid, 12);

	if (ev->type == ZRTP_EV_RECV_KEYS) {
		errno = saved;
		return;   /* internal: no news for the user */
	}
	if (ev->type == ZRTP_EV_SECURE)
		shim_log(SHIM_LOG_INFO, "event: secure stream=%s sas=%s "
			 "verified=%s continuity=%s peer-zid=%s", stream_name,
			 sas, ev->verified ? "yes" : "no",
			 ev->rs1_match ? "yes" : "no", zid[0] ? zid : "-");
	else if (ev->type == ZRTP_EV_PEER_HELLO)
		shim_log(SHIM_LOG_DEBUG, "event: peer-hello stream=%s "
			 "peer-zid=%s", stream_name, zid[0] ? zid : "-");
	else
		shim_log(ev->type == ZRTP_EV_GOCLEAR_REFUSED ||
				 ev->type == ZRTP_EV_SASRELAY_IGNORED
			 ? SHIM_LOG_WARN : SHIM_LOG_ERROR,
			 "event: %s stream=%s sas=%s peer-zid=%s reason=\"%s\"",
			 name ? name : ev->type == ZRTP_EV_GOCLEAR_REFUSED
				? "goclear-refused" : "sasrelay-ignored",
			 stream_name, sas, zid[0] ? zid : "-", reason);

	pthread_mutex_lock(&events_mu);
	reap_locked();
	struct ev_stream *s = stream_find_locked(stream_name, true);
	s->seq = ++ev_seq;
	s->live = true;
	s->n_events++;
	s->last_time = time(NULL);
	if (zid[0])
		memcpy(s->peer_zid, zid, sizeof zid);
	switch (ev->type) {
	case ZRTP_EV_SECURE:
		snprintf(s->sas, sizeof s->sas, "%s", sas);
		s->verified = ev->verified;
		s->continuity = ev->rs1_match;
		snprintf(s->phase, sizeof s->phase, "secure");
		s->zrtp_state = ZRTP_ST_SECURE;
		break;
	case ZRTP_EV_FAILED:
		if (strcmp(s->phase, "secure") != 0) {
			/* media.c decides clear vs failed; this is its rule
			 * as far as the event shows it (the next refresh
			 * reads the real phase). */
			bool clear = shim_config.policy == SHIM_POLICY_OPPORTUNISTIC &&
				     ev->reason == ZRTP_FAIL_NO_PEER;
			snprintf(s->phase, sizeof s->phase, "%s",
				 clear ? "clear" : "failed");
		}
		s->zrtp_state = ZRTP_ST_FAILED;
		break;
	case ZRTP_EV_CACHE_MISMATCH:
		s->verified = false;
		break;
	case ZRTP_EV_HELLO_HASH_MISMATCH:
		snprintf(s->phase, sizeof s->phase, "failed");
		break;
	default:
		break;
	}
	if (ev->type != ZRTP_EV_PEER_HELLO) {
		snprintf(s->last_event, sizeof s->last_event, "%s",
			 name ? name : ev->type == ZRTP_EV_GOCLEAR_REFUSED
				? "goclear-refused" : "sasrelay-ignored");
		snprintf(s->reason, sizeof s->reason, "%s", reason);
	} else if (!s->last_event[0]) {
		snprintf(s->last_event, sizeof s->last_event, "peer-hello");
	}
	status_write_locked();
	if (name && shim_config.on_event[0])
		hook_run_locked(name, sas, stream_name, reason);
	pthread_mutex_unlock(&events_mu);
	errno = saved;
}

void shim_status_refresh(void)
{
	int saved = errno;
	struct shim_media_stats *snap = malloc(EV_MAX_STREAMS * sizeof *snap);
	size_t n = 0;
	if (snap)
		while (n < EV_MAX_STREAMS &&
		       shim_media_stats_get(n, &snap[n]) == 0)
			n++;
	pthread_mutex_lock(&events_mu);
	reap_locked();
	if (snap) {
		for (size_t i = 0; i < EV_MAX_STREAMS; i++)
			ev_streams[i].live = false;
		for (size_t i = 0; i < n; i++) {
			struct ev_stream *s = stream_find_locked(snap[i].name,
								 true);
			s->live = true;
			if (!s->seq)
				s->seq = ++ev_seq;
			s->st = snap[i];
			s->have_counters = true;
			s->zrtp_state = snap[i].zrtp_state;
			if (snap[i].phase)
				snprintf(s->phase, sizeof s->phase, "%s",
					 snap[i].phase);
			if (snap[i].sas[0])
				snprintf(s->sas, sizeof s->sas, "%s",
					 snap[i].sas);
		}
		/* Streams media.c has let go of have ended. */
		for (size_t i = 0; i < EV_MAX_STREAMS; i++) {
			struct ev_stream *s = &ev_streams[i];
			if (s->used && !s->live &&
			    strcmp(s->phase, "failed") != 0)
				snprintf(s->phase, sizeof s->phase, "ended");
		}
	}
	status_write_locked();
	pthread_mutex_unlock(&events_mu);
	free(snap);
	errno = saved;
}

/* --- shim.h: the key log -------------------------------------------------------- */

static void addr_from_ss(const struct sockaddr_storage *ss,
			 struct keylog_addr *a)
{
	memset(a, 0, sizeof *a);
	a->any_ip = a->any_port = true;
	if (!ss)
		return;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->any_ip = a->any_port = false;
		a->family = 4;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->any_ip = a->any_port = false;
		a->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			/* The wire (and the capture) shows IPv4. */
			a->family = 4;
			memcpy(a->ip, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			a->family = 6;
			memcpy(a->ip, &s6->sin6_addr, 16);
		}
	}
}

/*
 * One key log line in common/keylog.h's format, with one thing the shim
 * cannot know: the RTP SSRCs, which the client picks (and may change)
 * after the keys are made, so the line says "ssrc=*" (any SSRC between
 * these addresses). The addresses pin the stream: our side as "*:PORT"
 * (the socket may be bound to the wildcard address), the peer's as
 * announced in its SDP.
 */
static int keylog_line(char *buf, size_t cap, const char *stream,
		       enum suite prof, const struct keylog_addr *src,
		       const struct keylog_addr *dst, const uint8_t *key,
		       size_t key_len, const uint8_t *salt)
{
	struct keylog_entry e;
	int n;

	memset(&e, 0, sizeof e);
	e.any_ssrc = true;
	e.src = *src;
	e.dst = *dst;
	e.profile = prof;
	if (key_len > sizeof e.key)
		return -EINVAL;
	memcpy(e.key, key, key_len);
	e.key_len = key_len;
	memcpy(e.salt, salt, KEYLOG_SALT_LEN);
	n = keylog_format_named(buf, cap, &e, stream);
	explicit_bzero(&e, sizeof e);
	return n;
}

void shim_keylog_write(const char *stream_name, uint16_t local_rtp_port,
		       uint16_t local_rtcp_port,
		       const struct sockaddr_storage *peer_rtp,
		       const struct sockaddr_storage *peer_rtcp,
		       const struct zrtp_srtp_keys *keys)
{
	if (!shim_config.keylog[0] || !keys)
		return;
	int saved = errno;
	enum suite prof;
	if (suite_from_zrtp(keys->cipher, keys->auth, keys->key_len,
			    &prof) < 0) {
		shim_log(SHIM_LOG_ERROR, "keylog: stream %s: key length %zu "
			 "does not fit its profile: not logged", stream_name,
			 keys->key_len);
		errno = saved;
		return;
	}

	struct keylog_addr loc_rtp, loc_rtcp, peer_a, peer_c;
	memset(&loc_rtp, 0, sizeof loc_rtp);
	loc_rtp.any_ip = true;
	loc_rtp.port = local_rtp_port;
	loc_rtp.any_port = local_rtp_port == 0;
	loc_rtcp = loc_rtp;
	loc_rtcp.port = local_rtcp_port;
	loc_rtcp.any_port = local_rtcp_port == 0;
	addr_from_ss(peer_rtp, &peer_a);
	addr_from_ss(peer_rtcp, &peer_c);
	bool rtcp_apart = local_rtcp_port && local_rtcp_port != local_rtp_port;

	/* Up to four lines: RTP each way, and RTCP each way when it has its
	 * own ports (SRTCP uses the same master key and salt). */
	char buf[4 * KEYLOG_LINE_MAX];
	size_t len = 0;
	int r = 0;
	struct { const struct keylog_addr *src, *dst; bool local; } dirs[4] = {
		{ &loc_rtp, &peer_a, true }, { &peer_a, &loc_rtp, false },
		{ &loc_rtcp, &peer_c, true }, { &peer_c, &loc_rtcp, false },
	};
	for (int i = 0; i < (rtcp_apart ? 4 : 2) && r >= 0; i++) {
		r = keylog_line(buf + len, sizeof buf - len, stream_name, prof,
				dirs[i].src, dirs[i].dst,
				dirs[i].local ? keys->local_key : keys->remote_key,
				keys->key_len,
				dirs[i].local ? keys->local_salt : keys->remote_salt);
		if (r > 0)
			len += (size_t)r;
	}
	if (r < 0) {
		explicit_bzero(buf, sizeof buf);
		shim_log(SHIM_LOG_ERROR, "keylog: stream %s: cannot format the "
			 "key log line: not logged", stream_name);
		errno = saved;
		return;
	}

	pthread_mutex_lock(&events_mu);
	if (!keylog_warned) {
		keylog_warned = true;
		shim_log(SHIM_LOG_WARN, "keylog: WARNING: SRTP keys of this "
			 "process's calls are written to %s: anyone who can "
			 "read it can decrypt them. Unset ZRTPSHIM_KEYLOG "
			 "unless you are testing.", shim_config.keylog);
	}
	int fd = open(shim_config.keylog,
		      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
	bool ok = fd >= 0 && fd_write_all(fd, buf, len);
	int err = errno;
	if (fd >= 0)
		fd_close(fd);
	pthread_mutex_unlock(&events_mu);
	explicit_bzero(buf, sizeof buf);
	if (!ok)
		shim_log(SHIM_LOG_ERROR, "keylog: cannot append to %s: %s",
			 shim_config.keylog, strerror(err));
	else
		shim_log(SHIM_LOG_INFO, "keylog: stream %s: keys written",
			 stream_name);
	errno = saved;
}
