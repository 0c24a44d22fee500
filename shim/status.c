/*
 * The status file (status.h), $ZRTPSHIM_DIR/status/<pid>.json, that
 * `zrtpshim status` reads: the live streams ("streams") and a bounded
 * history of ended ones ("history", at most shim_config.history entries,
 * oldest first, the oldest dropped first).
 *
 * It is rewritten whole and atomically (temporary file, rename) by the
 * timer thread only (shim_status_timer_run): at most once a second while
 * any stream is live, so the counters are current during a call, and
 * within ST_MIN_WRITE_MS (never more often) after something asked for it:
 * an event (shim_status_on_event, events.c's listener, records it in
 * memory), a line noted unprotected, a SIP message (shim_status_refresh,
 * which only marks and kicks the timer). The application's threads never
 write it. Just before a call's streams end, sipglue has that call's
 * final counters taken into the table (shim_status_call_ending: that
 * call's streams only, found without a scan); the timer writes them.
 * Only with no stream lock held may we ask the media layer for counters
 * (shim_media_stats_all takes the stream locks), which is why the packet
 * path never refreshes. The first refresh that no longer finds a stream
 * the media layer once reported moves it to the history.
 *
 * Costs: a refresh is one pass over the streams (one snapshot of all, each
 * entry found by name in a hash map) and one JSON text of them, O(N) on
 * the timer thread, at most every ST_MIN_WRITE_MS; the file is written
 * after status_mu is released, so an event on the packet path never waits
 * for the write.
 *
 * status_mu guards the tables and the file; it is a leaf lock, taken with
 * a stream lock held (on events) or with none (refresh, timer). The
 * refresh takes the media layer's locks before status_mu, never inside.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/strmap.h"
#include "shim/events.h"
#include "shim/log.h"
#include "shim/media.h"
#include "shim/real.h"
#include "shim/settings.h"
#include "shim/status.h"
#include "shim/timer.h"
#include "zrtp/zrtp.h"

/* The table grows by doubling up to this ceiling; at the ceiling the
 * stalest entry moves to the history (the status file only reports: no
 * call is cut). */
#ifndef ST_MAX_STREAMS
#define ST_MAX_STREAMS 16384
#endif
#define ST_REFRESH_MS 1000u       /* the timer's refresh while streams live */
#define ST_BUF_START (64u * 1024u)

struct st_stream {
	bool used;
	struct st_stream *next_free;  /* !used: the free list */
	bool live;                 /* seen in the last stats snapshot */
	uint64_t seq;              /* last touched (for eviction) */
	char name[128];
	char phase[16];
	char last_event[24];
	char sas[32];
	char reason[256];
	char peer_zid[25];
	char peer[200];            /* the peer's name and SIP identity */
	char unprotected[200];     /* "" or why (part of) it is not protected */
	bool verified, continuity;
	bool altered;              /* in an "altered" episode */
	bool have_counters;
	int zrtp_state;
	unsigned n_events;
	time_t last_time;
	time_t ended;              /* history: when it moved there */
	struct shim_media_stats st;
};

static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
/* st_cap entries, each allocated on its own (pointers into it stay valid
 * while the table grows); unused ones have used false. */
static struct st_stream **st_streams;
static size_t st_cap;
/* name -> used entry (the key is the entry's name); unused entries on a
 * list: finding or making an entry costs no scan of the table. */
static struct strmap st_by_name = STRMAP_INIT;
static struct st_stream *st_free;
static uint64_t st_seq;
static bool status_dir_ok, status_dir_tried;

/* The history: a ring of hist_cap (shim_config.history) entries, made on
 * the first stream that ends; hist_head is the oldest. */
static struct st_stream *st_hist;
static size_t hist_cap, hist_head, hist_n;
static bool hist_tried;

/* The file's text, kept between writes (no allocation per write once it
 * is big enough). */
static char *st_buf;
static size_t st_buf_cap;

static void history_add_locked(struct st_stream *s);

