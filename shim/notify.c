/*
 * Desktop notifications (notify.h, DESIGN.md "The user's loop"): an
 * org.freedesktop.Notifications.Notify method call (Desktop Notifications
 * Specification 1.2, signature susssasa{sv}i) on the session bus.
 *
 * How we talk D-Bus: libdbus, opened with dlopen("libdbus-1.so.3") the
 * first time a notification is sent, not linked and not a wire protocol
 * of our own. libdbus already does what a minimal implementation would
 * get subtly wrong in a library injected into every client: every address
 * form a session may use (unix:path=, unix:abstract=, several ;-separated
 * entries, tcp:), the SASL handshake and the marshalling. dlopen keeps the
 * shim free of a link dependency (a host without libdbus simply gets no
 * notification) and, when the client has libdbus loaded already, gives us
 * the very same copy instead of a second one in the process. We use a
 * private connection of our own (dbus_connection_open_private +
 * dbus_bus_register, closed with dbus_connection_close), never the shared
 * one the client may be using; and not dbus_bus_get_private, because with
 * no DBUS_SESSION_BUS_ADDRESS it may autolaunch a bus (spawning
 * dbus-launch from inside the client) and it makes the connection _exit()
 * the whole client when the bus goes away. Where libdbus is not loaded
 * yet, we also tell it to leave the process's SIGPIPE disposition alone
 * (it would otherwise ignore SIGPIPE for the client); our thread blocks
 * every signal anyway.
 *
 * Threads. shim_notify_on_event is an events listener: it runs with a
 * stream lock held, possibly on the packet path, so it only formats the
 * message into a small fixed queue (notify_mu, a leaf lock) and signals
 * the notifier thread; nothing there waits for the bus. The thread is the
 * shim's own, started on the first message (with every signal blocked,
 * shim_in_shim set so libdbus's socket calls go straight to libc), and
 * again in a forked child (the pid check, and shim_notify_atfork_child
 * from init.c's pthread_atfork handler). It waits for the reply (up to
 * NOTIFY_REPLY_MS) so a missing notification server is noticed.
 *
 * A call's media lines (audio and video) share one SAS: its secure
 * notification is sent for the first line only.
 *
 * Failure is quiet and never touches the call: no address, libdbus
 * missing, the bus refusing us or no notification server all end in at
 * most one INFO line for the whole process, and the message is dropped.
 * A full queue drops the newest message.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/events.h"
#include "shim/log.h"
#include "shim/notify.h"
#include "shim/real.h"
#include "shim/settings.h"
#include "zrtp/zrtp.h"

#define NOTIFY_QUEUE 16
#define NOTIFY_SEEN 8              /* calls whose secure Notify went out */
#define NOTIFY_REPLY_MS 2000
#define NOTIFY_ADDR_MAX 1024

/* --- libdbus, as far as we use it --------------------------------------------
 * The types and constants of <dbus/dbus.h> we need, declared here so the
 * shim needs no libdbus headers to build. DBusError and DBusMessageIter
 * are structures the caller allocates; their sizes are part of libdbus's
 * ABI (unchanged since 1.0). We reserve more than that. */
typedef uint32_t dbus_bool_t;
typedef struct DBusConnection DBusConnection;
typedef struct DBusMessage DBusMessage;
typedef struct {
	const char *name;
	const char *message;
	void *reserved[6];
} DBusError;
typedef union {
	void *p[32];
	uint64_t align;
} DBusMessageIter;

#define DBUS_TYPE_BYTE 'y'
#define DBUS_TYPE_INT32 'i'
#define DBUS_TYPE_UINT32 'u'
#define DBUS_TYPE_STRING 's'
#define DBUS_TYPE_ARRAY 'a'
#define DBUS_TYPE_VARIANT 'v'
#define DBUS_TYPE_DICT_ENTRY 'e'

