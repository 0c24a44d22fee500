/*
 * What the user is told of a stream's ZRTP events (events.h, DESIGN.md
 * "The user's surface"): one log line per event with the SAS, the
 * listener (the status file), and the ZRTPSHIM_ON_EVENT command.
 *
 * Calling context: shim_events_emit runs on whatever thread fed the
 * engine, with that stream's lock held. It must not call into the media
 * layer and must not block for long: it takes only events_mu (a leaf
 * lock, for the children's pids), and starts the event command with
 * posix_spawn (vfork-like: no fork(), which the shim hooks, and the caller
 * waits only until the exec).
 *
 * Event commands are our children: we remember their pids and reap only
 * those (waitpid(pid, WNOHANG) at each event and refresh), never
 * waitpid(-1), so the client's own children are left to the client.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "shim/cache.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/settings.h"
#include "zrtp/zrtp.h"

extern char **environ;

#define EV_MAX_CHILDREN 16

static pthread_mutex_t events_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t ev_children[EV_MAX_CHILDREN];   /* events_mu */
static shim_events_listener_fn *_Atomic ev_listeners[SHIM_EVENTS_MAX_LISTENERS];

static void listeners_call(const struct shim_event_note *n)
{
	for (int i = 0; i < SHIM_EVENTS_MAX_LISTENERS; i++) {
		shim_events_listener_fn *fn = atomic_load(&ev_listeners[i]);
		if (fn)
			fn(n);
	}
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

/* --- events.h ---------------------------------------------------------------- */

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
	/* Who the peer is, as the cache knows its ZID (at SECURE the media
	 * layer has just stored the names of this call). */
	char peer_name[200] = "";
	if (zid[0])
		shim_cache_peer_label(zid, peer_name, sizeof peer_name);
	if (ev->type == ZRTP_EV_SECURE)
		shim_log(SHIM_LOG_INFO, "event: secure stream=%s sas=%s "
			 "verified=%s continuity=%s peer-zid=%s%s%s%s",
			 stream_name, sas, ev->verified ? "yes" : "no",
			 ev->rs1_match ? "yes" : "no", zid[0] ? zid : "-",
			 peer_name[0] ? " peer=\"" : "", peer_name,
			 peer_name[0] ? "\"" : "");
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

	struct shim_event_note note = {
		.kind = SHIM_EVENT_ZRTP,
		.stream = stream_name, .ev = ev, .sas = sas, .reason = reason,
		.peer_zid = zid, .peer_name = peer_name,
		.label = ev->type == ZRTP_EV_PEER_HELLO ? "peer-hello"
			 : name ? name : ev->type == ZRTP_EV_GOCLEAR_REFUSED
			 ? "goclear-refused" : "sasrelay-ignored",
	};
	listeners_call(&note);
	pthread_mutex_lock(&events_mu);
	reap_locked();
	if (name && shim_config.on_event[0])
		hook_run_locked(name, sas, stream_name, reason);
	pthread_mutex_unlock(&events_mu);
	errno = saved;
}

/*
 * Not the engine's: a new zrtp_event_type would put a value in the
 * engine's public enum that the engine never produces, and altered media
 * is a fact about SRTP, which the engine never sees. So it is a shim
 * event of its own kind, through the same listener and hook.
 */
void shim_events_emit_altered(const char *stream_name, bool altered,
			      const char *sas, const char *detail)
{
	if (!stream_name)
		return;
	if (!sas)
		sas = "";
	int saved = errno;
	char reason[256];
	if (altered)
		snprintf(reason, sizeof reason, "media is modified in the path: "
			 "a transcoder or an SBC terminates it (%s); nothing of "
			 "it is delivered, the stream stays protected",
			 detail ? detail : "");
	else
		snprintf(reason, sizeof reason, "authenticated media again (%s)",
			 detail ? detail : "");
	const char *name = altered ? "altered" : "altered-end";
	shim_log(altered ? SHIM_LOG_ERROR : SHIM_LOG_INFO,
		 "event: %s stream=%s sas=%s reason=\"%s\"", name, stream_name,
		 sas, reason);

	struct shim_event_note note = {
		.kind = altered ? SHIM_EVENT_ALTERED : SHIM_EVENT_ALTERED_END,
		.stream = stream_name, .ev = NULL, .label = name, .sas = sas,
		.reason = reason, .peer_zid = "", .peer_name = "",
	};
	listeners_call(&note);
	pthread_mutex_lock(&events_mu);
	reap_locked();
	if (altered && shim_config.on_event[0])
		hook_run_locked(name, sas, stream_name, reason);
	pthread_mutex_unlock(&events_mu);
	errno = saved;
}

void shim_events_emit_shim(enum shim_event_kind kind, const char *stream_name,
			   const char *label, const char *sas,
			   const char *peer_zid, const char *reason)
{
	if (!stream_name || !label)
		return;
	int saved = errno;
	sas = sas ? sas : "";
	peer_zid = peer_zid ? peer_zid : "";
	reason = reason ? reason : "";
	enum shim_log_level lvl = kind == SHIM_EVENT_PIN_ALARM ||
				  kind == SHIM_EVENT_LIMIT ? SHIM_LOG_ERROR
				  : kind == SHIM_EVENT_CLEAR ? SHIM_LOG_WARN
				  : SHIM_LOG_INFO;
	shim_log(lvl, "event: %s stream=%s sas=%s peer-zid=%s reason=\"%s\"",
		 label, stream_name, sas, peer_zid[0] ? peer_zid : "-", reason);

	char peer_name[200] = "";
	if (peer_zid[0])
		shim_cache_peer_label(peer_zid, peer_name, sizeof peer_name);
	struct shim_event_note note = {
		.kind = kind, .stream = stream_name, .ev = NULL, .label = label,
		.sas = sas, .reason = reason, .peer_zid = peer_zid,
		.peer_name = peer_name,
	};
	listeners_call(&note);
	pthread_mutex_lock(&events_mu);
	reap_locked();
	if (shim_config.on_event[0])
		hook_run_locked(label, sas, stream_name, reason);
	pthread_mutex_unlock(&events_mu);
	errno = saved;
}

int shim_events_add_listener(shim_events_listener_fn *fn)
{
	for (int i = 0; i < SHIM_EVENTS_MAX_LISTENERS; i++) {
		shim_events_listener_fn *none = NULL;
		if (atomic_compare_exchange_strong(&ev_listeners[i], &none, fn))
			return 0;
	}
	return -ENOSPC;
}

void shim_events_reap(void)
{
	int saved = errno;

	pthread_mutex_lock(&events_mu);
	reap_locked();
	pthread_mutex_unlock(&events_mu);
	errno = saved;
}