/* Something changed that the file does not show yet (an event, a SIP
 * message): the timer thread writes it, at most every ST_MIN_WRITE_MS. */
#define ST_MIN_WRITE_MS 200u
static atomic_bool st_want;
uint64_t shim_status_timer_run(uint64_t now);

static void status_dirty(void)
{
	atomic_store(&st_want, true);
	shim_timer_kick(shim_status_timer_run);
}

/* --- the stream table (status_mu held) ------------------------------------- */


/* The stalest entry the media layer has forgotten, else the stalest of
 * all: a full table at its ceiling only (a scan). */
static struct st_stream *stream_oldest_locked(void)
{
	struct st_stream *oldest = NULL;
	for (size_t i = 0; i < st_cap; i++) {
		struct st_stream *s = st_streams[i];
		if (s->used &&
		    (!oldest || (oldest->live && !s->live) ||
		     (oldest->live == s->live && s->seq < oldest->seq)))
			oldest = s;
	}
	return oldest;
}

static struct st_stream *stream_find_locked(const char *name, bool create)
{
	size_t len = strnlen(name, sizeof st_free->name - 1);
	struct st_stream *s = strmap_get(&st_by_name, name, len);
	if (s || !create)
		return s;
	if (!st_free && st_cap < ST_MAX_STREAMS) {
		size_t cap = st_cap ? st_cap * 2 : 16;
		struct st_stream **t = realloc(st_streams, cap * sizeof *t);
		size_t k = st_cap;
		if (t) {
			st_streams = t;
			for (; k < cap; k++) {
				if (!(t[k] = calloc(1, sizeof *t[k])))
					break;
				t[k]->next_free = st_free;
				st_free = t[k];
			}
			st_cap = k;
		}
	}
	if (!st_free) {
		struct st_stream *oldest = stream_oldest_locked();
		if (!oldest)
			return NULL;
		history_add_locked(oldest);   /* a full table: the stalest ends here */
	}
	s = st_free;
	st_free = s->next_free;
	memset(s, 0, sizeof *s);
	s->used = true;
	s->live = true;
	s->zrtp_state = -1;
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->phase, sizeof s->phase, "negotiating");
	if (strmap_put(&st_by_name, s->name, len, s) < 0) {
		s->used = false;
		s->next_free = st_free;
		st_free = s;
		return NULL;
	}
	return s;
}

/* The newest history entry named name, or NULL. */
static struct st_stream *history_find_locked(const char *name)
{
	for (size_t k = hist_n; k-- > 0;) {
		struct st_stream *h = &st_hist[(hist_head + k) % hist_cap];
		if (strcmp(h->name, name) == 0)
			return h;
	}
	return NULL;
}

/* The entry an event about stream name updates: the live one; else an
 * ended one in the history (a late event, after the call's end moved it
 * there); else a new live one. */
static struct st_stream *stream_for_event_locked(const char *name)
{
	struct st_stream *s = stream_find_locked(name, false);
	if (!s)
		s = history_find_locked(name);
	return s ? s : stream_find_locked(name, true);
}

/*
 * Move a live entry to the history (and free its slot). Its phase says
 * how it ended: "failed" and "unprotected" stay, anything else was a call
 * that ended. With ZRTPSHIM_HISTORY=0 (or no memory) it is dropped.
 */
static void history_add_locked(struct st_stream *s)
{
	if (!hist_tried) {
		hist_tried = true;
		hist_cap = shim_config.history;
		if (hist_cap) {
			st_hist = calloc(hist_cap, sizeof *st_hist);
			if (!st_hist) {
				hist_cap = 0;
				shim_log(SHIM_LOG_WARN, "status: no memory for "
					 "a history of %u streams: ended streams "
					 "are dropped", shim_config.history);
			}
		}
	}
	if (strcmp(s->phase, "failed") != 0 &&
	    strcmp(s->phase, "unprotected") != 0)
		snprintf(s->phase, sizeof s->phase, "ended");
	if (hist_cap) {
		struct st_stream *h;
		if (hist_n < hist_cap) {
			h = &st_hist[(hist_head + hist_n) % hist_cap];
			hist_n++;
		} else {   /* full: the oldest goes */
			h = &st_hist[hist_head];
			hist_head = (hist_head + 1) % hist_cap;
		}
		*h = *s;
		h->live = false;
		h->next_free = NULL;
		h->ended = time(NULL);
	}
	strmap_del(&st_by_name, s->name, strnlen(s->name, sizeof s->name - 1));
	memset(s, 0, sizeof *s);
	s->next_free = st_free;
	st_free = s;
}