static struct {
	void (*error_init)(DBusError *);
	void (*error_free)(DBusError *);
	DBusConnection *(*connection_open_private)(const char *, DBusError *);
	dbus_bool_t (*bus_register)(DBusConnection *, DBusError *);
	void (*connection_set_exit_on_disconnect)(DBusConnection *, dbus_bool_t);
	void (*connection_set_change_sigpipe)(dbus_bool_t);
	dbus_bool_t (*connection_get_is_connected)(DBusConnection *);
	void (*connection_close)(DBusConnection *);
	void (*connection_unref)(DBusConnection *);
	DBusMessage *(*message_new_method_call)(const char *, const char *,
						const char *, const char *);
	void (*message_unref)(DBusMessage *);
	void (*message_iter_init_append)(DBusMessage *, DBusMessageIter *);
	dbus_bool_t (*message_iter_append_basic)(DBusMessageIter *, int,
						 const void *);
	dbus_bool_t (*message_iter_open_container)(DBusMessageIter *, int,
						   const char *,
						   DBusMessageIter *);
	dbus_bool_t (*message_iter_close_container)(DBusMessageIter *,
						    DBusMessageIter *);
	DBusMessage *(*connection_send_with_reply_and_block)(
		DBusConnection *, DBusMessage *, int, DBusError *);
} dbus;

/* --- the queue (notify_mu) ------------------------------------------------------ */

struct notify_msg {
	char summary[160];
	char body[512];
	char icon[32];
	uint8_t urgency;           /* 0 low, 1 normal, 2 critical */
};

static pthread_mutex_t notify_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notify_cv = PTHREAD_COND_INITIALIZER;
static struct notify_msg queue[NOTIFY_QUEUE];
static unsigned q_head, q_n;
static bool running;
static pid_t running_pid;

/* A call's media lines share one ZRTP session and one SAS (the second
 * and later go secure in Multistream mode): the user hears of it once.
 * The last NOTIFY_SEEN calls told, by Call-ID and SAS (notify_mu). */
static struct {
	char call[128];
	char sas[32];
} seen[NOTIFY_SEEN];
static unsigned seen_next;

static char bus_addr[NOTIFY_ADDR_MAX];   /* "" = no session bus */
static bool addr_too_long;
static atomic_bool said;                 /* the one INFO line */

/* Notifier thread only. */
static bool lib_tried, lib_ok;
static DBusConnection *conn;

/* At most one line for the whole process, whatever goes wrong. */
__attribute__((format(printf, 1, 2)))
static void say_once(const char *fmt, ...);

static void say_once(const char *fmt, ...)
{
	if (atomic_exchange(&said, true))
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	shim_log(SHIM_LOG_INFO, "notify: %s: no desktop notifications", line);
}

/* --- the notifier thread -------------------------------------------------------- */

static bool lib_load(void)
{
	if (lib_tried)
		return lib_ok;
	lib_tried = true;
	bool was_loaded = dlopen("libdbus-1.so.3", RTLD_NOW | RTLD_NOLOAD) != NULL;
	void *h = dlopen("libdbus-1.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		say_once("cannot load libdbus-1.so.3");
		return false;
	}
	struct { void **fn; const char *name; } syms[] = {
#define SYM(f) { (void **)&dbus.f, "dbus_" #f }
		SYM(error_init), SYM(error_free), SYM(connection_open_private),
		SYM(bus_register), SYM(connection_set_exit_on_disconnect),
		SYM(connection_set_change_sigpipe),
		SYM(connection_get_is_connected), SYM(connection_close),
		SYM(connection_unref), SYM(message_new_method_call),
		SYM(message_unref), SYM(message_iter_init_append),
		SYM(message_iter_append_basic), SYM(message_iter_open_container),
		SYM(message_iter_close_container),
		SYM(connection_send_with_reply_and_block),
#undef SYM
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		*syms[i].fn = dlsym(h, syms[i].name);
		if (!*syms[i].fn) {
			say_once("libdbus-1.so.3 has no %s", syms[i].name);
			return false;   /* h stays open: another thread may use it */
		}
	}
	/* The client's own libdbus keeps its own settings; ours must not
	 * make a client that never used D-Bus ignore SIGPIPE. */
	if (!was_loaded)
		dbus.connection_set_change_sigpipe(0);
	lib_ok = true;
	return true;
}

static void conn_drop(void)
{
	if (!conn)
		return;
	dbus.connection_close(conn);
	dbus.connection_unref(conn);
	conn = NULL;
}

static bool conn_get(void)
{
	if (conn && dbus.connection_get_is_connected(conn))
		return true;
	conn_drop();
	DBusError err;
	dbus.error_init(&err);
	conn = dbus.connection_open_private(bus_addr, &err);
	if (conn) {
		dbus.connection_set_exit_on_disconnect(conn, 0);
		if (!dbus.bus_register(conn, &err))
			conn_drop();
	}
	if (!conn)
		say_once("cannot connect to the session bus (%s)",
			 err.message ? err.message : "no reason given");
	dbus.error_free(&err);
	return conn != NULL;
}

/* Append a{sv} with the one hint "urgency" (a byte), as the specification's
 * "Urgency Levels" describe it. */
static bool append_hints(DBusMessageIter *args, uint8_t urgency)
{
	DBusMessageIter dict, entry, var;
	const char *key = "urgency";
	return dbus.message_iter_open_container(args, DBUS_TYPE_ARRAY, "{sv}",
						&dict) &&
	       dbus.message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY,
						NULL, &entry) &&
	       dbus.message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) &&
	       dbus.message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "y",
						&var) &&
	       dbus.message_iter_append_basic(&var, DBUS_TYPE_BYTE, &urgency) &&
	       dbus.message_iter_close_container(&entry, &var) &&
	       dbus.message_iter_close_container(&dict, &entry) &&
	       dbus.message_iter_close_container(args, &dict);
}

static void notify_send(const struct notify_msg *m)
{
	if (!lib_load() || !conn_get())
		return;
	DBusMessage *msg = dbus.message_new_method_call(
		"org.freedesktop.Notifications", "/org/freedesktop/Notifications",
		"org.freedesktop.Notifications", "Notify");
	if (!msg)
		return;
	DBusMessageIter args, actions;
	const char *app = "zrtpshim", *icon = m->icon, *summary = m->summary,
		   *body = m->body;
	uint32_t replaces = 0;
	int32_t timeout = -1;   /* the server's default */
	dbus.message_iter_init_append(msg, &args);
	bool ok = dbus.message_iter_append_basic(&args, DBUS_TYPE_STRING, &app) &&
		  dbus.message_iter_append_basic(&args, DBUS_TYPE_UINT32, &replaces) &&
		  dbus.message_iter_append_basic(&args, DBUS_TYPE_STRING, &icon) &&
		  dbus.message_iter_append_basic(&args, DBUS_TYPE_STRING, &summary) &&
		  dbus.message_iter_append_basic(&args, DBUS_TYPE_STRING, &body) &&
		  dbus.message_iter_open_container(&args, DBUS_TYPE_ARRAY, "s",
						   &actions) &&
		  dbus.message_iter_close_container(&args, &actions) &&
		  append_hints(&args, m->urgency) &&
		  dbus.message_iter_append_basic(&args, DBUS_TYPE_INT32, &timeout);
	if (!ok) {
		dbus.message_unref(msg);
		return;
	}
	DBusError err;
	dbus.error_init(&err);
	DBusMessage *reply = dbus.connection_send_with_reply_and_block(
		conn, msg, NOTIFY_REPLY_MS, &err);
	dbus.message_unref(msg);
	if (reply) {
		dbus.message_unref(reply);
		shim_log(SHIM_LOG_DEBUG, "notify: sent \"%s\"", m->summary);
	} else {
		say_once("the session bus has no notification server (%s)",
			 err.message ? err.message : "no reply");
		if (!dbus.connection_get_is_connected(conn))
			conn_drop();
	}
	dbus.error_free(&err);
}

static void *notify_main(void *arg)
{
	(void)arg;
	shim_in_shim = 1;
	for (;;) {
		struct notify_msg m;
		pthread_mutex_lock(&notify_mu);
		while (q_n == 0)
			pthread_cond_wait(&notify_cv, &notify_mu);
		m = queue[q_head];
		q_head = (q_head + 1) % NOTIFY_QUEUE;
		q_n--;
		pthread_mutex_unlock(&notify_mu);
		notify_send(&m);
	}
	return NULL;
}

/* notify_mu held. */
static bool thread_start_locked(void)
{
	if (running && running_pid == getpid())
		return true;
	pthread_t t;
	pthread_attr_t attr;
	sigset_t all, old;
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&t, &attr, notify_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		say_once("cannot start the notifier thread (%s)", strerror(r));
		return false;
	}
	running = true;
	running_pid = getpid();
	return true;
}