/* --- the status file -------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool full;
};

/* Room for n more bytes and a NUL: the buffer grows (doubling) when they
 * do not fit. A failed allocation marks it full: that write is skipped. */
static bool sb_room(struct sbuf *b, size_t n)
{
	if (b->full)
		return false;
	if (b->cap - b->len > n)
		return true;
	size_t cap = b->cap * 2;
	while (cap - b->len <= n)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->full = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* Appends formatted text. */
__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	for (;;) {
		if (b->full)
			return;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->full = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		if (!sb_room(b, (size_t)n))
			return;
	}
}

/* Appends n bytes as they are. */
static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (!sb_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A JSON string (RFC 8259 §7): Call-IDs may hold quotes and backslashes.
 * The runs that need no escape go in whole (a refresh a second formats
 * every stream's strings: one vsnprintf per character cost some 50,000
 * instructions a refresh). */
static void sb_json_str(struct sbuf *b, const char *s)
{
	sb_put(b, "\"", 1);
	while (*s) {
		size_t run = 0;
		unsigned char c;
		while ((c = (unsigned char)s[run]) != '\0' && c != '"' &&
		       c != '\\' && c >= 0x20 && c < 0x7f)
			run++;
		sb_put(b, s, run);
		s += run;
		if (!*s)
			break;
		c = (unsigned char)*s++;
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else
			sb_printf(b, "\\u%04x", c);
	}
	sb_put(b, "\"", 1);
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

/* One stream's object, on a line of its own (tools/status.c reads the
 * file line by line). */
static void sb_stream(struct sbuf *b, const struct st_stream *s, bool first)
{
	sb_printf(b, "%s\n {\"name\":", first ? "" : ",");
	sb_json_str(b, s->name);
	sb_printf(b, ",\"phase\":");
	sb_json_str(b, s->phase);
	sb_printf(b, ",\"zrtp_state\":");
	if (s->zrtp_state >= 0)
		sb_json_str(b, zrtp_state_str((enum zrtp_state)s->zrtp_state));
	else
		sb_printf(b, "null");
	sb_printf(b, ",\"sas\":");
	sb_json_str(b, s->sas);
	sb_printf(b, ",\"verified\":%s,\"continuity\":%s,\"peer_zid\":",
		  s->verified ? "true" : "false",
		  s->continuity ? "true" : "false");
	sb_json_str(b, s->peer_zid);
	sb_printf(b, ",\"peer\":");
	sb_json_str(b, s->peer);
	sb_printf(b, ",\"last_event\":");
	sb_json_str(b, s->last_event);
	sb_printf(b, ",\"reason\":");
	sb_json_str(b, s->reason);
	sb_printf(b, ",\"altered\":%s", s->altered ? "true" : "false");
	sb_printf(b, ",\"unprotected\":");
	if (s->unprotected[0])
		sb_json_str(b, s->unprotected);
	else
		sb_printf(b, "null");
	sb_printf(b, ",\"events\":%u,\"last_event_time\":%lld",
		  s->n_events, (long long)s->last_time);
	if (s->ended)
		sb_printf(b, ",\"ended\":%lld", (long long)s->ended);
	const struct shim_media_stats *t = &s->st;
	sb_printf(b, ",\"counters\":{\"tx_srtp\":%llu,\"tx_held\":%llu,"
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

/* status_mu held. The file's text into st_buf: its length, 0 when there
 * is nothing to write (no directory, no memory). The caller writes it
 * with status_write_text once status_mu is released (snap_mu, held by the
 * one refresh at a time, keeps st_buf for it). */
static size_t status_format_locked(void)
{
	char dir[4200];
	if (!status_dir(dir, sizeof dir))
		return 0;
	if (!st_buf) {
		st_buf = malloc(ST_BUF_START);
		if (!st_buf)
			return 0;
		st_buf_cap = ST_BUF_START;
	}
	struct sbuf b = { st_buf, 0, st_buf_cap, false };
	pid_t pid = getpid();
	sb_printf(&b, "{\"pid\":%d,\"updated\":%lld,\"policy\":\"%s\","
		  "\"keylog\":%s,\"history_max\":%u,\"streams\":[", (int)pid,
		  (long long)time(NULL),
		  shim_config.policy == SHIM_POLICY_OPPORTUNISTIC ?
		  "opportunistic" : "require",
		  shim_config.keylog[0] ? "true" : "false",
		  shim_config.history);
	bool first = true;
	for (size_t i = 0; i < st_cap; i++) {
		if (!st_streams[i]->used)
			continue;
		sb_stream(&b, st_streams[i], first);
		first = false;
	}
	sb_printf(&b, "\n],\"history\":[");
	for (size_t k = 0; k < hist_n; k++)
		sb_stream(&b, &st_hist[(hist_head + k) % hist_cap], k == 0);
	sb_printf(&b, "\n]}\n");
	st_buf = b.p;      /* it may have grown */
	st_buf_cap = b.cap;
	return b.full ? 0 : b.len;
}

/* The file's name and its spare's (the previous text, hidden). */
static bool status_paths(char *final, char *spare, size_t cap)
{
	char dir[4200];
	int pid = (int)getpid();
	if (!status_dir(dir, sizeof dir))
		return false;
	int a = snprintf(final, cap, "%s/%d.json", dir, pid);
	int b = snprintf(spare, cap, "%s/.%d.json.tmp", dir, pid);
	return a > 0 && (size_t)a < cap && b > 0 && (size_t)b < cap;
}

/* RENAME_EXCHANGE works here (cleared when the file system refuses it). */
static bool st_exchange = true;

/*
 * No lock but snap_mu held: st_buf's len bytes, atomically. The text is
 * written over the spare file (the one before last, kept under the hidden
 * name), which then trades names with the file (renameat2
 * RENAME_EXCHANGE): a reader sees the old text or the new one, whole, and
 * no file is made or deleted per write. Renaming a new file over the old
 * one cost the file system an inode and its blocks at every refresh, once
 * a second per process during calls: most of the timer thread's CPU.
 * Where the exchange is refused (a file system without it), or there is
 * no file yet, the spare is renamed over it as before.
 */
static void status_write_text(size_t len)
{
	char final[4300], spare[4300];
	if (!len || !status_paths(final, spare, sizeof final))
		return;
	int fd = open(spare, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	bool ok = shim_real_write_all(fd, st_buf, len) &&
		  ftruncate(fd, (off_t)len) == 0;
	shim_real.close(fd);
	if (!ok) {
		unlink(spare);
		return;
	}
	if (st_exchange &&
	    renameat2(AT_FDCWD, spare, AT_FDCWD, final, RENAME_EXCHANGE) == 0)
		return;
	if (st_exchange && errno != ENOENT)   /* EINVAL: not here */
		st_exchange = false;
	if (rename(spare, final) != 0)
		unlink(spare);
}

/* --- status.h ---------------------------------------------------------------- */

void shim_status_on_event(const struct shim_event_note *n)
{
	const struct zrtp_event *ev = n->ev;
	int saved = errno;

	if (n->kind != SHIM_EVENT_ZRTP) {
		pthread_mutex_lock(&status_mu);
		struct st_stream *s = stream_for_event_locked(n->stream);
		if (!s) {              /* out of memory: not recorded */
			pthread_mutex_unlock(&status_mu);
			errno = saved;
			return;
		}
		s->seq = ++st_seq;
		s->n_events++;
		s->last_time = time(NULL);
		s->altered = n->kind == SHIM_EVENT_ALTERED;
		if (n->peer_name && n->peer_name[0])
			snprintf(s->peer, sizeof s->peer, "%s", n->peer_name);
		snprintf(s->last_event, sizeof s->last_event, "%s", n->label);
		snprintf(s->reason, sizeof s->reason, "%s", n->reason);
		pthread_mutex_unlock(&status_mu);
		status_dirty();
		errno = saved;
		return;
	}
	pthread_mutex_lock(&status_mu);
	struct st_stream *s = stream_for_event_locked(n->stream);
	if (!s) {
		pthread_mutex_unlock(&status_mu);
		errno = saved;
		return;
	}
	s->seq = ++st_seq;
	s->n_events++;
	s->last_time = time(NULL);
	if (n->peer_zid[0])
		snprintf(s->peer_zid, sizeof s->peer_zid, "%s", n->peer_zid);
	if (n->peer_name && n->peer_name[0])
		snprintf(s->peer, sizeof s->peer, "%s", n->peer_name);
	switch (ev->type) {
	case ZRTP_EV_SECURE:
		snprintf(s->sas, sizeof s->sas, "%s", n->sas);
		s->verified = ev->verified;
		s->continuity = ev->rs1_match;
		snprintf(s->phase, sizeof s->phase, "secure");
		s->zrtp_state = ZRTP_ST_SECURE;
		break;
	case ZRTP_EV_FAILED:
		if (strcmp(s->phase, "secure") != 0) {
			/* the media layer decides clear vs failed; this is its rule
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
		snprintf(s->last_event, sizeof s->last_event, "%s", n->label);
		snprintf(s->reason, sizeof s->reason, "%s", n->reason);
	} else if (!s->last_event[0]) {
		snprintf(s->last_event, sizeof s->last_event, "%s", n->label);
	}
	pthread_mutex_unlock(&status_mu);
	status_dirty();
	errno = saved;
}

void shim_status_note_unprotected(const char *stream_name, bool whole,
				  const char *why)
{
	int saved = errno;

	pthread_mutex_lock(&status_mu);
	struct st_stream *s = stream_find_locked(stream_name, true);
	if (!s) {
		pthread_mutex_unlock(&status_mu);
		errno = saved;
		return;
	}
	s->seq = ++st_seq;
	snprintf(s->unprotected, sizeof s->unprotected, "%s", why);
	if (whole)
		snprintf(s->phase, sizeof s->phase, "unprotected");
	pthread_mutex_unlock(&status_mu);
	status_dirty();
	errno = saved;
}

/* status_mu held. Take a stream's counters into its entry. */
static void stream_take_locked(const struct shim_media_stats *st)
{
	struct st_stream *s = stream_find_locked(st->name, true);
	if (!s)
		return;
	s->live = true;
	if (!s->seq)
		s->seq = ++st_seq;
	s->st = *st;
	s->have_counters = true;
	s->zrtp_state = st->zrtp_state;
	s->altered = st->altered;
	if (st->phase)
		snprintf(s->phase, sizeof s->phase, "%s", st->phase);
	if (st->sas[0])
		snprintf(s->sas, sizeof s->sas, "%s", st->sas);
}

/* The snapshot buffer, kept between refreshes; snap_mu: one refresh (or
 * call's final counters) at a time, and it also keeps st_buf for the
 * write after status_mu is released. */
static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shim_media_stats *snap_buf;
static size_t snap_cap;

/* snap_mu held. Room for n snapshots; false if memory is short. */
static bool snap_reserve(size_t n)
{
	if (n <= snap_cap)
		return true;
	size_t cap = snap_cap ? snap_cap : 64;
	while (cap < n)
		cap *= 2;
	struct shim_media_stats *t = realloc(snap_buf, cap * sizeof *t);
	if (!t)
		return false;
	snap_buf = t;
	snap_cap = cap;
	return true;
}

/* The refresh; returns how many streams the media layer has live. */
static size_t status_refresh(void)
{
	int saved = errno;
	pthread_mutex_lock(&snap_mu);
	size_t n;
	bool ok = snap_reserve(64);
	/* Streams may start between the count and the copy: ask again with
	 * the room the count said (a few times at most). */
	for (int tries = 0;; tries++) {
		n = ok ? shim_media_stats_all(snap_buf, snap_cap) : 0;
		if (n <= snap_cap || tries == 3 || !(ok = snap_reserve(n + 16)))
			break;
	}
	if (n > snap_cap)
		n = snap_cap;
	shim_events_reap();
	pthread_mutex_lock(&status_mu);
	if (ok) {
		for (size_t i = 0; i < st_cap; i++)
			st_streams[i]->live = false;
		for (size_t i = 0; i < n; i++)
			stream_take_locked(&snap_buf[i]);
		/* Streams the media layer has let go of have ended. One it
		 * never reported (an event raced the snapshot, a line only
		 * noted unprotected) stays until the table needs its slot. */
		for (size_t i = 0; i < st_cap; i++) {
			struct st_stream *s = st_streams[i];
			if (s->used && !s->live && s->have_counters)
				history_add_locked(s);
		}
	}
	size_t len = status_format_locked();
	pthread_mutex_unlock(&status_mu);
	status_write_text(len);
	pthread_mutex_unlock(&snap_mu);
	errno = saved;
	return n;
}

void shim_status_refresh(void)
{
	status_dirty();
}

void shim_status_call_ending(const char *call_id, size_t len)
{
	struct shim_media_stats one[8];
	int saved = errno;
	size_t n = shim_media_stats_call(call_id, len, one,
					 sizeof one / sizeof one[0]);
	if (n > sizeof one / sizeof one[0])
		n = sizeof one / sizeof one[0];
	shim_events_reap();
	pthread_mutex_lock(&status_mu);
	for (size_t i = 0; i < n; i++)
		stream_take_locked(&one[i]);
	pthread_mutex_unlock(&status_mu);
	status_dirty();
	errno = saved;
}

/* Timer thread only. */
static uint64_t timer_next_ms, timer_last_ms;
static bool timer_was_live;

/*
 * Once a second while the media layer has a stream, and once more a
 * second after the last one went (so a history move the SIP path did not
 * write is written). Idle, it waits for the next kick: the media layer
 * kicks when a stream starts.
 */
uint64_t shim_status_timer_run(uint64_t now)
{
	bool want = atomic_load(&st_want);
	if (want && timer_last_ms && now < timer_last_ms + ST_MIN_WRITE_MS) {
		uint64_t t = timer_last_ms + ST_MIN_WRITE_MS;
		return timer_next_ms && timer_next_ms < t ? timer_next_ms : t;
	}
	if (!want && now < timer_next_ms)
		return timer_next_ms;
	atomic_store(&st_want, false);
	timer_last_ms = now;
	size_t n = status_refresh();
	if (n == 0 && !timer_was_live) {
		timer_next_ms = 0;
		return UINT64_MAX;
	}
	timer_was_live = n > 0;
	timer_next_ms = now + ST_REFRESH_MS;
	return timer_next_ms;
}

/* A process that exits within ST_MIN_WRITE_MS of its last change (the
 * last call's BYE, then exit) would leave the file saying what was true
 * before it: write what is pending once more on the way out, as the
 * cache does. */
__attribute__((destructor)) static void status_at_exit(void)
{
	if (atomic_exchange(&st_want, false))
		status_refresh();
	/* the spare (status_write_text) is no one's business after us */
	char final[4300], spare[4300];
	if (pthread_mutex_trylock(&snap_mu) != 0)
		return;   /* a refresh still running: it stays */
	if (status_paths(final, spare, sizeof final))
		unlink(spare);
	pthread_mutex_unlock(&snap_mu);
}

void shim_status_atfork_child(void)
{
	pthread_mutex_init(&status_mu, NULL);
	timer_next_ms = 0;
	timer_last_ms = 0;
	timer_was_live = false;
	atomic_store(&st_want, false);
}