/* --- the message ------------------------------------------------------------- */

/* Copy src into dst (cap bytes) as valid UTF-8 (libdbus refuses anything
 * else): a byte that does not start a well-formed sequence becomes '?',
 * and so does a control character. With markup, & < > are escaped, since
 * a server that supports body markup would read them as tags. */
static void text_add(char *dst, size_t cap, const char *src, bool markup)
{
	size_t o = strlen(dst);
	const unsigned char *s = (const unsigned char *)src;
	while (*s && o + 1 < cap) {
		unsigned char c = *s;
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 && c >= 0xc2 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 && c <= 0xf4 ? 4 : 0;
		for (size_t k = 1; k < n; k++)
			if ((s[k] & 0xc0) != 0x80)
				n = 0;
		if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) ||
			       (c == 0xed && s[1] >= 0xa0)))
			n = 0;   /* overlong, or a surrogate */
		if (n == 4 && ((c == 0xf0 && s[1] < 0x90) ||
			       (c == 0xf4 && s[1] >= 0x90)))
			n = 0;
		const char *esc = NULL;
		if (markup && c == '&')
			esc = "&amp;";
		else if (markup && c == '<')
			esc = "&lt;";
		else if (markup && c == '>')
			esc = "&gt;";
		if (esc) {
			size_t l = strlen(esc);
			if (o + l >= cap)
				break;
			memcpy(dst + o, esc, l);
			o += l;
			s++;
		} else if (n == 0 || (n == 1 && ((c < 0x20 && c != '\n') ||
						    c == 0x7f))) {
			dst[o++] = '?';
			s++;
		} else {
			if (o + n >= cap)
				break;
			memcpy(dst + o, s, n);
			o += n;
			s += n;
		}
	}
	dst[o] = '\0';
}

__attribute__((format(printf, 4, 5)))
static void text_printf(char *dst, size_t cap, bool markup, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	text_add(dst, cap, tmp, markup);
}

/* "Alice <sip:alice@example.com>" or, with no name known, the ZID. */
static void peer_add(char *dst, size_t cap, const struct shim_event_note *n)
{
	if (n->peer_name && n->peer_name[0]) {
		text_printf(dst, cap, true, "Peer: ");
		text_add(dst, cap, n->peer_name, true);
	} else if (n->peer_zid && n->peer_zid[0]) {
		text_printf(dst, cap, true, "Peer ZID %s (no name known)",
			    n->peer_zid);
	} else {
		text_printf(dst, cap, true, "Peer not identified");
	}
}

/* The message for an event, or false: not one the user is notified of. */
static bool message_for(const struct shim_event_note *n, struct notify_msg *m)
{
	const char *alarm = NULL;
	memset(m, 0, sizeof *m);
	switch (n->kind) {
	case SHIM_EVENT_ZRTP:
		if (!n->ev)
			return false;
		switch (n->ev->type) {
		case ZRTP_EV_SECURE:
			snprintf(m->icon, sizeof m->icon, "security-high");
			m->urgency = 1;
			text_printf(m->summary, sizeof m->summary, false,
				    "Secure call, code: %s", n->sas);
			peer_add(m->body, sizeof m->body, n);
			text_printf(m->body, sizeof m->body, true, "\n%s",
				    n->ev->verified ?
				    "Verified earlier: the code matched before." :
				    "Compare the code with your peer aloud.");
			return true;
		case ZRTP_EV_FAILED:
			alarm = "Call not secured";
			break;
		case ZRTP_EV_CACHE_MISMATCH:
			alarm = "Security code changed: compare it before you talk";
			break;
		case ZRTP_EV_HELLO_HASH_MISMATCH:
			alarm = "Possible attack: the peer's ZRTP does not match "
				"the call's signalling";
			break;
		default:
			return false;
		}
		break;
	case SHIM_EVENT_ALTERED:
		alarm = "Media altered in the path";
		break;
	case SHIM_EVENT_CLEAR:
		alarm = "Call not encrypted";
		break;
	case SHIM_EVENT_PIN_ALARM:
		alarm = "Pin alarm: a known peer without its ZRTP";
		break;
	case SHIM_EVENT_LIMIT:
		alarm = "Too many calls: a new call is not protected";
		break;
	case SHIM_EVENT_VERIFIED:
	case SHIM_EVENT_UNVERIFIED: {
		bool v = n->kind == SHIM_EVENT_VERIFIED;
		snprintf(m->icon, sizeof m->icon, "%s",
			 v ? "security-high" : "security-medium");
		m->urgency = 1;
		text_printf(m->summary, sizeof m->summary, false, "%s%s%s",
			    v ? "Peer verified" : "Verification withdrawn",
			    n->sas && n->sas[0] ? ", code: " : "",
			    n->sas ? n->sas : "");
		peer_add(m->body, sizeof m->body, n);
		return true;
	}
	default:
		return false;
	}
	snprintf(m->icon, sizeof m->icon, "dialog-warning");
	m->urgency = 2;
	text_printf(m->summary, sizeof m->summary, false, "ZRTP alarm: %s",
		    alarm);
	if (n->reason && n->reason[0]) {
		text_add(m->body, sizeof m->body, n->reason, true);
		text_add(m->body, sizeof m->body, "\n", true);
	}
	peer_add(m->body, sizeof m->body, n);
	return true;
}

/* --- notify.h ------------------------------------------------------------------- */

void shim_notify_init(void)
{
	const char *a = secure_getenv("DBUS_SESSION_BUS_ADDRESS");
	if (!a || !*a)
		return;
	if (strlen(a) >= sizeof bus_addr) {
		addr_too_long = true;
		return;
	}
	snprintf(bus_addr, sizeof bus_addr, "%s", a);
}

void shim_notify_on_event(const struct shim_event_note *n)
{
	if (!shim_config.notify || !n)
		return;
	int saved = errno;
	struct notify_msg m;
	if (!message_for(n, &m))
		goto out;
	if (!bus_addr[0]) {
		say_once(addr_too_long ? "DBUS_SESSION_BUS_ADDRESS is longer than "
			 "1023 bytes" : "no session bus (DBUS_SESSION_BUS_ADDRESS "
			 "is not set)");
		goto out;
	}
	/* "call-id/m-index": the call is what precedes the last '/'. */
	const char *slash = n->stream ? strrchr(n->stream, '/') : NULL;
	size_t cl = slash ? (size_t)(slash - n->stream) : 0;
	bool secure = n->kind == SHIM_EVENT_ZRTP &&
		      n->ev->type == ZRTP_EV_SECURE && cl > 0 &&
		      cl < sizeof seen[0].call && n->sas;
	pthread_mutex_lock(&notify_mu);
	if (secure) {
		for (unsigned i = 0; i < NOTIFY_SEEN; i++)
			if (strlen(seen[i].call) == cl &&
			    memcmp(seen[i].call, n->stream, cl) == 0 &&
			    strcmp(seen[i].sas, n->sas) == 0) {
				pthread_mutex_unlock(&notify_mu);
				goto out;   /* another line of a call told */
			}
		memcpy(seen[seen_next].call, n->stream, cl);
		seen[seen_next].call[cl] = '\0';
		snprintf(seen[seen_next].sas, sizeof seen[0].sas, "%s", n->sas);
		seen_next = (seen_next + 1) % NOTIFY_SEEN;
	}
	if (thread_start_locked() && q_n < NOTIFY_QUEUE) {
		queue[(q_head + q_n) % NOTIFY_QUEUE] = m;
		q_n++;
		pthread_cond_signal(&notify_cv);
	}
	pthread_mutex_unlock(&notify_mu);
out:
	errno = saved;
}

void shim_notify_atfork_child(void)
{
	pthread_mutex_init(&notify_mu, NULL);
	pthread_cond_init(&notify_cv, NULL);
	running = false;
	running_pid = 0;
	q_head = q_n = 0;
	memset(seen, 0, sizeof seen);
	seen_next = 0;
	/* The parent's connection shares its socket with the parent: never
	 * use or close it here (closing would write to the parent's stream);
	 * it is forgotten, and the child connects anew. */
	conn = NULL;
}
